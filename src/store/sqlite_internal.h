/* Private to the SQLite backend. */
#ifndef WARD_SQLITE_INTERNAL_H
#define WARD_SQLITE_INTERNAL_H

#include <sqlite3.h>

#include "ward/store.h"

/* Every statement the backend runs, prepared once and reused. */
typedef enum stmt_id {
    S_BEGIN, S_COMMIT, S_ROLLBACK,
    S_ACCOUNT_INSERT, S_ACCOUNT_BY_NAME, S_ACCOUNT_BY_ID, S_ACCOUNT_DELETE,
    S_ACCOUNT_SET_PRIVATE, S_ACCOUNT_SET_STATUS, S_ACCOUNT_PROMOTE,
    S_FOLLOW_INSERT, S_FOLLOW_DELETE, S_RELATION, S_BLOCK_INSERT,
    S_BLOCK_DELETE, S_FOLLOWING_LIST, S_FOLLOWERS_LIST,
    S_BLOCKED_LIST, S_SUGGESTIONS, S_SIGNAL_INSERT, S_MINOR_SIGNALS,
    S_REPORT_INSERT, S_REPORT_GET, S_REPORT_LIST, S_REPORT_DECIDE, S_COUNTER_ADD,
    S_COUNTER_GET,
    S_TOKEN_INSERT, S_TOKEN_CHECK, S_TOKEN_DELETE, S_TOKEN_PURGE,
    S_PREKEY_CLEAR_IF_NEW_IDENTITY, S_IDENTITY_UPSERT, S_SIGNED_UPSERT, S_PREKEY_UPSERT, S_PREKEY_COUNT,
    S_KEYS_GET, S_PREKEY_FIRST, S_PREKEY_DELETE,
    S_QUEUE_RESERVE, S_QUEUE_INSERT, S_QUEUE_LIST, S_QUEUE_DELETE,
    S_QUEUE_RELEASE, S_QUEUE_DEPTH, S_QUEUE_TOTAL,
    S_BLOB_INSERT, S_BLOB_GET, S_BLOB_DELETE, S_BLOB_EXPIRED,
    S_BLOB_PURGE,
    /* moderators, console sessions, audit (sqlite_moderation.c) */
    S_MOD_INSERT, S_MOD_BY_NAME, S_MOD_BY_ID, S_MOD_SET, S_MOD_LIST,
    S_MOD_SESSIONS_END, S_CSESSION_INSERT, S_CSESSION_CHECK,
    S_CSESSION_DELETE, S_CSESSION_PURGE, S_AUDIT_LAST, S_AUDIT_INSERT,
    S_AUDIT_LIST, S_AUDIT_ALL,
    S_NOTICE_INSERT, S_NOTICE_LIST, S_NOTICE_DELETE,
    /* groups (sqlite_groups.c) */
    S_GROUP_INSERT, S_GROUP_GET, S_GROUP_EPOCH, S_GROUP_UPDATE,
    S_GMEMBER_INSERT, S_GMEMBER_DELETE, S_GMEMBER_GET, S_GMEMBER_LIST,
    S_GMEMBER_COUNT, S_GMEMBER_ROLE, S_GMEMBER_ADMIN, S_GROUP_RECIPIENTS,
    S_GROUPS_OF, S_GSPAN_OPEN, S_GSPAN_CLOSE, S_GSPAN_AT,
    S_AVATAR_PUT, S_AVATAR_DELETE, S_AVATAR_GET,
    S_COUNT
} stmt_id;

struct ward_store {
    sqlite3 *db;
    sqlite3_stmt *stmt[S_COUNT];
    char error[256];
};

/* The statement |id|, reset and with bindings cleared; NULL on failure
 * (the error is recorded). */
sqlite3_stmt *ward_sql_stmt(ward_store *st, stmt_id id);

/* Records the database's error message and returns WARD_ERR_STORE. */
ward_err ward_sql_fail(ward_store *st, const char *what);

/* Steps a statement that returns no rows; WARD_ERR_EXISTS for a
 * uniqueness violation. */
ward_err ward_sql_exec(ward_store *st, sqlite3_stmt *s, const char *what);

ward_err ward_sql_begin(ward_store *st);
/* Records that |source| (of |band|) blocked or reported |subject|, inside
 * the caller's transaction. */
ward_err ward_sql_signal(ward_store *st, int64_t subject, int64_t source,
                         int band, int kind, int64_t at);
ward_err ward_sql_commit(ward_store *st);
/* Queues one message inside the caller's transaction (the queue's limit
 * counted): WARD_ERR_LIMIT for a full queue, WARD_ERR_NOT_FOUND for no
 * such recipient, m->id set on success. */
ward_err ward_sql_queue_one(ward_store *st, ward_store_msg *m,
                            size_t max_queue);
void ward_sql_rollback(ward_store *st);

/* Copies a text column into |dst| (of |cap| bytes, NUL-terminated). */
void ward_sql_text(sqlite3_stmt *s, int col, char *dst, size_t cap);
/* Copies a blob column of exactly |n| bytes; -1 if its size differs. */
int ward_sql_blob(sqlite3_stmt *s, int col, uint8_t *dst, size_t n);

#endif
