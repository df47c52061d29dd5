/* The client's account: registration, login, keys on the server. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "ward/crypto.h"

#define PREKEY_BATCH 100
#define SIGNED_ID 1

ward_err ward_client_new(ward_client **out, const char *server_url,
                         const char *username, const char *state_path,
                         char *err, size_t errlen)
{
    char path[4096];
    ward_client *c = calloc(1, sizeof *c);
    if (!c)
        return WARD_ERR_NOMEM;
    snprintf(c->username, sizeof c->username, "%s", username);
    snprintf(c->server, sizeof c->server, "%s", server_url);
    ward_err e = WARD_OK;
    if (!state_path) {
        e = ward_client_state_path(server_url, username, path, sizeof path);
        if (e && err && errlen)
            snprintf(err, errlen, "cannot make the state folder for %s",
                     username);
        state_path = path;
    }
    if (!e) {
        /* Attachments go beside the state file unless told otherwise. */
        const char *slash = strrchr(state_path, '/');
        if (slash)
            snprintf(c->attach_dir, sizeof c->attach_dir, "%.*s/attachments",
                     (int)(slash - state_path), state_path);
        else
            snprintf(c->attach_dir, sizeof c->attach_dir, "attachments");
        e = ward_client_state_open(&c->state, state_path, err, errlen);
    }
    if (!e)
        e = ward_http_new(&c->http, server_url);
    if (e) {
        ward_client_free(c);
        return e;
    }
    *out = c;
    return WARD_OK;
}

void ward_client_set_attachment_dir(ward_client *c, const char *dir)
{
    snprintf(c->attach_dir, sizeof c->attach_dir, "%s", dir);
}

const char *ward_client_attachment_dir(const ward_client *c)
{
    return c->attach_dir;
}

void ward_client_free(ward_client *c)
{
    if (!c)
        return;
    ward_http_free(c->http);
    ward_client_state_close(c->state);
    free(c);
}

ward_err ward_client_use_token(ward_client *c, char *err, size_t errlen)
{
    char token[128];
    if (ward_client_state_get(c->state, "token", token, sizeof token)) {
        if (err && errlen)
            snprintf(err, errlen, "not logged in as %s: run 'ward account "
                                  "login' first",
                     c->username);
        return WARD_ERR_AUTH;
    }
    ward_http_set_token(c->http, token);
    ward_memzero(token, sizeof token);
    return WARD_OK;
}

typedef struct prekey_list {
    json_t *arr;
    uint32_t from; /* only ids at or above this go up */
} prekey_list;

static void add_prekey(void *ctx, uint32_t id,
                       const uint8_t pub[WARD_PUBKEY_LEN])
{
    prekey_list *l = ctx;
    if (id >= l->from)
        json_array_append_new(l->arr,
                              json_pack("{s:I,s:o}", "id", (json_int_t)id,
                                        "key",
                                        ward_b64_json(pub, WARD_PUBKEY_LEN)));
}

/* Generates |count| one-time prekeys (and, with |fresh|, the identity and
 * signed prekey) and publishes them; the state is saved first, so the
 * server never holds a public key whose private key was not kept. */
static ward_err publish_keys(ward_client *c, int fresh, uint32_t count,
                             char *err, size_t errlen)
{
    ward_identity *id = NULL;
    ward_prekeys *pk = NULL;
    json_t *body = NULL, *reply = NULL;
    char next_s[32];
    uint32_t next = 1;
    int status = 0;
    ward_err e;

    /* Read, extended and saved in one write transaction: another process
     * of this account (a chat beside a follower) may be using a one-time
     * prekey meanwhile, and neither change may undo the other. */
    e = ward_client_state_begin(c->state);
    if (e) {
        if (err && errlen)
            snprintf(err, errlen, "cannot write the local state: %s",
                     ward_strerror(e));
        goto done;
    }
    if (fresh) {
        e = ward_identity_generate(&id);
        if (!e)
            e = ward_prekeys_new(&pk);
        if (!e)
            e = ward_prekeys_generate_signed(pk, id, SIGNED_ID, 0);
    } else {
        e = ward_client_state_get_identity(c->state, &id);
        if (!e)
            e = ward_client_state_get_prekeys(c->state, &pk);
        if (!e && ward_client_state_get(c->state, "next_prekey_id", next_s,
                                        sizeof next_s) == WARD_OK)
            next = (uint32_t)strtoul(next_s, NULL, 10);
    }
    if (!e)
        e = ward_prekeys_generate_onetime(pk, next, count);
    snprintf(next_s, sizeof next_s, "%u", next + count);
    if (e) {
        ward_client_state_rollback(c->state);
    } else {
        e = ward_client_state_put_prekeys(c->state, pk);
        if (!e && fresh)
            e = ward_client_state_put_identity(c->state, id);
        if (!e)
            e = ward_client_state_set(c->state, "next_prekey_id", next_s);
        e = e ? (ward_client_state_rollback(c->state), e)
              : ward_client_state_commit(c->state);
    }
    if (e) {
        if (err && errlen)
            snprintf(err, errlen, "cannot make or save keys: %s",
                     ward_strerror(e));
        goto done;
    }

    prekey_list l = {json_array(), next};
    ward_prekeys_each_onetime(pk, add_prekey, &l);
    body = json_pack("{s:o}", "prekeys", l.arr);
    if (fresh && body) {
        ward_bundle b;
        uint8_t ik[WARD_PUBKEY_LEN];
        ward_identity_public(id, ik);
        e = ward_prekeys_bundle(pk, id, 1, SIGNED_ID, 0, &b);
        if (!e) {
            json_object_set_new(body, "identity_key",
                                ward_b64_json(ik, sizeof ik));
            json_object_set_new(body, "registration_id",
                                json_integer(ward_identity_registration_id(id)));
            json_object_set_new(
                body, "signed_prekey",
                json_pack("{s:i,s:o,s:o}", "id", SIGNED_ID, "key",
                          ward_b64_json(b.signed_prekey, WARD_PUBKEY_LEN),
                          "signature",
                          ward_b64_json(b.signed_prekey_sig,
                                          WARD_SIGNATURE_LEN)));
        }
    }
    if (!body) {
        e = WARD_ERR_NOMEM;
        goto done;
    }
    if ((e = ward_http_call(c->http, "PUT", "/v1/keys", body, &status, &reply,
                            err, errlen)))
        goto done;
    if (status != 200) {
        ward_client_server_error(reply, status, err, errlen);
        e = WARD_ERR_IO;
    }
done:
    json_decref(body);
    json_decref(reply);
    ward_prekeys_free(pk);
    ward_identity_free(id);
    return e;
}

ward_err ward_client_register(ward_client *c, const char *password,
                              const char *birth_date, char *err,
                              size_t errlen)
{
    json_t *reply = NULL;
    int status = 0;
    json_t *body = json_pack("{s:s,s:s,s:s}", "username", c->username,
                             "password", password, "birth_date", birth_date);
    if (!body)
        return WARD_ERR_NOMEM;
    ward_err e = ward_http_call(c->http, "POST", "/v1/accounts", body,
                                &status, &reply, err, errlen);
    json_decref(body);
    if (!e && status != 201) {
        ward_client_server_error(reply, status, err, errlen);
        e = status == 409 ? WARD_ERR_EXISTS : WARD_ERR_IO;
    }
    json_decref(reply);
    if (!e)
        e = ward_client_login(c, password, err, errlen);
    return e;
}

ward_err ward_client_login(ward_client *c, const char *password, char *err,
                           size_t errlen)
{
    json_t *reply = NULL;
    int status = 0;
    json_t *body = json_pack("{s:s,s:s}", "username", c->username,
                             "password", password);
    if (!body)
        return WARD_ERR_NOMEM;
    ward_http_set_token(c->http, NULL);
    ward_err e = ward_http_call(c->http, "POST", "/v1/sessions", body,
                                &status, &reply, err, errlen);
    json_decref(body);
    if (e)
        goto done;
    if (status != 200) {
        ward_client_server_error(reply, status, err, errlen);
        e = status == 401 ? WARD_ERR_AUTH : WARD_ERR_IO;
        goto done;
    }
    json_t *tok = json_object_get(reply, "token");
    if (!json_is_string(tok) ||
        (e = ward_client_state_set(c->state, "token",
                                   json_string_value(tok)))) {
        if (err && errlen)
            snprintf(err, errlen, "cannot keep the login token");
        e = e ? e : WARD_ERR_IO;
        goto done;
    }
    ward_http_set_token(c->http, json_string_value(tok));
    /* First login on this device, or prekeys running low: publish. */
    ward_identity *id = NULL;
    ward_err have = ward_client_state_get_identity(c->state, &id);
    ward_identity_free(id);
    if (have == WARD_ERR_NOT_FOUND)
        e = publish_keys(c, 1, PREKEY_BATCH, err, errlen);
    else if (json_is_true(json_object_get(reply, "prekeys_low")))
        e = publish_keys(c, 0, PREKEY_BATCH, err, errlen);
done:
    json_decref(reply);
    return e;
}

ward_err ward_client_logout(ward_client *c, char *err, size_t errlen)
{
    int status = 0;
    json_t *reply = NULL;
    ward_err e = ward_client_use_token(c, err, errlen);
    if (!e)
        e = ward_http_call(c->http, "DELETE", "/v1/sessions", NULL, &status,
                           &reply, err, errlen);
    if (!e && status != 204 && status != 401) {
        ward_client_server_error(reply, status, err, errlen);
        e = WARD_ERR_IO;
    }
    json_decref(reply);
    if (!e)
        e = ward_client_state_unset(c->state, "token");
    return e;
}

ward_err ward_client_delete_account(ward_client *c, const char *password,
                                    char *err, size_t errlen)
{
    int status = 0;
    json_t *reply = NULL;
    json_t *body = json_pack("{s:s}", "password", password);
    ward_err e = body ? ward_client_use_token(c, err, errlen) : WARD_ERR_NOMEM;
    if (!e)
        e = ward_http_call(c->http, "DELETE", "/v1/accounts/me", body,
                           &status, &reply, err, errlen);
    if (!e && status != 204) {
        ward_client_server_error(reply, status, err, errlen);
        e = status == 403 ? WARD_ERR_AUTH : WARD_ERR_IO;
    }
    json_decref(body);
    json_decref(reply);
    if (!e)
        e = ward_client_state_unset(c->state, "token");
    return e;
}
