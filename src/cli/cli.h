/* The ward command's subcommands. Each returns the process exit code:
 * 0 success, 1 failure, 2 usage error. */
#ifndef WARD_CLI_H
#define WARD_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "ward/hashlist.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

typedef struct cli_command {
    const char *name;
    const char *summary;
    const char *usage; /* full help text */
    int (*run)(int argc, char **argv);
} cli_command;

int cli_demo(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_account(int argc, char **argv);
int cli_send(int argc, char **argv);
int cli_recv(int argc, char **argv);
int cli_trust(int argc, char **argv);
int cli_admin(int argc, char **argv);
int cli_hash(int argc, char **argv);
int cli_list(int argc, char **argv);
int cli_match(int argc, char **argv);

int cli_chat(int argc, char **argv);

int cli_follow_cmd(int argc, char **argv);
int cli_unfollow(int argc, char **argv);
int cli_block(int argc, char **argv);
int cli_unblock(int argc, char **argv);
int cli_find(int argc, char **argv);
int cli_contacts(int argc, char **argv);
int cli_suggestions(int argc, char **argv);
int cli_privacy(int argc, char **argv);
int cli_report(int argc, char **argv);
int cli_history(int argc, char **argv);
int cli_group(int argc, char **argv);

/* client_cmds.c: what every client command takes. */
typedef struct cli_common {
    const char *server;
    const char *user;
    int password_stdin;
} cli_common;
/* Takes --server URL, --user NAME and --password-stdin out of argv (with
 * $WARD_SERVER and $WARD_USER as defaults); returns the remaining count
 * (positional arguments kept in order). */
int cli_take_common(int argc, char **argv, cli_common *o);
/* group_cmds.c: `ward send --group GROUP TEXT`. */
int cli_send_group(const cli_common *o, const char *group, const char *text,
                   const char *image);

/* chat.c: the live loops. */
#include "ward/client.h"
ward_err cli_follow(ward_client *c,
                    void (*show)(void *ctx, const ward_client_msg *m),
                    void *ctx, char *err, size_t errlen);
/* A conversation with |peer|, or (|group| > 0) in that group, named
 * |label| on the screen. */
int cli_chat_run(ward_client *c, const char *peer, int64_t group,
                 const char *label);
/* client_cmds.c: one received message as recv and chat print it. */
void cli_show_message(FILE *out, const ward_client_msg *m);
/* Opens the client for --user (an error printed if it cannot). */
ward_client *cli_open_client(const cli_common *o, char *err, size_t errlen);
/* Writes text from someone else so that it cannot drive the terminal. */
void cli_put_untrusted(FILE *out, const char *s, size_t n);

/* Prints the moderators' notices to this account (once each) on stderr;
 * a failure to fetch them is not an error. */
void cli_show_notices(ward_client *c);

/* Replaces control characters (C0, DEL, C1) in |s| with '?', for text
 * from elsewhere on its way to a terminal. */
void cli_sanitize(char *s);

/* Reads a password, one line without its line end, into |out| (|cap|
 * bytes with the NUL): from a terminal with |prompt| on stderr and echo
 * off, unless |from_stdin|; otherwise as standard input's next line. -1
 * at the end of input. */
int cli_read_password(const char *prompt, int from_stdin, char *out,
                      size_t cap);

/* progress.c: monotonic seconds, and a bar on stderr redrawn at most
 * ten times a second (and cleared when |done| reaches |n|); the caller
 * decides whether stderr is a terminal. */
double cli_now(void);
void cli_progress(size_t done, size_t n, double *last);

/* readfile.c: a whole regular file of at most |max| bytes into |*out|
 * (the caller frees it): 0, or -1 with |why| set. */
int cli_read_file(const char *path, uint64_t max, uint8_t **out, size_t *n,
                  char *why, size_t why_len);
/* "pdq", "md5", "sha256" as a type, or 0. */
ward_hl_type cli_hl_type(const char *name);
/* The list set's directory: --lists DIR as it is, else --data DIR's (or
 * ./ward-data's) lists/. */
void cli_lists_dir(const char *lists, const char *data, char *out,
                   size_t cap);

/* Prints an error in git's style: "ward: <message>". */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
