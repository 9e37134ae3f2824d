# SPDX-License-Identifier: MIT
# test_synth_obs.py: source = tower and source = chamber on synthetic files.
# argv[1] is synth_obs_tree (writes counties, site lists and the synth tower and
# chamber files). The test writes a pipeline with BASE (HH and HR), FULLSET DD and
# HH tower targets, a FULLSET input and a chamber target, runs `agroflux run` on 2
# ranks (noleap calendar, 50-day blocks) and checks every cell of every shard
# (value, y_valid, y_qc; x for the input; identical shard bytes on 1 rank) against the rules of docs/formats.md
# ("synth observations") and the ONEFlux daily rules, re-implemented here. County
# samples must be missing everywhere; a missing value is NaN with y_valid 0, never 0.
# Prints "N passed, N failed".
import datetime as dt
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import netCDF4
import numpy as np

tree_exe = sys.argv[1]
exe = os.environ["AGROFLUX"]
passed = failed = 0
bad_shown = 0
NSITES, YEAR = 3, 2004
F32 = np.float32


def check(cond, what):
    global passed, failed, bad_shown
    if cond:
        passed += 1
    else:
        failed += 1
        if bad_shown < 30:
            print("FAIL:", what, file=sys.stderr)
            bad_shown += 1


# --- the documented synth rules -------------------------------------------------
# The rules and the ONEFlux daily rules live in tests/pylib/truth_obs.py (shared with tests/synth).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from shard_arrays import names as shard_names, stacked  # noqa: E402
from truth_obs import conv, expect_target, fullset_dd  # noqa: E402


# --- ONEFlux daily rules and the units table -----------------------------------


# Each target: name -> function (site, date) -> (value in output units or None, qc, valid)


PIPELINE = """
[pipeline]
name = obs-synth
start = {y}-01-01
end = {y}-12-31
calendar = noleap
output = out
shard_samples = 2
block_days = 50

[counties]
layer = counties.geojson
id_field = GEOID
select = site_lists/counties.csv
scenarios = base

[sites]
list = site_lists/sites.csv

[input.TA_F]
source = tower
format = fullset
path = fluxnet/FLX_{{site}}_FLUXNET2015_FULLSET_DD_*.csv
source_units = degC
units = degC

[target.TA]
source = tower
format = base
path = towers/AMF_{{site}}_BASE_*.csv
source_units = degC
units = K

[target.P]
source = tower
format = base
path = towers/AMF_{{site}}_BASE_*.csv
aggregation = sum
source_units = mm
units = mm d-1

[target.SW_IN]
source = tower
format = base
path = towers/AMF_{{site}}_BASE_*.csv
source_units = W m-2
units = MJ m-2 d-1

[target.FC]
source = tower
format = base
path = towers/AMF_{{site}}_BASE_*.csv
aggregation = co2flux
source_units = umol m-2 s-1
units = g C m-2 d-1
sign = negative = uptake by the ecosystem

[target.FC_ANY]
source = tower
format = base
path = towers/AMF_{{site}}_BASE_*.csv
column = FC
aggregation = co2flux
gap = coverage
min_coverage = 0
qc_threshold = 0.9
source_units = umol m-2 s-1
units = g C m-2 d-1

[target.GPP_DD]
source = tower
format = fullset
path = fluxnet/FLX_{{site}}_FLUXNET2015_FULLSET_DD_*.csv
column = GPP_NT_VUT_REF
source_units = g C m-2 d-1
units = g C m-2 d-1

[target.NEE_DD]
source = tower
format = fullset
path = fluxnet/FLX_{{site}}_FLUXNET2015_FULLSET_DD_*.csv
column = NEE_VUT_REF
qc_column = NEE_VUT_REF_QC
qc_threshold = 0.5
source_units = g C m-2 d-1
units = g C m-2 d-1

[target.GPP_HH]
source = tower
format = fullset
path = fluxnet/FLX_{{site}}_FLUXNET2015_FULLSET_HH_*.csv
column = RECO_NT_VUT_REF
minus_column = NEE_VUT_REF
aggregation = co2flux
source_units = umol m-2 s-1
units = g C m-2 d-1

[target.NEE_HH]
source = tower
format = fullset
path = fluxnet/FLX_{{site}}_FLUXNET2015_FULLSET_HH_*.csv
column = NEE_VUT_REF
qc_column = NEE_VUT_REF_QC
qc_threshold = 0.5
aggregation = co2flux
source_units = umol m-2 s-1
units = g C m-2 d-1

[target.N2O]
source = chamber
path = chambers/chambers.csv
source_units = nmol m-2 s-1
chamber_ids = US-Sx2:C2
units = kg N ha-1 d-1
sign = positive = emission to the atmosphere
"""


def close(a, b):
    return abs(a - b) <= 2e-6 * max(1.0, abs(b))


tmp = tempfile.mkdtemp(prefix="af-obs-synth-")
try:
    r = subprocess.run([tree_exe, tmp, "3", str(NSITES), str(YEAR), str(YEAR)], capture_output=True, text=True)
    check(r.returncode == 0, "synth_obs_tree: " + r.stderr)
    with open(os.path.join(tmp, "obs.ini"), "w") as fp:
        fp.write(PIPELINE.format(y=YEAR))
    out = os.path.join(tmp, "out")
    r = subprocess.run(["mpirun", "--oversubscribe", "-n", "2", exe, "run", os.path.join(tmp, "obs.ini"),
                        "--output", out], capture_output=True, text=True)
    check(r.returncode == 0, "run: " + r.stderr[-3000:])
    if r.returncode != 0:
        raise SystemExit
    idx = json.load(open(os.path.join(out, "index.json")))
    out1 = os.path.join(tmp, "out1")
    r1 = subprocess.run([exe, "run", os.path.join(tmp, "obs.ini"), "--output", out1], capture_output=True, text=True)
    check(r1.returncode == 0, "1-rank run: " + r1.stderr[-3000:])
    if r1.returncode == 0:
        idx1 = json.load(open(os.path.join(out1, "index.json")))
        check([sh["sha256"] for sh in idx1["shards"]] == [sh["sha256"] for sh in idx["shards"]],
              "shards byte-identical on 1 and 2 ranks")
    check({t["name"]: t["sign"] for t in idx["targets"]}["N2O"] == "positive = emission to the atmosphere",
          "N2O sign recorded")
    days = [dt.date(YEAR, 1, 1) + dt.timedelta(days=i) for i in range(365)]  # noleap: Dec 31 dropped
    nsites = ncounties = 0
    seen_missing = {}
    for sh in idx["shards"]:
        ds = netCDF4.Dataset(os.path.join(out, sh["path"]))
        ds.set_auto_mask(False)
        ids = shard_names(ds, "sample_id")
        tnames = shard_names(ds, "target")
        inames = shard_names(ds, "input")
        check(inames == ["TA_F"], f"inputs {inames}")
        times = [int(t) for t in ds["time"][:]]
        check(times == [(d - dt.date(1970, 1, 1)).days for d in days], "noleap axis of 2004")
        a = stacked(ds)
        x, y, yv, yq = a["x"], a["y"], a["y_valid"], a["y_qc"]
        for i, sid in enumerate(ids):
            site = sid.startswith("US-Sx")
            if site:
                nsites += 1
                s = int(sid[5:])
            else:
                ncounties += 1
                check(np.all(yv[i] == 0) and np.all(np.isnan(y[i])) and np.all(np.isnan(yq[i]))
                      and np.all(np.isnan(x[i])), f"{sid}: county sample missing everywhere")
                continue
            for t, d in enumerate(days):
                e = fullset_dd(1, s, d)
                xv = float(x[i, t, 0])
                check((math.isnan(xv) if e is None else close(xv, conv(e, 1.0))), f"{sid} {d} TA_F {xv} vs {e}")
                for j, name in enumerate(tnames):
                    val, q, ok = expect_target(name, s, d)
                    got, gv, gq = float(y[i, t, j]), int(yv[i, t, j]), float(yq[i, t, j])
                    where = f"{sid} {d} {name}"
                    check(abs(gq - q) < 1e-6, f"{where}: qc {gq} vs {q}")
                    if ok:
                        check(gv == 1 and close(got, val), f"{where}: {got} (valid {gv}) vs {val}")
                    else:
                        check(gv == 0 and math.isnan(got), f"{where}: expected missing, got {got} valid {gv}")
                        seen_missing[name] = seen_missing.get(name, 0) + 1
    check(nsites == NSITES and ncounties == 3, f"{nsites} sites, {ncounties} counties")
    # The rules exercise both outcomes for every target (a test that cannot fail is no test).
    for name in ("TA", "P", "SW_IN", "FC", "FC_ANY", "GPP_DD", "NEE_DD", "GPP_HH", "NEE_HH", "N2O"):
        check(0 < seen_missing.get(name, 0) < NSITES * 365, f"{name}: some days missing, some kept "
              f"({seen_missing.get(name, 0)} missing)")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
