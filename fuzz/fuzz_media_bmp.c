/* The BMP decoder (by hand). */
#include "fuzz_media.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (!getenv("WARD_FUZZ_WRITE_SEEDS"))
        return 0;
    static const uint8_t pal[4 * 4] = {0, 0, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 0, 0, 255, 0};
    static const uint32_t m565[3] = {0xf800, 0x07e0, 0x001f};
    uint8_t *px = fuzz_media_picture(12, 6, 4);
    fuzz_media_seed("rgb24", gen_bmp(12, 6, 24, 0, NULL, NULL, 0, px, 36, 0));
    fuzz_media_seed("rgb32-topdown", gen_bmp(12, 6, 32, 0, NULL, NULL, 0, px, 48, 1));
    fuzz_media_seed("bitfields565", gen_bmp(12, 6, 16, 3, m565, NULL, 0, px, 24, 0));
    fuzz_media_seed("palette1", gen_bmp(12, 6, 1, 0, NULL, pal, 2, px, 2, 0));
    fuzz_media_seed("palette4", gen_bmp(12, 6, 4, 0, NULL, pal, 4, px, 6, 0));
    fuzz_media_seed("palette8", gen_bmp(12, 6, 8, 0, NULL, pal, 4, px, 12, 0));
    free(px);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    ward_image img;
    fuzz_media_decode(ward_media_decode_bmp, p, n, &img);
    ward_image_free(&img);
    return 0;
}
