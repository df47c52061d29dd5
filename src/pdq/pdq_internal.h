/* Private to the pdq module. */
#ifndef WARD_PDQ_INTERNAL_H
#define WARD_PDQ_INTERNAL_H

#include "ward/pdq.h"

/* The 16x16 DCT of an image and its quality; |*tiny| when a side is under
 * 5 pixels (then |b| is untouched and the quality 0). */
ward_err ward_pdq_dct_of(const uint8_t *pixels, uint32_t width,
                         uint32_t height, int channels, float b[16][16],
                         int *quality, int *tiny);
/* Bits above the lower median of |b|. */
void ward_pdq_threshold(const float b[16][16], ward_pdq *out);

#endif
