/* Public keys: identity, signed prekey, one-time prekeys, bundles. */
#include <string.h>

#include "sqlite_internal.h"

/* The parts below run inside a transaction the caller opened. */
static ward_err identity_tx(ward_store *st, int64_t account,
                            const uint8_t identity[WARD_PUBKEY_LEN],
                            uint32_t registration_id)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_PREKEY_CLEAR_IF_NEW_IDENTITY);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, account);
    sqlite3_bind_blob(s, 2, identity, WARD_PUBKEY_LEN, SQLITE_STATIC);
    ward_err e = ward_sql_exec(st, s, "prekey clear");
    if (e)
        return e;
    s = ward_sql_stmt(st, S_IDENTITY_UPSERT);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, account);
    sqlite3_bind_blob(s, 2, identity, WARD_PUBKEY_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, registration_id);
    e = ward_sql_exec(st, s, "identity");
    /* A foreign-key failure means there is no such account. */
    if (e && sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
        e = WARD_ERR_NOT_FOUND;
    return e;
}

static ward_err signed_tx(ward_store *st, int64_t account, uint32_t id,
                          const uint8_t pub[WARD_PUBKEY_LEN],
                          const uint8_t sig[WARD_SIGNATURE_LEN])
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_SIGNED_UPSERT);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_blob(s, 2, pub, WARD_PUBKEY_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, sig, WARD_SIGNATURE_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, account);
    ward_err e = ward_sql_exec(st, s, "signed prekey");
    /* The identity row must exist first. */
    if (!e && sqlite3_changes(st->db) == 0)
        e = WARD_ERR_NOT_FOUND;
    return e;
}

static ward_err count_prekeys(ward_store *st, int64_t account, size_t *count);

static ward_err prekeys_tx(ward_store *st, int64_t account,
                           const ward_store_prekey *keys, size_t n,
                           size_t max_total)
{
    ward_err e = WARD_OK;
    size_t have = 0;
    for (size_t i = 0; !e && i < n; i++) {
        sqlite3_stmt *s = ward_sql_stmt(st, S_PREKEY_UPSERT);
        if (!s)
            return WARD_ERR_STORE;
        sqlite3_bind_int64(s, 1, account);
        sqlite3_bind_int64(s, 2, keys[i].id);
        sqlite3_bind_blob(s, 3, keys[i].pub, WARD_PUBKEY_LEN, SQLITE_STATIC);
        e = ward_sql_exec(st, s, "prekey insert");
        if (e && sqlite3_extended_errcode(st->db) ==
                     SQLITE_CONSTRAINT_FOREIGNKEY)
            e = WARD_ERR_NOT_FOUND;
    }
    /* Counted after the inserts, so replaced ids are not counted twice. */
    if (!e)
        e = count_prekeys(st, account, &have);
    if (!e && have > max_total)
        e = WARD_ERR_LIMIT;
    return e;
}

static ward_err finish(ward_store *st, ward_err e)
{
    if (e) {
        ward_sql_rollback(st);
        return e;
    }
    return ward_sql_commit(st);
}

ward_err ward_store_set_identity(ward_store *st, int64_t account,
                                 const uint8_t identity[WARD_PUBKEY_LEN],
                                 uint32_t registration_id)
{
    ward_err e = ward_sql_begin(st);
    return e ? e : finish(st, identity_tx(st, account, identity,
                                          registration_id));
}

ward_err ward_store_publish_keys(ward_store *st, int64_t account,
                                 const ward_store_keys *k, size_t max_total)
{
    ward_err e = ward_sql_begin(st);
    if (e)
        return e;
    if (k->identity)
        e = identity_tx(st, account, k->identity, k->registration_id);
    if (!e && k->signed_pub)
        e = signed_tx(st, account, k->signed_id, k->signed_pub, k->signed_sig);
    if (!e && k->n_prekeys)
        e = prekeys_tx(st, account, k->prekeys, k->n_prekeys, max_total);
    return finish(st, e);
}

ward_err ward_store_set_signed_prekey(ward_store *st, int64_t account,
                                      uint32_t id,
                                      const uint8_t pub[WARD_PUBKEY_LEN],
                                      const uint8_t sig[WARD_SIGNATURE_LEN])
{
    ward_err e = ward_sql_begin(st);
    return e ? e : finish(st, signed_tx(st, account, id, pub, sig));
}

static ward_err count_prekeys(ward_store *st, int64_t account, size_t *count)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_PREKEY_COUNT);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, account);
    ward_err e = WARD_OK;
    if (sqlite3_step(s) == SQLITE_ROW)
        *count = (size_t)sqlite3_column_int64(s, 0);
    else
        e = ward_sql_fail(st, "prekey count");
    sqlite3_reset(s);
    return e;
}

ward_err ward_store_prekey_count(ward_store *st, int64_t account,
                                 size_t *count)
{
    return count_prekeys(st, account, count);
}

ward_err ward_store_add_prekeys(ward_store *st, int64_t account,
                                const ward_store_prekey *keys, size_t n,
                                size_t max_total)
{
    ward_err e = ward_sql_begin(st);
    return e ? e : finish(st, prekeys_tx(st, account, keys, n, max_total));
}

static ward_err read_keys(ward_store *st, int64_t account, ward_bundle *b)
{
    sqlite3_stmt *s = ward_sql_stmt(st, S_KEYS_GET);
    if (!s)
        return WARD_ERR_STORE;
    sqlite3_bind_int64(s, 1, account);
    int rc = sqlite3_step(s);
    ward_err e = WARD_ERR_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_type(s, 2) != SQLITE_NULL &&
            ward_sql_blob(s, 0, b->identity, WARD_PUBKEY_LEN) == 0 &&
            ward_sql_blob(s, 3, b->signed_prekey, WARD_PUBKEY_LEN) == 0 &&
            ward_sql_blob(s, 4, b->signed_prekey_sig, WARD_SIGNATURE_LEN) ==
                0) {
            b->registration_id = (uint32_t)sqlite3_column_int64(s, 1);
            b->signed_prekey_id = (uint32_t)sqlite3_column_int64(s, 2);
            e = WARD_OK;
        }
    } else if (rc != SQLITE_DONE) {
        e = ward_sql_fail(st, "keys");
    }
    sqlite3_reset(s);
    return e;
}

ward_err ward_store_take_bundle(ward_store *st, int64_t account,
                                ward_bundle *out, size_t *remaining)
{
    ward_bundle b;
    memset(&b, 0, sizeof b);
    b.device_id = 1;
    size_t left = 0;
    ward_err e = ward_sql_begin(st);
    if (e)
        return e;
    if ((e = read_keys(st, account, &b)))
        goto fail;

    sqlite3_stmt *s = ward_sql_stmt(st, S_PREKEY_FIRST);
    if (!s) {
        e = WARD_ERR_STORE;
        goto fail;
    }
    sqlite3_bind_int64(s, 1, account);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && ward_sql_blob(s, 1, b.prekey, WARD_PUBKEY_LEN) == 0) {
        b.has_prekey = 1;
        b.prekey_id = (uint32_t)sqlite3_column_int64(s, 0);
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        e = ward_sql_fail(st, "prekey take");
    }
    sqlite3_reset(s);
    if (e)
        goto fail;
    if (b.has_prekey) {
        /* Consumed in the same transaction: no two callers get it. */
        s = ward_sql_stmt(st, S_PREKEY_DELETE);
        if (!s) {
            e = WARD_ERR_STORE;
            goto fail;
        }
        sqlite3_bind_int64(s, 1, account);
        sqlite3_bind_int64(s, 2, b.prekey_id);
        if ((e = ward_sql_exec(st, s, "prekey consume")))
            goto fail;
    }
    if ((e = count_prekeys(st, account, &left)))
        goto fail;
    if ((e = ward_sql_commit(st)))
        return e;
    *out = b;
    if (remaining)
        *remaining = left;
    return WARD_OK;
fail:
    ward_sql_rollback(st);
    return e;
}
