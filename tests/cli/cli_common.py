# SPDX-License-Identifier: MIT
"""Shared by the tests/cli/test_cli_*.py programs: a pass/fail counter that shows the failing
process, `af(...)` (the CLI, output captured), synth/edit helpers, and `main(steps)` which
runs the steps in a fresh temp directory and prints "N passed, N failed".

Needs $AGROFLUX (the CLI) and $AF_SOURCE_ROOT. Writes only to a temp directory."""
import os
import shutil
import subprocess
import sys
import tempfile

AGROFLUX = os.environ["AGROFLUX"]
SOURCE_ROOT = os.environ.get("AF_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
failures = []
passed = 0


def check(cond, what, proc=None):
    global passed
    if cond:
        passed += 1
        return True
    failures.append(what)
    print("FAIL:", what, file=sys.stderr)
    if proc is not None:
        print("  exit %d\n  stdout: %s\n  stderr: %s" % (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:]),
              file=sys.stderr)
    return False


def af(*args, **kw):
    return subprocess.run([AGROFLUX, *args], capture_output=True, text=True, timeout=300, **kw)


def usage_line(text):
    return any(line.startswith("usage:") for line in text.splitlines())


def synth(dest, *opts):
    p = af("-q", "synth", dest, *opts)
    check(p.returncode == 0, "synth %s %s" % (dest, " ".join(opts)), p)
    return p


def edit(path, fn):
    with open(path) as f:
        lines = f.read().split("\n")
    lines = fn(lines)
    with open(path, "w") as f:
        f.write("\n".join(lines))


def line_of(lines, text):
    """1-based line number of the first line equal to text."""
    return lines.index(text) + 1


def main(steps):
    """Run each step(tmp) (or step() when it takes no argument) in one temp directory."""
    tmp = tempfile.mkdtemp(prefix="af-cli-")
    try:
        for step in steps:
            if step.__code__.co_argcount:
                step(tmp)
            else:
                step()
    finally:
        if os.environ.get("AF_KEEP_TMP"):
            print("kept", tmp, file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, len(failures)))
    return 1 if failures else 0
