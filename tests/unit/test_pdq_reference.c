/*
 * The reference test data (../shared/data/pdq-reference): every image
 * decoded by the media module and hashed by the pdq module must give the
 * `fullres_hash` and `fullres_quality` of expected_pdq.csv exactly, and the
 * 8 dihedral variants of expected_dihedral.csv's fullres rows exactly.
 *   test_pdq_reference DATA_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ward/media.h"
#include "ward/pdq.h"
#include "wtest.h"

static const char *dir;

static uint8_t *slurp(const char *rel, size_t *n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(len > 0 ? (size_t)len : 1);
    if (p && fread(p, 1, (size_t)len, f) != (size_t)len) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return p;
}

/* Hashes |rel|; 0 on success. */
static int hash_file(const char *rel, ward_pdq v[WARD_PDQ_VARIANTS],
                     int *quality)
{
    size_t n;
    uint8_t *p = slurp(rel, &n);
    if (!p) {
        fprintf(stderr, "cannot read %s/%s\n", dir, rel);
        return -1;
    }
    ward_image img;
    char err[200];
    ward_err e = ward_media_decode(p, n, NULL, &img, err, sizeof err);
    free(p);
    if (e) {
        fprintf(stderr, "%s: %s\n", rel, err);
        return -1;
    }
    e = ward_pdq_hash(img.pixels, img.width, img.height, img.channels, &v[0],
                      quality, v);
    ward_image_free(&img);
    return e ? -1 : 0;
}

/* Splits a CSV line in place (no quoting in these files). */
static int split(char *line, char **f, int max)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = 0;
    for (char *s = line; n < max; n++) {
        f[n] = s;
        char *c = strchr(s, ',');
        if (!c)
            return n + 1;
        *c = 0;
        s = c + 1;
    }
    return n;
}

static FILE *open_csv(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    REQUIRE(f);
    char line[4096];
    REQUIRE(fgets(line, sizeof line, f)); /* the header */
    return f;
}

static void test_expected(void)
{
    FILE *f = open_csv("expected_pdq.csv");
    char line[4096];
    int images = 0, exact = 0;
    while (fgets(line, sizeof line, f)) {
        char *c[8];
        if (split(line, c, 8) < 5)
            continue;
        ward_pdq v[WARD_PDQ_VARIANTS];
        int q = -1;
        images++;
        if (hash_file(c[0], v, &q)) {
            CHECK(!"decoded and hashed");
            continue;
        }
        char hex[WARD_PDQ_HEX_LEN + 1];
        ward_pdq_format(&v[0], hex);
        int ok = strcmp(hex, c[3]) == 0 && q == atoi(c[4]);
        if (!ok) {
            ward_pdq want;
            int d = ward_pdq_parse(c[3], strlen(c[3]), &want) == WARD_OK
                        ? ward_pdq_distance(&want, &v[0])
                        : -1;
            fprintf(stderr, "%s: %s q%d, expected %s q%s (%d bits off)\n",
                    c[0], hex, q, c[3], c[4], d);
        }
        CHECK(ok);
        exact += ok;
    }
    fclose(f);
    printf("expected_pdq.csv: %d of %d images exact\n", exact, images);
    CHECK_EQ_INT(images, 35);
}

static void test_dihedral(void)
{
    FILE *f = open_csv("expected_dihedral.csv");
    char line[8192];
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        char *c[12];
        if (split(line, c, 12) < 11 || strcmp(c[1], "fullres") != 0)
            continue;
        ward_pdq v[WARD_PDQ_VARIANTS];
        int q = -1;
        rows++;
        if (hash_file(c[0], v, &q)) {
            CHECK(!"decoded and hashed");
            continue;
        }
        CHECK_EQ_INT(q, atoi(c[2]));
        for (int k = 0; k < WARD_PDQ_VARIANTS; k++) {
            char hex[WARD_PDQ_HEX_LEN + 1];
            ward_pdq_format(&v[k], hex);
            if (strcmp(hex, c[3 + k]) != 0)
                fprintf(stderr, "%s %s: %s, expected %s\n", c[0],
                        ward_pdq_variant_name(k), hex, c[3 + k]);
            CHECK(strcmp(hex, c[3 + k]) == 0);
        }
    }
    fclose(f);
    CHECK_EQ_INT(rows, 12);
}

int main(int argc, char **argv)
{
    REQUIRE(argc == 2);
    dir = argv[1];
    test_expected();
    test_dihedral();
    printf("test_pdq_reference: %d passed, %d failed\n", wtest_pass,
           wtest_fail);
    return wtest_fail != 0;
}
