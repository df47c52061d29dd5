/*
 * The state deserializers (session record, prekeys, identity). The first
 * byte picks which; whatever loads must serialize back to the same bytes.
 */
#include <string.h>

#include "fuzz_common.h"
#include "ward/crypto.h"
#include "ward/proto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

static void seed(const char *name, uint8_t kind, const ward_buf *b)
{
    uint8_t tmp[1 << 16];
    FUZZ_ASSERT(b->len + 1 <= sizeof tmp);
    tmp[0] = kind;
    memcpy(tmp + 1, b->data, b->len);
    fuzz_write_seed(name, tmp, b->len + 1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_deterministic_random();
    FUZZ_ASSERT(ward_crypto_init() == WARD_OK);

    /* Seeds: a session with skipped keys and an archived state. */
    ward_identity *a, *b;
    ward_prekeys *pk;
    ward_session *sa, *sb;
    ward_bundle bundle;
    ward_buf out, pt;
    int type;
    ward_buf_init(&out, 0);
    ward_buf_init(&pt, 0);
    FUZZ_ASSERT(!ward_identity_generate(&a) && !ward_identity_generate(&b) &&
                !ward_prekeys_new(&pk) &&
                !ward_prekeys_generate_signed(pk, b, 1, 0) &&
                !ward_prekeys_generate_onetime(pk, 1, 3) &&
                !ward_session_new(&sa) && !ward_session_new(&sb));
    for (uint32_t round = 1; round <= 2; round++) {
        FUZZ_ASSERT(!ward_prekeys_bundle(pk, b, 1, 1, round, &bundle) &&
                    !ward_session_init_from_bundle(sa, a, &bundle));
        for (int i = 0; i < 3; i++) {
            ward_buf_clear(&out);
            FUZZ_ASSERT(!ward_session_encrypt(sa, (const uint8_t *)"x", 1,
                                              &out, &type));
        }
        FUZZ_ASSERT(!ward_session_decrypt(sb, b, pk, type, out.data, out.len,
                                          &pt));
    }
    ward_buf_clear(&out);
    FUZZ_ASSERT(!ward_session_serialize(sb, &out));
    seed("session", 0, &out);
    ward_buf_clear(&out);
    FUZZ_ASSERT(!ward_prekeys_serialize(pk, &out));
    seed("prekeys", 1, &out);
    ward_buf_clear(&out);
    FUZZ_ASSERT(!ward_identity_serialize(a, &out));
    seed("identity", 2, &out);
    ward_buf_release(&out);
    ward_buf_release(&pt);
    ward_session_free(sa);
    ward_session_free(sb);
    ward_prekeys_free(pk);
    ward_identity_free(a);
    ward_identity_free(b);
    return 0;
}

static void same(const ward_buf *b, const uint8_t *p, size_t n)
{
    FUZZ_ASSERT(b->len == n && memcmp(b->data, p, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    ward_buf out;
    ward_buf_init(&out, 0);
    switch (data[0] % 3) {
    case 0: {
        ward_session *s;
        if (ward_session_deserialize(&s, p, n) == WARD_OK) {
            FUZZ_ASSERT(ward_session_serialize(s, &out) == WARD_OK);
            same(&out, p, n);
            ward_session_free(s);
        }
        break;
    }
    case 1: {
        ward_prekeys *pk;
        if (ward_prekeys_deserialize(&pk, p, n) == WARD_OK) {
            FUZZ_ASSERT(ward_prekeys_serialize(pk, &out) == WARD_OK);
            same(&out, p, n);
            ward_prekeys_free(pk);
        }
        break;
    }
    default: {
        ward_identity *id, *again;
        if (ward_identity_deserialize(&id, p, n) == WARD_OK) {
            /* The key is clamped on load, so compare a second round trip. */
            FUZZ_ASSERT(ward_identity_serialize(id, &out) == WARD_OK);
            FUZZ_ASSERT(ward_identity_deserialize(&again, out.data,
                                                  out.len) == WARD_OK);
            ward_buf second;
            ward_buf_init(&second, 0);
            FUZZ_ASSERT(ward_identity_serialize(again, &second) == WARD_OK);
            same(&second, out.data, out.len);
            ward_buf_release(&second);
            ward_identity_free(again);
            ward_identity_free(id);
        }
        break;
    }
    }
    ward_buf_release(&out);
    return 0;
}
