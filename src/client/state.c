/* The client's local state: one SQLite file per account and server. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ward/client.h"

struct ward_client_state {
    sqlite3 *db;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, "
    "  value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, "
    "  bytes BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS sessions (peer TEXT PRIMARY KEY, "
    "  record BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS seen (id INTEGER PRIMARY KEY);";

ward_err ward_client_state_open(ward_client_state **out, const char *path,
                                char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = 0;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (err && errlen)
            snprintf(err, errlen, "cannot open '%s': %s", path,
                     strerror(errno));
        return WARD_ERR_IO;
    }
    close(fd);
    ward_client_state *cs = calloc(1, sizeof *cs);
    if (!cs)
        return WARD_ERR_NOMEM;
    char *msg = NULL;
    if (sqlite3_open_v2(path, &cs->db, SQLITE_OPEN_READWRITE, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(cs->db,
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                     /* Old session states hold old keys: overwrite
                      * what is deleted rather than leave it on disk. */
                     "PRAGMA secure_delete = ON;",
                     NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(cs->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        if (err && errlen)
            snprintf(err, errlen, "'%s': %s", path,
                     msg ? msg : sqlite3_errmsg(cs->db));
        sqlite3_free(msg);
        ward_client_state_close(cs);
        return WARD_ERR_STORE;
    }
    sqlite3_busy_timeout(cs->db, 5000);
    *out = cs;
    return WARD_OK;
}

void ward_client_state_close(ward_client_state *cs)
{
    if (!cs)
        return;
    sqlite3_close(cs->db);
    free(cs);
}

/* Each path component made safe: letters, digits, '.', '-', '_' kept,
 * everything else (the "://", ':' of a port, '/') becomes '_'. */
static void safe_name(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    for (; *src && n + 1 < cap; src++) {
        char c = *src;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '.' || c == '-';
        dst[n++] = ok ? c : '_';
    }
    dst[n] = 0;
}

static ward_err make_dir(const char *p)
{
    if (mkdir(p, 0700) == 0 || errno == EEXIST)
        return WARD_OK;
    return WARD_ERR_IO;
}

ward_err ward_client_state_path(const char *server, const char *user,
                                char *out, size_t cap)
{
    char base[1024], srv[256], usr[64];
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(base, sizeof base, "%s", xdg);
    else if (home && *home)
        snprintf(base, sizeof base, "%s/.local/share", home);
    else
        return WARD_ERR_INVALID_ARG;
    safe_name(srv, sizeof srv, server);
    safe_name(usr, sizeof usr, user);
    if (!srv[0] || !usr[0])
        return WARD_ERR_INVALID_ARG;
    char dir[2048];
    int n = snprintf(dir, sizeof dir, "%s/ward", base);
    if (n < 0 || (size_t)n >= sizeof dir)
        return WARD_ERR_TOO_BIG;
    /* $XDG_DATA_HOME itself may be missing on a fresh account. */
    if (make_dir(base) || make_dir(dir))
        return WARD_ERR_IO;
    snprintf(dir + n, sizeof dir - (size_t)n, "/%s", srv);
    if (make_dir(dir))
        return WARD_ERR_IO;
    size_t len = strlen(dir);
    snprintf(dir + len, sizeof dir - len, "/%s", usr);
    if (make_dir(dir))
        return WARD_ERR_IO;
    n = snprintf(out, cap, "%s/state.db", dir);
    return n < 0 || (size_t)n >= cap ? WARD_ERR_TOO_BIG : WARD_OK;
}

static ward_err run(ward_client_state *cs, const char *sql)
{
    return sqlite3_exec(cs->db, sql, NULL, NULL, NULL) == SQLITE_OK
               ? WARD_OK
               : WARD_ERR_STORE;
}

ward_err ward_client_state_begin(ward_client_state *cs)
{
    return run(cs, "BEGIN IMMEDIATE");
}

ward_err ward_client_state_commit(ward_client_state *cs)
{
    ward_err e = run(cs, "COMMIT");
    if (e)
        ward_client_state_rollback(cs);
    return e;
}

void ward_client_state_rollback(ward_client_state *cs)
{
    if (!sqlite3_get_autocommit(cs->db))
        (void)run(cs, "ROLLBACK");
}

/* Runs |sql| with up to two text and one blob parameter, no rows. */
static ward_err exec3(ward_client_state *cs, const char *sql, const char *t1,
                      const char *t2, const void *blob, size_t n)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(cs->db, sql, -1, &s, NULL) != SQLITE_OK)
        return WARD_ERR_STORE;
    int i = 1;
    if (t1)
        sqlite3_bind_text(s, i++, t1, -1, SQLITE_STATIC);
    if (t2)
        sqlite3_bind_text(s, i++, t2, -1, SQLITE_STATIC);
    if (blob)
        sqlite3_bind_blob(s, i++, blob, (int)n, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? WARD_OK : WARD_ERR_STORE;
}

ward_err ward_client_state_set(ward_client_state *cs, const char *key,
                               const char *value)
{
    if (!key || !value || strlen(value) > 1024)
        return WARD_ERR_INVALID_ARG;
    return exec3(cs, "INSERT OR REPLACE INTO settings(key, value) "
                     "VALUES (?, ?)",
                 key, value, NULL, 0);
}

ward_err ward_client_state_each(ward_client_state *cs, const char *prefix,
                                int (*fn)(void *ctx, const char *key,
                                          const char *value),
                                void *ctx)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(cs->db,
                           "SELECT key, value FROM settings WHERE "
                           "substr(key, 1, length(?1)) = ?1 ORDER BY key",
                           -1, &s, NULL) != SQLITE_OK)
        return WARD_ERR_STORE;
    sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (fn(ctx, (const char *)sqlite3_column_text(s, 0),
               (const char *)sqlite3_column_text(s, 1)))
            break;
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? WARD_OK : WARD_ERR_STORE;
}

ward_err ward_client_state_unset(ward_client_state *cs, const char *key)
{
    return exec3(cs, "DELETE FROM settings WHERE key = ?", key, NULL, NULL,
                 0);
}

ward_err ward_client_state_get(ward_client_state *cs, const char *key,
                               char *out, size_t cap)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(cs->db, "SELECT value FROM settings WHERE key = ?",
                           -1, &s, NULL) != SQLITE_OK)
        return WARD_ERR_STORE;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    ward_err e = WARD_ERR_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(s, 0);
        if (n + 1 > cap) {
            e = WARD_ERR_TOO_BIG;
        } else {
            memcpy(out, sqlite3_column_text(s, 0), n);
            out[n] = 0;
            e = WARD_OK;
        }
    } else if (rc != SQLITE_DONE) {
        e = WARD_ERR_STORE;
    }
    sqlite3_finalize(s);
    return e;
}

/* Reads a blob row into |out|; the caller wipes it. */
static ward_err get_blob(ward_client_state *cs, const char *sql,
                         const char *key, ward_buf *out)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(cs->db, sql, -1, &s, NULL) != SQLITE_OK)
        return WARD_ERR_STORE;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    ward_err e = WARD_ERR_NOT_FOUND;
    if (rc == SQLITE_ROW)
        e = ward_buf_append(out, sqlite3_column_blob(s, 0),
                            (size_t)sqlite3_column_bytes(s, 0));
    else if (rc != SQLITE_DONE)
        e = WARD_ERR_STORE;
    sqlite3_finalize(s);
    return e;
}

static ward_err put_secret(ward_client_state *cs, const char *name,
                           const ward_buf *b)
{
    return exec3(cs, "INSERT OR REPLACE INTO secrets(name, bytes) "
                     "VALUES (?, ?)",
                 name, NULL, b->data ? (const void *)b->data : "", b->len);
}

ward_err ward_client_state_put_identity(ward_client_state *cs,
                                        const ward_identity *id)
{
    ward_buf b;
    ward_buf_init(&b, 0);
    ward_err e = ward_identity_serialize(id, &b);
    if (!e)
        e = put_secret(cs, "identity", &b);
    ward_buf_release(&b);
    return e;
}

ward_err ward_client_state_get_identity(ward_client_state *cs,
                                        ward_identity **out)
{
    ward_buf b;
    ward_buf_init(&b, 0);
    ward_err e = get_blob(cs, "SELECT bytes FROM secrets WHERE name = ?",
                          "identity", &b);
    if (!e)
        e = ward_identity_deserialize(out, b.data, b.len);
    ward_buf_release(&b);
    return e;
}

ward_err ward_client_state_put_prekeys(ward_client_state *cs,
                                       const ward_prekeys *pk)
{
    ward_buf b;
    ward_buf_init(&b, 0);
    ward_err e = ward_prekeys_serialize(pk, &b);
    if (!e)
        e = put_secret(cs, "prekeys", &b);
    ward_buf_release(&b);
    return e;
}

ward_err ward_client_state_get_prekeys(ward_client_state *cs,
                                       ward_prekeys **out)
{
    ward_buf b;
    ward_buf_init(&b, 0);
    ward_err e = get_blob(cs, "SELECT bytes FROM secrets WHERE name = ?",
                          "prekeys", &b);
    if (!e)
        e = ward_prekeys_deserialize(out, b.data, b.len);
    ward_buf_release(&b);
    return e;
}

ward_err ward_client_state_put_session(ward_client_state *cs,
                                       const char *peer,
                                       const ward_session *s)
{
    ward_buf b;
    ward_buf_init(&b, 0);
    ward_err e = ward_session_serialize(s, &b);
    if (!e)
        e = exec3(cs, "INSERT OR REPLACE INTO sessions(peer, record) "
                      "VALUES (?, ?)",
                  peer, NULL, b.data, b.len);
    ward_buf_release(&b);
    return e;
}

ward_err ward_client_state_get_session(ward_client_state *cs,
                                       const char *peer, ward_session **out)
{
    ward_buf b;
    ward_buf_init(&b, 0);
    ward_err e = get_blob(cs, "SELECT record FROM sessions WHERE peer = ?",
                          peer, &b);
    if (!e)
        e = ward_session_deserialize(out, b.data, b.len);
    ward_buf_release(&b);
    return e;
}

ward_err ward_client_state_mark_seen(ward_client_state *cs, int64_t id)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(cs->db, "INSERT OR IGNORE INTO seen(id) VALUES (?)",
                           -1, &s, NULL) != SQLITE_OK)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? WARD_OK : WARD_ERR_STORE;
}

ward_err ward_client_state_was_seen(ward_client_state *cs, int64_t id,
                                    int *seen)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(cs->db, "SELECT 1 FROM seen WHERE id = ?", -1, &s,
                           NULL) != SQLITE_OK)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return WARD_ERR_STORE;
    *seen = rc == SQLITE_ROW;
    return WARD_OK;
}
