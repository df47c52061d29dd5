/* Identity key pairs: long-lived, so they live in secure memory. */
#include <string.h>

#include "proto_internal.h"
#include "ser.h"

ward_err ward_keypair_generate(ward_keypair *kp)
{
    return ward_x25519_keypair(kp->priv, kp->pub);
}

static ward_err identity_make(ward_identity **out, const uint8_t *priv,
                              uint32_t registration_id)
{
    ward_identity *id = ward_secure_alloc(sizeof *id);
    if (!id)
        return WARD_ERR_NOMEM;
    ward_err e;
    if (priv) {
        memcpy(id->key.priv, priv, 32);
        id->key.priv[0] &= 248;
        id->key.priv[31] &= 127;
        id->key.priv[31] |= 64;
        e = ward_x25519_public(id->key.pub, id->key.priv);
    } else {
        e = ward_keypair_generate(&id->key);
    }
    if (e) {
        ward_secure_free(id);
        return e;
    }
    id->registration_id = registration_id;
    *out = id;
    return WARD_OK;
}

ward_err ward_identity_generate(ward_identity **out)
{
    uint32_t r;
    ward_random((uint8_t *)&r, sizeof r);
    /* libsignal draws registration ids in 1..16380. */
    return identity_make(out, NULL, 1 + r % 16380);
}

ward_err ward_identity_from_private(ward_identity **out,
                                   const uint8_t priv[32],
                                   uint32_t registration_id)
{
    if (!out || !priv)
        return WARD_ERR_INVALID_ARG;
    return identity_make(out, priv, registration_id);
}

void ward_identity_free(ward_identity *id)
{
    ward_secure_free(id); /* sodium_free wipes */
}

void ward_identity_public(const ward_identity *id,
                          uint8_t pub[WARD_PUBKEY_LEN])
{
    ward_key_encode(pub, id->key.pub);
}

uint32_t ward_identity_registration_id(const ward_identity *id)
{
    return id->registration_id;
}

ward_err ward_identity_sign(const ward_identity *id, const uint8_t *msg,
                            size_t n, uint8_t sig[WARD_SIGNATURE_LEN])
{
    return ward_xeddsa_sign(sig, id->key.priv, msg, n);
}

#define IDENTITY_MAGIC "WID"
#define IDENTITY_FORMAT 1

ward_err ward_identity_serialize(const ward_identity *id, ward_buf *out)
{
    ward_ser_writer w = {out, WARD_OK};
    ward_ser_magic(&w, IDENTITY_MAGIC, IDENTITY_FORMAT);
    ward_ser_bytes(&w, id->key.priv, 32);
    ward_ser_u32(&w, id->registration_id);
    return w.err;
}

ward_err ward_identity_deserialize(ward_identity **out, const uint8_t *p,
                                   size_t n)
{
    ward_ser_reader r = {p, n, 0};
    uint8_t priv[32];
    uint32_t reg = 0;
    ward_ser_expect_magic(&r, IDENTITY_MAGIC, IDENTITY_FORMAT);
    ward_ser_read_bytes(&r, priv, 32);
    ward_ser_read_u32(&r, &reg);
    ward_err e = ward_ser_finish(&r);
    if (!e)
        e = identity_make(out, priv, reg);
    ward_memzero(priv, sizeof priv);
    return e;
}
