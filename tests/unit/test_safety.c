/*
 * Child safety through the API (in-process, over a real SQLite store):
 *
 * - the contact policy's matrix: sender age band x recipient age band x
 *   follow state x block state x suspicious flag x privacy x entry point
 *   (bundle fetch, send over HTTP, send over the WebSocket path, find,
 *   suggestions, group add, a group message's copy, the key handover and
 *   bundle fetch in a group's context, follow), every cell, against an
 *   expectation written from the rules in plain conditions (not
 *   from the rule table);
 * - franking: the server's tag checked against the documented layout with
 *   libsodium directly, and every way of forging a report refused;
 * - suspended and banned accounts; the suspicious flag's window and
 *   threshold; the social endpoints.
 */
#include <sys/stat.h>

#include "api_harness.h"
#include "ward/safety.h"

static const uint8_t commit32[32] = {0x33};

static json_t *send_body(const char *to)
{
    static const uint8_t ct[] = {0x33, 1, 2, 3};
    return json_pack("{s:s,s:i,s:o,s:o}", "to", to, "type", 2, "body",
                     b64j(ct, sizeof ct), "commitment", b64j(commit32, 32));
}

/* ------------------------------------------------------------------------ */
/* The policy matrix.                                                       */

enum { E_BUNDLE, E_SEND_HTTP, E_SEND_WS, E_FIND, E_SUGGEST, E_GROUP_ADD,
       E_GROUP_COPY, E_GROUP_KEY, E_GROUP_BUNDLE, E_FOLLOW, E_N };
static const char *const entry_names[E_N] = {
    "bundle", "send (HTTP)", "send (WebSocket)", "find", "suggestions",
    "group add", "group message's copy", "key handover in a group",
    "bundle in a group", "follow"};

typedef struct cell {
    int s_minor, r_minor;
    int s_follows, r_follows;   /* s follows r; r follows s */
    int s_blocks, r_blocks;     /* s blocked r; r blocked s */
    int flag;                   /* 0 none, 1 sender flagged, 2 recipient */
    int r_private;
} cell;

/* What the rules say, as plain conditions: NULL for allowed, or
 * the refusal's code ("hidden" where the entry point hides instead). */
static const char *expected(const cell *c, int entry)
{
    /* Inside a group both share (however they came to), a member's
     * messages, and the key that makes them readable, reach another
     * exactly when... */
    if (entry == E_GROUP_COPY || entry == E_GROUP_KEY ||
        entry == E_GROUP_BUNDLE) {
        int copy = entry == E_GROUP_COPY;
        /* ...there is no block either way (a copy is withheld silently; a
         * handover refused as a direct message would be)... */
        if (c->r_blocks)
            return copy ? "withheld" : "blocked_by_recipient";
        if (c->s_blocks)
            return copy ? "withheld" : "you_blocked";
        /* ...and an adult's reach a minor only if the minor follows them,
         * without saying why. Privacy does not apply: the group was
         * joined. */
        if (!c->s_minor && c->r_minor && !c->r_follows)
            return "withheld";
        return NULL;
    }
    int reach = entry == E_BUNDLE || entry == E_SEND_HTTP ||
                entry == E_SEND_WS || entry == E_GROUP_ADD;
    int s_adult = !c->s_minor, r_adult = !c->r_minor;
    int s_suspicious = s_adult && c->flag == 1;
    int r_suspicious = r_adult && c->flag == 2;
    /* A block is absolute, both ways. */
    if (c->r_blocks)
        return reach ? "blocked_by_recipient" : "hidden";
    if (c->s_blocks)
        return reach ? "you_blocked" : "hidden";
    /* Private: only the accounts it follows reach or find it. */
    if (c->r_private && !c->r_follows)
        return reach ? "recipient_private" : "hidden";
    /* An adult cannot open a conversation with a minor who does not follow
     * them, nor find, follow or be shown one. */
    if (s_adult && c->r_minor && !c->r_follows)
        return reach ? "minor_not_following" : "hidden";
    /* A suspicious adult reaches no unconnected minor... */
    if (s_suspicious && c->r_minor && !c->r_follows)
        return reach ? "suspicious_account" : "hidden";
    /* ...and adds no minor to a group, not even one that follows it. */
    if (entry == E_GROUP_ADD && s_suspicious && c->r_minor)
        return "suspicious_account";
    /* ...and is never suggested to one. */
    if (entry == E_SUGGEST && c->s_minor && r_suspicious && !c->s_follows)
        return "hidden";
    return NULL;
}

static int listed_in_suggestions(const char *name)
{
    json_t *a = json_object_get(G.j, "suggestions");
    for (size_t i = 0; i < json_array_size(a); i++)
        if (strcmp(jstr(json_array_get(a, i), "username"), name) == 0)
            return 1;
    return 0;
}

static int cells_failed;

static void cell_fail(const cell *c, int entry, const char *want,
                      const char *got)
{
    if (++cells_failed <= 20)
        fprintf(stderr,
                "policy cell: sender %s, recipient %s, s->r %d, r->s %d, "
                "s blocked r %d, r blocked s %d, flag %s, private %d, "
                "%s: wanted %s, got %s\n",
                c->s_minor ? "minor" : "adult", c->r_minor ? "minor" : "adult",
                c->s_follows, c->r_follows, c->s_blocks, c->r_blocks,
                c->flag == 1 ? "sender" : c->flag == 2 ? "recipient" : "none",
                c->r_private, entry_names[entry], want ? want : "allowed",
                got);
}

/* A group of the cell's two accounts, made in the store: how they came
 * to share it does not matter to what it lets them reach. */
static ward_group matrix_group;

/* The outcome of one entry point as "allowed", a refusal code or
 * "hidden". */
static const char *outcome(const acct *s, const acct *r, int entry)
{
    static char buf[64];
    char path[96];
    switch (entry) {
    case E_BUNDLE:
        snprintf(path, sizeof path, "/v1/keys/%s", r->name);
        call("GET", path, s->auth, NULL);
        if (G.status == 200)
            return "allowed";
        break;
    case E_SEND_HTTP:
    case E_GROUP_KEY: {
        json_t *o = send_body(r->name);
        if (entry == E_GROUP_KEY)
            json_object_set_new(o, "group", json_integer(matrix_group.id));
        call_json("POST", "/v1/messages", s->auth, o, NULL);
        int deferred = G.rc == WARD_API_DEFERRED;
        if (commit_answer() == 201)
            return "allowed";
        if (deferred)
            return "deferred but not stored";
        break;
    }
    case E_SEND_WS: {
        ward_http_resp rs;
        rs.status = 0;
        ward_buf_init(&rs.body, 0);
        json_t *o = send_body(r->name);
        int rc = ward_api_send_json(G.api, s->id, o, NULL, &rs);
        json_decref(o);
        json_decref(G.j);
        G.j = json_loadb((const char *)rs.body.data, rs.body.len, 0, NULL);
        G.status = rs.status;
        ward_buf_release(&rs.body);
        if (rc == WARD_API_DEFERRED) {
            ward_api_flush(G.api);
            return "allowed";
        }
        break;
    }
    case E_FIND:
        snprintf(path, sizeof path, "/v1/users/%s", r->name);
        call("GET", path, s->auth, NULL);
        if (G.status == 200)
            return strcmp(jstr(G.j, "username"), r->name) == 0 ? "allowed"
                                                                : "wrong user";
        if (G.status == 404 && strcmp(ecode(), "no_such_user") == 0)
            return "hidden";
        break;
    case E_SUGGEST:
        call_full("GET", "/v1/suggestions", "limit=50", s->auth, NULL, 0,
                  NULL);
        if (G.status != 200)
            break;
        return listed_in_suggestions(r->name) ? "allowed" : "hidden";
    case E_GROUP_ADD: {
        /* A group of the sender's own, then the recipient added to it. */
        call("POST", "/v1/groups", s->auth, "{\"name\":\"matrix\"}");
        if (G.status != 201)
            break;
        snprintf(path, sizeof path, "/v1/groups/%lld/members",
                 jnum(G.j, "id"));
        call_json("POST", path, s->auth,
                  json_pack("{s:s}", "username", r->name), NULL);
        if (G.status == 201)
            return "allowed";
        break;
    }
    case E_GROUP_COPY: {
        json_t *o = json_pack("{s:i,s:o,s:o,s:I}", "type", 4, "body",
                              b64j(commit32, 8), "commitment",
                              b64j(commit32, 32), "epoch",
                              (json_int_t)matrix_group.epoch);
        snprintf(path, sizeof path, "/v1/groups/%lld/messages",
                 (long long)matrix_group.id);
        call_json("POST", path, s->auth, o, NULL);
        if (G.rc != WARD_API_DEFERRED)
            break;
        if (commit_answer() != 201)
            return "deferred but not stored";
        return jnum(G.j, "delivered") == 1   ? "allowed"
               : jnum(G.j, "withheld") == 1 ? "withheld"
                                             : "neither";
    }
    case E_GROUP_BUNDLE: {
        char q[40];
        snprintf(path, sizeof path, "/v1/keys/%s", r->name);
        snprintf(q, sizeof q, "group=%lld", (long long)matrix_group.id);
        call_full("GET", path, q, s->auth, NULL, 0, NULL);
        if (G.status == 200)
            return "allowed";
        break;
    }
    case E_FOLLOW:
        call_json("POST", "/v1/follows", s->auth,
                  json_pack("{s:s}", "username", r->name), NULL);
        if (G.status == 201 || G.status == 200)
            return "allowed";
        if (G.status == 404 && strcmp(ecode(), "no_such_user") == 0)
            return "hidden";
        break;
    }
    if (G.status == 403) {
        snprintf(buf, sizeof buf, "%s", ecode());
        return buf;
    }
    snprintf(buf, sizeof buf, "status %d %s", G.status, ecode());
    return buf;
}

static void run_cell(const cell *c, int n)
{
    char name[32];
    acct s, r, b, f;
    snprintf(name, sizeof name, "snd%d", n);
    mk_acct(&s, name, c->s_minor ? WARD_AGE_MINOR : WARD_AGE_ADULT);
    snprintf(name, sizeof name, "rcp%d", n);
    mk_acct(&r, name, c->r_minor ? WARD_AGE_MINOR : WARD_AGE_ADULT);
    snprintf(name, sizeof name, "brg%d", n);
    mk_acct(&b, name, WARD_AGE_ADULT);
    snprintf(name, sizeof name, "flg%d", n);
    mk_acct(&f, name, WARD_AGE_MINOR);
    give_keys(&r);
    REQUIRE(ward_store_account_set_private(G.st, r.id, c->r_private) ==
            WARD_OK);
    /* A minor blocked the flagged account yesterday. */
    if (c->flag)
        REQUIRE(ward_store_block(G.st, f.id, WARD_AGE_MINOR,
                                 c->flag == 1 ? s.id : r.id,
                                 G.f.now - DAY_MS, NULL) == WARD_OK);
    /* Blocks first: a block ends follows, and the matrix also covers
     * follows alongside a block (unreachable through the API, but the
     * policy must hold whatever the graph holds). */
    if (c->s_blocks)
        REQUIRE(ward_store_block(G.st, s.id, s.band, r.id, G.f.now, NULL) ==
                WARD_OK);
    if (c->r_blocks)
        REQUIRE(ward_store_block(G.st, r.id, r.band, s.id, G.f.now, NULL) ==
                WARD_OK);
    if (c->s_follows)
        REQUIRE(ward_store_follow(G.st, s.id, r.id, G.f.now, NULL) == WARD_OK);
    if (c->r_follows)
        REQUIRE(ward_store_follow(G.st, r.id, s.id, G.f.now, NULL) == WARD_OK);
    /* The path of a suggestion: s follows b, who follows r. */
    REQUIRE(ward_store_follow(G.st, s.id, b.id, G.f.now, NULL) == WARD_OK);
    REQUIRE(ward_store_follow(G.st, b.id, r.id, G.f.now, NULL) == WARD_OK);

    memset(&matrix_group, 0, sizeof matrix_group);
    snprintf(matrix_group.name, sizeof matrix_group.name, "both");
    matrix_group.created_by = s.id;
    matrix_group.created_at = G.f.now;
    REQUIRE(ward_store_group_create(G.st, &matrix_group, &r.id, 1, NULL,
                                    100) == WARD_OK);

    for (int e = 0; e < E_N; e++) { /* follow last: it changes the graph */
        const char *want = expected(c, e);
        /* Someone already followed is not suggested, whatever the rules. */
        if (e == E_SUGGEST && !want && c->s_follows)
            want = "hidden";
        const char *got = outcome(&s, &r, e);
        int ok = want ? strcmp(got, want) == 0 : strcmp(got, "allowed") == 0;
        if (ok)
            wtest_pass++;
        else {
            wtest_fail++;
            cell_fail(c, e, want, got);
        }
    }
    fake_clear(&G.f);
}

static void test_policy_matrix(void)
{
    ward_api_config cfg = test_cfg();
    cfg.send_burst = 1e6;
    env_open(&cfg);
    int n = 0;
    cell c;
    for (c.s_minor = 0; c.s_minor < 2; c.s_minor++)
        for (c.r_minor = 0; c.r_minor < 2; c.r_minor++)
            for (int fs = 0; fs < 4; fs++)
                for (int bs = 0; bs < 4; bs++)
                    for (c.flag = 0; c.flag < 3; c.flag++)
                        for (c.r_private = 0; c.r_private < 2; c.r_private++) {
                            c.s_follows = fs & 1, c.r_follows = fs >> 1;
                            c.s_blocks = bs & 1, c.r_blocks = bs >> 1;
                            run_cell(&c, n++);
                        }
    CHECK_EQ_INT(n, 2 * 2 * 4 * 4 * 3 * 2);
    fprintf(stderr, "policy matrix: %d cells x %d entry points, %d wrong\n",
            n, E_N, cells_failed);
    /* Refused contacts are counted for /metrics. */
    ward_api_stats st;
    ward_api_stats_get(G.api, &st);
    CHECK(st.policy_refused > 0);
    env_close();
}

/* The rule table itself: the first rule that applies decides, and every
 * refusal has a code of its own. */
static void test_policy_table(void)
{
    int n;
    const ward_rule *rules = ward_policy_rules(&n);
    CHECK(n >= 6);
    const char *codes[WARD_VERDICT_COUNT];
    for (int v = 0; v < WARD_VERDICT_COUNT; v++) {
        codes[v] = ward_verdict_code((ward_verdict)v);
        for (int w = 0; w < v; w++)
            CHECK(strcmp(codes[v], codes[w]) != 0);
    }
    for (int i = 0; i < n; i++)
        CHECK(rules[i].why && rules[i].why[0] && rules[i].verdict != WARD_ALLOW);
    int rule = 99;
    CHECK_EQ_INT(ward_policy_decide(WARD_ENTRY_SEND, 0, &rule), WARD_ALLOW);
    CHECK_EQ_INT(rule, -1);
    /* A block outranks the minor rule. */
    CHECK_EQ_INT(ward_policy_decide(WARD_ENTRY_SEND,
                                    WARD_FACT_TARGET_MINOR |
                                        WARD_FACT_TARGET_BLOCKED,
                                    &rule),
                 WARD_REFUSE_BLOCKED_BY_TARGET);
    CHECK_EQ_INT(rule, 0);
    /* The group entry point is governed like a send. */
    CHECK_EQ_INT(ward_policy_decide(WARD_ENTRY_GROUP_ADD,
                                    WARD_FACT_TARGET_MINOR, NULL),
                 WARD_REFUSE_MINOR_NOT_FOLLOWING);
    CHECK(ward_entry_hides(WARD_ENTRY_FIND) &&
          ward_entry_hides(WARD_ENTRY_SUGGEST) &&
          ward_entry_hides(WARD_ENTRY_FOLLOW));
    CHECK(!ward_entry_hides(WARD_ENTRY_SEND) &&
          !ward_entry_hides(WARD_ENTRY_BUNDLE));
}

/* ------------------------------------------------------------------------ */
/* Franking and reports.                                                    */

typedef struct sent {
    uint8_t content[512];
    size_t content_len;
    uint8_t kf[32], commitment[32], tag[32];
    uint32_t key_id;
    int64_t id, from_id, server_time;
} sent;

/* Content bytes with a body and franking key |kf|. */
static size_t make_content(uint8_t *out, size_t cap, const char *text,
                           const uint8_t kf[32])
{
    ward_content c;
    ward_content_init(&c);
    REQUIRE(ward_content_set_body(&c, text, strlen(text)) == WARD_OK);
    c.has_franking_key = 1;
    memcpy(c.franking_key, kf, 32);
    c.sent_at = (uint64_t)G.f.now;
    ward_buf b;
    ward_buf_init(&b, 0);
    REQUIRE(ward_content_encode(&c, &b) == WARD_OK);
    REQUIRE(b.len <= cap);
    memcpy(out, b.data, b.len);
    size_t n = b.len;
    ward_buf_release(&b);
    ward_content_release(&c);
    return n;
}

/* The commitment, computed with libsodium directly (not ward's code). */
static void commit_of(uint8_t out[32], const uint8_t kf[32],
                      const uint8_t *p, size_t n)
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, kf, 32);
    crypto_auth_hmacsha256_update(&st, p, n);
    crypto_auth_hmacsha256_final(&st, out);
}

/* |from| sends |text| to |to|; |out| gets what the recipient would keep. */
static void send_franked(const acct *from, const acct *to, const char *text,
                         sent *out)
{
    memset(out, 0, sizeof *out);
    randombytes_buf(out->kf, 32);
    out->content_len = make_content(out->content, sizeof out->content, text,
                                    out->kf);
    commit_of(out->commitment, out->kf, out->content, out->content_len);
    /* The server never sees the content: any ciphertext will do. */
    static const uint8_t ct[] = {0x33, 9, 9, 9};
    size_t before = G.f.n_dl;
    REQUIRE(call_json("POST", "/v1/messages", from->auth,
                      json_pack("{s:s,s:i,s:o,s:o}", "to", to->name, "type", 2,
                                "body", b64j(ct, sizeof ct), "commitment",
                                b64j(out->commitment, 32)),
                      NULL) == 0 &&
            G.rc == WARD_API_DEFERRED);
    ward_api_flush(G.api);
    REQUIRE(G.f.n_dl == before + 1);
    const ward_store_msg *m = &G.f.dl[before].m;
    REQUIRE(m->has_tag);
    memcpy(out->tag, m->tag, 32);
    out->key_id = m->key_id;
    out->id = m->id;
    out->from_id = m->sender;
    out->server_time = m->server_time;
}

/* The server's key |id| read from its file, base64 after "key ". */
static void read_server_key(uint32_t id, uint8_t key[32])
{
    char path[128], text[512];
    snprintf(path, sizeof path, "%s/franking/%u.key", G.dir, id);
    FILE *f = fopen(path, "r");
    REQUIRE(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    const char *k = strstr(text, "\nkey ");
    REQUIRE(k);
    k += 5;
    size_t len = strcspn(k, "\n"), got = 0;
    REQUIRE(sodium_base642bin(key, 32, k, len, NULL, &got, NULL,
                              sodium_base64_VARIANT_ORIGINAL) == 0 &&
            got == 32);
}

static void be64(uint8_t *p, int64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static json_t *report_of(const sent *m, const char *reason)
{
    return json_pack(
        "{s:s,s:s,s:{s:I,s:I,s:I,s:o,s:o,s:o,s:I}}", "kind", "message",
        "reason", reason, "message", "id", (json_int_t)m->id, "from_id",
        (json_int_t)m->from_id, "server_time", (json_int_t)m->server_time,
        "content", b64j(m->content, m->content_len), "commitment",
        b64j(m->commitment, 32), "tag", b64j(m->tag, 32), "key_id",
        (json_int_t)m->key_id);
}

static int counter(void *ctx, const ward_report *r)
{
    (void)r;
    ++*(size_t *)ctx;
    return 0;
}

static size_t count_reports(void)
{
    size_t n = 0;
    ward_report_filter f = {.status = -1, .priority = -1};
    REQUIRE(ward_store_report_list(G.st, &f, 0, 1000, counter, &n) ==
            WARD_OK);
    return n;
}

static int64_t refused_counter(void)
{
    int64_t v = -1;
    REQUIRE(ward_store_counter_get(G.st, "reports_refused", &v) == WARD_OK);
    return v;
}

/* A forged report: refused with |status| and |code|, nothing stored, and
 * the refusal counted. */
static void check_forged(const char *what, const acct *by, json_t *report,
                         int status, const char *code)
{
    size_t before = count_reports();
    int64_t refused = refused_counter();
    call_json("POST", "/v1/reports", by->auth, report, NULL);
    if (G.status != status || strcmp(ecode(), code) != 0)
        fprintf(stderr, "forged report (%s): %d %s, wanted %d %s\n", what,
                G.status, ecode(), status, code);
    CHECK_EQ_INT(G.status, status);
    CHECK_STR(ecode(), code);
    CHECK_EQ_INT(count_reports(), before);
    CHECK_EQ_INT(refused_counter(), refused + 1);
}

static void test_franking(void)
{
    ward_api_config cfg = test_cfg();
    env_open_keys(&cfg, 1000 * DAY_MS, 10 * DAY_MS);
    acct al, bo, ca;
    mk_acct(&al, "alice", WARD_AGE_ADULT);
    mk_acct(&bo, "bobby", WARD_AGE_MINOR);
    mk_acct(&ca, "carol", WARD_AGE_ADULT);
    REQUIRE(ward_store_follow(G.st, bo.id, al.id, G.f.now, NULL) == WARD_OK);
    REQUIRE(ward_store_follow(G.st, ca.id, al.id, G.f.now, NULL) == WARD_OK);

    sent m1, m2;
    G.f.now += 1000;
    send_franked(&al, &bo, "first message", &m1);
    G.f.now += 1000;
    send_franked(&al, &bo, "second message", &m2);

    /* The tag is the documented HMAC, recomputed here from the key file. */
    uint8_t key[32], msg[13 + 32 + 24], want[32];
    read_server_key(m1.key_id, key);
    memcpy(msg, "ward-frank-v1", 13);
    memcpy(msg + 13, m1.commitment, 32);
    be64(msg + 45, al.id);
    be64(msg + 53, bo.id);
    be64(msg + 61, m1.server_time);
    crypto_auth_hmacsha256_state hs;
    crypto_auth_hmacsha256_init(&hs, key, 32);
    crypto_auth_hmacsha256_update(&hs, msg, sizeof msg);
    crypto_auth_hmacsha256_final(&hs, want);
    CHECK_MEM(m1.tag, want, 32);
    sodium_memzero(key, sizeof key);
    /* and delivered with the message */
    call_full("GET", "/v1/messages", NULL, bo.auth, NULL, 0, NULL);
    json_t *first = json_array_get(json_object_get(G.j, "messages"), 0);
    uint8_t t[32];
    CHECK_EQ_INT(unb64(jstr(first, "tag"), t, sizeof t), 32);
    CHECK_MEM(t, m1.tag, 32);
    CHECK_EQ_INT(jnum(first, "key_id"), m1.key_id);
    CHECK_EQ_INT(jnum(first, "from_id"), al.id);

    /* Every way of forging is refused. */
    sent f;
    f = m1; /* changed content, same commitment */
    f.content_len = make_content(f.content, sizeof f.content, "something "
                                 "else entirely", f.kf);
    check_forged("changed content", &bo, report_of(&f, "grooming"), 422,
                 "report_unverified");
    f = m1; /* changed content with a matching new commitment */
    f.content_len = make_content(f.content, sizeof f.content, "invented",
                                 f.kf);
    commit_of(f.commitment, f.kf, f.content, f.content_len);
    check_forged("changed content, recommitted", &bo,
                 report_of(&f, "grooming"), 422, "report_unverified");
    f = m1;
    f.from_id = ca.id;
    check_forged("changed sender", &bo, report_of(&f, "grooming"), 422,
                 "report_unverified");
    check_forged("changed recipient (someone else reports it)", &ca,
                 report_of(&m1, "grooming"), 422, "report_unverified");
    f = m1;
    f.server_time += 1;
    check_forged("changed time", &bo, report_of(&f, "grooming"), 422,
                 "report_unverified");
    f = m1;
    memcpy(f.tag, m2.tag, 32);
    check_forged("a tag from another message", &bo, report_of(&f, "spam"),
                 422, "report_unverified");
    f = m1; /* a wrong franking key inside otherwise the same content */
    randombytes_buf(f.kf, 32);
    f.content_len = make_content(f.content, sizeof f.content,
                                 "first message", f.kf);
    check_forged("a wrong franking key", &bo, report_of(&f, "spam"), 422,
                 "report_unverified");
    f = m1;
    f.key_id += 7;
    check_forged("an unknown server key", &bo, report_of(&f, "spam"), 422,
                 "franking_key_expired");
    f = m1;
    f.content[0] ^= 0xff;
    check_forged("content that does not decode", &bo, report_of(&f, "spam"),
                 422, "report_unverified");
    json_t *bad = report_of(&m1, "bad_reason");
    check_forged("unknown reason", &bo, bad, 400, "invalid_report");
    bad = report_of(&m1, "spam");
    json_object_set_new(json_object_get(bad, "message"), "extra",
                        json_true());
    call_json("POST", "/v1/reports", bo.auth, bad, NULL);
    CHECK_ERR(400, "unknown_field");

    /* The real report is accepted, high priority (the reporter is a
     * minor), and kept with what it revealed. */
    call_json("POST", "/v1/reports", bo.auth, report_of(&m1, "grooming"),
              NULL);
    CHECK_EQ_INT(G.status, 201);
    CHECK_EQ_INT(jbool(G.j, "verified"), 1);
    CHECK_STR(jstr(G.j, "priority"), "high");
    CHECK_STR(jstr(G.j, "attachment"), "none");
    int64_t rid = jnum(G.j, "id");
    ward_report r;
    ward_buf cb;
    ward_buf_init(&cb, 1 << 20);
    CHECK_EQ_INT(ward_store_report_get(G.st, rid, &r, &cb), WARD_OK);
    CHECK(r.reporter == bo.id && r.subject == al.id &&
          r.reason == WARD_REASON_GROOMING && r.message_id == m1.id &&
          r.priority == WARD_PRIORITY_HIGH && r.subject_band == WARD_AGE_ADULT);
    CHECK(r.content_len == m1.content_len &&
          memcmp(r.content, m1.content, m1.content_len) == 0);
    ward_buf_release(&cb);
    /* An adult's report about an adult is normal priority. */
    sent m3;
    send_franked(&al, &ca, "hello carol", &m3);
    call_json("POST", "/v1/reports", ca.auth, report_of(&m3, "spam"), NULL);
    CHECK_EQ_INT(G.status, 201);
    CHECK_STR(jstr(G.j, "priority"), "normal");

    /* Rotation: the old key still verifies within its retention... */
    char err[256];
    uint32_t nid = 0;
    G.f.now += DAY_MS;
    CHECK_EQ_INT(ward_frank_keys_rotate_dir(G.dir, G.f.now, &nid, err,
                                            sizeof err),
                 WARD_OK);
    CHECK_EQ_INT(nid, m1.key_id + 1);
    CHECK_EQ_INT(ward_frank_keys_reload(G.frank, G.f.now, err, sizeof err),
                 WARD_OK);
    sent m4;
    send_franked(&al, &bo, "after the rotation", &m4);
    CHECK_EQ_INT(m4.key_id, nid);
    call_json("POST", "/v1/reports", bo.auth, report_of(&m2, "spam"), NULL);
    CHECK_EQ_INT(G.status, 201);
    /* ...and not once it has expired (10 days after the new key). */
    G.f.now += 11 * DAY_MS;
    CHECK_EQ_INT(ward_frank_keys_reload(G.frank, G.f.now, err, sizeof err),
                 WARD_OK);
    CHECK_EQ_INT(ward_frank_keys_count(G.frank), 1);
    check_forged("an expired server key", &ca, report_of(&m3, "spam"), 422,
                 "franking_key_expired");
    call_json("POST", "/v1/reports", bo.auth, report_of(&m4, "spam"), NULL);
    CHECK_EQ_INT(G.status, 201);
    char path[160];
    snprintf(path, sizeof path, "%s/franking/%u.key", G.dir, m1.key_id);
    CHECK(access(path, F_OK) != 0); /* its file is gone too */

    /* Account reports: no message, about an existing account. */
    call_json("POST", "/v1/reports", ca.auth,
              json_pack("{s:s,s:s,s:s,s:s}", "kind", "account", "reason",
                        "other_harassment", "username", "alice", "note",
                        "keeps messaging me"),
              NULL);
    CHECK_EQ_INT(G.status, 201);
    check_forged("account report about nobody", &ca,
                 json_pack("{s:s,s:s,s:s}", "kind", "account", "reason",
                           "spam", "username", "nobody"),
                 404, "no_such_user");
    check_forged("account report about oneself", &ca,
                 json_pack("{s:s,s:s,s:s}", "kind", "account", "reason",
                           "spam", "username", "carol"),
                 400, "invalid_report");
    char longnote[1100];
    memset(longnote, 'x', sizeof longnote - 1);
    longnote[sizeof longnote - 1] = 0;
    check_forged("a note over 1000 characters", &ca,
                 json_pack("{s:s,s:s,s:s,s:s}", "kind", "account", "reason",
                           "spam", "username", "alice", "note", longnote),
                 400, "invalid_report");
    ward_api_stats st;
    ward_api_stats_get(G.api, &st);
    CHECK_EQ_INT(st.reports_in, 5);
    CHECK_EQ_INT(st.reports_refused, (uint64_t)refused_counter());
    env_close();
}

/* ------------------------------------------------------------------------ */
/* Suspended and banned accounts.                                           */

static void test_status(void)
{
    ward_api_config cfg = test_cfg();
    cfg.token_ttl_ms = 10000 * DAY_MS; /* the clock moves far here */
    env_open(&cfg);
    user u;
    mk_user(&u, "mallory");
    acct other;
    mk_acct(&other, "victim", WARD_AGE_ADULT);

    CHECK_EQ_INT(ward_api_set_account_status(G.api, u.id,
                                             WARD_STATUS_SUSPENDED,
                                             G.f.now + DAY_MS),
                 WARD_OK);
    CHECK(G.f.n_kicked == 1 && G.f.kicked[0] == u.id);
    call("GET", "/v1/accounts/me", u.auth, NULL);
    CHECK_ERR(403, "account_suspended");
    CHECK_EQ_INT(jnum(json_object_get(G.j, "error"), "until"),
                 G.f.now + DAY_MS);
    call_json("POST", "/v1/messages", u.auth, send_body("victim"), NULL);
    CHECK_ERR(403, "account_suspended");
    int64_t id;
    CHECK_EQ_INT(ward_api_authenticate(G.api, u.auth, &id),
                 WARD_ERR_FORBIDDEN);
    /* Logging in is refused with the reason, but only with the right
     * password. */
    CHECK_EQ_INT(login_raw(u.name, u.pw), 403);
    CHECK_STR(ecode(), "account_suspended");
    CHECK_EQ_INT(login_raw(u.name, "wrong-password-1"), 401);
    /* A suspension ends by itself. */
    G.f.now += DAY_MS;
    call("GET", "/v1/accounts/me", u.auth, NULL);
    CHECK_EQ_INT(G.status, 200);
    CHECK_STR(jstr(G.j, "status"), "active");

    CHECK_EQ_INT(ward_api_set_account_status(G.api, u.id, WARD_STATUS_BANNED,
                                             0),
                 WARD_OK);
    CHECK_EQ_INT(G.f.n_kicked, 2);
    static const char *const paths[][2] = {
        {"GET", "/v1/accounts/me"}, {"GET", "/v1/keys"},
        {"GET", "/v1/messages"},    {"GET", "/v1/follows"},
        {"GET", "/v1/suggestions"}, {"GET", "/v1/users/victim"},
        {"GET", "/v1/keys/victim"}, {"DELETE", "/v1/sessions"}};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        call(paths[i][0], paths[i][1], u.auth, NULL);
        CHECK_ERR(403, "account_banned");
    }
    G.f.now += 1000 * DAY_MS;
    call("GET", "/v1/accounts/me", u.auth, NULL);
    CHECK_ERR(403, "account_banned"); /* a ban does not end */
    CHECK_EQ_INT(login_raw(u.name, u.pw), 403);
    CHECK_STR(ecode(), "account_banned");
    /* Lifted by an admin. */
    CHECK_EQ_INT(ward_api_set_account_status(G.api, u.id, WARD_STATUS_ACTIVE,
                                             0),
                 WARD_OK);
    CHECK_EQ_INT(G.f.n_kicked, 2);
    CHECK_EQ_INT(login_raw(u.name, u.pw), 200);
    env_close();
}

/* ------------------------------------------------------------------------ */
/* The suspicious flag: from blocks and reports by minors, in a window, at
 * a threshold.                                                             */

/* Is |adult| suggested to |kid| (who follows |bridge|, who follows the
 * adult)? */
static int suggested(const acct *kid, const char *name)
{
    call_full("GET", "/v1/suggestions", NULL, kid->auth, NULL, 0, NULL);
    REQUIRE(G.status == 200);
    return listed_in_suggestions(name);
}

static void test_suspicious(void)
{
    ward_api_config cfg = test_cfg();
    cfg.suspicious_signals = 2;
    cfg.suspicious_window_ms = 30 * DAY_MS;
    env_open(&cfg);
    acct adult, kid, br, m1, m2;
    mk_acct(&adult, "adult", WARD_AGE_ADULT);
    mk_acct(&kid, "kid01", WARD_AGE_MINOR);
    mk_acct(&br, "bridge", WARD_AGE_ADULT);
    mk_acct(&m1, "minor1", WARD_AGE_MINOR);
    mk_acct(&m2, "minor2", WARD_AGE_MINOR);
    REQUIRE(ward_store_follow(G.st, kid.id, br.id, G.f.now, NULL) == WARD_OK);
    REQUIRE(ward_store_follow(G.st, br.id, adult.id, G.f.now, NULL) ==
            WARD_OK);
    CHECK(suggested(&kid, "adult"));
    /* One minor's block: under the threshold of two. */
    call_json("POST", "/v1/blocks", m1.auth,
              json_pack("{s:s}", "username", "adult"), NULL);
    CHECK_EQ_INT(G.status, 201);
    CHECK(suggested(&kid, "adult"));
    /* A second minor's report: flagged. */
    call_json("POST", "/v1/reports", m2.auth,
              json_pack("{s:s,s:s,s:s}", "kind", "account", "reason",
                        "grooming", "username", "adult"),
              NULL);
    CHECK_EQ_INT(G.status, 201);
    CHECK_STR(jstr(G.j, "priority"), "high");
    CHECK(!suggested(&kid, "adult"));
    /* Lifting the block does not undo what happened in the window. */
    call("DELETE", "/v1/blocks/adult", m1.auth, NULL);
    CHECK_EQ_INT(G.status, 204);
    CHECK(!suggested(&kid, "adult"));
    /* The window passes. */
    G.f.now += 30 * DAY_MS + 1;
    CHECK(suggested(&kid, "adult"));
    env_close();
}

/* ------------------------------------------------------------------------ */
/* The social endpoints.                                                    */

static void test_social_api(void)
{
    ward_api_config cfg = test_cfg();
    env_open(&cfg);
    user an, be;
    mk_user(&an, "anna");
    mk_user(&be, "bert");
    call("GET", "/v1/accounts/me", an.auth, NULL);
    CHECK_EQ_INT(G.status, 200);
    CHECK_STR(jstr(G.j, "age_band"), "adult");
    CHECK_EQ_INT(jbool(G.j, "private"), 0);
    CHECK_EQ_INT(jnum(G.j, "id"), an.id);

    call_json("POST", "/v1/follows", an.auth,
              json_pack("{s:s}", "username", "bert"), NULL);
    CHECK_EQ_INT(G.status, 201);
    call_json("POST", "/v1/follows", an.auth,
              json_pack("{s:s}", "username", "bert"), NULL);
    CHECK_EQ_INT(G.status, 200); /* already */
    call_json("POST", "/v1/follows", an.auth,
              json_pack("{s:s}", "username", "anna"), NULL);
    CHECK_ERR(400, "self");
    call_json("POST", "/v1/follows", an.auth,
              json_pack("{s:s}", "username", "nobody"), NULL);
    CHECK_ERR(404, "no_such_user");
    call_json("POST", "/v1/follows", an.auth, json_pack("{s:i}", "username", 3),
              NULL);
    CHECK_ERR(400, "invalid_username");
    call_json("POST", "/v1/follows", an.auth,
              json_pack("{s:s,s:b}", "username", "bert", "x", 1), NULL);
    CHECK_ERR(400, "unknown_field");
    call("GET", "/v1/follows", be.auth, NULL);
    CHECK_EQ_INT(G.status, 200);
    CHECK_EQ_INT(json_array_size(json_object_get(G.j, "followers")), 1);
    CHECK_STR(json_string_value(
                  json_array_get(json_object_get(G.j, "followers"), 0)),
              "anna");
    call("GET", "/v1/users/anna", be.auth, NULL);
    CHECK_EQ_INT(G.status, 200);
    CHECK_EQ_INT(jbool(G.j, "follows_you"), 1);
    CHECK_EQ_INT(jbool(G.j, "you_follow"), 0);
    call("GET", "/v1/users/no.such", be.auth, NULL);
    CHECK_ERR(404, "no_such_user");

    /* Privacy: bert goes private; anna, whom he does not follow, can no
     * longer reach or find him. */
    call("PATCH", "/v1/accounts/me", be.auth, "{\"private\":true}");
    CHECK_EQ_INT(G.status, 200);
    CHECK_EQ_INT(jbool(G.j, "private"), 1);
    call("PATCH", "/v1/accounts/me", be.auth, "{\"private\":1}");
    CHECK_ERR(400, "invalid_settings");
    call("GET", "/v1/users/bert", an.auth, NULL);
    CHECK_ERR(404, "no_such_user");
    call_json("POST", "/v1/messages", an.auth, send_body("bert"), NULL);
    CHECK_ERR(403, "recipient_private");
    /* Blocks: absolute, lifted by the blocker only. */
    call_json("POST", "/v1/blocks", be.auth,
              json_pack("{s:s}", "username", "anna"), NULL);
    CHECK_EQ_INT(G.status, 201);
    call("GET", "/v1/follows", an.auth, NULL);
    CHECK_EQ_INT(json_array_size(json_object_get(G.j, "following")), 0);
    call_json("POST", "/v1/messages", be.auth, send_body("anna"), NULL);
    CHECK_ERR(403, "you_blocked");
    call_json("POST", "/v1/messages", an.auth, send_body("bert"), NULL);
    CHECK_ERR(403, "blocked_by_recipient");
    call("GET", "/v1/blocks", be.auth, NULL);
    CHECK_EQ_INT(json_array_size(json_object_get(G.j, "blocked")), 1);
    call("DELETE", "/v1/blocks/bert", an.auth, NULL);
    CHECK_ERR(404, "not_blocked");
    call("DELETE", "/v1/follows/bert", an.auth, NULL);
    CHECK_ERR(404, "not_following");
    call("DELETE", "/v1/blocks/anna", be.auth, NULL);
    CHECK_EQ_INT(G.status, 204);
    call_full("GET", "/v1/suggestions", "limit=0", an.auth, NULL, 0, NULL);
    CHECK_ERR(400, "invalid_query");
    call_full("GET", "/v1/suggestions", "limit=9999", an.auth, NULL, 0, NULL);
    CHECK_ERR(400, "invalid_query");
    call("PUT", "/v1/follows", an.auth, NULL);
    CHECK_ERR(405, "method_not_allowed");
    call("GET", "/v1/follows/bert", an.auth, NULL);
    CHECK_ERR(405, "method_not_allowed");
    env_close();
}

/* ------------------------------------------------------------------------ */
/* The franking keys on disk.                                               */

static void test_frank_keys(void)
{
    char dir[] = "/tmp/ward_test_fkeys_XXXXXX", path[128], err[256];
    REQUIRE(mkdtemp(dir));
    ward_frank_keys *k = NULL;
    CHECK_EQ_INT(ward_frank_keys_open(&k, dir, T0, 10 * DAY_MS, DAY_MS, err,
                                      sizeof err),
                 WARD_OK);
    struct stat sb;
    snprintf(path, sizeof path, "%s/franking", dir);
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0700);
    snprintf(path, sizeof path, "%s/franking/1.key", dir);
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    uint32_t id;
    const uint8_t *key, *again;
    ward_frank_keys_current(k, &id, &key);
    CHECK_EQ_INT(id, 1);
    CHECK_EQ_INT(ward_frank_keys_lookup(k, 1, T0 + 1000 * DAY_MS, &again),
                 WARD_OK); /* the newest key never expires */
    CHECK_EQ_INT(ward_frank_keys_lookup(k, 2, T0, &again), WARD_ERR_NOT_FOUND);
    /* Reopening reads the same key. */
    uint8_t first[32];
    memcpy(first, key, 32);
    ward_frank_keys_free(k);
    CHECK_EQ_INT(ward_frank_keys_open(&k, dir, T0 + 1, 10 * DAY_MS, DAY_MS,
                                      err, sizeof err),
                 WARD_OK);
    ward_frank_keys_current(k, &id, &key);
    CHECK(id == 1 && memcmp(first, key, 32) == 0);
    /* Scheduled rotation, then expiry of the old key. */
    CHECK_EQ_INT(ward_frank_keys_reload(k, T0 + 10 * DAY_MS, err, sizeof err),
                 WARD_OK);
    ward_frank_keys_current(k, &id, &key);
    CHECK(id == 2 && memcmp(first, key, 32) != 0);
    CHECK_EQ_INT(ward_frank_keys_lookup(k, 1, T0 + 10 * DAY_MS + 5, &again),
                 WARD_OK);
    CHECK_EQ_INT(ward_frank_keys_lookup(k, 1, T0 + 11 * DAY_MS, &again),
                 WARD_ERR_NOT_FOUND);
    CHECK_EQ_INT(ward_frank_keys_reload(k, T0 + 11 * DAY_MS, err, sizeof err),
                 WARD_OK);
    CHECK_EQ_INT(ward_frank_keys_count(k), 1);
    CHECK(access(path, F_OK) != 0);
    ward_frank_keys_free(k);
    /* A truncated key file is refused with a reason, and a reload keeps
     * the keys it had. */
    CHECK_EQ_INT(ward_frank_keys_open(&k, dir, T0 + 11 * DAY_MS, 10 * DAY_MS,
                                      DAY_MS, err, sizeof err),
                 WARD_OK);
    snprintf(path, sizeof path, "%s/franking/2.key", dir);
    REQUIRE(truncate(path, 30) == 0);
    CHECK_EQ_INT(ward_frank_keys_reload(k, T0 + 11 * DAY_MS, err, sizeof err),
                 WARD_ERR_MALFORMED);
    CHECK(strstr(err, "2.key") != NULL);
    CHECK_EQ_INT(ward_frank_keys_count(k), 1);
    ward_frank_keys_free(k);
    ward_frank_keys *k2 = NULL;
    CHECK_EQ_INT(ward_frank_keys_open(&k2, dir, T0 + 11 * DAY_MS, 10 * DAY_MS,
                                      DAY_MS, err, sizeof err),
                 WARD_ERR_MALFORMED);
    CHECK(k2 == NULL);
    unlink(path);
    snprintf(path, sizeof path, "%s/franking", dir);
    CHECK(rmdir(path) == 0);
    CHECK(rmdir(dir) == 0);
}

/* A minor registered the day before their 18th birthday is an adult once
 * the server's housekeeping has run on the day. */
static void test_coming_of_age(void)
{
    ward_api_config cfg = test_cfg();
    cfg.token_ttl_ms = 10 * DAY_MS;
    env_open(&cfg);
    user t;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "teen");
    snprintf(t.pw, sizeof t.pw, "teen-password");
    REQUIRE(call_json("POST", "/v1/accounts", NULL,
                      reg_body(t.name, t.pw, "2008-11-24"), NULL) == 201);
    CHECK_STR(jstr(G.j, "age_band"), "minor");
    CHECK_EQ_INT(jbool(G.j, "private"), 1);
    login_as(&t);
    size_t n = 9;
    CHECK_EQ_INT(ward_store_promote_adults(G.st, G.f.now, &n), WARD_OK);
    CHECK_EQ_INT(n, 0);
    G.f.now = T0 + DAY_MS; /* 2026-11-24 12:00 UTC */
    CHECK_EQ_INT(ward_store_promote_adults(G.st, G.f.now, &n), WARD_OK);
    CHECK_EQ_INT(n, 1);
    call("GET", "/v1/accounts/me", t.auth, NULL);
    CHECK_STR(jstr(G.j, "age_band"), "adult");
    CHECK_EQ_INT(jbool(G.j, "private"), 1); /* their choice stays */
    env_close();
}

/* A moderator's warning reaches its owner once. */
static void test_notices(void)
{
    ward_api_config cfg = test_cfg();
    env_open(&cfg);
    acct a, b;
    mk_acct(&a, "warned", WARD_AGE_ADULT);
    mk_acct(&b, "other", WARD_AGE_ADULT);
    CHECK_EQ_INT(ward_store_notice_add(G.st, a.id, "warning", "first", 5),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_notice_add(G.st, a.id, "warning", "second", 6),
                 WARD_OK);
    CHECK_EQ_INT(ward_store_notice_add(G.st, 99999, "warning", "x", 6),
                 WARD_ERR_NOT_FOUND);
    call("GET", "/v1/notices", a.auth, NULL);
    CHECK_EQ_INT(G.status, 200);
    json_t *l = json_object_get(G.j, "notices");
    CHECK_EQ_INT(json_array_size(l), 2);
    CHECK_STR(jstr(json_array_get(l, 0), "text"), "first");
    CHECK_STR(jstr(json_array_get(l, 1), "kind"), "warning");
    long long second = jnum(json_array_get(l, 1), "id");
    long long first = jnum(json_array_get(l, 0), "id");
    call("GET", "/v1/notices", b.auth, NULL);
    CHECK_EQ_INT(json_array_size(json_object_get(G.j, "notices")), 0);
    char path[64];
    /* another account's acknowledgement deletes nothing of a's */
    snprintf(path, sizeof path, "/v1/notices/%lld", second);
    call("DELETE", path, b.auth, NULL);
    CHECK_EQ_INT(G.status, 204);
    snprintf(path, sizeof path, "/v1/notices/%lld", first);
    call("DELETE", path, a.auth, NULL);
    CHECK_EQ_INT(G.status, 204);
    call("GET", "/v1/notices", a.auth, NULL);
    l = json_object_get(G.j, "notices");
    CHECK(json_array_size(l) == 1 &&
          strcmp(jstr(json_array_get(l, 0), "text"), "second") == 0);
    call("DELETE", "/v1/notices/x1", a.auth, NULL);
    CHECK_ERR(400, "invalid_id");
    call("DELETE", "/v1/notices/0", a.auth, NULL);
    CHECK_ERR(400, "invalid_id");
    call("POST", "/v1/notices", a.auth, "{}");
    CHECK_ERR(405, "method_not_allowed");
    env_close();
}

int main(void)
{
    REQUIRE(ward_crypto_init() == WARD_OK);
    test_policy_table();
    test_frank_keys();
    test_policy_matrix();
    test_franking();
    test_status();
    test_suspicious();
    test_social_api();
    test_coming_of_age();
    test_notices();
    printf("test_safety: %d passed, %d failed\n", wtest_pass, wtest_fail);
    return wtest_fail != 0;
}
