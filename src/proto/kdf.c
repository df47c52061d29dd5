/* The Double Ratchet's key derivations, as libsignal-protocol-c does them. */
#include <string.h>

#include "proto_internal.h"

static const uint8_t seed_byte = 0x01, next_byte = 0x02;

void ward_chain_step(const uint8_t chain[32], uint8_t seed[32],
                     uint8_t next[32])
{
    /* Both HMACs share the chain key: key once, copy the state. */
    ward_hmac keyed, h;
    ward_hmac_init(&keyed, chain, 32);
    h = keyed;
    ward_hmac_update(&h, &seed_byte, 1);
    ward_hmac_final(&h, seed);
    ward_hmac_update(&keyed, &next_byte, 1);
    ward_hmac_final(&keyed, next); /* |next| may alias |chain|: read above */
}

void ward_msg_keys_derive(const uint8_t seed[32], ward_msg_keys *k)
{
    static const char info[] = "WhisperMessageKeys";
    uint8_t okm[80];
    /* Cannot fail: 80 bytes is well under HKDF's limit. */
    (void)ward_hkdf_sha256(okm, sizeof okm, seed, 32, NULL, 0,
                           (const uint8_t *)info, sizeof info - 1);
    memcpy(k->cipher, okm, 32);
    memcpy(k->mac, okm + 32, 32);
    memcpy(k->iv, okm + 64, 16);
    ward_memzero(okm, sizeof okm);
}

void ward_group_keys_derive(const uint8_t seed[32], uint8_t iv[16],
                            uint8_t cipher[32])
{
    static const char info[] = "WhisperGroup";
    uint8_t okm[48];
    /* Cannot fail: 48 bytes is well under HKDF's limit. */
    (void)ward_hkdf_sha256(okm, sizeof okm, seed, 32, NULL, 0,
                           (const uint8_t *)info, sizeof info - 1);
    memcpy(iv, okm, 16);
    memcpy(cipher, okm + 16, 32);
    ward_memzero(okm, sizeof okm);
}

ward_err ward_root_step(const uint8_t root[32], const uint8_t priv[32],
                        const uint8_t their_pub[32], uint8_t new_root[32],
                        uint8_t chain[32])
{
    static const char info[] = "WhisperRatchet";
    uint8_t shared[32], okm[64];
    ward_err e = ward_x25519(shared, priv, their_pub);
    if (!e)
        e = ward_hkdf_sha256(okm, sizeof okm, shared, sizeof shared, root, 32,
                             (const uint8_t *)info, sizeof info - 1);
    if (!e) {
        memcpy(new_root, okm, 32);
        memcpy(chain, okm + 32, 32);
    }
    ward_memzero(shared, sizeof shared);
    ward_memzero(okm, sizeof okm);
    return e;
}
