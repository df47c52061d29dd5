/* GIF through giflib's record-level reader (not DGifSlurp, which would
 * read every frame): the first frame only, at its own size. */
#include <gif_lib.h>
#include <stdlib.h>
#include <string.h>

#include "media_internal.h"

typedef struct reader {
    const uint8_t *p;
    size_t n, off;
} reader;

static int read_mem(GifFileType *g, GifByteType *dst, int len)
{
    reader *r = g->UserData;
    if (len <= 0)
        return 0;
    size_t k = r->n - r->off;
    if (k > (size_t)len)
        k = (size_t)len;
    memcpy(dst, r->p + r->off, k);
    r->off += k;
    return (int)k;
}

static ward_err gif_fail(int code, const char *what, char *err, size_t errlen)
{
    const char *why = GifErrorString(code);
    return ward_media_fail(
        err, errlen,
        code == D_GIF_ERR_NOT_ENOUGH_MEM ? WARD_ERR_NOMEM : WARD_ERR_MALFORMED,
        "gif: %s (%s)", what, why ? why : "unknown error");
}

/* Reads the frame whose descriptor was just read into |out|, row by row
 * into the RGB pixels, deinterlacing as it goes. */
static ward_err read_frame(GifFileType *g, uint64_t max_pixels,
                           ward_image *out, char *err, size_t errlen)
{
    /* Interlaced rows arrive in four passes: every 8th from 0, every 8th
     * from 4, every 4th from 2, every 2nd from 1. */
    static const int start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
    int w = g->Image.Width, h = g->Image.Height;
    size_t size;
    ward_err e = ward_media_check_size("gif", w > 0 ? (uint64_t)w : 0,
                                       h > 0 ? (uint64_t)h : 0, 3, max_pixels,
                                       &size, err, errlen);
    if (e)
        return e;
    const ColorMapObject *cm = g->Image.ColorMap ? g->Image.ColorMap
                                                 : g->SColorMap;
    if (!cm || cm->ColorCount <= 0 || !cm->Colors)
        return ward_media_fail(err, errlen, WARD_ERR_MALFORMED,
                               "gif: the first frame has no colour table");
    GifPixelType *line = malloc((size_t)w);
    if (!line)
        return ward_media_fail(err, errlen, WARD_ERR_NOMEM,
                               "gif: out of memory");
    e = ward_media_alloc("gif", (uint32_t)w, (uint32_t)h, 3, size, out, err,
                         errlen);
    int passes = g->Image.Interlace ? 4 : 1;
    for (int pass = 0; !e && pass < passes; pass++) {
        int y0 = passes == 1 ? 0 : start[pass], dy = passes == 1 ? 1 : step[pass];
        for (int y = y0; y < h; y += dy) {
            if (DGifGetLine(g, line, w) != GIF_OK) {
                e = gif_fail(g->Error, "truncated or corrupt data", err,
                             errlen);
                break;
            }
            uint8_t *row = out->pixels + (size_t)y * (size_t)w * 3;
            for (int x = 0; x < w; x++) {
                /* An index past the table is colour 0, as ImageMagick
                 * maps it. The transparent index keeps its colour. */
                int i = line[x] < cm->ColorCount ? line[x] : 0;
                row[3 * x] = cm->Colors[i].Red;
                row[3 * x + 1] = cm->Colors[i].Green;
                row[3 * x + 2] = cm->Colors[i].Blue;
            }
        }
    }
    free(line);
    return e;
}

ward_err ward_media_decode_gif(const uint8_t *p, size_t n,
                               uint64_t max_pixels, ward_image *out,
                               char *err, size_t errlen)
{
    reader r = {p, n, 0};
    int code = 0;
    GifFileType *g = DGifOpen(&r, read_mem, &code);
    if (!g)
        return gif_fail(code, "cannot read the header", err, errlen);
    ward_err e = WARD_ERR_MALFORMED;
    for (;;) {
        GifRecordType type;
        if (DGifGetRecordType(g, &type) != GIF_OK) {
            e = gif_fail(g->Error, "truncated or corrupt data", err, errlen);
            break;
        }
        if (type == IMAGE_DESC_RECORD_TYPE) {
            if (DGifGetImageDesc(g) != GIF_OK)
                e = gif_fail(g->Error, "cannot read the frame header", err,
                             errlen);
            else
                e = read_frame(g, max_pixels, out, err, errlen);
            break;
        }
        if (type == EXTENSION_RECORD_TYPE) {
            /* Skipped, the graphic control block too: ward composites
             * nothing and ignores transparency. Each call consumes input,
             * so this ends. */
            int ext_code;
            GifByteType *ext = NULL;
            int rc = DGifGetExtension(g, &ext_code, &ext);
            while (rc == GIF_OK && ext)
                rc = DGifGetExtensionNext(g, &ext);
            if (rc != GIF_OK) {
                e = gif_fail(g->Error, "truncated or corrupt extension", err,
                             errlen);
                break;
            }
            continue;
        }
        e = ward_media_fail(err, errlen, WARD_ERR_MALFORMED,
                            "gif: the file has no image");
        break;
    }
    if (e)
        ward_image_free(out);
    DGifCloseFile(g, &code);
    return e;
}
