/*
 * Attachments: the checks and records around an upload or a download.
 * The bytes never pass through here: the transport streams them to and
 * from files (blobs.c), since an attachment may be 100 MiB and a request
 * body here is held in memory.
 *
 * Any logged-in account may download a blob by id: the id is 128 random
 * bits that only the sender and the recipients (inside their encrypted
 * messages) know, and the bytes are encrypted with a key that travels
 * the same way. Blobs expire after attachment_ttl_ms.
 */
#include <string.h>

#include "api_internal.h"
#include "blobs.h"

int ward_api_upload_check(ward_api *api, const ward_http_req *req,
                          uint64_t length, int64_t *account,
                          ward_http_resp *resp)
{
    ward_account me;
    api->stats.requests++;
    if (ward_api_require_account(api, req, resp, &me))
        goto refused;
    if (length == 0) {
        ward_resp_error(resp, 400, "empty_attachment",
                        "an attachment has at least one byte");
        goto refused;
    }
    if (length > api->cfg.max_attachment) {
        ward_resp_error(resp, 413, "attachment_too_large",
                        "the attachment is larger than the server allows");
        goto refused;
    }
    if (!ward_ratelimit_take(api->upload_by_account, me.username,
                             ward_api_now(api))) {
        api->stats.rate_limited++;
        ward_resp_error(resp, 429, "rate_limited",
                        "uploading too fast; slow down");
        goto refused;
    }
    *account = me.id;
    return 0;
refused:
    api->stats.errors_4xx++;
    return -1;
}

void ward_api_upload_done(ward_api *api, int64_t account, const char *id,
                          uint64_t size, ward_http_resp *resp)
{
    ward_blob b;
    memset(&b, 0, sizeof b);
    memcpy(b.id, id, WARD_BLOB_ID_LEN);
    b.owner = account;
    b.size = size;
    b.created_at = ward_api_now(api);
    b.expires_at = b.created_at + api->cfg.attachment_ttl_ms;
    ward_err e = ward_store_blob_put(api->st, &b);
    if (e) {
        ward_api_store_error(api, resp, e);
        return;
    }
    api->stats.attachments_in++;
    ward_resp_json(resp, 201,
                   json_pack("{s:s,s:I,s:I}", "id", b.id, "size",
                             (json_int_t)b.size, "expires_at",
                             (json_int_t)b.expires_at));
}

int ward_api_download_check(ward_api *api, const ward_http_req *req,
                            const char *id, ward_blob *blob,
                            ward_http_resp *resp)
{
    ward_account me;
    api->stats.requests++;
    if (ward_api_require_account(api, req, resp, &me))
        goto refused;
    if (!ward_blobs_id_valid(id)) {
        ward_resp_error(resp, 400, "invalid_id",
                        "an attachment id is 32 lowercase hex digits");
        goto refused;
    }
    ward_err e = ward_store_blob_get(api->st, id, blob);
    if (e == WARD_ERR_NOT_FOUND ||
        (!e && blob->expires_at <= ward_api_now(api))) {
        ward_resp_error(resp, 404, "not_found",
                        "no such attachment (or it has expired)");
        goto refused;
    }
    if (e) {
        ward_api_store_error(api, resp, e);
        goto refused;
    }
    api->stats.attachments_out++;
    return 0;
refused:
    if (resp->status >= 500)
        api->stats.errors_5xx++;
    else
        api->stats.errors_4xx++;
    return -1;
}
