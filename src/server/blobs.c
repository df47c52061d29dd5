/* Attachment files: see blobs.h. Every path is relative to directory file
 * descriptors opened once, so a renamed data directory cannot redirect a
 * write elsewhere mid-run. */
#define _GNU_SOURCE
#include "blobs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ward/crypto.h"

/* Hand written data to the kernel's writeback every this many bytes, so
 * the fsync at the end of a large upload has little left to do and does
 * not stall the event loop for long. */
#define WRITEBACK_STEP (8u << 20)

struct ward_blobs {
    int dir;  /* DIR/blobs */
    int tmp;  /* DIR/blobs/tmp */
};

int ward_blobs_id_valid(const char *id)
{
    size_t i = 0;
    for (; id[i] && i <= WARD_BLOB_ID_LEN; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return 0;
    return i == WARD_BLOB_ID_LEN;
}

static int open_dir_at(int at, const char *name)
{
    if (mkdirat(at, name, 0700) == 0) {
        /* A new directory lasts once its parent's entry does. */
        if (fsync(at) != 0)
            return -1;
    } else if (errno != EEXIST) {
        return -1;
    }
    return openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Deletes what a crash left in tmp/: uploads never acknowledged. */
static void empty_tmp(int tmp)
{
    int fd = dup(tmp);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (ward_blobs_id_valid(e->d_name))
            (void)unlinkat(tmp, e->d_name, 0);
    closedir(d);
}

ward_err ward_blobs_open(ward_blobs **out, const char *data_dir)
{
    ward_blobs *b = calloc(1, sizeof *b);
    if (!b)
        return WARD_ERR_NOMEM;
    b->dir = b->tmp = -1;
    int top = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (top >= 0)
        b->dir = open_dir_at(top, "blobs");
    if (b->dir >= 0)
        b->tmp = open_dir_at(b->dir, "tmp");
    if (top >= 0)
        close(top);
    if (b->tmp < 0) {
        ward_blobs_close(b);
        return WARD_ERR_IO;
    }
    empty_tmp(b->tmp);
    *out = b;
    return WARD_OK;
}

void ward_blobs_close(ward_blobs *b)
{
    if (!b)
        return;
    if (b->dir >= 0)
        close(b->dir);
    if (b->tmp >= 0)
        close(b->tmp);
    free(b);
}

ward_err ward_blobs_begin(ward_blobs *b, ward_blob_upload *u)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t r[WARD_BLOB_ID_LEN / 2];
    memset(u, 0, sizeof *u);
    u->fd = -1;
    for (int attempt = 0; attempt < 4; attempt++) {
        ward_random(r, sizeof r);
        for (size_t i = 0; i < sizeof r; i++) {
            u->id[2 * i] = hex[r[i] >> 4];
            u->id[2 * i + 1] = hex[r[i] & 15];
        }
        u->id[WARD_BLOB_ID_LEN] = 0;
        u->fd = openat(b->tmp, u->id, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                       0600);
        if (u->fd >= 0 || errno != EEXIST)
            break;
    }
    return u->fd >= 0 ? WARD_OK : WARD_ERR_IO;
}

ward_err ward_blobs_write(ward_blobs *b, ward_blob_upload *u, const void *p,
                          size_t n)
{
    (void)b;
    const uint8_t *q = p;
    if (u->fd < 0)
        return WARD_ERR_BAD_STATE;
    while (n) {
        ssize_t w = write(u->fd, q, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return WARD_ERR_IO;
        }
        q += w;
        n -= (size_t)w;
        u->written += (uint64_t)w;
    }
    if (u->written - u->synced >= WRITEBACK_STEP) {
        /* Starts writeback without waiting for it. */
        (void)sync_file_range(u->fd, (off_t)u->synced,
                              (off_t)(u->written - u->synced),
                              SYNC_FILE_RANGE_WRITE);
        u->synced = u->written;
    }
    return WARD_OK;
}

static void sub_dir(const char *id, char out[3])
{
    out[0] = id[0];
    out[1] = id[1];
    out[2] = 0;
}

ward_err ward_blobs_commit(ward_blobs *b, ward_blob_upload *u)
{
    char sub[3];
    if (u->fd < 0)
        return WARD_ERR_BAD_STATE;
    sub_dir(u->id, sub);
    int ok = fsync(u->fd) == 0;
    ok = close(u->fd) == 0 && ok;
    u->fd = -1;
    int d = ok ? open_dir_at(b->dir, sub) : -1;
    if (d >= 0) {
        ok = renameat(b->tmp, u->id, d, u->id) == 0;
        /* The rename is durable once its directory is. */
        ok = ok && fsync(d) == 0;
        close(d);
    } else {
        ok = 0;
    }
    if (!ok) {
        (void)unlinkat(b->tmp, u->id, 0);
        u->id[0] = 0;
        return WARD_ERR_IO;
    }
    return WARD_OK;
}

void ward_blobs_abort(ward_blobs *b, ward_blob_upload *u)
{
    if (u->fd >= 0) {
        close(u->fd);
        u->fd = -1;
        (void)unlinkat(b->tmp, u->id, 0);
    }
    u->id[0] = 0;
}

ward_err ward_blobs_read(ward_blobs *b, const char *id, int *fd,
                         uint64_t *size)
{
    char path[3 + WARD_BLOB_ID_LEN + 1];
    if (!ward_blobs_id_valid(id))
        return WARD_ERR_INVALID_ARG;
    snprintf(path, sizeof path, "%c%c/%s", id[0], id[1], id);
    int f = openat(b->dir, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (f < 0)
        return errno == ENOENT ? WARD_ERR_NOT_FOUND : WARD_ERR_IO;
    struct stat st;
    if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(f);
        return WARD_ERR_IO;
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
    return WARD_OK;
}

ward_err ward_blobs_remove(ward_blobs *b, const char *id)
{
    char path[3 + WARD_BLOB_ID_LEN + 1];
    if (!ward_blobs_id_valid(id))
        return WARD_ERR_INVALID_ARG;
    snprintf(path, sizeof path, "%c%c/%s", id[0], id[1], id);
    if (unlinkat(b->dir, path, 0) != 0)
        return errno == ENOENT ? WARD_ERR_NOT_FOUND : WARD_ERR_IO;
    return WARD_OK;
}
