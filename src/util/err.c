#include "ward/err.h"

const char *ward_strerror(ward_err err)
{
    switch (err) {
    case WARD_OK: return "success";
    case WARD_ERR_NOMEM: return "out of memory";
    case WARD_ERR_INVALID_ARG: return "invalid argument";
    case WARD_ERR_TOO_BIG: return "input too large";
    case WARD_ERR_IO: return "input/output error";
    case WARD_ERR_INTERNAL: return "internal error";
    case WARD_ERR_USAGE: return "usage error";
    case WARD_ERR_CRYPTO: return "cryptographic input refused";
    case WARD_ERR_AUTH: return "authentication failed";
    case WARD_ERR_MALFORMED: return "malformed message";
    case WARD_ERR_VERSION: return "unsupported protocol version";
    case WARD_ERR_DUPLICATE: return "duplicate message";
    case WARD_ERR_TOO_FAR_AHEAD: return "message too far ahead of its chain";
    case WARD_ERR_UNTRUSTED_IDENTITY: return "identity key changed";
    case WARD_ERR_NO_SESSION: return "no session";
    case WARD_ERR_NO_PREKEY: return "unknown prekey";
    case WARD_ERR_BAD_STATE: return "corrupt or unknown state format";
    case WARD_ERR_NOT_FOUND: return "not found";
    case WARD_ERR_EXISTS: return "already exists";
    case WARD_ERR_STORE: return "storage failure";
    case WARD_ERR_LIMIT: return "limit reached";
    case WARD_ERR_FORBIDDEN: return "forbidden";
    case WARD_ERR_CONFLICT: return "changed meanwhile";
    }
    return "unknown error";
}
