/* ward follow | unfollow | block | unblock | find | contacts | suggestions
 * | privacy | report | history: people, privacy and reports. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ward/client.h"

/* Options shared by these commands; |argv| keeps the positional ones. */
typedef struct opts {
    cli_common common;
    const char *reason, *note, *limit;
    int n;        /* positional arguments after the command's name */
    char **args;
} opts;

/* Parses argv for command |cmd|, which takes at most |max_args|
 * positional arguments and the options whose flags are set. Prints the
 * usage error itself; returns 0 or CLI_USAGE. */
static int parse(int argc, char **argv, const char *cmd, int min_args,
                 int max_args, int takes_reason, int takes_limit, opts *o)
{
    memset(o, 0, sizeof *o);
    argc = cli_take_common(argc, argv, &o->common);
    o->args = argv + 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (takes_reason && strcmp(a, "--reason") == 0 && i + 1 < argc) {
            o->reason = argv[++i];
        } else if (takes_reason && strcmp(a, "--note") == 0 && i + 1 < argc) {
            o->note = argv[++i];
        } else if (takes_limit && strcmp(a, "--limit") == 0 && i + 1 < argc) {
            o->limit = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            cli_error("unknown option '%s'; see 'ward help %s'", a, cmd);
            return CLI_USAGE;
        } else if (o->n < max_args) {
            o->args[o->n++] = argv[i];
        } else {
            cli_error("too many arguments; see 'ward help %s'", cmd);
            return CLI_USAGE;
        }
    }
    if (o->n < min_args) {
        cli_error("missing arguments; see 'ward help %s'", cmd);
        return CLI_USAGE;
    }
    return 0;
}

/* Prints |err| (or the code's text) and returns CLI_FAIL. */
static int failed(ward_err e, const char *err)
{
    cli_error("%s", err && err[0] ? err : ward_strerror(e));
    return CLI_FAIL;
}

/* A username given on the command line: a usage error if it cannot be
 * one, so a typo is not sent to the server. */
static int bad_user(const char *cmd, const char *user)
{
    if (ward_client_username_valid(user))
        return 0;
    cli_error("'%s' is not a username (3 to 32 of a-z, 0-9, '.', '_', '-'); "
              "see 'ward help %s'",
              user, cmd);
    return 1;
}

enum { FOLLOW, UNFOLLOW, BLOCK, UNBLOCK };

static int graph_cmd(int argc, char **argv, int what)
{
    static const char *const names[] = {"follow", "unfollow", "block",
                                        "unblock"};
    const char *cmd = names[what];
    opts o;
    char err[512] = "";
    int rc = parse(argc, argv, cmd, 1, 1, 0, 0, &o);
    if (rc)
        return rc;
    const char *user = o.args[0];
    if (bad_user(cmd, user))
        return CLI_USAGE;
    ward_client *c = cli_open_client(&o.common, err, sizeof err);
    if (!c)
        return CLI_FAIL;
    int created = 1;
    ward_err e;
    switch (what) {
    case FOLLOW:
        e = ward_client_follow(c, user, &created, err, sizeof err);
        break;
    case UNFOLLOW:
        e = ward_client_unfollow(c, user, err, sizeof err);
        break;
    case BLOCK:
        e = ward_client_block(c, user, &created, err, sizeof err);
        break;
    default:
        e = ward_client_unblock(c, user, err, sizeof err);
        break;
    }
    ward_client_free(c);
    if (e)
        return failed(e, err);
    switch (what) {
    case FOLLOW:
        printf(created ? "now following %s\n" : "already following %s\n",
               user);
        break;
    case UNFOLLOW:
        printf("no longer following %s\n", user);
        break;
    case BLOCK:
        if (created)
            printf("blocked %s: they cannot contact you, and neither of "
                   "you follows the other any more\n",
                   user);
        else
            printf("%s was already blocked\n", user);
        break;
    default:
        printf("unblocked %s\n", user);
        break;
    }
    return CLI_OK;
}

int cli_follow_cmd(int argc, char **argv)
{
    return graph_cmd(argc, argv, FOLLOW);
}

int cli_unfollow(int argc, char **argv)
{
    return graph_cmd(argc, argv, UNFOLLOW);
}

int cli_block(int argc, char **argv)
{
    return graph_cmd(argc, argv, BLOCK);
}

int cli_unblock(int argc, char **argv)
{
    return graph_cmd(argc, argv, UNBLOCK);
}

int cli_find(int argc, char **argv)
{
    opts o;
    char err[512] = "";
    ward_client_user u;
    int rc = parse(argc, argv, "find", 1, 1, 0, 0, &o);
    if (rc)
        return rc;
    if (bad_user("find", o.args[0]))
        return CLI_USAGE;
    ward_client *c = cli_open_client(&o.common, err, sizeof err);
    if (!c)
        return CLI_FAIL;
    ward_err e = ward_client_find(c, o.args[0], &u, err, sizeof err);
    ward_client_free(c);
    if (e)
        return failed(e, err);
    printf("%s: %s\n", u.username,
           u.you_follow && u.follows_you ? "you follow each other"
           : u.you_follow                ? "you follow them"
           : u.follows_you               ? "they follow you"
                                         : "you do not follow each other");
    return CLI_OK;
}

typedef struct list_ctx {
    size_t n;
    int one_per_line;
} list_ctx;

static int print_name(void *ctx, const char *user)
{
    list_ctx *l = ctx;
    if (l->one_per_line)
        printf("%s\n", user);
    else
        printf("%s%s", l->n ? ", " : " ", user);
    l->n++;
    return 0;
}

int cli_contacts(int argc, char **argv)
{
    static const struct {
        const char *word;
        int which;
    } lists[] = {{"following", WARD_CLIENT_FOLLOWING},
                 {"followers", WARD_CLIENT_FOLLOWERS},
                 {"blocked", WARD_CLIENT_BLOCKED}};
    opts o;
    char err[512] = "";
    int rc = parse(argc, argv, "contacts", 0, 1, 0, 0, &o);
    if (rc)
        return rc;
    int only = -1;
    for (int i = 0; o.n && i < 3; i++)
        if (strcmp(o.args[0], lists[i].word) == 0)
            only = i;
    if (o.n && only < 0) {
        cli_error("'%s' is not a list (following, followers, blocked); see "
                  "'ward help contacts'",
                  o.args[0]);
        return CLI_USAGE;
    }
    ward_client *c = cli_open_client(&o.common, err, sizeof err);
    if (!c)
        return CLI_FAIL;
    ward_err e = WARD_OK;
    for (int i = 0; i < 3 && !e; i++) {
        if (only >= 0 && i != only)
            continue;
        /* One list alone is one name a line, for scripts. */
        list_ctx l = {0, only >= 0};
        if (only < 0)
            printf("%s:", lists[i].word);
        e = ward_client_contacts(c, lists[i].which, print_name, &l, err,
                                 sizeof err);
        if (only < 0)
            printf("%s\n", l.n ? "" : " (none)");
    }
    ward_client_free(c);
    return e ? failed(e, err) : CLI_OK;
}

static int print_suggestion(void *ctx, const char *user, int64_t shared)
{
    size_t *n = ctx;
    printf("%s (followed by %lld of the people you follow)\n", user,
           (long long)shared);
    (*n)++;
    return 0;
}

int cli_suggestions(int argc, char **argv)
{
    opts o;
    char err[512] = "";
    int rc = parse(argc, argv, "suggestions", 0, 0, 0, 1, &o);
    if (rc)
        return rc;
    long limit = 10;
    if (o.limit) {
        char *end = NULL;
        errno = 0;
        limit = strtol(o.limit, &end, 10);
        if (errno || end == o.limit || *end || limit < 1 || limit > 100) {
            cli_error("--limit takes a number from 1 to 100");
            return CLI_USAGE;
        }
    }
    ward_client *c = cli_open_client(&o.common, err, sizeof err);
    if (!c)
        return CLI_FAIL;
    size_t n = 0;
    ward_err e = ward_client_suggestions(c, (int)limit, print_suggestion, &n,
                                         err, sizeof err);
    ward_client_free(c);
    if (e)
        return failed(e, err);
    if (n == 0)
        fprintf(stderr, "no suggestions yet: they come from the people you "
                        "follow\n");
    return CLI_OK;
}

static void print_privacy(const ward_client_account *a)
{
    if (a->is_private)
        printf("%s's account is private: only people %s follows can find "
               "or contact %s\n",
               a->username, a->username, a->username);
    else
        printf("%s's account is public: anyone the safety rules allow can "
               "find and contact %s\n",
               a->username, a->username);
}

int cli_privacy(int argc, char **argv)
{
    opts o;
    char err[512] = "";
    ward_client_account a;
    int rc = parse(argc, argv, "privacy", 0, 1, 0, 0, &o);
    if (rc)
        return rc;
    int set = -1;
    if (o.n) {
        if (strcmp(o.args[0], "on") == 0)
            set = 1;
        else if (strcmp(o.args[0], "off") == 0)
            set = 0;
        else {
            cli_error("privacy takes 'on' or 'off'; see 'ward help privacy'");
            return CLI_USAGE;
        }
    }
    ward_client *c = cli_open_client(&o.common, err, sizeof err);
    if (!c)
        return CLI_FAIL;
    ward_err e = set < 0 ? ward_client_account_get(c, &a, err, sizeof err)
                         : ward_client_set_private(c, set, &a, err,
                                                   sizeof err);
    ward_client_free(c);
    if (e)
        return failed(e, err);
    print_privacy(&a);
    if (set >= 0 && a.is_private != set) {
        cli_error("the server kept the account %s",
                  a.is_private ? "private" : "public");
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* A message id as `ward recv` shows it ("42", or "#42"). */
static int parse_id(const char *s, int64_t *out)
{
    char *end = NULL;
    if (*s == '#')
        s++;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v <= 0)
        return -1;
    *out = v;
    return 0;
}

static const char *attachment_words(const char *a)
{
    if (strcmp(a, "verified") == 0)
        return "the server checked the image: it is the one that was sent";
    if (strcmp(a, "unavailable") == 0)
        return "the image is no longer on the server, so it could not be "
               "checked";
    if (strcmp(a, "mismatch") == 0)
        return "the image on the server is not the one that was sent";
    return NULL;
}

int cli_report(int argc, char **argv)
{
    opts o;
    char err[512] = "";
    ward_client_reason reason;
    ward_client_report_result r;
    int64_t id = 0;
    int rc = parse(argc, argv, "report", 1, 2, 1, 0, &o);
    if (rc)
        return rc;
    const char *user = o.args[0];
    if (bad_user("report", user))
        return CLI_USAGE;
    if (o.n == 2 && parse_id(o.args[1], &id)) {
        cli_error("'%s' is not a message id (the number in [brackets] "
                  "before a message); see 'ward help report'",
                  o.args[1]);
        return CLI_USAGE;
    }
    if (!o.reason) {
        cli_error("a report needs --reason REASON; see 'ward help report'");
        return CLI_USAGE;
    }
    if (ward_client_reason_parse(o.reason, &reason)) {
        cli_error("'%s' is not a reason: csam, grooming, sexual-harassment, "
                  "harassment, spam or other",
                  o.reason);
        return CLI_USAGE;
    }
    ward_client *c = cli_open_client(&o.common, err, sizeof err);
    if (!c)
        return CLI_FAIL;
    ward_err e = id ? ward_client_report_message(c, user, id, reason, o.note,
                                                 &r, err, sizeof err)
                    : ward_client_report_account(c, user, reason, o.note, &r,
                                                 err, sizeof err);
    ward_client_free(c);
    if (e)
        return failed(e, err);
    if (id)
        printf("reported message %lld from %s for %s: report %lld, ",
               (long long)id, user, ward_client_reason_text(reason),
               (long long)r.id);
    else
        printf("reported %s for %s: report %lld, ", user,
               ward_client_reason_text(reason), (long long)r.id);
    printf("%s\n", r.high_priority ? "high priority (reviewed first)"
                                   : "normal priority");
    if (id && r.verified)
        printf("the server verified that %s sent this message\n", user);
    const char *att = id ? attachment_words(r.attachment) : NULL;
    if (att)
        printf("%s\n", att);
    return CLI_OK;
}

typedef struct history_ctx {
    size_t n;
} history_ctx;

static int print_kept(void *ctx, const ward_client_reveal *r)
{
    history_ctx *h = ctx;
    ward_content content;
    ward_content_init(&content);
    printf("[%lld] ", (long long)r->id);
    cli_put_untrusted(stdout, r->from, strlen(r->from));
    if (r->group)
        printf(" in group %lld", (long long)r->group);
    fputs(": ", stdout);
    if (ward_content_decode(&content, r->content, r->content_len)) {
        printf("(cannot be read)\n");
    } else {
        if (content.body)
            cli_put_untrusted(stdout, content.body, content.body_len);
        for (size_t i = 0; i < content.n_attachments; i++) {
            const ward_attachment *a = &content.attachments[i];
            printf("%s[image ", content.body || i ? " " : "");
            cli_put_untrusted(stdout, a->content_type,
                              strlen(a->content_type));
            printf(", %llu bytes]", (unsigned long long)a->size);
        }
        fputc('\n', stdout);
    }
    /* The decoded text and keys are wiped here, the record's bytes by the
     * caller. */
    ward_content_release(&content);
    h->n++;
    return 0;
}

int cli_history(int argc, char **argv)
{
    opts o;
    char err[512] = "";
    int rc = parse(argc, argv, "history", 0, 1, 0, 0, &o);
    if (rc)
        return rc;
    if (o.n && bad_user("history", o.args[0]))
        return CLI_USAGE;
    ward_client *c = cli_open_client(&o.common, err, sizeof err);
    if (!c)
        return CLI_FAIL;
    history_ctx h = {0};
    ward_err e = ward_client_kept_messages(c, o.n ? o.args[0] : NULL,
                                           print_kept, &h, err, sizeof err);
    ward_client_free(c);
    if (e)
        return failed(e, err);
    if (h.n == 0)
        fprintf(stderr, "no messages kept%s%s\n", o.n ? " from " : "",
                o.n ? o.args[0] : "");
    return CLI_OK;
}
