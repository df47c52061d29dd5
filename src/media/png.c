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

/* How libspng's output becomes ward's. */
enum reduce { KEEP, GA8_TO_G, GA16_TO_G, RGBA16_TO_RGB };

/* The libspng output format to decode |ihdr| into, its bytes per pixel,
 * and the reduction after it. libspng converts grey to G8 (scaling 1, 2
 * and 4 bits) and anything to RGB8, but has no 16-to-8 grey format and no
 * grey-without-alpha for grey+alpha files: those come out in the file's
 * own layout (SPNG_FMT_PNG, host-endian) or as GA16/RGBA16. */
static int pick_format(const struct spng_ihdr *ihdr, size_t *bpp,
                       enum reduce *r)
{
    int wide = ihdr->bit_depth == 16;
    switch (ihdr->color_type) {
    case SPNG_COLOR_TYPE_GRAYSCALE:
        if (!wide)
            return *bpp = 1, *r = KEEP, SPNG_FMT_G8;
        return *bpp = 4, *r = GA16_TO_G, SPNG_FMT_GA16;
    case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA:
        *bpp = wide ? 4 : 2, *r = wide ? GA16_TO_G : GA8_TO_G;
        return SPNG_FMT_PNG;
    default: /* truecolour, palette, truecolour + alpha */
        if (!wide)
            return *bpp = 3, *r = KEEP, SPNG_FMT_RGB8;
        return *bpp = 8, *r = RGBA16_TO_RGB, SPNG_FMT_RGBA16;
    }
}

/* 16-bit samples (host-endian here) keep their high byte; alpha is
 * dropped without compositing. */
static void reduce(const uint8_t *src, enum reduce r, uint8_t *dst,
                   size_t pixels)
{
    const uint16_t *s16 = (const uint16_t *)(const void *)src;
    for (size_t i = 0; i < pixels; i++) {
        switch (r) {
        case GA8_TO_G:
            dst[i] = src[2 * i];
            break;
        case GA16_TO_G:
            dst[i] = (uint8_t)(s16[2 * i] >> 8);
            break;
        case RGBA16_TO_RGB:
            dst[3 * i] = (uint8_t)(s16[4 * i] >> 8);
            dst[3 * i + 1] = (uint8_t)(s16[4 * i + 1] >> 8);
            dst[3 * i + 2] = (uint8_t)(s16[4 * i + 2] >> 8);
            break;
        case KEEP:
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
    enum reduce r;
    int fmt = pick_format(&ihdr, &bpp, &r);
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
    if (r != KEEP) {
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
    /* libspng stops once it has the pixels; reading on to IEND checks the
     * last CRCs, so a file cut short after its image data is refused too. */
    if ((rc = spng_decode_chunks(ctx))) {
        e = spng_fail(rc, "truncated or corrupt data after the image", err,
                      errlen);
        goto done;
    }
    if (tmp)
        reduce(tmp, r, out->pixels, pixels);
done:
    if (e)
        ward_image_free(out);
    free(tmp);
    spng_ctx_free(ctx);
    return e;
}
