/* Sending (deferred to a group commit), listing and acknowledging. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"

json_t *ward_api_message_json(const ward_store_msg *m)
{
    json_t *o = json_pack("{s:I,s:s,s:i,s:I,s:o}", "id", (json_int_t)m->id,
                          "from", m->sender_name, "type", m->type,
                          "server_time", (json_int_t)m->server_time, "body",
                          ward_b64_json(m->body, m->body_len));
    if (o && m->has_commitment)
        json_object_set_new(o, "commitment",
                            ward_b64_json(m->commitment, 32));
    if (o && m->has_tag) {
        json_object_set_new(o, "tag", ward_b64_json(m->tag, 32));
        json_object_set_new(o, "key_id", json_integer(m->key_id));
    }
    if (o)
        json_object_set_new(o, "from_id", json_integer(m->sender));
    if (o && m->group_id)
        json_object_set_new(o, "group", json_integer(m->group_id));
    /* A group event is the server's own JSON: shown as it is too. */
    if (o && m->type == WARD_MSG_GROUP_EVENT) {
        json_t *ev = json_loadb((const char *)m->body, m->body_len, 0, NULL);
        if (ev)
            json_object_set_new(o, "event", ev);
    }
    return o;
}

/* Makes room for one more element in a growable array of |n| used out
 * of |*cap|; -1 when out of memory (the array is unchanged). */
static int room_for_one(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 64;
    void *p = realloc(*arr, c * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = c;
    return 0;
}

int ward_api_pending_room(ward_api *api)
{
    return room_for_one((void **)&api->pending, &api->cap_pending,
                        api->n_pending, sizeof *api->pending);
}

int ward_api_message_body(ward_api *api, json_t *body, ward_buf *out,
                          ward_http_resp *resp)
{
    int b64 = ward_json_b64(body, "body", api->cfg.max_message, out);
    if (b64 == WARD_B64_TOO_BIG) {
        ward_resp_error(resp, 413, "message_too_large",
                        "the message is larger than the server allows");
        return -1;
    }
    if (b64 || out->len == 0) {
        ward_resp_error(resp, 400, "invalid_message",
                        "body must be non-empty base64");
        return -1;
    }
    return 0;
}

int ward_api_may_send(ward_api *api, const ward_account *me, int64_t now,
                      ward_http_resp *resp)
{
    if (!api->frank) {
        ward_resp_error(resp, 503, "no_franking_key",
                        "the server has no franking key");
        return -1;
    }
    if (!ward_ratelimit_take(api->send_by_account, me->username, now)) {
        api->stats.rate_limited++;
        ward_resp_error(resp, 429, "rate_limited",
                        "sending too fast; slow down");
        return -1;
    }
    return 0;
}

/* The checks and the queueing that HTTP and WebSocket sends share;
 * |body| is borrowed. */
static int send_checked(ward_api *api, const ward_account *me, json_t *body,
                        void *opaque, ward_http_resp *resp)
{
    const char *to;
    uint64_t type = 0;
    int has_commitment = 0;
    ward_account them;
    int64_t now = ward_api_now(api);

    pending_send p;
    memset(&p, 0, sizeof p);
    ward_buf_init(&p.body, api->cfg.max_message);
    /* The commitment is required: a message without one could not be
     * reported, and the recipient's client drops it. */
    uint64_t group = 0;
    if (ward_json_str(body, "to", 1, WARD_USERNAME_MAX, &to) ||
        ward_json_uint(body, "type", 1, 255, &type) ||
        (type != WARD_MSG_SIGNAL && type != WARD_MSG_PREKEY) ||
        ward_json_b64_exact(body, "commitment", 1, p.msg.commitment, 32,
                            &has_commitment) ||
        ward_json_uint(body, "group", 0, INT64_MAX, &group) ||
        (json_object_get(body, "group") && group == 0)) {
        ward_resp_error(resp, 400, "invalid_message",
                        "to (a username), type (2 or 3), body (base64), "
                        "the franking commitment (32 bytes, base64) and, "
                        "for a sender-key handover, the group's id");
        goto fail;
    }
    if (ward_api_message_body(api, body, &p.body, resp))
        goto fail;
    if (ward_api_account_named(api, to, resp, &them))
        goto fail;
    /* A handover in a group's context is governed by the group's rules
     * (the recipient's client accepts nothing else in that context). */
    if (group ? ward_api_group_reach(api, me, &them, (int64_t)group, resp)
              : ward_api_policy_check(api, me, &them, WARD_ENTRY_SEND, resp))
        goto fail;
    if (ward_api_may_send(api, me, now, resp))
        goto fail;
    if (room_for_one((void **)&api->pending, &api->cap_pending,
                     api->n_pending, sizeof *api->pending)) {
        ward_resp_error(resp, 503, "busy", "out of memory");
        goto fail;
    }
    p.msg.recipient = them.id;
    p.msg.sender = me->id;
    memcpy(p.msg.sender_name, me->username, sizeof me->username);
    p.msg.type = (int)type;
    p.msg.server_time = now;
    p.msg.has_commitment = has_commitment;
    p.msg.group_id = (int64_t)group;
    /* The tag covers only what the server knows for certain: the
     * commitment, both accounts and its own clock. */
    const uint8_t *fkey;
    ward_frank_keys_current(api->frank, &p.msg.key_id, &fkey);
    ward_frank_tag(p.msg.tag, fkey, p.msg.commitment, me->id, them.id, now);
    p.msg.has_tag = 1;
    p.opaque = opaque;
    api->pending[api->n_pending++] = p;
    return WARD_API_DEFERRED;
fail:
    ward_buf_release(&p.body);
    return WARD_API_DONE;
}

static const char *const send_keys[] = {"to", "type", "body", "commitment",
                                        "group", NULL};

int ward_api_send(ward_api *api, const ward_http_req *req,
                  ward_http_resp *resp)
{
    ward_account me;
    if (ward_api_require_account(api, req, resp, &me))
        return WARD_API_DONE;
    json_t *body = ward_api_body(req, resp, send_keys);
    if (!body)
        return WARD_API_DONE;
    int r = send_checked(api, &me, body, req->opaque, resp);
    json_decref(body);
    return r;
}

int ward_api_send_json(ward_api *api, int64_t account, json_t *body,
                       void *opaque, ward_http_resp *resp)
{
    ward_account me;
    ward_err e = ward_store_account_by_id(api->st, account, &me);
    if (e) {
        ward_api_store_error(api, resp, e);
        return WARD_API_DONE;
    }
    if (ward_api_refuse_account(api, &me, resp))
        return WARD_API_DONE;
    /* A frame naming a group and no recipient is a group send. */
    if (json_object_get(body, "group") && !json_object_get(body, "to"))
        return ward_api_group_send_json(api, &me, body, opaque, resp);
    if (ward_api_known_keys(body, send_keys, resp))
        return WARD_API_DONE;
    return send_checked(api, &me, body, opaque, resp);
}

int ward_api_ack_async(ward_api *api, int64_t account, int64_t id,
                       void *opaque, ward_http_resp *resp)
{
    if (room_for_one((void **)&api->acks, &api->cap_acks, api->n_acks,
                     sizeof *api->acks)) {
        ward_resp_error(resp, 503, "busy", "out of memory");
        return WARD_API_DONE;
    }
    api->acks[api->n_acks].ack.recipient = account;
    api->acks[api->n_acks].ack.id = id;
    api->acks[api->n_acks].opaque = opaque;
    api->n_acks++;
    return WARD_API_DEFERRED;
}

/* Completes the batch's acknowledgements. */
static void complete_acks(ward_api *api, ward_err e, const ward_err *res)
{
    for (size_t i = 0; i < api->n_acks; i++) {
        ward_http_resp r;
        ward_http_resp_init(&r);
        ward_err ri = e ? e : res[i];
        if (ri == WARD_OK)
            r.status = 204;
        else if (ri == WARD_ERR_NOT_FOUND)
            ward_resp_error(&r, 404, "not_found", "no such message for you");
        else
            ward_resp_error(&r, 503, "store_failed", "try the ack again");
        if (api->hooks.done)
            api->hooks.done(api->hooks.ctx, api->acks[i].opaque, &r);
        ward_buf_release(&r.body);
    }
    api->n_acks = 0;
}

/* A direct send's answer from its commit result. */
static void direct_sent(ward_api *api, const ward_store_msg *m, ward_err ri,
                        ward_http_resp *r)
{
    if (ri == WARD_OK) {
        api->stats.messages_in++;
        ward_resp_json(r, 201,
                       json_pack("{s:I,s:I}", "id", (json_int_t)m->id,
                                 "server_time", (json_int_t)m->server_time));
    } else if (ri == WARD_ERR_LIMIT) {
        ward_resp_error(r, 429, "queue_full",
                        "the recipient's queue is full; try later");
    } else if (ri == WARD_ERR_NOT_FOUND) {
        ward_resp_error(r, 404, "no_such_user", "no such user");
    } else if (ri == WARD_ERR_CONFLICT) {
        /* A handover whose group lost one of the two since the checks. */
        ward_resp_error(r, 404, "not_member",
                        "you or the recipient left the group meanwhile");
    } else {
        ward_resp_error(r, 503, "store_failed",
                        "the message was not stored; send it again");
    }
}

size_t ward_api_flush(ward_api *api)
{
    size_t n = api->n_pending, na = api->n_acks;
    if (n == 0 && na == 0)
        return 0;
    /* A group message becomes one row per recipient. */
    size_t rows = 0;
    for (size_t i = 0; i < n; i++)
        rows += api->pending[i].fan_out ? api->pending[i].n_rcpt : 1;
    ward_store_msg *msgs = calloc(rows ? rows : 1, sizeof *msgs);
    ward_err *res = calloc(rows + na + 1, sizeof *res);
    ward_store_ack *acks = calloc(na ? na : 1, sizeof *acks);
    if (!msgs || !res || !acks) {
        free(msgs);
        free(res);
        free(acks);
        return 0; /* try again on the next flush */
    }
    for (size_t i = 0, k = 0; i < n; i++) {
        const pending_send *p = &api->pending[i];
        size_t copies = p->fan_out ? p->n_rcpt : 1;
        for (size_t c = 0; c < copies; c++, k++) {
            msgs[k] = p->msg;
            msgs[k].body = p->body.data;
            msgs[k].body_len = p->body.len;
            if (p->fan_out)
                msgs[k].recipient = p->rcpt[c].id;
        }
    }
    for (size_t i = 0; i < na; i++)
        acks[i] = api->acks[i].ack;
    /* Sends and acknowledgements together: one disk sync for the pass. */
    ward_err e = ward_store_queue_commit(api->st, msgs, rows,
                                         api->cfg.max_queue, res, acks, na,
                                         res + rows);
    complete_acks(api, e, res + rows);
    free(acks);
    for (size_t i = 0, k = 0; i < n; i++) {
        const pending_send *p = &api->pending[i];
        ward_http_resp r;
        ward_http_resp_init(&r);
        if (p->fan_out) {
            ward_api_group_sent(api, p, msgs + k, res + k, e, &r);
            k += p->n_rcpt;
        } else {
            direct_sent(api, &msgs[k], e ? e : res[k], &r);
            k++;
        }
        if (r.status >= 500)
            api->stats.errors_5xx++;
        else if (r.status >= 400)
            api->stats.errors_4xx++;
        if (api->hooks.done)
            api->hooks.done(api->hooks.ctx, p->opaque, &r);
        ward_buf_release(&r.body);
    }
    /* Acknowledged first, then pushed: a recipient never sees a message
     * its sender was told failed. */
    for (size_t k = 0; k < rows; k++)
        if (!e && res[k] == WARD_OK && api->hooks.deliver)
            api->hooks.deliver(api->hooks.ctx, &msgs[k]);
    for (size_t i = 0; i < n; i++) {
        ward_buf_release(&api->pending[i].body);
        free(api->pending[i].rcpt);
        api->pending[i].rcpt = NULL;
    }
    api->n_pending = 0;
    free(msgs);
    free(res);
    return n + na;
}

typedef struct list_ctx {
    json_t *arr;
    int oom;
} list_ctx;

static int add_message(void *ctx, const ward_store_msg *m)
{
    list_ctx *c = ctx;
    json_t *o = ward_api_message_json(m);
    if (!o || json_array_append_new(c->arr, o) != 0) {
        c->oom = 1;
        return 1;
    }
    return 0;
}

static int parse_i64(const char *s, size_t len, int64_t *out)
{
    int64_t v = 0;
    if (len == 0 || len > 18)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int ward_api_query_ints(const char *q, const char *const *names,
                        int64_t *vals)
{
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        if (!eq)
            return -1;
        size_t klen = (size_t)(eq - q), vlen = len - klen - 1, i;
        for (i = 0; names[i]; i++)
            if (strlen(names[i]) == klen && memcmp(q, names[i], klen) == 0)
                break;
        if (!names[i] || parse_i64(eq + 1, vlen, &vals[i]))
            return -1;
        q = amp ? amp + 1 : NULL;
    }
    return 0;
}

int ward_api_list(ward_api *api, const ward_http_req *req,
                  ward_http_resp *resp)
{
    static const char *const names[] = {"after", "limit", NULL};
    ward_account me;
    int64_t v[2] = {0, 100}; /* after, limit */
    if (ward_api_require_account(api, req, resp, &me))
        return WARD_API_DONE;
    int bad = ward_api_query_ints(req->query, names, v);
    int64_t after = v[0], limit = v[1];
    if (bad || limit < 1 || limit > 500) {
        ward_resp_error(resp, 400, "invalid_query",
                        "after (a message id) and limit (1-500) only");
        return WARD_API_DONE;
    }
    list_ctx c = {json_array(), 0};
    ward_err e = c.arr ? ward_store_queue_list(api->st, me.id, after,
                                               (size_t)limit, add_message, &c)
                       : WARD_ERR_NOMEM;
    if (e || c.oom) {
        json_decref(c.arr);
        ward_api_store_error(api, resp, e ? e : WARD_ERR_NOMEM);
        return WARD_API_DONE;
    }
    api->stats.messages_out += json_array_size(c.arr);
    ward_resp_json(resp, 200, json_pack("{s:o}", "messages", c.arr));
    return WARD_API_DONE;
}

int ward_api_ack(ward_api *api, const ward_http_req *req,
                 ward_http_resp *resp, const char *id)
{
    ward_account me;
    int64_t mid;
    if (ward_api_require_account(api, req, resp, &me))
        return WARD_API_DONE;
    if (parse_i64(id, strlen(id), &mid)) {
        ward_resp_error(resp, 400, "invalid_id", "a message id is a number");
        return WARD_API_DONE;
    }
    ward_err e = ward_store_queue_ack(api->st, me.id, mid);
    if (e == WARD_ERR_NOT_FOUND) {
        /* Not queued for this account: someone else's, or already gone. */
        ward_resp_error(resp, 404, "not_found", "no such message for you");
        return WARD_API_DONE;
    }
    if (e) {
        ward_api_store_error(api, resp, e);
        return WARD_API_DONE;
    }
    resp->status = 204;
    return WARD_API_DONE;
}
