#!/usr/bin/env bash
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

echo "== naive: the course's first listeners (find by id, set, save, ack) =="
echo "   Updates of one ticket handled out of order overwrite each other:"
echo "   a replica keeps an older title/price than the tickets service."
"$bin" --naive "$@"
naive_rc=$?
if [ "$naive_rc" -ne 0 ]; then
    echo "demo: the naive run failed (exit $naive_rc)" >&2
fi
echo
echo "== versioned: apply only the next version, leave the rest un-acked =="
echo "   An early update waits for redelivery after its predecessor, and"
echo "   duplicates are acked without change: every replica converges."
"$bin" "$@"
rc=$?
echo
if [ "$rc" -eq 0 ]; then
    echo "versioned run converged: every replica equals its ticket."
else
    echo "versioned run did NOT converge (exit $rc)." >&2
fi
exit "$rc"
