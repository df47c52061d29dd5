/*
 * Replaying a set's journal in memory: the lists it made and dropped, the
 * entries it added, and the index file's entries it removed. Operations
 * are gathered first and settled at the end, by their order: an entry is
 * there if it was added after the last removal of its hash from its list,
 * and its list was not dropped.
 */
#define _GNU_SOURCE /* qsort_r */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "set_internal.h"

typedef struct delta_chunk {
    struct delta_chunk *next;
    size_t used, cap;
    char bytes[];
} delta_chunk;

/* A NUL-terminated copy of |s| that lives as long as the delta. */
static const char *pool_copy(set_delta *d, const char *s, size_t n)
{
    delta_chunk *c = d->pool;
    if (!c || c->cap - c->used < n + 1) {
        size_t cap = n + 1 > 65536 ? n + 1 : 65536;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = d->pool;
        c->used = 0;
        c->cap = cap;
        d->pool = c;
    }
    char *p = c->bytes + c->used;
    memcpy(p, s, n);
    p[n] = 0;
    c->used += n + 1;
    return p;
}

static int type_index(int t)
{
    return t == WARD_HL_PDQ ? 0 : t == WARD_HL_MD5 ? 1 : t == WARD_HL_SHA256 ? 2 : -1;
}

static size_t hash_len(int t)
{
    return t == WARD_HL_MD5 ? 16 : 32;
}

/* A list as the journal leaves it. */
typedef struct rlist {
    ward_match_list l;
    long base; /* its index in the index file's lists, -1: made by the journal */
    int live;
} rlist;

/* An add or remove, as read. */
typedef struct rop {
    uint64_t seq;
    uint32_t list_id;
    uint8_t type;
    const uint8_t *hash;
    const char *labels;
    size_t labels_len;
} rop;

typedef struct replay {
    set_delta *d;
    const delta_base *base;
    rlist *lists;
    size_t n_lists, cap_lists;
    rop *add, *rm;
    size_t n_add, cap_add, n_rm, cap_rm;
    uint64_t seq;
    char *why;
    size_t why_len;
} replay;

static int refuse(replay *r, const char *msg)
{
    if (r->why && r->why_len)
        snprintf(r->why, r->why_len, "the journal is damaged: %s", msg);
    return 1;
}

static rlist *live_list(replay *r, uint32_t id)
{
    for (size_t i = 0; i < r->n_lists; i++)
        if (r->lists[i].l.id == id && r->lists[i].live)
            return &r->lists[i];
    return NULL;
}

static int name_ok(const char *s, size_t n)
{
    return n > 0 && !memchr(s, 0, n);
}

static int on_op(void *ctx, const jnl_op *op)
{
    replay *r = ctx;
    set_delta *d = r->d;
    d->ops++;
    switch (op->kind) {
    case JOP_LIST: {
        if (op->list < d->next_id || op->list == 0)
            return refuse(r, "a new list reuses an id");
        if (!name_ok(op->name, op->name_len) ||
            memchr(op->source, 0, op->source_len) || op->format > WARD_HL_TE_CSV)
            return refuse(r, "a new list's name, source or format is invalid");
        for (size_t i = 0; i < r->n_lists; i++)
            if (r->lists[i].live && strlen(r->lists[i].l.name) == op->name_len &&
                memcmp(r->lists[i].l.name, op->name, op->name_len) == 0)
                return refuse(r, "a new list has the name of another");
        if (set_grow((void **)&r->lists, &r->cap_lists, r->n_lists + 1, sizeof *r->lists))
            return refuse(r, "out of memory");
        rlist *l = &r->lists[r->n_lists];
        memset(l, 0, sizeof *l);
        l->l.id = op->list;
        l->l.name = pool_copy(d, op->name, op->name_len);
        l->l.source = pool_copy(d, op->source, op->source_len);
        l->l.format = (ward_hl_format)op->format;
        l->l.created = op->created;
        l->base = -1;
        l->live = 1;
        if (!l->l.name || !l->l.source)
            return refuse(r, "out of memory");
        r->n_lists++;
        d->next_id = op->list + 1;
        return 0;
    }
    case JOP_DROP: {
        rlist *l = live_list(r, op->list);
        if (!l)
            return refuse(r, "a list is dropped that is not there");
        l->live = 0;
        return 0;
    }
    case JOP_ADD:
    case JOP_REMOVE: {
        if (!live_list(r, op->list))
            return refuse(r, "an entry of a list that is not there");
        if (op->kind == JOP_ADD &&
            (op->labels_len > WARD_HL_MAX_LABELS ||
             memchr(op->labels, 0, op->labels_len)))
            return refuse(r, "an entry's labels are invalid");
        int add = op->kind == JOP_ADD;
        rop **v = add ? &r->add : &r->rm;
        size_t *n = add ? &r->n_add : &r->n_rm, *cap = add ? &r->cap_add : &r->cap_rm;
        if (set_grow((void **)v, cap, *n + 1, sizeof **v))
            return refuse(r, "out of memory");
        (*v)[(*n)++] = (rop){r->seq++, op->list, (uint8_t)op->type, op->hash,
                             op->labels, op->labels_len};
        return 0;
    }
    default:
        return refuse(r, "an unknown operation");
    }
}

/* Removals by (type, hash, list), the latest first among equals. */
static int cmp_rm(const void *x, const void *y)
{
    const rop *a = x, *b = y;
    if (a->type != b->type)
        return a->type - b->type;
    int c = memcmp(a->hash, b->hash, hash_len(a->type));
    if (c)
        return c;
    if (a->list_id != b->list_id)
        return a->list_id < b->list_id ? -1 : 1;
    return a->seq > b->seq ? -1 : a->seq < b->seq;
}

/* The latest removal of (type, hash, list), or NULL. */
static const rop *last_removal(const replay *r, const rop *key)
{
    size_t lo = 0, hi = r->n_rm;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        rop probe = r->rm[mid];
        probe.seq = UINT64_MAX; /* compare the key only */
        rop k = *key;
        k.seq = UINT64_MAX;
        int c = cmp_rm(&probe, &k);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < r->n_rm) {
        const rop *m = &r->rm[lo];
        if (m->type == key->type && m->list_id == key->list_id &&
            memcmp(m->hash, key->hash, hash_len(key->type)) == 0)
            return m;
    }
    return NULL;
}

static int cmp_list_name(const void *x, const void *y)
{
    const rlist *a = x, *b = y;
    return strcmp(a->l.name, b->l.name);
}

static int cmp_entry(const void *x, const void *y, void *ctx)
{
    const delta_entry *a = x, *b = y;
    int c = memcmp(a->hash, b->hash, *(const size_t *)ctx);
    if (c)
        return c;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cmp_tomb(const delta_tomb *a, const delta_tomb *b)
{
    if (a->type != b->type)
        return a->type - b->type;
    int c = memcmp(a->hash, b->hash, 32);
    if (c)
        return c;
    return a->list_id < b->list_id ? -1 : a->list_id > b->list_id;
}

static int cmp_tomb_q(const void *x, const void *y)
{
    return cmp_tomb(x, y);
}

static ward_err settle(replay *r)
{
    set_delta *d = r->d;
    if (r->n_rm)
        qsort(r->rm, r->n_rm, sizeof *r->rm, cmp_rm);
    /* The lists that remain, by name, and where the base's went. */
    size_t live = 0;
    for (size_t i = 0; i < r->n_lists; i++)
        if (r->lists[i].live)
            r->lists[live++] = r->lists[i];
    r->n_lists = live;
    qsort(r->lists, r->n_lists, sizeof *r->lists, cmp_list_name);
    d->lists = calloc(r->n_lists ? r->n_lists : 1, sizeof *d->lists);
    d->base_map = malloc((r->base->n_lists ? r->base->n_lists : 1) * sizeof *d->base_map);
    if (!d->lists || !d->base_map)
        return WARD_ERR_NOMEM;
    d->n_lists = r->n_lists;
    for (size_t i = 0; i < r->base->n_lists; i++) {
        d->base_map[i] = DELTA_NONE;
        d->hidden += r->base->lists[i].count[WARD_HL_PDQ] +
                     r->base->lists[i].count[WARD_HL_MD5] +
                     r->base->lists[i].count[WARD_HL_SHA256];
    }
    for (size_t i = 0; i < r->n_lists; i++) {
        rlist *l = &r->lists[i];
        d->lists[i] = l->l;
        if (l->base >= 0) {
            d->base_map[l->base] = (uint32_t)i;
            d->hidden -= l->l.count[WARD_HL_PDQ] + l->l.count[WARD_HL_MD5] +
                         l->l.count[WARD_HL_SHA256];
        }
    }
    /* The base's entries each removal hides, from lists still there. */
    size_t nt = 0;
    d->tomb = malloc((r->n_rm ? r->n_rm : 1) * sizeof *d->tomb);
    if (!d->tomb)
        return WARD_ERR_NOMEM;
    for (size_t i = 0; i < r->n_rm; i++) {
        const rop *o = &r->rm[i];
        const rop *prev = i ? &r->rm[i - 1] : NULL;
        if (prev && prev->list_id == o->list_id && prev->type == o->type &&
            memcmp(prev->hash, o->hash, hash_len(o->type)) == 0)
            continue; /* the same key again */
        ward_match_list *l = NULL;
        for (size_t k = 0; k < d->n_lists; k++)
            if (d->lists[k].id == o->list_id)
                l = &d->lists[k];
        int in_base = 0;
        for (size_t k = 0; k < r->base->n_lists; k++)
            if (r->base->lists[k].id == o->list_id)
                in_base = 1;
        if (!l || !in_base)
            continue;
        delta_tomb *t = &d->tomb[nt++];
        memset(t, 0, sizeof *t);
        t->type = o->type;
        memcpy(t->hash, o->hash, hash_len(o->type));
        t->list_id = o->list_id;
        uint64_t hid = r->base->count(r->base->ctx, o->list_id, o->type, t->hash);
        l->count[o->type] -= hid;
        d->hidden += hid;
    }
    d->n_tomb = nt;
    if (nt)
        qsort(d->tomb, nt, sizeof *d->tomb, cmp_tomb_q);
    /* The added entries still there. */
    size_t cap[3] = {0};
    for (size_t i = 0; i < r->n_add; i++) {
        const rop *o = &r->add[i];
        size_t li = d->n_lists;
        for (size_t k = 0; k < d->n_lists; k++)
            if (d->lists[k].id == o->list_id)
                li = k;
        if (li == d->n_lists)
            continue; /* its list was dropped */
        const rop *rm = last_removal(r, o);
        if (rm && rm->seq > o->seq)
            continue;
        int t = type_index(o->type);
        if (set_grow((void **)&d->e[t], &cap[t], d->n[t] + 1, sizeof *d->e[t]))
            return WARD_ERR_NOMEM;
        delta_entry *e = &d->e[t][d->n[t]++];
        memset(e->hash, 0, sizeof e->hash);
        memcpy(e->hash, o->hash, hash_len(o->type));
        e->list = (uint32_t)li;
        e->labels_len = (uint32_t)o->labels_len;
        e->labels = pool_copy(d, o->labels, o->labels_len);
        e->seq = o->seq;
        if (!e->labels)
            return WARD_ERR_NOMEM;
        d->lists[li].count[o->type]++;
    }
    for (int t = 1; t < 3; t++) {
        size_t hl = t == 1 ? 16 : 32;
        if (d->n[t])
            qsort_r(d->e[t], d->n[t], sizeof *d->e[t], cmp_entry, &hl);
    }
    d->pdq = malloc((d->n[0] ? d->n[0] : 1) * sizeof *d->pdq);
    if (!d->pdq)
        return WARD_ERR_NOMEM;
    for (size_t i = 0; i < d->n[0]; i++)
        ward_pdq_from_bytes(d->e[0][i].hash, &d->pdq[i]);
    ward_err e = mih_build(d->pdq, d->n[0], &d->t);
    if (e)
        return e;
    d->m = (mih){d->n[0], d->pdq, d->t.off, d->t.partner, d->t.id, d->t.id_bytes};
    return WARD_OK;
}

ward_err delta_replay(const uint8_t *p, size_t n, const delta_base *base,
                      set_delta **out, char *why, size_t why_len)
{
    set_delta *d = calloc(1, sizeof *d);
    replay r = {0};
    if (!d)
        return WARD_ERR_NOMEM;
    r.d = d;
    r.base = base;
    r.why = why;
    r.why_len = why_len;
    d->next_id = base->next_id;
    d->bytes = n;
    ward_err e = WARD_ERR_NOMEM;
    if (set_grow((void **)&r.lists, &r.cap_lists, base->n_lists + 1, sizeof *r.lists))
        goto out;
    for (size_t i = 0; i < base->n_lists; i++) {
        r.lists[i] = (rlist){base->lists[i], (long)i, 1};
        if (base->lists[i].id >= d->next_id)
            d->next_id = base->lists[i].id + 1;
    }
    r.n_lists = base->n_lists;
    size_t end;
    e = jnl_read(p, n, on_op, &r, &end, why, why_len);
    if (e == WARD_ERR_USAGE)
        e = WARD_ERR_BAD_STATE; /* on_op said why */
    if (!e)
        e = settle(&r);
out:
    free(r.lists);
    free(r.add);
    free(r.rm);
    if (e) {
        delta_free(d);
        return e;
    }
    *out = d;
    return WARD_OK;
}

void delta_free(set_delta *d)
{
    if (!d)
        return;
    free(d->lists);
    free(d->base_map);
    for (int t = 0; t < 3; t++)
        free(d->e[t]);
    free(d->pdq);
    mih_tables_free(&d->t);
    free(d->tomb);
    while (d->pool) {
        delta_chunk *c = d->pool;
        d->pool = c->next;
        free(c);
    }
    free(d);
}

int delta_removed(const set_delta *d, ward_hl_type type, const uint8_t *hash,
                  uint32_t list_id)
{
    if (!d || !d->n_tomb)
        return 0;
    delta_tomb key = {0};
    key.type = (uint8_t)type;
    memcpy(key.hash, hash, hash_len(type));
    key.list_id = list_id;
    return bsearch(&key, d->tomb, d->n_tomb, sizeof key, cmp_tomb_q) != NULL;
}

void delta_exact(const set_delta *d, ward_hl_type type, const uint8_t *hash,
                 size_t *lo_out, size_t *hi_out)
{
    int t = type_index(type);
    size_t hl = hash_len(type), lo = 0, hi = d->n[t];
    const delta_entry *v = d->e[t];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(v[mid].hash, hash, hl) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *lo_out = lo;
    while (lo < d->n[t] && memcmp(v[lo].hash, hash, hl) == 0)
        lo++;
    *hi_out = lo;
}
