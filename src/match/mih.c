/* Multi-index hashing: building the tables and querying them (mih.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "mih.h"

#define OFF_PER_TABLE (MIH_BUCKETS + 1)
#define PAD 8
/* Buckets whose first lines are requested before any is scanned. */
#define PREFETCH_BATCH 32
/* Entries of a bucket whose partners are requested ahead. */
#define PREFETCH_ENTRIES 512

/* Every 16-bit mask, fewest bits first: the keys within radius t of a
 * chunk are chunk ^ masks[0 .. upto[t]). */
static uint16_t masks[MIH_BUCKETS];
static uint32_t upto[17];
static pthread_once_t masks_once = PTHREAD_ONCE_INIT;

static void masks_build(void)
{
    uint32_t k = 0;
    for (int w = 0; w <= 16; w++) {
        for (uint32_t m = 0; m < MIH_BUCKETS; m++)
            if (__builtin_popcount(m) == w)
                masks[k++] = (uint16_t)m;
        upto[w] = k;
    }
}

size_t mih_off_bytes(void)
{
    return (size_t)MIH_TABLES * OFF_PER_TABLE * sizeof(uint32_t);
}

size_t mih_partner_bytes(size_t n)
{
    return (size_t)MIH_TABLES * (n + PAD) * sizeof(uint16_t);
}

size_t mih_id_bytes(size_t n, int id_bytes)
{
    return (size_t)MIH_TABLES * (n * (size_t)id_bytes + PAD);
}

int mih_id_width(size_t n)
{
    return n < (1u << 24) ? 3 : 4;
}

void mih_tables_free(mih_tables *t)
{
    free(t->off);
    free(t->partner);
    free(t->id);
    memset(t, 0, sizeof *t);
}

ward_err mih_build(const ward_pdq *hash, size_t n, mih_tables *out)
{
    memset(out, 0, sizeof *out);
    if (n < MIH_MIN_ENTRIES)
        return WARD_OK;
    if (n > MIH_MAX_ENTRIES)
        return WARD_ERR_TOO_BIG;
    int w = mih_id_width(n);
    out->id_bytes = w;
    out->off = calloc(1, mih_off_bytes());
    out->partner = calloc(1, mih_partner_bytes(n));
    out->id = calloc(1, mih_id_bytes(n, w));
    uint32_t *cursor = malloc(MIH_BUCKETS * sizeof *cursor);
    if (!out->off || !out->partner || !out->id || !cursor) {
        free(cursor);
        mih_tables_free(out);
        return WARD_ERR_NOMEM;
    }
    /* A counting sort per table, entries in id order within a bucket. */
    for (int j = 0; j < MIH_TABLES; j++) {
        uint32_t *off = out->off + (size_t)j * OFF_PER_TABLE;
        uint16_t *partner = out->partner + (size_t)j * (n + PAD);
        uint8_t *id = out->id + (size_t)j * (n * (size_t)w + PAD);
        int pj = (j + 1) % MIH_TABLES;
        for (size_t i = 0; i < n; i++)
            off[hash[i].w[j] + 1]++;
        for (uint32_t b = 0; b < MIH_BUCKETS; b++)
            off[b + 1] += off[b];
        memcpy(cursor, off, MIH_BUCKETS * sizeof *cursor);
        for (size_t i = 0; i < n; i++) {
            uint32_t at = cursor[hash[i].w[j]]++;
            uint32_t v = (uint32_t)i;
            partner[at] = hash[i].w[pj];
            memcpy(id + (size_t)at * w, &v, (size_t)w);
        }
    }
    free(cursor);
    return WARD_OK;
}

ward_err mih_check(const uint32_t *off, size_t n)
{
    for (int j = 0; j < MIH_TABLES; j++) {
        const uint32_t *o = off + (size_t)j * OFF_PER_TABLE;
        if (o[0] != 0 || o[MIH_BUCKETS] != n)
            return WARD_ERR_BAD_STATE;
        for (uint32_t b = 0; b < MIH_BUCKETS; b++)
            if (o[b + 1] < o[b])
                return WARD_ERR_BAD_STATE;
    }
    return WARD_OK;
}

/* ---- querying ---- */

/* Compiled twice where the CPU may or may not have POPCNT: the baseline
 * x86-64 instruction set lacks it, and the full comparisons need it. */
#if defined(__x86_64__) && !defined(__POPCNT__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__)
#define MULTI __attribute__((target_clones("popcnt", "default")))
#else
#define MULTI
#endif

static inline __attribute__((always_inline)) int
dist(const ward_pdq *a, const ward_pdq *b)
{
    uint64_t x[4], y[4];
    memcpy(x, a, sizeof x);
    memcpy(y, b, sizeof y);
    return __builtin_popcountll(x[0] ^ y[0]) + __builtin_popcountll(x[1] ^ y[1]) +
           __builtin_popcountll(x[2] ^ y[2]) + __builtin_popcountll(x[3] ^ y[3]);
}

MULTI int mih_distance(const ward_pdq *a, const ward_pdq *b)
{
    return dist(a, b);
}

/* The weights of mih.h: c_j = s + (j < e) for r + 1 = 16 s + e. */
static void weights(int radius, int c[MIH_TABLES])
{
    int s = (radius + 1) / MIH_TABLES, e = (radius + 1) % MIH_TABLES;
    for (int j = 0; j < MIH_TABLES; j++)
        c[j] = s + (j < e);
}

/* Keys probed in all: a scan is cheaper when they outnumber the entries
 * a tenth as much (each probe touches a bucket; a scan reads in order). */
static size_t probes(const int c[MIH_TABLES])
{
    size_t p = 0;
    for (int j = 0; j < MIH_TABLES; j++)
        if (c[j] > 0)
            p += upto[c[j] - 1 > 16 ? 16 : c[j] - 1];
    return p;
}

static int chunk_dist(uint16_t a, uint16_t b)
{
    return __builtin_popcount((unsigned)(a ^ b));
}

typedef struct query {
    const mih *m;
    const ward_pdq *q;
    int radius;
    int c[MIH_TABLES];
    mih_fn fn;
    void *ctx;
} query;

/* Found by table |j|: the full comparison, and the report unless a table
 * before |j| reports it. Nonzero to stop. */
static inline __attribute__((always_inline)) int
candidate(const query *x, int j, uint32_t id)
{
    const mih *m = x->m;
    if (id >= m->n) /* only a damaged file can say so */
        return 0;
    const ward_pdq *h = &m->hash[id];
    int d = dist(h, x->q);
    if (d > x->radius)
        return 0;
    for (int k = 0; k < j; k++) {
        int dk = chunk_dist(h->w[k], x->q->w[k]);
        int dk1 = chunk_dist(h->w[k + 1], x->q->w[k + 1]);
        if (dk <= x->c[k] - 1 && dk + dk1 <= x->c[k] + x->c[k + 1] - 1)
            return 0;
    }
    return x->fn(x->ctx, id, d);
}

/* Candidates gathered before their ids and hashes are read (see
 * mih_query). */
#define CAND_BATCH 64

typedef struct cand {
    const uint8_t *id; /* where its id is */
    int table;
} cand;

/* The gathered candidates: every id read and its hash requested, then
 * every full comparison. Nonzero to stop. */
static inline __attribute__((always_inline)) int
flush(const query *x, const cand *c, int n)
{
    const mih *m = x->m;
    uint32_t id[CAND_BATCH];
    for (int i = 0; i < n; i++) {
        /* 4 bytes read for a 3-byte id: the table's padding (PAD) keeps
         * the last one inside it. */
        uint32_t v;
        memcpy(&v, c[i].id, 4);
        id[i] = m->id_bytes == 3 ? v & 0xffffff : v;
        if (id[i] < m->n)
            __builtin_prefetch(&m->hash[id[i]]);
    }
    for (int i = 0; i < n; i++)
        if (candidate(x, c[i].table, id[i]))
            return 1;
    return 0;
}

/* Entries [lo, hi) of table |j|'s bucket whose partner is within |lim|
 * bits of |qp|: each added to the candidates |c| (*nc of them), whose
 * checks are made (flush) whenever CAND_BATCH are waiting. */
static inline __attribute__((always_inline)) int
scan_bucket(const query *x, int j, const uint16_t *partner,
            const uint8_t *ids, uint32_t lo, uint32_t hi, uint16_t qp,
            int lim, cand *c, int *nc)
{
    const int w = x->m->id_bytes;
    uint32_t at = lo;
#ifdef __SSE2__
    const __m128i q = _mm_set1_epi16((short)qp);
    const __m128i limit = _mm_set1_epi16((short)(lim + 1));
    const __m128i m1 = _mm_set1_epi16(0x5555), m2 = _mm_set1_epi16(0x3333);
    const __m128i m4 = _mm_set1_epi16(0x0f0f), m8 = _mm_set1_epi16(0x001f);
    for (; at < hi; at += 8) {
        __m128i v = _mm_xor_si128(
            _mm_loadu_si128((const __m128i *)(partner + at)), q);
        v = _mm_sub_epi16(v, _mm_and_si128(_mm_srli_epi16(v, 1), m1));
        v = _mm_add_epi16(_mm_and_si128(v, m2),
                          _mm_and_si128(_mm_srli_epi16(v, 2), m2));
        v = _mm_and_si128(_mm_add_epi16(v, _mm_srli_epi16(v, 4)), m4);
        v = _mm_and_si128(_mm_add_epi16(v, _mm_srli_epi16(v, 8)), m8);
        unsigned bits = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi16(v, limit));
        /* Two mask bits per lane; lanes past the bucket's end dropped. */
        uint32_t left = hi - at;
        if (left < 8)
            bits &= (1u << (2 * left)) - 1;
        while (bits) {
            int lane = __builtin_ctz(bits) / 2;
            bits &= ~(3u << (2 * lane));
            const uint8_t *p = ids + (size_t)(at + (uint32_t)lane) * w;
            __builtin_prefetch(p);
            c[*nc] = (cand){p, j};
            if (++*nc == CAND_BATCH) {
                *nc = 0;
                if (flush(x, c, CAND_BATCH))
                    return 1;
            }
        }
    }
#else
    for (; at < hi; at++) {
        if (chunk_dist(partner[at], qp) > lim)
            continue;
        c[*nc] = (cand){ids + (size_t)at * w, j};
        if (++*nc == CAND_BATCH) {
            *nc = 0;
            if (flush(x, c, CAND_BATCH))
                return 1;
        }
    }
#endif
    return 0;
}

static int scan_all(const query *x)
{
    for (size_t i = 0; i < x->m->n; i++) {
        int d = dist(&x->m->hash[i], x->q);
        if (d <= x->radius && x->fn(x->ctx, (uint32_t)i, d))
            return 1;
    }
    return 0;
}

MULTI int mih_query(const mih *m, const ward_pdq *q, int radius, mih_fn fn,
                    void *ctx)
{
    if (radius < 0 || !m->n)
        return 0;
    if (radius > 256)
        radius = 256;
    pthread_once(&masks_once, masks_build);
    query x = {m, q, radius, {0}, fn, ctx};
    weights(radius, x.c);
    if (!m->off || 10 * probes(x.c) > m->n)
        return scan_all(&x);
    size_t n = m->n;
    const int w = m->id_bytes;
    /* Each step of a query waits on scattered reads: bucket offsets, then
     * partners, then ids, then hashes. Each is asked for ahead, so that
     * many are in flight at once rather than one after another: the next
     * table's offsets while this table's buckets are scanned; a batch of
     * buckets' partners before any of them is scanned; and the entries
     * that pass the partner test are gathered (their ids' lines
     * requested) and checked CAND_BATCH at a time, every hash requested
     * as its id is read before the first full comparison. */
    cand c[CAND_BATCH];
    int nc = 0;
    for (int j = 0; j < MIH_TABLES; j++) {
        int cj = x.c[j], c1 = x.c[(j + 1) % MIH_TABLES];
        if (cj <= 0)
            continue;
        const uint32_t *off = m->off + (size_t)j * OFF_PER_TABLE;
        const uint16_t *partner = m->partner + (size_t)j * (n + PAD);
        const uint8_t *ids = m->id + (size_t)j * (n * (size_t)w + PAD);
        uint16_t qk = q->w[j], qp = q->w[(j + 1) % MIH_TABLES];
        uint32_t keys = upto[cj - 1];
        if (j + 1 < MIH_TABLES && x.c[j + 1] > 0) {
            const uint32_t *next = off + OFF_PER_TABLE;
            uint32_t nk = upto[x.c[j + 1] - 1];
            for (uint32_t k = 0; k < nk && k < PREFETCH_BATCH; k++)
                __builtin_prefetch(next + (uint16_t)(q->w[j + 1] ^ masks[k]));
        }
        for (uint32_t k0 = 0; k0 < keys; k0 += PREFETCH_BATCH) {
            uint32_t k1 = keys - k0 < PREFETCH_BATCH ? keys : k0 + PREFETCH_BATCH;
            uint32_t lo[PREFETCH_BATCH], hi[PREFETCH_BATCH];
            for (uint32_t k = k0; k < k1; k++) {
                uint16_t key = (uint16_t)(qk ^ masks[k]);
                lo[k - k0] = off[key];
                hi[k - k0] = off[key + 1];
                if (lo[k - k0] < hi[k - k0] && hi[k - k0] <= n) {
                    /* The whole bucket's partners (32 to a line), up to
                     * a limit. */
                    uint32_t end = hi[k - k0];
                    if (end - lo[k - k0] > PREFETCH_ENTRIES)
                        end = lo[k - k0] + PREFETCH_ENTRIES;
                    for (uint32_t a = lo[k - k0]; a < end; a += 32)
                        __builtin_prefetch(partner + a);
                    __builtin_prefetch(partner + end - 1);
                }
            }
            for (uint32_t k = k0; k < k1; k++) {
                uint32_t l = lo[k - k0], h = hi[k - k0];
                if (h > n || l >= h) /* empty, or a damaged file */
                    continue;
                int lim = cj + c1 - 1 - __builtin_popcount(masks[k]);
                if (scan_bucket(&x, j, partner, ids, l, h, qp, lim, c, &nc))
                    return 1;
            }
        }
    }
    return nc ? flush(&x, c, nc) : 0;
}
