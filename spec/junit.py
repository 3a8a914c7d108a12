#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""spec/junit.py — one JUnit XML report from one spec's console log.

    spec/junit.py NAME LOG XML EXIT_CODE SECONDS

spec/run calls it for every spec, binary or shell script, in
`make test REPORT=junit`. It reads the cmocka-style lines the spec printed
(cmocka's own, or a shell spec's imitation of them) rather than asking
cmocka for XML, so that:
  - the suite is named after the spec file (NAME, "mocks/fake_msg_spec"),
    and every test case has a classname ("mocks.fake_msg_spec");
  - a failure's message is the text the test printed before it failed;
  - shell specs get a report too;
  - the console output stays what it is without REPORT (a failing spec's
    output is still shown there).
A spec that crashed, timed out or ran no test is one <error> case holding
the end of its log.
"""
import re
import sys
import xml.etree.ElementTree as ET

RESULT = re.compile(r"^\[ *(OK|FAILED|SKIPPED|ERROR) *\] (.*)$")
RUN = re.compile(r"^\[ RUN +\] (.*)$")
SUMMARY = re.compile(r"^\d+ test\(s\)|^\d+ FAILED TEST")


def parse(lines):
    """[(test, result, text)]; result OK, FAILED or SKIPPED."""
    cases, current, text = [], None, []
    saw_run = any(RUN.match(l) for l in lines)
    for line in lines:
        if line.startswith("[=========="):
            if current is None and cases and not saw_run:
                break  # a shell spec's summary: what follows repeats it
            continue
        m = RUN.match(line)
        if m:
            current, text = m.group(1).strip(), []
            continue
        m = RESULT.match(line)
        if m and m.group(1) != "ERROR" and not SUMMARY.match(m.group(2)):
            name = m.group(2).strip()
            if saw_run:
                if current is None:
                    continue  # the "listed below" repetition
                if name != current:
                    text.append(line)
                    continue
            else:
                # no RUN lines: "[  FAILED  ] name: reason"
                name, _, reason = name.partition(": ")
                text = [reason] if reason else []
            cases.append((name, m.group(1), "\n".join(text).strip()))
            current, text = None, []
            continue
        if current is not None:
            text.append(line)
    return cases


def first_line(text, fallback):
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("[   LINE   ]"):
            return line[:300]
    return fallback


def main():
    name, log, out, code, secs = sys.argv[1:6]
    with open(log, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    cases = parse(lines)
    classname = name.replace("/", ".")
    suite = ET.Element("testsuite", name=name, time=secs)
    failures = errors = skipped = 0
    for test, result, text in cases:
        case = ET.SubElement(suite, "testcase", name=test, classname=classname)
        if result == "FAILED":
            failures += 1
            el = ET.SubElement(case, "failure",
                               message=first_line(text, test + " failed"))
            el.text = text
        elif result == "SKIPPED":
            skipped += 1
            ET.SubElement(case, "skipped")
    if int(code) != 0 and failures == 0:
        errors += 1
        case = ET.SubElement(suite, "testcase", name=name + " (exit " + code + ")",
                             classname=classname)
        el = ET.SubElement(case, "error",
                           message="the spec exited with status " + code +
                           " without a failed test (crash, timeout or sanitizer)")
        el.text = "\n".join(lines[-200:])
    elif not cases:
        errors += 1
        case = ET.SubElement(suite, "testcase", name=name + " (no test)",
                             classname=classname)
        ET.SubElement(case, "error", message="the spec ran no test")
    suite.set("tests", str(len(cases) + errors))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", str(skipped))
    out_el = ET.SubElement(suite, "system-out")
    out_el.text = "\n".join(lines[-400:])
    ET.ElementTree(suite).write(out, encoding="utf-8", xml_declaration=True)


if __name__ == "__main__":
    main()
