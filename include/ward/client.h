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

/* ---- talking to a server ---- */

/*
 * A client for one account on one server. Errors come with a sentence for
 * the user in |err| (server refusals carry the server's message).
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
                         (undecryptable or a bad commitment: dropped) */
    const ward_client_attachment *attachments;
    size_t n_attachments;
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
