# SPDX-License-Identifier: MIT
# test_us_crt_fixture.py: pipelines/examples/us-crt-fixture.ini (source = tower) on
# the real AmeriFlux BASE half-hourly US-CRT sample. The ini and its site list are
# copied into a temporary tree whose ../../../shared/fixtures links to AF_FIXTURES,
# run with the CLI, and every value, y_valid and y_qc (coverage) is compared with
# the ONEFlux daily rules re-implemented here straight from the raw CSV: strict
# means (TA, SW_IN x 0.0864) and sums (P), and the BASE flux rule for FC (mean of
# the present records x 1.03772448 when coverage >= 0.5). Exit 77 (skip) when the
# fixtures are absent. Prints "N passed, N failed".
import csv
import math
import os
import shutil
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from shard_arrays import names as shard_names, stacked  # noqa: E402
import tempfile

fix = os.environ.get("AF_FIXTURES", "")
raw_path = os.path.join(fix, "AMF_US-CRT_BASE_HH_2-5.csv")
if not fix or not os.path.exists(raw_path):
    print("fixtures absent: skip")
    sys.exit(77)

import netCDF4  # noqa: E402
import numpy as np  # noqa: E402

root = os.environ.get("AF_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
exe = os.environ.get("AGROFLUX", os.path.join(root, "build", "src", "cli", "agroflux"))
from checks import Checker  # noqa: E402
check = Checker()  # counts and prints failures (tests/pylib/checks.py)


def reference():
    """Daily values from the raw CSV: {var: [(value or None, coverage)] for 2011-01-01, 2011-01-02}."""
    with open(raw_path, newline="") as fp:
        rows = [r for r in csv.reader(fp) if r and not r[0].startswith("#")]
    head, data = rows[0], rows[1:]
    col = {name: head.index(name) for name in ("TIMESTAMP_START", "TA", "P", "SW_IN", "FC")}
    out = {}
    for var, rule, factor in (("TA", "mean", 1.0), ("P", "sum", 1.0), ("SW_IN", "mean", 0.0864),
                              ("FC", "flux", 1.03772448)):
        days = []
        for day in ("20110101", "20110102"):
            vals = [float(r[col[var]]) for r in data if r[col["TIMESTAMP_START"]][:8] == day]
            check(len(vals) == 48, f"{day}: 48 half-hours in the raw file")
            present = [v for v in vals if v != -9999]
            cov = len(present) / 48.0
            if rule == "flux":
                value = sum(present) / len(present) * factor if present and cov >= 0.5 else None
            elif len(present) < 48:
                value = None
            else:
                value = (sum(present) if rule == "sum" else sum(present) / 48.0) * factor
            days.append((value, cov))
        out[var] = days
    return out


tmp = tempfile.mkdtemp(prefix="af-crt-fx-")
try:
    exdir = os.path.join(tmp, "repo", "pipelines", "examples")
    os.makedirs(exdir)
    os.makedirs(os.path.join(tmp, "shared"))
    os.symlink(os.path.abspath(fix), os.path.join(tmp, "shared", "fixtures"))
    for name in ("us-crt-fixture.ini", "us-crt-site.csv"):
        shutil.copyfile(os.path.join(root, "pipelines", "examples", name), os.path.join(exdir, name))
    out = os.path.join(tmp, "out")
    r = subprocess.run([exe, "run", os.path.join(exdir, "us-crt-fixture.ini"), "--output", out],
                       capture_output=True, text=True)
    check(r.returncode == 0, "run: " + r.stderr[-2000:])
    if r.returncode != 0:
        raise SystemExit
    d = netCDF4.Dataset(os.path.join(out, "shard-00000.nc"))
    names = shard_names(d, "target")
    check(names == ["TA", "P", "SW_IN", "FC"], f"targets named as in the file: {names}")
    d.set_auto_mask(False)
    sid = shard_names(d, "sample_id")[0]
    a = stacked(d)
    check(sid == "US-CRT", f"one site sample US-CRT, got {sid!r}")
    check(abs(float(d["lat"][0]) - 41.6285) < 1e-9 and abs(float(d["lon"][0]) + 83.3471) < 1e-9, "site location")
    check([int(t) for t in d["time"][:]] == [14975, 14976], "days 2011-01-01 and 2011-01-02")
    y = np.ma.filled(a["y"].astype(float), np.nan)[0]
    qc = np.ma.filled(a["y_qc"].astype(float), np.nan)[0]
    valid = a["y_valid"][0]
    ref = reference()
    for j, var in enumerate(names):
        for t in range(2):
            value, cov = ref[var][t]
            where = f"{var} day {t}"
            check(abs(qc[t, j] - cov) < 1e-6, f"{where}: coverage {qc[t, j]} != {cov}")
            if value is None:
                check(valid[t, j] == 0 and math.isnan(y[t, j]), f"{where}: missing, got {y[t, j]} valid {valid[t, j]}")
            else:
                check(valid[t, j] == 1 and abs(y[t, j] - value) <= 1e-5 * max(1.0, abs(value)),
                      f"{where}: {y[t, j]} != {value}")
    # The fixture exercises both FC outcomes and a precipitation day.
    check(ref["FC"][0][0] is None and ref["FC"][1][0] is not None, "FC: day 1 below coverage, day 2 kept")
    check(ref["P"][0][0] > 0, "P: rain on 2011-01-01")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print(check.summary())
sys.exit(1 if check.failed else 0)
