#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# spec/tools/cluster_kill_node_spec.sh — make demo-cluster --cluster 3: three
# nats-servers in one JetStream cluster on loopback, the stream with three
# replicas, node 2 killed half-way (kill -9) and left down, at a small size:
# the two left keep the stream, a publish that timed out is retried with
# its message id, and the replicas converge with nothing lost, doubled or
# mismatched (spec/tools/cluster_run.sh). Run by `make test-faults`.
. "$(dirname "$0")/cluster_run.sh"
cluster_run --cluster 3

CASE=three_nodes_ran_one_stream_with_three_replicas
check logged "demo-cluster: 3-node JetStream cluster, stream LISTENKIT with 3 replicas" "$CL_ERR" &&
    test "$(grep -c 'demo-cluster: started nats-[123] ' "$CL_ERR")" -ge 3
CASE=node_2_was_killed
check logged "demo-cluster: killed nats-server node 2 of 3 (kill -9, pid [0-9]* gone)" "$CL_ERR"
CASE=the_stream_kept_every_acknowledged_event_on_the_nodes_left
check test "$(field published)" -ge "$(field acknowledged)"
cluster_common_checks
spec_summary "${CL_FILES[@]}"
