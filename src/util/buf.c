#include "ward/buf.h"

#include <stdlib.h>
#include <string.h>

#include "ward/crypto.h"

void ward_buf_init(ward_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : WARD_BUF_DEFAULT_MAX;
}

void ward_buf_release(ward_buf *b)
{
    if (b->data) {
        ward_memzero(b->data, b->cap);
        free(b->data);
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void ward_buf_clear(ward_buf *b)
{
    if (b->data)
        ward_memzero(b->data, b->len);
    b->len = 0;
}

ward_err ward_buf_reserve(ward_buf *b, size_t extra)
{
    size_t max = b->max ? b->max : WARD_BUF_DEFAULT_MAX;
    if (extra > max || b->len > max - extra)
        return WARD_ERR_TOO_BIG;
    size_t need = b->len + extra;
    if (need <= b->cap)
        return WARD_OK;
    /* Doubling keeps appends amortised; the first allocation is exactly
     * what was asked for, since most buffers are written once. */
    size_t cap = b->cap > max / 2 ? max : b->cap * 2;
    if (cap < need)
        cap = need;
    if (cap < 64 && max >= 64)
        cap = 64;
    /* Not realloc: the old block may hold secrets and must be wiped. */
    uint8_t *p = malloc(cap);
    if (!p)
        return WARD_ERR_NOMEM;
    if (b->data) {
        memcpy(p, b->data, b->len);
        ward_memzero(b->data, b->cap);
        free(b->data);
    }
    b->data = p;
    b->cap = cap;
    return WARD_OK;
}

ward_err ward_buf_append(ward_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return WARD_OK;
    ward_err e = ward_buf_reserve(b, n);
    if (e)
        return e;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return WARD_OK;
}

ward_err ward_buf_push(ward_buf *b, uint8_t byte)
{
    return ward_buf_append(b, &byte, 1);
}
