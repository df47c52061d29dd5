/* Private to the console's files (console*.c). */
#ifndef WARD_SERVER_CONSOLE_INTERNAL_H
#define WARD_SERVER_CONSOLE_INTERNAL_H

#include "api_internal.h"
#include "console.h"
#include "pwjob.h"

struct ward_console {
    ward_ratelimit *login_by_name, *login_by_addr;
};

/* The logged-in moderator of a request. */
typedef struct console_who {
    ward_moderator mod; /* pwhash wiped */
    uint8_t session[32]; /* the session's stored hash */
} console_who;

/*
 * The request's session: 0 with |who| filled, or -1 with the answer
 * written (401 unauthorized without a valid session; for a POST, 403
 * csrf unless X-CSRF-Token is the session's token; 403 forbidden when
 * |admin| and the moderator is not an admin).
 */
int console_require(ward_api *api, const ward_http_req *req,
                    ward_http_resp *resp, int admin, console_who *who);

/* Appends to the audit log; the log failing is logged in the answer as a
 * 500 only by the caller (0 ok, -1 failed). |detail| may be NULL. */
int console_audit(ward_api *api, const ward_moderator *m, const char *action,
                  int64_t report, int64_t subject, const char *detail);

/* "minor" / "adult" / "unknown". */
const char *console_band_name(int band);
/* Lowercase hex of |n| bytes as a new JSON string. */
json_t *console_hex(const uint8_t *p, size_t n);

/* console_reports.c */
int console_reports_route(ward_api *api, const ward_http_req *req,
                          ward_http_resp *resp, const char *rest);
int console_audit_list(ward_api *api, const ward_http_req *req,
                       ward_http_resp *resp);
int console_audit_verify(ward_api *api, const ward_http_req *req,
                         ward_http_resp *resp);

/* console_admin.c */
int console_admin_route(ward_api *api, const ward_http_req *req,
                        ward_http_resp *resp, const char *rest);
/* console.c: password jobs (pwjob.h) for logging in and adding a
 * moderator. */
enum { CONSOLE_JOB_LOGIN = 1, CONSOLE_JOB_ADD = 2 };
typedef struct console_job {
    ward_pwjob pw; /* first: see pwjob.h */
    int kind;
    int known;                        /* login: the name exists */
    int64_t moderator;                /* login: its id; add: the admin */
    char name[WARD_MODERATOR_NAME_MAX + 1]; /* add */
    int role;                         /* add */
    int tls;                          /* login: for the cookie's Secure */
} console_job;
/* A job of |kind| for |pw| at |now|: a login checks it against |stored|,
 * an add hashes it at the API's cost (|stored| unused). NULL when out of
 * memory. Run it with ward_pwjob_run; it finishes with the console's
 * security headers like every console answer. */
console_job *console_job_new(ward_api *api, int kind, void *opaque,
                             int64_t now, const char *pw,
                             const char *stored);
/* console_admin.c: the rest of adding a moderator once the password is
 * hashed (loop thread). */
int console_admin_add_finish(ward_api *api, console_job *j,
                             ward_http_resp *resp);

/* The static files (console_assets.c, generated from web/ at build
 * time). */
typedef struct console_asset {
    const char *name; /* "index.html" */
    const unsigned char *data;
    size_t len;
} console_asset;
extern const console_asset ward_console_assets[];
extern const size_t ward_console_n_assets;

#endif
