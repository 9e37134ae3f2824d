#!/bin/sh
# Runs one libFuzzer harness for a bounded time from its seed corpus (the fuzz-run-NAME
# tests and scripts/fuzz.sh). Any finding (crash, sanitizer report, leak, failed
# invariant, timeout, out-of-memory) fails with exit 1 and leaves the input in
# FINDINGS_DIR (reproduce: FUZZER FILE). New corpus entries go to WORK_DIR when given
# (kept, so a later run continues from them), else to a temporary directory (discarded).
# usage: run_fuzz.sh FUZZER CORPUS_DIR FINDINGS_DIR [SECONDS [WORK_DIR]]
#        SECONDS defaults to $AF_FUZZ_SECONDS, else 7.
set -u
fuzzer=$1 corpus=$2 findings=$3
secs=${4:-${AF_FUZZ_SECONDS:-7}}
work=${5:-}
# The harnesses write each input to a file: on tmpfs when there is one.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then TMPDIR=/dev/shm; export TMPDIR; fi
if [ -z "$work" ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/af-fuzz-run-XXXXXX") || exit 1
  trap 'rm -rf "$work"' EXIT INT TERM
fi
mkdir -p "$findings" "$work" || exit 1
# tests/fuzz/NAME.dict, when there is one for corpus tests/fuzz/corpus/NAME: tokens to splice in.
dict="$(dirname "$(dirname "$corpus")")/$(basename "$corpus").dict"
dictarg=
[ -f "$dict" ] && dictarg="-dict=$dict"
# libFuzzer's own exit code for a finding is 77, which meson reads as "skipped": use 1.
"$fuzzer" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 -error_exitcode=1 -timeout_exitcode=1 \
  -artifact_prefix="$findings/" -print_final_stats=1 $dictarg "$work" "$corpus" 2>&1
rc=$?
if [ "$rc" -ne 0 ]; then
  echo "run_fuzz: $(basename "$fuzzer") failed (exit $rc); the input is in $findings:" >&2
  ls -l "$findings" >&2
  exit 1
fi
exit 0
