/*
 * ward — the Signal-compatible protocol: keys, X3DH, the Double Ratchet and
 * the v3 wire format, byte-compatible with libsignal-protocol-c 2.3.
 *
 * Ownership: every _new/_generate/_deserialize returns an object the caller
 * frees with the matching _free (which wipes its secrets; _free(NULL) does
 * nothing). Output buffers are appended to, never replaced. Out-parameters
 * are written only on success.
 */
#ifndef WARD_PROTO_H
#define WARD_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "ward/buf.h"
#include "ward/err.h"

#define WARD_PUBKEY_LEN 33 /* serialised public key: 0x05 || X25519 key */
#define WARD_KEY_TYPE_DJB 0x05
#define WARD_SIGNATURE_LEN 64
#define WARD_PROTO_VERSION 3
#define WARD_VERSION_BYTE 0x33 /* (message version << 4) | current version */
#define WARD_MAC_LEN 8

/* Message type numbers as applications carry them beside the bytes. */
#define WARD_MSG_SIGNAL 2 /* SignalMessage ("whisper") */
#define WARD_MSG_PREKEY 3 /* PreKeySignalMessage */
#define WARD_MSG_SENDER_KEY 4 /* SenderKeyMessage (groups) */
#define WARD_MSG_SKDM 5       /* SenderKeyDistributionMessage */

/* libsignal's limits, which interoperating peers rely on. */
#define WARD_MAX_SKIP 2000           /* skipped keys per chain; max gap */
#define WARD_MAX_RECEIVER_CHAINS 5
#define WARD_MAX_ARCHIVED_STATES 40
/* Sender keys: states per (group, sender) record (sender_key_record.c's
 * MAX_STATES), message keys kept per state for late messages
 * (sender_key_state.c's MAX_MESSAGE_KEYS), and how far past its chain a
 * message may be (group_cipher.c). */
#define WARD_MAX_SENDER_KEY_STATES 5
#define WARD_MAX_SENDER_MESSAGE_KEYS 2000
#define WARD_MAX_SENDER_KEY_AHEAD 2000

/* ---- identities ---- */

typedef struct ward_identity ward_identity;

/* A fresh identity key pair and a random registration id (1..16380, as
 * libsignal's key helper draws them). Kept in secure memory. */
ward_err ward_identity_generate(ward_identity **out);

/* An identity from a known X25519 private key (clamped on the way in). */
ward_err ward_identity_from_private(ward_identity **out,
                                   const uint8_t priv[32],
                                   uint32_t registration_id);
void ward_identity_free(ward_identity *id);

/* The 33-byte serialised public key. */
void ward_identity_public(const ward_identity *id,
                          uint8_t pub[WARD_PUBKEY_LEN]);
uint32_t ward_identity_registration_id(const ward_identity *id);

/* Signs |msg| with the identity key (XEdDSA). */
ward_err ward_identity_sign(const ward_identity *id, const uint8_t *msg,
                            size_t n, uint8_t sig[WARD_SIGNATURE_LEN]);

/* Versioned byte format holding the private key: store it 0600. */
ward_err ward_identity_serialize(const ward_identity *id, ward_buf *out);
ward_err ward_identity_deserialize(ward_identity **out, const uint8_t *p,
                                   size_t n);

/* ---- this device's prekeys ---- */

typedef struct ward_prekeys ward_prekeys;

ward_err ward_prekeys_new(ward_prekeys **out);
void ward_prekeys_free(ward_prekeys *pk);

/* Generates a signed prekey with id |key_id| signed by |id|, replacing any
 * with the same id. |timestamp| is opaque (milliseconds, by convention). */
ward_err ward_prekeys_generate_signed(ward_prekeys *pk,
                                      const ward_identity *id,
                                      uint32_t key_id, uint64_t timestamp);

/* Generates |count| one-time prekeys with ids start_id, start_id + 1, ...
 * (ids wrap past 0xFFFFFE, as libsignal's do; 0 is never used). */
ward_err ward_prekeys_generate_onetime(ward_prekeys *pk, uint32_t start_id,
                                       uint32_t count);

/* Adds a signed or one-time prekey from raw private keys (import). */
ward_err ward_prekeys_add_signed(ward_prekeys *pk, uint32_t key_id,
                                 const uint8_t priv[32],
                                 const uint8_t sig[WARD_SIGNATURE_LEN],
                                 uint64_t timestamp);
ward_err ward_prekeys_add_onetime(ward_prekeys *pk, uint32_t key_id,
                                  const uint8_t priv[32]);

/* Number of one-time prekeys left, and removal (after a server confirms a
 * key was handed out, say). WARD_ERR_NO_PREKEY if the id is unknown. */
size_t ward_prekeys_onetime_count(const ward_prekeys *pk);
ward_err ward_prekeys_remove_onetime(ward_prekeys *pk, uint32_t key_id);

/* Calls |fn| for each one-time prekey (id, 33-byte public key), for upload. */
void ward_prekeys_each_onetime(const ward_prekeys *pk,
                               void (*fn)(void *ctx, uint32_t id,
                                          const uint8_t pub[WARD_PUBKEY_LEN]),
                               void *ctx);

ward_err ward_prekeys_serialize(const ward_prekeys *pk, ward_buf *out);
ward_err ward_prekeys_deserialize(ward_prekeys **out, const uint8_t *p,
                                  size_t n);

/* ---- prekey bundles ---- */

/* What a server hands out so that someone can start a session with us. */
typedef struct ward_bundle {
    uint32_t registration_id;
    uint32_t device_id;
    int has_prekey; /* one-time prekeys run out; then 0 */
    uint32_t prekey_id;
    uint8_t prekey[WARD_PUBKEY_LEN];
    uint32_t signed_prekey_id;
    uint8_t signed_prekey[WARD_PUBKEY_LEN];
    uint8_t signed_prekey_sig[WARD_SIGNATURE_LEN];
    uint8_t identity[WARD_PUBKEY_LEN];
} ward_bundle;

/* Fills |out| with our bundle using signed prekey |signed_id| and one-time
 * prekey |onetime_id| (0: none). WARD_ERR_NO_PREKEY for an unknown id. */
ward_err ward_prekeys_bundle(const ward_prekeys *pk, const ward_identity *id,
                             uint32_t device_id, uint32_t signed_id,
                             uint32_t onetime_id, ward_bundle *out);

/* ---- sessions ---- */

/*
 * A session record with one peer device: the current ratchet state, up to
 * 40 archived states (still able to decrypt late messages), and the peer's
 * trusted identity key.
 */
typedef struct ward_session ward_session;

ward_err ward_session_new(ward_session **out);
void ward_session_free(ward_session *s);

/* 1 if the session can encrypt. */
int ward_session_is_ready(const ward_session *s);

/*
 * X3DH as the initiator: checks the bundle's signed-prekey signature and
 * the peer's identity, then starts a new current state (archiving the old).
 * Errors: WARD_ERR_AUTH (bad signature), WARD_ERR_UNTRUSTED_IDENTITY (the
 * session trusts another identity key), WARD_ERR_MALFORMED (a key without
 * the 0x05 type byte), WARD_ERR_CRYPTO (a low-order key), WARD_ERR_NOMEM,
 * WARD_ERR_INVALID_ARG (a NULL argument).
 */
ward_err ward_session_init_from_bundle(ward_session *s,
                                       const ward_identity *self,
                                       const ward_bundle *bundle);

/*
 * Encrypts |n| bytes, appending the serialised message to |out| and its type
 * (WARD_MSG_PREKEY until the peer has answered, then WARD_MSG_SIGNAL) to
 * |*type|. WARD_ERR_NO_SESSION if the session cannot encrypt.
 */
ward_err ward_session_encrypt(ward_session *s, const uint8_t *pt, size_t n,
                              ward_buf *out, int *type);

/*
 * Decrypts a message of |type|, appending the plaintext to |pt|. A
 * PreKeySignalMessage may create the session (X3DH as the responder) and, on
 * success only, consumes its one-time prekey from |prekeys|. On any error the
 * session and |prekeys| are exactly as before.
 * Errors: WARD_ERR_MALFORMED, WARD_ERR_VERSION, WARD_ERR_AUTH (MAC,
 * padding or a low-order key), WARD_ERR_DUPLICATE (replay),
 * WARD_ERR_TOO_FAR_AHEAD, WARD_ERR_UNTRUSTED_IDENTITY, WARD_ERR_NO_SESSION,
 * WARD_ERR_NO_PREKEY, WARD_ERR_NOMEM, WARD_ERR_TOO_BIG (|pt| is at its
 * maximum), WARD_ERR_INVALID_ARG (a NULL argument).
 */
ward_err ward_session_decrypt(ward_session *s, const ward_identity *self,
                              ward_prekeys *prekeys, int type,
                              const uint8_t *msg, size_t n, ward_buf *pt);

/* The peer's trusted identity (33 bytes); 0 if none is known yet. */
int ward_session_remote_identity(const ward_session *s,
                                 uint8_t pub[WARD_PUBKEY_LEN]);

/* Accepts |pub| as the peer's identity after the user has confirmed a
 * change. The next bundle or PreKeySignalMessage with that key proceeds. */
ward_err ward_session_trust(ward_session *s,
                            const uint8_t pub[WARD_PUBKEY_LEN]);

/* Versioned byte format, with every key of the record: store it 0600. */
ward_err ward_session_serialize(const ward_session *s, ward_buf *out);
ward_err ward_session_deserialize(ward_session **out, const uint8_t *p,
                                  size_t n);

/* ---- wire codec (what a server may look at: no keys needed) ---- */

typedef struct ward_signal_msg {
    uint8_t version;
    uint8_t ratchet_key[32]; /* without the type byte */
    uint32_t counter;
    uint32_t previous_counter;
    const uint8_t *ciphertext; /* points into the parsed bytes */
    size_t ciphertext_len;
    const uint8_t *serialized; /* the whole message, MAC included */
    size_t serialized_len;
} ward_signal_msg;

typedef struct ward_prekey_msg {
    uint8_t version;
    uint32_t registration_id;
    int has_prekey_id;
    uint32_t prekey_id;
    uint32_t signed_prekey_id;
    uint8_t base_key[32];
    uint8_t identity_key[32];
    ward_signal_msg message; /* the embedded SignalMessage, parsed */
} ward_prekey_msg;

/* Parse without trusting any length; WARD_ERR_MALFORMED for anything that
 * is not a complete message, WARD_ERR_VERSION for another version. The
 * MAC is not checked here (that needs the keys). */
ward_err ward_signal_msg_parse(ward_signal_msg *out, const uint8_t *p,
                               size_t n);
ward_err ward_prekey_msg_parse(ward_prekey_msg *out, const uint8_t *p,
                               size_t n);

/* ---- sender keys (group messaging) ----
 *
 * A group member sends with one sender key: a chain key that advances once
 * per message and a Curve25519 signing key pair. It hands the chain key and
 * the signing public key to every other member in a
 * SenderKeyDistributionMessage (SKDM), which travels inside the one-to-one
 * sessions; each member keeps a record per (group, sender) holding what it
 * was given. This layer knows nothing of groups or members: the
 * application keeps one ward_sender_key per (group, sender, device).
 */

/* A SenderKeyMessage as parsed; the pointers point into the parsed bytes. */
typedef struct ward_sender_key_msg {
    uint8_t version;
    uint32_t key_id;
    uint32_t iteration;
    const uint8_t *ciphertext;
    size_t ciphertext_len;
    const uint8_t *signed_part; /* version || protobuf: what is signed */
    size_t signed_len;
    const uint8_t *signature;   /* WARD_SIGNATURE_LEN bytes */
} ward_sender_key_msg;

/* A SenderKeyDistributionMessage's content. |chain_key| is secret: wipe
 * the struct (ward_memzero) when done with it. */
typedef struct ward_skdm {
    uint8_t version;
    uint32_t key_id;
    uint32_t iteration;
    uint8_t chain_key[32];
    uint8_t signing_key[32]; /* X25519 public key, without the type byte */
} ward_skdm;

/* Parse without trusting any length. WARD_ERR_MALFORMED for anything that
 * is not a complete message (a missing field, a signing key that is not 33
 * bytes with the 0x05 type, a chain key that is not 32 bytes, a number
 * above 2^32 - 1), WARD_ERR_VERSION for another version. The signature is
 * not checked here (that needs the sender's key). */
ward_err ward_sender_key_msg_parse(ward_sender_key_msg *out, const uint8_t *p,
                                   size_t n);
ward_err ward_skdm_parse(ward_skdm *out, const uint8_t *p, size_t n);
/* Appends version || protobuf, fields in number order as libsignal writes
 * them. */
ward_err ward_skdm_encode(ward_buf *out, const ward_skdm *m);

/*
 * The record of one (group, sender): up to WARD_MAX_SENDER_KEY_STATES
 * states, newest first, each with its key id, chain key and iteration,
 * signing public key (and private key, for our own sending state), and up
 * to WARD_MAX_SENDER_MESSAGE_KEYS message keys kept for messages that
 * arrive late.
 */
typedef struct ward_sender_key ward_sender_key;

ward_err ward_sender_key_new(ward_sender_key **out);
void ward_sender_key_free(ward_sender_key *sk);

/* What a state holds, for display and tests. */
typedef struct ward_sender_key_info {
    uint32_t key_id;
    uint32_t iteration;      /* of the next message on the chain */
    uint32_t n_message_keys; /* kept for late messages */
    int can_send;            /* holds the signing private key */
} ward_sender_key_info;

/* Number of states (0 to WARD_MAX_SENDER_KEY_STATES). */
size_t ward_sender_key_count(const ward_sender_key *sk);
/* State |i|, 0 being the newest. WARD_ERR_INVALID_ARG past the count. */
ward_err ward_sender_key_info_get(const ward_sender_key *sk, size_t i,
                                  ward_sender_key_info *out);

/*
 * Starts a new sending state in |sk|, the record of our own sending in one
 * group: a random key id (0 to 2^31 - 2, as libsignal draws them), a random
 * 32-byte chain key at iteration 0 and a fresh signing key pair. Every
 * state |sk| held is dropped, as libsignal's set_sender_key_state does
 * (rotation: members keep the old key id's state for late messages). The
 * SKDM of the new state is appended to |skdm| unless it is NULL.
 * Errors: WARD_ERR_NOMEM, WARD_ERR_TOO_BIG (|skdm| at its maximum; |sk| is
 * then unchanged), WARD_ERR_INVALID_ARG.
 */
ward_err ward_sender_key_create(ward_sender_key *sk, ward_buf *skdm);

/*
 * Appends the SKDM of our sending state (the newest) at its current
 * iteration, for a member who joins later: as libsignal's
 * group_session_builder_create_session does on a record that has a state.
 * WARD_ERR_NO_SESSION if the newest state is not ours (no private key).
 */
ward_err ward_sender_key_distribution(const ward_sender_key *sk,
                                      ward_buf *skdm);

/*
 * Adds the state a received SKDM describes to |sk| as its newest state,
 * dropping the oldest past WARD_MAX_SENDER_KEY_STATES. An SKDM for a key
 * id the record already has with the same signing key never moves that
 * state back: it is kept as it is (its chain position and kept keys; it
 * only becomes the newest), so that a repeated SKDM cannot make used
 * message keys valid again, unless the SKDM is more than
 * WARD_MAX_SENDER_KEY_AHEAD iterations ahead of it, when the state moves
 * on to the SKDM's chain position (keeping its kept keys), or no message
 * of that sender could be read again. The same key id with another
 * signing key replaces the old state. (libsignal-protocol-c 2.3 adds a
 * second state in both cases: docs/protocol.md.)
 * Errors: WARD_ERR_MALFORMED, WARD_ERR_VERSION, WARD_ERR_INVALID_ARG; on
 * any error |sk| is unchanged.
 */
ward_err ward_sender_key_process(ward_sender_key *sk, const uint8_t *skdm,
                                 size_t n);

/*
 * Encrypts |n| bytes with our sending state (the newest), appending the
 * signed SenderKeyMessage to |out| and advancing the chain.
 * Errors: WARD_ERR_NO_SESSION (no state, or the newest is not ours),
 * WARD_ERR_TOO_BIG (|out| at its maximum, |n| over 2^31 - 33, or the
 * chain at iteration 2^32 - 1), WARD_ERR_NOMEM, WARD_ERR_INVALID_ARG. On
 * any error |sk| and |out| are unchanged.
 */
ward_err ward_sender_key_encrypt(ward_sender_key *sk, const uint8_t *pt,
                                 size_t n, ward_buf *out);

/*
 * Decrypts a SenderKeyMessage, appending the plaintext to |pt|. The
 * signature is checked first, with the signing key of the state the
 * message's key id names; then the message key is taken from the kept
 * keys (an earlier iteration) or derived by advancing the chain (at most
 * WARD_MAX_SENDER_KEY_AHEAD steps, keeping the keys passed over). The
 * record changes only when the message decrypts.
 * Errors: WARD_ERR_MALFORMED, WARD_ERR_VERSION, WARD_ERR_NO_SESSION (no
 * state with that key id), WARD_ERR_AUTH (signature or padding),
 * WARD_ERR_DUPLICATE (an earlier iteration whose key is not kept: used, or
 * dropped), WARD_ERR_TOO_FAR_AHEAD, WARD_ERR_NOMEM, WARD_ERR_TOO_BIG (|pt|
 * at its maximum), WARD_ERR_INVALID_ARG. On any error |sk| and |pt| are
 * unchanged.
 */
ward_err ward_sender_key_decrypt(ward_sender_key *sk, const uint8_t *msg,
                                 size_t n, ward_buf *pt);

/* Versioned byte format with every key of the record (the signing private
 * key too): store it 0600. A truncated, corrupt or unknown-format blob is
 * WARD_ERR_BAD_STATE. */
ward_err ward_sender_key_serialize(const ward_sender_key *sk, ward_buf *out);
ward_err ward_sender_key_deserialize(ward_sender_key **out, const uint8_t *p,
                                     size_t n);

/* ---- the Content envelope (inside the encryption) ---- */

#define WARD_CONTENT_MAX_BODY (64 * 1024)
#define WARD_CONTENT_MAX_ATTACHMENTS 16
#define WARD_CONTENT_MAX_STRING 256
#define WARD_FRANKING_KEY_LEN 32
/* A SenderKeyDistributionMessage is about 90 bytes; this leaves room. */
#define WARD_CONTENT_MAX_SKDM 256

typedef struct ward_attachment {
    char id[WARD_CONTENT_MAX_STRING + 1]; /* server blob id */
    uint8_t key[32];                      /* blob encryption key */
    uint8_t sha256[32];                   /* of the plaintext */
    uint64_t size;                        /* plaintext bytes */
    char content_type[WARD_CONTENT_MAX_STRING + 1];
    char file_name[WARD_CONTENT_MAX_STRING + 1];
} ward_attachment;

typedef struct ward_content {
    char *body; /* UTF-8, NUL-terminated; NULL when absent */
    size_t body_len;
    ward_attachment *attachments;
    size_t n_attachments;
    int has_franking_key;
    uint8_t franking_key[WARD_FRANKING_KEY_LEN];
    uint64_t sent_at; /* milliseconds since the epoch */
    size_t group_id_len; /* 0: a one-to-one message */
    uint8_t group_id[32];
    /* A group key distribution (field 6): the sender's SKDM for the group
     * |group_id| names, handed over inside a one-to-one message. Secret
     * (it holds a chain key); 0 bytes when absent. A Content that has one
     * must have a group id, and the bytes must parse as an SKDM. */
    size_t skdm_len;
    uint8_t skdm[WARD_CONTENT_MAX_SKDM];
} ward_content;

void ward_content_init(ward_content *c);
/* Wipes and frees what the content holds; |c| is left empty. */
void ward_content_release(ward_content *c);

/* Sets the body (copied; must be valid UTF-8). */
ward_err ward_content_set_body(ward_content *c, const char *text, size_t n);
/* Appends a copy of |a|. */
ward_err ward_content_add_attachment(ward_content *c,
                                     const ward_attachment *a);

/* WARD_ERR_INVALID_ARG for a field out of range (a group id over 32
 * bytes, an SKDM over WARD_CONTENT_MAX_SKDM or without a group id). */
ward_err ward_content_encode(const ward_content *c, ward_buf *out);
/* WARD_ERR_MALFORMED for bad bytes, bad UTF-8, a field out of range, an
 * SKDM that does not parse or comes without a group id. */
ward_err ward_content_decode(ward_content *out, const uint8_t *p, size_t n);

/* ---- franking (verifiable reports) ----
 *
 * The sender commits to the Content bytes with a fresh franking key kf
 * (carried inside Content): c = HMAC-SHA256(kf, content). The server tags
 * the commitment with its own key: tag = HMAC-SHA256(server key,
 * "ward-frank-v1" || c || sender id || recipient id || server time), the
 * three numbers as 8-byte big-endian. A report reveals the content with
 * kf, c and the tag, and the server checks both MACs.
 */
#define WARD_FRANK_LEN 32
void ward_frank_commit(uint8_t out[WARD_FRANK_LEN],
                       const uint8_t kf[WARD_FRANKING_KEY_LEN],
                       const uint8_t *content, size_t n);
void ward_frank_tag(uint8_t out[WARD_FRANK_LEN], const uint8_t key[32],
                    const uint8_t commitment[WARD_FRANK_LEN], int64_t sender,
                    int64_t recipient, int64_t server_time);
/* Constant-time checks: 1 if the commitment (or tag) matches. */
int ward_frank_check_commit(const uint8_t c[WARD_FRANK_LEN],
                            const uint8_t kf[WARD_FRANKING_KEY_LEN],
                            const uint8_t *content, size_t n);
int ward_frank_check_tag(const uint8_t tag[WARD_FRANK_LEN],
                         const uint8_t key[32],
                         const uint8_t commitment[WARD_FRANK_LEN],
                         int64_t sender, int64_t recipient,
                         int64_t server_time);
/* A group message is tagged once for all its recipients, over the group
 * instead of the recipient, under its own label: tag = HMAC-SHA256(server
 * key, "ward-frank-group-v1" || c || sender id || group id || server
 * time), so a group tag never checks as a direct one, nor the reverse. */
void ward_frank_tag_group(uint8_t out[WARD_FRANK_LEN], const uint8_t key[32],
                          const uint8_t commitment[WARD_FRANK_LEN],
                          int64_t sender, int64_t group, int64_t server_time);
int ward_frank_check_tag_group(const uint8_t tag[WARD_FRANK_LEN],
                               const uint8_t key[32],
                               const uint8_t commitment[WARD_FRANK_LEN],
                               int64_t sender, int64_t group,
                               int64_t server_time);

#endif
