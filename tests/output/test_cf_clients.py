# SPDX-License-Identifier: MIT
"""Shards open in the clients climate and ML people use, with their defaults (issue 14):
udunits2 accepts every `units` attribute (and the units table's NetCDF column), and carbon /
nitrogen amounts are mass per area, not gram-coulomb; xarray.open_mfdataset(sorted(glob)) gives
one labelled Dataset (str labels, .sel by input name); agroflux.open_dataset the same, lazily,
indexed by sample id; gdalmdiminfo / gdalmdimtranslate, cdo and ncks read a data variable. Every
value is compared with the shard read by netCDF4 per variable, and with `agroflux inspect
--sample --csv` (the C reader) for one sample. The package installs with pip into a venv
(system site packages, no network) and the PyTorch Dataset runs when torch is present.
"""
import csv
import ctypes
import glob
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

import netCDF4
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
from af_cli import AGROFLUX, run  # noqa: E402
from checks import Checker  # noqa: E402
from shard_arrays import names, stacked  # noqa: E402

ROOT = os.environ.get("AF_SOURCE_ROOT", os.path.join(HERE, "..", ".."))
PYDIR = os.path.join(ROOT, "python")
sys.path.insert(0, PYDIR)
import agroflux  # noqa: E402

check = Checker()


class Udunits:
    """udunits2 through ctypes: parse(s) -> unit pointer or None; convertible(a, b)."""

    def __init__(self):
        lib = ctypes.CDLL("libudunits2.so.0")
        lib.ut_read_xml.restype = ctypes.c_void_p
        lib.ut_read_xml.argtypes = [ctypes.c_char_p]
        lib.ut_set_error_message_handler.argtypes = [ctypes.c_void_p]
        lib.ut_set_error_message_handler(lib.ut_ignore)
        lib.ut_parse.restype = ctypes.c_void_p
        lib.ut_parse.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        lib.ut_are_convertible.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        self.lib, self.system = lib, lib.ut_read_xml(None)
        if not self.system:
            raise RuntimeError("udunits2: cannot read the units database")

    def parse(self, s):
        return self.lib.ut_parse(self.system, s.encode(), 0) or None

    def convertible(self, a, b):
        ua, ub = self.parse(a), self.parse(b)
        return bool(ua and ub and self.lib.ut_are_convertible(ua, ub))


def make_output(work):
    r = run([AGROFLUX, "synth", os.path.join(work, "syn"), "--counties", "4", "--scenarios", "2",
             "--sites", "3", "--years", "2003-2004"])
    if r.returncode != 0:
        sys.exit("synth failed: " + r.stderr)
    out = os.path.join(work, "out")
    r = run([AGROFLUX, "-q", "run", os.path.join(work, "syn", "pipeline.ini"), "--output", out,
             "--set", "pipeline.shard_samples=4"])
    if r.returncode != 0:
        sys.exit("run failed: " + r.stderr)
    return out


def reference(out):
    """Per shard: ids, input and target names, {name: (time, sample) array} read with netCDF4."""
    shards = []
    for p in sorted(glob.glob(os.path.join(out, "shard-*.nc"))):
        with netCDF4.Dataset(p) as ds:
            ds.set_auto_mask(False)
            ins, tgs = names(ds, "input"), names(ds, "target")
            shards.append({"path": p, "ids": names(ds, "sample_id"), "inputs": ins, "targets": tgs,
                           "vars": {n: ds[n][:].copy() for n in ins + tgs},
                           "y_valid": ds["y_valid"][:].copy()})
    return shards


def check_units(out, ud):
    table = run([AGROFLUX, "keys", "--units"]).stdout
    cols = [row.split("|") for row in table.splitlines() if row.startswith("| `")]
    ncf = 0
    for c in cols:
        for cf in [s.strip() for s in c[5].split(";")]:
            u = cf.split("`")[1]
            ncf += 1
            check(ud.parse(u) is not None, "units table: NetCDF units %r of %s parse in udunits2" % (u, c[1]))
    check(ncf >= 34, "units table has a NetCDF column for every row (%d)" % ncf)
    nunits = 0
    for p in sorted(glob.glob(os.path.join(out, "shard-*.nc"))):
        with netCDF4.Dataset(p) as ds:
            for name, v in ds.variables.items():
                if "units" not in v.ncattrs():
                    check(name in ("sample_id", "fips", "scenario", "input", "target", "input_units",
                                   "input_long_name", "target_units", "target_long_name", "kind", "y_valid"),
                          "%s: data variable %s has units" % (p, name))
                    continue
                nunits += 1
                check(ud.parse(v.units) is not None, "%s: %s units %r parse in udunits2" % (p, name, v.units))
                au = getattr(v, "agroflux_units", "")
                if " C " in au or " N " in au:
                    what = "carbon" if " C " in au else "nitrogen"
                    check(ud.convertible(v.units, "kg m-2") or ud.convertible(v.units, "kg m-2 s-1"),
                          "%s: %s units %r are mass per area (not gram-coulomb/newton)" % (p, name, v.units))
                    check(what in v.long_name and what in v.comment, "%s: %s says it is %s" % (p, name, what))
    check(nunits > 40, "every shard variable with units was checked (%d)" % nunits)
    with netCDF4.Dataset(sorted(glob.glob(os.path.join(out, "shard-*.nc")))[0]) as ds:
        for name, ref in (("TMAX_AIR", "K"), ("PRECN", "m s-1"), ("GPP", "kg m-2 s-1"), ("RADN", "W m-2"),
                          ("TMAX_SOIL_1", "K"), ("Yield", "kg m-2")):
            check(ud.convertible(ds[name].units, ref), "%s units %s convertible to %s" % (name, ds[name].units, ref))
        check(ds["TMAX_AIR"].standard_name == "air_temperature" and ds["TMAX_AIR"].cell_methods == "time: maximum",
              "TMAX_AIR standard_name and cell_methods")
        check(ds["GPP"].standard_name == "gross_primary_productivity_of_biomass_expressed_as_carbon",
              "GPP standard_name")
        check(ds["PRECN"].cell_methods == "time: mean" and ds["TMIN_AIR"].cell_methods == "time: minimum",
              "cell_methods of PRECN and TMIN_AIR")
        check(ds.featureType == "timeSeries" and ds["sample_id"].cf_role == "timeseries_id", "featureType, cf_role")


def check_xarray(out, shards):
    import xarray as xr
    ds = xr.open_mfdataset(sorted(glob.glob(os.path.join(out, "shard-*.nc"))))
    ids = [i for s in shards for i in s["ids"]]
    check(ds.sizes["sample"] == len(ids) and list(ds["sample"].values) == list(range(len(ids))),
          "open_mfdataset: one sample axis over all shards, global index")
    check(all(type(v) is str for v in ds["sample_id"].values) and list(ds["sample_id"].values) == ids,
          "sample ids decode as str, in shard order")
    check(all(type(v) is str for v in ds["input"].values) and list(ds["input"].values) == shards[0]["inputs"],
          "input labels decode as str")
    check(list(ds["target"].values) == shards[0]["targets"], "target labels")
    q = ds["x_qc"].sel(input="TMAX_AIR")
    check(q.dims == ("time", "sample"), ".sel(input='TMAX_AIR') on x_qc")
    check(str(ds["input_units"].sel(input="TMAX_AIR").values) == "degC", ".sel(input=...) on input_units")
    want = np.concatenate([s["vars"]["GPP"] for s in shards], axis=1)
    got = ds["GPP"].values
    check(got.shape == want.shape and np.array_equal(np.isnan(got), np.isnan(want))
          and np.allclose(got[~np.isnan(got)], want[~np.isnan(want)], rtol=0, atol=0), "GPP values through xarray")
    check(ds["GPP"].attrs.get("units") == "g m-2 d-1", "GPP units through xarray")
    ds.close()

    a = agroflux.open_dataset(out)
    check(a["TMAX_AIR"].chunks is not None, "agroflux.open_dataset is lazy (dask)")
    check(list(a["sample"].values) == ids and list(a["sample_index"].values) == list(range(len(ids))),
          "agroflux.open_dataset: sample indexed by id, sample_index kept")
    sid = shards[-1]["ids"][-1]
    x = a["TMAX_AIR"].sel(sample=sid).values
    check(np.array_equal(x, shards[-1]["vars"]["TMAX_AIR"][:, -1], equal_nan=True), "open_dataset .sel(sample=id)")
    check(a.attrs.get("agroflux_calendar") in ("noleap", "standard") and "shard_index" not in a.attrs,
          "open_dataset attributes from the index")
    a.close()
    return sid


def check_inspect(out, shards, sid):
    """The C reader (inspect --csv) and the per-variable netCDF4 read agree for one sample."""
    r = run([AGROFLUX, "inspect", out, "--sample", sid, "--csv"])
    rows = list(csv.reader(io.StringIO(r.stdout)))
    check(r.returncode == 0 and len(rows) > 1, "inspect --csv ran")
    if r.returncode != 0 or len(rows) < 2:
        return
    head, sh = rows[0], shards[-1]
    bad = 0
    for t, row in enumerate(rows[1:]):
        for name, cell in zip(head[1:], row[1:]):
            ref = float(sh["vars"][name][t, -1])
            if (cell == "") != np.isnan(ref) or (cell != "" and abs(float(cell) - ref) > 1e-6 * max(1, abs(ref))):
                bad += 1
    check(bad == 0 and head[1:] == sh["inputs"] + sh["targets"], "inspect --csv matches the shard (%d bad)" % bad)


def check_gdal_cdo_nco(out, shards, work):
    p = shards[0]["path"]
    r = run(["gdalmdiminfo", p])
    info = json.loads(r.stdout) if r.returncode == 0 else {}
    dims = {d["name"]: d.get("indexing_variable") for d in info.get("dimensions", [])}
    check(dims.get("time") == "/time" and dims.get("sample") == "/sample" and dims.get("input") == "/input"
          and dims.get("target") == "/target", "gdalmdiminfo: indexing variables %s" % dims)
    check(info.get("arrays", {}).get("GPP", {}).get("unit") == "g m-2 d-1", "gdalmdiminfo: GPP unit")
    dst = os.path.join(work, "gdal-gpp.nc")
    r = run(["gdalmdimtranslate", "-array", "GPP", "-of", "netCDF", p, dst])
    check(r.returncode == 0, "gdalmdimtranslate -array GPP: " + r.stderr[-300:])
    if r.returncode == 0:
        with netCDF4.Dataset(dst) as g:
            g.set_auto_mask(False)
            v = g["GPP"][:]
        check(np.array_equal(v, shards[0]["vars"]["GPP"], equal_nan=True), "gdalmdimtranslate copies GPP exactly")

    r = run(["cdo", "-s", "outputtab,date,value", "-selname,TMAX_AIR", "-seltimestep,1,2", p])
    vals = [float(line.split()[1]) for line in r.stdout.splitlines() if line.strip() and not line.startswith("#")]
    want = shards[0]["vars"]["TMAX_AIR"][:2].ravel()
    check(r.returncode == 0 and len(vals) == want.size and np.allclose(vals, want, atol=1e-3),
          "cdo outputtab reads TMAX_AIR (%d values)" % len(vals))
    r = run(["cdo", "-s", "showname", p])
    check("GPP" in r.stdout.split() and "TMAX_AIR" in r.stdout.split(), "cdo sees the data variables")

    r = run(["ncks", "-H", "-C", "-v", "TMAX_AIR", "-d", "time,3", "-d", "sample,1", p])
    text = r.stdout.split("TMAX_AIR =")[-1].split(";")[0] if r.returncode == 0 else ""
    nums = [float(w.strip(",")) for w in text.split() if w.strip(",")]
    check(len(nums) == 1 and abs(nums[0] - shards[0]["vars"]["TMAX_AIR"][3, 1]) < 1e-4, "ncks reads TMAX_AIR[3,1]")


def check_pip_install(out, work):
    venv = os.path.join(work, "venv")
    r = run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", venv])
    if r.returncode != 0:
        check(False, "python3 -m venv: " + r.stderr[-300:])
        return
    build = os.path.join(work, "pysrc")
    shutil.copytree(PYDIR, build, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    r = run([os.path.join(venv, "bin", "pip"), "install", "-q", "--no-deps", "--no-build-isolation",
             "--no-index", build])
    check(r.returncode == 0, "pip install --no-deps --no-build-isolation: " + r.stderr[-500:])
    code = ("import agroflux, agroflux_reader, sys; assert 'site-packages' in agroflux.__file__, agroflux.__file__;"
            "ds = agroflux.open_dataset(sys.argv[1]); o = agroflux_reader.Output(sys.argv[1]);"
            "print(ds.sizes['sample'], len(o.samples))")
    r = run([os.path.join(venv, "bin", "python"), "-c", code, out], cwd=work)
    n = len(json.load(open(os.path.join(out, "index.json")))["samples"])
    check(r.returncode == 0 and r.stdout.split() == [str(n), str(n)],
          "installed package imports from site-packages and reads the output: " + r.stdout + r.stderr[-300:])


def check_torch(out):
    try:
        import torch
    except ImportError:
        print("torch not installed: PyTorch Dataset not tested")
        return
    from agroflux.torch import SampleDataset
    d = SampleDataset(out, "spatial", "train", fold=1, scaled=True)
    o = agroflux.Output(out)
    check(len(d) == len(o.part_samples("spatial", "train", 1)) and len(d) > 0, "SampleDataset length")
    _, x0, y0, m0 = next(o.iterate("spatial", "train", fold=1, scaled=True))
    x, y, m = d[0]
    check(np.array_equal(x.numpy(), x0, equal_nan=True) and np.array_equal(m.numpy(), m0)
          and np.array_equal(y.numpy(), y0, equal_nan=True) and x.dtype == torch.float32,
          "SampleDataset item == Output.iterate")
    batch = next(iter(torch.utils.data.DataLoader(d, batch_size=2)))
    check(tuple(batch[0].shape) == (2,) + tuple(x.shape) and batch[2].dtype == torch.bool, "DataLoader batches")


def main():
    work = tempfile.mkdtemp(prefix="af_cf_clients.")
    try:
        out = make_output(work)
        shards = reference(out)
        check(len(shards) >= 2, "several shards")
        check_units(out, Udunits())
        sid = check_xarray(out, shards)
        check_inspect(out, shards, sid)
        check_gdal_cdo_nco(out, shards, work)
        check_pip_install(out, work)
        check_torch(out)
    finally:
        if check.failed == 0 and not os.environ.get("AF_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept", work)
    print(check.summary())
    sys.exit(1 if check.failed else 0)


main()
