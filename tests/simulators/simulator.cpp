#include "simulators/simulator.hpp"

#include <map>
#include <stdexcept>

namespace cdphub::sim {
namespace {

std::map<std::string, VendorFactory, std::less<>>& registry() {
    static std::map<std::string, VendorFactory, std::less<>> r;
    return r;
}

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

bool register_vendor(std::string name, VendorFactory factory) {
    registry()[std::move(name)] = std::move(factory);
    return true;
}

std::unique_ptr<Vendor> make_vendor(std::string_view name, const VendorOptions& options) {
    auto it = registry().find(name);
    return it == registry().end() ? nullptr : it->second(options);
}

std::vector<std::string> vendor_names() {
    std::vector<std::string> out;
    for (const auto& [n, f] : registry()) out.push_back(n);
    return out;
}

SimulatorServer::SimulatorServer(std::unique_ptr<Vendor> vendor, test::HttpTestServerOptions http)
    : vendor_(std::move(vendor)) {
    if (!vendor_) throw std::invalid_argument("SimulatorServer: no vendor");
    Vendor* v = vendor_.get();
    http_ = std::make_unique<test::HttpTestServer>(
        [v](const HttpRequest& r) {
            if (r.method == "GET" && r.path() == "/_sim/state")
                return HttpResponse::json(200, v->state().dump());
            if (r.method == "GET" && r.path() == "/_sim/faults")
                return HttpResponse::json(200, json(v->faults().injected()).dump());
            return v->handle(r);
        },
        http);
    vendor_->set_base_url(http_->base_url());
}

SimulatorServer::SimulatorServer(std::string_view vendor_name, const VendorOptions& options,
                                 test::HttpTestServerOptions http)
    : SimulatorServer(
          [&] {
              auto v = make_vendor(vendor_name, options);
              if (!v)
                  throw std::invalid_argument("no simulator for vendor " +
                                              std::string(vendor_name));
              return v;
          }(),
          http) {}

std::string url_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> form_pairs(std::string_view q) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!q.empty()) {
        auto amp = q.find('&');
        auto part = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
        if (part.empty()) continue;
        auto eq = part.find('=');
        if (eq == std::string_view::npos)
            out.emplace_back(url_decode(part), "");
        else
            out.emplace_back(url_decode(part.substr(0, eq)), url_decode(part.substr(eq + 1)));
    }
    return out;
}

std::string form_value(std::string_view query, std::string_view name) {
    for (auto& [k, v] : form_pairs(query))
        if (k == name) return v;
    return {};
}

std::string url_encode(std::string_view s) {
    static const char* digits = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += digits[c >> 4];
            out += digits[c & 15];
        }
    }
    return out;
}

}  // namespace cdphub::sim
