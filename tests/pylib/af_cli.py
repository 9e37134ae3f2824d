# SPDX-License-Identifier: MIT
"""Running the agroflux CLI from Python tests: `run` (any command, output captured) and
`mpirun(n, ...)` (the CLI on n oversubscribed ranks, -q). $AGROFLUX names the CLI."""
import os
import subprocess

AGROFLUX = os.environ.get("AGROFLUX", "agroflux")


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def mpirun(n, *args):
    return run(["mpirun", "-n", str(n), "--oversubscribe", AGROFLUX, "-q", *args])
