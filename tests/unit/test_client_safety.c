/*
 * The client's side of child safety, without a server: the refusal
 * sentences, report reasons, the parsers of the server's replies, and
 * what happens to a delivered message (src/client/messaging.c): a
 * commitment that does not match drops it, a shown one is kept for a
 * report in the same transaction as its seen id, and a report is refused
 * on this side when the message is not USER's, not kept, or not stamped.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/client/client_internal.h"
#include "ward/client.h"
#include "ward/crypto.h"
#include "ward/safety.h"
#include "wtest.h"

static char dir[] = "/tmp/ward-client-safety-XXXXXX";

/* ---- the refusal sentences ---- */

/* The codes of docs/dev/issue4-contract.md that name another account,
 * and those that do not: each must have a sentence of its own. Written
 * out here from the contract, not taken from the table under test. */
static const char *const about_other[] = {
    "blocked_by_recipient", "you_blocked", "minor_not_following",
    "suspicious_account", "recipient_private", "no_such_user",
    "not_following", "not_blocked", "report_unverified"};
static const char *const about_self[] = {
    "account_banned", "account_suspended", "franking_key_expired",
    "invalid_report"};

static int has(const char *s, const char *word)
{
    return strstr(s, word) != NULL;
}

static void test_refusals(void)
{
    char out[512], out2[512];
    for (size_t i = 0; i < sizeof about_other / sizeof *about_other; i++) {
        out[0] = 0;
        CHECK_EQ_INT(ward_client_refusal_text(about_other[i], "bobby", 0, NULL,
                                              out, sizeof out),
                     WARD_OK);
        if (!has(out, "bobby"))
            fprintf(stderr, "no name in the sentence for %s: %s\n",
                    about_other[i], out);
        CHECK(has(out, "bobby"));
        /* A plain sentence, not the code again. */
        CHECK(!has(out, about_other[i]) && !has(out, "_"));
        /* Without a name it still reads. */
        CHECK_EQ_INT(ward_client_refusal_text(about_other[i], NULL, 0, NULL,
                                              out2, sizeof out2),
                     WARD_OK);
        CHECK(has(out2, "that user") && !has(out2, "(null)"));
    }
    for (size_t i = 0; i < sizeof about_self / sizeof *about_self; i++) {
        out[0] = 0;
        CHECK_EQ_INT(ward_client_refusal_text(about_self[i], "bobby", 0, NULL,
                                              out, sizeof out),
                     WARD_OK);
        CHECK(strlen(out) > 10 && !has(out, "_"));
    }
    /* The group codes: about the group (named as the client gives it) or
     * about a member; plain sentences. A group one is not in reads as
     * one that does not exist, as the server answers. */
    static const char *const about_group[] = {"no_such_group", "not_admin",
                                              "group_full"};
    static const char *const about_member[] = {"not_member",
                                               "already_member"};
    for (size_t i = 0; i < 3; i++) {
        CHECK_EQ_INT(ward_client_refusal_text(about_group[i], "\"Book club\"",
                                              0, NULL, out, sizeof out),
                     WARD_OK);
        CHECK(has(out, "\"Book club\"") && !has(out, "_"));
    }
    for (size_t i = 0; i < 2; i++) {
        CHECK_EQ_INT(ward_client_refusal_text(about_member[i], "bobby", 0,
                                              NULL, out, sizeof out),
                     WARD_OK);
        CHECK(has(out, "bobby") && !has(out, "_"));
    }
    ward_client_refusal_text("no_such_group", "7", 0, NULL, out, sizeof out);
    CHECK(strcmp(out, "you are in no group 7") == 0);
    static const char *const group_plain[] = {"group_too_large", "last_admin",
                                              "membership_changed",
                                              "invalid_group"};
    for (size_t i = 0; i < 4; i++) {
        CHECK_EQ_INT(ward_client_refusal_text(group_plain[i], NULL, 0, NULL,
                                              out, sizeof out),
                     WARD_OK);
        CHECK(strlen(out) > 10 && !has(out, "_") && !has(out, "(null)"));
    }

    /* Distinct refusals read differently. */
    char a[256], b[256];
    ward_client_refusal_text("blocked_by_recipient", "bob", 0, NULL, a,
                             sizeof a);
    ward_client_refusal_text("you_blocked", "bob", 0, NULL, b, sizeof b);
    CHECK(strcmp(a, b) != 0);

    /* Only the codes that are about age say anything about it: the others
     * must not reveal more than the server did. */
    static const char *const ageless[] = {
        "blocked_by_recipient", "you_blocked",   "recipient_private",
        "no_such_user",         "not_following", "report_unverified"};
    for (size_t i = 0; i < sizeof ageless / sizeof *ageless; i++) {
        ward_client_refusal_text(ageless[i], "bob", 0, NULL, out, sizeof out);
        CHECK(!has(out, "18") && !has(out, "minor") && !has(out, "child") &&
              !has(out, " age") && !has(out, "young"));
    }
    /* Nor do the two rules about minors: an adult must not learn from a
     * refusal that an account is a child's (find hides them for that
     * reason), nor a flagged account that it is flagged. */
    static const char *const guarded[] = {"minor_not_following",
                                          "suspicious_account"};
    for (size_t i = 0; i < 2; i++) {
        ward_client_refusal_text(guarded[i], "bob", 0, NULL, out, sizeof out);
        CHECK(has(out, "bob cannot be contacted"));
        CHECK(!has(out, "18") && !has(out, "minor") && !has(out, "child") &&
              !has(out, " age") && !has(out, "young") &&
              !has(out, "flag") && !has(out, "suspic"));
    }
    ward_client_refusal_text("minor_not_following", "bob", 0, NULL, out,
                             sizeof out);
    CHECK(has(out, "only from people they follow"));
    /* no_such_user also answers for an account the policy hides: it must
     * not hint at hiding. */
    ward_client_refusal_text("no_such_user", "bob", 0, NULL, out, sizeof out);
    CHECK(!has(out, "hid") && !has(out, "allowed") && !has(out, "policy"));

    /* A suspension gives its end in UTC (2027-01-01T00:00:00Z). */
    ward_client_refusal_text("account_suspended", NULL, 1798761600000LL, NULL,
                             out, sizeof out);
    CHECK(has(out, "2027-01-01 00:00 UTC"));
    ward_client_refusal_text("account_suspended", NULL, 0, NULL, out,
                             sizeof out);
    CHECK(has(out, "suspended"));

    /* invalid_report quotes the server, which says what was wrong. */
    ward_client_refusal_text("invalid_report", NULL, 0,
                             "you cannot report yourself", out, sizeof out);
    CHECK(strcmp(out, "the server refused the report: you cannot report "
                      "yourself") == 0);
    ward_client_refusal_text("invalid_report", NULL, 0, NULL, out, sizeof out);
    CHECK(has(out, "refused the report") && !has(out, "(null)"));

    /* An unknown code: NOT_FOUND, and |out| untouched. */
    strcpy(out, "unchanged");
    CHECK_EQ_INT(ward_client_refusal_text("frobnicated", "bob", 0, NULL, out,
                                          sizeof out),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(
        ward_client_refusal_text(NULL, "bob", 0, NULL, out, sizeof out),
        WARD_ERR_NOT_FOUND);
    CHECK(strcmp(out, "unchanged") == 0);
    /* A small buffer is cut short, terminated. */
    memset(out, 'x', sizeof out);
    CHECK_EQ_INT(
        ward_client_refusal_text("you_blocked", "bob", 0, NULL, out, 8),
        WARD_OK);
    CHECK(strlen(out) == 7);
    /* A long name does not overflow. */
    char big[300];
    memset(big, 'n', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECK_EQ_INT(
        ward_client_refusal_text("you_blocked", big, 0, NULL, out, 100),
        WARD_OK);
    CHECK(strlen(out) == 99);

    /* Every refusal the server's contact policy can send as a code (at an
     * entry point that refuses rather than hides) has a sentence: taken
     * from the server's own rule table, so a rule added there without a
     * sentence here fails. */
    int n_rules = 0;
    const ward_rule *rules = ward_policy_rules(&n_rules);
    CHECK(n_rules > 0);
    for (int i = 0; i < n_rules; i++) {
        for (unsigned bit = 1; bit <= WARD_ENTRY_ALL; bit <<= 1) {
            if (!(rules[i].entries & bit) ||
                ward_entry_hides((ward_entry)bit))
                continue;
            const char *code = ward_verdict_code(rules[i].verdict);
            ward_err e =
                ward_client_refusal_text(code, "bob", 0, NULL, out,
                                         sizeof out);
            if (e)
                fprintf(stderr, "no sentence for the policy's '%s'\n", code);
            CHECK_EQ_INT(e, WARD_OK);
        }
    }

    /* Every code in the table has a non-empty sentence. */
    size_t n = 0;
    for (const char *code; (code = ward_client_refusal_code(n)); n++) {
        CHECK_EQ_INT(ward_client_refusal_text(code, "bob", 0, NULL, out,
                                              sizeof out),
                     WARD_OK);
        CHECK(strlen(out) > 10);
    }
    CHECK(n >= sizeof about_other / sizeof *about_other +
                   sizeof about_self / sizeof *about_self);

    /* An error reply: the sentence for a known code (with the until of
     * the error object), the server's words for another. */
    json_t *r = json_loads("{\"error\":{\"code\":\"account_suspended\","
                           "\"message\":\"suspended\",\"until\":"
                           "1798761600000}}",
                           0, NULL);
    ward_client_server_error_about(r, 403, "bob", out, sizeof out);
    CHECK(has(out, "suspended until 2027-01-01"));
    json_decref(r);
    r = json_loads("{\"error\":{\"code\":\"recipient_private\","
                   "\"message\":\"x\"}}",
                   0, NULL);
    ward_client_server_error_about(r, 403, "carol", out, sizeof out);
    CHECK(has(out, "carol's account is private"));
    json_decref(r);
    r = json_loads("{\"error\":{\"code\":\"teapot\",\"message\":\"I am a "
                   "teapot\"}}",
                   0, NULL);
    ward_client_server_error_about(r, 418, "bob", out, sizeof out);
    CHECK(strcmp(out, "server: I am a teapot (418 teapot)") == 0);
    json_decref(r);
}

/* ---- report reasons ---- */

static void test_reasons(void)
{
    static const struct {
        const char *word, *api;
    } cases[] = {
        {"csam", "child_sexual_exploitation"},
        {"child-sexual-exploitation", "child_sexual_exploitation"},
        {"child_sexual_exploitation", "child_sexual_exploitation"},
        {"grooming", "grooming"},
        {"sexual-harassment", "sexual_harassment"},
        {"harassment", "other_harassment"},
        {"other-harassment", "other_harassment"},
        {"spam", "spam"},
        {"other", "other"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ward_client_reason r = 0;
        CHECK_EQ_INT(ward_client_reason_parse(cases[i].word, &r), WARD_OK);
        const char *name = ward_client_reason_name(r);
        CHECK(name && strcmp(name, cases[i].api) == 0);
        CHECK(ward_client_reason_text(r) != NULL);
    }
    static const char *const bad[] = {"", "CSAM", "abuse", "spam ",
                                      "harass", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ward_client_reason r = WARD_CLIENT_REASON_SPAM;
        CHECK_EQ_INT(ward_client_reason_parse(bad[i], &r),
                     WARD_ERR_INVALID_ARG);
        CHECK_EQ_INT(r, WARD_CLIENT_REASON_SPAM);
    }
    CHECK(ward_client_reason_name((ward_client_reason)0) == NULL);
    CHECK(ward_client_reason_name((ward_client_reason)99) == NULL);
}

/* ---- the server's replies ---- */

static json_t *J(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);
    REQUIRE(v != NULL);
    return v;
}

static int collect(void *ctx, const char *user)
{
    char *s = ctx;
    strcat(s, user);
    strcat(s, ",");
    return 0;
}

static int collect_sugg(void *ctx, const char *user, int64_t shared)
{
    char *s = ctx;
    sprintf(s + strlen(s), "%s=%lld,", user, (long long)shared);
    return 0;
}

static void test_parsers(void)
{
    ward_client_user u;
    json_t *v = J("{\"username\":\"bob\",\"id\":5,\"you_follow\":true,"
                  "\"follows_you\":false}");
    CHECK_EQ_INT(ward_client_parse_user(v, &u), WARD_OK);
    CHECK(strcmp(u.username, "bob") == 0 && u.id == 5 && u.you_follow == 1 &&
          u.follows_you == 0);
    json_decref(v);
    static const char *const bad_users[] = {
        "{\"username\":\"bob\",\"id\":5,\"you_follow\":1,"
        "\"follows_you\":false}",
        "{\"username\":\"b\\u001bb\",\"id\":5,\"you_follow\":true,"
        "\"follows_you\":false}",
        "{\"username\":\"bob\",\"id\":0,\"you_follow\":true,"
        "\"follows_you\":false}",
        "{\"id\":5,\"you_follow\":true,\"follows_you\":false}",
        "[]",
    };
    for (size_t i = 0; i < sizeof bad_users / sizeof *bad_users; i++) {
        memset(&u, 0x55, sizeof u);
        v = J(bad_users[i]);
        CHECK_EQ_INT(ward_client_parse_user(v, &u), WARD_ERR_MALFORMED);
        CHECK(u.id == 0x5555555555555555LL); /* untouched */
        json_decref(v);
    }

    char names[256] = "";
    v = J("[\"alice\",\"bob\",\"carol-1\"]");
    CHECK_EQ_INT(ward_client_parse_names(v, collect, names), WARD_OK);
    CHECK(strcmp(names, "alice,bob,carol-1,") == 0);
    json_decref(v);
    names[0] = 0;
    /* One bad name refuses the list before any name is handed on. */
    v = J("[\"alice\",\"BOB\"]");
    CHECK_EQ_INT(ward_client_parse_names(v, collect, names),
                 WARD_ERR_MALFORMED);
    CHECK(names[0] == 0);
    json_decref(v);
    v = J("{\"a\":1}");
    CHECK_EQ_INT(ward_client_parse_names(v, collect, names),
                 WARD_ERR_MALFORMED);
    json_decref(v);

    v = J("{\"suggestions\":[{\"username\":\"dave\",\"shared\":3},"
          "{\"username\":\"erin\",\"shared\":1}]}");
    CHECK_EQ_INT(ward_client_parse_suggestions(v, collect_sugg, names),
                 WARD_OK);
    CHECK(strcmp(names, "dave=3,erin=1,") == 0);
    json_decref(v);
    names[0] = 0;
    v = J("{\"suggestions\":[{\"username\":\"dave\",\"shared\":-1}]}");
    CHECK_EQ_INT(ward_client_parse_suggestions(v, collect_sugg, names),
                 WARD_ERR_MALFORMED);
    CHECK(names[0] == 0);
    json_decref(v);

    ward_client_account a;
    v = J("{\"id\":3,\"username\":\"kid\",\"age_band\":\"minor\","
          "\"private\":true,\"status\":\"active\",\"created_at\":17}");
    CHECK_EQ_INT(ward_client_parse_account(v, &a), WARD_OK);
    CHECK(a.id == 3 && a.minor == 1 && a.is_private == 1 &&
          strcmp(a.status, "active") == 0 && a.created_at == 17);
    json_decref(v);
    v = J("{\"id\":3,\"username\":\"kid\",\"age_band\":\"teen\","
          "\"private\":true,\"status\":\"active\"}");
    CHECK_EQ_INT(ward_client_parse_account(v, &a), WARD_ERR_MALFORMED);
    json_decref(v);

    ward_client_report_result rr;
    v = J("{\"id\":9,\"verified\":true,\"priority\":\"high\","
          "\"attachment\":\"verified\"}");
    CHECK_EQ_INT(ward_client_parse_report_result(v, 1, &rr), WARD_OK);
    CHECK(rr.id == 9 && rr.verified && rr.high_priority &&
          strcmp(rr.attachment, "verified") == 0);
    json_decref(v);
    v = J("{\"id\":9,\"verified\":true,\"priority\":\"urgent\","
          "\"attachment\":\"none\"}");
    CHECK_EQ_INT(ward_client_parse_report_result(v, 1, &rr),
                 WARD_ERR_MALFORMED);
    json_decref(v);
    /* A message report's answer must say what was verified... */
    v = J("{\"id\":9,\"priority\":\"normal\"}");
    CHECK_EQ_INT(ward_client_parse_report_result(v, 1, &rr),
                 WARD_ERR_MALFORMED);
    /* ...an account report's need not. */
    CHECK_EQ_INT(ward_client_parse_report_result(v, 0, &rr), WARD_OK);
    CHECK(rr.id == 9 && !rr.high_priority && rr.attachment[0] == 0);
    json_decref(v);
}

/* ---- delivered messages: commitment, kept records, reports ---- */

typedef struct shown_log {
    int calls;
    ward_err problem;
    char text[128];
} shown_log;

static void on_msg(void *ctx, const ward_client_msg *m)
{
    shown_log *l = ctx;
    l->calls++;
    l->problem = m->problem;
    snprintf(l->text, sizeof l->text, "%.*s", (int)m->text_len,
             m->text ? m->text : "");
}

typedef struct sender {
    ward_identity *id;
    ward_session *s;
} sender;

/* Encrypts |text| from |snd| as a delivered message object, with the
 * commitment made as the client makes it, unless |bad_commit| (then one
 * bit flipped) or |no_commit|. |kf_out| gets the franking key. */
static json_t *deliver(sender *snd, int64_t id, const char *text,
                       int bad_commit, int no_commit, uint8_t kf_out[32])
{
    ward_content c;
    ward_buf plain, msg;
    uint8_t commitment[32], tag[32];
    int type = 0;
    ward_content_init(&c);
    ward_buf_init(&plain, 0);
    ward_buf_init(&msg, 0);
    REQUIRE(ward_content_set_body(&c, text, strlen(text)) == WARD_OK);
    c.has_franking_key = 1;
    ward_random(c.franking_key, 32);
    memcpy(kf_out, c.franking_key, 32);
    c.sent_at = 1;
    REQUIRE(ward_content_encode(&c, &plain) == WARD_OK);
    ward_hmac_sha256(commitment, c.franking_key, 32, plain.data, plain.len);
    if (bad_commit)
        commitment[5] ^= 0x10;
    REQUIRE(ward_session_encrypt(snd->s, plain.data, plain.len, &msg,
                                 &type) == WARD_OK);
    memset(tag, 0x7a, sizeof tag);
    json_t *v = json_pack("{s:I,s:s,s:I,s:i,s:I,s:o,s:o,s:I}", "id",
                          (json_int_t)id, "from", "alice", "from_id",
                          (json_int_t)11, "type", type, "server_time",
                          (json_int_t)(1000 + id), "body",
                          ward_b64_json(msg.data, msg.len), "tag",
                          ward_b64_json(tag, sizeof tag), "key_id",
                          (json_int_t)4);
    if (!no_commit)
        json_object_set_new(v, "commitment",
                            ward_b64_json(commitment, sizeof commitment));
    ward_content_release(&c);
    ward_buf_release(&plain);
    ward_buf_release(&msg);
    return v;
}

static ward_err process(ward_client *bob, ward_identity *bid,
                        ward_prekeys *bpk, json_t *v, shown_log *l,
                        int *shown, int *ack)
{
    char err[256] = "";
    memset(l, 0, sizeof *l);
    return ward_client_process(bob, bid, bpk, v, on_msg, l, shown, ack, err,
                               sizeof err);
}

static void test_delivery(void)
{
    char path[256], err[256] = "";
    ward_client *bob = NULL;
    ward_client_state *bcs = NULL;
    ward_identity *bid = NULL;
    ward_prekeys *bpk = NULL;
    ward_bundle bundle;
    sender alice = {NULL, NULL};
    shown_log l;
    int shown, ack, seen;
    uint8_t kf[32];

    snprintf(path, sizeof path, "%s/bob.db", dir);
    /* Port 1: nothing listens; nothing here may need the network. */
    REQUIRE(ward_client_new(&bob, "http://127.0.0.1:1", "bob", path, err,
                            sizeof err) == WARD_OK);
    REQUIRE(ward_client_state_open(&bcs, path, err, sizeof err) == WARD_OK);
    REQUIRE(ward_identity_generate(&bid) == WARD_OK);
    REQUIRE(ward_prekeys_new(&bpk) == WARD_OK);
    REQUIRE(ward_prekeys_generate_signed(bpk, bid, 1, 0) == WARD_OK);
    REQUIRE(ward_prekeys_generate_onetime(bpk, 1, 3) == WARD_OK);
    REQUIRE(ward_client_state_put_identity(bcs, bid) == WARD_OK);
    REQUIRE(ward_client_state_put_prekeys(bcs, bpk) == WARD_OK);
    REQUIRE(ward_prekeys_bundle(bpk, bid, 1, 1, 1, &bundle) == WARD_OK);
    REQUIRE(ward_identity_generate(&alice.id) == WARD_OK);
    REQUIRE(ward_session_new(&alice.s) == WARD_OK);
    REQUIRE(ward_session_init_from_bundle(alice.s, alice.id, &bundle) ==
            WARD_OK);

    /* 1. A good message is shown, and kept for a report exactly as it
     * came: the Content bytes open with the franking key to the
     * commitment, and the tag, key id, sender id and time are the
     * server's. */
    json_t *v = deliver(&alice, 101, "hello bob", 0, 0, kf);
    CHECK_EQ_INT(process(bob, bid, bpk, v, &l, &shown, &ack), WARD_OK);
    CHECK(shown == 1 && ack == 1 && l.calls == 1);
    CHECK_EQ_INT(l.problem, WARD_OK);
    CHECK(strcmp(l.text, "hello bob") == 0);
    ward_client_reveal r;
    CHECK_EQ_INT(ward_client_state_get_reveal(bcs, 101, &r), WARD_OK);
    CHECK(strcmp(r.from, "alice") == 0 && r.from_id == 11 &&
          r.server_time == 1101 && r.has_tag && r.key_id == 4);
    uint8_t want_tag[32], want_c[32], got_c[32];
    memset(want_tag, 0x7a, 32);
    CHECK_MEM(r.tag, want_tag, 32);
    REQUIRE(ward_b64_json_exact(json_object_get(v, "commitment"), want_c,
                                32) == 0);
    CHECK_MEM(r.commitment, want_c, 32);
    ward_hmac_sha256(got_c, kf, 32, r.content, r.content_len);
    CHECK_MEM(got_c, want_c, 32);
    ward_content dec;
    ward_content_init(&dec);
    CHECK_EQ_INT(ward_content_decode(&dec, r.content, r.content_len),
                 WARD_OK);
    CHECK(dec.body && strcmp(dec.body, "hello bob") == 0);
    CHECK_MEM(dec.franking_key, kf, 32);
    ward_content_release(&dec);
    ward_client_reveal_release(&r);
    CHECK_EQ_INT(ward_client_state_was_seen(bcs, 101, &seen), WARD_OK);
    CHECK_EQ_INT(seen, 1);
    /* Shown once: a redelivery is acknowledged without showing it. */
    CHECK_EQ_INT(process(bob, bid, bpk, v, &l, &shown, &ack), WARD_OK);
    CHECK(shown == 0 && ack == 1 && l.calls == 0);
    json_decref(v);

    /* 2. A commitment that does not match its content: the message is
     * dropped (the user is told, through problem AUTH), nothing of it is
     * kept, and it is not shown again. */
    v = deliver(&alice, 102, "deniable", 1, 0, kf);
    CHECK_EQ_INT(process(bob, bid, bpk, v, &l, &shown, &ack), WARD_OK);
    CHECK(shown == 1 && ack == 1 && l.calls == 1);
    CHECK_EQ_INT(l.problem, WARD_ERR_AUTH);
    CHECK(l.text[0] == 0); /* its text is not shown */
    CHECK_EQ_INT(ward_client_state_get_reveal(bcs, 102, &r),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_client_state_was_seen(bcs, 102, &seen), WARD_OK);
    CHECK_EQ_INT(seen, 1);
    json_decref(v);

    /* 3. No commitment at all: dropped the same way. */
    v = deliver(&alice, 103, "uncommitted", 0, 1, kf);
    CHECK_EQ_INT(process(bob, bid, bpk, v, &l, &shown, &ack), WARD_OK);
    CHECK_EQ_INT(l.problem, WARD_ERR_AUTH);
    CHECK_EQ_INT(ward_client_state_get_reveal(bcs, 103, &r),
                 WARD_ERR_NOT_FOUND);
    json_decref(v);

    /* 4. The record and the seen id are one transaction: when the record
     * cannot be written (here a record of that id exists already), the
     * message is not marked seen either, and is not shown. */
    ward_client_reveal squat;
    char sq[] = "squatter";
    memset(&squat, 0, sizeof squat);
    squat.id = 104;
    strcpy(squat.from, "mallory");
    squat.content = (uint8_t *)sq;
    squat.content_len = sizeof sq - 1;
    squat.shown_at = 1;
    REQUIRE(ward_client_state_put_reveal(bcs, &squat) == WARD_OK);
    v = deliver(&alice, 104, "after the squat", 0, 0, kf);
    CHECK(process(bob, bid, bpk, v, &l, &shown, &ack) != WARD_OK);
    CHECK(shown == 0 && l.calls == 0);
    CHECK_EQ_INT(ward_client_state_was_seen(bcs, 104, &seen), WARD_OK);
    CHECK_EQ_INT(seen, 0);
    json_decref(v);

    /* 5. A message without the server's tag (an older server) is shown
     * and kept, but cannot be reported. */
    v = deliver(&alice, 105, "untagged", 0, 0, kf);
    json_object_del(v, "tag");
    CHECK_EQ_INT(process(bob, bid, bpk, v, &l, &shown, &ack), WARD_OK);
    CHECK(l.calls == 1 && l.problem == WARD_OK);
    CHECK_EQ_INT(ward_client_state_get_reveal(bcs, 105, &r), WARD_OK);
    CHECK_EQ_INT(r.has_tag, 0);
    ward_client_reveal_release(&r);
    json_decref(v);

    /* 6. Reports refused on this side, before any request (no server
     * listens, and no login exists). */
    ward_client_report_result rr;
    err[0] = 0;
    CHECK_EQ_INT(ward_client_report_message(bob, "mallory", 101,
                                            WARD_CLIENT_REASON_SPAM, NULL,
                                            &rr, err, sizeof err),
                 WARD_ERR_INVALID_ARG);
    CHECK(has(err, "from alice, not mallory"));
    CHECK_EQ_INT(ward_client_report_message(bob, "alice", 102,
                                            WARD_CLIENT_REASON_SPAM, NULL,
                                            &rr, err, sizeof err),
                 WARD_ERR_NOT_FOUND);
    CHECK(has(err, "not kept"));
    CHECK_EQ_INT(ward_client_report_message(bob, "alice", 999,
                                            WARD_CLIENT_REASON_SPAM, NULL,
                                            &rr, err, sizeof err),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_client_report_message(bob, "alice", 105,
                                            WARD_CLIENT_REASON_SPAM, NULL,
                                            &rr, err, sizeof err),
                 WARD_ERR_BAD_STATE);
    CHECK_EQ_INT(ward_client_report_message(bob, "Alice!", 101,
                                            WARD_CLIENT_REASON_SPAM, NULL,
                                            &rr, err, sizeof err),
                 WARD_ERR_INVALID_ARG);
    /* A note of 1,001 characters, or not UTF-8, is refused; this one gets
     * as far as the login check, which fails without a token. */
    char note[2100];
    memset(note, 'n', 1001);
    note[1001] = 0;
    CHECK_EQ_INT(ward_client_report_message(bob, "alice", 101,
                                            WARD_CLIENT_REASON_SPAM, note,
                                            &rr, err, sizeof err),
                 WARD_ERR_INVALID_ARG);
    CHECK(has(err, "1000 characters"));
    CHECK_EQ_INT(ward_client_report_account(bob, "alice",
                                            WARD_CLIENT_REASON_SPAM,
                                            "\xc3\x28", &rr, err,
                                            sizeof err),
                 WARD_ERR_INVALID_ARG);
    /* 1,000 characters of two bytes each are within the limit. */
    for (int i = 0; i < 1000; i++)
        memcpy(note + 2 * i, "\xc3\xa9", 2);
    note[2000] = 0;
    err[0] = 0;
    CHECK_EQ_INT(ward_client_report_account(bob, "alice",
                                            WARD_CLIENT_REASON_SPAM, note,
                                            &rr, err, sizeof err),
                 WARD_ERR_AUTH);
    CHECK(has(err, "not logged in"));
    /* Nothing was changed by the refused reports. */
    CHECK_EQ_INT(ward_client_state_get_reveal(bcs, 101, &r), WARD_OK);
    ward_client_reveal_release(&r);

    ward_client_state_close(bcs);
    ward_client_free(bob);
    ward_session_free(alice.s);
    ward_identity_free(alice.id);
    ward_prekeys_free(bpk);
    ward_identity_free(bid);
}

int main(void)
{
    REQUIRE(ward_crypto_init() == WARD_OK);
    REQUIRE(mkdtemp(dir) != NULL);
    test_refusals();
    test_reasons();
    test_parsers();
    test_delivery();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return wtest_done("test_client_safety");
}
