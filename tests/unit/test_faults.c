/*
 * Allocation failure, in the manner of curl's torture tests and SQLite's OOM
 * tests: ward's own malloc/calloc calls (wrapped at link time; libsodium's
 * and OpenSSL's internal ones are not) fail at the N-th call for N = 1, 2,
 * ... until the operation succeeds. Every failure must be WARD_ERR_NOMEM and
 * leave the session, the prekeys and the output buffer exactly as before.
 */
#include <stdlib.h>
#include <string.h>

#include "ward/crypto.h"
#include "ward/proto.h"
#include "wtest.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);

static long fail_at;  /* 0: never */
static long counter;

static int should_fail(void)
{
    return fail_at && ++counter == fail_at;
}

void *__wrap_malloc(size_t n)
{
    return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    return should_fail() ? NULL : __real_calloc(n, m);
}

static void arm(long n)
{
    counter = 0;
    fail_at = n;
}

typedef struct snapshot {
    ward_buf session, prekeys;
} snapshot;

static void snap(snapshot *s, const ward_session *sess, const ward_prekeys *pk)
{
    ward_buf_init(&s->session, 0);
    ward_buf_init(&s->prekeys, 0);
    REQUIRE(ward_session_serialize(sess, &s->session) == WARD_OK);
    if (pk)
        REQUIRE(ward_prekeys_serialize(pk, &s->prekeys) == WARD_OK);
}

static int same(const snapshot *a, const snapshot *b)
{
    return a->session.len == b->session.len &&
           memcmp(a->session.data, b->session.data, a->session.len) == 0 &&
           a->prekeys.len == b->prekeys.len &&
           (a->prekeys.len == 0 ||
            memcmp(a->prekeys.data, b->prekeys.data, a->prekeys.len) == 0);
}

static void snap_release(snapshot *s)
{
    ward_buf_release(&s->session);
    ward_buf_release(&s->prekeys);
}

typedef struct party {
    ward_identity *id;
    ward_prekeys *pk;
    ward_session *s;
} party;

static void party_init(party *p)
{
    REQUIRE(ward_identity_generate(&p->id) == WARD_OK);
    REQUIRE(ward_prekeys_new(&p->pk) == WARD_OK);
    REQUIRE(ward_prekeys_generate_signed(p->pk, p->id, 1, 0) == WARD_OK);
    REQUIRE(ward_prekeys_generate_onetime(p->pk, 1, 3) == WARD_OK);
    REQUIRE(ward_session_new(&p->s) == WARD_OK);
}

static void party_release(party *p)
{
    ward_session_free(p->s);
    ward_prekeys_free(p->pk);
    ward_identity_free(p->id);
}

static void encrypt(party *p, const char *text, ward_buf *out, int *type)
{
    ward_buf_init(out, 0);
    REQUIRE(ward_session_encrypt(p->s, (const uint8_t *)text, strlen(text),
                                 out, type) == WARD_OK);
}

/* Decrypts |msg| with allocation failures injected at every point in turn.
 * Returns the number of failure points that were exercised. */
static long decrypt_under_faults(party *to, const ward_buf *msg, int type,
                                 const char *want)
{
    snapshot before, after;
    snap(&before, to->s, to->pk);
    long n;
    for (n = 1;; n++) {
        ward_buf pt;
        ward_buf_init(&pt, 0);
        uint8_t canary[] = "prefix";
        REQUIRE(ward_buf_append(&pt, canary, sizeof canary) == WARD_OK);
        arm(n);
        ward_err e = ward_session_decrypt(to->s, to->id, to->pk, type,
                                          msg->data, msg->len, &pt);
        arm(0);
        if (e == WARD_OK) {
            CHECK_EQ_INT(pt.len, sizeof canary + strlen(want));
            CHECK(memcmp(pt.data + sizeof canary, want, strlen(want)) == 0);
            ward_buf_release(&pt);
            break;
        }
        CHECK_EQ_INT(e, WARD_ERR_NOMEM);
        CHECK_EQ_INT(pt.len, sizeof canary);
        snap(&after, to->s, to->pk);
        CHECK(same(&before, &after));
        snap_release(&after);
        ward_buf_release(&pt);
        if (n > 1000) {
            CHECK(!"decrypt never succeeded");
            break;
        }
    }
    snap_release(&before);
    return n - 1;
}

static long encrypt_under_faults(party *from, const char *text)
{
    snapshot before, after;
    snap(&before, from->s, NULL);
    long n;
    for (n = 1;; n++) {
        ward_buf out;
        int type = 0;
        ward_buf_init(&out, 0);
        arm(n);
        ward_err e = ward_session_encrypt(from->s, (const uint8_t *)text,
                                          strlen(text), &out, &type);
        arm(0);
        ward_buf_release(&out);
        if (e == WARD_OK)
            break;
        CHECK_EQ_INT(e, WARD_ERR_NOMEM);
        snap(&after, from->s, NULL);
        CHECK(same(&before, &after));
        snap_release(&after);
        if (n > 1000) {
            CHECK(!"encrypt never succeeded");
            break;
        }
    }
    snap_release(&before);
    return n - 1;
}

/* ---- sender keys ---- */

static void sk_snap(const ward_sender_key *sk, ward_buf *b)
{
    ward_buf_init(b, 0);
    REQUIRE(ward_sender_key_serialize(sk, b) == WARD_OK);
}

static int sk_same(const ward_sender_key *sk, const ward_buf *snap)
{
    ward_buf b;
    sk_snap(sk, &b);
    int same = b.len == snap->len && memcmp(b.data, snap->data, b.len) == 0;
    ward_buf_release(&b);
    return same;
}

static long sk_decrypt_under_faults(ward_sender_key *sk, const ward_buf *msg,
                                    const char *want)
{
    ward_buf before;
    sk_snap(sk, &before);
    long n;
    for (n = 1;; n++) {
        ward_buf pt;
        ward_buf_init(&pt, 0);
        REQUIRE(ward_buf_append(&pt, "pre", 3) == WARD_OK);
        arm(n);
        ward_err e = ward_sender_key_decrypt(sk, msg->data, msg->len, &pt);
        arm(0);
        if (e == WARD_OK) {
            CHECK(pt.len == 3 + strlen(want) &&
                  memcmp(pt.data + 3, want, strlen(want)) == 0);
            ward_buf_release(&pt);
            break;
        }
        CHECK_EQ_INT(e, WARD_ERR_NOMEM);
        CHECK_EQ_INT(pt.len, 3);
        CHECK(sk_same(sk, &before));
        ward_buf_release(&pt);
        if (n > 1000) {
            CHECK(!"sender key decrypt never succeeded");
            break;
        }
    }
    ward_buf_release(&before);
    return n - 1;
}

static long sk_encrypt_under_faults(ward_sender_key *sk, const char *text,
                                    ward_buf *out)
{
    ward_buf before;
    sk_snap(sk, &before);
    long n;
    for (n = 1;; n++) {
        ward_buf_init(out, 0);
        arm(n);
        ward_err e = ward_sender_key_encrypt(sk, (const uint8_t *)text,
                                             strlen(text), out);
        arm(0);
        if (e == WARD_OK)
            break;
        CHECK_EQ_INT(e, WARD_ERR_NOMEM);
        CHECK_EQ_INT(out->len, 0);
        CHECK(sk_same(sk, &before));
        ward_buf_release(out);
        if (n > 1000) {
            CHECK(!"sender key encrypt never succeeded");
            break;
        }
    }
    ward_buf_release(&before);
    return n - 1;
}

/* Creating, distributing, processing, sending, receiving (in order, past
 * a gap, late) and loading, each with every allocation failing in turn. */
static long sender_key_faults(void)
{
    ward_sender_key *me, *them;
    ward_buf skdm, m[6], snap;
    long points = 0, n;
    REQUIRE(ward_sender_key_new(&me) == WARD_OK);
    REQUIRE(ward_sender_key_new(&them) == WARD_OK);
    for (n = 1;; n++) {
        ward_buf_init(&skdm, 0);
        arm(n);
        ward_err e = ward_sender_key_create(me, &skdm);
        arm(0);
        if (e == WARD_OK)
            break;
        CHECK_EQ_INT(e, WARD_ERR_NOMEM);
        CHECK_EQ_INT(ward_sender_key_count(me), 0);
        ward_buf_release(&skdm);
    }
    points += n - 1;
    REQUIRE(ward_sender_key_process(them, skdm.data, skdm.len) == WARD_OK);
    for (int i = 0; i < 6; i++) {
        char text[16];
        snprintf(text, sizeof text, "message %d", i);
        points += sk_encrypt_under_faults(me, text, &m[i]);
    }
    points += sk_decrypt_under_faults(them, &m[0], "message 0");
    n = sk_decrypt_under_faults(them, &m[3], "message 3");
    CHECK(n >= 1); /* the kept keys 1 and 2 */
    points += n;
    n = sk_decrypt_under_faults(them, &m[5], "message 5");
    CHECK(n >= 1); /* 4 merged with the kept 1, 2 */
    points += n;
    points += sk_decrypt_under_faults(them, &m[2], "message 2");
    points += sk_decrypt_under_faults(them, &m[1], "message 1");
    points += sk_decrypt_under_faults(them, &m[4], "message 4");

    sk_snap(them, &snap);
    for (n = 1;; n++) {
        ward_sender_key *loaded = NULL;
        arm(n);
        ward_err e = ward_sender_key_deserialize(&loaded, snap.data, snap.len);
        arm(0);
        if (e == WARD_OK) {
            CHECK(sk_same(loaded, &snap));
            ward_sender_key_free(loaded);
            break;
        }
        CHECK_EQ_INT(e, WARD_ERR_NOMEM);
        CHECK(loaded == NULL);
    }
    points += n - 1;
    ward_buf_release(&snap);
    ward_buf_release(&skdm);
    for (int i = 0; i < 6; i++)
        ward_buf_release(&m[i]);
    ward_sender_key_free(me);
    ward_sender_key_free(them);
    return points;
}

int main(void)
{
    REQUIRE(ward_crypto_init() == WARD_OK);
    party a, b;
    party_init(&a);
    party_init(&b);
    ward_bundle bundle;
    REQUIRE(ward_prekeys_bundle(b.pk, b.id, 1, 1, 2, &bundle) == WARD_OK);
    REQUIRE(ward_session_init_from_bundle(a.s, a.id, &bundle) == WARD_OK);

    ward_buf m1, m2, m3, m4, r1;
    int t1, t2, t3, t4, tr;
    long points = 0;

    /* A PreKeySignalMessage that creates bob's session. */
    /* Each path that must allocate is checked to have been reached. */
    long n = encrypt_under_faults(&a, "counted, not sent");
    CHECK(n >= 2); /* the inner SignalMessage and the outer message */
    points += n;
    encrypt(&a, "one", &m1, &t1);
    n = decrypt_under_faults(&b, &m1, t1, "one");
    CHECK(n >= 1); /* the new state */
    points += n;

    /* Bob's reply: alice does a DH ratchet step. */
    encrypt(&b, "reply", &r1, &tr);
    points += decrypt_under_faults(&a, &r1, tr, "reply");

    /* Six from alice. Bob reads the second first (a new chain, one key
     * skipped), then the sixth (three more skipped keys merged into a chain
     * that has one), then the skipped ones. */
    encrypt(&a, "two", &m2, &t2);
    encrypt(&a, "three", &m3, &t3);
    encrypt(&a, "four", &m4, &t4);
    ward_buf m5, m6, m7;
    int t5, t6, t7;
    encrypt(&a, "five", &m5, &t5);
    encrypt(&a, "six", &m6, &t6);
    encrypt(&a, "seven", &m7, &t7);
    n = decrypt_under_faults(&b, &m3, t3, "three");
    CHECK(n >= 1); /* the skipped key */
    points += n;
    n = decrypt_under_faults(&b, &m7, t7, "seven");
    CHECK(n >= 2); /* the skipped keys, and merging them into the chain */
    points += n;
    points += decrypt_under_faults(&b, &m2, t2, "two");
    points += decrypt_under_faults(&b, &m5, t5, "five");
    points += decrypt_under_faults(&b, &m4, t4, "four");
    points += decrypt_under_faults(&b, &m6, t6, "six");
    /* The chain's skipped keys are used up; a new gap reuses the path that
     * moves the walk's array into the chain. */
    ward_buf m8, m9;
    int t8, t9;
    encrypt(&a, "eight", &m8, &t8);
    encrypt(&a, "nine", &m9, &t9);
    points += decrypt_under_faults(&b, &m9, t9, "nine");
    points += decrypt_under_faults(&b, &m8, t8, "eight");
    points += encrypt_under_faults(&b, "bob again");
    n = sender_key_faults();
    CHECK(n >= 10);
    points += n;

    printf("test_faults: %ld allocation failure points exercised\n", points);

    ward_buf *bufs[] = {&m1, &m2, &m3, &m4, &m5, &m6, &m7, &m8, &m9, &r1};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        ward_buf_release(bufs[i]);
    party_release(&a);
    party_release(&b);
    return wtest_done("test_faults");
}
