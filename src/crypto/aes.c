/* AES-256-CBC with PKCS#7 padding through OpenSSL's EVP interface. */
#include <openssl/evp.h>
#include <pthread.h>

#include "crypto_internal.h"
#include "ward/crypto.h"

static EVP_CIPHER *aes_cbc;
static pthread_once_t aes_once = PTHREAD_ONCE_INIT;
/* One cipher context per thread, reused: allocating one per message was a
 * measurable share of a small message's cost. Freed when the thread ends. */
static pthread_key_t ctx_key;

static void ctx_free(void *ctx)
{
    EVP_CIPHER_CTX_free(ctx);
}

static void aes_fetch(void)
{
    aes_cbc = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
    if (aes_cbc && pthread_key_create(&ctx_key, ctx_free) != 0) {
        EVP_CIPHER_free(aes_cbc);
        aes_cbc = NULL;
    }
}

static EVP_CIPHER_CTX *thread_ctx(void)
{
    EVP_CIPHER_CTX *ctx = pthread_getspecific(ctx_key);
    if (!ctx) {
        ctx = EVP_CIPHER_CTX_new();
        if (ctx && pthread_setspecific(ctx_key, ctx) != 0) {
            EVP_CIPHER_CTX_free(ctx);
            ctx = NULL;
        }
    }
    return ctx;
}

ward_err ward_crypto_aes_init(void)
{
    pthread_once(&aes_once, aes_fetch);
    return aes_cbc ? WARD_OK : WARD_ERR_INTERNAL;
}

static ward_err aes_run(ward_buf *out, const uint8_t *key, const uint8_t *iv,
                        const uint8_t *in, size_t n, int enc)
{
    if (ward_crypto_aes_init() != WARD_OK)
        return WARD_ERR_INTERNAL;
    if (n > (size_t)INT32_MAX - WARD_AES_BLOCK_LEN)
        return WARD_ERR_TOO_BIG;
    ward_err err = ward_buf_reserve(out, n + WARD_AES_BLOCK_LEN);
    if (err)
        return err;
    EVP_CIPHER_CTX *ctx = thread_ctx();
    if (!ctx)
        return WARD_ERR_NOMEM;

    /* A failure on the decrypt side is bad padding or a bad length: one
     * authentication error, whatever the reason. */
    err = enc ? WARD_ERR_INTERNAL : WARD_ERR_AUTH;
    uint8_t *dst = out->data + out->len;
    int n1 = 0, n2 = 0;
    if (EVP_CipherInit_ex2(ctx, aes_cbc, key, iv, enc, NULL) != 1)
        goto done;
    if (EVP_CipherUpdate(ctx, dst, &n1, in, (int)n) != 1)
        goto done;
    if (EVP_CipherFinal_ex(ctx, dst + n1, &n2) != 1) {
        ward_memzero(dst, (size_t)n1);
        goto done;
    }
    out->len += (size_t)n1 + (size_t)n2;
    err = WARD_OK;
done:
    /* Drop the key schedule from the reused context (costs no measurable
     * time: the context's memory is kept). */
    EVP_CIPHER_CTX_reset(ctx);
    return err;
}

ward_err ward_aes256_cbc_encrypt(ward_buf *out,
                                 const uint8_t key[WARD_AES256_KEY_LEN],
                                 const uint8_t iv[WARD_AES_BLOCK_LEN],
                                 const uint8_t *pt, size_t n)
{
    return aes_run(out, key, iv, pt, n, 1);
}

ward_err ward_aes256_cbc_decrypt(ward_buf *out,
                                 const uint8_t key[WARD_AES256_KEY_LEN],
                                 const uint8_t iv[WARD_AES_BLOCK_LEN],
                                 const uint8_t *ct, size_t n)
{
    if (n == 0 || n % WARD_AES_BLOCK_LEN != 0)
        return WARD_ERR_AUTH;
    return aes_run(out, key, iv, ct, n, 0);
}
