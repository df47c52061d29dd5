/*
 * The sender key record's byte format (format 1):
 *   "WSK" 1 | n states (u8) | each state, newest first:
 *     key id (u32) | iteration (u32) | chain key (32) | signing public (32)
 *     | private flag (u8) | signing private (32, zeros without the flag)
 *     | n kept keys (u32) | each: iteration (u32), seed (32), oldest first
 * little-endian, with the ser.h helpers. Loading checks each count against
 * libsignal's limits and the bytes left before allocating, that kept keys
 * lie behind their chain in increasing order and that no key id appears
 * twice: the invariants decryption relies on.
 */
#include <stdlib.h>
#include <string.h>

#include "group_internal.h"
#include "ser.h"

#define SK_MAGIC "WSK"
#define SK_FORMAT 1
#define KEPT_KEY_BYTES 36 /* iteration + seed */

ward_err ward_sender_key_serialize(const ward_sender_key *sk, ward_buf *out)
{
    if (!sk || !out)
        return WARD_ERR_INVALID_ARG;
    ward_ser_writer w = {out, WARD_OK};
    size_t start = out->len;
    ward_ser_magic(&w, SK_MAGIC, SK_FORMAT);
    ward_ser_u8(&w, (uint8_t)sk->n_states);
    for (uint32_t i = 0; i < sk->n_states; i++) {
        const ward_sk_state *st = &sk->states[i];
        ward_ser_u32(&w, st->key_id);
        ward_ser_u32(&w, st->iteration);
        ward_ser_bytes(&w, st->chain, 32);
        ward_ser_bytes(&w, st->signing_pub, 32);
        ward_ser_u8(&w, (uint8_t)st->has_private);
        ward_ser_bytes(&w, st->signing_priv, 32);
        ward_ser_u32(&w, st->n_keys);
        for (uint32_t k = 0; k < st->n_keys; k++) {
            ward_ser_u32(&w, st->keys[k].counter);
            ward_ser_bytes(&w, st->keys[k].seed, 32);
        }
    }
    if (w.err && out->len > start) {
        ward_memzero(out->data + start, out->len - start);
        out->len = start;
    }
    return w.err;
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

static ward_err get_state(ward_ser_reader *r, ward_sk_state *st)
{
    uint32_t n = 0;
    ward_ser_read_u32(r, &st->key_id);
    ward_ser_read_u32(r, &st->iteration);
    ward_ser_read_bytes(r, st->chain, 32);
    ward_ser_read_bytes(r, st->signing_pub, 32);
    ward_ser_read_flag(r, &st->has_private);
    ward_ser_read_bytes(r, st->signing_priv, 32);
    ward_ser_read_u32(r, &n);
    /* One byte form per record: no stray private key without the flag. */
    if (r->bad || (!st->has_private && !all_zero(st->signing_priv, 32)) ||
        n > WARD_MAX_SENDER_MESSAGE_KEYS || (size_t)n * KEPT_KEY_BYTES > r->n)
        return WARD_ERR_BAD_STATE;
    if (n) {
        st->keys = malloc(n * sizeof *st->keys);
        if (!st->keys)
            return WARD_ERR_NOMEM;
    }
    st->n_keys = n;
    for (uint32_t k = 0; k < n; k++) {
        ward_ser_read_u32(r, &st->keys[k].counter);
        ward_ser_read_bytes(r, st->keys[k].seed, 32);
        if (st->keys[k].counter >= st->iteration ||
            (k > 0 && st->keys[k].counter <= st->keys[k - 1].counter))
            ward_ser_fail(r);
    }
    return r->bad ? WARD_ERR_BAD_STATE : WARD_OK;
}

ward_err ward_sender_key_deserialize(ward_sender_key **out, const uint8_t *p,
                                     size_t n)
{
    if (!out || (!p && n))
        return WARD_ERR_INVALID_ARG;
    ward_ser_reader r = {p, n, 0};
    ward_sender_key *sk = NULL;
    uint8_t n_states = 0;
    ward_err e = ward_sender_key_new(&sk);
    if (e)
        return e;
    ward_ser_expect_magic(&r, SK_MAGIC, SK_FORMAT);
    ward_ser_read_u8(&r, &n_states);
    e = WARD_ERR_BAD_STATE;
    if (r.bad || n_states > WARD_MAX_SENDER_KEY_STATES)
        goto fail;
    while (sk->n_states < n_states) {
        /* Counted before it is read, so that a failure frees its keys. */
        ward_sk_state *st = &sk->states[sk->n_states++];
        if ((e = get_state(&r, st)))
            goto fail;
        for (uint32_t i = 0; i + 1 < sk->n_states; i++)
            if (sk->states[i].key_id == st->key_id) {
                e = WARD_ERR_BAD_STATE;
                goto fail;
            }
    }
    if ((e = ward_ser_finish(&r)))
        goto fail;
    *out = sk;
    return WARD_OK;
fail:
    ward_sender_key_free(sk);
    return e;
}
