/*
 * The receiving half of a sealed stream (an attachment): bytes as they
 * arrive, decrypted chunk by chunk into a file, with the checks that make
 * the result the one the sender committed to (crypto.h's layout). The
 * client uses it for downloads, the server for a reported image. The
 * bytes are untrusted: anything but the exact stream is WARD_ERR_AUTH.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ward/crypto.h"

#define SEALED_CHUNK (WARD_STREAM_CHUNK + WARD_STREAM_ABYTES)

struct ward_stream_dec {
    uint8_t key[WARD_STREAM_KEY_LEN];
    ward_stream st;
    ward_sha256_ctx sha;
    int fd;
    uint64_t expect_plain, expect_cipher, got_cipher, plain_total;
    uint8_t buf[SEALED_CHUNK];
    size_t buf_len;
    uint8_t plain[WARD_STREAM_CHUNK];
    int header_done, final_seen;
    ward_err failed; /* sticky */
};

ward_err ward_stream_dec_new(ward_stream_dec **out, const uint8_t key[32],
                             uint64_t plain_size, int fd)
{
    if (plain_size > WARD_STREAM_MAX_PLAIN)
        return WARD_ERR_AUTH;
    ward_stream_dec *d = calloc(1, sizeof *d);
    if (!d)
        return WARD_ERR_NOMEM;
    memcpy(d->key, key, sizeof d->key);
    d->fd = fd;
    d->expect_plain = plain_size;
    d->expect_cipher = ward_stream_sealed_size(plain_size);
    ward_sha256_init(&d->sha);
    *out = d;
    return WARD_OK;
}

void ward_stream_dec_free(ward_stream_dec *d)
{
    if (!d)
        return;
    ward_memzero(d, sizeof *d);
    free(d);
}

/* Decrypts the buffered chunk and appends its plaintext to the file. */
static ward_err open_chunk(ward_stream_dec *d)
{
    int final = 0;
    if (d->final_seen ||
        ward_stream_open(&d->st, d->buf, d->buf_len, d->plain, &final))
        return WARD_ERR_AUTH;
    size_t n = d->buf_len - WARD_STREAM_ABYTES;
    /* A full chunk only before the end, the final one only at it. */
    if (d->plain_total + n > d->expect_plain ||
        final != (d->plain_total + n == d->expect_plain))
        return WARD_ERR_AUTH;
    ward_sha256_update(&d->sha, d->plain, n);
    for (size_t off = 0; off < n;) {
        ssize_t w = write(d->fd, d->plain + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return WARD_ERR_IO;
        off += (size_t)w;
    }
    d->plain_total += n;
    d->final_seen = final;
    d->buf_len = 0;
    return WARD_OK;
}

ward_err ward_stream_dec_feed(ward_stream_dec *d, const uint8_t *p, size_t n)
{
    if (d->failed || n == 0)
        return d->failed;
    /* More bytes than the pointer's size allows: not what was sent. */
    if (d->got_cipher + n > d->expect_cipher)
        return d->failed = WARD_ERR_AUTH;
    d->got_cipher += n;
    while (n) {
        size_t want = d->header_done ? SEALED_CHUNK : WARD_STREAM_HEADER_LEN;
        size_t k = want - d->buf_len;
        if (k > n)
            k = n;
        memcpy(d->buf + d->buf_len, p, k);
        d->buf_len += k;
        p += k;
        n -= k;
        if (d->buf_len < want)
            break;
        if (d->header_done) {
            ward_err e = open_chunk(d);
            if (e)
                return d->failed = e;
        } else {
            if (ward_stream_open_init(&d->st, d->key, d->buf))
                return d->failed = WARD_ERR_AUTH;
            d->header_done = 1;
            d->buf_len = 0;
        }
    }
    return WARD_OK;
}

ward_err ward_stream_dec_finish(ward_stream_dec *d,
                                const uint8_t sha256[32])
{
    if (d->failed)
        return d->failed;
    if (d->header_done && d->buf_len && !d->final_seen) {
        ward_err e = open_chunk(d);
        if (e)
            return d->failed = e;
    }
    if (!d->final_seen || d->plain_total != d->expect_plain ||
        d->got_cipher != d->expect_cipher)
        return d->failed = WARD_ERR_AUTH;
    uint8_t digest[32];
    ward_sha256_final(&d->sha, digest);
    if (!ward_ct_equal(digest, sha256, 32))
        return d->failed = WARD_ERR_AUTH;
    return WARD_OK;
}
