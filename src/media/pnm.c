/*
 * PNM by hand: P1/P4 (bitmap), P2/P5 (grey), P3/P6 (RGB), maxval 1..65535
 * scaled to 0..255 (255 stays exact). Samples above maxval are refused, as
 * netpbm does. The header is read with a bounded tokenizer, and the data
 * is checked to be long enough before the pixels are allocated.
 */
#include "media_internal.h"

typedef struct cursor {
    const uint8_t *p;
    size_t n, off;
} cursor;

static int is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

/* Skips whitespace and '#' comments (to the end of the line). */
static void skip_blank(cursor *c)
{
    while (c->off < c->n) {
        if (is_space(c->p[c->off])) {
            c->off++;
        } else if (c->p[c->off] == '#') {
            while (c->off < c->n && c->p[c->off] != '\n' && c->p[c->off] != '\r')
                c->off++;
        } else {
            break;
        }
    }
}

/* A decimal number up to |max| (more digits than that is an error): 0, or
 * -1 for a missing or out-of-range number. */
static int read_uint(cursor *c, uint32_t max, uint32_t *v)
{
    skip_blank(c);
    uint64_t x = 0;
    size_t start = c->off;
    while (c->off < c->n && c->p[c->off] >= '0' && c->p[c->off] <= '9') {
        x = x * 10 + (uint64_t)(c->p[c->off++] - '0');
        if (x > max)
            return -1;
    }
    if (c->off == start)
        return -1;
    *v = (uint32_t)x;
    return 0;
}

static uint8_t scale(uint32_t v, uint32_t maxval)
{
    return maxval == 255 ? (uint8_t)v
                         : (uint8_t)(((uint64_t)v * 255 + maxval / 2) / maxval);
}

/* One sample of a P1/P2/P3 raster, or -1. P1 digits need no separator. */
static int read_ascii(cursor *c, int bitmap, uint32_t maxval, uint32_t *v)
{
    if (!bitmap)
        return read_uint(c, maxval, v);
    skip_blank(c);
    if (c->off >= c->n || (c->p[c->off] != '0' && c->p[c->off] != '1'))
        return -1;
    *v = c->p[c->off++] == '0'; /* 1 is black */
    return 0;
}

ward_err ward_media_decode_pnm(const uint8_t *p, size_t n,
                               uint64_t max_pixels, ward_image *out,
                               char *err, size_t errlen)
{
    if (n < 3 || p[0] != 'P' || p[1] < '1' || p[1] > '6')
        return ward_media_fail(err, errlen, WARD_ERR_MALFORMED,
                               "pnm: not a pnm file");
    int kind = p[1] - '0';
    int bitmap = kind == 1 || kind == 4, ascii = kind <= 3;
    int channels = kind == 3 || kind == 6 ? 3 : 1;
    cursor c = {p, n, 2};
    uint32_t w, h, maxval = 1;
    if (read_uint(&c, UINT32_MAX, &w) || read_uint(&c, UINT32_MAX, &h) ||
        (!bitmap && read_uint(&c, 65535, &maxval)) || maxval == 0)
        return ward_media_fail(err, errlen, WARD_ERR_MALFORMED,
                               "pnm: bad or truncated header");
    size_t size;
    ward_err e = ward_media_check_size("pnm", w, h, channels, max_pixels,
                                       &size, err, errlen);
    if (e)
        return e;
    /* Binary rasters start after exactly one whitespace byte. */
    if (!ascii && (c.off >= n || !is_space(p[c.off])))
        return ward_media_fail(err, errlen, WARD_ERR_MALFORMED,
                               "pnm: bad or truncated header");
    if (!ascii)
        c.off++;
    /* The smallest raster the header allows: a bit a pixel for P4, a byte
     * a sample for the others (ASCII needs at least that), two bytes a
     * sample for 16-bit binary. None of these can overflow: P4's is below
     * |size|, and 16-bit compares |left| / 2. */
    size_t left = n - c.off;
    int wide = maxval > 255;
    size_t need = kind == 4 ? ((size_t)w + 7) / 8 * h : size;
    if (left < need || (wide && !ascii && left / 2 < size))
        return ward_media_fail(err, errlen, WARD_ERR_MALFORMED,
                               "pnm: the pixel data is truncated");
    e = ward_media_alloc("pnm", w, h, channels, size, out, err, errlen);
    if (e)
        return e;
    uint8_t *dst = out->pixels;
    if (kind == 4) {
        size_t stride = ((size_t)w + 7) / 8;
        for (size_t y = 0; y < h; y++)
            for (size_t x = 0; x < w; x++)
                *dst++ = (p[c.off + y * stride + x / 8] >> (7 - x % 8)) & 1 ? 0 : 255;
        return WARD_OK;
    }
    const uint8_t *s = p + c.off;
    for (size_t i = 0; i < size; i++) {
        uint32_t v;
        if (ascii) {
            if (read_ascii(&c, bitmap, maxval, &v)) {
                ward_image_free(out);
                return ward_media_fail(err, errlen, WARD_ERR_MALFORMED,
                                       "pnm: bad or missing sample");
            }
        } else {
            v = wide ? (uint32_t)s[2 * i] << 8 | s[2 * i + 1] : s[i];
            if (v > maxval) {
                ward_image_free(out);
                return ward_media_fail(err, errlen, WARD_ERR_MALFORMED,
                                       "pnm: a sample is above maxval");
            }
        }
        dst[i] = scale(v, maxval);
    }
    return WARD_OK;
}
