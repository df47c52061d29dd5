/* Worker threads: see workq.h. One mutex guards both lists; jobs are few
 * and slow, so contention is nothing next to the work. */
#include "workq.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct item {
    struct item *next;
    void *job;
    void (*work)(void *job);
} item;

struct ward_workq {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    item *todo_head, *todo_tail, *done_head, *done_tail;
    size_t inflight, max_queued;
    int stopping;
    unsigned n_threads;
    pthread_t *threads;
    void (*wake)(void *ctx);
    void *ctx;
};

static void push(item **head, item **tail, item *it)
{
    it->next = NULL;
    if (*tail)
        (*tail)->next = it;
    else
        *head = it;
    *tail = it;
}

static item *pop(item **head, item **tail)
{
    item *it = *head;
    if (it) {
        *head = it->next;
        if (!*head)
            *tail = NULL;
    }
    return it;
}

static void *worker(void *arg)
{
    ward_workq *q = arg;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->todo_head && !q->stopping)
            pthread_cond_wait(&q->cv, &q->mu);
        if (q->stopping)
            break;
        item *it = pop(&q->todo_head, &q->todo_tail);
        pthread_mutex_unlock(&q->mu);
        it->work(it->job);
        pthread_mutex_lock(&q->mu);
        push(&q->done_head, &q->done_tail, it);
        pthread_mutex_unlock(&q->mu);
        q->wake(q->ctx);
        pthread_mutex_lock(&q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

ward_err ward_workq_new(ward_workq **out, unsigned threads,
                        size_t max_queued, void (*wake)(void *ctx),
                        void *ctx)
{
    if (threads == 0 || !wake)
        return WARD_ERR_INVALID_ARG;
    ward_workq *q = calloc(1, sizeof *q);
    if (!q)
        return WARD_ERR_NOMEM;
    q->threads = calloc(threads, sizeof *q->threads);
    if (!q->threads) {
        free(q);
        return WARD_ERR_NOMEM;
    }
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->max_queued = max_queued;
    q->wake = wake;
    q->ctx = ctx;
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&q->threads[i], NULL, worker, q) != 0)
            break;
        q->n_threads++;
    }
    if (q->n_threads == 0) {
        ward_workq_free(q, NULL);
        return WARD_ERR_INTERNAL;
    }
    *out = q;
    return WARD_OK;
}

void ward_workq_free(ward_workq *q, void (*discard)(void *job))
{
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    q->stopping = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    for (unsigned i = 0; i < q->n_threads; i++)
        pthread_join(q->threads[i], NULL);
    item *it;
    while ((it = pop(&q->todo_head, &q->todo_tail)) ||
           (it = pop(&q->done_head, &q->done_tail))) {
        if (discard)
            discard(it->job);
        free(it);
    }
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    free(q->threads);
    free(q);
}

ward_err ward_workq_submit(ward_workq *q, void *job, void (*work)(void *job))
{
    if (q->inflight >= q->max_queued)
        return WARD_ERR_LIMIT;
    item *it = malloc(sizeof *it);
    if (!it)
        return WARD_ERR_NOMEM;
    it->job = job;
    it->work = work;
    pthread_mutex_lock(&q->mu);
    push(&q->todo_head, &q->todo_tail, it);
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    q->inflight++; /* loop thread only */
    return WARD_OK;
}

void *ward_workq_take_done(ward_workq *q)
{
    pthread_mutex_lock(&q->mu);
    item *it = pop(&q->done_head, &q->done_tail);
    pthread_mutex_unlock(&q->mu);
    if (!it)
        return NULL;
    void *job = it->job;
    free(it);
    q->inflight--;
    return job;
}

size_t ward_workq_inflight(ward_workq *q)
{
    return q->inflight;
}
