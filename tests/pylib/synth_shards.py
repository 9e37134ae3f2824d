# SPDX-License-Identifier: MIT
"""Read every shard of an agroflux output into per-sample arrays (numpy, netCDF4)."""
import datetime as dt
import glob
import os

import netCDF4

from shard_arrays import names, stacked


def read(outdir):
    """(dates, input names, target names, {sample id: dict(x, x_qc, y, y_valid, y_qc)})."""
    samples, dates, inames, tnames = {}, None, [], []
    for p in sorted(glob.glob(os.path.join(outdir, "shard-*.nc"))):
        ds = netCDF4.Dataset(p)
        ds.set_auto_mask(False)
        ids = names(ds, "sample_id")
        inames = names(ds, "input")
        tnames = names(ds, "target")
        dates = [dt.date(1970, 1, 1) + dt.timedelta(days=int(v)) for v in ds["time"][:]]
        a = stacked(ds)
        x, xq = a["x"].astype(float), a["x_qc"].astype(float)
        y = a["y"].astype(float) if tnames else None
        yv = a["y_valid"] if tnames else None
        yq = a["y_qc"].astype(float) if tnames else None
        for i, s in enumerate(ids):
            samples[s] = {"x": x[i], "x_qc": xq[i], "y": None if y is None else y[i],
                          "y_valid": None if yv is None else yv[i], "y_qc": None if yq is None else yq[i]}
        ds.close()
    return dates, inames, tnames, samples
