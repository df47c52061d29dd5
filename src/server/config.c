/*
 * `ward serve`'s settings by name, from the command line or a config
 * file: every value is text ("64KiB", "30d", "127.0.0.1:8080") parsed
 * here with a sentence for the operator when it is wrong.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

enum kind { K_PATH, K_LISTEN, K_SIZE, K_COUNT, K_DURATION, K_RATE, K_PWHASH };

static const struct setting {
    const char *name;
    enum kind kind;
} settings[] = {
    {"data", K_PATH},
    {"listen", K_LISTEN},
    {"tls-cert", K_PATH},
    {"tls-key", K_PATH},
    {"port-file", K_PATH},
    {"match-dir", K_PATH},
    {"max-body", K_SIZE},
    {"max-message", K_SIZE},
    {"max-attachment", K_SIZE},
    {"max-queue", K_COUNT},
    {"max-group-members", K_COUNT},
    {"max-prekeys", K_COUNT},
    {"prekeys-low", K_COUNT},
    {"pwhash-threads", K_COUNT},
    {"token-ttl", K_DURATION},
    {"attachment-ttl", K_DURATION},
    {"shutdown-grace", K_DURATION},
    {"login-per-minute", K_RATE},
    {"login-burst", K_RATE},
    {"register-per-minute", K_RATE},
    {"register-burst", K_RATE},
    {"send-per-minute", K_RATE},
    {"send-burst", K_RATE},
    {"upload-per-minute", K_RATE},
    {"upload-burst", K_RATE},
    {"pwhash", K_PWHASH},
    {"franking-rotate", K_DURATION},
    {"franking-retain", K_DURATION},
    {"suspicious-window", K_DURATION},
    {"suspicious-signals", K_COUNT},
    {"report-per-minute", K_RATE},
    {"report-burst", K_RATE},
    {"max-suggestions", K_COUNT},
    {"group-per-minute", K_RATE},
    {"group-burst", K_RATE},
};

static ward_err fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static ward_err fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return WARD_ERR_INVALID_ARG;
}

int ward_serve_config_known(const char *name)
{
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        if (strcmp(name, settings[i].name) == 0)
            return 1;
    return 0;
}

/* A decimal number with an optional unit (each a suffix and its
 * multiplier; "" is the plain number's). */
struct unit {
    const char *suffix;
    double mult;
};

static int parse_scaled(const char *s, const struct unit *units, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v >= 0) || v > 1e15 || isspace((unsigned char)*s))
        return -1;
    while (*end == ' ')
        end++;
    for (const struct unit *u = units; u->suffix; u++)
        if (strcmp(end, u->suffix) == 0) {
            *out = v * u->mult;
            return 0;
        }
    return -1;
}

static const struct unit size_units[] = {
    {"", 1}, {"B", 1}, {"KiB", 1024}, {"MiB", 1048576},
    {"GiB", 1073741824.0}, {NULL, 0}};
static const struct unit duration_units[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000},
    {"d", 86400000.0}, {NULL, 0}};
static const struct unit plain_units[] = {{"", 1}, {NULL, 0}};

/* "ADDR:PORT", IPv4 or a host name. */
static ward_err set_listen(ward_serve_config *c, const char *s, char *err,
                           size_t errlen)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s ||
        (size_t)(colon - s) >= sizeof c->listen_buf || !colon[1])
        return fail(err, errlen,
                    "--listen wants ADDR:PORT, like 127.0.0.1:8080, not "
                    "'%.100s'",
                    s);
    if (s[0] == '[' || memchr(s, ':', (size_t)(colon - s)))
        return fail(err, errlen,
                    "--listen '%.100s': only IPv4 addresses are supported",
                    s);
    long v = 0;
    for (const char *p = colon + 1; *p; p++)
        if (!isdigit((unsigned char)*p) || (v = v * 10 + (*p - '0')) > 65535)
            return fail(err, errlen,
                        "--listen '%.100s': the port is 0 to 65535", s);
    memcpy(c->listen_buf, s, (size_t)(colon - s));
    c->listen_buf[colon - s] = 0;
    c->listen_addr = c->listen_buf;
    c->port = (int)v;
    return WARD_OK;
}

ward_err ward_serve_config_set(ward_serve_config *c, const char *name,
                               const char *v, char *err, size_t errlen)
{
    const struct setting *d = NULL;
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        if (strcmp(name, settings[i].name) == 0)
            d = &settings[i];
    if (!d)
        return fail(err, errlen, "unknown setting '%.64s'", name);
    if (!*v)
        return fail(err, errlen, "'%s' needs a value", name);
    ward_api_config *a = &c->api;
    double x = 0;
    switch (d->kind) {
    case K_PATH:
        if (strcmp(name, "data") == 0)
            c->data_dir = v;
        else if (strcmp(name, "tls-cert") == 0)
            c->tls_cert = v;
        else if (strcmp(name, "tls-key") == 0)
            c->tls_key = v;
        else if (strcmp(name, "match-dir") == 0)
            c->match_dir = v;
        else
            c->port_file = v;
        return WARD_OK;
    case K_LISTEN:
        return set_listen(c, v, err, errlen);
    case K_PWHASH:
        if (strcmp(v, "interactive") == 0)
            a->pwhash = ward_pwhash_cost_default();
        else if (strcmp(v, "moderate") == 0)
            a->pwhash = ward_pwhash_cost_moderate();
        else if (strcmp(v, "min") == 0)
            a->pwhash = ward_pwhash_cost_min(); /* the log warns */
        else
            return fail(err, errlen,
                        "--pwhash '%.64s': interactive, moderate or min", v);
        return WARD_OK;
    case K_SIZE:
        if (parse_scaled(v, size_units, &x) || x < 1 || x > 1e12 ||
            x != (double)(uint64_t)x)
            return fail(err, errlen,
                        "--%s '%.64s': a size in bytes, like 65536 or 64KiB",
                        name, v);
        break;
    case K_COUNT:
        if (parse_scaled(v, plain_units, &x) || x < 1 || x > 1e9 ||
            x != (double)(uint64_t)x)
            return fail(err, errlen, "--%s '%.64s': a whole number from 1",
                        name, v);
        break;
    case K_DURATION:
        if (parse_scaled(v, duration_units, &x) || x < 1 || x > 3.2e12)
            return fail(err, errlen,
                        "--%s '%.64s': a duration with a unit, like 500ms, "
                        "90s, 12h or 30d",
                        name, v);
        break;
    case K_RATE:
        if (parse_scaled(v, plain_units, &x) || x <= 0 || x > 1e9)
            return fail(err, errlen, "--%s '%.64s': a positive number", name,
                        v);
        break;
    }
    if (strcmp(name, "max-body") == 0)
        a->max_body = (size_t)x;
    else if (strcmp(name, "max-message") == 0)
        a->max_message = (size_t)x;
    else if (strcmp(name, "max-attachment") == 0)
        a->max_attachment = (uint64_t)x;
    else if (strcmp(name, "max-queue") == 0)
        a->max_queue = (size_t)x;
    else if (strcmp(name, "max-group-members") == 0)
        a->max_group_members = x > 100000 ? 100000 : (size_t)x;
    else if (strcmp(name, "max-prekeys") == 0)
        a->max_prekeys = (size_t)x;
    else if (strcmp(name, "prekeys-low") == 0)
        a->prekeys_low = (size_t)x;
    else if (strcmp(name, "pwhash-threads") == 0)
        a->pwhash_threads = x > 64 ? 64 : (unsigned)x;
    else if (strcmp(name, "token-ttl") == 0)
        a->token_ttl_ms = (int64_t)x;
    else if (strcmp(name, "attachment-ttl") == 0)
        a->attachment_ttl_ms = (int64_t)x;
    else if (strcmp(name, "shutdown-grace") == 0)
        c->shutdown_grace_ms = x > 600000 ? 600000 : (int)x;
    else if (strcmp(name, "login-per-minute") == 0)
        a->login_per_minute = x;
    else if (strcmp(name, "login-burst") == 0)
        a->login_burst = x;
    else if (strcmp(name, "register-per-minute") == 0)
        a->register_per_minute = x;
    else if (strcmp(name, "register-burst") == 0)
        a->register_burst = x;
    else if (strcmp(name, "send-per-minute") == 0)
        a->send_per_minute = x;
    else if (strcmp(name, "send-burst") == 0)
        a->send_burst = x;
    else if (strcmp(name, "upload-per-minute") == 0)
        a->upload_per_minute = x;
    else if (strcmp(name, "upload-burst") == 0)
        a->upload_burst = x;
    else if (strcmp(name, "franking-rotate") == 0)
        c->franking_rotate_ms = (int64_t)x;
    else if (strcmp(name, "franking-retain") == 0)
        c->franking_retain_ms = (int64_t)x;
    else if (strcmp(name, "suspicious-window") == 0)
        a->suspicious_window_ms = (int64_t)x;
    else if (strcmp(name, "suspicious-signals") == 0)
        a->suspicious_signals = (size_t)x;
    else if (strcmp(name, "report-per-minute") == 0)
        a->report_per_minute = x;
    else if (strcmp(name, "report-burst") == 0)
        a->report_burst = x;
    else if (strcmp(name, "group-per-minute") == 0)
        a->group_per_minute = x;
    else if (strcmp(name, "group-burst") == 0)
        a->group_burst = x;
    else if (strcmp(name, "max-suggestions") == 0)
        a->max_suggestions = x > 1000 ? 1000 : (size_t)x;
    return WARD_OK;
}

ward_err ward_serve_config_check(const ward_serve_config *c, char *err,
                                 size_t errlen)
{
    if (!c->tls_cert != !c->tls_key)
        return fail(err, errlen, "--tls-cert and --tls-key go together");
    /* A message travels base64 in a JSON body. */
    if (c->api.max_message / 3 * 4 + 1024 > c->api.max_body)
        return fail(err, errlen,
                    "--max-body must hold a base64 message: at least 4/3 "
                    "of --max-message plus 1KiB");
    return WARD_OK;
}

static char *trim(char *s, char *end)
{
    while (s < end && isspace((unsigned char)*s))
        s++;
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    *end = 0;
    return s;
}

ward_err ward_serve_config_parse(const char *text, size_t n,
                                 ward_err (*fn)(void *ctx, const char *key,
                                                const char *value),
                                 void *ctx, int *line_out, char *err,
                                 size_t errlen)
{
    int line = 0;
    const char *p = text, *end = text + n;
    char buf[WARD_SERVE_CONFIG_LINE_MAX + 1]; /* one line, NUL-ended */
    if (err && errlen)
        err[0] = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        size_t len = (size_t)(eol - p);
        line++;
        if (line_out)
            *line_out = line;
        if (len > WARD_SERVE_CONFIG_LINE_MAX)
            return fail(err, errlen, "line too long");
        if (memchr(p, 0, len))
            return fail(err, errlen, "a NUL byte");
        memcpy(buf, p, len);
        char *s = trim(buf, buf + len);
        p = nl ? nl + 1 : end;
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq)
            return fail(err, errlen, "expected 'key = value'");
        *eq = 0;
        char *key = trim(s, eq), *value = trim(eq + 1, eq + 1 + strlen(eq + 1));
        for (char *k = key; *k; k++)
            if (*k == '_')
                *k = '-';
        if (!ward_serve_config_known(key))
            return fail(err, errlen, "unknown key '%.64s'", key);
        if (!*value)
            return fail(err, errlen, "'%.64s' needs a value", key);
        ward_err e = fn(ctx, key, value);
        if (e) {
            /* |fn| may have said why itself; if not, say where. */
            if (err && errlen && !err[0])
                snprintf(err, errlen, "'%.64s' was refused", key);
            return e;
        }
    }
    return WARD_OK;
}
