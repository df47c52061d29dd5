/* The WebP decoder (libwebp). */
#include "fuzz_media.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (!getenv("WARD_FUZZ_WRITE_SEEDS"))
        return 0;
    uint8_t *rgb = fuzz_media_picture(16, 12, 3);
    fuzz_media_seed("lossless", gen_webp(16, 12, rgb, 1));
    fuzz_media_seed("lossy", gen_webp(16, 12, rgb, 0));
    free(rgb);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    ward_image img;
    fuzz_media_decode(ward_media_decode_webp, p, n, &img);
    ward_image_free(&img);
    return 0;
}
