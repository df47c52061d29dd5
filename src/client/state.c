/* The client's local state: one SQLite file per account and server. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state_internal.h"
#include "ward/client.h"
#include "ward/crypto.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, "
    "  value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, "
    "  bytes BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS sessions (peer TEXT PRIMARY KEY, "
    "  record BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS seen (id INTEGER PRIMARY KEY);"
    /* What a report of a shown message reveals (client.h). */
    "CREATE TABLE IF NOT EXISTS shown (id INTEGER PRIMARY KEY, "
    "  peer TEXT NOT NULL, peer_id INTEGER NOT NULL, "
    "  server_time INTEGER NOT NULL, content BLOB NOT NULL, "
    "  commitment BLOB NOT NULL, tag BLOB, key_id INTEGER, "
    "  shown_at INTEGER NOT NULL, group_id INTEGER);"
    "CREATE INDEX IF NOT EXISTS shown_by_time ON shown(shown_at);"
    "CREATE INDEX IF NOT EXISTS shown_by_peer ON shown(peer, id);";

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A state made before groups keeps its messages without a group id: the
 * column is added once (NULL: a direct message). */
static int add_group_column(sqlite3 *db, char **msg)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "SELECT group_id FROM shown LIMIT 0", -1, &s,
                           NULL) == SQLITE_OK) {
        sqlite3_finalize(s);
        return SQLITE_OK;
    }
    return sqlite3_exec(db, "ALTER TABLE shown ADD COLUMN group_id INTEGER",
                        NULL, NULL, msg);
}

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
        sqlite3_exec(cs->db, schema, NULL, NULL, &msg) != SQLITE_OK ||
        add_group_column(cs->db, &msg) != SQLITE_OK ||
        ward_client_group_schema(cs->db) != WARD_OK) {
        if (err && errlen)
            snprintf(err, errlen, "'%s': %s", path,
                     msg ? msg : sqlite3_errmsg(cs->db));
        sqlite3_free(msg);
        ward_client_state_close(cs);
        return WARD_ERR_STORE;
    }
    sqlite3_busy_timeout(cs->db, 5000);
    /* Plaintext is not kept past its retention period, even by a client
     * that no longer receives. A failure here (the file busy for longer
     * than the timeout) is not worth refusing to open for: the next
     * receive purges again. */
    (void)ward_client_state_purge_expired(cs, wall_ms(), NULL);
    *out = cs;
    return WARD_OK;
}

void ward_client_state_close(ward_client_state *cs)
{
    if (!cs)
        return;
    /* secure_delete overwrites freed pages in the database file, not the
     * old page images in its write-ahead log: those (old chain and message
     * keys) are copied back and the log cut to nothing here, when no other
     * process of this account is reading. */
    if (cs->db)
        (void)sqlite3_exec(cs->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL,
                           NULL, NULL);
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

/* ---- kept messages ---- */

void ward_client_reveal_release(ward_client_reveal *r)
{
    if (!r)
        return;
    if (r->content) {
        ward_memzero(r->content, r->content_len);
        free(r->content);
    }
    ward_memzero(r, sizeof *r);
}

ward_err ward_client_state_put_reveal(ward_client_state *cs,
                                      const ward_client_reveal *r)
{
    size_t from_len = r ? strnlen(r->from, sizeof r->from) : 0;
    if (!r || r->id <= 0 || !r->content || r->content_len == 0 ||
        r->content_len > INT32_MAX || from_len == 0 ||
        from_len >= sizeof r->from)
        return WARD_ERR_INVALID_ARG;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(cs->db,
                           "INSERT INTO shown(id, peer, peer_id, server_time, "
                           "content, commitment, tag, key_id, shown_at, "
                           "group_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &s, NULL) != SQLITE_OK)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, r->id);
    sqlite3_bind_text(s, 2, r->from, (int)from_len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, r->from_id);
    sqlite3_bind_int64(s, 4, r->server_time);
    sqlite3_bind_blob(s, 5, r->content, (int)r->content_len, SQLITE_STATIC);
    sqlite3_bind_blob(s, 6, r->commitment, sizeof r->commitment,
                      SQLITE_STATIC);
    if (r->has_tag) {
        sqlite3_bind_blob(s, 7, r->tag, sizeof r->tag, SQLITE_STATIC);
        sqlite3_bind_int64(s, 8, r->key_id);
    }
    sqlite3_bind_int64(s, 9, r->shown_at);
    if (r->group > 0)
        sqlite3_bind_int64(s, 10, r->group);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc == SQLITE_CONSTRAINT)
        return WARD_ERR_EXISTS;
    return rc == SQLITE_DONE ? WARD_OK : WARD_ERR_STORE;
}

#define REVEAL_COLUMNS                                                   \
    "SELECT id, peer, peer_id, server_time, content, commitment, tag, "  \
    "key_id, shown_at, group_id FROM shown "

/* One row into |out| (content copied); WARD_ERR_BAD_STATE for a row this
 * code did not write (a blob of the wrong size). */
static ward_err reveal_from_row(sqlite3_stmt *s, ward_client_reveal *out)
{
    ward_client_reveal r;
    memset(&r, 0, sizeof r);
    const unsigned char *peer = sqlite3_column_text(s, 1);
    int peer_len = sqlite3_column_bytes(s, 1);
    const void *content = sqlite3_column_blob(s, 4);
    int content_len = sqlite3_column_bytes(s, 4);
    int tag_type = sqlite3_column_type(s, 6);
    if (!peer || peer_len <= 0 || (size_t)peer_len >= sizeof r.from ||
        !content || content_len <= 0 ||
        sqlite3_column_bytes(s, 5) != (int)sizeof r.commitment ||
        (tag_type != SQLITE_NULL &&
         sqlite3_column_bytes(s, 6) != (int)sizeof r.tag))
        return WARD_ERR_BAD_STATE;
    r.id = sqlite3_column_int64(s, 0);
    memcpy(r.from, peer, (size_t)peer_len);
    r.from_id = sqlite3_column_int64(s, 2);
    r.server_time = sqlite3_column_int64(s, 3);
    memcpy(r.commitment, sqlite3_column_blob(s, 5), sizeof r.commitment);
    if (tag_type != SQLITE_NULL) {
        r.has_tag = 1;
        memcpy(r.tag, sqlite3_column_blob(s, 6), sizeof r.tag);
        r.key_id = sqlite3_column_int64(s, 7);
    }
    r.shown_at = sqlite3_column_int64(s, 8);
    r.group = sqlite3_column_int64(s, 9); /* NULL reads as 0 */
    r.content = malloc((size_t)content_len);
    if (!r.content)
        return WARD_ERR_NOMEM;
    memcpy(r.content, content, (size_t)content_len);
    r.content_len = (size_t)content_len;
    *out = r;
    return WARD_OK;
}

ward_err ward_client_state_get_reveal(ward_client_state *cs, int64_t id,
                                      ward_client_reveal *out)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(cs->db, REVEAL_COLUMNS "WHERE id = ?", -1, &s,
                           NULL) != SQLITE_OK)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    ward_err e = WARD_ERR_NOT_FOUND;
    if (rc == SQLITE_ROW)
        e = reveal_from_row(s, out);
    else if (rc != SQLITE_DONE)
        e = WARD_ERR_STORE;
    sqlite3_finalize(s);
    return e;
}

ward_err ward_client_state_each_reveal(ward_client_state *cs,
                                       const char *peer,
                                       int (*fn)(void *ctx,
                                                 const ward_client_reveal *r),
                                       void *ctx)
{
    sqlite3_stmt *s;
    const char *sql = peer ? REVEAL_COLUMNS "WHERE peer = ? ORDER BY id"
                           : REVEAL_COLUMNS "ORDER BY id";
    if (sqlite3_prepare_v2(cs->db, sql, -1, &s, NULL) != SQLITE_OK)
        return WARD_ERR_STORE;
    if (peer)
        sqlite3_bind_text(s, 1, peer, -1, SQLITE_STATIC);
    int rc;
    ward_err e = WARD_OK;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ward_client_reveal r;
        if ((e = reveal_from_row(s, &r)))
            break;
        int stop = fn(ctx, &r);
        ward_client_reveal_release(&r);
        if (stop)
            break;
    }
    if (!e && rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = WARD_ERR_STORE;
    sqlite3_finalize(s);
    return e;
}

ward_err ward_client_state_purge_reveals(ward_client_state *cs,
                                         int64_t before_ms, size_t *purged)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(cs->db, "DELETE FROM shown WHERE shown_at < ?", -1,
                           &s, NULL) != SQLITE_OK)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, before_ms);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return WARD_ERR_STORE;
    if (purged)
        *purged = (size_t)sqlite3_changes(cs->db);
    return WARD_OK;
}

ward_err ward_client_state_purge_expired(ward_client_state *cs,
                                         int64_t now_ms, int *days)
{
    char v[32];
    int keep = WARD_CLIENT_KEEP_DAYS_DEFAULT;
    if (ward_client_state_get(cs, WARD_CLIENT_KEEP_DAYS_KEY, v, sizeof v) ==
        WARD_OK) {
        char *end = NULL;
        long d = strtol(v, &end, 10);
        /* A setting that makes no sense falls back to the default rather
         * than keeping plaintext for ever or dropping it at once. */
        if (end != v && *end == 0 && d >= 1 && d <= 3650)
            keep = (int)d;
    }
    if (days)
        *days = keep;
    return ward_client_state_purge_reveals(
        cs, now_ms - (int64_t)keep * 24 * 3600 * 1000, NULL);
}
