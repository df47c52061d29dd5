/*
 * `ward list add|remove|rm|compact`: changes that go through the set's
 * journal, so a day's new hashes cost what they are and not a rebuild of
 * every list; compact folds the journal into a new index file (done
 * unasked when the journal has grown big against the index).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "cli.h"
#include "list_cmd.h"

void list_maybe_compact(const ward_match_set *before, uint64_t pending,
                        const char *dir)
{
    char why[512] = "";
    ward_match_set *s;
    /* Decided from the set as it was opened, so that a change that does
     * not compact does not open the set twice. */
    if (!ward_match_should_compact(before, pending) ||
        ward_match_open(dir, &s, why, sizeof why))
        return; /* the change is in; folding it in can wait */
    {
        ward_match_stats st;
        ward_match_stats_get(s, &st);
        ward_err e = ward_match_compact(s, dir);
        if (e)
            cli_error("the journal (%llu changes) could not be folded into a "
                      "new index: %s; the changes are kept",
                      (unsigned long long)st.journal_ops, ward_strerror(e));
        else
            printf("the journal's %llu changes folded into a new index "
                   "(%llu entries)\n",
                   (unsigned long long)st.journal_ops,
                   (unsigned long long)st.entries);
    }
    ward_match_close(s);
}

/* Commits |d| (changes to |s|), folds the journal in if it is big; CLI_OK
 * or CLI_FAIL. */
static int commit(const ward_match_set *s, ward_match_delta *d, const char *dir)
{
    char why[512] = "";
    uint64_t pending = ward_match_delta_count(d);
    ward_err e = ward_match_delta_commit(d, dir, why, sizeof why);
    if (e) {
        cli_error("cannot write the journal in %s: %s; nothing changed", dir,
                  why[0] ? why : ward_strerror(e));
        return CLI_FAIL;
    }
    list_maybe_compact(s, pending, dir);
    return CLI_OK;
}

/* What add, remove and rm share: NAME (and FILE), the set opened under
 * its lock, the list, and a delta to put the changes in. */
typedef struct change {
    list_opts o;
    char *pos[2];
    int lock;
    ward_match_set *s;
    const ward_match_list *l;
    ward_match_delta *d;
} change;

/* CLI_OK, or the exit code with the error printed (then change_end). */
static int change_begin(change *c, int argc, char **argv, int npos_want,
                        const char *usage)
{
    memset(c, 0, sizeof *c);
    c->lock = -1;
    int npos, rc = list_parse(argc, argv, &c->o, c->pos, &npos, npos_want);
    if (rc)
        return rc;
    if (npos != npos_want) {
        cli_error("usage: %s", usage);
        return CLI_USAGE;
    }
    if (list_open_locked(c->o.dir, &c->lock, &c->s))
        return CLI_FAIL;
    if (!(c->l = ward_match_list_find(c->s, c->pos[0]))) {
        cli_error("no list named %s ('ward list import' makes one)", c->pos[0]);
        return CLI_FAIL;
    }
    ward_err e = ward_match_delta_new(c->s, &c->d);
    if (e) {
        cli_error("%s", ward_strerror(e));
        return CLI_FAIL;
    }
    return CLI_OK;
}

static void change_end(change *c)
{
    ward_match_delta_free(c->d);
    ward_match_close(c->s);
    ward_match_unlock(c->lock);
}

/* ---- add ---- */

/* The entries added so far by this command, so that a file with an entry
 * twice adds it once: open addressing over copies. */
typedef struct seen_entry {
    uint64_t key;
    ward_hl_entry e;
    char *labels;
} seen_entry;

typedef struct seen_set {
    seen_entry *v;
    size_t n, cap; /* cap: a power of two, or 0 */
} seen_set;

static uint64_t entry_key(const ward_hl_entry *e)
{
    uint64_t h = XXH3_64bits(e->hash, sizeof e->hash) ^ (uint64_t)e->type;
    return XXH3_64bits_withSeed(e->labels ? e->labels : "", e->labels_len, h);
}

static int entry_same(const ward_hl_entry *a, const ward_hl_entry *b)
{
    return a->type == b->type && memcmp(a->hash, b->hash, sizeof a->hash) == 0 &&
           a->labels_len == b->labels_len &&
           (!a->labels_len || memcmp(a->labels, b->labels, a->labels_len) == 0);
}

/* 1 if |e| was seen before, 0 if not (now it is), -1 out of memory. */
static int seen_add(seen_set *s, const ward_hl_entry *e)
{
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        seen_entry *v = calloc(cap, sizeof *v);
        if (!v)
            return -1;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->v[i].labels)
                continue;
            size_t k = s->v[i].key & (cap - 1);
            while (v[k].labels)
                k = (k + 1) & (cap - 1);
            v[k] = s->v[i];
        }
        free(s->v);
        s->v = v;
        s->cap = cap;
    }
    uint64_t key = entry_key(e);
    size_t k = key & (s->cap - 1);
    for (; s->v[k].labels; k = (k + 1) & (s->cap - 1))
        if (s->v[k].key == key && entry_same(&s->v[k].e, e))
            return 1;
    char *copy = malloc(e->labels_len + 1);
    if (!copy)
        return -1;
    if (e->labels_len)
        memcpy(copy, e->labels, e->labels_len);
    copy[e->labels_len] = 0;
    s->v[k] = (seen_entry){key, *e, copy};
    s->v[k].e.labels = copy;
    s->n++;
    return 0;
}

static void seen_free(seen_set *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->v[i].labels);
    free(s->v);
}

typedef struct add_ctx {
    const ward_match_set *s;
    ward_match_delta *d;
    uint32_t list;
    const ward_hl_entry *e;
    uint64_t added[4], there;
    int found;
    seen_set seen;
    ward_err err;
} add_ctx;

static int same_entry(void *vc, const ward_match_hit *h)
{
    add_ctx *c = vc;
    if (h->list_id == c->list && h->labels_len == c->e->labels_len &&
        memcmp(h->labels, c->e->labels, h->labels_len) == 0) {
        c->found = 1;
        return 1;
    }
    return 0;
}

static int add_entry(void *vc, const ward_hl_entry *e)
{
    add_ctx *c = vc;
    /* An entry already in the list, labels and all, is not added again:
     * the same day's file can be added twice. */
    c->found = 0;
    c->e = e;
    ward_match_exact(c->s, e->type, e->hash, same_entry, c);
    if (!c->found) {
        int k = seen_add(&c->seen, e);
        if (k < 0) {
            c->err = WARD_ERR_NOMEM;
            return 1;
        }
        c->found = k;
    }
    if (c->found) {
        c->there++;
        return 0;
    }
    if ((c->err = ward_match_delta_add(c->d, c->list, e)))
        return 1;
    c->added[e->type]++;
    return 0;
}

int list_add(int argc, char **argv)
{
    change ch;
    add_ctx c = {0};
    int rc = change_begin(&ch, argc, argv, 2,
                          "ward list add NAME FILE [--format F] [--type T] [--strict]");
    if (rc)
        goto out;
    rc = CLI_FAIL;
    c.s = ch.s;
    c.d = ch.d;
    c.list = ch.l->id;
    list_reader r = {ch.pos[1], add_entry, &c, 0, WARD_HL_AUTO};
    int stopped;
    if (list_read(&r, &ch.o, &stopped)) {
        if (stopped)
            cli_error("cannot add the entries: %s", ward_strerror(c.err));
        goto out;
    }
    if ((rc = commit(ch.s, ch.d, ch.o.dir)))
        goto out;
    printf("%s: %llu entries added (%llu PDQ, %llu MD5, %llu SHA-256) from "
           "%s; %llu already there",
           ch.pos[0],
           (unsigned long long)(c.added[1] + c.added[2] + c.added[3]),
           (unsigned long long)c.added[WARD_HL_PDQ],
           (unsigned long long)c.added[WARD_HL_MD5],
           (unsigned long long)c.added[WARD_HL_SHA256], ch.pos[1],
           (unsigned long long)c.there);
    if (r.malformed)
        printf("; %llu malformed lines skipped", (unsigned long long)r.malformed);
    printf("\n");
out:
    seen_free(&c.seen);
    change_end(&ch);
    return rc;
}

/* ---- remove ---- */

typedef struct key {
    uint8_t type;
    uint8_t hash[32];
} key;

typedef struct remove_ctx {
    key *v;
    size_t n, cap;
    int failed;
    uint32_t list;
    uint64_t count;
} remove_ctx;

static int collect_key(void *vc, const ward_hl_entry *e)
{
    remove_ctx *c = vc;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        key *v = realloc(c->v, cap * sizeof *v);
        if (!v) {
            c->failed = 1;
            return 1;
        }
        c->v = v;
        c->cap = cap;
    }
    key *k = &c->v[c->n++];
    memset(k, 0, sizeof *k);
    k->type = (uint8_t)e->type;
    memcpy(k->hash, e->hash, e->type == WARD_HL_MD5 ? 16 : 32);
    return 0;
}

static int cmp_key(const void *x, const void *y)
{
    return memcmp(x, y, sizeof(key));
}

static int count_in_list(void *vc, const ward_match_hit *h)
{
    remove_ctx *c = vc;
    if (h->list_id == c->list)
        c->count++;
    return 0;
}

int list_remove(int argc, char **argv)
{
    change ch;
    remove_ctx c = {0};
    int rc = change_begin(&ch, argc, argv, 2,
                          "ward list remove NAME FILE [--format F] [--type T] [--strict]");
    if (rc)
        goto out;
    rc = CLI_FAIL;
    list_reader r = {ch.pos[1], collect_key, &c, 0, WARD_HL_AUTO};
    int stopped;
    if (list_read(&r, &ch.o, &stopped)) {
        if (stopped)
            cli_error("out of memory");
        goto out;
    }
    /* Each hash once: removing it takes every entry of the list with it. */
    if (c.n)
        qsort(c.v, c.n, sizeof *c.v, cmp_key);
    uint64_t removed = 0, absent = 0;
    c.list = ch.l->id;
    for (size_t i = 0; i < c.n; i++) {
        if (i && cmp_key(&c.v[i - 1], &c.v[i]) == 0)
            continue;
        c.count = 0;
        ward_match_exact(ch.s, c.v[i].type, c.v[i].hash, count_in_list, &c);
        if (!c.count) {
            absent++;
            continue;
        }
        ward_err e = ward_match_delta_remove(ch.d, c.list, c.v[i].type, c.v[i].hash);
        if (e) {
            cli_error("%s", ward_strerror(e));
            goto out;
        }
        removed += c.count;
    }
    if ((rc = commit(ch.s, ch.d, ch.o.dir)))
        goto out;
    printf("%s: %llu entries removed; %llu hashes of %s were not in it",
           ch.pos[0], (unsigned long long)removed, (unsigned long long)absent,
           ch.pos[1]);
    if (r.malformed)
        printf("; %llu malformed lines skipped", (unsigned long long)r.malformed);
    printf("\n");
out:
    free(c.v);
    change_end(&ch);
    return rc;
}

/* ---- rm, compact ---- */

int list_rm(int argc, char **argv)
{
    change ch;
    int rc = change_begin(&ch, argc, argv, 1, "ward list rm NAME");
    if (!rc) {
        ward_err e = ward_match_delta_drop(ch.d, ch.l->id);
        if (e) {
            cli_error("%s", ward_strerror(e));
            rc = CLI_FAIL;
        } else if (!(rc = commit(ch.s, ch.d, ch.o.dir))) {
            printf("%s removed\n", ch.pos[0]);
        }
    }
    change_end(&ch);
    return rc;
}

int list_compact(int argc, char **argv)
{
    list_opts o = {0};
    int npos, rc = list_parse(argc, argv, &o, NULL, &npos, 0);
    if (rc)
        return rc;
    int lock;
    ward_match_set *s;
    if (list_open_locked(o.dir, &lock, &s))
        return CLI_FAIL;
    ward_match_stats st;
    ward_match_stats_get(s, &st);
    ward_err e = ward_match_compact(s, o.dir);
    if (e) {
        cli_error("cannot write the index in %s: %s", o.dir, ward_strerror(e));
        rc = CLI_FAIL;
    } else {
        printf("%llu entries in the new index (%llu changes folded in)\n",
               (unsigned long long)st.entries, (unsigned long long)st.journal_ops);
    }
    ward_match_close(s);
    ward_match_unlock(lock);
    return rc;
}
