/*
 * `ward list`: the operator's hash lists: options, ls, export, and the
 * subcommands' table. Writers take the set's lock; an import writes a new
 * index file (list_import.c), the other changes go through the journal
 * (list_change.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "list_cmd.h"

int list_parse(int argc, char **argv, list_opts *o, char **pos,
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

int list_name_ok(const char *s)
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

/* ---- ls and export ---- */

static int cmd_ls(int argc, char **argv)
{
    list_opts o = {0};
    int npos, rc = list_parse(argc, argv, &o, NULL, &npos, 0);
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
    ward_match_stats st;
    ward_match_stats_get(s, &st);
    if (st.journal_ops)
        printf("journal: %llu change%s since the index was built (%llu entries "
               "added, %llu taken out); 'ward list compact' folds them in\n",
               (unsigned long long)st.journal_ops, st.journal_ops == 1 ? "" : "s",
               (unsigned long long)st.journal_entries,
               (unsigned long long)st.hidden);
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
    int npos, rc = list_parse(argc, argv, &o, pos, &npos, 1);
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
        cli_error("usage: ward list import|add|remove|export|ls|rm|compact ...; see 'ward help list'");
        return CLI_USAGE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "import") == 0)
        return list_import(argc - 2, argv + 2);
    if (strcmp(sub, "add") == 0)
        return list_add(argc - 2, argv + 2);
    if (strcmp(sub, "remove") == 0)
        return list_remove(argc - 2, argv + 2);
    if (strcmp(sub, "compact") == 0)
        return list_compact(argc - 2, argv + 2);
    if (strcmp(sub, "export") == 0)
        return cmd_export(argc - 2, argv + 2);
    if (strcmp(sub, "ls") == 0)
        return cmd_ls(argc - 2, argv + 2);
    if (strcmp(sub, "rm") == 0)
        return list_rm(argc - 2, argv + 2);
    cli_error("unknown list command '%s'; see 'ward help list'", sub);
    return CLI_USAGE;
}
