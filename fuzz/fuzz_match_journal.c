/*
 * The journal's replay: any bytes as a set's journal over a small fixed
 * index file. Nothing is read outside the bytes; a journal that replays
 * gives a set whose every list's entries agree with its counts, and which
 * answers queries. The fuzzer cannot compute checksums, so for an input
 * whose first byte is odd the target frames the rest as two commits with
 * valid checksums (the second byte says where to split), which lets
 * mutations reach the operations; an even first byte puts the rest after
 * the header as it is (torn tails and damage).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "fuzz_common.h"
#include "set_internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

static uint8_t base[1 << 16];
static size_t base_n;
static uint64_t base_id;

/* The base: two lists (ids 1 and 2), PDQ, MD5 and SHA-256 entries. */
static void make_base(void)
{
    char dir[] = "/tmp/fuzz_journal.XXXXXX";
    if (!mkdtemp(dir))
        abort();
    ward_match_builder *b;
    if (ward_match_builder_new(&b))
        abort();
    ward_match_builder_list(b, "ncmec", "NCMEC", WARD_HL_TE_CSV, 1);
    for (int i = 0; i < 40; i++) {
        ward_hl_entry e = {WARD_HL_PDQ, {0}, i % 3 ? "category=A1" : "", i % 3 ? 11 : 0, 0};
        for (int k = 0; k < 32; k++)
            e.hash[k] = (uint8_t)(i * 37 + k * 11);
        ward_match_builder_add(b, &e);
    }
    ward_hl_entry md5 = {WARD_HL_MD5, {1, 2, 3}, "k=v", 3, 0};
    ward_match_builder_add(b, &md5);
    ward_match_builder_list(b, "other", "", WARD_HL_REFERENCE, 2);
    ward_hl_entry sha = {WARD_HL_SHA256, {9, 9}, "", 0, 0};
    ward_match_builder_add(b, &sha);
    if (ward_match_builder_write(b, dir))
        abort();
    ward_match_builder_free(b);
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, SET_INDEX_FILE);
    FILE *f = fopen(path, "rb");
    if (!f)
        abort();
    base_n = fread(base, 1, sizeof base, f);
    fclose(f);
    unlink(path);
    rmdir(dir);
    ward_match_set *s;
    if (set_open_mem(base, base_n, &s, NULL, 0))
        abort();
    base_id = set_index_id(s);
    ward_match_close(s);
}

static void put_op(jnl_buf *b, int kind, uint32_t list, ward_hl_type type,
                   uint8_t fill, const char *labels)
{
    jnl_op op = {0};
    uint8_t h[32];
    memset(h, fill, sizeof h);
    op.kind = kind;
    op.list = list;
    op.type = type;
    op.hash = h;
    op.labels = labels;
    op.labels_len = strlen(labels);
    if (kind == JOP_LIST) {
        op.name = labels;
        op.name_len = strlen(labels);
        op.source = "src";
        op.source_len = 3;
        op.format = WARD_HL_TE;
        op.created = 5;
    }
    jnl_put(b, &op);
}

/* Seeds: operations of every kind, as the odd (framed) form. */
static void write_seeds(void)
{
    if (!getenv("WARD_FUZZ_WRITE_SEEDS"))
        return;
    jnl_buf b = {0};
    put_op(&b, JOP_LIST, 3, 0, 0, "new-list");
    put_op(&b, JOP_ADD, 3, WARD_HL_PDQ, 0x5a, "category=B");
    put_op(&b, JOP_ADD, 1, WARD_HL_MD5, 0x11, "");
    put_op(&b, JOP_ADD, 2, WARD_HL_SHA256, 0x22, "x=y");
    size_t split = b.n;
    put_op(&b, JOP_REMOVE, 1, WARD_HL_PDQ, 0x00, "");
    put_op(&b, JOP_REMOVE, 3, WARD_HL_PDQ, 0x5a, "");
    put_op(&b, JOP_DROP, 2, 0, 0, "");
    put_op(&b, JOP_ADD, 1, WARD_HL_PDQ, 0x5b, "again");
    uint8_t *seed = malloc(b.n + 2);
    seed[0] = 1;
    seed[1] = (uint8_t)split;
    memcpy(seed + 2, b.p, b.n);
    fuzz_write_seed("ops", seed, b.n + 2);
    free(seed);
    jnl_buf_free(&b);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    make_base();
    write_seeds();
    return 0;
}

static size_t frame(uint8_t *out, const uint8_t *p, size_t n)
{
    uint64_t len = n;
    memcpy(out, &len, 8);
    memcpy(out + 8, p, n);
    uint64_t h = XXH3_64bits(out, 8 + n);
    memcpy(out + 8 + n, &h, 8);
    return 16 + n;
}

typedef struct tally {
    uint64_t count[4];
} tally;

static int count_entry(void *ctx, const ward_hl_entry *e)
{
    FUZZ_ASSERT(e->type >= WARD_HL_PDQ && e->type <= WARD_HL_SHA256);
    FUZZ_ASSERT(strlen(e->labels) == e->labels_len);
    ((tally *)ctx)->count[e->type]++;
    return 0;
}

static int count_hit(void *ctx, const ward_match_hit *h)
{
    FUZZ_ASSERT(h->list_name && h->labels);
    FUZZ_ASSERT(strlen(h->labels) == h->labels_len);
    FUZZ_ASSERT(ward_match_list_find(ctx, h->list_name) != NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (n < 1)
        return 0;
    uint8_t *j = malloc(JNL_HEADER + n + 32);
    if (!j)
        return 0;
    memcpy(j, "WARDLJ01", 8);
    memcpy(j + 8, &base_id, 8);
    uint64_t c = XXH3_64bits(j, 16);
    memcpy(j + 16, &c, 8);
    size_t jn = JNL_HEADER;
    if (data[0] & 1) {
        size_t rest = n - 1, split = 0;
        const uint8_t *p = data + 1;
        if (rest) {
            split = p[0] < rest ? p[0] : rest - 1;
            p++;
            rest--;
            if (split > rest)
                split = rest;
        }
        jn += frame(j + jn, p, split);
        jn += frame(j + jn, p + split, rest - split);
    } else {
        memcpy(j + jn, data + 1, n - 1);
        jn += n - 1;
    }
    ward_match_set *s;
    char why[200];
    if (set_open_mem_journal(base, base_n, j, jn, &s, why, sizeof why) == WARD_OK) {
        uint64_t total = 0;
        for (size_t i = 0; i < ward_match_list_count(s); i++) {
            const ward_match_list *l = ward_match_list_at(s, i);
            FUZZ_ASSERT(ward_match_list_find(s, l->name) == l);
            tally t = {{0}};
            FUZZ_ASSERT(ward_match_list_entries(s, l->id, count_entry, &t) == WARD_OK);
            for (int k = 1; k <= 3; k++)
                FUZZ_ASSERT(t.count[k] == l->count[k]);
            total += t.count[1] + t.count[2] + t.count[3];
        }
        ward_match_stats st;
        ward_match_stats_get(s, &st);
        FUZZ_ASSERT(st.entries == total);
        ward_pdq q[WARD_PDQ_VARIANTS];
        memset(q, 0x5a, sizeof q);
        ward_match_pdq(s, &q[0], 64, count_hit, s);
        ward_match_pdq(s, &q[0], 0, count_hit, s);
        ward_match_pdq_dihedral(s, q, 31, count_hit, s);
        uint8_t h[32];
        memset(h, 0x11, sizeof h);
        ward_match_exact(s, WARD_HL_MD5, h, count_hit, s);
        memset(h, 0x22, sizeof h);
        ward_match_exact(s, WARD_HL_SHA256, h, count_hit, s);
        ward_match_close(s);
    }
    free(j);
    return 0;
}
