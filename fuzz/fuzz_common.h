/* Shared by the fuzz targets: deterministic randomness and seed writing. */
#ifndef WARD_FUZZ_COMMON_H
#define WARD_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Replaces libsodium's CSPRNG with a fixed-seed generator so sessions made
 * at start-up, and so the seed corpus, are the same in every run. For
 * fuzzing only: never in the library. Call before ward_crypto_init(). */
void fuzz_deterministic_random(void);

/* When WARD_FUZZ_WRITE_SEEDS names a folder, writes |p| there as a seed
 * file named |name|. */
void fuzz_write_seed(const char *name, const uint8_t *p, size_t n);

/* The same for the targets whose first input byte picks what the rest is
 * fed to: writes |tag| and then |text| (without its NUL). */
void fuzz_write_tagged_seed(const char *name, uint8_t tag, const char *text);

/* Aborts (a finding for libFuzzer) when |cond| is false. */
#define FUZZ_ASSERT(cond)                                                    \
    do {                                                                     \
        if (!(cond))                                                         \
            __builtin_trap();                                                \
    } while (0)

#endif
