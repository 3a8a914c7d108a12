#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# spec/tools/cluster_kill_replica_spec.sh — make demo-cluster's single-node
# run with one orders replica killed (kill -9 half-way, restarted 2 s later),
# at a small size: the replicas converge with nothing acknowledged lost,
# nothing applied twice, no mismatch; the orders commands the dead replica
# missed are taken by the others; and every server, program and temp dir
# the run made is gone afterwards. Needs nats-server and PostgreSQL (as the
# other real-server specs; a missing one fails the run).
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
. spec/support/spec.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/t"
chmod 755 "$tmp" "$tmp/t" # PostgreSQL runs as the postgres user

TMPDIR=$tmp/t DEMO_QUIET=1 BUILD=$BUILD tools/cluster/demo-cluster.sh --kill-replica \
    --tickets 30 --updates 2 --clients 4 --orders 6 --converge-s 45 --json \
    >"$tmp/report.json" 2>"$tmp/stderr"
rc=$?
field() { sed -n "s/^  \"$1\": \\(-\\{0,1\\}[0-9.]*\\),\\{0,1\\}\$/\\1/p" "$tmp/report.json"; }

CASE=the_run_with_a_replica_killed_exits_0; check test "$rc" -eq 0
CASE=the_fault_was_injected_and_the_replica_restarted
check grep -q "killed orders-1 (kill -9)" "$tmp/stderr" && grep -q "restarted orders-1" "$tmp/stderr"
CASE=nothing_acknowledged_is_lost; check test "$(field lost)" = 0
CASE=nothing_is_applied_twice; check test "$(field applied_twice)" = 0
CASE=every_replica_equals_its_ticket; check test "$(field mismatches)" = 0
CASE=every_command_is_acknowledged_the_others_take_the_dead_replicas_orders
check test "$(field acknowledged)" = "$(field attempted)" -a "$(field attempted)" = 102
CASE=every_acknowledged_version_is_applied; check test "$(field applied)" -ge "$(field acknowledged)"
CASE=jetstream_counted_the_deliveries; check test "$(field deliveries)" -ge "$(field published)" -a "$(field published)" -gt 0
CASE=no_server_program_or_temp_dir_is_left; check test -z "$(ls -A "$tmp/t")"

spec_summary "$tmp/report.json" "$tmp/stderr"
