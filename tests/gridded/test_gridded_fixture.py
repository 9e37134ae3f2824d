# SPDX-License-Identifier: MIT
# test_gridded_fixture.py: pipelines/examples/gridmet-fixture.ini (source = gridded)
# on the real gridMET tmmx 2024 crop and the 36 fixture counties. The ini is copied
# verbatim into a temporary tree whose ../../../shared/fixtures links to AF_FIXTURES
# (so the weight cache lands there, not in the repository), run on 2 ranks twice
# (the rerun must reuse the cached weights), and the shard is compared with an
# independent OGR computation: exact cell coverage by polygon intersection,
# spherical row areas, fill cells dropped, the outside part counted as missing.
# Exit 77 (skip) when the fixtures are absent. Prints "N passed, N failed".
import json
import math
import os
import shutil
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from shard_arrays import names as shard_names, stacked  # noqa: E402
import tempfile

fix = os.environ.get("AF_FIXTURES", "")
nc_path = os.path.join(fix, "gridmet_tmmx_2024_crop.nc")
gj_path = os.path.join(fix, "counties_gridmet_crop.geojson")
if not fix or not os.path.exists(nc_path) or not os.path.exists(gj_path):
    print("fixtures absent: skip")
    sys.exit(77)

import netCDF4  # noqa: E402
import numpy as np  # noqa: E402
from osgeo import gdal, ogr  # noqa: E402

gdal.UseExceptions()
root = os.environ.get("AF_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
exe = os.environ.get("AGROFLUX", os.path.join(root, "build", "src", "cli", "agroflux"))
ini_src = os.path.join(root, "pipelines", "examples", "gridmet-fixture.ini")

from checks import Checker  # noqa: E402
check = Checker()  # counts and prints failures (tests/pylib/checks.py)


tmp = tempfile.mkdtemp(prefix="af-gridmet-fx-")
try:
    exdir = os.path.join(tmp, "repo", "pipelines", "examples")
    os.makedirs(exdir)
    os.makedirs(os.path.join(tmp, "shared"))
    os.symlink(os.path.abspath(fix), os.path.join(tmp, "shared", "fixtures"))
    ini = os.path.join(exdir, "gridmet-fixture.ini")
    shutil.copyfile(ini_src, ini)
    out = os.path.join(tmp, "out")
    cmd = ["mpirun", "--oversubscribe", "-n", "2", exe, "-v", "run", ini, "--output", out]
    r1 = subprocess.run(cmd, capture_output=True, text=True)
    check(r1.returncode == 0, "first run: " + r1.stderr[-2000:])
    check("built weights" in r1.stderr, "first run builds and caches weights")
    r2 = subprocess.run(cmd, capture_output=True, text=True)
    check(r2.returncode == 0, "second run: " + r2.stderr[-2000:])
    check("reusing cached weights" in r2.stderr and "built weights" not in r2.stderr,
          "second run reuses the cached weights")
    check(os.listdir(os.path.join(exdir, ".agroflux-cache")) != [], "cache beside the pipeline file")
    if r1.returncode != 0:
        raise SystemExit

    d = netCDF4.Dataset(os.path.join(out, "shard-00000.nc"))
    x = np.ma.filled(stacked(d)["x"][:, :, 0].astype(float), np.nan)
    fips = shard_names(d, "fips")
    tvals = d["time"][:]
    check(len(tvals) == 366 and int(tvals[0]) == 19723 and int(tvals[-1]) == 20088, "366 days of 2024")

    # Independent reference from the raw file.
    src = netCDF4.Dataset(nc_path)
    src.set_auto_mask(True)
    raw = np.ma.filled(src["air_temperature"][:].astype(float), np.nan)  # (366, 34, 33) K
    ds = gdal.Open(nc_path)
    gt = ds.GetGeoTransform()
    ny, nx = raw.shape[1], raw.shape[2]
    d2r = math.pi / 180
    cells = []
    for r in range(ny):
        ya, yb = gt[3] + r * gt[5], gt[3] + (r + 1) * gt[5]
        area = abs(math.sin(ya * d2r) - math.sin(yb * d2r))
        for c in range(nx):
            xa, xb = gt[0] + c * gt[1], gt[0] + (c + 1) * gt[1]
            g = ogr.CreateGeometryFromWkt(
                f"POLYGON(({xa} {ya},{xb} {ya},{xb} {yb},{xa} {yb},{xa} {ya}))")
            cells.append((r, c, g, abs((xb - xa) * (yb - ya)), area))
    grid_box = ogr.CreateGeometryFromWkt(
        f"POLYGON(({gt[0]} {gt[3]},{gt[0] + nx * gt[1]} {gt[3]},{gt[0] + nx * gt[1]} {gt[3] + ny * gt[5]},"
        f"{gt[0]} {gt[3] + ny * gt[5]},{gt[0]} {gt[3]}))")

    feats = json.load(open(gj_path))["features"]
    check(len(feats) == 36 and sorted(fips) == sorted(f["id"] for f in feats), "36 counties, one sample each")
    inside_full = 0
    jan, jul = slice(0, 31), slice(182, 213)
    for f in feats:
        geom = ogr.CreateGeometryFromJson(json.dumps(f["geometry"]))
        if f["id"] not in fips:
            continue
        i = fips.index(f["id"])
        inside = geom.Intersection(grid_box).GetArea() / geom.GetArea()
        w = np.zeros((ny, nx))
        env = geom.GetEnvelope()
        for (r, c, g, ca, area) in cells:
            ge = g.GetEnvelope()
            if ge[1] < env[0] or ge[0] > env[1] or ge[3] < env[2] or ge[2] > env[3]:
                continue
            a = geom.Intersection(g).GetArea()
            if a > 1e-12 * ca:
                w[r, c] = a / ca * area
        wsum = w.sum()
        valid = np.isfinite(raw)
        wv = (valid * w).sum(axis=(1, 2))
        vf = (wv / wsum if wsum > 0 else np.zeros(366)) * inside
        mean = np.nansum(np.where(valid, raw, 0) * w, axis=(1, 2)) / np.where(wv > 0, wv, 1) - 273.15
        series = x[i]
        near = np.abs(vf - 0.5) < 1e-3
        exp_missing = (vf < 0.5) & ~near
        exp_valid = (vf >= 0.5) & ~near
        check(np.all(np.isnan(series[exp_missing])), f"{f['id']}: missing where valid fraction < 0.5")
        check(np.all(np.isfinite(series[exp_valid])), f"{f['id']}: present where valid fraction >= 0.5")
        if exp_valid.any():
            err = np.nanmax(np.abs(series[exp_valid] - mean[exp_valid]))
            check(err < 1e-4, f"{f['id']}: mean differs from the OGR reference by {err}")
        if inside > 1 - 1e-9:
            inside_full += 1
            check(np.all(np.isfinite(series)), f"{f['id']} (inside): a value every day")
            check(np.nanmin(series) > -30 and np.nanmax(series) < 45, f"{f['id']}: plausible degC")
            check(np.nanmean(series[jul]) > np.nanmean(series[jan]) + 10, f"{f['id']}: July warmer than January")
        if inside < 0.3:
            check(np.all(np.isnan(series)), f"{f['id']}: {inside:.2f} inside, always missing")
    check(inside_full == 12, f"12 counties fully inside the crop (found {inside_full})")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print(check.summary())
sys.exit(1 if check.failed else 0)
