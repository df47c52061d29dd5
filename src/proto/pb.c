#include "pb.h"

static int read_varint(ward_pb_reader *r, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0, i = 0; i < 10; i++, shift += 7) {
        if (r->n == 0)
            return -1;
        uint8_t byte = *r->p++;
        r->n--;
        /* The tenth byte may only carry the top bit of a 64-bit value. */
        if (i == 9 && byte > 1)
            return -1;
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

int ward_pb_next(ward_pb_reader *r, ward_pb_field *f)
{
    if (r->n == 0)
        return 0;
    uint64_t key;
    if (read_varint(r, &key) != 0)
        return -1;
    if ((key >> 3) == 0 || (key >> 3) > 0x1fffffff)
        return -1;
    f->number = (uint32_t)(key >> 3);
    f->type = (int)(key & 7);
    f->data = NULL;
    f->len = 0;
    f->varint = 0;
    switch (f->type) {
    case PB_VARINT:
        return read_varint(r, &f->varint) == 0 ? 1 : -1;
    case PB_LEN: {
        uint64_t len;
        if (read_varint(r, &len) != 0 || len > r->n)
            return -1;
        f->data = r->p;
        f->len = (size_t)len;
        r->p += len;
        r->n -= (size_t)len;
        return 1;
    }
    case PB_FIXED64:
    case PB_FIXED32: {
        size_t len = f->type == PB_FIXED64 ? 8 : 4;
        if (r->n < len)
            return -1;
        f->data = r->p;
        f->len = len;
        r->p += len;
        r->n -= len;
        return 1;
    }
    default: /* groups (3, 4) and undefined types */
        return -1;
    }
}

int ward_pb_get_u32(const ward_pb_field *f, uint32_t *out)
{
    if (f->type != PB_VARINT || f->varint > UINT32_MAX)
        return -1;
    *out = (uint32_t)f->varint;
    return 0;
}

ward_err ward_pb_put_raw_varint(ward_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            tmp[n] |= 0x80;
        n++;
    } while (v);
    return ward_buf_append(b, tmp, n);
}

ward_err ward_pb_put_varint(ward_buf *b, uint32_t number, uint64_t v)
{
    ward_err e = ward_pb_put_raw_varint(b, ((uint64_t)number << 3) | PB_VARINT);
    return e ? e : ward_pb_put_raw_varint(b, v);
}

ward_err ward_pb_put_bytes(ward_buf *b, uint32_t number, const void *p, size_t n)
{
    ward_err e = ward_pb_put_raw_varint(b, ((uint64_t)number << 3) | PB_LEN);
    if (!e)
        e = ward_pb_put_raw_varint(b, n);
    if (!e)
        e = ward_buf_append(b, p, n);
    return e;
}
