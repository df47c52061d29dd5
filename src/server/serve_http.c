/*
 * `ward serve`'s HTTP side: reads a request (headers, then the body its
 * Content-Length announces), hands it to the API and writes the answer.
 * Sends are parked until the group commit that a zero-delay timer runs
 * after the current pass of the event loop; its done hook finds each
 * parked request by id, since the connection may have closed meanwhile.
 *
 * One request per connection: every answer says Connection: close. In
 * libwebsockets 4.1.6 a request that a client pipelines behind another
 * is read from lws's buffer with its own headers handed over as its
 * body, and when more bytes follow it lws_http_action loops forever
 * (closing the connection from inside that loop frees the wsi under
 * lws's feet instead). Without keep-alive lws never parses a second
 * request on a connection.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <strings.h>
#include <unistd.h>

#include "json.h"
#include "serve_internal.h"
#include "ward/crypto.h"

#define CHUNK 16384

/* Everything runs on the loop thread, and lws copies what a write cannot
 * send at once, so one staging buffer serves every connection. */
static unsigned char out_buf[LWS_PRE + CHUNK];

static const char *const method_names[] = {
    [LWSHUMETH_GET] = "GET",         [LWSHUMETH_POST] = "POST",
    [LWSHUMETH_OPTIONS] = "OPTIONS", [LWSHUMETH_PUT] = "PUT",
    [LWSHUMETH_PATCH] = "PATCH",     [LWSHUMETH_DELETE] = "DELETE",
    [LWSHUMETH_CONNECT] = "CONNECT", [LWSHUMETH_HEAD] = "HEAD",
};

/* Paths and queries go into logs as JSON strings: keep them printable. */
static void copy_printable(char *dst, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (src[i] > 0x20 && src[i] < 0x7f) ? src[i] : '?';
    dst[n] = 0;
}

static void log_request(ward_serve *s, const char *method, const char *path,
                        const char *remote, uint64_t id, int status,
                        int64_t t0_us)
{
    double secs = (double)(lws_now_usecs() - t0_us) / 1e6;
    ward_serve_observe_latency(s, secs);
    ward_serve_log(status >= 500 ? "error" : "info", "http",
                   json_pack("{s:I,s:s,s:s,s:i,s:f,s:s}", "id",
                             (json_int_t)id, "method", method, "path", path,
                             "status", status, "ms", secs * 1000.0,
                             "remote", remote));
}

/* The request's credentials, once the API has seen them. */
static void wipe_credentials(serve_http *h)
{
    ward_memzero(h->auth, sizeof h->auth);
    ward_memzero(h->cookie, sizeof h->cookie);
    ward_memzero(h->csrf, sizeof h->csrf);
}

/* Ends the current request, whatever its state; safe to call twice
 * (lws sends DROP_PROTOCOL more than once, then CLOSED_HTTP). */
static void req_end(ward_serve *s, serve_http *h, int aborted)
{
    if (h->active && aborted)
        ward_serve_log("warn", "http_aborted",
                       json_pack("{s:I,s:s,s:s,s:i}", "id",
                                 (json_int_t)h->req_id, "method",
                                 h->method ? h->method : "?", "path",
                                 h->path, "state", h->state));
    if (!lws_dll2_is_detached(&h->parked))
        lws_dll2_remove(&h->parked);
    wipe_credentials(h);
    ward_buf_release(&h->body);
    ward_buf_release(&h->resp);
    ward_buf_release(&h->resp_headers);
    h->resp_type = NULL;
    if (h->uploading) {
        ward_blobs_abort(s->blobs, &h->up);
        h->uploading = 0;
    }
    if (h->has_file) {
        close(h->file_fd);
        h->has_file = 0;
    }
    h->resp_off = 0;
    h->hdrs_sent = 0;
    h->state = REQ_IDLE;
    if (h->active) {
        h->active = 0;
        s->inflight_http--;
    }
}

static void count_status(ward_serve *s, int status)
{
    if (status >= 100 && status < 600)
        s->m.by_class[status / 100]++;
    if (status == 401)
        s->m.errors[SERR_UNAUTHORIZED]++;
    else if (status == 411)
        s->m.errors[SERR_LENGTH_REQUIRED]++;
    else if (status == 413)
        s->m.errors[SERR_TOO_LARGE]++;
    else if (status == 503)
        s->m.errors[SERR_UNAVAILABLE]++;
    else if (status >= 500)
        s->m.errors[SERR_INTERNAL]++;
}

/* Stages |r| (its body is taken) and asks for a writable callback. */
static void answer(ward_serve *s, serve_http *h, ward_http_resp *r)
{
    ward_buf_release(&h->body);
    wipe_credentials(h);
    if (r->status < 100 || r->status > 599)
        r->status = 500;
    count_status(s, r->status);
    ward_buf_release(&h->resp);
    ward_buf_release(&h->resp_headers);
    h->status = r->status;
    h->resp = r->body;
    ward_buf_init(&r->body, 0);
    h->resp_type = r->content_type;
    h->resp_headers = r->headers;
    ward_buf_init(&r->headers, 0);
    h->resp_off = 0;
    h->hdrs_sent = 0;
    h->state = REQ_ANSWERING;
    lws_callback_on_writable(h->wsi);
}

/* A transport-level error (the body, if any, is left unread). */
static void answer_error(ward_serve *s, serve_http *h, int status,
                         const char *code, const char *msg)
{
    ward_http_resp r;
    ward_http_resp_init(&r);
    ward_resp_error(&r, status, code, msg);
    answer(s, h, &r);
}

static int is_metrics(const serve_http *h)
{
    return strcmp(h->path, "/metrics") == 0;
}

static void flush_cb(lws_sorted_usec_list_t *sul);

/* The group commit: stores every parked send, then answers them. */
static void flush_now(ward_serve *s)
{
    if (s->flush_scheduled) {
        lws_sul_cancel(&s->sul_flush);
        s->flush_scheduled = 0;
    }
    (void)ward_api_flush(s->api);
    s->m.flushes++;
    /* ward_api_flush leaves the sends when it cannot allocate: retry. */
    if (ward_api_pending_sends(s->api)) {
        s->flush_scheduled = 1;
        lws_sul_schedule(s->cx, 0, &s->sul_flush, flush_cb,
                         10 * LWS_US_PER_MS);
    }
}

void ward_serve_flush(ward_serve *s)
{
    flush_now(s);
}

static void flush_cb(lws_sorted_usec_list_t *sul)
{
    ward_serve *s = lws_container_of(sul, ward_serve, sul_flush);
    s->flush_scheduled = 0;
    flush_now(s);
}

void ward_serve_schedule_flush(ward_serve *s)
{
    if (!s->flush_scheduled) {
        /* Zero delay: runs once this pass's events are handled, so every
         * send read in the pass shares one commit. */
        s->flush_scheduled = 1;
        lws_sul_schedule(s->cx, 0, &s->sul_flush, flush_cb, 0);
    }
}

/* The request as the API sees it (no body). */
static void api_req(serve_http *h, ward_http_req *req)
{
    memset(req, 0, sizeof *req);
    req->method = h->method;
    req->path = h->path;
    req->query = h->has_query ? h->query : NULL;
    req->authorization = h->has_auth ? h->auth : NULL;
    req->remote = h->remote[0] ? h->remote : NULL;
    req->cookie = h->has_cookie ? h->cookie : NULL;
    req->csrf = h->has_csrf ? h->csrf : NULL;
    req->tls = h->tls;
    req->opaque = (void *)(uintptr_t)h->req_id;
}

#define ATTACH_PATH "/v1/attachments"
#define ATTACH_LEN (sizeof ATTACH_PATH - 1)

/* GET /v1/attachments/ID: the answer's body is the blob's file. */
static void download(ward_serve *s, serve_http *h)
{
    ward_http_req req;
    ward_http_resp r;
    ward_blob b;
    int fd;
    uint64_t size;
    ward_http_resp_init(&r);
    api_req(h, &req);
    if (strcmp(h->method, "GET") != 0) {
        ward_resp_error(&r, 405, "method_not_allowed",
                        "that method is not allowed here");
    } else if (ward_api_download_check(s->api, &req, h->path + ATTACH_LEN + 1,
                                       &b, &r) == 0) {
        ward_err e = ward_blobs_read(s->blobs, b.id, &fd, &size);
        if (e == WARD_OK) {
            r.status = 200;
            answer(s, h, &r);
            h->has_file = 1;
            h->file_fd = fd;
            h->file_left = size;
            return;
        }
        if (e == WARD_ERR_NOT_FOUND) {
            ward_resp_error(&r, 404, "not_found",
                            "no such attachment (or it has expired)");
        } else {
            ward_serve_log("error", "blob_read",
                           json_pack("{s:s,s:s}", "id", b.id, "msg",
                                     ward_strerror(e)));
            ward_resp_error(&r, 503, "store_failed", "try again later");
        }
    }
    answer(s, h, &r);
}

static void dispatch(ward_serve *s, serve_http *h)
{
    ward_http_resp r;
    ward_http_resp_init(&r);

    if (strncmp(h->path, ATTACH_PATH "/", ATTACH_LEN + 1) == 0) {
        download(s, h);
        return;
    }

    if (is_metrics(h)) {
        if (strcmp(h->method, "GET") != 0) {
            ward_resp_error(&r, 405, "method_not_allowed",
                            "that method is not allowed here");
        } else {
            r.status = 200;
            ward_serve_metrics_text(s, &r.body);
        }
        answer(s, h, &r);
        return;
    }
    ward_http_req req;
    api_req(h, &req);
    req.body = h->body.data;
    req.body_len = h->body.len;
    int rc = ward_api_handle(s->api, &req, &r);
    wipe_credentials(h);
    if (rc == WARD_API_DEFERRED) {
        ward_http_resp_release(&r);
        ward_buf_release(&h->body);
        h->state = REQ_PARKED;
        lws_dll2_add_tail(&h->parked, &s->parked);
        ward_serve_schedule_flush(s);
        return;
    }
    if (r.status == 0) {
        ward_resp_error(&r, 500, "internal", "the server failed");
    }
    answer(s, h, &r);
}

void ward_serve_done(void *ctx, void *opaque, const ward_http_resp *resp)
{
    ward_serve *s = ctx;
    uint64_t id = (uint64_t)(uintptr_t)opaque;
    serve_http *h = NULL;
    if (id & SERVE_OPAQUE_WS) {
        ward_serve_ws_sent(s, id, resp);
        return;
    }
    /* Parked in arrival order, which is the API's completion order: the
     * head is nearly always the one. */
    lws_start_foreach_dll(struct lws_dll2 *, d,
                          lws_dll2_get_head(&s->parked)) {
        serve_http *p = lws_container_of(d, serve_http, parked);
        if (p->req_id == id) {
            h = p;
            break;
        }
    } lws_end_foreach_dll(d);
    if (!h) {
        s->m.errors[SERR_DROPPED]++;
        ward_serve_log("warn", "response_dropped",
                       json_pack("{s:I,s:i,s:s}", "id", (json_int_t)id,
                                 "status", resp->status, "why",
                                 "the connection closed first"));
        return;
    }
    lws_dll2_remove(&h->parked);
    ward_http_resp r;
    ward_http_resp_init(&r);
    r.status = resp->status;
    r.content_type = resp->content_type;
    if ((resp->body.len &&
         ward_buf_append(&r.body, resp->body.data, resp->body.len)) ||
        (resp->headers.len &&
         ward_buf_append(&r.headers, resp->headers.data, resp->headers.len))) {
        ward_http_resp_release(&r);
        ward_http_resp_init(&r);
        ward_resp_error(&r, 500, "internal", "out of memory");
    }
    answer(s, h, &r);
}

/* The status line and headers of the staged answer. */
static int write_headers(serve_http *h, struct lws *wsi)
{
    unsigned char *start = out_buf + LWS_PRE, *p = start,
                  *end = out_buf + sizeof out_buf - 1;
    char rid[24];
    int rl = snprintf(rid, sizeof rid, "%llu", (unsigned long long)h->req_id);
    const char *ctype = h->has_file ? "application/octet-stream"
                        : h->resp_type ? h->resp_type
                        : is_metrics(h) && h->status == 200
                            ? "text/plain; version=0.0.4"
                            : "application/json";
    uint64_t length = h->has_file ? h->file_left : h->resp.len;
    if (h->status == 204) {
        /* No Content-Length in a 204 (RFC 9110 8.6). */
        if (lws_add_http_header_status(wsi, 204, &p, end))
            return -1;
    } else if (lws_add_http_common_headers(wsi, (unsigned)h->status, ctype,
                                           (lws_filepos_t)length, &p, end)) {
        return -1;
    }
    if (lws_add_http_header_by_name(wsi, (const unsigned char *)"x-request-id:",
                                    (const unsigned char *)rid, rl, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p,
                                    end))
        return -1;
    /* The answer's own headers: pairs of NUL-terminated name and value. */
    for (size_t off = 0; off < h->resp_headers.len;) {
        const char *name = (const char *)h->resp_headers.data + off;
        size_t nl = strlen(name);
        const char *value = name + nl + 1;
        size_t vl = strlen(value);
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                        (const unsigned char *)value,
                                        (int)vl, &p, end))
            return -1;
        off += nl + 1 + vl + 1;
    }
    if (h->status == 401 &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_WWW_AUTHENTICATE,
                                     (const unsigned char *)"Bearer", 6, &p,
                                     end))
        return -1;
    /* One request per connection: see the top of this file. */
    if (lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                     (const unsigned char *)"close", 5, &p,
                                     end))
        return -1;
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    h->hdrs_sent = 1;
    return 0;
}

/* Writes the staged answer, headers first, one lws_write per callback.
 * Returns -1 to close the connection. */
static int http_writeable(ward_serve *s, serve_http *h, struct lws *wsi)
{
    unsigned char *start = out_buf + LWS_PRE;
    if (h->state != REQ_ANSWERING)
        return 0;
    if (!h->hdrs_sent) {
        if (write_headers(h, wsi))
            return -1;
        if (h->resp.len || (h->has_file && h->file_left)) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    } else if (h->has_file) {
        size_t n = h->file_left > CHUNK ? CHUNK : (size_t)h->file_left;
        ssize_t got = read(h->file_fd, start, n);
        if (got <= 0)
            return -1; /* the client sees a short body */
        h->file_left -= (uint64_t)got;
        int last = h->file_left == 0;
        if (lws_write(wsi, start, (size_t)got,
                      last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
            (int)got)
            return -1;
        if (!last) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    } else {
        size_t n = h->resp.len - h->resp_off;
        if (n > CHUNK)
            n = CHUNK;
        memcpy(start, h->resp.data + h->resp_off, n);
        h->resp_off += n;
        int last = h->resp_off == h->resp.len;
        if (lws_write(wsi, start, n,
                      last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
            return -1;
        if (!last) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    }
    log_request(s, h->method, h->path, h->remote, h->req_id, h->status,
                h->t0_us);
    req_end(s, h, 0);
    if (h->linger) {
        /* Closed when the body has all arrived, or at the timeout. */
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, SERVE_LINGER_SECS);
        return 0;
    }
    return -1; /* lws sends what it still holds, then closes */
}

/* The query string, its arguments joined with '&' again. */
static int copy_query(struct lws *wsi, serve_http *h)
{
    int total = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
    h->has_query = 0;
    h->query[0] = 0;
    if (total <= 0)
        return 0;
    if (total > SERVE_PATH_MAX / 2)
        return -1;
    size_t n = 0;
    char frag[SERVE_PATH_MAX + 1];
    for (int i = 0;; i++) {
        int k = lws_hdr_copy_fragment(wsi, frag, (int)sizeof frag,
                                      WSI_TOKEN_HTTP_URI_ARGS, i);
        if (k < 0)
            break;
        /* lws 4.1.6 hands over an empty fragment ("?" alone, a trailing
         * '&') as "/": there is nothing in it. */
        if (k == 0 || (k == 1 && frag[0] == '/'))
            continue;
        if (n + (size_t)k + 1 > SERVE_PATH_MAX)
            return -1;
        if (n)
            h->query[n++] = '&';
        copy_printable(h->query + n, frag, (size_t)k);
        n += (size_t)k;
    }
    h->query[n] = 0;
    h->has_query = n > 0;
    return 0;
}

static int parse_length(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

/* POST /v1/attachments, headers read: checks, then streams the body to a
 * new blob file. */
static void begin_upload(ward_serve *s, serve_http *h)
{
    ward_http_req req;
    ward_http_resp r;
    ward_http_resp_init(&r);
    api_req(h, &req);
    int refused = ward_api_upload_check(s->api, &req, h->content_length,
                                        &h->up_account, &r);
    ward_memzero(h->auth, sizeof h->auth);
    if (refused) {
        answer(s, h, &r);
        return;
    }
    ward_buf_release(&r.body);
    if (ward_blobs_begin(s->blobs, &h->up)) {
        ward_serve_log("error", "blob_create",
                       json_pack("{s:s}", "msg", strerror(errno)));
        answer_error(s, h, 503, "store_failed",
                     "the attachment could not be stored; try again");
        return;
    }
    h->uploading = 1;
    h->state = REQ_BODY;
    /* curl, among others, waits a second for this before a large body;
     * lws 4.1.6 does not send it. */
    char ex[32];
    if (lws_hdr_copy(h->wsi, ex, (int)sizeof ex, WSI_TOKEN_HTTP_EXPECT) > 0 &&
        strcasecmp(ex, "100-continue") == 0) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        unsigned char buf[LWS_PRE + sizeof cont];
        memcpy(buf + LWS_PRE, cont, sizeof cont - 1);
        (void)lws_write(h->wsi, buf + LWS_PRE, sizeof cont - 1,
                        LWS_WRITE_RAW);
    }
}

/* The whole upload is on disk: sync it, record it, answer. */
static void finish_upload(ward_serve *s, serve_http *h)
{
    ward_http_resp r;
    char id[WARD_BLOB_ID_LEN + 1];
    uint64_t size = h->up.written;
    ward_http_resp_init(&r);
    if (size != h->content_length) {
        ward_blobs_abort(s->blobs, &h->up);
        h->uploading = 0;
        answer_error(s, h, 400, "bad_request",
                     "the body is shorter than its Content-Length");
        return;
    }
    memcpy(id, h->up.id, sizeof id);
    /* The record first: a crash before the file is in place leaves a
     * record without a file (a 404, deleted at expiry), never a file
     * without a record, which nothing would ever delete. */
    ward_api_upload_done(s->api, h->up_account, id, size, &r);
    if (r.status != 201) {
        ward_blobs_abort(s->blobs, &h->up);
        h->uploading = 0;
        answer(s, h, &r);
        return;
    }
    h->uploading = 0;
    if (ward_blobs_commit(s->blobs, &h->up)) {
        ward_serve_log("error", "blob_commit",
                       json_pack("{s:s}", "msg", strerror(errno)));
        (void)ward_store_blob_delete(s->st, id);
        ward_buf_release(&r.body);
        answer_error(s, h, 503, "store_failed",
                     "the attachment could not be stored; try again");
        return;
    }
    answer(s, h, &r);
}

/* LWS_CALLBACK_HTTP: the headers of a new request are in. */
static int on_request(ward_serve *s, serve_http *h, struct lws *wsi,
                      const char *path)
{
    char *uri;
    int ulen;
    int meth = lws_http_get_uri_and_method(wsi, &uri, &ulen);

    req_end(s, h, 1);
    h->wsi = wsi;
    h->req_id = ++s->next_req_id;
    /* Until the body is read, an answer leaves it unread. */
    char cl0[4];
    h->linger = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0 ||
                (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
                 !(lws_hdr_copy(wsi, cl0, (int)sizeof cl0,
                                WSI_TOKEN_HTTP_CONTENT_LENGTH) == 1 &&
                   cl0[0] == '0'));
    h->t0_us = lws_now_usecs();
    h->active = 1;
    s->inflight_http++;
    s->m.http_requests++;
    h->method = meth >= 0 && meth <= LWSHUMETH_HEAD ? method_names[meth]
                                                      : "OTHER";
    ward_buf_init(&h->body, s->cfg->api.max_body);
    ward_buf_init(&h->resp, 0);
    ward_buf_init(&h->resp_headers, 0);
    h->resp_type = NULL;
    if (lws_get_peer_simple(wsi, h->remote, sizeof h->remote) == NULL)
        h->remote[0] = 0;

    size_t plen = path ? strlen(path) : 0;
    if (plen > SERVE_PATH_MAX) {
        copy_printable(h->path, path, 64);
        answer_error(s, h, 414, "uri_too_long", "the path is too long");
        return 0;
    }
    copy_printable(h->path, path ? path : "", plen);
    if (copy_query(wsi, h)) {
        answer_error(s, h, 414, "uri_too_long", "the query is too long");
        return 0;
    }
    int alen = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    h->has_auth = alen > 0;
    if (alen > 0 && (alen > SERVE_AUTH_MAX ||
                     lws_hdr_copy(wsi, h->auth, (int)sizeof h->auth,
                                  WSI_TOKEN_HTTP_AUTHORIZATION) < 0))
        strcpy(h->auth, "invalid"); /* the API answers 401 */
    /* The console's session cookie and CSRF token. Too long, they are
     * dropped, which the console answers as "not logged in" (a request
     * with a cookie it cannot read must not reach the API half-read). */
    int clen = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_COOKIE);
    h->has_cookie = clen > 0 && clen <= SERVE_COOKIE_MAX &&
                    lws_hdr_copy(wsi, h->cookie, (int)sizeof h->cookie,
                                 WSI_TOKEN_HTTP_COOKIE) >= 0;
    int xlen = lws_hdr_custom_length(wsi, "x-csrf-token:", 13);
    h->has_csrf = xlen > 0;
    if (xlen > 0 && (xlen > SERVE_CSRF_MAX ||
                     lws_hdr_custom_copy(wsi, h->csrf, (int)sizeof h->csrf,
                                         "x-csrf-token:", 13) < 0))
        strcpy(h->csrf, "invalid"); /* never equal to a session's token */
    h->tls = lws_is_ssl(wsi) != 0;

    if (s->shutting_down) {
        answer_error(s, h, 503, "shutting_down",
                     "the server is shutting down; try again");
        return 0;
    }
    if (meth < 0 || meth == LWSHUMETH_HEAD || meth == LWSHUMETH_CONNECT ||
        meth == LWSHUMETH_COLON_PATH) {
        answer_error(s, h, 405, "method_not_allowed",
                     "that method is not allowed here");
        return 0;
    }
    /* lws 4.1.6 does not decode chunked request bodies: refuse them. */
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
        answer_error(s, h, 411, "length_required",
                     "send the body with a Content-Length, not chunked");
        return 0;
    }
    char cl[32];
    int cln = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
    if (cln > 0 && (lws_hdr_copy(wsi, cl, (int)sizeof cl,
                                 WSI_TOKEN_HTTP_CONTENT_LENGTH) < 0 ||
                    parse_length(cl, &h->content_length))) {
        s->m.errors[SERR_BAD_REQUEST]++;
        answer_error(s, h, 400, "bad_request",
                     "Content-Length is not a number");
        return 0;
    }
    if (strcmp(h->path, ATTACH_PATH) == 0) {
        if (meth != LWSHUMETH_POST)
            answer_error(s, h, 405, "method_not_allowed",
                         "that method is not allowed here");
        else if (cln <= 0)
            answer_error(s, h, 411, "length_required",
                         "an upload needs a Content-Length");
        else
            begin_upload(s, h);
        return 0;
    }
    if (cln > 0) {
        if (h->content_length > s->cfg->api.max_body) {
            answer_error(s, h, 413, "too_large", "the body is too large");
            return 0;
        }
        if (h->content_length > 0) {
            if (ward_buf_reserve(&h->body, (size_t)h->content_length)) {
                answer_error(s, h, 503, "busy", "out of memory");
                return 0;
            }
            h->state = REQ_BODY;
            return 0; /* HTTP_BODY, then HTTP_BODY_COMPLETION */
        }
    } else if (meth == LWSHUMETH_POST || meth == LWSHUMETH_PUT ||
               meth == LWSHUMETH_PATCH) {
        answer_error(s, h, 411, "length_required",
                     "a body needs a Content-Length");
        return 0;
    }
    dispatch(s, h);
    return 0;
}

/*
 * The body is complete. lws 4.1.6 calls this again, consuming nothing,
 * on every pass of the loop while bytes the client sent after the body
 * wait in its buffer, until the answer is written; the loop does not
 * sleep meanwhile. So on a repeat we answer at once (committing a parked
 * send first) and close; the client sends whatever it pipelined again
 * on a new connection (RFC 9112 9.3.2). Closing here is safe: this is
 * lws_read_h1 on the connection's own buffered input.
 */
static int on_body_completion(ward_serve *s, serve_http *h, struct lws *wsi)
{
    if (h->state == REQ_BODY) {
        h->linger = 0;
        if (h->uploading)
            finish_upload(s, h);
        else
            dispatch(s, h);
        return 0;
    }
    if (h->linger) {
        /* The body of a request answered early has all arrived. */
        if (h->state == REQ_IDLE)
            return -1; /* the answer is out: close */
        h->linger = 0; /* close right after the answer */
        return 0;
    }
    if (!h->active)
        return 0;
    if (h->state == REQ_PARKED)
        flush_now(s);
    if (h->state != REQ_ANSWERING)
        return -1;
    if (!h->hdrs_sent && write_headers(h, wsi))
        return -1;
    size_t n = h->resp.len - h->resp_off;
    if (n) {
        /* lws copies what the socket does not take now, and sends it
         * before it closes. */
        unsigned char *buf = malloc(LWS_PRE + n);
        if (!buf)
            return -1;
        memcpy(buf + LWS_PRE, h->resp.data + h->resp_off, n);
        int w = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_HTTP_FINAL);
        free(buf);
        if (w != (int)n)
            return -1;
    }
    ward_serve_log("info", "http_pipelined",
                   json_pack("{s:I,s:s}", "id", (json_int_t)h->req_id, "msg",
                             "bytes after the body: answered early, closed"));
    log_request(s, h->method, h->path, h->remote, h->req_id, h->status,
                h->t0_us);
    req_end(s, h, 0);
    return -1;
}

/* Whether the comma-separated Sec-WebSocket-Protocol list names ward.v1
 * exactly ("ward.v10" does not). */
static int offers_ward_v1(const char *list)
{
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        const char *end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if (end - start == 7 && memcmp(start, "ward.v1", 7) == 0)
            return 1;
    }
    return 0;
}

/* A WebSocket upgrade, still in HTTP: refuse with a real status and a
 * JSON body, or return 0 to let it through. */
static int confirm_upgrade(ward_serve *s, struct lws *wsi, const char *kind)
{
    int64_t t0 = lws_now_usecs(), account;
    char path[64] = "?", proto[128], remote[64] = "";
    int status = 0;
    const char *code = NULL, *msg = NULL;
    uint64_t id = ++s->next_req_id;

    s->m.http_requests++;
    if (lws_get_peer_simple(wsi, remote, sizeof remote) == NULL)
        remote[0] = 0;
    int pl = lws_hdr_copy(wsi, path, (int)sizeof path, WSI_TOKEN_GET_URI);
    if (pl < 0)
        strcpy(path, "?");
    else
        copy_printable(path, path, (size_t)pl);
    if (!kind || strcmp(kind, "websocket") != 0) {
        status = 400, code = "bad_upgrade", msg = "only websocket upgrades";
    } else if (strcmp(path, "/v1/ws") != 0) {
        status = 404, code = "no_route", msg = "no such endpoint";
    } else if (lws_hdr_copy(wsi, proto, (int)sizeof proto,
                            WSI_TOKEN_PROTOCOL) <= 0 ||
               !offers_ward_v1(proto)) {
        status = 400, code = "bad_subprotocol",
        msg = "the subprotocol must be ward.v1";
    } else if (s->shutting_down) {
        status = 503, code = "shutting_down",
        msg = "the server is shutting down; try again";
    } else {
        ward_err e = ward_serve_ws_auth(s, wsi, &account);
        if (e == WARD_ERR_AUTH)
            status = 401, code = "unauthorized",
            msg = "a valid bearer token is required";
        else if (e == WARD_ERR_FORBIDDEN)
            status = 403; /* the body says why, below */
        else if (e)
            status = 503, code = "store_failed", msg = "try again later";
    }
    if (!status) {
        log_request(s, "GET", path, remote, id, 101, t0);
        s->m.by_class[1]++;
        return 0;
    }
    s->m.errors[SERR_WS_UPGRADE]++;
    count_status(s, status);

    ward_http_resp r;
    ward_http_resp_init(&r);
    if (status != 403 || ward_api_refuse_status(s->api, account, &r) == 0)
        ward_resp_error(&r, status, code ? code : "forbidden",
                        msg ? msg : "forbidden");
    unsigned char *start = out_buf + LWS_PRE, *p = start,
                  *end = out_buf + sizeof out_buf - 1;
    int bad = r.body.len > CHUNK / 2 ||
              lws_add_http_common_headers(wsi, (unsigned)status,
                                          "application/json",
                                          (lws_filepos_t)r.body.len, &p,
                                          end) ||
              (status == 401 &&
               lws_add_http_header_by_token(
                   wsi, WSI_TOKEN_HTTP_WWW_AUTHENTICATE,
                   (const unsigned char *)"Bearer", 6, &p, end)) ||
              lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                           (const unsigned char *)"close", 5,
                                           &p, end) ||
              lws_finalize_write_http_header(wsi, start, &p, end);
    if (!bad) {
        memcpy(start, r.body.data, r.body.len);
        bad = lws_write(wsi, start, r.body.len, LWS_WRITE_HTTP_FINAL) !=
              (int)r.body.len;
    }
    ward_buf_release(&r.body);
    log_request(s, "GET", path, remote, id, status, t0);
    return bad ? -1 : 1;
}

int ward_serve_cb_http(struct lws *wsi, enum lws_callback_reasons reason,
                       void *user, void *in, size_t len)
{
    serve_http *h = user;
    ward_serve *s = serve_of(wsi);

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_request(s, h, wsi, in);

    case LWS_CALLBACK_HTTP_BODY:
        if (h->state != REQ_BODY)
            return 0; /* already answering: discard */
        if (h->uploading) {
            if (h->up.written + len > h->content_length) {
                answer_error(s, h, 400, "bad_request",
                             "more bytes than the Content-Length");
            } else if (ward_blobs_write(s->blobs, &h->up, in, len)) {
                ward_serve_log("error", "blob_write",
                               json_pack("{s:s}", "msg", strerror(errno)));
                ward_blobs_abort(s->blobs, &h->up);
                h->uploading = 0;
                answer_error(s, h, 503, "store_failed",
                             "the attachment could not be stored");
            }
            return 0;
        }
        if (h->body.len + len > h->content_length ||
            ward_buf_append(&h->body, in, len) != WARD_OK) {
            answer_error(s, h, 413, "too_large", "the body is too large");
            return 0;
        }
        return 0;

    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return on_body_completion(s, h, wsi);

    case LWS_CALLBACK_HTTP_WRITEABLE:
        return http_writeable(s, h, wsi);

    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        /* A password worker finished (serve_main.c's serve_wake). */
        ward_api_poll(s->api);
        break;

    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return confirm_upgrade(s, wsi, in);

    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* An upgrade that bound to "http": no ward.v1 subprotocol. */
        return 1;

    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
        if (h)
            req_end(s, h, 1);
        break;

    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}
