/*
 * The moderation console: the static page (web/, embedded at build time)
 * at /console/ and its JSON API at /console/api/, reached through the
 * API's router (api.c). Moderators are not chat accounts: they log in
 * with a name and password and get a session cookie (ward_console,
 * HttpOnly, SameSite=Strict, Path=/console, Secure under TLS) and a CSRF
 * token that every POST must carry as X-CSRF-Token. Every action goes to
 * the store's append-only audit log. Private to the server.
 */
#ifndef WARD_SERVER_CONSOLE_H
#define WARD_SERVER_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "ward/store.h"

#define WARD_CONSOLE_COOKIE "ward_console"
#define WARD_CONSOLE_CSRF_HEX 64 /* 32 random bytes as lowercase hex */

typedef struct ward_api ward_api;
typedef struct ward_console ward_console;

/* Set-up and tear-down from ward_api_new / ward_api_free. */
ward_err ward_console_new(ward_api *api, ward_console **out);
void ward_console_free(ward_console *c);

/* 1 if |path| is the console's (/console or under /console/). */
int ward_console_path(const char *path);
/* Answers a request for a console path, like ward_api_handle. */
int ward_console_handle(ward_api *api, const ward_http_req *req,
                        ward_http_resp *resp);

/* Moderators guard reported content: a longer password than a chat
 * account's. */
#define WARD_CONSOLE_PASSWORD_MIN 12

/* Why |pw| is too weak for moderator |name| (a sentence), or NULL when it
 * will do: shorter than WARD_CONSOLE_PASSWORD_MIN, longer than
 * WARD_PASSWORD_MAX, holding the name, or fewer than 5 distinct bytes. */
const char *ward_console_password_weak(const char *name, const char *pw);

/* ---- parsers, exposed for the tests and the fuzz target ---- */

/*
 * The value of cookie |name| in a Cookie header ("a=1; b=2"), copied into
 * |out| (|cap| bytes with the NUL). 0 on success; -1 if it is absent,
 * empty, longer than cap - 1, or if |name| appears twice (a cookie set
 * by a sibling domain could shadow ours: ambiguity is refused).
 */
int ward_console_cookie(const char *header, const char *name, char *out,
                        size_t cap);

/*
 * The value of |key| in a query string ("a=1&b=2") into |out|. 0 when
 * found; 1 when absent; -1 when present but empty, longer than cap - 1,
 * repeated, or holding anything but [a-z0-9_-] (nothing the console asks
 * for needs percent-decoding).
 */
int ward_console_query(const char *query, const char *key, char *out,
                       size_t cap);

/* A decimal integer in [min, max] from all of |s|: 0, or -1. */
int ward_console_int(const char *s, int64_t min, int64_t max, int64_t *out);

/* Names of the store's enums as the API spells them; NULL (or 0/-1 for
 * the parsers) when unknown. */
const char *ward_console_reason_name(int reason);
int ward_console_reason_parse(const char *s);
const char *ward_console_status_name(int status);
int ward_console_status_parse(const char *s);

#endif
