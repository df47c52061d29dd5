/* X25519 key agreement (RFC 7748) through libsodium. */
#include <sodium.h>

#include "ward/crypto.h"

ward_err ward_x25519_keypair(uint8_t priv[WARD_X25519_LEN],
                             uint8_t pub[WARD_X25519_LEN])
{
    randombytes_buf(priv, WARD_X25519_LEN);
    /* Store the key clamped: libsignal serialises private keys clamped, and
     * XEdDSA needs the same scalar that X25519 uses. */
    priv[0] &= 248;
    priv[31] &= 127;
    priv[31] |= 64;
    return ward_x25519_public(pub, priv);
}

ward_err ward_x25519_public(uint8_t pub[WARD_X25519_LEN],
                            const uint8_t priv[WARD_X25519_LEN])
{
    if (crypto_scalarmult_curve25519_base(pub, priv) != 0)
        return WARD_ERR_CRYPTO;
    return WARD_OK;
}

ward_err ward_x25519(uint8_t shared[WARD_X25519_LEN],
                     const uint8_t priv[WARD_X25519_LEN],
                     const uint8_t pub[WARD_X25519_LEN])
{
    /* libsodium returns -1 when the result is all zeros (low-order point). */
    if (crypto_scalarmult_curve25519(shared, priv, pub) != 0) {
        sodium_memzero(shared, WARD_X25519_LEN);
        return WARD_ERR_CRYPTO;
    }
    return WARD_OK;
}
