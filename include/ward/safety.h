/*
 * ward — safety: the contact policy. Who may reach whom is decided here,
 * from metadata the server already holds (age bands, follows, blocks,
 * privacy, the suspicious flag), by one table of rules evaluated at every
 * entry point where one account can reach another. The rules are data;
 * the server gathers the facts and asks.
 */
#ifndef WARD_SAFETY_H
#define WARD_SAFETY_H

#include <stdint.h>

/* Where one account (the actor) reaches another (the target). */
typedef enum ward_entry {
    WARD_ENTRY_BUNDLE = 1 << 0,  /* fetching the target's prekey bundle */
    WARD_ENTRY_SEND = 1 << 1,    /* sending the target a message */
    WARD_ENTRY_FIND = 1 << 2,    /* finding the target by username */
    WARD_ENTRY_SUGGEST = 1 << 3, /* the target suggested to the actor */
    WARD_ENTRY_FOLLOW = 1 << 4,  /* following the target */
    WARD_ENTRY_GROUP_ADD = 1 << 5, /* adding the target to a group */
    /* A member's group message reaching another member, and the one-to-one
     * key handover (and bundle fetch) that makes it readable: one entry
     * point, so a member is handed a sender's key exactly when it is sent
     * that sender's messages. */
    WARD_ENTRY_GROUP_SEND = 1 << 6,
} ward_entry;
#define WARD_ENTRY_ALL 0x7f

/* Facts about the pair, as bits. */
enum {
    WARD_FACT_ACTOR_MINOR = 1 << 0,
    WARD_FACT_TARGET_MINOR = 1 << 1,
    WARD_FACT_ACTOR_FOLLOWS = 1 << 2,   /* actor follows target */
    WARD_FACT_TARGET_FOLLOWS = 1 << 3,  /* target follows actor */
    WARD_FACT_ACTOR_BLOCKED = 1 << 4,   /* actor blocked target */
    WARD_FACT_TARGET_BLOCKED = 1 << 5,  /* target blocked actor */
    WARD_FACT_ACTOR_SUSPICIOUS = 1 << 6,
    WARD_FACT_TARGET_SUSPICIOUS = 1 << 7,
    WARD_FACT_TARGET_PRIVATE = 1 << 8,
};

/* The decision: allowed, or the refusal's reason. */
typedef enum ward_verdict {
    WARD_ALLOW = 0,
    WARD_REFUSE_BLOCKED_BY_TARGET,
    WARD_REFUSE_YOU_BLOCKED,
    WARD_REFUSE_MINOR_NOT_FOLLOWING,
    WARD_REFUSE_MINOR_HIDDEN,
    WARD_REFUSE_SUSPICIOUS,
    WARD_REFUSE_PRIVATE,
    WARD_REFUSE_WITHHELD, /* in a group: kept from the member, not why */
    WARD_VERDICT_COUNT
} ward_verdict;

/* One rule: it applies at the entry points in |entries| when every fact
 * in |when| holds and none in |unless|; the first rule that applies
 * decides. No rule: allowed. */
typedef struct ward_rule {
    unsigned entries;
    unsigned when, unless;
    ward_verdict verdict;
    const char *why; /* for the operator's documentation */
} ward_rule;

/* The rules in force, in order, and their number. */
const ward_rule *ward_policy_rules(int *n);

/* The facts any rule at |entry| reads: the others need not be gathered
 * (some cost a query). */
unsigned ward_policy_reads(ward_entry entry);

/* Decides |entry| for the facts |facts|. |rule| (may be NULL) gets the
 * index of the rule that decided, or -1. */
ward_verdict ward_policy_decide(ward_entry entry, unsigned facts, int *rule);

/* The API's error code for a refusal ("blocked_by_recipient", ...), and
 * whether the entry point hides the target instead of refusing (find and
 * suggest: telling someone "you may not find this minor" would reveal
 * what the rule protects). */
const char *ward_verdict_code(ward_verdict v);
int ward_entry_hides(ward_entry entry);

/* Report reasons (WARD_REASON_* of store.h) by their API names:
 * "child_sexual_exploitation", "grooming", "sexual_harassment",
 * "other_harassment", "spam", "other". parse: 0 for an unknown name. */
int ward_report_reason_parse(const char *name);
const char *ward_report_reason_name(int reason);

#endif
