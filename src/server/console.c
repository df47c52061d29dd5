/*
 * The moderation console: routing, the static page, sessions (log in,
 * log out, who am I), CSRF, and the password jobs that logging in and
 * adding a moderator need (pwjob.h, on the API's worker queue like the
 * chat accounts').
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console_internal.h"
#include "ward/crypto.h"

#define SESSION_TTL_MS (8LL * 3600 * 1000) /* a working day */
#define API_PREFIX "/console/api/"
#define API_PREFIX_LEN (sizeof API_PREFIX - 1)

/* ---- small parsers ---- */

int ward_console_cookie(const char *header, const char *name, char *out,
                        size_t cap)
{
    size_t nl = strlen(name);
    int found = 0;
    if (!header || !cap)
        return -1;
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *start = p;
        while (*p && *p != ';')
            p++;
        /* start..p is one "name=value" pair */
        const char *eq = memchr(start, '=', (size_t)(p - start));
        if (!eq || (size_t)(eq - start) != nl ||
            memcmp(start, name, nl) != 0)
            continue;
        const char *v = eq + 1, *ve = p;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        if (found || ve == v || (size_t)(ve - v) >= cap)
            return -1;
        memcpy(out, v, (size_t)(ve - v));
        out[ve - v] = 0;
        found = 1;
    }
    return found ? 0 : -1;
}

int ward_console_query(const char *query, const char *key, char *out,
                       size_t cap)
{
    size_t kl = strlen(key);
    int found = 0;
    if (!query || !cap)
        return 1;
    const char *p = query;
    while (*p) {
        const char *start = p;
        while (*p && *p != '&')
            p++;
        const char *end = p;
        if (*p)
            p++;
        if ((size_t)(end - start) <= kl || start[kl] != '=' ||
            memcmp(start, key, kl) != 0)
            continue;
        const char *v = start + kl + 1;
        size_t n = (size_t)(end - v);
        if (found || n == 0 || n >= cap)
            return -1;
        for (size_t i = 0; i < n; i++) {
            char c = v[i];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-'))
                return -1;
        }
        memcpy(out, v, n);
        out[n] = 0;
        found = 1;
    }
    return found ? 0 : 1;
}

int ward_console_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    int64_t v = 0;
    int neg = 0;
    if (!s || !*s)
        return -1;
    if (*s == '-') {
        neg = 1;
        s++;
        if (!*s)
            return -1;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*s - '0');
    }
    if (neg)
        v = -v;
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static const char *const reason_names[] = {
    [WARD_REASON_CSE] = "child_sexual_exploitation",
    [WARD_REASON_GROOMING] = "grooming",
    [WARD_REASON_SEXUAL_HARASSMENT] = "sexual_harassment",
    [WARD_REASON_HARASSMENT] = "other_harassment",
    [WARD_REASON_SPAM] = "spam",
    [WARD_REASON_OTHER] = "other",
};
#define N_REASONS (int)(sizeof reason_names / sizeof reason_names[0])

const char *ward_console_reason_name(int reason)
{
    return reason > 0 && reason < N_REASONS ? reason_names[reason] : NULL;
}

int ward_console_reason_parse(const char *s)
{
    for (int i = 1; i < N_REASONS; i++)
        if (strcmp(s, reason_names[i]) == 0)
            return i;
    return 0;
}

static const char *const status_names[] = {
    [WARD_REPORT_OPEN] = "open",
    [WARD_REPORT_CLOSED] = "closed",
    [WARD_REPORT_ESCALATED] = "escalated",
};

const char *ward_console_status_name(int status)
{
    return status >= 0 && status <= WARD_REPORT_ESCALATED
               ? status_names[status]
               : NULL;
}

int ward_console_status_parse(const char *s)
{
    for (int i = 0; i <= WARD_REPORT_ESCALATED; i++)
        if (strcmp(s, status_names[i]) == 0)
            return i;
    return -1;
}

const char *console_band_name(int band)
{
    return band == WARD_AGE_MINOR   ? "minor"
           : band == WARD_AGE_ADULT ? "adult"
                                    : "unknown";
}

json_t *console_hex(const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char buf[2 * 64 + 1];
    if (n > 64)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        buf[2 * i] = digits[p[i] >> 4];
        buf[2 * i + 1] = digits[p[i] & 15];
    }
    buf[2 * n] = 0;
    return json_string(buf);
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
    if (!s || strlen(s) != 2 * n)
        return -1;
    for (size_t i = 0; i < 2 * n; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                       : -1;
        if (v < 0)
            return -1;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    return 0;
}

const char *ward_console_password_weak(const char *name, const char *pw)
{
    size_t n = strlen(pw);
    if (n < WARD_CONSOLE_PASSWORD_MIN)
        return "a moderator's password has at least 12 characters";
    if (n > WARD_PASSWORD_MAX)
        return "a password has at most 1024 bytes";
    if (name && *name && strstr(pw, name))
        return "the password contains the name";
    unsigned char seen[256] = {0};
    int distinct = 0;
    for (size_t i = 0; i < n; i++)
        if (!seen[(unsigned char)pw[i]]++)
            distinct++;
    if (distinct < 5)
        return "the password repeats too few characters";
    return NULL;
}

/* ---- set-up ---- */

ward_err ward_console_new(ward_api *api, ward_console **out)
{
    ward_console *c = calloc(1, sizeof *c);
    if (!c)
        return WARD_ERR_NOMEM;
    const ward_api_config *cfg = &api->cfg;
    ward_err e = ward_ratelimit_new(&c->login_by_name, 4096, cfg->login_burst,
                                    cfg->login_per_minute);
    if (!e)
        e = ward_ratelimit_new(&c->login_by_addr, 65536,
                               cfg->login_burst * 5,
                               cfg->login_per_minute * 5);
    if (e) {
        ward_console_free(c);
        return e;
    }
    *out = c;
    return WARD_OK;
}

void ward_console_free(ward_console *c)
{
    if (!c)
        return;
    ward_ratelimit_free(c->login_by_name);
    ward_ratelimit_free(c->login_by_addr);
    free(c);
}

/* ---- sessions and the audit log ---- */

int console_audit(ward_api *api, const ward_moderator *m, const char *action,
                  int64_t report, int64_t subject, const char *detail)
{
    ward_audit_entry e;
    memset(&e, 0, sizeof e);
    e.at = ward_api_now(api);
    e.moderator = m->id;
    snprintf(e.moderator_name, sizeof e.moderator_name, "%s", m->name);
    snprintf(e.action, sizeof e.action, "%s", action);
    e.report = report;
    e.subject = subject;
    if (detail) {
        /* Cut at a character boundary: the log is shown as UTF-8. */
        size_t n = strlen(detail);
        if (n >= sizeof e.detail) {
            n = sizeof e.detail - 1;
            while (n > 0 && ((unsigned char)detail[n] & 0xc0) == 0x80)
                n--;
        }
        memcpy(e.detail, detail, n);
        e.detail[n] = 0;
    }
    return ward_store_audit_append(api->st, &e) == WARD_OK ? 0 : -1;
}

/* The session token of the request's cookie, hashed as stored. */
static int session_hash(const ward_http_req *req, uint8_t hash[32])
{
    char tok[WARD_TOKEN_LEN + 2];
    int r = -1;
    if (ward_console_cookie(req->cookie, WARD_CONSOLE_COOKIE, tok,
                            sizeof tok) == 0 &&
        ward_auth_token_hash(tok, strlen(tok), hash) == WARD_OK)
        r = 0;
    ward_memzero(tok, sizeof tok);
    return r;
}

int console_require(ward_api *api, const ward_http_req *req,
                    ward_http_resp *resp, int admin, console_who *who)
{
    uint8_t csrf[32], given[32];
    int64_t id;
    int r = -1;
    memset(who, 0, sizeof *who);
    if (session_hash(req, who->session)) {
        ward_resp_error(resp, 401, "unauthorized", "log in first");
        return -1;
    }
    ward_err e = ward_store_console_session_check(
        api->st, who->session, ward_api_now(api), &id, csrf);
    if (!e)
        e = ward_store_moderator_by_id(api->st, id, &who->mod);
    ward_memzero(who->mod.pwhash, sizeof who->mod.pwhash);
    if (e == WARD_ERR_NOT_FOUND || (!e && who->mod.disabled)) {
        ward_resp_error(resp, 401, "unauthorized",
                        "the session has ended; log in again");
        goto done;
    }
    if (e) {
        ward_api_store_error(api, resp, e);
        goto done;
    }
    /* Every change needs the token that only the console's own page
     * could have read (SameSite=Strict is the first line, this the
     * second). */
    if (strcmp(req->method, "GET") != 0 &&
        (unhex(req->csrf, given, sizeof given) ||
         !ward_ct_equal(given, csrf, sizeof csrf))) {
        ward_resp_error(resp, 403, "csrf",
                        "the X-CSRF-Token header is missing or wrong");
        goto done;
    }
    if (admin && who->mod.role != WARD_ROLE_ADMIN) {
        ward_resp_error(resp, 403, "forbidden", "only an admin may do that");
        goto done;
    }
    r = 0;
done:
    ward_memzero(csrf, sizeof csrf);
    ward_memzero(given, sizeof given);
    return r;
}

/* ---- password jobs ---- */

static void login_finish(ward_api *api, console_job *j, ward_http_resp *resp);
static void security_headers(ward_http_resp *resp);

static void job_finish(ward_api *api, ward_pwjob *pj, ward_http_resp *resp)
{
    console_job *j = (console_job *)pj;
    if (j->kind == CONSOLE_JOB_ADD)
        (void)console_admin_add_finish(api, j, resp);
    else
        login_finish(api, j, resp);
    /* ward_console_handle adds these to the answers it returns; one
     * finished from ward_api_poll never passes through it. */
    if (pj->deferred)
        security_headers(resp);
}

console_job *console_job_new(ward_api *api, int kind, void *opaque,
                             int64_t now, const char *pw,
                             const char *stored)
{
    console_job *j =
        kind == CONSOLE_JOB_ADD
            ? ward_pwjob_new_hash(sizeof *j, job_finish, opaque, now, pw,
                                  api->cfg.pwhash)
            : ward_pwjob_new_check(sizeof *j, job_finish, opaque, now, pw,
                                   stored);
    if (j)
        j->kind = kind;
    return j;
}

/* ---- log in, log out, who am I ---- */

static const char *role_name(int role)
{
    return role == WARD_ROLE_ADMIN ? "admin" : "moderator";
}

static void login_refused(ward_api *api, ward_http_resp *resp)
{
    api->stats.login_refused++;
    ward_resp_error(resp, 401, "bad_credentials", "wrong name or password");
}

static void login_finish(ward_api *api, console_job *j, ward_http_resp *resp)
{
    ward_moderator m;
    char token[WARD_TOKEN_LEN + 1], cookie[160];
    uint8_t hash[32], csrf[32];
    ward_err e;
    if (!j->known) {
        login_refused(api, resp);
        return;
    }
    /* Looked up again: it may have been disabled while the worker ran. */
    e = ward_store_moderator_by_id(api->st, j->moderator, &m);
    ward_memzero(m.pwhash, sizeof m.pwhash);
    if (e == WARD_ERR_NOT_FOUND || (!e && (m.disabled || j->pw.result))) {
        if (!e) /* someone tried this moderator's password */
            (void)console_audit(api, &m,
                                m.disabled ? "login_disabled"
                                           : "login_failed",
                                0, 0, NULL);
        login_refused(api, resp);
        return;
    }
    if (e) {
        ward_api_store_error(api, resp, e);
        return;
    }
    ward_random(csrf, sizeof csrf);
    (void)ward_store_console_session_purge(api->st, j->pw.now, NULL);
    if ((e = ward_auth_token_new(token, hash)) ||
        (e = ward_store_console_session_put(api->st, hash, m.id, csrf,
                                            j->pw.now + SESSION_TTL_MS))) {
        ward_api_store_error(api, resp, e);
        goto done;
    }
    if (console_audit(api, &m, "login", 0, 0, NULL)) {
        /* No unaudited session: take it back. */
        (void)ward_store_console_session_delete(api->st, hash);
        ward_resp_error(resp, 500, "audit_failed",
                        "the audit log cannot be written");
        goto done;
    }
    snprintf(cookie, sizeof cookie,
             WARD_CONSOLE_COOKIE "=%s; Path=/console; Max-Age=%lld; "
                                 "HttpOnly; SameSite=Strict%s",
             token, (long long)(SESSION_TTL_MS / 1000),
             j->tls ? "; Secure" : "");
    if (ward_http_resp_header(resp, "set-cookie:", cookie)) {
        (void)ward_store_console_session_delete(api->st, hash);
        ward_resp_error(resp, 500, "internal", "out of memory");
        goto done;
    }
    ward_resp_json(resp, 200,
                   json_pack("{s:o,s:s,s:s,s:I,s:I}", "csrf",
                             console_hex(csrf, sizeof csrf), "name", m.name,
                             "role", role_name(m.role), "id",
                             (json_int_t)m.id, "expires_at",
                             (json_int_t)(j->pw.now + SESSION_TTL_MS)));
done:
    ward_memzero(token, sizeof token);
    ward_memzero(cookie, sizeof cookie);
    ward_memzero(csrf, sizeof csrf);
}

static int login(ward_api *api, const ward_http_req *req,
                 ward_http_resp *resp)
{
    static const char *const allowed[] = {"name", "password", NULL};
    ward_console *c = api->console;
    const char *name, *pw;
    int r = WARD_API_DONE;
    int64_t now = ward_api_now(api);
    /* Before a session there is no CSRF token, but the header must be
     * there: a cross-site form cannot send one, and a script on another
     * origin cannot without a CORS preflight that ward never grants. */
    if (!req->csrf || !*req->csrf) {
        ward_resp_error(resp, 403, "csrf",
                        "send an X-CSRF-Token header (any value) to log in");
        return WARD_API_DONE;
    }
    json_t *body = ward_api_body(req, resp, allowed);
    if (!body)
        return WARD_API_DONE;
    if (ward_json_str(body, "name", 1, WARD_MODERATOR_NAME_MAX, &name) ||
        !*name ||
        ward_json_str(body, "password", 1, WARD_PASSWORD_MAX, &pw)) {
        ward_resp_error(resp, 400, "invalid_request",
                        "name and password are required strings");
        goto done;
    }
    /* The console's own budgets: a flood of chat logins does not lock
     * the moderators out. */
    if (ward_api_password_budget(api, c->login_by_name, c->login_by_addr,
                                 name, req, now,
                                 "too many login attempts; try again later",
                                 resp))
        goto done;
    ward_moderator m;
    ward_err e = ward_store_moderator_by_name(api->st, name, &m);
    if (e && e != WARD_ERR_NOT_FOUND) {
        ward_api_store_error(api, resp, e);
        goto done;
    }
    /* An unknown name is checked against a real hash too, so the time
     * taken does not tell whether the moderator exists. */
    int known = e == WARD_OK;
    console_job *j = console_job_new(api, CONSOLE_JOB_LOGIN, req->opaque, now,
                                     pw, known ? m.pwhash : api->dummy_hash);
    if (!j) {
        ward_memzero(&m, sizeof m);
        ward_resp_error(resp, 503, "busy", "out of memory");
        goto done;
    }
    j->known = known;
    j->moderator = known ? m.id : 0;
    j->tls = req->tls;
    ward_memzero(&m, sizeof m);
    r = ward_pwjob_run(api, &j->pw, resp);
done:
    json_decref(body);
    return r;
}

static void clear_cookie(ward_http_resp *resp, int tls)
{
    char cookie[160];
    snprintf(cookie, sizeof cookie,
             WARD_CONSOLE_COOKIE "=; Path=/console; Max-Age=0; HttpOnly; "
                                 "SameSite=Strict%s",
             tls ? "; Secure" : "");
    (void)ward_http_resp_header(resp, "set-cookie:", cookie);
}

static int logout(ward_api *api, const ward_http_req *req,
                  ward_http_resp *resp)
{
    console_who who;
    if (console_require(api, req, resp, 0, &who))
        return WARD_API_DONE;
    ward_err e = ward_store_console_session_delete(api->st, who.session);
    if (e && e != WARD_ERR_NOT_FOUND) {
        ward_api_store_error(api, resp, e);
        return WARD_API_DONE;
    }
    (void)console_audit(api, &who.mod, "logout", 0, 0, NULL);
    clear_cookie(resp, req->tls);
    resp->status = 204;
    return WARD_API_DONE;
}

/* The page calls this when it loads, so the CSRF token comes back after a
 * reload. Another origin cannot read the answer (no CORS), and the cookie
 * is not sent cross-site at all (SameSite=Strict). */
static int me(ward_api *api, const ward_http_req *req, ward_http_resp *resp)
{
    console_who who;
    uint8_t csrf[32];
    int64_t id;
    if (console_require(api, req, resp, 0, &who))
        return WARD_API_DONE;
    ward_err e = ward_store_console_session_check(
        api->st, who.session, ward_api_now(api), &id, csrf);
    if (e) {
        ward_api_store_error(api, resp, e);
        return WARD_API_DONE;
    }
    ward_resp_json(resp, 200,
                   json_pack("{s:I,s:s,s:s,s:o}", "id", (json_int_t)who.mod.id,
                             "name", who.mod.name, "role",
                             role_name(who.mod.role), "csrf",
                             console_hex(csrf, sizeof csrf)));
    ward_memzero(csrf, sizeof csrf);
    return WARD_API_DONE;
}

/* ---- the static page ---- */

static const char *asset_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot && strcmp(dot, ".html") == 0)
        return "text/html; charset=utf-8";
    if (dot && strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (dot && strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    if (dot && strcmp(dot, ".svg") == 0)
        return "image/svg+xml";
    return "application/octet-stream";
}

static int static_file(const ward_http_req *req, ward_http_resp *resp,
                       const char *name)
{
    if (strcmp(req->method, "GET") != 0) {
        ward_resp_error(resp, 405, "method_not_allowed",
                        "that method is not allowed here");
        return WARD_API_DONE;
    }
    for (size_t i = 0; i < ward_console_n_assets; i++) {
        const console_asset *a = &ward_console_assets[i];
        if (strcmp(a->name, name) != 0)
            continue;
        if (ward_buf_append(&resp->body, a->data, a->len)) {
            ward_resp_error(resp, 503, "busy", "out of memory");
            return WARD_API_DONE;
        }
        resp->status = 200;
        resp->content_type = asset_type(a->name);
        return WARD_API_DONE;
    }
    ward_resp_error(resp, 404, "no_route", "no such file");
    return WARD_API_DONE;
}

/* ---- routing ---- */

int ward_console_path(const char *path)
{
    return strcmp(path, "/console") == 0 ||
           strncmp(path, "/console/", 9) == 0;
}

static void security_headers(ward_http_resp *resp)
{
    /* Scripts and styles only from files of ward's own: nothing inline,
     * nothing from elsewhere, and the page may not be framed. */
    static const char *const h[][2] = {
        {"content-security-policy:",
         "default-src 'self'; script-src 'self'; style-src 'self'; "
         "img-src 'self'; connect-src 'self'; object-src 'none'; "
         "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
        {"x-frame-options:", "DENY"},
        {"x-content-type-options:", "nosniff"},
        {"referrer-policy:", "no-referrer"},
        {"cross-origin-opener-policy:", "same-origin"},
        {"cross-origin-resource-policy:", "same-origin"},
    };
    for (size_t i = 0; i < sizeof h / sizeof h[0]; i++)
        (void)ward_http_resp_header(resp, h[i][0], h[i][1]);
}

static int api_route(ward_api *api, const ward_http_req *req,
                     ward_http_resp *resp, const char *rest)
{
    int get = strcmp(req->method, "GET") == 0;
    int post = strcmp(req->method, "POST") == 0;
    const char *exact[] = {"login", "logout", "me", "audit", "audit/verify",
                           NULL};
    if (strcmp(rest, "login") == 0 && post)
        return login(api, req, resp);
    if (strcmp(rest, "logout") == 0 && post)
        return logout(api, req, resp);
    if (strcmp(rest, "me") == 0 && get)
        return me(api, req, resp);
    if (strcmp(rest, "audit") == 0 && get)
        return console_audit_list(api, req, resp);
    if (strcmp(rest, "audit/verify") == 0 && get)
        return console_audit_verify(api, req, resp);
    if (strcmp(rest, "reports") == 0 || strncmp(rest, "reports/", 8) == 0)
        return console_reports_route(api, req, resp, rest);
    if (strcmp(rest, "moderators") == 0 ||
        strncmp(rest, "moderators/", 11) == 0 ||
        strncmp(rest, "accounts/", 9) == 0)
        return console_admin_route(api, req, resp, rest);
    for (size_t i = 0; exact[i]; i++)
        if (strcmp(rest, exact[i]) == 0) {
            ward_resp_error(resp, 405, "method_not_allowed",
                            "that method is not allowed here");
            return WARD_API_DONE;
        }
    ward_resp_error(resp, 404, "no_route", "no such endpoint");
    return WARD_API_DONE;
}

int ward_console_handle(ward_api *api, const ward_http_req *req,
                        ward_http_resp *resp)
{
    const char *p = req->path;
    int r;
    if (strcmp(p, "/console") == 0) {
        /* The page's relative links need the trailing slash. */
        resp->status = 308;
        (void)ward_http_resp_header(resp, "location:", "/console/");
        r = WARD_API_DONE;
    } else if (strcmp(p, "/console/") == 0) {
        r = static_file(req, resp, "index.html");
    } else if (strncmp(p, API_PREFIX, API_PREFIX_LEN) == 0) {
        r = api_route(api, req, resp, p + API_PREFIX_LEN);
    } else {
        r = static_file(req, resp, p + 9);
    }
    if (r == WARD_API_DONE)
        security_headers(resp);
    return r;
}
