/* A minimal test harness: table-free checks that count and report. */
#ifndef WARD_WTEST_H
#define WARD_WTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int wtest_pass, wtest_fail;

#define CHECK(cond)                                                      \
    do {                                                                 \
        if (cond) {                                                      \
            wtest_pass++;                                                \
        } else {                                                         \
            wtest_fail++;                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,       \
                    __LINE__, #cond);                                    \
        }                                                                \
    } while (0)

#define CHECK_EQ_INT(a, b)                                               \
    do {                                                                 \
        long long wa_ = (long long)(a), wb_ = (long long)(b);            \
        if (wa_ == wb_) {                                                \
            wtest_pass++;                                                \
        } else {                                                         \
            wtest_fail++;                                                \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n",  \
                    __FILE__, __LINE__, #a, wa_, #b, wb_);               \
        }                                                                \
    } while (0)

#define CHECK_MEM(a, b, n)                                               \
    do {                                                                 \
        if (memcmp((a), (b), (n)) == 0) {                                \
            wtest_pass++;                                                \
        } else {                                                         \
            wtest_fail++;                                                \
            fprintf(stderr, "%s:%d: bytes differ: %s vs %s\n", __FILE__, \
                    __LINE__, #a, #b);                                   \
        }                                                                \
    } while (0)

/* Stops the test program: for failures that make the rest meaningless. */
#define REQUIRE(cond)                                                    \
    do {                                                                 \
        if (!(cond)) {                                                   \
            fprintf(stderr, "%s:%d: required: %s\n", __FILE__, __LINE__, \
                    #cond);                                              \
            exit(1);                                                     \
        }                                                                \
    } while (0)

/* Decodes a hex string into |out| (which must hold strlen(hex)/2 bytes). */
static inline size_t wtest_hex(unsigned char *out, const char *hex)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
            fprintf(stderr, "bad hex in test vector: %s\n", hex);
            exit(1);
        }
        out[i] = (unsigned char)v;
    }
    return n;
}

/* Prints the closing line and returns the exit code for main(). */
static inline int wtest_done(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, wtest_pass, wtest_fail);
    return wtest_fail == 0 ? 0 : 1;
}

#endif
