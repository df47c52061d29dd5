/*
 * The HTTP API (src/server/api*.c) end to end over a real SQLite store:
 * routing, accounts, logins and tokens, keys and bundles, deferred sends
 * with their group commit, listing and acknowledging, account deletion,
 * counters. Responses are parsed with jansson, keys and messages are real
 * ward keys and ciphertexts, and the clock is the test's.
 *
 * Each group opens a fresh database in a mkdtemp directory, removed after.
 */
#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/server/api.h"
#include "../../src/server/franking_keys.h"
#include "ward/crypto.h"
#include "ward/proto.h"
#include "ward/store.h"
#include "wtest.h"

#include "api_harness.h"

/* ------------------------------------------------------------------------ */
/* Real ward keys.                                                          */

#define MAX_OT 16

typedef struct keyset {
    ward_identity *id;
    ward_prekeys *pk;
    ward_bundle b; /* identity, registration id, signed prekey, signature */
    size_t n;
    uint32_t ot_id[MAX_OT];
    uint8_t ot_pub[MAX_OT][WARD_PUBKEY_LEN];
} keyset;

static void collect_ot(void *ctx, uint32_t id, const uint8_t pub[WARD_PUBKEY_LEN])
{
    keyset *k = ctx;
    REQUIRE(k->n < MAX_OT);
    size_t i = k->n++;
    /* Insertion by id, so ot_id is ascending. */
    while (i > 0 && k->ot_id[i - 1] > id) {
        k->ot_id[i] = k->ot_id[i - 1];
        memcpy(k->ot_pub[i], k->ot_pub[i - 1], WARD_PUBKEY_LEN);
        i--;
    }
    k->ot_id[i] = id;
    memcpy(k->ot_pub[i], pub, WARD_PUBKEY_LEN);
}

static void keyset_new(keyset *k, uint32_t spk_id, uint32_t first,
                       uint32_t count)
{
    memset(k, 0, sizeof *k);
    REQUIRE(ward_identity_generate(&k->id) == WARD_OK);
    REQUIRE(ward_prekeys_new(&k->pk) == WARD_OK);
    REQUIRE(ward_prekeys_generate_signed(k->pk, k->id, spk_id, 1) == WARD_OK);
    if (count)
        REQUIRE(ward_prekeys_generate_onetime(k->pk, first, count) ==
                WARD_OK);
    REQUIRE(ward_prekeys_bundle(k->pk, k->id, 1, spk_id, 0, &k->b) ==
            WARD_OK);
    ward_prekeys_each_onetime(k->pk, collect_ot, k);
    REQUIRE(k->n == count);
}

static void keyset_free(keyset *k)
{
    ward_prekeys_free(k->pk);
    ward_identity_free(k->id);
    memset(k, 0, sizeof *k);
}

enum { K_IK = 1, K_SPK = 2, K_PRE = 4, K_ALL = 7 };

static json_t *spk_json(const uint8_t *pub, size_t pub_len, const uint8_t *sig,
                        size_t sig_len, uint32_t id)
{
    return json_pack("{s:I,s:o,s:o}", "id", (json_int_t)id, "key",
                     b64j(pub, pub_len), "signature", b64j(sig, sig_len));
}

static json_t *pre_json(const keyset *k)
{
    json_t *a = json_array();
    for (size_t i = 0; i < k->n; i++)
        json_array_append_new(a, json_pack("{s:I,s:o}", "id",
                                           (json_int_t)k->ot_id[i], "key",
                                           b64j(k->ot_pub[i], WARD_PUBKEY_LEN)));
    return a;
}

static json_t *keys_body(const keyset *k, unsigned what)
{
    json_t *o = json_object();
    if (what & K_IK) {
        json_object_set_new(o, "identity_key",
                            b64j(k->b.identity, WARD_PUBKEY_LEN));
        json_object_set_new(o, "registration_id",
                            json_integer(k->b.registration_id));
    }
    if (what & K_SPK)
        json_object_set_new(o, "signed_prekey",
                            spk_json(k->b.signed_prekey, WARD_PUBKEY_LEN,
                                     k->b.signed_prekey_sig,
                                     WARD_SIGNATURE_LEN,
                                     k->b.signed_prekey_id));
    if (what & K_PRE)
        json_object_set_new(o, "prekeys", pre_json(k));
    return o;
}

/* A bundle response's fields; -1 if any is missing or malformed. */
static int bundle_decode(json_t *o, ward_bundle *b)
{
    memset(b, 0, sizeof *b);
    json_t *sp = json_object_get(o, "signed_prekey");
    json_t *pk = json_object_get(o, "prekey");
    long long reg = jnum(o, "registration_id"), dev = jnum(o, "device_id");
    long long sid = jnum(sp, "id");
    if (reg < 0 || dev < 0 || sid < 0)
        return -1;
    if (unb64(jstr(o, "identity_key"), b->identity, WARD_PUBKEY_LEN) !=
            WARD_PUBKEY_LEN ||
        unb64(jstr(sp, "key"), b->signed_prekey, WARD_PUBKEY_LEN) !=
            WARD_PUBKEY_LEN ||
        unb64(jstr(sp, "signature"), b->signed_prekey_sig,
              WARD_SIGNATURE_LEN) != WARD_SIGNATURE_LEN)
        return -1;
    b->registration_id = (uint32_t)reg;
    b->device_id = (uint32_t)dev;
    b->signed_prekey_id = (uint32_t)sid;
    if (pk) {
        long long pid = jnum(pk, "id");
        if (pid < 0 ||
            unb64(jstr(pk, "key"), b->prekey, WARD_PUBKEY_LEN) !=
                WARD_PUBKEY_LEN)
            return -1;
        b->prekey_id = (uint32_t)pid;
        b->has_prekey = 1;
    }
    return 0;
}

/* The bundle's fixed part equals what was uploaded (a macro, so failures
 * name the caller's line). */
#define CHECK_SIGNED(got, want)                                            \
    do {                                                                   \
        CHECK_EQ_INT((got)->registration_id, (want)->registration_id);     \
        CHECK_EQ_INT((got)->device_id, 1);                                 \
        CHECK_MEM((got)->identity, (want)->identity, WARD_PUBKEY_LEN);     \
        CHECK_EQ_INT((got)->signed_prekey_id, (want)->signed_prekey_id);   \
        CHECK_MEM((got)->signed_prekey, (want)->signed_prekey,             \
                  WARD_PUBKEY_LEN);                                        \
        CHECK_MEM((got)->signed_prekey_sig, (want)->signed_prekey_sig,     \
                  WARD_SIGNATURE_LEN);                                     \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Messages.                                                                */

/* POST /v1/messages; returns G.rc. */
/* The commitment is required; where a test does not care, any 32 bytes
 * do (the server cannot check it). */
static const uint8_t any_commit[32] = {0x5a};

static int post_msg(const user *from, const char *to, int type,
                    const uint8_t *body, size_t n, const uint8_t *commitment,
                    size_t clen, void *opaque)
{
    json_t *o = json_pack("{s:s,s:i,s:o}", "to", to, "type", type, "body",
                          b64j(body, n));
    json_object_set_new(o, "commitment", commitment ? b64j(commitment, clen)
                                                    : b64j(any_commit, 32));
    call_json("POST", "/v1/messages", from->auth, o, opaque);
    return G.rc;
}

/* A send without the franking commitment. */
static int post_msg_bare(const user *from, const char *to, int type,
                         const uint8_t *body, size_t n)
{
    json_t *o = json_pack("{s:s,s:i,s:o}", "to", to, "type", type, "body",
                          b64j(body, n));
    call_json("POST", "/v1/messages", from->auth, o, NULL);
    return G.rc;
}

/* The "messages" array of a listing (a new reference), or NULL. */
static json_t *list_msgs(const user *u, const char *query)
{
    call_full("GET", "/v1/messages", query, u->auth, NULL, 0, NULL);
    json_t *a = json_object_get(G.j, "messages");
    if (G.status != 200 || !json_is_array(a))
        return NULL;
    return json_incref(a);
}

static size_t count_msgs(const user *u)
{
    json_t *a = list_msgs(u, NULL);
    size_t n = a ? json_array_size(a) : (size_t)-1;
    json_decref(a);
    return n;
}

static int listed(const user *u, long long id)
{
    json_t *a = list_msgs(u, "limit=500");
    int found = 0;
    size_t i;
    json_t *m;
    json_array_foreach(a, i, m) found |= jnum(m, "id") == id;
    json_decref(a);
    return found;
}

static int count_rows(void *ctx, const ward_store_msg *m)
{
    (void)m;
    (*(size_t *)ctx)++;
    return 0;
}

/* ======================================================================== */

static void test_routing(void)
{
    ward_api_config cfg = test_cfg();
    cfg.max_body = 200;
    env_open(&cfg);

    CHECK_EQ_INT(call("GET", "/healthz", NULL, NULL), 200);
    CHECK_EQ_INT(G.rc, WARD_API_DONE);
    CHECK_STR(jstr(G.j, "status"), "ok");

    call("GET", "/nope", NULL, NULL);
    CHECK_ERR(404, "no_route");
    call("GET", "/v1/accountsx", NULL, NULL);
    CHECK_ERR(404, "no_route");
    call("GET", "/", NULL, NULL);
    CHECK_ERR(404, "no_route");

    const char *wrong[][2] = {{"POST", "/healthz"},     {"GET", "/v1/accounts"},
                              {"PUT", "/v1/accounts"},  {"PUT", "/v1/accounts/me"},
                              {"PUT", "/v1/sessions"},  {"GET", "/v1/sessions"},
                              {"POST", "/v1/keys"},     {"DELETE", "/v1/keys"},
                              {"PUT", "/v1/messages"},  {"PATCH", "/v1/messages"},
                              {"DELETE", "/healthz"}};
    for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
        call(wrong[i][0], wrong[i][1], NULL, NULL);
        CHECK_ERR(405, "method_not_allowed");
    }
    /* The parameterised endpoints exist too (DELETE /v1/messages/{id},
     * GET /v1/keys/{user}): another method there is also 405, not 404. */
    call("GET", "/v1/messages/17", NULL, NULL);
    CHECK_EQ_INT(G.status, 405);
    call("PUT", "/v1/keys/bob", NULL, NULL);
    CHECK_EQ_INT(G.status, 405);

    /* Body size: max_body is allowed, one more byte is not, checked before
     * anything else (so no account appears). */
    char body[512];
    int n = snprintf(body, sizeof body,
                     "{\"username\":\"padded\",\"password\":\"pw-12345678\","
                     "\"birth_date\":\"1990-01-01\"}");
    REQUIRE(n > 0 && (size_t)n < cfg.max_body);
    memset(body + n, ' ', cfg.max_body + 1 - (size_t)n);
    call_full("POST", "/v1/accounts", NULL, NULL, body, cfg.max_body + 1,
              NULL);
    CHECK_ERR(413, "too_large");
    CHECK(!account_exists("padded"));
    call_full("POST", "/v1/accounts", NULL, NULL, body, cfg.max_body, NULL);
    CHECK_EQ_INT(G.status, 201);
    CHECK(account_exists("padded"));
    /* Even a route that takes no body refuses a huge one. */
    call_full("GET", "/healthz", NULL, NULL, body, cfg.max_body + 1, NULL);
    CHECK_ERR(413, "too_large");

    env_close();
}

/* ======================================================================== */

static void check_reg(const char *name, const char *pw, const char *birth,
                      int status, const char *code)
{
    call_json("POST", "/v1/accounts", NULL, reg_body(name, pw, birth), NULL);
    CHECK_EQ_INT(G.status, status);
    CHECK_STR(ecode(), code);
    CHECK(!account_exists(name));
}

static void test_register(void)
{
    ward_api_config cfg = test_cfg();
    env_open(&cfg);
    ward_account a;

    /* Age bands on the fake clock's day (2026-11-23). */
    CHECK_EQ_INT(call_json("POST", "/v1/accounts", NULL,
                           reg_body("adult18", "password-1", "2008-11-23"),
                           NULL),
                 201);
    CHECK_STR(jstr(G.j, "username"), "adult18");
    CHECK_STR(jstr(G.j, "age_band"), "adult");
    CHECK(ward_store_account_by_name(G.st, "adult18", &a) == WARD_OK);
    CHECK_EQ_INT(a.age_band, WARD_AGE_ADULT);
    CHECK_EQ_INT(a.created_at, T0);

    CHECK_EQ_INT(call_json("POST", "/v1/accounts", NULL,
                           reg_body("teen17", "password-1", "2008-11-24"),
                           NULL),
                 201);
    CHECK_STR(jstr(G.j, "age_band"), "minor");
    CHECK(ward_store_account_by_name(G.st, "teen17", &a) == WARD_OK);
    CHECK_EQ_INT(a.age_band, WARD_AGE_MINOR);

    CHECK_EQ_INT(call_json("POST", "/v1/accounts", NULL,
                           reg_body("teen13", "password-1", "2013-11-23"),
                           NULL),
                 201);
    CHECK_STR(jstr(G.j, "age_band"), "minor");

    /* 13 tomorrow: refused today, accepted once the clock moves a day. */
    check_reg("kid", "password-1", "2013-11-24", 403, "too_young");
    check_reg("kid", "password-1", "2020-01-01", 403, "too_young");
    G.f.now = T0 + DAY_MS;
    CHECK_EQ_INT(call_json("POST", "/v1/accounts", NULL,
                           reg_body("kid", "password-1", "2013-11-24"), NULL),
                 201);
    CHECK_STR(jstr(G.j, "age_band"), "minor");
    G.f.now = T0;

    const char *bad_dates[] = {"2008-02-30", "2008-13-01", "2008-00-10",
                               "20080101",   "2008/01/01", "2026-11-24",
                               "",           "1899-12-31", "2008-1-1",
                               "abcd-ef-gh", "2008-01-01T00:00"};
    for (size_t i = 0; i < sizeof bad_dates / sizeof *bad_dates; i++)
        check_reg("datebad", "password-1", bad_dates[i], 400,
                  "invalid_birth_date");
    call("POST", "/v1/accounts", NULL,
         "{\"username\":\"datenum\",\"password\":\"password-1\","
         "\"birth_date\":20080101}");
    CHECK_ERR(400, "invalid_birth_date");
    call("POST", "/v1/accounts", NULL,
         "{\"username\":\"datenone\",\"password\":\"password-1\"}");
    CHECK_ERR(400, "invalid_birth_date");
    CHECK(!account_exists("datenum") && !account_exists("datenone"));

    const char *bad_names[] = {"Alice", "ab", "abcdefghijklmnopqrstuvwxyz0123456",
                               "al ice", "_bob", "-bob", "bob!", "", "b\xc3\xa9",
                               "bob\n"};
    for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++)
        check_reg(bad_names[i], "password-1", "1990-01-01", 400,
                  "invalid_username");
    CHECK(!account_exists("alice"));
    call("POST", "/v1/accounts", NULL,
         "{\"username\":42,\"password\":\"password-1\","
         "\"birth_date\":\"1990-01-01\"}");
    CHECK_ERR(400, "invalid_username");
    call("POST", "/v1/accounts", NULL,
         "{\"username\":null,\"password\":\"password-1\","
         "\"birth_date\":\"1990-01-01\"}");
    CHECK_ERR(400, "invalid_username");
    call("POST", "/v1/accounts", NULL,
         "{\"password\":\"password-1\",\"birth_date\":\"1990-01-01\"}");
    CHECK_ERR(400, "invalid_username");
    /* The longest name is fine. */
    CHECK_EQ_INT(call_json("POST", "/v1/accounts", NULL,
                           reg_body("abcdefghijklmnopqrstuvwxyz012345",
                                    "password-1", "1990-01-01"),
                           NULL),
                 201);

    check_reg("shortpw", "1234567", "1990-01-01", 400, "invalid_password");
    check_reg("shortpw", "", "1990-01-01", 400, "invalid_password");
    char longpw[1026];
    memset(longpw, 'p', 1025);
    longpw[1025] = 0;
    check_reg("longpw", longpw, "1990-01-01", 400, "invalid_password");
    call("POST", "/v1/accounts", NULL,
         "{\"username\":\"numpw\",\"password\":12345678,"
         "\"birth_date\":\"1990-01-01\"}");
    CHECK_ERR(400, "invalid_password");
    CHECK(!account_exists("numpw"));
    longpw[1024] = 0; /* 1024 bytes: the maximum */
    CHECK_EQ_INT(call_json("POST", "/v1/accounts", NULL,
                           reg_body("maxpw", longpw, "1990-01-01"), NULL),
                 201);
    CHECK_EQ_INT(call_json("POST", "/v1/accounts", NULL,
                           reg_body("minpw", "12345678", "1990-01-01"), NULL),
                 201);

    /* Taken: 409, and the first account keeps its password. */
    call_json("POST", "/v1/accounts", NULL,
              reg_body("minpw", "another-password", "1980-01-01"), NULL);
    CHECK_ERR(409, "username_taken");
    CHECK_EQ_INT(login_raw("minpw", "12345678"), 200);
    CHECK_EQ_INT(login_raw("minpw", "another-password"), 401);

    /* Bodies that are not one JSON object of the known fields. */
    const char *bad_json[] = {
        "{",
        "",
        "[]",
        "[{\"username\":\"arr\",\"password\":\"password-1\","
        "\"birth_date\":\"1990-01-01\"}]",
        "\"arr\"",
        "null",
        "42",
        "{\"username\":\"trail\",\"password\":\"password-1\","
        "\"birth_date\":\"1990-01-01\"} x",
        "{\"username\":\"dupa\",\"username\":\"dupb\",\"password\":"
        "\"password-1\",\"birth_date\":\"1990-01-01\"}",
        "{\"username\":\"nul\\u0000x\",\"password\":\"password-1\","
        "\"birth_date\":\"1990-01-01\"}",
        "{'username':'single','password':'password-1',"
        "'birth_date':'1990-01-01'}",
    };
    for (size_t i = 0; i < sizeof bad_json / sizeof *bad_json; i++) {
        call("POST", "/v1/accounts", NULL, bad_json[i]);
        CHECK_ERR(400, "bad_json");
    }
    call("POST", "/v1/accounts", NULL,
         "{\"username\":\"extra\",\"password\":\"password-1\","
         "\"birth_date\":\"1990-01-01\",\"admin\":true}");
    CHECK_ERR(400, "unknown_field");
    CHECK(strstr(G.raw, "admin") != NULL);
    const char *never[] = {"arr", "trail", "dupa", "dupb", "nul", "single",
                           "extra"};
    for (size_t i = 0; i < sizeof never / sizeof *never; i++)
        CHECK(!account_exists(never[i]));
    CHECK_EQ_INT(login_raw("extra", "password-1"), 401);

    /* Registrations per address: 20 at once, whatever their bodies. */
    G.remote = "198.51.100.1";
    for (int i = 0; i < 20; i++) {
        call("POST", "/v1/accounts", NULL, "{");
        CHECK_ERR(400, "bad_json");
    }
    call_json("POST", "/v1/accounts", NULL,
              reg_body("limited", "password-1", "1990-01-01"), NULL);
    CHECK_ERR(429, "rate_limited");
    CHECK(!account_exists("limited"));
    G.remote = "198.51.100.2";
    CHECK_EQ_INT(call_json("POST", "/v1/accounts", NULL,
                           reg_body("limited", "password-1", "1990-01-01"),
                           NULL),
                 201);
    G.remote = NULL;

    env_close();
}

/* ======================================================================== */

static int token_form(const char *t)
{
    if (!t || strlen(t) != 46 || strncmp(t, "wt_", 3) != 0)
        return 0;
    for (size_t i = 3; i < 46; i++) {
        char c = t[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

static void test_login(void)
{
    ward_api_config cfg = test_cfg();
    cfg.login_burst = 4;
    cfg.login_per_minute = 6; /* one attempt per 10 s */
    env_open(&cfg);

    CHECK_EQ_INT(call_json("POST", "/v1/accounts", NULL,
                           reg_body("alice", "alice-password", "2010-01-01"),
                           NULL),
                 201);
    for (const char *const *n = (const char *const[]){"bob", "carol", "dave",
                                                      NULL};
         *n; n++)
        CHECK_EQ_INT(call_json("POST", "/v1/accounts", NULL,
                               reg_body(*n, "the-password", "1990-01-01"),
                               NULL),
                     201);

    CHECK_EQ_INT(login_raw("alice", "alice-password"), 200);
    CHECK_EQ_INT(G.rc, WARD_API_DONE);
    char tok1[64] = "";
    const char *t = jstr(G.j, "token");
    CHECK(token_form(t));
    if (t)
        snprintf(tok1, sizeof tok1, "%s", t);
    CHECK_EQ_INT(jnum(G.j, "expires_at"), T0 + TTL_MS);
    CHECK_STR(jstr(G.j, "username"), "alice");
    CHECK_STR(jstr(G.j, "age_band"), "minor");
    CHECK_EQ_INT(jnum(G.j, "prekeys"), 0);
    CHECK_EQ_INT(jbool(G.j, "prekeys_low"), 1);
    /* The token works, and a second login gets another one. */
    char auth[96];
    snprintf(auth, sizeof auth, "Bearer %s", tok1);
    CHECK_EQ_INT(call("GET", "/v1/keys", auth, NULL), 200);
    G.f.now += 5;
    CHECK_EQ_INT(login_raw("alice", "alice-password"), 200);
    CHECK(token_form(jstr(G.j, "token")));
    CHECK(jstr(G.j, "token") && strcmp(jstr(G.j, "token"), tok1) != 0);
    CHECK_EQ_INT(jnum(G.j, "expires_at"), T0 + 5 + TTL_MS);
    G.f.now = T0;

    /* Wrong password and unknown user: the same answer, byte for byte. */
    char wrong_pw[512] = "", unknown[512] = "";
    login_raw("bob", "not-the-password");
    CHECK_ERR(401, "bad_credentials");
    snprintf(wrong_pw, sizeof wrong_pw, "%s", G.raw);
    login_raw("nobody", "the-password");
    CHECK_ERR(401, "bad_credentials");
    snprintf(unknown, sizeof unknown, "%s", G.raw);
    CHECK(wrong_pw[0] && strcmp(wrong_pw, unknown) == 0);
    login_raw("Bob", "the-password");
    CHECK_ERR(401, "bad_credentials");

    call("POST", "/v1/sessions", NULL, "{\"username\":\"bob\"}");
    CHECK_ERR(400, "invalid_request");
    call("POST", "/v1/sessions", NULL,
         "{\"username\":\"bob\",\"password\":12345678}");
    CHECK_ERR(400, "invalid_request");
    call("POST", "/v1/sessions", NULL,
         "{\"username\":\"bob\",\"password\":\"the-password\",\"x\":1}");
    CHECK_ERR(400, "unknown_field");
    call("POST", "/v1/sessions", NULL, "[\"bob\",\"the-password\"]");
    CHECK_ERR(400, "bad_json");

    /* Rate limit per username: login_burst attempts, then 429 even with
     * the right password; other names are unaffected. */
    ward_api_stats s0, s1;
    ward_api_stats_get(G.api, &s0);
    for (int i = 0; i < 4; i++) {
        login_raw("carol", "wrong-password");
        CHECK_ERR(401, "bad_credentials");
    }
    login_raw("carol", "the-password");
    CHECK_ERR(429, "rate_limited");
    login_raw("carol", "wrong-password");
    CHECK_ERR(429, "rate_limited");
    CHECK_EQ_INT(login_raw("dave", "the-password"), 200);
    /* Unknown names are limited the same way (no account enumeration). */
    for (int i = 0; i < 4; i++) {
        login_raw("zed", "whatever-pw");
        CHECK_ERR(401, "bad_credentials");
    }
    login_raw("zed", "whatever-pw");
    CHECK_ERR(429, "rate_limited");
    ward_api_stats_get(G.api, &s1);
    CHECK_EQ_INT(s1.rate_limited - s0.rate_limited, 3);
    CHECK_EQ_INT(s1.login_refused - s0.login_refused, 8);

    /* 11 s later: one more attempt, then refused again. */
    G.f.now = T0 + 11000;
    CHECK_EQ_INT(login_raw("carol", "the-password"), 200);
    CHECK(token_form(jstr(G.j, "token")));
    login_raw("carol", "the-password");
    CHECK_ERR(429, "rate_limited");
    /* A minute more refills the whole burst, and no more. */
    G.f.now = T0 + 72000;
    for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(login_raw("carol", "the-password"), 200);
    login_raw("carol", "the-password");
    CHECK_ERR(429, "rate_limited");

    /* Rate limit per address: 5 x login_burst attempts from one address,
     * across any names. */
    G.f.now = T0 + 200000;
    G.remote = "192.0.2.7";
    for (int i = 0; i < 20; i++) {
        char name[16];
        snprintf(name, sizeof name, "guess%02d", i);
        login_raw(name, "whatever-pw");
        CHECK_ERR(401, "bad_credentials");
    }
    login_raw("bob", "the-password");
    CHECK_ERR(429, "rate_limited");
    G.remote = "192.0.2.8";
    CHECK_EQ_INT(login_raw("bob", "the-password"), 200);
    G.remote = NULL;

    env_close();
}

/* ======================================================================== */

static void test_tokens(void)
{
    ward_api_config cfg = test_cfg();
    env_open(&cfg);
    user al, bo;
    mk_user(&al, "alice");
    mk_user(&bo, "bob");
    int64_t expires = T0 + TTL_MS;

    CHECK_EQ_INT(call("GET", "/v1/keys", al.auth, NULL), 200);
    char bad[6][128];
    snprintf(bad[0], sizeof bad[0], "Bearer garbage");
    snprintf(bad[1], sizeof bad[1], "Bearer wt_%s",
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    snprintf(bad[2], sizeof bad[2], "%s", al.token); /* no scheme */
    snprintf(bad[3], sizeof bad[3], "Basic %s", al.token);
    snprintf(bad[4], sizeof bad[4], "Bearer %sA", al.token);
    snprintf(bad[5], sizeof bad[5], "Bearer  %s", al.token);
    CHECK_EQ_INT(strlen(bad[1]), 7 + 46);
    call("GET", "/v1/keys", NULL, NULL);
    CHECK_ERR(401, "unauthorized");
    for (int i = 0; i < 6; i++) {
        call("GET", "/v1/keys", bad[i], NULL);
        CHECK_ERR(401, "unauthorized");
        call("GET", "/v1/messages", bad[i], NULL);
        CHECK_ERR(401, "unauthorized");
        int64_t who = -1;
        CHECK_EQ_INT(ward_api_authenticate(G.api, bad[i], &who),
                     WARD_ERR_AUTH);
    }
    int64_t who = -1;
    CHECK_EQ_INT(ward_api_authenticate(G.api, NULL, &who), WARD_ERR_AUTH);
    CHECK_EQ_INT(ward_api_authenticate(G.api, al.auth, &who), WARD_OK);
    CHECK_EQ_INT(who, al.id);
    CHECK_EQ_INT(ward_api_authenticate(G.api, bo.auth, &who), WARD_OK);
    CHECK_EQ_INT(who, bo.id);
    /* Every protected endpoint wants the token. */
    const char *prot[][2] = {{"DELETE", "/v1/sessions"}, {"DELETE", "/v1/accounts/me"},
                             {"PUT", "/v1/keys"},        {"GET", "/v1/keys/bob"},
                             {"POST", "/v1/messages"},   {"DELETE", "/v1/messages/1"}};
    for (size_t i = 0; i < sizeof prot / sizeof *prot; i++) {
        call(prot[i][0], prot[i][1], NULL, "{}");
        CHECK_ERR(401, "unauthorized");
    }

    /* Expiry on the fake clock. */
    G.f.now = expires - 1;
    CHECK_EQ_INT(call("GET", "/v1/keys", al.auth, NULL), 200);
    G.f.now = expires + 1;
    call("GET", "/v1/keys", al.auth, NULL);
    CHECK_ERR(401, "unauthorized");
    CHECK_EQ_INT(ward_api_authenticate(G.api, al.auth, &who), WARD_ERR_AUTH);
    G.f.now = expires + DAY_MS;
    call("GET", "/v1/messages", bo.auth, NULL);
    CHECK_ERR(401, "unauthorized");

    /* Log in again (new tokens, new expiry); log out one of two. */
    user al2 = al;
    login_as(&al);
    login_as(&al2);
    CHECK(strcmp(al.token, al2.token) != 0);
    CHECK_EQ_INT(call("GET", "/v1/keys", al.auth, NULL), 200);
    call("DELETE", "/v1/sessions", al.auth, NULL);
    CHECK_EQ_INT(G.status, 204);
    CHECK_EQ_INT(G.rc, WARD_API_DONE);
    CHECK_EQ_INT(G.raw_len, 0);
    call("GET", "/v1/keys", al.auth, NULL);
    CHECK_ERR(401, "unauthorized");
    CHECK_EQ_INT(ward_api_authenticate(G.api, al.auth, &who), WARD_ERR_AUTH);
    call("DELETE", "/v1/sessions", al.auth, NULL);
    CHECK_ERR(401, "unauthorized");
    CHECK_EQ_INT(call("GET", "/v1/keys", al2.auth, NULL), 200);
    CHECK(account_exists("alice"));

    env_close();
}

/* A logout whose token delete fails must not answer 204: the client would
 * forget a token that still works. The failure is injected with a trigger
 * from a second connection. */
static int sql_on_store(const char *sql)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(G.path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static void test_logout_store_failure(void)
{
    ward_api_config cfg = test_cfg();
    env_open(&cfg);
    user al;
    mk_user(&al, "alice");
    REQUIRE(sql_on_store("CREATE TRIGGER keep_tokens BEFORE DELETE ON tokens "
                         "BEGIN SELECT RAISE(FAIL, 'injected'); END;") ==
            SQLITE_OK);
    call("DELETE", "/v1/sessions", al.auth, NULL);
    CHECK(G.status >= 500);
    CHECK_EQ_INT(call("GET", "/v1/keys", al.auth, NULL), 200);
    REQUIRE(sql_on_store("DROP TRIGGER keep_tokens;") == SQLITE_OK);
    call("DELETE", "/v1/sessions", al.auth, NULL);
    CHECK_EQ_INT(G.status, 204);
    call("GET", "/v1/keys", al.auth, NULL);
    CHECK_ERR(401, "unauthorized");
    env_close();
}

/* ======================================================================== */

/* PUT /v1/keys with |o| (stolen) is refused with |st| and |code|, and the
 * account then holds |n| one-time prekeys. */
#define PUT_KEYS_EXPECT(u, o, st, code, n)                                 \
    do {                                                                   \
        call_json("PUT", "/v1/keys", (u)->auth, (o), NULL);                \
        CHECK_ERR(st, code);                                               \
        CHECK_EQ_INT(own_prekeys((u), NULL), (n));                         \
    } while (0)

static void test_keys(void)
{
    ward_api_config cfg = test_cfg();
    cfg.max_prekeys = 8;
    cfg.prekeys_low = 3;
    env_open(&cfg);
    user al, bo, ca, gr, he;
    mk_user(&al, "alice");
    mk_user(&bo, "bob");
    mk_user(&ca, "carol");
    mk_user(&gr, "grace");
    mk_user(&he, "henry");

    keyset ka, kx;
    keyset_new(&ka, 7, 100, 5);
    keyset_new(&kx, 9, 300, 2); /* another identity */

    /* Upload. */
    CHECK_EQ_INT(call_json("PUT", "/v1/keys", al.auth, keys_body(&ka, K_ALL),
                           NULL),
                 200);
    CHECK_EQ_INT(G.rc, WARD_API_DONE);
    CHECK_EQ_INT(jnum(G.j, "prekeys"), 5);
    CHECK_EQ_INT(jbool(G.j, "prekeys_low"), 0);
    int low = -1;
    CHECK_EQ_INT(own_prekeys(&al, &low), 5);
    CHECK_EQ_INT(low, 0);
    CHECK_EQ_INT(login_raw(al.name, al.pw), 200);
    CHECK_EQ_INT(jnum(G.j, "prekeys"), 5);
    CHECK_EQ_INT(jbool(G.j, "prekeys_low"), 0);

    /* Refused uploads change nothing. */
    {
        /* A signature by the right key over another prekey. */
        json_t *o = keys_body(&ka, K_IK);
        json_object_set_new(o, "signed_prekey",
                            spk_json(kx.b.signed_prekey, WARD_PUBKEY_LEN,
                                     ka.b.signed_prekey_sig,
                                     WARD_SIGNATURE_LEN, 8));
        PUT_KEYS_EXPECT(&al, o, 400, "bad_signature", 5);
        /* A new identity whose signed prekey's signature has a bit
         * flipped: the identity must not be replaced either. */
        uint8_t sig[WARD_SIGNATURE_LEN];
        memcpy(sig, kx.b.signed_prekey_sig, sizeof sig);
        sig[10] ^= 0x01;
        o = keys_body(&kx, K_IK | K_PRE);
        json_object_set_new(o, "signed_prekey",
                            spk_json(kx.b.signed_prekey, WARD_PUBKEY_LEN, sig,
                                     WARD_SIGNATURE_LEN, 9));
        PUT_KEYS_EXPECT(&al, o, 400, "bad_signature", 5);
        /* The other identity's valid signed prekey under alice's key. */
        o = keys_body(&ka, K_IK);
        json_object_set_new(o, "signed_prekey",
                            spk_json(kx.b.signed_prekey, WARD_PUBKEY_LEN,
                                     kx.b.signed_prekey_sig,
                                     WARD_SIGNATURE_LEN, 9));
        PUT_KEYS_EXPECT(&al, o, 400, "bad_signature", 5);
    }
    PUT_KEYS_EXPECT(&al, keys_body(&ka, K_SPK), 400, "invalid_keys", 5);
    PUT_KEYS_EXPECT(&al, keys_body(&ka, K_SPK | K_PRE), 400, "invalid_keys",
                    5);
    {
        uint8_t k32[WARD_PUBKEY_LEN], k6[WARD_PUBKEY_LEN];
        memcpy(k32, ka.b.identity, WARD_PUBKEY_LEN);
        memcpy(k6, ka.b.identity, WARD_PUBKEY_LEN);
        k6[0] = 0x06;
        json_t *o;
        /* identity_key: bad base64, 32 bytes, 34 bytes, wrong type byte,
         * not a string; registration_id missing, alone, too large. */
        o = keys_body(&ka, K_ALL);
        json_object_set_new(o, "identity_key", json_string("!!!!not-b64"));
        PUT_KEYS_EXPECT(&al, o, 400, "invalid_keys", 5);
        o = keys_body(&ka, K_ALL);
        json_object_set_new(o, "identity_key", b64j(k32 + 1, 32));
        PUT_KEYS_EXPECT(&al, o, 400, "invalid_keys", 5);
        uint8_t k34[34];
        memcpy(k34, ka.b.identity, 33);
        k34[33] = 0;
        o = keys_body(&ka, K_ALL);
        json_object_set_new(o, "identity_key", b64j(k34, 34));
        PUT_KEYS_EXPECT(&al, o, 400, "invalid_keys", 5);
        o = keys_body(&ka, K_ALL);
        json_object_set_new(o, "identity_key", b64j(k6, WARD_PUBKEY_LEN));
        PUT_KEYS_EXPECT(&al, o, 400, "invalid_keys", 5);
        o = keys_body(&ka, K_ALL);
        json_object_set_new(o, "identity_key", json_integer(5));
        PUT_KEYS_EXPECT(&al, o, 400, "invalid_keys", 5);
        o = keys_body(&ka, K_ALL);
        json_object_del(o, "registration_id");
        PUT_KEYS_EXPECT(&al, o, 400, "invalid_keys", 5);
        o = keys_body(&ka, K_PRE);
        json_object_set_new(o, "registration_id", json_integer(5));
        PUT_KEYS_EXPECT(&al, o, 400, "invalid_keys", 5);
        o = keys_body(&ka, K_ALL);
        json_object_set_new(o, "registration_id", json_integer(0x4000));
        PUT_KEYS_EXPECT(&al, o, 400, "invalid_keys", 5);
        o = keys_body(&ka, K_ALL);
        json_object_set_new(o, "registration_id", json_integer(-1));
        PUT_KEYS_EXPECT(&al, o, 400, "invalid_keys", 5);

        /* signed_prekey: wrong type byte, short signature, extra field,
         * id too large, not an object. */
        uint8_t spk6[WARD_PUBKEY_LEN];
        memcpy(spk6, ka.b.signed_prekey, WARD_PUBKEY_LEN);
        spk6[0] = 0x06;
        o = keys_body(&ka, K_IK);
        json_object_set_new(o, "signed_prekey",
                            spk_json(spk6, WARD_PUBKEY_LEN,
                                     ka.b.signed_prekey_sig,
                                     WARD_SIGNATURE_LEN, 7));
        PUT_KEYS_EXPECT(&al, o, 400, "invalid_keys", 5);
        o = keys_body(&ka, K_IK);
        json_object_set_new(o, "signed_prekey",
                            spk_json(ka.b.signed_prekey, WARD_PUBKEY_LEN,
                                     ka.b.signed_prekey_sig, 63, 7));
        PUT_KEYS_EXPECT(&al, o, 400, "invalid_keys", 5);
        o = keys_body(&ka, K_ALL);
        json_object_set_new(json_object_get(o, "signed_prekey"), "extra",
                            json_true());
        PUT_KEYS_EXPECT(&al, o, 400, "invalid_keys", 5);
        o = keys_body(&ka, K_ALL);
        json_object_set_new(json_object_get(o, "signed_prekey"), "id",
                            json_integer(0x1000000));
        PUT_KEYS_EXPECT(&al, o, 400, "invalid_keys", 5);
        o = keys_body(&ka, K_IK);
        json_object_set_new(o, "signed_prekey", json_string("x"));
        PUT_KEYS_EXPECT(&al, o, 400, "invalid_keys", 5);

        /* prekeys: one bad entry spoils the batch. */
        json_t *bad_entries[] = {
            json_pack("{s:i,s:o}", "id", 500, "key", b64j(k32 + 1, 32)),
            json_pack("{s:i,s:o}", "id", 500, "key",
                      b64j(k6, WARD_PUBKEY_LEN)),
            json_pack("{s:i,s:s}", "id", 500, "key", "@@@@"),
            json_pack("{s:i,s:o}", "id", 0x1000000, "key",
                      b64j(kx.ot_pub[0], WARD_PUBKEY_LEN)),
            json_pack("{s:o}", "key", b64j(kx.ot_pub[0], WARD_PUBKEY_LEN)),
            json_pack("{s:i,s:o,s:i}", "id", 500, "key",
                      b64j(kx.ot_pub[0], WARD_PUBKEY_LEN), "x", 1),
            json_pack("{s:s,s:o}", "id", "500", "key",
                      b64j(kx.ot_pub[0], WARD_PUBKEY_LEN)),
            json_string("not an object"),
        };
        for (size_t i = 0; i < sizeof bad_entries / sizeof *bad_entries; i++) {
            REQUIRE(bad_entries[i]);
            o = keys_body(&ka, K_PRE);
            json_array_append_new(json_object_get(o, "prekeys"),
                                  bad_entries[i]);
            PUT_KEYS_EXPECT(&al, o, 400, "invalid_keys", 5);
        }
        o = json_pack("{s:s}", "prekeys", "none");
        PUT_KEYS_EXPECT(&al, o, 400, "invalid_keys", 5);
        /* More than one request may carry (200). */
        o = json_object();
        json_t *arr = json_array();
        for (int i = 0; i < 201; i++)
            json_array_append_new(
                arr, json_pack("{s:i,s:o}", "id", 1000 + i, "key",
                               b64j(kx.ot_pub[0], WARD_PUBKEY_LEN)));
        json_object_set_new(o, "prekeys", arr);
        PUT_KEYS_EXPECT(&al, o, 400, "invalid_keys", 5);

        o = keys_body(&ka, K_ALL);
        json_object_set_new(o, "device_id", json_integer(1));
        PUT_KEYS_EXPECT(&al, o, 400, "unknown_field", 5);
        call("PUT", "/v1/keys", al.auth, "[]");
        CHECK_ERR(400, "bad_json");

        /* Past max_prekeys (8): refused as a whole. */
        o = keys_body(&kx, K_PRE);
        json_t *more = json_array();
        for (int i = 0; i < 4; i++)
            json_array_append_new(
                more, json_pack("{s:i,s:o}", "id", 200 + i, "key",
                                b64j(kx.ot_pub[i % 2], WARD_PUBKEY_LEN)));
        json_object_set_new(o, "prekeys", more);
        PUT_KEYS_EXPECT(&al, o, 409, "too_many_prekeys", 5);
    }

    /* A fresh account with a bad signature: nothing at all is stored. */
    {
        keyset kc;
        keyset_new(&kc, 3, 1, 3);
        uint8_t sig[WARD_SIGNATURE_LEN];
        memcpy(sig, kc.b.signed_prekey_sig, sizeof sig);
        sig[0] ^= 0x80;
        json_t *o = keys_body(&kc, K_IK | K_PRE);
        json_object_set_new(o, "signed_prekey",
                            spk_json(kc.b.signed_prekey, WARD_PUBKEY_LEN, sig,
                                     WARD_SIGNATURE_LEN, 3));
        PUT_KEYS_EXPECT(&ca, o, 400, "bad_signature", 0);
        call("GET", "/v1/keys/carol", bo.auth, NULL);
        CHECK_ERR(404, "no_keys");
        keyset_free(&kc);
    }

    /* A new identity with too many prekeys: 409, and the old identity,
     * signed prekey and prekeys must all still be there. */
    {
        keyset kg1, kg2;
        keyset_new(&kg1, 1, 10, 5);
        keyset_new(&kg2, 2, 20, 9);
        CHECK_EQ_INT(call_json("PUT", "/v1/keys", gr.auth,
                               keys_body(&kg1, K_ALL), NULL),
                     200);
        CHECK_EQ_INT(jnum(G.j, "prekeys"), 5);
        PUT_KEYS_EXPECT(&gr, keys_body(&kg2, K_ALL), 409, "too_many_prekeys",
                        5);
        ward_bundle b;
        CHECK_EQ_INT(call("GET", "/v1/keys/grace", bo.auth, NULL), 200);
        CHECK(bundle_decode(G.j, &b) == 0);
        CHECK_SIGNED(&b, &kg1.b);
        CHECK_EQ_INT(b.has_prekey, 1);
        CHECK_EQ_INT(b.prekey_id, 10);
        keyset_free(&kg1);
        keyset_free(&kg2);
    }

    /* Exactly max_prekeys is fine; one more is not; replacing an id
     * does not count twice. */
    {
        keyset kh;
        keyset_new(&kh, 4, 50, 8);
        CHECK_EQ_INT(call_json("PUT", "/v1/keys", he.auth,
                               keys_body(&kh, K_ALL), NULL),
                     200);
        CHECK_EQ_INT(jnum(G.j, "prekeys"), 8);
        PUT_KEYS_EXPECT(&he, json_pack("{s:[{s:i,s:o}]}", "prekeys", "id", 99,
                                       "key",
                                       b64j(kh.ot_pub[0], WARD_PUBKEY_LEN)),
                        409, "too_many_prekeys", 8);
        CHECK_EQ_INT(call_json("PUT", "/v1/keys", he.auth,
                               json_pack("{s:[{s:i,s:o}]}", "prekeys", "id",
                                         50, "key",
                                         b64j(kh.ot_pub[1], WARD_PUBKEY_LEN)),
                               NULL),
                     200);
        CHECK_EQ_INT(jnum(G.j, "prekeys"), 8);
        /* The same identity again keeps the stored prekeys. */
        CHECK_EQ_INT(call_json("PUT", "/v1/keys", he.auth,
                               keys_body(&kh, K_IK), NULL),
                     200);
        CHECK_EQ_INT(jnum(G.j, "prekeys"), 8);
        /* A new identity drops the old signed prekey and prekeys. */
        keyset kh2;
        keyset_new(&kh2, 6, 60, 3);
        CHECK_EQ_INT(call_json("PUT", "/v1/keys", he.auth,
                               keys_body(&kh2, K_ALL), NULL),
                     200);
        CHECK_EQ_INT(jnum(G.j, "prekeys"), 3);
        ward_bundle b;
        CHECK_EQ_INT(call("GET", "/v1/keys/henry", bo.auth, NULL), 200);
        CHECK(bundle_decode(G.j, &b) == 0);
        CHECK_SIGNED(&b, &kh2.b);
        CHECK_EQ_INT(b.prekey_id, 60);
        CHECK_MEM(b.prekey, kh2.ot_pub[0], WARD_PUBKEY_LEN);
        /* A new identity alone leaves no signed prekey: no bundle. */
        keyset_free(&kh2);
        keyset_new(&kh2, 6, 60, 0);
        CHECK_EQ_INT(call_json("PUT", "/v1/keys", he.auth,
                               keys_body(&kh2, K_IK), NULL),
                     200);
        CHECK_EQ_INT(jnum(G.j, "prekeys"), 0);
        call("GET", "/v1/keys/henry", bo.auth, NULL);
        CHECK_ERR(404, "no_keys");
        keyset_free(&kh2);
        keyset_free(&kh);
    }

    /* Bundles: distinct one-time prekeys, lowest id first, then none. */
    ward_identity *bob_id = NULL;
    REQUIRE(ward_identity_generate(&bob_id) == WARD_OK);
    uint32_t seen[5];
    for (size_t i = 0; i < 5; i++) {
        ward_bundle b;
        CHECK_EQ_INT(call("GET", "/v1/keys/alice", bo.auth, NULL), 200);
        CHECK_STR(jstr(G.j, "username"), "alice");
        CHECK(bundle_decode(G.j, &b) == 0);
        CHECK_SIGNED(&b, &ka.b);
        CHECK_EQ_INT(b.has_prekey, 1);
        CHECK_EQ_INT(b.prekey_id, ka.ot_id[i]);
        CHECK_MEM(b.prekey, ka.ot_pub[i], WARD_PUBKEY_LEN);
        seen[i] = b.prekey_id;
        for (size_t k = 0; k < i; k++)
            CHECK(seen[k] != seen[i]);
        if (i == 0) {
            ward_session *s = NULL;
            REQUIRE(ward_session_new(&s) == WARD_OK);
            CHECK_EQ_INT(ward_session_init_from_bundle(s, bob_id, &b),
                         WARD_OK);
            CHECK(ward_session_is_ready(s));
            ward_session_free(s);
        }
        low = -1;
        CHECK_EQ_INT(own_prekeys(&al, &low), 4 - i);
        CHECK_EQ_INT(low, 4 - i < 3);
    }
    for (int i = 0; i < 2; i++) {
        ward_bundle b;
        CHECK_EQ_INT(call("GET", "/v1/keys/alice", bo.auth, NULL), 200);
        CHECK(json_object_get(G.j, "prekey") == NULL);
        CHECK(bundle_decode(G.j, &b) == 0);
        CHECK_EQ_INT(b.has_prekey, 0);
        CHECK_SIGNED(&b, &ka.b);
        ward_session *s = NULL;
        REQUIRE(ward_session_new(&s) == WARD_OK);
        CHECK_EQ_INT(ward_session_init_from_bundle(s, bob_id, &b), WARD_OK);
        ward_session_free(s);
    }
    CHECK_EQ_INT(own_prekeys(&al, &low), 0);
    CHECK_EQ_INT(low, 1);
    /* More prekeys alone (no identity_key) are accepted and handed out. */
    CHECK_EQ_INT(call_json("PUT", "/v1/keys", al.auth,
                           json_pack("{s:[{s:i,s:o}]}", "prekeys", "id", 777,
                                     "key",
                                     b64j(kx.ot_pub[1], WARD_PUBKEY_LEN)),
                           NULL),
                 200);
    CHECK_EQ_INT(jnum(G.j, "prekeys"), 1);
    CHECK_EQ_INT(jbool(G.j, "prekeys_low"), 1);
    {
        ward_bundle b;
        CHECK_EQ_INT(call("GET", "/v1/keys/alice", bo.auth, NULL), 200);
        CHECK(bundle_decode(G.j, &b) == 0);
        CHECK_SIGNED(&b, &ka.b);
        CHECK_EQ_INT(b.prekey_id, 777);
        CHECK_MEM(b.prekey, kx.ot_pub[1], WARD_PUBKEY_LEN);
    }

    call("GET", "/v1/keys/nobody", bo.auth, NULL);
    CHECK_ERR(404, "no_such_user");
    call("GET", "/v1/keys/Alice", bo.auth, NULL);
    CHECK_ERR(404, "no_such_user");
    call("GET", "/v1/keys/alice/x", bo.auth, NULL);
    CHECK_ERR(404, "no_such_user");
    call("GET", "/v1/keys/carol", bo.auth, NULL);
    CHECK_ERR(404, "no_keys");
    call("GET", "/v1/keys/alice", NULL, NULL);
    CHECK_ERR(401, "unauthorized");

    ward_identity_free(bob_id);
    keyset_free(&ka);
    keyset_free(&kx);
    env_close();
}

/* ======================================================================== */

static void check_listed(json_t *m, const char *from, int type,
                         const uint8_t *body, size_t n,
                         const uint8_t *commitment, int64_t id,
                         int64_t server_time)
{
    CHECK_EQ_INT(jnum(m, "id"), id);
    CHECK_STR(jstr(m, "from"), from);
    CHECK_EQ_INT(jnum(m, "type"), type);
    CHECK_EQ_INT(jnum(m, "server_time"), server_time);
    uint8_t buf[1024];
    long got = unb64(jstr(m, "body"), buf, sizeof buf);
    CHECK_EQ_INT(got, (long)n);
    if (got == (long)n)
        CHECK_MEM(buf, body, n);
    CHECK_EQ_INT(unb64(jstr(m, "commitment"), buf, sizeof buf), 32);
    CHECK_MEM(buf, commitment ? commitment : any_commit, 32);
}

static void test_messages(void)
{
    ward_api_config cfg = test_cfg();
    cfg.max_message = 300;
    env_open(&cfg);
    user al, bo, ca, da, ze;
    mk_user(&al, "alice");
    mk_user(&bo, "bob");
    mk_user(&ca, "carol");
    mk_user(&da, "dave");
    mk_user(&ze, "zed");

    uint8_t b1[] = {0x33, 1, 2, 3, 0, 255, 7};
    uint8_t b2[200], b3[] = {9}, b4[3] = {0, 0, 0}, c1[32], c3[32];
    for (size_t i = 0; i < sizeof b2; i++)
        b2[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i < 32; i++) {
        c1[i] = (uint8_t)(0xA0 ^ i);
        c3[i] = (uint8_t)i;
    }

    /* Four sends from three senders to three recipients, deferred. */
    int tags[4] = {0};
    struct {
        user *from, *to;
        int type;
        const uint8_t *body;
        size_t n;
        const uint8_t *c;
        int64_t t;
    } sends[4] = {{&al, &bo, 3, b1, sizeof b1, c1, T0 + 10},
                  {&ca, &bo, 2, b2, sizeof b2, NULL, T0 + 20},
                  {&al, &da, 2, b3, sizeof b3, c3, T0 + 30},
                  {&bo, &ca, 3, b4, sizeof b4, NULL, T0 + 40}};
    for (int i = 0; i < 4; i++) {
        G.f.now = sends[i].t;
        CHECK_EQ_INT(post_msg(sends[i].from, sends[i].to->name, sends[i].type,
                              sends[i].body, sends[i].n, sends[i].c, 32,
                              &tags[i]),
                     WARD_API_DEFERRED);
        CHECK_EQ_INT(G.status, 0); /* the response is left alone */
    }
    G.f.now = T0 + 100;
    CHECK_EQ_INT(G.f.n_done, 0);
    CHECK_EQ_INT(G.f.n_dl, 0);
    /* Nothing is stored before the flush. */
    CHECK_EQ_INT(count_msgs(&bo), 0);
    CHECK_EQ_INT(depth_of(bo.id), 0);

    CHECK_EQ_INT(ward_api_flush(G.api), 4);
    REQUIRE(G.f.n_done == 4);
    int64_t ids[4];
    for (int i = 0; i < 4; i++) {
        done_rec *d = &G.f.done[i];
        CHECK(d->opaque == &tags[i]);
        CHECK_EQ_INT(d->status, 201);
        json_error_t je;
        json_t *o = json_loadb(d->body, d->len, 0, &je);
        CHECK(o != NULL);
        ids[i] = jnum(o, "id");
        CHECK(ids[i] > 0);
        CHECK_EQ_INT(jnum(o, "server_time"), sends[i].t);
        json_decref(o);
        for (int k = 0; k < i; k++)
            CHECK(ids[k] != ids[i]);
    }
    REQUIRE(G.f.n_dl == 4);
    for (int i = 0; i < 4; i++) {
        deliver_rec *d = &G.f.dl[i];
        CHECK_EQ_INT(d->m.id, ids[i]);
        CHECK_EQ_INT(d->m.recipient, sends[i].to->id);
        CHECK_EQ_INT(d->m.sender, sends[i].from->id);
        CHECK_STR(d->m.sender_name, sends[i].from->name);
        CHECK_EQ_INT(d->m.type, sends[i].type);
        CHECK_EQ_INT(d->m.server_time, sends[i].t);
        CHECK_EQ_INT(d->m.body_len, sends[i].n);
        if (d->m.body_len == sends[i].n)
            CHECK_MEM(d->body, sends[i].body, sends[i].n);
        CHECK_EQ_INT(d->m.has_commitment, 1);
        CHECK_MEM(d->m.commitment, sends[i].c ? sends[i].c : any_commit, 32);
        /* Every send is answered before anything is pushed. */
        for (int k = 0; k < 4; k++)
            CHECK(G.f.done[k].seq < d->seq);
    }
    CHECK_EQ_INT(ward_api_flush(G.api), 0);
    CHECK_EQ_INT(G.f.n_done, 4);
    CHECK_EQ_INT(G.f.n_dl, 4);
    fake_clear(&G.f);

    /* Listing. */
    json_t *a = list_msgs(&bo, NULL);
    REQUIRE(a);
    CHECK_EQ_INT(json_array_size(a), 2);
    if (json_array_size(a) == 2) {
        check_listed(json_array_get(a, 0), "alice", 3, b1, sizeof b1, c1,
                     ids[0], T0 + 10);
        check_listed(json_array_get(a, 1), "carol", 2, b2, sizeof b2, NULL,
                     ids[1], T0 + 20);
    }
    json_decref(a);
    a = list_msgs(&da, NULL);
    REQUIRE(a);
    CHECK_EQ_INT(json_array_size(a), 1);
    if (json_array_size(a) == 1)
        check_listed(json_array_get(a, 0), "alice", 2, b3, sizeof b3, c3,
                     ids[2], T0 + 30);
    json_decref(a);
    CHECK_EQ_INT(count_msgs(&al), 0);
    CHECK_EQ_INT(depth_of(bo.id), 2);

    /* Pagination over carol's queue (1 + 5 messages). */
    int64_t cid[6];
    cid[0] = ids[3];
    for (int i = 1; i < 6; i++) {
        uint8_t m = (uint8_t)i;
        CHECK_EQ_INT(post_msg(&al, "carol", 2, &m, 1, NULL, 0, NULL),
                     WARD_API_DEFERRED);
    }
    CHECK_EQ_INT(ward_api_flush(G.api), 5);
    REQUIRE(G.f.n_dl == 5);
    for (int i = 1; i < 6; i++)
        cid[i] = G.f.dl[i - 1].m.id;
    fake_clear(&G.f);
    struct {
        const char *q;
        int first, n;
    } pages[] = {{"limit=2", 0, 2},        {NULL, 0, 6},  {"limit=500", 0, 6},
                 {"limit=1", 0, 1},        {"after=0", 0, 6}, {"", 0, 6}};
    for (size_t p = 0; p < sizeof pages / sizeof *pages; p++) {
        a = list_msgs(&ca, pages[p].q);
        CHECK(a != NULL);
        CHECK_EQ_INT(json_array_size(a), pages[p].n);
        for (int i = 0; i < pages[p].n && i < (int)json_array_size(a); i++)
            CHECK_EQ_INT(jnum(json_array_get(a, (size_t)i), "id"),
                         cid[pages[p].first + i]);
        json_decref(a);
    }
    for (int start = 0; start < 6; start++) {
        char q[64];
        snprintf(q, sizeof q, "after=%lld&limit=2", (long long)cid[start]);
        a = list_msgs(&ca, q);
        CHECK(a != NULL);
        int want = 5 - start < 2 ? 5 - start : 2;
        CHECK_EQ_INT(json_array_size(a), want);
        for (int i = 0; i < want && i < (int)json_array_size(a); i++)
            CHECK_EQ_INT(jnum(json_array_get(a, (size_t)i), "id"),
                         cid[start + 1 + i]);
        json_decref(a);
        snprintf(q, sizeof q, "limit=2&after=%lld", (long long)cid[start]);
        a = list_msgs(&ca, q);
        CHECK_EQ_INT(a ? json_array_size(a) : 99, want);
        json_decref(a);
    }
    const char *bad_q[] = {"limit=0",  "limit=501", "limit=-1", "limit=abc",
                           "limit=",   "after=x",   "after=-5", "after",
                           "foo=1",    "after=1&bogus=2",
                           "after=1234567890123456789", "limit=2x",
                           "=5"};
    for (size_t i = 0; i < sizeof bad_q / sizeof *bad_q; i++) {
        call_full("GET", "/v1/messages", bad_q[i], ca.auth, NULL, 0, NULL);
        CHECK_ERR(400, "invalid_query");
    }
    call("GET", "/v1/messages", NULL, NULL);
    CHECK_ERR(401, "unauthorized");

    /* Acknowledging: only the recipient, only once. */
    char path[64];
    snprintf(path, sizeof path, "/v1/messages/%lld", (long long)ids[0]);
    call("DELETE", path, ca.auth, NULL);
    CHECK_ERR(404, "not_found");
    call("DELETE", path, al.auth, NULL); /* the sender */
    CHECK_ERR(404, "not_found");
    CHECK(listed(&bo, ids[0]));
    CHECK_EQ_INT(depth_of(bo.id), 2);
    call("DELETE", path, NULL, NULL);
    CHECK_ERR(401, "unauthorized");
    call("DELETE", path, bo.auth, NULL);
    CHECK_EQ_INT(G.status, 204);
    CHECK_EQ_INT(G.raw_len, 0);
    CHECK(!listed(&bo, ids[0]));
    CHECK(listed(&bo, ids[1]));
    CHECK_EQ_INT(depth_of(bo.id), 1);
    call("DELETE", path, bo.auth, NULL);
    CHECK_ERR(404, "not_found");
    CHECK_EQ_INT(depth_of(bo.id), 1);
    call("DELETE", "/v1/messages/abc", bo.auth, NULL);
    CHECK_ERR(400, "invalid_id");
    call("DELETE", "/v1/messages/-1", bo.auth, NULL);
    CHECK_ERR(400, "invalid_id");
    call("DELETE", "/v1/messages/999999", bo.auth, NULL);
    CHECK_ERR(404, "not_found");

    /* Refused sends: answered at once, nothing queued. */
    uint8_t big[700];
    memset(big, 0x5a, sizeof big);
    post_msg(&al, "nobody", 2, b1, sizeof b1, NULL, 0, NULL);
    CHECK_ERR(404, "no_such_user");
    post_msg(&al, "Bob", 2, b1, sizeof b1, NULL, 0, NULL);
    CHECK_ERR(404, "no_such_user");
    for (int type = 0; type < 6; type++) {
        if (type == 2 || type == 3)
            continue;
        post_msg(&al, "bob", type, b1, sizeof b1, NULL, 0, NULL);
        CHECK_ERR(400, "invalid_message");
    }
    post_msg(&al, "bob", 2, b1, sizeof b1, c1, 31, NULL);
    CHECK_ERR(400, "invalid_message");
    /* Without a franking commitment a message could not be reported. */
    post_msg_bare(&al, "bob", 2, b1, sizeof b1);
    CHECK_ERR(400, "invalid_message");
    post_msg(&al, "bob", 2, b1, sizeof b1, big, 33, NULL);
    CHECK_ERR(400, "invalid_message");
    const char *bad_bodies[] = {
        "{\"to\":\"bob\",\"type\":\"2\",\"body\":\"AQID\"}",
        "{\"to\":\"bob\",\"type\":2.0,\"body\":\"AQID\"}",
        "{\"to\":\"bob\",\"body\":\"AQID\"}",
        "{\"type\":2,\"body\":\"AQID\"}",
        "{\"to\":7,\"type\":2,\"body\":\"AQID\"}",
        "{\"to\":\"bob\",\"type\":2}",
        "{\"to\":\"bob\",\"type\":2,\"body\":12}",
        "{\"to\":\"bob\",\"type\":2,\"body\":\"AQID\",\"commitment\":\"@@\"}",
        "{\"to\":\"bob\",\"type\":2,\"body\":\"AQID\",\"commitment\":5}",
        /* empty and non-base64 bodies */
        "{\"to\":\"bob\",\"type\":2,\"body\":\"\"}",
        "{\"to\":\"bob\",\"type\":2,\"body\":\"@@@@\"}",
        "{\"to\":\"bob\",\"type\":2,\"body\":\"AQI\"}",
        "{\"to\":\"bob\",\"type\":2,\"body\":\"AQ==AQ==\"}",
    };
    for (size_t i = 0; i < sizeof bad_bodies / sizeof *bad_bodies; i++) {
        call("POST", "/v1/messages", al.auth, bad_bodies[i]);
        CHECK_ERR(400, "invalid_message");
        if (G.status != 400)
            fprintf(stderr, "  ... for body %s\n", bad_bodies[i]);
    }
    call("POST", "/v1/messages", al.auth,
         "{\"to\":\"bob\",\"type\":2,\"body\":\"AQID\",\"ttl\":5}");
    CHECK_ERR(400, "unknown_field");
    call("POST", "/v1/messages", al.auth, "not json");
    CHECK_ERR(400, "bad_json");
    call("POST", "/v1/messages", NULL,
         "{\"to\":\"bob\",\"type\":2,\"body\":\"AQID\"}");
    CHECK_ERR(401, "unauthorized");
    post_msg(&al, "bob", 2, big, 301, NULL, 0, NULL);
    CHECK_ERR(413, "message_too_large");
    post_msg(&al, "bob", 2, big, 600, NULL, 0, NULL);
    CHECK_ERR(413, "message_too_large");
    CHECK_EQ_INT(ward_api_flush(G.api), 0);
    CHECK_EQ_INT(G.f.n_done, 0);
    CHECK_EQ_INT(depth_of(bo.id), 1);

    /* Sizes up to max_message go through. */
    size_t sizes[] = {1, 297, 300}, deferred = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        CHECK_EQ_INT(post_msg(&al, "dave", 2, big, sizes[i], NULL, 0, NULL),
                     WARD_API_DEFERRED);
        if (G.rc == WARD_API_DEFERRED)
            deferred++;
        else
            fprintf(stderr, "  ... a %zu-byte body (max_message %zu): %d %s\n",
                    sizes[i], cfg.max_message, G.status, ecode());
    }
    CHECK_EQ_INT(ward_api_flush(G.api), deferred);
    CHECK_EQ_INT(G.f.n_dl, deferred);
    for (size_t i = 0; i < G.f.n_dl; i++)
        CHECK_EQ_INT(G.f.dl[i].m.body_len, sizes[i]);
    fake_clear(&G.f);

    /* A real ward message, byte for byte through send and list, and
     * decryptable by its recipient. */
    {
        keyset kz;
        keyset_new(&kz, 5, 40, 2);
        CHECK_EQ_INT(call_json("PUT", "/v1/keys", ze.auth,
                               keys_body(&kz, K_ALL), NULL),
                     200);
        ward_identity *alice_id = NULL;
        REQUIRE(ward_identity_generate(&alice_id) == WARD_OK);
        ward_bundle bz;
        CHECK_EQ_INT(call("GET", "/v1/keys/zed", al.auth, NULL), 200);
        REQUIRE(bundle_decode(G.j, &bz) == 0);
        ward_session *s = NULL, *r = NULL;
        REQUIRE(ward_session_new(&s) == WARD_OK);
        CHECK_EQ_INT(ward_session_init_from_bundle(s, alice_id, &bz), WARD_OK);
        const char *text = "hello zed, this is alice";
        ward_buf ct;
        ward_buf_init(&ct, 0);
        int type = 0;
        CHECK_EQ_INT(ward_session_encrypt(s, (const uint8_t *)text,
                                          strlen(text), &ct, &type),
                     WARD_OK);
        CHECK_EQ_INT(type, WARD_MSG_PREKEY);
        CHECK_EQ_INT(post_msg(&al, "zed", type, ct.data, ct.len, NULL, 0,
                              NULL),
                     WARD_API_DEFERRED);
        CHECK_EQ_INT(ward_api_flush(G.api), 1);
        REQUIRE(G.f.n_dl == 1);
        CHECK_EQ_INT(G.f.dl[0].m.body_len, ct.len);
        CHECK_MEM(G.f.dl[0].body, ct.data, ct.len);
        a = list_msgs(&ze, NULL);
        REQUIRE(a && json_array_size(a) == 1);
        json_t *m = json_array_get(a, 0);
        uint8_t got[1024];
        long n = unb64(jstr(m, "body"), got, sizeof got);
        CHECK_EQ_INT(n, (long)ct.len);
        if (n == (long)ct.len)
            CHECK_MEM(got, ct.data, ct.len);
        CHECK_EQ_INT(jnum(m, "type"), WARD_MSG_PREKEY);
        CHECK_STR(jstr(m, "from"), "alice");
        ward_buf pt;
        ward_buf_init(&pt, 0);
        REQUIRE(ward_session_new(&r) == WARD_OK);
        CHECK_EQ_INT(ward_session_decrypt(r, kz.id, kz.pk,
                                          (int)jnum(m, "type"), got,
                                          n > 0 ? (size_t)n : 0, &pt),
                     WARD_OK);
        CHECK_EQ_INT(pt.len, strlen(text));
        if (pt.len == strlen(text))
            CHECK_MEM(pt.data, text, pt.len);
        json_decref(a);
        ward_buf_release(&pt);
        ward_buf_release(&ct);
        ward_session_free(s);
        ward_session_free(r);
        ward_identity_free(alice_id);
        keyset_free(&kz);
        fake_clear(&G.f);
    }

    /* A recipient that goes away between send and flush. */
    user gone;
    mk_user(&gone, "gone");
    int tag = 0;
    CHECK_EQ_INT(post_msg(&al, "gone", 2, b1, sizeof b1, NULL, 0, &tag),
                 WARD_API_DEFERRED);
    CHECK_EQ_INT(call_json("DELETE", "/v1/accounts/me", gone.auth,
                           json_pack("{s:s}", "password", gone.pw), NULL),
                 204);
    CHECK_EQ_INT(ward_api_flush(G.api), 1);
    REQUIRE(G.f.n_done == 1);
    CHECK(G.f.done[0].opaque == &tag);
    CHECK_EQ_INT(G.f.done[0].status, 404);
    CHECK(strstr(G.f.done[0].body, "\"no_such_user\"") != NULL);
    CHECK_EQ_INT(G.f.n_dl, 0);
    fake_clear(&G.f);

    /* Left pending: ward_api_free must release it (ASan checks). */
    CHECK_EQ_INT(post_msg(&al, "bob", 2, b2, sizeof b2, NULL, 0, NULL),
                 WARD_API_DEFERRED);
    env_close();
}

/* ======================================================================== */

static void test_queue_limit(void)
{
    ward_api_config cfg = test_cfg();
    cfg.max_queue = 3;
    env_open(&cfg);
    user a, b, c;
    mk_user(&a, "anna");
    mk_user(&b, "bert");
    mk_user(&c, "cleo");

    /* One flush: b1 c1 b2 b3 b4 c2 b5 → b4 and b5 are past bert's 3. */
    const char *to[] = {"bert", "cleo", "bert", "bert", "bert", "cleo", "bert"};
    int want[] = {201, 201, 201, 201, 429, 201, 429};
    int tags[7];
    for (int i = 0; i < 7; i++) {
        uint8_t m = (uint8_t)(0x40 + i);
        CHECK_EQ_INT(post_msg(&a, to[i], 2, &m, 1, NULL, 0, &tags[i]),
                     WARD_API_DEFERRED);
    }
    CHECK_EQ_INT(ward_api_flush(G.api), 7);
    REQUIRE(G.f.n_done == 7);
    size_t ok = 0;
    for (int i = 0; i < 7; i++) {
        CHECK(G.f.done[i].opaque == &tags[i]);
        CHECK_EQ_INT(G.f.done[i].status, want[i]);
        if (want[i] == 429)
            CHECK(strstr(G.f.done[i].body, "\"queue_full\"") != NULL);
        ok += want[i] == 201;
    }
    CHECK_EQ_INT(G.f.n_dl, ok);
    for (size_t i = 0; i < G.f.n_dl; i++)
        CHECK(G.f.dl[i].body[0] != 0x44 && G.f.dl[i].body[0] != 0x46);
    fake_clear(&G.f);
    CHECK_EQ_INT(count_msgs(&b), 3);
    CHECK_EQ_INT(count_msgs(&c), 2);
    CHECK_EQ_INT(depth_of(b.id), 3);

    /* Full until the recipient acknowledges one. */
    uint8_t m = 1;
    post_msg(&c, "bert", 2, &m, 1, NULL, 0, NULL);
    ward_api_flush(G.api);
    CHECK(G.f.n_done == 1 && G.f.done[0].status == 429);
    fake_clear(&G.f);
    json_t *l = list_msgs(&b, NULL);
    REQUIRE(l && json_array_size(l) == 3);
    char path[64];
    snprintf(path, sizeof path, "/v1/messages/%lld",
             jnum(json_array_get(l, 0), "id"));
    json_decref(l);
    CHECK_EQ_INT(call("DELETE", path, b.auth, NULL), 204);
    CHECK_EQ_INT(depth_of(b.id), 2);
    post_msg(&c, "bert", 2, &m, 1, NULL, 0, NULL);
    post_msg(&c, "bert", 2, &m, 1, NULL, 0, NULL);
    CHECK_EQ_INT(ward_api_flush(G.api), 2);
    CHECK(G.f.n_done == 2 && G.f.done[0].status == 201 &&
          G.f.done[1].status == 429);
    CHECK_EQ_INT(count_msgs(&b), 3);
    fake_clear(&G.f);
    env_close();
}

/* ======================================================================== */

static void test_delete_account(void)
{
    ward_api_config cfg = test_cfg();
    env_open(&cfg);
    user al, bo, bo2;
    mk_user(&al, "alice");
    mk_user(&bo, "bob");
    bo2 = bo;
    login_as(&bo2);

    keyset kb;
    keyset_new(&kb, 2, 1, 4);
    CHECK_EQ_INT(call_json("PUT", "/v1/keys", bo.auth, keys_body(&kb, K_ALL),
                           NULL),
                 200);
    uint8_t m1[] = {1, 2, 3}, m2[] = {4, 5};
    post_msg(&al, "bob", 2, m1, sizeof m1, NULL, 0, NULL);
    post_msg(&al, "bob", 3, m2, sizeof m2, NULL, 0, NULL);
    post_msg(&bo, "alice", 2, m2, sizeof m2, NULL, 0, NULL);
    CHECK_EQ_INT(ward_api_flush(G.api), 3);
    fake_clear(&G.f);
    CHECK_EQ_INT(count_msgs(&bo), 2);

    /* Wrong or missing password: 403, nothing changes. */
    call_json("DELETE", "/v1/accounts/me", bo.auth,
              json_pack("{s:s}", "password", "not-bobs-password"), NULL);
    CHECK_ERR(403, "bad_credentials");
    call_json("DELETE", "/v1/accounts/me", bo.auth,
              json_pack("{s:s}", "password", al.pw), NULL);
    CHECK_ERR(403, "bad_credentials");
    call("DELETE", "/v1/accounts/me", bo.auth, "{}");
    CHECK_ERR(403, "bad_credentials");
    call("DELETE", "/v1/accounts/me", bo.auth, NULL);
    CHECK_ERR(400, "bad_json");
    call("DELETE", "/v1/accounts/me", bo.auth,
         "{\"password\":\"x\",\"really\":true}");
    CHECK_ERR(400, "unknown_field");
    call_json("DELETE", "/v1/accounts/me", NULL,
              json_pack("{s:s}", "password", bo.pw), NULL);
    CHECK_ERR(401, "unauthorized");
    CHECK(account_exists("bob"));
    CHECK_EQ_INT(count_msgs(&bo), 2);
    CHECK_EQ_INT(own_prekeys(&bo, NULL), 4);
    CHECK_EQ_INT(call("GET", "/v1/keys/bob", al.auth, NULL), 200);

    /* The right password. */
    int64_t old = bo.id;
    call_json("DELETE", "/v1/accounts/me", bo.auth,
              json_pack("{s:s}", "password", bo.pw), NULL);
    CHECK_EQ_INT(G.status, 204);
    CHECK_EQ_INT(G.raw_len, 0);
    CHECK(!account_exists("bob"));
    call("GET", "/v1/messages", bo.auth, NULL);
    CHECK_ERR(401, "unauthorized");
    call("GET", "/v1/keys", bo2.auth, NULL);
    CHECK_ERR(401, "unauthorized");
    int64_t who;
    CHECK_EQ_INT(ward_api_authenticate(G.api, bo2.auth, &who), WARD_ERR_AUTH);
    /* Its queue and keys are gone from the store. */
    size_t rows = 0, n = 99;
    CHECK_EQ_INT(ward_store_queue_list(G.st, old, 0, 1000, count_rows, &rows),
                 WARD_OK);
    CHECK_EQ_INT(rows, 0);
    CHECK_EQ_INT(ward_store_prekey_count(G.st, old, &n), WARD_OK);
    CHECK_EQ_INT(n, 0);
    ward_bundle b;
    CHECK_EQ_INT(ward_store_take_bundle(G.st, old, &b, NULL),
                 WARD_ERR_NOT_FOUND);
    call("GET", "/v1/keys/bob", al.auth, NULL);
    CHECK_ERR(404, "no_such_user");
    post_msg(&al, "bob", 2, m1, sizeof m1, NULL, 0, NULL);
    CHECK_ERR(404, "no_such_user");
    login_raw("bob", bo.pw);
    CHECK_ERR(401, "bad_credentials");
    /* What it sent stays with its recipient; alice is untouched. */
    CHECK_EQ_INT(count_msgs(&al), 1);
    CHECK_EQ_INT(call("GET", "/v1/keys", al.auth, NULL), 200);

    /* The name is free again, for a new account with nothing. */
    user nb;
    mk_user(&nb, "bob");
    CHECK(nb.id != old);
    CHECK_EQ_INT(count_msgs(&nb), 0);
    CHECK_EQ_INT(own_prekeys(&nb, NULL), 0);
    call("GET", "/v1/keys/bob", al.auth, NULL);
    CHECK_ERR(404, "no_keys");
    CHECK_EQ_INT(depth_of(nb.id), 0);
    /* The old tokens do not come back to life for the new account. */
    call("GET", "/v1/messages", bo.auth, NULL);
    CHECK_ERR(401, "unauthorized");

    keyset_free(&kb);
    env_close();
}

/* Deleting the account checks the password: with a stolen token that must
 * not be an unlimited password oracle, so it spends the login budgets. */
static void test_delete_account_rate_limit(void)
{
    ward_api_config cfg = test_cfg();
    cfg.login_burst = 3;
    cfg.login_per_minute = 6; /* one attempt per 10 s */
    env_open(&cfg);
    user vi;
    mk_user(&vi, "victim"); /* one login: two attempts left */
    for (int i = 0; i < 2; i++) {
        call_json("DELETE", "/v1/accounts/me", vi.auth,
                  json_pack("{s:s}", "password", "a-wrong-guess"), NULL);
        CHECK_ERR(403, "bad_credentials");
    }
    /* The budget is spent: even the right password waits. */
    call_json("DELETE", "/v1/accounts/me", vi.auth,
              json_pack("{s:s}", "password", "another-guess"), NULL);
    CHECK_ERR(429, "rate_limited");
    call_json("DELETE", "/v1/accounts/me", vi.auth,
              json_pack("{s:s}", "password", vi.pw), NULL);
    CHECK_ERR(429, "rate_limited");
    CHECK(account_exists("victim"));
    login_raw("victim", vi.pw);
    CHECK_ERR(429, "rate_limited");
    /* A refused request without a password does not spend the budget,
     * and the budget refills. */
    call("DELETE", "/v1/accounts/me", vi.auth, "{}");
    CHECK_ERR(403, "bad_credentials");
    G.f.now += 10 * 1000;
    call_json("DELETE", "/v1/accounts/me", vi.auth,
              json_pack("{s:s}", "password", vi.pw), NULL);
    CHECK_EQ_INT(G.status, 204);
    CHECK(!account_exists("victim"));
    env_close();
}

/* ======================================================================== */

static void test_stats(void)
{
    ward_api_config cfg = test_cfg();
    cfg.max_body = 100;
    cfg.max_queue = 1;
    env_open(&cfg);
    ward_api_stats s;
    ward_api_stats_get(G.api, &s);
    CHECK_EQ_INT(s.requests, 0);
    CHECK_EQ_INT(s.errors_4xx, 0);

    call("GET", "/healthz", NULL, NULL);              /* 200 */
    call("GET", "/nope", NULL, NULL);                 /* 404 */
    call("POST", "/healthz", NULL, NULL);             /* 405 */
    char big[101];
    memset(big, ' ', sizeof big);
    call_full("GET", "/healthz", NULL, NULL, big, sizeof big, NULL); /* 413 */
    ward_api_stats_get(G.api, &s);
    CHECK_EQ_INT(s.requests, 4);
    CHECK_EQ_INT(s.errors_4xx, 3);
    CHECK_EQ_INT(s.errors_5xx, 0);

    user a, b;
    mk_user(&a, "anna"); /* 2 requests each */
    mk_user(&b, "bert");
    uint8_t m = 7;
    post_msg(&a, "bert", 2, &m, 1, NULL, 0, NULL);   /* deferred */
    post_msg(&a, "nobody", 2, &m, 1, NULL, 0, NULL); /* 404 */
    login_raw("anna", "wrong-password");             /* 401 */
    ward_api_stats_get(G.api, &s);
    CHECK_EQ_INT(s.requests, 11);
    CHECK_EQ_INT(s.errors_4xx, 5);
    /* Counted once stored, not when queued for the commit. */
    CHECK_EQ_INT(s.messages_in, 0);
    CHECK_EQ_INT(s.login_refused, 1);
    CHECK_EQ_INT(ward_api_flush(G.api), 1);
    ward_api_stats_get(G.api, &s);
    CHECK_EQ_INT(s.messages_in, 1);
    CHECK_EQ_INT(count_msgs(&b), 1);                 /* 12 */
    CHECK_EQ_INT(count_msgs(&b), 1);                 /* 13 */
    ward_api_stats_get(G.api, &s);
    CHECK_EQ_INT(s.requests, 13);
    CHECK_EQ_INT(s.messages_out, 2);
    CHECK_EQ_INT(s.errors_4xx, 5);
    /* A send refused in the flush (queue full) is a 4xx too. */
    post_msg(&a, "bert", 2, &m, 1, NULL, 0, NULL);
    CHECK_EQ_INT(ward_api_flush(G.api), 1);
    CHECK_EQ_INT(G.f.done[G.f.n_done - 1].status, 429);
    ward_api_stats_get(G.api, &s);
    CHECK_EQ_INT(s.requests, 14);
    CHECK_EQ_INT(s.errors_4xx, 6);
    CHECK_EQ_INT(s.errors_5xx, 0);
    env_close();
}

int main(void)
{
    REQUIRE(ward_crypto_init() == WARD_OK);
    test_routing();
    test_register();
    test_login();
    test_tokens();
    test_logout_store_failure();
    test_keys();
    test_messages();
    test_queue_limit();
    test_delete_account();
    test_delete_account_rate_limit();
    test_stats();
    return wtest_done("test_api");
}
