/* SPDX-License-Identifier: MIT */
/*
 * spec_proc.h — what the specs' throwaway servers (nats_server.c,
 * pg_server.c) share: a free loopback port, starting, waiting for and
 * stopping a child, a temp tree removed whole, a child that follows its
 * spec's death (so a spec killed by its timeout or a crash leaves no server
 * behind), and the fail-or-skip of a test that finds no server.
 */
#ifndef SPEC_PROC_H
#define SPEC_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "listenkit/error.h" /* LK_PRINTF */

/* Sleeps `ms` milliseconds (through signals). */
void spec_sleep_ms(long ms);

/* Milliseconds on the monotonic clock: for measuring how long a call took. */
int64_t spec_now_ms(void);

/* A regular file we may execute. */
bool spec_is_executable(const char *path);

/* A loopback TCP port nothing listens on right now (the kernel's pick),
 * or -1. */
int spec_free_port(void);

/* True when something accepts TCP connections on 127.0.0.1:port. */
bool spec_port_accepts(int port);

/* Waits up to `ms` for child `pid` to exit; true when it did (or is not
 * our child any more). */
bool spec_reap(pid_t pid, long ms);

/* Sends `sig`, waits up to `ms`, then SIGKILLs and reaps. */
void spec_stop_child(pid_t pid, int sig, long ms);

/* Call in a forked child before exec: it gets `sig` when the spec (its
 * parent) dies, and exits at once if the parent is already gone. Call it
 * after any setuid: a change of credentials clears the setting. */
void spec_follow_parent(pid_t parent, int sig);

/* rm -rf `dir` ("" is ignored), then makes `dir` "": it is gone. */
void spec_remove_tree(char *dir);

/* Why there is no server: formats `reason` (of `size` bytes) and clears
 * `*ok`. For a server struct's reason/ok pair. */
void spec_set_reason(bool *ok, char *reason, size_t size, const char *fmt,
                     ...) LK_PRINTF(4, 5);

/* getenv(name), but NULL when it is unset or empty. */
const char *spec_env(const char *name);

/* mkdtemp of "$TMPDIR/<name>.XXXXXX" (TMPDIR unset or empty: /tmp) into
 * `dir`. False (errno set, `dir` still the template, for the message)
 * when it fails. */
bool spec_temp_dir(char *dir, size_t size, const char *name);

/* Starts argv[0] with `argv` in a child whose stdout and stderr go to the
 * file `log` (appended to when `append`, else truncated). In the child,
 * `become(arg)` runs first when given (a change of user, say; false: the
 * child exits 126), then the child follows the spec (spec_follow_parent
 * with `death_sig`) and execs (failing that, exits 127). Returns the
 * child's pid, or -1 with errno when fork fails. */
pid_t spec_spawn(char *const argv[], const char *log, bool append,
                 bool (*become)(void *arg), void *arg, int death_sig);

/* Polls every `step_ms` until `ready(arg)`, until child `pid` exits or
 * `ms` have passed. Returns 1 when ready, 0 when the child exited first
 * (it is reaped), -1 when the time ran out (it still runs). */
int spec_await_child(pid_t pid, long ms, long step_ms,
                     bool (*ready)(void *arg), void *arg);

/* Copies the text file `path` to stderr, each line after "<label>: "
 * (a server's log, when it did not start). A missing file prints nothing. */
void spec_print_log(const char *path, const char *label);

/* Call at the start of a test that needs the server `what`: returns when
 * `ok`, else fails the test when CI=true or skips it loudly (a stderr line
 * "SKIPPED: no <what>: <reason>; <hint>"). */
void spec_require_server(bool ok, const char *what, const char *reason,
                         const char *hint);

/* "<prefix>_<pid>_<counter>": unique per process run and call; valid as a
 * NATS stream or subject token and as a PostgreSQL schema or table name. */
void spec_unique_name(char *buf, size_t size, const char *prefix);

#endif /* SPEC_PROC_H */
