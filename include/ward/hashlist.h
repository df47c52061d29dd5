/*
 * ward — hashlist: the text formats hash lists are exchanged in, read and
 * written line by line (../shared/pdq/PDQ.md, "Hash lists"):
 *
 *   reference  [hash=]HEX[,metadata]   Meta's C++ tools (hashio.h); also
 *                                      the plain one-hash-per-line lists
 *                                      NCMEC shares (MD5)
 *   te         TYPE HEX                python-threatexchange's local file
 *                                      exchange (TYPE pdq, md5 or sha256)
 *   te-csv     signal_type,signal_str,collab,category,tags
 *                                      `threatexchange dataset -P --csv`
 *
 * A hash is PDQ (64 hex digits), MD5 (32) or SHA-256 (64, so only when the
 * list says so: a 64-digit hash without a type is PDQ). Each entry keeps
 * its labels as one line of text, "key=value" items joined by commas,
 * with '%', ',' and control characters in values written %XX; the
 * reference format's metadata is kept as it is, so a list exported in the
 * format it came in reads back the same.
 *
 * Blank lines, lines starting with '#', a UTF-8 byte-order mark and CRLF
 * endings are accepted everywhere. The parser is fed bytes in pieces of
 * any size, so it reads a pipe as well as a file, and never holds more
 * than one line.
 */
#ifndef WARD_HASHLIST_H
#define WARD_HASHLIST_H

#include <stddef.h>
#include <stdint.h>

#include "ward/err.h"

typedef enum ward_hl_type {
    WARD_HL_PDQ = 1,
    WARD_HL_MD5 = 2,
    WARD_HL_SHA256 = 3
} ward_hl_type;

typedef enum ward_hl_format {
    WARD_HL_AUTO = 0, /* from the first line that is not blank or '#' */
    WARD_HL_REFERENCE = 1,
    WARD_HL_TE = 2,
    WARD_HL_TE_CSV = 3
} ward_hl_format;

/* Longest line read (a longer one is an error); longest labels text. */
#define WARD_HL_MAX_LINE 8192
#define WARD_HL_MAX_LABELS 4096

typedef struct ward_hl_entry {
    ward_hl_type type;
    /* PDQ: the 64 hex digits as 32 bytes, most significant first (the
     * order they are printed in); MD5: 16 bytes; SHA-256: 32. */
    uint8_t hash[32];
    /* The labels text, |labels_len| bytes (NUL-terminated); valid only
     * during the callback. */
    const char *labels;
    size_t labels_len;
    uint64_t line;
} ward_hl_entry;

/* Called for each entry; a nonzero return stops the parse. */
typedef int (*ward_hl_entry_fn)(void *ctx, const ward_hl_entry *e);
/* Called for each malformed line with its number and a reason. */
typedef void (*ward_hl_error_fn)(void *ctx, uint64_t line, const char *why);

typedef struct ward_hl_opts {
    ward_hl_format format;
    /* 0: from the hash's length and the line's own type; else every
     * untyped hash is read as this type (its length must fit). */
    ward_hl_type type;
    /* Stop at the first malformed line (feed returns WARD_ERR_MALFORMED). */
    int strict;
} ward_hl_opts;

typedef struct ward_hl_parser ward_hl_parser;

/* The caller owns the parser (ward_hl_parser_free). */
ward_err ward_hl_parser_new(const ward_hl_opts *o, ward_hl_entry_fn on_entry,
                            ward_hl_error_fn on_error, void *ctx,
                            ward_hl_parser **out);
/* Feeds |n| more bytes. WARD_ERR_MALFORMED when strict and a line was
 * malformed, WARD_ERR_USAGE when the entry callback asked to stop; the
 * parser is then finished and further feeds return the same. */
ward_err ward_hl_parser_feed(ward_hl_parser *p, const void *bytes, size_t n);
/* Ends the input (a last line without a newline counts). */
ward_err ward_hl_parser_finish(ward_hl_parser *p);
/* The format in use (the detected one after AUTO), entries and malformed
 * lines so far. */
ward_hl_format ward_hl_parser_format(const ward_hl_parser *p);
uint64_t ward_hl_parser_entries(const ward_hl_parser *p);
uint64_t ward_hl_parser_errors(const ward_hl_parser *p);
void ward_hl_parser_free(ward_hl_parser *p);

/* The format's name ("reference", "te", "te-csv") and back (0 if none). */
const char *ward_hl_format_name(ward_hl_format f);
ward_hl_format ward_hl_format_from_name(const char *name);
const char *ward_hl_type_name(ward_hl_type t);
/* The hash's length in bytes for a type (0 for none). */
size_t ward_hl_type_len(ward_hl_type t);

/* The header line a format needs before its entries ("" for none),
 * with its newline. */
const char *ward_hl_header(ward_hl_format f);
/* One entry as a line in |f| (not AUTO), with its newline, into |out|:
 * the length written, or 0 if |cap| is too small. The reference format
 * has no type (a SHA-256 list must be read back with its type given) and
 * te has no labels (they are left out); te-csv writes the collab,
 * category and tags labels in their columns and drops the others. */
size_t ward_hl_format_entry(ward_hl_format f, const ward_hl_entry *e,
                            char *out, size_t cap);

/* Reads the value of |key| in a labels text into |out| (decoded, NUL
 * terminated): its length, or -1 if the key is not there or |cap| is too
 * small. */
long ward_hl_label_get(const char *labels, size_t n, const char *key,
                       char *out, size_t cap);

#endif
