/*
 * The HTTP API of `ward serve`, independent of the transport: a request
 * (method, path, a few headers, the whole body) goes in, a status and a
 * JSON body come out. libwebsockets (serve.c) only moves bytes.
 *
 * Sends are deferred: ward_api_handle queues them and returns
 * WARD_API_DEFERRED; ward_api_flush writes every queued message in one
 * transaction (one disk sync for the batch), then completes each request
 * through the |done| callback and hands each stored message to |deliver|,
 * so a message is acknowledged only once it is durable.
 */
#ifndef WARD_SERVER_API_H
#define WARD_SERVER_API_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "auth.h"
#include "ward/buf.h"
#include "ward/store.h"

typedef struct ward_api_config {
    size_t max_body;         /* JSON request body (bytes) */
    size_t max_message;      /* ciphertext bytes of one message */
    size_t max_queue;        /* queued messages per recipient */
    size_t max_prekeys;      /* one-time prekeys stored per account */
    size_t prekeys_low;      /* below this, tell the owner to upload more */
    uint64_t max_attachment; /* encrypted attachment bytes */
    int64_t token_ttl_ms;
    int64_t attachment_ttl_ms;
    ward_pwhash_cost pwhash;
    unsigned pwhash_threads; /* 0: hash on the calling thread */
    /* token buckets: |burst| at once, refilled at |per_minute| */
    double login_burst, login_per_minute;       /* per account name; per
                                                   address five times it */
    double register_burst, register_per_minute; /* per address */
    double send_burst, send_per_minute;         /* per sender */
    double upload_burst, upload_per_minute;     /* per uploader */
    /* the contact policy's thresholds: an adult blocked or reported by at
     * least |suspicious_signals| distinct minors within the window is
     * flagged suspicious */
    int64_t suspicious_window_ms;
    size_t suspicious_signals;
    double report_burst, report_per_minute;     /* per reporter */
    size_t max_suggestions;
    size_t max_group_members; /* members of one group, the creator too */
    /* group creations and adds per account: adding strangers to groups
     * is a way to reach them */
    double group_burst, group_per_minute;
} ward_api_config;

void ward_api_config_defaults(ward_api_config *c);

typedef struct ward_http_req {
    const char *method;        /* "GET", "POST", ... */
    const char *path;          /* without the query */
    const char *query;         /* after '?', or NULL */
    const char *authorization; /* the header's value, or NULL */
    const char *remote;        /* peer address, for rate limits */
    const char *cookie;        /* the Cookie header's value, or NULL */
    const char *csrf;          /* the X-CSRF-Token header's value, or NULL */
    int tls;                   /* the request came over TLS */
    const uint8_t *body;
    size_t body_len;
    void *opaque;              /* the transport's, returned in |done| */
} ward_http_req;

typedef struct ward_http_resp {
    int status;
    ward_buf body; /* JSON unless |content_type| says; empty for 204 */
    /* The rest is read only by the transport for answers that set it
     * (the moderation console): NULL means application/json. */
    const char *content_type; /* static storage */
    ward_buf headers; /* extra headers: "name:" NUL value NUL, ...;
                         may hold a secret (Set-Cookie): wiped */
} ward_http_resp;

/* An empty answer (status 0, no body, JSON, no extra headers). */
void ward_http_resp_init(ward_http_resp *r);
/* Wipes and frees the body and the headers. */
void ward_http_resp_release(ward_http_resp *r);
/* Adds a header: |name| lowercase with its colon ("set-cookie:"),
 * |value| without CR or LF (WARD_ERR_INVALID_ARG otherwise). */
ward_err ward_http_resp_header(ward_http_resp *r, const char *name,
                               const char *value);

enum { WARD_API_DONE = 0, WARD_API_DEFERRED = 1 };

typedef struct ward_api ward_api;

typedef struct ward_api_hooks {
    /* A deferred request is complete: send |resp| for |opaque|. */
    void (*done)(void *ctx, void *opaque, const ward_http_resp *resp);
    /* A message is durably queued for |m->recipient|: push it if the
     * recipient is connected (the body pointer is valid during the call). */
    void (*deliver)(void *ctx, const ward_store_msg *m);
    /* Milliseconds since the epoch (tests move the clock). */
    int64_t (*now)(void *ctx);
    /* Called from a worker thread when a password job is done: make the
     * loop call ward_api_poll (needed when pwhash_threads > 0). */
    void (*wake)(void *ctx);
    /* The account was suspended, banned or deleted: close its sessions
     * (may be NULL). */
    void (*kick)(void *ctx, int64_t account);
    void *ctx;
} ward_api_hooks;

ward_err ward_api_new(ward_api **out, ward_store *st,
                      const ward_api_config *cfg, const ward_api_hooks *hooks);
void ward_api_free(ward_api *api);

/* What franking and reports need besides the store: the server's franking
 * keys (required before messages can be sent), the attachment files, and
 * the directory where a verified report's image is kept (0700; NULL: the
 * image is not kept). Borrowed: they must outlive |api|. */
struct ward_frank_keys;
struct ward_blobs;
void ward_api_attach(ward_api *api, struct ward_frank_keys *keys,
                     struct ward_blobs *blobs, const char *evidence_dir);
/* The hash lists (borrowed; NULL: none) that images the server sees, a
 * group's avatar, are checked against. */
struct ward_match_set;
void ward_api_set_match(ward_api *api, const struct ward_match_set *set);

/* Handles one request. WARD_API_DONE: |resp| is filled (the caller
 * initialises and releases it). WARD_API_DEFERRED: the answer comes
 * through hooks->done during a later ward_api_flush. */
int ward_api_handle(ward_api *api, const ward_http_req *req,
                    ward_http_resp *resp);

/* A send from an authenticated WebSocket session: |body| is the object
 * POST /v1/messages takes (borrowed), |account| the session's. Returns as
 * ward_api_handle, completing through hooks->done with |opaque|. */
int ward_api_send_json(ward_api *api, int64_t account, json_t *body,
                       void *opaque, ward_http_resp *resp);

/*
 * Attachments are streamed by the transport, so the API only checks and
 * records. An upload: ward_api_upload_check once the headers are in
 * (token, announced |length|, rate); 0 means go on and write the body to
 * a file, -1 that |resp| holds the refusal. Once the bytes are durably
 * stored under |id|, ward_api_upload_done records the blob and fills
 * |resp| (201, or an error: then the caller deletes the file).
 */
int ward_api_upload_check(ward_api *api, const ward_http_req *req,
                          uint64_t length, int64_t *account,
                          ward_http_resp *resp);
void ward_api_upload_done(ward_api *api, int64_t account, const char *id,
                          uint64_t size, ward_http_resp *resp);
/* A download of blob |id|: 0 with |*blob| if it may be streamed, -1 with
 * |resp| holding the refusal (401, 400 invalid_id, 404 not_found). */
int ward_api_download_check(ward_api *api, const ward_http_req *req,
                            const char *id, ward_blob *blob,
                            ward_http_resp *resp);

/* An acknowledgement from an authenticated WebSocket session: deferred
 * to the group commit (WARD_API_DEFERRED), then completed through
 * hooks->done with 204, 404 not_found (not queued for |account|) or
 * 503 store_failed. */
int ward_api_ack_async(ward_api *api, int64_t account, int64_t id,
                       void *opaque, ward_http_resp *resp);

/* Commits the deferred sends and acknowledgements (one transaction),
 * then completes them and delivers the messages. Returns
 * how many requests it completed. */
size_t ward_api_flush(ward_api *api);
/* Sends still waiting for a commit (after a flush: it ran out of memory,
 * try again shortly). */
size_t ward_api_pending_sends(const ward_api *api);

/* Completes the requests whose password work is done (register, log in,
 * delete account, and the console's log in and add moderator: deferred
 * when pwhash_threads > 0). Returns how many. */
size_t ward_api_poll(ward_api *api);
/* Stops the password workers now (a job running finishes first; queued
 * ones are dropped). For shutdown, before whatever |wake| uses is freed;
 * the API falls back to hashing inline. */
void ward_api_stop_jobs(ward_api *api);
/* Requests waiting on password work. */
size_t ward_api_jobs_inflight(ward_api *api);

/* The account a bearer token belongs to, for the WebSocket upgrade;
 * WARD_ERR_AUTH if the header is missing, malformed, unknown or expired,
 * WARD_ERR_FORBIDDEN (with |*account| set) if the account is suspended or
 * banned: ward_api_refuse_status writes that refusal. */
ward_err ward_api_authenticate(ward_api *api, const char *authorization,
                               int64_t *account);
/* If |account| is suspended or banned, writes the 403 into |resp| and
 * returns -1; 0 if it may go on (or no longer exists). */
int ward_api_refuse_status(ward_api *api, int64_t account,
                           ward_http_resp *resp);

/* Sets an account's status (WARD_STATUS_*; |until| ends a suspension) and
 * closes its live sessions when it may no longer use the service. For
 * the moderation console. */
ward_err ward_api_set_account_status(ward_api *api, int64_t account,
                                     int status, int64_t until);

/* Counters for /metrics. */
typedef struct ward_api_stats {
    uint64_t requests, messages_in, messages_out, errors_4xx, errors_5xx;
    uint64_t login_refused, rate_limited;
    uint64_t attachments_in, attachments_out;
    uint64_t policy_refused, reports_in, reports_refused;
    uint64_t group_messages_in, group_copies; /* sends; copies queued */
    uint64_t images_checked, images_matched; /* against the hash lists */
} ward_api_stats;
void ward_api_stats_get(const ward_api *api, ward_api_stats *out);

#endif
