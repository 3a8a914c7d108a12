#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# spec/tools/cluster_restart_nats_spec.sh — make demo-cluster with
# nats-server killed half-way (kill -9) and restarted 1 s later on the same
# port and store dir, at a small size: a new server process on the old
# port, the stream still holding what was published before, every program
# reconnected, and the replicas converged with nothing lost, doubled or
# mismatched (spec/tools/cluster_run.sh). A command whose answer the
# restart cost counts as unacknowledged, never as lost. Run by
# `make test-faults`.
. "$(dirname "$0")/cluster_run.sh"
cluster_run --restart-nats

port=$(sed -n 's/.*demo-cluster: nats nats:\/\/127\.0\.0\.1:\([0-9]*\),.*/\1/p' "$CL_ERR")
old=$(sed -n 's/.*demo-cluster: killed nats-server (kill -9, pid \([0-9]*\))$/\1/p' "$CL_ERR")
new=$(sed -n "s/.*demo-cluster: nats-server restarted on :$port, same store (pid $old -> \\([0-9]*\\))\$/\\1/p" "$CL_ERR")
CASE=the_server_was_killed_and_a_new_one_started_on_its_port
check test -n "$port" -a -n "$old" -a -n "$new" -a "$old" != "$new"
CASE=the_stream_kept_every_acknowledged_event_across_the_restart
check test "$(field published)" -ge "$(field acknowledged)"
all_reconnected() {
    local prog
    for prog in tickets orders-1 orders-2 orders-3 orders-4; do
        logged "nats: reconnected to nats://127.0.0.1:$port" "$CL_LOGS/$prog.log" ||
            { echo "$prog did not log a reconnection"; return 1; }
    done
}
CASE=every_program_reconnected; check all_reconnected
cluster_common_checks
spec_summary "${CL_FILES[@]}"
