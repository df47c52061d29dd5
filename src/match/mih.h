/*
 * Multi-index hashing over 256-bit PDQ hashes (private to the match
 * module). The hash is 16 chunks of 16 bits (its 16 words). Table j
 * buckets every entry by chunk j and keeps, beside each entry's id, its
 * partner chunk j+1 (mod 16).
 *
 * Why it is exact: for radius r let r + 1 = 16 s + e and give chunk j the
 * weight c_j = s + (j < e), so the weights add up to r + 1. If d(q, x) <=
 * r, the numbers c_j - d_j (d_j: the distance in chunk j) add up to at
 * least 1, and by the cycle lemma some j starts a run whose every partial
 * sum is positive: d_j <= c_j - 1 and d_j + d_{j+1} <= c_j + c_{j+1} - 1.
 * So table j is probed at the keys within c_j - 1 bits of q's chunk j,
 * and an entry there goes on to the full comparison only if its chunk
 * and partner distances pass the second test, which throws out almost
 * every other entry before its hash is read. An entry is reported by the
 * first table whose two tests it passes, so once. At r = 31: radius 1 in
 * every table (272 probes), partner test d_j + d_{j+1} <= 3.
 *
 * Arrays (little-endian, mapped as they are from the index file):
 *   off[16][65537]        u32: bucket b of table j is [off[b], off[b+1])
 *   partner[16][n + 8]    u16 in bucket order (8 of padding for SIMD)
 *   id[16][n * w + 8]     ids of w = 3 bytes (n < 2^24) or 4, in bucket
 *                         order
 */
#ifndef WARD_MATCH_MIH_H
#define WARD_MATCH_MIH_H

#include <stddef.h>
#include <stdint.h>

#include "ward/err.h"
#include "ward/pdq.h"

#define MIH_TABLES 16
#define MIH_BUCKETS 65536
/* Below this many entries a scan beats probing 16 tables. */
#define MIH_MIN_ENTRIES 2048
#define MIH_MAX_ENTRIES 0xffffffffu

typedef struct mih {
    size_t n;
    const ward_pdq *hash;
    const uint32_t *off;     /* NULL: too few entries, scan instead */
    const uint16_t *partner;
    const uint8_t *id;
    int id_bytes;
} mih;

/* Tables built in memory (for the journal's entries, and to be written
 * into an index file): the caller frees them with mih_tables_free. */
typedef struct mih_tables {
    uint32_t *off;
    uint16_t *partner;
    uint8_t *id;
    int id_bytes;
} mih_tables;

/* Builds the tables of |n| hashes; none when n < MIH_MIN_ENTRIES. */
ward_err mih_build(const ward_pdq *hash, size_t n, mih_tables *out);
void mih_tables_free(mih_tables *t);

/* Array lengths in bytes for n entries and an id width. */
size_t mih_off_bytes(void);
size_t mih_partner_bytes(size_t n);
size_t mih_id_bytes(size_t n, int id_bytes);
/* The id width mih_build uses for n entries. */
int mih_id_width(size_t n);

/* Checks tables read from a file: every table's offsets start at 0, never
 * go down and end at n. (Ids are checked as they are read.) */
ward_err mih_check(const uint32_t *off, size_t n);

/* Called once per entry within the radius; nonzero stops the query. */
typedef int (*mih_fn)(void *ctx, uint32_t id, int distance);
/* Every entry within |radius| (0..256) of |q|, each exactly once. Returns
 * nonzero if |fn| stopped it. */
int mih_query(const mih *m, const ward_pdq *q, int radius, mih_fn fn,
              void *ctx);

/* Hamming distance, with the popcount instruction where the CPU has it. */
int mih_distance(const ward_pdq *a, const ward_pdq *b);

#endif
