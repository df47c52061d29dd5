/*
 * /v1/groups: end-to-end encrypted groups, as the server sees them. It
 * keeps each group's details and membership, checks the contact policy
 * when someone is added, and fans each group message (a SenderKeyMessage
 * it cannot read) out to the members' queues in the group commit. A
 * sender names the membership epoch it encrypted for: an older one means
 * it missed a change and must rotate its sender key first (409).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "ward/crypto.h"
#include "ward/match.h"
#include "ward/media.h"
#include "ward/pdq.h"

static void no_group(ward_http_resp *resp)
{
    ward_resp_error(resp, 404, "no_such_group", "no such group");
}

/* One group creation or add taken from |me|'s budget: 0, or -1 with the
 * 429 written. Adding strangers to groups is a way to reach them, and a
 * way to flood them. */
static int group_budget(ward_api *api, const ward_account *me,
                        ward_http_resp *resp)
{
    if (ward_ratelimit_take(api->group_by_account, me->username,
                            ward_api_now(api)))
        return 0;
    api->stats.rate_limited++;
    ward_resp_error(resp, 429, "rate_limited",
                    "creating groups or adding members too fast; slow down");
    return -1;
}

/* Characters (not bytes) of valid UTF-8 (jansson checked it). */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* A name: 1 to 64 characters, no control characters (C0, DEL, C1) nor
 * the bidirectional embeddings, overrides and isolates (U+202A-U+202E,
 * U+2066-U+2069) that would make a name read as something else. A
 * description: up to 500, line breaks and tabs allowed. The text is
 * valid UTF-8 (jansson checked it). */
static int text_ok(const char *s, size_t max_chars, int multiline)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p < 0x20 && !(multiline && (*p == '\n' || *p == '\t'))) ||
            *p == 0x7f)
            return 0;
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            return 0; /* U+0080-U+009F */
        if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae)
            return 0; /* U+202A-U+202E */
        if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
            return 0; /* U+2066-U+2069 */
    }
    return utf8_chars(s) <= max_chars;
}

/* A group id in a path: 1 to 18 digits, no leading zero. */
static int parse_id(const char *s, size_t len, int64_t *out)
{
    int64_t v = 0;
    if (len == 0 || len > 18 || s[0] == '0')
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static const char *role_name(int role)
{
    return role == WARD_GROUP_ADMIN ? "admin" : "member";
}

/* The group and the caller's membership; a group one is not a member of
 * answers like one that does not exist. */
static int load(ward_api *api, int64_t gid, const ward_account *me,
                ward_group *g, ward_group_member *mine, ward_http_resp *resp)
{
    ward_err e = ward_store_group_member(api->st, gid, me->id, mine);
    if (!e)
        e = ward_store_group_get(api->st, gid, g);
    if (e == WARD_ERR_NOT_FOUND)
        no_group(resp);
    else if (e)
        ward_api_store_error(api, resp, e);
    return e ? -1 : 0;
}

static int require_admin(const ward_group_member *mine, ward_http_resp *resp)
{
    if (mine->role == WARD_GROUP_ADMIN)
        return 0;
    ward_resp_error(resp, 403, "not_admin", "only the group's admins can");
    return -1;
}

/* ---- answers ---- */

typedef struct members_ctx {
    ward_group_member *m;
    size_t n, cap;
    int oom;
} members_ctx;

static int collect(void *p, const ward_group_member *m)
{
    members_ctx *c = p;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        ward_group_member *q = realloc(c->m, cap * sizeof *q);
        if (!q) {
            c->oom = 1;
            return 1;
        }
        c->m = q, c->cap = cap;
    }
    c->m[c->n++] = *m;
    return 0;
}

/* An account's name, or JSON null for one deleted since. */
static json_t *name_of(ward_api *api, int64_t id, const members_ctx *known)
{
    for (size_t i = 0; known && i < known->n; i++)
        if (known->m[i].account == id)
            return json_string(known->m[i].username);
    ward_account a;
    if (ward_store_account_by_id(api->st, id, &a) == WARD_OK)
        return json_string(a.username);
    return json_null();
}

static json_t *summary_json(ward_api *api, const ward_group *g, int my_role,
                            const members_ctx *known)
{
    return json_pack("{s:I,s:s,s:s,s:o,s:o,s:I,s:I,s:s}", "id",
                     (json_int_t)g->id, "name", g->name, "description",
                     g->description, "avatar",
                     g->avatar[0] ? json_string(g->avatar) : json_null(),
                     "created_by", name_of(api, g->created_by, known),
                     "created_at", (json_int_t)g->created_at, "epoch",
                     (json_int_t)g->epoch, "role", role_name(my_role));
}

/* The group with its members (for its members). */
static void group_answer(ward_api *api, int status, const ward_group *g,
                         int my_role, ward_http_resp *resp)
{
    members_ctx c = {0};
    ward_err e = ward_store_group_members(api->st, g->id, collect, &c);
    if (!e && c.oom)
        e = WARD_ERR_NOMEM;
    json_t *list = e ? NULL : json_array();
    for (size_t i = 0; list && i < c.n; i++) {
        const ward_group_member *m = &c.m[i];
        json_t *o = json_pack(
            "{s:s,s:I,s:s,s:o,s:I}", "username", m->username, "id",
            (json_int_t)m->account, "role", role_name(m->role), "added_by",
            m->added_by == m->account ? json_null()
                                      : name_of(api, m->added_by, &c),
            "joined_at", (json_int_t)m->joined_at);
        if (!o || json_array_append_new(list, o)) {
            json_decref(list);
            list = NULL;
        }
    }
    json_t *o = list ? summary_json(api, g, my_role, &c) : NULL;
    if (o && json_object_set_new(o, "members", list) == 0)
        ward_resp_json(resp, status, o);
    else if (e)
        ward_api_store_error(api, resp, e);
    else {
        json_decref(o);
        ward_api_store_error(api, resp, WARD_ERR_NOMEM);
    }
    free(c.m);
}

/* ---- create and list ---- */

/* What a minor added to a group is told (a notice, beside the event). */
static void added_notice(char *out, size_t cap, const char *adder,
                         const char *group)
{
    snprintf(out, cap,
             "%s added you to the group \"%s\". If you do not want to be in "
             "it, leave it: you can block %s at the same time.",
             adder, group, adder);
}

static int create(ward_api *api, const ward_http_req *req,
                  ward_http_resp *resp)
{
    static const char *const keys[] = {"name", "description", "members",
                                       NULL};
    ward_account me;
    if (ward_api_require_account(api, req, resp, &me))
        return WARD_API_DONE;
    json_t *body = ward_api_body(req, resp, keys);
    if (!body)
        return WARD_API_DONE;
    const char *name = NULL, *desc = NULL;
    json_t *list = json_object_get(body, "members");
    size_t n = list ? json_array_size(list) : 0;
    ward_account *them = NULL;
    int64_t *ids = NULL;
    char(*notes)[WARD_NOTICE_TEXT_MAX + 1] = NULL;
    const char **notice = NULL;
    if (ward_json_str(body, "name", 1, WARD_GROUP_NAME_MAX * 4, &name) ||
        !name[0] || !text_ok(name, WARD_GROUP_NAME_MAX, 0) ||
        ward_json_str(body, "description", 0, WARD_GROUP_DESC_MAX * 4,
                      &desc) ||
        (desc && !text_ok(desc, WARD_GROUP_DESC_MAX, 1)) ||
        (list && !json_is_array(list))) {
        ward_resp_error(resp, 400, "invalid_group",
                        "name (1 to 64 characters), an optional description "
                        "(up to 500) and members (a list of usernames)");
        goto out;
    }
    if (n + 1 > api->cfg.max_group_members) {
        ward_resp_error(resp, 413, "group_too_large",
                        "a group has more members than the server allows");
        goto out;
    }
    if (group_budget(api, &me, resp))
        goto out;
    them = calloc(n ? n : 1, sizeof *them);
    ids = calloc(n ? n : 1, sizeof *ids);
    notes = calloc(n ? n : 1, sizeof *notes);
    notice = calloc(n ? n : 1, sizeof *notice);
    if (!them || !ids || !notes || !notice) {
        ward_api_store_error(api, resp, WARD_ERR_NOMEM);
        goto out;
    }
    /* Every name read and checked before anything is stored. */
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(list, i);
        if (!json_is_string(v)) {
            ward_resp_error(resp, 400, "invalid_group",
                            "members is a list of usernames");
            goto out;
        }
        if (ward_api_account_named(api, json_string_value(v), resp, &them[i]))
            goto out;
        if (them[i].id == me.id) {
            ward_resp_error(resp, 400, "self",
                            "you are in the group already: list the others");
            goto out;
        }
        for (size_t k = 0; k < i; k++)
            if (ids[k] == them[i].id) {
                ward_resp_error(resp, 400, "invalid_group",
                                "members lists someone twice");
                goto out;
            }
        ids[i] = them[i].id;
    }
    for (size_t i = 0; i < n; i++) {
        if (ward_api_policy_check_named(api, &me, &them[i],
                                        WARD_ENTRY_GROUP_ADD, 1, resp))
            goto out;
        if (them[i].age_band == WARD_AGE_MINOR) {
            added_notice(notes[i], sizeof notes[i], me.username, name);
            notice[i] = notes[i];
        }
    }
    ward_group g;
    memset(&g, 0, sizeof g);
    snprintf(g.name, sizeof g.name, "%s", name);
    snprintf(g.description, sizeof g.description, "%s", desc ? desc : "");
    g.created_by = me.id;
    g.created_at = ward_api_now(api);
    ward_err e = ward_store_group_create(api->st, &g, ids, n, notice,
                                         api->cfg.max_queue);
    if (!e)
        e = ward_store_group_get(api->st, g.id, &g);
    if (e)
        ward_api_store_error(api, resp, e);
    else
        group_answer(api, 201, &g, WARD_GROUP_ADMIN, resp);
out:
    free(them);
    free(ids);
    free(notes);
    free(notice);
    json_decref(body);
    return WARD_API_DONE;
}

typedef struct mine_ctx {
    ward_api *api;
    json_t *list;
    int oom;
} mine_ctx;

static int add_mine(void *p, const ward_group *g, int role)
{
    mine_ctx *c = p;
    json_t *o = summary_json(c->api, g, role, NULL);
    if (!o || json_array_append_new(c->list, o)) {
        c->oom = 1;
        return 1;
    }
    return 0;
}

static int list_mine(ward_api *api, const ward_http_req *req,
                     ward_http_resp *resp)
{
    ward_account me;
    if (ward_api_require_account(api, req, resp, &me))
        return WARD_API_DONE;
    mine_ctx c = {api, json_array(), 0};
    ward_err e = c.list ? ward_store_groups_of(api->st, me.id, add_mine, &c)
                        : WARD_ERR_NOMEM;
    if (!e && c.oom)
        e = WARD_ERR_NOMEM;
    if (e) {
        json_decref(c.list);
        ward_api_store_error(api, resp, e);
        return WARD_API_DONE;
    }
    ward_resp_json(resp, 200, json_pack("{s:o}", "groups", c.list));
    return WARD_API_DONE;
}

/* ---- one group ---- */

static int get_one(ward_api *api, const ward_account *me, int64_t gid,
                   ward_http_resp *resp)
{
    ward_group g;
    ward_group_member mine;
    if (!load(api, gid, me, &g, &mine, resp))
        group_answer(api, 200, &g, mine.role, resp);
    return WARD_API_DONE;
}

static ward_err count_withheld(ward_api *api, const ward_account *me,
                               int64_t gid, size_t *n);

/* A group's details and avatar are what every member sees, from the
 * admin who set them: not from one the rules keep some member from (a
 * block, a minor who does not follow it); another admin can. 0, or -1
 * with the refusal written. */
static int refuse_if_withheld(ward_api *api, const ward_account *me,
                              int64_t gid, ward_http_resp *resp)
{
    size_t withheld = 0;
    ward_err e = count_withheld(api, me, gid, &withheld);
    if (e) {
        ward_api_store_error(api, resp, e);
        return -1;
    }
    if (!withheld)
        return 0;
    api->stats.policy_refused++;
    ward_resp_error(resp, 403, "withheld",
                    "the contact rules keep your messages from some members "
                    "of this group, so you cannot change what they all see; "
                    "another admin can");
    return -1;
}

static int patch_one(ward_api *api, const ward_http_req *req,
                     const ward_account *me, int64_t gid,
                     ward_http_resp *resp)
{
    static const char *const keys[] = {"name", "description", "avatar",
                                       NULL};
    ward_group g;
    ward_group_member mine;
    if (load(api, gid, me, &g, &mine, resp) || require_admin(&mine, resp))
        return WARD_API_DONE;
    json_t *body = ward_api_body(req, resp, keys);
    if (!body)
        return WARD_API_DONE;
    const char *name = NULL, *desc = NULL, *avatar = NULL;
    json_t *av = json_object_get(body, "avatar");
    if (ward_json_str(body, "name", 0, WARD_GROUP_NAME_MAX * 4, &name) ||
        (name && (!name[0] || !text_ok(name, WARD_GROUP_NAME_MAX, 0))) ||
        ward_json_str(body, "description", 0, WARD_GROUP_DESC_MAX * 4,
                      &desc) ||
        (desc && !text_ok(desc, WARD_GROUP_DESC_MAX, 1)) ||
        (av && !json_is_null(av)) ||
        json_object_size(body) == 0) {
        ward_resp_error(resp, 400, "invalid_group",
                        "any of name (1 to 64 characters), description (up "
                        "to 500) and avatar (null, to remove it; an image "
                        "is set with PUT /v1/groups/{id}/avatar)");
        goto out;
    }
    if (av && json_is_null(av))
        avatar = ""; /* removes it */
    if (refuse_if_withheld(api, me, gid, resp))
        goto out;
    ward_err e =
        avatar ? ward_store_group_avatar_set(api->st, gid, me->id, NULL, 0,
                                             NULL, NULL, ward_api_now(api),
                                             api->cfg.max_queue)
               : WARD_OK;
    if (!e && (name || desc))
        e = ward_store_group_update(api->st, gid, me->id, name, desc, NULL,
                                    ward_api_now(api), api->cfg.max_queue);
    if (!e)
        e = ward_store_group_get(api->st, gid, &g);
    if (e == WARD_ERR_NOT_FOUND)
        no_group(resp);
    else if (e)
        ward_api_store_error(api, resp, e);
    else
        group_answer(api, 200, &g, mine.role, resp);
out:
    json_decref(body);
    return WARD_API_DONE;
}

/* ---- the avatar: an image the server sees ---- */

static int on_list_hit(void *ctx, const ward_match_hit *hit)
{
    (void)hit;
    ++*(size_t *)ctx;
    return 1; /* one is enough */
}

/* |n| bytes as an avatar: 0 with its type and name set, or -1 with the
 * refusal written (not an image we take, or an image on a hash list). */
static int avatar_check(ward_api *api, const uint8_t *p, size_t n,
                        const char **type, char id[WARD_BLOB_ID_LEN + 1],
                        ward_http_resp *resp)
{
    ward_media_format f = ward_media_sniff(p, n);
    *type = f == WARD_MEDIA_JPEG   ? "image/jpeg"
            : f == WARD_MEDIA_PNG  ? "image/png"
            : f == WARD_MEDIA_GIF  ? "image/gif"
            : f == WARD_MEDIA_WEBP ? "image/webp"
                                   : NULL;
    ward_image img;
    char why[160] = "";
    /* A picture for a group, decoded on the event loop: small. */
    ward_media_opts mo = {.max_pixels = 4000000};
    if (!*type) {
        ward_resp_error(resp, 400, "invalid_avatar",
                        "the body must be a JPEG, PNG, GIF or WebP image");
        return -1;
    }
    ward_err e = ward_media_decode(p, n, &mo, &img, why, sizeof why);
    if (e == WARD_ERR_NOMEM) {
        ward_resp_error(resp, 503, "busy", "out of memory");
        return -1;
    }
    if (e) {
        char msg[240];
        snprintf(msg, sizeof msg, "not a readable image: %s", why);
        ward_resp_error(resp, 400, "invalid_avatar", msg);
        return -1;
    }
    /* Every image the server sees is checked against the hash lists, in
     * its eight orientations. */
    ward_pdq v[WARD_PDQ_VARIANTS];
    int quality = 0;
    size_t hits = 0;
    e = ward_pdq_hash(img.pixels, img.width, img.height, img.channels, &v[0],
                      &quality, v);
    ward_image_free(&img);
    if (!e && api->match)
        e = ward_match_pdq_dihedral(api->match, v, WARD_PDQ_MATCH_DISTANCE,
                                    on_list_hit, &hits);
    if (e) {
        ward_api_store_error(api, resp, e);
        return -1;
    }
    api->stats.images_checked++;
    if (hits) {
        /* Said as plainly as any other refusal: the uploader learns that
         * this image is not taken, not which list has it. */
        api->stats.images_matched++;
        ward_resp_error(resp, 422, "image_refused",
                        "this image cannot be used");
        return -1;
    }
    uint8_t h[WARD_SHA256_LEN];
    ward_sha256(h, p, n);
    for (int i = 0; i < WARD_BLOB_ID_LEN / 2; i++)
        snprintf(id + 2 * i, 3, "%02x", h[i]);
    return 0;
}

static int avatar_req(ward_api *api, const ward_http_req *req,
                      const ward_account *me, int64_t gid,
                      ward_http_resp *resp)
{
    ward_group g;
    ward_group_member mine;
    if (load(api, gid, me, &g, &mine, resp))
        return WARD_API_DONE;
    if (strcmp(req->method, "GET") == 0) {
        char type[32];
        char id[WARD_BLOB_ID_LEN + 1];
        ward_buf_clear(&resp->body);
        ward_err e = ward_store_group_avatar_get(api->st, gid, &resp->body,
                                                 type, sizeof type, id,
                                                 sizeof id);
        if (e == WARD_ERR_NOT_FOUND)
            ward_resp_error(resp, 404, "no_avatar", "the group has no avatar");
        else if (e)
            ward_api_store_error(api, resp, e);
        else {
            resp->status = 200;
            resp->content_type = strcmp(type, "image/jpeg") == 0  ? "image/jpeg"
                                 : strcmp(type, "image/png") == 0 ? "image/png"
                                 : strcmp(type, "image/gif") == 0 ? "image/gif"
                                 : "image/webp";
        }
        return WARD_API_DONE;
    }
    if (require_admin(&mine, resp))
        return WARD_API_DONE;
    int put = strcmp(req->method, "PUT") == 0;
    const char *type = NULL;
    char id[WARD_BLOB_ID_LEN + 1] = "";
    if (put) {
        if (refuse_if_withheld(api, me, gid, resp))
            return WARD_API_DONE;
        /* Decoding and hashing run on the event loop (up to about 0.1 s
         * for 4 million pixels): out of the budget of group changes. */
        if (group_budget(api, me, resp) ||
            avatar_check(api, req->body, req->body_len, &type, id, resp))
            return WARD_API_DONE;
    }
    ward_err e = ward_store_group_avatar_set(
        api->st, gid, me->id, put ? req->body : NULL, req->body_len, type, id,
        ward_api_now(api), api->cfg.max_queue);
    if (!e)
        e = ward_store_group_get(api->st, gid, &g);
    if (e == WARD_ERR_NOT_FOUND)
        no_group(resp);
    else if (e)
        ward_api_store_error(api, resp, e);
    else
        group_answer(api, 200, &g, mine.role, resp);
    return WARD_API_DONE;
}

/* ---- members ---- */

static int add_member(ward_api *api, const ward_http_req *req,
                      const ward_account *me, int64_t gid,
                      ward_http_resp *resp)
{
    static const char *const keys[] = {"username", NULL};
    ward_group g;
    ward_group_member mine;
    ward_account them;
    if (load(api, gid, me, &g, &mine, resp) || require_admin(&mine, resp))
        return WARD_API_DONE;
    json_t *body = ward_api_body(req, resp, keys);
    if (!body)
        return WARD_API_DONE;
    const char *name;
    if (ward_json_str(body, "username", 1, WARD_USERNAME_MAX, &name)) {
        ward_resp_error(resp, 400, "invalid_username",
                        "username (a string) is required");
        goto out;
    }
    /* Before anything about the account is looked up: a refused add
     * costs as much as one that goes through. */
    if (group_budget(api, me, resp) ||
        ward_api_account_named(api, name, resp, &them))
        goto out;
    ward_group_member already;
    if (ward_store_group_member(api->st, gid, them.id, &already) ==
        WARD_OK) {
        ward_resp_error(resp, 409, "already_member",
                        "that account is in the group already");
        goto out;
    }
    if (ward_api_policy_check(api, me, &them, WARD_ENTRY_GROUP_ADD, resp))
        goto out;
    char note[WARD_NOTICE_TEXT_MAX + 1];
    if (them.age_band == WARD_AGE_MINOR)
        added_notice(note, sizeof note, me->username, g.name);
    int64_t epoch = 0;
    ward_err e = ward_store_group_add(
        api->st, gid, them.id, me->id, ward_api_now(api),
        api->cfg.max_group_members,
        them.age_band == WARD_AGE_MINOR ? note : NULL, api->cfg.max_queue,
        &epoch);
    if (e == WARD_ERR_LIMIT)
        ward_resp_error(resp, 409, "group_full",
                        "the group has as many members as the server allows");
    else if (e == WARD_ERR_EXISTS)
        ward_resp_error(resp, 409, "already_member",
                        "that account is in the group already");
    else if (e == WARD_ERR_NOT_FOUND)
        no_group(resp);
    else if (e)
        ward_api_store_error(api, resp, e);
    else
        ward_resp_json(resp, 201,
                       json_pack("{s:I,s:s,s:I}", "group", (json_int_t)gid,
                                 "username", them.username, "epoch",
                                 (json_int_t)epoch));
out:
    json_decref(body);
    return WARD_API_DONE;
}

/* The member named |username| of |gid|: 0, or -1 with the 404 written. */
static int member_named(ward_api *api, int64_t gid, const char *username,
                        ward_account *them, ward_group_member *m,
                        ward_http_resp *resp)
{
    ward_err e = ward_auth_username_valid(username)
                     ? ward_store_account_by_name(api->st, username, them)
                     : WARD_ERR_NOT_FOUND;
    if (!e)
        e = ward_store_group_member(api->st, gid, them->id, m);
    if (e == WARD_ERR_NOT_FOUND)
        ward_resp_error(resp, 404, "not_member",
                        "no member of the group has that name");
    else if (e)
        ward_api_store_error(api, resp, e);
    return e ? -1 : 0;
}

int ward_api_group_reach(ward_api *api, const ward_account *me,
                         const ward_account *them, int64_t gid,
                         ward_http_resp *resp)
{
    ward_group g;
    ward_group_member mine, theirs;
    ward_account again;
    if (load(api, gid, me, &g, &mine, resp) ||
        member_named(api, gid, them->username, &again, &theirs, resp))
        return -1;
    return ward_api_policy_check_named(api, me, them, WARD_ENTRY_GROUP_SEND,
                                       1, resp);
}

/* Leaves |gid|; with |block|, blocks the account that added |me| too. */
static int leave(ward_api *api, const ward_account *me, int64_t gid,
                 const ward_group_member *mine, int block,
                 ward_http_resp *resp)
{
    ward_account adder;
    int blocked = 0;
    int64_t now = ward_api_now(api);
    /* The block first: if leaving then fails, asking again is harmless. */
    if (block && mine->added_by != me->id &&
        ward_store_account_by_id(api->st, mine->added_by, &adder) == WARD_OK) {
        ward_err e = ward_store_block(api->st, me->id, me->age_band, adder.id,
                                      now, NULL);
        if (e) {
            ward_api_store_error(api, resp, e);
            return WARD_API_DONE;
        }
        blocked = 1;
    }
    ward_err e = ward_store_group_remove(api->st, gid, me->id, me->id, now,
                                         api->cfg.max_queue, NULL);
    if (e == WARD_ERR_NOT_FOUND)
        no_group(resp);
    else if (e)
        ward_api_store_error(api, resp, e);
    else
        ward_resp_json(resp, 200,
                       json_pack("{s:I,s:o}", "left", (json_int_t)gid,
                                 "blocked",
                                 blocked ? json_string(adder.username)
                                         : json_null()));
    return WARD_API_DONE;
}

static int remove_member(ward_api *api, const ward_account *me, int64_t gid,
                         const char *username, ward_http_resp *resp)
{
    ward_group g;
    ward_group_member mine, theirs;
    ward_account them;
    if (load(api, gid, me, &g, &mine, resp))
        return WARD_API_DONE;
    if (strcmp(username, me->username) == 0)
        return leave(api, me, gid, &mine, 0, resp);
    if (require_admin(&mine, resp) ||
        member_named(api, gid, username, &them, &theirs, resp))
        return WARD_API_DONE;
    int64_t epoch = 0;
    ward_err e = ward_store_group_remove(api->st, gid, them.id, me->id,
                                         ward_api_now(api),
                                         api->cfg.max_queue, &epoch);
    if (e == WARD_ERR_NOT_FOUND)
        ward_resp_error(resp, 404, "not_member",
                        "no member of the group has that name");
    else if (e)
        ward_api_store_error(api, resp, e);
    else
        ward_resp_json(resp, 200,
                       json_pack("{s:I,s:s,s:I}", "group", (json_int_t)gid,
                                 "removed", them.username, "epoch",
                                 (json_int_t)epoch));
    return WARD_API_DONE;
}

static int set_role(ward_api *api, const ward_http_req *req,
                    const ward_account *me, int64_t gid,
                    const char *username, ward_http_resp *resp)
{
    static const char *const keys[] = {"role", NULL};
    ward_group g;
    ward_group_member mine, theirs;
    ward_account them;
    if (load(api, gid, me, &g, &mine, resp) || require_admin(&mine, resp))
        return WARD_API_DONE;
    json_t *body = ward_api_body(req, resp, keys);
    if (!body)
        return WARD_API_DONE;
    const char *role;
    int r = 0;
    if (ward_json_str(body, "role", 1, 16, &role) ||
        !(r = strcmp(role, "admin") == 0    ? WARD_GROUP_ADMIN
              : strcmp(role, "member") == 0 ? WARD_GROUP_MEMBER
                                            : 0)) {
        ward_resp_error(resp, 400, "invalid_role",
                        "role is \"admin\" or \"member\"");
        goto out;
    }
    if (member_named(api, gid, username, &them, &theirs, resp))
        goto out;
    ward_err e = ward_store_group_set_role(api->st, gid, them.id, r, me->id,
                                           ward_api_now(api),
                                           api->cfg.max_queue);
    if (e == WARD_ERR_CONFLICT)
        ward_resp_error(resp, 409, "last_admin",
                        "a group keeps at least one admin: make someone "
                        "else admin first");
    else if (e == WARD_ERR_NOT_FOUND)
        ward_resp_error(resp, 404, "not_member",
                        "no member of the group has that name");
    else if (e)
        ward_api_store_error(api, resp, e);
    else
        ward_resp_json(resp, 200,
                       json_pack("{s:I,s:s,s:s}", "group", (json_int_t)gid,
                                 "username", them.username, "role",
                                 role_name(r)));
out:
    json_decref(body);
    return WARD_API_DONE;
}

static int leave_req(ward_api *api, const ward_http_req *req,
                     const ward_account *me, int64_t gid,
                     ward_http_resp *resp)
{
    static const char *const keys[] = {"block", NULL};
    ward_group g;
    ward_group_member mine;
    if (load(api, gid, me, &g, &mine, resp))
        return WARD_API_DONE;
    int block = 0;
    /* The body is optional: none is {}. */
    if (req->body_len) {
        json_t *body = ward_api_body(req, resp, keys);
        if (!body)
            return WARD_API_DONE;
        json_t *b = json_object_get(body, "block");
        if (b && !json_is_boolean(b)) {
            json_decref(body);
            ward_resp_error(resp, 400, "invalid_request",
                            "block is true or false");
            return WARD_API_DONE;
        }
        block = json_is_true(b);
        json_decref(body);
    }
    return leave(api, me, gid, &mine, block, resp);
}

/* ---- sending ---- */

typedef struct rcpt_ctx {
    ward_api *api;
    const ward_account *sender;
    unsigned reads;   /* the facts the rules at a group send read */
    int sender_flag;  /* the sender's suspicious flag; -1: not read yet */
    group_rcpt *r;
    size_t n, cap, withheld;
    int oom, failed;
} rcpt_ctx;

/* Each member the contact policy lets the sender reach at a group send
 * becomes a recipient; the others are counted. The same rule governs the
 * key handover (send_checked), so a member gets a sender's messages
 * exactly when it can be handed the key to read them. */
static int add_rcpt(void *p, const ward_group_rcpt *m)
{
    rcpt_ctx *c = p;
    unsigned f = ward_api_pair_facts(c->sender->age_band, m->age_band,
                                     m->is_private, &m->rel);
    if ((c->reads & WARD_FACT_ACTOR_SUSPICIOUS) &&
        (f & WARD_FACT_TARGET_MINOR)) {
        if (c->sender_flag < 0 &&
            ward_api_suspicious(c->api, c->sender->id, c->sender->age_band,
                                &c->sender_flag)) {
            c->failed = 1;
            return 1;
        }
        f |= c->sender_flag ? WARD_FACT_ACTOR_SUSPICIOUS : 0;
    }
    if ((c->reads & WARD_FACT_TARGET_SUSPICIOUS) &&
        (f & WARD_FACT_ACTOR_MINOR)) {
        int flag;
        if (ward_api_suspicious(c->api, m->id, m->age_band, &flag)) {
            c->failed = 1;
            return 1;
        }
        f |= flag ? WARD_FACT_TARGET_SUSPICIOUS : 0;
    }
    if (ward_policy_decide(WARD_ENTRY_GROUP_SEND, f, NULL) != WARD_ALLOW) {
        c->withheld++;
        return 0;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        group_rcpt *q = realloc(c->r, cap * sizeof *q);
        if (!q) {
            c->oom = 1;
            return 1;
        }
        c->r = q, c->cap = cap;
    }
    c->r[c->n].id = m->id;
    memcpy(c->r[c->n].name, m->username, sizeof m->username);
    c->n++;
    return 0;
}

/* The members |me|'s group message would reach, and how many it would
 * not (|rc| is set; rc->r the caller's to free). */
static ward_err recipients_of(ward_api *api, const ward_account *me,
                              int64_t gid, rcpt_ctx *rc)
{
    *rc = (rcpt_ctx){.api = api,
                     .sender = me,
                     .reads = ward_policy_reads(WARD_ENTRY_GROUP_SEND),
                     .sender_flag = -1};
    ward_err e = ward_store_group_recipients(api->st, gid, me->id, add_rcpt,
                                             rc);
    if (!e && rc->oom)
        e = WARD_ERR_NOMEM;
    if (!e && rc->failed)
        e = WARD_ERR_STORE;
    return e;
}

static ward_err count_withheld(ward_api *api, const ward_account *me,
                               int64_t gid, size_t *n)
{
    rcpt_ctx rc;
    ward_err e = recipients_of(api, me, gid, &rc);
    *n = rc.withheld;
    free(rc.r);
    return e;
}

static int names_ok(json_t *arr, size_t max)
{
    size_t i;
    json_t *v;
    if (!json_is_array(arr) || json_array_size(arr) > max)
        return 0;
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v) || json_string_length(v) > WARD_USERNAME_MAX)
            return 0;
    }
    return 1;
}

/* The sender lists the members its key handover was refused to by the
 * contact rules ("unkeyed"); if the rules now let its messages reach one
 * of them (a follow since, a block lifted), a copy would be unreadable:
 * 409 members_reachable names them, to be handed the key first. 0 when
 * none. */
static int unkeyed_reachable(const rcpt_ctx *rc, json_t *unkeyed,
                             ward_http_resp *resp)
{
    json_t *names = NULL;
    size_t i;
    json_t *v;
    int oom = 0;
    json_array_foreach(unkeyed, i, v) {
        for (size_t k = 0; k < rc->n; k++) {
            if (strcmp(rc->r[k].name, json_string_value(v)) != 0)
                continue;
            if (!names && !(names = json_array()))
                oom = 1;
            else if (json_array_append_new(names,
                                           json_string(rc->r[k].name)))
                oom = 1;
            break;
        }
    }
    if (oom) {
        json_decref(names);
        ward_resp_error(resp, 503, "busy", "out of memory");
        return -1;
    }
    if (!names)
        return 0;
    ward_resp_json(resp, 409,
                   json_pack("{s:{s:s,s:s,s:o}}", "error", "code",
                             "members_reachable", "message",
                             "the contact rules now let your messages reach "
                             "these members: hand them your sender key and "
                             "send again",
                             "members", names));
    return -1;
}

static void membership_changed(ward_http_resp *resp, int64_t epoch)
{
    ward_resp_json(resp, 409,
                   json_pack("{s:{s:s,s:s,s:I}}", "error", "code",
                             "membership_changed", "message",
                             "the group's members changed: rotate your "
                             "sender key and send again",
                             "epoch", (json_int_t)epoch));
}

/* The checks and the queueing that HTTP and WebSocket group sends share;
 * |body| is borrowed. */
static int group_send(ward_api *api, const ward_account *me,
                      const ward_group *gp, json_t *body, void *opaque,
                      ward_http_resp *resp)
{
    const ward_group g = *gp;
    int64_t gid = g.id;
    uint64_t type = 0, epoch = 0;
    int64_t now = ward_api_now(api);
    pending_send p;
    memset(&p, 0, sizeof p);
    ward_buf_init(&p.body, api->cfg.max_message);
    rcpt_ctx rc = {0};
    if (ward_json_uint(body, "type", 1, 255, &type) ||
        type != WARD_MSG_SENDER_KEY ||
        ward_json_uint(body, "epoch", 1, INT64_MAX, &epoch) ||
        ward_json_b64_exact(body, "commitment", 1, p.msg.commitment, 32,
                            &p.msg.has_commitment)) {
        ward_resp_error(resp, 400, "invalid_message",
                        "type (4), body (base64), epoch (the group's, as "
                        "you know it) and the franking commitment (32 "
                        "bytes, base64)");
        goto fail;
    }
    if (ward_api_message_body(api, body, &p.body, resp))
        goto fail;
    json_t *unkeyed = json_object_get(body, "unkeyed");
    if (unkeyed && !names_ok(unkeyed, api->cfg.max_group_members)) {
        ward_resp_error(resp, 400, "invalid_message",
                        "unkeyed is a list of usernames");
        goto fail;
    }
    /* Older: a change the sender has not seen (its sender key may still
     * be known to someone who left). Newer: not an epoch of this group. */
    if ((int64_t)epoch != g.epoch) {
        membership_changed(resp, g.epoch);
        goto fail;
    }
    if (ward_api_may_send(api, me, now, resp))
        goto fail;
    ward_err e = recipients_of(api, me, gid, &rc);
    if (e) {
        ward_api_store_error(api, resp, e);
        goto fail;
    }
    if (unkeyed_reachable(&rc, unkeyed, resp))
        goto fail;
    if (ward_api_pending_room(api)) {
        ward_resp_error(resp, 503, "busy", "out of memory");
        goto fail;
    }
    p.msg.sender = me->id;
    memcpy(p.msg.sender_name, me->username, sizeof me->username);
    p.msg.type = (int)type;
    p.msg.server_time = now;
    p.msg.group_id = gid;
    p.msg.group_epoch = g.epoch;
    /* One tag for every copy: over the group, not the recipient. */
    const uint8_t *fkey;
    ward_frank_keys_current(api->frank, &p.msg.key_id, &fkey);
    ward_frank_tag_group(p.msg.tag, fkey, p.msg.commitment, me->id, gid, now);
    p.msg.has_tag = 1;
    p.opaque = opaque;
    p.fan_out = 1;
    p.rcpt = rc.r;
    p.n_rcpt = rc.n;
    p.withheld = rc.withheld;
    api->pending[api->n_pending++] = p;
    return WARD_API_DEFERRED;
fail:
    free(rc.r);
    ward_buf_release(&p.body);
    return WARD_API_DONE;
}

static const char *const send_keys[] = {"type",  "body",    "commitment",
                                        "epoch", "unkeyed", NULL};

static int send_req(ward_api *api, const ward_http_req *req,
                    const ward_account *me, int64_t gid,
                    ward_http_resp *resp)
{
    ward_group g;
    ward_group_member mine;
    if (load(api, gid, me, &g, &mine, resp))
        return WARD_API_DONE;
    json_t *body = ward_api_body(req, resp, send_keys);
    if (!body)
        return WARD_API_DONE;
    int r = group_send(api, me, &g, body, req->opaque, resp);
    json_decref(body);
    return r;
}

int ward_api_group_send_json(ward_api *api, const ward_account *me,
                             json_t *body, void *opaque,
                             ward_http_resp *resp)
{
    static const char *const ws_keys[] = {"group", "type",  "body",
                                          "commitment", "epoch", "unkeyed",
                                          NULL};
    uint64_t gid;
    if (ward_api_known_keys(body, ws_keys, resp))
        return WARD_API_DONE;
    if (ward_json_uint(body, "group", 1, INT64_MAX, &gid) || gid == 0) {
        ward_resp_error(resp, 400, "invalid_message",
                        "group is a group's id");
        return WARD_API_DONE;
    }
    ward_group g;
    ward_group_member mine;
    if (load(api, (int64_t)gid, me, &g, &mine, resp))
        return WARD_API_DONE;
    return group_send(api, me, &g, body, opaque, resp);
}

void ward_api_group_sent(ward_api *api, const pending_send *p,
                         const ward_store_msg *rows, const ward_err *res,
                         ward_err e, ward_http_resp *r)
{
    size_t ok = 0, full = 0, conflict = 0, failed = 0;
    json_t *full_names = json_array();
    for (size_t i = 0; !e && i < p->n_rcpt; i++) {
        if (res[i] == WARD_OK)
            ok++;
        else if (res[i] == WARD_ERR_LIMIT) {
            full++;
            json_array_append_new(full_names, json_string(p->rcpt[i].name));
        } else if (res[i] == WARD_ERR_CONFLICT)
            conflict++;
        else if (res[i] != WARD_ERR_NOT_FOUND) /* deleted: not a member */
            failed++;
    }
    (void)rows;
    if (e || failed || !full_names) {
        ward_resp_error(r, 503, "store_failed",
                        "the message was not stored; send it again");
    } else if (conflict) {
        /* The membership changed between the checks and the commit; a
         * sender no longer in it learns no more than of any group it is
         * not in. */
        ward_group g;
        ward_group_member mine;
        if (ward_store_group_member(api->st, p->msg.group_id, p->msg.sender,
                                    &mine) == WARD_OK &&
            ward_store_group_get(api->st, p->msg.group_id, &g) == WARD_OK)
            membership_changed(r, g.epoch);
        else
            no_group(r);
    } else if (full && ok == 0) {
        ward_resp_error(r, 429, "queue_full",
                        "every recipient's queue is full; try later");
    } else {
        api->stats.messages_in++;
        api->stats.group_messages_in++;
        api->stats.group_copies += ok;
        ward_resp_json(r, 201,
                       json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:O}", "group",
                                 (json_int_t)p->msg.group_id, "epoch",
                                 (json_int_t)p->msg.group_epoch,
                                 "server_time",
                                 (json_int_t)p->msg.server_time,
                                 "recipients", (json_int_t)p->n_rcpt,
                                 "delivered", (json_int_t)ok, "withheld",
                                 (json_int_t)p->withheld, "queue_full",
                                 full_names));
    }
    json_decref(full_names);
}

/* ---- routing ---- */

int ward_api_groups_route(ward_api *api, const ward_http_req *req,
                          ward_http_resp *resp, const char *rest)
{
    const char *m = req->method;
    int get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0;
    int del = strcmp(m, "DELETE") == 0, patch = strcmp(m, "PATCH") == 0;
    ward_account me;

    if (rest[0] == 0) {
        if (post)
            return create(api, req, resp);
        if (get)
            return list_mine(api, req, resp);
        goto method;
    }
    /* "/{id}" then nothing, "/members", "/members/{username}", "/leave"
     * or "/messages" */
    const char *id = rest + 1, *slash = strchr(id, '/');
    size_t idlen = slash ? (size_t)(slash - id) : strlen(id);
    const char *sub = slash ? slash : "";
    enum { ONE, MEMBERS, MEMBER, LEAVE, MESSAGES, AVATAR } kind;
    const char *username = NULL;
    if (!*sub)
        kind = ONE;
    else if (strcmp(sub, "/members") == 0)
        kind = MEMBERS;
    else if (strncmp(sub, "/members/", 9) == 0 && sub[9] &&
             !strchr(sub + 9, '/'))
        kind = MEMBER, username = sub + 9;
    else if (strcmp(sub, "/leave") == 0)
        kind = LEAVE;
    else if (strcmp(sub, "/messages") == 0)
        kind = MESSAGES;
    else if (strcmp(sub, "/avatar") == 0)
        kind = AVATAR;
    else {
        ward_resp_error(resp, 404, "no_route", "no such endpoint");
        return WARD_API_DONE;
    }
    int allowed = (kind == ONE && (get || patch)) ||
                  (kind == MEMBERS && post) ||
                  (kind == MEMBER && (del || patch)) ||
                  (kind == LEAVE && post) || (kind == MESSAGES && post) ||
                  (kind == AVATAR &&
                   (get || del || strcmp(m, "PUT") == 0));
    if (!allowed)
        goto method;
    if (ward_api_require_account(api, req, resp, &me))
        return WARD_API_DONE;
    int64_t gid;
    if (parse_id(id, idlen, &gid)) {
        ward_resp_error(resp, 400, "invalid_id", "a group id is a number");
        return WARD_API_DONE;
    }
    switch (kind) {
    case ONE:
        return get ? get_one(api, &me, gid, resp)
                   : patch_one(api, req, &me, gid, resp);
    case MEMBERS:
        return add_member(api, req, &me, gid, resp);
    case MEMBER:
        return del ? remove_member(api, &me, gid, username, resp)
                   : set_role(api, req, &me, gid, username, resp);
    case LEAVE:
        return leave_req(api, req, &me, gid, resp);
    case MESSAGES:
        return send_req(api, req, &me, gid, resp);
    case AVATAR:
        return avatar_req(api, req, &me, gid, resp);
    }
method:
    ward_resp_error(resp, 405, "method_not_allowed",
                    "that method is not allowed here");
    return WARD_API_DONE;
}
