/*
 * `ward serve`'s WebSocket protocol "ward.v1" on /v1/ws.
 *
 * Server to client, one JSON object per text frame:
 *   {"type":"message","message":{...as in GET /v1/messages...}}
 *   {"type":"synced"}             everything stored before is now sent
 *   {"type":"acked","id":N}
 *   {"type":"error","error":{"code":...,"message":...}[,"id":N]}
 *   {"type":"sent","ref":R,"id":N,"server_time":MS}
 *   {"type":"error","ref":R,"status":S,"error":{...}}   a refused send
 * Client to server:
 *   {"type":"ack","id":N}         deletes message N from the queue
 *   {"type":"send","ref":R,"to":U,"msg_type":T,"body":B[,"commitment":C]}
 *                                 as POST /v1/messages; R is echoed back
 *   {"type":"send","ref":R,"group":G,"msg_type":4,"body":B,"commitment":C,
 *    "epoch":E}                   as POST /v1/groups/G/messages
 * Anything that is not a JSON object with a string "type" closes the
 * session with 1007, a binary frame with 1003.
 *
 * A session first streams the account's stored queue a page at a time
 * (so a long queue never sits in memory), then each message as it is
 * committed. Delivery is at least once: the client drops duplicates by id.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "api_internal.h" /* ward_api_message_json */
#include "serve_internal.h"
#include "ward/crypto.h"

static lws_dll2_owner_t *bucket_of(ward_serve *s, int64_t account)
{
    return &s->by_account[(uint64_t)account % SERVE_BUCKETS];
}

int ward_serve_ws_auth(ward_serve *s, struct lws *wsi, int64_t *account)
{
    return ward_serve_ws_auth_hash(s, wsi, account, NULL);
}

int ward_serve_ws_auth_hash(ward_serve *s, struct lws *wsi, int64_t *account,
                            uint8_t hash[32])
{
    char auth[SERVE_AUTH_MAX + 1];
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n <= 0 || n > SERVE_AUTH_MAX ||
        lws_hdr_copy(wsi, auth, (int)sizeof auth,
                     WSI_TOKEN_HTTP_AUTHORIZATION) < 0)
        return WARD_ERR_AUTH;
    ward_err e = ward_api_authenticate(s->api, auth, account);
    if (!e && hash && ward_auth_token_hash(auth + 7, strlen(auth + 7), hash))
        e = WARD_ERR_AUTH;
    ward_memzero(auth, sizeof auth);
    return e;
}

static void ws_close(serve_ws *w, int code, const char *reason)
{
    if (w->close_code)
        return;
    w->close_code = code;
    snprintf(w->close_reason, sizeof w->close_reason, "%s", reason);
    lws_callback_on_writable(w->wsi);
}

/* Queues one text frame; -1 if it was not queued. */
static int ws_enqueue(ward_serve *s, serve_ws *w, const char *p, size_t len,
                      int is_message)
{
    if (w->close_code)
        return -1;
    if (w->q_bytes + len > SERVE_WS_QUEUE_MAX) {
        /* Too slow to keep up: its messages stay queued in the store
         * and come again when it reconnects. */
        s->m.errors[SERR_WS_OVERFLOW]++;
        ward_serve_log("warn", "ws_overflow",
                       json_pack("{s:I,s:I}", "session", (json_int_t)w->sid,
                                 "queued_bytes", (json_int_t)w->q_bytes));
        /* 1013 "try again later": not 1008, which clients take to mean
         * their token ended. */
        ws_close(w, (enum lws_close_status)1013, "send queue overflow");
        return -1;
    }
    serve_out *o = malloc(sizeof *o + LWS_PRE + len);
    if (!o) {
        ws_close(w, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
        return -1;
    }
    o->next = NULL;
    o->len = len;
    o->is_message = is_message;
    memcpy(o->buf + LWS_PRE, p, len);
    if (w->q_tail)
        w->q_tail->next = o;
    else
        w->q_head = o;
    w->q_tail = o;
    w->q_bytes += len;
    lws_callback_on_writable(w->wsi);
    return 0;
}

/* Queues |o| (stolen) as a text frame. */
static int ws_send_json(ward_serve *s, serve_ws *w, json_t *o, int is_message)
{
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text) {
        ws_close(w, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
        return -1;
    }
    int r = ws_enqueue(s, w, text, strlen(text), is_message);
    free(text);
    return r;
}

static json_t *message_frame(const ward_store_msg *m)
{
    json_t *msg = ward_api_message_json(m);
    return msg ? json_pack("{s:s,s:o}", "type", "message", "message", msg)
               : NULL;
}

static void send_error(ward_serve *s, serve_ws *w, const char *code,
                       const char *message, int64_t id)
{
    json_t *o = json_pack("{s:s,s:{s:s,s:s}}", "type", "error", "error",
                          "code", code, "message", message);
    if (o && id >= 0)
        json_object_set_new(o, "id", json_integer(id));
    ws_send_json(s, w, o, 0);
}

typedef struct backlog_ctx {
    ward_serve *s;
    serve_ws *w;
    size_t n;
    int stop;
} backlog_ctx;

static int backlog_one(void *ctx, const ward_store_msg *m)
{
    backlog_ctx *c = ctx;
    c->n++;
    c->w->backlog_after = m->id;
    if (ws_send_json(c->s, c->w, message_frame(m), 1)) {
        c->stop = 1;
        return 1;
    }
    return 0;
}

/* Sends the next pages of the stored queue while the session's own
 * queue is short. */
static void backlog_refill(ward_serve *s, serve_ws *w)
{
    while (w->backlog && !w->close_code &&
           w->q_bytes < SERVE_WS_BACKLOG_LOW) {
        backlog_ctx c = {s, w, 0, 0};
        ward_err e = ward_store_queue_list(s->st, w->account,
                                           w->backlog_after,
                                           SERVE_WS_BACKLOG_PAGE,
                                           backlog_one, &c);
        if (e) {
            ward_serve_log("error", "ws_backlog",
                           json_pack("{s:I,s:s}", "session",
                                     (json_int_t)w->sid, "msg",
                                     ward_strerror(e)));
            ws_close(w, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
                     "store failed");
            return;
        }
        if (c.stop)
            return;
        if (c.n < SERVE_WS_BACKLOG_PAGE) {
            w->backlog = 0;
            ws_send_json(s, w, json_pack("{s:s}", "type", "synced"), 0);
        }
    }
}

void ward_serve_deliver(void *ctx, const ward_store_msg *m)
{
    ward_serve *s = ctx;
    char *text = NULL;
    lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
                               lws_dll2_get_head(bucket_of(s, m->recipient))) {
        serve_ws *w = lws_container_of(d, serve_ws, bucket);
        /* A session still sending its backlog reaches this message
         * there: it is stored, with an id above the backlog's cursor. */
        if (w->account == m->recipient && !w->backlog && !w->close_code) {
            if (!text) {
                json_t *o = message_frame(m);
                text = o ? json_dumps(o, JSON_COMPACT) : NULL;
                json_decref(o);
                if (!text)
                    break; /* stored: sent on the next connect */
            }
            ws_enqueue(s, w, text, strlen(text), 1);
        }
    } lws_end_foreach_dll_safe(d, d1);
    free(text);
}

void ward_serve_ws_close_all(ward_serve *s)
{
    lws_start_foreach_dll(struct lws_dll2 *, d,
                          lws_dll2_get_head(&s->sessions)) {
        ws_close(lws_container_of(d, serve_ws, all),
                 LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down");
    } lws_end_foreach_dll(d);
}

void ward_serve_ws_revalidate(ward_serve *s, int64_t now)
{
    lws_start_foreach_dll(struct lws_dll2 *, d,
                          lws_dll2_get_head(&s->sessions)) {
        serve_ws *w = lws_container_of(d, serve_ws, all);
        int64_t account;
        ward_account a;
        if (w->close_code)
            continue;
        ward_err e = ward_store_token_check(s->st, w->token_hash, now,
                                            &account);
        if (e == WARD_ERR_NOT_FOUND)
            ws_close(w, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                     "token revoked or expired");
        else if (!e &&
                 ward_store_account_by_id(s->st, account, &a) == WARD_OK &&
                 ward_account_status(&a, now) != WARD_STATUS_ACTIVE)
            ws_close(w, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                     "account suspended or banned");
    } lws_end_foreach_dll(d);
}

void ward_serve_ws_kick(void *ctx, int64_t account)
{
    ward_serve *s = ctx;
    lws_start_foreach_dll(struct lws_dll2 *, d,
                          lws_dll2_get_head(bucket_of(s, account))) {
        serve_ws *w = lws_container_of(d, serve_ws, bucket);
        if (w->account == account)
            ws_close(w, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                     "account suspended or banned");
    } lws_end_foreach_dll(d);
}

/* Queues the answer to send |ref| from the API's response: its JSON body
 * spliced after the frame's own fields (the body is an object). */
static void ws_reply(ward_serve *s, serve_ws *w, int64_t ref,
                     const ward_http_resp *r)
{
    char head[96];
    int ok = r->status == 201;
    int n = ok ? snprintf(head, sizeof head, "{\"type\":\"sent\",\"ref\":%lld",
                          (long long)ref)
               : snprintf(head, sizeof head,
                          "{\"type\":\"error\",\"ref\":%lld,\"status\":%d",
                          (long long)ref, r->status);
    if (r->body.len < 2 || r->body.data[0] != '{') {
        send_error(s, w, "internal", "the server failed", -1);
        return;
    }
    ward_buf f;
    ward_buf_init(&f, 0);
    int bad = ward_buf_append(&f, head, (size_t)n) ||
              (r->body.len > 2 && ward_buf_append(&f, ",", 1)) ||
              ward_buf_append(&f, r->body.data + 1, r->body.len - 1);
    if (bad)
        ws_close(w, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
    else
        ws_enqueue(s, w, (const char *)f.data, f.len, 0);
    ward_buf_release(&f);
}

/* The group commit's answer to an ack. */
static void ws_acked(ward_serve *s, serve_ws *w, int64_t id,
                     const ward_http_resp *r)
{
    if (r->status == 204) {
        s->m.ws_acks++;
        ws_send_json(s, w,
                     json_pack("{s:s,s:I}", "type", "acked", "id",
                               (json_int_t)id),
                     0);
    } else if (r->status == 404) {
        send_error(s, w, "not_found", "no such message for you", id);
    } else {
        send_error(s, w, "store_failed", "try the ack again", id);
    }
}

void ward_serve_ws_sent(ward_serve *s, uint64_t id,
                        const ward_http_resp *resp)
{
    serve_ws_send *p = NULL;
    /* Parked in arrival order, completed in the same order. */
    lws_start_foreach_dll(struct lws_dll2 *, d,
                          lws_dll2_get_head(&s->ws_sends)) {
        serve_ws_send *q = lws_container_of(d, serve_ws_send, list);
        if (q->id == id) {
            p = q;
            break;
        }
    } lws_end_foreach_dll(d);
    if (!p)
        return;
    lws_dll2_remove(&p->list);
    serve_ws *w = NULL;
    lws_start_foreach_dll(struct lws_dll2 *, d,
                          lws_dll2_get_head(bucket_of(s, p->account))) {
        serve_ws *q = lws_container_of(d, serve_ws, bucket);
        if (q->sid == p->sid) {
            w = q;
            break;
        }
    } lws_end_foreach_dll(d);
    if (w && p->is_ack)
        ws_acked(s, w, p->ref, resp);
    else if (w)
        ws_reply(s, w, p->ref, resp);
    else
        s->m.errors[SERR_DROPPED]++; /* stored; its sender left first */
    free(p);
}

void ward_serve_ws_sends_free(ward_serve *s)
{
    lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
                               lws_dll2_get_head(&s->ws_sends)) {
        serve_ws_send *p = lws_container_of(d, serve_ws_send, list);
        lws_dll2_remove(&p->list);
        free(p);
    } lws_end_foreach_dll_safe(d, d1);
}

/* A record for a frame whose answer comes from the group commit. */
static serve_ws_send *park_new(ward_serve *s, serve_ws *w, int64_t ref,
                               int is_ack)
{
    serve_ws_send *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->id = ++s->next_ws_send | SERVE_OPAQUE_WS;
    p->sid = w->sid;
    p->account = w->account;
    p->ref = ref;
    p->is_ack = is_ack;
    return p;
}

/* An ack joins the group commit with the sends of this pass: one disk
 * sync for all of them instead of one each. */
static void ws_ack(ward_serve *s, serve_ws *w, json_t *o)
{
    static const char *const ack_keys[] = {"type", "id", NULL};
    uint64_t id;
    if (ward_json_unknown_key(o, ack_keys) ||
        ward_json_uint(o, "id", 1, INT64_MAX, &id)) {
        send_error(s, w, "invalid_ack",
                   "an ack is {\"type\":\"ack\",\"id\":N}", -1);
        return;
    }
    serve_ws_send *p = park_new(s, w, (int64_t)id, 1);
    ward_http_resp r;
    r.status = 0;
    ward_buf_init(&r.body, 0);
    if (p && ward_api_ack_async(s->api, w->account, (int64_t)id,
                                (void *)(uintptr_t)p->id,
                                &r) == WARD_API_DEFERRED) {
        lws_dll2_add_tail(&p->list, &s->ws_sends);
        ward_serve_schedule_flush(s);
    } else {
        free(p);
        send_error(s, w, "store_failed", "try the ack again", (int64_t)id);
    }
    ward_buf_release(&r.body);
}

/* A send: the frame becomes the body POST /v1/messages takes ("msg_type"
 * is its "type") and goes through the same API call. */
static void ws_send(ward_serve *s, serve_ws *w, json_t *o)
{
    uint64_t ref;
    if (ward_json_uint(o, "ref", 0, (1ULL << 53), &ref)) {
        send_error(s, w, "invalid_send",
                   "a send has a numeric ref (0 to 2^53), echoed in its "
                   "answer",
                   -1);
        return;
    }
    json_t *mt = json_object_get(o, "msg_type");
    json_incref(mt);
    json_object_del(o, "type");
    json_object_del(o, "ref");
    json_object_del(o, "msg_type");
    if (mt && json_object_set_new(o, "type", mt)) {
        ws_close(w, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
        return;
    }

    serve_ws_send *p = park_new(s, w, (int64_t)ref, 0);
    ward_http_resp r;
    r.status = 0;
    ward_buf_init(&r.body, 0);
    if (!p) {
        ward_resp_error(&r, 503, "busy", "out of memory");
        ws_reply(s, w, (int64_t)ref, &r);
        ward_buf_release(&r.body);
        return;
    }
    int rc = ward_api_send_json(s->api, w->account, o,
                                (void *)(uintptr_t)p->id, &r);
    if (rc == WARD_API_DEFERRED) {
        lws_dll2_add_tail(&p->list, &s->ws_sends);
        ward_serve_schedule_flush(s);
    } else {
        free(p);
        if (r.status == 0)
            ward_resp_error(&r, 500, "internal", "the server failed");
        ws_reply(s, w, (int64_t)ref, &r);
    }
    ward_buf_release(&r.body);
}

/* Counts, logs and sets the close for a frame that ends the session;
 * returns -1 for the callback to return. */
static int bad_frame(ward_serve *s, serve_ws *w, struct lws *wsi,
                     enum lws_close_status code, const char *reason,
                     const char *why)
{
    s->m.errors[SERR_WS_BAD_FRAME]++;
    ward_serve_log("warn", "ws_bad_frame",
                   json_pack("{s:I,s:s}", "session", (json_int_t)w->sid,
                             "why", why));
    lws_close_reason(wsi, code, (unsigned char *)reason, strlen(reason));
    return -1;
}

/* One complete client message. Returns -1 to close the session. */
static int ws_handle(ward_serve *s, serve_ws *w, struct lws *wsi,
                     const uint8_t *p, size_t n)
{
    const char *type;
    json_t *o = ward_json_object(p, n);
    if (!o || ward_json_str(o, "type", 1, s->cfg->api.max_body, &type)) {
        json_decref(o);
        return bad_frame(s, w, wsi, LWS_CLOSE_STATUS_INVALID_PAYLOAD,
                         "invalid json", "not a JSON object with a type");
    }
    if (w->close_code)
        ; /* closing: its frames are no longer answered */
    else if (strcmp(type, "ack") == 0)
        ws_ack(s, w, o);
    else if (strcmp(type, "send") == 0)
        ws_send(s, w, o);
    else
        send_error(s, w, "unknown_type", "client frames are ack and send",
                   -1);
    json_decref(o);
    return 0;
}

static int ws_receive(ward_serve *s, serve_ws *w, struct lws *wsi,
                      const void *in, size_t len)
{
    if (lws_frame_is_binary(wsi))
        return bad_frame(s, w, wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
                         "text frames only", "binary frame");
    if (w->rx_len + len > s->cfg->api.max_body)
        return bad_frame(s, w, wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                         "frame too large", "frame too large");
    if (len && w->rx_len + len > w->rx_cap) {
        size_t cap = w->rx_cap ? w->rx_cap : 512;
        while (cap < w->rx_len + len)
            cap *= 2;
        uint8_t *p = realloc(w->rx, cap);
        if (!p)
            return -1;
        w->rx = p;
        w->rx_cap = cap;
    }
    /* An empty frame has nothing to copy (and |rx| may be NULL). */
    if (len) {
        memcpy(w->rx + w->rx_len, in, len);
        w->rx_len += len;
    }
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
        return 0;
    int r = ws_handle(s, w, wsi, w->rx, w->rx_len);
    w->rx_len = 0;
    return r;
}

static int ws_writeable(ward_serve *s, serve_ws *w, struct lws *wsi)
{
    if (w->q_head) {
        serve_out *o = w->q_head;
        if (lws_write(wsi, o->buf + LWS_PRE, o->len, LWS_WRITE_TEXT) <
            (int)o->len)
            return -1;
        if (o->is_message)
            s->m.ws_messages_out++;
        w->q_head = o->next;
        if (!w->q_head)
            w->q_tail = NULL;
        w->q_bytes -= o->len;
        free(o);
        if (w->backlog)
            backlog_refill(s, w);
        if (w->q_head || w->close_code)
            lws_callback_on_writable(wsi);
        return 0;
    }
    if (w->close_code) {
        lws_close_reason(wsi, (enum lws_close_status)w->close_code,
                         (unsigned char *)w->close_reason,
                         strlen(w->close_reason));
        return -1;
    }
    return 0;
}

static void ws_closed(ward_serve *s, serve_ws *w)
{
    if (w->established) {
        lws_dll2_remove(&w->all);
        lws_dll2_remove(&w->bucket);
        w->established = 0;
        ward_serve_log("info", "ws_close",
                       json_pack("{s:I,s:I}", "session", (json_int_t)w->sid,
                                 "sessions", (json_int_t)s->sessions.count));
    }
    while (w->q_head) {
        serve_out *o = w->q_head;
        w->q_head = o->next;
        free(o);
    }
    w->q_tail = NULL;
    w->q_bytes = 0;
    free(w->rx);
    w->rx = NULL;
    w->rx_len = w->rx_cap = 0;
}

int ward_serve_cb_ws(struct lws *wsi, enum lws_callback_reasons reason,
                     void *user, void *in, size_t len)
{
    serve_ws *w = user;
    ward_serve *s = serve_of(wsi);

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        /* Checked with a real 401 in the http protocol already; again
         * here for the account (a token may expire in between). */
        char path[16];
        if (s->shutting_down ||
            lws_hdr_copy(wsi, path, (int)sizeof path, WSI_TOKEN_GET_URI) < 0 ||
            strcmp(path, "/v1/ws") != 0 ||
            ward_serve_ws_auth_hash(s, wsi, &w->account, w->token_hash) !=
                WARD_OK)
            return 1;
        return 0;
    }

    case LWS_CALLBACK_ESTABLISHED:
        w->wsi = wsi;
        w->sid = ++s->next_sid;
        w->established = 1;
        lws_dll2_add_tail(&w->all, &s->sessions);
        lws_dll2_add_tail(&w->bucket, bucket_of(s, w->account));
        s->m.ws_opened++;
        ward_serve_log("info", "ws_open",
                       json_pack("{s:I,s:I}", "session", (json_int_t)w->sid,
                                 "sessions", (json_int_t)s->sessions.count));
        if (s->shutting_down) {
            ws_close(w, LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down");
            break;
        }
        w->backlog = 1;
        w->backlog_after = 0;
        backlog_refill(s, w);
        break;

    case LWS_CALLBACK_RECEIVE:
        if (!w->established)
            return -1;
        return ws_receive(s, w, wsi, in, len);

    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (!w->established)
            return 0;
        return ws_writeable(s, w, wsi);

    case LWS_CALLBACK_CLOSED:
        ws_closed(s, w);
        break;

    default:
        break;
    }
    return 0;
}
