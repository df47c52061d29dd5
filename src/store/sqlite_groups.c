/* Groups: details, membership (the epoch moves on in the schema's
 * triggers), membership spans for reports, and the events members get. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_internal.h"

static ward_err fk_or(ward_store *st, ward_err e)
{
    if (e == WARD_ERR_STORE &&
        sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
        return WARD_ERR_NOT_FOUND;
    return e;
}

static ward_err epoch_of(ward_store *st, int64_t group, int64_t *epoch)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_GROUP_EPOCH);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, group);
    int rc = sqlite3_step(s);
    ward_err e = WARD_ERR_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        *epoch = sqlite3_column_int64(s, 0);
        e = WARD_OK;
    } else if (rc != SQLITE_DONE) {
        e = ward_sql_fail(st, "group epoch");
    }
    sqlite3_reset(s);
    return e;
}

/* ---- events ---- */

typedef struct event {
    int64_t group;
    const char *kind;  /* "added", ... */
    int64_t actor;
    int64_t target;    /* 0: none */
    const char *role;  /* "role" events */
    int64_t now;
    size_t max_queue;
} event;

/* Queues |ev| for |to| (inside the transaction). A full queue misses it:
 * the member learns of the change from its next refused send. */
static ward_err event_to(ward_store *st, const event *ev, int64_t to,
                         const ward_account *actor, const char *body)
{
    ward_store_msg m;
    memset(&m, 0, sizeof m);
    m.recipient = to;
    m.sender = actor->id;
    memcpy(m.sender_name, actor->username, sizeof m.sender_name);
    m.type = WARD_MSG_GROUP_EVENT;
    m.server_time = ev->now;
    m.body = (const uint8_t *)body;
    m.body_len = strlen(body);
    m.group_id = ev->group;
    ward_err e = ward_sql_queue_one(st, &m, ev->max_queue);
    return e == WARD_ERR_LIMIT || e == WARD_ERR_NOT_FOUND ? WARD_OK : e;
}

/* The event's body. Usernames are [a-z0-9._-] (checked at registration),
 * so they need no escaping. */
static ward_err event_body(ward_store *st, const event *ev,
                           ward_account *actor, char *out, size_t cap)
{
    int64_t epoch = 0;
    ward_err e = ward_store_account_by_id(st, ev->actor, actor);
    if (!e)
        e = epoch_of(st, ev->group, &epoch);
    if (e)
        return e;
    int n = snprintf(out, cap,
                     "{\"group\":%lld,\"event\":\"%s\",\"epoch\":%lld,"
                     "\"actor\":\"%s\",\"actor_id\":%lld",
                     (long long)ev->group, ev->kind, (long long)epoch,
                     actor->username, (long long)actor->id);
    if (n < 0 || (size_t)n >= cap)
        return WARD_ERR_INTERNAL;
    if (ev->target) {
        ward_account t;
        e = ward_store_account_by_id(st, ev->target, &t);
        if (e)
            return e;
        n += snprintf(out + n, cap - (size_t)n,
                      ",\"target\":\"%s\",\"target_id\":%lld", t.username,
                      (long long)t.id);
        if ((size_t)n >= cap)
            return WARD_ERR_INTERNAL;
    }
    if (ev->role) {
        n += snprintf(out + n, cap - (size_t)n, ",\"role\":\"%s\"", ev->role);
        if ((size_t)n >= cap)
            return WARD_ERR_INTERNAL;
    }
    if ((size_t)snprintf(out + n, cap - (size_t)n, "}") >= cap - (size_t)n)
        return WARD_ERR_INTERNAL;
    return WARD_OK;
}

/* |ev| to every member but the actor, and to |also| (0: nobody else). */
static ward_err event_all(ward_store *st, const event *ev, int64_t also)
{
    char body[256];
    ward_account actor;
    ward_err e = event_body(st, ev, &actor, body, sizeof body);
    if (e)
        return e;
    /* The members first, then the queueing (which runs statements of its
     * own). */
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *s = ward_sql_stmt(st, S_GMEMBER_LIST);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, ev->group);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(s, 0);
        if (id == ev->actor)
            continue;
        if (n == cap) {
            size_t c = cap ? cap * 2 : 64;
            int64_t *p = realloc(ids, c * sizeof *ids);
            if (!p) {
                e = WARD_ERR_NOMEM;
                break;
            }
            ids = p, cap = c;
        }
        ids[n++] = id;
    }
    if (!e && rc != SQLITE_DONE)
        e = ward_sql_fail(st, "group members");
    sqlite3_reset(s);
    for (size_t i = 0; !e && i < n; i++)
        e = event_to(st, ev, ids[i], &actor, body);
    free(ids);
    if (!e && also && also != ev->actor)
        e = event_to(st, ev, also, &actor, body);
    return e;
}

/* ---- membership ---- */

static ward_err member_insert(ward_store *st, int64_t group, int64_t account,
                              int role, int64_t added_by, int64_t now)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_GMEMBER_INSERT);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, group);
    sqlite3_bind_int64(s, 2, account);
    sqlite3_bind_int(s, 3, role);
    sqlite3_bind_int64(s, 4, added_by);
    sqlite3_bind_int64(s, 5, now);
    ward_err e = fk_or(st, ward_sql_exec(st, s, "group member insert"));
    if (e)
        return e;
    s = ward_sql_stmt(st, S_GSPAN_OPEN);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, group);
    sqlite3_bind_int64(s, 2, account);
    sqlite3_bind_int64(s, 3, now);
    return ward_sql_exec(st, s, "group span");
}

static ward_err finish(ward_store *st, ward_err e)
{
    if (e) {
        ward_sql_rollback(st);
        return e;
    }
    return ward_sql_commit(st);
}

static int utf8_ok_len(const char *s, size_t max_chars)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n <= max_chars;
}

static int group_fields_ok(const char *name, const char *description,
                           const char *avatar)
{
    return (!name || (name[0] && utf8_ok_len(name, WARD_GROUP_NAME_MAX))) &&
           (!description || utf8_ok_len(description, WARD_GROUP_DESC_MAX)) &&
           (!avatar || strlen(avatar) <= WARD_BLOB_ID_LEN);
}

ward_err ward_store_group_create(ward_store *st, ward_group *g,
                                 const int64_t *members, size_t n,
                                 const char *const *notices,
                                 size_t max_queue)
{
    if (!group_fields_ok(g->name, g->description, g->avatar))
        return WARD_ERR_INVALID_ARG;
    ward_err e = ward_sql_begin(st);
    if (e)
        return e;
    sqlite3_stmt *s = ward_sql_stmt(st, S_GROUP_INSERT);
    if (!s)
        return finish(st, WARD_ERR_STORE);
    sqlite3_bind_text(s, 1, g->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, g->description, -1, SQLITE_STATIC);
    if (g->avatar[0])
        sqlite3_bind_text(s, 3, g->avatar, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, g->created_by);
    sqlite3_bind_int64(s, 5, g->created_at);
    e = ward_sql_exec(st, s, "group insert");
    if (e)
        return finish(st, e);
    int64_t id = sqlite3_last_insert_rowid(st->db);
    e = member_insert(st, id, g->created_by, WARD_GROUP_ADMIN, g->created_by,
                      g->created_at);
    for (size_t i = 0; !e && i < n; i++)
        e = member_insert(st, id, members[i], WARD_GROUP_MEMBER,
                          g->created_by, g->created_at);
    /* Each member is told who added it, only it being the target. */
    event ev = {id, "created", g->created_by, 0, NULL, g->created_at,
                max_queue};
    for (size_t i = 0; !e && i < n; i++) {
        char body[256];
        ward_account actor;
        ev.target = members[i];
        e = event_body(st, &ev, &actor, body, sizeof body);
        if (!e)
            e = event_to(st, &ev, members[i], &actor, body);
        if (!e && notices && notices[i])
            e = ward_store_notice_add(st, members[i], "group_added",
                                      notices[i], g->created_at);
    }
    int64_t epoch = 0;
    if (!e)
        e = epoch_of(st, id, &epoch);
    e = finish(st, e);
    if (!e) {
        g->id = id;
        g->epoch = epoch;
    }
    return e;
}

static void group_row(sqlite3_stmt *s, ward_group *g)
{
    memset(g, 0, sizeof *g);
    g->id = sqlite3_column_int64(s, 0);
    ward_sql_text(s, 1, g->name, sizeof g->name);
    ward_sql_text(s, 2, g->description, sizeof g->description);
    ward_sql_text(s, 3, g->avatar, sizeof g->avatar);
    g->created_by = sqlite3_column_int64(s, 4);
    g->created_at = sqlite3_column_int64(s, 5);
    g->epoch = sqlite3_column_int64(s, 6);
}

ward_err ward_store_group_get(ward_store *st, int64_t id, ward_group *out)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_GROUP_GET);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    ward_err e = WARD_ERR_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        group_row(s, out);
        e = WARD_OK;
    } else if (rc != SQLITE_DONE) {
        e = ward_sql_fail(st, "group get");
    }
    sqlite3_reset(s);
    return e;
}

/* The update inside the caller's transaction. */
static ward_err update_in(ward_store *st, int64_t id, int64_t actor,
                          const char *name, const char *description,
                          const char *avatar, int64_t now, size_t max_queue)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_GROUP_UPDATE);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    if (name)
        sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    if (description)
        sqlite3_bind_text(s, 3, description, -1, SQLITE_STATIC);
    if (avatar)
        sqlite3_bind_text(s, 4, avatar, -1, SQLITE_STATIC);
    ward_err e = ward_sql_exec(st, s, "group update");
    if (!e && sqlite3_changes(st->db) == 0)
        e = WARD_ERR_NOT_FOUND;
    event ev = {id, "updated", actor, 0, NULL, now, max_queue};
    if (!e)
        e = event_all(st, &ev, 0);
    return e;
}

ward_err ward_store_group_update(ward_store *st, int64_t id, int64_t actor,
                                 const char *name, const char *description,
                                 const char *avatar, int64_t now,
                                 size_t max_queue)
{
    if (!group_fields_ok(name, description, avatar))
        return WARD_ERR_INVALID_ARG;
    ward_err e = ward_sql_begin(st);
    if (e)
        return e;
    return finish(st, update_in(st, id, actor, name, description, avatar, now,
                                max_queue));
}

ward_err ward_store_group_avatar_set(ward_store *st, int64_t id,
                                     int64_t actor, const uint8_t *image,
                                     size_t n, const char *content_type,
                                     const char *avatar_id, int64_t now,
                                     size_t max_queue)
{
    if ((image && (!n || n > INT32_MAX || !content_type || !avatar_id ||
                   !avatar_id[0] || strlen(avatar_id) > WARD_BLOB_ID_LEN)))
        return WARD_ERR_INVALID_ARG;
    ward_err e = ward_sql_begin(st);
    if (e)
        return e;
    sqlite3_stmt *s = ward_sql_stmt(st, image ? S_AVATAR_PUT : S_AVATAR_DELETE);
    if (!s)
        return finish(st, WARD_ERR_STORE);
    sqlite3_bind_int64(s, 1, id);
    if (image) {
        sqlite3_bind_blob(s, 2, image, (int)n, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, content_type, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, actor);
        sqlite3_bind_int64(s, 5, now);
    }
    /* The group first: a group that is gone gets no avatar row. */
    e = update_in(st, id, actor, NULL, NULL, image ? avatar_id : "", now,
                  max_queue);
    if (!e)
        e = ward_sql_exec(st, s, "group avatar");
    else
        sqlite3_reset(s);
    return finish(st, e);
}

ward_err ward_store_group_avatar_get(ward_store *st, int64_t id,
                                     ward_buf *image, char *content_type,
                                     size_t type_cap, char *avatar_id,
                                     size_t id_cap)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_AVATAR_GET);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    ward_err e = WARD_ERR_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        ward_sql_text(s, 0, avatar_id, id_cap);
        ward_sql_text(s, 2, content_type, type_cap);
        const void *p = sqlite3_column_blob(s, 1);
        int len = sqlite3_column_bytes(s, 1);
        ward_buf_clear(image);
        e = ward_buf_append(image, p, (size_t)len);
    } else if (rc != SQLITE_DONE) {
        e = ward_sql_fail(st, "group avatar");
    }
    sqlite3_reset(s);
    return e;
}

static void member_row(sqlite3_stmt *s, ward_group_member *m)
{
    memset(m, 0, sizeof *m);
    m->account = sqlite3_column_int64(s, 0);
    ward_sql_text(s, 1, m->username, sizeof m->username);
    m->role = sqlite3_column_int(s, 2);
    m->added_by = sqlite3_column_int64(s, 3);
    m->joined_at = sqlite3_column_int64(s, 4);
}

ward_err ward_store_group_member(ward_store *st, int64_t group,
                                 int64_t account, ward_group_member *out)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_GMEMBER_GET);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, group);
    sqlite3_bind_int64(s, 2, account);
    int rc = sqlite3_step(s);
    ward_err e = WARD_ERR_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        member_row(s, out);
        e = WARD_OK;
    } else if (rc != SQLITE_DONE) {
        e = ward_sql_fail(st, "group member");
    }
    sqlite3_reset(s);
    return e;
}

ward_err ward_store_group_members(ward_store *st, int64_t group,
                                  int (*fn)(void *ctx,
                                            const ward_group_member *m),
                                  void *ctx)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_GMEMBER_LIST);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, group);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ward_group_member m;
        member_row(s, &m);
        if (fn(ctx, &m))
            break;
    }
    ward_err e = WARD_OK;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = ward_sql_fail(st, "group members");
    sqlite3_reset(s);
    return e;
}

ward_err ward_store_group_count(ward_store *st, int64_t group,
                                size_t *members, size_t *admins)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_GMEMBER_COUNT);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, group);
    ward_err e = WARD_OK;
    if (sqlite3_step(s) == SQLITE_ROW) {
        if (members)
            *members = (size_t)sqlite3_column_int64(s, 0);
        if (admins)
            *admins = (size_t)sqlite3_column_int64(s, 1);
    } else {
        e = ward_sql_fail(st, "group count");
    }
    sqlite3_reset(s);
    return e;
}

ward_err ward_store_group_recipients(ward_store *st, int64_t group,
                                     int64_t sender,
                                     int (*fn)(void *ctx,
                                               const ward_group_rcpt *r),
                                     void *ctx)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_GROUP_RECIPIENTS);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, group);
    sqlite3_bind_int64(s, 2, sender);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ward_group_rcpt r;
        r.id = sqlite3_column_int64(s, 0);
        ward_sql_text(s, 1, r.username, sizeof r.username);
        r.age_band = sqlite3_column_int(s, 2);
        r.is_private = sqlite3_column_int(s, 3);
        r.rel.a_follows_b = sqlite3_column_int(s, 4);
        r.rel.b_follows_a = sqlite3_column_int(s, 5);
        r.rel.a_blocked_b = sqlite3_column_int(s, 6);
        r.rel.b_blocked_a = sqlite3_column_int(s, 7);
        if (fn(ctx, &r))
            break;
    }
    ward_err e = WARD_OK;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = ward_sql_fail(st, "group recipients");
    sqlite3_reset(s);
    return e;
}

ward_err ward_store_group_add(ward_store *st, int64_t group, int64_t account,
                              int64_t actor, int64_t now, size_t max_members,
                              const char *notice, size_t max_queue,
                              int64_t *epoch)
{
    ward_err e = ward_sql_begin(st);
    if (e)
        return e;
    size_t n = 0;
    int64_t ep = 0;
    ward_group_member m;
    e = epoch_of(st, group, &ep);
    if (!e) {
        e = ward_store_group_member(st, group, account, &m);
        e = e == WARD_OK ? WARD_ERR_EXISTS
                         : e == WARD_ERR_NOT_FOUND ? WARD_OK : e;
    }
    if (!e)
        e = ward_store_group_count(st, group, &n, NULL);
    if (!e && n >= max_members)
        e = WARD_ERR_LIMIT;
    if (!e)
        e = member_insert(st, group, account, WARD_GROUP_MEMBER, actor, now);
    event ev = {group, "added", actor, account, NULL, now, max_queue};
    if (!e)
        e = event_all(st, &ev, 0);
    if (!e && notice)
        e = ward_store_notice_add(st, account, "group_added", notice, now);
    if (!e)
        e = epoch_of(st, group, &ep);
    e = finish(st, e);
    if (!e && epoch)
        *epoch = ep;
    return e;
}

ward_err ward_store_group_remove(ward_store *st, int64_t group,
                                 int64_t account, int64_t actor, int64_t now,
                                 size_t max_queue, int64_t *epoch)
{
    ward_err e = ward_sql_begin(st);
    if (e)
        return e;
    ward_group_member before;
    size_t admins = 0;
    int64_t ep = 0;
    e = ward_store_group_member(st, group, account, &before);
    if (!e)
        e = ward_store_group_count(st, group, NULL, &admins);
    sqlite3_stmt *s = NULL;
    if (!e && !(s = ward_sql_stmt(st, S_GMEMBER_DELETE)))
        e = WARD_ERR_STORE;
    if (!e) {
        sqlite3_bind_int64(s, 1, group);
        sqlite3_bind_int64(s, 2, account);
        e = ward_sql_exec(st, s, "group member delete");
    }
    if (!e && !(s = ward_sql_stmt(st, S_GSPAN_CLOSE)))
        e = WARD_ERR_STORE;
    if (!e) {
        sqlite3_bind_int64(s, 1, group);
        sqlite3_bind_int64(s, 2, account);
        sqlite3_bind_int64(s, 3, now);
        e = ward_sql_exec(st, s, "group span close");
    }
    /* The triggers moved the epoch on, handed the admin role over or
     * deleted the group. */
    int gone = 0;
    if (!e) {
        e = epoch_of(st, group, &ep);
        if (e == WARD_ERR_NOT_FOUND) {
            gone = 1;
            ep = 0;
            e = WARD_OK;
        }
    }
    if (!e && !gone) {
        event ev = {group, account == actor ? "left" : "removed", actor,
                    account, NULL, now, max_queue};
        e = event_all(st, &ev, account == actor ? 0 : account);
    }
    /* The last admin went: the longest-standing member was made admin. */
    if (!e && !gone && before.role == WARD_GROUP_ADMIN && admins == 1 &&
        !(s = ward_sql_stmt(st, S_GMEMBER_ADMIN)))
        e = WARD_ERR_STORE;
    if (!e && !gone && before.role == WARD_GROUP_ADMIN && admins == 1) {
        int64_t heir = 0;
        sqlite3_bind_int64(s, 1, group);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            heir = sqlite3_column_int64(s, 0);
        else if (rc != SQLITE_DONE)
            e = ward_sql_fail(st, "group heir");
        sqlite3_reset(s);
        event ev = {group, "role", actor, heir, "admin", now, max_queue};
        if (!e && heir)
            e = event_all(st, &ev, 0);
    }
    e = finish(st, e);
    if (!e && epoch)
        *epoch = ep;
    return e;
}

ward_err ward_store_group_set_role(ward_store *st, int64_t group,
                                   int64_t account, int role, int64_t actor,
                                   int64_t now, size_t max_queue)
{
    if (role != WARD_GROUP_MEMBER && role != WARD_GROUP_ADMIN)
        return WARD_ERR_INVALID_ARG;
    ward_err e = ward_sql_begin(st);
    if (e)
        return e;
    ward_group_member m;
    size_t admins = 0;
    e = ward_store_group_member(st, group, account, &m);
    if (!e)
        e = ward_store_group_count(st, group, NULL, &admins);
    if (!e && m.role == WARD_GROUP_ADMIN && role != WARD_GROUP_ADMIN &&
        admins <= 1)
        e = WARD_ERR_CONFLICT;
    sqlite3_stmt *s = NULL;
    if (!e && m.role != role) {
        if (!(s = ward_sql_stmt(st, S_GMEMBER_ROLE)))
            e = WARD_ERR_STORE;
        if (!e) {
            sqlite3_bind_int(s, 1, role);
            sqlite3_bind_int64(s, 2, group);
            sqlite3_bind_int64(s, 3, account);
            e = ward_sql_exec(st, s, "group role");
        }
        event ev = {group, "role", actor, account,
                    role == WARD_GROUP_ADMIN ? "admin" : "member", now,
                    max_queue};
        if (!e)
            e = event_all(st, &ev, 0);
    }
    return finish(st, e);
}

ward_err ward_store_groups_of(ward_store *st, int64_t account,
                              int (*fn)(void *ctx, const ward_group *g,
                                        int role),
                              void *ctx)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_GROUPS_OF);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, account);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ward_group g;
        group_row(s, &g);
        if (fn(ctx, &g, sqlite3_column_int(s, 7)))
            break;
    }
    ward_err e = WARD_OK;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = ward_sql_fail(st, "groups of");
    sqlite3_reset(s);
    return e;
}

ward_err ward_store_group_member_at(ward_store *st, int64_t group,
                                    int64_t account, int64_t at, int *was)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_GSPAN_AT);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, group);
    sqlite3_bind_int64(s, 2, account);
    sqlite3_bind_int64(s, 3, at);
    ward_err e = WARD_OK;
    if (sqlite3_step(s) == SQLITE_ROW)
        *was = sqlite3_column_int(s, 0);
    else
        e = ward_sql_fail(st, "group member at");
    sqlite3_reset(s);
    return e;
}
