/*
 * SenderKeyDistributionMessages from any bytes: the parser, its encoder
 * (parse, encode, parse again gives the same fields), and processing into
 * a record that already holds five states (one of them ours). A refused
 * SKDM must leave the record as it was; an accepted one must leave at most
 * five states and a record that loads again.
 */
#include <string.h>

#include "fuzz_common.h"
#include "ward/crypto.h"
#include "ward/proto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

static ward_buf full; /* a serialized record with five states */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_deterministic_random();
    FUZZ_ASSERT(ward_crypto_init() == WARD_OK);

    ward_sender_key *rec, *sender;
    ward_buf skdm, msg, pt;
    ward_buf_init(&skdm, 0);
    ward_buf_init(&msg, 0);
    ward_buf_init(&pt, 0);
    ward_buf_init(&full, 0);
    FUZZ_ASSERT(!ward_sender_key_new(&rec) && !ward_sender_key_new(&sender));
    FUZZ_ASSERT(!ward_sender_key_create(rec, NULL));
    for (int i = 0; i < 4; i++) {
        ward_buf_clear(&skdm);
        FUZZ_ASSERT(!ward_sender_key_create(sender, &skdm));
        /* Two messages on, so that the record's states have moved. */
        for (int j = 0; j < 2; j++) {
            ward_buf_clear(&msg);
            FUZZ_ASSERT(!ward_sender_key_encrypt(sender,
                                                 (const uint8_t *)"x", 1,
                                                 &msg));
        }
        FUZZ_ASSERT(!ward_sender_key_process(rec, skdm.data, skdm.len));
        FUZZ_ASSERT(!ward_sender_key_decrypt(rec, msg.data, msg.len, &pt));
        char name[16] = "skdm-0";
        name[5] = (char)('0' + i);
        fuzz_write_seed(name, skdm.data, skdm.len);
    }
    /* A late SKDM, at the sender's current iteration. */
    ward_buf_clear(&skdm);
    FUZZ_ASSERT(!ward_sender_key_distribution(sender, &skdm));
    fuzz_write_seed("skdm-late", skdm.data, skdm.len);
    FUZZ_ASSERT(ward_sender_key_count(rec) == 5);
    FUZZ_ASSERT(!ward_sender_key_serialize(rec, &full));
    ward_buf_release(&skdm);
    ward_buf_release(&msg);
    ward_buf_release(&pt);
    ward_sender_key_free(rec);
    ward_sender_key_free(sender);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    ward_skdm m, again;
    ward_buf enc, after;
    ward_buf_init(&enc, 0);
    ward_buf_init(&after, 0);
    int ok = ward_skdm_parse(&m, p, n) == WARD_OK;
    if (ok) {
        FUZZ_ASSERT(!ward_skdm_encode(&enc, &m));
        FUZZ_ASSERT(!ward_skdm_parse(&again, enc.data, enc.len));
        FUZZ_ASSERT(again.key_id == m.key_id &&
                    again.iteration == m.iteration &&
                    memcmp(again.chain_key, m.chain_key, 32) == 0 &&
                    memcmp(again.signing_key, m.signing_key, 32) == 0);
    }

    ward_sender_key *sk;
    FUZZ_ASSERT(!ward_sender_key_deserialize(&sk, full.data, full.len));
    ward_err e = ward_sender_key_process(sk, p, n);
    FUZZ_ASSERT((e == WARD_OK) == ok);
    FUZZ_ASSERT(!ward_sender_key_serialize(sk, &after));
    if (e != WARD_OK) {
        FUZZ_ASSERT(after.len == full.len &&
                    memcmp(after.data, full.data, full.len) == 0);
    } else {
        ward_sender_key_info info;
        FUZZ_ASSERT(ward_sender_key_count(sk) == WARD_MAX_SENDER_KEY_STATES);
        FUZZ_ASSERT(!ward_sender_key_info_get(sk, 0, &info) &&
                    info.key_id == m.key_id);
        ward_sender_key *loaded;
        FUZZ_ASSERT(!ward_sender_key_deserialize(&loaded, after.data,
                                                 after.len));
        ward_sender_key_free(loaded);
    }
    ward_memzero(&m, sizeof m);
    ward_memzero(&again, sizeof again);
    ward_sender_key_free(sk);
    ward_buf_release(&enc);
    ward_buf_release(&after);
    return 0;
}
