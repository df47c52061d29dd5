/* `ward serve`'s logs (JSON lines on stderr) and /metrics (Prometheus
 * text exposition format 0.0.4). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "serve_internal.h"

static void iso_now(char *out, size_t n)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (long)(ts.tv_nsec / 1000000) % 1000);
}

void ward_serve_log(const char *level, const char *event, json_t *fields)
{
    char ts[96];
    iso_now(ts, sizeof ts);
    json_t *o = json_pack("{s:s,s:s,s:s}", "ts", ts, "level", level,
                          "event", event);
    if (o && fields)
        json_object_update(o, fields);
    json_decref(fields);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
    json_decref(o);
    if (!s) {
        static const char oom[] = "{\"level\":\"error\",\"event\":\"log\","
                                  "\"msg\":\"cannot format a log line\"}\n";
        (void)!write(STDERR_FILENO, oom, sizeof oom - 1);
        return;
    }
    /* One write per line, so lines from concurrent writers never mix. */
    size_t n = strlen(s);
    char *line = malloc(n + 1);
    if (line) {
        memcpy(line, s, n);
        line[n] = '\n';
        (void)!write(STDERR_FILENO, line, n + 1);
        free(line);
    }
    free(s);
}

/* libwebsockets' own lines ("[date] W: text\n"): warn and err, or
 * everything it logs when WARD_LWS_DEBUG is set (see serve_main.c). */
void ward_serve_log_lws(int level, const char *line)
{
    const char *p = strstr(line, "] ");
    p = p ? p + 2 : line;
    if ((p[0] == 'E' || p[0] == 'W' || p[0] == 'N' || p[0] == 'I') &&
        p[1] == ':' && p[2] == ' ')
        p += 3;
    char buf[512];
    size_t n = 0;
    for (; p[n] && n < sizeof buf - 1; n++)
        buf[n] = (p[n] >= 0x20 && p[n] < 0x7f) ? p[n] : ' ';
    while (n && buf[n - 1] == ' ')
        n--;
    buf[n] = 0;
    ward_serve_log(level == LLL_ERR    ? "error"
                   : level == LLL_WARN ? "warn"
                                       : "debug",
                   "lws", json_pack("{s:s}", "msg", buf));
}

/* Upper bounds (seconds) of the latency buckets; +Inf is implied. */
static const double lat_le[SERVE_LAT_BUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25,  0.5,    1,     2.5,  5,     10};

void ward_serve_observe_latency(ward_serve *s, double seconds)
{
    s->m.lat_count++;
    s->m.lat_sum += seconds;
    for (size_t i = 0; i < SERVE_LAT_BUCKETS; i++)
        if (seconds <= lat_le[i]) {
            s->m.lat_bucket[i]++;
            break;
        }
}

static void put(ward_buf *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void put(ward_buf *out, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0)
        (void)ward_buf_append(out, line,
                              (size_t)n < sizeof line ? (size_t)n
                                                      : sizeof line - 1);
}

static void metric(ward_buf *out, const char *name, const char *type,
                   const char *help, uint64_t v)
{
    put(out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type,
        name, (unsigned long long)v);
}

static const char *const err_names[SERR_N] = {
    [SERR_BAD_REQUEST] = "bad_request",
    [SERR_LENGTH_REQUIRED] = "length_required",
    [SERR_TOO_LARGE] = "too_large",
    [SERR_UNAUTHORIZED] = "unauthorized",
    [SERR_LOGIN_REFUSED] = "login_refused",
    [SERR_RATE_LIMITED] = "rate_limited",
    [SERR_UNAVAILABLE] = "unavailable",
    [SERR_INTERNAL] = "internal",
    [SERR_WS_UPGRADE] = "ws_upgrade_refused",
    [SERR_WS_BAD_FRAME] = "ws_bad_frame",
    [SERR_WS_OVERFLOW] = "ws_queue_overflow",
    [SERR_DROPPED] = "response_dropped",
    [SERR_ACCEPT] = "accept",
};

void ward_serve_metrics_text(ward_serve *s, ward_buf *out)
{
    const serve_metrics *m = &s->m;
    ward_api_stats a;
    ward_api_stats_get(s->api, &a);

    metric(out, "ward_connections_open", "gauge",
           "TCP connections currently open",
           m->conns_accepted > m->conns_closed
               ? m->conns_accepted - m->conns_closed
               : 0);
    metric(out, "ward_connections_total", "counter",
           "TCP connections accepted", m->conns_accepted);
    metric(out, "ward_websocket_sessions", "gauge",
           "WebSocket sessions currently open", s->sessions.count);
    metric(out, "ward_websocket_sessions_total", "counter",
           "WebSocket sessions opened", m->ws_opened);
    metric(out, "ward_http_requests_total", "counter",
           "HTTP requests received (the API's and the transport's)",
           m->http_requests);
    metric(out, "ward_api_requests_total", "counter",
           "HTTP requests handled by the API", a.requests);
    put(out, "# HELP ward_http_responses_total HTTP responses by status "
             "class\n# TYPE ward_http_responses_total counter\n");
    for (int c = 1; c <= 5; c++)
        put(out, "ward_http_responses_total{code=\"%dxx\"} %llu\n", c,
            (unsigned long long)m->by_class[c]);
    metric(out, "ward_messages_in_total", "counter",
           "messages stored for their recipients", a.messages_in);
    metric(out, "ward_group_messages_in_total", "counter",
           "group messages stored (each counted once)", a.group_messages_in);
    metric(out, "ward_group_copies_total", "counter",
           "copies of group messages queued for members", a.group_copies);
    put(out, "# HELP ward_messages_out_total messages handed to their "
             "recipients\n# TYPE ward_messages_out_total counter\n"
             "ward_messages_out_total{via=\"http\"} %llu\n"
             "ward_messages_out_total{via=\"websocket\"} %llu\n",
        (unsigned long long)a.messages_out,
        (unsigned long long)m->ws_messages_out);
    metric(out, "ward_attachments_stored_total", "counter",
           "attachments uploaded and stored", a.attachments_in);
    metric(out, "ward_attachments_served_total", "counter",
           "attachment downloads started", a.attachments_out);
    metric(out, "ward_contact_refused_total", "counter",
           "contacts the contact policy refused or hid", a.policy_refused);
    metric(out, "ward_images_checked_total", "counter",
           "images the server saw (group avatars) checked against the hash "
           "lists", a.images_checked);
    metric(out, "ward_images_matched_total", "counter",
           "of those, refused for matching a list", a.images_matched);
    put(out, "# HELP ward_reports_total reports received\n"
             "# TYPE ward_reports_total counter\n"
             "ward_reports_total{result=\"accepted\"} %llu\n"
             "ward_reports_total{result=\"refused\"} %llu\n",
        (unsigned long long)a.reports_in,
        (unsigned long long)a.reports_refused);
    metric(out, "ward_messages_acked_websocket_total", "counter",
           "messages acknowledged on WebSocket sessions", m->ws_acks);
    uint64_t queued = 0;
    if (ward_store_queue_total(s->st, &queued) == WARD_OK)
        metric(out, "ward_messages_queued", "gauge",
               "messages stored and not yet acknowledged by their "
               "recipients",
               queued);
    metric(out, "ward_send_queue_pending", "gauge",
           "sends waiting for the next group commit", s->parked.count);
    metric(out, "ward_group_commits_total", "counter",
           "group commits of queued sends", m->flushes);
    metric(out, "ward_http_inflight", "gauge",
           "HTTP requests read but not yet answered", s->inflight_http);

    uint64_t errs[SERR_N];
    memcpy(errs, m->errors, sizeof errs);
    errs[SERR_LOGIN_REFUSED] += a.login_refused;
    errs[SERR_RATE_LIMITED] += a.rate_limited;
    put(out, "# HELP ward_errors_total errors by kind\n"
             "# TYPE ward_errors_total counter\n");
    for (int k = 0; k < SERR_N; k++)
        put(out, "ward_errors_total{kind=\"%s\"} %llu\n", err_names[k],
            (unsigned long long)errs[k]);
    put(out, "ward_errors_total{kind=\"http_4xx\"} %llu\n"
             "ward_errors_total{kind=\"http_5xx\"} %llu\n",
        (unsigned long long)m->by_class[4],
        (unsigned long long)m->by_class[5]);

    put(out, "# HELP ward_http_request_duration_seconds time from a "
             "request's headers to its last response byte\n"
             "# TYPE ward_http_request_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t i = 0; i < SERVE_LAT_BUCKETS; i++) {
        cum += m->lat_bucket[i];
        put(out, "ward_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
            lat_le[i], (unsigned long long)cum);
    }
    put(out, "ward_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
             "ward_http_request_duration_seconds_sum %.6f\n"
             "ward_http_request_duration_seconds_count %llu\n",
        (unsigned long long)m->lat_count, m->lat_sum,
        (unsigned long long)m->lat_count);
}
