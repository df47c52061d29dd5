/*
 * The Content envelope, the plaintext inside every encrypted message:
 *   Content           { string body = 1; repeated AttachmentPointer
 *                       attachments = 2; bytes franking_key = 3;
 *                       uint64 sent_at = 4; bytes group_id = 5;
 *                       bytes sender_key_distribution = 6; }
 *   AttachmentPointer { string id = 1; bytes key = 2; bytes sha256 = 3;
 *                       uint64 size = 4; string content_type = 5;
 *                       string file_name = 6; }
 */
#include <stdlib.h>
#include <string.h>

#include "pb.h"
#include "proto_internal.h"
#include "ward/buf.h"

void ward_content_init(ward_content *c)
{
    memset(c, 0, sizeof *c);
}

void ward_content_release(ward_content *c)
{
    if (c->body) {
        ward_memzero(c->body, c->body_len);
        free(c->body);
    }
    if (c->attachments) {
        ward_memzero(c->attachments,
                     c->n_attachments * sizeof *c->attachments);
        free(c->attachments);
    }
    ward_memzero(c, sizeof *c);
}

ward_err ward_content_set_body(ward_content *c, const char *text, size_t n)
{
    if (n > WARD_CONTENT_MAX_BODY)
        return WARD_ERR_TOO_BIG;
    if ((!text && n) || !ward_utf8_valid(text, n))
        return WARD_ERR_INVALID_ARG;
    char *body = malloc(n + 1);
    if (!body)
        return WARD_ERR_NOMEM;
    if (n)
        memcpy(body, text, n);
    body[n] = 0;
    if (c->body) {
        ward_memzero(c->body, c->body_len);
        free(c->body);
    }
    c->body = body;
    c->body_len = n;
    return WARD_OK;
}

ward_err ward_content_add_attachment(ward_content *c,
                                     const ward_attachment *a)
{
    if (c->n_attachments == WARD_CONTENT_MAX_ATTACHMENTS)
        return WARD_ERR_TOO_BIG;
    ward_attachment *arr = calloc(c->n_attachments + 1, sizeof *arr);
    if (!arr)
        return WARD_ERR_NOMEM;
    if (c->attachments) {
        memcpy(arr, c->attachments, c->n_attachments * sizeof *arr);
        ward_memzero(c->attachments, c->n_attachments * sizeof *arr);
        free(c->attachments);
    }
    arr[c->n_attachments] = *a;
    c->attachments = arr;
    c->n_attachments++;
    return WARD_OK;
}

static ward_err put_string(ward_buf *b, uint32_t field, const char *s)
{
    size_t n = strnlen(s, WARD_CONTENT_MAX_STRING + 1);
    if (n > WARD_CONTENT_MAX_STRING)
        return WARD_ERR_TOO_BIG;
    return n ? ward_pb_put_bytes(b, field, s, n) : WARD_OK;
}

static ward_err encode_attachment(const ward_attachment *a, ward_buf *b)
{
    ward_err e = put_string(b, 1, a->id);
    if (!e)
        e = ward_pb_put_bytes(b, 2, a->key, sizeof a->key);
    if (!e)
        e = ward_pb_put_bytes(b, 3, a->sha256, sizeof a->sha256);
    if (!e)
        e = ward_pb_put_varint(b, 4, a->size);
    if (!e)
        e = put_string(b, 5, a->content_type);
    if (!e)
        e = put_string(b, 6, a->file_name);
    return e;
}

ward_err ward_content_encode(const ward_content *c, ward_buf *out)
{
    ward_buf att;
    ward_buf_init(&att, 4096);
    size_t start = out->len;
    ward_err e = WARD_OK;
    if (c->body)
        e = ward_pb_put_bytes(out, 1, c->body, c->body_len);
    for (size_t i = 0; !e && i < c->n_attachments; i++) {
        ward_buf_clear(&att);
        e = encode_attachment(&c->attachments[i], &att);
        if (!e)
            e = ward_pb_put_bytes(out, 2, att.data, att.len);
    }
    if (!e && c->has_franking_key)
        e = ward_pb_put_bytes(out, 3, c->franking_key, WARD_FRANKING_KEY_LEN);
    if (!e && c->sent_at)
        e = ward_pb_put_varint(out, 4, c->sent_at);
    if (!e && c->group_id_len)
        e = c->group_id_len > sizeof c->group_id
                ? WARD_ERR_INVALID_ARG
                : ward_pb_put_bytes(out, 5, c->group_id, c->group_id_len);
    if (!e && c->skdm_len)
        e = c->skdm_len > sizeof c->skdm || !c->group_id_len
                ? WARD_ERR_INVALID_ARG
                : ward_pb_put_bytes(out, 6, c->skdm, c->skdm_len);
    ward_buf_release(&att);
    if (e && out->len > start) {
        ward_memzero(out->data + start, out->len - start);
        out->len = start;
    }
    return e;
}

static int get_string(const ward_pb_field *f, char *dst)
{
    if (f->type != PB_LEN || f->len > WARD_CONTENT_MAX_STRING ||
        !ward_utf8_valid(f->data, f->len))
        return -1;
    memcpy(dst, f->data, f->len);
    dst[f->len] = 0;
    return 0;
}

static int get_fixed(const ward_pb_field *f, uint8_t *dst, size_t n)
{
    if (f->type != PB_LEN || f->len != n)
        return -1;
    memcpy(dst, f->data, n);
    return 0;
}

static int decode_attachment(const uint8_t *p, size_t n, ward_attachment *a)
{
    ward_pb_reader r = {p, n};
    ward_pb_field f;
    int rc;
    memset(a, 0, sizeof *a);
    while ((rc = ward_pb_next(&r, &f)) == 1) {
        int bad = 0;
        switch (f.number) {
        case 1: bad = get_string(&f, a->id); break;
        case 2: bad = get_fixed(&f, a->key, sizeof a->key); break;
        case 3: bad = get_fixed(&f, a->sha256, sizeof a->sha256); break;
        case 4:
            bad = f.type != PB_VARINT;
            a->size = f.varint;
            break;
        case 5: bad = get_string(&f, a->content_type); break;
        case 6: bad = get_string(&f, a->file_name); break;
        default: break;
        }
        if (bad)
            return -1;
    }
    return rc;
}

ward_err ward_content_decode(ward_content *out, const uint8_t *p, size_t n)
{
    ward_content c;
    ward_attachment a;
    ward_content_init(&c);
    ward_pb_reader r = {p, n};
    ward_pb_field f;
    int rc = 0;
    ward_err e = WARD_OK;
    while (!e && (rc = ward_pb_next(&r, &f)) == 1) {
        switch (f.number) {
        case 1:
            if (f.type != PB_LEN)
                e = WARD_ERR_MALFORMED;
            else
                e = ward_content_set_body(&c, (const char *)f.data, f.len);
            break;
        case 2:
            if (f.type != PB_LEN || decode_attachment(f.data, f.len, &a) < 0)
                e = WARD_ERR_MALFORMED;
            else
                e = ward_content_add_attachment(&c, &a);
            break;
        case 3:
            if (get_fixed(&f, c.franking_key, WARD_FRANKING_KEY_LEN))
                e = WARD_ERR_MALFORMED;
            c.has_franking_key = 1;
            break;
        case 4:
            if (f.type != PB_VARINT)
                e = WARD_ERR_MALFORMED;
            c.sent_at = f.varint;
            break;
        case 5:
            if (f.type != PB_LEN || f.len == 0 || f.len > sizeof c.group_id)
                e = WARD_ERR_MALFORMED;
            else
                memcpy(c.group_id, f.data, f.len), c.group_id_len = f.len;
            break;
        case 6: {
            /* Checked here, so that whoever gets a decoded Content holds
             * an SKDM that parses. */
            ward_skdm m;
            if (f.type != PB_LEN || f.len == 0 || f.len > sizeof c.skdm ||
                ward_skdm_parse(&m, f.data, f.len) != WARD_OK)
                e = WARD_ERR_MALFORMED;
            else
                memcpy(c.skdm, f.data, f.len), c.skdm_len = f.len;
            ward_memzero(&m, sizeof m);
            break;
        }
        default:
            break;
        }
    }
    ward_memzero(&a, sizeof a);
    if (!e && rc < 0)
        e = WARD_ERR_MALFORMED;
    if (!e && c.skdm_len && !c.group_id_len)
        e = WARD_ERR_MALFORMED; /* a key for no group */
    if (e) {
        ward_content_release(&c);
        /* Every decoding failure is one code, whatever went wrong. */
        return e == WARD_ERR_NOMEM ? e : WARD_ERR_MALFORMED;
    }
    *out = c;
    ward_memzero(&c, sizeof c); /* |out| owns it now; wipe the copy */
    return WARD_OK;
}
