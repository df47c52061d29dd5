/* WebP through libwebp: still images only, dimensions checked from the
 * bitstream header before the pixel buffer (ours) is allocated. */
#include <webp/decode.h>

#include "media_internal.h"

ward_err ward_media_decode_webp(const uint8_t *p, size_t n,
                                uint64_t max_pixels, ward_image *out,
                                char *err, size_t errlen)
{
    WebPBitstreamFeatures f;
    VP8StatusCode st = WebPGetFeatures(p, n, &f);
    if (st != VP8_STATUS_OK)
        return ward_media_fail(err, errlen, WARD_ERR_MALFORMED,
                               st == VP8_STATUS_NOT_ENOUGH_DATA
                                   ? "webp: the file is truncated"
                                   : "webp: cannot read the header");
    /* WebPDecode* refuses animations; their first frame would need
     * libwebpdemux and compositing, which ward does not do yet. */
    if (f.has_animation)
        return ward_media_fail(err, errlen, WARD_ERR_MALFORMED,
                               "webp: animated webp is not supported");
    size_t size;
    ward_err e = ward_media_check_size(
        "webp", f.width > 0 ? (uint64_t)f.width : 0,
        f.height > 0 ? (uint64_t)f.height : 0, 3, max_pixels, &size, err,
        errlen);
    if (e)
        return e;
    e = ward_media_alloc("webp", (uint32_t)f.width, (uint32_t)f.height, 3,
                         size, out, err, errlen);
    if (e)
        return e;
    /* RGB mode: the stored colour of each pixel, alpha dropped (libwebp
     * premultiplies only in its rgbA modes). */
    if (!WebPDecodeRGBInto(p, n, out->pixels, size, f.width * 3)) {
        ward_image_free(out);
        return ward_media_fail(err, errlen, WARD_ERR_MALFORMED,
                               "webp: truncated or corrupt data");
    }
    return WARD_OK;
}
