/*
 * sig_harness: libsignal-protocol-c with an OpenSSL crypto provider and
 * in-memory stores, behind the raw-bytes API of sig_harness.h.
 */
#include "sig_harness.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "curve.h"
#include "group_cipher.h"
#include "group_session_builder.h"
#include "key_helper.h"
#include "protocol.h"
#include "ratchet.h"
#include "session_builder.h"
#include "session_cipher.h"
#include "session_pre_key.h"
#include "signal_protocol.h"

/* The header mirrors libsignal's numbers so that it need not include them. */
_Static_assert(SIGH_MSG_SIGNAL == CIPHERTEXT_SIGNAL_TYPE, "type");
_Static_assert(SIGH_MSG_PREKEY == CIPHERTEXT_PREKEY_TYPE, "type");
_Static_assert(SIGH_MSG_SENDERKEY == CIPHERTEXT_SENDERKEY_TYPE, "type");
_Static_assert(SIGH_MSG_SKDM == CIPHERTEXT_SENDERKEY_DISTRIBUTION_TYPE, "type");
_Static_assert(SIGH_ERR_DUPLICATE_MESSAGE == SG_ERR_DUPLICATE_MESSAGE, "err");
_Static_assert(SIGH_ERR_INVALID_MESSAGE == SG_ERR_INVALID_MESSAGE, "err");
_Static_assert(SIGH_ERR_UNTRUSTED_IDENTITY == SG_ERR_UNTRUSTED_IDENTITY, "err");
_Static_assert(SIGH_ERR_INVALID_PROTO_BUF == SG_ERR_INVALID_PROTO_BUF, "err");
_Static_assert(SIGH_ERR_INVALID_KEY_ID == SG_ERR_INVALID_KEY_ID, "err");

static signal_context *g_ctx;
static EVP_MAC *g_hmac;

/* ------------------------------------------------------------------ */
/* Crypto provider on OpenSSL 3 (EVP only, no deprecated APIs).        */

static int cp_random(uint8_t *data, size_t len, void *ud)
{
    (void)ud;
    while (len > 0) {
        int chunk = len > INT_MAX ? INT_MAX : (int)len;
        if (RAND_bytes(data, chunk) != 1)
            return SG_ERR_UNKNOWN;
        data += chunk;
        len -= (size_t)chunk;
    }
    return 0;
}

static int cp_hmac_init(void **hctx, const uint8_t *key, size_t key_len,
                        void *ud)
{
    static const uint8_t empty[1];
    char digest[] = "SHA256";
    OSSL_PARAM params[2];
    EVP_MAC_CTX *ctx;
    (void)ud;

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    ctx = EVP_MAC_CTX_new(g_hmac);
    if (!ctx)
        return SG_ERR_NOMEM;
    /* A NULL key means "keep the old key" to EVP_MAC_init; we have none. */
    if (EVP_MAC_init(ctx, key ? key : empty, key ? key_len : 0, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return SG_ERR_UNKNOWN;
    }
    *hctx = ctx;
    return 0;
}

static int cp_hmac_update(void *hctx, const uint8_t *data, size_t len,
                          void *ud)
{
    (void)ud;
    if (len == 0)
        return 0;
    return EVP_MAC_update(hctx, data, len) == 1 ? 0 : SG_ERR_UNKNOWN;
}

static int cp_hmac_final(void *hctx, signal_buffer **out, void *ud)
{
    uint8_t mac[EVP_MAX_MD_SIZE];
    size_t n = 0;
    (void)ud;
    if (EVP_MAC_final(hctx, mac, &n, sizeof mac) != 1)
        return SG_ERR_UNKNOWN;
    *out = signal_buffer_create(mac, n);
    OPENSSL_cleanse(mac, sizeof mac);
    return *out ? 0 : SG_ERR_NOMEM;
}

static void cp_hmac_cleanup(void *hctx, void *ud)
{
    (void)ud;
    EVP_MAC_CTX_free(hctx);
}

static int cp_sha512_init(void **dctx, void *ud)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    (void)ud;
    if (!ctx)
        return SG_ERR_NOMEM;
    if (EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return SG_ERR_UNKNOWN;
    }
    *dctx = ctx;
    return 0;
}

static int cp_sha512_update(void *dctx, const uint8_t *data, size_t len,
                            void *ud)
{
    (void)ud;
    if (len == 0)
        return 0;
    return EVP_DigestUpdate(dctx, data, len) == 1 ? 0 : SG_ERR_UNKNOWN;
}

static int cp_sha512_final(void *dctx, signal_buffer **out, void *ud)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    (void)ud;
    /* libsignal expects the context to be reusable after final. */
    if (EVP_DigestFinal_ex(dctx, md, &n) != 1 ||
        EVP_DigestInit_ex(dctx, EVP_sha512(), NULL) != 1)
        return SG_ERR_UNKNOWN;
    *out = signal_buffer_create(md, n);
    return *out ? 0 : SG_ERR_NOMEM;
}

static void cp_sha512_cleanup(void *dctx, void *ud)
{
    (void)ud;
    EVP_MD_CTX_free(dctx);
}

static const EVP_CIPHER *pick_cipher(int cipher, size_t key_len)
{
    if (cipher == SG_CIPHER_AES_CBC_PKCS5) {
        switch (key_len) {
        case 16: return EVP_aes_128_cbc();
        case 24: return EVP_aes_192_cbc();
        case 32: return EVP_aes_256_cbc();
        }
    } else if (cipher == SG_CIPHER_AES_CTR_NOPADDING) {
        switch (key_len) {
        case 16: return EVP_aes_128_ctr();
        case 24: return EVP_aes_192_ctr();
        case 32: return EVP_aes_256_ctr();
        }
    }
    return NULL;
}

/* One-shot AES; CBC uses PKCS#7 padding (OpenSSL's default), CTR none. */
static int aes_crypt(signal_buffer **output, int cipher, const uint8_t *key,
                     size_t key_len, const uint8_t *iv, size_t iv_len,
                     const uint8_t *in, size_t in_len, int enc)
{
    const EVP_CIPHER *c = pick_cipher(cipher, key_len);
    EVP_CIPHER_CTX *ctx = NULL;
    uint8_t *buf = NULL;
    size_t cap = in_len + 16; /* room for one block of padding */
    int n1 = 0, n2 = 0, rc = SG_ERR_UNKNOWN;

    if (!c || iv_len != 16 || in_len > (size_t)INT_MAX - 32)
        return SG_ERR_INVAL;
    ctx = EVP_CIPHER_CTX_new();
    buf = malloc(cap);
    if (!ctx || !buf) {
        rc = SG_ERR_NOMEM;
        goto out;
    }
    if (EVP_CipherInit_ex(ctx, c, NULL, key, iv, enc) != 1)
        goto out;
    if (in_len > 0 && EVP_CipherUpdate(ctx, buf, &n1, in, (int)in_len) != 1)
        goto out;
    if (EVP_CipherFinal_ex(ctx, buf + n1, &n2) != 1)
        goto out; /* e.g. bad padding on decrypt */
    *output = signal_buffer_create(buf, (size_t)n1 + (size_t)n2);
    rc = *output ? 0 : SG_ERR_NOMEM;
out:
    if (buf) {
        OPENSSL_cleanse(buf, cap);
        free(buf);
    }
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

static int cp_encrypt(signal_buffer **output, int cipher, const uint8_t *key,
                      size_t key_len, const uint8_t *iv, size_t iv_len,
                      const uint8_t *pt, size_t pt_len, void *ud)
{
    (void)ud;
    return aes_crypt(output, cipher, key, key_len, iv, iv_len, pt, pt_len, 1);
}

static int cp_decrypt(signal_buffer **output, int cipher, const uint8_t *key,
                      size_t key_len, const uint8_t *iv, size_t iv_len,
                      const uint8_t *ct, size_t ct_len, void *ud)
{
    (void)ud;
    return aes_crypt(output, cipher, key, key_len, iv, iv_len, ct, ct_len, 0);
}

static void log_fn(int level, const char *msg, size_t len, void *ud)
{
    (void)ud;
    /* libsignal logs expected failures (bad MAC, ...) as errors, so quiet
     * by default; SIGH_LOG=1 shows them. */
    if (getenv("SIGH_LOG"))
        fprintf(stderr, "libsignal[%d]: %.*s\n", level, (int)len, msg);
}

int sigh_global_init(void)
{
    signal_crypto_provider cp = {
        .random_func = cp_random,
        .hmac_sha256_init_func = cp_hmac_init,
        .hmac_sha256_update_func = cp_hmac_update,
        .hmac_sha256_final_func = cp_hmac_final,
        .hmac_sha256_cleanup_func = cp_hmac_cleanup,
        .sha512_digest_init_func = cp_sha512_init,
        .sha512_digest_update_func = cp_sha512_update,
        .sha512_digest_final_func = cp_sha512_final,
        .sha512_digest_cleanup_func = cp_sha512_cleanup,
        .encrypt_func = cp_encrypt,
        .decrypt_func = cp_decrypt,
        .user_data = NULL,
    };
    int rc;

    if (g_ctx)
        return 0;
    g_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!g_hmac)
        return SG_ERR_UNKNOWN;
    rc = signal_context_create(&g_ctx, NULL);
    if (rc == 0)
        rc = signal_context_set_crypto_provider(g_ctx, &cp);
    if (rc == 0)
        rc = signal_context_set_log_function(g_ctx, log_fn);
    if (rc != 0)
        sigh_global_teardown();
    return rc;
}

void sigh_global_teardown(void)
{
    if (g_ctx)
        signal_context_destroy(g_ctx);
    g_ctx = NULL;
    EVP_MAC_free(g_hmac);
    g_hmac = NULL;
}

const char *sigh_strerror(int code)
{
    switch (code) {
    case SG_SUCCESS: return "success";
    case SG_ERR_NOMEM: return "SG_ERR_NOMEM";
    case SG_ERR_INVAL: return "SG_ERR_INVAL";
    case SG_ERR_UNKNOWN: return "SG_ERR_UNKNOWN";
    case SG_ERR_DUPLICATE_MESSAGE: return "SG_ERR_DUPLICATE_MESSAGE";
    case SG_ERR_INVALID_KEY: return "SG_ERR_INVALID_KEY";
    case SG_ERR_INVALID_KEY_ID: return "SG_ERR_INVALID_KEY_ID";
    case SG_ERR_INVALID_MAC: return "SG_ERR_INVALID_MAC";
    case SG_ERR_INVALID_MESSAGE: return "SG_ERR_INVALID_MESSAGE";
    case SG_ERR_INVALID_VERSION: return "SG_ERR_INVALID_VERSION";
    case SG_ERR_LEGACY_MESSAGE: return "SG_ERR_LEGACY_MESSAGE";
    case SG_ERR_NO_SESSION: return "SG_ERR_NO_SESSION";
    case SG_ERR_STALE_KEY_EXCHANGE: return "SG_ERR_STALE_KEY_EXCHANGE";
    case SG_ERR_UNTRUSTED_IDENTITY: return "SG_ERR_UNTRUSTED_IDENTITY";
    case SG_ERR_VRF_SIG_VERIF_FAILED: return "SG_ERR_VRF_SIG_VERIF_FAILED";
    case SG_ERR_INVALID_PROTO_BUF: return "SG_ERR_INVALID_PROTO_BUF";
    default: return "unknown error";
    }
}

/* ------------------------------------------------------------------ */
/* A tiny key/value list used by every store.                          */

typedef struct kv {
    struct kv *next;
    uint8_t *key, *val, *uval; /* uval: optional "user record" */
    size_t klen, vlen, ulen;
} kv;

/* Keys are built in fixed buffers; longer names are refused. */
#define KEYMAX 1024

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

static void kv_node_free(kv *e)
{
    /* Values hold private keys and session state. */
    OPENSSL_cleanse(e->val, e->vlen);
    if (e->uval)
        OPENSSL_cleanse(e->uval, e->ulen);
    free(e->key);
    free(e->val);
    free(e->uval);
    free(e);
}

static kv *kv_find(kv *head, const uint8_t *k, size_t kl)
{
    for (; head; head = head->next)
        if (head->klen == kl && memcmp(head->key, k, kl) == 0)
            return head;
    return NULL;
}

static int kv_del(kv **head, const uint8_t *k, size_t kl)
{
    for (kv **pp = head; *pp; pp = &(*pp)->next) {
        kv *e = *pp;
        if (e->klen == kl && memcmp(e->key, k, kl) == 0) {
            *pp = e->next;
            kv_node_free(e);
            return 1;
        }
    }
    return 0;
}

static int kv_put(kv **head, const uint8_t *k, size_t kl, const uint8_t *v,
                  size_t vl, const uint8_t *u, size_t ul)
{
    kv *e = calloc(1, sizeof *e);
    if (!e)
        return SG_ERR_NOMEM;
    e->key = dup_bytes(k, kl);
    e->val = dup_bytes(v, vl);
    e->uval = u ? dup_bytes(u, ul) : NULL;
    e->klen = kl;
    e->vlen = vl;
    e->ulen = ul;
    if (!e->key || !e->val || (u && !e->uval)) {
        kv_node_free(e);
        return SG_ERR_NOMEM;
    }
    kv_del(head, k, kl);
    e->next = *head;
    *head = e;
    return 0;
}

static void kv_free_all(kv **head)
{
    while (*head) {
        kv *e = *head;
        *head = e->next;
        kv_node_free(e);
    }
}

/* Address key: device id (4 bytes, host order) || name. 0 if too long. */
static size_t addr_key(uint8_t *buf, const char *name, size_t name_len,
                       int32_t dev)
{
    if (name_len > KEYMAX - 4)
        return 0;
    memcpy(buf, &dev, 4);
    if (name_len)
        memcpy(buf + 4, name, name_len);
    return 4 + name_len;
}

/* Sender key name: device || group length (4) || group || sender name. */
static size_t skn_key(uint8_t *buf, const signal_protocol_sender_key_name *s)
{
    uint32_t gl = (uint32_t)s->group_id_len;
    if (s->group_id_len > KEYMAX / 2 || s->sender.name_len > KEYMAX / 2 - 8)
        return 0;
    memcpy(buf, &s->sender.device_id, 4);
    memcpy(buf + 4, &gl, 4);
    if (gl)
        memcpy(buf + 8, s->group_id, gl);
    if (s->sender.name_len)
        memcpy(buf + 8 + gl, s->sender.name, s->sender.name_len);
    return 8 + gl + s->sender.name_len;
}

static size_t id_key(uint8_t *buf, uint32_t id)
{
    memcpy(buf, &id, 4);
    return 4;
}

/* ------------------------------------------------------------------ */
/* The party and its store callbacks (user_data is the party).         */

struct sigh_party {
    signal_protocol_store_context *store;
    ratchet_identity_key_pair *identity;
    uint32_t registration_id;
    int32_t device_id;
    uint32_t signed_prekey_id; /* the one bundles advertise */
    uint32_t next_prekey_id;   /* next one-time prekey sigh_party_bundle uses */
    kv *sessions, *prekeys, *signed_prekeys, *identities, *sender_keys;
    kv *peers; /* peer name -> device id */
};

static int ss_load(signal_buffer **rec, signal_buffer **urec,
                   const signal_protocol_address *a, void *ud)
{
    sigh_party *p = ud;
    uint8_t k[KEYMAX];
    size_t kl = addr_key(k, a->name, a->name_len, a->device_id);
    kv *e = kl ? kv_find(p->sessions, k, kl) : NULL;
    if (!e)
        return 0;
    *rec = signal_buffer_create(e->val, e->vlen);
    if (!*rec)
        return SG_ERR_NOMEM;
    if (e->uval) {
        *urec = signal_buffer_create(e->uval, e->ulen);
        if (!*urec) {
            signal_buffer_free(*rec);
            *rec = NULL;
            return SG_ERR_NOMEM;
        }
    }
    return 1;
}

static int ss_sub_devices(signal_int_list **out, const char *name,
                          size_t name_len, void *ud)
{
    sigh_party *p = ud;
    signal_int_list *l = signal_int_list_alloc();
    int n = 0;
    if (!l)
        return SG_ERR_NOMEM;
    for (kv *e = p->sessions; e; e = e->next) {
        if (e->klen == 4 + name_len &&
            memcmp(e->key + 4, name, name_len) == 0) {
            int32_t dev;
            memcpy(&dev, e->key, 4);
            if (signal_int_list_push_back(l, dev) < 0) {
                signal_int_list_free(l);
                return SG_ERR_NOMEM;
            }
            n++;
        }
    }
    *out = l;
    return n;
}

static int ss_store(const signal_protocol_address *a, uint8_t *rec,
                    size_t len, uint8_t *urec, size_t ulen, void *ud)
{
    sigh_party *p = ud;
    uint8_t k[KEYMAX];
    size_t kl = addr_key(k, a->name, a->name_len, a->device_id);
    if (!kl)
        return SG_ERR_INVAL;
    return kv_put(&p->sessions, k, kl, rec, len, urec, ulen);
}

static int ss_contains(const signal_protocol_address *a, void *ud)
{
    sigh_party *p = ud;
    uint8_t k[KEYMAX];
    size_t kl = addr_key(k, a->name, a->name_len, a->device_id);
    return kl && kv_find(p->sessions, k, kl) ? 1 : 0;
}

static int ss_delete(const signal_protocol_address *a, void *ud)
{
    sigh_party *p = ud;
    uint8_t k[KEYMAX];
    size_t kl = addr_key(k, a->name, a->name_len, a->device_id);
    return kl ? kv_del(&p->sessions, k, kl) : 0;
}

static int ss_delete_all(const char *name, size_t name_len, void *ud)
{
    sigh_party *p = ud;
    int n = 0;
    for (kv **pp = &p->sessions; *pp;) {
        kv *e = *pp;
        if (e->klen == 4 + name_len &&
            memcmp(e->key + 4, name, name_len) == 0) {
            *pp = e->next;
            kv_node_free(e);
            n++;
        } else {
            pp = &e->next;
        }
    }
    return n;
}

/* Pre-key and signed pre-key stores share these, differing only in list. */
static int pk_load_from(kv *list, signal_buffer **rec, uint32_t id)
{
    uint8_t k[4];
    kv *e = kv_find(list, k, id_key(k, id));
    if (!e)
        return SG_ERR_INVALID_KEY_ID;
    *rec = signal_buffer_create(e->val, e->vlen);
    return *rec ? SG_SUCCESS : SG_ERR_NOMEM;
}

static int pk_load(signal_buffer **rec, uint32_t id, void *ud)
{
    return pk_load_from(((sigh_party *)ud)->prekeys, rec, id);
}

static int pk_store(uint32_t id, uint8_t *rec, size_t len, void *ud)
{
    uint8_t k[4];
    return kv_put(&((sigh_party *)ud)->prekeys, k, id_key(k, id), rec, len,
                  NULL, 0);
}

static int pk_contains(uint32_t id, void *ud)
{
    uint8_t k[4];
    return kv_find(((sigh_party *)ud)->prekeys, k, id_key(k, id)) ? 1 : 0;
}

static int pk_remove(uint32_t id, void *ud)
{
    uint8_t k[4];
    kv_del(&((sigh_party *)ud)->prekeys, k, id_key(k, id));
    return 0;
}

static int spk_load(signal_buffer **rec, uint32_t id, void *ud)
{
    return pk_load_from(((sigh_party *)ud)->signed_prekeys, rec, id);
}

static int spk_store(uint32_t id, uint8_t *rec, size_t len, void *ud)
{
    uint8_t k[4];
    return kv_put(&((sigh_party *)ud)->signed_prekeys, k, id_key(k, id), rec,
                  len, NULL, 0);
}

static int spk_contains(uint32_t id, void *ud)
{
    uint8_t k[4];
    return kv_find(((sigh_party *)ud)->signed_prekeys, k, id_key(k, id)) ? 1
                                                                          : 0;
}

static int spk_remove(uint32_t id, void *ud)
{
    uint8_t k[4];
    kv_del(&((sigh_party *)ud)->signed_prekeys, k, id_key(k, id));
    return 0;
}

static int ik_get_pair(signal_buffer **pub, signal_buffer **priv, void *ud)
{
    sigh_party *p = ud;
    int rc = ec_public_key_serialize(
        pub, ratchet_identity_key_pair_get_public(p->identity));
    if (rc < 0)
        return rc;
    rc = ec_private_key_serialize(
        priv, ratchet_identity_key_pair_get_private(p->identity));
    if (rc < 0) {
        signal_buffer_free(*pub);
        *pub = NULL;
    }
    return rc;
}

static int ik_get_reg_id(void *ud, uint32_t *reg)
{
    *reg = ((sigh_party *)ud)->registration_id;
    return 0;
}

static int ik_save(const signal_protocol_address *a, uint8_t *key,
                   size_t len, void *ud)
{
    sigh_party *p = ud;
    uint8_t k[KEYMAX];
    size_t kl = addr_key(k, a->name, a->name_len, a->device_id);
    if (!kl)
        return SG_ERR_INVAL;
    if (!key) {
        kv_del(&p->identities, k, kl);
        return 0;
    }
    return kv_put(&p->identities, k, kl, key, len, NULL, 0);
}

/* Trust on first use; afterwards only the same key is trusted. */
static int ik_is_trusted(const signal_protocol_address *a, uint8_t *key,
                         size_t len, void *ud)
{
    sigh_party *p = ud;
    uint8_t k[KEYMAX];
    size_t kl = addr_key(k, a->name, a->name_len, a->device_id);
    kv *e = kl ? kv_find(p->identities, k, kl) : NULL;
    if (!e)
        return 1;
    return e->vlen == len && memcmp(e->val, key, len) == 0;
}

static int sk_store(const signal_protocol_sender_key_name *n, uint8_t *rec,
                    size_t len, uint8_t *urec, size_t ulen, void *ud)
{
    sigh_party *p = ud;
    uint8_t k[KEYMAX];
    size_t kl = skn_key(k, n);
    if (!kl)
        return SG_ERR_INVAL;
    return kv_put(&p->sender_keys, k, kl, rec, len, urec, ulen);
}

static int sk_load(signal_buffer **rec, signal_buffer **urec,
                   const signal_protocol_sender_key_name *n, void *ud)
{
    sigh_party *p = ud;
    uint8_t k[KEYMAX];
    size_t kl = skn_key(k, n);
    kv *e = kl ? kv_find(p->sender_keys, k, kl) : NULL;
    if (!e)
        return 0;
    *rec = signal_buffer_create(e->val, e->vlen);
    if (!*rec)
        return SG_ERR_NOMEM;
    if (e->uval) {
        *urec = signal_buffer_create(e->uval, e->ulen);
        if (!*urec) {
            signal_buffer_free(*rec);
            *rec = NULL;
            return SG_ERR_NOMEM;
        }
    }
    return 1;
}

static int make_store(sigh_party *p)
{
    /* destroy_func stays NULL: sigh_party_free owns the lists. */
    signal_protocol_session_store ss = {
        .load_session_func = ss_load,
        .get_sub_device_sessions_func = ss_sub_devices,
        .store_session_func = ss_store,
        .contains_session_func = ss_contains,
        .delete_session_func = ss_delete,
        .delete_all_sessions_func = ss_delete_all,
        .user_data = p,
    };
    signal_protocol_pre_key_store pks = {
        .load_pre_key = pk_load,
        .store_pre_key = pk_store,
        .contains_pre_key = pk_contains,
        .remove_pre_key = pk_remove,
        .user_data = p,
    };
    signal_protocol_signed_pre_key_store spks = {
        .load_signed_pre_key = spk_load,
        .store_signed_pre_key = spk_store,
        .contains_signed_pre_key = spk_contains,
        .remove_signed_pre_key = spk_remove,
        .user_data = p,
    };
    signal_protocol_identity_key_store iks = {
        .get_identity_key_pair = ik_get_pair,
        .get_local_registration_id = ik_get_reg_id,
        .save_identity = ik_save,
        .is_trusted_identity = ik_is_trusted,
        .user_data = p,
    };
    signal_protocol_sender_key_store sks = {
        .store_sender_key = sk_store,
        .load_sender_key = sk_load,
        .user_data = p,
    };
    int rc = signal_protocol_store_context_create(&p->store, g_ctx);
    if (rc == 0)
        rc = signal_protocol_store_context_set_session_store(p->store, &ss);
    if (rc == 0)
        rc = signal_protocol_store_context_set_pre_key_store(p->store, &pks);
    if (rc == 0)
        rc = signal_protocol_store_context_set_signed_pre_key_store(p->store,
                                                                    &spks);
    if (rc == 0)
        rc = signal_protocol_store_context_set_identity_key_store(p->store,
                                                                  &iks);
    if (rc == 0)
        rc = signal_protocol_store_context_set_sender_key_store(p->store,
                                                                &sks);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Key helpers.                                                         */

static int pub_to33(const ec_public_key *k, uint8_t out[33])
{
    signal_buffer *b = NULL;
    int rc = ec_public_key_serialize(&b, k);
    if (rc < 0)
        return rc;
    if (signal_buffer_len(b) == 33)
        memcpy(out, signal_buffer_data(b), 33);
    else
        rc = SG_ERR_UNKNOWN;
    signal_buffer_free(b);
    return rc;
}

/* A key pair from a known private key, or a random one if priv32 is NULL. */
static int make_pair(const uint8_t *priv32, ec_key_pair **out)
{
    ec_private_key *priv = NULL;
    ec_public_key *pub = NULL;
    int rc;

    if (!priv32)
        return curve_generate_key_pair(g_ctx, out);
    rc = curve_decode_private_point(&priv, priv32, 32, g_ctx);
    if (rc == 0)
        rc = curve_generate_public_key(&pub, priv);
    if (rc == 0)
        rc = ec_key_pair_create(out, pub, priv); /* takes its own refs */
    if (pub)
        SIGNAL_UNREF(pub);
    if (priv)
        SIGNAL_UNREF(priv);
    return rc;
}

static int add_prekey(sigh_party *p, uint32_t id, const uint8_t *priv32)
{
    ec_key_pair *pair = NULL;
    session_pre_key *pk = NULL;
    int rc = make_pair(priv32, &pair);
    if (rc == 0)
        rc = session_pre_key_create(&pk, id, pair);
    if (rc == 0)
        rc = signal_protocol_pre_key_store_key(p->store, pk);
    if (pk)
        SIGNAL_UNREF(pk);
    if (pair)
        SIGNAL_UNREF(pair);
    return rc;
}

static int add_signed_prekey(sigh_party *p, uint32_t id, const uint8_t *priv32)
{
    ec_key_pair *pair = NULL;
    session_signed_pre_key *spk = NULL;
    signal_buffer *sig = NULL;
    uint8_t pub[33];
    int rc = make_pair(priv32, &pair);
    /* The signature covers the 33-byte serialized public key. */
    if (rc == 0)
        rc = pub_to33(ec_key_pair_get_public(pair), pub);
    if (rc == 0)
        rc = curve_calculate_signature(
            g_ctx, &sig, ratchet_identity_key_pair_get_private(p->identity),
            pub, sizeof pub);
    if (rc == 0)
        rc = session_signed_pre_key_create(
            &spk, id, (uint64_t)time(NULL) * 1000, pair,
            signal_buffer_data(sig), signal_buffer_len(sig));
    if (rc == 0)
        rc = signal_protocol_signed_pre_key_store_key(p->store, spk);
    if (rc == 0)
        p->signed_prekey_id = id;
    signal_buffer_free(sig);
    if (spk)
        SIGNAL_UNREF(spk);
    if (pair)
        SIGNAL_UNREF(pair);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Parties.                                                             */

sigh_party *sigh_party_new(uint32_t registration_id)
{
    return sigh_party_new_with_keys(registration_id, NULL, NULL);
}

sigh_party *sigh_party_new_with_keys(uint32_t registration_id,
                                     const uint8_t identity_priv[32],
                                     const uint8_t signed_prekey_priv[32])
{
    sigh_party *p;
    ec_key_pair *ik = NULL;
    int rc;

    if (sigh_global_init() != 0)
        return NULL;
    p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->device_id = SIGH_DEFAULT_DEVICE;
    p->next_prekey_id = 1;
    p->registration_id = registration_id;
    rc = make_store(p);
    if (rc == 0 && registration_id == 0)
        rc = signal_protocol_key_helper_generate_registration_id(
            &p->registration_id, 0, g_ctx);
    if (rc == 0)
        rc = make_pair(identity_priv, &ik);
    if (rc == 0)
        rc = ratchet_identity_key_pair_create(&p->identity,
                                              ec_key_pair_get_public(ik),
                                              ec_key_pair_get_private(ik));
    if (ik)
        SIGNAL_UNREF(ik);
    if (rc == 0)
        rc = add_signed_prekey(p, SIGH_SIGNED_PREKEY_ID, signed_prekey_priv);
    for (uint32_t id = 1; rc == 0 && id <= SIGH_NUM_PREKEYS; id++)
        rc = add_prekey(p, id, NULL);
    if (rc != 0) {
        sigh_party_free(p);
        return NULL;
    }
    return p;
}

void sigh_party_free(sigh_party *p)
{
    if (!p)
        return;
    if (p->store)
        signal_protocol_store_context_destroy(p->store);
    if (p->identity)
        SIGNAL_UNREF(p->identity);
    kv_free_all(&p->sessions);
    kv_free_all(&p->prekeys);
    kv_free_all(&p->signed_prekeys);
    kv_free_all(&p->identities);
    kv_free_all(&p->sender_keys);
    kv_free_all(&p->peers);
    free(p);
}

void sigh_party_set_device_id(sigh_party *p, int32_t device_id)
{
    p->device_id = device_id;
}

uint32_t sigh_party_registration_id(const sigh_party *p)
{
    return p->registration_id;
}

int sigh_party_identity(sigh_party *p, uint8_t pub33[33])
{
    return pub_to33(ratchet_identity_key_pair_get_public(p->identity), pub33);
}

int sigh_party_identity_private(sigh_party *p, uint8_t priv32[32])
{
    signal_buffer *b = NULL;
    int rc = ec_private_key_serialize(
        &b, ratchet_identity_key_pair_get_private(p->identity));
    if (rc < 0)
        return rc;
    if (signal_buffer_len(b) == 32)
        memcpy(priv32, signal_buffer_data(b), 32);
    else
        rc = SG_ERR_UNKNOWN;
    signal_buffer_bzero_free(b);
    return rc;
}

int sigh_party_add_prekey(sigh_party *p, uint32_t id, const uint8_t priv32[32])
{
    return add_prekey(p, id, priv32);
}

int sigh_party_add_signed_prekey(sigh_party *p, uint32_t id,
                                 const uint8_t priv32[32])
{
    return add_signed_prekey(p, id, priv32);
}

int sigh_party_has_prekey(sigh_party *p, uint32_t id)
{
    return signal_protocol_pre_key_contains_key(p->store, id);
}

int sigh_party_bundle_ex(sigh_party *p, uint32_t prekey_id, sigh_bundle *out)
{
    session_signed_pre_key *spk = NULL;
    session_pre_key *pk = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    out->registration_id = p->registration_id;
    out->device_id = p->device_id;
    rc = sigh_party_identity(p, out->identity_pub);
    if (rc == 0)
        rc = signal_protocol_signed_pre_key_load_key(p->store, &spk,
                                                     p->signed_prekey_id);
    if (rc == 0) {
        out->signed_prekey_id = p->signed_prekey_id;
        rc = pub_to33(ec_key_pair_get_public(
                          session_signed_pre_key_get_key_pair(spk)),
                      out->signed_prekey_pub);
    }
    if (rc == 0) {
        if (session_signed_pre_key_get_signature_len(spk) != 64)
            rc = SG_ERR_UNKNOWN;
        else
            memcpy(out->signed_prekey_sig,
                   session_signed_pre_key_get_signature(spk), 64);
    }
    if (rc == 0 && prekey_id != 0) {
        rc = signal_protocol_pre_key_load_key(p->store, &pk, prekey_id);
        if (rc == 0) {
            out->has_prekey = 1;
            out->prekey_id = prekey_id;
            rc = pub_to33(
                ec_key_pair_get_public(session_pre_key_get_key_pair(pk)),
                out->prekey_pub);
        }
    }
    if (pk)
        SIGNAL_UNREF(pk);
    if (spk)
        SIGNAL_UNREF(spk);
    return rc;
}

int sigh_party_bundle(sigh_party *p, sigh_bundle *out)
{
    uint32_t id = p->next_prekey_id++;
    if (p->next_prekey_id == 0)
        p->next_prekey_id = 1; /* id 0 means "none" in our API */
    if (!signal_protocol_pre_key_contains_key(p->store, id)) {
        int rc = add_prekey(p, id, NULL);
        if (rc != 0)
            return rc;
    }
    return sigh_party_bundle_ex(p, id, out);
}

/* The device id we use for peer: last set, else SIGH_DEFAULT_DEVICE. */
static int32_t peer_device(sigh_party *p, const char *peer)
{
    int32_t dev = SIGH_DEFAULT_DEVICE;
    kv *e = kv_find(p->peers, (const uint8_t *)peer, strlen(peer));
    if (e)
        memcpy(&dev, e->val, 4);
    return dev;
}

int sigh_party_set_peer_device(sigh_party *p, const char *peer,
                               int32_t device_id)
{
    return kv_put(&p->peers, (const uint8_t *)peer, strlen(peer),
                  (const uint8_t *)&device_id, 4, NULL, 0);
}

static signal_protocol_address peer_addr(sigh_party *p, const char *peer)
{
    signal_protocol_address a = {
        .name = peer, .name_len = strlen(peer),
        .device_id = peer_device(p, peer)};
    return a;
}

int sigh_party_has_session(sigh_party *p, const char *peer)
{
    signal_protocol_address a = peer_addr(p, peer);
    return signal_protocol_session_contains_session(p->store, &a);
}

int sigh_party_peer_identity(sigh_party *p, const char *peer,
                             uint8_t pub33[33])
{
    uint8_t k[KEYMAX];
    size_t kl = addr_key(k, peer, strlen(peer), peer_device(p, peer));
    kv *e = kl ? kv_find(p->identities, k, kl) : NULL;
    if (!e || e->vlen != 33)
        return 0;
    memcpy(pub33, e->val, 33);
    return 1;
}

int sigh_party_process_bundle(sigh_party *p, const char *peer,
                              const sigh_bundle *b)
{
    ec_public_key *ik = NULL, *spk = NULL, *pk = NULL;
    session_pre_key_bundle *bundle = NULL;
    session_builder *builder = NULL;
    signal_protocol_address a = {
        .name = peer, .name_len = strlen(peer), .device_id = b->device_id};
    int rc;

    rc = curve_decode_point(&ik, b->identity_pub, 33, g_ctx);
    if (rc == 0)
        rc = curve_decode_point(&spk, b->signed_prekey_pub, 33, g_ctx);
    if (rc == 0 && b->has_prekey)
        rc = curve_decode_point(&pk, b->prekey_pub, 33, g_ctx);
    if (rc == 0)
        rc = session_pre_key_bundle_create(
            &bundle, b->registration_id, b->device_id,
            b->has_prekey ? b->prekey_id : 0, pk, b->signed_prekey_id, spk,
            b->signed_prekey_sig, 64, ik);
    /* The builder keeps a pointer to a, which outlives it here. */
    if (rc == 0)
        rc = session_builder_create(&builder, p->store, &a, g_ctx);
    if (rc == 0)
        rc = session_builder_process_pre_key_bundle(builder, bundle);
    if (rc == 0)
        rc = sigh_party_set_peer_device(p, peer, b->device_id);
    session_builder_free(builder);
    if (bundle)
        SIGNAL_UNREF(bundle);
    if (pk)
        SIGNAL_UNREF(pk);
    if (spk)
        SIGNAL_UNREF(spk);
    if (ik)
        SIGNAL_UNREF(ik);
    return rc;
}

/* Copies a signal_buffer into a malloc'd block (never NULL on success). */
static int export_buf(const signal_buffer *b, uint8_t **out, size_t *len)
{
    size_t n = signal_buffer_len(b);
    *out = dup_bytes(signal_buffer_const_data(b), n);
    if (!*out)
        return SG_ERR_NOMEM;
    *len = n;
    return 0;
}

/* libsignal may memcpy from msg even when n == 0; never hand it NULL. */
static const uint8_t *nonnull(const uint8_t *p)
{
    static const uint8_t dummy[1];
    return p ? p : dummy;
}

int sigh_party_encrypt(sigh_party *p, const char *peer, const uint8_t *pt,
                       size_t n, uint8_t **out, size_t *out_len, int *type)
{
    signal_protocol_address a = peer_addr(p, peer);
    session_cipher *cipher = NULL;
    ciphertext_message *msg = NULL;
    int rc = session_cipher_create(&cipher, p->store, &a, g_ctx);
    if (rc == 0)
        rc = session_cipher_encrypt(cipher, nonnull(pt), n, &msg);
    if (rc == 0) {
        *type = ciphertext_message_get_type(msg);
        rc = export_buf(ciphertext_message_get_serialized(msg), out, out_len);
    }
    if (msg)
        SIGNAL_UNREF(msg);
    session_cipher_free(cipher);
    return rc;
}

int sigh_party_decrypt(sigh_party *p, const char *peer, int type,
                       const uint8_t *ct, size_t n, uint8_t **pt,
                       size_t *pt_len)
{
    signal_protocol_address a = peer_addr(p, peer);
    session_cipher *cipher = NULL;
    pre_key_signal_message *pkm = NULL;
    signal_message *sm = NULL;
    signal_buffer *plain = NULL;
    int rc;

    if (type != SIGH_MSG_SIGNAL && type != SIGH_MSG_PREKEY)
        return SG_ERR_INVAL;
    rc = session_cipher_create(&cipher, p->store, &a, g_ctx);
    if (rc == 0 && type == SIGH_MSG_PREKEY) {
        rc = pre_key_signal_message_deserialize(&pkm, nonnull(ct), n, g_ctx);
        if (rc == 0)
            rc = session_cipher_decrypt_pre_key_signal_message(cipher, pkm,
                                                               NULL, &plain);
    } else if (rc == 0) {
        rc = signal_message_deserialize(&sm, nonnull(ct), n, g_ctx);
        if (rc == 0)
            rc = session_cipher_decrypt_signal_message(cipher, sm, NULL,
                                                       &plain);
    }
    if (rc == 0)
        rc = export_buf(plain, pt, pt_len);
    if (plain)
        signal_buffer_bzero_free(plain);
    if (pkm)
        SIGNAL_UNREF(pkm);
    if (sm)
        SIGNAL_UNREF(sm);
    session_cipher_free(cipher);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Sender keys.                                                         */

static signal_protocol_sender_key_name skn(const char *group,
                                           const char *name, int32_t dev)
{
    signal_protocol_sender_key_name s = {
        .group_id = group, .group_id_len = strlen(group),
        .sender = {.name = name, .name_len = strlen(name), .device_id = dev}};
    return s;
}

int sigh_group_create(sigh_party *p, const char *group, const char *self_name,
                      uint8_t **skdm, size_t *skdm_len)
{
    signal_protocol_sender_key_name s = skn(group, self_name, p->device_id);
    group_session_builder *gb = NULL;
    sender_key_distribution_message *m = NULL;
    int rc = group_session_builder_create(&gb, p->store, g_ctx);
    if (rc == 0)
        rc = group_session_builder_create_session(gb, &m, &s);
    if (rc == 0)
        rc = export_buf(
            ciphertext_message_get_serialized((ciphertext_message *)m), skdm,
            skdm_len);
    if (m)
        SIGNAL_UNREF(m);
    group_session_builder_free(gb);
    return rc;
}

int sigh_group_process(sigh_party *p, const char *group, const char *sender,
                       const uint8_t *data, size_t n)
{
    signal_protocol_sender_key_name s =
        skn(group, sender, peer_device(p, sender));
    group_session_builder *gb = NULL;
    sender_key_distribution_message *m = NULL;
    int rc = sender_key_distribution_message_deserialize(&m, nonnull(data), n,
                                                         g_ctx);
    if (rc == 0)
        rc = group_session_builder_create(&gb, p->store, g_ctx);
    if (rc == 0)
        rc = group_session_builder_process_session(gb, &s, m);
    if (m)
        SIGNAL_UNREF(m);
    group_session_builder_free(gb);
    return rc;
}

int sigh_group_reset(sigh_party *p, const char *group, const char *name,
                     int self)
{
    signal_protocol_sender_key_name s =
        skn(group, name, self ? p->device_id : peer_device(p, name));
    uint8_t k[KEYMAX];
    size_t kl = skn_key(k, &s);
    return kl ? kv_del(&p->sender_keys, k, kl) : 0;
}

int sigh_group_encrypt(sigh_party *p, const char *group, const char *self_name,
                       const uint8_t *pt, size_t n, uint8_t **out,
                       size_t *out_len)
{
    signal_protocol_sender_key_name s = skn(group, self_name, p->device_id);
    group_cipher *gc = NULL;
    ciphertext_message *m = NULL;
    int rc = group_cipher_create(&gc, p->store, &s, g_ctx);
    if (rc == 0)
        rc = group_cipher_encrypt(gc, nonnull(pt), n, &m);
    if (rc == 0)
        rc = export_buf(ciphertext_message_get_serialized(m), out, out_len);
    if (m)
        SIGNAL_UNREF(m);
    group_cipher_free(gc);
    return rc;
}

int sigh_group_decrypt(sigh_party *p, const char *group, const char *sender,
                       const uint8_t *ct, size_t n, uint8_t **pt,
                       size_t *pt_len)
{
    signal_protocol_sender_key_name s =
        skn(group, sender, peer_device(p, sender));
    group_cipher *gc = NULL;
    sender_key_message *m = NULL;
    signal_buffer *plain = NULL;
    int rc = sender_key_message_deserialize(&m, nonnull(ct), n, g_ctx);
    if (rc == 0)
        rc = group_cipher_create(&gc, p->store, &s, g_ctx);
    if (rc == 0)
        rc = group_cipher_decrypt(gc, m, NULL, &plain);
    if (rc == 0)
        rc = export_buf(plain, pt, pt_len);
    if (plain)
        signal_buffer_bzero_free(plain);
    if (m)
        SIGNAL_UNREF(m);
    group_cipher_free(gc);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Raw-key helpers.                                                     */

static int decode_pub32(const uint8_t pub32[32], ec_public_key **out)
{
    uint8_t ser[33];
    ser[0] = 0x05; /* DJB key type */
    memcpy(ser + 1, pub32, 32);
    return curve_decode_point(out, ser, sizeof ser, g_ctx);
}

int sigh_sign(const uint8_t priv32[32], const uint8_t *msg, size_t n,
              uint8_t sig[64])
{
    ec_private_key *priv = NULL;
    signal_buffer *s = NULL;
    int rc = sigh_global_init();
    if (rc == 0)
        rc = curve_decode_private_point(&priv, priv32, 32, g_ctx);
    if (rc == 0)
        rc = curve_calculate_signature(g_ctx, &s, priv, nonnull(msg), n);
    if (rc == 0) {
        if (signal_buffer_len(s) == 64)
            memcpy(sig, signal_buffer_data(s), 64);
        else
            rc = SG_ERR_UNKNOWN;
    }
    signal_buffer_free(s);
    if (priv)
        SIGNAL_UNREF(priv);
    return rc;
}

int sigh_verify(const uint8_t pub32[32], const uint8_t *msg, size_t n,
                const uint8_t sig[64])
{
    ec_public_key *pub = NULL;
    int rc = sigh_global_init();
    if (rc == 0)
        rc = decode_pub32(pub32, &pub);
    if (rc == 0)
        rc = curve_verify_signature(pub, nonnull(msg), n, sig, 64);
    if (pub)
        SIGNAL_UNREF(pub);
    return rc;
}

int sigh_pubkey_from_priv(const uint8_t priv32[32], uint8_t pub32[32])
{
    ec_key_pair *pair = NULL;
    uint8_t ser[33];
    int rc = sigh_global_init();
    if (rc == 0)
        rc = make_pair(priv32, &pair);
    if (rc == 0)
        rc = pub_to33(ec_key_pair_get_public(pair), ser);
    if (rc == 0)
        memcpy(pub32, ser + 1, 32);
    if (pair)
        SIGNAL_UNREF(pair);
    return rc;
}

int sigh_agree(const uint8_t priv32[32], const uint8_t pub32[32],
               uint8_t shared32[32])
{
    ec_private_key *priv = NULL;
    ec_public_key *pub = NULL;
    uint8_t *shared = NULL;
    int rc = sigh_global_init();
    if (rc == 0)
        rc = curve_decode_private_point(&priv, priv32, 32, g_ctx);
    if (rc == 0)
        rc = decode_pub32(pub32, &pub);
    if (rc == 0) {
        rc = curve_calculate_agreement(&shared, pub, priv);
        if (rc == 32) {
            memcpy(shared32, shared, 32);
            rc = 0;
        } else if (rc >= 0) {
            rc = SG_ERR_UNKNOWN;
        }
    }
    if (shared) {
        OPENSSL_cleanse(shared, 32);
        free(shared);
    }
    if (pub)
        SIGNAL_UNREF(pub);
    if (priv)
        SIGNAL_UNREF(priv);
    return rc;
}
