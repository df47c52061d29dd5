/*
 * People: follow, unfollow, block, unblock, find by exact username, the
 * lists, suggestions ("people you may know", computed by the server) and
 * the account's privacy. Every server reply is checked against the API
 * before anything of it reaches the caller.
 */
#include <stdio.h>
#include <string.h>

#include "client_internal.h"

int ward_client_username_valid(const char *name)
{
    /* The server's rule (auth.c): the client may not depend on the server
     * module, and a name goes into a URL path, so it is checked here. */
    size_t n = name ? strlen(name) : 0;
    if (n < 3 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        int alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        if (!alnum && (i == 0 || (ch != '.' && ch != '_' && ch != '-')))
            return 0;
    }
    return 1;
}

ward_err ward_client_request(ward_client *c, const char *method,
                             const char *path, json_t *body, int ok1, int ok2,
                             int *status, json_t **reply, const char *who,
                             char *err, size_t errlen)
{
    json_t *r = NULL;
    int st = 0;
    *reply = NULL;
    ward_err e = ward_client_use_token(c, err, errlen);
    if (!e)
        e = ward_http_call(c->http, method, path, body, &st, &r, err, errlen);
    if (e) {
        json_decref(r);
        return e;
    }
    if (status)
        *status = st;
    if (st == ok1 || st == ok2) {
        *reply = r;
        return WARD_OK;
    }
    ward_client_server_error_about(r, st, who, err, errlen);
    json_decref(r);
    switch (st) {
    case 404:
        return WARD_ERR_NOT_FOUND;
    case 403:
        return WARD_ERR_FORBIDDEN;
    case 401:
    case 422: /* a report whose MACs did not verify */
        return WARD_ERR_AUTH;
    case 400:
        return WARD_ERR_INVALID_ARG;
    default:
        return WARD_ERR_IO;
    }
}

static ward_err check_name(const char *user, char *err, size_t errlen)
{
    if (ward_client_username_valid(user))
        return WARD_OK;
    if (err && errlen)
        snprintf(err, errlen,
                 "'%.40s' is not a username (3 to 32 of a-z, 0-9, '.', '_', "
                 "'-')",
                 user ? user : "");
    return WARD_ERR_INVALID_ARG;
}

static ward_err malformed(char *err, size_t errlen)
{
    if (err && errlen)
        snprintf(err, errlen, "the server's reply is malformed");
    return WARD_ERR_MALFORMED;
}

/* POST |collection| {"username": user}: 201 made, 200 already there. */
static ward_err add_to(ward_client *c, const char *collection,
                       const char *user, int *created, char *err,
                       size_t errlen)
{
    json_t *reply = NULL;
    int status = 0;
    ward_err e = check_name(user, err, errlen);
    json_t *body = e ? NULL : json_pack("{s:s}", "username", user);
    if (!e && !body)
        e = WARD_ERR_NOMEM;
    if (!e)
        e = ward_client_request(c, "POST", collection, body, 201, 200,
                                &status, &reply, user, err, errlen);
    if (!e && created)
        *created = status == 201;
    json_decref(body);
    json_decref(reply);
    return e;
}

/* DELETE |collection|/user: 204. */
static ward_err remove_from(ward_client *c, const char *collection,
                            const char *user, char *err, size_t errlen)
{
    char path[128];
    json_t *reply = NULL;
    ward_err e = check_name(user, err, errlen);
    if (e)
        return e;
    snprintf(path, sizeof path, "%s/%s", collection, user);
    e = ward_client_request(c, "DELETE", path, NULL, 204, 204, NULL, &reply,
                            user, err, errlen);
    json_decref(reply);
    return e;
}

ward_err ward_client_follow(ward_client *c, const char *user, int *created,
                            char *err, size_t errlen)
{
    return add_to(c, "/v1/follows", user, created, err, errlen);
}

ward_err ward_client_unfollow(ward_client *c, const char *user, char *err,
                              size_t errlen)
{
    return remove_from(c, "/v1/follows", user, err, errlen);
}

ward_err ward_client_block(ward_client *c, const char *user, int *created,
                           char *err, size_t errlen)
{
    return add_to(c, "/v1/blocks", user, created, err, errlen);
}

ward_err ward_client_unblock(ward_client *c, const char *user, char *err,
                             size_t errlen)
{
    return remove_from(c, "/v1/blocks", user, err, errlen);
}

/* Copies the username |v| into |dst| (64 bytes) if it is one. */
static int take_name(json_t *v, char *dst)
{
    const char *s = json_string_value(v);
    if (!s || !ward_client_username_valid(s))
        return -1;
    snprintf(dst, 64, "%s", s);
    return 0;
}

ward_err ward_client_parse_user(json_t *v, ward_client_user *out)
{
    ward_client_user u;
    memset(&u, 0, sizeof u);
    json_t *id = json_object_get(v, "id");
    json_t *yf = json_object_get(v, "you_follow");
    json_t *fy = json_object_get(v, "follows_you");
    if (take_name(json_object_get(v, "username"), u.username) ||
        !json_is_integer(id) || json_integer_value(id) <= 0 ||
        !json_is_boolean(yf) || !json_is_boolean(fy))
        return WARD_ERR_MALFORMED;
    u.id = json_integer_value(id);
    u.you_follow = json_is_true(yf);
    u.follows_you = json_is_true(fy);
    *out = u;
    return WARD_OK;
}

ward_err ward_client_find(ward_client *c, const char *user,
                          ward_client_user *out, char *err, size_t errlen)
{
    char path[128];
    json_t *reply = NULL;
    ward_err e = check_name(user, err, errlen);
    if (e)
        return e;
    snprintf(path, sizeof path, "/v1/users/%s", user);
    e = ward_client_request(c, "GET", path, NULL, 200, 200, NULL, &reply,
                            user, err, errlen);
    if (!e && ward_client_parse_user(reply, out))
        e = malformed(err, errlen);
    json_decref(reply);
    return e;
}

ward_err ward_client_parse_names(json_t *arr, int (*fn)(void *ctx,
                                                        const char *user),
                                 void *ctx)
{
    size_t i;
    json_t *v;
    char name[64];
    if (!json_is_array(arr))
        return WARD_ERR_MALFORMED;
    /* The whole list is checked before the first name is handed on. */
    json_array_foreach(arr, i, v) {
        if (take_name(v, name))
            return WARD_ERR_MALFORMED;
    }
    json_array_foreach(arr, i, v) {
        if (fn(ctx, json_string_value(v)))
            break;
    }
    return WARD_OK;
}

ward_err ward_client_contacts(ward_client *c, int which,
                              int (*fn)(void *ctx, const char *user),
                              void *ctx, char *err, size_t errlen)
{
    const char *path = which == WARD_CLIENT_BLOCKED ? "/v1/blocks"
                                                    : "/v1/follows";
    const char *key = which == WARD_CLIENT_FOLLOWING   ? "following"
                      : which == WARD_CLIENT_FOLLOWERS ? "followers"
                      : which == WARD_CLIENT_BLOCKED   ? "blocked"
                                                       : NULL;
    json_t *reply = NULL;
    if (!key || !fn)
        return WARD_ERR_INVALID_ARG;
    ward_err e = ward_client_request(c, "GET", path, NULL, 200, 200, NULL,
                                     &reply, NULL, err, errlen);
    if (!e && ward_client_parse_names(json_object_get(reply, key), fn, ctx))
        e = malformed(err, errlen);
    json_decref(reply);
    return e;
}

ward_err ward_client_parse_suggestions(json_t *reply,
                                       int (*fn)(void *ctx, const char *user,
                                                 int64_t shared),
                                       void *ctx)
{
    json_t *arr = json_object_get(reply, "suggestions"), *v;
    size_t i;
    char name[64];
    if (!json_is_array(arr))
        return WARD_ERR_MALFORMED;
    json_array_foreach(arr, i, v) {
        json_t *n = json_object_get(v, "shared");
        if (take_name(json_object_get(v, "username"), name) ||
            !json_is_integer(n) || json_integer_value(n) < 0)
            return WARD_ERR_MALFORMED;
    }
    json_array_foreach(arr, i, v) {
        if (fn(ctx, json_string_value(json_object_get(v, "username")),
               json_integer_value(json_object_get(v, "shared"))))
            break;
    }
    return WARD_OK;
}

ward_err ward_client_suggestions(ward_client *c, int limit,
                                 int (*fn)(void *ctx, const char *user,
                                           int64_t shared),
                                 void *ctx, char *err, size_t errlen)
{
    char path[64];
    json_t *reply = NULL;
    if (limit < 1 || limit > 100 || !fn) {
        if (err && errlen)
            snprintf(err, errlen, "the number of suggestions is 1 to 100");
        return WARD_ERR_INVALID_ARG;
    }
    snprintf(path, sizeof path, "/v1/suggestions?limit=%d", limit);
    ward_err e = ward_client_request(c, "GET", path, NULL, 200, 200, NULL,
                                     &reply, NULL, err, errlen);
    if (!e && ward_client_parse_suggestions(reply, fn, ctx))
        e = malformed(err, errlen);
    json_decref(reply);
    return e;
}

ward_err ward_client_parse_account(json_t *v, ward_client_account *out)
{
    ward_client_account a;
    memset(&a, 0, sizeof a);
    json_t *id = json_object_get(v, "id");
    json_t *priv = json_object_get(v, "private");
    json_t *created = json_object_get(v, "created_at");
    const char *band = json_string_value(json_object_get(v, "age_band"));
    const char *status = json_string_value(json_object_get(v, "status"));
    if (take_name(json_object_get(v, "username"), a.username) ||
        !json_is_integer(id) || json_integer_value(id) <= 0 ||
        !json_is_boolean(priv) || !band ||
        (strcmp(band, "minor") != 0 && strcmp(band, "adult") != 0) ||
        !status ||
        (strcmp(status, "active") != 0 && strcmp(status, "suspended") != 0 &&
         strcmp(status, "banned") != 0))
        return WARD_ERR_MALFORMED;
    a.id = json_integer_value(id);
    a.minor = strcmp(band, "minor") == 0;
    a.is_private = json_is_true(priv);
    snprintf(a.status, sizeof a.status, "%s", status);
    a.created_at = json_is_integer(created) ? json_integer_value(created) : 0;
    *out = a;
    return WARD_OK;
}

ward_err ward_client_account_get(ward_client *c, ward_client_account *out,
                                 char *err, size_t errlen)
{
    json_t *reply = NULL;
    ward_err e = ward_client_request(c, "GET", "/v1/accounts/me", NULL, 200,
                                     200, NULL, &reply, NULL, err, errlen);
    if (!e && ward_client_parse_account(reply, out))
        e = malformed(err, errlen);
    json_decref(reply);
    return e;
}

ward_err ward_client_set_private(ward_client *c, int on,
                                 ward_client_account *out, char *err,
                                 size_t errlen)
{
    json_t *reply = NULL;
    ward_client_account a;
    json_t *body = json_pack("{s:b}", "private", on ? 1 : 0);
    if (!body)
        return WARD_ERR_NOMEM;
    ward_err e = ward_client_request(c, "PATCH", "/v1/accounts/me", body, 200,
                                     200, NULL, &reply, NULL, err, errlen);
    json_decref(body);
    if (!e && ward_client_parse_account(reply, &a))
        e = malformed(err, errlen);
    /* The server's word, not ours: it may keep a minor's account private. */
    if (!e && out)
        *out = a;
    json_decref(reply);
    return e;
}
