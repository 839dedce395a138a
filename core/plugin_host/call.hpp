// The hub-side definitions of the opaque handles in plugin.h. Plugins only ever hold pointers to
// these; everything a plugin call needs (and produces) lives here for the duration of the call.
#pragma once

#include <cdphub/plugin.h>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/status.hpp"
#include "http/client.hpp"
#include "plugin_host/cancellation.hpp"
#include "plugin_host/record_sink.hpp"

namespace cdphub::plugin_host {

struct RecordOutcome {
    bool reported = false;
    CallStatus status;
};

struct WebhookResponse {
    bool set = false;
    int status = 200;
    std::string content_type;
    std::string body;
};

// The C function table handed to every plugin.
const cdphub_host_api* host_api();

}  // namespace cdphub::plugin_host

// One connector instance, as host services see it.
struct cdphub_context {
    std::string instance_id;
    std::shared_ptr<spdlog::logger> log;
    std::unique_ptr<cdphub::http::Client> http;
    std::function<int64_t()> now_ms;
    std::map<std::string, std::string, std::less<>> secrets;  // resolved values by name
};

// One call into the plugin.
struct cdphub_call {
    cdphub_context* ctx = nullptr;
    cdphub::plugin_host::Cancellation* cancellation = nullptr;
    bool status_set = false;  // the plugin or the host gave details
    bool host_fault = false;  // the host found a fault in how the plugin used a service
    cdphub::CallStatus status;
    // read / receive
    cdphub::plugin_host::RecordSink* sink = nullptr;
    std::string cursor;
    bool cursor_loaded = false;
    uint64_t records_emitted = 0;
    // write
    std::vector<cdphub::plugin_host::RecordOutcome>* outcomes = nullptr;
    // receive
    cdphub::plugin_host::WebhookResponse response;
    // Strings handed to the plugin that must outlive the host function that returned them.
    std::deque<std::string> borrowed;
};

// An HTTP answer handed to a plugin until it calls http_response_free.
struct cdphub_http_response {
    cdphub::http::Response response;
};
