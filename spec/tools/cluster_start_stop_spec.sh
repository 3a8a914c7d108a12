#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# spec/tools/cluster_start_stop_spec.sh — make demo-cluster when the port it
# picks for nats-server is bound by another socket that accepts no
# connection (what a connect-only "is it free?" check cannot see, and what
# a port taken between the check and the bind looks like): the start is
# seen to fail from the server's own output and is retried on another
# port, and the run (no fault, small size) still passes
# (spec/tools/cluster_run.sh). And a run that fails early neither stops nor
# removes a PostgreSQL that LK_PG_* name (CI's shared one). Run by `make test-faults`.
. "$(dirname "$0")/cluster_run.sh"
# a socket bound to a free port, never listening, until this spec ends
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1], flush=True)
time.sleep(120)' >"$CL_TMP/holder" &
holder=$!
trap 'kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; rm -rf "$CL_TMP"' EXIT
for _ in $(seq 1 100); do [ -s "$CL_TMP/holder" ] && break; sleep 0.05; done
taken=$(cat "$CL_TMP/holder")
DEMO_FIRST_PORT=$taken cluster_run

refuses_connects() { test -n "$taken" && ! (exec 3<>"/dev/tcp/127.0.0.1/$taken") 2>/dev/null; }
moved_on() {
    logged "demo-cluster: nats nats://127.0.0.1:[0-9]*, " "$CL_ERR" &&
        ! logged "demo-cluster: nats nats://127.0.0.1:$taken, " "$CL_ERR"
}
CASE=the_taken_port_answers_no_connect; check refuses_connects
CASE=the_start_on_the_taken_port_failed_from_the_servers_own_output
check logged "demo-cluster: nats-server 1 (pid [0-9]*) did not start on :$taken:" "$CL_ERR"
CASE=the_server_started_on_another_port; check moved_on
# A run that fails before its own PostgreSQL starts (here: no nats-server)
# while LK_PG_* name a shared one, as .ci/run exports them: a process and a
# dir of that name its stop must leave alone.
mkdir "$CL_TMP/listenkit-pg.shared"
sleep 120 & shared=$!
trap 'kill "$holder" "$shared" 2>/dev/null; wait "$holder" "$shared" 2>/dev/null; rm -rf "$CL_TMP"' EXIT
LK_PG_PID=$shared LK_PG_DIR=$CL_TMP/listenkit-pg.shared NATS_SERVER_BIN=/bin/false TMPDIR=$CL_TMP/t \
    BUILD=$BUILD tools/cluster/demo-cluster.sh >/dev/null 2>>"$CL_ERR"
failed_rc=$?
shared_left_alone() { test "$failed_rc" -ne 0 && kill -0 "$shared" 2>/dev/null && test -d "$CL_TMP/listenkit-pg.shared"; }
CASE=a_failed_run_leaves_a_shared_postgresql_named_in_the_environment_alone; check shared_left_alone
cluster_common_checks
spec_summary "${CL_FILES[@]}"
