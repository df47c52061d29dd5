/*
 * ward — match: the operator's hash lists, indexed for exact search.
 *
 * A list set lives in one directory: an index file (every list's
 * entries, built once and mapped read-only, so several processes share
 * its pages) and a small journal of the changes made since, replayed in
 * memory when the set is opened and merged into a new index file on
 * demand. PDQ queries find every entry within a Hamming radius (0..64,
 * 31 by default), exactly: multi-index hashing, no approximation. MD5
 * and SHA-256 entries match exactly.
 *
 * An opened set is immutable and safe for any number of concurrent
 * readers; reopen it to see later changes.
 */
#ifndef WARD_MATCH_H
#define WARD_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "ward/err.h"
#include "ward/hashlist.h"
#include "ward/pdq.h"

#define WARD_MATCH_MAX_RADIUS 64
#define WARD_MATCH_DEFAULT_RADIUS WARD_PDQ_MATCH_DISTANCE

typedef struct ward_match_set ward_match_set;

typedef struct ward_match_hit {
    /* The list the entry is in. */
    uint32_t list_id;
    const char *list_name;
    ward_hl_type type;
    /* The entry's hash (PDQ: as ward_hl_entry has it, 32 bytes most
     * significant first). */
    uint8_t hash[32];
    /* PDQ: Hamming distance to the query (0 for exact hashes). */
    int distance;
    /* Which of the query's dihedral variants matched (0: the query as
     * given; see WARD_PDQ_ORIG...). */
    int variant;
    const char *labels;
    size_t labels_len;
} ward_match_hit;

/* Called for each hit; a nonzero return stops the query. The hit's
 * strings belong to the set. */
typedef int (*ward_match_fn)(void *ctx, const ward_match_hit *hit);

/* Opens the set in |dir| (an empty set if |dir| has none yet). |why|
 * (may be NULL) says what is wrong with a corrupt or truncated file:
 * WARD_ERR_BAD_STATE then, and nothing is opened. */
ward_err ward_match_open(const char *dir, ward_match_set **out, char *why,
                         size_t why_len);
/* How an opened set holds its PDQ index (|flags| of ward_match_open_opts;
 * 0 picks WARD_MATCH_OPEN_DEFAULT, which ward_match_open uses):
 *   WARD_MATCH_OPEN_MAP   answers from the index file's mapping: opening
 *                         costs a read of the file for the checksums, and
 *                         every process shares the page cache's pages.
 *   WARD_MATCH_OPEN_COPY  reads the PDQ hashes and tables (about 112 of
 *                         the 116 bytes per PDQ entry) into memory of the
 *                         process's own, on transparent huge pages where
 *                         the kernel gives them: scattered reads then miss
 *                         the TLB far less (docs/matching.md), for that
 *                         much memory per process that opens the set. */
#define WARD_MATCH_OPEN_MAP 1u
#define WARD_MATCH_OPEN_COPY 2u
#define WARD_MATCH_OPEN_DEFAULT WARD_MATCH_OPEN_MAP
/* ward_match_open with |flags| (0 or one of the above; both at once or
 * any other bit: WARD_ERR_INVALID_ARG). Other errors as ward_match_open's,
 * and WARD_ERR_NOMEM if the copy does not fit. */
ward_err ward_match_open_opts(const char *dir, unsigned flags,
                              ward_match_set **out, char *why,
                              size_t why_len);
void ward_match_close(ward_match_set *s);

/* Every PDQ entry within |radius| of |q|, each once, in no particular
 * order. */
ward_err ward_match_pdq(const ward_match_set *s, const ward_pdq *q,
                        int radius, ward_match_fn fn, void *ctx);
/* The same for the 8 dihedral variants of one image at once: an entry
 * near several variants is reported once, with its smallest distance. */
ward_err ward_match_pdq_dihedral(const ward_match_set *s,
                                 const ward_pdq q[WARD_PDQ_VARIANTS],
                                 int radius, ward_match_fn fn, void *ctx);
/* An MD5 or SHA-256 (or a PDQ at distance 0) in any list. */
ward_err ward_match_exact(const ward_match_set *s, ward_hl_type type,
                          const uint8_t *hash, ward_match_fn fn, void *ctx);

/* Hits collected into an array the caller frees with
 * ward_match_hits_free (the strings still belong to the set). */
typedef struct ward_match_hits {
    ward_match_hit *v;
    size_t n;
} ward_match_hits;
ward_err ward_match_pdq_collect(const ward_match_set *s, const ward_pdq *q,
                                int radius, ward_match_hits *out);
/* A batch of queries: |out[i]| gets query i's hits. */
ward_err ward_match_pdq_batch(const ward_match_set *s, const ward_pdq *q,
                              size_t n, int radius, ward_match_hits *out);
void ward_match_hits_free(ward_match_hits *h);

/* ---- the lists ---- */

typedef struct ward_match_list {
    uint32_t id;
    const char *name, *source;
    ward_hl_format format;
    uint64_t created;
    uint64_t count[4]; /* entries by ward_hl_type (index 0 unused) */
} ward_match_list;

size_t ward_match_list_count(const ward_match_set *s);
/* The |i|th list (0 <= i < count), by name. */
const ward_match_list *ward_match_list_at(const ward_match_set *s, size_t i);
const ward_match_list *ward_match_list_find(const ward_match_set *s,
                                            const char *name);
/* Every entry of a list: PDQ in the order they were added, then MD5 and
 * SHA-256 in hash order. */
ward_err ward_match_list_entries(const ward_match_set *s, uint32_t list_id,
                                 ward_hl_entry_fn fn, void *ctx);

/* What the set holds and how much of it is in the journal. */
typedef struct ward_match_stats {
    uint64_t entries;         /* every list's entries, as the journal leaves them */
    uint64_t base_entries;    /* in the index file */
    uint64_t journal_entries; /* added by the journal and still there */
    uint64_t hidden;          /* index file entries the journal took out */
    uint64_t journal_ops, journal_bytes;
} ward_match_stats;
void ward_match_stats_get(const ward_match_set *s, ward_match_stats *out);
/* Is the journal big enough, against the index file, that its replay at
 * every open (or its hidden entries at every query) costs more than a
 * new index file? |pending|: changes committed since |s| was opened. */
int ward_match_should_compact(const ward_match_set *s, uint64_t pending);

/* ---- writers ---- */

/* A set's writers take its directory's lock (created 0700 if need be),
 * waiting for another writer to finish; readers take none. The lock also
 * clears the temporary files of a writer that was killed. */
ward_err ward_match_lock(const char *dir, int *fd, char *why, size_t why_len);
void ward_match_unlock(int fd);

/* ---- changing a set through its journal ---- */

/* Changes to |s| (opened under the lock), appended to its directory's
 * journal as one commit: every change or none. The index file is not
 * rewritten, so a day's additions cost what they are, not what the set
 * is. */
typedef struct ward_match_delta ward_match_delta;

ward_err ward_match_delta_new(const ward_match_set *s, ward_match_delta **out);
/* A new list, empty (WARD_ERR_EXISTS if one has the name). */
ward_err ward_match_delta_list(ward_match_delta *d, const char *name,
                               const char *source, ward_hl_format format,
                               uint64_t created, uint32_t *id);
/* Drops a list and its entries (WARD_ERR_NOT_FOUND if it is not there). */
ward_err ward_match_delta_drop(ward_match_delta *d, uint32_t list_id);
ward_err ward_match_delta_add(ward_match_delta *d, uint32_t list_id,
                              const ward_hl_entry *e);
/* Removes every entry of the list with this hash. */
ward_err ward_match_delta_remove(ward_match_delta *d, uint32_t list_id,
                                 ward_hl_type type, const uint8_t *hash);
/* The changes so far. */
size_t ward_match_delta_count(const ward_match_delta *d);
/* Appends the changes to |dir|'s journal and syncs it (nothing if there
 * are none). On failure nothing is appended. */
ward_err ward_match_delta_commit(ward_match_delta *d, const char *dir,
                                 char *why, size_t why_len);
void ward_match_delta_free(ward_match_delta *d);

/* Folds the journal into a new index file (a rebuild of |s| as it is). */
ward_err ward_match_compact(const ward_match_set *s, const char *dir);

/* ---- building a new index file ---- */

typedef struct ward_match_builder ward_match_builder;

ward_err ward_match_builder_new(ward_match_builder **out);
/* Starts a new list (the next unused id); the entries added next go into
 * it. WARD_ERR_EXISTS
 * if the builder has a list of that name. */
ward_err ward_match_builder_list(ward_match_builder *b, const char *name,
                                 const char *source, ward_hl_format format,
                                 uint64_t created);
ward_err ward_match_builder_add(ward_match_builder *b,
                                const ward_hl_entry *e);
/* Sets the current list's format (known once its file is read). */
void ward_match_builder_set_format(ward_match_builder *b, ward_hl_format f);
/* Copies every list of |s| (keeping their ids) but the one named
 * |except| (NULL: all). */
ward_err ward_match_builder_copy(ward_match_builder *b,
                                 const ward_match_set *s, const char *except);
/* Builds the index and replaces |dir|'s index file with it, whole (a
 * reader has the old one or the new one), then removes the journal: the
 * builder started from the set as the journal left it. */
ward_err ward_match_builder_write(ward_match_builder *b, const char *dir);
void ward_match_builder_free(ward_match_builder *b);

#endif
