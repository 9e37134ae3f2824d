#!/usr/bin/env bash
# README command 1: install dependencies (Debian 12, as root), build, then run the
# demo pipeline (pipelines/demo.ini: the full AgroFlux benchmark pipeline, 11 inputs from
# gridMET, management and soil rasters, 20 Ecosys targets, tower and chamber targets) on
# 2 MPI ranks over a synthetic region in real formats (agroflux synth, into the
# git-ignored pipelines/demo-data), verify the output and print where it is with a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
AF=./build/src/cli/agroflux
rm -rf pipelines/demo-data
$AF synth pipelines/demo-data --counties 16 --scenarios 4 --sites 3 --years 2003-2005 --no-pipeline
$AF plan pipelines/demo.ini --ranks 2
mpirun -n 2 --oversubscribe $AF run pipelines/demo.ini
$AF verify demo-out
$AF inspect demo-out
echo
echo "demo output: $(pwd)/demo-out (index.json + shards); try:"
echo "  $AF inspect demo-out --sample \$(python3 -c 'import json;print(json.load(open(\"demo-out/index.json\"))[\"samples\"][0][\"id\"])') --csv | head"
