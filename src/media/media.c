/* Format sniffing, the decoder table and the checks every decoder shares. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media_internal.h"

ward_media_format ward_media_sniff(const uint8_t *p, size_t n)
{
    static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (!p)
        return WARD_MEDIA_UNKNOWN;
    if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
        return WARD_MEDIA_JPEG;
    if (n >= 8 && memcmp(p, png, 8) == 0)
        return WARD_MEDIA_PNG;
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return WARD_MEDIA_WEBP;
    if (n >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
        return WARD_MEDIA_GIF;
    if (n >= 2 && p[0] == 'B' && p[1] == 'M')
        return WARD_MEDIA_BMP;
    /* "P1".."P6" and the whitespace the format requires after it, so a
     * text file that happens to start with "P3" is less likely to match. */
    if (n >= 3 && p[0] == 'P' && p[1] >= '1' && p[1] <= '6' &&
        (p[2] == ' ' || p[2] == '\t' || p[2] == '\n' || p[2] == '\r' ||
         p[2] == '#'))
        return WARD_MEDIA_PNM;
    return WARD_MEDIA_UNKNOWN;
}

const char *ward_media_format_name(ward_media_format f)
{
    switch (f) {
    case WARD_MEDIA_JPEG: return "jpeg";
    case WARD_MEDIA_PNG: return "png";
    case WARD_MEDIA_WEBP: return "webp";
    case WARD_MEDIA_GIF: return "gif";
    case WARD_MEDIA_BMP: return "bmp";
    case WARD_MEDIA_PNM: return "pnm";
    case WARD_MEDIA_UNKNOWN: break;
    }
    return "unknown";
}

ward_err ward_media_fail(char *err, size_t errlen, ward_err code,
                         const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

ward_err ward_media_check_size(const char *name, uint64_t width,
                               uint64_t height, int channels,
                               uint64_t max_pixels, size_t *size, char *err,
                               size_t errlen)
{
    if (width == 0 || height == 0)
        return ward_media_fail(err, errlen, WARD_ERR_MALFORMED,
                               "%s: the header gives a zero width or height",
                               name);
    /* Neither side is above 2^32 here, so the product cannot overflow
     * 64 bits; the division test keeps that true if a caller changes. */
    if (width > UINT32_MAX || height > UINT32_MAX ||
        width > max_pixels / height)
        return ward_media_fail(
            err, errlen, WARD_ERR_LIMIT,
            "%s: %llux%llu pixels is more than the limit of %llu", name,
            (unsigned long long)width, (unsigned long long)height,
            (unsigned long long)max_pixels);
    uint64_t bytes = width * height;
    if (channels <= 0 || bytes > SIZE_MAX / (uint64_t)channels)
        return ward_media_fail(err, errlen, WARD_ERR_LIMIT,
                               "%s: the image is too large for memory", name);
    *size = (size_t)(bytes * (uint64_t)channels);
    return WARD_OK;
}

ward_err ward_media_alloc(const char *name, uint32_t width, uint32_t height,
                          int channels, size_t size, ward_image *out,
                          char *err, size_t errlen)
{
    uint8_t *px = malloc(size);
    if (!px)
        return ward_media_fail(err, errlen, WARD_ERR_NOMEM,
                               "%s: out of memory for %ux%u pixels", name,
                               width, height);
    out->width = width;
    out->height = height;
    out->channels = channels;
    out->pixels = px;
    return WARD_OK;
}

void ward_image_free(ward_image *img)
{
    if (!img)
        return;
    free(img->pixels);
    memset(img, 0, sizeof *img);
}

ward_err ward_media_decode(const uint8_t *p, size_t n,
                           const ward_media_opts *o, ward_image *out,
                           char *err, size_t errlen)
{
    if (err && errlen > 0)
        err[0] = '\0';
    if (!out)
        return ward_media_fail(err, errlen, WARD_ERR_INVALID_ARG,
                               "media: no image to decode into");
    memset(out, 0, sizeof *out);
    if (!p && n > 0)
        return ward_media_fail(err, errlen, WARD_ERR_INVALID_ARG,
                               "media: no bytes to decode");
    uint64_t max = o && o->max_pixels ? o->max_pixels
                                      : WARD_MEDIA_DEFAULT_MAX_PIXELS;
    ward_media_decoder *dec = NULL;
    switch (ward_media_sniff(p, n)) {
    case WARD_MEDIA_JPEG: dec = ward_media_decode_jpeg; break;
    case WARD_MEDIA_PNG: dec = ward_media_decode_png; break;
    case WARD_MEDIA_WEBP: dec = ward_media_decode_webp; break;
    case WARD_MEDIA_GIF: dec = ward_media_decode_gif; break;
    case WARD_MEDIA_BMP: dec = ward_media_decode_bmp; break;
    case WARD_MEDIA_PNM: dec = ward_media_decode_pnm; break;
    case WARD_MEDIA_UNKNOWN:
        return ward_media_fail(
            err, errlen, WARD_ERR_MALFORMED,
            n == 0 ? "media: the file is empty"
                   : "media: not a jpeg, png, webp, gif, bmp or pnm file");
    }
    ward_err e = dec(p, n, max, out, err, errlen);
    if (e != WARD_OK)
        ward_image_free(out);
    return e;
}
