/*
 * Sender keys: a record of up to five states per (group, sender), our own
 * sending state, SKDMs in and out, and SenderKeyMessages encrypted and
 * decrypted as libsignal-protocol-c's group_cipher.c does. Decryption
 * checks the signature before it looks at the iteration, and works on
 * temporaries until the message has decrypted: a message that fails
 * changes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "group_internal.h"

void ward_sk_state_release(ward_sk_state *st)
{
    if (st->keys) {
        ward_memzero(st->keys, st->n_keys * sizeof *st->keys);
        free(st->keys);
    }
    ward_memzero(st, sizeof *st);
}

ward_err ward_sender_key_new(ward_sender_key **out)
{
    if (!out)
        return WARD_ERR_INVALID_ARG;
    ward_sender_key *sk = calloc(1, sizeof *sk);
    if (!sk)
        return WARD_ERR_NOMEM;
    *out = sk;
    return WARD_OK;
}

static void drop_all(ward_sender_key *sk)
{
    for (uint32_t i = 0; i < sk->n_states; i++)
        ward_sk_state_release(&sk->states[i]);
    sk->n_states = 0;
}

void ward_sender_key_free(ward_sender_key *sk)
{
    if (!sk)
        return;
    drop_all(sk);
    ward_memzero(sk, sizeof *sk);
    free(sk);
}

size_t ward_sender_key_count(const ward_sender_key *sk)
{
    return sk ? sk->n_states : 0;
}

ward_err ward_sender_key_info_get(const ward_sender_key *sk, size_t i,
                                  ward_sender_key_info *out)
{
    if (!sk || !out || i >= sk->n_states)
        return WARD_ERR_INVALID_ARG;
    const ward_sk_state *st = &sk->states[i];
    out->key_id = st->key_id;
    out->iteration = st->iteration;
    out->n_message_keys = st->n_keys;
    out->can_send = st->has_private;
    return WARD_OK;
}

/* Index of the state with |key_id|, or n_states. A record never holds two
 * states with one key id (process replaces; the codec refuses). */
static uint32_t find_state(const ward_sender_key *sk, uint32_t key_id)
{
    uint32_t i = 0;
    while (i < sk->n_states && sk->states[i].key_id != key_id)
        i++;
    return i;
}

/* Moves state |i| to the front, keeping the others' order. */
static void to_front(ward_sender_key *sk, uint32_t i)
{
    ward_sk_state st = sk->states[i];
    memmove(&sk->states[1], &sk->states[0], i * sizeof sk->states[0]);
    sk->states[0] = st;
    ward_memzero(&st, sizeof st);
}

/* Takes |st| (its keys array too) as the newest state, dropping the
 * oldest past the limit as libsignal does. Cannot fail. */
static void push_front(ward_sender_key *sk, const ward_sk_state *st)
{
    if (sk->n_states == WARD_MAX_SENDER_KEY_STATES)
        ward_sk_state_release(&sk->states[--sk->n_states]);
    sk->states[sk->n_states++] = *st;
    to_front(sk, sk->n_states - 1);
}

static ward_err append_skdm(const ward_sk_state *st, ward_buf *out)
{
    ward_skdm m;
    m.version = WARD_VERSION_BYTE;
    m.key_id = st->key_id;
    m.iteration = st->iteration;
    memcpy(m.chain_key, st->chain, 32);
    memcpy(m.signing_key, st->signing_pub, 32);
    ward_err e = ward_skdm_encode(out, &m);
    ward_memzero(&m, sizeof m);
    return e;
}

ward_err ward_sender_key_create(ward_sender_key *sk, ward_buf *skdm)
{
    if (!sk)
        return WARD_ERR_INVALID_ARG;
    ward_sk_state st;
    uint32_t r;
    memset(&st, 0, sizeof st);
    /* libsignal's key helper draws sender key ids in 0 .. INT32_MAX - 1. */
    ward_random((uint8_t *)&r, sizeof r);
    st.key_id = r % INT32_MAX;
    ward_random(st.chain, sizeof st.chain);
    st.has_private = 1;
    ward_err e = ward_x25519_keypair(st.signing_priv, st.signing_pub);
    if (!e && skdm)
        e = append_skdm(&st, skdm);
    if (!e) {
        drop_all(sk);
        sk->states[0] = st;
        sk->n_states = 1;
    }
    ward_memzero(&st, sizeof st);
    return e;
}

ward_err ward_sender_key_distribution(const ward_sender_key *sk,
                                      ward_buf *skdm)
{
    if (!sk || !skdm)
        return WARD_ERR_INVALID_ARG;
    if (sk->n_states == 0 || !sk->states[0].has_private)
        return WARD_ERR_NO_SESSION;
    return append_skdm(&sk->states[0], skdm);
}

ward_err ward_sender_key_process(ward_sender_key *sk, const uint8_t *p,
                                 size_t n)
{
    if (!sk)
        return WARD_ERR_INVALID_ARG;
    ward_skdm m;
    ward_err e = ward_skdm_parse(&m, p, n);
    if (e)
        return e;
    uint32_t i = find_state(sk, m.key_id);
    if (i < sk->n_states &&
        memcmp(sk->states[i].signing_pub, m.signing_key, 32) == 0) {
        /* The same key again. Going back would make used message keys
         * valid again, so the state is never reset; but one further
         * behind than a message can reach (WARD_MAX_SENDER_KEY_AHEAD)
         * moves on to the SKDM's chain position, or it could never read
         * this sender again. Its kept keys stay: all are below its old
         * position, and a one-way chain moved forward derives none of
         * them. */
        ward_sk_state *st = &sk->states[i];
        if (m.iteration > st->iteration &&
            m.iteration - st->iteration > WARD_MAX_SENDER_KEY_AHEAD) {
            memcpy(st->chain, m.chain_key, 32);
            st->iteration = m.iteration;
        }
        to_front(sk, i);
    } else {
        if (i < sk->n_states) {
            /* Another key under the same id: the old one is no good. */
            ward_sk_state_release(&sk->states[i]);
            memmove(&sk->states[i], &sk->states[i + 1],
                    (sk->n_states - i - 1) * sizeof sk->states[0]);
            sk->n_states--;
            ward_memzero(&sk->states[sk->n_states], sizeof sk->states[0]);
        }
        ward_sk_state st;
        memset(&st, 0, sizeof st);
        st.key_id = m.key_id;
        st.iteration = m.iteration;
        memcpy(st.chain, m.chain_key, 32);
        memcpy(st.signing_pub, m.signing_key, 32);
        push_front(sk, &st);
        ward_memzero(&st, sizeof st);
    }
    ward_memzero(&m, sizeof m);
    return WARD_OK;
}

ward_err ward_sender_key_encrypt(ward_sender_key *sk, const uint8_t *pt,
                                 size_t n, ward_buf *out)
{
    if (!sk || (!pt && n) || !out)
        return WARD_ERR_INVALID_ARG;
    if (sk->n_states == 0 || !sk->states[0].has_private)
        return WARD_ERR_NO_SESSION;
    if (n > INT32_MAX - 32)
        return WARD_ERR_TOO_BIG; /* before the padded length can wrap */
    ward_sk_state *st = &sk->states[0];
    if (st->iteration == UINT32_MAX)
        return WARD_ERR_TOO_BIG;

    uint8_t seed[32], next[32], iv[16], key[32], sig[WARD_SIGNATURE_LEN];
    size_t start = out->len;
    size_t ct_len = (n / WARD_AES_BLOCK_LEN + 1) * WARD_AES_BLOCK_LEN;
    ward_chain_step(st->chain, seed, next);
    ward_group_keys_derive(seed, iv, key);
    ward_err e = ward_sender_key_msg_encode_head(out, st->key_id,
                                                 st->iteration, ct_len);
    if (!e)
        e = ward_aes256_cbc_encrypt(out, key, iv, pt, n);
    if (!e && !st->signer_ready) {
        e = ward_xeddsa_signer_init(&st->signer, st->signing_priv);
        st->signer_ready = e == WARD_OK;
    }
    if (!e)
        e = ward_xeddsa_signer_sign(sig, &st->signer, out->data + start,
                                    out->len - start);
    if (!e)
        e = ward_buf_append(out, sig, sizeof sig);
    if (!e) {
        memcpy(st->chain, next, 32);
        st->iteration++;
    } else if (out->len > start) {
        ward_memzero(out->data + start, out->len - start);
        out->len = start;
    }
    ward_memzero(seed, sizeof seed);
    ward_memzero(next, sizeof next);
    ward_memzero(iv, sizeof iv);
    ward_memzero(key, sizeof key);
    return e;
}

static ward_err open_body(const uint8_t seed[32],
                          const ward_sender_key_msg *m, ward_buf *pt)
{
    uint8_t iv[16], key[32];
    ward_group_keys_derive(seed, iv, key);
    ward_err e = ward_aes256_cbc_decrypt(pt, key, iv, m->ciphertext,
                                         m->ciphertext_len);
    ward_memzero(iv, sizeof iv);
    ward_memzero(key, sizeof key);
    return e;
}

/* An iteration behind the chain: only a kept key opens it, once. */
static ward_err decrypt_kept(ward_sk_state *st, const ward_sender_key_msg *m,
                             ward_buf *pt)
{
    for (uint32_t i = 0; i < st->n_keys; i++) {
        if (st->keys[i].counter != m->iteration)
            continue;
        ward_err e = open_body(st->keys[i].seed, m, pt);
        if (e)
            return e;
        ward_memzero(&st->keys[i], sizeof st->keys[i]);
        memmove(&st->keys[i], &st->keys[i + 1],
                (st->n_keys - i - 1) * sizeof st->keys[0]);
        st->n_keys--;
        /* No used key outlives its message, not even as a stale copy. */
        ward_memzero(&st->keys[st->n_keys], sizeof st->keys[0]);
        if (st->n_keys == 0) {
            free(st->keys);
            st->keys = NULL;
        }
        return WARD_OK;
    }
    return WARD_ERR_DUPLICATE;
}

/* At or past the chain: walk it to the message, keeping the keys passed
 * over (the oldest dropped past the limit, as libsignal does). */
static ward_err decrypt_ahead(ward_sk_state *st, const ward_sender_key_msg *m,
                              ward_buf *pt)
{
    /* The chain's position after this message would wrap to 0. */
    if (m->iteration == UINT32_MAX ||
        m->iteration - st->iteration > WARD_MAX_SENDER_KEY_AHEAD)
        return WARD_ERR_TOO_FAR_AHEAD;
    uint32_t gap = m->iteration - st->iteration;
    uint32_t total = st->n_keys + gap;
    uint32_t keep = total > WARD_MAX_SENDER_MESSAGE_KEYS
                        ? WARD_MAX_SENDER_MESSAGE_KEYS
                        : total;
    uint32_t drop = total - keep, n = 0;
    ward_skipped *keys = NULL;
    uint8_t ck[32], seed[32];

    /* Allocated before decrypting, so that once the message has
     * decrypted nothing can fail. */
    if (gap) {
        keys = malloc(keep * sizeof *keys);
        if (!keys)
            return WARD_ERR_NOMEM;
        for (uint32_t i = drop; i < st->n_keys; i++)
            keys[n++] = st->keys[i];
    }
    memcpy(ck, st->chain, 32);
    for (uint32_t j = 0; j < gap; j++) {
        ward_chain_step(ck, seed, ck);
        if (st->n_keys + j >= drop) {
            keys[n].counter = st->iteration + j;
            memcpy(keys[n].seed, seed, 32);
            n++;
        }
    }
    ward_chain_step(ck, seed, ck);
    ward_err e = open_body(seed, m, pt);
    if (!e) {
        if (gap) {
            if (st->keys) {
                ward_memzero(st->keys, st->n_keys * sizeof *st->keys);
                free(st->keys);
            }
            st->keys = keys;
            st->n_keys = n;
            keys = NULL;
        }
        memcpy(st->chain, ck, 32);
        st->iteration = m->iteration + 1;
    }
    if (keys) {
        ward_memzero(keys, keep * sizeof *keys);
        free(keys);
    }
    ward_memzero(ck, sizeof ck);
    ward_memzero(seed, sizeof seed);
    return e;
}

ward_err ward_sender_key_decrypt(ward_sender_key *sk, const uint8_t *msg,
                                 size_t n, ward_buf *pt)
{
    if (!sk || !pt)
        return WARD_ERR_INVALID_ARG;
    ward_sender_key_msg m;
    ward_err e = ward_sender_key_msg_parse(&m, msg, n);
    if (e)
        return e;
    uint32_t i = find_state(sk, m.key_id);
    if (i == sk->n_states)
        return WARD_ERR_NO_SESSION;
    ward_sk_state *st = &sk->states[i];
    /* Before anything else: nobody without the signing key learns
     * whether an iteration was used, nor makes us walk the chain. */
    if (!st->verifier_ready) {
        if ((e = ward_xeddsa_verifier_init(&st->verifier, st->signing_pub)))
            return e;
        st->verifier_ready = 1;
    }
    e = ward_xeddsa_verifier_verify(&st->verifier, m.signature,
                                    m.signed_part, m.signed_len);
    if (e)
        return e;
    if (m.iteration < st->iteration)
        return decrypt_kept(st, &m, pt);
    return decrypt_ahead(st, &m, pt);
}
