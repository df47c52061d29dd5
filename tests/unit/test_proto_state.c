/*
 * Unit tests for the proto module's state: the serialization formats of
 * sessions, prekeys and identities, the prekeys store and its import rules,
 * the Content envelope and the error strings.
 *
 * Expected values come from signal-wire.md, from protobuf's encoding rules,
 * from RFC 7748 / RFC 3629, or from libsignal-protocol-c's documented
 * behaviour; never from this implementation's own output.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ward/buf.h"
#include "ward/crypto.h"
#include "ward/err.h"
#include "ward/proto.h"
#include "proto_helpers.h"
#include "wtest.h"

/* A deterministic generator for the fuzz-style loops. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* ------------------------------------------------------------------------ */
/* 1. State formats                                                         */

typedef ward_err (*load_fn)(const uint8_t *p, size_t n);

/* A message and its reader, tried on every session that loads. */
static const wmsg *probe_msg;
static peer *probe_peer;

static ward_err load_session(const uint8_t *p, size_t n)
{
    ward_session *s = (ward_session *)&rng_state; /* a sentinel */
    ward_session *sentinel = s;
    ward_err e = ward_session_deserialize(&s, p, n);
    if (e == WARD_OK) {
        /* Whatever loaded must be safe to use. */
        ward_buf b;
        int type;
        ward_buf_init(&b, 0);
        (void)ward_session_encrypt(s, (const uint8_t *)"probe", 5, &b, &type);
        ward_buf_clear(&b);
        if (probe_msg && probe_peer)
            (void)dec(s, probe_peer, probe_msg, &b);
        ward_buf_clear(&b);
        (void)ward_session_serialize(s, &b);
        ward_buf_release(&b);
        ward_session_free(s);
    } else {
        CHECK(s == sentinel);
    }
    return e;
}

static ward_err load_prekeys(const uint8_t *p, size_t n)
{
    ward_prekeys *pk = (ward_prekeys *)&rng_state;
    ward_prekeys *sentinel = pk;
    ward_err e = ward_prekeys_deserialize(&pk, p, n);
    if (e == WARD_OK)
        ward_prekeys_free(pk);
    else
        CHECK(pk == sentinel);
    return e;
}

static ward_err load_identity(const uint8_t *p, size_t n)
{
    ward_identity *id = (ward_identity *)&rng_state;
    ward_identity *sentinel = id;
    ward_err e = ward_identity_deserialize(&id, p, n);
    if (e == WARD_OK)
        ward_identity_free(id);
    else
        CHECK(id == sentinel);
    return e;
}

/* Every truncation, an extra byte, a wrong magic or format byte, random
 * bytes and random corruption: refused (or, for corruption, at least no
 * crash). */
static void hostile_state_bytes(const char *what, const ward_buf *good,
                                load_fn load)
{
    int wrong = 0;
    for (size_t k = 0; k < good->len; k++) {
        uint8_t *c = dup_exact(good->data, k);
        if (load(c, k) != WARD_ERR_BAD_STATE) {
            wrong++;
            fprintf(stderr, "  %s truncated to %zu not refused\n", what, k);
        }
        free(c);
    }
    CHECK_EQ_INT(wrong, 0);

    uint8_t *c = malloc(good->len + 1);
    REQUIRE(c);
    memcpy(c, good->data, good->len);
    c[good->len] = 0;
    CHECK_EQ_INT(load(c, good->len + 1), WARD_ERR_BAD_STATE);
    CHECK_EQ_INT(load(c, good->len), WARD_OK);
    for (size_t i = 0; i < 3; i++) {
        memcpy(c, good->data, good->len);
        c[i] ^= 0x20;
        CHECK_EQ_INT(load(c, good->len), WARD_ERR_BAD_STATE);
    }
    const uint8_t formats[] = {0, 2, 0x81, 0xff};
    for (size_t i = 0; i < sizeof formats; i++) {
        memcpy(c, good->data, good->len);
        c[3] = formats[i];
        CHECK_EQ_INT(load(c, good->len), WARD_ERR_BAD_STATE);
    }
    free(c);

    /* Random bytes, with and without a valid header. */
    int accepted = 0;
    for (int i = 0; i < 200; i++) {
        size_t n = rng() % (good->len + 64);
        uint8_t *r = malloc(n ? n : 1);
        REQUIRE(r);
        for (size_t k = 0; k < n; k++)
            r[k] = (uint8_t)rng();
        if (i % 2 && n >= 4)
            memcpy(r, good->data, 4);
        ward_err e = load(r, n);
        /* A header plus random bytes of the exact length may be valid (an
         * identity is just a private key): only other lengths must fail. */
        if (!(i % 2 && n == good->len))
            accepted += e == WARD_OK;
        free(r);
    }
    CHECK_EQ_INT(accepted, 0);

    /* Random corruption of a valid state: any result but a crash. */
    c = malloc(good->len);
    REQUIRE(c);
    for (int i = 0; i < 300; i++) {
        memcpy(c, good->data, good->len);
        int flips = 1 + (int)(rng() % 4);
        for (int f = 0; f < flips; f++)
            c[rng() % good->len] ^= (uint8_t)(1u << (rng() % 8));
        (void)load(c, good->len);
    }
    free(c);
}

static void test_state_formats(void)
{
    peer alice, bob;
    peer_make(&alice, 1, 1, 0);
    peer_make(&bob, 1, 50, 6);
    REQUIRE(ward_prekeys_generate_signed(bob.pk, bob.id, 9, 1234) == WARD_OK);
    REQUIRE(ward_prekeys_remove_onetime(bob.pk, 52) == WARD_OK);
    ward_session *as, *bs;
    establish(&alice, &bob, 50, &as, &bs);

    /* Bob mid-conversation, with skipped keys waiting. */
    wmsg m[5];
    for (int i = 0; i < 5; i++)
        m[i] = enc(as, &i, sizeof i);
    int v = 4;
    CHECK(dec_ok(bs, &bob, &m[4], &v, sizeof v));

    ward_buf s1, s2;
    snap_session(bs, &s1);
    ward_session *bs2 = NULL;
    CHECK_EQ_INT(ward_session_deserialize(&bs2, s1.data, s1.len), WARD_OK);
    REQUIRE(bs2);
    snap_session(bs2, &s2);
    CHECK(buf_same(&s1, &s2));
    CHECK(ward_session_is_ready(bs2));
    uint8_t pub[33], tmp[33];
    ward_identity_public(alice.id, pub);
    CHECK_EQ_INT(ward_session_remote_identity(bs2, tmp), 1);
    CHECK_MEM(tmp, pub, 33);
    /* The loaded copy reads the skipped messages and goes on talking. */
    for (int i = 0; i < 4; i++)
        CHECK(dec_ok(bs2, &bob, &m[i], &i, sizeof i));
    CHECK_EQ_INT(dec_err(bs2, &bob, &m[4]), WARD_ERR_DUPLICATE);
    wmsg r = enc_str(bs2, "from the loaded session");
    DEC_STR(as, &alice, &r, "from the loaded session");
    wmsg a = enc_str(as, "to the loaded session");
    DEC_STR(bs2, &bob, &a, "to the loaded session");
    wmsg_free(&r);
    wmsg_free(&a);

    /* Serialising appends. */
    {
        ward_buf o;
        ward_buf_init(&o, 0);
        REQUIRE(ward_buf_append(&o, "xy", 2) == WARD_OK);
        CHECK_EQ_INT(ward_session_serialize(bs, &o), WARD_OK);
        CHECK(o.len == s1.len + 2 && memcmp(o.data, "xy", 2) == 0 &&
              memcmp(o.data + 2, s1.data, s1.len) == 0);
        ward_buf_release(&o);
    }

    /* Alice mid re-key: a pending current state and an archived one. */
    ward_bundle b;
    bundle_of(&bob, 9, 51, &b);
    CHECK_EQ_INT(ward_session_init_from_bundle(as, alice.id, &b), WARD_OK);
    ward_buf sa;
    snap_session(as, &sa);
    {
        ward_session *as2 = sess_load(&sa);
        ward_buf sa2;
        snap_session(as2, &sa2);
        CHECK(buf_same(&sa, &sa2));
        wmsg p = enc_str(as2, "pending survives");
        CHECK_EQ_INT(p.type, WARD_MSG_PREKEY);
        DEC_STR(bs, &bob, &p, "pending survives");
        wmsg_free(&p);
        ward_buf_release(&sa2);
        ward_session_free(as2);
    }
    /* An empty session too. */
    {
        ward_session *e = sess_new();
        ward_buf se;
        snap_session(e, &se);
        ward_session *e2 = sess_load(&se);
        CHECK(!ward_session_is_ready(e2));
        CHECK_EQ_INT(ward_session_remote_identity(e2, tmp), 0);
        CHECK(session_is(e2, &se));
        hostile_state_bytes("empty session", &se, load_session);
        ward_buf_release(&se);
        ward_session_free(e);
        ward_session_free(e2);
    }
    {
        wmsg probe = enc_str(as, "probe");
        probe_msg = &probe;
        probe_peer = &bob;
        hostile_state_bytes("session", &s1, load_session);
        hostile_state_bytes("re-keyed session", &sa, load_session);
        probe_msg = NULL;
        probe_peer = NULL;
        wmsg_free(&probe);
    }

    /* Prekeys. */
    {
        ward_buf p1, p2;
        snap_prekeys(bob.pk, &p1);
        ward_prekeys *pk2 = prekeys_load(&p1);
        snap_prekeys(pk2, &p2);
        CHECK(buf_same(&p1, &p2));
        CHECK_EQ_INT(ward_prekeys_onetime_count(pk2),
                     ward_prekeys_onetime_count(bob.pk));
        const uint32_t signed_ids[] = {1, 9};
        const uint32_t ot_ids[] = {0, 53, 54, 55};
        for (size_t i = 0; i < 2; i++) {
            for (size_t k = 0; k < 4; k++) {
                ward_bundle x, y;
                ward_err ex = ward_prekeys_bundle(bob.pk, bob.id, 3,
                                                  signed_ids[i], ot_ids[k], &x);
                ward_err ey = ward_prekeys_bundle(pk2, bob.id, 3,
                                                  signed_ids[i], ot_ids[k], &y);
                CHECK_EQ_INT(ex, WARD_OK);
                CHECK_EQ_INT(ey, WARD_OK);
                CHECK_EQ_INT(x.has_prekey, y.has_prekey);
                CHECK_EQ_INT(x.prekey_id, y.prekey_id);
                CHECK_MEM(x.prekey, y.prekey, 33);
                CHECK_MEM(x.signed_prekey, y.signed_prekey, 33);
                CHECK_MEM(x.signed_prekey_sig, y.signed_prekey_sig, 64);
            }
        }
        CHECK_EQ_INT(ward_prekeys_bundle(pk2, bob.id, 3, 1, 52, &b),
                     WARD_ERR_NO_PREKEY);
        hostile_state_bytes("prekeys", &p1, load_prekeys);
        ward_buf_release(&p1);
        ward_buf_release(&p2);
        ward_prekeys_free(pk2);

        ward_prekeys *none = NULL;
        REQUIRE(ward_prekeys_new(&none) == WARD_OK);
        snap_prekeys(none, &p1);
        hostile_state_bytes("empty prekeys", &p1, load_prekeys);
        ward_buf_release(&p1);
        ward_prekeys_free(none);
    }

    /* Identities. */
    {
        ward_buf i1, i2;
        ward_buf_init(&i1, 0);
        ward_buf_init(&i2, 0);
        CHECK_EQ_INT(ward_identity_serialize(alice.id, &i1), WARD_OK);
        ward_identity *id2 = NULL;
        CHECK_EQ_INT(ward_identity_deserialize(&id2, i1.data, i1.len),
                     WARD_OK);
        REQUIRE(id2);
        CHECK_EQ_INT(ward_identity_serialize(id2, &i2), WARD_OK);
        CHECK(buf_same(&i1, &i2));
        ward_identity_public(id2, tmp);
        CHECK_MEM(tmp, pub, 33);
        CHECK_EQ_INT(ward_identity_registration_id(id2),
                     ward_identity_registration_id(alice.id));
        uint8_t sig[64];
        CHECK_EQ_INT(ward_identity_sign(id2, (const uint8_t *)"x", 1, sig),
                     WARD_OK);
        CHECK_EQ_INT(ward_xeddsa_verify(sig, pub + 1, (const uint8_t *)"x", 1),
                     WARD_OK);
        hostile_state_bytes("identity", &i1, load_identity);
        ward_buf_release(&i1);
        ward_buf_release(&i2);
        ward_identity_free(id2);
    }

    for (int i = 0; i < 5; i++)
        wmsg_free(&m[i]);
    ward_buf_release(&s1);
    ward_buf_release(&s2);
    ward_buf_release(&sa);
    ward_session_free(bs2);
    ward_session_free(as);
    ward_session_free(bs);
    peer_free(&alice);
    peer_free(&bob);
}

static void test_prekeys_store(void)
{
    ward_identity *id = NULL;
    ward_prekeys *pk = NULL;
    REQUIRE(ward_identity_generate(&id) == WARD_OK);
    REQUIRE(ward_prekeys_new(&pk) == WARD_OK);
    CHECK_EQ_INT(ward_prekeys_onetime_count(pk), 0);

    /* Ids wrap past 0xFFFFFE to 1, never 0 (libsignal's key helper). */
    CHECK_EQ_INT(ward_prekeys_generate_onetime(pk, 0xFFFFFD, 4), WARD_OK);
    id_list l = {{0}, {{0}}, 0};
    ward_prekeys_each_onetime(pk, collect_id, &l);
    CHECK_EQ_INT(l.n, 4);
    CHECK(has_id(&l, 0xFFFFFD) && has_id(&l, 0xFFFFFE) && has_id(&l, 1) &&
          has_id(&l, 2));
    CHECK(!has_id(&l, 0) && !has_id(&l, 0xFFFFFF));
    for (size_t i = 0; i < l.n; i++)
        CHECK_EQ_INT(l.pubs[i][0], 0x05);
    CHECK(memcmp(l.pubs[0], l.pubs[1], 33) != 0);

    CHECK_EQ_INT(ward_prekeys_remove_onetime(pk, 0xFFFFFE), WARD_OK);
    CHECK_EQ_INT(ward_prekeys_remove_onetime(pk, 0xFFFFFE), WARD_ERR_NO_PREKEY);
    CHECK_EQ_INT(ward_prekeys_remove_onetime(pk, 777), WARD_ERR_NO_PREKEY);
    CHECK_EQ_INT(ward_prekeys_onetime_count(pk), 3);

    /* Imported keys: RFC 7748's key pairs give known public keys. */
    uint8_t priv_a[32], pub_a[33], priv_b[32], pub_b[33], sig[64];
    wtest_hex(priv_a, "77076d0a7318a57d3c16c17251b26645"
                      "df4c2f87ebc0992ab177fba51db92c2a");
    pub_a[0] = 0x05;
    wtest_hex(pub_a + 1, "8520f0098930a754748b7ddcb43ef75a"
                         "0dbf3a0d26381af4eba4a98eaa9b4e6a");
    wtest_hex(priv_b, "5dab087e624a8a4b79e17f8b83800ee6"
                      "6f3bb1292618b6fd1c2f8b27ff88e0eb");
    pub_b[0] = 0x05;
    wtest_hex(pub_b + 1, "de9edb7d7b7dc1b4d35b61c2ece43537"
                         "3f8343c85b78674dadfc7e146f882b4f");
    REQUIRE(ward_identity_sign(id, pub_b, 33, sig) == WARD_OK);
    CHECK_EQ_INT(ward_prekeys_add_onetime(pk, 5, priv_a), WARD_OK);
    CHECK_EQ_INT(ward_prekeys_add_signed(pk, 3, priv_b, sig, 99), WARD_OK);
    ward_bundle b;
    CHECK_EQ_INT(ward_prekeys_bundle(pk, id, 4, 3, 5, &b), WARD_OK);
    CHECK_MEM(b.prekey, pub_a, 33);
    CHECK_MEM(b.signed_prekey, pub_b, 33);
    CHECK_MEM(b.signed_prekey_sig, sig, 64);
    CHECK_EQ_INT(b.device_id, 4);
    CHECK_EQ_INT(ward_prekeys_onetime_count(pk), 4);

    /* Generating a signed prekey with an existing id replaces it. */
    CHECK_EQ_INT(ward_prekeys_generate_signed(pk, id, 3, 100), WARD_OK);
    ward_bundle b2;
    CHECK_EQ_INT(ward_prekeys_bundle(pk, id, 4, 3, 0, &b2), WARD_OK);
    CHECK(memcmp(b2.signed_prekey, pub_b, 33) != 0);
    CHECK_EQ_INT(b2.has_prekey, 0);
    CHECK_EQ_INT(ward_xeddsa_verify(b2.signed_prekey_sig, b2.identity + 1,
                                    b2.signed_prekey, 33),
                 WARD_OK);

    ward_prekeys_free(pk);
    ward_identity_free(id);
}

/* ------------------------------------------------------------------------ */
/* 2. Content envelope                                                      */

static void make_attachment(ward_attachment *a, const char *id,
                            uint8_t key_byte, uint64_t size, const char *type,
                            const char *name)
{
    memset(a, 0, sizeof *a);
    snprintf(a->id, sizeof a->id, "%s", id);
    memset(a->key, key_byte, 32);
    memset(a->sha256, key_byte ^ 0xff, 32);
    a->size = size;
    snprintf(a->content_type, sizeof a->content_type, "%s", type);
    snprintf(a->file_name, sizeof a->file_name, "%s", name);
}

static int attachment_eq(const ward_attachment *x, const ward_attachment *y)
{
    return strcmp(x->id, y->id) == 0 && memcmp(x->key, y->key, 32) == 0 &&
           memcmp(x->sha256, y->sha256, 32) == 0 && x->size == y->size &&
           strcmp(x->content_type, y->content_type) == 0 &&
           strcmp(x->file_name, y->file_name) == 0;
}

static ward_err content_decode_exact(const uint8_t *p, size_t n)
{
    ward_content c;
    uint8_t *d = dup_exact(p, n);
    ward_err e = ward_content_decode(&c, d, n);
    free(d);
    if (e == WARD_OK)
        ward_content_release(&c);
    return e;
}

static void test_content(void)
{
    /* A full round trip. */
    static const char body[] = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 "
                               "\xf0\x9f\x98\x80";
    ward_content c, d;
    ward_content_init(&c);
    CHECK(c.body == NULL && c.n_attachments == 0 && !c.has_franking_key);
    CHECK_EQ_INT(ward_content_set_body(&c, body, strlen(body)), WARD_OK);
    ward_attachment a1, a2;
    make_attachment(&a1, "blob-1", 0x11, 123456789012ull, "image/png",
                    "cat.png");
    make_attachment(&a2, "blob-2", 0x22, 0, "application/pdf",
                    "r\xc3\xa9sum\xc3\xa9.pdf");
    CHECK_EQ_INT(ward_content_add_attachment(&c, &a1), WARD_OK);
    CHECK_EQ_INT(ward_content_add_attachment(&c, &a2), WARD_OK);
    c.has_franking_key = 1;
    for (int i = 0; i < 32; i++)
        c.franking_key[i] = (uint8_t)(0xf0 ^ i);
    c.sent_at = 1700000000123ull;
    c.group_id_len = 16;
    for (int i = 0; i < 16; i++)
        c.group_id[i] = (uint8_t)(i * 3);

    ward_buf e1, e2;
    ward_buf_init(&e1, 0);
    ward_buf_init(&e2, 0);
    CHECK_EQ_INT(ward_content_encode(&c, &e1), WARD_OK);
    CHECK(e1.len > 0 && e1.data[0] == 0x0a); /* body comes first: field 1 */
    CHECK_EQ_INT(ward_content_decode(&d, e1.data, e1.len), WARD_OK);
    CHECK(d.body && d.body_len == strlen(body) && strcmp(d.body, body) == 0);
    CHECK_EQ_INT(d.n_attachments, 2);
    if (d.n_attachments == 2) {
        CHECK(attachment_eq(&d.attachments[0], &a1));
        CHECK(attachment_eq(&d.attachments[1], &a2));
    }
    CHECK_EQ_INT(d.has_franking_key, 1);
    CHECK_MEM(d.franking_key, c.franking_key, 32);
    CHECK_EQ_INT(d.sent_at, 1700000000123ull);
    CHECK_EQ_INT(d.group_id_len, 16);
    CHECK_MEM(d.group_id, c.group_id, 16);
    CHECK_EQ_INT(ward_content_encode(&d, &e2), WARD_OK);
    CHECK(buf_same(&e1, &e2));
    ward_content_release(&d);

    /* Every truncation: MALFORMED or a shorter valid Content, no crash. */
    int odd = 0;
    for (size_t k = 0; k < e1.len; k++) {
        ward_err e = content_decode_exact(e1.data, k);
        odd += e != WARD_OK && e != WARD_ERR_MALFORMED;
    }
    CHECK_EQ_INT(odd, 0);
    /* Cut inside the body: definitely malformed. */
    CHECK_EQ_INT(content_decode_exact(e1.data, 5), WARD_ERR_MALFORMED);

    /* Encoding appends. */
    ward_buf_clear(&e2);
    REQUIRE(ward_buf_append(&e2, "ab", 2) == WARD_OK);
    CHECK_EQ_INT(ward_content_encode(&c, &e2), WARD_OK);
    CHECK(e2.len == e1.len + 2 && memcmp(e2.data, "ab", 2) == 0 &&
          memcmp(e2.data + 2, e1.data, e1.len) == 0);

    /* A group id longer than its 32 bytes cannot be encoded. */
    {
        ward_content t;
        ward_content_init(&t);
        t.group_id_len = 33;
        ward_buf o;
        ward_buf_init(&o, 0);
        REQUIRE(ward_buf_append(&o, "k", 1) == WARD_OK);
        CHECK(ward_content_encode(&t, &o) != WARD_OK);
        CHECK_EQ_INT(o.len, 1);
        ward_buf_release(&o);
    }

    /* A group key distribution (field 6): an SKDM for a group, kept and
     * re-encoded as it came; without a group, or not an SKDM, refused. */
    {
        ward_sender_key *sk;
        ward_buf skdm, o;
        ward_content t, u;
        REQUIRE(ward_sender_key_new(&sk) == WARD_OK);
        ward_buf_init(&skdm, 0);
        ward_buf_init(&o, 0);
        REQUIRE(ward_sender_key_create(sk, &skdm) == WARD_OK);
        ward_content_init(&t);
        memcpy(t.skdm, skdm.data, skdm.len);
        t.skdm_len = skdm.len;
        CHECK_EQ_INT(ward_content_encode(&t, &o), WARD_ERR_INVALID_ARG);
        CHECK_EQ_INT(o.len, 0);
        t.group_id_len = 8;
        t.group_id[7] = 7;
        t.has_franking_key = 1;
        CHECK_EQ_INT(ward_content_encode(&t, &o), WARD_OK);
        CHECK_EQ_INT(ward_content_decode(&u, o.data, o.len), WARD_OK);
        CHECK_EQ_INT(u.skdm_len, skdm.len);
        CHECK_MEM(u.skdm, skdm.data, skdm.len);
        CHECK(u.body == NULL && u.group_id_len == 8 && u.group_id[7] == 7);
        ward_content_release(&u);
        /* The same bytes without the group id: a key for no group. */
        ward_buf_clear(&o);
        t.group_id_len = 0;
        REQUIRE(ward_buf_append(&o, "\x32", 1) == WARD_OK);
        uint8_t len = (uint8_t)skdm.len;
        REQUIRE(ward_buf_append(&o, &len, 1) == WARD_OK);
        REQUIRE(ward_buf_append(&o, skdm.data, skdm.len) == WARD_OK);
        CHECK_EQ_INT(content_decode_exact(o.data, o.len), WARD_ERR_MALFORMED);
        /* With a group but a byte of the SKDM cut off: not an SKDM. */
        static const uint8_t grp[] = {0x2a, 1, 9};
        ward_buf_clear(&o);
        REQUIRE(ward_buf_append(&o, grp, sizeof grp) == WARD_OK);
        len = (uint8_t)(skdm.len - 1);
        REQUIRE(ward_buf_append(&o, "\x32", 1) == WARD_OK);
        REQUIRE(ward_buf_append(&o, &len, 1) == WARD_OK);
        REQUIRE(ward_buf_append(&o, skdm.data, skdm.len - 1) == WARD_OK);
        CHECK_EQ_INT(content_decode_exact(o.data, o.len), WARD_ERR_MALFORMED);
        /* Too long to be one. */
        t.group_id_len = 1;
        t.skdm_len = WARD_CONTENT_MAX_SKDM + 1;
        ward_buf_clear(&o);
        CHECK_EQ_INT(ward_content_encode(&t, &o), WARD_ERR_INVALID_ARG);
        ward_memzero(&t, sizeof t);
        ward_buf_release(&o);
        ward_buf_release(&skdm);
        ward_sender_key_free(sk);
    }

    /* Invalid UTF-8 is refused and leaves the body as it was. */
    static const struct {
        const char *s;
        size_t n;
    } bad_utf8[] = {
        {"\xc0\x80", 2},         {"\xc1\xbf", 2},
        {"\xe0\x80\x80", 3},     {"\xf0\x80\x80\x80", 4},
        {"\xed\xa0\x80", 3},     {"\xed\xbf\xbf", 3},
        {"a\0b", 3},             {"\0", 1},
        {"\xf4\x90\x80\x80", 4}, {"\xf5\x80\x80\x80", 4},
        {"\xff", 1},             {"\x80", 1},
        {"\xc2", 1},             {"\xe2\x82", 2},
        {"\xc2\x41", 2},         {"ok\xf0\x9f\x98", 5},
    };
    int accepted = 0, not_malformed = 0;
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
        if (ward_content_set_body(&c, bad_utf8[i].s, bad_utf8[i].n) ==
            WARD_OK) {
            accepted++;
            fprintf(stderr, "  bad UTF-8 #%zu accepted\n", i);
        }
        tb b;
        b.n = 0;
        tb_bytes(&b, 1, bad_utf8[i].s, bad_utf8[i].n);
        if (content_decode_exact(b.d, b.n) != WARD_ERR_MALFORMED) {
            not_malformed++;
            fprintf(stderr, "  bad UTF-8 #%zu decoded\n", i);
        }
        /* ... and in an attachment's strings too. */
        tb att;
        att.n = 0;
        tb_bytes(&att, 5, bad_utf8[i].s, bad_utf8[i].n);
        b.n = 0;
        tb_bytes(&b, 2, att.d, att.n);
        if (content_decode_exact(b.d, b.n) != WARD_ERR_MALFORMED)
            not_malformed++;
    }
    CHECK_EQ_INT(accepted, 0);
    CHECK_EQ_INT(not_malformed, 0);
    CHECK(c.body && strcmp(c.body, body) == 0);

    /* Valid boundaries of RFC 3629. */
    static const char *good_utf8[] = {
        "\x7f",         "\xc2\x80",         "\xdf\xbf",
        "\xe0\xa0\x80", "\xed\x9f\xbf",     "\xee\x80\x80",
        "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",
        "",
    };
    int refused = 0;
    for (size_t i = 0; i < sizeof good_utf8 / sizeof good_utf8[0]; i++) {
        ward_content t;
        ward_content_init(&t);
        refused += ward_content_set_body(&t, good_utf8[i],
                                         strlen(good_utf8[i])) != WARD_OK;
        ward_buf o;
        ward_buf_init(&o, 0);
        REQUIRE(ward_content_encode(&t, &o) == WARD_OK);
        ward_content u;
        if (ward_content_decode(&u, o.data, o.len) == WARD_OK) {
            refused += !(u.body && strcmp(u.body, good_utf8[i]) == 0);
            ward_content_release(&u);
        } else {
            refused++;
        }
        ward_buf_release(&o);
        ward_content_release(&t);
    }
    CHECK_EQ_INT(refused, 0);

    /* Body size limit. */
    {
        char *big = malloc(WARD_CONTENT_MAX_BODY + 1);
        REQUIRE(big);
        memset(big, 'a', WARD_CONTENT_MAX_BODY + 1);
        ward_content t;
        ward_content_init(&t);
        CHECK_EQ_INT(ward_content_set_body(&t, big, WARD_CONTENT_MAX_BODY),
                     WARD_OK);
        CHECK(ward_content_set_body(&t, big, WARD_CONTENT_MAX_BODY + 1) !=
              WARD_OK);
        CHECK_EQ_INT(t.body_len, WARD_CONTENT_MAX_BODY);
        ward_content_release(&t);
        CHECK(t.body == NULL && t.body_len == 0);
        /* The same limit when decoding. */
        ward_buf o;
        ward_buf_init(&o, 0);
        REQUIRE(ward_buf_append(&o, "\x0a\x80\x80\x04", 4) == WARD_OK);
        REQUIRE(ward_buf_append(&o, big, WARD_CONTENT_MAX_BODY) == WARD_OK);
        CHECK_EQ_INT(content_decode_exact(o.data, o.len), WARD_OK);
        ward_buf_clear(&o);
        REQUIRE(ward_buf_append(&o, "\x0a\x81\x80\x04", 4) == WARD_OK);
        REQUIRE(ward_buf_append(&o, big, WARD_CONTENT_MAX_BODY + 1) ==
                WARD_OK);
        CHECK_EQ_INT(content_decode_exact(o.data, o.len), WARD_ERR_MALFORMED);
        ward_buf_release(&o);
        free(big);
    }

    /* Too many attachments. */
    {
        ward_content t;
        ward_content_init(&t);
        int fails = 0;
        for (int i = 0; i < WARD_CONTENT_MAX_ATTACHMENTS; i++)
            fails += ward_content_add_attachment(&t, &a1) != WARD_OK;
        CHECK_EQ_INT(fails, 0);
        CHECK(ward_content_add_attachment(&t, &a2) != WARD_OK);
        CHECK_EQ_INT(t.n_attachments, WARD_CONTENT_MAX_ATTACHMENTS);
        ward_content_release(&t);

        tb att, b;
        att.n = 0;
        tb_bytes(&att, 1, "id", 2);
        b.n = 0;
        for (int i = 0; i < WARD_CONTENT_MAX_ATTACHMENTS; i++)
            tb_bytes(&b, 2, att.d, att.n);
        CHECK_EQ_INT(ward_content_decode(&t, b.d, b.n), WARD_OK);
        CHECK_EQ_INT(t.n_attachments, WARD_CONTENT_MAX_ATTACHMENTS);
        ward_content_release(&t);
        tb_bytes(&b, 2, att.d, att.n);
        CHECK_EQ_INT(content_decode_exact(b.d, b.n), WARD_ERR_MALFORMED);
    }

    /* Wrong field lengths and wire types. */
    {
        uint8_t zeros[300];
        memset(zeros, 'z', sizeof zeros);
        tb b, att;
        const size_t fk_lens[] = {0, 31, 33};
        for (size_t i = 0; i < 3; i++) {
            b.n = 0;
            tb_bytes(&b, 3, zeros, fk_lens[i]);
            CHECK_EQ_INT(content_decode_exact(b.d, b.n), WARD_ERR_MALFORMED);
        }
        b.n = 0;
        tb_bytes(&b, 5, zeros, 33); /* group id past 32 bytes */
        CHECK_EQ_INT(content_decode_exact(b.d, b.n), WARD_ERR_MALFORMED);
        b.n = 0;
        tb_uint(&b, 1, 5); /* body as a varint */
        CHECK_EQ_INT(content_decode_exact(b.d, b.n), WARD_ERR_MALFORMED);
        b.n = 0;
        tb_bytes(&b, 4, zeros, 8); /* sent_at as bytes */
        CHECK_EQ_INT(content_decode_exact(b.d, b.n), WARD_ERR_MALFORMED);
        b.n = 0;
        tb_uint(&b, 3, 5); /* franking key as a varint */
        CHECK_EQ_INT(content_decode_exact(b.d, b.n), WARD_ERR_MALFORMED);
        b.n = 0;
        tb_uint(&b, 2, 5); /* attachment as a varint */
        CHECK_EQ_INT(content_decode_exact(b.d, b.n), WARD_ERR_MALFORMED);

        const struct {
            uint32_t field;
            size_t len;
            int ok;
        } att_cases[] = {
            {2, 31, 0},  {2, 33, 0},  {3, 31, 0},  {3, 0, 0},
            {1, 256, 1}, {1, 257, 0}, {5, 256, 1}, {6, 257, 0},
        };
        for (size_t i = 0; i < sizeof att_cases / sizeof att_cases[0]; i++) {
            att.n = 0;
            tb_bytes(&att, att_cases[i].field, zeros, att_cases[i].len);
            b.n = 0;
            tb_bytes(&b, 2, att.d, att.n);
            ward_err e = content_decode_exact(b.d, b.n);
            CHECK_EQ_INT(e, att_cases[i].ok ? WARD_OK : WARD_ERR_MALFORMED);
        }
        att.n = 0;
        tb_bytes(&att, 4, "\x01", 1); /* size as bytes */
        b.n = 0;
        tb_bytes(&b, 2, att.d, att.n);
        CHECK_EQ_INT(content_decode_exact(b.d, b.n), WARD_ERR_MALFORMED);
        b.n = 0;
        tb_raw(&b, "\x0a\x05" "ab", 4); /* length past the end */
        CHECK_EQ_INT(content_decode_exact(b.d, b.n), WARD_ERR_MALFORMED);
    }

    /* An empty Content decodes to an empty struct and encodes to nothing. */
    {
        ward_content t;
        memset(&t, 0x5a, sizeof t);
        CHECK_EQ_INT(ward_content_decode(&t, (const uint8_t *)"", 0), WARD_OK);
        CHECK(t.body == NULL);
        CHECK_EQ_INT(t.body_len, 0);
        CHECK(t.attachments == NULL);
        CHECK_EQ_INT(t.n_attachments, 0);
        CHECK_EQ_INT(t.has_franking_key, 0);
        CHECK_EQ_INT(t.sent_at, 0);
        CHECK_EQ_INT(t.group_id_len, 0);
        ward_content_release(&t);
        ward_content_init(&t);
        ward_buf o;
        ward_buf_init(&o, 0);
        CHECK_EQ_INT(ward_content_encode(&t, &o), WARD_OK);
        CHECK_EQ_INT(o.len, 0);
        ward_buf_release(&o);
    }

    /* Hand-built bytes from the schema in content.c. */
    {
        uint8_t key[32], sha[32], fk[32];
        for (int i = 0; i < 32; i++) {
            key[i] = (uint8_t)(0x40 + i);
            sha[i] = (uint8_t)(0x60 + i);
            fk[i] = (uint8_t)(0x80 + i);
        }
        uint8_t att[2 + 3 + 2 + 32 + 2 + 32 + 3 + 2 + 10 + 2 + 5 + 2];
        size_t an = 0;
        att[an++] = 0x0a; /* id "abc" */
        att[an++] = 3;
        memcpy(att + an, "abc", 3);
        an += 3;
        att[an++] = 0x12; /* key */
        att[an++] = 32;
        memcpy(att + an, key, 32);
        an += 32;
        att[an++] = 0x1a; /* sha256 */
        att[an++] = 32;
        memcpy(att + an, sha, 32);
        an += 32;
        att[an++] = 0x20; /* size 1000 = e8 07 */
        att[an++] = 0xe8;
        att[an++] = 0x07;
        att[an++] = 0x2a; /* content type */
        att[an++] = 10;
        memcpy(att + an, "image/jpeg", 10);
        an += 10;
        att[an++] = 0x32; /* file name */
        att[an++] = 5;
        memcpy(att + an, "x.jpg", 5);
        an += 5;
        att[an++] = 0x38; /* unknown field 7 = 1 */
        att[an++] = 0x01;
        REQUIRE(an == sizeof att);

        uint8_t msg[7 + 2 + sizeof att + 34 + 7 + 6 + 3];
        size_t n = 0;
        msg[n++] = 0x0a; /* body "hello" */
        msg[n++] = 5;
        memcpy(msg + n, "hello", 5);
        n += 5;
        msg[n++] = 0x12; /* attachment */
        msg[n++] = (uint8_t)an;
        memcpy(msg + n, att, an);
        n += an;
        msg[n++] = 0x1a; /* franking key */
        msg[n++] = 32;
        memcpy(msg + n, fk, 32);
        n += 32;
        /* sent_at 1700000000123 = fb d0 95 ff bc 31 */
        static const uint8_t sent[7] = {0x20, 0xfb, 0xd0, 0x95,
                                        0xff, 0xbc, 0x31};
        memcpy(msg + n, sent, 7);
        n += 7;
        msg[n++] = 0x2a; /* group id de ad be ef */
        msg[n++] = 4;
        msg[n++] = 0xde;
        msg[n++] = 0xad;
        msg[n++] = 0xbe;
        msg[n++] = 0xef;
        msg[n++] = 0x4a; /* unknown field 9, bytes "z" */
        msg[n++] = 1;
        msg[n++] = 'z';
        REQUIRE(n == sizeof msg);

        ward_content t;
        CHECK_EQ_INT(ward_content_decode(&t, msg, n), WARD_OK);
        CHECK(t.body && strcmp(t.body, "hello") == 0);
        CHECK_EQ_INT(t.body_len, 5);
        CHECK_EQ_INT(t.n_attachments, 1);
        if (t.n_attachments == 1) {
            const ward_attachment *x = &t.attachments[0];
            CHECK(strcmp(x->id, "abc") == 0);
            CHECK_MEM(x->key, key, 32);
            CHECK_MEM(x->sha256, sha, 32);
            CHECK_EQ_INT(x->size, 1000);
            CHECK(strcmp(x->content_type, "image/jpeg") == 0);
            CHECK(strcmp(x->file_name, "x.jpg") == 0);
        }
        CHECK_EQ_INT(t.has_franking_key, 1);
        CHECK_MEM(t.franking_key, fk, 32);
        CHECK_EQ_INT(t.sent_at, 1700000000123ull);
        CHECK_EQ_INT(t.group_id_len, 4);
        CHECK_MEM(t.group_id, "\xde\xad\xbe\xef", 4);

        /* Re-encoding gives the same bytes minus the unknown fields. */
        ward_buf o;
        ward_buf_init(&o, 0);
        CHECK_EQ_INT(ward_content_encode(&t, &o), WARD_OK);
        uint8_t want[sizeof msg];
        size_t wn = 0;
        memcpy(want, msg, 9);
        want[8] = (uint8_t)(an - 2);
        wn = 9;
        memcpy(want + wn, att, an - 2);
        wn += an - 2;
        memcpy(want + wn, msg + 9 + an, n - 9 - an - 3);
        wn += n - 9 - an - 3;
        CHECK_EQ_INT(o.len, wn);
        CHECK(o.len == wn && memcmp(o.data, want, wn) == 0);
        ward_buf_release(&o);
        ward_content_release(&t);
    }

    ward_buf_release(&e1);
    ward_buf_release(&e2);
    ward_content_release(&c);
}

/* ------------------------------------------------------------------------ */
/* 3. Error strings                                                         */

static void test_strerror(void)
{
    const ward_err all[] = {
        WARD_OK,
        WARD_ERR_NOMEM,
        WARD_ERR_INVALID_ARG,
        WARD_ERR_TOO_BIG,
        WARD_ERR_IO,
        WARD_ERR_INTERNAL,
        WARD_ERR_USAGE,
        WARD_ERR_CRYPTO,
        WARD_ERR_AUTH,
        WARD_ERR_MALFORMED,
        WARD_ERR_VERSION,
        WARD_ERR_DUPLICATE,
        WARD_ERR_TOO_FAR_AHEAD,
        WARD_ERR_UNTRUSTED_IDENTITY,
        WARD_ERR_NO_SESSION,
        WARD_ERR_NO_PREKEY,
        WARD_ERR_BAD_STATE,
        WARD_ERR_NOT_FOUND,
        WARD_ERR_EXISTS,
        WARD_ERR_STORE,
        WARD_ERR_LIMIT,
    };
    const size_t n = sizeof all / sizeof all[0];
    const char *unknown = ward_strerror((ward_err)-12345);
    CHECK(unknown != NULL);
    int empty = 0, same = 0, is_unknown = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = ward_strerror(all[i]);
        if (!s || !*s) {
            empty++;
            continue;
        }
        if (unknown && strcmp(s, unknown) == 0)
            is_unknown++;
        for (size_t k = 0; k < i; k++) {
            const char *t = ward_strerror(all[k]);
            if (t && strcmp(s, t) == 0)
                same++;
        }
    }
    CHECK_EQ_INT(empty, 0);
    CHECK_EQ_INT(same, 0);
    CHECK_EQ_INT(is_unknown, 0);
    /* The persisted numbering (err.h: never renumber). */
    CHECK_EQ_INT(WARD_ERR_MALFORMED, -200);
    CHECK_EQ_INT(WARD_ERR_BAD_STATE, -207);
    CHECK_EQ_INT(WARD_ERR_NOT_FOUND, -300);
}

/* An empty body passed as (NULL, 0), as ward_session_encrypt accepts it.
 * Run last: under UBSan a memcpy from NULL aborts the program. */
static void test_content_empty_body_null(void)
{
    ward_content c;
    ward_content_init(&c);
    CHECK_EQ_INT(ward_content_set_body(&c, NULL, 0), WARD_OK);
    CHECK_EQ_INT(c.body_len, 0);
    CHECK(c.body == NULL || c.body[0] == 0);
    ward_content_release(&c);
}

/* Loading refuses two one-time prekeys with one id (format 1: "WPK" 1,
 * u32 n signed (0 here), u32 n one-time, then (u32 id, 32 private, 32
 * public) each); imported private keys are stored clamped. */
static void test_prekeys_import_rules(void)
{
    ward_prekeys *pk = NULL, *back = NULL;
    ward_buf b;
    uint8_t raw[32];
    REQUIRE(ward_prekeys_new(&pk) == WARD_OK);
    memset(raw, 0xff, sizeof raw); /* unclamped: low bits and top bit set */
    CHECK_EQ_INT(ward_prekeys_add_onetime(pk, 5, raw), WARD_OK);
    raw[0] = 0x07;
    CHECK_EQ_INT(ward_prekeys_add_onetime(pk, 6, raw), WARD_OK);
    ward_buf_init(&b, 0);
    REQUIRE(ward_prekeys_serialize(pk, &b) == WARD_OK);
    REQUIRE(b.len == 4 + 4 + 4 + 2 * (4 + 32 + 32));
    const uint8_t *first = b.data + 12 + 4; /* first private key */
    CHECK_EQ_INT(first[0], 0xf8);  /* 0xff & 248 */
    CHECK_EQ_INT(first[31], 0x7f); /* (0xff & 127) | 64 */
    CHECK_EQ_INT(ward_prekeys_deserialize(&back, b.data, b.len), WARD_OK);
    ward_prekeys_free(back);
    back = NULL;
    /* Give the second key the first one's id. */
    memcpy(b.data + 12 + 68, b.data + 12, 4);
    CHECK_EQ_INT(ward_prekeys_deserialize(&back, b.data, b.len),
                 WARD_ERR_BAD_STATE);
    CHECK(back == NULL);
    ward_buf_release(&b);
    ward_prekeys_free(pk);
}

int main(void)
{
    REQUIRE(ward_crypto_init() == WARD_OK);
    test_state_formats();
    test_prekeys_store();
    test_prekeys_import_rules();
    test_content();
    test_strerror();
    test_content_empty_body_null();
    return wtest_done("test_proto_state");
}
