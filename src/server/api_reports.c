/*
 * POST /v1/reports: a recipient reveals one message (or names an account)
 * to the operator. A message report is stored only if both MACs check:
 * the commitment over the revealed Content with the franking key inside
 * it, and the server's own tag binding that commitment to the sender, the
 * reporter as recipient, and the time. A reported image is fetched from
 * the blob store, decrypted with the key inside Content and checked
 * against the plaintext SHA-256 there, then kept as evidence.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_internal.h"
#include "ward/crypto.h"

/* Characters (not bytes) of valid UTF-8. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static const char *const evidence_names[] = {"none", "verified",
                                             "unavailable", "mismatch"};

/* A refused report: counted here and persistently, never stored. */
static void refuse(ward_api *api, ward_http_resp *resp, int status,
                   const char *code, const char *msg)
{
    api->stats.reports_refused++;
    (void)ward_store_counter_add(api->st, "reports_refused", 1);
    ward_resp_error(resp, status, code, msg);
}

/* Copies an image's bytes from blob |a| into the evidence directory,
 * decrypting and checking them; returns WARD_EVIDENCE_*. */
static int keep_image(ward_api *api, const ward_attachment *a,
                      int64_t report_hint, char *name, size_t cap)
{
    int fd = -1, out = -1;
    uint64_t size = 0;
    name[0] = 0;
    if (!api->blobs || !api->evidence_dir ||
        ward_blobs_read(api->blobs, a->id, &fd, &size) != WARD_OK)
        return WARD_EVIDENCE_UNAVAILABLE;
    int result = WARD_EVIDENCE_UNAVAILABLE;
    char path[4200];
    uint8_t rnd[8];
    ward_random(rnd, sizeof rnd);
    /* A name of ours (never the sender's file name). */
    snprintf(name, cap, "r%lld-%02x%02x%02x%02x%02x%02x%02x%02x.bin",
             (long long)report_hint, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4],
             rnd[5], rnd[6], rnd[7]);
    snprintf(path, sizeof path, "%s/%s", api->evidence_dir, name);
    out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
               0600);
    ward_stream_dec *d = NULL;
    if (out < 0 || a->size > WARD_STREAM_MAX_PLAIN ||
        ward_stream_dec_new(&d, a->key, a->size, out) != WARD_OK)
        goto done;
    uint8_t buf[65536];
    ward_err e = WARD_OK;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            e = WARD_ERR_IO;
            break;
        }
        if (r == 0)
            break;
        if ((e = ward_stream_dec_feed(d, buf, (size_t)r)))
            break;
    }
    if (!e)
        e = ward_stream_dec_finish(d, a->sha256);
    if (!e && fsync(out) == 0)
        result = WARD_EVIDENCE_VERIFIED;
    else if (e == WARD_ERR_AUTH)
        result = WARD_EVIDENCE_MISMATCH;
done:
    ward_stream_dec_free(d);
    if (fd >= 0)
        close(fd);
    if (out >= 0)
        close(out);
    if (result != WARD_EVIDENCE_VERIFIED) {
        if (out >= 0)
            unlink(path);
        name[0] = 0;
    }
    return result;
}

static const char *const message_keys[] = {"id", "from_id", "server_time",
                                           "content", "commitment", "tag",
                                           "key_id", "group", NULL};

/* Checks a revealed message and fills the report's evidence; on refusal
 * writes |resp| and returns -1. */
static int verify_message(ward_api *api, const ward_account *me, json_t *m,
                          ward_report *r, ward_buf *content,
                          ward_content *c, ward_http_resp *resp)
{
    uint64_t id, from, when, key_id, group = 0;
    int present;
    if (!json_is_object(m) || ward_api_known_keys(m, message_keys, resp) ||
        ward_json_uint(m, "id", 1, INT64_MAX, &id) ||
        ward_json_uint(m, "from_id", 1, INT64_MAX, &from) ||
        ward_json_uint(m, "server_time", 1, INT64_MAX, &when) ||
        ward_json_uint(m, "key_id", 1, UINT32_MAX, &key_id) ||
        ward_json_uint(m, "group", 0, INT64_MAX, &group) ||
        (json_object_get(m, "group") && group == 0) ||
        ward_json_b64_exact(m, "commitment", 1, r->commitment, 32,
                            &present) ||
        ward_json_b64_exact(m, "tag", 1, r->tag, 32, &present) ||
        ward_json_b64(m, "content", api->cfg.max_message, content)) {
        if (resp->status == 0 || resp->status < 400)
            refuse(api, resp, 400, "invalid_report",
                   "message needs id, from_id, server_time, key_id and "
                   "base64 content, commitment and tag");
        return -1;
    }
    r->message_id = (int64_t)id;
    r->subject = (int64_t)from;
    r->message_time = (int64_t)when;
    r->key_id = (uint32_t)key_id;
    r->group_id = (int64_t)group;
    /* First the commitment: does the content hold the key it names? */
    if (ward_content_decode(c, content->data, content->len) != WARD_OK ||
        !c->has_franking_key ||
        !ward_frank_check_commit(r->commitment, c->franking_key,
                                 content->data, content->len)) {
        refuse(api, resp, 422, "report_unverified",
               "the revealed content does not match its commitment");
        return -1;
    }
    const uint8_t *key;
    if (!api->frank || ward_frank_keys_lookup(api->frank, r->key_id,
                                              ward_api_now(api), &key)) {
        refuse(api, resp, 422, "franking_key_expired",
               "the message is too old to verify: the server key that "
               "stamped it has expired");
        return -1;
    }
    /* Then the tag: the server itself saw this commitment go from that
     * sender to this reporter (to that group, of which the reporter was a
     * member then) at that time. */
    int was = 0;
    if (r->group_id &&
        ward_store_group_member_at(api->st, r->group_id, me->id,
                                   r->message_time, &was) != WARD_OK) {
        ward_api_store_error(api, resp, WARD_ERR_STORE);
        return -1;
    }
    if (r->group_id
            ? !ward_frank_check_tag_group(r->tag, key, r->commitment,
                                          r->subject, r->group_id,
                                          r->message_time) ||
                  !was
            : !ward_frank_check_tag(r->tag, key, r->commitment, r->subject,
                                    me->id, r->message_time)) {
        refuse(api, resp, 422, "report_unverified",
               "the server did not deliver this message to you from that "
               "sender at that time");
        return -1;
    }
    return 0;
}

static const char *const report_keys[] = {"kind", "reason", "note",
                                          "message", "username", NULL};

int ward_api_report(ward_api *api, const ward_http_req *req,
                    ward_http_resp *resp)
{
    ward_account me, them;
    if (ward_api_require_account(api, req, resp, &me))
        return WARD_API_DONE;
    json_t *body = ward_api_body(req, resp, report_keys);
    if (!body)
        return WARD_API_DONE;
    ward_buf content;
    ward_buf_init(&content, api->cfg.max_message);
    ward_content c;
    ward_content_init(&c);
    ward_report r;
    memset(&r, 0, sizeof r);

    const char *kind = NULL, *reason = NULL, *note = NULL, *name = NULL;
    if (ward_json_str(body, "kind", 1, 16, &kind) ||
        ward_json_str(body, "reason", 1, 64, &reason) ||
        ward_json_str(body, "note", 0, WARD_REPORT_NOTE_MAX * 4, &note) ||
        ward_json_str(body, "username", 0, WARD_USERNAME_MAX, &name) ||
        !(r.reason = ward_report_reason_parse(reason)) ||
        (note && utf8_chars(note) > WARD_REPORT_NOTE_MAX)) {
        refuse(api, resp, 400, "invalid_report",
               "kind (message or account), reason (child_sexual_exploitation, "
               "grooming, sexual_harassment, other_harassment, spam, other) "
               "and an optional note of up to 1000 characters");
        goto out;
    }
    if (!ward_ratelimit_take(api->report_by_account, me.username,
                             ward_api_now(api))) {
        api->stats.rate_limited++;
        ward_resp_error(resp, 429, "rate_limited", "reporting too fast");
        goto out;
    }
    if (strcmp(kind, "message") == 0 && !name) {
        r.kind = WARD_REPORT_MESSAGE;
        if (verify_message(api, &me, json_object_get(body, "message"), &r,
                           &content, &c, resp))
            goto out;
        if (ward_store_account_by_id(api->st, r.subject, &them) != WARD_OK)
            memset(&them, 0, sizeof them); /* gone since: keep the report */
    } else if (strcmp(kind, "account") == 0 && name &&
               !json_object_get(body, "message")) {
        r.kind = WARD_REPORT_ACCOUNT;
        if (!ward_auth_username_valid(name) ||
            ward_store_account_by_name(api->st, name, &them) != WARD_OK) {
            refuse(api, resp, 404, "no_such_user", "no such user");
            goto out;
        }
        r.subject = them.id;
    } else {
        refuse(api, resp, 400, "invalid_report",
               "a message report carries message, an account report "
               "username");
        goto out;
    }
    if (r.subject == me.id) {
        refuse(api, resp, 400, "invalid_report", "you cannot report yourself");
        goto out;
    }
    r.reporter = me.id;
    memcpy(r.reporter_name, me.username, sizeof r.reporter_name);
    r.reporter_band = me.age_band;
    snprintf(r.subject_name, sizeof r.subject_name, "%s",
             them.id ? them.username : "(deleted account)");
    r.subject_band = them.id ? them.age_band : 0;
    r.created_at = ward_api_now(api);
    snprintf(r.note, sizeof r.note, "%s", note ? note : "");
    r.priority = me.age_band == WARD_AGE_MINOR ||
                         r.subject_band == WARD_AGE_MINOR
                     ? WARD_PRIORITY_HIGH
                     : WARD_PRIORITY_NORMAL;
    r.content = content.data;
    r.content_len = content.len;
    if (c.n_attachments)
        r.attachment = keep_image(api, &c.attachments[0], r.created_at,
                                  r.evidence, sizeof r.evidence);
    ward_err e = ward_store_report_add(api->st, &r);
    if (e) {
        if (r.evidence[0] && api->evidence_dir) {
            char path[4200];
            snprintf(path, sizeof path, "%s/%s", api->evidence_dir,
                     r.evidence);
            unlink(path);
        }
        ward_api_store_error(api, resp, e);
        goto out;
    }
    api->stats.reports_in++;
    ward_resp_json(resp, 201,
                   json_pack("{s:I,s:b,s:s,s:s}", "id", (json_int_t)r.id,
                             "verified", r.kind == WARD_REPORT_MESSAGE,
                             "priority",
                             r.priority == WARD_PRIORITY_HIGH ? "high"
                                                              : "normal",
                             "attachment", evidence_names[r.attachment]));
out:
    ward_content_release(&c);
    if (content.data)
        ward_memzero(content.data, content.len);
    ward_buf_release(&content);
    json_decref(body);
    return WARD_API_DONE;
}
