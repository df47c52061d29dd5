/* Private to the client library. */
#ifndef WARD_CLIENT_INTERNAL_H
#define WARD_CLIENT_INTERNAL_H

#include <jansson.h>

#include "../util/b64json.h"
#include "http.h"
#include "ward/client.h"

struct ward_client {
    ward_http *http;
    ward_client_state *state;
    char username[64];
    char server[512];
    char attach_dir[4096]; /* where received attachments are saved */
    void (*note)(void *ctx, const char *text); /* ward_client_set_note_hook */
    void *note_ctx;
};


/* Writes the sentence for an error reply into |err|: the refusal table's
 * (refusals.c) for a code it knows, about |who| (the other account; NULL
 * if none), else "server: MESSAGE (STATUS CODE)". */
void ward_client_server_error_about(json_t *reply, int status,
                                    const char *who, char *err,
                                    size_t errlen);
/* The same without another account. */
void ward_client_server_error(json_t *reply, int status, char *err,
                              size_t errlen);

/* One authenticated JSON exchange: WARD_OK when the status is |ok1| or
 * |ok2| (|*reply| is then the caller's, maybe NULL; |*status| may be
 * NULL), else the refusal's sentence about |who| in |err| and NOT_FOUND
 * (404), FORBIDDEN (403), AUTH (401, 422), INVALID_ARG (400) or IO. */
ward_err ward_client_request(ward_client *c, const char *method,
                             const char *path, json_t *body, int ok1, int ok2,
                             int *status, json_t **reply, const char *who,
                             char *err, size_t errlen);

/* Parsers of the server's replies (social.c, report.c): each checks the
 * whole value before writing |out| or calling |fn|, and says
 * WARD_ERR_MALFORMED for anything the API does not document. */
ward_err ward_client_parse_user(json_t *v, ward_client_user *out);
ward_err ward_client_parse_account(json_t *v, ward_client_account *out);
ward_err ward_client_parse_names(json_t *arr,
                                 int (*fn)(void *ctx, const char *user),
                                 void *ctx);
ward_err ward_client_parse_suggestions(json_t *reply,
                                       int (*fn)(void *ctx, const char *user,
                                                 int64_t shared),
                                       void *ctx);
ward_err ward_client_parse_report_result(json_t *v, int message_report,
                                         ward_client_report_result *out);

/* Loads the token into the HTTP handle; WARD_ERR_AUTH if logged out. */
ward_err ward_client_use_token(ward_client *c, char *err, size_t errlen);

/* Encrypts |content| for |to| (starting a session if needed), with a
 * fresh franking key and its commitment, and saves the advanced session.
 * |*out| gets the body POST /v1/messages takes. A |group| other than 0
 * sends it in that group's context (a sender-key handover: the server
 * applies the group's contact rules to it and to the bundle fetch, and
 * the recipient accepts nothing but that group's key in it). */
ward_err ward_client_seal(ward_client *c, const char *to, int64_t group,
                          ward_content *content, json_t **out, char *err,
                          size_t errlen);
/* POSTs a sealed message; |*id_out| gets the server's id. */
ward_err ward_client_post(ward_client *c, json_t *body, int64_t *id_out,
                          char *err, size_t errlen);
/* Encrypts the image at |path| with a fresh key as it is uploaded and
 * adds it to |content| (its key, id and SHA-256), with |caption| (may be
 * NULL) as the body: the first half of sending an image, to a person or
 * a group. */
ward_err ward_client_upload_image(ward_client *c, const char *path,
                                  const char *caption, ward_content *content,
                                  char *err, size_t errlen);
/* Both (|group| as for ward_client_seal). */
ward_err ward_client_send_content(ward_client *c, const char *to,
                                  int64_t group, ward_content *content,
                                  int64_t *id_out, char *err, size_t errlen);

/* Handles one queued message as the server lists or pushes it (|v|):
 * decrypts, verifies, fetches attachments and calls |fn|. |*shown| says
 * whether |fn| was called, |*ack_it| whether to acknowledge it now (not
 * for one kept until its sender's new identity is trusted). */
ward_err ward_client_process(ward_client *c, const ward_identity *id,
                             ward_prekeys *pk, json_t *v,
                             void (*fn)(void *ctx, const ward_client_msg *m),
                             void *ctx, int *shown, int *ack_it, char *err,
                             size_t errlen);

/* Downloads and decrypts attachment |a| of message |msg_id| into the
 * attachments folder. WARD_OK: |saved| is its path. WARD_ERR_AUTH: the
 * bytes are not what the sender committed to (altered, truncated, wrong
 * hash); NOT_FOUND: expired on the server; IO: network or disk. |why|
 * says it in a sentence. Nothing is left behind on failure. */
ward_err ward_client_fetch_attachment(ward_client *c,
                                      const ward_attachment *a,
                                      int64_t msg_id, char *saved,
                                      size_t saved_cap, char *why,
                                      size_t why_cap);

/* An attachment whose download failed on the network or the disk: kept
 * in the state (with its key) and tried again by
 * ward_client_retry_attachments, which shows each one that is settled
 * (saved, or refused for good) as a message of its own through |fn|.
 * |*shown| and |*left| (may be NULL) get how many were shown and how
 * many are still waiting. */
ward_err ward_client_attachment_defer(ward_client *c, int64_t msg_id,
                                      size_t index, const char *from,
                                      const ward_attachment *a);
/* Drops the kept pointer of attachment |index| of |msg_id| (saved, or
 * refused for good). */
ward_err ward_client_attachment_settle(ward_client *c, int64_t msg_id,
                                       size_t index);
ward_err ward_client_retry_attachments(ward_client *c,
                                       void (*fn)(void *ctx,
                                                  const ward_client_msg *m),
                                       void *ctx, size_t *shown,
                                       size_t *left);

#endif
