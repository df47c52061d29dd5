/*
 * Receiving in groups: sender keys handed over in one-to-one messages,
 * group messages (SenderKeyMessages) decrypted with the record of their
 * (group, sender), and the server's group events. A group message whose
 * sender's key has not arrived is kept (acknowledged to the server, its
 * JSON in the state) and decrypted when the key comes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group_internal.h"
#include "ward/crypto.h"

/* The group's name for display: as kept, else asked of the server (once
 * per call; a failure only means the name is not shown). */
static const char *name_of(ward_client *c, int64_t gid, char *buf,
                           size_t cap)
{
    gs_group g;
    if (ward_gs_get(c->state, gid, &g) != WARD_OK || !g.name[0])
        ward_client_group_learn_name(c, gid);
    if (ward_gs_get(c->state, gid, &g) != WARD_OK || !g.name[0])
        return NULL;
    snprintf(buf, cap, "%s", g.name);
    return buf;
}

static int64_t group_of_content(const ward_content *content)
{
    if (content->group_id_len != 8)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | content->group_id[i];
    return v > 0 && v <= INT64_MAX ? (int64_t)v : 0;
}

ward_err ward_client_group_take_key(ward_client *c, const char *from,
                                    const ward_content *content,
                                    int64_t context, int64_t *gid)
{
    ward_sender_key *sk = NULL;
    int64_t g = group_of_content(content);
    if (!g || !content->skdm_len || g != context)
        return WARD_ERR_MALFORMED;
    ward_err e = ward_gs_get_key(c->state, g, from, &sk);
    if (e == WARD_ERR_NOT_FOUND)
        e = ward_sender_key_new(&sk);
    if (!e) {
        e = ward_sender_key_process(sk, content->skdm, content->skdm_len);
        if (e == WARD_ERR_VERSION)
            e = WARD_ERR_MALFORMED;
    }
    if (!e)
        e = ward_gs_put_key(c->state, g, from, sk);
    ward_sender_key_free(sk);
    if (!e)
        *gid = g;
    return e;
}

/* ---- group messages ---- */

/* Decrypts group message |in| (kept in the state already when
 * |pending|), commits what changed, and shows it; |*waiting| when its
 * sender's key is still missing (a pending message then stays kept). */
static ward_err open_group_msg(ward_client *c, ward_client_one_msg *in,
                               int pending,
                               void (*fn)(void *ctx, const ward_client_msg *m),
                               void *ctx, int *waiting, int *seen)
{
    char name[sizeof ((gs_group *)0)->name];
    ward_sender_key *sk = NULL;
    ward_content content;
    ward_buf pt;
    ward_content_init(&content);
    ward_buf_init(&pt, 0);
    *waiting = 0;
    *seen = 0;
    ward_client_msg m = {.id = in->id, .from = in->from,
                         .server_time = in->server_time, .group = in->group};
    m.group_name = name_of(c, in->group, name, sizeof name);
    ward_err e = ward_client_state_begin(c->state);
    if (e)
        return e;
    if (!pending &&
        ((e = ward_client_state_was_seen(c->state, in->id, seen)) || *seen))
        goto rollback;
    /* A kept one may have been handled by another process since it was
     * read: it is no longer kept then. */
    int kept = 1;
    if (pending && ((e = ward_gs_is_pending(c->state, in->id, &kept)) ||
                    !kept)) {
        *seen = !e;
        goto rollback;
    }
    e = ward_gs_get_key(c->state, in->group, in->from, &sk);
    ward_err d = e == WARD_ERR_NOT_FOUND ? WARD_ERR_NO_SESSION : e;
    if (e && e != WARD_ERR_NOT_FOUND)
        goto rollback;
    e = WARD_OK; /* no key yet is the message's state, not an error */
    if (!d)
        d = ward_sender_key_decrypt(sk, in->body.data, in->body.len, &pt);
    if (d == WARD_ERR_NO_SESSION) {
        /* Its sender's key (or this key id of it) has not come yet. */
        *waiting = 1;
        if (pending)
            goto rollback; /* stays kept as it is */
        char *json = json_dumps(in->json, JSON_COMPACT);
        e = json ? ward_gs_keep_pending(c->state, in->id, in->group,
                                        in->from, json)
                 : WARD_ERR_NOMEM;
        free(json);
        if (e == WARD_ERR_LIMIT) {
            /* Too many waiting: this one is given up on, and said so. */
            *waiting = 0;
            d = WARD_ERR_AUTH;
            e = WARD_OK;
        }
        if (e)
            goto rollback;
        m.problem = d;
    } else if (d) {
        m.problem = WARD_ERR_AUTH;
    } else {
        /* Decrypted: the record moved on whatever the content is. The
         * content must be for this group, committed to as franked. */
        uint8_t want[8];
        ward_gs_content_id(in->group, want);
        if (ward_content_decode(&content, pt.data, pt.len) != WARD_OK ||
            !ward_client_commitment_ok(in, &content, &pt) ||
            content.group_id_len != 8 ||
            memcmp(content.group_id, want, 8) != 0 || content.skdm_len)
            m.problem = WARD_ERR_AUTH;
        e = ward_gs_put_key(c->state, in->group, in->from, sk);
        if (!e && m.problem == WARD_OK) {
            m.text = content.body;
            m.text_len = content.body_len;
            m.sent_at = (int64_t)content.sent_at;
            e = ward_client_keep_reveal(c, in, &pt);
        }
        for (size_t i = 0; !e && m.problem == WARD_OK &&
                           i < content.n_attachments;
             i++)
            e = ward_client_attachment_defer(c, in->id, i, in->from,
                                             &content.attachments[i]);
    }
    if (!e && m.problem != WARD_ERR_NO_SESSION && pending)
        e = ward_gs_drop_pending(c->state, in->id);
    if (!e && !pending)
        e = ward_client_state_mark_seen(c->state, in->id);
    if (e)
        goto rollback;
    if ((e = ward_client_state_commit(c->state)))
        goto out;
    if (pending && *waiting)
        goto out;
    e = ward_client_show_with_attachments(c, &m, &content, fn, ctx);
    goto out;
rollback:
    ward_client_state_rollback(c->state);
out:
    ward_sender_key_free(sk);
    ward_content_release(&content);
    ward_buf_release(&pt);
    return e;
}

typedef struct retry_ctx {
    ward_client *c;
    void (*fn)(void *ctx, const ward_client_msg *m);
    void *ctx;
    size_t shown;
    ward_err e;
} retry_ctx;

static int retry_one(void *p, int64_t id, const char *json)
{
    retry_ctx *r = p;
    ward_client_one_msg in;
    memset(&in, 0, sizeof in);
    ward_buf_init(&in.body, 0);
    json_t *v = json_loads(json, 0, NULL);
    int waiting = 0, seen = 0;
    if (!v || ward_client_parse_entry(v, &in) < 0 || in.id != id ||
        in.type != WARD_MSG_SENDER_KEY || in.group <= 0) {
        /* Not what this code kept: let it go. */
        r->e = ward_gs_drop_pending(r->c->state, id);
    } else {
        r->e = open_group_msg(r->c, &in, 1, r->fn, r->ctx, &waiting, &seen);
        r->shown += !r->e && !waiting && !seen;
    }
    ward_buf_release(&in.body);
    json_decref(v);
    return r->e != WARD_OK;
}

ward_err ward_client_group_retry(ward_client *c, int64_t gid,
                                 const char *from,
                                 void (*fn)(void *ctx,
                                            const ward_client_msg *m),
                                 void *ctx, size_t *shown)
{
    retry_ctx r = {c, fn, ctx, 0, WARD_OK};
    ward_err e = ward_gs_each_pending(c->state, gid, from, retry_one, &r);
    if (shown)
        *shown = r.shown;
    return e ? e : r.e;
}

typedef struct retry_all_ctx {
    ward_client *c;
    void (*fn)(void *ctx, const ward_client_msg *m);
    void *ctx;
    size_t shown;
    ward_err e;
} retry_all_ctx;

static int retry_pair(void *p, int64_t gid, const char *sender)
{
    retry_all_ctx *r = p;
    size_t n = 0;
    r->e = ward_client_group_retry(r->c, gid, sender, r->fn, r->ctx, &n);
    r->shown += n;
    return r->e != WARD_OK;
}

ward_err ward_client_group_retry_all(ward_client *c,
                                     void (*fn)(void *ctx,
                                                const ward_client_msg *m),
                                     void *ctx, size_t *shown)
{
    retry_all_ctx r = {c, fn, ctx, 0, WARD_OK};
    ward_err e = ward_gs_pending_senders(c->state, retry_pair, &r);
    if (shown)
        *shown = r.shown;
    return e ? e : r.e;
}

/* ---- events ---- */

/* The sentence for an event (|me| in the third person becomes "you"). */
static void event_text(char *out, size_t cap, const char *what,
                       const char *actor, const char *target,
                       const char *role, const char *me)
{
    const char *t = target && strcmp(target, me) == 0 ? "you" : target;
    if (!actor)
        actor = "someone";
    if (!t)
        t = "someone";
    if (strcmp(what, "created") == 0)
        snprintf(out, cap, "%s created the group with you in it", actor);
    else if (strcmp(what, "added") == 0)
        snprintf(out, cap, "%s added %s", actor, t);
    else if (strcmp(what, "removed") == 0)
        snprintf(out, cap, "%s removed %s", actor, t);
    else if (strcmp(what, "left") == 0)
        snprintf(out, cap, "%s left", t);
    else if (strcmp(what, "updated") == 0)
        snprintf(out, cap, "%s changed the group's details", actor);
    else if (strcmp(what, "role") == 0)
        snprintf(out, cap, "%s made %s %s", actor, t,
                 role && strcmp(role, "admin") == 0 ? "an admin"
                                                    : "a member (not admin)");
    else
        snprintf(out, cap, "the group changed (%s)", what);
}

static ward_err group_event(ward_client *c, ward_client_one_msg *in,
                            void (*fn)(void *ctx, const ward_client_msg *m),
                            void *ctx, int *shown, int *ack_it)
{
    json_t *ev = json_object_get(in->json, "event"), *parsed = NULL;
    if (!json_is_object(ev) && in->body.len) {
        parsed = json_loadb((const char *)in->body.data, in->body.len, 0,
                            NULL);
        ev = parsed;
    }
    const char *what = json_string_value(json_object_get(ev, "event"));
    const char *actor = json_string_value(json_object_get(ev, "actor"));
    const char *target = json_string_value(json_object_get(ev, "target"));
    const char *role = json_string_value(json_object_get(ev, "role"));
    json_t *ep = json_object_get(ev, "epoch");
    json_t *g = json_object_get(ev, "group");
    int64_t epoch = json_is_integer(ep) ? json_integer_value(ep) : -1;
    if (!what || epoch < 0 || !json_is_integer(g) ||
        json_integer_value(g) != in->group) {
        /* Not an event this client understands: acknowledged, and said. */
        ward_err e = ward_client_state_mark_seen(c->state, in->id);
        ward_client_msg m = {.id = in->id, .from = in->from,
                             .server_time = in->server_time,
                             .group = in->group, .event = 1,
                             .text = "the group changed",
                             .text_len = strlen("the group changed")};
        if (!e && fn)
            fn(ctx, &m);
        *shown = !e;
        *ack_it = !e;
        json_decref(parsed);
        return e;
    }
    int to_me = target && strcmp(target, c->username) == 0;
    int gone = to_me && (strcmp(what, "removed") == 0 ||
                         strcmp(what, "left") == 0);
    char name[sizeof ((gs_group *)0)->name] = "", text[512];
    gs_group kept;
    if (ward_gs_get(c->state, in->group, &kept) == WARD_OK)
        memcpy(name, kept.name, sizeof name);
    int seen = 0;
    ward_err e = ward_client_state_begin(c->state);
    if (e)
        goto out;
    if ((e = ward_client_state_was_seen(c->state, in->id, &seen)) || seen) {
        ward_client_state_rollback(c->state);
        *ack_it = seen;
        goto out;
    }
    if (gone)
        /* Out of the group: its keys (ours and everyone's) go. */
        e = ward_gs_forget(c->state, in->group);
    else
        e = ward_gs_note_epoch(c->state, in->group, epoch,
                               strcmp(what, "removed") == 0 ||
                                   strcmp(what, "left") == 0);
    if (!e && strcmp(what, "updated") == 0)
        e = ward_gs_set_name(c->state, in->group, ""); /* asked again */
    if (!e)
        e = ward_client_state_mark_seen(c->state, in->id);
    e = e ? (ward_client_state_rollback(c->state), e)
          : ward_client_state_commit(c->state);
    if (e)
        goto out;
    event_text(text, sizeof text, what, actor, target, role, c->username);
    char fresh[sizeof name];
    const char *shown_name =
        gone ? (name[0] ? name : NULL) : name_of(c, in->group, fresh,
                                                 sizeof fresh);
    ward_client_msg m = {.id = in->id, .from = actor ? actor : in->from,
                         .server_time = in->server_time, .group = in->group,
                         .group_name = shown_name, .event = 1, .text = text,
                         .text_len = strlen(text)};
    if (fn)
        fn(ctx, &m);
    *shown = 1;
    *ack_it = 1;
out:
    json_decref(parsed);
    return e;
}

ward_err ward_client_group_process(ward_client *c, ward_client_one_msg *in,
                                   void (*fn)(void *ctx,
                                              const ward_client_msg *m),
                                   void *ctx, int *shown, int *ack_it,
                                   char *err, size_t errlen)
{
    *shown = 0;
    *ack_it = 0;
    if (in->group <= 0)
        return WARD_OK; /* malformed from the server: left queued there */
    ward_err e;
    if (in->type == WARD_CLIENT_MSG_GROUP_EVENT) {
        e = group_event(c, in, fn, ctx, shown, ack_it);
    } else {
        int waiting = 0, seen = 0;
        e = open_group_msg(c, in, 0, fn, ctx, &waiting, &seen);
        *shown = !e && !seen;
        *ack_it = !e;
    }
    if (e && err && errlen)
        snprintf(err, errlen, "cannot update the local state: %s",
                 ward_strerror(e));
    return e;
}
