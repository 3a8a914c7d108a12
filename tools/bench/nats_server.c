/* SPDX-License-Identifier: MIT */
/* nats_server.c — a throwaway JetStream server for the benchmarks that need
 * one, started through tools/nats-server.sh (free port, its own store
 * directory) and stopped by the pid that script reports. */
#include "nats_server.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* tools/nats-server.sh from the working directory (make runs in the repo),
 * else next to the binary (build-opt/bin/bench -> ../../tools). */
static bool find_script(char *path, size_t size)
{
    char exe[PATH_MAX];
    snprintf(path, size, "tools/nats-server.sh");
    if (access(path, X_OK) == 0)
        return true;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return false;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return false;
    *slash = '\0';
    snprintf(path, size, "%.3900s/../../tools/nats-server.sh", exe);
    return access(path, X_OK) == 0;
}

/* Reads NAME=value (up to a space) out of the script's export line. */
static bool read_var(const char *line, const char *name, char *out,
                     size_t size)
{
    const char *p = strstr(line, name);
    if (p == NULL || p[strlen(name)] != '=')
        return false;
    p += strlen(name) + 1;
    size_t n = strcspn(p, " \n");
    if (n == 0 || n >= size)
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

bool bench_nats_server_start(bench_nats_server *srv)
{
    char script[4000], cmd[4100], line[1024] = "";
    memset(srv, 0, sizeof *srv);
    if (!find_script(script, sizeof script)) {
        snprintf(srv->why, sizeof srv->why, "no tools/nats-server.sh");
        return false;
    }
    snprintf(srv->script, sizeof srv->script, "%.3990s", script);
    snprintf(cmd, sizeof cmd, "'%s' start 2>/dev/null", script);
    FILE *out = popen(cmd, "r");
    if (out == NULL) {
        snprintf(srv->why, sizeof srv->why, "cannot run %.100s", script);
        return false;
    }
    bool got = fgets(line, sizeof line, out) != NULL;
    int rc = pclose(out);
    if (!got || rc != 0 || !read_var(line, "LK_NATS_URL", srv->url,
                                     sizeof srv->url)) {
        snprintf(srv->why, sizeof srv->why, "no nats-server");
        return false;
    }
    read_var(line, "LK_NATS_PID", srv->pid, sizeof srv->pid);
    read_var(line, "LK_NATS_DIR", srv->dir, sizeof srv->dir);
    srv->started = true;
    return true;
}

void bench_nats_server_stop(bench_nats_server *srv)
{
    char cmd[4800];
    if (!srv->started)
        return;
    /* The script stops exactly the pid it started and removes its dir. */
    snprintf(cmd, sizeof cmd,
             "LK_NATS_PID='%.31s' LK_NATS_DIR='%.511s' '%.3990s' stop "
             ">/dev/null 2>&1",
             srv->pid, srv->dir, srv->script);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: stopping nats-server (pid %s) failed\n",
                srv->pid);
    srv->started = false;
}
