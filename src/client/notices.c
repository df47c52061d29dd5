/* The moderators' notices to this account, shown once. */
#include <stdio.h>

#include "client_internal.h"

ward_err ward_client_notices(ward_client *c,
                             void (*fn)(void *ctx, const char *kind,
                                        const char *text),
                             void *ctx, char *err, size_t errlen)
{
    json_t *r = NULL;
    ward_err e = ward_client_request(c, "GET", "/v1/notices", NULL, 200, 200,
                                     NULL, &r, NULL, err, errlen);
    if (e)
        return e;
    json_t *list = json_object_get(r, "notices");
    json_int_t last = 0;
    if (!json_is_array(list)) {
        json_decref(r);
        if (err && errlen)
            snprintf(err, errlen, "the server's notices are malformed");
        return WARD_ERR_MALFORMED;
    }
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *n = json_array_get(list, i);
        json_t *id = json_object_get(n, "id");
        const char *kind = json_string_value(json_object_get(n, "kind"));
        const char *text = json_string_value(json_object_get(n, "text"));
        if (!json_is_integer(id) || json_integer_value(id) <= last || !kind ||
            !text)
            continue; /* not shown, and not acknowledged past */
        last = json_integer_value(id);
        fn(ctx, kind, text);
    }
    json_decref(r);
    if (last == 0)
        return WARD_OK;
    char path[64];
    snprintf(path, sizeof path, "/v1/notices/%lld", (long long)last);
    e = ward_client_request(c, "DELETE", path, NULL, 204, 204, NULL, &r,
                            NULL, err, errlen);
    json_decref(r);
    return e;
}
