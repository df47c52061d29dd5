/*
 * `ward recv --follow` and `ward chat USER`: a live connection
 * (client.h's ward_client_live) that shows messages as they arrive.
 *
 * On a terminal, chat edits the input line itself (non-canonical mode)
 * so that an arriving message can be printed above it and the half-typed
 * line drawn again beneath: the line editors Debian packages either are
 * GPL (readline) or cannot redraw around asynchronous output through
 * their callback interface (libedit), and what is needed here is small:
 * type, backspace over UTF-8, ^U, ^W, Enter. Fed from a pipe, chat sends
 * one message per line and exits at the end of input once every send has
 * been answered.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ward/client.h"

#define PROMPT "> "
#define LINE_MAX_BYTES 16000 /* a long paste; a message holds about 60 KiB */

static volatile sig_atomic_t stop_signal, continued;

static void on_signal(int sig)
{
    stop_signal = sig;
}

/* Back from ^Z: the shell has put the terminal back in its own mode. */
static void on_cont(int sig)
{
    (void)sig;
    continued = 1;
}

/* SIGINT and SIGTERM end the loop (within one service round). */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_cont;
    sigaction(SIGCONT, &sa, NULL);
}

/* ---- ward recv --follow ---- */

typedef struct follow_ctx {
    void (*show)(void *ctx, const ward_client_msg *m);
    void *ctx;
} follow_ctx;

static void follow_status(void *ctx, const char *what)
{
    (void)ctx;
    cli_error("%s", what); /* sanitised: it may quote the server */
}

ward_err cli_follow(ward_client *c,
                    void (*show)(void *ctx, const ward_client_msg *m),
                    void *ctx, char *err, size_t errlen)
{
    ward_client_live *l = NULL;
    ward_client_live_hooks h = {show, NULL, follow_status, ctx};
    ward_err e = ward_client_live_open(c, &h, &l, err, errlen);
    if (e)
        return e;
    catch_signals();
    while (!stop_signal && !e)
        e = ward_client_live_service(l, 1000, err, errlen);
    ward_client_live_close(l);
    return e;
}

/* ---- ward chat ---- */

typedef struct chat {
    ward_client *c;
    ward_client_live *l;
    const char *peer;
    int64_t group; /* chat --group: its id (sends go over HTTP) */
    const char *label;
    int tty;
    struct termios saved;
    char line[LINE_MAX_BYTES + 8];
    size_t len;
    int esc;           /* inside an escape sequence: 1 after ESC, 2 after [ */
    /* pipe mode: bytes read, not yet a whole line (a message's text is at
     * most WARD_CONTENT_MAX_BODY bytes) */
    char pending[WARD_CONTENT_MAX_BODY + 2];
    size_t pending_len;
    int overlong; /* the line being read did not fit: refused at its end */
    int eof, quit;
    unsigned outstanding; /* sends not answered yet */
    unsigned failed;
    char err[512];
} chat;

static chat *the_chat; /* for restoring the terminal at exit */

static void restore_terminal(void)
{
    if (the_chat && the_chat->tty)
        tcsetattr(STDIN_FILENO, TCSANOW, &the_chat->saved);
}

static int term_width(void)
{
    struct winsize w;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col > 10)
        return w.ws_col;
    return 80;
}

/* Draws the prompt and as much of the end of the line as fits. */
static void redraw(chat *ch)
{
    if (!ch->tty)
        return;
    size_t room = (size_t)term_width() - strlen(PROMPT) - 1, start = 0;
    size_t cps = 0;
    for (size_t i = 0; i < ch->len; i++)
        cps += ((unsigned char)ch->line[i] & 0xc0) != 0x80;
    /* Skip code points from the front until the rest fits. */
    while (cps > room && start < ch->len) {
        start++;
        while (start < ch->len &&
               ((unsigned char)ch->line[start] & 0xc0) == 0x80)
            start++;
        cps--;
    }
    printf("\r\033[K%s%.*s", PROMPT, (int)(ch->len - start),
           ch->line + start);
    fflush(stdout);
}

/* Prints a whole line above the input line. */
static void say(chat *ch, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(chat *ch, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* Status lines quote the server: nothing in them may drive the
     * terminal. */
    cli_sanitize(line);
    FILE *out = ch->tty ? stdout : stderr;
    if (ch->tty)
        fputs("\r\033[K", stdout);
    fprintf(out, "%s\n", line);
    fflush(out);
    redraw(ch);
}

static void chat_message(void *ctx, const ward_client_msg *m)
{
    chat *ch = ctx;
    if (ch->tty)
        fputs("\r\033[K", stdout);
    cli_show_message(stdout, m);
    redraw(ch);
}

static void chat_sent(void *ctx, int64_t ref, int64_t id, const char *error)
{
    chat *ch = ctx;
    (void)ref;
    (void)id;
    if (ch->outstanding)
        ch->outstanding--;
    if (error) {
        ch->failed++;
        say(ch, "* not sent: %s", error);
    }
}

static void chat_status(void *ctx, const char *what)
{
    chat *ch = ctx;
    if (strcmp(what, "synced") != 0)
        say(ch, "* %s", what);
}

static void send_line(chat *ch, const char *text)
{
    int64_t ref = 0, id = 0;
    ch->err[0] = 0;
    if (!*text)
        return;
    if (strcmp(text, "/quit") == 0) {
        ch->quit = 1;
        return;
    }
    if (strcmp(text, "/help") == 0) {
        say(ch, "* type a message and press Enter; /image FILE [CAPTION] "
                "sends an image; /quit or ^D leaves");
        return;
    }
    if (ch->group && strncmp(text, "/image ", 7) == 0) {
        ch->failed++;
        say(ch, "* not sent: images cannot be sent to a group yet");
        return;
    }
    if (ch->group) {
        /* Over HTTP, answered at once: a group send may have to catch up
         * with the membership (hand the key to a newcomer, rotate it) and
         * send again, which the request does in one go. */
        ward_client_group_sent r;
        if (ward_client_group_send_text(ch->c, ch->group, text, &r, ch->err,
                                        sizeof ch->err)) {
            ch->failed++;
            say(ch, "* not sent: %s", ch->err);
        } else if (ch->tty) {
            say(ch, "[you] %s", text);
        }
        return;
    }
    if (strncmp(text, "/image ", 7) == 0) {
        char path[1024];
        const char *p = text + 7, *sp = strchr(p, ' ');
        size_t n = sp ? (size_t)(sp - p) : strlen(p);
        snprintf(path, sizeof path, "%.*s", (int)n, p);
        if (ward_client_send_image(ch->c, ch->peer, path, sp ? sp + 1 : NULL,
                                   &id, ch->err, sizeof ch->err)) {
            ch->failed++;
            say(ch, "* not sent: %s", ch->err);
        } else if (ch->tty) {
            say(ch, "[you] [image %s]", path);
        }
        return;
    }
    if (ward_client_live_send_text(ch->l, ch->peer, text, &ref, &id, ch->err,
                                   sizeof ch->err)) {
        ch->failed++;
        say(ch, "* not sent: %s", ch->err);
        return;
    }
    if (ref)
        ch->outstanding++;
    if (ch->tty)
        say(ch, "[you] %s", text);
}

/* One byte typed on the terminal. */
static void key(chat *ch, unsigned char b)
{
    if (ch->esc == 1) {
        ch->esc = b == '[' || b == 'O' ? 2 : 0;
        return;
    }
    if (ch->esc == 2) {
        if (b >= 0x40 && b <= 0x7e)
            ch->esc = 0; /* arrows and the like: ignored */
        return;
    }
    if (b == 27) {
        ch->esc = 1;
    } else if (b == '\r' || b == '\n') {
        ch->line[ch->len] = 0;
        ch->len = 0;
        fputs("\r\033[K", stdout);
        send_line(ch, ch->line);
        redraw(ch);
    } else if (b == 127 || b == 8) {
        while (ch->len && ((unsigned char)ch->line[ch->len - 1] & 0xc0) == 0x80)
            ch->len--;
        if (ch->len)
            ch->len--;
        redraw(ch);
    } else if (b == 4) {
        if (ch->len == 0)
            ch->eof = 1;
    } else if (b == 21) {
        ch->len = 0;
        redraw(ch);
    } else if (b == 23) {
        while (ch->len && ch->line[ch->len - 1] == ' ')
            ch->len--;
        while (ch->len && ch->line[ch->len - 1] != ' ')
            ch->len--;
        redraw(ch);
    } else if (b >= 32 || b >= 0x80) {
        if (ch->len < LINE_MAX_BYTES) {
            ch->line[ch->len++] = (char)b;
            redraw(ch);
        }
    }
}

/* Pipe mode: a whole line has been read (or the input ended after a
 * last line without its newline). */
static void end_line(chat *ch)
{
    if (ch->overlong) {
        ch->failed++;
        say(ch, "* not sent: a line is longer than %d bytes",
            WARD_CONTENT_MAX_BODY);
    } else {
        ch->pending[ch->pending_len] = 0;
        if (ch->pending_len && ch->pending[ch->pending_len - 1] == '\r')
            ch->pending[ch->pending_len - 1] = 0;
        send_line(ch, ch->pending);
    }
    ch->pending_len = 0;
    ch->overlong = 0;
}

static int on_input(void *ctx)
{
    chat *ch = ctx;
    char buf[4096];
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n <= 0) {
        if (!ch->tty && !ch->eof && (ch->pending_len || ch->overlong))
            end_line(ch);
        ch->eof = 1;
        return -1;
    }
    if (ch->tty) {
        for (ssize_t i = 0; i < n; i++)
            key(ch, (unsigned char)buf[i]);
        return 0;
    }
    for (ssize_t i = 0; i < n; i++) {
        char b = buf[i];
        if (b == '\n')
            end_line(ch);
        else if (ch->pending_len < sizeof ch->pending - 1)
            ch->pending[ch->pending_len++] = b;
        else
            ch->overlong = 1; /* never cut a line short silently */
    }
    return 0;
}

/* A note from the library (a member our group messages are kept from). */
static void chat_note(void *ctx, const char *text)
{
    say(ctx, "* %s", text);
}

int cli_chat_run(ward_client *c, const char *peer, int64_t group,
                 const char *label)
{
    static chat ch;
    memset(&ch, 0, sizeof ch);
    ch.c = c;
    ch.peer = peer;
    ch.group = group;
    ch.label = label;
    ward_client_set_note_hook(c, chat_note, &ch);
    ch.tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    the_chat = &ch;
    ward_client_live_hooks h = {chat_message, chat_sent, chat_status, &ch};
    ward_err e = ward_client_live_open(c, &h, &ch.l, ch.err, sizeof ch.err);
    if (e) {
        cli_error("%s", ch.err[0] ? ch.err : ward_strerror(e));
        return CLI_FAIL;
    }
    struct termios raw;
    if (ch.tty) {
        tcgetattr(STDIN_FILENO, &ch.saved);
        raw = ch.saved;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
        atexit(restore_terminal);
        if (group) {
            printf("chatting in \"");
            cli_put_untrusted(stdout, label, strlen(label));
            printf("\" (end-to-end encrypted). /help for commands, ^D to "
                   "leave.\n");
        } else {
            printf("chatting with %s (end-to-end encrypted). /help for "
                   "commands, ^D to leave.\n",
                   peer);
        }
        redraw(&ch);
    }
    catch_signals();
    if ((e = ward_client_live_watch_fd(ch.l, STDIN_FILENO, on_input, &ch))) {
        restore_terminal();
        ward_client_live_close(ch.l);
        cli_error("cannot read the terminal");
        return CLI_FAIL;
    }
    /* At the end of input, wait (up to 10 s) for the sends in flight. */
    struct timespec t0 = {0, 0};
    while (!stop_signal && !ch.quit) {
        e = ward_client_live_service(ch.l, 250, ch.err, sizeof ch.err);
        if (e)
            break;
        if (continued && ch.tty) {
            continued = 0;
            tcsetattr(STDIN_FILENO, TCSANOW, &raw);
            redraw(&ch);
        }
        if (ch.eof) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (!t0.tv_sec)
                t0 = now;
            if (ch.outstanding == 0 || now.tv_sec - t0.tv_sec >= 10)
                break;
        }
    }
    restore_terminal();
    if (ch.tty)
        fputs("\r\033[K", stdout);
    ward_client_live_close(ch.l);
    the_chat = NULL;
    if (e) {
        cli_error("%s", ch.err[0] ? ch.err : ward_strerror(e));
        return CLI_FAIL;
    }
    if (ch.outstanding) {
        cli_error("%u message(s) were not confirmed by the server",
                  ch.outstanding);
        return CLI_FAIL;
    }
    return ch.failed ? CLI_FAIL : CLI_OK;
}
