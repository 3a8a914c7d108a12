#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tools/pg-server.sh — a throwaway PostgreSQL cluster on loopback.
#
#   eval "$(tools/pg-server.sh start)"   # exports LK_PG_URL, LK_PG_PID, LK_PG_DIR
#   tools/pg-server.sh stop              # stops it and removes its dir
#
# initdb (trust auth, no fsync: data that matters never goes here) into a
# fresh temp dir, then pg_ctl starts the server on a free 127.0.0.1 port
# with its socket in that dir. PostgreSQL refuses to run as root, so as
# root both run as the `postgres` user (runuser). The binaries are
# $PG_BIN_DIR's, else initdb on PATH, else the newest
# /usr/lib/postgresql/<version>/bin (Debian keeps them out of PATH).
# LK_PG_URL is what the specs and lk_pg_store_connect() take, e.g.
#   postgresql://postgres@127.0.0.1:PORT/postgres
set -u

find_bin_dir() {
    if [ -n "${PG_BIN_DIR:-}" ]; then echo "$PG_BIN_DIR"; return; fi
    local b
    b=$(command -v initdb 2>/dev/null) && { dirname "$b"; return; }
    b=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$b" ] && [ -x "$b/initdb" ] && { echo "$b"; return; }
    return 1
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# as_server CMD...: as the postgres user when we are root (runuser lives in
# /usr/sbin, outside some PATHs)
as_server() {
    if [ "$(id -u)" -ne 0 ]; then "$@"; return; fi
    local ru
    ru=$(command -v runuser 2>/dev/null || ls /usr/sbin/runuser /sbin/runuser 2>/dev/null | head -n 1)
    [ -n "$ru" ] || { echo "pg-server.sh: runuser not found (util-linux)" >&2; return 1; }
    "$ru" -u postgres -- "$@"
}

case "${1:-}" in
start)
    bin=$(find_bin_dir) || { echo "pg-server.sh: no initdb (set PG_BIN_DIR or run make deps)" >&2; exit 1; }
    dir=$(mktemp -d "${TMPDIR:-/tmp}/listenkit-pg.XXXXXX")
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    port=""
    for _ in $(seq 1 50); do
        p=$(( 20000 + RANDOM % 12000 ))  # below 32768, where the kernel takes ephemeral ports for outgoing connections
        port_in_use "$p" || { port=$p; break; }
    done
    [ -n "$port" ] || { echo "pg-server.sh: no free port found" >&2; rm -rf "$dir"; exit 1; }
    if ! as_server "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C -N \
            >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2; rm -rf "$dir"; exit 1
    fi
    if ! as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >"$dir/pg_ctl.log" 2>&1; then
        cat "$dir/pg_ctl.log" "$dir/server.log" >&2; rm -rf "$dir"; exit 1
    fi
    pid=$(head -n 1 "$dir/data/postmaster.pid")
    echo "export LK_PG_URL=postgresql://postgres@127.0.0.1:$port/postgres LK_PG_PID=$pid LK_PG_DIR=$dir"
    echo "pg-server.sh: started $bin/postgres on 127.0.0.1:$port (pid $pid, dir $dir)" >&2
    ;;
stop)
    if [ -n "${LK_PG_PID:-}" ]; then
        kill -INT "$LK_PG_PID" 2>/dev/null   # fast shutdown
        for _ in $(seq 1 200); do kill -0 "$LK_PG_PID" 2>/dev/null || break; sleep 0.05; done
        kill -9 "$LK_PG_PID" 2>/dev/null
    fi
    case "${LK_PG_DIR:-}" in
    */listenkit-pg.*) rm -rf "$LK_PG_DIR" ;;
    esac
    ;;
restart)
    # restart DIR: fast shutdown, then start with the same options (pg_ctl
    # keeps them in postmaster.opts); the new pid is in DIR/data/postmaster.pid
    bin=$(find_bin_dir) || exit 1
    as_server "$bin/pg_ctl" -D "$2/data" -m fast -w -t 60 restart >>"$2/pg_ctl.log" 2>&1 ||
        { cat "$2/pg_ctl.log" >&2; exit 1; }
    ;;
*)
    echo "usage: tools/pg-server.sh start|stop|restart DIR" >&2; exit 2 ;;
esac
