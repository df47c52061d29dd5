/* ward — error codes shared by every module. */
#ifndef WARD_ERR_H
#define WARD_ERR_H

/*
 * One append-only enum: 0 is success, negative values are grouped by module
 * (-1.. general, -100.. crypto, -200.. proto). Never renumber a value: codes
 * are persisted in logs and returned over the wire by later modules.
 */
typedef enum ward_err {
    WARD_OK = 0,

    /* general */
    WARD_ERR_NOMEM = -1,        /* an allocation failed */
    WARD_ERR_INVALID_ARG = -2,  /* API misuse: NULL where forbidden, bad size */
    WARD_ERR_TOO_BIG = -3,      /* a buffer or count would pass its maximum */
    WARD_ERR_IO = -4,           /* a file or socket operation failed */
    WARD_ERR_INTERNAL = -5,     /* a library call failed unexpectedly */
    WARD_ERR_USAGE = -6,        /* command-line usage error */

    /* crypto */
    WARD_ERR_CRYPTO = -100,     /* a primitive refused its input (e.g. a
                                   low-order X25519 point) */
    WARD_ERR_AUTH = -101,       /* any MAC, signature or decryption failure:
                                   one code so nobody learns which check failed */

    /* proto */
    WARD_ERR_MALFORMED = -200,          /* bytes that are not a valid message */
    WARD_ERR_VERSION = -201,            /* a protocol version we do not speak */
    WARD_ERR_DUPLICATE = -202,          /* message key already used: a replay */
    WARD_ERR_TOO_FAR_AHEAD = -203,      /* counter more than 2,000 past the chain */
    WARD_ERR_UNTRUSTED_IDENTITY = -204, /* the peer's identity key changed */
    WARD_ERR_NO_SESSION = -205,         /* no usable session state */
    WARD_ERR_NO_PREKEY = -206,          /* unknown signed or one-time prekey id */
    WARD_ERR_BAD_STATE = -207,          /* stored state bytes are corrupt or of
                                           an unknown format version */

    /* store */
    WARD_ERR_NOT_FOUND = -300,  /* no such account, token, message, blob */
    WARD_ERR_EXISTS = -301,     /* the name or id is already taken */
    WARD_ERR_STORE = -302,      /* the database failed (details logged) */
    WARD_ERR_LIMIT = -303,      /* a per-account limit (queue length,
                                   prekey count) would be passed */
    WARD_ERR_FORBIDDEN = -304,  /* the account is suspended or banned, or
                                   the contact policy refuses */
    WARD_ERR_CONFLICT = -305    /* the state changed under the request (a
                                   group's membership epoch moved on) */
} ward_err;

/* A static, lowercase description of |err|; never NULL. */
const char *ward_strerror(ward_err err);

#endif
