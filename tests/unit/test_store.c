/*
 * Storage tests: the backend-independent suite (store_suite.c) against
 * SQLite on fresh files, then what only the SQLite backend has: the
 * database file's mode, durability across close and reopen, schema
 * versions, and files that are not (whole) databases.
 *
 * Everything happens in a fresh directory from mkdtemp, removed at the end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ward/crypto.h"
#include "ward/err.h"
#include "ward/store.h"
#include "store_suite.h"
#include "wtest.h"

static char dir[64];

static void path_in(char *out, size_t cap, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    REQUIRE(n > 0 && (size_t)n < cap);
}

/* ---- the suite on fresh SQLite files ---- */

typedef struct fresh_ctx {
    int n;
} fresh_ctx;

static ward_store *open_fresh_sqlite(void *vctx)
{
    fresh_ctx *ctx = vctx;
    char name[32], path[128];
    snprintf(name, sizeof name, "suite-%d.db", ++ctx->n);
    path_in(path, sizeof path, name);
    ward_store *st = NULL;
    ward_err e = ward_store_open_sqlite(&st, path, NULL, 0);
    if (e) {
        fprintf(stderr, "open %s: %s\n", path, ward_strerror(e));
        return NULL;
    }
    return st;
}

/* ---- direct SQLite access, to look behind the backend ---- */

/* An integer from a one-row query on the file at |path|; -1 on error. */
static long long sql_int(const char *path, const char *query)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, query, -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static int sql_exec(const char *path, const char *script)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, script, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

/* The whole file at |path| (malloc'd) and its size; NULL if unreadable. */
static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *data = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 65536;
            uint8_t *p = realloc(data, cap);
            REQUIRE(p != NULL);
            data = p;
        }
        size_t got = fread(data + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *len = n;
    return data;
}

static void spit(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    REQUIRE(fwrite(data, 1, len, f) == len);
    REQUIRE(fclose(f) == 0);
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* ---- the file's mode ---- */

static void test_file_mode(void)
{
    char path[128], side[160];
    path_in(path, sizeof path, "mode.db");
    /* With no umask to help, the backend itself must ask for 0600. */
    mode_t old = umask(0);
    ward_store *st = NULL;
    ward_err e = ward_store_open_sqlite(&st, path, NULL, 0);
    CHECK_EQ_INT(e, WARD_OK);
    if (e == WARD_OK) {
        int64_t id;
        CHECK_EQ_INT(ward_store_account_create(st, "alice", "pw",
                                               WARD_AGE_ADULT, 1, &id),
                     WARD_OK);
        struct stat sb;
        CHECK_EQ_INT(stat(path, &sb), 0);
        CHECK_EQ_INT(sb.st_mode & 07777, 0600);
        /* The WAL and shared-memory files hold the same data. */
        static const char *const suffix[] = {"-wal", "-shm"};
        for (int i = 0; i < 2; i++) {
            snprintf(side, sizeof side, "%s%s", path, suffix[i]);
            if (stat(side, &sb) == 0)
                CHECK_EQ_INT(sb.st_mode & 07777, 0600);
        }
        ward_store_close(st);
    }
    umask(old);
}

/* ---- durability across close and reopen ---- */

static const char PW[] = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";

static void test_reopen(void)
{
    char path[128];
    path_in(path, sizeof path, "durable.db");
    uint8_t tok[32], ident[WARD_PUBKEY_LEN], spk[WARD_PUBKEY_LEN];
    uint8_t sig[WARD_SIGNATURE_LEN], body[1000];
    memset(tok, 0x11, sizeof tok);
    memset(ident, 0x22, sizeof ident);
    ident[0] = WARD_KEY_TYPE_DJB;
    memset(spk, 0x33, sizeof spk);
    spk[0] = WARD_KEY_TYPE_DJB;
    memset(sig, 0x44, sizeof sig);
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)(i * 7);

    ward_store *st = NULL;
    REQUIRE(ward_store_open_sqlite(&st, path, NULL, 0) == WARD_OK);
    int64_t alice = 0, bob = 0;
    CHECK_EQ_INT(ward_store_account_create(st, "alice", PW, WARD_AGE_ADULT,
                                           111, &alice),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_account_create(st, "bob", PW, WARD_AGE_MINOR, 222,
                                           &bob),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_token_put(st, tok, alice, 5000), WARD_OK);
    CHECK_EQ_INT(ward_store_set_identity(st, alice, ident, 77), WARD_OK);
    CHECK_EQ_INT(ward_store_set_signed_prekey(st, alice, 9, spk, sig),
                 WARD_OK);
    ward_store_prekey pk[3];
    for (uint32_t i = 0; i < 3; i++) {
        pk[i].id = 10 + i;
        memset(pk[i].pub, (int)(0x50 + i), WARD_PUBKEY_LEN);
        pk[i].pub[0] = WARD_KEY_TYPE_DJB;
    }
    CHECK_EQ_INT(ward_store_add_prekeys(st, alice, pk, 3, 100), WARD_OK);
    ward_store_msg m;
    memset(&m, 0, sizeof m);
    m.recipient = bob;
    m.sender = alice;
    strcpy(m.sender_name, "alice");
    m.type = WARD_MSG_PREKEY;
    m.server_time = 333;
    m.body = body;
    m.body_len = sizeof body;
    ward_err r = WARD_ERR_INTERNAL;
    CHECK_EQ_INT(ward_store_queue_put(st, &m, 1, 10, &r), WARD_OK);
    CHECK_EQ_INT(r, WARD_OK);
    ward_blob blob;
    memset(&blob, 0, sizeof blob);
    memcpy(blob.id, "0123456789abcdef0123456789abcdef", WARD_BLOB_ID_LEN);
    blob.owner = alice;
    blob.size = 4096;
    blob.created_at = 10;
    blob.expires_at = 20;
    CHECK_EQ_INT(ward_store_blob_put(st, &blob), WARD_OK);
    ward_store_close(st);

    /* The schema as the first open left it. */
    const long long version = sql_int(path, "PRAGMA user_version");
    const long long cookie = sql_int(path, "PRAGMA schema_version");
    const long long objects =
        sql_int(path, "SELECT count(*) FROM sqlite_master");
    CHECK(version >= 1);
    CHECK(cookie >= 1);

    for (int round = 0; round < 2; round++) {
        st = NULL;
        ward_err e = ward_store_open_sqlite(&st, path, NULL, 0);
        CHECK_EQ_INT(e, WARD_OK);
        if (e)
            return;
        ward_account a;
        CHECK_EQ_INT(ward_store_account_by_name(st, "alice", &a), WARD_OK);
        CHECK_EQ_INT(a.id, alice);
        CHECK_EQ_INT(a.age_band, WARD_AGE_ADULT);
        CHECK_EQ_INT(a.created_at, 111);
        CHECK(strcmp(a.pwhash, PW) == 0);
        CHECK_EQ_INT(ward_store_account_by_id(st, bob, &a), WARD_OK);
        CHECK(strcmp(a.username, "bob") == 0);
        CHECK_EQ_INT(a.age_band, WARD_AGE_MINOR);
        int64_t who = -1;
        CHECK_EQ_INT(ward_store_token_check(st, tok, 4999, &who), WARD_OK);
        CHECK_EQ_INT(who, alice);
        size_t n = 0;
        CHECK_EQ_INT(ward_store_prekey_count(st, alice, &n), WARD_OK);
        CHECK_EQ_INT(n, 3 - (size_t)round);
        ward_bundle b;
        memset(&b, 0, sizeof b);
        CHECK_EQ_INT(ward_store_take_bundle(st, alice, &b, &n), WARD_OK);
        CHECK_MEM(b.identity, ident, WARD_PUBKEY_LEN);
        CHECK_EQ_INT(b.registration_id, 77);
        CHECK_EQ_INT(b.signed_prekey_id, 9);
        CHECK_MEM(b.signed_prekey, spk, WARD_PUBKEY_LEN);
        CHECK_MEM(b.signed_prekey_sig, sig, WARD_SIGNATURE_LEN);
        /* The take in the first reopen lasted into the second. */
        CHECK_EQ_INT(b.has_prekey, 1);
        CHECK_EQ_INT(b.prekey_id, 10 + round);
        CHECK_EQ_INT(n, 2 - (size_t)round);
        size_t d = 0;
        CHECK_EQ_INT(ward_store_queue_depth(st, bob, &d), WARD_OK);
        CHECK_EQ_INT(d, 1);
        ward_blob g;
        CHECK_EQ_INT(ward_store_blob_get(st, blob.id, &g), WARD_OK);
        CHECK_EQ_INT(g.owner, alice);
        CHECK(g.size == 4096);
        CHECK_EQ_INT(g.expires_at, 20);
        /* New accounts do not collide with the old ones. */
        int64_t c = 0;
        char name[16];
        snprintf(name, sizeof name, "carol%d", round);
        CHECK_EQ_INT(ward_store_account_create(st, name, PW, WARD_AGE_ADULT,
                                               444, &c),
                     WARD_OK);
        CHECK(c != alice && c != bob);
        ward_store_close(st);

        /* No migration ran again: same version, no schema change at all
         * (the schema cookie moves with every CREATE/ALTER/DROP). */
        CHECK_EQ_INT(sql_int(path, "PRAGMA user_version"), version);
        CHECK_EQ_INT(sql_int(path, "PRAGMA schema_version"), cookie);
        CHECK_EQ_INT(sql_int(path, "SELECT count(*) FROM sqlite_master"),
                     objects);
    }
    /* Every account created across the reopens is there. */
    CHECK_EQ_INT(sql_int(path, "SELECT count(*) FROM accounts"), 4);
}

/* ---- a schema newer than this code ---- */

static void test_newer_schema(void)
{
    char path[128];
    path_in(path, sizeof path, "future.db");
    ward_store *st = NULL;
    REQUIRE(ward_store_open_sqlite(&st, path, NULL, 0) == WARD_OK);
    int64_t id;
    CHECK_EQ_INT(ward_store_account_create(st, "alice", PW, WARD_AGE_ADULT, 1,
                                           &id),
                 WARD_OK);
    ward_store_close(st);
    const long long known = sql_int(path, "PRAGMA user_version");
    CHECK(known >= 1);

    const long long future[] = {known + 1, 1000000};
    for (int i = 0; i < 2; i++) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %lld;",
                 future[i]);
        REQUIRE(sql_exec(path, pragma) == SQLITE_OK);
        const long long cookie = sql_int(path, "PRAGMA schema_version");

        st = NULL;
        char why[256] = "";
        ward_err e = ward_store_open_sqlite(&st, path, why, sizeof why);
        CHECK_EQ_INT(e, WARD_ERR_STORE);
        /* A refusal says why in the caller's buffer, and hands out no
         * handle (out-parameters are written only on success). */
        CHECK(st == NULL);
        CHECK(strstr(why, "newer") != NULL);
        /* Refused means untouched: no migration, no data lost. */
        CHECK_EQ_INT(sql_int(path, "PRAGMA user_version"), future[i]);
        CHECK_EQ_INT(sql_int(path, "PRAGMA schema_version"), cookie);
        CHECK_EQ_INT(sql_int(path, "SELECT count(*) FROM accounts"), 1);
    }

    /* Back at the known version it opens again with the data. */
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %lld;", known);
    REQUIRE(sql_exec(path, pragma) == SQLITE_OK);
    st = NULL;
    CHECK_EQ_INT(ward_store_open_sqlite(&st, path, NULL, 0), WARD_OK);
    if (st) {
        ward_account a;
        CHECK_EQ_INT(ward_store_account_by_name(st, "alice", &a), WARD_OK);
        CHECK_EQ_INT(a.id, id);
        ward_store_close(st);
    }
}

/* ---- files that are not (whole) databases ---- */

/* Writes |data| to |name| and opens it: NULL if refused (as it must be),
 * in which case the file must be left exactly as it was. */
static ward_store *open_copy(const char *name, const uint8_t *data,
                             size_t len)
{
    char path[128];
    path_in(path, sizeof path, name);
    spit(path, data, len);
    ward_store *st = NULL;
    ward_err e = ward_store_open_sqlite(&st, path, NULL, 0);
    if (e == WARD_OK) {
        fprintf(stderr, "%s (%zu bytes) was opened as a database\n", name,
                len);
        return st;
    }
    CHECK(st == NULL || ward_store_last_error(st)[0] != 0);
    ward_store_close(st);
    size_t after_len = 0;
    uint8_t *after = slurp(path, &after_len);
    CHECK(after != NULL && after_len == len &&
          (len == 0 || memcmp(after, data, len) == 0));
    free(after);
    return NULL;
}

/* Refused without a crash. If a backend wrongly accepts the file, the
 * calls that follow must still return rather than crash. */
static void expect_refused(const char *name, const uint8_t *data, size_t len)
{
    ward_store *st = open_copy(name, data, len);
    CHECK(st == NULL);
    if (st) {
        ward_account a;
        ward_bundle b;
        int64_t id;
        size_t n;
        (void)ward_store_account_by_name(st, "alice", &a);
        (void)ward_store_account_create(st, "zed", PW, WARD_AGE_ADULT, 1, &id);
        (void)ward_store_take_bundle(st, 1, &b, &n);
        (void)ward_store_queue_depth(st, 2, &n);
        ward_store_close(st);
    }
}

/* Checks that the one queued message is the 64 KiB of 0x5c. */
static int body_intact(void *ctx, const ward_store_msg *m)
{
    int *ok = ctx;
    *ok = m->body_len == 65536;
    for (size_t i = 0; *ok && i < m->body_len; i++)
        *ok = m->body[i] == 0x5c;
    return 0;
}

static void test_not_a_database(void)
{
    /* Random bytes, and text. */
    size_t rnd_len = 16384;
    uint8_t *rnd = malloc(rnd_len);
    REQUIRE(rnd != NULL);
    ward_random(rnd, rnd_len);
    memcpy(rnd, "not SQLite", 10); /* never the 16-byte magic by chance */
    expect_refused("random.db", rnd, rnd_len);
    static const char text[] = "this is a text file, not a database\n";
    expect_refused("text.db", (const uint8_t *)text, sizeof text - 1);

    /* The magic header with garbage after it. */
    memcpy(rnd, "SQLite format 3", 16);
    expect_refused("magic-random.db", rnd, rnd_len);
    free(rnd);

    /* A real database over many pages, then truncated copies of it. */
    char path[128];
    path_in(path, sizeof path, "real.db");
    ward_store *st = NULL;
    REQUIRE(ward_store_open_sqlite(&st, path, NULL, 0) == WARD_OK);
    int64_t alice = 0, bob = 0;
    REQUIRE(ward_store_account_create(st, "alice", PW, WARD_AGE_ADULT, 1,
                                      &alice) == WARD_OK);
    REQUIRE(ward_store_account_create(st, "bob", PW, WARD_AGE_ADULT, 1,
                                      &bob) == WARD_OK);
    ward_store_prekey *pk = calloc(300, sizeof *pk);
    REQUIRE(pk != NULL);
    for (uint32_t i = 0; i < 300; i++) {
        pk[i].id = i + 1;
        memset(pk[i].pub, (int)i, WARD_PUBKEY_LEN);
    }
    CHECK_EQ_INT(ward_store_add_prekeys(st, alice, pk, 300, 1000), WARD_OK);
    free(pk);
    static uint8_t body[65536];
    memset(body, 0x5c, sizeof body);
    ward_store_msg m;
    memset(&m, 0, sizeof m);
    m.recipient = bob;
    m.sender = alice;
    strcpy(m.sender_name, "alice");
    m.type = WARD_MSG_SIGNAL;
    m.body = body;
    m.body_len = sizeof body;
    ward_err r;
    CHECK_EQ_INT(ward_store_queue_put(st, &m, 1, 10, &r), WARD_OK);
    ward_store_close(st);

    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", path);
    size_t len = 0;
    uint8_t *db = slurp(path, &len);
    REQUIRE(db != NULL);
    /* Closing checkpointed everything into the main file. */
    CHECK(!file_exists(wal));
    const long long page = sql_int(path, "PRAGMA page_size");
    REQUIRE(page >= 512 && (size_t)page * 4 < len);

    const size_t cuts[] = {
        50,                        /* inside the 100-byte header */
        100,                       /* the header only */
        (size_t)page,              /* the first page only */
        (size_t)page * 2,          /* and the second */
        len / 2,                   /* half of it */
        len - (size_t)page,        /* all but the last page */
    };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "truncated-%zu.db", cuts[i]);
        expect_refused(name, db, cuts[i]);
    }

    /* Half of the last page missing: the page count still rounds up to
     * the header's, so only the file size tells. The last page holds the
     * end of the message body (an overflow page); whatever is served
     * from this copy must not be silently different. */
    size_t cut = len - (size_t)page / 2;
    st = open_copy("truncated-mid-page.db", db, cut);
    CHECK(st == NULL);
    if (st) {
        int ok = -1;
        ward_err e = ward_store_queue_list(st, bob, 0, 10, body_intact, &ok);
        if (e == WARD_OK && ok == 0)
            fprintf(stderr, "truncated-mid-page.db: the queued message's "
                            "body was served with zeros in place of the "
                            "lost bytes, without an error\n");
        CHECK(e != WARD_OK || ok == 1);
        ward_store_close(st);
    }
    free(db);

    /* The original was not disturbed by any of it. */
    st = NULL;
    CHECK_EQ_INT(ward_store_open_sqlite(&st, path, NULL, 0), WARD_OK);
    if (st) {
        size_t n = 0;
        CHECK_EQ_INT(ward_store_prekey_count(st, alice, &n), WARD_OK);
        CHECK_EQ_INT(n, 300);
        ward_store_close(st);
    }
}

/* ---- an unusable path ---- */

static void test_bad_path(void)
{
    char path[160];
    path_in(path, sizeof path, "no-such-dir/x.db");
    ward_store *st = NULL;
    ward_err e = ward_store_open_sqlite(&st, path, NULL, 0);
    CHECK(e != WARD_OK);
    if (e == WARD_OK)
        ward_store_close(st);
    CHECK(!file_exists(path));
}

/* ---- setup and cleanup ---- */

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    REQUIRE(d != NULL);
    struct dirent *ent;
    int failures = 0;
    while ((ent = readdir(d)) != NULL) {
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        if (unlink(path) != 0) {
            fprintf(stderr, "unlink %s: %s\n", path, strerror(errno));
            failures++;
        }
    }
    closedir(d);
    CHECK_EQ_INT(failures, 0);
    CHECK_EQ_INT(rmdir(dir), 0);
}

int main(void)
{
    REQUIRE(ward_crypto_init() == WARD_OK);
    snprintf(dir, sizeof dir, "/tmp/ward-test-store-XXXXXX");
    REQUIRE(mkdtemp(dir) != NULL);

    fresh_ctx ctx = {0};
    int suite_failed = store_suite_run(open_fresh_sqlite, &ctx);
    wtest_pass += store_suite_passed();
    wtest_fail += suite_failed;

    test_file_mode();
    test_reopen();
    test_newer_schema();
    test_not_a_database();
    test_bad_path();

    remove_dir();
    return wtest_done("test_store");
}
