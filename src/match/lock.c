/* The writers' lock of a set's directory (match.h). Readers take no lock:
 * they map whichever index file is there and replay whichever journal. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "set_internal.h"

/* A writer killed while it wrote left its new index or journal beside the
 * old one: under the lock no writer is at work, so any such file is
 * garbage. */
static void remove_stale(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, SET_INDEX_FILE ".new.", sizeof SET_INDEX_FILE + 4) != 0 &&
            strncmp(e->d_name, JNL_FILE ".new.", sizeof JNL_FILE + 4) != 0)
            continue;
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path)
            unlink(path);
    }
    closedir(d);
}

static ward_err why_not(char *why, size_t n, ward_err e, const char *doing,
                        const char *what)
{
    if (why && n)
        snprintf(why, n, "%s%s: %s", doing, what, strerror(errno));
    return e;
}

ward_err ward_match_lock(const char *dir, int *fd, char *why, size_t why_len)
{
    *fd = -1;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return why_not(why, why_len, WARD_ERR_IO, "cannot create ", dir);
    char path[4096];
    if (snprintf(path, sizeof path, "%s/.lock", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return why_not(why, why_len, WARD_ERR_TOO_BIG, "", dir);
    }
    int l = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (l < 0)
        return why_not(why, why_len, WARD_ERR_IO, "cannot open ", path);
    while (flock(l, LOCK_EX) != 0) {
        if (errno != EINTR) {
            ward_err e = why_not(why, why_len, WARD_ERR_IO, "cannot lock ", path);
            close(l);
            return e;
        }
    }
    remove_stale(dir);
    *fd = l;
    return WARD_OK;
}

void ward_match_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* and with it the lock */
}
