#include "ser.h"

#include <string.h>

void ward_ser_bytes(ward_ser_writer *w, const void *p, size_t n)
{
    if (!w->err)
        w->err = ward_buf_append(w->out, p, n);
}

void ward_ser_magic(ward_ser_writer *w, const char magic[3], uint8_t format)
{
    ward_ser_bytes(w, magic, 3);
    ward_ser_u8(w, format);
}

void ward_ser_u8(ward_ser_writer *w, uint8_t v)
{
    ward_ser_bytes(w, &v, 1);
}

void ward_ser_u32(ward_ser_writer *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                    (uint8_t)(v >> 24)};
    ward_ser_bytes(w, b, 4);
}

void ward_ser_u64(ward_ser_writer *w, uint64_t v)
{
    ward_ser_u32(w, (uint32_t)v);
    ward_ser_u32(w, (uint32_t)(v >> 32));
}

void ward_ser_read_bytes(ward_ser_reader *r, void *p, size_t n)
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

void ward_ser_expect_magic(ward_ser_reader *r, const char magic[3], uint8_t format)
{
    uint8_t m[4];
    ward_ser_read_bytes(r, m, 4);
    if (memcmp(m, magic, 3) != 0 || m[3] != format)
        r->bad = 1;
}

void ward_ser_read_u8(ward_ser_reader *r, uint8_t *v)
{
    ward_ser_read_bytes(r, v, 1);
}

void ward_ser_read_u32(ward_ser_reader *r, uint32_t *v)
{
    uint8_t b[4];
    ward_ser_read_bytes(r, b, 4);
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
         (uint32_t)b[3] << 24;
}

void ward_ser_read_u64(ward_ser_reader *r, uint64_t *v)
{
    uint32_t lo, hi;
    ward_ser_read_u32(r, &lo);
    ward_ser_read_u32(r, &hi);
    *v = (uint64_t)hi << 32 | lo;
}

void ward_ser_read_flag(ward_ser_reader *r, int *v)
{
    uint8_t b;
    ward_ser_read_u8(r, &b);
    if (b > 1)
        r->bad = 1;
    *v = b;
}

void ward_ser_fail(ward_ser_reader *r)
{
    r->bad = 1;
}

ward_err ward_ser_finish(const ward_ser_reader *r)
{
    return r->bad || r->n != 0 ? WARD_ERR_BAD_STATE : WARD_OK;
}
