/* `ward serve`'s settings and config file parser (server/config.c). */
#include <string.h>

#include "../../src/server/serve.h"
#include "wtest.h"

static ward_serve_config cfg;
static char err[256];

static ward_err set(const char *name, const char *value)
{
    err[0] = 0;
    return ward_serve_config_set(&cfg, name, value, err, sizeof err);
}

static void test_units(void)
{
    ward_serve_config_defaults(&cfg);
    CHECK_EQ_INT(set("max-body", "65536"), WARD_OK);
    CHECK(cfg.api.max_body == 65536);
    CHECK_EQ_INT(set("max-body", "64KiB"), WARD_OK);
    CHECK(cfg.api.max_body == 65536);
    CHECK_EQ_INT(set("max-attachment", "1.5 MiB"), WARD_OK);
    CHECK(cfg.api.max_attachment == 1572864);
    CHECK_EQ_INT(set("max-attachment", "2GiB"), WARD_OK);
    CHECK(cfg.api.max_attachment == 2147483648ULL);
    CHECK_EQ_INT(set("token-ttl", "30d"), WARD_OK);
    CHECK(cfg.api.token_ttl_ms == 2592000000LL);
    CHECK_EQ_INT(set("token-ttl", "90s"), WARD_OK);
    CHECK(cfg.api.token_ttl_ms == 90000);
    CHECK_EQ_INT(set("attachment-ttl", "12h"), WARD_OK);
    CHECK(cfg.api.attachment_ttl_ms == 43200000);
    CHECK_EQ_INT(set("shutdown-grace", "500ms"), WARD_OK);
    CHECK(cfg.shutdown_grace_ms == 500);
    CHECK_EQ_INT(set("login-per-minute", "0.5"), WARD_OK);
    CHECK(cfg.api.login_per_minute == 0.5);
    CHECK_EQ_INT(set("pwhash-threads", "4"), WARD_OK);
    CHECK(cfg.api.pwhash_threads == 4);
    CHECK(cfg.api.max_group_members == 1000); /* the default */
    CHECK_EQ_INT(set("max-group-members", "256"), WARD_OK);
    CHECK(cfg.api.max_group_members == 256);
    CHECK_EQ_INT(set("max-group-members", "1e9"), WARD_OK);
    CHECK(cfg.api.max_group_members == 100000);
    CHECK(set("max-group-members", "0") != WARD_OK);
    CHECK(cfg.api.group_burst == 60 && cfg.api.group_per_minute == 30);
    CHECK_EQ_INT(set("group-per-minute", "2.5"), WARD_OK);
    CHECK_EQ_INT(set("group-burst", "7"), WARD_OK);
    CHECK(cfg.api.group_per_minute == 2.5 && cfg.api.group_burst == 7);
    CHECK_EQ_INT(set("listen", "0.0.0.0:8443"), WARD_OK);
    CHECK(strcmp(cfg.listen_addr, "0.0.0.0") == 0 && cfg.port == 8443);
}

static void test_refusals(void)
{
    static const char *const bad[][2] = {
        {"max-body", "0"},        {"max-body", "1.5"},
        {"max-body", "64kb"},     {"max-body", "-1"},
        {"max-body", " 5"},       {"max-queue", "1e12"},
        {"max-queue", "10x"},     {"token-ttl", "30"},
        {"token-ttl", "0s"},      {"token-ttl", "nan"},
        {"login-burst", "0"},     {"login-burst", "inf"},
        {"pwhash", "weak"},       {"listen", "8080"},
        {"listen", "[::1]:8080"}, {"listen", "1.2.3.4:65536"},
        {"listen", ":80"},        {"colour", "blue"},
        {"data", ""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ward_serve_config_defaults(&cfg);
        ward_serve_config before = cfg;
        CHECK_EQ_INT(set(bad[i][0], bad[i][1]), WARD_ERR_INVALID_ARG);
        CHECK(err[0] != 0);
        /* refused: nothing changed */
        CHECK(memcmp(&before, &cfg, sizeof cfg) == 0);
    }
}

static void test_checks(void)
{
    ward_serve_config_defaults(&cfg);
    CHECK_EQ_INT(ward_serve_config_check(&cfg, err, sizeof err), WARD_OK);
    set("tls-cert", "/etc/cert.pem");
    CHECK_EQ_INT(ward_serve_config_check(&cfg, err, sizeof err),
                 WARD_ERR_INVALID_ARG);
    set("tls-key", "/etc/key.pem");
    CHECK_EQ_INT(ward_serve_config_check(&cfg, err, sizeof err), WARD_OK);
    /* a 1 MiB message does not fit base64 in a 256 KiB body */
    set("max-message", "1MiB");
    CHECK_EQ_INT(ward_serve_config_check(&cfg, err, sizeof err),
                 WARD_ERR_INVALID_ARG);
    set("max-body", "2MiB");
    CHECK_EQ_INT(ward_serve_config_check(&cfg, err, sizeof err), WARD_OK);
}

typedef struct seen {
    char keys[8][32], values[8][64];
    int n;
} seen;

static ward_err collect(void *ctx, const char *key, const char *value)
{
    seen *s = ctx;
    if (s->n == 8)
        return WARD_ERR_LIMIT;
    snprintf(s->keys[s->n], sizeof s->keys[0], "%s", key);
    snprintf(s->values[s->n], sizeof s->values[0], "%s", value);
    s->n++;
    return WARD_OK;
}

static ward_err parse(const char *text, seen *s, int *line)
{
    static char buf[8192];
    size_t n = strlen(text);
    memcpy(buf, text, n + 1);
    memset(s, 0, sizeof *s);
    *line = 0;
    err[0] = 0;
    return ward_serve_config_parse(buf, n, collect, s, line, err, sizeof err);
}

static void test_file(void)
{
    seen s;
    int line;
    CHECK_EQ_INT(parse("# a comment\n\n  data = /var/lib/ward  \n"
                       "max_body=64KiB\r\nlisten = 0.0.0.0:80",
                       &s, &line),
                 WARD_OK);
    CHECK_EQ_INT(s.n, 3);
    CHECK(strcmp(s.keys[0], "data") == 0 &&
          strcmp(s.values[0], "/var/lib/ward") == 0);
    CHECK(strcmp(s.keys[1], "max-body") == 0 &&
          strcmp(s.values[1], "64KiB") == 0);
    CHECK(strcmp(s.keys[2], "listen") == 0 &&
          strcmp(s.values[2], "0.0.0.0:80") == 0);

    CHECK_EQ_INT(parse("data = x\nno equals sign\n", &s, &line),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(line, 2);
    CHECK(strstr(err, "key = value") != NULL);
    CHECK_EQ_INT(parse("\n\ncolour = blue\n", &s, &line),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(line, 3);
    CHECK(strstr(err, "colour") != NULL);
    CHECK_EQ_INT(parse("data =\n", &s, &line), WARD_ERR_INVALID_ARG);
    CHECK(strstr(err, "needs a value") != NULL);
    static char longline[6000];
    memset(longline, 'a', sizeof longline - 1);
    memcpy(longline, "data=", 5);
    CHECK_EQ_INT(parse(longline, &s, &line), WARD_ERR_INVALID_ARG);
    CHECK(strstr(err, "too long") != NULL);
    /* the callback's refusal stops the parse, with a message */
    CHECK_EQ_INT(parse("data=1\ndata=2\ndata=3\ndata=4\ndata=5\ndata=6\n"
                       "data=7\ndata=8\ndata=9\n",
                       &s, &line),
                 WARD_ERR_LIMIT);
    CHECK_EQ_INT(line, 9);
    CHECK(err[0] != 0);
}

int main(void)
{
    test_units();
    test_refusals();
    test_checks();
    test_file();
    return wtest_done("test_config");
}
