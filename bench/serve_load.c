/*
 * serve_load: drives a real `ward serve` on loopback (bench/serve.sh).
 *
 *   serve_load register --port P --accounts N --out FILE [--prefix S]
 *   serve_load deliver  --port P --tokens FILE --clients N
 *                       [--send-via http|ws] [--inflight K | --rate R]
 *                       [--size B] [--warmup S] [--duration S]
 *                       [--server-pid PID] [--sources K] [--label S]
 *   serve_load idle     --port P --tokens FILE --conns N[,N...]
 *                       --server-pid PID [--settle S] [--sources K]
 *
 * register  creates N accounts and logs each in, writing "name token"
 *           lines to FILE.
 * deliver   opens one ward.v1 session per client (N accounts from FILE,
 *           one session each) and, once every session is synced, sends
 *           messages between them. Each message goes from a client to the
 *           client N/2 further on, so every client sends and receives.
 *           A message is delivered when all of these happened:
 *             the send was answered 201 with an id (HTTP) or "sent" with
 *             an id (WebSocket): stored durably;
 *             the recipient's session received it pushed;
 *             the recipient acked it and got {"type":"acked"} back.
 *           The body is |B| bytes: an 18-byte header (magic, sequence
 *           number, start time, sender) and random bytes. The recipient
 *           reads the header back, so a push is matched to its send
 *           without trusting anything else the server says.
 *   Load:   --inflight K (closed loop): K messages in the pipeline at all
 *           times, each one's completion starting the next one, round
 *           robin over the senders; this finds the throughput. --rate R
 *           (open loop): sends start at Poisson arrival times, R per
 *           second in total, from uniformly random senders, whatever the
 *           server's progress; latency is counted from the scheduled
 *           start, so a stalled generator or server cannot hide
 *           latency (no coordinated omission).
 *   Timing: a warm-up (not counted), then the measured window: the rate
 *           counts messages whose delivery completed in the window,
 *           latencies cover messages whose start was in it. Then no new
 *           sends, and every message must complete (15 s at most).
 *           Latencies: start -> push received (the end-to-end latency),
 *           start -> 201/"sent", start -> "acked".
 * idle      opens idle authenticated sessions (accounts reused in turn if
 *           N exceeds them), cumulatively up to each N, and reads the
 *           server's memory (/proc/PID/status) before and after.
 *
 * Each mode prints one "RESULT key=value ..." line per measurement on
 * stdout (serve.sh turns them into tables) and progress on stderr. Any
 * error (a non-201 answer, a session closed, a message lost, duplicated
 * or misrouted) is counted in errors=; serve.sh fails on errors != 0.
 *
 * One thread: the server under test has one event-loop thread, so on the
 * two-core machine this was written for the server has one core and the
 * generator the other. gen_cpu= (this process's CPU time over the
 * window, in % of one core) shows whether the generator was the limit;
 * srv_cpu= shows the server's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "serve_load.h"

/* The server requires a franking commitment; the load does not check
 * it, so any 32 bytes will do. */
#define LOAD_COMMITMENT "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

#define MAGIC0 'W'
#define MAGIC1 'L'
#define HDR_BYTES 18 /* a multiple of 3: its base64 is a prefix of the body's */
#define HDR_B64 24
#define PASSWORD "serve-load-password"
#define DRAIN_NS (15 * 1000000000LL)
/* Open-loop HTTP sends in flight, at most: with the sessions, this stays
 * under the server's descriptor limit (and ours). */
#define MAX_HTTP_CONNS 4000
static size_t g_http_cap = MAX_HTTP_CONNS;

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("serve_load: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        die("out of memory");
    return p;
}

/* ------------------------------------------------------------------ */
/* Options.                                                             */

static struct {
    const char *mode, *tokens, *out, *prefix, *via, *label, *conns;
    int port, accounts, clients, inflight, size, sources, server_pid;
    double rate, warmup, duration, settle;
} O = {
    .prefix = "lg",
    .via = "http",
    .label = "",
    .size = 200,
    .sources = 8,
    .warmup = 3,
    .duration = 10,
    .settle = 3,
};

static void usage(void)
{
    fputs("usage: serve_load register --port P --accounts N --out FILE\n"
          "       serve_load deliver --port P --tokens FILE --clients N\n"
          "              [--send-via http|ws] [--inflight K | --rate R]\n"
          "              [--size B] [--warmup S] [--duration S]\n"
          "              [--server-pid PID] [--sources K] [--label S]\n"
          "       serve_load idle --port P --tokens FILE --conns N[,N...]\n"
          "              --server-pid PID [--settle S] [--sources K]\n",
          stderr);
    exit(2);
}

static void parse_args(int argc, char **argv)
{
    if (argc < 2)
        usage();
    O.mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (!strcmp(a, "--port"))
            O.port = atoi(v);
        else if (!strcmp(a, "--accounts"))
            O.accounts = atoi(v);
        else if (!strcmp(a, "--out"))
            O.out = v;
        else if (!strcmp(a, "--prefix"))
            O.prefix = v;
        else if (!strcmp(a, "--tokens"))
            O.tokens = v;
        else if (!strcmp(a, "--clients"))
            O.clients = atoi(v);
        else if (!strcmp(a, "--send-via"))
            O.via = v;
        else if (!strcmp(a, "--inflight"))
            O.inflight = atoi(v);
        else if (!strcmp(a, "--rate"))
            O.rate = atof(v);
        else if (!strcmp(a, "--size"))
            O.size = atoi(v);
        else if (!strcmp(a, "--warmup"))
            O.warmup = atof(v);
        else if (!strcmp(a, "--duration"))
            O.duration = atof(v);
        else if (!strcmp(a, "--server-pid"))
            O.server_pid = atoi(v);
        else if (!strcmp(a, "--sources"))
            O.sources = atoi(v);
        else if (!strcmp(a, "--label"))
            O.label = v;
        else if (!strcmp(a, "--conns"))
            O.conns = v;
        else if (!strcmp(a, "--settle"))
            O.settle = atof(v);
        else
            usage();
    }
    if (O.port <= 0 || O.port > 65535)
        usage();
}

/* As many descriptors as |n| connections need (we run as root in the
 * benchmark; otherwise up to the hard limit). */
static size_t raise_nofile(size_t n)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)n + 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    if (rl.rlim_cur >= want)
        return (size_t)rl.rlim_cur;
    struct rlimit nr = {want, rl.rlim_max > want ? rl.rlim_max : want};
    if (setrlimit(RLIMIT_NOFILE, &nr) == 0)
        return (size_t)want;
    /* No CAP_SYS_RESOURCE: up to the hard limit. */
    nr.rlim_cur = nr.rlim_max = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &nr) != 0)
        return (size_t)rl.rlim_cur;
    return (size_t)rl.rlim_max;
}

/* ------------------------------------------------------------------ */
/* Accounts.                                                            */

typedef struct account {
    char name[64];
    char token[128];
} account;

static account *g_acc;
static size_t g_nacc;

static void load_tokens(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot open '%s': %s", path, strerror(errno));
    size_t cap = 1024;
    g_acc = xcalloc(cap, sizeof *g_acc);
    char name[64], tok[128];
    while (fscanf(f, "%63s %127s", name, tok) == 2) {
        if (g_nacc == cap) {
            cap *= 2;
            g_acc = realloc(g_acc, cap * sizeof *g_acc);
            if (!g_acc)
                die("out of memory");
        }
        snprintf(g_acc[g_nacc].name, sizeof g_acc[g_nacc].name, "%s", name);
        snprintf(g_acc[g_nacc].token, sizeof g_acc[g_nacc].token, "%s", tok);
        g_nacc++;
    }
    fclose(f);
    if (!g_nacc)
        die("no accounts in '%s'", path);
}

/* Callbacks dispatch on what a connection is for. */
typedef struct handler {
    void (*http)(lg_conn *c, int status, const char *body, size_t len);
    void (*open)(lg_conn *c);
    void (*text)(lg_conn *c, const char *p, size_t n);
    void (*closed)(lg_conn *c, const char *why);
} handler;

void lg_on_http(lg_conn *c, int status, const char *body, size_t len)
{
    ((const handler *)c->user)->http(c, status, body, len);
}

/* Sessions carry a client as user; see below. */
static void client_ws_open(lg_conn *c);
static void client_ws_text(lg_conn *c, const char *p, size_t n);
static void client_ws_closed(lg_conn *c, const char *why);

void lg_on_ws_open(lg_conn *c)
{
    client_ws_open(c);
}

void lg_on_ws_text(lg_conn *c, const char *text, size_t len)
{
    client_ws_text(c, text, len);
}

void lg_on_ws_closed(lg_conn *c, const char *why)
{
    client_ws_closed(c, why);
}

/* ---- register ---- */

static struct {
    size_t next, done, failed, inflight;
    FILE *out;
} R;

static void reg_start(size_t i);

static void reg_login_done(lg_conn *c, int status, const char *body,
                           size_t len)
{
    size_t i = (size_t)c->tag;
    R.inflight--;
    json_t *o = status == 200 ? json_loadb(body, len, 0, NULL) : NULL;
    const char *tok = o ? json_string_value(json_object_get(o, "token"))
                        : NULL;
    if (tok) {
        fprintf(R.out, "%s%06zu %s\n", O.prefix, i, tok);
        R.done++;
    } else {
        R.failed++;
        fprintf(stderr, "serve_load: login %zu: %d %.*s\n", i, status,
                (int)len, body);
    }
    json_decref(o);
}

static const handler reg_login_h = {reg_login_done, NULL, NULL, NULL};

static void reg_done(lg_conn *c, int status, const char *body, size_t len)
{
    size_t i = (size_t)c->tag;
    if (status != 201 && status != 409) {
        R.inflight--;
        R.failed++;
        fprintf(stderr, "serve_load: register %zu: %d %.*s\n", i, status,
                (int)len, body);
        return;
    }
    char req[256];
    int n = snprintf(req, sizeof req,
                     "{\"username\":\"%s%06zu\",\"password\":\"" PASSWORD
                     "\"}",
                     O.prefix, i);
    if (!lg_http("POST", "/v1/sessions", NULL, req, (size_t)n,
                 (void *)&reg_login_h, i)) {
        R.inflight--;
        R.failed++;
    }
}

static const handler reg_h = {reg_done, NULL, NULL, NULL};

static void reg_start(size_t i)
{
    char req[256];
    int n = snprintf(req, sizeof req,
                     "{\"username\":\"%s%06zu\",\"password\":\"" PASSWORD
                     "\",\"birth_date\":\"1990-01-01\"}",
                     O.prefix, i);
    R.inflight++;
    if (!lg_http("POST", "/v1/accounts", NULL, req, (size_t)n,
                 (void *)&reg_h, i)) {
        R.inflight--;
        R.failed++;
    }
}

static int run_register(void)
{
    if (O.accounts <= 0 || !O.out)
        usage();
    R.out = fopen(O.out, "w");
    if (!R.out)
        die("cannot write '%s': %s", O.out, strerror(errno));
    int64_t t0 = lg_now();
    while (R.done + R.failed < (size_t)O.accounts) {
        while (R.next < (size_t)O.accounts && R.inflight < 32)
            reg_start(R.next++);
        lg_poll(100);
    }
    fclose(R.out);
    double secs = (double)(lg_now() - t0) / 1e9;
    fprintf(stderr, "serve_load: %zu accounts registered and logged in "
                    "in %.1f s (%zu failed)\n",
            R.done, secs, R.failed);
    printf("RESULT mode=register accounts=%zu seconds=%.1f errors=%zu\n",
           R.done, secs, R.failed);
    return R.failed ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Clients: one ward.v1 session each.                                  */

typedef struct pending_ack {
    int64_t id;
    uint32_t seq;
} pending_ack;

typedef struct client {
    size_t idx;
    const account *acc;
    lg_conn *ws;
    int open, synced, closed;
    pending_ack *acks; /* ring, in the order the acks were sent */
    size_t a_head, a_len, a_cap;
} client;

static client *g_cl;
static size_t g_ncl, g_nopen, g_nsynced, g_nclosed;

/* Errors, by kind; the first few are printed. */
static struct {
    uint64_t total;
    uint64_t shown;
} E;

__attribute__((format(printf, 1, 2)))
static void error(const char *fmt, ...)
{
    E.total++;
    if (E.shown++ < 10) {
        va_list ap;
        va_start(ap, fmt);
        fputs("serve_load: error: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
}

static void open_sessions(size_t n, size_t from)
{
    /* At most 256 handshakes at once: the server's accept backlog is
     * 4096 and a SYN that overflows it waits a second to be resent. */
    int64_t last = lg_now();
    size_t next = from;
    while (g_nsynced + g_nclosed < n) {
        while (next < n && next - g_nsynced - g_nclosed < 256) {
            client *cl = &g_cl[next];
            cl->ws = lg_ws_open(cl->acc->token, cl, next);
            if (!cl->ws)
                die("cannot open connection %zu: %s", next, strerror(errno));
            next++;
        }
        size_t before = g_nsynced + g_nclosed;
        lg_poll(50);
        if (g_nsynced + g_nclosed != before)
            last = lg_now();
        else if (lg_now() - last > 30 * 1000000000LL)
            die("no session opened for 30 s (%zu of %zu synced)", g_nsynced,
                n);
    }
    if (g_nclosed)
        die("%zu sessions failed to open", g_nclosed);
}

static void close_sessions(void)
{
    for (size_t i = 0; i < g_ncl; i++)
        if (g_cl[i].ws && !g_cl[i].closed) {
            g_cl[i].closed = 1; /* ours: not an error */
            lg_close(g_cl[i].ws);
        }
    lg_poll(0);
}

static void client_ws_open(lg_conn *c)
{
    client *cl = c->user;
    cl->open = 1;
    g_nopen++;
}

static void client_ws_closed(lg_conn *c, const char *why)
{
    client *cl = c->user;
    if (cl->closed)
        return;
    cl->closed = 1;
    g_nclosed++;
    error("session %zu (%s) ended: %s", cl->idx, cl->acc->name, why);
}

/* ------------------------------------------------------------------ */
/* Messages.                                                            */

enum { F_STARTED = 1, F_SENT = 2, F_PUSHED = 4, F_ACKED = 8, F_DONE = 16,
       F_FAILED = 32 };

typedef struct msgrec {
    int64_t t0;     /* scheduled (open loop) or actual (closed) start */
    int64_t t_sent, t_push, t_acked;
    int64_t id;
    uint32_t from, to;
    uint8_t flags;
} msgrec;

static struct {
    msgrec *m;
    size_t n, cap;
    int closed_loop, via_ws;
    char tail_b64[96 * 1024]; /* the random part of every body */
    size_t tail_len;
    int64_t m0, m1;  /* the measured window */
    int stopping;    /* no new sends */
    size_t inflight; /* started, not done */
    size_t http_conns;
    uint64_t delivered_in_window, sent_in_window, started;
    uint64_t dups;
    size_t next_sender;
    int64_t max_lag;
} M;

static void send_next(int64_t t0);

static void complete(msgrec *r, int64_t now)
{
    r->flags |= F_DONE;
    M.inflight--;
    if (now >= M.m0 && now < M.m1 && !(r->flags & F_FAILED))
        M.delivered_in_window++;
    if (M.closed_loop && !M.stopping)
        send_next(lg_now());
}

static void maybe_complete(msgrec *r, int64_t now)
{
    if (!(r->flags & F_DONE) && (r->flags & F_SENT) && (r->flags & F_ACKED))
        complete(r, now);
}

static void send_failed(msgrec *r, const char *why, int status)
{
    error("send %u: %s (%d)", (unsigned)(r - M.m), why, status);
    r->flags |= F_FAILED;
    if (!(r->flags & F_DONE))
        complete(r, lg_now());
}

static void on_sent(msgrec *r, int64_t id)
{
    int64_t now = lg_now();
    if (r->flags & F_SENT) {
        error("send %u answered twice", (unsigned)(r - M.m));
        return;
    }
    r->flags |= F_SENT;
    r->t_sent = now;
    if (r->flags & F_PUSHED && r->id != id)
        error("send %u: id %lld, but pushed as %lld", (unsigned)(r - M.m),
              (long long)id, (long long)r->id);
    r->id = id;
    if (now >= M.m0 && now < M.m1)
        M.sent_in_window++;
    maybe_complete(r, now);
}

static void http_sent(lg_conn *c, int status, const char *body, size_t len)
{
    msgrec *r = &M.m[c->tag];
    M.http_conns--;
    if (status != 201) {
        char why[160];
        snprintf(why, sizeof why, "%.*s", (int)(len < 120 ? len : 120),
                 body);
        send_failed(r, why, status);
        return;
    }
    json_t *o = json_loadb(body, len, 0, NULL);
    json_int_t id = o ? json_integer_value(json_object_get(o, "id")) : 0;
    json_decref(o);
    if (id <= 0) {
        send_failed(r, "201 without an id", status);
        return;
    }
    on_sent(r, id);
}

static const handler send_h = {http_sent, NULL, NULL, NULL};

/* Starts message M.n from a sender, scheduled at |t0|. */
static void send_one(size_t from, int64_t t0)
{
    if (M.n == M.cap) {
        M.cap = M.cap ? M.cap * 2 : 1 << 16;
        M.m = realloc(M.m, M.cap * sizeof *M.m);
        if (!M.m)
            die("out of memory");
    }
    uint32_t seq = (uint32_t)M.n++;
    msgrec *r = &M.m[seq];
    memset(r, 0, sizeof *r);
    r->t0 = t0;
    r->from = (uint32_t)from;
    r->to = (uint32_t)((from + g_ncl / 2) % g_ncl);
    r->flags = F_STARTED;
    M.inflight++;
    M.started++;
    int64_t lag = lg_now() - t0;
    if (lag > M.max_lag && t0 >= M.m0 && t0 < M.m1)
        M.max_lag = lag;

    unsigned char hdr[HDR_BYTES];
    hdr[0] = MAGIC0;
    hdr[1] = MAGIC1;
    memcpy(hdr + 2, &seq, 4);
    memcpy(hdr + 6, &t0, 8);
    memcpy(hdr + 14, &r->from, 4);
    char hb64[HDR_B64 + 1];
    sodium_bin2base64(hb64, sizeof hb64, hdr, sizeof hdr,
                      sodium_base64_VARIANT_ORIGINAL);

    static char *req;
    static size_t req_cap;
    size_t need = M.tail_len + 256;
    if (req_cap < need) {
        free(req);
        req = xcalloc(1, need);
        req_cap = need;
    }
    const account *to = g_cl[r->to].acc;
    int n;
    if (M.via_ws)
        n = snprintf(req, req_cap,
                     "{\"type\":\"send\",\"ref\":%u,\"to\":\"%s\","
                     "\"msg_type\":2,\"commitment\":\"" LOAD_COMMITMENT
                     "\",\"body\":\"%s%s\"}",
                     seq, to->name, hb64, M.tail_b64);
    else
        n = snprintf(req, req_cap,
                     "{\"to\":\"%s\",\"type\":2,\"commitment\":\""
                     LOAD_COMMITMENT "\",\"body\":\"%s%s\"}",
                     to->name, hb64, M.tail_b64);
    if (M.via_ws) {
        client *cl = &g_cl[from];
        if (cl->closed) {
            send_failed(r, "sender's session is closed", 0);
            return;
        }
        lg_ws_send(cl->ws, req, (size_t)n);
    } else {
        lg_conn *c = lg_http("POST", "/v1/messages", g_cl[from].acc->token,
                             req, (size_t)n, (void *)&send_h, seq);
        if (!c) {
            send_failed(r, strerror(errno), 0);
            return;
        }
        M.http_conns++;
    }
}

static void send_next(int64_t t0)
{
    size_t from = M.next_sender++ % g_ncl;
    send_one(from, t0);
}

static void on_push(client *cl, json_t *msg)
{
    json_int_t id = json_integer_value(json_object_get(msg, "id"));
    const char *body = json_string_value(json_object_get(msg, "body"));
    unsigned char hdr[HDR_BYTES];
    size_t hl = 0;
    if (id <= 0 || !body || strlen(body) < HDR_B64 ||
        sodium_base642bin(hdr, sizeof hdr, body, HDR_B64, NULL, &hl, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        hl != HDR_BYTES || hdr[0] != MAGIC0 || hdr[1] != MAGIC1) {
        error("session %zu: a pushed message that is not ours", cl->idx);
        return;
    }
    uint32_t seq, from;
    memcpy(&seq, hdr + 2, 4);
    memcpy(&from, hdr + 14, 4);
    int64_t now = lg_now();
    if (seq >= M.n || M.m[seq].from != from || M.m[seq].to != cl->idx) {
        error("session %zu: message %u pushed to the wrong session", cl->idx,
              seq);
        return;
    }
    msgrec *r = &M.m[seq];
    if (r->flags & F_PUSHED) {
        M.dups++;
        error("message %u pushed twice", seq);
        return;
    }
    if ((r->flags & F_SENT) && r->id != id)
        error("message %u: sent as id %lld, pushed as %lld", seq,
              (long long)r->id, (long long)id);
    r->flags |= F_PUSHED;
    r->t_push = now;
    r->id = id;
    char ack[64];
    int n = snprintf(ack, sizeof ack, "{\"type\":\"ack\",\"id\":%lld}",
                     (long long)id);
    lg_ws_send(cl->ws, ack, (size_t)n);
    if (cl->a_len == cl->a_cap) {
        size_t cap = cl->a_cap ? cl->a_cap * 2 : 8;
        pending_ack *na = xcalloc(cap, sizeof *na);
        for (size_t i = 0; i < cl->a_len; i++)
            na[i] = cl->acks[(cl->a_head + i) % cl->a_cap];
        free(cl->acks);
        cl->acks = na;
        cl->a_cap = cap;
        cl->a_head = 0;
    }
    cl->acks[(cl->a_head + cl->a_len++) % cl->a_cap] =
        (pending_ack){id, seq};
}

/* The ack for |id| on |cl|: nearly always the oldest one outstanding. */
static int take_ack(client *cl, int64_t id, uint32_t *seq)
{
    for (size_t i = 0; i < cl->a_len; i++) {
        pending_ack *a = &cl->acks[(cl->a_head + i) % cl->a_cap];
        if (a->id != id)
            continue;
        *seq = a->seq;
        /* Remove by moving the head entry into the hole. */
        *a = cl->acks[cl->a_head];
        cl->a_head = (cl->a_head + 1) % cl->a_cap;
        cl->a_len--;
        return 0;
    }
    return -1;
}

static void client_ws_text(lg_conn *c, const char *p, size_t n)
{
    client *cl = c->user;
    json_error_t jerr;
    json_t *o = json_loadb(p, n, 0, &jerr);
    const char *type = o ? json_string_value(json_object_get(o, "type"))
                         : NULL;
    if (!type) {
        error("session %zu: frame without a type: %.80s", cl->idx, p);
    } else if (!strcmp(type, "message")) {
        on_push(cl, json_object_get(o, "message"));
    } else if (!strcmp(type, "acked")) {
        json_int_t id = json_integer_value(json_object_get(o, "id"));
        uint32_t seq;
        if (take_ack(cl, id, &seq)) {
            error("session %zu: acked %lld, which it did not ack", cl->idx,
                  (long long)id);
        } else {
            msgrec *r = &M.m[seq];
            int64_t now = lg_now();
            r->flags |= F_ACKED;
            r->t_acked = now;
            maybe_complete(r, now);
        }
    } else if (!strcmp(type, "sent")) {
        json_int_t ref = json_integer_value(json_object_get(o, "ref"));
        json_int_t id = json_integer_value(json_object_get(o, "id"));
        if (ref < 0 || (size_t)ref >= M.n || M.m[ref].from != cl->idx)
            error("session %zu: \"sent\" for a send it did not make",
                  cl->idx);
        else if (id <= 0)
            send_failed(&M.m[ref], "\"sent\" without an id", 0);
        else
            on_sent(&M.m[ref], id);
    } else if (!strcmp(type, "synced")) {
        if (!cl->synced) {
            cl->synced = 1;
            g_nsynced++;
        }
    } else if (!strcmp(type, "error")) {
        json_t *ref = json_object_get(o, "ref");
        json_t *err = json_object_get(o, "error");
        const char *code = json_string_value(json_object_get(err, "code"));
        if (json_is_integer(ref) && json_integer_value(ref) >= 0 &&
            (size_t)json_integer_value(ref) < M.n)
            send_failed(&M.m[json_integer_value(ref)], code ? code : "?", 0);
        else
            error("session %zu: error frame: %.200s", cl->idx, p);
    } else {
        error("session %zu: unexpected frame: %.200s", cl->idx, p);
    }
    json_decref(o);
}

/* ------------------------------------------------------------------ */
/* Measurements around the window.                                      */

static double cpu_self(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* The server's user+system CPU seconds, or -1. */
static double cpu_server(void)
{
    if (!O.server_pid)
        return -1;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", O.server_pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* Fields after the command name, which is in parentheses. */
    char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                            "%llu %llu",
                     &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A field of /proc/PID/status in KiB, or -1. */
static long proc_status_kb(int pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long v = -1;
    size_t fl = strlen(field);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, fl) && line[fl] == ':') {
            v = atol(line + fl + 1);
            break;
        }
    fclose(f);
    return v;
}

/* /metrics counters, fetched through the loop. */
typedef struct metrics {
    int done;
    double commits, msgs_in, acks, flushes_pending;
} metrics;

static double metric_value(const char *text, size_t len, const char *name)
{
    size_t nl = strlen(name);
    const char *end = text + len;
    for (const char *p = text; p < end;) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e)
            e = end;
        if ((size_t)(e - p) > nl + 1 && !memcmp(p, name, nl) && p[nl] == ' ')
            return strtod(p + nl + 1, NULL);
        p = e + 1;
    }
    return -1;
}

static metrics *g_metrics_target;

static void metrics_done(lg_conn *c, int status, const char *body,
                         size_t len)
{
    metrics *m = g_metrics_target;
    (void)c;
    if (status != 200) {
        error("GET /metrics: %d", status);
    } else {
        m->commits = metric_value(body, len, "ward_group_commits_total");
        m->msgs_in = metric_value(body, len, "ward_messages_in_total");
        m->acks =
            metric_value(body, len, "ward_messages_acked_websocket_total");
    }
    m->done = 1;
}

static const handler metrics_h = {metrics_done, NULL, NULL, NULL};

static void fetch_metrics(metrics *m)
{
    memset(m, 0, sizeof *m);
    g_metrics_target = m;
    if (!lg_http("GET", "/metrics", NULL, NULL, 0, (void *)&metrics_h, 0))
        error("GET /metrics: %s", strerror(errno));
}

/* ------------------------------------------------------------------ */
/* deliver                                                              */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Percentile |q| (0-1) of sorted |v| in ms, nearest rank. */
static double pct_ms(const int64_t *v, size_t n, double q)
{
    if (!n)
        return 0;
    size_t k = (size_t)ceil(q * (double)n);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return (double)v[k - 1] / 1e6;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static double uniform01(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return ((double)(rng_state >> 11) + 0.5) / 9007199254740992.0;
}

static int run_deliver(void)
{
    if (!O.tokens || O.clients < 2 || (O.inflight <= 0) == (O.rate <= 0) ||
        O.size < HDR_BYTES + 1 || O.size > 48 * 1024)
        usage();
    M.via_ws = !strcmp(O.via, "ws");
    if (!M.via_ws && strcmp(O.via, "http"))
        usage();
    M.closed_loop = O.inflight > 0;
    load_tokens(O.tokens);
    if ((size_t)O.clients > g_nacc)
        die("%d clients but %zu accounts: one session per account here, "
            "or pushes would be acked twice",
            O.clients, g_nacc);
    size_t nofile = raise_nofile((size_t)O.clients + MAX_HTTP_CONNS + 64);
    if (nofile < (size_t)O.clients + 200)
        die("%d clients need more than the %zu descriptors allowed",
            O.clients, nofile);
    if (g_http_cap > nofile - (size_t)O.clients - 100)
        g_http_cap = nofile - (size_t)O.clients - 100;
    lg_init(O.port, O.sources);

    /* The random part of the bodies, base64'd once. */
    size_t tail = (size_t)O.size - HDR_BYTES;
    unsigned char *rb = xcalloc(1, tail);
    randombytes_buf(rb, tail);
    sodium_bin2base64(M.tail_b64, sizeof M.tail_b64, rb, tail,
                      sodium_base64_VARIANT_ORIGINAL);
    M.tail_len = strlen(M.tail_b64);
    free(rb);

    g_ncl = (size_t)O.clients;
    g_cl = xcalloc(g_ncl, sizeof *g_cl);
    for (size_t i = 0; i < g_ncl; i++) {
        g_cl[i].idx = i;
        g_cl[i].acc = &g_acc[i];
    }
    int64_t ts = lg_now();
    open_sessions(g_ncl, 0);
    fprintf(stderr, "serve_load: %zu sessions synced in %.1f s\n", g_ncl,
            (double)(lg_now() - ts) / 1e9);
    if (E.total)
        die("errors while connecting");

    int64_t start = lg_now();
    M.m0 = start + (int64_t)(O.warmup * 1e9);
    M.m1 = M.m0 + (int64_t)(O.duration * 1e9);
    int64_t next_t = start;
    double cpu0 = 0, cpu1 = 0, scpu0 = 0, scpu1 = 0;
    metrics met0, met1;
    int in_window = 0;
    memset(&met0, 0, sizeof met0);
    memset(&met1, 0, sizeof met1);

    if (M.closed_loop)
        for (int k = 0; k < O.inflight; k++)
            send_next(lg_now());
    int64_t drain_end = 0;
    for (;;) {
        int64_t now = lg_now();
        if (!in_window && now >= M.m0) {
            in_window = 1;
            cpu0 = cpu_self();
            scpu0 = cpu_server();
            fetch_metrics(&met0);
        } else if (in_window == 1 && now >= M.m1) {
            in_window = 2;
            cpu1 = cpu_self();
            scpu1 = cpu_server();
            M.stopping = 1;
            drain_end = now + DRAIN_NS;
            /* After met0: the loop is single-threaded and met0 is long
             * done by now. */
            fetch_metrics(&met1);
        }
        if (M.stopping && M.inflight == 0 && met1.done)
            break;
        if (M.stopping && now > drain_end) {
            error("%zu messages not delivered %d s after the window",
                  M.inflight, (int)(DRAIN_NS / 1000000000));
            break;
        }
        int64_t timeout = 50000000;
        if (!M.closed_loop && !M.stopping) {
            while (next_t <= now && M.http_conns < g_http_cap) {
                send_one((size_t)(uniform01() * (double)g_ncl) % g_ncl,
                         next_t);
                next_t += (int64_t)(-log(uniform01()) / O.rate * 1e9);
            }
            timeout = next_t > now ? next_t - now : 0;
            if (timeout > 50000000)
                timeout = 50000000;
        }
        lg_poll_ns(timeout);
    }

    /* Latencies of the messages started in the window. */
    size_t nw = 0;
    for (size_t i = 0; i < M.n; i++)
        if (M.m[i].t0 >= M.m0 && M.m[i].t0 < M.m1)
            nw++;
    int64_t *lp = xcalloc(nw, sizeof *lp), *ls = xcalloc(nw, sizeof *ls),
            *la = xcalloc(nw, sizeof *la);
    size_t k = 0, incomplete = 0;
    for (size_t i = 0; i < M.n; i++) {
        msgrec *r = &M.m[i];
        if (!(r->flags & F_DONE) || (r->flags & F_FAILED) ||
            !(r->flags & F_PUSHED)) {
            if (!(r->flags & F_FAILED))
                incomplete++;
            continue;
        }
        if (r->t0 < M.m0 || r->t0 >= M.m1)
            continue;
        lp[k] = r->t_push - r->t0;
        ls[k] = r->t_sent - r->t0;
        la[k] = r->t_acked - r->t0;
        k++;
    }
    if (incomplete && !M.stopping)
        error("%zu messages incomplete", incomplete);
    qsort(lp, k, sizeof *lp, cmp_i64);
    qsort(ls, k, sizeof *ls, cmp_i64);
    qsort(la, k, sizeof *la, cmp_i64);

    double dur = (double)(M.m1 - M.m0) / 1e9;
    double gen_cpu = (cpu1 - cpu0) / dur * 100;
    double srv_cpu = scpu0 >= 0 && scpu1 >= 0 ? (scpu1 - scpu0) / dur * 100
                                              : -1;
    double commits = met1.commits - met0.commits;
    double stored = met1.msgs_in - met0.msgs_in;
    char load[64];
    if (M.closed_loop)
        snprintf(load, sizeof load, "inflight=%d", O.inflight);
    else
        snprintf(load, sizeof load, "rate=%.0f", O.rate);
    long rss = O.server_pid ? proc_status_kb(O.server_pid, "VmRSS") : -1;

    printf("RESULT mode=deliver label=%s via=%s clients=%zu %s size=%d "
           "window_s=%.1f delivered=%llu msgs_per_s=%.0f sent_per_s=%.0f "
           "push_p50_ms=%.2f push_p99_ms=%.2f push_p999_ms=%.2f "
           "push_max_ms=%.2f sent_p50_ms=%.2f sent_p99_ms=%.2f "
           "acked_p50_ms=%.2f acked_p99_ms=%.2f samples=%zu "
           "gen_cpu=%.0f srv_cpu=%.0f commits_per_s=%.0f "
           "msgs_per_commit=%.1f max_lag_ms=%.2f server_rss_kb=%ld "
           "errors=%llu\n",
           O.label[0] ? O.label : "-", O.via, g_ncl, load, O.size, dur,
           (unsigned long long)M.delivered_in_window,
           (double)M.delivered_in_window / dur,
           (double)M.sent_in_window / dur, pct_ms(lp, k, 0.50),
           pct_ms(lp, k, 0.99), pct_ms(lp, k, 0.999), pct_ms(lp, k, 1.0),
           pct_ms(ls, k, 0.50), pct_ms(ls, k, 0.99), pct_ms(la, k, 0.50),
           pct_ms(la, k, 0.99), k, gen_cpu, srv_cpu, commits / dur,
           commits > 0 ? stored / commits : 0, (double)M.max_lag / 1e6, rss,
           (unsigned long long)E.total);
    fflush(stdout);
    close_sessions();
    free(lp);
    free(ls);
    free(la);
    return E.total ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* idle                                                                 */

static long meminfo(const char *field)
{
    char line[256];
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return -1;
    long v = -1;
    size_t fl = strlen(field);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, fl) && line[fl] == ':') {
            v = atol(line + fl + 1);
            break;
        }
    fclose(f);
    return v;
}

typedef struct memsnap {
    long rss, anon, slab;
} memsnap;

static memsnap snap(void)
{
    memsnap s;
    s.rss = proc_status_kb(O.server_pid, "VmRSS");
    s.anon = proc_status_kb(O.server_pid, "RssAnon");
    s.slab = meminfo("Slab");
    return s;
}

static void settle(double secs)
{
    int64_t end = lg_now() + (int64_t)(secs * 1e9);
    while (lg_now() < end)
        lg_poll(100);
}

static int run_idle(void)
{
    if (!O.tokens || !O.conns || !O.server_pid)
        usage();
    load_tokens(O.tokens);
    size_t targets[16], nt = 0, maxn = 0;
    for (const char *p = O.conns; *p && nt < 16;) {
        targets[nt] = strtoul(p, NULL, 10);
        if (targets[nt] <= maxn)
            usage();
        maxn = targets[nt++];
        p = strchr(p, ',');
        if (!p)
            break;
        p++;
    }
    size_t nofile = raise_nofile(maxn + 64);
    if (nofile < maxn + 32)
        die("%zu sessions need more than the %zu descriptors allowed", maxn,
            nofile);
    lg_init(O.port, O.sources);
    g_ncl = maxn;
    g_cl = xcalloc(g_ncl, sizeof *g_cl);
    for (size_t i = 0; i < g_ncl; i++) {
        g_cl[i].idx = i;
        g_cl[i].acc = &g_acc[i % g_nacc];
    }
    settle(O.settle);
    memsnap base = snap();
    if (base.rss < 0)
        die("cannot read /proc/%d/status", O.server_pid);
    fprintf(stderr, "serve_load: server VmRSS %ld KiB with no session\n",
            base.rss);
    size_t have = 0;
    int rc = 0;
    for (size_t t = 0; t < nt; t++) {
        int64_t t0 = lg_now();
        open_sessions(targets[t], have);
        double secs = (double)(lg_now() - t0) / 1e9;
        have = targets[t];
        settle(O.settle);
        memsnap s = snap();
        size_t alive = 0;
        for (size_t i = 0; i < have; i++)
            alive += g_cl[i].synced && !g_cl[i].closed;
        double n = (double)have;
        printf("RESULT mode=idle conns=%zu accounts=%zu alive=%zu "
               "open_s=%.1f rss0_kb=%ld rss_kb=%ld anon0_kb=%ld "
               "anon_kb=%ld per_conn_rss_b=%.0f per_conn_anon_b=%.0f "
               "kernel_slab_per_conn_b=%.0f errors=%llu\n",
               have, g_nacc < have ? g_nacc : have, alive, secs, base.rss,
               s.rss, base.anon, s.anon, (double)(s.rss - base.rss) * 1024 / n,
               (double)(s.anon - base.anon) * 1024 / n,
               (double)(s.slab - base.slab) * 1024 / n,
               (unsigned long long)E.total);
        fflush(stdout);
        if (alive != have)
            rc = 1;
    }
    close_sessions();
    return rc || E.total ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        die("sodium_init failed");
    parse_args(argc, argv);
    if (!strcmp(O.mode, "register")) {
        lg_init(O.port, O.sources);
        return run_register();
    }
    if (!strcmp(O.mode, "deliver"))
        return run_deliver();
    if (!strcmp(O.mode, "idle"))
        return run_idle();
    usage();
}
