/* ward group create|add|remove|leave|role|ls: end-to-end encrypted
 * groups. Sending is `ward send --group`, chatting `ward chat --group`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ward/client.h"

#define MAX_MEMBERS 1000

static int usage(const char *msg)
{
    cli_error("%s; see 'ward help group'", msg);
    return CLI_USAGE;
}

static int failed(ward_err e, const char *err)
{
    cli_error("%s", err && err[0] ? err : ward_strerror(e));
    return CLI_FAIL;
}

static void note(void *ctx, const char *text)
{
    (void)ctx;
    cli_error("%s", text);
}

/* Opens the client with the note hook set; NULL (said) on failure. */
static ward_client *open_group_client(const cli_common *o, char *err,
                                      size_t errlen)
{
    ward_client *c = cli_open_client(o, err, errlen);
    if (c)
        ward_client_set_note_hook(c, note, NULL);
    return c;
}

/* A username on the command line: a usage error if it cannot be one. */
static int bad_user(const char *user)
{
    if (ward_client_username_valid(user))
        return 0;
    cli_error("'%s' is not a username (3 to 32 of a-z, 0-9, '.', '_', "
              "'-'); see 'ward help group'",
              user);
    return 1;
}

/* The server's rule for a name, checked before asking it. */
static int name_ok(const char *s)
{
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return 0;
        chars += (*p & 0xc0) != 0x80;
    }
    return chars >= 1 && chars <= WARD_CLIENT_GROUP_NAME_MAX;
}

static void put_name(FILE *out, const char *name)
{
    fputc('"', out);
    cli_put_untrusted(out, name, strlen(name));
    fputc('"', out);
}

/* Group |id| by its name as last seen, else as the user gave it. */
static void put_group(FILE *out, ward_client *c, int64_t id,
                      const char *given)
{
    char name[WARD_CLIENT_GROUP_NAME_MAX * 4 + 1];
    put_name(out, ward_client_group_name(c, id, name, sizeof name) == WARD_OK
                      ? name
                      : given);
}

static int cmd_create(ward_client *c, char **args, const char *desc,
                      const char **members, size_t n_members)
{
    char err[512] = "";
    ward_client_group g;
    ward_err e = ward_client_group_create(c, args[0], desc, members,
                                          n_members, &g, err, sizeof err);
    if (e)
        return failed(e, err);
    printf("created group ");
    put_name(stdout, g.name);
    printf(" (id %lld)", (long long)g.id);
    for (size_t i = 0; i < n_members; i++)
        printf("%s%s", i ? ", " : " with ", members[i]);
    printf("\n");
    return CLI_OK;
}

/* The group named by |which| on the command line; 1 (said) if not. */
static int resolve(ward_client *c, const char *which, int64_t *id)
{
    char err[512] = "";
    ward_err e = ward_client_group_resolve(c, which, id, err, sizeof err);
    if (e) {
        failed(e, err);
        return 1;
    }
    return 0;
}

typedef struct ls_ctx {
    size_t n;
    ward_client_group_member *m; /* ls GROUP: the members, to print */
    size_t cap;
} ls_ctx;

static int print_group(void *p, const ward_client_group *g)
{
    ls_ctx *l = p;
    printf("%lld\t", (long long)g->id);
    cli_put_untrusted(stdout, g->name, strlen(g->name));
    printf("\t%s\n", g->admin ? "admin" : "member");
    l->n++;
    return 0;
}

static int keep_member(void *p, const ward_client_group_member *m)
{
    ls_ctx *l = p;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        ward_client_group_member *q = realloc(l->m, cap * sizeof *q);
        if (!q)
            return 1;
        l->m = q, l->cap = cap;
    }
    l->m[l->n++] = *m;
    return 0;
}

static int cmd_ls(ward_client *c, int n, char **args)
{
    char err[512] = "";
    ls_ctx l = {0};
    if (n > 1)
        return usage("ls takes at most one GROUP");
    if (n == 0) {
        ward_err e = ward_client_groups(c, print_group, &l, err, sizeof err);
        if (e)
            return failed(e, err);
        if (l.n == 0)
            fprintf(stderr, "you are in no group\n");
        return CLI_OK;
    }
    int64_t id;
    if (resolve(c, args[0], &id))
        return CLI_FAIL;
    ward_client_group g;
    ward_err e = ward_client_group_get(c, id, &g, keep_member, &l, err,
                                       sizeof err);
    if (e) {
        free(l.m);
        return failed(e, err);
    }
    put_name(stdout, g.name);
    printf(" (id %lld)%s\n", (long long)g.id, g.admin ? ", you are admin" : "");
    if (g.description[0]) {
        fputs("description: ", stdout);
        cli_put_untrusted(stdout, g.description, strlen(g.description));
        fputc('\n', stdout);
    }
    if (g.created_by[0])
        printf("created by %s\n", g.created_by);
    if (g.avatar[0]) {
        fputs("avatar: ", stdout);
        cli_put_untrusted(stdout, g.avatar, strlen(g.avatar));
        fputs(" ('ward group avatar GROUP --save FILE')\n", stdout);
    }
    printf("members:\n");
    for (size_t i = 0; i < l.n; i++) {
        printf("  %s%s", l.m[i].username, l.m[i].admin ? " (admin)" : "");
        if (l.m[i].added_by[0])
            printf(", added by %s", l.m[i].added_by);
        printf("\n");
    }
    free(l.m);
    ward_sender_key_info k;
    if (ward_client_group_key_info(c, id, &k) == WARD_OK)
        printf("your sender key: %u (next message %u)\n", k.key_id,
               k.iteration);
    else
        printf("your sender key: none yet (made at your first message)\n");
    return CLI_OK;
}

/* ward group avatar: set it from |file|, remove it (|file| NULL), or save
 * it to |file| (|save|). */
static int cmd_avatar(ward_client *c, int64_t id, const char *group,
                      const char *file, int save)
{
    char err[512] = "", why[256] = "";
    ward_err e;
    if (save) {
        e = ward_client_group_save_avatar(c, id, file, err, sizeof err);
    } else if (!file) {
        e = ward_client_group_set_avatar(c, id, NULL, 0, err, sizeof err);
    } else {
        uint8_t *img = NULL;
        size_t n = 0;
        if (cli_read_file(file, 16u << 20, &img, &n, why, sizeof why)) {
            cli_error("%s", why);
            return CLI_FAIL;
        }
        e = ward_client_group_set_avatar(c, id, img, n, err, sizeof err);
        free(img);
    }
    if (e)
        return failed(e, err);
    if (save)
        printf("saved the avatar of ");
    else
        printf(file ? "set the avatar of " : "removed the avatar of ");
    put_group(stdout, c, id, group);
    if (save)
        printf(" to %s", file);
    printf("\n");
    return CLI_OK;
}

int cli_group(int argc, char **argv)
{
    cli_common o;
    char err[512] = "";
    const char *desc = NULL, *verb = NULL, *save = NULL;
    const char **members = NULL;
    size_t n_members = 0;
    int block = 0, remove_avatar = 0, n = 0, rc = CLI_USAGE;
    argc = cli_take_common(argc, argv, &o);
    char **args = calloc((size_t)argc + 1, sizeof *args);
    members = calloc((size_t)argc + 1, sizeof *members);
    if (!args || !members) {
        cli_error("out of memory");
        rc = CLI_FAIL;
        goto out;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--description") == 0 && i + 1 < argc) {
            desc = argv[++i];
        } else if (strcmp(a, "--member") == 0 && i + 1 < argc) {
            if (bad_user(argv[i + 1]))
                goto out;
            members[n_members++] = argv[++i];
        } else if (strcmp(a, "--block") == 0) {
            block = 1;
        } else if (strcmp(a, "--remove") == 0) {
            remove_avatar = 1;
        } else if (strcmp(a, "--save") == 0 && i + 1 < argc) {
            save = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            cli_error("unknown option '%s'; see 'ward help group'", a);
            goto out;
        } else if (!verb) {
            verb = a;
        } else {
            args[n++] = argv[i];
        }
    }
    if (!verb) {
        usage("which group command? create, add, remove, leave, role, "
              "avatar or ls");
        goto out;
    }
    int create = strcmp(verb, "create") == 0, add = strcmp(verb, "add") == 0;
    int rm = strcmp(verb, "remove") == 0, leave = strcmp(verb, "leave") == 0;
    int role = strcmp(verb, "role") == 0, ls = strcmp(verb, "ls") == 0;
    int avatar = strcmp(verb, "avatar") == 0;
    if (!create && !add && !rm && !leave && !role && !ls && !avatar) {
        cli_error("'%s' is not a group command; see 'ward help group'",
                  verb);
        goto out;
    }
    if ((desc || n_members) && !create) {
        usage("--description and --member go with 'create'");
        goto out;
    }
    if (block && !leave) {
        usage("--block goes with 'leave'");
        goto out;
    }
    if ((remove_avatar || save) && !avatar) {
        usage("--remove and --save go with 'avatar'");
        goto out;
    }
    if (avatar && (remove_avatar + !!save + (n == 2) != 1 ||
                   n != (remove_avatar || save ? 1 : 2))) {
        usage("usage: ward group avatar GROUP FILE | --remove | --save FILE");
        goto out;
    }
    if (n_members >= MAX_MEMBERS) {
        usage("a group has at most 1000 members");
        goto out;
    }
    /* Arguments checked before anything is asked of the server. */
    if (create && n == 1 && !name_ok(args[0])) {
        usage("a group's name is 1 to 64 characters, without control "
              "characters");
        goto out;
    }
    if (create && (n != 1 || !args[0][0])) {
        usage("usage: ward group create NAME [--description TEXT] "
              "[--member USER]...");
        goto out;
    }
    if ((add || rm) && n != 2) {
        cli_error("usage: ward group %s GROUP USER; see 'ward help group'",
                  verb);
        goto out;
    }
    if (role && (n != 3 || (strcmp(args[2], "admin") != 0 &&
                            strcmp(args[2], "member") != 0))) {
        usage("usage: ward group role GROUP USER admin|member");
        goto out;
    }
    if (leave && n != 1) {
        usage("usage: ward group leave GROUP [--block]");
        goto out;
    }
    if (ls && n > 1) {
        usage("usage: ward group ls [GROUP]");
        goto out;
    }
    if ((add || rm || role) && bad_user(args[1]))
        goto out;
    if (!create && n >= 1 && !args[0][0]) {
        usage("a GROUP is its name or its id, not empty");
        goto out;
    }
    ward_client *c = open_group_client(&o, err, sizeof err);
    if (!c) {
        rc = CLI_FAIL;
        goto out;
    }
    int64_t id = 0;
    if (create) {
        rc = cmd_create(c, args, desc, members, n_members);
    } else if (avatar) {
        rc = resolve(c, args[0], &id) ? CLI_FAIL
                                      : cmd_avatar(c, id, args[0],
                                                   remove_avatar ? NULL
                                                   : save ? save
                                                          : args[1],
                                                   save != NULL);
    } else if (ls) {
        rc = cmd_ls(c, n, args);
    } else if (resolve(c, args[0], &id)) {
        rc = CLI_FAIL;
    } else {
        ward_err e;
        char blocked[64] = "", label[WARD_CLIENT_GROUP_NAME_MAX * 4 + 1];
        /* Named as last seen before the change (leaving forgets it). */
        if (ward_client_group_name(c, id, label, sizeof label))
            snprintf(label, sizeof label, "%s", args[0]);
        if (add)
            e = ward_client_group_add(c, id, args[1], err, sizeof err);
        else if (rm)
            e = ward_client_group_remove(c, id, args[1], err, sizeof err);
        else if (role)
            e = ward_client_group_set_role(c, id, args[1],
                                           strcmp(args[2], "admin") == 0,
                                           err, sizeof err);
        else
            e = ward_client_group_leave(c, id, block, blocked, err,
                                        sizeof err);
        if (e) {
            rc = failed(e, err);
        } else {
            rc = CLI_OK;
            if (add)
                printf("added %s to ", args[1]);
            else if (rm)
                printf("removed %s from ", args[1]);
            else if (role)
                printf("%s is now %s of ", args[1],
                       strcmp(args[2], "admin") == 0 ? "an admin"
                                                     : "a member (not admin)");
            else
                printf("left ");
            put_name(stdout, label);
            if (leave && blocked[0])
                printf(" and blocked %s, who added you", blocked);
            else if (leave && block)
                printf(" (nobody to block: you were not added by anyone "
                       "still here)");
            printf("\n");
        }
    }
    ward_client_free(c);
out:
    free(args);
    free(members);
    return rc;
}

int cli_send_group(const cli_common *o, const char *group, const char *text,
                   const char *image)
{
    char err[512] = "";
    ward_client *c = open_group_client(o, err, sizeof err);
    if (!c)
        return CLI_FAIL;
    int64_t id;
    int rc = CLI_OK;
    ward_client_group_sent r;
    if (resolve(c, group, &id)) {
        rc = CLI_FAIL;
    } else {
        ward_err e =
            image ? ward_client_group_send_image(c, id, image, text, &r, err,
                                                 sizeof err)
                  : ward_client_group_send_text(c, id, text, &r, err,
                                                sizeof err);
        if (e) {
            rc = failed(e, err);
        } else {
            printf("sent %sto ", image ? "the image " : "");
            put_group(stdout, c, id, group);
            printf(" (%lld of %lld members%s", (long long)r.delivered,
                   (long long)(r.recipients + r.withheld),
                   r.rotated ? "; a new sender key, as someone left" : "");
            if (r.withheld)
                printf("; %lld kept from it by blocks or the contact rules",
                       (long long)r.withheld);
            if (r.unreachable)
                printf("; %zu cannot read it, as said above", r.unreachable);
            printf(")\n");
        }
    }
    ward_client_free(c);
    return rc;
}
