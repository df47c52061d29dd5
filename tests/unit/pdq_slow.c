/*
 * The PDQ pipeline written the plain way, one whole-image step after
 * another, as ../shared/pdq/PDQ.md describes it: the yardstick the fast,
 * streaming src/pdq/pdq.c is compared with on images of every shape
 * (test_pdq). This version is the one that first matched all the
 * reference images bit for bit. Compiled with -ffp-contract=off, like
 * src/pdq.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pdq_slow.h"

#define JAROSZ_PASSES 2

static void luma_of(const uint8_t *px, uint32_t w, uint32_t h, int channels,
                    float *out)
{
    size_t n = (size_t)w * h;
    if (channels == 1) {
        for (size_t i = 0; i < n; i++)
            out[i] = (float)px[i];
        return;
    }
    const float cr = 0.299f, cg = 0.587f, cb = 0.114f;
    for (size_t i = 0; i < n; i++, px += 3) {
        float r = px[0], g = px[1], b = px[2];
        out[i] = cr * r + cg * g + cb * b;
    }
}

/* One box pass along a row of |len| samples (contiguous): output k is the
 * mean of inputs [k - (w - half), k + half - 1] clipped to the row, with
 * a running sum that adds the entering sample before subtracting the
 * leaving one, as the reference does. */
static void box_row(const float *in, float *out, uint32_t len, uint32_t w)
{
    uint32_t half = (w + 2) / 2;
    uint32_t p1 = half - 1, p2 = w - half + 1, p3 = len - w, p4 = half - 1;
    uint32_t li = 0, ri = 0, oi = 0, count = 0;
    float sum = 0.0f;
    for (uint32_t i = 0; i < p1; i++) {
        sum += in[ri++];
        count++;
    }
    for (uint32_t i = 0; i < p2; i++) {
        sum += in[ri++];
        count++;
        out[oi++] = sum / (float)count;
    }
    for (uint32_t i = 0; i < p3; i++) {
        sum += in[ri++];
        sum -= in[li++];
        out[oi++] = sum / (float)count;
    }
    for (uint32_t i = 0; i < p4; i++) {
        sum -= in[li++];
        count--;
        out[oi++] = sum / (float)count;
    }
}

/* The same pass down every column at once (a row of running sums), so
 * that memory is read in order; each column sees exactly the operations
 * box_row would do on it. */
static void box_cols(const float *in, float *out, uint32_t rows,
                     uint32_t cols, uint32_t w, float *sum)
{
    uint32_t half = (w + 2) / 2;
    uint32_t p1 = half - 1, p2 = w - half + 1, p3 = rows - w, p4 = half - 1;
    uint32_t li = 0, ri = 0, oi = 0, count = 0;
    memset(sum, 0, cols * sizeof *sum);
    for (uint32_t i = 0; i < p1; i++, ri++) {
        const float *r = in + (size_t)ri * cols;
        for (uint32_t j = 0; j < cols; j++)
            sum[j] += r[j];
        count++;
    }
    for (uint32_t i = 0; i < p2; i++, ri++, oi++) {
        const float *r = in + (size_t)ri * cols;
        float *o = out + (size_t)oi * cols;
        count++;
        for (uint32_t j = 0; j < cols; j++) {
            sum[j] += r[j];
            o[j] = sum[j] / (float)count;
        }
    }
    for (uint32_t i = 0; i < p3; i++, ri++, li++, oi++) {
        const float *r = in + (size_t)ri * cols, *l = in + (size_t)li * cols;
        float *o = out + (size_t)oi * cols;
        for (uint32_t j = 0; j < cols; j++) {
            sum[j] += r[j];
            sum[j] -= l[j];
            o[j] = sum[j] / (float)count;
        }
    }
    for (uint32_t i = 0; i < p4; i++, li++, oi++) {
        const float *l = in + (size_t)li * cols;
        float *o = out + (size_t)oi * cols;
        count--;
        for (uint32_t j = 0; j < cols; j++) {
            sum[j] -= l[j];
            o[j] = sum[j] / (float)count;
        }
    }
}

/* ceil(dim / 128): each pass is half of one 64th of the image. */
static uint32_t window_for(uint32_t dim)
{
    return (dim + 2 * 64 - 1) / (2 * 64);
}

/* Two passes of rows then columns over |a| (|b| is scratch); the result
 * is back in |a|. */
static void jarosz(float *a, float *b, uint32_t rows, uint32_t cols,
                   float *sum)
{
    uint32_t wr = window_for(cols), wc = window_for(rows);
    for (int pass = 0; pass < JAROSZ_PASSES; pass++) {
        for (uint32_t i = 0; i < rows; i++)
            box_row(a + (size_t)i * cols, b + (size_t)i * cols, cols, wr);
        box_cols(b, a, rows, cols, wc, sum);
    }
}

/* Point sampling (not averaging): output (i, j) reads row
 * floor((i + 0.5) * rows / 64), column floor((j + 0.5) * cols / 64). */
static void decimate(const float *in, uint32_t rows, uint32_t cols,
                     float out[64][64])
{
    for (int i = 0; i < 64; i++) {
        size_t ii = (size_t)(((i + 0.5) * rows) / 64);
        for (int j = 0; j < 64; j++) {
            size_t jj = (size_t)(((j + 0.5) * cols) / 64);
            out[i][j] = in[ii * cols + jj];
        }
    }
}

static int quality_of(const float a[64][64])
{
    int sum = 0;
    for (int i = 0; i < 63; i++)
        for (int j = 0; j < 64; j++) {
            int d = (int)(((a[i][j] - a[i + 1][j]) * 100) / 255);
            sum += abs(d);
        }
    for (int i = 0; i < 64; i++)
        for (int j = 0; j < 63; j++) {
            int d = (int)(((a[i][j] - a[i][j + 1]) * 100) / 255);
            sum += abs(d);
        }
    int q = sum / 90;
    return q > 100 ? 100 : q;
}

/* DCT-II basis rows 1..16 (the DC row skipped), built once. */
static float dct_matrix[16][64];

static void dct_build(void)
{
    /* M_PI's value (not in ISO C). */
    const double pi = 3.14159265358979323846;
    const double scale = sqrt(2.0 / 64.0);
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 64; j++)
            dct_matrix[i][j] = (float)(scale * cos((pi / 2 / 64.0) *
                                                   (i + 1) * (2 * j + 1)));
}

/* B = D A D^T, sums in float in k order. */
static void dct16(const float a[64][64], float b[16][16])
{
    float tt[16][64];
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 64; j++) {
            float s = 0.0f;
            for (int k = 0; k < 64; k++)
                s += dct_matrix[i][k] * a[k][j];
            tt[i][j] = s;
        }
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j++) {
            float s = 0.0f;
            for (int k = 0; k < 64; k++)
                s += tt[i][k] * dct_matrix[j][k];
            b[i][j] = s;
        }
}

static int cmp_float(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return a < b ? -1 : a > b;
}

int pdq_slow_hash(const uint8_t *px, uint32_t w, uint32_t h, int channels,
                  ward_pdq *out, int *quality, float b[16][16])
{
    memset(out, 0, sizeof *out);
    memset(b, 0, 256 * sizeof(float));
    *quality = 0;
    if (w < 5 || h < 5)
        return 0;
    size_t n = (size_t)w * h;
    float *a = malloc(n * sizeof *a), *s = malloc(n * sizeof *s);
    float *sum = malloc(w * sizeof *sum);
    if (!a || !s || !sum) {
        free(a);
        free(s);
        free(sum);
        return -1;
    }
    luma_of(px, w, h, channels, a);
    float buf[64][64];
    if (w == 64 && h == 64) {
        memcpy(buf, a, sizeof buf);
    } else {
        jarosz(a, s, h, w, sum);
        decimate(a, h, w, buf);
    }
    free(a);
    free(s);
    free(sum);
    *quality = quality_of(buf);
    dct_build();
    float sorted[256];
    dct16(buf, b);
    memcpy(sorted, b, sizeof sorted);
    qsort(sorted, 256, sizeof *sorted, cmp_float);
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j++)
            if (b[i][j] > sorted[127])
                out->w[i] |= (uint16_t)(1u << j);
    return 0;
}
