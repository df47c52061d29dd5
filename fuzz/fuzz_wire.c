/* The wire decoder: SignalMessage and PreKeySignalMessage from any bytes. */
#include <string.h>

#include "fuzz_common.h"
#include "ward/crypto.h"
#include "ward/proto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_deterministic_random();
    FUZZ_ASSERT(ward_crypto_init() == WARD_OK);

    /* Seeds: real messages of both kinds. */
    ward_identity *a, *b;
    ward_prekeys *pk;
    ward_session *s;
    ward_bundle bundle;
    ward_buf out;
    int type;
    ward_buf_init(&out, 0);
    FUZZ_ASSERT(!ward_identity_generate(&a) && !ward_identity_generate(&b) &&
                !ward_prekeys_new(&pk) &&
                !ward_prekeys_generate_signed(pk, b, 1, 0) &&
                !ward_prekeys_generate_onetime(pk, 1, 1) &&
                !ward_prekeys_bundle(pk, b, 1, 1, 1, &bundle) &&
                !ward_session_new(&s) &&
                !ward_session_init_from_bundle(s, a, &bundle));
    FUZZ_ASSERT(!ward_session_encrypt(s, (const uint8_t *)"hello", 5, &out,
                                      &type));
    fuzz_write_seed("prekey", out.data, out.len);
    ward_prekey_msg m;
    FUZZ_ASSERT(!ward_prekey_msg_parse(&m, out.data, out.len));
    fuzz_write_seed("signal", m.message.serialized, m.message.serialized_len);
    ward_buf_release(&out);
    ward_session_free(s);
    ward_prekeys_free(pk);
    ward_identity_free(a);
    ward_identity_free(b);
    return 0;
}

static void check_signal(const ward_signal_msg *m, const uint8_t *p, size_t n)
{
    /* Every pointer the parser hands out lies inside the input. */
    FUZZ_ASSERT(m->serialized >= p &&
                m->serialized + m->serialized_len <= p + n);
    FUZZ_ASSERT(m->ciphertext >= m->serialized &&
                m->ciphertext + m->ciphertext_len <=
                    m->serialized + m->serialized_len - WARD_MAC_LEN);
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    ward_signal_msg sm;
    ward_prekey_msg pm;
    if (ward_signal_msg_parse(&sm, p, n) == WARD_OK)
        check_signal(&sm, p, n);
    if (ward_prekey_msg_parse(&pm, p, n) == WARD_OK)
        check_signal(&pm.message, p, n);
    return 0;
}
