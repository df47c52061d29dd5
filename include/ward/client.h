/*
 * ward — the client library: an account's local state, and (in time) the
 * server conversation. The state file holds private keys: it is created
 * 0600 in a 0700 folder, and its secrets are wiped from memory after use.
 */
#ifndef WARD_CLIENT_H
#define WARD_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "ward/err.h"
#include "ward/proto.h"

typedef struct ward_client_state ward_client_state;

/* Opens (creating if needed) the state database at |path|. On failure
 * |err| (may be NULL) says why. */
ward_err ward_client_state_open(ward_client_state **out, const char *path,
                                char *err, size_t errlen);
void ward_client_state_close(ward_client_state *cs);

/* The default location: $XDG_DATA_HOME/ward/<server>/<user>/state.db (or
 * ~/.local/share/...), with the server's URL made safe as a folder name.
 * Creates the folders (0700). */
ward_err ward_client_state_path(const char *server, const char *user,
                                char *out, size_t cap);

/* Groups several changes into one durable step (for a decrypt: the new
 * session and the message id seen, both or neither). */
ward_err ward_client_state_begin(ward_client_state *cs);
ward_err ward_client_state_commit(ward_client_state *cs);
void ward_client_state_rollback(ward_client_state *cs);

/* Small settings: the token, the username, the next prekey id. A missing
 * key is WARD_ERR_NOT_FOUND. Values are at most 1 KiB of text. */
ward_err ward_client_state_set(ward_client_state *cs, const char *key,
                               const char *value);
ward_err ward_client_state_get(ward_client_state *cs, const char *key,
                               char *out, size_t cap);
ward_err ward_client_state_unset(ward_client_state *cs, const char *key);
/* Calls |fn| for each setting whose key starts with |prefix|, in key
 * order, until it returns non-zero. */
ward_err ward_client_state_each(ward_client_state *cs, const char *prefix,
                                int (*fn)(void *ctx, const char *key,
                                          const char *value),
                                void *ctx);

/* This device's identity and prekeys (NOT_FOUND before registration). */
ward_err ward_client_state_put_identity(ward_client_state *cs,
                                        const ward_identity *id);
ward_err ward_client_state_get_identity(ward_client_state *cs,
                                        ward_identity **out);
ward_err ward_client_state_put_prekeys(ward_client_state *cs,
                                       const ward_prekeys *pk);
ward_err ward_client_state_get_prekeys(ward_client_state *cs,
                                       ward_prekeys **out);

/* The session with |peer| (NOT_FOUND if none yet). */
ward_err ward_client_state_put_session(ward_client_state *cs,
                                       const char *peer,
                                       const ward_session *s);
ward_err ward_client_state_get_session(ward_client_state *cs,
                                       const char *peer, ward_session **out);

/* Server message ids already shown, so an at-least-once redelivery is
 * shown once. */
ward_err ward_client_state_mark_seen(ward_client_state *cs, int64_t id);
ward_err ward_client_state_was_seen(ward_client_state *cs, int64_t id,
                                    int *seen);

/* ---- kept messages: what a report can reveal ---- */

/*
 * Each message shown to the user is kept (in the same transaction that
 * marks it seen, so a shown message is always reportable) with what the
 * operator needs to verify a report of it: the Content bytes, which hold
 * the franking key and any attachment's key, the commitment, and the
 * server's tag. Records older than the retention period are purged when
 * the state is opened and at each receive.
 */
#define WARD_CLIENT_KEEP_DAYS_DEFAULT 90
/* The setting (ward_client_state_set) that overrides the retention period:
 * a whole number of days, 1 to 3650. */
#define WARD_CLIENT_KEEP_DAYS_KEY "keep_days"

typedef struct ward_client_reveal {
    int64_t id;          /* the server's message id */
    char from[64];       /* the sender's username when it was shown */
    int64_t from_id;     /* the sender's account id; 0: the server sent none */
    int64_t server_time; /* the server's time stamp (ms) */
    uint8_t *content;    /* the Content bytes: plaintext with the franking
                            key. From the state it is the caller's, wiped
                            and freed by ward_client_reveal_release */
    size_t content_len;
    uint8_t commitment[32];
    int has_tag;         /* the server stamped it: tag and key_id are set */
    uint8_t tag[32];
    int64_t key_id;      /* which server franking key made the tag */
    int64_t shown_at;    /* when it was shown (ms since the epoch) */
    int64_t group;       /* a group message: the group's id (its tag is the
                            group tag); 0 for a direct message */
} ward_client_reveal;

/* Wipes and frees |r|'s content; |r| is left zeroed. NULL is fine. */
void ward_client_reveal_release(ward_client_reveal *r);

/* Keeps |r| (its content is copied). WARD_ERR_EXISTS if message |r->id|
 * is kept already, WARD_ERR_INVALID_ARG for an empty content, an id <= 0
 * or a sender name that is empty or longer than 63 bytes. */
ward_err ward_client_state_put_reveal(ward_client_state *cs,
                                      const ward_client_reveal *r);
/* Message |id|'s record into |*out| (release it); WARD_ERR_NOT_FOUND if
 * it is not kept (never shown, or purged). */
ward_err ward_client_state_get_reveal(ward_client_state *cs, int64_t id,
                                      ward_client_reveal *out);
/* Calls |fn| for each kept message (from |peer| only, unless NULL), oldest
 * id first, until it returns non-zero. The record's content is wiped after
 * each call: copy what must outlive it. */
ward_err ward_client_state_each_reveal(ward_client_state *cs,
                                       const char *peer,
                                       int (*fn)(void *ctx,
                                                 const ward_client_reveal *r),
                                       void *ctx);
/* Deletes the records shown before |before_ms| (overwritten on disk: the
 * state runs with secure_delete). |*purged| (may be NULL) gets how many. */
ward_err ward_client_state_purge_reveals(ward_client_state *cs,
                                         int64_t before_ms, size_t *purged);
/* Purges what is older than the retention period (the keep_days setting,
 * else WARD_CLIENT_KEEP_DAYS_DEFAULT) at |now_ms|; |*days| (may be NULL)
 * gets the period used. */
ward_err ward_client_state_purge_expired(ward_client_state *cs,
                                         int64_t now_ms, int *days);

/* ---- talking to a server ---- */

/*
 * The server's refusals in plain words. Writes into |out| (|cap| bytes)
 * the sentence for error |code| (the "code" of a JSON error reply) about
 * |who|, the other account (NULL or "": "that user"); |until_ms| is the
 * end of a suspension (0: not known); |detail| (may be NULL) the server's
 * message, which the sentences of a few codes that cover several cases
 * (invalid_report) quote. WARD_ERR_NOT_FOUND (|out| untouched) for a code
 * without a sentence, WARD_ERR_INVALID_ARG for no room. Every function
 * below that talks to the server uses it for its |err|.
 */
ward_err ward_client_refusal_text(const char *code, const char *who,
                                  int64_t until_ms, const char *detail,
                                  char *out, size_t cap);
/* The |i|-th code with a sentence, or NULL past the last. */
const char *ward_client_refusal_code(size_t i);

/*
 * A client for one account on one server. Errors come with a sentence for
 * the user in |err|: a refusal the table above knows in its words, any
 * other with the server's message.
 */
typedef struct ward_client ward_client;

/* Opens the account's state (at |state_path|, or the default location if
 * NULL) for |username| on |server_url|. */
ward_err ward_client_new(ward_client **out, const char *server_url,
                         const char *username, const char *state_path,
                         char *err, size_t errlen);
void ward_client_free(ward_client *c);

/* Creates the account, logs in, and publishes fresh keys. */
ward_err ward_client_register(ward_client *c, const char *password,
                              const char *birth_date, char *err,
                              size_t errlen);
/* Logs in (keeping the token in the state) and tops up one-time prekeys
 * when the server says they run low. */
ward_err ward_client_login(ward_client *c, const char *password, char *err,
                           size_t errlen);
ward_err ward_client_logout(ward_client *c, char *err, size_t errlen);
/* Deletes the account on the server (password required) and forgets the
 * token; the local state file stays for the user to remove. */
ward_err ward_client_delete_account(ward_client *c, const char *password,
                                    char *err, size_t errlen);

/* Sends |text| to |to|, starting a session from their bundle if needed.
 * WARD_ERR_UNTRUSTED_IDENTITY if their identity key changed (the user
 * must confirm with ward_client_trust first). */
ward_err ward_client_send_text(ward_client *c, const char *to,
                               const char *text, int64_t *id, char *err,
                               size_t errlen);

/* An attachment of a received message. */
typedef struct ward_client_attachment {
    const char *file_name;    /* as the sender named it: untrusted */
    const char *content_type; /* as the sender said: untrusted */
    uint64_t size;
    const char *saved_path;   /* where it was saved; NULL on a problem */
    ward_err problem;         /* WARD_OK; AUTH: altered, truncated or not
                                 what was committed to (deleted); NOT_FOUND:
                                 expired on the server; IO: network or disk */
    const char *problem_text; /* a sentence, when there is a problem */
} ward_client_attachment;

/* Encrypts the image at |path| (JPEG, PNG, GIF, WebP or BMP; anything
 * else is WARD_ERR_INVALID_ARG) with a fresh key while uploading it, then
 * sends |to| a message carrying the pointer, the key and the image's
 * SHA-256, with |caption| (may be NULL) as its text. */
ward_err ward_client_send_image(ward_client *c, const char *to,
                                const char *path, const char *caption,
                                int64_t *id, char *err, size_t errlen);

/* Where received attachments are saved: by default the folder
 * "attachments" beside the state file (created 0700 when needed). */
void ward_client_set_attachment_dir(ward_client *c, const char *dir);
const char *ward_client_attachment_dir(const ward_client *c);

typedef struct ward_client_msg {
    int64_t id;
    const char *from;
    int64_t server_time;
    int64_t sent_at;
    const char *text; /* NULL for a message without a body */
    size_t text_len;
    ward_err problem; /* WARD_OK, or why the message could not be read:
                         UNTRUSTED_IDENTITY (kept until trusted), AUTH
                         (undecryptable or a bad commitment: dropped),
                         NO_SESSION (a group message whose sender's key
                         has not arrived: kept, and shown again, readable,
                         once it does) */
    const ward_client_attachment *attachments;
    size_t n_attachments;
    int64_t group;          /* a group message or event: the group's id;
                               0 for a direct message */
    const char *group_name; /* the group's name as last known (untrusted:
                               its admins chose it); NULL if unknown */
    int event;              /* a change to the group's membership or
                               details, said in a sentence in |text| (from
                               the server, not end-to-end encrypted; it
                               cannot be reported) */
} ward_client_msg;

/* Fetches, decrypts and acknowledges queued messages, calling |fn| once
 * per message (redeliveries of one already shown are acknowledged without
 * calling it). |*count| (may be NULL) gets the number shown. */
ward_err ward_client_receive(ward_client *c,
                             void (*fn)(void *ctx, const ward_client_msg *m),
                             void *ctx, size_t *count, char *err,
                             size_t errlen);

/* Accepts |peer|'s new identity key, as last seen in a refused message or
 * bundle. */
ward_err ward_client_trust(ward_client *c, const char *peer, char *err,
                           size_t errlen);

/* ---- people: follows, blocks, finding, suggestions, privacy ---- */

/*
 * A username is checked here as the server checks it (3 to 32 of a-z,
 * 0-9, '.', '_', '-', starting with a letter or digit): anything else is
 * WARD_ERR_INVALID_ARG before a request is made. A refusal by the server
 * is WARD_ERR_FORBIDDEN (the contact policy, a suspended or banned
 * account), WARD_ERR_AUTH (not logged in) or WARD_ERR_NOT_FOUND (no such
 * user, or nothing to undo),
 * with the refusal table's sentence in |err|; a reply that is not what
 * the API documents is WARD_ERR_MALFORMED; the network, WARD_ERR_IO.
 */

/* 1 if |name| is a username the server could accept. */
int ward_client_username_valid(const char *name);

/* Follows |user| (subject to the contact policy). |*created| (may be
 * NULL) is 0 if already followed. */
ward_err ward_client_follow(ward_client *c, const char *user, int *created,
                            char *err, size_t errlen);
/* NOT_FOUND (not_following) if not followed. */
ward_err ward_client_unfollow(ward_client *c, const char *user, char *err,
                              size_t errlen);
/* Blocks |user| (never refused by the policy; removes the follows both
 * ways). |*created| (may be NULL) is 0 if already blocked. */
ward_err ward_client_block(ward_client *c, const char *user, int *created,
                           char *err, size_t errlen);
/* NOT_FOUND (not_blocked) if not blocked. */
ward_err ward_client_unblock(ward_client *c, const char *user, char *err,
                             size_t errlen);

typedef struct ward_client_user {
    char username[64];
    int64_t id;
    int you_follow;  /* you follow them */
    int follows_you; /* they follow you */
} ward_client_user;

/* The moderators' notices to this account (a warning), oldest first:
 * |fn| gets each one's kind ("warning") and text, then the server is told
 * they were seen, so each is shown once. */
ward_err ward_client_notices(ward_client *c,
                             void (*fn)(void *ctx, const char *kind,
                                        const char *text),
                             void *ctx, char *err, size_t errlen);

/* Finds the account named exactly |user|. NOT_FOUND if there is none, or
 * if the server hides it from you (the two are told apart by nobody). */
ward_err ward_client_find(ward_client *c, const char *user,
                          ward_client_user *out, char *err, size_t errlen);

enum { WARD_CLIENT_FOLLOWING = 1, WARD_CLIENT_FOLLOWERS = 2,
       WARD_CLIENT_BLOCKED = 3 };
/* Calls |fn| with each name of list |which| (WARD_CLIENT_*), in the
 * server's order, until it returns non-zero. */
ward_err ward_client_contacts(ward_client *c, int which,
                              int (*fn)(void *ctx, const char *user),
                              void *ctx, char *err, size_t errlen);

/* People you may know: accounts followed by accounts you follow, most
 * shared follows first, at most |limit| (1 to 100). |fn| as above, with
 * how many of your follows follow them. */
ward_err ward_client_suggestions(ward_client *c, int limit,
                                 int (*fn)(void *ctx, const char *user,
                                           int64_t shared),
                                 void *ctx, char *err, size_t errlen);

typedef struct ward_client_account {
    int64_t id;
    char username[64];
    int minor;       /* the account is under 18 */
    int is_private;  /* only accounts it follows may find or contact it */
    char status[16]; /* "active", "suspended" or "banned" */
    int64_t created_at;
} ward_client_account;

/* Your account as the server sees it. */
ward_err ward_client_account_get(ward_client *c, ward_client_account *out,
                                 char *err, size_t errlen);
/* Makes your account private (|on| = 1) or public; |out| (may be NULL)
 * gets the account afterwards. */
ward_err ward_client_set_private(ward_client *c, int on,
                                 ward_client_account *out, char *err,
                                 size_t errlen);

/* ---- reports ---- */

typedef enum ward_client_reason {
    WARD_CLIENT_REASON_CHILD_SEXUAL_EXPLOITATION = 1,
    WARD_CLIENT_REASON_GROOMING,
    WARD_CLIENT_REASON_SEXUAL_HARASSMENT,
    WARD_CLIENT_REASON_OTHER_HARASSMENT,
    WARD_CLIENT_REASON_SPAM,
    WARD_CLIENT_REASON_OTHER
} ward_client_reason;

/* The reason for a word the `ward report` command takes (csam or
 * child-sexual-exploitation, grooming, sexual-harassment, harassment,
 * spam, other; the API's own names are accepted too).
 * WARD_ERR_INVALID_ARG for any other. */
ward_err ward_client_reason_parse(const char *word, ward_client_reason *out);
/* The API's name ("child_sexual_exploitation", ...); NULL if unknown. */
const char *ward_client_reason_name(ward_client_reason r);
/* In words, for people ("child sexual exploitation", ...). */
const char *ward_client_reason_text(ward_client_reason r);

/* Calls |fn| for each message kept for reporting (from |peer| only,
 * unless NULL), oldest first, after purging what is past the retention
 * period; as ward_client_state_each_reveal. */
ward_err ward_client_kept_messages(ward_client *c, const char *peer,
                                   int (*fn)(void *ctx,
                                             const ward_client_reveal *r),
                                   void *ctx, char *err, size_t errlen);

#define WARD_CLIENT_NOTE_MAX 1000 /* characters (code points) */

typedef struct ward_client_report_result {
    int64_t id;          /* the report's id */
    int verified;        /* the server verified the message */
    int high_priority;   /* a minor is involved: reviewed first */
    char attachment[16]; /* "verified", "unavailable", "mismatch", "none"
                            ("" for an account report) */
} ward_client_report_result;

/*
 * Reports message |msg_id| from |user|: reveals to the operator that one
 * message as kept when it was shown (its Content, with the franking key
 * and any attachment's key, the commitment, the server's tag, sender and
 * time), with |reason| and |note| (may be NULL; valid UTF-8, at most
 * WARD_CLIENT_NOTE_MAX characters). Refused here, before anything is
 * sent: NOT_FOUND if the message is not kept (never shown, or older than
 * the retention period), INVALID_ARG if it is not from |user| or the note
 * is not acceptable, BAD_STATE if the server never stamped it. The
 * server's refusals: report_unverified, franking_key_expired (AUTH, with
 * the table's sentence).
 */
ward_err ward_client_report_message(ward_client *c, const char *user,
                                    int64_t msg_id, ward_client_reason reason,
                                    const char *note,
                                    ward_client_report_result *out,
                                    char *err, size_t errlen);
/* Reports the account |user| itself (its profile or behaviour), without
 * revealing any message. NOT_FOUND if there is no such user. */
ward_err ward_client_report_account(ward_client *c, const char *user,
                                    ward_client_reason reason,
                                    const char *note,
                                    ward_client_report_result *out,
                                    char *err, size_t errlen);

/* ---- groups ---- */

/*
 * End-to-end encrypted groups (docs/api.md "Groups", docs/protocol.md
 * "Sender keys"). The server keeps each group's name, description and
 * members and fans messages out; the messages are encrypted with sender
 * keys: each member encrypts with its own, and hands it (an SKDM) to
 * every other member inside an ordinary one-to-one message before its
 * first group message, after every rotation, and to each member added
 * later. The client keeps, in its state, its own sending key per group,
 * a receiving key per (group, sender), the members as last seen and who
 * holds its current key. Before sending again after a member left or was
 * removed it rotates its key (a new one, handed to the remaining members
 * only); the server refuses a send for an older membership (409), and the
 * client then catches up and sends again.
 *
 * Errors as for the people functions above: WARD_ERR_INVALID_ARG for bad
 * input (before any request), NOT_FOUND (no such group, or not a member:
 * the server tells the two apart for nobody; no such user), FORBIDDEN (not
 * an admin, the contact policy, the account's status), WARD_ERR_EXISTS
 * (already a member), WARD_ERR_LIMIT (the group is full), WARD_ERR_CONFLICT
 * (the last admin cannot step down), IO, MALFORMED; with a sentence in
 * |err|.
 */
#define WARD_CLIENT_GROUP_NAME_MAX 64  /* characters */
#define WARD_CLIENT_GROUP_DESC_MAX 500 /* characters */

typedef struct ward_client_group {
    int64_t id;
    char name[WARD_CLIENT_GROUP_NAME_MAX * 4 + 1];        /* UTF-8 */
    char description[WARD_CLIENT_GROUP_DESC_MAX * 4 + 1]; /* "" if none */
    char created_by[64]; /* "" if that account is gone */
    int64_t created_at;  /* ms */
    int64_t epoch;       /* moves on at every membership change */
    int admin;           /* you are one of its admins */
    char avatar[33];     /* its avatar's name (changes with it), or "" */
} ward_client_group;

typedef struct ward_client_group_member {
    char username[64];
    int64_t id;
    int admin;
    char added_by[64]; /* "" for the creator, or an account gone since */
    int64_t joined_at; /* ms */
} ward_client_group_member;

/* Called with what the user should know that is not an error: a member
 * who cannot be handed this account's sender key (the contact policy
 * refused the one-to-one message: they cannot read what it sends to the
 * group until that changes), a rotation. |fn| NULL: none. */
void ward_client_set_note_hook(ward_client *c,
                               void (*fn)(void *ctx, const char *text),
                               void *ctx);

/* Creates a group with you as its admin and |members| (|n| usernames,
 * each once, not yours) added by you: the contact policy decides for each
 * as at a group add, and one refusal refuses the whole creation (the
 * sentence names that account). |description| may be NULL. |out| (may be
 * NULL) gets the group. */
ward_err ward_client_group_create(ward_client *c, const char *name,
                                  const char *description,
                                  const char *const *members, size_t n,
                                  ward_client_group *out, char *err,
                                  size_t errlen);

/* Calls |fn| for each of your groups, by id, until it returns non-zero. */
ward_err ward_client_groups(ward_client *c,
                            int (*fn)(void *ctx, const ward_client_group *g),
                            void *ctx, char *err, size_t errlen);

/* Group |id|'s details into |out| (may be NULL), and |fn| (may be NULL)
 * for each member, longest-standing first. Also brings this device's view
 * of the membership up to date. */
ward_err ward_client_group_get(ward_client *c, int64_t id,
                               ward_client_group *out,
                               int (*fn)(void *ctx,
                                         const ward_client_group_member *m),
                               void *ctx, char *err, size_t errlen);

/* The id of the group |which| names: its id in digits, or the exact name
 * of one of your groups. NOT_FOUND if you are in no group of that name,
 * INVALID_ARG if several of yours have it (give the id). An id is not
 * checked here: the next call says whether you are a member. */
ward_err ward_client_group_resolve(ward_client *c, const char *which,
                                   int64_t *id, char *err, size_t errlen);

/* Adds |user| (admins only; the contact policy decides: an adult cannot
 * add a minor who does not follow them), then hands them this account's
 * sender key for the group if it has one. */
ward_err ward_client_group_add(ward_client *c, int64_t id, const char *user,
                               char *err, size_t errlen);
/* Removes |user| (admins only). This account's sender key is rotated
 * before its next message to the group. */
ward_err ward_client_group_remove(ward_client *c, int64_t id,
                                  const char *user, char *err,
                                  size_t errlen);
/* Leaves the group and forgets its keys; with |block|, first blocks the
 * account that added you (not when you created the group). |blocked|
 * (may be NULL, 64 bytes) gets the name blocked, or "". */
ward_err ward_client_group_leave(ward_client *c, int64_t id, int block,
                                 char *blocked, char *err, size_t errlen);
/* Makes |user| an admin (|admin| 1) or a plain member (admins only). */
ward_err ward_client_group_set_role(ward_client *c, int64_t id,
                                    const char *user, int admin, char *err,
                                    size_t errlen);

typedef struct ward_client_group_sent {
    int64_t server_time;
    int64_t recipients;  /* members it was for */
    int64_t delivered;   /* queued for them (full queues not) */
    int64_t withheld;    /* other members the contact rules kept it from */
    uint32_t key_id;     /* the sender key it was encrypted with */
    int rotated;         /* a new sender key was made for it */
    size_t unreachable;  /* recipients who could not be handed the key
                            (their keys: the rules are in |withheld|) */
} ward_client_group_sent;

/* Sends |text| to group |id|: hands this account's sender key to the
 * members who lack it (a new key first if someone left or was removed
 * since it was made), encrypts, commits to the content (franking) and
 * posts it at the membership epoch it was encrypted for; when the server
 * says the membership changed, catches up and sends again (three times at
 * most). |out| may be NULL. */
ward_err ward_client_group_send_text(ward_client *c, int64_t id,
                                     const char *text,
                                     ward_client_group_sent *out, char *err,
                                     size_t errlen);

/* ward_client_group_send_text with the image at |path| (JPEG, PNG, GIF,
 * WebP or BMP), encrypted with a fresh key as it is uploaded once, and
 * |caption| (may be NULL) as the text. */
ward_err ward_client_group_send_image(ward_client *c, int64_t id,
                                      const char *path, const char *caption,
                                      ward_client_group_sent *out, char *err,
                                      size_t errlen);

/* Sets group |id|'s avatar to the |n| bytes of |image| (JPEG, PNG, GIF
 * or WebP; the server sees it, as every platform does, and refuses one on
 * its hash lists), or removes it (|image| NULL). Admins only. */
ward_err ward_client_group_set_avatar(ward_client *c, int64_t id,
                                      const uint8_t *image, size_t n,
                                      char *err, size_t errlen);
/* Saves group |id|'s avatar to |path| (a new file, 0600; written whole
 * or not at all). WARD_ERR_NOT_FOUND if it has none. */
ward_err ward_client_group_save_avatar(ward_client *c, int64_t id,
                                       const char *path, char *err,
                                       size_t errlen);

/* The name of group |id| as this device last saw it (no request):
 * NOT_FOUND if it is not known, TOO_BIG if |cap| is too small. */
ward_err ward_client_group_name(ward_client *c, int64_t id, char *out,
                                size_t cap);

/* This account's sending key in group |id|: NOT_FOUND before its first
 * message there. For display and tests. */
ward_err ward_client_group_key_info(ward_client *c, int64_t id,
                                    ward_sender_key_info *out);

/* ---- a live connection (WebSocket) ---- */

/*
 * Messages pushed as they arrive, and sends on the same connection. The
 * connection comes back by itself after a network or server failure
 * (1 s, doubling to 30 s); the server then sends again what was not
 * acknowledged, and what was already shown is not shown twice.
 */
typedef struct ward_client_live ward_client_live;

typedef struct ward_client_live_hooks {
    /* A message, as ward_client_receive shows it. */
    void (*message)(void *ctx, const ward_client_msg *m);
    /* The answer to send |ref|: stored as message |id|, or refused
     * (|error| is the server's sentence). */
    void (*sent)(void *ctx, int64_t ref, int64_t id, const char *error);
    /* "connected", "synced" (everything queued before was delivered) or
     * "disconnected: WHY". */
    void (*status)(void *ctx, const char *what);
    void *ctx;
} ward_client_live_hooks;

/* Starts connecting (the hooks are copied). Fails at once only for a
 * missing login (WARD_ERR_AUTH) or keys, or a malformed server URL. */
ward_err ward_client_live_open(ward_client *c,
                               const ward_client_live_hooks *hooks,
                               ward_client_live **out, char *err,
                               size_t errlen);
void ward_client_live_close(ward_client_live *l);

/* Waits up to |timeout_ms| for network events, reconnecting when due,
 * then handles what arrived (calling the hooks). WARD_ERR_AUTH once the
 * server refuses the token (logged out or expired: log in again); a
 * local state failure is returned too. */
ward_err ward_client_live_service(ward_client_live *l, int timeout_ms,
                                  char *err, size_t errlen);
int ward_client_live_connected(const ward_client_live *l);

/* Encrypts |text| for |to| and sends it on the connection: |*ref| comes
 * back in hooks->sent. While disconnected it goes over HTTP instead:
 * then |*ref| is 0 and |*id| (may be NULL) is the stored id. */
ward_err ward_client_live_send_text(ward_client_live *l, const char *to,
                                    const char *text, int64_t *ref,
                                    int64_t *id, char *err, size_t errlen);

/* Calls |fn| from ward_client_live_service whenever |fd| is readable
 * (a terminal, for `ward chat`); once |fn| returns -1 (end of input) the
 * descriptor is no longer watched, and closed. */
ward_err ward_client_live_watch_fd(ward_client_live *l, int fd,
                                   int (*fn)(void *ctx), void *ctx);

#endif
