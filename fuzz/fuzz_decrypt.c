/*
 * Decrypting arbitrary bytes in an established session. The first input
 * byte picks the message type; the rest is the message. A failure must
 * leave the session and the prekeys exactly as they were.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"
#include "ward/crypto.h"
#include "ward/proto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

static ward_identity *bob;
static ward_buf bob_session, bob_prekeys; /* serialized starting state */

static void seed(int i, int type, const ward_buf *msg)
{
    uint8_t tmp[4096];
    char name[32];
    FUZZ_ASSERT(msg->len + 1 <= sizeof tmp);
    tmp[0] = (uint8_t)type;
    memcpy(tmp + 1, msg->data, msg->len);
    snprintf(name, sizeof name, "msg-%02d", i);
    fuzz_write_seed(name, tmp, msg->len + 1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_deterministic_random();
    FUZZ_ASSERT(ward_crypto_init() == WARD_OK);

    ward_identity *alice;
    ward_prekeys *pk;
    ward_session *sa, *sb;
    ward_bundle bundle;
    ward_buf out, pt;
    int type;
    ward_buf_init(&out, 0);
    ward_buf_init(&pt, 0);
    ward_buf_init(&bob_session, 0);
    ward_buf_init(&bob_prekeys, 0);
    FUZZ_ASSERT(!ward_identity_generate(&alice) &&
                !ward_identity_generate(&bob) && !ward_prekeys_new(&pk) &&
                !ward_prekeys_generate_signed(pk, bob, 1, 0) &&
                !ward_prekeys_generate_onetime(pk, 1, 4) &&
                !ward_prekeys_bundle(pk, bob, 1, 1, 1, &bundle) &&
                !ward_session_new(&sa) && !ward_session_new(&sb) &&
                !ward_session_init_from_bundle(sa, alice, &bundle));

    /* Bob's state after one message each way, then a few messages from
     * alice that bob has not seen: in-order, skipping, and a new chain. */
    FUZZ_ASSERT(!ward_session_encrypt(sa, (const uint8_t *)"one", 3, &out,
                                      &type));
    seed(0, type, &out);
    FUZZ_ASSERT(!ward_session_decrypt(sb, bob, pk, type, out.data, out.len,
                                      &pt));
    ward_buf_clear(&out);
    FUZZ_ASSERT(!ward_session_encrypt(sb, (const uint8_t *)"two", 3, &out,
                                      &type));
    FUZZ_ASSERT(!ward_session_decrypt(sa, alice, NULL, type, out.data,
                                      out.len, &pt));
    FUZZ_ASSERT(!ward_session_serialize(sb, &bob_session));
    FUZZ_ASSERT(!ward_prekeys_serialize(pk, &bob_prekeys));
    for (int i = 1; i <= 4; i++) {
        ward_buf_clear(&out);
        FUZZ_ASSERT(!ward_session_encrypt(sa, (const uint8_t *)"more", 4,
                                          &out, &type));
        seed(i, type, &out);
    }
    ward_buf_release(&out);
    ward_buf_release(&pt);
    ward_session_free(sa);
    ward_session_free(sb);
    ward_prekeys_free(pk);
    ward_identity_free(alice);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    ward_session *s;
    ward_prekeys *pk;
    ward_buf pt, after;
    FUZZ_ASSERT(!ward_session_deserialize(&s, bob_session.data,
                                          bob_session.len));
    FUZZ_ASSERT(!ward_prekeys_deserialize(&pk, bob_prekeys.data,
                                          bob_prekeys.len));
    ward_buf_init(&pt, 0);
    ward_buf_init(&after, 0);
    ward_err e = ward_session_decrypt(s, bob, pk, data[0], data + 1, size - 1,
                                      &pt);
    if (e != WARD_OK) {
        FUZZ_ASSERT(pt.len == 0);
        FUZZ_ASSERT(!ward_session_serialize(s, &after));
        FUZZ_ASSERT(after.len == bob_session.len &&
                    memcmp(after.data, bob_session.data, after.len) == 0);
        ward_buf_clear(&after);
        FUZZ_ASSERT(!ward_prekeys_serialize(pk, &after));
        FUZZ_ASSERT(after.len == bob_prekeys.len &&
                    memcmp(after.data, bob_prekeys.data, after.len) == 0);
    }
    ward_buf_release(&pt);
    ward_buf_release(&after);
    ward_session_free(s);
    ward_prekeys_free(pk);
    return 0;
}
