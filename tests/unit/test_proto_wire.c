/*
 * Unit tests for the proto module's v3 wire codec: SignalMessage and
 * PreKeySignalMessage parsing.
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

int main(void)
{
    REQUIRE(ward_crypto_init() == WARD_OK);
    test_wire_signal_message();
    test_wire_prekey_message();
    return wtest_done("test_proto_wire");
}
