/* Sending and receiving end-to-end encrypted messages. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "group_internal.h"
#include "ward/crypto.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Remembers a peer's new identity key until the user accepts it. */
static void note_new_identity(ward_client *c, const char *peer,
                              const uint8_t pub[WARD_PUBKEY_LEN])
{
    char key[96];
    json_t *v = ward_b64_json(pub, WARD_PUBKEY_LEN);
    snprintf(key, sizeof key, "pending_identity:%s", peer);
    if (v)
        (void)ward_client_state_set(c->state, key, json_string_value(v));
    json_decref(v);
}

static ward_err load_session(ward_client *c, const char *peer,
                             ward_session **out)
{
    ward_err e = ward_client_state_get_session(c->state, peer, out);
    return e == WARD_ERR_NOT_FOUND ? ward_session_new(out) : e;
}

static int bundle_from_json(json_t *r, ward_bundle *b)
{
    json_t *spk = json_object_get(r, "signed_prekey");
    json_t *pre = json_object_get(r, "prekey");
    json_t *reg = json_object_get(r, "registration_id");
    json_t *sid = json_object_get(spk, "id");
    memset(b, 0, sizeof *b);
    if (!json_is_integer(reg) || !json_is_integer(sid) ||
        ward_b64_json_exact(json_object_get(r, "identity_key"), b->identity,
                          WARD_PUBKEY_LEN) ||
        ward_b64_json_exact(json_object_get(spk, "key"), b->signed_prekey,
                          WARD_PUBKEY_LEN) ||
        ward_b64_json_exact(json_object_get(spk, "signature"),
                          b->signed_prekey_sig, WARD_SIGNATURE_LEN))
        return -1;
    b->registration_id = (uint32_t)json_integer_value(reg);
    b->device_id = 1;
    b->signed_prekey_id = (uint32_t)json_integer_value(sid);
    if (pre) {
        json_t *pid = json_object_get(pre, "id");
        if (!json_is_integer(pid) ||
            ward_b64_json_exact(json_object_get(pre, "key"), b->prekey,
                              WARD_PUBKEY_LEN))
            return -1;
        b->has_prekey = 1;
        b->prekey_id = (uint32_t)json_integer_value(pid);
    }
    return 0;
}

/* Starts a session with |to| from their published bundle. */
static ward_err start_session(ward_client *c, ward_session *s,
                              const ward_identity *id, const char *to,
                              int64_t group, char *err, size_t errlen)
{
    char path[160];
    int status = 0;
    json_t *reply = NULL;
    ward_bundle b;
    if (group)
        snprintf(path, sizeof path, "/v1/keys/%s?group=%lld", to,
                 (long long)group);
    else
        snprintf(path, sizeof path, "/v1/keys/%s", to);
    ward_err e = ward_http_call(c->http, "GET", path, NULL, &status, &reply,
                                err, errlen);
    if (e)
        return e;
    if (status != 200) {
        ward_client_server_error_about(reply, status, to, err, errlen);
        json_decref(reply);
        return status == 404   ? WARD_ERR_NOT_FOUND
               : status == 403 ? WARD_ERR_FORBIDDEN
                               : WARD_ERR_IO;
    }
    if (bundle_from_json(reply, &b)) {
        json_decref(reply);
        if (err && errlen)
            snprintf(err, errlen, "the server sent a malformed bundle");
        return WARD_ERR_MALFORMED;
    }
    json_decref(reply);
    e = ward_session_init_from_bundle(s, id, &b);
    if (e == WARD_ERR_UNTRUSTED_IDENTITY) {
        note_new_identity(c, to, b.identity);
        if (err && errlen)
            snprintf(err, errlen,
                     "%s's identity key has changed (a new phone, or someone "
                     "else): check with them, then run 'ward trust %s'",
                     to, to);
    } else if (e && err && errlen) {
        snprintf(err, errlen, "%s's keys are not valid: %s", to,
                 ward_strerror(e));
    }
    return e;
}

ward_err ward_client_seal(ward_client *c, const char *to, int64_t group,
                          ward_content *content, json_t **out, char *err,
                          size_t errlen)
{
    ward_identity *id = NULL;
    ward_session *s = NULL;
    ward_buf plain, msg;
    uint8_t commitment[32];
    int type = 0;
    ward_buf_init(&plain, 0);
    ward_buf_init(&msg, 0);
    *out = NULL;

    int in_txn = 0;
    ward_err e = ward_client_use_token(c, err, errlen);
    if (!e && (e = ward_client_state_get_identity(c->state, &id)) &&
        err && errlen)
        snprintf(err, errlen, "this device has no keys: log in first");
    /* Another process of this account (a `ward recv --follow` beside a
     * `ward chat`) may move the same session on: read, advance and save
     * it in one write transaction, or one of the two updates is lost and
     * a message key is used twice. */
    if (!e && (e = ward_client_state_begin(c->state)) && err && errlen)
        snprintf(err, errlen, "cannot lock the local state");
    in_txn = !e;
    if (!e)
        e = load_session(c, to, &s);
    if (!e && !ward_session_is_ready(s))
        e = start_session(c, s, id, to, group, err, errlen);
    if (e)
        goto done;

    /* A fresh franking key committed to beside the ciphertext, so the
     * recipient can later prove to the operator what was sent. */
    content->has_franking_key = 1;
    ward_random(content->franking_key, sizeof content->franking_key);
    content->sent_at = (uint64_t)now_ms();
    if ((e = ward_content_encode(content, &plain)))
        goto done;
    ward_hmac_sha256(commitment, content->franking_key,
                     sizeof content->franking_key, plain.data, plain.len);
    if ((e = ward_session_encrypt(s, plain.data, plain.len, &msg, &type)))
        goto done;
    /* The advanced session is saved before sending: a crash afterwards can
     * lose this message, never reuse its key. */
    e = ward_client_state_put_session(c->state, to, s);
    in_txn = 0;
    e = e ? (ward_client_state_rollback(c->state), e)
          : ward_client_state_commit(c->state);
    if (e) {
        if (err && errlen)
            snprintf(err, errlen, "cannot save the session");
        goto done;
    }
    *out = json_pack("{s:s,s:i,s:o,s:o}", "to", to, "type", type, "body",
                     ward_b64_json(msg.data, msg.len), "commitment",
                     ward_b64_json(commitment, sizeof commitment));
    if (*out && group &&
        json_object_set_new(*out, "group", json_integer(group))) {
        json_decref(*out);
        *out = NULL;
    }
    if (!*out)
        e = WARD_ERR_NOMEM;
done:
    if (in_txn) {
        /* Nothing was sealed; a changed identity key noted is kept. */
        if (e == WARD_ERR_UNTRUSTED_IDENTITY)
            (void)ward_client_state_commit(c->state);
        else
            ward_client_state_rollback(c->state);
    }
    ward_buf_release(&plain);
    ward_buf_release(&msg);
    ward_session_free(s);
    ward_identity_free(id);
    return e;
}

ward_err ward_client_post(ward_client *c, json_t *body, int64_t *id_out,
                          char *err, size_t errlen)
{
    json_t *reply = NULL;
    int status = 0;
    ward_err e = ward_http_call(c->http, "POST", "/v1/messages", body,
                                &status, &reply, err, errlen);
    if (!e && status != 201) {
        ward_client_server_error_about(
            reply, status, json_string_value(json_object_get(body, "to")), err,
            errlen);
        e = status == 404   ? WARD_ERR_NOT_FOUND
            : status == 403 ? WARD_ERR_FORBIDDEN
            : status == 429 ? WARD_ERR_LIMIT /* a full queue, or too fast */
                            : WARD_ERR_IO;
    }
    if (!e && id_out)
        *id_out = json_integer_value(json_object_get(reply, "id"));
    json_decref(reply);
    return e;
}

ward_err ward_client_send_content(ward_client *c, const char *to,
                                  int64_t group, ward_content *content,
                                  int64_t *id_out, char *err, size_t errlen)
{
    json_t *body = NULL;
    ward_err e = ward_client_seal(c, to, group, content, &body, err, errlen);
    if (!e)
        e = ward_client_post(c, body, id_out, err, errlen);
    json_decref(body);
    return e;
}

ward_err ward_client_send_text(ward_client *c, const char *to,
                               const char *text, int64_t *id_out, char *err,
                               size_t errlen)
{
    ward_content content;
    ward_content_init(&content);
    ward_err e = ward_content_set_body(&content, text, strlen(text));
    if (e) {
        if (err && errlen)
            snprintf(err, errlen, "the text is not valid UTF-8 or too long");
    } else {
        e = ward_client_send_content(c, to, 0, &content, id_out, err,
                                     errlen);
    }
    ward_content_release(&content);
    return e;
}

static ward_err ack(ward_client *c, int64_t id, char *err, size_t errlen)
{
    char path[64];
    int status = 0;
    json_t *reply = NULL;
    snprintf(path, sizeof path, "/v1/messages/%lld", (long long)id);
    ward_err e = ward_http_call(c->http, "DELETE", path, NULL, &status, &reply,
                                err, errlen);
    /* 404: already acknowledged (a redelivery): fine. */
    if (!e && status != 204 && status != 404) {
        ward_client_server_error(reply, status, err, errlen);
        e = WARD_ERR_IO;
    }
    json_decref(reply);
    return e;
}

typedef ward_client_one_msg one_msg;

/* Keeps what a report of this message reveals (client.h). */
ward_err ward_client_keep_reveal(ward_client *c, const one_msg *in,
                                 const ward_buf *pt)
{
    ward_client_reveal r;
    memset(&r, 0, sizeof r);
    r.id = in->id;
    snprintf(r.from, sizeof r.from, "%s", in->from);
    r.from_id = in->from_id;
    r.server_time = in->server_time;
    r.content = pt->data; /* borrowed: copied into the state */
    r.content_len = pt->len;
    memcpy(r.commitment, in->commitment, sizeof r.commitment);
    r.has_tag = in->has_tag;
    memcpy(r.tag, in->tag, sizeof r.tag);
    r.key_id = in->key_id;
    r.shown_at = now_ms();
    r.group = in->type == WARD_MSG_SENDER_KEY ? in->group : 0;
    ward_err e = ward_client_state_put_reveal(c->state, &r);
    ward_memzero(&r, sizeof r);
    return e;
}

int ward_client_commitment_ok(const one_msg *in, const ward_content *content,
                              const ward_buf *pt)
{
    uint8_t expect[32];
    if (!content->has_franking_key || !in->has_commitment)
        return 0;
    ward_hmac_sha256(expect, content->franking_key,
                     sizeof content->franking_key, pt->data, pt->len);
    int ok = ward_ct_equal(expect, in->commitment, 32);
    ward_memzero(expect, sizeof expect);
    return ok;
}

/* Decrypts one message and commits the session change; |m| says what to
 * show, |*keep| whether to leave it queued, |*seen| that it was handled
 * already (by another process of this account). */
static ward_err open_one(ward_client *c, const ward_identity *id,
                         ward_prekeys *pk, one_msg *in, ward_client_msg *m,
                         ward_content *content, int *keep, int *seen,
                         int64_t *key_group)
{
    ward_session *s = NULL;
    ward_prekeys *fresh = NULL;
    ward_buf pt;
    ward_buf_init(&pt, 0);
    *keep = 0;
    *seen = 0;
    *key_group = 0;
    /* The seen-ids, the session and the prekeys are read inside the write
     * transaction: another process of this account may have handled this
     * message, or moved the session on, since the caller looked. */
    ward_err e = ward_client_state_begin(c->state);
    if (e)
        return e;
    if ((e = ward_client_state_was_seen(c->state, in->id, seen)) || *seen) {
        ward_client_state_rollback(c->state);
        return e;
    }
    if ((e = load_session(c, in->from, &s))) {
        ward_client_state_rollback(c->state);
        return e;
    }
    if (in->type == WARD_MSG_PREKEY) {
        if ((e = ward_client_state_get_prekeys(c->state, &fresh))) {
            ward_client_state_rollback(c->state);
            goto done;
        }
        pk = fresh;
    }
    ward_err d = ward_session_decrypt(s, id, pk, in->type, in->body.data,
                                      in->body.len, &pt);
    if (d == WARD_ERR_UNTRUSTED_IDENTITY) {
        ward_prekey_msg pm;
        if (ward_prekey_msg_parse(&pm, in->body.data, in->body.len) == 0) {
            uint8_t pub[WARD_PUBKEY_LEN];
            pub[0] = WARD_KEY_TYPE_DJB;
            memcpy(pub + 1, pm.identity_key, 32);
            note_new_identity(c, in->from, pub);
        }
        m->problem = d;
        *keep = 1; /* stays queued until the user trusts the new key */
        e = ward_client_state_commit(c->state);
        goto done;
    }
    if (d) {
        m->problem = WARD_ERR_AUTH;
        e = ward_client_state_mark_seen(c->state, in->id);
        e = e ? (ward_client_state_rollback(c->state), e)
              : ward_client_state_commit(c->state);
        goto done;
    }
    /* Decrypted: the session moved on whatever the content turns out to
     * be. A commitment that does not match means the sender made a
     * message it could deny having sent: drop it. */
    if (ward_content_decode(content, pt.data, pt.len) != WARD_OK ||
        !ward_client_commitment_ok(in, content, &pt))
        m->problem = WARD_ERR_AUTH;
    /* Delivered in a group's context, it reached us under the group's
     * contact rules, not the direct ones (a private account takes a
     * member's key from someone it does not follow): nothing but that
     * group's key is accepted in it, or the context would carry direct
     * messages the rules refuse. */
    if (m->problem == WARD_OK && in->group && !content->skdm_len)
        m->problem = WARD_ERR_AUTH;
    /* A group key distribution is not a message to show: its SKDM goes
     * into the record for (group, sender), in this transaction. A broken
     * one is dropped like any malformed message. */
    if (m->problem == WARD_OK && content->skdm_len) {
        e = ward_client_group_take_key(c, in->from, content, in->group,
                                       key_group);
        if (e == WARD_ERR_MALFORMED) {
            m->problem = WARD_ERR_AUTH;
            *key_group = 0;
            e = WARD_OK;
        } else if (e) {
            ward_client_state_rollback(c->state);
            goto done;
        }
    }
    if (m->problem == WARD_OK && *key_group) {
        /* Nothing below: not kept for a report, no attachments. */
    } else if (m->problem == WARD_OK) {
        m->text = content->body;
        m->text_len = content->body_len;
        m->sent_at = (int64_t)content->sent_at;
    }
    e = ward_client_state_put_session(c->state, in->from, s);
    if (!e && in->type == WARD_MSG_PREKEY)
        e = ward_client_state_put_prekeys(c->state, pk);
    /* What a report reveals is kept in the same transaction as the seen
     * id: a message the user was shown can always be reported. One whose
     * commitment failed is not kept: it was never shown. */
    if (!e && m->problem == WARD_OK && !*key_group)
        e = ward_client_keep_reveal(c, in, &pt);
    /* Each attachment is owed from the moment its message counts as seen:
     * its pointer is kept in the same transaction and dropped once it is
     * saved or refused, so a crash mid-download loses nothing. */
    for (size_t i = 0; !e && m->problem == WARD_OK && !*key_group &&
                       i < content->n_attachments;
         i++)
        e = ward_client_attachment_defer(c, in->id, i, in->from,
                                         &content->attachments[i]);
    if (!e)
        e = ward_client_state_mark_seen(c->state, in->id);
    e = e ? (ward_client_state_rollback(c->state), e)
          : ward_client_state_commit(c->state);
done:
    ward_buf_release(&pt);
    ward_session_free(s);
    ward_prekeys_free(fresh);
    return e;
}

/* Fetches every attachment of a readable message, then shows it. */
ward_err ward_client_show_with_attachments(
    ward_client *c, ward_client_msg *m, const ward_content *content,
    void (*fn)(void *ctx, const ward_client_msg *m), void *ctx)
{
    size_t n = m->problem == WARD_OK ? content->n_attachments : 0;
    ward_client_attachment *att = n ? calloc(n, sizeof *att) : NULL;
    char (*saved)[4400] = n ? calloc(n, sizeof *saved) : NULL;
    char (*why)[256] = n ? calloc(n, sizeof *why) : NULL;
    if (n && (!att || !saved || !why)) {
        free(att);
        free(saved);
        free(why);
        return WARD_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const ward_attachment *a = &content->attachments[i];
        att[i].file_name = a->file_name;
        att[i].content_type = a->content_type;
        att[i].size = a->size;
        att[i].problem = ward_client_fetch_attachment(
            c, a, m->id, saved[i], sizeof saved[i], why[i], sizeof why[i]);
        if (att[i].problem == WARD_ERR_IO) {
            /* Its pointer stays in the state for the next try. */
            char first[256];
            memcpy(first, why[i], sizeof first);
            snprintf(why[i], sizeof why[i],
                     "not downloaded yet (%.150s); it is tried again at the "
                     "next ward recv",
                     first);
        } else {
            (void)ward_client_attachment_settle(c, m->id, i);
        }
        if (att[i].problem == WARD_OK)
            att[i].saved_path = saved[i];
        else
            att[i].problem_text = why[i];
    }
    m->attachments = att;
    m->n_attachments = n;
    if (fn)
        fn(ctx, m);
    m->attachments = NULL;
    m->n_attachments = 0;
    free(att);
    free(saved);
    free(why);
    return WARD_OK;
}

int ward_client_parse_entry(json_t *v, one_msg *in)
{
    memset(in, 0, sizeof *in);
    ward_buf_init(&in->body, 0);
    in->id = json_integer_value(json_object_get(v, "id"));
    in->server_time = json_integer_value(json_object_get(v, "server_time"));
    in->type = (int)json_integer_value(json_object_get(v, "type"));
    in->from = json_string_value(json_object_get(v, "from"));
    json_t *b = json_object_get(v, "body");
    /* A name longer than any the server allows cannot be kept for a
     * report either. */
    if (!in->from || !in->from[0] || strlen(in->from) > 63 ||
        !json_is_string(b) || in->id <= 0)
        return -1;
    size_t len = json_string_length(b);
    if (ward_buf_reserve(&in->body, len) == WARD_OK) {
        size_t n = 0;
        const char *end = NULL;
        if (sodium_base642bin(in->body.data, in->body.cap,
                              json_string_value(b), len, NULL, &n, &end,
                              sodium_base64_VARIANT_ORIGINAL) == 0)
            in->body.len = n;
    }
    in->has_commitment = ward_b64_json_exact(json_object_get(v, "commitment"),
                                           in->commitment, 32) == 0;
    /* The franking fields only matter to a report: a message without them
     * (from a server before franking tags) is shown, and a report of it is
     * refused on this side. */
    json_t *fid = json_object_get(v, "from_id");
    json_t *kid = json_object_get(v, "key_id");
    if (json_is_integer(fid) && json_integer_value(fid) > 0)
        in->from_id = json_integer_value(fid);
    if (json_is_integer(kid) && json_integer_value(kid) >= 0 &&
        ward_b64_json_exact(json_object_get(v, "tag"), in->tag, 32) == 0) {
        in->has_tag = 1;
        in->key_id = json_integer_value(kid);
    }
    json_t *gid = json_object_get(v, "group");
    if (json_is_integer(gid) && json_integer_value(gid) > 0)
        in->group = json_integer_value(gid);
    in->json = v;
    return 0;
}

ward_err ward_client_process(ward_client *c, const ward_identity *id,
                             ward_prekeys *pk, json_t *v,
                             void (*fn)(void *ctx, const ward_client_msg *m),
                             void *ctx, int *shown, int *ack_it, char *err,
                             size_t errlen)
{
    one_msg in;
    int seen = 0;
    ward_err e = WARD_OK;
    *shown = 0;
    *ack_it = 0;
    if (ward_client_parse_entry(v, &in) < 0) {
        ward_buf_release(&in.body);
        return WARD_OK; /* malformed from the server: left queued there */
    }
    /* Our own state failing is not the message's fault: stop, and say so,
     * rather than skip it silently. */
    if ((e = ward_client_state_was_seen(c->state, in.id, &seen))) {
        ward_buf_release(&in.body);
        if (err && errlen)
            snprintf(err, errlen, "cannot read the local state");
        return e;
    }
    if (seen) {
        ward_buf_release(&in.body);
        *ack_it = 1;
        return WARD_OK;
    }
    if (in.type == WARD_MSG_SENDER_KEY || in.type == WARD_CLIENT_MSG_GROUP_EVENT) {
        e = ward_client_group_process(c, &in, fn, ctx, shown, ack_it, err,
                                      errlen);
        ward_buf_release(&in.body);
        return e;
    }
    ward_client_msg m = {.id = in.id, .from = in.from,
                         .server_time = in.server_time};
    ward_content content;
    int keep = 0;
    int64_t key_group = 0;
    ward_content_init(&content);
    e = open_one(c, id, pk, &in, &m, &content, &keep, &seen, &key_group);
    if (!e && seen) {
        *ack_it = 1; /* handled meanwhile by another process */
    } else if (!e && key_group) {
        /* A sender key arrived: not shown itself, but the group messages
         * that waited for it can be now. */
        size_t n = 0;
        *ack_it = 1;
        e = ward_client_group_retry(c, key_group, in.from, fn, ctx, &n);
        *shown = n > 0;
        if (e && err && errlen)
            snprintf(err, errlen, "cannot read the local state");
    } else if (!e) {
        e = ward_client_show_with_attachments(c, &m, &content, fn, ctx);
        if (!e) {
            *shown = 1;
            *ack_it = !keep;
        }
    }
    ward_content_release(&content);
    ward_buf_release(&in.body);
    return e;
}

ward_err ward_client_receive(ward_client *c,
                             void (*fn)(void *ctx, const ward_client_msg *m),
                             void *ctx, size_t *count, char *err,
                             size_t errlen)
{
    ward_identity *id = NULL;
    ward_prekeys *pk = NULL;
    json_t *reply = NULL;
    int64_t after = 0;
    size_t shown = 0;
    ward_err e = ward_client_use_token(c, err, errlen);
    /* Kept plaintext past its retention period goes first. */
    if (!e)
        (void)ward_client_state_purge_expired(c->state, now_ms(), NULL);
    /* Images an earlier run could not download come first, and group
     * messages whose key came in a run that stopped before their turn. */
    if (!e)
        (void)ward_client_retry_attachments(c, fn, ctx, &shown, NULL);
    if (!e) {
        size_t n = 0;
        (void)ward_client_group_retry_all(c, fn, ctx, &n);
        shown += n;
    }
    if (!e)
        e = ward_client_state_get_identity(c->state, &id);
    if (!e)
        e = ward_client_state_get_prekeys(c->state, &pk);
    if (e)
        goto done;
    for (;;) {
        char path[96];
        int status = 0;
        snprintf(path, sizeof path, "/v1/messages?after=%lld&limit=100",
                 (long long)after);
        json_decref(reply);
        reply = NULL;
        if ((e = ward_http_call(c->http, "GET", path, NULL, &status, &reply,
                                err, errlen)))
            goto done;
        if (status != 200) {
            ward_client_server_error(reply, status, err, errlen);
            e = WARD_ERR_IO;
            goto done;
        }
        json_t *arr = json_object_get(reply, "messages"), *v;
        size_t i;
        if (!json_is_array(arr) || json_array_size(arr) == 0)
            break;
        json_array_foreach(arr, i, v) {
            int64_t mid = json_integer_value(json_object_get(v, "id"));
            int was_shown = 0, ack_it = 0;
            after = mid > after ? mid : after;
            e = ward_client_process(c, id, pk, v, fn, ctx, &was_shown,
                                    &ack_it, err, errlen);
            if (e)
                goto done;
            shown += (size_t)was_shown;
            if (ack_it) {
                /* A redelivery's ack failing is harmless; a new one's is
                 * reported. */
                e = ack(c, mid, was_shown ? err : NULL,
                        was_shown ? errlen : 0);
                if (e && was_shown)
                    goto done;
                e = WARD_OK;
            }
        }
    }
done:
    if (count)
        *count = shown;
    json_decref(reply);
    ward_prekeys_free(pk);
    ward_identity_free(id);
    return e;
}

ward_err ward_client_trust(ward_client *c, const char *peer, char *err,
                           size_t errlen)
{
    char key[96], b64[128];
    uint8_t pub[WARD_PUBKEY_LEN];
    ward_session *s = NULL;
    snprintf(key, sizeof key, "pending_identity:%s", peer);
    ward_err e = ward_client_state_get(c->state, key, b64, sizeof b64);
    if (e) {
        if (err && errlen)
            snprintf(err, errlen, "no changed identity key from %s to trust",
                     peer);
        return e;
    }
    json_t *v = json_string(b64);
    if (!v || ward_b64_json_exact(v, pub, sizeof pub)) {
        json_decref(v);
        return WARD_ERR_BAD_STATE;
    }
    json_decref(v);
    e = load_session(c, peer, &s);
    if (!e)
        e = ward_session_trust(s, pub);
    if (!e)
        e = ward_client_state_put_session(c->state, peer, s);
    if (!e)
        e = ward_client_state_unset(c->state, key);
    ward_session_free(s);
    return e;
}
