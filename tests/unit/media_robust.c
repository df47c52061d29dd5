/*
 * Hostile input for every format: zero length, every truncation, header
 * claims past max_pixels (refused before any large allocation: malloc is
 * wrapped to see the largest request), corrupted bytes, random bytes.
 * Linked with -Wl,--wrap=malloc.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "media_gen.h"
#include "media_test.h"
#include "wtest.h"

void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);

static size_t biggest;

void *__wrap_malloc(size_t n)
{
    if (n > biggest)
        biggest = n;
    return __real_malloc(n);
}

enum { W = 40, H = 30 };

typedef struct sample {
    const char *name;
    gen_buf b;
    /* Rewrites the header of a copy to claim a huge size; NULL: none. */
    void (*lie)(uint8_t *p, size_t n);
    /* Truncations this many bytes short of the end may still decode: the
     * format's trailer, which decoders (and ImageMagick) do not need. */
    size_t tail_ok;
} sample;

static void put_be16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static void put_le16(uint8_t *p, unsigned v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put_be32(uint8_t *p, uint32_t v) { put_be16(p, v >> 16), put_be16(p + 2, v & 0xffff); }
static void put_le32(uint8_t *p, uint32_t v) { put_le16(p, v & 0xffff), put_le16(p + 2, v >> 16); }

static void lie_jpeg(uint8_t *p, size_t n)
{
    for (size_t i = 2; i + 9 < n; i++)
        if (p[i] == 0xff && (p[i + 1] == 0xc0 || p[i + 1] == 0xc2)) {
            /* 60000 x 60000: libjpeg itself refuses sides over 65500. */
            put_be16(p + i + 5, 60000); /* height */
            put_be16(p + i + 7, 60000); /* width */
            return;
        }
    REQUIRE(!"no SOF marker");
}

static void lie_png(uint8_t *p, size_t n)
{
    REQUIRE(n > 33);
    put_be32(p + 16, 100000);
    put_be32(p + 20, 100000);
    put_be32(p + 29, gen_crc32(p + 12, 17)); /* so the CRC check passes */
}

static void lie_webp_lossless(uint8_t *p, size_t n)
{
    REQUIRE(n > 25 && memcmp(p + 12, "VP8L", 4) == 0 && p[20] == 0x2f);
    /* 14 bits of width - 1, 14 of height - 1: 16384 x 16384. */
    p[21] = p[22] = p[23] = 0xff;
    p[24] |= 0x0f;
}

static void lie_webp_lossy(uint8_t *p, size_t n)
{
    REQUIRE(n > 30 && memcmp(p + 12, "VP8 ", 4) == 0);
    put_le16(p + 26, 0x3fff); /* 16383 x 16383, no scaling */
    put_le16(p + 28, 0x3fff);
}

static void lie_gif(uint8_t *p, size_t n)
{
    /* Screen, then the frame (after the 4-colour global table). */
    REQUIRE(n > 34 && p[25] == 0x2c);
    put_le16(p + 6, 0xffff), put_le16(p + 8, 0xffff);
    put_le16(p + 30, 0xffff), put_le16(p + 32, 0xffff);
}

static void lie_bmp(uint8_t *p, size_t n)
{
    REQUIRE(n > 26);
    put_le32(p + 18, 100000);
    put_le32(p + 22, 100000);
}

static void lie_pnm(uint8_t *p, size_t n)
{
    /* Over the header and the first pixels: 10^10 pixels. */
    REQUIRE(n > 19);
    memcpy(p, "P6 99999 99999 255\n", 19);
}

static int nsamples;
static sample samples[16];

static void add(const char *name, gen_buf b, void (*lie)(uint8_t *, size_t),
                size_t tail_ok)
{
    REQUIRE(nsamples < 16);
    samples[nsamples++] = (sample){name, b, lie, tail_ok};
}

static void make_samples(void)
{
    uint8_t *rgb = t_picture(W, H, 3), *grey = t_picture(W, H, 1);
    uint8_t idx[W * H];
    static const uint8_t cmap[12] = {0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255};
    for (int i = 0; i < W * H; i++)
        idx[i] = (uint8_t)(rgb[3 * i] % 4);
    add("jpeg", gen_jpeg(W, H, rgb, TJPF_RGB, TJSAMP_420, 85, 0), lie_jpeg, 0);
    add("jpeg progressive",
        gen_jpeg(W, H, rgb, TJPF_RGB, TJSAMP_444, 85, TJFLAG_PROGRESSIVE), lie_jpeg, 0);
    add("jpeg grey", gen_jpeg(W, H, grey, TJPF_GRAY, TJSAMP_GRAY, 85, 0), lie_jpeg, 0);
    /* libspng reads IEND but not its CRC (a constant): those 4 may go. */
    add("png", gen_png(W, H, 2, 8, rgb, (size_t)W * H * 3, NULL, 0, 0), lie_png, 4);
    add("png interlaced grey", gen_png(W, H, 0, 8, grey, (size_t)W * H, NULL, 0, 1),
        lie_png, 4);
    add("webp lossless", gen_webp(W, H, rgb, 1), lie_webp_lossless, 0);
    add("webp lossy", gen_webp(W, H, rgb, 0), lie_webp_lossy, 0);
    /* Only the trailer byte (';') may go: nothing after the first frame
     * is read. */
    add("gif", gen_gif(W, H, idx, cmap, 4, 0, 0, -1, 0), lie_gif, 1);
    add("bmp", gen_bmp(W, H, 24, 0, NULL, NULL, 0, rgb, W * 3, 0), lie_bmp, 0);
    char head[32];
    snprintf(head, sizeof head, "P6\n%d %d\n255\n", W, H);
    add("pnm", gen_concat(head, rgb, (size_t)W * H * 3), lie_pnm, 0);
    add("pnm ascii", gen_concat("P2 2 2 255 0 1 2 3", NULL, 0), NULL, 0);
    free(rgb);
    free(grey);
}

static uint32_t rng = 777;
static uint32_t next(void)
{
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
}

static void robust(const sample *s)
{
    ward_image img;
    const uint8_t *p = s->b.p;
    size_t n = s->b.n;
    REQUIRE(t_decode(p, n, 0, &img) == WARD_OK);
    uint64_t pixels = (uint64_t)img.width * img.height;
    ward_image_free(&img);

    /* The limit is inclusive. */
    CHECK_EQ_INT(t_decode(p, n, pixels, &img), WARD_OK);
    ward_image_free(&img);
    CHECK_EQ_INT(t_decode(p, n, pixels - 1, &img), WARD_ERR_LIMIT);

    /* Zero length and every truncation. A copy of exactly |k| bytes, so
     * ASan sees any read past the end. */
    CHECK_EQ_INT(t_decode(p, 0, 0, &img), WARD_ERR_MALFORMED);
    for (size_t k = 0; k < n; k++) {
        uint8_t *c = malloc(k ? k : 1);
        REQUIRE(c);
        memcpy(c, p, k);
        ward_err e = t_decode(c, k, 0, &img);
        if (e == WARD_OK && k + s->tail_ok < n) {
            fprintf(stderr, "%s: truncated to %zu of %zu bytes decodes\n",
                    s->name, k, n);
            CHECK(0);
        }
        ward_image_free(&img);
        free(c);
    }

    /* A header that lies: refused before the pixels are allocated. */
    if (s->lie) {
        uint8_t *c = malloc(n);
        REQUIRE(c);
        memcpy(c, p, n);
        s->lie(c, n);
        biggest = 0;
        ward_err e = t_decode(c, n, 0, &img);
        if (e != WARD_ERR_LIMIT)
            fprintf(stderr, "%s: lying header gives %d\n", s->name, (int)e);
        CHECK_EQ_INT(e, WARD_ERR_LIMIT);
        CHECK(biggest < (1u << 20));
        CHECK_EQ_INT(t_decode(c, n, 1000, &img), WARD_ERR_LIMIT);
        free(c);
    }

    /* Corrupted copies: anything may come back but a crash (ASan) or an
     * image bigger than the limit. */
    uint8_t *c = malloc(n);
    REQUIRE(c);
    for (int round = 0; round < 300; round++) {
        memcpy(c, p, n);
        for (int k = 1 + (int)(next() % 4); k > 0; k--)
            c[next() % n] = (uint8_t)next();
        ward_err e = t_decode(c, n, 1 << 20, &img);
        CHECK(e == WARD_OK || e == WARD_ERR_MALFORMED || e == WARD_ERR_LIMIT);
        if (e == WARD_OK)
            CHECK((uint64_t)img.width * img.height <= (1 << 20));
        ward_image_free(&img);
    }
    /* The magic bytes, then random bytes. */
    size_t magic = ward_media_sniff(p, 3) == WARD_MEDIA_JPEG ? 3
                   : ward_media_sniff(p, 2) == WARD_MEDIA_BMP ? 2
                   : ward_media_sniff(p, 3) == WARD_MEDIA_PNM ? 3
                                                               : 12;
    for (int round = 0; round < 200; round++) {
        memcpy(c, p, magic);
        for (size_t k = magic; k < n; k++)
            c[k] = (uint8_t)next();
        size_t len = magic + next() % (n - magic);
        ward_err e = t_decode(c, len, 1 << 20, &img);
        if (e == WARD_OK)
            fprintf(stderr, "%s: random bytes decode (%zu bytes)\n", s->name, len);
        CHECK(e == WARD_ERR_MALFORMED || e == WARD_ERR_LIMIT);
        ward_image_free(&img);
    }
    free(c);
}

int t_robust(void)
{
    int before = wtest_fail;
    make_samples();
    for (int i = 0; i < nsamples; i++) {
        robust(&samples[i]);
        free(samples[i].b.p);
    }
    /* Random bytes with no magic. */
    uint8_t r[256];
    for (int round = 0; round < 100; round++) {
        for (size_t k = 0; k < sizeof r; k++)
            r[k] = (uint8_t)next();
        if (ward_media_sniff(r, sizeof r) != WARD_MEDIA_UNKNOWN)
            continue;
        ward_image img;
        CHECK_EQ_INT(t_decode(r, sizeof r, 0, &img), WARD_ERR_MALFORMED);
    }
    return wtest_fail - before;
}
