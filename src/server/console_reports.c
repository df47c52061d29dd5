/*
 * The console's review queue: listing reports, a report's page (the
 * revealed Content decoded, the people involved, their history), the
 * evidence image, decisions, and the audit log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "console_internal.h"
#include "ward/crypto.h"
#include "ward/safety.h"

#define DAY_MS (86400LL * 1000)
#define LIST_MAX 200
#define HISTORY_MAX 50
#define AUDIT_SCAN 2000 /* audit entries searched for a subject's history */
#define EVIDENCE_MAX ((size_t)64 << 20)

static const char *kind_name(int kind)
{
    return kind == WARD_REPORT_MESSAGE ? "message" : "account";
}

static const char *evidence_name(int a)
{
    switch (a) {
    case WARD_EVIDENCE_VERIFIED:
        return "verified";
    case WARD_EVIDENCE_UNAVAILABLE:
        return "unavailable";
    case WARD_EVIDENCE_MISMATCH:
        return "mismatch";
    default:
        return "none";
    }
}

static const char *status_name(int s)
{
    const char *n = ward_console_status_name(s);
    return n ? n : "unknown";
}

static json_t *person(int64_t id, const char *name, int band)
{
    return json_pack("{s:I,s:s,s:s}", "id", (json_int_t)id, "name", name,
                     "age_band", console_band_name(band));
}

/* A report without its content, as the queue lists it. */
static json_t *report_summary(const ward_report *r)
{
    const char *reason = ward_console_reason_name(r->reason);
    json_t *o = json_pack(
        "{s:I,s:s,s:s,s:s,s:s,s:I,s:o,s:o,s:s,s:b,s:s}", "id",
        (json_int_t)r->id, "kind", kind_name(r->kind), "reason",
        reason ? reason : "unknown", "priority",
        r->priority == WARD_PRIORITY_HIGH ? "high" : "normal", "status",
        status_name(r->status), "created_at", (json_int_t)r->created_at,
        "reporter", person(r->reporter, r->reporter_name, r->reporter_band),
        "subject", person(r->subject, r->subject_name, r->subject_band),
        "attachment", evidence_name(r->attachment), "held", r->held != 0,
        "decision", r->decision);
    if (o && r->decided_at) {
        json_object_set_new(o, "decided_by", json_integer(r->decided_by));
        json_object_set_new(o, "decided_at", json_integer(r->decided_at));
    }
    return o;
}

typedef struct list_ctx {
    json_t *arr;
    int64_t skip; /* a report to leave out (the one being viewed) */
    int failed;
} list_ctx;

static int on_report(void *vctx, const ward_report *r)
{
    list_ctx *c = vctx;
    if (r->id == c->skip)
        return 0;
    json_t *o = report_summary(r);
    if (!o || json_array_append_new(c->arr, o)) {
        c->failed = 1;
        return 1;
    }
    return 0;
}

/* status, reason, priority, offset, limit; -1 with the 400 written. */
static int list_filter(const ward_http_req *req, ward_http_resp *resp,
                       ward_report_filter *f, int64_t *offset,
                       int64_t *limit)
{
    char v[40];
    int rc;
    memset(f, 0, sizeof *f);
    f->status = WARD_REPORT_OPEN; /* the queue: what is still to do */
    f->priority = -1;
    *offset = 0;
    *limit = 50;
    if ((rc = ward_console_query(req->query, "status", v, sizeof v)) < 0)
        goto bad;
    if (rc == 0 && strcmp(v, "any") == 0)
        f->status = -1;
    else if (rc == 0 && (f->status = ward_console_status_parse(v)) < 0)
        goto bad;
    if ((rc = ward_console_query(req->query, "reason", v, sizeof v)) < 0 ||
        (rc == 0 && strcmp(v, "any") != 0 &&
         (f->reason = ward_console_reason_parse(v)) == 0))
        goto bad;
    if ((rc = ward_console_query(req->query, "priority", v, sizeof v)) < 0)
        goto bad;
    if (rc == 0 && strcmp(v, "high") == 0)
        f->priority = WARD_PRIORITY_HIGH;
    else if (rc == 0 && strcmp(v, "normal") == 0)
        f->priority = WARD_PRIORITY_NORMAL;
    else if (rc == 0 && strcmp(v, "any") != 0)
        goto bad;
    if ((rc = ward_console_query(req->query, "offset", v, sizeof v)) < 0 ||
        (rc == 0 && ward_console_int(v, 0, 1000000, offset)))
        goto bad;
    if ((rc = ward_console_query(req->query, "limit", v, sizeof v)) < 0 ||
        (rc == 0 && ward_console_int(v, 1, LIST_MAX, limit)))
        goto bad;
    return 0;
bad:
    ward_resp_error(resp, 400, "invalid_query",
                    "status is open|closed|escalated|any, reason one of the "
                    "report reasons or any, priority high|normal|any, "
                    "offset 0 or more, limit 1 to 200");
    return -1;
}

static int list_reports(ward_api *api, const ward_http_req *req,
                        ward_http_resp *resp)
{
    console_who who;
    ward_report_filter f;
    int64_t offset, limit;
    if (console_require(api, req, resp, 0, &who) ||
        list_filter(req, resp, &f, &offset, &limit))
        return WARD_API_DONE;
    list_ctx c = {json_array(), 0, 0};
    if (!c.arr) {
        ward_resp_error(resp, 503, "busy", "out of memory");
        return WARD_API_DONE;
    }
    ward_err e = ward_store_report_list(api->st, &f, (size_t)offset,
                                        (size_t)limit, on_report, &c);
    if (e || c.failed) {
        json_decref(c.arr);
        ward_api_store_error(api, resp, e ? e : WARD_ERR_NOMEM);
        return WARD_API_DONE;
    }
    ward_resp_json(resp, 200,
                   json_pack("{s:o,s:I,s:I}", "reports", c.arr, "offset",
                             (json_int_t)offset, "limit",
                             (json_int_t)limit));
    return WARD_API_DONE;
}

/* The account as it is now, if it still exists. */
static json_t *account_now(ward_api *api, int64_t id)
{
    ward_account a;
    ward_err e = ward_store_account_by_id(api->st, id, &a);
    ward_memzero(a.pwhash, sizeof a.pwhash);
    if (e)
        return json_pack("{s:b}", "exists", 0);
    int64_t now = ward_api_now(api);
    int st = ward_account_status(&a, now);
    json_t *o = json_pack(
        "{s:b,s:s,s:s,s:I,s:I}", "exists", 1, "status",
        st == WARD_STATUS_BANNED      ? "banned"
        : st == WARD_STATUS_SUSPENDED ? "suspended"
                                      : "active",
        "age_band", console_band_name(a.age_band), "created_at",
        (json_int_t)a.created_at, "age_days",
        (json_int_t)((now - a.created_at) / DAY_MS));
    if (o && st == WARD_STATUS_SUSPENDED)
        json_object_set_new(o, "until", json_integer(a.status_until));
    return o;
}

static json_t *audit_json(const ward_audit_entry *e)
{
    json_t *o = json_pack("{s:I,s:I,s:I,s:s,s:s,s:s,s:o}", "id",
                          (json_int_t)e->id, "at", (json_int_t)e->at,
                          "moderator", (json_int_t)e->moderator,
                          "moderator_name", e->moderator_name, "action",
                          e->action, "detail", e->detail, "hash",
                          console_hex(e->hash, sizeof e->hash));
    if (o && e->report)
        json_object_set_new(o, "report", json_integer(e->report));
    if (o && e->subject)
        json_object_set_new(o, "subject", json_integer(e->subject));
    return o;
}

/* What moderators did about an account: decisions and lifted bans. */
typedef struct history_ctx {
    json_t *arr;
    int64_t subject;
    size_t seen;
} history_ctx;

static int on_history(void *vctx, const ward_audit_entry *e)
{
    history_ctx *c = vctx;
    c->seen++;
    if (e->subject == c->subject &&
        (strcmp(e->action, "decision") == 0 ||
         strcmp(e->action, "account_status") == 0) &&
        json_array_size(c->arr) < HISTORY_MAX)
        json_array_append_new(c->arr, audit_json(e));
    return c->seen >= AUDIT_SCAN;
}

/* The revealed message: its text and what it says of its attachments. */
static json_t *message_json(const ward_report *r)
{
    json_t *m = json_pack("{s:I,s:I,s:I,s:o,s:o}", "id",
                          (json_int_t)r->message_id, "server_time",
                          (json_int_t)r->message_time, "key_id",
                          (json_int_t)r->key_id, "commitment",
                          console_hex(r->commitment, 32), "tag",
                          console_hex(r->tag, 32));
    if (!m)
        return NULL;
    ward_content c;
    ward_content_init(&c);
    if (!r->content || ward_content_decode(&c, r->content, r->content_len)) {
        json_object_set_new(m, "decoded", json_false());
        ward_content_release(&c);
        return m;
    }
    json_object_set_new(m, "decoded", json_true());
    json_object_set_new(m, "body", c.body ? json_stringn(c.body, c.body_len)
                                          : json_null());
    json_object_set_new(m, "sent_at", json_integer((json_int_t)c.sent_at));
    json_object_set_new(m, "group", json_boolean(c.group_id_len > 0));
    json_t *atts = json_array();
    for (size_t i = 0; atts && i < c.n_attachments; i++) {
        const ward_attachment *a = &c.attachments[i];
        /* The attachment's key stays out of the page: the evidence file
         * is what a moderator sees. */
        json_array_append_new(
            atts, json_pack("{s:s,s:s,s:I,s:o}", "content_type",
                            a->content_type, "file_name", a->file_name,
                            "size", (json_int_t)a->size, "sha256",
                            console_hex(a->sha256, 32)));
    }
    json_object_set_new(m, "attachments", atts ? atts : json_array());
    ward_content_release(&c);
    return m;
}

/* The group a reported message was sent in, as it is now: a moderator
 * weighs a message to a group of 500 differently from one to three. */
static json_t *group_now(ward_api *api, int64_t id)
{
    ward_group g;
    size_t members = 0;
    ward_err e = ward_store_group_get(api->st, id, &g);
    if (!e)
        e = ward_store_group_count(api->st, id, &members, NULL);
    if (e)
        return json_pack("{s:I,s:b}", "id", (json_int_t)id, "exists", 0);
    return json_pack("{s:I,s:b,s:s,s:I}", "id", (json_int_t)id, "exists", 1,
                     "name", g.name, "members", (json_int_t)members);
}

/* Report |id| into |r| and |content| (initialised by the caller): 0, or
 * -1 with the 404 no_such_report or the store's error written. */
static int report_get(ward_api *api, int64_t id, ward_report *r,
                      ward_buf *content, ward_http_resp *resp)
{
    ward_err e = ward_store_report_get(api->st, id, r, content);
    if (e == WARD_ERR_NOT_FOUND)
        ward_resp_error(resp, 404, "no_such_report", "no such report");
    else if (e)
        ward_api_store_error(api, resp, e);
    return e ? -1 : 0;
}

static int get_report(ward_api *api, const ward_http_req *req,
                      ward_http_resp *resp, int64_t id)
{
    console_who who;
    ward_report r;
    ward_buf content;
    if (console_require(api, req, resp, 0, &who))
        return WARD_API_DONE;
    ward_buf_init(&content, 0);
    if (report_get(api, id, &r, &content, resp))
        goto done;
    /* Seeing reported content is itself an action to account for. */
    if (console_audit(api, &who.mod, "view_report", r.id, r.subject, NULL)) {
        ward_resp_error(resp, 500, "audit_failed",
                        "the audit log cannot be written");
        goto done;
    }
    json_t *o = report_summary(&r);
    if (!o) {
        ward_resp_error(resp, 503, "busy", "out of memory");
        goto done;
    }
    json_object_set_new(o, "note", json_string(r.note));
    /* Only verified reports are stored (the tag and the commitment were
     * checked when it was filed); the console shows what was checked. */
    json_object_set_new(
        o, "verification",
        json_pack("{s:b,s:s}", "verified", 1, "attachment",
                  evidence_name(r.attachment)));
    if (r.kind == WARD_REPORT_MESSAGE)
        json_object_set_new(o, "message", message_json(&r));
    if (r.group_id)
        json_object_set_new(o, "group", group_now(api, r.group_id));
    json_object_set_new(o, "evidence", json_boolean(r.evidence[0] != 0));
    json_object_set_new(json_object_get(o, "reporter"), "account",
                        account_now(api, r.reporter));
    json_object_set_new(json_object_get(o, "subject"), "account",
                        account_now(api, r.subject));

    ward_report_filter f = {.status = -1, .priority = -1,
                            .subject = r.subject};
    list_ctx lc = {json_array(), r.id, 0};
    history_ctx hc = {json_array(), r.subject, 0};
    if (lc.arr)
        (void)ward_store_report_list(api->st, &f, 0, HISTORY_MAX, on_report,
                                     &lc);
    if (hc.arr)
        (void)ward_store_audit_list(api->st, 0, AUDIT_SCAN, on_history, &hc);
    json_object_set_new(o, "earlier_reports", lc.arr ? lc.arr : json_array());
    json_object_set_new(o, "decisions", hc.arr ? hc.arr : json_array());
    ward_resp_json(resp, 200, o);
done:
    ward_buf_release(&content);
    return WARD_API_DONE;
}

/* An evidence file name as the report store writes it: no path. */
static int evidence_name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > WARD_EVIDENCE_NAME_MAX || n[0] == '.')
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* The image type from the file's first bytes, never from a name the
 * sender chose: anything else is sent as a download, not shown. */
static const char *sniff_image(const uint8_t *p, size_t n)
{
    if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    if (n >= 3 && memcmp(p, "\xff\xd8\xff", 3) == 0)
        return "image/jpeg";
    if (n >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
        return "image/gif";
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return "image/webp";
    if (n >= 2 && memcmp(p, "BM", 2) == 0)
        return "image/bmp";
    return NULL;
}

static ward_err read_file(const char *path, ward_buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? WARD_ERR_NOT_FOUND : WARD_ERR_IO;
    struct stat sb;
    ward_err e = WARD_OK;
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode))
        e = WARD_ERR_IO;
    else if ((uint64_t)sb.st_size > EVIDENCE_MAX)
        e = WARD_ERR_TOO_BIG;
    else if (sb.st_size)
        e = ward_buf_reserve(out, (size_t)sb.st_size);
    while (!e && out->len < (size_t)sb.st_size) {
        ssize_t n = read(fd, out->data + out->len,
                         (size_t)sb.st_size - out->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            e = WARD_ERR_IO;
        else
            out->len += (size_t)n;
    }
    close(fd);
    return e;
}

static int get_evidence(ward_api *api, const ward_http_req *req,
                        ward_http_resp *resp, int64_t id)
{
    console_who who;
    ward_report r;
    ward_buf content;
    char path[4096];
    if (console_require(api, req, resp, 0, &who))
        return WARD_API_DONE;
    ward_buf_init(&content, 0);
    int missing = report_get(api, id, &r, &content, resp);
    ward_buf_release(&content);
    if (missing)
        return WARD_API_DONE;
    if (!r.evidence[0] || !api->evidence_dir) {
        ward_resp_error(resp, 404, "no_evidence",
                        "this report has no evidence file");
        return WARD_API_DONE;
    }
    if (!evidence_name_ok(r.evidence) ||
        (size_t)snprintf(path, sizeof path, "%s/%s", api->evidence_dir,
                         r.evidence) >= sizeof path) {
        ward_resp_error(resp, 500, "internal", "bad evidence name");
        return WARD_API_DONE;
    }
    ward_err e = read_file(path, &resp->body);
    if (e) {
        ward_buf_release(&resp->body);
        if (e == WARD_ERR_NOT_FOUND)
            ward_resp_error(resp, 404, "no_evidence",
                            "the evidence file is missing");
        else
            ward_resp_error(resp, 500, "internal",
                            "the evidence file cannot be read");
        return WARD_API_DONE;
    }
    if (console_audit(api, &who.mod, "view_evidence", r.id, r.subject,
                      NULL)) {
        ward_buf_release(&resp->body);
        ward_resp_error(resp, 500, "audit_failed",
                        "the audit log cannot be written");
        return WARD_API_DONE;
    }
    const char *type = sniff_image(resp->body.data, resp->body.len);
    resp->status = 200;
    resp->content_type = type ? type : "application/octet-stream";
    if (!type)
        (void)ward_http_resp_header(resp, "content-disposition:",
                                    "attachment; filename=\"evidence.bin\"");
    return WARD_API_DONE;
}

static int decide(ward_api *api, const ward_http_req *req,
                  ward_http_resp *resp, int64_t id)
{
    static const char *const allowed[] = {"action", "days", "note", NULL};
    static const char *const actions[] = {"dismiss", "warn", "suspend",
                                          "ban", "escalate", NULL};
    console_who who;
    ward_report r;
    ward_buf content;
    const char *action, *note = NULL;
    uint64_t days = 0;
    if (console_require(api, req, resp, 0, &who))
        return WARD_API_DONE;
    json_t *body = ward_api_body(req, resp, allowed);
    if (!body)
        return WARD_API_DONE;
    ward_buf_init(&content, 0);
    int known = 0;
    if (ward_json_str(body, "action", 1, 16, &action) == 0)
        for (size_t i = 0; actions[i] && !known; i++)
            known = strcmp(action, actions[i]) == 0;
    if (!known) {
        ward_resp_error(resp, 400, "invalid_action",
                        "action is dismiss, warn, suspend, ban or escalate");
        goto done;
    }
    int suspend = strcmp(action, "suspend") == 0;
    if (ward_json_uint(body, "days", suspend, 3650, &days) ||
        (suspend && days < 1) || (!suspend && json_object_get(body, "days"))) {
        ward_resp_error(resp, 400, "invalid_days",
                        "days (1 to 3650) goes with suspend, and only there");
        goto done;
    }
    if (ward_json_str(body, "note", 0, WARD_REPORT_NOTE_MAX, &note)) {
        ward_resp_error(resp, 400, "invalid_note",
                        "note is a string of at most 1000 characters");
        goto done;
    }
    if (report_get(api, id, &r, &content, resp))
        goto done;
    ward_err e;
    int64_t now = ward_api_now(api);
    int escalate = strcmp(action, "escalate") == 0;
    int ban = strcmp(action, "ban") == 0;
    const char *account = "unchanged";
    if (suspend || ban) {
        /* Through the API, so the account's live WebSockets close too. */
        e = ward_api_set_account_status(
            api, r.subject,
            ban ? WARD_STATUS_BANNED : WARD_STATUS_SUSPENDED,
            suspend ? now + (int64_t)days * DAY_MS : 0);
        if (e && e != WARD_ERR_NOT_FOUND) {
            ward_api_store_error(api, resp, e);
            goto done;
        }
        /* A deleted account cannot be banned, but the decision stands. */
        account = e ? "deleted" : ban ? "banned" : "suspended";
    }
    /* A warning reaches the account's owner, in words of ours: the
     * moderator's note is for the audit log and may name the reporter. */
    if (strcmp(action, "warn") == 0) {
        char text[256];
        snprintf(text, sizeof text,
                 "A moderator reviewed a report about your account (%s) "
                 "and warned you. Further reports may lead to a suspension "
                 "or a ban.",
                 ward_report_reason_name(r.reason));
        for (char *t = text; *t; t++)
            if (*t == '_')
                *t = ' ';
        e = ward_store_notice_add(api->st, r.subject, "warning", text, now);
        if (e && e != WARD_ERR_NOT_FOUND) {
            ward_api_store_error(api, resp, e);
            goto done;
        }
        account = e ? "deleted" : "warned";
    }
    e = ward_store_report_decide(api->st, r.id,
                                 escalate ? WARD_REPORT_ESCALATED
                                          : WARD_REPORT_CLOSED,
                                 action, escalate, who.mod.id, now);
    if (e) {
        ward_api_store_error(api, resp, e);
        goto done;
    }
    char detail[sizeof ((ward_audit_entry *)0)->detail];
    int n = suspend ? snprintf(detail, sizeof detail, "suspend %llu days",
                               (unsigned long long)days)
                    : snprintf(detail, sizeof detail, "%s", action);
    if (note && *note && n > 0 && (size_t)n < sizeof detail)
        snprintf(detail + n, sizeof detail - (size_t)n, ": %s", note);
    if (console_audit(api, &who.mod, "decision", r.id, r.subject, detail)) {
        ward_resp_error(resp, 500, "audit_failed",
                        "the decision is recorded but the audit log "
                        "cannot be written");
        goto done;
    }
    json_t *o = json_pack(
        "{s:I,s:s,s:s,s:b,s:s}", "id", (json_int_t)r.id, "decision", action,
        "status", escalate ? "escalated" : "closed", "held",
        escalate || r.held, "account", account);
    if (o && suspend)
        json_object_set_new(o, "until",
                            json_integer(now + (int64_t)days * DAY_MS));
    ward_resp_json(resp, 200, o);
done:
    ward_buf_release(&content);
    json_decref(body);
    return WARD_API_DONE;
}

int console_reports_route(ward_api *api, const ward_http_req *req,
                          ward_http_resp *resp, const char *rest)
{
    int get = strcmp(req->method, "GET") == 0;
    int post = strcmp(req->method, "POST") == 0;
    if (strcmp(rest, "reports") == 0) {
        if (get)
            return list_reports(api, req, resp);
        goto method;
    }
    /* reports/ID, reports/ID/evidence, reports/ID/decision */
    const char *p = rest + 8;
    char num[24];
    size_t n = strcspn(p, "/");
    int64_t id;
    if (n == 0 || n >= sizeof num)
        goto nope;
    memcpy(num, p, n);
    num[n] = 0;
    if (ward_console_int(num, 1, INT64_MAX, &id))
        goto nope;
    p += n;
    if (!*p) {
        if (get)
            return get_report(api, req, resp, id);
        goto method;
    }
    if (strcmp(p, "/evidence") == 0) {
        if (get)
            return get_evidence(api, req, resp, id);
        goto method;
    }
    if (strcmp(p, "/decision") == 0) {
        if (post)
            return decide(api, req, resp, id);
        goto method;
    }
nope:
    ward_resp_error(resp, 404, "no_route", "no such endpoint");
    return WARD_API_DONE;
method:
    ward_resp_error(resp, 405, "method_not_allowed",
                    "that method is not allowed here");
    return WARD_API_DONE;
}

/* ---- the audit log ---- */

typedef struct audit_ctx {
    json_t *arr;
    int64_t last;
    int failed;
} audit_ctx;

static int on_audit(void *vctx, const ward_audit_entry *e)
{
    audit_ctx *c = vctx;
    json_t *o = audit_json(e);
    if (!o || json_array_append_new(c->arr, o)) {
        c->failed = 1;
        return 1;
    }
    c->last = e->id;
    return 0;
}

int console_audit_list(ward_api *api, const ward_http_req *req,
                       ward_http_resp *resp)
{
    console_who who;
    char v[24];
    int64_t before = 0, limit = 50;
    int rc1, rc2;
    if (console_require(api, req, resp, 0, &who))
        return WARD_API_DONE;
    if ((rc1 = ward_console_query(req->query, "before", v, sizeof v)) < 0 ||
        (rc1 == 0 && ward_console_int(v, 1, INT64_MAX, &before)) ||
        (rc2 = ward_console_query(req->query, "limit", v, sizeof v)) < 0 ||
        (rc2 == 0 && ward_console_int(v, 1, LIST_MAX, &limit))) {
        ward_resp_error(resp, 400, "invalid_query",
                        "before is an entry id, limit 1 to 200");
        return WARD_API_DONE;
    }
    audit_ctx c = {json_array(), 0, 0};
    if (!c.arr) {
        ward_resp_error(resp, 503, "busy", "out of memory");
        return WARD_API_DONE;
    }
    ward_err e = ward_store_audit_list(api->st, before, (size_t)limit,
                                       on_audit, &c);
    if (e || c.failed) {
        json_decref(c.arr);
        ward_api_store_error(api, resp, e ? e : WARD_ERR_NOMEM);
        return WARD_API_DONE;
    }
    json_t *o = json_pack("{s:o}", "entries", c.arr);
    /* Another page exists only if this one was full. */
    if (o && (int64_t)json_array_size(c.arr) == limit && c.last > 1)
        json_object_set_new(o, "next_before", json_integer(c.last));
    ward_resp_json(resp, 200, o);
    return WARD_API_DONE;
}

int console_audit_verify(ward_api *api, const ward_http_req *req,
                         ward_http_resp *resp)
{
    console_who who;
    int64_t bad = 0;
    if (console_require(api, req, resp, 0, &who))
        return WARD_API_DONE;
    ward_err e = ward_store_audit_verify(api->st, &bad);
    if (e) {
        ward_api_store_error(api, resp, e);
        return WARD_API_DONE;
    }
    json_t *o = json_pack("{s:b}", "intact", bad == 0);
    if (o && bad)
        json_object_set_new(o, "first_bad", json_integer(bad));
    ward_resp_json(resp, 200, o);
    return WARD_API_DONE;
}
