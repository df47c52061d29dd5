/* Library start-up, randomness, wiping and secure memory. */
#include <sodium.h>

#include "crypto_internal.h"
#include "ward/crypto.h"

ward_err ward_crypto_init(void)
{
    if (sodium_init() < 0)
        return WARD_ERR_INTERNAL;
    return ward_crypto_aes_init();
}

void ward_random(uint8_t *out, size_t n)
{
    randombytes_buf(out, n);
}

void ward_memzero(void *p, size_t n)
{
    sodium_memzero(p, n);
}

int ward_ct_equal(const void *a, const void *b, size_t n)
{
    return sodium_memcmp(a, b, n) == 0;
}

void *ward_secure_alloc(size_t n)
{
    return sodium_malloc(n);
}

void ward_secure_free(void *p)
{
    if (p)
        sodium_free(p);
}
