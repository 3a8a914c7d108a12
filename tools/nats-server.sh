#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tools/nats-server.sh — a throwaway JetStream server on loopback.
#
#   eval "$(tools/nats-server.sh start)"   # exports LK_NATS_URL, LK_NATS_PID, LK_NATS_DIR
#   tools/nats-server.sh stop              # stops it and removes its store dir
#
# The binary is $NATS_SERVER_BIN, else nats-server on PATH or in /usr/sbin.
# The port is a free one picked here, so parallel runs do not collide.
set -u

find_bin() {
    if [ -n "${NATS_SERVER_BIN:-}" ]; then echo "$NATS_SERVER_BIN"; return; fi
    command -v nats-server 2>/dev/null && return
    for b in /usr/sbin/nats-server /usr/local/sbin/nats-server; do
        [ -x "$b" ] && { echo "$b"; return; }
    done
    return 1
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case "${1:-}" in
start)
    bin=$(find_bin) || { echo "nats-server.sh: no nats-server (set NATS_SERVER_BIN or run make deps)" >&2; exit 1; }
    dir=$(mktemp -d "${TMPDIR:-/tmp}/listenkit-nats.XXXXXX")
    port=""
    for _ in $(seq 1 50); do
        p=$(( 20000 + RANDOM % 12000 ))  # below 32768, where the kernel takes ephemeral ports for outgoing connections
        port_in_use "$p" || { port=$p; break; }
    done
    [ -n "$port" ] || { echo "nats-server.sh: no free port found" >&2; exit 1; }
    "$bin" -js -a 127.0.0.1 -p "$port" -sd "$dir" >"$dir/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do
        port_in_use "$port" && break
        kill -0 "$pid" 2>/dev/null || { cat "$dir/server.log" >&2; exit 1; }
        sleep 0.05
    done
    port_in_use "$port" || { echo "nats-server.sh: server did not start" >&2; cat "$dir/server.log" >&2; exit 1; }
    echo "export LK_NATS_URL=nats://127.0.0.1:$port LK_NATS_PID=$pid LK_NATS_DIR=$dir"
    echo "nats-server.sh: started $bin on 127.0.0.1:$port (pid $pid, store $dir)" >&2
    ;;
stop)
    if [ -n "${LK_NATS_PID:-}" ]; then
        kill "$LK_NATS_PID" 2>/dev/null
        for _ in $(seq 1 100); do kill -0 "$LK_NATS_PID" 2>/dev/null || break; sleep 0.05; done
        kill -9 "$LK_NATS_PID" 2>/dev/null
    fi
    case "${LK_NATS_DIR:-}" in
    */listenkit-nats.*) rm -rf "$LK_NATS_DIR" ;;
    esac
    ;;
*)
    echo "usage: tools/nats-server.sh start|stop" >&2; exit 2 ;;
esac
