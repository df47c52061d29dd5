/*
 * The hash-list reader: any bytes, in any format, cut into pieces of any
 * size. Whatever it accepts must write back in its own format and read
 * back to the same entry; the counts must add up; nothing crashes.
 * The first byte picks the format, a type, strict mode and the piece
 * size; the rest is the list.
 */
#include <string.h>

#include "fuzz_common.h"
#include "ward/hashlist.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

#define PDQ "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
#define MD5 "900150983cd24fb0d6963f7d28e17f72"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_write_tagged_seed("reference", 0x01,
                           "# list\nhash=" PDQ ",idx=1\n" MD5 ",c=A1\n" PDQ "\n");
    fuzz_write_tagged_seed("te", 0x02, "pdq " PDQ "\nmd5 " MD5 "\n");
    fuzz_write_tagged_seed("te_csv", 0x03,
                           "signal_type,signal_str,collab,category,tags\n"
                           "pdq," PDQ ",NCMEC,A1,\"a, b\"\nmd5," MD5 ",,,\n");
    fuzz_write_tagged_seed("auto_crlf", 0x40,
                           "\xef\xbb\xbfpdq " PDQ "\r\n\r\nsha256 " PDQ "\r\n");
    return 0;
}

typedef struct ctx {
    ward_hl_format fmt;
    uint64_t seen;
} ctx;

static int reread(void *c, const ward_hl_entry *e)
{
    (void)c;
    (void)e;
    return 0;
}

/* Each entry written in every format reads back as itself. */
static int on_entry(void *vc, const ward_hl_entry *e)
{
    ctx *c = vc;
    c->seen++;
    FUZZ_ASSERT(e->labels_len <= WARD_HL_MAX_LABELS);
    FUZZ_ASSERT(strlen(e->labels) == e->labels_len);
    for (int f = WARD_HL_REFERENCE; f <= WARD_HL_TE_CSV; f++) {
        char line[2 * WARD_HL_MAX_LINE];
        size_t k = ward_hl_format_entry((ward_hl_format)f, e, line,
                                        sizeof line);
        FUZZ_ASSERT(k > 0);
        ward_hl_opts o = {(ward_hl_format)f, 0, 1};
        if (f == WARD_HL_REFERENCE)
            o.type = e->type; /* the format has no type of its own */
        ward_hl_parser *p;
        FUZZ_ASSERT(ward_hl_parser_new(&o, reread, NULL, NULL, &p) == WARD_OK);
        const char *h = ward_hl_header((ward_hl_format)f);
        /* The te-csv labels of another format may not fit its columns
         * (long values get longer escaped): only check what must hold. */
        ward_err err = ward_hl_parser_feed(p, h, strlen(h));
        if (!err)
            err = ward_hl_parser_feed(p, line, k);
        if (!err)
            err = ward_hl_parser_finish(p);
        if (f != WARD_HL_TE_CSV || e->labels_len < WARD_HL_MAX_LABELS / 4)
            FUZZ_ASSERT(err == WARD_OK && ward_hl_parser_entries(p) == 1);
        ward_hl_parser_free(p);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (n < 1)
        return 0;
    uint8_t b = data[0];
    ward_hl_opts o = {(ward_hl_format)(b & 3), (ward_hl_type)((b >> 2) & 3),
                      (b >> 4) & 1};
    if (o.type > WARD_HL_SHA256)
        o.type = 0;
    size_t piece = (size_t)1 << ((b >> 5) & 7);
    ctx c = {0};
    ward_hl_parser *p;
    FUZZ_ASSERT(ward_hl_parser_new(&o, on_entry, NULL, &c, &p) == WARD_OK);
    ward_err err = WARD_OK;
    for (size_t i = 1; i < n && !err; i += piece)
        err = ward_hl_parser_feed(p, data + i, n - i < piece ? n - i : piece);
    if (!err)
        err = ward_hl_parser_finish(p);
    FUZZ_ASSERT(err == WARD_OK || (o.strict && err == WARD_ERR_MALFORMED));
    FUZZ_ASSERT(ward_hl_parser_entries(p) == c.seen);
    if (!o.strict)
        FUZZ_ASSERT(err == WARD_OK);
    ward_hl_parser_free(p);
    return 0;
}
