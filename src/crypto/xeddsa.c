/*
 * XEdDSA (Signal's "XEdDSA and VXEdDSA" specification, section 2.3): Ed25519
 * signatures made and checked with Curve25519 (Montgomery) keys. The point
 * and scalar arithmetic is libsodium's; the one field operation libsodium
 * does not expose, u -> y = (u - 1) / (u + 1) mod p on a public value, is
 * OpenSSL BIGNUM arithmetic.
 */
#include <openssl/bn.h>
#include <sodium.h>
#include <string.h>

#include "ward/crypto.h"

/* Reduces a 32-byte little-endian scalar modulo the group order L. */
static void scalar_reduce32(uint8_t out[32], const uint8_t in[32])
{
    uint8_t wide[64] = {0};
    memcpy(wide, in, 32);
    crypto_core_ed25519_scalar_reduce(out, wide);
    sodium_memzero(wide, sizeof wide);
}

ward_err ward_xeddsa_signer_init(ward_xeddsa_signer *sg,
                                 const uint8_t priv[WARD_X25519_LEN])
{
    uint8_t k[32];
    ward_err err = WARD_ERR_CRYPTO;

    /* The Montgomery private key k, clamped as X25519 uses it. */
    memcpy(k, priv, 32);
    k[0] &= 248;
    k[31] &= 127;
    k[31] |= 64;

    /* A = kB; choose a = +-k so that A's sign bit is 0. The sign depends only
     * on the public key, so branching on it leaks nothing secret. */
    if (crypto_scalarmult_ed25519_base_noclamp(sg->A, k) == 0) {
        scalar_reduce32(sg->a, k);
        if (sg->A[31] & 0x80) {
            crypto_core_ed25519_scalar_negate(sg->a, sg->a);
            sg->A[31] &= 0x7f;
        }
        err = WARD_OK;
    }
    sodium_memzero(k, sizeof k);
    if (err)
        sodium_memzero(sg, sizeof *sg);
    return err;
}

static ward_err sign_prepared(uint8_t sig[WARD_XEDDSA_SIG_LEN],
                              const ward_xeddsa_signer *sg,
                              const uint8_t *msg, size_t msg_len,
                              const uint8_t z[WARD_XEDDSA_RANDOM_LEN])
{
    static const uint8_t prefix[32] = {
        0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t r[32], R[32], h[32], s[32];
    uint8_t digest[64];
    crypto_hash_sha512_state st;
    ward_err err = WARD_ERR_CRYPTO;

    /* r = hash1(a || M || Z) mod L, hash1 = SHA-512 of (2^256 - 2) || ... */
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, prefix, sizeof prefix);
    crypto_hash_sha512_update(&st, sg->a, sizeof sg->a);
    crypto_hash_sha512_update(&st, msg, msg_len);
    crypto_hash_sha512_update(&st, z, WARD_XEDDSA_RANDOM_LEN);
    crypto_hash_sha512_final(&st, digest);
    crypto_core_ed25519_scalar_reduce(r, digest);

    if (crypto_scalarmult_ed25519_base_noclamp(R, r) != 0)
        goto done;

    /* h = SHA-512(R || A || M) mod L; s = r + h a mod L. */
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, R, sizeof R);
    crypto_hash_sha512_update(&st, sg->A, sizeof sg->A);
    crypto_hash_sha512_update(&st, msg, msg_len);
    crypto_hash_sha512_final(&st, digest);
    crypto_core_ed25519_scalar_reduce(h, digest);
    crypto_core_ed25519_scalar_mul(s, h, sg->a);
    crypto_core_ed25519_scalar_add(s, s, r);

    memcpy(sig, R, 32);
    memcpy(sig + 32, s, 32);
    err = WARD_OK;
done:
    sodium_memzero(r, sizeof r);
    sodium_memzero(s, sizeof s);
    sodium_memzero(digest, sizeof digest);
    sodium_memzero(&st, sizeof st);
    return err;
}

ward_err ward_xeddsa_signer_sign(uint8_t sig[WARD_XEDDSA_SIG_LEN],
                                 const ward_xeddsa_signer *sg,
                                 const uint8_t *msg, size_t msg_len)
{
    uint8_t z[WARD_XEDDSA_RANDOM_LEN];
    randombytes_buf(z, sizeof z);
    ward_err err = sign_prepared(sig, sg, msg, msg_len, z);
    sodium_memzero(z, sizeof z);
    return err;
}

ward_err ward_xeddsa_sign_z(uint8_t sig[WARD_XEDDSA_SIG_LEN],
                            const uint8_t priv[WARD_X25519_LEN],
                            const uint8_t *msg, size_t msg_len,
                            const uint8_t z[WARD_XEDDSA_RANDOM_LEN])
{
    ward_xeddsa_signer sg;
    ward_err err = ward_xeddsa_signer_init(&sg, priv);
    if (!err)
        err = sign_prepared(sig, &sg, msg, msg_len, z);
    sodium_memzero(&sg, sizeof sg);
    return err;
}

ward_err ward_xeddsa_sign(uint8_t sig[WARD_XEDDSA_SIG_LEN],
                          const uint8_t priv[WARD_X25519_LEN],
                          const uint8_t *msg, size_t msg_len)
{
    uint8_t z[WARD_XEDDSA_RANDOM_LEN];
    randombytes_buf(z, sizeof z);
    ward_err err = ward_xeddsa_sign_z(sig, priv, msg, msg_len, z);
    sodium_memzero(z, sizeof z);
    return err;
}

/* 2^255 - 19, big-endian, for BN_bin2bn. */
static const uint8_t field_p_be[32] = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xed};

/* Converts the Montgomery u of |pub| to the Edwards y with sign bit 0.
 * Refuses a u that is not reduced (u >= p), as libsignal does. */
static ward_err mont_to_edwards(uint8_t ed[32], const uint8_t pub[32])
{
    ward_err err = WARD_ERR_NOMEM;
    BN_CTX *ctx = BN_CTX_new();
    if (!ctx)
        return WARD_ERR_NOMEM;
    BN_CTX_start(ctx);
    BIGNUM *p = BN_CTX_get(ctx), *u = BN_CTX_get(ctx);
    BIGNUM *num = BN_CTX_get(ctx), *den = BN_CTX_get(ctx);
    if (!den || !BN_bin2bn(field_p_be, 32, p) || !BN_lebin2bn(pub, 32, u))
        goto done;
    err = WARD_ERR_AUTH;
    if (BN_cmp(u, p) >= 0)
        goto done;
    if (!BN_mod_sub(num, u, BN_value_one(), p, ctx) ||
        !BN_mod_add(den, u, BN_value_one(), p, ctx))
        goto done;
    /* u = -1 has no Edwards image (den = 0): no valid key is there. */
    if (BN_is_zero(den) || !BN_mod_inverse(den, den, p, ctx) ||
        !BN_mod_mul(num, num, den, p, ctx))
        goto done;
    if (BN_bn2lebinpad(num, ed, 32) != 32)
        goto done;
    ed[31] &= 0x7f;
    err = WARD_OK;
done:
    BN_CTX_end(ctx);
    BN_CTX_free(ctx);
    return err;
}

ward_err ward_xeddsa_verifier_init(ward_xeddsa_verifier *v,
                                   const uint8_t pub[WARD_X25519_LEN])
{
    ward_err e = mont_to_edwards(v->ed, pub);
    if (e == WARD_ERR_AUTH) {
        /* A key no signature verifies under: remembered as such. */
        memset(v->ed, 0, sizeof v->ed);
        v->valid = 0;
        return WARD_OK;
    }
    v->valid = e == WARD_OK;
    return e;
}

ward_err ward_xeddsa_verifier_verify(const ward_xeddsa_verifier *v,
                                     const uint8_t sig[WARD_XEDDSA_SIG_LEN],
                                     const uint8_t *msg, size_t msg_len)
{
    uint8_t ed[32], s[WARD_XEDDSA_SIG_LEN];
    if (!v->valid)
        return WARD_ERR_AUTH;
    /*
     * libsignal-protocol-c 2.3 signs with the older curve25519 scheme, which
     * keeps the Edwards key's real sign and stores that bit in the top bit
     * of byte 63; its verifier moves the bit back into the key. XEdDSA
     * signatures always have that bit clear, so honouring it accepts both.
     * The bit only chooses between A and -A, both held by the same private
     * key, so it lets nobody else sign.
     */
    memcpy(s, sig, sizeof s);
    uint8_t sign = s[63] & 0x80;
    s[63] &= 0x7f;
    if (s[63] & 0xe0)
        return WARD_ERR_AUTH;
    memcpy(ed, v->ed, sizeof ed);
    ed[31] |= sign;
    /* Same equation as Ed25519 (libsodium also refuses non-canonical s and
     * small-order R or A, which honest signatures never have). */
    if (crypto_sign_ed25519_verify_detached(s, msg, msg_len, ed) != 0)
        return WARD_ERR_AUTH;
    return WARD_OK;
}

ward_err ward_xeddsa_verify(const uint8_t sig[WARD_XEDDSA_SIG_LEN],
                            const uint8_t pub[WARD_X25519_LEN],
                            const uint8_t *msg, size_t msg_len)
{
    ward_xeddsa_verifier v;
    ward_err e = ward_xeddsa_verifier_init(&v, pub);
    return e ? e : ward_xeddsa_verifier_verify(&v, sig, msg, msg_len);
}
