/* Public keys: upload, count, and handing out prekey bundles. */
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "ward/crypto.h"

#define MAX_UPLOAD 200 /* one-time prekeys in one request */

static int read_signed(json_t *v, uint32_t *id, uint8_t pub[WARD_PUBKEY_LEN],
                       uint8_t sig[WARD_SIGNATURE_LEN])
{
    static const char *const allowed[] = {"id", "key", "signature", NULL};
    uint64_t n;
    if (!json_is_object(v) || ward_json_unknown_key(v, allowed) ||
        ward_json_uint(v, "id", 1, 0xFFFFFF, &n) ||
        ward_json_b64_exact(v, "key", 1, pub, WARD_PUBKEY_LEN, NULL) ||
        ward_json_b64_exact(v, "signature", 1, sig, WARD_SIGNATURE_LEN,
                            NULL) ||
        pub[0] != WARD_KEY_TYPE_DJB)
        return -1;
    *id = (uint32_t)n;
    return 0;
}

static int read_prekeys(json_t *arr, ward_store_prekey *out, size_t *n)
{
    static const char *const allowed[] = {"id", "key", NULL};
    size_t i;
    json_t *v;
    if (!json_is_array(arr) || json_array_size(arr) > MAX_UPLOAD)
        return -1;
    json_array_foreach(arr, i, v) {
        uint64_t id;
        if (!json_is_object(v) || ward_json_unknown_key(v, allowed) ||
            ward_json_uint(v, "id", 1, 0xFFFFFF, &id) ||
            ward_json_b64_exact(v, "key", 1, out[i].pub, WARD_PUBKEY_LEN,
                                NULL) ||
            out[i].pub[0] != WARD_KEY_TYPE_DJB)
            return -1;
        out[i].id = (uint32_t)id;
    }
    *n = json_array_size(arr);
    return 0;
}

static void count_response(ward_api *api, ward_http_resp *resp, int status,
                           int64_t account)
{
    size_t n = 0;
    ward_err e = ward_store_prekey_count(api->st, account, &n);
    if (e) {
        ward_api_store_error(api, resp, e);
        return;
    }
    ward_resp_json(resp, status,
                   json_pack("{s:I,s:b}", "prekeys", (json_int_t)n,
                             "prekeys_low", n < api->cfg.prekeys_low));
}

int ward_api_put_keys(ward_api *api, const ward_http_req *req,
                      ward_http_resp *resp)
{
    static const char *const allowed[] = {"identity_key", "registration_id",
                                          "signed_prekey", "prekeys", NULL};
    ward_account acct;
    if (ward_api_require_account(api, req, resp, &acct))
        return WARD_API_DONE;
    json_t *body = ward_api_body(req, resp, allowed);
    if (!body)
        return WARD_API_DONE;

    uint8_t ik[WARD_PUBKEY_LEN], spk[WARD_PUBKEY_LEN];
    uint8_t sig[WARD_SIGNATURE_LEN];
    uint32_t spk_id = 0;
    uint64_t reg = 0;
    int has_ik = 0;
    size_t n_pre = 0;
    ward_store_prekey *pre = calloc(MAX_UPLOAD, sizeof *pre);
    json_t *sv = json_object_get(body, "signed_prekey");
    json_t *pv = json_object_get(body, "prekeys");
    if (!pre) {
        ward_resp_error(resp, 500, "internal", "out of memory");
        goto done;
    }
    if (ward_json_b64_exact(body, "identity_key", 0, ik, WARD_PUBKEY_LEN,
                            &has_ik) ||
        (has_ik && ik[0] != WARD_KEY_TYPE_DJB) ||
        ward_json_uint(body, "registration_id", has_ik, 0x3FFF, &reg) ||
        (!has_ik && json_object_get(body, "registration_id")) ||
        (sv && read_signed(sv, &spk_id, spk, sig)) ||
        (pv && read_prekeys(pv, pre, &n_pre))) {
        ward_resp_error(resp, 400, "invalid_keys",
                        "keys are base64 of 33-byte keys (type 0x05), "
                        "signatures of 64 bytes, ids up to 2^24 - 1");
        goto done;
    }
    /* Check everything before writing anything: bad input changes
     * nothing. The signed prekey must verify under the identity key the
     * server hands out with it, so both come in one request (an unchanged
     * identity keeps the stored prekeys). */
    if (sv && !has_ik) {
        ward_resp_error(resp, 400, "invalid_keys",
                        "send identity_key with signed_prekey");
        goto done;
    }
    if (sv && ward_xeddsa_verify(sig, ik + 1, spk, WARD_PUBKEY_LEN)) {
        ward_resp_error(resp, 400, "bad_signature",
                        "signed_prekey's signature does not verify");
        goto done;
    }
    ward_store_keys keys = {
        .identity = has_ik ? ik : NULL, .registration_id = (uint32_t)reg,
        .signed_pub = sv ? spk : NULL, .signed_sig = sig, .signed_id = spk_id,
        .prekeys = pre, .n_prekeys = n_pre};
    ward_err e = ward_store_publish_keys(api->st, acct.id, &keys,
                                         api->cfg.max_prekeys);
    if (e == WARD_ERR_LIMIT) {
        ward_resp_error(resp, 409, "too_many_prekeys",
                        "the server holds enough one-time prekeys");
        goto done;
    }
    if (e) {
        ward_api_store_error(api, resp, e);
        goto done;
    }
    count_response(api, resp, 200, acct.id);
done:
    free(pre);
    json_decref(body);
    return WARD_API_DONE;
}

int ward_api_get_own_keys(ward_api *api, const ward_http_req *req,
                          ward_http_resp *resp)
{
    ward_account acct;
    if (ward_api_require_account(api, req, resp, &acct))
        return WARD_API_DONE;
    count_response(api, resp, 200, acct.id);
    return WARD_API_DONE;
}

int ward_api_get_bundle(ward_api *api, const ward_http_req *req,
                        ward_http_resp *resp, const char *username)
{
    ward_account me, them;
    if (ward_api_require_account(api, req, resp, &me) ||
        ward_api_account_named(api, username, resp, &them))
        return WARD_API_DONE;
    /* "group=ID": a session for a sender-key handover in that group,
     * under the group's rules. */
    static const char *const names[] = {"group", NULL};
    int64_t group = -1;
    if (ward_api_query_ints(req->query, names, &group) || group == 0) {
        ward_resp_error(resp, 400, "invalid_query",
                        "the query may be group=ID");
        return WARD_API_DONE;
    }
    /* Before a prekey is taken: a refused fetch must cost the target
     * nothing. */
    if (group > 0 ? ward_api_group_reach(api, &me, &them, group, resp)
              : ward_api_policy_check(api, &me, &them, WARD_ENTRY_BUNDLE,
                                      resp))
        return WARD_API_DONE;
    ward_bundle b;
    ward_err e = ward_store_take_bundle(api->st, them.id, &b, NULL);
    if (e == WARD_ERR_NOT_FOUND) {
        ward_resp_error(resp, 404, "no_keys",
                        "that user has not published keys yet");
        return WARD_API_DONE;
    }
    if (e) {
        ward_api_store_error(api, resp, e);
        return WARD_API_DONE;
    }
    json_t *o = json_pack(
        "{s:s,s:I,s:I,s:o,s:{s:I,s:o,s:o}}", "username", them.username,
        "registration_id", (json_int_t)b.registration_id, "device_id",
        (json_int_t)b.device_id, "identity_key",
        ward_b64_json(b.identity, WARD_PUBKEY_LEN), "signed_prekey",
        "id", (json_int_t)b.signed_prekey_id, "key",
        ward_b64_json(b.signed_prekey, WARD_PUBKEY_LEN), "signature",
        ward_b64_json(b.signed_prekey_sig, WARD_SIGNATURE_LEN));
    if (o && b.has_prekey)
        json_object_set_new(
            o, "prekey",
            json_pack("{s:I,s:o}", "id", (json_int_t)b.prekey_id, "key",
                      ward_b64_json(b.prekey, WARD_PUBKEY_LEN)));
    ward_resp_json(resp, 200, o);
    return WARD_API_DONE;
}
