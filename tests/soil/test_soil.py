# SPDX-License-Identifier: MIT
# test_soil.py: end-to-end test of source = soil and source = cdl, and of the
# gridded source's cropland_classes. soil_tool writes 20 synthetic counties and
# tile-wise constant soil and CDL GeoTIFFs (EPSG:5070, 1 km, 10-cell tiles); a
# pipeline with the six AgroFlux soil inputs, a log10 property, cropland
# weights (fraction raster and CDL classes) and CDL fractions / dominant crop
# runs with `agroflux run` on 2 ranks. Each county value is recomputed
# independently: OGR intersections of the county polygon (into EPSG:5070) with
# each tile rectangle, tile values read back with GDAL. Sites: nearest and
# bilinear by hand. Then a weather stack with crop only in the west half shows
# cropland-weighted means move exactly as predicted, and the weight cache
# tells class sets apart. Prints "N passed, N failed".
import glob
import math
import os
import shutil
import subprocess
import sys
import tempfile

import netCDF4
import numpy as np
from osgeo import gdal, ogr, osr

gdal.UseExceptions()
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from shard_arrays import names as shard_names, stacked  # noqa: E402
from checks import Checker  # noqa: E402
import truth_soil as T  # noqa: E402

exe = os.environ["AGROFLUX"]
tool = os.environ["SOIL_TOOL"]
TILE = 10
RTOL = 1e-6
check = Checker()  # counts and prints failures (tests/pylib/checks.py)


def close(a, b, what, rtol=RTOL):
    ok = (math.isnan(a) and math.isnan(b)) or abs(a - b) <= rtol * max(abs(b), 1e-12)
    check(ok, f"{what}: got {a!r}, expected {b!r}")


def read_shards(out):
    """sample id -> (x[time][input], y[time][target], y_qc[time][target]), plus input and target names."""
    rows, inames, tnames = {}, None, None
    for p in sorted(glob.glob(os.path.join(out, "shard-*.nc"))):
        d = netCDF4.Dataset(p)
        ids = shard_names(d, "sample_id")
        inames = shard_names(d, "input")
        a = stacked(d)
        has_y = "target" in d.variables
        tnames = shard_names(d, "target")
        x = np.ma.filled(a["x"].astype(float), np.nan)
        y = np.ma.filled(a["y"].astype(float), np.nan) if has_y else np.zeros((len(ids), x.shape[1], 0))
        q = np.ma.filled(a["y_qc"].astype(float), np.nan) if has_y else y
        for i, s in enumerate(ids):
            rows[s] = (x[i], y[i], q[i])
        d.close()
    return rows, inames, tnames


def run(ini, out, ranks):
    cmd = ([exe] if ranks == 1 else ["mpirun", "--oversubscribe", "-n", str(ranks), exe]) + \
        ["-v", "run", ini, "--output", out]
    return subprocess.run(cmd, capture_output=True, text=True)


# ---------------------------------------------------------------- reference
# The recomputation lives in tests/pylib/truth_soil.py (shared with tests/synth).


class Tiles(T.Tiles):
    """truth_soil.Tiles with this test's tile size and check."""

    def __init__(self, path, counties):
        super().__init__(path, counties, TILE, check)


site_value, srs, layer_mean, profile = T.site_value, T.srs, T.layer_mean, T.profile


# ---------------------------------------------------------------- soil + cdl

SOIL = """
[input.TBKDS]
source = soil
path = soil/bd_{layer}.tif
layers = 0-5,5-15,15-30
depth = 0-30
source_units = g cm-3
units = Mg m-3

[input.TCSAND]
source = soil
path = soil/sand_{layer}.tif
layers = 0-5,5-15,15-30
depth = 0-30
source_units = %
units = g kg-1

[input.TCSILT]
source = soil
path = soil/silt_{layer}.tif
layers = 0-5,5-15,15-30
depth = 0-30
source_units = %
units = g kg-1

[input.TPH]
source = soil
path = soil/ph_{layer}.tif
layers = 0-5,5-15,15-30
depth = 0-30
source_units = pH
units = pH
cropland_weights = soil/cropland.tif

[input.TCEC]
source = soil
path = soil/cec_{layer}.tif
layers = 0-5,5-15,15-30
depth = 0-15
source_units = cmol kg-1
units = cmol kg-1
cropland_weights = cdl/2020_30m_cdls.tif
cropland_classes = 1,5
site_method = nearest

[input.TCEC_W]
source = soil
path = soil/./cec_{layer}.tif
layers = 0-5,5-15,15-30
depth = 0-15
source_units = cmol kg-1
units = cmol kg-1
cropland_weights = cdl500.tif
cropland_classes = 1,5
site_method = nearest

[input.BD_Q]
source = soil
path = soil/./bd_{layer}.tif
layers = 0-5,5-15,15-30
depth = 0-30
min_valid_fraction = 0.93
source_units = g cm-3
units = Mg m-3

[input.OM]
source = soil
path = soil/om_{layer}.tif
layers = 0-5,5-15,15-30
depth = 5-30
transform = log10
source_units = %
units = g kg-1

[input.CORN]
source = cdl
path = cdl/{year}_30m_cdls.tif
class_table = cdl/classes.csv
classes = 1
units = 1

[input.CROP]
source = cdl
path = cdl/{year}_30m_cdls.tif
class_table = cdl/classes.csv
classes = corn, soybeans
units = 1

[input.OTHER]
source = cdl
path = cdl/{year}_30m_cdls.tif
class_table = cdl/classes.csv
classes = other
units = 1

[input.PLANTT]
source = cdl
path = cdl/{year}_30m_cdls.tif
class_table = cdl/classes.csv
statistic = dominant_in
classes = corn
units = flag

[input.CROPTYPE]
source = cdl
path = cdl/{year}_30m_cdls.tif
class_table = cdl/classes.csv
statistic = dominant
units = class

[target.TSOC]
source = soil
path = soil/soc_{layer}.tif
layers = 0-5,5-15,15-30
source_units = g kg-1
units = g kg-1
"""

HEAD = """[pipeline]
name = soil-e2e
start = 2019-12-30
end = 2020-01-02
calendar = standard
output = out
block_days = 3

[counties]
layer = counties.geojson
id_field = GEOID

[sites]
list = sites.csv
"""

SITES = [("S1", 41.53, -91.27), ("S2", 42.31, -89.48), ("S3", 40.77, -93.02)]
CDL = {1: "corn", 5: "soybeans"}


def soil_and_cdl(tmp):
    r = subprocess.run([tool, tmp, "20", "1000", str(TILE), "2019", "2020"], capture_output=True, text=True)
    check(r.returncode == 0, "soil_tool: " + r.stderr)
    with open(os.path.join(tmp, "sites.csv"), "w") as f:
        f.write("site_id,lat,lon\n" + "".join(f"{s},{la},{lo}\n" for s, la, lo in SITES))
    # the 2020 CDL on a 500 m grid (each 1 km cell split in 2x2): cropland weights on another grid
    src = gdal.Open(os.path.join(tmp, "cdl", "2020_30m_cdls.tif"))
    g = src.GetGeoTransform()
    gdal.Warp(os.path.join(tmp, "cdl500.tif"), src, xRes=500, yRes=500, resampleAlg="near",
              outputBounds=(g[0], g[3] + src.RasterYSize * g[5], g[0] + src.RasterXSize * g[1], g[3]))
    src = None
    ini = os.path.join(tmp, "soil.ini")
    with open(ini, "w") as f:
        f.write(HEAD + SOIL)
    out = os.path.join(tmp, "out")
    res = run(ini, out, 2)
    check(res.returncode == 0, "agroflux run on 2 ranks: " + res.stderr[-3000:])
    check("cropland weights on another grid" in res.stderr, "TCEC_W averages its 500 m weights onto the soil grid")
    if res.returncode != 0:
        return
    rows, inames, tnames = read_shards(out)
    col = {n: i for i, n in enumerate(inames)}
    out1 = os.path.join(tmp, "out1")
    res1 = run(ini, out1, 1)
    check(res1.returncode == 0, "agroflux run on 1 rank: " + res1.stderr[-3000:])
    if res1.returncode == 0:
        rows1, _, _ = read_shards(out1)
        same = rows1.keys() == rows.keys() and all(
            np.array_equal(rows1[k][0], rows[k][0], equal_nan=True) and
            np.array_equal(rows1[k][1], rows[k][1], equal_nan=True) and
            np.array_equal(rows1[k][2], rows[k][2], equal_nan=True) for k in rows)
        check(same, "1 and 2 ranks give identical values")

    # counties into EPSG:5070
    ct = osr.CoordinateTransformation(srs(4269), srs(5070))
    lyr_ds = ogr.Open(os.path.join(tmp, "counties.geojson"))
    counties = {}
    for f in lyr_ds.GetLayer():
        g = f.GetGeometryRef().Clone()
        g.Transform(ct)
        counties[f.GetField("GEOID")] = g
    check(len(counties) == 20 and all(f"{k}:base" in rows or k in rows for k in counties),
          "20 counties in the shards")
    key = {k: (f"{k}:base" if f"{k}:base" in rows else k) for k in counties}
    tiles = Tiles(os.path.join(tmp, "soil", "bd_0-5.tif"), counties)
    layers = ["0-5", "5-15", "15-30"]
    dw = {"0-30": [5 / 30, 10 / 30, 15 / 30], "0-15": [5 / 15, 10 / 15, 0], "5-30": [0, 10 / 25, 15 / 25]}
    crop_frac, _, _ = tiles.values(os.path.join(tmp, "soil", "cropland.tif"))
    cdl = {y: tiles.values(os.path.join(tmp, "cdl", f"{y}_30m_cdls.tif"))[0] for y in (2019, 2020)}
    cdl = {y: np.where(np.isnan(v), -1, v).astype(int) for y, v in cdl.items()}
    crop_mask = np.isin(cdl[2020], [1, 5]).astype(float)
    props = [  # name, file prefix, depth, scale to output units, weights, log10
        ("TBKDS", "bd", "0-30", 1.0, None, False),
        ("TCSAND", "sand", "0-30", 10.0, None, False),
        ("TCSILT", "silt", "0-30", 10.0, None, False),
        ("TPH", "ph", "0-30", 1.0, crop_frac, False),
        ("TCEC", "cec", "0-15", 1.0, crop_mask, False),
        ("TCEC_W", "cec", "0-15", 1.0, crop_mask, False),
        ("OM", "om", "5-30", 10.0, None, True),
        ("TSOC", "soc", "0-30", 1.0, None, False),
    ]
    vals = {p: [tiles.values(os.path.join(tmp, "soil", f"{p}_{l}.tif")) for l in layers] for _, p, *_ in props}
    nmiss_layer = 0
    nq_drop = 0
    for fips in sorted(counties):
        x, y, q = rows[key[fips]]
        for name, pre, depth, scale, w, log in props:
            means = [layer_mean(tiles, fips, vals[pre][i][0], w, log) for i in range(3)]
            nmiss_layer += sum(math.isnan(m) for m in means)
            exp = profile(means, dw[depth]) * scale
            got = y[:, 0] if name == "TSOC" else x[:, col[name]]
            close(float(got[0]), exp, f"{fips} {name}")
            check(bool(np.all(got == got[0])), f"{fips} {name}: the same value every day")
        # min_valid_fraction: layers whose valid share is below 0.93 drop out; y_qc of TSOC
        sh = []
        means = [layer_mean(tiles, fips, vals["bd"][i][0], None, False, 0.93, sh) for i in range(3)]
        nq_drop += sum(math.isnan(m) for m in means)
        close(float(x[0, col["BD_Q"]]), profile(means, dw["0-30"]), f"{fips} BD_Q")
        sh = []
        for i in range(3):
            layer_mean(tiles, fips, vals["soc"][i][0], share=sh)
        close(float(q[0, 0]), sum(w * v for w, v in zip(dw["0-30"], sh)), f"{fips} TSOC y_qc")
        area = counties[fips].GetArea()
        for t, year in ((0, 2019), (1, 2019), (2, 2020), (3, 2020)):
            cls = cdl[year]
            ca = {}
            for (ti, tj, a) in tiles.parts[fips]:
                ca[cls[tj, ti]] = ca.get(cls[tj, ti], 0.0) + a
            close(float(x[t, col["CORN"]]), ca.get(1, 0.0) / area, f"{fips} CORN {year}")
            close(float(x[t, col["CROP"]]), (ca.get(1, 0.0) + ca.get(5, 0.0)) / area, f"{fips} CROP {year}")
            oth = sum(a for c, a in ca.items() if c not in (-1, 1, 5))
            close(float(x[t, col["OTHER"]]), oth / area, f"{fips} OTHER {year}")
            dom = 1 if ca.get(1, 0.0) >= ca.get(5, 0.0) and ca.get(1, 0.0) > 0 else (5 if ca.get(5, 0.0) > 0 else None)
            if dom is None:
                check(math.isnan(x[t, col["CROPTYPE"]]), f"{fips} CROPTYPE {year} missing")
            else:
                check(x[t, col["CROPTYPE"]] == dom, f"{fips} CROPTYPE {year} = {x[t, col['CROPTYPE']]}, expected {dom}")
                check(x[t, col["PLANTT"]] == (1.0 if dom == 1 else 0.0), f"{fips} PLANTT {year}")
    check(nmiss_layer == 0, "every county has valid cells in every layer (partial nodata only)")
    check(0 < nq_drop < 60, f"min_valid_fraction drops some county layers, not all ({nq_drop} of 60)")
    print(f"min_valid_fraction 0.93 dropped {nq_drop} of 60 county layers")
    # sites
    ct_s = osr.CoordinateTransformation(srs(4326), srs(5070))
    for sid, la, lo in SITES:
        px, py, _ = ct_s.TransformPoint(lo, la)
        x, _, _ = rows[sid]
        for name, pre, depth, scale, w, log in props:
            if name == "TSOC":
                continue
            method = "nearest" if name in ("TCEC", "TCEC_W") else "bilinear"
            means = [site_value(vals[pre][i][1], vals[pre][i][2], tiles.gt, px, py, method, log) for i in range(3)]
            close(float(x[0, col[name]]), profile(means, dw[depth]) * scale, f"site {sid} {name}")
        for t, year in ((0, 2019), (3, 2020)):
            arr = gdal.Open(os.path.join(tmp, "cdl", f"{year}_30m_cdls.tif")).ReadAsArray()
            c = site_value(arr.astype(float), 0, tiles.gt, px, py, "nearest")
            if math.isnan(c):  # a nodata cell: no class, every statistic missing
                check(math.isnan(x[t, col["CORN"]]), f"site {sid} CORN {year} on nodata")
                continue
            c = int(c)
            check(x[t, col["CORN"]] == (1.0 if c == 1 else 0.0), f"site {sid} CORN {year} (class {c})")
            exp_t = float(c) if c in (1, 5) else float("nan")
            check(x[t, col["CROPTYPE"]] == exp_t or (math.isnan(exp_t) and math.isnan(x[t, col["CROPTYPE"]])),
                  f"site {sid} CROPTYPE {year}")


# ---------------------------------------------------------------- gridded cropland_classes

# Weather: 0.1 degree EPSG:4326 stack, value 10 * (column index) + day; CDL-like class
# raster at 0.01 degree: class 1 west of -91.05, 5 in -91.05..-91.0, 176 east.
# County: the rectangle -92..-90 x 40..41 (10 rows x 20 weather columns, -92 at column 0).
WEST = -92.0


def gridded_crop(tmp):
    d = os.path.join(tmp, "wx")
    os.makedirs(d)
    drv = gdal.GetDriverByName("GTiff")
    wkt = srs(4326).ExportToWkt()
    nx, ny, nd = 40, 30, 3
    ds = drv.Create(os.path.join(d, "tmax.tif"), nx, ny, nd, gdal.GDT_Float32)
    ds.SetGeoTransform((-93.0, 0.1, 0, 42.0, 0, -0.1))
    ds.SetProjection(wkt)
    for b in range(nd):
        ds.GetRasterBand(b + 1).WriteArray(np.tile(10.0 * np.arange(nx) + b, (ny, 1)).astype(np.float32))
    ds = None
    cx, cy = 400, 300
    ds = drv.Create(os.path.join(d, "classes.tif"), cx, cy, 1, gdal.GDT_Byte)
    ds.SetGeoTransform((-93.0, 0.01, 0, 42.0, 0, -0.01))
    ds.SetProjection(wkt)
    lon = -93.0 + 0.01 * (np.arange(cx) + 0.5)
    row = np.where(lon < -91.05, 1, np.where(lon < -91.0, 5, 176)).astype(np.uint8)
    ds.GetRasterBand(1).WriteArray(np.tile(row, (cy, 1)))
    ds = None
    with open(os.path.join(d, "c.geojson"), "w") as f:
        f.write('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"GEOID":"19001"},'
                '"geometry":{"type":"Polygon","coordinates":[[[-92,40],[-90,40],[-90,41],[-92,41],[-92,40]]]}}]}')

    def ini(name, extra):
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write("[pipeline]\nname = wx\nstart = 2020-01-01\nend = 2020-01-03\noutput = out\n\n"
                    "[counties]\nlayer = c.geojson\nid_field = GEOID\n\n"
                    "[input.TMAX]\nsource = gridded\npath = tmax.tif\nformat = stack\nstack_start = 2020-01-01\n"
                    "source_units = degC\nunits = degC\ncache_dir = cache\n" + extra)
        return p

    # weather columns of the county: 10..29 (lon -92 + 0.1 k); value 10 * col + day
    cols = np.arange(10, 30)
    lon_w = -93.0 + 0.1 * cols  # west edge of each weather column
    frac1 = np.where(lon_w + 0.1 <= -91.05 + 1e-9, 1.0, np.where(lon_w < -91.05, 0.5, 0.0))
    frac15 = np.where(lon_w + 0.1 <= -91.0 + 1e-9, 1.0, 0.0)
    results = {}
    for tag, extra, fr in (("none", "", np.ones(20)),
                           ("c1", "cropland_weights = classes.tif\ncropland_classes = 1\n", frac1),
                           ("c15", "cropland_weights = classes.tif\ncropland_classes = 1,5\n", frac15)):
        out = os.path.join(d, "out-" + tag)
        r = run(ini(tag + ".ini", extra), out, 1)
        check(r.returncode == 0, f"gridded {tag}: " + r.stderr[-2000:])
        if r.returncode != 0:
            continue
        rows, _, _ = read_shards(out)
        x = rows["19001:base"][0] if "19001:base" in rows else rows["19001"][0]
        results[tag] = x[:, 0]
        for day in range(3):
            # rows have equal weight in every column, so the mean over columns is exact
            exp = float(np.sum(fr * (10.0 * cols + day)) / np.sum(fr))
            close(float(x[day, 0]), exp, f"gridded cropland {tag} day {day}", 1e-5)
        check("built weights" in r.stderr, f"gridded {tag}: weights built, not reused from another class set")
    if len(results) == 3:
        check(results["c1"][0] < results["c15"][0] < results["none"][0],
              "crop in the west: weighted means lie west (lower) of the unweighted one")


tmp = tempfile.mkdtemp(prefix="af-soil-")
try:
    soil_and_cdl(tmp)
    gridded_crop(tmp)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print(check.summary())
sys.exit(1 if check.failed else 0)
