/*
 * serve_load's network layer: HTTP/1.1 requests and ward.v1 WebSocket
 * sessions on one edge-triggered epoll loop.
 *
 * Written by hand rather than with a library, on purpose:
 *  - libwebsockets 4.1.6 (the server's own transport) services its
 *    connections with poll(2) over one array of every descriptor, so at
 *    10,000-50,000 client connections each pass of the generator's loop
 *    would cost time proportional to all of them, and the generator, not
 *    the server, would be measured. It would also put the same library on
 *    both ends of the wire, where one bug can hide in both.
 *  - Debian 12's libcurl (7.88) has no WebSocket support built in, and a
 *    curl easy handle per send costs more than the request itself.
 * What is needed is a small subset that is checked strictly: requests we
 * write ourselves, answers framed by Content-Length (the server sends
 * nothing else), the upgrade handshake (status 101 and the RFC 6455
 * accept value for our fixed key), and unmasked server frames with 7-,
 * 16- or 64-bit lengths, fragments, ping (answered) and close. Anything
 * else is an error that the caller counts.
 *
 * Writes are gathered: a frame or request is appended to its
 * connection's buffer and every connection touched in a pass of the loop
 * is written once at the end of the pass, so the acks for a burst of
 * pushes on one session go out in one write(2).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "serve_load.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define MAX_EVENTS 4096
#define RX_MAX (16u << 20) /* one answer or frame: more is an error */

/* The RFC 6455 section 1.3 example key and its accept value: the server
 * must answer with exactly this. */
#define WS_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define WS_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

enum { ST_CONNECTING, ST_HTTP_WAIT, ST_WS_HANDSHAKE, ST_WS_OPEN, ST_DEAD };

static struct {
    int ep, port, sources;
    unsigned next_source;
    struct sockaddr_in server;
    lg_conn *dirty, *dead;
    size_t open;
    uint64_t rng;
} L;

static void die(const char *what)
{
    fprintf(stderr, "serve_load: %s: %s\n", what, strerror(errno));
    exit(1);
}

int64_t lg_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void lg_init(int port, int sources)
{
    L.ep = epoll_create1(EPOLL_CLOEXEC);
    if (L.ep < 0)
        die("epoll_create1");
    L.port = port;
    L.sources = sources < 1 ? 1 : sources > 250 ? 250 : sources;
    memset(&L.server, 0, sizeof L.server);
    L.server.sin_family = AF_INET;
    L.server.sin_port = htons((uint16_t)port);
    L.server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    L.rng = (uint64_t)lg_now() | 1;
}

size_t lg_open_conns(void)
{
    return L.open;
}

static uint32_t rnd32(void)
{
    /* xorshift64: masking keys only need to vary, not be secret here */
    L.rng ^= L.rng << 13;
    L.rng ^= L.rng >> 7;
    L.rng ^= L.rng << 17;
    return (uint32_t)(L.rng >> 16);
}

static int reserve(unsigned char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 512;
    while (n < need)
        n *= 2;
    unsigned char *p = realloc(*buf, n);
    if (!p)
        return -1;
    *buf = p;
    *cap = n;
    return 0;
}

static void mark_dirty(lg_conn *c)
{
    if (!c->dirty && c->state != ST_DEAD) {
        c->dirty = 1;
        c->next_dirty = L.dirty;
        L.dirty = c;
    }
}

static void tx_append(lg_conn *c, const void *p, size_t n)
{
    if (reserve(&c->tx, &c->tx_cap, c->tx_len + n)) {
        fprintf(stderr, "serve_load: out of memory\n");
        exit(1);
    }
    memcpy(c->tx + c->tx_len, p, n);
    c->tx_len += n;
    mark_dirty(c);
}

void lg_close(lg_conn *c)
{
    if (c->state == ST_DEAD)
        return;
    close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    c->state = ST_DEAD;
    c->next_dead = L.dead;
    L.dead = c;
    L.open--;
}

static lg_conn *conn_new(int kind, void *user, uint64_t tag)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* Let connect() choose the port for the whole 4-tuple. */
    (void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
                     sizeof one);
    struct sockaddr_in src;
    memset(&src, 0, sizeof src);
    src.sin_family = AF_INET;
    src.sin_addr.s_addr =
        htonl(INADDR_LOOPBACK + 1 + (L.next_source++ % (unsigned)L.sources));
    if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0 ||
        (connect(fd, (struct sockaddr *)&L.server, sizeof L.server) != 0 &&
         errno != EINPROGRESS)) {
        int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    lg_conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    c->fd = fd;
    c->kind = kind;
    c->state = ST_CONNECTING;
    c->user = user;
    c->tag = tag;
    struct epoll_event ev;
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = c;
    if (epoll_ctl(L.ep, EPOLL_CTL_ADD, fd, &ev) != 0)
        die("epoll_ctl");
    L.open++;
    return c;
}

lg_conn *lg_http(const char *method, const char *path, const char *token,
                 const char *body, size_t body_len, void *user, uint64_t tag)
{
    lg_conn *c = conn_new(LG_HTTP, user, tag);
    if (!c)
        return NULL;
    char hdr[512];
    int n = snprintf(hdr, sizeof hdr, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n",
                     method, path, L.port);
    if (token)
        n += snprintf(hdr + n, sizeof hdr - (size_t)n,
                      "Authorization: Bearer %s\r\n", token);
    if (body)
        n += snprintf(hdr + n, sizeof hdr - (size_t)n,
                      "Content-Type: application/json\r\n"
                      "Content-Length: %zu\r\n",
                      body_len);
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, "\r\n");
    if ((size_t)n >= sizeof hdr) {
        fprintf(stderr, "serve_load: request header too long\n");
        exit(1);
    }
    tx_append(c, hdr, (size_t)n);
    if (body)
        tx_append(c, body, body_len);
    return c;
}

lg_conn *lg_ws_open(const char *token, void *user, uint64_t tag)
{
    lg_conn *c = conn_new(LG_WS, user, tag);
    if (!c)
        return NULL;
    char hdr[512];
    int n = snprintf(hdr, sizeof hdr,
                     "GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: " WS_KEY "\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Protocol: ward.v1\r\n"
                     "Authorization: Bearer %s\r\n\r\n",
                     L.port, token);
    if ((size_t)n >= sizeof hdr) {
        fprintf(stderr, "serve_load: request header too long\n");
        exit(1);
    }
    tx_append(c, hdr, (size_t)n);
    return c;
}

/* A masked client frame with opcode |op|. */
static void ws_frame(lg_conn *c, int op, const void *p, size_t len)
{
    unsigned char h[14];
    size_t hl = 0;
    h[hl++] = (unsigned char)(0x80 | op);
    if (len < 126) {
        h[hl++] = (unsigned char)(0x80 | len);
    } else if (len < 65536) {
        h[hl++] = 0x80 | 126;
        h[hl++] = (unsigned char)(len >> 8);
        h[hl++] = (unsigned char)len;
    } else {
        h[hl++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            h[hl++] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    uint32_t m = rnd32();
    unsigned char mask[4] = {(unsigned char)m, (unsigned char)(m >> 8),
                             (unsigned char)(m >> 16),
                             (unsigned char)(m >> 24)};
    memcpy(h + hl, mask, 4);
    hl += 4;
    tx_append(c, h, hl);
    size_t at = c->tx_len;
    tx_append(c, p, len);
    unsigned char *q = c->tx + at;
    for (size_t i = 0; i < len; i++)
        q[i] ^= mask[i & 3];
}

void lg_ws_send(lg_conn *c, const char *text, size_t len)
{
    if (c->state != ST_DEAD)
        ws_frame(c, 0x1, text, len);
}

/* Writes what is queued; -1 on a write error (the connection is closed
 * and the caller told). */
static int flush(lg_conn *c)
{
    while (c->tx_off < c->tx_len) {
        ssize_t w = send(c->fd, c->tx + c->tx_off, c->tx_len - c->tx_off,
                         MSG_NOSIGNAL);
        if (w > 0) {
            c->tx_off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0; /* EPOLLOUT will come */
        return -1;
    }
    c->tx_off = c->tx_len = 0;
    return 0;
}

static void fail(lg_conn *c, const char *why)
{
    if (c->state == ST_DEAD)
        return;
    int was_ws = c->kind == LG_WS;
    lg_close(c);
    if (was_ws)
        lg_on_ws_closed(c, why);
    else
        lg_on_http(c, -1, why, strlen(why));
}

/* The value of header |name| (lowercase, with the colon) in |h|, which
 * ends at the blank line; NULL if absent. */
static const char *header(const char *h, size_t hlen, const char *name,
                          size_t *vlen)
{
    size_t nl = strlen(name);
    const char *end = h + hlen;
    for (const char *p = memchr(h, '\n', hlen); p && p + 1 < end;
         p = memchr(p + 1, '\n', (size_t)(end - p - 1))) {
        const char *line = p + 1;
        if ((size_t)(end - line) > nl && strncasecmp(line, name, nl) == 0) {
            const char *v = line + nl;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            const char *e = v;
            while (e < end && *e != '\r' && *e != '\n')
                e++;
            *vlen = (size_t)(e - v);
            return v;
        }
    }
    return NULL;
}

/* Status and header length of a complete response head in rx, or 0 if
 * it is not all there yet, -1 if it is malformed. */
static int parse_head(lg_conn *c, size_t *head_len)
{
    const unsigned char *e = memmem(c->rx, c->rx_len, "\r\n\r\n", 4);
    if (!e)
        return 0;
    *head_len = (size_t)(e - c->rx) + 4;
    if (*head_len < 12 || memcmp(c->rx, "HTTP/1.1 ", 9) != 0)
        return -1;
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (c->rx[i] < '0' || c->rx[i] > '9')
            return -1;
        status = status * 10 + (c->rx[i] - '0');
    }
    return status;
}

static void http_input(lg_conn *c, int eof)
{
    size_t hl;
    int status = parse_head(c, &hl);
    if (status < 0) {
        fail(c, "malformed response");
        return;
    }
    if (status > 0) {
        size_t vl, clen = 0;
        const char *v = header((const char *)c->rx, hl, "content-length:", &vl);
        if (v) {
            for (size_t i = 0; i < vl; i++) {
                if (v[i] < '0' || v[i] > '9' || clen > RX_MAX) {
                    fail(c, "bad content-length");
                    return;
                }
                clen = clen * 10 + (size_t)(v[i] - '0');
            }
        }
        if (c->rx_len >= hl + clen) {
            lg_on_http(c, status, (const char *)c->rx + hl, clen);
            lg_close(c);
            return;
        }
    }
    if (eof)
        fail(c, "connection closed before the whole answer");
}

/* Handles one complete server message (opcode already reassembled). */
static void ws_message(lg_conn *c, int op, const unsigned char *p, size_t n)
{
    if (op == 0x1)
        lg_on_ws_text(c, (const char *)p, n);
    else
        fail(c, "binary frame from the server");
}

static void ws_frames(lg_conn *c)
{
    size_t off = 0;
    while (c->state == ST_WS_OPEN) {
        size_t avail = c->rx_len - off;
        const unsigned char *p = c->rx + off;
        if (avail < 2)
            break;
        int fin = p[0] & 0x80, op = p[0] & 0x0f;
        if (p[1] & 0x80) {
            fail(c, "masked frame from the server");
            return;
        }
        uint64_t len = p[1] & 0x7f;
        size_t hl = 2;
        if (len == 126) {
            if (avail < 4)
                break;
            len = ((uint64_t)p[2] << 8) | p[3];
            hl = 4;
        } else if (len == 127) {
            if (avail < 10)
                break;
            len = 0;
            for (int i = 2; i < 10; i++)
                len = (len << 8) | p[i];
            hl = 10;
        }
        if (len > RX_MAX) {
            fail(c, "frame too large");
            return;
        }
        if (avail < hl + len)
            break;
        const unsigned char *pl = p + hl;
        off += hl + (size_t)len;
        if (op == 0x8) {
            char why[64];
            int code = len >= 2 ? (pl[0] << 8) | pl[1] : 1005;
            snprintf(why, sizeof why, "close %d", code);
            fail(c, why);
            return;
        } else if (op == 0x9) {
            ws_frame(c, 0xA, pl, (size_t)len); /* pong */
        } else if (op == 0xA) {
            /* unsolicited pong: nothing to do */
        } else if (op == 0x0 || op == 0x1 || op == 0x2) {
            if (op != 0x0 && c->frag_len) {
                fail(c, "new message inside a fragmented one");
                return;
            }
            if (fin && !c->frag_len) {
                ws_message(c, op, pl, (size_t)len);
            } else {
                /* Fragments: keep the opcode in front of the bytes. */
                if (!c->frag_len) {
                    if (reserve(&c->frag, &c->frag_cap, 1)) {
                        fail(c, "out of memory");
                        return;
                    }
                    c->frag[0] = (unsigned char)op;
                    c->frag_len = 1;
                }
                if (c->frag_len + len > RX_MAX ||
                    reserve(&c->frag, &c->frag_cap, c->frag_len + len)) {
                    fail(c, "fragmented message too large");
                    return;
                }
                memcpy(c->frag + c->frag_len, pl, (size_t)len);
                c->frag_len += (size_t)len;
                if (fin) {
                    ws_message(c, c->frag[0], c->frag + 1, c->frag_len - 1);
                    c->frag_len = 0;
                }
            }
        } else {
            fail(c, "unknown opcode");
            return;
        }
    }
    if (c->state == ST_DEAD)
        return;
    if (off) {
        memmove(c->rx, c->rx + off, c->rx_len - off);
        c->rx_len -= off;
    }
}

static void ws_handshake(lg_conn *c)
{
    size_t hl, vl;
    int status = parse_head(c, &hl);
    if (status == 0)
        return;
    if (status != 101) {
        char why[64];
        snprintf(why, sizeof why, status < 0 ? "malformed upgrade answer"
                                             : "upgrade refused: %d",
                 status);
        fail(c, why);
        return;
    }
    const char *v = header((const char *)c->rx, hl, "sec-websocket-accept:",
                           &vl);
    if (!v || vl != strlen(WS_ACCEPT) || memcmp(v, WS_ACCEPT, vl) != 0) {
        fail(c, "wrong Sec-WebSocket-Accept");
        return;
    }
    memmove(c->rx, c->rx + hl, c->rx_len - hl);
    c->rx_len -= hl;
    c->state = ST_WS_OPEN;
    lg_on_ws_open(c);
    if (c->state == ST_WS_OPEN)
        ws_frames(c);
}

static void on_readable(lg_conn *c)
{
    int eof = 0;
    for (;;) {
        if (c->rx_cap - c->rx_len < 1024 &&
            reserve(&c->rx, &c->rx_cap, c->rx_len + 4096)) {
            fail(c, "out of memory");
            return;
        }
        ssize_t r = recv(c->fd, c->rx + c->rx_len, c->rx_cap - c->rx_len, 0);
        if (r > 0) {
            c->rx_len += (size_t)r;
            if (c->rx_len > RX_MAX + 64) {
                fail(c, "answer too large");
                return;
            }
            continue;
        }
        if (r == 0) {
            eof = 1;
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        fail(c, errno == ECONNRESET ? "connection reset" : "read error");
        return;
    }
    switch (c->state) {
    case ST_HTTP_WAIT:
    case ST_CONNECTING:
        if (c->kind == LG_HTTP) {
            http_input(c, eof);
            return;
        }
        ws_handshake(c); /* a WebSocket's handshake answer */
        break;
    case ST_WS_HANDSHAKE:
        ws_handshake(c);
        break;
    case ST_WS_OPEN:
        ws_frames(c);
        break;
    default:
        return;
    }
    if (eof && c->state != ST_DEAD)
        fail(c, "connection closed by the server");
}

int lg_poll_ns(int64_t timeout_ns)
{
    static struct epoll_event ev[MAX_EVENTS];
    /* Nanosecond timeouts: an open-loop schedule has sends due every few
     * tens of microseconds, and epoll_wait's milliseconds would mean
     * either spinning or sending late. */
    struct timespec ts = {(time_t)(timeout_ns / 1000000000),
                          (long)(timeout_ns % 1000000000)};
    int n = epoll_pwait2(L.ep, ev, MAX_EVENTS, timeout_ns < 0 ? NULL : &ts,
                         NULL);
    if (n < 0) {
        if (errno == EINTR)
            n = 0;
        else
            die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
        lg_conn *c = ev[i].data.ptr;
        uint32_t e = ev[i].events;
        if (c->state == ST_DEAD)
            continue;
        if (c->state == ST_CONNECTING && (e & EPOLLOUT) && !(e & EPOLLERR))
            c->state = c->kind == LG_HTTP ? ST_HTTP_WAIT : ST_WS_HANDSHAKE;
        if (e & EPOLLOUT)
            mark_dirty(c);
        if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
            if ((e & EPOLLERR) && !(e & EPOLLIN)) {
                int err = 0;
                socklen_t sl = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
                char why[96];
                snprintf(why, sizeof why, "socket error: %s", strerror(err));
                fail(c, why);
                continue;
            }
            on_readable(c);
        }
    }
    /* One write per touched connection. */
    while (L.dirty) {
        lg_conn *c = L.dirty;
        L.dirty = c->next_dirty;
        c->dirty = 0;
        if (c->state != ST_DEAD && c->state != ST_CONNECTING && flush(c))
            fail(c, "write error");
    }
    while (L.dead) {
        lg_conn *c = L.dead;
        L.dead = c->next_dead;
        if (c->dirty)
            continue; /* cannot happen: dead connections are not marked */
        free(c->tx);
        free(c->rx);
        free(c->frag);
        free(c);
    }
    return n;
}

int lg_poll(int timeout_ms)
{
    return lg_poll_ns(timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000);
}
