/* This device's signed and one-time prekeys, and the bundle built from them. */
#include <stdlib.h>
#include <sys/types.h>
#include <string.h>

#include "proto_internal.h"
#include "ser.h"

#define MAX_SIGNED 64
#define MAX_ONETIME 100000

typedef struct signed_prekey {
    uint32_t id;
    ward_keypair key;
    uint8_t sig[WARD_SIGNATURE_LEN];
    uint64_t timestamp;
} signed_prekey;

typedef struct onetime_prekey {
    uint32_t id;
    ward_keypair key;
} onetime_prekey;

struct ward_prekeys {
    signed_prekey *sig;
    size_t n_sig, cap_sig;
    onetime_prekey *one;
    size_t n_one, cap_one;
};

ward_err ward_prekeys_new(ward_prekeys **out)
{
    ward_prekeys *pk = calloc(1, sizeof *pk);
    if (!pk)
        return WARD_ERR_NOMEM;
    *out = pk;
    return WARD_OK;
}

void ward_prekeys_free(ward_prekeys *pk)
{
    if (!pk)
        return;
    if (pk->sig) {
        ward_memzero(pk->sig, pk->cap_sig * sizeof *pk->sig);
        free(pk->sig);
    }
    if (pk->one) {
        ward_memzero(pk->one, pk->cap_one * sizeof *pk->one);
        free(pk->one);
    }
    free(pk);
}

/* Grows an array of secrets, wiping the old block (realloc would not). */
static ward_err grow(void **arr, size_t *cap, size_t need, size_t elem,
                     size_t max)
{
    if (need <= *cap)
        return WARD_OK;
    if (need > max)
        return WARD_ERR_TOO_BIG;
    size_t ncap = *cap ? *cap * 2 : 16;
    if (ncap < need)
        ncap = need;
    if (ncap > max)
        ncap = max;
    void *p = calloc(ncap, elem);
    if (!p)
        return WARD_ERR_NOMEM;
    if (*arr) {
        memcpy(p, *arr, *cap * elem);
        ward_memzero(*arr, *cap * elem);
        free(*arr);
    }
    *arr = p;
    *cap = ncap;
    return WARD_OK;
}

static signed_prekey *find_signed(const ward_prekeys *pk, uint32_t id)
{
    for (size_t i = 0; i < pk->n_sig; i++)
        if (pk->sig[i].id == id)
            return &pk->sig[i];
    return NULL;
}

static ssize_t find_onetime_index(const ward_prekeys *pk, uint32_t id)
{
    for (size_t i = 0; i < pk->n_one; i++)
        if (pk->one[i].id == id)
            return (ssize_t)i;
    return -1;
}

const ward_keypair *ward_prekeys_find_signed(const ward_prekeys *pk,
                                             uint32_t id)
{
    signed_prekey *s = pk ? find_signed(pk, id) : NULL;
    return s ? &s->key : NULL;
}

const ward_keypair *ward_prekeys_find_onetime(const ward_prekeys *pk,
                                              uint32_t id)
{
    ssize_t i = pk ? find_onetime_index(pk, id) : -1;
    return i < 0 ? NULL : &pk->one[i].key;
}

static ward_err put_signed(ward_prekeys *pk, uint32_t id,
                           const ward_keypair *key,
                           const uint8_t sig[WARD_SIGNATURE_LEN], uint64_t ts)
{
    signed_prekey *s = find_signed(pk, id);
    if (!s) {
        ward_err e = grow((void **)&pk->sig, &pk->cap_sig, pk->n_sig + 1,
                          sizeof *pk->sig, MAX_SIGNED);
        if (e)
            return e;
        s = &pk->sig[pk->n_sig++];
    }
    s->id = id;
    s->key = *key;
    memcpy(s->sig, sig, WARD_SIGNATURE_LEN);
    s->timestamp = ts;
    return WARD_OK;
}

ward_err ward_prekeys_generate_signed(ward_prekeys *pk,
                                      const ward_identity *id,
                                      uint32_t key_id, uint64_t timestamp)
{
    ward_keypair kp;
    uint8_t ser[WARD_PUBKEY_LEN], sig[WARD_SIGNATURE_LEN];
    ward_err e = ward_keypair_generate(&kp);
    if (!e) {
        ward_key_encode(ser, kp.pub);
        e = ward_identity_sign(id, ser, sizeof ser, sig);
    }
    if (!e)
        e = put_signed(pk, key_id, &kp, sig, timestamp);
    ward_memzero(&kp, sizeof kp);
    return e;
}

ward_err ward_prekeys_add_signed(ward_prekeys *pk, uint32_t key_id,
                                 const uint8_t priv[32],
                                 const uint8_t sig[WARD_SIGNATURE_LEN],
                                 uint64_t timestamp)
{
    ward_keypair kp;
    memcpy(kp.priv, priv, 32);
    ward_err e = ward_x25519_public(kp.pub, kp.priv);
    if (!e)
        e = put_signed(pk, key_id, &kp, sig, timestamp);
    ward_memzero(&kp, sizeof kp);
    return e;
}

static ward_err put_onetime(ward_prekeys *pk, uint32_t id,
                            const ward_keypair *key)
{
    ssize_t i = find_onetime_index(pk, id);
    if (i < 0) {
        ward_err e = grow((void **)&pk->one, &pk->cap_one, pk->n_one + 1,
                          sizeof *pk->one, MAX_ONETIME);
        if (e)
            return e;
        i = (ssize_t)pk->n_one++;
    }
    pk->one[i].id = id;
    pk->one[i].key = *key;
    return WARD_OK;
}

ward_err ward_prekeys_generate_onetime(ward_prekeys *pk, uint32_t start_id,
                                       uint32_t count)
{
    if (count > MAX_ONETIME || pk->n_one + count > MAX_ONETIME)
        return WARD_ERR_TOO_BIG;
    ward_err e = grow((void **)&pk->one, &pk->cap_one, pk->n_one + count,
                      sizeof *pk->one, MAX_ONETIME);
    ward_keypair kp;
    for (uint32_t i = 0; !e && i < count; i++) {
        /* Ids are 24-bit and never 0, as in libsignal's key helper. */
        uint32_t id = (uint32_t)(((uint64_t)start_id - 1 + i) % 0xFFFFFE) + 1;
        e = ward_keypair_generate(&kp);
        if (!e)
            e = put_onetime(pk, id, &kp);
    }
    ward_memzero(&kp, sizeof kp);
    return e;
}

ward_err ward_prekeys_add_onetime(ward_prekeys *pk, uint32_t key_id,
                                  const uint8_t priv[32])
{
    ward_keypair kp;
    memcpy(kp.priv, priv, 32);
    ward_err e = ward_x25519_public(kp.pub, kp.priv);
    if (!e)
        e = put_onetime(pk, key_id, &kp);
    ward_memzero(&kp, sizeof kp);
    return e;
}

size_t ward_prekeys_onetime_count(const ward_prekeys *pk)
{
    return pk->n_one;
}

ward_err ward_prekeys_remove_onetime(ward_prekeys *pk, uint32_t key_id)
{
    ssize_t i = find_onetime_index(pk, key_id);
    if (i < 0)
        return WARD_ERR_NO_PREKEY;
    pk->one[i] = pk->one[pk->n_one - 1];
    ward_memzero(&pk->one[pk->n_one - 1], sizeof *pk->one);
    pk->n_one--;
    return WARD_OK;
}

void ward_prekeys_each_onetime(const ward_prekeys *pk,
                               void (*fn)(void *ctx, uint32_t id,
                                          const uint8_t pub[WARD_PUBKEY_LEN]),
                               void *ctx)
{
    uint8_t pub[WARD_PUBKEY_LEN];
    for (size_t i = 0; i < pk->n_one; i++) {
        ward_key_encode(pub, pk->one[i].key.pub);
        fn(ctx, pk->one[i].id, pub);
    }
}

ward_err ward_prekeys_bundle(const ward_prekeys *pk, const ward_identity *id,
                             uint32_t device_id, uint32_t signed_id,
                             uint32_t onetime_id, ward_bundle *out)
{
    const signed_prekey *s = find_signed(pk, signed_id);
    if (!s)
        return WARD_ERR_NO_PREKEY;
    ward_bundle b;
    memset(&b, 0, sizeof b);
    if (onetime_id) {
        const ward_keypair *o = ward_prekeys_find_onetime(pk, onetime_id);
        if (!o)
            return WARD_ERR_NO_PREKEY;
        b.has_prekey = 1;
        b.prekey_id = onetime_id;
        ward_key_encode(b.prekey, o->pub);
    }
    b.registration_id = id->registration_id;
    b.device_id = device_id;
    b.signed_prekey_id = signed_id;
    ward_key_encode(b.signed_prekey, s->key.pub);
    memcpy(b.signed_prekey_sig, s->sig, WARD_SIGNATURE_LEN);
    ward_identity_public(id, b.identity);
    *out = b;
    return WARD_OK;
}

#define PREKEYS_MAGIC "WPK"
#define PREKEYS_FORMAT 1

ward_err ward_prekeys_serialize(const ward_prekeys *pk, ward_buf *out)
{
    ser_writer w = {out, WARD_OK};
    ser_magic(&w, PREKEYS_MAGIC, PREKEYS_FORMAT);
    ser_u32(&w, (uint32_t)pk->n_sig);
    for (size_t i = 0; i < pk->n_sig; i++) {
        ser_u32(&w, pk->sig[i].id);
        ser_bytes(&w, pk->sig[i].key.priv, 32);
        ser_bytes(&w, pk->sig[i].sig, WARD_SIGNATURE_LEN);
        ser_u64(&w, pk->sig[i].timestamp);
    }
    ser_u32(&w, (uint32_t)pk->n_one);
    for (size_t i = 0; i < pk->n_one; i++) {
        ser_u32(&w, pk->one[i].id);
        ser_bytes(&w, pk->one[i].key.priv, 32);
    }
    return w.err;
}

ward_err ward_prekeys_deserialize(ward_prekeys **out, const uint8_t *p,
                                  size_t n)
{
    ser_reader r = {p, n, 0};
    ward_prekeys *pk = NULL;
    uint32_t count = 0, id = 0;
    uint64_t ts = 0;
    uint8_t priv[32], sig[WARD_SIGNATURE_LEN];
    ward_err e = ward_prekeys_new(&pk);
    if (e)
        return e;
    ser_expect_magic(&r, PREKEYS_MAGIC, PREKEYS_FORMAT);
    ser_read_u32(&r, &count);
    if (count > MAX_SIGNED)
        ser_fail(&r);
    for (uint32_t i = 0; !r.bad && i < count; i++) {
        ser_read_u32(&r, &id);
        ser_read_bytes(&r, priv, 32);
        ser_read_bytes(&r, sig, sizeof sig);
        ser_read_u64(&r, &ts);
        if (!r.bad && find_signed(pk, id))
            ser_fail(&r);
        if (!r.bad && (e = ward_prekeys_add_signed(pk, id, priv, sig, ts)))
            goto fail;
    }
    ser_read_u32(&r, &count);
    /* Bound the count by what the input can hold before allocating. */
    if (count > MAX_ONETIME || (size_t)count * 36 > r.n)
        ser_fail(&r);
    for (uint32_t i = 0; !r.bad && i < count; i++) {
        ser_read_u32(&r, &id);
        ser_read_bytes(&r, priv, 32);
        if (!r.bad && find_onetime_index(pk, id) >= 0)
            ser_fail(&r);
        if (!r.bad && (e = ward_prekeys_add_onetime(pk, id, priv)))
            goto fail;
    }
    e = ser_finish(&r);
    if (e)
        goto fail;
    ward_memzero(priv, sizeof priv);
    *out = pk;
    return WARD_OK;
fail:
    ward_memzero(priv, sizeof priv);
    ward_prekeys_free(pk);
    return e;
}
