#!/bin/sh
# Runs one libFuzzer harness for a bounded time from a copy of its seed corpus (the
# fuzz-run-NAME tests and scripts/fuzz.sh). Any finding (crash, sanitizer report,
# leak, failed invariant, timeout, out-of-memory) fails with exit 1 and leaves the
# input in FINDINGS_DIR (reproduce: FUZZER FILE). New corpus entries are discarded.
# usage: run_fuzz.sh FUZZER CORPUS_DIR FINDINGS_DIR [SECONDS]   (default $AF_FUZZ_SECONDS or 7)
set -u
fuzzer=$1 corpus=$2 findings=$3
secs=${4:-${AF_FUZZ_SECONDS:-7}}
work=$(mktemp -d "${TMPDIR:-/tmp}/af-fuzz-run-XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$findings" || exit 1
# libFuzzer's own exit code for a finding is 77, which meson reads as "skipped": use 1.
"$fuzzer" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 -error_exitcode=1 -timeout_exitcode=1 \
  -artifact_prefix="$findings/" -print_final_stats=1 "$work" "$corpus" 2>&1
rc=$?
if [ "$rc" -ne 0 ]; then
  echo "run_fuzz: $(basename "$fuzzer") failed (exit $rc); inputs in $findings:" >&2
  ls -l "$findings" >&2
  exit 1
fi
exit 0
