/*
 * Building a set's index file: lists, their entries grouped by type, the
 * distinct (list, labels) pairs the entries point to, and the PDQ tables.
 */
#define _GNU_SOURCE /* qsort_r */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "set_internal.h"

typedef struct blist {
    uint32_t id;
    char *name, *source;
    ward_hl_format format;
    uint64_t created;
    uint64_t count[3];
} blist;

typedef struct btag {
    uint32_t list; /* index into b->lists */
    char *labels;
    size_t len;
} btag;

/* One type's entries: hashes of |hlen| bytes and their tags. */
typedef struct bentries {
    size_t hlen, n, cap, tag_cap;
    uint8_t *hash;
    uint32_t *tag;
} bentries;

struct ward_match_builder {
    blist *lists;
    size_t n_lists, cap_lists;
    uint32_t next_id;
    btag *tags;
    size_t n_tags, cap_tags;
    /* Open addressing over tags: slot holds tag index + 1, 0 is empty. */
    uint32_t *slots;
    size_t n_slots;
    bentries e[3]; /* PDQ, MD5, SHA-256 */
    long current;  /* index of the list entries go into, -1: none */
};

static int type_index(ward_hl_type t)
{
    return t == WARD_HL_PDQ ? 0 : t == WARD_HL_MD5 ? 1 : t == WARD_HL_SHA256 ? 2 : -1;
}

int set_grow(void **p, size_t *cap, size_t need, size_t each)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * each);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

ward_err ward_match_builder_new(ward_match_builder **out)
{
    ward_match_builder *b = calloc(1, sizeof *b);
    if (!b)
        return WARD_ERR_NOMEM;
    b->e[0].hlen = 32;
    b->e[1].hlen = 16;
    b->e[2].hlen = 32;
    b->next_id = 1;
    b->current = -1;
    *out = b;
    return WARD_OK;
}

void ward_match_builder_free(ward_match_builder *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_lists; i++) {
        free(b->lists[i].name);
        free(b->lists[i].source);
    }
    for (size_t i = 0; i < b->n_tags; i++)
        free(b->tags[i].labels);
    for (int t = 0; t < 3; t++) {
        free(b->e[t].hash);
        free(b->e[t].tag);
    }
    free(b->lists);
    free(b->tags);
    free(b->slots);
    free(b);
}

static ward_err add_list(ward_match_builder *b, uint32_t id, const char *name,
                         const char *source, ward_hl_format format,
                         uint64_t created)
{
    for (size_t i = 0; i < b->n_lists; i++)
        if (strcmp(b->lists[i].name, name) == 0)
            return WARD_ERR_EXISTS;
    if (set_grow((void **)&b->lists, &b->cap_lists, b->n_lists + 1,
             sizeof *b->lists))
        return WARD_ERR_NOMEM;
    blist *l = &b->lists[b->n_lists];
    memset(l, 0, sizeof *l);
    l->id = id;
    l->name = strdup(name);
    l->source = strdup(source ? source : "");
    l->format = format;
    l->created = created;
    if (!l->name || !l->source) {
        free(l->name);
        free(l->source);
        return WARD_ERR_NOMEM;
    }
    b->current = (long)b->n_lists++;
    if (id >= b->next_id)
        b->next_id = id + 1;
    return WARD_OK;
}

ward_err ward_match_builder_list(ward_match_builder *b, const char *name,
                                 const char *source, ward_hl_format format,
                                 uint64_t created)
{
    if (!name || !*name)
        return WARD_ERR_INVALID_ARG;
    return add_list(b, b->next_id, name, source, format, created);
}

static uint64_t tag_key(uint32_t list, const char *labels, size_t len)
{
    return XXH3_64bits_withSeed(labels, len, list);
}

static int rehash(ward_match_builder *b)
{
    size_t n = b->n_slots ? b->n_slots * 2 : 1024;
    uint32_t *s = calloc(n, sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < b->n_tags; i++) {
        btag *t = &b->tags[i];
        size_t h = tag_key(t->list, t->labels, t->len) & (n - 1);
        while (s[h])
            h = (h + 1) & (n - 1);
        s[h] = (uint32_t)i + 1;
    }
    free(b->slots);
    b->slots = s;
    b->n_slots = n;
    return 0;
}

/* The tag of (list, labels), made if new: its index, or -1. */
static long tag_of(ward_match_builder *b, uint32_t list, const char *labels,
                   size_t len)
{
    if ((b->n_tags + 1) * 2 > b->n_slots && rehash(b))
        return -1;
    size_t h = tag_key(list, labels, len) & (b->n_slots - 1);
    while (b->slots[h]) {
        btag *t = &b->tags[b->slots[h] - 1];
        if (t->list == list && t->len == len && memcmp(t->labels, labels, len) == 0)
            return (long)b->slots[h] - 1;
        h = (h + 1) & (b->n_slots - 1);
    }
    if (b->n_tags >= UINT32_MAX - 1 ||
        set_grow((void **)&b->tags, &b->cap_tags, b->n_tags + 1, sizeof *b->tags))
        return -1;
    btag *t = &b->tags[b->n_tags];
    t->list = list;
    t->len = len;
    t->labels = malloc(len + 1);
    if (!t->labels)
        return -1;
    memcpy(t->labels, labels, len);
    t->labels[len] = 0;
    b->slots[h] = (uint32_t)b->n_tags + 1;
    return (long)b->n_tags++;
}

static ward_err add_entry(ward_match_builder *b, uint32_t list,
                          ward_hl_type type, const uint8_t *hash,
                          const char *labels, size_t len)
{
    int ti = type_index(type);
    if (ti < 0)
        return WARD_ERR_INVALID_ARG;
    long tag = tag_of(b, list, labels ? labels : "", labels ? len : 0);
    if (tag < 0)
        return WARD_ERR_NOMEM;
    bentries *e = &b->e[ti];
    if (e->n >= MIH_MAX_ENTRIES)
        return WARD_ERR_TOO_BIG;
    if (set_grow((void **)&e->tag, &e->tag_cap, e->n + 1, sizeof *e->tag) ||
        set_grow((void **)&e->hash, &e->cap, e->n + 1, e->hlen))
        return WARD_ERR_NOMEM;
    memcpy(e->hash + e->n * e->hlen, hash, e->hlen);
    e->tag[e->n++] = (uint32_t)tag;
    b->lists[list].count[ti]++;
    return WARD_OK;
}

ward_err ward_match_builder_add(ward_match_builder *b, const ward_hl_entry *e)
{
    if (b->current < 0)
        return WARD_ERR_INVALID_ARG;
    return add_entry(b, (uint32_t)b->current, e->type, e->hash, e->labels,
                     e->labels_len);
}

void ward_match_builder_set_format(ward_match_builder *b, ward_hl_format f)
{
    if (b->current >= 0)
        b->lists[b->current].format = f;
}

typedef struct copy_ctx {
    ward_match_builder *b;
    uint32_t list;
    ward_err err;
} copy_ctx;

static int copy_one(void *vc, const ward_hl_entry *e)
{
    copy_ctx *c = vc;
    c->err = add_entry(c->b, c->list, e->type, e->hash, e->labels,
                       e->labels_len);
    return c->err != WARD_OK;
}

ward_err ward_match_builder_copy(ward_match_builder *b,
                                 const ward_match_set *s, const char *except)
{
    long keep = b->current;
    for (size_t i = 0; i < ward_match_list_count(s); i++) {
        const ward_match_list *l = ward_match_list_at(s, i);
        if (except && strcmp(l->name, except) == 0)
            continue;
        ward_err e = add_list(b, l->id, l->name, l->source, l->format,
                              l->created);
        if (e)
            return e;
        copy_ctx c = {b, (uint32_t)b->current, WARD_OK};
        e = ward_match_list_entries(s, l->id, copy_one, &c);
        if (c.err)
            return c.err;
        if (e)
            return e;
    }
    if (set_next_id(s) > b->next_id)
        b->next_id = set_next_id(s);
    b->current = keep;
    return WARD_OK;
}

/* ---- writing ---- */

static int cmp_pos(const void *x, const void *y, void *ctx)
{
    const bentries *e = ctx;
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    int c = memcmp(e->hash + (size_t)a * e->hlen, e->hash + (size_t)b * e->hlen,
                   e->hlen);
    return c ? c : (a > b) - (a < b);
}

static int cmp_list(const void *x, const void *y, void *ctx)
{
    const blist *l = ctx;
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return strcmp(l[a].name, l[b].name);
}

typedef struct strings {
    char *p;
    size_t n, cap;
} strings;

/* Appends |s| and a NUL: its offset, or UINT64_MAX. */
static uint64_t str_add(strings *t, const char *s, size_t len)
{
    if (set_grow((void **)&t->p, &t->cap, t->n + len + 1, 1))
        return UINT64_MAX;
    uint64_t off = t->n;
    memcpy(t->p + t->n, s, len);
    t->p[t->n + len] = 0;
    t->n += len + 1;
    return off;
}

static ward_err section(ix_writer *w, uint32_t kind, const void *p, size_t n)
{
    ward_err e = ix_begin(w, kind);
    if (!e && n)
        e = ix_write(w, p, n);
    return e ? e : ix_end(w);
}

/* The MD5 or SHA-256 entries sorted by hash, written as two sections. */
static ward_err write_exact(ix_writer *w, const bentries *e, uint32_t kh,
                            uint32_t kt)
{
    uint32_t *order = malloc((e->n ? e->n : 1) * sizeof *order);
    uint8_t *hash = malloc(e->n ? e->n * e->hlen : 1);
    uint32_t *tag = malloc((e->n ? e->n : 1) * sizeof *tag);
    ward_err err = WARD_ERR_NOMEM;
    if (order && hash && tag) {
        for (size_t i = 0; i < e->n; i++)
            order[i] = (uint32_t)i;
        qsort_r(order, e->n, sizeof *order, cmp_pos, (void *)e);
        for (size_t i = 0; i < e->n; i++) {
            memcpy(hash + i * e->hlen, e->hash + (size_t)order[i] * e->hlen, e->hlen);
            tag[i] = e->tag[order[i]];
        }
        err = section(w, kh, hash, e->n * e->hlen);
        if (!err)
            err = section(w, kt, tag, e->n * sizeof *tag);
    }
    free(order);
    free(hash);
    free(tag);
    return err;
}

static ward_err write_pdq(ix_writer *w, const bentries *e, set_meta *meta)
{
    ward_pdq *h = malloc((e->n ? e->n : 1) * sizeof *h);
    if (!h)
        return WARD_ERR_NOMEM;
    for (size_t i = 0; i < e->n; i++)
        ward_pdq_from_bytes(e->hash + i * 32, &h[i]);
    mih_tables t;
    ward_err err = mih_build(h, e->n, &t);
    if (!err)
        err = section(w, SEC_PDQ, h, e->n * sizeof *h);
    if (!err)
        err = section(w, SEC_PDQ_TAG, e->tag, e->n * sizeof *e->tag);
    if (!err && t.off) {
        meta->id_bytes = (uint32_t)t.id_bytes;
        err = section(w, SEC_MIH_OFF, t.off, mih_off_bytes());
        if (!err)
            err = section(w, SEC_MIH_PARTNER, t.partner, mih_partner_bytes(e->n));
        if (!err)
            err = section(w, SEC_MIH_ID, t.id, mih_id_bytes(e->n, t.id_bytes));
    }
    mih_tables_free(&t);
    free(h);
    return err;
}

ward_err ward_match_builder_write(ward_match_builder *b, const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, SET_INDEX_FILE) >= (int)sizeof path)
        return WARD_ERR_TOO_BIG;
    /* Lists by name; tags follow them to their new places. */
    uint32_t *order = malloc((b->n_lists ? b->n_lists : 1) * sizeof *order);
    uint32_t *place = malloc((b->n_lists ? b->n_lists : 1) * sizeof *place);
    set_list *lists = calloc(b->n_lists ? b->n_lists : 1, sizeof *lists);
    set_tag *tags = calloc(b->n_tags ? b->n_tags : 1, sizeof *tags);
    strings str = {0};
    ward_err err = WARD_ERR_NOMEM;
    ix_writer *w = NULL;
    if (!order || !place || !lists || !tags)
        goto out;
    for (size_t i = 0; i < b->n_lists; i++)
        order[i] = (uint32_t)i;
    qsort_r(order, b->n_lists, sizeof *order, cmp_list, b->lists);
    for (size_t i = 0; i < b->n_lists; i++) {
        const blist *l = &b->lists[order[i]];
        place[order[i]] = (uint32_t)i;
        set_list *o = &lists[i];
        o->id = l->id;
        o->format = (uint32_t)l->format;
        o->created = l->created;
        o->name_len = (uint32_t)strlen(l->name);
        o->source_len = (uint32_t)strlen(l->source);
        o->name_off = str_add(&str, l->name, o->name_len);
        o->source_off = str_add(&str, l->source, o->source_len);
        memcpy(o->count, l->count, sizeof o->count);
        if (o->name_off == UINT64_MAX || o->source_off == UINT64_MAX)
            goto out;
    }
    for (size_t i = 0; i < b->n_tags; i++) {
        tags[i].list = place[b->tags[i].list];
        tags[i].labels_len = (uint32_t)b->tags[i].len;
        tags[i].labels_off = str_add(&str, b->tags[i].labels, b->tags[i].len);
        if (tags[i].labels_off == UINT64_MAX)
            goto out;
    }
    set_meta meta = {1, (uint32_t)b->n_lists, b->e[0].n, b->e[1].n, b->e[2].n,
                     (uint32_t)b->n_tags, b->next_id, 0, 0,
                     (uint64_t)time(NULL)};
    if ((err = ix_writer_new(path, &w)))
        goto out;
    if ((err = section(w, SEC_LISTS, lists, b->n_lists * sizeof *lists)) ||
        (err = section(w, SEC_STRINGS, str.p, str.n)) ||
        (err = section(w, SEC_TAGS, tags, b->n_tags * sizeof *tags)) ||
        (err = write_pdq(w, &b->e[0], &meta)) ||
        (err = write_exact(w, &b->e[1], SEC_MD5, SEC_MD5_TAG)) ||
        (err = write_exact(w, &b->e[2], SEC_SHA, SEC_SHA_TAG)) ||
        (err = section(w, SEC_META, &meta, sizeof meta)))
        goto out;
    err = ix_commit(w);
    w = NULL;
    if (!err) {
        /* The journal follows the old index file: readers already skip it,
         * and the new file has its changes (a builder copies the set as
         * the journal left it). */
        char jpath[4096];
        if (snprintf(jpath, sizeof jpath, "%s/%s", dir, JNL_FILE) < (int)sizeof jpath)
            unlink(jpath);
    }
out:
    if (w)
        ix_abort(w);
    free(order);
    free(place);
    free(lists);
    free(tags);
    free(str.p);
    return err;
}
