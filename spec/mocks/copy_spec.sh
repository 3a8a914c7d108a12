#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# copy_spec.sh — mocks/ is copyable: copy it and the framework (include +
# src, nothing else: the memory store's filter evaluator, value ordering and
# stored form live in framework/src with their -private.h headers in
# framework/include/listenkit) into a fresh temporary directory beside a tiny
# separate project (spec/mocks/copy_project: its own Makefile and one cmocka
# spec using the fake message, the fake NATS client and the memory store),
# then build and run that project there with only the pkg-config modules
# cmocka, jansson and libbson-1.0. This is what mocks/README.md tells users
# to do; if it breaks here, it breaks for them.
#
# Prints cmocka-style lines (one per check, then the summary) and exits
# non-zero on failure. Under `make test SAN=1` (BUILD=build-san) the
# project is built with the sanitizers too.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
base=$(mktemp -d "${TMPDIR:-/tmp}/listenkit-copy.XXXXXX") || exit 1
trap 'rm -rf "$base"' EXIT
tmp=$base/copy   # the user's side: the copy and the project
log=$base/out

extra=
case ${BUILD:-build} in
*san*) extra="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" ;;
esac
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}

passed=0 failed=() broken=
# check NAME CMD...: runs CMD, output indented (so the spec runner never
# mistakes the inner project's cmocka lines for ours).
check() {
    local name=$1; shift
    echo "[ RUN      ] $name"
    if [ -n "$broken" ]; then
        echo "    | not run: $broken"
        echo "[  FAILED  ] $name"; failed+=("$name"); return 1
    fi
    if "$@" >"$log" 2>&1; then
        sed 's/^/    | /' "$log"
        echo "[       OK ] $name"; passed=$((passed + 1)); return 0
    fi
    sed 's/^/    | /' "$log" | tail -n 60
    echo "[  FAILED  ] $name"; failed+=("$name"); return 1
}

copy_tree() {
    mkdir -p "$tmp/framework" &&
    cp -R "$root/mocks" "$tmp/mocks" &&
    cp -R "$root/framework/include" "$root/framework/src" "$tmp/framework/" &&
    cp -R "$root/spec/mocks/copy_project" "$tmp/project" &&
    rm -rf "$tmp/project/build" &&
    (cd "$tmp" && find . -type f | sort | sed 's|^\./||')
}

# Every #include of the copied doubles resolves inside the copy, or is a
# C/POSIX header, cmocka, jansson or libbson: nothing from services/,
# spec/support, libnats or libpq.
includes_are_self_contained() {
    local bad=0 f inc
    for f in "$tmp"/mocks/*.[ch] "$tmp"/framework/src/*.c; do
        while IFS= read -r inc; do
            case $inc in
            \"*\")
                inc=${inc//\"/}
                if [ ! -f "$tmp/mocks/$inc" ] && [ ! -f "$tmp/framework/include/$inc" ]; then
                    echo "${f#"$tmp"/}: #include \"$inc\" is not in the copy"; bad=1
                fi ;;
            \<*\>)
                inc=${inc#<}; inc=${inc%>}
                if ! [[ $inc =~ ^(assert|ctype|errno|float|inttypes|limits|math|pthread|setjmp|signal|stdarg|stdbool|stddef|stdint|stdio|stdlib|string|strings|time|unistd|sys/[a-z]+|cmocka|jansson|bson/bson)\.h$ ]]; then
                    echo "${f#"$tmp"/}: #include <$inc> is not C/POSIX, cmocka, jansson or libbson"; bad=1
                fi ;;
            esac
        done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\([<"][^>"]*[>"]\).*/\1/p' "$f")
    done
    [ "$bad" -eq 0 ] && echo "includes of $(ls "$tmp"/mocks/*.[ch] "$tmp"/framework/src/*.c | wc -l) files checked"
}

build_project() {
    pkg-config --exists cmocka jansson libbson-1.0 || {
        echo "pkg-config cannot find cmocka jansson libbson-1.0"; return 1; }
    make -C "$tmp/project" LISTENKIT="$tmp" EXTRA_CFLAGS="$extra" build/notes_test
}

run_project() {
    (cd "$tmp/project" && ./build/notes_test)
}

# The Makefile mocks/README.md prints, run as printed (no variable set on
# the command line) in the layout it describes: the copy in
# third_party/listenkit/, the listener in src/, the spec in spec/. The
# project's sources stand in for the user's my_listener.c and my_test.c.
readme_makefile() {
    local user=$base/user
    mkdir -p "$user/third_party/listenkit" "$user/src" "$user/spec" &&
    cp -R "$tmp/mocks" "$tmp/framework" "$user/third_party/listenkit/" &&
    cp "$tmp/project/src/notes.h" "$user/src/" &&
    cp "$tmp/project/src/notes.c" "$user/src/my_listener.c" &&
    cp "$tmp/project/spec/notes_test.c" "$user/spec/my_test.c" &&
    python3 "$root/spec/docs/doc_blocks.py" extract "$root/mocks/README.md" make \
        >"$user/Makefile" &&
    grep -q '^build/my_test:' "$user/Makefile" &&
    (cd "$user" && CFLAGS="-Wall -Wextra -Wpedantic -Werror $extra" make build/my_test &&
        ./build/my_test)
}

check "copies mocks/ and framework/{include,src} beside a separate project" copy_tree ||
    broken="the copy failed"
check "the copied doubles include only listenkit headers, cmocka, jansson, libbson" \
    includes_are_self_contained
check "the project builds with pkg-config cmocka jansson libbson-1.0 alone" build_project ||
    broken="the project did not build"
check "the project's spec passes with all three doubles" run_project
check "the Makefile printed in mocks/README.md builds and runs the project as printed" \
    readme_makefile

echo "[==========] $((passed + ${#failed[@]})) test(s) run."
echo "[  PASSED  ] $passed test(s)."
if [ "${#failed[@]}" -gt 0 ]; then
    echo "[  FAILED  ] ${#failed[@]} test(s), listed below:"
    for n in "${failed[@]}"; do echo "[  FAILED  ] $n"; done
    exit 1
fi
exit 0
