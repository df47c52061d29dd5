/* JPEG through libturbojpeg, at libjpeg's default settings (ISLOW IDCT,
 * fancy upsampling): the pixels djpeg and the PDQ reference see. */
#include <stdlib.h>
#include <turbojpeg.h>

#include "media_internal.h"

/*
 * Neither flag changes the pixels of a good file. STOPONWARNING makes a
 * truncated or corrupt file an error at once, instead of a grey-filled
 * image after decoding every remaining row; LIMITSCANS refuses progressive
 * files with more than 500 scans, which otherwise take minutes to decode.
 */
#define JPEG_FLAGS (TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS)

/* Adobe CMYK, stored inverted (255 = no ink), as ImageMagick reads every
 * 4-component JPEG: R = (255 - C') (255 - K') / 255 with C' = 255 - C,
 * i.e. R = C * K / 255 on the stored samples, rounded to nearest. */
static void cmyk_to_rgb(const uint8_t *cmyk, uint8_t *rgb, size_t pixels)
{
    for (size_t i = 0; i < pixels; i++, cmyk += 4, rgb += 3) {
        unsigned k = cmyk[3];
        rgb[0] = (uint8_t)((cmyk[0] * k + 127) / 255);
        rgb[1] = (uint8_t)((cmyk[1] * k + 127) / 255);
        rgb[2] = (uint8_t)((cmyk[2] * k + 127) / 255);
    }
}

static ward_err tj_fail(tjhandle h, const char *what, char *err,
                        size_t errlen)
{
    return ward_media_fail(err, errlen, WARD_ERR_MALFORMED,
                           "jpeg: %s (%s)", what, tjGetErrorStr2(h));
}

ward_err ward_media_decode_jpeg(const uint8_t *p, size_t n,
                                uint64_t max_pixels, ward_image *out,
                                char *err, size_t errlen)
{
    ward_err e = WARD_OK;
    uint8_t *cmyk = NULL;
    tjhandle h = tjInitDecompress();
    if (!h)
        return ward_media_fail(err, errlen, WARD_ERR_NOMEM,
                               "jpeg: cannot start the decoder");
    /* turbojpeg takes an unsigned long length. */
    if (n > (size_t)(unsigned long)-1 || n < 4) {
        e = ward_media_fail(err, errlen, WARD_ERR_MALFORMED,
                            "jpeg: the file is truncated");
        goto done;
    }
    int w, hgt, subsamp, cs;
    if (tjDecompressHeader3(h, p, (unsigned long)n, &w, &hgt, &subsamp,
                            &cs) != 0) {
        e = tj_fail(h, "cannot read the header", err, errlen);
        goto done;
    }
    int pf, channels;
    switch (cs) {
    case TJCS_GRAY: pf = TJPF_GRAY, channels = 1; break;
    case TJCS_CMYK:
    case TJCS_YCCK: pf = TJPF_CMYK, channels = 3; break;
    default: pf = TJPF_RGB, channels = 3; break;
    }
    size_t size;
    /* CMYK needs a 4-byte-per-pixel buffer before the conversion. */
    e = ward_media_check_size("jpeg", w > 0 ? (uint64_t)w : 0,
                              hgt > 0 ? (uint64_t)hgt : 0,
                              pf == TJPF_CMYK ? 4 : channels, max_pixels,
                              &size, err, errlen);
    if (e)
        goto done;
    uint8_t *dst;
    if (pf == TJPF_CMYK) {
        if (!(cmyk = malloc(size))) {
            e = ward_media_fail(err, errlen, WARD_ERR_NOMEM,
                                "jpeg: out of memory for %dx%d pixels", w,
                                hgt);
            goto done;
        }
        size = size / 4 * 3;
        dst = cmyk;
    }
    e = ward_media_alloc("jpeg", (uint32_t)w, (uint32_t)hgt, channels, size,
                         out, err, errlen);
    if (e)
        goto done;
    if (pf != TJPF_CMYK)
        dst = out->pixels;
    int pitch = w * tjPixelSize[pf];
    if (tjDecompress2(h, p, (unsigned long)n, dst, w, pitch, hgt, pf,
                      JPEG_FLAGS) != 0) {
        e = tj_fail(h, "truncated or corrupt data", err, errlen);
        goto done;
    }
    if (pf == TJPF_CMYK)
        cmyk_to_rgb(cmyk, out->pixels, (size_t)w * (size_t)hgt);
done:
    if (e)
        ward_image_free(out);
    free(cmyk);
    tjDestroy(h);
    return e;
}
