/* What the in-process benchmarks (ratchet, group) share: dying with a
 * message, allocation that cannot fail, timed regions that callgrind also
 * counts, and the same plaintexts for both implementations. */
#ifndef WARD_BENCH_UTIL_H
#define WARD_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* The program's name in bench_die's messages. */
extern const char *bench_name;

__attribute__((format(printf, 1, 2), noreturn))
void bench_die(const char *fmt, ...);
void *bench_calloc(size_t n, size_t size);
double bench_now(void);

/* A timed region: wall-clock time accumulates into a timer, and callgrind
 * (if present) collects only inside. Regions do not nest. Collection is
 * off while bench_collect is 0 (the warm-up pass, whose numbers are
 * thrown away). */
extern int bench_collect;
typedef struct bench_timer {
    double total, start;
} bench_timer;
void bench_region_begin(bench_timer *t);
void bench_region_end(bench_timer *t);

/* |n| bytes of a fixed splitmix64 stream started at |seed|. */
void bench_fill(uint8_t *p, size_t n, uint64_t seed);

#endif
