/* Writing hash-list lines, the names of formats and types, and labels. */
#include <string.h>

#include "ward/buf.h"
#include "ward/hashlist.h"

static const char *const format_names[] = {"auto", "reference", "te",
                                           "te-csv"};
static const char *const type_names[] = {"", "pdq", "md5", "sha256"};

const char *ward_hl_format_name(ward_hl_format f)
{
    return f >= WARD_HL_AUTO && f <= WARD_HL_TE_CSV ? format_names[f] : "?";
}

ward_hl_format ward_hl_format_from_name(const char *name)
{
    for (int f = WARD_HL_REFERENCE; f <= WARD_HL_TE_CSV; f++)
        if (strcmp(name, format_names[f]) == 0)
            return (ward_hl_format)f;
    return WARD_HL_AUTO;
}

const char *ward_hl_type_name(ward_hl_type t)
{
    return t >= WARD_HL_PDQ && t <= WARD_HL_SHA256 ? type_names[t] : "?";
}

size_t ward_hl_type_len(ward_hl_type t)
{
    switch (t) {
    case WARD_HL_PDQ:
    case WARD_HL_SHA256:
        return 32;
    case WARD_HL_MD5:
        return 16;
    default:
        return 0;
    }
}

const char *ward_hl_header(ward_hl_format f)
{
    return f == WARD_HL_TE_CSV ? "signal_type,signal_str,collab,category,tags\n"
                               : "";
}

/* A bounded writer: |ok| turns 0 at the first byte that does not fit. */
typedef struct out {
    char *p;
    size_t cap, len;
    int ok;
} out;

static void put(out *o, const char *s, size_t n)
{
    if (!o->ok || n > o->cap - o->len) {
        o->ok = 0;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void put_str(out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_hex(out *o, const uint8_t *b, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        char two[2] = {hx[b[i] >> 4], hx[b[i] & 15]};
        put(o, two, 2);
    }
}

/* A CSV field, quoted when it has a comma, a quote or a line break (as
 * Python's csv module writes them). */
static void put_csv(out *o, const char *s, size_t n)
{
    int quote = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
            quote = 1;
    if (!quote) {
        put(o, s, n);
        return;
    }
    put(o, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            put(o, "\"", 1);
        put(o, s + i, 1);
    }
    put(o, "\"", 1);
}

size_t ward_hl_format_entry(ward_hl_format f, const ward_hl_entry *e,
                            char *buf, size_t cap)
{
    out o = {buf, cap, 0, 1};
    size_t hl = ward_hl_type_len(e->type);
    if (!hl)
        return 0;
    switch (f) {
    case WARD_HL_REFERENCE:
        put_hex(&o, e->hash, hl);
        if (e->labels_len) {
            put(&o, ",", 1);
            put(&o, e->labels, e->labels_len);
        }
        break;
    case WARD_HL_TE:
        put_str(&o, ward_hl_type_name(e->type));
        put(&o, " ", 1);
        put_hex(&o, e->hash, hl);
        break;
    case WARD_HL_TE_CSV: {
        static const char *const keys[] = {"collab", "category", "tags"};
        put_str(&o, ward_hl_type_name(e->type));
        put(&o, ",", 1);
        put_hex(&o, e->hash, hl);
        for (int i = 0; i < 3; i++) {
            char v[WARD_HL_MAX_LABELS + 1];
            long vn = ward_hl_label_get(e->labels, e->labels_len, keys[i], v,
                                        sizeof v);
            put(&o, ",", 1);
            if (vn > 0)
                put_csv(&o, v, (size_t)vn);
        }
        break;
    }
    default:
        return 0;
    }
    put(&o, "\n", 1);
    return o.ok ? o.len : 0;
}


long ward_hl_label_get(const char *labels, size_t n, const char *key,
                       char *v, size_t cap)
{
    size_t kn = strlen(key), i = 0;
    while (i < n) {
        const char *item = labels + i;
        const char *end = memchr(item, ',', n - i);
        size_t in = end ? (size_t)(end - item) : n - i;
        i += in + 1;
        if (in <= kn || item[kn] != '=' || memcmp(item, key, kn) != 0)
            continue;
        size_t o = 0;
        for (size_t j = kn + 1; j < in; j++) {
            char c = item[j];
            /* %XX as add_label writes it; anything else, and %00, is
             * kept as it is. */
            if (c == '%' && j + 2 < in) {
                int hi = ward_hex_digit(item[j + 1]);
                int lo = ward_hex_digit(item[j + 2]);
                if (hi >= 0 && lo >= 0 && (hi | lo)) {
                    c = (char)(hi << 4 | lo);
                    j += 2;
                }
            }
            if (o + 1 >= cap)
                return -1;
            v[o++] = c;
        }
        v[o] = 0;
        return (long)o;
    }
    return -1;
}
