#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# spec/tools/cluster_kill_replica_spec.sh — make demo-cluster's single-node
# run with one orders replica killed (kill -9 half-way, restarted 2 s later),
# at a small size: the replicas converge with nothing acknowledged lost,
# nothing applied twice, no mismatch; the orders commands the dead replica
# missed are taken by the others; and every server, program and temp dir
# the run made is gone afterwards (spec/tools/cluster_run.sh). The one fault
# run in `make test`; the others run in `make test-faults`.
. "$(dirname "$0")/cluster_run.sh"
cluster_run --kill-replica

killed_and_restarted() {
    logged "demo-cluster: killed orders-1 (kill -9, pid [0-9]*)$" "$CL_ERR" &&
        logged "demo-cluster: restarted orders-1 on :[0-9]* (pid [0-9]* -> [0-9]*)$" "$CL_ERR"
}
CASE=the_replica_was_killed_and_restarted_on_its_port; check killed_and_restarted
CASE=every_command_is_acknowledged_the_others_take_the_dead_replicas_orders
check test "$(field acknowledged)" = "$(field attempted)"
cluster_common_checks
spec_summary "${CL_FILES[@]}"
