# SPDX-License-Identifier: MIT
"""End-to-end management run: mpirun -n 2 `agroflux run` over the synth region plus the synth
management files (mgmt_prep), then every management cell of every shard is compared with values
re-derived here from the formulas documented in src/synth/synth_mgmt.h (not from the files):
planting/harvest day of year, crop, scenario N rates 336k/(K-1) kg N ha-1 at planting, site events,
the noleap rule (Dec 31 of a leap year dropped; its events land on Dec 30). Also: shards are
byte-identical on 1 and 2 ranks.
Usage: test_mgmt_e2e.py MGMT_PREP_EXE
"""
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile

import netCDF4
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from shard_arrays import names as shard_names, stacked  # noqa: E402
import truth_mgmt as M  # noqa: E402
from synth_region import Region  # noqa: E402

AGROFLUX = os.environ["AGROFLUX"]
NC, NK, NS, Y0, Y1 = 5, 3, 2, 2003, 2004
failures = []
checked = 0


def check(cond, what):
    if not cond:
        failures.append(what)
        if len(failures) < 15:
            print("FAIL:", what, file=sys.stderr)


def scenario_rates():
    """name -> g N m-2: names floor(336k/(K-1)), rates 336k/(K-1) kg N ha-1 written with %.4f."""
    out = {}
    for k in range(NK):
        name = "N%03d" % ((336 * k) // (NK - 1))
        out[name] = float("%.4f" % (336.0 * k / (NK - 1))) * 0.1
    return out


def expected(region, sid):
    """{variable: {date: value}} for events, plus crop per year (tests/pylib/truth_mgmt.py)."""
    site = region.is_site(sid)
    return M.expected(region.tag(sid), range(Y0, Y1 + 1), region.site_number[sid] if site else None,
                      None if site else scenario_rates()[sid.split(":")[1]])


def main():
    global checked
    prep = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="af-mgmt-e2e-") as tmp:
        r = subprocess.run([prep, tmp, str(NC), str(NK), str(NS)], capture_output=True, text=True)
        check(r.returncode == 0, "mgmt_prep: " + r.stderr)
        out = os.path.join(tmp, "out")
        r = subprocess.run(["mpirun", "-n", "2", "--oversubscribe", AGROFLUX, "-q", "run",
                            os.path.join(tmp, "pipeline.ini"), "--output", out], capture_output=True, text=True)
        check(r.returncode == 0, "agroflux run: " + r.stdout + r.stderr)
        out1 = os.path.join(tmp, "out1")
        r = subprocess.run(["mpirun", "-n", "1", "--oversubscribe", AGROFLUX, "-q", "run",
                            os.path.join(tmp, "pipeline.ini"), "--output", out1], capture_output=True, text=True)
        check(r.returncode == 0, "agroflux run on 1 rank: " + r.stdout + r.stderr)
        if failures:
            return 1
        idx = json.load(open(os.path.join(out, "index.json")))
        region = Region(tmp)
        idx1 = json.load(open(os.path.join(out1, "index.json")))
        check([s["sha256"] for s in idx["shards"]] == [s["sha256"] for s in idx1["shards"]],
              "shards identical on 1 and 2 ranks")
        ids = [s["id"] for s in idx["samples"]]
        check(len(ids) == NC * NK + NS, "samples: %d" % len(ids))
        check(sorted({i.split(":")[1] for i in ids if ":" in i}) == sorted(scenario_rates()),
              "scenarios come from the [scenario.*] sections")
        for sh in idx["shards"]:
            ds = netCDF4.Dataset(os.path.join(out, sh["path"]))
            sids = shard_names(ds, "sample_id")
            names = shard_names(ds, "input")
            dates = [dt.date(1970, 1, 1) + dt.timedelta(days=int(d)) for d in ds["time"][:]]
            check(len(dates) == 730 and dt.date(2004, 12, 31) not in dates, "noleap axis")
            x = np.ma.filled(stacked(ds)["x"], np.nan)
            for row, sid in enumerate(sids):
                ev, crops = expected(region, sid)
                for var in ("FERTZR_N", "PDOY", "HARV", "PDOY_STATE", "PLANTT"):
                    j = names.index(var)
                    for t, d in enumerate(dates):
                        got = x[row, t, j]
                        if var == "PDOY_STATE" and sid.startswith("US-"):
                            want = np.nan
                        elif var == "PLANTT":
                            want = crops[d.year]
                        else:
                            want = ev[var].get(d, 0.0)
                        want = np.float32(want)
                        ok = np.isnan(got) if np.isnan(want) else abs(got - want) <= 1e-6 * max(1.0, abs(want))
                        check(ok, "%s %s %s: got %r want %r" % (sid, var, d, got, want))
                        checked += 1
            ds.close()
    print("%d cells checked, %d failures" % (checked, len(failures)))
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
