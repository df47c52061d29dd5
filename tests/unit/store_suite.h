/*
 * The storage contract (include/ward/store.h) as a backend-independent test
 * suite: every backend (SQLite now, PostgreSQL later) runs the same checks.
 */
#ifndef WARD_STORE_SUITE_H
#define WARD_STORE_SUITE_H

#include "ward/store.h"

/*
 * Runs every test group, each on its own empty store from |open_fresh|
 * (which returns NULL on failure) and closed with ward_store_close
 * afterwards. Returns the number of failed checks (0: all passed). The
 * checks are counted in the suite's own translation unit (wtest.h keeps
 * static counters), so a runner adds store_suite_passed() and the return
 * value to its own totals.
 */
int store_suite_run(ward_store *(*open_fresh)(void *ctx), void *ctx);

/* The number of checks that passed in all store_suite_run calls so far. */
int store_suite_passed(void);

#endif
