/* Private to the client library. */
#ifndef WARD_CLIENT_INTERNAL_H
#define WARD_CLIENT_INTERNAL_H

#include <jansson.h>

#include "http.h"
#include "ward/client.h"

struct ward_client {
    ward_http *http;
    ward_client_state *state;
    char username[64];
    char server[512];
};

/* Base64 (standard, padded) of |n| bytes as a new JSON string. */
json_t *ward_client_b64(const uint8_t *p, size_t n);
/* Decodes a JSON base64 string into exactly |n| bytes; -1 otherwise. */
int ward_client_unb64(json_t *v, uint8_t *dst, size_t n);

/* Writes "server: MESSAGE" for an error reply into |err|. */
void ward_client_server_error(json_t *reply, int status, char *err,
                              size_t errlen);

/* Loads the token into the HTTP handle; WARD_ERR_AUTH if logged out. */
ward_err ward_client_use_token(ward_client *c, char *err, size_t errlen);

#endif
