/* SPDX-License-Identifier: MIT */
/*
 * spec_proc.h — what the specs' throwaway servers (nats_server.c,
 * pg_server.c) share: a free loopback port, waiting for and stopping a
 * child, a temp tree removed whole, and a child that follows its spec's
 * death (so a spec killed by its timeout or a crash leaves no server
 * behind).
 */
#ifndef SPEC_PROC_H
#define SPEC_PROC_H

#include <stdbool.h>
#include <sys/types.h>

void spec_sleep_ms(long ms);

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

/* rm -rf `dir` ("" is ignored). */
void spec_remove_tree(const char *dir);

#endif /* SPEC_PROC_H */
