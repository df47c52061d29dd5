/*
 * SenderKeyMessages from any bytes: the parser, then decryption against a
 * record that holds kept keys. The first input byte picks the mode: even,
 * the rest is a whole message (its signature almost never verifies, so
 * this reaches the parser and the signature check); odd, the rest is
 * version || protobuf and the target signs it with the sender's key, so
 * that the iteration checks, the chain walk and the decryption see
 * mutated input too. A failure must leave the record exactly as it was.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"
#include "ward/crypto.h"
#include "ward/proto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

static ward_buf member;      /* the serialized receiving record */
static uint8_t signing[32];  /* the sender's signing private key */

static void seed(const char *name, uint8_t mode, const uint8_t *p, size_t n)
{
    uint8_t tmp[4096];
    FUZZ_ASSERT(n + 1 <= sizeof tmp);
    tmp[0] = mode;
    memcpy(tmp + 1, p, n);
    fuzz_write_seed(name, tmp, n + 1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_deterministic_random();
    FUZZ_ASSERT(ward_crypto_init() == WARD_OK);

    ward_sender_key *me, *them;
    ward_buf skdm, msg, pt, rec;
    ward_buf_init(&skdm, 0);
    ward_buf_init(&msg, 0);
    ward_buf_init(&pt, 0);
    ward_buf_init(&rec, 0);
    ward_buf_init(&member, 0);
    FUZZ_ASSERT(!ward_sender_key_new(&me) && !ward_sender_key_new(&them) &&
                !ward_sender_key_create(me, &skdm) &&
                !ward_sender_key_process(them, skdm.data, skdm.len));
    /* The sender's record: "WSK" 1, count, then key id, iteration, chain,
     * public key, flag, and the private key at 5 + 73 (group_codec.c). */
    FUZZ_ASSERT(!ward_sender_key_serialize(me, &rec));
    FUZZ_ASSERT(rec.len >= 5 + 105 && rec.data[5 + 72] == 1);
    memcpy(signing, rec.data + 5 + 73, 32);

    /* Messages 0..6; the member has read 3, keeping 0..2. */
    for (int i = 0; i <= 6; i++) {
        char name[32];
        ward_buf_clear(&msg);
        FUZZ_ASSERT(!ward_sender_key_encrypt(me, (const uint8_t *)"group", 5,
                                             &msg));
        snprintf(name, sizeof name, "msg-%d", i);
        seed(name, 0, msg.data, msg.len);
        snprintf(name, sizeof name, "unsigned-%d", i);
        seed(name, 1, msg.data, msg.len - WARD_SIGNATURE_LEN);
        if (i == 3)
            FUZZ_ASSERT(!ward_sender_key_decrypt(them, msg.data, msg.len,
                                                 &pt));
    }
    FUZZ_ASSERT(!ward_sender_key_serialize(them, &member));
    ward_buf_release(&skdm);
    ward_buf_release(&msg);
    ward_buf_release(&pt);
    ward_buf_release(&rec);
    ward_sender_key_free(me);
    ward_sender_key_free(them);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    ward_buf msg, pt, after;
    ward_buf_init(&msg, 0);
    ward_buf_init(&pt, 0);
    ward_buf_init(&after, 0);
    FUZZ_ASSERT(!ward_buf_append(&msg, data + 1, size - 1));
    if (data[0] & 1) {
        uint8_t sig[WARD_SIGNATURE_LEN];
        FUZZ_ASSERT(!ward_xeddsa_sign(sig, signing, msg.data, msg.len));
        FUZZ_ASSERT(!ward_buf_append(&msg, sig, sizeof sig));
    }

    ward_sender_key_msg m;
    if (ward_sender_key_msg_parse(&m, msg.data, msg.len) == WARD_OK) {
        /* Every pointer the parser hands out lies inside the input. */
        const uint8_t *end = msg.data + msg.len;
        FUZZ_ASSERT(m.signed_part == msg.data &&
                    m.signed_len + WARD_SIGNATURE_LEN == msg.len);
        FUZZ_ASSERT(m.signature == end - WARD_SIGNATURE_LEN);
        FUZZ_ASSERT(m.ciphertext >= msg.data &&
                    m.ciphertext + m.ciphertext_len <= m.signature);
    }

    ward_sender_key *sk;
    FUZZ_ASSERT(!ward_sender_key_deserialize(&sk, member.data, member.len));
    ward_err e = ward_sender_key_decrypt(sk, msg.data, msg.len, &pt);
    FUZZ_ASSERT(!ward_sender_key_serialize(sk, &after));
    if (e != WARD_OK) {
        FUZZ_ASSERT(pt.len == 0);
        FUZZ_ASSERT(after.len == member.len &&
                    memcmp(after.data, member.data, after.len) == 0);
    } else {
        /* Whatever decrypted, the record still loads. */
        ward_sender_key *again;
        FUZZ_ASSERT(!ward_sender_key_deserialize(&again, after.data,
                                                 after.len));
        ward_sender_key_free(again);
    }
    ward_sender_key_free(sk);
    ward_buf_release(&msg);
    ward_buf_release(&pt);
    ward_buf_release(&after);
    return 0;
}
