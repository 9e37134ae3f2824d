# SPDX-License-Identifier: MIT
"""`--set SECTION.KEY=VALUE` on `agroflux run` and `plan`: an override changes
the run (a shorter axis, data under another root), is recorded in index.json
(`pipeline.sets`) and in the config hash (SHA-256 of the file's hash followed by
"\\n--set TEXT" per override), and a bad override is a usage error (exit 2) that
names it. Builds its own tiny site-only pipeline; writes only to a temp dir.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

AGROFLUX = os.environ["AGROFLUX"]
failures, passed = [], 0


def check(cond, what, proc=None):
    global passed
    if cond:
        passed += 1
        return
    failures.append(what)
    print("FAIL:", what, file=sys.stderr)
    if proc is not None:
        print("  exit %d\n  stderr: %s" % (proc.returncode, proc.stderr[-1500:]), file=sys.stderr)


def af(*args):
    return subprocess.run([AGROFLUX, "-q", *args], capture_output=True, text=True, timeout=120)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        raw_a, raw_b = os.path.join(tmp, "rawA"), os.path.join(tmp, "rawB")
        for root, base in ((raw_a, 1.0), (raw_b, 100.0)):
            write(os.path.join(root, "sites.csv"), "site_id,lat,lon\nUS-A,41.0,-93.0\n")
            rows = "".join("US-A,2003-01-%02d,%.1f\n" % (d, base + d) for d in range(1, 11))
            write(os.path.join(root, "gpp.csv"), "id,date,gpp\n" + rows)
        pipe = os.path.join(tmp, "p.ini")
        write(pipe, "[pipeline]\nname = sets\nstart = 2003-01-01\nend = 2003-01-10\ndata_root = rawA\n"
                    "output = out\n[sites]\nlist = {root}/sites.csv\n"
                    "[target.GPP]\nsource = table\npath = {root}/gpp.csv\ncolumn = gpp\n"
                    "source_units = g C m-2 d-1\nunits = g C m-2 d-1\n")
        file_hash = hashlib.sha256(open(pipe, "rb").read()).hexdigest()

        p = af("run", pipe)
        check(p.returncode == 0, "plain run", p)
        check(p.stdout == "" and p.stderr == "", "-q run: prints nothing (no summary, no progress)", p)
        idx = json.load(open(os.path.join(tmp, "out", "index.json")))
        check(idx["calendar"]["ndays"] == 10, "plain run: 10 days")
        check(idx["pipeline"]["config_sha256"] == file_hash, "plain run: config hash is the file's")
        check("sets" not in idx["pipeline"], "plain run: no sets recorded")

        sets = ["pipeline.end=2003-01-05", "pipeline.data_root=" + raw_b]
        args = []
        for s in sets:
            args += ["--set", s]
        p = af("plan", pipe, *args)
        check(p.returncode == 0 and "5 days" in p.stdout, "plan --set: 5 days", p)
        p = af("run", pipe, *args, "--output", os.path.join(tmp, "out2"))
        check(p.returncode == 0, "run --set", p)
        idx = json.load(open(os.path.join(tmp, "out2", "index.json")))
        check(idx["calendar"]["ndays"] == 5, "run --set: the axis ends on the overridden day")
        check(idx["pipeline"].get("sets") == sets, "run --set: overrides recorded in order")
        want = hashlib.sha256((file_hash + "".join("\n--set " + s for s in sets)).encode()).hexdigest()
        check(idx["pipeline"]["config_sha256"] == want, "run --set: config hash covers file and overrides")
        ins = af("inspect", os.path.join(tmp, "out2"), "--sample", "US-A", "--csv")
        vals = [float(line.split(",")[-1]) for line in ins.stdout.strip().splitlines()[1:] if line.strip()]
        check(ins.returncode == 0 and vals[:5] == [101.0, 102.0, 103.0, 104.0, 105.0],
              "run --set data_root: values come from the other root (%s)" % vals[:5], ins)

        for bad, needle in (("pipeline.end", "expected SECTION.KEY=VALUE"),
                            ("input.TMAX.path=x.csv", "has no section [input.TMAX]"),
                            ("pipeline.calendar=julian", "calendar")):
            for cmd in ("plan", "run"):
                p = af(cmd, pipe, "--set", bad)
                check(p.returncode == 2 and needle in p.stderr, "%s --set %s: exit 2 naming it" % (cmd, bad), p)
    print("%d passed, %d failed" % (passed, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
