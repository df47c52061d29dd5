/*
 * serve_load: a load generator for `ward serve` (see serve_load.c).
 *
 * serve_load_net.c is its network layer: one epoll loop driving many
 * client connections to one server on loopback, each either a one-shot
 * HTTP/1.1 request (the server answers every request with
 * "Connection: close") or a ward.v1 WebSocket session. Everything runs on
 * the calling thread; the callbacks below are implemented by
 * serve_load.c and are called from lg_poll().
 */
#ifndef WARD_BENCH_SERVE_LOAD_H
#define WARD_BENCH_SERVE_LOAD_H

#include <stddef.h>
#include <stdint.h>

typedef struct lg_conn lg_conn;

enum lg_kind { LG_HTTP, LG_WS };

struct lg_conn {
    int fd;
    int kind;       /* enum lg_kind */
    int state;      /* private to serve_load_net.c */
    int dirty;      /* in the flush list */
    void *user;     /* the caller's, untouched */
    uint64_t tag;   /* the caller's, untouched */
    int64_t t0;     /* the caller's, untouched */
    lg_conn *next_dirty, *next_dead;
    /* bytes waiting to be written */
    unsigned char *tx;
    size_t tx_len, tx_off, tx_cap;
    /* bytes read and not yet consumed */
    unsigned char *rx;
    size_t rx_len, rx_cap;
    /* a fragmented WebSocket message being reassembled */
    unsigned char *frag;
    size_t frag_len, frag_cap;
};

/* Sets up the loop: the server at 127.0.0.1:|port|; client sockets are
 * bound in turn to 127.0.0.2 ... 127.0.0.(1+|sources|), since loopback has
 * one ephemeral port range (about 28,000 ports) per pair of addresses.
 * Exits the process on failure. */
void lg_init(int port, int sources);

/* Monotonic clock, nanoseconds. */
int64_t lg_now(void);

/* Starts a one-shot HTTP request (|token| and |body| may be NULL). The
 * answer comes through lg_on_http, and then the connection is closed and
 * freed by the loop. NULL if the socket could not be created. */
lg_conn *lg_http(const char *method, const char *path, const char *token,
                 const char *body, size_t body_len, void *user, uint64_t tag);

/* Opens a ward.v1 WebSocket session with the bearer |token|. */
lg_conn *lg_ws_open(const char *token, void *user, uint64_t tag);

/* Queues a (masked) text frame; written at the end of the loop pass. */
void lg_ws_send(lg_conn *c, const char *text, size_t len);

/* Closes at once (no closing handshake); freed after the loop pass. */
void lg_close(lg_conn *c);

/* Waits up to |timeout_ms| for events, handles them and writes what was
 * queued. Returns the number of events handled. */
int lg_poll(int timeout_ms);
/* The same with a timeout in nanoseconds (negative: none). */
int lg_poll_ns(int64_t timeout_ns);

/* Connections open now. */
size_t lg_open_conns(void);

/* ---- implemented by the caller ---- */

/* An HTTP answer: |status| (or -1 and |body| the reason on a transport
 * error, after which the connection is gone too). */
void lg_on_http(lg_conn *c, int status, const char *body, size_t len);
/* The upgrade succeeded. */
void lg_on_ws_open(lg_conn *c);
/* One complete text message. */
void lg_on_ws_text(lg_conn *c, const char *text, size_t len);
/* The session ended (refused upgrade, close frame, reset, EOF); |why|
 * says which. The connection is freed after the loop pass. */
void lg_on_ws_closed(lg_conn *c, const char *why);

#endif
