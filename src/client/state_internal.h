/* Private to the client library: the state file's SQLite handle, for the
 * parts of the state kept outside state.c (group_state.c). */
#ifndef WARD_CLIENT_STATE_INTERNAL_H
#define WARD_CLIENT_STATE_INTERNAL_H

#include <sqlite3.h>

struct ward_client_state {
    sqlite3 *db;
};

/* Creates the group tables (group_state.c); called when the state is
 * opened. WARD_ERR_STORE on failure. */
#include "ward/err.h"
ward_err ward_client_group_schema(sqlite3 *db);

#endif
