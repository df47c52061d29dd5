/*
 * The PDQ hash: luma, two Jarosz (box-filter) passes, decimation to 64x64,
 * the quality metric, a 16x16 DCT and the median threshold. Every step
 * keeps the reference's float arithmetic and its order of operations,
 * because the hash must be bit-identical: a different rounding moves a
 * coefficient across the median now and then. This file is compiled with
 * -ffp-contract=off so that no multiply-add is fused.
 *
 * The reference blurs the whole image four times (rows, columns, rows,
 * columns) and then keeps 64x64 of its samples. Here the same arithmetic
 * is streamed, so no whole-image float buffer exists:
 *   A. luma and the first row pass, eight rows at a time side by side
 *      (one vector lane per row: a running sum along one row is a chain
 *      of dependent additions), into a ring of rows;
 *   B. the first column pass, one output row at a time, from the ring;
 *   C. the second row pass, eight rows at a time: its running sums must
 *      still see every column, but only the 64 columns decimation reads
 *      are divided and kept;
 *   D. the second column pass over those 64 columns, divided only at the
 *      64 rows decimation reads.
 * Each kept sample gets exactly the additions, subtractions and division
 * the reference gives it; test_pdq compares this file with a plain
 * whole-image version on images of many shapes.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE__
#include <xmmintrin.h>
#endif

#include "pdq_internal.h"

#define MIN_HASHABLE_DIM 5
#define LANES 8

/* Eight floats; the unaligned type is for rows at any offset. */
typedef float v8f __attribute__((vector_size(LANES * sizeof(float))));
typedef float v8fu
    __attribute__((vector_size(LANES * sizeof(float)), aligned(4)));

/* A box pass's four phases for window |w| over |len| samples: output k is
 * the mean of inputs [k - (w - half), k + half - 1] clipped to the array.
 * The running sum adds p1 samples first; then p2 outputs each add one; p3
 * each add one and drop one; p4 each drop one. */
typedef struct box {
    uint32_t p1, p2, p3, p4;
} box;

static box box_for(uint32_t len, uint32_t w)
{
    uint32_t half = (w + 2) / 2;
    return (box){half - 1, w - half + 1, len - w, half - 1};
}

/* ceil(dim / 128): each pass is half of one 64th of the image. */
static uint32_t window_for(uint32_t dim)
{
    return (dim + 2 * 64 - 1) / (2 * 64);
}

/* Decimation's point samples: index floor((i + 0.5) * dim / 64). */
static void sample_points(uint32_t dim, uint32_t at[64])
{
    for (int i = 0; i < 64; i++)
        at[i] = (uint32_t)(((i + 0.5) * dim) / 64);
}

/* Products of each channel's weight with each byte value, so that a
 * pixel's luma is two additions, in the reference's order: the same
 * products the reference computes, looked up instead of computed. */
typedef struct luma_lut {
    float r[256], g[256], b[256];
} luma_lut;

static void luma_lut_init(luma_lut *l)
{
    const float cr = 0.299f, cg = 0.587f, cb = 0.114f;
    for (int v = 0; v < 256; v++) {
        float f = (float)v;
        l->r[v] = cr * f;
        l->g[v] = cg * f;
        l->b[v] = cb * f;
    }
}

typedef struct pipe {
    const uint8_t *px;
    int channels;
    luma_lut lut;
    uint32_t w, h;
    box row, col;
    uint32_t cols_at[64], rows_at[64];
    /* Stage A: eight rows interleaved (t: luma, u: blurred), and the ring
     * of blurred rows stage B reads. */
    v8f *t, *u;
    float *ring;
    uint32_t ring_rows, produced;
    /* Stage A's luma rows; stage B's running sums and its last
     * up-to-eight output rows. */
    float *group;
    float *sum;
    float *c_in;
    /* Stage C's output: h rows of the 64 sampled columns. */
    float *c;
} pipe;

static float *ring_row(const pipe *p, uint32_t r)
{
    return p->ring + (size_t)(r % p->ring_rows) * p->w;
}

/* Eight rows side by side: t[i * 8 + r] = rows[r][i]. Four-by-four SSE
 * transposes where there is SSE (every x86-64); only data moves. */
static void interleave8(const float *const rows[LANES], float *t, uint32_t w)
{
    uint32_t i = 0;
#ifdef __SSE__
    for (; i + 4 <= w; i += 4)
        for (int half = 0; half < LANES; half += 4) {
            __m128 a = _mm_loadu_ps(rows[half] + i);
            __m128 b = _mm_loadu_ps(rows[half + 1] + i);
            __m128 c = _mm_loadu_ps(rows[half + 2] + i);
            __m128 d = _mm_loadu_ps(rows[half + 3] + i);
            _MM_TRANSPOSE4_PS(a, b, c, d);
            _mm_store_ps(t + (size_t)i * LANES + half, a);
            _mm_store_ps(t + (size_t)(i + 1) * LANES + half, b);
            _mm_store_ps(t + (size_t)(i + 2) * LANES + half, c);
            _mm_store_ps(t + (size_t)(i + 3) * LANES + half, d);
        }
#endif
    for (; i < w; i++)
        for (int r = 0; r < LANES; r++)
            t[(size_t)i * LANES + r] = rows[r][i];
}

/* The inverse, for the first |n| rows. */
static void deinterleave8(const float *t, float *const rows[LANES],
                          uint32_t n, uint32_t w)
{
    uint32_t i = 0;
#ifdef __SSE__
    for (; i + 4 <= w; i += 4)
        for (uint32_t half = 0; half < n; half += 4) {
            __m128 a = _mm_load_ps(t + (size_t)i * LANES + half);
            __m128 b = _mm_load_ps(t + (size_t)(i + 1) * LANES + half);
            __m128 c = _mm_load_ps(t + (size_t)(i + 2) * LANES + half);
            __m128 d = _mm_load_ps(t + (size_t)(i + 3) * LANES + half);
            _MM_TRANSPOSE4_PS(a, b, c, d);
            __m128 v[4] = {a, b, c, d};
            for (uint32_t r = half; r < n && r < half + 4; r++)
                _mm_storeu_ps(rows[r] + i, v[r - half]);
        }
#endif
    for (; i < w; i++)
        for (uint32_t r = 0; r < n; r++)
            rows[r][i] = t[(size_t)i * LANES + r];
}

/* One box pass along eight interleaved rows at once, a vector lane each:
 * the reference's running sum on every lane. */
static void box8(const v8f *in, v8f *out, box b)
{
    v8f acc = {0};
    uint32_t ri = 0, li = 0, oi = 0, count = 0;
    for (uint32_t i = 0; i < b.p1; i++, count++)
        acc += in[ri++];
    for (uint32_t i = 0; i < b.p2; i++) {
        acc += in[ri++];
        count++;
        out[oi++] = acc / (float)count;
    }
    for (uint32_t i = 0; i < b.p3; i++) {
        acc += in[ri++];
        acc -= in[li++];
        out[oi++] = acc / (float)count;
    }
    for (uint32_t i = 0; i < b.p4; i++) {
        acc -= in[li++];
        count--;
        out[oi++] = acc / (float)count;
    }
}

static void luma_row(const luma_lut *l, const uint8_t *px, int channels,
                     uint32_t w, float *out)
{
    if (channels == 1) {
        for (uint32_t i = 0; i < w; i++)
            out[i] = (float)px[i];
        return;
    }
    for (uint32_t i = 0; i < w; i++, px += 3)
        out[i] = l->r[px[0]] + l->g[px[1]] + l->b[px[2]];
}

/* Stage A for rows [s, s + n), n <= 8: luma into |group| (zeros past n),
 * side by side into t, blurred into u, and back out into the ring. */
static void stage_a(pipe *p, uint32_t s, uint32_t n)
{
    uint32_t w = p->w;
    const float *in[LANES];
    float *out[LANES];
    for (uint32_t r = 0; r < LANES; r++) {
        float *row = p->group + (size_t)r * w;
        if (r < n)
            luma_row(&p->lut, p->px + (size_t)(s + r) * w * p->channels,
                     p->channels, w, row);
        else
            memset(row, 0, w * sizeof *row);
        in[r] = row;
        out[r] = r < n ? ring_row(p, s + r) : NULL;
    }
    interleave8(in, (float *)p->t, w);
    box8(p->t, p->u, p->row);
    deinterleave8((const float *)p->u, out, n, w);
}

/* Blurred row |r| of the first row pass, making it if need be. */
static const float *row_a(pipe *p, uint32_t r)
{
    while (p->produced <= r) {
        uint32_t n = p->h - p->produced < LANES ? p->h - p->produced : LANES;
        stage_a(p, p->produced, n);
        p->produced += n;
    }
    return ring_row(p, r);
}

/* sum += add (if any); sum -= sub (if any); out = sum / count, over a row
 * of w samples; the same operations, element by element, as the
 * reference's running sum down one column. */
static void col_step(float *sum, const float *add, const float *sub,
                     float *out, uint32_t w, float count)
{
    uint32_t j = 0;
    for (; j + LANES <= w; j += LANES) {
        v8f s = *(v8fu *)(sum + j);
        if (add)
            s += *(const v8fu *)(add + j);
        if (sub)
            s -= *(const v8fu *)(sub + j);
        *(v8fu *)(sum + j) = s;
        if (out)
            *(v8fu *)(out + j) = s / count;
    }
    for (; j < w; j++) {
        float s = sum[j];
        if (add)
            s += add[j];
        if (sub)
            s -= sub[j];
        sum[j] = s;
        if (out)
            out[j] = s / count;
    }
}

/* Stage C for the |n| rows of |p->c_in| that are rows [s, s + n): the
 * running sums along every column, divided only where decimation reads. */
static void stage_c(pipe *p, uint32_t s, uint32_t n)
{
    const float *in[LANES];
    for (uint32_t r = 0; r < LANES; r++)
        in[r] = p->c_in + (size_t)(r < n ? r : 0) * p->w;
    interleave8(in, (float *)p->t, p->w);
    const v8f *t = p->t;
    v8f acc = {0}, kept[64];
    uint32_t ri = 0, li = 0, oi = 0, count = 0, next = 0;
#define KEEP()                                                   \
    do {                                                         \
        while (next < 64 && p->cols_at[next] == oi)              \
            kept[next++] = acc / (float)count;                   \
        oi++;                                                    \
    } while (0)
    for (uint32_t i = 0; i < p->row.p1; i++, count++)
        acc += t[ri++];
    for (uint32_t i = 0; i < p->row.p2; i++) {
        acc += t[ri++];
        count++;
        KEEP();
    }
    for (uint32_t i = 0; i < p->row.p3; i++) {
        acc += t[ri++];
        acc -= t[li++];
        KEEP();
    }
    for (uint32_t i = 0; i < p->row.p4; i++) {
        acc -= t[li++];
        count--;
        KEEP();
    }
#undef KEEP
    for (uint32_t r = 0; r < n; r++)
        for (int j = 0; j < 64; j++)
            p->c[(size_t)(s + r) * 64 + j] = kept[j][r];
}

/* Stages B and C: the first column pass, row by row, feeding the second
 * row pass eight rows at a time. */
static void stages_bc(pipe *p)
{
    uint32_t w = p->w, o = 0, count = 0, enter = 0;
    memset(p->sum, 0, w * sizeof *p->sum);
    for (uint32_t i = 0; i < p->col.p1; i++, count++, enter++)
        col_step(p->sum, row_a(p, enter), NULL, NULL, w, 0.0f);
    uint32_t end2 = p->col.p2, end3 = end2 + p->col.p3, end4 = end3 + p->col.p4;
    for (; o < end4; o++) {
        float *out = p->c_in + (size_t)(o % LANES) * w;
        if (o < end2) {
            count++;
            col_step(p->sum, row_a(p, enter++), NULL, out, w, (float)count);
        } else if (o < end3) {
            const float *add = row_a(p, enter++);
            col_step(p->sum, add, ring_row(p, o - end2), out, w,
                     (float)count);
        } else {
            count--;
            col_step(p->sum, NULL, ring_row(p, o - end2), out, w,
                     (float)count);
        }
        if (o % LANES == LANES - 1 || o == end4 - 1)
            stage_c(p, o - o % LANES, o % LANES + 1);
    }
}

/* Stage D: the second column pass over the 64 sampled columns, kept at
 * the 64 sampled rows. */
static void stage_d(const pipe *p, float out[64][64])
{
    float sum[64] = {0};
    const float *c = p->c;
    uint32_t ri = 0, li = 0, oi = 0, count = 0, next = 0;
#define ADD(r) for (int j = 0; j < 64; j++) sum[j] += c[(size_t)(r) * 64 + j]
#define SUB(r) for (int j = 0; j < 64; j++) sum[j] -= c[(size_t)(r) * 64 + j]
#define KEEP()                                                   \
    do {                                                         \
        while (next < 64 && p->rows_at[next] == oi) {            \
            for (int j = 0; j < 64; j++)                         \
                out[next][j] = sum[j] / (float)count;            \
            next++;                                              \
        }                                                        \
        oi++;                                                    \
    } while (0)
    for (uint32_t i = 0; i < p->col.p1; i++, count++, ri++)
        ADD(ri);
    for (uint32_t i = 0; i < p->col.p2; i++, ri++) {
        ADD(ri);
        count++;
        KEEP();
    }
    for (uint32_t i = 0; i < p->col.p3; i++, ri++, li++) {
        ADD(ri);
        SUB(li);
        KEEP();
    }
    for (uint32_t i = 0; i < p->col.p4; i++, li++) {
        SUB(li);
        count--;
        KEEP();
    }
#undef ADD
#undef SUB
#undef KEEP
}

static void pipe_free(pipe *p)
{
    free(p->t);
    free(p->u);
    free(p->ring);
    free(p->sum);
    free(p->group);
    free(p->c_in);
    free(p->c);
}

/* The blurred, decimated 64x64 luma of an image at least 5x5. */
static ward_err blur_decimate(const uint8_t *px, uint32_t w, uint32_t h,
                              int channels, float out[64][64])
{
    pipe p = {.px = px, .channels = channels, .w = w, .h = h};
    luma_lut_init(&p.lut);
    uint32_t wr = window_for(w), wc = window_for(h);
    p.row = box_for(w, wr);
    p.col = box_for(h, wc);
    sample_points(w, p.cols_at);
    sample_points(h, p.rows_at);
    /* Stage B needs rows [o - p2, o + p1] (wc + 1 of them) while stage A
     * writes up to eight rows ahead. */
    p.ring_rows = wc + 1 + LANES;
    size_t vbytes = ((size_t)w * sizeof(v8f) + 31) / 32 * 32;
    p.t = aligned_alloc(32, vbytes);
    p.u = aligned_alloc(32, vbytes);
    p.ring = malloc((size_t)p.ring_rows * w * sizeof(float));
    p.sum = malloc(w * sizeof(float));
    p.group = malloc((size_t)LANES * w * sizeof(float));
    p.c_in = malloc((size_t)LANES * w * sizeof(float));
    p.c = malloc((size_t)h * 64 * sizeof(float));
    if (!p.t || !p.u || !p.ring || !p.sum || !p.group || !p.c_in || !p.c) {
        pipe_free(&p);
        return WARD_ERR_NOMEM;
    }
    stages_bc(&p);
    stage_d(&p, out);
    pipe_free(&p);
    return WARD_OK;
}

/* The 64x64 input the reference hashes as it is. */
static void luma64(const uint8_t *px, int channels, float out[64][64])
{
    for (int i = 0; i < 64; i++)
        for (int j = 0; j < 64; j++, px += channels) {
            if (channels == 1) {
                out[i][j] = (float)px[0];
            } else {
                const float cr = 0.299f, cg = 0.587f, cb = 0.114f;
                float R = px[0], G = px[1], B = px[2];
                out[i][j] = cr * R + cg * G + cb * B;
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
static pthread_once_t dct_once = PTHREAD_ONCE_INIT;

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

ward_err ward_pdq_dct_of(const uint8_t *pixels, uint32_t width,
                         uint32_t height, int channels, float b[16][16],
                         int *quality, int *tiny)
{
    if (!pixels || (channels != 1 && channels != 3) || width == 0 ||
        height == 0)
        return WARD_ERR_INVALID_ARG;
    *tiny = width < MIN_HASHABLE_DIM || height < MIN_HASHABLE_DIM;
    if (*tiny) {
        *quality = 0;
        return WARD_OK;
    }
    float buf[64][64];
    if (width == 64 && height == 64) {
        /* Already the size: the reference skips blur and decimation. */
        luma64(pixels, channels, buf);
    } else {
        ward_err e = blur_decimate(pixels, width, height, channels, buf);
        if (e != WARD_OK)
            return e;
    }
    *quality = quality_of(buf);
    pthread_once(&dct_once, dct_build);
    dct16(buf, b);
    return WARD_OK;
}

static int cmp_float(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return a < b ? -1 : a > b;
}

void ward_pdq_threshold(const float b[16][16], ward_pdq *out)
{
    /* The lower median (the 128th smallest), as Torben's algorithm in
     * the reference returns; a bit is set strictly above it. */
    float sorted[256];
    memcpy(sorted, b, sizeof sorted);
    qsort(sorted, 256, sizeof *sorted, cmp_float);
    float median = sorted[127];
    memset(out, 0, sizeof *out);
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j++)
            if (b[i][j] > median)
                out->w[i] |= (uint16_t)(1u << j);
}
