/*
 * BMP by hand (no Debian library decodes it on its own): uncompressed
 * 1/4/8-bit palette images, 16/24/32-bit BI_RGB, and 16/32-bit
 * BI_BITFIELDS, to RGB. RLE and embedded JPEG/PNG are refused. Every
 * offset and size is checked against the file before it is read.
 */
#include <string.h>

#include "media_internal.h"

#define BI_RGB 0
#define BI_BITFIELDS 3

static uint32_t le16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const uint8_t *p)
{
    return le16(p) | le16(p + 2) << 16;
}

/* One colour channel of a bit-field pixel: its position and width. */
typedef struct field {
    unsigned shift, bits;
} field;

static int field_from_mask(uint32_t mask, field *f)
{
    f->shift = f->bits = 0;
    if (!mask)
        return 1; /* an absent channel reads as 0 */
    while (!(mask & 1))
        mask >>= 1, f->shift++;
    while (mask & 1)
        mask >>= 1, f->bits++;
    return mask == 0; /* the mask must be one run of ones */
}

static uint8_t field_get(uint32_t px, const field *f)
{
    if (!f->bits)
        return 0;
    uint64_t max = ((uint64_t)1 << f->bits) - 1;
    uint64_t v = (px >> f->shift) & max;
    return (uint8_t)((v * 255 + max / 2) / max);
}

ward_err ward_media_decode_bmp(const uint8_t *p, size_t n,
                               uint64_t max_pixels, ward_image *out,
                               char *err, size_t errlen)
{
    if (n < 14 + 12)
        return ward_media_fail(err, errlen, WARD_ERR_MALFORMED,
                               "bmp: the file is truncated");
    uint32_t off = le32(p + 10), hsize = le32(p + 14);
    int64_t w, h;
    uint32_t bpp, comp = BI_RGB, used = 0;
    int core = hsize == 12; /* OS/2 1.x: 16-bit sides, 3-byte palette */
    if (core) {
        w = le16(p + 18), h = le16(p + 20), bpp = le16(p + 24);
    } else if (hsize >= 40 && hsize <= 124 && n >= 14 + 40) {
        w = (int32_t)le32(p + 18), h = (int32_t)le32(p + 22);
        bpp = le16(p + 28), comp = le32(p + 30), used = le32(p + 46);
    } else {
        return ward_media_fail(err, errlen, WARD_ERR_MALFORMED,
                               "bmp: unknown or truncated info header");
    }
    int top_down = h < 0;
    if (top_down)
        h = -h;
    if (w < 0)
        w = 0; /* refused below */
    size_t size;
    ward_err e = ward_media_check_size("bmp", (uint64_t)w, (uint64_t)h, 3,
                                       max_pixels, &size, err, errlen);
    if (e)
        return e;

    field rgb[3];
    const uint8_t *pal = NULL;
    uint32_t ncolors = 0, entry = core ? 3 : 4;
    size_t after_hdr = 14 + (size_t)hsize;
    if (comp == BI_RGB && (bpp == 1 || bpp == 4 || bpp == 8)) {
        ncolors = used && used < (1u << bpp) ? used : 1u << bpp;
        if (after_hdr > n || (n - after_hdr) / entry < ncolors)
            return ward_media_fail(err, errlen, WARD_ERR_MALFORMED,
                                   "bmp: the palette is truncated");
        pal = p + after_hdr;
    } else if (comp == BI_RGB && (bpp == 24 || bpp == 32)) {
        rgb[0] = (field){16, 8}, rgb[1] = (field){8, 8}, rgb[2] = (field){0, 8};
    } else if (comp == BI_RGB && bpp == 16) {
        rgb[0] = (field){10, 5}, rgb[1] = (field){5, 5}, rgb[2] = (field){0, 5};
    } else if (comp == BI_BITFIELDS && (bpp == 16 || bpp == 32) && !core) {
        /* The masks follow a 40-byte header, or sit inside a longer one. */
        if (n < 14 + 40 + 12)
            return ward_media_fail(err, errlen, WARD_ERR_MALFORMED,
                                   "bmp: the colour masks are truncated");
        const uint8_t *m = p + 14 + 40;
        for (int c = 0; c < 3; c++)
            if (!field_from_mask(le32(m + 4 * c), &rgb[c]))
                return ward_media_fail(err, errlen, WARD_ERR_MALFORMED,
                                       "bmp: a colour mask is not contiguous");
    } else {
        return ward_media_fail(err, errlen, WARD_ERR_MALFORMED,
                               "bmp: %u-bit images with compression %u are "
                               "not supported", bpp, comp);
    }

    /* Rows are padded to 4 bytes; bottom-up unless the height is
     * negative. w * bpp fits 64 bits (w < 2^32, bpp <= 32). */
    uint64_t stride = ((uint64_t)w * bpp + 31) / 32 * 4;
    if (off > n || stride > (n - off) / (uint64_t)h)
        return ward_media_fail(err, errlen, WARD_ERR_MALFORMED,
                               "bmp: the pixel data is truncated");
    e = ward_media_alloc("bmp", (uint32_t)w, (uint32_t)h, 3, size, out, err,
                         errlen);
    if (e)
        return e;
    for (int64_t y = 0; y < h; y++) {
        const uint8_t *row = p + off + (size_t)(top_down ? y : h - 1 - y) * stride;
        uint8_t *dst = out->pixels + (size_t)y * (size_t)w * 3;
        for (int64_t x = 0; x < w; x++, dst += 3) {
            if (pal) {
                unsigned per = 8 / bpp, byte = row[x / per];
                unsigned shift = (unsigned)(per - 1 - x % per) * bpp;
                unsigned i = (byte >> shift) & ((1u << bpp) - 1);
                /* Past the palette: colour 0, as ImageMagick does. */
                const uint8_t *c = pal + (size_t)(i < ncolors ? i : 0) * entry;
                dst[0] = c[2], dst[1] = c[1], dst[2] = c[0];
                continue;
            }
            const uint8_t *s = row + (size_t)x * (bpp / 8);
            uint32_t px = bpp == 16 ? le16(s)
                          : bpp == 24 ? (uint32_t)s[0] | (uint32_t)s[1] << 8 |
                                            (uint32_t)s[2] << 16
                                      : le32(s);
            for (int c = 0; c < 3; c++)
                dst[c] = field_get(px, &rgb[c]);
        }
    }
    return WARD_OK;
}
