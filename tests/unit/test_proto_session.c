/*
 * Unit tests for the proto module's sessions: X3DH and the Double Ratchet,
 * out-of-order delivery, limits, atomicity of failed decryption, the key
 * schedule's known answers, identity trust and re-keying.
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

/* ------------------------------------------------------------------------ */
/* Helpers used only here                                                   */

/* Finds top-level field |num| (varint or length-delimited) in protobuf bytes:
 * the offset of its key and its total length. 1 if found. */
static size_t rd_varint(const uint8_t *p, size_t n, size_t *i, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; *i < n && shift < 64; shift += 7) {
        uint8_t c = p[(*i)++];
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return 1;
    }
    return 0;
}

static int pb_span(const uint8_t *p, size_t n, uint32_t num, size_t *off,
                   size_t *len)
{
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        uint64_t key, v;
        if (!rd_varint(p, n, &i, &key))
            return 0;
        if ((key & 7) == 0) {
            if (!rd_varint(p, n, &i, &v))
                return 0;
        } else if ((key & 7) == 2) {
            if (!rd_varint(p, n, &i, &v) || v > n - i)
                return 0;
            i += (size_t)v;
        } else {
            return 0;
        }
        if ((key >> 3) == num) {
            *off = start;
            *len = i - start;
            return 1;
        }
    }
    return 0;
}

static int prekeys_are(const ward_prekeys *pk, const ward_buf *snap)
{
    ward_buf b;
    snap_prekeys(pk, &b);
    int same = buf_same(&b, snap);
    ward_buf_release(&b);
    return same;
}

static ward_session *sess_copy(const ward_session *s)
{
    ward_buf b;
    snap_session(s, &b);
    ward_session *c = sess_load(&b);
    ward_buf_release(&b);
    return c;
}

/* ------------------------------------------------------------------------ */
/* 1. Sessions                                                              */

static void test_session_first_messages(void)
{
    peer alice, bob, carol;
    peer_make(&alice, 1, 1, 0);
    peer_make(&bob, 1, 100, 5);
    peer_make(&carol, 1, 1, 0);
    uint8_t alice_pub[33], bob_pub[33], tmp[33];
    ward_identity_public(alice.id, alice_pub);
    ward_identity_public(bob.id, bob_pub);
    CHECK_EQ_INT(alice_pub[0], 0x05);

    ward_bundle b;
    CHECK_EQ_INT(ward_prekeys_bundle(bob.pk, bob.id, 7, 1, 100, &b), WARD_OK);
    CHECK_EQ_INT(b.has_prekey, 1);
    CHECK_EQ_INT(b.prekey_id, 100);
    CHECK_EQ_INT(b.signed_prekey_id, 1);
    CHECK_EQ_INT(b.device_id, 7);
    CHECK_EQ_INT(b.registration_id, ward_identity_registration_id(bob.id));
    CHECK_MEM(b.identity, bob_pub, 33);
    CHECK(b.prekey[0] == 0x05 && b.signed_prekey[0] == 0x05);
    /* The signature covers the 33-byte serialised signed prekey. */
    CHECK_EQ_INT(ward_xeddsa_verify(b.signed_prekey_sig, b.identity + 1,
                                    b.signed_prekey, 33),
                 WARD_OK);

    ward_session *as = sess_new();
    CHECK(!ward_session_is_ready(as));
    CHECK_EQ_INT(ward_session_remote_identity(as, tmp), 0);
    ward_buf out;
    ward_buf_init(&out, 0);
    int type = -7;
    CHECK_EQ_INT(ward_session_encrypt(as, (const uint8_t *)"x", 1, &out,
                                      &type),
                 WARD_ERR_NO_SESSION);
    CHECK_EQ_INT(out.len, 0);
    CHECK_EQ_INT(type, -7);

    CHECK_EQ_INT(ward_session_init_from_bundle(as, alice.id, &b), WARD_OK);
    CHECK(ward_session_is_ready(as));
    /* API misuse: NULL where bytes are due. */
    CHECK_EQ_INT(ward_session_encrypt(as, NULL, 5, &out, &type),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(out.len, 0);
    CHECK_EQ_INT(ward_session_remote_identity(as, tmp), 1);
    CHECK_MEM(tmp, bob_pub, 33);

    wmsg m1 = enc_str(as, "hello bob"), m2 = enc_str(as, "again");
    CHECK_EQ_INT(m1.type, WARD_MSG_PREKEY);
    CHECK_EQ_INT(m2.type, WARD_MSG_PREKEY);

    /* What the PreKeySignalMessage carries. */
    ward_prekey_msg pm, pm2;
    CHECK_EQ_INT(ward_prekey_msg_parse(&pm, m1.p, m1.n), WARD_OK);
    CHECK_EQ_INT(ward_prekey_msg_parse(&pm2, m2.p, m2.n), WARD_OK);
    CHECK_EQ_INT(pm.version, 0x33);
    CHECK_EQ_INT(m1.p[0], 0x33);
    CHECK_EQ_INT(pm.has_prekey_id, 1);
    CHECK_EQ_INT(pm.prekey_id, 100);
    CHECK_EQ_INT(pm.signed_prekey_id, 1);
    CHECK_EQ_INT(pm.registration_id, ward_identity_registration_id(alice.id));
    CHECK_MEM(pm.identity_key, alice_pub + 1, 32);
    CHECK_EQ_INT(pm.message.version, 0x33);
    CHECK_EQ_INT(pm.message.counter, 0);
    CHECK_EQ_INT(pm.message.previous_counter, 0);
    CHECK_EQ_INT(pm.message.ciphertext_len, 16); /* 9 bytes, PKCS#7 */
    CHECK_EQ_INT(pm2.message.counter, 1);
    CHECK_EQ_INT(pm2.message.ciphertext_len, 16);
    CHECK_MEM(pm2.base_key, pm.base_key, 32);
    CHECK_MEM(pm2.message.ratchet_key, pm.message.ratchet_key, 32);
    CHECK(memcmp(pm.base_key, pm.message.ratchet_key, 32) != 0);

    /* Bob: the one-time prekey goes only once the message decrypted. */
    ward_session *bs = sess_new();
    CHECK_EQ_INT(ward_prekeys_onetime_count(bob.pk), 5);
    DEC_STR(bs, &bob, &m1, "hello bob");
    CHECK_EQ_INT(ward_prekeys_onetime_count(bob.pk), 4);
    id_list ids = {{0}, {{0}}, 0};
    ward_prekeys_each_onetime(bob.pk, collect_id, &ids);
    CHECK_EQ_INT(ids.n, 4);
    CHECK(!has_id(&ids, 100));
    CHECK(has_id(&ids, 101) && has_id(&ids, 104));
    CHECK(ward_session_is_ready(bs));
    CHECK_EQ_INT(ward_session_remote_identity(bs, tmp), 1);
    CHECK_MEM(tmp, alice_pub, 33);
    DEC_STR(bs, &bob, &m2, "again");
    CHECK_EQ_INT(ward_prekeys_onetime_count(bob.pk), 4);

    /* Alice keeps sending PreKeySignalMessages until Bob answers. */
    wmsg m3 = enc_str(as, "still waiting");
    CHECK_EQ_INT(m3.type, WARD_MSG_PREKEY);
    DEC_STR(bs, &bob, &m3, "still waiting");

    wmsg r1 = enc_str(bs, "hi alice");
    CHECK_EQ_INT(r1.type, WARD_MSG_SIGNAL);
    ward_signal_msg sm;
    CHECK_EQ_INT(ward_signal_msg_parse(&sm, r1.p, r1.n), WARD_OK);
    CHECK_EQ_INT(sm.counter, 0);
    DEC_STR(as, &alice, &r1, "hi alice");

    wmsg m4 = enc_str(as, "now a signal message");
    CHECK_EQ_INT(m4.type, WARD_MSG_SIGNAL);
    CHECK_EQ_INT(ward_signal_msg_parse(&sm, m4.p, m4.n), WARD_OK);
    CHECK_EQ_INT(sm.counter, 0);
    /* libsignal: previousCounter = (last chain's next index) - 1 = 3 - 1. */
    CHECK_EQ_INT(sm.previous_counter, 2);
    CHECK_EQ_INT(sm.ciphertext_len, 32); /* 20 bytes -> two blocks */
    CHECK(memcmp(sm.ratchet_key, pm.message.ratchet_key, 32) != 0);
    DEC_STR(bs, &bob, &m4, "now a signal message");

    /* Replays. */
    CHECK_EQ_INT(dec_err(bs, &bob, &m1), WARD_ERR_DUPLICATE);
    CHECK_EQ_INT(dec_err(bs, &bob, &m2), WARD_ERR_DUPLICATE);
    CHECK_EQ_INT(dec_err(bs, &bob, &m3), WARD_ERR_DUPLICATE);
    CHECK_EQ_INT(dec_err(bs, &bob, &m4), WARD_ERR_DUPLICATE);
    CHECK_EQ_INT(dec_err(as, &alice, &r1), WARD_ERR_DUPLICATE);
    CHECK_EQ_INT(ward_prekeys_onetime_count(bob.pk), 4);

    /* Output buffers are appended to. */
    {
        ward_buf o, pt;
        ward_buf_init(&o, 0);
        ward_buf_init(&pt, 0);
        REQUIRE(ward_buf_append(&o, "PFX", 3) == WARD_OK);
        REQUIRE(ward_buf_append(&pt, "pt:", 3) == WARD_OK);
        type = 0;
        CHECK_EQ_INT(ward_session_encrypt(as, (const uint8_t *)"tail", 4, &o,
                                          &type),
                     WARD_OK);
        CHECK_EQ_INT(type, WARD_MSG_SIGNAL);
        CHECK(o.len > 3 && memcmp(o.data, "PFX", 3) == 0);
        CHECK_EQ_INT(ward_session_decrypt(bs, bob.id, bob.pk, type,
                                          o.data + 3, o.len - 3, &pt),
                     WARD_OK);
        CHECK_EQ_INT(pt.len, 7);
        CHECK(pt.len == 7 && memcmp(pt.data, "pt:tail", 7) == 0);
        ward_buf_release(&o);
        ward_buf_release(&pt);
    }

    /* A SignalMessage to a session that has none. */
    {
        ward_session *empty = sess_new();
        CHECK_EQ_INT(dec_err(empty, &bob, &m4), WARD_ERR_NO_SESSION);
        CHECK(!ward_session_is_ready(empty));
        ward_session_free(empty);
    }

    /* A second session with the same one-time prekey: Carol, fresh. */
    {
        ward_session *cs = sess_new(), *bcs = sess_new();
        CHECK_EQ_INT(ward_session_init_from_bundle(cs, carol.id, &b), WARD_OK);
        wmsg c1 = enc_str(cs, "carol here");
        CHECK_EQ_INT(c1.type, WARD_MSG_PREKEY);
        ward_buf ps, ss;
        snap_prekeys(bob.pk, &ps);
        snap_session(bcs, &ss);
        CHECK_EQ_INT(dec_err(bcs, &bob, &c1), WARD_ERR_NO_PREKEY);
        CHECK(prekeys_are(bob.pk, &ps));
        CHECK(session_is(bcs, &ss));
        CHECK(!ward_session_is_ready(bcs));
        wmsg_free(&c1);
        ward_buf_release(&ps);
        ward_buf_release(&ss);
        ward_session_free(cs);
        ward_session_free(bcs);
    }
    /* ... and Alice starting over from the same stale bundle. */
    {
        ward_session *as2 = sess_new();
        CHECK_EQ_INT(ward_session_init_from_bundle(as2, alice.id, &b),
                     WARD_OK);
        wmsg a1 = enc_str(as2, "restart");
        ward_buf ps, ss;
        snap_prekeys(bob.pk, &ps);
        snap_session(bs, &ss);
        CHECK_EQ_INT(dec_err(bs, &bob, &a1), WARD_ERR_NO_PREKEY);
        CHECK(prekeys_are(bob.pk, &ps));
        CHECK(session_is(bs, &ss));
        wmsg_free(&a1);
        ward_buf_release(&ps);
        ward_buf_release(&ss);
        ward_session_free(as2);
    }
    /* The conversation is unharmed. */
    wmsg m5 = enc_str(as, "still here");
    DEC_STR(bs, &bob, &m5, "still here");

    ward_buf_release(&out);
    wmsg_free(&m1);
    wmsg_free(&m2);
    wmsg_free(&m3);
    wmsg_free(&m4);
    wmsg_free(&m5);
    wmsg_free(&r1);
    ward_session_free(as);
    ward_session_free(bs);
    peer_free(&alice);
    peer_free(&bob);
    peer_free(&carol);
}

static void test_session_bundles(void)
{
    peer alice, bob;
    peer_make(&alice, 1, 1, 0);
    peer_make(&bob, 1, 200, 3);
    ward_bundle b, t;

    /* Unknown ids when building a bundle; the output stays untouched. */
    {
        ward_bundle pattern;
        memset(&b, 0x5c, sizeof b);
        memset(&pattern, 0x5c, sizeof pattern);
        CHECK_EQ_INT(ward_prekeys_bundle(bob.pk, bob.id, 1, 2, 0, &b),
                     WARD_ERR_NO_PREKEY);
        CHECK_MEM(&b, &pattern, sizeof b);
        CHECK_EQ_INT(ward_prekeys_bundle(bob.pk, bob.id, 1, 1, 999, &b),
                     WARD_ERR_NO_PREKEY);
        CHECK_MEM(&b, &pattern, sizeof b);
    }

    /* Without a one-time prekey. */
    {
        CHECK_EQ_INT(ward_prekeys_bundle(bob.pk, bob.id, 1, 1, 0, &b),
                     WARD_OK);
        CHECK_EQ_INT(b.has_prekey, 0);
        ward_session *as = sess_new(), *bs = sess_new();
        CHECK_EQ_INT(ward_session_init_from_bundle(as, alice.id, &b), WARD_OK);
        wmsg m = enc_str(as, "no one-time key");
        CHECK_EQ_INT(m.type, WARD_MSG_PREKEY);
        ward_prekey_msg pm;
        CHECK_EQ_INT(ward_prekey_msg_parse(&pm, m.p, m.n), WARD_OK);
        CHECK_EQ_INT(pm.has_prekey_id, 0);
        CHECK_EQ_INT(pm.signed_prekey_id, 1);
        DEC_STR(bs, &bob, &m, "no one-time key");
        CHECK_EQ_INT(ward_prekeys_onetime_count(bob.pk), 3);
        wmsg r = enc_str(bs, "reply");
        DEC_STR(as, &alice, &r, "reply");
        wmsg_free(&m);
        wmsg_free(&r);
        ward_session_free(as);
        ward_session_free(bs);
    }

    bundle_of(&bob, 1, 200, &b);
    ward_session *as = sess_new();
    ward_buf empty;
    snap_session(as, &empty);

    /* Tampered signature, signed prekey or identity: WARD_ERR_AUTH. */
    const size_t sig_bits[] = {0, 77, 255, 256, 500, 511};
    for (size_t i = 0; i < sizeof sig_bits / sizeof sig_bits[0]; i++) {
        t = b;
        t.signed_prekey_sig[sig_bits[i] / 8] ^=
            (uint8_t)(1u << (sig_bits[i] % 8));
        CHECK_EQ_INT(ward_session_init_from_bundle(as, alice.id, &t),
                     WARD_ERR_AUTH);
    }
    t = b;
    t.signed_prekey[9] ^= 0x10;
    CHECK_EQ_INT(ward_session_init_from_bundle(as, alice.id, &t),
                 WARD_ERR_AUTH);
    {
        peer mallory;
        peer_make(&mallory, 1, 1, 0);
        t = b;
        ward_identity_public(mallory.id, t.identity);
        CHECK_EQ_INT(ward_session_init_from_bundle(as, alice.id, &t),
                     WARD_ERR_AUTH);
        peer_free(&mallory);
    }
    CHECK(session_is(as, &empty));
    CHECK(!ward_session_is_ready(as));

    /* Keys without the 0x05 type byte. */
    t = b;
    t.identity[0] = 0x06;
    CHECK_EQ_INT(ward_session_init_from_bundle(as, alice.id, &t),
                 WARD_ERR_MALFORMED);
    t = b;
    t.signed_prekey[0] = 0x00;
    CHECK_EQ_INT(ward_session_init_from_bundle(as, alice.id, &t),
                 WARD_ERR_MALFORMED);
    t = b;
    t.prekey[0] = 0x04;
    CHECK_EQ_INT(ward_session_init_from_bundle(as, alice.id, &t),
                 WARD_ERR_MALFORMED);

    /* Low-order keys (the all-zero u-coordinate): WARD_ERR_CRYPTO. */
    {
        uint8_t zero[33] = {0x05};
        t = b;
        memcpy(t.signed_prekey, zero, 33);
        REQUIRE(ward_identity_sign(bob.id, zero, 33, t.signed_prekey_sig) ==
                WARD_OK);
        CHECK_EQ_INT(ward_session_init_from_bundle(as, alice.id, &t),
                     WARD_ERR_CRYPTO);
        t = b;
        memcpy(t.prekey, zero, 33);
        CHECK_EQ_INT(ward_session_init_from_bundle(as, alice.id, &t),
                     WARD_ERR_CRYPTO);
    }
    CHECK(session_is(as, &empty));

    /* Ids Bob does not have (the signature does not cover them). */
    {
        ward_buf ps;
        snap_prekeys(bob.pk, &ps);
        t = b;
        t.signed_prekey_id = 99;
        ward_session *as2 = sess_new(), *bs2 = sess_new();
        CHECK_EQ_INT(ward_session_init_from_bundle(as2, alice.id, &t),
                     WARD_OK);
        wmsg m = enc_str(as2, "wrong signed id");
        CHECK_EQ_INT(dec_err(bs2, &bob, &m), WARD_ERR_NO_PREKEY);
        CHECK(prekeys_are(bob.pk, &ps));
        CHECK(!ward_session_is_ready(bs2));
        wmsg_free(&m);
        ward_session_free(as2);
        ward_session_free(bs2);

        t = b;
        t.prekey_id = 999;
        as2 = sess_new();
        bs2 = sess_new();
        CHECK_EQ_INT(ward_session_init_from_bundle(as2, alice.id, &t),
                     WARD_OK);
        m = enc_str(as2, "wrong one-time id");
        CHECK_EQ_INT(dec_err(bs2, &bob, &m), WARD_ERR_NO_PREKEY);
        CHECK(prekeys_are(bob.pk, &ps));
        wmsg_free(&m);
        ward_session_free(as2);
        ward_session_free(bs2);
        ward_buf_release(&ps);
    }

    /* The untampered bundle still works after all that. */
    CHECK_EQ_INT(ward_session_init_from_bundle(as, alice.id, &b), WARD_OK);
    ward_session *bs = sess_new();
    wmsg m = enc_str(as, "finally");
    DEC_STR(bs, &bob, &m, "finally");
    CHECK_EQ_INT(ward_prekeys_onetime_count(bob.pk), 2);
    wmsg_free(&m);

    ward_buf_release(&empty);
    ward_session_free(as);
    ward_session_free(bs);
    peer_free(&alice);
    peer_free(&bob);
}

static void fill_pattern(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 31 + i * 7);
}

static void test_session_alternating(void)
{
    peer alice, bob;
    peer_make(&alice, 1, 1, 0);
    peer_make(&bob, 1, 1, 2);
    ward_session *as, *bs;
    establish(&alice, &bob, 1, &as, &bs);

    uint8_t buf[64];
    int bad_type = 0, bad_dec = 0, bad_wire = 0;
    for (unsigned i = 0; i < 100; i++) {
        size_t n = (i * 7) % 50; /* crosses every padding boundary */
        fill_pattern(buf, n, i);
        int a_to_b = i % 2 == 0;
        ward_session *from = a_to_b ? as : bs, *to = a_to_b ? bs : as;
        peer *reader = a_to_b ? &bob : &alice;
        wmsg m = enc(from, buf, n);
        if (m.type != WARD_MSG_SIGNAL)
            bad_type++;
        ward_signal_msg sm;
        /* Strictly alternating: every message opens a new chain, the
         * previous chain held one message (previousCounter = 1 - 1). */
        if (ward_signal_msg_parse(&sm, m.p, m.n) != WARD_OK ||
            sm.counter != 0 || sm.previous_counter != 0 ||
            sm.ciphertext_len != (n / 16 + 1) * 16)
            bad_wire++;
        if (!dec_ok(to, reader, &m, buf, n))
            bad_dec++;
        wmsg_free(&m);
    }
    CHECK_EQ_INT(bad_type, 0);
    CHECK_EQ_INT(bad_dec, 0);
    CHECK_EQ_INT(bad_wire, 0);

    /* Bursts: three in a row then the other way. */
    wmsg a[3];
    for (int i = 0; i < 3; i++)
        a[i] = enc_str(as, "burst");
    ward_signal_msg sm;
    CHECK_EQ_INT(ward_signal_msg_parse(&sm, a[2].p, a[2].n), WARD_OK);
    CHECK_EQ_INT(sm.counter, 2);
    for (int i = 0; i < 3; i++)
        DEC_STR(bs, &bob, &a[i], "burst");
    wmsg r = enc_str(bs, "after burst");
    DEC_STR(as, &alice, &r, "after burst");
    wmsg a4 = enc_str(as, "next");
    CHECK_EQ_INT(ward_signal_msg_parse(&sm, a4.p, a4.n), WARD_OK);
    CHECK_EQ_INT(sm.counter, 0);
    CHECK_EQ_INT(sm.previous_counter, 2);
    DEC_STR(bs, &bob, &a4, "next");

    for (int i = 0; i < 3; i++)
        wmsg_free(&a[i]);
    wmsg_free(&r);
    wmsg_free(&a4);
    ward_session_free(as);
    ward_session_free(bs);
    peer_free(&alice);
    peer_free(&bob);
}

static void test_session_out_of_order(void)
{
    peer alice, bob;
    peer_make(&alice, 1, 1, 0);
    peer_make(&bob, 1, 1, 2);
    ward_session *as, *bs;
    establish(&alice, &bob, 1, &as, &bs);

    enum { N = 50 };
    wmsg m[N];
    char text[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(text[i], sizeof text[i], "msg %d", i);
        m[i] = enc_str(as, text[i]);
        ward_signal_msg sm;
        CHECK(ward_signal_msg_parse(&sm, m[i].p, m[i].n) == WARD_OK &&
              sm.counter == (uint32_t)i);
    }
    int bad = 0;
    for (int i = N - 1; i >= 0; i--) {
        if (!dec_ok(bs, &bob, &m[i], text[i], strlen(text[i])))
            bad++;
        /* A just-decrypted message replayed at once. */
        if (i == N - 1 || i == N / 2)
            CHECK_EQ_INT(dec_err(bs, &bob, &m[i]), WARD_ERR_DUPLICATE);
    }
    CHECK_EQ_INT(bad, 0);
    /* Every one replayed, the skipped-then-used ones included. */
    int dup = 0;
    for (int i = 0; i < N; i++)
        dup += dec_err(bs, &bob, &m[i]) == WARD_ERR_DUPLICATE;
    CHECK_EQ_INT(dup, N);

    /* The conversation goes on. */
    wmsg r = enc_str(bs, "got them all");
    DEC_STR(as, &alice, &r, "got them all");
    wmsg_free(&r);
    for (int i = 0; i < N; i++)
        wmsg_free(&m[i]);
    ward_session_free(as);
    ward_session_free(bs);

    /* PreKeySignalMessages out of order: the third one creates Bob's
     * session, the first two then come from skipped keys. */
    {
        ward_bundle b;
        bundle_of(&bob, 1, 2, &b);
        as = sess_new();
        bs = sess_new();
        CHECK_EQ_INT(ward_session_init_from_bundle(as, alice.id, &b), WARD_OK);
        wmsg p0 = enc_str(as, "p0"), p1 = enc_str(as, "p1"),
             p2 = enc_str(as, "p2");
        size_t before = ward_prekeys_onetime_count(bob.pk);
        DEC_STR(bs, &bob, &p2, "p2");
        CHECK_EQ_INT(ward_prekeys_onetime_count(bob.pk), before - 1);
        DEC_STR(bs, &bob, &p0, "p0");
        DEC_STR(bs, &bob, &p1, "p1");
        CHECK_EQ_INT(ward_prekeys_onetime_count(bob.pk), before - 1);
        CHECK_EQ_INT(dec_err(bs, &bob, &p0), WARD_ERR_DUPLICATE);
        CHECK_EQ_INT(dec_err(bs, &bob, &p2), WARD_ERR_DUPLICATE);
        wmsg_free(&p0);
        wmsg_free(&p1);
        wmsg_free(&p2);
        ward_session_free(as);
        ward_session_free(bs);
    }
    peer_free(&alice);
    peer_free(&bob);
}

static void test_session_too_far_ahead(void)
{
    peer alice, bob;
    peer_make(&alice, 1, 1, 0);
    peer_make(&bob, 1, 1, 2);
    ward_session *as, *bs;
    establish(&alice, &bob, 1, &as, &bs);

    /* Alice's new sending chain: counters 0 .. 2002. */
    enum { N = 2003 };
    wmsg *m = calloc(N, sizeof *m);
    REQUIRE(m);
    uint8_t pt[4];
    for (uint32_t i = 0; i < N; i++) {
        memcpy(pt, &i, 4);
        m[i] = enc(as, pt, 4);
    }
    ward_signal_msg sm;
    CHECK(ward_signal_msg_parse(&sm, m[N - 1].p, m[N - 1].n) == WARD_OK &&
          sm.counter == N - 1);

    /* A new chain at index 0: counter 2000 is exactly 2000 ahead, 2001 one
     * too many. */
    {
        ward_session *c = sess_copy(bs);
        ward_buf snap;
        snap_session(c, &snap);
        CHECK_EQ_INT(dec_err(c, &bob, &m[2001]), WARD_ERR_TOO_FAR_AHEAD);
        CHECK(session_is(c, &snap));
        CHECK_EQ_INT(dec_err(c, &bob, &m[2002]), WARD_ERR_TOO_FAR_AHEAD);
        uint32_t v = 2000;
        CHECK(dec_ok(c, &bob, &m[2000], &v, 4));
        /* All 2,000 skipped keys were kept. */
        v = 0;
        CHECK(dec_ok(c, &bob, &m[0], &v, 4));
        v = 1999;
        CHECK(dec_ok(c, &bob, &m[1999], &v, 4));
        v = 1000;
        CHECK(dec_ok(c, &bob, &m[1000], &v, 4));
        CHECK_EQ_INT(dec_err(c, &bob, &m[2000]), WARD_ERR_DUPLICATE);
        CHECK_EQ_INT(dec_err(c, &bob, &m[0]), WARD_ERR_DUPLICATE);
        v = 2001;
        CHECK(dec_ok(c, &bob, &m[2001], &v, 4));
        v = 2002;
        CHECK(dec_ok(c, &bob, &m[2002], &v, 4));
        ward_buf_release(&snap);
        ward_session_free(c);
    }
    /* An existing chain at index 1: 2001 is 2000 ahead, 2002 too far. */
    {
        ward_session *c = sess_copy(bs);
        uint32_t v = 0;
        CHECK(dec_ok(c, &bob, &m[0], &v, 4));
        ward_buf snap;
        snap_session(c, &snap);
        CHECK_EQ_INT(dec_err(c, &bob, &m[2002]), WARD_ERR_TOO_FAR_AHEAD);
        CHECK(session_is(c, &snap));
        v = 2001;
        CHECK(dec_ok(c, &bob, &m[2001], &v, 4));
        v = 1;
        CHECK(dec_ok(c, &bob, &m[1], &v, 4));
        v = 2000;
        CHECK(dec_ok(c, &bob, &m[2000], &v, 4));
        v = 2002;
        CHECK(dec_ok(c, &bob, &m[2002], &v, 4));
        ward_buf_release(&snap);
        ward_session_free(c);
    }
    for (uint32_t i = 0; i < N; i++)
        wmsg_free(&m[i]);
    free(m);
    ward_session_free(as);
    ward_session_free(bs);
    peer_free(&alice);
    peer_free(&bob);
}

/* Delivers |bytes| as |type|: it must fail, leaving the session, the prekeys
 * and the plaintext buffer as they were. Returns the error. */
static ward_err fails_cleanly(ward_session *s, peer *self, int type,
                              const uint8_t *bytes, size_t n)
{
    ward_buf ss, ps, pt;
    snap_session(s, &ss);
    snap_prekeys(self->pk, &ps);
    ward_buf_init(&pt, 0);
    REQUIRE(ward_buf_append(&pt, "pre", 3) == WARD_OK);
    uint8_t *c = dup_exact(bytes, n);
    ward_err e =
        ward_session_decrypt(s, self->id, self->pk, type, c, n, &pt);
    free(c);
    CHECK(e != WARD_OK);
    CHECK(session_is(s, &ss));
    CHECK(prekeys_are(self->pk, &ps));
    CHECK(pt.len == 3 && memcmp(pt.data, "pre", 3) == 0);
    ward_buf_release(&ss);
    ward_buf_release(&ps);
    ward_buf_release(&pt);
    return e;
}

/* Which bit flips of a message may legitimately still decrypt. */
typedef int (*may_pass_fn)(const void *ctx, size_t byte, unsigned bit);

/* Flips each bit of |m| in turn and delivers it to *s. Each flip must fail
 * and leave session, prekeys and plaintext buffer untouched, unless
 * |may_pass| allows that bit (then the state is put back). */
static void flip_every_bit(ward_session **s, peer *self, const wmsg *m,
                           may_pass_fn may_pass, const void *ctx)
{
    ward_buf ss, ps;
    snap_session(*s, &ss);
    snap_prekeys(self->pk, &ps);
    uint8_t *c = dup_exact(m->p, m->n);
    int accepted = 0, dirty = 0;
    for (size_t i = 0; i < m->n; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            memcpy(c, m->p, m->n);
            c[i] ^= (uint8_t)(1u << bit);
            ward_buf pt;
            ward_buf_init(&pt, 0);
            REQUIRE(ward_buf_append(&pt, "pre", 3) == WARD_OK);
            ward_err e = ward_session_decrypt(*s, self->id, self->pk, m->type,
                                              c, m->n, &pt);
            int restore = 0;
            if (e == WARD_OK) {
                if (!may_pass || !may_pass(ctx, i, bit)) {
                    accepted++;
                    fprintf(stderr, "  flip of byte %zu bit %u accepted\n", i,
                            bit);
                }
                restore = 1;
            } else if (!session_is(*s, &ss) || !prekeys_are(self->pk, &ps) ||
                       pt.len != 3) {
                dirty++;
                fprintf(stderr,
                        "  flip of byte %zu bit %u (%s) changed state\n", i,
                        bit, ward_strerror(e));
                restore = 1;
            }
            if (restore) {
                ward_session_free(*s);
                *s = sess_load(&ss);
                ward_prekeys_free(self->pk);
                self->pk = prekeys_load(&ps);
            }
            ward_buf_release(&pt);
        }
    }
    CHECK_EQ_INT(accepted, 0);
    CHECK_EQ_INT(dirty, 0);
    free(c);
    ward_buf_release(&ss);
    ward_buf_release(&ps);
}

/* Truncations, and the bytes under every other type number. */
static void truncate_and_retype(ward_session *s, peer *self, const wmsg *m)
{
    int wrong = 0;
    for (size_t k = 0; k < m->n; k++)
        if (fails_cleanly(s, self, m->type, m->p, k) != WARD_ERR_MALFORMED)
            wrong++;
    CHECK_EQ_INT(wrong, 0);
    const int types[] = {WARD_MSG_SIGNAL, WARD_MSG_PREKEY, 0, 1, 4, 5, -1, 99};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (types[i] == m->type)
            continue;
        ward_err e = fails_cleanly(s, self, types[i], m->p, m->n);
        if (types[i] == WARD_MSG_SIGNAL || types[i] == WARD_MSG_PREKEY)
            CHECK_EQ_INT(e, WARD_ERR_MALFORMED);
    }
}

typedef struct prekey_ctx {
    size_t reg_off, reg_len; /* registrationId: not authenticated */
    size_t base_last;        /* last byte of the base key */
} prekey_ctx;

/* In a PreKeySignalMessage only the outer version's low nibble (libsignal
 * reads the high one), the registrationId and the base key's top bit (which
 * X25519 ignores) are outside every authenticated input. */
static int prekey_may_pass(const void *ctx, size_t byte, unsigned bit)
{
    const prekey_ctx *p = ctx;
    if (byte == 0 && bit < 4)
        return 1;
    if (byte >= p->reg_off && byte < p->reg_off + p->reg_len)
        return 1;
    return byte == p->base_last && bit == 7;
}

static void test_session_failed_decrypt(void)
{
    peer alice, bob;
    peer_make(&alice, 1, 1, 0);
    peer_make(&bob, 1, 1, 4);
    ward_session *as, *bs;
    establish(&alice, &bob, 1, &as, &bs);

    /* A: an existing chain, a message two ahead, then a skipped key. */
    wmsg m0 = enc_str(as, "zero"), m1 = enc_str(as, "one"),
         m2 = enc_str(as, "two");
    DEC_STR(bs, &bob, &m0, "zero");
    flip_every_bit(&bs, &bob, &m2, NULL, NULL);
    truncate_and_retype(bs, &bob, &m2);
    DEC_STR(bs, &bob, &m2, "two");
    flip_every_bit(&bs, &bob, &m1, NULL, NULL);
    truncate_and_retype(bs, &bob, &m1);
    DEC_STR(bs, &bob, &m1, "one");

    /* B: a message that opens a new chain (a DH ratchet step). */
    wmsg r = enc_str(bs, "reply");
    DEC_STR(as, &alice, &r, "reply");
    wmsg n0 = enc_str(as, "new chain");
    flip_every_bit(&bs, &bob, &n0, NULL, NULL);
    truncate_and_retype(bs, &bob, &n0);
    DEC_STR(bs, &bob, &n0, "new chain");

    /* D: forged answers to an initiator that is still waiting for one. */
    {
        ward_bundle b;
        bundle_of(&bob, 1, 3, &b);
        ward_session *as2 = sess_new(), *bs2 = sess_new();
        CHECK_EQ_INT(ward_session_init_from_bundle(as2, alice.id, &b),
                     WARD_OK);
        wmsg p = enc_str(as2, "first");
        DEC_STR(bs2, &bob, &p, "first");
        wmsg ans = enc_str(bs2, "answer");
        flip_every_bit(&as2, &alice, &ans, NULL, NULL);
        truncate_and_retype(as2, &alice, &ans);
        /* Still waiting: the next message is a PreKeySignalMessage. */
        wmsg p2 = enc_str(as2, "second");
        CHECK_EQ_INT(p2.type, WARD_MSG_PREKEY);
        DEC_STR(bs2, &bob, &p2, "second");
        DEC_STR(as2, &alice, &ans, "answer");
        wmsg p3 = enc_str(as2, "third");
        CHECK_EQ_INT(p3.type, WARD_MSG_SIGNAL);
        DEC_STR(bs2, &bob, &p3, "third");
        wmsg_free(&p);
        wmsg_free(&p2);
        wmsg_free(&p3);
        wmsg_free(&ans);
        ward_session_free(as2);
        ward_session_free(bs2);
    }

    /* C: a PreKeySignalMessage to a fresh session, one-time prekey and all. */
    {
        ward_bundle b;
        bundle_of(&bob, 1, 4, &b);
        ward_session *as2 = sess_new(), *bs2 = sess_new();
        CHECK_EQ_INT(ward_session_init_from_bundle(as2, alice.id, &b),
                     WARD_OK);
        wmsg p = enc_str(as2, "prekey message");
        REQUIRE(p.type == WARD_MSG_PREKEY);
        prekey_ctx ctx;
        size_t off, len;
        REQUIRE(pb_span(p.p + 1, p.n - 1, 5, &off, &len));
        ctx.reg_off = off + 1;
        ctx.reg_len = len;
        REQUIRE(pb_span(p.p + 1, p.n - 1, 2, &off, &len));
        REQUIRE(len == 35);
        ctx.base_last = 1 + off + len - 1;
        size_t before = ward_prekeys_onetime_count(bob.pk);
        flip_every_bit(&bs2, &bob, &p, prekey_may_pass, &ctx);
        truncate_and_retype(bs2, &bob, &p);
        CHECK_EQ_INT(ward_prekeys_onetime_count(bob.pk), before);
        DEC_STR(bs2, &bob, &p, "prekey message");
        CHECK_EQ_INT(ward_prekeys_onetime_count(bob.pk), before - 1);
        wmsg_free(&p);
        ward_session_free(as2);
        ward_session_free(bs2);
    }

    wmsg_free(&m0);
    wmsg_free(&m1);
    wmsg_free(&m2);
    wmsg_free(&r);
    wmsg_free(&n0);
    ward_session_free(as);
    ward_session_free(bs);
    peer_free(&alice);
    peer_free(&bob);
}

static void test_session_payload_sizes(void)
{
    peer alice, bob;
    peer_make(&alice, 1, 1, 0);
    peer_make(&bob, 1, 1, 2);
    ward_session *as, *bs;
    establish(&alice, &bob, 1, &as, &bs);

    /* Empty: one block of padding. NULL with length 0 is allowed. */
    wmsg e = enc(as, NULL, 0);
    ward_signal_msg sm;
    CHECK_EQ_INT(ward_signal_msg_parse(&sm, e.p, e.n), WARD_OK);
    CHECK_EQ_INT(sm.ciphertext_len, 16);
    CHECK(dec_ok(bs, &bob, &e, "", 0));

    /* 64 KiB, both ways. */
    size_t big = 64 * 1024;
    uint8_t *p = malloc(big);
    REQUIRE(p);
    ward_random(p, big);
    wmsg m = enc(as, p, big);
    CHECK_EQ_INT(ward_signal_msg_parse(&sm, m.p, m.n), WARD_OK);
    CHECK_EQ_INT(sm.ciphertext_len, big + 16);
    CHECK(dec_ok(bs, &bob, &m, p, big));
    wmsg r = enc(bs, p, big);
    CHECK(dec_ok(as, &alice, &r, p, big));
    wmsg e2 = enc(bs, "", 0);
    CHECK(dec_ok(as, &alice, &e2, "", 0));

    free(p);
    wmsg_free(&e);
    wmsg_free(&e2);
    wmsg_free(&m);
    wmsg_free(&r);
    ward_session_free(as);
    ward_session_free(bs);
    peer_free(&alice);
    peer_free(&bob);
}

/* ------------------------------------------------------------------------ */
/* Known answers: the key schedule of signal-wire.md, computed here from the */
/* crypto primitives alone, against what the session code sends and reads.  */

static void kat_root_step(const uint8_t root[32], const uint8_t priv[32],
                          const uint8_t pub[32], uint8_t new_root[32],
                          uint8_t chain[32])
{
    uint8_t dh[32], okm[64];
    REQUIRE(ward_x25519(dh, priv, pub) == WARD_OK);
    REQUIRE(ward_hkdf_sha256(okm, 64, dh, 32, root, 32,
                             (const uint8_t *)"WhisperRatchet", 14) ==
            WARD_OK);
    memcpy(new_root, okm, 32);
    memcpy(chain, okm + 32, 32);
}

/* The cipher key, MAC key and IV of message |counter| on chain |ck|. */
static void kat_message_keys(const uint8_t ck[32], uint32_t counter,
                             uint8_t cipher[32], uint8_t mac[32],
                             uint8_t iv[16])
{
    uint8_t c[32], seed[32], okm[80];
    const uint8_t one = 0x01, two = 0x02;
    memcpy(c, ck, 32);
    for (uint32_t i = 0; i < counter; i++)
        ward_hmac_sha256(c, c, 32, &two, 1);
    ward_hmac_sha256(seed, c, 32, &one, 1);
    REQUIRE(ward_hkdf_sha256(okm, 80, seed, 32, NULL, 0,
                             (const uint8_t *)"WhisperMessageKeys", 18) ==
            WARD_OK);
    memcpy(cipher, okm, 32);
    memcpy(mac, okm + 32, 32);
    memcpy(iv, okm + 64, 16);
}

/* 0xFF x 32 || dh1 || dh2 || dh3 [|| dh4] -> root key, chain key. */
static void kat_x3dh(const uint8_t dh[4][32], int n_dh, uint8_t root[32],
                     uint8_t chain[32])
{
    uint8_t secret[32 * 5], okm[64];
    memset(secret, 0xff, 32);
    for (int i = 0; i < n_dh; i++)
        memcpy(secret + 32 + 32 * i, dh[i], 32);
    REQUIRE(ward_hkdf_sha256(okm, 64, secret, 32 + 32 * (size_t)n_dh, NULL, 0,
                             (const uint8_t *)"WhisperText", 11) == WARD_OK);
    memcpy(root, okm, 32);
    memcpy(chain, okm + 32, 32);
}

/* Checks a SignalMessage's MAC (sender || receiver identity || body) and
 * decrypts it with chain |ck|; 1 if the MAC holds and the text is |want|. */
static int kat_open(const uint8_t *msg, size_t n, const uint8_t ck[32],
                    const uint8_t sender[33], const uint8_t receiver[33],
                    const char *want)
{
    ward_signal_msg m;
    if (ward_signal_msg_parse(&m, msg, n) != WARD_OK)
        return 0;
    uint8_t cipher[32], mac[32], iv[16], tag[32];
    kat_message_keys(ck, m.counter, cipher, mac, iv);
    ward_hmac h;
    ward_hmac_init(&h, mac, 32);
    ward_hmac_update(&h, sender, 33);
    ward_hmac_update(&h, receiver, 33);
    ward_hmac_update(&h, msg, n - 8);
    ward_hmac_final(&h, tag);
    if (memcmp(tag, msg + n - 8, 8) != 0) {
        fprintf(stderr, "  known-answer MAC differs\n");
        return 0;
    }
    ward_buf pt;
    ward_buf_init(&pt, 0);
    int ok = ward_aes256_cbc_decrypt(&pt, cipher, iv, m.ciphertext,
                                     m.ciphertext_len) == WARD_OK &&
             pt.len == strlen(want) && memcmp(pt.data, want, pt.len) == 0;
    ward_buf_release(&pt);
    return ok;
}

static void test_known_answers(void)
{
    uint8_t ika[32], ikb[32], spk[32], opk[32], eka[32], rka[32];
    for (int i = 0; i < 32; i++) {
        ika[i] = (uint8_t)(0x10 + i);
        ikb[i] = (uint8_t)(0x30 + i);
        spk[i] = (uint8_t)(0x50 + i);
        opk[i] = (uint8_t)(0x70 + i);
        eka[i] = (uint8_t)(0x90 + i);
        rka[i] = (uint8_t)(0xb0 + i);
    }
    uint8_t ika_pub[32], ikb_pub[32], spk_pub[32], opk_pub[32], eka_pub[32],
        rka_pub[32];
    REQUIRE(ward_x25519_public(ika_pub, ika) == WARD_OK);
    REQUIRE(ward_x25519_public(ikb_pub, ikb) == WARD_OK);
    REQUIRE(ward_x25519_public(spk_pub, spk) == WARD_OK);
    REQUIRE(ward_x25519_public(opk_pub, opk) == WARD_OK);
    REQUIRE(ward_x25519_public(eka_pub, eka) == WARD_OK);
    REQUIRE(ward_x25519_public(rka_pub, rka) == WARD_OK);
    uint8_t ida[33] = {0x05}, idb[33] = {0x05}, spk33[33] = {0x05};
    memcpy(ida + 1, ika_pub, 32);
    memcpy(idb + 1, ikb_pub, 32);
    memcpy(spk33 + 1, spk_pub, 32);

    /* Bob, from known keys. */
    peer bob;
    REQUIRE(ward_identity_from_private(&bob.id, ikb, 77) == WARD_OK);
    REQUIRE(ward_prekeys_new(&bob.pk) == WARD_OK);
    uint8_t sig[64];
    REQUIRE(ward_identity_sign(bob.id, spk33, 33, sig) == WARD_OK);
    REQUIRE(ward_prekeys_add_signed(bob.pk, 5, spk, sig, 1) == WARD_OK);
    REQUIRE(ward_prekeys_add_onetime(bob.pk, 9, opk) == WARD_OK);
    uint8_t pub[33];
    ward_identity_public(bob.id, pub);
    CHECK_MEM(pub, idb, 33);

    /* The test plays Alice: X3DH, her first sending chain, message 0. */
    uint8_t dh[4][32], rk0[32], ck0[32], rk1[32], cks[32];
    REQUIRE(ward_x25519(dh[0], ika, spk_pub) == WARD_OK);
    REQUIRE(ward_x25519(dh[1], eka, ikb_pub) == WARD_OK);
    REQUIRE(ward_x25519(dh[2], eka, spk_pub) == WARD_OK);
    REQUIRE(ward_x25519(dh[3], eka, opk_pub) == WARD_OK);
    kat_x3dh(dh, 4, rk0, ck0);
    kat_root_step(rk0, rka, spk_pub, rk1, cks);

    static const char text[] = "known answer from the spec";
    uint8_t cipher[32], mac[32], iv[16], tag[32];
    kat_message_keys(cks, 0, cipher, mac, iv);
    ward_buf ct;
    ward_buf_init(&ct, 0);
    REQUIRE(ward_aes256_cbc_encrypt(&ct, cipher, iv, (const uint8_t *)text,
                                    strlen(text)) == WARD_OK);
    tb sm, pm;
    uint8_t key[33] = {0x05};
    sm.n = 0;
    tb_byte(&sm, 0x33);
    memcpy(key + 1, rka_pub, 32);
    tb_bytes(&sm, 1, key, 33);
    tb_uint(&sm, 2, 0);
    tb_uint(&sm, 3, 0);
    tb_bytes(&sm, 4, ct.data, ct.len);
    ward_hmac h;
    ward_hmac_init(&h, mac, 32);
    ward_hmac_update(&h, ida, 33);
    ward_hmac_update(&h, idb, 33);
    ward_hmac_update(&h, sm.d, sm.n);
    ward_hmac_final(&h, tag);
    tb_raw(&sm, tag, 8);
    pm.n = 0;
    tb_byte(&pm, 0x33);
    tb_uint(&pm, 1, 9);
    memcpy(key + 1, eka_pub, 32);
    tb_bytes(&pm, 2, key, 33);
    tb_bytes(&pm, 3, ida, 33);
    tb_bytes(&pm, 4, sm.d, sm.n);
    tb_uint(&pm, 5, 1234);
    tb_uint(&pm, 6, 5);

    ward_session *bs = sess_new();
    wmsg m = {dup_exact(pm.d, pm.n), pm.n, WARD_MSG_PREKEY};
    DEC_STR(bs, &bob, &m, text);
    CHECK_EQ_INT(ward_prekeys_onetime_count(bob.pk), 0);
    CHECK_EQ_INT(ward_session_remote_identity(bs, pub), 1);
    CHECK_MEM(pub, ida, 33);
    wmsg_free(&m);

    /* Bob's answer: a fresh ratchet key R; his sending chain is the root
     * step from rk1 with DH(R, Alice's ratchet key). */
    wmsg r = enc_str(bs, "pong");
    CHECK_EQ_INT(r.type, WARD_MSG_SIGNAL);
    ward_signal_msg rm;
    CHECK_EQ_INT(ward_signal_msg_parse(&rm, r.p, r.n), WARD_OK);
    CHECK_EQ_INT(rm.counter, 0);
    CHECK_EQ_INT(rm.previous_counter, 0);
    uint8_t rk2[32], ckb[32];
    kat_root_step(rk1, rka, rm.ratchet_key, rk2, ckb);
    CHECK(kat_open(r.p, r.n, ckb, idb, ida, "pong"));
    wmsg r2 = enc_str(bs, "pong 2");
    CHECK(kat_open(r2.p, r2.n, ckb, idb, ida, "pong 2"));

    /* The other way: the session code as initiator, the test as Bob. */
    {
        ward_bundle b;
        REQUIRE(ward_prekeys_add_onetime(bob.pk, 10, opk) == WARD_OK);
        CHECK_EQ_INT(ward_prekeys_bundle(bob.pk, bob.id, 1, 5, 10, &b),
                     WARD_OK);
        ward_identity *alice = NULL;
        REQUIRE(ward_identity_from_private(&alice, ika, 1234) == WARD_OK);
        ward_session *as = sess_new();
        CHECK_EQ_INT(ward_session_init_from_bundle(as, alice, &b), WARD_OK);
        wmsg a = enc_str(as, "initiator known answer");
        wmsg a1 = enc_str(as, "second");
        ward_prekey_msg p;
        CHECK_EQ_INT(ward_prekey_msg_parse(&p, a.p, a.n), WARD_OK);
        CHECK_MEM(p.identity_key, ika_pub, 32);
        CHECK_EQ_INT(p.registration_id, 1234);
        CHECK_EQ_INT(p.signed_prekey_id, 5);
        CHECK_EQ_INT(p.prekey_id, 10);
        uint8_t bdh[4][32], brk0[32], bck0[32], brk1[32], bckr[32];
        REQUIRE(ward_x25519(bdh[0], spk, ika_pub) == WARD_OK);
        REQUIRE(ward_x25519(bdh[1], ikb, p.base_key) == WARD_OK);
        REQUIRE(ward_x25519(bdh[2], spk, p.base_key) == WARD_OK);
        REQUIRE(ward_x25519(bdh[3], opk, p.base_key) == WARD_OK);
        kat_x3dh(bdh, 4, brk0, bck0);
        kat_root_step(brk0, spk, p.message.ratchet_key, brk1, bckr);
        const uint8_t *inner = p.message.serialized;
        size_t inner_n = p.message.serialized_len;
        CHECK(kat_open(inner, inner_n, bckr, ida, idb,
                       "initiator known answer"));
        ward_prekey_msg p1;
        CHECK_EQ_INT(ward_prekey_msg_parse(&p1, a1.p, a1.n), WARD_OK);
        CHECK_EQ_INT(p1.message.counter, 1);
        CHECK(kat_open(p1.message.serialized, p1.message.serialized_len, bckr,
                       ida, idb, "second"));

        /* Without a one-time prekey: three DH values. */
        ward_bundle b3;
        CHECK_EQ_INT(ward_prekeys_bundle(bob.pk, bob.id, 1, 5, 0, &b3),
                     WARD_OK);
        ward_session *as3 = sess_new();
        CHECK_EQ_INT(ward_session_init_from_bundle(as3, alice, &b3), WARD_OK);
        wmsg a3 = enc_str(as3, "three");
        CHECK_EQ_INT(ward_prekey_msg_parse(&p, a3.p, a3.n), WARD_OK);
        CHECK_EQ_INT(p.has_prekey_id, 0);
        REQUIRE(ward_x25519(bdh[0], spk, ika_pub) == WARD_OK);
        REQUIRE(ward_x25519(bdh[1], ikb, p.base_key) == WARD_OK);
        REQUIRE(ward_x25519(bdh[2], spk, p.base_key) == WARD_OK);
        kat_x3dh(bdh, 3, brk0, bck0);
        kat_root_step(brk0, spk, p.message.ratchet_key, brk1, bckr);
        CHECK(kat_open(p.message.serialized, p.message.serialized_len, bckr,
                       ida, idb, "three"));

        wmsg_free(&a);
        wmsg_free(&a1);
        wmsg_free(&a3);
        ward_session_free(as);
        ward_session_free(as3);
        ward_identity_free(alice);
    }

    ward_buf_release(&ct);
    wmsg_free(&r);
    wmsg_free(&r2);
    ward_session_free(bs);
    peer_free(&bob);
}

/* libsignal keeps five receiver chains: a late message on the oldest still
 * decrypts until a sixth pushes that chain out. */
static void test_session_old_chains(void)
{
    peer alice, bob;
    peer_make(&alice, 1, 1, 0);
    peer_make(&bob, 1, 1, 2);
    ward_session *as, *bs;
    establish(&alice, &bob, 1, &as, &bs);

    wmsg held = enc_str(as, "held back"); /* on Alice's chain A1 */
    wmsg y = enc_str(as, "y");
    DEC_STR(bs, &bob, &y, "y"); /* Bob: chains A0, A1 */
    wmsg_free(&y);
    for (int k = 1; k <= 5; k++) {
        wmsg r = enc_str(bs, "r");
        DEC_STR(as, &alice, &r, "r");
        wmsg a = enc_str(as, "a");
        DEC_STR(bs, &bob, &a, "a"); /* Bob adds chain A(k+1) */
        wmsg_free(&r);
        wmsg_free(&a);
        ward_session *c = sess_copy(bs);
        if (k <= 4) {
            /* At most five chains: A1 is still among them. */
            CHECK(dec_ok(c, &bob, &held, "held back", 9));
        } else {
            CHECK_EQ_INT(fails_cleanly(c, &bob, held.type, held.p, held.n),
                         WARD_ERR_AUTH);
        }
        ward_session_free(c);
    }
    wmsg_free(&held);
    ward_session_free(as);
    ward_session_free(bs);

    /* At most 2,000 skipped keys per chain: the oldest go first. */
    establish(&alice, &bob, 2, &as, &bs);
    enum { N = 4001 };
    wmsg *m = calloc(N, sizeof *m);
    REQUIRE(m);
    for (uint32_t i = 0; i < N; i++)
        m[i] = enc(as, &i, 4);
    uint32_t v = 2000;
    CHECK(dec_ok(bs, &bob, &m[2000], &v, 4)); /* keeps 0 .. 1999 */
    v = 4000;
    CHECK(dec_ok(bs, &bob, &m[4000], &v, 4)); /* adds 2001 .. 3999 */
    CHECK_EQ_INT(dec_err(bs, &bob, &m[0]), WARD_ERR_DUPLICATE);
    CHECK_EQ_INT(dec_err(bs, &bob, &m[1998]), WARD_ERR_DUPLICATE);
    v = 1999;
    CHECK(dec_ok(bs, &bob, &m[1999], &v, 4));
    v = 2001;
    CHECK(dec_ok(bs, &bob, &m[2001], &v, 4));
    v = 3999;
    CHECK(dec_ok(bs, &bob, &m[3999], &v, 4));
    for (uint32_t i = 0; i < N; i++)
        wmsg_free(&m[i]);
    free(m);
    ward_session_free(as);
    ward_session_free(bs);
    peer_free(&alice);
    peer_free(&bob);
}

/* Up to 40 archived states decrypt late messages; the 41st oldest is gone. */
static void test_session_archive_limit(void)
{
    peer alice, bob;
    peer_make(&alice, 1, 1, 0);
    peer_make(&bob, 1, 1, 0);
    ward_bundle b;
    bundle_of(&bob, 1, 0, &b);
    ward_session *as = sess_new(), *bs = sess_new();
    enum { STATES = WARD_MAX_ARCHIVED_STATES + 2 };
    wmsg late[STATES];
    int bad = 0;
    for (int k = 0; k < STATES; k++) {
        REQUIRE(ward_session_init_from_bundle(as, alice.id, &b) == WARD_OK);
        wmsg p = enc_str(as, "p");
        bad += !dec_ok(bs, &bob, &p, "p", 1);
        wmsg r = enc_str(bs, "r");
        bad += !dec_ok(as, &alice, &r, "r", 1);
        late[k] = enc_str(as, "late");
        bad += late[k].type != WARD_MSG_SIGNAL;
        wmsg_free(&p);
        wmsg_free(&r);
    }
    CHECK_EQ_INT(bad, 0);
    /* Bob: state 41 current, 40 .. 1 archived, state 0 dropped. */
    ward_buf snap;
    snap_session(bs, &snap);
    ward_session *copy = sess_load(&snap);
    CHECK(session_is(copy, &snap));
    CHECK_EQ_INT(fails_cleanly(bs, &bob, late[0].type, late[0].p, late[0].n),
                 WARD_ERR_AUTH);
    CHECK(dec_ok(bs, &bob, &late[1], "late", 4));
    CHECK(dec_ok(bs, &bob, &late[STATES - 1], "late", 4));
    CHECK(dec_ok(copy, &bob, &late[2], "late", 4));
    CHECK(dec_ok(copy, &bob, &late[1], "late", 4));
    ward_buf_release(&snap);
    for (int k = 0; k < STATES; k++)
        wmsg_free(&late[k]);
    ward_session_free(copy);
    ward_session_free(as);
    ward_session_free(bs);
    peer_free(&alice);
    peer_free(&bob);
}

/* ------------------------------------------------------------------------ */
/* 2. Identity                                                              */

static void test_identity_trust(void)
{
    peer alice, bob, bob2, alice2;
    peer_make(&alice, 1, 1, 0);
    peer_make(&bob, 1, 10, 4);
    peer_make(&bob2, 1, 10, 2); /* Bob reinstalled: a new identity */
    peer_make(&alice2, 1, 1, 0);
    ward_session *as, *bs;
    establish(&alice, &bob, 10, &as, &bs);
    uint8_t pub[33], tmp[33];

    /* A bundle under Bob's name with another identity key. */
    ward_bundle b2;
    bundle_of(&bob2, 1, 10, &b2);
    ward_buf snap;
    snap_session(as, &snap);
    CHECK_EQ_INT(ward_session_init_from_bundle(as, alice.id, &b2),
                 WARD_ERR_UNTRUSTED_IDENTITY);
    CHECK(session_is(as, &snap));
    ward_identity_public(bob.id, pub);
    CHECK_EQ_INT(ward_session_remote_identity(as, tmp), 1);
    CHECK_MEM(tmp, pub, 33);
    /* The old conversation is unaffected. */
    wmsg m = enc_str(as, "still old bob");
    CHECK_EQ_INT(m.type, WARD_MSG_SIGNAL);
    DEC_STR(bs, &bob, &m, "still old bob");
    wmsg_free(&m);

    /* ward_session_trust refuses a key without the type byte. */
    uint8_t badkey[33];
    memcpy(badkey, b2.identity, 33);
    badkey[0] = 0x07;
    ward_buf_release(&snap);
    snap_session(as, &snap);
    CHECK_EQ_INT(ward_session_trust(as, badkey), WARD_ERR_MALFORMED);
    CHECK(session_is(as, &snap));

    /* After the user confirms the change, it proceeds. */
    CHECK_EQ_INT(ward_session_trust(as, b2.identity), WARD_OK);
    CHECK_EQ_INT(ward_session_remote_identity(as, tmp), 1);
    CHECK_MEM(tmp, b2.identity, 33);
    CHECK_EQ_INT(ward_session_init_from_bundle(as, alice.id, &b2), WARD_OK);
    m = enc_str(as, "hello new bob");
    CHECK_EQ_INT(m.type, WARD_MSG_PREKEY);
    ward_session *b2s = sess_new();
    DEC_STR(b2s, &bob2, &m, "hello new bob");
    wmsg_free(&m);
    m = enc_str(b2s, "hi");
    DEC_STR(as, &alice, &m, "hi");
    wmsg_free(&m);

    /* A PreKeySignalMessage from a new identity to Bob's existing session. */
    {
        ward_bundle b;
        bundle_of(&bob, 1, 11, &b);
        ward_session *a2s = sess_new();
        CHECK_EQ_INT(ward_session_init_from_bundle(a2s, alice2.id, &b),
                     WARD_OK);
        wmsg p = enc_str(a2s, "alice on a new phone");
        size_t before = ward_prekeys_onetime_count(bob.pk);
        CHECK_EQ_INT(fails_cleanly(bs, &bob, p.type, p.p, p.n),
                     WARD_ERR_UNTRUSTED_IDENTITY);
        CHECK_EQ_INT(ward_prekeys_onetime_count(bob.pk), before);
        ward_identity_public(alice2.id, pub);
        CHECK_EQ_INT(ward_session_trust(bs, pub), WARD_OK);
        DEC_STR(bs, &bob, &p, "alice on a new phone");
        CHECK_EQ_INT(ward_prekeys_onetime_count(bob.pk), before - 1);
        CHECK_EQ_INT(ward_session_remote_identity(bs, tmp), 1);
        CHECK_MEM(tmp, pub, 33);
        wmsg r = enc_str(bs, "welcome back");
        DEC_STR(a2s, &alice2, &r, "welcome back");
        wmsg_free(&r);
        wmsg_free(&p);
        ward_session_free(a2s);
    }

    /* Identities from a known private key: RFC 7748 section 6.1. */
    {
        uint8_t priv[32], want[33];
        wtest_hex(priv, "77076d0a7318a57d3c16c17251b26645"
                        "df4c2f87ebc0992ab177fba51db92c2a");
        want[0] = 0x05;
        wtest_hex(want + 1, "8520f0098930a754748b7ddcb43ef75a"
                            "0dbf3a0d26381af4eba4a98eaa9b4e6a");
        ward_identity *id = NULL;
        CHECK_EQ_INT(ward_identity_from_private(&id, priv, 4242), WARD_OK);
        REQUIRE(id);
        ward_identity_public(id, pub);
        CHECK_MEM(pub, want, 33);
        CHECK_EQ_INT(ward_identity_registration_id(id), 4242);
        uint8_t sig[64];
        CHECK_EQ_INT(ward_identity_sign(id, (const uint8_t *)"msg", 3, sig),
                     WARD_OK);
        CHECK_EQ_INT(ward_xeddsa_verify(sig, want + 1, (const uint8_t *)"msg",
                                        3),
                     WARD_OK);
        ward_identity_free(id);
    }
    /* Registration ids are drawn from 1..16380. */
    {
        int out_of_range = 0;
        for (int i = 0; i < 32; i++) {
            ward_identity *id = NULL;
            REQUIRE(ward_identity_generate(&id) == WARD_OK);
            uint32_t r = ward_identity_registration_id(id);
            out_of_range += r < 1 || r > 16380;
            ward_identity_free(id);
        }
        CHECK_EQ_INT(out_of_range, 0);
    }
    ward_identity_free(NULL);
    ward_session_free(NULL);
    ward_prekeys_free(NULL);

    ward_buf_release(&snap);
    ward_session_free(as);
    ward_session_free(bs);
    ward_session_free(b2s);
    peer_free(&alice);
    peer_free(&bob);
    peer_free(&bob2);
    peer_free(&alice2);
}

/* ------------------------------------------------------------------------ */
/* 3. Re-keying                                                             */

static void test_rekey(void)
{
    peer alice, bob;
    peer_make(&alice, 1, 1, 0);
    peer_make(&bob, 1, 100, 3);
    ward_session *as, *bs;
    establish(&alice, &bob, 100, &as, &bs);
    wmsg a = enc_str(as, "a2");
    DEC_STR(bs, &bob, &a, "a2");
    wmsg_free(&a);

    /* A message on the old session that will arrive late. */
    wmsg late = enc_str(as, "late");
    CHECK_EQ_INT(late.type, WARD_MSG_SIGNAL);
    ward_session *alice_old = sess_copy(as);

    /* Alice starts over from a new bundle (a new signed prekey too). */
    REQUIRE(ward_prekeys_generate_signed(bob.pk, bob.id, 2, 1700000001000ull) ==
            WARD_OK);
    ward_bundle b2;
    bundle_of(&bob, 2, 101, &b2);
    CHECK_EQ_INT(ward_session_init_from_bundle(as, alice.id, &b2), WARD_OK);
    wmsg n1 = enc_str(as, "new session 1");
    CHECK_EQ_INT(n1.type, WARD_MSG_PREKEY);
    ward_prekey_msg pm;
    CHECK_EQ_INT(ward_prekey_msg_parse(&pm, n1.p, n1.n), WARD_OK);
    CHECK_EQ_INT(pm.signed_prekey_id, 2);
    CHECK_EQ_INT(pm.prekey_id, 101);

    size_t before = ward_prekeys_onetime_count(bob.pk);
    DEC_STR(bs, &bob, &n1, "new session 1");
    CHECK_EQ_INT(ward_prekeys_onetime_count(bob.pk), before - 1);

    /* The late message: a forged copy fails cleanly, the real one decrypts
     * with Bob's archived state. */
    {
        uint8_t *c = dup_exact(late.p, late.n);
        c[late.n - 1] ^= 0x01;
        CHECK_EQ_INT(fails_cleanly(bs, &bob, late.type, c, late.n),
                     WARD_ERR_AUTH);
        free(c);
    }
    DEC_STR(bs, &bob, &late, "late");
    CHECK_EQ_INT(dec_err(bs, &bob, &late), WARD_ERR_DUPLICATE);

    /* Alice goes on with the new session; both converge on it. */
    wmsg n2 = enc_str(as, "new session 2");
    CHECK_EQ_INT(n2.type, WARD_MSG_PREKEY);
    DEC_STR(bs, &bob, &n2, "new session 2");
    CHECK_EQ_INT(ward_prekeys_onetime_count(bob.pk), before - 1);
    wmsg r = enc_str(bs, "bob on the new session");
    CHECK_EQ_INT(r.type, WARD_MSG_SIGNAL);
    /* Alice's old state alone cannot read it: it is the new session's. */
    CHECK(dec_err(alice_old, &alice, &r) != WARD_OK);
    DEC_STR(as, &alice, &r, "bob on the new session");
    wmsg n3 = enc_str(as, "converged");
    CHECK_EQ_INT(n3.type, WARD_MSG_SIGNAL);
    DEC_STR(bs, &bob, &n3, "converged");
    wmsg r2 = enc_str(bs, "yes");
    CHECK(dec_err(alice_old, &alice, &r2) != WARD_OK);
    DEC_STR(as, &alice, &r2, "yes");

    /* Replays of the new session's PreKeySignalMessages are duplicates. */
    CHECK_EQ_INT(dec_err(bs, &bob, &n1), WARD_ERR_DUPLICATE);
    CHECK_EQ_INT(dec_err(bs, &bob, &n2), WARD_ERR_DUPLICATE);
    /* ... and so is the late one, now that its state is archived again. */
    CHECK_EQ_INT(fails_cleanly(bs, &bob, late.type, late.p, late.n),
                 WARD_ERR_DUPLICATE);

    wmsg_free(&late);
    wmsg_free(&n1);
    wmsg_free(&n2);
    wmsg_free(&n3);
    wmsg_free(&r);
    wmsg_free(&r2);
    ward_session_free(alice_old);
    ward_session_free(as);
    ward_session_free(bs);
    peer_free(&alice);
    peer_free(&bob);
}

int main(void)
{
    REQUIRE(ward_crypto_init() == WARD_OK);
    test_session_first_messages();
    test_session_bundles();
    test_session_alternating();
    test_session_out_of_order();
    test_session_too_far_ahead();
    test_session_failed_decrypt();
    test_session_payload_sizes();
    test_session_old_chains();
    test_session_archive_limit();
    test_known_answers();
    test_identity_trust();
    test_rekey();
    return wtest_done("test_proto_session");
}
