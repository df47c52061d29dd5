/*
 * The sender key record's deserializer from any bytes: whatever loads
 * must serialize back to the same bytes, and must then take a message
 * (decrypt, changing nothing unless it succeeds) and, when it can send,
 * encrypt one without harm.
 */
#include <string.h>

#include "fuzz_common.h"
#include "ward/crypto.h"
#include "ward/proto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

static ward_buf probe; /* a message for the seed records' first key */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_deterministic_random();
    FUZZ_ASSERT(ward_crypto_init() == WARD_OK);

    ward_sender_key *me, *them, *other;
    ward_buf skdm, msg, pt, out;
    ward_buf_init(&skdm, 0);
    ward_buf_init(&msg, 0);
    ward_buf_init(&pt, 0);
    ward_buf_init(&out, 0);
    ward_buf_init(&probe, 0);
    FUZZ_ASSERT(!ward_sender_key_new(&me) && !ward_sender_key_new(&them) &&
                !ward_sender_key_new(&other));
    FUZZ_ASSERT(!ward_sender_key_create(me, &skdm) &&
                !ward_sender_key_process(them, skdm.data, skdm.len));
    /* them: messages 0..4 sent, 4 read (0..3 kept); the probe is 2. */
    for (int i = 0; i < 5; i++) {
        ward_buf_clear(&msg);
        FUZZ_ASSERT(!ward_sender_key_encrypt(me, (const uint8_t *)"m", 1,
                                             &msg));
        if (i == 2)
            FUZZ_ASSERT(!ward_buf_append(&probe, msg.data, msg.len));
    }
    FUZZ_ASSERT(!ward_sender_key_decrypt(them, msg.data, msg.len, &pt));
    /* A second state in front of the first. */
    ward_buf_clear(&skdm);
    FUZZ_ASSERT(!ward_sender_key_create(other, &skdm) &&
                !ward_sender_key_process(them, skdm.data, skdm.len));

    FUZZ_ASSERT(!ward_sender_key_serialize(them, &out));
    fuzz_write_seed("member", out.data, out.len);
    ward_buf_clear(&out);
    FUZZ_ASSERT(!ward_sender_key_serialize(me, &out));
    fuzz_write_seed("sender", out.data, out.len);
    ward_sender_key *empty;
    FUZZ_ASSERT(!ward_sender_key_new(&empty));
    ward_buf_clear(&out);
    FUZZ_ASSERT(!ward_sender_key_serialize(empty, &out));
    fuzz_write_seed("empty", out.data, out.len);
    ward_sender_key_free(empty);
    ward_buf_release(&skdm);
    ward_buf_release(&msg);
    ward_buf_release(&pt);
    ward_buf_release(&out);
    ward_sender_key_free(me);
    ward_sender_key_free(them);
    ward_sender_key_free(other);
    return 0;
}

static void same(const ward_buf *b, const uint8_t *p, size_t n)
{
    FUZZ_ASSERT(b->len == n && memcmp(b->data, p, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    ward_sender_key *sk;
    if (ward_sender_key_deserialize(&sk, p, n) != WARD_OK)
        return 0;
    ward_buf out, pt;
    ward_buf_init(&out, 0);
    ward_buf_init(&pt, 0);
    FUZZ_ASSERT(ward_sender_key_serialize(sk, &out) == WARD_OK);
    same(&out, p, n);
    FUZZ_ASSERT(ward_sender_key_count(sk) <= WARD_MAX_SENDER_KEY_STATES);
    if (ward_sender_key_decrypt(sk, probe.data, probe.len, &pt) != WARD_OK) {
        ward_buf_clear(&out);
        FUZZ_ASSERT(ward_sender_key_serialize(sk, &out) == WARD_OK);
        same(&out, p, n);
    }
    ward_buf_clear(&out);
    ward_err e = ward_sender_key_encrypt(sk, (const uint8_t *)"x", 1, &out);
    FUZZ_ASSERT(e == WARD_OK || e == WARD_ERR_NO_SESSION ||
                e == WARD_ERR_TOO_BIG);
    ward_buf_release(&out);
    ward_buf_release(&pt);
    ward_sender_key_free(sk);
    return 0;
}
