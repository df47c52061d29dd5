/* The JPEG decoder (libturbojpeg) and the EXIF orientation reader. */
#include <turbojpeg.h>

#include "fuzz_media.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (!getenv("WARD_FUZZ_WRITE_SEEDS"))
        return 0;
    uint8_t *rgb = fuzz_media_picture(24, 16, 3), *grey = fuzz_media_picture(24, 16, 1);
    uint8_t *cmyk = fuzz_media_picture(24, 16, 4);
    fuzz_media_seed("baseline-420", gen_jpeg(24, 16, rgb, TJPF_RGB, TJSAMP_420, 75, 0));
    fuzz_media_seed("baseline-444", gen_jpeg(24, 16, rgb, TJPF_RGB, TJSAMP_444, 90, 0));
    fuzz_media_seed("progressive", gen_jpeg(24, 16, rgb, TJPF_RGB, TJSAMP_422, 75,
                                            TJFLAG_PROGRESSIVE));
    fuzz_media_seed("grey", gen_jpeg(24, 16, grey, TJPF_GRAY, TJSAMP_GRAY, 75, 0));
    fuzz_media_seed("ycck", gen_jpeg(24, 16, cmyk, TJPF_CMYK, TJSAMP_420, 75, 0));
    /* An Exif APP1 (big-endian TIFF, Orientation 6) ahead of the rest. */
    gen_buf b = gen_jpeg(16, 8, rgb, TJPF_RGB, TJSAMP_420, 75, 0);
    static const uint8_t app1[] = {
        0xff, 0xe1, 0x00, 0x22, 'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0, 0,
        0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0};
    gen_buf e = {malloc(b.n + sizeof app1), b.n + sizeof app1};
    FUZZ_ASSERT(e.p);
    memcpy(e.p, b.p, 2);
    memcpy(e.p + 2, app1, sizeof app1);
    memcpy(e.p + 2 + sizeof app1, b.p + 2, b.n - 2);
    FUZZ_ASSERT(ward_media_exif_orientation(e.p, e.n) == 6);
    fuzz_media_seed("exif-6", e);
    free(b.p);
    free(rgb), free(grey), free(cmyk);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    int o = ward_media_exif_orientation(p, n);
    FUZZ_ASSERT(o >= 1 && o <= 8);
    ward_image img;
    fuzz_media_decode(ward_media_decode_jpeg, p, n, &img);
    if (img.pixels && o != 1) {
        uint32_t w = img.width, h = img.height;
        FUZZ_ASSERT(ward_image_orient(&img, o) == WARD_OK);
        FUZZ_ASSERT(o >= 5 ? img.width == h && img.height == w
                           : img.width == w && img.height == h);
    }
    ward_image_free(&img);
    return 0;
}
