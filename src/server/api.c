/* The API's set-up, routing and shared checks. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api_internal.h"
#include "console.h"
#include "ward/crypto.h"

void ward_api_config_defaults(ward_api_config *c)
{
    memset(c, 0, sizeof *c);
    c->max_body = 256 * 1024;
    c->max_message = 64 * 1024;
    c->max_queue = 10000;
    c->max_prekeys = 1000;
    c->prekeys_low = 10;
    c->max_attachment = 100ULL << 20;
    c->token_ttl_ms = 30LL * 24 * 3600 * 1000;
    c->attachment_ttl_ms = 30LL * 24 * 3600 * 1000;
    c->pwhash = ward_pwhash_cost_default();
    c->login_burst = 10;
    c->login_per_minute = 5;
    c->register_burst = 20;
    c->register_per_minute = 10;
    c->send_burst = 1000;
    c->send_per_minute = 60000;
    c->upload_burst = 50;
    c->upload_per_minute = 100;
    c->suspicious_window_ms = 30LL * 24 * 3600 * 1000;
    c->suspicious_signals = 1;
    c->report_burst = 20;
    c->report_per_minute = 10;
    c->max_suggestions = 50;
    c->max_group_members = 1000;
    c->group_burst = 60;
    c->group_per_minute = 30;
}

static int64_t wall_clock(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

size_t ward_api_pending_sends(const ward_api *api)
{
    return api->n_pending + api->n_acks;
}

void ward_http_resp_init(ward_http_resp *r)
{
    r->status = 0;
    ward_buf_init(&r->body, 0);
    r->content_type = NULL;
    ward_buf_init(&r->headers, 16384);
}

void ward_http_resp_release(ward_http_resp *r)
{
    ward_buf_release(&r->body);
    ward_buf_release(&r->headers);
}

ward_err ward_http_resp_header(ward_http_resp *r, const char *name,
                               const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    /* A CR or LF would end the header and start another: response
     * splitting. */
    if (!nl || name[nl - 1] != ':' || strpbrk(name, "\r\n ") ||
        strpbrk(value, "\r\n"))
        return WARD_ERR_INVALID_ARG;
    size_t old = r->headers.len;
    ward_err e = ward_buf_append(&r->headers, name, nl + 1);
    if (!e)
        e = ward_buf_append(&r->headers, value, vl + 1);
    if (e)
        r->headers.len = old; /* not half a header */
    return e;
}

int64_t ward_api_now(ward_api *api)
{
    return api->hooks.now ? api->hooks.now(api->hooks.ctx)
                          : wall_clock(NULL);
}

ward_err ward_api_new(ward_api **out, ward_store *st,
                      const ward_api_config *cfg, const ward_api_hooks *hooks)
{
    ward_api *api = calloc(1, sizeof *api);
    if (!api)
        return WARD_ERR_NOMEM;
    api->st = st;
    api->cfg = *cfg;
    if (hooks)
        api->hooks = *hooks;
    /* Unknown usernames are checked against a real hash, so a login's
     * timing does not tell whether the account exists. */
    ward_err e = ward_auth_password_hash("not-a-real-password", 19,
                                         cfg->pwhash, api->dummy_hash);
    if (!e)
        e = ward_ratelimit_new(&api->login_by_name, 65536, cfg->login_burst,
                               cfg->login_per_minute);
    if (!e)
        e = ward_ratelimit_new(&api->login_by_addr, 65536,
                               cfg->login_burst * 5,
                               cfg->login_per_minute * 5);
    if (!e)
        e = ward_ratelimit_new(&api->register_by_addr, 65536,
                               cfg->register_burst,
                               cfg->register_per_minute);
    if (!e)
        e = ward_ratelimit_new(&api->send_by_account, 65536, cfg->send_burst,
                               cfg->send_per_minute);
    if (!e && cfg->pwhash_threads)
        e = hooks && hooks->wake
                ? ward_workq_new(&api->pwq, cfg->pwhash_threads,
                                 64 * cfg->pwhash_threads, hooks->wake,
                                 hooks->ctx)
                : WARD_ERR_INVALID_ARG;
    if (!e)
        e = ward_ratelimit_new(&api->upload_by_account, 65536,
                               cfg->upload_burst, cfg->upload_per_minute);
    if (!e)
        e = ward_ratelimit_new(&api->report_by_account, 65536,
                               cfg->report_burst, cfg->report_per_minute);
    if (!e)
        e = ward_ratelimit_new(&api->group_by_account, 65536,
                               cfg->group_burst, cfg->group_per_minute);
    if (!e)
        e = ward_console_new(api, &api->console);
    if (e) {
        ward_api_free(api);
        return e;
    }
    *out = api;
    return WARD_OK;
}

void ward_api_free(ward_api *api)
{
    if (!api)
        return;
    ward_api_stop_jobs(api);
    ward_console_free(api->console);
    for (size_t i = 0; i < api->n_pending; i++) {
        ward_buf_release(&api->pending[i].body);
        free(api->pending[i].rcpt);
    }
    free(api->pending);
    free(api->acks);
    ward_ratelimit_free(api->login_by_name);
    ward_ratelimit_free(api->login_by_addr);
    ward_ratelimit_free(api->register_by_addr);
    ward_ratelimit_free(api->send_by_account);
    ward_ratelimit_free(api->upload_by_account);
    ward_ratelimit_free(api->report_by_account);
    ward_ratelimit_free(api->group_by_account);
    free(api);
}

void ward_api_attach(ward_api *api, struct ward_frank_keys *keys,
                     struct ward_blobs *blobs, const char *evidence_dir)
{
    api->frank = keys;
    api->blobs = blobs;
    api->evidence_dir = evidence_dir;
}

void ward_api_set_match(ward_api *api, const struct ward_match_set *set)
{
    api->match = set;
}

ward_err ward_api_set_account_status(ward_api *api, int64_t account,
                                     int status, int64_t until)
{
    ward_err e = ward_store_account_set_status(api->st, account, status,
                                               until);
    if (!e && status != WARD_STATUS_ACTIVE && api->hooks.kick)
        api->hooks.kick(api->hooks.ctx, account);
    return e;
}

int ward_api_refuse_status(ward_api *api, int64_t account,
                           ward_http_resp *resp)
{
    ward_account a;
    if (ward_store_account_by_id(api->st, account, &a) != WARD_OK)
        return 0;
    return ward_api_refuse_account(api, &a, resp);
}

int ward_api_refuse_account(ward_api *api, const ward_account *acct,
                            ward_http_resp *resp)
{
    switch (ward_account_status(acct, ward_api_now(api))) {
    case WARD_STATUS_BANNED:
        ward_resp_error(resp, 403, "account_banned",
                        "this account has been banned");
        return -1;
    case WARD_STATUS_SUSPENDED:
        ward_resp_json(resp, 403,
                       json_pack("{s:{s:s,s:s,s:I}}", "error", "code",
                                 "account_suspended", "message",
                                 "this account is suspended", "until",
                                 (json_int_t)acct->status_until));
        return -1;
    default:
        return 0;
    }
}

void ward_api_stats_get(const ward_api *api, ward_api_stats *out)
{
    *out = api->stats;
}

/* The token's account, read once: WARD_ERR_AUTH for no valid token,
 * WARD_ERR_FORBIDDEN (with |*out| filled) for a suspended or banned one. */
static ward_err token_account(ward_api *api, const char *authorization,
                              ward_account *out)
{
    static const char prefix[] = "Bearer ";
    uint8_t hash[32];
    int64_t id;
    /* The scheme is case-insensitive (RFC 9110 11.1). */
    if (!authorization ||
        strncasecmp(authorization, prefix, sizeof prefix - 1) != 0)
        return WARD_ERR_AUTH;
    const char *tok = authorization + sizeof prefix - 1;
    if (ward_auth_token_hash(tok, strlen(tok), hash) != WARD_OK)
        return WARD_ERR_AUTH;
    ward_err e = ward_store_token_check(api->st, hash, ward_api_now(api), &id);
    if (!e)
        e = ward_store_account_by_id(api->st, id, out);
    /* A token whose account went in between is no token. */
    if (e == WARD_ERR_NOT_FOUND)
        return WARD_ERR_AUTH;
    if (!e && ward_account_status(out, ward_api_now(api)) != WARD_STATUS_ACTIVE)
        return WARD_ERR_FORBIDDEN;
    return e;
}

ward_err ward_api_authenticate(ward_api *api, const char *authorization,
                               int64_t *account)
{
    ward_account a;
    ward_err e = token_account(api, authorization, &a);
    if (!e || e == WARD_ERR_FORBIDDEN)
        *account = a.id;
    return e;
}

int ward_api_require_account(ward_api *api, const ward_http_req *req,
                             ward_http_resp *resp, ward_account *acct)
{
    ward_err e = token_account(api, req->authorization, acct);
    if (e == WARD_ERR_AUTH) {
        ward_resp_error(resp, 401, "unauthorized",
                        "a valid bearer token is required");
        return -1;
    }
    if (e == WARD_ERR_FORBIDDEN) {
        ward_api_refuse_account(api, acct, resp);
        return -1;
    }
    if (e) {
        ward_api_store_error(api, resp, e);
        return -1;
    }
    return 0;
}

int ward_api_known_keys(json_t *obj, const char *const *allowed,
                        ward_http_resp *resp)
{
    const char *unknown = ward_json_unknown_key(obj, allowed);
    if (!unknown)
        return 0;
    char msg[160];
    snprintf(msg, sizeof msg, "unknown field '%.100s'", unknown);
    ward_resp_error(resp, 400, "unknown_field", msg);
    return -1;
}

json_t *ward_api_body(const ward_http_req *req, ward_http_resp *resp,
                      const char *const *allowed)
{
    json_t *obj = ward_json_object(req->body, req->body_len);
    if (!obj) {
        ward_resp_error(resp, 400, "bad_json",
                        "the body must be one JSON object");
        return NULL;
    }
    if (ward_api_known_keys(obj, allowed, resp)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

int ward_api_account_named(ward_api *api, const char *username,
                           ward_http_resp *resp, ward_account *them)
{
    ward_err e = ward_auth_username_valid(username)
                     ? ward_store_account_by_name(api->st, username, them)
                     : WARD_ERR_NOT_FOUND;
    if (e == WARD_OK)
        return 0;
    /* A failing database is not "no such user". */
    if (e == WARD_ERR_NOT_FOUND)
        ward_resp_error(resp, 404, "no_such_user", "no such user");
    else
        ward_api_store_error(api, resp, e);
    return -1;
}

int ward_api_password_budget(ward_api *api, ward_ratelimit *by_name,
                             ward_ratelimit *by_addr, const char *name,
                             const ward_http_req *req, int64_t now,
                             const char *msg, ward_http_resp *resp)
{
    int name_ok = ward_ratelimit_take(by_name, name, now);
    int addr_ok =
        !req->remote || ward_ratelimit_take(by_addr, req->remote, now);
    if (name_ok && addr_ok)
        return 0;
    api->stats.rate_limited++;
    ward_resp_error(resp, 429, "rate_limited", msg);
    return -1;
}

void ward_api_store_error(ward_api *api, ward_http_resp *resp, ward_err e)
{
    (void)api;
    switch (e) {
    case WARD_ERR_NOT_FOUND:
        ward_resp_error(resp, 404, "not_found", "no such thing");
        break;
    case WARD_ERR_EXISTS:
        ward_resp_error(resp, 409, "exists", "already exists");
        break;
    case WARD_ERR_LIMIT:
        ward_resp_error(resp, 429, "limit", "a limit was reached");
        break;
    default:
        ward_resp_error(resp, 500, "internal", "the server failed");
        break;
    }
}

static int route(ward_api *api, const ward_http_req *req,
                 ward_http_resp *resp)
{
    const char *m = req->method, *p = req->path;
    int get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0;
    int put = strcmp(m, "PUT") == 0, del = strcmp(m, "DELETE") == 0;

    if (ward_console_path(p))
        return ward_console_handle(api, req, resp);
    if (strcmp(p, "/healthz") == 0 && get) {
        ward_resp_json(resp, 200, json_pack("{s:s}", "status", "ok"));
        return WARD_API_DONE;
    }
    if (strcmp(p, "/v1/accounts") == 0 && post)
        return ward_api_register(api, req, resp);
    if (strcmp(p, "/v1/accounts/me") == 0 && del)
        return ward_api_delete_account(api, req, resp);
    if (strcmp(p, "/v1/sessions") == 0 && post)
        return ward_api_login(api, req, resp);
    if (strcmp(p, "/v1/sessions") == 0 && del)
        return ward_api_logout(api, req, resp);
    if (strcmp(p, "/v1/keys") == 0 && put)
        return ward_api_put_keys(api, req, resp);
    if (strcmp(p, "/v1/keys") == 0 && get)
        return ward_api_get_own_keys(api, req, resp);
    if (strncmp(p, "/v1/keys/", 9) == 0 && get && p[9])
        return ward_api_get_bundle(api, req, resp, p + 9);
    if (strcmp(p, "/v1/messages") == 0 && post)
        return ward_api_send(api, req, resp);
    if (strcmp(p, "/v1/messages") == 0 && get)
        return ward_api_list(api, req, resp);
    if (strncmp(p, "/v1/messages/", 13) == 0 && del && p[13])
        return ward_api_ack(api, req, resp, p + 13);
    if (strcmp(p, "/v1/accounts/me") == 0 && get)
        return ward_api_get_me(api, req, resp);
    if (strcmp(p, "/v1/accounts/me") == 0 && strcmp(m, "PATCH") == 0)
        return ward_api_patch_me(api, req, resp);
    if (strcmp(p, "/v1/follows") == 0 && post)
        return ward_api_follow(api, req, resp);
    if (strcmp(p, "/v1/follows") == 0 && get)
        return ward_api_graph(api, req, resp, WARD_LIST_FOLLOWING);
    if (strncmp(p, "/v1/follows/", 12) == 0 && del && p[12])
        return ward_api_unrelate(api, req, resp, WARD_LIST_FOLLOWING, p + 12);
    if (strcmp(p, "/v1/blocks") == 0 && post)
        return ward_api_block(api, req, resp);
    if (strcmp(p, "/v1/blocks") == 0 && get)
        return ward_api_graph(api, req, resp, WARD_LIST_BLOCKED);
    if (strncmp(p, "/v1/blocks/", 11) == 0 && del && p[11])
        return ward_api_unrelate(api, req, resp, WARD_LIST_BLOCKED, p + 11);
    if (strncmp(p, "/v1/users/", 10) == 0 && get && p[10])
        return ward_api_find(api, req, resp, p + 10);
    if (strcmp(p, "/v1/suggestions") == 0 && get)
        return ward_api_suggestions(api, req, resp);
    if (strcmp(p, "/v1/reports") == 0 && post)
        return ward_api_report(api, req, resp);
    if (strcmp(p, "/v1/notices") == 0 && get)
        return ward_api_notices(api, req, resp);
    if (strncmp(p, "/v1/notices/", 12) == 0 && del && p[12])
        return ward_api_notices_ack(api, req, resp, p + 12);
    if (strncmp(p, "/v1/groups", 10) == 0 && (p[10] == 0 || p[10] == '/'))
        return ward_api_groups_route(api, req, resp, p + 10);

    /* The path exists with another method? */
    static const char *const known[] = {"/healthz", "/v1/accounts",
                                        "/v1/accounts/me", "/v1/sessions",
                                        "/v1/keys", "/v1/messages",
                                        "/v1/follows", "/v1/blocks",
                                        "/v1/suggestions", "/v1/reports",
                                        "/v1/notices", NULL};
    int param = (strncmp(p, "/v1/keys/", 9) == 0 && p[9]) ||
                (strncmp(p, "/v1/messages/", 13) == 0 && p[13]) ||
                (strncmp(p, "/v1/follows/", 12) == 0 && p[12]) ||
                (strncmp(p, "/v1/blocks/", 11) == 0 && p[11]) ||
                (strncmp(p, "/v1/users/", 10) == 0 && p[10]) ||
                (strncmp(p, "/v1/notices/", 12) == 0 && p[12]);
    for (size_t i = 0; known[i] || param; i++)
        if (param || strcmp(p, known[i]) == 0) {
            ward_resp_error(resp, 405, "method_not_allowed",
                            "that method is not allowed here");
            return WARD_API_DONE;
        }
    ward_resp_error(resp, 404, "no_route", "no such endpoint");
    return WARD_API_DONE;
}

int ward_api_handle(ward_api *api, const ward_http_req *req,
                    ward_http_resp *resp)
{
    api->stats.requests++;
    if (req->body_len > api->cfg.max_body) {
        ward_resp_error(resp, 413, "too_large", "the body is too large");
        api->stats.errors_4xx++;
        return WARD_API_DONE;
    }
    int r = route(api, req, resp);
    if (r == WARD_API_DONE) {
        if (resp->status >= 500)
            api->stats.errors_5xx++;
        else if (resp->status >= 400)
            api->stats.errors_4xx++;
    }
    return r;
}
