/* The hash's text form and distance. */
#include <stdio.h>

#include "ward/buf.h"
#include "ward/pdq.h"

void ward_pdq_format(const ward_pdq *h, char out[WARD_PDQ_HEX_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    /* Word 15 first: the text is a big-endian 256-bit number. */
    for (int i = 0; i < 16; i++) {
        uint16_t w = h->w[15 - i];
        for (int k = 0; k < 4; k++)
            out[i * 4 + k] = hex[(w >> (12 - 4 * k)) & 0xf];
    }
    out[WARD_PDQ_HEX_LEN] = 0;
}


ward_err ward_pdq_parse(const char *s, size_t n, ward_pdq *out)
{
    if (!s || n != WARD_PDQ_HEX_LEN)
        return WARD_ERR_MALFORMED;
    ward_pdq h;
    for (int i = 0; i < 16; i++) {
        uint16_t w = 0;
        for (int k = 0; k < 4; k++) {
            int v = ward_hex_digit(s[i * 4 + k]);
            if (v < 0)
                return WARD_ERR_MALFORMED;
            w = (uint16_t)(w << 4 | v);
        }
        h.w[15 - i] = w;
    }
    *out = h;
    return WARD_OK;
}

int ward_pdq_distance(const ward_pdq *a, const ward_pdq *b)
{
    int d = 0;
    for (int i = 0; i < 16; i++)
        d += __builtin_popcount((unsigned)(a->w[i] ^ b->w[i]));
    return d;
}

void ward_pdq_from_bytes(const uint8_t b[WARD_PDQ_BYTES], ward_pdq *out)
{
    for (int i = 0; i < 16; i++)
        out->w[15 - i] = (uint16_t)(b[2 * i] << 8 | b[2 * i + 1]);
}

void ward_pdq_to_bytes(const ward_pdq *h, uint8_t b[WARD_PDQ_BYTES])
{
    for (int i = 0; i < 16; i++) {
        b[2 * i] = (uint8_t)(h->w[15 - i] >> 8);
        b[2 * i + 1] = (uint8_t)h->w[15 - i];
    }
}
