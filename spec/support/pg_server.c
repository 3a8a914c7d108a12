/* SPDX-License-Identifier: MIT */
/* pg_server.c — a PostgreSQL server for specs (pg_server.h). */
#define _DEFAULT_SOURCE /* initgroups */

#include "pg_server.h"

#include <errno.h>
#include <fcntl.h>
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

static void set_reason(spec_pg_server *srv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(srv->reason, sizeof srv->reason, fmt, ap);
    va_end(ap);
    srv->ok = false;
}

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

/* fork + (as root) become postgres + follow the parent + exec argv, its
 * output in `log`. */
static pid_t launch(char *const argv[], const char *log, uid_t uid, gid_t gid)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
    if (geteuid() == 0) {
        struct passwd *pw = getpwuid(uid);
        if (setgid(gid) != 0 ||
            initgroups(pw != NULL ? pw->pw_name : "postgres", gid) != 0 ||
            setuid(uid) != 0)
            _exit(126);
    }
    spec_follow_parent(parent, SIGINT);
    execv(argv[0], argv);
    _exit(127);
}

static void show_log(const char *dir, const char *name)
{
    char path[300], line[300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    while (fgets(line, sizeof line, f) != NULL)
        fprintf(stderr, "postgres: %s", line);
    fclose(f);
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
    for (long waited = 0; waited < START_TIMEOUT_MS; waited += 50) {
        if (PQping(srv->url) == PQPING_OK) {
            srv->pid = pid;
            srv->port = port;
            srv->ok = true;
            return true;
        }
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            set_reason(srv, "postgres exited at start (port %d taken? see "
                            "%s/server.log)", port, srv->dir);
            return false;
        }
        spec_sleep_ms(50);
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
    const char *tmp = getenv("TMPDIR");
    snprintf(srv->dir, sizeof srv->dir, "%s/listenkit-pg-spec.XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(srv->dir) == NULL) {
        set_reason(srv, "mkdtemp %s: %s", srv->dir, strerror(errno));
        srv->dir[0] = '\0';
        return false;
    }
    if (geteuid() == 0 && chown(srv->dir, uid, gid) != 0) {
        set_reason(srv, "chown %s to postgres: %s", srv->dir, strerror(errno));
        spec_remove_tree(srv->dir);
        srv->dir[0] = '\0';
        return false;
    }
    if (run_initdb(srv, bin, uid, gid))
        for (int i = 0; i < START_ATTEMPTS && !srv->ok; i++)
            try_start(srv, bin, 0, uid, gid);
    if (!srv->ok) {
        show_log(srv->dir, "server.log");
        spec_remove_tree(srv->dir);
        srv->dir[0] = '\0';
    }
    return srv->ok;
}

bool spec_pg_server_start(spec_pg_server *srv)
{
    const char *url = getenv("LK_PG_URL");
    if (url != NULL && url[0] != '\0') {
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
    srv->dir[0] = '\0';
    srv->ok = false;
}

void spec_pg_server_require(const spec_pg_server *srv)
{
    if (srv->ok)
        return;
    const char *ci = getenv("CI");
    if (ci != NULL && strcmp(ci, "true") == 0)
        fail_msg("no PostgreSQL in CI (CI=true): %s; set LK_PG_URL or "
                 "PG_BIN_DIR, or run make deps",
                 srv->reason);
    fprintf(stderr,
            "SKIPPED: no PostgreSQL: %s; set LK_PG_URL or PG_BIN_DIR, or run "
            "make deps\n",
            srv->reason);
    skip();
}

void spec_pg_unique_name(char *buf, size_t size, const char *prefix)
{
    static unsigned counter;
    snprintf(buf, size, "%s_%ld_%u", prefix, (long)getpid(), ++counter);
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
