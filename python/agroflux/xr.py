# SPDX-License-Identifier: MIT
"""agroflux.open_dataset: every shard of an output directory as one lazy xarray.Dataset.

The shards are CF-1.8 timeSeries files that `xarray.open_mfdataset` combines without options
(the `sample` coordinate is the global sample index, increasing over the shards). This adds
what index.json knows: shards in index order (never a glob), sample ids as the `sample` index
(so `ds.sel(sample="19001:N000")` works; the global index stays as `sample_index`), and the
index's pipeline, calendar and split metadata as attributes. Needs xarray with dask.
"""
import json
import os

__all__ = ["open_dataset"]


def open_dataset(outdir, by_id=True, chunks=None, **kwargs):
    """One lazily loaded xarray.Dataset over all shards of outdir (a directory with index.json).

    by_id: index `sample` by sample id (default) instead of the global sample index.
    chunks: passed to xarray.open_mfdataset (default: one dask chunk per shard and variable).
    Other keyword arguments go to xarray.open_mfdataset."""
    import xarray as xr

    with open(os.path.join(outdir, "index.json")) as fp:
        index = json.load(fp)
    paths = [os.path.join(outdir, s["path"]) for s in index["shards"]]
    if not paths:
        raise ValueError("%s: index.json lists no shards" % outdir)
    kwargs.setdefault("combine", "by_coords")
    ds = xr.open_mfdataset(paths, chunks=chunks if chunks is not None else {}, **kwargs)
    if by_id and "sample_id" in ds.coords:
        ids = [s["id"] for s in index["samples"]]
        ds = ds.assign_coords(sample_index=("sample", ds["sample"].values), sample=("sample", ids))
    attrs = dict(ds.attrs)
    for k in ("shard_index", "sample_start", "sample_count"):
        attrs.pop(k, None)
    attrs["agroflux_pipeline"] = index["pipeline"]["name"]
    attrs["agroflux_calendar"] = index["calendar"]["policy"]
    attrs["agroflux_outdir"] = os.path.abspath(outdir)
    ds.attrs = attrs
    return ds
