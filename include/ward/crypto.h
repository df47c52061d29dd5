/* ward — cryptographic primitives: a thin layer over libsodium and OpenSSL. */
#ifndef WARD_CRYPTO_H
#define WARD_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "ward/buf.h"
#include "ward/err.h"

#define WARD_X25519_LEN 32  /* X25519 private and public key size */
#define WARD_XEDDSA_SIG_LEN 64
#define WARD_XEDDSA_RANDOM_LEN 64
#define WARD_SHA256_LEN 32
#define WARD_SHA512_LEN 64
#define WARD_AES256_KEY_LEN 32
#define WARD_AES_BLOCK_LEN 16

/*
 * Initialises libsodium. Call once before any other ward function; safe to
 * call again. WARD_ERR_INTERNAL if the library cannot start.
 */
ward_err ward_crypto_init(void);

/* Fills |out| with |n| bytes from the operating system's CSPRNG. */
void ward_random(uint8_t *out, size_t n);

/* Wipes |n| bytes at |p| in a way the compiler cannot elide. */
void ward_memzero(void *p, size_t n);

/* Constant-time comparison: 1 if equal, 0 if not. */
int ward_ct_equal(const void *a, const void *b, size_t n);

/*
 * Memory for long-lived secrets: guard pages, mlock'd, excluded from core
 * dumps (sodium_malloc). Returns NULL when out of memory. ward_secure_free
 * wipes and frees; NULL does nothing.
 */
void *ward_secure_alloc(size_t n);
void ward_secure_free(void *p);

/* ---- X25519 (RFC 7748) ---- */

/* Draws a fresh clamped private key and its public key. */
ward_err ward_x25519_keypair(uint8_t priv[WARD_X25519_LEN],
                             uint8_t pub[WARD_X25519_LEN]);

/* Computes the public key of |priv| (which is clamped as X25519 requires). */
ward_err ward_x25519_public(uint8_t pub[WARD_X25519_LEN],
                            const uint8_t priv[WARD_X25519_LEN]);

/*
 * The shared secret of |priv| and |pub|. WARD_ERR_CRYPTO if the result is
 * all zeros (|pub| is a low-order point), so a peer cannot force a known key.
 */
ward_err ward_x25519(uint8_t shared[WARD_X25519_LEN],
                     const uint8_t priv[WARD_X25519_LEN],
                     const uint8_t pub[WARD_X25519_LEN]);

/* ---- XEdDSA signatures on Curve25519 keys (Signal's specification) ---- */

/* Signs |msg| with the X25519 private key |priv|, with fresh randomness. */
ward_err ward_xeddsa_sign(uint8_t sig[WARD_XEDDSA_SIG_LEN],
                          const uint8_t priv[WARD_X25519_LEN],
                          const uint8_t *msg, size_t msg_len);

/* As ward_xeddsa_sign with caller-chosen randomness Z (for known answers). */
ward_err ward_xeddsa_sign_z(uint8_t sig[WARD_XEDDSA_SIG_LEN],
                            const uint8_t priv[WARD_X25519_LEN],
                            const uint8_t *msg, size_t msg_len,
                            const uint8_t z[WARD_XEDDSA_RANDOM_LEN]);

/*
 * A private key prepared for signing many messages: the Edwards key pair
 * (a, A) that ward_xeddsa_sign derives from the key each time, one base
 * point multiplication of its two. Signatures are the same. Holds a
 * secret: wipe it (ward_memzero) when done.
 */
typedef struct ward_xeddsa_signer {
    uint8_t a[32];
    uint8_t A[32];
} ward_xeddsa_signer;
ward_err ward_xeddsa_signer_init(ward_xeddsa_signer *sg,
                                 const uint8_t priv[WARD_X25519_LEN]);
/* As ward_xeddsa_sign, with fresh randomness. */
ward_err ward_xeddsa_signer_sign(uint8_t sig[WARD_XEDDSA_SIG_LEN],
                                 const ward_xeddsa_signer *sg,
                                 const uint8_t *msg, size_t msg_len);

/*
 * Verifies |sig| over |msg| against the X25519 public key |pub|.
 * WARD_OK, WARD_ERR_AUTH (also for a non-canonical key or signature), or
 * WARD_ERR_NOMEM. Like libsignal-protocol-c 2.3, it takes the top bit of
 * byte 63 as the sign of the Edwards key (docs/protocol.md).
 */
ward_err ward_xeddsa_verify(const uint8_t sig[WARD_XEDDSA_SIG_LEN],
                            const uint8_t pub[WARD_X25519_LEN],
                            const uint8_t *msg, size_t msg_len);

/*
 * A public key prepared for verifying many signatures: its Edwards form,
 * which ward_xeddsa_verify computes each time (a field inversion).
 * _init gives WARD_OK also for a key that no signature can verify under
 * (u >= p, say: _verify then gives WARD_ERR_AUTH), or WARD_ERR_NOMEM.
 * Results are those of ward_xeddsa_verify.
 */
typedef struct ward_xeddsa_verifier {
    uint8_t ed[32];
    int valid;
} ward_xeddsa_verifier;
ward_err ward_xeddsa_verifier_init(ward_xeddsa_verifier *v,
                                   const uint8_t pub[WARD_X25519_LEN]);
ward_err ward_xeddsa_verifier_verify(const ward_xeddsa_verifier *v,
                                     const uint8_t sig[WARD_XEDDSA_SIG_LEN],
                                     const uint8_t *msg, size_t msg_len);

/* ---- hashes, HMAC and HKDF ---- */

void ward_sha256(uint8_t out[WARD_SHA256_LEN], const uint8_t *msg, size_t n);
/* MD5, for the exact-match hash lists that use it (not for security). */
#define WARD_MD5_LEN 16
void ward_md5(uint8_t out[WARD_MD5_LEN], const uint8_t *msg, size_t n);
void ward_sha512(uint8_t out[WARD_SHA512_LEN], const uint8_t *msg, size_t n);

/* Incremental SHA-256, for files hashed as they stream. */
typedef struct ward_sha256_ctx {
    uint8_t opaque[128] __attribute__((aligned(16)));
} ward_sha256_ctx;
void ward_sha256_init(ward_sha256_ctx *c);
void ward_sha256_update(ward_sha256_ctx *c, const uint8_t *msg, size_t n);
void ward_sha256_final(ward_sha256_ctx *c, uint8_t out[WARD_SHA256_LEN]);

/* HMAC-SHA-256 (RFC 2104) with a key of any length. */
void ward_hmac_sha256(uint8_t out[WARD_SHA256_LEN], const uint8_t *key,
                      size_t key_len, const uint8_t *msg, size_t msg_len);

/* Incremental HMAC-SHA-256, for MACs over several pieces. The state is
 * plain memory: after ward_hmac_init it may be copied by value to reuse the
 * keyed state for several messages (each copy finalised once). */
typedef struct ward_hmac {
    uint8_t opaque[256] __attribute__((aligned(16)));
} ward_hmac;
void ward_hmac_init(ward_hmac *h, const uint8_t *key, size_t key_len);
void ward_hmac_update(ward_hmac *h, const uint8_t *msg, size_t n);
/* Writes the tag and wipes the state. */
void ward_hmac_final(ward_hmac *h, uint8_t out[WARD_SHA256_LEN]);

/*
 * HKDF-SHA-256 (RFC 5869): extract with |salt| (NULL or empty means 32 zero
 * bytes, as the RFC says), then expand to |out_len| bytes with |info|.
 * WARD_ERR_INVALID_ARG if |out_len| exceeds 255 * 32.
 */
ward_err ward_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *ikm,
                          size_t ikm_len, const uint8_t *salt, size_t salt_len,
                          const uint8_t *info, size_t info_len);

/* ---- AES-256-CBC with PKCS#7 padding (OpenSSL) ---- */

/* Encrypts |n| bytes; appends n + (16 - n % 16) bytes of ciphertext to |out|. */
ward_err ward_aes256_cbc_encrypt(ward_buf *out,
                                 const uint8_t key[WARD_AES256_KEY_LEN],
                                 const uint8_t iv[WARD_AES_BLOCK_LEN],
                                 const uint8_t *pt, size_t n);

/*
 * Decrypts and unpads, appending the plaintext to |out|. WARD_ERR_AUTH for a
 * length that is not a positive multiple of 16 or for bad padding. Callers
 * must authenticate the ciphertext first: padding errors are not a MAC.
 */
ward_err ward_aes256_cbc_decrypt(ward_buf *out,
                                 const uint8_t key[WARD_AES256_KEY_LEN],
                                 const uint8_t iv[WARD_AES_BLOCK_LEN],
                                 const uint8_t *ct, size_t n);

/*
 * ---- attachment encryption: libsodium's secretstream ----
 * XChaCha20-Poly1305 over 64 KiB chunks, each authenticated and the last
 * one tagged final, so reordered, altered, dropped or truncated chunks
 * are all detected. Layout: a 24-byte header, then each chunk's
 * ciphertext (its plaintext + 17 bytes). An empty file is one empty
 * final chunk. Every attachment gets a fresh random 32-byte key.
 */
#define WARD_STREAM_KEY_LEN 32
#define WARD_STREAM_HEADER_LEN 24
#define WARD_STREAM_ABYTES 17
#define WARD_STREAM_CHUNK 65536

typedef struct ward_stream {
    uint8_t opaque[64] __attribute__((aligned(16)));
} ward_stream;

/* The encrypted size of |plain| bytes. */
uint64_t ward_stream_sealed_size(uint64_t plain);

ward_err ward_stream_seal_init(ward_stream *st,
                               const uint8_t key[WARD_STREAM_KEY_LEN],
                               uint8_t header[WARD_STREAM_HEADER_LEN]);
/* Encrypts one chunk (at most WARD_STREAM_CHUNK bytes, all but the last
 * exactly that) into |out| (n + WARD_STREAM_ABYTES bytes). */
ward_err ward_stream_seal(ward_stream *st, const uint8_t *in, size_t n,
                          int final, uint8_t *out);

/* WARD_ERR_AUTH for a header that does not fit the key. */
ward_err ward_stream_open_init(ward_stream *st,
                               const uint8_t key[WARD_STREAM_KEY_LEN],
                               const uint8_t header[WARD_STREAM_HEADER_LEN]);
/* Decrypts one chunk of |n| bytes (its plaintext + ABYTES) into |out|
 * (n - ABYTES bytes); |*final| tells whether it was the last.
 * WARD_ERR_AUTH if it was altered, reordered or forged. */
ward_err ward_stream_open(ward_stream *st, const uint8_t *in, size_t n,
                          uint8_t *out, int *final);

/* Wipes the state. */
void ward_stream_wipe(ward_stream *st);

/*
 * A sealed stream's bytes as they arrive, decrypted into |fd|, with the
 * checks that make the result the plaintext the sender committed to:
 * feed gives WARD_ERR_AUTH as soon as the bytes cannot be that stream
 * (more than |plain_size| allows, a chunk that does not open, a final
 * chunk too early), WARD_ERR_IO if |fd| cannot be written; finish gives
 * WARD_ERR_AUTH if the stream is truncated or the plaintext's SHA-256 is
 * not |sha256|. Errors are sticky. The key is wiped by free.
 */
#define WARD_STREAM_MAX_PLAIN (1ULL << 40)
typedef struct ward_stream_dec ward_stream_dec;
ward_err ward_stream_dec_new(ward_stream_dec **out, const uint8_t key[32],
                             uint64_t plain_size, int fd);
ward_err ward_stream_dec_feed(ward_stream_dec *d, const uint8_t *p,
                              size_t n);
ward_err ward_stream_dec_finish(ward_stream_dec *d,
                                const uint8_t sha256[32]);
void ward_stream_dec_free(ward_stream_dec *d);

#endif
