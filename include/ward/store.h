/*
 * ward — storage. One interface for the server's durable state: accounts,
 * login tokens, public keys, message queues and attachment records. SQLite
 * (WAL) is the embedded backend; others plug in behind the same functions.
 *
 * Times are milliseconds since the epoch, passed in by the caller so that
 * tests control the clock. A handle is used by one thread at a time.
 * Every write is durable when the call returns (synchronous commit).
 */
#ifndef WARD_STORE_H
#define WARD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ward/err.h"
#include "ward/proto.h"

typedef struct ward_store ward_store;

/* Opens (creating if needed) the SQLite database at |path|, mode 0600,
 * and brings its schema up to date. On failure, |err| (|errlen| bytes; may
 * be NULL) says why: a file that is not a ward database, a schema newer
 * than this program, a truncated file. */
ward_err ward_store_open_sqlite(ward_store **out, const char *path,
                                char *err, size_t errlen);
void ward_store_close(ward_store *st);

/* The last database error's text, for logs ("" if none). */
const char *ward_store_last_error(const ward_store *st);

/* ---- accounts ---- */

enum { WARD_AGE_MINOR = 1, WARD_AGE_ADULT = 2 };
#define WARD_USERNAME_MAX 32
#define WARD_PWHASH_MAX 128

typedef struct ward_account {
    int64_t id;
    char username[WARD_USERNAME_MAX + 1];
    int age_band;        /* WARD_AGE_* */
    int64_t created_at;
    char pwhash[WARD_PWHASH_MAX + 1]; /* crypto_pwhash_str output */
} ward_account;

/* WARD_ERR_EXISTS if the username is taken. */
ward_err ward_store_account_create(ward_store *st, const char *username,
                                   const char *pwhash, int age_band,
                                   int64_t now, int64_t *id);
/* WARD_ERR_NOT_FOUND if there is no such account. */
ward_err ward_store_account_by_name(ward_store *st, const char *username,
                                    ward_account *out);
ward_err ward_store_account_by_id(ward_store *st, int64_t id,
                                  ward_account *out);
/* Deletes the account with its tokens, keys and queued messages. */
ward_err ward_store_account_delete(ward_store *st, int64_t id);

/* ---- login tokens (stored as hashes only) ---- */

ward_err ward_store_token_put(ward_store *st, const uint8_t hash[32],
                              int64_t account, int64_t expires_at);
/* The account of an unexpired token; WARD_ERR_NOT_FOUND otherwise. */
ward_err ward_store_token_check(ward_store *st, const uint8_t hash[32],
                                int64_t now, int64_t *account);
ward_err ward_store_token_delete(ward_store *st, const uint8_t hash[32]);
/* Removes expired tokens; |*removed| (may be NULL) gets the count. */
ward_err ward_store_token_purge(ward_store *st, int64_t now, size_t *removed);

/* ---- public keys ---- */

typedef struct ward_store_prekey {
    uint32_t id;
    uint8_t pub[WARD_PUBKEY_LEN];
} ward_store_prekey;

/* Replaces the account's identity key and registration id. A different
 * identity key also drops the signed prekey and the one-time prekeys,
 * which belonged to the old key. */
ward_err ward_store_set_identity(ward_store *st, int64_t account,
                                 const uint8_t identity[WARD_PUBKEY_LEN],
                                 uint32_t registration_id);
ward_err ward_store_set_signed_prekey(ward_store *st, int64_t account,
                                      uint32_t id,
                                      const uint8_t pub[WARD_PUBKEY_LEN],
                                      const uint8_t sig[WARD_SIGNATURE_LEN]);
/* Adds one-time prekeys (an id already stored is replaced). Refuses the
 * whole batch with WARD_ERR_LIMIT if the account would hold more than
 * |max_total|. */
ward_err ward_store_add_prekeys(ward_store *st, int64_t account,
                                const ward_store_prekey *keys, size_t n,
                                size_t max_total);
ward_err ward_store_prekey_count(ward_store *st, int64_t account,
                                 size_t *count);

/* Identity, signed prekey and one-time prekeys in one transaction: all
 * are stored or none (WARD_ERR_LIMIT past |max_total| prekeys, or any
 * other error, leaves the account's keys as they were). NULL pointers
 * leave that part unchanged. */
typedef struct ward_store_keys {
    const uint8_t *identity; /* WARD_PUBKEY_LEN bytes, or NULL */
    uint32_t registration_id;
    const uint8_t *signed_pub; /* WARD_PUBKEY_LEN bytes, or NULL */
    const uint8_t *signed_sig; /* WARD_SIGNATURE_LEN bytes */
    uint32_t signed_id;
    const ward_store_prekey *prekeys;
    size_t n_prekeys;
} ward_store_keys;
ward_err ward_store_publish_keys(ward_store *st, int64_t account,
                                 const ward_store_keys *k, size_t max_total);
/*
 * The account's bundle for someone starting a session, atomically taking
 * one one-time prekey (the lowest id) if any is left; without one the
 * bundle has has_prekey = 0. |*remaining| (may be NULL) gets the count
 * left. WARD_ERR_NOT_FOUND if the account has no identity or signed prekey.
 */
ward_err ward_store_take_bundle(ward_store *st, int64_t account,
                                ward_bundle *out, size_t *remaining);

/* ---- message queues ---- */

typedef struct ward_store_msg {
    int64_t id; /* assigned by ward_store_queue_put */
    int64_t recipient;
    int64_t sender;
    char sender_name[WARD_USERNAME_MAX + 1];
    int type; /* WARD_MSG_* */
    int64_t server_time;
    int has_commitment;
    uint8_t commitment[32];
    const uint8_t *body; /* ciphertext; borrowed, see each call */
    size_t body_len;
} ward_store_msg;

/*
 * Queues |n| messages in one transaction (one disk sync for all: the
 * server batches sends this way). For each, |result[i]| is WARD_OK (and
 * msgs[i].id set), WARD_ERR_LIMIT (the recipient's queue holds |max_queue|
 * already) or WARD_ERR_NOT_FOUND (no such recipient); those are not
 * queued, the others are. Returns an error only if nothing was stored.
 */
ward_err ward_store_queue_put(ward_store *st, ward_store_msg *msgs, size_t n,
                              size_t max_queue, ward_err *result);

/* Calls |fn| for up to |limit| queued messages of |recipient| with ids
 * above |after|, oldest first; the body pointer is valid during the call.
 * A non-zero return from |fn| stops the listing. */
ward_err ward_store_queue_list(ward_store *st, int64_t recipient,
                               int64_t after, size_t limit,
                               int (*fn)(void *ctx, const ward_store_msg *m),
                               void *ctx);

/* Deletes message |id| if it is queued for |recipient|; WARD_ERR_NOT_FOUND
 * otherwise (so nobody can acknowledge another's message). */
ward_err ward_store_queue_ack(ward_store *st, int64_t recipient, int64_t id);

/* A group commit: acknowledgements and new messages in one transaction
 * (one disk sync). ack_result[i] is WARD_OK or WARD_ERR_NOT_FOUND (not
 * queued for that recipient), result[i] as ward_store_queue_put's. If the
 * database fails nothing is stored or deleted and every result is the
 * error. */
typedef struct ward_store_ack {
    int64_t recipient, id;
} ward_store_ack;
ward_err ward_store_queue_commit(ward_store *st, ward_store_msg *msgs,
                                 size_t n, size_t max_queue, ward_err *result,
                                 const ward_store_ack *acks, size_t n_acks,
                                 ward_err *ack_result);
ward_err ward_store_queue_depth(ward_store *st, int64_t recipient,
                                size_t *depth);
/* Messages queued for all recipients (for /metrics). */
ward_err ward_store_queue_total(ward_store *st, uint64_t *total);

/* ---- attachments (the blob bytes are files; this is their record) ---- */

#define WARD_BLOB_ID_LEN 32 /* lowercase hex characters */

typedef struct ward_blob {
    char id[WARD_BLOB_ID_LEN + 1];
    int64_t owner;
    uint64_t size;
    int64_t created_at;
    int64_t expires_at;
} ward_blob;

ward_err ward_store_blob_put(ward_store *st, const ward_blob *b);
ward_err ward_store_blob_get(ward_store *st, const char *id, ward_blob *out);
ward_err ward_store_blob_delete(ward_store *st, const char *id);
/* Calls |fn| for each blob expired at |now| (to delete its file), then
 * removes their records. */
ward_err ward_store_blob_expire(ward_store *st, int64_t now,
                                void (*fn)(void *ctx, const ward_blob *b),
                                void *ctx);

#endif
