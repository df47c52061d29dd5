/*
 * Helpers shared by the proto module's unit tests (test_proto_wire.c,
 * test_proto_session.c, test_proto_state.c): a protobuf writer of the tests'
 * own, exact-size copies, and two peers' sessions. Each test program is one
 * translation unit that includes this header once.
 */
#ifndef WARD_TESTS_PROTO_HELPERS_H
#define WARD_TESTS_PROTO_HELPERS_H

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

static inline void tb_byte(tb *b, uint8_t v)
{
    REQUIRE(b->n < sizeof b->d);
    b->d[b->n++] = v;
}

static inline void tb_raw(tb *b, const void *p, size_t n)
{
    REQUIRE(b->n + n <= sizeof b->d);
    if (n)
        memcpy(b->d + b->n, p, n);
    b->n += n;
}

static inline void tb_varint(tb *b, uint64_t v)
{
    do {
        uint8_t c = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            c |= 0x80;
        tb_byte(b, c);
    } while (v);
}

static inline void tb_key(tb *b, uint32_t field, unsigned wire_type)
{
    tb_varint(b, (uint64_t)field << 3 | wire_type);
}

static inline void tb_uint(tb *b, uint32_t field, uint64_t v)
{
    tb_key(b, field, 0);
    tb_varint(b, v);
}

static inline void tb_bytes(tb *b, uint32_t field, const void *p, size_t n)
{
    tb_key(b, field, 2);
    tb_varint(b, n);
    tb_raw(b, p, n);
}

/* An exact-size heap copy, so that AddressSanitizer sees any over-read. */
static inline uint8_t *dup_exact(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    REQUIRE(c);
    if (n)
        memcpy(c, p, n);
    return c;
}

/* ------------------------------------------------------------------------ */
/* Session helpers                                                          */

typedef struct peer {
    ward_identity *id;
    ward_prekeys *pk;
} peer;

static inline void peer_make(peer *p, uint32_t signed_id,
                             uint32_t ot_start, uint32_t ot_count)
{
    REQUIRE(ward_identity_generate(&p->id) == WARD_OK);
    REQUIRE(ward_prekeys_new(&p->pk) == WARD_OK);
    REQUIRE(ward_prekeys_generate_signed(p->pk, p->id, signed_id,
                                         1700000000000ull) == WARD_OK);
    if (ot_count)
        REQUIRE(ward_prekeys_generate_onetime(p->pk, ot_start, ot_count) ==
                WARD_OK);
}

static inline void peer_free(peer *p)
{
    ward_identity_free(p->id);
    ward_prekeys_free(p->pk);
}

static inline ward_session *sess_new(void)
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

static inline wmsg enc(ward_session *s, const void *pt, size_t n)
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

static inline wmsg enc_str(ward_session *s, const char *text)
{
    return enc(s, text, strlen(text));
}

static inline void wmsg_free(wmsg *m)
{
    free(m->p);
    m->p = NULL;
    m->n = 0;
}

static inline ward_err dec(ward_session *s, peer *self, const wmsg *m,
                           ward_buf *pt)
{
    uint8_t *c = dup_exact(m->p, m->n);
    ward_err e = ward_session_decrypt(s, self->id, self->pk, m->type, c, m->n,
                                      pt);
    free(c);
    return e;
}

static inline int dec_ok(ward_session *s, peer *self, const wmsg *m,
                         const void *want, size_t wn)
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

static inline ward_err dec_err(ward_session *s, peer *self, const wmsg *m)
{
    ward_buf pt;
    ward_buf_init(&pt, 0);
    ward_err e = dec(s, self, m, &pt);
    ward_buf_release(&pt);
    return e;
}

#define DEC_STR(s, self, m, str) \
    CHECK(dec_ok((s), (self), (m), (str), strlen(str)))

static inline void snap_session(const ward_session *s, ward_buf *b)
{
    ward_buf_init(b, 0);
    REQUIRE(ward_session_serialize(s, b) == WARD_OK);
}

static inline void snap_prekeys(const ward_prekeys *pk, ward_buf *b)
{
    ward_buf_init(b, 0);
    REQUIRE(ward_prekeys_serialize(pk, b) == WARD_OK);
}

static inline int buf_same(const ward_buf *a, const ward_buf *b)
{
    return a->len == b->len &&
           (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static inline int session_is(const ward_session *s, const ward_buf *snap)
{
    ward_buf b;
    snap_session(s, &b);
    int same = buf_same(&b, snap);
    ward_buf_release(&b);
    return same;
}

static inline ward_session *sess_load(const ward_buf *snap)
{
    ward_session *s = NULL;
    REQUIRE(ward_session_deserialize(&s, snap->data, snap->len) == WARD_OK);
    return s;
}

static inline ward_prekeys *prekeys_load(const ward_buf *snap)
{
    ward_prekeys *pk = NULL;
    REQUIRE(ward_prekeys_deserialize(&pk, snap->data, snap->len) == WARD_OK);
    return pk;
}

static inline void bundle_of(const peer *p, uint32_t signed_id, uint32_t ot,
                             ward_bundle *b)
{
    REQUIRE(ward_prekeys_bundle(p->pk, p->id, 1, signed_id, ot, b) ==
            WARD_OK);
}

/* Alice starts from Bob's bundle (signed prekey 1, one-time |ot|), sends a
 * PreKeySignalMessage, Bob answers and Alice reads the answer. */
static inline void establish(peer *alice, peer *bob, uint32_t ot,
                             ward_session **as, ward_session **bs)
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

static inline void collect_id(void *ctx, uint32_t id,
                              const uint8_t pub[WARD_PUBKEY_LEN])
{
    id_list *l = ctx;
    if (l->n < 64) {
        l->ids[l->n] = id;
        memcpy(l->pubs[l->n], pub, WARD_PUBKEY_LEN);
    }
    l->n++;
}

static inline int has_id(const id_list *l, uint32_t id)
{
    for (size_t i = 0; i < l->n && i < 64; i++)
        if (l->ids[i] == id)
            return 1;
    return 0;
}

#endif
