/*
 * A live connection: the server's WebSocket (ward.v1) pushes messages as
 * they arrive, and sends go up the same connection. It reconnects by
 * itself (1 s, doubling to 30 s) after the network or the server goes
 * away; the server then sends again whatever was not acknowledged, and
 * the seen-ids in the state drop what was already shown.
 *
 * Frames are only queued inside libwebsockets' callbacks and handled
 * after lws_service returns, so decrypting (and the HTTP requests an
 * attachment or a first message needs) never runs inside lws.
 */
#include <jansson.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "group_internal.h"
#include "ward/crypto.h"

#define RX_MAX (16u << 20)
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000

typedef struct frame {
    struct frame *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE, then the text */
} frame;

struct ward_client_live {
    ward_client *c;
    ward_client_live_hooks hooks;
    struct lws_context *cx;
    struct lws *wsi;
    lws_sorted_usec_list_t sul_wake;
    ward_identity *id;
    ward_prekeys *pk;
    char url[512];
    int tls;
    char token[128];
    /* state of the current connection */
    int attempting, connected, closing;
    int64_t reconnect_at_ms, backoff_ms;
    int fatal;            /* the server refused the token */
    int probe;            /* refused at the upgrade: ask why over HTTP */
    char refusal[512];    /* the account's refusal, once known */
    char why[256];        /* why the last connection ended */
    ward_buf rx;          /* a frame being reassembled */
    json_t *inbox;        /* frames received, handled after lws_service */
    frame *tx_head, *tx_tail;
    int64_t next_ref;
    struct pending_send {
        int64_t ref;
        char to[64]; /* for the sentence of a refusal */
    } *unanswered; /* sends not answered yet */
    size_t n_unanswered, cap_unanswered;
    /* a watched descriptor */
    int (*fd_fn)(void *ctx);
    void *fd_ctx;
    struct lws *fd_wsi;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void status(ward_client_live *l, const char *what)
{
    if (l->hooks.status)
        l->hooks.status(l->hooks.ctx, what);
}

static void tx_free_all(ward_client_live *l)
{
    while (l->tx_head) {
        frame *f = l->tx_head;
        l->tx_head = f->next;
        ward_memzero(f->buf, LWS_PRE + f->len);
        free(f);
    }
    l->tx_tail = NULL;
}

static ward_err tx_queue(ward_client_live *l, const char *text, size_t n)
{
    frame *f = malloc(sizeof *f + LWS_PRE + n);
    if (!f)
        return WARD_ERR_NOMEM;
    f->next = NULL;
    f->len = n;
    memcpy(f->buf + LWS_PRE, text, n);
    if (l->tx_tail)
        l->tx_tail->next = f;
    else
        l->tx_head = f;
    l->tx_tail = f;
    if (l->wsi)
        lws_callback_on_writable(l->wsi);
    return WARD_OK;
}

/* Queues |o| (borrowed; NULL is out of memory) as a text frame. */
static ward_err tx_json(ward_client_live *l, json_t *o)
{
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    ward_err e = text ? tx_queue(l, text, strlen(text)) : WARD_ERR_NOMEM;
    if (text) {
        ward_memzero(text, strlen(text));
        free(text);
    }
    return e;
}

/* Forgets |ref| once answered, copying its recipient into |to|; 1 if it
 * was waiting. */
static int answered(ward_client_live *l, int64_t ref, char *to, size_t cap)
{
    for (size_t i = 0; i < l->n_unanswered; i++)
        if (l->unanswered[i].ref == ref) {
            snprintf(to, cap, "%s", l->unanswered[i].to);
            l->unanswered[i] = l->unanswered[--l->n_unanswered];
            return 1;
        }
    return 0;
}

static void lost(ward_client_live *l, const char *why)
{
    int was = l->connected;
    if (!l->attempting && !l->connected)
        return; /* already told */
    l->attempting = 0;
    l->wsi = NULL;
    l->connected = 0;
    l->rx.len = 0;
    /* Frames not yet written are dropped: a send without an answer may
     * or may not have been stored (the caller is told), an ack is sent
     * again after the redelivery. */
    tx_free_all(l);
    if (why != l->why) /* snprintf from a buffer into itself empties it */
        snprintf(l->why, sizeof l->why, "%s", why);
    /* Sends without an answer are told so, not forgotten: each may or may
     * not have been stored. */
    while (l->n_unanswered) {
        int64_t ref = l->unanswered[--l->n_unanswered].ref;
        if (l->hooks.sent && !l->closing)
            l->hooks.sent(l->hooks.ctx, ref, 0,
                          "the connection dropped before the server "
                          "answered: it may or may not have been sent");
    }
    l->reconnect_at_ms = mono_ms() + l->backoff_ms;
    l->backoff_ms = l->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                                                       : l->backoff_ms * 2;
    if (!l->closing && (was || !l->fatal)) {
        char msg[320];
        snprintf(msg, sizeof msg, "disconnected: %s", l->why);
        status(l, msg);
    }
}

static int cb_ws(struct lws *wsi, enum lws_callback_reasons reason,
                 void *user, void *in, size_t len)
{
    (void)user;
    ward_client_live *l = lws_get_opaque_user_data(wsi);
    if (!l)
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        unsigned char **p = (unsigned char **)in, *end = (*p) + len;
        char auth[160];
        int n = snprintf(auth, sizeof auth, "Bearer %s", l->token);
        int bad = lws_add_http_header_by_token(
            wsi, WSI_TOKEN_HTTP_AUTHORIZATION, (unsigned char *)auth, n, p,
            end);
        ward_memzero(auth, sizeof auth);
        return bad ? -1 : 0;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        const char *t = in ? (const char *)in : "cannot connect";
        if (strstr(t, "unauthorized") || strstr(t, "401"))
            l->fatal = 1;
        else if (strstr(t, "not 101"))
            l->probe = 1; /* lws does not say which status came back */
        lost(l, t);
        break;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        l->connected = 1;
        l->backoff_ms = BACKOFF_MIN_MS;
        status(l, "connected");
        if (l->tx_head)
            lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (ward_buf_append(&l->rx, in, len) != WARD_OK)
            return -1; /* larger than any real frame */
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            json_t *o = json_loadb((const char *)l->rx.data, l->rx.len, 0,
                                   NULL);
            if (o)
                json_array_append_new(l->inbox, o);
            l->rx.len = 0;
        }
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        frame *f = l->tx_head;
        if (!f)
            break;
        int n = lws_write(wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT);
        if (n < (int)f->len)
            return -1;
        l->tx_head = f->next;
        if (!l->tx_head)
            l->tx_tail = NULL;
        free(f);
        if (l->tx_head)
            lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: {
        const unsigned char *b = in;
        int code = len >= 2 ? (b[0] << 8) | b[1] : 0;
        if (code == 1008)
            l->fatal = 1; /* the token ended: log in again */
        snprintf(l->why, sizeof l->why, "the server closed (%d %.*s)", code,
                 len > 2 ? (int)(len - 2 > 100 ? 100 : len - 2) : 0,
                 len > 2 ? (const char *)b + 2 : "");
        break;
    }
    case LWS_CALLBACK_CLIENT_CLOSED:
        lost(l, l->why[0] ? l->why : "the connection closed");
        break;
    default:
        break;
    }
    return 0;
}

static int cb_fd(struct lws *wsi, enum lws_callback_reasons reason,
                 void *user, void *in, size_t len)
{
    ward_client_live *l = lws_get_opaque_user_data(wsi);
    if (l && reason == LWS_CALLBACK_RAW_RX_FILE && l->fd_fn) {
        if (l->fd_fn(l->fd_ctx) == 0)
            return 0;
        l->fd_fn = NULL; /* the end of input: stop watching */
        return -1;
    }
    if (l && reason == LWS_CALLBACK_RAW_CLOSE_FILE) {
        /* A pipe's end comes as a hang-up, without a readable event: let
         * the reader see it. */
        if (l->fd_fn)
            (void)l->fd_fn(l->fd_ctx);
        l->fd_fn = NULL;
        l->fd_wsi = NULL;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"ward.v1", cb_ws, 0, 0, 0, NULL, 0},
    {"ward-fd", cb_fd, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void connect_now(ward_client_live *l)
{
    char buf[512];
    const char *prot, *addr, *path;
    int port;
    snprintf(buf, sizeof buf, "%s", l->url);
    l->why[0] = 0;
    if (lws_parse_uri(buf, &prot, &addr, &port, &path)) {
        l->fatal = 1;
        lost(l, "the server URL is not valid");
        return;
    }
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    i.context = l->cx;
    i.address = addr;
    i.port = port;
    i.path = "/v1/ws";
    i.host = addr;
    i.origin = addr;
    i.protocol = "ward.v1";
    i.local_protocol_name = "ward.v1";
    i.ssl_connection = l->tls ? LCCSCF_USE_SSL : 0;
    i.opaque_user_data = l;
    i.pwsi = &l->wsi;
    l->attempting = 1;
    if (!lws_client_connect_via_info(&i))
        lost(l, "cannot connect"); /* unless a callback already said why */
}

static void wake(lws_sorted_usec_list_t *sul)
{
    (void)sul; /* only ends lws_service's wait */
}

ward_err ward_client_live_open(ward_client *c,
                               const ward_client_live_hooks *hooks,
                               ward_client_live **out, char *err,
                               size_t errlen)
{
    ward_client_live *l = calloc(1, sizeof *l);
    if (!l)
        return WARD_ERR_NOMEM;
    l->c = c;
    if (hooks)
        l->hooks = *hooks;
    l->backoff_ms = BACKOFF_MIN_MS;
    l->next_ref = 1;
    ward_buf_init(&l->rx, RX_MAX);
    l->inbox = json_array();
    ward_err e = l->inbox ? WARD_OK : WARD_ERR_NOMEM;
    if (!e)
        e = ward_client_use_token(c, err, errlen);
    if (!e && ward_client_state_get(c->state, "token", l->token,
                                    sizeof l->token))
        e = WARD_ERR_AUTH;
    if (!e && (e = ward_client_state_get_identity(c->state, &l->id)) && err)
        snprintf(err, errlen, "this device has no keys: log in first");
    if (!e)
        e = ward_client_state_get_prekeys(c->state, &l->pk);
    if (!e) {
        snprintf(l->url, sizeof l->url, "%s", c->server);
        l->tls = strncmp(l->url, "https:", 6) == 0;
        if (!l->tls && strncmp(l->url, "http:", 5) != 0) {
            if (err && errlen)
                snprintf(err, errlen,
                         "the server URL must start with http:// or "
                         "https://");
            e = WARD_ERR_INVALID_ARG;
        }
    }
    if (!e) {
        struct lws_context_creation_info info;
        memset(&info, 0, sizeof info);
        info.port = CONTEXT_PORT_NO_LISTEN;
        info.protocols = protocols;
        info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.fd_limit_per_thread = 16;
        lws_set_log_level(0, NULL);
        l->cx = lws_create_context(&info);
        if (!l->cx) {
            if (err && errlen)
                snprintf(err, errlen, "cannot start the WebSocket client");
            e = WARD_ERR_INTERNAL;
        }
    }
    if (e) {
        ward_client_live_close(l);
        return e;
    }
    /* Images an earlier run could not download come first. */
    (void)ward_client_retry_attachments(c, l->hooks.message, l->hooks.ctx,
                                        NULL, NULL);
    (void)ward_client_group_retry_all(c, l->hooks.message, l->hooks.ctx,
                                      NULL);
    connect_now(l);
    *out = l;
    return WARD_OK;
}

void ward_client_live_close(ward_client_live *l)
{
    if (!l)
        return;
    l->closing = 1; /* no status for our own hang-up */
    if (l->cx) {
        lws_sul_cancel(&l->sul_wake);
        lws_context_destroy(l->cx);
    }
    tx_free_all(l);
    ward_buf_release(&l->rx);
    json_decref(l->inbox);
    free(l->unanswered);
    ward_identity_free(l->id);
    ward_prekeys_free(l->pk);
    ward_memzero(l->token, sizeof l->token);
    free(l);
}

int ward_client_live_connected(const ward_client_live *l)
{
    return l->connected;
}

static void handle_sent(ward_client_live *l, json_t *o, int ok)
{
    json_t *ref = json_object_get(o, "ref");
    char to[64];
    if (!json_is_integer(ref) ||
        !answered(l, json_integer_value(ref), to, sizeof to) ||
        !l->hooks.sent)
        return;
    if (ok) {
        l->hooks.sent(l->hooks.ctx, json_integer_value(ref),
                      json_integer_value(json_object_get(o, "id")), NULL);
    } else {
        /* The same sentence as the refusal of an HTTP send. */
        char why[512];
        json_t *st = json_object_get(o, "status");
        ward_client_server_error_about(
            o, json_is_integer(st) ? (int)json_integer_value(st) : 0, to,
            why, sizeof why);
        l->hooks.sent(l->hooks.ctx, json_integer_value(ref), 0, why);
    }
}

/* Handles the frames the last lws_service call queued. */
static ward_err drain_inbox(ward_client_live *l, char *err, size_t errlen)
{
    size_t i;
    json_t *o;
    ward_err e = WARD_OK;
    json_array_foreach(l->inbox, i, o) {
        const char *type = json_string_value(json_object_get(o, "type"));
        if (!type)
            continue;
        if (strcmp(type, "message") == 0) {
            json_t *m = json_object_get(o, "message");
            int shown = 0, ack_it = 0;
            e = ward_client_process(l->c, l->id, l->pk, m, l->hooks.message,
                                    l->hooks.ctx, &shown, &ack_it, err,
                                    errlen);
            if (e)
                break;
            if (ack_it) {
                json_t *a = json_pack(
                    "{s:s,s:I}", "type", "ack", "id",
                    json_integer_value(json_object_get(m, "id")));
                (void)tx_json(l, a); /* borrows |a| */
                json_decref(a);
            }
        } else if (strcmp(type, "synced") == 0) {
            status(l, "synced");
        } else if (strcmp(type, "sent") == 0) {
            handle_sent(l, o, 1);
        } else if (strcmp(type, "error") == 0) {
            handle_sent(l, o, 0);
        }
    }
    json_array_clear(l->inbox);
    return e;
}

/* A suspended or banned account is refused at the upgrade (403) and
 * its live session closed (1008), which lws reports without the reason:
 * GET /v1/accounts/me says which, so the user reads why rather than a
 * reconnect loop or a request to log in again. 1 if the account itself is
 * refused (|l->refusal| says how). */
static int account_refused(ward_client_live *l)
{
    int status = 0;
    json_t *reply = NULL;
    if (l->refusal[0])
        return 1;
    if (ward_http_call(l->c->http, "GET", "/v1/accounts/me", NULL, &status,
                       &reply, NULL, 0) == WARD_OK &&
        status == 403) {
        const char *code = ward_http_error_code(reply);
        if (strcmp(code, "account_banned") == 0 ||
            strcmp(code, "account_suspended") == 0)
            ward_client_server_error(reply, status, l->refusal,
                                     sizeof l->refusal);
    }
    json_decref(reply);
    return l->refusal[0] != 0;
}

ward_err ward_client_live_service(ward_client_live *l, int timeout_ms,
                                  char *err, size_t errlen)
{
    if (l->probe) {
        l->probe = 0;
        if (account_refused(l))
            l->fatal = 1;
    }
    if (l->fatal && account_refused(l)) {
        if (err && errlen)
            snprintf(err, errlen, "%s", l->refusal);
        return WARD_ERR_AUTH;
    }
    if (l->fatal) {
        if (err && errlen)
            snprintf(err, errlen,
                     "the server refused the login token (%s): run 'ward "
                     "account login' again",
                     l->why);
        return WARD_ERR_AUTH;
    }
    int64_t now = mono_ms();
    if (!l->attempting && !l->connected && now >= l->reconnect_at_ms)
        connect_now(l);
    int64_t wait = timeout_ms;
    if (!l->attempting && !l->connected && l->reconnect_at_ms > now &&
        l->reconnect_at_ms - now < wait)
        wait = l->reconnect_at_ms - now;
    lws_sul_schedule(l->cx, 0, &l->sul_wake, wake,
                     (lws_usec_t)(wait > 0 ? wait : 0) * LWS_US_PER_MS);
    if (lws_service(l->cx, 0) < 0) {
        if (err && errlen)
            snprintf(err, errlen, "the WebSocket client failed");
        return WARD_ERR_INTERNAL;
    }
    lws_sul_cancel(&l->sul_wake);
    return drain_inbox(l, err, errlen);
}

ward_err ward_client_live_send_text(ward_client_live *l, const char *to,
                                    const char *text, int64_t *ref,
                                    int64_t *id, char *err, size_t errlen)
{
    ward_content content;
    json_t *body = NULL;
    ward_content_init(&content);
    *ref = 0;
    if (id)
        *id = 0;
    ward_err e = ward_content_set_body(&content, text, strlen(text));
    if (e && err && errlen)
        snprintf(err, errlen, "the text is not valid UTF-8 or too long");
    if (!e)
        e = ward_client_seal(l->c, to, 0, &content, &body, err, errlen);
    if (!e && !l->connected) {
        /* Not connected right now: the same message over HTTP. */
        e = ward_client_post(l->c, body, id, err, errlen);
    } else if (!e) {
        json_t *t = json_object_get(body, "type");
        json_incref(t);
        json_object_del(body, "type");
        json_object_set_new(body, "msg_type", t);
        if (l->n_unanswered == l->cap_unanswered) {
            size_t cap = l->cap_unanswered ? l->cap_unanswered * 2 : 16;
            struct pending_send *u =
                realloc(l->unanswered, cap * sizeof *u);
            if (!u) {
                json_decref(body);
                ward_content_release(&content);
                return WARD_ERR_NOMEM;
            }
            l->unanswered = u;
            l->cap_unanswered = cap;
        }
        *ref = l->next_ref++;
        json_object_set_new(body, "type", json_string("send"));
        json_object_set_new(body, "ref", json_integer(*ref));
        e = tx_json(l, body);
        if (!e) {
            struct pending_send *p = &l->unanswered[l->n_unanswered++];
            p->ref = *ref;
            snprintf(p->to, sizeof p->to, "%s", to);
        }
    }
    json_decref(body);
    ward_content_release(&content);
    return e;
}

ward_err ward_client_live_watch_fd(ward_client_live *l, int fd,
                                   int (*fn)(void *ctx), void *ctx)
{
    lws_sock_file_fd_type u;
    memset(&u, 0, sizeof u);
    u.filefd = fd;
    l->fd_fn = fn;
    l->fd_ctx = ctx;
    struct lws_vhost *vh = lws_get_vhost_by_name(l->cx, "default");
    l->fd_wsi = vh ? lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC,
                                                u, "ward-fd", NULL)
                   : NULL;
    if (!l->fd_wsi)
        return WARD_ERR_INTERNAL;
    lws_set_opaque_user_data(l->fd_wsi, l);
    return WARD_OK;
}
