/* ward account | send | recv | trust: the client commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ward/client.h"
#include "ward/crypto.h"

#define DEFAULT_SERVER "http://127.0.0.1:8080"

typedef cli_common common;

int cli_take_common(int argc, char **argv, cli_common *o)
{
    int n = 0;
    o->server = getenv("WARD_SERVER");
    o->user = getenv("WARD_USER");
    o->password_stdin = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--server") == 0 && i + 1 < argc)
            o->server = argv[++i];
        else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
            o->user = argv[++i];
        else if (strcmp(argv[i], "--password-stdin") == 0)
            o->password_stdin = 1;
        else
            argv[n++] = argv[i];
    }
    if (!o->server || !*o->server)
        o->server = DEFAULT_SERVER;
    return n;
}

ward_client *cli_open_client(const cli_common *o, char *err, size_t errlen)
{
    ward_client *c = NULL;
    if (!o->user) {
        cli_error("no user: pass --user NAME or set WARD_USER");
        return NULL;
    }
    if (ward_client_new(&c, o->server, o->user, NULL, err, errlen)) {
        cli_error("%s", err);
        return NULL;
    }
    return c;
}

/* As open_client, saving attachments in |save_dir| when it is set. */
static ward_client *open_client_in(const common *o, const char *save_dir,
                                   char *err, size_t errlen)
{
    ward_client *c = cli_open_client(o, err, errlen);
    if (c && save_dir)
        ward_client_set_attachment_dir(c, save_dir);
    return c;
}

int cli_account(int argc, char **argv)
{
    common o;
    char err[512] = "", pw[1100], birth[32] = "";
    argc = cli_take_common(argc, argv, &o);
    if (argc < 2) {
        cli_error("usage: ward account register|login|logout|delete "
                  "[--user NAME] [--server URL]");
        return CLI_USAGE;
    }
    const char *verb = argv[1];
    const char *birth_arg = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--birth-date") == 0 && i + 1 < argc) {
            birth_arg = argv[++i];
        } else if (!o.user && argv[i][0] != '-') {
            o.user = argv[i]; /* "ward account register alice" */
        } else {
            cli_error("unknown option '%s'; see 'ward help account'",
                      argv[i]);
            return CLI_USAGE;
        }
    }
    int reg = strcmp(verb, "register") == 0;
    int login = strcmp(verb, "login") == 0;
    int logout = strcmp(verb, "logout") == 0;
    int del = strcmp(verb, "delete") == 0;
    if (!reg && !login && !logout && !del) {
        cli_error("'%s' is not an account command; see 'ward help account'",
                  verb);
        return CLI_USAGE;
    }
    if (reg && !birth_arg) {
        cli_error("register needs --birth-date YYYY-MM-DD (only the age "
                  "band is kept)");
        return CLI_USAGE;
    }
    ward_client *c = cli_open_client(&o, err, sizeof err);
    if (!c)
        return CLI_FAIL;
    ward_err e = WARD_OK;
    if (!logout && cli_read_password("password: ", o.password_stdin, pw,
                                     sizeof pw)) {
        cli_error("no password given");
        ward_client_free(c);
        return CLI_FAIL;
    }
    if (reg) {
        snprintf(birth, sizeof birth, "%s", birth_arg);
        e = ward_client_register(c, pw, birth, err, sizeof err);
    } else if (login) {
        e = ward_client_login(c, pw, err, sizeof err);
    } else if (logout) {
        e = ward_client_logout(c, err, sizeof err);
    } else {
        e = ward_client_delete_account(c, pw, err, sizeof err);
    }
    ward_memzero(pw, sizeof pw);
    ward_client_free(c);
    if (e) {
        cli_error("%s", err[0] ? err : ward_strerror(e));
        return CLI_FAIL;
    }
    printf("%s: %s\n", o.user,
           reg ? "registered and logged in"
               : login ? "logged in" : logout ? "logged out" : "deleted");
    return CLI_OK;
}

int cli_send(int argc, char **argv)
{
    common o;
    char err[512] = "";
    const char *image = NULL, *to = NULL, *text = NULL, *group = NULL;
    argc = cli_take_common(argc, argv, &o);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--image") == 0 && i + 1 < argc) {
            image = argv[++i];
        } else if (strcmp(argv[i], "--group") == 0 && i + 1 < argc) {
            group = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            cli_error("unknown option '%s'; see 'ward help send'", argv[i]);
            return CLI_USAGE;
        } else if (!to) {
            to = argv[i];
        } else if (!text) {
            text = argv[i];
        } else {
            to = NULL;
            break;
        }
    }
    if (group) {
        /* ward send --group GROUP TEXT, or --image FILE [CAPTION]: the one
         * positional is the text. */
        if ((!to && !image) || text || !group[0]) {
            cli_error("usage: ward send --group GROUP TEXT | ward send "
                      "--group GROUP --image FILE [CAPTION]");
            return CLI_USAGE;
        }
        return cli_send_group(&o, group, to, image);
    }
    if (!to || (!text && !image)) {
        cli_error("usage: ward send USER TEXT | ward send USER --image FILE "
                  "[CAPTION] | ward send --group GROUP TEXT");
        return CLI_USAGE;
    }
    ward_client *c = cli_open_client(&o, err, sizeof err);
    if (!c)
        return CLI_FAIL;
    int64_t id = 0;
    ward_err e = image ? ward_client_send_image(c, to, image, text, &id, err,
                                                sizeof err)
                       : ward_client_send_text(c, to, text, &id, err,
                                               sizeof err);
    ward_client_free(c);
    if (e) {
        cli_error("%s", err[0] ? err : ward_strerror(e));
        return CLI_FAIL;
    }
    printf("sent %sto %s (message %lld)\n", image ? "the image " : "", to,
           (long long)id);
    return CLI_OK;
}

/*
 * Writes text that came from someone else (the sender's message, the type
 * they named, the server's user name) so that it cannot drive the
 * terminal: control characters (ESC sequences, CR, BS, NUL...) are shown
 * as ^X and the C1 controls as U+FFFD. A newline starts an indented
 * continuation line, so a message cannot forge a line of its own that
 * looks like "[ID] FROM: ...".
 */
void cli_put_untrusted(FILE *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = p[i];
        if (b == '\n') {
            fputs("\n    ", out);
        } else if (b == '\t') {
            fputc(b, out);
        } else if (b < 0x20 || b == 0x7f) {
            fputc('^', out);
            fputc(b ^ 0x40, out);
        } else if (b == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 &&
                   p[i + 1] <= 0x9f) {
            fputs("\xef\xbf\xbd", out); /* U+FFFD */
            i++;
        } else {
            fputc(b, out);
        }
    }
}

static void put_str(FILE *out, const char *s)
{
    cli_put_untrusted(out, s ? s : "", s ? strlen(s) : 0);
}

/* "in "NAME"" for a group (its id when the name is not known). */
static void put_group(FILE *out, const ward_client_msg *m)
{
    if (m->group_name) {
        fputc('"', out);
        put_str(out, m->group_name);
        fputc('"', out);
    } else {
        fprintf(out, "group %lld", (long long)m->group);
    }
}

/* "[ID] FROM: ", or "[ID] FROM in "GROUP": " for a group message. */
static void put_prefix(FILE *out, const ward_client_msg *m)
{
    fprintf(out, "[%lld] ", (long long)m->id);
    put_str(out, m->from);
    if (m->group) {
        fputs(" in ", out);
        put_group(out, m);
    }
    fputs(": ", out);
}

/* One received message, as `ward recv` and `ward chat` print it. */
void cli_show_message(FILE *out, const ward_client_msg *m)
{
    if (m->event) {
        /* A change to a group, in the library's sentence. */
        fprintf(out, "[%lld] ", (long long)m->id);
        put_group(out, m);
        fputs(": ", out);
        cli_put_untrusted(out, m->text ? m->text : "", m->text_len);
        fputc('\n', out);
    } else if (m->problem == WARD_ERR_NO_SESSION) {
        put_prefix(out, m);
        fputs("(cannot be read yet: waiting for ", out);
        put_str(out, m->from);
        fputs("'s key for the group; it is shown when the key arrives)\n",
              out);
    } else if (m->problem == WARD_ERR_UNTRUSTED_IDENTITY) {
        put_prefix(out, m);
        fputs("(not shown: ", out);
        put_str(out, m->from);
        fputs("'s identity key changed; check with them, then run 'ward "
              "trust ", out);
        put_str(out, m->from);
        fputs("')\n", out);
    } else if (m->problem) {
        /* Undecryptable, or a commitment that does not match its content:
         * such a message could not be reported, so it is not shown. */
        fprintf(out, "[%lld] (a malformed message from ", (long long)m->id);
        put_str(out, m->from);
        fputs(" was dropped)\n", out);
    } else {
        if (m->text || !m->n_attachments) {
            put_prefix(out, m);
            cli_put_untrusted(out, m->text ? m->text : "", m->text_len);
            fputc('\n', out);
        }
        for (size_t i = 0; i < m->n_attachments; i++) {
            const ward_client_attachment *a = &m->attachments[i];
            put_prefix(out, m);
            if (a->problem == WARD_OK) {
                fputs("[image ", out);
                put_str(out, a->content_type);
                fprintf(out, ", %llu bytes, saved to ",
                        (unsigned long long)a->size);
                put_str(out, a->saved_path);
                fputs("]\n", out);
            } else {
                fputs("[image not saved: ", out);
                put_str(out, a->problem_text);
                fputs("]\n", out);
            }
        }
    }
    fflush(out);
}

static void show(void *ctx, const ward_client_msg *m)
{
    (void)ctx;
    cli_show_message(stdout, m);
}

static void show_notice(void *ctx, const char *kind, const char *text)
{
    (void)ctx;
    char k[32], t[2048];
    snprintf(k, sizeof k, "%s", kind);
    snprintf(t, sizeof t, "%s", text);
    cli_sanitize(k);
    cli_sanitize(t);
    /* A minor added to a group is told by the server who did it; the
     * other notices are the moderators'. */
    if (strcmp(k, "group_added") == 0)
        fprintf(stderr, "ward: %s\n", t);
    else
        fprintf(stderr, "ward: %s from the moderators: %s\n", k, t);
}

void cli_show_notices(ward_client *c)
{
    char err[256];
    /* A notice is a courtesy: failing to fetch it must not stop the
     * messages (the next run tries again). */
    (void)ward_client_notices(c, show_notice, NULL, err, sizeof err);
}

int cli_recv(int argc, char **argv)
{
    common o;
    char err[512] = "";
    const char *save_dir = NULL;
    int follow = 0;
    argc = cli_take_common(argc, argv, &o);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--save-dir") == 0 && i + 1 < argc) {
            save_dir = argv[++i];
        } else if (strcmp(argv[i], "--follow") == 0 ||
                   strcmp(argv[i], "-f") == 0) {
            follow = 1;
        } else {
            cli_error("usage: ward recv [--follow] [--save-dir DIR] "
                      "[--user NAME] [--server URL]");
            return CLI_USAGE;
        }
    }
    ward_client *c = open_client_in(&o, save_dir, err, sizeof err);
    if (!c)
        return CLI_FAIL;
    size_t n = 0;
    cli_show_notices(c);
    ward_err e = follow ? cli_follow(c, show, NULL, err, sizeof err)
                        : ward_client_receive(c, show, NULL, &n, err,
                                              sizeof err);
    ward_client_free(c);
    if (e) {
        cli_error("%s", err[0] ? err : ward_strerror(e));
        return CLI_FAIL;
    }
    if (n == 0 && !follow)
        fprintf(stderr, "no new messages\n");
    return CLI_OK;
}

int cli_chat(int argc, char **argv)
{
    common o;
    char err[512] = "";
    const char *save_dir = NULL, *peer = NULL, *group = NULL;
    int bad = 0;
    argc = cli_take_common(argc, argv, &o);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--save-dir") == 0 && i + 1 < argc)
            save_dir = argv[++i];
        else if (strcmp(argv[i], "--group") == 0 && i + 1 < argc && !group)
            group = argv[++i];
        else if (argv[i][0] != '-' && !peer)
            peer = argv[i];
        else
            bad = 1;
    }
    if (bad || (!peer == !group) || (group && !group[0])) {
        cli_error("usage: ward chat USER | ward chat --group GROUP "
                  "[--save-dir DIR] [--user NAME] [--server URL]");
        return CLI_USAGE;
    }
    ward_client *c = open_client_in(&o, save_dir, err, sizeof err);
    if (!c)
        return CLI_FAIL;
    int64_t gid = 0;
    if (group &&
        ward_client_group_resolve(c, group, &gid, err, sizeof err) != WARD_OK) {
        cli_error("%s", err);
        ward_client_free(c);
        return CLI_FAIL;
    }
    cli_show_notices(c);
    int rc = cli_chat_run(c, peer, gid, group ? group : peer);
    ward_client_free(c);
    return rc;
}

int cli_trust(int argc, char **argv)
{
    common o;
    char err[512] = "";
    argc = cli_take_common(argc, argv, &o);
    if (argc != 2 || argv[1][0] == '-') {
        cli_error("usage: ward trust USER [--user NAME]");
        return CLI_USAGE;
    }
    ward_client *c = cli_open_client(&o, err, sizeof err);
    if (!c)
        return CLI_FAIL;
    ward_err e = ward_client_trust(c, argv[1], err, sizeof err);
    ward_client_free(c);
    if (e) {
        cli_error("%s", err[0] ? err : ward_strerror(e));
        return CLI_FAIL;
    }
    printf("now trusting %s's new identity key\n", argv[1]);
    return CLI_OK;
}
