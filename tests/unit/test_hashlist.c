/*
 * The hash-list formats: the reference's own lists (haystack.txt and
 * needles.txt from Meta's MIH tests, ../shared/data/pdq-reference),
 * python-threatexchange's line and CSV forms as PDQ.md describes them,
 * plain MD5 and SHA-256 lists, malformed lines with their numbers, strict
 * mode, input cut into pieces of every size, and export then import.
 *   test_hashlist DATA_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ward/hashlist.h"
#include "wtest.h"

#define MAX_GOT 4096

typedef struct got {
    int n;
    ward_hl_entry e[MAX_GOT];
    char labels[MAX_GOT][128];
    int nerr;
    uint64_t err_line[64];
    char err_why[64][128];
    int stop_after; /* stop the parse after this many entries (0: never) */
} got;

static int on_entry(void *ctx, const ward_hl_entry *e)
{
    got *g = ctx;
    if (g->n < MAX_GOT) {
        g->e[g->n] = *e;
        snprintf(g->labels[g->n], sizeof g->labels[0], "%s", e->labels);
        g->e[g->n].labels = g->labels[g->n];
    }
    g->n++;
    return g->stop_after && g->n >= g->stop_after;
}

static void on_error(void *ctx, uint64_t line, const char *why)
{
    got *g = ctx;
    if (g->nerr < 64) {
        g->err_line[g->nerr] = line;
        snprintf(g->err_why[g->nerr], sizeof g->err_why[0], "%s", why);
    }
    g->nerr++;
}

/* Parses |text| fed in pieces of |piece| bytes (0: all at once). */
static ward_err parse(const char *text, size_t len, ward_hl_format f,
                      ward_hl_type type, int strict, size_t piece, got *g,
                      ward_hl_format *detected)
{
    ward_hl_opts o = {f, type, strict};
    ward_hl_parser *p;
    REQUIRE(ward_hl_parser_new(&o, on_entry, on_error, g, &p) == WARD_OK);
    ward_err e = WARD_OK;
    if (!piece)
        piece = len ? len : 1;
    for (size_t i = 0; i < len && !e; i += piece)
        e = ward_hl_parser_feed(p, text + i, len - i < piece ? len - i : piece);
    if (!e)
        e = ward_hl_parser_finish(p);
    if (detected)
        *detected = ward_hl_parser_format(p);
    CHECK_EQ_INT(ward_hl_parser_errors(p), (uint64_t)g->nerr);
    ward_hl_parser_free(p);
    return e;
}

static ward_err parse_str(const char *text, ward_hl_format f, got *g)
{
    memset(g, 0, sizeof *g);
    return parse(text, strlen(text), f, 0, 0, 0, g, NULL);
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    REQUIRE(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)len + 1);
    REQUIRE(p && fread(p, 1, (size_t)len, f) == (size_t)len);
    fclose(f);
    p[len] = 0;
    *n = (size_t)len;
    return p;
}

static const char *dir;

/* The reference's own lists: every line a PDQ hash, none malformed; the
 * first and last lines' hex read back as the file has them. */
static void test_reference_files(void)
{
    static got g;
    char path[1024];
    size_t n;
    snprintf(path, sizeof path, "%s/hash-lists/haystack.txt", dir);
    char *text = slurp(path, &n);
    memset(&g, 0, sizeof g);
    ward_hl_format f;
    CHECK_EQ_INT(parse(text, n, WARD_HL_AUTO, 0, 1, 0, &g, &f), WARD_OK);
    CHECK_EQ_INT(f, WARD_HL_REFERENCE);
    CHECK_EQ_INT(g.n, 1350);
    CHECK_EQ_INT(g.nerr, 0);
    /* The first line is f162eb9d...5c95. */
    CHECK_EQ_INT(g.e[0].type, WARD_HL_PDQ);
    CHECK_EQ_INT(g.e[0].hash[0], 0xf1);
    CHECK_EQ_INT(g.e[0].hash[1], 0x62);
    CHECK_EQ_INT(g.e[0].hash[31], 0x95);
    CHECK_EQ_INT(g.e[0].line, 1);
    CHECK_EQ_INT(g.e[1349].line, 1350);
    /* Every line written back is the file's line. */
    char line[200];
    size_t off = 0;
    int same = 1;
    for (int i = 0; i < g.n && i < MAX_GOT; i++) {
        size_t k = ward_hl_format_entry(WARD_HL_REFERENCE, &g.e[i], line,
                                        sizeof line);
        if (k != 65 || memcmp(text + off, line, k) != 0)
            same = 0;
        off += k;
    }
    CHECK(same);
    CHECK_EQ_INT(off, n);
    free(text);

    snprintf(path, sizeof path, "%s/hash-lists/needles.txt", dir);
    text = slurp(path, &n);
    memset(&g, 0, sizeof g);
    CHECK_EQ_INT(parse(text, n, WARD_HL_REFERENCE, 0, 1, 7, &g, NULL),
                 WARD_OK);
    CHECK_EQ_INT(g.n, 100);
    free(text);
}

static const char pdq1[] =
    "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
static const char md5abc[] = "900150983cd24fb0d6963f7d28e17f72";

static void test_reference_lines(void)
{
    static got g;
    char text[2048];
    /* A byte-order mark, CRLF, a comment, blank lines, hash=, metadata
     * kept verbatim (commas and all), upper-case hex, an MD5. */
    snprintf(text, sizeof text,
             "\xef\xbb\xbf# a list\r\n\r\nhash=%s,idx=7,src=x y\r\n"
             "  %s  \n%s,\n\n%s,category=CSAM A1\n",
             pdq1, "F8F8F0CEE0F4A84F06370A22038F63F0B36E2ED596621E1D33E6B39C4E9C9B22",
             md5abc, md5abc);
    CHECK_EQ_INT(parse_str(text, WARD_HL_AUTO, &g), WARD_OK);
    CHECK_EQ_INT(g.nerr, 0);
    REQUIRE(g.n == 4);
    CHECK_EQ_INT(g.e[0].line, 3);
    CHECK(strcmp(g.e[0].labels, "idx=7,src=x y") == 0);
    CHECK_EQ_INT(g.e[0].type, WARD_HL_PDQ);
    CHECK_EQ_INT(g.e[1].line, 4);
    CHECK_MEM(g.e[0].hash, g.e[1].hash, 32);
    CHECK_EQ_INT(g.e[1].labels_len, 0);
    CHECK_EQ_INT(g.e[2].type, WARD_HL_MD5);
    CHECK_EQ_INT(g.e[2].hash[0], 0x90);
    CHECK_EQ_INT(g.e[2].hash[15], 0x72);
    CHECK(strcmp(g.e[3].labels, "category=CSAM A1") == 0);
    CHECK_EQ_INT(g.e[3].line, 7);

    /* A typed list: 64 digits as SHA-256; an MD5 where SHA-256 is due is
     * an error. */
    memset(&g, 0, sizeof g);
    snprintf(text, sizeof text, "%s\n%s\n", pdq1, md5abc);
    CHECK_EQ_INT(parse(text, strlen(text), WARD_HL_REFERENCE, WARD_HL_SHA256,
                       0, 0, &g, NULL),
                 WARD_OK);
    CHECK_EQ_INT(g.n, 1);
    CHECK_EQ_INT(g.e[0].type, WARD_HL_SHA256);
    CHECK_EQ_INT(g.nerr, 1);
    CHECK_EQ_INT(g.err_line[0], 2);
}

static void test_malformed(void)
{
    static got g;
    char text[4096];
    /* Line numbers count every line, blank and comment ones too. */
    snprintf(text, sizeof text,
             "%s\n"         /* 1 ok */
             "%.63s\n"      /* 2 short */
             "%.63sg\n"     /* 3 not hex */
             "\n"           /* 4 */
             "%s,a\x01z\n"  /* 5 control character in the labels */
             "%s,\xff\xfe\n"/* 6 not UTF-8 */
             "%s\n",        /* 7 ok */
             pdq1, pdq1, pdq1, pdq1, pdq1, md5abc);
    CHECK_EQ_INT(parse_str(text, WARD_HL_REFERENCE, &g), WARD_OK);
    CHECK_EQ_INT(g.n, 2);
    REQUIRE(g.nerr == 4);
    CHECK_EQ_INT(g.err_line[0], 2);
    CHECK_EQ_INT(g.err_line[1], 3);
    CHECK_EQ_INT(g.err_line[2], 5);
    CHECK_EQ_INT(g.err_line[3], 6);
    CHECK(strstr(g.err_why[1], "hex") != NULL);
    CHECK(strstr(g.err_why[2], "control") != NULL);

    /* Strict: the first bad line ends it, and nothing after it comes. */
    memset(&g, 0, sizeof g);
    CHECK_EQ_INT(parse(text, strlen(text), WARD_HL_REFERENCE, 0, 1, 0, &g,
                       NULL),
                 WARD_ERR_MALFORMED);
    CHECK_EQ_INT(g.n, 1);
    CHECK_EQ_INT(g.nerr, 1);

    /* A line over the limit is one error, and the next line still reads. */
    size_t big = WARD_HL_MAX_LINE + 100;
    char *long_text = malloc(big + 200);
    REQUIRE(long_text);
    memset(long_text, 'a', big);
    long_text[big] = '\n';
    snprintf(long_text + big + 1, 199, "%s\n", pdq1);
    memset(&g, 0, sizeof g);
    CHECK_EQ_INT(parse(long_text, strlen(long_text), WARD_HL_REFERENCE, 0, 0,
                       1000, &g, NULL),
                 WARD_OK);
    CHECK_EQ_INT(g.nerr, 1);
    CHECK_EQ_INT(g.err_line[0], 1);
    CHECK_EQ_INT(g.n, 1);
    CHECK_EQ_INT(g.e[0].line, 2);
    free(long_text);

    /* A NUL byte inside a line. */
    memset(&g, 0, sizeof g);
    static const char nul[] = "abc\0def\n";
    CHECK_EQ_INT(parse(nul, sizeof nul - 1, WARD_HL_AUTO, 0, 0, 0, &g, NULL),
                 WARD_OK);
    CHECK_EQ_INT(g.nerr, 1);

    /* The last line needs no newline; the callback can stop the parse. */
    memset(&g, 0, sizeof g);
    snprintf(text, sizeof text, "%s\n%s\n%s", pdq1, pdq1, md5abc);
    g.stop_after = 2;
    CHECK_EQ_INT(parse(text, strlen(text), WARD_HL_AUTO, 0, 0, 0, &g, NULL),
                 WARD_ERR_USAGE);
    CHECK_EQ_INT(g.n, 2);
    memset(&g, 0, sizeof g);
    CHECK_EQ_INT(parse(text, strlen(text), WARD_HL_AUTO, 0, 0, 0, &g, NULL),
                 WARD_OK);
    CHECK_EQ_INT(g.n, 3);
}

/* python-threatexchange's file exchange: "pdq <hash>" lines. */
static void test_te(void)
{
    static got g;
    char text[2048];
    ward_hl_format f;
    snprintf(text, sizeof text,
             "pdq %s\nmd5 %s\nsha256 %s\nurl %s\npdq %s extra\nmd5 %s\n",
             pdq1, md5abc, pdq1, pdq1, pdq1, pdq1);
    memset(&g, 0, sizeof g);
    CHECK_EQ_INT(parse(text, strlen(text), WARD_HL_AUTO, 0, 0, 3, &g, &f),
                 WARD_OK);
    CHECK_EQ_INT(f, WARD_HL_TE);
    REQUIRE(g.n == 3);
    CHECK_EQ_INT(g.e[0].type, WARD_HL_PDQ);
    CHECK_EQ_INT(g.e[1].type, WARD_HL_MD5);
    CHECK_EQ_INT(g.e[2].type, WARD_HL_SHA256);
    REQUIRE(g.nerr == 3);
    CHECK_EQ_INT(g.err_line[0], 4); /* url: not a hash type */
    CHECK_EQ_INT(g.err_line[1], 5); /* text after the hash */
    CHECK_EQ_INT(g.err_line[2], 6); /* md5 with 64 digits */
}

/* `threatexchange dataset -P --csv`. */
static void test_te_csv(void)
{
    static got g;
    char text[4096];
    ward_hl_format f;
    snprintf(text, sizeof text,
             "signal_type,signal_str,collab,category,tags\n"
             "pdq,%s,NCMEC,A1,\"csam, known\"\n"
             "md5,%s,,,\n"
             "pdq,%s,\"Coll \"\"Q\"\"\",,a%%b\n"
             "pdq,%s,x\n"            /* too few columns */
             "video_md5,%s,,,\n"     /* not a type ward reads */
             "pdq,\"%s,,,\n",        /* a quote not closed */
             pdq1, md5abc, pdq1, pdq1, md5abc, pdq1);
    memset(&g, 0, sizeof g);
    CHECK_EQ_INT(parse(text, strlen(text), WARD_HL_AUTO, 0, 0, 5, &g, &f),
                 WARD_OK);
    CHECK_EQ_INT(f, WARD_HL_TE_CSV);
    REQUIRE(g.n == 3);
    CHECK(strcmp(g.e[0].labels, "collab=NCMEC,category=A1,tags=csam%2C known") ==
          0);
    CHECK_EQ_INT(g.e[1].labels_len, 0);
    CHECK_EQ_INT(g.e[1].type, WARD_HL_MD5);
    CHECK(strcmp(g.e[2].labels, "collab=Coll \"Q\",tags=a%25b") == 0);
    REQUIRE(g.nerr == 3);
    CHECK_EQ_INT(g.err_line[0], 5);
    CHECK_EQ_INT(g.err_line[1], 6);
    CHECK_EQ_INT(g.err_line[2], 7);

    char v[64];
    CHECK_EQ_INT(ward_hl_label_get(g.e[0].labels, g.e[0].labels_len, "tags",
                                   v, sizeof v),
                 11);
    CHECK(strcmp(v, "csam, known") == 0);
    CHECK_EQ_INT(ward_hl_label_get(g.e[0].labels, g.e[0].labels_len, "tag",
                                   v, sizeof v),
                 -1);

    /* Columns found by their names, in any order. */
    snprintf(text, sizeof text, "category,signal_str,signal_type\nB2,%s,pdq\n",
             pdq1);
    CHECK_EQ_INT(parse_str(text, WARD_HL_TE_CSV, &g), WARD_OK);
    REQUIRE(g.n == 1);
    CHECK(strcmp(g.labels[0], "category=B2") == 0);

    /* No header: an error for the file, then the usual column order. */
    snprintf(text, sizeof text, "pdq,%s,C,,\n", pdq1);
    CHECK_EQ_INT(parse_str(text, WARD_HL_TE_CSV, &g), WARD_OK);
    CHECK_EQ_INT(g.nerr, 1);
    CHECK_EQ_INT(g.n, 1);
}

/* Export then import, in every format, through pieces of every size:
 * the same entries come back. */
static void test_round_trip(void)
{
    static got in, back;
    char text[4096];
    snprintf(text, sizeof text,
             "signal_type,signal_str,collab,category,tags\n"
             "pdq,%s,NCMEC,A1,\"csam, known\"\n"
             "md5,%s,,,\n"
             "sha256,%s,\"q\"\"x\",,t%%\n",
             pdq1, md5abc, pdq1);
    CHECK_EQ_INT(parse_str(text, WARD_HL_AUTO, &in), WARD_OK);
    REQUIRE(in.n == 3 && in.nerr == 0);
    for (int f = WARD_HL_REFERENCE; f <= WARD_HL_TE_CSV; f++) {
        char out[4096];
        size_t o = 0;
        const char *h = ward_hl_header((ward_hl_format)f);
        memcpy(out, h, strlen(h));
        o += strlen(h);
        for (int i = 0; i < in.n; i++) {
            size_t k = ward_hl_format_entry((ward_hl_format)f, &in.e[i],
                                            out + o, sizeof out - o);
            REQUIRE(k > 0);
            o += k;
        }
        /* Too small a buffer writes nothing. */
        char tiny[10];
        CHECK_EQ_INT(ward_hl_format_entry((ward_hl_format)f, &in.e[0], tiny,
                                          sizeof tiny),
                     0);
        for (size_t piece = 1; piece <= 64; piece *= 4) {
            memset(&back, 0, sizeof back);
            /* The reference format has no types: the SHA-256 line reads
             * back as a PDQ hash, the same bytes. */
            CHECK_EQ_INT(parse(out, o, (ward_hl_format)f, 0, 1, piece, &back,
                               NULL),
                         WARD_OK);
            REQUIRE(back.n == 3);
            for (int i = 0; i < 3; i++) {
                CHECK_MEM(back.e[i].hash, in.e[i].hash,
                          ward_hl_type_len(in.e[i].type));
                if (f != WARD_HL_REFERENCE || in.e[i].type != WARD_HL_SHA256)
                    CHECK_EQ_INT(back.e[i].type, in.e[i].type);
                if (f != WARD_HL_TE)
                    CHECK(strcmp(back.labels[i], in.labels[i]) == 0);
                else
                    CHECK_EQ_INT(back.e[i].labels_len, 0);
            }
        }
    }
    CHECK_EQ_INT(ward_hl_format_from_name("te-csv"), WARD_HL_TE_CSV);
    CHECK_EQ_INT(ward_hl_format_from_name("csv"), WARD_HL_AUTO);
    CHECK(strcmp(ward_hl_format_name(WARD_HL_TE), "te") == 0);
}

int main(int argc, char **argv)
{
    REQUIRE(argc == 2);
    dir = argv[1];
    test_reference_files();
    test_reference_lines();
    test_malformed();
    test_te();
    test_te_csv();
    test_round_trip();
    printf("test_hashlist: %d passed, %d failed\n", wtest_pass, wtest_fail);
    return wtest_fail != 0;
}
