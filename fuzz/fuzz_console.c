/*
 * The moderation console (server/console*.c) on hostile input: the first
 * byte picks what the rest is. 0: a Cookie header for the cookie parser;
 * 1: a query string for the query parser (and the queue's and the audit
 * log's query handling); 2..: a request body or path tail to one of the
 * console's endpoints, sent with a real admin session and its CSRF token,
 * so the fuzzer gets past login into every handler. Whatever the input,
 * each answer is a status from 100 to 599 and an error is a JSON object
 * with error.code; parsed values fit their buffers.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "auth.h"
#include "console.h"
#include "fuzz_common.h"
#include "ward/crypto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

static ward_store *st;
static ward_api *api;
static char dir[] = "/tmp/ward_fuzz_console_XXXXXX";
static char cookie[128], csrf[80];

static void cleanup(void)
{
    static const char *const files[] = {"ward.db", "ward.db-wal",
                                        "ward.db-shm"};
    char path[96];
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static const struct {
    const char *method, *path;
    int param; /* 0: body; 1: the path's tail; 2: the query */
} routes[] = {
    {"POST", "/console/api/login", 0},
    {"POST", "/console/api/reports/1/decision", 0},
    {"GET", "/console/api/reports", 2},
    {"GET", "/console/api/reports/", 1},
    {"GET", "/console/api/audit", 2},
    {"POST", "/console/api/moderators", 0},
    {"POST", "/console/api/moderators/", 1},
    {"POST", "/console/api/accounts/1/status", 0},
    {"GET", "/console/", 1},
    {"POST", "/console/api/moderators/2", 0},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

static int call(const char *method, const char *path, const char *query,
                const uint8_t *body, size_t n, const char *ck,
                const char *token, ward_http_resp *r)
{
    ward_http_req req;
    memset(&req, 0, sizeof req);
    req.method = method;
    req.path = path;
    req.query = query;
    req.remote = "127.0.0.1";
    req.cookie = ck;
    req.csrf = token;
    req.body = body;
    req.body_len = n;
    ward_http_resp_init(r);
    return ward_api_handle(api, &req, r);
}

static void check_answer(const ward_http_resp *r)
{
    FUZZ_ASSERT(r->status >= 100 && r->status <= 599);
    if (r->status < 400 || r->content_type)
        return;
    json_t *o = json_loadb((const char *)r->body.data, r->body.len, 0, NULL);
    FUZZ_ASSERT(o && json_is_string(json_object_get(
                         json_object_get(o, "error"), "code")));
    json_decref(o);
}

/* Logs root in (again, if an input logged out or changed things). */
static void make_session(void)
{
    static const char body[] =
        "{\"name\":\"root\",\"password\":\"correct horse battery\"}";
    ward_http_resp r;
    ward_moderator m;
    if (ward_store_moderator_by_name(st, "root", &m) == WARD_OK &&
        (m.disabled || m.role != WARD_ROLE_ADMIN))
        FUZZ_ASSERT(ward_store_moderator_set(st, m.id, WARD_ROLE_ADMIN, 0) ==
                    WARD_OK);
    call("POST", "/console/api/login", NULL, (const uint8_t *)body,
         sizeof body - 1, NULL, "login", &r);
    FUZZ_ASSERT(r.status == 200);
    size_t off = 0;
    while (off < r.headers.len) {
        const char *name = (const char *)r.headers.data + off;
        const char *v = name + strlen(name) + 1;
        if (strcmp(name, "set-cookie:") == 0)
            snprintf(cookie, sizeof cookie, "%.*s", (int)strcspn(v, ";"), v);
        off += strlen(name) + 1 + strlen(v) + 1;
    }
    json_t *o = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
    snprintf(csrf, sizeof csrf, "%s",
             json_string_value(json_object_get(o, "csrf")));
    json_decref(o);
    ward_http_resp_release(&r);
}

static void seed(int route, const char *text)
{
    char name[32];
    snprintf(name, sizeof name, "c%d-%zu", route, strlen(text));
    fuzz_write_tagged_seed(name, (uint8_t)route, text);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_deterministic_random();
    FUZZ_ASSERT(ward_crypto_init() == WARD_OK);
    char path[64], err[256], hash[WARD_PWHASH_STR_LEN];
    FUZZ_ASSERT(mkdtemp(dir) != NULL);
    atexit(cleanup);
    snprintf(path, sizeof path, "%s/ward.db", dir);
    FUZZ_ASSERT(ward_store_open_sqlite(&st, path, err, sizeof err) == 0);
    ward_api_config cfg;
    ward_api_config_defaults(&cfg);
    cfg.pwhash = ward_pwhash_cost_min();
    cfg.max_body = 16 * 1024;
    cfg.login_burst = 1e9; /* the fuzzer logs in again and again */
    cfg.login_per_minute = 1e9;
    FUZZ_ASSERT(ward_api_new(&api, st, &cfg, NULL) == WARD_OK);
    FUZZ_ASSERT(ward_auth_password_hash("correct horse battery", 21,
                                        ward_pwhash_cost_min(),
                                        hash) == WARD_OK);
    FUZZ_ASSERT(ward_store_moderator_add(st, "root", hash, WARD_ROLE_ADMIN,
                                         1, NULL) == WARD_OK);
    FUZZ_ASSERT(ward_store_moderator_add(st, "mia", hash,
                                         WARD_ROLE_MODERATOR, 1,
                                         NULL) == WARD_OK);
    int64_t a, b;
    FUZZ_ASSERT(ward_store_account_create(st, "alice", "x", WARD_AGE_MINOR,
                                          1, &a) == WARD_OK);
    FUZZ_ASSERT(ward_store_account_create(st, "bob", "x", WARD_AGE_ADULT, 1,
                                          &b) == WARD_OK);
    static ward_report r;
    r.kind = WARD_REPORT_ACCOUNT;
    r.reason = WARD_REASON_SPAM;
    r.reporter = a;
    r.subject = b;
    snprintf(r.reporter_name, sizeof r.reporter_name, "alice");
    snprintf(r.subject_name, sizeof r.subject_name, "bob");
    FUZZ_ASSERT(ward_store_report_add(st, &r) == WARD_OK);
    make_session();

    fuzz_write_seed("cookie", (const uint8_t *)"\x00" "a=1; ward_console=wt_x",
                    23);
    seed(1, "status=open&reason=spam&priority=high&offset=0&limit=5");
    seed(2, "{\"name\":\"root\",\"password\":\"correct horse battery\"}");
    seed(3, "{\"action\":\"suspend\",\"days\":3,\"note\":\"x\"}");
    seed(4, "status=any&limit=200");
    seed(5, "1/evidence");
    seed(6, "before=3&limit=2");
    seed(7, "{\"name\":\"eve\",\"password\":\"a long password!\","
            "\"role\":\"moderator\"}");
    seed(8, "2");
    seed(9, "{\"status\":\"active\"}");
    seed(10, "console.js");
    seed(11, "{\"role\":\"admin\",\"disabled\":false}");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    char text[600], out[64];
    if (n < 1)
        return 0;
    size_t k = n - 1 < 500 ? n - 1 : 500;
    for (size_t i = 0; i < k; i++)
        text[i] = p[1 + i] ? (char)p[1 + i] : '?';
    text[k] = 0;
    if (p[0] == 0) {
        if (ward_console_cookie(text, "ward_console", out, sizeof out) == 0)
            FUZZ_ASSERT(strlen(out) < sizeof out && out[0]);
        return 0;
    }
    if (p[0] == 1) {
        static const char *const keys[] = {"status", "reason", "limit",
                                           "offset"};
        for (size_t i = 0; i < 4; i++)
            if (ward_console_query(text, keys[i], out, sizeof out) == 0)
                FUZZ_ASSERT(strlen(out) < sizeof out && out[0]);
        return 0;
    }
    size_t route = (size_t)(p[0] - 2);
    if (route >= N_ROUTES)
        return 0;
    char path[700];
    const char *query = NULL;
    const uint8_t *body = NULL;
    size_t blen = 0;
    snprintf(path, sizeof path, "%s", routes[route].path);
    if (routes[route].param == 1)
        snprintf(path, sizeof path, "%s%s", routes[route].path, text);
    else if (routes[route].param == 2)
        query = text;
    else
        body = p + 1, blen = n - 1;
    ward_http_resp r;
    (void)call(routes[route].method, path, query, body, blen, cookie,
               route == 0 ? "login" : csrf, &r);
    check_answer(&r);
    ward_http_resp_release(&r);
    /* The input may have logged root out: keep a working session. */
    ward_http_resp me;
    (void)call("GET", "/console/api/me", NULL, NULL, 0, cookie, NULL, &me);
    int again = me.status != 200;
    ward_http_resp_release(&me);
    if (again)
        make_session();
    return 0;
}
