/* The list set's index file layout (private to the match module). */
#ifndef WARD_MATCH_SET_INTERNAL_H
#define WARD_MATCH_SET_INTERNAL_H

#include <stdint.h>

#include "ixfile.h"
#include "journal.h"
#include "mih.h"
#include "ward/match.h"

/* The index file of a set directory. */
#define SET_INDEX_FILE "index.wlx"

/* Section kinds. */
enum {
    SEC_META = 1,    /* set_meta */
    SEC_LISTS = 2,   /* set_list[n_lists], by name */
    SEC_STRINGS = 3, /* names, sources, labels */
    SEC_TAGS = 4,    /* set_tag[n_tags]: distinct (list, labels) */
    SEC_PDQ = 10,    /* ward_pdq[n_pdq] */
    SEC_PDQ_TAG = 11,/* u32[n_pdq] */
    SEC_MIH_OFF = 12,
    SEC_MIH_PARTNER = 13,
    SEC_MIH_ID = 14,
    SEC_MD5 = 20,    /* u8[16][n_md5], sorted */
    SEC_MD5_TAG = 21,
    SEC_SHA = 22,    /* u8[32][n_sha], sorted */
    SEC_SHA_TAG = 23
};

typedef struct set_meta {
    uint32_t layout;  /* 1 */
    uint32_t n_lists;
    uint64_t n_pdq, n_md5, n_sha;
    uint32_t n_tags;
    uint32_t next_list_id;
    uint32_t id_bytes; /* of the MIH tables; 0 when there are none */
    uint32_t reserved;
    uint64_t created;
} set_meta;

typedef struct set_list {
    uint32_t id;
    uint32_t format;
    uint64_t created;
    uint64_t name_off, source_off;
    uint32_t name_len, source_len;
    uint64_t count[3]; /* PDQ, MD5, SHA-256 */
} set_list;

typedef struct set_tag {
    uint32_t list;   /* index into the lists section */
    uint32_t labels_len;
    uint64_t labels_off;
} set_tag;

/* ---- the journal's changes, replayed in memory (delta.c) ---- */

#define DELTA_NONE UINT32_MAX

/* An entry the journal added and did not take back. */
typedef struct delta_entry {
    uint8_t hash[32];
    uint32_t list;       /* index into the set's lists */
    uint32_t labels_len;
    const char *labels;  /* NUL-terminated, in the delta's pool */
    uint64_t seq;        /* the order of the journal's operations */
} delta_entry;

/* Entries of the index file the journal removed: every entry of the list
 * |list_id| with this hash. */
typedef struct delta_tomb {
    uint8_t type;
    uint8_t hash[32];
    uint32_t list_id;
} delta_tomb;

typedef struct set_delta {
    /* The lists after the journal, by name, and where each of the index
     * file's lists went (DELTA_NONE: dropped). */
    ward_match_list *lists;
    size_t n_lists;
    uint32_t *base_map;
    uint32_t next_id;
    /* Added entries by type (0 PDQ in the order added; 1 MD5, 2 SHA-256
     * by hash), and the PDQ ones' tables. */
    delta_entry *e[3];
    size_t n[3];
    ward_pdq *pdq;
    mih_tables t;
    mih m;
    delta_tomb *tomb; /* sorted */
    size_t n_tomb;
    /* Figures for deciding when to fold the journal in. */
    uint64_t ops, bytes, hidden;
    struct delta_chunk *pool;
} set_delta;

/* What replaying needs of the index file's set. */
typedef struct delta_base {
    const ward_match_list *lists; /* by name */
    size_t n_lists;
    uint32_t next_id;
    /* How many entries of list |list_id| have this hash. */
    uint64_t (*count)(void *ctx, uint32_t list_id, ward_hl_type type,
                      const uint8_t *hash);
    void *ctx;
} delta_base;

/* Replays journal bytes (header already checked) over |base|. */
ward_err delta_replay(const uint8_t *p, size_t n, const delta_base *base,
                      set_delta **out, char *why, size_t why_len);
void delta_free(set_delta *d);
/* Is an index file entry of list |list_id| with this hash removed? */
int delta_removed(const set_delta *d, ward_hl_type type, const uint8_t *hash,
                  uint32_t list_id);
/* The added entries of |type| equal to |hash| (MD5, SHA-256): [*lo, *hi). */
void delta_exact(const set_delta *d, ward_hl_type type, const uint8_t *hash,
                 size_t *lo, size_t *hi);

/* A set over an index file's bytes already in memory (which must outlive
 * it): for the fuzz target. */
ward_err set_open_mem(const void *bytes, size_t n, ward_match_set **out,
                      char *why, size_t why_len);
/* The same, with a journal's bytes replayed over it (NULL, 0: none). */
ward_err set_open_mem_journal(const void *bytes, size_t n,
                              const void *journal, size_t journal_n,
                              ward_match_set **out, char *why,
                              size_t why_len);
/* The id the set's next new list would get. */
uint32_t set_next_id(const ward_match_set *s);
/* Grows |*p| (|*cap| elements of |each| bytes) to hold |need|, doubling:
 * 0, or -1 with |*p| unchanged. */
int set_grow(void **p, size_t *cap, size_t need, size_t each);
/* The id of the set's index file (0: none), which its journal names. */
uint64_t set_index_id(const ward_match_set *s);

#endif
