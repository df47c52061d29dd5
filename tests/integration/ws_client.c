/*
 * A small ward.v1 WebSocket client for the integration tests
 * (libwebsockets 4.1.6, and plain sockets for frames lws will not send).
 *
 *   ws_client --port P [--token T] [--host H] [--tls] [--timeout S]
 *             [--retry S] [--expect N] [--ack-first | --ack-n K]
 *             [--ack-id ID]... [--send KIND]... [--expect-close CODE]
 *             [--expect-reject]
 *   ws_client --raw KIND --port P [--token T] [--id N] [--timeout S]
 *             [--expect-close CODE]
 *
 * It connects to /v1/ws with "Authorization: Bearer T" and prints one
 * line per event on stdout (flushed, so a script can follow it):
 *   open | message ID FROM BODY | synced | acked ID | error CODE [ID] |
 *   close CODE REASON | closed | reject TEXT | retry | pong | eof
 * The scenario: wait for N messages and "synced"; then acknowledge the
 * first K messages (--ack-first is K = 1), one at a time, each waiting
 * for its "acked"; then send an ack for each --ack-id and wait for its
 * answer (acked or error); then send each --send frame in turn, each
 * waiting for an answer (an error or acked frame, or a close); then wait
 * for a close with --expect-close's code, or finish. --retry keeps
 * trying to connect for S seconds (a server being restarted).
 * --expect-reject succeeds if the upgrade is refused.
 *
 * --send KIND: garbage (not JSON), binary (a binary frame), unknown (an
 * unknown type), text:STRING (exactly STRING), big:N (an ack of id 0
 * padded with spaces to N bytes), badutf8 (invalid UTF-8 in a text
 * frame), nul:ID (an ack of ID, then a NUL byte and more bytes), frag:ID
 * (an ack of ID in two fragments).
 *
 * --raw KIND writes frames by hand on a plain socket (no TLS), after
 * "synced":
 * midframe (a frame header announcing 1000 bytes, 10 of them, then the
 * socket is closed), frag-close (the first fragment of a message, then a
 * close frame), unmasked (an ack of id 0 without a mask), opcode (a
 * reserved opcode), frag-ack (an ack of --id in two fragments with a ping
 * between them, then a clean close).
 *
 * Exit: 0 as expected, 1 wrong outcome, 2 connection error, 3 closed
 * unexpectedly, 4 timeout.
 */
#define _GNU_SOURCE /* memmem */
#include <jansson.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_SENDS 32
#define MAX_ACK_IDS 16

/* One frame waiting to go out. */
typedef struct out_frame {
    struct out_frame *next;
    unsigned char *data;
    size_t len;
    int flags; /* lws_write's protocol argument */
} out_frame;

static struct {
    struct lws_context *cx;
    struct lws *wsi;
    const char *host, *token;
    int port, tls, expect, ack_n, expect_close, expect_reject;
    const char *sends[MAX_SENDS];
    int n_sends, send_i, send_waiting;
    long long ack_ids[MAX_ACK_IDS];
    int n_ack_ids, ack_id_i, ack_id_waiting;
    int got, synced, acked, ack_sent, retry_pending;
    long long ids[64];
    int n_ids;
    int done, rc;
    lws_usec_t retry_until;
    out_frame *tx_head, *tx_tail;
    /* reassembly */
    char *rx;
    size_t rx_len, rx_cap;
    lws_sorted_usec_list_t sul_timeout, sul_retry;
} g;

static void finish(int rc)
{
    if (!g.done) {
        g.rc = rc;
        g.done = 1;
        /* From a timer, lws_service would go on to wait for the next
         * event: wake it so the loop ends now. */
        if (g.cx)
            lws_cancel_service(g.cx);
    }
}

static void emit(const char *line)
{
    fputs(line, stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

static void queue_frame(const void *p, size_t n, int flags)
{
    out_frame *f = calloc(1, sizeof *f);
    f->data = malloc(LWS_PRE + n + 1);
    memcpy(f->data + LWS_PRE, p, n);
    f->len = n;
    f->flags = flags;
    if (g.tx_tail)
        g.tx_tail->next = f;
    else
        g.tx_head = f;
    g.tx_tail = f;
    if (g.wsi)
        lws_callback_on_writable(g.wsi);
}

static void queue_text(const char *s)
{
    queue_frame(s, strlen(s), LWS_WRITE_TEXT);
}

static void queue_ack(long long id)
{
    char buf[64];
    snprintf(buf, sizeof buf, "{\"type\":\"ack\",\"id\":%lld}", id);
    queue_text(buf);
}

/* The frames of one --send KIND. */
static void queue_send(const char *kind)
{
    char buf[128];
    if (strcmp(kind, "garbage") == 0) {
        queue_text("this is {not json");
    } else if (strcmp(kind, "binary") == 0) {
        queue_frame("\x01\x02\x03", 3, LWS_WRITE_BINARY);
    } else if (strcmp(kind, "unknown") == 0) {
        queue_text("{\"type\":\"frobnicate\"}");
    } else if (strncmp(kind, "text:", 5) == 0) {
        queue_text(kind + 5);
    } else if (strncmp(kind, "big:", 4) == 0) {
        size_t n = strtoul(kind + 4, NULL, 10);
        static const char head[] = "{\"type\":\"ack\",\"id\":0";
        char *p = malloc(n + sizeof head);
        memset(p, ' ', n);
        memcpy(p, head, sizeof head - 1);
        p[n - 1] = '}';
        queue_frame(p, n, LWS_WRITE_TEXT);
        free(p);
    } else if (strcmp(kind, "badutf8") == 0) {
        queue_text("{\"type\":\"ack\",\"id\":\"\xff\xfe\"}");
    } else if (strncmp(kind, "nul:", 4) == 0) {
        int n = snprintf(buf, sizeof buf, "{\"type\":\"ack\",\"id\":%s}", kind + 4);
        memcpy(buf + n, "\0{\"junk\":", 9);
        queue_frame(buf, (size_t)n + 9, LWS_WRITE_TEXT);
    } else if (strncmp(kind, "frag:", 5) == 0) {
        queue_frame("{\"type\":\"ack\",", 14, LWS_WRITE_TEXT | LWS_WRITE_NO_FIN);
        int n = snprintf(buf, sizeof buf, "\"id\":%s}", kind + 5);
        queue_frame(buf, (size_t)n, LWS_WRITE_CONTINUATION);
    } else {
        fprintf(stderr, "ws_client: unknown --send '%s'\n", kind);
        finish(1);
    }
}

/* Moves the scenario on after each event. */
static void step(void)
{
    if (g.done || g.got < g.expect || !g.synced)
        return;
    if (g.acked < g.ack_n) {
        if (g.ack_sent == g.acked && g.ack_sent < g.n_ids) {
            queue_ack(g.ids[g.ack_sent]);
            g.ack_sent++;
        }
        return;
    }
    if (g.ack_id_i < g.n_ack_ids || g.ack_id_waiting) {
        if (!g.ack_id_waiting) {
            queue_ack(g.ack_ids[g.ack_id_i++]);
            g.ack_id_waiting = 1;
        }
        return;
    }
    if (g.send_i < g.n_sends || g.send_waiting) {
        if (!g.send_waiting) {
            queue_send(g.sends[g.send_i++]);
            g.send_waiting = 1;
        }
        return; /* an answer or a close comes next */
    }
    if (!g.expect_close)
        finish(0);
}

/* Prints one server frame; returns its type (or NULL). The caller owns
 * *out and must json_decref it. */
static const char *print_frame(const char *m, size_t len, json_t **out)
{
    char line[512];
    json_t *o = json_loadb(m, len, 0, NULL);
    const char *type = json_string_value(json_object_get(o, "type"));
    *out = o;
    if (!type) {
        snprintf(line, sizeof line, "bad %.*s", (int)(len > 200 ? 200 : len), m);
    } else if (strcmp(type, "message") == 0) {
        json_t *msg = json_object_get(o, "message");
        const char *from = json_string_value(json_object_get(msg, "from"));
        const char *body = json_string_value(json_object_get(msg, "body"));
        snprintf(line, sizeof line, "message %lld %s %.200s",
                 (long long)json_integer_value(json_object_get(msg, "id")),
                 from ? from : "?", body ? body : "?");
    } else if (strcmp(type, "synced") == 0) {
        snprintf(line, sizeof line, "synced");
    } else if (strcmp(type, "acked") == 0) {
        snprintf(line, sizeof line, "acked %lld",
                 (long long)json_integer_value(json_object_get(o, "id")));
    } else if (strcmp(type, "error") == 0) {
        const char *code = json_string_value(
            json_object_get(json_object_get(o, "error"), "code"));
        json_t *id = json_object_get(o, "id");
        if (id)
            snprintf(line, sizeof line, "error %s %lld", code ? code : "?",
                     (long long)json_integer_value(id));
        else
            snprintf(line, sizeof line, "error %s", code ? code : "?");
    } else {
        snprintf(line, sizeof line, "other %.64s", type);
    }
    emit(line);
    return type;
}

static void on_message(const char *m, size_t len)
{
    json_t *o;
    const char *type = print_frame(m, len, &o);
    if (!type) {
        finish(1);
    } else if (strcmp(type, "message") == 0) {
        if (g.n_ids < (int)(sizeof g.ids / sizeof g.ids[0]))
            g.ids[g.n_ids++] = (long long)json_integer_value(
                json_object_get(json_object_get(o, "message"), "id"));
        g.got++;
    } else if (strcmp(type, "synced") == 0) {
        g.synced = 1;
    } else if (strcmp(type, "acked") == 0 || strcmp(type, "error") == 0) {
        int is_error = type[0] == 'e';
        if (g.ack_id_waiting)
            g.ack_id_waiting = 0;
        else if (g.send_waiting)
            g.send_waiting = 0;
        else if (!is_error && g.acked < g.ack_sent)
            g.acked++;
        else
            finish(1); /* an answer nobody asked for, or a failed ack */
    }
    json_decref(o);
    step();
}

static void connect_now(void);

static void on_retry(lws_sorted_usec_list_t *sul)
{
    (void)sul;
    g.retry_pending = 0;
    connect_now();
}

/* Tries again in 200 ms, while --retry's time lasts; 0 if it does not. */
static int retry_later(void)
{
    if (!g.retry_until || lws_now_usecs() >= g.retry_until)
        return 0;
    if (!g.retry_pending) {
        g.retry_pending = 1;
        emit("retry");
        lws_sul_schedule(g.cx, 0, &g.sul_retry, on_retry,
                         200 * LWS_US_PER_MS);
    }
    return 1;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len)
{
    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        unsigned char **p = (unsigned char **)in, *end = (*p) + len;
        char auth[300];
        if (!g.token)
            break;
        int n = snprintf(auth, sizeof auth, "Bearer %s", g.token);
        if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
                                         (unsigned char *)auth, n, p, end))
            return -1;
        break;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        g.wsi = NULL;
        if (retry_later())
            break;
        printf("reject %s\n", in ? (char *)in : "(null)");
        fflush(stdout);
        finish(g.expect_reject ? 0 : 2);
        break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        emit("open");
        if (g.expect_reject)
            finish(1);
        if (g.tx_head)
            lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (g.rx_len + len + 1 > g.rx_cap) {
            size_t cap = g.rx_cap ? g.rx_cap : 1024;
            while (cap < g.rx_len + len + 1)
                cap *= 2;
            g.rx = realloc(g.rx, cap);
            g.rx_cap = cap;
        }
        memcpy(g.rx + g.rx_len, in, len);
        g.rx_len += len;
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            on_message(g.rx, g.rx_len);
            g.rx_len = 0;
        }
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        out_frame *f = g.tx_head;
        if (!f)
            break;
        int n = lws_write(wsi, f->data + LWS_PRE, f->len,
                          (enum lws_write_protocol)f->flags);
        g.tx_head = f->next;
        if (!g.tx_head)
            g.tx_tail = NULL;
        free(f->data);
        free(f);
        if (n < 0)
            return -1;
        if (g.tx_head)
            lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: {
        const unsigned char *b = in;
        int code = len >= 2 ? (b[0] << 8) | b[1] : 0;
        printf("close %d %.*s\n", code, len > 2 ? (int)len - 2 : 0,
               len > 2 ? (const char *)b + 2 : "");
        fflush(stdout);
        finish(g.expect_close && code == g.expect_close ? 0 : 1);
        break;
    }
    case LWS_CALLBACK_CLIENT_CLOSED:
        g.wsi = NULL;
        if (!g.done)
            emit("closed");
        finish(g.expect_reject ? 0 : 3);
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"ward.v1", callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void on_timeout(lws_sorted_usec_list_t *sul)
{
    (void)sul;
    printf("timeout got=%d synced=%d\n", g.got, g.synced);
    fflush(stdout);
    finish(4);
}

static void connect_now(void)
{
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = g.cx;
    ci.address = g.host;
    ci.port = g.port;
    ci.path = "/v1/ws";
    ci.host = g.host;
    ci.origin = g.host;
    ci.protocol = "ward.v1";
    ci.local_protocol_name = "ward.v1";
    if (g.tls)
        ci.ssl_connection = LCCSCF_USE_SSL | LCCSCF_ALLOW_SELFSIGNED |
                            LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
    ci.pwsi = &g.wsi;
    if (!lws_client_connect_via_info(&ci) && !retry_later()) {
        emit("reject connect failed");
        finish(g.expect_reject ? 0 : 2);
    }
}

/* ---- raw mode: frames written by hand on a plain socket ---- */

static struct {
    int fd;
    unsigned char buf[1 << 17];
    size_t len;
    lws_usec_t deadline;
} R;

static int raw_send(const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n) {
        ssize_t w = send(R.fd, b, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One client frame, masked unless |unmasked|. */
static int raw_frame(int fin, int opcode, const void *payload, size_t n,
                     int unmasked)
{
    unsigned char h[14], mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    size_t hl = 2;
    h[0] = (unsigned char)((fin ? 0x80 : 0) | opcode);
    if (n < 126) {
        h[1] = (unsigned char)n;
    } else {
        h[1] = 126;
        h[2] = (unsigned char)(n >> 8);
        h[3] = (unsigned char)n;
        hl = 4;
    }
    if (!unmasked) {
        h[1] |= 0x80;
        memcpy(h + hl, mask, 4);
        hl += 4;
    }
    unsigned char *p = malloc(hl + n + 1);
    memcpy(p, h, hl);
    for (size_t i = 0; i < n; i++)
        p[hl + i] = ((const unsigned char *)payload)[i] ^
                    (unmasked ? 0 : mask[i % 4]);
    int r = raw_send(p, hl + n);
    free(p);
    return r;
}

/* Reads more bytes; 0 on EOF, -1 on timeout or error. */
static int raw_fill(void)
{
    lws_usec_t left = R.deadline - lws_now_usecs();
    if (left <= 0 || R.len == sizeof R.buf)
        return -1;
    struct pollfd pfd = {R.fd, POLLIN, 0};
    if (poll(&pfd, 1, (int)(left / 1000) + 1) <= 0)
        return -1;
    ssize_t n = recv(R.fd, R.buf + R.len, sizeof R.buf - R.len, 0);
    if (n < 0)
        return -1;
    R.len += (size_t)n;
    return n > 0;
}

/* Reads one server frame: its opcode (or -1 timeout, -2 EOF); the
 * payload goes to |pl| (at most |cap| bytes kept). */
static int raw_read_frame(unsigned char *pl, size_t cap, size_t *plen)
{
    for (;;) {
        if (R.len >= 2) {
            size_t n = R.buf[1] & 0x7f, hl = 2;
            if (n == 126 && R.len >= 4) {
                n = ((size_t)R.buf[2] << 8) | R.buf[3];
                hl = 4;
            } else if (n == 127 && R.len >= 10) {
                n = 0;
                for (int i = 0; i < 8; i++)
                    n = (n << 8) | R.buf[2 + i];
                hl = 10;
            }
            if (n < 126 || hl > 2) {
                if (R.len >= hl + n) {
                    int op = R.buf[0] & 0x0f;
                    *plen = n < cap ? n : cap;
                    memcpy(pl, R.buf + hl, *plen);
                    memmove(R.buf, R.buf + hl + n, R.len - hl - n);
                    R.len -= hl + n;
                    return op;
                }
            }
        }
        int r = raw_fill();
        if (r < 0)
            return -1;
        if (r == 0)
            return -2;
    }
}

/* Prints frames until one of type |until| ("answer": acked or error;
 * NULL: none), a close, EOF or the timeout. Returns the last opcode or
 * -1 (timeout) / -2 (EOF); *close_code is set when a close frame came. */
static int raw_until(const char *until, int *close_code)
{
    static unsigned char pl[1 << 16];
    size_t n;
    for (;;) {
        int op = raw_read_frame(pl, sizeof pl - 1, &n);
        if (op < 0) {
            emit(op == -1 ? "timeout" : "eof");
            return op;
        }
        if (op == 8) {
            *close_code = n >= 2 ? (pl[0] << 8) | pl[1] : 0;
            printf("close %d %.*s\n", *close_code, n > 2 ? (int)n - 2 : 0,
                   n > 2 ? (const char *)pl + 2 : "");
            fflush(stdout);
            return op;
        }
        if (op == 10) {
            emit("pong");
            continue;
        }
        if (op == 9) {
            raw_frame(1, 10, pl, n, 0);
            continue;
        }
        json_t *o;
        const char *type = print_frame((const char *)pl, n, &o);
        int hit = type && until &&
                  (strcmp(type, until) == 0 ||
                   (strcmp(until, "answer") == 0 &&
                    (strcmp(type, "acked") == 0 || strcmp(type, "error") == 0)));
        json_decref(o);
        if (hit)
            return op;
    }
}

static int raw_main(const char *kind, long long id, int timeout)
{
    char req[1024], port[16];
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof port, "%d", g.port);
    R.deadline = lws_now_usecs() + (lws_usec_t)timeout * LWS_USEC_PER_SEC;
    if (getaddrinfo(g.host, port, &hints, &ai) || !ai)
        return 2;
    R.fd = socket(AF_INET, SOCK_STREAM, 0);
    if (R.fd < 0 || connect(R.fd, ai->ai_addr, ai->ai_addrlen)) {
        freeaddrinfo(ai);
        emit("reject connect failed");
        return 2;
    }
    freeaddrinfo(ai);
    int n = snprintf(req, sizeof req,
                     "GET /v1/ws HTTP/1.1\r\nHost: %s\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Protocol: ward.v1\r\n"
                     "%s%s%s\r\n",
                     g.host, g.token ? "Authorization: Bearer " : "",
                     g.token ? g.token : "", g.token ? "\r\n" : "");
    if (raw_send(req, (size_t)n))
        return 2;
    /* The handshake's answer, then frames. */
    unsigned char *end;
    for (;;) {
        end = (unsigned char *)memmem(R.buf, R.len, "\r\n\r\n", 4);
        if (end)
            break;
        if (raw_fill() <= 0) {
            emit("reject no answer");
            return 2;
        }
    }
    if (R.len < 12 || memcmp(R.buf, "HTTP/1.1 101", 12) != 0) {
        printf("reject %.12s\n", (const char *)R.buf);
        fflush(stdout);
        return 2;
    }
    emit("open");
    size_t hl = (size_t)(end - R.buf) + 4;
    memmove(R.buf, R.buf + hl, R.len - hl);
    R.len -= hl;

    int code = 0, op = raw_until("synced", &code);
    if (op < 0 || op == 8)
        return op == 8 ? 3 : 4;
    if (strcmp(kind, "midframe") == 0) {
        /* A masked text frame announcing 1000 bytes; 10 come. */
        unsigned char h[8] = {0x81, 0x80 | 126, 0x03, 0xe8, 1, 2, 3, 4};
        raw_send(h, sizeof h);
        raw_send("{\"type\":\"a", 10);
        emit("sent midframe");
        close(R.fd);
        return 0;
    } else if (strcmp(kind, "frag-close") == 0) {
        raw_frame(0, 1, "{\"type\":", 8, 0);
        raw_frame(1, 8, "\x03\xe8", 2, 0);
        emit("sent frag-close");
    } else if (strcmp(kind, "unmasked") == 0) {
        raw_frame(1, 1, "{\"type\":\"ack\",\"id\":0}", 21, 1);
    } else if (strcmp(kind, "opcode") == 0) {
        raw_frame(1, 3, "{}", 2, 0);
    } else if (strcmp(kind, "frag-ack") == 0) {
        char tail[64];
        int tn = snprintf(tail, sizeof tail, "\"id\":%lld}", id);
        raw_frame(0, 1, "{\"type\":\"ack\",", 14, 0);
        raw_frame(1, 9, "ping", 4, 0);
        raw_frame(1, 0, tail, (size_t)tn, 0);
        op = raw_until("answer", &code);
        if (op >= 0 && op != 8)
            raw_frame(1, 8, "\x03\xe8", 2, 0); /* done: a clean close */
    } else {
        fprintf(stderr, "ws_client: unknown --raw '%s'\n", kind);
        return 1;
    }
    if (op != 8)
        op = raw_until(NULL, &code);
    close(R.fd);
    if (op == -1)
        return 4;
    if (g.expect_close)
        return op == 8 && code == g.expect_close ? 0 : 1;
    return 0;
}

static const char *opt(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return i + 1 < argc ? argv[i + 1] : "";
    return NULL;
}

int main(int argc, char **argv)
{
    const char *p;
    int timeout = 10;
    g.host = (p = opt(argc, argv, "--host")) ? p : "127.0.0.1";
    g.port = (p = opt(argc, argv, "--port")) ? atoi(p) : 0;
    g.token = opt(argc, argv, "--token");
    g.tls = opt(argc, argv, "--tls") != NULL;
    g.expect = (p = opt(argc, argv, "--expect")) ? atoi(p) : 0;
    g.ack_n = opt(argc, argv, "--ack-first") ? 1 : 0;
    if ((p = opt(argc, argv, "--ack-n")))
        g.ack_n = atoi(p);
    g.expect_close = (p = opt(argc, argv, "--expect-close")) ? atoi(p) : 0;
    g.expect_reject = opt(argc, argv, "--expect-reject") != NULL;
    if ((p = opt(argc, argv, "--timeout")))
        timeout = atoi(p);
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--send") == 0 && g.n_sends < MAX_SENDS)
            g.sends[g.n_sends++] = argv[i + 1];
        else if (strcmp(argv[i], "--ack-id") == 0 && g.n_ack_ids < MAX_ACK_IDS)
            g.ack_ids[g.n_ack_ids++] = atoll(argv[i + 1]);
    }
    if (!g.port) {
        fprintf(stderr, "usage: ws_client --port P [--token T] ...\n");
        return 2;
    }
    if ((p = opt(argc, argv, "--raw"))) {
        const char *id = opt(argc, argv, "--id");
        return raw_main(p, id ? atoll(id) : 0, timeout);
    }

    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    if (g.tls)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    g.cx = lws_create_context(&info);
    if (!g.cx)
        return 2;
    if ((p = opt(argc, argv, "--retry")))
        g.retry_until = lws_now_usecs() +
                        (lws_usec_t)atoi(p) * LWS_USEC_PER_SEC;
    connect_now();
    lws_sul_schedule(g.cx, 0, &g.sul_timeout, on_timeout,
                     (lws_usec_t)timeout * LWS_USEC_PER_SEC);
    while (!g.done)
        if (lws_service(g.cx, 0) < 0)
            break;
    lws_sul_cancel(&g.sul_timeout);
    lws_sul_cancel(&g.sul_retry);
    lws_context_destroy(g.cx);
    while (g.tx_head) {
        out_frame *f = g.tx_head;
        g.tx_head = f->next;
        free(f->data);
        free(f);
    }
    free(g.rx);
    return g.rc;
}
