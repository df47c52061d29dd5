#include "ser.h"

#include <string.h>

void ser_bytes(ser_writer *w, const void *p, size_t n)
{
    if (!w->err)
        w->err = ward_buf_append(w->out, p, n);
}

void ser_magic(ser_writer *w, const char magic[3], uint8_t format)
{
    ser_bytes(w, magic, 3);
    ser_u8(w, format);
}

void ser_u8(ser_writer *w, uint8_t v)
{
    ser_bytes(w, &v, 1);
}

void ser_u32(ser_writer *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                    (uint8_t)(v >> 24)};
    ser_bytes(w, b, 4);
}

void ser_u64(ser_writer *w, uint64_t v)
{
    ser_u32(w, (uint32_t)v);
    ser_u32(w, (uint32_t)(v >> 32));
}

void ser_read_bytes(ser_reader *r, void *p, size_t n)
{
    if (r->bad || r->n < n) {
        r->bad = 1;
        memset(p, 0, n);
        return;
    }
    memcpy(p, r->p, n);
    r->p += n;
    r->n -= n;
}

void ser_expect_magic(ser_reader *r, const char magic[3], uint8_t format)
{
    uint8_t m[4];
    ser_read_bytes(r, m, 4);
    if (memcmp(m, magic, 3) != 0 || m[3] != format)
        r->bad = 1;
}

void ser_read_u8(ser_reader *r, uint8_t *v)
{
    ser_read_bytes(r, v, 1);
}

void ser_read_u32(ser_reader *r, uint32_t *v)
{
    uint8_t b[4];
    ser_read_bytes(r, b, 4);
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
         (uint32_t)b[3] << 24;
}

void ser_read_u64(ser_reader *r, uint64_t *v)
{
    uint32_t lo, hi;
    ser_read_u32(r, &lo);
    ser_read_u32(r, &hi);
    *v = (uint64_t)hi << 32 | lo;
}

void ser_read_flag(ser_reader *r, int *v)
{
    uint8_t b;
    ser_read_u8(r, &b);
    if (b > 1)
        r->bad = 1;
    *v = b;
}

void ser_fail(ser_reader *r)
{
    r->bad = 1;
}

ward_err ser_finish(const ser_reader *r)
{
    return r->bad || r->n != 0 ? WARD_ERR_BAD_STATE : WARD_OK;
}
