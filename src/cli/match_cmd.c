/*
 * `ward match`: images or hashes against the operator's hash lists. Each
 * hit is one line (tab-separated text, or JSON); the exit code says
 * whether anything matched.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "ward/crypto.h"
#include "ward/hashlist.h"
#include "ward/match.h"
#include "ward/media.h"
#include "ward/pdq.h"

/* Exit code when something matched (0: nothing, 1: an input failed). */
#define MATCH_HITS 3
#define MAX_IMAGE_BYTES (1ULL << 30)

typedef struct match_opts {
    const char *dir, *hashes;
    int radius, dihedral, orient, json, min_quality;
    ward_hl_type type;
    uint64_t max_pixels;
} match_opts;

typedef struct run {
    const match_opts *o;
    const ward_match_set *set;
    const char *query; /* what is being matched, for the output */
    int quality;       /* -1 when the query has none (a hash) */
    uint64_t hits, failed;
} run;

static void put_text_field(const char *s, size_t n)
{
    /* Tabs and line breaks would break the columns; labels and paths
     * never need them. */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        putchar(c < 0x20 || c == 0x7f ? '?' : c);
    }
}

static int on_hit(void *vc, const ward_match_hit *h)
{
    run *r = vc;
    r->hits++;
    char hex[65];
    static const char x[] = "0123456789abcdef";
    size_t hl = ward_hl_type_len(h->type);
    for (size_t i = 0; i < hl; i++) {
        hex[2 * i] = x[h->hash[i] >> 4];
        hex[2 * i + 1] = x[h->hash[i] & 15];
    }
    hex[2 * hl] = 0;
    if (r->o->json) {
        json_t *o = json_object();
        json_object_set_new(o, "query", json_string(r->query));
        json_object_set_new(o, "list", json_string(h->list_name));
        json_object_set_new(o, "type", json_string(ward_hl_type_name(h->type)));
        json_object_set_new(o, "distance", json_integer(h->distance));
        if (r->o->dihedral && h->type == WARD_HL_PDQ)
            json_object_set_new(o, "variant",
                                json_string(ward_pdq_variant_name(h->variant)));
        json_object_set_new(o, "hash", json_string(hex));
        json_object_set_new(o, "labels", json_stringn(h->labels, h->labels_len));
        if (r->quality >= 0)
            json_object_set_new(o, "quality", json_integer(r->quality));
        char *line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
        if (line)
            puts(line);
        free(line);
        json_decref(o);
        return 0;
    }
    put_text_field(r->query, strlen(r->query));
    printf("\t%s\t%s\t%d\t", h->list_name, ward_hl_type_name(h->type),
           h->distance);
    if (r->o->dihedral)
        printf("%s\t", h->type == WARD_HL_PDQ ? ward_pdq_variant_name(h->variant)
                                              : "-");
    printf("%s\t", hex);
    put_text_field(h->labels, h->labels_len);
    putchar('\n');
    return 0;
}

/* One error line for the current query: "ward: QUERY: WHAT WHY". */
static void fail(run *r, const char *what, const char *why)
{
    char q[600];
    snprintf(q, sizeof q, "%s", r->query);
    cli_sanitize(q);
    fprintf(stderr, "ward: %s: %s%s\n", q, what, why);
    r->failed++;
}

static void match_pdq(run *r, const ward_pdq *v)
{
    if (r->o->dihedral)
        ward_match_pdq_dihedral(r->set, v, r->o->radius, on_hit, r);
    else
        ward_match_pdq(r->set, &v[0], r->o->radius, on_hit, r);
}

static void match_image(run *r, const char *path)
{
    r->query = path;
    r->quality = -1;
    uint8_t *bytes;
    size_t n;
    char why[256] = "";
    if (cli_read_file(path, MAX_IMAGE_BYTES, &bytes, &n, why, sizeof why)) {
        fail(r, "", why);
        return;
    }
    uint8_t md5[WARD_MD5_LEN], sha[WARD_SHA256_LEN];
    ward_md5(md5, bytes, n);
    ward_sha256(sha, bytes, n);
    ward_match_exact(r->set, WARD_HL_MD5, md5, on_hit, r);
    ward_match_exact(r->set, WARD_HL_SHA256, sha, on_hit, r);
    ward_image img;
    ward_media_opts mo = {r->o->max_pixels};
    ward_err e = ward_media_decode(bytes, n, &mo, &img, why, sizeof why);
    int orientation = r->o->orient ? ward_media_exif_orientation(bytes, n) : 1;
    free(bytes);
    if (e) {
        fail(r, "", why[0] ? why : ward_strerror(e));
        return;
    }
    if (orientation != 1 && (e = ward_image_orient(&img, orientation))) {
        ward_image_free(&img);
        fail(r, "cannot apply the EXIF orientation: ", ward_strerror(e));
        return;
    }
    ward_pdq v[WARD_PDQ_VARIANTS];
    int quality = 0;
    e = ward_pdq_hash(img.pixels, img.width, img.height, img.channels, &v[0],
                      &quality, v);
    ward_image_free(&img);
    if (e) {
        fail(r, "cannot hash it: ", ward_strerror(e));
        return;
    }
    if (quality < r->o->min_quality) {
        char q[600];
        snprintf(q, sizeof q, "%s", path);
        cli_sanitize(q);
        fprintf(stderr, "ward: %s: PDQ quality %d is under %d: not matched "
                        "by PDQ (its exact hashes were)\n", q, quality,
                r->o->min_quality);
        return;
    }
    r->quality = quality;
    match_pdq(r, v);
}

/* ---- --hashes FILE ---- */

typedef struct hashes_ctx {
    run *r;
    const char *file;
    uint64_t done;
} hashes_ctx;

static int on_hash(void *vc, const ward_hl_entry *e)
{
    hashes_ctx *c = vc;
    char q[600];
    snprintf(q, sizeof q, "%s:%llu", c->file, (unsigned long long)e->line);
    c->r->query = q;
    c->r->quality = -1;
    if (e->type == WARD_HL_PDQ) {
        /* A hash has no variants: they come from the image's DCT. */
        ward_pdq h;
        ward_pdq_from_bytes(e->hash, &h);
        ward_match_pdq(c->r->set, &h, c->r->o->radius, on_hit, c->r);
    } else {
        ward_match_exact(c->r->set, e->type, e->hash, on_hit, c->r);
    }
    c->done++;
    return 0;
}

static void on_bad_line(void *vc, uint64_t line, const char *why)
{
    hashes_ctx *c = vc;
    char name[512];
    snprintf(name, sizeof name, "%s", c->file);
    cli_sanitize(name);
    fprintf(stderr, "%s:%llu: %s\n", name, (unsigned long long)line, why);
    c->r->failed++;
}

static void match_hashes(run *r, const char *file)
{
    hashes_ctx c = {r, file, 0};
    ward_hl_opts po = {WARD_HL_AUTO, r->o->type, 0};
    ward_hl_parser *p;
    if (ward_hl_parser_new(&po, on_hash, on_bad_line, &c, &p)) {
        r->failed++;
        return;
    }
    int fd = strcmp(file, "-") == 0 ? STDIN_FILENO : open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        r->query = file;
        fail(r, "", strerror(errno));
        ward_hl_parser_free(p);
        return;
    }
    static char buf[1 << 16];
    int tty = isatty(STDERR_FILENO);
    struct stat st;
    size_t total = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (size_t)st.st_size : 0;
    size_t seen = 0;
    double last = 0;
    for (;;) {
        ssize_t k = read(fd, buf, sizeof buf);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            if (k < 0) {
                r->query = file;
                fail(r, "", strerror(errno));
            }
            ward_hl_parser_finish(p);
            break;
        }
        ward_hl_parser_feed(p, buf, (size_t)k);
        seen += (size_t)k;
        if (tty && total > (1u << 20))
            cli_progress(seen, total, &last);
    }
    if (tty && total > (1u << 20))
        cli_progress(total, total, &last);
    if (fd != STDIN_FILENO)
        close(fd);
    ward_hl_parser_free(p);
}

static int parse_opts(int argc, char **argv, match_opts *o, int *first_path)
{
    static char dirbuf[4096];
    const char *data = NULL, *lists = NULL;
    *o = (match_opts){NULL, NULL, WARD_MATCH_DEFAULT_RADIUS, 0, 0, 0,
                      WARD_PDQ_QUALITY_MIN, 0, WARD_MEDIA_DEFAULT_MAX_PIXELS};
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || !a[1])
            break;
        if (strcmp(a, "--dihedral") == 0) {
            o->dihedral = 1;
            continue;
        }
        if (strcmp(a, "--orient") == 0) {
            o->orient = 1;
            continue;
        }
        static const char *const valued[] = {"--radius", "--lists", "--data",
                                             "--hashes", "--format", "--type",
                                             "--min-quality", "--max-pixels"};
        int known = 0;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
            known |= strcmp(a, valued[k]) == 0;
        if (!known) {
            cli_error("unknown option '%s'; see 'ward help match'", a);
            return CLI_USAGE;
        }
        if (i + 1 >= argc) {
            cli_error("option '%s' needs a value", a);
            return CLI_USAGE;
        }
        const char *v = argv[++i];
        char *end;
        if (strcmp(a, "--radius") == 0 || strcmp(a, "--min-quality") == 0) {
            long n = strtol(v, &end, 10);
            int max = strcmp(a, "--radius") == 0 ? WARD_MATCH_MAX_RADIUS : 100;
            if (*end || end == v || n < 0 || n > max) {
                cli_error("%s is a number from 0 to %d", a, max);
                return CLI_USAGE;
            }
            if (strcmp(a, "--radius") == 0)
                o->radius = (int)n;
            else
                o->min_quality = (int)n;
        } else if (strcmp(a, "--max-pixels") == 0) {
            unsigned long long n = strtoull(v, &end, 10);
            if (*end || end == v || n == 0) {
                cli_error("--max-pixels is a positive number");
                return CLI_USAGE;
            }
            o->max_pixels = n;
        } else if (strcmp(a, "--lists") == 0) {
            lists = v;
        } else if (strcmp(a, "--data") == 0) {
            data = v;
        } else if (strcmp(a, "--hashes") == 0) {
            o->hashes = v;
        } else if (strcmp(a, "--format") == 0) {
            if (strcmp(v, "json") != 0 && strcmp(v, "text") != 0) {
                cli_error("--format is text or json");
                return CLI_USAGE;
            }
            o->json = strcmp(v, "json") == 0;
        } else {
            if (!(o->type = cli_hl_type(v))) {
                cli_error("--type is pdq, md5 or sha256");
                return CLI_USAGE;
            }
        }
    }
    cli_lists_dir(lists, data, dirbuf, sizeof dirbuf);
    o->dir = dirbuf;
    if ((o->hashes != NULL) == (i < argc)) {
        cli_error("usage: ward match [options] (IMAGE... | --hashes FILE)");
        return CLI_USAGE;
    }
    *first_path = i;
    return CLI_OK;
}

int cli_match(int argc, char **argv)
{
    match_opts o;
    int first;
    int rc = parse_opts(argc, argv, &o, &first);
    if (rc)
        return rc;
    ward_match_set *set;
    char why[512] = "";
    ward_err e = ward_match_open(o.dir, &set, why, sizeof why);
    if (e) {
        cli_error("cannot open the lists in %s: %s", o.dir,
                  why[0] ? why : ward_strerror(e));
        return CLI_FAIL;
    }
    if (ward_match_list_count(set) == 0)
        fprintf(stderr, "ward: no lists in %s (ward list import adds one)\n",
                o.dir);
    run r = {&o, set, "", -1, 0, 0};
    if (o.hashes) {
        match_hashes(&r, o.hashes);
    } else {
        int n = argc - first, tty = isatty(STDERR_FILENO) && n >= 20;
        double last = 0;
        for (int i = first; i < argc; i++) {
            match_image(&r, argv[i]);
            fflush(stdout);
            if (tty)
                cli_progress((size_t)(i - first + 1), (size_t)n, &last);
        }
    }
    ward_match_close(set);
    if (fflush(stdout) != 0)
        return CLI_FAIL;
    return r.failed ? CLI_FAIL : r.hits ? MATCH_HITS : CLI_OK;
}
