/* Private to the proto module: sender key records (groups). */
#ifndef WARD_GROUP_INTERNAL_H
#define WARD_GROUP_INTERNAL_H

#include <stdint.h>

#include "proto_internal.h"

/*
 * One sender key state. Message keys are kept as their 32-byte seeds
 * (HMAC(chain, 0x01)), as the ratchet keeps skipped keys, oldest first with
 * strictly increasing iterations, all below |iteration|; the slots past
 * n_keys in the array are never read.
 */
typedef struct ward_sk_state {
    uint32_t key_id;
    uint32_t iteration; /* of the chain key: the next message's */
    uint8_t chain[32];
    uint8_t signing_pub[32];
    int has_private;
    uint8_t signing_priv[32]; /* zero unless has_private */
    ward_skipped *keys;       /* NULL when n_keys is 0 */
    uint32_t n_keys;
    /* Derived from the keys above on first use, never stored: the
     * signing key's Edwards forms save a base point multiplication per
     * message sent and a field inversion per message received. */
    int signer_ready, verifier_ready;
    ward_xeddsa_signer signer;
    ward_xeddsa_verifier verifier;
} ward_sk_state;

struct ward_sender_key {
    ward_sk_state states[WARD_MAX_SENDER_KEY_STATES]; /* newest first */
    uint32_t n_states;
};

/* Wipes a state and frees its kept keys; the state is left empty. */
void ward_sk_state_release(ward_sk_state *st);

/* Message framing: writes version || protobuf{id, iteration, ciphertext
 * header} for a ciphertext of |ct_len| bytes; the caller appends the
 * ciphertext and the signature. */
ward_err ward_sender_key_msg_encode_head(ward_buf *out, uint32_t key_id,
                                         uint32_t iteration, size_t ct_len);

#endif
