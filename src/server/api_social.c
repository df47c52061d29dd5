/* The account's own settings, the social graph and the contact policy's
 * facts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"

int ward_api_suspicious(ward_api *api, int64_t id, int band, int *out)
{
    *out = 0;
    if (band != WARD_AGE_ADULT || api->cfg.suspicious_signals == 0)
        return 0;
    size_t n = 0;
    ward_err e = ward_store_minor_signals(
        api->st, id, ward_api_now(api) - api->cfg.suspicious_window_ms, &n);
    if (e)
        return -1;
    *out = n >= api->cfg.suspicious_signals;
    return 0;
}

unsigned ward_api_pair_facts(int my_band, int their_band, int they_private,
                             const ward_store_relation *r)
{
    unsigned f = 0;
    f |= my_band == WARD_AGE_MINOR ? WARD_FACT_ACTOR_MINOR : 0;
    f |= their_band == WARD_AGE_MINOR ? WARD_FACT_TARGET_MINOR : 0;
    f |= r->a_follows_b ? WARD_FACT_ACTOR_FOLLOWS : 0;
    f |= r->b_follows_a ? WARD_FACT_TARGET_FOLLOWS : 0;
    f |= r->a_blocked_b ? WARD_FACT_ACTOR_BLOCKED : 0;
    f |= r->b_blocked_a ? WARD_FACT_TARGET_BLOCKED : 0;
    f |= they_private ? WARD_FACT_TARGET_PRIVATE : 0;
    return f;
}

ward_err ward_api_policy(ward_api *api, const ward_account *me,
                         const ward_account *them, ward_entry entry,
                         ward_verdict *verdict)
{
    *verdict = WARD_ALLOW;
    if (me->id == them->id)
        return WARD_OK; /* one's own account is always in reach */
    ward_store_relation r;
    ward_err e = ward_store_relation_get(api->st, me->id, them->id, &r);
    if (e)
        return e;
    unsigned f = ward_api_pair_facts(me->age_band, them->age_band,
                                     them->is_private, &r);
    /* The flag costs a query: only where a minor is on the other side and
     * a rule here reads it. */
    unsigned reads = ward_policy_reads(entry);
    int flag = 0;
    /* A lookup that fails refuses (the store error), never allows. */
    if ((reads & WARD_FACT_ACTOR_SUSPICIOUS) &&
        (f & WARD_FACT_TARGET_MINOR)) {
        if (ward_api_suspicious(api, me->id, me->age_band, &flag))
            return WARD_ERR_STORE;
        f |= flag ? WARD_FACT_ACTOR_SUSPICIOUS : 0;
    }
    if ((reads & WARD_FACT_TARGET_SUSPICIOUS) &&
        (f & WARD_FACT_ACTOR_MINOR)) {
        if (ward_api_suspicious(api, them->id, them->age_band, &flag))
            return WARD_ERR_STORE;
        f |= flag ? WARD_FACT_TARGET_SUSPICIOUS : 0;
    }
    *verdict = ward_policy_decide(entry, f, NULL);
    return WARD_OK;
}

static const char *refusal_message(ward_verdict v)
{
    switch (v) {
    case WARD_REFUSE_BLOCKED_BY_TARGET:
        return "this account does not accept contact from you";
    case WARD_REFUSE_YOU_BLOCKED:
        return "you blocked this account; unblock it first";
    case WARD_REFUSE_MINOR_NOT_FOLLOWING:
        return "this account accepts new conversations only from accounts "
               "it follows";
    case WARD_REFUSE_SUSPICIOUS:
        return "this account cannot be contacted by you";
    case WARD_REFUSE_PRIVATE:
        return "this account is private: only accounts it follows can "
               "reach it";
    case WARD_REFUSE_WITHHELD:
        return "the contact rules keep your messages in this group from "
               "this account";
    default:
        return "refused";
    }
}

int ward_api_policy_check_named(ward_api *api, const ward_account *me,
                                const ward_account *them, ward_entry entry,
                                int name_it, ward_http_resp *resp)
{
    ward_verdict v;
    ward_err e = ward_api_policy(api, me, them, entry, &v);
    if (e) {
        ward_api_store_error(api, resp, e);
        return -1;
    }
    if (v == WARD_ALLOW)
        return 0;
    api->stats.policy_refused++;
    if (ward_entry_hides(entry))
        ward_resp_error(resp, 404, "no_such_user", "no such user");
    else if (name_it)
        ward_resp_json(resp, 403,
                       json_pack("{s:{s:s,s:s,s:s}}", "error", "code",
                                 ward_verdict_code(v), "message",
                                 refusal_message(v), "username",
                                 them->username));
    else
        ward_resp_error(resp, 403, ward_verdict_code(v), refusal_message(v));
    return -1;
}

int ward_api_policy_check(ward_api *api, const ward_account *me,
                          const ward_account *them, ward_entry entry,
                          ward_http_resp *resp)
{
    return ward_api_policy_check_named(api, me, them, entry, 0, resp);
}

static json_t *me_json(const ward_account *a, int64_t now)
{
    int st = ward_account_status(a, now);
    return json_pack("{s:I,s:s,s:s,s:b,s:s,s:I}", "id", (json_int_t)a->id,
                     "username", a->username, "age_band",
                     ward_api_band_name(a->age_band), "private", a->is_private,
                     "status",
                     st == WARD_STATUS_BANNED      ? "banned"
                     : st == WARD_STATUS_SUSPENDED ? "suspended"
                                                   : "active",
                     "created_at", (json_int_t)a->created_at);
}

int ward_api_get_me(ward_api *api, const ward_http_req *req,
                    ward_http_resp *resp)
{
    ward_account me;
    if (ward_api_require_account(api, req, resp, &me))
        return WARD_API_DONE;
    ward_resp_json(resp, 200, me_json(&me, ward_api_now(api)));
    return WARD_API_DONE;
}

int ward_api_patch_me(ward_api *api, const ward_http_req *req,
                      ward_http_resp *resp)
{
    static const char *const keys[] = {"private", NULL};
    ward_account me;
    if (ward_api_require_account(api, req, resp, &me))
        return WARD_API_DONE;
    json_t *body = ward_api_body(req, resp, keys);
    if (!body)
        return WARD_API_DONE;
    json_t *p = json_object_get(body, "private");
    if (!json_is_boolean(p)) {
        ward_resp_error(resp, 400, "invalid_settings",
                        "private must be true or false");
    } else {
        ward_err e = ward_store_account_set_private(api->st, me.id,
                                                    json_is_true(p));
        if (e)
            ward_api_store_error(api, resp, e);
        else {
            me.is_private = json_is_true(p);
            ward_resp_json(resp, 200, me_json(&me, ward_api_now(api)));
        }
    }
    json_decref(body);
    return WARD_API_DONE;
}

/* The other account named by a body's "username"; writes the 400/404. */
static int target_from_body(ward_api *api, const ward_http_req *req,
                            ward_http_resp *resp, ward_account *them)
{
    static const char *const keys[] = {"username", NULL};
    const char *name;
    json_t *body = ward_api_body(req, resp, keys);
    if (!body)
        return -1;
    int r = -1;
    if (ward_json_str(body, "username", 1, WARD_USERNAME_MAX, &name))
        ward_resp_error(resp, 400, "invalid_username",
                        "username (a string) is required");
    else
        r = ward_api_account_named(api, name, resp, them);
    json_decref(body);
    return r;
}

/* Following and blocking take the same body (the other account's name)
 * and give the same answer: 201 when new, 200 when it already was. */
static int relate(ward_api *api, const ward_http_req *req,
                  ward_http_resp *resp, int block)
{
    ward_account me, them;
    if (ward_api_require_account(api, req, resp, &me) ||
        target_from_body(api, req, resp, &them))
        return WARD_API_DONE;
    if (me.id == them.id) {
        ward_resp_error(resp, 400, "self",
                        block ? "you cannot block yourself"
                              : "you cannot follow yourself");
        return WARD_API_DONE;
    }
    /* Blocking is never refused: it is how one gets out of reach. */
    if (!block &&
        ward_api_policy_check(api, &me, &them, WARD_ENTRY_FOLLOW, resp))
        return WARD_API_DONE;
    int created = 0;
    int64_t now = ward_api_now(api);
    ward_err e = block ? ward_store_block(api->st, me.id, me.age_band,
                                          them.id, now, &created)
                       : ward_store_follow(api->st, me.id, them.id, now,
                                           &created);
    if (e)
        ward_api_store_error(api, resp, e);
    else
        ward_resp_json(resp, created ? 201 : 200,
                       json_pack("{s:s}", "username", them.username));
    return WARD_API_DONE;
}

int ward_api_follow(ward_api *api, const ward_http_req *req,
                    ward_http_resp *resp)
{
    return relate(api, req, resp, 0);
}

int ward_api_block(ward_api *api, const ward_http_req *req,
                   ward_http_resp *resp)
{
    return relate(api, req, resp, 1);
}

int ward_api_unrelate(ward_api *api, const ward_http_req *req,
                      ward_http_resp *resp, int which, const char *username)
{
    ward_account me, them;
    if (ward_api_require_account(api, req, resp, &me) ||
        ward_api_account_named(api, username, resp, &them))
        return WARD_API_DONE;
    ward_err e = which == WARD_LIST_BLOCKED
                     ? ward_store_unblock(api->st, me.id, them.id)
                     : ward_store_unfollow(api->st, me.id, them.id);
    if (e == WARD_ERR_NOT_FOUND)
        ward_resp_error(resp, 404,
                        which == WARD_LIST_BLOCKED ? "not_blocked"
                                                   : "not_following",
                        which == WARD_LIST_BLOCKED
                            ? "you have not blocked that user"
                            : "you do not follow that user");
    else if (e)
        ward_api_store_error(api, resp, e);
    else
        resp->status = 204;
    return WARD_API_DONE;
}

static int add_name(void *ctx, int64_t id, const char *username)
{
    (void)id;
    return json_array_append_new(ctx, json_string(username)) ? 1 : 0;
}

int ward_api_graph(ward_api *api, const ward_http_req *req,
                   ward_http_resp *resp, int which)
{
    ward_account me;
    if (ward_api_require_account(api, req, resp, &me))
        return WARD_API_DONE;
    json_t *a = json_array(), *b = json_array();
    ward_err e = a && b ? WARD_OK : WARD_ERR_NOMEM;
    if (!e)
        e = ward_store_graph_list(api->st, me.id, which, add_name, a);
    if (!e && which == WARD_LIST_FOLLOWING)
        e = ward_store_graph_list(api->st, me.id, WARD_LIST_FOLLOWERS,
                                  add_name, b);
    if (e) {
        json_decref(a);
        json_decref(b);
        ward_api_store_error(api, resp, e);
        return WARD_API_DONE;
    }
    if (which == WARD_LIST_FOLLOWING)
        ward_resp_json(resp, 200,
                       json_pack("{s:o,s:o}", "following", a, "followers", b));
    else {
        json_decref(b);
        ward_resp_json(resp, 200, json_pack("{s:o}", "blocked", a));
    }
    return WARD_API_DONE;
}

int ward_api_find(ward_api *api, const ward_http_req *req,
                  ward_http_resp *resp, const char *username)
{
    ward_account me, them;
    if (ward_api_require_account(api, req, resp, &me) ||
        ward_api_account_named(api, username, resp, &them))
        return WARD_API_DONE;
    if (ward_api_policy_check(api, &me, &them, WARD_ENTRY_FIND, resp))
        return WARD_API_DONE;
    ward_store_relation r;
    ward_err e = ward_store_relation_get(api->st, me.id, them.id, &r);
    if (e) {
        ward_api_store_error(api, resp, e);
        return WARD_API_DONE;
    }
    ward_resp_json(resp, 200,
                   json_pack("{s:s,s:I,s:b,s:b}", "username", them.username,
                             "id", (json_int_t)them.id, "you_follow",
                             r.a_follows_b, "follows_you", r.b_follows_a));
    return WARD_API_DONE;
}

typedef struct suggest_ctx {
    ward_api *api;
    const ward_account *me;
    json_t *list;
    size_t want;
    ward_err e;
} suggest_ctx;

static int suggest_one(void *p, int64_t id, int shared)
{
    suggest_ctx *c = p;
    ward_account them;
    ward_verdict v;
    if (ward_store_account_by_id(c->api->st, id, &them) != WARD_OK ||
        ward_account_status(&them, ward_api_now(c->api)) != WARD_STATUS_ACTIVE)
        return 0;
    c->e = ward_api_policy(c->api, c->me, &them, WARD_ENTRY_SUGGEST, &v);
    if (c->e)
        return 1;
    if (v != WARD_ALLOW)
        return 0;
    json_array_append_new(c->list,
                          json_pack("{s:s,s:i}", "username", them.username,
                                    "shared", shared));
    return json_array_size(c->list) >= c->want;
}

/* Reads "limit=N" (1..max) from a query string; |*limit| stays if absent. */
static int parse_limit(const char *q, size_t max, size_t *limit)
{
    if (!q || !*q)
        return 0;
    char *end;
    if (strncmp(q, "limit=", 6) != 0 || q[6] < '1' || q[6] > '9')
        return -1;
    unsigned long v = strtoul(q + 6, &end, 10);
    if (*end || v > max)
        return -1;
    *limit = v;
    return 0;
}

int ward_api_suggestions(ward_api *api, const ward_http_req *req,
                         ward_http_resp *resp)
{
    ward_account me;
    if (ward_api_require_account(api, req, resp, &me))
        return WARD_API_DONE;
    size_t limit = api->cfg.max_suggestions < 20 ? api->cfg.max_suggestions
                                                 : 20;
    if (parse_limit(req->query, api->cfg.max_suggestions, &limit)) {
        char msg[80];
        snprintf(msg, sizeof msg, "the query may be limit=N, N from 1 to %zu",
                 api->cfg.max_suggestions);
        ward_resp_error(resp, 400, "invalid_query", msg);
        return WARD_API_DONE;
    }
    suggest_ctx c = {api, &me, json_array(), limit, WARD_OK};
    if (!c.list) {
        ward_api_store_error(api, resp, WARD_ERR_NOMEM);
        return WARD_API_DONE;
    }
    /* The policy filters candidates out, so look at more than are shown. */
    ward_err e = limit ? ward_store_suggestions(api->st, me.id, limit * 8 + 32,
                                                suggest_one, &c)
                       : WARD_OK;
    if (!e)
        e = c.e;
    if (e) {
        json_decref(c.list);
        ward_api_store_error(api, resp, e);
        return WARD_API_DONE;
    }
    ward_resp_json(resp, 200, json_pack("{s:o}", "suggestions", c.list));
    return WARD_API_DONE;
}

static int add_notice(void *ctx, const ward_notice *n)
{
    json_t *o = json_pack("{s:I,s:s,s:s,s:I}", "id", (json_int_t)n->id,
                          "kind", n->kind, "text", n->text, "created_at",
                          (json_int_t)n->created_at);
    return o && json_array_append_new(ctx, o) == 0 ? 0 : 1;
}

int ward_api_notices(ward_api *api, const ward_http_req *req,
                     ward_http_resp *resp)
{
    ward_account me;
    if (ward_api_require_account(api, req, resp, &me))
        return WARD_API_DONE;
    json_t *list = json_array();
    ward_err e = list ? ward_store_notice_list(api->st, me.id, add_notice, list)
                      : WARD_ERR_NOMEM;
    if (e) {
        json_decref(list);
        ward_api_store_error(api, resp, e);
        return WARD_API_DONE;
    }
    ward_resp_json(resp, 200, json_pack("{s:o}", "notices", list));
    return WARD_API_DONE;
}

int ward_api_notices_ack(ward_api *api, const ward_http_req *req,
                         ward_http_resp *resp, const char *id)
{
    ward_account me;
    if (ward_api_require_account(api, req, resp, &me))
        return WARD_API_DONE;
    char *end;
    long long upto = strtoll(id, &end, 10);
    if (*end || id[0] < '1' || id[0] > '9' || strlen(id) > 18) {
        ward_resp_error(resp, 400, "invalid_id", "a notice id is a number");
        return WARD_API_DONE;
    }
    ward_err e = ward_store_notice_ack(api->st, me.id, upto);
    if (e)
        ward_api_store_error(api, resp, e);
    else
        resp->status = 204;
    return WARD_API_DONE;
}
