/*
 * The storage contract of include/ward/store.h, checked through the public
 * interface only, so that every backend runs the same suite. Each group
 * gets an empty store from the runner's open_fresh() and closes it.
 *
 * Expected values come from the contract's comments (and from the error
 * codes' meanings in ward/err.h), never from one backend's behaviour: where
 * the contract leaves a choice open, either answer is accepted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ward/err.h"
#include "ward/proto.h"
#include "ward/store.h"
#include "store_suite.h"
#include "wtest.h"

/* ---- helpers ---- */

/* Deterministic bytes from |seed| (xorshift32). */
static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 0x9e3779b9u;
    if (!x)
        x = 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)(x >> 24);
    }
}

static void make_pub(uint8_t pub[WARD_PUBKEY_LEN], uint32_t seed)
{
    pub[0] = WARD_KEY_TYPE_DJB;
    fill(pub + 1, WARD_PUBKEY_LEN - 1, seed);
}

/* A NUL-terminated string within |cap| bytes that equals |want|. */
static int str_is(const char *buf, size_t cap, const char *want)
{
    return memchr(buf, 0, cap) != NULL && strcmp(buf, want) == 0;
}

/* |len| printable characters derived from |seed|, NUL-terminated. */
static void make_str(char *out, size_t len, uint32_t seed)
{
    static const char alphabet[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789$./";
    uint8_t raw[256];
    REQUIRE(len <= sizeof raw);
    fill(raw, len, seed);
    for (size_t i = 0; i < len; i++)
        out[i] = alphabet[raw[i] % (sizeof alphabet - 1)];
    out[len] = 0;
}

static const char PW_ALICE[] =
    "$argon2id$v=19$m=65536,t=2,p=1$YWxpY2Utc2FsdA$"
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
static const char PW_BOB[] =
    "$argon2id$v=19$m=65536,t=2,p=1$Ym9iLXNhbHQ$"
    "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvu";

static int64_t new_account(ward_store *st, const char *name, int64_t now)
{
    int64_t id = 0;
    ward_err e = ward_store_account_create(st, name, PW_ALICE, WARD_AGE_ADULT,
                                           now, &id);
    if (e)
        fprintf(stderr, "store_suite: creating %s: %s (%s)\n", name,
                ward_strerror(e), ward_store_last_error(st));
    REQUIRE(e == WARD_OK);
    return id;
}

/* An id that no account in the store has. */
static int64_t unknown_id(const int64_t *ids, size_t n)
{
    int64_t max = 0;
    for (size_t i = 0; i < n; i++)
        if (ids[i] > max)
            max = ids[i];
    return max + 1000003;
}

static void check_account(ward_store *st, int64_t id, const char *name,
                          int age_band, int64_t created_at,
                          const char *pwhash)
{
    ward_account a;
    memset(&a, 0x5a, sizeof a);
    CHECK_EQ_INT(ward_store_account_by_name(st, name, &a), WARD_OK);
    CHECK_EQ_INT(a.id, id);
    CHECK(str_is(a.username, sizeof a.username, name));
    CHECK_EQ_INT(a.age_band, age_band);
    CHECK_EQ_INT(a.created_at, created_at);
    CHECK(str_is(a.pwhash, sizeof a.pwhash, pwhash));

    memset(&a, 0xa5, sizeof a);
    CHECK_EQ_INT(ward_store_account_by_id(st, id, &a), WARD_OK);
    CHECK_EQ_INT(a.id, id);
    CHECK(str_is(a.username, sizeof a.username, name));
    CHECK_EQ_INT(a.age_band, age_band);
    CHECK_EQ_INT(a.created_at, created_at);
    CHECK(str_is(a.pwhash, sizeof a.pwhash, pwhash));
}

/* Collects listed messages, copying the borrowed bodies. */
#define COLLECT_MAX 256
typedef struct collector {
    ward_store_msg m[COLLECT_MAX];
    uint8_t *body[COLLECT_MAX];
    size_t n;        /* stored */
    size_t calls;    /* callback invocations */
    size_t stop_at;  /* return non-zero on this call (0: never) */
    int bad_recipient; /* a message listed with another recipient */
} collector;

static int collect(void *ctx, const ward_store_msg *m)
{
    collector *c = ctx;
    c->calls++;
    if (c->n < COLLECT_MAX) {
        size_t i = c->n++;
        c->m[i] = *m;
        c->body[i] = NULL;
        if (m->body_len) {
            REQUIRE(m->body != NULL);
            c->body[i] = malloc(m->body_len);
            REQUIRE(c->body[i] != NULL);
            memcpy(c->body[i], m->body, m->body_len);
        }
        c->m[i].body = c->body[i];
    }
    return c->stop_at && c->calls >= c->stop_at;
}

static void collector_reset(collector *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->body[i]);
    c->n = 0;
    c->calls = 0;
    c->stop_at = 0;
}

static ward_err list(ward_store *st, collector *c, int64_t recipient,
                     int64_t after, size_t limit)
{
    collector_reset(c);
    return ward_store_queue_list(st, recipient, after, limit, collect, c);
}

/* A listed message against the one that was queued. */
static void check_msg(const collector *c, size_t i, const ward_store_msg *want)
{
    if (i >= c->n) {
        CHECK(i < c->n);
        return;
    }
    const ward_store_msg *g = &c->m[i];
    CHECK_EQ_INT(g->id, want->id);
    CHECK_EQ_INT(g->recipient, want->recipient);
    CHECK_EQ_INT(g->sender, want->sender);
    CHECK(str_is(g->sender_name, sizeof g->sender_name, want->sender_name));
    CHECK_EQ_INT(g->type, want->type);
    CHECK_EQ_INT(g->server_time, want->server_time);
    CHECK_EQ_INT(g->has_commitment != 0, want->has_commitment != 0);
    if (g->has_commitment && want->has_commitment)
        CHECK_MEM(g->commitment, want->commitment, 32);
    CHECK_EQ_INT(g->body_len, want->body_len);
    if (g->body_len == want->body_len && want->body_len)
        CHECK_MEM(c->body[i], want->body, want->body_len);
}

static void set_msg(ward_store_msg *m, int64_t recipient, int64_t sender,
                    const char *sender_name, int type, int64_t server_time,
                    uint32_t commitment_seed, const uint8_t *body,
                    size_t body_len)
{
    memset(m, 0, sizeof *m);
    m->id = -1;
    m->recipient = recipient;
    m->sender = sender;
    snprintf(m->sender_name, sizeof m->sender_name, "%s", sender_name);
    m->type = type;
    m->server_time = server_time;
    m->has_commitment = commitment_seed != 0;
    if (commitment_seed)
        fill(m->commitment, 32, commitment_seed);
    m->body = body;
    m->body_len = body_len;
}

static size_t depth(ward_store *st, int64_t recipient)
{
    size_t d = (size_t)-1;
    CHECK_EQ_INT(ward_store_queue_depth(st, recipient, &d), WARD_OK);
    return d;
}

static size_t prekeys_left(ward_store *st, int64_t account)
{
    size_t n = (size_t)-1;
    CHECK_EQ_INT(ward_store_prekey_count(st, account, &n), WARD_OK);
    return n;
}

/* ---- accounts ---- */

static void test_accounts(ward_store *st)
{
    const int64_t t_a = INT64_C(1700000000001), t_b = INT64_C(1700000000002);
    const int64_t t_c = INT64_C(4102444800000); /* 2100-01-01 */
    int64_t a = -1, b = -1, c = -1, d = -1;

    CHECK_EQ_INT(ward_store_account_create(st, "alice", PW_ALICE,
                                           WARD_AGE_ADULT, t_a, &a),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_account_create(st, "bob", PW_BOB, WARD_AGE_MINOR,
                                           t_b, &b),
                 WARD_OK);
    /* Names and hashes of exactly the maximum length. */
    char name32[WARD_USERNAME_MAX + 2], pw128[WARD_PWHASH_MAX + 2];
    make_str(name32, WARD_USERNAME_MAX, 1);
    make_str(pw128, WARD_PWHASH_MAX, 2);
    CHECK_EQ_INT(ward_store_account_create(st, name32, pw128, WARD_AGE_ADULT,
                                           t_c, &c),
                 WARD_OK);
    CHECK(a != b);
    CHECK(a != c && b != c);

    check_account(st, a, "alice", WARD_AGE_ADULT, t_a, PW_ALICE);
    check_account(st, b, "bob", WARD_AGE_MINOR, t_b, PW_BOB);
    check_account(st, c, name32, WARD_AGE_ADULT, t_c, pw128);

    /* A taken name: EXISTS, and the first account is untouched. */
    int64_t dup = -12345;
    CHECK_EQ_INT(ward_store_account_create(st, "alice", PW_BOB, WARD_AGE_MINOR,
                                           t_c, &dup),
                 WARD_ERR_EXISTS);
    CHECK_EQ_INT(ward_store_account_create(st, name32, PW_ALICE,
                                           WARD_AGE_MINOR, t_a, &dup),
                 WARD_ERR_EXISTS);
    check_account(st, a, "alice", WARD_AGE_ADULT, t_a, PW_ALICE);
    check_account(st, c, name32, WARD_AGE_ADULT, t_c, pw128);

    /* Unknown names and ids. */
    const int64_t ids[] = {a, b, c};
    const int64_t nobody = unknown_id(ids, 3);
    ward_account acc;
    CHECK_EQ_INT(ward_store_account_by_name(st, "carol", &acc),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_account_by_name(st, "", &acc), WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_account_by_name(st, "alic", &acc),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_account_by_name(st, "alice ", &acc),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_account_by_id(st, nobody, &acc),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_account_by_id(st, -1, &acc), WARD_ERR_NOT_FOUND);

    /* One character too long: refused, nothing stored (not truncated). */
    char name33[WARD_USERNAME_MAX + 2], pw129[WARD_PWHASH_MAX + 2];
    memcpy(name33, name32, WARD_USERNAME_MAX);
    name33[WARD_USERNAME_MAX] = 'y';
    name33[WARD_USERNAME_MAX + 1] = 0;
    memcpy(pw129, pw128, WARD_PWHASH_MAX);
    pw129[WARD_PWHASH_MAX] = 'y';
    pw129[WARD_PWHASH_MAX + 1] = 0;
    dup = -12345;
    CHECK_EQ_INT(ward_store_account_create(st, name33, PW_ALICE,
                                           WARD_AGE_ADULT, t_a, &dup),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_store_account_by_name(st, name33, &acc),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_account_create(st, "dave", pw129, WARD_AGE_ADULT,
                                           t_a, &dup),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_store_account_by_name(st, "dave", &acc),
                 WARD_ERR_NOT_FOUND);
    check_account(st, c, name32, WARD_AGE_ADULT, t_c, pw128);

    /* A later valid create still works and gets yet another id. */
    CHECK_EQ_INT(ward_store_account_create(st, "dave", PW_BOB, WARD_AGE_MINOR,
                                           t_b, &d),
                 WARD_OK);
    CHECK(d != a && d != b && d != c);
    check_account(st, d, "dave", WARD_AGE_MINOR, t_b, PW_BOB);

    /* Delete: gone by id and by name, others untouched, name free again. */
    CHECK_EQ_INT(ward_store_account_delete(st, b), WARD_OK);
    CHECK_EQ_INT(ward_store_account_by_id(st, b, &acc), WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_account_by_name(st, "bob", &acc),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_account_delete(st, b), WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_account_delete(st, nobody), WARD_ERR_NOT_FOUND);
    check_account(st, a, "alice", WARD_AGE_ADULT, t_a, PW_ALICE);
    check_account(st, c, name32, WARD_AGE_ADULT, t_c, pw128);
    check_account(st, d, "dave", WARD_AGE_MINOR, t_b, PW_BOB);

    int64_t b2 = -1;
    CHECK_EQ_INT(ward_store_account_create(st, "bob", PW_ALICE, WARD_AGE_ADULT,
                                           t_c, &b2),
                 WARD_OK);
    CHECK(b2 != a && b2 != c && b2 != d);
    check_account(st, b2, "bob", WARD_AGE_ADULT, t_c, PW_ALICE);
}

/* ---- deleting an account takes its tokens, keys and messages ---- */

static void test_account_delete_cascade(ward_store *st)
{
    const int64_t now = INT64_C(1700000000000), later = now + 86400000;
    int64_t alice = new_account(st, "alice", now);
    int64_t bob = new_account(st, "bob", now);
    int64_t carol = new_account(st, "carol", now);
    ward_err r[8];

    uint8_t tok_a[32], tok_c[32], tok_c2[32];
    fill(tok_a, 32, 101);
    fill(tok_c, 32, 102);
    fill(tok_c2, 32, 103);
    CHECK_EQ_INT(ward_store_token_put(st, tok_a, alice, later), WARD_OK);
    CHECK_EQ_INT(ward_store_token_put(st, tok_c, carol, later), WARD_OK);
    CHECK_EQ_INT(ward_store_token_put(st, tok_c2, carol, later), WARD_OK);

    const int64_t keyed[] = {alice, carol};
    for (int k = 0; k < 2; k++) {
        uint8_t id[WARD_PUBKEY_LEN], spk[WARD_PUBKEY_LEN];
        uint8_t sig[WARD_SIGNATURE_LEN];
        make_pub(id, 200 + (uint32_t)k);
        make_pub(spk, 210 + (uint32_t)k);
        fill(sig, sizeof sig, 220 + (uint32_t)k);
        CHECK_EQ_INT(ward_store_set_identity(st, keyed[k], id, 4242), WARD_OK);
        CHECK_EQ_INT(ward_store_set_signed_prekey(st, keyed[k], 7, spk, sig),
                     WARD_OK);
        ward_store_prekey pk[10];
        for (int i = 0; i < 10; i++) {
            pk[i].id = (uint32_t)i + 1;
            make_pub(pk[i].pub, 300 + (uint32_t)(k * 10 + i));
        }
        CHECK_EQ_INT(ward_store_add_prekeys(st, keyed[k], pk, 10, 100),
                     WARD_OK);
    }

    /* Three messages for carol, two for alice (from bob, who stays). */
    const uint8_t body[] = "ciphertext";
    ward_store_msg m[5];
    set_msg(&m[0], carol, alice, "alice", WARD_MSG_PREKEY, now, 0, body, 10);
    set_msg(&m[1], alice, bob, "bob", WARD_MSG_PREKEY, now, 0, body, 10);
    set_msg(&m[2], carol, bob, "bob", WARD_MSG_SIGNAL, now, 5, body, 10);
    set_msg(&m[3], carol, alice, "alice", WARD_MSG_SIGNAL, now, 0, body, 10);
    set_msg(&m[4], alice, bob, "bob", WARD_MSG_SIGNAL, now, 6, body, 10);
    CHECK_EQ_INT(ward_store_queue_put(st, m, 5, 100, r), WARD_OK);
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(r[i], WARD_OK);

    /* Everything is in place before the delete. */
    int64_t who = -1;
    CHECK_EQ_INT(ward_store_token_check(st, tok_c, now, &who), WARD_OK);
    CHECK_EQ_INT(who, carol);
    CHECK_EQ_INT(prekeys_left(st, carol), 10);
    CHECK_EQ_INT(depth(st, carol), 3);

    CHECK_EQ_INT(ward_store_account_delete(st, carol), WARD_OK);

    ward_account acc;
    CHECK_EQ_INT(ward_store_account_by_id(st, carol, &acc), WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_account_by_name(st, "carol", &acc),
                 WARD_ERR_NOT_FOUND);
    /* Tokens. */
    CHECK_EQ_INT(ward_store_token_check(st, tok_c, now, &who),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_token_check(st, tok_c2, now, &who),
                 WARD_ERR_NOT_FOUND);
    /* Keys: no bundle, no one-time prekeys left, no identity to update. */
    ward_bundle bundle;
    CHECK_EQ_INT(ward_store_take_bundle(st, carol, &bundle, NULL),
                 WARD_ERR_NOT_FOUND);
    size_t n = 99;
    ward_err e = ward_store_prekey_count(st, carol, &n);
    CHECK((e == WARD_OK && n == 0) || e == WARD_ERR_NOT_FOUND);
    uint8_t id2[WARD_PUBKEY_LEN];
    make_pub(id2, 299);
    CHECK_EQ_INT(ward_store_set_identity(st, carol, id2, 1), WARD_ERR_NOT_FOUND);
    /* Queued messages. */
    collector *c = calloc(1, sizeof *c);
    REQUIRE(c != NULL);
    e = list(st, c, carol, 0, 100);
    CHECK((e == WARD_OK || e == WARD_ERR_NOT_FOUND) && c->calls == 0);
    n = 99;
    e = ward_store_queue_depth(st, carol, &n);
    CHECK((e == WARD_OK && n == 0) || e == WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_queue_ack(st, carol, m[0].id), WARD_ERR_NOT_FOUND);
    ward_store_msg late;
    set_msg(&late, carol, alice, "alice", WARD_MSG_SIGNAL, now, 0, body, 10);
    r[0] = WARD_ERR_INTERNAL;
    e = ward_store_queue_put(st, &late, 1, 100, r);
    CHECK(e == WARD_OK || e == WARD_ERR_NOT_FOUND); /* nothing stored */
    CHECK_EQ_INT(r[0], WARD_ERR_NOT_FOUND);

    /* Alice's state is untouched. */
    CHECK_EQ_INT(ward_store_token_check(st, tok_a, now, &who), WARD_OK);
    CHECK_EQ_INT(who, alice);
    CHECK_EQ_INT(prekeys_left(st, alice), 10);
    CHECK_EQ_INT(depth(st, alice), 2);
    CHECK_EQ_INT(list(st, c, alice, 0, 100), WARD_OK);
    CHECK_EQ_INT(c->n, 2);
    check_msg(c, 0, &m[1]);
    check_msg(c, 1, &m[4]);
    memset(&bundle, 0, sizeof bundle);
    CHECK_EQ_INT(ward_store_take_bundle(st, alice, &bundle, &n), WARD_OK);
    CHECK_EQ_INT(bundle.registration_id, 4242);
    CHECK_EQ_INT(n, 9);

    /* A new account under the old name starts with nothing. */
    int64_t carol2 = new_account(st, "carol", later);
    CHECK_EQ_INT(ward_store_token_check(st, tok_c, now, &who),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_take_bundle(st, carol2, &bundle, NULL),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(prekeys_left(st, carol2), 0);
    CHECK_EQ_INT(depth(st, carol2), 0);
    CHECK_EQ_INT(list(st, c, carol2, 0, 100), WARD_OK);
    CHECK_EQ_INT(c->calls, 0);

    collector_reset(c);
    free(c);
}

/* ---- login tokens ---- */

static void test_tokens(ward_store *st)
{
    int64_t alice = new_account(st, "alice", 1);
    int64_t bob = new_account(st, "bob", 1);
    uint8_t h1[32], h2[32], h3[32], near[32];
    fill(h1, 32, 11);
    fill(h2, 32, 12);
    fill(h3, 32, 13);
    memcpy(near, h1, 32);
    near[31] ^= 1;
    int64_t who;

    CHECK_EQ_INT(ward_store_token_put(st, h1, alice, 1000), WARD_OK);
    CHECK_EQ_INT(ward_store_token_put(st, h2, bob, 2000), WARD_OK);

    /* Valid strictly before the expiry. */
    who = -1;
    CHECK_EQ_INT(ward_store_token_check(st, h1, 0, &who), WARD_OK);
    CHECK_EQ_INT(who, alice);
    who = -1;
    CHECK_EQ_INT(ward_store_token_check(st, h1, 999, &who), WARD_OK);
    CHECK_EQ_INT(who, alice);
    CHECK_EQ_INT(ward_store_token_check(st, h1, 1000, &who),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_token_check(st, h1, 1001, &who),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_token_check(st, h1, INT64_C(1) << 50, &who),
                 WARD_ERR_NOT_FOUND);
    who = -1;
    CHECK_EQ_INT(ward_store_token_check(st, h2, 1999, &who), WARD_OK);
    CHECK_EQ_INT(who, bob);
    CHECK_EQ_INT(ward_store_token_check(st, h2, 2000, &who),
                 WARD_ERR_NOT_FOUND);

    /* Other hashes, even one bit away, are unknown. */
    CHECK_EQ_INT(ward_store_token_check(st, h3, 0, &who), WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_token_check(st, near, 0, &who),
                 WARD_ERR_NOT_FOUND);

    /* A check after expiry does not remove it: still valid earlier. */
    who = -1;
    CHECK_EQ_INT(ward_store_token_check(st, h1, 500, &who), WARD_OK);
    CHECK_EQ_INT(who, alice);

    /* Delete: only that token. */
    CHECK_EQ_INT(ward_store_token_delete(st, h1), WARD_OK);
    CHECK_EQ_INT(ward_store_token_check(st, h1, 0, &who), WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_token_delete(st, h1), WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_token_delete(st, h3), WARD_ERR_NOT_FOUND);
    who = -1;
    CHECK_EQ_INT(ward_store_token_check(st, h2, 0, &who), WARD_OK);
    CHECK_EQ_INT(who, bob);

    /* Purge: expiries 100, 200, 300, 400 for alice, 200 and 5000 for bob
     * (h2 at 2000 is there too). At 200, exactly 100 and both 200s go. */
    uint8_t p[6][32];
    const int64_t exp[6] = {100, 200, 300, 400, 200, 5000};
    for (int i = 0; i < 6; i++) {
        fill(p[i], 32, 50 + (uint32_t)i);
        CHECK_EQ_INT(ward_store_token_put(st, p[i], i < 4 ? alice : bob,
                                          exp[i]),
                     WARD_OK);
    }
    size_t removed = 12345;
    CHECK_EQ_INT(ward_store_token_purge(st, 200, &removed), WARD_OK);
    CHECK_EQ_INT(removed, 3);
    /* Purged ones are gone even for an earlier clock; the rest remain. */
    for (int i = 0; i < 6; i++) {
        who = -1;
        ward_err e = ward_store_token_check(st, p[i], 50, &who);
        if (exp[i] <= 200) {
            CHECK_EQ_INT(e, WARD_ERR_NOT_FOUND);
        } else {
            CHECK_EQ_INT(e, WARD_OK);
            CHECK_EQ_INT(who, i < 4 ? alice : bob);
        }
    }
    who = -1;
    CHECK_EQ_INT(ward_store_token_check(st, h2, 50, &who), WARD_OK);
    CHECK_EQ_INT(who, bob);
    removed = 12345;
    CHECK_EQ_INT(ward_store_token_purge(st, 200, &removed), WARD_OK);
    CHECK_EQ_INT(removed, 0);
    CHECK_EQ_INT(ward_store_token_purge(st, 300, NULL), WARD_OK);
    CHECK_EQ_INT(ward_store_token_check(st, p[2], 50, &who),
                 WARD_ERR_NOT_FOUND);
    removed = 12345;
    CHECK_EQ_INT(ward_store_token_purge(st, 2000, &removed), WARD_OK);
    CHECK_EQ_INT(removed, 2); /* 400 and h2's 2000 */
    who = -1;
    CHECK_EQ_INT(ward_store_token_check(st, p[5], 4999, &who), WARD_OK);
    CHECK_EQ_INT(who, bob);
}

/* ---- public keys ---- */

static void check_bundle_keys(const ward_bundle *b, const uint8_t *identity,
                              uint32_t reg_id, uint32_t spk_id,
                              const uint8_t *spk, const uint8_t *sig)
{
    CHECK_MEM(b->identity, identity, WARD_PUBKEY_LEN);
    CHECK_EQ_INT(b->registration_id, reg_id);
    CHECK_EQ_INT(b->signed_prekey_id, spk_id);
    CHECK_MEM(b->signed_prekey, spk, WARD_PUBKEY_LEN);
    CHECK_MEM(b->signed_prekey_sig, sig, WARD_SIGNATURE_LEN);
}

#define N_PREKEYS 100

static void test_keys(ward_store *st)
{
    int64_t alice = new_account(st, "alice", 1);
    int64_t bob = new_account(st, "bob", 1);
    const int64_t ids[] = {alice, bob};
    const int64_t nobody = unknown_id(ids, 2);

    uint8_t id1[WARD_PUBKEY_LEN], id2[WARD_PUBKEY_LEN];
    uint8_t spk1[WARD_PUBKEY_LEN], spk2[WARD_PUBKEY_LEN];
    uint8_t sig1[WARD_SIGNATURE_LEN], sig2[WARD_SIGNATURE_LEN];
    make_pub(id1, 1001);
    make_pub(id2, 1002);
    make_pub(spk1, 1003);
    make_pub(spk2, 1004);
    fill(sig1, sizeof sig1, 1005);
    fill(sig2, sizeof sig2, 1006);
    ward_bundle b;
    size_t left;

    /* Nothing yet: no bundle; a signed prekey needs an identity first. */
    CHECK_EQ_INT(ward_store_take_bundle(st, alice, &b, &left),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_set_signed_prekey(st, alice, 1, spk1, sig1),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_take_bundle(st, alice, &b, &left),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_set_identity(st, nobody, id1, 1),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_set_signed_prekey(st, nobody, 1, spk1, sig1),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_take_bundle(st, nobody, &b, &left),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(prekeys_left(st, alice), 0);

    /* An identity alone is not a bundle. */
    CHECK_EQ_INT(ward_store_set_identity(st, alice, id1, 111), WARD_OK);
    CHECK_EQ_INT(ward_store_take_bundle(st, alice, &b, &left),
                 WARD_ERR_NOT_FOUND);
    /* Replacing the identity, then the signed prekey. */
    CHECK_EQ_INT(ward_store_set_identity(st, alice, id2, 16380), WARD_OK);
    CHECK_EQ_INT(ward_store_set_signed_prekey(st, alice, 5, spk1, sig1),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_set_signed_prekey(st, alice, 0xfffffe, spk2, sig2),
                 WARD_OK);

    /* No one-time prekeys yet: a bundle without one. */
    memset(&b, 0xa5, sizeof b);
    left = 99;
    CHECK_EQ_INT(ward_store_take_bundle(st, alice, &b, &left), WARD_OK);
    CHECK_EQ_INT(b.has_prekey, 0);
    CHECK_EQ_INT(left, 0);
    check_bundle_keys(&b, id2, 16380, 0xfffffe, spk2, sig2);

    /* ids 1..100, added in a scrambled order in two batches. */
    static ward_store_prekey pk[N_PREKEYS], pk_v2[20];
    for (uint32_t i = 0; i < N_PREKEYS; i++) {
        uint32_t id = (i * 37u) % N_PREKEYS + 1; /* a permutation */
        pk[i].id = id;
        make_pub(pk[i].pub, 5000 + id);
    }
    CHECK_EQ_INT(ward_store_add_prekeys(st, alice, pk, 60, N_PREKEYS), WARD_OK);
    CHECK_EQ_INT(prekeys_left(st, alice), 60);
    CHECK_EQ_INT(ward_store_add_prekeys(st, alice, pk + 60, N_PREKEYS - 60,
                                        N_PREKEYS),
                 WARD_OK);
    CHECK_EQ_INT(prekeys_left(st, alice), N_PREKEYS);

    /* Past the limit: the whole batch is refused. */
    ward_store_prekey extra[10];
    for (uint32_t i = 0; i < 10; i++) {
        extra[i].id = 101 + i;
        make_pub(extra[i].pub, 9000 + i);
    }
    CHECK_EQ_INT(ward_store_add_prekeys(st, alice, extra, 1, N_PREKEYS),
                 WARD_ERR_LIMIT);
    CHECK_EQ_INT(prekeys_left(st, alice), N_PREKEYS);
    CHECK_EQ_INT(ward_store_add_prekeys(st, alice, extra, 10, N_PREKEYS + 5),
                 WARD_ERR_LIMIT);
    CHECK_EQ_INT(prekeys_left(st, alice), N_PREKEYS);

    /* Existing ids are replaced, not duplicated: 41..60 get new keys, and
     * at the limit that still fits. */
    for (uint32_t i = 0; i < 20; i++) {
        pk_v2[i].id = 41 + i;
        make_pub(pk_v2[i].pub, 7000 + 41 + i);
    }
    CHECK_EQ_INT(ward_store_add_prekeys(st, alice, pk_v2, 20, N_PREKEYS),
                 WARD_OK);
    CHECK_EQ_INT(prekeys_left(st, alice), N_PREKEYS);
    /* Bob has his own keys, with the same ids. */
    uint8_t bob_id[WARD_PUBKEY_LEN], bob_spk[WARD_PUBKEY_LEN];
    uint8_t bob_sig[WARD_SIGNATURE_LEN];
    make_pub(bob_id, 2001);
    make_pub(bob_spk, 2002);
    fill(bob_sig, sizeof bob_sig, 2003);
    CHECK_EQ_INT(ward_store_set_identity(st, bob, bob_id, 1), WARD_OK);
    CHECK_EQ_INT(ward_store_set_signed_prekey(st, bob, 1, bob_spk, bob_sig),
                 WARD_OK);
    ward_store_prekey bob_pk[3];
    for (uint32_t i = 0; i < 3; i++) {
        bob_pk[i].id = i == 2 ? 0xffffff : i + 1;
        make_pub(bob_pk[i].pub, 8000 + i);
    }
    CHECK_EQ_INT(ward_store_add_prekeys(st, bob, bob_pk, 3, 3), WARD_OK);
    CHECK_EQ_INT(prekeys_left(st, bob), 3);
    /* An unknown account cannot get prekeys. */
    CHECK(ward_store_add_prekeys(st, nobody, bob_pk, 3, 100) != WARD_OK);

    /* Take them all: lowest id first, each exactly once, counting down. */
    int seen[N_PREKEYS + 1] = {0};
    int dups = 0, out_of_range = 0;
    for (uint32_t k = 1; k <= N_PREKEYS; k++) {
        memset(&b, 0xa5, sizeof b);
        left = 12345;
        ward_err e = ward_store_take_bundle(st, alice, &b, &left);
        CHECK_EQ_INT(e, WARD_OK);
        if (e)
            break;
        CHECK_EQ_INT(b.has_prekey, 1);
        CHECK_EQ_INT(b.prekey_id, k);
        CHECK_EQ_INT(left, N_PREKEYS - k);
        if (b.prekey_id >= 1 && b.prekey_id <= N_PREKEYS) {
            if (seen[b.prekey_id]++)
                dups++;
            uint8_t want[WARD_PUBKEY_LEN];
            uint32_t pid = b.prekey_id;
            make_pub(want, (pid >= 41 && pid <= 60 ? 7000u : 5000u) + pid);
            CHECK_MEM(b.prekey, want, WARD_PUBKEY_LEN);
        } else {
            out_of_range++;
        }
        check_bundle_keys(&b, id2, 16380, 0xfffffe, spk2, sig2);
    }
    CHECK_EQ_INT(dups, 0);
    CHECK_EQ_INT(out_of_range, 0);
    int missing = 0;
    for (int i = 1; i <= N_PREKEYS; i++)
        missing += !seen[i];
    CHECK_EQ_INT(missing, 0);
    CHECK_EQ_INT(prekeys_left(st, alice), 0);

    /* Run out: bundles still come, without a one-time prekey. */
    for (int i = 0; i < 2; i++) {
        memset(&b, 0xa5, sizeof b);
        left = 12345;
        CHECK_EQ_INT(ward_store_take_bundle(st, alice, &b, &left), WARD_OK);
        CHECK_EQ_INT(b.has_prekey, 0);
        CHECK_EQ_INT(left, 0);
        check_bundle_keys(&b, id2, 16380, 0xfffffe, spk2, sig2);
    }
    memset(&b, 0xa5, sizeof b);
    CHECK_EQ_INT(ward_store_take_bundle(st, alice, &b, NULL), WARD_OK);
    CHECK_EQ_INT(b.has_prekey, 0);

    /* Bob's were not touched; his come lowest first too. */
    CHECK_EQ_INT(prekeys_left(st, bob), 3);
    for (uint32_t i = 0; i < 3; i++) {
        memset(&b, 0xa5, sizeof b);
        CHECK_EQ_INT(ward_store_take_bundle(st, bob, &b, &left), WARD_OK);
        CHECK_EQ_INT(b.has_prekey, 1);
        CHECK_EQ_INT(b.prekey_id, bob_pk[i].id);
        CHECK_MEM(b.prekey, bob_pk[i].pub, WARD_PUBKEY_LEN);
        CHECK_EQ_INT(left, 2 - i);
        check_bundle_keys(&b, bob_id, 1, 1, bob_spk, bob_sig);
    }

    /* Refilled after running out: the limit counts what is held now. */
    CHECK_EQ_INT(ward_store_add_prekeys(st, alice, extra, 10, 10), WARD_OK);
    CHECK_EQ_INT(prekeys_left(st, alice), 10);
    memset(&b, 0xa5, sizeof b);
    CHECK_EQ_INT(ward_store_take_bundle(st, alice, &b, &left), WARD_OK);
    CHECK_EQ_INT(b.has_prekey, 1);
    CHECK_EQ_INT(b.prekey_id, 101);
    CHECK_MEM(b.prekey, extra[0].pub, WARD_PUBKEY_LEN);
    CHECK_EQ_INT(left, 9);
}

/* ---- message queues ---- */

#define BIG_BODY 65536

static void test_queues(ward_store *st)
{
    const int64_t t0 = INT64_C(1700000000000);
    int64_t alice = new_account(st, "alice", t0);
    int64_t bob = new_account(st, "bob", t0);
    int64_t carol = new_account(st, "carol", t0);
    int64_t dave = new_account(st, "dave", t0);
    const int64_t ids[] = {alice, bob, carol, dave};
    const int64_t nobody = unknown_id(ids, 4);
    collector *c = calloc(1, sizeof *c);
    REQUIRE(c != NULL);
    uint8_t *big = malloc(BIG_BODY);
    REQUIRE(big != NULL);
    fill(big, BIG_BODY, 77);
    char name32[WARD_USERNAME_MAX + 1];
    make_str(name32, WARD_USERNAME_MAX, 78);
    static const uint8_t hello[] = "hello";
    static const uint8_t empty[1] = {0};
    static const uint8_t zero_byte[1] = {0};
    ward_err r[64];
    ward_err e;

    /* One batch for two recipients: bob 0 2 3 5, carol 1 4. */
    ward_store_msg m[6];
    set_msg(&m[0], bob, alice, "alice", WARD_MSG_PREKEY, t0, 31, hello, 5);
    set_msg(&m[1], carol, alice, "alice", WARD_MSG_SIGNAL, t0 + 1, 0, big,
            BIG_BODY);
    set_msg(&m[2], bob, carol, "carol", WARD_MSG_SIGNAL, t0 + 2, 0, empty, 0);
    set_msg(&m[3], bob, alice, name32, WARD_MSG_PREKEY, INT64_C(1) << 52, 32,
            big, BIG_BODY);
    set_msg(&m[4], carol, bob, "bob", WARD_MSG_SIGNAL, t0 + 4, 0, NULL, 0);
    set_msg(&m[5], bob, carol, "carol", WARD_MSG_SIGNAL, t0 + 5, 33, zero_byte,
            1);
    for (int i = 0; i < 6; i++)
        r[i] = WARD_ERR_INTERNAL;
    uint64_t total_before = 0;
    CHECK_EQ_INT(ward_store_queue_total(st, &total_before), WARD_OK);
    CHECK_EQ_INT(ward_store_queue_put(st, m, 6, 100, r), WARD_OK);
    for (int i = 0; i < 6; i++)
        CHECK_EQ_INT(r[i], WARD_OK);
    for (int i = 1; i < 6; i++)
        CHECK(m[i].id > m[i - 1].id);
    CHECK_EQ_INT(depth(st, bob), 4);
    CHECK_EQ_INT(depth(st, carol), 2);
    CHECK_EQ_INT(depth(st, alice), 0);
    uint64_t total = 0;
    CHECK_EQ_INT(ward_store_queue_total(st, &total), WARD_OK);
    CHECK(total == total_before + 6);

    /* Each recipient sees exactly its own, oldest first, all fields. */
    CHECK_EQ_INT(list(st, c, bob, 0, 100), WARD_OK);
    CHECK_EQ_INT(c->n, 4);
    check_msg(c, 0, &m[0]);
    check_msg(c, 1, &m[2]);
    check_msg(c, 2, &m[3]);
    check_msg(c, 3, &m[5]);
    CHECK_EQ_INT(list(st, c, carol, 0, 100), WARD_OK);
    CHECK_EQ_INT(c->n, 2);
    check_msg(c, 0, &m[1]);
    check_msg(c, 1, &m[4]);
    CHECK_EQ_INT(list(st, c, alice, 0, 100), WARD_OK);
    CHECK_EQ_INT(c->calls, 0);
    e = list(st, c, nobody, 0, 100);
    CHECK((e == WARD_OK || e == WARD_ERR_NOT_FOUND) && c->calls == 0);

    /* Pagination with after= and limit=. */
    CHECK_EQ_INT(list(st, c, bob, 0, 2), WARD_OK);
    CHECK_EQ_INT(c->n, 2);
    check_msg(c, 0, &m[0]);
    check_msg(c, 1, &m[2]);
    CHECK_EQ_INT(list(st, c, bob, m[2].id, 2), WARD_OK);
    CHECK_EQ_INT(c->n, 2);
    check_msg(c, 0, &m[3]);
    check_msg(c, 1, &m[5]);
    CHECK_EQ_INT(list(st, c, bob, m[5].id, 2), WARD_OK);
    CHECK_EQ_INT(c->calls, 0);
    CHECK_EQ_INT(list(st, c, bob, m[0].id, 100), WARD_OK);
    CHECK_EQ_INT(c->n, 3);
    check_msg(c, 0, &m[2]);
    /* |after| between two of bob's ids (carol's m[1]). */
    CHECK_EQ_INT(list(st, c, bob, m[1].id, 1), WARD_OK);
    CHECK_EQ_INT(c->n, 1);
    check_msg(c, 0, &m[2]);
    CHECK_EQ_INT(list(st, c, bob, 0, 0), WARD_OK);
    CHECK_EQ_INT(c->calls, 0);

    /* A non-zero return stops the listing. */
    collector_reset(c);
    c->stop_at = 1;
    CHECK_EQ_INT(ward_store_queue_list(st, bob, 0, 100, collect, c), WARD_OK);
    CHECK_EQ_INT(c->calls, 1);
    check_msg(c, 0, &m[0]);
    collector_reset(c);
    c->stop_at = 3;
    CHECK_EQ_INT(ward_store_queue_list(st, bob, 0, 100, collect, c), WARD_OK);
    CHECK_EQ_INT(c->calls, 3);
    check_msg(c, 2, &m[3]);
    /* ... and leaves the store usable. */
    CHECK_EQ_INT(depth(st, bob), 4);
    CHECK_EQ_INT(list(st, c, bob, 0, 100), WARD_OK);
    CHECK_EQ_INT(c->n, 4);

    /* Acknowledgement only by the recipient. */
    CHECK_EQ_INT(ward_store_queue_ack(st, bob, m[1].id), WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_queue_ack(st, alice, m[0].id), WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_queue_ack(st, nobody, m[0].id),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_queue_ack(st, bob, m[5].id + 1000),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(depth(st, carol), 2);
    CHECK_EQ_INT(depth(st, bob), 4);
    CHECK_EQ_INT(list(st, c, carol, 0, 100), WARD_OK);
    CHECK_EQ_INT(c->n, 2);
    check_msg(c, 0, &m[1]);
    CHECK_EQ_INT(list(st, c, bob, 0, 100), WARD_OK);
    CHECK_EQ_INT(c->n, 4);
    check_msg(c, 0, &m[0]);

    CHECK_EQ_INT(ward_store_queue_ack(st, bob, m[2].id), WARD_OK);
    CHECK_EQ_INT(depth(st, bob), 3);
    CHECK_EQ_INT(ward_store_queue_ack(st, bob, m[2].id), WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(depth(st, bob), 3);
    CHECK_EQ_INT(ward_store_queue_total(st, &total), WARD_OK);
    CHECK(total == total_before + 5);
    CHECK_EQ_INT(list(st, c, bob, 0, 100), WARD_OK);
    CHECK_EQ_INT(c->n, 3);
    check_msg(c, 0, &m[0]);
    check_msg(c, 1, &m[3]);
    check_msg(c, 2, &m[5]);
    CHECK_EQ_INT(depth(st, carol), 2);

    /* The limit inside one batch: bob holds 3, the limit is 5. Unknown
     * recipients get NOT_FOUND in their slot; the rest is stored. */
    uint8_t tag[6];
    ward_store_msg n[6];
    for (int i = 0; i < 6; i++)
        tag[i] = (uint8_t)(0xe0 + i);
    set_msg(&n[0], nobody, alice, "alice", WARD_MSG_SIGNAL, t0 + 10, 0,
            &tag[0], 1);
    set_msg(&n[1], bob, alice, "alice", WARD_MSG_SIGNAL, t0 + 11, 0, &tag[1], 1);
    set_msg(&n[2], bob, alice, "alice", WARD_MSG_SIGNAL, t0 + 12, 0, &tag[2], 1);
    set_msg(&n[3], carol, alice, "alice", WARD_MSG_SIGNAL, t0 + 13, 0, &tag[3],
            1);
    set_msg(&n[4], bob, alice, "alice", WARD_MSG_SIGNAL, t0 + 14, 0, &tag[4], 1);
    set_msg(&n[5], bob, alice, "alice", WARD_MSG_SIGNAL, t0 + 15, 0, &tag[5], 1);
    for (int i = 0; i < 6; i++)
        r[i] = WARD_ERR_INTERNAL;
    CHECK_EQ_INT(ward_store_queue_put(st, n, 6, 5, r), WARD_OK);
    CHECK_EQ_INT(r[0], WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(r[1], WARD_OK);
    CHECK_EQ_INT(r[2], WARD_OK);
    CHECK_EQ_INT(r[3], WARD_OK);
    CHECK_EQ_INT(r[4], WARD_ERR_LIMIT);
    CHECK_EQ_INT(r[5], WARD_ERR_LIMIT);
    CHECK(n[1].id > m[5].id);
    CHECK(n[2].id > n[1].id && n[3].id > n[2].id);
    CHECK_EQ_INT(depth(st, bob), 5);
    CHECK_EQ_INT(depth(st, carol), 3);
    CHECK_EQ_INT(list(st, c, bob, 0, 100), WARD_OK);
    CHECK_EQ_INT(c->n, 5);
    check_msg(c, 0, &m[0]);
    check_msg(c, 1, &m[3]);
    check_msg(c, 2, &m[5]);
    check_msg(c, 3, &n[1]);
    check_msg(c, 4, &n[2]);
    CHECK_EQ_INT(list(st, c, carol, 0, 100), WARD_OK);
    CHECK_EQ_INT(c->n, 3);
    check_msg(c, 2, &n[3]);
    e = list(st, c, nobody, 0, 100);
    CHECK((e == WARD_OK || e == WARD_ERR_NOT_FOUND) && c->calls == 0);

    /* Full stays full; an ack frees exactly one place. */
    ward_store_msg one;
    set_msg(&one, bob, alice, "alice", WARD_MSG_SIGNAL, t0 + 20, 0, hello, 5);
    r[0] = WARD_ERR_INTERNAL;
    e = ward_store_queue_put(st, &one, 1, 5, r);
    CHECK(e == WARD_OK || e == WARD_ERR_LIMIT); /* nothing stored */
    CHECK_EQ_INT(r[0], WARD_ERR_LIMIT);
    CHECK_EQ_INT(depth(st, bob), 5);
    CHECK_EQ_INT(ward_store_queue_ack(st, bob, m[0].id), WARD_OK);
    CHECK_EQ_INT(depth(st, bob), 4);
    ward_store_msg two[2];
    set_msg(&two[0], bob, alice, "alice", WARD_MSG_SIGNAL, t0 + 21, 0, hello,
            5);
    set_msg(&two[1], bob, alice, "alice", WARD_MSG_SIGNAL, t0 + 22, 0, hello,
            4);
    r[0] = r[1] = WARD_ERR_INTERNAL;
    CHECK_EQ_INT(ward_store_queue_put(st, two, 2, 5, r), WARD_OK);
    CHECK_EQ_INT(r[0], WARD_OK);
    CHECK_EQ_INT(r[1], WARD_ERR_LIMIT);
    CHECK(two[0].id > n[3].id); /* ids keep increasing past acked ones */
    CHECK_EQ_INT(depth(st, bob), 5);
    CHECK_EQ_INT(list(st, c, bob, n[2].id, 100), WARD_OK);
    CHECK_EQ_INT(c->n, 1);
    check_msg(c, 0, &two[0]);

    /* A large batch for one recipient: exactly those past the limit fail. */
    enum { BATCH = 40, LIMIT = 25 };
    ward_store_msg *many = calloc(BATCH, sizeof *many);
    uint32_t idx[BATCH];
    REQUIRE(many != NULL);
    for (uint32_t i = 0; i < BATCH; i++) {
        idx[i] = i;
        set_msg(&many[i], dave, bob, "bob", WARD_MSG_SIGNAL,
                t0 + 100 + (int64_t)i, i % 2 ? 1000 + i : 0,
                (const uint8_t *)&idx[i], sizeof idx[i]);
        r[i] = WARD_ERR_INTERNAL;
    }
    CHECK_EQ_INT(ward_store_queue_put(st, many, BATCH, LIMIT, r), WARD_OK);
    int bad = 0;
    for (int i = 0; i < BATCH; i++)
        bad += r[i] != (i < LIMIT ? WARD_OK : WARD_ERR_LIMIT);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(depth(st, dave), LIMIT);
    CHECK_EQ_INT(list(st, c, dave, 0, 1000), WARD_OK);
    CHECK_EQ_INT(c->n, LIMIT);
    for (size_t i = 0; i < LIMIT && i < c->n; i++)
        check_msg(c, i, &many[i]);

    /* Depth follows every ack exactly, down to zero. */
    bad = 0;
    for (size_t i = 0; i < LIMIT; i++) {
        size_t d = 12345;
        if (ward_store_queue_ack(st, dave, many[i].id) != WARD_OK)
            bad++;
        if (ward_store_queue_depth(st, dave, &d) != WARD_OK ||
            d != LIMIT - 1 - i)
            bad++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(depth(st, dave), 0);
    CHECK_EQ_INT(list(st, c, dave, 0, 1000), WARD_OK);
    CHECK_EQ_INT(c->calls, 0);
    /* Empty again, the full limit is available again. */
    for (int i = 0; i < BATCH; i++)
        r[i] = WARD_ERR_INTERNAL;
    CHECK_EQ_INT(ward_store_queue_put(st, many, BATCH, LIMIT, r), WARD_OK);
    bad = 0;
    for (int i = 0; i < BATCH; i++)
        bad += r[i] != (i < LIMIT ? WARD_OK : WARD_ERR_LIMIT);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(depth(st, dave), LIMIT);
    /* A group commit: acks (one of them not dave's to make) and sends in
     * one transaction; the acks go first, so the full queue takes as many
     * new messages as were acknowledged. */
    ward_store_ack acks[4] = {{dave, many[0].id},
                              {dave, many[1].id},
                              {bob, many[2].id},  /* not bob's */
                              {dave, many[0].id}}; /* twice */
    ward_err ar[4] = {WARD_ERR_INTERNAL, WARD_ERR_INTERNAL, WARD_ERR_INTERNAL,
                      WARD_ERR_INTERNAL};
    ward_store_msg more[3];
    for (int i = 0; i < 3; i++) {
        set_msg(&more[i], dave, bob, "bob", WARD_MSG_SIGNAL, t0 + 500 + i, 0,
                (const uint8_t *)&idx[i], sizeof idx[i]);
        r[i] = WARD_ERR_INTERNAL;
    }
    CHECK_EQ_INT(ward_store_queue_commit(st, more, 3, LIMIT, r, acks, 4, ar),
                 WARD_OK);
    CHECK_EQ_INT(ar[0], WARD_OK);
    CHECK_EQ_INT(ar[1], WARD_OK);
    CHECK_EQ_INT(ar[2], WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ar[3], WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(r[0], WARD_OK);
    CHECK_EQ_INT(r[1], WARD_OK);
    CHECK_EQ_INT(r[2], WARD_ERR_LIMIT);
    CHECK_EQ_INT(depth(st, dave), LIMIT);
    CHECK(more[1].id > more[0].id && more[0].id > many[LIMIT - 1].id);
    /* Others' queues were not disturbed by any of it. */
    CHECK_EQ_INT(depth(st, bob), 5);
    CHECK_EQ_INT(depth(st, carol), 3);
    CHECK_EQ_INT(depth(st, alice), 0);

    free(many);
    collector_reset(c);
    free(c);
    free(big);
}

/* ---- attachment records ---- */

static void make_blob(ward_blob *b, uint32_t seed, int64_t owner,
                      uint64_t size, int64_t created_at, int64_t expires_at)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t raw[WARD_BLOB_ID_LEN / 2];
    memset(b, 0, sizeof *b);
    fill(raw, sizeof raw, seed);
    for (size_t i = 0; i < sizeof raw; i++) {
        b->id[2 * i] = hex[raw[i] >> 4];
        b->id[2 * i + 1] = hex[raw[i] & 15];
    }
    b->id[WARD_BLOB_ID_LEN] = 0;
    b->owner = owner;
    b->size = size;
    b->created_at = created_at;
    b->expires_at = expires_at;
}

static void check_blob(const ward_blob *got, const ward_blob *want)
{
    CHECK(str_is(got->id, sizeof got->id, want->id));
    CHECK_EQ_INT(got->owner, want->owner);
    CHECK(got->size == want->size);
    CHECK_EQ_INT(got->created_at, want->created_at);
    CHECK_EQ_INT(got->expires_at, want->expires_at);
}

typedef struct expired {
    ward_blob b[16];
    size_t n;
} expired;

static void on_expired(void *ctx, const ward_blob *b)
{
    expired *x = ctx;
    if (x->n < 16)
        x->b[x->n] = *b;
    x->n++;
}

/* The index of |id| among the |n| blobs reported, -1 if absent; counts
 * duplicates into |*dups|. */
static int find_expired(const expired *x, const char *id, int *dups)
{
    int at = -1;
    for (size_t i = 0; i < x->n && i < 16; i++)
        if (strcmp(x->b[i].id, id) == 0) {
            if (at >= 0)
                (*dups)++;
            at = (int)i;
        }
    return at;
}

static void test_blobs(ward_store *st)
{
    int64_t alice = new_account(st, "alice", 1);
    int64_t bob = new_account(st, "bob", 1);
    ward_blob b1, got, bad;

    /* Round trip, with a size past 32 bits. */
    make_blob(&b1, 1, alice, UINT64_C(5) << 30, 1000, 2000);
    CHECK_EQ_INT(ward_store_blob_put(st, &b1), WARD_OK);
    memset(&got, 0x5a, sizeof got);
    CHECK_EQ_INT(ward_store_blob_get(st, b1.id, &got), WARD_OK);
    check_blob(&got, &b1);

    /* Ids of the wrong length. */
    make_blob(&bad, 2, bob, 1, 1, 2);
    bad.id[WARD_BLOB_ID_LEN - 1] = 0; /* 31 */
    CHECK_EQ_INT(ward_store_blob_put(st, &bad), WARD_ERR_INVALID_ARG);
    ward_err e = ward_store_blob_get(st, bad.id, &got);
    CHECK(e == WARD_ERR_NOT_FOUND || e == WARD_ERR_INVALID_ARG);
    bad.id[0] = 0; /* empty */
    CHECK_EQ_INT(ward_store_blob_put(st, &bad), WARD_ERR_INVALID_ARG);
    /* A taken id: EXISTS, the first record unchanged. */
    ward_blob b1dup = b1;
    b1dup.owner = bob;
    b1dup.size = 7;
    b1dup.expires_at = 99999;
    CHECK_EQ_INT(ward_store_blob_put(st, &b1dup), WARD_ERR_EXISTS);
    memset(&got, 0x5a, sizeof got);
    CHECK_EQ_INT(ward_store_blob_get(st, b1.id, &got), WARD_OK);
    check_blob(&got, &b1);

    /* An unknown id. */
    ward_blob other;
    make_blob(&other, 4, alice, 1, 1, 2);
    CHECK_EQ_INT(ward_store_blob_get(st, other.id, &got), WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_blob_delete(st, other.id), WARD_ERR_NOT_FOUND);

    /* Delete. */
    CHECK_EQ_INT(ward_store_blob_delete(st, b1.id), WARD_OK);
    CHECK_EQ_INT(ward_store_blob_get(st, b1.id, &got), WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_blob_delete(st, b1.id), WARD_ERR_NOT_FOUND);
    /* The id can be used again. */
    CHECK_EQ_INT(ward_store_blob_put(st, &b1dup), WARD_OK);
    CHECK_EQ_INT(ward_store_blob_get(st, b1.id, &got), WARD_OK);
    check_blob(&got, &b1dup);
    CHECK_EQ_INT(ward_store_blob_delete(st, b1.id), WARD_OK);

    /* Expiry: at 200, exactly those with expires_at <= 200 go. */
    ward_blob x[6];
    const int64_t exp[6] = {100, 200, 200, 201, INT64_C(1) << 45, 150};
    for (int i = 0; i < 6; i++) {
        make_blob(&x[i], 10 + (uint32_t)i, i % 2 ? bob : alice,
                  (uint64_t)(i + 1) * 1000, 50, exp[i]);
        CHECK_EQ_INT(ward_store_blob_put(st, &x[i]), WARD_OK);
    }
    expired *ex = calloc(1, sizeof *ex);
    REQUIRE(ex != NULL);
    CHECK_EQ_INT(ward_store_blob_expire(st, 200, on_expired, ex), WARD_OK);
    CHECK_EQ_INT(ex->n, 4);
    int dups = 0;
    for (int i = 0; i < 6; i++) {
        int at = find_expired(ex, x[i].id, &dups);
        if (exp[i] <= 200) {
            CHECK(at >= 0);
            if (at >= 0)
                check_blob(&ex->b[at], &x[i]);
            CHECK_EQ_INT(ward_store_blob_get(st, x[i].id, &got),
                         WARD_ERR_NOT_FOUND);
        } else {
            CHECK_EQ_INT(at, -1);
            memset(&got, 0x5a, sizeof got);
            CHECK_EQ_INT(ward_store_blob_get(st, x[i].id, &got), WARD_OK);
            check_blob(&got, &x[i]);
        }
    }
    CHECK_EQ_INT(dups, 0);

    /* Nothing more expired at the same time; the next one goes at 201. */
    memset(ex, 0, sizeof *ex);
    CHECK_EQ_INT(ward_store_blob_expire(st, 200, on_expired, ex), WARD_OK);
    CHECK_EQ_INT(ex->n, 0);
    memset(ex, 0, sizeof *ex);
    CHECK_EQ_INT(ward_store_blob_expire(st, 201, on_expired, ex), WARD_OK);
    CHECK_EQ_INT(ex->n, 1);
    if (ex->n == 1)
        check_blob(&ex->b[0], &x[3]);
    CHECK_EQ_INT(ward_store_blob_get(st, x[3].id, &got), WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_blob_get(st, x[4].id, &got), WARD_OK);
    free(ex);
}

/* ---- runner ---- */

/* Rules found in review: ids are never reused, a new identity key drops
 * the keys of the old one, and a blob id can never be a path. */
static void test_review_rules(ward_store *st)
{
    int64_t a = new_account(st, "first", 1);
    int64_t b = new_account(st, "second", 2);
    CHECK_EQ_INT(ward_store_account_delete(st, b), WARD_OK);
    int64_t c = new_account(st, "third", 3);
    CHECK(c != b && c != a); /* a deleted account's id is never reused */

    uint8_t id1[WARD_PUBKEY_LEN], id2[WARD_PUBKEY_LEN], spk[WARD_PUBKEY_LEN];
    uint8_t sig[WARD_SIGNATURE_LEN];
    ward_store_prekey pks[3];
    make_pub(id1, 1);
    make_pub(id2, 2);
    make_pub(spk, 3);
    fill(sig, sizeof sig, 4);
    for (int i = 0; i < 3; i++) {
        pks[i].id = (uint32_t)i + 1;
        make_pub(pks[i].pub, 10 + (uint32_t)i);
    }
    size_t n = 99;
    ward_bundle bundle;
    REQUIRE(ward_store_set_identity(st, a, id1, 7) == WARD_OK);
    REQUIRE(ward_store_set_signed_prekey(st, a, 1, spk, sig) == WARD_OK);
    REQUIRE(ward_store_add_prekeys(st, a, pks, 3, 100) == WARD_OK);
    /* The same identity again keeps everything. */
    CHECK_EQ_INT(ward_store_set_identity(st, a, id1, 7), WARD_OK);
    CHECK_EQ_INT(ward_store_prekey_count(st, a, &n), WARD_OK);
    CHECK_EQ_INT(n, 3);
    /* A new identity drops the signed and one-time prekeys. */
    CHECK_EQ_INT(ward_store_set_identity(st, a, id2, 8), WARD_OK);
    CHECK_EQ_INT(ward_store_prekey_count(st, a, &n), WARD_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(ward_store_take_bundle(st, a, &bundle, NULL),
                 WARD_ERR_NOT_FOUND);

    ward_blob blob;
    memset(&blob, 0, sizeof blob);
    blob.owner = a;
    blob.size = 1;
    blob.expires_at = 10;
    memcpy(blob.id, "../../../../etc/passwd0123456789", 33);
    CHECK_EQ_INT(ward_store_blob_put(st, &blob), WARD_ERR_INVALID_ARG);
    memcpy(blob.id, "0123456789ABCDEF0123456789abcdef", 33);
    CHECK_EQ_INT(ward_store_blob_put(st, &blob), WARD_ERR_INVALID_ARG);
    memcpy(blob.id, "0123456789abcdef0123456789abcdef", 33);
    CHECK_EQ_INT(ward_store_blob_put(st, &blob), WARD_OK);
}

/* ---- social graph ---- */

static int64_t mk_account(ward_store *st, const char *name, int band)
{
    int64_t id = 0;
    CHECK_EQ_INT(ward_store_account_create(st, name, "$argon2id$x", band,
                                           1000, &id),
                 WARD_OK);
    return id;
}

typedef struct names {
    char v[8][WARD_USERNAME_MAX + 1];
    int64_t id[8];
    int shared[8];
    int n;
} names;

static int collect_name(void *ctx, int64_t id, const char *username)
{
    names *n = ctx;
    if (n->n < 8) {
        snprintf(n->v[n->n], sizeof n->v[0], "%s", username);
        n->id[n->n++] = id;
    }
    return 0;
}

typedef struct rcpts {
    ward_group_rcpt v[8];
    size_t n;
} rcpts;

static int collect_rcpt(void *ctx, const ward_group_rcpt *m)
{
    rcpts *r = ctx;
    if (r->n < 8)
        r->v[r->n++] = *m;
    return 0;
}

static int collect_suggestion(void *ctx, int64_t id, int shared)
{
    names *n = ctx;
    if (n->n < 8) {
        n->shared[n->n] = shared;
        n->id[n->n++] = id;
    }
    return 0;
}

static void test_social(ward_store *st)
{
    int64_t ann = mk_account(st, "ann", WARD_AGE_ADULT);
    int64_t kid = mk_account(st, "kid", WARD_AGE_MINOR);
    int64_t bob = mk_account(st, "bob", WARD_AGE_ADULT);
    int64_t cat = mk_account(st, "cat", WARD_AGE_ADULT);
    ward_account a;

    /* A minor's account starts private, an adult's public. */
    CHECK_EQ_INT(ward_store_account_by_id(st, kid, &a), WARD_OK);
    CHECK_EQ_INT(a.is_private, 1);
    CHECK_EQ_INT(ward_store_account_by_id(st, ann, &a), WARD_OK);
    CHECK_EQ_INT(a.is_private, 0);
    CHECK_EQ_INT(ward_store_account_set_private(st, ann, 1), WARD_OK);
    CHECK_EQ_INT(ward_store_account_by_name(st, "ann", &a), WARD_OK);
    CHECK_EQ_INT(a.is_private, 1);
    CHECK_EQ_INT(ward_store_account_set_private(st, 999, 1),
                 WARD_ERR_NOT_FOUND);

    /* Status: a suspension ends by itself; a ban does not. */
    CHECK_EQ_INT(ward_store_account_set_status(st, bob, WARD_STATUS_SUSPENDED,
                                               5000),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_account_by_id(st, bob, &a), WARD_OK);
    CHECK_EQ_INT(ward_account_status(&a, 4999), WARD_STATUS_SUSPENDED);
    CHECK_EQ_INT(ward_account_status(&a, 5000), WARD_STATUS_ACTIVE);
    CHECK_EQ_INT(ward_store_account_set_status(st, bob, WARD_STATUS_BANNED, 0),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_account_by_id(st, bob, &a), WARD_OK);
    CHECK_EQ_INT(ward_account_status(&a, INT64_MAX), WARD_STATUS_BANNED);
    CHECK_EQ_INT(ward_store_account_set_status(st, bob, 7, 0),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_store_account_set_status(st, bob, WARD_STATUS_ACTIVE, 0),
                 WARD_OK);

    /* A minor comes of age: the account becomes an adult's at that time
     * and keeps its privacy setting. */
    int64_t teen = 0;
    size_t promoted = 99;
    CHECK_EQ_INT(ward_store_account_create_at(st, "teen", "$argon2id$x",
                                              WARD_AGE_MINOR, 9000, 1000,
                                              &teen),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_promote_adults(st, 8999, &promoted), WARD_OK);
    CHECK_EQ_INT(promoted, 0);
    CHECK_EQ_INT(ward_store_promote_adults(st, 9000, &promoted), WARD_OK);
    CHECK_EQ_INT(promoted, 1);
    CHECK_EQ_INT(ward_store_account_by_id(st, teen, &a), WARD_OK);
    CHECK(a.age_band == WARD_AGE_ADULT && a.is_private == 1);
    /* Accounts made without a coming of age are never promoted. */
    CHECK_EQ_INT(ward_store_promote_adults(st, INT64_MAX, &promoted), WARD_OK);
    CHECK_EQ_INT(promoted, 0);
    CHECK_EQ_INT(ward_store_account_by_id(st, kid, &a), WARD_OK);
    CHECK_EQ_INT(a.age_band, WARD_AGE_MINOR);

    /* Follows are directed and idempotent. */
    int created = -1;
    CHECK_EQ_INT(ward_store_follow(st, kid, ann, 2000, &created), WARD_OK);
    CHECK_EQ_INT(created, 1);
    CHECK_EQ_INT(ward_store_follow(st, kid, ann, 2001, &created), WARD_OK);
    CHECK_EQ_INT(created, 0);
    CHECK_EQ_INT(ward_store_follow(st, kid, kid, 2001, NULL),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_store_follow(st, kid, 999, 2001, NULL),
                 WARD_ERR_NOT_FOUND);
    ward_store_relation r;
    CHECK_EQ_INT(ward_store_relation_get(st, ann, kid, &r), WARD_OK);
    CHECK(!r.a_follows_b && r.b_follows_a && !r.a_blocked_b && !r.b_blocked_a);

    names n;
    memset(&n, 0, sizeof n);
    CHECK_EQ_INT(ward_store_graph_list(st, ann, WARD_LIST_FOLLOWERS,
                                       collect_name, &n),
                 WARD_OK);
    CHECK(n.n == 1 && strcmp(n.v[0], "kid") == 0 && n.id[0] == kid);
    memset(&n, 0, sizeof n);
    CHECK_EQ_INT(ward_store_graph_list(st, kid, WARD_LIST_FOLLOWING,
                                       collect_name, &n),
                 WARD_OK);
    CHECK(n.n == 1 && strcmp(n.v[0], "ann") == 0);
    CHECK_EQ_INT(ward_store_unfollow(st, ann, kid), WARD_ERR_NOT_FOUND);

    /* A block removes the follows both ways and is a signal. */
    CHECK_EQ_INT(ward_store_follow(st, ann, kid, 2002, NULL), WARD_OK);
    CHECK_EQ_INT(ward_store_block(st, kid, WARD_AGE_MINOR, ann, 3000,
                                  &created),
                 WARD_OK);
    CHECK_EQ_INT(created, 1);
    CHECK_EQ_INT(ward_store_relation_get(st, kid, ann, &r), WARD_OK);
    CHECK(!r.a_follows_b && !r.b_follows_a && r.a_blocked_b && !r.b_blocked_a);
    memset(&n, 0, sizeof n);
    CHECK_EQ_INT(ward_store_graph_list(st, kid, WARD_LIST_BLOCKED,
                                       collect_name, &n),
                 WARD_OK);
    CHECK(n.n == 1 && n.id[0] == ann);
    size_t sig = 99;
    CHECK_EQ_INT(ward_store_minor_signals(st, ann, 3000, &sig), WARD_OK);
    CHECK_EQ_INT(sig, 1);
    CHECK_EQ_INT(ward_store_minor_signals(st, ann, 3001, &sig), WARD_OK);
    CHECK_EQ_INT(sig, 0);
    /* Lifting the block keeps what happened in the window. */
    CHECK_EQ_INT(ward_store_unblock(st, kid, ann), WARD_OK);
    CHECK_EQ_INT(ward_store_unblock(st, kid, ann), WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_minor_signals(st, ann, 0, &sig), WARD_OK);
    CHECK_EQ_INT(sig, 1);
    /* An adult's block is not a minor's signal. */
    CHECK_EQ_INT(ward_store_block(st, cat, WARD_AGE_ADULT, bob, 3000, NULL),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_minor_signals(st, bob, 0, &sig), WARD_OK);
    CHECK_EQ_INT(sig, 0);
    CHECK_EQ_INT(ward_store_unblock(st, cat, bob), WARD_OK);

    /* Suggestions: followed by those I follow, ranked by shared follows,
     * never myself nor those I already follow. */
    int64_t dan = mk_account(st, "dan", WARD_AGE_ADULT);
    int64_t eve = mk_account(st, "eve", WARD_AGE_ADULT);
    CHECK_EQ_INT(ward_store_follow(st, bob, cat, 1, NULL), WARD_OK);
    CHECK_EQ_INT(ward_store_follow(st, bob, dan, 1, NULL), WARD_OK);
    CHECK_EQ_INT(ward_store_follow(st, cat, eve, 1, NULL), WARD_OK);
    CHECK_EQ_INT(ward_store_follow(st, dan, eve, 1, NULL), WARD_OK);
    CHECK_EQ_INT(ward_store_follow(st, dan, ann, 1, NULL), WARD_OK);
    CHECK_EQ_INT(ward_store_follow(st, cat, bob, 1, NULL), WARD_OK);
    CHECK_EQ_INT(ward_store_follow(st, dan, cat, 1, NULL), WARD_OK);
    memset(&n, 0, sizeof n);
    CHECK_EQ_INT(ward_store_suggestions(st, bob, 10, collect_suggestion, &n),
                 WARD_OK);
    CHECK_EQ_INT(n.n, 2);
    CHECK(n.id[0] == eve && n.shared[0] == 2);
    CHECK(n.id[1] == ann && n.shared[1] == 1);
    memset(&n, 0, sizeof n);
    CHECK_EQ_INT(ward_store_suggestions(st, bob, 1, collect_suggestion, &n),
                 WARD_OK);
    CHECK(n.n == 1 && n.id[0] == eve);

    /* Deleting an account removes its edges. */
    CHECK_EQ_INT(ward_store_account_delete(st, dan), WARD_OK);
    memset(&n, 0, sizeof n);
    CHECK_EQ_INT(ward_store_suggestions(st, bob, 10, collect_suggestion, &n),
                 WARD_OK);
    CHECK(n.n == 1 && n.id[0] == eve && n.shared[0] == 1);
}

/* ---- reports ---- */

static int collect_report(void *ctx, const ward_report *r)
{
    names *n = ctx;
    if (n->n < 8)
        n->id[n->n++] = r->id;
    return 0;
}

static void test_reports(ward_store *st)
{
    int64_t ann = mk_account(st, "ann", WARD_AGE_ADULT);
    int64_t kid = mk_account(st, "kid", WARD_AGE_MINOR);
    int64_t bob = mk_account(st, "bob", WARD_AGE_ADULT);
    static const uint8_t content[] = {0x0a, 0x02, 'h', 'i', 0x00, 0xff};

    ward_report r;
    memset(&r, 0, sizeof r);
    r.kind = WARD_REPORT_MESSAGE;
    r.reason = WARD_REASON_GROOMING;
    r.priority = WARD_PRIORITY_HIGH;
    r.reporter = kid;
    snprintf(r.reporter_name, sizeof r.reporter_name, "kid");
    r.reporter_band = WARD_AGE_MINOR;
    r.subject = ann;
    snprintf(r.subject_name, sizeof r.subject_name, "ann");
    r.subject_band = WARD_AGE_ADULT;
    r.created_at = 5000;
    snprintf(r.note, sizeof r.note, "n\xc3\xa9");
    r.message_id = 77;
    r.message_time = 4000;
    r.content = content;
    r.content_len = sizeof content;
    fill(r.commitment, 32, 1);
    fill(r.tag, 32, 2);
    r.key_id = 3;
    r.attachment = WARD_EVIDENCE_VERIFIED;
    snprintf(r.evidence, sizeof r.evidence, "1.png");
    CHECK_EQ_INT(ward_store_report_add(st, &r), WARD_OK);
    int64_t first = r.id;
    CHECK(first > 0);

    ward_report g;
    ward_buf cb;
    ward_buf_init(&cb, 1 << 20);
    CHECK_EQ_INT(ward_store_report_get(st, first, &g, &cb), WARD_OK);
    CHECK(g.kind == WARD_REPORT_MESSAGE && g.reason == WARD_REASON_GROOMING);
    CHECK(g.priority == WARD_PRIORITY_HIGH && g.status == WARD_REPORT_OPEN);
    CHECK(g.reporter == kid && g.subject == ann && g.message_id == 77);
    CHECK(strcmp(g.note, "n\xc3\xa9") == 0 && strcmp(g.evidence, "1.png") == 0);
    CHECK(g.content_len == sizeof content &&
          memcmp(g.content, content, sizeof content) == 0);
    CHECK_MEM(g.commitment, r.commitment, 32);
    CHECK_MEM(g.tag, r.tag, 32);
    CHECK(g.key_id == 3 && g.attachment == WARD_EVIDENCE_VERIFIED);
    CHECK(g.held == 0 && g.decision[0] == 0);
    CHECK_EQ_INT(ward_store_report_get(st, first + 100, &g, &cb),
                 WARD_ERR_NOT_FOUND);

    /* A report by a minor is a signal about its subject. */
    size_t sig = 0;
    CHECK_EQ_INT(ward_store_minor_signals(st, ann, 0, &sig), WARD_OK);
    CHECK_EQ_INT(sig, 1);

    /* An account report, normal priority, spam. */
    ward_report a;
    memset(&a, 0, sizeof a);
    a.kind = WARD_REPORT_ACCOUNT;
    a.reason = WARD_REASON_SPAM;
    a.reporter = ann;
    snprintf(a.reporter_name, sizeof a.reporter_name, "ann");
    a.reporter_band = WARD_AGE_ADULT;
    a.subject = bob;
    snprintf(a.subject_name, sizeof a.subject_name, "bob");
    a.subject_band = WARD_AGE_ADULT;
    a.created_at = 6000;
    CHECK_EQ_INT(ward_store_report_add(st, &a), WARD_OK);
    /* and a high-priority one of lesser reason, older */
    ward_report c = a;
    c.reason = WARD_REASON_OTHER;
    c.priority = WARD_PRIORITY_HIGH;
    c.created_at = 10;
    CHECK_EQ_INT(ward_store_report_add(st, &c), WARD_OK);
    ward_report bad = a;
    bad.reason = 0;
    CHECK_EQ_INT(ward_store_report_add(st, &bad), WARD_ERR_INVALID_ARG);
    bad = a;
    bad.kind = 9;
    CHECK_EQ_INT(ward_store_report_add(st, &bad), WARD_ERR_INVALID_ARG);

    /* Queue order: priority, then severity, then age. */
    ward_report_filter f = {.status = -1, .priority = -1};
    names n;
    memset(&n, 0, sizeof n);
    CHECK_EQ_INT(ward_store_report_list(st, &f, 0, 10, collect_report, &n),
                 WARD_OK);
    CHECK(n.n == 3 && n.id[0] == first && n.id[1] == c.id && n.id[2] == a.id);
    f.reason = WARD_REASON_SPAM;
    memset(&n, 0, sizeof n);
    CHECK_EQ_INT(ward_store_report_list(st, &f, 0, 10, collect_report, &n),
                 WARD_OK);
    CHECK(n.n == 1 && n.id[0] == a.id);
    f.reason = 0;
    f.priority = WARD_PRIORITY_HIGH;
    memset(&n, 0, sizeof n);
    CHECK_EQ_INT(ward_store_report_list(st, &f, 1, 10, collect_report, &n),
                 WARD_OK);
    CHECK(n.n == 1 && n.id[0] == c.id);
    f.priority = -1;
    f.subject = ann;
    memset(&n, 0, sizeof n);
    CHECK_EQ_INT(ward_store_report_list(st, &f, 0, 10, collect_report, &n),
                 WARD_OK);
    CHECK(n.n == 1 && n.id[0] == first);

    /* Decisions: the hold is never cleared. */
    CHECK_EQ_INT(ward_store_report_decide(st, first, WARD_REPORT_ESCALATED,
                                          "escalate", 1, 4, 7000),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_report_decide(st, first, WARD_REPORT_CLOSED,
                                          "ban", 0, 5, 8000),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_report_get(st, first, &g, NULL), WARD_OK);
    CHECK(g.status == WARD_REPORT_CLOSED && g.held == 1);
    CHECK(strcmp(g.decision, "ban") == 0 && g.decided_by == 5 &&
          g.decided_at == 8000);
    CHECK_EQ_INT(ward_store_report_decide(st, first + 100, WARD_REPORT_CLOSED,
                                          "ban", 0, 5, 8000),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_report_decide(st, first, 9, "x", 0, 5, 8000),
                 WARD_ERR_INVALID_ARG);
    f.subject = 0;
    f.status = WARD_REPORT_OPEN;
    memset(&n, 0, sizeof n);
    CHECK_EQ_INT(ward_store_report_list(st, &f, 0, 10, collect_report, &n),
                 WARD_OK);
    CHECK_EQ_INT(n.n, 2);

    /* Evidence outlives the accounts. */
    CHECK_EQ_INT(ward_store_account_delete(st, ann), WARD_OK);
    CHECK_EQ_INT(ward_store_report_get(st, first, &g, &cb), WARD_OK);
    CHECK(strcmp(g.subject_name, "ann") == 0 && g.content_len == 6);
    ward_buf_release(&cb);

    int64_t v = -1;
    CHECK_EQ_INT(ward_store_counter_get(st, "reports_refused", &v), WARD_OK);
    CHECK_EQ_INT(v, 0);
    CHECK_EQ_INT(ward_store_counter_add(st, "reports_refused", 1), WARD_OK);
    CHECK_EQ_INT(ward_store_counter_add(st, "reports_refused", 2), WARD_OK);
    CHECK_EQ_INT(ward_store_counter_get(st, "reports_refused", &v), WARD_OK);
    CHECK_EQ_INT(v, 3);
}

/* ---- groups ---- */

typedef struct gmembers {
    ward_group_member m[16];
    int n;
} gmembers;

static int collect_gmember(void *ctx, const ward_group_member *m)
{
    gmembers *g = ctx;
    if (g->n < 16)
        g->m[g->n++] = *m;
    return 0;
}

static gmembers members_of(ward_store *st, int64_t group)
{
    gmembers g;
    memset(&g, 0, sizeof g);
    CHECK_EQ_INT(ward_store_group_members(st, group, collect_gmember, &g),
                 WARD_OK);
    return g;
}

static int64_t epoch_now(ward_store *st, int64_t group)
{
    ward_group g;
    ward_err e = ward_store_group_get(st, group, &g);
    return e ? -1 : g.epoch;
}

/* The group events queued for |account| (type WARD_MSG_GROUP_EVENT), their
 * bodies as text one after the other; every one names |group|. */
static size_t events_of(ward_store *st, collector *c, int64_t account,
                        int64_t group, char *text, size_t cap)
{
    size_t n = 0, used = 0;
    CHECK_EQ_INT(list(st, c, account, 0, 100), WARD_OK);
    if (cap)
        text[0] = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->m[i].type != WARD_MSG_GROUP_EVENT)
            continue;
        n++;
        CHECK_EQ_INT(c->m[i].group_id, group);
        CHECK(!c->m[i].has_commitment && !c->m[i].has_tag);
        if (used + c->m[i].body_len + 2 < cap) {
            memcpy(text + used, c->body[i], c->m[i].body_len);
            used += c->m[i].body_len;
            text[used++] = '\n';
            text[used] = 0;
        }
    }
    return n;
}

static int count_notice(void *ctx, const ward_notice *n)
{
    (void)n;
    ++*(size_t *)ctx;
    return 0;
}

static int collect_group(void *ctx, const ward_group *g, int role)
{
    names *n = ctx;
    if (n->n < 8) {
        n->id[n->n] = g->id;
        n->shared[n->n] = role;
        snprintf(n->v[n->n++], sizeof n->v[0], "%.32s", g->name);
    }
    return 0;
}

static void test_groups(ward_store *st)
{
    int64_t ann = mk_account(st, "ann", WARD_AGE_ADULT);
    int64_t bob = mk_account(st, "bob", WARD_AGE_ADULT);
    int64_t kid = mk_account(st, "kid", WARD_AGE_MINOR);
    int64_t cat = mk_account(st, "cat", WARD_AGE_ADULT);
    int64_t dan = mk_account(st, "dan", WARD_AGE_ADULT);
    int64_t nobody = unknown_id((int64_t[]){ann, bob, kid, cat, dan}, 5);
    collector c;
    memset(&c, 0, sizeof c);
    char text[4096];

    /* Creation: the creator is admin, the members are members added by
     * it, all in one transaction. */
    ward_group g;
    memset(&g, 0, sizeof g);
    snprintf(g.name, sizeof g.name, "Bücherclub");
    snprintf(g.description, sizeof g.description, "we read");
    g.created_by = ann;
    g.created_at = 5000;
    int64_t bad[] = {bob, nobody};
    CHECK_EQ_INT(ward_store_group_create(st, &g, bad, 2, NULL, 100),
                 WARD_ERR_NOT_FOUND);
    int64_t twice[] = {bob, bob};
    CHECK_EQ_INT(ward_store_group_create(st, &g, twice, 2, NULL, 100),
                 WARD_ERR_EXISTS);
    int64_t self[] = {ann};
    CHECK_EQ_INT(ward_store_group_create(st, &g, self, 1, NULL, 100),
                 WARD_ERR_EXISTS);
    names gs;
    memset(&gs, 0, sizeof gs);
    CHECK_EQ_INT(ward_store_groups_of(st, ann, collect_group, &gs), WARD_OK);
    CHECK_EQ_INT(gs.n, 0); /* nothing was left of the refused ones */
    CHECK_EQ_INT(depth(st, bob), 0);

    int64_t first[] = {bob, kid};
    const char *notices[] = {NULL, "ann added you to Bücherclub"};
    CHECK_EQ_INT(ward_store_group_create(st, &g, first, 2, notices, 100),
                 WARD_OK);
    int64_t gid = g.id;
    CHECK(gid > 0);
    ward_group got;
    CHECK_EQ_INT(ward_store_group_get(st, gid, &got), WARD_OK);
    CHECK(strcmp(got.name, "Bücherclub") == 0 &&
          strcmp(got.description, "we read") == 0 && got.avatar[0] == 0 &&
          got.created_by == ann && got.created_at == 5000);
    CHECK_EQ_INT(got.epoch, g.epoch);
    CHECK_EQ_INT(ward_store_group_get(st, gid + 100, &got),
                 WARD_ERR_NOT_FOUND);
    gmembers gm = members_of(st, gid);
    CHECK_EQ_INT(gm.n, 3);
    CHECK(gm.m[0].account == ann && gm.m[0].role == WARD_GROUP_ADMIN &&
          strcmp(gm.m[0].username, "ann") == 0);
    CHECK(gm.m[1].account == bob && gm.m[1].role == WARD_GROUP_MEMBER &&
          gm.m[1].added_by == ann && gm.m[1].joined_at == 5000);
    CHECK(gm.m[2].account == kid && gm.m[2].role == WARD_GROUP_MEMBER);
    /* Each member was told who added it; the creator nothing. */
    CHECK_EQ_INT(events_of(st, &c, kid, gid, text, sizeof text), 1);
    CHECK(strstr(text, "\"event\":\"created\"") &&
          strstr(text, "\"actor\":\"ann\"") &&
          strstr(text, "\"target\":\"kid\""));
    CHECK_EQ_INT(c.m[0].sender, ann);
    CHECK_EQ_INT(events_of(st, &c, bob, gid, text, sizeof text), 1);
    CHECK_EQ_INT(depth(st, ann), 0);
    /* and the notice went to the one it was meant for */
    size_t nn = 0;
    CHECK_EQ_INT(ward_store_notice_list(st, kid, count_notice, &nn), WARD_OK);
    CHECK_EQ_INT(nn, 1);
    nn = 0;
    CHECK_EQ_INT(ward_store_notice_list(st, bob, count_notice, &nn), WARD_OK);
    CHECK_EQ_INT(nn, 0);

    ward_group_member me;
    CHECK_EQ_INT(ward_store_group_member(st, gid, kid, &me), WARD_OK);
    CHECK(me.role == WARD_GROUP_MEMBER && me.added_by == ann);
    CHECK_EQ_INT(ward_store_group_member(st, gid, cat, &me),
                 WARD_ERR_NOT_FOUND);
    size_t nm = 0, na = 0;
    CHECK_EQ_INT(ward_store_group_count(st, gid, &nm, &na), WARD_OK);
    CHECK(nm == 3 && na == 1);

    /* Adding moves the epoch on and tells everyone but the actor. */
    int64_t e0 = epoch_now(st, gid), e1 = -1;
    CHECK_EQ_INT(ward_store_group_add(st, gid, cat, ann, 6000, 4, NULL, 100,
                                      &e1),
                 WARD_OK);
    CHECK(e1 > e0 && e1 == epoch_now(st, gid));
    CHECK_EQ_INT(ward_store_group_add(st, gid, cat, ann, 6000, 4, NULL, 100,
                                      NULL),
                 WARD_ERR_EXISTS);
    CHECK_EQ_INT(ward_store_group_add(st, gid, dan, ann, 6000, 4, NULL, 100,
                                      NULL),
                 WARD_ERR_LIMIT); /* four members already */
    CHECK_EQ_INT(ward_store_group_add(st, gid, nobody, ann, 6000, 9, NULL,
                                      100, NULL),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_group_add(st, gid + 100, dan, ann, 6000, 9, NULL,
                                      100, NULL),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(epoch_now(st, gid), e1); /* the refusals changed nothing */
    CHECK_EQ_INT(events_of(st, &c, bob, gid, text, sizeof text), 2);
    CHECK(strstr(text, "\"event\":\"added\"") &&
          strstr(text, "\"target\":\"cat\""));
    CHECK_EQ_INT(events_of(st, &c, cat, gid, text, sizeof text), 1);
    CHECK_EQ_INT(depth(st, ann), 0);

    /* Details: what is given changes, the epoch does not. */
    CHECK_EQ_INT(ward_store_group_update(st, gid, bob, "Book club", NULL,
                                         "0123456789abcdef0123456789abcdef",
                                         6500, 100),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_group_get(st, gid, &got), WARD_OK);
    CHECK(strcmp(got.name, "Book club") == 0 &&
          strcmp(got.description, "we read") == 0 &&
          strcmp(got.avatar, "0123456789abcdef0123456789abcdef") == 0 &&
          got.epoch == e1);
    CHECK_EQ_INT(ward_store_group_update(st, gid, bob, NULL, "", "", 6600,
                                         100),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_group_get(st, gid, &got), WARD_OK);
    CHECK(got.description[0] == 0 && got.avatar[0] == 0);
    CHECK_EQ_INT(ward_store_group_update(st, gid + 100, bob, "x", NULL, NULL,
                                         6600, 100),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_group_update(st, gid, bob, "", NULL, NULL, 6600,
                                         100),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(events_of(st, &c, ann, gid, text, sizeof text), 2);
    CHECK(strstr(text, "\"event\":\"updated\""));

    /* Roles: never without an admin. */
    CHECK_EQ_INT(ward_store_group_set_role(st, gid, ann, WARD_GROUP_MEMBER,
                                           ann, 7000, 100),
                 WARD_ERR_CONFLICT);
    CHECK_EQ_INT(ward_store_group_set_role(st, gid, bob, 7, ann, 7000, 100),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_store_group_set_role(st, gid, dan, WARD_GROUP_ADMIN,
                                           ann, 7000, 100),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_group_set_role(st, gid, bob, WARD_GROUP_ADMIN,
                                           ann, 7000, 100),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_group_set_role(st, gid, ann, WARD_GROUP_MEMBER,
                                           ann, 7000, 100),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_group_count(st, gid, &nm, &na), WARD_OK);
    CHECK(nm == 4 && na == 1);
    CHECK_EQ_INT(epoch_now(st, gid), e1);
    CHECK_EQ_INT(ward_store_group_set_role(st, gid, ann, WARD_GROUP_ADMIN,
                                           bob, 7001, 100),
                 WARD_OK);

    /* Fan-out: the copies are queued only at the epoch they were
     * addressed to, and carry the group. */
    static const uint8_t body[] = {4, 4, 4};
    ward_store_msg fan[3];
    int64_t to[3] = {bob, kid, cat};
    for (int i = 0; i < 3; i++) {
        set_msg(&fan[i], to[i], ann, "ann", 4, 7100, 9, body, sizeof body);
        fan[i].group_id = gid;
        fan[i].group_epoch = e1;
        fan[i].has_tag = 1;
        fill(fan[i].tag, 32, 77);
    }
    ward_err res[3];
    CHECK_EQ_INT(ward_store_queue_put(st, fan, 3, 100, res), WARD_OK);
    CHECK(res[0] == WARD_OK && res[1] == WARD_OK && res[2] == WARD_OK);
    CHECK_EQ_INT(list(st, &c, kid, 0, 100), WARD_OK);
    CHECK(c.n >= 1 && c.m[c.n - 1].group_id == gid &&
          c.m[c.n - 1].type == 4 && c.m[c.n - 1].id == fan[1].id);
    for (int i = 0; i < 3; i++)
        fan[i].group_epoch = e1 - 1;
    size_t dk = depth(st, kid);
    CHECK_EQ_INT(ward_store_queue_put(st, fan, 3, 100, res), WARD_OK);
    CHECK(res[0] == WARD_ERR_CONFLICT && res[1] == WARD_ERR_CONFLICT &&
          res[2] == WARD_ERR_CONFLICT);
    CHECK_EQ_INT(depth(st, kid), dk);
    /* a full queue skips that member only */
    for (int i = 0; i < 3; i++)
        fan[i].group_epoch = e1;
    CHECK_EQ_INT(ward_store_queue_put(st, fan, 3, dk, res), WARD_OK);
    CHECK(res[1] == WARD_ERR_LIMIT && res[0] == WARD_OK && res[2] == WARD_OK);
    /* a direct message is no group's */
    ward_store_msg d;
    set_msg(&d, kid, bob, "bob", 2, 7200, 3, body, sizeof body);
    CHECK_EQ_INT(ward_store_queue_put(st, &d, 1, 100, res), WARD_OK);
    CHECK_EQ_INT(list(st, &c, kid, d.id - 1, 1), WARD_OK);
    CHECK(c.n == 1 && c.m[0].group_id == 0);
    /* a handover in the group's context (epoch 0): queued only while both
     * are members, with its group */
    int64_t fay = mk_account(st, "fay", WARD_AGE_ADULT);
    ward_store_msg h[3];
    set_msg(&h[0], bob, ann, "ann", 2, 7210, 3, body, sizeof body);
    set_msg(&h[1], fay, ann, "ann", 2, 7210, 3, body, sizeof body);
    set_msg(&h[2], bob, fay, "fay", 2, 7210, 3, body, sizeof body);
    for (int i = 0; i < 3; i++)
        h[i].group_id = gid;
    CHECK_EQ_INT(ward_store_queue_put(st, h, 3, 100, res), WARD_OK);
    CHECK(res[0] == WARD_OK && res[1] == WARD_ERR_CONFLICT &&
          res[2] == WARD_ERR_CONFLICT);
    CHECK_EQ_INT(list(st, &c, bob, h[0].id - 1, 1), WARD_OK);
    CHECK(c.n == 1 && c.m[0].group_id == gid && c.m[0].type == 2);

    /* Recipients: everyone but the sender, with what the contact policy
     * needs of each pair (the server decides; the store only reports). */
    rcpts r;
    memset(&r, 0, sizeof r);
    CHECK_EQ_INT(ward_store_group_recipients(st, gid, ann, collect_rcpt, &r),
                 WARD_OK);
    CHECK(r.n == 3 && r.v[0].id == bob && r.v[1].id == kid &&
          r.v[2].id == cat);
    CHECK(strcmp(r.v[0].username, "bob") == 0 &&
          r.v[1].age_band == WARD_AGE_MINOR &&
          r.v[0].age_band == WARD_AGE_ADULT);
    for (size_t i = 0; i < r.n; i++)
        CHECK(!r.v[i].rel.a_blocked_b && !r.v[i].rel.b_blocked_a &&
              !r.v[i].rel.a_follows_b && !r.v[i].rel.b_follows_a);
    CHECK_EQ_INT(ward_store_block(st, kid, WARD_AGE_MINOR, ann, 7300, NULL),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_block(st, ann, WARD_AGE_ADULT, cat, 7300, NULL),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_follow(st, bob, ann, 7300, NULL), WARD_OK);
    CHECK_EQ_INT(ward_store_account_set_private(st, bob, 1), WARD_OK);
    memset(&r, 0, sizeof r);
    CHECK_EQ_INT(ward_store_group_recipients(st, gid, ann, collect_rcpt, &r),
                 WARD_OK);
    CHECK(r.n == 3);
    /* "a" is the sender: bob follows ann, kid blocked ann, ann blocked
     * cat. */
    CHECK(r.v[0].rel.b_follows_a && !r.v[0].rel.a_follows_b &&
          r.v[0].is_private && !r.v[0].rel.a_blocked_b &&
          !r.v[0].rel.b_blocked_a);
    CHECK(r.v[1].rel.b_blocked_a && !r.v[1].rel.a_blocked_b);
    CHECK(r.v[2].rel.a_blocked_b && !r.v[2].rel.b_blocked_a);
    CHECK_EQ_INT(ward_store_unblock(st, kid, ann), WARD_OK);
    CHECK_EQ_INT(ward_store_unblock(st, ann, cat), WARD_OK);
    CHECK_EQ_INT(ward_store_unfollow(st, bob, ann), WARD_OK);
    CHECK_EQ_INT(ward_store_account_set_private(st, bob, 0), WARD_OK);

    /* Removal: epoch on, the others and the removed one told. */
    int64_t e2 = -1;
    CHECK_EQ_INT(ward_store_group_remove(st, gid, cat, bob, 8000, 100, &e2),
                 WARD_OK);
    CHECK(e2 > e1 && e2 == epoch_now(st, gid));
    CHECK_EQ_INT(ward_store_group_remove(st, gid, cat, bob, 8000, 100, NULL),
                 WARD_ERR_NOT_FOUND);
    events_of(st, &c, cat, gid, text, sizeof text);
    CHECK(strstr(text, "\"event\":\"removed\"") &&
          strstr(text, "\"actor\":\"bob\"") &&
          strstr(text, "\"target\":\"cat\""));
    events_of(st, &c, kid, gid, text, sizeof text);
    CHECK(strstr(text, "\"event\":\"removed\""));
    CHECK_EQ_INT(ward_store_group_member(st, gid, cat, &me),
                 WARD_ERR_NOT_FOUND);
    /* who was a member when */
    int was = -1;
    CHECK_EQ_INT(ward_store_group_member_at(st, gid, cat, 7100, &was),
                 WARD_OK);
    CHECK_EQ_INT(was, 1);
    CHECK_EQ_INT(ward_store_group_member_at(st, gid, cat, 5999, &was),
                 WARD_OK);
    CHECK_EQ_INT(was, 0);
    CHECK_EQ_INT(ward_store_group_member_at(st, gid, cat, 8001, &was),
                 WARD_OK);
    CHECK_EQ_INT(was, 0);
    CHECK_EQ_INT(ward_store_group_member_at(st, gid, kid, 9999999, &was),
                 WARD_OK);
    CHECK_EQ_INT(was, 1);
    CHECK_EQ_INT(ward_store_group_member_at(st, gid + 1, kid, 7100, &was),
                 WARD_OK);
    CHECK_EQ_INT(was, 0);

    /* The last admin leaving: the longest-standing member is admin. */
    CHECK_EQ_INT(ward_store_group_set_role(st, gid, bob, WARD_GROUP_MEMBER,
                                           ann, 8100, 100),
                 WARD_OK);
    int64_t e3 = -1;
    CHECK_EQ_INT(ward_store_group_remove(st, gid, ann, ann, 8200, 100, &e3),
                 WARD_OK);
    CHECK(e3 > e2);
    gm = members_of(st, gid);
    CHECK(gm.n == 2 && gm.m[0].account == bob &&
          gm.m[0].role == WARD_GROUP_ADMIN &&
          gm.m[1].role == WARD_GROUP_MEMBER);
    events_of(st, &c, kid, gid, text, sizeof text);
    CHECK(strstr(text, "\"event\":\"left\"") &&
          strstr(text, "\"target\":\"bob\",\"target_id\"") &&
          strstr(text, "\"role\":\"admin\""));
    memset(&gs, 0, sizeof gs);
    CHECK_EQ_INT(ward_store_groups_of(st, bob, collect_group, &gs), WARD_OK);
    CHECK(gs.n == 1 && gs.id[0] == gid && gs.shared[0] == WARD_GROUP_ADMIN &&
          strcmp(gs.v[0], "Book club") == 0);

    /* An account deleted leaves its groups the same way (the schema's
     * triggers): its admin role handed over, the epoch moved on. */
    CHECK_EQ_INT(ward_store_account_delete(st, bob), WARD_OK);
    gm = members_of(st, gid);
    CHECK(gm.n == 1 && gm.m[0].account == kid &&
          gm.m[0].role == WARD_GROUP_ADMIN);
    CHECK(epoch_now(st, gid) > e3);
    /* The last member leaving deletes the group; the spans stay. */
    int64_t e4 = -1;
    CHECK_EQ_INT(ward_store_group_remove(st, gid, kid, kid, 9000, 100, &e4),
                 WARD_OK);
    CHECK_EQ_INT(e4, 0);
    CHECK_EQ_INT(ward_store_group_get(st, gid, &got), WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_group_member_at(st, gid, kid, 8500, &was),
                 WARD_OK);
    CHECK_EQ_INT(was, 1);
    /* and so does its last member's deletion */
    memset(&g, 0, sizeof g);
    snprintf(g.name, sizeof g.name, "solo");
    g.created_by = dan;
    g.created_at = 9100;
    CHECK_EQ_INT(ward_store_group_create(st, &g, NULL, 0, NULL, 100),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_account_delete(st, dan), WARD_OK);
    CHECK_EQ_INT(ward_store_group_get(st, g.id, &got), WARD_ERR_NOT_FOUND);
    /* Group ids are never reused. */
    memset(&g, 0, sizeof g);
    snprintf(g.name, sizeof g.name, "next");
    g.created_by = kid;
    CHECK_EQ_INT(ward_store_group_create(st, &g, NULL, 0, NULL, 100),
                 WARD_OK);
    CHECK(g.id > gid + 1);
    collector_reset(&c);
}

int store_suite_run(ward_store *(*open_fresh)(void *ctx), void *ctx)
{
    static const struct {
        const char *name;
        void (*run)(ward_store *st);
    } groups[] = {
        {"accounts", test_accounts},
        {"account deletion", test_account_delete_cascade},
        {"tokens", test_tokens},
        {"keys", test_keys},
        {"queues", test_queues},
        {"blobs", test_blobs},
        {"social graph", test_social},
        {"reports", test_reports},
        {"review rules", test_review_rules},
        {"groups", test_groups},
    };
    const int failed_before = wtest_fail;
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        ward_store *st = open_fresh(ctx);
        if (!st)
            fprintf(stderr, "store_suite: no fresh store for %s\n",
                    groups[i].name);
        REQUIRE(st != NULL);
        const int f = wtest_fail;
        groups[i].run(st);
        if (wtest_fail != f)
            fprintf(stderr, "store_suite: %s: %d check(s) failed\n",
                    groups[i].name, wtest_fail - f);
        ward_store_close(st);
    }
    return wtest_fail - failed_before;
}

int store_suite_passed(void)
{
    return wtest_pass;
}
