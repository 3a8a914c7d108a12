/* SPDX-License-Identifier: MIT */
/* nats_server.c — a throwaway JetStream server for specs (nats_server.h). */
#define _XOPEN_SOURCE 700 /* nftw */

#include "nats_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nats/nats.h>

#include "listenkit.h"

#include "spec_proc.h"

#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 5000
#define START_ATTEMPTS 3

#define set_reason(srv, ...) \
    spec_set_reason(&(srv)->ok, (srv)->reason, sizeof (srv)->reason, __VA_ARGS__)

/* $NATS_SERVER_BIN, else nats-server on PATH, else /usr/sbin. */
static bool find_binary(spec_nats_server *srv, char *out, size_t size)
{
    const char *env = getenv("NATS_SERVER_BIN");
    if (env != NULL && env[0] != '\0') {
        if (spec_is_executable(env)) {
            snprintf(out, size, "%s", env);
            return true;
        }
        set_reason(srv, "NATS_SERVER_BIN=%s is not an executable file", env);
        return false;
    }
    const char *path = getenv("PATH");
    while (path != NULL && *path != '\0') {
        size_t len = strcspn(path, ":");
        snprintf(out, size, "%.*s/nats-server", (int)len, path);
        if (len > 0 && spec_is_executable(out))
            return true;
        path += len + (path[len] == ':');
    }
    snprintf(out, size, "/usr/sbin/nats-server");
    if (spec_is_executable(out))
        return true;
    set_reason(srv, "nats-server is neither on PATH nor in /usr/sbin");
    return false;
}

static void kill_server(spec_nats_server *srv)
{
    if (srv->pid > 0) {
        kill(srv->pid, SIGCONT); /* a paused server acts on SIGTERM */
        spec_stop_child(srv->pid, SIGTERM, STOP_TIMEOUT_MS);
        srv->pid = 0;
    }
}

/* The server's command line; its output goes to <dir>/server.log. A spec
 * killed by its timeout or a crash must not leave the server running: it
 * follows its parent. */
static pid_t launch(const char *bin, int port, const char *dir, bool js,
                    spec_nats_server *srv)
{
    char port_text[16], log_path[300];
    snprintf(port_text, sizeof port_text, "%d", port);
    snprintf(log_path, sizeof log_path, "%s/server.log", dir);
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)bin;
    if (js)
        argv[n++] = "-js";
    argv[n++] = "-a";
    argv[n++] = "127.0.0.1";
    argv[n++] = "-p";
    argv[n++] = port_text;
    if (js) {
        argv[n++] = "-sd";
        argv[n++] = (char *)dir;
    }
    if (srv->tls_files[0][0] != '\0') {
        static const char *const flags[] = {"--tlscert", "--tlskey",
                                            "--tlscacert"};
        argv[n++] = "--tls";
        for (int i = 0; i < 3; i++) {
            argv[n++] = (char *)flags[i];
            argv[n++] = srv->tls_files[i];
        }
        if (srv->tls_verify)
            argv[n++] = "--tlsverify";
    }
    argv[n] = NULL;
    return spec_spawn(argv, log_path, false, NULL, NULL, SIGTERM);
}

static bool accepts(void *port)
{
    return spec_port_accepts(*(int *)port);
}

/* One try on `port` (0: a fresh one); true when the server accepts
 * connections. */
static bool try_start(spec_nats_server *srv, const char *bin, int port)
{
    if (port == 0)
        port = spec_free_port();
    if (port <= 0) {
        set_reason(srv, "no free loopback port: %s", strerror(errno));
        return false;
    }
    pid_t pid = launch(bin, port, srv->dir, !srv->no_jetstream, srv);
    if (pid < 0) {
        set_reason(srv, "fork: %s", strerror(errno));
        return false;
    }
    int up = spec_await_child(pid, START_TIMEOUT_MS, 20, accepts, &port);
    if (up == 1) {
        srv->pid = pid;
        srv->port = port;
        snprintf(srv->url, sizeof srv->url, "nats://127.0.0.1:%d", port);
        srv->ok = true;
        return true;
    }
    if (up == 0) {
        set_reason(srv, "%s exited at start (port %d taken? see the log in "
                        "%s)", bin, port, srv->dir);
        return false;
    }
    srv->pid = pid;
    kill_server(srv);
    set_reason(srv, "%s did not accept connections on port %d within %d ms",
               bin, port, START_TIMEOUT_MS);
    return false;
}

/* `tls`: NULL, or certificate, key and CA files (--tls...). */
static bool spawn(spec_nats_server *srv, bool js, const char *const *tls,
                  bool verify)
{
    char bin[1024];
    memset(srv, 0, sizeof *srv);
    srv->no_jetstream = !js;
    for (int i = 0; tls != NULL && i < 3; i++)
        snprintf(srv->tls_files[i], sizeof srv->tls_files[i], "%s", tls[i]);
    srv->tls_verify = verify;
    if (!find_binary(srv, bin, sizeof bin))
        return false;
    if (!spec_temp_dir(srv->dir, sizeof srv->dir, "listenkit-nats-spec")) {
        set_reason(srv, "mkdtemp %s: %s", srv->dir, strerror(errno));
        srv->dir[0] = '\0';
        return false;
    }
    for (int i = 0; i < START_ATTEMPTS && !srv->ok; i++)
        try_start(srv, bin, 0);
    if (!srv->ok) {
        char log_path[300];
        snprintf(log_path, sizeof log_path, "%s/server.log", srv->dir);
        spec_print_log(log_path, "nats-server");
        spec_remove_tree(srv->dir);
    }
    return srv->ok;
}

bool spec_nats_server_spawn(spec_nats_server *srv)
{
    return spawn(srv, true, NULL, false);
}

bool spec_nats_server_spawn_without_jetstream(spec_nats_server *srv)
{
    return spawn(srv, false, NULL, false);
}

bool spec_nats_server_spawn_tls(spec_nats_server *srv, const char *cert,
                                const char *key, const char *ca, bool verify)
{
    return spawn(srv, true, (const char *const[]){cert, key, ca}, verify);
}

bool spec_nats_server_start(spec_nats_server *srv)
{
    const char *url = spec_env("LK_NATS_URL");
    if (url != NULL) {
        memset(srv, 0, sizeof *srv);
        snprintf(srv->url, sizeof srv->url, "%s", url);
        srv->external = true;
        srv->ok = true;
        return true;
    }
    return spec_nats_server_spawn(srv);
}

bool spec_nats_server_restart(spec_nats_server *srv)
{
    char bin[1024];
    if (srv->external || srv->pid <= 0 || !find_binary(srv, bin, sizeof bin))
        return false;
    kill_server(srv);
    srv->ok = false;
    /* The port was just freed; another process may grab it, so retry a
     * little before giving up. */
    for (int i = 0; i < START_ATTEMPTS && !srv->ok; i++)
        try_start(srv, bin, srv->port);
    return srv->ok;
}

bool spec_nats_server_down(spec_nats_server *srv)
{
    if (srv->external || srv->pid <= 0)
        return false;
    kill_server(srv);
    return true;
}

bool spec_nats_server_up(spec_nats_server *srv)
{
    char bin[1024];
    if (srv->external || srv->pid > 0 || srv->port <= 0 ||
        !find_binary(srv, bin, sizeof bin))
        return false;
    srv->ok = false;
    for (int i = 0; i < START_ATTEMPTS && !srv->ok; i++)
        try_start(srv, bin, srv->port);
    return srv->ok;
}

bool spec_nats_server_pause(spec_nats_server *srv)
{
    return !srv->external && srv->pid > 0 && kill(srv->pid, SIGSTOP) == 0;
}

bool spec_nats_server_resume(spec_nats_server *srv)
{
    return !srv->external && srv->pid > 0 && kill(srv->pid, SIGCONT) == 0;
}

void spec_nats_server_stop(spec_nats_server *srv)
{
    if (srv == NULL || srv->external)
        return;
    kill_server(srv);
    spec_remove_tree(srv->dir);
    srv->ok = false;
}

void spec_nats_server_require(const spec_nats_server *srv)
{
    spec_require_server(srv->ok, "nats-server", srv->reason,
                        "set NATS_SERVER_BIN or run make deps");
}

void spec_nats_unique_name(char *buf, size_t size, const char *prefix)
{
    spec_unique_name(buf, size, prefix);
}

/* Runs `fn` with a JetStream context on a short-lived connection. */
static int64_t with_js(const char *url, const char *stream,
                       int64_t (*fn)(jsCtx *js, const char *stream))
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    int64_t r = -1;
    if (natsConnection_ConnectTo(&nc, url) == NATS_OK &&
        natsConnection_JetStream(&js, nc, NULL) == NATS_OK)
        r = fn(js, stream);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return r;
}

static int64_t count_msgs(jsCtx *js, const char *stream)
{
    jsStreamInfo *si = NULL;
    int64_t r = -1;
    if (js_GetStreamInfo(&si, js, stream, NULL, NULL) == NATS_OK)
        r = (int64_t)si->State.Msgs;
    jsStreamInfo_Destroy(si);
    return r;
}

static int64_t delete_stream(jsCtx *js, const char *stream)
{
    return js_DeleteStream(js, stream, NULL, NULL) == NATS_OK ? 0 : -1;
}

/* Sum over the stream's consumers: a lost ack stays pending until its ack
 * wait runs out, so the figure shows it at once. */
static int64_t count_ack_pending(jsCtx *js, const char *stream)
{
    jsConsumerInfoList *list = NULL;
    int64_t r = -1;
    if (js_Consumers(&list, js, stream, NULL, NULL) == NATS_OK) {
        r = 0;
        for (int i = 0; i < list->Count; i++)
            r += list->List[i]->NumAckPending;
    }
    jsConsumerInfoList_Destroy(list);
    return r;
}

static int64_t count_subjects(jsCtx *js, const char *stream)
{
    jsStreamInfo *si = NULL;
    int64_t r = -1;
    if (js_GetStreamInfo(&si, js, stream, NULL, NULL) == NATS_OK)
        r = si->Config->SubjectsLen;
    jsStreamInfo_Destroy(si);
    return r;
}

int64_t spec_nats_stream_subjects(const char *url, const char *stream)
{
    return with_js(url, stream, count_subjects);
}

bool spec_nats_add_stream(const char *url, const char *stream,
                          const char *subject)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    bool ok = false;
    if (natsConnection_ConnectTo(&nc, url) == NATS_OK &&
        natsConnection_JetStream(&js, nc, NULL) == NATS_OK) {
        jsStreamConfig cfg;
        jsStreamConfig_Init(&cfg);
        cfg.Name = stream;
        cfg.Subjects = subject != NULL ? &subject : NULL;
        cfg.SubjectsLen = subject != NULL ? 1 : 0;
        cfg.Storage = js_MemoryStorage;
        ok = js_AddStream(NULL, js, &cfg, NULL, NULL) == NATS_OK;
    }
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return ok;
}

int64_t spec_nats_stream_msgs(const char *url, const char *stream)
{
    return with_js(url, stream, count_msgs);
}

int64_t spec_nats_ack_pending(const char *url, const char *stream)
{
    return with_js(url, stream, count_ack_pending);
}

void spec_nats_delete_stream(const char *url, const char *stream)
{
    with_js(url, stream, delete_stream);
}

void spec_nats_library_close(void)
{
    nats_CloseAndWait(10000);
}

int spec_nats_group_setup(void **state, spec_nats_server *srv)
{
    (void)state;
    lk_log_set_level(LK_LOG_OFF);
    spec_nats_server_start(srv);
    return 0;
}

int spec_nats_group_teardown(void **state, spec_nats_server *srv)
{
    (void)state;
    spec_nats_server_stop(srv);
    spec_nats_library_close();
    return 0;
}

int spec_nats_library_teardown(void **state)
{
    return spec_nats_group_teardown(state, NULL);
}
