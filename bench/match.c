/*
 * match: ward's PDQ index (src/match, multi-index hashing) on generated
 * hashes, against a brute-force popcount scan over the same hashes in the
 * same process, as issue 6 asks (bench/match.sh, make bench-match).
 *
 *   match --n N --data uniform|clustered --dir DIR [--queries Q]
 *         [--sample S] [--radius R] [--rounds K] [--brute-rounds K]
 *         [--centres C] [--diag D] [--seed X] [--reuse]
 *
 * Data (fixed seed, so the same every run): N hashes, either uniform
 * random or clustered: C centres (default 1,000) drawn at random, each
 * entry a random centre with 0..40 of its bits flipped (the count uniform,
 * the bits distinct). Q queries (default 10,000), alternately a
 * near-duplicate (a random entry with 0..40 bits flipped) and a random
 * hash.
 *
 * Steps, all on one thread unless said:
 *   1. build: ward_match_builder_new, one list, ward_match_builder_add for
 *      each entry, ward_match_builder_write into DIR/index (the tables
 *      built, checksummed, written and synced): timed. With --reuse, an
 *      index already in DIR/index (from an earlier run with the same
 *      --n, --data and --seed) is used as it is, and nothing is timed.
 *   2. the index file's size; ward_match_open_opts timed 3 times each
 *      way it can hold the index (the file is in the page cache: it was
 *      just written): WARD_MATCH_OPEN_MAP ("ward": the file mapped, as
 *      shared pages) and WARD_MATCH_OPEN_COPY ("ward-copy": the PDQ
 *      hashes and tables read into the process's memory on transparent
 *      huge pages); and the whole file read into a malloc'd buffer and
 *      opened with set_open_mem (src/match/set_internal.h; "ward-mem": the
 *      same code and layout on ordinary 4 KiB anonymous pages). Each open
 *      reports the process's resident memory and huge pages after it.
 *   3. a warm-up pass over every query (not timed; hits per query kind).
 *   4. K rounds (default 5), each timing all Q queries at radius R
 *      (default 31) on each of the three sets, with 1 thread and with 2
 *      (pthreads sharing the one ward_match_set and taking queries 32 at a
 *      time), interleaved: the order of the sets and of the thread counts
 *      changes from round to round, so a change in the machine's state
 *      falls on all of them alike. A query's hits are counted by the
 *      callback, as a caller would see them. Each round also reports the
 *      page faults (major: read from the disk; minor) it took.
 *   5. the brute-force scan, timed over the first S queries (the sample;
 *      default all Q when N <= 1,000,000, else 500) in its own rounds
 *      (default 3, interleaved with those of step 4): for each query, every
 *      hash's distance by four __builtin_popcountll, one thread. Its first
 *      round's hits are the truth.
 *   6. the check: for every sample query, ward_match_pdq_collect's hits
 *      must be the brute-force hits exactly (the same hashes, as many
 *      times, at the same distances: no hit missing, none extra).
 *   7. with --diag D, a model of the work the index does for the first D
 *      queries, by a scan (not timed): the entries its probes reach, and
 *      those that pass the partner test and are read whole.
 *
 * Writes DIR/hashes.bin (N x 32 bytes: each hash's 16 words,
 * little-endian, as the index holds them), DIR/queries.bin (Q x 32) and
 * DIR/truth.bin (for each sample query, in order: a u32 count and that
 * many u32 entry numbers, ascending) for bench/match_faiss.py.
 *
 * Prints RESULT lines on stdout (bench/match.sh makes the tables) and a
 * summary on stderr. Exits 1 if the check fails.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "ward/match.h"
#include "ward/pdq.h"
/* set_open_mem and the index file's name, as fuzz_match_index uses them. */
#include "set_internal.h"

#define MAX_FLIPS 40
#define CHUNK 32

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Major page faults so far (pages read from the disk), all threads. */
static uint64_t majflt(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)ru.ru_majflt;
}

static uint64_t minflt(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)ru.ru_minflt;
}

/* A "Name:   N kB" field of a /proc/self file, in bytes (0 if absent). */
static uint64_t proc_kb(const char *file, const char *name)
{
    FILE *f = fopen(file, "r");
    char line[256];
    size_t nl = strlen(name);
    uint64_t v = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, name, nl) && line[nl] == ':') {
            v = strtoull(line + nl + 1, NULL, 10) * 1024;
            break;
        }
    if (f)
        fclose(f);
    return v;
}

/* The process's memory now, as a RESULT line's fields: resident anonymous
 * and file-backed bytes, and of those the bytes mapped as huge pages. */
static void print_mem(void)
{
    printf(" rss_anon=%llu rss_file=%llu anon_huge=%llu file_huge=%llu",
           (unsigned long long)proc_kb("/proc/self/status", "RssAnon"),
           (unsigned long long)proc_kb("/proc/self/status", "RssFile"),
           (unsigned long long)proc_kb("/proc/self/smaps_rollup",
                                       "AnonHugePages"),
           (unsigned long long)proc_kb("/proc/self/smaps_rollup",
                                       "FilePmdMapped"));
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "match: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory", NULL);
    return p;
}

/* ---- the data: xoshiro256** seeded by splitmix64 ---- */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rng_init(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Below |n|, near enough to uniform for n far below 2^64. */
static uint64_t below(rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)next(r) * n) >> 64);
}

static void random_hash(rng *r, ward_pdq *h)
{
    uint64_t v[4] = {next(r), next(r), next(r), next(r)};
    memcpy(h, v, sizeof *h);
}

/* 0..MAX_FLIPS distinct bits of |h| flipped, the count uniform. */
static void flip(rng *r, ward_pdq *h)
{
    int k = (int)below(r, MAX_FLIPS + 1);
    uint16_t done[16] = {0};
    while (k > 0) {
        unsigned b = (unsigned)(next(r) & 255);
        uint16_t bit = (uint16_t)(1u << (b & 15));
        if (done[b >> 4] & bit)
            continue;
        done[b >> 4] |= bit;
        h->w[b >> 4] ^= bit;
        k--;
    }
}

/* ---- files ---- */

static void write_file(const char *dir, const char *name, const void *p,
                       size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0)
        die(path, strerror(errno));
}

/* Bytes of the regular files in |dir|. */
static uint64_t dir_bytes(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        die(dir, strerror(errno));
    uint64_t total = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[4096];
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >=
            (int)sizeof path)
            die(dir, "path too long");
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            total += (uint64_t)st.st_size;
    }
    closedir(d);
    return total;
}

/* ---- the brute-force scan ---- */

static inline __attribute__((always_inline)) size_t
scan_body(const ward_pdq *h, size_t n, const ward_pdq *q, int radius,
          uint32_t *out)
{
    uint64_t y[4];
    memcpy(y, q, sizeof y);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t x[4];
        memcpy(x, &h[i], sizeof x);
        int d = __builtin_popcountll(x[0] ^ y[0]) +
                __builtin_popcountll(x[1] ^ y[1]) +
                __builtin_popcountll(x[2] ^ y[2]) +
                __builtin_popcountll(x[3] ^ y[3]);
        if (d <= radius)
            out[k++] = (uint32_t)i;
    }
    return k;
}

typedef size_t (*scan_fn)(const ward_pdq *, size_t, const ward_pdq *, int,
                          uint32_t *);

static size_t scan_plain(const ward_pdq *h, size_t n, const ward_pdq *q,
                         int radius, uint32_t *out)
{
    return scan_body(h, n, q, radius, out);
}

/* The release build targets baseline x86-64, which has no POPCNT:
 * without this, __builtin_popcountll is a call into libgcc. */
#if defined(__x86_64__) && !defined(__POPCNT__)
__attribute__((target("popcnt"))) static size_t
scan_popcnt(const ward_pdq *h, size_t n, const ward_pdq *q, int radius,
            uint32_t *out)
{
    return scan_body(h, n, q, radius, out);
}
#endif

static scan_fn pick_scan(const char **how)
{
#if defined(__POPCNT__)
    *how = "instruction(-mpopcnt)";
    return scan_plain;
#elif defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("popcnt")) {
        *how = "instruction(target_popcnt)";
        return scan_popcnt;
    }
    *how = "software";
    return scan_plain;
#else
    *how = "compiler_default";
    return scan_plain;
#endif
}

/* ---- ward's queries on threads ---- */

typedef struct job {
    const ward_match_set *s;
    const ward_pdq *q;
    size_t n;
    int radius;
    size_t next; /* taken CHUNK at a time, atomically */
} job;

typedef struct worker {
    job *j;
    uint64_t hits;
    pthread_t t;
} worker;

static int count_hit(void *ctx, const ward_match_hit *h)
{
    (void)h;
    ++*(uint64_t *)ctx;
    return 0;
}

static void *work(void *arg)
{
    worker *w = arg;
    job *j = w->j;
    for (;;) {
        size_t at = __atomic_fetch_add(&j->next, CHUNK, __ATOMIC_RELAXED);
        if (at >= j->n)
            break;
        size_t end = at + CHUNK < j->n ? at + CHUNK : j->n;
        for (size_t i = at; i < end; i++)
            if (ward_match_pdq(j->s, &j->q[i], j->radius, count_hit, &w->hits))
                die("ward_match_pdq failed", NULL);
    }
    return NULL;
}

/* All |n| queries on |threads| threads (the caller's thread is one of
 * them): the seconds taken; *hits gets the hits in all. */
static double run_ward(const ward_match_set *s, const ward_pdq *q, size_t n,
                       int radius, int threads, uint64_t *hits)
{
    job j = {s, q, n, radius, 0};
    worker w[8] = {{0}};
    double t0 = now();
    for (int i = 1; i < threads; i++) {
        w[i].j = &j;
        if (pthread_create(&w[i].t, NULL, work, &w[i]))
            die("pthread_create failed", NULL);
    }
    w[0].j = &j;
    work(&w[0]);
    for (int i = 1; i < threads; i++)
        pthread_join(w[i].t, NULL);
    double t1 = now();
    *hits = 0;
    for (int i = 0; i < threads; i++)
        *hits += w[i].hits;
    return t1 - t0;
}

/* One timed round of ward's queries, printed as a RESULT line: the
 * seconds. Every round must find as many hits (*hits, 0 before the
 * first). */
static double ward_round(const char *tag, const char *tool,
                         const ward_match_set *s, const ward_pdq *q,
                         size_t n, int radius, int threads, int run,
                         uint64_t *hits)
{
    uint64_t got, f0 = majflt(), m0 = minflt();
    double secs = run_ward(s, q, n, radius, threads, &got);
    if (*hits && got != *hits)
        die("ward's hit count changed between rounds", NULL);
    *hits = got;
    printf("RESULT %s tool=%s threads=%d run=%d queries=%llu secs=%.4f "
           "hits=%llu majflt=%llu minflt=%llu\n", tag, tool, threads, run,
           (unsigned long long)n, secs, (unsigned long long)got,
           (unsigned long long)(majflt() - f0),
           (unsigned long long)(minflt() - m0));
    fflush(stdout);
    return secs;
}

/* ---- the check ---- */

typedef struct rec {
    uint8_t hash[32];
    int distance;
} rec;

static int cmp_rec(const void *x, const void *y)
{
    const rec *a = x, *b = y;
    int c = memcmp(a->hash, b->hash, 32);
    return c ? c : a->distance - b->distance;
}

/* ward's hits for |q| against the brute-force entry numbers |ids|: 1 if
 * they are the same multiset of (hash, distance). */
static int agree(const ward_match_set *s, const ward_pdq *h,
                 const ward_pdq *q, int radius, const uint32_t *ids,
                 size_t n_ids)
{
    ward_match_hits got;
    if (ward_match_pdq_collect(s, q, radius, &got))
        die("ward_match_pdq_collect failed", NULL);
    int ok = got.n == n_ids;
    if (ok && n_ids) {
        rec *a = xmalloc(n_ids * sizeof *a), *b = xmalloc(n_ids * sizeof *b);
        for (size_t i = 0; i < n_ids; i++) {
            memcpy(a[i].hash, got.v[i].hash, 32);
            a[i].distance = got.v[i].distance;
            ward_pdq_to_bytes(&h[ids[i]], b[i].hash);
            b[i].distance = ward_pdq_distance(&h[ids[i]], q);
        }
        qsort(a, n_ids, sizeof *a, cmp_rec);
        qsort(b, n_ids, sizeof *b, cmp_rec);
        ok = memcmp(a, b, n_ids * sizeof *a) == 0;
        free(a);
        free(b);
    }
    ward_match_hits_free(&got);
    return ok;
}

/* ---- what the index does per query (a model, not ward's code) ---- */

/*
 * For |q|, by a scan of every entry: how many entries ward's tables hold
 * under a probed key (each one's partner chunk is tested), how many of
 * those pass the partner test too (each one's whole hash is read from a
 * random place), and how many are hits. The weights and both tests are
 * those of src/match/mih.h.
 */
static void model(const ward_pdq *h, size_t n, const ward_pdq *q, int radius,
                  uint64_t *probed, uint64_t *compared)
{
    int c[16], s = (radius + 1) / 16, e = (radius + 1) % 16;
    for (int j = 0; j < 16; j++)
        c[j] = s + (j < e);
    for (size_t i = 0; i < n; i++) {
        int d[16];
        for (int j = 0; j < 16; j++)
            d[j] = __builtin_popcount((unsigned)(h[i].w[j] ^ q->w[j]));
        for (int j = 0; j < 16; j++) {
            int j1 = (j + 1) % 16;
            if (c[j] <= 0 || d[j] > c[j] - 1)
                continue;
            ++*probed;
            if (d[j] + d[j1] <= c[j] + c[j1] - 1)
                ++*compared;
        }
    }
}

/* ---- main ---- */

static uint64_t num(const char *opt, const char *v, uint64_t lo, uint64_t hi)
{
    char *end;
    errno = 0;
    unsigned long long x = v ? strtoull(v, &end, 10) : 0;
    if (!v || errno || *end || end == v || x < lo || x > hi)
        die("bad or missing value for", opt);
    return (uint64_t)x;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define MAX_ROUNDS 64

int main(int argc, char **argv)
{
    uint64_t n = 0, nq = 10000, sample = UINT64_MAX, centres = 1000, seed = 6;
    uint64_t diag = 0;
    int reuse = 0;
    int radius = WARD_MATCH_DEFAULT_RADIUS, rounds = 5, brute_rounds = 3;
    const char *data = NULL, *dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--reuse")) {
            reuse = 1;
            continue;
        }
        if (!strcmp(o, "--n"))
            n = num(o, v, 1, 100000000);
        else if (!strcmp(o, "--queries"))
            nq = num(o, v, 1, 10000000);
        else if (!strcmp(o, "--sample"))
            sample = num(o, v, 0, 10000000);
        else if (!strcmp(o, "--radius"))
            radius = (int)num(o, v, 0, WARD_MATCH_MAX_RADIUS);
        else if (!strcmp(o, "--rounds"))
            rounds = (int)num(o, v, 1, MAX_ROUNDS);
        else if (!strcmp(o, "--brute-rounds"))
            brute_rounds = (int)num(o, v, 1, MAX_ROUNDS);
        else if (!strcmp(o, "--centres"))
            centres = num(o, v, 1, 100000000);
        else if (!strcmp(o, "--diag"))
            diag = num(o, v, 0, 10000000);
        else if (!strcmp(o, "--seed"))
            seed = num(o, v, 0, UINT64_MAX);
        else if (!strcmp(o, "--data") && v)
            data = v;
        else if (!strcmp(o, "--dir") && v)
            dir = v;
        else
            die("usage: match --n N --data uniform|clustered --dir DIR "
                "[--queries Q] [--sample S] [--radius R] [--rounds K] "
                "[--brute-rounds K] [--centres C] [--diag D] [--seed X] [--reuse]",
                NULL);
        i++;
    }
    if (!n || !data || !dir)
        die("--n, --data and --dir are needed", NULL);
    int clustered = !strcmp(data, "clustered");
    if (!clustered && strcmp(data, "uniform"))
        die("--data is uniform or clustered", NULL);
    if (sample == UINT64_MAX)
        sample = n <= 1000000 ? nq : 500;
    if (sample > nq)
        sample = nq;
    char tag[64];
    snprintf(tag, sizeof tag, "data=%s n=%llu", data, (unsigned long long)n);

    /* The hashes and the queries. */
    rng r;
    rng_init(&r, seed * 2 + (uint64_t)clustered);
    ward_pdq *h = xmalloc(n * sizeof *h);
    if (clustered) {
        ward_pdq *c = xmalloc(centres * sizeof *c);
        for (uint64_t i = 0; i < centres; i++)
            random_hash(&r, &c[i]);
        for (uint64_t i = 0; i < n; i++) {
            h[i] = c[below(&r, centres)];
            flip(&r, &h[i]);
        }
        free(c);
    } else {
        for (uint64_t i = 0; i < n; i++)
            random_hash(&r, &h[i]);
    }
    rng_init(&r, seed * 2 + (uint64_t)clustered + 1000);
    ward_pdq *q = xmalloc(nq * sizeof *q);
    for (uint64_t i = 0; i < nq; i++) {
        if (i % 2 == 0) {
            q[i] = h[below(&r, n)];
            flip(&r, &q[i]);
        } else {
            random_hash(&r, &q[i]);
        }
    }
    write_file(dir, "hashes.bin", h, n * sizeof *h);
    write_file(dir, "queries.bin", q, nq * sizeof *q);
    printf("RESULT %s what=params queries=%llu sample=%llu radius=%d "
           "rounds=%d brute_rounds=%d centres=%llu seed=%llu\n", tag,
           (unsigned long long)nq, (unsigned long long)sample, radius, rounds,
           brute_rounds, clustered ? (unsigned long long)centres : 0ull,
           (unsigned long long)seed);
    fflush(stdout);

    /* 1. Build and write (or, with --reuse, take the last run's). */
    char ixdir[4096], ixpath[4096 + 64];
    snprintf(ixdir, sizeof ixdir, "%s/index", dir);
    snprintf(ixpath, sizeof ixpath, "%s/%s", ixdir, SET_INDEX_FILE);
    if (mkdir(ixdir, 0700) != 0 && errno != EEXIST)
        die(ixdir, strerror(errno));
    struct stat ist;
    ward_err err;
    if (!reuse || stat(ixpath, &ist) != 0) {
        double t0 = now();
        ward_match_builder *b;
        if (ward_match_builder_new(&b) ||
            ward_match_builder_list(b, "bench", "bench/match",
                                    WARD_HL_REFERENCE, 0))
            die("ward_match_builder failed", NULL);
        for (uint64_t i = 0; i < n; i++) {
            ward_hl_entry e = {0};
            e.type = WARD_HL_PDQ;
            ward_pdq_to_bytes(&h[i], e.hash);
            if (ward_match_builder_add(b, &e))
                die("ward_match_builder_add failed", NULL);
        }
        double t1 = now();
        err = ward_match_builder_write(b, ixdir);
        double t2 = now();
        if (err)
            die("ward_match_builder_write failed", ward_strerror(err));
        ward_match_builder_free(b);
        printf("RESULT %s what=build add=%.3f write=%.3f secs=%.3f\n", tag,
               t1 - t0, t2 - t1, t2 - t0);
    }
    uint64_t bytes = dir_bytes(ixdir);
    printf("RESULT %s what=size bytes=%llu per_hash=%.2f per_hash_noraw=%.2f\n",
           tag, (unsigned long long)bytes, (double)bytes / (double)n,
           (double)(bytes - 32 * n) / (double)n);
    fflush(stdout);

    /* 2. Open each way, three times; the last of each stays open. The
     * memory figures are the whole process's after the open: the hashes
     * and queries above are in them, as are the sets opened before. */
    static const struct {
        const char *tool, *what;
        unsigned flags;
    } way[2] = {{"ward", "open", WARD_MATCH_OPEN_MAP},
                {"ward-copy", "open-copy", WARD_MATCH_OPEN_COPY}};
    ward_match_set *set[3] = {NULL, NULL, NULL};
    double open_secs[3][3];
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 3; i++) {
            char why[256] = "";
            if (set[k])
                ward_match_close(set[k]);
            uint64_t f0 = majflt();
            double a = now();
            err = ward_match_open_opts(ixdir, way[k].flags, &set[k], why,
                                       sizeof why);
            open_secs[k][i] = now() - a;
            if (err)
                die("ward_match_open_opts failed", why);
            printf("RESULT %s what=%s run=%d secs=%.4f majflt=%llu", tag,
                   way[k].what, i + 1, open_secs[k][i],
                   (unsigned long long)(majflt() - f0));
            print_mem();
            printf("\n");
            fflush(stdout);
        }
    /* The whole file in a malloc'd buffer (4 KiB pages: THP is only for
     * memory that asks, here), opened as the fuzz target opens it. */
    FILE *ixf = fopen(ixpath, "rb");
    uint8_t *copy = xmalloc((size_t)bytes);
    if (!ixf || fread(copy, 1, (size_t)bytes, ixf) != bytes)
        die(ixpath, "cannot read it back");
    fclose(ixf);
    for (int i = 0; i < 3; i++) {
        char why[256] = "";
        if (set[2])
            ward_match_close(set[2]);
        double a = now();
        if (set_open_mem(copy, (size_t)bytes, &set[2], why, sizeof why))
            die("set_open_mem failed", why);
        open_secs[2][i] = now() - a;
        printf("RESULT %s what=open-mem run=%d secs=%.4f", tag, i + 1,
               open_secs[2][i]);
        print_mem();
        printf("\n");
    }
    fflush(stdout);
    ward_match_set *s = set[0];
    static const char *const tools[3] = {"ward", "ward-copy", "ward-mem"};

    /* 3. Warm-up: hits by query kind (and every page of every set's
     * tables that the queries read, touched once). */
    uint64_t hits_kind[2] = {0}, with_hits[2] = {0};
    for (uint64_t i = 0; i < nq; i++) {
        uint64_t k = 0;
        if (ward_match_pdq(s, &q[i], radius, count_hit, &k))
            die("ward_match_pdq failed", NULL);
        hits_kind[i % 2] += k;
        with_hits[i % 2] += k > 0;
    }
    printf("RESULT %s what=queries near=%llu near_hits=%llu near_with_hits=%llu "
           "random=%llu random_hits=%llu random_with_hits=%llu\n", tag,
           (unsigned long long)((nq + 1) / 2), (unsigned long long)hits_kind[0],
           (unsigned long long)with_hits[0], (unsigned long long)(nq / 2),
           (unsigned long long)hits_kind[1], (unsigned long long)with_hits[1]);
    fflush(stdout);
    for (int k = 1; k < 3; k++) {
        uint64_t got;
        run_ward(set[k], q, nq, radius, 1, &got);
        if (got != hits_kind[0] + hits_kind[1])
            die("the sets disagree on the hits", tools[k]);
    }

    /* 4 and 5: the timed rounds. */
    const char *how;
    scan_fn scan = pick_scan(&how);
    uint32_t *out = xmalloc(n * sizeof *out);
    size_t truth_cap = 1 << 20, truth_n = 0;
    uint32_t *truth = xmalloc(truth_cap * sizeof *truth);
    size_t *truth_at = xmalloc((sample + 1) * sizeof *truth_at);
    double wt[3][2][MAX_ROUNDS], bt[MAX_ROUNDS];
    uint64_t whits = 0, bhits = 0;
    int last = rounds > brute_rounds ? rounds : brute_rounds;
    for (int run = 1; run <= last; run++) {
        for (int m = 0; m < 3 && run <= rounds; m++) {
            int k = (m + run) % 3;
            for (int t = 0; t < 2; t++) {
                int threads = (t + run) % 2 ? 1 : 2;
                wt[k][threads - 1][run - 1] =
                    ward_round(tag, tools[k], set[k], q, nq, radius, threads,
                               run, &whits);
            }
        }
        if (run > brute_rounds || !sample)
            continue;
        uint64_t hits = 0, f0 = majflt();
        double a = now();
        for (uint64_t i = 0; i < sample; i++) {
            size_t k = scan(h, n, &q[i], radius, out);
            hits += k;
            if (run == 1) {
                truth_at[i] = truth_n;
                if (truth_n + k > truth_cap) {
                    while (truth_n + k > truth_cap)
                        truth_cap *= 2;
                    truth = realloc(truth, truth_cap * sizeof *truth);
                    if (!truth)
                        die("out of memory", NULL);
                }
                memcpy(truth + truth_n, out, k * sizeof *out);
                truth_n += k;
            }
        }
        double secs = now() - a;
        if (run == 1)
            truth_at[sample] = truth_n;
        else if (hits != bhits)
            die("the scan's hit count changed between rounds", NULL);
        bhits = hits;
        bt[run - 1] = secs;
        printf("RESULT %s tool=brute threads=1 run=%d queries=%llu secs=%.4f "
               "hits=%llu majflt=%llu popcnt=%s\n", tag, run,
               (unsigned long long)sample, secs, (unsigned long long)hits,
               (unsigned long long)(majflt() - f0), how);
        fflush(stdout);
    }
    ward_match_close(set[1]);
    ward_match_close(set[2]);
    free(copy);

    /* 6. The check, and the truth for match_faiss.py. */
    uint64_t ok = 0, sample_hits = 0;
    for (uint64_t i = 0; i < sample; i++) {
        size_t k = truth_at[i + 1] - truth_at[i];
        ok += (uint64_t)agree(s, h, &q[i], radius, truth + truth_at[i], k);
        sample_hits += k;
    }
    {
        char path[4096];
        snprintf(path, sizeof path, "%s/truth.bin", dir);
        FILE *f = fopen(path, "wb");
        if (!f)
            die(path, strerror(errno));
        for (uint64_t i = 0; i < sample; i++) {
            uint32_t k = (uint32_t)(truth_at[i + 1] - truth_at[i]);
            if (fwrite(&k, 4, 1, f) != 1 ||
                fwrite(truth + truth_at[i], 4, k, f) != k)
                die(path, "write failed");
        }
        if (fclose(f) != 0)
            die(path, strerror(errno));
    }
    printf("RESULT %s what=check queries=%llu agree=%llu hits=%llu\n", tag,
           (unsigned long long)sample, (unsigned long long)ok,
           (unsigned long long)sample_hits);
    fflush(stdout);

    /* 7. The model, on the first D queries (D/2 of each kind). */
    if (diag > nq)
        diag = nq;
    for (int kind = 0; kind < 2 && diag; kind++) {
        uint64_t probed = 0, compared = 0, m = 0;
        for (uint64_t i = (uint64_t)kind; i < diag; i += 2, m++)
            model(h, n, &q[i], radius, &probed, &compared);
        printf("RESULT %s what=model kind=%s queries=%llu probed=%llu "
               "compared=%llu\n", tag, kind ? "random" : "near",
               (unsigned long long)m, (unsigned long long)probed,
               (unsigned long long)compared);
    }
    fflush(stdout);

    fprintf(stderr,
            "match: %s: %.1f B/hash (%.1f without the raw 32); open %.3f s "
            "mapped, %.3f s copied, %.3f s from memory; queries/s on 1 and 2 "
            "threads: mapped %.0f, %.0f; copied %.0f, %.0f; in memory %.0f, "
            "%.0f; brute force %.1f (popcount: %s); check %llu/%llu\n",
            tag, (double)bytes / (double)n,
            (double)(bytes - 32 * n) / (double)n, median(open_secs[0], 3),
            median(open_secs[1], 3), median(open_secs[2], 3),
            (double)nq / median(wt[0][0], rounds),
            (double)nq / median(wt[0][1], rounds),
            (double)nq / median(wt[1][0], rounds),
            (double)nq / median(wt[1][1], rounds),
            (double)nq / median(wt[2][0], rounds),
            (double)nq / median(wt[2][1], rounds),
            sample ? (double)sample / median(bt, brute_rounds) : 0.0, how,
            (unsigned long long)ok, (unsigned long long)sample);
    ward_match_close(s);
    free(h);
    free(q);
    free(out);
    free(truth);
    free(truth_at);
    return ok == sample ? 0 : 1;
}
