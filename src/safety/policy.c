/* The contact policy's rules and their evaluation. */
#include "ward/safety.h"

#include <stddef.h>

#define REACH (WARD_ENTRY_BUNDLE | WARD_ENTRY_SEND | WARD_ENTRY_GROUP_ADD)
#define SEE (WARD_ENTRY_FIND | WARD_ENTRY_SUGGEST | WARD_ENTRY_FOLLOW)

/* Order matters: the first rule that applies names the refusal. Blocks
 * come first. Privacy comes before the protections of minors, so that a
 * refused adult learns no more than "private" about a minor's account
 * (minors are private by default); the plain minor rule comes before the
 * suspicious one, so that a flagged adult is not told it was flagged
 * (where both apply, the answer is the same for every adult). */
static const ward_rule rules[] = {
    {WARD_ENTRY_ALL, WARD_FACT_TARGET_BLOCKED, 0,
     WARD_REFUSE_BLOCKED_BY_TARGET,
     "a block is absolute: the blocked account reaches nothing of the "
     "blocker's"},
    {WARD_ENTRY_ALL, WARD_FACT_ACTOR_BLOCKED, 0, WARD_REFUSE_YOU_BLOCKED,
     "a block is absolute both ways: the blocker does not reach the "
     "blocked either"},
    /* Within a group, an adult's messages reach a minor only where a
     * conversation could: before the private rule, which does not apply
     * there, and with a refusal that does not say why (the sender sees the
     * member list; "minor" would tell it more than a direct message's
     * "private" does). */
    {WARD_ENTRY_GROUP_SEND, WARD_FACT_TARGET_MINOR,
     WARD_FACT_ACTOR_MINOR | WARD_FACT_TARGET_FOLLOWS, WARD_REFUSE_WITHHELD,
     "in a group, an adult's messages (and sender key) reach no minor who "
     "does not follow the adult"},
    /* Not within a group: a private account is added only by an account it
     * follows (the rule applies at group add), and staying is its choice. */
    {WARD_ENTRY_ALL & ~WARD_ENTRY_GROUP_SEND, WARD_FACT_TARGET_PRIVATE,
     WARD_FACT_TARGET_FOLLOWS, WARD_REFUSE_PRIVATE,
     "a private account is reached, found and followed only by the "
     "accounts it follows (in a group it joined, by its members)"},
    {REACH, WARD_FACT_TARGET_MINOR,
     WARD_FACT_ACTOR_MINOR | WARD_FACT_TARGET_FOLLOWS,
     WARD_REFUSE_MINOR_NOT_FOLLOWING,
     "an adult cannot open a conversation with a minor unless the minor "
     "follows the adult"},
    {WARD_ENTRY_ALL, WARD_FACT_ACTOR_SUSPICIOUS | WARD_FACT_TARGET_MINOR,
     WARD_FACT_ACTOR_MINOR | WARD_FACT_TARGET_FOLLOWS, WARD_REFUSE_SUSPICIOUS,
     "an adult flagged suspicious reaches, finds and follows no minor "
     "that does not follow it"},
    /* Only at group add, so no other entry point's verdict changes. */
    {WARD_ENTRY_GROUP_ADD, WARD_FACT_ACTOR_SUSPICIOUS | WARD_FACT_TARGET_MINOR,
     WARD_FACT_ACTOR_MINOR, WARD_REFUSE_SUSPICIOUS,
     "an adult flagged suspicious adds no minor to a group, not even one "
     "that follows it"},
    {WARD_ENTRY_SUGGEST, WARD_FACT_ACTOR_MINOR | WARD_FACT_TARGET_SUSPICIOUS,
     WARD_FACT_TARGET_MINOR | WARD_FACT_ACTOR_FOLLOWS, WARD_REFUSE_SUSPICIOUS,
     "an adult flagged suspicious is never suggested to a minor"},
    {SEE, WARD_FACT_TARGET_MINOR,
     WARD_FACT_ACTOR_MINOR | WARD_FACT_TARGET_FOLLOWS,
     WARD_REFUSE_MINOR_HIDDEN,
     "minors are not findable by, suggested to or followable by adults "
     "they do not follow"},
};

const ward_rule *ward_policy_rules(int *n)
{
    *n = (int)(sizeof rules / sizeof rules[0]);
    return rules;
}

unsigned ward_policy_reads(ward_entry entry)
{
    unsigned f = 0;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (rules[i].entries & (unsigned)entry)
            f |= rules[i].when | rules[i].unless;
    return f;
}

ward_verdict ward_policy_decide(ward_entry entry, unsigned facts, int *rule)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        const ward_rule *r = &rules[i];
        if ((r->entries & (unsigned)entry) && (facts & r->when) == r->when &&
            (facts & r->unless) == 0) {
            if (rule)
                *rule = (int)i;
            return r->verdict;
        }
    }
    if (rule)
        *rule = -1;
    return WARD_ALLOW;
}

const char *ward_verdict_code(ward_verdict v)
{
    switch (v) {
    case WARD_ALLOW:
        return "ok";
    case WARD_REFUSE_BLOCKED_BY_TARGET:
        return "blocked_by_recipient";
    case WARD_REFUSE_YOU_BLOCKED:
        return "you_blocked";
    case WARD_REFUSE_MINOR_NOT_FOLLOWING:
        return "minor_not_following";
    case WARD_REFUSE_MINOR_HIDDEN:
        return "minor_hidden";
    case WARD_REFUSE_SUSPICIOUS:
        return "suspicious_account";
    case WARD_REFUSE_PRIVATE:
        return "recipient_private";
    case WARD_REFUSE_WITHHELD:
        return "withheld";
    default:
        return "refused";
    }
}

int ward_entry_hides(ward_entry entry)
{
    return (entry & SEE) != 0;
}
