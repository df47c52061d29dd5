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

typedef struct ward_ser_writer {
    ward_buf *out;
    ward_err err;
} ward_ser_writer;

typedef struct ward_ser_reader {
    const uint8_t *p;
    size_t n;
    int bad;
} ward_ser_reader;

void ward_ser_magic(ward_ser_writer *w, const char magic[3], uint8_t format);
void ward_ser_bytes(ward_ser_writer *w, const void *p, size_t n);
void ward_ser_u8(ward_ser_writer *w, uint8_t v);
void ward_ser_u32(ward_ser_writer *w, uint32_t v);
void ward_ser_u64(ward_ser_writer *w, uint64_t v);

void ward_ser_expect_magic(ward_ser_reader *r, const char magic[3], uint8_t format);
void ward_ser_read_bytes(ward_ser_reader *r, void *p, size_t n);
void ward_ser_read_u8(ward_ser_reader *r, uint8_t *v);
void ward_ser_read_u32(ward_ser_reader *r, uint32_t *v);
void ward_ser_read_u64(ward_ser_reader *r, uint64_t *v);
/* Reads a 0/1 flag; anything else marks the input bad. */
void ward_ser_read_flag(ward_ser_reader *r, int *v);
/* Marks the input bad (a value out of range, say). */
void ward_ser_fail(ward_ser_reader *r);
/* WARD_OK if every read succeeded and the input was consumed exactly. */
ward_err ward_ser_finish(const ward_ser_reader *r);

#endif
