/*
 * `ward serve`: the network transport of the API (api.h) on libwebsockets.
 *
 * HTTP/1.1 (TLS when a certificate and key are configured) carries the
 * JSON API, GET /metrics (Prometheus text) and the WebSocket protocol
 * "ward.v1" on /v1/ws, which pushes each account's messages to every
 * session it has open. One thread runs the event loop (libev, epoll);
 * password hashing runs on worker threads. Sends and acknowledgements
 * that arrive in one pass of the loop are committed together
 * (ward_api_flush).
 * Each HTTP connection carries one request (Connection: close: lws 4.1.6
 * cannot be trusted with pipelined requests, see serve_http.c). Logs are
 * JSON lines on stderr.
 */
#ifndef WARD_SERVER_SERVE_H
#define WARD_SERVER_SERVE_H

#include "api.h"
#include "ward/err.h"

typedef struct ward_serve_config {
    const char *listen_addr; /* IPv4 address or host name; "127.0.0.1" */
    char listen_buf[256];    /* where "listen" puts the address */
    int port;                /* 0: the kernel picks a free one */
    const char *data_dir;    /* created 0700 if missing; holds ward.db */
    const char *tls_cert;    /* PEM files; both or neither (NULL) */
    const char *tls_key;
    const char *port_file;   /* if set, the bound port is written there
                                once the server listens (for tests) */
    const char *match_dir;   /* hash lists (ward list) that the images the
                                server sees are checked against; NULL:
                                none */
    int shutdown_grace_ms;   /* SIGTERM: how long to drain before closing
                                whatever is left */
    int64_t franking_rotate_ms; /* a new franking key after this long */
    int64_t franking_retain_ms; /* an old key verifies this long after it
                                   was replaced */
    ward_api_config api;
} ward_serve_config;

/* 127.0.0.1:8080, ./ward-data, no TLS, 3 s grace, the API's defaults. */
void ward_serve_config_defaults(ward_serve_config *c);

/*
 * Settings by name, as `ward serve --NAME VALUE` and the config file's
 * "NAME = VALUE" lines give them (see `ward help serve`): sizes take B,
 * KiB, MiB, GiB; durations ms, s, m, h, d. WARD_ERR_INVALID_ARG with a
 * sentence in |err| for an unknown name or a bad value. Paths are kept as
 * pointers: |value| must outlive |c|.
 */
int ward_serve_config_known(const char *name);
ward_err ward_serve_config_set(ward_serve_config *c, const char *name,
                               const char *value, char *err, size_t errlen);
/* The checks across settings (a TLS pair, a body that holds a message). */
ward_err ward_serve_config_check(const ward_serve_config *c, char *err,
                                 size_t errlen);

/*
 * A config file's text (|n| bytes): "key = value" lines, '#' comments,
 * blank lines; '_' may stand for '-' in keys. Calls |fn| for each setting
 * in order (|key| and |value| last only during the call: copy what must
 * stay) and stops at its first error. On a
 * malformed line WARD_ERR_INVALID_ARG, |*line| its number and |err| why.
 */
#define WARD_SERVE_CONFIG_LINE_MAX 4096
ward_err ward_serve_config_parse(const char *text, size_t n,
                                 ward_err (*fn)(void *ctx, const char *key,
                                                const char *value),
                                 void *ctx, int *line, char *err,
                                 size_t errlen);

/*
 * Runs the server until SIGTERM or SIGINT, then stops accepting, finishes
 * the responses in flight and the pending group commit, closes WebSocket
 * sessions with 1001 and returns WARD_OK. A second signal, or the grace
 * period running out, closes what is left at once.
 *
 * Fails before serving with WARD_ERR_INVALID_ARG (a bad address, port or
 * half a TLS pair), WARD_ERR_IO (the data directory, the listen socket or
 * the port file), a store error from opening DIR/ward.db, or
 * WARD_ERR_INTERNAL (libwebsockets refused its set-up, e.g. unreadable
 * TLS files). The reason is logged on stderr as a JSON line.
 *
 * SIGTERM and SIGINT are blocked in the calling thread while it runs (they
 * arrive through a signalfd) and unblocked again on return.
 */
ward_err ward_serve_run(const ward_serve_config *cfg);

#endif
