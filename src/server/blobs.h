/*
 * Attachment bytes on disk: DIR/blobs/<first two hex digits>/<id>, where
 * the id is 32 random lowercase hex digits (so never a path). An upload
 * is written to DIR/blobs/tmp/<id> and renamed into place once it is
 * complete and synced; whatever is left in tmp/ at start-up was never
 * acknowledged and is deleted. The records (owner, size, expiry) are in
 * the store; this only moves bytes. The server never sees plaintext: the
 * client encrypts before uploading.
 */
#ifndef WARD_SERVER_BLOBS_H
#define WARD_SERVER_BLOBS_H

#include <stddef.h>
#include <stdint.h>

#include "ward/err.h"
#include "ward/store.h"

typedef struct ward_blobs ward_blobs;

/* Creates DIR/blobs and DIR/blobs/tmp (0700) if needed and empties tmp/. */
ward_err ward_blobs_open(ward_blobs **out, const char *data_dir);
void ward_blobs_close(ward_blobs *b);

/* One upload in progress. */
typedef struct ward_blob_upload {
    char id[WARD_BLOB_ID_LEN + 1];
    int fd;           /* -1 when none */
    uint64_t written;
    uint64_t synced;  /* bytes handed to writeback so far */
} ward_blob_upload;

/* A new temporary file under a fresh random id. */
ward_err ward_blobs_begin(ward_blobs *b, ward_blob_upload *u);
/* Appends |n| bytes (WARD_ERR_IO: disk full or failing). */
ward_err ward_blobs_write(ward_blobs *b, ward_blob_upload *u,
                          const void *p, size_t n);
/* Syncs the file and moves it into place; |u| is finished either way
 * (on failure the temporary file is deleted). */
ward_err ward_blobs_commit(ward_blobs *b, ward_blob_upload *u);
/* Deletes the temporary file; safe on a finished or zeroed upload. */
void ward_blobs_abort(ward_blobs *b, ward_blob_upload *u);

/* Opens blob |id| for reading: |*fd| (the caller closes it) and its size.
 * WARD_ERR_NOT_FOUND if there is no such file, WARD_ERR_INVALID_ARG for
 * an id that is not 32 lowercase hex digits. */
ward_err ward_blobs_read(ward_blobs *b, const char *id, int *fd,
                         uint64_t *size);
/* Deletes blob |id|'s file (NOT_FOUND if it was not there). */
ward_err ward_blobs_remove(ward_blobs *b, const char *id);

/* 1 if |id| is 32 lowercase hex digits. */
int ward_blobs_id_valid(const char *id);

#endif
