/*
 * The server's refusals in plain words: one table, one sentence per error
 * code, so that `ward send`, `ward chat`, `ward follow` and the others
 * say the same thing for the same refusal.
 *
 * A sentence says no more than the server's own message: what the user
 * can do about it, never a fact the rule protects (the other account's
 * age, a flag on the user's own). A code that hides something
 * (no_such_user also answers for an account the policy hides at find and
 * follow) must read exactly like the plain case.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client_internal.h"

typedef struct refusal {
    const char *code;
    /* "{who}" is the other account (or "that user"), "{until}" the end of
     * a suspension, "{detail}" the server's own message (for a code that
     * covers several cases). */
    const char *text;
} refusal;

static const refusal table[] = {
    /* the contact policy (bundle fetch, send, follow) */
    {"blocked_by_recipient", "{who} has blocked you: you cannot contact them"},
    {"you_blocked", "you have blocked {who}: run 'ward unblock {who}' to "
                    "contact them again"},
    /* Neither sentence says why the rule applies (the other account's age,
     * or a flag on yours): the server's own messages do not, an adult must
     * not learn from a refusal that an account is a child's, and a
     * flagged account must not learn that it is flagged. */
    {"minor_not_following", "{who} cannot be contacted: they accept new "
                            "conversations only from people they follow"},
    {"suspicious_account", "{who} cannot be contacted by you"},
    {"recipient_private", "{who}'s account is private: you can contact them "
                          "once they follow you"},
    /* your own account */
    {"account_banned", "your account has been banned: it can no longer be "
                       "used"},
    {"account_suspended", "your account is suspended until {until}"},
    {"unauthorized", "you are not logged in, or your login has expired: run "
                     "'ward account login'"},
    /* the social graph */
    {"no_such_user", "there is no user {who}"},
    {"not_following", "you do not follow {who}"},
    {"not_blocked", "you have not blocked {who}"},
    /* reports */
    {"report_unverified",
     "the report was refused: the server could not verify that {who} sent "
     "this message"},
    {"franking_key_expired",
     "this message is too old to be reported: the server no longer has the "
     "key that stamped it"},
    {"invalid_report", "the server refused the report: {detail}"},
    {"self", "{who} is your own account"},
    /* sending */
    {"queue_full", "{who} has too many unread messages: try again later"},
    {"rate_limited", "too many requests: wait a minute and try again"},
    {"message_too_large", "the message is too large"},
    {"no_keys", "{who} has no keys on the server yet: they need to log in "
                "once"},
    {"store_failed", "the server could not store it: try again"},
    {"busy", "the server is busy: try again"},
    /* groups: {who} is the group for the first three, the account for the
     * others. A group you are not in answers as one that does not exist,
     * and the sentence covers both. */
    {"no_such_group", "you are in no group {who}"},
    {"not_admin", "only the admins of {who} can do that"},
    {"group_full", "{who} has as many members as the server allows"},
    {"not_member", "{who} is not a member of the group"},
    {"already_member", "{who} is in the group already"},
    {"group_too_large", "a group cannot have that many members"},
    {"last_admin", "a group keeps at least one admin: make someone else "
                   "admin first"},
    {"invalid_group", "the server refused the group: {detail}"},
    /* The server says which case (a handover, or a group's details). */
    {"withheld", "{detail}"},
    {"no_avatar", "{who} has no avatar"},
    {"image_refused", "this image cannot be used"},
    {"invalid_avatar", "the server refused the image: {detail}"},
    {"membership_changed", "the group's members kept changing while "
                           "sending: try again"},
};

ward_err ward_client_refusal_text(const char *code, const char *who,
                                  int64_t until_ms, const char *detail,
                                  char *out, size_t cap)
{
    const refusal *r = NULL;
    for (size_t i = 0; code && i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].code, code) == 0)
            r = &table[i];
    if (!r || !out || cap == 0)
        return r ? WARD_ERR_INVALID_ARG : WARD_ERR_NOT_FOUND;
    char until[64] = "further notice";
    if (until_ms > 0) {
        time_t t = (time_t)(until_ms / 1000);
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(until, sizeof until, "%Y-%m-%d %H:%M UTC", &tm);
    }
    if (!who || !*who)
        who = "that user";
    if (!detail || !*detail)
        detail = "it is not valid";
    size_t n = 0;
    for (const char *p = r->text; *p && n + 1 < cap;) {
        const char *sub = NULL;
        if (strncmp(p, "{who}", 5) == 0)
            sub = who, p += 5;
        else if (strncmp(p, "{until}", 7) == 0)
            sub = until, p += 7;
        else if (strncmp(p, "{detail}", 8) == 0)
            sub = detail, p += 8;
        if (sub) {
            int k = snprintf(out + n, cap - n, "%s", sub);
            n += (size_t)k < cap - n ? (size_t)k : cap - n - 1;
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = 0;
    return WARD_OK;
}

const char *ward_client_refusal_code(size_t i)
{
    return i < sizeof table / sizeof table[0] ? table[i].code : NULL;
}

/* The end of a suspension, as the server sends it beside the code: in the
 * body, or (a WebSocket frame) inside "error". */
static int64_t until_of(json_t *reply)
{
    json_t *u = json_object_get(reply, "until");
    if (!json_is_integer(u))
        u = json_object_get(json_object_get(reply, "error"), "until");
    return json_is_integer(u) && json_integer_value(u) > 0
               ? json_integer_value(u)
               : 0;
}

void ward_client_server_error_about(json_t *reply, int status,
                                    const char *who, char *err,
                                    size_t errlen)
{
    if (!err || !errlen)
        return;
    json_t *msg = json_object_get(json_object_get(reply, "error"), "message");
    if (ward_client_refusal_text(ward_http_error_code(reply), who,
                                 until_of(reply), json_string_value(msg), err,
                                 errlen) == WARD_OK)
        return;
    snprintf(err, errlen, "server: %s (%d %s)", ward_http_error_text(reply),
             status, ward_http_error_code(reply));
}

void ward_client_server_error(json_t *reply, int status, char *err,
                              size_t errlen)
{
    ward_client_server_error_about(reply, status, NULL, err, errlen);
}
