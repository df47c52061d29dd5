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
    ward_secure_free(pk->sig); /* sodium_free wipes */
    ward_secure_free(pk->one);
    free(pk);
}

/* Grows an array of private keys. Prekeys live for weeks, so they are kept
 * in secure memory (locked, guarded, out of core dumps), and the old block
 * is wiped as it is freed. */
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
    void *p = ward_secure_alloc(ncap * elem);
    if (!p)
        return WARD_ERR_NOMEM;
    memset(p, 0, ncap * elem);
    if (*arr) {
        memcpy(p, *arr, *cap * elem);
        ward_secure_free(*arr);
    }
    *arr = p;
    *cap = ncap;
    return WARD_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Private keys are stored clamped, as X25519 uses them (and libsignal
 * serialises them). */
static void clamp_copy(uint8_t out[32], const uint8_t in[32])
{
    memcpy(out, in, 32);
    out[0] &= 248;
    out[31] &= 127;
    out[31] |= 64;
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
    clamp_copy(kp.priv, priv);
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
    if (e)
        return e;
    /* Existing ids, sorted, so a batch of 100,000 is not quadratic. */
    size_t n_old = pk->n_one;
    uint32_t *old = n_old ? malloc(n_old * sizeof *old) : NULL;
    if (n_old && !old)
        return WARD_ERR_NOMEM;
    for (size_t i = 0; i < n_old; i++)
        old[i] = pk->one[i].id;
    if (n_old)
        qsort(old, n_old, sizeof *old, cmp_u32);
    ward_keypair kp;
    for (uint32_t i = 0; !e && i < count; i++) {
        /* Ids are 24-bit and never 0, as in libsignal's key helper. */
        uint32_t id = (uint32_t)(((uint64_t)start_id - 1 + i) % 0xFFFFFE) + 1;
        e = ward_keypair_generate(&kp);
        if (e)
            break;
        if (n_old && bsearch(&id, old, n_old, sizeof *old, cmp_u32)) {
            e = put_onetime(pk, id, &kp); /* replaces the old key */
        } else {
            pk->one[pk->n_one].id = id;
            pk->one[pk->n_one].key = kp;
            pk->n_one++;
        }
    }
    ward_memzero(&kp, sizeof kp);
    free(old);
    return e;
}

ward_err ward_prekeys_add_onetime(ward_prekeys *pk, uint32_t key_id,
                                  const uint8_t priv[32])
{
    ward_keypair kp;
    clamp_copy(kp.priv, priv);
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

/* Format 1: "WPK" 1 | n signed, each (id, private, public, signature,
 * timestamp) | n one-time, each (id, private, public). Key pairs are stored
 * whole so that loading 100,000 prekeys costs no scalar multiplication. */
ward_err ward_prekeys_serialize(const ward_prekeys *pk, ward_buf *out)
{
    ward_ser_writer w = {out, WARD_OK};
    size_t start = out->len;
    ward_ser_magic(&w, PREKEYS_MAGIC, PREKEYS_FORMAT);
    ward_ser_u32(&w, (uint32_t)pk->n_sig);
    for (size_t i = 0; i < pk->n_sig; i++) {
        ward_ser_u32(&w, pk->sig[i].id);
        ward_ser_bytes(&w, pk->sig[i].key.priv, 32);
        ward_ser_bytes(&w, pk->sig[i].key.pub, 32);
        ward_ser_bytes(&w, pk->sig[i].sig, WARD_SIGNATURE_LEN);
        ward_ser_u64(&w, pk->sig[i].timestamp);
    }
    ward_ser_u32(&w, (uint32_t)pk->n_one);
    for (size_t i = 0; i < pk->n_one; i++) {
        ward_ser_u32(&w, pk->one[i].id);
        ward_ser_bytes(&w, pk->one[i].key.priv, 32);
        ward_ser_bytes(&w, pk->one[i].key.pub, 32);
    }
    if (w.err && out->len > start) {
        ward_memzero(out->data + start, out->len - start);
        out->len = start;
    }
    return w.err;
}

/* 1 if two one-time prekeys share an id: sorted, O(n log n). */
static int has_duplicate_ids(const ward_prekeys *pk, int *nomem)
{
    *nomem = 0;
    if (pk->n_one < 2)
        return 0;
    uint32_t *ids = malloc(pk->n_one * sizeof *ids);
    if (!ids) {
        *nomem = 1;
        return 1;
    }
    for (size_t i = 0; i < pk->n_one; i++)
        ids[i] = pk->one[i].id;
    qsort(ids, pk->n_one, sizeof *ids, cmp_u32);
    int dup = 0;
    for (size_t i = 1; i < pk->n_one && !dup; i++)
        dup = ids[i] == ids[i - 1];
    free(ids);
    return dup;
}

ward_err ward_prekeys_deserialize(ward_prekeys **out, const uint8_t *p,
                                  size_t n)
{
    enum { SIGNED_LEN = 4 + 32 + 32 + WARD_SIGNATURE_LEN + 8,
           ONETIME_LEN = 4 + 32 + 32 };
    ward_ser_reader r = {p, n, 0};
    ward_prekeys *pk = NULL;
    uint32_t count = 0;
    int nomem = 0;
    ward_err e = ward_prekeys_new(&pk);
    if (e)
        return e;
    ward_ser_expect_magic(&r, PREKEYS_MAGIC, PREKEYS_FORMAT);
    ward_ser_read_u32(&r, &count);
    /* Bound each count by the limit and by what the input can hold before
     * allocating for it. */
    if (count > MAX_SIGNED || (size_t)count * SIGNED_LEN > r.n)
        ward_ser_fail(&r);
    if (!r.bad && count &&
        (e = grow((void **)&pk->sig, &pk->cap_sig, count, sizeof *pk->sig,
                  MAX_SIGNED)))
        goto fail;
    for (uint32_t i = 0; !r.bad && i < count; i++) {
        signed_prekey *s = &pk->sig[pk->n_sig];
        ward_ser_read_u32(&r, &s->id);
        ward_ser_read_bytes(&r, s->key.priv, 32);
        ward_ser_read_bytes(&r, s->key.pub, 32);
        ward_ser_read_bytes(&r, s->sig, WARD_SIGNATURE_LEN);
        ward_ser_read_u64(&r, &s->timestamp);
        if (!r.bad && find_signed(pk, s->id))
            ward_ser_fail(&r);
        pk->n_sig++;
    }
    ward_ser_read_u32(&r, &count);
    if (count > MAX_ONETIME || (size_t)count * ONETIME_LEN > r.n)
        ward_ser_fail(&r);
    if (!r.bad && count &&
        (e = grow((void **)&pk->one, &pk->cap_one, count, sizeof *pk->one,
                  MAX_ONETIME)))
        goto fail;
    for (uint32_t i = 0; !r.bad && i < count; i++) {
        onetime_prekey *o = &pk->one[pk->n_one++];
        ward_ser_read_u32(&r, &o->id);
        ward_ser_read_bytes(&r, o->key.priv, 32);
        ward_ser_read_bytes(&r, o->key.pub, 32);
    }
    if (!r.bad && has_duplicate_ids(pk, &nomem)) {
        if (nomem) {
            e = WARD_ERR_NOMEM;
            goto fail;
        }
        ward_ser_fail(&r);
    }
    e = ward_ser_finish(&r);
    if (e)
        goto fail;
    *out = pk;
    return WARD_OK;
fail:
    ward_prekeys_free(pk);
    return e;
}
