/* A progress bar on stderr, for commands that work through many inputs. */
#include <stdio.h>
#include <time.h>

#include "cli.h"

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void cli_progress(size_t done, size_t n, double *last)
{
    double t = cli_now();
    if (done != n && t - *last < 0.1)
        return;
    *last = t;
    int width = 30, fill = n ? (int)(done * (size_t)width / n) : width;
    if (fill > width)
        fill = width;
    fprintf(stderr, "\r[%.*s%*s] %zu/%zu", fill,
            "##############################", width - fill, "", done, n);
    if (done == n)
        fputs("\r\033[K", stderr);
}
