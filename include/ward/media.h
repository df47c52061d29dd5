/*
 * ward — media: decodes untrusted image files into 8-bit pixels for the
 * PDQ hasher. JPEG (libturbojpeg), PNG (libspng), WebP (libwebp), GIF
 * (giflib), and BMP and PNM by hand. Every decoder checks the pixel count
 * that the header claims before it allocates pixels, and turns every
 * library failure, truncation or corruption into an error: no input crashes
 * or hangs it.
 *
 * What each format becomes (the pixels must match what Meta's reference
 * hasher decodes, so the choices follow it; see docs/media.md):
 * - JPEG: libjpeg-turbo's default decode (ISLOW IDCT, fancy upsampling),
 *   the same pixels as `djpeg -pnm`. Grey JPEGs stay 1 channel. CMYK and
 *   YCCK JPEGs are read as Adobe (inverted) CMYK, as ImageMagick does:
 *   R = round(C * K / 255) on the stored samples, likewise G and B.
 *   Libjpeg warnings (a truncated file, corrupt entropy data) are errors.
 * - PNG: grey (1, 2, 4, 8, 16 bits; with or without alpha) becomes 1
 *   channel, everything else RGB. 16-bit samples keep their high byte;
 *   1/2/4-bit grey is scaled to 0..255; alpha and tRNS are dropped without
 *   compositing; no gamma or colour-profile correction.
 * - WebP: still images, lossy or lossless, to RGB; alpha dropped.
 * - GIF: the first frame, at its own size (not the logical screen), its
 *   palette mapped to RGB; the transparent index keeps its palette colour.
 * - BMP: uncompressed 1/4/8-bit palette, 24-bit and 32-bit (BI_RGB, or
 *   BI_BITFIELDS with 8-bit masks), to RGB.
 * - PNM: P1..P6 (any maxval up to 65535, scaled to 0..255); P1/P2/P4/P5 are
 *   grey, P3/P6 RGB.
 */
#ifndef WARD_MEDIA_H
#define WARD_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "ward/err.h"

typedef enum ward_media_format {
    WARD_MEDIA_UNKNOWN = 0,
    WARD_MEDIA_JPEG,
    WARD_MEDIA_PNG,
    WARD_MEDIA_WEBP,
    WARD_MEDIA_GIF,
    WARD_MEDIA_BMP,
    WARD_MEDIA_PNM
} ward_media_format;

/* A decoded image. The caller owns |pixels| (free with ward_image_free). */
typedef struct ward_image {
    uint32_t width, height;
    int channels;    /* 1 (grey) or 3 (RGB, 8 bits each); alpha dropped,
                        CMYK converted to RGB, 16-bit reduced to 8 */
    uint8_t *pixels; /* width * height * channels bytes, rows top to
                        bottom, no padding */
} ward_image;

/* The default for ward_media_opts.max_pixels. */
#define WARD_MEDIA_DEFAULT_MAX_PIXELS 100000000u

typedef struct ward_media_opts {
    uint64_t max_pixels; /* 0: WARD_MEDIA_DEFAULT_MAX_PIXELS */
} ward_media_opts;

/* The format of |p| by its magic bytes (never by a file name), or
 * WARD_MEDIA_UNKNOWN. Reads at most the first 12 bytes. */
ward_media_format ward_media_sniff(const uint8_t *p, size_t n);

/* "jpeg", "png", "webp", "gif", "bmp", "pnm", or "unknown". Static. */
const char *ward_media_format_name(ward_media_format f);

/*
 * Decodes the first image (or frame) of the |n| bytes at |p| (format by
 * ward_media_sniff). |o| may be NULL for the defaults.
 * Returns WARD_OK and fills |out|, or:
 * - WARD_ERR_MALFORMED: an unknown format, or a corrupt, truncated or
 *   unsupported file (an animated WebP, a 12-bit JPEG, a compressed BMP);
 * - WARD_ERR_LIMIT: the header claims more than max_pixels pixels; refused
 *   before any pixel memory is allocated;
 * - WARD_ERR_NOMEM;
 * - WARD_ERR_INVALID_ARG: |out| is NULL, or |p| is NULL with |n| > 0.
 * On failure |out| is zeroed and, when |err| is not NULL, |err| (|errlen|
 * bytes) gets a lowercase sentence naming the format and the problem.
 */
ward_err ward_media_decode(const uint8_t *p, size_t n,
                           const ward_media_opts *o, ward_image *out,
                           char *err, size_t errlen);

/* Frees the pixels and zeroes |img|; NULL or an empty image is fine. */
void ward_image_free(ward_image *img);

/* The EXIF orientation (1..8) of a JPEG (from its APP1 Exif segment), or 1
 * when there is none, it is out of range, or the bytes are not a readable
 * JPEG. Never fails, whatever the bytes. */
int ward_media_exif_orientation(const uint8_t *p, size_t n);

/*
 * Applies EXIF orientation |o| to |img| in place, so the pixels are as the
 * photo is meant to be seen: 1 does nothing, 2 mirrors left-right, 3
 * rotates 180, 4 mirrors top-bottom, 5 transposes, 6 rotates 90 degrees
 * clockwise, 7 transverses, 8 rotates 90 degrees counter-clockwise. 5..8
 * swap width and height. May reallocate |img->pixels|. WARD_ERR_INVALID_ARG
 * for |o| outside 1..8 or a bad image, WARD_ERR_NOMEM (|img| unchanged).
 */
ward_err ward_image_orient(ward_image *img, int o);

#endif
