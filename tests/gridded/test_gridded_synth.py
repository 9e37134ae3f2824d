# SPDX-License-Identifier: MIT
# test_gridded_synth.py: source = gridded end to end on the synthetic gridMET-format and
# Daymet-format files of src/synth/synth_grid.c (argv[1] = synth_grid_main writes them with
# the synth counties and sites, 2003-2004, Daymet at 5 km). Two pipelines (calendar =
# standard and noleap) read gridMET tmmx (mean, min, max, std, and a target carrying the
# valid fraction), pr and srad, and Daymet tmax and prcp; each runs under `mpirun -n 2
# agroflux run`. Every county-day and site-day is compared with an independent computation
# written from docs/formats.md ("Synth gridded weather"), not from the C code:
#   - the field from the documented formula (and the files checked against it cell by cell);
#   - cell coverage by OGR polygon intersection with each cell (counties NAD83 -> the grid CRS
#     by OGR), times the cell area: for the geographic gridMET grid, the area of the cell on
#     the WGS84 ellipsoid by numerical integration of M(phi) N(phi) cos(phi); for Daymet LCC,
#     the planar area;
#   - nodata cells dropped and the weights renormalised; missing below min_valid_fraction,
#     whose value is chosen here between the valid fractions of the hole days so that both
#     sides of the threshold occur;
#   - sites: bilinear (gridMET, Daymet prcp) and nearest (Daymet tmax) from the cell centres;
#   - calendars: Dec 31 2004 absent under noleap, and missing for Daymet under standard;
#   - a copy of tmmx with the lat axis ascending (south-up rows) gives the same values;
#   - Daymet shortwave as a daily total: DM_RADN = srad x dayl (multiply_path) in MJ m-2 d-1, the
#     product taken per cell and day before the county mean and the site interpolation (and shown
#     to differ from the product of the county means), beside DM_SRAD reading the same srad path
#     without multiplier (one group, two variables).
# Agreement: 1e-6 relative to the field's magnitude (the source reads values as float32),
# valid fractions to 1e-6. Prints "N passed, N failed".
import datetime as dt
import glob
import os
import shutil
import subprocess
import sys
import tempfile

import netCDF4
import numpy as np
from osgeo import gdal, ogr

gdal.UseExceptions()
exe = os.environ["AGROFLUX"]
writer = sys.argv[1]
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        if failed <= 30:
            print("FAIL:", what)


# ---------------------------------------------------------------- the documented field
# The recomputation lives in tests/pylib/truth_weather.py (shared with tests/synth).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from shard_arrays import names as shard_names, stacked  # noqa: E402
import truth_weather as W  # noqa: E402

GM = {k: W.GM[k] for k in ("tmmx", "pr", "srad")}  # the variables synth_grid_main writes
DM = {k: W.DM[k] for k in ("tmax", "prcp", "srad", "dayl")}
DM_S = 5000.0
county_weights, county_truth, site_truth = W.county_weights, W.county_truth, W.site_truth


def load(tree, kind, var, years):
    return W.load(tree, kind, var, years, check)


# ---------------------------------------------------------------- pipelines
def axis(calendar):
    d, out = dt.date(2003, 1, 1), []
    while d <= dt.date(2004, 12, 31):
        if not (calendar == "noleap" and d.month == 12 and d.day == 31 and d.year % 4 == 0):
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def feature(kind, name, path, var, src_units, units, extra=""):
    fmt = "format = daymet\n" if "daymet" in path else ""
    return ("[%s.%s]\nsource = gridded\npath = %s\nvariable = %s\n%ssource_units = %s\nunits = %s\n%s\n"
            % (kind, name, path, var, fmt, src_units, units, extra))


def write_ini(tree, calendar, mvf_gm, mvf_dm):
    gm = "min_valid_fraction = %r\nsite_method = bilinear\n" % mvf_gm
    dm = "min_valid_fraction = %r\nsite_method = nearest\n" % mvf_dm
    tm, dmx = "tmmx_{year}.nc", "daymet_v4_daily_na_tmax_{year}.nc"
    text = ("[pipeline]\nname = gridsynth\nstart = 2003-01-01\nend = 2004-12-31\ncalendar = %s\n"
            "output = out_%s\nshard_samples = 100\nblock_days = 120\n\n"
            "[counties]\nlayer = counties.geojson\nid_field = GEOID\nscenarios = N000, N336\n\n"
            "[sites]\nlist = site_lists/sites.csv\n\n" % (calendar, calendar)
            + feature("input", "TMAX_AIR", tm, "air_temperature", "K", "degC", gm)
            + feature("input", "TMAX_MIN", tm, "air_temperature", "K", "degC", gm + "statistic = min\n")
            + feature("input", "TMAX_MAX", tm, "air_temperature", "K", "degC", gm + "statistic = max\n")
            + feature("input", "TMAX_STD", tm, "air_temperature", "K", "degC", gm + "statistic = std\n")
            + feature("input", "TMAX_SU", "tmmxsu_{year}.nc", "air_temperature", "K", "degC", gm)
            + feature("input", "PRECN", "pr_{year}.nc", "precipitation_amount", "mm", "mm d-1")
            + feature("input", "RADN", "srad_{year}.nc", "surface_downwelling_shortwave_flux_in_air", "W m-2",
                      "MJ m-2 d-1")
            + feature("input", "DM_TMAX", dmx, "tmax", "degC", "degC", dm)
            + feature("input", "DM_PRCP", "daymet_v4_daily_na_prcp_{year}.nc", "prcp", "mm/day", "mm d-1",
                      "site_method = bilinear\n")
            + feature("input", "DM_RADN", "daymet_v4_daily_na_srad_{year}.nc", "srad", "J m-2 d-1", "MJ m-2 d-1",
                      "multiply_path = daymet_v4_daily_na_dayl_{year}.nc\nmultiply_variable = dayl\n")
            + feature("input", "DM_SRAD", "daymet_v4_daily_na_srad_{year}.nc", "srad", "W m-2", "W m-2")
            + feature("target", "T_TMAX", tm, "air_temperature", "K", "degC", gm)
            + feature("target", "T_DM_TMAX", dmx, "tmax", "degC", "degC", dm))
    with open(os.path.join(tree, "%s.ini" % calendar), "w") as f:
        f.write(text)


def read_shards(out):
    data = {}
    for p in sorted(glob.glob(os.path.join(out, "shard-*.nc"))):
        ds = netCDF4.Dataset(p)
        ids = shard_names(ds, "sample_id")
        names = shard_names(ds, "input")
        tnames = shard_names(ds, "target")
        t = [dt.date(1970, 1, 1) + dt.timedelta(days=int(v)) for v in ds["time"][:]]
        a = stacked(ds)
        x, y, qc = a["x"].filled(np.nan), a["y"].filled(np.nan), a["y_qc"].filled(np.nan)
        for i, sid in enumerate(ids):
            data[sid] = {n: x[i, :, k] for k, n in enumerate(names)}
            data[sid].update({n: y[i, :, k] for k, n in enumerate(tnames)})
            data[sid].update({n + ":qc": qc[i, :, k] for k, n in enumerate(tnames)})
        ds.close()
    return t, data


def compare(got, want, tol, what):
    """NaN where want is NaN; else within tol."""
    bad = [(i, g, w) for i, (g, w) in enumerate(zip(got, want))
           if (np.isnan(w) != np.isnan(g)) or (not np.isnan(w) and abs(g - w) > tol)]
    check(not bad, "%s: %d days differ, first %s" % (what, len(bad), bad[:3]))


def threshold_between(fracs):
    """A min_valid_fraction with partial valid fractions on both sides."""
    f = sorted(set(round(v, 6) for v in fracs if 0.05 < v < 0.95))
    check(len(f) >= 2, "hole days give at least two distinct partial valid fractions (%s)" % f)
    i = len(f) // 2
    return round((f[i - 1] + f[i]) / 2, 6) if len(f) >= 2 else 0.5


def write_south_up(tree, year):
    """tmmxsu_<year>.nc: tmmx with the lat axis ascending (rows south to north), as other tools write it."""
    src = netCDF4.Dataset(os.path.join(tree, "tmmx_%d.nc" % year))
    dst = netCDF4.Dataset(os.path.join(tree, "tmmxsu_%d.nc" % year), "w")
    for name, dim in src.dimensions.items():
        dst.createDimension(name, len(dim))
    for name, v in src.variables.items():
        v.set_auto_maskandscale(False)
        fill = v.getncattr("_FillValue") if "_FillValue" in v.ncattrs() else None
        o = dst.createVariable(name, v.dtype, v.dimensions, fill_value=fill)
        o.set_auto_maskandscale(False)
        o.setncatts({a: v.getncattr(a) for a in v.ncattrs() if a not in ("_FillValue", "GeoTransform")})
        a = v[:]
        if "lat" in v.dimensions:
            a = np.flip(a, axis=v.dimensions.index("lat"))
        o[:] = a
    src.close()
    dst.close()


def main():
    tree = tempfile.mkdtemp(prefix="af-gridsynth-")
    try:
        subprocess.run([writer, tree, "2003", "2004", "%d" % DM_S], check=True)
        counties = {}
        ds = ogr.Open(os.path.join(tree, "counties.geojson"))
        lyr = ds.GetLayer(0)
        check(lyr.GetSpatialRef().GetAuthorityCode(None) == "4269", "counties are EPSG:4269")
        for f in lyr:
            counties[f.GetField("GEOID")] = f.GetGeometryRef().Clone()
        sites = {}
        with open(os.path.join(tree, "site_lists", "sites.csv")) as f:
            next(f)
            for line in f:
                p = line.strip().split(",")
                sites[p[0]] = (float(p[2]), float(p[3]))
        years = (2003, 2004)
        for y in years:
            write_south_up(tree, y)
        fields = {v: load(tree, "gridmet", v, years) for v in GM}
        fields.update({("dm_" + v if v in GM else v): load(tree, "daymet", v, years) for v in DM})
        # srad x dayl per cell and day (NaN where either is nodata), before any aggregation
        sr, dl = fields["dm_srad"][1], fields["dayl"][1]
        check(sr.keys() == dl.keys(), "Daymet srad and dayl have the same days")
        fields["dm_radn"] = (fields["dm_srad"][0], {d: sr[d] * dl[d] for d in sr})
        wts = {v: county_weights(fields[v][0], counties) for v in ("tmmx", "tmax")}
        wts["pr"] = wts["srad"] = wts["tmmx"]
        wts["prcp"] = wts["dm_srad"] = wts["dayl"] = wts["dm_radn"] = wts["tmax"]
        for v in ("tmmx", "tmax"):
            check(all(abs(ins - 1) < 1e-9 for _, ins in wts[v].values()), "%s grid covers every county" % v)
        std_days = axis("standard")
        truth = {v: county_truth(wts[v], fields[v][1], std_days) for v in fields}
        hole_days = [i for i, d in enumerate(std_days) if d.timetuple().tm_yday % 50 == 25]
        mvf = {v: threshold_between([truth[v][f][4][i] for f in counties for i in hole_days]) for v in ("tmmx", "tmax")}
        sitev = {v: site_truth(fields[v][0], fields[v][1], std_days, sites,
                               "nearest" if v == "tmax" else "bilinear") for v in fields}
        # The product of the county means is not the county mean of the products: the test can tell them apart.
        pom = max(np.nanmax(np.abs(truth["dm_srad"][f][0] * truth["dayl"][f][0] - truth["dm_radn"][f][0])
                            / np.abs(truth["dm_radn"][f][0])) for f in counties)
        check(pom > 1e-4, "product of county means differs from the mean of cell products (max rel. %.3g)" % pom)
        mag = {"tmmx": 300.0, "pr": 20.0, "srad": 300.0, "tmax": 35.0, "prcp": 12.5, "dm_srad": 300.0,
               "dm_radn": 300.0 * 43000.0}
        conv = {"tmmx": (1, -273.15), "pr": (1, 0), "srad": (0.0864, 0), "tmax": (1, 0), "prcp": (1, 0),
                "dm_srad": (1, 0), "dm_radn": (1e-6, 0)}
        feats = {"TMAX_AIR": ("tmmx", 0), "TMAX_MIN": ("tmmx", 1), "TMAX_MAX": ("tmmx", 2), "TMAX_STD": ("tmmx", 3),
                 "TMAX_SU": ("tmmx", 0),
                 "PRECN": ("pr", 0), "RADN": ("srad", 0), "DM_TMAX": ("tmax", 0), "DM_PRCP": ("prcp", 0),
                 "DM_RADN": ("dm_radn", 0), "DM_SRAD": ("dm_srad", 0),
                 "T_TMAX": ("tmmx", 0), "T_DM_TMAX": ("tmax", 0)}
        for cal in ("standard", "noleap"):
            write_ini(tree, cal, mvf["tmmx"], mvf["tmax"])
            subprocess.run(["mpirun", "-n", "2", exe, "-q", "run", os.path.join(tree, cal + ".ini")], check=True)
            v = subprocess.run([exe, "-q", "verify", os.path.join(tree, "out_" + cal)], capture_output=True, text=True)
            check(v.returncode == 0, "%s: agroflux verify passes (%s)" % (cal, v.stdout + v.stderr))
            t, data = read_shards(os.path.join(tree, "out_" + cal))
            days = axis(cal)
            check(t == days, "%s: time axis (%d days, Dec 31 2004 %s)" % (cal, len(t), "absent" if cal == "noleap" else "present"))
            idx = [std_days.index(d) for d in days]
            check(len(data) == 2 * len(counties) + len(sites), "%s: every sample in the shards" % cal)
            above = below = 0
            for fips in counties:
                for scen in ("N000", "N336"):
                    s = data.get("%s:%s" % (fips, scen))
                    if s is None:
                        check(False, "%s: county %s:%s missing" % (cal, fips, scen))
                        continue
                    for name, (v, stat) in feats.items():
                        mvf_v = mvf.get(v, 0.5)
                        frac = truth[v][fips][4][idx]
                        want = truth[v][fips][stat][idx]
                        want = np.where(frac >= mvf_v, want, np.nan)
                        a, b = conv[v]
                        want = want * a if stat == 3 else want * a + b
                        tol = 1e-6 * mag[v] * abs(a) + 1e-6 * np.nanmax(np.abs(want), initial=1)
                        compare(s[name], want, tol, "%s %s:%s %s" % (cal, fips, scen, name))
                        if name.startswith("T_"):
                            compare(s[name + ":qc"], frac, 1e-6, "%s %s %s valid fraction" % (cal, fips, name))
                    if scen == "N000":
                        fr = truth["tmmx"][fips][4][idx]
                        above += int(np.sum((fr >= mvf["tmmx"]) & (fr < 0.95)))
                        below += int(np.sum((fr < mvf["tmmx"]) & (fr > 0.05)))
            check(above > 0 and below > 0, "%s: partial valid fractions above (%d) and below (%d) min_valid_fraction"
                  % (cal, above, below))
            for sid in sites:
                s = data.get(sid)
                if s is None:
                    check(False, "%s: site %s missing" % (cal, sid))
                    continue
                for name, (v, stat) in feats.items():
                    if stat:
                        continue
                    a, b = conv[v]
                    want = sitev[v][sid][idx] * a + b
                    compare(s[name], want, 1e-6 * mag[v] * abs(a) + 1e-6 * np.nanmax(np.abs(want)), "%s %s %s" % (cal, sid, name))
            if cal == "standard":
                dec31 = days.index(dt.date(2004, 12, 31))
                check(all(np.isnan(data[k]["DM_TMAX"][dec31]) for k in data), "standard: Daymet Dec 31 2004 missing everywhere")
                check(all(not np.isnan(data[k]["TMAX_AIR"][dec31]) for k in data if ":" in k and
                          truth["tmmx"][k.split(":")[0]][4][dec31] >= mvf["tmmx"]), "standard: gridMET Dec 31 2004 present")
    finally:
        if failed == 0 and not os.environ.get("AF_KEEP") and sys.exc_info()[0] is None:
            shutil.rmtree(tree, ignore_errors=True)
        else:
            print("kept", tree)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


sys.exit(main())
