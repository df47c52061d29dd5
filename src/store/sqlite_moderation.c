/* Moderators, console sessions and the hash-chained audit log. */
#include <string.h>

#include "sqlite_internal.h"
#include "ward/crypto.h"

/* ---- moderators ---- */

static int name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n > 0 && n <= WARD_MODERATOR_NAME_MAX;
}

ward_err ward_store_moderator_add(ward_store *st, const char *name,
                                  const char *pwhash, int role, int64_t now,
                                  int64_t *id)
{
    if (!name_ok(name) || !pwhash || !*pwhash ||
        strlen(pwhash) > WARD_PWHASH_MAX ||
        (role != WARD_ROLE_MODERATOR && role != WARD_ROLE_ADMIN))
        return WARD_ERR_INVALID_ARG;
    sqlite3_stmt *s = ward_sql_stmt(st, S_MOD_INSERT);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, pwhash, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, role);
    sqlite3_bind_int64(s, 4, now);
    ward_err e = ward_sql_exec(st, s, "moderator insert");
    if (!e && id)
        *id = sqlite3_last_insert_rowid(st->db);
    return e;
}

static void moderator_fill(sqlite3_stmt *s, ward_moderator *m)
{
    memset(m, 0, sizeof *m);
    m->id = sqlite3_column_int64(s, 0);
    ward_sql_text(s, 1, m->name, sizeof m->name);
    ward_sql_text(s, 2, m->pwhash, sizeof m->pwhash);
    m->role = sqlite3_column_int(s, 3);
    m->disabled = sqlite3_column_int(s, 4) != 0;
    m->created_at = sqlite3_column_int64(s, 5);
}

static ward_err moderator_row(ward_store *st, sqlite3_stmt *s,
                              ward_moderator *out)
{
    int rc = sqlite3_step(s);
    ward_err e = WARD_ERR_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        moderator_fill(s, out);
        e = WARD_OK;
    } else if (rc != SQLITE_DONE) {
        e = ward_sql_fail(st, "moderator lookup");
    }
    sqlite3_reset(s);
    return e;
}

ward_err ward_store_moderator_by_name(ward_store *st, const char *name,
                                      ward_moderator *out)
{
    if (!name)
        return WARD_ERR_INVALID_ARG;
    sqlite3_stmt *s = ward_sql_stmt(st, S_MOD_BY_NAME);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    return moderator_row(st, s, out);
}

ward_err ward_store_moderator_by_id(ward_store *st, int64_t id,
                                    ward_moderator *out)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_MOD_BY_ID);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    return moderator_row(st, s, out);
}

ward_err ward_store_moderator_set(ward_store *st, int64_t id, int role,
                                  int disabled)
{
    if (role != WARD_ROLE_MODERATOR && role != WARD_ROLE_ADMIN)
        return WARD_ERR_INVALID_ARG;
    ward_err e = ward_sql_begin(st);
    if (e)
        return e;
    sqlite3_stmt *s = ward_sql_stmt(st, S_MOD_SET);
    e = s ? WARD_OK : WARD_ERR_STORE;
    if (!e) {
        sqlite3_bind_int(s, 1, role);
        sqlite3_bind_int(s, 2, disabled != 0);
        sqlite3_bind_int64(s, 3, id);
        e = ward_sql_exec(st, s, "moderator update");
        if (!e && sqlite3_changes(st->db) == 0)
            e = WARD_ERR_NOT_FOUND;
    }
    /* A role change ends the sessions too: a demoted admin must log in
     * again rather than keep a session that was opened as an admin. */
    if (!e) {
        s = ward_sql_stmt(st, S_MOD_SESSIONS_END);
        e = s ? WARD_OK : WARD_ERR_STORE;
        if (!e) {
            sqlite3_bind_int64(s, 1, id);
            e = ward_sql_exec(st, s, "moderator sessions");
        }
    }
    if (e) {
        ward_sql_rollback(st);
        return e;
    }
    return ward_sql_commit(st);
}

ward_err ward_store_moderator_list(ward_store *st,
                                   int (*fn)(void *ctx,
                                             const ward_moderator *m),
                                   void *ctx)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_MOD_LIST);
    if (!s)
        return WARD_ERR_STORE;
    ward_err e = WARD_OK;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ward_moderator m;
        moderator_fill(s, &m);
        int stop = fn(ctx, &m);
        ward_memzero(m.pwhash, sizeof m.pwhash);
        if (stop)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = ward_sql_fail(st, "moderator list");
    sqlite3_reset(s);
    return e;
}

/* ---- console sessions ---- */

ward_err ward_store_console_session_put(ward_store *st,
                                        const uint8_t hash[32],
                                        int64_t moderator,
                                        const uint8_t csrf[32],
                                        int64_t expires_at)
{
    if (!hash || !csrf)
        return WARD_ERR_INVALID_ARG;
    sqlite3_stmt *s = ward_sql_stmt(st, S_CSESSION_INSERT);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, moderator);
    sqlite3_bind_blob(s, 3, csrf, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, expires_at);
    return ward_sql_exec(st, s, "console session insert");
}

ward_err ward_store_console_session_check(ward_store *st,
                                          const uint8_t hash[32], int64_t now,
                                          int64_t *moderator,
                                          uint8_t csrf[32])
{
    if (!hash)
        return WARD_ERR_INVALID_ARG;
    sqlite3_stmt *s = ward_sql_stmt(st, S_CSESSION_CHECK);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    int rc = sqlite3_step(s);
    ward_err e = WARD_ERR_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        uint8_t c[32];
        if (ward_sql_blob(s, 1, c, sizeof c) == 0) {
            if (moderator)
                *moderator = sqlite3_column_int64(s, 0);
            if (csrf)
                memcpy(csrf, c, sizeof c);
            e = WARD_OK;
        } else {
            e = WARD_ERR_STORE; /* a row we did not write */
            ward_sql_fail(st, "console session: bad csrf column");
        }
        ward_memzero(c, sizeof c);
    } else if (rc != SQLITE_DONE) {
        e = ward_sql_fail(st, "console session check");
    }
    sqlite3_reset(s);
    return e;
}

ward_err ward_store_console_session_purge(ward_store *st, int64_t now,
                                          size_t *removed)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_CSESSION_PURGE);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, now);
    ward_err e = ward_sql_exec(st, s, "console session purge");
    if (!e && removed)
        *removed = (size_t)sqlite3_changes(st->db);
    return e;
}

ward_err ward_store_console_session_delete(ward_store *st,
                                           const uint8_t hash[32])
{
    if (!hash)
        return WARD_ERR_INVALID_ARG;
    sqlite3_stmt *s = ward_sql_stmt(st, S_CSESSION_DELETE);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
    ward_err e = ward_sql_exec(st, s, "console session delete");
    if (!e && sqlite3_changes(st->db) == 0)
        e = WARD_ERR_NOT_FOUND;
    return e;
}

/* ---- the audit log ---- */

static void put_field(ward_sha256_ctx *c, const void *p, size_t n)
{
    uint8_t len[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16),
                      (uint8_t)(n >> 8), (uint8_t)n};
    ward_sha256_update(c, len, sizeof len);
    if (n)
        ward_sha256_update(c, p, n);
}

static void put_int(ward_sha256_ctx *c, int64_t v)
{
    uint8_t b[8];
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--, u >>= 8)
        b[i] = (uint8_t)u;
    put_field(c, b, sizeof b);
}

static void put_str(ward_sha256_ctx *c, const char *s, size_t cap)
{
    const char *end = memchr(s, 0, cap);
    put_field(c, s, end ? (size_t)(end - s) : cap);
}

/*
 * Each field with its length in front, so that no two different entries
 * hash the same bytes (moving a character from |action| into |detail|
 * changes the hash).
 */
static void audit_hash(const uint8_t prev[32], const ward_audit_entry *e,
                       uint8_t out[32])
{
    ward_sha256_ctx c;
    static const char domain[] = "ward-audit-v1";
    ward_sha256_init(&c);
    put_field(&c, domain, sizeof domain - 1);
    ward_sha256_update(&c, prev, 32);
    put_int(&c, e->id);
    put_int(&c, e->at);
    put_int(&c, e->moderator);
    put_str(&c, e->moderator_name, sizeof e->moderator_name);
    put_str(&c, e->action, sizeof e->action);
    put_int(&c, e->report);
    put_int(&c, e->subject);
    put_str(&c, e->detail, sizeof e->detail);
    ward_sha256_final(&c, out);
}

static int terminated(const char *s, size_t cap)
{
    return memchr(s, 0, cap) != NULL;
}

ward_err ward_store_audit_append(ward_store *st, ward_audit_entry *entry)
{
    if (!entry ||
        !terminated(entry->moderator_name, sizeof entry->moderator_name) ||
        !terminated(entry->action, sizeof entry->action) ||
        !entry->action[0] || !terminated(entry->detail, sizeof entry->detail))
        return WARD_ERR_INVALID_ARG;
    /* The previous entry is read and the new one written in one
     * IMMEDIATE transaction, so two writers cannot both chain onto the
     * same predecessor. */
    ward_err e = ward_sql_begin(st);
    if (e)
        return e;
    uint8_t prev[32] = {0};
    int64_t last = 0;
    sqlite3_stmt *s = ward_sql_stmt(st, S_AUDIT_LAST);
    if (!s) {
        e = WARD_ERR_STORE;
        goto fail;
    }
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        last = sqlite3_column_int64(s, 0);
        if (ward_sql_blob(s, 1, prev, sizeof prev) != 0) {
            sqlite3_reset(s);
            e = ward_sql_fail(st, "audit: bad hash column");
            goto fail;
        }
    } else if (rc != SQLITE_DONE) {
        sqlite3_reset(s);
        e = ward_sql_fail(st, "audit last");
        goto fail;
    }
    sqlite3_reset(s);

    ward_audit_entry n = *entry;
    n.id = last + 1;
    audit_hash(prev, &n, n.hash);
    s = ward_sql_stmt(st, S_AUDIT_INSERT);
    if (!s) {
        e = WARD_ERR_STORE;
        goto fail;
    }
    sqlite3_bind_int64(s, 1, n.id);
    sqlite3_bind_int64(s, 2, n.at);
    sqlite3_bind_int64(s, 3, n.moderator);
    sqlite3_bind_text(s, 4, n.moderator_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, n.action, -1, SQLITE_STATIC);
    if (n.report)
        sqlite3_bind_int64(s, 6, n.report);
    else
        sqlite3_bind_null(s, 6);
    if (n.subject)
        sqlite3_bind_int64(s, 7, n.subject);
    else
        sqlite3_bind_null(s, 7);
    sqlite3_bind_text(s, 8, n.detail, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 9, n.hash, 32, SQLITE_STATIC);
    e = ward_sql_exec(st, s, "audit insert");
    if (e)
        goto fail;
    e = ward_sql_commit(st);
    if (!e) {
        entry->id = n.id;
        memcpy(entry->hash, n.hash, sizeof n.hash);
    }
    return e;
fail:
    ward_sql_rollback(st);
    return e;
}

static int audit_fill(sqlite3_stmt *s, ward_audit_entry *e)
{
    memset(e, 0, sizeof *e);
    e->id = sqlite3_column_int64(s, 0);
    e->at = sqlite3_column_int64(s, 1);
    e->moderator = sqlite3_column_int64(s, 2);
    ward_sql_text(s, 3, e->moderator_name, sizeof e->moderator_name);
    ward_sql_text(s, 4, e->action, sizeof e->action);
    e->report = sqlite3_column_int64(s, 5); /* NULL reads as 0 */
    e->subject = sqlite3_column_int64(s, 6);
    ward_sql_text(s, 7, e->detail, sizeof e->detail);
    return ward_sql_blob(s, 8, e->hash, sizeof e->hash);
}

ward_err ward_store_audit_list(ward_store *st, int64_t before, size_t limit,
                               int (*fn)(void *ctx,
                                         const ward_audit_entry *e),
                               void *ctx)
{
    if (limit == 0)
        return WARD_OK;
    sqlite3_stmt *s = ward_sql_stmt(st, S_AUDIT_LIST);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, before > 0 ? before : INT64_MAX);
    sqlite3_bind_int64(s, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    ward_err e = WARD_OK;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ward_audit_entry a;
        (void)audit_fill(s, &a); /* a bad hash shows as zeros; verify
                                    reports it */
        if (fn(ctx, &a))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = ward_sql_fail(st, "audit list");
    sqlite3_reset(s);
    return e;
}

ward_err ward_store_audit_verify(ward_store *st, int64_t *bad_id)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_AUDIT_ALL);
    if (!s)
        return WARD_ERR_STORE;
    uint8_t prev[32] = {0}, want[32];
    int64_t bad = 0, expect_id = 1;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ward_audit_entry a;
        int ok = audit_fill(s, &a) == 0;
        audit_hash(prev, &a, want);
        /* Ids are consecutive from 1: a gap is a deleted entry. */
        if (!ok || a.id != expect_id ||
            !ward_ct_equal(want, a.hash, sizeof want)) {
            bad = a.id;
            break;
        }
        memcpy(prev, a.hash, sizeof prev);
        expect_id++;
    }
    ward_err e = WARD_OK;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = ward_sql_fail(st, "audit verify");
    sqlite3_reset(s);
    if (!e && bad_id)
        *bad_id = bad;
    return e;
}
