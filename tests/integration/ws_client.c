/*
 * A small ward.v1 WebSocket client for test_serve.sh (libwebsockets 4.1.6).
 *
 *   ws_client --port P [--token T] [--host H] [--tls] [--timeout S]
 *             [--expect N] [--ack-first] [--send garbage|binary|unknown]
 *             [--expect-close CODE] [--expect-reject]
 *
 * It connects to /v1/ws with "Authorization: Bearer T" and prints one
 * line per event on stdout (flushed, so a script can follow it):
 *   open | message ID FROM BODY | synced | acked ID | error CODE |
 *   close CODE REASON | reject TEXT
 * The scenario: wait for N messages and "synced"; then, with --ack-first,
 * acknowledge the first message and wait for "acked"; then send the
 * --send frame; then wait for a close with --expect-close's code, or
 * finish. --expect-reject succeeds if the upgrade is refused.
 * Exit: 0 as expected, 1 wrong outcome, 2 connection error, 3 closed
 * unexpectedly, 4 timeout.
 */
#include <jansson.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
    struct lws_context *cx;
    struct lws *wsi;
    const char *host, *token, *send;
    int port, tls, expect, ack_first, expect_close, expect_reject;
    int got, synced, first_id_set, acked, ack_sent, send_sent, send_done;
    int done, rc;
    long long first_id;
    /* one pending outgoing frame */
    char *tx;
    size_t tx_len;
    int tx_binary;
    /* reassembly */
    char *rx;
    size_t rx_len, rx_cap;
    lws_sorted_usec_list_t sul_timeout;
} g;

static void finish(int rc)
{
    if (!g.done) {
        g.rc = rc;
        g.done = 1;
    }
}

static void queue_tx(const char *s, size_t n, int binary)
{
    free(g.tx);
    g.tx = malloc(n);
    memcpy(g.tx, s, n);
    g.tx_len = n;
    g.tx_binary = binary;
    lws_callback_on_writable(g.wsi);
}

/* Moves the scenario on after each event. */
static void step(void)
{
    if (g.done || g.got < g.expect || !g.synced)
        return;
    if (g.ack_first && !g.acked) {
        if (!g.ack_sent && g.first_id_set) {
            char buf[64];
            int n = snprintf(buf, sizeof buf, "{\"type\":\"ack\",\"id\":%lld}",
                             g.first_id);
            queue_tx(buf, (size_t)n, 0);
            g.ack_sent = 1;
        }
        return;
    }
    if (g.send && !g.send_done) {
        if (!g.send_sent) {
            g.send_sent = 1;
            if (strcmp(g.send, "garbage") == 0)
                queue_tx("this is {not json", 17, 0);
            else if (strcmp(g.send, "binary") == 0)
                queue_tx("\x01\x02\x03", 3, 1);
            else
                queue_tx("{\"type\":\"frobnicate\"}", 21, 0);
        }
        return; /* a close, or for "unknown" an error frame, comes next */
    }
    if (!g.expect_close)
        finish(0);
}

static void on_message(const char *m, size_t len)
{
    json_t *o = json_loadb(m, len, 0, NULL);
    const char *type = json_string_value(json_object_get(o, "type"));
    if (!type) {
        printf("bad %.*s\n", (int)(len > 200 ? 200 : len), m);
        finish(1);
    } else if (strcmp(type, "message") == 0) {
        json_t *msg = json_object_get(o, "message");
        long long id = (long long)json_integer_value(json_object_get(msg, "id"));
        const char *from = json_string_value(json_object_get(msg, "from"));
        const char *body = json_string_value(json_object_get(msg, "body"));
        printf("message %lld %s %s\n", id, from ? from : "?",
               body ? body : "?");
        if (!g.first_id_set) {
            g.first_id = id;
            g.first_id_set = 1;
        }
        g.got++;
    } else if (strcmp(type, "synced") == 0) {
        printf("synced\n");
        g.synced = 1;
    } else if (strcmp(type, "acked") == 0) {
        printf("acked %lld\n",
               (long long)json_integer_value(json_object_get(o, "id")));
        g.acked = 1;
    } else if (strcmp(type, "error") == 0) {
        const char *code = json_string_value(
            json_object_get(json_object_get(o, "error"), "code"));
        printf("error %s\n", code ? code : "?");
        if (g.send && strcmp(g.send, "unknown") == 0 && g.send_sent)
            g.send_done = 1;
        else
            finish(1);
    } else {
        printf("other %s\n", type);
    }
    fflush(stdout);
    json_decref(o);
    step();
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
        printf("reject %s\n", in ? (char *)in : "(null)");
        fflush(stdout);
        finish(g.expect_reject ? 0 : 2);
        break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        printf("open\n");
        fflush(stdout);
        if (g.expect_reject)
            finish(1);
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
        if (!g.tx)
            break;
        unsigned char *buf = malloc(LWS_PRE + g.tx_len);
        memcpy(buf + LWS_PRE, g.tx, g.tx_len);
        int n = lws_write(wsi, buf + LWS_PRE, g.tx_len,
                          g.tx_binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
        free(buf);
        free(g.tx);
        g.tx = NULL;
        if (n < 0)
            return -1;
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
        if (!g.done) {
            printf("closed\n");
            fflush(stdout);
        }
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
    g.send = opt(argc, argv, "--send");
    g.tls = opt(argc, argv, "--tls") != NULL;
    g.expect = (p = opt(argc, argv, "--expect")) ? atoi(p) : 0;
    g.ack_first = opt(argc, argv, "--ack-first") != NULL;
    g.expect_close = (p = opt(argc, argv, "--expect-close")) ? atoi(p) : 0;
    g.expect_reject = opt(argc, argv, "--expect-reject") != NULL;
    if ((p = opt(argc, argv, "--timeout")))
        timeout = atoi(p);
    if (!g.port) {
        fprintf(stderr, "usage: ws_client --port P [--token T] ...\n");
        return 2;
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
    if (!lws_client_connect_via_info(&ci)) {
        printf("reject connect failed\n");
        finish(g.expect_reject ? 0 : 2);
    }
    lws_sul_schedule(g.cx, 0, &g.sul_timeout, on_timeout,
                     (lws_usec_t)timeout * LWS_USEC_PER_SEC);
    while (!g.done)
        if (lws_service(g.cx, 0) < 0)
            break;
    lws_sul_cancel(&g.sul_timeout);
    lws_context_destroy(g.cx);
    free(g.rx);
    free(g.tx);
    return g.rc;
}
