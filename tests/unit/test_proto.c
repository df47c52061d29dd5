/*
 * Unit tests for the proto module: the v3 wire codec, X3DH sessions and the
 * Double Ratchet, identity trust, re-keying, the state formats, the Content
 * envelope and the error strings.
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
#include "wtest.h"

/* ------------------------------------------------------------------------ */
/* A protobuf writer of the test's own (independent of src/proto/pb.c).     */

typedef struct tb {
    uint8_t d[8192];
    size_t n;
} tb;

static void tb_byte(tb *b, uint8_t v)
{
    REQUIRE(b->n < sizeof b->d);
    b->d[b->n++] = v;
}

static void tb_raw(tb *b, const void *p, size_t n)
{
    REQUIRE(b->n + n <= sizeof b->d);
    if (n)
        memcpy(b->d + b->n, p, n);
    b->n += n;
}

static void tb_varint(tb *b, uint64_t v)
{
    do {
        uint8_t c = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            c |= 0x80;
        tb_byte(b, c);
    } while (v);
}

static void tb_key(tb *b, uint32_t field, unsigned wire_type)
{
    tb_varint(b, (uint64_t)field << 3 | wire_type);
}

static void tb_uint(tb *b, uint32_t field, uint64_t v)
{
    tb_key(b, field, 0);
    tb_varint(b, v);
}

static void tb_bytes(tb *b, uint32_t field, const void *p, size_t n)
{
    tb_key(b, field, 2);
    tb_varint(b, n);
    tb_raw(b, p, n);
}

/* A deterministic generator for the fuzz-style loops. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* An exact-size heap copy, so that AddressSanitizer sees any over-read. */
static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    REQUIRE(c);
    if (n)
        memcpy(c, p, n);
    return c;
}

static ward_err sm_parse_exact(const uint8_t *p, size_t n)
{
    ward_signal_msg m;
    uint8_t *c = dup_exact(p, n);
    ward_err e = ward_signal_msg_parse(&m, c, n);
    free(c);
    return e;
}

static ward_err pm_parse_exact(const uint8_t *p, size_t n)
{
    ward_prekey_msg m;
    uint8_t *c = dup_exact(p, n);
    ward_err e = ward_prekey_msg_parse(&m, c, n);
    free(c);
    return e;
}

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

/* ------------------------------------------------------------------------ */
/* 1. Wire codec                                                            */

static uint8_t RK[32];                                   /* a ratchet key */
static const uint8_t CT5[5] = {0xde, 0xad, 0xbe, 0xef, 0x00};
static const uint8_t MAC8[8] = {0xa0, 0xa1, 0xa2, 0xa3,
                                0xa4, 0xa5, 0xa6, 0xa7};

enum { SM_KEY = 1, SM_COUNTER = 2, SM_PREV = 4, SM_CT = 8, SM_ALL = 15 };

/* version || SignalMessage{ratchetKey, counter, previousCounter = 7,
 * ciphertext = CT5} || MAC8, leaving out the fields not in |fields|. */
static void sm_build(tb *b, uint8_t version, unsigned fields, uint64_t counter)
{
    uint8_t key[33];
    key[0] = 0x05;
    memcpy(key + 1, RK, 32);
    b->n = 0;
    tb_byte(b, version);
    if (fields & SM_KEY)
        tb_bytes(b, 1, key, 33);
    if (fields & SM_COUNTER)
        tb_uint(b, 2, counter);
    if (fields & SM_PREV)
        tb_uint(b, 3, 7);
    if (fields & SM_CT)
        tb_bytes(b, 4, CT5, sizeof CT5);
    tb_raw(b, MAC8, 8);
}

static void test_wire_signal_message(void)
{
    for (int i = 0; i < 32; i++)
        RK[i] = (uint8_t)(0x40 + i);

    /* Written out byte by byte from signal-wire.md and protobuf's rules. */
    uint8_t msg[1 + 35 + 3 + 2 + 7 + 8];
    size_t n = 0;
    msg[n++] = 0x33;                  /* (3 << 4) | 3 */
    msg[n++] = 0x0a;                  /* field 1, length-delimited */
    msg[n++] = 0x21;                  /* 33 bytes */
    msg[n++] = 0x05;                  /* DJB key type */
    memcpy(msg + n, RK, 32);
    n += 32;
    msg[n++] = 0x10;                  /* field 2, varint */
    msg[n++] = 0xac;                  /* 300 = 0xac 0x02 */
    msg[n++] = 0x02;
    msg[n++] = 0x18;                  /* field 3, varint */
    msg[n++] = 0x07;
    msg[n++] = 0x22;                  /* field 4, length-delimited */
    msg[n++] = 0x05;
    memcpy(msg + n, CT5, 5);
    n += 5;
    memcpy(msg + n, MAC8, 8);
    n += 8;
    REQUIRE(n == sizeof msg);

    ward_signal_msg m;
    memset(&m, 0xee, sizeof m);
    CHECK_EQ_INT(ward_signal_msg_parse(&m, msg, n), WARD_OK);
    CHECK_EQ_INT(m.version, 0x33);
    CHECK_MEM(m.ratchet_key, RK, 32);
    CHECK_EQ_INT(m.counter, 300);
    CHECK_EQ_INT(m.previous_counter, 7);
    CHECK(m.ciphertext == msg + 1 + 35 + 3 + 2 + 2);
    CHECK_EQ_INT(m.ciphertext_len, 5);
    CHECK(m.serialized == msg);
    CHECK_EQ_INT(m.serialized_len, n);

    /* The test's own builder gives the same bytes as the hand-written ones. */
    tb b;
    sm_build(&b, 0x33, SM_ALL, 300);
    CHECK_EQ_INT(b.n, n);
    CHECK_MEM(b.d, msg, n);

    /* Every truncation is refused and never over-reads. */
    int bad = 0;
    for (size_t k = 0; k < n; k++)
        if (sm_parse_exact(msg, k) != WARD_ERR_MALFORMED) {
            bad++;
            fprintf(stderr, "  signal truncation to %zu accepted\n", k);
        }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(ward_signal_msg_parse(&m, NULL, 0), WARD_ERR_MALFORMED);

    /* Out-parameters are written only on success. */
    ward_signal_msg untouched, pattern;
    memset(&untouched, 0xa5, sizeof untouched);
    memset(&pattern, 0xa5, sizeof pattern);
    CHECK_EQ_INT(ward_signal_msg_parse(&untouched, msg, n - 1),
                 WARD_ERR_MALFORMED);
    CHECK_MEM(&untouched, &pattern, sizeof pattern);

    /* Version bytes: the message version (high nibble) must be 3. */
    const uint8_t versions[] = {0x23, 0x43, 0x03, 0x13, 0xf3};
    for (size_t i = 0; i < sizeof versions; i++) {
        sm_build(&b, versions[i], SM_ALL, 300);
        CHECK_EQ_INT(sm_parse_exact(b.d, b.n), WARD_ERR_VERSION);
    }

    /* Required fields: ratchetKey, counter, ciphertext. previousCounter is
     * optional and reads as 0. */
    sm_build(&b, 0x33, SM_ALL & ~SM_KEY, 1);
    CHECK_EQ_INT(sm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    sm_build(&b, 0x33, SM_ALL & ~SM_COUNTER, 1);
    CHECK_EQ_INT(sm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    sm_build(&b, 0x33, SM_ALL & ~SM_CT, 1);
    CHECK_EQ_INT(sm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    sm_build(&b, 0x33, 0, 1);
    CHECK_EQ_INT(sm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    sm_build(&b, 0x33, SM_ALL & ~SM_PREV, 9);
    CHECK_EQ_INT(ward_signal_msg_parse(&m, b.d, b.n), WARD_OK);
    CHECK_EQ_INT(m.previous_counter, 0);
    CHECK_EQ_INT(m.counter, 9);

    /* Counter bounds: 0 and UINT32_MAX fit, 2^32 does not. */
    sm_build(&b, 0x33, SM_ALL, 0);
    CHECK_EQ_INT(ward_signal_msg_parse(&m, b.d, b.n), WARD_OK);
    CHECK_EQ_INT(m.counter, 0);
    sm_build(&b, 0x33, SM_ALL, UINT32_MAX);
    CHECK_EQ_INT(ward_signal_msg_parse(&m, b.d, b.n), WARD_OK);
    CHECK_EQ_INT(m.counter, UINT32_MAX);
    sm_build(&b, 0x33, SM_ALL, (uint64_t)UINT32_MAX + 1);
    CHECK_EQ_INT(sm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    sm_build(&b, 0x33, SM_ALL, UINT64_MAX);
    CHECK_EQ_INT(sm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);

    /* Ratchet keys: 33 bytes with type 0x05 and nothing else. */
    {
        uint8_t k32[32], k06[33], k34[34];
        memcpy(k32, RK, 32);
        k06[0] = 0x06;
        memcpy(k06 + 1, RK, 32);
        k34[0] = 0x05;
        memcpy(k34 + 1, RK, 32);
        k34[33] = 0;
        const uint8_t *keys[3] = {k32, k06, k34};
        const size_t lens[3] = {32, 33, 34};
        for (int i = 0; i < 3; i++) {
            b.n = 0;
            tb_byte(&b, 0x33);
            tb_bytes(&b, 1, keys[i], lens[i]);
            tb_uint(&b, 2, 1);
            tb_bytes(&b, 4, CT5, 5);
            tb_raw(&b, MAC8, 8);
            CHECK_EQ_INT(sm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
        }
        /* The key as a varint, and the counter as bytes: wrong wire types. */
        b.n = 0;
        tb_byte(&b, 0x33);
        tb_uint(&b, 1, 5);
        tb_uint(&b, 2, 1);
        tb_bytes(&b, 4, CT5, 5);
        tb_raw(&b, MAC8, 8);
        CHECK_EQ_INT(sm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
        sm_build(&b, 0x33, SM_ALL & ~SM_COUNTER, 0);
        b.n -= 8;
        tb_bytes(&b, 2, "\x01", 1);
        tb_raw(&b, MAC8, 8);
        CHECK_EQ_INT(sm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    }

    /* A length that runs past the end, including one that would fit only if
     * the MAC were part of the protobuf. */
    {
        uint8_t c[sizeof msg];
        memcpy(c, msg, n);
        c[1 + 35 + 3 + 2 + 1] = 0x50; /* ciphertext length 80 */
        CHECK_EQ_INT(sm_parse_exact(c, n), WARD_ERR_MALFORMED);
        c[1 + 35 + 3 + 2 + 1] = 5 + 8; /* runs into the MAC */
        CHECK_EQ_INT(sm_parse_exact(c, n), WARD_ERR_MALFORMED);
        c[1 + 35 + 3 + 2 + 1] = 6;
        CHECK_EQ_INT(sm_parse_exact(c, n), WARD_ERR_MALFORMED);
        memcpy(c, msg, n);
        c[2] = 0x22; /* key length 34: eats the counter's key byte */
        CHECK_EQ_INT(sm_parse_exact(c, n), WARD_ERR_MALFORMED);
        memcpy(c, msg, n);
        c[2] = 0xff; /* an unterminated length varint ... */
        c[3] = 0xff;
        CHECK_EQ_INT(sm_parse_exact(c, n), WARD_ERR_MALFORMED);
    }

    /* Varints: 10 bytes is the protobuf maximum; an 11-byte one is refused,
     * as is a 10-byte one whose last byte carries more than bit 63. */
    {
        b.n = 0;
        tb_byte(&b, 0x33);
        uint8_t key[33];
        key[0] = 5;
        memcpy(key + 1, RK, 32);
        tb_bytes(&b, 1, key, 33);
        size_t at = b.n;
        tb_byte(&b, 0x10);
        static const uint8_t eleven[11] = {0x85, 0x80, 0x80, 0x80, 0x80, 0x80,
                                           0x80, 0x80, 0x80, 0x80, 0x00};
        tb_raw(&b, eleven, 11);
        tb_bytes(&b, 4, CT5, 5);
        tb_raw(&b, MAC8, 8);
        CHECK_EQ_INT(sm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);

        /* The value 5 padded to the full 10 bytes is valid protobuf. */
        b.n = at;
        tb_byte(&b, 0x10);
        tb_raw(&b, eleven, 9);
        tb_byte(&b, 0x00);
        tb_bytes(&b, 4, CT5, 5);
        tb_raw(&b, MAC8, 8);
        CHECK_EQ_INT(ward_signal_msg_parse(&m, b.d, b.n), WARD_OK);
        CHECK_EQ_INT(m.counter, 5);

        b.n = at;
        tb_byte(&b, 0x10);
        tb_raw(&b, eleven, 9);
        tb_byte(&b, 0x02); /* bit 64 */
        tb_bytes(&b, 4, CT5, 5);
        tb_raw(&b, MAC8, 8);
        CHECK_EQ_INT(sm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);

        /* An 11-byte key varint too. */
        b.n = 0;
        tb_byte(&b, 0x33);
        static const uint8_t long_key[11] = {0x8a, 0x80, 0x80, 0x80, 0x80, 0x80,
                                             0x80, 0x80, 0x80, 0x80, 0x00};
        tb_raw(&b, long_key, 11);
        tb_byte(&b, 33);
        tb_raw(&b, key, 33);
        tb_uint(&b, 2, 1);
        tb_bytes(&b, 4, CT5, 5);
        tb_raw(&b, MAC8, 8);
        CHECK_EQ_INT(sm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    }

    /* Unknown fields of every skippable wire type are skipped. */
    {
        uint8_t key[33];
        key[0] = 5;
        memcpy(key + 1, RK, 32);
        b.n = 0;
        tb_byte(&b, 0x33);
        tb_uint(&b, 9, 123456789);
        tb_bytes(&b, 1, key, 33);
        tb_bytes(&b, 15, "junk", 4);
        tb_uint(&b, 2, 42);
        tb_key(&b, 10, 5); /* fixed32 */
        tb_raw(&b, "\x01\x02\x03\x04", 4);
        tb_uint(&b, 3, 41);
        tb_key(&b, 11, 1); /* fixed64 */
        tb_raw(&b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
        tb_bytes(&b, 4, CT5, 5);
        tb_uint(&b, 1000, 1); /* a two-byte key */
        tb_raw(&b, MAC8, 8);
        memset(&m, 0, sizeof m);
        CHECK_EQ_INT(ward_signal_msg_parse(&m, b.d, b.n), WARD_OK);
        CHECK_MEM(m.ratchet_key, RK, 32);
        CHECK_EQ_INT(m.counter, 42);
        CHECK_EQ_INT(m.previous_counter, 41);
        CHECK_EQ_INT(m.ciphertext_len, 5);
        CHECK(m.ciphertext && memcmp(m.ciphertext, CT5, 5) == 0);
        CHECK_EQ_INT(m.serialized_len, b.n);

        /* Group wire types (3, 4), undefined ones (6, 7) and field 0 are not
         * protobuf a parser may skip. */
        const unsigned wts[] = {3, 4, 6, 7};
        for (size_t i = 0; i < 4; i++) {
            sm_build(&b, 0x33, SM_ALL, 1);
            b.n -= 8;
            tb_key(&b, 12, wts[i]);
            tb_byte(&b, 0);
            tb_raw(&b, MAC8, 8);
            CHECK_EQ_INT(sm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
        }
        sm_build(&b, 0x33, SM_ALL, 1);
        b.n -= 8;
        tb_uint(&b, 0, 1);
        tb_raw(&b, MAC8, 8);
        CHECK_EQ_INT(sm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    }
}

enum {
    PM_PREKEY = 1,
    PM_BASE = 2,
    PM_IDENT = 4,
    PM_MSG = 8,
    PM_REG = 16,
    PM_SIGNED = 32,
    PM_ALL = 63
};

static uint8_t BASE[32], IDENT[32];

/* version || PreKeySignalMessage{preKeyId = 128, baseKey, identityKey,
 * message, registrationId = 12345, signedPreKeyId = 7}, fields in number
 * order as protobuf-c writes them. */
static void pm_build(tb *b, uint8_t version, unsigned fields,
                     const uint8_t *inner, size_t inner_n)
{
    uint8_t key[33];
    key[0] = 0x05;
    b->n = 0;
    tb_byte(b, version);
    if (fields & PM_PREKEY)
        tb_uint(b, 1, 128);
    if (fields & PM_BASE) {
        memcpy(key + 1, BASE, 32);
        tb_bytes(b, 2, key, 33);
    }
    if (fields & PM_IDENT) {
        memcpy(key + 1, IDENT, 32);
        tb_bytes(b, 3, key, 33);
    }
    if (fields & PM_MSG)
        tb_bytes(b, 4, inner, inner_n);
    if (fields & PM_REG)
        tb_uint(b, 5, 12345);
    if (fields & PM_SIGNED)
        tb_uint(b, 6, 7);
}

static void test_wire_prekey_message(void)
{
    for (int i = 0; i < 32; i++) {
        BASE[i] = (uint8_t)(0x80 + i);
        IDENT[i] = (uint8_t)(0xc0 + i);
    }
    tb inner, b;
    sm_build(&inner, 0x33, SM_ALL, 300);

    pm_build(&b, 0x33, PM_ALL, inner.d, inner.n);
    /* Spot-check the builder against protobuf's rules. */
    CHECK_EQ_INT(b.d[0], 0x33);
    CHECK_EQ_INT(b.d[1], 0x08); /* field 1 varint */
    CHECK_EQ_INT(b.d[2], 0x80); /* 128 = 0x80 0x01 */
    CHECK_EQ_INT(b.d[3], 0x01);
    CHECK_EQ_INT(b.d[4], 0x12); /* field 2 bytes */
    CHECK_EQ_INT(b.d[5], 0x21);
    CHECK_EQ_INT(b.d[6], 0x05);
    CHECK_EQ_INT(b.d[39], 0x1a); /* field 3 bytes */
    CHECK_EQ_INT(b.d[74], 0x22); /* field 4 bytes */
    CHECK_EQ_INT(b.d[75], inner.n);
    CHECK_EQ_INT(b.d[76 + inner.n], 0x28); /* field 5: 12345 = b9 60 */
    CHECK_EQ_INT(b.d[77 + inner.n], 0xb9);
    CHECK_EQ_INT(b.d[78 + inner.n], 0x60);
    CHECK_EQ_INT(b.d[79 + inner.n], 0x30); /* field 6 */
    CHECK_EQ_INT(b.d[80 + inner.n], 0x07);
    CHECK_EQ_INT(b.n, 81 + inner.n);

    ward_prekey_msg m;
    memset(&m, 0xee, sizeof m);
    CHECK_EQ_INT(ward_prekey_msg_parse(&m, b.d, b.n), WARD_OK);
    CHECK_EQ_INT(m.version, 0x33);
    CHECK_EQ_INT(m.registration_id, 12345);
    CHECK_EQ_INT(m.has_prekey_id, 1);
    CHECK_EQ_INT(m.prekey_id, 128);
    CHECK_EQ_INT(m.signed_prekey_id, 7);
    CHECK_MEM(m.base_key, BASE, 32);
    CHECK_MEM(m.identity_key, IDENT, 32);
    CHECK_EQ_INT(m.message.version, 0x33);
    CHECK_MEM(m.message.ratchet_key, RK, 32);
    CHECK_EQ_INT(m.message.counter, 300);
    CHECK_EQ_INT(m.message.previous_counter, 7);
    CHECK(m.message.serialized == b.d + 76);
    CHECK_EQ_INT(m.message.serialized_len, inner.n);
    CHECK_EQ_INT(m.message.ciphertext_len, 5);
    CHECK(m.message.ciphertext &&
          memcmp(m.message.ciphertext, CT5, 5) == 0);

    int bad = 0;
    for (size_t k = 0; k < b.n; k++)
        if (pm_parse_exact(b.d, k) != WARD_ERR_MALFORMED) {
            bad++;
            fprintf(stderr, "  prekey truncation to %zu accepted\n", k);
        }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(ward_prekey_msg_parse(&m, NULL, 0), WARD_ERR_MALFORMED);

    ward_prekey_msg untouched, pattern;
    memset(&untouched, 0xa5, sizeof untouched);
    memset(&pattern, 0xa5, sizeof pattern);
    CHECK_EQ_INT(ward_prekey_msg_parse(&untouched, b.d, b.n - 1),
                 WARD_ERR_MALFORMED);
    CHECK_MEM(&untouched, &pattern, sizeof pattern);

    pm_build(&b, 0x23, PM_ALL, inner.d, inner.n);
    CHECK_EQ_INT(pm_parse_exact(b.d, b.n), WARD_ERR_VERSION);
    pm_build(&b, 0x43, PM_ALL, inner.d, inner.n);
    CHECK_EQ_INT(pm_parse_exact(b.d, b.n), WARD_ERR_VERSION);
    {
        tb inner43;
        sm_build(&inner43, 0x43, SM_ALL, 300);
        pm_build(&b, 0x33, PM_ALL, inner43.d, inner43.n);
        ward_err e = pm_parse_exact(b.d, b.n);
        CHECK(e == WARD_ERR_VERSION || e == WARD_ERR_MALFORMED);
    }

    /* Required: signedPreKeyId, baseKey, identityKey, message. */
    const unsigned required[] = {PM_SIGNED, PM_BASE, PM_IDENT, PM_MSG};
    for (size_t i = 0; i < 4; i++) {
        pm_build(&b, 0x33, PM_ALL & ~required[i], inner.d, inner.n);
        CHECK_EQ_INT(pm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    }
    /* Optional: preKeyId and registrationId. */
    pm_build(&b, 0x33, PM_ALL & ~PM_PREKEY, inner.d, inner.n);
    memset(&m, 0xee, sizeof m);
    CHECK_EQ_INT(ward_prekey_msg_parse(&m, b.d, b.n), WARD_OK);
    CHECK_EQ_INT(m.has_prekey_id, 0);
    CHECK_EQ_INT(m.signed_prekey_id, 7);
    CHECK_EQ_INT(m.registration_id, 12345);
    pm_build(&b, 0x33, PM_ALL & ~PM_REG, inner.d, inner.n);
    memset(&m, 0xee, sizeof m);
    CHECK_EQ_INT(ward_prekey_msg_parse(&m, b.d, b.n), WARD_OK);
    CHECK_EQ_INT(m.registration_id, 0);
    CHECK_EQ_INT(m.has_prekey_id, 1);
    pm_build(&b, 0x33, PM_ALL & ~(PM_REG | PM_PREKEY), inner.d, inner.n);
    CHECK_EQ_INT(ward_prekey_msg_parse(&m, b.d, b.n), WARD_OK);

    /* The embedded message must itself be a complete SignalMessage. */
    pm_build(&b, 0x33, PM_ALL, inner.d, inner.n - 1);
    CHECK_EQ_INT(pm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    pm_build(&b, 0x33, PM_ALL, inner.d, 0);
    CHECK_EQ_INT(pm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    {
        tb noct;
        sm_build(&noct, 0x33, SM_ALL & ~SM_CT, 1);
        pm_build(&b, 0x33, PM_ALL, noct.d, noct.n);
        CHECK_EQ_INT(pm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    }

    /* Keys: 32 bytes, or 33 with type 0x06, are refused. */
    {
        uint8_t base33[33], ident33[33], base06[33], ident06[33];
        base33[0] = ident33[0] = 0x05;
        base06[0] = ident06[0] = 0x06;
        memcpy(base33 + 1, BASE, 32);
        memcpy(base06 + 1, BASE, 32);
        memcpy(ident33 + 1, IDENT, 32);
        memcpy(ident06 + 1, IDENT, 32);
        const struct {
            const uint8_t *base;
            size_t base_n;
            const uint8_t *ident;
            size_t ident_n;
        } cases[] = {
            {BASE, 32, ident33, 33},
            {base06, 33, ident33, 33},
            {base33, 33, IDENT, 32},
            {base33, 33, ident06, 33},
        };
        for (size_t i = 0; i < 4; i++) {
            b.n = 0;
            tb_byte(&b, 0x33);
            tb_bytes(&b, 2, cases[i].base, cases[i].base_n);
            tb_bytes(&b, 3, cases[i].ident, cases[i].ident_n);
            tb_bytes(&b, 4, inner.d, inner.n);
            tb_uint(&b, 6, 7);
            CHECK_EQ_INT(pm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
        }
        /* The same fields well formed parse. */
        b.n = 0;
        tb_byte(&b, 0x33);
        tb_bytes(&b, 2, base33, 33);
        tb_bytes(&b, 3, ident33, 33);
        tb_bytes(&b, 4, inner.d, inner.n);
        tb_uint(&b, 6, 7);
        CHECK_EQ_INT(pm_parse_exact(b.d, b.n), WARD_OK);
    }

    /* Integer fields above UINT32_MAX, or of the wrong wire type. */
    {
        uint8_t key[33];
        key[0] = 5;
        const uint32_t fields[] = {1, 5, 6};
        for (size_t i = 0; i < 3; i++) {
            for (int wrong_type = 0; wrong_type < 2; wrong_type++) {
                b.n = 0;
                tb_byte(&b, 0x33);
                memcpy(key + 1, BASE, 32);
                tb_bytes(&b, 2, key, 33);
                memcpy(key + 1, IDENT, 32);
                tb_bytes(&b, 3, key, 33);
                tb_bytes(&b, 4, inner.d, inner.n);
                if (fields[i] != 6)
                    tb_uint(&b, 6, 7);
                if (wrong_type)
                    tb_bytes(&b, fields[i], "\x07", 1);
                else
                    tb_uint(&b, fields[i], (uint64_t)UINT32_MAX + 1);
                CHECK_EQ_INT(pm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
            }
        }
    }

    /* Lengths past the end, and an overlong varint. */
    {
        pm_build(&b, 0x33, PM_ALL, inner.d, inner.n);
        uint8_t c[sizeof b.d];
        memcpy(c, b.d, b.n);
        c[75] = (uint8_t)(inner.n + 10); /* message length */
        CHECK_EQ_INT(pm_parse_exact(c, b.n), WARD_ERR_MALFORMED);
        memcpy(c, b.d, b.n);
        c[5] = 0x7f; /* base key length */
        CHECK_EQ_INT(pm_parse_exact(c, b.n), WARD_ERR_MALFORMED);

        pm_build(&b, 0x33, PM_ALL & ~PM_SIGNED, inner.d, inner.n);
        tb_byte(&b, 0x30);
        static const uint8_t eleven[11] = {0x87, 0x80, 0x80, 0x80, 0x80, 0x80,
                                           0x80, 0x80, 0x80, 0x80, 0x00};
        tb_raw(&b, eleven, 11);
        CHECK_EQ_INT(pm_parse_exact(b.d, b.n), WARD_ERR_MALFORMED);
    }

    /* Unknown fields are skipped. */
    {
        uint8_t key[33];
        key[0] = 5;
        b.n = 0;
        tb_byte(&b, 0x33);
        tb_uint(&b, 6, 7);
        tb_bytes(&b, 9, "??", 2);
        tb_uint(&b, 5, 12345);
        memcpy(key + 1, IDENT, 32);
        tb_bytes(&b, 3, key, 33);
        tb_key(&b, 13, 5);
        tb_raw(&b, "abcd", 4);
        tb_bytes(&b, 4, inner.d, inner.n);
        memcpy(key + 1, BASE, 32);
        tb_bytes(&b, 2, key, 33);
        tb_uint(&b, 100, 99);
        memset(&m, 0, sizeof m);
        CHECK_EQ_INT(ward_prekey_msg_parse(&m, b.d, b.n), WARD_OK);
        CHECK_EQ_INT(m.signed_prekey_id, 7);
        CHECK_EQ_INT(m.registration_id, 12345);
        CHECK_EQ_INT(m.has_prekey_id, 0);
        CHECK_MEM(m.base_key, BASE, 32);
        CHECK_MEM(m.identity_key, IDENT, 32);
        CHECK_EQ_INT(m.message.counter, 300);
    }
}

/* ------------------------------------------------------------------------ */
/* Session helpers                                                          */

typedef struct peer {
    ward_identity *id;
    ward_prekeys *pk;
} peer;

static void peer_make(peer *p, uint32_t signed_id, uint32_t ot_start,
                      uint32_t ot_count)
{
    REQUIRE(ward_identity_generate(&p->id) == WARD_OK);
    REQUIRE(ward_prekeys_new(&p->pk) == WARD_OK);
    REQUIRE(ward_prekeys_generate_signed(p->pk, p->id, signed_id,
                                         1700000000000ull) == WARD_OK);
    if (ot_count)
        REQUIRE(ward_prekeys_generate_onetime(p->pk, ot_start, ot_count) ==
                WARD_OK);
}

static void peer_free(peer *p)
{
    ward_identity_free(p->id);
    ward_prekeys_free(p->pk);
}

static ward_session *sess_new(void)
{
    ward_session *s = NULL;
    REQUIRE(ward_session_new(&s) == WARD_OK && s);
    return s;
}

typedef struct wmsg {
    uint8_t *p;
    size_t n;
    int type;
} wmsg;

static wmsg enc(ward_session *s, const void *pt, size_t n)
{
    ward_buf b;
    wmsg m = {NULL, 0, -1};
    ward_buf_init(&b, 0);
    ward_err e = ward_session_encrypt(s, pt, n, &b, &m.type);
    if (e)
        fprintf(stderr, "  encrypt: %s\n", ward_strerror(e));
    REQUIRE(e == WARD_OK);
    m.p = dup_exact(b.data, b.len);
    m.n = b.len;
    ward_buf_release(&b);
    return m;
}

static wmsg enc_str(ward_session *s, const char *text)
{
    return enc(s, text, strlen(text));
}

static void wmsg_free(wmsg *m)
{
    free(m->p);
    m->p = NULL;
    m->n = 0;
}

static ward_err dec(ward_session *s, peer *self, const wmsg *m, ward_buf *pt)
{
    uint8_t *c = dup_exact(m->p, m->n);
    ward_err e = ward_session_decrypt(s, self->id, self->pk, m->type, c, m->n,
                                      pt);
    free(c);
    return e;
}

static int dec_ok(ward_session *s, peer *self, const wmsg *m, const void *want,
                  size_t wn)
{
    ward_buf pt;
    ward_buf_init(&pt, 0);
    ward_err e = dec(s, self, m, &pt);
    int ok = e == WARD_OK && pt.len == wn &&
             (wn == 0 || memcmp(pt.data, want, wn) == 0);
    if (!ok)
        fprintf(stderr, "  decrypt: %s (%zu bytes, wanted %zu)\n",
                ward_strerror(e), pt.len, wn);
    ward_buf_release(&pt);
    return ok;
}

static ward_err dec_err(ward_session *s, peer *self, const wmsg *m)
{
    ward_buf pt;
    ward_buf_init(&pt, 0);
    ward_err e = dec(s, self, m, &pt);
    ward_buf_release(&pt);
    return e;
}

#define DEC_STR(s, self, m, str) \
    CHECK(dec_ok((s), (self), (m), (str), strlen(str)))

static void snap_session(const ward_session *s, ward_buf *b)
{
    ward_buf_init(b, 0);
    REQUIRE(ward_session_serialize(s, b) == WARD_OK);
}

static void snap_prekeys(const ward_prekeys *pk, ward_buf *b)
{
    ward_buf_init(b, 0);
    REQUIRE(ward_prekeys_serialize(pk, b) == WARD_OK);
}

static int buf_same(const ward_buf *a, const ward_buf *b)
{
    return a->len == b->len &&
           (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static int session_is(const ward_session *s, const ward_buf *snap)
{
    ward_buf b;
    snap_session(s, &b);
    int same = buf_same(&b, snap);
    ward_buf_release(&b);
    return same;
}

static int prekeys_are(const ward_prekeys *pk, const ward_buf *snap)
{
    ward_buf b;
    snap_prekeys(pk, &b);
    int same = buf_same(&b, snap);
    ward_buf_release(&b);
    return same;
}

static ward_session *sess_load(const ward_buf *snap)
{
    ward_session *s = NULL;
    REQUIRE(ward_session_deserialize(&s, snap->data, snap->len) == WARD_OK);
    return s;
}

static ward_session *sess_copy(const ward_session *s)
{
    ward_buf b;
    snap_session(s, &b);
    ward_session *c = sess_load(&b);
    ward_buf_release(&b);
    return c;
}

static ward_prekeys *prekeys_load(const ward_buf *snap)
{
    ward_prekeys *pk = NULL;
    REQUIRE(ward_prekeys_deserialize(&pk, snap->data, snap->len) == WARD_OK);
    return pk;
}

static void bundle_of(const peer *p, uint32_t signed_id, uint32_t ot,
                      ward_bundle *b)
{
    REQUIRE(ward_prekeys_bundle(p->pk, p->id, 1, signed_id, ot, b) ==
            WARD_OK);
}

/* Alice starts from Bob's bundle (signed prekey 1, one-time |ot|), sends a
 * PreKeySignalMessage, Bob answers and Alice reads the answer. */
static void establish(peer *alice, peer *bob, uint32_t ot, ward_session **as,
                      ward_session **bs)
{
    ward_bundle b;
    bundle_of(bob, 1, ot, &b);
    *as = sess_new();
    *bs = sess_new();
    REQUIRE(ward_session_init_from_bundle(*as, alice->id, &b) == WARD_OK);
    wmsg m = enc_str(*as, "establish");
    REQUIRE(m.type == WARD_MSG_PREKEY);
    REQUIRE(dec_ok(*bs, bob, &m, "establish", 9));
    wmsg r = enc_str(*bs, "ack");
    REQUIRE(r.type == WARD_MSG_SIGNAL);
    REQUIRE(dec_ok(*as, alice, &r, "ack", 3));
    wmsg_free(&m);
    wmsg_free(&r);
}

typedef struct id_list {
    uint32_t ids[64];
    uint8_t pubs[64][WARD_PUBKEY_LEN];
    size_t n;
} id_list;

static void collect_id(void *ctx, uint32_t id,
                       const uint8_t pub[WARD_PUBKEY_LEN])
{
    id_list *l = ctx;
    if (l->n < 64) {
        l->ids[l->n] = id;
        memcpy(l->pubs[l->n], pub, WARD_PUBKEY_LEN);
    }
    l->n++;
}

static int has_id(const id_list *l, uint32_t id)
{
    for (size_t i = 0; i < l->n && i < 64; i++)
        if (l->ids[i] == id)
            return 1;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* 2. Sessions                                                              */

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
/* 3. Identity                                                              */

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
/* 4. Re-keying                                                             */

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

/* ------------------------------------------------------------------------ */
/* 5. State formats                                                         */

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
/* 6. Content envelope                                                      */

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
/* 7. Error strings                                                         */

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
    test_wire_signal_message();
    test_wire_prekey_message();
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
    test_state_formats();
    test_prekeys_store();
    test_prekeys_import_rules();
    test_content();
    test_strerror();
    test_content_empty_body_null();
    return wtest_done("test_proto");
}
