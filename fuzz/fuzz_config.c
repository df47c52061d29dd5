/*
 * `ward serve`'s config file parser and settings (server/config.c): any
 * text gives either settings that pass the checks or an error with a
 * message, and never a setting outside its range.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "serve.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

static ward_err apply(void *ctx, const char *key, const char *value)
{
    char err[256];
    /* Path values point into the parser's line buffer and dangle after
     * the call: the checks below only look at whether they are set. */
    return ward_serve_config_set(ctx, key, value, err, sizeof err);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    static const char seed_text[] =
        "# ward serve settings\n"
        "data = /var/lib/ward\n"
        "listen = 0.0.0.0:8443\n"
        "tls_cert = /etc/ward/cert.pem\n"
        "tls_key = /etc/ward/key.pem\n"
        "max-body = 256KiB\nmax-message = 64KiB\nmax-attachment = 100MiB\n"
        "max-queue = 10000\ntoken-ttl = 30d\nattachment-ttl = 720h\n"
        "shutdown-grace = 3s\nlogin-per-minute = 5\nlogin-burst = 10\n"
        "pwhash = interactive\npwhash-threads = 2\n";
    fuzz_write_seed("full", (const uint8_t *)seed_text, sizeof seed_text - 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    if (n > 65536)
        return 0;
    /* An exact-size copy: the parser must not read or write past |n|. */
    char *text = malloc(n ? n : 1);
    if (!text)
        return 0;
    memcpy(text, p, n);
    ward_serve_config c;
    ward_serve_config_defaults(&c);
    char err[256] = "";
    int line = 0;
    ward_err e = ward_serve_config_parse(text, n, apply, &c, &line, err,
                                         sizeof err);
    if (e)
        FUZZ_ASSERT(err[0] != 0 || e != WARD_ERR_INVALID_ARG);
    if (!e && !ward_serve_config_check(&c, err, sizeof err)) {
        FUZZ_ASSERT(c.port >= 0 && c.port <= 65535);
        FUZZ_ASSERT(c.api.max_body >= 1 && c.api.max_queue >= 1);
        FUZZ_ASSERT(c.shutdown_grace_ms >= 0 && c.shutdown_grace_ms <= 600000);
        FUZZ_ASSERT(c.api.pwhash_threads <= 64);
        FUZZ_ASSERT(!c.tls_cert == !c.tls_key);
    }
    free(text);
    return 0;
}
