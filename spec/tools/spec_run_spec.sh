#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# spec/tools/spec_run_spec.sh — what the spec runner promises besides the
# counts: a CMOCKA_MESSAGE_OUTPUT in the environment does not turn passing
# specs into failures; ONLY= runs one spec file, one test of it, or one test
# by name; a long spec prints progress while it runs. Uses already-built
# spec binaries and made-up shell specs.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. spec/support/spec.sh
err="$BUILD/spec/framework/error_spec"
ver="$BUILD/spec/framework/version_spec"
run() { BUILD="$tmp" spec/run "$@" >"$tmp/out" 2>&1; }
tests_of() { "$1" 2>&1 | sed -n 's/^\[==========\] \([0-9]*\) test(s) run\./\1/p'; }
n_err=$(tests_of "$err") n_ver=$(tests_of "$ver")

CASE=test_tap_output_in_the_environment_does_not_fail_passing_specs
CMOCKA_MESSAGE_OUTPUT=tap run "$err"
check grep -qx "$n_err passed, 0 failed" "$tmp/out"

CASE=test_only_a_spec_file_runs_that_file_alone
ONLY=error_spec run "$err" "$ver"
check grep -qx "$n_err passed, 0 failed" "$tmp/out"

CASE=test_only_a_spec_path_runs_that_file_alone
ONLY=framework/version_spec run "$err" "$ver"
check grep -qx "$n_ver passed, 0 failed" "$tmp/out"

CASE=test_only_a_test_name_runs_that_test_wherever_it_is
ONLY=test_set_truncates_long_messages run "$err" "$ver"
check grep -qx "1 passed, 0 failed" "$tmp/out"

CASE=test_only_a_test_name_reports_only_the_spec_that_has_it
ONLY=test_set_truncates_long_messages REPORT=junit run "$err" "$ver"
check test "$(ls "$tmp/reports")" = framework_error_spec.xml

CASE=test_only_file_colon_test_runs_one_test_of_that_file
ONLY='error_spec:test_set_*' run "$err" "$ver"
check grep -Eq '^[2-9][0-9]* passed, 0 failed$' "$tmp/out"

CASE=test_only_an_unknown_name_is_an_error_not_a_silent_pass
ONLY=no_such_test_anywhere run "$err"
rc=$?
check test "$rc" -ne 0 -a "$(grep -c 'no spec has a test by that name' "$tmp/out")" -eq 1

mkdir -p "$tmp/spec/demo"
cat >"$tmp/spec/demo/slow_spec.sh" <<'SH'
echo "[ RUN      ] one"; echo "[       OK ] one"; sleep 2.5
echo "[==========] 1 test(s) run."; echo "[  PASSED  ] 1 test(s)."
SH
CASE=test_a_long_spec_prints_progress_while_it_runs
SPEC_PROGRESS=1 run "$tmp/spec/demo/slow_spec.sh"
check grep -q '^       \.\.\. demo/slow_spec: 1 test(s) done after [12]s$' "$tmp/out"

spec_summary "$tmp/out"
