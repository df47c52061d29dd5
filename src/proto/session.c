/* Session records: starting sessions, and choosing which state decrypts. */
#include <string.h>

#include "proto_internal.h"

static int identity_conflicts(const ward_session *s, const uint8_t key[32])
{
    return s->has_trusted && !ward_ct_equal(s->trusted, key, 32);
}

ward_err ward_session_init_from_bundle(ward_session *s,
                                       const ward_identity *self,
                                       const ward_bundle *b)
{
    uint8_t ik[32], spk[32], opk[32];
    if (!s || !self || !b)
        return WARD_ERR_INVALID_ARG;
    if (ward_key_decode(ik, b->identity, WARD_PUBKEY_LEN) ||
        ward_key_decode(spk, b->signed_prekey, WARD_PUBKEY_LEN) ||
        (b->has_prekey && ward_key_decode(opk, b->prekey, WARD_PUBKEY_LEN)))
        return WARD_ERR_MALFORMED;
    if (identity_conflicts(s, ik))
        return WARD_ERR_UNTRUSTED_IDENTITY;
    if (ward_xeddsa_verify(b->signed_prekey_sig, ik, b->signed_prekey,
                           WARD_PUBKEY_LEN) != WARD_OK)
        return WARD_ERR_AUTH;

    ward_state *st = NULL;
    ward_err e = ward_x3dh_initiator(&st, self, b, ik, spk,
                                     b->has_prekey ? opk : NULL);
    if (e)
        return e;
    ward_session_install(s, st);
    memcpy(s->trusted, ik, 32);
    s->has_trusted = 1;
    return WARD_OK;
}

ward_err ward_session_encrypt(ward_session *s, const uint8_t *pt, size_t n,
                              ward_buf *out, int *type)
{
    if (!s || (!pt && n) || !out || !type)
        return WARD_ERR_INVALID_ARG;
    return ward_ratchet_encrypt(s->current, pt, n, out, type);
}

/* Tries the current state, then the archived ones newest first, as
 * libsignal does; an archived state that decrypts becomes current. */
static ward_err decrypt_record(ward_session *s, const ward_signal_msg *m,
                               ward_buf *pt)
{
    ward_err first = WARD_ERR_NO_SESSION;
    if (s->current) {
        first = ward_ratchet_decrypt(s->current, m, pt);
        if (first == WARD_OK || first == WARD_ERR_DUPLICATE)
            return first;
    }
    for (uint32_t i = 0; i < s->n_archived; i++) {
        ward_err e = ward_ratchet_decrypt(s->archived[i], m, pt);
        if (e == WARD_ERR_DUPLICATE)
            return e;
        if (e != WARD_OK)
            continue;
        ward_state *st = s->archived[i];
        memmove(&s->archived[i], &s->archived[i + 1],
                (s->n_archived - i - 1) * sizeof s->archived[0]);
        s->n_archived--;
        ward_session_install(s, st);
        return WARD_OK;
    }
    if (first == WARD_ERR_NO_SESSION && s->n_archived)
        first = WARD_ERR_AUTH;
    return first;
}

static int has_base_key(const ward_session *s, const uint8_t base[32])
{
    if (s->current && s->current->has_alice_base &&
        memcmp(s->current->alice_base, base, 32) == 0)
        return 1;
    for (uint32_t i = 0; i < s->n_archived; i++)
        if (s->archived[i]->has_alice_base &&
            memcmp(s->archived[i]->alice_base, base, 32) == 0)
            return 1;
    return 0;
}

static ward_err decrypt_prekey(ward_session *s, const ward_identity *self,
                               ward_prekeys *prekeys,
                               const ward_prekey_msg *m, ward_buf *pt)
{
    if (identity_conflicts(s, m->identity_key))
        return WARD_ERR_UNTRUSTED_IDENTITY;
    /* A repeat of a PreKeySignalMessage we already processed: the session
     * exists, and the inner message's counter tells whether it is a replay. */
    if (has_base_key(s, m->base_key))
        return decrypt_record(s, &m->message, pt);

    ward_state *st = NULL;
    ward_err e = ward_x3dh_responder(&st, self, prekeys, m);
    if (e)
        return e;
    e = ward_ratchet_decrypt(st, &m->message, pt);
    if (e) {
        ward_state_free(st);
        return e;
    }
    ward_session_install(s, st);
    memcpy(s->trusted, m->identity_key, 32);
    s->has_trusted = 1;
    if (m->has_prekey_id)
        (void)ward_prekeys_remove_onetime(prekeys, m->prekey_id);
    return WARD_OK;
}

ward_err ward_session_decrypt(ward_session *s, const ward_identity *self,
                              ward_prekeys *prekeys, int type,
                              const uint8_t *msg, size_t n, ward_buf *pt)
{
    if (!s || !self || !pt)
        return WARD_ERR_INVALID_ARG;
    ward_err e;
    if (type == WARD_MSG_SIGNAL) {
        ward_signal_msg m;
        if ((e = ward_signal_msg_parse(&m, msg, n)))
            return e;
        return decrypt_record(s, &m, pt);
    }
    if (type == WARD_MSG_PREKEY) {
        ward_prekey_msg m;
        if ((e = ward_prekey_msg_parse(&m, msg, n)))
            return e;
        return decrypt_prekey(s, self, prekeys, &m, pt);
    }
    return WARD_ERR_MALFORMED;
}
