#include "fuzz_common.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x9e3779b97f4a7c15ULL;

static uint32_t next32(void)
{
    /* xorshift64*: deterministic, not cryptographic, fine for fuzzing. */
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return (uint32_t)((state * 0x2545f4914f6cdd1dULL) >> 32);
}

static const char *impl_name(void) { return "ward-fuzz-deterministic"; }
static uint32_t impl_random(void) { return next32(); }
static void impl_buf(void *buf, size_t n)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)next32();
}

static randombytes_implementation impl = {
    .implementation_name = impl_name,
    .random = impl_random,
    .stir = NULL,
    .uniform = NULL,
    .buf = impl_buf,
    .close = NULL,
};

void fuzz_deterministic_random(void)
{
    randombytes_set_implementation(&impl);
}

void fuzz_write_seed(const char *name, const uint8_t *p, size_t n)
{
    const char *dir = getenv("WARD_FUZZ_WRITE_SEEDS");
    if (!dir)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fwrite(p, 1, n, f);
    fclose(f);
}

void fuzz_write_tagged_seed(const char *name, uint8_t tag, const char *text)
{
    uint8_t buf[4096];
    size_t n = strlen(text);
    FUZZ_ASSERT(n + 1 <= sizeof buf);
    buf[0] = tag;
    memcpy(buf + 1, text, n);
    fuzz_write_seed(name, buf, n + 1);
}
