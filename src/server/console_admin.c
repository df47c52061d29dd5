/*
 * The admin's side of the console: moderators (list, add, change role,
 * disable) and lifting a suspension or ban. Every handler asks for the
 * admin role first; a moderator gets 403 forbidden and nothing changes.
 */
#include <stdio.h>
#include <string.h>

#include "console_internal.h"
#include "ward/crypto.h"

static const char *role_name(int role)
{
    return role == WARD_ROLE_ADMIN ? "admin" : "moderator";
}

static int role_parse(const char *s)
{
    return !s                            ? 0
           : strcmp(s, "admin") == 0     ? WARD_ROLE_ADMIN
           : strcmp(s, "moderator") == 0 ? WARD_ROLE_MODERATOR
                                         : 0;
}

static json_t *moderator_json(const ward_moderator *m)
{
    return json_pack("{s:I,s:s,s:s,s:b,s:I}", "id", (json_int_t)m->id,
                     "name", m->name, "role", role_name(m->role), "disabled",
                     m->disabled != 0, "created_at",
                     (json_int_t)m->created_at);
}

static int on_moderator(void *ctx, const ward_moderator *m)
{
    json_t *o = moderator_json(m);
    return !o || json_array_append_new(ctx, o);
}

static int list(ward_api *api, const ward_http_req *req, ward_http_resp *resp)
{
    console_who who;
    if (console_require(api, req, resp, 1, &who))
        return WARD_API_DONE;
    json_t *arr = json_array();
    ward_err e = arr ? ward_store_moderator_list(api->st, on_moderator, arr)
                     : WARD_ERR_NOMEM;
    if (e) {
        json_decref(arr);
        ward_api_store_error(api, resp, e);
        return WARD_API_DONE;
    }
    ward_resp_json(resp, 200, json_pack("{s:o}", "moderators", arr));
    return WARD_API_DONE;
}

/* Moderator names follow the chat usernames' rule (a-z, 0-9, '.', '_',
 * '-'): they appear in the audit log and the page. */
static int add(ward_api *api, const ward_http_req *req, ward_http_resp *resp)
{
    static const char *const allowed[] = {"name", "password", "role", NULL};
    console_who who;
    const char *name, *pw, *role_s;
    int r = WARD_API_DONE;
    if (console_require(api, req, resp, 1, &who))
        return WARD_API_DONE;
    json_t *body = ward_api_body(req, resp, allowed);
    if (!body)
        return WARD_API_DONE;
    int role = 0;
    if (ward_json_str(body, "name", 1, WARD_MODERATOR_NAME_MAX, &name) ||
        !ward_auth_username_valid(name)) {
        ward_resp_error(resp, 400, "invalid_name",
                        "a name is 3 to 32 of a-z, 0-9, '.', '_', '-'");
        goto done;
    }
    const char *weak = "a password is a string";
    if (ward_json_str(body, "password", 1, WARD_PASSWORD_MAX, &pw) ||
        (weak = ward_console_password_weak(name, pw))) {
        ward_resp_error(resp, 400, "weak_password", weak);
        goto done;
    }
    if (ward_json_str(body, "role", 1, 16, &role_s) ||
        !(role = role_parse(role_s))) {
        ward_resp_error(resp, 400, "invalid_role",
                        "role is moderator or admin");
        goto done;
    }
    ward_moderator other;
    if (ward_store_moderator_by_name(api->st, name, &other) == WARD_OK) {
        ward_memzero(&other, sizeof other);
        ward_resp_error(resp, 409, "name_taken", "that name is taken");
        goto done;
    }
    console_job *j = console_job_new(api, CONSOLE_JOB_ADD, req->opaque,
                                     ward_api_now(api), pw, NULL);
    if (!j) {
        ward_resp_error(resp, 503, "busy", "out of memory");
        goto done;
    }
    j->role = role;
    j->moderator = who.mod.id;
    snprintf(j->name, sizeof j->name, "%s", name);
    r = ward_pwjob_run(api, &j->pw, resp);
done:
    json_decref(body);
    return r;
}

int console_admin_add_finish(ward_api *api, console_job *j,
                             ward_http_resp *resp)
{
    ward_moderator admin, m;
    int64_t id;
    if (j->pw.result) {
        ward_resp_error(resp, 500, "internal", "cannot hash the password");
        return -1;
    }
    /* The admin may have been disabled while the password was hashed. */
    ward_err e = ward_store_moderator_by_id(api->st, j->moderator, &admin);
    ward_memzero(admin.pwhash, sizeof admin.pwhash);
    if (e || admin.disabled || admin.role != WARD_ROLE_ADMIN) {
        ward_resp_error(resp, 403, "forbidden", "only an admin may do that");
        return -1;
    }
    e = ward_store_moderator_add(api->st, j->name, j->pw.hash, j->role,
                                 j->pw.now, &id);
    if (e == WARD_ERR_EXISTS) {
        ward_resp_error(resp, 409, "name_taken", "that name is taken");
        return -1;
    }
    if (!e)
        e = ward_store_moderator_by_id(api->st, id, &m);
    if (e) {
        ward_api_store_error(api, resp, e);
        return -1;
    }
    ward_memzero(m.pwhash, sizeof m.pwhash);
    char detail[96];
    snprintf(detail, sizeof detail, "%s (%s)", m.name, role_name(m.role));
    (void)console_audit(api, &admin, "add_moderator", 0, 0, detail);
    ward_resp_json(resp, 201, moderator_json(&m));
    return 0;
}

static int change(ward_api *api, const ward_http_req *req,
                  ward_http_resp *resp, int64_t id)
{
    static const char *const allowed[] = {"role", "disabled", NULL};
    console_who who;
    ward_moderator m;
    const char *role_s = NULL;
    if (console_require(api, req, resp, 1, &who))
        return WARD_API_DONE;
    json_t *body = ward_api_body(req, resp, allowed);
    if (!body)
        return WARD_API_DONE;
    json_t *dis = json_object_get(body, "disabled");
    if (ward_json_str(body, "role", 0, 16, &role_s) ||
        (role_s && !role_parse(role_s)) || (dis && !json_is_boolean(dis)) ||
        (!role_s && !dis)) {
        ward_resp_error(resp, 400, "invalid_request",
                        "give role (moderator or admin) and/or disabled "
                        "(true or false)");
        goto done;
    }
    ward_err e = ward_store_moderator_by_id(api->st, id, &m);
    ward_memzero(m.pwhash, sizeof m.pwhash);
    if (e == WARD_ERR_NOT_FOUND) {
        ward_resp_error(resp, 404, "no_such_moderator", "no such moderator");
        goto done;
    }
    if (e) {
        ward_api_store_error(api, resp, e);
        goto done;
    }
    int role = role_s ? role_parse(role_s) : m.role;
    int disabled = dis ? json_is_true(dis) : m.disabled;
    /* An admin who locks themselves out may leave nobody to undo it. */
    if (id == who.mod.id && (disabled || role != WARD_ROLE_ADMIN)) {
        ward_resp_error(resp, 409, "self",
                        "you cannot disable or demote yourself");
        goto done;
    }
    e = ward_store_moderator_set(api->st, id, role, disabled);
    if (e) {
        ward_api_store_error(api, resp, e);
        goto done;
    }
    char detail[128];
    snprintf(detail, sizeof detail, "%s: role %s, %s", m.name,
             role_name(role), disabled ? "disabled" : "enabled");
    (void)console_audit(api, &who.mod, "change_moderator", 0, 0, detail);
    m.role = role;
    m.disabled = disabled;
    ward_resp_json(resp, 200, moderator_json(&m));
done:
    json_decref(body);
    return WARD_API_DONE;
}

static int account_status(ward_api *api, const ward_http_req *req,
                          ward_http_resp *resp, int64_t id)
{
    static const char *const allowed[] = {"status", NULL};
    console_who who;
    const char *status;
    ward_account a;
    if (console_require(api, req, resp, 1, &who))
        return WARD_API_DONE;
    json_t *body = ward_api_body(req, resp, allowed);
    if (!body)
        return WARD_API_DONE;
    /* Suspending and banning go through a report's decision, so that
     * each has its evidence; here an admin only lifts them. */
    if (ward_json_str(body, "status", 1, 16, &status) ||
        strcmp(status, "active") != 0) {
        ward_resp_error(resp, 400, "invalid_status",
                        "status must be active (suspend and ban through a "
                        "report)");
        goto done;
    }
    ward_err e = ward_store_account_by_id(api->st, id, &a);
    ward_memzero(a.pwhash, sizeof a.pwhash);
    if (e == WARD_ERR_NOT_FOUND) {
        ward_resp_error(resp, 404, "no_such_account", "no such account");
        goto done;
    }
    if (!e)
        e = ward_api_set_account_status(api, id, WARD_STATUS_ACTIVE, 0);
    if (e) {
        ward_api_store_error(api, resp, e);
        goto done;
    }
    char detail[96];
    snprintf(detail, sizeof detail, "%s: active (was %s)", a.username,
             a.status == WARD_STATUS_BANNED      ? "banned"
             : a.status == WARD_STATUS_SUSPENDED ? "suspended"
                                                 : "active");
    (void)console_audit(api, &who.mod, "account_status", 0, id, detail);
    ward_resp_json(resp, 200,
                   json_pack("{s:I,s:s,s:s}", "id", (json_int_t)id,
                             "username", a.username, "status", "active"));
done:
    json_decref(body);
    return WARD_API_DONE;
}

/* "12" or "12/status" after a prefix: the id and the rest. */
static int split_id(const char *p, int64_t *id, const char **rest)
{
    char num[24];
    size_t n = strcspn(p, "/");
    if (n == 0 || n >= sizeof num)
        return -1;
    memcpy(num, p, n);
    num[n] = 0;
    *rest = p + n;
    return ward_console_int(num, 1, INT64_MAX, id);
}

int console_admin_route(ward_api *api, const ward_http_req *req,
                        ward_http_resp *resp, const char *rest)
{
    int get = strcmp(req->method, "GET") == 0;
    int post = strcmp(req->method, "POST") == 0;
    int64_t id;
    const char *tail;
    if (strcmp(rest, "moderators") == 0) {
        if (get)
            return list(api, req, resp);
        if (post)
            return add(api, req, resp);
        goto method;
    }
    if (strncmp(rest, "moderators/", 11) == 0 &&
        split_id(rest + 11, &id, &tail) == 0 && !*tail) {
        if (post)
            return change(api, req, resp, id);
        goto method;
    }
    if (strncmp(rest, "accounts/", 9) == 0 &&
        split_id(rest + 9, &id, &tail) == 0 && strcmp(tail, "/status") == 0) {
        if (post)
            return account_status(api, req, resp, id);
        goto method;
    }
    ward_resp_error(resp, 404, "no_route", "no such endpoint");
    return WARD_API_DONE;
method:
    ward_resp_error(resp, 405, "method_not_allowed",
                    "that method is not allowed here");
    return WARD_API_DONE;
}
