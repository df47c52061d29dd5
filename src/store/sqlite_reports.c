/* Reports and their decisions, notices to accounts, and the persistent
 * counters. */
#include <string.h>

#include "sqlite_internal.h"

static void bind_opt_blob(sqlite3_stmt *s, int col, const uint8_t *p,
                          size_t n, int present)
{
    if (present)
        sqlite3_bind_blob(s, col, p, (int)n, SQLITE_STATIC);
}

ward_err ward_store_report_add(ward_store *st, ward_report *r)
{
    int msg = r->kind == WARD_REPORT_MESSAGE;
    if ((r->kind != WARD_REPORT_MESSAGE && r->kind != WARD_REPORT_ACCOUNT) ||
        r->reason < WARD_REASON_CSE || r->reason > WARD_REASON_OTHER ||
        memchr(r->note, 0, sizeof r->note) == NULL)
        return WARD_ERR_INVALID_ARG;
    ward_err e = ward_sql_begin(st);
    if (e)
        return e;
    sqlite3_stmt *s = ward_sql_stmt(st, S_REPORT_INSERT);
    if (!s) {
        ward_sql_rollback(st);
        return WARD_ERR_STORE;
    }
    sqlite3_bind_int(s, 1, r->kind);
    sqlite3_bind_int(s, 2, r->reason);
    sqlite3_bind_int(s, 3, r->priority);
    sqlite3_bind_int64(s, 4, r->reporter);
    sqlite3_bind_text(s, 5, r->reporter_name, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 6, r->reporter_band);
    sqlite3_bind_int64(s, 7, r->subject);
    sqlite3_bind_text(s, 8, r->subject_name, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 9, r->subject_band);
    sqlite3_bind_int64(s, 10, r->created_at);
    sqlite3_bind_text(s, 11, r->note, -1, SQLITE_STATIC);
    if (msg) {
        sqlite3_bind_int64(s, 12, r->message_id);
        sqlite3_bind_int64(s, 13, r->message_time);
        sqlite3_bind_blob(s, 14, r->content ? (const void *)r->content : "",
                          (int)r->content_len, SQLITE_STATIC);
        bind_opt_blob(s, 15, r->commitment, 32, 1);
        bind_opt_blob(s, 16, r->tag, 32, 1);
        sqlite3_bind_int64(s, 17, r->key_id);
        if (r->group_id)
            sqlite3_bind_int64(s, 20, r->group_id);
    }
    sqlite3_bind_int(s, 18, r->attachment);
    sqlite3_bind_text(s, 19, r->evidence, -1, SQLITE_STATIC);
    e = ward_sql_exec(st, s, "report insert");
    if (!e) {
        r->id = sqlite3_last_insert_rowid(st->db);
        /* The report is also a signal about its subject; an account that
         * is gone fails the foreign key and needs none. */
        ward_err se = ward_sql_signal(st, r->subject, r->reporter,
                                      r->reporter_band, 2, r->created_at);
        if (se && sqlite3_extended_errcode(st->db) !=
                      SQLITE_CONSTRAINT_FOREIGNKEY)
            e = se;
    }
    if (e) {
        ward_sql_rollback(st);
        return e;
    }
    return ward_sql_commit(st);
}

/* Fills |r| from a row of REPORT_COLS. */
static void report_row(sqlite3_stmt *s, ward_report *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(s, 0);
    r->kind = sqlite3_column_int(s, 1);
    r->reason = sqlite3_column_int(s, 2);
    r->priority = sqlite3_column_int(s, 3);
    r->status = sqlite3_column_int(s, 4);
    r->reporter = sqlite3_column_int64(s, 5);
    ward_sql_text(s, 6, r->reporter_name, sizeof r->reporter_name);
    r->reporter_band = sqlite3_column_int(s, 7);
    r->subject = sqlite3_column_int64(s, 8);
    ward_sql_text(s, 9, r->subject_name, sizeof r->subject_name);
    r->subject_band = sqlite3_column_int(s, 10);
    r->created_at = sqlite3_column_int64(s, 11);
    ward_sql_text(s, 12, r->note, sizeof r->note);
    r->message_id = sqlite3_column_int64(s, 13);
    r->message_time = sqlite3_column_int64(s, 14);
    (void)ward_sql_blob(s, 15, r->commitment, 32);
    (void)ward_sql_blob(s, 16, r->tag, 32);
    r->key_id = (uint32_t)sqlite3_column_int64(s, 17);
    r->attachment = sqlite3_column_int(s, 18);
    ward_sql_text(s, 19, r->evidence, sizeof r->evidence);
    r->held = sqlite3_column_int(s, 20);
    ward_sql_text(s, 21, r->decision, sizeof r->decision);
    r->decided_by = sqlite3_column_int64(s, 22);
    r->decided_at = sqlite3_column_int64(s, 23);
    r->group_id = sqlite3_column_int64(s, 24);
}

ward_err ward_store_report_get(ward_store *st, int64_t id, ward_report *out,
                               ward_buf *content)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_REPORT_GET);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    ward_err e = WARD_ERR_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        report_row(s, out);
        const void *p = sqlite3_column_blob(s, 25);
        size_t n = (size_t)sqlite3_column_bytes(s, 25);
        e = WARD_OK;
        if (content) {
            content->len = 0;
            if (p && n)
                e = ward_buf_append(content, p, n);
            out->content = content->data;
            out->content_len = content->len;
        }
    } else if (rc != SQLITE_DONE) {
        e = ward_sql_fail(st, "report get");
    }
    sqlite3_reset(s);
    return e;
}

ward_err ward_store_report_list(ward_store *st, const ward_report_filter *f,
                                size_t offset, size_t limit,
                                int (*fn)(void *ctx, const ward_report *r),
                                void *ctx)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_REPORT_LIST);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int(s, 1, f ? f->status : -1);
    sqlite3_bind_int(s, 2, f ? f->reason : 0);
    sqlite3_bind_int(s, 3, f ? f->priority : -1);
    sqlite3_bind_int64(s, 4, f ? f->subject : 0);
    sqlite3_bind_int64(s, 5, f ? f->reporter : 0);
    sqlite3_bind_int64(s, 6, (sqlite3_int64)limit);
    sqlite3_bind_int64(s, 7, (sqlite3_int64)offset);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ward_report r;
        report_row(s, &r);
        if (fn(ctx, &r))
            break;
    }
    ward_err e = WARD_OK;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = ward_sql_fail(st, "report list");
    sqlite3_reset(s);
    return e;
}

ward_err ward_store_report_decide(ward_store *st, int64_t id, int status,
                                  const char *decision, int hold,
                                  int64_t moderator, int64_t now)
{
    if (status < WARD_REPORT_OPEN || status > WARD_REPORT_ESCALATED ||
        !decision || strlen(decision) >= sizeof ((ward_report *)0)->decision)
        return WARD_ERR_INVALID_ARG;
    sqlite3_stmt *s = ward_sql_stmt(st, S_REPORT_DECIDE);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int(s, 1, status);
    sqlite3_bind_text(s, 2, decision, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, hold != 0);
    sqlite3_bind_int64(s, 4, moderator);
    sqlite3_bind_int64(s, 5, now);
    sqlite3_bind_int64(s, 6, id);
    ward_err e = ward_sql_exec(st, s, "report decide");
    if (!e && sqlite3_changes(st->db) == 0)
        e = WARD_ERR_NOT_FOUND;
    return e;
}

ward_err ward_store_counter_add(ward_store *st, const char *name,
                                int64_t delta)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_COUNTER_ADD);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, delta);
    return ward_sql_exec(st, s, "counter add");
}

ward_err ward_store_counter_get(ward_store *st, const char *name,
                                int64_t *value)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_COUNTER_GET);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    ward_err e = WARD_OK;
    if (rc == SQLITE_ROW)
        *value = sqlite3_column_int64(s, 0);
    else if (rc == SQLITE_DONE)
        *value = 0;
    else
        e = ward_sql_fail(st, "counter get");
    sqlite3_reset(s);
    return e;
}

ward_err ward_store_notice_add(ward_store *st, int64_t account,
                               const char *kind, const char *text,
                               int64_t now)
{
    if (!kind || !text || strlen(kind) >= sizeof ((ward_notice *)0)->kind ||
        strlen(text) > WARD_NOTICE_TEXT_MAX)
        return WARD_ERR_INVALID_ARG;
    sqlite3_stmt *s = ward_sql_stmt(st, S_NOTICE_INSERT);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, account);
    sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    ward_err e = ward_sql_exec(st, s, "notice insert");
    if (e == WARD_ERR_STORE &&
        sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
        e = WARD_ERR_NOT_FOUND;
    return e;
}

ward_err ward_store_notice_list(ward_store *st, int64_t account,
                                int (*fn)(void *ctx, const ward_notice *n),
                                void *ctx)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_NOTICE_LIST);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, account);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ward_notice n;
        n.id = sqlite3_column_int64(s, 0);
        ward_sql_text(s, 1, n.kind, sizeof n.kind);
        ward_sql_text(s, 2, n.text, sizeof n.text);
        n.created_at = sqlite3_column_int64(s, 3);
        if (fn(ctx, &n))
            break;
    }
    ward_err e = WARD_OK;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = ward_sql_fail(st, "notice list");
    sqlite3_reset(s);
    return e;
}

ward_err ward_store_notice_ack(ward_store *st, int64_t account, int64_t upto)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_NOTICE_DELETE);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, account);
    sqlite3_bind_int64(s, 2, upto);
    return ward_sql_exec(st, s, "notice delete");
}
