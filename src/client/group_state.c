/*
 * What the client keeps about groups in its state file: each group's
 * members as last seen (and the epoch of that view), the sender key
 * records (our own per group, one per member who sent us theirs), who
 * holds our current key, and group messages that wait for their sender's
 * key. The records hold private keys: the file is 0600 and runs with
 * secure_delete, every serialised copy is wiped (ward_buf_release), and
 * the write-ahead log, which secure_delete does not reach, is cut to
 * nothing when the state is closed (until then it holds old pages).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group_internal.h"
#include "state_internal.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS groups (id INTEGER PRIMARY KEY, "
    "  name TEXT NOT NULL DEFAULT '', epoch INTEGER NOT NULL DEFAULT 0, "
    "  members_epoch INTEGER NOT NULL DEFAULT 0, "
    "  key_epoch INTEGER NOT NULL DEFAULT 0, "
    "  rotate_after INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS group_members (group_id INTEGER NOT NULL, "
    "  account INTEGER NOT NULL, username TEXT NOT NULL, "
    "  joined_at INTEGER NOT NULL, PRIMARY KEY (group_id, account)) "
    "  WITHOUT ROWID;"
    /* Who was handed our current key (refused_epoch 0), or could not be
     * at that members_epoch (negated: the contact rules refused it). */
    "CREATE TABLE IF NOT EXISTS group_holders (group_id INTEGER NOT NULL, "
    "  account INTEGER NOT NULL, username TEXT NOT NULL, "
    "  joined_at INTEGER NOT NULL, refused_epoch INTEGER NOT NULL, "
    "  PRIMARY KEY (group_id, account)) WITHOUT ROWID;"
    /* sender '' is our own sending record (usernames have 3 characters
     * or more). */
    "CREATE TABLE IF NOT EXISTS group_keys (group_id INTEGER NOT NULL, "
    "  sender TEXT NOT NULL, record BLOB NOT NULL, "
    "  PRIMARY KEY (group_id, sender)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS group_pending (id INTEGER PRIMARY KEY, "
    "  group_id INTEGER NOT NULL, sender TEXT NOT NULL, msg TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS group_pending_by "
    "  ON group_pending(group_id, sender, id);";

ward_err ward_client_group_schema(sqlite3 *db)
{
    return sqlite3_exec(db, schema, NULL, NULL, NULL) == SQLITE_OK
               ? WARD_OK
               : WARD_ERR_STORE;
}

void ward_gs_content_id(int64_t gid, uint8_t out[8])
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)((uint64_t)gid >> (56 - 8 * i));
}

static sqlite3_stmt *prep(ward_client_state *cs, const char *sql)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(cs->db, sql, -1, &s, NULL) != SQLITE_OK)
        return NULL;
    return s;
}

/* Steps a statement that returns no rows, and finalises it. */
static ward_err done(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? WARD_OK : WARD_ERR_STORE;
}

static ward_err ensure_row(ward_client_state *cs, int64_t gid)
{
    sqlite3_stmt *s = prep(cs, "INSERT OR IGNORE INTO groups(id) VALUES (?)");
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, gid);
    return done(s);
}

/* Room for one more of |n| in |*arr| (|*cap| long). */
static ward_err grow(gs_member **arr, size_t *cap, size_t n)
{
    if (n < *cap)
        return WARD_OK;
    size_t nc = *cap ? *cap * 2 : 16;
    gs_member *p = realloc(*arr, nc * sizeof *p);
    if (!p)
        return WARD_ERR_NOMEM;
    *arr = p, *cap = nc;
    return WARD_OK;
}

ward_err ward_gs_get(ward_client_state *cs, int64_t gid, gs_group *out)
{
    sqlite3_stmt *s = prep(cs, "SELECT name, epoch, members_epoch, "
                               "key_epoch, rotate_after FROM groups "
                               "WHERE id = ?");
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, gid);
    int rc = sqlite3_step(s);
    ward_err e = WARD_ERR_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        gs_group g;
        memset(&g, 0, sizeof g);
        g.id = gid;
        const unsigned char *name = sqlite3_column_text(s, 0);
        snprintf(g.name, sizeof g.name, "%s", name ? (const char *)name : "");
        g.epoch = sqlite3_column_int64(s, 1);
        g.members_epoch = sqlite3_column_int64(s, 2);
        g.key_epoch = sqlite3_column_int64(s, 3);
        g.rotate_after = sqlite3_column_int64(s, 4);
        *out = g;
        e = WARD_OK;
    } else if (rc != SQLITE_DONE) {
        e = WARD_ERR_STORE;
    }
    sqlite3_finalize(s);
    return e;
}

ward_err ward_gs_set_name(ward_client_state *cs, int64_t gid,
                          const char *name)
{
    ward_err e = ensure_row(cs, gid);
    sqlite3_stmt *s = e ? NULL
                        : prep(cs, "UPDATE groups SET name = ? WHERE id = ?");
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, gid);
    return done(s);
}

ward_err ward_gs_note_epoch(ward_client_state *cs, int64_t gid,
                            int64_t epoch, int removal)
{
    ward_err e = ensure_row(cs, gid);
    sqlite3_stmt *s =
        e ? NULL
          : prep(cs, "UPDATE groups SET epoch = max(epoch, ?1), "
                     "rotate_after = CASE WHEN ?2 THEN max(rotate_after, ?1) "
                     "ELSE rotate_after END WHERE id = ?3");
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, epoch);
    sqlite3_bind_int(s, 2, removal != 0);
    sqlite3_bind_int64(s, 3, gid);
    return done(s);
}

/* 1 if a member of |old| is not in |m| as the same member (gone, or gone
 * and back with another join time). */
static int someone_went(const gs_member *old, size_t nold, const gs_member *m,
                        size_t n)
{
    for (size_t i = 0; i < nold; i++) {
        size_t k = 0;
        while (k < n && (m[k].account != old[i].account ||
                         m[k].joined_at != old[i].joined_at))
            k++;
        if (k == n)
            return 1;
    }
    return 0;
}

ward_err ward_gs_set_members(ward_client_state *cs, int64_t gid,
                             int64_t epoch, const gs_member *m, size_t n)
{
    ward_err e = ensure_row(cs, gid);
    gs_group g;
    gs_member *old = NULL;
    size_t nold = 0;
    if (!e)
        e = ward_gs_get(cs, gid, &g);
    /* A slower fetch (another process's) never replaces a newer view. */
    if (!e && epoch < g.members_epoch)
        return WARD_OK;
    /* Someone in the view we kept is gone: they may hold our key, handed
     * by a send whose answer was lost, so it is replaced before the next
     * send, whatever told us (an event, a 409, a listing). */
    if (!e && !(e = ward_gs_members(cs, gid, 0, &old, &nold)) &&
        someone_went(old, nold, m, n))
        e = ward_gs_note_epoch(cs, gid, epoch, 1);
    free(old);
    sqlite3_stmt *s = e ? NULL
                        : prep(cs, "DELETE FROM group_members WHERE "
                                   "group_id = ?");
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, gid);
    if ((e = done(s)))
        return e;
    for (size_t i = 0; i < n && !e; i++) {
        if (!(s = prep(cs, "INSERT OR REPLACE INTO group_members(group_id, "
                           "account, username, joined_at) VALUES (?,?,?,?)")))
            return WARD_ERR_STORE;
        sqlite3_bind_int64(s, 1, gid);
        sqlite3_bind_int64(s, 2, m[i].account);
        sqlite3_bind_text(s, 3, m[i].username, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, m[i].joined_at);
        e = done(s);
    }
    if (e)
        return e;
    if (!(s = prep(cs, "UPDATE groups SET members_epoch = ?1, "
                       "epoch = max(epoch, ?1) WHERE id = ?2")))
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, epoch);
    sqlite3_bind_int64(s, 2, gid);
    return done(s);
}

ward_err ward_gs_members(ward_client_state *cs, int64_t gid, int holders,
                         gs_member **out, size_t *n)
{
    sqlite3_stmt *s = prep(
        cs, holders ? "SELECT account, username, joined_at, refused_epoch "
                      "FROM group_holders WHERE group_id = ? ORDER BY account"
                    : "SELECT account, username, joined_at, 0 FROM "
                      "group_members WHERE group_id = ? ORDER BY account");
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, gid);
    gs_member *arr = NULL;
    size_t len = 0, cap = 0;
    int rc;
    ward_err e = WARD_OK;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if ((e = grow(&arr, &cap, len)))
            break;
        gs_member *m = &arr[len++];
        memset(m, 0, sizeof *m);
        m->account = sqlite3_column_int64(s, 0);
        const unsigned char *u = sqlite3_column_text(s, 1);
        snprintf(m->username, sizeof m->username, "%s",
                 u ? (const char *)u : "");
        m->joined_at = sqlite3_column_int64(s, 2);
        m->refused_epoch = sqlite3_column_int64(s, 3);
    }
    if (!e && rc != SQLITE_DONE)
        e = WARD_ERR_STORE;
    sqlite3_finalize(s);
    if (e) {
        free(arr);
        return e;
    }
    *out = arr;
    *n = len;
    return WARD_OK;
}

/* Runs |sql| with the group id as its one parameter. */
static ward_err by_group(ward_client_state *cs, const char *sql, int64_t gid)
{
    sqlite3_stmt *s = prep(cs, sql);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, gid);
    return done(s);
}

ward_err ward_gs_forget(ward_client_state *cs, int64_t gid)
{
    static const char *const sql[] = {
        "DELETE FROM group_keys WHERE group_id = ?",
        "DELETE FROM group_holders WHERE group_id = ?",
        "DELETE FROM group_members WHERE group_id = ?",
        "DELETE FROM group_pending WHERE group_id = ?",
        "DELETE FROM groups WHERE id = ?",
    };
    ward_err e = WARD_OK;
    for (size_t i = 0; !e && i < sizeof sql / sizeof sql[0]; i++)
        e = by_group(cs, sql[i], gid);
    return e;
}

ward_err ward_gs_get_key(ward_client_state *cs, int64_t gid,
                         const char *sender, ward_sender_key **out)
{
    sqlite3_stmt *s = prep(cs, "SELECT record FROM group_keys WHERE "
                               "group_id = ? AND sender = ?");
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, gid);
    sqlite3_bind_text(s, 2, sender ? sender : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    ward_err e = WARD_ERR_NOT_FOUND;
    if (rc == SQLITE_ROW)
        e = ward_sender_key_deserialize(out, sqlite3_column_blob(s, 0),
                                        (size_t)sqlite3_column_bytes(s, 0));
    else if (rc != SQLITE_DONE)
        e = WARD_ERR_STORE;
    sqlite3_finalize(s);
    return e;
}

ward_err ward_gs_put_key(ward_client_state *cs, int64_t gid,
                         const char *sender, const ward_sender_key *sk)
{
    ward_buf b;
    ward_buf_init(&b, 0);
    ward_err e = ward_sender_key_serialize(sk, &b);
    sqlite3_stmt *s = e ? NULL
                        : prep(cs, "INSERT OR REPLACE INTO group_keys("
                                   "group_id, sender, record) "
                                   "VALUES (?, ?, ?)");
    if (!e && !s)
        e = WARD_ERR_STORE;
    if (!e) {
        sqlite3_bind_int64(s, 1, gid);
        sqlite3_bind_text(s, 2, sender ? sender : "", -1, SQLITE_STATIC);
        sqlite3_bind_blob(s, 3, b.data, (int)b.len, SQLITE_STATIC);
        e = done(s);
    }
    ward_buf_release(&b);
    return e;
}

ward_err ward_gs_new_key_epoch(ward_client_state *cs, int64_t gid,
                               int64_t key_epoch)
{
    ward_err e = by_group(cs, "DELETE FROM group_holders WHERE group_id = ?",
                          gid);
    sqlite3_stmt *s = e ? NULL
                        : prep(cs, "UPDATE groups SET key_epoch = ? "
                                   "WHERE id = ?");
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, key_epoch);
    sqlite3_bind_int64(s, 2, gid);
    return done(s);
}

ward_err ward_gs_put_holder(ward_client_state *cs, int64_t gid,
                            const gs_member *m)
{
    sqlite3_stmt *s = prep(cs, "INSERT OR REPLACE INTO group_holders("
                               "group_id, account, username, joined_at, "
                               "refused_epoch) VALUES (?, ?, ?, ?, ?)");
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, gid);
    sqlite3_bind_int64(s, 2, m->account);
    sqlite3_bind_text(s, 3, m->username, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, m->joined_at);
    sqlite3_bind_int64(s, 5, m->refused_epoch);
    return done(s);
}

ward_err ward_gs_drop_holder(ward_client_state *cs, int64_t gid,
                             const char *username)
{
    sqlite3_stmt *s = prep(cs, "DELETE FROM group_holders WHERE group_id = ? "
                               "AND username = ?");
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, gid);
    sqlite3_bind_text(s, 2, username, -1, SQLITE_STATIC);
    return done(s);
}

ward_err ward_gs_keep_pending(ward_client_state *cs, int64_t id,
                              int64_t gid, const char *sender,
                              const char *json)
{
    /* The device's room, and one sender's share of it: a member sending
     * under a key it never hands over cannot take the room of others. */
    sqlite3_stmt *s = prep(cs, "SELECT count(*), count(CASE WHEN group_id "
                               "= ? AND sender = ? THEN 1 END) FROM "
                               "group_pending");
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, gid);
    sqlite3_bind_text(s, 2, sender, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    int64_t mine = rc == SQLITE_ROW ? sqlite3_column_int64(s, 1) : -1;
    sqlite3_finalize(s);
    if (n < 0 || mine < 0)
        return WARD_ERR_STORE;
    if (n >= WARD_GS_MAX_PENDING || mine >= WARD_GS_MAX_PENDING_SENDER)
        return WARD_ERR_LIMIT;
    if (!(s = prep(cs, "INSERT OR IGNORE INTO group_pending(id, group_id, "
                       "sender, msg) VALUES (?, ?, ?, ?)")))
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, gid);
    sqlite3_bind_text(s, 3, sender, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, json, -1, SQLITE_STATIC);
    return done(s);
}

ward_err ward_gs_each_pending(ward_client_state *cs, int64_t gid,
                              const char *sender,
                              int (*fn)(void *ctx, int64_t id,
                                        const char *json),
                              void *ctx)
{
    /* Read whole first: |fn| changes the table (it drops what it
     * handled). */
    sqlite3_stmt *s = prep(cs, "SELECT id, msg FROM group_pending WHERE "
                               "group_id = ? AND sender = ? ORDER BY id");
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, gid);
    sqlite3_bind_text(s, 2, sender, -1, SQLITE_STATIC);
    struct row {
        int64_t id;
        char *json;
    } *rows = NULL;
    size_t n = 0, cap = 0;
    int rc;
    ward_err e = WARD_OK;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct row *p = realloc(rows, nc * sizeof *p);
            if (!p) {
                e = WARD_ERR_NOMEM;
                break;
            }
            rows = p, cap = nc;
        }
        const unsigned char *t = sqlite3_column_text(s, 1);
        rows[n].id = sqlite3_column_int64(s, 0);
        rows[n].json = strdup(t ? (const char *)t : "");
        if (!rows[n].json) {
            e = WARD_ERR_NOMEM;
            break;
        }
        n++;
    }
    if (!e && rc != SQLITE_DONE)
        e = WARD_ERR_STORE;
    sqlite3_finalize(s);
    for (size_t i = 0; i < n; i++) {
        if (!e && fn(ctx, rows[i].id, rows[i].json))
            e = WARD_ERR_INTERNAL; /* stopped: reported by |fn| */
        free(rows[i].json);
    }
    free(rows);
    return e == WARD_ERR_INTERNAL ? WARD_OK : e;
}

ward_err ward_gs_is_pending(ward_client_state *cs, int64_t id, int *kept)
{
    sqlite3_stmt *s = prep(cs, "SELECT 1 FROM group_pending WHERE id = ?");
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    *kept = rc == SQLITE_ROW;
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? WARD_OK : WARD_ERR_STORE;
}

ward_err ward_gs_drop_pending(ward_client_state *cs, int64_t id)
{
    sqlite3_stmt *s = prep(cs, "DELETE FROM group_pending WHERE id = ?");
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    return done(s);
}

ward_err ward_gs_pending_senders(ward_client_state *cs,
                                 int (*fn)(void *ctx, int64_t gid,
                                           const char *sender),
                                 void *ctx)
{
    /* Only those whose sender's key is here: the others cannot be read
     * yet. Read whole first, as |fn| changes the tables. */
    sqlite3_stmt *s = prep(cs, "SELECT DISTINCT p.group_id, p.sender FROM "
                               "group_pending p JOIN group_keys k ON "
                               "k.group_id = p.group_id AND k.sender = "
                               "p.sender ORDER BY 1, 2");
    if (!s)
        return WARD_ERR_STORE;
    gs_member *pairs = NULL; /* account: the group; username: the sender */
    size_t n = 0, cap = 0;
    int rc;
    ward_err e = WARD_OK;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if ((e = grow(&pairs, &cap, n)))
            break;
        const unsigned char *u = sqlite3_column_text(s, 1);
        memset(&pairs[n], 0, sizeof pairs[n]);
        pairs[n].account = sqlite3_column_int64(s, 0);
        snprintf(pairs[n].username, sizeof pairs[n].username, "%s",
                 u ? (const char *)u : "");
        n++;
    }
    if (!e && rc != SQLITE_DONE)
        e = WARD_ERR_STORE;
    sqlite3_finalize(s);
    for (size_t i = 0; !e && i < n; i++)
        if (fn(ctx, pairs[i].account, pairs[i].username))
            break;
    free(pairs);
    return e;
}
