/* The client's local state file (src/client/state.c). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
    ward_client_state_close(cs);
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
    test_paths();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return wtest_done("test_client_state");
}
