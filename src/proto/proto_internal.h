/* Private to the proto module: ratchet state and internal codecs. */
#ifndef WARD_PROTO_INTERNAL_H
#define WARD_PROTO_INTERNAL_H

#include <stdint.h>

#include "ward/crypto.h"
#include "ward/proto.h"

typedef struct ward_keypair {
    uint8_t priv[32];
    uint8_t pub[32];
} ward_keypair;

struct ward_identity {
    ward_keypair key;
    uint32_t registration_id;
};

/* A skipped message key, kept as its 32-byte seed (HMAC(chain, 0x01)); the
 * 80 bytes of cipher key, MAC key and IV are derived only when it is used. */
typedef struct ward_skipped {
    uint32_t counter;
    uint8_t seed[32];
} ward_skipped;

typedef struct ward_chain {
    uint8_t ratchet[32]; /* their ratchet public key */
    uint8_t key[32];
    uint32_t index;
    ward_skipped *skipped; /* oldest first; at most WARD_MAX_SKIP; the
                              slots past n_skipped are always zero */
    uint32_t n_skipped;
} ward_chain;

typedef struct ward_state {
    uint8_t local_identity[32];
    uint8_t remote_identity[32];
    uint32_t local_registration_id;
    uint32_t remote_registration_id;
    uint8_t root[32];

    int has_sender;
    ward_keypair sender_ratchet;
    uint8_t sender_key[32];
    uint32_t sender_index;
    uint32_t previous_counter;

    ward_chain recv[WARD_MAX_RECEIVER_CHAINS]; /* oldest first */
    uint32_t n_recv;

    /* Until the peer answers, messages go out as PreKeySignalMessages. */
    int has_pending;
    int pending_has_prekey;
    uint32_t pending_prekey_id;
    uint32_t pending_signed_id;
    uint8_t pending_base[32];

    int has_alice_base;
    uint8_t alice_base[32]; /* identifies the X3DH run that made this state */
} ward_state;

struct ward_session {
    ward_state *current;                          /* NULL: none */
    ward_state *archived[WARD_MAX_ARCHIVED_STATES]; /* newest first */
    uint32_t n_archived;
    int has_trusted;
    uint8_t trusted[32];
};

/* keys */
ward_err ward_keypair_generate(ward_keypair *kp);
ward_err ward_key_decode(uint8_t out[32], const uint8_t *p, size_t n);
void ward_key_encode(uint8_t out[WARD_PUBKEY_LEN], const uint8_t key[32]);
/* Private key of a prekey, or NULL. */
const ward_keypair *ward_prekeys_find_signed(const ward_prekeys *pk,
                                             uint32_t id);
const ward_keypair *ward_prekeys_find_onetime(const ward_prekeys *pk,
                                              uint32_t id);

/* states */
ward_state *ward_state_new(void);
void ward_state_free(ward_state *st);
/* Adds a receiver chain, dropping the oldest past the limit. Allocates
 * nothing, so it cannot fail. */
void ward_state_add_chain(ward_state *st, const uint8_t ratchet[32],
                          const uint8_t key[32]);
/* Makes |st| the current state, archiving the old one. */
void ward_session_install(ward_session *s, ward_state *st);

/* kdf */
/* The chain step: message key seed HMAC(ck, 1) and next chain key
 * HMAC(ck, 2), computed together (|next| may be |chain|). */
void ward_chain_step(const uint8_t chain[32], uint8_t seed[32],
                     uint8_t next[32]);
ward_err ward_root_step(const uint8_t root[32], const uint8_t priv[32],
                        const uint8_t their_pub[32], uint8_t new_root[32],
                        uint8_t chain[32]);

/* X3DH */
ward_err ward_x3dh_responder(ward_state **out, const ward_identity *self,
                             const ward_prekeys *pk,
                             const ward_prekey_msg *m);

/* Decrypts one message with one state, changing the state only on success.
 * A low-order ratchet key is an authentication failure. */
ward_err ward_ratchet_decrypt(ward_state *st, const ward_signal_msg *m,
                              ward_buf *pt);
/* Encrypts with the current sending chain, appending the full message. */
ward_err ward_ratchet_encrypt(ward_state *st, const uint8_t *pt, size_t n,
                              ward_buf *out, int *type);

/* message keys: cipher key, MAC key, IV */
typedef struct ward_msg_keys {
    uint8_t cipher[32];
    uint8_t mac[32];
    uint8_t iv[16];
} ward_msg_keys;
void ward_msg_keys_derive(const uint8_t seed[32], ward_msg_keys *k);
/* A sender key's message keys: HKDF(seed, zero salt, "WhisperGroup", 48)
 * -> IV (16) || cipher key (32), the order differing from the above. */
void ward_group_keys_derive(const uint8_t seed[32], uint8_t iv[16],
                            uint8_t cipher[32]);
/* X3DH initiator: the new state from a verified bundle. */
ward_err ward_x3dh_initiator(ward_state **out, const ward_identity *self,
                             const ward_bundle *b, const uint8_t ik[32],
                             const uint8_t spk[32], const uint8_t *opk);

/* wire */
/* WARD_OK if a message's version byte carries version 3 in its high nibble
 * (libsignal reads only that nibble), else WARD_ERR_VERSION. */
ward_err ward_wire_check_version(uint8_t byte);
/* Writes a SignalMessage up to its ciphertext, whose length is |ct_len|:
 * the caller appends the ciphertext and the MAC. */
ward_err ward_signal_msg_encode_head(ward_buf *out,
                                     const uint8_t ratchet_key[32],
                                     uint32_t counter,
                                     uint32_t previous_counter, size_t ct_len);
ward_err ward_prekey_msg_encode(ward_buf *out, uint32_t registration_id,
                                int has_prekey_id, uint32_t prekey_id,
                                uint32_t signed_prekey_id,
                                const uint8_t base_key[32],
                                const uint8_t identity_key[32],
                                const uint8_t *inner, size_t inner_len);

#endif
