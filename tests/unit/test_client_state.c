/* The client's local state file (src/client/state.c). */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ward/client.h"
#include "ward/crypto.h"
#include "wtest.h"

static char dir[] = "/tmp/ward-client-XXXXXX";

static void test_settings(ward_client_state *cs)
{
    char v[64];
    CHECK_EQ_INT(ward_client_state_get(cs, "token", v, sizeof v),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_client_state_set(cs, "token", "wt_abc"), WARD_OK);
    CHECK_EQ_INT(ward_client_state_get(cs, "token", v, sizeof v), WARD_OK);
    CHECK(strcmp(v, "wt_abc") == 0);
    CHECK_EQ_INT(ward_client_state_set(cs, "token", "wt_def"), WARD_OK);
    CHECK_EQ_INT(ward_client_state_get(cs, "token", v, sizeof v), WARD_OK);
    CHECK(strcmp(v, "wt_def") == 0);
    CHECK_EQ_INT(ward_client_state_get(cs, "token", v, 4), WARD_ERR_TOO_BIG);
    CHECK_EQ_INT(ward_client_state_unset(cs, "token"), WARD_OK);
    CHECK_EQ_INT(ward_client_state_get(cs, "token", v, sizeof v),
                 WARD_ERR_NOT_FOUND);
    char big[1100];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECK_EQ_INT(ward_client_state_set(cs, "k", big), WARD_ERR_INVALID_ARG);
}

static void test_keys_and_sessions(ward_client_state *cs)
{
    ward_identity *a, *b, *a2;
    ward_prekeys *pk, *pk2;
    ward_session *sa, *sb, *loaded;
    ward_bundle bundle;
    ward_buf msg, pt;
    int type;
    uint8_t p1[WARD_PUBKEY_LEN], p2[WARD_PUBKEY_LEN];
    ward_buf_init(&msg, 0);
    ward_buf_init(&pt, 0);

    CHECK_EQ_INT(ward_client_state_get_identity(cs, &a2), WARD_ERR_NOT_FOUND);
    REQUIRE(ward_identity_generate(&a) == WARD_OK);
    REQUIRE(ward_identity_generate(&b) == WARD_OK);
    CHECK_EQ_INT(ward_client_state_put_identity(cs, a), WARD_OK);
    CHECK_EQ_INT(ward_client_state_get_identity(cs, &a2), WARD_OK);
    ward_identity_public(a, p1);
    ward_identity_public(a2, p2);
    CHECK_MEM(p1, p2, sizeof p1);
    CHECK_EQ_INT(ward_identity_registration_id(a2),
                 ward_identity_registration_id(a));
    ward_identity_free(a2);

    REQUIRE(ward_prekeys_new(&pk) == WARD_OK);
    REQUIRE(ward_prekeys_generate_signed(pk, b, 1, 0) == WARD_OK);
    REQUIRE(ward_prekeys_generate_onetime(pk, 1, 5) == WARD_OK);
    CHECK_EQ_INT(ward_client_state_put_prekeys(cs, pk), WARD_OK);
    CHECK_EQ_INT(ward_client_state_get_prekeys(cs, &pk2), WARD_OK);
    CHECK_EQ_INT(ward_prekeys_onetime_count(pk2), 5);

    /* A session saved mid-conversation keeps working after loading. */
    REQUIRE(ward_prekeys_bundle(pk2, b, 1, 1, 3, &bundle) == WARD_OK);
    REQUIRE(ward_session_new(&sa) == WARD_OK);
    REQUIRE(ward_session_new(&sb) == WARD_OK);
    REQUIRE(ward_session_init_from_bundle(sa, a, &bundle) == WARD_OK);
    CHECK_EQ_INT(ward_client_state_get_session(cs, "bob", &loaded),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_client_state_put_session(cs, "bob", sa), WARD_OK);
    ward_session_free(sa);
    CHECK_EQ_INT(ward_client_state_get_session(cs, "bob", &sa), WARD_OK);
    REQUIRE(ward_session_encrypt(sa, (const uint8_t *)"hi", 2, &msg, &type) ==
            WARD_OK);
    CHECK_EQ_INT(ward_session_decrypt(sb, b, pk2, type, msg.data, msg.len,
                                      &pt),
                 WARD_OK);
    CHECK(pt.len == 2 && memcmp(pt.data, "hi", 2) == 0);

    /* A rolled-back change is not kept. */
    CHECK_EQ_INT(ward_client_state_begin(cs), WARD_OK);
    CHECK_EQ_INT(ward_client_state_put_session(cs, "carol", sa), WARD_OK);
    CHECK_EQ_INT(ward_client_state_mark_seen(cs, 99), WARD_OK);
    ward_client_state_rollback(cs);
    CHECK_EQ_INT(ward_client_state_get_session(cs, "carol", &loaded),
                 WARD_ERR_NOT_FOUND);
    int seen = -1;
    CHECK_EQ_INT(ward_client_state_was_seen(cs, 99, &seen), WARD_OK);
    CHECK_EQ_INT(seen, 0);
    /* And a committed one is. */
    CHECK_EQ_INT(ward_client_state_begin(cs), WARD_OK);
    CHECK_EQ_INT(ward_client_state_mark_seen(cs, 99), WARD_OK);
    CHECK_EQ_INT(ward_client_state_mark_seen(cs, 99), WARD_OK); /* twice */
    CHECK_EQ_INT(ward_client_state_commit(cs), WARD_OK);
    CHECK_EQ_INT(ward_client_state_was_seen(cs, 99, &seen), WARD_OK);
    CHECK_EQ_INT(seen, 1);
    CHECK_EQ_INT(ward_client_state_was_seen(cs, 100, &seen), WARD_OK);
    CHECK_EQ_INT(seen, 0);

    ward_buf_release(&msg);
    ward_buf_release(&pt);
    ward_session_free(sa);
    ward_session_free(sb);
    ward_prekeys_free(pk);
    ward_prekeys_free(pk2);
    ward_identity_free(a);
    ward_identity_free(b);
}

#define DAY_MS ((int64_t)24 * 3600 * 1000)

static int64_t wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A record with recognisable bytes: content "content-of-ID". */
static void make_reveal(ward_client_reveal *r, int64_t id, const char *from,
                        int64_t shown_at, char *content, size_t cap)
{
    memset(r, 0, sizeof *r);
    r->id = id;
    snprintf(r->from, sizeof r->from, "%s", from);
    r->from_id = 1000 + id;
    r->server_time = 5000 + id;
    snprintf(content, cap, "content-of-%lld", (long long)id);
    r->content = (uint8_t *)content;
    r->content_len = strlen(content);
    memset(r->commitment, (int)(id & 0xff), sizeof r->commitment);
    r->has_tag = 1;
    memset(r->tag, 0xa0, sizeof r->tag);
    r->key_id = 7;
    r->shown_at = shown_at;
}

static int count_cb(void *ctx, const ward_client_reveal *r)
{
    (void)r;
    (*(int *)ctx)++;
    return 0;
}

static int count_kept(ward_client_state *cs, const char *peer)
{
    int n = 0;
    CHECK_EQ_INT(ward_client_state_each_reveal(cs, peer, count_cb, &n),
                 WARD_OK);
    return n;
}

static void test_reveals(ward_client_state *cs)
{
    ward_client_reveal r, got;
    char buf[64];
    int64_t now = wall_now();

    /* Kept and read back field by field. */
    make_reveal(&r, 42, "alice", now, buf, sizeof buf);
    r.has_tag = 1;
    CHECK_EQ_INT(ward_client_state_put_reveal(cs, &r), WARD_OK);
    CHECK_EQ_INT(ward_client_state_get_reveal(cs, 42, &got), WARD_OK);
    CHECK_EQ_INT(got.id, 42);
    CHECK(strcmp(got.from, "alice") == 0);
    CHECK_EQ_INT(got.from_id, 1042);
    CHECK_EQ_INT(got.server_time, 5042);
    CHECK_EQ_INT(got.content_len, strlen("content-of-42"));
    CHECK(got.content && memcmp(got.content, "content-of-42", 13) == 0);
    CHECK_MEM(got.commitment, r.commitment, 32);
    CHECK_EQ_INT(got.has_tag, 1);
    CHECK_MEM(got.tag, r.tag, 32);
    CHECK_EQ_INT(got.key_id, 7);
    CHECK_EQ_INT(got.shown_at, now);
    CHECK_EQ_INT(got.group, 0); /* a direct message */
    ward_client_reveal_release(&got);
    CHECK(got.content == NULL && got.content_len == 0 && got.id == 0);

    /* A group message keeps its group. */
    make_reveal(&r, 45, "carol", now, buf, sizeof buf);
    r.has_tag = 1;
    r.group = 77;
    CHECK_EQ_INT(ward_client_state_put_reveal(cs, &r), WARD_OK);
    CHECK_EQ_INT(ward_client_state_get_reveal(cs, 45, &got), WARD_OK);
    CHECK_EQ_INT(got.group, 77);
    ward_client_reveal_release(&got);
    ward_client_reveal_release(NULL);

    /* Another id is not found; a second record of one id is refused and
     * leaves the first as it was. */
    CHECK_EQ_INT(ward_client_state_get_reveal(cs, 43, &got),
                 WARD_ERR_NOT_FOUND);
    make_reveal(&r, 42, "mallory", now, buf, sizeof buf);
    CHECK_EQ_INT(ward_client_state_put_reveal(cs, &r), WARD_ERR_EXISTS);
    CHECK_EQ_INT(ward_client_state_get_reveal(cs, 42, &got), WARD_OK);
    CHECK(strcmp(got.from, "alice") == 0);
    ward_client_reveal_release(&got);

    /* A message the server did not stamp is kept without a tag. */
    make_reveal(&r, 44, "bob", now, buf, sizeof buf);
    r.has_tag = 0;
    CHECK_EQ_INT(ward_client_state_put_reveal(cs, &r), WARD_OK);
    CHECK_EQ_INT(ward_client_state_get_reveal(cs, 44, &got), WARD_OK);
    CHECK_EQ_INT(got.has_tag, 0);
    ward_client_reveal_release(&got);

    /* Bad input is refused and changes nothing. */
    int before = count_kept(cs, NULL);
    make_reveal(&r, 0, "alice", now, buf, sizeof buf);
    CHECK_EQ_INT(ward_client_state_put_reveal(cs, &r), WARD_ERR_INVALID_ARG);
    make_reveal(&r, 45, "", now, buf, sizeof buf);
    CHECK_EQ_INT(ward_client_state_put_reveal(cs, &r), WARD_ERR_INVALID_ARG);
    make_reveal(&r, 46, "alice", now, buf, sizeof buf);
    r.content_len = 0;
    CHECK_EQ_INT(ward_client_state_put_reveal(cs, &r), WARD_ERR_INVALID_ARG);
    make_reveal(&r, 47, "alice", now, buf, sizeof buf);
    memset(r.from, 'x', sizeof r.from); /* no terminating NUL */
    CHECK_EQ_INT(ward_client_state_put_reveal(cs, &r), WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_client_state_put_reveal(cs, NULL),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(count_kept(cs, NULL), before);

    /* A rolled-back transaction keeps no record (open_one writes it in
     * the transaction of the seen id). */
    CHECK_EQ_INT(ward_client_state_begin(cs), WARD_OK);
    make_reveal(&r, 48, "alice", now, buf, sizeof buf);
    CHECK_EQ_INT(ward_client_state_put_reveal(cs, &r), WARD_OK);
    CHECK_EQ_INT(ward_client_state_mark_seen(cs, 48), WARD_OK);
    ward_client_state_rollback(cs);
    CHECK_EQ_INT(ward_client_state_get_reveal(cs, 48, &got),
                 WARD_ERR_NOT_FOUND);

    /* By sender, oldest id first. */
    CHECK_EQ_INT(count_kept(cs, "alice"), 1);
    CHECK_EQ_INT(count_kept(cs, "bob"), 1);
    CHECK_EQ_INT(count_kept(cs, "nobody"), 0);

    /* Retention: 90 days by default. */
    make_reveal(&r, 50, "carol", now - 91 * DAY_MS, buf, sizeof buf);
    CHECK_EQ_INT(ward_client_state_put_reveal(cs, &r), WARD_OK);
    make_reveal(&r, 51, "carol", now - 89 * DAY_MS, buf, sizeof buf);
    CHECK_EQ_INT(ward_client_state_put_reveal(cs, &r), WARD_OK);
    int days = 0;
    CHECK_EQ_INT(ward_client_state_purge_expired(cs, now, &days), WARD_OK);
    CHECK_EQ_INT(days, 90);
    CHECK_EQ_INT(ward_client_state_get_reveal(cs, 50, &got),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_client_state_get_reveal(cs, 51, &got), WARD_OK);
    ward_client_reveal_release(&got);
    /* A shorter period from the setting; nonsense falls back to 90. */
    CHECK_EQ_INT(ward_client_state_set(cs, WARD_CLIENT_KEEP_DAYS_KEY, "0"),
                 WARD_OK);
    CHECK_EQ_INT(ward_client_state_purge_expired(cs, now, &days), WARD_OK);
    CHECK_EQ_INT(days, 90);
    CHECK_EQ_INT(ward_client_state_set(cs, WARD_CLIENT_KEEP_DAYS_KEY, "30x"),
                 WARD_OK);
    CHECK_EQ_INT(ward_client_state_purge_expired(cs, now, &days), WARD_OK);
    CHECK_EQ_INT(days, 90);
    CHECK_EQ_INT(ward_client_state_get_reveal(cs, 51, &got), WARD_OK);
    ward_client_reveal_release(&got);
    CHECK_EQ_INT(ward_client_state_set(cs, WARD_CLIENT_KEEP_DAYS_KEY, "30"),
                 WARD_OK);
    CHECK_EQ_INT(ward_client_state_purge_expired(cs, now, &days), WARD_OK);
    CHECK_EQ_INT(days, 30);
    CHECK_EQ_INT(ward_client_state_get_reveal(cs, 51, &got),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_client_state_get_reveal(cs, 42, &got), WARD_OK);
    ward_client_reveal_release(&got);
    CHECK_EQ_INT(ward_client_state_unset(cs, WARD_CLIENT_KEEP_DAYS_KEY),
                 WARD_OK);
    size_t purged = 99;
    CHECK_EQ_INT(ward_client_state_purge_reveals(cs, now - DAY_MS, &purged),
                 WARD_OK);
    CHECK_EQ_INT(purged, 0);

    /* An expired record left behind (a client not run for months) is
     * gone as soon as the state is opened again. */
    make_reveal(&r, 60, "dave", now - 100 * DAY_MS, buf, sizeof buf);
    CHECK_EQ_INT(ward_client_state_put_reveal(cs, &r), WARD_OK);
    CHECK_EQ_INT(count_kept(cs, "dave"), 1);
}

/* The expired record test_reveals left must be gone after reopening. */
static void test_reveal_purged_at_open(const char *path)
{
    char err[256];
    ward_client_state *cs = NULL;
    ward_client_reveal got;
    REQUIRE(ward_client_state_open(&cs, path, err, sizeof err) == WARD_OK);
    CHECK_EQ_INT(ward_client_state_get_reveal(cs, 60, &got),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_client_state_get_reveal(cs, 42, &got), WARD_OK);
    ward_client_reveal_release(&got);
    ward_client_state_close(cs);
}

/* A state file from before groups: its kept messages read as direct ones,
 * and it takes group messages from then on. */
static void test_state_before_groups(void)
{
    char path[256], err[256];
    sqlite3 *db = NULL;
    snprintf(path, sizeof path, "%s/old.db", dir);
    REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(
                db,
                "CREATE TABLE shown (id INTEGER PRIMARY KEY, "
                "peer TEXT NOT NULL, peer_id INTEGER NOT NULL, "
                "server_time INTEGER NOT NULL, content BLOB NOT NULL, "
                "commitment BLOB NOT NULL, tag BLOB, key_id INTEGER, "
                "shown_at INTEGER NOT NULL);"
                "INSERT INTO shown VALUES (9, 'alice', 3, 100, x'0a0168', "
                "zeroblob(32), zeroblob(32), 1, 9000000000000);",
                NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    ward_client_state *cs = NULL;
    REQUIRE(ward_client_state_open(&cs, path, err, sizeof err) == WARD_OK);
    ward_client_reveal r, got;
    CHECK_EQ_INT(ward_client_state_get_reveal(cs, 9, &got), WARD_OK);
    CHECK(strcmp(got.from, "alice") == 0 && got.group == 0);
    ward_client_reveal_release(&got);
    char buf[64];
    make_reveal(&r, 10, "bob", 9000000000000LL, buf, sizeof buf);
    r.group = 5;
    CHECK_EQ_INT(ward_client_state_put_reveal(cs, &r), WARD_OK);
    CHECK_EQ_INT(ward_client_state_get_reveal(cs, 10, &got), WARD_OK);
    CHECK_EQ_INT(got.group, 5);
    ward_client_reveal_release(&got);
    ward_client_state_close(cs);
    /* Opened again: the column is there once. */
    REQUIRE(ward_client_state_open(&cs, path, err, sizeof err) == WARD_OK);
    CHECK_EQ_INT(ward_client_state_get_reveal(cs, 10, &got), WARD_OK);
    CHECK_EQ_INT(got.group, 5);
    ward_client_reveal_release(&got);
    ward_client_state_close(cs);
}

static void test_paths(void)
{
    char xdg[256], path[4096], want[512];
    snprintf(xdg, sizeof xdg, "%s/xdg", dir);
    setenv("XDG_DATA_HOME", xdg, 1);
    CHECK_EQ_INT(ward_client_state_path("http://127.0.0.1:8080", "alice",
                                        path, sizeof path),
                 WARD_OK);
    snprintf(want, sizeof want, "%s/ward/http___127.0.0.1_8080/alice/state.db",
             xdg);
    CHECK(strcmp(path, want) == 0);
    struct stat sb;
    snprintf(want, sizeof want, "%s/ward/http___127.0.0.1_8080/alice", xdg);
    CHECK(stat(want, &sb) == 0 && (sb.st_mode & 0777) == 0700);
    /* A user name cannot climb out of its folder. */
    CHECK_EQ_INT(ward_client_state_path("s", "../../etc", path, sizeof path),
                 WARD_OK);
    CHECK(strstr(path, "/../") == NULL);
    CHECK_EQ_INT(ward_client_state_path("s", "", path, sizeof path),
                 WARD_ERR_INVALID_ARG);
}

int main(void)
{
    REQUIRE(ward_crypto_init() == WARD_OK);
    REQUIRE(mkdtemp(dir) != NULL);
    char path[256], err[256];
    snprintf(path, sizeof path, "%s/state.db", dir);
    umask(0); /* the code itself must ask for 0600 */
    ward_client_state *cs = NULL;
    REQUIRE(ward_client_state_open(&cs, path, err, sizeof err) == WARD_OK);
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    test_settings(cs);
    test_keys_and_sessions(cs);
    test_reveals(cs);
    ward_client_state_close(cs);
    test_reveal_purged_at_open(path);
    /* A file that is not a database is refused with a reason. */
    char junk[256];
    snprintf(junk, sizeof junk, "%s/junk.db", dir);
    FILE *f = fopen(junk, "w");
    REQUIRE(f);
    fputs("this is not an SQLite database, not at all, no", f);
    fclose(f);
    cs = NULL;
    CHECK(ward_client_state_open(&cs, junk, err, sizeof err) != WARD_OK);
    CHECK(cs == NULL && err[0] != 0);
    test_state_before_groups();
    test_paths();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return wtest_done("test_client_state");
}
