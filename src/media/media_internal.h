/* Private to the media module: one decoder per format, and the checks
 * every decoder shares. The fuzz targets call the decoders directly. */
#ifndef WARD_MEDIA_INTERNAL_H
#define WARD_MEDIA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ward/media.h"

/*
 * Each decoder: |max_pixels| is already resolved (never 0); |out| is
 * zeroed on entry and left zeroed on failure; |err| is NULL or holds
 * |errlen| bytes. Same return codes as ward_media_decode.
 */
typedef ward_err ward_media_decoder(const uint8_t *p, size_t n,
                                    uint64_t max_pixels, ward_image *out,
                                    char *err, size_t errlen);

ward_media_decoder ward_media_decode_jpeg;
ward_media_decoder ward_media_decode_png;
ward_media_decoder ward_media_decode_webp;
ward_media_decoder ward_media_decode_gif;
ward_media_decoder ward_media_decode_bmp;
ward_media_decoder ward_media_decode_pnm;

/* Writes "<fmt>: <message>" into |err| (when not NULL) and returns |code|. */
ward_err ward_media_fail(char *err, size_t errlen, ward_err code,
                         const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * The shared gate before any pixel allocation: a zero side is
 * WARD_ERR_MALFORMED, more than |max_pixels| pixels WARD_ERR_LIMIT, and
 * otherwise |*size| gets width * height * channels (checked for overflow)
 * and the caller may allocate. |name| prefixes the message.
 */
ward_err ward_media_check_size(const char *name, uint64_t width,
                               uint64_t height, int channels,
                               uint64_t max_pixels, size_t *size, char *err,
                               size_t errlen);

/* malloc of a size that passed ward_media_check_size; fills |out| and
 * returns WARD_OK, or WARD_ERR_NOMEM with a message. */
ward_err ward_media_alloc(const char *name, uint32_t width, uint32_t height,
                          int channels, size_t size, ward_image *out,
                          char *err, size_t errlen);

#endif
