/*
 * Changing a set through its journal: the changes are checked against the
 * set as it was opened (plus the changes before them) and encoded; the
 * commit appends them as one record.
 */
#include <stdlib.h>
#include <string.h>

#include "set_internal.h"

typedef struct wlist {
    uint32_t id;
    char *name;
    int live;
} wlist;

struct ward_match_delta {
    uint64_t index_id;
    uint32_t next_id;
    wlist *lists;
    size_t n_lists, cap_lists;
    jnl_buf ops;
    size_t n_ops;
};

static ward_err push_list(ward_match_delta *d, uint32_t id, const char *name)
{
    if (d->n_lists == d->cap_lists) {
        size_t cap = d->cap_lists ? d->cap_lists * 2 : 16;
        wlist *v = realloc(d->lists, cap * sizeof *v);
        if (!v)
            return WARD_ERR_NOMEM;
        d->lists = v;
        d->cap_lists = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return WARD_ERR_NOMEM;
    d->lists[d->n_lists++] = (wlist){id, copy, 1};
    return WARD_OK;
}

ward_err ward_match_delta_new(const ward_match_set *s, ward_match_delta **out)
{
    ward_match_delta *d = calloc(1, sizeof *d);
    if (!d)
        return WARD_ERR_NOMEM;
    d->index_id = set_index_id(s);
    d->next_id = set_next_id(s);
    for (size_t i = 0; i < ward_match_list_count(s); i++) {
        const ward_match_list *l = ward_match_list_at(s, i);
        if (push_list(d, l->id, l->name)) {
            ward_match_delta_free(d);
            return WARD_ERR_NOMEM;
        }
    }
    *out = d;
    return WARD_OK;
}

void ward_match_delta_free(ward_match_delta *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n_lists; i++)
        free(d->lists[i].name);
    free(d->lists);
    jnl_buf_free(&d->ops);
    free(d);
}

static wlist *find(ward_match_delta *d, uint32_t id)
{
    for (size_t i = 0; i < d->n_lists; i++)
        if (d->lists[i].live && d->lists[i].id == id)
            return &d->lists[i];
    return NULL;
}

static ward_err put(ward_match_delta *d, const jnl_op *op)
{
    ward_err e = jnl_put(&d->ops, op);
    if (!e)
        d->n_ops++;
    return e;
}

ward_err ward_match_delta_list(ward_match_delta *d, const char *name,
                               const char *source, ward_hl_format format,
                               uint64_t created, uint32_t *id)
{
    if (!name || !name[0] || !source || format > WARD_HL_TE_CSV)
        return WARD_ERR_INVALID_ARG;
    if (strlen(name) > JNL_MAX_NAME || strlen(source) > JNL_MAX_SOURCE)
        return WARD_ERR_TOO_BIG;
    for (size_t i = 0; i < d->n_lists; i++)
        if (d->lists[i].live && strcmp(d->lists[i].name, name) == 0)
            return WARD_ERR_EXISTS;
    if (d->next_id == UINT32_MAX)
        return WARD_ERR_TOO_BIG;
    jnl_op op = {0};
    op.kind = JOP_LIST;
    op.list = d->next_id;
    op.format = (uint32_t)format;
    op.created = created;
    op.name = name;
    op.name_len = strlen(name);
    op.source = source;
    op.source_len = strlen(source);
    ward_err e = push_list(d, op.list, name);
    if (!e && (e = put(d, &op)))
        d->n_lists--, free(d->lists[d->n_lists].name);
    if (e)
        return e;
    *id = d->next_id++;
    return WARD_OK;
}

ward_err ward_match_delta_drop(ward_match_delta *d, uint32_t list_id)
{
    wlist *l = find(d, list_id);
    if (!l)
        return WARD_ERR_NOT_FOUND;
    jnl_op op = {0};
    op.kind = JOP_DROP;
    op.list = list_id;
    ward_err e = put(d, &op);
    if (!e)
        l->live = 0;
    return e;
}

static int type_ok(ward_hl_type t)
{
    return t == WARD_HL_PDQ || t == WARD_HL_MD5 || t == WARD_HL_SHA256;
}

ward_err ward_match_delta_add(ward_match_delta *d, uint32_t list_id,
                              const ward_hl_entry *e)
{
    if (!e || !type_ok(e->type) || (e->labels_len && !e->labels) ||
        (e->labels_len && memchr(e->labels, 0, e->labels_len)))
        return WARD_ERR_INVALID_ARG;
    if (e->labels_len > WARD_HL_MAX_LABELS)
        return WARD_ERR_TOO_BIG;
    if (!find(d, list_id))
        return WARD_ERR_NOT_FOUND;
    jnl_op op = {0};
    op.kind = JOP_ADD;
    op.list = list_id;
    op.type = e->type;
    op.hash = e->hash;
    op.labels = e->labels ? e->labels : "";
    op.labels_len = e->labels_len;
    return put(d, &op);
}

ward_err ward_match_delta_remove(ward_match_delta *d, uint32_t list_id,
                                 ward_hl_type type, const uint8_t *hash)
{
    if (!hash || !type_ok(type))
        return WARD_ERR_INVALID_ARG;
    if (!find(d, list_id))
        return WARD_ERR_NOT_FOUND;
    jnl_op op = {0};
    op.kind = JOP_REMOVE;
    op.list = list_id;
    op.type = type;
    op.hash = hash;
    return put(d, &op);
}

size_t ward_match_delta_count(const ward_match_delta *d)
{
    return d->n_ops;
}

ward_err ward_match_delta_commit(ward_match_delta *d, const char *dir,
                                 char *why, size_t why_len)
{
    if (why && why_len)
        why[0] = 0;
    if (!d->n_ops)
        return WARD_OK;
    ward_err e = jnl_commit(dir, d->index_id, &d->ops, why, why_len);
    if (!e) {
        /* Committed: the delta starts again from here. */
        d->ops.n = 0;
        d->n_ops = 0;
    }
    return e;
}

ward_err ward_match_compact(const ward_match_set *s, const char *dir)
{
    ward_match_builder *b = NULL;
    ward_err e = ward_match_builder_new(&b);
    if (!e)
        e = ward_match_builder_copy(b, s, NULL);
    if (!e)
        e = ward_match_builder_write(b, dir);
    ward_match_builder_free(b);
    return e;
}
