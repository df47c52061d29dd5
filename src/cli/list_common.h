/* Shared by `ward list` and `ward match`: the set directory's lock. */
#ifndef WARD_CLI_LIST_COMMON_H
#define WARD_CLI_LIST_COMMON_H

#include <stddef.h>

typedef struct list_lock {
    int fd;
} list_lock;

/* Creates |dir| (0700) if need be and takes its writers' lock, waiting
 * for another writer to finish. 0, or -1 with |why| set. */
int list_lock_take(const char *dir, list_lock *l, char *why, size_t why_len);
void list_lock_release(list_lock *l);

#endif
