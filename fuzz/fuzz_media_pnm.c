/* The PNM decoder (by hand). */
#include "fuzz_media.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (!getenv("WARD_FUZZ_WRITE_SEEDS"))
        return 0;
    uint8_t *px = fuzz_media_picture(8, 4, 6);
    fuzz_media_seed("p6", gen_concat("P6\n8 4\n255\n", px, 8 * 4 * 3));
    fuzz_media_seed("p5-16bit", gen_concat("P5 # grey\n8 4 65535\n", px, 8 * 4 * 2));
    fuzz_media_seed("p4", gen_concat("P4 8 4\n", px, 4));
    fuzz_media_seed("p3", gen_concat("P3 2 2 15 0 1 2 3 4 5 6 7 8 9 10 15\n", NULL, 0));
    fuzz_media_seed("p2", gen_concat("P2\n2 2\n255\n0 64\n128 255\n", NULL, 0));
    fuzz_media_seed("p1", gen_concat("P1 3 2 0 1 0\n101\n", NULL, 0));
    free(px);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    ward_image img;
    fuzz_media_decode(ward_media_decode_pnm, p, n, &img);
    ward_image_free(&img);
    return 0;
}
