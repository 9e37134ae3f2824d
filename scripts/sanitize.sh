#!/usr/bin/env bash
# The CI-sized sanitizer run (docs/testing.md): builds ./build-san with AddressSanitizer +
# UndefinedBehaviorSanitizer and runs a subset of the suite there: the tests of suite
# 'unit' (the C unit and error tests and the fuzz replays) but the three slowest, and
# gridded-mpi2 (2 MPI ranks reading NetCDF through GDAL). With clang installed build-san is a clang
# build with -Dfuzz=true and the bounded libFuzzer runs (suite 'fuzz', about 60 s of CPU)
# run too; without clang it is a gcc build and the fuzz runs are reported skipped.
# Any sanitizer report fails the test that made it (UBSan is built non-recovering).
# Called by scripts/test.sh. Prints "sanitize: N passed, N failed, N skipped".
# usage: scripts/sanitize.sh [--build-only]
set -uo pipefail
cd "$(dirname "$0")/.."
dir=build-san
root=$PWD

if command -v clang >/dev/null 2>&1; then cc=clang fuzz=true; else cc=gcc fuzz=false; fi
# A build-san configured for the other compiler (clang installed or removed since) is redone.
if [ -f "$dir/build.ninja" ]; then
  have=$(meson introspect "$dir" --buildoptions 2>/dev/null |
         /usr/bin/python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="fuzz"][0])' 2>/dev/null)
  if [ "$have" != "$( [ $fuzz = true ] && echo True || echo False)" ]; then rm -rf "$dir"; fi
fi
if [ ! -f "$dir/build.ninja" ]; then
  CC=$cc meson setup "$dir" -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=$fuzz >/dev/null || exit 1
fi
# build TARGET...: ninja, quiet unless it fails.
build() { nice ninja -C "$dir" "$@" >/dev/null || { ninja -C "$dir" "$@"; exit 1; }; }
if [ "${1:-}" = --build-only ]; then build; exit 0; fi
build build.ninja # regenerate first if a meson.build changed, so the test list below is current

export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:print_summary=1"
export LSAN_OPTIONS="suppressions=$root/tests/sanitize/lsan.supp:print_suppressions=0"
asan="halt_on_error=1:abort_on_error=1:print_summary=1:detect_leaks=1"
# run LOGBASE ASAN_OPTIONS TEST...: sanitizers slow tests down, hence the timeout multiplier.
run() {
  local base=$1 opts=$2; shift 2
  ASAN_OPTIONS=$opts meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 \
    --timeout-multiplier 3 --logbase "$base" "$@"
}
# Tests that start MPI. Open MPI keeps memory from MPI_Init until exit, suppressed in
# tests/sanitize/lsan.supp; its components are dlclose'd before LeakSanitizer reports, so
# their frames do not symbolize, and only full stacks (fast_unwind_on_malloc=0) reach the
# libmpi/libopen-* frames the file matches. That is slow for every allocation, so these
# run apart, and the slowest MPI-starting unit tests are left to the normal build. A new
# unit test that starts MPI fails in the fast group with leaks from "<unknown module>":
# add it to one of the two lists.
mpi="journal output shard-plan table obs-errors gridded-mpi2 train-partials error-sync"
slow="gridded gridded-daymet soil-unit"
fast=$(meson introspect "$dir" --tests | /usr/bin/python3 -c '
import json, sys
skip = set(sys.argv[1].split())
print(" ".join(t["name"] for t in json.load(sys.stdin)
               if {"unit", "fuzz"} & {s.split(":")[-1] for s in t["suite"]} and t["name"] not in skip))' "$mpi $slow")
# Build only what the chosen tests run (not bench/, the CLI or the tools of other tests).
targets=$(/usr/bin/python3 - "$dir" $fast $mpi <<'PY'
import json, os, subprocess, sys
d, names = os.path.abspath(sys.argv[1]), set(sys.argv[2:])
intro = lambda what: json.loads(subprocess.check_output(["meson", "introspect", d, what]))
outputs = {f for t in intro("--targets") for f in t["filename"]}
args = {os.path.join(d, a) for t in intro("--tests") if t["name"] in names for a in t["cmd"]}
print(" ".join(sorted(os.path.relpath(a, d) for a in args & outputs)))
PY
) || exit 1
build $targets
start=$(date +%s)
status=0
run san-unit "$asan" $fast || status=1
run san-mpi "$asan:fast_unwind_on_malloc=0" $mpi || status=1
/usr/bin/python3 - "$dir" "$fuzz" "$(( $(date +%s) - start ))" <<'PY'
import json, sys
d, fuzz, secs = sys.argv[1], sys.argv[2], sys.argv[3]
ok = bad = skip = 0
for log in ("san-unit", "san-mpi"):
    for line in open("%s/meson-logs/%s.json" % (d, log)):
        r = json.loads(line).get("result", "ERROR")
        if r in ("OK", "EXPECTEDFAIL"): ok += 1
        elif r == "SKIP": skip += 1
        else: bad += 1
if fuzz != "true":
    print("sanitize: clang is not installed: the libFuzzer runs are skipped")
print("sanitize: %d passed, %d failed, %d skipped (%s s of tests)" % (ok, bad, skip, secs))
PY
exit $status
