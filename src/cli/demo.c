/* `ward demo`: a conversation between two in-process parties, showing what
 * a relaying server would see beside what the recipient reads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ward/proto.h"

typedef struct party {
    const char *name;
    ward_identity *id;
    ward_prekeys *prekeys;
    ward_session *session; /* with the other party */
} party;

static const char *lines[] = {
    "hi bob, it's alice",
    "hey alice! is this thing really end to end?",
    "only we hold the keys: the server relays ciphertext",
    "and each message has its own key?",
    "yes, the ratchet moves on with every message",
    "nice. see you tomorrow",
};

static int party_init(party *p, const char *name)
{
    memset(p, 0, sizeof *p);
    p->name = name;
    return ward_identity_generate(&p->id) || ward_prekeys_new(&p->prekeys) ||
           ward_prekeys_generate_signed(p->prekeys, p->id, 1, 0) ||
           ward_prekeys_generate_onetime(p->prekeys, 1, 10) ||
           ward_session_new(&p->session);
}

static void party_release(party *p)
{
    ward_session_free(p->session);
    ward_prekeys_free(p->prekeys);
    ward_identity_free(p->id);
}

static void hex_prefix(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

/* What the server can learn from a message: its type, its size, and the
 * unencrypted header fields. Never the text. */
static void show_server_view(int type, const ward_buf *msg)
{
    char key[17];
    ward_signal_msg sm;
    ward_prekey_msg pm;
    const char *tname = type == WARD_MSG_PREKEY ? "PreKeySignalMessage"
                                                : "SignalMessage";
    const ward_signal_msg *inner = NULL;
    if (type == WARD_MSG_PREKEY &&
        ward_prekey_msg_parse(&pm, msg->data, msg->len) == WARD_OK)
        inner = &pm.message;
    else if (type == WARD_MSG_SIGNAL &&
             ward_signal_msg_parse(&sm, msg->data, msg->len) == WARD_OK)
        inner = &sm;
    printf("  server sees: %-19s %4zu bytes, version 0x%02x", tname,
           msg->len, msg->data[0]);
    if (inner) {
        hex_prefix(inner->ratchet_key, 8, key);
        printf(", ratchet key %s.., counter %u, %zu ciphertext bytes\n", key,
               inner->counter, inner->ciphertext_len);
    } else {
        printf("\n");
    }
}

static int send_one(party *from, party *to, const char *text)
{
    ward_buf msg, pt;
    int type = 0, rc = CLI_FAIL;
    ward_buf_init(&msg, 0);
    ward_buf_init(&pt, 0);
    ward_err e = ward_session_encrypt(from->session, (const uint8_t *)text,
                                      strlen(text), &msg, &type);
    if (e) {
        cli_error("%s cannot encrypt: %s", from->name, ward_strerror(e));
        goto done;
    }
    printf("%s -> %s\n", from->name, to->name);
    show_server_view(type, &msg);
    e = ward_session_decrypt(to->session, to->id, to->prekeys, type,
                             msg.data, msg.len, &pt);
    if (e) {
        cli_error("%s cannot decrypt: %s", to->name, ward_strerror(e));
        goto done;
    }
    printf("  %s reads: \"%.*s\"\n", to->name, (int)pt.len,
           (const char *)pt.data);
    rc = CLI_OK;
done:
    ward_buf_release(&msg);
    ward_buf_release(&pt);
    return rc;
}

int cli_demo(int argc, char **argv)
{
    long count = 6;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--messages") == 0 && i + 1 < argc) {
            char *end;
            count = strtol(argv[++i], &end, 10);
            if (*end || count < 1 || count > 10000) {
                cli_error("--messages wants a number from 1 to 10000");
                return CLI_USAGE;
            }
        } else {
            cli_error("unknown option '%s'; see 'ward help demo'", argv[i]);
            return CLI_USAGE;
        }
    }

    party alice, bob;
    int rc = CLI_FAIL;
    if (party_init(&alice, "alice") || party_init(&bob, "bob")) {
        cli_error("cannot create keys");
        goto done;
    }
    ward_bundle bundle;
    uint8_t ik[WARD_PUBKEY_LEN];
    char hex[17];
    if (ward_prekeys_bundle(bob.prekeys, bob.id, 1, 1, 1, &bundle) ||
        ward_session_init_from_bundle(alice.session, alice.id, &bundle)) {
        cli_error("cannot start a session from bob's bundle");
        goto done;
    }
    ward_identity_public(bob.id, ik);
    hex_prefix(ik + 1, 8, hex);
    printf("bob publishes a prekey bundle (identity %s.., signed prekey 1, "
           "one-time prekey 1)\nalice fetches it and starts a session "
           "(X3DH)\n\n", hex);
    for (long i = 0; i < count; i++) {
        const char *text = lines[i % (long)(sizeof lines / sizeof *lines)];
        int r = i % 2 == 0 ? send_one(&alice, &bob, text)
                           : send_one(&bob, &alice, text);
        if (r != CLI_OK)
            goto done;
    }
    printf("\nbob has %zu one-time prekeys left; the server only ever held "
           "ciphertext\n", ward_prekeys_onetime_count(bob.prekeys));
    rc = CLI_OK;
done:
    party_release(&alice);
    party_release(&bob);
    return rc;
}
