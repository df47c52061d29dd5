/* The server's franking keys on disk and in memory. */
#include "franking_keys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ward/crypto.h"

#define MAX_KEYS 1024
#define KEY_FILE_MAX 512

typedef struct fkey {
    uint32_t id;
    int64_t created;
    uint8_t key[32];
} fkey;

struct ward_frank_keys {
    char dir[4096];
    int64_t rotate_ms, retain_ms;
    fkey *keys; /* ascending id */
    size_t n;
};

static ward_err fail(char *err, size_t errlen, ward_err e, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
static ward_err fail(char *err, size_t errlen, ward_err e, const char *fmt,
                     ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return e;
}

static void free_keys(fkey *keys, size_t n)
{
    if (keys)
        ward_memzero(keys, n * sizeof *keys);
    free(keys);
}

/* Parses one key file's text. */
static int parse_key(const char *text, uint32_t file_id, fkey *out)
{
    unsigned long id;
    long long created;
    char b64[64];
    if (sscanf(text, "ward franking key v1\nid %lu\ncreated %lld\nkey %63s\n",
               &id, &created, b64) != 3 ||
        id != file_id || created < 0)
        return -1;
    size_t n = 0;
    int ok = sodium_base642bin(out->key, sizeof out->key, b64, strlen(b64),
                               NULL, &n, NULL,
                               sodium_base64_VARIANT_ORIGINAL) == 0 &&
             n == sizeof out->key;
    ward_memzero(b64, sizeof b64);
    out->id = (uint32_t)id;
    out->created = created;
    return ok ? 0 : -1;
}

/* "<id>.key" with a decimal id in 1..UINT32_MAX and nothing else. */
static int key_file_id(const char *name, uint32_t *id)
{
    char *end;
    if (name[0] < '1' || name[0] > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(name, &end, 10);
    if (errno || v > UINT32_MAX || strcmp(end, ".key") != 0)
        return -1;
    *id = (uint32_t)v;
    return 0;
}

static int by_id(const void *a, const void *b)
{
    uint32_t x = ((const fkey *)a)->id, y = ((const fkey *)b)->id;
    return x < y ? -1 : x > y;
}

static ward_err read_key_file(int dfd, const char *name, uint32_t id,
                              fkey *out, char *err, size_t errlen)
{
    char text[KEY_FILE_MAX + 1];
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return fail(err, errlen, WARD_ERR_IO, "cannot read franking key %s: %s",
                    name, strerror(errno));
    ssize_t r = read(fd, text, KEY_FILE_MAX);
    close(fd);
    int bad = r <= 0 || r >= KEY_FILE_MAX;
    if (!bad) {
        text[r] = 0;
        bad = parse_key(text, id, out) != 0;
    }
    ward_memzero(text, sizeof text);
    if (bad)
        return fail(err, errlen, WARD_ERR_MALFORMED,
                    "franking key %s is malformed (truncated or edited?)",
                    name);
    return WARD_OK;
}

/* Reads every key file of |dir|, ascending by id. */
static ward_err load_dir(const char *dir, fkey **out, size_t *n_out,
                         char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d)
        return fail(err, errlen, WARD_ERR_IO, "cannot open %s: %s", dir,
                    strerror(errno));
    fkey *keys = calloc(MAX_KEYS, sizeof *keys);
    size_t n = 0;
    ward_err e = keys ? WARD_OK : WARD_ERR_NOMEM;
    struct dirent *ent;
    while (!e && (ent = readdir(d)) != NULL) {
        uint32_t id;
        if (key_file_id(ent->d_name, &id) != 0)
            continue; /* temporary files and anything else */
        if (n == MAX_KEYS) {
            e = fail(err, errlen, WARD_ERR_LIMIT, "more than %d franking keys",
                     MAX_KEYS);
            break;
        }
        e = read_key_file(dirfd(d), ent->d_name, id, &keys[n], err, errlen);
        if (!e)
            n++;
    }
    closedir(d);
    if (e) {
        free_keys(keys, MAX_KEYS);
        return e;
    }
    qsort(keys, n, sizeof *keys, by_id);
    *out = keys;
    *n_out = n;
    return WARD_OK;
}

/* Writes key |k| durably: a temporary file, synced, renamed, and the
 * directory synced. */
static ward_err write_key(const char *dir, const fkey *k, char *err,
                          size_t errlen)
{
    char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
    char text[KEY_FILE_MAX], tmp[4200], final[4200];
    sodium_bin2base64(b64, sizeof b64, k->key, sizeof k->key,
                      sodium_base64_VARIANT_ORIGINAL);
    int len = snprintf(text, sizeof text,
                       "ward franking key v1\nid %" PRIu32
                       "\ncreated %lld\nkey %s\n",
                       k->id, (long long)k->created, b64);
    ward_memzero(b64, sizeof b64);
    snprintf(tmp, sizeof tmp, "%s/.%" PRIu32 ".tmp", dir, k->id);
    snprintf(final, sizeof final, "%s/%" PRIu32 ".key", dir, k->id);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                  0600);
    int ok = fd >= 0 && write(fd, text, (size_t)len) == len &&
             fsync(fd) == 0;
    int saved = errno;
    ward_memzero(text, sizeof text);
    if (fd >= 0)
        close(fd);
    /* link() rather than rename(): two writers of the same id cannot
     * overwrite each other's key. */
    if (ok && link(tmp, final) != 0) {
        saved = errno;
        ok = 0;
    }
    unlink(tmp);
    if (!ok)
        return fail(err, errlen, saved == EEXIST ? WARD_ERR_EXISTS : WARD_ERR_IO,
                    "cannot write %s: %s", final, strerror(saved));
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return WARD_OK;
}

static ward_err add_key(const char *dir, uint32_t id, int64_t now,
                        char *err, size_t errlen)
{
    fkey k;
    k.id = id;
    k.created = now;
    ward_random(k.key, sizeof k.key);
    ward_err e = write_key(dir, &k, err, errlen);
    ward_memzero(&k, sizeof k);
    return e;
}

static ward_err key_dir(const char *data_dir, char *dir, size_t cap,
                        char *err, size_t errlen)
{
    if ((size_t)snprintf(dir, cap, "%s/franking", data_dir) >= cap)
        return fail(err, errlen, WARD_ERR_INVALID_ARG,
                    "the data directory's path is too long");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return fail(err, errlen, WARD_ERR_IO, "cannot create %s: %s", dir,
                    strerror(errno));
    return WARD_OK;
}

/* When key |i| stops verifying (INT64_MAX: the newest never does). */
static int64_t expires_at(const ward_frank_keys *k, size_t i)
{
    if (i + 1 >= k->n)
        return INT64_MAX;
    int64_t next = k->keys[i + 1].created;
    return next > INT64_MAX - k->retain_ms ? INT64_MAX : next + k->retain_ms;
}

ward_err ward_frank_keys_reload(ward_frank_keys *k, int64_t now, char *err,
                                size_t errlen)
{
    fkey *keys;
    size_t n;
    ward_err e = load_dir(k->dir, &keys, &n, err, errlen);
    if (e)
        return e;
    int64_t newest = n ? keys[n - 1].created : 0;
    if (n == 0 || now - newest >= k->rotate_ms) {
        uint32_t next = n ? keys[n - 1].id + 1 : 1;
        free_keys(keys, MAX_KEYS);
        if (next == 0)
            return fail(err, errlen, WARD_ERR_LIMIT, "franking key ids ran out");
        e = add_key(k->dir, next, now, err, errlen);
        /* Another process wrote that id first: use its key. */
        if (e && e != WARD_ERR_EXISTS)
            return e;
        e = load_dir(k->dir, &keys, &n, err, errlen);
        if (e)
            return e;
    }
    free_keys(k->keys, MAX_KEYS);
    k->keys = keys;
    k->n = n;
    /* Expired keys: forget them and delete their files. */
    size_t drop = 0;
    while (drop + 1 < k->n && expires_at(k, drop) <= now)
        drop++;
    for (size_t i = 0; i < drop; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%" PRIu32 ".key", k->dir,
                 k->keys[i].id);
        (void)unlink(path);
    }
    if (drop) {
        memmove(k->keys, k->keys + drop, (k->n - drop) * sizeof *k->keys);
        ward_memzero(k->keys + (k->n - drop), drop * sizeof *k->keys);
        k->n -= drop;
    }
    return WARD_OK;
}

ward_err ward_frank_keys_open(ward_frank_keys **out, const char *data_dir,
                              int64_t now, int64_t rotate_ms,
                              int64_t retain_ms, char *err, size_t errlen)
{
    if (rotate_ms <= 0 || retain_ms < 0)
        return fail(err, errlen, WARD_ERR_INVALID_ARG,
                    "franking key rotation must be positive");
    ward_frank_keys *k = calloc(1, sizeof *k);
    if (!k)
        return WARD_ERR_NOMEM;
    k->rotate_ms = rotate_ms;
    k->retain_ms = retain_ms;
    ward_err e = key_dir(data_dir, k->dir, sizeof k->dir, err, errlen);
    if (!e)
        e = ward_frank_keys_reload(k, now, err, errlen);
    if (e) {
        ward_frank_keys_free(k);
        return e;
    }
    *out = k;
    return WARD_OK;
}

void ward_frank_keys_free(ward_frank_keys *k)
{
    if (!k)
        return;
    free_keys(k->keys, MAX_KEYS);
    free(k);
}

ward_err ward_frank_keys_rotate_dir(const char *data_dir, int64_t now,
                                    uint32_t *new_id, char *err,
                                    size_t errlen)
{
    char dir[4096];
    fkey *keys;
    size_t n;
    ward_err e = key_dir(data_dir, dir, sizeof dir, err, errlen);
    if (!e)
        e = load_dir(dir, &keys, &n, err, errlen);
    if (e)
        return e;
    uint32_t next = n ? keys[n - 1].id + 1 : 1;
    free_keys(keys, MAX_KEYS);
    if (next == 0)
        return fail(err, errlen, WARD_ERR_LIMIT, "franking key ids ran out");
    e = add_key(dir, next, now, err, errlen);
    if (!e && new_id)
        *new_id = next;
    return e;
}

void ward_frank_keys_current(const ward_frank_keys *k, uint32_t *id,
                             const uint8_t **key)
{
    *id = k->keys[k->n - 1].id;
    *key = k->keys[k->n - 1].key;
}

ward_err ward_frank_keys_lookup(const ward_frank_keys *k, uint32_t id,
                                int64_t now, const uint8_t **key)
{
    for (size_t i = 0; i < k->n; i++)
        if (k->keys[i].id == id) {
            if (now >= expires_at(k, i))
                return WARD_ERR_NOT_FOUND;
            *key = k->keys[i].key;
            return WARD_OK;
        }
    return WARD_ERR_NOT_FOUND;
}

size_t ward_frank_keys_count(const ward_frank_keys *k)
{
    return k->n;
}
