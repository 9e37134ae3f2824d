# SPDX-License-Identifier: MIT
"""Read an agroflux output directory for training (numpy + netCDF4 only).

    import agroflux
    out = agroflux.Output("output/")
    for sid, x, y, mask in out.iterate("temporal", "train", scaled=True):
        ...   # x (days, n_inputs), y (days, n_targets), mask (days, n_targets) bool, float32

Splits and scalers come from index.json "extra" (docs/formats.md): split "temporal" (parts are
year ranges of the axis over the samples it covers), "spatial" (fold f: validation counties in
fold f, test counties in fold (f+1) mod k, the rest train; all days) and "loso" (fold f:
validation site f, test site (f+1) mod n, the other sites train; all days). Scaled values are
(v - mean) / std with the training-part scalers of that split and fold (std 0 scales by 1, as
the AgroFlux export does); missing values stay NaN and mask is False there.
"""
import datetime as _dt
import json
import os

import netCDF4
import numpy as np

from .shards import stacked

__all__ = ["Output"]


def _is_leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


class Output:
    """One finished agroflux output (a directory with index.json)."""

    def __init__(self, outdir):
        self.outdir = outdir
        with open(os.path.join(outdir, "index.json")) as fp:
            self.index = json.load(fp)
        self.inputs = [v["name"] for v in self.index["inputs"]]
        self.targets = [v["name"] for v in self.index["targets"]]
        self.samples = self.index["samples"]
        self.extra = self.index.get("extra", {})
        self.dates = self._axis()
        self._open = {}
        self._cached_k, self._cached = None, None

    def _axis(self):
        cal = self.index["calendar"]
        d = _dt.date.fromisoformat(cal["start"])
        end = _dt.date.fromisoformat(cal["end"])
        out = []
        while d <= end:
            if not (cal["policy"] == "noleap" and _is_leap(d.year) and d.month == 12 and d.day == 31):
                out.append(d)
            d += _dt.timedelta(days=1)
        if len(out) != cal["ndays"]:
            raise ValueError("index.json: calendar gives %d days, ndays is %d" % (len(out), cal["ndays"]))
        return out

    # ------------------------------------------------------------------ splits
    def _split(self, split):
        s = self.extra.get("splits", {}).get(split)
        if s is None:
            raise KeyError("%s: no '%s' split in index.json (declare it in the pipeline's [splits])"
                           % (self.outdir, split))
        return s

    def part_samples(self, split, part, fold=0):
        """Global sample indices of a part ('train', 'val', 'test') of a split and fold."""
        if part not in ("train", "val", "test"):
            raise ValueError("part must be train, val or test, not %r" % (part,))
        s = self._split(split)
        if split == "temporal":
            want = {"counties": ("county",), "sites": ("site",), "all": ("county", "site")}[s["samples"]]
            return [i for i, m in enumerate(self.samples) if m["kind"] in want]
        if split == "spatial":
            k = s["folds"]
            if not 0 <= fold < k:
                raise ValueError("spatial fold %d outside 0..%d" % (fold, k - 1))
            fold_of = dict(zip(s["counties"], s["county_fold"]))
            pick = {"val": lambda f: f == fold, "test": lambda f: f == (fold + 1) % k,
                    "train": lambda f: f not in (fold, (fold + 1) % k)}[part]
            return [i for i, m in enumerate(self.samples) if m["kind"] == "county" and pick(fold_of[m["fips"]])]
        if split == "loso":
            sites, n = s["sites"], s["folds"]
            if not 0 <= fold < n:
                raise ValueError("loso fold %d outside 0..%d" % (fold, n - 1))
            val, test = sites[fold], sites[(fold + 1) % n]
            pick = {"val": lambda sid: sid == val, "test": lambda sid: sid == test,
                    "train": lambda sid: sid not in (val, test)}[part]
            return [i for i, m in enumerate(self.samples) if m["kind"] == "site" and pick(m["id"])]
        raise ValueError("unknown split %r (temporal, spatial, loso)" % (split,))

    def part_days(self, split, part):
        """Boolean mask over the daily axis: the years of a temporal part, else every day."""
        if split != "temporal":
            return np.ones(len(self.dates), dtype=bool)
        y0, y1 = self._split("temporal")[part]
        return np.array([y0 <= d.year <= y1 for d in self.dates], dtype=bool)

    def scalers(self, split, fold=0):
        """(x_mean, x_std, y_mean, y_std) float64 arrays of the training part; NaN where it had no data."""
        sc = self.extra.get("scalers", {}).get(split)
        if sc is None:
            raise KeyError("%s: no '%s' scalers in index.json" % (self.outdir, split))
        if isinstance(sc, list):
            sc = sc[fold]

        def arr(block, key):
            return np.array([np.nan if v is None else v for v in block[key]], dtype=np.float64)

        return (arr(sc["inputs"], "mean"), arr(sc["inputs"], "std"),
                arr(sc["targets"], "mean"), arr(sc["targets"], "std"))

    # ------------------------------------------------------------------ data
    def _dataset(self, k):
        if k not in self._open:
            ds = netCDF4.Dataset(os.path.join(self.outdir, self.index["shards"][k]["path"]))
            ds.set_auto_mask(False)  # NaN stays NaN (the fill value), no masked arrays
            self._open[k] = ds
        return self._open[k]

    def _shard_arrays(self, k):
        """stacked() of the whole shard k, kept until another shard is asked for. iterate() uses it:
        it visits samples shard by shard, and whole (time, sample) variables read far faster than
        one column at a time."""
        if self._cached_k != k:
            self._cached = None  # free the previous shard first
            self._cached = stacked(self._dataset(k))
            self._cached_k = k
        return self._cached

    def read(self, i, whole_shard=False):
        """x (days, n_inputs), y (days, n_targets) float32 with NaN where missing, mask (days, n_targets) bool.

        Reads only sample i's columns (good for random access, e.g. a shuffled DataLoader), unless
        its shard is the one cached by whole_shard=True (good for reading samples in order)."""
        m = self.samples[i]
        r, nd = m["row"], len(self.dates)
        if whole_shard or self._cached_k == m["shard"]:
            a = self._shard_arrays(m["shard"])
        else:
            a, r = stacked(self._dataset(m["shard"]), rows=slice(r, r + 1)), 0
        x = np.asarray(a["x"][r], dtype=np.float32) if a["x"] is not None else np.zeros((nd, 0), np.float32)
        if a["y"] is not None:
            y = np.asarray(a["y"][r], dtype=np.float32)
            mask = np.asarray(a["y_valid"][r]) == 1
        else:
            y = np.zeros((nd, 0), np.float32)
            mask = np.zeros((nd, 0), bool)
        return x, y, mask

    @staticmethod
    def _scale(v, mean, std):
        std = np.where(std > 0, std, 1.0)
        return ((v.astype(np.float64) - mean) / std).astype(np.float32)

    def iterate(self, split, part, fold=0, scaled=False):
        """Yield (sample_id, x, y, mask) for every sample of the part, days restricted to the part."""
        idx = self.part_samples(split, part, fold)
        days = self.part_days(split, part)
        sc = self.scalers(split, fold) if scaled else None
        for i in idx:
            x, y, mask = self.read(i, whole_shard=True)
            x, y, mask = x[days], y[days], mask[days]
            if sc is not None:
                x = self._scale(x, sc[0], sc[1])
                y = self._scale(y, sc[2], sc[3])
            yield self.samples[i]["id"], x, y, mask

    def close(self):
        for ds in self._open.values():
            ds.close()
        self._open = {}
        self._cached_k, self._cached = None, None
