# SPDX-License-Identifier: MIT
"""gridded-split: the gridded source's day split over ranks (src/pipeline/split.c).

On more than one rank a gridded group is opened on every sample; each rank fills every sample for
its share of the days (whole netCDF chunks in time) and MPI_Alltoallv moves each (sample, day) to
the sample's owner. One rank fills per sample, the code path before the split, so it is the
reference: the synth gridMET inputs (plus an Ecosys target, filled per sample) on 2 ranks (auto:
days), 3 ranks (read_split = samples, the per-rank windows) and 6 ranks (read_split = days, forced
above auto's 4 ranks) must give byte-identical shards (SHA-256), 6 ranks leaving ranks with no samples
(3 counties + 1 site = 4 units) that still fill their days for the others. The debug log must show
the split (each rank fills a share of the days of every sample, the shares adding up to the
block). Error paths: a corrupt Ecosys file of one county fails on the rank owning it before the
split exchange; a corrupt chunk of a gridMET file fails on the rank filling those days, in its share
of the split group; every rank leaves with exit 1 and one message naming the file, none hangs in a
collective, nothing is published.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from af_cli import mpirun, run  # noqa: E402
from checks import Checker  # noqa: E402
from pipeline_subset import shard_digests, subset  # noqa: E402

AGROFLUX = os.environ["AGROFLUX"]
check = Checker()  # tests/pylib/checks.py
KEEP = ("[input.TMAX_AIR]", "[input.TMIN_AIR]", "[input.PRECN]", "[input.RADN]", "[target.CO2_FLUX]")


def main():
    tmp = tempfile.mkdtemp(prefix="af-gridsplit-")
    data = os.path.join(tmp, "data")
    r = run([AGROFLUX, "synth", data, "--counties", "3", "--scenarios", "1", "--sites", "1", "--years", "2003-2004"])
    check(r.returncode == 0, "synth: " + r.stderr[-500:])
    p = os.path.join(data, "split.ini")
    subset(os.path.join(data, "pipeline.ini"), p, KEEP)
    ref = None
    for n, mode in ((1, "auto"), (2, "auto"), (3, "samples"), (6, "days")):
        out = os.path.join(tmp, "out%d" % n)
        r = mpirun(n, "run", p, "--output", out, "--set", "pipeline.read_split=" + mode)
        check(r.returncode == 0, "%d ranks: %s" % (n, r.stderr[-800:]))
        d = shard_digests(out)
        check(len(d) > 0, "%d ranks wrote shards" % n)
        if ref is None:
            ref = d
        else:
            check(d == ref, "shards on %d ranks identical to 1 rank (SHA-256)" % n)

    # the split is in effect: rank 0 (the rank that logs) fills a share of the days, for all 4 samples
    r = run(["mpirun", "-n", "2", "--oversubscribe", AGROFLUX, "-v", "run", p, "--output", os.path.join(tmp, "dbg")])
    check(r.returncode == 0, "2 ranks, -v: " + r.stderr[-500:])
    mine = total = 0
    for m in re.finditer(r"split: \[input\.TMAX_AIR\] days (\d+)\.\.(\d+): (\d+) of (\d+) filled here for all (\d+)",
                         r.stderr):
        check(int(m.group(2)) - int(m.group(1)) + 1 == int(m.group(4)), "block length in the split log")
        check(int(m.group(5)) == 4, "split fills every sample")
        mine += int(m.group(3))
        total += int(m.group(4))
    check(total == 730, "the split log covers 2003-2004, noleap (%d days)" % total)
    check(0 < mine < total, "rank 0 fills a share of the days (%d of %d)" % (mine, total))
    r = run(["mpirun", "-n", "2", "--oversubscribe", AGROFLUX, "-v", "run", p, "--output", os.path.join(tmp, "dbg2"),
             "--set", "pipeline.read_split=samples"])
    check(r.returncode == 0, "2 ranks, read_split = samples: " + r.stderr[-500:])
    check("split: [input." not in r.stderr, "read_split = samples: no day split in the log")
    r = run([AGROFLUX, "plan", p, "--set", "pipeline.read_split=rows"])
    check(r.returncode == 2 and "read_split" in r.stderr, "read_split = rows: exit 2 naming the key: " + r.stderr[-300:])

    # a corrupt Ecosys file (2004, a later block) fails on one rank before the split exchange
    bad = sorted(glob.glob(os.path.join(data, "ecosys", "*", "*", "010102004dc")))[-1]
    lines = open(bad).read().split("\n")
    lines[40] = re.sub(r"-?0\.\d+E[+-]\d+", "abc", lines[40], count=1)
    open(bad, "w").write("\n".join(lines))
    try:
        r = subprocess.run(["mpirun", "-n", "2", "--oversubscribe", AGROFLUX, "-q", "run", p, "--output",
                            os.path.join(tmp, "bad")], capture_output=True, text=True, timeout=120)
        check(r.returncode == 1, "corrupt Ecosys file: exit 1, got %d" % r.returncode)
        check(os.path.basename(bad) in r.stderr and "abc" in r.stderr, "error names the file and value: " +
              r.stderr[-400:])
    except subprocess.TimeoutExpired:
        check(False, "a rank failing before the split exchange left the others waiting")

    # a corrupt chunk of a gridded file (2004): only the rank given those days fails while filling its
    # share; the ranks agree on it once per block before any group's exchange
    grid = os.path.join(data, "gridmet", "tmmx_2004.nc")
    b = bytearray(open(grid, "rb").read())
    at = int(len(b) * 0.8)
    for i in range(at, at + 4096):
        b[i] = (b[i] * 7 + 13) & 255
    open(grid, "wb").write(b)
    p2 = os.path.join(data, "split-grid.ini")
    subset(os.path.join(data, "pipeline.ini"), p2, KEEP[:-1])  # the gridded inputs only
    try:
        out = os.path.join(tmp, "badgrid")
        r = subprocess.run(["mpirun", "-n", "2", "--oversubscribe", AGROFLUX, "-q", "run", p2, "--output", out],
                           capture_output=True, text=True, timeout=120)
        check(r.returncode == 1, "corrupt gridMET chunk: exit 1, got %d" % r.returncode)
        check(r.stderr.count("error:") == 1 and "tmmx_2004.nc" in r.stderr and "reading days" in r.stderr,
              "the read error once, naming the file and days: " + r.stderr[-400:])
        check(not os.path.exists(os.path.join(out, "index.json")), "corrupt gridMET chunk: nothing published")
    except subprocess.TimeoutExpired:
        check(False, "a rank failing in its share of a split group left the others waiting")
    print(check.summary())
    if check.failed:
        print("kept", tmp)
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
