# SPDX-License-Identifier: MIT
"""Read agroflux output directories (docs/training.md).

    import agroflux
    ds = agroflux.open_dataset("output/")            # one lazy xarray.Dataset over all shards
    out = agroflux.Output("output/")                 # numpy reader: splits, scalers, iterate()
    from agroflux.torch import SampleDataset          # a PyTorch Dataset (needs torch)

numpy and netCDF4 are required; xarray (with dask) only for open_dataset, torch only for
agroflux.torch.
"""
from .reader import Output
from .shards import names, stacked

__all__ = ["Output", "open_dataset", "names", "stacked"]
__version__ = "0.1.0"


def open_dataset(outdir, **kwargs):
    """One lazily loaded xarray.Dataset over every shard of outdir (see agroflux.xr.open_dataset)."""
    from .xr import open_dataset as _open
    return _open(outdir, **kwargs)
