/*
 * Reading hash lists: bytes in pieces of any size, cut into lines, each
 * line read in the list's format. A malformed line is reported with its
 * number and the reading goes on, unless the caller asked for strict.
 */
#include <stdlib.h>
#include <string.h>

#include "ward/buf.h"
#include "ward/hashlist.h"

/* te-csv's columns, by name. */
enum { COL_TYPE, COL_STR, COL_COLLAB, COL_CATEGORY, COL_TAGS, NCOLS };
static const char *const col_names[NCOLS] = {
    "signal_type", "signal_str", "collab", "category", "tags"};

struct ward_hl_parser {
    ward_hl_opts o;
    ward_hl_format fmt;
    ward_hl_entry_fn on_entry;
    ward_hl_error_fn on_error;
    void *ctx;
    char line[WARD_HL_MAX_LINE + 1];
    size_t len;
    int too_long;
    uint64_t lineno, entries, errors;
    /* te-csv: the column of each field (-1: absent) once the header is
     * read, and how many columns the header has. */
    int col[NCOLS];
    int ncols, have_header;
    ward_err stop;
    char labels[WARD_HL_MAX_LABELS + 1];
};

static ward_err bad(ward_hl_parser *p, const char *why)
{
    p->errors++;
    if (p->on_error)
        p->on_error(p->ctx, p->lineno, why);
    return p->o.strict ? WARD_ERR_MALFORMED : WARD_OK;
}

/* |n| hex digits into n / 2 bytes: 0, or -1 if one is not hex. */
static int unhex(const char *s, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i += 2) {
        int hi = ward_hex_digit(s[i]), lo = ward_hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *n)
{
    while (*n && is_space(**s))
        (*s)++, (*n)--;
    while (*n && is_space((*s)[*n - 1]))
        (*n)--;
}

/* The hash of one entry: its type from |type| (0: from the length), its
 * digits checked. NULL, or why not. */
static const char *read_hash(const char *s, size_t n, ward_hl_type type,
                             ward_hl_entry *e)
{
    if (n != 32 && n != 64)
        return "a hash is 32 (MD5) or 64 (PDQ, SHA-256) hex digits";
    if (!type)
        type = n == 32 ? WARD_HL_MD5 : WARD_HL_PDQ;
    if (ward_hl_type_len(type) * 2 != n)
        return type == WARD_HL_MD5 ? "an MD5 hash is 32 hex digits"
                                   : "a PDQ or SHA-256 hash is 64 hex digits";
    if (unhex(s, n, e->hash))
        return "a hash has a character that is not a hex digit";
    e->type = type;
    return NULL;
}

static ward_hl_type type_named(const char *s, size_t n)
{
    for (int t = WARD_HL_PDQ; t <= WARD_HL_SHA256; t++) {
        const char *name = ward_hl_type_name((ward_hl_type)t);
        if (strlen(name) == n && memcmp(s, name, n) == 0)
            return (ward_hl_type)t;
    }
    return 0;
}

/* Labels must be printable text: they end up on terminals, in CSV and in
 * JSON. */
static const char *check_labels(const char *s, size_t n)
{
    if (n > WARD_HL_MAX_LABELS)
        return "the labels are longer than 4096 bytes";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return "the labels have a control character";
    if (!ward_utf8_valid(s, n))
        return "the labels are not UTF-8";
    return NULL;
}

static ward_err emit(ward_hl_parser *p, ward_hl_entry *e, const char *labels,
                     size_t labels_len)
{
    const char *why = check_labels(labels, labels_len);
    if (why)
        return bad(p, why);
    memcpy(p->labels, labels, labels_len);
    p->labels[labels_len] = 0;
    e->labels = p->labels;
    e->labels_len = labels_len;
    e->line = p->lineno;
    p->entries++;
    if (p->on_entry && p->on_entry(p->ctx, e))
        return WARD_ERR_USAGE;
    return WARD_OK;
}

/* [hash=]HEX[,metadata] */
static ward_err line_reference(ward_hl_parser *p, const char *s, size_t n)
{
    const char *comma = memchr(s, ',', n);
    size_t hn = comma ? (size_t)(comma - s) : n;
    const char *h = s;
    trim(&h, &hn);
    if (hn >= 5 && memcmp(h, "hash=", 5) == 0)
        h += 5, hn -= 5;
    ward_hl_entry e = {0};
    const char *why = read_hash(h, hn, p->o.type, &e);
    if (why)
        return bad(p, why);
    const char *meta = comma ? comma + 1 : s + n;
    return emit(p, &e, meta, (size_t)(s + n - meta));
}

/* TYPE HEX */
static ward_err line_te(ward_hl_parser *p, const char *s, size_t n)
{
    trim(&s, &n);
    size_t tn = 0;
    while (tn < n && !is_space(s[tn]))
        tn++;
    ward_hl_type type = type_named(s, tn);
    if (!type)
        return bad(p, "a line is TYPE HASH, with TYPE pdq, md5 or sha256");
    const char *h = s + tn;
    size_t hn = n - tn;
    trim(&h, &hn);
    for (size_t i = 0; i < hn; i++)
        if (is_space(h[i]))
            return bad(p, "text after the hash");
    ward_hl_entry e = {0};
    const char *why = read_hash(h, hn, type, &e);
    if (why)
        return bad(p, why);
    return emit(p, &e, "", 0);
}

/* Splits one CSV record (RFC 4180 quoting, no newline inside a field)
 * into at most |max| fields, decoded in place into |buf|: the field
 * count, or -1 with |*why| set. */
static int csv_split(const char *s, size_t n, char *buf, size_t cap,
                     const char **f, size_t *fn, int max, const char **why)
{
    int k = 0;
    size_t i = 0, o = 0;
    for (;;) {
        if (k == max) {
            *why = "too many columns";
            return -1;
        }
        f[k] = buf + o;
        size_t start = o;
        if (i < n && s[i] == '"') {
            i++;
            for (;;) {
                if (i == n) {
                    *why = "a quoted field is not closed";
                    return -1;
                }
                if (s[i] == '"') {
                    if (i + 1 < n && s[i + 1] == '"') {
                        if (o < cap)
                            buf[o++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                if (o < cap)
                    buf[o++] = s[i];
                i++;
            }
            if (i < n && s[i] != ',') {
                *why = "text after a quoted field";
                return -1;
            }
        } else {
            while (i < n && s[i] != ',') {
                if (s[i] == '"') {
                    *why = "a quote inside an unquoted field";
                    return -1;
                }
                if (o < cap)
                    buf[o++] = s[i];
                i++;
            }
        }
        fn[k++] = o - start;
        if (i == n)
            return k;
        i++; /* the comma */
    }
}

static ward_err csv_header(ward_hl_parser *p, const char **f,
                           const size_t *fn, int k)
{
    for (int c = 0; c < NCOLS; c++)
        p->col[c] = -1;
    for (int i = 0; i < k; i++)
        for (int c = 0; c < NCOLS; c++)
            if (strlen(col_names[c]) == fn[i] &&
                memcmp(f[i], col_names[c], fn[i]) == 0)
                p->col[c] = i;
    p->ncols = k;
    p->have_header = 1;
    if (p->col[COL_TYPE] < 0 || p->col[COL_STR] < 0)
        return bad(p, "the header has no signal_type or signal_str column");
    return WARD_OK;
}

/* Appends ",key=value" (no comma first) to a labels text, escaping the
 * value; an empty value adds nothing. 0, or -1 if it does not fit. */
static int add_label(char *out, size_t cap, size_t *len, const char *key,
                     const char *v, size_t vn)
{
    static const char hx[] = "0123456789ABCDEF";
    if (!vn)
        return 0;
    size_t o = *len, kn = strlen(key);
    if (o + 1 + kn + 1 > cap)
        return -1;
    if (o)
        out[o++] = ',';
    memcpy(out + o, key, kn);
    o += kn;
    out[o++] = '=';
    for (size_t i = 0; i < vn; i++) {
        unsigned char c = (unsigned char)v[i];
        int esc = c == '%' || c == ',' || c < 0x20 || c == 0x7f;
        if (o + (esc ? 3 : 1) > cap)
            return -1;
        if (esc) {
            out[o++] = '%';
            out[o++] = hx[c >> 4];
            out[o++] = hx[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    *len = o;
    return 0;
}

static ward_err line_te_csv(ward_hl_parser *p, const char *s, size_t n)
{
    const char *f[16], *why = NULL;
    size_t fn[16];
    char buf[WARD_HL_MAX_LINE];
    int k = csv_split(s, n, buf, sizeof buf, f, fn, 16, &why);
    if (k < 0)
        return bad(p, why);
    if (!p->have_header) {
        /* The header names its columns; a data line's are values. */
        for (int i = 0; i < k; i++)
            for (int c = COL_TYPE; c <= COL_STR; c++)
                if (fn[i] == strlen(col_names[c]) &&
                    memcmp(f[i], col_names[c], fn[i]) == 0)
                    return csv_header(p, f, fn, k);
        /* No header: python-threatexchange's column order. */
        for (int c = 0; c < NCOLS; c++)
            p->col[c] = c;
        p->ncols = NCOLS;
        p->have_header = 1;
        ward_err e = bad(p, "no header line: reading the columns as "
                            "signal_type,signal_str,collab,category,tags");
        if (e)
            return e;
    }
    if (p->col[COL_TYPE] < 0 || p->col[COL_STR] < 0)
        return bad(p, "no signal_type or signal_str column");
    if (k != p->ncols)
        return bad(p, "the line's column count differs from the header's");
    const char *t = f[p->col[COL_TYPE]], *h = f[p->col[COL_STR]];
    size_t tn = fn[p->col[COL_TYPE]], hn = fn[p->col[COL_STR]];
    ward_hl_type type = type_named(t, tn);
    if (!type)
        return bad(p, "the signal type is not pdq, md5 or sha256");
    ward_hl_entry e = {0};
    trim(&h, &hn);
    if ((why = read_hash(h, hn, type, &e)))
        return bad(p, why);
    char labels[WARD_HL_MAX_LABELS];
    size_t ln = 0;
    static const int label_cols[] = {COL_COLLAB, COL_CATEGORY, COL_TAGS};
    for (int i = 0; i < 3; i++) {
        int c = p->col[label_cols[i]];
        if (c >= 0 && add_label(labels, sizeof labels, &ln,
                                col_names[label_cols[i]], f[c], fn[c]))
            return bad(p, "the labels are longer than 4096 bytes");
    }
    return emit(p, &e, labels, ln);
}

/* Finds |needle| in the first |n| bytes of |s|. */
static int has(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(s + i, needle, k) == 0)
            return 1;
    return 0;
}

static ward_hl_format detect(const char *s, size_t n)
{
    if (has(s, n, "signal_type") && has(s, n, "signal_str"))
        return WARD_HL_TE_CSV;
    size_t tn = 0;
    while (tn < n && !is_space(s[tn]) && s[tn] != ',')
        tn++;
    if (tn < n && is_space(s[tn]) && type_named(s, tn))
        return WARD_HL_TE;
    return WARD_HL_REFERENCE;
}

static ward_err one_line(ward_hl_parser *p, const char *s, size_t n)
{
    p->lineno++;
    if (p->lineno == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
        s += 3, n -= 3;
    if (n && s[n - 1] == '\r')
        n--;
    const char *t = s;
    size_t tn = n;
    trim(&t, &tn);
    if (!tn || t[0] == '#')
        return WARD_OK;
    if (memchr(s, 0, n))
        return bad(p, "a NUL byte");
    if (p->fmt == WARD_HL_AUTO)
        p->fmt = detect(t, tn);
    switch (p->fmt) {
    case WARD_HL_TE:
        return line_te(p, s, n);
    case WARD_HL_TE_CSV:
        return line_te_csv(p, s, n);
    default:
        return line_reference(p, s, n);
    }
}

ward_err ward_hl_parser_new(const ward_hl_opts *o, ward_hl_entry_fn on_entry,
                            ward_hl_error_fn on_error, void *ctx,
                            ward_hl_parser **out)
{
    if (!o || !out || o->format < WARD_HL_AUTO || o->format > WARD_HL_TE_CSV ||
        (o->type && !ward_hl_type_len(o->type)))
        return WARD_ERR_INVALID_ARG;
    ward_hl_parser *p = calloc(1, sizeof *p);
    if (!p)
        return WARD_ERR_NOMEM;
    p->o = *o;
    p->fmt = o->format;
    p->on_entry = on_entry;
    p->on_error = on_error;
    p->ctx = ctx;
    *out = p;
    return WARD_OK;
}

ward_err ward_hl_parser_feed(ward_hl_parser *p, const void *bytes, size_t n)
{
    const char *s = bytes;
    while (n && !p->stop) {
        const char *nl = memchr(s, '\n', n);
        size_t take = nl ? (size_t)(nl - s) : n;
        if (!p->too_long) {
            if (p->len + take > WARD_HL_MAX_LINE)
                p->too_long = 1;
            else
                memcpy(p->line + p->len, s, take), p->len += take;
        }
        s += take;
        n -= take;
        if (!nl)
            break;
        s++, n--;
        if (p->too_long) {
            p->lineno++;
            p->stop = bad(p, "the line is longer than 8192 bytes");
        } else {
            p->stop = one_line(p, p->line, p->len);
        }
        p->len = 0;
        p->too_long = 0;
    }
    return p->stop;
}

ward_err ward_hl_parser_finish(ward_hl_parser *p)
{
    if (!p->stop && (p->len || p->too_long))
        ward_hl_parser_feed(p, "\n", 1);
    return p->stop;
}

ward_hl_format ward_hl_parser_format(const ward_hl_parser *p)
{
    return p->fmt;
}

uint64_t ward_hl_parser_entries(const ward_hl_parser *p)
{
    return p->entries;
}

uint64_t ward_hl_parser_errors(const ward_hl_parser *p)
{
    return p->errors;
}

void ward_hl_parser_free(ward_hl_parser *p)
{
    free(p);
}
