/*
 * Seeds the console's end-to-end test: files reports into a server's
 * database (DATA/ward.db) and their evidence (DATA/evidence), as the
 * report flow would (which another test drives through real clients).
 *   seed_report DATA REPORTER SUBJECT
 * REPORTER and SUBJECT are registered usernames. Prints the message
 * report's id, then the account report's.
 *   seed_report --status DATA USER
 * prints USER's stored status (active, suspended, banned), for the test
 * to check what a decision did.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "seed.h"
#include "ward/crypto.h"

int main(int argc, char **argv)
{
    char db[4096], ev[4096], err[256];
    ward_store *st;
    ward_account a, b;
    int64_t id1, id2;
    if (argc == 4 && strcmp(argv[1], "--status") == 0) {
        if (ward_crypto_init())
            return 1;
        snprintf(db, sizeof db, "%s/ward.db", argv[2]);
        if (ward_store_open_sqlite(&st, db, err, sizeof err) ||
            ward_store_account_by_name(st, argv[3], &a)) {
            fprintf(stderr, "seed_report: cannot read %s\n", argv[3]);
            return 1;
        }
        printf("%s\n", a.status == WARD_STATUS_BANNED      ? "banned"
                       : a.status == WARD_STATUS_SUSPENDED ? "suspended"
                                                           : "active");
        ward_store_close(st);
        return 0;
    }
    if (argc != 4) {
        fprintf(stderr, "usage: seed_report DATA REPORTER SUBJECT\n");
        return 2;
    }
    if (ward_crypto_init())
        return 1;
    snprintf(db, sizeof db, "%s/ward.db", argv[1]);
    snprintf(ev, sizeof ev, "%s/evidence", argv[1]);
    if (ward_store_open_sqlite(&st, db, err, sizeof err)) {
        fprintf(stderr, "seed_report: %s\n", err);
        return 1;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    int rc = 1;
    if (ward_store_account_by_name(st, argv[2], &a) ||
        ward_store_account_by_name(st, argv[3], &b))
        fprintf(stderr, "seed_report: no such account\n");
    else if (seed_message_report(st, ev, a.id, b.id, WARD_REASON_GROOMING,
                                 "send me a photo, don't tell your parents",
                                 now, &id1) ||
             seed_account_report(st, b.id, a.id, WARD_REASON_SPAM, now + 1,
                                 &id2))
        fprintf(stderr, "seed_report: %s\n", ward_store_last_error(st));
    else {
        printf("%lld\n%lld\n", (long long)id1, (long long)id2);
        rc = 0;
    }
    ward_store_close(st);
    return rc;
}
