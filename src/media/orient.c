/* EXIF orientation: reading it from a JPEG's APP1 segment, and applying
 * it to decoded pixels. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media_internal.h"

static uint32_t rd16(const uint8_t *p, int be)
{
    return be ? (uint32_t)p[0] << 8 | p[1] : (uint32_t)p[1] << 8 | p[0];
}

static uint32_t rd32(const uint8_t *p, int be)
{
    return be ? rd16(p, 1) << 16 | rd16(p + 2, 1)
              : rd16(p + 2, 0) << 16 | rd16(p, 0);
}

/* The Orientation tag (0x0112, a SHORT) of IFD0 in the TIFF structure
 * |t|, or 0. Every offset is checked against |n| before it is read. */
static int tiff_orientation(const uint8_t *t, size_t n)
{
    if (n < 8)
        return 0;
    int be;
    if (t[0] == 'I' && t[1] == 'I')
        be = 0;
    else if (t[0] == 'M' && t[1] == 'M')
        be = 1;
    else
        return 0;
    if (rd16(t + 2, be) != 42)
        return 0;
    uint32_t ifd = rd32(t + 4, be);
    if (ifd > n - 2)
        return 0;
    uint32_t count = rd16(t + ifd, be);
    for (uint32_t i = 0; i < count; i++) {
        size_t e = (size_t)ifd + 2 + (size_t)i * 12;
        if (e + 12 > n)
            return 0;
        if (rd16(t + e, be) != 0x0112)
            continue;
        if (rd16(t + e + 2, be) != 3 || rd32(t + e + 4, be) < 1)
            return 0;
        uint32_t v = rd16(t + e + 8, be);
        return v >= 1 && v <= 8 ? (int)v : 0;
    }
    return 0;
}

int ward_media_exif_orientation(const uint8_t *p, size_t n)
{
    if (!p || n < 4 || p[0] != 0xff || p[1] != 0xd8)
        return 1;
    size_t pos = 2;
    /* Marker segments up to the first scan; each step moves |pos| on. */
    while (pos + 4 <= n) {
        if (p[pos] != 0xff)
            return 1;
        uint8_t m = p[pos + 1];
        if (m == 0xff) { /* fill byte */
            pos++;
            continue;
        }
        if (m == 0x01 || (m >= 0xd0 && m <= 0xd8)) { /* no length */
            pos += 2;
            continue;
        }
        if (m == 0xda || m == 0xd9)
            return 1;
        size_t len = (size_t)p[pos + 2] << 8 | p[pos + 3];
        if (len < 2 || len > n - pos - 2)
            return 1;
        const uint8_t *seg = p + pos + 4;
        size_t seg_len = len - 2;
        if (m == 0xe1 && seg_len >= 6 && memcmp(seg, "Exif\0\0", 6) == 0) {
            int o = tiff_orientation(seg + 6, seg_len - 6);
            if (o)
                return o;
        }
        pos += 2 + len;
    }
    return 1;
}

ward_err ward_image_orient(ward_image *img, int o)
{
    if (!img || o < 1 || o > 8 || !img->pixels || img->width == 0 ||
        img->height == 0 || (img->channels != 1 && img->channels != 3))
        return WARD_ERR_INVALID_ARG;
    size_t ch = (size_t)img->channels;
    /* A caller-made image could claim more than memory holds. */
    if ((size_t)img->width > SIZE_MAX / img->height / ch ||
        (uint64_t)img->width * img->height > (uint64_t)PTRDIFF_MAX / 4)
        return WARD_ERR_INVALID_ARG;
    if (o == 1)
        return WARD_OK;
    ptrdiff_t W = img->width, H = img->height;
    /* Output pixel (x, y) comes from input pixel base + x * dx + y * dy
     * (indices in pixels); 5..8 swap the sides. */
    ptrdiff_t base, dx, dy;
    switch (o) {
    case 2: base = W - 1, dx = -1, dy = W; break;
    case 3: base = (H - 1) * W + W - 1, dx = -1, dy = -W; break;
    case 4: base = (H - 1) * W, dx = 1, dy = -W; break;
    case 5: base = 0, dx = W, dy = 1; break;
    case 6: base = (H - 1) * W, dx = -W, dy = 1; break;
    case 7: base = (H - 1) * W + W - 1, dx = -W, dy = -1; break;
    default: base = W - 1, dx = W, dy = -1; break; /* 8 */
    }
    ptrdiff_t ow = o >= 5 ? H : W, oh = o >= 5 ? W : H;
    uint8_t *dst = malloc((size_t)W * (size_t)H * ch);
    if (!dst)
        return WARD_ERR_NOMEM;
    uint8_t *q = dst;
    for (ptrdiff_t y = 0; y < oh; y++) {
        ptrdiff_t s = base + y * dy;
        for (ptrdiff_t x = 0; x < ow; x++, s += dx, q += ch)
            memcpy(q, img->pixels + (size_t)s * ch, ch);
    }
    free(img->pixels);
    img->pixels = dst;
    img->width = (uint32_t)ow;
    img->height = (uint32_t)oh;
    return WARD_OK;
}
