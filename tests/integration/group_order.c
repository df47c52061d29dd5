/*
 * Group messages against a real `ward serve`, at the client library's
 * level, where the order in which messages are handled can be chosen:
 *   - a member handles another's 20 messages in reverse order (its key
 *     handed over first): each shown once, readable;
 *   - a member gets the messages before the key (handled last): each is
 *     kept, waiting, then shown readable when the key comes;
 *   - each message handled twice: shown once;
 *   - a member removed, with the keys it held, cannot read what is sent
 *     after its removal (copied to it from another member's queue);
 *   - a member added late cannot read a message sent before it joined;
 *   - a direct message sent in the group's context is shown only as a
 *     key handover, and a key handed over outside its group's context is
 *     not taken;
 *   - a member removed by another admin, whose holding of our key was
 *     never recorded, still makes us rotate;
 *   - one sender's share of the room for waiting messages.
 * Its accounts are oalice, obob, ocarol and odave.
 *   group_order URL WORKDIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group_internal.h"
#include "ward/crypto.h"
#include "wtest.h"

#define N_MSGS 20

static const char *url, *dir;

static ward_client *user(const char *name, int register_it)
{
    char path[4096], err[512] = "";
    ward_client *c = NULL;
    snprintf(path, sizeof path, "%s/%s.db", dir, name);
    REQUIRE(ward_client_new(&c, url, name, path, err, sizeof err) == WARD_OK);
    if (register_it) {
        char pw[64];
        snprintf(pw, sizeof pw, "password-of-%s", name);
        ward_err e = ward_client_register(c, pw, "1990-01-01", err,
                                          sizeof err);
        if (e)
            fprintf(stderr, "register %s: %s\n", name, err);
        REQUIRE(e == WARD_OK);
    }
    return c;
}

/* What a member was shown. */
typedef struct seen {
    int readable[N_MSGS + 1];   /* alice's "m<i>", shown readable */
    int waiting[N_MSGS + 1];    /* shown as waiting for the key */
    int unreadable;             /* shown as dropped */
    int other;                  /* anything else that is readable text */
    int events;
} seen;

static void on_msg(void *p, const ward_client_msg *m)
{
    seen *s = p;
    int i = 0;
    if (m->event) {
        s->events++;
        return;
    }
    if (m->problem == WARD_ERR_NO_SESSION) {
        s->waiting[0]++;
        return;
    }
    if (m->problem) {
        s->unreadable++;
        return;
    }
    if (m->text && sscanf(m->text, "m%d", &i) == 1 && i >= 1 && i <= N_MSGS &&
        strcmp(m->from, "oalice") == 0 && m->group > 0)
        s->readable[i]++;
    else
        s->other++;
}

/* The queued entries of |c| (the caller decrefs). */
static json_t *queued(ward_client *c)
{
    char err[512];
    int status = 0;
    json_t *reply = NULL;
    REQUIRE(ward_client_use_token(c, err, sizeof err) == WARD_OK);
    REQUIRE(ward_http_call(c->http, "GET", "/v1/messages?limit=500", NULL,
                           &status, &reply, err, sizeof err) == WARD_OK);
    REQUIRE(status == 200);
    json_t *arr = json_object_get(reply, "messages");
    REQUIRE(json_is_array(arr));
    json_incref(arr);
    json_decref(reply);
    return arr;
}

static void process(ward_client *c, json_t *v, seen *s)
{
    ward_identity *id = NULL;
    ward_prekeys *pk = NULL;
    char err[512] = "";
    int shown = 0, ack_it = 0;
    REQUIRE(ward_client_state_get_identity(c->state, &id) == WARD_OK);
    REQUIRE(ward_client_state_get_prekeys(c->state, &pk) == WARD_OK);
    ward_err e = ward_client_process(c, id, pk, v, on_msg, s, &shown, &ack_it,
                                     err, sizeof err);
    if (e)
        fprintf(stderr, "process: %s\n", err);
    CHECK_EQ_INT(e, WARD_OK);
    ward_prekeys_free(pk);
    ward_identity_free(id);
}

static int type_of(json_t *v)
{
    return (int)json_integer_value(json_object_get(v, "type"));
}

static void send_n(ward_client *c, int64_t gid, int from, int to)
{
    char err[512] = "", text[32];
    for (int i = from; i <= to; i++) {
        snprintf(text, sizeof text, "m%d", i);
        ward_err e = ward_client_group_send_text(c, gid, text, NULL, err,
                                                 sizeof err);
        if (e)
            fprintf(stderr, "send %s: %s\n", text, err);
        CHECK_EQ_INT(e, WARD_OK);
    }
}

int main(int argc, char **argv)
{
    char err[512] = "";
    REQUIRE(argc == 3);
    url = argv[1];
    dir = argv[2];
    REQUIRE(ward_crypto_init() == WARD_OK);
    ward_client *alice = user("oalice", 1), *bob = user("obob", 1),
                *carol = user("ocarol", 1), *dave = user("odave", 1);
    const char *members[] = {"obob", "ocarol"};
    ward_client_group g;
    REQUIRE(ward_client_group_create(alice, "Order", NULL, members, 2, &g,
                                     err, sizeof err) == WARD_OK);
    send_n(alice, g.id, 1, N_MSGS);

    /* carol: the key first, then the 20 messages last to first. */
    seen sc;
    memset(&sc, 0, sizeof sc);
    json_t *q = queued(carol), *v;
    size_t i;
    int groupmsgs = 0;
    json_array_foreach(q, i, v) {
        if (type_of(v) != WARD_MSG_SENDER_KEY)
            process(carol, v, &sc);
        else
            groupmsgs++;
    }
    CHECK_EQ_INT(groupmsgs, N_MSGS);
    for (size_t k = json_array_size(q); k-- > 0;)
        if (type_of(json_array_get(q, k)) == WARD_MSG_SENDER_KEY)
            process(carol, json_array_get(q, k), &sc);
    int once = 0;
    for (int k = 1; k <= N_MSGS; k++)
        once += sc.readable[k] == 1;
    CHECK_EQ_INT(once, N_MSGS);
    CHECK_EQ_INT(sc.waiting[0] + sc.unreadable + sc.other, 0);
    CHECK_EQ_INT(sc.events, 1); /* "alice created the group" */
    /* Everything again (an at-least-once redelivery): nothing shown. */
    seen again;
    memset(&again, 0, sizeof again);
    json_array_foreach(q, i, v) process(carol, v, &again);
    CHECK_EQ_INT(again.events + again.other + again.unreadable, 0);
    for (int k = 1; k <= N_MSGS; k++)
        CHECK_EQ_INT(again.readable[k], 0);
    json_decref(q);
    size_t n = 99;
    CHECK_EQ_INT(ward_client_receive(carol, on_msg, &again, &n, err,
                                     sizeof err),
                 WARD_OK);
    CHECK_EQ_INT(n, 0); /* handled already: acknowledged, not shown */

    /* bob: the messages before the key. Each waits, then shows. */
    seen sb;
    memset(&sb, 0, sizeof sb);
    q = queued(bob);
    json_array_foreach(q, i, v) if (type_of(v) == WARD_MSG_SENDER_KEY)
        process(bob, v, &sb);
    CHECK_EQ_INT(sb.waiting[0], N_MSGS);
    json_array_foreach(q, i, v) if (type_of(v) != WARD_MSG_SENDER_KEY)
        process(bob, v, &sb);
    once = 0;
    for (int k = 1; k <= N_MSGS; k++)
        once += sb.readable[k] == 1;
    CHECK_EQ_INT(once, N_MSGS);
    CHECK_EQ_INT(sb.unreadable + sb.other, 0);
    json_decref(q);
    CHECK_EQ_INT(ward_client_receive(bob, on_msg, &sb, NULL, err, sizeof err),
                 WARD_OK);

    /* A run that stopped after a key came and before the messages that
     * waited for it were tried: the next receive tries them. (Made here
     * by keeping a new message as waiting by hand.) */
    send_n(alice, g.id, 7, 7);
    q = queued(bob);
    json_t *m7 = NULL;
    json_array_foreach(q, i, v) if (type_of(v) == WARD_MSG_SENDER_KEY)
        m7 = v;
    REQUIRE(m7);
    char *text = json_dumps(m7, JSON_COMPACT);
    int64_t m7_id = json_integer_value(json_object_get(m7, "id"));
    REQUIRE(text);
    CHECK_EQ_INT(ward_gs_keep_pending(bob->state, m7_id, g.id, "oalice", text),
                 WARD_OK);
    CHECK_EQ_INT(ward_client_state_mark_seen(bob->state, m7_id), WARD_OK);
    free(text);
    json_decref(q);
    memset(&sb, 0, sizeof sb);
    CHECK_EQ_INT(ward_client_receive(bob, on_msg, &sb, NULL, err, sizeof err),
                 WARD_OK);
    CHECK_EQ_INT(sb.readable[7], 1);
    CHECK_EQ_INT(sb.waiting[0] + sb.unreadable + sb.other, 0);
    memset(&sc, 0, sizeof sc);
    CHECK_EQ_INT(ward_client_receive(carol, on_msg, &sc, NULL, err,
                                     sizeof err),
                 WARD_OK);
    CHECK_EQ_INT(sc.readable[7], 1);

    /* carol removed. She keeps the keys she had (her client has not seen
     * the removal yet); alice rotates before sending again. */
    ward_sender_key_info before, after;
    REQUIRE(ward_client_group_key_info(alice, g.id, &before) == WARD_OK);
    REQUIRE(ward_client_group_remove(alice, g.id, "ocarol", err,
                                     sizeof err) == WARD_OK);
    ward_client_group_sent sent;
    REQUIRE(ward_client_group_send_text(alice, g.id, "m1", &sent, err,
                                        sizeof err) == WARD_OK);
    CHECK(sent.rotated);
    CHECK_EQ_INT(sent.recipients, 1);
    REQUIRE(ward_client_group_key_info(alice, g.id, &after) == WARD_OK);
    CHECK(after.key_id != before.key_id && after.key_id == sent.key_id);
    /* bob's copy of it, handed to carol's client as if it were hers: her
     * record of alice's key knows only the old key id. */
    q = queued(bob);
    json_t *copy = NULL;
    json_array_foreach(q, i, v) if (type_of(v) == WARD_MSG_SENDER_KEY)
        copy = v;
    REQUIRE(copy);
    seen removed;
    memset(&removed, 0, sizeof removed);
    process(carol, copy, &removed);
    CHECK_EQ_INT(removed.readable[1], 0);
    CHECK_EQ_INT(removed.waiting[0] + removed.unreadable, 1);
    json_decref(q);
    /* bob reads it (the new key came first). */
    seen sb2;
    memset(&sb2, 0, sizeof sb2);
    CHECK_EQ_INT(ward_client_receive(bob, on_msg, &sb2, NULL, err,
                                     sizeof err),
                 WARD_OK);
    CHECK_EQ_INT(sb2.readable[1], 1);
    CHECK_EQ_INT(sb2.waiting[0] + sb2.unreadable, 0);
    /* carol's own queue: the removal, and no group message after it. */
    seen sc2;
    memset(&sc2, 0, sizeof sc2);
    q = queued(carol);
    json_array_foreach(q, i, v) CHECK(type_of(v) != WARD_MSG_SENDER_KEY);
    json_decref(q);
    CHECK_EQ_INT(ward_client_receive(carol, on_msg, &sc2, NULL, err,
                                     sizeof err),
                 WARD_OK);
    CHECK_EQ_INT(sc2.events, 1);
    CHECK_EQ_INT(ward_client_group_key_info(carol, g.id, &after),
                 WARD_ERR_NOT_FOUND); /* forgotten */

    /* dave joins after messages 2..5 were sent: one of them, copied from
     * bob's queue, cannot be read with the key dave is handed. */
    send_n(alice, g.id, 2, 5);
    q = queued(bob);
    copy = NULL;
    json_array_foreach(q, i, v) if (type_of(v) == WARD_MSG_SENDER_KEY &&
                                    !copy)
        copy = v;
    REQUIRE(copy);
    json_incref(copy);
    json_decref(q);
    REQUIRE(ward_client_group_add(alice, g.id, "odave", err, sizeof err) ==
            WARD_OK);
    send_n(alice, g.id, 6, 6);
    seen sd;
    memset(&sd, 0, sizeof sd);
    CHECK_EQ_INT(ward_client_receive(dave, on_msg, &sd, NULL, err,
                                     sizeof err),
                 WARD_OK);
    CHECK_EQ_INT(sd.readable[6], 1); /* after joining: read */
    process(dave, copy, &sd);        /* before: not */
    for (int k = 2; k <= 5; k++)
        CHECK_EQ_INT(sd.readable[k], 0);
    CHECK_EQ_INT(sd.unreadable + sd.waiting[0], 1);
    json_decref(copy);

    /* A direct message in the group's context may carry nothing but that
     * group's key (the server let it through under the group's rules): a
     * text in it is dropped unshown; the same text sent directly is
     * shown. */
    for (int context = 1; context >= 0; context--) {
        ward_content t;
        ward_content_init(&t);
        REQUIRE(ward_content_set_body(&t, "m9", 2) == WARD_OK);
        ward_err e = ward_client_send_content(alice, "obob",
                                              context ? g.id : 0, &t, NULL,
                                              err, sizeof err);
        if (e)
            fprintf(stderr, "send in context %d: %s\n", context, err);
        CHECK_EQ_INT(e, WARD_OK);
        ward_content_release(&t);
        seen sx;
        memset(&sx, 0, sizeof sx);
        CHECK_EQ_INT(ward_client_receive(bob, on_msg, &sx, NULL, err,
                                         sizeof err),
                     WARD_OK);
        CHECK_EQ_INT(sx.unreadable, context);
        CHECK_EQ_INT(sx.other, !context); /* direct: not a group's "m9" */
        CHECK_EQ_INT(sx.readable[9], 0);
    }

    /* A key handed over outside any group's context (or in another
     * group's) is not taken: nothing to read with it. */
    for (int context = 0; context < 2; context++) {
        ward_sender_key *sk = NULL;
        ward_buf skdm;
        ward_buf_init(&skdm, WARD_CONTENT_MAX_SKDM);
        REQUIRE(ward_sender_key_new(&sk) == WARD_OK &&
                ward_sender_key_create(sk, &skdm) == WARD_OK);
        ward_content t;
        ward_content_init(&t);
        memcpy(t.skdm, skdm.data, skdm.len);
        t.skdm_len = skdm.len;
        t.group_id_len = 8;
        ward_gs_content_id(g.id + 1, t.group_id); /* not g */
        ward_err e = ward_client_send_content(alice, "obob",
                                              context ? g.id : 0, &t, NULL,
                                              err, sizeof err);
        CHECK_EQ_INT(e, WARD_OK);
        ward_content_release(&t);
        ward_buf_release(&skdm);
        ward_sender_key_free(sk);
        seen sx;
        memset(&sx, 0, sizeof sx);
        CHECK_EQ_INT(ward_client_receive(bob, on_msg, &sx, NULL, err,
                                         sizeof err),
                     WARD_OK);
        CHECK_EQ_INT(sx.unreadable, 1);
        ward_sender_key *kept = NULL;
        CHECK_EQ_INT(ward_gs_get_key(bob->state, g.id + 1, "oalice", &kept),
                     WARD_ERR_NOT_FOUND);
        ward_sender_key_free(kept);
    }

    /* alice's answer to a handover was lost (no record that dave holds
     * her key); bob, made admin, removes dave, and alice learns it only
     * from the 409 of her next send: she still makes a new key. */
    send_n(alice, g.id, 10, 10);
    REQUIRE(ward_gs_drop_holder(alice->state, g.id, "odave") == WARD_OK);
    REQUIRE(ward_client_group_set_role(alice, g.id, "obob", 1, err,
                                       sizeof err) == WARD_OK);
    REQUIRE(ward_client_group_remove(bob, g.id, "odave", err, sizeof err) ==
            WARD_OK);
    REQUIRE(ward_client_group_key_info(alice, g.id, &before) == WARD_OK);
    REQUIRE(ward_client_group_send_text(alice, g.id, "m11", &sent, err,
                                        sizeof err) == WARD_OK);
    CHECK(sent.rotated);
    REQUIRE(ward_client_group_key_info(alice, g.id, &after) == WARD_OK);
    CHECK(after.key_id != before.key_id);

    /* The room for waiting messages: one sender in one group gets 1,000
     * of the device's 5,000; others keep theirs. */
    for (int64_t k = 0; k < WARD_GS_MAX_PENDING_SENDER; k++)
        CHECK_EQ_INT(ward_gs_keep_pending(carol->state, 900000000 + k, g.id,
                                          "ofake", "{}"),
                     WARD_OK);
    CHECK_EQ_INT(ward_gs_keep_pending(carol->state, 900100000, g.id, "ofake",
                                      "{}"),
                 WARD_ERR_LIMIT);
    CHECK_EQ_INT(ward_gs_keep_pending(carol->state, 900100001, g.id,
                                      "oother", "{}"),
                 WARD_OK);
    CHECK_EQ_INT(ward_gs_keep_pending(carol->state, 900100002, g.id + 1,
                                      "ofake", "{}"),
                 WARD_OK);
    for (int64_t k = 0; k < WARD_GS_MAX_PENDING_SENDER; k++)
        REQUIRE(ward_gs_drop_pending(carol->state, 900000000 + k) == WARD_OK);
    REQUIRE(ward_gs_drop_pending(carol->state, 900100001) == WARD_OK);
    REQUIRE(ward_gs_drop_pending(carol->state, 900100002) == WARD_OK);

    ward_client_free(alice);
    ward_client_free(bob);
    ward_client_free(carol);
    ward_client_free(dave);
    printf("group_order: %d passed, %d failed\n", wtest_pass, wtest_fail);
    return wtest_fail ? 1 : 0;
}
