/* `ward list`'s subcommands (list_cmd.c, list_import.c, list_change.c). */
#ifndef WARD_CLI_LIST_CMD_H
#define WARD_CLI_LIST_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "ward/hashlist.h"
#include "ward/match.h"

/* The first this many malformed lines are printed; the rest counted. */
#define LIST_SHOWN_ERRORS 20

typedef struct list_opts {
    const char *dir;
    ward_hl_format format;
    ward_hl_type type;
    const char *source, *out;
    int strict, replace;
} list_opts;

/* Takes the options out of argv and up to |maxpos| positional arguments
 * into |pos|. CLI_OK or CLI_USAGE (printed). */
int list_parse(int argc, char **argv, list_opts *o, char **pos, int *npos,
               int maxpos);
/* Names: what a file name and a terminal can hold without surprises. */
int list_name_ok(const char *s);

/* A hash list file read through the parser: each entry to |fn|, each
 * malformed line reported (the first LIST_SHOWN_ERRORS printed). */
typedef struct list_reader {
    const char *file;
    ward_hl_entry_fn fn;
    void *ctx;
    uint64_t malformed;
    ward_hl_format format; /* found in the file */
} list_reader;
/* CLI_OK, or CLI_FAIL with the error printed (a --strict refusal, an
 * unreadable file, or |fn| having stopped: |fn|'s caller says why). */
int list_read(list_reader *r, const list_opts *o, int *stopped);

/* Takes the set's lock and opens it: CLI_OK, or CLI_FAIL printed. */
int list_open_locked(const char *dir, int *lock, ward_match_set **s);
/* After |pending| changes to |before| went into the journal: folds it in
 * if it has grown big enough (said on stdout). */
void list_maybe_compact(const ward_match_set *before, uint64_t pending,
                        const char *dir);

int list_import(int argc, char **argv);
int list_add(int argc, char **argv);
int list_remove(int argc, char **argv);
int list_rm(int argc, char **argv);
int list_compact(int argc, char **argv);

#endif
