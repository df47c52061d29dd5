/*
 * A few worker threads for work too slow for the event loop (Argon2id
 * takes ~50 ms and 64 MiB per password). Jobs go in from the loop thread;
 * each runs work(job) on a worker, then joins the done list and wake(ctx)
 * is called from the worker so the loop can take it (libwebsockets:
 * lws_cancel_service). Only work() runs off the loop thread: it must not
 * touch the store or anything else the loop owns.
 */
#ifndef WARD_SERVER_WORKQ_H
#define WARD_SERVER_WORKQ_H

#include <stddef.h>

#include "ward/err.h"

typedef struct ward_workq ward_workq;

/* The queue holds at most |max_queued| jobs not yet finished. */
ward_err ward_workq_new(ward_workq **out, unsigned threads,
                        size_t max_queued, void (*wake)(void *ctx),
                        void *ctx);
/* Stops the workers (a job running finishes first) and frees the queue.
 * Jobs never taken back are passed to |discard| (may be NULL). */
void ward_workq_free(ward_workq *q, void (*discard)(void *job));

/* Queues |job| for |work|. WARD_ERR_LIMIT when max_queued are waiting or
 * running (the caller answers "busy"). */
ward_err ward_workq_submit(ward_workq *q, void *job,
                           void (*work)(void *job));

/* The next finished job, or NULL. Loop thread only. */
void *ward_workq_take_done(ward_workq *q);

/* Jobs submitted and not yet taken back. */
size_t ward_workq_inflight(ward_workq *q);

#endif
