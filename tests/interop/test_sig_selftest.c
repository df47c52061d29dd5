/*
 * Self-test of sig_harness against libsignal alone (no ward code): if this
 * fails, interop failures elsewhere say nothing about ward.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../wtest.h"
#include "sig_harness.h"

/* Encrypts text from s to r and decrypts it; checks the round trip. */
static void roundtrip(sigh_party *s, const char *s_name, sigh_party *r,
                      const char *r_name, const char *text, int want_type)
{
    uint8_t *ct = NULL, *pt = NULL;
    size_t ct_len = 0, pt_len = 0;
    int type = 0;

    CHECK_EQ_INT(sigh_party_encrypt(s, r_name, (const uint8_t *)text,
                                    strlen(text), &ct, &ct_len, &type),
                 SIGH_OK);
    if (want_type)
        CHECK_EQ_INT(type, want_type);
    CHECK(ct_len > 0 && ct[0] == 0x33); /* version byte (3 << 4) | 3 */
    CHECK_EQ_INT(sigh_party_decrypt(r, s_name, type, ct, ct_len, &pt,
                                    &pt_len),
                 SIGH_OK);
    CHECK(pt_len == strlen(text) && pt && memcmp(pt, text, pt_len) == 0);
    free(ct);
    free(pt);
}

typedef struct {
    uint8_t *ct;
    size_t len;
    int type;
} sg_msg;

static sg_msg enc(sigh_party *s, const char *to, const char *text)
{
    sg_msg m = {0};
    CHECK_EQ_INT(sigh_party_encrypt(s, to, (const uint8_t *)text, strlen(text),
                                    &m.ct, &m.len, &m.type),
                 SIGH_OK);
    return m;
}

/* Decrypts m and compares with text; returns libsignal's code. */
static int dec(sigh_party *r, const char *from, const sg_msg *m,
               const char *text)
{
    uint8_t *pt = NULL;
    size_t pt_len = 0;
    int rc = sigh_party_decrypt(r, from, m->type, m->ct, m->len, &pt, &pt_len);
    if (rc == SIGH_OK && text)
        CHECK(pt_len == strlen(text) && memcmp(pt, text, pt_len) == 0);
    free(pt);
    return rc;
}

static void test_session(void)
{
    sigh_party *alice = sigh_party_new(0), *bob = sigh_party_new(4242);
    sigh_bundle b;
    uint8_t ik[33];
    char text[64];

    REQUIRE(alice && bob);
    CHECK_EQ_INT(sigh_party_registration_id(bob), 4242);
    CHECK_EQ_INT(sigh_party_bundle(bob, &b), SIGH_OK);
    CHECK_EQ_INT(b.registration_id, 4242);
    CHECK(b.has_prekey && b.prekey_id == 1);
    CHECK(b.identity_pub[0] == 0x05 && b.signed_prekey_pub[0] == 0x05 &&
          b.prekey_pub[0] == 0x05);
    /* The signed prekey's signature covers its 33-byte serialization. */
    CHECK_EQ_INT(sigh_verify(b.identity_pub + 1, b.signed_prekey_pub, 33,
                             b.signed_prekey_sig),
                 1);

    CHECK_EQ_INT(sigh_party_has_session(alice, "bob"), 0);
    CHECK_EQ_INT(sigh_party_process_bundle(alice, "bob", &b), SIGH_OK);
    CHECK_EQ_INT(sigh_party_has_session(alice, "bob"), 1);
    CHECK_EQ_INT(sigh_party_peer_identity(alice, "bob", ik), 1);
    CHECK_MEM(ik, b.identity_pub, 33);

    /* 20 messages, alternating; alice sends PreKey messages until bob's
     * first reply reaches her. */
    for (int i = 0; i < 20; i++) {
        snprintf(text, sizeof text, "message %d", i);
        if (i % 2 == 0)
            roundtrip(alice, "alice", bob, "bob", text,
                      i == 0 ? SIGH_MSG_PREKEY : SIGH_MSG_SIGNAL);
        else
            roundtrip(bob, "bob", alice, "alice", text, SIGH_MSG_SIGNAL);
    }
    /* Bob consumed the one-time prekey. */
    CHECK_EQ_INT(sigh_party_has_prekey(bob, 1), 0);
    CHECK_EQ_INT(sigh_party_has_prekey(bob, 2), 1);

    /* Out of order: 3, 1, 2; then replays of 2 and 3 are refused. */
    sg_msg m1 = enc(alice, "bob", "one"), m2 = enc(alice, "bob", "two"),
        m3 = enc(alice, "bob", "three");
    CHECK_EQ_INT(dec(bob, "alice", &m3, "three"), SIGH_OK);
    CHECK_EQ_INT(dec(bob, "alice", &m1, "one"), SIGH_OK);
    CHECK_EQ_INT(dec(bob, "alice", &m2, "two"), SIGH_OK);
    CHECK_EQ_INT(dec(bob, "alice", &m2, NULL), SIGH_ERR_DUPLICATE_MESSAGE);
    CHECK_EQ_INT(dec(bob, "alice", &m3, NULL), SIGH_ERR_DUPLICATE_MESSAGE);
    free(m1.ct);
    free(m2.ct);
    free(m3.ct);

    /* Bit flips: in the MAC (last 8 bytes) and in the body. Both are
     * refused and leave the session usable for the genuine message. */
    sg_msg m4 = enc(alice, "bob", "flip me");
    m4.ct[m4.len - 1] ^= 0x01;
    CHECK_EQ_INT(dec(bob, "alice", &m4, NULL), SIGH_ERR_INVALID_MESSAGE);
    m4.ct[m4.len - 1] ^= 0x01;
    m4.ct[m4.len - 12] ^= 0x80;
    CHECK(dec(bob, "alice", &m4, NULL) < 0);
    m4.ct[m4.len - 12] ^= 0x80;
    CHECK_EQ_INT(dec(bob, "alice", &m4, "flip me"), SIGH_OK);
    free(m4.ct);

    /* Garbage and a wrong type are refused, not crashed on. */
    static const uint8_t junk[] = {0x33, 0xff, 0xff, 0xff};
    sg_msg mj = {(uint8_t *)junk, sizeof junk, SIGH_MSG_SIGNAL};
    CHECK(dec(bob, "alice", &mj, NULL) < 0);
    mj.type = SIGH_MSG_PREKEY;
    CHECK(dec(bob, "alice", &mj, NULL) < 0);
    mj.type = 7;
    CHECK_EQ_INT(dec(bob, "alice", &mj, NULL), SIGH_ERR_INVAL);

    /* A new identity under the name "bob" is not trusted. */
    sigh_party *bob2 = sigh_party_new(0);
    sigh_bundle b2;
    REQUIRE(bob2);
    CHECK_EQ_INT(sigh_party_bundle(bob2, &b2), SIGH_OK);
    CHECK_EQ_INT(sigh_party_process_bundle(alice, "bob", &b2),
                 SIGH_ERR_UNTRUSTED_IDENTITY);
    sigh_party_free(bob2);
    /* Nor is a PreKey message from a new identity claiming to be alice. */
    sigh_party *mallory = sigh_party_new(0);
    REQUIRE(mallory);
    CHECK_EQ_INT(sigh_party_bundle(bob, &b2), SIGH_OK);
    CHECK_EQ_INT(sigh_party_process_bundle(mallory, "bob", &b2), SIGH_OK);
    sg_msg mm = enc(mallory, "bob", "it's me, alice");
    CHECK_EQ_INT(dec(bob, "alice", &mm, NULL), SIGH_ERR_UNTRUSTED_IDENTITY);
    free(mm.ct);
    sigh_party_free(mallory);
    roundtrip(alice, "alice", bob, "bob", "still fine", SIGH_MSG_SIGNAL);

    /* A bundle with a tampered signature is refused. */
    sigh_bundle bad = b;
    bad.signed_prekey_sig[5] ^= 0x10;
    sigh_party *eve = sigh_party_new(0);
    REQUIRE(eve);
    CHECK_EQ_INT(sigh_party_process_bundle(eve, "bob", &bad),
                 SIGH_ERR_INVALID_KEY);
    CHECK_EQ_INT(sigh_party_has_session(eve, "bob"), 0);

    /* The same (already consumed) one-time prekey from a stale bundle. */
    CHECK_EQ_INT(sigh_party_process_bundle(eve, "bob", &b), SIGH_OK);
    sg_msg me = enc(eve, "bob", "stale");
    CHECK_EQ_INT(me.type, SIGH_MSG_PREKEY);
    CHECK_EQ_INT(dec(bob, "eve", &me, NULL), SIGH_ERR_INVALID_KEY_ID);
    free(me.ct);
    sigh_party_free(eve);

    sigh_party_free(alice);
    sigh_party_free(bob);
}

static void test_no_prekey_and_devices(void)
{
    sigh_party *carol = sigh_party_new(0), *dave = sigh_party_new(0);
    sigh_bundle b;
    REQUIRE(carol && dave);
    sigh_party_set_device_id(carol, 7);
    sigh_party_set_device_id(dave, 3);
    CHECK_EQ_INT(sigh_party_bundle_ex(carol, 0, &b), SIGH_OK);
    CHECK_EQ_INT(b.has_prekey, 0);
    CHECK_EQ_INT(b.device_id, 7);
    CHECK_EQ_INT(sigh_party_process_bundle(dave, "carol", &b), SIGH_OK);
    /* carol learns dave's device from outside the protocol. */
    CHECK_EQ_INT(sigh_party_set_peer_device(carol, "dave", 3), SIGH_OK);
    roundtrip(dave, "dave", carol, "carol", "no one-time prekey",
              SIGH_MSG_PREKEY);
    roundtrip(carol, "carol", dave, "dave", "reply", SIGH_MSG_SIGNAL);
    roundtrip(dave, "dave", carol, "carol", "ack", SIGH_MSG_SIGNAL);
    /* All of carol's one-time prekeys are untouched. */
    for (uint32_t id = 1; id <= SIGH_NUM_PREKEYS; id++)
        CHECK_EQ_INT(sigh_party_has_prekey(carol, id), 1);
    /* Empty plaintext round trip. */
    roundtrip(carol, "carol", dave, "dave", "", SIGH_MSG_SIGNAL);
    sigh_party_free(carol);
    sigh_party_free(dave);
}

static void test_injected_keys(void)
{
    uint8_t ik_priv[32], spk_priv[32], pk_priv[32], pub[32], got[32];
    uint8_t ik33[33];
    sigh_bundle b;

    for (int i = 0; i < 32; i++) {
        ik_priv[i] = (uint8_t)(i + 1);
        spk_priv[i] = (uint8_t)(0x40 + i);
        pk_priv[i] = (uint8_t)(0x80 + i);
    }
    /* Clamp as X25519 requires. */
    ik_priv[0] &= 248, ik_priv[31] = (ik_priv[31] & 127) | 64;
    spk_priv[0] &= 248, spk_priv[31] = (spk_priv[31] & 127) | 64;
    pk_priv[0] &= 248, pk_priv[31] = (pk_priv[31] & 127) | 64;

    sigh_party *p = sigh_party_new_with_keys(77, ik_priv, spk_priv);
    sigh_party *q = sigh_party_new(0);
    REQUIRE(p && q);
    CHECK_EQ_INT(sigh_party_identity(p, ik33), SIGH_OK);
    CHECK_EQ_INT(sigh_pubkey_from_priv(ik_priv, pub), SIGH_OK);
    CHECK(ik33[0] == 0x05);
    CHECK_MEM(ik33 + 1, pub, 32);
    CHECK_EQ_INT(sigh_party_identity_private(p, got), SIGH_OK);
    CHECK_MEM(got, ik_priv, 32);

    CHECK_EQ_INT(sigh_party_add_prekey(p, 1000, pk_priv), SIGH_OK);
    CHECK_EQ_INT(sigh_party_bundle_ex(p, 1000, &b), SIGH_OK);
    CHECK_EQ_INT(sigh_pubkey_from_priv(spk_priv, pub), SIGH_OK);
    CHECK_MEM(b.signed_prekey_pub + 1, pub, 32);
    CHECK_EQ_INT(sigh_pubkey_from_priv(pk_priv, pub), SIGH_OK);
    CHECK_MEM(b.prekey_pub + 1, pub, 32);

    /* A second signed prekey becomes the advertised one. */
    CHECK_EQ_INT(sigh_party_add_signed_prekey(p, 9, NULL), SIGH_OK);
    CHECK_EQ_INT(sigh_party_bundle_ex(p, 1000, &b), SIGH_OK);
    CHECK_EQ_INT(b.signed_prekey_id, 9);
    CHECK_EQ_INT(sigh_verify(b.identity_pub + 1, b.signed_prekey_pub, 33,
                             b.signed_prekey_sig),
                 1);
    CHECK_EQ_INT(sigh_party_process_bundle(q, "p", &b), SIGH_OK);
    roundtrip(q, "q", p, "p", "to injected keys", SIGH_MSG_PREKEY);
    CHECK_EQ_INT(sigh_party_has_prekey(p, 1000), 0);

    /* DH is symmetric. */
    uint8_t q_priv[32], q_pub33[33], s1[32], s2[32];
    CHECK_EQ_INT(sigh_party_identity_private(q, q_priv), SIGH_OK);
    CHECK_EQ_INT(sigh_party_identity(q, q_pub33), SIGH_OK);
    CHECK_EQ_INT(sigh_agree(ik_priv, q_pub33 + 1, s1), SIGH_OK);
    CHECK_EQ_INT(sigh_agree(q_priv, ik33 + 1, s2), SIGH_OK);
    CHECK_MEM(s1, s2, 32);

    sigh_party_free(p);
    sigh_party_free(q);
}

static void test_signatures(void)
{
    uint8_t priv[32], pub[32], other[32], sig[64], sig2[64];
    const uint8_t msg[] = "the quick brown fox";

    for (int i = 0; i < 32; i++)
        priv[i] = (uint8_t)(0xa5 ^ (i * 7));
    priv[0] &= 248, priv[31] = (priv[31] & 127) | 64;
    CHECK_EQ_INT(sigh_pubkey_from_priv(priv, pub), SIGH_OK);
    CHECK_EQ_INT(sigh_sign(priv, msg, sizeof msg, sig), SIGH_OK);
    CHECK_EQ_INT(sigh_verify(pub, msg, sizeof msg, sig), 1);
    /* Signatures are randomized but both verify. */
    CHECK_EQ_INT(sigh_sign(priv, msg, sizeof msg, sig2), SIGH_OK);
    CHECK(memcmp(sig, sig2, 64) != 0);
    CHECK_EQ_INT(sigh_verify(pub, msg, sizeof msg, sig2), 1);
    /* Empty message. */
    CHECK_EQ_INT(sigh_sign(priv, NULL, 0, sig2), SIGH_OK);
    CHECK_EQ_INT(sigh_verify(pub, NULL, 0, sig2), 1);

    for (int i = 0; i < 64; i += 9) { /* tampered signature bytes */
        memcpy(sig2, sig, 64);
        sig2[i] ^= 0x04;
        CHECK_EQ_INT(sigh_verify(pub, msg, sizeof msg, sig2), 0);
    }
    uint8_t msg2[sizeof msg];
    memcpy(msg2, msg, sizeof msg);
    msg2[0] ^= 1;
    CHECK_EQ_INT(sigh_verify(pub, msg2, sizeof msg2, sig), 0);
    CHECK_EQ_INT(sigh_verify(pub, msg, sizeof msg - 1, sig), 0);
    memcpy(other, pub, 32);
    other[3] ^= 0x20;
    CHECK_EQ_INT(sigh_verify(other, msg, sizeof msg, sig), 0);
}

static void test_group(void)
{
    sigh_party *alice = sigh_party_new(0), *bob = sigh_party_new(0);
    uint8_t *skdm = NULL, *ct[3] = {0}, *pt = NULL;
    size_t skdm_len = 0, ct_len[3] = {0}, pt_len = 0;
    const char *texts[3] = {"g0", "g1", "g2"};

    REQUIRE(alice && bob);
    CHECK_EQ_INT(sigh_group_create(alice, "grp", "alice", &skdm, &skdm_len),
                 SIGH_OK);
    CHECK(skdm_len > 0 && skdm[0] == 0x33);
    CHECK_EQ_INT(sigh_group_process(bob, "grp", "alice", skdm, skdm_len),
                 SIGH_OK);
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(sigh_group_encrypt(alice, "grp", "alice",
                                        (const uint8_t *)texts[i], 2, &ct[i],
                                        &ct_len[i]),
                     SIGH_OK);
    const int order[3] = {2, 0, 1};
    for (int j = 0; j < 3; j++) {
        int i = order[j];
        CHECK_EQ_INT(sigh_group_decrypt(bob, "grp", "alice", ct[i], ct_len[i],
                                        &pt, &pt_len),
                     SIGH_OK);
        CHECK(pt_len == 2 && memcmp(pt, texts[i], 2) == 0);
        free(pt);
        pt = NULL;
    }
    CHECK_EQ_INT(sigh_group_decrypt(bob, "grp", "alice", ct[1], ct_len[1],
                                    &pt, &pt_len),
                 SIGH_ERR_DUPLICATE_MESSAGE);
    ct[0][ct_len[0] - 1] ^= 1; /* breaks the signature */
    CHECK(sigh_group_decrypt(bob, "grp", "alice", ct[0], ct_len[0], &pt,
                             &pt_len) < 0);
    CHECK(sigh_group_decrypt(bob, "other", "alice", ct[1], ct_len[1], &pt,
                             &pt_len) == SIGH_ERR_NO_SESSION);
    for (int i = 0; i < 3; i++)
        free(ct[i]);
    free(skdm);
    sigh_party_free(alice);
    sigh_party_free(bob);
}

int main(void)
{
    REQUIRE(sigh_global_init() == SIGH_OK);
    test_session();
    test_no_prekey_and_devices();
    test_injected_keys();
    test_signatures();
    test_group();
    sigh_global_teardown();
    return wtest_done("sig_selftest");
}
