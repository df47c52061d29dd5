/*
 * ward — pdq: Meta's PDQ perceptual hash, bit for bit equal to the
 * reference C++ core on full-resolution pixels (the path HMA,
 * python-threatexchange and pdqhash-python take, and the one hash lists
 * are exchanged in), its quality metric, the 8 dihedral variants, and the
 * hash's text form and distance. The arithmetic is the reference's: float
 * throughout, in the same order (see ../shared/pdq/PDQ.md).
 */
#ifndef WARD_PDQ_H
#define WARD_PDQ_H

#include <stddef.h>
#include <stdint.h>

#include "ward/err.h"

#define WARD_PDQ_HEX_LEN 64
/* The reference's advice: hashes of quality below this are unreliable. */
#define WARD_PDQ_QUALITY_MIN 50
/* A distance at or below this is a match (pdq/README.md). */
#define WARD_PDQ_MATCH_DISTANCE 31

/* 256 bits: bit k (0..255) is w[k / 16] >> (k % 16) & 1, the DCT
 * coefficient at row k / 16, column k % 16 above the median. */
typedef struct ward_pdq {
    uint16_t w[16];
} ward_pdq;

/* The 8 variants, in the reference's order. */
enum {
    WARD_PDQ_ORIG, WARD_PDQ_ROT90, WARD_PDQ_ROT180, WARD_PDQ_ROT270,
    WARD_PDQ_FLIPX, WARD_PDQ_FLIPY, WARD_PDQ_FLIPPLUS1, WARD_PDQ_FLIPMINUS1,
    WARD_PDQ_VARIANTS
};
const char *ward_pdq_variant_name(int v);

/*
 * Hashes an image of |width| x |height| pixels with |channels| 1 (grey,
 * used as luma) or 3 (RGB), rows top to bottom without padding. |quality|
 * gets 0..100. An image under 5 pixels on a side hashes to zero with
 * quality 0. |variants| (may be NULL) gets all 8 dihedral variants, [0]
 * being the hash itself. WARD_ERR_NOMEM, or WARD_ERR_INVALID_ARG for a
 * bad shape.
 */
ward_err ward_pdq_hash(const uint8_t *pixels, uint32_t width, uint32_t height,
                       int channels, ward_pdq *hash, int *quality,
                       ward_pdq variants[WARD_PDQ_VARIANTS]);

/* 64 lowercase hex digits and a NUL, as the reference prints it. */
void ward_pdq_format(const ward_pdq *h, char out[WARD_PDQ_HEX_LEN + 1]);
/* Exactly 64 hex digits (either case), nothing else: WARD_OK, or
 * WARD_ERR_MALFORMED. */
ward_err ward_pdq_parse(const char *s, size_t n, ward_pdq *out);
/* The hash as the 32 bytes its hex form spells, most significant first
 * (the byte form hash lists use), and back. */
#define WARD_PDQ_BYTES 32
void ward_pdq_from_bytes(const uint8_t b[WARD_PDQ_BYTES], ward_pdq *out);
void ward_pdq_to_bytes(const ward_pdq *h, uint8_t b[WARD_PDQ_BYTES]);
/* Hamming distance, 0..256. */
int ward_pdq_distance(const ward_pdq *a, const ward_pdq *b);

#endif
