/* Base64 in JSON strings: libsodium's codec, strict (see b64json.h). */
#include "b64json.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

json_t *ward_b64_json(const uint8_t *p, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(cap);
    if (!s)
        return NULL;
    sodium_bin2base64(s, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
    json_t *v = json_stringn_nocheck(s, strlen(s));
    free(s);
    return v;
}

int ward_b64_json_exact(json_t *v, uint8_t *dst, size_t n)
{
    size_t got = 0;
    const char *end = NULL;
    if (!json_is_string(v))
        return -1;
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (sodium_base642bin(dst, n, s, len, NULL, &got, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        got != n || end != s + len)
        return -1;
    return 0;
}
