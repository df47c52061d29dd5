#define _GNU_SOURCE
/*
 * Unit tests for the crypto module (include/ward/crypto.h) and ward_buf.
 *
 * Known answers come from the published documents, copied byte for byte:
 *   X25519        RFC 7748 section 5.2 (two scalar multiplications) and
 *                 section 6.1 (Alice/Bob Diffie-Hellman example)
 *   HMAC-SHA-256  RFC 4231 section 4, test cases 1-7
 *   HKDF-SHA-256  RFC 5869 appendix A.1, A.2 and A.3 (test cases 1-3)
 *   AES-256-CBC   NIST SP 800-38A appendix F.2.5 (CBC-AES256.Encrypt)
 *   SHA-256/512   FIPS 180-2 appendix B.1, B.2 / C.1, C.2 examples
 * XEdDSA has no published vector here (interop with libsignal is tested
 * elsewhere), so it is checked by round trips and tampering.
 */
#include <stdint.h>
#include <string.h>

#include "ward/buf.h"
#include "ward/crypto.h"
#include "ward/err.h"
#include "wtest.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- X25519 ---- */

/* RFC 7748 section 5.2: X25519(scalar, u) = out, all little-endian. */
static const struct {
    const char *scalar, *u, *out;
} x25519_vecs[] = {
    {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
     "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
     "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
    /* The input u has its top bit set; RFC 7748 says to mask it. */
    {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
     "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
     "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
};

/* RFC 7748 section 6.1. */
static const char *const alice_priv_hex =
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char *const alice_pub_hex =
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
static const char *const bob_priv_hex =
    "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
static const char *const bob_pub_hex =
    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
static const char *const shared_hex =
    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

static void test_x25519_rfc7748_5_2(void)
{
    for (size_t i = 0; i < ARRAY_LEN(x25519_vecs); i++) {
        uint8_t scalar[32], u[32], want[32], got[32];
        wtest_hex(scalar, x25519_vecs[i].scalar);
        wtest_hex(u, x25519_vecs[i].u);
        wtest_hex(want, x25519_vecs[i].out);
        CHECK_EQ_INT(ward_x25519(got, scalar, u), WARD_OK);
        CHECK_MEM(got, want, 32);
    }
}

static void test_x25519_rfc7748_6_1(void)
{
    uint8_t a_priv[32], a_pub[32], b_priv[32], b_pub[32], k[32];
    uint8_t got[32];
    wtest_hex(a_priv, alice_priv_hex);
    wtest_hex(a_pub, alice_pub_hex);
    wtest_hex(b_priv, bob_priv_hex);
    wtest_hex(b_pub, bob_pub_hex);
    wtest_hex(k, shared_hex);

    CHECK_EQ_INT(ward_x25519_public(got, a_priv), WARD_OK);
    CHECK_MEM(got, a_pub, 32);
    CHECK_EQ_INT(ward_x25519_public(got, b_priv), WARD_OK);
    CHECK_MEM(got, b_pub, 32);

    memset(got, 0, sizeof got);
    CHECK_EQ_INT(ward_x25519(got, a_priv, b_pub), WARD_OK);
    CHECK_MEM(got, k, 32);
    memset(got, 0, sizeof got);
    CHECK_EQ_INT(ward_x25519(got, b_priv, a_pub), WARD_OK);
    CHECK_MEM(got, k, 32);
}

static void test_x25519_low_order(void)
{
    uint8_t priv[32], zero[32] = {0}, one[32] = {1}, out[32];
    wtest_hex(priv, alice_priv_hex);
    /* u = 0 and u = 1 are low-order points: the result would be zero. */
    CHECK_EQ_INT(ward_x25519(out, priv, zero), WARD_ERR_CRYPTO);
    CHECK_EQ_INT(ward_x25519(out, priv, one), WARD_ERR_CRYPTO);
}

static void test_x25519_keypair(void)
{
    uint8_t a_priv[32], a_pub[32], b_priv[32], b_pub[32];
    uint8_t derived[32], k1[32], k2[32];
    REQUIRE(ward_x25519_keypair(a_priv, a_pub) == WARD_OK);
    REQUIRE(ward_x25519_keypair(b_priv, b_pub) == WARD_OK);
    /* "A fresh clamped private key". */
    CHECK((a_priv[0] & 7) == 0);
    CHECK((a_priv[31] & 0x80) == 0);
    CHECK((a_priv[31] & 0x40) != 0);
    CHECK(memcmp(a_priv, b_priv, 32) != 0);
    CHECK_EQ_INT(ward_x25519_public(derived, a_priv), WARD_OK);
    CHECK_MEM(derived, a_pub, 32);
    CHECK_EQ_INT(ward_x25519(k1, a_priv, b_pub), WARD_OK);
    CHECK_EQ_INT(ward_x25519(k2, b_priv, a_pub), WARD_OK);
    CHECK_MEM(k1, k2, 32);
}

/* ---- SHA-256 and SHA-512 (FIPS 180-2) ---- */

static const struct {
    const char *msg;
    const char *sha256, *sha512;
} sha_vecs[] = {
    /* B.1 / C.1: one block */
    {"abc",
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
    /* B.2: two blocks (SHA-256 only) */
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
     NULL},
    /* C.2: two blocks (SHA-512 only) */
    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
     "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
     NULL,
     "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
     "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"},
};

static void test_sha(void)
{
    for (size_t i = 0; i < ARRAY_LEN(sha_vecs); i++) {
        const uint8_t *msg = (const uint8_t *)sha_vecs[i].msg;
        size_t n = strlen(sha_vecs[i].msg);
        if (sha_vecs[i].sha256 != NULL) {
            uint8_t want[WARD_SHA256_LEN], got[WARD_SHA256_LEN];
            wtest_hex(want, sha_vecs[i].sha256);
            ward_sha256(got, msg, n);
            CHECK_MEM(got, want, sizeof want);
        }
        if (sha_vecs[i].sha512 != NULL) {
            uint8_t want[WARD_SHA512_LEN], got[WARD_SHA512_LEN];
            wtest_hex(want, sha_vecs[i].sha512);
            ward_sha512(got, msg, n);
            CHECK_MEM(got, want, sizeof want);
        }
    }
}

/* Incremental SHA-256: every split point of each vector gives the one-shot
 * answer, and FIPS 180-2's million 'a's fed in uneven pieces. */
static void test_sha256_incremental(void)
{
    for (size_t i = 0; i < ARRAY_LEN(sha_vecs); i++) {
        if (sha_vecs[i].sha256 == NULL)
            continue;
        const uint8_t *msg = (const uint8_t *)sha_vecs[i].msg;
        size_t n = strlen(sha_vecs[i].msg);
        uint8_t want[WARD_SHA256_LEN], got[WARD_SHA256_LEN];
        wtest_hex(want, sha_vecs[i].sha256);
        for (size_t cut = 0; cut <= n; cut++) {
            ward_sha256_ctx c;
            ward_sha256_init(&c);
            ward_sha256_update(&c, msg, cut);
            ward_sha256_update(&c, msg + cut, n - cut);
            ward_sha256_final(&c, got);
            CHECK_MEM(got, want, sizeof want);
        }
    }
    static uint8_t a[1000];
    memset(a, 'a', sizeof a);
    uint8_t want[WARD_SHA256_LEN], got[WARD_SHA256_LEN];
    wtest_hex(want, "cdc76e5c9914fb9281a1c7e284d73e67"
                    "f1809a48a497200e046d39ccc7112cd0");
    ward_sha256_ctx c;
    ward_sha256_init(&c);
    size_t left = 1000000, step = 1;
    while (left) {
        size_t k = step < left ? step : left;
        k = k < sizeof a ? k : sizeof a;
        ward_sha256_update(&c, a, k);
        left -= k;
        step = step * 7 % 997 + 1;
    }
    ward_sha256_final(&c, got);
    CHECK_MEM(got, want, sizeof want);
}

/* ---- attachment streams (libsodium secretstream) ---- */

/* Seals |n| bytes of |pt| into |ct| (sized by ward_stream_sealed_size)
 * the way the client does: full chunks, the last one final. */
static size_t stream_seal_all(const uint8_t key[32], const uint8_t *pt,
                              size_t n, uint8_t *ct)
{
    ward_stream st;
    size_t off = 0, out = WARD_STREAM_HEADER_LEN;
    ward_stream_seal_init(&st, key, ct);
    do {
        size_t k = n - off > WARD_STREAM_CHUNK ? WARD_STREAM_CHUNK : n - off;
        int final = off + k == n;
        CHECK_EQ_INT(ward_stream_seal(&st, pt + off, k, final, ct + out),
                     WARD_OK);
        off += k;
        out += k + WARD_STREAM_ABYTES;
    } while (off < n);
    ward_stream_wipe(&st);
    return out;
}

/* Opens |len| bytes of |ct|; returns 0 if every chunk opened and only the
 * last was final, with the plaintext in |pt| and its size in |*n|. */
static int stream_open_all(const uint8_t key[32], const uint8_t *ct,
                           size_t len, uint8_t *pt, size_t *n)
{
    ward_stream st;
    size_t off = WARD_STREAM_HEADER_LEN;
    int final = 0;
    *n = 0;
    if (len < off || ward_stream_open_init(&st, key, ct))
        return -1;
    while (off < len) {
        size_t k = len - off;
        if (k > WARD_STREAM_CHUNK + WARD_STREAM_ABYTES)
            k = WARD_STREAM_CHUNK + WARD_STREAM_ABYTES;
        if (final || ward_stream_open(&st, ct + off, k, pt + *n, &final))
            return -1;
        *n += k - WARD_STREAM_ABYTES;
        off += k;
    }
    return final ? 0 : -1;
}

static void test_stream_sizes(void)
{
    /* 24-byte header, 17 bytes per 64 KiB chunk, an empty file one chunk */
    CHECK(ward_stream_sealed_size(0) == 24 + 17);
    CHECK(ward_stream_sealed_size(1) == 24 + 1 + 17);
    CHECK(ward_stream_sealed_size(65535) == 24 + 65535 + 17);
    CHECK(ward_stream_sealed_size(65536) == 24 + 65536 + 17);
    CHECK(ward_stream_sealed_size(65537) == 24 + 65537 + 34);
    CHECK(ward_stream_sealed_size(100ULL << 20) ==
          24 + (100ULL << 20) + 1600 * 17);
}

static void test_stream_roundtrip(void)
{
    static const size_t sizes[] = {0, 1, 65535, 65536, 65537, 200000};
    size_t max = 200000;
    uint8_t *pt = malloc(max), *ct = malloc(ward_stream_sealed_size(max)),
            *back = malloc(max + 1);
    REQUIRE(pt && ct && back);
    uint8_t key[32], other[32];
    ward_random(key, sizeof key);
    ward_random(other, sizeof other);
    ward_random(pt, max);
    for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
        size_t n = sizes[i], got = 0;
        size_t len = stream_seal_all(key, pt, n, ct);
        CHECK(len == ward_stream_sealed_size(n));
        CHECK_EQ_INT(stream_open_all(key, ct, len, back, &got), 0);
        CHECK(got == n);
        CHECK(n == 0 || memcmp(back, pt, n) == 0);
        /* the plaintext is not in the ciphertext */
        CHECK(n < 64 || memmem(ct, len, pt, 64) == NULL);
        /* the wrong key */
        CHECK_EQ_INT(stream_open_all(other, ct, len, back, &got), -1);
        /* a flipped bit anywhere: header, first chunk, last byte */
        size_t at[] = {0, 23, 24, len / 2, len - 1};
        for (size_t j = 0; j < ARRAY_LEN(at); j++) {
            ct[at[j]] ^= 0x01;
            CHECK_EQ_INT(stream_open_all(key, ct, len, back, &got), -1);
            ct[at[j]] ^= 0x01;
        }
        /* truncated: the final chunk missing, or cut short */
        if (n > WARD_STREAM_CHUNK)
            CHECK_EQ_INT(stream_open_all(key, ct,
                                         24 + WARD_STREAM_CHUNK + 17, back,
                                         &got),
                         -1);
        CHECK_EQ_INT(stream_open_all(key, ct, len - 1, back, &got), -1);
        /* two sealings of the same file differ (fresh header nonce) */
        uint8_t *ct2 = malloc(len);
        REQUIRE(ct2);
        stream_seal_all(key, pt, n, ct2);
        CHECK(memcmp(ct, ct2, WARD_STREAM_HEADER_LEN) != 0);
        free(ct2);
    }
    /* chunks swapped: both full chunks of a 3-chunk stream */
    size_t len = stream_seal_all(key, pt, 200000, ct), got = 0;
    size_t c = WARD_STREAM_CHUNK + WARD_STREAM_ABYTES;
    uint8_t *tmp = malloc(c);
    REQUIRE(tmp);
    memcpy(tmp, ct + 24, c);
    memcpy(ct + 24, ct + 24 + c, c);
    memcpy(ct + 24 + c, tmp, c);
    CHECK_EQ_INT(stream_open_all(key, ct, len, back, &got), -1);
    free(tmp);
    /* a chunk larger than the limit is refused before decrypting */
    ward_stream st;
    int final = 0;
    stream_seal_all(key, pt, 10, ct);
    CHECK_EQ_INT(ward_stream_open_init(&st, key, ct), WARD_OK);
    CHECK_EQ_INT(ward_stream_open(&st, ct + 24, 16, back, &final),
                 WARD_ERR_AUTH);
    CHECK_EQ_INT(ward_stream_seal(&st, pt, WARD_STREAM_CHUNK + 1, 0, ct),
                 WARD_ERR_INVALID_ARG);
    free(pt);
    free(ct);
    free(back);
}

/* ---- HMAC-SHA-256 (RFC 4231) ---- */

/*
 * A byte string in a test table: |hex| if set, else |text| if set, else
 * |fill| repeated |n| times (RFC 4231 writes keys such as "aaaa...aa"
 * (131 bytes)).
 */
typedef struct {
    const char *hex;
    const char *text;
    uint8_t fill;
    size_t n;
} bytes_spec;

static size_t load(uint8_t *out, const bytes_spec *s)
{
    if (s->hex != NULL)
        return wtest_hex(out, s->hex);
    if (s->text != NULL) {
        size_t n = strlen(s->text);
        memcpy(out, s->text, n);
        return n;
    }
    memset(out, s->fill, s->n);
    return s->n;
}

#define HEX(h) {(h), NULL, 0, 0}
#define TEXT(t) {NULL, (t), 0, 0}
#define FILL(b, count) {NULL, NULL, (b), (count)}

static const struct {
    bytes_spec key, data;
    const char *mac;  /* test case 5 gives only the first 128 bits */
} hmac_vecs[] = {
    /* 4.2 Test Case 1 */
    {FILL(0x0b, 20), TEXT("Hi There"),
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
    /* 4.3 Test Case 2: a key shorter than the length of the HMAC output */
    {TEXT("Jefe"), TEXT("what do ya want for nothing?"),
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    /* 4.4 Test Case 3 */
    {FILL(0xaa, 20), FILL(0xdd, 50),
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
    /* 4.5 Test Case 4 */
    {HEX("0102030405060708090a0b0c0d0e0f10111213141516171819"),
     FILL(0xcd, 50),
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
    /* 4.6 Test Case 5: truncated to 128 bits */
    {FILL(0x0c, 20), TEXT("Test With Truncation"),
     "a3b6167473100ee06e0c796c2955552b"},
    /* 4.7 Test Case 6: a key larger than the block size */
    {FILL(0xaa, 131),
     TEXT("Test Using Larger Than Block-Size Key - Hash Key First"),
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
    /* 4.8 Test Case 7: a key and data larger than the block size */
    {FILL(0xaa, 131),
     TEXT("This is a test using a larger than block-size key and a larger "
          "than block-size data. The key needs to be hashed before being "
          "used by the HMAC algorithm."),
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
};

/* Incremental HMAC with |data| fed in pieces of |step| bytes. */
static void hmac_in_pieces(uint8_t out[WARD_SHA256_LEN], const uint8_t *key,
                           size_t key_len, const uint8_t *data, size_t n,
                           size_t step)
{
    ward_hmac h;
    ward_hmac_init(&h, key, key_len);
    ward_hmac_update(&h, data, 0);  /* an empty piece changes nothing */
    for (size_t off = 0; off < n; off += step) {
        size_t len = n - off < step ? n - off : step;
        ward_hmac_update(&h, data + off, len);
    }
    ward_hmac_final(&h, out);
}

static void test_hmac_rfc4231(void)
{
    static const size_t steps[] = {1, 3, 7, 20, 64, 65, 1000};
    for (size_t i = 0; i < ARRAY_LEN(hmac_vecs); i++) {
        uint8_t key[256], data[256], want[WARD_SHA256_LEN];
        uint8_t got[WARD_SHA256_LEN];
        size_t key_len = load(key, &hmac_vecs[i].key);
        size_t data_len = load(data, &hmac_vecs[i].data);
        size_t mac_len = wtest_hex(want, hmac_vecs[i].mac);

        ward_hmac_sha256(got, key, key_len, data, data_len);
        CHECK_MEM(got, want, mac_len);

        for (size_t s = 0; s < ARRAY_LEN(steps); s++) {
            memset(got, 0, sizeof got);
            hmac_in_pieces(got, key, key_len, data, data_len, steps[s]);
            CHECK_MEM(got, want, mac_len);
        }
    }
}

static void test_hmac_uneven_pieces(void)
{
    /* RFC 4231 test case 7, split at irregular points. */
    uint8_t key[256], data[256], one_shot[32], pieced[32];
    size_t key_len = load(key, &hmac_vecs[6].key);
    size_t data_len = load(data, &hmac_vecs[6].data);
    ward_hmac h;

    ward_hmac_sha256(one_shot, key, key_len, data, data_len);
    ward_hmac_init(&h, key, key_len);
    ward_hmac_update(&h, data, 5);
    ward_hmac_update(&h, data + 5, 59);
    ward_hmac_update(&h, data + 64, 0);
    ward_hmac_update(&h, data + 64, 1);
    ward_hmac_update(&h, data + 65, data_len - 65);
    ward_hmac_final(&h, pieced);
    CHECK_MEM(pieced, one_shot, 32);

    /* The state is reusable after final + init. */
    ward_hmac_init(&h, key, key_len);
    ward_hmac_update(&h, data, data_len);
    ward_hmac_final(&h, pieced);
    CHECK_MEM(pieced, one_shot, 32);
}

/* ---- HKDF-SHA-256 (RFC 5869) ---- */

static const struct {
    const char *ikm, *salt, *info;  /* salt/info "" are passed as NULL, 0 */
    size_t len;
    const char *okm;
} hkdf_vecs[] = {
    /* A.1 Test Case 1 */
    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
     "000102030405060708090a0b0c",
     "f0f1f2f3f4f5f6f7f8f9",
     42,
     "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
     "34007208d5b887185865"},
    /* A.2 Test Case 2: longer inputs and outputs */
    {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
     "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
     "404142434445464748494a4b4c4d4e4f",
     "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
     "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
     "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
     "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
     "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
     "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
     82,
     "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
     "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
     "cc30c58179ec3e87c14c01d5c1f3434f1d87"},
    /* A.3 Test Case 3: zero-length salt and info */
    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
     "",
     "",
     42,
     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
     "9d201395faa4b61a96c8"},
};

static void test_hkdf_rfc5869(void)
{
    for (size_t i = 0; i < ARRAY_LEN(hkdf_vecs); i++) {
        uint8_t ikm[128], salt[128], info[128], want[128], got[128];
        size_t ikm_len = wtest_hex(ikm, hkdf_vecs[i].ikm);
        size_t salt_len = wtest_hex(salt, hkdf_vecs[i].salt);
        size_t info_len = wtest_hex(info, hkdf_vecs[i].info);
        size_t okm_len = wtest_hex(want, hkdf_vecs[i].okm);
        REQUIRE(okm_len == hkdf_vecs[i].len);

        memset(got, 0, sizeof got);
        CHECK_EQ_INT(ward_hkdf_sha256(got, okm_len, ikm, ikm_len,
                                      salt_len ? salt : NULL, salt_len,
                                      info_len ? info : NULL, info_len),
                     WARD_OK);
        CHECK_MEM(got, want, okm_len);
        /* Nothing is written past out_len. */
        CHECK_EQ_INT(got[okm_len], 0);
    }
}

static void test_hkdf_empty_salt_forms(void)
{
    /* RFC 5869 test case 3: "not provided" salt is HashLen zero bytes, so
     * an empty non-NULL salt and 32 explicit zeros agree with the RFC. */
    uint8_t ikm[22], want[42], got[42], zeros[32] = {0};
    uint8_t dummy[1] = {0x55};
    wtest_hex(ikm, hkdf_vecs[2].ikm);
    wtest_hex(want, hkdf_vecs[2].okm);

    CHECK_EQ_INT(ward_hkdf_sha256(got, sizeof got, ikm, sizeof ikm, dummy, 0,
                                  dummy, 0),
                 WARD_OK);
    CHECK_MEM(got, want, sizeof want);
    CHECK_EQ_INT(ward_hkdf_sha256(got, sizeof got, ikm, sizeof ikm, zeros,
                                  sizeof zeros, NULL, 0),
                 WARD_OK);
    CHECK_MEM(got, want, sizeof want);
}

static void test_hkdf_limits(void)
{
    static uint8_t out[255 * 32 + 1];
    uint8_t ikm[22];
    wtest_hex(ikm, hkdf_vecs[0].ikm);

    /* 255 blocks is the most HKDF-SHA-256 can produce. */
    CHECK_EQ_INT(ward_hkdf_sha256(out, 255 * 32, ikm, sizeof ikm, NULL, 0,
                                  NULL, 0),
                 WARD_OK);
    CHECK_EQ_INT(ward_hkdf_sha256(out, 255 * 32 + 1, ikm, sizeof ikm, NULL, 0,
                                  NULL, 0),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_hkdf_sha256(out, SIZE_MAX, ikm, sizeof ikm, NULL, 0,
                                  NULL, 0),
                 WARD_ERR_INVALID_ARG);

    /* HKDF output is a prefix of any longer output with the same inputs;
     * the start of the 8160-byte output is test case 3's OKM. */
    uint8_t want[42];
    wtest_hex(want, hkdf_vecs[2].okm);
    CHECK_EQ_INT(ward_hkdf_sha256(out, 255 * 32, ikm, sizeof ikm, NULL, 0,
                                  NULL, 0),
                 WARD_OK);
    CHECK_MEM(out, want, sizeof want);
}

/* ---- AES-256-CBC (NIST SP 800-38A F.2.5) ---- */

static const char *const cbc_key_hex =
    "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
static const char *const cbc_iv_hex = "000102030405060708090a0b0c0d0e0f";
static const char *const cbc_pt_hex =
    "6bc1bee22e409f96e93d7e117393172a"
    "ae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52ef"
    "f69f2445df4f9b17ad2b417be66c3710";
static const char *const cbc_ct_hex =
    "f58c4c04d6e5f1ba779eabfb5f7bfbd6"
    "9cfc4e967edb808d679f777bc6702c7d"
    "39f23369a9d9bacfa530e26304231461"
    "b2eb05e2c39be9fcda6c19078c6a9d1b";

static void test_aes_cbc_nist(void)
{
    uint8_t key[32], iv[16], pt[64], ct[64];
    ward_buf enc, dec;
    wtest_hex(key, cbc_key_hex);
    wtest_hex(iv, cbc_iv_hex);
    wtest_hex(pt, cbc_pt_hex);
    wtest_hex(ct, cbc_ct_hex);

    ward_buf_init(&enc, 0);
    ward_buf_init(&dec, 0);
    CHECK_EQ_INT(ward_aes256_cbc_encrypt(&enc, key, iv, pt, sizeof pt),
                 WARD_OK);
    /* 64 bytes of plaintext gain a whole block of padding. */
    REQUIRE(enc.len == 80);
    CHECK_MEM(enc.data, ct, sizeof ct);

    CHECK_EQ_INT(ward_aes256_cbc_decrypt(&dec, key, iv, enc.data, enc.len),
                 WARD_OK);
    CHECK_EQ_INT(dec.len, 64);
    if (dec.len == 64)
        CHECK_MEM(dec.data, pt, sizeof pt);

    ward_buf_release(&enc);
    ward_buf_release(&dec);
}

static void test_aes_cbc_appends(void)
{
    /* Both directions append to what the buffer already holds. */
    uint8_t key[32], iv[16], pt[64], ct[64];
    static const uint8_t prefix[3] = {0xde, 0xad, 0x01};
    ward_buf enc, dec;
    wtest_hex(key, cbc_key_hex);
    wtest_hex(iv, cbc_iv_hex);
    wtest_hex(pt, cbc_pt_hex);
    wtest_hex(ct, cbc_ct_hex);

    ward_buf_init(&enc, 0);
    ward_buf_init(&dec, 0);
    REQUIRE(ward_buf_append(&enc, prefix, sizeof prefix) == WARD_OK);
    REQUIRE(ward_buf_append(&dec, prefix, sizeof prefix) == WARD_OK);
    CHECK_EQ_INT(ward_aes256_cbc_encrypt(&enc, key, iv, pt, sizeof pt),
                 WARD_OK);
    REQUIRE(enc.len == sizeof prefix + 80);
    CHECK_MEM(enc.data, prefix, sizeof prefix);
    CHECK_MEM(enc.data + sizeof prefix, ct, sizeof ct);

    CHECK_EQ_INT(ward_aes256_cbc_decrypt(&dec, key, iv,
                                         enc.data + sizeof prefix, 80),
                 WARD_OK);
    REQUIRE(dec.len == sizeof prefix + 64);
    CHECK_MEM(dec.data, prefix, sizeof prefix);
    CHECK_MEM(dec.data + sizeof prefix, pt, sizeof pt);

    ward_buf_release(&enc);
    ward_buf_release(&dec);
}

static void test_aes_cbc_roundtrip(void)
{
    uint8_t key[32], iv[16], pt[33];
    ward_random(key, sizeof key);
    ward_random(iv, sizeof iv);
    ward_random(pt, sizeof pt);

    for (size_t n = 0; n <= 33; n++) {
        ward_buf enc, dec;
        ward_buf_init(&enc, 0);
        ward_buf_init(&dec, 0);
        CHECK_EQ_INT(ward_aes256_cbc_encrypt(&enc, key, iv, pt, n), WARD_OK);
        CHECK_EQ_INT(enc.len, n + (16 - n % 16));
        CHECK_EQ_INT(ward_aes256_cbc_decrypt(&dec, key, iv, enc.data,
                                             enc.len),
                     WARD_OK);
        CHECK_EQ_INT(dec.len, n);
        if (dec.len == n && n > 0)
            CHECK_MEM(dec.data, pt, n);
        ward_buf_release(&enc);
        ward_buf_release(&dec);
    }
}

static void test_aes_cbc_bad_length(void)
{
    static const size_t lens[] = {0, 1, 15, 17, 31, 33, 79};
    uint8_t key[32], iv[16], ct[80];
    wtest_hex(key, cbc_key_hex);
    wtest_hex(iv, cbc_iv_hex);
    memset(ct, 0x42, sizeof ct);

    for (size_t i = 0; i < ARRAY_LEN(lens); i++) {
        ward_buf dec;
        ward_buf_init(&dec, 0);
        CHECK_EQ_INT(ward_aes256_cbc_decrypt(&dec, key, iv, ct, lens[i]),
                     WARD_ERR_AUTH);
        ward_buf_release(&dec);
    }
}

static void test_aes_cbc_bad_padding(void)
{
    /*
     * 16 bytes of plaintext encrypt to C0 || C1, where C1 decrypts to the
     * padding block of sixteen 0x10 bytes XORed through C0. Flipping bit b
     * of C0[15] turns the last padding byte into 0x10 ^ b, which is 0 or
     * greater than 16 for every b: never a valid pad length. Flipping a bit
     * of C0[0] keeps the last byte 0x10 but spoils the first pad byte.
     */
    uint8_t key[32], iv[16], pt[16], ct[32];
    ward_buf enc;
    wtest_hex(key, cbc_key_hex);
    wtest_hex(iv, cbc_iv_hex);
    wtest_hex(pt, "6bc1bee22e409f96e93d7e117393172a");

    ward_buf_init(&enc, 0);
    REQUIRE(ward_aes256_cbc_encrypt(&enc, key, iv, pt, sizeof pt) ==
            WARD_OK);
    REQUIRE(enc.len == 32);
    memcpy(ct, enc.data, 32);
    ward_buf_release(&enc);

    for (int bit = 0; bit < 8; bit++) {
        ward_buf dec;
        ct[15] ^= (uint8_t)(1u << bit);
        ward_buf_init(&dec, 0);
        CHECK_EQ_INT(ward_aes256_cbc_decrypt(&dec, key, iv, ct, sizeof ct),
                     WARD_ERR_AUTH);
        ward_buf_release(&dec);
        ct[15] ^= (uint8_t)(1u << bit);
    }

    {
        ward_buf dec;
        ct[0] ^= 0x01;
        ward_buf_init(&dec, 0);
        CHECK_EQ_INT(ward_aes256_cbc_decrypt(&dec, key, iv, ct, sizeof ct),
                     WARD_ERR_AUTH);
        ward_buf_release(&dec);
        ct[0] ^= 0x01;
    }

    /* Unmodified, it still decrypts: the failures above were the flips. */
    {
        ward_buf dec;
        ward_buf_init(&dec, 0);
        CHECK_EQ_INT(ward_aes256_cbc_decrypt(&dec, key, iv, ct, sizeof ct),
                     WARD_OK);
        CHECK_EQ_INT(dec.len, 16);
        if (dec.len == 16)
            CHECK_MEM(dec.data, pt, 16);
        ward_buf_release(&dec);
    }
}

/* ---- XEdDSA ---- */

static void test_xeddsa_roundtrip(void)
{
    static const size_t lens[] = {0, 1, 100, 1000};
    static uint8_t msg[1000];
    uint8_t priv[32], pub[32], sig[64];
    REQUIRE(ward_x25519_keypair(priv, pub) == WARD_OK);
    ward_random(msg, sizeof msg);

    for (size_t i = 0; i < ARRAY_LEN(lens); i++) {
        CHECK_EQ_INT(ward_xeddsa_sign(sig, priv, msg, lens[i]), WARD_OK);
        /* s < L < 2^253, so the top three bits are clear. */
        CHECK((sig[63] & 0xe0) == 0);
        CHECK_EQ_INT(ward_xeddsa_verify(sig, pub, msg, lens[i]), WARD_OK);
    }
}

static void test_xeddsa_rfc7748_key(void)
{
    /* Alice's RFC 7748 private key is not clamped as printed; signing must
     * use the same clamped scalar as X25519, so her published public key
     * verifies the signature. */
    uint8_t priv[32], pub[32], sig[64];
    static const uint8_t msg[] = "ward xeddsa";
    wtest_hex(priv, alice_priv_hex);
    wtest_hex(pub, alice_pub_hex);
    CHECK_EQ_INT(ward_xeddsa_sign(sig, priv, msg, sizeof msg), WARD_OK);
    CHECK_EQ_INT(ward_xeddsa_verify(sig, pub, msg, sizeof msg), WARD_OK);
}

static void test_xeddsa_z(void)
{
    uint8_t priv[32], pub[32], z1[64], z2[64];
    uint8_t sig_a[64], sig_b[64], sig_c[64];
    static const uint8_t msg[] = "deterministic given Z";
    REQUIRE(ward_x25519_keypair(priv, pub) == WARD_OK);
    ward_random(z1, sizeof z1);
    memcpy(z2, z1, sizeof z2);
    z2[0] ^= 0x01;

    CHECK_EQ_INT(ward_xeddsa_sign_z(sig_a, priv, msg, sizeof msg, z1),
                 WARD_OK);
    CHECK_EQ_INT(ward_xeddsa_sign_z(sig_b, priv, msg, sizeof msg, z1),
                 WARD_OK);
    CHECK_EQ_INT(ward_xeddsa_sign_z(sig_c, priv, msg, sizeof msg, z2),
                 WARD_OK);
    CHECK_MEM(sig_a, sig_b, 64);
    CHECK(memcmp(sig_a, sig_c, 64) != 0);
    /* R depends on Z, so the first halves differ too. */
    CHECK(memcmp(sig_a, sig_c, 32) != 0);
    CHECK_EQ_INT(ward_xeddsa_verify(sig_a, pub, msg, sizeof msg), WARD_OK);
    CHECK_EQ_INT(ward_xeddsa_verify(sig_c, pub, msg, sizeof msg), WARD_OK);

    /* Two draws of fresh randomness give different signatures. */
    CHECK_EQ_INT(ward_xeddsa_sign(sig_a, priv, msg, sizeof msg), WARD_OK);
    CHECK_EQ_INT(ward_xeddsa_sign(sig_b, priv, msg, sizeof msg), WARD_OK);
    CHECK(memcmp(sig_a, sig_b, 64) != 0);
}

static void test_xeddsa_tamper(void)
{
    uint8_t priv[32], pub[32], other_priv[32], other_pub[32], sig[64];
    uint8_t msg[100];
    REQUIRE(ward_x25519_keypair(priv, pub) == WARD_OK);
    REQUIRE(ward_x25519_keypair(other_priv, other_pub) == WARD_OK);
    ward_random(msg, sizeof msg);
    REQUIRE(ward_xeddsa_sign(sig, priv, msg, sizeof msg) == WARD_OK);
    REQUIRE(ward_xeddsa_verify(sig, pub, msg, sizeof msg) == WARD_OK);

    /* A flipped bit in the message (first, middle, last byte). */
    static const size_t msg_pos[] = {0, 50, 99};
    for (size_t i = 0; i < ARRAY_LEN(msg_pos); i++) {
        msg[msg_pos[i]] ^= 0x04;
        CHECK_EQ_INT(ward_xeddsa_verify(sig, pub, msg, sizeof msg),
                     WARD_ERR_AUTH);
        msg[msg_pos[i]] ^= 0x04;
    }
    /* A shorter message (a truncation). */
    CHECK_EQ_INT(ward_xeddsa_verify(sig, pub, msg, sizeof msg - 1),
                 WARD_ERR_AUTH);

    /* A flipped bit in R (bytes 0..31) and in s (bytes 32..63, low bits so
     * that s stays canonical and only the equation fails). */
    static const size_t sig_pos[] = {0, 17, 31, 32, 45, 62};
    for (size_t i = 0; i < ARRAY_LEN(sig_pos); i++) {
        sig[sig_pos[i]] ^= 0x01;
        CHECK_EQ_INT(ward_xeddsa_verify(sig, pub, msg, sizeof msg),
                     WARD_ERR_AUTH);
        sig[sig_pos[i]] ^= 0x01;
    }

    /* A flipped bit in the public key, or another key altogether. */
    static const size_t pub_pos[] = {0, 16, 31};
    for (size_t i = 0; i < ARRAY_LEN(pub_pos); i++) {
        pub[pub_pos[i]] ^= 0x02;
        CHECK_EQ_INT(ward_xeddsa_verify(sig, pub, msg, sizeof msg),
                     WARD_ERR_AUTH);
        pub[pub_pos[i]] ^= 0x02;
    }
    CHECK_EQ_INT(ward_xeddsa_verify(sig, other_pub, msg, sizeof msg),
                 WARD_ERR_AUTH);

    /* Still good after every undo. */
    CHECK_EQ_INT(ward_xeddsa_verify(sig, pub, msg, sizeof msg), WARD_OK);
}

/* The prepared signer and verifier give the answers of the one-shot
 * functions: their signatures verify both ways, tampering fails both
 * ways, and a key no signature can verify under is refused by both. */
static void test_xeddsa_prepared(void)
{
    uint8_t msg[300];
    ward_random(msg, sizeof msg);
    for (int round = 0; round < 16; round++) {
        uint8_t priv[32], pub[32], other_priv[32], other[32];
        uint8_t sig[64], sig1[64];
        REQUIRE(ward_x25519_keypair(priv, pub) == WARD_OK);
        REQUIRE(ward_x25519_keypair(other_priv, other) == WARD_OK);
        ward_xeddsa_signer sg;
        ward_xeddsa_verifier v, vo;
        REQUIRE(ward_xeddsa_signer_init(&sg, priv) == WARD_OK);
        REQUIRE(ward_xeddsa_verifier_init(&v, pub) == WARD_OK);
        REQUIRE(ward_xeddsa_verifier_init(&vo, other) == WARD_OK);
        CHECK(v.valid && vo.valid);
        size_t n = (size_t)round * 17;
        CHECK_EQ_INT(ward_xeddsa_signer_sign(sig, &sg, msg, n), WARD_OK);
        CHECK((sig[63] & 0xe0) == 0);
        CHECK_EQ_INT(ward_xeddsa_verify(sig, pub, msg, n), WARD_OK);
        CHECK_EQ_INT(ward_xeddsa_verifier_verify(&v, sig, msg, n), WARD_OK);
        CHECK_EQ_INT(ward_xeddsa_verifier_verify(&vo, sig, msg, n),
                     WARD_ERR_AUTH);
        REQUIRE(ward_xeddsa_sign(sig1, priv, msg, n) == WARD_OK);
        CHECK_EQ_INT(ward_xeddsa_verifier_verify(&v, sig1, msg, n), WARD_OK);
        /* The signer's A is the key's Edwards form: R differs (fresh Z),
         * the equation holds for both, and a flipped bit fails both. */
        sig[round % 64] ^= 0x01;
        CHECK_EQ_INT(ward_xeddsa_verify(sig, pub, msg, n), WARD_ERR_AUTH);
        CHECK_EQ_INT(ward_xeddsa_verifier_verify(&v, sig, msg, n),
                     WARD_ERR_AUTH);
        ward_memzero(&sg, sizeof sg);
    }
    /* u = p (not reduced) and u = p - 1 (no Edwards image). */
    uint8_t bad[2][32], sig[64];
    memset(bad[0], 0xff, 32);
    bad[0][0] = 0xed;
    bad[0][31] = 0x7f;
    memcpy(bad[1], bad[0], 32);
    bad[1][0] = 0xec;
    memset(sig, 0, sizeof sig);
    for (int i = 0; i < 2; i++) {
        ward_xeddsa_verifier v;
        CHECK_EQ_INT(ward_xeddsa_verifier_init(&v, bad[i]), WARD_OK);
        CHECK(!v.valid);
        CHECK_EQ_INT(ward_xeddsa_verifier_verify(&v, sig, msg, 10),
                     WARD_ERR_AUTH);
        CHECK_EQ_INT(ward_xeddsa_verify(sig, bad[i], msg, 10), WARD_ERR_AUTH);
    }
}

static void test_xeddsa_noncanonical(void)
{
    uint8_t priv[32], pub[32], sig[64], bad[64], bad_pub[32];
    static const uint8_t msg[] = "canonical encodings only";
    REQUIRE(ward_x25519_keypair(priv, pub) == WARD_OK);
    REQUIRE(ward_xeddsa_sign(sig, priv, msg, sizeof msg) == WARD_OK);
    REQUIRE((sig[63] & 0xe0) == 0);

    /* Any of the top three bits of s set: s >= 2^253 > L. */
    for (int bit = 5; bit < 8; bit++) {
        memcpy(bad, sig, 64);
        bad[63] |= (uint8_t)(1u << bit);
        CHECK_EQ_INT(ward_xeddsa_verify(bad, pub, msg, sizeof msg),
                     WARD_ERR_AUTH);
    }
    memcpy(bad, sig, 64);
    bad[63] |= 0xe0;
    CHECK_EQ_INT(ward_xeddsa_verify(bad, pub, msg, sizeof msg),
                 WARD_ERR_AUTH);

    /* Public keys that are not reduced mod p = 2^255 - 19. */
    memset(bad_pub, 0xff, sizeof bad_pub);
    CHECK_EQ_INT(ward_xeddsa_verify(sig, bad_pub, msg, sizeof msg),
                 WARD_ERR_AUTH);
    /* p itself: ed ff .. ff 7f (little-endian). */
    memset(bad_pub, 0xff, sizeof bad_pub);
    bad_pub[0] = 0xed;
    bad_pub[31] = 0x7f;
    CHECK_EQ_INT(ward_xeddsa_verify(sig, bad_pub, msg, sizeof msg),
                 WARD_ERR_AUTH);

    CHECK_EQ_INT(ward_xeddsa_verify(sig, pub, msg, sizeof msg), WARD_OK);
}

/* ---- utilities ---- */

static void test_ct_equal(void)
{
    uint8_t a[40], b[40];
    ward_random(a, sizeof a);
    memcpy(b, a, sizeof b);
    CHECK_EQ_INT(ward_ct_equal(a, b, sizeof a), 1);
    CHECK_EQ_INT(ward_ct_equal(a, b, 0), 1);
    b[0] ^= 0x80;
    CHECK_EQ_INT(ward_ct_equal(a, b, sizeof a), 0);
    CHECK_EQ_INT(ward_ct_equal(a + 1, b + 1, sizeof a - 1), 1);
    b[0] ^= 0x80;
    b[39] ^= 0x01;
    CHECK_EQ_INT(ward_ct_equal(a, b, sizeof a), 0);
    CHECK_EQ_INT(ward_ct_equal(a, b, sizeof a - 1), 1);
}

static void test_random(void)
{
    static const uint8_t zero[32] = {0};
    uint8_t r1[32], r2[32];
    memset(r1, 0, sizeof r1);
    memset(r2, 0, sizeof r2);
    ward_random(r1, sizeof r1);
    ward_random(r2, sizeof r2);
    CHECK(memcmp(r1, zero, sizeof r1) != 0);
    CHECK(memcmp(r2, zero, sizeof r2) != 0);
    CHECK(memcmp(r1, r2, sizeof r1) != 0);
    ward_random(r1, 0);  /* nothing to do, must not crash */
}

static void test_memzero(void)
{
    static const uint8_t zero[48] = {0};
    uint8_t buf[48];
    memset(buf, 0xa5, sizeof buf);
    ward_memzero(buf, sizeof buf);
    CHECK_MEM(buf, zero, sizeof buf);
}

static void test_secure_alloc(void)
{
    uint8_t *p = ward_secure_alloc(100);
    REQUIRE(p != NULL);
    for (size_t i = 0; i < 100; i++)
        p[i] = (uint8_t)(i * 7 + 3);
    int ok = 1;
    for (size_t i = 0; i < 100; i++)
        if (p[i] != (uint8_t)(i * 7 + 3))
            ok = 0;
    CHECK(ok);
    ward_secure_free(p);
    ward_secure_free(NULL);
    CHECK(1);  /* reached: freeing NULL did nothing */
}

/* ---- ward_buf ---- */

static void test_buf_growth(void)
{
    ward_buf b;
    ward_buf_init(&b, 0);
    CHECK_EQ_INT(b.len, 0);

    int ok = 1;
    for (size_t i = 0; i < 10000; i++) {
        if (ward_buf_push(&b, (uint8_t)i) != WARD_OK) {
            ok = 0;
            break;
        }
    }
    CHECK(ok);
    REQUIRE(b.len == 10000);
    CHECK(b.cap >= b.len);
    ok = 1;
    for (size_t i = 0; i < 10000; i++)
        if (b.data[i] != (uint8_t)i)
            ok = 0;
    CHECK(ok);

    uint8_t block[5000];
    memset(block, 0x3c, sizeof block);
    CHECK_EQ_INT(ward_buf_append(&b, block, sizeof block), WARD_OK);
    CHECK_EQ_INT(b.len, 15000);
    CHECK(b.cap >= b.len);
    CHECK_MEM(b.data + 10000, block, sizeof block);
    CHECK_EQ_INT(b.data[9999], (uint8_t)9999);

    size_t cap = b.cap;
    ward_buf_clear(&b);
    CHECK_EQ_INT(b.len, 0);
    CHECK_EQ_INT(b.cap, cap);

    ward_buf_release(&b);
    CHECK_EQ_INT(b.len, 0);
    CHECK_EQ_INT(b.cap, 0);
}

static void test_buf_max(void)
{
    static const uint8_t src[16] = {1, 2, 3, 4, 5, 6, 7, 8,
                                    9, 10, 11, 12, 13, 14, 15, 16};
    ward_buf b;
    ward_buf_init(&b, 10);

    CHECK_EQ_INT(ward_buf_append(&b, src, 4), WARD_OK);
    CHECK_EQ_INT(ward_buf_append(&b, src + 4, 6), WARD_OK);
    REQUIRE(b.len == 10);
    CHECK_MEM(b.data, src, 10);

    /* Past the maximum: refused, and the buffer is as it was. */
    CHECK_EQ_INT(ward_buf_append(&b, src, 1), WARD_ERR_TOO_BIG);
    CHECK_EQ_INT(ward_buf_push(&b, 0x99), WARD_ERR_TOO_BIG);
    CHECK_EQ_INT(ward_buf_reserve(&b, 1), WARD_ERR_TOO_BIG);
    CHECK_EQ_INT(ward_buf_reserve(&b, SIZE_MAX), WARD_ERR_TOO_BIG);
    CHECK_EQ_INT(b.len, 10);
    CHECK_MEM(b.data, src, 10);
    CHECK_EQ_INT(ward_buf_reserve(&b, 0), WARD_OK);

    /* A single append larger than the maximum, on a fresh buffer. */
    ward_buf c;
    ward_buf_init(&c, 10);
    CHECK_EQ_INT(ward_buf_append(&c, src, 3), WARD_OK);
    CHECK_EQ_INT(ward_buf_append(&c, src, 8), WARD_ERR_TOO_BIG);
    CHECK_EQ_INT(c.len, 3);
    CHECK_MEM(c.data, src, 3);
    CHECK_EQ_INT(ward_buf_append(&c, src + 3, 7), WARD_OK);
    CHECK_EQ_INT(c.len, 10);
    CHECK_MEM(c.data, src, 10);
    ward_buf_release(&c);

    /* Release leaves it empty and reusable. */
    ward_buf_release(&b);
    CHECK_EQ_INT(b.len, 0);
    CHECK_EQ_INT(ward_buf_append(&b, src, 5), WARD_OK);
    CHECK_EQ_INT(b.len, 5);
    CHECK_MEM(b.data, src, 5);
    ward_buf_release(&b);
    ward_buf_release(&b);  /* releasing an empty buffer is harmless */
    CHECK_EQ_INT(b.len, 0);
}

int main(void)
{
    REQUIRE(ward_crypto_init() == WARD_OK);
    REQUIRE(ward_crypto_init() == WARD_OK);  /* safe to call again */

    test_x25519_rfc7748_5_2();
    test_x25519_rfc7748_6_1();
    test_x25519_low_order();
    test_x25519_keypair();

    test_sha();
    test_sha256_incremental();
    test_stream_sizes();
    test_stream_roundtrip();
    test_hmac_rfc4231();
    test_hmac_uneven_pieces();
    test_hkdf_rfc5869();
    test_hkdf_empty_salt_forms();
    test_hkdf_limits();

    test_aes_cbc_nist();
    test_aes_cbc_appends();
    test_aes_cbc_roundtrip();
    test_aes_cbc_bad_length();
    test_aes_cbc_bad_padding();

    test_xeddsa_roundtrip();
    test_xeddsa_rfc7748_key();
    test_xeddsa_z();
    test_xeddsa_tamper();
    test_xeddsa_noncanonical();
    test_xeddsa_prepared();

    test_ct_equal();
    test_random();
    test_memzero();
    test_secure_alloc();

    test_buf_growth();
    test_buf_max();

    return wtest_done("test_crypto");
}
