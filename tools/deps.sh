#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tools/deps.sh — make sure every library and command listenkit builds and
# tests with is present; install what is missing when we can.
#
#   tools/deps.sh            check; as root on Debian, apt-get install the rest
#   tools/deps.sh --check    check only; exit 1 when something is missing
#
# Why a script and not a Makefile recipe: the check must run before make reads
# any `pkg-config --cflags` (a fresh machine has none of the .pc files yet),
# and its message must say exactly what to run when it cannot install.
set -u

# pkg-config module -> Debian package that ships it
modules="cmocka:libcmocka-dev jansson:libjansson-dev libbson-1.0:libbson-dev libnats:libnats-dev libmicrohttpd:libmicrohttpd-dev libjwt:libjwt-dev libcurl:libcurl4-openssl-dev libpq:libpq-dev"
# command -> Debian package (searched in PATH and the sbin folders, since
# Debian puts nats-server in /usr/sbin, outside a normal user's PATH)
commands="pkg-config:pkg-config nats-server:nats-server gcovr:gcovr python3:python3 clang:clang openssl:openssl"

has_command() {
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/local/sbin/$1" ]
}

missing=""
for pair in $commands; do
    has_command "${pair%%:*}" || missing="$missing ${pair#*:}"
done
for pair in $modules; do
    if ! has_command pkg-config || ! pkg-config --exists "${pair%%:*}" 2>/dev/null; then
        missing="$missing ${pair#*:}"
    fi
done
# PostgreSQL's server binaries (initdb, pg_ctl, postgres): Debian keeps
# them in /usr/lib/postgresql/<version>/bin, outside PATH.
has_pg_server() {
    command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && return 0
    done
    return 1
}
has_pg_server || missing="$missing postgresql"
# libFuzzer's runtime (make fuzz, .ci/run) is a file clang links, not a command
compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null ||
    missing="$missing libclang-rt-14-dev"
missing=$(printf '%s\n' $missing | sort -u | tr '\n' ' ')
missing=${missing% }

if [ -z "$missing" ]; then
    exit 0
fi

echo "deps: missing: $missing"
if [ "${1:-}" = "--check" ]; then
    exit 1
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: cannot install them from here (needs root on Debian). Run:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y $missing" >&2
    exit 1
fi
echo "deps: apt-get install -y $missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || { echo "deps: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
    echo "deps: apt-get install failed; run it by hand to see why:" >&2
    echo "    apt-get install -y $missing" >&2
    exit 1
}
exec "$0" --check
