/*
 * The store's moderation side (include/ward/store.h, "moderators, console
 * sessions, audit log") on SQLite: roles, disabling, session expiry and
 * CSRF tokens, the audit log's hash chain, and that SQLite itself refuses
 * to change or delete an audit entry (checked on the file with sqlite3
 * directly, behind the backend's back).
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ward/crypto.h"
#include "ward/store.h"
#include "wtest.h"

static char dir[64];
static int n_db;
static char last_path[128];

static const char PW[] = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$"
                         "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";

static ward_store *fresh(void)
{
    snprintf(last_path, sizeof last_path, "%s/mod-%d.db", dir, ++n_db);
    ward_store *st = NULL;
    REQUIRE(ward_store_open_sqlite(&st, last_path, NULL, 0) == WARD_OK);
    return st;
}

static void test_moderators(void)
{
    ward_store *st = fresh();
    int64_t a = 0, m = 0, x;
    ward_moderator got;

    CHECK_EQ_INT(ward_store_moderator_add(st, "root", PW, WARD_ROLE_ADMIN,
                                          100, &a),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_moderator_add(st, "mia", PW, WARD_ROLE_MODERATOR,
                                          200, &m),
                 WARD_OK);
    CHECK(a > 0 && m > a);
    /* names are unique; roles are one of two; names are 1..32 bytes */
    CHECK_EQ_INT(ward_store_moderator_add(st, "mia", PW, WARD_ROLE_ADMIN, 1,
                                          &x),
                 WARD_ERR_EXISTS);
    CHECK_EQ_INT(ward_store_moderator_add(st, "zed", PW, 3, 1, &x),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_store_moderator_add(st, "zed", PW, 0, 1, &x),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_store_moderator_add(st, "", PW, WARD_ROLE_ADMIN, 1, &x),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_store_moderator_add(
                     st, "abcdefghijklmnopqrstuvwxyz0123456", PW,
                     WARD_ROLE_ADMIN, 1, &x),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_store_moderator_add(st, "zed", "", WARD_ROLE_ADMIN, 1,
                                          &x),
                 WARD_ERR_INVALID_ARG);

    CHECK_EQ_INT(ward_store_moderator_by_name(st, "mia", &got), WARD_OK);
    CHECK_EQ_INT(got.id, m);
    CHECK_EQ_INT(got.role, WARD_ROLE_MODERATOR);
    CHECK_EQ_INT(got.disabled, 0);
    CHECK_EQ_INT(got.created_at, 200);
    CHECK(strcmp(got.pwhash, PW) == 0);
    CHECK_EQ_INT(ward_store_moderator_by_id(st, a, &got), WARD_OK);
    CHECK(strcmp(got.name, "root") == 0);
    CHECK_EQ_INT(got.role, WARD_ROLE_ADMIN);
    CHECK_EQ_INT(ward_store_moderator_by_name(st, "nobody", &got),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_moderator_by_id(st, 999, &got),
                 WARD_ERR_NOT_FOUND);

    /* promote, then disable */
    CHECK_EQ_INT(ward_store_moderator_set(st, m, WARD_ROLE_ADMIN, 0),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_moderator_by_id(st, m, &got), WARD_OK);
    CHECK_EQ_INT(got.role, WARD_ROLE_ADMIN);
    CHECK_EQ_INT(ward_store_moderator_set(st, m, WARD_ROLE_MODERATOR, 1),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_moderator_by_id(st, m, &got), WARD_OK);
    CHECK_EQ_INT(got.role, WARD_ROLE_MODERATOR);
    CHECK_EQ_INT(got.disabled, 1);
    CHECK_EQ_INT(ward_store_moderator_set(st, 999, WARD_ROLE_ADMIN, 0),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_moderator_set(st, m, 7, 0), WARD_ERR_INVALID_ARG);
    /* the refused change left it as it was */
    CHECK_EQ_INT(ward_store_moderator_by_id(st, m, &got), WARD_OK);
    CHECK_EQ_INT(got.disabled, 1);

    ward_store_close(st);
}

typedef struct list_ctx {
    int n;
    char names[8][WARD_MODERATOR_NAME_MAX + 1];
    int stop_after;
} list_ctx;

static int on_mod(void *vctx, const ward_moderator *m)
{
    list_ctx *c = vctx;
    if (c->n < 8)
        snprintf(c->names[c->n], sizeof c->names[0], "%s", m->name);
    c->n++;
    return c->stop_after && c->n >= c->stop_after;
}

static void test_moderator_list(void)
{
    ward_store *st = fresh();
    list_ctx c;
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(ward_store_moderator_list(st, on_mod, &c), WARD_OK);
    CHECK_EQ_INT(c.n, 0);
    const char *names[] = {"b", "a", "c"};
    for (int i = 0; i < 3; i++)
        REQUIRE(ward_store_moderator_add(st, names[i], PW,
                                         WARD_ROLE_MODERATOR, i, NULL) ==
                WARD_OK);
    CHECK_EQ_INT(ward_store_moderator_list(st, on_mod, &c), WARD_OK);
    CHECK_EQ_INT(c.n, 3);
    CHECK(strcmp(c.names[0], "b") == 0 && strcmp(c.names[2], "c") == 0);
    memset(&c, 0, sizeof c);
    c.stop_after = 2;
    CHECK_EQ_INT(ward_store_moderator_list(st, on_mod, &c), WARD_OK);
    CHECK_EQ_INT(c.n, 2);
    ward_store_close(st);
}

static void test_sessions(void)
{
    ward_store *st = fresh();
    int64_t m, other, who = 0;
    uint8_t h1[32], h2[32], h3[32], csrf1[32], csrf2[32], got[32];
    memset(h1, 1, 32), memset(h2, 2, 32), memset(h3, 3, 32);
    memset(csrf1, 0xa1, 32), memset(csrf2, 0xa2, 32);
    REQUIRE(ward_store_moderator_add(st, "mia", PW, WARD_ROLE_MODERATOR, 1,
                                     &m) == WARD_OK);
    REQUIRE(ward_store_moderator_add(st, "ola", PW, WARD_ROLE_ADMIN, 1,
                                     &other) == WARD_OK);

    CHECK_EQ_INT(ward_store_console_session_put(st, h1, m, csrf1, 1000),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_console_session_put(st, h2, other, csrf2, 5000),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_console_session_put(st, h1, m, csrf1, 1000),
                 WARD_ERR_EXISTS);
    CHECK_EQ_INT(ward_store_console_session_check(st, h1, 999, &who, got),
                 WARD_OK);
    CHECK_EQ_INT(who, m);
    CHECK_MEM(got, csrf1, 32);
    /* expired at its expiry time, and unknown hashes are unknown */
    CHECK_EQ_INT(ward_store_console_session_check(st, h1, 1000, &who, got),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_console_session_check(st, h3, 0, &who, got),
                 WARD_ERR_NOT_FOUND);
    /* the purge removes what expired, and only that */
    size_t removed = 99;
    CHECK_EQ_INT(ward_store_console_session_purge(st, 1000, &removed),
                 WARD_OK);
    CHECK_EQ_INT(removed, 1);
    CHECK_EQ_INT(ward_store_console_session_check(st, h2, 1000, &who, got),
                 WARD_OK);
    CHECK_MEM(got, csrf2, 32);

    /* logging out */
    CHECK_EQ_INT(ward_store_console_session_delete(st, h2), WARD_OK);
    CHECK_EQ_INT(ward_store_console_session_delete(st, h2),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_console_session_check(st, h2, 0, &who, got),
                 WARD_ERR_NOT_FOUND);

    /* disabling a moderator ends its sessions; enabling again does not
     * bring them back */
    CHECK_EQ_INT(ward_store_console_session_put(st, h3, m, csrf1, 9000),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_console_session_put(st, h2, other, csrf2, 9000),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_moderator_set(st, m, WARD_ROLE_MODERATOR, 1),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_console_session_check(st, h3, 0, &who, got),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_store_moderator_set(st, m, WARD_ROLE_MODERATOR, 0),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_console_session_check(st, h3, 0, &who, got),
                 WARD_ERR_NOT_FOUND);
    /* ... and nobody else's */
    CHECK_EQ_INT(ward_store_console_session_check(st, h2, 0, &who, got),
                 WARD_OK);
    CHECK_EQ_INT(who, other);
    ward_store_close(st);
}

static ward_audit_entry entry(int64_t at, int64_t mod, const char *name,
                              const char *action, int64_t report,
                              int64_t subject, const char *detail)
{
    ward_audit_entry e;
    memset(&e, 0, sizeof e);
    e.at = at;
    e.moderator = mod;
    snprintf(e.moderator_name, sizeof e.moderator_name, "%s", name);
    snprintf(e.action, sizeof e.action, "%s", action);
    e.report = report;
    e.subject = subject;
    snprintf(e.detail, sizeof e.detail, "%s", detail);
    return e;
}

typedef struct audit_ctx {
    int n;
    ward_audit_entry e[8];
} audit_ctx;

static int on_audit(void *vctx, const ward_audit_entry *e)
{
    audit_ctx *c = vctx;
    if (c->n < 8)
        c->e[c->n] = *e;
    c->n++;
    return 0;
}

static int sql_exec(const char *path, const char *script, char *msg,
                    size_t cap)
{
    sqlite3 *db = NULL;
    char *err = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, script, NULL, NULL, &err);
    if (msg)
        snprintf(msg, cap, "%s", err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
    return rc;
}

static void test_audit(void)
{
    ward_store *st = fresh();
    char path[128];
    snprintf(path, sizeof path, "%s", last_path);
    int64_t bad = -1;
    /* an empty log is intact */
    CHECK_EQ_INT(ward_store_audit_verify(st, &bad), WARD_OK);
    CHECK_EQ_INT(bad, 0);

    ward_audit_entry e1 = entry(10, 1, "root", "login", 0, 0, "");
    ward_audit_entry e2 = entry(20, 1, "root", "decision", 7, 42,
                                "ban: \"spam\" \xc3\xa9");
    ward_audit_entry e3 = entry(30, 2, "mia", "view_report", 7, 42, "");
    CHECK_EQ_INT(ward_store_audit_append(st, &e1), WARD_OK);
    CHECK_EQ_INT(ward_store_audit_append(st, &e2), WARD_OK);
    CHECK_EQ_INT(ward_store_audit_append(st, &e3), WARD_OK);
    CHECK_EQ_INT(e1.id, 1);
    CHECK_EQ_INT(e2.id, 2);
    CHECK_EQ_INT(e3.id, 3);
    CHECK(memcmp(e1.hash, e2.hash, 32) != 0);

    /* The first hash is over 32 zero bytes and the fields: the same
     * entry in another log gets the same hash, and any field changes it. */
    ward_store *other = fresh();
    ward_audit_entry same = entry(10, 1, "root", "login", 0, 0, "");
    ward_audit_entry moved = entry(10, 1, "root", "logi", 0, 0, "n");
    CHECK_EQ_INT(ward_store_audit_append(other, &same), WARD_OK);
    CHECK_MEM(same.hash, e1.hash, 32);
    ward_store_close(other);
    other = fresh();
    CHECK_EQ_INT(ward_store_audit_append(other, &moved), WARD_OK);
    CHECK(memcmp(moved.hash, e1.hash, 32) != 0);
    ward_store_close(other);

    /* an action is required; text fields must be terminated */
    ward_audit_entry empty = entry(40, 1, "root", "", 0, 0, "");
    CHECK_EQ_INT(ward_store_audit_append(st, &empty), WARD_ERR_INVALID_ARG);
    ward_audit_entry unterminated = entry(40, 1, "root", "x", 0, 0, "");
    memset(unterminated.detail, 'a', sizeof unterminated.detail);
    CHECK_EQ_INT(ward_store_audit_append(st, &unterminated),
                 WARD_ERR_INVALID_ARG);

    /* newest first; |before| pages; |limit| caps */
    audit_ctx c;
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(ward_store_audit_list(st, 0, 10, on_audit, &c), WARD_OK);
    CHECK_EQ_INT(c.n, 3);
    CHECK_EQ_INT(c.e[0].id, 3);
    CHECK_EQ_INT(c.e[2].id, 1);
    CHECK(strcmp(c.e[1].detail, "ban: \"spam\" \xc3\xa9") == 0);
    CHECK_EQ_INT(c.e[1].report, 7);
    CHECK_EQ_INT(c.e[1].subject, 42);
    CHECK_EQ_INT(c.e[2].report, 0);
    CHECK_MEM(c.e[1].hash, e2.hash, 32);
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(ward_store_audit_list(st, 3, 1, on_audit, &c), WARD_OK);
    CHECK_EQ_INT(c.n, 1);
    CHECK_EQ_INT(c.e[0].id, 2);

    CHECK_EQ_INT(ward_store_audit_verify(st, &bad), WARD_OK);
    CHECK_EQ_INT(bad, 0);
    ward_store_close(st);

    /* SQLite refuses UPDATE and DELETE on the log, whoever asks */
    char msg[256];
    CHECK(sql_exec(path, "UPDATE audit SET detail = 'nothing' WHERE id = 2",
                   msg, sizeof msg) != SQLITE_OK);
    CHECK(strstr(msg, "append-only") != NULL);
    CHECK(sql_exec(path, "DELETE FROM audit WHERE id = 3", msg,
                   sizeof msg) != SQLITE_OK);
    CHECK(strstr(msg, "append-only") != NULL);
    CHECK(sql_exec(path, "DELETE FROM audit", msg, sizeof msg) !=
          SQLITE_OK);

    /* Someone who drops the triggers can change a row; verify names the
     * first entry that no longer matches. */
    CHECK_EQ_INT(sql_exec(path,
                          "DROP TRIGGER audit_no_update;"
                          "UPDATE audit SET detail = 'warn' WHERE id = 2;",
                          msg, sizeof msg),
                 SQLITE_OK);
    REQUIRE(ward_store_open_sqlite(&st, path, NULL, 0) == WARD_OK);
    CHECK_EQ_INT(ward_store_audit_verify(st, &bad), WARD_OK);
    CHECK_EQ_INT(bad, 2);
    ward_store_close(st);

    /* Deleting an entry (triggers dropped) breaks the chain there. */
    snprintf(path, sizeof path, "%s/mod-del.db", dir);
    REQUIRE(ward_store_open_sqlite(&st, path, NULL, 0) == WARD_OK);
    for (int i = 0; i < 4; i++) {
        ward_audit_entry e = entry(i, 1, "root", "login", 0, 0, "");
        REQUIRE(ward_store_audit_append(st, &e) == WARD_OK);
    }
    ward_store_close(st);
    CHECK_EQ_INT(sql_exec(path,
                          "DROP TRIGGER audit_no_delete;"
                          "DELETE FROM audit WHERE id = 2;",
                          msg, sizeof msg),
                 SQLITE_OK);
    REQUIRE(ward_store_open_sqlite(&st, path, NULL, 0) == WARD_OK);
    CHECK_EQ_INT(ward_store_audit_verify(st, &bad), WARD_OK);
    CHECK_EQ_INT(bad, 3);
    /* and appending still works after the damage (the chain goes on
     * from the last entry) */
    ward_audit_entry e5 = entry(9, 1, "root", "logout", 0, 0, "");
    CHECK_EQ_INT(ward_store_audit_append(st, &e5), WARD_OK);
    CHECK_EQ_INT(e5.id, 5);
    ward_store_close(st);
}

static void rm_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

int main(void)
{
    REQUIRE(ward_crypto_init() == WARD_OK);
    snprintf(dir, sizeof dir, "/tmp/ward_test_mod_XXXXXX");
    REQUIRE(mkdtemp(dir) != NULL);
    test_moderators();
    test_moderator_list();
    test_sessions();
    test_audit();
    rm_dir();
    return wtest_done("test_store_moderation");
}
