/*
 * The few protobuf (proto2) wire primitives ward's messages need. Hand-
 * written rather than protobuf-c: four small fixed schemas, parsed in place
 * without allocation, with every length checked against what is left.
 */
#ifndef WARD_PB_H
#define WARD_PB_H

#include <stddef.h>
#include <stdint.h>

#include "ward/buf.h"
#include "ward/err.h"

enum { PB_VARINT = 0, PB_FIXED64 = 1, PB_LEN = 2, PB_FIXED32 = 5 };

typedef struct ward_pb_reader {
    const uint8_t *p;
    size_t n;
} ward_pb_reader;

typedef struct ward_pb_field {
    uint32_t number;
    int type;
    uint64_t varint;      /* PB_VARINT */
    const uint8_t *data;  /* PB_LEN */
    size_t len;
} ward_pb_field;

/* Reads the next field: 1 if one was read, 0 at the clean end of input,
 * -1 for malformed input (bad varint, overlong length, group wire types,
 * field number 0). Fixed-size fields are read and skipped by the caller. */
int ward_pb_next(ward_pb_reader *r, ward_pb_field *f);

/* A varint field's value as a uint32: 0, or -1 for another wire type or a
 * value above 2^32 - 1. */
int ward_pb_get_u32(const ward_pb_field *f, uint32_t *out);

ward_err ward_pb_put_varint(ward_buf *b, uint32_t number, uint64_t v);
ward_err ward_pb_put_bytes(ward_buf *b, uint32_t number, const void *p, size_t n);
/* Appends a bare varint (no key). */
ward_err ward_pb_put_raw_varint(ward_buf *b, uint64_t v);

#endif
