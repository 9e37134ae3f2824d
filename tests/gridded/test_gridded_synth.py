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
#   - a copy of tmmx with the lat axis ascending (south-up rows) gives the same values.
# Agreement: 1e-6 relative to the field's magnitude (the source reads values as float32),
# valid fractions to 1e-6. Prints "N passed, N failed".
import datetime as dt
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
GM = {  # file var: (NetCDF name, vnum, scale, offset, rbase, rstep)
    "tmmx": ("air_temperature", 1, 0.1, 220.0, 600, 1),
    "pr": ("precipitation_amount", 3, 0.1, 0.0, 0, 1),
    "srad": ("surface_downwelling_shortwave_flux_in_air", 4, 0.1, 0.0, 1000, 10),
}
DM = {"tmax": (1, 10.0, 0.125), "prcp": (3, 0.0, 0.0625)}  # vnum, base, step
GM_LON0, GM_LAT0, GM_D = -124.7666666333333, 49.4, 1.0 / 24.0
DM_X0, DM_Y0, DM_S = -4560750.0, 4985000.0, 5000.0


def k_value(gi, gj, doy, vnum):
    return (7 * gi + 13 * gj + 3 * doy + 5 * vnum) % 200


def holes(gi, gj, doy, nx, ny):
    """gi, gj: 2-D global indices; the NW quarter on doy mod 50 == 25."""
    h = (3 * gi + 5 * gj + doy) % 97 == 0
    if doy % 50 == 25:
        r, c = np.indices(gi.shape)
        h = h | ((c < nx // 2) & (r < ny // 2))
    return h


class Grid:
    """Cell edges, global indices, CRS of one synthetic file."""

    def __init__(self, path, var, kind):
        ds = netCDF4.Dataset(path)
        self.kind = kind
        if kind == "gridmet":
            lon, lat = ds["lon"][:].data, ds["lat"][:].data
            self.gi = np.rint((lon - GM_LON0) / GM_D).astype(int)
            self.gj = np.rint((GM_LAT0 - lat) / GM_D).astype(int)
            check(np.allclose(lon, GM_LON0 + self.gi * GM_D, atol=1e-9) and np.all(np.diff(lat) < 0),
                  "gridMET lon/lat on the lattice, lat north to south")
            self.x0, self.ytop, self.dx = lon[0] - GM_D / 2, lat[0] + GM_D / 2, GM_D
            check(ds["day"].units == "days since 1900-01-01 00:00:00", "gridMET day units")
            check(ds[var].grid_mapping == "crs" and ds["crs"].grid_mapping_name == "latitude_longitude", "gridMET crs")
        else:
            x, y = ds["x"][:].data.astype(float), ds["y"][:].data.astype(float)
            self.gi = np.rint((x - DM_S / 2 - DM_X0) / DM_S).astype(int)
            self.gj = np.rint((DM_Y0 - y - DM_S / 2) / DM_S).astype(int)
            self.x0, self.ytop, self.dx = x[0] - DM_S / 2, y[0] + DM_S / 2, DM_S
            gm = ds["lambert_conformal_conic"]
            check(list(gm.standard_parallel) == [25, 60] and gm.longitude_of_central_meridian == -100
                  and gm.latitude_of_projection_origin == 42.5, "Daymet LCC parameters")
            check(ds["time"].units == "days since 1950-01-01 00:00:00" and len(ds["time"]) == 365, "Daymet time")
        self.nx, self.ny = len(self.gi), len(self.gj)
        ds.close()
        self.GI, self.GJ = np.meshgrid(self.gi, self.gj)
        sub = "NETCDF:\"%s\":%s" % (path, var)
        self.srs = gdal.Open(sub).GetSpatialRef().Clone()
        self.srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)

    def cell_area(self, r):
        if self.kind != "gridmet":
            return self.dx * self.dx
        a, f = 6378137.0, 1 / 298.257223563
        e2 = f * (2 - f)
        lat1 = math.radians(self.ytop - (r + 1) * self.dx)
        lat2 = math.radians(self.ytop - r * self.dx)
        xs, ws = np.polynomial.legendre.leggauss(12)
        phi = (lat2 - lat1) / 2 * xs + (lat2 + lat1) / 2
        s2 = np.sin(phi) ** 2
        m = a * (1 - e2) / (1 - e2 * s2) ** 1.5
        n = a / np.sqrt(1 - e2 * s2)
        return float(np.sum(ws * m * n * np.cos(phi)) * (lat2 - lat1) / 2 * math.radians(self.dx))


def gm_values(g, fvar, year, raw_file):
    name, vnum, scale, offset, rbase, rstep = GM[fvar]
    nd = 366 if year % 4 == 0 else 365
    out = np.empty((nd, g.ny, g.nx))
    for d in range(nd):
        h = holes(g.GI, g.GJ, d + 1, g.nx, g.ny)
        raw = np.where(h, 32767, rbase + rstep * k_value(g.GI, g.GJ, d + 1, vnum))
        if raw_file is not None:
            check(np.array_equal(raw, raw_file[d]), "%s %d day %d: file = documented raw values" % (fvar, year, d + 1))
        out[d] = np.where(h, np.nan, raw * scale + offset)
    return out


def dm_values(g, var, year, file_vals):
    vnum, base, step = DM[var]
    out = np.empty((365, g.ny, g.nx))
    for d in range(365):
        h = holes(g.GI, g.GJ, d + 1, g.nx, g.ny)
        out[d] = np.where(h, np.nan, base + step * k_value(g.GI, g.GJ, d + 1, vnum))
        fv = np.where(h, -9999.0, out[d])
        check(np.array_equal(fv, file_vals[d].astype(float)), "%s %d day %d: file = documented values" % (var, year, d + 1))
    return out


def load(tree, kind, var, years):
    """{date: 2-D field} of one variable over the years, and its grid."""
    vals = {}
    g = None
    for y in years:
        if kind == "gridmet":
            p = os.path.join(tree, "%s_%d.nc" % (var, y))
            g = g or Grid(p, GM[var][0], kind)
            ds = netCDF4.Dataset(p)
            v = ds[GM[var][0]]
            v.set_auto_maskandscale(False)
            check(abs(v.scale_factor - GM[var][2]) < 1e-12 and v.add_offset == GM[var][3] and v._FillValue == 32767
                  and v.dtype == np.uint16, "%s packing attributes" % var)
            arr = gm_values(g, var, y, v[:])
        else:
            p = os.path.join(tree, "daymet_v4_daily_na_%s_%d.nc" % (var, y))
            g = g or Grid(p, var, kind)
            ds = netCDF4.Dataset(p)
            v = ds[var]
            v.set_auto_maskandscale(False)
            check(v._FillValue == -9999 and v.dtype == np.float32, "%s fill and type" % var)
            arr = dm_values(g, var, y, v[:])
        ds.close()
        for d in range(arr.shape[0]):
            vals[dt.date(y, 1, 1) + dt.timedelta(days=d)] = arr[d]
    return g, vals


# ---------------------------------------------------------------- coverage weights
def county_weights(g, counties):
    """Per county: dense weight array [ny, nx] (fraction x cell area) and the inside share."""
    src = osr.SpatialReference()
    src.ImportFromEPSG(4269)
    src.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = osr.CoordinateTransformation(src, g.srs)
    ext = ogr.CreateGeometryFromWkt("POLYGON((%r %r,%r %r,%r %r,%r %r,%r %r))" % (
        g.x0, g.ytop, g.x0 + g.nx * g.dx, g.ytop, g.x0 + g.nx * g.dx, g.ytop - g.ny * g.dx,
        g.x0, g.ytop - g.ny * g.dx, g.x0, g.ytop))
    out = {}
    for fips, geom in counties.items():
        p = geom.Clone()
        p.Transform(ct)
        w = np.zeros((g.ny, g.nx))
        xmin, xmax, ymin, ymax = p.GetEnvelope()
        c0, c1 = max(0, int((xmin - g.x0) // g.dx)), min(g.nx - 1, int((xmax - g.x0) // g.dx))
        r0, r1 = max(0, int((g.ytop - ymax) // g.dx)), min(g.ny - 1, int((g.ytop - ymin) // g.dx))
        for r in range(r0, r1 + 1):
            area = g.cell_area(r)
            for c in range(c0, c1 + 1):
                x, y = g.x0 + c * g.dx, g.ytop - r * g.dx
                cell = ogr.CreateGeometryFromWkt("POLYGON((%r %r,%r %r,%r %r,%r %r,%r %r))" % (
                    x, y, x + g.dx, y, x + g.dx, y - g.dx, x, y - g.dx, x, y))
                frac = p.Intersection(cell).GetArea() / (g.dx * g.dx)
                if frac > 1e-12:
                    w[r, c] = min(frac, 1.0) * area
        out[fips] = (w, p.Intersection(ext).GetArea() / p.GetArea())
    return out


def county_truth(weights, vals, days):
    """{fips: (mean, min, max, std, frac) arrays over days} (NaN where no valid cell)."""
    res = {}
    X = np.stack([vals[d] if d in vals else np.full_like(next(iter(vals.values())), np.nan) for d in days])
    V = ~np.isnan(X)
    X0 = np.where(V, X, 0.0)
    for fips, (w, inside) in weights.items():
        sw = np.einsum("dij,ij->d", V.astype(float), w)
        swx = np.einsum("dij,ij->d", X0, w)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = swx / sw
            dev = np.where(V, X - mean[:, None, None], 0.0)
            std = np.sqrt(np.einsum("dij,ij->d", dev * dev, w) / sw)
            cov = w > 0
            sel = np.where(V[:, cov], X[:, cov], np.nan)
            mn = np.array([np.nan if np.all(np.isnan(s)) else np.nanmin(s) for s in sel])
            mx = np.array([np.nan if np.all(np.isnan(s)) else np.nanmax(s) for s in sel])
        res[fips] = (mean, mn, mx, std, sw / w.sum() * inside)
    return res


def site_truth(g, vals, days, sites, method):
    src = osr.SpatialReference()
    src.ImportFromEPSG(4326)
    src.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = osr.CoordinateTransformation(src, g.srs)
    out = {}
    for sid, (lat, lon) in sites.items():
        x, y, _ = ct.TransformPoint(lon, lat)
        fc, fr = (x - g.x0) / g.dx, (g.ytop - y) / g.dx
        s = []
        for d in days:
            f = vals.get(d)
            if f is None:
                s.append(np.nan)
            elif method == "nearest":
                s.append(f[int(math.floor(fr)), int(math.floor(fc))])
            else:
                c0, r0 = math.floor(fc - 0.5), math.floor(fr - 0.5)
                tx, ty = fc - 0.5 - c0, fr - 0.5 - r0
                sw = swx = 0.0
                for dr, wy in ((0, 1 - ty), (1, ty)):
                    for dc, wx in ((0, 1 - tx), (1, tx)):
                        v = f[r0 + dr, c0 + dc]
                        if wx * wy > 0 and not np.isnan(v):
                            sw += wx * wy
                            swx += wx * wy * v
                s.append(swx / sw if sw > 0 else np.nan)
        out[sid] = np.array(s)
    return out


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
            + feature("target", "T_TMAX", tm, "air_temperature", "K", "degC", gm)
            + feature("target", "T_DM_TMAX", dmx, "tmax", "degC", "degC", dm))
    with open(os.path.join(tree, "%s.ini" % calendar), "w") as f:
        f.write(text)


def read_shards(out):
    data = {}
    for p in sorted(glob.glob(os.path.join(out, "shard-*.nc"))):
        ds = netCDF4.Dataset(p)
        ids = [s.strip() for s in netCDF4.chartostring(ds["sample_id"][:])]
        names = [s.strip() for s in netCDF4.chartostring(ds["input_name"][:])]
        tnames = [s.strip() for s in netCDF4.chartostring(ds["target_name"][:])]
        t = [dt.date(1970, 1, 1) + dt.timedelta(days=int(v)) for v in ds["time"][:]]
        x, y, qc = ds["x"][:].filled(np.nan), ds["y"][:].filled(np.nan), ds["y_qc"][:].filled(np.nan)
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
        fields.update({v: load(tree, "daymet", v, years) for v in DM})
        wts = {v: county_weights(fields[v][0], counties) for v in ("tmmx", "tmax")}
        wts["pr"] = wts["srad"] = wts["tmmx"]
        wts["prcp"] = wts["tmax"]
        for v in ("tmmx", "tmax"):
            check(all(abs(ins - 1) < 1e-9 for _, ins in wts[v].values()), "%s grid covers every county" % v)
        std_days = axis("standard")
        truth = {v: county_truth(wts[v], fields[v][1], std_days) for v in fields}
        hole_days = [i for i, d in enumerate(std_days) if d.timetuple().tm_yday % 50 == 25]
        mvf = {v: threshold_between([truth[v][f][4][i] for f in counties for i in hole_days]) for v in ("tmmx", "tmax")}
        sitev = {v: site_truth(fields[v][0], fields[v][1], std_days, sites,
                               "nearest" if v == "tmax" else "bilinear") for v in fields}
        mag = {"tmmx": 300.0, "pr": 20.0, "srad": 300.0, "tmax": 35.0, "prcp": 12.5}
        conv = {"tmmx": (1, -273.15), "pr": (1, 0), "srad": (0.0864, 0), "tmax": (1, 0), "prcp": (1, 0)}
        feats = {"TMAX_AIR": ("tmmx", 0), "TMAX_MIN": ("tmmx", 1), "TMAX_MAX": ("tmmx", 2), "TMAX_STD": ("tmmx", 3),
                 "TMAX_SU": ("tmmx", 0),
                 "PRECN": ("pr", 0), "RADN": ("srad", 0), "DM_TMAX": ("tmax", 0), "DM_PRCP": ("prcp", 0),
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
