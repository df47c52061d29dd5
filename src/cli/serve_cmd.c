/* `ward serve`: options and the config file, then the server (serve.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/serve.h"
#include "cli.h"

/* Every setting, on the command line (--name VALUE) or in the config file
 * (name = VALUE). The values are kept as text until the end, so the
 * command line can override the file before anything is parsed. */
enum opt_kind { O_STR, O_SIZE, O_COUNT, O_DURATION, O_RATE, O_PWHASH };

static const struct opt_def {
    const char *name;
    enum opt_kind kind;
} opt_defs[] = {
    {"data", O_STR},
    {"listen", O_STR},
    {"tls-cert", O_STR},
    {"tls-key", O_STR},
    {"port-file", O_STR},
    {"max-body", O_SIZE},
    {"max-message", O_SIZE},
    {"max-attachment", O_SIZE},
    {"max-queue", O_COUNT},
    {"max-prekeys", O_COUNT},
    {"prekeys-low", O_COUNT},
    {"token-ttl", O_DURATION},
    {"attachment-ttl", O_DURATION},
    {"shutdown-grace", O_DURATION},
    {"login-per-minute", O_RATE},
    {"login-burst", O_RATE},
    {"register-per-minute", O_RATE},
    {"register-burst", O_RATE},
    {"send-per-minute", O_RATE},
    {"send-burst", O_RATE},
    {"pwhash", O_PWHASH},
    {"pwhash-threads", O_COUNT},
};
#define N_OPTS (sizeof opt_defs / sizeof opt_defs[0])

typedef struct serve_opts {
    char *val[N_OPTS];
} serve_opts;

static void opts_free(serve_opts *o)
{
    for (size_t i = 0; i < N_OPTS; i++)
        free(o->val[i]);
}

/* The slot of option |name| (without "--"), or NULL. */
static char **opt_slot(serve_opts *o, const char *name)
{
    for (size_t i = 0; i < N_OPTS; i++)
        if (strcmp(name, opt_defs[i].name) == 0)
            return &o->val[i];
    return NULL;
}

static const char *opt_get(const serve_opts *o, const char *name)
{
    return opt_slot((serve_opts *)o, name) ? *opt_slot((serve_opts *)o, name)
                                           : NULL;
}

static int opt_set(char **slot, const char *value)
{
    char *v = strdup(value);
    if (!v) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    free(*slot);
    *slot = v;
    return CLI_OK;
}

/* A whole decimal number with an optional unit from |units| (each a
 * suffix and its multiplier); "" is the plain number's unit. */
struct unit {
    const char *suffix;
    double mult;
};

static int parse_scaled(const char *s, const struct unit *units, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v >= 0) || v > 1e15)
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

/* Parses one setting into |cfg|. */
static int apply_opt(ward_serve_config *cfg, const char *name,
                     const char *v)
{
    const struct opt_def *d = NULL;
    for (size_t i = 0; i < N_OPTS; i++)
        if (strcmp(opt_defs[i].name, name) == 0)
            d = &opt_defs[i];
    ward_api_config *a = &cfg->api;
    double x = 0;
    switch (d->kind) {
    case O_STR:
        return CLI_OK; /* handled by the caller */
    case O_SIZE:
        if (parse_scaled(v, size_units, &x) || x < 1 || x != (uint64_t)x) {
            cli_error("--%s '%s': a size in bytes, like 65536 or 64KiB",
                      name, v);
            return CLI_USAGE;
        }
        break;
    case O_COUNT:
        if (parse_scaled(v, plain_units, &x) || x < 1 || x > 1e9 ||
            x != (uint64_t)x) {
            cli_error("--%s '%s': a whole number from 1", name, v);
            return CLI_USAGE;
        }
        break;
    case O_DURATION:
        if (parse_scaled(v, duration_units, &x) || x < 1 || x > 3.2e12) {
            cli_error("--%s '%s': a duration with a unit, like 500ms, 90s, "
                      "12h or 30d",
                      name, v);
            return CLI_USAGE;
        }
        break;
    case O_RATE:
        if (parse_scaled(v, plain_units, &x) || x <= 0) {
            cli_error("--%s '%s': a positive number", name, v);
            return CLI_USAGE;
        }
        break;
    case O_PWHASH:
        if (strcmp(v, "interactive") == 0) {
            a->pwhash = ward_pwhash_cost_default();
        } else if (strcmp(v, "moderate") == 0) {
            a->pwhash = ward_pwhash_cost_moderate();
        } else if (strcmp(v, "min") == 0) {
            /* For tests and benchmarks only: the log says so. */
            a->pwhash = ward_pwhash_cost_min();
        } else {
            cli_error("--pwhash '%s': interactive, moderate or min", v);
            return CLI_USAGE;
        }
        return CLI_OK;
    }
    if (strcmp(name, "max-body") == 0)
        a->max_body = (size_t)x;
    else if (strcmp(name, "max-message") == 0)
        a->max_message = (size_t)x;
    else if (strcmp(name, "max-attachment") == 0)
        a->max_attachment = (uint64_t)x;
    else if (strcmp(name, "max-queue") == 0)
        a->max_queue = (size_t)x;
    else if (strcmp(name, "max-prekeys") == 0)
        a->max_prekeys = (size_t)x;
    else if (strcmp(name, "pwhash-threads") == 0)
        a->pwhash_threads = x > 64 ? 64 : (unsigned)x;
    else if (strcmp(name, "prekeys-low") == 0)
        a->prekeys_low = (size_t)x;
    else if (strcmp(name, "token-ttl") == 0)
        a->token_ttl_ms = (int64_t)x;
    else if (strcmp(name, "attachment-ttl") == 0)
        a->attachment_ttl_ms = (int64_t)x;
    else if (strcmp(name, "shutdown-grace") == 0)
        cfg->shutdown_grace_ms = x > 600000 ? 600000 : (int)x;
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
    return CLI_OK;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

/* "key = value" lines; '#' starts a comment line. Keys are the long
 * options' names ("data", "listen", ...); '_' may stand for '-'. */
static int read_config(const char *path, serve_opts *o)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_error("cannot read config '%s': %s", path, strerror(errno));
        return CLI_FAIL;
    }
    char line[4096];
    int lineno = 0, rc = CLI_OK;
    while (rc == CLI_OK && fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            cli_error("%s:%d: line too long", path, lineno);
            rc = CLI_USAGE;
            break;
        }
        char *p = trim(line);
        if (!*p || *p == '#')
            continue;
        char *eq = strchr(p, '=');
        if (!eq) {
            cli_error("%s:%d: expected 'key = value'", path, lineno);
            rc = CLI_USAGE;
            break;
        }
        *eq = 0;
        char *key = trim(p), *value = trim(eq + 1);
        for (char *k = key; *k; k++)
            if (*k == '_')
                *k = '-';
        char **slot = opt_slot(o, key);
        if (!slot) {
            cli_error("%s:%d: unknown key '%s'", path, lineno, key);
            rc = CLI_USAGE;
        } else if (!*value) {
            cli_error("%s:%d: '%s' needs a value", path, lineno, key);
            rc = CLI_USAGE;
        } else {
            rc = opt_set(slot, value);
        }
    }
    if (rc == CLI_OK && ferror(f)) {
        cli_error("cannot read config '%s'", path);
        rc = CLI_FAIL;
    }
    fclose(f);
    return rc;
}

/* "ADDR:PORT" into |addr| (|n| bytes) and |port|. */
static int parse_listen(const char *s, char *addr, size_t n, int *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || (size_t)(colon - s) >= n || !colon[1]) {
        cli_error("--listen wants ADDR:PORT, like 127.0.0.1:8080, not '%s'",
                  s);
        return -1;
    }
    if (s[0] == '[' || memchr(s, ':', (size_t)(colon - s))) {
        cli_error("--listen '%s': only IPv4 addresses are supported", s);
        return -1;
    }
    long v = 0;
    for (const char *p = colon + 1; *p; p++) {
        if (!isdigit((unsigned char)*p) || (v = v * 10 + (*p - '0')) > 65535) {
            cli_error("--listen '%s': the port is 0 to 65535", s);
            return -1;
        }
    }
    memcpy(addr, s, (size_t)(colon - s));
    addr[colon - s] = 0;
    *port = (int)v;
    return 0;
}

/* The command line: --opt VALUE or --opt=VALUE. |config| gets --config's
 * value; the other options go into |o|. */
static int parse_args(int argc, char **argv, serve_opts *o,
                      const char **config)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            cli_error("serve takes no arguments, only options: '%s'", a);
            return CLI_USAGE;
        }
        char name[32];
        const char *value = NULL, *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        if (len - 2 >= sizeof name) {
            cli_error("unknown option '%s'; see 'ward help serve'", a);
            return CLI_USAGE;
        }
        memcpy(name, a + 2, len - 2);
        name[len - 2] = 0;
        char **slot = opt_slot(o, name);
        if (!slot && strcmp(name, "config") != 0) {
            cli_error("unknown option '--%s'; see 'ward help serve'", name);
            return CLI_USAGE;
        }
        if (eq)
            value = eq + 1;
        else if (i + 1 < argc)
            value = argv[++i];
        if (!value || !*value) {
            cli_error("option '--%s' needs a value", name);
            return CLI_USAGE;
        }
        if (!slot)
            *config = value;
        else if (opt_set(slot, value) != CLI_OK)
            return CLI_FAIL;
    }
    return CLI_OK;
}

int cli_serve(int argc, char **argv)
{
    serve_opts file = {0}, cmd = {0};
    const char *config = NULL;
    int rc = parse_args(argc, argv, &cmd, &config);
    if (rc == CLI_OK && config)
        rc = read_config(config, &file);
    /* The command line overrides the file. */
    for (size_t i = 0; rc == CLI_OK && i < N_OPTS; i++)
        if (cmd.val[i]) {
            free(file.val[i]);
            file.val[i] = cmd.val[i];
            cmd.val[i] = NULL;
        }

    ward_serve_config cfg;
    ward_serve_config_defaults(&cfg);
    for (size_t i = 0; rc == CLI_OK && i < N_OPTS; i++)
        if (file.val[i])
            rc = apply_opt(&cfg, opt_defs[i].name, file.val[i]);
    char addr[256];
    const char *listen = opt_get(&file, "listen");
    if (rc == CLI_OK && listen) {
        if (parse_listen(listen, addr, sizeof addr, &cfg.port))
            rc = CLI_USAGE;
        else
            cfg.listen_addr = addr;
    }
    const char *cert = opt_get(&file, "tls-cert"),
               *key = opt_get(&file, "tls-key");
    if (rc == CLI_OK && !cert != !key) {
        cli_error("--tls-cert and --tls-key go together");
        rc = CLI_USAGE;
    }
    /* A message travels base64 in a JSON body. */
    if (rc == CLI_OK &&
        cfg.api.max_message / 3 * 4 + 1024 > cfg.api.max_body) {
        cli_error("--max-body must hold a base64 message: at least 4/3 of "
                  "--max-message plus 1KiB");
        rc = CLI_USAGE;
    }
    if (rc == CLI_OK) {
        if (opt_get(&file, "data"))
            cfg.data_dir = opt_get(&file, "data");
        cfg.tls_cert = cert;
        cfg.tls_key = key;
        cfg.port_file = opt_get(&file, "port-file");
        ward_err e = ward_serve_run(&cfg);
        if (e) {
            cli_error("serve failed: %s", ward_strerror(e));
            rc = CLI_FAIL;
        }
    }
    opts_free(&file);
    opts_free(&cmd);
    return rc;
}
