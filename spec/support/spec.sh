# SPDX-License-Identifier: MIT
# spec/support/spec.sh — sourced by shell specs that check one command per
# case: `CASE=name; check cmd...` prints cmocka-style lines, so spec/run
# counts them and spec/junit.py reports each case; `spec_summary [file...]`
# prints the closing lines, shows the files when something failed and
# returns non-zero then (end the spec with it).
passed=0 failed=0 names=()
check() {
    if "$@"; then echo "[       OK ] $CASE"; passed=$((passed + 1))
    else echo "[  FAILED  ] $CASE"; failed=$((failed + 1)); names+=("$CASE"); fi
}
spec_summary() {
    echo "[==========] $((passed + failed)) test(s) run."
    echo "[  PASSED  ] $passed test(s)."
    [ "$failed" -eq 0 ] && return 0
    echo "[  FAILED  ] $failed test(s), listed below:"
    printf '[  FAILED  ] %s\n' "${names[@]}"
    [ "$#" -gt 0 ] && cat "$@"
    return 1
}
