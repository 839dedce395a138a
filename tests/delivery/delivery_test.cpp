// Delivery workers: real store, real plugin file (plugins/test_destination.cpp), loopback
// endpoints that misbehave on purpose.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "delivery/delivery_world.hpp"
#include "support/http_test_server.hpp"

namespace cdphub::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kPlugin = "delivery-test-destination";

// An endpoint that records every batch of operations and answers through `answer`.
class Endpoint {
  public:
    using Answer = std::function<HttpResponse(int request, const json& ops)>;
    explicit Endpoint(Answer answer = {}) : answer_(std::move(answer)) {
        server_ = std::make_unique<HttpTestServer>([this](const HttpRequest& r) {
            auto ops = json::parse(r.body).at("ops");
            int n = 0;
            {
                std::lock_guard lock(mu_);
                n = ++requests_;
            }
            auto resp = answer_ ? answer_(n, ops) : HttpResponse::json(200, "{}");
            std::lock_guard lock(mu_);
            if (resp.status >= 200 && resp.status < 300) {
                std::set<std::int64_t> failed;
                auto body = json::parse(resp.body, nullptr, false);
                if (body.is_object() && body.contains("results"))
                    for (const auto& x : body["results"]) failed.insert(x["index"].get<int>());
                for (std::size_t i = 0; i < ops.size(); ++i)
                    if (!failed.count(static_cast<std::int64_t>(i))) accepted_.push_back(ops[i]);
            }
            batches_.push_back(ops);
            last_at_ = std::chrono::steady_clock::now();
            return resp;
        });
    }
    std::string url() const { return server_->url("/ops"); }
    std::vector<json> accepted() const {
        std::lock_guard lock(mu_);
        return accepted_;
    }
    std::vector<json> batches() const {
        std::lock_guard lock(mu_);
        return batches_;
    }
    int requests() const {
        std::lock_guard lock(mu_);
        return requests_;
    }
    std::chrono::steady_clock::time_point last_at() const {
        std::lock_guard lock(mu_);
        return last_at_;
    }

  private:
    Answer answer_;
    mutable std::mutex mu_;
    int requests_ = 0;
    std::vector<json> accepted_, batches_;
    std::chrono::steady_clock::time_point last_at_;
    std::unique_ptr<HttpTestServer> server_;  // last: stops before the state it uses goes
};

HttpResponse refuse(const json& ops, const std::function<int(const json&)>& status_of) {
    json results = json::array();
    for (std::size_t i = 0; i < ops.size(); ++i)
        if (int s = status_of(ops[i]); s != 200)
            results.push_back(
                {{"index", i},
                 {"status", s},
                 {"message", "vendor says no to " + ops[i]["fields"]["email"].get<std::string>()}});
    return HttpResponse::json(200, json{{"results", results}}.dump());
}

class DeliveryTest : public ::testing::Test {
  protected:
    std::vector<store::ProfileId> vip(int n, const std::string& binding, const std::string& dest,
                                      std::optional<std::string> purpose = std::nullopt) {
        auto ids = w_.people(0, n, [](int i) {
            return json{{"tier", "gold"}, {"first_name", "F" + std::to_string(i)}};
        });
        w_.segment("vip");
        w_.members("vip", ids);
        bind(binding, dest, purpose);
        return ids;
    }
    void bind(const std::string& binding, const std::string& dest,
              std::optional<std::string> purpose = std::nullopt) {
        w_.store().define_binding(
            {binding,
             "vip",
             dest,
             {{"email", "identifiers.email"}, {"first_name", "traits.first_name"}},
             std::move(purpose)});
        w_.store().plan_diff(binding);
    }
    std::unique_ptr<plugin_host::Connector> dest(const std::string& instance, const Endpoint& e,
                                                 json extra = json::object()) {
        json config = {{"url", e.url()}};
        config.update(extra);
        return DeliveryWorld::connector(DELIVERY_PLUGIN_DIR, kPlugin, instance, config);
    }
    delivery::DeliveryOptions fast() {
        delivery::DeliveryOptions o;
        o.backoff_base = 20ms;
        o.backoff_max = 200ms;
        o.max_attempts = 6;
        o.seed = 7;
        return o;
    }
    std::map<std::string, delivery::WorkerReport> run(
        std::vector<std::unique_ptr<plugin_host::Connector>> connectors,
        delivery::DeliveryOptions o, std::chrono::milliseconds max_wait = 5s) {
        delivery::DeliveryService service(w_.delivery(), o);
        for (auto& c : connectors) service.add(std::move(c));
        return service.run_until_idle(max_wait);
    }
    std::int64_t with_status(const std::string& status) {
        return w_.count("SELECT count(*) FROM activation_changes WHERE status = '" + status + "'");
    }

    DeliveryWorld w_;
};

std::multiset<std::string> emails(const std::vector<json>& ops) {
    std::multiset<std::string> out;
    for (const auto& op : ops) out.insert(op["fields"]["email"].get<std::string>());
    return out;
}

std::multiset<std::string> expected_emails(int from, int to) {
    std::multiset<std::string> out;
    for (int i = from; i < to; ++i) out.insert(DeliveryWorld::email(i));
    return out;
}

TEST_F(DeliveryTest, BatchesToThePluginsLimitsInTheDocumentedOperationFormat) {
    vip(250, "vip_to_a", "dest-a");
    Endpoint a;
    std::vector<std::unique_ptr<plugin_host::Connector>> cs;
    cs.push_back(dest("dest-a", a));
    auto reports = run(std::move(cs), fast());
    ASSERT_EQ(reports["dest-a"].delivered, 250) << reports["dest-a"].last_error;
    EXPECT_EQ(reports["dest-a"].pending, 0);
    EXPECT_EQ(emails(a.accepted()), expected_emails(0, 250));    // each exactly once
    for (const auto& b : a.batches()) EXPECT_LE(b.size(), 40u);  // capabilities.batch
    EXPECT_GE(a.batches().size(), 7u);
    const auto op = a.accepted().front();
    EXPECT_EQ(op["op"], "upsert");
    EXPECT_EQ(op["change"], "enter");
    EXPECT_EQ(op["binding"], "vip_to_a");
    EXPECT_EQ(op["segment"], "vip");
    EXPECT_EQ(op["attempt"], 1);
    EXPECT_TRUE(op["change_id"].is_number_integer());
    EXPECT_TRUE(op["profile_id"].is_number_integer());
    EXPECT_EQ(op["fields"], json({{"email", "p0@acme.io"}, {"first_name", "F0"}}));
    EXPECT_EQ(with_status("delivered"), 250);
    auto st = w_.delivery().destination_status("dest-a");
    EXPECT_EQ(st.sent, 250);
    EXPECT_EQ(st.state, delivery::DestinationState::running);
}

TEST_F(DeliveryTest, OutagesOpenTheBreakerAndResumeDataErrorsAreRejected) {
    vip(100, "vip_to_a", "dest-a");
    std::string state_when_resumed;
    Endpoint a([&](int n, const json& ops) {
        if (n <= 4) return HttpResponse::text(503, "maintenance");
        if (n == 5) {
            // The first request after the outage: the breaker was open (paused) in the store.
            state_when_resumed = w_.plain()
                                     .execAndGet(
                                         "SELECT state || '/' || failures FROM "
                                         "delivery_destinations")
                                     .getString();
        }
        return refuse(ops, [](const json& op) {
            auto e = op["fields"]["email"].get<std::string>();
            return e == "p7@acme.io" || e == "p42@acme.io" ? 422 : 200;
        });
    });
    std::vector<std::unique_ptr<plugin_host::Connector>> cs;
    cs.push_back(dest("dest-a", a));
    auto r = run(std::move(cs), fast())["dest-a"];
    EXPECT_EQ(state_when_resumed, "paused/4");
    EXPECT_EQ(r.delivered, 98);
    EXPECT_EQ(r.rejected, 2);
    EXPECT_EQ(with_status("rejected"), 2);
    EXPECT_EQ(with_status("pending"), 0);
    EXPECT_EQ(with_status("dead"), 0);
    EXPECT_EQ(w_.count("SELECT count(*) FROM activation_changes WHERE status = 'rejected' AND "
                       "last_error LIKE '%vendor says no to p7@acme.io%'"),
              1);
    auto expected = expected_emails(0, 100);
    expected.erase("p7@acme.io");
    expected.erase("p42@acme.io");
    EXPECT_EQ(emails(a.accepted()), expected);
    auto st = w_.delivery().destination_status("dest-a");
    EXPECT_EQ(st.state, delivery::DestinationState::running);  // closed again
    EXPECT_EQ(st.failures, 0);
    EXPECT_EQ(st.failed, 2);
}

TEST_F(DeliveryTest, AProfilesLaterChangeNeverOvertakesAnEarlierPendingOne) {
    auto ids = vip(20, "vip_to_a", "dest-a");
    // p3 changes, then leaves: enter, update and exit all wait in the outbox together.
    w_.people(3, 4, [](int) { return json{{"tier", "gold"}, {"first_name", "Renamed"}}; });
    // Traits take the most recent observation; make the new one later.
    w_.store().plan_diff("vip_to_a");
    w_.members("vip", {ids[3]}, false);
    w_.store().plan_diff("vip_to_a");
    int p3_failures = 0;
    Endpoint a([&](int, const json& ops) {
        return refuse(ops, [&](const json& op) {
            if (op["fields"]["email"] == "p3@acme.io" && op["change"] == "enter" &&
                p3_failures < 2) {
                ++p3_failures;
                return 503;
            }
            return 200;
        });
    });
    std::vector<std::unique_ptr<plugin_host::Connector>> cs;
    cs.push_back(dest("dest-a", a));
    auto r = run(std::move(cs), fast())["dest-a"];
    EXPECT_EQ(r.pending, 0);
    std::vector<std::string> p3;
    for (const auto& b : a.batches()) {
        std::set<std::int64_t> profiles;
        for (const auto& op : b) {
            EXPECT_TRUE(profiles.insert(op["profile_id"].get<std::int64_t>()).second)
                << "two changes of one profile in one batch";
            if (op["profile_id"] == ids[3]) p3.push_back(op["change"].get<std::string>());
        }
    }
    const auto changes = w_.count("SELECT count(*) FROM activation_changes WHERE profile_id = " +
                                  std::to_string(ids[3]));
    ASSERT_GE(changes, 2);  // enter and exit at least (the rename may or may not be an update)
    ASSERT_GE(p3.size(), 3u);
    EXPECT_EQ(p3[0], "enter");
    EXPECT_EQ(p3[1], "enter");
    EXPECT_EQ(p3[2], "enter");
    EXPECT_EQ(p3.back(), "exit");
    EXPECT_EQ(a.accepted().back()["op"], "remove");
}

TEST_F(DeliveryTest, RetryBudgetEndsInDeadLettersThatReplay) {
    vip(10, "vip_to_a", "dest-a");
    std::atomic<bool> broken{true};
    Endpoint a([&](int, const json& ops) {
        return refuse(ops, [&](const json& op) {
            return broken && op["fields"]["email"] == "p5@acme.io" ? 500 : 200;
        });
    });
    auto o = fast();
    o.max_attempts = 3;
    {
        std::vector<std::unique_ptr<plugin_host::Connector>> cs;
        cs.push_back(dest("dest-a", a));
        auto r = run(std::move(cs), o)["dest-a"];
        EXPECT_EQ(r.delivered, 9);
    }
    EXPECT_EQ(with_status("dead"), 1);
    EXPECT_EQ(w_.count("SELECT attempts FROM activation_changes WHERE status = 'dead'"), 3);
    auto f = w_.delivery().failures("vip_to_a", 10);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].status, "dead");
    EXPECT_NE(f[0].error.find("vendor says no to p5@acme.io"), std::string::npos) << f[0].error;

    broken = false;
    auto replay = w_.delivery().replay_dead("vip_to_a");
    EXPECT_EQ(replay.requeued, 1);
    EXPECT_EQ(replay.superseded, 0);
    std::vector<std::unique_ptr<plugin_host::Connector>> cs;
    cs.push_back(dest("dest-a", a));
    EXPECT_EQ(run(std::move(cs), o)["dest-a"].delivered, 1);
    EXPECT_EQ(with_status("delivered"), 10);
    EXPECT_EQ(emails(a.accepted()), expected_emails(0, 10));
}

TEST_F(DeliveryTest, AStalledDestinationDoesNotDelayTheOthers) {
    vip(400, "vip_to_fast", "fast");
    bind("vip_to_slow", "slow");
    Endpoint fast_end;
    Endpoint slow_end([](int, const json&) {
        auto r = HttpResponse::json(200, "{}");
        r.delay = 400ms;  // every batch: 10 batches take 4 s
        return r;
    });
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::unique_ptr<plugin_host::Connector>> cs;
    cs.push_back(dest("fast", fast_end));
    cs.push_back(dest("slow", slow_end));
    auto reports = run(std::move(cs), fast(), 20s);
    const auto fast_done = fast_end.last_at() - start;
    const auto slow_done = slow_end.last_at() - start;
    EXPECT_EQ(reports["fast"].delivered, 400);
    EXPECT_EQ(reports["slow"].delivered, 400);
    // The fast destination's ten batches were all in before the slow one's third answer.
    EXPECT_LT(fast_done, 1200ms);
    EXPECT_GT(slow_done, 3500ms);
}

TEST_F(DeliveryTest, RefusedCredentialsStopTheDestinationWithoutARetryLoop) {
    vip(30, "vip_to_a", "dest-a");
    Endpoint a([](int, const json&) {
        return HttpResponse::json(401, R"({"message":"Not Authorized"})");
    });
    std::vector<std::unique_ptr<plugin_host::Connector>> cs;
    cs.push_back(dest("dest-a", a));
    auto r = run(std::move(cs), fast())["dest-a"];
    EXPECT_EQ(a.requests(), 1);
    EXPECT_EQ(r.state, delivery::DestinationState::auth_failed);
    EXPECT_NE(r.last_error.find("refused the token"), std::string::npos) << r.last_error;
    EXPECT_EQ(with_status("pending"), 30);
    EXPECT_EQ(w_.count("SELECT max(attempts) FROM activation_changes"), 0);
    auto st = w_.delivery().destination_status("dest-a");
    EXPECT_EQ(st.state, delivery::DestinationState::auth_failed);
}

TEST_F(DeliveryTest, ThrottlingWaitsRetryAfterWithoutSpendingAttempts) {
    vip(30, "vip_to_a", "dest-a");
    Endpoint a([](int n, const json&) {
        if (n == 1) {
            auto r = HttpResponse::json(429, R"({"message":"Rate limit exceeded"})");
            r.headers.emplace_back("Retry-After", "1");
            return r;
        }
        return HttpResponse::json(200, "{}");
    });
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::unique_ptr<plugin_host::Connector>> cs;
    cs.push_back(dest("dest-a", a));
    auto r = run(std::move(cs), fast())["dest-a"];
    EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
    EXPECT_EQ(r.delivered, 30);
    EXPECT_EQ(w_.count("SELECT max(attempts) FROM activation_changes"), 1);
}

TEST_F(DeliveryTest, OnlyConsentedProfilesAreSentAndWithdrawalRemoves) {
    auto ids = w_.people(0, 10, [](int) { return json{{"tier", "gold"}}; });
    for (int i = 0; i < 5; ++i) w_.consent(i, "email_marketing", true);
    w_.consent(7, "email_marketing", false);
    w_.segment("vip");
    w_.members("vip", ids);
    bind("vip_to_a", "dest-a", "email_marketing");
    Endpoint a;
    {
        std::vector<std::unique_ptr<plugin_host::Connector>> cs;
        cs.push_back(dest("dest-a", a));
        run(std::move(cs), fast());
    }
    EXPECT_EQ(emails(a.accepted()), expected_emails(0, 5));
    w_.consent(2, "email_marketing", false, "2024-06-01T10:00:00Z");
    w_.store().plan_diff("vip_to_a");
    std::vector<std::unique_ptr<plugin_host::Connector>> cs;
    cs.push_back(dest("dest-a", a));
    run(std::move(cs), fast());
    ASSERT_EQ(a.accepted().size(), 6u);
    EXPECT_EQ(a.accepted().back()["op"], "remove");
    EXPECT_EQ(a.accepted().back()["fields"]["email"], "p2@acme.io");
}

TEST_F(DeliveryTest, AWorkerKilledMidDeliveryResumesWithoutLosingAChange) {
    vip(1200, "vip_to_a", "dest-a");
    Endpoint a([](int, const json&) {
        auto r = HttpResponse::json(200, "{}");
        r.delay = 5ms;
        return r;
    });
    (void)dest("dest-a", a);  // loads the plugin catalog before forking
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        int code = 0;
        try {
            // The child's own connection: nothing of the parent's store crosses the fork.
            auto store = store::open_sqlite_store(w_.db_path());
            delivery::SqliteDeliveryStore ds(*store);
            delivery::DeliveryService service(ds, fast());
            service.add(dest("dest-a", a));
            service.run_until_idle(30s);
        } catch (...) {
            code = 2;
        }
        ::_exit(code);
    }
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (a.accepted().size() < 400 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child finished before it could be killed";
    const auto before = a.accepted().size();
    ASSERT_LT(before, 1200u);

    std::vector<std::unique_ptr<plugin_host::Connector>> cs;
    cs.push_back(dest("dest-a", a));
    auto r = run(std::move(cs), fast(), 30s)["dest-a"];
    EXPECT_EQ(r.pending, 0);
    EXPECT_EQ(with_status("delivered"), 1200);
    // Everyone arrived; only the batch in flight when the worker died can arrive twice.
    std::set<std::string> distinct;
    for (const auto& op : a.accepted()) distinct.insert(op["fields"]["email"].get<std::string>());
    EXPECT_EQ(distinct.size(), 1200u);
    EXPECT_LE(a.accepted().size(), 1200u + 40u);
}

}  // namespace
}  // namespace cdphub::test
