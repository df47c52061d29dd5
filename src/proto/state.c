/* Ratchet states and the record that holds the current and archived ones. */
#include <stdlib.h>
#include <string.h>

#include "proto_internal.h"

ward_state *ward_state_new(void)
{
    return calloc(1, sizeof(ward_state));
}

static void chain_release(ward_chain *c)
{
    if (c->skipped) {
        ward_memzero(c->skipped, c->n_skipped * sizeof *c->skipped);
        free(c->skipped);
    }
    ward_memzero(c, sizeof *c);
}

void ward_state_free(ward_state *st)
{
    if (!st)
        return;
    for (uint32_t i = 0; i < st->n_recv; i++)
        chain_release(&st->recv[i]);
    ward_memzero(st, sizeof *st);
    free(st);
}

void ward_state_add_chain(ward_state *st, const uint8_t ratchet[32],
                          const uint8_t key[32])
{
    if (st->n_recv == WARD_MAX_RECEIVER_CHAINS) {
        chain_release(&st->recv[0]);
        memmove(&st->recv[0], &st->recv[1],
                (WARD_MAX_RECEIVER_CHAINS - 1) * sizeof st->recv[0]);
        st->n_recv--;
        memset(&st->recv[st->n_recv], 0, sizeof st->recv[0]);
    }
    ward_chain *c = &st->recv[st->n_recv++];
    memcpy(c->ratchet, ratchet, 32);
    memcpy(c->key, key, 32);
    c->index = 0;
    c->skipped = NULL;
    c->n_skipped = 0;
}

void ward_session_install(ward_session *s, ward_state *st)
{
    if (s->current) {
        if (s->n_archived == WARD_MAX_ARCHIVED_STATES)
            ward_state_free(s->archived[--s->n_archived]);
        memmove(&s->archived[1], &s->archived[0],
                s->n_archived * sizeof s->archived[0]);
        s->archived[0] = s->current;
        s->n_archived++;
    }
    s->current = st;
}

ward_err ward_session_new(ward_session **out)
{
    ward_session *s = calloc(1, sizeof *s);
    if (!s)
        return WARD_ERR_NOMEM;
    *out = s;
    return WARD_OK;
}

void ward_session_free(ward_session *s)
{
    if (!s)
        return;
    ward_state_free(s->current);
    for (uint32_t i = 0; i < s->n_archived; i++)
        ward_state_free(s->archived[i]);
    ward_memzero(s, sizeof *s);
    free(s);
}

int ward_session_is_ready(const ward_session *s)
{
    return s && s->current && s->current->has_sender;
}

int ward_session_remote_identity(const ward_session *s,
                                 uint8_t pub[WARD_PUBKEY_LEN])
{
    if (!s->has_trusted)
        return 0;
    ward_key_encode(pub, s->trusted);
    return 1;
}

ward_err ward_session_trust(ward_session *s, const uint8_t pub[WARD_PUBKEY_LEN])
{
    uint8_t key[32];
    ward_err e = ward_key_decode(key, pub, WARD_PUBKEY_LEN);
    if (e)
        return e;
    memcpy(s->trusted, key, 32);
    s->has_trusted = 1;
    return WARD_OK;
}
