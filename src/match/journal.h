/*
 * A set's journal (private to the match module): the changes made since
 * its index file was built, so that adding a day's hashes does not
 * rewrite ten million others. Readers replay it in memory when they open
 * the set; a compaction folds it into a new index file.
 *
 * Layout (little-endian):
 *   0   "WARDLJ01"
 *   8   u64 the id of the index file it follows (ix_file.id; 0: none)
 *   16  u64 XXH3-64 of bytes 0..15
 *   24  commits, one after another: u64 length L, L bytes of operations,
 *       u64 XXH3-64 of the length and the operations
 *
 * An operation is a kind byte and its fields:
 *   list    u32 id, u32 format, u64 created, u8 name length,
 *           u16 source length, name, source
 *   drop    u32 list id
 *   add     u32 list id, u8 type, u16 labels length, hash (16 or 32
 *           bytes), labels
 *   remove  u32 list id, u8 type, hash
 *
 * A commit is all or nothing. A writer appends one with a single write
 * and syncs it before saying it is done, so only the last commit can be
 * torn by a crash: one that runs past the end of the file, or the last
 * one if its checksum fails, or zeros to the end, was never acknowledged.
 * Readers ignore it and the next writer cuts it off. Anything else that
 * fails its checksum is damage, and the set is refused.
 */
#ifndef WARD_MATCH_JOURNAL_H
#define WARD_MATCH_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ward/err.h"
#include "ward/hashlist.h"

#define JNL_FILE "journal.wlj"
#define JNL_HEADER 24
#define JNL_MAX_NAME 255
#define JNL_MAX_SOURCE 65535

enum { JOP_LIST = 1, JOP_DROP = 2, JOP_ADD = 3, JOP_REMOVE = 4 };

typedef struct jnl_op {
    int kind;
    uint32_t list; /* the list's id, for every kind */
    /* list */
    uint32_t format;
    uint64_t created;
    const char *name, *source; /* not NUL-terminated */
    size_t name_len, source_len;
    /* add, remove */
    ward_hl_type type;
    const uint8_t *hash;
    const char *labels; /* not NUL-terminated */
    size_t labels_len;
} jnl_op;

/* Called for each operation of each whole commit, in order; a nonzero
 * return stops the reading (the callback says why). */
typedef int (*jnl_fn)(void *ctx, const jnl_op *op);

/* Checks the header of journal bytes and gives the index id it follows.
 * WARD_ERR_BAD_STATE if it is not a journal. */
ward_err jnl_header(const uint8_t *p, size_t n, uint64_t *index_id);
/* Reads the commits after the header. |*end| gets the end of the last
 * whole commit (a torn tail after it is ignored). WARD_ERR_BAD_STATE,
 * with |why| set, for damage or a malformed operation;
 * WARD_ERR_USAGE if |fn| stopped it. */
ward_err jnl_read(const uint8_t *p, size_t n, jnl_fn fn, void *ctx,
                  size_t *end, char *why, size_t why_len);

/* Operations encoded into a growing buffer (a commit's payload). */
typedef struct jnl_buf {
    uint8_t *p;
    size_t n, cap;
} jnl_buf;
ward_err jnl_put(jnl_buf *b, const jnl_op *op);
void jnl_buf_free(jnl_buf *b);

/* Appends |payload| as one commit to |dir|'s journal and syncs it. If the
 * journal follows another index than |index_id| (or there is none) it is
 * started afresh, beside and renamed over. The caller holds the set's
 * writer lock. */
ward_err jnl_commit(const char *dir, uint64_t index_id, const jnl_buf *payload,
                    char *why, size_t why_len);

/* Reads |dir|'s journal whole into |*bytes| (NULL, 0 when it has none).
 * The caller frees it. */
ward_err jnl_load(const char *dir, uint8_t **bytes, size_t *n, char *why,
                  size_t why_len);

#endif
