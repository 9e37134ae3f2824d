# SPDX-License-Identifier: MIT
"""gridded-scan: the gridded setup scan is shared over ranks (src/sources/gridded_scan.c).

On more than one rank each rank describes a share of the gridded files (one classic GDAL open per
file) and one allgather passes the descriptions to every rank. Checked on the synth gridMET inputs
(4 variables x 3 years = 12 files): the debug log of rank 0 says it described only some of each
group's files and the shares over the 4 groups add up to 12 with both ranks dealt about half
(2 ranks: 6 and 6); shards on 2 and 3 ranks are byte-identical to 1 rank, and one group of 3 files
on 4 ranks (ranks that describe no file still open the files they read) to 1 rank. Error paths: a garbage
file in each year of one variable (so on 2 and 3 ranks a file described by every rank in turn),
a missing file and a file whose days are out of range must fail on 2 and 3 ranks with the same
exit code and the same error line as on 1 rank, printed once, with nothing published and no rank
left waiting; so must a configuration error that a later group's open finds (every group's share
is described before the ranks agree once); a failure after the shared opens (a corrupt chamber file,
read only on the rank holding the sites) must not leave the others waiting either.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from af_cli import run  # noqa: E402
from checks import Checker  # noqa: E402
from pipeline_subset import shard_digests, subset  # noqa: E402

AGROFLUX = os.environ["AGROFLUX"]
check = Checker()  # tests/pylib/checks.py
KEEP = ("[input.TMAX_AIR]", "[input.TMIN_AIR]", "[input.PRECN]", "[input.RADN]", "[target.CO2_FLUX]",
        "[target.N2O_FLUX@sites]")


def agroflux_run(n, p, out, verbose=False):
    args = ["mpirun", "-n", str(n), "--oversubscribe", AGROFLUX, "-v" if verbose else "-q", "run", p, "--output", out]
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        return None


def error_lines(r):
    return [ln for ln in r.stderr.splitlines() if ln.startswith("agroflux") and "error" in ln]


def main():
    tmp = tempfile.mkdtemp(prefix="af-gridscan-")
    data = os.path.join(tmp, "data")
    r = run([AGROFLUX, "synth", data, "--counties", "3", "--scenarios", "1", "--sites", "1", "--years", "2003-2005"])
    check(r.returncode == 0, "synth: " + r.stderr[-500:])
    p = os.path.join(data, "scan.ini")
    subset(os.path.join(data, "pipeline.ini"), p, KEEP)

    ref = None
    for n in (1, 2, 3):
        out = os.path.join(tmp, "out%d" % n)
        r = agroflux_run(n, p, out, verbose=True)
        check(r is not None and r.returncode == 0, "%d ranks: %s" % (n, r.stderr[-800:] if r else "timed out"))
        if r is None:
            continue
        d = shard_digests(out)
        check(len(d) > 0, "%d ranks wrote shards" % n)
        ref = ref or d
        check(d == ref, "shards on %d ranks identical to 1 rank (SHA-256)" % n)
        shares = [(int(m.group(1)), int(m.group(2))) for m in re.finditer(
            r"agroflux\[0\] debug: gridded: \[input\.\w+\]: (\d+) of (\d+) \(variable, year\) files described on this rank",
            r.stderr)]
        if n == 1:
            check(not shares, "1 rank: no shared scan")
            continue
        check(len(shares) == 4 and all(t == 3 for _, t in shares), "%d ranks: 4 groups of 3 files shared: %s" % (n, shares))
        mine = sum(k for k, _ in shares)
        check(mine == 12 // n, "%d ranks: rank 0 describes %d of the 12 files (dealt in turn)" % (n, mine))

    # more ranks than files to describe: one gridded group (3 files) on 4 ranks, with nothing else that
    # opens GDAL on the ranks that describe no file (they read what the others described)
    p1 = os.path.join(data, "scan1.ini")
    subset(os.path.join(data, "pipeline.ini"), p1, ("[input.TMAX_AIR]", "[target.CO2_FLUX]"))
    ref1 = None
    for n in (1, 4):
        out = os.path.join(tmp, "one%d" % n)
        r = agroflux_run(n, p1, out)
        check(r is not None and r.returncode == 0, "one gridded group on %d ranks: %s" % (n, r.stderr[-800:] if r else "timed out"))
        if r is None or r.returncode != 0:
            continue
        d = shard_digests(out)
        ref1 = ref1 or d
        check(len(d) > 0 and d == ref1, "one gridded group: shards on %d ranks identical to 1 rank" % n)

    # errors: the same line and exit code on every rank count, once, nothing published, no hang
    gm = os.path.join(data, "gridmet")
    cases = []
    for y in (2003, 2004, 2005):
        cases.append(("garbage tmmx_%d" % y, "tmmx_%d.nc" % y, lambda f: open(f, "wb").write(b"not a netCDF file\n" * 20)))
    cases.append(("missing pr_2004", "pr_2004.nc", os.remove))
    for what, name, mutate in cases:
        f = os.path.join(gm, name)
        shutil.copyfile(f, f + ".orig")
        mutate(f)
        lines = {}
        for n in (1, 2, 3):
            out = os.path.join(tmp, "bad%d" % n)
            r = agroflux_run(n, p, out)
            check(r is not None, "%s on %d ranks: a rank left waiting" % (what, n))
            if r is None:
                continue
            el = error_lines(r)
            check(r.returncode in (1, 2), "%s on %d ranks: exit 1 or 2, got %d" % (what, n, r.returncode))
            check(len(el) == 1 and name in el[0], "%s on %d ranks: one error line naming the file: %s" % (what, n, el))
            check(not os.path.exists(os.path.join(out, "index.json")), "%s on %d ranks: nothing published" % (what, n))
            lines[n] = (r.returncode, el)
        check(len(set(repr(v) for v in lines.values())) == 1, "%s: same exit and error on 1, 2, 3 ranks: %s" % (what, lines))
        shutil.move(f + ".orig", f)

    # a file with none of its days in the pipeline's range: the check runs on every rank on the shared description
    lines = {}
    for n in (1, 2, 3):
        r = subprocess.run(["mpirun", "-n", str(n), "--oversubscribe", AGROFLUX, "-q", "run", p, "--output",
                            os.path.join(tmp, "range%d" % n), "--set", "pipeline.start=2004-01-01",
                            "--set", "pipeline.end=2004-12-31", "--set", "input.TMAX_AIR.path=" +
                            os.path.join(gm, "tmmx_2003.nc")], capture_output=True, text=True, timeout=180)
        el = error_lines(r)
        check(r.returncode == 1 and len(el) == 1 and "none of its" in el[0],
              "out-of-range file on %d ranks: exit 1, one error: %d %s" % (n, r.returncode, el))
        lines[n] = (r.returncode, el)
    check(len(set(repr(v) for v in lines.values())) == 1, "out-of-range file: same on 1, 2, 3 ranks: %s" % lines)

    # a configuration error that the third gridded group's open finds (not the pipeline file's check):
    # on 2 and 3 ranks every group's share is described before the ranks agree once, so the error
    # must still come out once, alike on every rank count, with nothing published
    lines = {}
    for n in (1, 2, 3):
        out = os.path.join(tmp, "cfg%d" % n)
        r = subprocess.run(["mpirun", "-n", str(n), "--oversubscribe", AGROFLUX, "-q", "run", p, "--output", out,
                            "--set", "input.PRECN.multiply_path=other.nc"], capture_output=True, text=True, timeout=180)
        el = error_lines(r)
        check(r.returncode == 2 and len(el) == 1 and "multiply_path: needs multiply_variable" in el[0],
              "third group's configuration error on %d ranks: exit 2, one error: %d %s" % (n, r.returncode, el))
        check(not os.path.exists(os.path.join(out, "index.json")), "configuration error on %d ranks: nothing published" % n)
        lines[n] = (r.returncode, el)
    check(len(set(repr(v) for v in lines.values())) == 1, "configuration error: same on 1, 2, 3 ranks: %s" % lines)

    # a failure after the shared opens, on the rank holding the site only
    ch = sorted(glob.glob(os.path.join(data, "chambers", "*")))
    check(len(ch) > 0, "synth wrote chamber files")
    if ch:
        t = open(ch[0]).read().split("\n")
        t[2] = "garbage,row,that,is,not,a,chamber,record"
        open(ch[0], "w").write("\n".join(t))
        for n in (2, 3):
            r = agroflux_run(n, p, os.path.join(tmp, "chamber%d" % n))
            check(r is not None, "corrupt chamber file on %d ranks: a rank left waiting" % n)
            if r is not None:
                check(r.returncode in (1, 2) and len(error_lines(r)) == 1,
                      "corrupt chamber file on %d ranks: one error, exit 1/2: %d %s" % (n, r.returncode, error_lines(r)))
    print(check.summary())
    if check.failed:
        print("kept", tmp)
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
