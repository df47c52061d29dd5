/*
 * The server's franking keys: DIR/franking/<id>.key, one file per key
 * (mode 0600, in a 0700 directory), each with its id, creation time and
 * 32 random bytes. The newest key tags new messages; an older one still
 * verifies reports until |retain| after the key that replaced it was
 * made, then it expires and its file is deleted. A key is replaced when
 * it is older than |rotate|, or at once by `ward admin rotate-franking-key`
 * (the server rereads the directory every minute and on SIGHUP).
 */
#ifndef WARD_SERVER_FRANKING_KEYS_H
#define WARD_SERVER_FRANKING_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "ward/err.h"

typedef struct ward_frank_keys ward_frank_keys;

/* Loads DATA/franking (creating it and a first key if there is none).
 * |err| says why on failure: an unreadable or malformed key file. */
ward_err ward_frank_keys_open(ward_frank_keys **out, const char *data_dir,
                              int64_t now, int64_t rotate_ms,
                              int64_t retain_ms, char *err, size_t errlen);
/* Zeroes the keys and frees. */
void ward_frank_keys_free(ward_frank_keys *k);

/* Rereads the directory, adds a key if the newest is older than |rotate|,
 * and deletes the files of expired keys. On failure the keys in memory
 * stay as they were. */
ward_err ward_frank_keys_reload(ward_frank_keys *k, int64_t now, char *err,
                                size_t errlen);

/* Writes a new key (the next id) to DATA/franking without a running
 * server's help; it takes over at the server's next reload. */
ward_err ward_frank_keys_rotate_dir(const char *data_dir, int64_t now,
                                    uint32_t *new_id, char *err,
                                    size_t errlen);

/* The key that tags new messages. */
void ward_frank_keys_current(const ward_frank_keys *k, uint32_t *id,
                             const uint8_t **key);
/* The key |id| if it verifies at |now|: WARD_OK; WARD_ERR_NOT_FOUND for an
 * unknown or expired key. */
ward_err ward_frank_keys_lookup(const ward_frank_keys *k, uint32_t id,
                                int64_t now, const uint8_t **key);
/* How many keys are held (for /metrics and tests). */
size_t ward_frank_keys_count(const ward_frank_keys *k);

#endif
