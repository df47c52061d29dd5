/*
 * ward's sender keys against libsignal-protocol-c 2.3's group cipher
 * (group_session_builder, group_cipher, a sender key store in the
 * harness), in both directions: distribution messages, messages in order,
 * reversed and shuffled, gaps up to the limit and past it, replays,
 * tampering, key rotation through the five kept states, a repeated
 * distribution message, and ward's record saved and reloaded mid-stream.
 * Where libsignal's behaviour is the reference, the test asks libsignal the
 * same question and expects the same answer.
 */
#include <stdlib.h>
#include <string.h>

#include "sig_harness.h"
#include "ward/crypto.h"
#include "ward/proto.h"
#include "wtest.h"

#define GROUP "the-group"

/* One message on the wire, with the text it should decrypt to. */
typedef struct gmsg {
    uint8_t *p;
    size_t n;
    char text[48];
} gmsg;

static void gmsg_free(gmsg *m)
{
    free(m->p);
    m->p = NULL;
}

static gmsg copy_buf(const ward_buf *b, const char *text)
{
    gmsg m = {0};
    m.p = malloc(b->len);
    REQUIRE(m.p);
    memcpy(m.p, b->data, b->len);
    m.n = b->len;
    snprintf(m.text, sizeof m.text, "%s", text);
    return m;
}

/* ---- ward's side ---- */

static gmsg wk_skdm(ward_sender_key *sk, int fresh)
{
    ward_buf b;
    ward_buf_init(&b, 0);
    if (fresh)
        REQUIRE(ward_sender_key_create(sk, &b) == WARD_OK);
    else
        REQUIRE(ward_sender_key_distribution(sk, &b) == WARD_OK);
    gmsg m = copy_buf(&b, "");
    ward_buf_release(&b);
    return m;
}

static gmsg wk_send(ward_sender_key *sk, const char *text)
{
    ward_buf b;
    ward_buf_init(&b, 0);
    REQUIRE(ward_sender_key_encrypt(sk, (const uint8_t *)text, strlen(text),
                                    &b) == WARD_OK);
    gmsg m = copy_buf(&b, text);
    ward_buf_release(&b);
    return m;
}

/* Decrypts; checks the text on success and, on failure, that neither the
 * record nor the output buffer changed. */
static ward_err wk_recv(ward_sender_key *sk, const gmsg *m)
{
    ward_buf pt, before, after;
    ward_buf_init(&pt, 0);
    ward_buf_init(&before, 0);
    ward_buf_init(&after, 0);
    REQUIRE(ward_sender_key_serialize(sk, &before) == WARD_OK);
    uint8_t *c = malloc(m->n);
    REQUIRE(c);
    memcpy(c, m->p, m->n);
    ward_err e = ward_sender_key_decrypt(sk, c, m->n, &pt);
    free(c);
    if (e == WARD_OK) {
        CHECK_EQ_INT(pt.len, strlen(m->text));
        CHECK(pt.len == strlen(m->text) &&
              memcmp(pt.data, m->text, pt.len) == 0);
    } else {
        CHECK_EQ_INT(pt.len, 0);
        REQUIRE(ward_sender_key_serialize(sk, &after) == WARD_OK);
        CHECK(after.len == before.len &&
              memcmp(after.data, before.data, after.len) == 0);
    }
    ward_buf_release(&pt);
    ward_buf_release(&before);
    ward_buf_release(&after);
    return e;
}

static void reload(ward_sender_key **sk)
{
    ward_buf b;
    ward_buf_init(&b, 0);
    REQUIRE(ward_sender_key_serialize(*sk, &b) == WARD_OK);
    ward_sender_key *again = NULL;
    CHECK_EQ_INT(ward_sender_key_deserialize(&again, b.data, b.len), WARD_OK);
    REQUIRE(again);
    /* The same bytes again: nothing lost or reordered on the way. */
    ward_buf c;
    ward_buf_init(&c, 0);
    REQUIRE(ward_sender_key_serialize(again, &c) == WARD_OK);
    CHECK(c.len == b.len && memcmp(c.data, b.data, b.len) == 0);
    ward_sender_key_free(*sk);
    *sk = again;
    ward_buf_release(&b);
    ward_buf_release(&c);
}

/* ---- libsignal's side: "lib" sends as "libby", ward's messages arrive at
 * lib from "warden" ---- */

static gmsg lib_skdm(sigh_party *p)
{
    gmsg m = {0};
    REQUIRE(sigh_group_create(p, GROUP, "libby", &m.p, &m.n) == SIGH_OK);
    return m;
}

static gmsg lib_send(sigh_party *p, const char *text)
{
    gmsg m = {0};
    snprintf(m.text, sizeof m.text, "%s", text);
    REQUIRE(sigh_group_encrypt(p, GROUP, "libby", (const uint8_t *)text,
                               strlen(text), &m.p, &m.n) == SIGH_OK);
    return m;
}

static int lib_recv(sigh_party *p, const gmsg *m)
{
    uint8_t *pt = NULL;
    size_t n = 0;
    int rc = sigh_group_decrypt(p, GROUP, "warden", m->p, m->n, &pt, &n);
    if (rc == SIGH_OK) {
        CHECK_EQ_INT(n, strlen(m->text));
        CHECK(n == strlen(m->text) && memcmp(pt, m->text, n) == 0);
    }
    free(pt);
    return rc;
}

static void shuffle(gmsg *v, size_t n, uint32_t seed)
{
    for (size_t i = n - 1; i > 0; i--) {
        seed = seed * 1103515245u + 12345u;
        size_t j = (seed >> 8) % (i + 1);
        gmsg t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

static void text_of(char *buf, size_t cap, const char *who, int i)
{
    snprintf(buf, cap, "%s group message #%d", who, i);
}

/* The wire format: ward's parsers read libsignal's messages, and an SKDM
 * written by ward from the parsed fields is byte for byte libsignal's. */
static void test_wire_formats(void)
{
    sigh_party *lib = sigh_party_new(0);
    REQUIRE(lib);
    gmsg d = lib_skdm(lib);
    ward_skdm m;
    CHECK_EQ_INT(d.p[0], 0x33);
    REQUIRE(ward_skdm_parse(&m, d.p, d.n) == WARD_OK);
    CHECK_EQ_INT(m.iteration, 0);
    CHECK(m.key_id < 0x7fffffffu);
    ward_buf b;
    ward_buf_init(&b, 0);
    REQUIRE(ward_skdm_encode(&b, &m) == WARD_OK);
    CHECK(b.len == d.n && memcmp(b.data, d.p, d.n) == 0);
    ward_buf_release(&b);

    for (int i = 0; i < 3; i++) {
        gmsg x = lib_send(lib, "three messages");
        ward_sender_key_msg sm;
        REQUIRE(ward_sender_key_msg_parse(&sm, x.p, x.n) == WARD_OK);
        CHECK_EQ_INT(sm.key_id, m.key_id);
        CHECK_EQ_INT(sm.iteration, (uint32_t)i);
        CHECK_EQ_INT(sm.ciphertext_len, 16);
        CHECK_EQ_INT(sm.signed_len, x.n - 64);
        /* libsignal's signature over version || protobuf verifies with
         * ward's XEdDSA verifier and the SKDM's key. */
        CHECK_EQ_INT(ward_xeddsa_verify(sm.signature, m.signing_key,
                                        sm.signed_part, sm.signed_len),
                     WARD_OK);
        gmsg_free(&x);
    }
    /* A second create on a record that has a state hands out the same key
     * at its current iteration (libsignal does not rotate by itself). */
    gmsg d2 = lib_skdm(lib);
    ward_skdm m2;
    REQUIRE(ward_skdm_parse(&m2, d2.p, d2.n) == WARD_OK);
    CHECK_EQ_INT(m2.key_id, m.key_id);
    CHECK_EQ_INT(m2.iteration, 3);
    CHECK(memcmp(m2.signing_key, m.signing_key, 32) == 0);
    ward_memzero(&m, sizeof m);
    ward_memzero(&m2, sizeof m2);
    gmsg_free(&d);
    gmsg_free(&d2);
    sigh_party_free(lib);
}

/* libsignal sends: in order, reversed, shuffled, replayed. */
static void test_libsignal_to_ward(void)
{
    sigh_party *lib = sigh_party_new(0);
    ward_sender_key *sk = NULL;
    REQUIRE(lib && ward_sender_key_new(&sk) == WARD_OK);
    gmsg d = lib_skdm(lib);
    CHECK_EQ_INT(ward_sender_key_process(sk, d.p, d.n), WARD_OK);
    CHECK_EQ_INT(ward_sender_key_count(sk), 1);

    char text[48];
    for (int i = 0; i < 30; i++) {
        text_of(text, sizeof text, "in order", i);
        gmsg m = lib_send(lib, text);
        CHECK_EQ_INT(wk_recv(sk, &m), WARD_OK);
        if (i % 10 == 0)
            CHECK_EQ_INT(wk_recv(sk, &m), WARD_ERR_DUPLICATE);
        gmsg_free(&m);
    }

    enum { N = 40 };
    gmsg batch[N];
    for (int i = 0; i < N; i++) {
        text_of(text, sizeof text, "reversed", i);
        batch[i] = lib_send(lib, text);
    }
    for (int i = N - 1; i >= 0; i--)
        CHECK_EQ_INT(wk_recv(sk, &batch[i]), WARD_OK);
    ward_sender_key_info info;
    REQUIRE(ward_sender_key_info_get(sk, 0, &info) == WARD_OK);
    CHECK_EQ_INT(info.n_message_keys, 0);
    CHECK_EQ_INT(info.iteration, 30 + N);
    for (int i = 0; i < N; i++) {
        CHECK_EQ_INT(wk_recv(sk, &batch[i]), WARD_ERR_DUPLICATE);
        gmsg_free(&batch[i]);
    }

    for (int i = 0; i < N; i++) {
        text_of(text, sizeof text, "shuffled", i);
        batch[i] = lib_send(lib, text);
    }
    shuffle(batch, N, 42);
    for (int i = 0; i < N; i++) {
        CHECK_EQ_INT(wk_recv(sk, &batch[i]), WARD_OK);
        if (i % 7 == 3)
            reload(&sk); /* kept keys pending in the saved record */
    }
    for (int i = 0; i < N; i++) {
        CHECK_EQ_INT(wk_recv(sk, &batch[i]), WARD_ERR_DUPLICATE);
        gmsg_free(&batch[i]);
    }
    gmsg_free(&d);
    ward_sender_key_free(sk);
    sigh_party_free(lib);
}

/* ward sends: the same patterns, libsignal decrypts. */
static void test_ward_to_libsignal(void)
{
    sigh_party *lib = sigh_party_new(0);
    ward_sender_key *sk = NULL;
    REQUIRE(lib && ward_sender_key_new(&sk) == WARD_OK);
    gmsg d = wk_skdm(sk, 1);
    CHECK_EQ_INT(d.p[0], 0x33);
    CHECK_EQ_INT(sigh_group_process(lib, GROUP, "warden", d.p, d.n), SIGH_OK);
    ward_sender_key_info info;
    REQUIRE(ward_sender_key_info_get(sk, 0, &info) == WARD_OK);
    CHECK(info.can_send);
    CHECK(info.key_id < 0x7fffffffu);

    char text[48];
    for (int i = 0; i < 30; i++) {
        text_of(text, sizeof text, "in order", i);
        gmsg m = wk_send(sk, text);
        CHECK_EQ_INT(lib_recv(lib, &m), SIGH_OK);
        if (i % 10 == 0)
            CHECK_EQ_INT(lib_recv(lib, &m), SIGH_ERR_DUPLICATE_MESSAGE);
        if (i % 9 == 4)
            reload(&sk); /* the signing private key survives a reload */
        gmsg_free(&m);
    }

    enum { N = 40 };
    gmsg batch[N];
    for (int i = 0; i < N; i++) {
        text_of(text, sizeof text, "reversed", i);
        batch[i] = wk_send(sk, text);
    }
    for (int i = N - 1; i >= 0; i--)
        CHECK_EQ_INT(lib_recv(lib, &batch[i]), SIGH_OK);
    for (int i = 0; i < N; i++) {
        CHECK_EQ_INT(lib_recv(lib, &batch[i]), SIGH_ERR_DUPLICATE_MESSAGE);
        gmsg_free(&batch[i]);
    }
    for (int i = 0; i < N; i++) {
        text_of(text, sizeof text, "shuffled", i);
        batch[i] = wk_send(sk, text);
    }
    shuffle(batch, N, 7);
    for (int i = 0; i < N; i++)
        CHECK_EQ_INT(lib_recv(lib, &batch[i]), SIGH_OK);
    for (int i = 0; i < N; i++) {
        CHECK_EQ_INT(lib_recv(lib, &batch[i]), SIGH_ERR_DUPLICATE_MESSAGE);
        gmsg_free(&batch[i]);
    }

    /* An empty plaintext and a long one. */
    gmsg e = wk_send(sk, "");
    CHECK_EQ_INT(lib_recv(lib, &e), SIGH_OK);
    gmsg_free(&e);
    gmsg_free(&d);
    ward_sender_key_free(sk);
    sigh_party_free(lib);
}

/*
 * Gaps: a message exactly WARD_MAX_SENDER_KEY_AHEAD past the chain is
 * taken and every key passed over kept; one more is refused by both, and
 * the refusal changes nothing. Then the kept-key limit: a second gap
 * pushes the total past 2,000 and both sides drop the same oldest keys.
 * |ward_sends| picks the direction.
 */
typedef struct side {
    int ward_sends;
    ward_sender_key *wsend, *wrecv;
    sigh_party *lib;
} side;

static gmsg side_send(side *s, const char *text)
{
    return s->ward_sends ? wk_send(s->wsend, text) : lib_send(s->lib, text);
}

/* 0 for decrypted, 1 duplicate, 2 too far ahead / refused, 3 other. */
static int side_recv(side *s, const gmsg *m)
{
    if (s->ward_sends) {
        int rc = lib_recv(s->lib, m);
        return rc == SIGH_OK                      ? 0
               : rc == SIGH_ERR_DUPLICATE_MESSAGE ? 1
               : rc == SIGH_ERR_INVALID_MESSAGE   ? 2
                                                  : 3;
    }
    ward_err e = wk_recv(s->wrecv, m);
    return e == WARD_OK               ? 0
           : e == WARD_ERR_DUPLICATE  ? 1
           : e == WARD_ERR_TOO_FAR_AHEAD ? 2
                                      : 3;
}

static void test_gaps(int ward_sends)
{
    side s = {ward_sends, NULL, NULL, sigh_party_new(0)};
    REQUIRE(s.lib);
    gmsg d;
    if (ward_sends) {
        REQUIRE(ward_sender_key_new(&s.wsend) == WARD_OK);
        d = wk_skdm(s.wsend, 1);
        REQUIRE(sigh_group_process(s.lib, GROUP, "warden", d.p, d.n) ==
                SIGH_OK);
    } else {
        REQUIRE(ward_sender_key_new(&s.wrecv) == WARD_OK);
        d = lib_skdm(s.lib);
        REQUIRE(ward_sender_key_process(s.wrecv, d.p, d.n) == WARD_OK);
    }

    /* Iterations 0 .. 4001 sent; the receiver sees 2000 first. */
    enum { TOTAL = 4002 };
    gmsg *m = calloc(TOTAL, sizeof *m);
    REQUIRE(m);
    char text[48];
    for (int i = 0; i < TOTAL; i++) {
        text_of(text, sizeof text, ward_sends ? "ward gap" : "lib gap", i);
        m[i] = side_send(&s, text);
    }
    CHECK_EQ_INT(side_recv(&s, &m[2001]), 2); /* 2,001 ahead: refused */
    CHECK_EQ_INT(side_recv(&s, &m[2000]), 0); /* 2,000 ahead: taken */
    CHECK_EQ_INT(side_recv(&s, &m[2000]), 1);
    if (!ward_sends) {
        ward_sender_key_info info;
        REQUIRE(ward_sender_key_info_get(s.wrecv, 0, &info) == WARD_OK);
        CHECK_EQ_INT(info.n_message_keys, 2000);
        CHECK_EQ_INT(info.iteration, 2001);
        reload(&s.wrecv);
    }
    /* A few of the 2,000 kept keys used now, late. */
    CHECK_EQ_INT(side_recv(&s, &m[1999]), 0);
    CHECK_EQ_INT(side_recv(&s, &m[0]), 0);
    CHECK_EQ_INT(side_recv(&s, &m[0]), 1);
    CHECK_EQ_INT(side_recv(&s, &m[1000]), 0);
    /* 1,997 kept. 4001 is 2,000 past the chain (2001): taken, keeping the
     * 2,000 keys 2001..4000 and dropping all 1,997 older ones. */
    CHECK_EQ_INT(side_recv(&s, &m[4001]), 0);
    if (!ward_sends) {
        ward_sender_key_info info;
        REQUIRE(ward_sender_key_info_get(s.wrecv, 0, &info) == WARD_OK);
        CHECK_EQ_INT(info.n_message_keys, 2000);
    }
    CHECK_EQ_INT(side_recv(&s, &m[1]), 1);
    CHECK_EQ_INT(side_recv(&s, &m[1998]), 1);
    CHECK_EQ_INT(side_recv(&s, &m[2001]), 0);
    CHECK_EQ_INT(side_recv(&s, &m[4000]), 0);
    CHECK_EQ_INT(side_recv(&s, &m[3000]), 0);
    CHECK_EQ_INT(side_recv(&s, &m[3000]), 1);
    for (int i = 0; i < TOTAL; i++)
        gmsg_free(&m[i]);
    free(m);
    gmsg_free(&d);
    ward_sender_key_free(s.wsend);
    ward_sender_key_free(s.wrecv);
    sigh_party_free(s.lib);
}

/* Copies |m| with one bit flipped at |at|. */
static gmsg flipped(const gmsg *m, size_t at, uint8_t bit)
{
    gmsg t = *m;
    t.p = malloc(m->n);
    REQUIRE(t.p);
    memcpy(t.p, m->p, m->n);
    t.p[at] ^= bit;
    return t;
}

/* A flipped bit anywhere (version, header, ciphertext, signature) is
 * refused by both, and the intact message still decrypts afterwards. */
static void test_tamper(void)
{
    sigh_party *lib = sigh_party_new(0);
    ward_sender_key *ws = NULL, *wr = NULL;
    REQUIRE(lib && ward_sender_key_new(&ws) == WARD_OK &&
            ward_sender_key_new(&wr) == WARD_OK);
    gmsg dw = wk_skdm(ws, 1), dl = lib_skdm(lib);
    REQUIRE(sigh_group_process(lib, GROUP, "warden", dw.p, dw.n) == SIGH_OK);
    REQUIRE(ward_sender_key_process(wr, dl.p, dl.n) == WARD_OK);

    gmsg to_lib = wk_send(ws, "a message someone will tamper with");
    gmsg to_ward = lib_send(lib, "another message someone will tamper with");
    for (size_t at = 0; at < to_lib.n; at += (at < 12 || at + 70 > to_lib.n) ? 1 : 5) {
        gmsg bad = flipped(&to_lib, at, (uint8_t)(1u << (at % 8)));
        CHECK(lib_recv(lib, &bad) != SIGH_OK);
        gmsg_free(&bad);
    }
    for (size_t at = 0; at < to_ward.n; at += (at < 12 || at + 70 > to_ward.n) ? 1 : 5) {
        gmsg bad = flipped(&to_ward, at, (uint8_t)(1u << (at % 8)));
        ward_err e = wk_recv(wr, &bad);
        /* Every refusal, whatever byte changed, is one of these; a
         * changed key id is a state ward does not have. */
        CHECK(e == WARD_ERR_AUTH || e == WARD_ERR_MALFORMED ||
              e == WARD_ERR_VERSION || e == WARD_ERR_NO_SESSION);
        if (at >= to_ward.n - 64)
            CHECK_EQ_INT(e, WARD_ERR_AUTH); /* the signature itself */
        gmsg_free(&bad);
    }
    /* Truncated: short of the signature, and one byte short. */
    gmsg cut = to_ward;
    cut.n = to_ward.n - 1;
    CHECK(wk_recv(wr, &cut) != WARD_OK);
    cut.n = 60;
    CHECK_EQ_INT(wk_recv(wr, &cut), WARD_ERR_MALFORMED);

    CHECK_EQ_INT(lib_recv(lib, &to_lib), SIGH_OK);
    CHECK_EQ_INT(wk_recv(wr, &to_ward), WARD_OK);
    /* A tampered later message leaves no trace: the next one is in order
     * and needs no kept key. */
    gmsg later = lib_send(lib, "later");
    gmsg bad = flipped(&later, later.n - 20, 0x10);
    CHECK_EQ_INT(wk_recv(wr, &bad), WARD_ERR_AUTH);
    CHECK_EQ_INT(wk_recv(wr, &later), WARD_OK);
    ward_sender_key_info info;
    REQUIRE(ward_sender_key_info_get(wr, 0, &info) == WARD_OK);
    CHECK_EQ_INT(info.n_message_keys, 0);
    gmsg_free(&bad);
    gmsg_free(&later);

    /* The same bytes signed by someone else: refused before anything
     * else is looked at, and the genuine message still decrypts. */
    gmsg real_msg = lib_send(lib, "genuine");
    ward_sender_key_msg pm;
    REQUIRE(ward_sender_key_msg_parse(&pm, real_msg.p, real_msg.n) == WARD_OK);
    ward_buf fb;
    ward_buf_init(&fb, 0);
    REQUIRE(ward_buf_append(&fb, real_msg.p, pm.signed_len) == WARD_OK);
    uint8_t sig[64], priv[32], pub[32];
    REQUIRE(ward_x25519_keypair(priv, pub) == WARD_OK);
    REQUIRE(ward_xeddsa_sign(sig, priv, fb.data, fb.len) == WARD_OK);
    REQUIRE(ward_buf_append(&fb, sig, 64) == WARD_OK);
    gmsg fake = copy_buf(&fb, "genuine");
    CHECK_EQ_INT(wk_recv(wr, &fake), WARD_ERR_AUTH);
    CHECK_EQ_INT(wk_recv(wr, &real_msg), WARD_OK);
    ward_buf_release(&fb);
    gmsg_free(&fake);
    gmsg_free(&real_msg);

    gmsg_free(&to_lib);
    gmsg_free(&to_ward);
    gmsg_free(&dw);
    gmsg_free(&dl);
    ward_sender_key_free(ws);
    ward_sender_key_free(wr);
    sigh_party_free(lib);
}

/*
 * Rotation: the sender starts a new key (new key id) six times; held-back
 * messages of older keys still decrypt through the kept states until a
 * key is the sixth-newest, when its state is dropped by both.
 */
static void test_rotation(int ward_sends)
{
    enum { KEYS = 7 };
    sigh_party *lib = sigh_party_new(0);
    ward_sender_key *ws = NULL, *wr = NULL;
    REQUIRE(lib && ward_sender_key_new(&ws) == WARD_OK &&
            ward_sender_key_new(&wr) == WARD_OK);
    gmsg held[KEYS][2];
    uint32_t ids[KEYS];
    char text[48];
    for (int k = 0; k < KEYS; k++) {
        gmsg d;
        if (ward_sends) {
            d = wk_skdm(ws, 1);
            REQUIRE(sigh_group_process(lib, GROUP, "warden", d.p, d.n) ==
                    SIGH_OK);
        } else {
            if (k > 0)
                CHECK_EQ_INT(sigh_group_reset(lib, GROUP, "libby", 1), 1);
            d = lib_skdm(lib);
            REQUIRE(ward_sender_key_process(wr, d.p, d.n) == WARD_OK);
        }
        ward_skdm m;
        REQUIRE(ward_skdm_parse(&m, d.p, d.n) == WARD_OK);
        ids[k] = m.key_id;
        ward_memzero(&m, sizeof m);
        for (int j = 0; j < k; j++)
            CHECK(ids[j] != ids[k]); /* 31-bit random ids: no collision */
        gmsg_free(&d);
        for (int j = 0; j < 2; j++) {
            snprintf(text, sizeof text, "key %d message %d", k, j);
            held[k][j] = ward_sends ? wk_send(ws, text)
                                    : lib_send(lib, text);
        }
        if (!ward_sends)
            CHECK_EQ_INT(ward_sender_key_count(wr),
                         k + 1 < 5 ? k + 1 : 5);
        if (!ward_sends && k == 3)
            reload(&wr);
    }
    /* The newest five keys' messages decrypt, newest key last message
     * first; the two oldest keys are gone. */
    for (int k = KEYS - 1; k >= 0; k--) {
        for (int j = 1; j >= 0; j--) {
            int ok;
            if (ward_sends) {
                int rc = lib_recv(lib, &held[k][j]);
                ok = rc == SIGH_OK;
                if (!ok)
                    CHECK_EQ_INT(rc, SIGH_ERR_INVALID_MESSAGE);
            } else {
                ward_err e = wk_recv(wr, &held[k][j]);
                ok = e == WARD_OK;
                if (!ok)
                    CHECK_EQ_INT(e, WARD_ERR_NO_SESSION);
            }
            CHECK_EQ_INT(ok, k >= KEYS - 5);
            gmsg_free(&held[k][j]);
        }
    }
    if (!ward_sends) {
        /* Newest first, and the oldest kept is the third key. */
        ward_sender_key_info info;
        REQUIRE(ward_sender_key_info_get(wr, 0, &info) == WARD_OK);
        CHECK_EQ_INT(info.key_id, ids[KEYS - 1]);
        REQUIRE(ward_sender_key_info_get(wr, 4, &info) == WARD_OK);
        CHECK_EQ_INT(info.key_id, ids[KEYS - 5]);
        CHECK(!info.can_send);
        CHECK_EQ_INT(ward_sender_key_info_get(wr, 5, &info),
                     WARD_ERR_INVALID_ARG);
    } else {
        /* ward's own record keeps only its sending state. */
        CHECK_EQ_INT(ward_sender_key_count(ws), 1);
    }
    ward_sender_key_free(ws);
    ward_sender_key_free(wr);
    sigh_party_free(lib);
}

/*
 * A distribution message handed out later, at the chain's current
 * iteration (for a member who joins), and the same SKDM processed twice.
 * On the second point ward and libsignal-protocol-c 2.3 differ on purpose:
 * libsignal adds a second state for the key id and finds it first, so a
 * message it already decrypted decrypts again; ward keeps the state it
 * has (docs/protocol.md).
 */
static void test_late_and_repeated_skdm(void)
{
    sigh_party *lib = sigh_party_new(0), *lib2 = sigh_party_new(0);
    ward_sender_key *ws = NULL, *wr = NULL, *wr2 = NULL;
    REQUIRE(lib && lib2 && ward_sender_key_new(&ws) == WARD_OK &&
            ward_sender_key_new(&wr) == WARD_OK &&
            ward_sender_key_new(&wr2) == WARD_OK);

    /* ward sends five messages, then a late member (lib2) joins. */
    gmsg d0 = wk_skdm(ws, 1);
    REQUIRE(sigh_group_process(lib, GROUP, "warden", d0.p, d0.n) == SIGH_OK);
    gmsg early[5];
    for (int i = 0; i < 5; i++)
        early[i] = wk_send(ws, "before the late member");
    gmsg d5 = wk_skdm(ws, 0);
    ward_skdm m;
    REQUIRE(ward_skdm_parse(&m, d5.p, d5.n) == WARD_OK);
    CHECK_EQ_INT(m.iteration, 5);
    ward_memzero(&m, sizeof m);
    REQUIRE(sigh_group_process(lib2, GROUP, "warden", d5.p, d5.n) ==
            SIGH_OK);
    gmsg now = wk_send(ws, "after the late member joined");
    CHECK_EQ_INT(lib_recv(lib2, &now), SIGH_OK);
    CHECK_EQ_INT(lib_recv(lib2, &early[4]), SIGH_ERR_DUPLICATE_MESSAGE);
    CHECK_EQ_INT(lib_recv(lib, &early[0]), SIGH_OK);
    CHECK_EQ_INT(lib_recv(lib, &now), SIGH_OK);

    /* libsignal given the same SKDM again: message 0 decrypts again. */
    REQUIRE(sigh_group_process(lib, GROUP, "warden", d0.p, d0.n) == SIGH_OK);
    CHECK_EQ_INT(lib_recv(lib, &early[0]), SIGH_OK);

    /* ward given the same SKDM again (and libsignal's late SKDM at its
     * current iteration): nothing used becomes usable again. */
    gmsg l0 = lib_skdm(lib);
    REQUIRE(ward_sender_key_process(wr, l0.p, l0.n) == WARD_OK);
    gmsg lm[3];
    for (int i = 0; i < 3; i++)
        lm[i] = lib_send(lib, "from libsignal");
    gmsg l3 = lib_skdm(lib);
    CHECK_EQ_INT(wk_recv(wr, &lm[0]), WARD_OK);
    CHECK_EQ_INT(wk_recv(wr, &lm[2]), WARD_OK);
    ward_buf before, after;
    ward_buf_init(&before, 0);
    ward_buf_init(&after, 0);
    REQUIRE(ward_sender_key_serialize(wr, &before) == WARD_OK);
    CHECK_EQ_INT(ward_sender_key_process(wr, l0.p, l0.n), WARD_OK);
    CHECK_EQ_INT(ward_sender_key_process(wr, l3.p, l3.n), WARD_OK);
    REQUIRE(ward_sender_key_serialize(wr, &after) == WARD_OK);
    CHECK(after.len == before.len &&
          memcmp(after.data, before.data, after.len) == 0);
    CHECK_EQ_INT(ward_sender_key_count(wr), 1);
    CHECK_EQ_INT(wk_recv(wr, &lm[0]), WARD_ERR_DUPLICATE);
    CHECK_EQ_INT(wk_recv(wr, &lm[1]), WARD_OK);
    CHECK_EQ_INT(wk_recv(wr, &lm[2]), WARD_ERR_DUPLICATE);
    /* A member who joins with the late SKDM cannot read what came before. */
    REQUIRE(ward_sender_key_process(wr2, l3.p, l3.n) == WARD_OK);
    CHECK_EQ_INT(wk_recv(wr2, &lm[2]), WARD_ERR_DUPLICATE);
    gmsg next = lib_send(lib, "next");
    CHECK_EQ_INT(wk_recv(wr2, &next), WARD_OK);
    CHECK_EQ_INT(wk_recv(wr, &next), WARD_OK);

    ward_buf_release(&before);
    ward_buf_release(&after);
    for (int i = 0; i < 5; i++)
        gmsg_free(&early[i]);
    for (int i = 0; i < 3; i++)
        gmsg_free(&lm[i]);
    gmsg_free(&next);
    gmsg_free(&now);
    gmsg_free(&d0);
    gmsg_free(&d5);
    gmsg_free(&l0);
    gmsg_free(&l3);
    ward_sender_key_free(ws);
    ward_sender_key_free(wr);
    ward_sender_key_free(wr2);
    sigh_party_free(lib);
    sigh_party_free(lib2);
}

/* A message for another group or another sender's key is not decrypted:
 * ward has no state with that key id, libsignal has no record. */
static void test_no_session(void)
{
    sigh_party *lib = sigh_party_new(0);
    ward_sender_key *wr = NULL, *other = NULL;
    REQUIRE(lib && ward_sender_key_new(&wr) == WARD_OK &&
            ward_sender_key_new(&other) == WARD_OK);
    gmsg d = lib_skdm(lib);
    gmsg x = lib_send(lib, "for members only");
    CHECK_EQ_INT(wk_recv(wr, &x), WARD_ERR_NO_SESSION);
    gmsg od = wk_skdm(other, 1); /* ward's own state: another key id */
    CHECK_EQ_INT(wk_recv(other, &x), WARD_ERR_NO_SESSION);
    CHECK_EQ_INT(ward_sender_key_process(wr, d.p, d.n), WARD_OK);
    CHECK_EQ_INT(wk_recv(wr, &x), WARD_OK);
    /* Encrypting with a record that only receives is refused. */
    ward_buf b;
    ward_buf_init(&b, 0);
    CHECK_EQ_INT(ward_sender_key_encrypt(wr, (const uint8_t *)"x", 1, &b),
                 WARD_ERR_NO_SESSION);
    CHECK_EQ_INT(ward_sender_key_distribution(wr, &b), WARD_ERR_NO_SESSION);
    CHECK_EQ_INT(b.len, 0);
    ward_buf_release(&b);
    gmsg_free(&d);
    gmsg_free(&od);
    gmsg_free(&x);
    ward_sender_key_free(wr);
    ward_sender_key_free(other);
    sigh_party_free(lib);
}

int main(void)
{
    REQUIRE(ward_crypto_init() == WARD_OK);
    REQUIRE(sigh_global_init() == 0);
    test_wire_formats();
    test_libsignal_to_ward();
    test_ward_to_libsignal();
    test_gaps(0);
    test_gaps(1);
    test_tamper();
    test_rotation(0);
    test_rotation(1);
    test_late_and_repeated_skdm();
    test_no_session();
    sigh_global_teardown();
    return wtest_done("test_interop_group");
}
