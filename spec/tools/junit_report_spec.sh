#!/usr/bin/env bash
# spec/tools/junit_report_spec.sh — `make test REPORT=junit` writes one JUnit
# XML file per spec binary, the XML parses, and its counts agree with what
# the binary ran. Uses an already-built spec binary (the runner builds them
# all before running any).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0 names=()
check() { if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); names+=("$CASE"); fi; }

bin="$BUILD/spec/framework/error_spec"
expected=$("$bin" 2>&1 | sed -n 's/^\[==========\] \([0-9]*\) test(s) run\./\1/p')

CASE=test_junit_report_writes_one_xml_file_per_spec_binary
BUILD="$tmp" REPORT=junit spec/run "$bin" >"$tmp/run.out" 2>&1
check test -s "$tmp/reports/framework_error_spec.xml"

CASE=test_junit_report_parses_and_counts_the_tests_the_binary_ran
check python3 - "$tmp/reports/framework_error_spec.xml" "${expected:-0}" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
cases = [c for s in suites for c in s.findall("testcase")]
tests = sum(int(s.get("tests", 0)) for s in suites)
bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
want = int(sys.argv[2])
sys.exit(0 if want > 0 and tests == want and len(cases) == want and bad == 0 else 1)
PY

CASE=test_junit_report_run_still_ends_with_the_summary_line
check grep -Eq "^${expected:-x} passed, 0 failed$" "$tmp/run.out"

echo "[==========] $((passed + failed)) test(s) run."
echo "[  PASSED  ] $passed test(s)."
if [ "$failed" -gt 0 ]; then
    echo "[  FAILED  ] $failed test(s), listed below:"
    printf '[  FAILED  ] %s\n' "${names[@]}"
    cat "$tmp/run.out"
    exit 1
fi
