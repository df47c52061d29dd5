/* Private to the client: one HTTP exchange with the server (libcurl). */
#ifndef WARD_CLIENT_HTTP_H
#define WARD_CLIENT_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ward/buf.h"
#include "ward/err.h"

typedef struct ward_http ward_http;

ward_err ward_http_new(ward_http **out, const char *base_url);
void ward_http_free(ward_http *h);

/* Sets the bearer token (NULL: none). */
void ward_http_set_token(ward_http *h, const char *token);

/*
 * Sends |method| |path| with |body| (a JSON object, not stolen; NULL for
 * none) and parses the reply. |*status| gets the HTTP status and |*reply|
 * (may be NULL) the parsed JSON (NULL for an empty body); the caller
 * decrefs it. WARD_ERR_IO if the server cannot be reached, with |err|
 * saying why; a 4xx/5xx is not an error here.
 */
ward_err ward_http_call(ward_http *h, const char *method, const char *path,
                        json_t *body, int *status, json_t **reply, char *err,
                        size_t errlen);

/* libcurl's callback contracts: a read fills |buf| with up to size * n
 * bytes and returns the count (0 at the end, CURL_READFUNC_ABORT = 0x10000000
 * to fail); a write consumes size * n bytes and returns that count (any
 * other count fails the transfer). */
typedef size_t (*ward_http_read_fn)(char *buf, size_t size, size_t n,
                                    void *ctx);
typedef size_t (*ward_http_write_fn)(char *buf, size_t size, size_t n,
                                     void *ctx);

/* POSTs exactly |size| bytes from |read_fn| to |path| and parses the JSON
 * reply, as ward_http_call. Stalls of a minute fail; there is no overall
 * time limit. */
ward_err ward_http_upload(ward_http *h, const char *path, uint64_t size,
                          ward_http_read_fn read_fn, void *ctx, int *status,
                          json_t **reply, char *err, size_t errlen);
/* The same with PUT. */
ward_err ward_http_put(ward_http *h, const char *path, uint64_t size,
                       ward_http_read_fn read_fn, void *ctx, int *status,
                       json_t **reply, char *err, size_t errlen);
/* GETs |path|: a 200's body goes to |write_fn|; another status's JSON
 * body comes back in |*reply|. */
ward_err ward_http_download(ward_http *h, const char *path,
                            ward_http_write_fn write_fn, void *ctx,
                            int *status, json_t **reply, char *err,
                            size_t errlen);

/* The "message" of a JSON error reply, or a generic text. */
const char *ward_http_error_text(json_t *reply);
const char *ward_http_error_code(json_t *reply);

#endif
