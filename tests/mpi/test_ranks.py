# SPDX-License-Identifier: MIT
"""MPI regression: the synth table pipeline (pipeline-tables.ini) on 1, 2, 3 and 4 ranks.

Checks (1) shard SHA-256 and index content (provenance aside) identical for every rank
count, (2) every cell of every shard against synth_truth (independent of the C code),
(3) both calendars (noleap drops Dec 31 of leap years; standard keeps it),
(4) `agroflux inspect --csv` against the same truth, (5) `verify` passes, and fails with
exit 3 naming the shard after one flipped byte, (6) provenance.json lists every input once with
its size and SHA-256 (recomputed here), is referenced from the index by its SHA-256 (`verify` fails on an edited one), and is the same
file for every rank count.
"""
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import netCDF4

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from shard_arrays import names as shard_names, stacked  # noqa: E402
from af_cli import mpirun, run  # noqa: E402
from checks import Checker  # noqa: E402
import synth_tables as T  # noqa: E402
from synth_region import Region  # noqa: E402

AGROFLUX = os.environ["AGROFLUX"]
check = Checker()  # tests/pylib/checks.py


def scenarios(pipeline):
    for line in open(pipeline):
        if line.startswith("scenarios"):
            return [s.strip() for s in line.split("=", 1)[1].split(",")]
    return []


def check_cells(outdir, pipeline):
    idx = json.load(open(os.path.join(outdir, "index.json")))
    scen = scenarios(pipeline)
    inputs = {"TMAX_AIR": "tmax", "TMIN_AIR": "tmin", "PRECN": "prcp"}
    targets = {"GPP": "gpp", "NEE": "nee", "N2O_FLUX": "n2o"}
    nrows = 0
    bad = 0
    for sh in idx["shards"]:
        ds = netCDF4.Dataset(os.path.join(outdir, sh["path"]))
        ds.set_auto_mask(False)
        ids = shard_names(ds, "sample_id")
        iname = shard_names(ds, "input")
        tname = shard_names(ds, "target")
        a = stacked(ds)
        dates = [T.epoch_date(d) for d in ds["time"][:]]
        x, y = a["x"], a["y"]
        yv, yq = a["y_valid"], a["y_qc"]
        check(ds["time"].units == "days since 1970-01-01", "time units")
        # table inputs report no quality: x_qc is NaN everywhere; y_valid stays the last variable
        check(bool(np.all(np.isnan(ds["x_qc"][:]))) and ds["x_qc"].dimensions == ("time", "sample", "input"),
              "x_qc NaN for table inputs")
        check(list(ds.variables)[-1] == "y_valid", "y_valid is the last variable")
        for r, sid in enumerate(ids):
            nrows += 1
            u = T.unit_number(Region(os.path.dirname(pipeline)), sid)
            k = scen.index(sid.split(":")[1]) if ":" in sid else 0
            for t, d in enumerate(dates):
                for j, name in enumerate(iname):
                    e = T.expected(inputs[name], u, 0, d)
                    got = x[r, t, j]
                    if (e is None and not np.isnan(got)) or (e is not None and got != np.float32(e)):
                        bad += 1
                        if bad < 5:
                            print("x", sid, d, name, got, e, file=sys.stderr)
                for j, name in enumerate(tname):
                    e = T.expected(targets[name], u, k, d)
                    got, valid = y[r, t, j], yv[r, t, j]
                    ok = (valid == 0 and np.isnan(got)) if e is None else (valid == 1 and got == np.float32(e))
                    if name == "NEE":
                        ok = ok and yq[r, t, j] == np.float32(float(T.nee_qc_text(u, d)))
                    else:
                        ok = ok and np.isnan(yq[r, t, j])
                    if not ok:
                        bad += 1
                        if bad < 5:
                            print("y", sid, d, name, got, valid, e, file=sys.stderr)
        ds.close()
    check(nrows == len(idx["samples"]), "every sample row present")
    check(bad == 0, "%d cells differ from the synth truth in %s" % (bad, outdir))
    return idx, dates


def check_provenance(outdir, idx, data):
    """provenance.json: referenced from the index by size and SHA-256, one record per input file
    (no duplicates) whose size and SHA-256 are the file's; returns its bytes."""
    import hashlib
    ref = idx["provenance"]["inputs_file"]
    raw = open(os.path.join(outdir, ref["path"]), "rb").read()
    check(ref["path"] == "provenance.json" and "inputs" not in idx["provenance"], "index references provenance.json")
    check(hashlib.sha256(raw).hexdigest() == ref["sha256"] and len(raw) == ref["bytes"], "provenance.json hash in index")
    prov = json.loads(raw)
    files = prov["files"]
    check(prov["count"] == len(files) == ref["count"] and len(files) > 0, "provenance count")
    paths = [os.path.normpath(f["path"]) for f in files]  # {root} = "." leaves "./" in paths
    check(len(set(paths)) == len(paths), "provenance lists each file once")
    want = {"pipeline-tables.ini", "counties.geojson", "site_lists/counties.csv", "site_lists/sites.csv",
            "tables/targets.csv", "tables/weather_2003.csv", "tables/weather_2004.csv"}
    check(set(paths) == want, "provenance files: %s" % sorted(paths))
    for f in files:
        b = open(os.path.join(data, f["path"]), "rb").read()
        check(hashlib.sha256(b).hexdigest() == f["sha256"] and len(b) == f["bytes"], "provenance of " + f["path"])
    return raw


def strip_volatile(idx):
    idx = dict(idx)
    idx.pop("provenance", None)
    return idx


def main():
    tmp = tempfile.mkdtemp(prefix="af-ranks-")
    try:
        data = os.path.join(tmp, "synth")
        r = run([AGROFLUX, "synth", data, "--counties", "7", "--scenarios", "3", "--sites", "2",
                 "--years", "2003-2004", "--seed", "5"])
        check(r.returncode == 0, "synth: " + r.stderr)
        pipeline = os.path.join(data, "pipeline-tables.ini")
        sums, provs = {}, {}
        for n in (1, 2, 3, 4):
            out = os.path.join(tmp, "out%d" % n)
            r = mpirun(n, "run", pipeline, "--output", out)
            check(r.returncode == 0, "run on %d ranks: %s" % (n, r.stderr))
            idx = json.load(open(os.path.join(out, "index.json")))
            check(idx["provenance"]["ranks"] == n, "ranks recorded")
            sums[n] = ([s["sha256"] for s in idx["shards"]], strip_volatile(idx))
            provs[n] = check_provenance(out, idx, data)
            for s in idx["shards"]:
                b = open(os.path.join(out, s["path"]), "rb").read()
                import hashlib
                check(hashlib.sha256(b).hexdigest() == s["sha256"], "index sha256 is the file's")
        for n in (2, 3, 4):
            check(provs[n] == provs[1], "provenance.json on %d ranks equals 1 rank" % n)
            check(sums[n][0] == sums[1][0], "shard sha256 on %d ranks equal 1 rank" % n)
            check(sums[n][1] == sums[1][1], "index content on %d ranks equals 1 rank" % n)
        idx, dates = check_cells(os.path.join(tmp, "out1"), pipeline)
        check(len(dates) == 730 and dates[-1].isoformat() == "2004-12-30", "noleap axis drops 2004-12-31")
        check(any(d.isoformat() == "2004-02-29" for d in dates), "noleap axis keeps Feb 29")
        check(len(idx["shards"]) == 3, "23 samples at 8 per shard = 3 shards")

        # standard calendar: Dec 31 2004 is present
        std = os.path.join(data, "pipeline_std.ini")
        open(std, "w").write(open(pipeline).read().replace("calendar = noleap", "calendar = standard"))
        out = os.path.join(tmp, "outstd")
        r = mpirun(2, "run", std, "--output", out)
        check(r.returncode == 0, "standard run: " + r.stderr)
        _, dates = check_cells(out, std)
        check(len(dates) == 731 and dates[-1].isoformat() == "2004-12-31", "standard axis keeps Dec 31")

        # inspect --csv against the truth
        sid = idx["samples"][4]["id"]
        r = run([AGROFLUX, "inspect", os.path.join(tmp, "out1"), "--sample", sid, "--csv"])
        check(r.returncode == 0, "inspect: " + r.stderr)
        lines = r.stdout.strip().split("\n")
        check(lines[0] == "date,TMAX_AIR,TMIN_AIR,PRECN,GPP,NEE,N2O_FLUX", "inspect header: " + lines[0])
        check(len(lines) == 731, "inspect rows")
        u, k = T.unit_number(Region(os.path.dirname(pipeline)), sid), scenarios(pipeline).index(sid.split(":")[1]) if ":" in sid else 0
        bad = 0
        import datetime as dt
        for line in lines[1:]:
            f = line.split(",")
            d = dt.date.fromisoformat(f[0])
            for col, (var, kk) in enumerate([("tmax", 0), ("tmin", 0), ("prcp", 0), ("gpp", k), ("nee", k), ("n2o", k)]):
                e = T.expected(var, u, kk, d)
                cell = f[col + 1]
                if e is None:
                    bad += cell != ""
                else:
                    bad += cell == "" or np.float32(float(cell)) != np.float32(e)
        check(bad == 0, "inspect --csv cells equal the truth (%d differ)" % bad)

        # verify, then a flipped byte
        out1 = os.path.join(tmp, "out1")
        r = run([AGROFLUX, "verify", out1])
        check(r.returncode == 0 and "OK" in r.stdout, "verify passes: " + r.stdout + r.stderr)
        bad_dir = os.path.join(tmp, "corrupt")
        shutil.copytree(out1, bad_dir)
        p = os.path.join(bad_dir, idx["shards"][1]["path"])
        b = bytearray(open(p, "rb").read())
        b[len(b) // 2] ^= 0x01
        open(p, "wb").write(bytes(b))
        r = run([AGROFLUX, "verify", bad_dir])
        check(r.returncode == 3, "verify exit 3 on a flipped byte (got %d)" % r.returncode)
        check(idx["shards"][1]["path"] in r.stderr and "sha256" in r.stderr.lower(), "verify names shard and checksum: " + r.stderr)
        # an edited provenance.json no longer matches the index
        bad_dir = os.path.join(tmp, "corrupt-prov")
        shutil.copytree(out1, bad_dir)
        p = os.path.join(bad_dir, "provenance.json")
        open(p, "a").write(" ")
        r = run([AGROFLUX, "verify", bad_dir])
        check(r.returncode == 3 and "provenance.json" in r.stderr, "verify exit 3 naming provenance.json: " + r.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(check.summary())
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
