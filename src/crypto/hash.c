/* SHA-2, HMAC-SHA-256 and HKDF-SHA-256 (RFC 5869) on libsodium's SHA-2. */
#include <sodium.h>
#include <string.h>

#include "ward/crypto.h"

_Static_assert(sizeof(crypto_auth_hmacsha256_state) <= sizeof(ward_hmac),
               "ward_hmac too small for libsodium's HMAC state");

void ward_sha256(uint8_t out[WARD_SHA256_LEN], const uint8_t *msg, size_t n)
{
    crypto_hash_sha256(out, msg, n);
}

void ward_sha512(uint8_t out[WARD_SHA512_LEN], const uint8_t *msg, size_t n)
{
    crypto_hash_sha512(out, msg, n);
}

void ward_hmac_init(ward_hmac *h, const uint8_t *key, size_t key_len)
{
    crypto_auth_hmacsha256_init((crypto_auth_hmacsha256_state *)h->opaque,
                                key, key_len);
}

void ward_hmac_update(ward_hmac *h, const uint8_t *msg, size_t n)
{
    crypto_auth_hmacsha256_update((crypto_auth_hmacsha256_state *)h->opaque,
                                  msg, n);
}

void ward_hmac_final(ward_hmac *h, uint8_t out[WARD_SHA256_LEN])
{
    crypto_auth_hmacsha256_final((crypto_auth_hmacsha256_state *)h->opaque,
                                 out);
    sodium_memzero(h, sizeof *h);
}

void ward_hmac_sha256(uint8_t out[WARD_SHA256_LEN], const uint8_t *key,
                      size_t key_len, const uint8_t *msg, size_t msg_len)
{
    ward_hmac h;
    ward_hmac_init(&h, key, key_len);
    ward_hmac_update(&h, msg, msg_len);
    ward_hmac_final(&h, out);
}

ward_err ward_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *ikm,
                          size_t ikm_len, const uint8_t *salt, size_t salt_len,
                          const uint8_t *info, size_t info_len)
{
    static const uint8_t zero_salt[WARD_SHA256_LEN];
    if (out_len > 255 * WARD_SHA256_LEN || (!out && out_len))
        return WARD_ERR_INVALID_ARG;
    if (!salt || salt_len == 0) {
        salt = zero_salt;
        salt_len = sizeof zero_salt;
    }

    uint8_t prk[WARD_SHA256_LEN];
    ward_hmac_sha256(prk, salt, salt_len, ikm, ikm_len);

    /* The keyed state is computed once and copied for each output block. */
    ward_hmac keyed, h;
    ward_hmac_init(&keyed, prk, sizeof prk);
    uint8_t t[WARD_SHA256_LEN];
    size_t done = 0;
    for (uint8_t i = 1; done < out_len; i++) {
        memcpy(&h, &keyed, sizeof h);
        if (i > 1)
            ward_hmac_update(&h, t, sizeof t);
        ward_hmac_update(&h, info, info_len);
        ward_hmac_update(&h, &i, 1);
        ward_hmac_final(&h, t);
        size_t n = out_len - done < sizeof t ? out_len - done : sizeof t;
        memcpy(out + done, t, n);
        done += n;
    }
    sodium_memzero(prk, sizeof prk);
    sodium_memzero(t, sizeof t);
    sodium_memzero(&keyed, sizeof keyed);
    return WARD_OK;
}
