/*
 * sig_harness: a thin wrapper around libsignal-protocol-c (the reference
 * Signal Protocol v3 implementation) for ward's interoperability tests and
 * benchmarks.
 *
 * The API deals only in raw bytes so that ward code can be tested against
 * it without either side seeing the other's types. This header includes no
 * libsignal or ward header; link sig_harness.c with
 * `pkg-config --cflags --libs libsignal-protocol-c libcrypto`.
 *
 * Not thread-safe: use from one thread only.
 *
 * Return codes are libsignal's: 0 on success, negative SG_ERR_* values on
 * failure (mirrored below as SIGH_ERR_*), so tests can assert on them.
 */
#ifndef SIG_HARNESS_H
#define SIG_HARNESS_H

#include <stddef.h>
#include <stdint.h>

/* Message types, as libsignal's ciphertext_message_get_type() reports them. */
#define SIGH_MSG_SIGNAL 2       /* SignalMessage ("whisper") */
#define SIGH_MSG_PREKEY 3       /* PreKeySignalMessage */
#define SIGH_MSG_SENDERKEY 4    /* SenderKeyMessage */
#define SIGH_MSG_SKDM 5         /* SenderKeyDistributionMessage */

/* libsignal's result codes (same values as SG_* in signal_protocol.h). */
#define SIGH_OK 0
#define SIGH_ERR_NOMEM -12
#define SIGH_ERR_INVAL -22
#define SIGH_ERR_UNKNOWN -1000
#define SIGH_ERR_DUPLICATE_MESSAGE -1001
#define SIGH_ERR_INVALID_KEY -1002
#define SIGH_ERR_INVALID_KEY_ID -1003
#define SIGH_ERR_INVALID_MAC -1004
#define SIGH_ERR_INVALID_MESSAGE -1005
#define SIGH_ERR_INVALID_VERSION -1006
#define SIGH_ERR_LEGACY_MESSAGE -1007
#define SIGH_ERR_NO_SESSION -1008
#define SIGH_ERR_STALE_KEY_EXCHANGE -1009
#define SIGH_ERR_UNTRUSTED_IDENTITY -1010
#define SIGH_ERR_INVALID_PROTO_BUF -1100

/* Number of one-time prekeys (ids 1..N) a new party starts with. */
#define SIGH_NUM_PREKEYS 4
/* Id of the signed prekey a new party starts with. */
#define SIGH_SIGNED_PREKEY_ID 1
/* Device id of a new party, and assumed for peers not yet seen in a bundle. */
#define SIGH_DEFAULT_DEVICE 1

/*
 * A prekey bundle in plain bytes. Public keys are serialized (33 bytes:
 * 0x05 then the X25519 key); the signature is XEdDSA over signed_prekey_pub.
 */
typedef struct sigh_bundle {
    uint32_t registration_id;
    int32_t device_id;
    int has_prekey;             /* 0: no one-time prekey in this bundle */
    uint32_t prekey_id;
    uint8_t prekey_pub[33];
    uint32_t signed_prekey_id;
    uint8_t signed_prekey_pub[33];
    uint8_t signed_prekey_sig[64];
    uint8_t identity_pub[33];
} sigh_bundle;

typedef struct sigh_party sigh_party;

/*
 * Creates the shared libsignal context (crypto provider on OpenSSL).
 * Idempotent; the functions below call it implicitly. Returns 0 or < 0.
 */
int sigh_global_init(void);
/* Releases the shared context. Call only after every party is freed. */
void sigh_global_teardown(void);

/* Human-readable name of a SIGH_ERR_* / SG_ERR_* code (static string). */
const char *sigh_strerror(int code);

/*
 * A party: identity key pair, registration id, signed prekey
 * SIGH_SIGNED_PREKEY_ID and one-time prekeys 1..SIGH_NUM_PREKEYS, all in
 * in-memory stores. registration_id 0 picks a random one. NULL on failure.
 */
sigh_party *sigh_party_new(uint32_t registration_id);
/*
 * As sigh_party_new, but with a known identity private key and/or signed
 * prekey private key (32 bytes each, should be clamped); NULL means random.
 */
sigh_party *sigh_party_new_with_keys(uint32_t registration_id,
                                     const uint8_t identity_priv[32],
                                     const uint8_t signed_prekey_priv[32]);
void sigh_party_free(sigh_party *p);

/* Sets this party's own device id (used in its bundles and group sends). */
void sigh_party_set_device_id(sigh_party *p, int32_t device_id);
uint32_t sigh_party_registration_id(const sigh_party *p);

/* Serialized identity public key (0x05 || key) / the raw private key. */
int sigh_party_identity(sigh_party *p, uint8_t pub33[33]);
int sigh_party_identity_private(sigh_party *p, uint8_t priv32[32]);

/*
 * Adds a one-time prekey with this id (priv32 NULL: random); replaces any
 * existing key with the same id.
 */
int sigh_party_add_prekey(sigh_party *p, uint32_t id, const uint8_t priv32[32]);
/*
 * Adds a signed prekey (priv32 NULL: random), signed by the party's identity
 * key, and makes it the one its bundles advertise.
 */
int sigh_party_add_signed_prekey(sigh_party *p, uint32_t id,
                                 const uint8_t priv32[32]);
/* 1 if the one-time prekey is still in the store (not yet consumed). */
int sigh_party_has_prekey(sigh_party *p, uint32_t id);

/*
 * Fills a bundle with the next one-time prekey (ids 1, 2, ... in turn; one
 * is generated if that id is not in the store).
 */
int sigh_party_bundle(sigh_party *p, sigh_bundle *out);
/* Bundle with the given one-time prekey id, or none if prekey_id is 0. */
int sigh_party_bundle_ex(sigh_party *p, uint32_t prekey_id, sigh_bundle *out);

/*
 * session_builder_process_pre_key_bundle for address (peer, b->device_id).
 * Remembers b->device_id as the peer's device for later calls.
 */
int sigh_party_process_bundle(sigh_party *p, const char *peer,
                              const sigh_bundle *b);
/* Overrides the device id used for peer (default SIGH_DEFAULT_DEVICE). */
int sigh_party_set_peer_device(sigh_party *p, const char *peer,
                               int32_t device_id);
/* 1 if there is a session with peer, 0 if not. */
int sigh_party_has_session(sigh_party *p, const char *peer);
/*
 * Stored (trusted-on-first-use) identity key of peer: 1 and pub33 filled if
 * known, 0 if not.
 */
int sigh_party_peer_identity(sigh_party *p, const char *peer,
                             uint8_t pub33[33]);

/*
 * Encrypts to peer. On success *out (free() it) holds the serialized
 * message and *type is SIGH_MSG_SIGNAL or SIGH_MSG_PREKEY. Without a
 * session libsignal 2.3.3 fails with SIGH_ERR_UNKNOWN, not NO_SESSION.
 */
int sigh_party_encrypt(sigh_party *p, const char *peer, const uint8_t *pt,
                       size_t n, uint8_t **out, size_t *out_len, int *type);
/*
 * Decrypts a SIGH_MSG_SIGNAL or SIGH_MSG_PREKEY message from peer. On
 * success *pt holds the plaintext (free() it; it is never NULL, even when
 * *pt_len is 0). Any other type gives SIGH_ERR_INVAL.
 */
int sigh_party_decrypt(sigh_party *p, const char *peer, int type,
                       const uint8_t *ct, size_t n, uint8_t **pt,
                       size_t *pt_len);

/*
 * Sender keys (groups). self_name/sender name the sending member; its device
 * is the party's own device id for self, the peer device for others.
 */
/* Creates (or reuses) our sending chain; *skdm is the serialized
 * SenderKeyDistributionMessage (free() it). */
int sigh_group_create(sigh_party *p, const char *group, const char *self_name,
                      uint8_t **skdm, size_t *skdm_len);
int sigh_group_process(sigh_party *p, const char *group, const char *sender,
                       const uint8_t *skdm, size_t n);
/* Forgets the sender key record of (group, name) (self or a peer), as an
 * application does to rotate its own sending key: the next
 * sigh_group_create then starts a new key id. Returns 1 if there was one. */
int sigh_group_reset(sigh_party *p, const char *group, const char *name,
                     int self);
/* *out is a serialized SenderKeyMessage (free() it). */
int sigh_group_encrypt(sigh_party *p, const char *group, const char *self_name,
                       const uint8_t *pt, size_t n, uint8_t **out,
                       size_t *out_len);
int sigh_group_decrypt(sigh_party *p, const char *group, const char *sender,
                       const uint8_t *ct, size_t n, uint8_t **pt,
                       size_t *pt_len);

/*
 * XEdDSA signatures with raw 32-byte Curve25519 keys (no 0x05 prefix).
 * sigh_verify returns 1 valid, 0 invalid, < 0 error.
 */
int sigh_sign(const uint8_t priv32[32], const uint8_t *msg, size_t n,
              uint8_t sig[64]);
int sigh_verify(const uint8_t pub32[32], const uint8_t *msg, size_t n,
                const uint8_t sig[64]);
int sigh_pubkey_from_priv(const uint8_t priv32[32], uint8_t pub32[32]);
/* X25519 agreement (curve_calculate_agreement), for cross-checking DH. */
int sigh_agree(const uint8_t priv32[32], const uint8_t pub32[32],
               uint8_t shared32[32]);

#endif
