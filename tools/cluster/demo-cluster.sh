#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tools/cluster/demo-cluster.sh — the concurrency scenario across real
# processes (make demo-cluster): a throwaway nats-server (-js, loopback, temp
# store dir) and PostgreSQL (tools/pg-server.sh), 1 build/bin/tickets and 4
# build/bin/orders processes configured by the environment, then
# build/bin/lk-cluster drives them over HTTP and judges the databases.
# Every process is stopped by its pid on any exit.
#
#   tools/cluster/demo-cluster.sh [FAULT] [--replicas R] [--json] [lk-cluster options]
#   FAULT: --kill-replica  kill -9 one orders process half-way, restart it 2 s later
#          --pause-nats    SIGSTOP nats-server for 3x the ack wait, then SIGCONT
#          --restart-nats  kill -9 nats-server half-way, restart it on the same
#                          port and store dir 1 s later
#          --restart-pg    restart PostgreSQL (fast shutdown) half-way
#          --cluster N     N nats-servers in one JetStream cluster on loopback
#                          (routes), the stream made with N replicas; node 2
#                          is killed (kill -9) half-way and stays down
#   lk-cluster options: --tickets N --updates K --clients P --orders M --converge-s S
# Exit status: lk-cluster's (0 only when lost = applied twice = mismatches = 0).
# stderr names every process started ("started NAME (pid P)") and each fault
# with its pids; DEMO_LOGS=DIR keeps the logs there; DEMO_QUIET=1 shows no
# log tails on a failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
FAULT=none REPLICAS=4 NODES=1 ACK_WAIT_MS=${ACK_WAIT_MS:-1000}
args=()
while [ $# -gt 0 ]; do
    case "$1" in
    --kill-replica|--pause-nats|--restart-nats|--restart-pg) FAULT=${1#--} ;;
    --replicas) REPLICAS=$2; shift ;;
    --cluster) NODES=$2; FAULT=kill-node; shift ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$1") ;;
    esac
    shift
done

# a shared server's LK_PG_* (CI exports them) must never reach our stop
unset LK_PG_URL LK_PG_PID LK_PG_DIR
RUN=$(mktemp -d "${TMPDIR:-/tmp}/listenkit-cluster.XXXXXX")
mkdir -p "$RUN/pids" "$RUN/logs"
fault_pid=""
# gone PID: exited and reaped, or a zombie (its ports are closed either way)
gone() { ! kill -0 "$1" 2>/dev/null || [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" = Z ]; }
stop_all() {
    [ -n "$fault_pid" ] && { kill "$fault_pid" 2>/dev/null; wait "$fault_pid" 2>/dev/null; }
    for f in "$RUN"/pids/*.pid; do
        [ -f "$f" ] || continue
        p=$(cat "$f"); kill -CONT "$p" 2>/dev/null; kill -TERM "$p" 2>/dev/null
    done
    for f in "$RUN"/pids/*.pid; do
        [ -f "$f" ] || continue
        p=$(cat "$f") name=$(basename "$f" .pid)
        for _ in $(seq 1 200); do gone "$p" && break; sleep 0.05; done
        gone "$p" || { kill -9 "$p" 2>/dev/null
            echo "demo-cluster: $name (pid $p) still running 10 s after SIGTERM: killed (kill -9)" >&2; }
    done
    if [ -f "$RUN/pg.pid" ]; then
        LK_PG_PID=$(cat "$RUN/pg.pid") LK_PG_DIR=$(cat "$RUN/pg.dir") tools/pg-server.sh stop
        echo "demo-cluster: stopped PostgreSQL (pid $(cat "$RUN/pg.pid"))" >&2
    fi
    # DEMO_LOGS=DIR keeps the servers' and programs' logs (specs read them)
    [ -n "${DEMO_LOGS:-}" ] && cp -r "$RUN/logs/." "$DEMO_LOGS/" 2>/dev/null
    rm -rf "$RUN"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PICKED=" "
# DEMO_FIRST_PORT=P: the first port tried (a spec's port that answers no
# connect but cannot be bound: the start must move on)
# free_port: in $FREE_PORT, a port nothing answers on that this run has not
# picked before (not in a $(...): the subshell would forget the pick)
free_port() {
    local p i
    for i in $(seq 1 50); do
        p=$(( 20000 + RANDOM % 12000 ))  # below 32768, where the kernel takes ephemeral ports for outgoing connections
        [ "$i" = 1 ] && [ -n "${DEMO_FIRST_PORT:-}" ] && p=$DEMO_FIRST_PORT
        case "$PICKED" in *" $p "*) continue ;; esac
        port_in_use "$p" || { PICKED="$PICKED$p "; FREE_PORT=$p; return 0; }
    done
    return 1
}
# started NAME PID: records a process this run started (stop_all stops it;
# the line lets a spec check afterwards that every one is gone)
started() {
    echo "$2" >"$RUN/pids/$1.pid"
    echo "demo-cluster: started $1 (pid $2)" >&2
}

# ---- nats-server: our own start, so a restart reuses the port and store dir.
# Ready means its own log says so for this pid: a port that merely answers
# may be another process's, and ours then exits with "address in use".
NATS_BIN=${NATS_SERVER_BIN:-$(command -v nats-server || echo /usr/sbin/nats-server)}
NPORTS=() RPORTS=()
pick_nats_ports() {
    NPORTS=() RPORTS=()
    for _ in $(seq 1 "$NODES"); do
        free_port || return 1; NPORTS+=("$FREE_PORT")
        free_port || return 1; RPORTS+=("$FREE_PORT")
    done
}
start_nats_once() { # NODE: 0 when that node is ready
    local n=$1 cfg="$RUN/nats-$n.conf" routes="" log="$RUN/logs/nats-server-$1.out" pid
    if [ "$NODES" -gt 1 ]; then
        for r in "${RPORTS[@]}"; do routes="$routes${routes:+, }\"nats-route://127.0.0.1:$r\""; done
        cat >"$cfg" <<CONF
server_name: n$n
listen: 127.0.0.1:${NPORTS[$((n-1))]}
jetstream { store_dir: "$RUN/nats-$n" }
cluster { name: lk-demo, listen: 127.0.0.1:${RPORTS[$((n-1))]}, routes: [ $routes ] }
CONF
        "$NATS_BIN" -c "$cfg" >>"$log" 2>&1 &
    else
        "$NATS_BIN" -js -a 127.0.0.1 -p "${NPORTS[0]}" -sd "$RUN/nats" >>"$log" 2>&1 &
    fi
    pid=$!
    disown "$pid" 2>/dev/null   # no "Killed" line from bash when a fault kills it
    started "nats-$n" "$pid"
    for _ in $(seq 1 200); do  # 10 s at most
        grep -q "^\[$pid\] .*Server is ready" "$log" 2>/dev/null && return 0
        gone "$pid" && break
        sleep 0.05
    done
    echo "demo-cluster: nats-server $n (pid $pid) did not start on :${NPORTS[$((n-1))]}:" >&2
    grep "^\[$pid\]" "$log" | tail -n 5 >&2
    kill -9 "$pid" 2>/dev/null
    return 1
}
start_cluster() { # every node; on a failure, all again on other ports (3 tries)
    for _ in 1 2 3; do
        pick_nats_ports || continue
        local n ok=1
        for n in $(seq 1 "$NODES"); do start_nats_once "$n" || { ok=0; break; }; done
        [ "$ok" = 1 ] && return 0
        for n in $(seq 1 "$NODES"); do [ -f "$RUN/pids/nats-$n.pid" ] && kill -9 "$(cat "$RUN/pids/nats-$n.pid")" 2>/dev/null; done
    done
    return 1
}
restart_nats() { # NODE: on its old port, once the old process is gone
    local n=$1 old
    old=$(cat "$RUN/pids/nats-$n.pid")
    for _ in $(seq 1 100); do gone "$old" && break; sleep 0.05; done
    for _ in $(seq 1 10); do   # the port may linger a moment after the exit
        start_nats_once "$n" && return 0
        sleep 0.5
    done
    return 1
}
start_cluster || { echo "demo-cluster: nats-server did not start" >&2; exit 1; }
NATS_URL=""
for n in $(seq 1 "$NODES"); do NATS_URL="$NATS_URL${NATS_URL:+,}nats://127.0.0.1:${NPORTS[$((n-1))]}"; done
NATS_PORT=${NPORTS[0]}
if [ "$NODES" -gt 1 ]; then
    "$BUILD/bin/lk-cluster" --make-stream "$NATS_URL" "$NODES" || exit 1
    echo "demo-cluster: $NODES-node JetStream cluster, stream LISTENKIT with $NODES replicas" >&2
fi

pg_env=""
for _ in 1 2 3; do   # pg_ctl fails when another process took its port first
    pg_env=$(tools/pg-server.sh start) && break   # eval "$(...)" would hide its failure
    pg_env=""
done
[ -n "$pg_env" ] || { echo "demo-cluster: PostgreSQL did not start" >&2; exit 1; }
eval "$pg_env"
echo "$LK_PG_PID" >"$RUN/pg.pid"; echo "$LK_PG_DIR" >"$RUN/pg.dir"
echo "demo-cluster: started postgres (pid $LK_PG_PID)" >&2

export NATS_URL DATABASE_URL=$LK_PG_URL JWT_KEY=${JWT_KEY:-cluster-demo-key}
export LK_LOG=${LK_LOG:-info} ACK_WAIT_MS
# start_prog NAME BIN PORT: 0 once it listens on PORT (its own log says so:
# another process may answer there) and /healthz answers 200 (30 s at most);
# 1 when it exited first (a port taken) or never got healthy
start_prog() {
    local log="$RUN/logs/$1.log" from pid
    from=$(cat "$log" 2>/dev/null | wc -l)
    PORT=$3 "$BUILD/bin/$2" >>"$log" 2>&1 &
    pid=$!
    disown "$pid" 2>/dev/null
    started "$1" "$pid"
    for _ in $(seq 1 300); do
        if tail -n +"$((from + 1))" "$log" | grep -q "listening on port $3\$" &&
            [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$3/healthz")" = 200 ]; then
            return 0
        fi
        gone "$pid" && break
        sleep 0.1
    done
    echo "demo-cluster: $1 (pid $pid) never healthy on :$3:" >&2
    tail -n +"$((from + 1))" "$log" | tail -n 5 >&2
    kill -9 "$pid" 2>/dev/null
    return 1
}
# start_on_free_port NAME BIN: on a fresh port, another one if it fails
# (3 tries); the port in $PORT_USED
start_on_free_port() {
    for _ in 1 2 3; do
        free_port || return 1
        PORT_USED=$FREE_PORT
        start_prog "$1" "$2" "$PORT_USED" && return 0
    done
    return 1
}
start_on_free_port tickets tickets || exit 1
TPORT=$PORT_USED
OPORTS=() ORDERS_URLS=""
for i in $(seq 1 "$REPLICAS"); do
    # one at a time: on a cluster, replicas that create the same durable
    # consumer at once can time out reading it (the program then exits)
    start_on_free_port "orders-$i" orders || exit 1
    OPORTS+=("$PORT_USED")
    ORDERS_URLS="$ORDERS_URLS${ORDERS_URLS:+,}http://127.0.0.1:$PORT_USED"
done
echo "demo-cluster: nats $NATS_URL, postgres on $LK_PG_DIR, tickets :$TPORT, orders ${OPORTS[*]}; fault: $FAULT" >&2

# ---- the fault, half-way through the commands (lk-cluster touches $RUN/half).
# Each line it prints names the pids, so the fault can be checked to have
# happened (the specs read them).
inject() {
    local old new
    for _ in $(seq 1 1200); do [ -f "$RUN/half" ] && break; sleep 0.05; done
    [ -f "$RUN/half" ] || { echo "demo-cluster: the load never got half-way: no fault injected" >&2; return 0; }
    case "$FAULT" in
    kill-replica)
        old=$(cat "$RUN/pids/orders-1.pid")
        kill -9 "$old"
        echo "demo-cluster: killed orders-1 (kill -9, pid $old)" >&2
        sleep 2
        for _ in $(seq 1 100); do gone "$old" && break; sleep 0.05; done
        start_prog orders-1 orders "${OPORTS[0]}" &&
            echo "demo-cluster: restarted orders-1 on :${OPORTS[0]} (pid $old -> $(cat "$RUN/pids/orders-1.pid"))" >&2 ;;
    pause-nats)
        old=$(cat "$RUN/pids/nats-1.pid")
        kill -STOP "$old"
        sleep 0.1
        echo "demo-cluster: nats-server stopped (SIGSTOP, pid $old, state $(ps -o stat= -p "$old" | cut -c1)) for $((3 * ACK_WAIT_MS)) ms, 3x the ack wait" >&2
        sleep "$(awk "BEGIN{print 3*$ACK_WAIT_MS/1000 - 0.1}")"
        kill -CONT "$old"
        echo "demo-cluster: nats-server continued (SIGCONT, pid $old, state $(ps -o stat= -p "$old" | cut -c1))" >&2 ;;
    restart-nats)
        old=$(cat "$RUN/pids/nats-1.pid")
        kill -9 "$old"
        echo "demo-cluster: killed nats-server (kill -9, pid $old)" >&2
        sleep 1
        restart_nats 1 &&
            echo "demo-cluster: nats-server restarted on :$NATS_PORT, same store (pid $old -> $(cat "$RUN/pids/nats-1.pid"))" >&2 ;;
    kill-node)
        old=$(cat "$RUN/pids/nats-2.pid")
        kill -9 "$old"
        for _ in $(seq 1 100); do gone "$old" && break; sleep 0.05; done
        gone "$old" && echo "demo-cluster: killed nats-server node 2 of $NODES (kill -9, pid $old gone)" >&2 ;;
    restart-pg)
        old=$(cat "$RUN/pg.pid")
        tools/pg-server.sh restart "$LK_PG_DIR" >&2 || return 0
        new=$(head -n 1 "$LK_PG_DIR/data/postmaster.pid")
        echo "$new" >"$RUN/pg.pid"
        echo "demo-cluster: started postgres (pid $new)" >&2
        echo "demo-cluster: PostgreSQL restarted (fast shutdown, pid $old -> $new)" >&2 ;;
    esac
}
if [ "$FAULT" != none ]; then inject & fault_pid=$!; fi

"$BUILD/bin/lk-cluster" --tickets-url "http://127.0.0.1:$TPORT" --orders-url "$ORDERS_URLS" \
    --key "$JWT_KEY" --db "$LK_PG_URL" --nats "$NATS_URL" --logs "$RUN/logs" \
    --half-file "$RUN/half" --fault "$FAULT" "${args[@]}"
rc=$?
if [ -n "$fault_pid" ]; then wait "$fault_pid" 2>/dev/null; fault_pid=""; fi
if [ "$rc" -ne 0 ] && [ -z "${DEMO_QUIET:-}" ]; then
    for f in "$RUN"/logs/*.log; do echo "---- $f (last lines)" >&2; tail -n 15 "$f" >&2; done
fi
exit "$rc"
