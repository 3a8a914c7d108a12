#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# spec/tools/junit_report_spec.sh — `make test REPORT=junit` writes one JUnit
# XML file per spec, binary or shell script: the suite is named after the
# spec file, every case has a classname, its counts agree with what the
# spec ran, a failure's message is the text the test printed, and the
# failing spec's output is still on the console. Uses an already-built spec
# binary (the runner builds them all before running any) and a made-up
# failing shell spec.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. spec/support/spec.sh

bin="$BUILD/spec/framework/error_spec"
expected=$("$bin" 2>&1 | sed -n 's/^\[==========\] \([0-9]*\) test(s) run\./\1/p')

mkdir -p "$tmp/spec/demo"
cat >"$tmp/spec/demo/failing_spec.sh" <<'SH'
echo "[ RUN      ] passes"
echo "[       OK ] passes"
echo "[ RUN      ] breaks"
echo "expected 2 replicas, found 3"
echo "[  FAILED  ] breaks"
echo "[==========] 2 test(s) run."
echo "[  PASSED  ] 1 test(s)."
echo "[  FAILED  ] 1 test(s), listed below:"
echo "[  FAILED  ] breaks"
exit 1
SH

BUILD="$tmp/ok" REPORT=junit spec/run "$bin" >"$tmp/run.out" 2>&1
BUILD="$tmp/bad" REPORT=junit spec/run "$tmp/spec/demo/failing_spec.sh" >"$tmp/fail.out" 2>&1
fail_rc=$?

# xml FILE CHECK...: python assertions over the parsed suite `s`
xml() {
    python3 - "$@" <<'PY'
import sys, xml.etree.ElementTree as ET
s = ET.parse(sys.argv[1]).getroot()
cases = s.findall("testcase")
ok = eval(sys.argv[2], {"s": s, "cases": cases, "want": int(sys.argv[3])})
if not ok:
    print("failed:", sys.argv[2], ET.tostring(s)[:2000])
sys.exit(0 if ok else 1)
PY
}
ok_xml="$tmp/ok/reports/framework_error_spec.xml"
bad_xml="$tmp/bad/reports/demo_failing_spec.xml"

CASE=test_junit_report_writes_one_xml_file_per_spec
check test -s "$ok_xml"

CASE=test_junit_report_counts_the_tests_the_binary_ran
check xml "$ok_xml" 'want > 0 and int(s.get("tests")) == want == len(cases) and s.get("failures") == "0"' "${expected:-0}"

CASE=test_junit_suite_is_named_after_the_spec_file_with_classnames
check xml "$ok_xml" 's.get("name") == "framework/error_spec" and all(c.get("classname") == "framework.error_spec" for c in cases)' 0

CASE=test_junit_run_still_ends_with_the_summary_line
check grep -Eq "^${expected:-x} passed, 0 failed$" "$tmp/run.out"

CASE=test_junit_report_of_a_shell_spec_holds_its_cases
check xml "$bad_xml" '[c.get("name") for c in cases] == ["passes", "breaks"] and s.get("failures") == "1"' 0

CASE=test_junit_failure_message_is_the_text_the_test_printed
check xml "$bad_xml" 'cases[1].find("failure").get("message") == "expected 2 replicas, found 3"' 0

CASE=test_junit_mode_still_shows_a_failing_spec_output_on_the_console
check grep -q "expected 2 replicas, found 3" "$tmp/fail.out"

CASE=test_junit_mode_still_fails_the_run_when_a_spec_fails
check test "$fail_rc" -ne 0

spec_summary "$tmp/run.out" "$tmp/fail.out"
