/* The list set's index file layout (private to the match module). */
#ifndef WARD_MATCH_SET_INTERNAL_H
#define WARD_MATCH_SET_INTERNAL_H

#include <stdint.h>

#include "ixfile.h"
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

/* A set over an index file's bytes already in memory (which must outlive
 * it): for the fuzz target. */
ward_err set_open_mem(const void *bytes, size_t n, ward_match_set **out,
                      char *why, size_t why_len);
/* The id the set's next new list would get. */
uint32_t set_next_id(const ward_match_set *s);

#endif
