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
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$1") ;;
    esac
    shift
done

RUN=$(mktemp -d "${TMPDIR:-/tmp}/listenkit-cluster.XXXXXX")
mkdir -p "$RUN/pids" "$RUN/logs"
fault_pid=""
stop_all() {
    [ -n "$fault_pid" ] && { kill "$fault_pid" 2>/dev/null; wait "$fault_pid" 2>/dev/null; }
    for f in "$RUN"/pids/*.pid; do
        [ -f "$f" ] || continue
        p=$(cat "$f"); kill -CONT "$p" 2>/dev/null; kill -TERM "$p" 2>/dev/null
    done
    for f in "$RUN"/pids/*.pid; do
        [ -f "$f" ] || continue
        p=$(cat "$f")
        for _ in $(seq 1 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
        kill -9 "$p" 2>/dev/null
    done
    LK_PG_PID=$(cat "$RUN/pg.pid" 2>/dev/null || echo "${LK_PG_PID:-}") tools/pg-server.sh stop
    rm -rf "$RUN"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$(( 20000 + RANDOM % 12000 ))  # below 32768, where the kernel takes ephemeral ports for outgoing connections
        port_in_use "$p" || { echo "$p"; return 0; }
    done
    return 1
}
wait_port() { # PORT PID: until PORT answers, while PID lives (10 s at most)
    for _ in $(seq 1 200); do
        port_in_use "$1" && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# ---- nats-server: our own start, so a restart reuses the port and store dir
NATS_BIN=${NATS_SERVER_BIN:-$(command -v nats-server || echo /usr/sbin/nats-server)}
NPORTS=() RPORTS=()
for n in $(seq 1 "$NODES"); do
    NPORTS+=("$(free_port)") || exit 1
    RPORTS+=("$(free_port)") || exit 1
done
start_nats() { # [NODE]: node 1 by default
    local n=${1:-1} cfg="$RUN/nats-$n.conf" routes=""
    if [ "$NODES" -gt 1 ]; then
        for r in "${RPORTS[@]}"; do routes="$routes${routes:+, }\"nats-route://127.0.0.1:$r\""; done
        cat >"$cfg" <<CONF
server_name: n$n
listen: 127.0.0.1:${NPORTS[$((n-1))]}
jetstream { store_dir: "$RUN/nats-$n" }
cluster { name: lk-demo, listen: 127.0.0.1:${RPORTS[$((n-1))]}, routes: [ $routes ] }
CONF
        "$NATS_BIN" -c "$cfg" >>"$RUN/logs/nats-server-$n.out" 2>&1 &
    else
        "$NATS_BIN" -js -a 127.0.0.1 -p "${NPORTS[0]}" -sd "$RUN/nats" >>"$RUN/logs/nats-server-1.out" 2>&1 &
    fi
    echo $! >"$RUN/pids/nats-$n.pid"
    wait_port "${NPORTS[$((n-1))]}" $! || { echo "demo-cluster: nats-server $n did not start" >&2; cat "$RUN/logs/nats-server-$n.out" >&2; return 1; }
}
NATS_URL=""
for n in $(seq 1 "$NODES"); do
    start_nats "$n" || exit 1
    NATS_URL="$NATS_URL${NATS_URL:+,}nats://127.0.0.1:${NPORTS[$((n-1))]}"
done
NATS_PORT=${NPORTS[0]}
if [ "$NODES" -gt 1 ]; then
    "$BUILD/bin/lk-cluster" --make-stream "$NATS_URL" "$NODES" || exit 1
    echo "demo-cluster: $NODES-node JetStream cluster, stream LISTENKIT with $NODES replicas" >&2
fi

pg_env=$(tools/pg-server.sh start) || exit 1   # eval "$(...)" would hide its failure
eval "$pg_env"
echo "$LK_PG_PID" >"$RUN/pg.pid"

export NATS_URL DATABASE_URL=$LK_PG_URL JWT_KEY=${JWT_KEY:-cluster-demo-key}
export LK_LOG=${LK_LOG:-info} ACK_WAIT_MS
start_prog() { # NAME BIN PORT
    PORT=$3 "$BUILD/bin/$2" >>"$RUN/logs/$1.log" 2>&1 &
    echo $! >"$RUN/pids/$1.pid"
}
healthy() { # PORT: /healthz answers 200 (30 s at most)
    for _ in $(seq 1 300); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/healthz")" = 200 ] && return 0
        sleep 0.1
    done
    return 1
}
TPORT=$(free_port) || exit 1
start_prog tickets tickets "$TPORT"
healthy "$TPORT" || { echo "demo-cluster: tickets never healthy" >&2; cat "$RUN/logs/tickets.log" >&2; exit 1; }
OPORTS=() ORDERS_URLS=""
for i in $(seq 1 "$REPLICAS"); do
    p=$(free_port) || exit 1
    OPORTS+=("$p")
    start_prog "orders-$i" orders "$p"
    ORDERS_URLS="$ORDERS_URLS${ORDERS_URLS:+,}http://127.0.0.1:$p"
    # one at a time: on a cluster, replicas that create the same durable
    # consumer at once can time out reading it (the program then exits)
    healthy "$p" || { echo "demo-cluster: orders-$i never healthy" >&2; cat "$RUN/logs/orders-$i.log" >&2; exit 1; }
done
echo "demo-cluster: nats $NATS_URL, postgres on $LK_PG_DIR, tickets :$TPORT, orders ${OPORTS[*]}; fault: $FAULT" >&2

# ---- the fault, half-way through the commands (lk-cluster touches $RUN/half)
inject() {
    for _ in $(seq 1 1200); do [ -f "$RUN/half" ] && break; sleep 0.05; done
    [ -f "$RUN/half" ] || return 0
    case "$FAULT" in
    kill-replica)
        kill -9 "$(cat "$RUN/pids/orders-1.pid")"
        echo "demo-cluster: killed orders-1 (kill -9)" >&2
        sleep 2
        start_prog orders-1 orders "${OPORTS[0]}"
        echo "demo-cluster: restarted orders-1" >&2 ;;
    pause-nats)
        kill -STOP "$(cat "$RUN/pids/nats-1.pid")"
        echo "demo-cluster: nats-server stopped (SIGSTOP) for $((3 * ACK_WAIT_MS)) ms" >&2
        sleep "$(awk "BEGIN{print 3*$ACK_WAIT_MS/1000}")"
        kill -CONT "$(cat "$RUN/pids/nats-1.pid")"
        echo "demo-cluster: nats-server continued (SIGCONT)" >&2 ;;
    restart-nats)
        kill -9 "$(cat "$RUN/pids/nats-1.pid")"
        echo "demo-cluster: killed nats-server (kill -9)" >&2
        sleep 1
        start_nats 1 && echo "demo-cluster: nats-server restarted on :$NATS_PORT, same store" >&2 ;;
    kill-node)
        kill -9 "$(cat "$RUN/pids/nats-2.pid")"
        echo "demo-cluster: killed nats-server node 2 of $NODES (kill -9)" >&2 ;;
    restart-pg)
        tools/pg-server.sh restart "$LK_PG_DIR" >&2 &&
            echo "demo-cluster: PostgreSQL restarted" >&2
        head -n 1 "$LK_PG_DIR/data/postmaster.pid" >"$RUN/pg.pid" ;;
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
