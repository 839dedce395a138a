/*
 * cdphub plugin ABI: the only contract between the hub and a connector plugin.
 *
 * Plain C99 so that a plugin can be written in C, or built with any C++ compiler and standard
 * library, and still load into any hub of the same ABI major version. Nothing here owns memory
 * across the boundary: every pointer handed to the other side is borrowed for the duration of the
 * call that handed it over, unless a comment says otherwise.
 *
 * Stability promise (see docs/sdk.md):
 *   - CDPHUB_ABI_MAJOR changes only for a breaking change; the hub refuses to load a plugin of
 *     another major version with a message that says which versions it accepts.
 *   - Within a major version, structs only grow at their end. Every struct begins with
 *     `struct_size`, so each side can tell which fields the other side knows. Use
 *     CDPHUB_HAS_FIELD before touching a field added after 1.0.
 *   - Enumerations only gain values. Treat an unknown value like its nearest general meaning
 *     (an unknown status is fatal; an unknown category is "other").
 */
#ifndef CDPHUB_PLUGIN_H
#define CDPHUB_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CDPHUB_ABI_MAJOR 1
#define CDPHUB_ABI_MINOR 0

/* The one symbol a plugin exports. */
#define CDPHUB_ENTRY_SYMBOL "cdphub_plugin_entry"

#if defined(_WIN32)
#define CDPHUB_EXPORT __declspec(dllexport)
#else
#define CDPHUB_EXPORT __attribute__((visibility("default")))
#endif

/* True when a struct whose first member is `struct_size` is large enough to hold `field`. */
#ifdef __cplusplus
#define CDPHUB_HAS_FIELD(ptr, type, field) \
    ((ptr) != nullptr &&                   \
     (ptr)->struct_size >= offsetof(type, field) + sizeof(static_cast<type*>(nullptr)->field))
#else
#define CDPHUB_HAS_FIELD(ptr, type, field) \
    ((ptr) != NULL && (ptr)->struct_size >= offsetof(type, field) + sizeof(((type*)0)->field))
#endif

/* ---------------------------------------------------------------------------------------------
 * Status codes. Every plugin function returns one; the hub acts on it.
 * ------------------------------------------------------------------------------------------- */
typedef int32_t cdphub_status;
enum {
    CDPHUB_OK = 0,
    /* A transient failure (timeout, 5xx, connection reset): the hub retries later, honouring the
     * retry-after given with cdphub_host_api.set_status, if any. */
    CDPHUB_RETRYABLE = 1,
    /* The vendor throttled us: the hub backs off for retry-after (or its own backoff) and retries.
     */
    CDPHUB_RATE_LIMITED = 2,
    /* Credentials were refused: the hub stops the connector and tells the admin; no retry loop. */
    CDPHUB_AUTH_ERROR = 3,
    /* The configuration cannot work (unknown object, missing permission, bad URL): stop, no retry.
     */
    CDPHUB_CONFIG_ERROR = 4,
    /* One record is unusable (per record only): it goes to the rejected store with the reason. */
    CDPHUB_INVALID_RECORD = 5,
    /* Anything else: the run fails and the hub reports it. */
    CDPHUB_FATAL = 6,
    /* The hub asked the plugin to stop (cdphub_host_api.cancelled returned non-zero). */
    CDPHUB_CANCELLED = 7,
    /* The plugin does not implement the requested operation. */
    CDPHUB_UNSUPPORTED = 8
};

/* What a plugin can be. A plugin may be both (kind = SOURCE | DESTINATION). */
enum { CDPHUB_KIND_SOURCE = 1u, CDPHUB_KIND_DESTINATION = 2u };

/* Which kind of system a plugin talks to. */
enum {
    CDPHUB_CATEGORY_OTHER = 0,
    CDPHUB_CATEGORY_CRM = 1,
    CDPHUB_CATEGORY_ESP = 2,
    CDPHUB_CATEGORY_DMP = 3,
    CDPHUB_CATEGORY_POS = 4,
    CDPHUB_CATEGORY_SFMC = 5
};

/* Log levels for cdphub_host_api.log. */
enum {
    CDPHUB_LOG_TRACE = 0,
    CDPHUB_LOG_DEBUG = 1,
    CDPHUB_LOG_INFO = 2,
    CDPHUB_LOG_WARN = 3,
    CDPHUB_LOG_ERROR = 4
};

/* ---------------------------------------------------------------------------------------------
 * Opaque handles.
 * ------------------------------------------------------------------------------------------- */
/* The hub's side of one connector instance: pass it back to every host service. */
typedef struct cdphub_context cdphub_context;
/* The hub's side of one call into the plugin (check, read, write, receive): carries its results. */
typedef struct cdphub_call cdphub_call;
/* The plugin's side of one connector instance; the hub never looks inside. */
typedef struct cdphub_instance cdphub_instance;
/* An HTTP response owned by the hub; release it with cdphub_host_api.http_response_free. */
typedef struct cdphub_http_response cdphub_http_response;

/* A borrowed, length-delimited UTF-8 string (not necessarily NUL-terminated). */
typedef struct cdphub_string {
    const char* data;
    size_t size;
} cdphub_string;

/* One HTTP header line as a name/value pair. */
typedef struct cdphub_http_header {
    cdphub_string name;
    cdphub_string value;
} cdphub_http_header;

/* Flags for cdphub_http_request.flags. */
enum {
    /* The request may be repeated safely: the hub retries it on connection errors, 429 and 503,
     * honouring Retry-After, up to cdphub_http_request.max_attempts. Leave it unset for non-
     * idempotent POSTs; the plugin then sees every 429/5xx itself. */
    CDPHUB_HTTP_RETRY_SAFE = 1u,
    /* Do not count this request against the connector's rate limit (e.g. token endpoints on
     * another host). */
    CDPHUB_HTTP_NO_RATE_LIMIT = 2u
};

/* An outgoing HTTP request, performed by the hub's HTTP client (connection pooling, TLS, proxies,
 * timeouts, per-connector rate limits and metrics live there, not in the plugin). */
typedef struct cdphub_http_request {
    uint32_t struct_size;
    uint32_t flags;
    cdphub_string method; /* "GET", "POST", ... */
    cdphub_string url;    /* absolute http(s) URL */
    const cdphub_http_header* headers;
    size_t header_count;
    cdphub_string body;
    uint32_t timeout_ms;   /* 0: the hub's default */
    uint32_t max_attempts; /* with CDPHUB_HTTP_RETRY_SAFE; 0: the hub's default */
} cdphub_http_request;

/* An incoming HTTP request delivered to a plugin's webhook endpoint. */
typedef struct cdphub_webhook_request {
    uint32_t struct_size;
    cdphub_string method;
    cdphub_string path;  /* the part after the instance's webhook prefix */
    cdphub_string query; /* raw query string without '?' */
    const cdphub_http_header* headers;
    size_t header_count;
    cdphub_string body;
    cdphub_string remote_address;
} cdphub_webhook_request;

/* ---------------------------------------------------------------------------------------------
 * Host services: a table of functions the hub hands to each plugin instance at creation. It stays
 * valid until the instance is destroyed. Fields after the 1.0 set must be checked with
 * CDPHUB_HAS_FIELD(host, cdphub_host_api, field) before use.
 * ------------------------------------------------------------------------------------------- */
typedef struct cdphub_host_api {
    uint32_t struct_size;
    uint32_t abi_major;
    uint32_t abi_minor;

    /* Logging. The hub tags the line with the instance id and redacts every secret it knows. */
    void (*log)(cdphub_context* ctx, int32_t level, cdphub_string message);

    /* Result details for the current call: the retry-after hint (milliseconds, -1 for none) and a
     * human-readable message that says what went wrong and what to do. The function's return
     * value remains the status; this only adds detail. */
    void (*set_status)(cdphub_call* call, cdphub_status status, int64_t retry_after_ms,
                       cdphub_string message);

    /* Sources: hand a batch of canonical records (a UTF-8 JSON array) to the hub, together with the
     * cursor that is valid once these records are stored (UTF-8 JSON, or empty to keep the cursor).
     * The hub stores the records and the cursor in one transaction: on CDPHUB_OK both are durable.
     * Any other status means stop reading and return it. A batch may be empty (cursor only). */
    cdphub_status (*emit)(cdphub_call* call, cdphub_string records_json, cdphub_string cursor_json);

    /* Sources: the last committed cursor for this instance (empty if none). Borrowed until the
     * current call returns. */
    cdphub_string (*cursor)(cdphub_call* call);

    /* Destinations: the outcome of record `index` (0-based, in the batch given to write).
     * Records the plugin does not report take the status the write function returns. */
    void (*report_record)(cdphub_call* call, size_t index, cdphub_status status,
                          int64_t retry_after_ms, cdphub_string message);

    /* Webhooks: the HTTP response to send to the vendor. Without it the hub answers 200 when
     * receive returns CDPHUB_OK and an error status otherwise. */
    void (*respond)(cdphub_call* call, int32_t http_status, cdphub_string content_type,
                    cdphub_string body);

    /* Secrets: resolve a secret reference name declared in the instance's manifest. On CDPHUB_OK,
     * *value is borrowed until the current call returns. The value is never logged. */
    cdphub_status (*secret)(cdphub_call* call, cdphub_string name, cdphub_string* value);

    /* HTTP through the hub's client. On CDPHUB_OK *response holds the answer (any HTTP status);
     * otherwise the request did not complete (CDPHUB_RETRYABLE: network error or timeout after
     * the allowed attempts; CDPHUB_CANCELLED; CDPHUB_CONFIG_ERROR: bad URL) and details went to the
     * call's status. The response belongs to the hub: free it with http_response_free. */
    cdphub_status (*http)(cdphub_call* call, const cdphub_http_request* request,
                          cdphub_http_response** response);
    int32_t (*http_status)(const cdphub_http_response* response);
    cdphub_string (*http_body)(const cdphub_http_response* response);
    /* Case-insensitive header lookup; empty if absent. */
    cdphub_string (*http_header)(const cdphub_http_response* response, cdphub_string name);
    /* Retry-After of a 429/503 answer in milliseconds, or -1. */
    int64_t (*http_retry_after_ms)(const cdphub_http_response* response);
    void (*http_response_free)(cdphub_http_response* response);

    /* Clock: milliseconds since the Unix epoch as the hub sees it (tests can move it). */
    int64_t (*now_ms)(cdphub_context* ctx);

    /* Cancellation: non-zero once the hub wants the current call to stop (shutdown, timeout).
     * Long loops should check it between pages and return CDPHUB_CANCELLED. */
    int32_t (*cancelled)(cdphub_call* call);

    /* Sleep up to `ms` milliseconds; returns early with non-zero if the call is cancelled. */
    int32_t (*sleep_ms)(cdphub_call* call, int64_t ms);
} cdphub_host_api;

/* ---------------------------------------------------------------------------------------------
 * The plugin descriptor: static data the plugin returns from its entry symbol. It must stay
 * valid while the library is loaded. Fields after the 1.0 set are read only if struct_size
 * says they exist.
 * ------------------------------------------------------------------------------------------- */
typedef struct cdphub_plugin_descriptor {
    uint32_t struct_size; /* sizeof(cdphub_plugin_descriptor) as the plugin compiled it */
    uint32_t abi_major;   /* CDPHUB_ABI_MAJOR as the plugin compiled it */
    uint32_t abi_minor;   /* CDPHUB_ABI_MINOR as the plugin compiled it */
    uint32_t kind;        /* CDPHUB_KIND_* bits */
    uint32_t category;    /* CDPHUB_CATEGORY_* */
    const char* id;       /* stable plugin id: [a-z0-9][a-z0-9._-]{0,63} */
    const char* version;  /* the plugin's own version, semantic versioning */
    const char* name;     /* display name */
    /* JSON Schema (draft 7) of the instance config. Mark secret fields "writeOnly": true: the hub
     * then requires them to come from a secret reference and redacts them everywhere. */
    const char* config_spec;
    /* JSON object describing what the plugin can do, e.g.
     * {"incremental": true, "record_types": ["identify","order"],
     *  "identifier_types": ["email","user_id"], "batch": {"max_records": 500, "max_bytes":
     * 4194304}, "rate_limit": {"requests": 100, "per_seconds": 10}, "webhook": true} */
    const char* capabilities;

    /* Create an instance from its validated config (a UTF-8 JSON object, secrets resolved).
     * `host` and `ctx` stay valid until destroy. On failure return a status and explain it with
     * host->set_status; *instance must then be left NULL. */
    cdphub_status (*create)(const cdphub_host_api* host, cdphub_context* ctx, cdphub_call* call,
                            cdphub_string config_json, cdphub_instance** instance);
    void (*destroy)(cdphub_instance* instance);

    /* Test connection and credentials without reading or writing data. */
    cdphub_status (*check)(cdphub_instance* instance, cdphub_call* call);

    /* Sources (NULL otherwise): read from host->cursor(call) onwards, handing batches to
     * host->emit. Return CDPHUB_OK when caught up. */
    cdphub_status (*read)(cdphub_instance* instance, cdphub_call* call);

    /* Destinations (NULL otherwise): deliver a batch (a UTF-8 JSON array of operations) and
     * report per-record outcomes with host->report_record. */
    cdphub_status (*write)(cdphub_instance* instance, cdphub_call* call, cdphub_string batch_json);

    /* Push sources (NULL if none): handle a webhook request, emitting records with host->emit and
     * answering with host->respond. */
    cdphub_status (*receive)(cdphub_instance* instance, cdphub_call* call,
                             const cdphub_webhook_request* request);
} cdphub_plugin_descriptor;

/* The entry symbol's type. The hub passes the ABI version it speaks; a plugin may return NULL if
 * it cannot work with that hub (the hub then reports that the plugin refused to load). */
typedef const cdphub_plugin_descriptor* (*cdphub_plugin_entry_fn)(uint32_t host_abi_major,
                                                                  uint32_t host_abi_minor);

/* The prototype every plugin defines (with CDPHUB_EXPORT), so a wrong signature fails to compile.
 */
const cdphub_plugin_descriptor* cdphub_plugin_entry(uint32_t host_abi_major,
                                                    uint32_t host_abi_minor);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CDPHUB_PLUGIN_H */
