#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# spec/tools/cluster_restart_pg_spec.sh — make demo-cluster with PostgreSQL
# restarted half-way (fast shutdown, start with the same options), at a
# small size: a new postmaster, the programs' writes failing while it is
# down, and the replicas converged with nothing lost, doubled or mismatched
# (spec/tools/cluster_run.sh): a command refused while the database was
# down counts as unacknowledged, not lost, and an event whose write failed
# is applied through redelivery. Run by `make test-faults`.
. "$(dirname "$0")/cluster_run.sh"
cluster_run --restart-pg

pids=$(sed -n 's/.*demo-cluster: PostgreSQL restarted (fast shutdown, pid \([0-9]*\) -> \([0-9]*\))$/\1 \2/p' "$CL_ERR")
pgport=$(sed -n 's/.*pg-server.sh: started .* on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$CL_ERR")
# writes through a connection the restart closed, or tried while it was down
saw_it_go() { test -n "$pgport" && cat "$CL_LOGS"/*.log | grep -Eq "pg 127\.0\.0\.1:$pgport: (connection lost|cannot connect)"; }
CASE=postgresql_was_restarted_as_a_new_process; check test -n "$pids" -a "${pids% *}" != "${pids#* }"
CASE=the_programs_saw_the_database_go_away; check saw_it_go
CASE=refused_commands_are_unacknowledged_not_lost
check test "$(field acknowledged)" -le "$(field attempted)" -a "$(field lost)" = 0
cluster_common_checks
spec_summary "${CL_FILES[@]}"
