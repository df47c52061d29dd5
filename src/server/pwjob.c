/* Password jobs on the API's worker queue: see pwjob.h. */
#include "pwjob.h"

#include <string.h>

#include "api_internal.h"
#include "ward/crypto.h"

static void *job_new(size_t size, ward_pwjob_finish finish, void *opaque,
                     int64_t now, const char *pw)
{
    if (size < sizeof(ward_pwjob))
        return NULL;
    ward_pwjob *j = ward_secure_alloc(size);
    if (!j)
        return NULL;
    memset(j, 0, size);
    j->finish = finish;
    j->opaque = opaque;
    j->now = now;
    j->pw_len = strnlen(pw, WARD_PASSWORD_MAX);
    memcpy(j->pw, pw, j->pw_len);
    return j;
}

void *ward_pwjob_new_hash(size_t size, ward_pwjob_finish finish,
                          void *opaque, int64_t now, const char *pw,
                          ward_pwhash_cost cost)
{
    ward_pwjob *j = job_new(size, finish, opaque, now, pw);
    if (j)
        j->cost = cost;
    return j;
}

void *ward_pwjob_new_check(size_t size, ward_pwjob_finish finish,
                           void *opaque, int64_t now, const char *pw,
                           const char *stored)
{
    ward_pwjob *j = job_new(size, finish, opaque, now, pw);
    if (j) {
        /* Always NUL-terminated, whatever the store handed over. */
        size_t n = strnlen(stored, sizeof j->stored - 1);
        memcpy(j->stored, stored, n);
        j->check = 1;
    }
    return j;
}

void ward_pwjob_free(void *job)
{
    ward_secure_free(job); /* wipes */
}

/* On a worker thread: no store, no API state. */
static void job_work(void *p)
{
    ward_pwjob *j = p;
    if (j->check)
        j->result = ward_auth_password_check(j->stored, j->pw, j->pw_len);
    else
        j->result = ward_auth_password_hash(j->pw, j->pw_len, j->cost,
                                            j->hash);
    ward_memzero(j->pw, sizeof j->pw);
}

int ward_pwjob_run(ward_api *api, ward_pwjob *j, ward_http_resp *resp)
{
    if (api->pwq) {
        j->deferred = 1;
        if (ward_workq_submit(api->pwq, j, job_work) == WARD_OK)
            return WARD_API_DEFERRED;
        ward_pwjob_free(j);
        ward_resp_error(resp, 503, "busy",
                        "the server is busy; try again in a moment");
        return WARD_API_DONE;
    }
    job_work(j);
    j->finish(api, j, resp);
    ward_pwjob_free(j);
    return WARD_API_DONE;
}

size_t ward_api_poll(ward_api *api)
{
    size_t n = 0;
    ward_pwjob *j;
    while (api->pwq && (j = ward_workq_take_done(api->pwq)) != NULL) {
        ward_http_resp r;
        ward_http_resp_init(&r);
        j->finish(api, j, &r);
        /* Counted here: ward_api_handle saw only the deferral. */
        if (r.status >= 500)
            api->stats.errors_5xx++;
        else if (r.status >= 400)
            api->stats.errors_4xx++;
        if (api->hooks.done)
            api->hooks.done(api->hooks.ctx, j->opaque, &r);
        ward_http_resp_release(&r);
        ward_pwjob_free(j);
        n++;
    }
    return n;
}

void ward_api_stop_jobs(ward_api *api)
{
    if (api) {
        ward_workq_free(api->pwq, ward_pwjob_free);
        api->pwq = NULL;
    }
}

size_t ward_api_jobs_inflight(ward_api *api)
{
    return api->pwq ? ward_workq_inflight(api->pwq) : 0;
}
