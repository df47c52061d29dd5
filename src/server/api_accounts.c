/*
 * Accounts and login sessions. Hashing or checking the password runs as a
 * password job (pwjob.h): on a worker under ward serve, inline in the
 * in-process tests; each kind of request finishes in its own callback.
 */
#include <string.h>

#include "api_internal.h"
#include "pwjob.h"
#include "ward/crypto.h"

const char *ward_api_band_name(int band)
{
    return band == WARD_AGE_MINOR ? "minor" : "adult";
}

/* What finishing a request needs beside the password work. */
typedef struct acct_job {
    ward_pwjob pw; /* first: see pwjob.h */
    char name[WARD_USERNAME_MAX + 1]; /* register */
    int band;
    int64_t adult_at; /* register: when a minor becomes an adult */
    int64_t account;  /* login, delete */
    int known;        /* login: the account exists */
} acct_job;

static void finish_register(ward_api *api, ward_pwjob *pj,
                            ward_http_resp *resp)
{
    acct_job *j = (acct_job *)pj;
    int64_t id;
    if (pj->result) {
        ward_resp_error(resp, 500, "internal", "cannot hash the password");
        return;
    }
    ward_err e = ward_store_account_create_at(api->st, j->name, pj->hash,
                                              j->band, j->adult_at, pj->now,
                                              &id);
    if (e == WARD_ERR_EXISTS) {
        ward_resp_error(resp, 409, "username_taken",
                        "that username is taken");
        return;
    }
    if (e) {
        ward_api_store_error(api, resp, e);
        return;
    }
    ward_resp_json(resp, 201,
                   json_pack("{s:I,s:s,s:s,s:b}", "id", (json_int_t)id,
                             "username", j->name, "age_band",
                             ward_api_band_name(j->band), "private",
                             j->band == WARD_AGE_MINOR));
}

static void finish_login(ward_api *api, ward_pwjob *pj, ward_http_resp *resp)
{
    acct_job *j = (acct_job *)pj;
    ward_account acct;
    if (!j->known || pj->result) {
        api->stats.login_refused++;
        ward_resp_error(resp, 401, "bad_credentials",
                        "wrong username or password");
        return;
    }
    /* Looked up again: the account may have gone while the worker ran. */
    ward_err e = ward_store_account_by_id(api->st, j->account, &acct);
    if (e == WARD_ERR_NOT_FOUND) {
        api->stats.login_refused++;
        ward_resp_error(resp, 401, "bad_credentials",
                        "wrong username or password");
        return;
    }
    /* The password was right: now it may be told why it cannot log in. */
    if (!e && ward_api_refuse_status(api, acct.id, resp))
        return;
    char token[WARD_TOKEN_LEN + 1];
    uint8_t hash[32];
    size_t prekeys = 0;
    int64_t expires = pj->now + api->cfg.token_ttl_ms;
    if (e || (e = ward_auth_token_new(token, hash)) ||
        (e = ward_store_token_put(api->st, hash, acct.id, expires))) {
        ward_api_store_error(api, resp, e);
        return;
    }
    (void)ward_store_prekey_count(api->st, acct.id, &prekeys);
    ward_resp_json(resp, 200,
                   json_pack("{s:s,s:I,s:I,s:s,s:s,s:I,s:b}", "token", token,
                             "expires_at", (json_int_t)expires, "id",
                             (json_int_t)acct.id, "username",
                             acct.username, "age_band",
                             ward_api_band_name(acct.age_band), "prekeys",
                             (json_int_t)prekeys, "prekeys_low",
                             prekeys < api->cfg.prekeys_low));
    ward_memzero(token, sizeof token);
}

static void finish_delete(ward_api *api, ward_pwjob *pj, ward_http_resp *resp)
{
    acct_job *j = (acct_job *)pj;
    if (pj->result) {
        ward_resp_error(resp, 403, "bad_credentials",
                        "the account's password is required");
        return;
    }
    ward_err e = ward_store_account_delete(api->st, j->account);
    if (e == WARD_ERR_NOT_FOUND)
        resp->status = 204; /* deleted meanwhile: the same outcome */
    else if (e)
        ward_api_store_error(api, resp, e);
    else
        resp->status = 204;
}

int ward_api_register(ward_api *api, const ward_http_req *req,
                      ward_http_resp *resp)
{
    static const char *const allowed[] = {"username", "password",
                                          "birth_date", NULL};
    const char *name, *pw, *birth;
    int band = 0, r = WARD_API_DONE;
    int64_t adult_at = 0;
    int64_t now = ward_api_now(api);

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
    ward_err e = ward_auth_age_band(birth, now, &band, &adult_at);
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
    /* Taken now saves the hashing; the insert decides in the end. */
    ward_account other;
    if (ward_store_account_by_name(api->st, name, &other) == WARD_OK) {
        ward_resp_error(resp, 409, "username_taken",
                        "that username is taken");
        goto done;
    }
    acct_job *j = ward_pwjob_new_hash(sizeof *j, finish_register, req->opaque,
                                      now, pw, api->cfg.pwhash);
    if (!j) {
        ward_resp_error(resp, 503, "busy", "out of memory");
        goto done;
    }
    j->band = band;
    j->adult_at = adult_at;
    memcpy(j->name, name, strlen(name) + 1);
    r = ward_pwjob_run(api, &j->pw, resp);
done:
    json_decref(body);
    return r;
}

int ward_api_login(ward_api *api, const ward_http_req *req,
                   ward_http_resp *resp)
{
    static const char *const allowed[] = {"username", "password", NULL};
    const char *name, *pw;
    int r = WARD_API_DONE;
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
    if (ward_api_password_budget(api, api->login_by_name, api->login_by_addr,
                                 name, req, now,
                                 "too many login attempts; try again later",
                                 resp))
        goto done;
    ward_account acct;
    ward_err e = ward_store_account_by_name(api->st, name, &acct);
    if (e && e != WARD_ERR_NOT_FOUND) {
        ward_api_store_error(api, resp, e);
        goto done;
    }
    /* An unknown name is checked against a real hash too, so the time
     * taken does not tell whether the account exists. */
    int known = e == WARD_OK;
    acct_job *j = ward_pwjob_new_check(sizeof *j, finish_login, req->opaque,
                                       now, pw,
                                       known ? acct.pwhash : api->dummy_hash);
    if (!j) {
        ward_memzero(&acct, sizeof acct);
        ward_resp_error(resp, 503, "busy", "out of memory");
        goto done;
    }
    j->known = known;
    j->account = known ? acct.id : 0;
    ward_memzero(&acct, sizeof acct);
    r = ward_pwjob_run(api, &j->pw, resp);
done:
    json_decref(body);
    return r;
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
    int r = WARD_API_DONE;
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
    if (ward_api_password_budget(
            api, api->login_by_name, api->login_by_addr, acct.username, req,
            now, "too many password attempts; try again later", resp))
        goto done;
    acct_job *j = ward_pwjob_new_check(sizeof *j, finish_delete, req->opaque,
                                       now, pw, acct.pwhash);
    if (!j) {
        ward_resp_error(resp, 503, "busy", "out of memory");
        goto done;
    }
    j->account = acct.id;
    r = ward_pwjob_run(api, &j->pw, resp);
done:
    ward_memzero(&acct, sizeof acct);
    json_decref(body);
    return r;
}
