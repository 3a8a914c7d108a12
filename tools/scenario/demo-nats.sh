#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tools/scenario/demo-nats.sh BIN [ARGS...] — the demo on a real server.
#
# Starts a throwaway `nats-server -js` on a free loopback port with a
# temporary store (tools/nats-server.sh), runs the same two rounds as
# tools/scenario/demo.sh — naive listeners, then versioned ones — with
# `BIN --nats $LK_NATS_URL ARGS`, and stops the server on exit, whatever
# happens. Redelivery, ordering and duplicates then come from JetStream, not
# from the fake broker. Exits with the versioned run's status. `make
# demo-nats` calls it.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ $# -lt 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 path/to/ticketing-scenario [scenario options]" >&2
    exit 2
fi
bin=$1
shift

started=$("$root/tools/nats-server.sh" start) || {
    echo "demo-nats: could not start nats-server (set NATS_SERVER_BIN or run make deps)" >&2
    exit 1
}
eval "$started"
# Stop the server however we leave: normal end, error, Ctrl-C.
trap '"$root/tools/nats-server.sh" stop' EXIT
trap 'exit 130' INT TERM

echo "== real NATS JetStream at $LK_NATS_URL =="
echo
"$here/demo.sh" "$bin" --nats "$LK_NATS_URL" "$@"
