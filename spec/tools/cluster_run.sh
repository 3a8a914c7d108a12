# SPDX-License-Identifier: MIT
# spec/tools/cluster_run.sh — sourced by the cluster_*_spec.sh scripts: runs
# tools/cluster/demo-cluster.sh with one fault at a small size and checks
# what every fault must leave true, so each spec adds only its fault's own
# cases.
#
#   . spec/tools/cluster_run.sh
#   cluster_run --pause-nats [more demo-cluster options]
#   CASE=...; check ...          # the fault's own cases (field, log, $CL_*)
#   cluster_common_checks        # exit 0, nothing lost/doubled/mismatched,
#   spec_summary "${CL_FILES[@]}"  # nothing left running or on disk
#
# After cluster_run: $CL_RC (the script's exit status), $CL_SECONDS, $CL_ERR
# (its stderr: "started NAME (pid P)" lines and the fault's lines),
# $CL_LOGS (the servers' and programs' logs, DEMO_LOGS), `field NAME` (a
# number from the --json report). Needs nats-server and PostgreSQL: without
# them the spec is skipped, and under CI=true it fails.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
. spec/support/spec.sh
CL_TMP=$(mktemp -d); trap 'rm -rf "$CL_TMP"' EXIT
CL_ERR=$CL_TMP/stderr CL_LOGS=$CL_TMP/logs CL_FILES=("$CL_TMP/report.json" "$CL_TMP/stderr")
mkdir -p "$CL_TMP/t" "$CL_LOGS"
chmod 755 "$CL_TMP" "$CL_TMP/t" # PostgreSQL runs as the postgres user

# the servers demo-cluster.sh and tools/pg-server.sh would look for
cluster_servers_missing() {
    local nats=${NATS_SERVER_BIN:-$(command -v nats-server || echo /usr/sbin/nats-server)}
    [ -x "$nats" ] || { echo "no nats-server ($nats)"; return 0; }
    command -v initdb >/dev/null || [ -n "${PG_BIN_DIR:-}" ] ||
        ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "no PostgreSQL (initdb)"; return 0; }
    return 1
}

# cluster_run DEMO-CLUSTER-OPTIONS...: one run at the small size (30 tickets
# x 2 updates from 4 clients, 6 orders; 102 commands)
cluster_run() {
    local why s
    if why=$(cluster_servers_missing); then
        if [ "${CI:-}" = true ]; then
            CASE=the_servers_are_installed; check false
            echo "$why (CI=true: a missing server fails the run)"
            spec_summary; exit 1
        fi
        echo "[ SKIPPED  ] ${0##*/}: $why"
        echo "[  SKIPPED  ] 1 test(s)."
        exit 0
    fi
    s=$(date +%s.%N)
    TMPDIR=$CL_TMP/t DEMO_LOGS=$CL_LOGS BUILD=$BUILD tools/cluster/demo-cluster.sh "$@" \
        --tickets 30 --updates 2 --clients 4 --orders 6 --converge-s 60 --json \
        >"$CL_TMP/report.json" 2>"$CL_ERR"
    CL_RC=$?
    CL_SECONDS=$(awk -v s="$s" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}')
    echo "demo-cluster ${*:-(no fault)} took $CL_SECONDS s"
    # what happened, for the log (the fault's lines, slow stops, the counts)
    # (a line of the script may follow lk-cluster's progress line: no ^)
    tr '\r' '\n' <"$CL_ERR" | grep -oE 'demo-cluster: (killed|restarted|nats-server|PostgreSQL|[0-9]-node|.* still running).*' | sed 's/^/  /'
    local f
    for f in attempted acknowledged published deliveries redeliveries applied load_seconds converge_seconds; do
        printf '  %s %s' "$f" "$(field "$f")"
    done
    echo
}
field() { sed -n "s/^  \"$1\": \\(-\\{0,1\\}[0-9.]*\\),\\{0,1\\}\$/\\1/p" "$CL_TMP/report.json"; }
# logged PATTERN FILE...: in the run's stderr or the kept logs (no ^: a line
# of the script may follow lk-cluster's progress line, which ends in \r)
logged() { local pat=$1; shift; grep -q -- "$pat" "$@"; }

# every pid the run said it started, none of them still running
cluster_pids_gone() {
    local p n=0
    for p in $(sed -n 's/.*demo-cluster: started [^ ]* (pid \([0-9]*\))$/\1/p' "$CL_ERR"); do
        n=$((n + 1))
        kill -0 "$p" 2>/dev/null && { echo "pid $p still running"; return 1; }
    done
    [ "$n" -ge 7 ] # nats-server, postgres, tickets, 4 orders at least
}

cluster_common_checks() {
    CASE=the_run_exits_0; check test "$CL_RC" -eq 0
    CASE=nothing_acknowledged_is_lost; check test "$(field lost)" = 0
    CASE=nothing_is_applied_twice; check test "$(field applied_twice)" = 0
    CASE=every_replica_equals_its_ticket; check test "$(field mismatches)" = 0
    CASE=every_command_is_attempted; check test "$(field attempted)" = 102
    CASE=every_acknowledged_version_is_applied
    check test "$(field applied)" -ge "$(field acknowledged)" -a "$(field applied)" -le "$(field attempted)"
    CASE=jetstream_counted_the_deliveries
    check test "$(field deliveries)" -ge "$(field published)" -a "$(field published)" -gt 0
    CASE=the_replicas_converged; check test "$(field converge_seconds | cut -d. -f1)" -ge 0
    CASE=every_process_started_is_stopped; check cluster_pids_gone
    CASE=no_server_program_or_temp_dir_is_left; check test -z "$(ls -A "$CL_TMP/t")"
}
