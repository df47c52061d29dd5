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

#endif
