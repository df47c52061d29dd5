#include "json.h"

#include <sodium.h>
#include <string.h>

json_t *ward_json_object(const uint8_t *p, size_t n)
{
    json_error_t err;
    if (!p || n == 0)
        return NULL;
    json_t *v = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, &err);
    if (v && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

const char *ward_json_unknown_key(json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val) {
        (void)val;
        int ok = 0;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(allowed[i], key) == 0;
        if (!ok)
            return key;
    }
    return NULL;
}

int ward_json_str(json_t *obj, const char *key, int required, size_t max,
                  const char **out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        *out = NULL;
        return required ? -1 : 0;
    }
    if (!json_is_string(v) || json_string_length(v) > max ||
        strlen(json_string_value(v)) != json_string_length(v))
        return -1; /* embedded NUL */
    *out = json_string_value(v);
    return 0;
}

int ward_json_uint(json_t *obj, const char *key, int required, uint64_t max,
                   uint64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return required ? -1 : 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) > max)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int b64_decode(const char *s, size_t len, uint8_t *dst, size_t cap,
                      size_t *n)
{
    const char *end = NULL;
    if (sodium_base642bin(dst, cap, s, len, NULL, n, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != s + len)
        return -1;
    return 0;
}

int ward_json_b64_exact(json_t *obj, const char *key, int required,
                        uint8_t *dst, size_t n, int *present)
{
    json_t *v = json_object_get(obj, key);
    if (present)
        *present = v != NULL;
    if (!v)
        return required ? -1 : 0;
    return ward_b64_json_exact(v, dst, n);
}

int ward_json_b64(json_t *obj, const char *key, size_t max, ward_buf *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v || !json_is_string(v))
        return WARD_B64_BAD;
    size_t len = json_string_length(v);
    /* Padded base64 decodes to at most len / 4 * 3 bytes, and to more than
     * max only if its text is longer than this: judge size first. */
    size_t most = len / 4 * 3;
    if (len % 4 == 0 && len >= 4) {
        const char *s = json_string_value(v);
        most -= (s[len - 1] == '=') + (s[len - 2] == '=');
    }
    if (most > max)
        return WARD_B64_TOO_BIG;
    if (len == 0 || len % 4 != 0)
        return WARD_B64_BAD;
    if (ward_buf_reserve(out, most) != WARD_OK)
        return WARD_B64_TOO_BIG;
    size_t n = 0;
    if (b64_decode(json_string_value(v), len, out->data + out->len, most,
                   &n) != 0)
        return WARD_B64_BAD;
    out->len += n;
    return 0;
}

void ward_resp_json(ward_http_resp *r, int status, json_t *obj)
{
    r->status = status;
    ward_buf_clear(&r->body);
    if (!obj) {
        r->status = 500;
        obj = json_pack("{s:{s:s,s:s}}", "error", "code", "internal",
                        "message", "out of memory");
        if (!obj)
            return;
    }
    size_t need = json_dumpb(obj, NULL, 0, JSON_COMPACT);
    if (need && ward_buf_reserve(&r->body, need) == WARD_OK)
        r->body.len = json_dumpb(obj, (char *)r->body.data, need, JSON_COMPACT);
    json_decref(obj);
}

void ward_resp_error(ward_http_resp *r, int status, const char *code,
                     const char *message)
{
    ward_resp_json(r, status,
                   json_pack("{s:{s:s,s:s}}", "error", "code", code,
                             "message", message));
}
