/*
 * The server's JSON API (server/api*.c) on hostile requests: the first
 * byte picks an endpoint, the rest is its body (or its path parameter or
 * query). Requests carry a real token of a registered account, so the
 * fuzzer gets past authentication into every parser: registration, login,
 * keys, sends (HTTP and the WebSocket's send frame, also in a group's
 * context), listing, acks, and groups (alice admin of a group the paths name, made again if an
 * input made her leave it).
 * Whatever the input, every answer is a status from 100 to 599 and an
 * error answer is a JSON object with error.code.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "franking_keys.h"
#include "fuzz_common.h"
#include "ward/crypto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

static ward_store *st;
static ward_frank_keys *frank;
static char dir[] = "/tmp/ward_fuzz_api_XXXXXX";

static void cleanup(void)
{
    static const char *const files[] = {"ward.db", "ward.db-wal",
                                        "ward.db-shm", "franking/1.key"};
    char path[96];
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/franking", dir);
    rmdir(path);
    rmdir(dir);
}
static ward_api *api;
static char auth[128];
static int64_t gid; /* alice's group */

static void on_done(void *ctx, void *opaque, const ward_http_resp *r)
{
    (void)ctx, (void)opaque;
    FUZZ_ASSERT(r->status >= 100 && r->status <= 599);
}

static const struct {
    const char *method, *path;
    int param; /* the input is the path's last segment (1) or query (2) */
} routes[] = {
    {"POST", "/v1/accounts", 0},    {"POST", "/v1/sessions", 0},
    {"PUT", "/v1/keys", 0},         {"GET", "/v1/keys/", 1},
    {"POST", "/v1/messages", 0},    {"GET", "/v1/messages", 2},
    {"DELETE", "/v1/messages/", 1}, {"DELETE", "/v1/accounts/me", 0},
    {"GET", "/v1/keys", 0},         {"POST", "/v1/nowhere", 0},
    /* issue 4: append only, so the corpus keeps its route numbers */
    {"POST", "/v1/follows", 0},     {"POST", "/v1/blocks", 0},
    {"DELETE", "/v1/follows/", 1},  {"GET", "/v1/users/", 1},
    {"GET", "/v1/suggestions", 2},  {"POST", "/v1/reports", 0},
    {"PATCH", "/v1/accounts/me", 0},
    {"GET", "/v1/notices", 0},      {"DELETE", "/v1/notices/", 1},
    /* issue 7 (groups): %G is alice's group */
    {"POST", "/v1/groups", 0},      {"GET", "/v1/groups/", 1},
    {"PATCH", "/v1/groups/%G", 0},  {"POST", "/v1/groups/%G/members", 0},
    {"DELETE", "/v1/groups/%G/members/", 1},
    {"PATCH", "/v1/groups/%G/members/bob", 0},
    {"POST", "/v1/groups/%G/leave", 0},
    {"POST", "/v1/groups/%G/messages", 0},
    {"GET", "/v1/groups", 0},
    /* a bundle fetch in a group's context */
    {"GET", "/v1/keys/bob", 2},
    /* a group's avatar: the body is an image */
    {"PUT", "/v1/groups/%G/avatar", 0},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

static void check_error_body(const ward_http_resp *r)
{
    if (r->status < 400)
        return;
    json_t *o = json_loadb((const char *)r->body.data, r->body.len, 0, NULL);
    FUZZ_ASSERT(o && json_is_string(json_object_get(
                         json_object_get(o, "error"), "code")));
    json_decref(o);
}

static int call(int route, const uint8_t *p, size_t n, ward_http_resp *r)
{
    char path[600], query[600], base[96];
    ward_http_req req;
    memset(&req, 0, sizeof req);
    req.method = routes[route].method;
    req.path = routes[route].path;
    const char *g = strstr(req.path, "%G");
    if (g) {
        snprintf(base, sizeof base, "%.*s%lld%s", (int)(g - req.path),
                 req.path, (long long)gid, g + 2);
        req.path = base;
    }
    req.authorization = auth;
    req.remote = "127.0.0.1";
    if (routes[route].param) {
        size_t k = n < 500 ? n : 500;
        char *dst = routes[route].param == 1 ? path : query;
        size_t off = 0;
        if (routes[route].param == 1)
            off = (size_t)snprintf(path, sizeof path, "%s", req.path);
        for (size_t i = 0; i < k; i++)
            dst[off + i] = p[i] ? (char)p[i] : '?';
        dst[off + k] = 0;
        if (routes[route].param == 1)
            req.path = path;
        else
            req.query = query;
    } else {
        req.body = p;
        req.body_len = n;
    }
    r->status = 0;
    ward_buf_init(&r->body, 0);
    return ward_api_handle(api, &req, r);
}

#define ALICE                                                                \
    "{\"username\":\"alice\",\"password\":\"password123\","                    \
    "\"birth_date\":\"1990-01-01\"}"
#define LOGIN "{\"username\":\"alice\",\"password\":\"password123\"}"

/* Registers alice (unless she exists) and logs her in: |auth|. */
static void make_alice(void)
{
    ward_http_resp r;
    ward_account a;
    const char *login = LOGIN;
    if (ward_store_account_by_name(st, "alice", &a) != WARD_OK) {
        call(0, (const uint8_t *)ALICE, strlen(ALICE), &r);
        ward_buf_release(&r.body);
    }
    call(1, (const uint8_t *)login, strlen(login), &r);
    FUZZ_ASSERT(r.status == 200);
    json_t *o = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
    snprintf(auth, sizeof auth, "Bearer %s",
             json_string_value(json_object_get(o, "token")));
    json_decref(o);
    ward_buf_release(&r.body);
}

/* Makes alice a new group unless she is an admin of |gid| still. */
static void make_group(void)
{
    ward_account a;
    ward_group_member m;
    if (ward_store_account_by_name(st, "alice", &a) == WARD_OK &&
        gid && ward_store_group_member(st, gid, a.id, &m) == WARD_OK &&
        m.role == WARD_GROUP_ADMIN)
        return;
    ward_http_resp r;
    const char *body = "{\"name\":\"fuzz\"}";
    call(19, (const uint8_t *)body, strlen(body), &r);
    FUZZ_ASSERT(r.status == 201);
    json_t *o = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
    gid = (int64_t)json_integer_value(json_object_get(o, "id"));
    json_decref(o);
    ward_buf_release(&r.body);
}

static void seed(int route, const char *body)
{
    char name[32];
    snprintf(name, sizeof name, "route%d-%zu", route, strlen(body));
    fuzz_write_tagged_seed(name, (uint8_t)route, body);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_deterministic_random();
    FUZZ_ASSERT(ward_crypto_init() == WARD_OK);
    char path[64], err[256];
    FUZZ_ASSERT(mkdtemp(dir) != NULL);
    atexit(cleanup);
    snprintf(path, sizeof path, "%s/ward.db", dir);
    FUZZ_ASSERT(ward_store_open_sqlite(&st, path, err, sizeof err) == 0);
    ward_api_config cfg;
    ward_api_config_defaults(&cfg);
    cfg.pwhash = ward_pwhash_cost_min();
    cfg.max_body = 16 * 1024;
    cfg.max_message = 8 * 1024;
    /* the fuzzer adds members far faster than anyone may */
    cfg.group_burst = 1e9;
    cfg.group_per_minute = 1e9;
    ward_api_hooks h = {.done = on_done};
    FUZZ_ASSERT(ward_api_new(&api, st, &cfg, &h) == WARD_OK);
    FUZZ_ASSERT(ward_frank_keys_open(&frank, dir, 1, INT64_MAX / 4,
                                     INT64_MAX / 4, err, sizeof err) == 0);
    ward_api_attach(api, frank, NULL, NULL);

    /* alice (whose token every request carries) and bob */
    const char *login = LOGIN;
    static const char *const accounts[] = {
        ALICE,
        "{\"username\":\"bob\",\"password\":\"password123\","
        "\"birth_date\":\"2010-01-01\"}"};
    ward_http_resp r;
    call(0, (const uint8_t *)accounts[1], strlen(accounts[1]), &r);
    FUZZ_ASSERT(r.status == 201);
    ward_buf_release(&r.body);
    make_alice();
    make_group();

    seed(0, accounts[0]);
    seed(1, login);
    seed(2, "{\"identity_key\":\"BQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
            "\"registration_id\":7,\"signed_prekey\":{\"id\":1,\"key\":"
            "\"BQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"signature\":"
            "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\"},"
            "\"prekeys\":[{\"id\":5,\"key\":"
            "\"BQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}");
    seed(3, "bob");
    seed(4, "{\"to\":\"bob\",\"type\":3,\"body\":\"MwgBEiE=\",\"commitment\":"
            "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}");
    seed(5, "after=0&limit=100");
    seed(6, "1");
    seed(7, "{\"password\":\"wrong-password\"}");
    seed(10, "{\"username\":\"bob\"}");
    seed(11, "{\"username\":\"bob\"}");
    seed(12, "bob");
    seed(13, "bob");
    seed(14, "limit=5");
    seed(15, "{\"kind\":\"message\",\"reason\":\"grooming\",\"note\":"
             "\"n\",\"message\":{\"id\":1,\"from_id\":2,\"server_time\":3,"
             "\"content\":\"GiAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\","
             "\"commitment\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
             "\"tag\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
             "\"key_id\":1}}");
    seed(15, "{\"kind\":\"account\",\"reason\":\"spam\",\"username\":"
             "\"bob\"}");
    seed(16, "{\"private\":false}");
    seed(18, "1");
    seed(19, "{\"name\":\"club\",\"description\":\"d\",\"members\":"
             "[\"bob\"]}");
    seed(20, "1");
    seed(20, "1/members");
    seed(21, "{\"name\":\"new\",\"description\":\"x\",\"avatar\":null}");
    seed(22, "{\"username\":\"bob\"}");
    seed(23, "alice");
    seed(24, "{\"role\":\"admin\"}");
    seed(25, "{\"block\":true}");
    seed(26, "{\"type\":4,\"body\":\"AQID\",\"commitment\":"
             "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\"epoch\":1}");
    seed(27, "");
    seed(28, "group=1");
    /* a sender-key handover in the group's context; a group send with the
     * members its key was refused to */
    seed(4, "{\"to\":\"bob\",\"type\":2,\"body\":\"MwgBEiE=\",\"commitment\":"
            "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\"group\":1}");
    seed(26, "{\"type\":4,\"body\":\"AQID\",\"commitment\":"
             "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\"epoch\":1,"
             "\"unkeyed\":[\"bob\"]}");
    uint8_t wsh[] = "\x84{\"to\":\"bob\",\"group\":1,\"type\":2,\"body\":"
                    "\"AQID\",\"commitment\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                    "AAAAAAAAAAAA=\"}";
    fuzz_write_seed("ws-handover", wsh, sizeof wsh - 1);
    /* a 2x2 PNG */
    static const uint8_t png[] = {
        29, 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I',
        'H', 'D', 'R', 0, 0, 0, 2, 0, 0, 0, 2, 8, 2, 0, 0, 0, 0xfd, 0xd4,
        0x9a, 0x73, 0, 0, 0, 16, 'I', 'D', 'A', 'T', 0x78, 0xda, 0x63, 0xf8,
        0xcf, 0xc0, 0x00, 0x44, 0x0c, 0x10, 0x0a, 0x00, 0x1f, 0xee, 0x03,
        0xfd, 0x63, 0x5e, 0xbb, 0x5b, 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae,
        'B', 0x60, 0x82};
    fuzz_write_seed("route29-png", png, sizeof png);
    uint8_t wsg[] = "\x84{\"group\":1,\"type\":4,\"body\":\"AQID\","
                    "\"commitment\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                    "=\",\"epoch\":1}";
    fuzz_write_seed("ws-group-send", wsg, sizeof wsg - 1);
    /* 0x80 | route: the same body as a WebSocket send frame */
    uint8_t ws[] = "\x84{\"to\":\"bob\",\"type\":2,\"body\":\"AQID\"}";
    fuzz_write_seed("ws-send", ws, sizeof ws - 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    if (n < 1)
        return 0;
    ward_http_resp r;
    int route = p[0] & 0x7f;
    if (route >= (int)N_ROUTES)
        return 0;
    if (p[0] & 0x80) {
        /* The WebSocket path: a parsed object to ward_api_send_json. */
        json_t *o = json_loadb((const char *)p + 1, n - 1, 0, NULL);
        if (!o || !json_is_object(o)) {
            json_decref(o);
            return 0;
        }
        r.status = 0;
        ward_buf_init(&r.body, 0);
        int rc = ward_api_send_json(api, 1, o, NULL, &r);
        json_decref(o);
        if (rc == WARD_API_DONE) {
            FUZZ_ASSERT(r.status >= 400 && r.status <= 599);
            check_error_body(&r);
        }
    } else {
        int rc = call(route, p + 1, n - 1, &r);
        if (rc == WARD_API_DONE) {
            FUZZ_ASSERT(r.status >= 100 && r.status <= 599);
            check_error_body(&r);
        }
    }
    ward_buf_release(&r.body);
    (void)ward_api_flush(api);
    /* The input may have deleted alice (her password is in a seed):
     * bring her back so later inputs still get past authentication. */
    int64_t id;
    if (ward_api_authenticate(api, auth, &id) != WARD_OK)
        make_alice();
    make_group();
    return 0;
}
