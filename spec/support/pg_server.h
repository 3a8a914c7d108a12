/* SPDX-License-Identifier: MIT */
/*
 * pg_server.h — a PostgreSQL server for specs.
 *
 *     static spec_pg_server srv;
 *     group setup:    spec_pg_server_start(&srv);      // never fails the group
 *     in a test:      spec_pg_server_require(&srv);    // skip()s or fails
 *                     spec_pg_unique_name(schema, sizeof schema, "spec");
 *                     lk_pg_opts o = {.schema = schema};
 *                     lk_pg_store_connect(&store, srv.url, &o, &err);
 *     group teardown: spec_pg_server_stop(&srv);
 *
 * Where the server comes from:
 *   - LK_PG_URL set: that server (shared with other runs, so put each
 *     spec's tables in a schema of its own, from spec_pg_unique_name(), and
 *     drop it after with spec_pg_drop_schema());
 *   - else a throwaway cluster: initdb (trust auth, no fsync) into a fresh
 *     temp dir, then the `postgres` binary itself on a free 127.0.0.1 port
 *     with its socket in that dir. As root both run as the `postgres` user
 *     (PostgreSQL refuses root). The binaries are $PG_BIN_DIR's, else
 *     initdb on PATH, else the newest /usr/lib/postgresql/<v>/bin (where
 *     Debian puts them). The server is our direct child (not daemonized by
 *     pg_ctl) and follows the spec's death: a crashed or timed-out spec
 *     leaves no server running. stop() shuts it down fast (SIGINT), waits,
 *     and removes the dir.
 *
 * When no server can be had, spec_pg_server_require() makes the test FAIL
 * when CI=true, else skips it LOUDLY: cmocka skip() plus a stderr line
 * "SKIPPED: no PostgreSQL: <why>; set LK_PG_URL or PG_BIN_DIR, or run make
 * deps".
 */
#ifndef SPEC_PG_SERVER_H
#define SPEC_PG_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct spec_pg_server {
    bool ok;          /* a server is there: url is usable */
    bool external;    /* from LK_PG_URL (not ours to stop) */
    char url[512];
    pid_t pid;        /* our server, 0 when none */
    int port;
    char dir[256];    /* its temp dir: data/ and the socket ("" when none) */
    char reason[512]; /* why there is no server (when !ok) */
} spec_pg_server;

/* LK_PG_URL's server, else a throwaway one (above). Returns srv->ok. */
bool spec_pg_server_start(spec_pg_server *srv);

/* Always a throwaway one, even when LK_PG_URL is set: for specs that stop
 * the server under a client. Returns srv->ok. */
bool spec_pg_server_spawn(spec_pg_server *srv);

/* Stops our server (fast shutdown) but keeps its data: the server "went
 * away". spec_pg_server_restart() brings it back. */
void spec_pg_server_halt(spec_pg_server *srv);

/* Starts our halted (or running) server again on the same port and data,
 * as after a crash or a deploy. Returns srv->ok. */
bool spec_pg_server_restart(spec_pg_server *srv);

/* Stops our server and removes its dir; an external one is left alone.
 * Safe on a server that never started, and twice. */
void spec_pg_server_stop(spec_pg_server *srv);

/* Call at the start of a test that needs the server: returns when there is
 * one, else fails (CI=true) or skips the test loudly. */
void spec_pg_server_require(const spec_pg_server *srv);

/* "<prefix>_<pid>_<counter>": unique per process run and call; a valid
 * schema or collection name. */
void spec_pg_unique_name(char *buf, size_t size, const char *prefix);

/* DROP SCHEMA ... CASCADE on a short-lived connection; false on failure. */
bool spec_pg_drop_schema(const char *url, const char *schema);

/* Runs one SQL statement on a short-lived connection (for specs that
 * tamper with a table as an operator would); false on failure. */
bool spec_pg_exec(const char *url, const char *sql);

#endif /* SPEC_PG_SERVER_H */
