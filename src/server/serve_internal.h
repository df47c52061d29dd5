/* Private to `ward serve` (serve_*.c): the server's state, shared by the
 * HTTP and WebSocket callbacks, the logger and the metrics. Everything
 * runs on the libwebsockets loop thread. */
#ifndef WARD_SERVER_SERVE_INTERNAL_H
#define WARD_SERVER_SERVE_INTERNAL_H

#include <libwebsockets.h>
#include <jansson.h>
#include <stdint.h>

#include "api.h"
#include "blobs.h"
#include "franking_keys.h"
#include "serve.h"

#define SERVE_PATH_MAX 512   /* longer paths or queries get 414 */
#define SERVE_AUTH_MAX 256   /* a longer Authorization is invalid */
#define SERVE_COOKIE_MAX 1024 /* a longer Cookie header is ignored */
#define SERVE_CSRF_MAX 128    /* a longer X-CSRF-Token is invalid */
#define SERVE_BUCKETS 1024   /* WebSocket sessions hashed by account */
/* One client frame, reassembled, is at most the API's max_body. */
#define SERVE_WS_QUEUE_MAX (8u << 20)     /* queued bytes per session */
#define SERVE_WS_BACKLOG_LOW (256 * 1024) /* refill the backlog below this */
#define SERVE_WS_BACKLOG_PAGE 50          /* stored messages per refill */
#define SERVE_LINGER_SECS 5 /* see serve_http.linger */

/* Errors counted by kind for /metrics. */
enum serve_err_kind {
    SERR_BAD_REQUEST,     /* malformed HTTP the transport refused */
    SERR_LENGTH_REQUIRED, /* 411: no Content-Length, or chunked */
    SERR_TOO_LARGE,       /* 413 from the transport */
    SERR_UNAUTHORIZED,    /* 401 answers */
    SERR_LOGIN_REFUSED,   /* from the API's counters */
    SERR_RATE_LIMITED,
    SERR_UNAVAILABLE,     /* 503: shutting down, or the store failed */
    SERR_INTERNAL,        /* other 5xx */
    SERR_WS_UPGRADE,      /* WebSocket upgrades refused */
    SERR_WS_BAD_FRAME,    /* garbage or binary frames (connection closed) */
    SERR_WS_OVERFLOW,     /* a session too slow to keep up (closed) */
    SERR_DROPPED,         /* an answer whose connection had gone */
    SERR_ACCEPT,          /* accept() failures */
    SERR_N
};

#define SERVE_LAT_BUCKETS 13

typedef struct serve_metrics {
    uint64_t conns_accepted, conns_closed;
    uint64_t ws_opened;
    uint64_t http_requests;
    uint64_t by_class[6];     /* responses by status / 100 */
    uint64_t ws_messages_out; /* messages pushed on sessions */
    uint64_t ws_acks;
    uint64_t flushes;         /* group commits */
    uint64_t errors[SERR_N];
    uint64_t lat_bucket[SERVE_LAT_BUCKETS]; /* non-cumulative */
    uint64_t lat_count;
    double lat_sum;           /* seconds */
} serve_metrics;

typedef struct ward_serve {
    const ward_serve_config *cfg;
    struct lws_context *cx;
    struct ev_loop *loop; /* libev's, driven by serve_loop */
    struct lws_vhost *vh;
    struct lws *listen_wsi, *signal_wsi;
    int listen_fd, signal_fd, port;
    ward_store *st;
    ward_api *api;
    ward_blobs *blobs;
    ward_frank_keys *frank;
    struct ward_match_set *match; /* --match-dir, or NULL */
    char evidence_dir[4200];

    lws_dll2_owner_t parked;   /* serve_http waiting for the flush */
    lws_dll2_owner_t sessions; /* every serve_ws */
    lws_dll2_owner_t by_account[SERVE_BUCKETS];
    lws_sorted_usec_list_t sul_flush, sul_deadline, sul_accept, sul_tick;
    lws_sorted_usec_list_t sul_revalidate;
    int flush_scheduled;
    uint64_t next_req_id, next_sid, next_ws_send;
    lws_dll2_owner_t ws_sends; /* serve_ws_send waiting for the flush */
    unsigned inflight_http; /* requests read but not yet answered */
    int got_signal, shutting_down, force_exit, got_hup;
    int64_t accept_logged_us;

    serve_metrics m;
} ward_serve;

/* The HTTP protocol's per-connection state (lws zeroes it). */
enum { REQ_IDLE, REQ_BODY, REQ_PARKED, REQ_ANSWERING };

typedef struct serve_http {
    lws_dll2_t parked; /* in ward_serve.parked while REQ_PARKED */
    struct lws *wsi;
    uint64_t req_id;
    int state, active; /* active: counted in inflight_http */
    int64_t t0_us;
    const char *method;
    char path[SERVE_PATH_MAX + 1], query[SERVE_PATH_MAX + 1];
    char auth[SERVE_AUTH_MAX + 1];
    int has_query, has_auth;
    char cookie[SERVE_COOKIE_MAX + 1]; /* the console's session */
    char csrf[SERVE_CSRF_MAX + 1];
    int has_cookie, has_csrf, tls;
    char remote[64];
    ward_buf body;
    uint64_t content_length;
    /* the answer */
    int status;
    ward_buf resp;
    const char *resp_type; /* NULL: JSON */
    ward_buf resp_headers; /* as ward_http_resp.headers */
    size_t resp_off;
    int hdrs_sent;
    /* Answered before its body was read: after the answer, keep reading
     * and dropping the body for a while, since closing with unread input
     * resets the connection and the client may lose the answer. */
    int linger;
    /* POST /v1/attachments: the body goes to a file, not |body| */
    int uploading;
    ward_blob_upload up;
    int64_t up_account;
    /* GET /v1/attachments/ID: the answer comes from a file */
    int has_file, file_fd;
    uint64_t file_left;
} serve_http;

/* One frame waiting to go out on a WebSocket session. */
typedef struct serve_out {
    struct serve_out *next;
    size_t len;
    int is_message;
    unsigned char buf[]; /* LWS_PRE, then the payload */
} serve_out;

/* A send or an ack over a WebSocket, parked until the group commit. Its id goes
 * to the API as the opaque value, with SERVE_OPAQUE_WS set to tell it
 * from an HTTP request's id. The session is found again by account and
 * sid, since it may have closed meanwhile. */
#define SERVE_OPAQUE_WS ((uint64_t)(UINTPTR_MAX / 2 + 1))
typedef struct serve_ws_send {
    lws_dll2_t list;
    uint64_t id, sid;
    int64_t account;
    int64_t ref;  /* the send's ref, or the acknowledged message's id */
    int is_ack;
} serve_ws_send;

/* The ward.v1 protocol's per-session state (lws zeroes it). */
typedef struct serve_ws {
    lws_dll2_t all, bucket;
    struct lws *wsi;
    uint64_t sid;
    int64_t account;
    uint8_t token_hash[32]; /* re-checked periodically: logout, expiry and
                               account deletion end the session too */
    int established;
    serve_out *q_head, *q_tail;
    size_t q_bytes;
    uint8_t *rx;
    size_t rx_len, rx_cap;
    int backlog; /* still sending what was stored before */
    int64_t backlog_after;
    int close_code;
    char close_reason[64];
} serve_ws;

static inline ward_serve *serve_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

/* serve_log.c: JSON lines on stderr. |fields| (may be NULL) is stolen. */
void ward_serve_log(const char *level, const char *event, json_t *fields);
void ward_serve_log_lws(int level, const char *line);
/* serve_log.c: the latency histogram and the /metrics text. */
void ward_serve_observe_latency(ward_serve *s, double seconds);
void ward_serve_metrics_text(ward_serve *s, ward_buf *out);

/* serve_http.c */
int ward_serve_cb_http(struct lws *wsi, enum lws_callback_reasons reason,
                       void *user, void *in, size_t len);
void ward_serve_done(void *ctx, void *opaque, const ward_http_resp *resp);
/* Runs the group commit after this pass of the event loop. */
void ward_serve_schedule_flush(ward_serve *s);
/* Runs it now (at shutdown, before sessions close). */
void ward_serve_flush(ward_serve *s);

/* serve_ws.c */
int ward_serve_cb_ws(struct lws *wsi, enum lws_callback_reasons reason,
                     void *user, void *in, size_t len);
void ward_serve_deliver(void *ctx, const ward_store_msg *m);
/* The answer to a WebSocket send (|id| has SERVE_OPAQUE_WS set). */
void ward_serve_ws_sent(ward_serve *s, uint64_t id,
                        const ward_http_resp *resp);
/* Frees the WebSocket sends still parked (at exit). */
void ward_serve_ws_sends_free(ward_serve *s);
/* Closes every session with 1001 once its queue is written. */
void ward_serve_ws_close_all(ward_serve *s);
/* Closes (1008) every session whose token no longer checks out at |now|. */
void ward_serve_ws_revalidate(ward_serve *s, int64_t now);
/* The API's kick hook: closes |account|'s sessions (1008). */
void ward_serve_ws_kick(void *ctx, int64_t account);
/* The bearer token's account for an upgrade, checked in the http
 * protocol (401 there) and again when the session binds. */
int ward_serve_ws_auth(ward_serve *s, struct lws *wsi, int64_t *account);
/* As ward_serve_ws_auth, also giving the token's stored hash. */
int ward_serve_ws_auth_hash(ward_serve *s, struct lws *wsi, int64_t *account,
                            uint8_t hash[32]);

#endif
