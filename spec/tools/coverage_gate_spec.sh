#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# spec/tools/coverage_gate_spec.sh — the coverage gate fails when a folder's
# figure is below its threshold, names the folder and the figure, and passes
# when every folder meets it. Runs coverage/gate.py on made-up gcovr
# summaries, so it needs no instrumented build.
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. spec/support/spec.sh

cat >"$tmp/thresholds" <<'T'
# folder lines branches
framework 95 80
mocks     95 80
T
summary() { # framework lines covered/total, branches covered/total, mocks ...
    cat >"$tmp/summary.json" <<J
{"files": [
 {"filename": "framework/src/a.c", "line_covered": $1, "line_total": 100, "branch_covered": $2, "branch_total": 100},
 {"filename": "mocks/b.c", "line_covered": $3, "line_total": 100, "branch_covered": $4, "branch_total": 100},
 {"filename": "spec/x_spec.c", "line_covered": 0, "line_total": 100, "branch_covered": 0, "branch_total": 100}
]}
J
}
gate() { python3 coverage/gate.py "$tmp/summary.json" "$tmp/thresholds" "$tmp/summary.txt" >"$tmp/out" 2>&1; }

CASE=test_gate_passes_when_every_folder_meets_its_thresholds
summary 96 81 100 90
check gate

CASE=test_gate_fails_naming_folder_and_line_figure_when_lines_drop
summary 94 81 100 90
check bash -c '! python3 coverage/gate.py "$0/summary.json" "$0/thresholds" "$0/summary.txt" >"$0/out" 2>&1 && grep -q "framework/: lines 94.00% < 95%" "$0/out"' "$tmp"

CASE=test_gate_fails_naming_folder_and_branch_figure_when_branches_drop
summary 100 90 99 79
check bash -c '! python3 coverage/gate.py "$0/summary.json" "$0/thresholds" "$0/summary.txt" >"$0/out" 2>&1 && grep -q "mocks/: branches 79.00% < 80%" "$0/out"' "$tmp"

CASE=test_gate_fails_when_a_folder_has_no_measured_file
printf 'services 95 80\n' >>"$tmp/thresholds"
summary 100 90 100 90
check bash -c '! python3 coverage/gate.py "$0/summary.json" "$0/thresholds" "$0/summary.txt" >"$0/out" 2>&1 && grep -q "services/: no file measured" "$0/out"' "$tmp"

CASE=test_gate_summary_lists_each_folder_and_ignores_specs
check bash -c 'grep -q "^framework " "$0/summary.txt" && grep -q "^mocks " "$0/summary.txt" && ! grep -q "^spec" "$0/summary.txt"' "$tmp"

spec_summary
