/* The index file's container: see ixfile.h for the layout. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MADV_HUGEPAGE */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "ixfile.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "index files are little-endian and mapped as they are"
#endif

static const char magic[8] = {'W', 'A', 'R', 'D', 'L', 'I', 'X', '1'};
#define VERSION 1
#define SECTION_BYTES 32

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static ward_err fail(char *why, size_t n, const char *msg)
{
    if (why && n)
        snprintf(why, n, "%s", msg);
    return WARD_ERR_BAD_STATE;
}

/* A kind listed in |kinds|. */
static int listed(uint32_t kind, const uint32_t *kinds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (kinds[i] == kind)
            return 1;
    return 0;
}

/* ix_open_mem's checks, but the checksums of the sections of |skip|'s
 * kinds are left to the caller. */
static ward_err parse(const uint8_t *p, size_t size, ix_file *f,
                      const uint32_t *skip, size_t n_skip, char *why,
                      size_t why_len)
{
    memset(f, 0, sizeof *f);
    if (size < IX_HEADER_BYTES)
        return fail(why, why_len, "shorter than an index file's header");
    if (memcmp(p, magic, sizeof magic) != 0)
        return fail(why, why_len, "not a ward index file (bad magic)");
    if (rd32(p + 8) != VERSION)
        return fail(why, why_len, "an index file version this ward does "
                                  "not read");
    uint32_t n = rd32(p + 12);
    if (n > IX_MAX_SECTIONS)
        return fail(why, why_len, "the header names too many sections");
    size_t hdr = 32 + (size_t)n * SECTION_BYTES;
    if (XXH3_64bits(p, hdr) != rd64(p + hdr))
        return fail(why, why_len, "the header's checksum does not match");
    f->id = rd64(p + hdr);
    if (rd64(p + 16) != size)
        return fail(why, why_len, size < rd64(p + 16)
                                      ? "the file is truncated"
                                      : "the file is longer than its header "
                                        "says");
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *s = p + 32 + (size_t)i * SECTION_BYTES;
        ix_section *x = &f->s[i];
        x->kind = rd32(s);
        x->off = rd64(s + 8);
        x->len = rd64(s + 16);
        x->check = rd64(s + 24);
        if (x->off < IX_HEADER_BYTES || x->off % IX_ALIGN || x->off > size ||
            x->len > size - x->off)
            return fail(why, why_len, "a section lies outside the file");
        for (uint32_t j = 0; j < i; j++)
            if (f->s[j].kind == x->kind)
                return fail(why, why_len, "a section appears twice");
        if (!listed(x->kind, skip, n_skip) &&
            XXH3_64bits(p + x->off, x->len) != x->check)
            return fail(why, why_len, "a section's checksum does not match "
                                      "(the file is corrupt)");
    }
    f->map = p;
    f->size = size;
    f->n = n;
    return WARD_OK;
}

ward_err ix_open_mem(const void *bytes, size_t size, ix_file *f, char *why,
                     size_t why_len)
{
    return parse(bytes, size, f, NULL, 0, why, why_len);
}

#define HUGE_PAGE ((size_t)2 << 20)

/* A read-only shared mapping of |fd| that starts at a 2 MiB boundary and
 * asks for huge pages. Where the page cache holds the file in 2 MiB
 * folios (file systems with large folios, such as ext4 on Linux 6.18
 * where this was measured, for a file written 2 MiB at a time, as
 * ix_writer does, or first read in through such a mapping), the kernel
 * maps each with one page table entry instead of 512, and scattered reads
 * miss the TLB far less; the pages stay the page cache's, shared by every
 * process. Elsewhere it is an ordinary mapping, nothing lost. */
static void *map_huge(int fd, size_t size)
{
    size_t span = size + HUGE_PAGE;
    uint8_t *r = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, 0);
    if (r == MAP_FAILED)
        return MAP_FAILED;
    uint8_t *a = (uint8_t *)(((uintptr_t)r + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
    if (mmap(a, size, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) {
        munmap(r, span);
        return MAP_FAILED;
    }
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t used = (size + page - 1) / page * page;
    if (a > r)
        munmap(r, (size_t)(a - r));
    if (r + span > a + used)
        munmap(a + used, (size_t)(r + span - (a + used)));
#ifdef MADV_HUGEPAGE
    madvise(a, size, MADV_HUGEPAGE);
#endif
    return a;
}

/* Opens and maps |path| read-only; *fd stays open for the caller. */
static ward_err map_file(const char *path, int *fd, const uint8_t **map,
                         size_t *size, char *why, size_t why_len)
{
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) {
        if (why && why_len)
            snprintf(why, why_len, "cannot open: %s", strerror(errno));
        return errno == ENOENT ? WARD_ERR_NOT_FOUND : WARD_ERR_IO;
    }
    struct stat st;
    if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(*fd);
        if (why && why_len)
            snprintf(why, why_len, "not a regular file");
        return WARD_ERR_IO;
    }
    *size = (size_t)st.st_size;
    if (*size < IX_HEADER_BYTES) {
        close(*fd);
        return fail(why, why_len, "shorter than an index file's header");
    }
    void *m = map_huge(*fd, *size);
    if (m == MAP_FAILED) {
        close(*fd);
        if (why && why_len)
            snprintf(why, why_len, "cannot map: %s", strerror(errno));
        return WARD_ERR_IO;
    }
    *map = m;
    return WARD_OK;
}

ward_err ix_open(const char *path, ix_file *f, char *why, size_t why_len)
{
    memset(f, 0, sizeof *f);
    int fd;
    const uint8_t *m;
    size_t size;
    ward_err e = map_file(path, &fd, &m, &size, why, why_len);
    if (e)
        return e;
    close(fd);
    /* Read through once to check it: ask for the pages in bulk. */
    posix_madvise((void *)m, size, POSIX_MADV_WILLNEED);
    e = ix_open_mem(m, size, f, why, why_len);
    if (e) {
        munmap((void *)m, size);
        return e;
    }
    f->mapped = 1;
    return WARD_OK;
}

/* Read and checksummed a piece at a time, the piece still in the cache
 * when it is hashed: one pass over the bytes, not two. */
#define COPY_CHUNK ((size_t)256 << 10)

/* |n| bytes of zeroed memory at a 2 MiB boundary, its length rounded up
 * to whole 2 MiB pages in *len: the kernel can only back aligned 2 MiB
 * ranges with huge pages. */
static uint8_t *huge_alloc(size_t n, size_t *len)
{
    size_t want = (n + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    size_t span = want + HUGE_PAGE;
    uint8_t *p = mmap(NULL, span, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uint8_t *a = (uint8_t *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
    if (a > p)
        munmap(p, (size_t)(a - p));
    if (p + span > a + want)
        munmap(a + want, (size_t)(p + span - (a + want)));
#ifdef MADV_HUGEPAGE
    /* Only advice: without it (THP off, or no huge page free) the copy
     * works the same on 4 KiB pages. */
    madvise(a, want, MADV_HUGEPAGE);
#endif
    *len = want;
    return a;
}

/* Section |x| of the file |fd| into |dst|, hashed on the way. */
static ward_err copy_section(int fd, const ix_section *x, uint8_t *dst,
                             XXH3_state_t *xx, char *why, size_t why_len)
{
    XXH3_64bits_reset(xx);
    uint64_t done = 0;
    while (done < x->len) {
        size_t want = x->len - done < COPY_CHUNK ? (size_t)(x->len - done)
                                                 : COPY_CHUNK;
        ssize_t k = pread(fd, dst + done, want, (off_t)(x->off + done));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            if (why && why_len)
                snprintf(why, why_len, "cannot read: %s",
                         k < 0 ? strerror(errno) : "the file shrank");
            return WARD_ERR_IO;
        }
        XXH3_64bits_update(xx, dst + done, (size_t)k);
        done += (uint64_t)k;
    }
    if (XXH3_64bits_digest(xx) != x->check)
        return fail(why, why_len, "a section's checksum does not match "
                                  "(the file is corrupt)");
    return WARD_OK;
}

ward_err ix_open_copy(const char *path, ix_file *f, const uint32_t *kinds,
                      size_t n_kinds, char *why, size_t why_len)
{
    memset(f, 0, sizeof *f);
    int fd;
    const uint8_t *m;
    size_t size;
    ward_err e = map_file(path, &fd, &m, &size, why, why_len);
    if (e)
        return e;
    /* The copied sections are read with pread, not through the mapping:
     * this process then never maps their pages at all. */
    e = parse(m, size, f, kinds, n_kinds, why, why_len);
    size_t total = 0;
    for (uint32_t i = 0; !e && i < f->n; i++)
        if (listed(f->s[i].kind, kinds, n_kinds))
            total += (f->s[i].len + IX_ALIGN - 1) / IX_ALIGN * IX_ALIGN;
    XXH3_state_t *xx = NULL;
    if (!e && total) {
        xx = XXH3_createState();
        f->copy = huge_alloc(total, &f->copy_len);
        if (!xx || !f->copy) {
            f->copy = NULL;
            e = WARD_ERR_NOMEM;
        }
    }
    size_t at = 0;
    for (uint32_t i = 0; !e && i < f->n && total; i++) {
        ix_section *x = &f->s[i];
        if (!listed(x->kind, kinds, n_kinds))
            continue;
        e = copy_section(fd, x, f->copy + at, xx, why, why_len);
        x->copy = f->copy + at;
        at += (x->len + IX_ALIGN - 1) / IX_ALIGN * IX_ALIGN;
    }
    XXH3_freeState(xx);
    close(fd);
    if (e) {
        if (f->copy)
            munmap(f->copy, f->copy_len);
        munmap((void *)m, size);
        memset(f, 0, sizeof *f);
        return e;
    }
    /* Nothing writes to it again. */
    if (f->copy)
        mprotect(f->copy, f->copy_len, PROT_READ);
    f->map = m;
    f->size = size;
    f->mapped = 1;
    return WARD_OK;
}

const void *ix_get(const ix_file *f, uint32_t kind, uint64_t *len)
{
    for (uint32_t i = 0; i < f->n; i++)
        if (f->s[i].kind == kind) {
            if (len)
                *len = f->s[i].len;
            return f->s[i].copy ? f->s[i].copy : f->map + f->s[i].off;
        }
    return NULL;
}

void ix_close(ix_file *f)
{
    if (f->map && f->mapped)
        munmap((void *)f->map, f->size);
    if (f->copy)
        munmap(f->copy, f->copy_len);
    memset(f, 0, sizeof *f);
}

/* ---- writing ---- */

/* Written 2 MiB at a time from offset 0, so every write is a whole,
 * aligned 2 MiB: the page cache can then hold the file as 2 MiB folios,
 * which readers map as huge pages (map_huge). */
#define WBUF (2 << 20)

struct ix_writer {
    int fd;
    char *path, *tmp;
    uint64_t off;
    uint32_t n;
    int in_section;
    ix_section s[IX_MAX_SECTIONS];
    XXH3_state_t *xx;
    uint8_t *buf;
    size_t used;
};

static ward_err flush(ix_writer *w)
{
    size_t done = 0;
    while (done < w->used) {
        ssize_t k = write(w->fd, w->buf + done, w->used - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return WARD_ERR_IO;
        done += (size_t)k;
    }
    w->used = 0;
    return WARD_OK;
}

static ward_err put(ix_writer *w, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        size_t k = WBUF - w->used < n ? WBUF - w->used : n;
        memcpy(w->buf + w->used, b, k);
        w->used += k, b += k, n -= k;
        w->off += k;
        if (w->used == WBUF && flush(w))
            return WARD_ERR_IO;
    }
    return WARD_OK;
}

ward_err ix_writer_new(const char *path, ix_writer **out)
{
    ix_writer *w = calloc(1, sizeof *w);
    if (!w)
        return WARD_ERR_NOMEM;
    w->fd = -1;
    size_t pl = strlen(path);
    w->path = strdup(path);
    w->tmp = malloc(pl + 16);
    w->buf = malloc(WBUF);
    w->xx = XXH3_createState();
    if (!w->path || !w->tmp || !w->buf || !w->xx) {
        ix_abort(w);
        return WARD_ERR_NOMEM;
    }
    snprintf(w->tmp, pl + 16, "%s.new.XXXXXX", path);
    w->fd = mkstemp(w->tmp);
    if (w->fd < 0) {
        free(w->tmp);
        w->tmp = NULL;
        ix_abort(w);
        return WARD_ERR_IO;
    }
    /* Lists of known abuse images are not for everyone to read. */
    fchmod(w->fd, 0600);
    static const uint8_t zero[IX_HEADER_BYTES];
    if (put(w, zero, sizeof zero)) {
        ix_abort(w);
        return WARD_ERR_IO;
    }
    *out = w;
    return WARD_OK;
}

ward_err ix_begin(ix_writer *w, uint32_t kind)
{
    if (w->in_section || w->n == IX_MAX_SECTIONS)
        return WARD_ERR_INVALID_ARG;
    static const uint8_t zero[IX_ALIGN];
    if (w->off % IX_ALIGN && put(w, zero, IX_ALIGN - w->off % IX_ALIGN))
        return WARD_ERR_IO;
    w->s[w->n] = (ix_section){kind, w->off, 0, 0, NULL};
    w->in_section = 1;
    XXH3_64bits_reset(w->xx);
    return WARD_OK;
}

ward_err ix_write(ix_writer *w, const void *p, size_t n)
{
    if (!w->in_section)
        return WARD_ERR_INVALID_ARG;
    XXH3_64bits_update(w->xx, p, n);
    return put(w, p, n);
}

ward_err ix_end(ix_writer *w)
{
    if (!w->in_section)
        return WARD_ERR_INVALID_ARG;
    ix_section *s = &w->s[w->n++];
    s->len = w->off - s->off;
    s->check = XXH3_64bits_digest(w->xx);
    w->in_section = 0;
    return WARD_OK;
}

static int sync_dir(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return -1;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

ward_err ix_commit(ix_writer *w)
{
    ward_err e = WARD_OK;
    if (w->in_section || flush(w)) {
        ix_abort(w);
        return WARD_ERR_IO;
    }
    uint8_t h[IX_HEADER_BYTES] = {0};
    memcpy(h, magic, sizeof magic);
    uint32_t v = VERSION, n = w->n;
    memcpy(h + 8, &v, 4);
    memcpy(h + 12, &n, 4);
    memcpy(h + 16, &w->off, 8);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *s = h + 32 + (size_t)i * SECTION_BYTES;
        memcpy(s, &w->s[i].kind, 4);
        memcpy(s + 8, &w->s[i].off, 8);
        memcpy(s + 16, &w->s[i].len, 8);
        memcpy(s + 24, &w->s[i].check, 8);
    }
    size_t hdr = 32 + (size_t)n * SECTION_BYTES;
    uint64_t hc = XXH3_64bits(h, hdr);
    memcpy(h + hdr, &hc, 8);
    if (pwrite(w->fd, h, sizeof h, 0) != (ssize_t)sizeof h ||
        fsync(w->fd) != 0 || rename(w->tmp, w->path) != 0) {
        ix_abort(w);
        return WARD_ERR_IO;
    }
    if (sync_dir(w->path) != 0)
        e = WARD_ERR_IO;
    free(w->tmp);
    w->tmp = NULL;
    ix_abort(w);
    return e;
}

void ix_abort(ix_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (w->tmp)
        unlink(w->tmp);
    free(w->tmp);
    free(w->path);
    free(w->buf);
    if (w->xx)
        XXH3_freeState(w->xx);
    free(w);
}
