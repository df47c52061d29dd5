/*
 * Reports. A message report reveals to the operator exactly one message,
 * as this device kept it when it was shown (state.c): its Content bytes
 * (the text, the franking key, any attachment's pointer and key), the
 * commitment, the server's tag and key id, the sender's id and the
 * server's time. The server checks both MACs, so a report can neither be
 * forged nor pinned on someone who did not send it. An account report
 * (a profile, a pattern of behaviour) reveals no message at all.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client_internal.h"
#include "ward/crypto.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct reason_row {
    ward_client_reason reason;
    const char *name;  /* the API's */
    const char *text;  /* for people */
    const char *words[3]; /* what the command line takes besides |name| */
} reason_row;

static const reason_row reasons[] = {
    {WARD_CLIENT_REASON_CHILD_SEXUAL_EXPLOITATION, "child_sexual_exploitation",
     "child sexual exploitation", {"csam", "child-sexual-exploitation", NULL}},
    {WARD_CLIENT_REASON_GROOMING, "grooming", "grooming", {NULL, NULL, NULL}},
    {WARD_CLIENT_REASON_SEXUAL_HARASSMENT, "sexual_harassment",
     "sexual harassment", {"sexual-harassment", NULL, NULL}},
    {WARD_CLIENT_REASON_OTHER_HARASSMENT, "other_harassment", "harassment",
     {"harassment", "other-harassment", NULL}},
    {WARD_CLIENT_REASON_SPAM, "spam", "spam", {NULL, NULL, NULL}},
    {WARD_CLIENT_REASON_OTHER, "other", "other", {NULL, NULL, NULL}},
};
#define N_REASONS (sizeof reasons / sizeof reasons[0])

static const reason_row *row_of(ward_client_reason r)
{
    for (size_t i = 0; i < N_REASONS; i++)
        if (reasons[i].reason == r)
            return &reasons[i];
    return NULL;
}

ward_err ward_client_reason_parse(const char *word, ward_client_reason *out)
{
    for (size_t i = 0; word && i < N_REASONS; i++) {
        int hit = strcmp(word, reasons[i].name) == 0;
        for (size_t k = 0; !hit && k < 3 && reasons[i].words[k]; k++)
            hit = strcmp(word, reasons[i].words[k]) == 0;
        if (hit) {
            *out = reasons[i].reason;
            return WARD_OK;
        }
    }
    return WARD_ERR_INVALID_ARG;
}

const char *ward_client_reason_name(ward_client_reason r)
{
    const reason_row *row = row_of(r);
    return row ? row->name : NULL;
}

const char *ward_client_reason_text(ward_client_reason r)
{
    const reason_row *row = row_of(r);
    return row ? row->text : NULL;
}

ward_err ward_client_parse_report_result(json_t *v, int message_report,
                                         ward_client_report_result *out)
{
    ward_client_report_result r;
    memset(&r, 0, sizeof r);
    json_t *id = json_object_get(v, "id");
    json_t *verified = json_object_get(v, "verified");
    const char *prio = json_string_value(json_object_get(v, "priority"));
    json_t *att = json_object_get(v, "attachment");
    const char *a = json_string_value(att);
    if (!json_is_integer(id) || json_integer_value(id) <= 0 || !prio ||
        (strcmp(prio, "high") != 0 && strcmp(prio, "normal") != 0))
        return WARD_ERR_MALFORMED;
    /* A message report's answer says what the server verified; an account
     * report has nothing to verify. */
    if (message_report &&
        (!json_is_boolean(verified) || !a ||
         (strcmp(a, "verified") != 0 && strcmp(a, "unavailable") != 0 &&
          strcmp(a, "mismatch") != 0 && strcmp(a, "none") != 0)))
        return WARD_ERR_MALFORMED;
    r.id = json_integer_value(id);
    r.verified = json_is_true(verified);
    r.high_priority = strcmp(prio, "high") == 0;
    if (message_report)
        snprintf(r.attachment, sizeof r.attachment, "%s", a);
    *out = r;
    return WARD_OK;
}

/* Adds reason and note to |body|; INVALID_ARG with a sentence for a note
 * that is not UTF-8 or too long. */
static ward_err add_reason(json_t *body, ward_client_reason reason,
                           const char *note, char *err, size_t errlen)
{
    const char *name = ward_client_reason_name(reason);
    if (!name) {
        if (err && errlen)
            snprintf(err, errlen, "unknown reason");
        return WARD_ERR_INVALID_ARG;
    }
    if (json_object_set_new(body, "reason", json_string(name)))
        return WARD_ERR_NOMEM;
    if (!note || !*note)
        return WARD_OK;
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)note; *p; p++)
        chars += (*p & 0xc0) != 0x80;
    json_t *n = json_string(note); /* NULL for invalid UTF-8 */
    if (!n || chars > WARD_CLIENT_NOTE_MAX) {
        json_decref(n);
        if (err && errlen)
            snprintf(err, errlen,
                     "the note must be UTF-8 text of at most %d characters",
                     WARD_CLIENT_NOTE_MAX);
        return WARD_ERR_INVALID_ARG;
    }
    return json_object_set_new(body, "note", n) ? WARD_ERR_NOMEM : WARD_OK;
}

/* POSTs |body| and reads the verdict. */
static ward_err post_report(ward_client *c, json_t *body, const char *user,
                            int message_report,
                            ward_client_report_result *out, char *err,
                            size_t errlen)
{
    json_t *reply = NULL;
    ward_client_report_result r;
    ward_err e = ward_client_request(c, "POST", "/v1/reports", body, 201, 201,
                                     NULL, &reply, user, err, errlen);
    if (!e && ward_client_parse_report_result(reply, message_report, &r)) {
        if (err && errlen)
            snprintf(err, errlen, "the server's reply is malformed (the "
                                  "report may have been filed)");
        e = WARD_ERR_MALFORMED;
    }
    if (!e && out)
        *out = r;
    json_decref(reply);
    return e;
}

static ward_err bad_name(const char *user, char *err, size_t errlen)
{
    if (ward_client_username_valid(user))
        return WARD_OK;
    if (err && errlen)
        snprintf(err, errlen, "'%.40s' is not a username", user ? user : "");
    return WARD_ERR_INVALID_ARG;
}

/* Wipes a JSON string in place before it is freed: jansson has no way to
 * say that a value is secret, and this one holds plaintext. */
static void wipe_json_string(json_t *v)
{
    if (json_is_string(v))
        ward_memzero((char *)json_string_value(v), json_string_length(v));
}

ward_err ward_client_report_message(ward_client *c, const char *user,
                                    int64_t msg_id, ward_client_reason reason,
                                    const char *note,
                                    ward_client_report_result *out,
                                    char *err, size_t errlen)
{
    ward_client_reveal r;
    json_t *body = NULL, *msg = NULL, *content = NULL;
    int days = WARD_CLIENT_KEEP_DAYS_DEFAULT;
    memset(&r, 0, sizeof r);
    ward_err e = bad_name(user, err, errlen);
    if (e)
        return e;
    /* What is older than the retention period is gone, whatever the
     * state still holds until its next purge. */
    (void)ward_client_state_purge_expired(c->state, now_ms(), &days);
    e = msg_id > 0 ? ward_client_state_get_reveal(c->state, msg_id, &r)
                   : WARD_ERR_NOT_FOUND;
    if (e == WARD_ERR_NOT_FOUND) {
        if (err && errlen)
            snprintf(err, errlen,
                     "message %lld is not kept on this device: only messages "
                     "shown here in the last %d days can be reported",
                     (long long)msg_id, days);
        return e;
    }
    if (e) {
        if (err && errlen)
            snprintf(err, errlen, "cannot read the local state: %s",
                     ward_strerror(e));
        return e;
    }
    if (strcmp(r.from, user) != 0) {
        if (err && errlen)
            snprintf(err, errlen,
                     "message %lld is from %s, not %s: nothing was reported",
                     (long long)msg_id, r.from, user);
        e = WARD_ERR_INVALID_ARG;
        goto done;
    }
    if (!r.has_tag || r.from_id <= 0) {
        if (err && errlen)
            snprintf(err, errlen,
                     "message %lld cannot be reported: the server did not "
                     "stamp it with a franking tag",
                     (long long)msg_id);
        e = WARD_ERR_BAD_STATE;
        goto done;
    }
    /* "O" below: |content| stays ours too, to wipe after the request. */
    content = ward_b64_json(r.content, r.content_len);
    msg = content ? json_pack("{s:I,s:I,s:I,s:O,s:o,s:o,s:I}", "id",
                              (json_int_t)r.id, "from_id",
                              (json_int_t)r.from_id, "server_time",
                              (json_int_t)r.server_time, "content", content,
                              "commitment",
                              ward_b64_json(r.commitment,
                                            sizeof r.commitment),
                              "tag", ward_b64_json(r.tag, sizeof r.tag),
                              "key_id", (json_int_t)r.key_id)
                  : NULL;
    /* A group message names its group: the server checks the group tag
     * and that we were a member then. */
    if (msg && r.group > 0 &&
        json_object_set_new(msg, "group", json_integer(r.group))) {
        json_decref(msg);
        msg = NULL;
    }
    body = msg ? json_pack("{s:s,s:o}", "kind", "message", "message", msg)
               : NULL;
    if (!body) {
        e = WARD_ERR_NOMEM;
        goto done;
    }
    if ((e = add_reason(body, reason, note, err, errlen)))
        goto done;
    e = post_report(c, body, user, 1, out, err, errlen);
done:
    wipe_json_string(content);
    json_decref(content);
    json_decref(body);
    ward_client_reveal_release(&r);
    return e;
}

ward_err ward_client_report_account(ward_client *c, const char *user,
                                    ward_client_reason reason,
                                    const char *note,
                                    ward_client_report_result *out,
                                    char *err, size_t errlen)
{
    ward_err e = bad_name(user, err, errlen);
    if (e)
        return e;
    json_t *body = json_pack("{s:s,s:s}", "kind", "account", "username", user);
    if (!body)
        return WARD_ERR_NOMEM;
    e = add_reason(body, reason, note, err, errlen);
    if (!e)
        e = post_report(c, body, user, 0, out, err, errlen);
    json_decref(body);
    return e;
}

ward_err ward_client_kept_messages(ward_client *c, const char *peer,
                                   int (*fn)(void *ctx,
                                             const ward_client_reveal *r),
                                   void *ctx, char *err, size_t errlen)
{
    (void)ward_client_state_purge_expired(c->state, now_ms(), NULL);
    ward_err e = ward_client_state_each_reveal(c->state, peer, fn, ctx);
    if (e && err && errlen)
        snprintf(err, errlen, "cannot read the local state: %s",
                 ward_strerror(e));
    return e;
}
