/*
 * `ward list`: the operator's hash lists. Every change rebuilds the set's
 * index file beside the old one and renames it over, under a lock, so
 * readers (ward match, ward serve) see the old set or the new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "list_common.h"
#include "ward/hashlist.h"
#include "ward/match.h"

/* The first this many malformed lines are printed; the rest counted. */
#define SHOWN_ERRORS 20

typedef struct list_opts {
    const char *dir;
    ward_hl_format format;
    ward_hl_type type;
    const char *source, *out;
    int strict, replace;
} list_opts;

static int parse_common(int argc, char **argv, list_opts *o, char **pos,
                        int *npos, int maxpos)
{
    static char dirbuf[4096];
    const char *data = NULL, *lists = NULL;
    *npos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int has_value = strcmp(a, "--data") == 0 || strcmp(a, "--lists") == 0 ||
                        strcmp(a, "--format") == 0 || strcmp(a, "--type") == 0 ||
                        strcmp(a, "--source") == 0 || strcmp(a, "-o") == 0;
        if (has_value) {
            if (i + 1 >= argc) {
                cli_error("option '%s' needs a value", a);
                return CLI_USAGE;
            }
            const char *v = argv[++i];
            if (strcmp(a, "--data") == 0) {
                data = v;
            } else if (strcmp(a, "--lists") == 0) {
                lists = v;
            } else if (strcmp(a, "--format") == 0) {
                o->format = ward_hl_format_from_name(v);
                if (!o->format && strcmp(v, "auto") != 0) {
                    cli_error("--format is auto, reference, te or te-csv");
                    return CLI_USAGE;
                }
            } else if (strcmp(a, "--type") == 0) {
                if (!(o->type = cli_hl_type(v))) {
                    cli_error("--type is pdq, md5 or sha256");
                    return CLI_USAGE;
                }
            } else if (strcmp(a, "--source") == 0) {
                o->source = v;
            } else {
                o->out = v;
            }
        } else if (strcmp(a, "--strict") == 0) {
            o->strict = 1;
        } else if (strcmp(a, "--replace") == 0) {
            o->replace = 1;
        } else if (a[0] == '-' && a[1]) {
            cli_error("unknown option '%s'; see 'ward help list'", a);
            return CLI_USAGE;
        } else if (*npos < maxpos) {
            pos[(*npos)++] = argv[i];
        } else {
            cli_error("unexpected argument '%s'; see 'ward help list'", a);
            return CLI_USAGE;
        }
    }
    cli_lists_dir(lists, data, dirbuf, sizeof dirbuf);
    o->dir = dirbuf;
    return CLI_OK;
}

/* Names: what a file name and a terminal can hold without surprises. */
static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* ---- import ---- */

typedef struct import_ctx {
    ward_match_builder *b;
    const char *file;
    uint64_t count[4]; /* by ward_hl_type */
    uint64_t malformed;
    ward_err err;
} import_ctx;

static int on_entry(void *vc, const ward_hl_entry *e)
{
    import_ctx *c = vc;
    c->err = ward_match_builder_add(c->b, e);
    if (c->err)
        return 1;
    c->count[e->type]++;
    return 0;
}

static void on_error(void *vc, uint64_t line, const char *why)
{
    import_ctx *c = vc;
    uint64_t shown = c->malformed++;
    if (shown < SHOWN_ERRORS) {
        char name[512];
        snprintf(name, sizeof name, "%s", c->file);
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

static int cmd_import(int argc, char **argv)
{
    list_opts o = {0};
    char *pos[2];
    int npos, rc = parse_common(argc, argv, &o, pos, &npos, 2);
    if (rc)
        return rc;
    if (npos != 2) {
        cli_error("usage: ward list import NAME FILE [options]");
        return CLI_USAGE;
    }
    const char *name = pos[0], *file = pos[1];
    if (!name_ok(name)) {
        cli_error("a list name is 1 to 64 of A-Z, a-z, 0-9, '.', '_', '-'");
        return CLI_USAGE;
    }
    char why[512] = "";
    list_lock lock;
    if (list_lock_take(o.dir, &lock, why, sizeof why)) {
        cli_error("%s", why);
        return CLI_FAIL;
    }
    ward_match_set *s = NULL;
    ward_match_builder *b = NULL;
    ward_hl_parser *p = NULL;
    rc = CLI_FAIL;
    ward_err e = ward_match_open(o.dir, &s, why, sizeof why);
    if (e) {
        cli_error("cannot open the lists in %s: %s", o.dir,
                  why[0] ? why : ward_strerror(e));
        goto out;
    }
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
    import_ctx c = {b, file, {0}, 0, WARD_OK};
    ward_hl_opts po = {o.format, o.type, o.strict};
    if ((e = ward_hl_parser_new(&po, on_entry, on_error, &c, &p))) {
        cli_error("%s", ward_strerror(e));
        goto out;
    }
    e = feed_file(file, p, why, sizeof why);
    if (e == WARD_ERR_MALFORMED) {
        cli_error("%s is malformed (--strict): nothing imported", file);
        goto out;
    }
    if (c.err) {
        cli_error("cannot add the entries: %s", ward_strerror(c.err));
        goto out;
    }
    if (e) {
        cli_error("%s", why[0] ? why : ward_strerror(e));
        goto out;
    }
    if (c.malformed > SHOWN_ERRORS)
        fprintf(stderr, "(and %llu more malformed lines)\n",
                (unsigned long long)(c.malformed - SHOWN_ERRORS));
    /* Export writes the list back in the format it came in. */
    ward_match_builder_set_format(b, ward_hl_parser_format(p));
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
           ward_hl_format_name(ward_hl_parser_format(p)));
    if (c.malformed)
        printf("; %llu malformed lines skipped", (unsigned long long)c.malformed);
    printf("\n");
    rc = CLI_OK;
out:
    ward_hl_parser_free(p);
    ward_match_builder_free(b);
    ward_match_close(s);
    list_lock_release(&lock);
    return rc;
}

/* ---- rm ---- */

static int cmd_rm(int argc, char **argv)
{
    list_opts o = {0};
    char *pos[1];
    int npos, rc = parse_common(argc, argv, &o, pos, &npos, 1);
    if (rc)
        return rc;
    if (npos != 1) {
        cli_error("usage: ward list rm NAME");
        return CLI_USAGE;
    }
    char why[512] = "";
    list_lock lock;
    if (list_lock_take(o.dir, &lock, why, sizeof why)) {
        cli_error("%s", why);
        return CLI_FAIL;
    }
    ward_match_set *s = NULL;
    ward_match_builder *b = NULL;
    rc = CLI_FAIL;
    ward_err e = ward_match_open(o.dir, &s, why, sizeof why);
    if (e) {
        cli_error("cannot open the lists in %s: %s", o.dir,
                  why[0] ? why : ward_strerror(e));
        goto out;
    }
    if (!ward_match_list_find(s, pos[0])) {
        cli_error("no list named %s", pos[0]);
        goto out;
    }
    if ((e = ward_match_builder_new(&b)) ||
        (e = ward_match_builder_copy(b, s, pos[0])) ||
        (e = ward_match_builder_write(b, o.dir))) {
        cli_error("cannot rewrite the index: %s", ward_strerror(e));
        goto out;
    }
    printf("%s removed\n", pos[0]);
    rc = CLI_OK;
out:
    ward_match_builder_free(b);
    ward_match_close(s);
    list_lock_release(&lock);
    return rc;
}

/* ---- ls and export ---- */

static int cmd_ls(int argc, char **argv)
{
    list_opts o = {0};
    int npos, rc = parse_common(argc, argv, &o, NULL, &npos, 0);
    if (rc)
        return rc;
    char why[512] = "";
    ward_match_set *s;
    ward_err e = ward_match_open(o.dir, &s, why, sizeof why);
    if (e) {
        cli_error("cannot open the lists in %s: %s", o.dir,
                  why[0] ? why : ward_strerror(e));
        return CLI_FAIL;
    }
    printf("%-24s %10s %10s %10s  %-10s %-10s %s\n", "NAME", "PDQ", "MD5",
           "SHA-256", "FORMAT", "IMPORTED", "SOURCE");
    for (size_t i = 0; i < ward_match_list_count(s); i++) {
        const ward_match_list *l = ward_match_list_at(s, i);
        char day[16] = "?", source[256];
        time_t t = (time_t)l->created;
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(day, sizeof day, "%Y-%m-%d", &tm);
        snprintf(source, sizeof source, "%s", l->source);
        cli_sanitize(source);
        printf("%-24s %10llu %10llu %10llu  %-10s %-10s %s\n", l->name,
               (unsigned long long)l->count[WARD_HL_PDQ],
               (unsigned long long)l->count[WARD_HL_MD5],
               (unsigned long long)l->count[WARD_HL_SHA256],
               ward_hl_format_name(l->format), day, source);
    }
    ward_match_close(s);
    return CLI_OK;
}

typedef struct export_ctx {
    FILE *out;
    ward_hl_format format;
    int failed;
} export_ctx;

static int export_one(void *vc, const ward_hl_entry *e)
{
    export_ctx *c = vc;
    char line[2 * WARD_HL_MAX_LINE];
    size_t k = ward_hl_format_entry(c->format, e, line, sizeof line);
    if (!k || fwrite(line, 1, k, c->out) != k) {
        c->failed = 1;
        return 1;
    }
    return 0;
}

static int cmd_export(int argc, char **argv)
{
    list_opts o = {0};
    char *pos[1];
    int npos, rc = parse_common(argc, argv, &o, pos, &npos, 1);
    if (rc)
        return rc;
    if (npos != 1) {
        cli_error("usage: ward list export NAME [--format F] [-o FILE]");
        return CLI_USAGE;
    }
    char why[512] = "";
    ward_match_set *s;
    ward_err e = ward_match_open(o.dir, &s, why, sizeof why);
    if (e) {
        cli_error("cannot open the lists in %s: %s", o.dir,
                  why[0] ? why : ward_strerror(e));
        return CLI_FAIL;
    }
    const ward_match_list *l = ward_match_list_find(s, pos[0]);
    if (!l) {
        cli_error("no list named %s", pos[0]);
        ward_match_close(s);
        return CLI_FAIL;
    }
    /* In the list's own format unless told otherwise. */
    ward_hl_format f = o.format ? o.format : l->format ? l->format : WARD_HL_REFERENCE;
    FILE *out = stdout;
    if (o.out && !(out = fopen(o.out, "w"))) {
        cli_error("cannot write %s: %s", o.out, strerror(errno));
        ward_match_close(s);
        return CLI_FAIL;
    }
    export_ctx c = {out, f, 0};
    fputs(ward_hl_header(f), out);
    ward_match_list_entries(s, l->id, export_one, &c);
    if (fflush(out) != 0 || ferror(out))
        c.failed = 1;
    if (out != stdout && fclose(out) != 0)
        c.failed = 1;
    ward_match_close(s);
    if (c.failed) {
        cli_error("cannot write the list");
        return CLI_FAIL;
    }
    return CLI_OK;
}

int cli_list(int argc, char **argv)
{
    if (argc < 2) {
        cli_error("usage: ward list import|export|ls|rm ...; see 'ward help list'");
        return CLI_USAGE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "import") == 0)
        return cmd_import(argc - 2, argv + 2);
    if (strcmp(sub, "export") == 0)
        return cmd_export(argc - 2, argv + 2);
    if (strcmp(sub, "ls") == 0)
        return cmd_ls(argc - 2, argv + 2);
    if (strcmp(sub, "rm") == 0)
        return cmd_rm(argc - 2, argv + 2);
    cli_error("unknown list command '%s'; see 'ward help list'", sub);
    return CLI_USAGE;
}
