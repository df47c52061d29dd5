/* Attachment records (the encrypted bytes live in files beside the db). */
#include <string.h>

#include "sqlite_internal.h"

ward_err ward_store_blob_put(ward_store *st, const ward_blob *b)
{
    /* The id names a file: lowercase hex only, so never a path. */
    if (strlen(b->id) != WARD_BLOB_ID_LEN || b->size > INT64_MAX)
        return WARD_ERR_INVALID_ARG;
    for (size_t i = 0; i < WARD_BLOB_ID_LEN; i++)
        if (!((b->id[i] >= '0' && b->id[i] <= '9') ||
              (b->id[i] >= 'a' && b->id[i] <= 'f')))
            return WARD_ERR_INVALID_ARG;
    sqlite3_stmt *s = ward_sql_stmt(st, S_BLOB_INSERT);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_text(s, 1, b->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, b->owner);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)b->size);
    sqlite3_bind_int64(s, 4, b->created_at);
    sqlite3_bind_int64(s, 5, b->expires_at);
    return ward_sql_exec(st, s, "blob insert");
}

static void blob_row(sqlite3_stmt *s, ward_blob *b)
{
    memset(b, 0, sizeof *b);
    ward_sql_text(s, 0, b->id, sizeof b->id);
    b->owner = sqlite3_column_int64(s, 1);
    b->size = (uint64_t)sqlite3_column_int64(s, 2);
    b->created_at = sqlite3_column_int64(s, 3);
    b->expires_at = sqlite3_column_int64(s, 4);
}

ward_err ward_store_blob_get(ward_store *st, const char *id, ward_blob *out)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_BLOB_GET);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    ward_err e = WARD_ERR_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        blob_row(s, out);
        e = WARD_OK;
    } else if (rc != SQLITE_DONE) {
        e = ward_sql_fail(st, "blob get");
    }
    sqlite3_reset(s);
    return e;
}

ward_err ward_store_blob_delete(ward_store *st, const char *id)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_BLOB_DELETE);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    ward_err e = ward_sql_exec(st, s, "blob delete");
    if (!e && sqlite3_changes(st->db) == 0)
        e = WARD_ERR_NOT_FOUND;
    return e;
}

ward_err ward_store_blob_expire(ward_store *st, int64_t now,
                                void (*fn)(void *ctx, const ward_blob *b),
                                void *ctx)
{
    ward_err e = ward_sql_begin(st);
    if (e)
        return e;
    sqlite3_stmt *s = ward_sql_stmt(st, S_BLOB_EXPIRED);
    if (!s) {
        ward_sql_rollback(st);
        return WARD_ERR_STORE;
    }
    sqlite3_bind_int64(s, 1, now);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ward_blob b;
        blob_row(s, &b);
        if (fn)
            fn(ctx, &b);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        e = ward_sql_fail(st, "blob expire");
        ward_sql_rollback(st);
        return e;
    }
    s = ward_sql_stmt(st, S_BLOB_PURGE);
    if (!s) {
        ward_sql_rollback(st);
        return WARD_ERR_STORE;
    }
    sqlite3_bind_int64(s, 1, now);
    if ((e = ward_sql_exec(st, s, "blob purge"))) {
        ward_sql_rollback(st);
        return e;
    }
    return ward_sql_commit(st);
}
