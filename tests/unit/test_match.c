/*
 * The match module against a brute-force scan as ground truth: uniform
 * random and clustered sets (many entries near a few centres, as real
 * perceptual hashes are), radii 0, 1, 15, 31, 32, 63, 64 and others,
 * queries at exactly the radius and one past it, empty and tiny sets
 * (the scan path), duplicate entries. Every entry within the radius must
 * come back exactly once, with its distance, and nothing else. Then the
 * index file's container: a round trip, and truncated, corrupt and
 * foreign files refused.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "../../src/match/ixfile.h"
#include "../../src/match/mih.h"
#include "ward/match.h"
#include "wtest.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void random_hash(ward_pdq *h)
{
    for (int i = 0; i < 16; i++)
        h->w[i] = (uint16_t)next();
}

/* |h| with exactly |k| distinct bits flipped. */
static void flip(ward_pdq *h, int k)
{
    uint8_t used[256] = {0};
    while (k > 0) {
        int b = (int)(next() % 256);
        if (used[b])
            continue;
        used[b] = 1;
        h->w[b / 16] ^= (uint16_t)(1u << (b % 16));
        k--;
    }
}

static int brute_dist(const ward_pdq *a, const ward_pdq *b)
{
    int d = 0;
    for (int i = 0; i < 256; i++)
        d += ((a->w[i / 16] ^ b->w[i / 16]) >> (i % 16)) & 1;
    return d;
}

typedef struct hits {
    size_t n;
    int *count; /* times each id was reported */
    int *d;
    int bad_dist;
} hits;

static int on_hit(void *ctx, uint32_t id, int distance)
{
    hits *h = ctx;
    h->count[id]++;
    h->d[id] = distance;
    h->n++;
    return 0;
}

/* One query, compared with the scan; returns the number of true hits. */
static size_t check_query(const mih *m, const ward_pdq *q, int radius,
                          int *mismatch, hits *h)
{
    memset(h->count, 0, m->n * sizeof *h->count);
    h->n = 0;
    mih_query(m, q, radius, on_hit, h);
    size_t truth = 0;
    for (size_t i = 0; i < m->n; i++) {
        int d = brute_dist(&m->hash[i], q);
        int want = d <= radius;
        truth += (size_t)want;
        if (h->count[i] != want || (want && h->d[i] != d))
            (*mismatch)++;
    }
    return truth;
}

typedef struct set {
    ward_pdq *hash;
    size_t n;
    mih_tables t;
    mih m;
} set;

static void set_make(set *s, size_t n, int clustered, int dups)
{
    s->n = n;
    s->hash = malloc((n ? n : 1) * sizeof *s->hash);
    REQUIRE(s->hash);
    ward_pdq centres[40];
    for (int c = 0; c < 40; c++)
        random_hash(&centres[c]);
    for (size_t i = 0; i < n; i++) {
        if (clustered) {
            s->hash[i] = centres[next() % 40];
            flip(&s->hash[i], (int)(next() % 41));
        } else {
            random_hash(&s->hash[i]);
        }
    }
    /* Exact duplicates: some entries again under other ids. */
    for (size_t i = 0; dups && i + 1 < n; i += 97)
        s->hash[i + 1] = s->hash[i];
    REQUIRE(mih_build(s->hash, n, &s->t) == WARD_OK);
    s->m = (mih){n, s->hash, s->t.off, s->t.partner, s->t.id, s->t.id_bytes};
}

static void set_free(set *s)
{
    mih_tables_free(&s->t);
    free(s->hash);
}

static void run_set(size_t n, int clustered, int dups, int queries)
{
    static const int radii[] = {0, 1, 2, 15, 16, 31, 32, 33, 47, 63, 64};
    set s;
    set_make(&s, n, clustered, dups);
    CHECK_EQ_INT(s.m.off != NULL, n >= MIH_MIN_ENTRIES);
    hits h = {0, calloc(n + 1, sizeof(int)), calloc(n + 1, sizeof(int)), 0};
    REQUIRE(h.count && h.d);
    int mismatch = 0;
    size_t found = 0, asked = 0;
    for (size_t ri = 0; ri < sizeof radii / sizeof radii[0]; ri++) {
        int r = radii[ri];
        for (int k = 0; k < queries; k++) {
            ward_pdq q;
            if (n && k % 4 != 3) {
                /* Near an entry: at exactly r, one past it, or closer. */
                q = s.hash[next() % n];
                int flips = k % 4 == 0 ? r : k % 4 == 1 ? r + 1
                                                        : (int)(next() % (r + 1));
                flip(&q, flips);
            } else {
                random_hash(&q);
            }
            found += check_query(&s.m, &q, r, &mismatch, &h);
            asked++;
        }
    }
    if (mismatch)
        fprintf(stderr, "n=%zu clustered=%d dups=%d: %d mismatches\n", n,
                clustered, dups, mismatch);
    CHECK_EQ_INT(mismatch, 0);
    /* The queries must have found something for this to mean anything. */
    if (n)
        CHECK(found > asked / 4);
    free(h.count);
    free(h.d);
    set_free(&s);
}

static void test_against_scan(void)
{
    run_set(0, 0, 0, 4);
    run_set(1, 0, 0, 8);
    run_set(500, 0, 1, 20);      /* a scan: too small for tables */
    run_set(3000, 0, 1, 40);     /* 3-byte ids */
    run_set(20000, 0, 0, 24);
    run_set(20000, 1, 1, 24);    /* clustered: crowded buckets */
    run_set(60000, 1, 0, 6);
}

/* Every copy of a hash comes back, each once, at distance 0. */
static void test_duplicates(void)
{
    set s;
    size_t n = 4096;
    s.n = n;
    s.hash = malloc(n * sizeof *s.hash);
    REQUIRE(s.hash);
    for (size_t i = 0; i < n; i++)
        random_hash(&s.hash[i]);
    for (size_t i = 100; i < 150; i++)
        s.hash[i] = s.hash[99];
    REQUIRE(mih_build(s.hash, n, &s.t) == WARD_OK);
    s.m = (mih){n, s.hash, s.t.off, s.t.partner, s.t.id, s.t.id_bytes};
    hits h = {0, calloc(n, sizeof(int)), calloc(n, sizeof(int)), 0};
    REQUIRE(h.count && h.d);
    int mismatch = 0;
    CHECK_EQ_INT(check_query(&s.m, &s.hash[99], 0, &mismatch, &h), 51);
    CHECK_EQ_INT(h.n, 51);
    CHECK_EQ_INT(mismatch, 0);
    free(h.count);
    free(h.d);
    set_free(&s);
}

static int stop_at_first(void *ctx, uint32_t id, int distance)
{
    (void)id, (void)distance;
    (*(int *)ctx)++;
    return 1;
}

static void test_tables(void)
{
    set s;
    set_make(&s, 5000, 0, 0);
    CHECK_EQ_INT(s.t.id_bytes, 3);
    CHECK_EQ_INT(mih_check(s.t.off, 5000), WARD_OK);
    CHECK_EQ_INT(mih_check(s.t.off, 4999), WARD_ERR_BAD_STATE);
    /* Offsets that go down somewhere are refused. */
    uint32_t *off = s.t.off + 3 * (MIH_BUCKETS + 1);
    uint32_t keep = off[700];
    off[700] = off[701] + 1;
    CHECK_EQ_INT(mih_check(s.t.off, 5000), WARD_ERR_BAD_STATE);
    off[700] = keep;
    /* The callback stops the query. */
    int calls = 0;
    CHECK_EQ_INT(mih_query(&s.m, &s.hash[7], 64, stop_at_first, &calls), 1);
    CHECK_EQ_INT(calls, 1);
    /* Ids past the end (only a damaged file has them) are skipped. */
    memset(s.t.id, 0xff, mih_id_bytes(5000, 3));
    calls = 0;
    CHECK_EQ_INT(mih_query(&s.m, &s.hash[7], 31, stop_at_first, &calls), 0);
    CHECK_EQ_INT(calls, 0);
    CHECK_EQ_INT(mih_distance(&s.hash[1], &s.hash[1]), 0);
    CHECK_EQ_INT(mih_distance(&s.hash[1], &s.hash[2]),
                 brute_dist(&s.hash[1], &s.hash[2]));
    CHECK_EQ_INT(mih_id_width(1u << 24), 4);
    set_free(&s);
}

static char tmpdir[] = "/tmp/test_match.XXXXXX";

static void write_file(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0 && write(fd, p, n) == (ssize_t)n);
    close(fd);
}

static uint8_t *read_file(const char *path, size_t *n)
{
    int fd = open(path, O_RDONLY);
    REQUIRE(fd >= 0);
    struct stat st;
    REQUIRE(fstat(fd, &st) == 0);
    uint8_t *p = malloc((size_t)st.st_size);
    REQUIRE(p && read(fd, p, (size_t)st.st_size) == st.st_size);
    close(fd);
    *n = (size_t)st.st_size;
    return p;
}

static void test_container(void)
{
    char path[256], bad[256], why[200];
    snprintf(path, sizeof path, "%s/ix", tmpdir);
    snprintf(bad, sizeof bad, "%s/bad", tmpdir);
    ix_writer *w;
    REQUIRE(ix_writer_new(path, &w) == WARD_OK);
    CHECK_EQ_INT(ix_write(w, "x", 1), WARD_ERR_INVALID_ARG); /* no section */
    CHECK_EQ_INT(ix_begin(w, 7), WARD_OK);
    CHECK_EQ_INT(ix_write(w, "hello", 5), WARD_OK);
    CHECK_EQ_INT(ix_end(w), WARD_OK);
    CHECK_EQ_INT(ix_begin(w, 9), WARD_OK);
    static uint8_t big[3 << 20];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 31);
    CHECK_EQ_INT(ix_write(w, big, sizeof big), WARD_OK);
    CHECK_EQ_INT(ix_end(w), WARD_OK);
    CHECK_EQ_INT(ix_begin(w, 11), WARD_OK); /* an empty section */
    CHECK_EQ_INT(ix_end(w), WARD_OK);
    CHECK_EQ_INT(ix_commit(w), WARD_OK);
    struct stat st;
    REQUIRE(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);

    ix_file f;
    CHECK_EQ_INT(ix_open(path, &f, why, sizeof why), WARD_OK);
    uint64_t len = 0;
    const uint8_t *p = ix_get(&f, 7, &len);
    CHECK(p && len == 5 && memcmp(p, "hello", 5) == 0);
    p = ix_get(&f, 9, &len);
    CHECK(p && len == sizeof big && memcmp(p, big, sizeof big) == 0);
    CHECK(((uintptr_t)p % IX_ALIGN) == 0);
    CHECK(ix_get(&f, 11, &len) != NULL && len == 0);
    CHECK(ix_get(&f, 8, &len) == NULL);
    ix_close(&f);

    /* Copied sections: the same bytes, in memory of their own, aligned;
     * the others still from the mapping. */
    static const uint32_t copy_kinds[] = {9, 11, 12};
    CHECK_EQ_INT(ix_open_copy(path, &f, copy_kinds, 3, why, sizeof why), WARD_OK);
    p = ix_get(&f, 9, &len);
    CHECK(p && len == sizeof big && memcmp(p, big, sizeof big) == 0);
    CHECK(((uintptr_t)p % IX_ALIGN) == 0);
    CHECK(p < f.map || p >= f.map + f.size);
    p = ix_get(&f, 7, &len);
    CHECK(p && len == 5 && memcmp(p, "hello", 5) == 0 && p >= f.map &&
          p < f.map + f.size);
    CHECK(ix_get(&f, 11, &len) != NULL && len == 0);
    CHECK(ix_get(&f, 12, &len) == NULL);
    ix_close(&f);
    CHECK_EQ_INT(ix_open_copy("/nonexistent/ix", &f, copy_kinds, 3, why,
                              sizeof why),
                 WARD_ERR_NOT_FOUND);

    size_t n;
    uint8_t *bytes = read_file(path, &n);
    /* Truncated anywhere: refused, the reason says so past the header. */
    size_t cuts[] = {0, 10, IX_HEADER_BYTES - 1, IX_HEADER_BYTES + 3, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_file(bad, bytes, cuts[i]);
        why[0] = 0;
        CHECK_EQ_INT(ix_open(bad, &f, why, sizeof why), WARD_ERR_BAD_STATE);
        CHECK(why[0] != 0);
        CHECK_EQ_INT(ix_open_copy(bad, &f, copy_kinds, 3, why, sizeof why),
                     WARD_ERR_BAD_STATE);
    }
    write_file(bad, bytes, n - 1);
    ix_open(bad, &f, why, sizeof why);
    CHECK(strstr(why, "truncated") != NULL);
    /* One bit flipped: in the magic, the version, the section table, the
     * header's checksum, a section's bytes. */
    size_t flips[] = {0, 8, 40, 32 + 3 * 32, IX_HEADER_BYTES + 2,
                      IX_HEADER_BYTES + 64 + 1000000, n - 1};
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        bytes[flips[i]] ^= 0x10;
        write_file(bad, bytes, n);
        CHECK_EQ_INT(ix_open(bad, &f, why, sizeof why), WARD_ERR_BAD_STATE);
        /* Copying section 9 checks its checksum as it copies; the other
         * sections are checked as ix_open checks them. */
        CHECK_EQ_INT(ix_open_copy(bad, &f, copy_kinds, 3, why, sizeof why),
                     WARD_ERR_BAD_STATE);
        bytes[flips[i]] ^= 0x10;
    }
    write_file(bad, bytes, n);
    CHECK_EQ_INT(ix_open(bad, &f, why, sizeof why), WARD_OK);
    ix_close(&f);
    /* Longer than the header says. */
    uint8_t *longer = malloc(n + 1);
    REQUIRE(longer);
    memcpy(longer, bytes, n);
    longer[n] = 0;
    write_file(bad, longer, n + 1);
    CHECK_EQ_INT(ix_open(bad, &f, why, sizeof why), WARD_ERR_BAD_STATE);
    free(longer);
    free(bytes);
    CHECK_EQ_INT(ix_open("/nonexistent/ix", &f, why, sizeof why),
                 WARD_ERR_NOT_FOUND);
    unlink(bad);

    /* An aborted writer leaves nothing beside the file. */
    REQUIRE(ix_writer_new(path, &w) == WARD_OK);
    ix_begin(w, 1);
    ix_abort(w);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "test $(ls %s | wc -l) -eq 1", tmpdir);
    CHECK_EQ_INT(system(cmd), 0);
    unlink(path);
}

typedef struct seen {
    int n;
    char names[64][64];
    int dist[64];
    int variant[64];
    char labels[64][64];
    uint8_t hash[64][32];
} seen;

static int on_set_hit(void *ctx, const ward_match_hit *h)
{
    seen *s = ctx;
    if (s->n < 64) {
        snprintf(s->names[s->n], 64, "%s", h->list_name);
        snprintf(s->labels[s->n], 64, "%.*s", (int)h->labels_len, h->labels);
        s->dist[s->n] = h->distance;
        s->variant[s->n] = h->variant;
        memcpy(s->hash[s->n], h->hash, 32);
    }
    s->n++;
    return 0;
}

static int count_entry(void *ctx, const ward_hl_entry *e)
{
    (void)e;
    (*(int *)ctx)++;
    return 0;
}

/* Readers share one opened set: four threads asking the same queries get
 * the same answers as one thread did. */
typedef struct reader {
    const ward_match_set *s;
    const ward_pdq *q;
    const size_t *want;
    int nq, wrong;
} reader;

static int count_set_hit(void *ctx, const ward_match_hit *h)
{
    (void)h;
    (*(size_t *)ctx)++;
    return 0;
}

static void *read_many(void *p)
{
    reader *r = p;
    for (int round = 0; round < 5; round++)
        for (int i = 0; i < r->nq; i++) {
            size_t n = 0;
            ward_match_pdq(r->s, &r->q[i], 31, count_set_hit, &n);
            r->wrong += n != r->want[i];
        }
    return NULL;
}

static void test_concurrent(const ward_match_set *s, const ward_pdq *h, int nh)
{
    enum { NQ = 200, THREADS = 4 };
    static ward_pdq q[NQ];
    static size_t want[NQ];
    size_t total = 0;
    for (int i = 0; i < NQ; i++) {
        q[i] = h[next() % (uint64_t)nh];
        flip(&q[i], (int)(next() % 40));
        want[i] = 0;
        ward_match_pdq(s, &q[i], 31, count_set_hit, &want[i]);
        total += want[i];
    }
    CHECK(total > NQ / 3);
    pthread_t t[THREADS];
    reader r[THREADS];
    for (int i = 0; i < THREADS; i++) {
        r[i] = (reader){s, q, want, NQ, 0};
        REQUIRE(pthread_create(&t[i], NULL, read_many, &r[i]) == 0);
    }
    int wrong = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        wrong += r[i].wrong;
    }
    CHECK_EQ_INT(wrong, 0);
}

/* Hits in an order of their own: by hash, list, distance. */
static int cmp_hit(const void *x, const void *y)
{
    const ward_match_hit *a = x, *b = y;
    int c = memcmp(a->hash, b->hash, 32);
    if (c)
        return c;
    if (a->list_id != b->list_id)
        return a->list_id < b->list_id ? -1 : 1;
    return a->distance - b->distance;
}

/* The same hits, labels and all. */
static int same_hits(ward_match_hits *a, ward_match_hits *b)
{
    if (a->n != b->n)
        return 0;
    if (a->n) {
        qsort(a->v, a->n, sizeof *a->v, cmp_hit);
        qsort(b->v, b->n, sizeof *b->v, cmp_hit);
    }
    for (size_t i = 0; i < a->n; i++) {
        const ward_match_hit *x = &a->v[i], *y = &b->v[i];
        if (cmp_hit(x, y) || x->type != y->type || x->variant != y->variant ||
            strcmp(x->list_name, y->list_name) ||
            x->labels_len != y->labels_len ||
            memcmp(x->labels, y->labels, x->labels_len))
            return 0;
    }
    return 1;
}

/* The set opened each way answers every query exactly as the mapped set
 * does (which test_against_scan and the tests above hold to a scan). */
static void test_open_ways(const char *dir, const ward_pdq *h, int nh)
{
    char why[200];
    ward_match_set *map, *copy, *dflt, *x;
    REQUIRE(ward_match_open_opts(dir, WARD_MATCH_OPEN_MAP, &map, why,
                                 sizeof why) == WARD_OK);
    REQUIRE(ward_match_open_opts(dir, WARD_MATCH_OPEN_COPY, &copy, why,
                                 sizeof why) == WARD_OK);
    REQUIRE(ward_match_open_opts(dir, 0, &dflt, why, sizeof why) == WARD_OK);
    CHECK_EQ_INT(ward_match_open_opts(dir, WARD_MATCH_OPEN_MAP |
                                               WARD_MATCH_OPEN_COPY,
                                      &x, why, sizeof why),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_match_open_opts(dir, 4, &x, why, sizeof why),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_match_list_count(copy), ward_match_list_count(map));
    static const int radii[] = {0, 1, 16, 31, 32, 64};
    int differ = 0;
    size_t found = 0;
    for (int i = 0; i < 300; i++) {
        ward_pdq q;
        if (i % 3 == 2) {
            random_hash(&q);
        } else {
            q = h[next() % (uint64_t)nh];
            flip(&q, (int)(next() % 40));
        }
        int r = radii[i % 6];
        ward_match_hits a, b, c;
        REQUIRE(ward_match_pdq_collect(map, &q, r, &a) == WARD_OK);
        REQUIRE(ward_match_pdq_collect(copy, &q, r, &b) == WARD_OK);
        REQUIRE(ward_match_pdq_collect(dflt, &q, r, &c) == WARD_OK);
        found += a.n;
        differ += !same_hits(&a, &b) || !same_hits(&a, &c);
        ward_match_hits_free(&a);
        ward_match_hits_free(&b);
        ward_match_hits_free(&c);
    }
    CHECK_EQ_INT(differ, 0);
    CHECK(found > 60);
    /* The PDQ hashes a list reads back come from the copy. */
    const ward_match_list *l = ward_match_list_find(copy, "alpha");
    REQUIRE(l);
    int na = 0, nb = 0;
    CHECK_EQ_INT(ward_match_list_entries(map, l->id, count_entry, &na), WARD_OK);
    CHECK_EQ_INT(ward_match_list_entries(copy, l->id, count_entry, &nb), WARD_OK);
    CHECK(na > 0 && na == nb);
    test_concurrent(copy, h, nh);
    ward_match_close(map);
    ward_match_close(copy);
    ward_match_close(dflt);
}

/* Rewrites the section and header checksums (as a crafted file would). */
static void fix_checksums(uint8_t *p)
{
    uint32_t count;
    memcpy(&count, p + 12, 4);
    for (uint32_t i = 0; i < count; i++) {
        uint8_t *sec = p + 32 + (size_t)i * 32;
        uint64_t off, len;
        memcpy(&off, sec + 8, 8);
        memcpy(&len, sec + 16, 8);
        uint64_t c = XXH3_64bits(p + off, len);
        memcpy(sec + 24, &c, 8);
    }
    uint64_t c = XXH3_64bits(p, 32 + (size_t)count * 32);
    memcpy(p + 32 + (size_t)count * 32, &c, 8);
}

/* Files whose checksums match but whose contents lie: counts that would
 * overflow a size, strings that run past their end. */
static void test_lying_file(const char *dir)
{
    char path[300], why[200];
    snprintf(path, sizeof path, "%s/index.wlx", dir);
    size_t n;
    uint8_t *good = read_file(path, &n);
    ix_file f;
    REQUIRE(ix_open_mem(good, n, &f, why, sizeof why) == WARD_OK);
    uint64_t len;
    size_t meta_off = (size_t)((const uint8_t *)ix_get(&f, 1, &len) - good);
    size_t lists_off = (size_t)((const uint8_t *)ix_get(&f, 2, &len) - good);
    uint8_t *p = malloc(n);
    REQUIRE(p);
    ward_match_set *s;
    /* n_md5 = 2^60: times 16 it wraps to 0. */
    memcpy(p, good, n);
    uint64_t huge = 1ull << 60;
    memcpy(p + meta_off + 16, &huge, 8);
    fix_checksums(p);
    write_file(path, p, n);
    CHECK_EQ_INT(ward_match_open(dir, &s, why, sizeof why), WARD_ERR_BAD_STATE);
    CHECK(strstr(why, "more entries") != NULL);
    /* A list name's length past the strings. */
    memcpy(p, good, n);
    uint32_t long_name = 1u << 30;
    memcpy(p + lists_off + 32, &long_name, 4);
    fix_checksums(p);
    write_file(path, p, n);
    CHECK_EQ_INT(ward_match_open(dir, &s, why, sizeof why), WARD_ERR_BAD_STATE);
    /* The untouched file with its checksums rewritten still opens. */
    memcpy(p, good, n);
    fix_checksums(p);
    write_file(path, p, n);
    CHECK_EQ_INT(ward_match_open(dir, &s, why, sizeof why), WARD_OK);
    ward_match_close(s);
    free(p);
    free(good);
}

/* A set of three lists written to a file and opened again: hits carry
 * their list and labels, exact hashes match exactly, a list can be left
 * out of a rebuild, and a damaged file is refused. */
static void test_set(void)
{
    char dir[256], why[200];
    snprintf(dir, sizeof dir, "%s/set", tmpdir);
    REQUIRE(mkdir(dir, 0700) == 0);
    ward_match_set *s;
    /* No index yet: an empty set. */
    REQUIRE(ward_match_open(dir, &s, why, sizeof why) == WARD_OK);
    CHECK_EQ_INT(ward_match_list_count(s), 0);
    seen got = {0};
    ward_pdq q;
    random_hash(&q);
    CHECK_EQ_INT(ward_match_pdq(s, &q, 31, on_set_hit, &got), WARD_OK);
    CHECK_EQ_INT(got.n, 0);
    ward_match_close(s);
    REQUIRE(ward_match_open_opts(dir, WARD_MATCH_OPEN_COPY, &s, why,
                                 sizeof why) == WARD_OK);
    CHECK_EQ_INT(ward_match_list_count(s), 0);
    ward_match_close(s);

    enum { N = 6000 };
    static ward_pdq h[N];
    for (int i = 0; i < N; i++)
        random_hash(&h[i]);
    ward_match_builder *b;
    REQUIRE(ward_match_builder_new(&b) == WARD_OK);
    CHECK_EQ_INT(ward_match_builder_add(b, &(ward_hl_entry){0}),
                 WARD_ERR_INVALID_ARG); /* no list yet */
    REQUIRE(ward_match_builder_list(b, "zeta", "NCMEC", WARD_HL_TE_CSV, 5) == WARD_OK);
    CHECK_EQ_INT(ward_match_builder_list(b, "zeta", "", WARD_HL_TE, 5),
                 WARD_ERR_EXISTS);
    for (int i = 0; i < N / 2; i++) {
        ward_hl_entry e = {WARD_HL_PDQ, {0}, i % 2 ? "category=A1" : "", i % 2 ? 11 : 0, 0};
        ward_pdq_to_bytes(&h[i], e.hash);
        REQUIRE(ward_match_builder_add(b, &e) == WARD_OK);
    }
    ward_hl_entry md5 = {WARD_HL_MD5, {0x90, 0x01}, "k=v", 3, 0};
    REQUIRE(ward_match_builder_add(b, &md5) == WARD_OK);
    REQUIRE(ward_match_builder_list(b, "alpha", "", WARD_HL_REFERENCE, 6) == WARD_OK);
    for (int i = N / 2; i < N; i++) {
        ward_hl_entry e = {WARD_HL_PDQ, {0}, "", 0, 0};
        ward_pdq_to_bytes(&h[i], e.hash);
        REQUIRE(ward_match_builder_add(b, &e) == WARD_OK);
    }
    /* The same entry in two lists. */
    ward_hl_entry dup = {WARD_HL_PDQ, {0}, "idx=1", 5, 0};
    ward_pdq_to_bytes(&h[7], dup.hash);
    REQUIRE(ward_match_builder_add(b, &dup) == WARD_OK);
    ward_hl_entry sha = {WARD_HL_SHA256, {0xab}, "", 0, 0};
    REQUIRE(ward_match_builder_add(b, &sha) == WARD_OK);
    REQUIRE(ward_match_builder_list(b, "empty", "x", WARD_HL_TE, 7) == WARD_OK);
    REQUIRE(ward_match_builder_write(b, dir) == WARD_OK);
    ward_match_builder_free(b);

    REQUIRE(ward_match_open(dir, &s, why, sizeof why) == WARD_OK);
    REQUIRE(ward_match_list_count(s) == 3);
    /* By name. */
    CHECK(strcmp(ward_match_list_at(s, 0)->name, "alpha") == 0);
    CHECK(strcmp(ward_match_list_at(s, 2)->name, "zeta") == 0);
    const ward_match_list *z = ward_match_list_find(s, "zeta");
    REQUIRE(z);
    CHECK(strcmp(z->source, "NCMEC") == 0);
    CHECK_EQ_INT(z->format, WARD_HL_TE_CSV);
    CHECK_EQ_INT(z->count[WARD_HL_PDQ], N / 2);
    CHECK_EQ_INT(z->count[WARD_HL_MD5], 1);
    CHECK_EQ_INT(ward_match_list_find(s, "alpha")->count[WARD_HL_PDQ], N / 2 + 1);
    CHECK(ward_match_list_find(s, "nope") == NULL);

    /* Entry 7 is in zeta (labels category=A1) and alpha (idx=1). */
    memset(&got, 0, sizeof got);
    q = h[7];
    flip(&q, 5);
    CHECK_EQ_INT(ward_match_pdq(s, &q, 31, on_set_hit, &got), WARD_OK);
    REQUIRE(got.n == 2);
    int zi = strcmp(got.names[0], "zeta") == 0 ? 0 : 1;
    CHECK(strcmp(got.names[zi], "zeta") == 0);
    CHECK(strcmp(got.labels[zi], "category=A1") == 0);
    CHECK(strcmp(got.names[1 - zi], "alpha") == 0);
    CHECK(strcmp(got.labels[1 - zi], "idx=1") == 0);
    CHECK_EQ_INT(got.dist[0], 5);
    uint8_t want[32];
    ward_pdq_to_bytes(&h[7], want);
    CHECK_MEM(got.hash[0], want, 32);
    memset(&got, 0, sizeof got);
    CHECK_EQ_INT(ward_match_pdq(s, &q, 4, on_set_hit, &got), WARD_OK);
    CHECK_EQ_INT(got.n, 0);
    CHECK_EQ_INT(ward_match_pdq(s, &q, 65, on_set_hit, &got),
                 WARD_ERR_INVALID_ARG);

    /* Dihedral: the rotated query finds the entry through its variant. */
    ward_pdq v[WARD_PDQ_VARIANTS];
    for (int i = 0; i < WARD_PDQ_VARIANTS; i++)
        random_hash(&v[i]);
    v[3] = h[4000];
    v[5] = h[4000];
    flip(&v[5], 2);
    memset(&got, 0, sizeof got);
    CHECK_EQ_INT(ward_match_pdq_dihedral(s, v, 31, on_set_hit, &got), WARD_OK);
    CHECK_EQ_INT(got.n, 1);
    CHECK_EQ_INT(got.variant[0], 3);
    CHECK_EQ_INT(got.dist[0], 0);

    /* Collect and batch give the same as the callback. */
    ward_match_hits res[2];
    ward_pdq qs[2] = {q, h[100]};
    CHECK_EQ_INT(ward_match_pdq_batch(s, qs, 2, 31, res), WARD_OK);
    CHECK_EQ_INT(res[0].n, 2);
    CHECK_EQ_INT(res[1].n, 1);
    ward_match_hits_free(&res[0]);
    ward_match_hits_free(&res[1]);

    /* Exact hashes. */
    memset(&got, 0, sizeof got);
    CHECK_EQ_INT(ward_match_exact(s, WARD_HL_MD5, md5.hash, on_set_hit, &got), WARD_OK);
    CHECK_EQ_INT(got.n, 1);
    CHECK(strcmp(got.labels[0], "k=v") == 0);
    uint8_t other[32] = {0x90, 0x02};
    CHECK_EQ_INT(ward_match_exact(s, WARD_HL_MD5, other, on_set_hit, &got), WARD_OK);
    CHECK_EQ_INT(ward_match_exact(s, WARD_HL_SHA256, sha.hash, on_set_hit, &got), WARD_OK);
    CHECK_EQ_INT(got.n, 2);
    CHECK(strcmp(got.names[1], "alpha") == 0);

    test_concurrent(s, h, N);
    test_open_ways(dir, h, N);

    int count = 0;
    CHECK_EQ_INT(ward_match_list_entries(s, z->id, count_entry, &count), WARD_OK);
    CHECK_EQ_INT(count, N / 2 + 1);

    /* A rebuild without zeta: its entries are gone, alpha's stay, ids
     * are kept and a new list gets a new one. */
    uint32_t alpha_id = ward_match_list_find(s, "alpha")->id;
    REQUIRE(ward_match_builder_new(&b) == WARD_OK);
    REQUIRE(ward_match_builder_copy(b, s, "zeta") == WARD_OK);
    REQUIRE(ward_match_builder_list(b, "beta", "", WARD_HL_TE, 8) == WARD_OK);
    REQUIRE(ward_match_builder_write(b, dir) == WARD_OK);
    ward_match_builder_free(b);
    ward_match_set *s2;
    REQUIRE(ward_match_open(dir, &s2, why, sizeof why) == WARD_OK);
    CHECK_EQ_INT(ward_match_list_count(s2), 3);
    CHECK(ward_match_list_find(s2, "zeta") == NULL);
    CHECK_EQ_INT(ward_match_list_find(s2, "alpha")->id, alpha_id);
    CHECK(ward_match_list_find(s2, "beta")->id > z->id);
    memset(&got, 0, sizeof got);
    ward_match_pdq(s2, &q, 31, on_set_hit, &got);
    CHECK_EQ_INT(got.n, 1);
    memset(&got, 0, sizeof got);
    ward_match_pdq(s2, &h[100], 0, on_set_hit, &got);
    CHECK_EQ_INT(got.n, 0);
    ward_match_pdq(s2, &h[5000], 0, on_set_hit, &got);
    CHECK_EQ_INT(got.n, 1);
    /* The old set still answers from the file it mapped. */
    memset(&got, 0, sizeof got);
    ward_match_pdq(s, &h[100], 0, on_set_hit, &got);
    CHECK_EQ_INT(got.n, 1);
    ward_match_close(s);
    ward_match_close(s2);

    test_lying_file(dir);

    /* A damaged index file is refused, and says why. */
    char path[300];
    snprintf(path, sizeof path, "%s/index.wlx", dir);
    size_t n;
    uint8_t *bytes = read_file(path, &n);
    bytes[n / 2] ^= 1;
    write_file(path, bytes, n);
    why[0] = 0;
    CHECK_EQ_INT(ward_match_open(dir, &s, why, sizeof why), WARD_ERR_BAD_STATE);
    CHECK(why[0] != 0);
    /* (n / 2 is in the PDQ tables, which the copy checksums as it reads.) */
    why[0] = 0;
    CHECK_EQ_INT(ward_match_open_opts(dir, WARD_MATCH_OPEN_COPY, &s, why,
                                      sizeof why),
                 WARD_ERR_BAD_STATE);
    CHECK(strstr(why, "checksum") != NULL);
    bytes[n / 2] ^= 1;
    write_file(path, bytes, n - 100);
    CHECK_EQ_INT(ward_match_open(dir, &s, why, sizeof why), WARD_ERR_BAD_STATE);
    CHECK(strstr(why, "truncated") != NULL);
    free(bytes);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    REQUIRE(mkdtemp(tmpdir));
    test_against_scan();
    test_duplicates();
    test_tables();
    test_container();
    test_set();
    rmdir(tmpdir);
    printf("test_match: %d passed, %d failed\n", wtest_pass, wtest_fail);
    return wtest_fail != 0;
}
