#include "http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ward/crypto.h"

#define MAX_REPLY (16u << 20)

struct ward_http {
    CURL *curl; /* one handle, so the connection is kept alive */
    char *base;
    char auth[128];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

ward_err ward_http_new(ward_http **out, const char *base_url)
{
    pthread_once(&curl_once, curl_init);
    ward_http *h = calloc(1, sizeof *h);
    if (!h)
        return WARD_ERR_NOMEM;
    size_t n = strlen(base_url);
    while (n && base_url[n - 1] == '/')
        n--; /* "http://host:port/" and "http://host:port" alike */
    h->base = strndup(base_url, n);
    h->curl = curl_easy_init();
    if (!h->base || !h->curl) {
        ward_http_free(h);
        return WARD_ERR_NOMEM;
    }
    *out = h;
    return WARD_OK;
}

void ward_http_free(ward_http *h)
{
    if (!h)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    ward_memzero(h->auth, sizeof h->auth);
    free(h->base);
    free(h);
}

void ward_http_set_token(ward_http *h, const char *token)
{
    ward_memzero(h->auth, sizeof h->auth);
    if (token)
        snprintf(h->auth, sizeof h->auth, "Authorization: Bearer %s", token);
}

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    ward_buf *b = ctx;
    /* A short count makes curl fail the transfer: past the maximum. */
    return ward_buf_append(b, p, size * n) == WARD_OK ? size * n : 0;
}

ward_err ward_http_call(ward_http *h, const char *method, const char *path,
                        json_t *body, int *status, json_t **reply, char *err,
                        size_t errlen)
{
    char url[2048], cerr[CURL_ERROR_SIZE] = "";
    char *text = NULL;
    struct curl_slist *hdrs = NULL;
    ward_buf in;
    ward_buf_init(&in, MAX_REPLY);
    ward_err e = WARD_ERR_IO;
    if (reply)
        *reply = NULL;

    snprintf(url, sizeof url, "%s%s", h->base, path);
    CURL *c = h->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &in);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    /* The server answers without 100 Continue. */
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (h->auth[0])
        hdrs = curl_slist_append(hdrs, h->auth);
    if (body) {
        text = json_dumps(body, JSON_COMPACT);
        if (!text) {
            e = WARD_ERR_NOMEM;
            goto done;
        }
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        if (err && errlen)
            snprintf(err, errlen, "cannot reach %s: %s", h->base,
                     cerr[0] ? cerr : curl_easy_strerror(rc));
        goto done;
    }
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    *status = (int)code;
    if (reply && in.len) {
        json_error_t je;
        *reply = json_loadb((const char *)in.data, in.len, 0, &je);
        if (!*reply) {
            if (err && errlen)
                snprintf(err, errlen, "the server's reply is not JSON");
            goto done;
        }
    }
    e = WARD_OK;
done:
    if (text) {
        ward_memzero(text, strlen(text));
        free(text);
    }
    curl_slist_free_all(hdrs); /* holds the token: freed, as curl allows */
    ward_buf_release(&in);
    return e;
}

/* Sets up |c| for a streamed transfer of |path|: no overall timeout
 * (100 MiB on a slow link takes a while), but one that has stalled for a
 * minute is abandoned. */
static struct curl_slist *stream_setup(ward_http *h, CURL *c, const char *path,
                                       char *url, size_t urlcap, char *cerr)
{
    struct curl_slist *hdrs = NULL;
    snprintf(url, urlcap, "%s%s", h->base, path);
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (h->auth[0])
        hdrs = curl_slist_append(hdrs, h->auth);
    return hdrs;
}

static ward_err finish(ward_http *h, CURL *c, CURLcode rc, const char *cerr,
                       ward_buf *in, int *status, json_t **reply, char *err,
                       size_t errlen)
{
    long code = 0;
    if (rc != CURLE_OK) {
        if (err && errlen && !err[0])
            snprintf(err, errlen, "cannot reach %s: %s", h->base,
                     cerr[0] ? cerr : curl_easy_strerror(rc));
        return WARD_ERR_IO;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    *status = (int)code;
    if (reply && in->len) {
        json_error_t je;
        *reply = json_loadb((const char *)in->data, in->len, 0, &je);
        if (!*reply) {
            if (err && errlen)
                snprintf(err, errlen, "the server's reply is not JSON");
            return WARD_ERR_IO;
        }
    }
    return WARD_OK;
}

typedef struct download_ctx {
    CURL *curl;
    ward_http_write_fn write_fn; /* NULL: every body is the JSON reply */
    void *ctx;
    ward_buf *reply_body;
} download_ctx;

/* A 200's body goes to |write_fn|; any other (a JSON answer or error) is
 * kept for the reply. */
static size_t on_download(char *p, size_t size, size_t n, void *ctx)
{
    download_ctx *d = ctx;
    long code = 0;
    curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code == 200 && d->write_fn)
        return d->write_fn(p, size, n, d->ctx);
    return on_data(p, size, n, d->reply_body);
}

/* One streamed exchange: a POST of |size| bytes from |read_fn|, or (no
 * |read_fn|) a GET whose 200 body goes to |write_fn|. */
static ward_err stream(ward_http *h, const char *method, const char *path,
                       uint64_t size, ward_http_read_fn read_fn, void *rctx,
                       ward_http_write_fn write_fn, void *wctx, int *status,
                       json_t **reply, char *err, size_t errlen)
{
    char url[2048], cerr[CURL_ERROR_SIZE] = "";
    ward_buf in;
    ward_buf_init(&in, MAX_REPLY);
    if (reply)
        *reply = NULL;
    CURL *c = h->curl;
    download_ctx d = {c, write_fn, wctx, &in};
    struct curl_slist *hdrs = stream_setup(h, c, path, url, sizeof url, cerr);
    if (read_fn) {
        hdrs = curl_slist_append(hdrs,
                                 "Content-Type: application/octet-stream");
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, read_fn);
        curl_easy_setopt(c, CURLOPT_READDATA, rctx);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)size);
        if (method)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_download);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &d);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    CURLcode rc = curl_easy_perform(c);
    ward_err e = finish(h, c, rc, cerr, &in, status, reply, err, errlen);
    curl_slist_free_all(hdrs);
    ward_buf_release(&in);
    return e;
}

ward_err ward_http_upload(ward_http *h, const char *path, uint64_t size,
                          ward_http_read_fn read_fn, void *ctx, int *status,
                          json_t **reply, char *err, size_t errlen)
{
    return stream(h, NULL, path, size, read_fn, ctx, NULL, NULL, status,
                  reply, err, errlen);
}

ward_err ward_http_put(ward_http *h, const char *path, uint64_t size,
                       ward_http_read_fn read_fn, void *ctx, int *status,
                       json_t **reply, char *err, size_t errlen)
{
    return stream(h, "PUT", path, size, read_fn, ctx, NULL, NULL, status,
                  reply, err, errlen);
}

ward_err ward_http_download(ward_http *h, const char *path,
                            ward_http_write_fn write_fn, void *ctx,
                            int *status, json_t **reply, char *err,
                            size_t errlen)
{
    return stream(h, NULL, path, 0, NULL, NULL, write_fn, ctx, status, reply,
                  err, errlen);
}

const char *ward_http_error_text(json_t *reply)
{
    json_t *m = json_object_get(json_object_get(reply, "error"), "message");
    return json_is_string(m) ? json_string_value(m) : "the server refused";
}

const char *ward_http_error_code(json_t *reply)
{
    json_t *m = json_object_get(json_object_get(reply, "error"), "code");
    return json_is_string(m) ? json_string_value(m) : "";
}
