/*
 * Groups through the API (in-process, over a real SQLite store): every
 * /v1/groups endpoint's answers and its bad input; fan-out to 3 and 10
 * members (one copy each, the same group tag, nothing to the sender);
 * the membership epoch (409, also when the membership changes between the
 * checks and the group commit); reports of group messages verified and
 * forgeries refused and counted; a minor added to a group told who did
 * it, and leaving with a block; full queues, blocks, suspended accounts,
 * WebSocket sends and deleted accounts.
 */
#include <sodium.h>

#include "api_harness.h"
#include "media_gen.h"
#include "ward/match.h"
#include "ward/media.h"
#include "ward/pdq.h"
#include "ward/safety.h"

static void follow(const acct *a, const acct *b)
{
    REQUIRE(ward_store_follow(G.st, a->id, b->id, G.f.now, NULL) == WARD_OK);
}

static char path_buf[256];

static const char *gpath(int64_t gid, const char *rest)
{
    snprintf(path_buf, sizeof path_buf, "/v1/groups/%lld%s", (long long)gid,
             rest);
    return path_buf;
}

/* Creates a group of |by| with |members| (NULL-terminated); its id. */
static int64_t mk_group(const acct *by, const char *name,
                        const acct *const *members)
{
    json_t *list = json_array();
    for (size_t i = 0; members && members[i]; i++)
        json_array_append_new(list, json_string(members[i]->name));
    call_json("POST", "/v1/groups", by->auth,
              json_pack("{s:s,s:o}", "name", name, "members", list), NULL);
    if (G.status != 201)
        fprintf(stderr, "mk_group: %d %s\n", G.status, G.raw);
    REQUIRE(G.status == 201);
    return jnum(G.j, "id");
}

static int64_t epoch_of(int64_t gid)
{
    ward_group g;
    REQUIRE(ward_store_group_get(G.st, gid, &g) == WARD_OK);
    return g.epoch;
}

static int is_member(int64_t gid, const acct *a)
{
    ward_group_member m;
    ward_err e = ward_store_group_member(G.st, gid, a->id, &m);
    REQUIRE(e == WARD_OK || e == WARD_ERR_NOT_FOUND);
    return e == WARD_OK;
}

static const uint8_t ct[] = {0x33, 0x0a, 1, 2, 3, 4};
static const uint8_t commit_a[32] = {0xca};

static json_t *gsend_body(int64_t epoch, const uint8_t commitment[32])
{
    return json_pack("{s:i,s:o,s:o,s:I}", "type", 4, "body",
                     b64j(ct, sizeof ct), "commitment",
                     b64j(commitment, 32), "epoch", (json_int_t)epoch);
}

/* A group send through HTTP and the group commit: the completed answer's
 * status; its body in G.j. */
static int gsend(const acct *from, int64_t gid, int64_t epoch,
                 const uint8_t commitment[32])
{
    call_json("POST", gpath(gid, "/messages"), from->auth,
              gsend_body(epoch, commitment), NULL);
    return commit_answer();
}

/* The messages queued for |a| of |type| (-1: any), in G.j's array. */
static size_t queued(const acct *a, int type, json_t **first)
{
    call_full("GET", "/v1/messages", "limit=500", a->auth, NULL, 0, NULL);
    REQUIRE(G.status == 200);
    json_t *arr = json_object_get(G.j, "messages");
    size_t n = 0;
    if (first)
        *first = NULL;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *m = json_array_get(arr, i);
        if (type >= 0 && jnum(m, "type") != type)
            continue;
        if (first && !*first)
            *first = m;
        n++;
    }
    return n;
}

/* The last group event queued for |a| (its "event" object), or NULL. */
static json_t *last_event(const acct *a)
{
    call_full("GET", "/v1/messages", "limit=500", a->auth, NULL, 0, NULL);
    json_t *arr = json_object_get(G.j, "messages"), *last = NULL;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *m = json_array_get(arr, i);
        if (jnum(m, "type") == WARD_MSG_GROUP_EVENT)
            last = json_object_get(m, "event");
    }
    return last;
}

static size_t n_groups_of(const acct *a)
{
    call("GET", "/v1/groups", a->auth, NULL);
    REQUIRE(G.status == 200);
    return json_array_size(json_object_get(G.j, "groups"));
}

/* ------------------------------------------------------------------------ */
/* Every endpoint: success and bad input.                                   */

static void test_create_and_read(void)
{
    ward_api_config cfg = test_cfg();
    cfg.max_group_members = 5;
    env_open(&cfg);
    acct al, bo, ca, da;
    mk_acct(&al, "alice", WARD_AGE_ADULT);
    mk_acct(&bo, "bob", WARD_AGE_ADULT);
    mk_acct(&ca, "carol", WARD_AGE_ADULT);
    mk_acct(&da, "dave", WARD_AGE_ADULT);

    /* Refused creations leave nothing behind. */
    call("POST", "/v1/groups", NULL, "{\"name\":\"x\"}");
    CHECK_ERR(401, "unauthorized");
    call("POST", "/v1/groups", "Bearer wt_nope", "{\"name\":\"x\"}");
    CHECK_ERR(401, "unauthorized");
    call("POST", "/v1/groups", al.auth, "{\"name\":");
    CHECK_ERR(400, "bad_json");
    call("POST", "/v1/groups", al.auth, "[1]");
    CHECK_ERR(400, "bad_json");
    call("POST", "/v1/groups", al.auth, "{\"name\":\"x\",\"colour\":1}");
    CHECK_ERR(400, "unknown_field");
    static const char *const bad_bodies[] = {
        "{}",
        "{\"name\":\"\"}",
        "{\"name\":7}",
        "{\"name\":null}",
        "{\"name\":\"a\\u0007b\"}",
        "{\"name\":\"line\\nbreak\"}",
        "{\"name\":\"x\",\"description\":5}",
        "{\"name\":\"x\",\"members\":\"bob\"}",
        "{\"name\":\"x\",\"members\":[1]}",
        "{\"name\":\"x\",\"members\":[\"bob\",\"bob\"]}",
        "{\"name\":\"x\",\"members\":[null]}",
    };
    for (size_t i = 0; i < sizeof bad_bodies / sizeof bad_bodies[0]; i++) {
        call("POST", "/v1/groups", al.auth, bad_bodies[i]);
        if (G.status != 400)
            fprintf(stderr, "body %s: %d %s\n", bad_bodies[i], G.status,
                    G.raw);
        CHECK_ERR(400, "invalid_group");
    }
    char name[160], desc[520];
    memset(name, 'n', 65);
    name[65] = 0;
    call_json("POST", "/v1/groups", al.auth, json_pack("{s:s}", "name", name),
              NULL);
    CHECK_ERR(400, "invalid_group");
    /* 64 characters of two bytes each are fine */
    name[0] = 0;
    for (int i = 0; i < 64; i++)
        strcat(name, "\xc3\xa9");
    memset(desc, 'd', 501);
    desc[501] = 0;
    call_json("POST", "/v1/groups", al.auth,
              json_pack("{s:s,s:s}", "name", name, "description", desc),
              NULL);
    CHECK_ERR(400, "invalid_group");
    call("POST", "/v1/groups", al.auth,
         "{\"name\":\"x\",\"members\":[\"nobody\"]}");
    CHECK_ERR(404, "no_such_user");
    call("POST", "/v1/groups", al.auth,
         "{\"name\":\"x\",\"members\":[\"bob\",\"NOT A NAME\"]}");
    CHECK_ERR(404, "no_such_user");
    call("POST", "/v1/groups", al.auth,
         "{\"name\":\"x\",\"members\":[\"alice\"]}");
    CHECK_ERR(400, "self");
    call("POST", "/v1/groups", al.auth,
         "{\"name\":\"x\",\"members\":[\"bob\",\"carol\",\"dave\",\"a1\","
         "\"a2\"]}");
    CHECK_ERR(413, "group_too_large");
    uint8_t *big = malloc(cfg.max_body + 1);
    REQUIRE(big);
    memset(big, ' ', cfg.max_body + 1);
    call_full("POST", "/v1/groups", NULL, al.auth, big, cfg.max_body + 1,
              NULL);
    CHECK_ERR(413, "too_large");
    free(big);
    CHECK_EQ_INT(n_groups_of(&al), 0);
    CHECK_EQ_INT(depth_of(bo.id), 0);

    /* Created: the creator admin, the members members added by it. */
    call_json("POST", "/v1/groups", al.auth,
              json_pack("{s:s,s:s,s:[s,s]}", "name", name, "description",
                        "tea\nand books", "members", "bob", "carol"),
              NULL);
    CHECK_EQ_INT(G.status, 201);
    int64_t gid = jnum(G.j, "id");
    CHECK(gid > 0);
    CHECK_STR(jstr(G.j, "name"), name);
    CHECK_STR(jstr(G.j, "description"), "tea\nand books");
    CHECK_STR(jstr(G.j, "role"), "admin");
    CHECK_STR(jstr(G.j, "created_by"), "alice");
    CHECK(json_is_null(json_object_get(G.j, "avatar")));
    CHECK_EQ_INT(jnum(G.j, "epoch"), epoch_of(gid));
    json_t *mem = json_object_get(G.j, "members");
    CHECK_EQ_INT(json_array_size(mem), 3);
    CHECK_STR(jstr(json_array_get(mem, 0), "username"), "alice");
    CHECK_STR(jstr(json_array_get(mem, 0), "role"), "admin");
    CHECK(json_is_null(json_object_get(json_array_get(mem, 0), "added_by")));
    CHECK_STR(jstr(json_array_get(mem, 1), "username"), "bob");
    CHECK_STR(jstr(json_array_get(mem, 1), "role"), "member");
    CHECK_STR(jstr(json_array_get(mem, 1), "added_by"), "alice");

    /* Listed for its members, shown only to them. */
    CHECK_EQ_INT(n_groups_of(&bo), 1);
    CHECK_EQ_INT(n_groups_of(&da), 0);
    call("GET", gpath(gid, ""), ca.auth, NULL);
    CHECK_EQ_INT(G.status, 200);
    CHECK_STR(jstr(G.j, "role"), "member");
    CHECK_EQ_INT(json_array_size(json_object_get(G.j, "members")), 3);
    call("GET", gpath(gid, ""), da.auth, NULL);
    CHECK_ERR(404, "no_such_group");
    call("GET", gpath(gid + 1000, ""), al.auth, NULL);
    CHECK_ERR(404, "no_such_group"); /* the same answer */
    call("GET", gpath(gid, ""), NULL, NULL);
    CHECK_ERR(401, "unauthorized");
    static const char *const bad_ids[] = {
        "/v1/groups/abc", "/v1/groups/0", "/v1/groups/012",
        "/v1/groups/1234567890123456789", "/v1/groups/-1", "/v1/groups/1x"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        call("GET", bad_ids[i], al.auth, NULL);
        CHECK_ERR(400, "invalid_id");
    }
    call("PUT", "/v1/groups", al.auth, "{}");
    CHECK_ERR(405, "method_not_allowed");
    call("DELETE", gpath(gid, ""), al.auth, NULL);
    CHECK_ERR(405, "method_not_allowed");
    call("GET", gpath(gid, "/members"), al.auth, NULL);
    CHECK_ERR(405, "method_not_allowed");
    call("GET", gpath(gid, "/leave"), al.auth, NULL);
    CHECK_ERR(405, "method_not_allowed");
    call("GET", gpath(gid, "/messages"), al.auth, NULL);
    CHECK_ERR(405, "method_not_allowed");
    call("GET", gpath(gid, "/nothing"), al.auth, NULL);
    CHECK_ERR(404, "no_route");
    call("DELETE", gpath(gid, "/members/bob/x"), al.auth, NULL);
    CHECK_ERR(404, "no_route");
    call("GET", "/v1/groupsx", al.auth, NULL);
    CHECK_ERR(404, "no_route");
    env_close();
}

static void test_update(void)
{
    ward_api_config cfg = test_cfg();
    env_open(&cfg);
    acct al, bo, ca;
    mk_acct(&al, "alice", WARD_AGE_ADULT);
    mk_acct(&bo, "bob", WARD_AGE_ADULT);
    mk_acct(&ca, "carol", WARD_AGE_ADULT);
    const acct *m[] = {&bo, NULL};
    int64_t gid = mk_group(&al, "club", m);
    int64_t e0 = epoch_of(gid);

    call("PATCH", gpath(gid, ""), bo.auth, "{\"name\":\"mine\"}");
    CHECK_ERR(403, "not_admin");
    call("PATCH", gpath(gid, ""), ca.auth, "{\"name\":\"mine\"}");
    CHECK_ERR(404, "no_such_group"); /* before anything else is said */
    call("PATCH", gpath(gid, ""), ca.auth, "{\"bad json");
    CHECK_ERR(404, "no_such_group");
    call("PATCH", gpath(gid, ""), al.auth, "{\"bad json");
    CHECK_ERR(400, "bad_json");
    call("PATCH", gpath(gid, ""), al.auth, "{}");
    CHECK_ERR(400, "invalid_group");
    call("PATCH", gpath(gid, ""), al.auth, "{\"name\":\"\"}");
    CHECK_ERR(400, "invalid_group");
    call("PATCH", gpath(gid, ""), al.auth, "{\"name\":false}");
    CHECK_ERR(400, "invalid_group");
    call("PATCH", gpath(gid, ""), al.auth, "{\"epoch\":9}");
    CHECK_ERR(400, "unknown_field");
    /* an avatar is an image, set with PUT .../avatar (test_avatar) */
    call("PATCH", gpath(gid, ""), al.auth,
         "{\"avatar\":\"0123456789abcdef0123456789abcdef\"}");
    CHECK_ERR(400, "invalid_group");
    call("PATCH", gpath(gid, ""), al.auth,
         "{\"name\":\"Book club\",\"description\":\"Fridays\"}");
    CHECK_EQ_INT(G.status, 200);
    CHECK_STR(jstr(G.j, "name"), "Book club");
    CHECK_STR(jstr(G.j, "description"), "Fridays");
    CHECK_EQ_INT(jnum(G.j, "epoch"), e0); /* details are no membership */
    json_t *ev = last_event(&bo);
    CHECK_STR(jstr(ev, "event"), "updated");
    CHECK_STR(jstr(ev, "actor"), "alice");
    call("PATCH", gpath(gid, ""), al.auth, "{\"avatar\":null}");
    CHECK_EQ_INT(G.status, 200);
    CHECK(json_is_null(json_object_get(G.j, "avatar")));
    CHECK_STR(jstr(G.j, "name"), "Book club");
    env_close();
}

static void test_members(void)
{
    ward_api_config cfg = test_cfg();
    cfg.max_group_members = 4;
    env_open(&cfg);
    acct al, bo, ca, da, ed;
    mk_acct(&al, "alice", WARD_AGE_ADULT);
    mk_acct(&bo, "bob", WARD_AGE_ADULT);
    mk_acct(&ca, "carol", WARD_AGE_ADULT);
    mk_acct(&da, "dave", WARD_AGE_ADULT);
    mk_acct(&ed, "eve", WARD_AGE_ADULT);
    const acct *m[] = {&bo, NULL};
    int64_t gid = mk_group(&al, "club", m);
    int64_t e0 = epoch_of(gid);

    /* Adding: admins only, a user that exists, not twice. */
    call("POST", gpath(gid, "/members"), bo.auth, "{\"username\":\"carol\"}");
    CHECK_ERR(403, "not_admin");
    call("POST", gpath(gid, "/members"), ca.auth, "{\"username\":\"carol\"}");
    CHECK_ERR(404, "no_such_group");
    call("POST", gpath(gid, "/members"), NULL, "{\"username\":\"carol\"}");
    CHECK_ERR(401, "unauthorized");
    call("POST", gpath(gid, "/members"), al.auth, "{\"username\":5}");
    CHECK_ERR(400, "invalid_username");
    call("POST", gpath(gid, "/members"), al.auth, "{}");
    CHECK_ERR(400, "invalid_username");
    call("POST", gpath(gid, "/members"), al.auth,
         "{\"username\":\"carol\",\"role\":\"admin\"}");
    CHECK_ERR(400, "unknown_field");
    call("POST", gpath(gid, "/members"), al.auth, "nonsense");
    CHECK_ERR(400, "bad_json");
    call("POST", gpath(gid, "/members"), al.auth, "{\"username\":\"nobody\"}");
    CHECK_ERR(404, "no_such_user");
    call("POST", gpath(gid, "/members"), al.auth, "{\"username\":\"bob\"}");
    CHECK_ERR(409, "already_member");
    CHECK_EQ_INT(epoch_of(gid), e0);
    call("POST", gpath(gid, "/members"), al.auth, "{\"username\":\"carol\"}");
    CHECK_EQ_INT(G.status, 201);
    CHECK_STR(jstr(G.j, "username"), "carol");
    int64_t e1 = jnum(G.j, "epoch");
    CHECK(e1 > e0 && e1 == epoch_of(gid));
    json_t *ev = last_event(&bo);
    CHECK_STR(jstr(ev, "event"), "added");
    CHECK_STR(jstr(ev, "target"), "carol");
    CHECK_EQ_INT(jnum(ev, "epoch"), e1);
    ev = last_event(&ca);
    CHECK_STR(jstr(ev, "event"), "added");
    CHECK_STR(jstr(ev, "actor"), "alice");
    call("POST", gpath(gid, "/members"), al.auth, "{\"username\":\"dave\"}");
    CHECK_EQ_INT(G.status, 201);
    call("POST", gpath(gid, "/members"), al.auth, "{\"username\":\"eve\"}");
    CHECK_ERR(409, "group_full");

    /* Roles. */
    call("PATCH", gpath(gid, "/members/carol"), bo.auth,
         "{\"role\":\"admin\"}");
    CHECK_ERR(403, "not_admin");
    call("PATCH", gpath(gid, "/members/carol"), al.auth, "{\"role\":\"boss\"}");
    CHECK_ERR(400, "invalid_role");
    call("PATCH", gpath(gid, "/members/carol"), al.auth, "{\"role\":1}");
    CHECK_ERR(400, "invalid_role");
    call("PATCH", gpath(gid, "/members/carol"), al.auth, "{\"x\":1}");
    CHECK_ERR(400, "unknown_field");
    call("PATCH", gpath(gid, "/members/eve"), al.auth, "{\"role\":\"admin\"}");
    CHECK_ERR(404, "not_member");
    call("PATCH", gpath(gid, "/members/Not%20a%20name"), al.auth,
         "{\"role\":\"admin\"}");
    CHECK_ERR(404, "not_member");
    call("PATCH", gpath(gid, "/members/alice"), al.auth,
         "{\"role\":\"member\"}");
    CHECK_ERR(409, "last_admin");
    call("PATCH", gpath(gid, "/members/carol"), al.auth,
         "{\"role\":\"admin\"}");
    CHECK_EQ_INT(G.status, 200);
    CHECK_STR(jstr(G.j, "role"), "admin");
    ev = last_event(&bo);
    CHECK_STR(jstr(ev, "event"), "role");
    CHECK_STR(jstr(ev, "role"), "admin");
    CHECK_EQ_INT(epoch_of(gid), e1 + 1); /* the add of dave only */

    /* Removing: admins remove others; anyone removes itself. */
    int64_t e2 = epoch_of(gid);
    call("DELETE", gpath(gid, "/members/dave"), bo.auth, NULL);
    CHECK_ERR(403, "not_admin");
    call("DELETE", gpath(gid, "/members/eve"), al.auth, NULL);
    CHECK_ERR(404, "not_member");
    call("DELETE", gpath(gid, "/members/dave"), ed.auth, NULL);
    CHECK_ERR(404, "no_such_group");
    call("DELETE", gpath(gid, "/members/dave"), ca.auth, NULL);
    CHECK_EQ_INT(G.status, 200);
    CHECK_STR(jstr(G.j, "removed"), "dave");
    int64_t e3 = jnum(G.j, "epoch");
    CHECK(e3 > e2 && e3 == epoch_of(gid));
    CHECK(!is_member(gid, &da));
    ev = last_event(&da); /* the removed one is told */
    CHECK_STR(jstr(ev, "event"), "removed");
    CHECK_STR(jstr(ev, "actor"), "carol");
    CHECK_STR(jstr(ev, "target"), "dave");
    call("GET", gpath(gid, ""), da.auth, NULL);
    CHECK_ERR(404, "no_such_group");
    /* bob leaves by removing himself */
    call("DELETE", gpath(gid, "/members/bob"), bo.auth, NULL);
    CHECK_EQ_INT(G.status, 200);
    CHECK_EQ_INT(jnum(G.j, "left"), gid);
    CHECK(json_is_null(json_object_get(G.j, "blocked")));
    CHECK(!is_member(gid, &bo));
    ev = last_event(&al);
    CHECK_STR(jstr(ev, "event"), "left");
    CHECK_STR(jstr(ev, "target"), "bob");

    /* Leaving: an optional body, block a boolean. */
    call("POST", gpath(gid, "/leave"), al.auth, "{\"block\":1}");
    CHECK_ERR(400, "invalid_request");
    call("POST", gpath(gid, "/leave"), al.auth, "{\"block\":true,\"x\":1}");
    CHECK_ERR(400, "unknown_field");
    call("POST", gpath(gid, "/leave"), al.auth, "[]");
    CHECK_ERR(400, "bad_json");
    call("POST", gpath(gid, "/leave"), bo.auth, NULL);
    CHECK_ERR(404, "no_such_group");
    CHECK(is_member(gid, &al));
    /* the creator leaving with block=true blocks nobody (it added itself) */
    call("POST", gpath(gid, "/leave"), al.auth, "{\"block\":true}");
    CHECK_EQ_INT(G.status, 200);
    CHECK(json_is_null(json_object_get(G.j, "blocked")));
    ward_store_relation r;
    REQUIRE(ward_store_relation_get(G.st, al.id, ca.id, &r) == WARD_OK);
    CHECK(!r.a_blocked_b);
    /* carol is the last one, and admin; her leaving ends the group */
    call("POST", gpath(gid, "/leave"), ca.auth, NULL);
    CHECK_EQ_INT(G.status, 200);
    ward_group g;
    CHECK_EQ_INT(ward_store_group_get(G.st, gid, &g), WARD_ERR_NOT_FOUND);
    call("GET", gpath(gid, ""), ca.auth, NULL);
    CHECK_ERR(404, "no_such_group");
    env_close();
}

/* The last admin leaving: the longest-standing member becomes admin. */
static void test_handover(void)
{
    ward_api_config cfg = test_cfg();
    env_open(&cfg);
    acct al, bo, ca;
    mk_acct(&al, "alice", WARD_AGE_ADULT);
    mk_acct(&bo, "bob", WARD_AGE_ADULT);
    mk_acct(&ca, "carol", WARD_AGE_ADULT);
    const acct *m[] = {&bo, NULL};
    int64_t gid = mk_group(&al, "club", m);
    G.f.now += 1000;
    call("POST", gpath(gid, "/members"), al.auth, "{\"username\":\"carol\"}");
    CHECK_EQ_INT(G.status, 201);
    call("POST", gpath(gid, "/leave"), al.auth, NULL);
    CHECK_EQ_INT(G.status, 200);
    call("GET", gpath(gid, ""), bo.auth, NULL);
    CHECK_STR(jstr(G.j, "role"), "admin");
    call("GET", gpath(gid, ""), ca.auth, NULL);
    CHECK_STR(jstr(G.j, "role"), "member");
    json_t *ev = last_event(&ca);
    CHECK_STR(jstr(ev, "event"), "role");
    CHECK_STR(jstr(ev, "target"), "bob");
    /* An account deleted leaves its groups: the epoch moves on. */
    int64_t e = epoch_of(gid);
    REQUIRE(ward_store_account_delete(G.st, ca.id) == WARD_OK);
    CHECK(epoch_of(gid) > e);
    call("GET", gpath(gid, ""), bo.auth, NULL);
    CHECK_EQ_INT(json_array_size(json_object_get(G.j, "members")), 1);
    env_close();
}

/* ------------------------------------------------------------------------ */
/* Fan-out.                                                                 */

/* The server key |id| from its file (base64 after "key "). */
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

/* The documented group tag, computed with libsodium (not ward's code). */
static void group_tag(uint8_t out[32], const uint8_t key[32],
                      const uint8_t c[32], int64_t sender, int64_t group,
                      int64_t t)
{
    uint8_t msg[19 + 32 + 24];
    memcpy(msg, "ward-frank-group-v1", 19);
    memcpy(msg + 19, c, 32);
    be64(msg + 51, sender);
    be64(msg + 59, group);
    be64(msg + 67, t);
    crypto_auth_hmacsha256_state hs;
    crypto_auth_hmacsha256_init(&hs, key, 32);
    crypto_auth_hmacsha256_update(&hs, msg, sizeof msg);
    crypto_auth_hmacsha256_final(&hs, out);
}

static void fanout_to(int n_members)
{
    ward_api_config cfg = test_cfg();
    env_open(&cfg);
    acct a[12];
    const acct *list[12];
    char name[16];
    for (int i = 0; i < n_members; i++) {
        snprintf(name, sizeof name, "mem%d", i);
        mk_acct(&a[i], name, WARD_AGE_ADULT);
        list[i] = i ? &a[i] : NULL;
    }
    list[0] = &a[1];
    for (int i = 1; i < n_members; i++)
        list[i - 1] = &a[i];
    list[n_members - 1] = NULL;
    int64_t gid = mk_group(&a[0], "fan", list);
    int64_t epoch = epoch_of(gid);
    fake_clear(&G.f);
    size_t before = G.f.n_dl;
    G.f.now += 5000;
    CHECK_EQ_INT(gsend(&a[2], gid, epoch, commit_a), 201);
    CHECK_EQ_INT(jnum(G.j, "recipients"), n_members - 1);
    CHECK_EQ_INT(jnum(G.j, "delivered"), n_members - 1);
    CHECK_EQ_INT(jnum(G.j, "group"), gid);
    CHECK_EQ_INT(jnum(G.j, "epoch"), epoch);
    CHECK_EQ_INT(jnum(G.j, "server_time"), G.f.now);
    CHECK_EQ_INT(json_array_size(json_object_get(G.j, "queue_full")), 0);
    /* pushed once to each member but the sender */
    CHECK_EQ_INT(G.f.n_dl - before, n_members - 1);
    for (size_t i = before; i < G.f.n_dl; i++) {
        CHECK(G.f.dl[i].m.recipient != a[2].id);
        CHECK_EQ_INT(G.f.dl[i].m.group_id, gid);
        for (size_t k = before; k < i; k++)
            CHECK(G.f.dl[k].m.recipient != G.f.dl[i].m.recipient);
    }
    /* Each member has exactly one copy, with the same tag and group. */
    uint8_t key[32], want[32], tag0[32];
    read_server_key(G.f.dl[before].m.key_id, key);
    group_tag(want, key, commit_a, a[2].id, gid, G.f.now);
    for (int i = 0; i < n_members; i++) {
        json_t *m;
        size_t n = queued(&a[i], 4, &m);
        if (i == 2) {
            CHECK_EQ_INT(n, 0);
            continue;
        }
        CHECK_EQ_INT(n, 1);
        CHECK_EQ_INT(jnum(m, "group"), gid);
        CHECK_EQ_INT(jnum(m, "from_id"), a[2].id);
        CHECK_STR(jstr(m, "from"), "mem2");
        uint8_t t[32], c[32], body[16];
        CHECK_EQ_INT(unb64(jstr(m, "tag"), t, sizeof t), 32);
        CHECK_MEM(t, want, 32);
        if (i == 0)
            memcpy(tag0, t, 32);
        CHECK_MEM(t, tag0, 32);
        CHECK_EQ_INT(unb64(jstr(m, "commitment"), c, sizeof c), 32);
        CHECK_MEM(c, commit_a, 32);
        CHECK_EQ_INT(unb64(jstr(m, "body"), body, sizeof body), sizeof ct);
        CHECK_MEM(body, ct, sizeof ct);
    }
    /* the group tag is not the direct one for any recipient */
    uint8_t direct[32];
    ward_frank_tag(direct, key, commit_a, a[2].id, a[0].id, G.f.now);
    CHECK(memcmp(direct, want, 32) != 0);
    sodium_memzero(key, sizeof key);
    ward_api_stats st;
    ward_api_stats_get(G.api, &st);
    CHECK_EQ_INT(st.group_messages_in, 1);
    CHECK_EQ_INT(st.group_copies, (uint64_t)(n_members - 1));
    env_close();
}

static void test_fanout(void)
{
    fanout_to(3);
    fanout_to(10);
}

/* Bad input on the send, and every refusal before the commit. */
static void test_send_input(void)
{
    ward_api_config cfg = test_cfg();
    cfg.max_message = 64;
    cfg.send_burst = 3;
    cfg.send_per_minute = 1;
    env_open(&cfg);
    acct al, bo, ca;
    mk_acct(&al, "alice", WARD_AGE_ADULT);
    mk_acct(&bo, "bob", WARD_AGE_ADULT);
    mk_acct(&ca, "carol", WARD_AGE_ADULT);
    const acct *m[] = {&bo, NULL};
    int64_t gid = mk_group(&al, "club", m);
    int64_t ep = epoch_of(gid);
    char body[512];
    char *c64 = b64(commit_a, 32);
    /* @C: the commitment's base64, @E: the epoch */
    static const char *const bad[] = {
        "{\"type\":3,\"body\":\"AQID\",\"commitment\":\"@C\",\"epoch\":@E}",
        "{\"type\":\"4\",\"body\":\"AQID\",\"commitment\":\"@C\",\"epoch\":@E}",
        "{\"type\":4,\"body\":\"\",\"commitment\":\"@C\",\"epoch\":@E}",
        "{\"type\":4,\"body\":\"!!!\",\"commitment\":\"@C\",\"epoch\":@E}",
        "{\"type\":4,\"body\":7,\"commitment\":\"@C\",\"epoch\":@E}",
        "{\"type\":4,\"body\":\"AQID\",\"commitment\":\"AAAA@C\",\"epoch\":@E}",
        "{\"type\":4,\"body\":\"AQID\",\"commitment\":\"@C\",\"epoch\":-@E}",
        "{\"type\":4,\"body\":\"AQID\",\"commitment\":\"@C\",\"epoch\":\"@E\"}",
        "{\"type\":4,\"body\":\"AQID\",\"commitment\":\"@C\"}",
        "{\"type\":4,\"body\":\"AQID\",\"commitment\":\"@C\",\"epoch\":1.5}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t o = 0;
        for (const char *t = bad[i]; *t && o < sizeof body - 64; t++) {
            if (t[0] == '@' && t[1] == 'C')
                o += (size_t)snprintf(body + o, sizeof body - o, "%s", c64),
                    t++;
            else if (t[0] == '@' && t[1] == 'E')
                o += (size_t)snprintf(body + o, sizeof body - o, "%lld",
                                      (long long)ep),
                    t++;
            else
                body[o++] = *t;
        }
        body[o] = 0;
        call("POST", gpath(gid, "/messages"), al.auth, body);
        if (G.status != 400)
            fprintf(stderr, "send %s: %d %s\n", body, G.status, G.raw);
        CHECK_ERR(400, "invalid_message");
    }
    call("POST", gpath(gid, "/messages"), al.auth,
         "{\"type\":4,\"body\":\"AQID\",\"epoch\":1}");
    CHECK_ERR(400, "invalid_message"); /* no commitment: unreportable */
    snprintf(body, sizeof body,
             "{\"type\":4,\"body\":\"AQID\",\"commitment\":\"%s\","
             "\"epoch\":%lld,\"to\":\"bob\"}",
             c64, (long long)ep);
    call("POST", gpath(gid, "/messages"), al.auth, body);
    CHECK_ERR(400, "unknown_field");
    call("POST", gpath(gid, "/messages"), al.auth, "{\"type\":4,");
    CHECK_ERR(400, "bad_json");
    /* a direct message's group context is a group's id */
    const char *contexts[] = {"0", "-1", "\"1\"", "1.5", "null"};
    for (size_t i = 0; i < sizeof contexts / sizeof *contexts; i++) {
        snprintf(body, sizeof body,
                 "{\"to\":\"bob\",\"type\":2,\"body\":\"AQID\","
                 "\"commitment\":\"%s\",\"group\":%s}",
                 c64, contexts[i]);
        call("POST", "/v1/messages", al.auth, body);
        CHECK_ERR(400, "invalid_message");
    }
    /* and "unkeyed" a list of usernames */
    const char *unkeyed[] = {"\"bob\"", "[1]", "[null]", "{}"};
    for (size_t i = 0; i < sizeof unkeyed / sizeof *unkeyed; i++) {
        snprintf(body, sizeof body,
                 "{\"type\":4,\"body\":\"AQID\",\"commitment\":\"%s\","
                 "\"epoch\":%lld,\"unkeyed\":%s}",
                 c64, (long long)ep, unkeyed[i]);
        call("POST", gpath(gid, "/messages"), al.auth, body);
        CHECK_ERR(400, "invalid_message");
    }
    uint8_t big[100];
    memset(big, 7, sizeof big);
    char *b = b64(big, sizeof big);
    snprintf(body, sizeof body,
             "{\"type\":4,\"body\":\"%s\",\"commitment\":\"%s\","
             "\"epoch\":%lld}",
             b, c64, (long long)ep);
    free(b);
    call("POST", gpath(gid, "/messages"), al.auth, body);
    CHECK_ERR(413, "message_too_large");
    /* Not a member: as if there were no such group, whatever the body. */
    call("POST", gpath(gid, "/messages"), ca.auth, "{\"type\":4,");
    CHECK_ERR(404, "no_such_group");
    CHECK_EQ_INT(gsend(&ca, gid, ep, commit_a), 404);
    CHECK_EQ_INT(gsend(&al, gid + 7, ep, commit_a), 404);
    call("POST", gpath(gid, "/messages"), NULL, "{}");
    CHECK_ERR(401, "unauthorized");
    call("POST", gpath(gid, "/messages"), "Bearer wt_x", "{}");
    CHECK_ERR(401, "unauthorized");
    /* A future epoch is as wrong as an old one. */
    CHECK_EQ_INT(gsend(&al, gid, ep + 1, commit_a), 409);
    CHECK_STR(ecode(), "membership_changed");
    CHECK_EQ_INT(jnum(json_object_get(G.j, "error"), "epoch"), ep);
    /* The send rate limit is the direct sends' (burst 3). */
    CHECK_EQ_INT(gsend(&al, gid, ep, commit_a), 201);
    CHECK_EQ_INT(gsend(&al, gid, ep, commit_a), 201);
    CHECK_EQ_INT(gsend(&al, gid, ep, commit_a), 201);
    CHECK_EQ_INT(gsend(&al, gid, ep, commit_a), 429);
    CHECK_STR(ecode(), "rate_limited");
    CHECK_EQ_INT(queued(&bo, 4, NULL), 3);
    free(c64);
    env_close();
}

/* ------------------------------------------------------------------------ */
/* The epoch: a removal is seen before anyone sends again.                  */

static void test_epoch(void)
{
    ward_api_config cfg = test_cfg();
    env_open(&cfg);
    acct al, bo, ca;
    mk_acct(&al, "alice", WARD_AGE_ADULT);
    mk_acct(&bo, "bob", WARD_AGE_ADULT);
    mk_acct(&ca, "carol", WARD_AGE_ADULT);
    const acct *m[] = {&bo, &ca, NULL};
    int64_t gid = mk_group(&al, "club", m);
    int64_t e0 = epoch_of(gid);
    CHECK_EQ_INT(gsend(&bo, gid, e0, commit_a), 201);
    CHECK_EQ_INT(queued(&ca, 4, NULL), 1);

    call("DELETE", gpath(gid, "/members/carol"), al.auth, NULL);
    CHECK_EQ_INT(G.status, 200);
    int64_t e1 = jnum(G.j, "epoch");
    CHECK(e1 > e0);
    /* bob has not seen it: refused, told the epoch */
    CHECK_EQ_INT(gsend(&bo, gid, e0, commit_a), 409);
    CHECK_STR(ecode(), "membership_changed");
    CHECK_EQ_INT(jnum(json_object_get(G.j, "error"), "epoch"), e1);
    /* the event told him, with that epoch */
    json_t *ev = last_event(&bo);
    CHECK_STR(jstr(ev, "event"), "removed");
    CHECK_EQ_INT(jnum(ev, "epoch"), e1);
    /* having rotated, he sends at the new one; carol gets nothing more */
    CHECK_EQ_INT(gsend(&bo, gid, e1, commit_a), 201);
    CHECK_EQ_INT(jnum(G.j, "recipients"), 1);
    CHECK_EQ_INT(queued(&ca, 4, NULL), 1);
    CHECK_EQ_INT(queued(&al, 4, NULL), 2);

    /* A change between the checks and the commit: refused at the commit,
     * nothing queued. */
    size_t dl = G.f.n_dl;
    call_json("POST", gpath(gid, "/messages"), bo.auth,
              gsend_body(e1, commit_a), (void *)0x77);
    CHECK_EQ_INT(G.rc, WARD_API_DEFERRED);
    call("POST", gpath(gid, "/members"), al.auth, "{\"username\":\"carol\"}");
    CHECK_EQ_INT(G.status, 201);
    int64_t e2 = jnum(G.j, "epoch");
    size_t done = G.f.n_done;
    ward_api_flush(G.api);
    REQUIRE(G.f.n_done == done + 1);
    CHECK(G.f.done[done].opaque == (void *)0x77);
    CHECK_EQ_INT(G.f.done[done].status, 409);
    json_t *o = json_loads(G.f.done[done].body, 0, NULL);
    CHECK_EQ_INT(jnum(json_object_get(o, "error"), "epoch"), e2);
    json_decref(o);
    CHECK_EQ_INT(G.f.n_dl, dl);
    CHECK_EQ_INT(queued(&al, 4, NULL), 2);
    CHECK_EQ_INT(queued(&ca, 4, NULL), 1);
    /* a group gone in between: 404 */
    call_json("POST", gpath(gid, "/messages"), bo.auth,
              gsend_body(e2, commit_a), NULL);
    CHECK_EQ_INT(G.rc, WARD_API_DEFERRED);
    REQUIRE(ward_store_group_remove(G.st, gid, al.id, al.id, G.f.now, 100,
                                    NULL) == WARD_OK);
    REQUIRE(ward_store_group_remove(G.st, gid, ca.id, ca.id, G.f.now, 100,
                                    NULL) == WARD_OK);
    REQUIRE(ward_store_group_remove(G.st, gid, bo.id, bo.id, G.f.now, 100,
                                    NULL) == WARD_OK);
    done = G.f.n_done;
    ward_api_flush(G.api);
    CHECK_EQ_INT(G.f.done[done].status, 404);
    env_close();
}

/* ------------------------------------------------------------------------ */
/* Reports of group messages.                                               */

typedef struct sent {
    uint8_t content[512];
    size_t content_len;
    uint8_t kf[32], commitment[32], tag[32];
    uint32_t key_id;
    int64_t id, from_id, server_time, group;
} sent;

static size_t make_content(uint8_t *out, size_t cap, const char *text,
                           const uint8_t kf[32], int64_t group)
{
    ward_content c;
    ward_content_init(&c);
    REQUIRE(ward_content_set_body(&c, text, strlen(text)) == WARD_OK);
    c.has_franking_key = 1;
    memcpy(c.franking_key, kf, 32);
    c.sent_at = (uint64_t)G.f.now;
    c.group_id_len = 8;
    be64(c.group_id, group);
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

static void commit_of(uint8_t out[32], const uint8_t kf[32],
                      const uint8_t *p, size_t n)
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, kf, 32);
    crypto_auth_hmacsha256_update(&st, p, n);
    crypto_auth_hmacsha256_final(&st, out);
}

/* |from| sends |text| to group |gid|; |out| gets what |to| would keep. */
static void send_franked(const acct *from, int64_t gid, const acct *to,
                         const char *text, sent *out)
{
    memset(out, 0, sizeof *out);
    randombytes_buf(out->kf, 32);
    out->content_len = make_content(out->content, sizeof out->content, text,
                                    out->kf, gid);
    commit_of(out->commitment, out->kf, out->content, out->content_len);
    size_t before = G.f.n_dl;
    REQUIRE(gsend(from, gid, epoch_of(gid), out->commitment) == 201);
    int found = 0;
    for (size_t i = before; i < G.f.n_dl; i++) {
        const ward_store_msg *m = &G.f.dl[i].m;
        if (m->recipient != to->id)
            continue;
        found = 1;
        memcpy(out->tag, m->tag, 32);
        out->key_id = m->key_id;
        out->id = m->id;
        out->from_id = m->sender;
        out->server_time = m->server_time;
        out->group = m->group_id;
    }
    REQUIRE(found);
    fake_clear(&G.f);
}

static json_t *report_of(const sent *m, int with_group)
{
    json_t *o = json_pack(
        "{s:s,s:s,s:{s:I,s:I,s:I,s:o,s:o,s:o,s:I}}", "kind", "message",
        "reason", "grooming", "message", "id", (json_int_t)m->id, "from_id",
        (json_int_t)m->from_id, "server_time", (json_int_t)m->server_time,
        "content", b64j(m->content, m->content_len), "commitment",
        b64j(m->commitment, 32), "tag", b64j(m->tag, 32), "key_id",
        (json_int_t)m->key_id);
    if (with_group)
        json_object_set_new(json_object_get(o, "message"), "group",
                            json_integer(m->group));
    return o;
}

static int count_one(void *ctx, const ward_report *r)
{
    (void)r;
    ++*(size_t *)ctx;
    return 0;
}

static size_t n_reports(void)
{
    size_t n = 0;
    ward_report_filter f = {.status = -1, .priority = -1};
    REQUIRE(ward_store_report_list(G.st, &f, 0, 1000, count_one, &n) ==
            WARD_OK);
    return n;
}

static int64_t refused(void)
{
    int64_t v = -1;
    REQUIRE(ward_store_counter_get(G.st, "reports_refused", &v) == WARD_OK);
    return v;
}

static void check_forged(const char *what, const acct *by, json_t *report,
                         int status, const char *code)
{
    size_t before = n_reports();
    int64_t ref = refused();
    call_json("POST", "/v1/reports", by->auth, report, NULL);
    if (G.status != status || strcmp(ecode(), code) != 0)
        fprintf(stderr, "forged group report (%s): %d %s\n", what, G.status,
                ecode());
    CHECK_EQ_INT(G.status, status);
    CHECK_STR(ecode(), code);
    CHECK_EQ_INT(n_reports(), before);
    CHECK_EQ_INT(refused(), ref + 1);
}

static void test_reports(void)
{
    ward_api_config cfg = test_cfg();
    env_open(&cfg);
    acct al, kid, ca, da, ed;
    mk_acct(&al, "alice", WARD_AGE_ADULT);
    mk_acct(&kid, "kid", WARD_AGE_MINOR);
    mk_acct(&ca, "carol", WARD_AGE_ADULT);
    mk_acct(&da, "dave", WARD_AGE_ADULT);
    mk_acct(&ed, "eve", WARD_AGE_ADULT);
    follow(&kid, &ca);
    follow(&kid, &al); /* or alice's messages would be kept from kid */
    const acct *m1[] = {&al, &kid, NULL};
    int64_t g1 = mk_group(&ca, "one", m1);
    const acct *m2[] = {&al, &kid, &da, NULL};
    int64_t g2 = mk_group(&ca, "two", m2);
    G.f.now += 1000;
    sent s1, s2, s3;
    send_franked(&al, g1, &kid, "a group message", &s1);
    G.f.now += 1000;
    send_franked(&al, g2, &kid, "another group", &s2);
    G.f.now += 1000;
    send_franked(&ca, g1, &kid, "from carol", &s3);
    CHECK_EQ_INT(s1.group, g1);

    sent f;
    f = s1;
    f.group = g2;
    check_forged("another group", &kid, report_of(&f, 1), 422,
                 "report_unverified");
    f = s1;
    f.from_id = ca.id;
    check_forged("another sender", &kid, report_of(&f, 1), 422,
                 "report_unverified");
    f = s1;
    f.server_time += 1;
    check_forged("another time", &kid, report_of(&f, 1), 422,
                 "report_unverified");
    f = s1;
    f.content_len = make_content(f.content, sizeof f.content, "invented",
                                 f.kf, g1);
    commit_of(f.commitment, f.kf, f.content, f.content_len);
    check_forged("changed content, recommitted", &kid, report_of(&f, 1), 422,
                 "report_unverified");
    f = s1;
    f.content[f.content_len - 1] ^= 1;
    check_forged("changed content", &kid, report_of(&f, 1), 422,
                 "report_unverified");
    f = s1;
    memcpy(f.tag, s3.tag, 32);
    check_forged("a tag from another message", &kid, report_of(&f, 1), 422,
                 "report_unverified");
    check_forged("a group message reported as a direct one", &kid,
                 report_of(&s1, 0), 422, "report_unverified");
    /* dave is in the second group, not the first: the tag checks, he was
     * no recipient */
    check_forged("by someone not in the group", &da, report_of(&s1, 1), 422,
                 "report_unverified");
    check_forged("by someone in no group", &ed, report_of(&s1, 1), 422,
                 "report_unverified");
    json_t *z = report_of(&s1, 1);
    json_object_set_new(json_object_get(z, "message"), "group",
                        json_integer(0));
    check_forged("group 0", &kid, z, 400, "invalid_report");
    z = report_of(&s1, 1);
    json_object_set_new(json_object_get(z, "message"), "group",
                        json_string("1"));
    check_forged("group as a string", &kid, z, 400, "invalid_report");
    /* someone added after the message was sent did not receive it */
    G.f.now += 1000;
    call("POST", gpath(g1, "/members"), ca.auth, "{\"username\":\"eve\"}");
    CHECK_EQ_INT(G.status, 201);
    check_forged("by someone who joined later", &ed, report_of(&s1, 1), 422,
                 "report_unverified");

    /* The real ones: verified, high priority (a minor reports), kept with
     * their group. */
    call_json("POST", "/v1/reports", kid.auth, report_of(&s1, 1), NULL);
    CHECK_EQ_INT(G.status, 201);
    CHECK_EQ_INT(jbool(G.j, "verified"), 1);
    CHECK_STR(jstr(G.j, "priority"), "high");
    ward_report r;
    CHECK_EQ_INT(ward_store_report_get(G.st, jnum(G.j, "id"), &r, NULL),
                 WARD_OK);
    CHECK(r.subject == al.id && r.reporter == kid.id && r.group_id == g1 &&
          r.message_id == s1.id);
    /* any recipient may report it: dave, of the second group's message */
    sent s4;
    send_franked(&al, g2, &da, "to dave too", &s4);
    call_json("POST", "/v1/reports", da.auth, report_of(&s4, 1), NULL);
    CHECK_EQ_INT(G.status, 201);
    /* A member who left (or was removed) can still report what it got
     * while a member, also once the group is gone. */
    call("POST", gpath(g2, "/leave"), kid.auth, "{\"block\":true}");
    CHECK_EQ_INT(G.status, 200);
    CHECK_STR(jstr(G.j, "blocked"), "carol");
    call_json("POST", "/v1/reports", kid.auth, report_of(&s2, 1), NULL);
    CHECK_EQ_INT(G.status, 201);
    REQUIRE(ward_store_group_remove(G.st, g1, al.id, al.id, G.f.now, 100,
                                    NULL) == WARD_OK);
    REQUIRE(ward_store_group_remove(G.st, g1, ed.id, ed.id, G.f.now, 100,
                                    NULL) == WARD_OK);
    REQUIRE(ward_store_group_remove(G.st, g1, ca.id, ca.id, G.f.now, 100,
                                    NULL) == WARD_OK);
    REQUIRE(ward_store_group_remove(G.st, g1, kid.id, kid.id, G.f.now, 100,
                                    NULL) == WARD_OK);
    ward_group gone;
    CHECK_EQ_INT(ward_store_group_get(G.st, g1, &gone), WARD_ERR_NOT_FOUND);
    call_json("POST", "/v1/reports", kid.auth, report_of(&s3, 1), NULL);
    CHECK_EQ_INT(G.status, 201);
    ward_api_stats st;
    ward_api_stats_get(G.api, &st);
    CHECK_EQ_INT(st.reports_in, 4);
    CHECK_EQ_INT(st.reports_refused, (uint64_t)refused());
    env_close();
}

/* ------------------------------------------------------------------------ */
/* Minors, blocks, status, full queues, the WebSocket.                      */

static int has_notice_naming(const acct *a, const char *who, const char *grp)
{
    call("GET", "/v1/notices", a->auth, NULL);
    json_t *arr = json_object_get(G.j, "notices");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *n = json_array_get(arr, i);
        const char *t = jstr(n, "text");
        if (t && strstr(t, who) && strstr(t, grp) &&
            strcmp(jstr(n, "kind"), "group_added") == 0)
            return 1;
    }
    return 0;
}

static void test_minor_added(void)
{
    ward_api_config cfg = test_cfg();
    env_open(&cfg);
    acct ad, kid, k2, ot;
    mk_acct(&ad, "adult", WARD_AGE_ADULT);
    mk_acct(&kid, "kid", WARD_AGE_MINOR);
    mk_acct(&k2, "kid2", WARD_AGE_MINOR);
    mk_acct(&ot, "other", WARD_AGE_ADULT);
    follow(&kid, &ad);
    follow(&k2, &ad);
    int64_t gid = mk_group(&ad, "Chess", NULL);
    call("POST", gpath(gid, "/members"), ad.auth, "{\"username\":\"kid\"}");
    CHECK_EQ_INT(G.status, 201);
    /* told who added them: an event and a notice */
    json_t *ev = last_event(&kid);
    CHECK_STR(jstr(ev, "event"), "added");
    CHECK_STR(jstr(ev, "actor"), "adult");
    CHECK_STR(jstr(ev, "target"), "kid");
    CHECK(has_notice_naming(&kid, "adult", "Chess"));
    /* an adult added gets no notice */
    call("POST", gpath(gid, "/members"), ad.auth, "{\"username\":\"other\"}");
    CHECK_EQ_INT(G.status, 201);
    call("GET", "/v1/notices", ot.auth, NULL);
    CHECK_EQ_INT(json_array_size(json_object_get(G.j, "notices")), 0);
    /* at creation too */
    const acct *m[] = {&k2, NULL};
    int64_t g2 = mk_group(&ad, "Maths", m);
    CHECK(has_notice_naming(&k2, "adult", "Maths"));
    ev = last_event(&k2);
    CHECK_STR(jstr(ev, "event"), "created");
    CHECK_STR(jstr(ev, "actor"), "adult");
    (void)g2;

    /* Leave and block in one step. */
    call("POST", gpath(gid, "/leave"), kid.auth, "{\"block\":true}");
    CHECK_EQ_INT(G.status, 200);
    CHECK_STR(jstr(G.j, "blocked"), "adult");
    CHECK(!is_member(gid, &kid));
    ward_store_relation r;
    REQUIRE(ward_store_relation_get(G.st, kid.id, ad.id, &r) == WARD_OK);
    CHECK(r.a_blocked_b && !r.a_follows_b);
    ev = last_event(&ot);
    CHECK_STR(jstr(ev, "event"), "left");
    CHECK_STR(jstr(ev, "target"), "kid");
    /* and now the adult cannot add the kid back */
    call("POST", gpath(gid, "/members"), ad.auth, "{\"username\":\"kid\"}");
    CHECK_ERR(403, "blocked_by_recipient");
    /* the block also counts towards the adult's suspicious flag: it can
     * add no minor any more, even one that follows it */
    int64_t g3 = mk_group(&ad, "Again", NULL);
    call("POST", gpath(g3, "/members"), ad.auth, "{\"username\":\"kid2\"}");
    CHECK_ERR(403, "suspicious_account");
    call("POST", "/v1/groups", ad.auth,
         "{\"name\":\"x\",\"members\":[\"other\",\"kid2\"]}");
    CHECK_ERR(403, "suspicious_account");
    CHECK_STR(jstr(json_object_get(G.j, "error"), "username"), "kid2");
    env_close();
}

static void test_policy_at_add(void)
{
    ward_api_config cfg = test_cfg();
    env_open(&cfg);
    acct ad, kid, pr, bl;
    mk_acct(&ad, "adult", WARD_AGE_ADULT);
    mk_acct(&kid, "kid", WARD_AGE_MINOR);
    mk_acct(&pr, "private", WARD_AGE_ADULT);
    mk_acct(&bl, "blocker", WARD_AGE_ADULT);
    REQUIRE(ward_store_account_set_private(G.st, pr.id, 1) == WARD_OK);
    REQUIRE(ward_store_block(G.st, bl.id, WARD_AGE_ADULT, ad.id, G.f.now,
                             NULL) == WARD_OK);
    REQUIRE(ward_store_account_set_private(G.st, kid.id, 0) == WARD_OK);
    int64_t gid = mk_group(&ad, "g", NULL);
    call("POST", gpath(gid, "/members"), ad.auth, "{\"username\":\"kid\"}");
    CHECK_ERR(403, "minor_not_following");
    call("POST", gpath(gid, "/members"), ad.auth,
         "{\"username\":\"private\"}");
    CHECK_ERR(403, "recipient_private");
    call("POST", gpath(gid, "/members"), ad.auth,
         "{\"username\":\"blocker\"}");
    CHECK_ERR(403, "blocked_by_recipient");
    /* the same rules at creation, nothing created */
    size_t before = n_groups_of(&ad);
    call("POST", "/v1/groups", ad.auth,
         "{\"name\":\"x\",\"members\":[\"private\"]}");
    CHECK_ERR(403, "recipient_private");
    CHECK_EQ_INT(n_groups_of(&ad), before);
    CHECK_EQ_INT(depth_of(pr.id), 0);
    ward_api_stats st;
    ward_api_stats_get(G.api, &st);
    CHECK_EQ_INT(st.policy_refused, 4);
    env_close();
}

static void test_status_blocks_full(void)
{
    ward_api_config cfg = test_cfg();
    cfg.max_queue = 3;
    env_open(&cfg);
    acct al, bo, ca, da;
    mk_acct(&al, "alice", WARD_AGE_ADULT);
    mk_acct(&bo, "bob", WARD_AGE_ADULT);
    mk_acct(&ca, "carol", WARD_AGE_ADULT);
    mk_acct(&da, "dave", WARD_AGE_ADULT);
    const acct *m[] = {&bo, &ca, NULL};
    int64_t gid = mk_group(&al, "g", m);
    int64_t ep = epoch_of(gid);

    /* A member who blocked the sender (or whom it blocked) gets none of
     * its group messages. */
    REQUIRE(ward_store_block(G.st, ca.id, WARD_AGE_ADULT, al.id, G.f.now,
                             NULL) == WARD_OK);
    CHECK_EQ_INT(gsend(&al, gid, ep, commit_a), 201);
    CHECK_EQ_INT(jnum(G.j, "recipients"), 1);
    CHECK_EQ_INT(jnum(G.j, "withheld"), 1);
    CHECK_EQ_INT(queued(&ca, 4, NULL), 0);
    CHECK_EQ_INT(queued(&bo, 4, NULL), 1);
    CHECK_EQ_INT(gsend(&ca, gid, ep, commit_a), 201);
    CHECK_EQ_INT(jnum(G.j, "recipients"), 1); /* bob only */
    CHECK_EQ_INT(queued(&al, 4, NULL), 0);
    REQUIRE(ward_store_unblock(G.st, ca.id, al.id) == WARD_OK);

    /* A full queue skips that member; the others get it. bob holds the
     * created event and two messages now. */
    size_t bd = depth_of(bo.id);
    CHECK_EQ_INT(bd, 3);
    CHECK_EQ_INT(gsend(&al, gid, ep, commit_a), 201);
    CHECK_EQ_INT(jnum(G.j, "recipients"), 2);
    CHECK_EQ_INT(jnum(G.j, "delivered"), 1);
    json_t *full = json_object_get(G.j, "queue_full");
    CHECK(json_array_size(full) == 1 &&
          strcmp(json_string_value(json_array_get(full, 0)), "bob") == 0);
    CHECK_EQ_INT(depth_of(bo.id), 3);
    /* every queue full: nothing stored, 429 */
    while (depth_of(ca.id) < 3)
        CHECK_EQ_INT(gsend(&al, gid, ep, commit_a), 201);
    CHECK_EQ_INT(gsend(&al, gid, ep, commit_a), 429);
    CHECK_STR(ecode(), "queue_full");

    /* Suspended and banned accounts create, add and send nothing. */
    REQUIRE(ward_store_account_set_status(G.st, al.id, WARD_STATUS_SUSPENDED,
                                          G.f.now + DAY_MS) == WARD_OK);
    call("POST", "/v1/groups", al.auth, "{\"name\":\"x\"}");
    CHECK_ERR(403, "account_suspended");
    call("POST", gpath(gid, "/members"), al.auth, "{\"username\":\"dave\"}");
    CHECK_ERR(403, "account_suspended");
    CHECK_EQ_INT(gsend(&al, gid, ep, commit_a), 403);
    CHECK_STR(ecode(), "account_suspended");
    ward_http_resp rs;
    ward_http_resp_init(&rs);
    json_t *o = gsend_body(ep, commit_a);
    json_object_set_new(o, "group", json_integer(gid));
    CHECK_EQ_INT(ward_api_send_json(G.api, al.id, o, NULL, &rs),
                 WARD_API_DONE);
    CHECK_EQ_INT(rs.status, 403);
    json_decref(o);
    ward_http_resp_release(&rs);
    REQUIRE(ward_store_account_set_status(G.st, al.id, WARD_STATUS_BANNED,
                                          0) == WARD_OK);
    call("POST", "/v1/groups", al.auth, "{\"name\":\"x\"}");
    CHECK_ERR(403, "account_banned");
    CHECK_EQ_INT(gsend(&al, gid, ep, commit_a), 403);
    CHECK_STR(ecode(), "account_banned");

    /* The WebSocket's send frame with a group (bob sends to carol). */
    /* carol's queue is full: she empties it first */
    call_full("GET", "/v1/messages", "limit=500", ca.auth, NULL, 0, NULL);
    json_t *arr = json_incref(json_object_get(G.j, "messages"));
    for (size_t i = 0; i < json_array_size(arr); i++) {
        char p[64];
        snprintf(p, sizeof p, "/v1/messages/%lld",
                 jnum(json_array_get(arr, i), "id"));
        call("DELETE", p, ca.auth, NULL);
        CHECK_EQ_INT(G.status, 204);
    }
    json_decref(arr);
    ward_http_resp_init(&rs);
    json_t *w = gsend_body(ep, commit_a);
    json_object_set_new(w, "group", json_integer(gid));
    size_t done = G.f.n_done;
    CHECK_EQ_INT(ward_api_send_json(G.api, bo.id, w, (void *)0x5, &rs),
                 WARD_API_DEFERRED);
    ward_api_flush(G.api);
    CHECK_EQ_INT(G.f.n_done, done + 1);
    CHECK_EQ_INT(G.f.done[done].status, 201);
    CHECK_EQ_INT(queued(&ca, 4, NULL), 1);
    /* a WebSocket frame with a group takes no "to", and the group's keys
     * only */
    json_object_set_new(w, "to", json_string("carol"));
    ward_http_resp_release(&rs);
    ward_http_resp_init(&rs);
    CHECK_EQ_INT(ward_api_send_json(G.api, bo.id, w, NULL, &rs),
                 WARD_API_DONE);
    CHECK_EQ_INT(rs.status, 400);
    json_object_del(w, "to");
    json_object_set_new(w, "group", json_string("x"));
    ward_http_resp_release(&rs);
    ward_http_resp_init(&rs);
    CHECK_EQ_INT(ward_api_send_json(G.api, bo.id, w, NULL, &rs),
                 WARD_API_DONE);
    CHECK_EQ_INT(rs.status, 400);
    ward_http_resp_release(&rs);
    json_decref(w);
    env_close();
}

/* ------------------------------------------------------------------------ */
/* Who reaches whom inside a group: the copies and the key handover.        */

/* A direct message from |from| to |to| in group |gid|'s context (0: none),
 * through the group commit: the final status. */
static int dsend(const acct *from, const acct *to, int64_t gid)
{
    json_t *o = json_pack("{s:s,s:i,s:o,s:o}", "to", to->name, "type", 2,
                          "body", b64j(ct, sizeof ct), "commitment",
                          b64j(commit_a, 32));
    if (gid)
        json_object_set_new(o, "group", json_integer(gid));
    call_json("POST", "/v1/messages", from->auth, o, NULL);
    return commit_answer();
}

static int bundle(const acct *from, const acct *of, int64_t gid)
{
    char path[96], q[48];
    snprintf(path, sizeof path, "/v1/keys/%s", of->name);
    snprintf(q, sizeof q, "group=%lld", (long long)gid);
    call_full("GET", path, gid ? q : NULL, from->auth, NULL, 0, NULL);
    return G.status;
}

/* |from|'s group send with "unkeyed" set to |names| (NULL-ended). */
static int gsend_unkeyed(const acct *from, int64_t gid, const char **names)
{
    json_t *o = gsend_body(epoch_of(gid), commit_a), *arr = json_array();
    for (size_t i = 0; names[i]; i++)
        json_array_append_new(arr, json_string(names[i]));
    json_object_set_new(o, "unkeyed", arr);
    call_json("POST", gpath(gid, "/messages"), from->auth, o, NULL);
    return commit_answer();
}

/* The direct messages queued for |a|, and how many carry group |gid|. */
static size_t direct_in_group(const acct *a, int64_t gid, size_t *total)
{
    call_full("GET", "/v1/messages", "limit=500", a->auth, NULL, 0, NULL);
    REQUIRE(G.status == 200);
    json_t *arr = json_object_get(G.j, "messages");
    size_t n = 0;
    *total = 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *m = json_array_get(arr, i);
        if (jnum(m, "type") != 2)
            continue;
        ++*total;
        n += jnum(m, "group") == gid;
    }
    return n;
}

static void test_reach_in_group(void)
{
    ward_api_config cfg = test_cfg();
    cfg.send_burst = 1e6;
    env_open(&cfg);
    acct al, bo, kid, pat, out;
    mk_acct(&al, "alice", WARD_AGE_ADULT);
    mk_acct(&bo, "bob", WARD_AGE_ADULT);
    mk_acct(&kid, "kid", WARD_AGE_MINOR);
    mk_acct(&pat, "pat", WARD_AGE_ADULT);
    mk_acct(&out, "outsider", WARD_AGE_ADULT);
    give_keys(&kid);
    give_keys(&pat);
    give_keys(&bo);
    REQUIRE(ward_store_account_set_private(G.st, pat.id, 1) == WARD_OK);
    /* kid and pat follow alice only: she may add them, bob may not. */
    follow(&kid, &al);
    follow(&pat, &al);
    const acct *m[] = {&bo, &kid, &pat, NULL};
    int64_t gid = mk_group(&al, "club", m);

    /* bob's copies: pat (private, but in the group) gets them, kid (a
     * minor who does not follow him) does not; alice's reach everyone. */
    CHECK_EQ_INT(gsend(&bo, gid, epoch_of(gid), commit_a), 201);
    CHECK_EQ_INT(jnum(G.j, "recipients"), 2);
    CHECK_EQ_INT(jnum(G.j, "delivered"), 2);
    CHECK_EQ_INT(jnum(G.j, "withheld"), 1);
    CHECK_EQ_INT(queued(&kid, 4, NULL), 0);
    CHECK_EQ_INT(queued(&pat, 4, NULL), 1);
    CHECK_EQ_INT(gsend(&al, gid, epoch_of(gid), commit_a), 201);
    CHECK_EQ_INT(jnum(G.j, "withheld"), 0);
    CHECK_EQ_INT(queued(&kid, 4, NULL), 1);
    /* kid's own messages reach bob (a minor may write to an adult). */
    CHECK_EQ_INT(gsend(&kid, gid, epoch_of(gid), commit_a), 201);
    CHECK_EQ_INT(jnum(G.j, "withheld"), 0);
    /* Nor can bob, made admin, write to kid through the group's details,
     * which every member reads; alice can. */
    call("PATCH", gpath(gid, "/members/bob"), al.auth, "{\"role\":\"admin\"}");
    CHECK_EQ_INT(G.status, 200);
    call("PATCH", gpath(gid, ""), bo.auth, "{\"name\":\"hi kid\"}");
    CHECK_ERR(403, "withheld");
    call("PATCH", gpath(gid, ""), bo.auth, "{\"description\":\"x\"}");
    CHECK_ERR(403, "withheld");
    call("GET", gpath(gid, ""), kid.auth, NULL);
    CHECK_STR(jstr(G.j, "name"), "club");
    call("PATCH", gpath(gid, ""), al.auth, "{\"name\":\"club 2\"}");
    CHECK_EQ_INT(G.status, 200);
    /* Names that would read as something else are refused. */
    const char *tricky[] = {"{\"name\":\"a\\u202ebc\"}",
                            "{\"name\":\"a\\u2066b\"}",
                            "{\"name\":\"a\\u0085b\"}",
                            "{\"description\":\"x\\u009by\"}"};
    for (size_t i = 0; i < sizeof tricky / sizeof *tricky; i++) {
        call("PATCH", gpath(gid, ""), al.auth, tricky[i]);
        CHECK_ERR(400, "invalid_group");
    }
    call("PATCH", gpath(gid, ""), al.auth,
         "{\"name\":\"caf\\u00e9 \\u2014 \\u05e9\\u05dc\\u05d5\\u05dd\"}");
    CHECK_EQ_INT(G.status, 200); /* accents, dashes, right-to-left text */

    /* The handover follows the same rule: bob reaches pat in the group's
     * context (not directly), and kid in neither; the bundle fetch too. */
    CHECK_EQ_INT(dsend(&bo, &pat, 0), 403);
    CHECK_STR(ecode(), "recipient_private");
    CHECK_EQ_INT(bundle(&bo, &pat, 0), 403);
    CHECK_EQ_INT(bundle(&bo, &pat, gid), 200);
    CHECK_EQ_INT(dsend(&bo, &pat, gid), 201);
    size_t total;
    CHECK_EQ_INT(direct_in_group(&pat, gid, &total), 1);
    CHECK_EQ_INT(total, 1);
    CHECK_EQ_INT(bundle(&bo, &kid, gid), 403);
    CHECK_STR(ecode(), "withheld");
    CHECK_EQ_INT(dsend(&bo, &kid, gid), 403);
    CHECK_STR(ecode(), "withheld");
    CHECK_STR(jstr(json_object_get(G.j, "error"), "username"), "kid");
    CHECK_EQ_INT(dsend(&bo, &kid, 0), 403); /* and directly: private */
    CHECK_EQ_INT(direct_in_group(&kid, gid, &total), 0);
    CHECK_EQ_INT(total, 0);
    /* A context needs both to be members of the group. */
    CHECK_EQ_INT(dsend(&out, &pat, gid), 404);
    CHECK_STR(ecode(), "no_such_group");
    CHECK_EQ_INT(bundle(&out, &pat, gid), 404);
    CHECK_EQ_INT(dsend(&bo, &out, gid), 404);
    CHECK_STR(ecode(), "not_member");
    CHECK_EQ_INT(dsend(&bo, &pat, gid + 100), 404);
    call_full("GET", "/v1/keys/pat", "group=x", bo.auth, NULL, 0, NULL);
    CHECK_ERR(400, "invalid_query");
    call_full("GET", "/v1/keys/pat", "group=0", bo.auth, NULL, 0, NULL);
    CHECK_ERR(400, "invalid_query");
    call_full("GET", "/v1/keys/pat", "other=1", bo.auth, NULL, 0, NULL);
    CHECK_ERR(400, "invalid_query");
    /* The WebSocket: a frame with "to" and "group" is a handover. */
    ward_http_resp rs;
    ward_http_resp_init(&rs);
    json_t *w = json_pack("{s:s,s:i,s:o,s:o,s:I}", "to", "pat", "type", 2,
                          "body", b64j(ct, sizeof ct), "commitment",
                          b64j(commit_a, 32), "group", (json_int_t)gid);
    size_t done = G.f.n_done;
    CHECK_EQ_INT(ward_api_send_json(G.api, bo.id, w, NULL, &rs),
                 WARD_API_DEFERRED);
    ward_api_flush(G.api);
    CHECK_EQ_INT(G.f.n_done, done + 1);
    CHECK_EQ_INT(G.f.done[done].status, 201);
    CHECK_EQ_INT(direct_in_group(&pat, gid, &total), 2);
    json_object_set_new(w, "to", json_string("kid"));
    ward_http_resp_release(&rs);
    ward_http_resp_init(&rs);
    CHECK_EQ_INT(ward_api_send_json(G.api, bo.id, w, NULL, &rs),
                 WARD_API_DONE);
    CHECK_EQ_INT(rs.status, 403);
    ward_http_resp_release(&rs);
    json_decref(w);

    /* "unkeyed": still out of reach, fine; once kid follows bob, the send
     * is refused until bob hands kid the key. */
    const char *kid_only[] = {"kid", NULL}, *none[] = {NULL};
    const char *strangers[] = {"outsider", "alice-not", NULL};
    CHECK_EQ_INT(gsend_unkeyed(&bo, gid, kid_only), 201);
    CHECK_EQ_INT(gsend_unkeyed(&bo, gid, strangers), 201);
    follow(&kid, &bo);
    CHECK_EQ_INT(gsend_unkeyed(&bo, gid, kid_only), 409);
    CHECK_STR(ecode(), "members_reachable");
    json_t *names = json_object_get(json_object_get(G.j, "error"), "members");
    CHECK(json_array_size(names) == 1 &&
          strcmp(json_string_value(json_array_get(names, 0)), "kid") == 0);
    CHECK_EQ_INT(queued(&kid, 4, NULL), 1); /* alice's only */
    CHECK_EQ_INT(bundle(&bo, &kid, gid), 200);
    CHECK_EQ_INT(dsend(&bo, &kid, gid), 201);
    CHECK_EQ_INT(gsend_unkeyed(&bo, gid, none), 201);
    CHECK_EQ_INT(jnum(G.j, "withheld"), 0);
    CHECK_EQ_INT(queued(&kid, 4, NULL), 2);

    /* A block either way withholds both ways, the handover too. */
    REQUIRE(ward_store_block(G.st, pat.id, WARD_AGE_ADULT, bo.id, G.f.now,
                             NULL) == WARD_OK);
    CHECK_EQ_INT(gsend(&bo, gid, epoch_of(gid), commit_a), 201);
    CHECK_EQ_INT(jnum(G.j, "withheld"), 1);
    CHECK_EQ_INT(gsend(&pat, gid, epoch_of(gid), commit_a), 201);
    CHECK_EQ_INT(jnum(G.j, "withheld"), 2); /* bob, and kid (not following) */
    CHECK_EQ_INT(dsend(&bo, &pat, gid), 403);
    CHECK_STR(ecode(), "blocked_by_recipient");
    CHECK_EQ_INT(dsend(&pat, &bo, gid), 403);
    CHECK_STR(ecode(), "you_blocked");
    env_close();
}

/* Group creations and adds come out of one budget per account; a
 * refused add (no such user) costs as much as one that goes through. */
static void test_group_budget(void)
{
    ward_api_config cfg = test_cfg();
    cfg.group_burst = 4;
    cfg.group_per_minute = 1;
    env_open(&cfg);
    acct al, bo, ca, da;
    mk_acct(&al, "alice", WARD_AGE_ADULT);
    mk_acct(&bo, "bob", WARD_AGE_ADULT);
    mk_acct(&ca, "carol", WARD_AGE_ADULT);
    mk_acct(&da, "dave", WARD_AGE_ADULT);
    int64_t gid = mk_group(&al, "club", NULL);             /* 1 */
    call("POST", gpath(gid, "/members"), al.auth, "{\"username\":\"bob\"}");
    CHECK_EQ_INT(G.status, 201);                            /* 2 */
    call("POST", gpath(gid, "/members"), al.auth,
         "{\"username\":\"nobody\"}");
    CHECK_ERR(404, "no_such_user");                         /* 3 */
    call("POST", gpath(gid, "/members"), al.auth,
         "{\"username\":\"carol\"}");
    CHECK_EQ_INT(G.status, 201);                            /* 4 */
    call("POST", gpath(gid, "/members"), al.auth, "{\"username\":\"dave\"}");
    CHECK_ERR(429, "rate_limited");
    CHECK(!is_member(gid, &da));
    call("POST", "/v1/groups", al.auth, "{\"name\":\"another\"}");
    CHECK_ERR(429, "rate_limited");
    /* another account's budget is its own */
    call("POST", "/v1/groups", bo.auth, "{\"name\":\"bob's\"}");
    CHECK_EQ_INT(G.status, 201);
    /* a minute later: one more */
    G.f.now += 60 * 1000;
    call("POST", gpath(gid, "/members"), al.auth, "{\"username\":\"dave\"}");
    CHECK_EQ_INT(G.status, 201);
    call("POST", gpath(gid, "/members"), al.auth, "{\"username\":\"dave\"}");
    CHECK_ERR(429, "rate_limited");
    env_close();
}

/* ------------------------------------------------------------------------ */
/* The avatar: an image the server sees, checked against the hash lists.    */

/* A 64x64 PNG: blocks of random greys (|kind| 0), the same turned a
 * quarter (2), or a checkerboard (1). */
static gen_buf test_png(int kind)
{
    static uint8_t raw[64 * 64 * 3];
    uint8_t block[8][8];
    uint32_t r = 12345;
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) {
            r = r * 1103515245u + 12345u;
            block[i][j] = (uint8_t)(r >> 24);
        }
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 64; x++) {
            uint8_t v = kind == 1   ? (uint8_t)(((x / 8 + y / 8) % 2) * 255)
                        : kind == 2 ? block[x / 8][(63 - y) / 8]
                                    : block[y / 8][x / 8];
            memset(raw + (y * 64 + x) * 3, v, 3);
        }
    return gen_png(64, 64, 2, 8, raw, sizeof raw, NULL, 0, 0);
}

/* A set in |dir| with one list holding the PDQ of |img|. */
static ward_match_set *set_with(const char *dir, const gen_buf *img)
{
    ward_image im;
    ward_pdq h;
    int q;
    char hex[WARD_PDQ_HEX_LEN + 1];
    REQUIRE(ward_media_decode(img->p, img->n, NULL, &im, NULL, 0) == WARD_OK);
    REQUIRE(ward_pdq_hash(im.pixels, im.width, im.height, im.channels, &h,
                          &q, NULL) == WARD_OK);
    ward_image_free(&im);
    CHECK(q > 0); /* a hash that means something */
    ward_pdq_format(&h, hex);
    ward_hl_entry e;
    memset(&e, 0, sizeof e);
    e.type = WARD_HL_PDQ;
    e.labels = "";
    for (int i = 0; i < 32; i++) {
        unsigned v;
        REQUIRE(sscanf(hex + 2 * i, "%2x", &v) == 1);
        e.hash[i] = (uint8_t)v;
    }
    ward_match_builder *b = NULL;
    REQUIRE(ward_match_builder_new(&b) == WARD_OK);
    REQUIRE(ward_match_builder_list(b, "known", "test", WARD_HL_REFERENCE,
                                    1) == WARD_OK);
    REQUIRE(ward_match_builder_add(b, &e) == WARD_OK);
    REQUIRE(ward_match_builder_write(b, dir) == WARD_OK);
    ward_match_builder_free(b);
    ward_match_set *set = NULL;
    REQUIRE(ward_match_open(dir, &set, NULL, 0) == WARD_OK);
    return set;
}

static void put_avatar(const acct *a, int64_t gid, const void *p, size_t n)
{
    call_full("PUT", gpath(gid, "/avatar"), NULL, a->auth, p, n, NULL);
}

static void test_avatar(void)
{
    ward_api_config cfg = test_cfg();
    env_open(&cfg);
    acct al, bo, kid, out;
    mk_acct(&al, "alice", WARD_AGE_ADULT);
    mk_acct(&bo, "bob", WARD_AGE_ADULT);
    mk_acct(&kid, "kid", WARD_AGE_MINOR);
    mk_acct(&out, "outsider", WARD_AGE_ADULT);
    follow(&kid, &al);
    const acct *m[] = {&bo, &kid, NULL};
    int64_t gid = mk_group(&al, "club", m);
    gen_buf known = test_png(0), fresh = test_png(1);
    char dir[] = "/tmp/ward_avatar_XXXXXX";
    REQUIRE(mkdtemp(dir));
    ward_match_set *set = set_with(dir, &known);
    ward_api_set_match(G.api, set);
    ward_api_stats st0, st1;
    ward_api_stats_get(G.api, &st0);

    /* An image on a list is refused, and says no more. */
    put_avatar(&al, gid, known.p, known.n);
    CHECK_ERR(422, "image_refused");
    call("GET", gpath(gid, "/avatar"), bo.auth, NULL);
    CHECK_ERR(404, "no_avatar");
    /* ...in any of its eight orientations: the same image turned too. */
    gen_buf turned = test_png(2);
    put_avatar(&al, gid, turned.p, turned.n);
    CHECK_ERR(422, "image_refused");
    free(turned.p);
    /* Another is taken: every member sees it, byte for byte. */
    put_avatar(&al, gid, fresh.p, fresh.n);
    CHECK_EQ_INT(G.status, 200);
    char want[WARD_BLOB_ID_LEN + 1];
    uint8_t h[crypto_hash_sha256_BYTES]; /* not the code's own helper */
    crypto_hash_sha256(h, fresh.p, fresh.n);
    for (int i = 0; i < WARD_BLOB_ID_LEN / 2; i++)
        snprintf(want + 2 * i, 3, "%02x", h[i]);
    CHECK_STR(jstr(G.j, "avatar"), want);
    json_t *ev = last_event(&bo);
    CHECK_STR(jstr(ev, "event"), "updated");
    for (int who = 0; who < 2; who++) {
        call("GET", gpath(gid, "/avatar"), who ? kid.auth : bo.auth, NULL);
        CHECK_EQ_INT(G.status, 200);
        CHECK(G.raw_len == fresh.n && memcmp(G.raw, fresh.p, fresh.n) == 0);
    }
    ward_api_stats_get(G.api, &st1);
    CHECK(st1.images_checked == st0.images_checked + 3 &&
          st1.images_matched == st0.images_matched + 2);

    /* Not members: as for a group that does not exist. */
    call("GET", gpath(gid, "/avatar"), out.auth, NULL);
    CHECK_ERR(404, "no_such_group");
    put_avatar(&out, gid, fresh.p, fresh.n);
    CHECK_ERR(404, "no_such_group");
    /* Admins only; not an image; an admin the rules keep from a member. */
    put_avatar(&bo, gid, fresh.p, fresh.n);
    CHECK_ERR(403, "not_admin");
    put_avatar(&al, gid, "GIF89a, or is it", 16);
    CHECK_ERR(400, "invalid_avatar");
    put_avatar(&al, gid, "hello", 5);
    CHECK_ERR(400, "invalid_avatar");
    put_avatar(&al, gid, fresh.p, fresh.n / 2); /* truncated */
    CHECK_ERR(400, "invalid_avatar");
    put_avatar(&al, gid, NULL, 0);
    CHECK_ERR(400, "invalid_avatar");
    call("PATCH", gpath(gid, "/members/bob"), al.auth, "{\"role\":\"admin\"}");
    CHECK_EQ_INT(G.status, 200);
    put_avatar(&bo, gid, fresh.p, fresh.n); /* kid does not follow bob */
    CHECK_ERR(403, "withheld");
    call("POST", gpath(gid, "/avatar"), al.auth, NULL);
    CHECK_ERR(405, "method_not_allowed");
    /* Removed; then the lists are no longer consulted (none attached). */
    call("DELETE", gpath(gid, "/avatar"), al.auth, NULL);
    CHECK_EQ_INT(G.status, 200);
    CHECK(json_is_null(json_object_get(G.j, "avatar")));
    call("GET", gpath(gid, "/avatar"), kid.auth, NULL);
    CHECK_ERR(404, "no_avatar");
    ward_api_set_match(G.api, NULL);
    put_avatar(&al, gid, known.p, known.n);
    CHECK_EQ_INT(G.status, 200);
    env_close();
    ward_match_close(set);
    rm_flat_dir(dir);
    free(known.p);
    free(fresh.p);
}

int main(void)
{
    REQUIRE(ward_crypto_init() == WARD_OK);
    test_create_and_read();
    test_update();
    test_members();
    test_handover();
    test_fanout();
    test_send_input();
    test_epoch();
    test_reports();
    test_minor_added();
    test_policy_at_add();
    test_status_blocks_full();
    test_reach_in_group();
    test_group_budget();
    test_avatar();
    return wtest_done("test_api_groups");
}
