/*
 * ward against libsignal-protocol-c 2.3 (Debian's libsignal-protocol-c), in
 * both directions: signatures, X3DH from each side's bundle, long
 * conversations, out-of-order delivery, replays, tampering, and a ward
 * session saved and reloaded mid-conversation.
 */
#include <stdlib.h>
#include <string.h>

#include "sig_harness.h"
#include "ward/crypto.h"
#include "ward/proto.h"
#include "wtest.h"

/* A ward party and its session with one libsignal peer. */
typedef struct wparty {
    ward_identity *id;
    ward_prekeys *pk;
    ward_session *s;
} wparty;

static void wparty_init(wparty *w)
{
    REQUIRE(ward_identity_generate(&w->id) == WARD_OK);
    REQUIRE(ward_prekeys_new(&w->pk) == WARD_OK);
    REQUIRE(ward_prekeys_generate_signed(w->pk, w->id, 7, 1700000000000ULL) ==
            WARD_OK);
    REQUIRE(ward_prekeys_generate_onetime(w->pk, 100, 5) == WARD_OK);
    REQUIRE(ward_session_new(&w->s) == WARD_OK);
}

static void wparty_release(wparty *w)
{
    ward_session_free(w->s);
    ward_prekeys_free(w->pk);
    ward_identity_free(w->id);
}

static void bundle_from_sigh(ward_bundle *out, const sigh_bundle *b)
{
    memset(out, 0, sizeof *out);
    out->registration_id = b->registration_id;
    out->device_id = (uint32_t)b->device_id;
    out->has_prekey = b->has_prekey;
    out->prekey_id = b->prekey_id;
    memcpy(out->prekey, b->prekey_pub, 33);
    out->signed_prekey_id = b->signed_prekey_id;
    memcpy(out->signed_prekey, b->signed_prekey_pub, 33);
    memcpy(out->signed_prekey_sig, b->signed_prekey_sig, 64);
    memcpy(out->identity, b->identity_pub, 33);
}

static void bundle_to_sigh(sigh_bundle *out, const ward_bundle *b)
{
    memset(out, 0, sizeof *out);
    out->registration_id = b->registration_id;
    out->device_id = (int32_t)b->device_id;
    out->has_prekey = b->has_prekey;
    out->prekey_id = b->prekey_id;
    memcpy(out->prekey_pub, b->prekey, 33);
    out->signed_prekey_id = b->signed_prekey_id;
    memcpy(out->signed_prekey_pub, b->signed_prekey, 33);
    memcpy(out->signed_prekey_sig, b->signed_prekey_sig, 64);
    memcpy(out->identity_pub, b->identity, 33);
}

/* One message on the wire. */
typedef struct wire {
    uint8_t *p;
    size_t n;
    int type;
    char text[64];
} wire;

static void wire_free(wire *m)
{
    free(m->p);
    m->p = NULL;
}

static wire ward_send(wparty *w, const char *text)
{
    wire m = {0};
    ward_buf out;
    ward_buf_init(&out, 0);
    snprintf(m.text, sizeof m.text, "%s", text);
    REQUIRE(ward_session_encrypt(w->s, (const uint8_t *)text, strlen(text),
                                 &out, &m.type) == WARD_OK);
    m.p = malloc(out.len);
    REQUIRE(m.p);
    memcpy(m.p, out.data, out.len);
    m.n = out.len;
    ward_buf_release(&out);
    return m;
}

static wire sigh_send(sigh_party *p, const char *peer, const char *text)
{
    wire m = {0};
    snprintf(m.text, sizeof m.text, "%s", text);
    REQUIRE(sigh_party_encrypt(p, peer, (const uint8_t *)text, strlen(text),
                               &m.p, &m.n, &m.type) == SIGH_OK);
    return m;
}

/* ward decrypts; returns the ward error and checks the text on success. */
static ward_err ward_recv(wparty *w, const wire *m)
{
    ward_buf pt;
    ward_buf_init(&pt, 0);
    ward_err e =
        ward_session_decrypt(w->s, w->id, w->pk, m->type, m->p, m->n, &pt);
    if (e == WARD_OK) {
        CHECK_EQ_INT(pt.len, strlen(m->text));
        CHECK(pt.len == strlen(m->text) && memcmp(pt.data, m->text, pt.len) == 0);
    }
    ward_buf_release(&pt);
    return e;
}

static int sigh_recv(sigh_party *p, const char *peer, const wire *m)
{
    uint8_t *pt = NULL;
    size_t n = 0;
    int rc = sigh_party_decrypt(p, peer, m->type, m->p, m->n, &pt, &n);
    if (rc == SIGH_OK) {
        CHECK_EQ_INT(n, strlen(m->text));
        CHECK(n == strlen(m->text) && memcmp(pt, m->text, n) == 0);
    }
    free(pt);
    return rc;
}

/* Deterministic shuffle so a failure reproduces. */
static void shuffle(wire *w, size_t n, uint32_t seed)
{
    for (size_t i = n - 1; i > 0; i--) {
        seed = seed * 1103515245u + 12345u;
        size_t j = (seed >> 8) % (i + 1);
        wire t = w[i];
        w[i] = w[j];
        w[j] = t;
    }
}

static void test_signatures(void)
{
    uint8_t priv[32], pub[32], sig[64], libpub[32];
    const uint8_t msg[] = "a signed prekey, or any message";
    for (int round = 0; round < 20; round++) {
        REQUIRE(ward_x25519_keypair(priv, pub) == WARD_OK);
        CHECK(sigh_pubkey_from_priv(priv, libpub) == 0);
        CHECK_MEM(libpub, pub, 32);

        /* ward signs, libsignal verifies */
        CHECK(ward_xeddsa_sign(sig, priv, msg, sizeof msg) == WARD_OK);
        CHECK_EQ_INT(sigh_verify(pub, msg, sizeof msg, sig), 1);
        sig[round % 64] ^= 0x01;
        CHECK_EQ_INT(sigh_verify(pub, msg, sizeof msg, sig), 0);

        /* libsignal signs, ward verifies */
        CHECK(sigh_sign(priv, msg, sizeof msg, sig) == 0);
        CHECK_EQ_INT(ward_xeddsa_verify(sig, pub, msg, sizeof msg), WARD_OK);
        CHECK_EQ_INT(ward_xeddsa_verify(sig, pub, msg, sizeof msg - 1),
                     WARD_ERR_AUTH);
        sig[(round * 7) % 64] ^= 0x80;
        CHECK_EQ_INT(ward_xeddsa_verify(sig, pub, msg, sizeof msg),
                     WARD_ERR_AUTH);
    }
}

/* Fifty messages alternating between |w| and the libsignal party |lib|,
 * starting with whoever already has a session. */
static void converse(wparty *w, sigh_party *lib, int ward_first, int count)
{
    char text[64];
    for (int i = 0; i < count; i++) {
        snprintf(text, sizeof text, "message %d of the conversation", i);
        if ((i % 2 == 0) == (ward_first != 0)) {
            wire m = ward_send(w, text);
            CHECK_EQ_INT(sigh_recv(lib, "ward", &m), SIGH_OK);
            wire_free(&m);
        } else {
            wire m = sigh_send(lib, "ward", text);
            CHECK_EQ_INT(ward_recv(w, &m), WARD_OK);
            wire_free(&m);
        }
    }
}

static void test_ward_initiates(int with_prekey)
{
    wparty w;
    wparty_init(&w);
    sigh_party *bob = sigh_party_new(0);
    REQUIRE(bob);
    sigh_bundle sb;
    ward_bundle wb;
    REQUIRE(with_prekey ? sigh_party_bundle(bob, &sb) == 0
                        : sigh_party_bundle_ex(bob, 0, &sb) == 0);
    bundle_from_sigh(&wb, &sb);
    CHECK_EQ_INT(ward_session_init_from_bundle(w.s, w.id, &wb), WARD_OK);

    wire first = ward_send(&w, "hello libsignal, from ward");
    CHECK_EQ_INT(first.type, WARD_MSG_PREKEY);
    CHECK_EQ_INT(first.p[0], 0x33);
    CHECK_EQ_INT(sigh_recv(bob, "ward", &first), SIGH_OK);
    if (with_prekey)
        CHECK(!sigh_party_has_prekey(bob, sb.prekey_id));
    /* A replayed PreKeySignalMessage is refused by libsignal. */
    CHECK_EQ_INT(sigh_recv(bob, "ward", &first), SIGH_ERR_DUPLICATE_MESSAGE);
    wire_free(&first);

    converse(&w, bob, 0, 50);
    wire m = ward_send(&w, "after the reply");
    CHECK_EQ_INT(m.type, WARD_MSG_SIGNAL);
    CHECK_EQ_INT(sigh_recv(bob, "ward", &m), SIGH_OK);
    wire_free(&m);
    sigh_party_free(bob);
    wparty_release(&w);
}

static void test_libsignal_initiates(int with_prekey)
{
    wparty w;
    wparty_init(&w);
    sigh_party *alice = sigh_party_new(0);
    REQUIRE(alice);
    ward_bundle wb;
    sigh_bundle sb;
    REQUIRE(ward_prekeys_bundle(w.pk, w.id, 1, 7, with_prekey ? 101 : 0,
                                &wb) == WARD_OK);
    bundle_to_sigh(&sb, &wb);
    CHECK_EQ_INT(sigh_party_process_bundle(alice, "ward", &sb), SIGH_OK);
    size_t before = ward_prekeys_onetime_count(w.pk);

    /* Two PreKeySignalMessages before ward answers, delivered reversed. */
    wire a = sigh_send(alice, "ward", "first, from libsignal");
    wire b = sigh_send(alice, "ward", "second, from libsignal");
    CHECK_EQ_INT(a.type, WARD_MSG_PREKEY);
    CHECK_EQ_INT(b.type, WARD_MSG_PREKEY);
    CHECK_EQ_INT(ward_recv(&w, &b), WARD_OK);
    CHECK_EQ_INT(ward_recv(&w, &a), WARD_OK);
    CHECK_EQ_INT(ward_prekeys_onetime_count(w.pk),
                 before - (with_prekey ? 1 : 0));
    CHECK_EQ_INT(ward_recv(&w, &a), WARD_ERR_DUPLICATE);
    wire_free(&a);
    wire_free(&b);

    converse(&w, alice, 1, 50);
    sigh_party_free(alice);
    wparty_release(&w);
}

/* Twenty messages each way delivered in shuffled order, then replays and
 * single flipped bits refused by both, without harming the sessions. */
static void test_order_replay_tamper(void)
{
    wparty w;
    wparty_init(&w);
    sigh_party *lib = sigh_party_new(0);
    sigh_bundle sb;
    ward_bundle wb;
    REQUIRE(lib && sigh_party_bundle(lib, &sb) == 0);
    bundle_from_sigh(&wb, &sb);
    REQUIRE(ward_session_init_from_bundle(w.s, w.id, &wb) == WARD_OK);
    converse(&w, lib, 1, 4);

    char text[64];
    wire batch[20];
    for (int i = 0; i < 20; i++) {
        snprintf(text, sizeof text, "ward to libsignal #%d", i);
        batch[i] = ward_send(&w, text);
    }
    shuffle(batch, 20, 42);
    for (int i = 0; i < 20; i++)
        CHECK_EQ_INT(sigh_recv(lib, "ward", &batch[i]), SIGH_OK);
    for (int i = 0; i < 20; i++) {
        CHECK_EQ_INT(sigh_recv(lib, "ward", &batch[i]),
                     SIGH_ERR_DUPLICATE_MESSAGE);
        wire_free(&batch[i]);
    }

    for (int i = 0; i < 20; i++) {
        snprintf(text, sizeof text, "libsignal to ward #%d", i);
        batch[i] = sigh_send(lib, "ward", text);
    }
    shuffle(batch, 20, 7);
    for (int i = 0; i < 20; i++)
        CHECK_EQ_INT(ward_recv(&w, &batch[i]), WARD_OK);
    for (int i = 0; i < 20; i++) {
        CHECK_EQ_INT(ward_recv(&w, &batch[i]), WARD_ERR_DUPLICATE);
        wire_free(&batch[i]);
    }

    /* A flipped bit, in several places of the message, is refused on both
     * sides; the untouched message still decrypts afterwards. */
    wire m = ward_send(&w, "tamper with me");
    wire n = sigh_send(lib, "ward", "tamper with me too");
    size_t spots[] = {1, 5, 10, 20};
    for (size_t k = 0; k < sizeof spots / sizeof *spots; k++) {
        wire bad = m;
        bad.p = malloc(m.n);
        REQUIRE(bad.p);
        memcpy(bad.p, m.p, m.n);
        size_t at = m.n - 1 - spots[k];
        bad.p[at] ^= 0x04;
        CHECK(sigh_recv(lib, "ward", &bad) != SIGH_OK);
        wire_free(&bad);

        bad = n;
        bad.p = malloc(n.n);
        REQUIRE(bad.p);
        memcpy(bad.p, n.p, n.n);
        bad.p[n.n - 1 - spots[k]] ^= 0x04;
        ward_err e = ward_recv(&w, &bad);
        CHECK(e == WARD_ERR_AUTH || e == WARD_ERR_MALFORMED);
        wire_free(&bad);
    }
    CHECK_EQ_INT(sigh_recv(lib, "ward", &m), SIGH_OK);
    CHECK_EQ_INT(ward_recv(&w, &n), WARD_OK);
    wire_free(&m);
    wire_free(&n);
    converse(&w, lib, 1, 6);
    sigh_party_free(lib);
    wparty_release(&w);
}

static void reload(wparty *w)
{
    ward_buf b;
    ward_buf_init(&b, 0);
    REQUIRE(ward_session_serialize(w->s, &b) == WARD_OK);
    ward_session *s = NULL;
    CHECK_EQ_INT(ward_session_deserialize(&s, b.data, b.len), WARD_OK);
    REQUIRE(s);
    ward_session_free(w->s);
    w->s = s;
    ward_buf_release(&b);
}

/* ward's session written out and read back between messages, including
 * with skipped keys pending, keeps talking to libsignal. */
static void test_reload_mid_conversation(void)
{
    wparty w;
    wparty_init(&w);
    sigh_party *lib = sigh_party_new(0);
    sigh_bundle sb;
    ward_bundle wb;
    REQUIRE(lib && sigh_party_bundle(lib, &sb) == 0);
    bundle_from_sigh(&wb, &sb);
    REQUIRE(ward_session_init_from_bundle(w.s, w.id, &wb) == WARD_OK);
    reload(&w);
    converse(&w, lib, 1, 10);
    reload(&w);

    wire late[3];
    late[0] = sigh_send(lib, "ward", "sent first, arrives last");
    late[1] = sigh_send(lib, "ward", "sent second");
    late[2] = sigh_send(lib, "ward", "sent third");
    CHECK_EQ_INT(ward_recv(&w, &late[2]), WARD_OK);
    reload(&w); /* two skipped keys in the saved state */
    CHECK_EQ_INT(ward_recv(&w, &late[1]), WARD_OK);
    reload(&w);
    CHECK_EQ_INT(ward_recv(&w, &late[0]), WARD_OK);
    CHECK_EQ_INT(ward_recv(&w, &late[0]), WARD_ERR_DUPLICATE);
    for (int i = 0; i < 3; i++)
        wire_free(&late[i]);
    for (int i = 0; i < 5; i++) {
        converse(&w, lib, 1, 4);
        reload(&w);
    }
    sigh_party_free(lib);
    wparty_release(&w);
}

/* A peer that comes back with a new identity key: ward refuses to start
 * the session (and to accept its messages) until told to trust the key. */
static void test_identity_change(void)
{
    wparty w;
    wparty_init(&w);
    sigh_party *lib = sigh_party_new(0);
    sigh_bundle sb;
    ward_bundle wb;
    REQUIRE(lib && sigh_party_bundle(lib, &sb) == 0);
    bundle_from_sigh(&wb, &sb);
    REQUIRE(ward_session_init_from_bundle(w.s, w.id, &wb) == WARD_OK);
    converse(&w, lib, 1, 2);
    sigh_party_free(lib);

    /* The "same" peer reinstalled: a new identity. */
    lib = sigh_party_new(0);
    REQUIRE(lib && sigh_party_bundle(lib, &sb) == 0);
    bundle_from_sigh(&wb, &sb);
    CHECK_EQ_INT(ward_session_init_from_bundle(w.s, w.id, &wb),
                 WARD_ERR_UNTRUSTED_IDENTITY);

    ward_bundle mine;
    sigh_bundle mine_s;
    REQUIRE(ward_prekeys_bundle(w.pk, w.id, 1, 7, 102, &mine) == WARD_OK);
    bundle_to_sigh(&mine_s, &mine);
    REQUIRE(sigh_party_process_bundle(lib, "ward", &mine_s) == SIGH_OK);
    wire m = sigh_send(lib, "ward", "it's me, with a new phone");
    CHECK_EQ_INT(ward_recv(&w, &m), WARD_ERR_UNTRUSTED_IDENTITY);
    CHECK_EQ_INT(ward_prekeys_onetime_count(w.pk), 5);
    CHECK_EQ_INT(ward_session_trust(w.s, sb.identity_pub), WARD_OK);
    CHECK_EQ_INT(ward_recv(&w, &m), WARD_OK);
    CHECK_EQ_INT(ward_prekeys_onetime_count(w.pk), 4);
    wire_free(&m);
    converse(&w, lib, 1, 4);
    sigh_party_free(lib);
    wparty_release(&w);
}

int main(void)
{
    REQUIRE(ward_crypto_init() == WARD_OK);
    REQUIRE(sigh_global_init() == 0);
    test_signatures();
    test_ward_initiates(1);
    test_ward_initiates(0);
    test_libsignal_initiates(1);
    test_libsignal_initiates(0);
    test_order_replay_tamper();
    test_reload_mid_conversation();
    test_identity_change();
    sigh_global_teardown();
    return wtest_done("test_interop");
}
