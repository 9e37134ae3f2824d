#!/usr/bin/env bash
# The longer fuzz run (docs/testing.md, "Fuzzing"): builds build-san with clang and
# -Dfuzz=true (scripts/sanitize.sh --build-only) and runs each named harness (default:
# all) for SECONDS (default 600) in turn. The grown corpus is kept in
# build-san/fuzz-corpus/NAME, so the next run continues from it; findings (the input that
# crashed, leaked, hit a sanitizer or broke an invariant) land in
# build-san/tests/fuzz/findings-NAME. Exit 1 if any harness found something.
# usage: scripts/fuzz.sh [SECONDS] [NAME...]     NAME: config csv tower chamber ecosys daycent journal index
set -uo pipefail
cd "$(dirname "$0")/.."
all=(config csv tower chamber ecosys daycent journal index)
secs=600
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then secs=$1; shift; fi
names=("$@")
[ ${#names[@]} -eq 0 ] && names=("${all[@]}")
for n in "${names[@]}"; do
  [[ " ${all[*]} " == *" $n "* ]] || { echo "fuzz.sh: unknown harness '$n' (known: ${all[*]})" >&2; exit 2; }
done
command -v clang >/dev/null 2>&1 || { echo "fuzz.sh: needs clang (scripts/install-deps.sh installs it)" >&2; exit 2; }
bash scripts/sanitize.sh --build-only || exit 1
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitize/lsan.supp:print_suppressions=0"
failed=()
for n in "${names[@]}"; do
  echo "== fuzz_$n: $secs s"
  sh tests/fuzz/run_fuzz.sh "build-san/tests/fuzz/fuzz_$n" "tests/fuzz/corpus/$n" \
    "build-san/tests/fuzz/findings-$n" "$secs" "build-san/fuzz-corpus/$n" 2>&1 |
    grep -E '^(INFO: (Running|Loaded|seed)|#[0-9]+ +(INITED|DONE)|==[0-9]+==|SUMMARY|stat::|run_fuzz|.*invariant failed|.*Test unit written|Done)' 
  [ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("$n")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: findings in: ${failed[*]} (inputs under build-san/tests/fuzz/findings-NAME)" >&2
  exit 1
fi
echo "fuzz.sh: no findings in ${names[*]} (${secs} s each)"
