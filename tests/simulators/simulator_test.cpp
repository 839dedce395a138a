// The simulator framework itself: deterministic fault schedules, the registry and the
// simulator endpoints every vendor gets.
#include <gtest/gtest.h>

#include "http/client.hpp"
#include "simulators/simulator.hpp"

namespace cdphub::sim {
namespace {

std::vector<Fault> draw(FaultPlan plan, int n) {
    FaultSchedule s(std::move(plan));
    std::vector<Fault> out;
    for (int i = 0; i < n; ++i) out.push_back(s.next("op"));
    return out;
}

TEST(FaultSchedule, SameSeedSameFaultsOtherSeedOtherFaults) {
    FaultPlan p{.seed = 7, .rate = 0.3, .kinds = {Fault::throttle, Fault::server_error}};
    auto a = draw(p, 200), b = draw(p, 200);
    EXPECT_EQ(a, b);
    p.seed = 8;
    EXPECT_NE(a, draw(p, 200));
    auto faulted = std::count_if(a.begin(), a.end(), [](Fault f) { return f != Fault::none; });
    EXPECT_GT(faulted, 40);  // about 30% plus bursts
    EXPECT_LT(faulted, 140);
}

TEST(FaultSchedule, ServerErrorsComeInBurstsAndQuietStartIsQuiet) {
    FaultPlan p{
        .seed = 3, .rate = 1.0, .kinds = {Fault::server_error}, .burst = 3, .quiet_first = 2};
    auto f = draw(p, 8);
    EXPECT_EQ(f[0], Fault::none);
    EXPECT_EQ(f[1], Fault::none);
    for (int i = 2; i < 8; ++i) EXPECT_EQ(f[i], Fault::server_error) << i;
}

TEST(FaultSchedule, ScriptedFaultsAndAllowedKinds) {
    FaultSchedule s(
        FaultPlan{.seed = 1, .rate = 1.0, .kinds = {Fault::throttle, Fault::short_page}});
    s.script(2, Fault::expire_token);
    EXPECT_EQ(s.next("token", {Fault::throttle}), Fault::throttle);
    EXPECT_EQ(s.next("query"), Fault::expire_token);
    EXPECT_EQ(s.injected().at("expire_token"), 1u);
    EXPECT_EQ(parse_fault("short_page"), Fault::short_page);
    EXPECT_EQ(parse_fault("nonsense"), Fault::none);
}

TEST(FormEncoding, DecodesAndEncodes) {
    EXPECT_EQ(form_value("a=1&type=un%2Bsub+scribe&x", "type"), "un+sub scribe");
    EXPECT_EQ(form_value("data%5Bemail%5D=a%40b.c", "data[email]"), "a@b.c");
    EXPECT_EQ(url_encode("a b@c/d"), "a%20b%40c%2Fd");
    EXPECT_EQ(url_decode("100%"), "100%");
}

class EchoVendor : public Vendor {
  public:
    using Vendor::Vendor;
    HttpResponse handle(const HttpRequest& r) override {
        if (faults().next("echo") == Fault::throttle) return HttpResponse::json(429, "{}");
        ++served_;
        return HttpResponse::json(200, json{{"path", std::string(r.path())}}.dump());
    }
    json state() const override { return {{"served", served_.load()}}; }

  private:
    std::atomic<int> served_{0};
};
CDPHUB_SIM_VENDOR("echo-test", EchoVendor);

TEST(SimulatorServer, ServesTheVendorAndTheSimulatorEndpoints) {
    VendorOptions o;
    o.faults = FaultPlan{.seed = 1, .rate = 0.0, .kinds = {}};
    SimulatorServer server("echo-test", o);
    EXPECT_EQ(server.vendor().base_url(), server.base_url());
    http::Client client;
    http::Request get;
    get.url = server.base_url() + "/hello";
    auto r = client.perform(get);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(json::parse(r.response().body)["path"], "/hello");
    get.url = server.base_url() + "/_sim/state";
    auto s = client.perform(get);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(json::parse(s.response().body)["served"], 1);
    EXPECT_THROW(SimulatorServer("no-such-vendor", o), std::invalid_argument);
}

}  // namespace
}  // namespace cdphub::sim
