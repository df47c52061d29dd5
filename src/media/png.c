/* PNG through libspng: no longjmp, a memory buffer, limits on chunk
 * memory, and CRC and Adler-32 checks left on (a corrupt file is refused). */
#include <spng.h>
#include <stdlib.h>

#include "media_internal.h"

/* Ancillary chunks (text, ICC profiles, EXIF) are kept in memory by
 * libspng; this caps what one file can make it hold. */
#define PNG_CHUNK_MAX ((size_t)16 << 20)
#define PNG_CACHE_MAX ((size_t)64 << 20)

static ward_err spng_fail(int rc, const char *what, char *err, size_t errlen)
{
    return ward_media_fail(err, errlen,
                           rc == SPNG_EMEM ? WARD_ERR_NOMEM
                                           : WARD_ERR_MALFORMED,
                           "png: %s (%s)", what, spng_strerror(rc));
}

/* The libspng output format to decode |ihdr| into, and how many bytes
 * per pixel it has. Only RGB8 is what ward keeps as is; the others are
 * reduced by reduce() below. */
static int pick_format(const struct spng_ihdr *ihdr, size_t *bpp)
{
    switch (ihdr->color_type) {
    case SPNG_COLOR_TYPE_GRAYSCALE:
        if (ihdr->bit_depth <= 8)
            return *bpp = 1, SPNG_FMT_G8;
        return *bpp = 4, SPNG_FMT_GA16;
    case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA:
        if (ihdr->bit_depth == 8)
            return *bpp = 2, SPNG_FMT_GA8;
        return *bpp = 4, SPNG_FMT_GA16;
    default: /* truecolour, palette, truecolour + alpha */
        if (ihdr->bit_depth <= 8)
            return *bpp = 3, SPNG_FMT_RGB8;
        return *bpp = 8, SPNG_FMT_RGBA16;
    }
}

/* From libspng's output to ward's: 16-bit samples keep their high byte
 * (libspng's 16-bit formats are host-endian), alpha is dropped without
 * compositing. */
static void reduce(const uint8_t *src, int fmt, uint8_t *dst, size_t pixels)
{
    const uint16_t *s16 = (const uint16_t *)(const void *)src;
    for (size_t i = 0; i < pixels; i++) {
        switch (fmt) {
        case SPNG_FMT_GA8:
            dst[i] = src[2 * i];
            break;
        case SPNG_FMT_GA16:
            dst[i] = (uint8_t)(s16[2 * i] >> 8);
            break;
        case SPNG_FMT_RGBA16:
            dst[3 * i] = (uint8_t)(s16[4 * i] >> 8);
            dst[3 * i + 1] = (uint8_t)(s16[4 * i + 1] >> 8);
            dst[3 * i + 2] = (uint8_t)(s16[4 * i + 2] >> 8);
            break;
        }
    }
}

ward_err ward_media_decode_png(const uint8_t *p, size_t n,
                               uint64_t max_pixels, ward_image *out,
                               char *err, size_t errlen)
{
    ward_err e = WARD_OK;
    uint8_t *tmp = NULL;
    int rc;
    spng_ctx *ctx = spng_ctx_new(0);
    if (!ctx)
        return ward_media_fail(err, errlen, WARD_ERR_NOMEM,
                               "png: cannot start the decoder");
    struct spng_ihdr ihdr;
    if ((rc = spng_set_chunk_limits(ctx, PNG_CHUNK_MAX, PNG_CACHE_MAX)) ||
        (rc = spng_set_png_buffer(ctx, p, n))) {
        e = spng_fail(rc, "cannot start the decoder", err, errlen);
        goto done;
    }
    if ((rc = spng_get_ihdr(ctx, &ihdr))) {
        e = spng_fail(rc, "cannot read the header", err, errlen);
        goto done;
    }
    int channels = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE ||
                           ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA
                       ? 1
                       : 3;
    size_t bpp, size, len;
    int fmt = pick_format(&ihdr, &bpp);
    /* Checked at the widest buffer this decode needs. */
    e = ward_media_check_size("png", ihdr.width, ihdr.height, (int)bpp,
                              max_pixels, &size, err, errlen);
    if (e)
        goto done;
    if ((rc = spng_decoded_image_size(ctx, fmt, &len)) || len != size) {
        e = spng_fail(rc ? rc : SPNG_EINTERNAL, "unexpected image size", err,
                      errlen);
        goto done;
    }
    size_t pixels = size / bpp;
    uint8_t *dst;
    if (fmt != SPNG_FMT_G8 && fmt != SPNG_FMT_RGB8) {
        if (!(tmp = malloc(size))) {
            e = ward_media_fail(err, errlen, WARD_ERR_NOMEM,
                                "png: out of memory for %ux%u pixels",
                                ihdr.width, ihdr.height);
            goto done;
        }
        size = pixels * (size_t)channels;
    }
    e = ward_media_alloc("png", ihdr.width, ihdr.height, channels, size, out,
                         err, errlen);
    if (e)
        goto done;
    dst = tmp ? tmp : out->pixels;
    /* No flags: no tRNS, no gamma; the samples as stored. */
    if ((rc = spng_decode_image(ctx, dst, len, fmt, 0))) {
        e = spng_fail(rc, "truncated or corrupt data", err, errlen);
        goto done;
    }
    if (tmp)
        reduce(tmp, fmt, out->pixels, pixels);
done:
    if (e)
        ward_image_free(out);
    free(tmp);
    spng_ctx_free(ctx);
    return e;
}
