/*
 * SenderKeyMessage (version || protobuf || signature) and
 * SenderKeyDistributionMessage (version || protobuf), as
 * libsignal-protocol-c 2.3 reads and writes them.
 */
#include <string.h>

#include "group_internal.h"
#include "pb.h"

ward_err ward_sender_key_msg_parse(ward_sender_key_msg *out, const uint8_t *p,
                                   size_t n)
{
    ward_sender_key_msg m;
    memset(&m, 0, sizeof m);
    if (!out)
        return WARD_ERR_INVALID_ARG;
    /* libsignal refuses anything not longer than version + signature. */
    if (!p || n <= 1 + WARD_SIGNATURE_LEN)
        return WARD_ERR_MALFORMED;
    ward_err e = ward_wire_check_version(p[0]);
    if (e)
        return e;
    m.version = p[0];

    ward_pb_reader r = {p + 1, n - 1 - WARD_SIGNATURE_LEN};
    ward_pb_field f;
    int rc, has_id = 0, has_iteration = 0, has_ct = 0;
    while ((rc = ward_pb_next(&r, &f)) == 1) {
        switch (f.number) {
        case 1:
            if (ward_pb_get_u32(&f, &m.key_id))
                return WARD_ERR_MALFORMED;
            has_id = 1;
            break;
        case 2:
            if (ward_pb_get_u32(&f, &m.iteration))
                return WARD_ERR_MALFORMED;
            has_iteration = 1;
            break;
        case 3:
            if (f.type != PB_LEN)
                return WARD_ERR_MALFORMED;
            m.ciphertext = f.data;
            m.ciphertext_len = f.len;
            has_ct = 1;
            break;
        default: /* unknown fields are skipped, as protobuf requires */
            break;
        }
    }
    if (rc < 0 || !has_id || !has_iteration || !has_ct)
        return WARD_ERR_MALFORMED;
    m.signed_part = p;
    m.signed_len = n - WARD_SIGNATURE_LEN;
    m.signature = p + n - WARD_SIGNATURE_LEN;
    *out = m;
    return WARD_OK;
}

ward_err ward_skdm_parse(ward_skdm *out, const uint8_t *p, size_t n)
{
    ward_skdm m;
    memset(&m, 0, sizeof m);
    if (!out)
        return WARD_ERR_INVALID_ARG;
    if (!p || n < 2)
        return WARD_ERR_MALFORMED;
    ward_err e = ward_wire_check_version(p[0]);
    if (e)
        return e;
    m.version = p[0];

    ward_pb_reader r = {p + 1, n - 1};
    ward_pb_field f;
    int rc, has_id = 0, has_iteration = 0, has_chain = 0, has_key = 0;
    e = WARD_ERR_MALFORMED;
    while ((rc = ward_pb_next(&r, &f)) == 1) {
        switch (f.number) {
        case 1:
            if (ward_pb_get_u32(&f, &m.key_id))
                goto done;
            has_id = 1;
            break;
        case 2:
            if (ward_pb_get_u32(&f, &m.iteration))
                goto done;
            has_iteration = 1;
            break;
        case 3:
            /* libsignal takes a chain key of any length (it is an HMAC
             * key); every implementation makes 32 bytes, and ward keeps
             * exactly that (docs/protocol.md). */
            if (f.type != PB_LEN || f.len != sizeof m.chain_key)
                goto done;
            memcpy(m.chain_key, f.data, sizeof m.chain_key);
            has_chain = 1;
            break;
        case 4:
            if (f.type != PB_LEN ||
                ward_key_decode(m.signing_key, f.data, f.len))
                goto done;
            has_key = 1;
            break;
        default:
            break;
        }
    }
    if (rc < 0 || !has_id || !has_iteration || !has_chain || !has_key)
        goto done;
    *out = m;
    e = WARD_OK;
done:
    ward_memzero(&m, sizeof m);
    return e;
}

ward_err ward_skdm_encode(ward_buf *out, const ward_skdm *m)
{
    if (!out || !m)
        return WARD_ERR_INVALID_ARG;
    uint8_t key[WARD_PUBKEY_LEN];
    ward_key_encode(key, m->signing_key);
    size_t start = out->len;
    ward_err e = ward_buf_reserve(out, 96);
    if (!e)
        e = ward_buf_push(out, WARD_VERSION_BYTE);
    if (!e)
        e = ward_pb_put_varint(out, 1, m->key_id);
    if (!e)
        e = ward_pb_put_varint(out, 2, m->iteration);
    if (!e)
        e = ward_pb_put_bytes(out, 3, m->chain_key, sizeof m->chain_key);
    if (!e)
        e = ward_pb_put_bytes(out, 4, key, sizeof key);
    if (e && out->len > start) {
        ward_memzero(out->data + start, out->len - start);
        out->len = start;
    }
    return e;
}

ward_err ward_sender_key_msg_encode_head(ward_buf *out, uint32_t key_id,
                                         uint32_t iteration, size_t ct_len)
{
    /* Room for the header, the ciphertext and the signature at once. */
    ward_err e = ward_buf_reserve(out, 32 + ct_len + WARD_SIGNATURE_LEN);
    if (!e)
        e = ward_buf_push(out, WARD_VERSION_BYTE);
    if (!e)
        e = ward_pb_put_varint(out, 1, key_id);
    if (!e)
        e = ward_pb_put_varint(out, 2, iteration);
    if (!e)
        e = ward_pb_put_raw_varint(out, (3 << 3) | PB_LEN);
    if (!e)
        e = ward_pb_put_raw_varint(out, ct_len);
    return e;
}
