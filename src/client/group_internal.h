/*
 * Private to the client library: what it keeps about groups in the state
 * file (group_state.c), and the pieces of receiving and sending that
 * messaging.c and live.c share with groups.c.
 */
#ifndef WARD_CLIENT_GROUP_INTERNAL_H
#define WARD_CLIENT_GROUP_INTERNAL_H

#include "client_internal.h"

/* A group event from the server (docs/api.md "Group events"). */
#define WARD_CLIENT_MSG_GROUP_EVENT 100

/* Pending group messages kept (waiting for their sender's key) at most. */
#define WARD_GS_MAX_PENDING 5000
#define WARD_GS_MAX_PENDING_SENDER 1000 /* of one sender in one group */

/* A group as this device last saw it. */
typedef struct gs_group {
    int64_t id;
    char name[WARD_CLIENT_GROUP_NAME_MAX * 4 + 1]; /* "" if not known yet */
    int64_t epoch;         /* the newest epoch heard of (events, 409s) */
    int64_t members_epoch; /* the epoch of the members kept; 0: none */
    int64_t key_epoch;     /* the members_epoch our key was made at */
    int64_t rotate_after;  /* the newest epoch at which someone went */
} gs_group;

/* A member as last seen, or (gs_holders) a member our key was handed to:
 * |joined_at| tells a member who left and came back from one who stayed;
 * |refused_epoch| > 0 marks a member the key could not be handed to (its
 * keys) at that members_epoch, < 0 one the contact rules refused it at
 * -refused_epoch: tried again once the membership changes, or (the
 * rules) when the server says they let our messages reach it now. */
typedef struct gs_member {
    int64_t account;
    char username[64];
    int64_t joined_at;
    int64_t refused_epoch;
} gs_member;

/* The group row: NOT_FOUND if this device knows nothing of it. */
ward_err ward_gs_get(ward_client_state *cs, int64_t gid, gs_group *out);
/* Sets the name (creating the row if needed). */
ward_err ward_gs_set_name(ward_client_state *cs, int64_t gid,
                          const char *name);
/* An event or a refused send told of epoch |epoch| (creating the row if
 * needed); |removal|: someone left or was removed at it. */
ward_err ward_gs_note_epoch(ward_client_state *cs, int64_t gid,
                            int64_t epoch, int removal);
/* Replaces the members kept with |m| (|n|) as of |epoch|, unless the
 * view kept is newer; a member of the old view missing from the new one
 * marks our key for rotation (as ward_gs_note_epoch with |removal|). */
ward_err ward_gs_set_members(ward_client_state *cs, int64_t gid,
                             int64_t epoch, const gs_member *m, size_t n);
/* The members kept (or, holders = 1, the holders of our key); |*out| is
 * the caller's to free. */
ward_err ward_gs_members(ward_client_state *cs, int64_t gid, int holders,
                         gs_member **out, size_t *n);
/* Everything about the group (keys included) deleted: we left or were
 * removed. */
ward_err ward_gs_forget(ward_client_state *cs, int64_t gid);

/* Sender key records: our own (|sender| NULL) or one member's.
 * NOT_FOUND if none. */
ward_err ward_gs_get_key(ward_client_state *cs, int64_t gid,
                         const char *sender, ward_sender_key **out);
ward_err ward_gs_put_key(ward_client_state *cs, int64_t gid,
                         const char *sender, const ward_sender_key *sk);
/* Our new key was made at |key_epoch|: nobody holds it yet. */
ward_err ward_gs_new_key_epoch(ward_client_state *cs, int64_t gid,
                               int64_t key_epoch);
/* |m| holds our key (refused_epoch 0), or could not be handed it. */
ward_err ward_gs_put_holder(ward_client_state *cs, int64_t gid,
                            const gs_member *m);
/* Forgets what became of our key with |username|: handed again at the
 * next send. */
ward_err ward_gs_drop_holder(ward_client_state *cs, int64_t gid,
                             const char *username);

/* A group message waiting for its sender's key: the server's JSON of it,
 * kept (WARD_ERR_LIMIT past WARD_GS_MAX_PENDING, or past
 * WARD_GS_MAX_PENDING_SENDER of its sender in its group) until the key
 * comes. */
ward_err ward_gs_keep_pending(ward_client_state *cs, int64_t id,
                              int64_t gid, const char *sender,
                              const char *json);
/* The ids and JSON of those from |sender| in |gid|, oldest first, until
 * |fn| returns non-zero. */
ward_err ward_gs_each_pending(ward_client_state *cs, int64_t gid,
                              const char *sender,
                              int (*fn)(void *ctx, int64_t id,
                                        const char *json),
                              void *ctx);
/* Whether message |id| is still kept waiting. */
ward_err ward_gs_is_pending(ward_client_state *cs, int64_t id, int *kept);
ward_err ward_gs_drop_pending(ward_client_state *cs, int64_t id);
/* Each (group, sender) with messages waiting and a key from that sender
 * here, until |fn| returns non-zero. */
ward_err ward_gs_pending_senders(ward_client_state *cs,
                                 int (*fn)(void *ctx, int64_t gid,
                                           const char *sender),
                                 void *ctx);

/* The 8 bytes (big-endian) that stand for group |gid| in a Content. */
void ward_gs_content_id(int64_t gid, uint8_t out[8]);

/* ---- messaging.c's pieces, for group messages ---- */

/* One queued message, as the server lists it. */
typedef struct ward_client_one_msg {
    int64_t id, server_time;
    const char *from;
    int64_t from_id; /* 0: the server sent none */
    int type;
    ward_buf body;
    int has_commitment;
    uint8_t commitment[32];
    int has_tag; /* the server's franking tag, and its key */
    uint8_t tag[32];
    int64_t key_id;
    int64_t group; /* a group message or event: its group */
    json_t *json;  /* the whole entry (borrowed) */
} ward_client_one_msg;

/* Reads one entry of GET /v1/messages (or a pushed one) into |in|; -1
 * if it is malformed (then only |in->body| needs releasing, as always). */
int ward_client_parse_entry(json_t *v, ward_client_one_msg *in);

/* Keeps what a report of |in| reveals (|pt| the Content bytes). */
ward_err ward_client_keep_reveal(ward_client *c, const ward_client_one_msg *in,
                                 const ward_buf *pt);
/* Fetches every attachment of a readable message, then calls |fn|. */
ward_err ward_client_show_with_attachments(
    ward_client *c, ward_client_msg *m, const ward_content *content,
    void (*fn)(void *ctx, const ward_client_msg *m), void *ctx);
/* 1 if the commitment over |pt| (decoded into |content|) checks out. */
int ward_client_commitment_ok(const ward_client_one_msg *in,
                              const ward_content *content, const ward_buf *pt);

/* ---- group receiving (group_recv.c) ---- */

/* A group message (type 4) or event (type 100): decrypted or applied,
 * shown through |fn|. |*shown|, |*ack_it| as ward_client_process. */
ward_err ward_client_group_process(ward_client *c, ward_client_one_msg *in,
                                   void (*fn)(void *ctx,
                                              const ward_client_msg *m),
                                   void *ctx, int *shown, int *ack_it,
                                   char *err, size_t errlen);
/* Inside the transaction that decrypted a one-to-one message from |from|
 * carrying a group key distribution: the SKDM into the record for (group,
 * |from|). |*gid| gets the group. WARD_ERR_MALFORMED for a broken one, or
 * one for another group than |context| (the group the server delivered
 * it in the context of, having checked that both are members; 0 for
 * none, and then no key is taken). */
ward_err ward_client_group_take_key(ward_client *c, const char *from,
                                    const ward_content *content,
                                    int64_t context, int64_t *gid);
/* After the key of (|gid|, |from|) arrived: the messages that waited for
 * it, decrypted and shown through |fn| (those still unreadable stay). */
ward_err ward_client_group_retry(ward_client *c, int64_t gid,
                                 const char *from,
                                 void (*fn)(void *ctx,
                                            const ward_client_msg *m),
                                 void *ctx, size_t *shown);

/* Every waiting message whose sender's key is here tried again (a run
 * that stopped between a key's arrival and its retry). */
ward_err ward_client_group_retry_all(ward_client *c,
                                     void (*fn)(void *ctx,
                                                const ward_client_msg *m),
                                     void *ctx, size_t *shown);

/* ---- group sending (group_send.c) and management (groups.c) ---- */

/* Brings the members kept for |gid| up to date from the server (and the
 * name); |out| (may be NULL) gets the row after. */
ward_err ward_client_group_refresh(ward_client *c, int64_t gid,
                                   gs_group *out, char *err, size_t errlen);
/* As ward_client_group_refresh for a group's name only, forgetting
 * nothing when the server says we are not in it; failures are silent. */
void ward_client_group_learn_name(ward_client *c, int64_t gid);
/* Hands our current key for |gid| to every member who lacks it (none if
 * we have no key yet). |*unreachable| (may be NULL) gets how many could
 * not be handed it (the hook is told why). */
ward_err ward_client_group_distribute(ward_client *c, int64_t gid,
                                      size_t *unreachable, char *err,
                                      size_t errlen);
/* Tells the note hook. */
void ward_client_note(ward_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
