/*
 * The index file's container (private to the match module): a header
 * naming up to IX_MAX_SECTIONS sections, each at a 64-byte aligned offset
 * with its length and XXH3-64 checksum, and the header's own checksum.
 * Readers map the file read-only, so processes share its pages; writers
 * build a new file beside the old one and rename it over, so a reader
 * sees the old file or the new one, whole.
 *
 * Layout (little-endian):
 *   0   "WARDLIX1"
 *   8   u32 version (1), u32 section count
 *   16  u64 file size, u64 reserved (0)
 *   32  per section: u32 kind, u32 0, u64 offset, u64 length, u64 xxh3
 *   ..  u64 XXH3-64 of every header byte before it
 *   the sections, from byte 4096
 */
#ifndef WARD_MATCH_IXFILE_H
#define WARD_MATCH_IXFILE_H

#include <stddef.h>
#include <stdint.h>

#include "ward/err.h"

#define IX_MAX_SECTIONS 64
#define IX_HEADER_BYTES 4096
#define IX_ALIGN 64

typedef struct ix_section {
    uint32_t kind;
    uint64_t off, len, check;
    const uint8_t *copy; /* the section read into |copy|, or NULL */
} ix_section;

typedef struct ix_file {
    const uint8_t *map;
    size_t size;
    int mapped; /* ix_open's own mapping, unmapped by ix_close */
    uint32_t n;
    ix_section s[IX_MAX_SECTIONS];
    /* The header's checksum, which covers every section's: it tells one
     * index file from another (the journal names the one it follows). */
    uint64_t id;
    /* ix_open_copy's private memory, and its length; the bytes are
     * read-only once filled. */
    uint8_t *copy;
    size_t copy_len;
} ix_file;

/* Maps |path| and checks the header, that every section lies inside the
 * file, and every section's checksum. On failure |why| says what is
 * wrong (WARD_ERR_IO: cannot read; WARD_ERR_BAD_STATE: not a valid
 * index file). */
ward_err ix_open(const char *path, ix_file *f, char *why, size_t why_len);
/* The same, but the sections of the |n_kinds| kinds in |kinds| are read
 * into memory of this process's own (aligned to 2 MiB and offered to the
 * kernel for transparent huge pages), each checksummed as it is read, and
 * ix_get returns the copy. For a few hot arrays read at random: through
 * the shared mapping every scattered read can miss the TLB, one entry per
 * 4 KiB; a 2 MiB page covers 512 times as much. The price is the copy's
 * memory in every process that opens the file, and the time to read it.
 * Errors as ix_open's, and WARD_ERR_NOMEM. */
ward_err ix_open_copy(const char *path, ix_file *f, const uint32_t *kinds,
                      size_t n_kinds, char *why, size_t why_len);
/* The same over bytes already in memory (|f| keeps pointing at them). */
ward_err ix_open_mem(const void *bytes, size_t n, ix_file *f, char *why,
                     size_t why_len);
/* A section's bytes and length, or NULL if the file has none of |kind|. */
const void *ix_get(const ix_file *f, uint32_t kind, uint64_t *len);
void ix_close(ix_file *f);

typedef struct ix_writer ix_writer;

/* Starts a new file that will replace |path| on commit (a temporary file
 * beside it until then). */
ward_err ix_writer_new(const char *path, ix_writer **out);
/* Sections are written one after another: begin, any writes, end. */
ward_err ix_begin(ix_writer *w, uint32_t kind);
ward_err ix_write(ix_writer *w, const void *p, size_t n);
ward_err ix_end(ix_writer *w);
/* Writes the header, syncs, renames over |path| and syncs the directory;
 * frees |w| whatever happens. */
ward_err ix_commit(ix_writer *w);
/* Deletes the temporary file and frees |w|. */
void ix_abort(ix_writer *w);

#endif
