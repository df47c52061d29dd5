#define _GNU_SOURCE /* memmem */
/*
 * The moderation console's API (src/server/console*.c) in process, over a
 * real SQLite store with the test's clock: the page and its headers,
 * logging in and out, cookies and CSRF, expiry, the queue and a report's
 * page, evidence, decisions and what they do to the account, moderator
 * against admin, and the audit log. Plus the small parsers on their own.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/server/api.h"
#include "../../src/server/auth.h"
#include "../../src/server/console.h"
#include "../console/seed.h"
#include "ward/crypto.h"
#include "ward/store.h"
#include "wtest.h"

#define T0 1795435200000LL
#define HOUR_MS 3600000LL

static int64_t clock_ms = T0;
static int64_t fake_now(void *ctx)
{
    (void)ctx;
    return clock_ms;
}

static int64_t kicked; /* the last account whose sessions were closed */
static void on_kick(void *ctx, int64_t account)
{
    (void)ctx;
    kicked = account;
}

static char dir[64];
static int use_tls; /* the next requests come over TLS */
static ward_store *st;
static ward_api *api;

/* One answer, kept for the checks. */
typedef struct answer {
    int status;
    json_t *json;
    char type[64];
    char cookie[256]; /* set-cookie, if any */
    char headers[2048]; /* "name: value\n" ... */
    ward_buf body;
} answer;

static void answer_free(answer *a)
{
    json_decref(a->json);
    ward_buf_release(&a->body);
    memset(a, 0, sizeof *a);
}

typedef struct session {
    char cookie[128]; /* "ward_console=..." */
    char csrf[80];
} session;

static void call(answer *a, const char *method, const char *path,
                 const char *query, const char *body, const session *s,
                 const char *csrf)
{
    ward_http_req req;
    ward_http_resp r;
    memset(&req, 0, sizeof req);
    memset(a, 0, sizeof *a);
    req.method = method;
    req.path = path;
    req.query = query;
    req.remote = "127.0.0.1";
    req.tls = use_tls;
    req.cookie = s ? s->cookie : NULL;
    req.csrf = csrf ? csrf : s ? s->csrf : NULL;
    req.body = (const uint8_t *)body;
    req.body_len = body ? strlen(body) : 0;
    ward_http_resp_init(&r);
    REQUIRE(ward_api_handle(api, &req, &r) == 0); /* DONE: no workers */
    a->status = r.status;
    snprintf(a->type, sizeof a->type, "%s",
             r.content_type ? r.content_type : "application/json");
    size_t off = 0, hl = 0;
    while (off < r.headers.len) {
        const char *n = (const char *)r.headers.data + off;
        const char *v = n + strlen(n) + 1;
        if (strcmp(n, "set-cookie:") == 0)
            snprintf(a->cookie, sizeof a->cookie, "%s", v);
        hl += (size_t)snprintf(a->headers + hl, sizeof a->headers - hl,
                               "%s %s\n", n, v);
        REQUIRE(hl < sizeof a->headers);
        off += strlen(n) + 1 + strlen(v) + 1;
    }
    if (strcmp(a->type, "application/json") == 0 && r.body.len)
        a->json = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
    a->body = r.body;
    ward_buf_init(&r.body, 0);
    ward_http_resp_release(&r);
}

static const char *err_code(const answer *a)
{
    return json_string_value(
        json_object_get(json_object_get(a->json, "error"), "code"));
}

static int has_header(const answer *a, const char *line)
{
    return strstr(a->headers, line) != NULL;
}

static void add_mod(const char *name, const char *pw, int role)
{
    char hash[WARD_PWHASH_STR_LEN];
    REQUIRE(ward_auth_password_hash(pw, strlen(pw), ward_pwhash_cost_min(),
                                    hash) == WARD_OK);
    REQUIRE(ward_store_moderator_add(st, name, hash, role, clock_ms, NULL) ==
            WARD_OK);
}

/* Logs in; REQUIREs success. */
static void login(session *s, const char *name, const char *pw)
{
    answer a;
    char body[256];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"password\":\"%s\"}",
             name, pw);
    call(&a, "POST", "/console/api/login", NULL, body, NULL, "login");
    if (a.status != 200)
        fprintf(stderr, "login %s: %d %s\n", name, a.status,
                (char *)a.body.data);
    REQUIRE(a.status == 200);
    size_t n = strcspn(a.cookie, ";");
    REQUIRE(n < sizeof s->cookie);
    memcpy(s->cookie, a.cookie, n);
    s->cookie[n] = 0;
    snprintf(s->csrf, sizeof s->csrf, "%s",
             json_string_value(json_object_get(a.json, "csrf")));
    answer_free(&a);
}

typedef struct count_ctx {
    const char *action;
    int64_t n;
    ward_audit_entry last; /* the newest matching entry */
} count_ctx;

static int on_entry(void *vctx, const ward_audit_entry *e)
{
    count_ctx *c = vctx;
    if (strcmp(e->action, c->action) == 0) {
        if (c->n == 0)
            c->last = *e;
        c->n++;
    }
    return 0;
}

static int64_t audit_count(const char *action, ward_audit_entry *last)
{
    count_ctx c;
    memset(&c, 0, sizeof c);
    c.action = action;
    REQUIRE(ward_store_audit_list(st, 0, 100000, on_entry, &c) == WARD_OK);
    if (last)
        *last = c.last;
    return c.n;
}

/* ---- the parsers ---- */

static void test_parsers(void)
{
    char v[16];
    CHECK_EQ_INT(ward_console_cookie("a=1; ward_console=xyz; b=2",
                                     "ward_console", v, sizeof v),
                 0);
    CHECK(strcmp(v, "xyz") == 0);
    CHECK_EQ_INT(ward_console_cookie("ward_console=abc", "ward_console", v,
                                     sizeof v),
                 0);
    CHECK(strcmp(v, "abc") == 0);
    /* a prefix of the name is another cookie */
    CHECK_EQ_INT(ward_console_cookie("xward_console=1; ward_consolex=2",
                                     "ward_console", v, sizeof v),
                 -1);
    /* twice (a sibling domain's shadow): refused */
    CHECK_EQ_INT(ward_console_cookie("ward_console=1; ward_console=2",
                                     "ward_console", v, sizeof v),
                 -1);
    CHECK_EQ_INT(ward_console_cookie("ward_console=", "ward_console", v,
                                     sizeof v),
                 -1);
    CHECK_EQ_INT(ward_console_cookie("ward_console=0123456789abcdef",
                                     "ward_console", v, sizeof v),
                 -1); /* 16 bytes do not fit 16 with the NUL */
    CHECK_EQ_INT(ward_console_cookie(NULL, "ward_console", v, sizeof v), -1);
    CHECK_EQ_INT(ward_console_cookie(";;; ward_console = 1", "ward_console",
                                     v, sizeof v),
                 -1); /* "ward_console " is not the name */

    CHECK_EQ_INT(ward_console_query("status=open&limit=5", "limit", v,
                                    sizeof v),
                 0);
    CHECK(strcmp(v, "5") == 0);
    CHECK_EQ_INT(ward_console_query("status=open", "limit", v, sizeof v), 1);
    CHECK_EQ_INT(ward_console_query(NULL, "limit", v, sizeof v), 1);
    CHECK_EQ_INT(ward_console_query("limit=", "limit", v, sizeof v), -1);
    CHECK_EQ_INT(ward_console_query("limit=1&limit=2", "limit", v, sizeof v),
                 -1);
    CHECK_EQ_INT(ward_console_query("limit=%31", "limit", v, sizeof v), -1);
    CHECK_EQ_INT(ward_console_query("xlimit=1&&limit=3", "limit", v,
                                    sizeof v),
                 0);
    CHECK(strcmp(v, "3") == 0);

    int64_t n;
    CHECK_EQ_INT(ward_console_int("42", 1, 100, &n), 0);
    CHECK_EQ_INT(n, 42);
    CHECK_EQ_INT(ward_console_int("0", 1, 100, &n), -1);
    CHECK_EQ_INT(ward_console_int("101", 1, 100, &n), -1);
    CHECK_EQ_INT(ward_console_int("4x", 1, 100, &n), -1);
    CHECK_EQ_INT(ward_console_int("", 1, 100, &n), -1);
    CHECK_EQ_INT(ward_console_int("99999999999999999999", 1, INT64_MAX, &n),
                 -1);

    CHECK(ward_console_password_weak("mia", "short") != NULL);
    CHECK(ward_console_password_weak("mia", "mia-is-the-best-moderator") !=
          NULL);
    CHECK(ward_console_password_weak("mia", "aaaaaaaaaaaaaaaa") != NULL);
    CHECK(ward_console_password_weak("mia", "correct horse battery") == NULL);
}

/* ---- the page ---- */

static void test_page(void)
{
    answer a;
    call(&a, "GET", "/console/", NULL, NULL, NULL, NULL);
    CHECK_EQ_INT(a.status, 200);
    CHECK(strncmp(a.type, "text/html", 9) == 0);
    CHECK(a.body.len > 100 && memmem(a.body.data, a.body.len,
                                     "console.js", 10) != NULL);
    /* no inline script anywhere in the page */
    CHECK(memmem(a.body.data, a.body.len, "<script>", 8) == NULL);
    CHECK(has_header(&a, "content-security-policy: default-src 'self';"));
    CHECK(!strstr(a.headers, "unsafe-inline"));
    CHECK(has_header(&a, "x-frame-options: DENY"));
    CHECK(has_header(&a, "x-content-type-options: nosniff"));
    CHECK(has_header(&a, "referrer-policy: no-referrer"));
    answer_free(&a);

    call(&a, "GET", "/console", NULL, NULL, NULL, NULL);
    CHECK_EQ_INT(a.status, 308);
    CHECK(has_header(&a, "location: /console/"));
    answer_free(&a);
    call(&a, "GET", "/console/console.js", NULL, NULL, NULL, NULL);
    CHECK_EQ_INT(a.status, 200);
    CHECK(strncmp(a.type, "text/javascript", 15) == 0);
    answer_free(&a);
    call(&a, "GET", "/console/console.css", NULL, NULL, NULL, NULL);
    CHECK(strncmp(a.type, "text/css", 8) == 0);
    answer_free(&a);
    call(&a, "GET", "/console/secret.txt", NULL, NULL, NULL, NULL);
    CHECK_EQ_INT(a.status, 404);
    CHECK(has_header(&a, "x-frame-options: DENY"));
    answer_free(&a);
    call(&a, "POST", "/console/", NULL, "{}", NULL, NULL);
    CHECK_EQ_INT(a.status, 405);
    answer_free(&a);
    call(&a, "GET", "/console/api/nothing", NULL, NULL, NULL, NULL);
    CHECK_EQ_INT(a.status, 404);
    answer_free(&a);
    call(&a, "GET", "/console/api/login", NULL, NULL, NULL, NULL);
    CHECK_EQ_INT(a.status, 405);
    answer_free(&a);
}

/* ---- logging in and out ---- */

static void test_login(void)
{
    answer a;
    session s;
    int64_t failed0 = audit_count("login_failed", NULL);
    /* no X-CSRF-Token at all: refused before anything else */
    call(&a, "POST", "/console/api/login", NULL,
         "{\"name\":\"root\",\"password\":\"correct horse battery\"}", NULL,
         NULL);
    CHECK_EQ_INT(a.status, 403);
    CHECK(err_code(&a) && strcmp(err_code(&a), "csrf") == 0);
    answer_free(&a);
    call(&a, "POST", "/console/api/login", NULL, "{\"name\":", NULL, "login");
    CHECK_EQ_INT(a.status, 400);
    CHECK(strcmp(err_code(&a), "bad_json") == 0);
    answer_free(&a);
    call(&a, "POST", "/console/api/login", NULL,
         "{\"name\":\"root\",\"password\":\"x\",\"role\":\"admin\"}", NULL,
         "login");
    CHECK_EQ_INT(a.status, 400);
    CHECK(strcmp(err_code(&a), "unknown_field") == 0);
    answer_free(&a);
    call(&a, "POST", "/console/api/login", NULL, "{\"name\":\"root\"}", NULL,
         "login");
    CHECK_EQ_INT(a.status, 400);
    answer_free(&a);
    /* wrong password, unknown name: the same answer, and no cookie */
    call(&a, "POST", "/console/api/login", NULL,
         "{\"name\":\"root\",\"password\":\"wrong password here\"}", NULL,
         "login");
    CHECK_EQ_INT(a.status, 401);
    CHECK(strcmp(err_code(&a), "bad_credentials") == 0);
    CHECK(a.cookie[0] == 0);
    answer_free(&a);
    CHECK_EQ_INT(audit_count("login_failed", NULL), failed0 + 1);
    call(&a, "POST", "/console/api/login", NULL,
         "{\"name\":\"nobody\",\"password\":\"wrong password here\"}", NULL,
         "login");
    CHECK_EQ_INT(a.status, 401);
    CHECK(strcmp(err_code(&a), "bad_credentials") == 0);
    answer_free(&a);

    /* the cookie's flags */
    int64_t logins = audit_count("login", NULL);
    call(&a, "POST", "/console/api/login", NULL,
         "{\"name\":\"root\",\"password\":\"correct horse battery\"}", NULL,
         "login");
    CHECK_EQ_INT(a.status, 200);
    CHECK(strncmp(a.cookie, "ward_console=wt_", 16) == 0);
    CHECK(strstr(a.cookie, "; HttpOnly") != NULL);
    CHECK(strstr(a.cookie, "; SameSite=Strict") != NULL);
    CHECK(strstr(a.cookie, "; Path=/console") != NULL);
    CHECK(strstr(a.cookie, "Secure") == NULL); /* plain HTTP here */
    CHECK(strcmp(json_string_value(json_object_get(a.json, "role")),
                 "admin") == 0);
    CHECK_EQ_INT(strlen(json_string_value(json_object_get(a.json, "csrf"))),
                 64);
    answer_free(&a);
    CHECK_EQ_INT(audit_count("login", NULL), logins + 1);
    /* over TLS the cookie is Secure too */
    use_tls = 1;
    call(&a, "POST", "/console/api/login", NULL,
         "{\"name\":\"root\",\"password\":\"correct horse battery\"}", NULL,
         "login");
    CHECK_EQ_INT(a.status, 200);
    CHECK(strstr(a.cookie, "; Secure") != NULL);
    CHECK(strstr(a.cookie, "; HttpOnly") != NULL);
    answer_free(&a);
    use_tls = 0;

    login(&s, "root", "correct horse battery");
    call(&a, "GET", "/console/api/me", NULL, NULL, &s, NULL);
    CHECK_EQ_INT(a.status, 200);
    CHECK(strcmp(json_string_value(json_object_get(a.json, "name")),
                 "root") == 0);
    CHECK(strcmp(json_string_value(json_object_get(a.json, "csrf")),
                 s.csrf) == 0);
    answer_free(&a);
    /* no cookie, a forged one, a malformed one */
    call(&a, "GET", "/console/api/me", NULL, NULL, NULL, NULL);
    CHECK_EQ_INT(a.status, 401);
    answer_free(&a);
    session forged = s;
    forged.cookie[20] = forged.cookie[20] == 'A' ? 'B' : 'A';
    call(&a, "GET", "/console/api/me", NULL, NULL, &forged, NULL);
    CHECK_EQ_INT(a.status, 401);
    answer_free(&a);
    snprintf(forged.cookie, sizeof forged.cookie, "ward_console=../../x");
    call(&a, "GET", "/console/api/me", NULL, NULL, &forged, NULL);
    CHECK_EQ_INT(a.status, 401);
    answer_free(&a);

    /* logging out needs the CSRF token; without it the session lives */
    call(&a, "POST", "/console/api/logout", NULL, NULL, &s, "");
    CHECK_EQ_INT(a.status, 403);
    answer_free(&a);
    char wrong[80];
    snprintf(wrong, sizeof wrong, "%s", s.csrf);
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
    call(&a, "POST", "/console/api/logout", NULL, NULL, &s, wrong);
    CHECK_EQ_INT(a.status, 403);
    CHECK(strcmp(err_code(&a), "csrf") == 0);
    answer_free(&a);
    call(&a, "GET", "/console/api/me", NULL, NULL, &s, NULL);
    CHECK_EQ_INT(a.status, 200);
    answer_free(&a);
    call(&a, "POST", "/console/api/logout", NULL, NULL, &s, NULL);
    CHECK_EQ_INT(a.status, 204);
    CHECK(strstr(a.cookie, "Max-Age=0") != NULL);
    answer_free(&a);
    call(&a, "GET", "/console/api/me", NULL, NULL, &s, NULL);
    CHECK_EQ_INT(a.status, 401);
    answer_free(&a);

    /* sessions end after eight hours */
    login(&s, "root", "correct horse battery");
    clock_ms += 8 * HOUR_MS - 1;
    call(&a, "GET", "/console/api/me", NULL, NULL, &s, NULL);
    CHECK_EQ_INT(a.status, 200);
    answer_free(&a);
    clock_ms += 1;
    call(&a, "GET", "/console/api/me", NULL, NULL, &s, NULL);
    CHECK_EQ_INT(a.status, 401);
    answer_free(&a);

    /* rate limit: the name's budget (burst 10) runs out */
    int limited = 0;
    for (int i = 0; i < 15; i++) {
        call(&a, "POST", "/console/api/login", NULL,
             "{\"name\":\"mia\",\"password\":\"not the password\"}", NULL,
             "login");
        limited |= a.status == 429;
        answer_free(&a);
    }
    CHECK(limited);
    clock_ms += HOUR_MS; /* refilled */
}

static int count_notice(void *ctx, const ward_notice *n)
{
    (void)n;
    ++*(int *)ctx;
    return 0;
}

static int copy_notice(void *ctx, const ward_notice *n)
{
    *(ward_notice *)ctx = *n;
    return 1;
}

/* ---- the queue, a report, decisions ---- */

static int64_t alice, bob, r1, r2;

static void test_reports(void)
{
    answer a;
    session s, m;
    char path[128], ev[128];
    login(&s, "root", "correct horse battery");
    login(&m, "mia", "another long secret");

    REQUIRE(ward_store_account_create(st, "alice", "x", WARD_AGE_MINOR,
                                      clock_ms - 40 * 86400000LL,
                                      &alice) == WARD_OK);
    REQUIRE(ward_store_account_create(st, "bob", "x", WARD_AGE_ADULT,
                                      clock_ms - 3 * 86400000LL,
                                      &bob) == WARD_OK);
    snprintf(ev, sizeof ev, "%s/evidence", dir);
    REQUIRE(seed_message_report(st, ev, alice, bob, WARD_REASON_GROOMING,
                                "hello <script>alert(1)</script>", clock_ms,
                                &r1) == 0);
    REQUIRE(seed_account_report(st, bob, alice, WARD_REASON_SPAM,
                                clock_ms + 1, &r2) == 0);

    /* the queue: high priority first; filters */
    call(&a, "GET", "/console/api/reports", NULL, NULL, &m, NULL);
    CHECK_EQ_INT(a.status, 200);
    json_t *list = json_object_get(a.json, "reports");
    CHECK_EQ_INT(json_array_size(list), 2);
    CHECK_EQ_INT(json_integer_value(
                     json_object_get(json_array_get(list, 0), "id")),
                 r1);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(list, 0),
                                                   "priority")),
                 "high") == 0);
    answer_free(&a);
    call(&a, "GET", "/console/api/reports", "reason=spam&status=open", NULL,
         &m, NULL);
    CHECK_EQ_INT(a.status, 200);
    list = json_object_get(a.json, "reports");
    CHECK_EQ_INT(json_array_size(list), 1);
    CHECK_EQ_INT(json_integer_value(
                     json_object_get(json_array_get(list, 0), "id")),
                 r2);
    answer_free(&a);
    /* both involve a minor (alice), so both are high priority */
    call(&a, "GET", "/console/api/reports", "priority=normal", NULL, &m,
         NULL);
    CHECK_EQ_INT(json_array_size(json_object_get(a.json, "reports")), 0);
    answer_free(&a);
    call(&a, "GET", "/console/api/reports", "priority=high&status=any", NULL,
         &m, NULL);
    CHECK_EQ_INT(json_array_size(json_object_get(a.json, "reports")), 2);
    answer_free(&a);
    static const char *const bad_queries[] = {
        "status=pending", "reason=rudeness", "priority=urgent", "limit=0",
        "limit=201",      "offset=-1",       "limit=5&limit=6", "status="};
    for (size_t i = 0; i < sizeof bad_queries / sizeof *bad_queries; i++) {
        call(&a, "GET", "/console/api/reports", bad_queries[i], NULL, &m,
             NULL);
        CHECK_EQ_INT(a.status, 400);
        answer_free(&a);
    }
    call(&a, "GET", "/console/api/reports", NULL, NULL, NULL, NULL);
    CHECK_EQ_INT(a.status, 401);
    answer_free(&a);

    /* a report's page, and its viewing is audited */
    int64_t views = audit_count("view_report", NULL);
    snprintf(path, sizeof path, "/console/api/reports/%lld", (long long)r1);
    call(&a, "GET", path, NULL, NULL, &m, NULL);
    CHECK_EQ_INT(a.status, 200);
    json_t *msg = json_object_get(a.json, "message");
    CHECK(json_is_true(json_object_get(msg, "decoded")));
    CHECK(strcmp(json_string_value(json_object_get(msg, "body")),
                 "hello <script>alert(1)</script>") == 0);
    json_t *att = json_array_get(json_object_get(msg, "attachments"), 0);
    CHECK(strcmp(json_string_value(json_object_get(att, "content_type")),
                 "image/png") == 0);
    CHECK(json_object_get(att, "key") == NULL); /* never the key */
    CHECK(json_is_true(json_object_get(a.json, "evidence")));
    json_t *subj = json_object_get(a.json, "subject");
    CHECK(strcmp(json_string_value(json_object_get(subj, "name")), "bob") ==
          0);
    CHECK(strcmp(json_string_value(json_object_get(subj, "age_band")),
                 "adult") == 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(
                     json_object_get(subj, "account"), "age_days")),
                 3);
    CHECK(strcmp(json_string_value(json_object_get(
                     json_object_get(a.json, "reporter"), "age_band")),
                 "minor") == 0);
    CHECK(json_is_true(json_object_get(
        json_object_get(a.json, "verification"), "verified")));
    answer_free(&a);
    ward_audit_entry last;
    CHECK_EQ_INT(audit_count("view_report", &last), views + 1);
    CHECK_EQ_INT(last.report, r1);
    CHECK_EQ_INT(last.subject, bob);
    CHECK(strcmp(last.moderator_name, "mia") == 0);

    call(&a, "GET", "/console/api/reports/999999", NULL, NULL, &m, NULL);
    CHECK_EQ_INT(a.status, 404);
    CHECK(strcmp(err_code(&a), "no_such_report") == 0);
    answer_free(&a);
    call(&a, "GET", "/console/api/reports/abc", NULL, NULL, &m, NULL);
    CHECK_EQ_INT(a.status, 404);
    answer_free(&a);

    /* the evidence image, typed from its bytes */
    snprintf(path, sizeof path, "/console/api/reports/%lld/evidence",
             (long long)r1);
    call(&a, "GET", path, NULL, NULL, &m, NULL);
    CHECK_EQ_INT(a.status, 200);
    CHECK(strcmp(a.type, "image/png") == 0);
    CHECK_EQ_INT(a.body.len, seed_png_len);
    CHECK(a.body.len == seed_png_len &&
          memcmp(a.body.data, seed_png, seed_png_len) == 0);
    answer_free(&a);
    call(&a, "GET", path, NULL, NULL, NULL, NULL);
    CHECK_EQ_INT(a.status, 401);
    answer_free(&a);
    snprintf(path, sizeof path, "/console/api/reports/%lld/evidence",
             (long long)r2);
    call(&a, "GET", path, NULL, NULL, &m, NULL);
    CHECK_EQ_INT(a.status, 404);
    answer_free(&a);

    /* decisions: bad input changes nothing */
    snprintf(path, sizeof path, "/console/api/reports/%lld/decision",
             (long long)r1);
    static const char *const bad_bodies[] = {
        "{\"action\":",
        "[]",
        "{\"action\":\"delete\"}",
        "{\"action\":\"suspend\"}",
        "{\"action\":\"suspend\",\"days\":0}",
        "{\"action\":\"suspend\",\"days\":4000}",
        "{\"action\":\"ban\",\"days\":3}",
        "{\"action\":\"ban\",\"note\":5}",
        "{\"action\":\"ban\",\"why\":\"x\"}",
    };
    for (size_t i = 0; i < sizeof bad_bodies / sizeof *bad_bodies; i++) {
        call(&a, "POST", path, NULL, bad_bodies[i], &m, NULL);
        CHECK_EQ_INT(a.status, 400);
        answer_free(&a);
    }
    /* without the CSRF token: 403 and bob is not banned */
    call(&a, "POST", path, NULL, "{\"action\":\"ban\"}", &m, "");
    CHECK_EQ_INT(a.status, 403);
    answer_free(&a);
    ward_account acc;
    REQUIRE(ward_store_account_by_id(st, bob, &acc) == WARD_OK);
    CHECK_EQ_INT(acc.status, WARD_STATUS_ACTIVE);
    call(&a, "POST", "/console/api/reports/999999/decision", NULL,
         "{\"action\":\"dismiss\"}", &m, NULL);
    CHECK_EQ_INT(a.status, 404);
    answer_free(&a);

    /* suspend, then ban */
    call(&a, "POST", path, NULL,
         "{\"action\":\"suspend\",\"days\":7,\"note\":\"first time\"}", &m,
         NULL);
    CHECK_EQ_INT(a.status, 200);
    answer_free(&a);
    REQUIRE(ward_store_account_by_id(st, bob, &acc) == WARD_OK);
    CHECK_EQ_INT(acc.status, WARD_STATUS_SUSPENDED);
    CHECK_EQ_INT(acc.status_until, clock_ms + 7 * 24 * HOUR_MS);
    call(&a, "POST", path, NULL, "{\"action\":\"ban\"}", &m, NULL);
    CHECK_EQ_INT(a.status, 200);
    CHECK(strcmp(json_string_value(json_object_get(a.json, "account")),
                 "banned") == 0);
    answer_free(&a);
    REQUIRE(ward_store_account_by_id(st, bob, &acc) == WARD_OK);
    CHECK_EQ_INT(acc.status, WARD_STATUS_BANNED);
    CHECK_EQ_INT(kicked, bob); /* his live WebSockets are closed */
    CHECK_EQ_INT(audit_count("decision", &last), 2);
    CHECK(strcmp(last.detail, "ban") == 0);
    CHECK_EQ_INT(last.subject, bob);
    static ward_report rep;
    ward_buf content;
    ward_buf_init(&content, 0);
    REQUIRE(ward_store_report_get(st, r1, &rep, &content) == WARD_OK);
    ward_buf_release(&content);
    CHECK_EQ_INT(rep.status, WARD_REPORT_CLOSED);
    CHECK(strcmp(rep.decision, "ban") == 0);
    CHECK_EQ_INT(rep.held, 0);

    /* escalating holds the evidence */
    snprintf(path, sizeof path, "/console/api/reports/%lld/decision",
             (long long)r2);
    call(&a, "POST", path, NULL, "{\"action\":\"escalate\"}", &m, NULL);
    CHECK_EQ_INT(a.status, 200);
    CHECK(json_is_true(json_object_get(a.json, "held")));
    answer_free(&a);
    ward_buf_init(&content, 0);
    REQUIRE(ward_store_report_get(st, r2, &rep, &content) == WARD_OK);
    ward_buf_release(&content);
    CHECK_EQ_INT(rep.status, WARD_REPORT_ESCALATED);
    CHECK_EQ_INT(rep.held, 1);

    /* the page of the other report shows the history of its subject */
    snprintf(path, sizeof path, "/console/api/reports/%lld", (long long)r1);
    call(&a, "GET", path, NULL, NULL, &s, NULL);
    CHECK_EQ_INT(json_array_size(json_object_get(a.json, "decisions")), 2);
    CHECK(strcmp(json_string_value(json_object_get(
                     json_object_get(json_object_get(a.json, "subject"),
                                     "account"),
                     "status")),
                 "banned") == 0);
    answer_free(&a);

    /* the audit log, pages and verify */
    call(&a, "GET", "/console/api/audit", "limit=2", NULL, &m, NULL);
    CHECK_EQ_INT(a.status, 200);
    CHECK_EQ_INT(json_array_size(json_object_get(a.json, "entries")), 2);
    json_int_t next = json_integer_value(json_object_get(a.json,
                                                         "next_before"));
    CHECK(next > 1);
    answer_free(&a);
    call(&a, "GET", "/console/api/audit", "limit=0", NULL, &m, NULL);
    CHECK_EQ_INT(a.status, 400);
    answer_free(&a);
    call(&a, "GET", "/console/api/audit/verify", NULL, NULL, &m, NULL);
    CHECK(json_is_true(json_object_get(a.json, "intact")));
    answer_free(&a);

    /* a warning reaches the account's owner as a notice, without the
     * moderator's note */
    snprintf(path, sizeof path, "/console/api/reports/%lld/decision",
             (long long)r2);
    call(&a, "POST", path, NULL,
         "{\"action\":\"warn\",\"note\":\"reported by kim\"}", &m, NULL);
    CHECK_EQ_INT(a.status, 200);
    CHECK(strcmp(json_string_value(json_object_get(a.json, "account")),
                 "warned") == 0);
    answer_free(&a);
    REQUIRE(ward_store_report_get(st, r2, &rep, NULL) == WARD_OK);
    static ward_notice seen;
    int notices = 0;
    REQUIRE(ward_store_notice_list(st, rep.subject, count_notice, &notices) ==
            WARD_OK);
    CHECK_EQ_INT(notices, 1);
    REQUIRE(ward_store_notice_list(st, rep.subject, copy_notice, &seen) ==
            WARD_OK);
    CHECK(strcmp(seen.kind, "warning") == 0);
    CHECK(strstr(seen.text, "warned you") != NULL);
    CHECK(strstr(seen.text, "kim") == NULL);
}

/* ---- moderator against admin ---- */

static void test_roles(void)
{
    answer a;
    session s, m;
    char path[96];
    login(&s, "root", "correct horse battery");
    login(&m, "mia", "another long secret");
    int64_t adds = audit_count("add_moderator", NULL);

    call(&a, "GET", "/console/api/moderators", NULL, NULL, &m, NULL);
    CHECK_EQ_INT(a.status, 403);
    CHECK(strcmp(err_code(&a), "forbidden") == 0);
    answer_free(&a);
    call(&a, "POST", "/console/api/moderators", NULL,
         "{\"name\":\"eve\",\"password\":\"a long password!\","
         "\"role\":\"admin\"}",
         &m, NULL);
    CHECK_EQ_INT(a.status, 403);
    answer_free(&a);
    ward_moderator got;
    CHECK_EQ_INT(ward_store_moderator_by_name(st, "eve", &got),
                 WARD_ERR_NOT_FOUND);
    snprintf(path, sizeof path, "/console/api/accounts/%lld/status",
             (long long)bob);
    call(&a, "POST", path, NULL, "{\"status\":\"active\"}", &m, NULL);
    CHECK_EQ_INT(a.status, 403);
    answer_free(&a);
    ward_account acc;
    REQUIRE(ward_store_account_by_id(st, bob, &acc) == WARD_OK);
    CHECK_EQ_INT(acc.status, WARD_STATUS_BANNED);
    call(&a, "POST", "/console/api/moderators/1", NULL,
         "{\"disabled\":true}", &m, NULL);
    CHECK_EQ_INT(a.status, 403);
    answer_free(&a);

    /* the admin can */
    call(&a, "GET", "/console/api/moderators", NULL, NULL, &s, NULL);
    CHECK_EQ_INT(a.status, 200);
    CHECK_EQ_INT(json_array_size(json_object_get(a.json, "moderators")), 2);
    answer_free(&a);
    call(&a, "POST", "/console/api/moderators", NULL,
         "{\"name\":\"eve\",\"password\":\"short\",\"role\":\"admin\"}", &s,
         NULL);
    CHECK_EQ_INT(a.status, 400);
    answer_free(&a);
    call(&a, "POST", "/console/api/moderators", NULL,
         "{\"name\":\"eve\",\"password\":\"a long password!\","
         "\"role\":\"boss\"}",
         &s, NULL);
    CHECK_EQ_INT(a.status, 400);
    answer_free(&a);
    call(&a, "POST", "/console/api/moderators", NULL,
         "{\"name\":\"eve\",\"password\":\"a long password!\","
         "\"role\":\"moderator\"}",
         &s, NULL);
    CHECK_EQ_INT(a.status, 201);
    answer_free(&a);
    CHECK_EQ_INT(ward_store_moderator_by_name(st, "eve", &got), WARD_OK);
    CHECK_EQ_INT(audit_count("add_moderator", NULL), adds + 1);
    call(&a, "POST", "/console/api/moderators", NULL,
         "{\"name\":\"eve\",\"password\":\"a long password!\","
         "\"role\":\"moderator\"}",
         &s, NULL);
    CHECK_EQ_INT(a.status, 409);
    answer_free(&a);

    call(&a, "POST", path, NULL, "{\"status\":\"banned\"}", &s, NULL);
    CHECK_EQ_INT(a.status, 400);
    answer_free(&a);
    call(&a, "POST", path, NULL, "{\"status\":\"active\"}", &s, NULL);
    CHECK_EQ_INT(a.status, 200);
    answer_free(&a);
    REQUIRE(ward_store_account_by_id(st, bob, &acc) == WARD_OK);
    CHECK_EQ_INT(acc.status, WARD_STATUS_ACTIVE);
    call(&a, "POST", "/console/api/accounts/99999/status", NULL,
         "{\"status\":\"active\"}", &s, NULL);
    CHECK_EQ_INT(a.status, 404);
    answer_free(&a);

    /* an admin cannot lock themselves out */
    ward_moderator root;
    REQUIRE(ward_store_moderator_by_name(st, "root", &root) == WARD_OK);
    snprintf(path, sizeof path, "/console/api/moderators/%lld",
             (long long)root.id);
    call(&a, "POST", path, NULL, "{\"role\":\"moderator\"}", &s, NULL);
    CHECK_EQ_INT(a.status, 409);
    answer_free(&a);

    /* disabling mia ends her session at once */
    ward_moderator mia;
    REQUIRE(ward_store_moderator_by_name(st, "mia", &mia) == WARD_OK);
    snprintf(path, sizeof path, "/console/api/moderators/%lld",
             (long long)mia.id);
    call(&a, "POST", path, NULL, "{\"disabled\":\"yes\"}", &s, NULL);
    CHECK_EQ_INT(a.status, 400);
    answer_free(&a);
    call(&a, "POST", path, NULL, "{\"disabled\":true}", &s, NULL);
    CHECK_EQ_INT(a.status, 200);
    answer_free(&a);
    call(&a, "GET", "/console/api/me", NULL, NULL, &m, NULL);
    CHECK_EQ_INT(a.status, 401);
    answer_free(&a);
    call(&a, "POST", "/console/api/login", NULL,
         "{\"name\":\"mia\",\"password\":\"another long secret\"}", NULL,
         "login");
    CHECK_EQ_INT(a.status, 401);
    answer_free(&a);
    CHECK(audit_count("login_disabled", NULL) >= 1);

    int64_t bad = -1;
    CHECK_EQ_INT(ward_store_audit_verify(st, &bad), WARD_OK);
    CHECK_EQ_INT(bad, 0);
}

int main(void)
{
    char path[128], err[256];
    REQUIRE(ward_crypto_init() == WARD_OK);
    snprintf(dir, sizeof dir, "/tmp/ward_test_console_XXXXXX");
    REQUIRE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/ward.db", dir);
    REQUIRE(ward_store_open_sqlite(&st, path, err, sizeof err) == WARD_OK);
    ward_api_config cfg;
    ward_api_config_defaults(&cfg);
    cfg.pwhash = ward_pwhash_cost_min();
    ward_api_hooks hooks = {.now = fake_now, .kick = on_kick};
    REQUIRE(ward_api_new(&api, st, &cfg, &hooks) == WARD_OK);
    static char evdir[160];
    snprintf(evdir, sizeof evdir, "%s/evidence", dir);
    ward_api_attach(api, NULL, NULL, evdir);
    add_mod("root", "correct horse battery", WARD_ROLE_ADMIN);
    add_mod("mia", "another long secret", WARD_ROLE_MODERATOR);

    test_parsers();
    test_page();
    test_login();
    test_reports();
    test_roles();

    ward_api_free(api);
    ward_store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    return wtest_done("test_console");
}
