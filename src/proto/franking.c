/* Franking: the sender's commitment and the server's tag. */
#include <string.h>

#include "ward/crypto.h"
#include "ward/proto.h"

static const char frank_label[] = "ward-frank-v1";
/* Another label (and length): a group tag never checks as a direct one. */
static const char frank_group_label[] = "ward-frank-group-v1";

void ward_frank_commit(uint8_t out[WARD_FRANK_LEN],
                       const uint8_t kf[WARD_FRANKING_KEY_LEN],
                       const uint8_t *content, size_t n)
{
    ward_hmac_sha256(out, kf, WARD_FRANKING_KEY_LEN, content, n);
}

static void put_be64(uint8_t *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)u;
        u >>= 8;
    }
}

void ward_frank_tag(uint8_t out[WARD_FRANK_LEN], const uint8_t key[32],
                    const uint8_t commitment[WARD_FRANK_LEN], int64_t sender,
                    int64_t recipient, int64_t server_time)
{
    /* Fixed-size fields after a label: the encoding is unambiguous. */
    uint8_t msg[sizeof frank_label - 1 + WARD_FRANK_LEN + 24];
    uint8_t *p = msg;
    memcpy(p, frank_label, sizeof frank_label - 1);
    p += sizeof frank_label - 1;
    memcpy(p, commitment, WARD_FRANK_LEN);
    p += WARD_FRANK_LEN;
    put_be64(p, sender);
    put_be64(p + 8, recipient);
    put_be64(p + 16, server_time);
    ward_hmac_sha256(out, key, 32, msg, sizeof msg);
}

void ward_frank_tag_group(uint8_t out[WARD_FRANK_LEN], const uint8_t key[32],
                          const uint8_t commitment[WARD_FRANK_LEN],
                          int64_t sender, int64_t group, int64_t server_time)
{
    uint8_t msg[sizeof frank_group_label - 1 + WARD_FRANK_LEN + 24];
    uint8_t *p = msg;
    memcpy(p, frank_group_label, sizeof frank_group_label - 1);
    p += sizeof frank_group_label - 1;
    memcpy(p, commitment, WARD_FRANK_LEN);
    p += WARD_FRANK_LEN;
    put_be64(p, sender);
    put_be64(p + 8, group);
    put_be64(p + 16, server_time);
    ward_hmac_sha256(out, key, 32, msg, sizeof msg);
}

int ward_frank_check_commit(const uint8_t c[WARD_FRANK_LEN],
                            const uint8_t kf[WARD_FRANKING_KEY_LEN],
                            const uint8_t *content, size_t n)
{
    uint8_t want[WARD_FRANK_LEN];
    ward_frank_commit(want, kf, content, n);
    int ok = ward_ct_equal(want, c, WARD_FRANK_LEN);
    ward_memzero(want, sizeof want);
    return ok;
}

int ward_frank_check_tag(const uint8_t tag[WARD_FRANK_LEN],
                         const uint8_t key[32],
                         const uint8_t commitment[WARD_FRANK_LEN],
                         int64_t sender, int64_t recipient,
                         int64_t server_time)
{
    uint8_t want[WARD_FRANK_LEN];
    ward_frank_tag(want, key, commitment, sender, recipient, server_time);
    int ok = ward_ct_equal(want, tag, WARD_FRANK_LEN);
    ward_memzero(want, sizeof want);
    return ok;
}

int ward_frank_check_tag_group(const uint8_t tag[WARD_FRANK_LEN],
                               const uint8_t key[32],
                               const uint8_t commitment[WARD_FRANK_LEN],
                               int64_t sender, int64_t group,
                               int64_t server_time)
{
    uint8_t want[WARD_FRANK_LEN];
    ward_frank_tag_group(want, key, commitment, sender, group, server_time);
    int ok = ward_ct_equal(want, tag, WARD_FRANK_LEN);
    ward_memzero(want, sizeof want);
    return ok;
}
