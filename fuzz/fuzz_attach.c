/*
 * The attachment decoder (client/attach_decode.c) on bytes a hostile
 * server or sender could deliver. Input: the plaintext size (8 bytes,
 * little-endian, reduced to 300000), the SHA-256 the pointer claims (32
 * bytes), then the stream, fed in uneven pieces. The key is fixed so the
 * seeds (real streams) decrypt and the fuzzer explores past the MACs'
 * checks through their structure: sizes, chunk boundaries, final tags.
 * Whatever the input, a decoder that says WARD_OK must have written
 * exactly the claimed size.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "ward/crypto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

static uint8_t key[32];
static int out_fd = -1;

static void seed(size_t plain_size)
{
    static uint8_t pt[140000], in[8 + 32 + 140000 + 24 + 3 * 17];
    ward_stream st;
    ward_sha256_ctx sha;
    for (size_t i = 0; i < plain_size; i++)
        pt[i] = (uint8_t)(i * 31 + 7);
    for (int i = 0; i < 8; i++)
        in[i] = (uint8_t)((uint64_t)plain_size >> (8 * i));
    ward_sha256_init(&sha);
    ward_sha256_update(&sha, pt, plain_size);
    ward_sha256_final(&sha, in + 8);
    size_t off = 0, out = 40;
    ward_stream_seal_init(&st, key, in + out);
    out += WARD_STREAM_HEADER_LEN;
    do {
        size_t k = plain_size - off > WARD_STREAM_CHUNK ? WARD_STREAM_CHUNK
                                                        : plain_size - off;
        FUZZ_ASSERT(!ward_stream_seal(&st, pt + off, k, off + k == plain_size,
                                      in + out));
        off += k;
        out += k + WARD_STREAM_ABYTES;
    } while (off < plain_size);
    char name[32];
    snprintf(name, sizeof name, "stream-%zu", plain_size);
    fuzz_write_seed(name, in, out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_deterministic_random();
    FUZZ_ASSERT(ward_crypto_init() == WARD_OK);
    memset(key, 0x42, sizeof key);
    out_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    FUZZ_ASSERT(out_fd >= 0);
    seed(0);
    seed(100);
    seed(65536);
    seed(131073);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    if (n < 40)
        return 0;
    uint64_t size = 0;
    for (int i = 0; i < 8; i++)
        size |= (uint64_t)p[i] << (8 * i);
    size %= 300001;
    ward_stream_dec *d = NULL;
    if (ward_stream_dec_new(&d, key, size, out_fd))
        return 0;
    const uint8_t *q = p + 40;
    size_t left = n - 40, step = 1;
    ward_err e = WARD_OK;
    while (left && !e) {
        size_t k = step < left ? step : left;
        e = ward_stream_dec_feed(d, q, k);
        q += k;
        left -= k;
        step = step * 5 % 70001 + 1;
    }
    if (!e)
        e = ward_stream_dec_finish(d, p + 8);
    /* Success means the whole claimed stream arrived: its exact length. */
    if (!e)
        FUZZ_ASSERT(n - 40 == ward_stream_sealed_size(size));
    ward_stream_dec_free(d);
    return 0;
}
