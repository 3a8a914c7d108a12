#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""coverage/gate.py SUMMARY.json THRESHOLDS OUT.txt

Adds gcovr's per-file JSON summary up per top folder, writes the table to
OUT.txt (and stdout), and exits 1 naming every folder and figure below its
threshold. A folder listed in THRESHOLDS with no measured file also fails:
a gate that measures nothing must not pass.
"""
import json
import sys


def read_thresholds(path):
    limits = {}
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].split()
            if not line:
                continue
            if len(line) != 3:
                sys.exit(f"{path}:{number}: expected 'folder lines branches'")
            folder, lines, branches = line
            limits[folder.rstrip("/")] = (float(lines), float(branches))
    return limits


def percent(covered, total):
    return 100.0 * covered / total if total else 100.0


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    with open(argv[1], encoding="utf-8") as f:
        summary = json.load(f)
    limits = read_thresholds(argv[2])
    folders = {name: [0, 0, 0, 0, 0] for name in limits}
    for entry in summary.get("files", []):
        top = entry["filename"].split("/", 1)[0]
        if top in folders:
            acc = folders[top]
            acc[0] += entry.get("line_covered", 0)
            acc[1] += entry.get("line_total", 0)
            acc[2] += entry.get("branch_covered", 0)
            acc[3] += entry.get("branch_total", 0)
            acc[4] += 1
    rows = ["folder       lines            branches         files",
            "---------    ---------------  ---------------  -----"]
    failures = []
    for name, (min_lines, min_branches) in limits.items():
        lc, lt, bc, bt, files = folders[name]
        lp, bp = percent(lc, lt), percent(bc, bt)
        rows.append(f"{name:<12} {lp:6.2f}% {lc:>4}/{lt:<4}  "
                    f"{bp:6.2f}% {bc:>4}/{bt:<4}  {files:5d}")
        if files == 0:
            failures.append(f"{name}/: no file measured")
            continue
        if lp < min_lines:
            failures.append(f"{name}/: lines {lp:.2f}% < {min_lines:g}%")
        if bp < min_branches:
            failures.append(f"{name}/: branches {bp:.2f}% < {min_branches:g}%")
    text = "\n".join(rows) + "\n"
    with open(argv[3], "w", encoding="utf-8") as f:
        f.write(text)
    sys.stdout.write(text)
    if failures:
        for failure in failures:
            print(f"coverage: BELOW THRESHOLD: {failure}", file=sys.stderr)
        return 1
    print("coverage: every folder meets coverage/thresholds")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
