/* Attachment encryption: a thin layer over libsodium's
 * crypto_secretstream_xchacha20poly1305 (see crypto.h for the layout). */
#include <sodium.h>

#include "ward/crypto.h"

typedef crypto_secretstream_xchacha20poly1305_state sstate;

_Static_assert(sizeof(sstate) <= sizeof(ward_stream),
               "ward_stream too small for libsodium's state");
_Static_assert(crypto_secretstream_xchacha20poly1305_KEYBYTES ==
                   WARD_STREAM_KEY_LEN &&
               crypto_secretstream_xchacha20poly1305_HEADERBYTES ==
                   WARD_STREAM_HEADER_LEN &&
               crypto_secretstream_xchacha20poly1305_ABYTES ==
                   WARD_STREAM_ABYTES,
               "secretstream sizes changed");

uint64_t ward_stream_sealed_size(uint64_t plain)
{
    uint64_t chunks = plain == 0 ? 1
                                 : (plain + WARD_STREAM_CHUNK - 1) /
                                       WARD_STREAM_CHUNK;
    return WARD_STREAM_HEADER_LEN + plain + chunks * WARD_STREAM_ABYTES;
}

ward_err ward_stream_seal_init(ward_stream *st,
                               const uint8_t key[WARD_STREAM_KEY_LEN],
                               uint8_t header[WARD_STREAM_HEADER_LEN])
{
    crypto_secretstream_xchacha20poly1305_init_push((sstate *)st->opaque,
                                                    header, key);
    return WARD_OK;
}

ward_err ward_stream_seal(ward_stream *st, const uint8_t *in, size_t n,
                          int final, uint8_t *out)
{
    if (n > WARD_STREAM_CHUNK)
        return WARD_ERR_INVALID_ARG;
    unsigned char tag = final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                              : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
    if (crypto_secretstream_xchacha20poly1305_push((sstate *)st->opaque, out,
                                                   NULL, in, n, NULL, 0, tag))
        return WARD_ERR_INTERNAL;
    return WARD_OK;
}

ward_err ward_stream_open_init(ward_stream *st,
                               const uint8_t key[WARD_STREAM_KEY_LEN],
                               const uint8_t header[WARD_STREAM_HEADER_LEN])
{
    if (crypto_secretstream_xchacha20poly1305_init_pull((sstate *)st->opaque,
                                                        header, key))
        return WARD_ERR_AUTH;
    return WARD_OK;
}

ward_err ward_stream_open(ward_stream *st, const uint8_t *in, size_t n,
                          uint8_t *out, int *final)
{
    unsigned char tag = 0;
    if (n < WARD_STREAM_ABYTES || n > WARD_STREAM_CHUNK + WARD_STREAM_ABYTES)
        return WARD_ERR_AUTH;
    if (crypto_secretstream_xchacha20poly1305_pull((sstate *)st->opaque, out,
                                                   NULL, &tag, in, n, NULL,
                                                   0))
        return WARD_ERR_AUTH;
    *final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
    return WARD_OK;
}

void ward_stream_wipe(ward_stream *st)
{
    sodium_memzero(st, sizeof *st);
}
