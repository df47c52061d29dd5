/* The social graph: follows, blocks, suggestions and the signals that
 * flag an account as suspicious. */
#include <string.h>

#include "sqlite_internal.h"

ward_err ward_store_follow(ward_store *st, int64_t follower, int64_t followee,
                           int64_t now, int *created)
{
    if (follower == followee)
        return WARD_ERR_INVALID_ARG;
    sqlite3_stmt *s = ward_sql_stmt(st, S_FOLLOW_INSERT);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, follower);
    sqlite3_bind_int64(s, 2, followee);
    sqlite3_bind_int64(s, 3, now);
    ward_err e = ward_sql_exec(st, s, "follow");
    if (!e && created)
        *created = sqlite3_changes(st->db) > 0;
    /* A missing account fails the foreign key. */
    if (e == WARD_ERR_STORE &&
        sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
        e = WARD_ERR_NOT_FOUND;
    return e;
}

static ward_err delete_pair(ward_store *st, stmt_id id, int64_t a, int64_t b,
                            const char *what)
{
    sqlite3_stmt *s = ward_sql_stmt(st, id);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, a);
    sqlite3_bind_int64(s, 2, b);
    ward_err e = ward_sql_exec(st, s, what);
    if (!e && sqlite3_changes(st->db) == 0)
        e = WARD_ERR_NOT_FOUND;
    return e;
}

ward_err ward_store_unfollow(ward_store *st, int64_t follower,
                             int64_t followee)
{
    return delete_pair(st, S_FOLLOW_DELETE, follower, followee, "unfollow");
}

ward_err ward_store_block(ward_store *st, int64_t blocker, int blocker_band,
                          int64_t blocked, int64_t now, int *created)
{
    if (blocker == blocked)
        return WARD_ERR_INVALID_ARG;
    ward_err e = ward_sql_begin(st);
    if (e)
        return e;
    sqlite3_stmt *s = ward_sql_stmt(st, S_BLOCK_INSERT);
    if (!s) {
        e = WARD_ERR_STORE;
        goto out;
    }
    sqlite3_bind_int64(s, 1, blocker);
    sqlite3_bind_int64(s, 2, blocked);
    sqlite3_bind_int64(s, 3, now);
    e = ward_sql_exec(st, s, "block");
    if (e == WARD_ERR_STORE &&
        sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
        e = WARD_ERR_NOT_FOUND;
    if (e)
        goto out;
    int fresh = sqlite3_changes(st->db) > 0;
    if (created)
        *created = fresh;
    if (fresh)
        e = ward_sql_signal(st, blocked, blocker, blocker_band, 1, now);
    if (e)
        goto out;
    /* A block ends the follows both ways: neither side stays connected. */
    ward_err d = delete_pair(st, S_FOLLOW_DELETE, blocker, blocked, "unfollow");
    if (d == WARD_ERR_NOT_FOUND)
        d = WARD_OK;
    if (!d)
        d = delete_pair(st, S_FOLLOW_DELETE, blocked, blocker, "unfollow");
    e = d == WARD_ERR_NOT_FOUND ? WARD_OK : d;
out:
    if (e) {
        ward_sql_rollback(st);
        return e;
    }
    return ward_sql_commit(st);
}

ward_err ward_store_unblock(ward_store *st, int64_t blocker, int64_t blocked)
{
    return delete_pair(st, S_BLOCK_DELETE, blocker, blocked, "unblock");
}

/* One statement for the four facts: the policy asks on every send. */
ward_err ward_store_relation_get(ward_store *st, int64_t a, int64_t b,
                                 ward_store_relation *out)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_RELATION);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, a);
    sqlite3_bind_int64(s, 2, b);
    ward_err e = WARD_OK;
    if (sqlite3_step(s) == SQLITE_ROW) {
        out->a_follows_b = sqlite3_column_int(s, 0);
        out->b_follows_a = sqlite3_column_int(s, 1);
        out->a_blocked_b = sqlite3_column_int(s, 2);
        out->b_blocked_a = sqlite3_column_int(s, 3);
    } else {
        e = ward_sql_fail(st, "relation");
    }
    sqlite3_reset(s);
    return e;
}

ward_err ward_store_graph_list(ward_store *st, int64_t account, int which,
                               int (*fn)(void *ctx, int64_t id,
                                         const char *username),
                               void *ctx)
{
    stmt_id id = which == WARD_LIST_FOLLOWING   ? S_FOLLOWING_LIST
                 : which == WARD_LIST_FOLLOWERS ? S_FOLLOWERS_LIST
                 : which == WARD_LIST_BLOCKED   ? S_BLOCKED_LIST
                                                : S_COUNT;
    if (id == S_COUNT)
        return WARD_ERR_INVALID_ARG;
    sqlite3_stmt *s = ward_sql_stmt(st, id);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, account);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        char name[WARD_USERNAME_MAX + 1];
        ward_sql_text(s, 1, name, sizeof name);
        if (fn(ctx, sqlite3_column_int64(s, 0), name))
            break;
    }
    ward_err e = WARD_OK;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = ward_sql_fail(st, "graph list");
    sqlite3_reset(s);
    return e;
}

ward_err ward_store_suggestions(ward_store *st, int64_t account, size_t limit,
                                int (*fn)(void *ctx, int64_t id, int shared),
                                void *ctx)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_SUGGESTIONS);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, account);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (fn(ctx, sqlite3_column_int64(s, 0), sqlite3_column_int(s, 1)))
            break;
    ward_err e = WARD_OK;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = ward_sql_fail(st, "suggestions");
    sqlite3_reset(s);
    return e;
}

ward_err ward_sql_signal(ward_store *st, int64_t subject, int64_t source,
                         int band, int kind, int64_t at)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_SIGNAL_INSERT);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, subject);
    sqlite3_bind_int64(s, 2, source);
    sqlite3_bind_int(s, 3, band);
    sqlite3_bind_int(s, 4, kind);
    sqlite3_bind_int64(s, 5, at);
    return ward_sql_exec(st, s, "signal");
}

ward_err ward_store_minor_signals(ward_store *st, int64_t account,
                                  int64_t since, size_t *count)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_MINOR_SIGNALS);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, account);
    sqlite3_bind_int64(s, 2, since);
    sqlite3_bind_int(s, 3, WARD_AGE_MINOR);
    int rc = sqlite3_step(s);
    ward_err e = WARD_OK;
    if (rc == SQLITE_ROW)
        *count = (size_t)sqlite3_column_int64(s, 0);
    else
        e = ward_sql_fail(st, "minor signals");
    sqlite3_reset(s);
    return e;
}
