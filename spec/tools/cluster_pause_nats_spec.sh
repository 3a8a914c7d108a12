#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# spec/tools/cluster_pause_nats_spec.sh — make demo-cluster with nats-server
# paused half-way (SIGSTOP for 3x the 1 s ack wait, then SIGCONT), at a
# small size: the same server process carries on, publishers and consumers
# ride the pause out (every command is acknowledged), and the replicas
# converge with nothing lost, doubled or mismatched (spec/tools/cluster_run.sh).
# Run by `make test-faults`.
. "$(dirname "$0")/cluster_run.sh"
cluster_run --pause-nats

stopped_then_continued() {
    logged "demo-cluster: nats-server stopped (SIGSTOP, pid [0-9]*, state T) for 3000 ms" "$CL_ERR" &&
        logged "demo-cluster: nats-server continued (SIGCONT, pid [0-9]*, state [^T])" "$CL_ERR"
}
CASE=the_server_was_stopped_for_longer_than_the_ack_wait_then_continued
check stopped_then_continued
CASE=the_same_server_process_carries_on
check test "$(grep -c 'demo-cluster: started nats-1 ' "$CL_ERR")" = 1
CASE=every_command_is_acknowledged_through_the_pause
check test "$(field acknowledged)" = "$(field attempted)"
cluster_common_checks
spec_summary "${CL_FILES[@]}"
