# SPDX-License-Identifier: MIT
# test_reference_pipelines.py: pipelines/agroflux-towers.ini and
# pipelines/agroflux-n2o-chambers.ini cannot run here without the raw data, so:
# (1) copied verbatim into a temporary repository layout, `agroflux plan` must fail
#     with a message naming the missing path under agroflux-data/;
# (2) with a small synthetic raw-data root laid out as the files' headers document
#     (gridMET NetCDF, FLUXNET FULLSET DD, AmeriFlux BASE, chamber CSVs) and the
#     period narrowed to January 2004 (both by --set), `agroflux plan` and `agroflux run` must
#     succeed, and the sites without a FULLSET file must be missing (not 0).
# Prints "N passed, N failed".
import json
import math
import os
import shutil
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from shard_arrays import names as shard_names, stacked  # noqa: E402
import tempfile

import netCDF4
import numpy as np

root = os.environ.get("AF_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
exe = os.environ["AGROFLUX"]
from checks import Checker  # noqa: E402
check = Checker()  # counts and prints failures (tests/pylib/checks.py)


def write_gridmet(path, var, units, value):
    """A coarse gridMET-like NetCDF (0.5 degree, 39-46 N, 98-82 W) for January 2004."""
    ds = netCDF4.Dataset(path, "w", format="NETCDF4_CLASSIC")
    ds.createDimension("day", 31)
    ds.createDimension("lat", 14)
    ds.createDimension("lon", 32)
    t = ds.createVariable("day", "f8", ("day",))
    t.units = "days since 1900-01-01 00:00:00"
    t.calendar = "standard"
    t[:] = np.arange(31) + 37985.0  # 2004-01-01
    la = ds.createVariable("lat", "f8", ("lat",))
    la.units = "degrees_north"
    la[:] = 45.75 - 0.5 * np.arange(14)
    lo = ds.createVariable("lon", "f8", ("lon",))
    lo.units = "degrees_east"
    lo[:] = -97.75 + 0.5 * np.arange(32)
    v = ds.createVariable(var, "f4", ("day", "lat", "lon"))
    v.units = units
    v[:] = np.full((31, 14, 32), value, dtype="f4")
    ds.close()


def write_data_root(data, sites, fullset_sites):
    os.makedirs(os.path.join(data, "gridmet"))
    for name, var, units, value in (("tmmx", "air_temperature", "K", 280.0), ("tmmn", "air_temperature", "K", 270.0),
                                    ("pr", "precipitation_amount", "mm", 1.5),
                                    ("srad", "surface_downwelling_shortwave_flux_in_air", "W m-2", 100.0)):
        write_gridmet(os.path.join(data, "gridmet", f"{name}_2004.nc"), var, units, value)
    os.makedirs(os.path.join(data, "fluxnet"))
    os.makedirs(os.path.join(data, "ameriflux"))
    for i, s in enumerate(sites):
        with open(os.path.join(data, "ameriflux", f"AMF_{s}_BASE_HH_1-5.csv"), "w") as fp:
            fp.write(f"# Site: {s}\n# Version: 1-5\nTIMESTAMP_START,TIMESTAMP_END,FC\n")
            for d in range(1, 32):
                for r in range(48):
                    a, b = r * 30, r * 30 + 30
                    end = f"200401{d:02d}{b // 60:02d}{b % 60:02d}" if b < 1440 else (
                        f"200401{d + 1:02d}0000" if d < 31 else "200402010000")
                    fp.write(f"200401{d:02d}{a // 60:02d}{a % 60:02d},{end},{-1.0 - i / 10:.2f}\n")
        if s in fullset_sites:
            prefix = "FLX" if i % 2 else "AMF"
            name = (f"FLX_{s}_FLUXNET2015_FULLSET_DD_2004-2004_1-4.csv" if prefix == "FLX"
                    else f"AMF_{s}_FLUXNET_FULLSET_DD_2004-2004_3-5.csv")
            with open(os.path.join(data, "fluxnet", name), "w") as fp:
                fp.write("TIMESTAMP,NEE_VUT_REF,NEE_VUT_REF_QC,RECO_NT_VUT_REF,GPP_NT_VUT_REF\n")
                for d in range(1, 32):
                    fp.write(f"200401{d:02d},-2.5,0.75,3.0,5.5\n")


# The period and the data root are narrowed on the command line, as a user would.
NARROW = ["--set", "pipeline.start=2004-01-01", "--set", "pipeline.end=2004-01-31"]


tmp = tempfile.mkdtemp(prefix="af-refpipes-")
try:
    pdir = os.path.join(tmp, "repo", "pipelines")
    os.makedirs(pdir)
    os.makedirs(os.path.join(tmp, "repo", "site_lists"))
    shutil.copyfile(os.path.join(root, "site_lists", "corn_belt_flux_sites.csv"),
                    os.path.join(tmp, "repo", "site_lists", "corn_belt_flux_sites.csv"))
    for name in ("agroflux-towers.ini", "agroflux-n2o-chambers.ini"):
        shutil.copyfile(os.path.join(root, "pipelines", name), os.path.join(pdir, name))
        r = subprocess.run([exe, "plan", os.path.join(pdir, name)], capture_output=True, text=True)
        check(r.returncode != 0, f"{name}: plan without data fails")
        check("pipelines/agroflux-data/" in r.stderr and "cannot read" in r.stderr,
              f"{name}: the error names the missing path: {r.stderr.strip()}")

    # A raw-data root laid out as documented.
    with open(os.path.join(root, "site_lists", "corn_belt_flux_sites.csv")) as fp:
        sites = [line.split(",")[0] for line in fp.read().splitlines()[1:] if line]
    base_only = {"US-Bo1", "US-Bo2", "US-Br1", "US-Br3", "US-CRT"}
    fullset_sites = [s for s in sites if s not in base_only]
    data = os.path.join(tmp, "raw-elsewhere")
    write_data_root(data, sites, fullset_sites)
    os.makedirs(os.path.join(data, "chambers"))
    with open(os.path.join(data, "chambers", "chamber_sites.csv"), "w") as fp:
        fp.write("site_id,lat,lon\n" + "".join(f"{c},44.{70 + c},-93.09\n" for c in range(1, 7)))
    with open(os.path.join(data, "chambers", "n2o_hourly.csv"), "w") as fp:
        fp.write("chamber,timestamp,flux\n")
        for d in range(1, 32):
            for h in range(24):
                for c in range(1, 7):
                    fp.write(f"{c},2004-01-{d:02d} {h:02d}:00,{0.0001 * c:.4f}\n")

    for name in ("agroflux-towers.ini", "agroflux-n2o-chambers.ini"):
        ini = os.path.join(pdir, name)
        sets = NARROW + ["--set", "pipeline.data_root=" + data]
        r = subprocess.run([exe, "plan", ini, *sets], capture_output=True, text=True)
        check(r.returncode == 0, f"{name}: plan on the synthetic root: {r.stderr[-1500:]}")
        out = os.path.join(tmp, "out-" + name)
        r = subprocess.run([exe, "run", ini, *sets, "--output", out], capture_output=True, text=True)
        check(r.returncode == 0, f"{name}: run on the synthetic root: {r.stderr[-1500:]}")
        if r.returncode != 0:
            continue
        idx = json.load(open(os.path.join(out, "index.json")))
        tnames = [t["name"] for t in idx["targets"]]
        for sh in idx["shards"]:
            ds = netCDF4.Dataset(os.path.join(out, sh["path"]))
            ds.set_auto_mask(False)
            ids = shard_names(ds, "sample_id")
            a = stacked(ds)
            y, yv = a["y"], a["y_valid"]
            for i, sid in enumerate(ids):
                for j, tn in enumerate(tnames):
                    if tn in ("GPP", "NEE", "Reco") and sid in base_only:
                        check(np.all(yv[i, :, j] == 0) and np.all(np.isnan(y[i, :, j])),
                              f"{name} {sid} {tn}: no FULLSET file -> missing")
                    else:
                        expect = {"GPP": 5.5, "NEE": -2.5, "Reco": 3.0,
                                  "NEE_BASE": (-1.0 - sites.index(sid) / 10) * 1.03772448 if sid in sites else 0,
                                  "N2O_FLUX": 0.0001 * 24 * (int(sid) if sid.isdigit() else 0)}[tn]
                        ok = np.all(yv[i, :, j] == 1) and all(
                            abs(float(v) - expect) <= 1e-5 * max(1.0, abs(expect)) for v in y[i, :, j])
                        check(ok, f"{name} {sid} {tn}: {y[i, 0, j]} vs {expect}")
            x = a["x"]
            check(np.all(np.abs(x[:, :, 0] - (280.0 - 273.15)) < 1e-4), f"{name}: TMAX_AIR at every site")
            check(not any(math.isnan(float(v)) for v in x.ravel()), f"{name}: every input present")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print(check.summary())
sys.exit(1 if check.failed else 0)
