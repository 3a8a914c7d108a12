/* SPDX-License-Identifier: MIT */
/* pg_server.c — a PostgreSQL server for specs (pg_server.h). */
#define _DEFAULT_SOURCE /* initgroups */

#include "pg_server.h"

#include <errno.h>
#include <glob.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "spec_proc.h"

#define INITDB_TIMEOUT_MS 120000
#define START_TIMEOUT_MS 30000
#define STOP_TIMEOUT_MS 10000
#define START_ATTEMPTS 3

#define set_reason(srv, ...) \
    spec_set_reason(&(srv)->ok, (srv)->reason, sizeof (srv)->reason, __VA_ARGS__)

/* The folder of initdb and postgres: $PG_BIN_DIR, PATH, then the newest
 * /usr/lib/postgresql/<version>/bin. */
static bool find_bin_dir(spec_pg_server *srv, char *out, size_t size)
{
    char probe[1100];
    const char *env = getenv("PG_BIN_DIR");
    if (env != NULL && env[0] != '\0') {
        snprintf(probe, sizeof probe, "%s/postgres", env);
        if (spec_is_executable(probe)) {
            snprintf(out, size, "%s", env);
            return true;
        }
        set_reason(srv, "PG_BIN_DIR=%s holds no postgres binary", env);
        return false;
    }
    const char *path = getenv("PATH");
    while (path != NULL && *path != '\0') {
        size_t len = strcspn(path, ":");
        snprintf(probe, sizeof probe, "%.*s/initdb", (int)len, path);
        if (len > 0 && spec_is_executable(probe)) {
            snprintf(out, size, "%.*s", (int)len, path);
            snprintf(probe, sizeof probe, "%s/postgres", out);
            if (spec_is_executable(probe))
                return true;
        }
        path += len + (path[len] == ':');
    }
    glob_t g;
    bool found = false;
    double newest = -1;
    /* by version number: glob's order puts "9.6" after "15" */
    if (glob("/usr/lib/postgresql/*/bin/postgres", 0, NULL, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; i++) {
            double v = atof(g.gl_pathv[i] + strlen("/usr/lib/postgresql/"));
            if (v > newest) {
                newest = v;
                snprintf(out, size, "%s", g.gl_pathv[i]);
                *strrchr(out, '/') = '\0';
                found = true;
            }
        }
    globfree(&g);
    if (!found)
        set_reason(srv, "no initdb/postgres on PATH or under "
                        "/usr/lib/postgresql/*/bin");
    return found;
}

/* As root: the uid and gid of `postgres`, who will own the cluster. */
static bool server_user(spec_pg_server *srv, uid_t *uid, gid_t *gid)
{
    if (geteuid() != 0) {
        *uid = geteuid();
        *gid = getegid();
        return true;
    }
    struct passwd *pw = getpwnam("postgres");
    if (pw == NULL) {
        set_reason(srv, "running as root and there is no postgres user to "
                        "run the server as");
        return false;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return true;
}

typedef struct server_user_ids {
    uid_t uid;
    gid_t gid;
} server_user_ids;

/* In the child, as root: become postgres (who owns the cluster). */
static bool become_server_user(void *arg)
{
    const server_user_ids *ids = arg;
    if (geteuid() != 0)
        return true;
    struct passwd *pw = getpwuid(ids->uid);
    return setgid(ids->gid) == 0 &&
           initgroups(pw != NULL ? pw->pw_name : "postgres", ids->gid) == 0 &&
           setuid(ids->uid) == 0;
}

/* fork + (as root) become postgres + follow the parent + exec argv, its
 * output appended to `log`. */
static pid_t launch(char *const argv[], const char *log, uid_t uid, gid_t gid)
{
    server_user_ids ids = {uid, gid};
    return spec_spawn(argv, log, true, become_server_user, &ids, SIGINT);
}

static void show_log(const char *dir, const char *name)
{
    char path[300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    spec_print_log(path, "postgres");
}

static bool run_initdb(spec_pg_server *srv, const char *bin, uid_t uid,
                       gid_t gid)
{
    char initdb[1100], data[300], log[300];
    snprintf(initdb, sizeof initdb, "%s/initdb", bin);
    snprintf(data, sizeof data, "%s/data", srv->dir);
    snprintf(log, sizeof log, "%s/initdb.log", srv->dir);
    char *argv[] = {initdb, "-D", data, "-A", "trust", "-U", "postgres",
                    "-E", "UTF8", "--locale=C", "-N", NULL};
    int status = 0;
    pid_t pid = launch(argv, log, uid, gid);
    if (pid < 0) {
        set_reason(srv, "fork: %s", strerror(errno));
        return false;
    }
    bool exited = false;
    for (long waited = 0; !exited && waited < INITDB_TIMEOUT_MS; waited += 50) {
        exited = waitpid(pid, &status, WNOHANG) == pid;
        if (!exited)
            spec_sleep_ms(50);
    }
    if (!exited) {
        spec_stop_child(pid, SIGKILL, STOP_TIMEOUT_MS);
        set_reason(srv, "initdb did not finish in %d ms", INITDB_TIMEOUT_MS);
        return false;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        show_log(srv->dir, "initdb.log");
        set_reason(srv, "initdb failed (status %d); its log is above",
                   status);
        return false;
    }
    return true;
}

static bool answers(void *url)
{
    return PQping(url) == PQPING_OK;
}

/* The server on srv->port (0: a fresh one); true once it answers. */
static bool try_start(spec_pg_server *srv, const char *bin, int port,
                      uid_t uid, gid_t gid)
{
    char postgres[1100], data[300], log[300], port_text[16];
    if (port == 0)
        port = spec_free_port();
    if (port <= 0) {
        set_reason(srv, "no free loopback port: %s", strerror(errno));
        return false;
    }
    snprintf(postgres, sizeof postgres, "%s/postgres", bin);
    snprintf(data, sizeof data, "%s/data", srv->dir);
    snprintf(log, sizeof log, "%s/server.log", srv->dir);
    snprintf(port_text, sizeof port_text, "%d", port);
    char *argv[] = {postgres, "-D", data, "-p", port_text, "-k", srv->dir,
                    "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                    "-c", "synchronous_commit=off", "-c",
                    "full_page_writes=off", NULL};
    pid_t pid = launch(argv, log, uid, gid);
    if (pid < 0) {
        set_reason(srv, "fork: %s", strerror(errno));
        return false;
    }
    snprintf(srv->url, sizeof srv->url,
             "postgresql://postgres@127.0.0.1:%d/postgres?connect_timeout=5",
             port);
    int up = spec_await_child(pid, START_TIMEOUT_MS, 50, answers, srv->url);
    if (up == 1) {
        srv->pid = pid;
        srv->port = port;
        srv->ok = true;
        return true;
    }
    if (up == 0) {
        set_reason(srv, "postgres exited at start (port %d taken? see "
                        "%s/server.log)", port, srv->dir);
        return false;
    }
    spec_stop_child(pid, SIGINT, STOP_TIMEOUT_MS);
    set_reason(srv, "postgres did not answer on port %d within %d ms", port,
               START_TIMEOUT_MS);
    return false;
}

bool spec_pg_server_spawn(spec_pg_server *srv)
{
    char bin[1024];
    uid_t uid;
    gid_t gid;
    memset(srv, 0, sizeof *srv);
    if (!find_bin_dir(srv, bin, sizeof bin) || !server_user(srv, &uid, &gid))
        return false;
    if (!spec_temp_dir(srv->dir, sizeof srv->dir, "listenkit-pg-spec")) {
        set_reason(srv, "mkdtemp %s: %s", srv->dir, strerror(errno));
        srv->dir[0] = '\0';
        return false;
    }
    if (geteuid() == 0 && chown(srv->dir, uid, gid) != 0) {
        set_reason(srv, "chown %s to postgres: %s", srv->dir, strerror(errno));
        spec_remove_tree(srv->dir);
        return false;
    }
    if (run_initdb(srv, bin, uid, gid))
        for (int i = 0; i < START_ATTEMPTS && !srv->ok; i++)
            try_start(srv, bin, 0, uid, gid);
    if (!srv->ok) {
        show_log(srv->dir, "server.log");
        spec_remove_tree(srv->dir);
    }
    return srv->ok;
}

bool spec_pg_server_start(spec_pg_server *srv)
{
    const char *url = spec_env("LK_PG_URL");
    if (url != NULL) {
        memset(srv, 0, sizeof *srv);
        snprintf(srv->url, sizeof srv->url, "%s", url);
        srv->external = true;
        srv->ok = true;
        return true;
    }
    return spec_pg_server_spawn(srv);
}

void spec_pg_server_halt(spec_pg_server *srv)
{
    if (srv->external || srv->pid <= 0)
        return;
    spec_stop_child(srv->pid, SIGINT, STOP_TIMEOUT_MS);
    srv->pid = 0;
}

bool spec_pg_server_restart(spec_pg_server *srv)
{
    char bin[1024];
    uid_t uid;
    gid_t gid;
    if (srv->external || srv->dir[0] == '\0' ||
        !find_bin_dir(srv, bin, sizeof bin) || !server_user(srv, &uid, &gid))
        return false;
    spec_pg_server_halt(srv);
    srv->ok = false;
    for (int i = 0; i < START_ATTEMPTS && !srv->ok; i++)
        try_start(srv, bin, srv->port, uid, gid);
    return srv->ok;
}

void spec_pg_server_stop(spec_pg_server *srv)
{
    if (srv == NULL || srv->external)
        return;
    spec_pg_server_halt(srv);
    spec_remove_tree(srv->dir);
    srv->ok = false;
}

void spec_pg_server_require(const spec_pg_server *srv)
{
    spec_require_server(srv->ok, "PostgreSQL", srv->reason,
                        "set LK_PG_URL or PG_BIN_DIR, or run make deps");
}

void spec_pg_unique_name(char *buf, size_t size, const char *prefix)
{
    spec_unique_name(buf, size, prefix);
}

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

bool spec_pg_exec(const char *url, const char *sql)
{
    PGconn *conn = PQconnectdb(url);
    bool ok = false;
    if (PQstatus(conn) == CONNECTION_OK) {
        PQsetNoticeProcessor(conn, ignore_notice, NULL);
        PGresult *r = PQexec(conn, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
             PQresultStatus(r) == PGRES_TUPLES_OK;
        PQclear(r);
    }
    PQfinish(conn);
    return ok;
}

bool spec_pg_drop_schema(const char *url, const char *schema)
{
    char sql[256];
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS \"%s\" CASCADE", schema);
    return spec_pg_exec(url, sql);
}
