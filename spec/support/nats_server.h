/* SPDX-License-Identifier: MIT */
/*
 * nats_server.h — a throwaway JetStream server for specs.
 *
 *     static spec_nats_server srv;
 *     group setup:    spec_nats_server_start(&srv);      // never fails the group
 *     in a test:      spec_nats_server_require(&srv);    // skip()s or fails
 *                     lk_nats_bus_connect(&bus, srv.url, &opts, &err);
 *     group teardown: spec_nats_server_stop(&srv); spec_nats_library_close();
 *     (or both at once: spec_nats_group_setup/_teardown, at the end)
 *
 * Where the server comes from:
 *   - LK_NATS_URL set: that server (shared with other runs, so use
 *     spec_nats_unique_name() for streams and subjects);
 *   - else nats-server is spawned: $NATS_SERVER_BIN, else nats-server on
 *     PATH, else /usr/sbin/nats-server, as `-js -a 127.0.0.1 -p <free port>
 *     -sd <fresh temp dir>`; stop() sends SIGTERM, waits, removes the dir.
 *
 * A spawned server follows the THREAD that started it (PR_SET_PDEATHSIG):
 * start, restart or bring it up from the spec's own thread, never from a
 * helper thread that ends before the server should (run the client on the
 * helper thread instead, as nats_reconnect_spec does).
 *
 * When no server can be had, spec_nats_server_require() makes the test FAIL
 * when CI=true, else skips it LOUDLY: cmocka skip() plus a stderr line
 * "SKIPPED: no nats-server: <why>; set NATS_SERVER_BIN or run make deps".
 */
#ifndef SPEC_NATS_SERVER_H
#define SPEC_NATS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct spec_nats_server {
    bool ok;          /* a server is there: url is usable */
    bool external;    /* from LK_NATS_URL (not ours to stop) */
    char url[256];
    pid_t pid;        /* spawned server, 0 when none */
    int port;
    char dir[256];    /* its store directory ("" when none) */
    bool no_jetstream; /* spawned without -js */
    char reason[512]; /* why there is no server (when !ok) */
    char tls_files[3][256]; /* certificate, key, CA ("": no TLS) */
    bool tls_verify;   /* clients must present a certificate */
} spec_nats_server;

/* Finds or spawns a server (see above). Returns srv->ok. */
bool spec_nats_server_start(spec_nats_server *srv);

/* Always spawns one, even when LK_NATS_URL is set: for specs that stop the
 * server under a client. Returns srv->ok. */
bool spec_nats_server_spawn(spec_nats_server *srv);

/* Spawns a plain NATS server, without JetStream: for specs of what a
 * client does when JetStream does not answer. Returns srv->ok. */
bool spec_nats_server_spawn_without_jetstream(spec_nats_server *srv);

/* Spawns a JetStream server that requires TLS with `cert`/`key` (PEM),
 * trusting `ca` for client certificates; `verify`: clients must present
 * one. Its url stays nats://127.0.0.1:<port>: connect with tls://. */
bool spec_nats_server_spawn_tls(spec_nats_server *srv, const char *cert,
                                const char *key, const char *ca, bool verify);

/* Kills a spawned server and starts it again on the same port and store
 * directory, as after a crash or a deploy. Returns srv->ok. */
bool spec_nats_server_restart(spec_nats_server *srv);

/* Stops a spawned server but keeps its port and store directory, so
 * spec_nats_server_up() brings it back where clients look for it: a server
 * that is down for a while (or not up yet). False when not ours. */
bool spec_nats_server_down(spec_nats_server *srv);
bool spec_nats_server_up(spec_nats_server *srv);

/* SIGSTOP / SIGCONT of a spawned server: it keeps its connections but
 * answers nothing, as a server stalled by a long GC or a full disk. stop()
 * resumes a paused server before stopping it. False when not ours. */
bool spec_nats_server_pause(spec_nats_server *srv);
bool spec_nats_server_resume(spec_nats_server *srv);

/* Stops a spawned server (SIGTERM, waitpid, rm -rf its dir); an external
 * one is left alone. Safe on a server that never started, and twice. */
void spec_nats_server_stop(spec_nats_server *srv);

/* Call at the start of a test that needs the server: returns when there is
 * one, else fails (CI=true) or skips the test loudly. */
void spec_nats_server_require(const spec_nats_server *srv);

/* "<prefix>_<pid>_<counter>": unique per process run and call. Valid as a
 * stream, consumer or subject token. */
void spec_nats_unique_name(char *buf, size_t size, const char *prefix);

/* Messages stored in `stream` at `url`, or -1 when it cannot be read. */
int64_t spec_nats_stream_msgs(const char *url, const char *stream);

/* Creates `stream` by hand, as an operator would: capturing `subject` (a
 * wildcard is fine), or with no subject list when NULL (the server then
 * makes its name its one subject). True when the server made it. */
bool spec_nats_add_stream(const char *url, const char *stream,
                          const char *subject);

/* How many subjects `stream`'s configuration lists, or -1 when it cannot
 * be read. */
int64_t spec_nats_stream_subjects(const char *url, const char *stream);

/* Deliveries of `stream` that no consumer has acked yet (summed over its
 * consumers), or -1 when they cannot be read. */
int64_t spec_nats_ack_pending(const char *url, const char *stream);

/* Deletes `stream` at `url` (hygiene on a shared server); errors ignored. */
void spec_nats_delete_stream(const char *url, const char *stream);

/* Last call of a spec that used libnats: releases libnats' global state and
 * waits for its threads (nats_CloseAndWait), so LSan sees no leak. Every
 * connection must be destroyed before. */
void spec_nats_library_close(void);

/* The cmocka group fixture of a spec file whose tests share one server:
 *
 *     static spec_nats_server server;
 *     static int group_setup(void **state)
 *     { return spec_nats_group_setup(state, &server); }
 *     static int group_teardown(void **state)
 *     { return spec_nats_group_teardown(state, &server); }
 *
 * Setup turns the framework's log off (specs that read it capture it
 * themselves) and starts `srv` (spec_nats_server_start); it never fails
 * the group: each test calls spec_nats_server_require. Teardown stops
 * `srv` (NULL: none) and then closes the library. Both return 0. */
int spec_nats_group_setup(void **state, spec_nats_server *srv);
int spec_nats_group_teardown(void **state, spec_nats_server *srv);

/* A cmocka group teardown for a spec file whose tests spawn their own
 * servers (or none): spec_nats_library_close only. Returns 0. */
int spec_nats_library_teardown(void **state);

#endif /* SPEC_NATS_SERVER_H */
