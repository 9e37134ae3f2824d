# SPDX-License-Identifier: MIT
"""Independent recomputation of the synth soil and CDL values (src/synth/synth_soil.h,
docs/formats.md): tile-wise constant rasters in EPSG:5070; a county mean is the area-weighted mean
of the tile values over the OGR intersections of the county polygon with the tile rectangles
(nodata tiles dropped, weights renormalised), depth-weighted over the layers; sites by hand
(nearest / bilinear from the cell centres). Written from the documentation, not from the C code."""
import math

import numpy as np
from osgeo import gdal, ogr, osr

gdal.UseExceptions()

LAYERS = ["0-5", "5-15", "15-30"]
# depth weights of the 3 layers for a profile
DEPTH_W = {"0-30": [5 / 30, 10 / 30, 15 / 30], "0-15": [5 / 15, 10 / 15, 0], "5-30": [0, 10 / 25, 15 / 25]}


def _nocheck(cond, what):
    return cond


def srs(epsg):
    s = osr.SpatialReference()
    s.ImportFromEPSG(epsg)
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return s


def counties_5070(polygons):
    """{fips: NAD83 polygon} -> {fips: polygon in EPSG:5070}."""
    ct = osr.CoordinateTransformation(srs(4269), srs(5070))
    out = {}
    for k, g in polygons.items():
        g = g.Clone()
        g.Transform(ct)
        out[k] = g
    return out


def site_value(arr, nd, gt, x, y, method, log=False):
    u, v = (x - gt[0]) / gt[1], (gt[3] - y) / -gt[5]
    a = np.where(arr == nd, np.nan, arr)
    if log:
        a = 10.0 ** a.astype(np.float32).astype(float)
    if method == "nearest":
        return float(a[int(math.floor(v)), int(math.floor(u))])
    u, v = u - 0.5, v - 0.5
    c0, r0 = int(math.floor(u)), int(math.floor(v))
    fu, fv = u - c0, v - r0
    sw = sx = 0.0
    for (r, c, w) in ((r0, c0, (1 - fu) * (1 - fv)), (r0, c0 + 1, fu * (1 - fv)),
                      (r0 + 1, c0, (1 - fu) * fv), (r0 + 1, c0 + 1, fu * fv)):
        if w > 0 and not math.isnan(a[r, c]):
            sw += w
            sx += w * a[r, c]
    return sx / sw if sw > 0 else float("nan")


class Tiles:
    """Tile rectangles of the synth grid and each county's area in each tile."""

    def __init__(self, path, counties, tile, check=_nocheck):
        self.tile, self.check = tile, check
        ds = gdal.Open(path)
        self.gt = gt = ds.GetGeoTransform()
        self.nx, self.ny = ds.RasterXSize, ds.RasterYSize
        T = tile
        self.ntx, self.nty = -(-self.nx // T), -(-self.ny // T)
        self.parts = {}
        for fips, g in counties.items():
            env = g.GetEnvelope()
            lst = []
            for tj in range(self.nty):
                ya = gt[3] + tj * T * gt[5]
                yb = gt[3] + min((tj + 1) * T, self.ny) * gt[5]
                if yb > env[3] or ya < env[2]:
                    continue
                for ti in range(self.ntx):
                    xa = gt[0] + ti * T * gt[1]
                    xb = gt[0] + min((ti + 1) * T, self.nx) * gt[1]
                    if xa > env[1] or xb < env[0]:
                        continue
                    rect = ogr.CreateGeometryFromWkt(f"POLYGON(({xa} {ya},{xb} {ya},{xb} {yb},{xa} {yb},{xa} {ya}))")
                    a = g.Intersection(rect).GetArea()
                    if a > 0:
                        lst.append((ti, tj, a))
            self.parts[fips] = lst

    def values(self, path):
        """Tile values (NaN = nodata), the raster and its nodata; checks that every tile is constant."""
        T = self.tile
        ds = gdal.Open(path)
        b = ds.GetRasterBand(1)
        arr = b.ReadAsArray().astype(float)
        nd = b.GetNoDataValue()
        v = np.full((self.nty, self.ntx), np.nan)
        const = True
        for tj in range(self.nty):
            for ti in range(self.ntx):
                blk = arr[tj * T:(tj + 1) * T, ti * T:(ti + 1) * T]
                const &= bool(blk.min() == blk.max())
                v[tj, ti] = np.nan if blk[0, 0] == nd else blk[0, 0]
        self.check(const, f"{path}: tiles are constant")
        return v, arr, nd


def layer_mean(tiles, fips, vals, weights=None, log=False, min_valid=0.0, share=None):
    sw = sx = sall = 0.0
    for (ti, tj, a) in tiles.parts[fips]:
        x = vals[tj, ti]
        w = a * (1.0 if weights is None else weights[tj, ti])
        sall += w
        if math.isnan(x):
            continue
        sw += w
        sx += w * (10.0 ** x if log else x)
    if share is not None:
        share.append(sw / sall)
    return sx / sw if sw > 0 and sw / sall >= min_valid else float("nan")


def profile(means, depth_w):
    sw = sx = 0.0
    for m, w in zip(means, depth_w):
        if w > 0 and not math.isnan(m):
            sw += w
            sx += w * m
    return sx / sw if sw > 0 else float("nan")
