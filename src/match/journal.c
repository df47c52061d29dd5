/* A set's journal: see journal.h for the layout and the torn-tail rule. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "journal.h"

static const char magic[8] = {'W', 'A', 'R', 'D', 'L', 'J', '0', '1'};

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint16_t rd16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static ward_err damaged(char *why, size_t n, const char *msg, size_t off)
{
    if (why && n)
        snprintf(why, n, "the journal is damaged at byte %zu: %s", off, msg);
    return WARD_ERR_BAD_STATE;
}

static size_t hash_len(int type)
{
    return type == WARD_HL_MD5 ? 16 : type == WARD_HL_PDQ || type == WARD_HL_SHA256 ? 32 : 0;
}

ward_err jnl_header(const uint8_t *p, size_t n, uint64_t *index_id)
{
    if (n < JNL_HEADER || memcmp(p, magic, sizeof magic) != 0 ||
        XXH3_64bits(p, 16) != rd64(p + 16))
        return WARD_ERR_BAD_STATE;
    *index_id = rd64(p + 8);
    return WARD_OK;
}

/* One operation at |p| (|n| bytes left in the commit): its length, or 0
 * if it is malformed. */
static size_t parse_op(const uint8_t *p, size_t n, jnl_op *op)
{
    memset(op, 0, sizeof *op);
    if (n < 5)
        return 0;
    op->kind = p[0];
    op->list = rd32(p + 1);
    size_t k = 5;
    switch (op->kind) {
    case JOP_LIST:
        if (n - k < 15)
            return 0;
        op->format = rd32(p + k);
        op->created = rd64(p + k + 4);
        op->name_len = p[k + 12];
        op->source_len = rd16(p + k + 13);
        k += 15;
        if (n - k < op->name_len + op->source_len)
            return 0;
        op->name = (const char *)p + k;
        op->source = op->name + op->name_len;
        return k + op->name_len + op->source_len;
    case JOP_DROP:
        return k;
    case JOP_ADD:
    case JOP_REMOVE: {
        if (n - k < 1)
            return 0;
        op->type = p[k++];
        size_t hl = hash_len(op->type);
        if (!hl)
            return 0;
        if (op->kind == JOP_ADD) {
            if (n - k < 2)
                return 0;
            op->labels_len = rd16(p + k);
            k += 2;
        }
        if (n - k < hl + op->labels_len)
            return 0;
        op->hash = p + k;
        op->labels = (const char *)p + k + hl;
        return k + hl + op->labels_len;
    }
    default:
        return 0;
    }
}

/* Bytes from |p| to the end are all zero: a file extended but never
 * written, as a crash can leave it. */
static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

ward_err jnl_read(const uint8_t *p, size_t n, jnl_fn fn, void *ctx,
                  size_t *end, char *why, size_t why_len)
{
    size_t pos = JNL_HEADER;
    *end = pos;
    while (pos < n) {
        size_t rem = n - pos;
        if (rem < 16 || all_zero(p + pos, rem))
            break; /* torn */
        uint64_t len = rd64(p + pos);
        if (len > rem - 16)
            break; /* runs past the end: torn */
        if (XXH3_64bits(p + pos, 8 + (size_t)len) != rd64(p + pos + 8 + len)) {
            if (pos + 16 + len == n)
                break; /* the last commit, torn */
            return damaged(why, why_len, "a commit's checksum does not match",
                           pos);
        }
        const uint8_t *q = p + pos + 8;
        for (size_t k = 0; k < len;) {
            jnl_op op;
            size_t used = parse_op(q + k, (size_t)len - k, &op);
            if (!used)
                return damaged(why, why_len, "a malformed operation",
                               pos + 8 + k);
            if (fn(ctx, &op))
                return WARD_ERR_USAGE;
            k += used;
        }
        pos += 16 + (size_t)len;
        *end = pos;
    }
    return WARD_OK;
}

/* ---- writing ---- */

static int reserve(jnl_buf *b, size_t more)
{
    if (b->cap - b->n >= more)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->n < more)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static void put(jnl_buf *b, const void *p, size_t n)
{
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

ward_err jnl_put(jnl_buf *b, const jnl_op *op)
{
    size_t hl = hash_len(op->type);
    size_t need = 5 + 15 + op->name_len + op->source_len + 3 + 32 + op->labels_len;
    if (op->name_len > JNL_MAX_NAME || op->source_len > JNL_MAX_SOURCE ||
        op->labels_len > UINT16_MAX)
        return WARD_ERR_TOO_BIG;
    if ((op->kind == JOP_ADD || op->kind == JOP_REMOVE) && !hl)
        return WARD_ERR_INVALID_ARG;
    if (reserve(b, need))
        return WARD_ERR_NOMEM;
    uint8_t kind = (uint8_t)op->kind;
    put(b, &kind, 1);
    put(b, &op->list, 4);
    switch (op->kind) {
    case JOP_LIST: {
        uint8_t nl = (uint8_t)op->name_len;
        uint16_t sl = (uint16_t)op->source_len;
        put(b, &op->format, 4);
        put(b, &op->created, 8);
        put(b, &nl, 1);
        put(b, &sl, 2);
        put(b, op->name, op->name_len);
        put(b, op->source, op->source_len);
        return WARD_OK;
    }
    case JOP_DROP:
        return WARD_OK;
    case JOP_ADD:
    case JOP_REMOVE: {
        uint8_t t = (uint8_t)op->type;
        put(b, &t, 1);
        if (op->kind == JOP_ADD) {
            uint16_t ll = (uint16_t)op->labels_len;
            put(b, &ll, 2);
        }
        put(b, op->hash, hl);
        if (op->kind == JOP_ADD)
            put(b, op->labels, op->labels_len);
        return WARD_OK;
    }
    default:
        b->n -= 5;
        return WARD_ERR_INVALID_ARG;
    }
}

void jnl_buf_free(jnl_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static int write_all(int fd, const void *p, size_t n, off_t off)
{
    const uint8_t *q = p;
    while (n) {
        ssize_t k = pwrite(fd, q, n, off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        q += k;
        n -= (size_t)k;
        off += k;
    }
    return 0;
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static ward_err read_fd(int fd, uint8_t **bytes, size_t *n)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return WARD_ERR_IO;
    size_t size = (size_t)st.st_size, got = 0;
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        return WARD_ERR_NOMEM;
    while (got < size) {
        ssize_t k = pread(fd, p + got, size - got, (off_t)got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            free(p);
            return WARD_ERR_IO;
        }
        if (k == 0)
            break; /* cut short meanwhile: what there is */
        got += (size_t)k;
    }
    *bytes = p;
    *n = got;
    return WARD_OK;
}

static int path_of(char *out, size_t n, const char *dir, const char *name)
{
    return snprintf(out, n, "%s/%s", dir, name) < (int)n ? 0 : -1;
}

ward_err jnl_load(const char *dir, uint8_t **bytes, size_t *n, char *why,
                  size_t why_len)
{
    char path[4096];
    *bytes = NULL;
    *n = 0;
    if (path_of(path, sizeof path, dir, JNL_FILE))
        return WARD_ERR_TOO_BIG;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return WARD_OK;
        if (why && why_len)
            snprintf(why, why_len, "cannot open %s: %s", path, strerror(errno));
        return WARD_ERR_IO;
    }
    ward_err e = read_fd(fd, bytes, n);
    close(fd);
    if (e == WARD_ERR_IO && why && why_len)
        snprintf(why, why_len, "cannot read %s", path);
    return e;
}

/* A commit as it goes into the file. */
static ward_err frame(const jnl_buf *payload, uint8_t **out, size_t *n)
{
    size_t total = 16 + payload->n;
    uint8_t *c = malloc(total);
    if (!c)
        return WARD_ERR_NOMEM;
    uint64_t len = payload->n;
    memcpy(c, &len, 8);
    if (payload->n)
        memcpy(c + 8, payload->p, payload->n);
    uint64_t h = XXH3_64bits(c, 8 + payload->n);
    memcpy(c + 8 + payload->n, &h, 8);
    *out = c;
    *n = total;
    return WARD_OK;
}

/* A new journal with one commit, renamed over whatever was there. */
static ward_err start_afresh(const char *dir, const char *path,
                             uint64_t index_id, const uint8_t *commit,
                             size_t n)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.new.XXXXXX", path) >= (int)sizeof tmp)
        return WARD_ERR_TOO_BIG;
    int fd = mkstemp(tmp);
    if (fd < 0)
        return WARD_ERR_IO;
    fchmod(fd, 0600);
    uint8_t h[JNL_HEADER];
    memcpy(h, magic, sizeof magic);
    memcpy(h + 8, &index_id, 8);
    uint64_t c = XXH3_64bits(h, 16);
    memcpy(h + 16, &c, 8);
    if (write_all(fd, h, sizeof h, 0) || write_all(fd, commit, n, JNL_HEADER) ||
        fsync(fd) != 0 || rename(tmp, path) != 0) {
        close(fd);
        unlink(tmp);
        return WARD_ERR_IO;
    }
    close(fd);
    return sync_dir(dir) ? WARD_ERR_IO : WARD_OK;
}

static int ignore_op(void *ctx, const jnl_op *op)
{
    (void)ctx;
    (void)op;
    return 0;
}

ward_err jnl_commit(const char *dir, uint64_t index_id, const jnl_buf *payload,
                    char *why, size_t why_len)
{
    char path[4096];
    if (path_of(path, sizeof path, dir, JNL_FILE))
        return WARD_ERR_TOO_BIG;
    uint8_t *commit = NULL, *old = NULL;
    size_t n = 0, old_n = 0, end = 0;
    ward_err e = frame(payload, &commit, &n);
    if (e)
        return e;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    uint64_t id = 0;
    if (fd < 0 && errno != ENOENT) {
        e = WARD_ERR_IO;
        if (why && why_len)
            snprintf(why, why_len, "cannot open %s: %s", path, strerror(errno));
        goto out;
    }
    if (fd >= 0 && (e = read_fd(fd, &old, &old_n)))
        goto out;
    if (fd < 0 || jnl_header(old, old_n, &id) || id != index_id) {
        /* None yet, or one that follows an older index file (a writer
         * stopped between renaming a new index in and removing it). */
        e = start_afresh(dir, path, index_id, commit, n);
        goto out;
    }
    /* Damage is never cut off: the set would lose acknowledged changes. */
    if ((e = jnl_read(old, old_n, ignore_op, NULL, &end, why, why_len)))
        goto out;
    if ((end < old_n && ftruncate(fd, (off_t)end) != 0) ||
        write_all(fd, commit, n, (off_t)end) || fdatasync(fd) != 0) {
        e = WARD_ERR_IO;
        if (why && why_len)
            snprintf(why, why_len, "cannot write %s: %s", path, strerror(errno));
    }
out:
    if (e == WARD_ERR_IO && why && why_len && !why[0])
        snprintf(why, why_len, "cannot write the journal in %s", dir);
    if (fd >= 0)
        close(fd);
    free(old);
    free(commit);
    return e;
}
