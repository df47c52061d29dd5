/* The writers' lock of a list set directory (list_common.h). Readers
 * take no lock: they map whichever index file is there. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "list_common.h"

/* A writer killed while it wrote left its new index beside the old one:
 * under the lock no writer is at work, so any such file is garbage. */
static void remove_stale(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "index.wlx.new.", 14) != 0)
            continue;
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path)
            unlink(path);
    }
    closedir(d);
}

int list_lock_take(const char *dir, list_lock *l, char *why, size_t why_len)
{
    l->fd = -1;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(why, why_len, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    char path[4096];
    if (snprintf(path, sizeof path, "%s/.lock", dir) >= (int)sizeof path) {
        snprintf(why, why_len, "the directory name is too long");
        return -1;
    }
    l->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (l->fd < 0) {
        snprintf(why, why_len, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    while (flock(l->fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            snprintf(why, why_len, "cannot lock %s: %s", path, strerror(errno));
            close(l->fd);
            l->fd = -1;
            return -1;
        }
    }
    remove_stale(dir);
    return 0;
}

void list_lock_release(list_lock *l)
{
    if (l->fd >= 0)
        close(l->fd); /* and with it the lock */
    l->fd = -1;
}
