/*
 * `ward admin`: the operator's commands on the server's data directory
 * (the same DATA/ward.db that `ward serve --data DATA` uses; SQLite's WAL
 * lets them run while the server does). Moderator accounts for the
 * moderation console are made here, so the first admin exists before
 * anyone can log in. Each change is written to the audit log as the
 * operator's (moderator 0).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../server/auth.h"
#include "../server/console.h"
#include "../server/franking_keys.h"
#include "cli.h"
#include "ward/crypto.h"
#include "ward/store.h"

#define OPERATOR_NAME "operator (cli)"

typedef struct admin_opts {
    const char *data;
    const char *role;
    const char *name;
} admin_opts;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --data DIR, --role ROLE and at most one NAME. */
static int parse(int argc, char **argv, admin_opts *o, int want_name)
{
    o->data = "./ward-data"; /* as ward serve's default */
    o->role = NULL;
    o->name = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = strcmp(a, "--data") == 0   ? &o->data
                           : strcmp(a, "--role") == 0 ? &o->role
                                                      : NULL;
        if (dst) {
            if (i + 1 >= argc || !*argv[i + 1]) {
                cli_error("option '%s' needs a value", a);
                return CLI_USAGE;
            }
            *dst = argv[++i];
        } else if (strncmp(a, "--data=", 7) == 0) {
            o->data = a + 7;
        } else if (strncmp(a, "--role=", 7) == 0) {
            o->role = a + 7;
        } else if (a[0] == '-') {
            cli_error("unknown option '%s'; see 'ward help admin'", a);
            return CLI_USAGE;
        } else if (want_name && !o->name) {
            o->name = a;
        } else {
            cli_error("unexpected argument '%s'; see 'ward help admin'", a);
            return CLI_USAGE;
        }
    }
    if (want_name && !o->name) {
        cli_error("a moderator name is required; see 'ward help admin'");
        return CLI_USAGE;
    }
    return CLI_OK;
}

static ward_store *open_store(const char *data, int create)
{
    char path[4096], err[512];
    if (create && mkdir(data, 0700) != 0 && errno != EEXIST) {
        cli_error("cannot create '%s': %s", data, strerror(errno));
        return NULL;
    }
    if (!create && access(data, F_OK) != 0) {
        cli_error("no data directory '%s' (pass --data DIR)", data);
        return NULL;
    }
    if ((size_t)snprintf(path, sizeof path, "%s/ward.db", data) >=
        sizeof path) {
        cli_error("the data directory's path is too long");
        return NULL;
    }
    ward_store *st = NULL;
    if (ward_store_open_sqlite(&st, path, err, sizeof err)) {
        cli_error("%s", err);
        return NULL;
    }
    return st;
}

static void audit(ward_store *st, const char *action, const char *detail)
{
    ward_audit_entry e;
    memset(&e, 0, sizeof e);
    e.at = now_ms();
    snprintf(e.moderator_name, sizeof e.moderator_name, OPERATOR_NAME);
    snprintf(e.action, sizeof e.action, "%s", action);
    snprintf(e.detail, sizeof e.detail, "%s", detail);
    if (ward_store_audit_append(st, &e))
        cli_error("warning: the audit log could not be written: %s",
                  ward_store_last_error(st));
}

/* The new moderator's password: $WARD_PASSWORD, else asked twice on a
 * terminal, else one line of standard input. */
static int get_password(char *pw, size_t cap)
{
    const char *env = getenv("WARD_PASSWORD");
    if (env) {
        if (strlen(env) >= cap)
            return -1;
        memcpy(pw, env, strlen(env) + 1);
        return 0;
    }
    if (cli_read_password("new moderator's password: ", 0, pw, cap))
        return -1;
    if (isatty(STDIN_FILENO)) {
        char again[WARD_PASSWORD_MAX + 2];
        int r = cli_read_password("again: ", 0, again, sizeof again);
        int same = r == 0 && strcmp(again, pw) == 0;
        ward_memzero(again, sizeof again);
        if (!same) {
            cli_error("the passwords do not match");
            return -2;
        }
    }
    return 0;
}

static int add_moderator(int argc, char **argv)
{
    admin_opts o;
    int rc = parse(argc, argv, &o, 1);
    if (rc)
        return rc;
    int role = !o.role || strcmp(o.role, "moderator") == 0 ? WARD_ROLE_MODERATOR
               : strcmp(o.role, "admin") == 0              ? WARD_ROLE_ADMIN
                                                           : 0;
    if (!role) {
        cli_error("--role is moderator or admin, not '%s'", o.role);
        return CLI_USAGE;
    }
    if (!ward_auth_username_valid(o.name)) {
        cli_error("'%s' is not a valid name: 3 to 32 of a-z, 0-9, '.', '_', "
                  "'-'",
                  o.name);
        return CLI_USAGE;
    }
    char *pw = ward_secure_alloc(WARD_PASSWORD_MAX + 2);
    char hash[WARD_PWHASH_STR_LEN];
    ward_store *st = NULL;
    rc = CLI_FAIL;
    if (!pw) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    int got = get_password(pw, WARD_PASSWORD_MAX + 2);
    size_t n = got == 0 ? strlen(pw) : 0;
    if (got == -2)
        goto done;
    if (got || n > WARD_PASSWORD_MAX) {
        cli_error("no password given (type it, pipe it on standard input, "
                  "or set WARD_PASSWORD)");
        rc = CLI_USAGE;
        goto done;
    }
    const char *weak = ward_console_password_weak(o.name, pw);
    if (weak) {
        cli_error("refusing a weak password: %s", weak);
        rc = CLI_USAGE;
        goto done;
    }
    if (!(st = open_store(o.data, 1)))
        goto done;
    ward_moderator m;
    if (ward_store_moderator_by_name(st, o.name, &m) == WARD_OK) {
        ward_memzero(&m, sizeof m);
        cli_error("moderator '%s' already exists", o.name);
        goto done;
    }
    if (ward_auth_password_hash(pw, n, ward_pwhash_cost_default(), hash)) {
        cli_error("cannot hash the password");
        goto done;
    }
    int64_t id;
    ward_err e = ward_store_moderator_add(st, o.name, hash, role, now_ms(),
                                          &id);
    if (e == WARD_ERR_EXISTS) {
        cli_error("moderator '%s' already exists", o.name);
        goto done;
    }
    if (e) {
        cli_error("cannot add the moderator: %s", ward_store_last_error(st));
        goto done;
    }
    char detail[96];
    snprintf(detail, sizeof detail, "%s (%s)", o.name,
             role == WARD_ROLE_ADMIN ? "admin" : "moderator");
    audit(st, "add_moderator", detail);
    printf("added %s '%s' (id %lld)\n",
           role == WARD_ROLE_ADMIN ? "admin" : "moderator", o.name,
           (long long)id);
    rc = CLI_OK;
done:
    ward_memzero(hash, sizeof hash);
    ward_secure_free(pw);
    ward_store_close(st);
    return rc;
}

static int print_moderator(void *ctx, const ward_moderator *m)
{
    (void)ctx;
    char name[WARD_MODERATOR_NAME_MAX + 1];
    snprintf(name, sizeof name, "%s", m->name);
    cli_sanitize(name);
    printf("%-6lld %-32s %-9s %s\n", (long long)m->id, name,
           m->role == WARD_ROLE_ADMIN ? "admin" : "moderator",
           m->disabled ? "disabled" : "active");
    return 0;
}

static int list_moderators(int argc, char **argv)
{
    admin_opts o;
    int rc = parse(argc, argv, &o, 0);
    if (rc)
        return rc;
    ward_store *st = open_store(o.data, 0);
    if (!st)
        return CLI_FAIL;
    printf("%-6s %-32s %-9s %s\n", "ID", "NAME", "ROLE", "STATE");
    ward_err e = ward_store_moderator_list(st, print_moderator, NULL);
    if (e)
        cli_error("cannot list moderators: %s", ward_store_last_error(st));
    ward_store_close(st);
    return e ? CLI_FAIL : CLI_OK;
}

static int set_disabled(int argc, char **argv, int disabled)
{
    admin_opts o;
    int rc = parse(argc, argv, &o, 1);
    if (rc)
        return rc;
    ward_store *st = open_store(o.data, 0);
    if (!st)
        return CLI_FAIL;
    ward_moderator m;
    ward_err e = ward_store_moderator_by_name(st, o.name, &m);
    ward_memzero(m.pwhash, sizeof m.pwhash);
    if (e == WARD_ERR_NOT_FOUND) {
        cli_error("no moderator '%s'", o.name);
        rc = CLI_FAIL;
    } else if (e || (e = ward_store_moderator_set(st, m.id, m.role,
                                                  disabled))) {
        cli_error("cannot change '%s': %s", o.name,
                  ward_store_last_error(st));
        rc = CLI_FAIL;
    } else {
        char detail[96];
        snprintf(detail, sizeof detail, "%s: %s", o.name,
                 disabled ? "disabled" : "enabled");
        audit(st, "change_moderator", detail);
        printf("%s '%s'%s\n", disabled ? "disabled" : "enabled", o.name,
               disabled ? "; its console sessions are ended" : "");
    }
    ward_store_close(st);
    return rc;
}

/* A new franking key for the server to tag messages with; the server
 * takes it up within a minute, or at once on SIGHUP. */
static int rotate_franking_key(int argc, char **argv)
{
    admin_opts o;
    int rc = parse(argc, argv, &o, 0);
    if (rc)
        return rc;
    if (o.role) {
        cli_error("--role does not apply here; see 'ward help admin'");
        return CLI_USAGE;
    }
    char err[512] = "";
    uint32_t id = 0;
    ward_err e = ward_frank_keys_rotate_dir(o.data, now_ms(), &id, err,
                                            sizeof err);
    if (e) {
        cli_error("cannot make a franking key: %s",
                  err[0] ? err : ward_strerror(e));
        return CLI_FAIL;
    }
    printf("franking key %u written to %s/franking; 'ward serve' uses it "
           "within a minute (at once on SIGHUP)\n",
           id, o.data);
    return CLI_OK;
}

int cli_admin(int argc, char **argv)
{
    if (argc < 2) {
        cli_error("which admin command? see 'ward help admin'");
        return CLI_USAGE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "add-moderator") == 0)
        return add_moderator(argc - 1, argv + 1);
    if (strcmp(sub, "list-moderators") == 0)
        return list_moderators(argc - 1, argv + 1);
    if (strcmp(sub, "disable-moderator") == 0)
        return set_disabled(argc - 1, argv + 1, 1);
    if (strcmp(sub, "enable-moderator") == 0)
        return set_disabled(argc - 1, argv + 1, 0);
    if (strcmp(sub, "rotate-franking-key") == 0)
        return rotate_franking_key(argc - 1, argv + 1);
    cli_error("'%s' is not an admin command; see 'ward help admin'", sub);
    return CLI_USAGE;
}
