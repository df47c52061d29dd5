/*
 * The Double Ratchet on one state: encrypting on the sending chain, and
 * decrypting with a receiver chain, a skipped key, or a new DH ratchet step.
 * Decryption works on temporaries and commits to the state only after the
 * MAC and padding checked out, so a failed message changes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "proto_internal.h"

/* Checks the 8-byte MAC over sender identity || receiver identity || the
 * message without its MAC, then decrypts. */
static ward_err open_message(const ward_state *st, const uint8_t seed[32],
                             const ward_signal_msg *m, ward_buf *pt)
{
    ward_msg_keys k;
    ward_hmac h;
    uint8_t id[WARD_PUBKEY_LEN], mac[32];
    size_t body = m->serialized_len - WARD_MAC_LEN;

    ward_msg_keys_derive(seed, &k);
    ward_hmac_init(&h, k.mac, sizeof k.mac);
    ward_key_encode(id, st->remote_identity);
    ward_hmac_update(&h, id, sizeof id);
    ward_key_encode(id, st->local_identity);
    ward_hmac_update(&h, id, sizeof id);
    ward_hmac_update(&h, m->serialized, body);
    ward_hmac_final(&h, mac);

    ward_err e = WARD_ERR_AUTH;
    if (ward_ct_equal(mac, m->serialized + body, WARD_MAC_LEN))
        e = ward_aes256_cbc_decrypt(pt, k.cipher, k.iv, m->ciphertext,
                                    m->ciphertext_len);
    ward_memzero(&k, sizeof k);
    ward_memzero(mac, sizeof mac);
    return e;
}

static ward_chain *find_chain(ward_state *st, const uint8_t ratchet[32])
{
    for (uint32_t i = 0; i < st->n_recv; i++)
        if (memcmp(st->recv[i].ratchet, ratchet, 32) == 0)
            return &st->recv[i];
    return NULL;
}

/* Keys skipped on the way to a message: derived before the MAC check,
 * committed to the chain after it. */
typedef struct walk {
    uint8_t key[32];      /* chain key after the message */
    uint8_t seed[32];     /* the message's own key seed */
    ward_skipped *skipped;
    uint32_t n_skipped;
} walk;

static void walk_release(walk *w)
{
    if (w->skipped) {
        ward_memzero(w->skipped, w->n_skipped * sizeof *w->skipped);
        free(w->skipped);
    }
    ward_memzero(w, sizeof *w);
}

static ward_err walk_chain(walk *w, const uint8_t key[32], uint32_t index,
                           uint32_t counter)
{
    memset(w, 0, sizeof *w);
    if (counter - index > WARD_MAX_SKIP)
        return WARD_ERR_TOO_FAR_AHEAD;
    w->n_skipped = counter - index;
    if (w->n_skipped) {
        w->skipped = malloc(w->n_skipped * sizeof *w->skipped);
        if (!w->skipped)
            return WARD_ERR_NOMEM;
    }
    uint8_t ck[32];
    memcpy(ck, key, 32);
    for (uint32_t i = 0; i < w->n_skipped; i++) {
        w->skipped[i].counter = index + i;
        ward_chain_step(ck, w->skipped[i].seed, ck);
    }
    ward_chain_step(ck, w->seed, w->key);
    ward_memzero(ck, sizeof ck);
    return WARD_OK;
}

/* Moves the walk's skipped keys into |c|, dropping the oldest past the
 * limit as libsignal does. */
static ward_err chain_commit(ward_chain *c, walk *w, uint32_t counter)
{
    if (w->n_skipped && c->n_skipped == 0) {
        /* A chain with no skipped keys (always so for a new one) takes the
         * walk's array as it is: nothing to allocate, so nothing can fail. */
        free(c->skipped); /* emptied by late messages, or NULL */
        c->skipped = w->skipped;
        c->n_skipped = w->n_skipped;
        w->skipped = NULL;
        w->n_skipped = 0;
    } else if (w->n_skipped) {
        uint32_t total = c->n_skipped + w->n_skipped;
        uint32_t keep = total > WARD_MAX_SKIP ? WARD_MAX_SKIP : total;
        ward_skipped *arr = malloc(keep * sizeof *arr);
        if (!arr)
            return WARD_ERR_NOMEM;
        uint32_t drop = total - keep, n = 0;
        for (uint32_t i = 0; i < c->n_skipped; i++)
            if (i >= drop)
                arr[n++] = c->skipped[i];
        for (uint32_t i = 0; i < w->n_skipped; i++)
            if (c->n_skipped + i >= drop)
                arr[n++] = w->skipped[i];
        if (c->skipped) {
            ward_memzero(c->skipped, c->n_skipped * sizeof *c->skipped);
            free(c->skipped);
        }
        c->skipped = arr;
        c->n_skipped = n;
    }
    memcpy(c->key, w->key, 32);
    c->index = counter + 1;
    return WARD_OK;
}

static ward_err decrypt_skipped(ward_state *st, ward_chain *c,
                                const ward_signal_msg *m, ward_buf *pt)
{
    for (uint32_t i = 0; i < c->n_skipped; i++) {
        if (c->skipped[i].counter != m->counter)
            continue;
        ward_err e = open_message(st, c->skipped[i].seed, m, pt);
        if (e)
            return e;
        memmove(&c->skipped[i], &c->skipped[i + 1],
                (c->n_skipped - i - 1) * sizeof *c->skipped);
        c->n_skipped--;
        /* The slot past the end now holds a stale copy: keep every slot
         * past n_skipped zero, so no used key outlives its message. */
        ward_memzero(&c->skipped[c->n_skipped], sizeof *c->skipped);
        st->has_pending = 0;
        return WARD_OK;
    }
    return WARD_ERR_DUPLICATE;
}

static ward_err decrypt_existing(ward_state *st, ward_chain *c,
                                 const ward_signal_msg *m, ward_buf *pt)
{
    if (m->counter < c->index)
        return decrypt_skipped(st, c, m, pt);
    walk w;
    size_t before = pt->len;
    ward_err e = walk_chain(&w, c->key, c->index, m->counter);
    if (!e)
        e = open_message(st, w.seed, m, pt);
    if (!e) {
        e = chain_commit(c, &w, m->counter);
        if (e) {
            ward_memzero(pt->data + before, pt->len - before);
            pt->len = before;
        } else {
            st->has_pending = 0;
        }
    }
    walk_release(&w);
    return e;
}

/* A new ratchet key from the peer: two root steps, a new receiver chain and
 * a new sending chain with a fresh key pair. */
static ward_err decrypt_new_chain(ward_state *st, const ward_signal_msg *m,
                                  ward_buf *pt)
{
    uint8_t recv_root[32], recv_key[32], send_root[32], send_key[32];
    ward_keypair fresh;
    walk w;
    memset(&w, 0, sizeof w);
    size_t before = pt->len;

    ward_err e = ward_root_step(st->root, st->sender_ratchet.priv,
                                m->ratchet_key, recv_root, recv_key);
    if (e) {
        e = WARD_ERR_AUTH;
        goto done;
    }
    if ((e = walk_chain(&w, recv_key, 0, m->counter)))
        goto done;
    if ((e = open_message(st, w.seed, m, pt)))
        goto done;
    /* Only now, with an authentic message, pay for the new key pair. */
    if ((e = ward_keypair_generate(&fresh)) ||
        (e = ward_root_step(recv_root, fresh.priv, m->ratchet_key, send_root,
                            send_key))) {
        e = e == WARD_ERR_CRYPTO ? WARD_ERR_AUTH : e;
        goto undo;
    }
    /* From here nothing can fail: adding a chain and committing the walk
     * into an empty chain allocate nothing. */
    ward_state_add_chain(st, m->ratchet_key, recv_key);
    (void)chain_commit(&st->recv[st->n_recv - 1], &w, m->counter);
    memcpy(st->root, send_root, 32);
    st->previous_counter = st->sender_index > 0 ? st->sender_index - 1 : 0;
    st->sender_ratchet = fresh;
    memcpy(st->sender_key, send_key, 32);
    st->sender_index = 0;
    st->has_pending = 0;
    goto done;
undo:
    ward_memzero(pt->data + before, pt->len - before);
    pt->len = before;
done:
    walk_release(&w);
    ward_memzero(recv_root, sizeof recv_root);
    ward_memzero(recv_key, sizeof recv_key);
    ward_memzero(send_root, sizeof send_root);
    ward_memzero(send_key, sizeof send_key);
    ward_memzero(&fresh, sizeof fresh);
    return e;
}

ward_err ward_ratchet_decrypt(ward_state *st, const ward_signal_msg *m,
                              ward_buf *pt)
{
    if (!st->has_sender)
        return WARD_ERR_NO_SESSION;
    /* The chain's position after this message would wrap to 0. */
    if (m->counter == UINT32_MAX)
        return WARD_ERR_TOO_FAR_AHEAD;
    ward_chain *c = find_chain(st, m->ratchet_key);
    return c ? decrypt_existing(st, c, m, pt) : decrypt_new_chain(st, m, pt);
}

ward_err ward_ratchet_encrypt(ward_state *st, const uint8_t *pt, size_t n,
                              ward_buf *out, int *type)
{
    if (!st || !st->has_sender)
        return WARD_ERR_NO_SESSION;
    if (st->sender_index == UINT32_MAX)
        return WARD_ERR_TOO_BIG;

    uint8_t seed[32], next[32], mac[32], id[WARD_PUBKEY_LEN];
    ward_msg_keys k;
    ward_hmac h;
    ward_buf inner;
    ward_buf_init(&inner, 0);
    size_t start = out->len;
    size_t ct_len = (n / WARD_AES_BLOCK_LEN + 1) * WARD_AES_BLOCK_LEN;

    ward_chain_step(st->sender_key, seed, next);
    ward_msg_keys_derive(seed, &k);
    /* Until the peer answers, the SignalMessage goes inside a
     * PreKeySignalMessage; otherwise it is written straight to |out|. */
    ward_buf *msg = st->has_pending ? &inner : out;
    size_t msg_start = msg->len;

    ward_err e = ward_signal_msg_encode_head(msg, st->sender_ratchet.pub,
                                             st->sender_index,
                                             st->previous_counter, ct_len);
    if (!e)
        e = ward_aes256_cbc_encrypt(msg, k.cipher, k.iv, pt, n);
    if (e)
        goto done;
    ward_hmac_init(&h, k.mac, sizeof k.mac);
    ward_key_encode(id, st->local_identity);
    ward_hmac_update(&h, id, sizeof id);
    ward_key_encode(id, st->remote_identity);
    ward_hmac_update(&h, id, sizeof id);
    ward_hmac_update(&h, msg->data + msg_start, msg->len - msg_start);
    ward_hmac_final(&h, mac);
    if ((e = ward_buf_append(msg, mac, WARD_MAC_LEN)))
        goto done;
    if (st->has_pending)
        e = ward_prekey_msg_encode(
            out, st->local_registration_id, st->pending_has_prekey,
            st->pending_prekey_id, st->pending_signed_id, st->pending_base,
            st->local_identity, inner.data, inner.len);
    if (e)
        goto done;
    *type = st->has_pending ? WARD_MSG_PREKEY : WARD_MSG_SIGNAL;
    memcpy(st->sender_key, next, 32);
    st->sender_index++;
done:
    if (e && out->len > start) {
        ward_memzero(out->data + start, out->len - start);
        out->len = start;
    }
    ward_buf_release(&inner);
    ward_memzero(seed, sizeof seed);
    ward_memzero(next, sizeof next);
    ward_memzero(mac, sizeof mac);
    ward_memzero(&k, sizeof k);
    return e;
}
