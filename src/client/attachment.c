/*
 * Attachments: a file is encrypted with a fresh key as it is uploaded
 * (crypto.h's secretstream layout), and the pointer — blob id, key,
 * plaintext SHA-256, size, type, name — travels inside the end-to-end
 * encrypted Content. The recipient downloads, decrypts as the bytes
 * arrive into a private temporary file, and keeps the file only if it
 * decrypted completely and its SHA-256 is the one the sender committed
 * to (which franking binds to the message).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client_internal.h"
#include "ward/crypto.h"

#define READ_ABORT 0x10000000 /* CURL_READFUNC_ABORT */

/* ---- sending ---- */

typedef struct upload {
    int fd;
    uint64_t size, read_total;
    ward_stream st;
    ward_sha256_ctx sha;
    uint8_t plain[WARD_STREAM_CHUNK];
    uint8_t out[WARD_STREAM_CHUNK + WARD_STREAM_ABYTES];
    size_t out_len, out_off;
    int header_done, final_done, failed;
} upload;

/* Reads the next chunk of the file (exactly WARD_STREAM_CHUNK bytes
 * unless it is the last) and encrypts it into u->out. */
static int next_chunk(upload *u)
{
    uint64_t left = u->size - u->read_total;
    size_t want = left > WARD_STREAM_CHUNK ? WARD_STREAM_CHUNK : (size_t)left;
    size_t got = 0;
    while (got < want) {
        ssize_t r = read(u->fd, u->plain + got, want - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1; /* shrank, or failed, while we read it */
        got += (size_t)r;
    }
    u->read_total += got;
    int final = u->read_total == u->size;
    ward_sha256_update(&u->sha, u->plain, got);
    if (ward_stream_seal(&u->st, u->plain, got, final, u->out))
        return -1;
    u->out_len = got + WARD_STREAM_ABYTES;
    u->out_off = 0;
    u->final_done = final;
    return 0;
}

static size_t upload_read(char *buf, size_t size, size_t n, void *ctx)
{
    upload *u = ctx;
    size_t cap = size * n, done = 0;
    while (done < cap) {
        if (u->out_off == u->out_len) {
            if (u->final_done)
                break;
            if (next_chunk(u)) {
                u->failed = 1;
                return READ_ABORT;
            }
        }
        size_t k = u->out_len - u->out_off;
        if (k > cap - done)
            k = cap - done;
        memcpy(buf + done, u->out + u->out_off, k);
        u->out_off += k;
        done += k;
    }
    return done;
}

/* The type from the first bytes, for the images `ward send --image`
 * takes; NULL for anything else. */
static const char *sniff_image(const uint8_t *p, size_t n)
{
    if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
        return "image/jpeg";
    if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    if (n >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
        return "image/gif";
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return "image/webp";
    if (n >= 18 && p[0] == 'B' && p[1] == 'M') {
        /* "BM" alone starts plenty of text files: the DIB header's size
         * (at 14) must be one a BMP has. */
        uint32_t dib = (uint32_t)p[14] | (uint32_t)p[15] << 8 |
                       (uint32_t)p[16] << 16 | (uint32_t)p[17] << 24;
        if (dib == 12 || dib == 40 || dib == 52 || dib == 56 || dib == 64 ||
            dib == 108 || dib == 124)
            return "image/bmp";
    }
    return NULL;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

ward_err ward_client_upload_image(ward_client *c, const char *path,
                                  const char *caption, ward_content *content,
                                  char *err, size_t errlen)
{
    ward_attachment a;
    json_t *reply = NULL;
    int status = 0;
    uint8_t head[32];
    upload *u = NULL;
    ward_err e;
    memset(&a, 0, sizeof a);

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "cannot read '%s': %s", path,
                 fd < 0 ? strerror(errno) : "not a regular file");
        e = WARD_ERR_IO;
        goto done;
    }
    ssize_t hn = pread(fd, head, sizeof head, 0);
    const char *type = hn > 0 ? sniff_image(head, (size_t)hn) : NULL;
    if (!type) {
        snprintf(err, errlen,
                 "'%s' is not an image (JPEG, PNG, GIF, WebP or BMP)", path);
        e = WARD_ERR_INVALID_ARG;
        goto done;
    }
    if (caption && (e = ward_content_set_body(content, caption,
                                              strlen(caption)))) {
        snprintf(err, errlen, "the caption is not valid UTF-8 or too long");
        goto done;
    }
    if ((e = ward_client_use_token(c, err, errlen)))
        goto done;

    u = calloc(1, sizeof *u);
    if (!u) {
        e = WARD_ERR_NOMEM;
        goto done;
    }
    u->fd = fd;
    u->size = (uint64_t)st.st_size;
    ward_random(a.key, sizeof a.key);
    ward_sha256_init(&u->sha);
    ward_stream_seal_init(&u->st, a.key, u->out);
    u->out_len = WARD_STREAM_HEADER_LEN; /* the header goes first */
    e = ward_http_upload(c->http, "/v1/attachments",
                         ward_stream_sealed_size(u->size), upload_read, u,
                         &status, &reply, err, errlen);
    if (u->failed) {
        snprintf(err, errlen, "'%s' changed or failed while it was read",
                 path);
        e = WARD_ERR_IO;
        goto done;
    }
    if (e)
        goto done;
    if (status != 201) {
        ward_client_server_error(reply, status, err, errlen);
        e = WARD_ERR_IO;
        goto done;
    }
    const char *id = json_string_value(json_object_get(reply, "id"));
    if (!id || strlen(id) >= sizeof a.id) {
        snprintf(err, errlen, "the server's reply has no attachment id");
        e = WARD_ERR_IO;
        goto done;
    }
    snprintf(a.id, sizeof a.id, "%s", id);
    ward_sha256_final(&u->sha, a.sha256);
    a.size = u->size;
    snprintf(a.content_type, sizeof a.content_type, "%s", type);
    snprintf(a.file_name, sizeof a.file_name, "%.255s", base_name(path));
    e = ward_content_add_attachment(content, &a);
done:
    if (u) {
        ward_stream_wipe(&u->st);
        ward_memzero(u, sizeof *u);
        free(u);
    }
    if (fd >= 0)
        close(fd);
    ward_memzero(&a, sizeof a);
    json_decref(reply);
    return e;
}

ward_err ward_client_send_image(ward_client *c, const char *to,
                                const char *path, const char *caption,
                                int64_t *id_out, char *err, size_t errlen)
{
    ward_content content;
    ward_content_init(&content);
    ward_err e = ward_client_upload_image(c, path, caption, &content, err,
                                          errlen);
    if (!e)
        e = ward_client_send_content(c, to, 0, &content, id_out, err,
                                     errlen);
    ward_content_release(&content);
    return e;
}

/* ---- receiving ---- */

static size_t fetch_write(char *p, size_t size, size_t n, void *ctx)
{
    ward_stream_dec *d = ctx;
    /* A short count fails the transfer. */
    return ward_stream_dec_feed(d, (const uint8_t *)p, size * n) == WARD_OK
               ? size * n
               : 0;
}

static int mkdir_p(const char *dir)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(tmp, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* The sender's file name made safe to use in a folder: letters, digits,
 * '.', '-' and '_' only, no leading dot, never empty. */
static void safe_name(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = in; *p && n + 1 < cap && n < 100; p++) {
        char ch = *p;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                 (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
                 ch == '_';
        if (n == 0 && ch == '.')
            continue;
        out[n++] = ok ? ch : '_';
    }
    if (n == 0)
        n = (size_t)snprintf(out, cap, "attachment");
    out[n] = 0;
}

static int id_valid(const char *id)
{
    size_t i = 0;
    for (; id[i]; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return 0;
    return i == 32;
}

ward_err ward_client_fetch_attachment(ward_client *c,
                                      const ward_attachment *a,
                                      int64_t msg_id, char *saved,
                                      size_t saved_cap, char *why,
                                      size_t why_cap)
{
    char tmp[4200], name[128], path[4400];
    json_t *reply = NULL;
    int status = 0;
    ward_err e;
    ward_stream_dec *d = NULL;
    saved[0] = 0;
    why[0] = 0;
    if (!id_valid(a->id)) {
        snprintf(why, why_cap, "the attachment pointer is malformed");
        return WARD_ERR_AUTH;
    }
    if (a->size > WARD_STREAM_MAX_PLAIN) {
        snprintf(why, why_cap, "the attachment claims an impossible size");
        return WARD_ERR_AUTH;
    }
    if (mkdir_p(c->attach_dir) != 0 ||
        snprintf(tmp, sizeof tmp, "%s/.partXXXXXX", c->attach_dir) >=
            (int)sizeof tmp) {
        snprintf(why, why_cap, "cannot create the folder '%s'",
                 c->attach_dir);
        return WARD_ERR_IO;
    }
    int fd = mkostemp(tmp, O_CLOEXEC); /* 0600 */
    if (fd < 0) {
        snprintf(why, why_cap, "cannot write in '%s': %s", c->attach_dir,
                 strerror(errno));
        return WARD_ERR_IO;
    }
    if ((e = ward_stream_dec_new(&d, a->key, a->size, fd)))
        goto done;
    char url[300];
    snprintf(url, sizeof url, "/v1/attachments/%.32s", a->id);
    e = ward_http_download(c->http, url, fetch_write, d, &status, &reply,
                           why, why_cap);
    /* What the decoder saw decides, whatever curl made of the stop. */
    ward_err de = ward_stream_dec_feed(d, NULL, 0);
    if (!de && !e && status == 200)
        de = ward_stream_dec_finish(d, a->sha256);
    if (de == WARD_ERR_AUTH) {
        snprintf(why, why_cap,
                 "the attachment was altered or truncated: not the one that "
                 "was sent");
        e = WARD_ERR_AUTH;
        goto done;
    }
    if (de) {
        snprintf(why, why_cap, "cannot write in '%s'", c->attach_dir);
        e = WARD_ERR_IO;
        goto done;
    }
    if (e)
        goto done;
    if (status == 404) {
        snprintf(why, why_cap, "the attachment expired on the server");
        e = WARD_ERR_NOT_FOUND;
        goto done;
    }
    if (status != 200) {
        ward_client_server_error(reply, status, why, why_cap);
        e = WARD_ERR_IO;
        goto done;
    }
    if (fsync(fd) != 0) {
        snprintf(why, why_cap, "cannot write in '%s'", c->attach_dir);
        e = WARD_ERR_IO;
        goto done;
    }
    /* Never overwrites: a second copy gets a number. */
    safe_name(a->file_name, name, sizeof name);
    e = WARD_ERR_IO;
    for (int i = 0; i < 100; i++) {
        if (i == 0)
            snprintf(path, sizeof path, "%s/%lld-%s", c->attach_dir,
                     (long long)msg_id, name);
        else
            snprintf(path, sizeof path, "%s/%lld-%d-%s", c->attach_dir,
                     (long long)msg_id, i, name);
        if (link(tmp, path) == 0) {
            e = WARD_OK;
            break;
        }
        if (errno != EEXIST)
            break;
    }
    if (e)
        snprintf(why, why_cap, "cannot save into '%s'", c->attach_dir);
    else
        snprintf(saved, saved_cap, "%s", path);
done:
    unlink(tmp);
    close(fd);
    ward_stream_dec_free(d);
    json_decref(reply);
    return e;
}

/* ---- attachments that could not be downloaded yet ---- */

#define DEFER_PREFIX "attachment:"

ward_err ward_client_attachment_defer(ward_client *c, int64_t msg_id,
                                      size_t index, const char *from,
                                      const ward_attachment *a)
{
    char key[64];
    if (!id_valid(a->id))
        return WARD_OK; /* nothing to fetch: refused when it is shown */
    snprintf(key, sizeof key, DEFER_PREFIX "%020lld:%02zu", (long long)msg_id,
             index);
    /* Type and name are cut, and control characters (which JSON would
     * escape six bytes to one) replaced, so the record always fits a
     * setting (1 KiB): a record that did not fit would hold its message
     * back for ever. */
    char type[65], name[81];
    snprintf(type, sizeof type, "%.64s", a->content_type);
    snprintf(name, sizeof name, "%.80s", a->file_name);
    /* ASCII only, so a cut never splits a UTF-8 sequence (which JSON
     * would refuse); the saved file's name is ASCII anyway. */
    for (char *p = type; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = '_';
    for (char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = '_';
    json_t *o = json_pack("{s:s,s:s,s:o,s:o,s:I,s:s,s:s}", "from", from,
                          "id", a->id, "key",
                          ward_b64_json(a->key, sizeof a->key), "sha256",
                          ward_b64_json(a->sha256, sizeof a->sha256),
                          "size", (json_int_t)a->size, "type", type, "name",
                          name);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    ward_err e = text ? ward_client_state_set(c->state, key, text)
                      : WARD_ERR_NOMEM;
    if (text) {
        ward_memzero(text, strlen(text));
        free(text);
    }
    return e;
}

ward_err ward_client_attachment_settle(ward_client *c, int64_t msg_id,
                                       size_t index)
{
    char key[64];
    snprintf(key, sizeof key, DEFER_PREFIX "%020lld:%02zu", (long long)msg_id,
             index);
    return ward_client_state_unset(c->state, key);
}

/* Deletes what a download killed half-way left in the folder: the
 * partial plaintext of an attachment. A day's grace keeps another
 * process's download in progress safe. */
static void sweep_parts(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    time_t now = time(NULL);
    if (!d)
        return;
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (strncmp(de->d_name, ".part", 5) != 0 ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode) || now - st.st_mtime < 86400)
            continue;
        (void)unlinkat(dirfd(d), de->d_name, 0);
    }
    closedir(d);
}

static int collect(void *ctx, const char *key, const char *value)
{
    json_t *arr = ctx;
    json_array_append_new(arr, json_pack("{s:s,s:s}", "k", key, "v", value));
    return 0;
}

/* One deferred record back into a pointer; -1 if it is not one. */
static int parse_deferred(const char *text, ward_attachment *a,
                          char *from, size_t from_cap)
{
    json_t *o = json_loads(text, 0, NULL);
    const char *f = json_string_value(json_object_get(o, "from"));
    const char *id = json_string_value(json_object_get(o, "id"));
    const char *type = json_string_value(json_object_get(o, "type"));
    const char *name = json_string_value(json_object_get(o, "name"));
    json_t *size = json_object_get(o, "size");
    int bad = !f || !id || !type || !name || !json_is_integer(size) ||
              strlen(id) >= sizeof a->id ||
              ward_b64_json_exact(json_object_get(o, "key"), a->key,
                                sizeof a->key) ||
              ward_b64_json_exact(json_object_get(o, "sha256"), a->sha256,
                                sizeof a->sha256);
    if (!bad) {
        snprintf(a->id, sizeof a->id, "%s", id);
        snprintf(a->content_type, sizeof a->content_type, "%s", type);
        snprintf(a->file_name, sizeof a->file_name, "%s", name);
        snprintf(from, from_cap, "%s", f);
        a->size = (uint64_t)json_integer_value(size);
    }
    json_decref(o);
    return bad ? -1 : 0;
}

ward_err ward_client_retry_attachments(ward_client *c,
                                       void (*fn)(void *ctx,
                                                  const ward_client_msg *m),
                                       void *ctx, size_t *shown,
                                       size_t *left)
{
    json_t *arr = json_array();
    size_t i, pending = 0, settled = 0;
    json_t *v;
    if (!arr)
        return WARD_ERR_NOMEM;
    sweep_parts(c->attach_dir);
    ward_err e = ward_client_state_each(c->state, DEFER_PREFIX, collect, arr);
    json_array_foreach(arr, i, v) {
        const char *key = json_string_value(json_object_get(v, "k"));
        const char *text = json_string_value(json_object_get(v, "v"));
        ward_attachment a;
        char from[64], saved[4400], why[256];
        long long msg_id = 0;
        memset(&a, 0, sizeof a);
        if (!key || sscanf(key, DEFER_PREFIX "%lld", &msg_id) != 1 ||
            !text || parse_deferred(text, &a, from, sizeof from)) {
            (void)ward_client_state_unset(c->state, key ? key : "");
            continue;
        }
        ward_client_attachment att = {.file_name = a.file_name,
                                      .content_type = a.content_type,
                                      .size = a.size};
        att.problem = ward_client_fetch_attachment(c, &a, msg_id, saved,
                                                   sizeof saved, why,
                                                   sizeof why);
        ward_memzero(a.key, sizeof a.key);
        if (att.problem == WARD_ERR_IO) {
            pending++; /* still not reachable: next time */
            continue;
        }
        if (att.problem == WARD_OK)
            att.saved_path = saved;
        else
            att.problem_text = why;
        (void)ward_client_state_unset(c->state, key);
        ward_client_msg m = {.id = msg_id, .from = from,
                             .attachments = &att, .n_attachments = 1};
        if (fn)
            fn(ctx, &m);
        settled++;
    }
    /* The records held keys: wipe the copies. */
    json_array_foreach(arr, i, v) {
        json_t *t = json_object_get(v, "v");
        if (json_is_string(t))
            ward_memzero((char *)json_string_value(t), json_string_length(t));
    }
    json_decref(arr);
    if (left)
        *left = pending;
    if (shown)
        *shown = settled;
    return e;
}
