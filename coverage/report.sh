#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# coverage/report.sh — turns the .gcda files of build-cov/ into the three
# reports and enforces coverage/thresholds. Run by `make coverage` after the
# instrumented specs ran.
#
#   coverage/html/index.html   per-file pages with line and branch detail
#   coverage/cobertura.xml     for CI systems
#   coverage/summary.txt       lines and branches per top folder
set -euo pipefail
cd "$(dirname "$0")/.."
obj=${BUILD:-build-cov}
mkdir -p coverage/html
gcovr --config coverage/gcovr.cfg \
      --html-details coverage/html/index.html \
      --cobertura coverage/cobertura.xml \
      --json-summary "$obj/coverage-summary.json" "$obj" >/dev/null
/usr/bin/env python3 coverage/gate.py "$obj/coverage-summary.json" coverage/thresholds coverage/summary.txt
echo "coverage: HTML at coverage/html/index.html, Cobertura at coverage/cobertura.xml"
