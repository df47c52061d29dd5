/*
 * Opening a set's index file, checking that everything in it points
 * inside it, and answering queries from it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "set_internal.h"

_Static_assert(sizeof(set_meta) == 56, "set_meta is a file layout");
_Static_assert(sizeof(set_list) == 64, "set_list is a file layout");
_Static_assert(sizeof(set_tag) == 16, "set_tag is a file layout");

struct ward_match_set {
    ix_file f; /* unmapped (f.map NULL) for an empty set */
    set_meta meta;
    ward_match_list *lists;
    const set_tag *tags;
    const char *strings;
    const uint32_t *pdq_tag, *md5_tag, *sha_tag;
    const uint8_t *md5, *sha;
    mih m;
};

static ward_err bad(char *why, size_t n, const char *msg)
{
    if (why && n)
        snprintf(why, n, "%s", msg);
    return WARD_ERR_BAD_STATE;
}

/* A section that must be there with exactly |want| bytes. */
static const void *need(const ix_file *f, uint32_t kind, uint64_t want,
                        int *ok)
{
    uint64_t len = 0;
    const void *p = ix_get(f, kind, &len);
    if (!p || len != want)
        *ok = 0;
    return p;
}

/* |off|, |len| name a string inside the strings, ended by a NUL and
 * without one before. */
static int str_ok(const char *strings, uint64_t off, uint64_t len,
                  uint64_t total)
{
    return off < total && len < total - off && strings[off + len] == 0 &&
           !memchr(strings + off, 0, (size_t)len);
}

static ward_err load(ward_match_set *s, char *why, size_t wn)
{
    const ix_file *f = &s->f;
    uint64_t len = 0, str_len = 0;
    const set_meta *meta = ix_get(f, SEC_META, &len);
    if (!meta || len != sizeof *meta || meta->layout != 1)
        return bad(why, wn, "no set description in the index file, or "
                            "one of another layout");
    s->meta = *meta;
    const set_meta *m = &s->meta;
    s->strings = ix_get(f, SEC_STRINGS, &str_len);
    if (!s->strings || (str_len && s->strings[str_len - 1] != 0))
        return bad(why, wn, "the index file's strings are damaged");
    /* No more entries than bytes: the sizes below cannot overflow. */
    if (m->n_pdq > f->size || m->n_md5 > f->size || m->n_sha > f->size)
        return bad(why, wn, "the index file counts more entries than it "
                            "holds");
    int ok = 1;
    const set_list *lists =
        need(f, SEC_LISTS, (uint64_t)m->n_lists * sizeof(set_list), &ok);
    s->tags = need(f, SEC_TAGS, (uint64_t)m->n_tags * sizeof(set_tag), &ok);
    const void *pdq = need(f, SEC_PDQ, m->n_pdq * sizeof(ward_pdq), &ok);
    s->pdq_tag = need(f, SEC_PDQ_TAG, m->n_pdq * 4, &ok);
    s->md5 = need(f, SEC_MD5, m->n_md5 * 16, &ok);
    s->md5_tag = need(f, SEC_MD5_TAG, m->n_md5 * 4, &ok);
    s->sha = need(f, SEC_SHA, m->n_sha * 32, &ok);
    s->sha_tag = need(f, SEC_SHA_TAG, m->n_sha * 4, &ok);
    if (!ok || m->n_pdq > MIH_MAX_ENTRIES)
        return bad(why, wn, "a section of the index file is missing or "
                            "has the wrong size");
    s->m = (mih){(size_t)m->n_pdq, pdq, NULL, NULL, NULL, 0};
    if (m->n_pdq >= MIH_MIN_ENTRIES) {
        int w = (int)m->id_bytes;
        if (w != mih_id_width((size_t)m->n_pdq))
            return bad(why, wn, "the index file's id width is wrong");
        s->m.off = need(f, SEC_MIH_OFF, mih_off_bytes(), &ok);
        s->m.partner = need(f, SEC_MIH_PARTNER, mih_partner_bytes(m->n_pdq), &ok);
        s->m.id = need(f, SEC_MIH_ID, mih_id_bytes(m->n_pdq, w), &ok);
        s->m.id_bytes = w;
        if (!ok || mih_check(s->m.off, (size_t)m->n_pdq))
            return bad(why, wn, "the index file's PDQ tables are damaged");
    }
    for (uint32_t i = 0; i < m->n_tags; i++)
        if (s->tags[i].list >= m->n_lists ||
            !str_ok(s->strings, s->tags[i].labels_off, s->tags[i].labels_len,
                    str_len))
            return bad(why, wn, "an entry's labels lie outside the file");
    s->lists = calloc(m->n_lists ? m->n_lists : 1, sizeof *s->lists);
    if (!s->lists)
        return WARD_ERR_NOMEM;
    for (uint32_t i = 0; i < m->n_lists; i++) {
        const set_list *l = &lists[i];
        if (!str_ok(s->strings, l->name_off, l->name_len, str_len) ||
            !str_ok(s->strings, l->source_off, l->source_len, str_len) ||
            (i && strcmp(s->strings + lists[i - 1].name_off,
                         s->strings + l->name_off) >= 0))
            return bad(why, wn, "the index file's lists are damaged");
        ward_match_list *o = &s->lists[i];
        o->id = l->id;
        o->name = s->strings + l->name_off;
        o->source = s->strings + l->source_off;
        o->format = (ward_hl_format)l->format;
        o->created = l->created;
        o->count[WARD_HL_PDQ] = l->count[0];
        o->count[WARD_HL_MD5] = l->count[1];
        o->count[WARD_HL_SHA256] = l->count[2];
    }
    return WARD_OK;
}

/* The arrays a PDQ query reads at random: what WARD_MATCH_OPEN_COPY
 * copies. */
static const uint32_t hot[] = {SEC_PDQ, SEC_MIH_OFF, SEC_MIH_PARTNER,
                               SEC_MIH_ID};

ward_err ward_match_open_opts(const char *dir, unsigned flags,
                              ward_match_set **out, char *why,
                              size_t why_len)
{
    if (flags & ~(unsigned)(WARD_MATCH_OPEN_MAP | WARD_MATCH_OPEN_COPY) ||
        flags == (WARD_MATCH_OPEN_MAP | WARD_MATCH_OPEN_COPY))
        return WARD_ERR_INVALID_ARG;
    if (!flags)
        flags = WARD_MATCH_OPEN_DEFAULT;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, SET_INDEX_FILE) >= (int)sizeof path)
        return WARD_ERR_TOO_BIG;
    ward_match_set *s = calloc(1, sizeof *s);
    if (!s)
        return WARD_ERR_NOMEM;
    s->meta.next_list_id = 1;
    ward_err e = flags & WARD_MATCH_OPEN_COPY
                     ? ix_open_copy(path, &s->f, hot, sizeof hot / sizeof hot[0],
                                    why, why_len)
                     : ix_open(path, &s->f, why, why_len);
    if (e == WARD_ERR_NOT_FOUND) {
        /* No index yet: an empty set. */
        s->lists = calloc(1, sizeof *s->lists);
        s->strings = "";
        if (!s->lists) {
            free(s);
            return WARD_ERR_NOMEM;
        }
        *out = s;
        return WARD_OK;
    }
    if (!e)
        e = load(s, why, why_len);
    if (e) {
        ward_match_close(s);
        return e;
    }
    *out = s;
    return WARD_OK;
}

ward_err ward_match_open(const char *dir, ward_match_set **out, char *why,
                         size_t why_len)
{
    return ward_match_open_opts(dir, 0, out, why, why_len);
}

ward_err set_open_mem(const void *bytes, size_t n, ward_match_set **out,
                      char *why, size_t why_len)
{
    ward_match_set *s = calloc(1, sizeof *s);
    if (!s)
        return WARD_ERR_NOMEM;
    ward_err e = ix_open_mem(bytes, n, &s->f, why, why_len);
    if (!e)
        e = load(s, why, why_len);
    if (e) {
        ward_match_close(s);
        return e;
    }
    *out = s;
    return WARD_OK;
}

void ward_match_close(ward_match_set *s)
{
    if (!s)
        return;
    ix_close(&s->f);
    free(s->lists);
    free(s);
}

uint32_t set_next_id(const ward_match_set *s)
{
    return s->meta.next_list_id;
}

size_t ward_match_list_count(const ward_match_set *s)
{
    return s->meta.n_lists;
}

const ward_match_list *ward_match_list_at(const ward_match_set *s, size_t i)
{
    return i < s->meta.n_lists ? &s->lists[i] : NULL;
}

const ward_match_list *ward_match_list_find(const ward_match_set *s,
                                            const char *name)
{
    size_t lo = 0, hi = s->meta.n_lists;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->lists[mid].name, name);
        if (!c)
            return &s->lists[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The hit for an entry of tag |tag|: 0, or -1 if the tag is damaged. */
static int fill(const ward_match_set *s, uint32_t tag, ward_match_hit *h)
{
    if (tag >= s->meta.n_tags)
        return -1;
    const set_tag *t = &s->tags[tag];
    const ward_match_list *l = &s->lists[t->list];
    h->list_id = l->id;
    h->list_name = l->name;
    h->labels = s->strings + t->labels_off;
    h->labels_len = t->labels_len;
    return 0;
}

typedef struct pdq_ctx {
    const ward_match_set *s;
    int variant;
    ward_match_fn fn;
    void *ctx;
} pdq_ctx;

static int pdq_hit(void *vc, uint32_t id, int distance)
{
    pdq_ctx *c = vc;
    ward_match_hit h = {0};
    if (fill(c->s, c->s->pdq_tag[id], &h))
        return 0;
    h.type = WARD_HL_PDQ;
    ward_pdq_to_bytes(&c->s->m.hash[id], h.hash);
    h.distance = distance;
    h.variant = c->variant;
    return c->fn(c->ctx, &h);
}

ward_err ward_match_pdq(const ward_match_set *s, const ward_pdq *q,
                        int radius, ward_match_fn fn, void *ctx)
{
    if (radius < 0 || radius > WARD_MATCH_MAX_RADIUS || !q || !fn)
        return WARD_ERR_INVALID_ARG;
    pdq_ctx c = {s, 0, fn, ctx};
    mih_query(&s->m, q, radius, pdq_hit, &c);
    return WARD_OK;
}

/* Exact entries: binary search for the first equal hash, then the run. */
static void exact(const ward_match_set *s, const uint8_t *v, const uint32_t *tags,
                  size_t n, size_t hlen, ward_hl_type type, const uint8_t *hash,
                  ward_match_fn fn, void *ctx)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(v + mid * hlen, hash, hlen) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < n && memcmp(v + lo * hlen, hash, hlen) == 0; lo++) {
        ward_match_hit h = {0};
        if (fill(s, tags[lo], &h))
            continue;
        h.type = type;
        memcpy(h.hash, hash, hlen);
        if (fn(ctx, &h))
            return;
    }
}

ward_err ward_match_exact(const ward_match_set *s, ward_hl_type type,
                          const uint8_t *hash, ward_match_fn fn, void *ctx)
{
    if (!hash || !fn)
        return WARD_ERR_INVALID_ARG;
    switch (type) {
    case WARD_HL_MD5:
        exact(s, s->md5, s->md5_tag, (size_t)s->meta.n_md5, 16, type, hash, fn, ctx);
        return WARD_OK;
    case WARD_HL_SHA256:
        exact(s, s->sha, s->sha_tag, (size_t)s->meta.n_sha, 32, type, hash, fn, ctx);
        return WARD_OK;
    case WARD_HL_PDQ: {
        ward_pdq q;
        ward_pdq_from_bytes(hash, &q);
        return ward_match_pdq(s, &q, 0, fn, ctx);
    }
    default:
        return WARD_ERR_INVALID_ARG;
    }
}

/* ---- collecting ---- */

static int collect(void *ctx, const ward_match_hit *h)
{
    ward_match_hits *out = ctx;
    /* The capacity doubles whenever the count reaches a power of two. */
    if ((out->n & (out->n - 1)) == 0) {
        size_t cap = out->n ? out->n * 2 : 4;
        ward_match_hit *v = realloc(out->v, cap * sizeof *v);
        if (!v)
            return 1;
        out->v = v;
    }
    out->v[out->n++] = *h;
    return 0;
}

void ward_match_hits_free(ward_match_hits *h)
{
    free(h->v);
    h->v = NULL;
    h->n = 0;
}

ward_err ward_match_pdq_collect(const ward_match_set *s, const ward_pdq *q,
                                int radius, ward_match_hits *out)
{
    memset(out, 0, sizeof *out);
    return ward_match_pdq(s, q, radius, collect, out);
}

ward_err ward_match_pdq_batch(const ward_match_set *s, const ward_pdq *q,
                              size_t n, int radius, ward_match_hits *out)
{
    for (size_t i = 0; i < n; i++) {
        ward_err e = ward_match_pdq_collect(s, &q[i], radius, &out[i]);
        if (e) {
            for (size_t k = 0; k <= i; k++)
                ward_match_hits_free(&out[k]);
            return e;
        }
    }
    return WARD_OK;
}

/* The 8 variants: an entry near several is reported once, nearest. The
 * hits of all 8 are gathered first (few: these are matches). */
typedef struct dih_hit {
    uint32_t id;
    int distance, variant;
} dih_hit;

typedef struct dih_ctx {
    dih_hit *v;
    size_t n, cap;
    int variant, failed;
} dih_ctx;

static int dih_add(void *vc, uint32_t id, int distance)
{
    dih_ctx *c = vc;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        dih_hit *v = realloc(c->v, cap * sizeof *v);
        if (!v) {
            c->failed = 1;
            return 1;
        }
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = (dih_hit){id, distance, c->variant};
    return 0;
}

static int cmp_dih(const void *x, const void *y)
{
    const dih_hit *a = x, *b = y;
    if (a->id != b->id)
        return a->id < b->id ? -1 : 1;
    if (a->distance != b->distance)
        return a->distance - b->distance;
    return a->variant - b->variant;
}

ward_err ward_match_pdq_dihedral(const ward_match_set *s,
                                 const ward_pdq q[WARD_PDQ_VARIANTS],
                                 int radius, ward_match_fn fn, void *ctx)
{
    if (radius < 0 || radius > WARD_MATCH_MAX_RADIUS || !q || !fn)
        return WARD_ERR_INVALID_ARG;
    dih_ctx c = {0};
    for (int v = 0; v < WARD_PDQ_VARIANTS && !c.failed; v++) {
        c.variant = v;
        mih_query(&s->m, &q[v], radius, dih_add, &c);
    }
    if (c.failed) {
        free(c.v);
        return WARD_ERR_NOMEM;
    }
    if (c.n)
        qsort(c.v, c.n, sizeof *c.v, cmp_dih);
    pdq_ctx pc = {s, 0, fn, ctx};
    for (size_t i = 0; i < c.n; i++) {
        if (i && c.v[i].id == c.v[i - 1].id)
            continue;
        pc.variant = c.v[i].variant;
        if (pdq_hit(&pc, c.v[i].id, c.v[i].distance))
            break;
    }
    free(c.v);
    return WARD_OK;
}

/* ---- a list's entries ---- */

static ward_err each(const ward_match_set *s, size_t list_index,
                     ward_hl_type type, const uint8_t *hashes, size_t hlen,
                     const uint32_t *tags, size_t n, ward_hl_entry_fn fn,
                     void *ctx, int pdq)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t t = tags[i];
        if (t >= s->meta.n_tags || s->tags[t].list != list_index)
            continue;
        ward_hl_entry e = {0};
        e.type = type;
        if (pdq)
            ward_pdq_to_bytes(&s->m.hash[i], e.hash);
        else
            memcpy(e.hash, hashes + i * hlen, hlen);
        e.labels = s->strings + s->tags[t].labels_off;
        e.labels_len = s->tags[t].labels_len;
        if (fn(ctx, &e))
            return WARD_ERR_USAGE;
    }
    return WARD_OK;
}

ward_err ward_match_list_entries(const ward_match_set *s, uint32_t list_id,
                                 ward_hl_entry_fn fn, void *ctx)
{
    size_t li = s->meta.n_lists;
    for (size_t i = 0; i < s->meta.n_lists; i++)
        if (s->lists[i].id == list_id)
            li = i;
    if (li == s->meta.n_lists)
        return WARD_ERR_NOT_FOUND;
    ward_err e = each(s, li, WARD_HL_PDQ, NULL, 32, s->pdq_tag,
                      (size_t)s->meta.n_pdq, fn, ctx, 1);
    if (!e)
        e = each(s, li, WARD_HL_MD5, s->md5, 16, s->md5_tag,
                 (size_t)s->meta.n_md5, fn, ctx, 0);
    if (!e)
        e = each(s, li, WARD_HL_SHA256, s->sha, 32, s->sha_tag,
                 (size_t)s->meta.n_sha, fn, ctx, 0);
    return e;
}
