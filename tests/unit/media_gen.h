/* Small test images made with the formats' own encoders (and BMP/PNM by
 * hand), so test_media needs no image files of its own. Every function
 * returns a malloc'd buffer (free()) and its length, or exits. */
#ifndef WARD_TEST_MEDIA_GEN_H
#define WARD_TEST_MEDIA_GEN_H

#include <stddef.h>
#include <stdint.h>

typedef struct gen_buf {
    uint8_t *p;
    size_t n;
} gen_buf;

/* A PNG of libspng's SPNG_FMT_PNG layout |raw| (packed rows, 16-bit
 * samples host-endian); |plte| holds |nplte| RGB triplets for palette
 * images. |interlace| uses Adam7. */
gen_buf gen_png(uint32_t w, uint32_t h, int color_type, int depth,
                const uint8_t *raw, size_t raw_len, const uint8_t *plte,
                int nplte, int interlace);

/* A GIF89a with one (or, |second_frame|, two) frames of palette indices
 * |idx|. |cmap| has |ncolors| (a power of 2) RGB triplets, global unless
 * |local|; |transparent| >= 0 adds a graphic control block. */
gen_buf gen_gif(int w, int h, const uint8_t *idx, const uint8_t *cmap,
                int ncolors, int local, int interlace, int transparent,
                int second_frame);

/* WebP from RGB pixels, lossless or lossy at quality 90. */
gen_buf gen_webp(int w, int h, const uint8_t *rgb, int lossless);

/* JPEG via tjCompress2 from |pf| (a TJPF_*) pixels. */
gen_buf gen_jpeg(int w, int h, const uint8_t *px, int pf, int subsamp,
                 int quality, int flags);

/* BMP with a 40-byte header: |bpp| 1/4/8 use |pal| (|npal| BGRX entries),
 * 16/24/32 take |rows| already in BMP pixel layout; |rows| is top to
 * bottom, |stride| bytes each, written bottom-up unless |top_down|.
 * |comp| 3 (BI_BITFIELDS) writes |masks| after the header. */
gen_buf gen_bmp(int w, int h, int bpp, int comp, const uint32_t masks[3],
                const uint8_t *pal, int npal, const uint8_t *rows,
                size_t stride, int top_down);

/* Concatenates a header string and raw bytes (for PNM). */
gen_buf gen_concat(const char *head, const uint8_t *p, size_t n);

/* CRC-32 as PNG chunks use it (for patching IHDR). */
uint32_t gen_crc32(const uint8_t *p, size_t n);

#endif
