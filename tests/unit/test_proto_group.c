/*
 * Unit tests for sender keys (groups): the SenderKeyMessage and SKDM
 * codecs, the record's limits, decryption that changes nothing when it
 * fails, and the record's byte format.
 *
 * Known answers are recomputed here with OpenSSL (HMAC, HKDF, AES-256-CBC)
 * from signal-wire.md's description, and messages are built with this
 * test's own protobuf writer, never taken from ward's output.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
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
/* The sender key chain, independently: OpenSSL's HMAC, HKDF and AES.       */

static void ref_hmac(uint8_t out[32], const uint8_t key[32], uint8_t byte)
{
    unsigned int n = 0;
    REQUIRE(HMAC(EVP_sha256(), key, 32, &byte, 1, out, &n) && n == 32);
}

/* Message key of a chain key: seed = HMAC(ck, 1), HKDF(seed, zero salt,
 * "WhisperGroup", 48) = IV (16) || cipher key (32). */
static void ref_message_key(const uint8_t ck[32], uint8_t iv[16],
                            uint8_t key[32])
{
    uint8_t seed[32], okm[48], salt[32] = {0};
    ref_hmac(seed, ck, 0x01);
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *c = EVP_KDF_CTX_new(kdf);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, seed, 32),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt, 32),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                          "WhisperGroup", 12),
        OSSL_PARAM_construct_end()};
    REQUIRE(c && EVP_KDF_derive(c, okm, sizeof okm, params) == 1);
    EVP_KDF_CTX_free(c);
    EVP_KDF_free(kdf);
    memcpy(iv, okm, 16);
    memcpy(key, okm + 16, 32);
}

/* Chain key after |steps| steps of next = HMAC(ck, 2). */
static void ref_advance(uint8_t ck[32], uint32_t steps)
{
    for (uint32_t i = 0; i < steps; i++)
        ref_hmac(ck, ck, 0x02);
}

static size_t ref_aes(uint8_t *out, const uint8_t key[32], const uint8_t iv[16],
                      const uint8_t *in, size_t n, int enc)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int a = 0, b = 0;
    REQUIRE(c && EVP_CipherInit_ex(c, EVP_aes_256_cbc(), NULL, key, iv,
                                   enc) == 1);
    int ok = EVP_CipherUpdate(c, out, &a, in, (int)n) == 1 &&
             EVP_CipherFinal_ex(c, out + a, &b) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? (size_t)(a + b) : (size_t)-1;
}

/* A sender of the test's own: chain key, iteration, signing key pair. */
typedef struct tsender {
    uint32_t key_id;
    uint32_t iteration;
    uint8_t ck[32];
    uint8_t priv[32], pub[32];
} tsender;

static void tsender_init(tsender *s, uint32_t key_id, uint32_t iteration)
{
    s->key_id = key_id;
    s->iteration = iteration;
    for (int i = 0; i < 32; i++)
        s->ck[i] = (uint8_t)(i * 7 + key_id);
    REQUIRE(ward_x25519_keypair(s->priv, s->pub) == WARD_OK);
}

/* version || {1 id, 2 iteration, 3 chainKey, 4 signingKey}. */
static void tsender_skdm(const tsender *s, tb *b)
{
    uint8_t key[33];
    key[0] = 0x05;
    memcpy(key + 1, s->pub, 32);
    b->n = 0;
    tb_byte(b, 0x33);
    tb_uint(b, 1, s->key_id);
    tb_uint(b, 2, s->iteration);
    tb_bytes(b, 3, s->ck, 32);
    tb_bytes(b, 4, key, 33);
}

/* A SenderKeyMessage at |iteration| (at or past the sender's chain) with
 * |ct| as the ciphertext if given, else |pt| encrypted; signed. */
static void tsender_msg(const tsender *s, uint32_t iteration, const char *pt,
                        const uint8_t *ct, size_t ct_n, tb *b)
{
    uint8_t ck[32], iv[16], key[32], enc[256], sig[64];
    memcpy(ck, s->ck, 32);
    ref_advance(ck, iteration - s->iteration);
    ref_message_key(ck, iv, key);
    if (!ct) {
        ct_n = ref_aes(enc, key, iv, (const uint8_t *)pt, strlen(pt), 1);
        REQUIRE(ct_n != (size_t)-1);
        ct = enc;
    }
    b->n = 0;
    tb_byte(b, 0x33);
    tb_uint(b, 1, s->key_id);
    tb_uint(b, 2, iteration);
    tb_bytes(b, 3, ct, ct_n);
    REQUIRE(ward_xeddsa_sign(sig, s->priv, b->d, b->n) == WARD_OK);
    tb_raw(b, sig, 64);
}

/* ------------------------------------------------------------------------ */
/* Helpers on ward's side.                                                  */

static ward_sender_key *grp_new(void)
{
    ward_sender_key *sk = NULL;
    REQUIRE(ward_sender_key_new(&sk) == WARD_OK && sk);
    return sk;
}

static ward_err process_tb(ward_sender_key *sk, const tb *b)
{
    uint8_t *c = dup_exact(b->d, b->n);
    ward_err e = ward_sender_key_process(sk, c, b->n);
    free(c);
    return e;
}

static void grp_snap(const ward_sender_key *sk, ward_buf *b)
{
    ward_buf_init(b, 0);
    REQUIRE(ward_sender_key_serialize(sk, b) == WARD_OK);
}

static int grp_is(const ward_sender_key *sk, const ward_buf *snap)
{
    ward_buf b;
    grp_snap(sk, &b);
    int same = buf_same(&b, snap);
    ward_buf_release(&b);
    return same;
}

/* Decrypts |p|; on success compares with |want|; on failure checks that
 * neither the record nor |pt| changed. Returns the error. */
static ward_err dec_bytes(ward_sender_key *sk, const uint8_t *p, size_t n,
                          const char *want)
{
    ward_buf pt, before;
    ward_buf_init(&pt, 0);
    REQUIRE(ward_buf_append(&pt, "pre", 3) == WARD_OK);
    grp_snap(sk, &before);
    uint8_t *c = dup_exact(p, n);
    ward_err e = ward_sender_key_decrypt(sk, c, n, &pt);
    free(c);
    if (e == WARD_OK) {
        CHECK(want && pt.len == 3 + strlen(want) &&
              memcmp(pt.data + 3, want, strlen(want)) == 0);
    } else {
        CHECK_EQ_INT(pt.len, 3);
        CHECK(grp_is(sk, &before));
    }
    ward_buf_release(&pt);
    ward_buf_release(&before);
    return e;
}

static ward_err dec_tb(ward_sender_key *sk, const tb *b, const char *want)
{
    return dec_bytes(sk, b->d, b->n, want);
}

static void info_of(const ward_sender_key *sk, size_t i,
                    ward_sender_key_info *info)
{
    REQUIRE(ward_sender_key_info_get(sk, i, info) == WARD_OK);
}

/* ------------------------------------------------------------------------ */
/* 1. Known answers                                                         */

/* libsignal's messages as signal-wire.md describes them decrypt with ward;
 * ward's messages decrypt with the reference chain and carry the fields
 * and signature the format says. */
static void test_known_answers(void)
{
    tsender s;
    tsender_init(&s, 0x1234567, 0);
    tb b;
    ward_sender_key *sk = grp_new();
    tsender_skdm(&s, &b);
    CHECK_EQ_INT(process_tb(sk, &b), WARD_OK);
    const char *texts[] = {"iteration zero", "", "a", "sixteen bytes!!!",
                           "iteration four, a little longer than a block"};
    for (uint32_t i = 0; i < 5; i++) {
        tsender_msg(&s, i, texts[i], NULL, 0, &b);
        CHECK_EQ_INT(dec_tb(sk, &b, texts[i]), WARD_OK);
    }
    /* Skipped to 9 (5..8 kept), then 7 late. */
    tsender_msg(&s, 9, "nine", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, "nine"), WARD_OK);
    tsender_msg(&s, 7, "seven", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, "seven"), WARD_OK);
    ward_sender_key_info info;
    info_of(sk, 0, &info);
    CHECK_EQ_INT(info.key_id, 0x1234567);
    CHECK_EQ_INT(info.iteration, 10);
    CHECK_EQ_INT(info.n_message_keys, 3);
    CHECK(!info.can_send);
    ward_sender_key_free(sk);

    /* ward sends; the test reads its SKDM by hand and decrypts with the
     * reference chain. */
    sk = grp_new();
    ward_buf d, m;
    ward_buf_init(&d, 0);
    ward_buf_init(&m, 0);
    REQUIRE(ward_sender_key_create(sk, &d) == WARD_OK);
    /* 0x33, 08 id, 10 00, 1a 20 chain, 22 21 05 key */
    REQUIRE(d.len >= 1 + 2 + 2 + 34 + 35);
    CHECK_EQ_INT(d.data[0], 0x33);
    CHECK_EQ_INT(d.data[1], 0x08);
    size_t at = 2;
    uint64_t id = 0;
    for (unsigned shift = 0;; shift += 7) {
        uint8_t c = d.data[at++];
        id |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            break;
    }
    CHECK(id < 0x7fffffffu);
    REQUIRE(d.len == at + 2 + 34 + 35);
    CHECK(d.data[at] == 0x10 && d.data[at + 1] == 0x00);
    CHECK(d.data[at + 2] == 0x1a && d.data[at + 3] == 0x20);
    uint8_t ck[32], pub[32];
    memcpy(ck, d.data + at + 4, 32);
    CHECK(d.data[at + 36] == 0x22 && d.data[at + 37] == 0x21 &&
          d.data[at + 38] == 0x05);
    memcpy(pub, d.data + at + 39, 32);
    info_of(sk, 0, &info);
    CHECK_EQ_INT(info.key_id, id);
    CHECK(info.can_send);

    for (uint32_t i = 0; i < 3; i++) {
        const char *text = texts[4 - i];
        ward_buf_clear(&m);
        REQUIRE(ward_sender_key_encrypt(sk, (const uint8_t *)text,
                                        strlen(text), &m) == WARD_OK);
        size_t ct_len = (strlen(text) / 16 + 1) * 16;
        /* 0x33 | 08 id | 10 i | 1a len ct | signature */
        REQUIRE(m.len == at + 2 + 2 + ct_len + 64);
        CHECK_MEM(m.data, d.data, at); /* version, field 1 and the id */
        CHECK(m.data[at] == 0x10 && m.data[at + 1] == i);
        CHECK(m.data[at + 2] == 0x1a && m.data[at + 3] == ct_len);
        CHECK_EQ_INT(ward_xeddsa_verify(m.data + m.len - 64, pub, m.data,
                                        m.len - 64),
                     WARD_OK);
        uint8_t iv[16], key[32], out[128];
        ref_message_key(ck, iv, key);
        size_t n = ref_aes(out, key, iv, m.data + at + 4, ct_len, 0);
        CHECK(n == strlen(text) && memcmp(out, text, n) == 0);
        ref_advance(ck, 1);
    }
    /* A late SKDM carries the chain key where the reference has it now. */
    ward_buf_clear(&d);
    REQUIRE(ward_sender_key_distribution(sk, &d) == WARD_OK);
    ward_skdm parsed;
    REQUIRE(ward_skdm_parse(&parsed, d.data, d.len) == WARD_OK);
    CHECK_EQ_INT(parsed.iteration, 3);
    CHECK_MEM(parsed.chain_key, ck, 32);
    CHECK_MEM(parsed.signing_key, pub, 32);
    ward_memzero(&parsed, sizeof parsed);
    ward_buf_release(&d);
    ward_buf_release(&m);
    ward_sender_key_free(sk);
}

/* ------------------------------------------------------------------------ */
/* 2. Parsers                                                               */

static ward_err skm_parse_exact(const uint8_t *p, size_t n)
{
    ward_sender_key_msg m;
    uint8_t *c = dup_exact(p, n);
    ward_err e = ward_sender_key_msg_parse(&m, c, n);
    if (e == WARD_OK) {
        CHECK(m.signed_part == c && m.signed_len == n - 64);
        CHECK(m.signature == c + n - 64);
        CHECK(m.ciphertext >= c && m.ciphertext + m.ciphertext_len <= c + n - 64);
    }
    free(c);
    return e;
}

static ward_err skdm_parse_exact(const uint8_t *p, size_t n)
{
    ward_skdm m;
    uint8_t *c = dup_exact(p, n);
    ward_err e = ward_skdm_parse(&m, c, n);
    free(c);
    return e;
}

enum { F_ID = 1, F_IT = 2, F_CT = 4, F_ALL = 7 };

static void skm_build(tb *b, uint8_t version, unsigned fields, uint64_t id,
                      uint64_t it)
{
    static const uint8_t ct[16] = {1, 2, 3};
    uint8_t sig[64];
    memset(sig, 0x5a, sizeof sig);
    b->n = 0;
    tb_byte(b, version);
    if (fields & F_ID)
        tb_uint(b, 1, id);
    if (fields & F_IT)
        tb_uint(b, 2, it);
    if (fields & F_CT)
        tb_bytes(b, 3, ct, sizeof ct);
    tb_raw(b, sig, 64);
}

static void test_parse_sender_key_msg(void)
{
    tb b;
    ward_sender_key_msg m;
    skm_build(&b, 0x33, F_ALL, 7, 300);
    CHECK_EQ_INT(skm_parse_exact(b.d, b.n), WARD_OK);
    REQUIRE(ward_sender_key_msg_parse(&m, b.d, b.n) == WARD_OK);
    CHECK_EQ_INT(m.version, 0x33);
    CHECK_EQ_INT(m.key_id, 7);
    CHECK_EQ_INT(m.iteration, 300);
    CHECK_EQ_INT(m.ciphertext_len, 16);
    CHECK(m.ciphertext == b.d + 1 + 2 + 3 + 2);

    /* The low nibble is not read (libsignal reads the high one only). */
    skm_build(&b, 0x32, F_ALL, 7, 300);
    CHECK_EQ_INT(skm_parse_exact(b.d, b.n), WARD_OK);
    skm_build(&b, 0x23, F_ALL, 7, 300);
    CHECK_EQ_INT(skm_parse_exact(b.d, b.n), WARD_ERR_VERSION);
    skm_build(&b, 0x43, F_ALL, 7, 300);
    CHECK_EQ_INT(skm_parse_exact(b.d, b.n), WARD_ERR_VERSION);
    /* Each required field missing. */
    for (unsigned f = 0; f < F_ALL; f++) {
        skm_build(&b, 0x33, f, 7, 300);
        CHECK_EQ_INT(skm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    }
    /* Numbers past 32 bits; the largest 32-bit values are fine. */
    skm_build(&b, 0x33, F_ALL, 0x100000000ull, 1);
    CHECK_EQ_INT(skm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    skm_build(&b, 0x33, F_ALL, 1, 0x100000000ull);
    CHECK_EQ_INT(skm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    skm_build(&b, 0x33, F_ALL, 0xffffffffu, 0xffffffffu);
    CHECK_EQ_INT(skm_parse_exact(b.d, b.n), WARD_OK);
    /* Too short: nothing beyond version and signature. */
    uint8_t shorty[65];
    memset(shorty, 0, sizeof shorty);
    shorty[0] = 0x33;
    CHECK_EQ_INT(skm_parse_exact(shorty, 65), WARD_ERR_MALFORMED);
    CHECK_EQ_INT(skm_parse_exact(shorty, 1), WARD_ERR_MALFORMED);
    CHECK_EQ_INT(ward_sender_key_msg_parse(&m, NULL, 100), WARD_ERR_MALFORMED);
    CHECK_EQ_INT(ward_sender_key_msg_parse(NULL, b.d, b.n),
                 WARD_ERR_INVALID_ARG);

    /* Wrong wire types for each field; a group; field number 0; a
     * truncated varint and a length past the end (the signature then
     * parses as protobuf and is not enough). */
    uint8_t sig[64];
    memset(sig, 0, sizeof sig);
    const uint8_t bodies[][8] = {
        {0x0a, 0x01, 0x00, 0x10, 0x01, 0x1a, 0x00}, /* id as bytes */
        {0x08, 0x01, 0x12, 0x00, 0x1a, 0x00},       /* iteration as bytes */
        {0x08, 0x01, 0x10, 0x01, 0x18, 0x00},       /* ciphertext a varint */
        {0x08, 0x01, 0x10, 0x01, 0x1a, 0x00, 0x0b}, /* a group start */
        {0x00, 0x01, 0x08, 0x01, 0x10, 0x01, 0x1a, 0x00}, /* field 0 */
        {0x08, 0x81},                               /* varint cut */
        {0x08, 0x01, 0x10, 0x01, 0x1a, 0x09, 0x00}, /* length past end */
    };
    const size_t lens[] = {7, 6, 6, 7, 8, 2, 7};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        b.n = 0;
        tb_byte(&b, 0x33);
        tb_raw(&b, bodies[i], lens[i]);
        tb_raw(&b, sig, 64);
        CHECK_EQ_INT(skm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    }
    /* Unknown fields (varint, bytes, fixed32, fixed64) are skipped. */
    b.n = 0;
    tb_byte(&b, 0x33);
    tb_uint(&b, 9, 5);
    tb_uint(&b, 1, 2);
    tb_bytes(&b, 15, "xyz", 3);
    tb_uint(&b, 2, 3);
    tb_raw(&b, "\x25\x01\x02\x03\x04", 5);
    tb_raw(&b, "\x29\x01\x02\x03\x04\x05\x06\x07\x08", 9);
    tb_bytes(&b, 3, "0123456789abcdef", 16);
    tb_raw(&b, sig, 64);
    CHECK_EQ_INT(skm_parse_exact(b.d, b.n), WARD_OK);
    /* A field repeated: the last one counts, as protobuf says. */
    b.n = 0;
    tb_byte(&b, 0x33);
    tb_uint(&b, 1, 2);
    tb_uint(&b, 2, 3);
    tb_uint(&b, 2, 4);
    tb_bytes(&b, 3, "x", 1);
    tb_raw(&b, sig, 64);
    REQUIRE(ward_sender_key_msg_parse(&m, b.d, b.n) == WARD_OK);
    CHECK_EQ_INT(m.iteration, 4);

    /* Every truncation of a valid message: refused or (when the cut only
     * eats signature bytes that then parse as protobuf) never out of
     * bounds; ASan watches the exact-size copies. */
    skm_build(&b, 0x33, F_ALL, 1234567, 89);
    for (size_t n = 0; n < b.n; n++)
        (void)skm_parse_exact(b.d, n);
}

enum { D_ID = 1, D_IT = 2, D_CK = 4, D_KEY = 8, D_ALL = 15 };

static void skdm_build(tb *b, uint8_t version, unsigned fields, size_t ck_len,
                       size_t key_len, uint8_t key_type)
{
    uint8_t ck[64], key[64];
    memset(ck, 0x11, sizeof ck);
    memset(key, 0x22, sizeof key);
    key[0] = key_type;
    b->n = 0;
    tb_byte(b, version);
    if (fields & D_ID)
        tb_uint(b, 1, 99);
    if (fields & D_IT)
        tb_uint(b, 2, 5);
    if (fields & D_CK)
        tb_bytes(b, 3, ck, ck_len);
    if (fields & D_KEY)
        tb_bytes(b, 4, key, key_len);
}

static void test_parse_skdm(void)
{
    tb b;
    ward_skdm m;
    skdm_build(&b, 0x33, D_ALL, 32, 33, 0x05);
    CHECK_EQ_INT(skdm_parse_exact(b.d, b.n), WARD_OK);
    REQUIRE(ward_skdm_parse(&m, b.d, b.n) == WARD_OK);
    CHECK_EQ_INT(m.key_id, 99);
    CHECK_EQ_INT(m.iteration, 5);
    CHECK_EQ_INT(m.chain_key[31], 0x11);
    CHECK_EQ_INT(m.signing_key[0], 0x22);
    /* Re-encoded: the same bytes (field order as libsignal's). */
    ward_buf out;
    ward_buf_init(&out, 0);
    REQUIRE(ward_skdm_encode(&out, &m) == WARD_OK);
    CHECK(out.len == b.n && memcmp(out.data, b.d, b.n) == 0);
    ward_buf_release(&out);

    for (unsigned f = 0; f < D_ALL; f++) {
        skdm_build(&b, 0x33, f, 32, 33, 0x05);
        CHECK_EQ_INT(skdm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    }
    skdm_build(&b, 0x23, D_ALL, 32, 33, 0x05);
    CHECK_EQ_INT(skdm_parse_exact(b.d, b.n), WARD_ERR_VERSION);
    skdm_build(&b, 0xf3, D_ALL, 32, 33, 0x05);
    CHECK_EQ_INT(skdm_parse_exact(b.d, b.n), WARD_ERR_VERSION);
    /* A chain key of another length (libsignal would take it). */
    skdm_build(&b, 0x33, D_ALL, 31, 33, 0x05);
    CHECK_EQ_INT(skdm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    skdm_build(&b, 0x33, D_ALL, 33, 33, 0x05);
    CHECK_EQ_INT(skdm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    skdm_build(&b, 0x33, D_ALL, 0, 33, 0x05);
    CHECK_EQ_INT(skdm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    /* A signing key that is not 0x05 || 32 bytes. */
    skdm_build(&b, 0x33, D_ALL, 32, 32, 0x05);
    CHECK_EQ_INT(skdm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    skdm_build(&b, 0x33, D_ALL, 32, 34, 0x05);
    CHECK_EQ_INT(skdm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    skdm_build(&b, 0x33, D_ALL, 32, 33, 0x06);
    CHECK_EQ_INT(skdm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    /* Wrong wire types. */
    b.n = 0;
    tb_byte(&b, 0x33);
    tb_bytes(&b, 1, "\x01", 1);
    CHECK_EQ_INT(skdm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    b.n = 0;
    tb_byte(&b, 0x33);
    tb_uint(&b, 3, 1);
    CHECK_EQ_INT(skdm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    b.n = 0;
    tb_byte(&b, 0x33);
    tb_uint(&b, 4, 1);
    CHECK_EQ_INT(skdm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    /* An id past 32 bits. */
    b.n = 0;
    tb_byte(&b, 0x33);
    tb_uint(&b, 1, 0x1ffffffffull);
    CHECK_EQ_INT(skdm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    /* Empty, version only, NULL. */
    CHECK_EQ_INT(skdm_parse_exact(b.d, 0), WARD_ERR_MALFORMED);
    CHECK_EQ_INT(skdm_parse_exact(b.d, 1), WARD_ERR_MALFORMED);
    CHECK_EQ_INT(ward_skdm_parse(&m, NULL, 10), WARD_ERR_MALFORMED);
    CHECK_EQ_INT(ward_skdm_parse(NULL, b.d, b.n), WARD_ERR_INVALID_ARG);
    /* Every truncation of a valid SKDM is refused. */
    skdm_build(&b, 0x33, D_ALL, 32, 33, 0x05);
    for (size_t n = 0; n < b.n; n++)
        CHECK(skdm_parse_exact(b.d, n) != WARD_OK);
    ward_memzero(&m, sizeof m);

    /* process() refuses what parse refuses, and changes nothing. */
    ward_sender_key *sk = grp_new();
    skdm_build(&b, 0x33, D_ALL & ~D_CK, 32, 33, 0x05);
    CHECK_EQ_INT(process_tb(sk, &b), WARD_ERR_MALFORMED);
    skdm_build(&b, 0x43, D_ALL, 32, 33, 0x05);
    CHECK_EQ_INT(process_tb(sk, &b), WARD_ERR_VERSION);
    CHECK_EQ_INT(ward_sender_key_count(sk), 0);
    ward_sender_key_free(sk);
}

/* ------------------------------------------------------------------------ */
/* 3. Limits and state                                                      */

static void test_state_limit(void)
{
    ward_sender_key *sk = grp_new();
    tsender s[7];
    tb b;
    for (int i = 0; i < 7; i++) {
        tsender_init(&s[i], 100 + (uint32_t)i, (uint32_t)i * 10);
        tsender_skdm(&s[i], &b);
        CHECK_EQ_INT(process_tb(sk, &b), WARD_OK);
        CHECK_EQ_INT(ward_sender_key_count(sk), i < 5 ? i + 1 : 5);
    }
    /* Newest first: 106, 105, ..., 102; 100 and 101 were dropped. */
    ward_sender_key_info info;
    for (size_t i = 0; i < 5; i++) {
        info_of(sk, i, &info);
        CHECK_EQ_INT(info.key_id, 106 - i);
        CHECK_EQ_INT(info.iteration, (6 - i) * 10);
    }
    CHECK_EQ_INT(ward_sender_key_info_get(sk, 5, &info), WARD_ERR_INVALID_ARG);
    tsender_msg(&s[1], 10, "dropped", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, NULL), WARD_ERR_NO_SESSION);
    tsender_msg(&s[2], 25, "kept", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, "kept"), WARD_OK);

    /* The same SKDM again (102 is the oldest): no keys change, it becomes
     * the newest, nothing is dropped, and its used key stays used. */
    tsender_skdm(&s[2], &b);
    CHECK_EQ_INT(process_tb(sk, &b), WARD_OK);
    CHECK_EQ_INT(ward_sender_key_count(sk), 5);
    info_of(sk, 0, &info);
    CHECK_EQ_INT(info.key_id, 102);
    CHECK_EQ_INT(info.iteration, 26);
    CHECK_EQ_INT(info.n_message_keys, 5);
    info_of(sk, 4, &info);
    CHECK_EQ_INT(info.key_id, 103);
    tsender_msg(&s[2], 25, "kept", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, NULL), WARD_ERR_DUPLICATE);

    /* Key id 104 with another signing key: the old state goes. */
    tsender evil;
    tsender_init(&evil, 104, 0);
    tsender_skdm(&evil, &b);
    CHECK_EQ_INT(process_tb(sk, &b), WARD_OK);
    CHECK_EQ_INT(ward_sender_key_count(sk), 5);
    info_of(sk, 0, &info);
    CHECK_EQ_INT(info.key_id, 104);
    CHECK_EQ_INT(info.iteration, 0);
    tsender_msg(&s[4], 40, "old key", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, NULL), WARD_ERR_AUTH);
    tsender_msg(&evil, 0, "new key", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, "new key"), WARD_OK);
    ward_sender_key_free(sk);
}

static void test_message_key_limit(void)
{
    ward_sender_key *sk = grp_new();
    tsender s;
    tb b;
    tsender_init(&s, 5, 0);
    tsender_skdm(&s, &b);
    REQUIRE(process_tb(sk, &b) == WARD_OK);
    ward_sender_key_info info;

    tsender_msg(&s, 2001, "too far", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, NULL), WARD_ERR_TOO_FAR_AHEAD);
    tsender_msg(&s, 2000, "as far as it goes", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, "as far as it goes"), WARD_OK);
    info_of(sk, 0, &info);
    CHECK_EQ_INT(info.n_message_keys, 2000);
    CHECK_EQ_INT(info.iteration, 2001);
    tsender_msg(&s, 1500, "late", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, "late"), WARD_OK);
    CHECK_EQ_INT(dec_tb(sk, &b, NULL), WARD_ERR_DUPLICATE);
    /* 1,999 kept; 10 more passed over (2001..2010): the 9 oldest (0..8)
     * go. */
    tsender_msg(&s, 2011, "ten on", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, "ten on"), WARD_OK);
    info_of(sk, 0, &info);
    CHECK_EQ_INT(info.n_message_keys, 2000);
    tsender_msg(&s, 8, "dropped", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, NULL), WARD_ERR_DUPLICATE);
    tsender_msg(&s, 9, "the oldest kept", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, "the oldest kept"), WARD_OK);
    tsender_msg(&s, 2010, "the newest kept", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, "the newest kept"), WARD_OK);
    info_of(sk, 0, &info);
    CHECK_EQ_INT(info.n_message_keys, 1998);
    /* The record with ~2,000 keys round-trips. */
    ward_buf snap;
    grp_snap(sk, &snap);
    ward_sender_key *again = NULL;
    CHECK_EQ_INT(ward_sender_key_deserialize(&again, snap.data, snap.len),
                 WARD_OK);
    CHECK(again && grp_is(again, &snap));
    tsender_msg(&s, 11, "after reload", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(again, &b, "after reload"), WARD_OK);
    ward_sender_key_free(again);
    ward_buf_release(&snap);
    ward_sender_key_free(sk);

    /* A member 2,001 behind cannot read on; the same key handed over
     * again at the sender's position lets it, without making a used or
     * passed-over key valid again. A repeated SKDM within reach changes
     * nothing. */
    sk = grp_new();
    tsender_init(&s, 7, 0);
    tsender_skdm(&s, &b);
    REQUIRE(process_tb(sk, &b) == WARD_OK);
    tsender_msg(&s, 3, "early", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, "early"), WARD_OK);
    tb early;
    tsender_msg(&s, 1, "kept one", NULL, 0, &early);
    tsender_msg(&s, 2005, "far", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, NULL), WARD_ERR_TOO_FAR_AHEAD);
    tsender s2 = s; /* the sender, moved on to 2005 */
    ref_advance(s2.ck, 2005);
    s2.iteration = 2005;
    tb again_skdm;
    tsender_skdm(&s2, &again_skdm);
    REQUIRE(process_tb(sk, &again_skdm) == WARD_OK);
    info_of(sk, 0, &info);
    CHECK_EQ_INT(info.iteration, 2005);
    CHECK_EQ_INT(dec_tb(sk, &b, "far"), WARD_OK);
    CHECK_EQ_INT(dec_tb(sk, &b, NULL), WARD_ERR_DUPLICATE);
    CHECK_EQ_INT(dec_tb(sk, &early, "kept one"), WARD_OK); /* kept */
    tsender_msg(&s, 3, "early", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, NULL), WARD_ERR_DUPLICATE);
    tsender_msg(&s, 1000, "passed over", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, NULL), WARD_ERR_DUPLICATE);
    /* within reach: the SKDM at 2005 again, the state at 2006 stays */
    REQUIRE(process_tb(sk, &again_skdm) == WARD_OK);
    info_of(sk, 0, &info);
    CHECK_EQ_INT(info.iteration, 2006);
    tsender_msg(&s, 2005, "far", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, NULL), WARD_ERR_DUPLICATE);
    ward_sender_key_free(sk);

    /* The end of the chain: iteration 2^32 - 1 is never reached. */
    sk = grp_new();
    tsender_init(&s, 6, 0xfffffffdu);
    tsender_skdm(&s, &b);
    REQUIRE(process_tb(sk, &b) == WARD_OK);
    tsender_msg(&s, 0xffffffffu, "wraps", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, NULL), WARD_ERR_TOO_FAR_AHEAD);
    tsender_msg(&s, 0xfffffffeu, "last", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, "last"), WARD_OK);
    ward_sender_key_free(sk);
}

/* Every way a decryption can fail leaves the record (and the output)
 * exactly as it was; the same message intact then decrypts. */
static void test_failed_decrypt_changes_nothing(void)
{
    ward_sender_key *sk = grp_new();
    tsender s, other;
    tb b, good;
    tsender_init(&s, 77, 0);
    tsender_init(&other, 78, 0);
    tsender_skdm(&s, &b);
    REQUIRE(process_tb(sk, &b) == WARD_OK);
    tsender_msg(&s, 3, "three", NULL, 0, &b);
    REQUIRE(dec_tb(sk, &b, "three") == WARD_OK); /* 0..2 kept */

    /* Bad signature: a flipped bit in each part, the wrong signer. */
    tsender_msg(&s, 6, "six", NULL, 0, &good);
    for (size_t at = 0; at < good.n; at++) {
        tb bad = good;
        bad.d[at] ^= 0x01;
        ward_err e = dec_tb(sk, &bad, NULL);
        CHECK(e == WARD_ERR_AUTH || e == WARD_ERR_NO_SESSION ||
              e == WARD_ERR_MALFORMED || e == WARD_ERR_VERSION);
    }
    other.key_id = 77;
    memcpy(other.ck, s.ck, 32);
    tsender_msg(&other, 6, "six", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, NULL), WARD_ERR_AUTH);
    /* Signed, but not a valid ciphertext: bad padding, a length that is
     * not a multiple of 16, none at all. Nothing is advanced or used. */
    uint8_t junk[32];
    memset(junk, 0xa5, sizeof junk);
    tsender_msg(&s, 6, NULL, junk, 32, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, NULL), WARD_ERR_AUTH);
    tsender_msg(&s, 1, NULL, junk, 32, &b); /* a kept key's iteration */
    CHECK_EQ_INT(dec_tb(sk, &b, NULL), WARD_ERR_AUTH);
    tsender_msg(&s, 6, NULL, junk, 15, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, NULL), WARD_ERR_AUTH);
    tsender_msg(&s, 6, NULL, junk, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, NULL), WARD_ERR_AUTH);
    /* Too far, unknown key id, a used key. */
    tsender_msg(&s, 4 + 2001, "far", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, NULL), WARD_ERR_TOO_FAR_AHEAD);
    other.key_id = 78;
    tsender_msg(&other, 0, "who?", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, NULL), WARD_ERR_NO_SESSION);
    tsender_msg(&s, 3, "three", NULL, 0, &b);
    CHECK_EQ_INT(dec_tb(sk, &b, NULL), WARD_ERR_DUPLICATE);
    /* The output buffer at its maximum. */
    ward_buf small, before;
    ward_buf_init(&small, 8);
    grp_snap(sk, &before);
    CHECK_EQ_INT(ward_sender_key_decrypt(sk, good.d, good.n, &small),
                 WARD_ERR_TOO_BIG);
    CHECK_EQ_INT(small.len, 0);
    CHECK(grp_is(sk, &before));
    tsender_msg(&s, 2, "two", NULL, 0, &b);
    CHECK_EQ_INT(ward_sender_key_decrypt(sk, b.d, b.n, &small),
                 WARD_ERR_TOO_BIG);
    CHECK(grp_is(sk, &before));
    ward_buf_release(&small);
    ward_buf_release(&before);

    /* After all that: 6 (two more kept), then 2, 4, 5, 0, 1 late. */
    CHECK_EQ_INT(dec_tb(sk, &good, "six"), WARD_OK);
    const uint32_t late[] = {2, 4, 5, 0, 1};
    const char *texts[] = {"two", "four", "five", "zero", "one"};
    for (int i = 0; i < 5; i++) {
        tsender_msg(&s, late[i], texts[i], NULL, 0, &b);
        CHECK_EQ_INT(dec_tb(sk, &b, texts[i]), WARD_OK);
    }
    ward_sender_key_info info;
    info_of(sk, 0, &info);
    CHECK_EQ_INT(info.n_message_keys, 0);
    CHECK_EQ_INT(info.iteration, 7);
    ward_sender_key_free(sk);
}

static void test_sending(void)
{
    ward_sender_key *me = grp_new(), *them = grp_new();
    ward_buf d, m, pt;
    ward_buf_init(&d, 0);
    ward_buf_init(&m, 0);
    ward_buf_init(&pt, 0);
    /* Nothing to send with yet. */
    CHECK_EQ_INT(ward_sender_key_encrypt(me, (const uint8_t *)"x", 1, &m),
                 WARD_ERR_NO_SESSION);
    CHECK_EQ_INT(ward_sender_key_distribution(me, &d), WARD_ERR_NO_SESSION);
    REQUIRE(ward_sender_key_create(me, &d) == WARD_OK);
    REQUIRE(ward_sender_key_process(them, d.data, d.len) == WARD_OK);
    ward_sender_key_info mine, theirs;
    info_of(me, 0, &mine);
    info_of(them, 0, &theirs);
    CHECK_EQ_INT(mine.key_id, theirs.key_id);
    CHECK(mine.can_send && !theirs.can_send);
    /* Decrypting our own messages works (the state has the public key). */
    REQUIRE(ward_sender_key_encrypt(me, (const uint8_t *)"hi", 2, &m) ==
            WARD_OK);
    CHECK_EQ_INT(ward_sender_key_decrypt(them, m.data, m.len, &pt), WARD_OK);
    CHECK(pt.len == 2 && memcmp(pt.data, "hi", 2) == 0);

    /* The output at its maximum: nothing written, chain not advanced. */
    ward_buf tiny, snap;
    ward_buf_init(&tiny, 40);
    grp_snap(me, &snap);
    CHECK_EQ_INT(ward_sender_key_encrypt(me, (const uint8_t *)"hello", 5,
                                         &tiny),
                 WARD_ERR_TOO_BIG);
    CHECK_EQ_INT(tiny.len, 0);
    CHECK(grp_is(me, &snap));
    ward_buf_release(&tiny);
    ward_buf_release(&snap);

    /* Saved and loaded, it still signs with the same key. */
    ward_buf_init(&snap, 0);
    REQUIRE(ward_sender_key_serialize(me, &snap) == WARD_OK);
    ward_sender_key *again = NULL;
    REQUIRE(ward_sender_key_deserialize(&again, snap.data, snap.len) ==
            WARD_OK);
    ward_buf_clear(&m);
    REQUIRE(ward_sender_key_encrypt(again, (const uint8_t *)"reloaded", 8,
                                    &m) == WARD_OK);
    ward_buf_clear(&pt);
    CHECK_EQ_INT(ward_sender_key_decrypt(them, m.data, m.len, &pt), WARD_OK);
    ward_sender_key_free(again);

    /* At iteration 2^32 - 1 the chain is spent: patched in the record
     * (after magic, format, count and key id). */
    REQUIRE(snap.len > 13);
    memset(snap.data + 9, 0xff, 4);
    REQUIRE(ward_sender_key_deserialize(&again, snap.data, snap.len) ==
            WARD_OK);
    ward_buf_clear(&m);
    CHECK_EQ_INT(ward_sender_key_encrypt(again, (const uint8_t *)"x", 1, &m),
                 WARD_ERR_TOO_BIG);
    CHECK_EQ_INT(m.len, 0);
    ward_sender_key_free(again);
    ward_buf_release(&snap);

    /* A new key (rotation): one state, another key id, iteration 0. */
    ward_buf_clear(&d);
    REQUIRE(ward_sender_key_create(me, NULL) == WARD_OK);
    REQUIRE(ward_sender_key_create(me, &d) == WARD_OK);
    CHECK_EQ_INT(ward_sender_key_count(me), 1);
    ward_sender_key_info rotated;
    info_of(me, 0, &rotated);
    CHECK(rotated.key_id != mine.key_id);
    CHECK_EQ_INT(rotated.iteration, 0);
    /* Our own SKDM fed back into our own record keeps our private key. */
    CHECK_EQ_INT(ward_sender_key_process(me, d.data, d.len), WARD_OK);
    info_of(me, 0, &rotated);
    CHECK(rotated.can_send);
    /* A received SKDM on top of ours: we cannot send any more. */
    ward_buf od;
    ward_buf_init(&od, 0);
    ward_sender_key *x = grp_new();
    REQUIRE(ward_sender_key_create(x, &od) == WARD_OK);
    CHECK_EQ_INT(ward_sender_key_process(me, od.data, od.len), WARD_OK);
    ward_buf_clear(&m);
    CHECK_EQ_INT(ward_sender_key_encrypt(me, (const uint8_t *)"x", 1, &m),
                 WARD_ERR_NO_SESSION);
    ward_sender_key_free(x);
    ward_buf_release(&od);

    /* An SKDM written into a buffer at its maximum leaves the record. */
    ward_buf full;
    ward_buf_init(&full, 10);
    info_of(me, 0, &rotated);
    CHECK_EQ_INT(ward_sender_key_create(me, &full), WARD_ERR_TOO_BIG);
    CHECK_EQ_INT(full.len, 0);
    CHECK_EQ_INT(ward_sender_key_count(me), 2);
    ward_buf_release(&full);

    ward_buf_release(&d);
    ward_buf_release(&m);
    ward_buf_release(&pt);
    ward_sender_key_free(me);
    ward_sender_key_free(them);
}

static void test_arguments(void)
{
    ward_sender_key *sk = grp_new();
    ward_buf b;
    ward_buf_init(&b, 0);
    uint8_t x[100] = {0x33};
    CHECK_EQ_INT(ward_sender_key_new(NULL), WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_sender_key_create(NULL, &b), WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_sender_key_distribution(sk, NULL), WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_sender_key_process(NULL, x, sizeof x),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_sender_key_encrypt(sk, NULL, 1, &b),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_sender_key_encrypt(sk, x, 1, NULL),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_sender_key_decrypt(sk, x, sizeof x, NULL),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_sender_key_decrypt(NULL, x, sizeof x, &b),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_sender_key_serialize(NULL, &b), WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_sender_key_deserialize(NULL, x, 4),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_skdm_encode(&b, NULL), WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_sender_key_count(NULL), 0);
    CHECK_EQ_INT(b.len, 0);
    ward_sender_key_free(NULL);
    ward_buf_release(&b);
    ward_sender_key_free(sk);
}

/* ------------------------------------------------------------------------ */
/* 4. The record's byte format                                              */

static ward_err load(const uint8_t *p, size_t n)
{
    ward_sender_key *sk = NULL;
    uint8_t *c = dup_exact(p, n);
    ward_err e = ward_sender_key_deserialize(&sk, c, n);
    if (e == WARD_OK) {
        ward_buf again;
        grp_snap(sk, &again);
        CHECK(again.len == n && memcmp(again.data, p, n) == 0);
        ward_buf_release(&again);
    } else {
        CHECK(sk == NULL);
    }
    ward_sender_key_free(sk);
    free(c);
    return e;
}

/* Writes a little-endian u32 at |at|. */
static void put32(uint8_t *p, size_t at, uint32_t v)
{
    p[at] = (uint8_t)v;
    p[at + 1] = (uint8_t)(v >> 8);
    p[at + 2] = (uint8_t)(v >> 16);
    p[at + 3] = (uint8_t)(v >> 24);
}

static void test_record_format(void)
{
    /* An empty record: magic, format, no states. */
    ward_sender_key *sk = grp_new();
    ward_buf snap;
    grp_snap(sk, &snap);
    CHECK(snap.len == 5 && memcmp(snap.data, "WSK\x01\x00", 5) == 0);
    CHECK_EQ_INT(load(snap.data, snap.len), WARD_OK);
    ward_buf_release(&snap);

    /* Two states: ours (with its private key) and a received one with
     * three kept keys. */
    ward_buf d;
    ward_buf_init(&d, 0);
    REQUIRE(ward_sender_key_create(sk, &d) == WARD_OK);
    tsender s;
    tb b;
    tsender_init(&s, 4242, 10);
    tsender_skdm(&s, &b);
    REQUIRE(process_tb(sk, &b) == WARD_OK);
    tsender_msg(&s, 13, "13", NULL, 0, &b);
    REQUIRE(dec_tb(sk, &b, "13") == WARD_OK);
    grp_snap(sk, &snap);
    /* 5 + state (4+4+32+32+1+32+4 + 3 keys * 36) + ours (109) */
    const size_t state0 = 5, keys0 = state0 + 109, state1 = keys0 + 3 * 36;
    REQUIRE(snap.len == state1 + 109);
    CHECK_EQ_INT(snap.data[4], 2);
    CHECK_EQ_INT(snap.data[state0], 4242 & 0xff);
    CHECK_EQ_INT(snap.data[state0 + 4], 14);
    CHECK_EQ_INT(snap.data[state0 + 72], 0);  /* no private key */
    CHECK_EQ_INT(snap.data[state0 + 105], 3); /* three kept keys */
    CHECK_EQ_INT(snap.data[keys0], 10);
    CHECK_EQ_INT(snap.data[state1 + 72], 1);  /* ours */
    CHECK_EQ_INT(load(snap.data, snap.len), WARD_OK);

    /* Every truncation, and one byte more. */
    for (size_t n = 0; n < snap.len; n++)
        CHECK_EQ_INT(load(snap.data, n), WARD_ERR_BAD_STATE);
    uint8_t *longer = malloc(snap.len + 1);
    REQUIRE(longer);
    memcpy(longer, snap.data, snap.len);
    longer[snap.len] = 0;
    CHECK_EQ_INT(load(longer, snap.len + 1), WARD_ERR_BAD_STATE);
    free(longer);

    /* Each field out of range, on a copy. */
    struct {
        size_t at;
        uint32_t v;
        int width;
    } bad[] = {
        {0, 'X', 1},                  /* magic */
        {3, 2, 1},                    /* format */
        {4, 6, 1},                    /* six states */
        {4, 1, 1},                    /* one state, bytes left over */
        {state0 + 72, 2, 1},          /* flag not 0/1 */
        {state0 + 80, 1, 1},          /* a private key without the flag */
        {state0 + 105, 2001, 4},      /* too many kept keys */
        {state0 + 105, 4, 4},         /* more keys than bytes */
        {state0 + 4, 12, 4},          /* a kept key at the chain (12) */
        {keys0 + 36, 9, 4},           /* kept keys not increasing */
        {keys0 + 72, 11, 4},          /* ... or repeated */
        {state1, 4242, 4},            /* the same key id twice */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        uint8_t *c = dup_exact(snap.data, snap.len);
        if (bad[i].width == 1)
            c[bad[i].at] = (uint8_t)bad[i].v;
        else
            put32(c, bad[i].at, bad[i].v);
        ward_err e = load(c, snap.len);
        if (e != WARD_ERR_BAD_STATE)
            fprintf(stderr, "  bad record %zu loaded: %s\n", i,
                    ward_strerror(e));
        CHECK_EQ_INT(e, WARD_ERR_BAD_STATE);
        free(c);
    }
    /* Kept keys at the top of a large chain are fine. */
    uint8_t *c = dup_exact(snap.data, snap.len);
    put32(c, state0 + 4, 0xffffffffu);
    CHECK_EQ_INT(load(c, snap.len), WARD_OK);
    free(c);
    /* A record that claims 2,000 keys in a few bytes allocates nothing big
     * (ASan would see a huge request) and is refused. */
    uint8_t tiny[5 + 109];
    memcpy(tiny, snap.data, 5 + 109);
    tiny[4] = 1;
    put32(tiny, 5 + 105, 2000);
    CHECK_EQ_INT(load(tiny, sizeof tiny), WARD_ERR_BAD_STATE);
    CHECK_EQ_INT(load(NULL, 0), WARD_ERR_BAD_STATE);

    ward_buf_release(&snap);
    ward_buf_release(&d);
    ward_sender_key_free(sk);
}

int main(void)
{
    REQUIRE(ward_crypto_init() == WARD_OK);
    test_known_answers();
    test_parse_sender_key_msg();
    test_parse_skdm();
    test_state_limit();
    test_message_key_limit();
    test_failed_decrypt_changes_nothing();
    test_sending();
    test_arguments();
    test_record_format();
    return wtest_done("test_proto_group");
}
