/* Private to the API layer. */
#ifndef WARD_SERVER_API_INTERNAL_H
#define WARD_SERVER_API_INTERNAL_H

#include "api.h"
#include "blobs.h"
#include "franking_keys.h"
#include "json.h"
#include "workq.h"
#include "ward/safety.h"

/* One recipient of a group message. */
typedef struct group_rcpt {
    int64_t id;
    char name[WARD_USERNAME_MAX + 1];
} group_rcpt;

/* A send waiting for the next group commit: one message, or a group
 * message (|fan_out|) copied to each of |rcpt| at the commit. A
 * one-to-one message may name a group too (msg.group_id): a sender-key
 * handover, sent in the group's context. */
typedef struct pending_send {
    ward_store_msg msg;
    ward_buf body;
    void *opaque;
    int fan_out;
    group_rcpt *rcpt; /* owned */
    size_t n_rcpt;
    size_t withheld; /* members the contact policy kept it from */
} pending_send;

/* An acknowledgement waiting for the next group commit. */
typedef struct pending_ack {
    ward_store_ack ack;
    void *opaque;
} pending_ack;

struct ward_console;

struct ward_api {
    ward_store *st;
    struct ward_console *console; /* the moderation console (console.c) */
    ward_api_config cfg;
    ward_api_hooks hooks;
    ward_ratelimit *login_by_name, *login_by_addr, *register_by_addr;
    ward_ratelimit *send_by_account, *upload_by_account, *report_by_account;
    ward_ratelimit *group_by_account;
    ward_frank_keys *frank;    /* borrowed; see ward_api_attach */
    const struct ward_match_set *match; /* borrowed; may be NULL */
    ward_blobs *blobs;         /* borrowed */
    const char *evidence_dir;  /* borrowed; NULL: images not kept */
    ward_workq *pwq; /* password jobs (pwjob.h); NULL: inline */
    pending_send *pending;
    size_t n_pending, cap_pending;
    pending_ack *acks;
    size_t n_acks, cap_acks;
    char dummy_hash[WARD_PWHASH_STR_LEN]; /* for unknown usernames */
    ward_api_stats stats;
};

int64_t ward_api_now(ward_api *api);

/* Resolves the request's bearer token; on failure writes the 401. */
int ward_api_require_account(ward_api *api, const ward_http_req *req,
                             ward_http_resp *resp, ward_account *acct);

/* -1 with the 400 written if |obj| has a key not in |allowed|. */
int ward_api_known_keys(json_t *obj, const char *const *allowed,
                        ward_http_resp *resp);

/* Parses the body as a JSON object with only |allowed| keys; on failure
 * writes the 400 and returns NULL. */
json_t *ward_api_body(const ward_http_req *req, ward_http_resp *resp,
                      const char *const *allowed);

/*
 * Spends one password attempt from both budgets: |by_name| for |name| and
 * |by_addr| for the request's address (when it has one). Both are spent
 * on every attempt, so guessing one name's password from many addresses,
 * or many names' from one, is slow. 0 when both allow it; -1 with the 429
 * rate_limited written (|msg| its sentence) and counted.
 */
int ward_api_password_budget(ward_api *api, ward_ratelimit *by_name,
                             ward_ratelimit *by_addr, const char *name,
                             const ward_http_req *req, int64_t now,
                             const char *msg, ward_http_resp *resp);

/* The account named |username| into |them|: 0, or -1 with the 404
 * no_such_user written when the name is invalid or cannot be read. */
int ward_api_account_named(ward_api *api, const char *username,
                           ward_http_resp *resp, ward_account *them);

/* Writes the response for a store error. */
void ward_api_store_error(ward_api *api, ward_http_resp *resp, ward_err e);

/* Handlers (api_accounts.c, api_keys.c, api_messages.c). */
int ward_api_register(ward_api *api, const ward_http_req *req,
                      ward_http_resp *resp);
int ward_api_login(ward_api *api, const ward_http_req *req,
                   ward_http_resp *resp);
int ward_api_logout(ward_api *api, const ward_http_req *req,
                    ward_http_resp *resp);
int ward_api_delete_account(ward_api *api, const ward_http_req *req,
                            ward_http_resp *resp);
int ward_api_put_keys(ward_api *api, const ward_http_req *req,
                      ward_http_resp *resp);
int ward_api_get_own_keys(ward_api *api, const ward_http_req *req,
                          ward_http_resp *resp);
int ward_api_get_bundle(ward_api *api, const ward_http_req *req,
                        ward_http_resp *resp, const char *username);
int ward_api_send(ward_api *api, const ward_http_req *req,
                  ward_http_resp *resp);
int ward_api_list(ward_api *api, const ward_http_req *req,
                  ward_http_resp *resp);
int ward_api_ack(ward_api *api, const ward_http_req *req,
                 ward_http_resp *resp, const char *id);

/* Social graph (api_social.c) and reports (api_reports.c). */
int ward_api_get_me(ward_api *api, const ward_http_req *req,
                    ward_http_resp *resp);
int ward_api_patch_me(ward_api *api, const ward_http_req *req,
                      ward_http_resp *resp);
int ward_api_follow(ward_api *api, const ward_http_req *req,
                    ward_http_resp *resp);
int ward_api_block(ward_api *api, const ward_http_req *req,
                   ward_http_resp *resp);
int ward_api_unrelate(ward_api *api, const ward_http_req *req,
                      ward_http_resp *resp, int which, const char *username);
int ward_api_graph(ward_api *api, const ward_http_req *req,
                   ward_http_resp *resp, int which);
int ward_api_find(ward_api *api, const ward_http_req *req,
                  ward_http_resp *resp, const char *username);
int ward_api_suggestions(ward_api *api, const ward_http_req *req,
                         ward_http_resp *resp);
int ward_api_report(ward_api *api, const ward_http_req *req,
                    ward_http_resp *resp);
int ward_api_notices(ward_api *api, const ward_http_req *req,
                     ward_http_resp *resp);
int ward_api_notices_ack(ward_api *api, const ward_http_req *req,
                         ward_http_resp *resp, const char *id);

/*
 * The contact policy between |me| and |them| at |entry|: WARD_ALLOW, or
 * the refusal (|*verdict|). ward_api_policy_check writes the refusal into
 * |resp| (403 with its code, or the 404 of a user that does not exist
 * where the entry point hides) and returns -1; 0 when allowed. A store
 * failure is a 500 and -1.
 */
ward_err ward_api_policy(ward_api *api, const ward_account *me,
                         const ward_account *them, ward_entry entry,
                         ward_verdict *verdict);
/* The policy's facts about a pair that the store's relation and the two
 * accounts give (the suspicious flags are not among them), |r| with "a"
 * the actor. */
unsigned ward_api_pair_facts(int my_band, int their_band, int they_private,
                             const ward_store_relation *r);
/* Whether account |id| (of age band |band|) is flagged suspicious now; -1
 * when the store fails. */
int ward_api_suspicious(ward_api *api, int64_t id, int band, int *out);
int ward_api_policy_check(ward_api *api, const ward_account *me,
                          const ward_account *them, ward_entry entry,
                          ward_http_resp *resp);

/* ward_api_refuse_status for an account already read. */
int ward_api_refuse_account(ward_api *api, const ward_account *acct,
                            ward_http_resp *resp);

/* Reads a query string of "name=N" pairs, each name one of |names|
 * (NULL-ended) and N a non-negative decimal, into |vals| (same order;
 * those absent keep their value). -1 for anything else. */
int ward_api_query_ints(const char *q, const char *const *names,
                        int64_t *vals);

/* What a direct send and a group send check alike (api_messages.c), 0 or
 * -1 with the refusal written: the "body" of |body| (base64, 1 byte to
 * --max-message) into |out|; that the server can frank and |me| is not
 * sending too fast (one send taken from its budget). */
int ward_api_message_body(ward_api *api, json_t *body, ward_buf *out,
                          ward_http_resp *resp);
int ward_api_may_send(ward_api *api, const ward_account *me, int64_t now,
                      ward_http_resp *resp);

/* The pending array has room for one more send; -1 when out of memory. */
int ward_api_pending_room(ward_api *api);

/* Groups (api_groups.c): the /v1/groups routes (WARD_API_DONE with 404
 * no_route or 405 for paths it does not know), and a group send from the
 * WebSocket (|body| as POST /v1/groups/{id}/messages takes, with "group"). */
int ward_api_groups_route(ward_api *api, const ward_http_req *req,
                          ward_http_resp *resp, const char *rest);
int ward_api_group_send_json(ward_api *api, const ward_account *me,
                             json_t *body, void *opaque,
                             ward_http_resp *resp);
/* Whether |me| may reach |them| in the context of group |gid| (a
 * sender-key handover, and the bundle fetch before it): both members, and
 * the contact policy's group-send rules. 0, or -1 with the refusal in
 * |resp| (404 no_such_group or not_member, or the policy's 403). */
int ward_api_group_reach(ward_api *api, const ward_account *me,
                         const ward_account *them, int64_t gid,
                         ward_http_resp *resp);
/* Completes a group send after the commit: |res| holds its copies'
 * results (|e|: the whole commit's error). */
void ward_api_group_sent(ward_api *api, const pending_send *p,
                         const ward_store_msg *rows, const ward_err *res,
                         ward_err e, ward_http_resp *r);

/* ward_api_policy_check that also names the refused account ("username"
 * in the error object) when |name_it|. */
int ward_api_policy_check_named(ward_api *api, const ward_account *me,
                                const ward_account *them, ward_entry entry,
                                int name_it, ward_http_resp *resp);

/* "minor" or "adult". */
const char *ward_api_band_name(int band);

/* JSON for a queued message, as both listing and push use it. */
json_t *ward_api_message_json(const ward_store_msg *m);

#endif
