#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# spec/docs/pkgconfig_walkthrough_spec.sh — the pkg-config walkthrough of
# mocks/README.md works as printed: its ```sh block is run line by line,
# the lines before "# then in your project:" in listenkit's folder, the rest
# in a fresh project holding spec/my_test.c and src/my_listener.c (the copy
# project's spec and listener, as copy_spec.sh uses them), with HOME a
# temporary folder so $HOME/.local is a private prefix. The project's spec
# must build and pass.
set -u
cd "$(dirname "$0")/../.." || exit 1
root=$(pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. spec/support/spec.sh
# the outer make's flavour (SAN=1 ...) is not the user's; build aside
unset MAKEFLAGS MFLAGS MAKELEVEL SAN COV OPT
export BUILD="$tmp/build"

python3 spec/docs/doc_blocks.py extract mocks/README.md sh >"$tmp/block.sh"
sed -n '1,/^# then in your project:/p' "$tmp/block.sh" >"$tmp/in_listenkit.sh"
sed -n '/^# then in your project:/,$p' "$tmp/block.sh" >"$tmp/in_project.sh"
mkdir -p "$tmp/home" "$tmp/project/src" "$tmp/project/spec"
cp spec/mocks/copy_project/src/notes.h "$tmp/project/src/"
cp spec/mocks/copy_project/src/notes.c "$tmp/project/src/my_listener.c"
cp spec/mocks/copy_project/spec/notes_test.c "$tmp/project/spec/my_test.c"

CASE=the_walkthrough_block_has_both_halves
check test -s "$tmp/in_listenkit.sh" -a "$(wc -l <"$tmp/in_project.sh")" -gt 2

CASE=make_install_as_printed_installs_into_home_local
(cd "$root" && HOME="$tmp/home" bash -e "$tmp/in_listenkit.sh") >"$tmp/install.log" 2>&1
rc=$?; sed 's/^/    | /' "$tmp/install.log" | tail -n 20
check test "$rc" -eq 0 -a -f "$tmp/home/.local/lib/pkgconfig/listenkit-mocks.pc"

CASE=the_project_builds_and_its_spec_passes_as_printed
(cd "$tmp/project" && HOME="$tmp/home" bash -e "$tmp/in_project.sh") >"$tmp/project.log" 2>&1
rc=$?; sed 's/^/    | /' "$tmp/project.log" | tail -n 40
check test "$rc" -eq 0

spec_summary
