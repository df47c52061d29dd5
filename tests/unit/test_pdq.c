/*
 * The pdq module without image files: the text form and its parser, the
 * distance, tiny images, and a 64x64 image built from DCT basis functions
 * so that the expected bits follow from the construction (the reference
 * hashes a 64x64 input without blur or decimation). The reference images
 * are checked in test_pdq_reference. The streaming src/pdq is compared
 * with a plain whole-image version (pdq_slow.c) on images of many shapes:
 * the reference images alone never reach its edge cases (fewer than eight
 * rows left, windows of one, sides just above 5 or 64, long thin images).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ward/crypto.h"
#include "../../src/pdq/pdq_internal.h"
#include "pdq_slow.h"
#include "ward/pdq.h"
#include "wtest.h"

/* Expected values from ../shared/data/pdq-reference/expected_pdq.csv
 * (fullres) and the Java reference's test, as PDQ.md reports it: bridge vs
 * its 90-degree rotation is 120 bits. */
static const char bridge1[] =
    "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
static const char bridge2[] =
    "30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af";

static void test_text(void)
{
    ward_pdq h, g;
    char out[WARD_PDQ_HEX_LEN + 1];
    CHECK_EQ_INT(ward_pdq_parse(bridge1, 64, &h), WARD_OK);
    ward_pdq_format(&h, out);
    CHECK(strcmp(out, bridge1) == 0);
    /* The first 4 hex digits are DCT row 15, the last one's low bit is
     * coefficient (0, 0) (PDQ.md, "Hex format"). */
    CHECK_EQ_INT(h.w[15], 0xf8f8);
    CHECK_EQ_INT(h.w[0], 0x9b22);
    char upper[65];
    for (int i = 0; i < 64; i++)
        upper[i] = (char)(bridge1[i] >= 'a' ? bridge1[i] - 32 : bridge1[i]);
    upper[64] = 0;
    CHECK_EQ_INT(ward_pdq_parse(upper, 64, &g), WARD_OK);
    CHECK_EQ_INT(ward_pdq_distance(&h, &g), 0);
    CHECK_EQ_INT(ward_pdq_parse(bridge1, 63, &g), WARD_ERR_MALFORMED);
    /* The byte form is the hex digits' bytes, in their order. */
    uint8_t bytes[WARD_PDQ_BYTES], want[WARD_PDQ_BYTES];
    wtest_hex(want, bridge1);
    ward_pdq_to_bytes(&h, bytes);
    CHECK_MEM(bytes, want, sizeof want);
    ward_pdq_from_bytes(want, &g);
    CHECK_EQ_INT(ward_pdq_distance(&h, &g), 0);
    CHECK_MEM(&g, &h, sizeof h);
    CHECK_EQ_INT(ward_pdq_parse(bridge1, 65, &g), WARD_ERR_MALFORMED);
    char bad[65];
    memcpy(bad, bridge1, 65);
    bad[10] = 'g';
    CHECK_EQ_INT(ward_pdq_parse(bad, 64, &g), WARD_ERR_MALFORMED);
    bad[10] = ' ';
    CHECK_EQ_INT(ward_pdq_parse(bad, 64, &g), WARD_ERR_MALFORMED);
    CHECK_EQ_INT(ward_pdq_parse(NULL, 64, &g), WARD_ERR_MALFORMED);

    CHECK_EQ_INT(ward_pdq_parse(bridge2, 64, &g), WARD_OK);
    CHECK_EQ_INT(ward_pdq_distance(&h, &g), 120);
    CHECK_EQ_INT(ward_pdq_distance(&g, &h), 120);
    memset(&g, 0, sizeof g);
    ward_pdq ones;
    memset(&ones, 0xff, sizeof ones);
    CHECK_EQ_INT(ward_pdq_distance(&g, &ones), 256);
    CHECK(strcmp(ward_pdq_variant_name(WARD_PDQ_FLIPMINUS1), "flipminus1") ==
          0);
}

static void test_tiny(void)
{
    uint8_t px[4 * 100 * 3];
    memset(px, 200, sizeof px);
    for (size_t i = 0; i < sizeof px; i += 7)
        px[i] = 3;
    ward_pdq h, v[WARD_PDQ_VARIANTS], zero;
    memset(&zero, 0, sizeof zero);
    int q = -1;
    CHECK_EQ_INT(ward_pdq_hash(px, 4, 100, 3, &h, &q, v), WARD_OK);
    CHECK(memcmp(&h, &zero, sizeof h) == 0 && q == 0);
    CHECK(memcmp(&v[5], &zero, sizeof zero) == 0);
    CHECK_EQ_INT(ward_pdq_hash(px, 100, 4, 3, &h, &q, NULL), WARD_OK);
    CHECK(memcmp(&h, &zero, sizeof h) == 0 && q == 0);
    /* 5 pixels is enough to hash. */
    CHECK_EQ_INT(ward_pdq_hash(px, 5, 5, 3, &h, &q, NULL), WARD_OK);
    CHECK(memcmp(&h, &zero, sizeof h) != 0);
    CHECK_EQ_INT(ward_pdq_hash(px, 5, 5, 2, &h, &q, NULL),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_pdq_hash(NULL, 5, 5, 1, &h, &q, NULL),
                 WARD_ERR_INVALID_ARG);
}

/* A 64x64 grey image whose DCT coefficient (i, j), i and j from 1 to 16,
 * is +A or -A by a fixed pattern: the hash must have exactly the +A ones
 * set, whatever the details of the arithmetic. */
static void test_basis_64(void)
{
    const double pi = 3.14159265358979323846, A = 12.0;
    int sign[16][16];
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j++)
            sign[i][j] = ((i * 16 + j) * 37 + 11) % 256 < 128 ? 1 : -1;
    static uint8_t px[64 * 64];
    for (int k = 0; k < 64; k++)
        for (int l = 0; l < 64; l++) {
            double v = 128;
            for (int i = 0; i < 16; i++)
                for (int j = 0; j < 16; j++)
                    v += sign[i][j] * A * (2.0 / 64) *
                         cos(pi / 128 * (i + 1) * (2 * k + 1)) *
                         cos(pi / 128 * (j + 1) * (2 * l + 1));
            px[k * 64 + l] = (uint8_t)lround(v);
        }
    ward_pdq h, v[WARD_PDQ_VARIANTS];
    int q;
    CHECK_EQ_INT(ward_pdq_hash(px, 64, 64, 1, &h, &q, v), WARD_OK);
    int wrong = 0;
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j++)
            wrong += ((h.w[i] >> j) & 1) != (sign[i][j] > 0);
    CHECK_EQ_INT(wrong, 0);
    /* flipplus1 is the transpose: bit (i, j) of it is bit (j, i). */
    wrong = 0;
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j++)
            wrong += ((v[WARD_PDQ_FLIPPLUS1].w[j] >> i) & 1) !=
                     (sign[i][j] > 0);
    CHECK_EQ_INT(wrong, 0);
    /* The same image as RGB hashes the same (luma of grey is grey). */
    static uint8_t rgb[64 * 64 * 3];
    for (int i = 0; i < 64 * 64; i++)
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = px[i];
    ward_pdq g;
    int q2;
    CHECK_EQ_INT(ward_pdq_hash(rgb, 64, 64, 3, &g, &q2, NULL), WARD_OK);
    CHECK(ward_pdq_distance(&g, &h) <= 2 && q2 == q);
}

/* RFC 1321's test suite. */
static void test_md5(void)
{
    static const struct {
        const char *in, *hex;
    } v[] = {{"", "d41d8cd98f00b204e9800998ecf8427e"},
             {"abc", "900150983cd24fb0d6963f7d28e17f72"},
             {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t d[WARD_MD5_LEN], want[WARD_MD5_LEN];
        ward_md5(d, (const uint8_t *)v[i].in, strlen(v[i].in));
        wtest_hex(want, v[i].hex);
        CHECK_MEM(d, want, WARD_MD5_LEN);
    }
}

/* A deterministic image mixing a gradient, blocks and noise, so that the
 * blur's running sums see varied values. */
static void fill(uint8_t *px, uint32_t w, uint32_t h, int ch, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (uint32_t r = 0; r < h; r++)
        for (uint32_t c = 0; c < w; c++)
            for (int k = 0; k < ch; k++) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                uint32_t v = (r * 255 / h + c * 97 / w + k * 40) +
                             (((r / 7) ^ (c / 11)) & 1) * 60 + (x & 31);
                *px++ = (uint8_t)v;
            }
}

static void test_same_as_plain(void)
{
    static const uint32_t sides[][2] = {
        {5, 5},     {6, 5},     {5, 9},    {7, 13},    {8, 8},
        {9, 9},     {15, 17},   {16, 16},  {17, 23},   {63, 64},
        {64, 63},   {65, 65},   {64, 65},  {127, 129}, {128, 128},
        {129, 127}, {200, 7},   {7, 200},  {255, 257}, {256, 256},
        {300, 199}, {5, 2000},  {2000, 5}, {640, 480}, {1001, 333},
        {1280, 720}, {1920, 1080}, {257, 1500}};
    int checked = 0, mismatched = 0;
    for (size_t i = 0; i < sizeof sides / sizeof sides[0]; i++)
        for (int ch = 1; ch <= 3; ch += 2) {
            uint32_t w = sides[i][0], h = sides[i][1];
            uint8_t *px = malloc((size_t)w * h * ch);
            if (!px) {
                CHECK(0);
                return;
            }
            fill(px, w, h, ch, (uint32_t)(i * 2 + ch));
            /* Not only the bits: every DCT coefficient, bit for bit,
             * since a rounding change flips a hash bit only now and then. */
            ward_pdq fast, plain;
            float bf[16][16], bp[16][16];
            int qf = -1, qp = -2, tiny = 0;
            CHECK_EQ_INT(ward_pdq_hash(px, w, h, ch, &fast, &qf, NULL),
                         WARD_OK);
            CHECK_EQ_INT(ward_pdq_dct_of(px, w, h, ch, bf, &qf, &tiny),
                         WARD_OK);
            CHECK_EQ_INT(pdq_slow_hash(px, w, h, ch, &plain, &qp, bp), 0);
            if (qf != qp || ward_pdq_distance(&fast, &plain) != 0 ||
                memcmp(bf, bp, sizeof bf) != 0) {
                fprintf(stderr, "%ux%u ch %d: quality %d vs %d, %d bits\n",
                        w, h, ch, qf, qp, ward_pdq_distance(&fast, &plain));
                mismatched++;
            }
            checked++;
            free(px);
        }
    CHECK_EQ_INT(mismatched, 0);
    CHECK_EQ_INT(checked, 56);
}

int main(void)
{
    test_md5();
    test_text();
    test_tiny();
    test_basis_64();
    test_same_as_plain();
    printf("test_pdq: %d passed, %d failed\n", wtest_pass, wtest_fail);
    return wtest_fail != 0;
}
