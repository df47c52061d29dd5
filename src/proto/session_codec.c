/*
 * The session record's byte format (format 1):
 *   "WSS" 1 | trusted flag, key | current flag, state | n archived, states
 * and each state, fixed-width and little-endian, receiver chains last.
 * Loading checks every count against libsignal's limits and the bytes left.
 * The ratchet key pair is stored whole: recomputing the public key cost a
 * scalar multiplication per state, 40 of them for a full record, on every
 * load; the store below keeps the bytes' integrity.
 */
#include <stdlib.h>
#include <string.h>

#include "proto_internal.h"
#include "ser.h"

#define SESSION_MAGIC "WSS"
#define SESSION_FORMAT 1

static void put_state(ward_ser_writer *w, const ward_state *st)
{
    ward_ser_u8(w, WARD_PROTO_VERSION);
    ward_ser_bytes(w, st->local_identity, 32);
    ward_ser_bytes(w, st->remote_identity, 32);
    ward_ser_u32(w, st->local_registration_id);
    ward_ser_u32(w, st->remote_registration_id);
    ward_ser_bytes(w, st->root, 32);
    ward_ser_u8(w, (uint8_t)st->has_sender);
    ward_ser_bytes(w, st->sender_ratchet.priv, 32);
    ward_ser_bytes(w, st->sender_ratchet.pub, 32);
    ward_ser_bytes(w, st->sender_key, 32);
    ward_ser_u32(w, st->sender_index);
    ward_ser_u32(w, st->previous_counter);
    ward_ser_u8(w, (uint8_t)st->has_pending);
    ward_ser_u8(w, (uint8_t)st->pending_has_prekey);
    ward_ser_u32(w, st->pending_prekey_id);
    ward_ser_u32(w, st->pending_signed_id);
    ward_ser_bytes(w, st->pending_base, 32);
    ward_ser_u8(w, (uint8_t)st->has_alice_base);
    ward_ser_bytes(w, st->alice_base, 32);
    ward_ser_u8(w, (uint8_t)st->n_recv);
    for (uint32_t i = 0; i < st->n_recv; i++) {
        const ward_chain *c = &st->recv[i];
        ward_ser_bytes(w, c->ratchet, 32);
        ward_ser_bytes(w, c->key, 32);
        ward_ser_u32(w, c->index);
        ward_ser_u32(w, c->n_skipped);
        for (uint32_t k = 0; k < c->n_skipped; k++) {
            ward_ser_u32(w, c->skipped[k].counter);
            ward_ser_bytes(w, c->skipped[k].seed, 32);
        }
    }
}

ward_err ward_session_serialize(const ward_session *s, ward_buf *out)
{
    ward_ser_writer w = {out, WARD_OK};
    size_t start = out->len;
    ward_ser_magic(&w, SESSION_MAGIC, SESSION_FORMAT);
    ward_ser_u8(&w, (uint8_t)s->has_trusted);
    ward_ser_bytes(&w, s->trusted, 32);
    ward_ser_u8(&w, s->current != NULL);
    if (s->current)
        put_state(&w, s->current);
    ward_ser_u8(&w, (uint8_t)s->n_archived);
    for (uint32_t i = 0; i < s->n_archived; i++)
        put_state(&w, s->archived[i]);
    if (w.err && out->len > start) {
        ward_memzero(out->data + start, out->len - start);
        out->len = start;
    }
    return w.err;
}

static ward_err get_chain(ward_ser_reader *r, ward_chain *c)
{
    uint32_t n = 0;
    ward_ser_read_bytes(r, c->ratchet, 32);
    ward_ser_read_bytes(r, c->key, 32);
    ward_ser_read_u32(r, &c->index);
    ward_ser_read_u32(r, &n);
    if (r->bad || n > WARD_MAX_SKIP || (size_t)n * 36 > r->n)
        return WARD_ERR_BAD_STATE;
    if (n) {
        c->skipped = malloc(n * sizeof *c->skipped);
        if (!c->skipped)
            return WARD_ERR_NOMEM;
    }
    c->n_skipped = n;
    for (uint32_t k = 0; k < n; k++) {
        ward_ser_read_u32(r, &c->skipped[k].counter);
        ward_ser_read_bytes(r, c->skipped[k].seed, 32);
        /* Skipped keys always lie behind the chain's position. */
        if (c->skipped[k].counter >= c->index)
            ward_ser_fail(r);
    }
    return r->bad ? WARD_ERR_BAD_STATE : WARD_OK;
}

static ward_err get_state(ward_ser_reader *r, ward_state **out)
{
    uint8_t version = 0, n_recv = 0;
    ward_state *st = ward_state_new();
    if (!st)
        return WARD_ERR_NOMEM;
    ward_ser_read_u8(r, &version);
    ward_ser_read_bytes(r, st->local_identity, 32);
    ward_ser_read_bytes(r, st->remote_identity, 32);
    ward_ser_read_u32(r, &st->local_registration_id);
    ward_ser_read_u32(r, &st->remote_registration_id);
    ward_ser_read_bytes(r, st->root, 32);
    ward_ser_read_flag(r, &st->has_sender);
    ward_ser_read_bytes(r, st->sender_ratchet.priv, 32);
    ward_ser_read_bytes(r, st->sender_ratchet.pub, 32);
    ward_ser_read_bytes(r, st->sender_key, 32);
    ward_ser_read_u32(r, &st->sender_index);
    ward_ser_read_u32(r, &st->previous_counter);
    ward_ser_read_flag(r, &st->has_pending);
    ward_ser_read_flag(r, &st->pending_has_prekey);
    ward_ser_read_u32(r, &st->pending_prekey_id);
    ward_ser_read_u32(r, &st->pending_signed_id);
    ward_ser_read_bytes(r, st->pending_base, 32);
    ward_ser_read_flag(r, &st->has_alice_base);
    ward_ser_read_bytes(r, st->alice_base, 32);
    ward_ser_read_u8(r, &n_recv);
    ward_err e = WARD_ERR_BAD_STATE;
    if (r->bad || version != WARD_PROTO_VERSION ||
        n_recv > WARD_MAX_RECEIVER_CHAINS)
        goto fail;
    for (st->n_recv = 0; st->n_recv < n_recv;) {
        e = get_chain(r, &st->recv[st->n_recv++]);
        if (e)
            goto fail;
    }
    *out = st;
    return WARD_OK;
fail:
    ward_state_free(st);
    return e;
}

ward_err ward_session_deserialize(ward_session **out, const uint8_t *p,
                                  size_t n)
{
    ward_ser_reader r = {p, n, 0};
    ward_session *s = NULL;
    int has_current = 0;
    uint8_t n_archived = 0;
    ward_err e = ward_session_new(&s);
    if (e)
        return e;
    ward_ser_expect_magic(&r, SESSION_MAGIC, SESSION_FORMAT);
    ward_ser_read_flag(&r, &s->has_trusted);
    ward_ser_read_bytes(&r, s->trusted, 32);
    ward_ser_read_flag(&r, &has_current);
    e = WARD_ERR_BAD_STATE;
    if (r.bad)
        goto fail;
    if (has_current && (e = get_state(&r, &s->current)))
        goto fail;
    ward_ser_read_u8(&r, &n_archived);
    if (r.bad || n_archived > WARD_MAX_ARCHIVED_STATES) {
        e = WARD_ERR_BAD_STATE;
        goto fail;
    }
    for (s->n_archived = 0; s->n_archived < n_archived; s->n_archived++)
        if ((e = get_state(&r, &s->archived[s->n_archived])))
            goto fail;
    if ((e = ward_ser_finish(&r)))
        goto fail;
    *out = s;
    return WARD_OK;
fail:
    ward_session_free(s);
    return e;
}
