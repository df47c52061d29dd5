/* Account rules and credentials (src/server/auth.c). */
#include <sodium.h>
#include <string.h>

#include "../../src/server/auth.h"
#include "ward/crypto.h"
#include "ward/store.h"
#include "wtest.h"

/* Epoch times from `date -u -d "..." +%s`, not from the code under test. */
#define T_2026_11_23_NOON 1795435200000LL
#define T_2026_02_28_NOON 1772280000000LL
#define T_2026_03_01_MIDNIGHT 1772323200000LL

static void test_usernames(void)
{
    const char *good[] = {"bob", "alice", "a1b", "x.y_z-9", "007",
                          "abcdefghijklmnopqrstuvwxyz012345"};
    const char *bad[] = {"", "ab", "Alice", "al ice", "_bob", ".bob", "-bob",
                         "bob!", "b\xc3\xa9", "abcdefghijklmnopqrstuvwxyz0123456",
                         "bob\n"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        CHECK(ward_auth_username_valid(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(!ward_auth_username_valid(bad[i]));
    CHECK(!ward_auth_username_valid(NULL));
}

static void age(const char *date, int64_t now, ward_err want_err, int want)
{
    int band = -1;
    ward_err e = ward_auth_age_band(date, now, &band, NULL);
    CHECK_EQ_INT(e, want_err);
    if (want_err == WARD_OK)
        CHECK_EQ_INT(band, want);
    else
        CHECK_EQ_INT(band, -1);
}

static void test_age_bands(void)
{
    const int64_t now = T_2026_11_23_NOON;
    age("2013-11-23", now, WARD_OK, WARD_AGE_MINOR);  /* 13 today */
    age("2013-11-24", now, WARD_ERR_LIMIT, 0);        /* 13 tomorrow */
    age("2020-01-01", now, WARD_ERR_LIMIT, 0);
    age("2008-11-23", now, WARD_OK, WARD_AGE_ADULT);  /* 18 today */
    age("2008-11-24", now, WARD_OK, WARD_AGE_MINOR);  /* 17 */
    age("1950-06-15", now, WARD_OK, WARD_AGE_ADULT);
    /* Born on 29 February: 18 on 1 March in a common year, not before. */
    age("2008-02-29", T_2026_02_28_NOON, WARD_OK, WARD_AGE_MINOR);
    age("2008-02-29", T_2026_03_01_MIDNIGHT, WARD_OK, WARD_AGE_ADULT);
    /* Malformed, impossible and future dates. */
    const char *bad[] = {"", "2008-1-01", "2008/01/01", "20080101",
                         "2008-13-01", "2008-00-10", "2008-02-30",
                         "2007-02-29", "2008-01-32", "abcd-ef-gh",
                         "2008-01-01x", "1899-12-31", "2026-11-24",
                         "+008-01-01", " 2008-01-1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        age(bad[i], now, WARD_ERR_INVALID_ARG, 0);
    age(NULL, now, WARD_ERR_INVALID_ARG, 0);
    /* The coming of age: the start of the 18th birthday, UTC (values from
     * Python's calendar.timegm). */
    int band;
    int64_t at = 0;
    CHECK_EQ_INT(ward_auth_age_band("2010-06-15", now, &band, &at), WARD_OK);
    CHECK_EQ_INT(at, 1844640000000LL);
    CHECK_EQ_INT(ward_auth_age_band("2008-02-29", T_2026_02_28_NOON, &band,
                                    &at),
                 WARD_OK);
    CHECK_EQ_INT(at, 1772323200000LL); /* 2026-03-01 */
    CHECK_EQ_INT(ward_auth_age_band("2006-02-28", now, &band, &at), WARD_OK);
    CHECK(at < now);
    age("2000-02-29", now, WARD_OK, WARD_AGE_ADULT); /* a leap century */
}

static void test_passwords(void)
{
    char h[WARD_PWHASH_STR_LEN], h2[WARD_PWHASH_STR_LEN];
    const char *pw = "correct horse battery";
    ward_pwhash_cost c = ward_pwhash_cost_min();
    CHECK_EQ_INT(ward_auth_password_hash(pw, strlen(pw), c, h), WARD_OK);
    CHECK(strncmp(h, "$argon2id$", 10) == 0);
    CHECK_EQ_INT(ward_auth_password_check(h, pw, strlen(pw)), WARD_OK);
    CHECK_EQ_INT(ward_auth_password_check(h, "correct horse battery!", 22),
                 WARD_ERR_AUTH);
    CHECK_EQ_INT(ward_auth_password_check(h, pw, strlen(pw) - 1),
                 WARD_ERR_AUTH);
    /* Salted: the same password hashes differently. */
    CHECK_EQ_INT(ward_auth_password_hash(pw, strlen(pw), c, h2), WARD_OK);
    CHECK(strcmp(h, h2) != 0);
    CHECK_EQ_INT(ward_auth_password_check(h2, pw, strlen(pw)), WARD_OK);
    /* libsodium's own verifier agrees (an independent check). */
    CHECK(crypto_pwhash_str_verify(h, pw, strlen(pw)) == 0);
    CHECK_EQ_INT(ward_auth_password_hash("short", 5, c, h), WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_auth_password_hash("1234567", 7, c, h),
                 WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_auth_password_check("not a hash", pw, strlen(pw)),
                 WARD_ERR_AUTH);
}

static void test_tokens(void)
{
    char t1[WARD_TOKEN_LEN + 1], t2[WARD_TOKEN_LEN + 1];
    uint8_t h1[32], h2[32], again[32], indep[32];
    CHECK_EQ_INT(ward_auth_token_new(t1, h1), WARD_OK);
    CHECK_EQ_INT(ward_auth_token_new(t2, h2), WARD_OK);
    CHECK_EQ_INT(strlen(t1), 46);
    CHECK(strncmp(t1, "wt_", 3) == 0);
    CHECK(strcmp(t1, t2) != 0);
    crypto_hash_sha256(indep, (const uint8_t *)t1, strlen(t1));
    CHECK_MEM(h1, indep, 32);
    CHECK_EQ_INT(ward_auth_token_hash(t1, strlen(t1), again), WARD_OK);
    CHECK_MEM(again, h1, 32);

    char bad[WARD_TOKEN_LEN + 2];
    memcpy(bad, t1, sizeof t1);
    bad[10] = '+';
    CHECK_EQ_INT(ward_auth_token_hash(bad, strlen(bad), again), WARD_ERR_AUTH);
    memcpy(bad, t1, sizeof t1);
    bad[0] = 'x';
    CHECK_EQ_INT(ward_auth_token_hash(bad, strlen(bad), again), WARD_ERR_AUTH);
    CHECK_EQ_INT(ward_auth_token_hash(t1, strlen(t1) - 1, again),
                 WARD_ERR_AUTH);
    CHECK_EQ_INT(ward_auth_token_hash("", 0, again), WARD_ERR_AUTH);
    CHECK_EQ_INT(ward_auth_token_hash(NULL, 46, again), WARD_ERR_AUTH);
}

static size_t slot_of(const uint8_t key[16], const char *s, size_t slots)
{
    uint8_t h[8];
    uint64_t v;
    crypto_shorthash(h, (const uint8_t *)s, strlen(s), key);
    memcpy(&v, h, 8);
    return v % slots;
}

static void test_ratelimit(void)
{
    const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
    ward_ratelimit *rl;
    /* 3 at once, then 6 a minute: one every 10 s. */
    REQUIRE(ward_ratelimit_new_keyed(&rl, 1024, 3, 6, key) == WARD_OK);
    REQUIRE(slot_of(key, "alice", 1024) != slot_of(key, "bob", 1024));
    int64_t t = 0; /* time 0 is a time like any other */
    CHECK(ward_ratelimit_take(rl, "alice", t));
    CHECK(ward_ratelimit_take(rl, "alice", t));
    CHECK(ward_ratelimit_take(rl, "alice", t));
    CHECK(!ward_ratelimit_take(rl, "alice", t));
    CHECK(!ward_ratelimit_take(rl, "alice", t + 9000));
    CHECK(ward_ratelimit_take(rl, "bob", t)); /* another key's own budget */
    CHECK(ward_ratelimit_take(rl, "alice", t + 10000));
    CHECK(!ward_ratelimit_take(rl, "alice", t + 10000));
    /* Refills up to the burst only. */
    int n = 0;
    for (int i = 0; i < 10; i++)
        n += ward_ratelimit_take(rl, "alice", t + 3600000);
    CHECK_EQ_INT(n, 3);
    /* A clock that steps back takes nothing extra. */
    CHECK(!ward_ratelimit_take(rl, "alice", t));
    ward_ratelimit_free(rl);

    /* One slot: every key shares one budget (the documented trade-off). */
    REQUIRE(ward_ratelimit_new_keyed(&rl, 1, 2, 1, key) == WARD_OK);
    CHECK(ward_ratelimit_take(rl, "a", 5));
    CHECK(ward_ratelimit_take(rl, "b", 5));
    CHECK(!ward_ratelimit_take(rl, "c", 5));
    ward_ratelimit_free(rl);
    CHECK_EQ_INT(ward_ratelimit_new(&rl, 0, 1, 1), WARD_ERR_INVALID_ARG);
    CHECK_EQ_INT(ward_ratelimit_new(&rl, 10, 0, 1), WARD_ERR_INVALID_ARG);
}

int main(void)
{
    REQUIRE(ward_crypto_init() == WARD_OK);
    test_usernames();
    test_age_bands();
    test_passwords();
    test_tokens();
    test_ratelimit();
    return wtest_done("test_auth");
}
