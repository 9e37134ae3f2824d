# SPDX-License-Identifier: MIT
"""Independent recomputation of the synth gridded weather (docs/formats.md, "Synth gridded weather")
and of its county and site values: the documented field per (global cell, day, variable) with its
nodata holes; county weights from OGR polygon intersections with every cell times the cell area
(ellipsoidal for the geographic gridMET grid by Gauss-Legendre integration, planar for Daymet LCC);
means over valid cells with renormalised weights, missing below min_valid_fraction; sites bilinear
or nearest from cell centres. Written from the documentation, not from the C code.
Functions that validate a file take `check(cond, what)`."""
import datetime as dt
import math
import os

import netCDF4
import numpy as np
from osgeo import gdal, ogr, osr

gdal.UseExceptions()

# gridMET file var: (NetCDF name, vnum, scale, offset, raw base, raw step)
GM = {
    "tmmx": ("air_temperature", 1, 0.1, 220.0, 600, 1),
    "tmmn": ("air_temperature", 2, 0.1, 220.0, 450, 1),
    "pr": ("precipitation_amount", 3, 0.1, 0.0, 0, 1),
    "srad": ("surface_downwelling_shortwave_flux_in_air", 4, 0.1, 0.0, 1000, 10),
}
# Daymet var: (vnum, base, step)
DM = {"tmax": (1, 10.0, 0.125), "tmin": (2, -5.0, 0.125), "prcp": (3, 0.0, 0.0625), "srad": (4, 100.0, 1.0),
      "dayl": (6, 30000.0, 64.0)}  # dayl s: docs/formats.md ("dayl s (6, 30000, 64)")
GM_LON0, GM_LAT0, GM_D = -124.7666666333333, 49.4, 1.0 / 24.0
DM_X0, DM_Y0 = -4560750.0, 4985000.0


def _nocheck(cond, what):
    return cond


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

    def __init__(self, path, var, kind, check=_nocheck):
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
            s = float(x[1] - x[0])
            self.gi = np.rint((x - s / 2 - DM_X0) / s).astype(int)
            self.gj = np.rint((DM_Y0 - y - s / 2) / s).astype(int)
            self.x0, self.ytop, self.dx = x[0] - s / 2, y[0] + s / 2, s
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


def gm_values(g, fvar, year, raw_file=None, check=_nocheck):
    _, vnum, scale, offset, rbase, rstep = GM[fvar]
    nd = 366 if year % 4 == 0 else 365
    out = np.empty((nd, g.ny, g.nx))
    for d in range(nd):
        h = holes(g.GI, g.GJ, d + 1, g.nx, g.ny)
        raw = np.where(h, 32767, rbase + rstep * k_value(g.GI, g.GJ, d + 1, vnum))
        if raw_file is not None:
            check(np.array_equal(raw, raw_file[d]), "%s %d day %d: file = documented raw values" % (fvar, year, d + 1))
        out[d] = np.where(h, np.nan, raw * scale + offset)
    return out


def dm_values(g, var, year, file_vals=None, check=_nocheck):
    vnum, base, step = DM[var]
    out = np.empty((365, g.ny, g.nx))
    for d in range(365):
        h = holes(g.GI, g.GJ, d + 1, g.nx, g.ny)
        out[d] = np.where(h, np.nan, base + step * k_value(g.GI, g.GJ, d + 1, vnum))
        if file_vals is not None:
            fv = np.where(h, -9999.0, out[d])
            check(np.array_equal(fv, file_vals[d].astype(float)), "%s %d day %d: file = documented values" % (var, year, d + 1))
    return out


def load(tree, kind, var, years, check=_nocheck):
    """({date: 2-D field} of one variable over the years, its Grid); tree is the folder of the files."""
    vals, g = {}, None
    for y in years:
        if kind == "gridmet":
            p = os.path.join(tree, "%s_%d.nc" % (var, y))
            g = g or Grid(p, GM[var][0], kind, check)
            ds = netCDF4.Dataset(p)
            v = ds[GM[var][0]]
            v.set_auto_maskandscale(False)
            check(abs(v.scale_factor - GM[var][2]) < 1e-12 and v.add_offset == GM[var][3] and v._FillValue == 32767
                  and v.dtype == np.uint16, "%s packing attributes" % var)
            arr = gm_values(g, var, y, v[:], check)
        else:
            p = os.path.join(tree, "daymet_v4_daily_na_%s_%d.nc" % (var, y))
            g = g or Grid(p, var, kind, check)
            ds = netCDF4.Dataset(p)
            v = ds[var]
            v.set_auto_maskandscale(False)
            check(v._FillValue == -9999 and v.dtype == np.float32, "%s fill and type" % var)
            arr = dm_values(g, var, y, v[:], check)
        ds.close()
        for d in range(arr.shape[0]):
            vals[dt.date(y, 1, 1) + dt.timedelta(days=d)] = arr[d]
    return g, vals


def county_weights(g, counties):
    """Per county (FIPS -> NAD83 polygon): dense weights [ny, nx] (fraction x cell area), inside share."""
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
    """{fips: (mean, min, max, std, valid fraction) arrays over days} (NaN where no valid cell).
    Only a county's covered cells (weight > 0) enter its sums, min and max."""
    res = {}
    X = np.stack([vals[d] if d in vals else np.full_like(next(iter(vals.values())), np.nan) for d in days])
    X = X.reshape(len(days), -1)  # day x cell
    V = ~np.isnan(X)
    for fips, (w, inside) in weights.items():
        cov = w.ravel() > 0
        wc = w.ravel()[cov]
        Xc, Vc = X[:, cov], V[:, cov]
        sw = Vc.astype(float) @ wc
        swx = np.where(Vc, Xc, 0.0) @ wc
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = swx / sw
            dev = np.where(Vc, Xc - mean[:, None], 0.0)
            std = np.sqrt((dev * dev) @ wc / sw)
        sel = np.where(Vc, Xc, np.nan)
        if sel.shape[1]:
            mn, mx = np.fmin.reduce(sel, axis=1), np.fmax.reduce(sel, axis=1)  # NaN only where all are
        else:
            mn = mx = np.full(len(days), np.nan)
        res[fips] = (mean, mn, mx, std, sw / w.sum() * inside)
    return res


def site_truth(g, vals, days, sites, method):
    """{site: values over days}; sites: {id: (lat, lon)} in EPSG:4326."""
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


def county_polygons(tree):
    """{GEOID: NAD83 polygon} of tree/counties.geojson."""
    out = {}
    ds = ogr.Open(os.path.join(tree, "counties.geojson"))
    for f in ds.GetLayer(0):
        out[f.GetField("GEOID")] = f.GetGeometryRef().Clone()
    return out
