/*
 * serve_ref: the reference for bench/serve.sh -- what ward's store can do
 * on this disk with no network, no JSON and no event loop, on one thread
 * like the server.
 *
 *   serve_ref --dir DIR [--batch B] [--rounds N] [--size BYTES]
 *
 * In a fresh database DIR/ref.db (the server's schema and pragmas, through
 * ward_store_open_sqlite), N rounds of:
 *   put     B messages of BYTES bytes in one ward_store_queue_put (one
 *           transaction, one disk sync: the server's group commit of B
 *           sends);
 *   ack     each of them with ward_store_queue_ack (one transaction and
 *           one disk sync each: what the server does for every
 *           {"type":"ack"} frame).
 * store_msgs_per_s = messages put and acked per second: the ceiling for
 * messages delivered end to end if the server did nothing but its store
 * calls. Then the same rounds again with the B acks in one transaction
 * (the same two statements per ack, BEGIN IMMEDIATE ... COMMIT on a
 * second connection to the same file): grouped_msgs_per_s, what the store
 * would allow if acks were group-committed like sends. And
 * sync_commits_per_s: single-row commits per second, the disk's durable
 * commit rate as SQLite sees it.
 *
 * Prints one "RESULT mode=ref ..." line.
 */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ward/crypto.h"
#include "ward/store.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

__attribute__((noreturn)) static void die(const char *what, const char *why)
{
    fprintf(stderr, "serve_ref: %s: %s\n", what, why);
    exit(1);
}

static void check(ward_err e, ward_store *st, const char *what)
{
    if (e)
        die(what, st ? ward_store_last_error(st) : ward_strerror(e));
}

static void sql(sqlite3 *db, const char *q)
{
    char *msg = NULL;
    if (sqlite3_exec(db, q, NULL, NULL, &msg) != SQLITE_OK)
        die(q, msg ? msg : sqlite3_errmsg(db));
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    int batch = 50, rounds = 200, size = 200;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--dir"))
            dir = argv[i + 1];
        else if (!strcmp(argv[i], "--batch"))
            batch = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--rounds"))
            rounds = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--size"))
            size = atoi(argv[i + 1]);
    }
    if (!dir || batch < 1 || rounds < 1 || size < 1 || (argc % 2) != 1) {
        fputs("usage: serve_ref --dir DIR [--batch B] [--rounds N] "
              "[--size BYTES]\n",
              stderr);
        return 2;
    }
    if (ward_crypto_init() != WARD_OK)
        die("init", "crypto");
    char path[4096];
    snprintf(path, sizeof path, "%s/ref.db", dir);
    remove(path);
    ward_store *st = NULL;
    char err[256];
    if (ward_store_open_sqlite(&st, path, err, sizeof err))
        die("open", err);
    int64_t from, to;
    check(ward_store_account_create(st, "refsender", "x", WARD_AGE_ADULT, 1,
                                    &from),
          st, "account");
    check(ward_store_account_create(st, "refrecipient", "x", WARD_AGE_ADULT,
                                    1, &to),
          st, "account");

    uint8_t *body = malloc((size_t)size);
    ward_store_msg *m = calloc((size_t)batch, sizeof *m);
    ward_err *res = calloc((size_t)batch, sizeof *res);
    if (!body || !m || !res)
        die("memory", "out of memory");
    ward_random(body, (size_t)size);

    /* One connection for the grouped acks, as the server's would be. */
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die("open", sqlite3_errmsg(db));
    sqlite3_busy_timeout(db, 5000);
    sql(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
    sqlite3_stmt *del, *rel;
    if (sqlite3_prepare_v2(db, "DELETE FROM messages WHERE id = ? AND "
                               "recipient = ?", -1, &del, NULL) ||
        sqlite3_prepare_v2(db, "UPDATE accounts SET queued = queued - 1 "
                               "WHERE id = ? AND queued > 0", -1, &rel, NULL))
        die("prepare", sqlite3_errmsg(db));

    double t_put = 0, t_ack = 0, t_gput = 0, t_gack = 0;
    for (int pass = 0; pass < 2; pass++) {
        int grouped = pass == 1;
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < batch; i++) {
                memset(&m[i], 0, sizeof m[i]);
                m[i].recipient = to;
                m[i].sender = from;
                strcpy(m[i].sender_name, "refsender");
                m[i].type = 2;
                m[i].server_time = 1;
                m[i].body = body;
                m[i].body_len = (size_t)size;
            }
            double t0 = now();
            check(ward_store_queue_put(st, m, (size_t)batch, 1000000, res), st,
                  "put");
            for (int i = 0; i < batch; i++)
                check(res[i], st, "put");
            double t1 = now();
            if (!grouped) {
                for (int i = 0; i < batch; i++)
                    check(ward_store_queue_ack(st, to, m[i].id), st, "ack");
            } else {
                sql(db, "BEGIN IMMEDIATE");
                for (int i = 0; i < batch; i++) {
                    sqlite3_bind_int64(del, 1, m[i].id);
                    sqlite3_bind_int64(del, 2, to);
                    sqlite3_bind_int64(rel, 1, to);
                    if (sqlite3_step(del) != SQLITE_DONE ||
                        sqlite3_changes(db) != 1 ||
                        sqlite3_step(rel) != SQLITE_DONE)
                        die("grouped ack", sqlite3_errmsg(db));
                    sqlite3_reset(del);
                    sqlite3_reset(rel);
                }
                sql(db, "COMMIT");
            }
            double t2 = now();
            if (grouped) {
                t_gput += t1 - t0;
                t_gack += t2 - t1;
            } else {
                t_put += t1 - t0;
                t_ack += t2 - t1;
            }
        }
    }

    /* Single-row durable commits. */
    sql(db, "CREATE TABLE IF NOT EXISTS ref_sync (v INTEGER)");
    sqlite3_stmt *ins;
    if (sqlite3_prepare_v2(db, "INSERT INTO ref_sync VALUES (1)", -1, &ins,
                           NULL))
        die("prepare", sqlite3_errmsg(db));
    int n_sync = rounds * 10;
    double t0 = now();
    for (int i = 0; i < n_sync; i++) {
        if (sqlite3_step(ins) != SQLITE_DONE)
            die("insert", sqlite3_errmsg(db));
        sqlite3_reset(ins);
    }
    double t_sync = now() - t0;

    double n = (double)rounds * batch;
    printf("RESULT mode=ref batch=%d size=%d messages=%.0f "
           "put_msgs_per_s=%.0f ack_per_s=%.0f store_msgs_per_s=%.0f "
           "grouped_ack_per_s=%.0f grouped_msgs_per_s=%.0f "
           "sync_commits_per_s=%.0f\n",
           batch, size, n, n / t_put, n / t_ack, n / (t_put + t_ack),
           n / t_gack, n / (t_gput + t_gack), n_sync / t_sync);
    sqlite3_finalize(del);
    sqlite3_finalize(rel);
    sqlite3_finalize(ins);
    sqlite3_close(db);
    ward_store_close(st);
    free(body);
    free(m);
    free(res);
    remove(path);
    char side[4200];
    snprintf(side, sizeof side, "%s-wal", path);
    remove(side);
    snprintf(side, sizeof side, "%s-shm", path);
    remove(side);
    return 0;
}
