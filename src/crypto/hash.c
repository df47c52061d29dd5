/*
 * SHA-2, HMAC-SHA-256 (RFC 2104) and HKDF-SHA-256 (RFC 5869).
 *
 * The hashes are OpenSSL's: its SHA-256 uses the CPU's SHA extensions,
 * measured at 9x libsodium 1.0.18's portable C on this project's machines.
 * HMAC is built here on OpenSSL's plain SHA256_CTX rather than EVP_MAC,
 * because EVP_MAC_init costs ~600 ns of provider dispatch per key and the
 * ratchet keys a new HMAC four to six times per message; a plain context can
 * also be copied, so a keyed state is computed once and reused. The
 * low-level SHA256_* calls are deprecated in OpenSSL 3 but kept there, and
 * this file is their only user. RFC 4231 and 5869 vectors test the result.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <string.h>

#include "crypto_internal.h"
#include "ward/crypto.h"

typedef struct hmac_state {
    SHA256_CTX inner;
    SHA256_CTX outer;
} hmac_state;

_Static_assert(sizeof(hmac_state) <= sizeof(ward_hmac),
               "ward_hmac too small for two SHA-256 contexts");

#define BLOCK 64

void ward_sha256(uint8_t out[WARD_SHA256_LEN], const uint8_t *msg, size_t n)
{
    SHA256(msg, n, out);
}

_Static_assert(sizeof(SHA256_CTX) <= sizeof(ward_sha256_ctx),
               "ward_sha256_ctx too small for SHA256_CTX");

void ward_sha256_init(ward_sha256_ctx *c)
{
    SHA256_Init((SHA256_CTX *)c->opaque);
}

void ward_sha256_update(ward_sha256_ctx *c, const uint8_t *msg, size_t n)
{
    SHA256_Update((SHA256_CTX *)c->opaque, msg, n);
}

void ward_sha256_final(ward_sha256_ctx *c, uint8_t out[WARD_SHA256_LEN])
{
    SHA256_Final(out, (SHA256_CTX *)c->opaque);
    ward_memzero(c, sizeof *c);
}

void ward_sha512(uint8_t out[WARD_SHA512_LEN], const uint8_t *msg, size_t n)
{
    SHA512(msg, n, out);
}

void ward_hmac_init(ward_hmac *h, const uint8_t *key, size_t key_len)
{
    hmac_state *st = (hmac_state *)h->opaque;
    uint8_t k[BLOCK], pad[BLOCK];
    memset(k, 0, sizeof k);
    if (key_len > BLOCK)
        SHA256(key, key_len, k);
    else if (key_len)
        memcpy(k, key, key_len);
    for (int i = 0; i < BLOCK; i++)
        pad[i] = k[i] ^ 0x36;
    SHA256_Init(&st->inner);
    SHA256_Update(&st->inner, pad, BLOCK);
    for (int i = 0; i < BLOCK; i++)
        pad[i] = k[i] ^ 0x5c;
    SHA256_Init(&st->outer);
    SHA256_Update(&st->outer, pad, BLOCK);
    ward_memzero(k, sizeof k);
    ward_memzero(pad, sizeof pad);
}

void ward_hmac_update(ward_hmac *h, const uint8_t *msg, size_t n)
{
    SHA256_Update(&((hmac_state *)h->opaque)->inner, msg, n);
}

void ward_hmac_final(ward_hmac *h, uint8_t out[WARD_SHA256_LEN])
{
    hmac_state *st = (hmac_state *)h->opaque;
    uint8_t ih[WARD_SHA256_LEN];
    SHA256_Final(ih, &st->inner);
    SHA256_Update(&st->outer, ih, sizeof ih);
    SHA256_Final(out, &st->outer);
    ward_memzero(ih, sizeof ih);
    ward_memzero(h, sizeof *h);
}

void ward_hmac_sha256(uint8_t out[WARD_SHA256_LEN], const uint8_t *key,
                      size_t key_len, const uint8_t *msg, size_t msg_len)
{
    ward_hmac h;
    ward_hmac_init(&h, key, key_len);
    ward_hmac_update(&h, msg, msg_len);
    ward_hmac_final(&h, out);
}

/* HKDF's extract step with the all-zero salt is keyed the same way every
 * time: key it once. */
static ward_hmac zero_salt_key;
static pthread_once_t zero_salt_once = PTHREAD_ONCE_INIT;

static void zero_salt_init(void)
{
    static const uint8_t zeros[WARD_SHA256_LEN];
    ward_hmac_init(&zero_salt_key, zeros, sizeof zeros);
}

ward_err ward_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *ikm,
                          size_t ikm_len, const uint8_t *salt, size_t salt_len,
                          const uint8_t *info, size_t info_len)
{
    if (out_len > 255 * WARD_SHA256_LEN || (!out && out_len))
        return WARD_ERR_INVALID_ARG;

    uint8_t prk[WARD_SHA256_LEN];
    ward_hmac keyed, h;
    if (!salt || salt_len == 0) {
        pthread_once(&zero_salt_once, zero_salt_init);
        h = zero_salt_key;
    } else {
        ward_hmac_init(&h, salt, salt_len);
    }
    ward_hmac_update(&h, ikm, ikm_len);
    ward_hmac_final(&h, prk);

    ward_hmac_init(&keyed, prk, sizeof prk);
    uint8_t t[WARD_SHA256_LEN];
    size_t done = 0;
    for (uint8_t i = 1; done < out_len; i++) {
        h = keyed;
        if (i > 1)
            ward_hmac_update(&h, t, sizeof t);
        ward_hmac_update(&h, info, info_len);
        ward_hmac_update(&h, &i, 1);
        ward_hmac_final(&h, t);
        size_t n = out_len - done < sizeof t ? out_len - done : sizeof t;
        memcpy(out + done, t, n);
        done += n;
    }
    ward_memzero(prk, sizeof prk);
    ward_memzero(t, sizeof t);
    ward_memzero(&keyed, sizeof keyed);
    return WARD_OK;
}

/* MD5 is broken for security and used here only as the exact-match hash
 * NCMEC's lists carry; OpenSSL 3 still offers it in its default
 * provider. */
void ward_md5(uint8_t out[WARD_MD5_LEN], const uint8_t *msg, size_t n)
{
    unsigned int len = 0;
    if (EVP_Digest(msg, n, out, &len, EVP_md5(), NULL) != 1 ||
        len != WARD_MD5_LEN)
        memset(out, 0, WARD_MD5_LEN);
}
