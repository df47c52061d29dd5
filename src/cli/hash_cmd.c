/*
 * `ward hash`: PDQ (with its quality) and the exact hashes of image files,
 * in the order given, on N threads. A file that cannot be hashed gets one
 * error line and the others go on.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ward/crypto.h"
#include "ward/media.h"
#include "ward/pdq.h"

#define MAX_FILE_BYTES (1ULL << 30)
#define MAX_THREADS 64

enum { FMT_DEFAULT, FMT_TEXT, FMT_CSV, FMT_JSON };

typedef struct hash_opts {
    int format, dihedral, orient, recursive;
    unsigned threads;
    uint64_t max_pixels;
} hash_opts;

/* One file's outcome, filled by a worker. */
typedef struct result {
    int done, ok;
    int quality;
    ward_pdq h[WARD_PDQ_VARIANTS];
    uint8_t md5[WARD_MD5_LEN], sha[WARD_SHA256_LEN];
    char err[256];
} result;

typedef struct job {
    const hash_opts *o;
    char **paths;
    result *res;
    size_t n;
    atomic_size_t next;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} job;

static void set_err(result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_err(result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
}

static void hash_one(const hash_opts *o, const char *path, result *r)
{
    uint8_t *bytes = NULL;
    size_t n = 0;
    if (cli_read_file(path, MAX_FILE_BYTES, &bytes, &n, r->err, sizeof r->err))
        return;
    /* The reference's text format prints neither: skip their cost. */
    if (o->format != FMT_TEXT) {
        ward_md5(r->md5, bytes, n);
        ward_sha256(r->sha, bytes, n);
    }
    ward_image img;
    ward_media_opts mo = {o->max_pixels};
    char why[200] = "";
    ward_err e = ward_media_decode(bytes, n, &mo, &img, why, sizeof why);
    int orientation = o->orient ? ward_media_exif_orientation(bytes, n) : 1;
    free(bytes);
    if (e) {
        set_err(r, "%s", why[0] ? why : ward_strerror(e));
        return;
    }
    if (orientation != 1 && (e = ward_image_orient(&img, orientation))) {
        ward_image_free(&img);
        set_err(r, "cannot apply the EXIF orientation: %s",
                ward_strerror(e));
        return;
    }
    e = ward_pdq_hash(img.pixels, img.width, img.height, img.channels,
                      &r->h[0], &r->quality, o->dihedral ? r->h : NULL);
    ward_image_free(&img);
    if (e) {
        set_err(r, "cannot hash: %s", ward_strerror(e));
        return;
    }
    r->ok = 1;
}

static void *worker(void *p)
{
    job *j = p;
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n)
            return NULL;
        result r;
        memset(&r, 0, sizeof r);
        hash_one(j->o, j->paths[i], &r);
        pthread_mutex_lock(&j->mu);
        j->res[i] = r;
        j->res[i].done = 1;
        pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
    }
}

/* ---- output ---- */

static void hex_of(const uint8_t *p, size_t n, char *out)
{
    static const char x[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = x[p[i] >> 4];
        out[2 * i + 1] = x[p[i] & 15];
    }
    out[2 * n] = 0;
}

/* A path on one line of text output (control characters shown as '?'). */
static void put_path_text(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return;
    cli_sanitize(copy);
    fputs(copy, stdout);
    free(copy);
}

static void put_csv_field(const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static void put_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void print_result(const hash_opts *o, const char *path,
                         const result *r)
{
    char pdq[WARD_PDQ_VARIANTS][WARD_PDQ_HEX_LEN + 1];
    char md5[2 * WARD_MD5_LEN + 1], sha[2 * WARD_SHA256_LEN + 1];
    int nv = o->dihedral ? WARD_PDQ_VARIANTS : 1;
    for (int v = 0; v < nv; v++)
        ward_pdq_format(&r->h[v], pdq[v]);
    hex_of(r->md5, WARD_MD5_LEN, md5);
    hex_of(r->sha, WARD_SHA256_LEN, sha);
    int reliable = r->quality >= WARD_PDQ_QUALITY_MIN;
    switch (o->format) {
    case FMT_JSON:
        printf("{\"path\":");
        put_json_string(path);
        printf(",\"pdq\":\"%s\",\"quality\":%d,\"reliable\":%s,"
               "\"md5\":\"%s\",\"sha256\":\"%s\"",
               pdq[0], r->quality, reliable ? "true" : "false", md5, sha);
        if (o->dihedral) {
            printf(",\"dihedral\":{");
            for (int v = 0; v < nv; v++)
                printf("%s\"%s\":\"%s\"", v ? "," : "",
                       ward_pdq_variant_name(v), pdq[v]);
            putchar('}');
        }
        printf("}\n");
        return;
    case FMT_CSV:
        for (int v = 0; v < nv; v++)
            printf("%s,", pdq[v]);
        printf("%d,%s,%s,%s,", r->quality, reliable ? "yes" : "no", md5,
               sha);
        put_csv_field(path);
        putchar('\n');
        return;
    default:
        /* The reference's columns in text mode; ours add the exact
         * hashes before the path. */
        for (int v = 0; v < nv; v++)
            printf("%s,", pdq[v]);
        printf("%d,", r->quality);
        if (o->format == FMT_DEFAULT)
            printf("%s,%s,", md5, sha);
        put_path_text(path);
        putchar('\n');
    }
}

static void print_header(const hash_opts *o)
{
    if (o->format != FMT_CSV)
        return;
    if (o->dihedral)
        for (int v = 0; v < WARD_PDQ_VARIANTS; v++)
            printf("pdq_%s,", ward_pdq_variant_name(v));
    else
        printf("pdq,");
    printf("quality,reliable,md5,sha256,path\n");
}

/* ---- the list of files ---- */

typedef struct paths {
    char **v;
    size_t n, cap;
} paths;

static int add_path(paths *p, const char *s)
{
    if (p->n == p->cap) {
        size_t c = p->cap ? p->cap * 2 : 64;
        char **v = realloc(p->v, c * sizeof *v);
        if (!v)
            return -1;
        p->v = v;
        p->cap = c;
    }
    if (!(p->v[p->n] = strdup(s)))
        return -1;
    p->n++;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Directories that could not be read (reported, and the exit code is 1). */
static size_t unreadable_dirs;

/* A directory's regular files, recursively, in name order; symbolic links
 * to directories are not followed (no loops). -1 only when out of
 * memory. */
static int add_dir(paths *p, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        cli_error("%s: %s", dir, strerror(errno));
        unreadable_dirs++;
        return 0;
    }
    paths here = {0};
    struct dirent *e;
    int bad = 0;
    while (!bad && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *full = malloc(len);
        if (!full) {
            bad = -1;
            break;
        }
        snprintf(full, len, "%s%s%s", dir,
                 dir[strlen(dir) - 1] == '/' ? "" : "/", e->d_name);
        bad = add_path(&here, full);
        free(full);
    }
    closedir(d);
    qsort(here.v, here.n, sizeof *here.v, by_name);
    for (size_t i = 0; i < here.n; i++) {
        struct stat ls, st;
        if (!bad && lstat(here.v[i], &ls) == 0) {
            if (S_ISDIR(ls.st_mode))
                bad = add_dir(p, here.v[i]);
            else if (S_ISREG(ls.st_mode) ||
                     (S_ISLNK(ls.st_mode) && stat(here.v[i], &st) == 0 &&
                      S_ISREG(st.st_mode)))
                bad = add_path(p, here.v[i]);
            /* else: sockets, devices, links to directories: skipped */
        }
        free(here.v[i]);
    }
    free(here.v);
    return bad;
}

static int add_arg(paths *p, const char *arg, int recursive)
{
    struct stat sb;
    if (recursive && stat(arg, &sb) == 0 && S_ISDIR(sb.st_mode))
        return add_dir(p, arg);
    return add_path(p, arg);
}

static int add_stdin(paths *p, int recursive)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t k;
    int bad = 0;
    while (!bad && (k = getline(&line, &cap, stdin)) > 0) {
        while (k > 0 && (line[k - 1] == '\n' || line[k - 1] == '\r'))
            line[--k] = 0;
        if (k > 0)
            bad = add_arg(p, line, recursive);
    }
    free(line);
    return bad;
}

/* ---- the command ---- */

static int parse_opts(int argc, char **argv, hash_opts *o, paths *p,
                      int *from_stdin)
{
    memset(o, 0, sizeof *o);
    o->threads = 1;
    o->max_pixels = 100000000;
    int files = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-r") == 0 || strcmp(a, "--recursive") == 0) {
            o->recursive = 1;
        } else if (strcmp(a, "--dihedral") == 0) {
            o->dihedral = 1;
        } else if (strcmp(a, "--orient") == 0) {
            o->orient = 1;
        } else if ((strcmp(a, "-j") == 0 || strcmp(a, "--format") == 0 ||
                    strcmp(a, "--max-pixels") == 0) &&
                   i + 1 < argc) {
            const char *v = argv[++i];
            char *end;
            if (strcmp(a, "--format") == 0) {
                o->format = strcmp(v, "text") == 0   ? FMT_TEXT
                            : strcmp(v, "csv") == 0  ? FMT_CSV
                            : strcmp(v, "json") == 0 ? FMT_JSON
                            : strcmp(v, "default") == 0 ? FMT_DEFAULT
                                                        : -1;
                if (o->format < 0) {
                    cli_error("--format is text, csv, json or default");
                    return CLI_USAGE;
                }
            } else {
                unsigned long long x = strtoull(v, &end, 10);
                int is_j = strcmp(a, "-j") == 0;
                if (*end || v[0] < '1' || v[0] > '9' ||
                    (is_j && x > MAX_THREADS)) {
                    cli_error(is_j ? "-j takes 1 to 64 threads"
                                   : "--max-pixels takes a positive count");
                    return CLI_USAGE;
                }
                if (is_j)
                    o->threads = (unsigned)x;
                else
                    o->max_pixels = x;
            }
        } else if (strcmp(a, "-") == 0) {
            *from_stdin = 1;
            files++;
        } else if (a[0] == '-' && a[1]) {
            cli_error("unknown option '%s'; see 'ward help hash'", a);
            return CLI_USAGE;
        } else {
            if (add_arg(p, a, o->recursive))
                return CLI_FAIL;
            files++;
        }
    }
    if (!files) {
        cli_error("usage: ward hash [-r] [-j N] [--format text|csv|json] "
                  "[--dihedral] [--orient] PATH... ('-': paths on stdin)");
        return CLI_USAGE;
    }
    return CLI_OK;
}

int cli_hash(int argc, char **argv)
{
    /* A 12-megapixel photo's file and pixels (~40 MB) are above glibc's
     * mmap threshold: each would be mapped and unmapped per file, and the
     * page faults of touching fresh pages again cost a third of the hash.
     * Keep freed memory for the next file instead, in one arena so that
     * N threads do not each keep their own. */
    mallopt(M_MMAP_THRESHOLD, 512 << 20);
    mallopt(M_TRIM_THRESHOLD, 1024 << 20);
    mallopt(M_ARENA_MAX, 1);
    hash_opts o;
    paths p = {0};
    int from_stdin = 0;
    int rc = parse_opts(argc, argv, &o, &p, &from_stdin);
    if (rc == CLI_OK && from_stdin && add_stdin(&p, o.recursive))
        rc = CLI_FAIL;
    job j;
    memset(&j, 0, sizeof j);
    j.res = rc == CLI_OK ? calloc(p.n ? p.n : 1, sizeof *j.res) : NULL;
    if (rc == CLI_OK && !j.res) {
        cli_error("out of memory");
        rc = CLI_FAIL;
    }
    if (rc != CLI_OK) {
        for (size_t i = 0; i < p.n; i++)
            free(p.v[i]);
        free(p.v);
        return rc;
    }
    j.o = &o;
    j.paths = p.v;
    j.n = p.n;
    atomic_init(&j.next, 0);
    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.cv, NULL);
    double t0 = cli_now(), last = 0;
    unsigned nt = o.threads < p.n ? o.threads : (unsigned)(p.n ? p.n : 1);
    pthread_t th[MAX_THREADS];
    unsigned started = 0;
    for (; started < nt; started++)
        if (pthread_create(&th[started], NULL, worker, &j) != 0)
            break;
    if (started == 0)
        worker(&j); /* no thread could start: do it here */
    int bar = isatty(STDERR_FILENO) && p.n >= 20;
    size_t failed = 0;
    print_header(&o);
    /* Results in the order given, as soon as each is ready. */
    for (size_t i = 0; i < p.n; i++) {
        pthread_mutex_lock(&j.mu);
        while (!j.res[i].done)
            pthread_cond_wait(&j.cv, &j.mu);
        result r = j.res[i];
        pthread_mutex_unlock(&j.mu);
        if (bar)
            fputs("\r\033[K", stderr);
        if (r.ok) {
            print_result(&o, p.v[i], &r);
            if (r.quality < WARD_PDQ_QUALITY_MIN) {
                char *c = strdup(p.v[i]);
                if (c)
                    cli_sanitize(c);
                fprintf(stderr,
                        "ward: %s: quality %d is below %d: the hash is "
                        "unreliable\n",
                        c ? c : "?", r.quality, WARD_PDQ_QUALITY_MIN);
                free(c);
            }
        } else {
            failed++;
            char *c = strdup(p.v[i]);
            if (c)
                cli_sanitize(c);
            fprintf(stderr, "ward: %s: %s\n", c ? c : "?", r.err);
            free(c);
        }
        fflush(stdout);
        if (bar)
            cli_progress(i + 1, p.n, &last);
    }
    for (unsigned t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    fprintf(stderr, "ward hash: %zu files, %zu failed, %.2f s\n", p.n, failed,
            cli_now() - t0);
    pthread_mutex_destroy(&j.mu);
    pthread_cond_destroy(&j.cv);
    for (size_t i = 0; i < p.n; i++)
        free(p.v[i]);
    free(p.v);
    free(j.res);
    return failed || unreadable_dirs ? CLI_FAIL : CLI_OK;
}
