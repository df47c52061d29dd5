/* The hash and its dihedral variants, from the DCT. */
#include <string.h>

#include "pdq_internal.h"

static const char *const names[WARD_PDQ_VARIANTS] = {
    "orig", "rot90", "rot180", "rot270",
    "flipx", "flipy", "flipplus1", "flipminus1"};

const char *ward_pdq_variant_name(int v)
{
    return v >= 0 && v < WARD_PDQ_VARIANTS ? names[v] : "?";
}

/* The variants act on the DCT, before thresholding: a transpose swaps the
 * axes, and a mirror along an axis negates that axis's odd frequencies
 * (even indices here, the DC row being skipped). */
static void variant(const float b[16][16], int v, float out[16][16])
{
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j++) {
            float x = b[i][j];
            int iodd = i & 1, jodd = j & 1, sum_odd = (i + j) & 1;
            switch (v) {
            case WARD_PDQ_ROT90:
                out[j][i] = jodd ? x : -x;
                break;
            case WARD_PDQ_ROT180:
                out[i][j] = sum_odd ? -x : x;
                break;
            case WARD_PDQ_ROT270:
                out[j][i] = iodd ? x : -x;
                break;
            case WARD_PDQ_FLIPX:
                out[i][j] = iodd ? x : -x;
                break;
            case WARD_PDQ_FLIPY:
                out[i][j] = jodd ? x : -x;
                break;
            case WARD_PDQ_FLIPPLUS1:
                out[j][i] = x;
                break;
            case WARD_PDQ_FLIPMINUS1:
                out[j][i] = sum_odd ? -x : x;
                break;
            default:
                out[i][j] = x;
                break;
            }
        }
}

ward_err ward_pdq_hash(const uint8_t *pixels, uint32_t width, uint32_t height,
                       int channels, ward_pdq *hash, int *quality,
                       ward_pdq variants[WARD_PDQ_VARIANTS])
{
    float b[16][16];
    int tiny = 0;
    ward_err e = ward_pdq_dct_of(pixels, width, height, channels, b, quality,
                                 &tiny);
    if (e)
        return e;
    if (tiny) {
        memset(hash, 0, sizeof *hash);
        if (variants)
            memset(variants, 0, WARD_PDQ_VARIANTS * sizeof *variants);
        return WARD_OK;
    }
    ward_pdq_threshold(b, hash);
    if (variants) {
        variants[0] = *hash;
        for (int v = 1; v < WARD_PDQ_VARIANTS; v++) {
            float t[16][16];
            variant(b, v, t);
            ward_pdq_threshold(t, &variants[v]);
        }
    }
    return WARD_OK;
}
