/*
 * example-c-csv-contacts: a cdphub source plugin written in plain C99.
 *
 * It reads a CSV file of contacts (first record = header) and emits one canonical "identify"
 * record per row, in batches, with the cursor {"line": N} (N = physical lines consumed, header
 * included) stored by the hub together with each batch. Columns named in "identifier_columns"
 * become typed identifiers; every other column becomes a string trait.
 *
 * Everything the plugin allocates it also frees; every pointer the hub hands over is only used
 * during the call that handed it over. The only header needed is <cdphub/plugin.h>.
 */
#include <cdphub/plugin.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLUGIN_ID "example-c-csv-contacts"
#define PLUGIN_VERSION "1.0.0"

/* Defaults and limits. A record longer than MAX_RECORD_BYTES almost always means an unbalanced
 * quote swallowing the rest of the file, so it stops the read with that hint instead of eating
 * memory. */
#define DEFAULT_BATCH_SIZE 100
#define MAX_BATCH_SIZE 10000
#define MAX_RECORD_BYTES (1024 * 1024)
#define MAX_SHAPE_WARNINGS 5
#define JSON_MAX_DEPTH 32

#if defined(__GNUC__) || defined(__clang__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* ============================================================================================
 * Growable byte buffer. Always NUL-terminated once it holds data. An allocation failure sets
 * `failed` and turns later appends into no-ops, so callers check once, at the end.
 * ========================================================================================== */
typedef struct {
    char* data;
    size_t len;
    size_t cap;
    int failed;
} buf;

static int buf_reserve(buf* b, size_t extra) {
    size_t need, cap;
    char* p;
    if (b->failed) return 0;
    if (extra > SIZE_MAX - b->len - 1) {
        b->failed = 1;
        return 0;
    }
    need = b->len + extra + 1;
    if (need <= b->cap) return 1;
    cap = b->cap != 0 ? b->cap : 64;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = (char*)realloc(b->data, cap);
    if (p == NULL) {
        b->failed = 1;
        return 0;
    }
    b->data = p;
    b->cap = cap;
    return 1;
}

static void buf_append(buf* b, const char* s, size_t n) {
    if (!buf_reserve(b, n)) return;
    if (n != 0) memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void buf_puts(buf* b, const char* s) {
    buf_append(b, s, strlen(s));
}

static void buf_putc(buf* b, char c) {
    buf_append(b, &c, 1);
}

static void buf_clear(buf* b) {
    b->len = 0;
    if (b->data != NULL) b->data[0] = '\0';
}

static void buf_free(buf* b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

static void buf_printf(buf* b, const char* fmt, ...) PRINTF_LIKE(2, 3);
static void buf_printf(buf* b, const char* fmt, ...) {
    va_list ap, ap2;
    int n;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    if (n >= 0 && buf_reserve(b, (size_t)n)) {
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
    va_end(ap);
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates, nothing
 * above U+10FFFF), or 0 if the bytes there are not one. */
static size_t utf8_sequence_length(const unsigned char* s, size_t n) {
    unsigned char lo = 0x80, hi = 0xBF;
    size_t len, i;
    if (n == 0) return 0;
    if (s[0] < 0x80) return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3;
        if (s[0] == 0xE0) lo = 0xA0;
        if (s[0] == 0xED) hi = 0x9F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4;
        if (s[0] == 0xF0) lo = 0x90;
        if (s[0] == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi) return 0;
    for (i = 2; i < len; ++i)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return len;
}

/* Appends s as a JSON string literal. Bytes that are not valid UTF-8 (a Latin-1 export, say)
 * become U+FFFD so that the batch is always valid UTF-8 JSON, as the ABI requires. */
static void buf_json_string(buf* b, const char* s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char* u = (const unsigned char*)s;
    size_t i = 0;
    buf_putc(b, '"');
    while (i < n) {
        unsigned char c = u[i];
        if (c >= 0x80) {
            size_t len = utf8_sequence_length(u + i, n - i);
            if (len == 0) {
                buf_puts(b, "\xEF\xBF\xBD");
                i += 1;
            } else {
                buf_append(b, s + i, len);
                i += len;
            }
            continue;
        }
        switch (c) {
            case '"':
                buf_puts(b, "\\\"");
                break;
            case '\\':
                buf_puts(b, "\\\\");
                break;
            case '\n':
                buf_puts(b, "\\n");
                break;
            case '\r':
                buf_puts(b, "\\r");
                break;
            case '\t':
                buf_puts(b, "\\t");
                break;
            case '\b':
                buf_puts(b, "\\b");
                break;
            case '\f':
                buf_puts(b, "\\f");
                break;
            default:
                if (c < 0x20) {
                    char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
                    buf_append(b, esc, sizeof esc);
                } else {
                    buf_putc(b, (char)c);
                }
        }
        ++i;
    }
    buf_putc(b, '"');
}

/* ============================================================================================
 * A small, strict JSON reader for the two JSON texts this plugin receives: its config and its
 * cursor. It builds a tree; object members keep their names in `key`.
 * ========================================================================================== */
typedef enum { J_NULL, J_BOOL, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT } jtype;

typedef struct jvalue {
    jtype type;
    int boolean;
    int is_int;        /* J_NUMBER: integral and within long long */
    long long integer; /* J_NUMBER with is_int */
    char* str;         /* J_STRING: decoded UTF-8, NUL-terminated (may hold \u0000) */
    size_t len;
    struct jvalue* items; /* J_ARRAY, J_OBJECT */
    size_t count;
    char* key; /* member name when this value sits in an object */
    size_t key_len;
} jvalue;

typedef struct {
    const char* p;
    const char* end;
    int depth;
    const char* error; /* first problem found */
} jparser;

static void jfree(jvalue* v) {
    size_t i;
    for (i = 0; i < v->count; ++i) jfree(&v->items[i]);
    free(v->items);
    free(v->str);
    free(v->key);
    memset(v, 0, sizeof *v);
}

static int jfail(jparser* jp, const char* why) {
    if (jp->error == NULL) jp->error = why;
    return 0;
}

static void jskip_ws(jparser* jp) {
    while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
        ++jp->p;
}

static int jliteral(jparser* jp, const char* word) {
    size_t n = strlen(word);
    if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n) != 0)
        return jfail(jp, "unexpected character");
    jp->p += n;
    return 1;
}

static int jhex4(jparser* jp, unsigned long* out) {
    int i;
    unsigned long v = 0;
    if (jp->end - jp->p < 4) return jfail(jp, "truncated \\u escape");
    for (i = 0; i < 4; ++i) {
        char c = *jp->p++;
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned long)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned long)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned long)(c - 'A' + 10);
        else
            return jfail(jp, "bad \\u escape");
    }
    *out = v;
    return 1;
}

static void buf_utf8(buf* b, unsigned long cp) {
    char o[4];
    if (cp < 0x80) {
        o[0] = (char)cp;
        buf_append(b, o, 1);
    } else if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        buf_append(b, o, 2);
    } else if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        buf_append(b, o, 3);
    } else {
        o[0] = (char)(0xF0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (char)(0x80 | (cp & 0x3F));
        buf_append(b, o, 4);
    }
}

/* Parses a string literal (jp->p at the opening quote) into a fresh heap buffer. */
static int jstring(jparser* jp, char** out, size_t* out_len) {
    buf b = {NULL, 0, 0, 0};
    ++jp->p;
    for (;;) {
        unsigned char c;
        if (jp->p >= jp->end) {
            buf_free(&b);
            return jfail(jp, "unterminated string");
        }
        c = (unsigned char)*jp->p;
        if (c == '"') {
            ++jp->p;
            break;
        }
        if (c < 0x20) {
            buf_free(&b);
            return jfail(jp, "control character in string");
        }
        if (c == '\\') {
            char e;
            if (jp->end - jp->p < 2) {
                buf_free(&b);
                return jfail(jp, "truncated escape");
            }
            e = jp->p[1];
            jp->p += 2;
            switch (e) {
                case '"':
                    buf_putc(&b, '"');
                    break;
                case '\\':
                    buf_putc(&b, '\\');
                    break;
                case '/':
                    buf_putc(&b, '/');
                    break;
                case 'b':
                    buf_putc(&b, '\b');
                    break;
                case 'f':
                    buf_putc(&b, '\f');
                    break;
                case 'n':
                    buf_putc(&b, '\n');
                    break;
                case 'r':
                    buf_putc(&b, '\r');
                    break;
                case 't':
                    buf_putc(&b, '\t');
                    break;
                case 'u': {
                    unsigned long cp, lo;
                    if (!jhex4(jp, &cp)) {
                        buf_free(&b);
                        return 0;
                    }
                    if (cp >= 0xDC00 && cp <= 0xDFFF) {
                        buf_free(&b);
                        return jfail(jp, "lone low surrogate");
                    }
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        if (jp->end - jp->p < 2 || jp->p[0] != '\\' || jp->p[1] != 'u') {
                            buf_free(&b);
                            return jfail(jp, "lone high surrogate");
                        }
                        jp->p += 2;
                        if (!jhex4(jp, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                            buf_free(&b);
                            return jfail(jp, "bad surrogate pair");
                        }
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    }
                    buf_utf8(&b, cp);
                    break;
                }
                default:
                    buf_free(&b);
                    return jfail(jp, "bad escape");
            }
            continue;
        }
        {
            size_t len =
                utf8_sequence_length((const unsigned char*)jp->p, (size_t)(jp->end - jp->p));
            if (len == 0) {
                buf_free(&b);
                return jfail(jp, "invalid UTF-8");
            }
            buf_append(&b, jp->p, len);
            jp->p += len;
        }
    }
    buf_reserve(&b, 0); /* an empty string still gets its NUL */
    if (b.failed) {
        buf_free(&b);
        return jfail(jp, "out of memory");
    }
    *out = b.data;
    *out_len = b.len;
    return 1;
}

static int jdigits(jparser* jp) {
    const char* start = jp->p;
    while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9') ++jp->p;
    return jp->p > start;
}

static int jnumber(jparser* jp, jvalue* v) {
    const char* start = jp->p;
    int negative = 0, integral = 1, overflow = 0;
    long long acc = 0;
    const char* d;
    if (*jp->p == '-') {
        negative = 1;
        ++jp->p;
    }
    if (jp->p < jp->end && *jp->p == '0') {
        ++jp->p;
    } else if (!jdigits(jp)) {
        return jfail(jp, "bad number");
    }
    /* Accumulate as a negative number so that LLONG_MIN fits. */
    for (d = start + negative; d < jp->p; ++d) {
        int digit = *d - '0';
        if (acc < (LLONG_MIN + digit) / 10) overflow = 1;
        if (!overflow) acc = acc * 10 - digit;
    }
    if (jp->p < jp->end && *jp->p == '.') {
        ++jp->p;
        integral = 0;
        if (!jdigits(jp)) return jfail(jp, "bad number");
    }
    if (jp->p < jp->end && (*jp->p == 'e' || *jp->p == 'E')) {
        ++jp->p;
        integral = 0;
        if (jp->p < jp->end && (*jp->p == '+' || *jp->p == '-')) ++jp->p;
        if (!jdigits(jp)) return jfail(jp, "bad number");
    }
    v->type = J_NUMBER;
    if (integral && !overflow && (negative || acc != LLONG_MIN)) {
        v->is_int = 1;
        v->integer = negative ? acc : -acc;
    }
    return 1;
}

static int jvalue_parse(jparser* jp, jvalue* v);

/* Parses the members of an array or object (jp->p just after the opening bracket). */
static int jcontainer(jparser* jp, jvalue* v, int object) {
    size_t cap = 0;
    char close = object ? '}' : ']';
    v->type = object ? J_OBJECT : J_ARRAY;
    if (++jp->depth > JSON_MAX_DEPTH) return jfail(jp, "nested too deeply");
    jskip_ws(jp);
    if (jp->p < jp->end && *jp->p == close) {
        ++jp->p;
        --jp->depth;
        return 1;
    }
    for (;;) {
        jvalue* item;
        if (v->count == cap) {
            size_t ncap = cap != 0 ? cap * 2 : 4;
            jvalue* grown = (jvalue*)realloc(v->items, ncap * sizeof *grown);
            if (grown == NULL) return jfail(jp, "out of memory");
            v->items = grown;
            cap = ncap;
        }
        item = &v->items[v->count];
        memset(item, 0, sizeof *item);
        ++v->count; /* counted before parsing so that jfree releases partial members */
        jskip_ws(jp);
        if (object) {
            if (jp->p >= jp->end || *jp->p != '"') return jfail(jp, "expected a member name");
            if (!jstring(jp, &item->key, &item->key_len)) return 0;
            jskip_ws(jp);
            if (jp->p >= jp->end || *jp->p != ':') return jfail(jp, "expected ':'");
            ++jp->p;
        }
        if (!jvalue_parse(jp, item)) return 0;
        jskip_ws(jp);
        if (jp->p < jp->end && *jp->p == ',') {
            ++jp->p;
            continue;
        }
        if (jp->p < jp->end && *jp->p == close) {
            ++jp->p;
            --jp->depth;
            return 1;
        }
        return jfail(jp, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int jvalue_parse(jparser* jp, jvalue* v) {
    jskip_ws(jp);
    if (jp->p >= jp->end) return jfail(jp, "unexpected end of input");
    switch (*jp->p) {
        case '{':
            ++jp->p;
            return jcontainer(jp, v, 1);
        case '[':
            ++jp->p;
            return jcontainer(jp, v, 0);
        case '"':
            v->type = J_STRING;
            return jstring(jp, &v->str, &v->len);
        case 't':
            v->type = J_BOOL;
            v->boolean = 1;
            return jliteral(jp, "true");
        case 'f':
            v->type = J_BOOL;
            return jliteral(jp, "false");
        case 'n':
            v->type = J_NULL;
            return jliteral(jp, "null");
        default:
            if (*jp->p == '-' || (*jp->p >= '0' && *jp->p <= '9')) return jnumber(jp, v);
            return jfail(jp, "unexpected character");
    }
}

/* Parses a whole JSON text. On failure *error says why and *out is left empty. */
static int json_parse(cdphub_string text, jvalue* out, const char** error) {
    jparser jp;
    memset(out, 0, sizeof *out);
    jp.p = text.data != NULL ? text.data : "";
    jp.end = jp.p + (text.data != NULL ? text.size : 0);
    jp.depth = 0;
    jp.error = NULL;
    if (jvalue_parse(&jp, out)) {
        jskip_ws(&jp);
        if (jp.p == jp.end) return 1;
        jfail(&jp, "trailing characters after the JSON value");
    }
    jfree(out);
    *error = jp.error;
    return 0;
}

/* Member names are compared by length and bytes: a name may hold an escaped NUL. */
static int jkey_is(const jvalue* member, const char* key) {
    size_t n = strlen(key);
    return member->key_len == n && memcmp(member->key, key, n) == 0;
}

static const jvalue* jget(const jvalue* object, const char* key) {
    size_t i;
    for (i = 0; i < object->count; ++i)
        if (jkey_is(&object->items[i], key)) return &object->items[i];
    return NULL;
}

/* ============================================================================================
 * Small helpers.
 * ========================================================================================== */
static cdphub_string cstr(const char* s) {
    cdphub_string r;
    r.data = s;
    r.size = strlen(s);
    return r;
}

static cdphub_string bstr(const buf* b) {
    cdphub_string r;
    r.data = b->data != NULL ? b->data : "";
    r.size = b->len;
    return r;
}

static char* dup_bytes(const char* s, size_t n) {
    char* p = (char*)malloc(n + 1);
    if (p != NULL) {
        if (n != 0) memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static int ascii_lower(int c) {
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int equals_ignore_case(const char* a, size_t an, const char* b, size_t bn) {
    size_t i;
    if (an != bn) return 0;
    for (i = 0; i < an; ++i)
        if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i])) return 0;
    return 1;
}

/* FNV-1a, 64 bit: a stable record id from the row's bytes, so re-reading a row yields the same
 * id and the hub's idempotency check drops the duplicate. */
static unsigned long long fnv1a64(const char* s, size_t n) {
    unsigned long long h = 14695981039346656037ULL;
    size_t i;
    for (i = 0; i < n; ++i) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static int is_leap(long long y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Milliseconds since the epoch as RFC 3339 UTC, without gmtime() (not thread-safe). */
static void buf_rfc3339(buf* b, int64_t ms) {
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    long long days, secs, y = 1970;
    int m = 0;
    if (ms < 0) ms = 0;
    days = (long long)(ms / 86400000);
    secs = (long long)(ms % 86400000) / 1000;
    for (;;) {
        long long ylen = is_leap(y) ? 366 : 365;
        if (days < ylen) break;
        days -= ylen;
        ++y;
    }
    for (;;) {
        long long mlen = mdays[m] + (m == 1 && is_leap(y) ? 1 : 0);
        if (days < mlen) break;
        days -= mlen;
        ++m;
    }
    buf_printf(b, "%04lld-%02d-%02lldT%02lld:%02lld:%02lld.%03dZ", y, m + 1, days + 1, secs / 3600,
               (secs / 60) % 60, secs % 60, (int)(ms % 1000));
}

/* ============================================================================================
 * Configuration.
 * ========================================================================================== */
typedef struct {
    char* column;  /* CSV header name (matched ignoring ASCII case) */
    char* id_type; /* canonical identifier type, e.g. "email" */
} id_column;

typedef struct {
    char* path;
    size_t batch_size;
    char delimiter;
    id_column* id_columns;
    size_t id_column_count;
    char* occurred_at_column; /* NULL: the hub's clock at read time */
} settings;

static void settings_free(settings* s) {
    size_t i;
    for (i = 0; i < s->id_column_count; ++i) {
        free(s->id_columns[i].column);
        free(s->id_columns[i].id_type);
    }
    free(s->id_columns);
    free(s->path);
    free(s->occurred_at_column);
    memset(s, 0, sizeof *s);
}

static int add_id_column(settings* s, const char* column, size_t column_len, const char* type,
                         size_t type_len) {
    id_column* grown = (id_column*)realloc(s->id_columns, (s->id_column_count + 1) * sizeof *grown);
    if (grown == NULL) return 0;
    s->id_columns = grown;
    grown[s->id_column_count].column = dup_bytes(column, column_len);
    grown[s->id_column_count].id_type = dup_bytes(type, type_len);
    ++s->id_column_count;
    return grown[s->id_column_count - 1].column != NULL &&
           grown[s->id_column_count - 1].id_type != NULL;
}

/* Identifier types are keys of the canonical "identifiers" object: keep them tame. */
static int valid_id_type(const char* s, size_t n) {
    size_t i;
    if (n == 0 || n > 64 || s[0] < 'a' || s[0] > 'z') return 0;
    for (i = 1; i < n; ++i)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

/* Reads the config into *s. The hub has already validated it against config_spec; the checks
 * here repeat what matters so that the plugin is safe with a hub that did not. On failure the
 * reason is in *why. */
static int settings_parse(cdphub_string text, settings* s, buf* why) {
    jvalue root;
    const char* error = NULL;
    const jvalue* v;
    size_t i;
    int ok = 0;

    memset(s, 0, sizeof *s);
    s->batch_size = DEFAULT_BATCH_SIZE;
    s->delimiter = ',';
    if (!json_parse(text, &root, &error)) {
        buf_printf(why, "config is not valid JSON: %s", error != NULL ? error : "?");
        return 0;
    }
    if (root.type != J_OBJECT) {
        buf_puts(why, "config must be a JSON object");
        goto done;
    }
    for (i = 0; i < root.count; ++i) {
        const jvalue* m = &root.items[i];
        if (!jkey_is(m, "path") && !jkey_is(m, "batch_size") && !jkey_is(m, "delimiter") &&
            !jkey_is(m, "identifier_columns") && !jkey_is(m, "occurred_at_column")) {
            buf_puts(why, "unknown config field ");
            buf_json_string(why, m->key, m->key_len);
            buf_puts(why,
                     " (known: path, batch_size, delimiter, identifier_columns, "
                     "occurred_at_column)");
            goto done;
        }
    }

    v = jget(&root, "path");
    if (v == NULL || v->type != J_STRING || v->len == 0 || memchr(v->str, '\0', v->len) != NULL) {
        buf_puts(why, "\"path\" is required: the CSV file to read, as a non-empty string");
        goto done;
    }
    s->path = dup_bytes(v->str, v->len);
    if (s->path == NULL) goto oom;

    v = jget(&root, "batch_size");
    if (v != NULL) {
        if (v->type != J_NUMBER || !v->is_int || v->integer < 1 || v->integer > MAX_BATCH_SIZE) {
            buf_printf(why, "\"batch_size\" must be an integer from 1 to %d", MAX_BATCH_SIZE);
            goto done;
        }
        s->batch_size = (size_t)v->integer;
    }

    v = jget(&root, "delimiter");
    if (v != NULL) {
        if (v->type != J_STRING || v->len != 1 || strchr(",;\t|", v->str[0]) == NULL) {
            buf_puts(why, "\"delimiter\" must be one of \",\", \";\", \"\\t\" or \"|\"");
            goto done;
        }
        s->delimiter = v->str[0];
    }

    v = jget(&root, "identifier_columns");
    if (v != NULL) {
        if (v->type != J_OBJECT || v->count == 0) {
            buf_puts(why,
                     "\"identifier_columns\" must be a non-empty object mapping CSV column "
                     "names to identifier types, e.g. {\"E-Mail\": \"email\"}");
            goto done;
        }
        for (i = 0; i < v->count; ++i) {
            const jvalue* m = &v->items[i];
            if (m->type != J_STRING || !valid_id_type(m->str, m->len)) {
                buf_puts(why, "identifier type for column ");
                buf_json_string(why, m->key, m->key_len);
                buf_puts(why, " must match ^[a-z][a-z0-9_]{0,63}$");
                goto done;
            }
            if (!add_id_column(s, m->key, m->key_len, m->str, m->len)) goto oom;
        }
    } else {
        if (!add_id_column(s, "email", 5, "email", 5) ||
            !add_id_column(s, "phone", 5, "phone", 5) ||
            !add_id_column(s, "user_id", 7, "user_id", 7))
            goto oom;
    }

    v = jget(&root, "occurred_at_column");
    if (v != NULL) {
        if (v->type != J_STRING || v->len == 0) {
            buf_puts(why, "\"occurred_at_column\" must be a non-empty string");
            goto done;
        }
        s->occurred_at_column = dup_bytes(v->str, v->len);
        if (s->occurred_at_column == NULL) goto oom;
    }
    ok = 1;
    goto done;
oom:
    buf_puts(why, "out of memory while reading the config");
done:
    jfree(&root);
    if (!ok) settings_free(s);
    return ok;
}

/* ============================================================================================
 * CSV reading (RFC 4180: quoted fields may hold delimiters, doubled quotes and line breaks;
 * CRLF or LF line ends).
 * ========================================================================================== */
typedef enum {
    CSV_RECORD,
    CSV_END,
    CSV_TOO_LONG,
    CSV_OPEN_QUOTE,
    CSV_IO_ERROR,
    CSV_NO_MEMORY
} csv_result;

typedef struct {
    FILE* file;
    char delimiter;
    long long line; /* physical lines consumed so far */
    buf raw;        /* the current record's bytes as they are in the file, for its id */
    buf text;       /* the current record's field values, back to back */
    size_t* starts; /* field i is text.data[starts[i] .. starts[i] + lens[i]) */
    size_t* lens;
    size_t count;
    size_t cap;
} csv_reader;

static void csv_close(csv_reader* r) {
    if (r->file != NULL) fclose(r->file);
    buf_free(&r->raw);
    buf_free(&r->text);
    free(r->starts);
    free(r->lens);
    memset(r, 0, sizeof *r);
}

static int csv_end_field(csv_reader* r, size_t start) {
    if (r->count == r->cap) {
        size_t ncap = r->cap != 0 ? r->cap * 2 : 16;
        size_t* s = (size_t*)realloc(r->starts, ncap * sizeof *s);
        size_t* l;
        if (s == NULL) return 0;
        r->starts = s;
        l = (size_t*)realloc(r->lens, ncap * sizeof *l);
        if (l == NULL) return 0;
        r->lens = l;
        r->cap = ncap;
    }
    r->starts[r->count] = start;
    r->lens[r->count] = r->text.len - start;
    ++r->count;
    return 1;
}

/* Reads the next record. A record whose only field is empty is a blank line: count == 1 and
 * lens[0] == 0; callers skip it. */
static csv_result csv_next(csv_reader* r) {
    int c, in_quotes = 0, quoted = 0;
    size_t start = 0;
    buf_clear(&r->raw);
    buf_clear(&r->text);
    r->count = 0;
    buf_reserve(&r->text, 0);
    c = getc(r->file);
    if (c == EOF) return ferror(r->file) ? CSV_IO_ERROR : CSV_END;
    for (;; c = getc(r->file)) {
        if (c == EOF) {
            if (ferror(r->file)) return CSV_IO_ERROR;
            if (in_quotes) return CSV_OPEN_QUOTE;
            /* A last line without its line break still counts as a line. */
            ++r->line;
            break;
        }
        if (r->raw.len >= MAX_RECORD_BYTES) return CSV_TOO_LONG;
        if (!in_quotes && (c == '\n' || c == '\r')) {
            if (c == '\r') {
                int next = getc(r->file);
                if (next != '\n' && next != EOF) ungetc(next, r->file);
            }
            ++r->line;
            break;
        }
        buf_putc(&r->raw, (char)c);
        if (in_quotes) {
            if (c == '"') {
                int next = getc(r->file);
                if (next == '"') {
                    buf_putc(&r->raw, '"');
                    buf_putc(&r->text, '"');
                } else {
                    in_quotes = 0;
                    if (next != EOF) ungetc(next, r->file);
                }
            } else {
                if (c == '\n') ++r->line;
                buf_putc(&r->text, (char)c);
            }
        } else if (c == (unsigned char)r->delimiter) {
            if (!csv_end_field(r, start)) return CSV_NO_MEMORY;
            start = r->text.len;
            quoted = 0;
        } else if (c == '"' && r->text.len == start && !quoted) {
            in_quotes = quoted = 1;
        } else {
            /* Lenient like most spreadsheet exports: a stray quote inside an unquoted field,
             * or text after a closing quote, is kept as it is. */
            buf_putc(&r->text, (char)c);
        }
    }
    if (!csv_end_field(r, start) || r->raw.failed || r->text.failed) return CSV_NO_MEMORY;
    return CSV_RECORD;
}

static int csv_blank(const csv_reader* r) {
    return r->count == 1 && r->lens[0] == 0 && !r->raw.len;
}

/* ============================================================================================
 * The instance.
 * ========================================================================================== */
struct cdphub_instance {
    const cdphub_host_api* host;
    cdphub_context* ctx;
    settings cfg;
};

static void log_msg(const cdphub_instance* in, int32_t level, const buf* message) {
    if (!message->failed) in->host->log(in->ctx, level, bstr(message));
}

static cdphub_status fail(const cdphub_host_api* host, cdphub_call* call, cdphub_status status,
                          const buf* message) {
    host->set_status(
        call, status, -1,
        message->failed ? cstr("out of memory while reporting an error") : bstr(message));
    return status;
}

/* The header: column names, with the index of each identifier column (or -1) and of the
 * occurred_at column. */
typedef struct {
    char** names;
    size_t* name_lens;
    const char** id_types; /* borrowed from settings; NULL for trait columns */
    size_t count;
    long occurred_at; /* column index or -1 */
    size_t identifier_columns;
} header;

static void header_free(header* h) {
    size_t i;
    if (h->names != NULL)
        for (i = 0; i < h->count; ++i) free(h->names[i]);
    free(h->names);
    free(h->name_lens);
    free((void*)h->id_types);
    memset(h, 0, sizeof *h);
}

/* Opens the file and reads its header. On failure returns a status with the reason in *why. */
static cdphub_status open_csv(const cdphub_instance* in, csv_reader* r, header* h, buf* why,
                              cdphub_status open_failure) {
    size_t i, j;
    csv_result res;
    memset(r, 0, sizeof *r);
    memset(h, 0, sizeof *h);
    h->occurred_at = -1;
    r->delimiter = in->cfg.delimiter;
    errno = 0;
    r->file = fopen(in->cfg.path, "rb");
    if (r->file == NULL) {
        buf_printf(why, "cannot open the CSV file %s: %s", in->cfg.path,
                   errno != 0 ? strerror(errno) : "unknown error");
        return open_failure;
    }
    do res = csv_next(r);
    while (res == CSV_RECORD && csv_blank(r));
    if (res != CSV_RECORD) {
        buf_printf(why, "%s: %s", in->cfg.path,
                   res == CSV_END         ? "the file is empty; its first line must be a header "
                                            "naming the columns"
                   : res == CSV_IO_ERROR  ? "read error"
                   : res == CSV_NO_MEMORY ? "out of memory reading the header"
                                          : "the header line is malformed (unbalanced quote?)");
        return res == CSV_END ? CDPHUB_CONFIG_ERROR : CDPHUB_FATAL;
    }
    h->count = r->count;
    h->names = (char**)calloc(h->count, sizeof *h->names);
    h->name_lens = (size_t*)calloc(h->count, sizeof *h->name_lens);
    h->id_types = (const char**)calloc(h->count, sizeof *h->id_types);
    if (h->names == NULL || h->name_lens == NULL || h->id_types == NULL) goto oom;
    for (i = 0; i < h->count; ++i) {
        const char* name = r->text.data + r->starts[i];
        size_t len = r->lens[i];
        /* Spreadsheet exports often start with a UTF-8 byte order mark and pad names. */
        if (i == 0 && len >= 3 && memcmp(name, "\xEF\xBB\xBF", 3) == 0) {
            name += 3;
            len -= 3;
        }
        while (len > 0 && (*name == ' ' || *name == '\t')) ++name, --len;
        while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t')) --len;
        if (len == 0) {
            buf_printf(why, "%s: column %lu of the header has no name", in->cfg.path,
                       (unsigned long)(i + 1));
            return CDPHUB_CONFIG_ERROR;
        }
        h->names[i] = dup_bytes(name, len);
        if (h->names[i] == NULL) goto oom;
        h->name_lens[i] = len;
        for (j = 0; j < i; ++j) {
            if (equals_ignore_case(h->names[j], h->name_lens[j], name, len)) {
                buf_printf(why, "%s: the header names column ", in->cfg.path);
                buf_json_string(why, name, len);
                buf_puts(why, " twice");
                return CDPHUB_CONFIG_ERROR;
            }
        }
        for (j = 0; j < in->cfg.id_column_count; ++j) {
            const id_column* ic = &in->cfg.id_columns[j];
            if (equals_ignore_case(ic->column, strlen(ic->column), name, len)) {
                h->id_types[i] = ic->id_type;
                ++h->identifier_columns;
                break;
            }
        }
        if (in->cfg.occurred_at_column != NULL &&
            equals_ignore_case(in->cfg.occurred_at_column, strlen(in->cfg.occurred_at_column), name,
                               len))
            h->occurred_at = (long)i;
    }
    if (h->identifier_columns == 0) {
        buf_printf(why, "%s: none of the identifier columns (", in->cfg.path);
        for (j = 0; j < in->cfg.id_column_count; ++j)
            buf_printf(why, "%s%s", j != 0 ? ", " : "", in->cfg.id_columns[j].column);
        buf_puts(why, ") is in the header, which has: ");
        for (i = 0; i < h->count; ++i) buf_printf(why, "%s%s", i != 0 ? ", " : "", h->names[i]);
        buf_puts(why, ". Set \"identifier_columns\" to map your column names to identifier types.");
        return CDPHUB_CONFIG_ERROR;
    }
    if (in->cfg.occurred_at_column != NULL && h->occurred_at < 0) {
        buf_printf(why, "%s: the occurred_at column \"%s\" is not in the header", in->cfg.path,
                   in->cfg.occurred_at_column);
        return CDPHUB_CONFIG_ERROR;
    }
    return CDPHUB_OK;
oom:
    buf_puts(why, "out of memory reading the header");
    return CDPHUB_FATAL;
}

/* Appends the current row as a canonical identify record. */
static void append_record(buf* out, const csv_reader* r, const header* h, const buf* now) {
    size_t i, n = r->count < h->count ? r->count : h->count;
    int first;
    buf_printf(out, "{\"type\":\"identify\",\"record_id\":\"csv-%016llx\",\"occurred_at\":",
               fnv1a64(r->raw.data, r->raw.len));
    if (h->occurred_at >= 0 && (size_t)h->occurred_at < n && r->lens[h->occurred_at] != 0)
        buf_json_string(out, r->text.data + r->starts[h->occurred_at], r->lens[h->occurred_at]);
    else
        buf_append(out, now->data, now->len);
    /* Empty cells are left out: an empty identifier is no identifier, an empty trait is not a
     * statement that the value was erased. */
    buf_puts(out, ",\"identifiers\":{");
    for (i = 0, first = 1; i < n; ++i) {
        if (h->id_types[i] == NULL || r->lens[i] == 0) continue;
        if (!first) buf_putc(out, ',');
        first = 0;
        buf_json_string(out, h->id_types[i], strlen(h->id_types[i]));
        buf_putc(out, ':');
        buf_json_string(out, r->text.data + r->starts[i], r->lens[i]);
    }
    buf_puts(out, "},\"traits\":{");
    for (i = 0, first = 1; i < n; ++i) {
        if (h->id_types[i] != NULL || (long)i == h->occurred_at || r->lens[i] == 0) continue;
        if (!first) buf_putc(out, ',');
        first = 0;
        buf_json_string(out, h->names[i], h->name_lens[i]);
        buf_putc(out, ':');
        buf_json_string(out, r->text.data + r->starts[i], r->lens[i]);
    }
    buf_puts(out, "}}");
}

/* Reads the committed cursor: empty (start of file) or {"line": N}. */
static int parse_cursor(cdphub_string text, long long* line, buf* why) {
    jvalue root;
    const jvalue* v;
    const char* error = NULL;
    int ok;
    *line = 0;
    if (text.data == NULL || text.size == 0) return 1;
    if (!json_parse(text, &root, &error)) {
        buf_printf(why, "the stored cursor is not JSON (%s)", error != NULL ? error : "?");
        return 0;
    }
    v = root.type == J_OBJECT ? jget(&root, "line") : NULL;
    ok = v != NULL && v->type == J_NUMBER && v->is_int && v->integer >= 0;
    if (ok)
        *line = v->integer;
    else
        buf_puts(why, "the stored cursor is not of the form {\"line\": N}");
    jfree(&root);
    return ok;
}

static cdphub_status emit_batch(const cdphub_instance* in, cdphub_call* call, buf* records,
                                long long line) {
    char cursor[48];
    cdphub_status st;
    buf_putc(records, ']');
    if (records->failed) {
        buf msg = {NULL, 0, 0, 0};
        buf_puts(&msg, "out of memory building a batch; lower batch_size");
        st = fail(in->host, call, CDPHUB_FATAL, &msg);
        buf_free(&msg);
        return st;
    }
    snprintf(cursor, sizeof cursor, "{\"line\":%lld}", line);
    st = in->host->emit(call, bstr(records), cstr(cursor));
    buf_clear(records);
    buf_putc(records, '[');
    return st;
}

/* ============================================================================================
 * ABI functions.
 * ========================================================================================== */
static cdphub_status plugin_create(const cdphub_host_api* host, cdphub_context* ctx,
                                   cdphub_call* call, cdphub_string config_json,
                                   cdphub_instance** instance) {
    buf why = {NULL, 0, 0, 0};
    cdphub_instance* in;
    if (instance == NULL) return CDPHUB_FATAL;
    *instance = NULL;
    /* Every service used here exists since ABI 1.0; a smaller table means a broken host. */
    if (host == NULL || host->abi_major != CDPHUB_ABI_MAJOR ||
        !CDPHUB_HAS_FIELD(host, cdphub_host_api, sleep_ms))
        return CDPHUB_FATAL;
    in = (cdphub_instance*)calloc(1, sizeof *in);
    if (in == NULL) {
        host->set_status(call, CDPHUB_FATAL, -1, cstr("out of memory"));
        return CDPHUB_FATAL;
    }
    in->host = host;
    in->ctx = ctx;
    if (!settings_parse(config_json, &in->cfg, &why)) {
        cdphub_status st = fail(host, call, CDPHUB_CONFIG_ERROR, &why);
        buf_free(&why);
        free(in);
        return st;
    }
    *instance = in;
    return CDPHUB_OK;
}

static void plugin_destroy(cdphub_instance* in) {
    if (in == NULL) return;
    settings_free(&in->cfg);
    free(in);
}

static cdphub_status plugin_check(cdphub_instance* in, cdphub_call* call) {
    csv_reader r;
    header h;
    buf msg = {NULL, 0, 0, 0};
    cdphub_status st = open_csv(in, &r, &h, &msg, CDPHUB_CONFIG_ERROR);
    if (st == CDPHUB_OK) {
        buf_printf(&msg, "%s is readable: %lu columns, %lu of them identifiers", in->cfg.path,
                   (unsigned long)h.count, (unsigned long)h.identifier_columns);
        log_msg(in, CDPHUB_LOG_INFO, &msg);
    } else {
        fail(in->host, call, st, &msg);
    }
    header_free(&h);
    csv_close(&r);
    buf_free(&msg);
    return st;
}

static cdphub_status plugin_read(cdphub_instance* in, cdphub_call* call) {
    csv_reader r;
    header h;
    buf msg = {NULL, 0, 0, 0}, records = {NULL, 0, 0, 0}, now = {NULL, 0, 0, 0};
    long long start_line = 0, committed, batch_end = 0;
    unsigned long long total = 0, shape_warnings = 0;
    size_t in_batch = 0;
    cdphub_status st;

    if (!parse_cursor(in->host->cursor(call), &start_line, &msg)) {
        buf_puts(&msg, "; reset the instance's cursor to read the file from the start");
        st = fail(in->host, call, CDPHUB_FATAL, &msg);
        buf_free(&msg);
        return st;
    }
    committed = start_line;
    /* At read time a missing file is more likely mid-replacement by its producer than
     * misconfigured (check() passed), so it is retryable here and a config error in check(). */
    st = open_csv(in, &r, &h, &msg, CDPHUB_RETRYABLE);
    if (st != CDPHUB_OK) {
        fail(in->host, call, st, &msg);
        goto out;
    }
    /* A CSV snapshot carries no event time: the hub's clock at read time is the honest one. */
    buf_putc(&now, '"');
    buf_rfc3339(&now, in->host->now_ms(in->ctx));
    buf_putc(&now, '"');
    buf_printf(&msg, "reading %s after line %lld", in->cfg.path, start_line);
    log_msg(in, CDPHUB_LOG_DEBUG, &msg);
    buf_putc(&records, '[');

    for (;;) {
        csv_result res;
        /* Cancellation is honoured between batches, never inside one. */
        if (in_batch == 0 && in->host->cancelled(call)) {
            buf_clear(&msg);
            buf_printf(&msg, "cancelled after line %lld", committed);
            st = fail(in->host, call, CDPHUB_CANCELLED, &msg);
            goto out;
        }
        res = csv_next(&r);
        if (res == CSV_END) break;
        if (res != CSV_RECORD) {
            /* Keep the rows read so far: they are complete, and storing them now means a fixed
             * file resumes right at the broken record. */
            if (in_batch != 0) {
                st = emit_batch(in, call, &records, batch_end);
                if (st != CDPHUB_OK) goto stopped;
                committed = batch_end;
            }
            buf_clear(&msg);
            if (res == CSV_TOO_LONG || res == CSV_OPEN_QUOTE)
                buf_printf(&msg, "%s: the record after line %lld %s", in->cfg.path, committed,
                           res == CSV_TOO_LONG ? "is longer than 1 MiB (unbalanced quote?)"
                                               : "has a quote that is never closed");
            else
                buf_printf(&msg, "%s: %s near line %lld", in->cfg.path,
                           res == CSV_IO_ERROR ? "read error" : "out of memory", r.line + 1);
            st = fail(in->host, call, res == CSV_IO_ERROR ? CDPHUB_RETRYABLE : CDPHUB_FATAL, &msg);
            goto out;
        }
        if (r.line <= start_line || csv_blank(&r)) continue; /* before the cursor, or empty */
        if (r.count != h.count && ++shape_warnings <= MAX_SHAPE_WARNINGS) {
            buf_clear(&msg);
            buf_printf(&msg, "%s:%lld has %lu fields but the header has %lu; %s", in->cfg.path,
                       r.line, (unsigned long)r.count, (unsigned long)h.count,
                       r.count > h.count ? "the extra fields are ignored"
                                         : "the missing fields are left out");
            log_msg(in, CDPHUB_LOG_WARN, &msg);
        }
        if (in_batch != 0) buf_putc(&records, ',');
        append_record(&records, &r, &h, &now);
        batch_end = r.line;
        ++in_batch;
        ++total;
        if (in_batch == in->cfg.batch_size) {
            st = emit_batch(in, call, &records, r.line);
            if (st != CDPHUB_OK) goto stopped;
            committed = r.line;
            in_batch = 0;
        }
    }
    if (r.line < start_line) {
        buf_clear(&msg);
        buf_printf(&msg,
                   "%s has %lld lines but the cursor is at line %lld: the file was replaced or "
                   "truncated; reset the instance's cursor to read it again",
                   in->cfg.path, r.line, start_line);
        log_msg(in, CDPHUB_LOG_WARN, &msg);
    } else if (in_batch != 0 || r.line != committed) {
        /* The tail, or just the cursor moving past trailing blank lines. */
        st = emit_batch(in, call, &records, r.line);
        if (st != CDPHUB_OK) goto stopped;
        committed = r.line;
    }
    buf_clear(&msg);
    if (shape_warnings > MAX_SHAPE_WARNINGS)
        buf_printf(&msg, "%llu rows had a field count other than the header's; ", shape_warnings);
    buf_printf(&msg, "read %llu contacts from %s, now after line %lld", total, in->cfg.path,
               committed);
    /* Idle polls are frequent; only reads that found something are worth an info line. */
    log_msg(in, total != 0 ? CDPHUB_LOG_INFO : CDPHUB_LOG_DEBUG, &msg);
    st = CDPHUB_OK;
    goto out;

stopped:
    /* The hub refused the batch (shutdown, storage failure): stop and hand its status back;
     * the hub already knows why, so no set_status here. */
    buf_clear(&msg);
    buf_printf(&msg, "the hub stopped the read at line %lld (status %d)", committed, (int)st);
    log_msg(in, CDPHUB_LOG_DEBUG, &msg);
out:
    header_free(&h);
    csv_close(&r);
    buf_free(&msg);
    buf_free(&records);
    buf_free(&now);
    return st;
}

/* ============================================================================================
 * Descriptor and entry point.
 * ========================================================================================== */
static const char config_spec[] =
    "{\"$schema\":\"http://json-schema.org/draft-07/schema#\","
    "\"title\":\"CSV contacts (C example)\",\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"path\"],\"properties\":{"
    "\"path\":{\"type\":\"string\",\"minLength\":1,\"x-cdphub-path\":true,"
    "\"description\":\"CSV file to read; its first line names the columns. The file may grow "
    "by appended rows.\"},"
    "\"batch_size\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10000,\"default\":100,"
    "\"description\":\"Records per batch handed to the hub.\"},"
    "\"delimiter\":{\"type\":\"string\",\"enum\":[\",\",\";\",\"\\t\",\"|\"],\"default\":\",\"},"
    "\"identifier_columns\":{\"type\":\"object\",\"minProperties\":1,"
    "\"additionalProperties\":{\"type\":\"string\",\"pattern\":\"^[a-z][a-z0-9_]{0,63}$\"},"
    "\"default\":{\"email\":\"email\",\"phone\":\"phone\",\"user_id\":\"user_id\"},"
    "\"description\":\"CSV column name (case-insensitive) -> identifier type. Other columns "
    "become traits.\"},"
    "\"occurred_at_column\":{\"type\":\"string\",\"minLength\":1,"
    "\"description\":\"Column holding an RFC 3339 time for each row; without it, the time of "
    "the read.\"}}}";

static const char capabilities[] =
    "{\"incremental\":true,\"record_types\":[\"identify\"],"
    "\"identifier_types\":[\"email\",\"phone\",\"user_id\"],"
    "\"batch\":{\"max_records\":10000}}";

static const cdphub_plugin_descriptor descriptor = {
    .struct_size = sizeof(cdphub_plugin_descriptor),
    .abi_major = CDPHUB_ABI_MAJOR,
    .abi_minor = CDPHUB_ABI_MINOR,
    .kind = CDPHUB_KIND_SOURCE,
    .category = CDPHUB_CATEGORY_OTHER,
    .id = PLUGIN_ID,
    .version = PLUGIN_VERSION,
    .name = "CSV contacts (C example)",
    .config_spec = config_spec,
    .capabilities = capabilities,
    .create = plugin_create,
    .destroy = plugin_destroy,
    .check = plugin_check,
    .read = plugin_read,
    .write = NULL,   /* not a destination */
    .receive = NULL, /* no webhooks */
};

/* Declared first so that the definition is checked against cdphub_plugin_entry_fn's shape. */
CDPHUB_EXPORT const cdphub_plugin_descriptor* cdphub_plugin_entry(uint32_t host_abi_major,
                                                                  uint32_t host_abi_minor);

CDPHUB_EXPORT const cdphub_plugin_descriptor* cdphub_plugin_entry(uint32_t host_abi_major,
                                                                  uint32_t host_abi_minor) {
    /* Any 1.x hub will do: fields added after 1.0 are not used. */
    (void)host_abi_minor;
    return host_abi_major == CDPHUB_ABI_MAJOR ? &descriptor : NULL;
}
