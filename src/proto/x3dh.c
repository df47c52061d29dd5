/* X3DH as libsignal-protocol-c runs it, for the initiator and the responder. */
#include <string.h>

#include "proto_internal.h"

/* 0xFF x 32 || DH1 || DH2 || DH3 [|| DH4] -> root key || chain key. */
typedef struct x3dh_secret {
    uint8_t bytes[32 * 5];
    size_t len;
} x3dh_secret;

static void secret_start(x3dh_secret *s)
{
    memset(s->bytes, 0xff, 32);
    s->len = 32;
}

static ward_err secret_dh(x3dh_secret *s, const uint8_t priv[32],
                          const uint8_t pub[32])
{
    ward_err e = ward_x25519(s->bytes + s->len, priv, pub);
    s->len += 32;
    return e;
}

static ward_err secret_derive(x3dh_secret *s, uint8_t root[32],
                              uint8_t chain[32])
{
    static const char info[] = "WhisperText";
    uint8_t okm[64];
    ward_err e = ward_hkdf_sha256(okm, sizeof okm, s->bytes, s->len, NULL, 0,
                                  (const uint8_t *)info, sizeof info - 1);
    memcpy(root, okm, 32);
    memcpy(chain, okm + 32, 32);
    ward_memzero(okm, sizeof okm);
    ward_memzero(s, sizeof *s);
    return e;
}

ward_err ward_x3dh_initiator(ward_state **out, const ward_identity *self,
                             const ward_bundle *b, const uint8_t ik[32],
                             const uint8_t spk[32], const uint8_t *opk)
{
    x3dh_secret sec;
    ward_keypair base, ratchet;
    uint8_t root[32], chain[32], send_root[32], send_key[32];
    ward_state *st = ward_state_new();
    if (!st)
        return WARD_ERR_NOMEM;

    secret_start(&sec);
    ward_err e = ward_keypair_generate(&base);
    if (!e)
        e = secret_dh(&sec, self->key.priv, spk);
    if (!e)
        e = secret_dh(&sec, base.priv, ik);
    if (!e)
        e = secret_dh(&sec, base.priv, spk);
    if (!e && opk)
        e = secret_dh(&sec, base.priv, opk);
    if (!e)
        e = secret_derive(&sec, root, chain);
    /* Bob's signed prekey doubles as his first ratchet key. */
    if (!e)
        e = ward_keypair_generate(&ratchet);
    if (!e)
        e = ward_root_step(root, ratchet.priv, spk, send_root, send_key);
    if (e)
        goto done;
    ward_state_add_chain(st, spk, chain);

    memcpy(st->local_identity, self->key.pub, 32);
    memcpy(st->remote_identity, ik, 32);
    st->local_registration_id = self->registration_id;
    st->remote_registration_id = b->registration_id;
    memcpy(st->root, send_root, 32);
    st->has_sender = 1;
    st->sender_ratchet = ratchet;
    memcpy(st->sender_key, send_key, 32);
    st->has_pending = 1;
    st->pending_has_prekey = opk != NULL;
    st->pending_prekey_id = opk ? b->prekey_id : 0;
    st->pending_signed_id = b->signed_prekey_id;
    memcpy(st->pending_base, base.pub, 32);
    st->has_alice_base = 1;
    memcpy(st->alice_base, base.pub, 32);
    *out = st;
    st = NULL;
done:
    ward_state_free(st);
    ward_memzero(&sec, sizeof sec);
    ward_memzero(&base, sizeof base);
    ward_memzero(&ratchet, sizeof ratchet);
    ward_memzero(root, sizeof root);
    ward_memzero(chain, sizeof chain);
    ward_memzero(send_root, sizeof send_root);
    ward_memzero(send_key, sizeof send_key);
    return e;
}

ward_err ward_x3dh_responder(ward_state **out, const ward_identity *self,
                             const ward_prekeys *pk, const ward_prekey_msg *m)
{
    const ward_keypair *spk = ward_prekeys_find_signed(pk, m->signed_prekey_id);
    const ward_keypair *opk = NULL;
    if (!spk)
        return WARD_ERR_NO_PREKEY;
    if (m->has_prekey_id &&
        !(opk = ward_prekeys_find_onetime(pk, m->prekey_id)))
        return WARD_ERR_NO_PREKEY;

    x3dh_secret sec;
    uint8_t root[32], chain[32];
    ward_state *st = ward_state_new();
    if (!st)
        return WARD_ERR_NOMEM;
    secret_start(&sec);
    ward_err e = secret_dh(&sec, spk->priv, m->identity_key);
    if (!e)
        e = secret_dh(&sec, self->key.priv, m->base_key);
    if (!e)
        e = secret_dh(&sec, spk->priv, m->base_key);
    if (!e && opk)
        e = secret_dh(&sec, opk->priv, m->base_key);
    if (!e)
        e = secret_derive(&sec, root, chain);
    if (e) {
        /* A low-order key in someone's message: not an authentic message. */
        e = e == WARD_ERR_CRYPTO ? WARD_ERR_AUTH : e;
        goto done;
    }
    memcpy(st->local_identity, self->key.pub, 32);
    memcpy(st->remote_identity, m->identity_key, 32);
    st->local_registration_id = self->registration_id;
    st->remote_registration_id = m->registration_id;
    memcpy(st->root, root, 32);
    st->has_sender = 1;
    st->sender_ratchet = *spk;
    memcpy(st->sender_key, chain, 32);
    st->has_alice_base = 1;
    memcpy(st->alice_base, m->base_key, 32);
    *out = st;
    st = NULL;
done:
    ward_state_free(st);
    ward_memzero(&sec, sizeof sec);
    ward_memzero(root, sizeof root);
    ward_memzero(chain, sizeof chain);
    return e;
}
