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

#include "ward/buf.h"
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

enum { WARD_STATUS_ACTIVE = 0, WARD_STATUS_SUSPENDED = 1,
       WARD_STATUS_BANNED = 2 };

typedef struct ward_account {
    int64_t id;
    char username[WARD_USERNAME_MAX + 1];
    int age_band;        /* WARD_AGE_* */
    int64_t created_at;
    char pwhash[WARD_PWHASH_MAX + 1]; /* crypto_pwhash_str output */
    int is_private;      /* only accounts it follows may find or reach it */
    int status;          /* WARD_STATUS_* as stored; see status_until */
    int64_t status_until; /* end of a suspension (ms) */
} ward_account;

/* The status in force at |now|: a suspension that has ended is active. */
int ward_account_status(const ward_account *a, int64_t now);

/* WARD_ERR_EXISTS if the username is taken. A minor's account starts
 * private, an adult's public. */
ward_err ward_store_account_create(ward_store *st, const char *username,
                                   const char *pwhash, int age_band,
                                   int64_t now, int64_t *id);
/* The same, for a minor who comes of age at |adult_at| (ms): from then on
 * ward_store_promote_adults makes the account an adult's. (Without it, a
 * minor's account stays a minor's.) */
ward_err ward_store_account_create_at(ward_store *st, const char *username,
                                      const char *pwhash, int age_band,
                                      int64_t adult_at, int64_t now,
                                      int64_t *id);
/* Minors' accounts whose coming of age is at or before |now| become
 * adults' (their privacy setting stays as it is); |*n| (may be NULL) gets
 * how many. */
ward_err ward_store_promote_adults(ward_store *st, int64_t now, size_t *n);
/* WARD_ERR_NOT_FOUND if there is no such account. */
ward_err ward_store_account_by_name(ward_store *st, const char *username,
                                    ward_account *out);
ward_err ward_store_account_by_id(ward_store *st, int64_t id,
                                  ward_account *out);
/* Deletes the account with its tokens, keys and queued messages. */
ward_err ward_store_account_delete(ward_store *st, int64_t id);

ward_err ward_store_account_set_private(ward_store *st, int64_t id,
                                       int is_private);
/* Sets the status (WARD_STATUS_*); |until| ends a suspension. Tokens are
 * kept, so the owner is told why (the API checks the status each time). */
ward_err ward_store_account_set_status(ward_store *st, int64_t id, int status,
                                       int64_t until);

/* ---- social graph (follows and blocks, by account id) ---- */

/* |*created| (may be NULL) is 0 when it already existed. */
ward_err ward_store_follow(ward_store *st, int64_t follower, int64_t followee,
                           int64_t now, int *created);
/* WARD_ERR_NOT_FOUND if |follower| did not follow |followee|. */
ward_err ward_store_unfollow(ward_store *st, int64_t follower,
                             int64_t followee);
/* Blocks, and removes the follows both ways, in one transaction.
 * |blocker_band| is kept with the block (the suspicious flag counts blocks
 * by minors). */
ward_err ward_store_block(ward_store *st, int64_t blocker, int blocker_band,
                          int64_t blocked, int64_t now, int *created);
ward_err ward_store_unblock(ward_store *st, int64_t blocker, int64_t blocked);

/* What lies between accounts |a| and |b|. */
typedef struct ward_store_relation {
    int a_follows_b, b_follows_a, a_blocked_b, b_blocked_a;
} ward_store_relation;
ward_err ward_store_relation_get(ward_store *st, int64_t a, int64_t b,
                                 ward_store_relation *out);

enum { WARD_LIST_FOLLOWING, WARD_LIST_FOLLOWERS, WARD_LIST_BLOCKED };
/* Calls |fn| with each account of the list, by username. */
ward_err ward_store_graph_list(ward_store *st, int64_t account, int which,
                               int (*fn)(void *ctx, int64_t id,
                                         const char *username),
                               void *ctx);
/* Friend-of-friend candidates for |account|: accounts followed by the
 * accounts it follows, not itself nor already followed, most shared
 * follows first, up to |limit|. The caller applies the contact policy. */
ward_err ward_store_suggestions(ward_store *st, int64_t account, size_t limit,
                                int (*fn)(void *ctx, int64_t id, int shared),
                                void *ctx);
/* How many distinct minors blocked or reported |account| at or after
 * |since| (the "suspicious" signal). */
ward_err ward_store_minor_signals(ward_store *st, int64_t account,
                                  int64_t since, size_t *count);

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
    int has_tag;         /* the server's franking tag over commitment, */
    uint8_t tag[32];     /* sender, recipient and server_time */
    uint32_t key_id;     /* which server franking key made the tag */
    const uint8_t *body; /* ciphertext; borrowed, see each call */
    size_t body_len;
    /* A group message's copy for one member (0: a direct message); its
     * tag is the group variant (ward_frank_tag_group), over the group id
     * instead of the recipient. |group_epoch| (not stored) is the epoch
     * whose membership the copies were addressed to: see
     * ward_store_queue_put. A direct message (type 2 or 3) may carry a
     * group id with |group_epoch| 0: a sender-key handover sent in that
     * group's context, with the direct tag and no epoch check. */
    int64_t group_id;
    int64_t group_epoch;
} ward_store_msg;

/*
 * Queues |n| messages in one transaction (one disk sync for all: the
 * server batches sends this way). For each, |result[i]| is WARD_OK (and
 * msgs[i].id set), WARD_ERR_LIMIT (the recipient's queue holds |max_queue|
 * already), WARD_ERR_NOT_FOUND (no such recipient) or, for a group
 * message's copy (|group_epoch| not 0), WARD_ERR_CONFLICT (the group's
 * epoch is no longer |group_epoch|, or the group is gone: its membership
 * changed since the copies were addressed, and none of them is queued;
 * for a handover in a group's context, the sender or the recipient is no
 * longer a member); those are not
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

/* ---- groups ----
 *
 * The server keeps each group's details and membership so that it can fan
 * a message out; the messages themselves stay end-to-end encrypted (each
 * member's sender key travels over the one-to-one sessions). Every
 * membership change (an add, a removal, a leave, an account deleted)
 * moves the group's |epoch| on: a sender that has not seen the latest
 * change is refused, so it rotates its sender key before sending again.
 * The last admin leaving makes the longest-standing member admin; the
 * last member leaving deletes the group.
 *
 * The changes made through these functions also queue a group event for
 * the members concerned (a message of type WARD_MSG_GROUP_EVENT from the
 * account that acted, without commitment or tag, counted against
 * |max_queue|: a member whose queue is full misses it, and learns of the
 * change when its next send is refused for the epoch). Its body is one
 * JSON object: {"group": ID, "event": "created"|"added"|"removed"|"left"|
 * "updated"|"role", "epoch": E, "actor": NAME, "actor_id": ID, and, except
 * for "updated", "target": NAME, "target_id": ID; "role" events also
 * "role": "admin"|"member"}.
 */

#define WARD_MSG_GROUP_EVENT 100 /* a server message about a group */
enum { WARD_GROUP_MEMBER = 1, WARD_GROUP_ADMIN = 2 };
#define WARD_GROUP_NAME_MAX 64  /* characters */
#define WARD_GROUP_DESC_MAX 500 /* characters */

typedef struct ward_group {
    int64_t id;
    char name[WARD_GROUP_NAME_MAX * 4 + 1];        /* UTF-8 */
    char description[WARD_GROUP_DESC_MAX * 4 + 1]; /* UTF-8 */
    char avatar[WARD_BLOB_ID_LEN + 1];             /* a blob id, "": none */
    int64_t created_by, created_at;
    int64_t epoch;
} ward_group;

typedef struct ward_group_member {
    int64_t account;
    char username[WARD_USERNAME_MAX + 1];
    int role; /* WARD_GROUP_MEMBER or WARD_GROUP_ADMIN */
    int64_t added_by; /* the account that added it (itself: the creator) */
    int64_t joined_at;
} ward_group_member;

/*
 * Creates the group |g| (name, description, avatar, created_by and
 * created_at are read; id and epoch are set) with its creator as admin
 * and the |n| accounts of |members| (the caller has checked the contact
 * policy for each) as members added by the creator, in one transaction.
 * Each member gets a "created" event naming the creator and, where
 * |notices| (may be NULL) has a non-NULL entry for it, that notice (kind
 * "group_added"). WARD_ERR_NOT_FOUND if an account does not exist,
 * WARD_ERR_EXISTS if one is listed twice or is the creator; nothing is
 * stored then.
 */
ward_err ward_store_group_create(ward_store *st, ward_group *g,
                                 const int64_t *members, size_t n,
                                 const char *const *notices,
                                 size_t max_queue);
/* WARD_ERR_NOT_FOUND if there is no such group. */
ward_err ward_store_group_get(ward_store *st, int64_t id, ward_group *out);
/* Changes what is not NULL: |name|, |description|, |avatar| ("" removes
 * it), and queues an "updated" event for the members but |actor|. The
 * epoch stays. WARD_ERR_NOT_FOUND for no such group. */
ward_err ward_store_group_update(ward_store *st, int64_t id, int64_t actor,
                                 const char *name, const char *description,
                                 const char *avatar, int64_t now,
                                 size_t max_queue);

/* Sets group |id|'s avatar to |n| bytes of |image| (an image of
 * |content_type| the caller checked) named |avatar_id| (at most
 * WARD_BLOB_ID_LEN characters; the group's "avatar" from then on), or
 * removes it (|image| NULL); an "updated" event to the members, as
 * ward_store_group_update. WARD_ERR_NOT_FOUND for no such group. */
ward_err ward_store_group_avatar_set(ward_store *st, int64_t id,
                                     int64_t actor, const uint8_t *image,
                                     size_t n, const char *content_type,
                                     const char *avatar_id, int64_t now,
                                     size_t max_queue);
/* Group |id|'s avatar into |image| (replacing what it held), its type
 * and its name; WARD_ERR_NOT_FOUND if it has none. */
ward_err ward_store_group_avatar_get(ward_store *st, int64_t id,
                                     ward_buf *image, char *content_type,
                                     size_t type_cap, char *avatar_id,
                                     size_t id_cap);

/* |account|'s membership of |group|; WARD_ERR_NOT_FOUND if not a member
 * (or no such group). */
ward_err ward_store_group_member(ward_store *st, int64_t group,
                                 int64_t account, ward_group_member *out);
/* Calls |fn| for each member, longest-standing first; a non-zero return
 * stops. */
ward_err ward_store_group_members(ward_store *st, int64_t group,
                                  int (*fn)(void *ctx,
                                            const ward_group_member *m),
                                  void *ctx);
/* How many members, and how many of them admins. */
ward_err ward_store_group_count(ward_store *st, int64_t group,
                                size_t *members, size_t *admins);
/* A member as the recipient of another's group message, with what the
 * contact policy needs to know of the pair ("a" is the sender). */
typedef struct ward_group_rcpt {
    int64_t id;
    char username[WARD_USERNAME_MAX + 1];
    int age_band, is_private;
    ward_store_relation rel;
} ward_group_rcpt;
/* Every member but |sender|, by account id; the caller applies the
 * contact policy. A non-zero return from |fn| stops. */
ward_err ward_store_group_recipients(ward_store *st, int64_t group,
                                     int64_t sender,
                                     int (*fn)(void *ctx,
                                               const ward_group_rcpt *r),
                                     void *ctx);
/*
 * Adds |account| as a member added by |actor|; the epoch moves on (|*epoch|
 * may be NULL) and every member but |actor| gets an "added" event, the new
 * member also |notice| (may be NULL). WARD_ERR_EXISTS if already a member,
 * WARD_ERR_NOT_FOUND for no such group or account, WARD_ERR_LIMIT if the
 * group already has |max_members|.
 */
ward_err ward_store_group_add(ward_store *st, int64_t group, int64_t account,
                              int64_t actor, int64_t now, size_t max_members,
                              const char *notice, size_t max_queue,
                              int64_t *epoch);
/*
 * Removes |account| from |group|: a leave when |actor| is |account| (a
 * "left" event to the others), a removal otherwise (a "removed" event to
 * the others but |actor|, and to |account|). The epoch moves on; if the
 * last admin went, the longest-standing member becomes admin (a "role"
 * event); if nobody is left the group is deleted and |*epoch| (may be
 * NULL) is 0. WARD_ERR_NOT_FOUND if |account| is not a member.
 */
ward_err ward_store_group_remove(ward_store *st, int64_t group,
                                 int64_t account, int64_t actor, int64_t now,
                                 size_t max_queue, int64_t *epoch);
/* Sets a member's role (a "role" event to the members but |actor|; the
 * epoch stays). WARD_ERR_NOT_FOUND if not a member, WARD_ERR_CONFLICT if
 * that would leave the group without an admin, WARD_ERR_INVALID_ARG for
 * a role that is neither. */
ward_err ward_store_group_set_role(ward_store *st, int64_t group,
                                   int64_t account, int role, int64_t actor,
                                   int64_t now, size_t max_queue);
/* Calls |fn| with each group |account| belongs to and its role there, by
 * group id. */
ward_err ward_store_groups_of(ward_store *st, int64_t account,
                              int (*fn)(void *ctx, const ward_group *g,
                                        int role),
                              void *ctx);
/* Whether |account| was a member of |group| at time |at| (also a group
 * since left, or deleted): |*was| 1 or 0. */
ward_err ward_store_group_member_at(ward_store *st, int64_t group,
                                    int64_t account, int64_t at, int *was);

/* ---- reports ---- */

enum { WARD_REPORT_MESSAGE = 1, WARD_REPORT_ACCOUNT = 2 };
/* In order of severity (the queue's second sort key). */
enum {
    WARD_REASON_CSE = 1, /* child sexual exploitation */
    WARD_REASON_GROOMING,
    WARD_REASON_SEXUAL_HARASSMENT,
    WARD_REASON_HARASSMENT,
    WARD_REASON_SPAM,
    WARD_REASON_OTHER,
};
enum { WARD_PRIORITY_NORMAL = 0, WARD_PRIORITY_HIGH = 1 };
enum { WARD_REPORT_OPEN = 0, WARD_REPORT_CLOSED = 1,
       WARD_REPORT_ESCALATED = 2 };
/* What the server found of a reported message's attachment. */
enum { WARD_EVIDENCE_NONE = 0, WARD_EVIDENCE_VERIFIED = 1,
       WARD_EVIDENCE_UNAVAILABLE = 2, WARD_EVIDENCE_MISMATCH = 3 };
#define WARD_REPORT_NOTE_MAX 1000
#define WARD_EVIDENCE_NAME_MAX 63

typedef struct ward_report {
    int64_t id;
    int kind, reason, priority, status;
    int64_t reporter, subject;
    char reporter_name[WARD_USERNAME_MAX + 1];
    char subject_name[WARD_USERNAME_MAX + 1];
    int reporter_band, subject_band;
    int64_t created_at;
    char note[WARD_REPORT_NOTE_MAX * 4 + 1]; /* UTF-8 */
    /* a message report's evidence, as revealed and verified */
    int64_t message_id, message_time;
    int64_t group_id; /* a group message's group; 0: a direct one */
    const uint8_t *content; /* Content bytes; borrowed, see each call */
    size_t content_len;
    uint8_t commitment[32], tag[32];
    uint32_t key_id;
    int attachment; /* WARD_EVIDENCE_* */
    char evidence[WARD_EVIDENCE_NAME_MAX + 1]; /* file under DATA/evidence */
    int held;       /* evidence kept (escalated) */
    char decision[16];
    int64_t decided_by, decided_at;
} ward_report;

/* Stores |r| (id, status and decision fields are ignored) and sets
 * r->id. */
ward_err ward_store_report_add(ward_store *st, ward_report *r);
/* |out->content| points into |content|, which the caller releases. */
ward_err ward_store_report_get(ward_store *st, int64_t id, ward_report *out,
                               ward_buf *content);

typedef struct ward_report_filter {
    int status;   /* -1: any */
    int reason;   /* 0: any */
    int priority; /* -1: any */
    int64_t subject; /* 0: any */
    int64_t reporter; /* 0: any */
} ward_report_filter;
/* Reports matching |f|, highest priority first, then most severe reason,
 * then oldest; |fn| sees them without content. */
ward_err ward_store_report_list(ward_store *st, const ward_report_filter *f,
                                size_t offset, size_t limit,
                                int (*fn)(void *ctx, const ward_report *r),
                                void *ctx);
/* Records a decision: |status| (WARD_REPORT_*), |decision| ("dismiss",
 * "warn", ...), who and when; |hold| sets the evidence hold (never
 * cleared). WARD_ERR_NOT_FOUND for no such report. */
ward_err ward_store_report_decide(ward_store *st, int64_t id, int status,
                                  const char *decision, int hold,
                                  int64_t moderator, int64_t now);

/* ---- notices to an account's owner (a moderator's warning) ---- */

#define WARD_NOTICE_TEXT_MAX 2000
typedef struct ward_notice {
    int64_t id, created_at;
    char kind[16];
    char text[WARD_NOTICE_TEXT_MAX + 1];
} ward_notice;

ward_err ward_store_notice_add(ward_store *st, int64_t account,
                               const char *kind, const char *text,
                               int64_t now);
/* The account's notices, oldest first (at most 100 at a time). */
ward_err ward_store_notice_list(ward_store *st, int64_t account,
                                int (*fn)(void *ctx, const ward_notice *n),
                                void *ctx);
/* Deletes the account's notices up to id |upto| (its owner has seen
 * them). */
ward_err ward_store_notice_ack(ward_store *st, int64_t account, int64_t upto);

/* Persistent counters (refused reports, for transparency figures). */
ward_err ward_store_counter_add(ward_store *st, const char *name,
                                int64_t delta);
ward_err ward_store_counter_get(ward_store *st, const char *name,
                                int64_t *value);

/* ---- moderators, console sessions, audit log ---- */

enum { WARD_ROLE_MODERATOR = 1, WARD_ROLE_ADMIN = 2 };
#define WARD_MODERATOR_NAME_MAX 32

typedef struct ward_moderator {
    int64_t id;
    char name[WARD_MODERATOR_NAME_MAX + 1];
    char pwhash[WARD_PWHASH_MAX + 1];
    int role;     /* WARD_ROLE_* */
    int disabled;
    int64_t created_at;
} ward_moderator;

ward_err ward_store_moderator_add(ward_store *st, const char *name,
                                  const char *pwhash, int role, int64_t now,
                                  int64_t *id);
ward_err ward_store_moderator_by_name(ward_store *st, const char *name,
                                      ward_moderator *out);
ward_err ward_store_moderator_by_id(ward_store *st, int64_t id,
                                    ward_moderator *out);
/* Changes the role and the disabled flag (disabling ends the sessions). */
ward_err ward_store_moderator_set(ward_store *st, int64_t id, int role,
                                  int disabled);
ward_err ward_store_moderator_list(ward_store *st,
                                   int (*fn)(void *ctx,
                                             const ward_moderator *m),
                                   void *ctx);

ward_err ward_store_console_session_put(ward_store *st,
                                        const uint8_t hash[32],
                                        int64_t moderator,
                                        const uint8_t csrf[32],
                                        int64_t expires_at);
/* The moderator and CSRF token of an unexpired session;
 * WARD_ERR_NOT_FOUND otherwise. */
ward_err ward_store_console_session_check(ward_store *st,
                                          const uint8_t hash[32], int64_t now,
                                          int64_t *moderator,
                                          uint8_t csrf[32]);
ward_err ward_store_console_session_delete(ward_store *st,
                                           const uint8_t hash[32]);
/* Removes the sessions expired at |now|; |*removed| (may be NULL) gets
 * the count. */
ward_err ward_store_console_session_purge(ward_store *st, int64_t now,
                                          size_t *removed);

typedef struct ward_audit_entry {
    int64_t id, at, moderator;
    char moderator_name[WARD_MODERATOR_NAME_MAX + 1];
    char action[32];
    int64_t report, subject; /* 0: none */
    char detail[512];
    uint8_t hash[32]; /* SHA-256 over the previous hash and these fields */
} ward_audit_entry;

/* Appends |e| (id and hash are set here). */
ward_err ward_store_audit_append(ward_store *st, ward_audit_entry *e);
/* Newest first, ids below |before| (0: from the newest). */
ward_err ward_store_audit_list(ward_store *st, int64_t before, size_t limit,
                               int (*fn)(void *ctx,
                                         const ward_audit_entry *e),
                               void *ctx);
/* Recomputes the hash chain; |*bad_id| is the first entry that does not
 * match (0: the whole log is intact). */
ward_err ward_store_audit_verify(ward_store *st, int64_t *bad_id);

#endif
