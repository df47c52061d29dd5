/* Generated images of every format and mode, EXIF orientation, and
 * ward_image_orient on a 3x2 image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media_gen.h"
#include "media_test.h"
#include "wtest.h"

/* Decodes |b| (must succeed) and compares with the expected shape and,
 * when |px| is not NULL, pixels. Frees |b|. */
static void expect(const char *what, gen_buf b, uint32_t w, uint32_t h,
                   int ch, const uint8_t *px)
{
    ward_image img;
    char err[256] = "";
    ward_err e = ward_media_decode(b.p, b.n, NULL, &img, err, sizeof err);
    if (e != WARD_OK)
        fprintf(stderr, "%s: %s\n", what, err);
    CHECK_EQ_INT(e, WARD_OK);
    CHECK_EQ_INT(img.width, w);
    CHECK_EQ_INT(img.height, h);
    CHECK_EQ_INT(img.channels, ch);
    if (e == WARD_OK && px && img.width == w && img.height == h &&
        img.channels == ch) {
        if (memcmp(img.pixels, px, (size_t)w * h * (size_t)ch) != 0) {
            fprintf(stderr, "%s: pixels differ\n", what);
            CHECK(0);
        } else {
            CHECK(1);
        }
    }
    ward_image_free(&img);
    free(b.p);
}

static uint32_t rng = 12345;
static uint32_t next(void)
{
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
}

/* One PNG of colour type |ct| and bit depth |depth|: random samples,
 * packed as PNG stores them; the expected output per media.h. */
static void png_case(int ct, int depth, uint32_t w, uint32_t h, int interlace)
{
    static const uint8_t plte[16 * 3] = {
        255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90,
        1, 2, 3, 250, 251, 252, 128, 64, 32, 7, 7, 7, 99, 98, 97, 0, 0, 0,
        255, 255, 255, 33, 66, 99, 200, 100, 0, 5, 6, 7};
    int spp = ct == 0 || ct == 3 ? 1 : ct == 4 ? 2 : ct == 2 ? 3 : 4;
    int out_ch = ct == 0 || ct == 4 ? 1 : 3;
    uint32_t maxv = ct == 3 ? 15 : (1u << depth) - 1;
    if (ct == 3 && depth < 4)
        maxv = (1u << depth) - 1;
    size_t stride = ((size_t)w * (size_t)spp * (size_t)depth + 7) / 8;
    uint8_t *raw = calloc(stride * h, 1), *want = malloc((size_t)w * h * 3);
    REQUIRE(raw && want);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (int c = 0; c < spp; c++) {
                uint32_t s = next() % (maxv + 1);
                size_t k = (size_t)x * (size_t)spp + (size_t)c;
                uint8_t *row = raw + y * stride;
                if (depth < 8)
                    row[k * (size_t)depth / 8] |=
                        (uint8_t)(s << (8 - depth - (int)(k * (size_t)depth % 8)));
                else if (depth == 8)
                    row[k] = (uint8_t)s;
                else
                    memcpy(row + 2 * k, &(uint16_t){(uint16_t)s}, 2);
                uint8_t v = depth == 16 ? (uint8_t)(s >> 8)
                            : depth == 8 ? (uint8_t)s
                                         : (uint8_t)(s * 255 / maxv);
                uint8_t *o = want + ((size_t)y * w + x) * (size_t)out_ch;
                if (ct == 3)
                    memcpy(o, plte + 3 * s, 3);
                else if (c < out_ch)
                    o[c] = v;
            }
    char what[64];
    snprintf(what, sizeof what, "png type %d depth %d%s", ct, depth,
             interlace ? " interlaced" : "");
    expect(what,
           gen_png(w, h, ct, depth, raw, stride * h, ct == 3 ? plte : NULL,
                   (int)maxv + 1, interlace),
           w, h, out_ch, want);
    free(raw);
    free(want);
}

static void test_png(void)
{
    static const struct { int ct, depth; } modes[] = {
        {0, 1}, {0, 2}, {0, 4}, {0, 8}, {0, 16}, {4, 8}, {4, 16},
        {2, 8}, {2, 16}, {6, 8}, {6, 16}, {3, 1}, {3, 2}, {3, 4}, {3, 8}};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        png_case(modes[i].ct, modes[i].depth, 5, 3, 0);
        png_case(modes[i].ct, modes[i].depth, 13, 11, 1);
    }
}

static void test_gif(void)
{
    static const uint8_t cmap[4 * 3] = {10, 20, 30, 200, 0, 0, 0, 200, 0,
                                        1, 2, 250};
    int w = 7, h = 11;
    uint8_t idx[7 * 11], want[7 * 11 * 3];
    for (int i = 0; i < w * h; i++) {
        idx[i] = (uint8_t)(next() % 4);
        memcpy(want + 3 * i, cmap + 3 * idx[i], 3);
    }
    expect("gif", gen_gif(w, h, idx, cmap, 4, 0, 0, -1, 0), 7, 11, 3, want);
    expect("gif interlaced", gen_gif(w, h, idx, cmap, 4, 0, 1, -1, 0), 7, 11,
           3, want);
    expect("gif local colour table", gen_gif(w, h, idx, cmap, 4, 1, 0, -1, 0),
           7, 11, 3, want);
    /* The transparent index shows its palette colour; a second frame
     * (all index 0) is ignored. */
    expect("gif transparent", gen_gif(w, h, idx, cmap, 4, 0, 0, 2, 1), 7, 11,
           3, want);
}

static void test_webp(void)
{
    int w = 9, h = 7;
    uint8_t *rgb = t_picture(w, h, 3);
    expect("webp lossless", gen_webp(w, h, rgb, 1), 9, 7, 3, rgb);
    free(rgb);
    /* Lossy: the shape, and pixels near the source. */
    w = 64, h = 48;
    rgb = malloc((size_t)w * h * 3);
    REQUIRE(rgb);
    for (int i = 0; i < w * h; i++) /* smooth, as lossy coding likes */
        rgb[3 * i] = (uint8_t)(i % w * 3), rgb[3 * i + 1] = (uint8_t)(i / w * 4),
        rgb[3 * i + 2] = 128;
    gen_buf b = gen_webp(w, h, rgb, 0);
    ward_image img;
    CHECK_EQ_INT(t_decode(b.p, b.n, 0, &img), WARD_OK);
    CHECK_EQ_INT(img.width, 64);
    CHECK_EQ_INT(img.height, 48);
    if (img.pixels) {
        long diff = 0;
        for (int i = 0; i < w * h * 3; i++)
            diff += abs(img.pixels[i] - rgb[i]);
        if (diff / (w * h * 3) >= 6)
            fprintf(stderr, "webp lossy: mean difference %ld\n", diff / (w * h * 3));
        CHECK(diff / (w * h * 3) < 6);
    }
    ward_image_free(&img);
    free(b.p);
    free(rgb);
}

static void test_bmp(void)
{
    int w = 5, h = 3;
    uint8_t *rgb = t_picture(w, h, 3);
    uint8_t rows[5 * 3 * 4];
    /* 24-bit BGR, bottom-up and top-down. */
    for (int i = 0; i < w * h; i++)
        rows[3 * i] = rgb[3 * i + 2], rows[3 * i + 1] = rgb[3 * i + 1],
        rows[3 * i + 2] = rgb[3 * i];
    expect("bmp 24", gen_bmp(w, h, 24, 0, NULL, NULL, 0, rows, 15, 0), 5, 3, 3, rgb);
    expect("bmp 24 top-down", gen_bmp(w, h, 24, 0, NULL, NULL, 0, rows, 15, 1), 5, 3, 3, rgb);
    /* 32-bit BGRX. */
    for (int i = 0; i < w * h; i++)
        rows[4 * i] = rgb[3 * i + 2], rows[4 * i + 1] = rgb[3 * i + 1],
        rows[4 * i + 2] = rgb[3 * i], rows[4 * i + 3] = 0x55;
    expect("bmp 32", gen_bmp(w, h, 32, 0, NULL, NULL, 0, rows, 20, 0), 5, 3, 3, rgb);
    /* 32-bit bit fields in another order: X8 B8 G8 R8 from the top. */
    static const uint32_t m32[3] = {0x000000ffu, 0x0000ff00u, 0x00ff0000u};
    for (int i = 0; i < w * h; i++)
        rows[4 * i] = rgb[3 * i], rows[4 * i + 1] = rgb[3 * i + 1],
        rows[4 * i + 2] = rgb[3 * i + 2], rows[4 * i + 3] = 0;
    expect("bmp bitfields 32", gen_bmp(w, h, 32, 3, m32, NULL, 0, rows, 20, 0), 5, 3, 3, rgb);
    /* 16-bit: 5-5-5 (BI_RGB) and 5-6-5 (bit fields). */
    uint8_t want[5 * 3 * 3];
    static const uint32_t m565[3] = {0xf800, 0x07e0, 0x001f};
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < w * h; i++) {
            unsigned r = next() % 32, g = next() % (pass ? 64 : 32), b = next() % 32;
            unsigned v = pass ? r << 11 | g << 5 | b : r << 10 | g << 5 | b;
            rows[2 * i] = (uint8_t)v, rows[2 * i + 1] = (uint8_t)(v >> 8);
            want[3 * i] = (uint8_t)((r * 255 + 15) / 31);
            want[3 * i + 1] = (uint8_t)(pass ? (g * 255 + 31) / 63 : (g * 255 + 15) / 31);
            want[3 * i + 2] = (uint8_t)((b * 255 + 15) / 31);
        }
        expect(pass ? "bmp 565" : "bmp 555",
               gen_bmp(w, h, 16, pass ? 3 : 0, m565, NULL, 0, rows, 10, 0), 5, 3, 3, want);
    }
    /* Palettes of 1, 4 and 8 bits (3 entries used: index 3 is past the
     * palette and reads as colour 0). */
    static const uint8_t pal[3 * 4] = {30, 20, 10, 0, 0, 0, 255, 0, 0, 255, 0, 0};
    static const int bpps[3] = {1, 4, 8};
    w = 11;
    for (int k = 0; k < 3; k++) {
        int bpp = bpps[k];
        uint8_t prow[3 * 12] = {0}, pw[11 * 3 * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                unsigned i = next() % (bpp == 1 ? 2 : 4);
                prow[y * 12 + x * bpp / 8] |= (uint8_t)(i << (8 - bpp - x * bpp % 8));
                const uint8_t *c = pal + 4 * (i < 3 ? i : 0);
                uint8_t *o = pw + (y * w + x) * 3;
                o[0] = c[2], o[1] = c[1], o[2] = c[0];
            }
        char what[32];
        snprintf(what, sizeof what, "bmp %d-bit palette", bpp);
        expect(what, gen_bmp(w, h, bpp, 0, NULL, pal, 3, prow, 12, 0), 11, 3, 3, pw);
    }
    /* RLE is refused. */
    gen_buf b = gen_bmp(5, 3, 8, 1, NULL, pal, 3, rows, 8, 0);
    ward_image img;
    CHECK_EQ_INT(t_decode(b.p, b.n, 0, &img), WARD_ERR_MALFORMED);
    free(b.p);
    free(rgb);
}

static void test_pnm(void)
{
    static const uint8_t g[6] = {0, 1, 127, 128, 254, 255};
    expect("p5", gen_concat("P5\n3 2\n255\n", g, 6), 3, 2, 1, g);
    expect("p5 comments", gen_concat("P5 # a comment\n#another\n3\t2 255\r", g, 6), 3, 2, 1, g);
    expect("p6", gen_concat("P6 1 2 255\n", g, 6), 1, 2, 3, g);
    expect("p2", gen_concat("P2\n3 2\n255\n0 1 127\n128 254 255\n", NULL, 0), 3, 2, 1, g);
    expect("p3", gen_concat("P3 2 1 255 0 1 127 128 254 255", NULL, 0), 2, 1, 3, g);
    static const uint8_t bw[6] = {255, 0, 255, 0, 0, 255};
    expect("p1", gen_concat("P1\n3 2\n010\n1 1 0\n", NULL, 0), 3, 2, 1, bw);
    static const uint8_t p4[2] = {0x40, 0xc0};
    expect("p4", gen_concat("P4\n3 2\n", p4, 2), 3, 2, 1, bw);
    /* maxval 15 and 65535 are scaled to 0..255, rounded. */
    static const uint8_t g15[3] = {0, 7, 15}, w15[3] = {0, 119, 255};
    expect("p5 maxval 15", gen_concat("P5 3 1 15\n", g15, 3), 3, 1, 1, w15);
    static const uint8_t g16[6] = {0x00, 0x00, 0x12, 0x34, 0xff, 0xff}, w16[3] = {0, 18, 255};
    expect("p5 16-bit", gen_concat("P5 3 1 65535\n", g16, 6), 3, 1, 1, w16);
    /* Samples above maxval, a bad maxval, missing or bad samples. */
#define BAD(lit) {lit, sizeof lit - 1}
    static const struct { const char *s; size_t n; } bad[] = {
        BAD("P5 3 1 15\n\x00\x10\x01"), BAD("P2 2 1 15 3 16"),
        BAD("P5 3 1 0\n\x00\x00\x00"), BAD("P5 3 1 65536\n\x00\x00\x00"),
        BAD("P2 3 1 255 1 2"), BAD("P1 3 1 012"), BAD("P5 3 1 255"),
        BAD("P6 -1 1 255\n\x00\x00\x00"), BAD("P5 3 1 255\n\x00\x00"),
        BAD("P5 3 1 255x\x00\x00\x00"), BAD("P5 99999999999 1 255\n")};
#undef BAD
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ward_image img;
        ward_err e = t_decode((const uint8_t *)bad[i].s, bad[i].n, 0, &img);
        if (e != WARD_ERR_MALFORMED)
            fprintf(stderr, "pnm bad case %zu: %d\n", i, (int)e);
        CHECK_EQ_INT(e, WARD_ERR_MALFORMED);
    }
}

int t_formats(void)
{
    int before = wtest_fail;
    test_png();
    test_gif();
    test_webp();
    test_bmp();
    test_pnm();
    return wtest_fail - before;
}

/* A JPEG with one APP1 Exif segment whose IFD0 has |tag| (type |type|,
 * value |v|) after a dummy entry; |be| picks "MM". Returns its length. */
static size_t exif_jpeg(uint8_t *p, int be, uint16_t tag, uint16_t type,
                        uint16_t v, int xmp_first)
{
    size_t n = 0;
    p[n++] = 0xff, p[n++] = 0xd8;
    if (xmp_first) {
        static const char xmp[] = "http://ns.adobe.com/xap/1.0/";
        p[n++] = 0xff, p[n++] = 0xe1, p[n++] = 0, p[n++] = (uint8_t)(2 + sizeof xmp);
        memcpy(p + n, xmp, sizeof xmp), n += sizeof xmp;
    }
    uint8_t t[64] = {0};
    size_t k = 0;
#define P16(x) (be ? (t[k] = (uint8_t)((x) >> 8), t[k + 1] = (uint8_t)(x)) \
                   : (t[k] = (uint8_t)(x), t[k + 1] = (uint8_t)((x) >> 8)), k += 2)
#define P32(x) (be ? (P16((x) >> 16), P16((x) & 0xffff)) : (P16((x) & 0xffff), P16((x) >> 16)))
    t[0] = t[1] = be ? 'M' : 'I', k = 2;
    P16(42);
    P32(8u);
    P16(2);                                   /* two entries */
    P16(0x010f), P16(2), P32(4u), P32(0x41424300u); /* Make */
    P16(tag), P16(type), P32(1u), P16(v), P16(0);
    P32(0u);                                  /* no next IFD */
#undef P16
#undef P32
    size_t seg = 2 + 6 + k;
    p[n++] = 0xff, p[n++] = 0xe1, p[n++] = (uint8_t)(seg >> 8), p[n++] = (uint8_t)seg;
    memcpy(p + n, "Exif\0\0", 6), n += 6;
    memcpy(p + n, t, k), n += k;
    p[n++] = 0xff, p[n++] = 0xda; /* the scan starts: the parser stops */
    return n;
}

static void test_exif(void)
{
    uint8_t j[256];
    size_t n;
    for (int be = 0; be < 2; be++)
        for (uint16_t o = 1; o <= 8; o++) {
            n = exif_jpeg(j, be, 0x0112, 3, o, 0);
            CHECK_EQ_INT(ward_media_exif_orientation(j, n), o);
        }
    n = exif_jpeg(j, 1, 0x0112, 3, 6, 1);
    CHECK_EQ_INT(ward_media_exif_orientation(j, n), 6); /* after an XMP APP1 */
    n = exif_jpeg(j, 0, 0x0112, 3, 9, 0);
    CHECK_EQ_INT(ward_media_exif_orientation(j, n), 1); /* out of range */
    n = exif_jpeg(j, 0, 0x0112, 4, 6, 0);
    CHECK_EQ_INT(ward_media_exif_orientation(j, n), 1); /* not a SHORT */
    n = exif_jpeg(j, 0, 0x0110, 3, 6, 0);
    CHECK_EQ_INT(ward_media_exif_orientation(j, n), 1); /* no such tag */
    n = exif_jpeg(j, 0, 0x0112, 3, 6, 0);
    /* Every truncation, and every single-byte corruption, gives 1..8. */
    for (size_t k = 0; k < n; k++) {
        int o = ward_media_exif_orientation(j, k);
        CHECK(o == 1 || k >= n - 2); /* only the SOS marker cut off */
        for (int bit = 0; bit < 8; bit++) {
            j[k] ^= (uint8_t)(1 << bit);
            o = ward_media_exif_orientation(j, n);
            CHECK(o >= 1 && o <= 8);
            j[k] ^= (uint8_t)(1 << bit);
        }
    }
    /* An IFD offset past the end, and an entry count past the end. */
    j[2 + 4 + 6 + 4] = 0xff; /* "II" TIFF: IFD offset low byte */
    CHECK_EQ_INT(ward_media_exif_orientation(j, n), 1);
    CHECK_EQ_INT(ward_media_exif_orientation((const uint8_t *)"\xff\xd8", 2), 1);
    CHECK_EQ_INT(ward_media_exif_orientation(NULL, 0), 1);
    CHECK_EQ_INT(ward_media_exif_orientation((const uint8_t *)"GIF89a", 6), 1);
}

static void test_orient(void)
{
    /* 1 2 3
     * 4 5 6 under each EXIF orientation, by hand. */
    static const struct {
        uint32_t w, h;
        uint8_t px[6];
    } want[9] = {
        {0, 0, {0}},
        {3, 2, {1, 2, 3, 4, 5, 6}},
        {3, 2, {3, 2, 1, 6, 5, 4}},
        {3, 2, {6, 5, 4, 3, 2, 1}},
        {3, 2, {4, 5, 6, 1, 2, 3}},
        {2, 3, {1, 4, 2, 5, 3, 6}},
        {2, 3, {4, 1, 5, 2, 6, 3}},
        {2, 3, {6, 3, 5, 2, 4, 1}},
        {2, 3, {3, 6, 2, 5, 1, 4}},
    };
    for (int o = 1; o <= 8; o++) {
        for (int ch = 1; ch <= 3; ch += 2) {
            ward_image img = {3, 2, ch, malloc(6 * (size_t)ch)};
            REQUIRE(img.pixels);
            for (int i = 0; i < 6; i++)
                for (int c = 0; c < ch; c++)
                    img.pixels[i * ch + c] = (uint8_t)(i + 1 + 10 * c);
            CHECK_EQ_INT(ward_image_orient(&img, o), WARD_OK);
            CHECK_EQ_INT(img.width, want[o].w);
            CHECK_EQ_INT(img.height, want[o].h);
            int ok = 1;
            for (int i = 0; i < 6; i++)
                for (int c = 0; c < ch; c++)
                    ok &= img.pixels[i * ch + c] == want[o].px[i] + 10 * c;
            if (!ok)
                fprintf(stderr, "orientation %d, %d channels: wrong pixels\n", o, ch);
            CHECK(ok);
            ward_image_free(&img);
        }
    }
    ward_image img = {3, 2, 1, malloc(6)};
    REQUIRE(img.pixels);
    CHECK_EQ_INT(ward_image_orient(&img, 0), WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_image_orient(&img, 9), WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_image_orient(NULL, 2), WARD_ERR_INVALID_ARG);
    ward_image_free(&img);
    CHECK_EQ_INT(ward_image_orient(&img, 2), WARD_ERR_INVALID_ARG);
}

int t_exif_orient(void)
{
    int before = wtest_fail;
    test_exif();
    test_orient();
    return wtest_fail - before;
}
