/* Accounts and login tokens. */
#include <string.h>

#include "sqlite_internal.h"

ward_err ward_store_account_create(ward_store *st, const char *username,
                                   const char *pwhash, int age_band,
                                   int64_t now, int64_t *id)
{
    return ward_store_account_create_at(st, username, pwhash, age_band, 0,
                                        now, id);
}

ward_err ward_store_account_create_at(ward_store *st, const char *username,
                                      const char *pwhash, int age_band,
                                      int64_t adult_at, int64_t now,
                                      int64_t *id)
{
    if (!username || !pwhash || strlen(username) > WARD_USERNAME_MAX ||
        strlen(pwhash) > WARD_PWHASH_MAX)
        return WARD_ERR_INVALID_ARG;
    sqlite3_stmt *s = ward_sql_stmt(st, S_ACCOUNT_INSERT);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_text(s, 1, username, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, pwhash, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, age_band);
    sqlite3_bind_int64(s, 4, now);
    sqlite3_bind_int(s, 5, age_band == WARD_AGE_MINOR);
    if (age_band == WARD_AGE_MINOR && adult_at > 0)
        sqlite3_bind_int64(s, 6, adult_at); /* else NULL: never promoted */
    ward_err e = ward_sql_exec(st, s, "account insert");
    if (!e && id)
        *id = sqlite3_last_insert_rowid(st->db);
    return e;
}

static ward_err account_row(ward_store *st, sqlite3_stmt *s, ward_account *out)
{
    int rc = sqlite3_step(s);
    ward_err e = WARD_ERR_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        ward_account a;
        memset(&a, 0, sizeof a);
        a.id = sqlite3_column_int64(s, 0);
        ward_sql_text(s, 1, a.username, sizeof a.username);
        a.age_band = sqlite3_column_int(s, 2);
        a.created_at = sqlite3_column_int64(s, 3);
        ward_sql_text(s, 4, a.pwhash, sizeof a.pwhash);
        a.is_private = sqlite3_column_int(s, 5) != 0;
        a.status = sqlite3_column_int(s, 6);
        a.status_until = sqlite3_column_int64(s, 7);
        *out = a;
        e = WARD_OK;
    } else if (rc != SQLITE_DONE) {
        e = ward_sql_fail(st, "account lookup");
    }
    sqlite3_reset(s);
    return e;
}

ward_err ward_store_account_by_name(ward_store *st, const char *username,
                                    ward_account *out)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_ACCOUNT_BY_NAME);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_text(s, 1, username, -1, SQLITE_STATIC);
    return account_row(st, s, out);
}

ward_err ward_store_account_by_id(ward_store *st, int64_t id,
                                  ward_account *out)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_ACCOUNT_BY_ID);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    return account_row(st, s, out);
}

ward_err ward_store_account_delete(ward_store *st, int64_t id)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_ACCOUNT_DELETE);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    /* Tokens, keys and queued messages go by ON DELETE CASCADE. */
    ward_err e = ward_sql_exec(st, s, "account delete");
    if (!e && sqlite3_changes(st->db) == 0)
        e = WARD_ERR_NOT_FOUND;
    return e;
}

int ward_account_status(const ward_account *a, int64_t now)
{
    if (a->status == WARD_STATUS_SUSPENDED && a->status_until <= now)
        return WARD_STATUS_ACTIVE;
    return a->status;
}

ward_err ward_store_promote_adults(ward_store *st, int64_t now, size_t *n)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_ACCOUNT_PROMOTE);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, now);
    ward_err e = ward_sql_exec(st, s, "promote adults");
    if (!e && n)
        *n = (size_t)sqlite3_changes(st->db);
    return e;
}

static ward_err account_update(ward_store *st, sqlite3_stmt *s,
                               const char *what)
{
    ward_err e = ward_sql_exec(st, s, what);
    if (!e && sqlite3_changes(st->db) == 0)
        e = WARD_ERR_NOT_FOUND;
    return e;
}

ward_err ward_store_account_set_private(ward_store *st, int64_t id,
                                       int is_private)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_ACCOUNT_SET_PRIVATE);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int(s, 1, is_private != 0);
    sqlite3_bind_int64(s, 2, id);
    return account_update(st, s, "account privacy");
}

ward_err ward_store_account_set_status(ward_store *st, int64_t id, int status,
                                       int64_t until)
{
    if (status < WARD_STATUS_ACTIVE || status > WARD_STATUS_BANNED)
        return WARD_ERR_INVALID_ARG;
    sqlite3_stmt *s = ward_sql_stmt(st, S_ACCOUNT_SET_STATUS);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int(s, 1, status);
    sqlite3_bind_int64(s, 2, status == WARD_STATUS_SUSPENDED ? until : 0);
    sqlite3_bind_int64(s, 3, id);
    return account_update(st, s, "account status");
}

ward_err ward_store_token_put(ward_store *st, const uint8_t hash[32],
                              int64_t account, int64_t expires_at)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_TOKEN_INSERT);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, account);
    sqlite3_bind_int64(s, 3, expires_at);
    return ward_sql_exec(st, s, "token insert");
}

ward_err ward_store_token_check(ward_store *st, const uint8_t hash[32],
                                int64_t now, int64_t *account)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_TOKEN_CHECK);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    int rc = sqlite3_step(s);
    ward_err e = WARD_ERR_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        *account = sqlite3_column_int64(s, 0);
        e = WARD_OK;
    } else if (rc != SQLITE_DONE) {
        e = ward_sql_fail(st, "token check");
    }
    sqlite3_reset(s);
    return e;
}

ward_err ward_store_token_delete(ward_store *st, const uint8_t hash[32])
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_TOKEN_DELETE);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
    ward_err e = ward_sql_exec(st, s, "token delete");
    if (!e && sqlite3_changes(st->db) == 0)
        e = WARD_ERR_NOT_FOUND;
    return e;
}

ward_err ward_store_token_purge(ward_store *st, int64_t now, size_t *removed)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_TOKEN_PURGE);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, now);
    ward_err e = ward_sql_exec(st, s, "token purge");
    if (!e && removed)
        *removed = (size_t)sqlite3_changes(st->db);
    return e;
}
