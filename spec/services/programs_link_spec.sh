#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# spec/services/programs_link_spec.sh — the service programs link the
# product only: no symbol of the doubles (mocks/: lk_fake_*, lk_mem_*) and
# none of the spec support is in build/bin/tickets or build/bin/orders, so
# a deployed service can never run on a fake bus or a memory store.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
. spec/support/spec.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

for prog in tickets orders; do
    bin="$BUILD/bin/$prog"
    CASE="${prog}_program_exists"
    check test -x "$bin"
    CASE="${prog}_program_links_no_double"
    nm "$bin" 2>/dev/null | grep -E ' (lk_fake_|lk_mem_|spec_)' >"$tmp/$prog.syms"
    check test ! -s "$tmp/$prog.syms"
    CASE="${prog}_program_links_the_postgres_store"
    check bash -c "nm '$bin' | grep -q ' T lk_pg_store_connect'"
done
spec_summary "$tmp"/*.syms
