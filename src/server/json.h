/* Strict JSON request reading and response writing (jansson). */
#ifndef WARD_SERVER_JSON_H
#define WARD_SERVER_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/b64json.h" /* ward_b64_json */
#include "api.h"

/* Parses a JSON object; NULL for anything else (bad JSON, another type,
 * duplicate keys). */
json_t *ward_json_object(const uint8_t *p, size_t n);

/* The first key of |obj| not in the NULL-terminated |allowed|, or NULL. */
const char *ward_json_unknown_key(json_t *obj, const char *const *allowed);

/* Field readers: 0 on success; -1 if the field is missing (when
 * required) or of the wrong type or out of range. */
int ward_json_str(json_t *obj, const char *key, int required, size_t max,
                  const char **out);
int ward_json_uint(json_t *obj, const char *key, int required, uint64_t max,
                   uint64_t *out);
/* Standard base64 decoding into exactly |n| bytes. */
int ward_json_b64_exact(json_t *obj, const char *key, int required,
                        uint8_t *dst, size_t n, int *present);
/* Standard (padded) base64 of 1 to |max| decoded bytes, appended to |out|:
 * 0, WARD_B64_BAD (missing, not a string, empty or malformed) or
 * WARD_B64_TOO_BIG (decodes to more than |max|). */
enum { WARD_B64_BAD = -1, WARD_B64_TOO_BIG = -2 };
int ward_json_b64(json_t *obj, const char *key, size_t max, ward_buf *out);


/* Writes |obj| (stolen) as the response with |status|. */
void ward_resp_json(ward_http_resp *r, int status, json_t *obj);
/* {"error":{"code":CODE,"message":MESSAGE}} with |status|. */
void ward_resp_error(ward_http_resp *r, int status, const char *code,
                     const char *message);

#endif
