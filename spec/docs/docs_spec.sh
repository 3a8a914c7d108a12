#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# spec/docs/docs_spec.sh — the docs cannot drift from the code: every code
# block of README.md and mocks/README.md is fenced and says its kind
# (spec/docs/doc_blocks.py lists them), and every C block is compiled with
# the project's warnings, linked against the libraries of this build and
# run as a cmocka test (```c compile blocks are compiled only). The
# copy Makefile of mocks/README.md is built as printed by
# spec/mocks/copy_spec.sh.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. spec/support/spec.sh

flav=()
case $BUILD in
*san*) flav=(-fsanitize=address,undefined -fno-omit-frame-pointer) ;;
*cov*) flav=(--coverage) ;;
esac
mods="jansson libbson-1.0 cmocka"
libs=("$BUILD/lib/liblistenkit-mocks.a")
for l in nats:libnats pg:libpq; do
    if [ -f "$BUILD/lib/liblistenkit-${l%%:*}.a" ]; then
        libs+=("$BUILD/lib/liblistenkit-${l%%:*}.a"); mods="$mods ${l#*:}"
    fi
done
libs+=("$BUILD/lib/liblistenkit.a")

# indented, so spec/run never counts the inner program's cmocka lines
quote() { sed 's/^/    | /' "$1"; }

for doc in README.md mocks/README.md; do
    id=${doc//\//_}
    CASE="${doc}_code_blocks_are_fenced_and_say_their_kind"
    python3 spec/docs/doc_blocks.py check "$doc" >"$tmp/$id.check" 2>&1
    rc=$?; quote "$tmp/$id.check"; check test "$rc" -eq 0

    CASE="${doc}_c_blocks_compile_with_the_project_warnings"
    python3 spec/docs/doc_blocks.py program "$doc" "$tmp/$id.c" >"$tmp/$id.gen" 2>&1 &&
    # shellcheck disable=SC2046
    ${CC:-cc} -std=c11 -Wall -Wextra -Wpedantic -Werror -g -D_POSIX_C_SOURCE=200809L \
        "${flav[@]}" -Iframework/include -Imocks $(pkg-config --cflags $mods) \
        "$tmp/$id.c" -o "$tmp/$id" "${libs[@]}" $(pkg-config --libs $mods) -lpthread -lm \
        >>"$tmp/$id.gen" 2>&1
    rc=$?; quote "$tmp/$id.gen"; check test "$rc" -eq 0

    CASE="${doc}_c_blocks_run_and_their_assertions_hold"
    if [ -x "$tmp/$id" ]; then
        (cd "$tmp" && CMOCKA_MESSAGE_OUTPUT=stdout "./$id") >"$tmp/$id.run" 2>&1
        rc=$?
    else
        echo "not built" >"$tmp/$id.run"; rc=1
    fi
    quote "$tmp/$id.run"; check test "$rc" -eq 0
done

spec_summary
