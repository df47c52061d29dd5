/* The PNG decoder (libspng). */
#include "fuzz_media.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (!getenv("WARD_FUZZ_WRITE_SEEDS"))
        return 0;
    static const uint8_t plte[16 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9};
    uint8_t *px = fuzz_media_picture(16, 8, 8); /* enough for any layout */
    static const struct { const char *name; int ct, depth, interlace; } m[] = {
        {"grey1", 0, 1, 0}, {"grey4-adam7", 0, 4, 1}, {"grey8", 0, 8, 0},
        {"grey16", 0, 16, 0}, {"greyalpha8", 4, 8, 0}, {"greyalpha16-adam7", 4, 16, 1},
        {"rgb8", 2, 8, 0}, {"rgb16", 2, 16, 0}, {"rgba8-adam7", 6, 8, 1},
        {"rgba16", 6, 16, 0}, {"palette2", 3, 2, 0}, {"palette8-adam7", 3, 8, 1}};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        int spp = m[i].ct == 0 || m[i].ct == 3 ? 1 : m[i].ct == 4 ? 2 : m[i].ct == 2 ? 3 : 4;
        size_t stride = (16 * (size_t)spp * (size_t)m[i].depth + 7) / 8;
        if (m[i].ct == 3) /* indices within the 4-entry palette */
            for (size_t k = 0; k < stride * 8; k++)
                px[k] &= m[i].depth == 8 ? 3 : 0x55;
        fuzz_media_seed(m[i].name, gen_png(16, 8, m[i].ct, m[i].depth, px, stride * 8,
                                           m[i].ct == 3 ? plte : NULL, 4, m[i].interlace));
    }
    free(px);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    ward_image img;
    fuzz_media_decode(ward_media_decode_png, p, n, &img);
    ward_image_free(&img);
    return 0;
}
