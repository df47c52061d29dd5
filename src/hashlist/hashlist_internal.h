/* Private to the hashlist module. */
#ifndef WARD_HASHLIST_INTERNAL_H
#define WARD_HASHLIST_INTERNAL_H

#include "ward/buf.h"
#include "ward/hashlist.h"

#endif
