/* Private to the hashlist module. */
#ifndef WARD_HASHLIST_INTERNAL_H
#define WARD_HASHLIST_INTERNAL_H

#include "ward/hashlist.h"

/* A hex digit's value (either case), or -1. */
int ward_hl_hexval(char c);

#endif
