#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tools/scenario/demo.sh BIN [ARGS...] — the bug, then the fix.
#
# Runs ticketing-scenario twice with the same options (so the same seed):
# first with the naive orders listeners, then with the versioned ones, and
# prints both tables. Exits with the versioned run's status: 0 when every
# replica matched its ticket. `make demo` calls it.
set -u

if [ $# -lt 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 path/to/ticketing-scenario [scenario options]" >&2
    exit 2
fi
bin=$1
shift

echo "== naive orders listeners: the course's first version (find by id, set, save, ack) =="
echo "An update handled after a newer one overwrites it: replicas keep a stale title/price (lost update)."
"$bin" --naive "$@"
naive_rc=$?
if [ "$naive_rc" -ne 0 ]; then
    echo "demo: the naive run failed (exit $naive_rc)" >&2
fi
echo
case " $* " in
*" --nats "* | *" --nats="*) same="the same commands; ordering and redelivery come from the server" ;;
*) same="the same run, seed and faults" ;;
esac
echo "== versioned orders listeners: $same =="
echo "An update applies only on top of the version before it (else un-acked, redelivered later); duplicates are acked unchanged."
"$bin" "$@"
rc=$?
echo
if [ "$rc" -eq 0 ]; then
    echo "versioned run converged: every replica equals its ticket."
else
    echo "versioned run did NOT converge (exit $rc)." >&2
fi
exit "$rc"
