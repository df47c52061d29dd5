/* Seeding reports for the console's tests: a message report with a real
 * Content (text and an image attachment) and its evidence PNG. */
#ifndef WARD_TEST_CONSOLE_SEED_H
#define WARD_TEST_CONSOLE_SEED_H

#include <stddef.h>
#include <stdint.h>

#include "ward/store.h"

/* An 8x6 red PNG, as the evidence image. */
extern const uint8_t seed_png[];
extern const size_t seed_png_len;

/*
 * Files a message report by |reporter| about |subject| (accounts that
 * exist in |st|) with |reason|, at |now|: the Content holds |text| and
 * the PNG as an attachment, whose bytes go to EVIDENCE_DIR/<name> (0600,
 * the directory created 0700). |*id| gets the report's id. 0 on success.
 */
int seed_message_report(ward_store *st, const char *evidence_dir,
                        int64_t reporter, int64_t subject, int reason,
                        const char *text, int64_t now, int64_t *id);

/* An account report (no content), for filters. */
int seed_account_report(ward_store *st, int64_t reporter, int64_t subject,
                        int reason, int64_t now, int64_t *id);

#endif
