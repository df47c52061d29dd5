/*
 * group: sender keys (group messaging), ward against libsignal-protocol-c's
 * group cipher, in one process, on the same plaintexts. Prints a markdown
 * table of median operations per second.
 *
 *   group [--runs N] [--ops N] [--only ward|libsignal] [--row NAME] [--list]
 *
 * One sender and one receiving member. The sender's distribution message
 * is processed before anything is timed; each row then times one kind of
 * operation:
 *   encrypt      the sender encrypts N messages (sign included)
 *   decrypt      the member decrypts them in order (signature checked)
 *   late         the member decrypts them in reversed batches of 100: all
 *                but one message of each batch through a kept key
 *
 * Only the operation a row names is timed (CLOCK_MONOTONIC); making the
 * parties, producing the messages a decrypt row consumes and checking
 * every plaintext run outside. The same regions toggle callgrind's
 * collection, so under valgrind --tool=callgrind --collect-atstart=no the
 * "Collected" count is exactly the timed operations (bench/group.sh).
 * Every message is parsed with ward's codec (libsignal's too: one format)
 * to check its key id and iteration, and every plaintext is compared with
 * what was sent; any mismatch aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "sig_harness.h"
#include "ward/crypto.h"
#include "ward/proto.h"

/* The plaintexts: the same for both implementations. */
#define PLAINTEXT_SEED 0x67726f7570u /* "group" */

/* A message or a plaintext, owned by the implementation that made it. */
typedef struct blob {
    uint8_t *p;
    size_t n;
    ward_buf wb; /* ward's buffer (p points into it) */
} blob;

typedef struct impl {
    const char *name;
    /* A sender and a member that has processed its SKDM; the key id. */
    void *(*pair_new)(uint32_t *key_id);
    void (*pair_free)(void *pair);
    void (*enc)(void *pair, const uint8_t *pt, size_t n, blob *out);
    void (*dec)(void *pair, const blob *in, blob *out);
    void (*blob_free)(blob *b);
} impl;

/* ---- ward ---- */

static void wcheck(ward_err e, const char *what)
{
    if (e != WARD_OK)
        bench_die("ward: %s: %s", what, ward_strerror(e));
}

typedef struct wpair {
    ward_sender_key *sender, *member;
} wpair;

static void *w_pair_new(uint32_t *key_id)
{
    wpair *p = bench_calloc(1, sizeof *p);
    ward_buf skdm;
    ward_buf_init(&skdm, 0);
    wcheck(ward_sender_key_new(&p->sender), "new");
    wcheck(ward_sender_key_new(&p->member), "new");
    wcheck(ward_sender_key_create(p->sender, &skdm), "create");
    wcheck(ward_sender_key_process(p->member, skdm.data, skdm.len),
           "process");
    ward_sender_key_info info;
    wcheck(ward_sender_key_info_get(p->sender, 0, &info), "info");
    *key_id = info.key_id;
    ward_buf_release(&skdm);
    return p;
}

static void w_pair_free(void *vp)
{
    wpair *p = vp;
    ward_sender_key_free(p->sender);
    ward_sender_key_free(p->member);
    free(p);
}

static void w_enc(void *vp, const uint8_t *pt, size_t n, blob *out)
{
    wpair *p = vp;
    ward_buf_init(&out->wb, 0);
    wcheck(ward_sender_key_encrypt(p->sender, pt, n, &out->wb), "encrypt");
    out->p = out->wb.data;
    out->n = out->wb.len;
}

static void w_dec(void *vp, const blob *in, blob *out)
{
    wpair *p = vp;
    ward_buf_init(&out->wb, 0);
    wcheck(ward_sender_key_decrypt(p->member, in->p, in->n, &out->wb),
           "decrypt");
    out->p = out->wb.data;
    out->n = out->wb.len;
}

static void w_blob_free(blob *b)
{
    ward_buf_release(&b->wb);
    memset(b, 0, sizeof *b);
}

static const impl IMPL_WARD = {"ward", w_pair_new, w_pair_free, w_enc,
                               w_dec, w_blob_free};

/* ---- libsignal-protocol-c (through tests/interop/sig_harness) ---- */

static void scheck(int rc, const char *what)
{
    if (rc != SIGH_OK)
        bench_die("libsignal: %s: %s (%d)", what, sigh_strerror(rc), rc);
}

typedef struct spair {
    sigh_party *sender, *member;
} spair;

static void *s_pair_new(uint32_t *key_id)
{
    spair *p = bench_calloc(1, sizeof *p);
    uint8_t *skdm = NULL;
    size_t n = 0;
    p->sender = sigh_party_new(0);
    p->member = sigh_party_new(0);
    if (!p->sender || !p->member)
        bench_die("libsignal: cannot create a party");
    scheck(sigh_group_create(p->sender, "bench", "sender", &skdm, &n),
           "create");
    scheck(sigh_group_process(p->member, "bench", "sender", skdm, n),
           "process");
    ward_skdm m;
    wcheck(ward_skdm_parse(&m, skdm, n), "libsignal's SKDM");
    *key_id = m.key_id;
    ward_memzero(&m, sizeof m);
    free(skdm);
    return p;
}

static void s_pair_free(void *vp)
{
    spair *p = vp;
    sigh_party_free(p->sender);
    sigh_party_free(p->member);
    free(p);
}

static void s_enc(void *vp, const uint8_t *pt, size_t n, blob *out)
{
    spair *p = vp;
    scheck(sigh_group_encrypt(p->sender, "bench", "sender", pt, n, &out->p,
                              &out->n),
           "encrypt");
}

static void s_dec(void *vp, const blob *in, blob *out)
{
    spair *p = vp;
    scheck(sigh_group_decrypt(p->member, "bench", "sender", in->p, in->n,
                              &out->p, &out->n),
           "decrypt");
}

static void s_blob_free(blob *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static const impl IMPL_SIG = {"libsignal", s_pair_new, s_pair_free, s_enc,
                              s_dec, s_blob_free};

/* ---- rows ---- */

enum what { ENC, DEC, LATE };
#define LATE_BATCH 100

typedef struct row {
    const char *name;
    const char *label;
    enum what what;
    size_t size;
    size_t def_ops;
} row;

static const row ROWS[] = {
    {"enc-100", "encrypt 100 B", ENC, 100, 4000},
    {"dec-100", "decrypt 100 B, in order", DEC, 100, 4000},
    {"enc-1k", "encrypt 1 KiB", ENC, 1024, 4000},
    {"dec-1k", "decrypt 1 KiB, in order", DEC, 1024, 4000},
    {"late-100", "decrypt 100 B, reversed batches of 100 (kept keys)", LATE,
     100, 2000},
};
#define N_ROWS (sizeof ROWS / sizeof ROWS[0])

static void check_msg(const blob *m, uint32_t key_id, size_t i,
                      const char *name)
{
    ward_sender_key_msg sm;
    if (ward_sender_key_msg_parse(&sm, m->p, m->n) != WARD_OK)
        bench_die("%s: message %zu is not a SenderKeyMessage", name, i);
    if (sm.key_id != key_id || sm.iteration != i)
        bench_die("%s: message %zu has key id %u iteration %u", name, i,
            sm.key_id, sm.iteration);
}

/* One timed run: seconds spent in the timed regions. */
static double run_row(const impl *im, const row *r, size_t ops,
                      const uint8_t *pts)
{
    blob *ct = bench_calloc(ops, sizeof *ct);
    blob *pt = bench_calloc(ops, sizeof *pt);
    bench_timer t = {0, 0};
    uint32_t key_id = 0;
    void *pair = im->pair_new(&key_id);

    if (r->what == ENC)
        bench_region_begin(&t);
    for (size_t i = 0; i < ops; i++)
        im->enc(pair, pts + i * r->size, r->size, &ct[i]);
    if (r->what == ENC)
        bench_region_end(&t);
    for (size_t i = 0; i < ops; i++)
        check_msg(&ct[i], key_id, i, im->name);

    if (r->what != ENC)
        bench_region_begin(&t);
    if (r->what == LATE) {
        for (size_t b = 0; b < ops; b += LATE_BATCH) {
            size_t end = b + LATE_BATCH < ops ? b + LATE_BATCH : ops;
            for (size_t i = end; i-- > b;)
                im->dec(pair, &ct[i], &pt[i]);
        }
    } else {
        for (size_t i = 0; i < ops; i++)
            im->dec(pair, &ct[i], &pt[i]);
    }
    if (r->what != ENC)
        bench_region_end(&t);

    for (size_t i = 0; i < ops; i++) {
        if (pt[i].n != r->size ||
            memcmp(pt[i].p, pts + i * r->size, r->size) != 0)
            bench_die("%s: message %zu decrypted to the wrong plaintext",
                im->name, i);
        im->blob_free(&ct[i]);
        im->blob_free(&pt[i]);
    }
    im->pair_free(pair);
    free(ct);
    free(pt);
    return t.total;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static const char *fmt_rate(char *buf, size_t cap, double v)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", v);
    size_t len = strlen(digits), o = 0;
    for (size_t i = 0; i < len && o + 2 < cap; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

static void usage(FILE *f)
{
    fputs("usage: group [--runs N] [--ops N] [--only ward|libsignal] "
          "[--row NAME] [--list]\n"
          "  --runs N   timed runs per row and implementation (default 5)\n"
          "  --ops N    messages per timed run (default: per row)\n"
          "  --only X   run one implementation only (ward or libsignal)\n"
          "  --row NAME run one row only (see --list)\n"
          "  --list     list the rows and exit\n",
          f);
}

static long parse_count(const char *opt, const char *s)
{
    char *end;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || *end || v < 1 || v > 10000000) {
        fprintf(stderr, "group: %s wants a positive number\n", opt);
        usage(stderr);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    bench_name = "group";
    int runs = 5;
    size_t ops_override = 0;
    const char *only = NULL, *row_name = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--runs") == 0) {
            runs = (int)parse_count(a, v);
            i++;
        } else if (strcmp(a, "--ops") == 0) {
            ops_override = (size_t)parse_count(a, v);
            i++;
        } else if (strcmp(a, "--only") == 0 && v) {
            only = v;
            i++;
        } else if (strcmp(a, "--row") == 0 && v) {
            row_name = v;
            i++;
        } else if (strcmp(a, "--list") == 0) {
            for (size_t r = 0; r < N_ROWS; r++)
                printf("%-9s %s (default --ops %zu)\n", ROWS[r].name,
                       ROWS[r].label, ROWS[r].def_ops);
            return 0;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "group: bad argument: %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (runs > 64)
        bench_die("--runs is at most 64");

    const impl *impls[2] = {&IMPL_WARD, &IMPL_SIG};
    int use[2] = {1, 1};
    if (only) {
        if (strcmp(only, "ward") == 0)
            use[1] = 0;
        else if (strcmp(only, "libsignal") == 0)
            use[0] = 0;
        else
            bench_die("--only wants ward or libsignal");
    }
    const row *sel = NULL;
    if (row_name) {
        for (size_t r = 0; r < N_ROWS; r++)
            if (strcmp(ROWS[r].name, row_name) == 0)
                sel = &ROWS[r];
        if (!sel)
            bench_die("unknown row %s (see --list)", row_name);
    }

    if (ward_crypto_init() != WARD_OK)
        bench_die("ward_crypto_init failed");
    if (sigh_global_init() != SIGH_OK)
        bench_die("sigh_global_init failed");

    printf("| row | ward ops/s (median) | libsignal ops/s (median) | "
           "ratio |\n");
    printf("|---|---:|---:|---:|\n");
    fflush(stdout);

    for (size_t ri = 0; ri < N_ROWS; ri++) {
        const row *r = &ROWS[ri];
        if (sel && r != sel)
            continue;
        size_t ops = ops_override ? ops_override : r->def_ops;
        uint8_t *pts = bench_calloc(ops, r->size);
        bench_fill(pts, ops * r->size, PLAINTEXT_SEED);

        /* An uncounted warm-up pass of each, then the timed runs, the
         * implementations taking turns and swapping who goes first. */
        bench_collect = 0;
        for (int k = 0; k < 2; k++)
            if (use[k])
                (void)run_row(impls[k], r, ops < 100 ? ops : 100, pts);
        bench_collect = 1;

        double rate[2][64] = {{0}};
        for (int run = 0; run < runs; run++) {
            for (int j = 0; j < 2; j++) {
                int k = run % 2 ? 1 - j : j;
                if (!use[k])
                    continue;
                double secs = run_row(impls[k], r, ops, pts);
                rate[k][run] = secs > 0 ? (double)ops / secs : 0;
            }
        }
        double med[2] = {0, 0};
        char c[2][40];
        for (int k = 0; k < 2; k++) {
            if (use[k]) {
                med[k] = median(rate[k], runs);
                fmt_rate(c[k], sizeof c[k], med[k]);
            } else {
                snprintf(c[k], sizeof c[k], "-");
            }
        }
        char ratio[32] = "-";
        if (use[0] && use[1] && med[1] > 0)
            snprintf(ratio, sizeof ratio, "%.2fx", med[0] / med[1]);
        printf("| %s | %s | %s | %s |\n", r->label, c[0], c[1], ratio);
        fflush(stdout);
        free(pts);
    }
    if (ops_override)
        printf("\nMedian of %d run%s; %zu messages per run.\n", runs,
               runs == 1 ? "" : "s", ops_override);
    else
        printf("\nMedian of %d run%s; messages per run: 4,000 (late-100: "
               "2,000).\n",
               runs, runs == 1 ? "" : "s");
    sigh_global_teardown();
    return 0;
}
