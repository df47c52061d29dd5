/* SignalMessage and PreKeySignalMessage: version byte, protobuf, MAC. */
#include <string.h>

#include "pb.h"
#include "proto_internal.h"

ward_err ward_wire_check_version(uint8_t byte)
{
    /* libsignal reads only the high nibble, the message's own version. */
    return (byte >> 4) == WARD_PROTO_VERSION ? WARD_OK : WARD_ERR_VERSION;
}

ward_err ward_key_decode(uint8_t out[32], const uint8_t *p, size_t n)
{
    if (n != WARD_PUBKEY_LEN || p[0] != WARD_KEY_TYPE_DJB)
        return WARD_ERR_MALFORMED;
    memcpy(out, p + 1, 32);
    return WARD_OK;
}

void ward_key_encode(uint8_t out[WARD_PUBKEY_LEN], const uint8_t key[32])
{
    out[0] = WARD_KEY_TYPE_DJB;
    memcpy(out + 1, key, 32);
}

ward_err ward_signal_msg_parse(ward_signal_msg *out, const uint8_t *p,
                               size_t n)
{
    ward_signal_msg m;
    memset(&m, 0, sizeof m);
    if (!p || n <= 1 + WARD_MAC_LEN)
        return WARD_ERR_MALFORMED;
    ward_err e = ward_wire_check_version(p[0]);
    if (e)
        return e;
    m.version = p[0];

    ward_pb_reader r = {p + 1, n - 1 - WARD_MAC_LEN};
    ward_pb_field f;
    int rc, has_key = 0, has_counter = 0, has_ct = 0;
    while ((rc = ward_pb_next(&r, &f)) == 1) {
        switch (f.number) {
        case 1:
            if (f.type != PB_LEN ||
                ward_key_decode(m.ratchet_key, f.data, f.len))
                return WARD_ERR_MALFORMED;
            has_key = 1;
            break;
        case 2:
            if (ward_pb_get_u32(&f, &m.counter))
                return WARD_ERR_MALFORMED;
            has_counter = 1;
            break;
        case 3:
            if (ward_pb_get_u32(&f, &m.previous_counter))
                return WARD_ERR_MALFORMED;
            break;
        case 4:
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
    if (rc < 0 || !has_key || !has_counter || !has_ct)
        return WARD_ERR_MALFORMED;
    m.serialized = p;
    m.serialized_len = n;
    *out = m;
    return WARD_OK;
}

ward_err ward_prekey_msg_parse(ward_prekey_msg *out, const uint8_t *p,
                               size_t n)
{
    ward_prekey_msg m;
    memset(&m, 0, sizeof m);
    if (!p || n < 2)
        return WARD_ERR_MALFORMED;
    ward_err e = ward_wire_check_version(p[0]);
    if (e)
        return e;
    m.version = p[0];

    ward_pb_reader r = {p + 1, n - 1};
    ward_pb_field f;
    int rc, has_signed = 0, has_base = 0, has_identity = 0;
    const uint8_t *inner = NULL;
    size_t inner_len = 0;
    while ((rc = ward_pb_next(&r, &f)) == 1) {
        switch (f.number) {
        case 1:
            if (ward_pb_get_u32(&f, &m.prekey_id))
                return WARD_ERR_MALFORMED;
            m.has_prekey_id = 1;
            break;
        case 2:
            if (f.type != PB_LEN || ward_key_decode(m.base_key, f.data, f.len))
                return WARD_ERR_MALFORMED;
            has_base = 1;
            break;
        case 3:
            if (f.type != PB_LEN ||
                ward_key_decode(m.identity_key, f.data, f.len))
                return WARD_ERR_MALFORMED;
            has_identity = 1;
            break;
        case 4:
            if (f.type != PB_LEN)
                return WARD_ERR_MALFORMED;
            inner = f.data;
            inner_len = f.len;
            break;
        case 5:
            if (ward_pb_get_u32(&f, &m.registration_id))
                return WARD_ERR_MALFORMED;
            break;
        case 6:
            if (ward_pb_get_u32(&f, &m.signed_prekey_id))
                return WARD_ERR_MALFORMED;
            has_signed = 1;
            break;
        default:
            break;
        }
    }
    if (rc < 0 || !has_signed || !has_base || !has_identity || !inner)
        return WARD_ERR_MALFORMED;
    e = ward_signal_msg_parse(&m.message, inner, inner_len);
    if (e)
        return e;
    *out = m;
    return WARD_OK;
}

ward_err ward_signal_msg_encode_head(ward_buf *out,
                                     const uint8_t ratchet_key[32],
                                     uint32_t counter,
                                     uint32_t previous_counter, size_t ct_len)
{
    uint8_t key[WARD_PUBKEY_LEN];
    ward_key_encode(key, ratchet_key);
    /* Room for the header, the ciphertext and the MAC in one allocation. */
    ward_err e = ward_buf_reserve(out, 64 + ct_len + WARD_MAC_LEN);
    if (!e)
        e = ward_buf_push(out, WARD_VERSION_BYTE);
    if (!e)
        e = ward_pb_put_bytes(out, 1, key, sizeof key);
    if (!e)
        e = ward_pb_put_varint(out, 2, counter);
    if (!e)
        e = ward_pb_put_varint(out, 3, previous_counter);
    if (!e)
        e = ward_pb_put_raw_varint(out, (4 << 3) | PB_LEN);
    if (!e)
        e = ward_pb_put_raw_varint(out, ct_len);
    return e;
}

ward_err ward_prekey_msg_encode(ward_buf *out, uint32_t registration_id,
                                int has_prekey_id, uint32_t prekey_id,
                                uint32_t signed_prekey_id,
                                const uint8_t base_key[32],
                                const uint8_t identity_key[32],
                                const uint8_t *inner, size_t inner_len)
{
    uint8_t base[WARD_PUBKEY_LEN], ident[WARD_PUBKEY_LEN];
    ward_key_encode(base, base_key);
    ward_key_encode(ident, identity_key);
    /* Fields in number order, as protobuf-c (libsignal) writes them. */
    ward_err e = ward_buf_reserve(out, 128 + inner_len);
    if (!e)
        e = ward_buf_push(out, WARD_VERSION_BYTE);
    if (!e && has_prekey_id)
        e = ward_pb_put_varint(out, 1, prekey_id);
    if (!e)
        e = ward_pb_put_bytes(out, 2, base, sizeof base);
    if (!e)
        e = ward_pb_put_bytes(out, 3, ident, sizeof ident);
    if (!e)
        e = ward_pb_put_bytes(out, 4, inner, inner_len);
    if (!e)
        e = ward_pb_put_varint(out, 5, registration_id);
    if (!e)
        e = ward_pb_put_varint(out, 6, signed_prekey_id);
    return e;
}
