/* `ward serve`: the command line and the config file (parsed by the
 * server's config.c), then the server (serve.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/serve.h"
#include "cli.h"

#define CONFIG_MAX (1u << 20)

/* Settings as text, in the order they were given; owned here, since the
 * config points at path values. */
typedef struct settings {
    struct {
        char *key, *value;
    } *v;
    size_t n, cap;
} settings;

static ward_err add(void *ctx, const char *key, const char *value)
{
    settings *s = ctx;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        void *v = realloc(s->v, cap * sizeof *s->v);
        if (!v)
            return WARD_ERR_NOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n].key = strdup(key);
    s->v[s->n].value = strdup(value);
    if (!s->v[s->n].key || !s->v[s->n].value) {
        free(s->v[s->n].key);
        free(s->v[s->n].value);
        return WARD_ERR_NOMEM;
    }
    s->n++;
    return WARD_OK;
}

static void settings_free(settings *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].key);
        free(s->v[i].value);
    }
    free(s->v);
}

/* The command line: --name VALUE or --name=VALUE. |config| gets
 * --config's value. */
static int parse_args(int argc, char **argv, settings *s,
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
        int is_config = strcmp(name, "config") == 0;
        if (!is_config && !ward_serve_config_known(name)) {
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
        if (is_config)
            *config = value;
        else if (add(s, name, value)) {
            cli_error("out of memory");
            return CLI_FAIL;
        }
    }
    return CLI_OK;
}

static int read_config(const char *path, settings *s)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_error("cannot read config '%s': %s", path, strerror(errno));
        return CLI_FAIL;
    }
    char *text = malloc(CONFIG_MAX + 1);
    size_t n = text ? fread(text, 1, CONFIG_MAX + 1, f) : 0;
    int bad = !text || ferror(f);
    fclose(f);
    if (bad || n > CONFIG_MAX) {
        cli_error(bad ? "cannot read config '%s'"
                      : "config '%s' is larger than 1 MiB",
                  path);
        free(text);
        return CLI_FAIL;
    }
    char err[256] = "";
    int line = 0;
    ward_err e = ward_serve_config_parse(text, n, add, s, &line, err,
                                         sizeof err);
    free(text);
    if (e == WARD_ERR_NOMEM) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    if (e) {
        cli_error("%s:%d: %s", path, line, err);
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* Applies |s| in order (a later setting wins). */
static int apply(ward_serve_config *cfg, const settings *s, const char *from)
{
    char err[256];
    for (size_t i = 0; i < s->n; i++)
        if (ward_serve_config_set(cfg, s->v[i].key, s->v[i].value, err,
                                  sizeof err)) {
            if (from)
                cli_error("%s: %s", from, err);
            else
                cli_error("%s", err);
            return CLI_USAGE;
        }
    return CLI_OK;
}

int cli_serve(int argc, char **argv)
{
    settings file = {0}, cmd = {0};
    const char *config = NULL;
    char err[256];
    ward_serve_config cfg;
    ward_serve_config_defaults(&cfg);
    int rc = parse_args(argc, argv, &cmd, &config);
    if (rc == CLI_OK && config)
        rc = read_config(config, &file);
    /* The file first, then the command line, which wins. */
    if (rc == CLI_OK)
        rc = apply(&cfg, &file, config);
    if (rc == CLI_OK)
        rc = apply(&cfg, &cmd, NULL);
    if (rc == CLI_OK && ward_serve_config_check(&cfg, err, sizeof err)) {
        cli_error("%s", err);
        rc = CLI_USAGE;
    }
    if (rc == CLI_OK) {
        ward_err e = ward_serve_run(&cfg);
        if (e) {
            cli_error("serve failed: %s", ward_strerror(e));
            rc = CLI_FAIL;
        }
    }
    settings_free(&file);
    settings_free(&cmd);
    return rc;
}
