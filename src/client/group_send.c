/*
 * Sending to a group. Our sender key for the group is handed (an SKDM in
 * a one-to-one message) to each member who lacks it before we send with
 * it; a new key is made, and handed to the remaining members only, when
 * someone who held the current one has left or been removed (or left and
 * come back: a member's join time tells). The message is posted at the
 * membership epoch whose members were checked; a 409 means the
 * membership moved on meanwhile: catch up, and send again.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "group_internal.h"
#include "ward/crypto.h"

#define SEND_ATTEMPTS 4

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const gs_member *find_account(const gs_member *arr, size_t n,
                                     int64_t account)
{
    for (size_t i = 0; i < n; i++)
        if (arr[i].account == account)
            return &arr[i];
    return NULL;
}

/* 1 if someone who holds our key is no longer the member it was handed
 * to (gone, or gone and back). */
static int holder_gone(const gs_member *members, size_t nm,
                       const gs_member *holders, size_t nh)
{
    for (size_t i = 0; i < nh; i++) {
        if (holders[i].refused_epoch)
            continue; /* never had it */
        const gs_member *m = find_account(members, nm, holders[i].account);
        if (!m || m->joined_at != holders[i].joined_at)
            return 1;
    }
    return 0;
}

/* Makes our first key for the group, or a new one when a holder has
 * gone or an event said someone went since it was made. |*rotated|: a
 * key was replaced. */
static ward_err prepare_key(ward_client *c, int64_t gid, int *rotated)
{
    gs_group g;
    gs_member *members = NULL, *holders = NULL;
    size_t nm = 0, nh = 0;
    ward_sender_key *own = NULL;
    *rotated = 0;
    ward_err e = ward_client_state_begin(c->state);
    if (e)
        return e;
    if (!(e = ward_gs_get(c->state, gid, &g)) &&
        !(e = ward_gs_members(c->state, gid, 0, &members, &nm)))
        e = ward_gs_members(c->state, gid, 1, &holders, &nh);
    if (e)
        goto out;
    e = ward_gs_get_key(c->state, gid, NULL, &own);
    int first = e == WARD_ERR_NOT_FOUND;
    if (e && !first)
        goto out;
    e = WARD_OK;
    if (first || g.rotate_after > g.key_epoch ||
        holder_gone(members, nm, holders, nh)) {
        if (first)
            e = ward_sender_key_new(&own);
        /* Every state of the old key is dropped: nothing more is ever
         * sent with it. */
        if (!e)
            e = ward_sender_key_create(own, NULL);
        if (!e)
            e = ward_gs_put_key(c->state, gid, NULL, own);
        if (!e)
            e = ward_gs_new_key_epoch(c->state, gid, g.members_epoch);
        *rotated = !e && !first;
    }
out:
    e = e ? (ward_client_state_rollback(c->state), e)
          : ward_client_state_commit(c->state);
    ward_sender_key_free(own);
    free(members);
    free(holders);
    return e;
}

/* Records what became of our key |handed| with |m|, unless another
 * process of this account replaced the key meanwhile (|*same| 0): the
 * member holds the old one then, not ours. */
static ward_err put_holder_if_current(ward_client *c, int64_t gid,
                                      const ward_sender_key *handed,
                                      const gs_member *m, int *same)
{
    ward_sender_key *now = NULL;
    ward_sender_key_info a, b;
    ward_err e = ward_client_state_begin(c->state);
    if (e)
        return e;
    e = ward_gs_get_key(c->state, gid, NULL, &now);
    if (!e)
        e = ward_sender_key_info_get(now, 0, &a);
    if (!e)
        e = ward_sender_key_info_get(handed, 0, &b);
    *same = !e && a.key_id == b.key_id;
    if (!e && *same)
        e = ward_gs_put_holder(c->state, gid, m);
    e = e ? (ward_client_state_rollback(c->state), e)
          : ward_client_state_commit(c->state);
    ward_sender_key_free(now);
    return e;
}

ward_err ward_client_group_distribute(ward_client *c, int64_t gid,
                                      size_t *unreachable, char *err,
                                      size_t errlen)
{
    gs_group g;
    gs_member *members = NULL, *holders = NULL;
    size_t nm = 0, nh = 0, refused = 0;
    ward_sender_key *own = NULL;
    ward_content content;
    ward_buf skdm;
    ward_content_init(&content);
    ward_buf_init(&skdm, WARD_CONTENT_MAX_SKDM);
    ward_err e = ward_gs_get(c->state, gid, &g);
    if (!e)
        e = ward_gs_get_key(c->state, gid, NULL, &own);
    if (e == WARD_ERR_NOT_FOUND) {
        e = WARD_OK; /* no key yet: nothing to hand over */
        goto out;
    }
    if (!e)
        e = ward_gs_members(c->state, gid, 0, &members, &nm);
    if (!e)
        e = ward_gs_members(c->state, gid, 1, &holders, &nh);
    /* At the chain's current iteration: what was sent before cannot be
     * read with it. */
    if (!e)
        e = ward_sender_key_distribution(own, &skdm);
    if (e) {
        if (err && errlen)
            snprintf(err, errlen, "cannot read the local state: %s",
                     ward_strerror(e));
        goto out;
    }
    memcpy(content.skdm, skdm.data, skdm.len);
    content.skdm_len = skdm.len;
    content.group_id_len = 8;
    ward_gs_content_id(gid, content.group_id);
    for (size_t i = 0; i < nm; i++) {
        gs_member m = members[i];
        if (strcmp(m.username, c->username) == 0)
            continue;
        const gs_member *h = find_account(holders, nh, m.account);
        if (h && h->joined_at == m.joined_at && h->refused_epoch == 0)
            continue; /* has it */
        if (h && h->joined_at == m.joined_at &&
            (h->refused_epoch == g.members_epoch ||
             -h->refused_epoch == g.members_epoch)) {
            refused += h->refused_epoch > 0; /* at this membership */
            continue;
        }
        char why[512] = "";
        ward_err s = ward_client_send_content(c, m.username, gid, &content,
                                              NULL, why, sizeof why);
        if (s == WARD_ERR_FORBIDDEN || s == WARD_ERR_NOT_FOUND ||
            s == WARD_ERR_UNTRUSTED_IDENTITY || s == WARD_ERR_AUTH ||
            s == WARD_ERR_MALFORMED) {
            /* The contact policy keeps our messages from them (the server
             * withholds the group's copies by the same rule), or their
             * keys keep our key from them. Tried again once the
             * membership changes. */
            m.refused_epoch = g.members_epoch ? g.members_epoch : 1;
            if (s == WARD_ERR_FORBIDDEN)
                m.refused_epoch = -m.refused_epoch;
            else
                refused++;
            ward_client_note(c, "%s does not get your messages in \"%s\": "
                             "%s", m.username, g.name, why);
        } else if (s == WARD_ERR_LIMIT) {
            /* Their queue is full (or we are too fast): the others are
             * not held up; tried again at the next send, and until then
             * they cannot read ours. */
            refused++;
            ward_client_note(c, "%s cannot be handed your key in \"%s\" "
                             "now: %s", m.username, g.name, why);
            continue;
        } else if (s) {
            if (err && errlen)
                snprintf(err, errlen, "cannot hand your group key to %s: %s",
                         m.username, why);
            e = s;
            goto out;
        } else {
            m.refused_epoch = 0;
        }
        int same = 1;
        if ((e = put_holder_if_current(c, gid, own, &m, &same))) {
            if (err && errlen)
                snprintf(err, errlen, "cannot update the local state");
            goto out;
        }
        if (!same)
            break; /* rotated meanwhile: the next send hands the new one */
    }
out:
    if (unreachable)
        *unreachable = refused;
    ward_content_release(&content);
    ward_buf_release(&skdm);
    ward_sender_key_free(own);
    free(members);
    free(holders);
    return e;
}

/* The members the contact rules refused our key to at this membership,
 * as the group send's "unkeyed"; NULL when out of memory. */
static json_t *unkeyed_list(ward_client *c, int64_t gid, int64_t epoch)
{
    gs_member *holders = NULL;
    size_t nh = 0;
    json_t *arr = json_array();
    if (!arr || ward_gs_members(c->state, gid, 1, &holders, &nh)) {
        json_decref(arr);
        return NULL;
    }
    for (size_t i = 0; i < nh; i++)
        if (-holders[i].refused_epoch == epoch &&
            json_array_append_new(arr, json_string(holders[i].username))) {
            json_decref(arr);
            arr = NULL;
            break;
        }
    free(holders);
    return arr;
}

/* After 409 members_reachable: the members it names are handed our key
 * at the next attempt. */
static ward_err rehand(ward_client *c, int64_t gid, json_t *reply)
{
    json_t *names = json_object_get(json_object_get(reply, "error"),
                                    "members");
    size_t i;
    json_t *v;
    ward_err e = WARD_OK;
    json_array_foreach(names, i, v) {
        if (!e && json_is_string(v))
            e = ward_gs_drop_holder(c->state, gid, json_string_value(v));
    }
    return e;
}

/* Encrypts |content| (a fresh franking key, committed to) with our key:
 * |msg| gets the SenderKeyMessage, |commitment| the commitment. The
 * advanced key is saved before anything is sent: a crash can lose this
 * message, never reuse its key. */
static ward_err seal(ward_client *c, int64_t gid, ward_content *content,
                     ward_buf *msg, uint8_t commitment[32], uint32_t *key_id)
{
    ward_sender_key *own = NULL;
    ward_buf plain;
    ward_buf_init(&plain, 0);
    ward_err e = ward_client_state_begin(c->state);
    if (e)
        return e;
    e = ward_gs_get_key(c->state, gid, NULL, &own);
    content->has_franking_key = 1;
    ward_random(content->franking_key, sizeof content->franking_key);
    content->sent_at = (uint64_t)now_ms();
    ward_buf_clear(msg);
    if (!e)
        e = ward_content_encode(content, &plain);
    if (!e) {
        ward_hmac_sha256(commitment, content->franking_key,
                         sizeof content->franking_key, plain.data,
                         plain.len);
        e = ward_sender_key_encrypt(own, plain.data, plain.len, msg);
    }
    ward_sender_key_info info;
    if (!e && !(e = ward_sender_key_info_get(own, 0, &info)))
        *key_id = info.key_id;
    if (!e)
        e = ward_gs_put_key(c->state, gid, NULL, own);
    e = e ? (ward_client_state_rollback(c->state), e)
          : ward_client_state_commit(c->state);
    ward_buf_release(&plain);
    ward_sender_key_free(own);
    return e;
}

ward_err ward_client_group_key_info(ward_client *c, int64_t id,
                                    ward_sender_key_info *out)
{
    ward_sender_key *own = NULL;
    ward_err e = ward_gs_get_key(c->state, id, NULL, &own);
    if (!e)
        e = ward_sender_key_info_get(own, 0, out);
    ward_sender_key_free(own);
    return e;
}

/* Sends |content| (its body and attachments; the group id is set here)
 * to group |id|, as ward_client_group_send_text says. */
static ward_err send_content(ward_client *c, int64_t id, ward_content *content,
                             ward_client_group_sent *out, char *err,
                             size_t errlen)
{
    ward_client_group_sent r;
    ward_buf msg;
    uint8_t commitment[32];
    memset(&r, 0, sizeof r);
    ward_buf_init(&msg, 0);
    content->group_id_len = 8;
    ward_gs_content_id(id, content->group_id);
    ward_err e = ward_client_use_token(c, err, errlen);
    if (e)
        goto out;
    for (int attempt = 0;; attempt++) {
        gs_group g;
        if (attempt == SEND_ATTEMPTS) {
            if (err && errlen)
                ward_client_refusal_text("membership_changed", NULL, 0, NULL,
                                         err, errlen);
            e = WARD_ERR_CONFLICT;
            goto out;
        }
        /* The members as the server has them now, unless what is kept is
         * known to be current. */
        e = ward_gs_get(c->state, id, &g);
        if (e == WARD_ERR_NOT_FOUND || (!e && (g.members_epoch == 0 ||
                                               g.epoch > g.members_epoch ||
                                               attempt > 0)))
            e = ward_client_group_refresh(c, id, &g, err, errlen);
        if (e)
            goto out;
        int rotated = 0;
        if ((e = prepare_key(c, id, &rotated))) {
            if (err && errlen)
                snprintf(err, errlen, "cannot update the local state");
            goto out;
        }
        r.rotated |= rotated;
        if ((e = ward_client_group_distribute(c, id, &r.unreachable, err,
                                              errlen)))
            goto out;
        /* Encrypted afresh at each attempt: a member handed the key since
         * the last one starts at the chain's current iteration. */
        if ((e = seal(c, id, content, &msg, commitment, &r.key_id))) {
            if (err && errlen)
                snprintf(err, errlen, "cannot encrypt: %s", ward_strerror(e));
            goto out;
        }
        json_t *unkeyed = unkeyed_list(c, id, g.members_epoch);
        json_t *body = unkeyed ? json_pack("{s:i,s:o,s:o,s:I,s:o}", "type",
                                           WARD_MSG_SENDER_KEY, "body",
                                           ward_b64_json(msg.data, msg.len),
                                           "commitment",
                                           ward_b64_json(commitment,
                                                         sizeof commitment),
                                           "epoch",
                                           (json_int_t)g.members_epoch,
                                           "unkeyed", unkeyed)
                               : NULL;
        json_t *reply = NULL;
        int status = 0;
        char path[64];
        snprintf(path, sizeof path, "/v1/groups/%lld/messages",
                 (long long)id);
        e = body ? ward_http_call(c->http, "POST", path, body, &status,
                                  &reply, err, errlen)
                 : WARD_ERR_NOMEM;
        json_decref(body);
        if (e)
            goto out;
        const char *code = ward_http_error_code(reply);
        if (status == 409 && strcmp(code, "membership_changed") == 0) {
            json_t *ep = json_object_get(json_object_get(reply, "error"),
                                         "epoch");
            if (json_is_integer(ep))
                (void)ward_gs_note_epoch(c->state, id,
                                         json_integer_value(ep), 0);
            json_decref(reply);
            continue;
        }
        if (status == 409 && strcmp(code, "members_reachable") == 0) {
            e = rehand(c, id, reply);
            json_decref(reply);
            if (e) {
                if (err && errlen)
                    snprintf(err, errlen, "cannot update the local state");
                goto out;
            }
            continue;
        }
        if (status != 201) {
            char label[300];
            snprintf(label, sizeof label, "\"%s\"", g.name);
            ward_client_server_error_about(reply, status, label, err, errlen);
            json_decref(reply);
            e = status == 404   ? WARD_ERR_NOT_FOUND
                : status == 403 ? WARD_ERR_FORBIDDEN
                : status == 401 ? WARD_ERR_AUTH
                                : WARD_ERR_IO;
            goto out;
        }
        r.server_time = json_integer_value(json_object_get(reply,
                                                           "server_time"));
        r.recipients = json_integer_value(json_object_get(reply,
                                                          "recipients"));
        r.delivered = json_integer_value(json_object_get(reply, "delivered"));
        r.withheld = json_integer_value(json_object_get(reply, "withheld"));
        json_decref(reply);
        break;
    }
    if (out)
        *out = r;
out:
    ward_memzero(commitment, sizeof commitment);
    ward_buf_release(&msg);
    return e;
}

ward_err ward_client_group_send_text(ward_client *c, int64_t id,
                                     const char *text,
                                     ward_client_group_sent *out, char *err,
                                     size_t errlen)
{
    if (id <= 0 || !text) {
        if (err && errlen)
            snprintf(err, errlen, "a group id is a positive number");
        return WARD_ERR_INVALID_ARG;
    }
    ward_content content;
    ward_content_init(&content);
    ward_err e = ward_content_set_body(&content, text, strlen(text));
    if (e && err && errlen)
        snprintf(err, errlen, "the text is not valid UTF-8 or too long");
    if (!e)
        e = send_content(c, id, &content, out, err, errlen);
    ward_content_release(&content);
    return e;
}

ward_err ward_client_group_send_image(ward_client *c, int64_t id,
                                      const char *path, const char *caption,
                                      ward_client_group_sent *out, char *err,
                                      size_t errlen)
{
    if (id <= 0 || !path) {
        if (err && errlen)
            snprintf(err, errlen, "a group id is a positive number");
        return WARD_ERR_INVALID_ARG;
    }
    ward_content content;
    ward_content_init(&content);
    /* Uploaded once, encrypted with one key: every member fetches the
     * same blob, the key travelling inside the group message. */
    ward_err e = ward_client_upload_image(c, path, caption, &content, err,
                                          errlen);
    if (!e)
        e = send_content(c, id, &content, out, err, errlen);
    ward_content_release(&content);
    return e;
}
