/*
 * `ward serve`: set-up, the listener, signals and the graceful stop.
 *
 * We bind the listen socket ourselves and adopt it into libwebsockets as
 * a raw file descriptor: that gives port 0, our own backlog, and a clean
 * way to stop accepting on SIGTERM (lws 4.1.6's lws_context_deprecate
 * crashes). Signals arrive through a signalfd adopted the same way, so
 * the loop wakes for them like for any other event.
 *
 * The loop is libev's (epoll), handed to lws as a foreign loop and run
 * one pass at a time by serve_loop, which checks for a signal and for
 * the end of the drain after each pass. lws's own loop polls every
 * descriptor on each pass, which at 10,000 connections took half the
 * CPU (docs/benchmarks.md).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ev.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "serve_internal.h"
#include "ward/match.h"

/* Expired tokens and attachments are deleted this often. */
#define TOKEN_PURGE_US (60 * LWS_USEC_PER_SEC)
/* How soon a logout, an expired token or a deleted account ends the
 * WebSocket sessions opened with it. */
#define REVALIDATE_US (15 * LWS_USEC_PER_SEC)
#define ACCEPT_PAUSE_US (100 * LWS_US_PER_MS)

void ward_serve_config_defaults(ward_serve_config *c)
{
    memset(c, 0, sizeof *c);
    c->listen_addr = "127.0.0.1";
    c->port = 8080;
    c->data_dir = "./ward-data";
    c->shutdown_grace_ms = 3000;
    c->franking_rotate_ms = 30LL * 24 * 3600 * 1000;
    c->franking_retain_ms = 365LL * 24 * 3600 * 1000;
    ward_api_config_defaults(&c->api);
    c->api.pwhash_threads = 2;
}

static void log_error(const char *event, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void log_error(const char *event, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ward_serve_log("error", event, json_pack("{s:s}", "msg", msg));
}

/* ---- the listener ---- */

static void accept_resume(lws_sorted_usec_list_t *sul)
{
    ward_serve *s = lws_container_of(sul, ward_serve, sul_accept);
    if (s->listen_wsi && !s->shutting_down)
        lws_rx_flow_control(s->listen_wsi, 1);
}

static void accept_all(ward_serve *s)
{
    for (int k = 0; k < 256; k++) {
        int fd = accept4(s->listen_fd, NULL, NULL,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            s->m.errors[SERR_ACCEPT]++;
            int64_t now = lws_now_usecs();
            if (now - s->accept_logged_us >= LWS_USEC_PER_SEC) {
                s->accept_logged_us = now; /* at most a line a second */
                log_error("accept", "accept: %s", strerror(errno));
            }
            /* Out of descriptors or memory: the socket stays readable,
             * so stop watching it for a moment instead of spinning. */
            lws_rx_flow_control(s->listen_wsi, 0);
            lws_sul_schedule(s->cx, 0, &s->sul_accept, accept_resume,
                             ACCEPT_PAUSE_US);
            return;
        }
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        /* The http role, with TLS if the vhost has a certificate; on
         * failure lws has closed |fd|. */
        if (lws_adopt_socket_vhost(s->vh, fd))
            s->m.conns_accepted++;
        else
            s->m.errors[SERR_ACCEPT]++;
    }
}

static int cb_listen(struct lws *wsi, enum lws_callback_reasons reason,
                     void *user, void *in, size_t len)
{
    (void)user, (void)in, (void)len;
    if (reason == LWS_CALLBACK_RAW_RX_FILE)
        accept_all(serve_of(wsi));
    return 0;
}

static int cb_signal(struct lws *wsi, enum lws_callback_reasons reason,
                     void *user, void *in, size_t len)
{
    (void)user, (void)in, (void)len;
    if (reason == LWS_CALLBACK_RAW_RX_FILE) {
        ward_serve *s = serve_of(wsi);
        struct signalfd_siginfo si;
        while (read(s->signal_fd, &si, sizeof si) == (ssize_t)sizeof si) {
            ward_serve_log("info", "signal",
                           json_pack("{s:s}", "signal",
                                     si.ssi_signo == SIGINT   ? "SIGINT"
                                     : si.ssi_signo == SIGHUP ? "SIGHUP"
                                                              : "SIGTERM"));
            if (si.ssi_signo == SIGHUP) {
                s->got_hup = 1; /* reread the franking keys */
                continue;
            }
            if (s->got_signal)
                s->force_exit = 1; /* a second signal: stop now */
            s->got_signal = 1;
        }
    }
    return 0;
}

/* Connections closing, for the open-connections gauge. */
static int cb_http(struct lws *wsi, enum lws_callback_reasons reason,
                   void *user, void *in, size_t len)
{
    if (reason == LWS_CALLBACK_WSI_DESTROY)
        serve_of(wsi)->m.conns_closed++;
    return ward_serve_cb_http(wsi, reason, user, in, len);
}

static int cb_ws(struct lws *wsi, enum lws_callback_reasons reason,
                 void *user, void *in, size_t len)
{
    if (reason == LWS_CALLBACK_WSI_DESTROY)
        serve_of(wsi)->m.conns_closed++;
    return ward_serve_cb_ws(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"http", cb_http, sizeof(serve_http), 0, 0, NULL, 0},
    {"ward.v1", cb_ws, sizeof(serve_ws), 4096, 0, NULL, 128 * 1024},
    {"ward-listen", cb_listen, 0, 0, 0, NULL, 0},
    {"ward-signal", cb_signal, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Pings a WebSocket idle for 30 s, drops it after 75 s without answer. */
static const lws_retry_bo_t idle_policy = {
    .secs_since_valid_ping = 30,
    .secs_since_valid_hangup = 75,
};

static int open_listener(ward_serve *s, const char *addr, int port)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int g = getaddrinfo(addr, NULL, &hints, &res);
    if (g || !res) {
        log_error("listen", "cannot resolve '%s': %s", addr,
                  g ? gai_strerror(g) : "no address");
        return -1;
    }
    struct sockaddr_in sa;
    memcpy(&sa, res->ai_addr, sizeof sa);
    freeaddrinfo(res);
    sa.sin_port = htons((uint16_t)port);

    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    socklen_t sl = sizeof sa;
    if (fd < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 4096) ||
        getsockname(fd, (struct sockaddr *)&sa, &sl)) {
        log_error("listen", "cannot listen on %s:%d: %s", addr, port,
                  strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    s->port = ntohs(sa.sin_port);
    return fd;
}

static struct lws *adopt_fd(ward_serve *s, int fd, const char *protocol)
{
    lws_sock_file_fd_type u;
    u.filefd = fd;
    return lws_adopt_descriptor_vhost(s->vh, LWS_ADOPT_RAW_FILE_DESC, u,
                                      protocol, NULL);
}

/* ---- set-up ---- */

static ward_err make_data_dir(const char *dir)
{
    struct stat sb;
    if (mkdir(dir, 0700) == 0)
        return WARD_OK;
    if (errno == EEXIST && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        if (sb.st_mode & 077)
            ward_serve_log("warn", "data_dir",
                           json_pack("{s:s,s:s}", "dir", dir, "msg",
                                     "readable by others; chmod 700 it"));
        return WARD_OK;
    }
    log_error("data_dir", "cannot create the data directory '%s': %s", dir,
              errno == EEXIST ? "not a directory" : strerror(errno));
    return WARD_ERR_IO;
}

static ward_err write_port_file(const char *path, int port)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return WARD_ERR_INVALID_ARG;
    FILE *f = fopen(tmp, "w");
    if (!f)
        goto fail;
    int bad = fprintf(f, "%d\n", port) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        unlink(tmp);
        goto fail;
    }
    return WARD_OK;
fail:
    log_error("port_file", "cannot write the port file '%s': %s", path,
              strerror(errno));
    return WARD_ERR_IO;
}

/* From a password worker: lws_cancel_service is the one lws call that
 * is safe from another thread; the loop then gets
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED and calls ward_api_poll. */
static void serve_wake(void *ctx)
{
    ward_serve *s = ctx;
    if (s->cx)
        lws_cancel_service(s->cx);
}

/* Each connection is a descriptor, and libwebsockets sizes its table from
 * the soft limit when it starts: take the whole hard limit (often 1,024
 * soft against far more hard). */
static void raise_fd_limit(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= r.rlim_max)
        return;
    rlim_t was = r.rlim_cur;
    r.rlim_cur = r.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &r) == 0)
        ward_serve_log("info", "fd_limit",
                       json_pack("{s:I,s:I}", "was", (json_int_t)was, "now",
                                 (json_int_t)r.rlim_cur));
}

static void unlink_blob(void *ctx, const ward_blob *b)
{
    ward_serve *s = ctx;
    ward_err e = ward_blobs_remove(s->blobs, b->id);
    if (e && e != WARD_ERR_NOT_FOUND)
        log_error("blob_expire", "cannot delete blob %s: %s", b->id,
                  ward_strerror(e));
}

/* Expired attachments: their files go first, then their records. A
 * crash in between leaves records without files, which downloads treat
 * as expired anyway. */
static void expire_blobs(ward_serve *s, int64_t now)
{
    ward_err e = ward_store_blob_expire(s->st, now, unlink_blob, s);
    if (e)
        log_error("blob_expire", "%s: %s", ward_strerror(e),
                  ward_store_last_error(s->st));
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* New keys from `ward admin rotate-franking-key`, scheduled rotation, and
 * expired keys deleted. A failure keeps the keys in memory. */
static void reload_franking(ward_serve *s)
{
    char err[256] = "";
    size_t before = ward_frank_keys_count(s->frank);
    uint32_t was, now_id;
    const uint8_t *k;
    ward_frank_keys_current(s->frank, &was, &k);
    ward_err e = ward_frank_keys_reload(s->frank, wall_ms(), err, sizeof err);
    if (e) {
        log_error("franking_keys", "%s", err[0] ? err : ward_strerror(e));
        return;
    }
    ward_frank_keys_current(s->frank, &now_id, &k);
    if (now_id != was || ward_frank_keys_count(s->frank) != before)
        ward_serve_log("info", "franking_keys",
                       json_pack("{s:I,s:I}", "current", (json_int_t)now_id,
                                 "keys",
                                 (json_int_t)ward_frank_keys_count(s->frank)));
}

static void purge_tokens(lws_sorted_usec_list_t *sul)
{
    ward_serve *s = lws_container_of(sul, ward_serve, sul_tick);
    struct timespec ts;
    size_t n = 0;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    ward_err e = ward_store_token_purge(s->st, now, &n);
    if (e)
        log_error("token_purge", "%s: %s", ward_strerror(e),
                  ward_store_last_error(s->st));
    else if (n)
        ward_serve_log("info", "token_purge",
                       json_pack("{s:I}", "removed", (json_int_t)n));
    expire_blobs(s, now);
    reload_franking(s);
    size_t promoted = 0;
    if (ward_store_promote_adults(s->st, now, &promoted))
        log_error("promote_adults", "%s", ward_store_last_error(s->st));
    else if (promoted)
        ward_serve_log("info", "promote_adults",
                       json_pack("{s:I}", "accounts", (json_int_t)promoted));
    lws_sul_schedule(s->cx, 0, &s->sul_tick, purge_tokens, TOKEN_PURGE_US);
}

static void revalidate(lws_sorted_usec_list_t *sul)
{
    ward_serve *s = lws_container_of(sul, ward_serve, sul_revalidate);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ward_serve_ws_revalidate(s, (int64_t)ts.tv_sec * 1000 +
                                    ts.tv_nsec / 1000000);
    lws_sul_schedule(s->cx, 0, &s->sul_revalidate, revalidate, REVALIDATE_US);
}

/* ---- stopping ---- */

static void deadline_cb(lws_sorted_usec_list_t *sul)
{
    ward_serve *s = lws_container_of(sul, ward_serve, sul_deadline);
    ward_serve_log("warn", "shutdown_deadline",
                   json_pack("{s:I,s:I}", "inflight",
                             (json_int_t)s->inflight_http, "sessions",
                             (json_int_t)s->sessions.count));
    s->force_exit = 1;
}

static void begin_shutdown(ward_serve *s)
{
    s->shutting_down = 1;
    ward_serve_log("info", "shutdown",
                   json_pack("{s:I,s:I,s:I}", "inflight",
                             (json_int_t)s->inflight_http, "sessions",
                             (json_int_t)s->sessions.count, "pending_sends",
                             (json_int_t)s->parked.count));
    /* Stop accepting: new connections are refused from here on. */
    if (s->listen_wsi) {
        lws_sul_cancel(&s->sul_accept);
        lws_set_timeout(s->listen_wsi, PENDING_TIMEOUT_USER_OK,
                        LWS_TO_KILL_SYNC);
        s->listen_wsi = NULL;
        s->listen_fd = -1;
    }
    /* WebSocket sends read so far get their answers before the 1001. */
    if (s->ws_sends.count)
        ward_serve_flush(s);
    ward_serve_ws_close_all(s);
    int grace = s->cfg->shutdown_grace_ms > 0 ? s->cfg->shutdown_grace_ms : 0;
    lws_sul_schedule(s->cx, 0, &s->sul_deadline, deadline_cb,
                     (lws_usec_t)grace * LWS_US_PER_MS);
}

static int drained(const ward_serve *s)
{
    return s->inflight_http == 0 && s->sessions.count == 0 &&
           s->parked.count == 0 && !s->flush_scheduled &&
           ward_api_jobs_inflight(s->api) == 0;
}

/* ---- run ---- */

static ward_err check_config(const ward_serve_config *cfg)
{
    if (!cfg->listen_addr || !*cfg->listen_addr || !cfg->data_dir ||
        !*cfg->data_dir || cfg->port < 0 || cfg->port > 65535) {
        log_error("config", "a listen address, a port (0-65535) and a data "
                            "directory are required");
        return WARD_ERR_INVALID_ARG;
    }
    if (!cfg->tls_cert != !cfg->tls_key) {
        log_error("config", "TLS needs both a certificate and a key");
        return WARD_ERR_INVALID_ARG;
    }
    const char *files[2] = {cfg->tls_cert, cfg->tls_key};
    for (int i = 0; i < 2; i++)
        if (files[i] && access(files[i], R_OK) != 0) {
            log_error("config", "cannot read '%s': %s", files[i],
                      strerror(errno));
            return WARD_ERR_IO;
        }
    return WARD_OK;
}

static ward_err setup_lws(ward_serve *s)
{
    const ward_serve_config *cfg = s->cfg;
    struct lws_context_creation_info info;

    /* Before the context: lws logs from its first call on. Set
     * WARD_LWS_DEBUG in the environment for all of lws's (many) lines. */
    lws_set_log_level(getenv("WARD_LWS_DEBUG") ? LLL_ERR | LLL_WARN |
                                                     LLL_NOTICE | LLL_INFO |
                                                     LLL_DEBUG | LLL_PARSER
                                               : LLL_ERR | LLL_WARN,
                      ward_serve_log_lws);
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
                   LWS_SERVER_OPTION_DISABLE_IPV6 |
                   LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (cfg->tls_cert)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    /* libev's loop (epoll) instead of lws's poll(2) over every
     * descriptor, whose cost grows with each open connection. The loop
     * is ours ("foreign"), so serve_loop still runs one pass at a time. */
    s->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
    if (!s->loop) {
        log_error("setup", "cannot create the event loop");
        return WARD_ERR_INTERNAL;
    }
    void *foreign[1] = {s->loop};
    info.options |= LWS_SERVER_OPTION_LIBEV;
    info.foreign_loops = foreign;
    info.max_http_header_data = 4096; /* every header of a request */
    info.timeout_secs = 20;           /* a stalled request or handshake */
    info.user = s;
    s->cx = lws_create_context(&info);
    if (!s->cx) {
        log_error("setup", "cannot create the libwebsockets context");
        return WARD_ERR_INTERNAL;
    }
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.vhost_name = "ward";
    info.protocols = protocols;
    info.keepalive_timeout = 30;
    info.retry_and_idle_policy = &idle_policy;
    if (cfg->tls_cert) {
        info.ssl_cert_filepath = cfg->tls_cert;
        info.ssl_private_key_filepath = cfg->tls_key;
        info.alpn = "http/1.1";
    }
    s->vh = lws_create_vhost(s->cx, &info);
    if (!s->vh) {
        log_error("setup", "cannot create the server%s",
                  cfg->tls_cert ? " (check the TLS certificate and key)"
                                : "");
        return WARD_ERR_INTERNAL;
    }
    return WARD_OK;
}

static ward_err setup_fds(ward_serve *s, sigset_t *sigs)
{
    int fd = open_listener(s, s->cfg->listen_addr, s->cfg->port);
    if (fd < 0)
        return WARD_ERR_IO;
    s->listen_wsi = adopt_fd(s, fd, "ward-listen");
    if (!s->listen_wsi) {
        close(fd);
        log_error("listen", "libwebsockets refused the listen socket");
        return WARD_ERR_INTERNAL;
    }
    s->listen_fd = fd;
    s->signal_fd = signalfd(-1, sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    if (s->signal_fd < 0) {
        log_error("signal", "signalfd: %s", strerror(errno));
        return WARD_ERR_IO;
    }
    s->signal_wsi = adopt_fd(s, s->signal_fd, "ward-signal");
    if (!s->signal_wsi) {
        close(s->signal_fd);
        s->signal_fd = -1;
        log_error("signal", "libwebsockets refused the signalfd");
        return WARD_ERR_INTERNAL;
    }
    return WARD_OK;
}

static void serve_loop(ward_serve *s)
{
    while (!s->force_exit) {
        ev_run(s->loop, EVRUN_ONCE);
        if (s->got_signal && !s->shutting_down)
            begin_shutdown(s);
        if (s->got_hup) {
            s->got_hup = 0;
            reload_franking(s);
        }
        if (s->shutting_down && drained(s))
            break;
    }
}

ward_err ward_serve_run(const ward_serve_config *cfg)
{
    ward_serve *s = calloc(1, sizeof *s);
    if (!s)
        return WARD_ERR_NOMEM;
    s->cfg = cfg;
    s->listen_fd = s->signal_fd = -1;

    sigset_t sigs, old;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, &old);
    /* A peer that goes away mid-write (OpenSSL writes without
     * MSG_NOSIGNAL) must not kill the server. */
    struct sigaction ign, old_pipe;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old_pipe);

    char path[4096];
    char err[256] = "";
    ward_err e = check_config(cfg);
    if (!e)
        e = make_data_dir(cfg->data_dir);
    if (!e && (size_t)snprintf(path, sizeof path, "%s/ward.db",
                               cfg->data_dir) >= sizeof path) {
        log_error("data_dir", "the data directory's path is too long");
        e = WARD_ERR_INVALID_ARG;
    }
    if (!e && (e = ward_store_open_sqlite(&s->st, path, err, sizeof err)))
        log_error("store", "cannot open '%s': %s", path,
                  err[0] ? err : ward_strerror(e));
    if (!e && (e = ward_blobs_open(&s->blobs, cfg->data_dir)))
        log_error("data_dir", "cannot open '%s/blobs': %s", cfg->data_dir,
                  strerror(errno));
    if (!e && (e = ward_frank_keys_open(&s->frank, cfg->data_dir, wall_ms(),
                                        cfg->franking_rotate_ms,
                                        cfg->franking_retain_ms, err,
                                        sizeof err)))
        log_error("franking_keys", "%s", err[0] ? err : ward_strerror(e));
    if (!e && ((size_t)snprintf(s->evidence_dir, sizeof s->evidence_dir,
                                "%s/evidence", cfg->data_dir) >=
                   sizeof s->evidence_dir ||
               (mkdir(s->evidence_dir, 0700) != 0 && errno != EEXIST))) {
        log_error("data_dir", "cannot create '%s': %s", s->evidence_dir,
                  strerror(errno));
        e = WARD_ERR_IO;
    }
    if (!e && cfg->match_dir) {
        /* Opened once: every image the server sees is checked against it
         * (a change to the lists takes a restart). */
        char why[256] = "";
        if ((e = ward_match_open(cfg->match_dir, &s->match, why,
                                 sizeof why)))
            log_error("match_dir", "cannot open the hash lists in '%s': %s",
                      cfg->match_dir, why[0] ? why : ward_strerror(e));
    }
    if (!e) {
        ward_api_hooks hooks = {.done = ward_serve_done,
                                .deliver = ward_serve_deliver,
                                .wake = serve_wake,
                                .kick = ward_serve_ws_kick,
                                .ctx = s};
        if ((e = ward_api_new(&s->api, s->st, &cfg->api, &hooks)))
            log_error("api", "cannot start the API: %s", ward_strerror(e));
        else
            ward_api_attach(s->api, s->frank, s->blobs, s->evidence_dir);
        if (!e)
            ward_api_set_match(s->api, s->match);
    }
    if (!e) {
        raise_fd_limit();
        e = setup_lws(s);
    }
    if (!e)
        e = setup_fds(s, &sigs);
    if (!e && cfg->port_file)
        e = write_port_file(cfg->port_file, s->port);
    if (!e) {
        ward_serve_log(
            "info", "listening",
            json_pack("{s:s,s:i,s:b,s:s,s:I,s:I,s:I,s:I,s:I}", "addr",
                      cfg->listen_addr, "port", s->port, "tls",
                      cfg->tls_cert != NULL, "data", cfg->data_dir,
                      "max_body", (json_int_t)cfg->api.max_body,
                      "max_message", (json_int_t)cfg->api.max_message,
                      "max_attachment",
                      (json_int_t)cfg->api.max_attachment, "max_queue",
                      (json_int_t)cfg->api.max_queue, "pwhash_mem",
                      (json_int_t)cfg->api.pwhash.mem));
        if (cfg->api.pwhash.mem < ward_pwhash_cost_default().mem)
            ward_serve_log("warn", "weak_password_hashing",
                           json_pack("{s:s}", "msg",
                                     "pwhash is below the interactive "
                                     "cost: for tests and benchmarks "
                                     "only"));
        lws_sul_schedule(s->cx, 0, &s->sul_tick, purge_tokens, 0);
        lws_sul_schedule(s->cx, 0, &s->sul_revalidate, revalidate,
                         REVALIDATE_US);
        serve_loop(s);
        ward_serve_log("info", "stopped",
                       json_pack("{s:b,s:I,s:I}", "drained", drained(s),
                                 "inflight", (json_int_t)s->inflight_http,
                                 "sessions",
                                 (json_int_t)s->sessions.count));
    }

    if (s->cx) {
        lws_sul_cancel(&s->sul_tick);
        lws_sul_cancel(&s->sul_revalidate);
        lws_sul_cancel(&s->sul_deadline);
        lws_sul_cancel(&s->sul_accept);
        lws_sul_cancel(&s->sul_flush);
        /* The password workers wake the context: they go first. */
        ward_api_stop_jobs(s->api);
        /* Closes what is left (their CLOSED callbacks run) and the
         * adopted listen socket and signalfd. */
        lws_context_destroy(s->cx);
        s->cx = NULL;
    }
    if (s->loop)
        ev_loop_destroy(s->loop);
    ward_serve_ws_sends_free(s);
    ward_api_free(s->api);
    ward_match_close(s->match);
    ward_frank_keys_free(s->frank);
    ward_blobs_close(s->blobs);
    ward_store_close(s->st);
    /* Signals that came after the signalfd went away must not kill us
     * when they are unblocked. */
    struct timespec zero = {0, 0};
    while (sigtimedwait(&sigs, NULL, &zero) > 0)
        ;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    free(s);
    return e;
}
