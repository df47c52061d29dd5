/* `ward serve`: options and the config file, then the server (serve.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/serve.h"
#include "cli.h"

/* Every option's value, from the config file and then the command line
 * (which wins). Strings are owned here. */
typedef struct serve_opts {
    char *data, *listen, *tls_cert, *tls_key, *port_file;
} serve_opts;

static void opts_free(serve_opts *o)
{
    free(o->data);
    free(o->listen);
    free(o->tls_cert);
    free(o->tls_key);
    free(o->port_file);
}

/* The slot of option |name| (without "--"), or NULL. */
static char **opt_slot(serve_opts *o, const char *name)
{
    if (strcmp(name, "data") == 0)
        return &o->data;
    if (strcmp(name, "listen") == 0)
        return &o->listen;
    if (strcmp(name, "tls-cert") == 0)
        return &o->tls_cert;
    if (strcmp(name, "tls-key") == 0)
        return &o->tls_key;
    if (strcmp(name, "port-file") == 0)
        return &o->port_file;
    return NULL;
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
    char **fs[] = {&file.data, &file.listen, &file.tls_cert, &file.tls_key,
                   &file.port_file};
    char **cs[] = {&cmd.data, &cmd.listen, &cmd.tls_cert, &cmd.tls_key,
                   &cmd.port_file};
    for (size_t i = 0; rc == CLI_OK && i < sizeof fs / sizeof fs[0]; i++)
        if (*cs[i]) {
            free(*fs[i]);
            *fs[i] = *cs[i];
            *cs[i] = NULL;
        }

    ward_serve_config cfg;
    ward_serve_config_defaults(&cfg);
    char addr[256];
    if (rc == CLI_OK && file.listen) {
        if (parse_listen(file.listen, addr, sizeof addr, &cfg.port))
            rc = CLI_USAGE;
        else
            cfg.listen_addr = addr;
    }
    if (rc == CLI_OK && !file.tls_cert != !file.tls_key) {
        cli_error("--tls-cert and --tls-key go together");
        rc = CLI_USAGE;
    }
    if (rc == CLI_OK) {
        if (file.data)
            cfg.data_dir = file.data;
        cfg.tls_cert = file.tls_cert;
        cfg.tls_key = file.tls_key;
        cfg.port_file = file.port_file;
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
