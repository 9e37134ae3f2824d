# SPDX-License-Identifier: MIT
"""Low-level access to one agroflux shard opened with netCDF4 (docs/formats.md, "Shards").

A shard is a CF-1.8 timeSeries file: one variable NAME(time, sample) per input and target,
x_qc(time, sample, input), y_qc and y_valid(time, sample, target), and string coordinates
`sample`, `input`, `target`. `stacked(ds)` gives the arrays the way training code wants them:
per sample first, features last.
"""
import numpy as np

__all__ = ["names", "stacked"]


def names(ds, var):
    """The strings of a char coordinate variable (`sample`, `input`, `target`, ...); [] if absent."""
    if var not in ds.variables:
        return []
    v = ds[var]
    v.set_auto_chartostring(True)
    vals = v[:]
    out = []
    for r in np.ma.filled(vals, "" if vals.dtype.kind == "U" else b""):
        if isinstance(r, bytes):
            r = r.decode()
        elif isinstance(r, np.ndarray):  # no _Encoding: rows of single characters
            r = b"".join(c if isinstance(c, bytes) else c.encode() for c in r).decode()
        out.append(str(r).rstrip("\0").strip())
    return out


def _stack(parts):
    if any(isinstance(p, np.ma.MaskedArray) for p in parts):
        return np.ma.stack(parts, axis=-1)
    return np.stack(parts, axis=-1)


def _role(ds, role, rows):
    vnames = names(ds, role)
    if not vnames:
        return None
    arr = _stack([ds[n][:, rows] if rows is not None else ds[n][:] for n in vnames])  # (time, sample, n)
    return arr if arr.ndim == 2 else arr.transpose(1, 0, 2)


def _quality(ds, var, rows):
    if var not in ds.variables:
        return None
    v = ds[var][:, rows, :] if rows is not None else ds[var][:]
    return v if v.ndim == 2 else v.transpose(1, 0, 2)


def stacked(ds, rows=None):
    """{x, x_qc, y, y_valid, y_qc}: arrays (sample, time, feature) in input/target order, None when
    the shard has no inputs (targets). rows: a slice or index array of samples (default all), or
    one row number, which gives (time, feature) arrays.
    Masked arrays when ds has auto-masking on (netCDF4's default), plain ones otherwise."""
    return {"x": _role(ds, "input", rows), "x_qc": _quality(ds, "x_qc", rows),
            "y": _role(ds, "target", rows), "y_valid": _quality(ds, "y_valid", rows),
            "y_qc": _quality(ds, "y_qc", rows)}
