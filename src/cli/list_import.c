/*
 * `ward list import`: a whole list, read into a new index file with the
 * set's other lists (the journal's changes folded in), renamed over the
 * old one under the lock, so readers see the lists before or after.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "list_cmd.h"

typedef struct read_ctx {
    list_reader *r;
    int stopped;
} read_ctx;

static int on_entry(void *vc, const ward_hl_entry *e)
{
    read_ctx *c = vc;
    if (c->r->fn(c->r->ctx, e)) {
        c->stopped = 1;
        return 1;
    }
    return 0;
}

static void on_error(void *vc, uint64_t line, const char *why)
{
    read_ctx *c = vc;
    uint64_t shown = c->r->malformed++;
    if (shown < LIST_SHOWN_ERRORS) {
        char name[512];
        snprintf(name, sizeof name, "%s", c->r->file);
        cli_sanitize(name);
        fprintf(stderr, "%s:%llu: %s\n", name, (unsigned long long)line, why);
    }
}

/* Feeds the file (or stdin for "-") to the parser. */
static ward_err feed_file(const char *file, ward_hl_parser *p, char *why,
                          size_t wn)
{
    int fd = strcmp(file, "-") == 0 ? STDIN_FILENO : open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, wn, "cannot open %s: %s", file, strerror(errno));
        return WARD_ERR_IO;
    }
    static char buf[1 << 16];
    ward_err e = WARD_OK;
    for (;;) {
        ssize_t k = read(fd, buf, sizeof buf);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            snprintf(why, wn, "cannot read %s: %s", file, strerror(errno));
            e = WARD_ERR_IO;
            break;
        }
        if (k == 0) {
            e = ward_hl_parser_finish(p);
            break;
        }
        if ((e = ward_hl_parser_feed(p, buf, (size_t)k)))
            break;
    }
    if (fd != STDIN_FILENO)
        close(fd);
    return e;
}

int list_read(list_reader *r, const list_opts *o, int *stopped)
{
    read_ctx c = {r, 0};
    ward_hl_opts po = {o->format, o->type, o->strict};
    ward_hl_parser *p = NULL;
    char why[512] = "";
    *stopped = 0;
    ward_err e = ward_hl_parser_new(&po, on_entry, on_error, &c, &p);
    if (e) {
        cli_error("%s", ward_strerror(e));
        return CLI_FAIL;
    }
    e = feed_file(r->file, p, why, sizeof why);
    r->format = ward_hl_parser_format(p);
    ward_hl_parser_free(p);
    if (c.stopped) {
        *stopped = 1;
        return CLI_FAIL;
    }
    if (e == WARD_ERR_MALFORMED) {
        cli_error("%s is malformed (--strict): nothing changed", r->file);
        return CLI_FAIL;
    }
    if (e) {
        cli_error("%s", why[0] ? why : ward_strerror(e));
        return CLI_FAIL;
    }
    if (r->malformed > LIST_SHOWN_ERRORS)
        fprintf(stderr, "(and %llu more malformed lines)\n",
                (unsigned long long)(r->malformed - LIST_SHOWN_ERRORS));
    return CLI_OK;
}

int list_open_locked(const char *dir, int *lock, ward_match_set **s)
{
    char why[512] = "";
    *s = NULL;
    if (ward_match_lock(dir, lock, why, sizeof why)) {
        cli_error("%s", why);
        return CLI_FAIL;
    }
    ward_err e = ward_match_open(dir, s, why, sizeof why);
    if (e) {
        cli_error("cannot open the lists in %s: %s", dir,
                  why[0] ? why : ward_strerror(e));
        ward_match_unlock(*lock);
        *lock = -1;
        return CLI_FAIL;
    }
    return CLI_OK;
}

typedef struct import_ctx {
    ward_match_builder *b;
    uint64_t count[4]; /* by ward_hl_type */
    ward_err err;
} import_ctx;

static int import_entry(void *vc, const ward_hl_entry *e)
{
    import_ctx *c = vc;
    c->err = ward_match_builder_add(c->b, e);
    if (c->err)
        return 1;
    c->count[e->type]++;
    return 0;
}

int list_import(int argc, char **argv)
{
    list_opts o = {0};
    char *pos[2];
    int npos, rc = list_parse(argc, argv, &o, pos, &npos, 2);
    if (rc)
        return rc;
    if (npos != 2) {
        cli_error("usage: ward list import NAME FILE [options]");
        return CLI_USAGE;
    }
    const char *name = pos[0], *file = pos[1];
    if (!list_name_ok(name)) {
        cli_error("a list name is 1 to 64 of A-Z, a-z, 0-9, '.', '_', '-'");
        return CLI_USAGE;
    }
    int lock;
    ward_match_set *s;
    if (list_open_locked(o.dir, &lock, &s))
        return CLI_FAIL;
    ward_match_builder *b = NULL;
    rc = CLI_FAIL;
    ward_err e;
    if (ward_match_list_find(s, name) && !o.replace) {
        cli_error("a list named %s exists; --replace replaces it", name);
        goto out;
    }
    if ((e = ward_match_builder_new(&b)) ||
        (e = ward_match_builder_copy(b, s, name)) ||
        (e = ward_match_builder_list(b, name, o.source ? o.source : "",
                                     o.format, (uint64_t)time(NULL)))) {
        cli_error("cannot copy the other lists: %s", ward_strerror(e));
        goto out;
    }
    import_ctx c = {b, {0}, WARD_OK};
    list_reader r = {file, import_entry, &c, 0, WARD_HL_AUTO};
    int stopped;
    if (list_read(&r, &o, &stopped)) {
        if (stopped)
            cli_error("cannot add the entries: %s", ward_strerror(c.err));
        goto out;
    }
    /* Export writes the list back in the format it came in. */
    ward_match_builder_set_format(b, r.format);
    if ((e = ward_match_builder_write(b, o.dir))) {
        cli_error("cannot write the index in %s: %s", o.dir, ward_strerror(e));
        goto out;
    }
    printf("%s: %llu entries (%llu PDQ, %llu MD5, %llu SHA-256) from %s "
           "(%s format)",
           name,
           (unsigned long long)(c.count[1] + c.count[2] + c.count[3]),
           (unsigned long long)c.count[WARD_HL_PDQ],
           (unsigned long long)c.count[WARD_HL_MD5],
           (unsigned long long)c.count[WARD_HL_SHA256], file,
           ward_hl_format_name(r.format));
    if (r.malformed)
        printf("; %llu malformed lines skipped", (unsigned long long)r.malformed);
    printf("\n");
    rc = CLI_OK;
out:
    ward_match_builder_free(b);
    ward_match_close(s);
    ward_match_unlock(lock);
    return rc;
}
