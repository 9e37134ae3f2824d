#!/usr/bin/env bash
# Configures (once) and builds agroflux in ./build. Used by demo.sh and test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f build/build.ninja ]; then
  meson setup --reconfigure build >/dev/null
else
  meson setup build >/dev/null
fi
ninja -C build
