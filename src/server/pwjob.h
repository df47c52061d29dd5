/*
 * Password work off the event loop, for the chat accounts (api_accounts.c)
 * and the moderation console (console*.c) alike. Hashing or checking a
 * password (Argon2id, ~50 ms and 64 MiB) runs on the API's worker queue
 * when it has one (ward serve), so a burst of logins does not stall
 * everyone else: the request is checked on the loop thread, the password
 * goes to a worker, and the job's finish callback writes the answer on
 * the loop thread in ward_api_poll. Without workers (the in-process tests)
 * the same steps run inline. Private to the server.
 *
 * A caller's job is a struct whose first member is a ward_pwjob, holding
 * whatever its finish callback needs beside it; the whole struct lives in
 * secure memory and is wiped when freed.
 */
#ifndef WARD_SERVER_PWJOB_H
#define WARD_SERVER_PWJOB_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "auth.h"

typedef struct ward_pwjob ward_pwjob;

/* Writes the answer of a job whose password work is done (loop thread;
 * the store may be used). j->deferred says whether it runs from
 * ward_api_poll (the request's router never saw the answer) or inline. */
typedef void (*ward_pwjob_finish)(ward_api *api, ward_pwjob *j,
                                  ward_http_resp *resp);

struct ward_pwjob {
    ward_pwjob_finish finish;
    void *opaque; /* the request's, for hooks.done */
    int64_t now;  /* when the request came */
    int deferred; /* 1 once handed to a worker */
    int check;    /* 1: check pw against stored; 0: hash pw into hash */
    ward_pwhash_cost cost;            /* hashing */
    char pw[WARD_PASSWORD_MAX + 1];   /* wiped once worked on */
    size_t pw_len;
    char stored[WARD_PWHASH_STR_LEN]; /* checking: the stored hash */
    char hash[WARD_PWHASH_STR_LEN];   /* hashing: the new hash */
    ward_err result;                  /* of the hash or check */
};

/*
 * A job of |size| bytes (at least sizeof(ward_pwjob); the caller's struct
 * beginning with one), zeroed, in secure memory, that hashes |pw| at
 * |cost|. NULL when out of memory. |pw| longer than WARD_PASSWORD_MAX is
 * cut (the handlers refuse it before).
 */
void *ward_pwjob_new_hash(size_t size, ward_pwjob_finish finish,
                          void *opaque, int64_t now, const char *pw,
                          ward_pwhash_cost cost);
/* The same for a job that checks |pw| against the hash |stored| (a
 * NUL-terminated crypto_pwhash_str string; cut to fit). */
void *ward_pwjob_new_check(size_t size, ward_pwjob_finish finish,
                           void *opaque, int64_t now, const char *pw,
                           const char *stored);
/* Wipes and frees a job (also the discard of the API's worker queue). */
void ward_pwjob_free(void *job);

/*
 * Hands |j| to a worker (WARD_API_DEFERRED: its answer comes through
 * ward_api_poll and hooks.done), or without workers runs and finishes it
 * into |resp| at once (WARD_API_DONE). A full queue is a 503 busy in
 * |resp| (WARD_API_DONE). Takes |j| in every case.
 */
int ward_pwjob_run(ward_api *api, ward_pwjob *j, ward_http_resp *resp);

#endif
