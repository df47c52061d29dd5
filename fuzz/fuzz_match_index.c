/*
 * The index-file loader: any bytes as a set's index file. Nothing is
 * read outside the bytes, whatever the header and sections say; a file
 * that opens answers queries and lists its entries without crashing.
 * The fuzzer cannot compute checksums, so unless the header's reserved
 * word is nonzero the target first rewrites every checksum to match,
 * which lets mutations reach the structural checks behind them.
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

/* A small set (too small for the PDQ tables: a scan) as the seed. */
static void write_seed(void)
{
    char dir[] = "/tmp/fuzz_match.XXXXXX";
    if (!getenv("WARD_FUZZ_WRITE_SEEDS") || !mkdtemp(dir))
        return;
    ward_match_builder *b;
    if (ward_match_builder_new(&b))
        return;
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
    ward_match_builder_write(b, dir);
    ward_match_builder_free(b);
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, SET_INDEX_FILE);
    FILE *f = fopen(path, "rb");
    if (f) {
        static uint8_t buf[1 << 20];
        size_t k = fread(buf, 1, sizeof buf, f);
        fclose(f);
        fuzz_write_seed("small", buf, k);
    }
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    write_seed();
    return 0;
}

/* Rewrites the section and header checksums of |p| to match. */
static void fix_checksums(uint8_t *p, size_t n)
{
    uint32_t count;
    memcpy(&count, p + 12, 4);
    if (count > IX_MAX_SECTIONS)
        return;
    for (uint32_t i = 0; i < count; i++) {
        uint8_t *s = p + 32 + (size_t)i * 32;
        uint64_t off, len;
        memcpy(&off, s + 8, 8);
        memcpy(&len, s + 16, 8);
        if (off <= n && len <= n - off) {
            uint64_t c = XXH3_64bits(p + off, len);
            memcpy(s + 24, &c, 8);
        }
    }
    size_t hdr = 32 + (size_t)count * 32;
    uint64_t c = XXH3_64bits(p, hdr);
    memcpy(p + hdr, &c, 8);
}

static int count_hit(void *ctx, const ward_match_hit *h)
{
    FUZZ_ASSERT(h->list_name && h->labels);
    FUZZ_ASSERT(strlen(h->labels) == h->labels_len);
    (*(size_t *)ctx)++;
    return 0;
}

static int count_entry(void *ctx, const ward_hl_entry *e)
{
    FUZZ_ASSERT(strlen(e->labels) == e->labels_len);
    (*(size_t *)ctx)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        return 0;
    memcpy(p, data, n);
    uint64_t reserved = 0;
    if (n >= IX_HEADER_BYTES) {
        memcpy(&reserved, p + 24, 8);
        if (!reserved)
            fix_checksums(p, n);
    }
    ward_match_set *s;
    char why[200];
    if (set_open_mem(p, n, &s, why, sizeof why) == WARD_OK) {
        size_t hits = 0, entries = 0;
        for (size_t i = 0; i < ward_match_list_count(s); i++) {
            const ward_match_list *l = ward_match_list_at(s, i);
            FUZZ_ASSERT(ward_match_list_find(s, l->name) != NULL);
            ward_match_list_entries(s, l->id, count_entry, &entries);
        }
        ward_pdq q[WARD_PDQ_VARIANTS];
        memset(q, 0xa5, sizeof q);
        ward_match_pdq(s, &q[0], 64, count_hit, &hits);
        ward_match_pdq(s, &q[0], 0, count_hit, &hits);
        ward_match_pdq_dihedral(s, q, 31, count_hit, &hits);
        uint8_t h[32] = {1, 2, 3};
        ward_match_exact(s, WARD_HL_MD5, h, count_hit, &hits);
        ward_match_exact(s, WARD_HL_SHA256, h, count_hit, &hits);
        ward_match_close(s);
    }
    free(p);
    return 0;
}
