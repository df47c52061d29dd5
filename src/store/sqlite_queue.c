/* Message queues: batched durable writes, listing, acknowledgement. */
#include <string.h>

#include "sqlite_internal.h"

ward_err ward_sql_queue_one(ward_store *st, ward_store_msg *m,
                            size_t max_queue)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_QUEUE_RESERVE);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, m->recipient);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)max_queue);
    ward_err e = ward_sql_exec(st, s, "queue reserve");
    if (e)
        return e;
    if (sqlite3_changes(st->db) == 0) {
        /* Either the queue is full or there is no such recipient. */
        ward_account a;
        e = ward_store_account_by_id(st, m->recipient, &a);
        return e == WARD_OK ? WARD_ERR_LIMIT : e;
    }
    s = ward_sql_stmt(st, S_QUEUE_INSERT);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, m->recipient);
    sqlite3_bind_int64(s, 2, m->sender);
    sqlite3_bind_text(s, 3, m->sender_name, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, m->type);
    sqlite3_bind_int64(s, 5, m->server_time);
    if (m->has_commitment)
        sqlite3_bind_blob(s, 6, m->commitment, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 7, m->body ? (const void *)m->body : "",
                      (int)m->body_len, SQLITE_STATIC);
    if (m->has_tag) {
        sqlite3_bind_blob(s, 8, m->tag, 32, SQLITE_STATIC);
        sqlite3_bind_int64(s, 9, m->key_id);
    }
    if (m->group_id)
        sqlite3_bind_int64(s, 10, m->group_id);
    e = ward_sql_exec(st, s, "queue insert");
    if (!e)
        m->id = sqlite3_last_insert_rowid(st->db);
    return e;
}

/* One acknowledgement inside the open transaction: NOT_FOUND if |id| is
 * not queued for |recipient|. */
static ward_err ack_one(ward_store *st, int64_t recipient, int64_t id)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_QUEUE_DELETE);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, recipient);
    ward_err e = ward_sql_exec(st, s, "ack");
    if (e)
        return e;
    if (sqlite3_changes(st->db) == 0)
        return WARD_ERR_NOT_FOUND;
    s = ward_sql_stmt(st, S_QUEUE_RELEASE);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, recipient);
    return ward_sql_exec(st, s, "queue release");
}

/* A group message's copies are queued only while the group's membership
 * is still the one they were addressed to (every change moves the epoch
 * on): WARD_ERR_CONFLICT otherwise, also for a group that is gone. */
static ward_err group_current(ward_store *st, const ward_store_msg *m)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_GROUP_EPOCH);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, m->group_id);
    int rc = sqlite3_step(s);
    ward_err e = WARD_ERR_CONFLICT;
    if (rc == SQLITE_ROW && sqlite3_column_int64(s, 0) == m->group_epoch)
        e = WARD_OK;
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = ward_sql_fail(st, "group epoch");
    sqlite3_reset(s);
    return e;
}

/* A handover in a group's context is queued only while both are
 * members: WARD_ERR_CONFLICT otherwise. */
static ward_err both_members(ward_store *st, const ward_store_msg *m)
{
    ward_group_member gm;
    ward_err e = ward_store_group_member(st, m->group_id, m->sender, &gm);
    if (!e)
        e = ward_store_group_member(st, m->group_id, m->recipient, &gm);
    return e == WARD_ERR_NOT_FOUND ? WARD_ERR_CONFLICT : e;
}

static ward_err put_one(ward_store *st, ward_store_msg *m, size_t max_queue,
                        const ward_store_msg *prev, ward_err prev_group)
{
    if (m->group_id && !m->group_epoch) {
        ward_err g = both_members(st, m);
        if (g)
            return g;
    }
    if (m->group_id && m->group_epoch) {
        /* A fan-out's copies come one after the other: one check each. */
        ward_err g = prev && prev->group_id == m->group_id &&
                             prev->group_epoch == m->group_epoch
                         ? prev_group
                         : group_current(st, m);
        if (g)
            return g;
    }
    return ward_sql_queue_one(st, m, max_queue);
}

ward_err ward_store_queue_commit(ward_store *st, ward_store_msg *msgs,
                                 size_t n, size_t max_queue, ward_err *result,
                                 const ward_store_ack *acks, size_t n_acks,
                                 ward_err *ack_result)
{
    for (size_t i = 0; i < n; i++)
        if (msgs[i].body_len > (size_t)INT32_MAX)
            return WARD_ERR_TOO_BIG;
    ward_err e = ward_sql_begin(st);
    if (e)
        return e;
    /* Acknowledgements first: they make room in full queues. */
    for (size_t i = 0; !e && i < n_acks; i++) {
        ack_result[i] = ack_one(st, acks[i].recipient, acks[i].id);
        if (ack_result[i] != WARD_OK && ack_result[i] != WARD_ERR_NOT_FOUND)
            e = WARD_ERR_STORE;
    }
    ward_err group = WARD_OK;
    for (size_t i = 0; !e && i < n; i++) {
        result[i] = put_one(st, &msgs[i], max_queue, i ? &msgs[i - 1] : NULL,
                            group);
        if (result[i] == WARD_ERR_STORE)
            e = WARD_ERR_STORE;
        /* The group's state for the next copy: the epoch check's answer
         * (a full queue or a missing recipient says nothing about it). */
        if (msgs[i].group_id && msgs[i].group_epoch)
            group = result[i] == WARD_ERR_CONFLICT ? WARD_ERR_CONFLICT
                                                   : WARD_OK;
    }
    if (!e)
        e = ward_sql_commit(st);
    else
        ward_sql_rollback(st); /* the database itself failed: nothing */
    if (e) {
        for (size_t k = 0; k < n; k++)
            result[k] = e;
        for (size_t k = 0; k < n_acks; k++)
            ack_result[k] = e;
        return e;
    }
    return WARD_OK;
}

ward_err ward_store_queue_put(ward_store *st, ward_store_msg *msgs, size_t n,
                              size_t max_queue, ward_err *result)
{
    return ward_store_queue_commit(st, msgs, n, max_queue, result, NULL, 0,
                                   NULL);
}

ward_err ward_store_queue_list(ward_store *st, int64_t recipient,
                               int64_t after, size_t limit,
                               int (*fn)(void *ctx, const ward_store_msg *m),
                               void *ctx)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_QUEUE_LIST);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, recipient);
    sqlite3_bind_int64(s, 2, after);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)limit);
    int rc;
    ward_err e = WARD_OK;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ward_store_msg m;
        memset(&m, 0, sizeof m);
        m.recipient = recipient;
        m.id = sqlite3_column_int64(s, 0);
        m.sender = sqlite3_column_int64(s, 1);
        ward_sql_text(s, 2, m.sender_name, sizeof m.sender_name);
        m.type = sqlite3_column_int(s, 3);
        m.server_time = sqlite3_column_int64(s, 4);
        m.has_commitment = ward_sql_blob(s, 5, m.commitment, 32) == 0;
        m.body = sqlite3_column_blob(s, 6);
        m.body_len = (size_t)sqlite3_column_bytes(s, 6);
        m.has_tag = ward_sql_blob(s, 7, m.tag, 32) == 0;
        m.key_id = (uint32_t)sqlite3_column_int64(s, 8);
        m.group_id = sqlite3_column_int64(s, 9);
        if (fn(ctx, &m))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = ward_sql_fail(st, "queue list");
    sqlite3_reset(s);
    return e;
}

ward_err ward_store_queue_ack(ward_store *st, int64_t recipient, int64_t id)
{
    ward_store_ack a = {recipient, id};
    ward_err r = WARD_ERR_INTERNAL;
    ward_err e = ward_store_queue_commit(st, NULL, 0, 0, NULL, &a, 1, &r);
    return e ? e : r;
}

ward_err ward_store_queue_depth(ward_store *st, int64_t recipient,
                                size_t *depth)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_QUEUE_DEPTH);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, recipient);
    int rc = sqlite3_step(s);
    ward_err e = WARD_ERR_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        *depth = (size_t)sqlite3_column_int64(s, 0);
        e = WARD_OK;
    } else if (rc != SQLITE_DONE) {
        e = ward_sql_fail(st, "queue depth");
    }
    sqlite3_reset(s);
    return e;
}

ward_err ward_store_queue_total(ward_store *st, uint64_t *total)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_QUEUE_TOTAL);
    if (!s)
        return WARD_ERR_STORE;
    ward_err e = WARD_OK;
    if (sqlite3_step(s) == SQLITE_ROW)
        *total = (uint64_t)sqlite3_column_int64(s, 0);
    else
        e = ward_sql_fail(st, "queue total");
    sqlite3_reset(s);
    return e;
}
