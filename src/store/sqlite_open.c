/* Opening the database, its schema, and the statement cache. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sqlite_internal.h"

/* Schema versions, applied in order; PRAGMA user_version records the last
 * one applied. Append only. */
static const char *const migrations[] = {
    /* 1 */
    "CREATE TABLE accounts ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  username TEXT NOT NULL UNIQUE,"
    "  pwhash TEXT NOT NULL,"
    "  age_band INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  queued INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE tokens ("
    "  hash BLOB PRIMARY KEY,"
    "  account INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
    "  expires_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX tokens_account ON tokens(account);"
    "CREATE TABLE identity_keys ("
    "  account INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,"
    "  identity BLOB NOT NULL,"
    "  registration_id INTEGER NOT NULL,"
    "  signed_id INTEGER,"
    "  signed_pub BLOB,"
    "  signed_sig BLOB);"
    "CREATE TABLE prekeys ("
    "  account INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
    "  key_id INTEGER NOT NULL,"
    "  pub BLOB NOT NULL,"
    "  PRIMARY KEY (account, key_id)) WITHOUT ROWID;"
    "CREATE TABLE messages ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  recipient INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
    "  sender INTEGER NOT NULL,"
    "  sender_name TEXT NOT NULL,"
    "  type INTEGER NOT NULL,"
    "  server_time INTEGER NOT NULL,"
    "  commitment BLOB,"
    "  body BLOB NOT NULL);"
    "CREATE INDEX messages_recipient ON messages(recipient, id);"
    "CREATE TABLE blobs ("
    "  id TEXT PRIMARY KEY,"
    "  owner INTEGER NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX blobs_expiry ON blobs(expires_at);",
    /* 2: child safety. Accounts are named by id wherever a record must
     * outlive a username (ids are never reused; usernames can be). */
    "ALTER TABLE accounts ADD COLUMN private INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE accounts ADD COLUMN status INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE accounts ADD COLUMN status_until INTEGER NOT NULL DEFAULT 0;"
    "UPDATE accounts SET private = 1 WHERE age_band = 1;"
    "ALTER TABLE accounts ADD COLUMN adult_at INTEGER;"
    "CREATE INDEX accounts_adult_at ON accounts(adult_at) "
    "  WHERE age_band = 1;"
    "ALTER TABLE messages ADD COLUMN tag BLOB;"
    "ALTER TABLE messages ADD COLUMN key_id INTEGER;"
    "CREATE TABLE follows ("
    "  follower INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
    "  followee INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (follower, followee)) WITHOUT ROWID;"
    "CREATE INDEX follows_followee ON follows(followee, follower);"
    "CREATE TABLE blocks ("
    "  blocker INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
    "  blocked INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (blocker, blocked)) WITHOUT ROWID;"
    "CREATE INDEX blocks_blocked ON blocks(blocked);"
    /* Blocks and reports as signals about an account: kept when a block
     * is lifted, since the flag is about what happened in the window. */
    "CREATE TABLE signals ("
    "  subject INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
    "  source INTEGER NOT NULL,"
    "  source_band INTEGER NOT NULL,"
    "  kind INTEGER NOT NULL,"
    "  at INTEGER NOT NULL);"
    "CREATE INDEX signals_subject ON signals(subject, at);"
    /* Reports keep their evidence when either account is deleted: no
     * foreign keys, and the names and bands as they were. */
    "CREATE TABLE reports ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  kind INTEGER NOT NULL,"
    "  reason INTEGER NOT NULL,"
    "  priority INTEGER NOT NULL,"
    "  status INTEGER NOT NULL DEFAULT 0,"
    "  reporter INTEGER NOT NULL,"
    "  reporter_name TEXT NOT NULL,"
    "  reporter_band INTEGER NOT NULL,"
    "  subject INTEGER NOT NULL,"
    "  subject_name TEXT NOT NULL,"
    "  subject_band INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  note TEXT NOT NULL DEFAULT '',"
    "  message_id INTEGER,"
    "  message_time INTEGER,"
    "  content BLOB,"
    "  commitment BLOB,"
    "  tag BLOB,"
    "  key_id INTEGER,"
    "  attachment INTEGER NOT NULL DEFAULT 0,"
    "  evidence TEXT NOT NULL DEFAULT '',"
    "  held INTEGER NOT NULL DEFAULT 0,"
    "  decision TEXT NOT NULL DEFAULT '',"
    "  decided_by INTEGER,"
    "  decided_at INTEGER);"
    "CREATE INDEX reports_queue ON reports(status, priority, created_at);"
    "CREATE INDEX reports_subject ON reports(subject, created_at);"
    "CREATE TABLE counters ("
    "  name TEXT PRIMARY KEY,"
    "  value INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE moderators ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL UNIQUE,"
    "  pwhash TEXT NOT NULL,"
    "  role INTEGER NOT NULL,"
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE console_sessions ("
    "  hash BLOB PRIMARY KEY,"
    "  moderator INTEGER NOT NULL REFERENCES moderators(id) "
    "    ON DELETE CASCADE,"
    "  csrf BLOB NOT NULL,"
    "  expires_at INTEGER NOT NULL) WITHOUT ROWID;"
    /* Append-only: each entry carries the SHA-256 of the previous one's
     * hash and its own fields, and the triggers refuse changes. */
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  at INTEGER NOT NULL,"
    "  moderator INTEGER NOT NULL,"
    "  moderator_name TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  report INTEGER,"
    "  subject INTEGER,"
    "  detail TEXT NOT NULL DEFAULT '',"
    "  hash BLOB NOT NULL);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
    "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
    "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
    /* 3: what the moderators tell an account (a warning), shown to its
     * owner once. */
    "CREATE TABLE notices ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  account INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX notices_account ON notices(account, id);",
    /* 4: groups. The server keeps the membership (it fans messages out);
     * the messages stay end-to-end encrypted. The epoch moves on with
     * every membership change (the triggers), so a sender whose epoch is
     * older has not seen a change and must rotate its sender key first.
     * When the last admin goes, the longest-standing member becomes admin;
     * when the last member goes, so does the group. An account's deletion
     * takes its memberships by cascade and the triggers do the same. */
    "CREATE TABLE groups ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL,"
    "  description TEXT NOT NULL DEFAULT '',"
    "  avatar TEXT,"
    "  created_by INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  epoch INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE group_members ("
    "  group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,"
    "  account INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
    "  role INTEGER NOT NULL,"
    "  added_by INTEGER NOT NULL,"
    "  joined_at INTEGER NOT NULL,"
    "  PRIMARY KEY (group_id, account)) WITHOUT ROWID;"
    "CREATE INDEX group_members_account ON group_members(account, group_id);"
    "CREATE TRIGGER group_members_in AFTER INSERT ON group_members BEGIN"
    "  UPDATE groups SET epoch = epoch + 1 WHERE id = NEW.group_id;"
    "END;"
    "CREATE TRIGGER group_members_out AFTER DELETE ON group_members BEGIN"
    "  UPDATE groups SET epoch = epoch + 1 WHERE id = OLD.group_id;"
    "  UPDATE group_members SET role = 2 WHERE group_id = OLD.group_id"
    "    AND NOT EXISTS (SELECT 1 FROM group_members"
    "                    WHERE group_id = OLD.group_id AND role = 2)"
    "    AND account = (SELECT account FROM group_members"
    "                   WHERE group_id = OLD.group_id"
    "                   ORDER BY joined_at, account LIMIT 1);"
    "  DELETE FROM groups WHERE id = OLD.group_id AND NOT EXISTS"
    "    (SELECT 1 FROM group_members WHERE group_id = OLD.group_id);"
    "END;"
    /* Who was a member when: a report of a group message is verified
     * against it, also after the reporter left or the group is gone (no
     * foreign key to groups: group ids are never reused). */
    "CREATE TABLE group_spans ("
    "  group_id INTEGER NOT NULL,"
    "  account INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
    "  joined_at INTEGER NOT NULL,"
    "  left_at INTEGER);"
    "CREATE INDEX group_spans_member ON group_spans(account, group_id);"
    "ALTER TABLE messages ADD COLUMN group_id INTEGER;"
    "ALTER TABLE reports ADD COLUMN group_id INTEGER;",
    /* 5: a group's avatar, an image the server sees (as every platform
     * does) and checks against the hash lists; groups.avatar names it
     * (the first 128 bits of its SHA-256, in hex) so that members know
     * when it changed. */
    "CREATE TABLE group_avatars ("
    "  group_id INTEGER PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE,"
    "  image BLOB NOT NULL,"
    "  content_type TEXT NOT NULL,"
    "  set_by INTEGER NOT NULL,"
    "  set_at INTEGER NOT NULL);"
    "UPDATE groups SET avatar = NULL;",
};
#define N_MIGRATIONS (int)(sizeof migrations / sizeof migrations[0])

static const char *const sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_AVATAR_PUT] = "INSERT OR REPLACE INTO group_avatars(group_id, image, "
                     "content_type, set_by, set_at) VALUES (?, ?, ?, ?, ?)",
    [S_AVATAR_DELETE] = "DELETE FROM group_avatars WHERE group_id = ?",
    [S_AVATAR_GET] = "SELECT g.avatar, a.image, a.content_type FROM groups g "
                     "JOIN group_avatars a ON a.group_id = g.id "
                     "WHERE g.id = ?",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_ACCOUNT_INSERT] = "INSERT INTO accounts(username, pwhash, age_band, "
                         "created_at, private, adult_at) "
                         "VALUES (?, ?, ?, ?, ?, ?)",
    [S_ACCOUNT_PROMOTE] = "UPDATE accounts SET age_band = 2 "
                          "WHERE age_band = 1 AND adult_at <= ?",
    [S_ACCOUNT_BY_NAME] = "SELECT id, username, age_band, created_at, pwhash, "
                          "private, status, status_until "
                          "FROM accounts WHERE username = ?",
    [S_ACCOUNT_BY_ID] = "SELECT id, username, age_band, created_at, pwhash, "
                        "private, status, status_until "
                        "FROM accounts WHERE id = ?",
    [S_FOLLOW_INSERT] = "INSERT INTO follows(follower, followee, created_at) "
                        "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
    [S_FOLLOW_DELETE] = "DELETE FROM follows WHERE follower = ? "
                        "AND followee = ?",
    [S_RELATION] =
        "SELECT EXISTS (SELECT 1 FROM follows WHERE follower = ?1 AND "
        "followee = ?2), EXISTS (SELECT 1 FROM follows WHERE follower = ?2 "
        "AND followee = ?1), EXISTS (SELECT 1 FROM blocks WHERE blocker = ?1 "
        "AND blocked = ?2), EXISTS (SELECT 1 FROM blocks WHERE blocker = ?2 "
        "AND blocked = ?1)",
    [S_BLOCK_INSERT] = "INSERT INTO blocks(blocker, blocked, created_at) "
                       "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
    [S_BLOCK_DELETE] = "DELETE FROM blocks WHERE blocker = ? AND blocked = ?",
    [S_FOLLOWING_LIST] = "SELECT a.id, a.username FROM follows f JOIN "
                         "accounts a ON a.id = f.followee "
                         "WHERE f.follower = ? ORDER BY a.username",
    [S_FOLLOWERS_LIST] = "SELECT a.id, a.username FROM follows f JOIN "
                         "accounts a ON a.id = f.follower "
                         "WHERE f.followee = ? ORDER BY a.username",
    [S_BLOCKED_LIST] = "SELECT a.id, a.username FROM blocks b JOIN "
                       "accounts a ON a.id = b.blocked "
                       "WHERE b.blocker = ? ORDER BY a.username",
    [S_SUGGESTIONS] =
        "SELECT f2.followee, count(*) AS shared FROM follows f1 "
        "JOIN follows f2 ON f2.follower = f1.followee "
        "WHERE f1.follower = ?1 AND f2.followee != ?1 AND NOT EXISTS "
        "(SELECT 1 FROM follows f3 WHERE f3.follower = ?1 "
        "AND f3.followee = f2.followee) "
        "GROUP BY f2.followee ORDER BY shared DESC, f2.followee LIMIT ?2",
    [S_SIGNAL_INSERT] = "INSERT INTO signals(subject, source, source_band, "
                        "kind, at) VALUES (?, ?, ?, ?, ?)",
    [S_MINOR_SIGNALS] = "SELECT count(DISTINCT source) FROM signals "
                        "WHERE subject = ?1 AND at >= ?2 "
                        "AND source_band = ?3",
#define REPORT_COLS                                                          \
    "id, kind, reason, priority, status, reporter, reporter_name, "          \
    "reporter_band, subject, subject_name, subject_band, created_at, note, " \
    "message_id, message_time, commitment, tag, key_id, attachment, "        \
    "evidence, held, decision, decided_by, decided_at, group_id"
    [S_REPORT_INSERT] =
        "INSERT INTO reports(kind, reason, priority, reporter, reporter_name, "
        "reporter_band, subject, subject_name, subject_band, created_at, "
        "note, message_id, message_time, content, commitment, tag, key_id, "
        "attachment, evidence, group_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [S_REPORT_GET] = "SELECT " REPORT_COLS ", content FROM reports "
                     "WHERE id = ?",
    [S_REPORT_LIST] = "SELECT " REPORT_COLS " FROM reports WHERE "
                      "(?1 < 0 OR status = ?1) AND (?2 = 0 OR reason = ?2) "
                      "AND (?3 < 0 OR priority = ?3) AND "
                      "(?4 = 0 OR subject = ?4) AND (?5 = 0 OR reporter = ?5) "
                      "ORDER BY priority DESC, reason, created_at, id "
                      "LIMIT ?6 OFFSET ?7",
    [S_REPORT_DECIDE] = "UPDATE reports SET status = ?, decision = ?, "
                        "held = max(held, ?), decided_by = ?, "
                        "decided_at = ? WHERE id = ?",
    [S_COUNTER_ADD] = "INSERT INTO counters(name, value) VALUES (?1, ?2) "
                      "ON CONFLICT(name) DO UPDATE SET value = value + ?2",
    [S_COUNTER_GET] = "SELECT value FROM counters WHERE name = ?",
    [S_NOTICE_INSERT] = "INSERT INTO notices(account, kind, text, "
                        "created_at) VALUES (?, ?, ?, ?)",
    [S_NOTICE_LIST] = "SELECT id, kind, text, created_at FROM notices "
                      "WHERE account = ? ORDER BY id LIMIT 100",
    [S_NOTICE_DELETE] = "DELETE FROM notices WHERE account = ? AND id <= ?",
    [S_ACCOUNT_SET_PRIVATE] = "UPDATE accounts SET private = ? WHERE id = ?",
    [S_ACCOUNT_SET_STATUS] = "UPDATE accounts SET status = ?, "
                             "status_until = ? WHERE id = ?",
    [S_ACCOUNT_DELETE] = "DELETE FROM accounts WHERE id = ?",
    [S_TOKEN_INSERT] = "INSERT INTO tokens(hash, account, expires_at) "
                       "VALUES (?, ?, ?)",
    [S_TOKEN_CHECK] = "SELECT account FROM tokens WHERE hash = ? "
                      "AND expires_at > ?",
    [S_TOKEN_DELETE] = "DELETE FROM tokens WHERE hash = ?",
    [S_TOKEN_PURGE] = "DELETE FROM tokens WHERE expires_at <= ?",
    /* A new identity key invalidates the signed prekey (signed by the old
     * key) and the one-time prekeys (held by the old device). */
    [S_PREKEY_CLEAR_IF_NEW_IDENTITY] =
        "DELETE FROM prekeys WHERE account = ?1 AND EXISTS (SELECT 1 FROM "
        "identity_keys WHERE account = ?1 AND identity != ?2)",
    [S_IDENTITY_UPSERT] =
        "INSERT INTO identity_keys(account, identity, registration_id) "
        "VALUES (?, ?, ?) ON CONFLICT(account) DO UPDATE SET "
        "signed_id = CASE WHEN identity = excluded.identity "
        "THEN signed_id END, "
        "signed_pub = CASE WHEN identity = excluded.identity "
        "THEN signed_pub END, "
        "signed_sig = CASE WHEN identity = excluded.identity "
        "THEN signed_sig END, "
        "identity = excluded.identity, "
        "registration_id = excluded.registration_id",
    [S_SIGNED_UPSERT] = "UPDATE identity_keys SET signed_id = ?, "
                        "signed_pub = ?, signed_sig = ? WHERE account = ?",
    [S_PREKEY_UPSERT] = "INSERT OR REPLACE INTO prekeys(account, key_id, pub) "
                        "VALUES (?, ?, ?)",
    [S_PREKEY_COUNT] = "SELECT count(*) FROM prekeys WHERE account = ?",
    [S_KEYS_GET] = "SELECT identity, registration_id, signed_id, signed_pub, "
                   "signed_sig FROM identity_keys WHERE account = ?",
    [S_PREKEY_FIRST] = "SELECT key_id, pub FROM prekeys WHERE account = ? "
                       "ORDER BY key_id LIMIT 1",
    [S_PREKEY_DELETE] = "DELETE FROM prekeys WHERE account = ? AND key_id = ?",
    [S_QUEUE_RESERVE] = "UPDATE accounts SET queued = queued + 1 "
                        "WHERE id = ? AND queued < ?",
    [S_QUEUE_INSERT] = "INSERT INTO messages(recipient, sender, sender_name, "
                       "type, server_time, commitment, body, tag, key_id, "
                       "group_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [S_QUEUE_LIST] = "SELECT id, sender, sender_name, type, server_time, "
                     "commitment, body, tag, key_id, group_id FROM messages "
                     "WHERE recipient = ? AND id > ? ORDER BY id LIMIT ?",
    [S_QUEUE_DELETE] = "DELETE FROM messages WHERE id = ? AND recipient = ?",
    [S_QUEUE_RELEASE] = "UPDATE accounts SET queued = queued - 1 "
                        "WHERE id = ? AND queued > 0",
    [S_QUEUE_DEPTH] = "SELECT queued FROM accounts WHERE id = ?",
    [S_QUEUE_TOTAL] = "SELECT coalesce(sum(queued), 0) FROM accounts",
    [S_BLOB_INSERT] = "INSERT INTO blobs(id, owner, size, created_at, "
                      "expires_at) VALUES (?, ?, ?, ?, ?)",
    [S_BLOB_GET] = "SELECT id, owner, size, created_at, expires_at "
                   "FROM blobs WHERE id = ?",
    [S_BLOB_DELETE] = "DELETE FROM blobs WHERE id = ?",
    [S_BLOB_EXPIRED] = "SELECT id, owner, size, created_at, expires_at "
                       "FROM blobs WHERE expires_at <= ?",
    [S_BLOB_PURGE] = "DELETE FROM blobs WHERE expires_at <= ?",
    /* moderators, console sessions, audit (sqlite_moderation.c) */
    [S_MOD_INSERT] = "INSERT INTO moderators(name, pwhash, role, created_at) "
                     "VALUES (?, ?, ?, ?)",
    [S_MOD_BY_NAME] = "SELECT id, name, pwhash, role, disabled, created_at "
                      "FROM moderators WHERE name = ?",
    [S_MOD_BY_ID] = "SELECT id, name, pwhash, role, disabled, created_at "
                    "FROM moderators WHERE id = ?",
    [S_MOD_SET] = "UPDATE moderators SET role = ?, disabled = ? WHERE id = ?",
    [S_MOD_LIST] = "SELECT id, name, pwhash, role, disabled, created_at "
                   "FROM moderators ORDER BY id",
    [S_MOD_SESSIONS_END] = "DELETE FROM console_sessions WHERE moderator = ?",
    [S_CSESSION_INSERT] = "INSERT INTO console_sessions(hash, moderator, "
                          "csrf, expires_at) VALUES (?, ?, ?, ?)",
    /* A disabled moderator's sessions are deleted when it is disabled;
     * the join refuses them anyway. */
    [S_CSESSION_CHECK] = "SELECT s.moderator, s.csrf FROM console_sessions s "
                         "JOIN moderators m ON m.id = s.moderator "
                         "WHERE s.hash = ? AND s.expires_at > ? "
                         "AND m.disabled = 0",
    [S_CSESSION_DELETE] = "DELETE FROM console_sessions WHERE hash = ?",
    [S_CSESSION_PURGE] = "DELETE FROM console_sessions WHERE expires_at <= ?",
    [S_AUDIT_LAST] = "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1",
    [S_AUDIT_INSERT] = "INSERT INTO audit(id, at, moderator, moderator_name, "
                       "action, report, subject, detail, hash) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [S_AUDIT_LIST] = "SELECT id, at, moderator, moderator_name, action, "
                     "report, subject, detail, hash FROM audit "
                     "WHERE id < ? ORDER BY id DESC LIMIT ?",
    /* groups (sqlite_groups.c) */
    [S_GROUP_INSERT] = "INSERT INTO groups(name, description, avatar, "
                       "created_by, created_at) VALUES (?, ?, ?, ?, ?)",
    [S_GROUP_GET] = "SELECT id, name, description, avatar, created_by, "
                    "created_at, epoch FROM groups WHERE id = ?",
    [S_GROUP_EPOCH] = "SELECT epoch FROM groups WHERE id = ?",
    /* NULL leaves a field as it is; an empty avatar removes it. */
    [S_GROUP_UPDATE] = "UPDATE groups SET name = coalesce(?2, name), "
                       "description = coalesce(?3, description), "
                       "avatar = CASE WHEN ?4 IS NULL THEN avatar "
                       "WHEN ?4 = '' THEN NULL ELSE ?4 END WHERE id = ?1",
    [S_GMEMBER_INSERT] = "INSERT INTO group_members(group_id, account, role, "
                         "added_by, joined_at) VALUES (?, ?, ?, ?, ?)",
    [S_GMEMBER_DELETE] = "DELETE FROM group_members WHERE group_id = ? "
                         "AND account = ?",
#define GMEMBER_COLS                                                        \
    "SELECT m.account, a.username, m.role, m.added_by, m.joined_at "       \
    "FROM group_members m JOIN accounts a ON a.id = m.account "
    [S_GMEMBER_GET] = GMEMBER_COLS "WHERE m.group_id = ? AND m.account = ?",
    [S_GMEMBER_LIST] = GMEMBER_COLS "WHERE m.group_id = ? "
                                    "ORDER BY m.joined_at, m.account",
    [S_GMEMBER_COUNT] = "SELECT count(*), coalesce(sum(role = 2), 0) "
                        "FROM group_members WHERE group_id = ?",
    [S_GMEMBER_ROLE] = "UPDATE group_members SET role = ? WHERE group_id = ? "
                       "AND account = ?",
    [S_GMEMBER_ADMIN] = "SELECT account FROM group_members WHERE "
                        "group_id = ? AND role = 2 ORDER BY joined_at, "
                        "account LIMIT 1",
    /* A block either way keeps a member out of the sender's fan-out, as it
     * keeps the two apart everywhere else. */
    [S_GROUP_RECIPIENTS] =
        "SELECT m.account, a.username, a.age_band, a.private, "
        "EXISTS (SELECT 1 FROM follows WHERE follower = ?2 AND "
        "followee = m.account), EXISTS (SELECT 1 FROM follows WHERE "
        "follower = m.account AND followee = ?2), EXISTS (SELECT 1 FROM "
        "blocks WHERE blocker = ?2 AND blocked = m.account), EXISTS (SELECT "
        "1 FROM blocks WHERE blocker = m.account AND blocked = ?2) "
        "FROM group_members m JOIN accounts a ON a.id = m.account "
        "WHERE m.group_id = ?1 AND m.account != ?2 ORDER BY m.account",
    [S_GROUPS_OF] = "SELECT g.id, g.name, g.description, g.avatar, "
                    "g.created_by, g.created_at, g.epoch, m.role "
                    "FROM group_members m JOIN groups g ON g.id = m.group_id "
                    "WHERE m.account = ? ORDER BY g.id",
    [S_GSPAN_OPEN] = "INSERT INTO group_spans(group_id, account, joined_at) "
                     "VALUES (?, ?, ?)",
    [S_GSPAN_CLOSE] = "UPDATE group_spans SET left_at = ?3 WHERE "
                      "group_id = ?1 AND account = ?2 AND left_at IS NULL",
    [S_GSPAN_AT] = "SELECT EXISTS (SELECT 1 FROM group_spans WHERE "
                   "account = ?2 AND group_id = ?1 AND joined_at <= ?3 AND "
                   "(left_at IS NULL OR left_at >= ?3))",
    [S_AUDIT_ALL] = "SELECT id, at, moderator, moderator_name, action, "
                    "report, subject, detail, hash FROM audit ORDER BY id",
};

ward_err ward_sql_fail(ward_store *st, const char *what)
{
    snprintf(st->error, sizeof st->error, "%s: %s", what,
             sqlite3_errmsg(st->db));
    return WARD_ERR_STORE;
}

const char *ward_store_last_error(const ward_store *st)
{
    return st->error;
}

sqlite3_stmt *ward_sql_stmt(ward_store *st, stmt_id id)
{
    sqlite3_stmt *s = st->stmt[id];
    if (!s) {
        if (sqlite3_prepare_v3(st->db, sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                               &s, NULL) != SQLITE_OK) {
            ward_sql_fail(st, "prepare");
            return NULL;
        }
        st->stmt[id] = s;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

ward_err ward_sql_exec(ward_store *st, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    ward_err e = WARD_OK;
    /* Extended result codes are on: compare the primary code's byte. */
    if ((rc & 0xff) == SQLITE_CONSTRAINT &&
        (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY))
        e = WARD_ERR_EXISTS;
    else if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        e = ward_sql_fail(st, what);
    sqlite3_reset(s);
    return e;
}

ward_err ward_sql_begin(ward_store *st)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_BEGIN);
    return s ? ward_sql_exec(st, s, "begin") : WARD_ERR_STORE;
}

ward_err ward_sql_commit(ward_store *st)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_COMMIT);
    ward_err e = s ? ward_sql_exec(st, s, "commit") : WARD_ERR_STORE;
    if (e)
        ward_sql_rollback(st);
    return e;
}

void ward_sql_rollback(ward_store *st)
{
    if (sqlite3_get_autocommit(st->db))
        return; /* no transaction open (SQLite may have rolled back) */
    sqlite3_stmt *s = ward_sql_stmt(st, S_ROLLBACK);
    if (s)
        (void)ward_sql_exec(st, s, "rollback");
}

void ward_sql_text(sqlite3_stmt *s, int col, char *dst, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    size_t n = t ? (size_t)sqlite3_column_bytes(s, col) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, t, n);
    dst[n] = 0;
}

int ward_sql_blob(sqlite3_stmt *s, int col, uint8_t *dst, size_t n)
{
    const void *p = sqlite3_column_blob(s, col);
    if (!p || (size_t)sqlite3_column_bytes(s, col) != n)
        return -1;
    memcpy(dst, p, n);
    return 0;
}

static ward_err exec_script(ward_store *st, const char *script)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, script, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(st->error, sizeof st->error, "%s", msg ? msg : "exec");
        sqlite3_free(msg);
        return WARD_ERR_STORE;
    }
    return WARD_OK;
}

static ward_err migrate(ward_store *st)
{
    sqlite3_stmt *s;
    int version = 0;
    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) !=
        SQLITE_OK)
        return ward_sql_fail(st, "user_version");
    if (sqlite3_step(s) == SQLITE_ROW)
        version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    if (version > N_MIGRATIONS) {
        snprintf(st->error, sizeof st->error,
                 "database schema %d is newer than this ward (%d)", version,
                 N_MIGRATIONS);
        return WARD_ERR_STORE;
    }
    for (int v = version; v < N_MIGRATIONS; v++) {
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d;", v + 1);
        ward_err e = exec_script(st, "BEGIN IMMEDIATE;");
        if (!e)
            e = exec_script(st, migrations[v]);
        if (!e)
            e = exec_script(st, bump);
        if (!e)
            e = exec_script(st, "COMMIT;");
        if (e) {
            (void)exec_script(st, "ROLLBACK;");
            return e;
        }
    }
    return WARD_OK;
}

/* SQLite reads a file cut inside its last page as if the rest were zeros;
 * a size that is not a whole number of pages is refused instead. */
static ward_err check_whole_pages(ward_store *st, const char *path)
{
    struct stat sb;
    sqlite3_stmt *s;
    long long page = 0;
    if (stat(path, &sb) != 0)
        return WARD_ERR_IO;
    if (sqlite3_prepare_v2(st->db, "PRAGMA page_size", -1, &s, NULL) !=
        SQLITE_OK)
        return ward_sql_fail(st, "page_size");
    if (sqlite3_step(s) == SQLITE_ROW)
        page = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (page <= 0 || sb.st_size % page != 0) {
        snprintf(st->error, sizeof st->error,
                 "database file is truncated (%lld bytes is not a whole "
                 "number of %lld-byte pages)",
                 (long long)sb.st_size, page);
        return WARD_ERR_STORE;
    }
    return WARD_OK;
}

ward_err ward_store_open_sqlite(ward_store **out, const char *path,
                                char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = 0;
    /* Create the file 0600 ourselves: it holds password hashes. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (err && errlen)
            snprintf(err, errlen, "cannot open '%s': %s", path,
                     strerror(errno));
        return WARD_ERR_IO;
    }
    close(fd);

    ward_store *st = calloc(1, sizeof *st);
    if (!st)
        return WARD_ERR_NOMEM;
    ward_err e = WARD_ERR_STORE;
    if (sqlite3_open_v2(path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        goto fail;
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, 5000);
    /* WAL for concurrent readers; FULL so that a commit survives power
     * loss, not only a crash: acknowledged means durable. */
    e = check_whole_pages(st, path);
    if (!e)
        e = exec_script(st, "PRAGMA journal_mode = WAL;"
                            "PRAGMA synchronous = FULL;"
                            "PRAGMA foreign_keys = ON;");
    if (!e)
        e = migrate(st);
    if (e)
        goto fail;
    *out = st;
    return WARD_OK;
fail:
    if (st->db && !st->error[0])
        ward_sql_fail(st, "open");
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", path, st->error);
    ward_store_close(st);
    return e;
}

void ward_store_close(ward_store *st)
{
    if (!st)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    free(st);
}
