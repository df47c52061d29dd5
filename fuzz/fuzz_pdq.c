/*
 * The PDQ hex parser (any bytes: a hash that formats back to the same
 * digits in lowercase, or WARD_ERR_MALFORMED) and the hash itself over
 * small images made of the input bytes (any shape from 1x1: no crash, a
 * quality from 0 to 100, variants consistent with the hash).
 */
#include <ctype.h>
#include <string.h>

#include "fuzz_common.h"
#include "ward/pdq.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    static const char hex[] =
        "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    fuzz_write_seed("hex", (const uint8_t *)hex, sizeof hex - 1);
    uint8_t img[2 + 40 * 30];
    img[0] = 40, img[1] = 30;
    for (size_t i = 2; i < sizeof img; i++)
        img[i] = (uint8_t)(i * 7);
    fuzz_write_seed("image", img, sizeof img);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    ward_pdq h;
    if (ward_pdq_parse((const char *)p, n, &h) == WARD_OK) {
        char out[WARD_PDQ_HEX_LEN + 1];
        ward_pdq_format(&h, out);
        for (size_t i = 0; i < WARD_PDQ_HEX_LEN; i++)
            FUZZ_ASSERT(out[i] == tolower(p[i]));
        FUZZ_ASSERT(ward_pdq_distance(&h, &h) == 0);
    }
    if (n < 3)
        return 0;
    uint32_t w = p[0] % 80 + 1, hgt = p[1] % 80 + 1;
    int channels = (p[0] & 0x80) ? 3 : 1;
    size_t need = (size_t)w * hgt * channels;
    if (n - 2 < need)
        return 0;
    ward_pdq v[WARD_PDQ_VARIANTS];
    int q = -1;
    FUZZ_ASSERT(ward_pdq_hash(p + 2, w, hgt, channels, &h, &q, v) == WARD_OK);
    FUZZ_ASSERT(q >= 0 && q <= 100);
    FUZZ_ASSERT(memcmp(&v[0], &h, sizeof h) == 0);
    return 0;
}
