/*
 * ratchet: ward against libsignal-protocol-c, in one process, on the same
 * plaintexts. Prints a markdown table of median operations per second.
 *
 *   ratchet [--runs N] [--ops N] [--only ward|libsignal] [--row NAME] [--list]
 *
 * Rows (see --list):
 *   one-way      A sends N messages on one sending chain, B decrypts them in
 *                order: the symmetric ratchet only.
 *   alternating  A->B, B->A, A->B, ...: every decryption meets a new ratchet
 *                key and does a DH ratchet step (checked on the wire).
 *   setup        B's bundle processed by A, A's first (PreKeySignal) message
 *                encrypted, and decrypted by B with a fresh session.
 *
 * Only the operation a row names is timed (CLOCK_MONOTONIC). Everything
 * else -- making the parties, generating the ciphertexts a decrypt row
 * consumes, checking every plaintext -- runs outside the timed regions. The
 * same regions toggle callgrind's collection, so under
 *   valgrind --tool=callgrind --collect-atstart=no ...
 * "Collected" counts exactly the timed operations (bench/run.sh).
 *
 * Every decryption's plaintext is compared with what was sent, and the
 * messages' ratchet keys and counters are checked to follow the intended
 * pattern; any mismatch aborts, so the benchmark cannot time a broken path.
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
#define PLAINTEXT_SEED 0x77617264u /* "ward" */

/* ------------------------------------------------------------------ */
/* The two implementations behind one interface.                       */

/* A message or a plaintext, owned by the implementation that made it. */
typedef struct blob {
    uint8_t *p;
    size_t n;
    int type;
    ward_buf wb; /* ward's output buffer (p points into it) */
} blob;

typedef struct impl {
    const char *name;
    /* Two parties with a session: A (0) has processed B's (1) bundle. */
    void *(*pair_new)(void);
    void (*pair_free)(void *pair);
    /* from/to: 0 = A, 1 = B. Abort on any error. */
    void (*enc)(void *pair, int from, const uint8_t *pt, size_t n, blob *out);
    void (*dec)(void *pair, int to, const blob *in, blob *out);
    void (*blob_free)(blob *b);
    /* Session setup: |n| fresh initiator/responder couples, prepared
     * untimed; setup_op(i) is the timed part. */
    void *(*setup_prep)(size_t n);
    void (*setup_op)(void *prep, size_t i, const uint8_t *pt, size_t n,
                     blob *ct, blob *out);
    void (*setup_free)(void *prep, size_t n);
} impl;

static void check_plain(const blob *got, const uint8_t *want, size_t n,
                        const char *impl_name, size_t i)
{
    if (got->n != n || (n && memcmp(got->p, want, n) != 0))
        bench_die("%s: message %zu decrypted to the wrong plaintext", impl_name, i);
}

/* Warm-up round trips for a new pair, checked. */
static void warm_pair(const impl *im, void *pair, int warm)
{
    static const uint8_t hello[] = "warm-up message";
    for (int i = 0; i < warm; i++) {
        blob ct = {0}, pt = {0};
        im->enc(pair, i % 2, hello, sizeof hello, &ct);
        im->dec(pair, 1 - i % 2, &ct, &pt);
        check_plain(&pt, hello, sizeof hello, im->name, (size_t)i);
        im->blob_free(&ct);
        im->blob_free(&pt);
    }
}

/* ---- ward ---- */

static void wcheck(ward_err e, const char *what)
{
    if (e != WARD_OK)
        bench_die("ward: %s: %s", what, ward_strerror(e));
}

typedef struct wpair {
    ward_identity *id[2];
    ward_prekeys *pk[2];
    ward_session *s[2];
} wpair;

static void w_make_responder(ward_identity **id, ward_prekeys **pk,
                             ward_bundle *b)
{
    wcheck(ward_identity_generate(id), "identity");
    wcheck(ward_prekeys_new(pk), "prekeys");
    wcheck(ward_prekeys_generate_signed(*pk, *id, 1, 0), "signed prekey");
    wcheck(ward_prekeys_generate_onetime(*pk, 1, 1), "one-time prekey");
    wcheck(ward_prekeys_bundle(*pk, *id, 1, 1, 1, b), "bundle");
}

static void w_enc(void *vp, int from, const uint8_t *pt, size_t n, blob *out)
{
    wpair *p = vp;
    ward_buf_init(&out->wb, 0);
    wcheck(ward_session_encrypt(p->s[from], pt, n, &out->wb, &out->type),
           "encrypt");
    out->p = out->wb.data;
    out->n = out->wb.len;
}

static void w_dec(void *vp, int to, const blob *in, blob *out)
{
    wpair *p = vp;
    ward_buf_init(&out->wb, 0);
    wcheck(ward_session_decrypt(p->s[to], p->id[to], p->pk[to], in->type,
                                in->p, in->n, &out->wb),
           "decrypt");
    out->p = out->wb.data;
    out->n = out->wb.len;
}

static void w_blob_free(blob *b)
{
    ward_buf_release(&b->wb);
    memset(b, 0, sizeof *b);
}

static void *w_pair_new(void)
{
    wpair *p = bench_calloc(1, sizeof *p);
    ward_bundle b;
    wcheck(ward_identity_generate(&p->id[0]), "identity");
    wcheck(ward_prekeys_new(&p->pk[0]), "prekeys");
    w_make_responder(&p->id[1], &p->pk[1], &b);
    wcheck(ward_session_new(&p->s[0]), "session");
    wcheck(ward_session_new(&p->s[1]), "session");
    wcheck(ward_session_init_from_bundle(p->s[0], p->id[0], &b), "bundle");
    return p;
}

static void w_pair_free(void *vp)
{
    wpair *p = vp;
    for (int i = 0; i < 2; i++) {
        ward_session_free(p->s[i]);
        ward_prekeys_free(p->pk[i]);
        ward_identity_free(p->id[i]);
    }
    free(p);
}

typedef struct wsetup {
    ward_identity *ida, *idb;
    ward_prekeys *pkb;
    ward_bundle bundle;
    ward_session *sa, *sb;
} wsetup;

static void *w_setup_prep(size_t n)
{
    wsetup *s = bench_calloc(n, sizeof *s);
    for (size_t i = 0; i < n; i++) {
        wcheck(ward_identity_generate(&s[i].ida), "identity");
        w_make_responder(&s[i].idb, &s[i].pkb, &s[i].bundle);
    }
    return s;
}

static void w_setup_op(void *vp, size_t i, const uint8_t *pt, size_t n,
                       blob *ct, blob *out)
{
    wsetup *s = (wsetup *)vp + i;
    wcheck(ward_session_new(&s->sa), "session");
    wcheck(ward_session_init_from_bundle(s->sa, s->ida, &s->bundle), "bundle");
    ward_buf_init(&ct->wb, 0);
    wcheck(ward_session_encrypt(s->sa, pt, n, &ct->wb, &ct->type), "encrypt");
    ct->p = ct->wb.data;
    ct->n = ct->wb.len;
    wcheck(ward_session_new(&s->sb), "session");
    ward_buf_init(&out->wb, 0);
    wcheck(ward_session_decrypt(s->sb, s->idb, s->pkb, ct->type, ct->p, ct->n,
                                &out->wb),
           "decrypt");
    out->p = out->wb.data;
    out->n = out->wb.len;
}

static void w_setup_free(void *vp, size_t n)
{
    wsetup *s = vp;
    for (size_t i = 0; i < n; i++) {
        ward_session_free(s[i].sa);
        ward_session_free(s[i].sb);
        ward_prekeys_free(s[i].pkb);
        ward_identity_free(s[i].ida);
        ward_identity_free(s[i].idb);
    }
    free(s);
}

static const impl IMPL_WARD = {
    "ward",      w_pair_new, w_pair_free,  w_enc,       w_dec,
    w_blob_free, w_setup_prep, w_setup_op, w_setup_free,
};

/* ---- libsignal-protocol-c (through tests/interop/sig_harness) ---- */

/* The name each party uses for the other. */
static const char *const PEER[2] = {"bob", "alice"};

static void scheck(int rc, const char *what)
{
    if (rc != SIGH_OK)
        bench_die("libsignal: %s: %s (%d)", what, sigh_strerror(rc), rc);
}

typedef struct spair {
    sigh_party *p[2];
} spair;

static sigh_party *s_party(void)
{
    sigh_party *p = sigh_party_new(0);
    if (!p)
        bench_die("libsignal: cannot create a party");
    return p;
}

static void s_enc(void *vp, int from, const uint8_t *pt, size_t n, blob *out)
{
    spair *p = vp;
    scheck(sigh_party_encrypt(p->p[from], PEER[from], pt, n, &out->p, &out->n,
                              &out->type),
           "encrypt");
}

static void s_dec(void *vp, int to, const blob *in, blob *out)
{
    spair *p = vp;
    scheck(sigh_party_decrypt(p->p[to], PEER[to], in->type, in->p, in->n,
                              &out->p, &out->n),
           "decrypt");
}

static void s_blob_free(blob *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static void *s_pair_new(void)
{
    spair *p = bench_calloc(1, sizeof *p);
    sigh_bundle b;
    p->p[0] = s_party();
    p->p[1] = s_party();
    scheck(sigh_party_bundle(p->p[1], &b), "bundle");
    scheck(sigh_party_process_bundle(p->p[0], PEER[0], &b), "process bundle");
    return p;
}

static void s_pair_free(void *vp)
{
    spair *p = vp;
    sigh_party_free(p->p[0]);
    sigh_party_free(p->p[1]);
    free(p);
}

typedef struct ssetup {
    sigh_party *a, *b;
    sigh_bundle bundle;
} ssetup;

static void *s_setup_prep(size_t n)
{
    ssetup *s = bench_calloc(n, sizeof *s);
    for (size_t i = 0; i < n; i++) {
        s[i].a = s_party();
        s[i].b = s_party();
        scheck(sigh_party_bundle(s[i].b, &s[i].bundle), "bundle");
    }
    return s;
}

static void s_setup_op(void *vp, size_t i, const uint8_t *pt, size_t n,
                       blob *ct, blob *out)
{
    ssetup *s = (ssetup *)vp + i;
    scheck(sigh_party_process_bundle(s->a, PEER[0], &s->bundle),
           "process bundle");
    scheck(sigh_party_encrypt(s->a, PEER[0], pt, n, &ct->p, &ct->n,
                              &ct->type),
           "encrypt");
    scheck(sigh_party_decrypt(s->b, PEER[1], ct->type, ct->p, ct->n, &out->p,
                              &out->n),
           "decrypt");
}

static void s_setup_free(void *vp, size_t n)
{
    ssetup *s = vp;
    for (size_t i = 0; i < n; i++) {
        sigh_party_free(s[i].a);
        sigh_party_free(s[i].b);
    }
    free(s);
}

static const impl IMPL_SIG = {
    "libsignal", s_pair_new, s_pair_free,  s_enc,       s_dec,
    s_blob_free, s_setup_prep, s_setup_op, s_setup_free,
};

/* ------------------------------------------------------------------ */
/* Rows.                                                                */

enum kind { ONEWAY, ALTERNATING, SETUP };
enum what { ENC = 1, DEC = 2, BOTH = 3 };

typedef struct row {
    const char *name;  /* for --row */
    const char *label; /* for the table */
    enum kind kind;
    enum what what;
    size_t size;      /* plaintext bytes */
    size_t def_ops;   /* operations per timed run unless --ops */
} row;

static const row ROWS[] = {
    {"enc-100-oneway", "encrypt 100 B, one-way", ONEWAY, ENC, 100, 20000},
    {"dec-100-oneway", "decrypt 100 B, one-way", ONEWAY, DEC, 100, 20000},
    {"enc-4k-oneway", "encrypt 4 KiB, one-way", ONEWAY, ENC, 4096, 5000},
    {"dec-4k-oneway", "decrypt 4 KiB, one-way", ONEWAY, DEC, 4096, 5000},
    {"enc-100-alt", "encrypt 100 B, alternating", ALTERNATING, ENC, 100, 1000},
    {"dec-100-alt", "decrypt 100 B, alternating (DH step)", ALTERNATING, DEC,
     100, 1000},
    {"encdec-4k-alt", "encrypt+decrypt 4 KiB, alternating (DH step)",
     ALTERNATING, BOTH, 4096, 1000},
    {"setup", "session setup (bundle, first message encrypted + decrypted)", SETUP, BOTH,
     100, 300},
};
#define N_ROWS (sizeof ROWS / sizeof ROWS[0])

/* Checks that messages follow the row's ratchet pattern, reading the wire
 * format (libsignal's messages parse with ward's codec: same format). */
typedef struct pattern {
    int have[2];
    uint8_t key[2][32];
    uint32_t counter[2];
} pattern;

static void check_wire(pattern *pat, enum kind kind, int from, const blob *m,
                       const char *impl_name, size_t i)
{
    ward_signal_msg sm;
    if (m->type != WARD_MSG_SIGNAL ||
        ward_signal_msg_parse(&sm, m->p, m->n) != WARD_OK)
        bench_die("%s: message %zu is not a SignalMessage", impl_name, i);
    if (pat->have[from]) {
        int same = memcmp(pat->key[from], sm.ratchet_key, 32) == 0;
        if (kind == ONEWAY && (!same || sm.counter != pat->counter[from] + 1))
            bench_die("%s: message %zu left the sending chain", impl_name, i);
        if (kind == ALTERNATING && (same || sm.counter != 0))
            bench_die("%s: message %zu has no new ratchet key", impl_name, i);
    }
    pat->have[from] = 1;
    memcpy(pat->key[from], sm.ratchet_key, 32);
    pat->counter[from] = sm.counter;
}

/* One timed run of |r| on |im|: returns seconds spent in timed regions. */
static double run_row(const impl *im, const row *r, size_t ops,
                      const uint8_t *pts)
{
    blob *ct = bench_calloc(ops, sizeof *ct);
    blob *pt = bench_calloc(ops, sizeof *pt);
    bench_timer t = {0, 0};
    pattern pat;
    memset(&pat, 0, sizeof pat);

    if (r->kind == ONEWAY) {
        /* A->B, B->A, A->B: A is on its second sending chain, B has a
         * receiving chain for it, and the timed messages stay on it. */
        void *pair = im->pair_new();
        warm_pair(im, pair, 3);
        if (r->what == ENC)
            bench_region_begin(&t);
        for (size_t i = 0; i < ops; i++)
            im->enc(pair, 0, pts + i * r->size, r->size, &ct[i]);
        if (r->what == ENC)
            bench_region_end(&t);
        for (size_t i = 0; i < ops; i++)
            check_wire(&pat, ONEWAY, 0, &ct[i], im->name, i);
        if (r->what == DEC)
            bench_region_begin(&t);
        for (size_t i = 0; i < ops; i++)
            im->dec(pair, 1, &ct[i], &pt[i]);
        if (r->what == DEC)
            bench_region_end(&t);
        im->pair_free(pair);
    } else if (r->kind == ALTERNATING) {
        /* A->B, B->A: the next message from A carries a new ratchet key,
         * and so does every message after it. */
        void *pair = im->pair_new();
        warm_pair(im, pair, 2);
        for (size_t i = 0; i < ops; i++) {
            int from = (int)(i % 2);
            const uint8_t *p = pts + i * r->size;
            if (r->what == BOTH) {
                bench_region_begin(&t);
                im->enc(pair, from, p, r->size, &ct[i]);
                im->dec(pair, 1 - from, &ct[i], &pt[i]);
                bench_region_end(&t);
            } else if (r->what == ENC) {
                bench_region_begin(&t);
                im->enc(pair, from, p, r->size, &ct[i]);
                bench_region_end(&t);
                im->dec(pair, 1 - from, &ct[i], &pt[i]);
            } else {
                im->enc(pair, from, p, r->size, &ct[i]);
                bench_region_begin(&t);
                im->dec(pair, 1 - from, &ct[i], &pt[i]);
                bench_region_end(&t);
            }
            check_wire(&pat, ALTERNATING, from, &ct[i], im->name, i);
        }
        im->pair_free(pair);
    } else {
        void *prep = im->setup_prep(ops);
        bench_region_begin(&t);
        for (size_t i = 0; i < ops; i++)
            im->setup_op(prep, i, pts + i * r->size, r->size, &ct[i], &pt[i]);
        bench_region_end(&t);
        for (size_t i = 0; i < ops; i++)
            if (ct[i].type != WARD_MSG_PREKEY)
                bench_die("%s: setup %zu: first message is not a PreKeySignalMessage",
                    im->name, i);
        im->setup_free(prep, ops);
    }

    for (size_t i = 0; i < ops; i++) {
        check_plain(&pt[i], pts + i * r->size, r->size, im->name, i);
        im->blob_free(&ct[i]);
        im->blob_free(&pt[i]);
    }
    free(ct);
    free(pt);
    return t.total;
}

/* ------------------------------------------------------------------ */
/* Main.                                                                */

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

/* Integer with thousands separators, into |buf|. */
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
    fputs("usage: ratchet [--runs N] [--ops N] [--only ward|libsignal] "
          "[--row NAME] [--list]\n"
          "  --runs N   timed runs per row and implementation (default 5)\n"
          "  --ops N    operations per timed run (default: per row)\n"
          "  --only X   run one implementation only (ward or libsignal)\n"
          "  --row NAME run one row only (see --list)\n"
          "  --list     list the rows and exit\n",
          f);
}

static long parse_count(const char *opt, const char *s)
{
    char *end;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || *end || v < 1 || v > 100000000) {
        fprintf(stderr, "ratchet: %s wants a positive number\n", opt);
        usage(stderr);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    bench_name = "ratchet";
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
                printf("%-15s %s (default --ops %zu)\n", ROWS[r].name,
                       ROWS[r].label, ROWS[r].def_ops);
            return 0;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "ratchet: bad argument: %s\n", a);
            usage(stderr);
            return 2;
        }
    }

    const impl *impls[2] = {&IMPL_WARD, &IMPL_SIG};
    int use[2] = {1, 1};
    if (only) {
        if (strcmp(only, "ward") == 0) {
            use[1] = 0;
        } else if (strcmp(only, "libsignal") == 0) {
            use[0] = 0;
        } else {
            fprintf(stderr, "ratchet: --only wants ward or libsignal\n");
            return 2;
        }
    }
    const row *sel = NULL;
    if (row_name) {
        for (size_t r = 0; r < N_ROWS; r++)
            if (strcmp(ROWS[r].name, row_name) == 0)
                sel = &ROWS[r];
        if (!sel) {
            fprintf(stderr, "ratchet: unknown row %s (see --list)\n",
                    row_name);
            return 2;
        }
    }

    if (ward_crypto_init() != WARD_OK)
        bench_die("ward_crypto_init failed");
    if (sigh_global_init() != SIGH_OK)
        bench_die("sigh_global_init failed");

    printf("| row | ward ops/s (median) | libsignal ops/s (median) | "
           "ratio |\n");
    printf("|---|---:|---:|---:|\n");
    fflush(stdout);

    char ops_note[1024];
    size_t note_len = 0;
    ops_note[0] = '\0';

    for (size_t ri = 0; ri < N_ROWS; ri++) {
        const row *r = &ROWS[ri];
        if (sel && r != sel)
            continue;
        size_t ops = ops_override ? ops_override : r->def_ops;
        uint8_t *pts = bench_calloc(ops, r->size);
        bench_fill(pts, ops * r->size, PLAINTEXT_SEED);

        /* An uncounted warm-up pass of each implementation (caches, lazy
         * initialisation, the allocator), then the timed runs, taking the
         * implementations in turn and swapping who goes first. */
        bench_collect = 0;
        for (int k = 0; k < 2; k++)
            if (use[k])
                (void)run_row(impls[k], r, ops < 50 ? ops : 50, pts);
        bench_collect = 1;

        double rate[2][64] = {{0}};
        double *rates[2] = {rate[0], rate[1]};
        double *heap[2] = {NULL, NULL};
        if (runs > 64) {
            for (int k = 0; k < 2; k++)
                rates[k] = heap[k] = bench_calloc((size_t)runs, sizeof(double));
        }
        for (int run = 0; run < runs; run++) {
            for (int j = 0; j < 2; j++) {
                int k = run % 2 ? 1 - j : j;
                if (!use[k])
                    continue;
                double secs = run_row(impls[k], r, ops, pts);
                rates[k][run] = secs > 0 ? (double)ops / secs : 0;
            }
        }

        double med[2] = {0, 0};
        char c[2][40];
        for (int k = 0; k < 2; k++) {
            if (use[k]) {
                med[k] = median(rates[k], runs);
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

        int w = snprintf(ops_note + note_len, sizeof ops_note - note_len,
                         "%s%s %zu", note_len ? ", " : "", r->name, ops);
        if (w > 0 && (size_t)w < sizeof ops_note - note_len)
            note_len += (size_t)w;
        free(heap[0]);
        free(heap[1]);
        free(pts);
    }
    printf("\nMedian of %d run%s; operations per run: %s.\n", runs,
           runs == 1 ? "" : "s", ops_note);

    sigh_global_teardown();
    return 0;
}
