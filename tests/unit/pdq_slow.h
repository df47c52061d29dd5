/* The plain PDQ pipeline, for comparison with src/pdq (tests only). */
#ifndef WARD_TEST_PDQ_SLOW_H
#define WARD_TEST_PDQ_SLOW_H

#include <stdint.h>

#include "ward/pdq.h"

/* The hash, its quality and the 16x16 DCT it thresholds (zero for a tiny
 * image): 0, or -1 when out of memory. */
int pdq_slow_hash(const uint8_t *px, uint32_t w, uint32_t h, int channels,
                  ward_pdq *out, int *quality, float b[16][16]);

#endif
