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
    set_delta *d; /* the journal's changes; NULL: none */
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

/* An empty set: no index file yet. */
static ward_err empty(ward_match_set *s)
{
    s->meta.next_list_id = 1;
    s->lists = calloc(1, sizeof *s->lists);
    s->strings = "";
    return s->lists ? WARD_OK : WARD_ERR_NOMEM;
}

static int hit_in_list(void *ctx, uint32_t id, int distance)
{
    (void)distance;
    struct {
        const ward_match_set *s;
        uint32_t list_id;
        uint64_t n;
    } *c = ctx;
    uint32_t t = c->s->pdq_tag[id];
    if (t < c->s->meta.n_tags &&
        c->s->lists[c->s->tags[t].list].id == c->list_id)
        c->n++;
    return 0;
}

static void exact_range(const uint8_t *v, size_t n, size_t hlen,
                        const uint8_t *hash, size_t *lo_out, size_t *hi_out);

/* The index file's entries of one list with one hash (for the journal's
 * removals). */
static uint64_t base_count(void *ctx, uint32_t list_id, ward_hl_type type,
                           const uint8_t *hash)
{
    const ward_match_set *s = ctx;
    if (type == WARD_HL_PDQ) {
        struct {
            const ward_match_set *s;
            uint32_t list_id;
            uint64_t n;
        } c = {s, list_id, 0};
        ward_pdq q;
        ward_pdq_from_bytes(hash, &q);
        mih_query(&s->m, &q, 0, hit_in_list, &c);
        return c.n;
    }
    int md5 = type == WARD_HL_MD5;
    const uint32_t *tags = md5 ? s->md5_tag : s->sha_tag;
    size_t lo, hi, hl = md5 ? 16 : 32;
    exact_range(md5 ? s->md5 : s->sha, (size_t)(md5 ? s->meta.n_md5 : s->meta.n_sha),
                hl, hash, &lo, &hi);
    uint64_t n = 0;
    for (; lo < hi; lo++)
        if (tags[lo] < s->meta.n_tags &&
            s->lists[s->tags[tags[lo]].list].id == list_id)
            n++;
    return n;
}

/* Replays journal bytes (read before the index file was opened) if they
 * follow this index file; a journal that follows another is left over
 * from a compaction and already in it. */
static ward_err replay(ward_match_set *s, const uint8_t *j, size_t jn,
                       char *why, size_t why_len)
{
    uint64_t id;
    if (!j)
        return WARD_OK;
    if (jnl_header(j, jn, &id)) {
        if (why && why_len)
            snprintf(why, why_len, "the journal's header is damaged");
        return WARD_ERR_BAD_STATE;
    }
    if (id != set_index_id(s))
        return WARD_OK;
    delta_base b = {s->lists, s->meta.n_lists, s->meta.next_list_id,
                    base_count, s};
    return delta_replay(j, jn, &b, &s->d, why, why_len);
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
    /* The journal before the index: a compaction between the two reads
     * then leaves a new index and a journal that follows the old one,
     * which is skipped (the new index has its changes). */
    uint8_t *j = NULL;
    size_t jn = 0;
    ward_err e = jnl_load(dir, &j, &jn, why, why_len);
    if (!e) {
        e = flags & WARD_MATCH_OPEN_COPY
                ? ix_open_copy(path, &s->f, hot, sizeof hot / sizeof hot[0],
                               why, why_len)
                : ix_open(path, &s->f, why, why_len);
        if (e == WARD_ERR_NOT_FOUND)
            e = empty(s);
        else if (!e)
            e = load(s, why, why_len);
    }
    if (!e)
        e = replay(s, j, jn, why, why_len);
    free(j);
    if (e) {
        ward_match_close(s);
        return e;
    }
    *out = s;
    return WARD_OK;
}

ward_err set_open_mem_journal(const void *bytes, size_t n,
                              const void *journal, size_t journal_n,
                              ward_match_set **out, char *why,
                              size_t why_len)
{
    ward_match_set *s = calloc(1, sizeof *s);
    if (!s)
        return WARD_ERR_NOMEM;
    ward_err e = bytes ? ix_open_mem(bytes, n, &s->f, why, why_len) : empty(s);
    if (!e && bytes)
        e = load(s, why, why_len);
    if (!e)
        e = replay(s, journal, journal_n, why, why_len);
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
    return set_open_mem_journal(bytes, n, NULL, 0, out, why, why_len);
}

void ward_match_close(ward_match_set *s)
{
    if (!s)
        return;
    delta_free(s->d);
    ix_close(&s->f);
    free(s->lists);
    free(s);
}

uint32_t set_next_id(const ward_match_set *s)
{
    return s->d ? s->d->next_id : s->meta.next_list_id;
}

uint64_t set_index_id(const ward_match_set *s)
{
    return s->f.map ? s->f.id : 0;
}

int ward_match_should_compact(const ward_match_set *s, uint64_t pending)
{
    uint64_t base = s->meta.n_pdq + s->meta.n_md5 + s->meta.n_sha;
    uint64_t ops = (s->d ? s->d->ops : 0) + pending;
    /* Replaying 65,536 changes and building their tables takes a few tens
     * of milliseconds; past that, and past 1/64 of the index file, a
     * rebuild pays for itself. (A change is at most about 4 KiB, labels
     * and all, so the count bounds the journal's size too.) */
    return ops > 65536 + base / 64;
}

size_t ward_match_list_count(const ward_match_set *s)
{
    return s->d ? s->d->n_lists : s->meta.n_lists;
}

const ward_match_list *ward_match_list_at(const ward_match_set *s, size_t i)
{
    const ward_match_list *v = s->d ? s->d->lists : s->lists;
    return i < ward_match_list_count(s) ? &v[i] : NULL;
}

const ward_match_list *ward_match_list_find(const ward_match_set *s,
                                            const char *name)
{
    const ward_match_list *v = s->d ? s->d->lists : s->lists;
    size_t lo = 0, hi = ward_match_list_count(s);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(v[mid].name, name);
        if (!c)
            return &v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void ward_match_stats_get(const ward_match_set *s, ward_match_stats *out)
{
    memset(out, 0, sizeof *out);
    out->base_entries = s->meta.n_pdq + s->meta.n_md5 + s->meta.n_sha;
    out->entries = out->base_entries;
    if (s->d) {
        out->journal_ops = s->d->ops;
        out->journal_bytes = s->d->bytes;
        out->journal_entries = s->d->n[0] + s->d->n[1] + s->d->n[2];
        out->hidden = s->d->hidden;
        out->entries = out->base_entries - s->d->hidden + out->journal_entries;
    }
}

/* The hit for an index file entry of tag |tag| and hash |hash|: 0, or -1
 * if the tag is damaged or the journal took the entry out. */
static int fill(const ward_match_set *s, uint32_t tag, ward_hl_type type,
                const uint8_t *hash, ward_match_hit *h)
{
    if (tag >= s->meta.n_tags)
        return -1;
    const set_tag *t = &s->tags[tag];
    const ward_match_list *l = &s->lists[t->list];
    if (s->d) {
        uint32_t i = s->d->base_map[t->list];
        if (i == DELTA_NONE || delta_removed(s->d, type, hash, l->id))
            return -1;
        l = &s->d->lists[i];
    }
    h->list_id = l->id;
    h->list_name = l->name;
    h->labels = s->strings + t->labels_off;
    h->labels_len = t->labels_len;
    return 0;
}

/* The hit for an entry the journal added. */
static void fill_delta(const ward_match_set *s, const delta_entry *e,
                       ward_match_hit *h)
{
    const ward_match_list *l = &s->d->lists[e->list];
    h->list_id = l->id;
    h->list_name = l->name;
    h->labels = e->labels;
    h->labels_len = e->labels_len;
}

/* PDQ ids: the index file's entries, then the journal's after them. */
static size_t n_base_pdq(const ward_match_set *s)
{
    return (size_t)s->meta.n_pdq;
}

typedef struct pdq_ctx {
    const ward_match_set *s;
    int variant;
    ward_match_fn fn;
    void *ctx;
    uint32_t first; /* added to the ids of the table being queried */
} pdq_ctx;

static int pdq_hit(void *vc, uint32_t id, int distance)
{
    pdq_ctx *c = vc;
    const ward_match_set *s = c->s;
    ward_match_hit h = {0};
    h.type = WARD_HL_PDQ;
    h.distance = distance;
    h.variant = c->variant;
    size_t nb = n_base_pdq(s);
    id += c->first;
    if (id < nb) {
        ward_pdq_to_bytes(&s->m.hash[id], h.hash);
        if (fill(s, s->pdq_tag[id], WARD_HL_PDQ, h.hash, &h))
            return 0;
    } else {
        const delta_entry *e = &s->d->e[0][id - nb];
        memcpy(h.hash, e->hash, 32);
        fill_delta(s, e, &h);
    }
    return c->fn(c->ctx, &h);
}

/* Both tables: the index file's and the journal's. */
static int query_all(const ward_match_set *s, const ward_pdq *q, int radius,
                     mih_fn fn, void *c, uint32_t *first)
{
    *first = 0;
    if (mih_query(&s->m, q, radius, fn, c))
        return 1;
    if (s->d && s->d->n[0]) {
        *first = (uint32_t)n_base_pdq(s);
        return mih_query(&s->d->m, q, radius, fn, c);
    }
    return 0;
}

ward_err ward_match_pdq(const ward_match_set *s, const ward_pdq *q,
                        int radius, ward_match_fn fn, void *ctx)
{
    if (radius < 0 || radius > WARD_MATCH_MAX_RADIUS || !q || !fn)
        return WARD_ERR_INVALID_ARG;
    pdq_ctx c = {s, 0, fn, ctx, 0};
    query_all(s, q, radius, pdq_hit, &c, &c.first);
    return WARD_OK;
}

static void exact_range(const uint8_t *v, size_t n, size_t hlen,
                        const uint8_t *hash, size_t *lo_out, size_t *hi_out)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(v + mid * hlen, hash, hlen) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *lo_out = lo;
    while (lo < n && memcmp(v + lo * hlen, hash, hlen) == 0)
        lo++;
    *hi_out = lo;
}

/* Exact entries: the run of equal hashes in the index file, then in the
 * journal's. */
static void exact(const ward_match_set *s, const uint8_t *v, const uint32_t *tags,
                  size_t n, size_t hlen, ward_hl_type type, const uint8_t *hash,
                  ward_match_fn fn, void *ctx)
{
    size_t lo, hi;
    exact_range(v, n, hlen, hash, &lo, &hi);
    for (; lo < hi; lo++) {
        ward_match_hit h = {0};
        h.type = type;
        memcpy(h.hash, hash, hlen);
        if (fill(s, tags[lo], type, hash, &h))
            continue;
        if (fn(ctx, &h))
            return;
    }
    if (!s->d)
        return;
    delta_exact(s->d, type, hash, &lo, &hi);
    const delta_entry *e = s->d->e[type == WARD_HL_MD5 ? 1 : 2];
    for (; lo < hi; lo++) {
        ward_match_hit h = {0};
        h.type = type;
        memcpy(h.hash, hash, hlen);
        fill_delta(s, &e[lo], &h);
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
    uint32_t first;
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
    c->v[c->n++] = (dih_hit){id + c->first, distance, c->variant};
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
        query_all(s, &q[v], radius, dih_add, &c, &c.first);
    }
    if (c.failed) {
        free(c.v);
        return WARD_ERR_NOMEM;
    }
    if (c.n)
        qsort(c.v, c.n, sizeof *c.v, cmp_dih);
    pdq_ctx pc = {s, 0, fn, ctx, 0};
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

typedef struct each_ctx {
    const ward_match_set *s;
    long base;     /* the list's index among the index file's, -1: none */
    uint32_t view; /* its index among the set's lists */
    uint32_t id;
    ward_hl_entry_fn fn;
    void *ctx;
} each_ctx;

/* Index file entry |i| of a type, if it is in the list and still there. */
static int base_entry(const each_ctx *c, ward_hl_type type, const uint8_t *v,
                      size_t hlen, const uint32_t *tags, size_t i,
                      ward_hl_entry *e)
{
    const ward_match_set *s = c->s;
    uint32_t t = tags[i];
    if (c->base < 0 || t >= s->meta.n_tags || s->tags[t].list != (uint32_t)c->base)
        return 0;
    memset(e, 0, sizeof *e);
    e->type = type;
    if (type == WARD_HL_PDQ)
        ward_pdq_to_bytes(&s->m.hash[i], e->hash);
    else
        memcpy(e->hash, v + i * hlen, hlen);
    if (delta_removed(s->d, type, e->hash, c->id))
        return 0;
    e->labels = s->strings + s->tags[t].labels_off;
    e->labels_len = s->tags[t].labels_len;
    return 1;
}

/* Journal entry |i| of a type, if it is in the list. */
static int delta_entry_of(const each_ctx *c, int ti, ward_hl_type type,
                          size_t i, ward_hl_entry *e)
{
    const delta_entry *d = &c->s->d->e[ti][i];
    if (d->list != c->view)
        return 0;
    memset(e, 0, sizeof *e);
    e->type = type;
    memcpy(e->hash, d->hash, 32);
    e->labels = d->labels;
    e->labels_len = d->labels_len;
    return 1;
}

/* One type's entries of the list: the index file's and the journal's,
 * merged by hash for MD5 and SHA-256 (both runs are sorted), the
 * journal's after for PDQ (the order they were added). */
static ward_err each(const each_ctx *c, ward_hl_type type, const uint8_t *v,
                     size_t hlen, const uint32_t *tags, size_t n)
{
    const set_delta *d = c->s->d;
    int ti = type == WARD_HL_PDQ ? 0 : type == WARD_HL_MD5 ? 1 : 2;
    size_t nd = d ? d->n[ti] : 0, i = 0, k = 0;
    while (i < n || k < nd) {
        int from_base = k == nd ||
                        (i < n && type != WARD_HL_PDQ &&
                         memcmp(v + i * hlen, d->e[ti][k].hash, hlen) <= 0) ||
                        (i < n && type == WARD_HL_PDQ);
        ward_hl_entry e;
        int have = from_base ? base_entry(c, type, v, hlen, tags, i++, &e)
                             : delta_entry_of(c, ti, type, k++, &e);
        if (have && c->fn(c->ctx, &e))
            return WARD_ERR_USAGE;
    }
    return WARD_OK;
}

ward_err ward_match_list_entries(const ward_match_set *s, uint32_t list_id,
                                 ward_hl_entry_fn fn, void *ctx)
{
    each_ctx c = {s, -1, 0, list_id, fn, ctx};
    size_t nl = ward_match_list_count(s), i;
    for (i = 0; i < nl && ward_match_list_at(s, i)->id != list_id; i++)
        ;
    if (i == nl)
        return WARD_ERR_NOT_FOUND;
    c.view = (uint32_t)i;
    for (size_t b = 0; b < s->meta.n_lists; b++)
        if (s->lists[b].id == list_id)
            c.base = (long)b;
    ward_err e = each(&c, WARD_HL_PDQ, NULL, 32, s->pdq_tag, (size_t)s->meta.n_pdq);
    if (!e)
        e = each(&c, WARD_HL_MD5, s->md5, 16, s->md5_tag, (size_t)s->meta.n_md5);
    if (!e)
        e = each(&c, WARD_HL_SHA256, s->sha, 32, s->sha_tag, (size_t)s->meta.n_sha);
    return e;
}
