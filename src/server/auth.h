/* Account rules and credentials for `ward serve`: usernames, age bands,
 * passwords (Argon2id), bearer tokens, and login rate limits. */
#ifndef WARD_SERVER_AUTH_H
#define WARD_SERVER_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "ward/err.h"

/* 3 to 32 characters of a-z, 0-9, '.', '_', '-', starting with a letter
 * or digit. Usernames are compared exactly, so only lowercase is allowed. */
int ward_auth_username_valid(const char *name);

/* The age band for a birth date "YYYY-MM-DD" on the UTC day of |now_ms|:
 * WARD_AGE_MINOR (13-17) or WARD_AGE_ADULT (18+), and (|adult_at|, may be
 * NULL) the start of the UTC day of the 18th birthday, in ms (someone born
 * on 29 February comes of age on 1 March in other years).
 * WARD_ERR_INVALID_ARG for a malformed or future date; WARD_ERR_LIMIT for
 * an age under 13, which ward refuses. Only the band and the coming of age
 * are kept: the date is not stored. */
ward_err ward_auth_age_band(const char *birth_date, int64_t now_ms,
                            int *band, int64_t *adult_at);

/* Password hashing cost: the server uses interactive limits; tests may
 * lower them. */
typedef struct ward_pwhash_cost {
    unsigned long long ops;
    size_t mem;
} ward_pwhash_cost;
ward_pwhash_cost ward_pwhash_cost_default(void);
ward_pwhash_cost ward_pwhash_cost_moderate(void);
ward_pwhash_cost ward_pwhash_cost_min(void);

#define WARD_PASSWORD_MIN 8
#define WARD_PASSWORD_MAX 1024
#define WARD_PWHASH_STR_LEN 128

/* Argon2id string (crypto_pwhash_str) of |pw|; WARD_ERR_INVALID_ARG for a
 * password shorter than 8 or longer than 1024 bytes. */
ward_err ward_auth_password_hash(const char *pw, size_t n,
                                 ward_pwhash_cost cost,
                                 char out[WARD_PWHASH_STR_LEN]);
/* WARD_OK or WARD_ERR_AUTH. */
ward_err ward_auth_password_check(const char *stored, const char *pw,
                                  size_t n);

/* A new bearer token: "wt_" + 43 characters of base64url (32 random
 * bytes), and the SHA-256 the server stores instead of the token. */
#define WARD_TOKEN_LEN 46
ward_err ward_auth_token_new(char token[WARD_TOKEN_LEN + 1],
                             uint8_t hash[32]);
/* The stored hash of a presented token; WARD_ERR_AUTH if it is not of
 * the token's form (so malformed tokens never reach the database). */
ward_err ward_auth_token_hash(const char *token, size_t n, uint8_t hash[32]);

/*
 * Login attempts per key (an account name or an address): at most |burst|
 * at once, refilled at |per_minute|. Keys are hashed with a secret
 * SipHash key into a fixed table, so memory is bounded whatever the
 * traffic and nobody can aim collisions at another's key; two keys that
 * share a slot share a budget, which errs on the side of refusing.
 */
typedef struct ward_ratelimit ward_ratelimit;
ward_err ward_ratelimit_new(ward_ratelimit **out, size_t slots,
                            double burst, double per_minute);
/* With a chosen SipHash key (16 bytes), for tests; NULL draws one. */
ward_err ward_ratelimit_new_keyed(ward_ratelimit **out, size_t slots,
                                  double burst, double per_minute,
                                  const uint8_t key[16]);
void ward_ratelimit_free(ward_ratelimit *rl);
/* 1 and one attempt taken if allowed at |now_ms|, 0 if not. */
int ward_ratelimit_take(ward_ratelimit *rl, const char *key, int64_t now_ms);

#endif
