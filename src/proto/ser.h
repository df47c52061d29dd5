/*
 * ward's own versioned state formats: a 3-byte magic, a format byte, then
 * fixed-width little-endian fields. Readers and writers carry a sticky
 * error so a sequence of calls is checked once at the end.
 */
#ifndef WARD_SER_H
#define WARD_SER_H

#include <stddef.h>
#include <stdint.h>

#include "ward/buf.h"
#include "ward/err.h"

typedef struct ser_writer {
    ward_buf *out;
    ward_err err;
} ser_writer;

typedef struct ser_reader {
    const uint8_t *p;
    size_t n;
    int bad;
} ser_reader;

void ser_magic(ser_writer *w, const char magic[3], uint8_t format);
void ser_bytes(ser_writer *w, const void *p, size_t n);
void ser_u8(ser_writer *w, uint8_t v);
void ser_u32(ser_writer *w, uint32_t v);
void ser_u64(ser_writer *w, uint64_t v);

void ser_expect_magic(ser_reader *r, const char magic[3], uint8_t format);
void ser_read_bytes(ser_reader *r, void *p, size_t n);
void ser_read_u8(ser_reader *r, uint8_t *v);
void ser_read_u32(ser_reader *r, uint32_t *v);
void ser_read_u64(ser_reader *r, uint64_t *v);
/* Reads a 0/1 flag; anything else marks the input bad. */
void ser_read_flag(ser_reader *r, int *v);
/* Marks the input bad (a value out of range, say). */
void ser_fail(ser_reader *r);
/* WARD_OK if every read succeeded and the input was consumed exactly. */
ward_err ser_finish(const ser_reader *r);

#endif
