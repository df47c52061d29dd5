/*
 * pdq_decode: the in-process half of bench/pdq.sh -- ward's decoder alone
 * against decode + PDQ, in one process on one thread, so the ratio has no
 * process start-up or file reading in it; and the scaled decodes that an
 * optional faster mode could use, with their distance to the exact hash.
 *
 *   pdq_decode [--runs N] [--scales D,D,...] FILE...
 *
 * Every file is read into memory first. A warm-up pass (not timed) hashes
 * each file exactly (ward_media_decode at full size, then ward_pdq_hash)
 * and at each scale 1/D, D in --scales (default 2,4,8): a JPEG decoded by
 * libturbojpeg straight to the smaller size (DCT-domain scaling, same flags
 * as ward's decoder), then hashed. Files that are not JPEG, and CMYK
 * JPEGs, are decoded at full size in the scaled modes too, and are left out
 * of the distance figures.
 *
 * Then N runs (default 5). Each run times one pass over all files in each
 * mode: decode alone and decode + PDQ, at full size and at each scale. The
 * mode that goes first changes from run to run. Every hash of a timed pass
 * is checked against the warm-up's, so a non-deterministic or broken path
 * aborts the run. Pixel buffers are kept by malloc between files, as in
 * `ward hash` (the same mallopt settings).
 *
 * Prints on stdout, for bench/pdq.sh:
 *   RESULT tool=decode|pdq scale=1|1/D run=R imgs=N secs=S   (each pass)
 *   RESULT tool=dist scale=1/D jpegs=K median=M max=X mean=A
 *   HASH HEX,QUALITY,PATH        (the exact hash; `ward hash --format text`)
 *   DIST scale=1/D d=BITS PATH   (each scaled JPEG's distance to it)
 * and a summary of medians on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <turbojpeg.h>

#include "ward/media.h"
#include "ward/pdq.h"

#define MAX_SCALES 8
/* ward's decoder's flags (src/media/jpeg.c): neither changes the pixels. */
#define JPEG_FLAGS (TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS)

typedef struct file {
    const char *path;
    uint8_t *p;
    size_t n;
    int scalable; /* a JPEG that decode_scaled handles */
    ward_pdq h[MAX_SCALES + 1]; /* [0]: exact; [k]: at scale k */
    int dist[MAX_SCALES + 1];
} file;

static int denoms[MAX_SCALES + 1] = {1}; /* [0] = 1: full size */
static int nscales = 1;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *path, const char *what)
{
    fprintf(stderr, "pdq_decode: %s: %s\n", path, what);
    exit(1);
}

static void read_file(file *f)
{
    FILE *in = fopen(f->path, "rb");
    if (!in)
        die(f->path, strerror(errno));
    size_t cap = 1 << 20, got = 0;
    uint8_t *p = malloc(cap);
    for (;;) {
        if (!p)
            die(f->path, "out of memory");
        got += fread(p + got, 1, cap - got, in);
        if (got < cap)
            break;
        cap *= 2;
        p = realloc(p, cap);
    }
    if (ferror(in))
        die(f->path, "read error");
    fclose(in);
    f->p = p;
    f->n = got;
}

/* 1/|d| is one of libturbojpeg's scaling factors. */
static int have_scale(int d)
{
    int n = 0;
    tjscalingfactor *sf = tjGetScalingFactors(&n);
    for (int i = 0; sf && i < n; i++)
        if (sf[i].num == 1 && sf[i].denom == d)
            return 1;
    return 0;
}

/*
 * A JPEG decoded at 1/|d| of its size by libturbojpeg (the IDCT produces
 * the smaller image directly). 0 on success; 1 for what this does not
 * handle (not a JPEG, CMYK), for the caller to decode at full size; -1 on
 * a decode error.
 */
static int decode_scaled(const file *f, int d, ward_image *img)
{
    if (ward_media_sniff(f->p, f->n) != WARD_MEDIA_JPEG)
        return 1;
    tjhandle h = tjInitDecompress();
    if (!h)
        return -1;
    int w, hgt, subsamp, cs, rc = -1;
    uint8_t *px = NULL;
    if (tjDecompressHeader3(h, f->p, (unsigned long)f->n, &w, &hgt,
                            &subsamp, &cs) != 0)
        goto done;
    if (cs == TJCS_CMYK || cs == TJCS_YCCK) {
        rc = 1;
        goto done;
    }
    int pf = cs == TJCS_GRAY ? TJPF_GRAY : TJPF_RGB;
    tjscalingfactor sf = {1, d};
    int sw = TJSCALED(w, sf), sh = TJSCALED(hgt, sf);
    size_t size = (size_t)sw * (size_t)sh * (size_t)tjPixelSize[pf];
    if (!(px = malloc(size ? size : 1)))
        goto done;
    if (tjDecompress2(h, f->p, (unsigned long)f->n, px, sw,
                      sw * tjPixelSize[pf], sh, pf, JPEG_FLAGS) != 0)
        goto done;
    img->width = (uint32_t)sw;
    img->height = (uint32_t)sh;
    img->channels = tjPixelSize[pf];
    img->pixels = px;
    px = NULL;
    rc = 0;
done:
    free(px);
    tjDestroy(h);
    return rc;
}

/* File |f| at scale index |k|: decoded, then hashed when |hash|. The hash
 * goes to |out| (may be NULL when |hash| is 0). */
static void one(const file *f, int k, int hash, ward_pdq *out, int *quality)
{
    ward_image img;
    char err[200] = "";
    int rc = 1;
    if (k > 0 && f->scalable) {
        rc = decode_scaled(f, denoms[k], &img);
        if (rc < 0)
            die(f->path, "scaled decode failed");
    }
    if (rc == 1) {
        ward_err e = ward_media_decode(f->p, f->n, NULL, &img, err,
                                       sizeof err);
        if (e)
            die(f->path, err[0] ? err : ward_strerror(e));
    }
    if (hash) {
        int q;
        if (ward_pdq_hash(img.pixels, img.width, img.height, img.channels,
                          out, quality ? quality : &q, NULL) != WARD_OK)
            die(f->path, "ward_pdq_hash failed");
    }
    ward_image_free(&img);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

static void scale_name(int k, char *out, size_t n)
{
    if (denoms[k] == 1)
        snprintf(out, n, "1");
    else
        snprintf(out, n, "1/%d", denoms[k]);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: pdq_decode [--runs N] [--scales D,D,...] FILE...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    /* As `ward hash` does (src/cli/hash_cmd.c): big pixel buffers stay
     * with malloc instead of being mapped and unmapped for every file. */
    mallopt(M_MMAP_THRESHOLD, 512 << 20);
    mallopt(M_TRIM_THRESHOLD, 1024 << 20);

    int runs = 5, i = 1;
    const char *scales = "2,4,8";
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--scales") == 0 && i + 1 < argc)
            scales = argv[++i];
        else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else
            usage();
    }
    if (runs < 1 || i >= argc)
        usage();
    for (const char *s = scales; *s;) {
        char *end;
        long d = strtol(s, &end, 10);
        if (end == s || d < 2 || d > 16 || !have_scale((int)d) ||
            nscales > MAX_SCALES) {
            fprintf(stderr, "pdq_decode: --scales takes denominators that "
                            "libturbojpeg offers as 1/D (2, 4, 8)\n");
            return 2;
        }
        denoms[nscales++] = (int)d;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            usage();
    }

    size_t n = (size_t)(argc - i);
    file *f = calloc(n, sizeof *f);
    if (!f)
        die("pdq_decode", "out of memory");
    for (size_t j = 0; j < n; j++) {
        f[j].path = argv[i + (int)j];
        read_file(&f[j]);
    }

    /* Warm-up: the exact hash, each scale's hash and its distance. */
    for (size_t j = 0; j < n; j++) {
        int q;
        f[j].scalable = 1;
        one(&f[j], 0, 1, &f[j].h[0], &q);
        char hex[WARD_PDQ_HEX_LEN + 1];
        ward_pdq_format(&f[j].h[0], hex);
        printf("HASH %s,%d,%s\n", hex, q, f[j].path);
        ward_image probe;
        int rc = decode_scaled(&f[j], 2, &probe);
        if (rc < 0)
            die(f[j].path, "scaled decode failed");
        if (rc == 0)
            ward_image_free(&probe);
        f[j].scalable = rc == 0;
        for (int k = 1; k < nscales; k++) {
            one(&f[j], k, 1, &f[j].h[k], NULL);
            f[j].dist[k] = ward_pdq_distance(&f[j].h[0], &f[j].h[k]);
            if (f[j].scalable)
                printf("DIST scale=1/%d d=%d %s\n", denoms[k], f[j].dist[k],
                       f[j].path);
        }
    }
    for (int k = 1; k < nscales; k++) {
        int *d = malloc(n * sizeof *d), m = 0;
        long sum = 0;
        if (!d)
            die("pdq_decode", "out of memory");
        for (size_t j = 0; j < n; j++)
            if (f[j].scalable) {
                d[m++] = f[j].dist[k];
                sum += f[j].dist[k];
            }
        qsort(d, (size_t)m, sizeof *d, cmp_int);
        if (m)
            printf("RESULT tool=dist scale=1/%d jpegs=%d median=%g max=%d "
                   "mean=%.2f\n",
                   denoms[k], m,
                   m % 2 ? d[m / 2] : (d[m / 2 - 1] + d[m / 2]) / 2.0,
                   d[m - 1], (double)sum / m);
        free(d);
    }
    fflush(stdout);

    /* The timed runs: modes 2k (decode alone) and 2k+1 (+ PDQ) at scale
     * k; the first mode moves on by one each run. */
    int nmodes = 2 * nscales;
    double *secs = calloc((size_t)(nmodes * runs), sizeof *secs);
    if (!secs)
        die("pdq_decode", "out of memory");
    for (int r = 0; r < runs; r++) {
        for (int s = 0; s < nmodes; s++) {
            int mode = (s + r) % nmodes, k = mode / 2, hash = mode % 2;
            double t0 = now();
            for (size_t j = 0; j < n; j++) {
                ward_pdq h;
                one(&f[j], k, hash, &h, NULL);
                if (hash && ward_pdq_distance(&h, &f[j].h[k]) != 0)
                    die(f[j].path, "the hash changed between passes");
            }
            double t = now() - t0;
            secs[mode * runs + r] = t;
            char sc[16];
            scale_name(k, sc, sizeof sc);
            printf("RESULT tool=%s scale=%s run=%d imgs=%zu secs=%.6f\n",
                   hash ? "pdq" : "decode", sc, r + 1, n, t);
            fflush(stdout);
        }
    }

    fprintf(stderr, "pdq_decode: %zu files, %d runs, median img/s:\n", n,
            runs);
    for (int k = 0; k < nscales; k++) {
        double m[2];
        for (int hash = 0; hash < 2; hash++) {
            double *v = &secs[(2 * k + hash) * runs];
            qsort(v, (size_t)runs, sizeof *v, cmp_double);
            double med = runs % 2 ? v[runs / 2]
                                  : (v[runs / 2 - 1] + v[runs / 2]) / 2;
            m[hash] = (double)n / med;
        }
        char sc[16];
        scale_name(k, sc, sizeof sc);
        fprintf(stderr,
                "  scale %-4s decode %8.2f   decode+pdq %8.2f   ratio %.2f\n",
                sc, m[0], m[1], m[0] / m[1]);
    }
    for (size_t j = 0; j < n; j++)
        free(f[j].p);
    free(f);
    free(secs);
    return 0;
}
