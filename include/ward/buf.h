/* ward — growable byte buffers with a hard maximum. */
#ifndef WARD_BUF_H
#define WARD_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "ward/err.h"

/*
 * A growable byte buffer. Every buffer has a maximum size (|max|, 0 means
 * WARD_BUF_DEFAULT_MAX) so untrusted input can never make it grow without
 * bound. The memory is wiped before it is freed or moved, because buffers
 * often hold plaintext or key material.
 */
typedef struct ward_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max;
} ward_buf;

#define WARD_BUF_DEFAULT_MAX ((size_t)64 << 20)

/* Initialises an empty buffer that may grow to |max| bytes (0: default). */
void ward_buf_init(ward_buf *b, size_t max);

/* Wipes and frees the contents; |b| is left empty and reusable. */
void ward_buf_release(ward_buf *b);

/* Ensures room for |extra| more bytes. WARD_ERR_TOO_BIG past the maximum. */
ward_err ward_buf_reserve(ward_buf *b, size_t extra);

/* Appends |n| bytes. */
ward_err ward_buf_append(ward_buf *b, const void *p, size_t n);

/* Appends one byte. */
ward_err ward_buf_push(ward_buf *b, uint8_t byte);

/* Empties the buffer (wiping what it held) but keeps its memory. */
void ward_buf_clear(ward_buf *b);

/* Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing past
 * U+10FFFF, and no NUL, so that the text is safe as a C string. */
int ward_utf8_valid(const void *bytes, size_t n);

/* The value of a hex digit (either case), or -1. */
int ward_hex_digit(char c);

#endif
