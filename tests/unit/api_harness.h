/*
 * The API tests' harness: a store in a fresh directory with the API over
 * it (and the server's franking keys), a request runner that keeps the
 * last response, JSON accessors, and users registered through the API.
 * Header-only; each test program includes it once.
 */
#ifndef WARD_TEST_API_HARNESS_H
#define WARD_TEST_API_HARNESS_H

#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/server/api.h"
#include "../../src/server/franking_keys.h"
#include "ward/crypto.h"
#include "ward/proto.h"
#include "ward/store.h"
#include "wtest.h"

#define HARNESS static __attribute__((unused))

/* 2026-11-23 12:00:00 UTC, from `date -u -d @1795435200`. */
#define T0 1795435200000LL
#define DAY_MS 86400000LL
#define TTL_MS 3600000LL

#define CHECK_STR(a, b)                                                    \
    do {                                                                   \
        const char *sa_ = (a), *sb_ = (b);                                 \
        if (sa_ && sb_ && strcmp(sa_, sb_) == 0) {                         \
            wtest_pass++;                                                  \
        } else {                                                           \
            wtest_fail++;                                                  \
            fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n",      \
                    __FILE__, __LINE__, #a, sa_ ? sa_ : "(null)",          \
                    sb_ ? sb_ : "(null)");                                 \
        }                                                                  \
    } while (0)

/* ------------------------------------------------------------------------ */
/* The hooks: a fake clock, and records of every done and deliver call.     */

#define MAX_REC 64

typedef struct done_rec {
    void *opaque;
    int status;
    char *body; /* NUL-terminated copy */
    size_t len;
    int seq;
} done_rec;

typedef struct deliver_rec {
    ward_store_msg m; /* m.body is NULL: see |body| */
    uint8_t *body;
    int seq;
} deliver_rec;

typedef struct fake {
    int64_t now;
    done_rec done[MAX_REC];
    size_t n_done;
    deliver_rec dl[MAX_REC];
    size_t n_dl;
    int seq;
    int64_t kicked[MAX_REC]; /* accounts whose sessions were closed */
    size_t n_kicked;
} fake;

HARNESS void on_done(void *ctx, void *opaque, const ward_http_resp *r)
{
    fake *f = ctx;
    REQUIRE(f->n_done < MAX_REC);
    done_rec *d = &f->done[f->n_done++];
    d->opaque = opaque;
    d->status = r->status;
    d->len = r->body.len;
    d->body = malloc(r->body.len + 1);
    REQUIRE(d->body);
    if (r->body.len)
        memcpy(d->body, r->body.data, r->body.len);
    d->body[r->body.len] = 0;
    d->seq = ++f->seq;
}

HARNESS void on_deliver(void *ctx, const ward_store_msg *m)
{
    fake *f = ctx;
    REQUIRE(f->n_dl < MAX_REC);
    deliver_rec *d = &f->dl[f->n_dl++];
    d->m = *m;
    d->m.body = NULL;
    d->body = malloc(m->body_len ? m->body_len : 1);
    REQUIRE(d->body);
    if (m->body_len)
        memcpy(d->body, m->body, m->body_len);
    d->seq = ++f->seq;
}

HARNESS void on_kick(void *ctx, int64_t account)
{
    fake *f = ctx;
    if (f->n_kicked < MAX_REC)
        f->kicked[f->n_kicked++] = account;
}

HARNESS int64_t on_now(void *ctx)
{
    return ((fake *)ctx)->now;
}

HARNESS void fake_clear(fake *f)
{
    for (size_t i = 0; i < f->n_done; i++)
        free(f->done[i].body);
    for (size_t i = 0; i < f->n_dl; i++)
        free(f->dl[i].body);
    f->n_done = f->n_dl = 0;
}

/* ------------------------------------------------------------------------ */
/* One group's world: a store in a fresh directory, the API over it, and    */
/* the last response.                                                       */

typedef struct env {
    char dir[64], path[128];
    ward_store *st;
    ward_api *api;
    ward_frank_keys *frank;
    ward_api_config cfg;
    fake f;
    const char *remote;
    int rc, status;
    json_t *j;
    char *raw;
    size_t raw_len;
} env;

static env G;

HARNESS ward_api_config test_cfg(void)
{
    ward_api_config c;
    ward_api_config_defaults(&c);
    c.pwhash = ward_pwhash_cost_min();
    c.token_ttl_ms = TTL_MS;
    return c;
}

/* The world, with franking keys replaced after |rotate_ms| and kept
 * |retain_ms| after that. */
HARNESS void env_open_keys(const ward_api_config *cfg, int64_t rotate_ms,
                           int64_t retain_ms)
{
    memset(&G, 0, sizeof G);
    strcpy(G.dir, "/tmp/ward_test_api_XXXXXX");
    REQUIRE(mkdtemp(G.dir) != NULL);
    int n = snprintf(G.path, sizeof G.path, "%s/ward.db", G.dir);
    REQUIRE(n > 0 && (size_t)n < sizeof G.path);
    char err[256] = "";
    ward_err e = ward_store_open_sqlite(&G.st, G.path, err, sizeof err);
    if (e)
        fprintf(stderr, "store: %s\n", err);
    REQUIRE(e == WARD_OK);
    G.cfg = *cfg;
    G.f.now = T0;
    ward_api_hooks h = {.done = on_done, .deliver = on_deliver,
                        .now = on_now, .kick = on_kick, .ctx = &G.f};
    REQUIRE(ward_api_new(&G.api, G.st, &G.cfg, &h) == WARD_OK);
    REQUIRE(ward_frank_keys_open(&G.frank, G.dir, T0, rotate_ms, retain_ms,
                                 err, sizeof err) == WARD_OK);
    ward_api_attach(G.api, G.frank, NULL, NULL);
}

HARNESS void env_open(const ward_api_config *cfg)
{
    env_open_keys(cfg, 30 * DAY_MS, 365 * DAY_MS);
}

/* Removes a directory of plain files. */
HARNESS void rm_flat_dir(const char *dir)
{
    DIR *d = opendir(dir);
    REQUIRE(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        CHECK(unlink(p) == 0);
    }
    closedir(d);
    CHECK(rmdir(dir) == 0);
}

HARNESS void env_close(void)
{
    ward_api_free(G.api);
    ward_frank_keys_free(G.frank);
    ward_store_close(G.st);
    fake_clear(&G.f);
    json_decref(G.j);
    free(G.raw);
    DIR *d = opendir(G.dir);
    REQUIRE(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char p[sizeof G.dir + sizeof de->d_name + 2];
        snprintf(p, sizeof p, "%s/%s", G.dir, de->d_name);
        if (strcmp(de->d_name, "franking") == 0)
            rm_flat_dir(p);
        else
            CHECK(unlink(p) == 0);
    }
    closedir(d);
    CHECK(rmdir(G.dir) == 0);
    memset(&G, 0, sizeof G);
}

/* Runs one request; the response lands in G.rc, G.status, G.raw, G.j. */
HARNESS int call_full(const char *method, const char *path, const char *query,
                     const char *auth, const void *body, size_t len,
                     void *opaque)
{
    ward_http_req rq;
    memset(&rq, 0, sizeof rq);
    rq.method = method;
    rq.path = path;
    rq.query = query;
    rq.authorization = auth;
    rq.remote = G.remote;
    rq.body = body;
    rq.body_len = len;
    rq.opaque = opaque;
    ward_http_resp rs;
    rs.status = 0;
    ward_buf_init(&rs.body, 0);
    json_decref(G.j);
    G.j = NULL;
    free(G.raw);
    G.rc = ward_api_handle(G.api, &rq, &rs);
    G.status = rs.status;
    G.raw_len = rs.body.len;
    G.raw = malloc(rs.body.len + 1);
    REQUIRE(G.raw);
    if (rs.body.len)
        memcpy(G.raw, rs.body.data, rs.body.len);
    G.raw[rs.body.len] = 0;
    if (rs.body.len) {
        json_error_t je;
        G.j = json_loadb(G.raw, G.raw_len, 0, &je);
        if (!G.j)
            fprintf(stderr, "response is not JSON: %s\n", G.raw);
    }
    ward_buf_release(&rs.body);
    return G.status;
}

HARNESS int call(const char *method, const char *path, const char *auth,
                const char *body)
{
    return call_full(method, path, NULL, auth, body, body ? strlen(body) : 0,
                     NULL);
}

/* Sends |o| (stolen) as the body. */
HARNESS int call_json(const char *method, const char *path, const char *auth,
                     json_t *o, void *opaque)
{
    REQUIRE(o);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    REQUIRE(s);
    int st = call_full(method, path, NULL, auth, s, strlen(s), opaque);
    free(s);
    return st;
}

/* After a call whose answer was deferred to the group commit: runs the
 * commit and puts that answer in G.status and G.j. Otherwise nothing. */
HARNESS int commit_answer(void)
{
    if (G.rc != WARD_API_DEFERRED)
        return G.status;
    size_t before = G.f.n_done;
    ward_api_flush(G.api);
    REQUIRE(G.f.n_done == before + 1);
    json_decref(G.j);
    G.j = json_loads(G.f.done[before].body, 0, NULL);
    G.status = G.f.done[before].status;
    return G.status;
}

HARNESS const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

HARNESS long long jnum(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (long long)json_integer_value(v) : LLONG_MIN;
}

HARNESS int jbool(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_boolean(v) ? json_is_true(v) : -1;
}

/* The error code of the last response, or "". */
HARNESS const char *ecode(void)
{
    const char *c = jstr(json_object_get(G.j, "error"), "code");
    return c ? c : "";
}

/* A completed (not deferred) error response. */
#define CHECK_ERR(st, code)                                                \
    do {                                                                   \
        CHECK_EQ_INT(G.rc, WARD_API_DONE);                                 \
        CHECK_EQ_INT(G.status, st);                                        \
        CHECK_STR(ecode(), code);                                          \
    } while (0)

HARNESS char *b64(const uint8_t *p, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(cap);
    REQUIRE(s);
    sodium_bin2base64(s, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
    return s;
}

HARNESS json_t *b64j(const uint8_t *p, size_t n)
{
    char *s = b64(p, n);
    json_t *v = json_string(s);
    free(s);
    REQUIRE(v);
    return v;
}

/* Decoded length, or -1 for anything that is not base64 fitting |cap|. */
HARNESS long unb64(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    if (!s || sodium_base642bin(out, cap, s, strlen(s), NULL, &n, NULL,
                                sodium_base64_VARIANT_ORIGINAL) != 0)
        return -1;
    return (long)n;
}

/* ------------------------------------------------------------------------ */
/* Users.                                                                   */

typedef struct user {
    char name[40], pw[64], token[64], auth[96];
    int64_t id;
} user;

HARNESS json_t *reg_body(const char *name, const char *pw, const char *birth)
{
    return json_pack("{s:s,s:s,s:s}", "username", name, "password", pw,
                     "birth_date", birth);
}

HARNESS int login_raw(const char *name, const char *pw)
{
    return call_json("POST", "/v1/sessions", NULL,
                     json_pack("{s:s,s:s}", "username", name, "password", pw),
                     NULL);
}

HARNESS void login_as(user *u)
{
    REQUIRE(login_raw(u->name, u->pw) == 200);
    const char *t = jstr(G.j, "token");
    REQUIRE(t && strlen(t) < sizeof u->token);
    strcpy(u->token, t);
    snprintf(u->auth, sizeof u->auth, "Bearer %s", u->token);
}

HARNESS void mk_user(user *u, const char *name)
{
    memset(u, 0, sizeof *u);
    snprintf(u->name, sizeof u->name, "%s", name);
    snprintf(u->pw, sizeof u->pw, "pw-of-%s-123", name);
    REQUIRE(call_json("POST", "/v1/accounts", NULL,
                      reg_body(u->name, u->pw, "1990-05-17"), NULL) == 201);
    login_as(u);
    ward_account a;
    REQUIRE(ward_store_account_by_name(G.st, name, &a) == WARD_OK);
    u->id = a.id;
}

HARNESS int account_exists(const char *name)
{
    ward_account a;
    ward_err e = ward_store_account_by_name(G.st, name, &a);
    REQUIRE(e == WARD_OK || e == WARD_ERR_NOT_FOUND);
    return e == WARD_OK;
}

HARNESS size_t depth_of(int64_t id)
{
    size_t d = (size_t)-1;
    REQUIRE(ward_store_queue_depth(G.st, id, &d) == WARD_OK);
    return d;
}

HARNESS size_t own_prekeys(const user *u, int *low)
{
    call("GET", "/v1/keys", u->auth, NULL);
    CHECK_EQ_INT(G.status, 200);
    if (low)
        *low = jbool(G.j, "prekeys_low");
    long long n = jnum(G.j, "prekeys");
    return n < 0 ? (size_t)-1 : (size_t)n;
}

/* ------------------------------------------------------------------------ */
/* Accounts made straight in the store, with a token each (the policy
 * matrix needs over a thousand; registering each through Argon2id would
 * only be slower).                                                         */

typedef struct acct {
    int64_t id;
    char name[WARD_USERNAME_MAX + 1];
    char auth[96];
    int band;
} acct;

HARNESS void mk_acct(acct *a, const char *name, int band)
{
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s", name);
    a->band = band;
    REQUIRE(ward_store_account_create(G.st, name, "$argon2id$unused", band,
                                      G.f.now - 100 * DAY_MS,
                                      &a->id) == WARD_OK);
    char tok[WARD_TOKEN_LEN + 1];
    uint8_t hash[32];
    REQUIRE(ward_auth_token_new(tok, hash) == WARD_OK);
    REQUIRE(ward_store_token_put(G.st, hash, a->id, G.f.now + 1000 * DAY_MS) ==
            WARD_OK);
    snprintf(a->auth, sizeof a->auth, "Bearer %s", tok);
}

/* Keys, so that a bundle can be fetched (the server does not check them
 * here: PUT /v1/keys does). */
HARNESS void give_keys(const acct *a)
{
    uint8_t id[WARD_PUBKEY_LEN], spk[WARD_PUBKEY_LEN], sig[WARD_SIGNATURE_LEN];
    ward_store_prekey pre[4];
    memset(id, 5, sizeof id);
    memset(spk, 5, sizeof spk);
    memset(sig, 1, sizeof sig);
    for (int i = 0; i < 4; i++) {
        pre[i].id = (uint32_t)i + 1;
        memset(pre[i].pub, 5, sizeof pre[i].pub);
    }
    ward_store_keys k = {id, 7, spk, sig, 1, pre, 4};
    REQUIRE(ward_store_publish_keys(G.st, a->id, &k, 100) == WARD_OK);
}

#endif
