/* Private to the crypto module. */
#ifndef WARD_CRYPTO_INTERNAL_H
#define WARD_CRYPTO_INTERNAL_H

#include "ward/err.h"

/* Fetches OpenSSL's AES-256-CBC implementation once, so that each message
 * does not pay for a provider lookup. */
ward_err ward_crypto_aes_init(void);

#endif
