/* Reading a whole image file, for ward hash and ward match. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int cli_read_file(const char *path, uint64_t max, uint8_t **out, size_t *n,
                  char *why, size_t why_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        snprintf(why, why_len, "%s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > max) {
        snprintf(why, why_len, "%s",
                 S_ISREG(sb.st_mode) ? "larger than 1 GiB" : "not a file");
        close(fd);
        return -1;
    }
    size_t cap = (size_t)sb.st_size, got = 0;
    uint8_t *p = malloc(cap ? cap : 1);
    while (p && got < cap) {
        ssize_t k = read(fd, p + got, cap - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    if (!p || got != cap) {
        snprintf(why, why_len, "%s",
                 p ? "the file changed while it was read" : "out of memory");
        free(p);
        return -1;
    }
    *out = p;
    *n = got;
    return 0;
}

ward_hl_type cli_hl_type(const char *name)
{
    return strcmp(name, "pdq") == 0      ? WARD_HL_PDQ
           : strcmp(name, "md5") == 0    ? WARD_HL_MD5
           : strcmp(name, "sha256") == 0 ? WARD_HL_SHA256
                                         : 0;
}

void cli_lists_dir(const char *lists, const char *data, char *out, size_t cap)
{
    if (lists)
        snprintf(out, cap, "%s", lists);
    else
        snprintf(out, cap, "%s/lists", data ? data : "./ward-data");
}
