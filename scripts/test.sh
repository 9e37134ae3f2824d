#!/usr/bin/env bash
# README command 2: install dependencies (Debian 12, as root), build, and run the
# whole test suite (unit, errors, mpi, cli, regress). Prints "N passed, N failed".
# Then the CI-sized sanitizer and fuzz run in ./build-san (scripts/sanitize.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh || exit 1
bash scripts/build.sh || exit 1
meson test -C build --print-errorlogs --num-processes 2
status=$?
/usr/bin/python3 - <<'PY'
import json
counts = {"OK": 0, "FAIL": 0, "SKIP": 0, "TIMEOUT": 0, "ERROR": 0, "EXPECTEDFAIL": 0, "UNEXPECTEDPASS": 0}
for line in open("build/meson-logs/testlog.json"):
    r = json.loads(line).get("result", "ERROR")
    counts[r] = counts.get(r, 0) + 1
failed = counts["FAIL"] + counts["TIMEOUT"] + counts["ERROR"] + counts["UNEXPECTEDPASS"]
print("meson: %d passed, %d failed, %d skipped" % (counts["OK"] + counts["EXPECTEDFAIL"], failed, counts["SKIP"]))
PY
bash scripts/sanitize.sh || status=1
exit $status
