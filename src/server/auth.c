#define _DEFAULT_SOURCE /* timegm */
#include "auth.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ward/crypto.h"
#include "ward/store.h"

int ward_auth_username_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 3 || n > WARD_USERNAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
            return 0;
    }
    return 1;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

ward_err ward_auth_age_band(const char *birth_date, int64_t now_ms, int *band,
                            int64_t *adult_at)
{
    int y, m, d;
    char tail;
    if (!birth_date || strlen(birth_date) != 10 || birth_date[4] != '-' ||
        birth_date[7] != '-' ||
        sscanf(birth_date, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return WARD_ERR_INVALID_ARG;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (birth_date[i] < '0' || birth_date[i] > '9'))
            return WARD_ERR_INVALID_ARG;
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return WARD_ERR_INVALID_ARG;

    time_t secs = (time_t)(now_ms / 1000);
    struct tm today;
    if (!gmtime_r(&secs, &today))
        return WARD_ERR_INTERNAL;
    int ty = today.tm_year + 1900, tm = today.tm_mon + 1, td = today.tm_mday;
    if (y > ty || (y == ty && (m > tm || (m == tm && d > td))))
        return WARD_ERR_INVALID_ARG;
    /* Someone born on 29 February turns a year older on 1 March in other
     * years: their birthday has passed only once the date is later. */
    int age = ty - y - ((tm < m || (tm == m && td < d)) ? 1 : 0);
    if (age < 13)
        return WARD_ERR_LIMIT;
    *band = age < 18 ? WARD_AGE_MINOR : WARD_AGE_ADULT;
    if (adult_at) {
        /* timegm normalises 29 February of a common year to 1 March. */
        struct tm b;
        memset(&b, 0, sizeof b);
        b.tm_year = y + 18 - 1900;
        b.tm_mon = m - 1;
        b.tm_mday = d;
        *adult_at = (int64_t)timegm(&b) * 1000;
    }
    return WARD_OK;
}

ward_pwhash_cost ward_pwhash_cost_default(void)
{
    ward_pwhash_cost c = {crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE};
    return c;
}

ward_pwhash_cost ward_pwhash_cost_moderate(void)
{
    ward_pwhash_cost c = {crypto_pwhash_OPSLIMIT_MODERATE,
                          crypto_pwhash_MEMLIMIT_MODERATE};
    return c;
}

ward_pwhash_cost ward_pwhash_cost_min(void)
{
    ward_pwhash_cost c = {crypto_pwhash_OPSLIMIT_MIN,
                          crypto_pwhash_MEMLIMIT_MIN};
    return c;
}

_Static_assert(crypto_pwhash_STRBYTES <= WARD_PWHASH_STR_LEN,
               "pwhash string buffer too small");

ward_err ward_auth_password_hash(const char *pw, size_t n,
                                 ward_pwhash_cost cost,
                                 char out[WARD_PWHASH_STR_LEN])
{
    if (!pw || n < WARD_PASSWORD_MIN || n > WARD_PASSWORD_MAX)
        return WARD_ERR_INVALID_ARG;
    if (crypto_pwhash_str(out, pw, n, cost.ops, cost.mem) != 0)
        return WARD_ERR_NOMEM; /* Argon2 fails only when memory runs out */
    return WARD_OK;
}

ward_err ward_auth_password_check(const char *stored, const char *pw,
                                  size_t n)
{
    if (!stored || !pw || n > WARD_PASSWORD_MAX)
        return WARD_ERR_AUTH;
    return crypto_pwhash_str_verify(stored, pw, n) == 0 ? WARD_OK
                                                        : WARD_ERR_AUTH;
}

#define TOKEN_PREFIX "wt_"
#define TOKEN_RAW 32

ward_err ward_auth_token_new(char token[WARD_TOKEN_LEN + 1], uint8_t hash[32])
{
    uint8_t raw[TOKEN_RAW];
    char b64[sodium_base64_ENCODED_LEN(TOKEN_RAW,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    ward_random(raw, sizeof raw);
    sodium_bin2base64(b64, sizeof b64, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    ward_memzero(raw, sizeof raw);
    int n = snprintf(token, WARD_TOKEN_LEN + 1, TOKEN_PREFIX "%s", b64);
    ward_memzero(b64, sizeof b64);
    if (n != WARD_TOKEN_LEN)
        return WARD_ERR_INTERNAL;
    ward_sha256(hash, (const uint8_t *)token, WARD_TOKEN_LEN);
    return WARD_OK;
}

ward_err ward_auth_token_hash(const char *token, size_t n, uint8_t hash[32])
{
    if (!token || n != WARD_TOKEN_LEN || memcmp(token, TOKEN_PREFIX, 3) != 0)
        return WARD_ERR_AUTH;
    for (size_t i = 3; i < n; i++) {
        char c = token[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return WARD_ERR_AUTH;
    }
    ward_sha256(hash, (const uint8_t *)token, n);
    return WARD_OK;
}

typedef struct bucket {
    double tokens;
    int64_t at; /* when |tokens| was last brought up to date */
    int used;
} bucket;

struct ward_ratelimit {
    uint8_t key[crypto_shorthash_KEYBYTES];
    size_t slots;
    double burst, per_ms;
    bucket b[];
};

ward_err ward_ratelimit_new(ward_ratelimit **out, size_t slots, double burst,
                            double per_minute)
{
    return ward_ratelimit_new_keyed(out, slots, burst, per_minute, NULL);
}

ward_err ward_ratelimit_new_keyed(ward_ratelimit **out, size_t slots,
                                  double burst, double per_minute,
                                  const uint8_t key[16])
{
    if (slots == 0 || slots > ((size_t)1 << 24) || burst < 1 ||
        per_minute <= 0)
        return WARD_ERR_INVALID_ARG;
    ward_ratelimit *rl = calloc(1, sizeof *rl + slots * sizeof(bucket));
    if (!rl)
        return WARD_ERR_NOMEM;
    if (key)
        memcpy(rl->key, key, sizeof rl->key);
    else
        crypto_shorthash_keygen(rl->key);
    rl->slots = slots;
    rl->burst = burst;
    rl->per_ms = per_minute / 60000.0;
    *out = rl;
    return WARD_OK;
}

void ward_ratelimit_free(ward_ratelimit *rl)
{
    if (rl)
        ward_memzero(rl->key, sizeof rl->key);
    free(rl);
}

int ward_ratelimit_take(ward_ratelimit *rl, const char *key, int64_t now_ms)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, (const uint8_t *)key, strlen(key), rl->key);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    bucket *b = &rl->b[v % rl->slots];
    if (!b->used) {
        b->used = 1;
        b->tokens = rl->burst;
        b->at = now_ms;
    } else if (now_ms > b->at) {
        b->tokens += (double)(now_ms - b->at) * rl->per_ms;
        if (b->tokens > rl->burst)
            b->tokens = rl->burst;
    }
    if (now_ms > b->at)
        b->at = now_ms;
    if (b->tokens < 1)
        return 0;
    b->tokens -= 1;
    return 1;
}
