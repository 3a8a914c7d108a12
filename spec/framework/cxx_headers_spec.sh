#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# spec/framework/cxx_headers_spec.sh — the public headers and the doubles'
# headers compile as C++11 with -Wall -Wextra -Wpedantic -Werror (g++ and
# clang++, whichever is installed; under CI=true both must be), and a field
# list ended by LK_FIELD_END builds a schema a C++ spec can decode with.
set -u
cd "$(dirname "$0")/../.." || exit 1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0 names=()
cat >"$tmp/use.cpp" <<'CPP'
#include <listenkit.h>
#include <listenkit/nats.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fake_msg.h>
#include <fake_nats.h>
#include <lk_assert.h>
#include <mem_store.h>
static lk_field fields[2] = {LK_FIELD_END, LK_FIELD_END};
static lk_schema schema() {
    fields[0].name = "id";
    fields[0].type = LK_FIELD_STRING;
    fields[0].required = true;
    lk_schema s = lk_schema();
    s.subject = "demo:event";
    s.fields = fields;
    return s;
}
int main() {
    lk_schema s = schema();
    json_t *v = NULL;
    lk_status st = lk_event_decode(&s, "{\"id\":\"a\"}", 10, &v, NULL);
    json_decref(v);
    return st == LK_OK && fields[1].name == NULL ? 0 : 1;
}
CPP
cflags=$(pkg-config --cflags jansson libbson-1.0 libnats cmocka)
libs=$(pkg-config --libs jansson libbson-1.0 libnats cmocka)
core_objects() { # once: framework/src/*.c with the C compiler
    [ -d "$tmp/core" ] && return 0
    mkdir -p "$tmp/core" && for c in framework/src/*.c; do
        cc -std=c11 -D_POSIX_C_SOURCE=200809L -Iframework/include $cflags -c "$c" \
            -o "$tmp/core/$(basename "$c" .c).o" || return 1
    done
}
for cxx in g++ clang++; do
    name="headers_compile_as_cxx11_with_$cxx"
    echo "[ RUN      ] $name"
    if ! command -v "$cxx" >/dev/null; then
        if [ "${CI:-}" = true ]; then
            echo "$cxx is not installed (CI=true: a missing compiler is a failure)"
            echo "[  FAILED  ] $name"; failed=$((failed + 1)); names+=("$name")
        else
            echo "[  SKIPPED ] $name: $cxx is not installed"
        fi
        continue
    fi
    # the core library's sources are C: compile them with cc, link with C++
    if $cxx -std=c++11 -Wall -Wextra -Wpedantic -Werror -Iframework/include -Imocks \
            -c "$tmp/use.cpp" -o "$tmp/use.o" $cflags 2>"$tmp/err" &&
       core_objects 2>>"$tmp/err" &&
       $cxx -o "$tmp/use" "$tmp/use.o" "$tmp"/core/*.o $libs 2>>"$tmp/err" &&
       "$tmp/use"; then
        echo "[       OK ] $name"; passed=$((passed + 1))
    else
        cat "$tmp/err"
        echo "[  FAILED  ] $name"; failed=$((failed + 1)); names+=("$name")
    fi
done
echo "[==========] 2 test(s) run."
echo "[  PASSED  ] $passed test(s)."
if [ "$failed" -gt 0 ]; then
    echo "[  FAILED  ] $failed test(s), listed below:"
    printf '[  FAILED  ] %s\n' "${names[@]}"
    exit 1
fi
