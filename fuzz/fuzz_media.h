/* Shared by the fuzz_media_<format> targets: each feeds its bytes to one
 * decoder (media_internal.h), past ward_media_sniff, and checks the
 * decoder's contract whatever it returns. */
#ifndef WARD_FUZZ_MEDIA_H
#define WARD_FUZZ_MEDIA_H

#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "media_gen.h"
#include "media_internal.h"

/* Small enough that a header near the limit cannot exhaust libFuzzer's
 * memory budget (16 Mpixels: 64 MB of CMYK, plus libjpeg's own buffers). */
#define FUZZ_MEDIA_MAX_PIXELS (16u << 20)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

static inline void fuzz_media_decode(ward_media_decoder *dec,
                                     const uint8_t *p, size_t n,
                                     ward_image *img)
{
    char err[256] = "";
    memset(img, 0, sizeof *img);
    ward_err e = dec(p, n, FUZZ_MEDIA_MAX_PIXELS, img, err, sizeof err);
    if (e == WARD_OK) {
        FUZZ_ASSERT(img->pixels && img->width && img->height);
        FUZZ_ASSERT(img->channels == 1 || img->channels == 3);
        FUZZ_ASSERT((uint64_t)img->width * img->height <= FUZZ_MEDIA_MAX_PIXELS);
        /* ASan checks that the buffer is as long as the image says. */
        size_t last = (size_t)img->width * img->height * (size_t)img->channels - 1;
        volatile uint8_t x = img->pixels[last];
        (void)x;
    } else {
        FUZZ_ASSERT(e == WARD_ERR_MALFORMED || e == WARD_ERR_LIMIT ||
                    e == WARD_ERR_NOMEM);
        FUZZ_ASSERT(!img->pixels && !img->width && !img->height);
        FUZZ_ASSERT(err[0] != '\0'); /* every failure says why */
    }
}

/* Writes |b| as a seed and frees it. */
static inline void fuzz_media_seed(const char *name, gen_buf b)
{
    fuzz_write_seed(name, b.p, b.n);
    free(b.p);
}

/* A small test picture for the seeds. */
static inline uint8_t *fuzz_media_picture(int w, int h, int ch)
{
    uint8_t *px = malloc((size_t)w * (size_t)h * (size_t)ch);
    FUZZ_ASSERT(px);
    for (int i = 0; i < w * h * ch; i++)
        px[i] = (uint8_t)(i * 7 + (i / (w * ch)) * 13);
    return px;
}

#endif
