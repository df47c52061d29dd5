/* Base64 (standard, padded) in JSON strings, for the server's API and the
 * client that talks to it. Private to ward's modules. */
#ifndef WARD_UTIL_B64JSON_H
#define WARD_UTIL_B64JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* |n| bytes as a new jansson string; NULL when out of memory. */
json_t *ward_b64_json(const uint8_t *p, size_t n);

/* Decodes the JSON string |v| into exactly |n| bytes: 0, or -1 for a
 * missing value, another type, bad base64 or another length. */
int ward_b64_json_exact(json_t *v, uint8_t *dst, size_t n);

#endif
