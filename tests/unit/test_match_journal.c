/*
 * Adds and removals between queries, through the set's journal, against a
 * plain model of what the lists should hold: rounds of random changes
 * (new lists, dropped lists, entries added near others or again, hashes
 * removed), each committed, the set reopened, and every answer compared
 * with a scan of the model: PDQ queries at radii 0 to 64, the 8 dihedral
 * variants at once, exact MD5 and SHA-256 lookups, each list's entries
 * and counts. Compaction must change no answer and remove the journal.
 * Then what a crash or a disk can do to the journal: a commit cut short
 * (in its length, its operations, its checksum), zeros after it, damage
 * before the last commit, a damaged header, and a journal left over from
 * before a compaction.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ward/match.h"
#include "wtest.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void random_bytes(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)next();
}

static void flip_bits(uint8_t *h, int k)
{
    uint8_t used[256] = {0};
    while (k > 0) {
        int b = (int)(next() % 256);
        if (used[b])
            continue;
        used[b] = 1;
        h[b / 8] ^= (uint8_t)(1u << (b % 8));
        k--;
    }
}

static int distance(const uint8_t *a, const uint8_t *b)
{
    int d = 0;
    for (int i = 0; i < 32; i++)
        d += __builtin_popcount(a[i] ^ b[i]);
    return d;
}

static size_t hash_len(ward_hl_type t)
{
    return t == WARD_HL_MD5 ? 16 : 32;
}

/* ---- the model ---- */

typedef struct mentry {
    uint32_t list;
    ward_hl_type type;
    uint8_t hash[32];
    char labels[16];
    int live;
} mentry;

typedef struct mlist {
    uint32_t id;
    char name[16];
    int live;
} mlist;

#define MAX_ENTRIES 40000
#define MAX_LISTS 1024

static mentry model[MAX_ENTRIES];
static size_t n_model;
static mlist lists[MAX_LISTS];
static size_t n_lists;
static int list_serial;

static const char *const label_set[] = {"", "category=a", "category=b",
                                        "tag=x%2Cy"};

static mlist *live_list(uint32_t id)
{
    for (size_t i = 0; i < n_lists; i++)
        if (lists[i].live && lists[i].id == id)
            return &lists[i];
    return NULL;
}

static mlist *random_live_list(void)
{
    size_t live = 0;
    for (size_t i = 0; i < n_lists; i++)
        live += lists[i].live;
    if (!live)
        return NULL;
    size_t k = next() % live;
    for (size_t i = 0; i < n_lists; i++)
        if (lists[i].live && k-- == 0)
            return &lists[i];
    return NULL;
}

static ward_hl_type random_type(void)
{
    uint64_t r = next() % 8;
    return r < 6 ? WARD_HL_PDQ : r == 6 ? WARD_HL_MD5 : WARD_HL_SHA256;
}

/* A new entry's hash: near a live PDQ entry, equal to one, or new. */
static void new_hash(ward_hl_type t, uint8_t *h)
{
    memset(h, 0, 32);
    if (n_model && next() % 3) {
        const mentry *e = &model[next() % n_model];
        if (e->type == t) {
            memcpy(h, e->hash, 32);
            if (t == WARD_HL_PDQ && next() % 2)
                flip_bits(h, (int)(next() % 40));
            return;
        }
    }
    random_bytes(h, hash_len(t));
}

static void model_add(ward_match_delta *d, uint32_t list, ward_hl_type t,
                      const uint8_t *h, const char *labels)
{
    REQUIRE(n_model < MAX_ENTRIES);
    mentry *e = &model[n_model++];
    e->list = list;
    e->type = t;
    memset(e->hash, 0, 32);
    memcpy(e->hash, h, hash_len(t));
    snprintf(e->labels, sizeof e->labels, "%s", labels);
    e->live = 1;
    ward_hl_entry x = {0};
    x.type = t;
    memcpy(x.hash, h, hash_len(t));
    x.labels = labels;
    x.labels_len = strlen(labels);
    if (d)
        CHECK_EQ_INT(ward_match_delta_add(d, list, &x), WARD_OK);
}

static void model_remove(ward_match_delta *d, uint32_t list, ward_hl_type t,
                         const uint8_t *h)
{
    for (size_t i = 0; i < n_model; i++)
        if (model[i].live && model[i].list == list && model[i].type == t &&
            memcmp(model[i].hash, h, hash_len(t)) == 0)
            model[i].live = 0;
    CHECK_EQ_INT(ward_match_delta_remove(d, list, t, h), WARD_OK);
}

static void model_drop(ward_match_delta *d, mlist *l)
{
    l->live = 0;
    for (size_t i = 0; i < n_model; i++)
        if (model[i].list == l->id)
            model[i].live = 0;
    CHECK_EQ_INT(ward_match_delta_drop(d, l->id), WARD_OK);
}

static void model_new_list(ward_match_delta *d)
{
    REQUIRE(n_lists < MAX_LISTS);
    mlist *l = &lists[n_lists];
    snprintf(l->name, sizeof l->name, "list%03d", list_serial++);
    CHECK_EQ_INT(ward_match_delta_list(d, l->name, "test", WARD_HL_TE, 7,
                                       &l->id),
                 WARD_OK);
    /* Names are unique among the lists that are there. */
    uint32_t dummy;
    CHECK_EQ_INT(ward_match_delta_list(d, l->name, "", WARD_HL_TE, 7, &dummy),
                 WARD_ERR_EXISTS);
    l->live = 1;
    n_lists++;
}

/* ---- comparing the set with the model ---- */

typedef struct got {
    uint32_t list;
    ward_hl_type type;
    uint8_t hash[32];
    int distance;
    char labels[16];
} got;

typedef struct gots {
    got v[MAX_ENTRIES];
    size_t n;
} gots;

static gots want, have;

static int cmp_got(const void *x, const void *y)
{
    return memcmp(x, y, sizeof(got));
}

static void got_add(gots *g, uint32_t list, ward_hl_type t, const uint8_t *h,
                    int dist, const char *labels, size_t labels_len)
{
    REQUIRE(g->n < MAX_ENTRIES);
    got *x = &g->v[g->n++];
    memset(x, 0, sizeof *x);
    x->list = list;
    x->type = t;
    memcpy(x->hash, h, hash_len(t));
    x->distance = dist;
    if (labels_len >= sizeof x->labels)
        labels_len = sizeof x->labels - 1;
    memcpy(x->labels, labels, labels_len);
}

static int on_hit(void *ctx, const ward_match_hit *h)
{
    gots *g = ctx;
    got_add(g, h->list_id, h->type, h->hash, h->distance, h->labels,
            h->labels_len);
    /* The hit names its list as the set has it. */
    CHECK(h->list_name && strncmp(h->list_name, "list", 4) == 0);
    return 0;
}

static int same(gots *a, gots *b)
{
    if (a->n != b->n)
        return 0;
    qsort(a->v, a->n, sizeof *a->v, cmp_got);
    qsort(b->v, b->n, sizeof *b->v, cmp_got);
    return memcmp(a->v, b->v, a->n * sizeof *a->v) == 0;
}

static void check_pdq(const ward_match_set *s, const uint8_t *q, int radius)
{
    want.n = have.n = 0;
    for (size_t i = 0; i < n_model; i++) {
        const mentry *e = &model[i];
        int d = e->type == WARD_HL_PDQ ? distance(e->hash, q) : 999;
        if (e->live && d <= radius)
            got_add(&want, e->list, e->type, e->hash, d, e->labels, strlen(e->labels));
    }
    ward_pdq pq;
    ward_pdq_from_bytes(q, &pq);
    CHECK_EQ_INT(ward_match_pdq(s, &pq, radius, on_hit, &have), WARD_OK);
    if (!same(&want, &have)) {
        CHECK(0);
        fprintf(stderr, "  radius %d: %zu hits, expected %zu\n", radius,
                have.n, want.n);
    }
}

/* The 8 "variants" are 8 unrelated hashes here: each entry near any of
 * them comes back once, with the smallest distance. */
static void check_dihedral(const ward_match_set *s, const uint8_t q[8][32],
                           int radius)
{
    want.n = have.n = 0;
    for (size_t i = 0; i < n_model; i++) {
        const mentry *e = &model[i];
        if (!e->live || e->type != WARD_HL_PDQ)
            continue;
        int best = 999;
        for (int v = 0; v < 8; v++) {
            int d = distance(e->hash, q[v]);
            if (d < best)
                best = d;
        }
        if (best <= radius)
            got_add(&want, e->list, e->type, e->hash, best, e->labels, strlen(e->labels));
    }
    ward_pdq pq[WARD_PDQ_VARIANTS];
    for (int v = 0; v < 8; v++)
        ward_pdq_from_bytes(q[v], &pq[v]);
    CHECK_EQ_INT(ward_match_pdq_dihedral(s, pq, radius, on_hit, &have), WARD_OK);
    CHECK(same(&want, &have));
}

static void check_exact(const ward_match_set *s, ward_hl_type t, const uint8_t *h)
{
    want.n = have.n = 0;
    for (size_t i = 0; i < n_model; i++) {
        const mentry *e = &model[i];
        if (e->live && e->type == t && memcmp(e->hash, h, hash_len(t)) == 0)
            got_add(&want, e->list, t, e->hash, 0, e->labels, strlen(e->labels));
    }
    CHECK_EQ_INT(ward_match_exact(s, t, h, on_hit, &have), WARD_OK);
    CHECK(same(&want, &have));
}

typedef struct entries_ctx {
    gots *g;
    uint32_t list;
    uint8_t last[32];
    ward_hl_type last_type;
    int sorted;
} entries_ctx;

static int on_entry(void *vc, const ward_hl_entry *e)
{
    entries_ctx *c = vc;
    /* MD5 and SHA-256 entries come in hash order. */
    if (e->type != WARD_HL_PDQ && e->type == c->last_type &&
        memcmp(c->last, e->hash, hash_len(e->type)) > 0)
        c->sorted = 0;
    memcpy(c->last, e->hash, 32);
    c->last_type = e->type;
    got_add(c->g, c->list, e->type, e->hash, 0, e->labels, e->labels_len);
    return 0;
}

static void check_lists(const ward_match_set *s)
{
    size_t live = 0;
    for (size_t i = 0; i < n_lists; i++)
        live += lists[i].live;
    CHECK_EQ_INT(ward_match_list_count(s), live);
    uint64_t total = 0;
    for (size_t i = 0; i < n_lists; i++) {
        const mlist *l = &lists[i];
        const ward_match_list *w = ward_match_list_find(s, l->name);
        if (!l->live) {
            CHECK(w == NULL || w->id != l->id);
            continue;
        }
        REQUIRE(w != NULL);
        CHECK_EQ_INT(w->id, l->id);
        want.n = have.n = 0;
        uint64_t count[4] = {0};
        for (size_t k = 0; k < n_model; k++) {
            const mentry *e = &model[k];
            if (e->live && e->list == l->id) {
                got_add(&want, l->id, e->type, e->hash, 0, e->labels, strlen(e->labels));
                count[e->type]++;
            }
        }
        entries_ctx c = {&have, l->id, {0}, 0, 1};
        CHECK_EQ_INT(ward_match_list_entries(s, l->id, on_entry, &c), WARD_OK);
        CHECK(c.sorted);
        CHECK(same(&want, &have));
        for (int t = 1; t <= 3; t++)
            CHECK_EQ_INT(w->count[t], count[t]);
        total += count[1] + count[2] + count[3];
    }
    for (size_t i = 1; i < ward_match_list_count(s); i++)
        CHECK(strcmp(ward_match_list_at(s, i - 1)->name,
                     ward_match_list_at(s, i)->name) < 0);
    ward_match_stats st;
    ward_match_stats_get(s, &st);
    CHECK_EQ_INT(st.entries, total);
}

static const int radii[] = {0, 1, 15, 31, 32, 63, 64};

static void check_all(const ward_match_set *s, int queries)
{
    check_lists(s);
    for (int i = 0; i < queries; i++) {
        uint8_t q[32];
        new_hash(WARD_HL_PDQ, q);
        check_pdq(s, q, radii[next() % 7]);
        /* Exactly at a distance of an entry, and one past it. */
        const mentry *e = n_model ? &model[next() % n_model] : NULL;
        if (e && e->type == WARD_HL_PDQ) {
            memcpy(q, e->hash, 32);
            int k = (int)(next() % 40);
            flip_bits(q, k);
            check_pdq(s, q, k);
            if (k)
                check_pdq(s, q, k - 1);
        }
    }
    for (int i = 0; i < queries / 4 + 1; i++) {
        uint8_t q[8][32];
        for (int v = 0; v < 8; v++)
            new_hash(WARD_HL_PDQ, q[v]);
        check_dihedral(s, (const uint8_t(*)[32])q, 31);
    }
    for (size_t i = 0; i < n_model; i += 1 + n_model / 64) {
        if (model[i].type != WARD_HL_PDQ)
            check_exact(s, model[i].type, model[i].hash);
    }
    uint8_t h[32];
    random_bytes(h, 32);
    check_exact(s, WARD_HL_MD5, h);
    check_exact(s, WARD_HL_SHA256, h);
}

/* ---- the rounds ---- */

static char dir[] = "/tmp/test_match_journal.XXXXXX";

static ward_match_set *reopen(ward_match_set *s)
{
    char why[256] = "";
    ward_match_close(s);
    ward_match_set *n = NULL;
    /* Both ways of holding the index file, in turn: the journal follows
     * the file whichever way it was opened. */
    static unsigned turn;
    unsigned how = turn++ % 2 ? WARD_MATCH_OPEN_COPY : WARD_MATCH_OPEN_MAP;
    ward_err e = ward_match_open_opts(dir, how, &n, why, sizeof why);
    if (e)
        fprintf(stderr, "open: %s\n", why);
    REQUIRE(e == WARD_OK);
    return n;
}

static void commit(ward_match_delta *d)
{
    char why[256] = "";
    ward_err e = ward_match_delta_commit(d, dir, why, sizeof why);
    if (e)
        fprintf(stderr, "commit: %s\n", why);
    CHECK_EQ_INT(e, WARD_OK);
}

/* One round of |n| random changes. */
static void changes(ward_match_set *s, int n)
{
    ward_match_delta *d;
    REQUIRE(ward_match_delta_new(s, &d) == WARD_OK);
    for (int i = 0; i < n; i++) {
        uint64_t r = next() % 100;
        mlist *l = random_live_list();
        if (!l || r < 2) {
            model_new_list(d);
        } else if (r < 4) {
            model_drop(d, l);
        } else if (r < 80) {
            ward_hl_type t = random_type();
            uint8_t h[32];
            new_hash(t, h);
            model_add(d, l->id, t, h, label_set[next() % 4]);
        } else {
            /* Mostly hashes that are in the list, sometimes none. */
            mentry *e = n_model ? &model[next() % n_model] : NULL;
            uint8_t h[32];
            ward_hl_type t = e ? e->type : WARD_HL_PDQ;
            if (e && next() % 4) {
                memcpy(h, e->hash, 32);
                if (live_list(e->list))
                    l = live_list(e->list);
            } else {
                random_bytes(h, 32);
            }
            model_remove(d, l->id, t, h);
        }
    }
    /* An id that is not a list, and a dropped one, are refused. */
    ward_hl_entry x = {0};
    x.type = WARD_HL_PDQ;
    CHECK_EQ_INT(ward_match_delta_add(d, 999999, &x), WARD_ERR_NOT_FOUND);
    for (size_t i = 0; i < n_lists; i++)
        if (!lists[i].live)
            CHECK_EQ_INT(ward_match_delta_add(d, lists[i].id, &x), WARD_ERR_NOT_FOUND);
    commit(d);
    ward_match_delta_free(d);
}

/* A base index file built the ordinary way, with entries the model knows. */
static void build_base(int entries)
{
    ward_match_builder *b;
    REQUIRE(ward_match_builder_new(&b) == WARD_OK);
    for (int k = 0; k < 3; k++) {
        mlist *l = &lists[n_lists++];
        snprintf(l->name, sizeof l->name, "list%03d", list_serial++);
        l->live = 1;
        REQUIRE(ward_match_builder_list(b, l->name, "base", WARD_HL_REFERENCE, 1) == WARD_OK);
        l->id = (uint32_t)k + 1;
        for (int i = 0; i < entries / 3; i++) {
            ward_hl_type t = random_type();
            uint8_t h[32];
            new_hash(t, h);
            const char *labels = label_set[next() % 4];
            model_add(NULL, l->id, t, h, labels);
            ward_hl_entry x = {0};
            x.type = t;
            memcpy(x.hash, h, 32);
            x.labels = labels;
            x.labels_len = strlen(labels);
            REQUIRE(ward_match_builder_add(b, &x) == WARD_OK);
        }
    }
    REQUIRE(ward_match_builder_write(b, dir) == WARD_OK);
    ward_match_builder_free(b);
}

static int exists(const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

static void reset(void)
{
    char p[512];
    snprintf(p, sizeof p, "%s/index.wlx", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/journal.wlj", dir);
    unlink(p);
    n_model = n_lists = 0;
}

static void test_rounds(int base_entries)
{
    reset();
    if (base_entries)
        build_base(base_entries);
    ward_match_set *s = reopen(NULL);
    check_all(s, 20);
    for (int round = 0; round < 8; round++) {
        changes(s, round == 5 ? 4000 : 40 + (int)(next() % 200));
        s = reopen(s);
        CHECK(exists("journal.wlj"));
        check_all(s, 20);
        if (round == 6) {
            /* Compaction answers the same, from an index file alone. */
            CHECK_EQ_INT(ward_match_compact(s, dir), WARD_OK);
            CHECK(!exists("journal.wlj"));
            s = reopen(s);
            ward_match_stats st;
            ward_match_stats_get(s, &st);
            CHECK_EQ_INT(st.journal_ops, 0);
            CHECK_EQ_INT(st.base_entries, st.entries);
            check_all(s, 20);
        }
    }
    ward_match_close(s);
}

/* ---- what a crash or a disk can do ---- */

static char jpath[512];

static uint8_t *slurp(size_t *n)
{
    FILE *f = fopen(jpath, "rb");
    REQUIRE(f != NULL);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(*n + 1);
    REQUIRE(p && fread(p, 1, *n, f) == *n);
    fclose(f);
    return p;
}

static void spill(const uint8_t *p, size_t n)
{
    FILE *f = fopen(jpath, "wb");
    REQUIRE(f && fwrite(p, 1, n, f) == n);
    fclose(f);
}

static int open_fails(const char *expect)
{
    char why[256] = "";
    ward_match_set *s = NULL;
    ward_err e = ward_match_open(dir, &s, why, sizeof why);
    ward_match_close(s);
    return e == WARD_ERR_BAD_STATE && strstr(why, expect) != NULL;
}

static void test_damage(void)
{
    reset();
    build_base(3000);
    snprintf(jpath, sizeof jpath, "%s/journal.wlj", dir);
    ward_match_set *s = reopen(NULL);
    changes(s, 100);
    s = reopen(s);
    size_t n1;
    uint8_t *one = slurp(&n1);
    /* The model after the first commit. */
    static mentry saved[MAX_ENTRIES];
    static mlist saved_lists[MAX_LISTS];
    size_t saved_n = n_model, saved_nl = n_lists;
    memcpy(saved, model, sizeof model);
    memcpy(saved_lists, lists, sizeof lists);
    changes(s, 100);
    size_t n2;
    uint8_t *two = slurp(&n2);
    REQUIRE(n2 > n1 + 16 && memcmp(one, two, n1) == 0);
    static mentry after[MAX_ENTRIES];
    static mlist after_lists[MAX_LISTS];
    size_t after_n = n_model, after_nl = n_lists;
    memcpy(after, model, sizeof model);
    memcpy(after_lists, lists, sizeof lists);

    /* The second commit cut short anywhere, or zeros after the first: the
     * set as the first left it. */
    memcpy(model, saved, sizeof model);
    memcpy(lists, saved_lists, sizeof lists);
    n_model = saved_n;
    n_lists = saved_nl;
    size_t cuts[] = {n1 + 1, n1 + 7, n1 + 8, n1 + 15, n1 + 16, n1 + (n2 - n1) / 2,
                     n2 - 9, n2 - 8, n2 - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        spill(two, cuts[i]);
        s = reopen(s);
        check_all(s, 3);
    }
    uint8_t *zeros = calloc(1, n2 + n1 + 4096);
    memcpy(zeros, one, n1);
    spill(zeros, n1 + 4096);
    s = reopen(s);
    check_all(s, 3);
    /* The last commit's checksum wrong: torn, not there. */
    memcpy(zeros, two, n2);
    zeros[n2 - 1] ^= 1;
    spill(zeros, n2);
    s = reopen(s);
    check_all(s, 3);

    /* A writer after a torn tail cuts it off and appends. */
    spill(two, n1 + (n2 - n1) / 2);
    s = reopen(s);
    changes(s, 50);
    s = reopen(s);
    check_all(s, 10);

    /* Damage before the last commit: refused, by readers and writers,
     * and nothing is cut off. */
    memcpy(zeros, two, n2);
    zeros[n1 - 3] ^= 0x40; /* inside the first commit */
    spill(zeros, n2);
    CHECK(open_fails("damaged"));
    ward_match_delta *d;
    REQUIRE(ward_match_delta_new(s, &d) == WARD_OK);
    model_new_list(d);
    char why[256] = "";
    CHECK_EQ_INT(ward_match_delta_commit(d, dir, why, sizeof why), WARD_ERR_BAD_STATE);
    ward_match_delta_free(d);
    n_lists--;
    size_t n3;
    uint8_t *three = slurp(&n3);
    CHECK(n3 == n2 && memcmp(three, zeros, n2) == 0);
    free(three);
    /* A damaged header. */
    memcpy(zeros, two, n2);
    zeros[3] ^= 1;
    spill(zeros, n2);
    CHECK(open_fails("header"));
    spill(two, 10);
    CHECK(open_fails("header"));

    /* A journal that follows an older index file (a writer stopped between
     * renaming the compacted index in and removing the journal) is skipped:
     * its changes are in the index already, and must not count twice. */
    memcpy(model, after, sizeof model);
    memcpy(lists, after_lists, sizeof lists);
    n_model = after_n;
    n_lists = after_nl;
    spill(two, n2);
    s = reopen(s);
    check_all(s, 5);
    CHECK_EQ_INT(ward_match_compact(s, dir), WARD_OK);
    spill(two, n2);
    s = reopen(s);
    ward_match_stats st;
    ward_match_stats_get(s, &st);
    CHECK_EQ_INT(st.journal_ops, 0);
    check_all(s, 10);
    /* And the next change starts a fresh journal over it. */
    changes(s, 30);
    s = reopen(s);
    check_all(s, 10);
    ward_match_close(s);
    free(one);
    free(two);
    free(zeros);
}

/* The lock: a writer's temporary files left by a kill are cleared. */
static void test_lock(void)
{
    char p[512];
    snprintf(p, sizeof p, "%s/journal.wlj.new.abc123", dir);
    int fd = open(p, O_CREAT | O_WRONLY, 0600);
    REQUIRE(fd >= 0);
    close(fd);
    int lock;
    char why[256];
    CHECK_EQ_INT(ward_match_lock(dir, &lock, why, sizeof why), WARD_OK);
    CHECK(access(p, F_OK) != 0);
    ward_match_unlock(lock);
    struct stat st;
    snprintf(p, sizeof p, "%s/journal.wlj", dir);
    if (stat(p, &st) == 0)
        CHECK_EQ_INT(st.st_mode & 0777, 0600);
}

int main(void)
{
    REQUIRE(mkdtemp(dir) != NULL);
    test_rounds(0);    /* no index file: everything from the journal */
    test_rounds(6000); /* an index file with tables, then the journal */
    test_rounds(90);   /* a small one (scanned) */
    test_damage();
    test_lock();
    reset();
    char p[512];
    snprintf(p, sizeof p, "%s/.lock", dir);
    unlink(p);
    rmdir(dir);
    printf("test_match_journal: %d passed, %d failed\n", wtest_pass, wtest_fail);
    return wtest_fail ? 1 : 0;
}
