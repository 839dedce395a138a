/* Deliberately broken plugins, one per failure the host must survive. Built once per scenario
 * with -DSCENARIO_<NAME> (see ../CMakeLists.txt); each lands in its own directory. */
#include <cdphub/plugin.h>
#include <string.h>

#if !defined(SCENARIO_INIT_FAILS)
static cdphub_status create_ok(const cdphub_host_api* host, cdphub_context* ctx, cdphub_call* call,
                               cdphub_string config, cdphub_instance** out) {
    static int token;
    (void)host;
    (void)ctx;
    (void)call;
    (void)config;
    *out = (cdphub_instance*)&token;
    return CDPHUB_OK;
}
#endif
static void destroy_noop(cdphub_instance* i) {
    (void)i;
}
#if !defined(SCENARIO_UNKNOWN_STATUS)
static cdphub_status check_ok(cdphub_instance* i, cdphub_call* c) {
    (void)i;
    (void)c;
    return CDPHUB_OK;
}
#endif
static cdphub_status read_ok(cdphub_instance* i, cdphub_call* c) {
    (void)i;
    (void)c;
    return CDPHUB_OK;
}

#if defined(SCENARIO_INIT_FAILS)
static cdphub_status create_fails(const cdphub_host_api* host, cdphub_context* ctx,
                                  cdphub_call* call, cdphub_string config, cdphub_instance** out) {
    static const char msg[] = "account_id 'acme' does not exist at the vendor";
    cdphub_string m;
    (void)ctx;
    (void)config;
    m.data = msg;
    m.size = sizeof msg - 1;
    *out = NULL;
    host->set_status(call, CDPHUB_CONFIG_ERROR, -1, m);
    return CDPHUB_CONFIG_ERROR;
}
#define CREATE create_fails
#else
#define CREATE create_ok
#endif

#if defined(SCENARIO_UNKNOWN_STATUS)
static cdphub_status check_garbage(cdphub_instance* i, cdphub_call* c) {
    (void)i;
    (void)c;
    return 4242;
}
#define CHECK check_garbage
#else
#define CHECK check_ok
#endif

#ifndef PLUGIN_ID
#define PLUGIN_ID "broken"
#endif

/* A descriptor from the future: ABI 1.7 with fields this hub does not know. */
typedef struct future_descriptor {
    cdphub_plugin_descriptor base;
    const char* field_from_1_7;
    void (*function_from_1_7)(void);
} future_descriptor;

static future_descriptor descriptor = {
    {sizeof(cdphub_plugin_descriptor), CDPHUB_ABI_MAJOR, CDPHUB_ABI_MINOR, CDPHUB_KIND_SOURCE,
     CDPHUB_CATEGORY_OTHER, PLUGIN_ID, "1.0.0", "Test plugin", "{\"type\":\"object\"}", "{}",
     CREATE, destroy_noop, CHECK, read_ok, NULL, NULL},
    "unknown to the hub",
    NULL};

#if !defined(SCENARIO_NO_ENTRY)
CDPHUB_EXPORT const cdphub_plugin_descriptor* cdphub_plugin_entry(uint32_t major, uint32_t minor) {
    cdphub_plugin_descriptor* d = &descriptor.base;
    (void)major;
    (void)minor;
#if defined(SCENARIO_ABI_MAJOR)
    d->abi_major = CDPHUB_ABI_MAJOR + 1;
#elif defined(SCENARIO_NEWER_MINOR)
    d->abi_minor = CDPHUB_ABI_MINOR + 7;
    d->struct_size = sizeof(future_descriptor);
#elif defined(SCENARIO_REFUSES)
    return NULL;
#elif defined(SCENARIO_NULL_ID)
    d->id = NULL;
#elif defined(SCENARIO_BAD_ID)
    d->id = "Bad Id!";
#elif defined(SCENARIO_BAD_KIND)
    d->kind = 12;
#elif defined(SCENARIO_BAD_SPEC)
    d->config_spec = "{not json";
#elif defined(SCENARIO_SMALL_STRUCT)
    d->struct_size = 8;
#elif defined(SCENARIO_NO_READ)
    d->read = NULL;
#elif defined(SCENARIO_UNKNOWN_CATEGORY)
    d->category = 99;
#endif
    return d;
}
#else
/* Exports something, just not the entry symbol. */
CDPHUB_EXPORT int not_the_entry(void) {
    return (int)strlen(descriptor.base.id);
}
#endif
