/*
 * Groups over the API: create, list, details, add, remove, leave, roles,
 * and this device's view of each group's membership (group_state.c),
 * brought up to date from GET /v1/groups/{id}. Sending is group_send.c's,
 * receiving group_recv.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "group_internal.h"

void ward_client_set_note_hook(ward_client *c,
                               void (*fn)(void *ctx, const char *text),
                               void *ctx)
{
    c->note = fn;
    c->note_ctx = ctx;
}

void ward_client_note(ward_client *c, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    if (!c->note)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    c->note(c->note_ctx, text);
}

ward_err ward_client_group_name(ward_client *c, int64_t id, char *out,
                                size_t cap)
{
    gs_group g;
    ward_err e = ward_gs_get(c->state, id, &g);
    if (!e && !g.name[0])
        e = WARD_ERR_NOT_FOUND;
    if (!e && strlen(g.name) >= cap)
        e = WARD_ERR_TOO_BIG;
    if (!e)
        memcpy(out, g.name, strlen(g.name) + 1);
    return e;
}

/* How the group is named in a sentence: its name as kept, else its id. */
static void label_of(ward_client *c, int64_t gid, char *out, size_t cap)
{
    gs_group g;
    if (ward_gs_get(c->state, gid, &g) == WARD_OK && g.name[0])
        snprintf(out, cap, "\"%s\"", g.name);
    else
        snprintf(out, cap, "%lld", (long long)gid);
}

/* One exchange about group |gid| (0: none yet): WARD_OK for status |ok|
 * (|*reply| is then the caller's), else the refusal's sentence, about the
 * group or about |user| as the code concerns, and its error code. */
static ward_err refusal(ward_client *c, int st, json_t *r, int64_t gid,
                        const char *user, char *err, size_t errlen);

static ward_err group_call(ward_client *c, const char *method,
                           const char *path, json_t *body, int ok,
                           json_t **reply, int64_t gid, const char *user,
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
    if (st == ok) {
        *reply = r;
        return WARD_OK;
    }
    return refusal(c, st, r, gid, user, err, errlen);
}

/* A refused call's status |st| and reply |r| (decref'd here) as an error
 * and a sentence. */
static ward_err refusal(ward_client *c, int st, json_t *r, int64_t gid,
                        const char *user, char *err, size_t errlen)
{
    const char *code = ward_http_error_code(r);
    char label[300];
    int about_group = strcmp(code, "no_such_group") == 0 ||
                      strcmp(code, "not_admin") == 0 ||
                      strcmp(code, "group_full") == 0 ||
                      strcmp(code, "no_avatar") == 0;
    if (about_group)
        label_of(c, gid, label, sizeof label);
    ward_client_server_error_about(r, st, about_group ? label : user, err,
                                   errlen);
    /* |code| points into |r|. */
    ward_err conflict = strcmp(code, "already_member") == 0 ? WARD_ERR_EXISTS
                        : strcmp(code, "group_full") == 0   ? WARD_ERR_LIMIT
                                                            : WARD_ERR_CONFLICT;
    json_decref(r);
    switch (st) {
    case 404:
        return WARD_ERR_NOT_FOUND;
    case 403:
        return WARD_ERR_FORBIDDEN;
    case 401:
        return WARD_ERR_AUTH;
    case 400:
        return WARD_ERR_INVALID_ARG;
    case 413:
        return WARD_ERR_LIMIT;
    case 409:
        return conflict;
    default:
        return WARD_ERR_IO;
    }
}

static ward_err malformed(char *err, size_t errlen)
{
    if (err && errlen)
        snprintf(err, errlen, "the server's reply is malformed");
    return WARD_ERR_MALFORMED;
}

/* A string or null into |out| ("" for null); -1 for anything else or a
 * string that does not fit. */
static int str_or_null(json_t *v, char *out, size_t cap)
{
    if (json_is_null(v)) {
        out[0] = 0;
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) >= cap)
        return -1;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static int parse_group(json_t *v, ward_client_group *out)
{
    ward_client_group g;
    memset(&g, 0, sizeof g);
    json_t *id = json_object_get(v, "id");
    json_t *name = json_object_get(v, "name");
    json_t *at = json_object_get(v, "created_at");
    json_t *ep = json_object_get(v, "epoch");
    const char *role = json_string_value(json_object_get(v, "role"));
    if (!json_is_integer(id) || json_integer_value(id) <= 0 ||
        !json_is_string(name) || str_or_null(name, g.name, sizeof g.name) ||
        str_or_null(json_object_get(v, "description"), g.description,
                    sizeof g.description) ||
        str_or_null(json_object_get(v, "created_by"), g.created_by,
                    sizeof g.created_by) ||
        (json_object_get(v, "avatar") &&
         str_or_null(json_object_get(v, "avatar"), g.avatar,
                     sizeof g.avatar)) ||
        !json_is_integer(at) || !json_is_integer(ep) ||
        json_integer_value(ep) < 0 || !role ||
        (strcmp(role, "admin") != 0 && strcmp(role, "member") != 0) ||
        (g.created_by[0] && !ward_client_username_valid(g.created_by)))
        return -1;
    g.id = json_integer_value(id);
    g.created_at = json_integer_value(at);
    g.epoch = json_integer_value(ep);
    g.admin = strcmp(role, "admin") == 0;
    *out = g;
    return 0;
}

static int parse_member(json_t *v, ward_client_group_member *out)
{
    ward_client_group_member m;
    memset(&m, 0, sizeof m);
    json_t *user = json_object_get(v, "username");
    json_t *id = json_object_get(v, "id");
    json_t *at = json_object_get(v, "joined_at");
    const char *role = json_string_value(json_object_get(v, "role"));
    if (!json_is_string(user) ||
        str_or_null(user, m.username, sizeof m.username) ||
        !json_is_integer(id) || json_integer_value(id) <= 0 ||
        !json_is_integer(at) ||
        str_or_null(json_object_get(v, "added_by"), m.added_by,
                    sizeof m.added_by) ||
        !role || (strcmp(role, "admin") != 0 && strcmp(role, "member") != 0))
        return -1;
    /* Names go into request paths, state keys and the terminal. */
    if (!ward_client_username_valid(m.username) ||
        (m.added_by[0] && !ward_client_username_valid(m.added_by)))
        return -1;
    m.id = json_integer_value(id);
    m.joined_at = json_integer_value(at);
    m.admin = strcmp(role, "admin") == 0;
    *out = m;
    return 0;
}

/* Keeps what a group's answer (with its members) says: its name, its
 * members and their epoch. */
static ward_err keep_view(ward_client *c, const ward_client_group *g,
                          json_t *members)
{
    size_t n = json_array_size(members);
    gs_member *arr = calloc(n ? n : 1, sizeof *arr);
    if (!arr)
        return WARD_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        ward_client_group_member m;
        if (parse_member(json_array_get(members, i), &m)) {
            free(arr);
            return WARD_ERR_MALFORMED;
        }
        arr[i].account = m.id;
        memcpy(arr[i].username, m.username, sizeof arr[i].username);
        arr[i].joined_at = m.joined_at;
    }
    ward_err e = ward_client_state_begin(c->state);
    if (!e)
        e = ward_gs_set_name(c->state, g->id, g->name);
    if (!e)
        e = ward_gs_set_members(c->state, g->id, g->epoch, arr, n);
    e = e ? (ward_client_state_rollback(c->state), e)
          : ward_client_state_commit(c->state);
    free(arr);
    return e;
}

/* GET /v1/groups/{id}: |*reply| the caller's. A group gone for us
 * (404) is not forgotten here: its keys stay until its removal event is
 * handled, as messages sent before the removal may still be queued
 * ahead of it. */
static ward_err fetch(ward_client *c, int64_t gid, ward_client_group *g,
                      json_t **reply, char *err, size_t errlen)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/groups/%lld", (long long)gid);
    ward_err e = group_call(c, "GET", path, NULL, 200, reply, gid, NULL, err,
                            errlen);
    if (e)
        return e;
    json_t *members = json_object_get(*reply, "members");
    if (parse_group(*reply, g) || g->id != gid || !json_is_array(members)) {
        json_decref(*reply);
        *reply = NULL;
        return malformed(err, errlen);
    }
    e = keep_view(c, g, members);
    if (e == WARD_ERR_MALFORMED) {
        json_decref(*reply);
        *reply = NULL;
        return malformed(err, errlen);
    }
    if (e && err && errlen)
        snprintf(err, errlen, "cannot update the local state");
    return e;
}

ward_err ward_client_group_refresh(ward_client *c, int64_t gid,
                                   gs_group *out, char *err, size_t errlen)
{
    ward_client_group g;
    json_t *reply = NULL;
    ward_err e = fetch(c, gid, &g, &reply, err, errlen);
    json_decref(reply);
    if (!e && out)
        e = ward_gs_get(c->state, gid, out);
    return e;
}

void ward_client_group_learn_name(ward_client *c, int64_t gid)
{
    ward_client_group g;
    json_t *reply = NULL;
    (void)fetch(c, gid, &g, &reply, NULL, 0);
    json_decref(reply);
}

ward_err ward_client_group_get(ward_client *c, int64_t id,
                               ward_client_group *out,
                               int (*fn)(void *ctx,
                                         const ward_client_group_member *m),
                               void *ctx, char *err, size_t errlen)
{
    ward_client_group g;
    json_t *reply = NULL;
    if (id <= 0) {
        if (err && errlen)
            snprintf(err, errlen, "a group id is a positive number");
        return WARD_ERR_INVALID_ARG;
    }
    ward_err e = fetch(c, id, &g, &reply, err, errlen);
    if (e)
        return e;
    if (out)
        *out = g;
    json_t *members = json_object_get(reply, "members");
    for (size_t i = 0; fn && i < json_array_size(members); i++) {
        ward_client_group_member m;
        if (parse_member(json_array_get(members, i), &m) == 0 && fn(ctx, &m))
            break;
    }
    json_decref(reply);
    return WARD_OK;
}

/* Characters of UTF-8 |s|. */
static size_t chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* The server's rules for a name (1 to 64 characters, no control
 * characters) and a description (up to 500, line breaks and tabs too). */
static int text_ok(const char *s, size_t max, int multiline)
{
    json_t *v = json_string(s); /* NULL: not UTF-8 */
    json_decref(v);
    if (!v)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && !(multiline && (*p == '\n' || *p == '\t'))) ||
            *p == 0x7f)
            return 0;
    return chars(s) <= max;
}

ward_err ward_client_group_create(ward_client *c, const char *name,
                                  const char *description,
                                  const char *const *members, size_t n,
                                  ward_client_group *out, char *err,
                                  size_t errlen)
{
    if (!name || !name[0] || !text_ok(name, WARD_CLIENT_GROUP_NAME_MAX, 0)) {
        if (err && errlen)
            snprintf(err, errlen, "a group's name is 1 to %d characters of "
                                  "text, without control characters",
                     WARD_CLIENT_GROUP_NAME_MAX);
        return WARD_ERR_INVALID_ARG;
    }
    if (description &&
        !text_ok(description, WARD_CLIENT_GROUP_DESC_MAX, 1)) {
        if (err && errlen)
            snprintf(err, errlen, "a group's description is at most %d "
                                  "characters of text",
                     WARD_CLIENT_GROUP_DESC_MAX);
        return WARD_ERR_INVALID_ARG;
    }
    for (size_t i = 0; i < n; i++) {
        if (!ward_client_username_valid(members[i])) {
            if (err && errlen)
                snprintf(err, errlen, "'%.40s' is not a username",
                         members[i] ? members[i] : "");
            return WARD_ERR_INVALID_ARG;
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(members[k], members[i]) == 0) {
                if (err && errlen)
                    snprintf(err, errlen, "%s is listed twice", members[i]);
                return WARD_ERR_INVALID_ARG;
            }
    }
    json_t *list = json_array(), *reply = NULL;
    for (size_t i = 0; list && i < n; i++)
        if (json_array_append_new(list, json_string(members[i]))) {
            json_decref(list);
            list = NULL;
        }
    json_t *body = list ? json_pack("{s:s,s:o}", "name", name, "members",
                                    list)
                        : NULL;
    if (body && description &&
        json_object_set_new(body, "description", json_string(description))) {
        json_decref(body);
        body = NULL;
    }
    if (!body)
        return WARD_ERR_NOMEM;
    /* A refusal names the member refused ("username" in the error). */
    ward_err e = WARD_OK;
    {
        json_t *r = NULL;
        int st = 0;
        e = ward_client_use_token(c, err, errlen);
        if (!e)
            e = ward_http_call(c->http, "POST", "/v1/groups", body, &st, &r,
                               err, errlen);
        if (!e && st != 201) {
            const char *who = json_string_value(json_object_get(
                json_object_get(r, "error"), "username"));
            /* A policy refusal names the member; an unknown name is not
             * named (with one member, it is that one). */
            if (!who && n == 1)
                who = members[0];
            if (!who && strcmp(ward_http_error_code(r), "no_such_user") == 0)
                snprintf(err, errlen, "one of the members listed is not a "
                                      "user: check the names");
            else
                ward_client_server_error_about(r, st, who, err, errlen);
            e = st == 404   ? WARD_ERR_NOT_FOUND
                : st == 403 ? WARD_ERR_FORBIDDEN
                : st == 400 ? WARD_ERR_INVALID_ARG
                : st == 413 ? WARD_ERR_LIMIT
                : st == 401 ? WARD_ERR_AUTH
                            : WARD_ERR_IO;
            json_decref(r);
            r = NULL;
        }
        reply = r;
    }
    json_decref(body);
    if (e)
        return e;
    ward_client_group g;
    json_t *mem = json_object_get(reply, "members");
    if (parse_group(reply, &g) || !json_is_array(mem)) {
        json_decref(reply);
        return malformed(err, errlen);
    }
    /* A failure to keep the view is not the creation's: the next send
     * asks the server again. */
    (void)keep_view(c, &g, mem);
    json_decref(reply);
    if (out)
        *out = g;
    return WARD_OK;
}

ward_err ward_client_groups(ward_client *c,
                            int (*fn)(void *ctx, const ward_client_group *g),
                            void *ctx, char *err, size_t errlen)
{
    json_t *reply = NULL;
    ward_err e = group_call(c, "GET", "/v1/groups", NULL, 200, &reply, 0,
                            NULL, err, errlen);
    if (e)
        return e;
    json_t *list = json_object_get(reply, "groups");
    ward_client_group *all = NULL;
    size_t n = json_array_size(list);
    if (!json_is_array(list) || !(all = calloc(n ? n : 1, sizeof *all))) {
        json_decref(reply);
        return json_is_array(list) ? WARD_ERR_NOMEM : malformed(err, errlen);
    }
    /* The whole answer is checked before |fn| sees any of it. */
    for (size_t i = 0; i < n; i++)
        if (parse_group(json_array_get(list, i), &all[i])) {
            free(all);
            json_decref(reply);
            return malformed(err, errlen);
        }
    json_decref(reply);
    for (size_t i = 0; i < n; i++) {
        (void)ward_gs_set_name(c->state, all[i].id, all[i].name);
        if (fn && fn(ctx, &all[i]))
            break;
    }
    free(all);
    return WARD_OK;
}

typedef struct resolve_ctx {
    const char *name;
    int64_t id;
    size_t hits;
} resolve_ctx;

static int match_name(void *p, const ward_client_group *g)
{
    resolve_ctx *r = p;
    if (strcmp(g->name, r->name) == 0) {
        r->id = g->id;
        r->hits++;
    }
    return 0;
}

ward_err ward_client_group_resolve(ward_client *c, const char *which,
                                   int64_t *id, char *err, size_t errlen)
{
    if (!which || !which[0]) {
        if (err && errlen)
            snprintf(err, errlen, "no group named");
        return WARD_ERR_INVALID_ARG;
    }
    size_t len = strlen(which), digits = strspn(which, "0123456789");
    if (digits == len) {
        if (len > 18 || which[0] == '0') {
            if (err && errlen)
                snprintf(err, errlen, "'%.40s' is not a group id", which);
            return WARD_ERR_INVALID_ARG;
        }
        *id = strtoll(which, NULL, 10);
        return WARD_OK;
    }
    resolve_ctx r = {which, 0, 0};
    ward_err e = ward_client_groups(c, match_name, &r, err, errlen);
    if (e)
        return e;
    if (r.hits == 0) {
        if (err && errlen)
            snprintf(err, errlen,
                     "you are in no group named '%.200s' (see 'ward group "
                     "ls')",
                     which);
        return WARD_ERR_NOT_FOUND;
    }
    if (r.hits > 1) {
        if (err && errlen)
            snprintf(err, errlen,
                     "%zu of your groups are named '%.200s': give the id "
                     "(see 'ward group ls')",
                     r.hits, which);
        return WARD_ERR_INVALID_ARG;
    }
    *id = r.id;
    return WARD_OK;
}

static ward_err check_args(int64_t gid, const char *user, char *err,
                           size_t errlen)
{
    if (gid <= 0) {
        if (err && errlen)
            snprintf(err, errlen, "a group id is a positive number");
        return WARD_ERR_INVALID_ARG;
    }
    if (user && !ward_client_username_valid(user)) {
        if (err && errlen)
            snprintf(err, errlen,
                     "'%.40s' is not a username (3 to 32 of a-z, 0-9, '.', "
                     "'_', '-')",
                     user);
        return WARD_ERR_INVALID_ARG;
    }
    return WARD_OK;
}

ward_err ward_client_group_add(ward_client *c, int64_t id, const char *user,
                               char *err, size_t errlen)
{
    char path[64];
    json_t *reply = NULL;
    ward_err e = check_args(id, user, err, errlen);
    if (e)
        return e;
    json_t *body = json_pack("{s:s}", "username", user);
    if (!body)
        return WARD_ERR_NOMEM;
    snprintf(path, sizeof path, "/v1/groups/%lld/members", (long long)id);
    e = group_call(c, "POST", path, body, 201, &reply, id, user, err, errlen);
    json_decref(body);
    json_decref(reply);
    if (e)
        return e;
    /* The newcomer gets our key now (if we have one), so that it can read
     * what we send next; failing that, our next send hands it over. */
    char why[512];
    if (ward_client_group_refresh(c, id, NULL, why, sizeof why) == WARD_OK)
        (void)ward_client_group_distribute(c, id, NULL, why, sizeof why);
    return WARD_OK;
}

ward_err ward_client_group_remove(ward_client *c, int64_t id,
                                  const char *user, char *err, size_t errlen)
{
    char path[128];
    json_t *reply = NULL;
    ward_err e = check_args(id, user, err, errlen);
    if (e)
        return e;
    snprintf(path, sizeof path, "/v1/groups/%lld/members/%s", (long long)id,
             user);
    e = group_call(c, "DELETE", path, NULL, 200, &reply, id, user, err,
                   errlen);
    if (e) {
        json_decref(reply);
        return e;
    }
    json_t *ep = json_object_get(reply, "epoch");
    int self = strcmp(user, c->username) == 0;
    /* Our key is rotated before our next message: the removed member
     * holds the current one. (Our own name is leaving.) */
    if (self)
        (void)ward_gs_forget(c->state, id);
    else if (json_is_integer(ep))
        (void)ward_gs_note_epoch(c->state, id, json_integer_value(ep), 1);
    json_decref(reply);
    return WARD_OK;
}

ward_err ward_client_group_leave(ward_client *c, int64_t id, int block,
                                 char *blocked, char *err, size_t errlen)
{
    char path[64];
    json_t *reply = NULL;
    ward_err e = check_args(id, NULL, err, errlen);
    if (e)
        return e;
    json_t *body = json_pack("{s:b}", "block", block ? 1 : 0);
    if (!body)
        return WARD_ERR_NOMEM;
    snprintf(path, sizeof path, "/v1/groups/%lld/leave", (long long)id);
    e = group_call(c, "POST", path, body, 200, &reply, id, NULL, err, errlen);
    json_decref(body);
    if (e)
        return e;
    if (blocked) {
        json_t *b = json_object_get(reply, "blocked");
        if (str_or_null(b ? b : json_null(), blocked, 64) ||
            !ward_client_username_valid(blocked))
            blocked[0] = 0;
    }
    json_decref(reply);
    /* Out of the group: its keys (ours and everyone's) go. */
    (void)ward_gs_forget(c->state, id);
    return WARD_OK;
}

ward_err ward_client_group_set_role(ward_client *c, int64_t id,
                                    const char *user, int admin, char *err,
                                    size_t errlen)
{
    char path[128];
    json_t *reply = NULL;
    ward_err e = check_args(id, user, err, errlen);
    if (e)
        return e;
    json_t *body = json_pack("{s:s}", "role", admin ? "admin" : "member");
    if (!body)
        return WARD_ERR_NOMEM;
    snprintf(path, sizeof path, "/v1/groups/%lld/members/%s", (long long)id,
             user);
    e = group_call(c, "PATCH", path, body, 200, &reply, id, user, err,
                   errlen);
    json_decref(body);
    json_decref(reply);
    return e;
}

/* ---- the avatar ---- */

typedef struct mem_reader {
    const uint8_t *p;
    size_t n, at;
} mem_reader;

static size_t read_mem(char *buf, size_t size, size_t n, void *ctx)
{
    mem_reader *m = ctx;
    size_t k = size * n;
    if (k > m->n - m->at)
        k = m->n - m->at;
    memcpy(buf, m->p + m->at, k);
    m->at += k;
    return k;
}

ward_err ward_client_group_set_avatar(ward_client *c, int64_t id,
                                      const uint8_t *image, size_t n,
                                      char *err, size_t errlen)
{
    char url[96];
    json_t *reply = NULL;
    int st = 0;
    snprintf(url, sizeof url, "/v1/groups/%lld/avatar", (long long)id);
    if (id <= 0) {
        if (err && errlen)
            snprintf(err, errlen, "a group id is a positive number");
        return WARD_ERR_INVALID_ARG;
    }
    if (!image) {
        ward_err e = group_call(c, "DELETE", url, NULL, 200, &reply, id, NULL,
                                err, errlen);
        json_decref(reply);
        return e;
    }
    ward_err e = ward_client_use_token(c, err, errlen);
    if (!e) {
        mem_reader m = {image, n, 0};
        e = ward_http_put(c->http, url, n, read_mem, &m, &st, &reply, err,
                          errlen);
    }
    if (e) {
        json_decref(reply);
        return e;
    }
    if (st == 200) {
        json_decref(reply);
        return WARD_OK;
    }
    return refusal(c, st, reply, id, NULL, err, errlen);
}

static size_t write_file(char *buf, size_t size, size_t n, void *ctx)
{
    return fwrite(buf, size, n, ctx) * size;
}

ward_err ward_client_group_save_avatar(ward_client *c, int64_t id,
                                       const char *path, char *err,
                                       size_t errlen)
{
    char url[96];
    json_t *reply = NULL;
    int st = 0;
    snprintf(url, sizeof url, "/v1/groups/%lld/avatar", (long long)id);
    ward_err e = ward_client_use_token(c, err, errlen);
    if (e)
        return e;
    /* 0600 and never over a file that is there: written beside, then
     * linked to |path| once whole (which fails if |path| exists). */
    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.part", path) >= sizeof tmp) {
        if (err && errlen)
            snprintf(err, errlen, "the path is too long");
        return WARD_ERR_INVALID_ARG;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        if (err && errlen)
            snprintf(err, errlen, "cannot write '%s': %s", tmp,
                     strerror(errno));
        if (fd >= 0)
            close(fd);
        return WARD_ERR_IO;
    }
    e = ward_http_download(c->http, url, write_file, f, &st, &reply, err,
                           errlen);
    int closed = fclose(f);
    if (!e && st == 200 && closed == 0 && link(tmp, path) == 0) {
        unlink(tmp);
        json_decref(reply);
        return WARD_OK;
    }
    int saved_errno = errno;
    unlink(tmp);
    if (e) {
        json_decref(reply);
        return e;
    }
    if (st == 200) {
        if (err && errlen)
            snprintf(err, errlen, "cannot write '%s': %s", path,
                     strerror(saved_errno));
        json_decref(reply);
        return WARD_ERR_IO;
    }
    return refusal(c, st, reply, id, NULL, err, errlen);
}
