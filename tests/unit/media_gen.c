/* Test images from the libraries' encoders; see media_gen.h. */
#include "media_gen.h"

#include <gif_lib.h>
#include <spng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <webp/encode.h>

static void die(const char *what)
{
    fprintf(stderr, "media_gen: %s failed\n", what);
    exit(1);
}

gen_buf gen_png(uint32_t w, uint32_t h, int color_type, int depth,
                const uint8_t *raw, size_t raw_len, const uint8_t *plte,
                int nplte, int interlace)
{
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    if (!ctx)
        die("spng_ctx_new");
    struct spng_ihdr ihdr = {w, h, (uint8_t)depth, (uint8_t)color_type, 0, 0,
                             (uint8_t)(interlace ? 1 : 0)};
    int rc = spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
    if (!rc)
        rc = spng_set_ihdr(ctx, &ihdr);
    if (!rc && plte) {
        struct spng_plte pl;
        memset(&pl, 0, sizeof pl);
        pl.n_entries = (uint32_t)nplte;
        for (int i = 0; i < nplte; i++) {
            pl.entries[i].red = plte[3 * i];
            pl.entries[i].green = plte[3 * i + 1];
            pl.entries[i].blue = plte[3 * i + 2];
        }
        rc = spng_set_plte(ctx, &pl);
    }
    if (!rc)
        rc = spng_encode_image(ctx, raw, raw_len, SPNG_FMT_PNG,
                               SPNG_ENCODE_FINALIZE);
    if (rc) {
        fprintf(stderr, "spng: %s\n", spng_strerror(rc));
        die("spng_encode_image");
    }
    gen_buf b = {0};
    b.p = spng_get_png_buffer(ctx, &b.n, &rc);
    if (!b.p || rc)
        die("spng_get_png_buffer");
    spng_ctx_free(ctx);
    return b;
}

typedef struct growbuf {
    uint8_t *p;
    size_t n, cap;
} growbuf;

static int gif_write(GifFileType *g, const GifByteType *p, int n)
{
    growbuf *b = g->UserData;
    if (b->n + (size_t)n > b->cap) {
        b->cap = (b->n + (size_t)n) * 2;
        if (!(b->p = realloc(b->p, b->cap)))
            die("realloc");
    }
    memcpy(b->p + b->n, p, (size_t)n);
    b->n += (size_t)n;
    return n;
}

static void gif_frame(GifFileType *g, int w, int h, const uint8_t *idx,
                      const ColorMapObject *local, int interlace)
{
    static const int start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
    if (EGifPutImageDesc(g, 0, 0, w, h, interlace, local) != GIF_OK)
        die("EGifPutImageDesc");
    for (int pass = 0; pass < (interlace ? 4 : 1); pass++)
        for (int y = interlace ? start[pass] : 0; y < h;
             y += interlace ? step[pass] : 1)
            if (EGifPutLine(g, (GifPixelType *)(idx + (size_t)y * (size_t)w),
                            w) != GIF_OK)
                die("EGifPutLine");
}

gen_buf gen_gif(int w, int h, const uint8_t *idx, const uint8_t *cmap,
                int ncolors, int local, int interlace, int transparent,
                int second_frame)
{
    growbuf b = {0};
    int err = 0;
    GifFileType *g = EGifOpen(&b, gif_write, &err);
    if (!g)
        die("EGifOpen");
    EGifSetGifVersion(g, true);
    ColorMapObject *cm = GifMakeMapObject(ncolors, (const GifColorType *)cmap);
    if (!cm)
        die("GifMakeMapObject");
    if (EGifPutScreenDesc(g, w, h, 8, 0, local ? NULL : cm) != GIF_OK)
        die("EGifPutScreenDesc");
    if (transparent >= 0) {
        uint8_t gce[4] = {1, 0, 0, (uint8_t)transparent};
        if (EGifPutExtension(g, GRAPHICS_EXT_FUNC_CODE, 4, gce) != GIF_OK)
            die("EGifPutExtension");
    }
    gif_frame(g, w, h, idx, local ? cm : NULL, interlace);
    if (second_frame) {
        /* All index 0: if a decoder took this frame, it would show. */
        uint8_t *zero = calloc((size_t)w * (size_t)h, 1);
        gif_frame(g, w, h, zero, local ? cm : NULL, 0);
        free(zero);
    }
    if (EGifCloseFile(g, &err) != GIF_OK)
        die("EGifCloseFile");
    GifFreeMapObject(cm);
    return (gen_buf){b.p, b.n};
}

gen_buf gen_webp(int w, int h, const uint8_t *rgb, int lossless)
{
    uint8_t *out = NULL;
    size_t n = lossless ? WebPEncodeLosslessRGB(rgb, w, h, w * 3, &out)
                        : WebPEncodeRGB(rgb, w, h, w * 3, 90, &out);
    if (!n)
        die("WebPEncode");
    gen_buf b = {malloc(n), n};
    if (!b.p)
        die("malloc");
    memcpy(b.p, out, n);
    WebPFree(out);
    return b;
}

gen_buf gen_jpeg(int w, int h, const uint8_t *px, int pf, int subsamp,
                 int quality, int flags)
{
    tjhandle t = tjInitCompress();
    unsigned char *jpg = NULL;
    unsigned long n = 0;
    if (!t || tjCompress2(t, px, w, w * tjPixelSize[pf], h, pf, &jpg, &n,
                          subsamp, quality, flags) != 0)
        die("tjCompress2");
    gen_buf b = {malloc(n), n};
    if (!b.p)
        die("malloc");
    memcpy(b.p, jpg, n);
    tjFree(jpg);
    tjDestroy(t);
    return b;
}

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, v & 0xffff), put16(p + 2, v >> 16); }

gen_buf gen_bmp(int w, int h, int bpp, int comp, const uint32_t masks[3],
                const uint8_t *pal, int npal, const uint8_t *rows,
                size_t stride, int top_down)
{
    size_t bstride = ((size_t)w * (size_t)bpp + 31) / 32 * 4;
    size_t extra = comp == 3 ? 12 : (size_t)npal * 4;
    size_t off = 14 + 40 + extra, n = off + bstride * (size_t)h;
    uint8_t *p = calloc(n, 1);
    if (!p)
        die("calloc");
    p[0] = 'B', p[1] = 'M';
    put32(p + 2, (uint32_t)n);
    put32(p + 10, (uint32_t)off);
    put32(p + 14, 40);
    put32(p + 18, (uint32_t)w);
    put32(p + 22, (uint32_t)(top_down ? -h : h));
    put16(p + 26, 1);
    put16(p + 28, (uint32_t)bpp);
    put32(p + 30, (uint32_t)comp);
    put32(p + 46, (uint32_t)npal);
    if (comp == 3)
        for (int i = 0; i < 3; i++)
            put32(p + 54 + 4 * i, masks[i]);
    else if (npal)
        memcpy(p + 54, pal, (size_t)npal * 4);
    for (int y = 0; y < h; y++)
        memcpy(p + off + (size_t)(top_down ? y : h - 1 - y) * bstride,
               rows + (size_t)y * stride, stride < bstride ? stride : bstride);
    return (gen_buf){p, n};
}

gen_buf gen_concat(const char *head, const uint8_t *p, size_t n)
{
    size_t hn = strlen(head);
    gen_buf b = {malloc(hn + n + 1), hn + n};
    if (!b.p)
        die("malloc");
    memcpy(b.p, head, hn);
    if (n)
        memcpy(b.p + hn, p, n);
    return b;
}

uint32_t gen_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffu;
}
