# SPDX-License-Identifier: MIT
"""Outputs are replaced atomically, and run never writes into a directory it did not create.

A complete output stays published and `verify`-able while a rerun into the same --output fails
(a test-hook failure in the write stage, and after sealing) or is interrupted; --resume finishes the
rerun, which then takes the old output's place (new bytes, old ones gone, nothing left beside).
A non-empty directory without agroflux's marker is refused (exit 2, nothing touched) unless
--force; an empty one is fine; the user's files in a rerun's directory survive the swap.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

AGROFLUX = os.environ["AGROFLUX"]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(n, *args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run(["mpirun", "-n", str(n), "--oversubscribe", AGROFLUX, "-q", "run", *args,
                           "--checkpoint-interval", "0"],  # after every block (the default: once a minute)
                          capture_output=True, text=True, env=e, timeout=120)


def sums(out):
    return {n: hashlib.sha256(open(os.path.join(out, n), "rb").read()).hexdigest()
            for n in sorted(os.listdir(out)) if n.startswith("shard-") and n.endswith(".nc")}


def verify(out):
    return subprocess.run([AGROFLUX, "verify", out], capture_output=True, text=True)


def main():
    tmp = tempfile.mkdtemp(prefix="af-outdir-")
    try:
        data = os.path.join(tmp, "synth")
        r = subprocess.run([AGROFLUX, "synth", data, "--counties", "4", "--scenarios", "1", "--sites", "1",
                            "--years", "2003-2003", "--seed", "3"], capture_output=True, text=True)
        check(r.returncode == 0, "synth: " + r.stderr)
        pipe = os.path.join(data, "pipeline-tables.ini")
        text = open(pipe).read().replace("block_days = 200", "block_days = 60")
        open(pipe, "w").write(text)
        out = os.path.join(tmp, "out")
        nxt = out + ".agroflux-next"

        r = run(2, pipe, "--output", out)
        check(r.returncode == 0, "first run: " + r.stderr[-400:])
        first = sums(out)
        check(first and os.path.exists(os.path.join(out, ".agroflux-output")), "first run: shards and marker")
        open(os.path.join(out, "notes.txt"), "w").write("mine\n")

        # a rerun with other values fails in the write stage: the first output stays published
        changed = ["--set", "pipeline.end=2003-10-31"]
        r = run(2, pipe, "--output", out, *changed, env={"AGROFLUX_TEST_FAIL_AT": "write:block:2"})
        check(r.returncode == 1, "failed rerun: exit 1, got %d" % r.returncode)
        check(verify(out).returncode == 0, "failed rerun: the previous output still verifies")
        check(sums(out) == first, "failed rerun: the previous shards are untouched")
        check(os.path.exists(os.path.join(nxt, "journal.json")), "failed rerun: its state is beside, in .agroflux-next")

        # after sealing, before renaming: still the old output
        r = run(1, pipe, "--output", out, *changed, "--resume", env={"AGROFLUX_TEST_FAIL_AT": "sealed"})
        check(r.returncode == 1, "sealed rerun: exit 1")
        check(verify(out).returncode == 0 and sums(out) == first, "sealed rerun: previous output published")

        # --resume finishes the rerun and swaps it in
        r = run(2, pipe, "--output", out, *changed, "--resume")
        check(r.returncode == 0, "resumed rerun: " + r.stderr[-400:])
        check(verify(out).returncode == 0, "resumed rerun: verifies")
        idx = json.load(open(os.path.join(out, "index.json")))
        check(idx["calendar"]["end"] == "2003-10-31" and idx["calendar"]["ndays"] == 304, "resumed rerun: the new output is published")
        check(sums(out) != first, "resumed rerun: new shard bytes")
        check(not os.path.exists(nxt) and not os.path.exists(out + ".agroflux-old"), "resumed rerun: nothing beside")
        check(open(os.path.join(out, "notes.txt")).read() == "mine\n", "the user's file followed the output")
        check("journal.json" not in os.listdir(out), "no journal in the published output")

        # a plain successful rerun (same pipeline as the first): byte-identical to the first run
        r = run(1, pipe, "--output", out)
        check(r.returncode == 0 and sums(out) == first and verify(out).returncode == 0, "rerun back: " + r.stderr[-300:])

        # a directory agroflux did not create
        foreign = os.path.join(tmp, "foreign")
        os.makedirs(foreign)
        open(os.path.join(foreign, "thesis.tex"), "w").write("x")
        open(os.path.join(foreign, "shard-00007.nc"), "w").write("not ours")
        r = run(1, pipe, "--output", foreign)
        check(r.returncode == 2 and "is not empty" in r.stderr and "--force" in r.stderr and "thesis.tex" in r.stderr,
              "foreign: refused with exit 2: " + r.stderr[-300:])
        check(sorted(os.listdir(foreign)) == ["shard-00007.nc", "thesis.tex"], "foreign: nothing touched")
        r = run(1, pipe, "--output", foreign, "--force")
        check(r.returncode == 0 and verify(foreign).returncode == 0, "foreign --force: runs: " + r.stderr[-300:])
        check(os.path.exists(os.path.join(foreign, "thesis.tex")) and
              not os.path.exists(os.path.join(foreign, "shard-00007.nc")), "foreign --force: stale shard removed, file kept")
        empty = os.path.join(tmp, "empty")
        os.makedirs(empty)
        r = run(1, pipe, "--output", empty)
        check(r.returncode == 0 and sums(empty) == first, "an empty directory is fine")
        # a run that failed before its first checkpoint: nothing to resume, verify says so
        failed = os.path.join(tmp, "failed")
        r = run(1, pipe, "--output", failed, env={"AGROFLUX_TEST_FAIL_AT": "write:block:0"})
        v = verify(failed)
        check(r.returncode == 1 and v.returncode != 0 and "is incomplete" in v.stderr and "state 'failed'" in v.stderr,
              "verify after a failed first run: " + v.stderr[-300:])
        notdir = os.path.join(tmp, "file")
        open(notdir, "w").write("x")
        r = run(1, pipe, "--output", notdir)
        check(r.returncode == 2 and "is not a directory" in r.stderr, "a file as output: " + r.stderr[-200:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d failures" % len(failures), file=sys.stderr)
        return 1
    print("outdir: all cases passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
