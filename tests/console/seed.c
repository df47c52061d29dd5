/* See seed.h. */
#include "seed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ward/crypto.h"
#include "ward/proto.h"

const uint8_t seed_png[] = {
    0x89,0x50,0x4e,0x47,0x0d,0x0a,0x1a,0x0a,0x00,0x00,0x00,0x0d,0x49,0x48,
    0x44,0x52,0x00,0x00,0x00,0x08,0x00,0x00,0x00,0x06,0x08,0x02,0x00,0x00,
    0x00,0x71,0x67,0x48,0xac,0x00,0x00,0x00,0x11,0x49,0x44,0x41,0x54,0x78,
    0x9c,0x63,0x38,0x21,0x27,0x87,0x15,0x31,0x0c,0xa4,0x04,0x00,0x69,0x88,
    0x30,0xc1,0x64,0x85,0xa2,0xe2,0x00,0x00,0x00,0x00,0x49,0x45,0x4e,0x44,
    0xae,0x42,0x60,0x82};
const size_t seed_png_len = sizeof seed_png;

static int people(ward_store *st, ward_report *r, int64_t reporter,
                  int64_t subject)
{
    ward_account a, b;
    if (ward_store_account_by_id(st, reporter, &a) ||
        ward_store_account_by_id(st, subject, &b))
        return -1;
    r->reporter = a.id;
    r->subject = b.id;
    snprintf(r->reporter_name, sizeof r->reporter_name, "%s", a.username);
    snprintf(r->subject_name, sizeof r->subject_name, "%s", b.username);
    r->reporter_band = a.age_band;
    r->subject_band = b.age_band;
    r->priority = a.age_band == WARD_AGE_MINOR || b.age_band == WARD_AGE_MINOR
                      ? WARD_PRIORITY_HIGH
                      : WARD_PRIORITY_NORMAL;
    return 0;
}

static int write_evidence(const char *dir, const char *name)
{
    char path[4096];
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -1;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    int ok = write(fd, seed_png, seed_png_len) == (ssize_t)seed_png_len;
    return close(fd) == 0 && ok ? 0 : -1;
}

int seed_message_report(ward_store *st, const char *evidence_dir,
                        int64_t reporter, int64_t subject, int reason,
                        const char *text, int64_t now, int64_t *id)
{
    static ward_report r; /* large (the note): not on the stack */
    ward_content c;
    ward_attachment att;
    ward_buf bytes;
    uint8_t kf[32];
    int rc = -1;
    memset(&r, 0, sizeof r);
    memset(&att, 0, sizeof att);
    ward_content_init(&c);
    ward_buf_init(&bytes, 0);
    if (people(st, &r, reporter, subject))
        goto done;
    ward_random(kf, sizeof kf);
    snprintf(att.id, sizeof att.id, "0123456789abcdef0123456789abcdef");
    ward_random(att.key, sizeof att.key);
    ward_sha256(att.sha256, seed_png, seed_png_len);
    att.size = seed_png_len;
    snprintf(att.content_type, sizeof att.content_type, "image/png");
    snprintf(att.file_name, sizeof att.file_name, "photo.png");
    c.has_franking_key = 1;
    memcpy(c.franking_key, kf, sizeof kf);
    c.sent_at = (uint64_t)now - 60000;
    if (ward_content_set_body(&c, text, strlen(text)) ||
        ward_content_add_attachment(&c, &att) ||
        ward_content_encode(&c, &bytes))
        goto done;
    r.kind = WARD_REPORT_MESSAGE;
    r.reason = reason;
    r.created_at = now;
    snprintf(r.note, sizeof r.note, "he keeps asking me to send photos");
    r.message_id = 77;
    r.message_time = now - 60000;
    r.content = bytes.data;
    r.content_len = bytes.len;
    ward_hmac_sha256(r.commitment, kf, sizeof kf, bytes.data, bytes.len);
    ward_random(r.tag, sizeof r.tag);
    r.key_id = 1;
    r.attachment = WARD_EVIDENCE_VERIFIED;
    uint8_t rnd[8];
    ward_random(rnd, sizeof rnd);
    snprintf(r.evidence, sizeof r.evidence, "seed-%02x%02x%02x%02x.png", rnd[0],
             rnd[1], rnd[2], rnd[3]);
    if (write_evidence(evidence_dir, r.evidence) ||
        ward_store_report_add(st, &r))
        goto done;
    *id = r.id;
    rc = 0;
done:
    ward_memzero(kf, sizeof kf);
    ward_content_release(&c);
    ward_buf_release(&bytes);
    return rc;
}

int seed_account_report(ward_store *st, int64_t reporter, int64_t subject,
                        int reason, int64_t now, int64_t *id)
{
    static ward_report r;
    memset(&r, 0, sizeof r);
    if (people(st, &r, reporter, subject))
        return -1;
    r.kind = WARD_REPORT_ACCOUNT;
    r.reason = reason;
    r.created_at = now;
    snprintf(r.note, sizeof r.note, "spam links");
    if (ward_store_report_add(st, &r))
        return -1;
    *id = r.id;
    return 0;
}
