#!/bin/sh
# The generated parts of docs/ must equal what the code prints (scripts/gen-docs.sh).
set -e
cd "$AF_SOURCE_ROOT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{ cat docs/pipelines.head.md; "$AGROFLUX" keys; echo "<!-- keys:end -->"; } > "$tmp/pipelines.md"
{ cat docs/formats.head.md; echo "<!-- units:begin -->"; "$AGROFLUX" keys --units; echo "<!-- units:end -->";
  echo; echo "### Physical bounds"; echo; echo "<!-- bounds:begin -->"; "$AGROFLUX" keys --bounds; echo "<!-- bounds:end -->"; } > "$tmp/formats.md"
fail=0
cmp -s "$tmp/pipelines.md" docs/pipelines.md || { echo "docs/pipelines.md is stale: run scripts/gen-docs.sh"; fail=1; }
cmp -s "$tmp/formats.md" docs/formats.md || { echo "docs/formats.md is stale: run scripts/gen-docs.sh"; fail=1; }
echo "$((2 - fail)) passed, $fail failed"
exit $fail
