#!/usr/bin/env bash
# README command 2: install dependencies (Debian 12, as root), build, and run the
# whole test suite (unit, errors, mpi, cli, regress). Prints "N passed, N failed".
# Then the CI-sized sanitizer and fuzz run in ./build-san (scripts/sanitize.sh), and one
# closing "total: N passed, N failed, N skipped" line over both.
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
# One closing line for the whole run: the meson suite plus the sanitizer build's tests.
/usr/bin/python3 - <<'PY'
import json, os
ok = bad = skip = 0
for log in ("build/meson-logs/testlog.json", "build-san/meson-logs/san-unit.json",
            "build-san/meson-logs/san-mpi.json"):
    if not os.path.exists(log):
        continue
    for line in open(log):
        r = json.loads(line).get("result", "ERROR")
        if r in ("OK", "EXPECTEDFAIL"): ok += 1
        elif r == "SKIP": skip += 1
        else: bad += 1
print("total: %d passed, %d failed, %d skipped" % (ok, bad, skip))
PY
exit $status
