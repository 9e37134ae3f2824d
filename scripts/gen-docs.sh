#!/usr/bin/env bash
# Regenerates the parts of the docs that come from the code: the key tables in
# docs/pipelines.md (`agroflux keys`) and the units table in docs/formats.md
# (`agroflux keys --units`). The prose lives in docs/*.head.md. A test fails when
# the generated parts are stale.
set -euo pipefail
cd "$(dirname "$0")/.."
AF=${AGROFLUX:-./build/src/cli/agroflux}
{ cat docs/pipelines.head.md; "$AF" keys; echo "<!-- keys:end -->"; } > docs/pipelines.md
{ cat docs/formats.head.md; echo "<!-- units:begin -->"; "$AF" keys --units; echo "<!-- units:end -->";
  echo; echo "### Physical bounds"; echo; echo "<!-- bounds:begin -->"; "$AF" keys --bounds; echo "<!-- bounds:end -->"; } > docs/formats.md
