/* The Content envelope decoder: decode, and re-encode what it accepts. */
#include <string.h>

#include "fuzz_common.h"
#include "ward/crypto.h"
#include "ward/proto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    FUZZ_ASSERT(ward_crypto_init() == WARD_OK);
    ward_content c;
    ward_attachment a;
    ward_buf out;
    ward_content_init(&c);
    memset(&a, 0, sizeof a);
    strcpy(a.id, "blob-1");
    strcpy(a.content_type, "image/jpeg");
    a.size = 12345;
    FUZZ_ASSERT(!ward_content_set_body(&c, "hi \xc3\xa9", 5) &&
                !ward_content_add_attachment(&c, &a));
    c.has_franking_key = 1;
    c.sent_at = 1700000000000ULL;
    c.group_id_len = 16;
    ward_buf_init(&out, 0);
    FUZZ_ASSERT(!ward_content_encode(&c, &out));
    fuzz_write_seed("content", out.data, out.len);
    /* A group key distribution: an SKDM for group 7, no body. */
    ward_content_release(&c);
    ward_sender_key *sk = NULL;
    ward_buf skdm;
    ward_buf_init(&skdm, 0);
    FUZZ_ASSERT(!ward_sender_key_new(&sk) &&
                !ward_sender_key_create(sk, &skdm));
    memcpy(c.skdm, skdm.data, skdm.len);
    c.skdm_len = skdm.len;
    c.group_id_len = 8;
    c.group_id[7] = 7;
    c.has_franking_key = 1;
    c.sent_at = 1700000000000ULL;
    ward_buf_clear(&out);
    FUZZ_ASSERT(!ward_content_encode(&c, &out));
    fuzz_write_seed("group_key", out.data, out.len);
    ward_sender_key_free(sk);
    ward_buf_release(&skdm);
    ward_buf_release(&out);
    ward_content_release(&c);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    ward_content c, d;
    ward_buf out;
    if (ward_content_decode(&c, p, n) != WARD_OK)
        return 0;
    /* What decodes must encode and decode to the same content. */
    ward_buf_init(&out, 0);
    FUZZ_ASSERT(ward_content_encode(&c, &out) == WARD_OK);
    FUZZ_ASSERT(ward_content_decode(&d, out.data, out.len) == WARD_OK);
    FUZZ_ASSERT(c.body_len == d.body_len && c.n_attachments == d.n_attachments);
    FUZZ_ASSERT(!c.body_len || memcmp(c.body, d.body, c.body_len) == 0);
    FUZZ_ASSERT(c.sent_at == d.sent_at && c.group_id_len == d.group_id_len);
    FUZZ_ASSERT(c.skdm_len == d.skdm_len &&
                memcmp(c.skdm, d.skdm, c.skdm_len) == 0);
    /* An SKDM that decoded parses, and comes with a group. */
    ward_skdm m;
    FUZZ_ASSERT(!c.skdm_len ||
                (c.group_id_len && ward_skdm_parse(&m, c.skdm, c.skdm_len) ==
                                       WARD_OK));
    ward_memzero(&m, sizeof m);
    ward_buf_release(&out);
    ward_content_release(&c);
    ward_content_release(&d);
    return 0;
}
