/*
 * The server's franking key file parser (server/franking_keys.c): any
 * bytes give either a key with a non-negative creation time, or
 * WARD_ERR_MALFORMED with the key output wiped.
 */
#include <string.h>

#include "franking_keys.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    static const char good[] =
        "ward franking key v1\nid 1\ncreated 1795435200000\n"
        "key AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n";
    fuzz_write_seed("good", (const uint8_t *)good, sizeof good - 1);
    static const char truncated[] = "ward franking key v1\nid 1\ncreat";
    fuzz_write_seed("truncated", (const uint8_t *)truncated,
                    sizeof truncated - 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    uint8_t key[32];
    int64_t created = -1;
    memset(key, 0xee, sizeof key);
    ward_err e = ward_frank_key_parse((const char *)p, n, 1, &created, key);
    if (e == WARD_OK) {
        FUZZ_ASSERT(created >= 0);
    } else {
        static const uint8_t zero[32];
        FUZZ_ASSERT(e == WARD_ERR_MALFORMED);
        FUZZ_ASSERT(memcmp(key, zero, 32) == 0);
    }
    return 0;
}
