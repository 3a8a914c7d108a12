#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# spec/tools/cluster_port_taken_spec.sh — make demo-cluster when the port it
# picks for nats-server is bound by another socket that accepts no
# connection (what a connect-only "is it free?" check cannot see, and what
# a port taken between the check and the bind looks like): the start is
# seen to fail from the server's own output and is retried on another
# port, and the run (no fault, small size) still passes
# (spec/tools/cluster_run.sh). Run by `make test-faults`.
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
cluster_common_checks
spec_summary "${CL_FILES[@]}"
