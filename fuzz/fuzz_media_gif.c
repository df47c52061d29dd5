/* The GIF decoder (giflib, first frame). */
#include "fuzz_media.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (!getenv("WARD_FUZZ_WRITE_SEEDS"))
        return 0;
    static const uint8_t cmap[4 * 3] = {0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255};
    uint8_t *idx = fuzz_media_picture(16, 12, 1);
    for (int i = 0; i < 16 * 12; i++)
        idx[i] &= 3;
    fuzz_media_seed("plain", gen_gif(16, 12, idx, cmap, 4, 0, 0, -1, 0));
    fuzz_media_seed("interlaced-local", gen_gif(16, 12, idx, cmap, 4, 1, 1, -1, 0));
    fuzz_media_seed("transparent-2frames", gen_gif(16, 12, idx, cmap, 4, 0, 0, 1, 1));
    free(idx);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    ward_image img;
    fuzz_media_decode(ward_media_decode_gif, p, n, &img);
    ward_image_free(&img);
    return 0;
}
