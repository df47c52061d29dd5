/* Accounts and login sessions. */
#include <string.h>

#include "api_internal.h"
#include "ward/crypto.h"

static const char *band_name(int band)
{
    return band == WARD_AGE_MINOR ? "minor" : "adult";
}

int ward_api_register(ward_api *api, const ward_http_req *req,
                      ward_http_resp *resp)
{
    static const char *const allowed[] = {"username", "password",
                                          "birth_date", NULL};
    const char *name, *pw, *birth;
    int band = 0;
    char hash[WARD_PWHASH_STR_LEN];
    int64_t now = ward_api_now(api), id;

    if (req->remote &&
        !ward_ratelimit_take(api->register_by_addr, req->remote, now)) {
        api->stats.rate_limited++;
        ward_resp_error(resp, 429, "rate_limited",
                        "too many registrations; try again later");
        return WARD_API_DONE;
    }
    json_t *body = ward_api_body(req, resp, allowed);
    if (!body)
        return WARD_API_DONE;
    if (ward_json_str(body, "username", 1, WARD_USERNAME_MAX, &name) ||
        !ward_auth_username_valid(name)) {
        ward_resp_error(resp, 400, "invalid_username",
                        "a username is 3 to 32 of a-z, 0-9, '.', '_', '-'");
        goto done;
    }
    if (ward_json_str(body, "password", 1, WARD_PASSWORD_MAX, &pw) ||
        strlen(pw) < WARD_PASSWORD_MIN) {
        ward_resp_error(resp, 400, "invalid_password",
                        "a password is 8 to 1024 bytes");
        goto done;
    }
    if (ward_json_str(body, "birth_date", 1, 10, &birth)) {
        ward_resp_error(resp, 400, "invalid_birth_date",
                        "birth_date is YYYY-MM-DD");
        goto done;
    }
    ward_err e = ward_auth_age_band(birth, now, &band);
    if (e == WARD_ERR_LIMIT) {
        ward_resp_error(resp, 403, "too_young",
                        "you must be at least 13 to use ward");
        goto done;
    }
    if (e) {
        ward_resp_error(resp, 400, "invalid_birth_date",
                        "birth_date is a past date, YYYY-MM-DD");
        goto done;
    }
    if ((e = ward_auth_password_hash(pw, strlen(pw), api->cfg.pwhash, hash))) {
        ward_resp_error(resp, 500, "internal", "cannot hash the password");
        goto done;
    }
    e = ward_store_account_create(api->st, name, hash, band, now, &id);
    ward_memzero(hash, sizeof hash);
    if (e == WARD_ERR_EXISTS) {
        ward_resp_error(resp, 409, "username_taken",
                        "that username is taken");
        goto done;
    }
    if (e) {
        ward_api_store_error(api, resp, e);
        goto done;
    }
    ward_resp_json(resp, 201,
                   json_pack("{s:s,s:s}", "username", name, "age_band",
                             band_name(band)));
done:
    json_decref(body);
    return WARD_API_DONE;
}

int ward_api_login(ward_api *api, const ward_http_req *req,
                   ward_http_resp *resp)
{
    static const char *const allowed[] = {"username", "password", NULL};
    const char *name, *pw;
    int64_t now = ward_api_now(api);
    json_t *body = ward_api_body(req, resp, allowed);
    if (!body)
        return WARD_API_DONE;
    if (ward_json_str(body, "username", 1, WARD_USERNAME_MAX, &name) ||
        ward_json_str(body, "password", 1, WARD_PASSWORD_MAX, &pw)) {
        ward_resp_error(resp, 400, "invalid_request",
                        "username and password are required strings");
        goto done;
    }
    /* Both budgets are spent on every attempt, so guessing one account's
     * password from many addresses, or many accounts' from one, is slow. */
    int by_name = ward_ratelimit_take(api->login_by_name, name, now);
    int by_addr = !req->remote ||
                  ward_ratelimit_take(api->login_by_addr, req->remote, now);
    if (!by_name || !by_addr) {
        api->stats.rate_limited++;
        ward_resp_error(resp, 429, "rate_limited",
                        "too many login attempts; try again later");
        goto done;
    }
    ward_account acct;
    ward_err e = ward_store_account_by_name(api->st, name, &acct);
    if (e && e != WARD_ERR_NOT_FOUND) {
        ward_api_store_error(api, resp, e);
        goto done;
    }
    const char *stored = e ? api->dummy_hash : acct.pwhash;
    ward_err pe = ward_auth_password_check(stored, pw, strlen(pw));
    if (e || pe) {
        api->stats.login_refused++;
        ward_resp_error(resp, 401, "bad_credentials",
                        "wrong username or password");
        goto done;
    }
    char token[WARD_TOKEN_LEN + 1];
    uint8_t hash[32];
    size_t prekeys = 0;
    int64_t expires = now + api->cfg.token_ttl_ms;
    if ((e = ward_auth_token_new(token, hash)) ||
        (e = ward_store_token_put(api->st, hash, acct.id, expires))) {
        ward_api_store_error(api, resp, e);
        goto done;
    }
    (void)ward_store_prekey_count(api->st, acct.id, &prekeys);
    ward_resp_json(resp, 200,
                   json_pack("{s:s,s:I,s:s,s:s,s:I,s:b}", "token", token,
                             "expires_at", (json_int_t)expires, "username",
                             acct.username, "age_band",
                             band_name(acct.age_band), "prekeys",
                             (json_int_t)prekeys, "prekeys_low",
                             prekeys < api->cfg.prekeys_low));
    ward_memzero(token, sizeof token);
done:
    json_decref(body);
    return WARD_API_DONE;
}

int ward_api_logout(ward_api *api, const ward_http_req *req,
                    ward_http_resp *resp)
{
    ward_account acct;
    if (ward_api_require_account(api, req, resp, &acct))
        return WARD_API_DONE;
    uint8_t hash[32];
    const char *tok = req->authorization + 7; /* checked: "Bearer " */
    ward_err e = ward_auth_token_hash(tok, strlen(tok), hash);
    if (!e)
        e = ward_store_token_delete(api->st, hash);
    /* A 204 tells the client the token is dead, so it may forget it: not
     * while the token still works. Gone already (a logout racing this
     * one) is gone. */
    if (e && e != WARD_ERR_NOT_FOUND) {
        ward_api_store_error(api, resp, e);
        return WARD_API_DONE;
    }
    resp->status = 204;
    return WARD_API_DONE;
}

int ward_api_delete_account(ward_api *api, const ward_http_req *req,
                            ward_http_resp *resp)
{
    static const char *const allowed[] = {"password", NULL};
    ward_account acct;
    const char *pw;
    if (ward_api_require_account(api, req, resp, &acct))
        return WARD_API_DONE;
    json_t *body = ward_api_body(req, resp, allowed);
    if (!body)
        return WARD_API_DONE;
    /* Deleting is final: ask for the password, not only the token. */
    if (ward_json_str(body, "password", 1, WARD_PASSWORD_MAX, &pw)) {
        ward_resp_error(resp, 403, "bad_credentials",
                        "the account's password is required");
        goto done;
    }
    /* This checks a password too: it spends the login budgets, or a
     * stolen token would allow unlimited guesses at the password. */
    int64_t now = ward_api_now(api);
    int by_name = ward_ratelimit_take(api->login_by_name, acct.username, now);
    int by_addr = !req->remote ||
                  ward_ratelimit_take(api->login_by_addr, req->remote, now);
    if (!by_name || !by_addr) {
        api->stats.rate_limited++;
        ward_resp_error(resp, 429, "rate_limited",
                        "too many password attempts; try again later");
        goto done;
    }
    if (ward_auth_password_check(acct.pwhash, pw, strlen(pw)) != WARD_OK) {
        ward_resp_error(resp, 403, "bad_credentials",
                        "the account's password is required");
        goto done;
    }
    ward_err e = ward_store_account_delete(api->st, acct.id);
    if (e)
        ward_api_store_error(api, resp, e);
    else
        resp->status = 204;
done:
    json_decref(body);
    return WARD_API_DONE;
}
