/*
 * The media module: the PDQ reference images (JPEG pixels byte for byte
 * equal to djpeg's), generated images of every format and mode, EXIF
 * orientation, and (media_robust.c) hostile input.
 *   test_media [REFERENCE_DIR DJPEG]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "media_gen.h"
#include "media_test.h"
#include "ward/media.h"
#include "wtest.h"

ward_err t_decode(const uint8_t *p, size_t n, uint64_t max, ward_image *img)
{
    char err[256];
    ward_media_opts o = {max};
    ward_err e = ward_media_decode(p, n, &o, img, err, sizeof err);
    if (e != WARD_OK && (img->pixels || img->width || img->height))
        fprintf(stderr, "|out| not zeroed after: %s\n", err);
    return e;
}

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    uint8_t *p = malloc(cap);
    size_t k;
    while (p && (k = fread(p + len, 1, cap - len, f)) > 0) {
        len += k;
        if (len == cap)
            p = realloc(p, cap *= 2);
    }
    fclose(f);
    *n = len;
    return p;
}

/* djpeg's PNM output for |path|, decoded by the (separately tested) PNM
 * decoder. */
static ward_err djpeg(const char *tool, const char *path, ward_image *img)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' -pnm '%s'", tool, path);
    FILE *f = popen(cmd, "r");
    REQUIRE(f);
    size_t cap = 1 << 20, len = 0, k;
    uint8_t *p = malloc(cap);
    while (p && (k = fread(p + len, 1, cap - len, f)) > 0) {
        len += k;
        if (len == cap)
            p = realloc(p, cap *= 2);
    }
    int rc = pclose(f);
    REQUIRE(p);
    ward_err e = rc == 0 ? t_decode(p, len, 0, img) : WARD_ERR_IO;
    free(p);
    return e;
}

static void same_as_djpeg(const char *tool, const char *path,
                          const ward_image *img)
{
    ward_image ref;
    CHECK_EQ_INT(djpeg(tool, path, &ref), WARD_OK);
    CHECK_EQ_INT(ref.width, img->width);
    CHECK_EQ_INT(ref.height, img->height);
    CHECK_EQ_INT(ref.channels, img->channels);
    if (ref.pixels && img->pixels && ref.width == img->width &&
        ref.height == img->height && ref.channels == img->channels) {
        size_t n = (size_t)ref.width * ref.height * (size_t)ref.channels;
        if (memcmp(ref.pixels, img->pixels, n) != 0) {
            fprintf(stderr, "%s: pixels differ from djpeg's\n", path);
            CHECK(0);
        } else {
            CHECK(1);
        }
    }
    ward_image_free(&ref);
}

static const struct {
    const char *path;
    uint32_t w, h;
    int ch;
} refs[] = {
    {"bridge-mods/aaa-orig.jpg", 1600, 1004, 3},
    {"bridge-mods/blur-a-little.jpg", 1600, 1004, 3},
    {"bridge-mods/blur-a-lot.jpg", 1600, 1004, 3},
    {"bridge-mods/high-contrast.jpg", 1600, 1004, 3},
    {"bridge-mods/high-saturation.jpg", 1600, 1004, 3},
    {"bridge-mods/sharpen-a-little.jpg", 1600, 1004, 3},
    {"bridge-mods/sharpen-a-lot.jpg", 1600, 1004, 3},
    {"bridge-mods/shrink-a-little.jpg", 1152, 723, 3},
    {"bridge-mods/shrink-a-lot.jpg", 160, 100, 3},
    {"bridge-mods/square-128x128.jpg", 128, 128, 3},
    {"bridge-mods/square-256x256.jpg", 256, 256, 3},
    {"bridge-mods/square-512x512.jpg", 512, 512, 3},
    {"dih/bridge-1-original.jpg", 1600, 1004, 3},
    {"dih/bridge-2-rotate-90.jpg", 1004, 1600, 3},
    {"dih/bridge-3-rotate-180.jpg", 1600, 1004, 3},
    {"dih/bridge-4-rotate-270.jpg", 1004, 1600, 3},
    {"dih/bridge-5-flipx.jpg", 1600, 1004, 3},
    {"dih/bridge-6-flipy.jpg", 1600, 1004, 3},
    {"dih/bridge-7-flip-plus-1.jpg", 1004, 1600, 3},
    {"dih/bridge-8-flip-minus-1.jpg", 1004, 1600, 3},
    {"exif-rotn/exif-rotn-1.jpg", 4032, 3024, 3},
    {"exif-rotn/exif-rotn-6.jpg", 4032, 3024, 3},
    {"labelme-subset/q0003.jpg", 256, 256, 3},
    {"labelme-subset/q0004.jpg", 256, 256, 3},
    {"labelme-subset/q0122.jpg", 256, 256, 3},
    {"labelme-subset/q0291.jpg", 256, 256, 3},
    {"labelme-subset/q0746.jpg", 256, 256, 3},
    {"labelme-subset/q1050.jpg", 256, 256, 3},
    {"labelme-subset/q2821.jpg", 256, 256, 3},
    {"misc/c.png", 1432, 812, 3},
    {"misc/pen-and-coaster.png", 924, 735, 3},
    {"misc/small.jpg", 224, 399, 3},
    {"misc/wee.jpg", 34, 42, 3},
    {"pytx/LA.png", 256, 256, 1},
    {"pytx/rgb.jpeg", 256, 256, 3},
};

static void test_reference(const char *dir, const char *tool)
{
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/images/%s", dir, refs[i].path);
        size_t n;
        uint8_t *p = read_file(path, &n);
        if (!p) {
            fprintf(stderr, "missing reference image %s\n", path);
            CHECK(0);
            continue;
        }
        ward_image img;
        char err[256] = "";
        ward_err e = ward_media_decode(p, n, NULL, &img, err, sizeof err);
        if (e)
            fprintf(stderr, "%s: %s\n", refs[i].path, err);
        CHECK_EQ_INT(e, WARD_OK);
        CHECK_EQ_INT(img.width, refs[i].w);
        CHECK_EQ_INT(img.height, refs[i].h);
        CHECK_EQ_INT(img.channels, refs[i].ch);
        if (strstr(refs[i].path, ".jp") && e == WARD_OK)
            same_as_djpeg(tool, path, &img);
        if (strstr(refs[i].path, "exif-rotn-")) {
            int want = strstr(refs[i].path, "-6.") ? 6 : 1;
            CHECK_EQ_INT(ward_media_exif_orientation(p, n), want);
            CHECK_EQ_INT(ward_image_orient(&img, want), WARD_OK);
            CHECK_EQ_INT(img.width, want == 6 ? 3024 : 4032);
        }
        ward_image_free(&img);
        free(p);
    }
}

/* A smooth test picture with some edges, |ch| channels. */
uint8_t *t_picture(int w, int h, int ch)
{
    uint8_t *px = malloc((size_t)w * (size_t)h * (size_t)ch);
    REQUIRE(px);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < ch; c++)
                px[((size_t)y * w + x) * ch + c] =
                    (uint8_t)((x * 255 / w + y * 97 / h + c * 80 +
                               ((x / 4 + y / 4) % 2) * 40) & 0xff);
    return px;
}

static void jpeg_vs_djpeg(const char *tool, const char *what, gen_buf b,
                          int ch)
{
    char path[] = "/tmp/ward-test-media-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, b.p, b.n) == (ssize_t)b.n);
    close(fd);
    ward_image img;
    CHECK_EQ_INT(t_decode(b.p, b.n, 0, &img), WARD_OK);
    CHECK_EQ_INT(img.channels, ch);
    if (img.pixels)
        same_as_djpeg(tool, path, &img);
    else
        fprintf(stderr, "%s: no decode\n", what);
    ward_image_free(&img);
    unlink(path);
    free(b.p);
}

static void test_jpeg(const char *tool)
{
    int w = 37, h = 23;
    uint8_t *rgb = t_picture(w, h, 3), *grey = t_picture(w, h, 1);
    if (tool) {
        jpeg_vs_djpeg(tool, "444", gen_jpeg(w, h, rgb, TJPF_RGB, TJSAMP_444, 90, 0), 3);
        jpeg_vs_djpeg(tool, "422", gen_jpeg(w, h, rgb, TJPF_RGB, TJSAMP_422, 80, 0), 3);
        jpeg_vs_djpeg(tool, "420", gen_jpeg(w, h, rgb, TJPF_RGB, TJSAMP_420, 75, 0), 3);
        jpeg_vs_djpeg(tool, "progressive",
                      gen_jpeg(w, h, rgb, TJPF_RGB, TJSAMP_420, 75, TJFLAG_PROGRESSIVE), 3);
        /* A 1-component JPEG stays grey. */
        jpeg_vs_djpeg(tool, "grey", gen_jpeg(w, h, grey, TJPF_GRAY, TJSAMP_GRAY, 90, 0), 1);
        jpeg_vs_djpeg(tool, "grey-from-rgb",
                      gen_jpeg(w, h, rgb, TJPF_RGB, TJSAMP_GRAY, 90, 0), 1);
    }

    /* CMYK (turbojpeg writes YCCK with an Adobe marker): ward's RGB must
     * be the documented formula applied to libjpeg's CMYK output. */
    uint8_t *cmyk = malloc((size_t)w * h * 4);
    REQUIRE(cmyk);
    for (int i = 0; i < w * h; i++) {
        /* Left half: C=200 M=100 Y=50 K=255 stored (Adobe: K=255 is no
         * black ink); right half: K=128. Flat areas keep JPEG near-exact. */
        int right = i % w >= w / 2;
        cmyk[4 * i] = 200, cmyk[4 * i + 1] = 100, cmyk[4 * i + 2] = 50;
        cmyk[4 * i + 3] = right ? 128 : 255;
    }
    gen_buf b = gen_jpeg(w, h, cmyk, TJPF_CMYK, TJSAMP_444, 95, 0);
    tjhandle t = tjInitDecompress();
    REQUIRE(t && !tjDecompress2(t, b.p, (unsigned long)b.n, cmyk, w, w * 4, h,
                                TJPF_CMYK, 0));
    tjDestroy(t);
    uint8_t *want = malloc((size_t)w * h * 3);
    REQUIRE(want);
    for (int i = 0; i < w * h; i++)
        for (int c = 0; c < 3; c++)
            want[3 * i + c] = (uint8_t)((cmyk[4 * i + c] * cmyk[4 * i + 3] + 127) / 255);
    ward_image img;
    CHECK_EQ_INT(t_decode(b.p, b.n, 0, &img), WARD_OK);
    CHECK_EQ_INT(img.channels, 3);
    if (img.pixels) {
        CHECK_MEM(img.pixels, want, (size_t)w * h * 3);
        /* And roughly the colours meant: (200,100,50), then half that. */
        const uint8_t *l = img.pixels + (10 * w + 3) * 3, *r = img.pixels + (10 * w + w - 3) * 3;
        CHECK(abs(l[0] - 200) <= 3 && abs(l[1] - 100) <= 3 && abs(l[2] - 50) <= 3);
        CHECK(abs(r[0] - 100) <= 3 && abs(r[1] - 50) <= 3 && abs(r[2] - 25) <= 3);
    }
    ward_image_free(&img);
    free(b.p);
    free(want);
    free(cmyk);
    free(rgb);
    free(grey);
}

static void test_sniff(void)
{
    static const uint8_t jpg[] = {0xff, 0xd8, 0xff, 0xe0};
    static const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    CHECK_EQ_INT(ward_media_sniff(jpg, sizeof jpg), WARD_MEDIA_JPEG);
    CHECK_EQ_INT(ward_media_sniff(jpg, 2), WARD_MEDIA_UNKNOWN);
    CHECK_EQ_INT(ward_media_sniff(png, sizeof png), WARD_MEDIA_PNG);
    CHECK_EQ_INT(ward_media_sniff(png, 7), WARD_MEDIA_UNKNOWN);
    CHECK_EQ_INT(ward_media_sniff((const uint8_t *)"RIFF\0\0\0\0WEBP", 12), WARD_MEDIA_WEBP);
    CHECK_EQ_INT(ward_media_sniff((const uint8_t *)"RIFF\0\0\0\0WAVE", 12), WARD_MEDIA_UNKNOWN);
    CHECK_EQ_INT(ward_media_sniff((const uint8_t *)"GIF87a", 6), WARD_MEDIA_GIF);
    CHECK_EQ_INT(ward_media_sniff((const uint8_t *)"GIF89a", 6), WARD_MEDIA_GIF);
    CHECK_EQ_INT(ward_media_sniff((const uint8_t *)"GIF90a", 6), WARD_MEDIA_UNKNOWN);
    CHECK_EQ_INT(ward_media_sniff((const uint8_t *)"BM", 2), WARD_MEDIA_BMP);
    CHECK_EQ_INT(ward_media_sniff((const uint8_t *)"P6\n", 3), WARD_MEDIA_PNM);
    CHECK_EQ_INT(ward_media_sniff((const uint8_t *)"P7\n", 3), WARD_MEDIA_UNKNOWN);
    CHECK_EQ_INT(ward_media_sniff((const uint8_t *)"P3x", 3), WARD_MEDIA_UNKNOWN);
    CHECK_EQ_INT(ward_media_sniff(NULL, 0), WARD_MEDIA_UNKNOWN);
    CHECK(strcmp(ward_media_format_name(WARD_MEDIA_JPEG), "jpeg") == 0);
    CHECK(strcmp(ward_media_format_name(WARD_MEDIA_WEBP), "webp") == 0);
    CHECK(strcmp(ward_media_format_name((ward_media_format)99), "unknown") == 0);
    ward_image img;
    char err[128];
    CHECK_EQ_INT(ward_media_decode((const uint8_t *)"hello", 5, NULL, &img, err, sizeof err),
                 WARD_ERR_MALFORMED);
    CHECK(strstr(err, "not a jpeg") != NULL);
    CHECK_EQ_INT(ward_media_decode(NULL, 0, NULL, &img, err, sizeof err), WARD_ERR_MALFORMED);
    CHECK_EQ_INT(ward_media_decode(NULL, 5, NULL, &img, NULL, 0), WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_media_decode(jpg, 4, NULL, NULL, NULL, 0), WARD_ERR_INVALID_ARG);
    ward_image_free(NULL);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : NULL;
    const char *tool = argc > 2 && argv[2][0] ? argv[2] : NULL;
    test_sniff();
    test_jpeg(tool);
    /* The other files' checks count in their own wtest counters. */
    wtest_fail += t_formats();
    wtest_fail += t_exif_orient();
    wtest_fail += t_robust();
    if (dir && tool && access(dir, R_OK) == 0)
        test_reference(dir, tool);
    else
        printf("test_media: reference images or djpeg missing; skipped "
               "(dir %s, djpeg %s)\n", dir ? dir : "-", tool ? tool : "-");
    return wtest_done("test_media");
}
