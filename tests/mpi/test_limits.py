# SPDX-License-Identifier: MIT
"""Limits at CONUS size: 3,000 counties x 2 scenarios (6,000 samples) x 2 years of synth gridMET on
2 ranks under `ulimit -n 256`.

Every open shard costs a rank about 2 descriptors (MPI-IO; measured: 208 on each rank with all 94
shards of shard_samples 64 open), so the 125 shards of this run (shard_samples 48) cannot all be
open in 256 descriptors on one rank: the run passes only because a rank opens just the shards
holding its samples (63) and only the gridMET files of the current block. Checks: (1) the run succeeds under the limit, (2) every rank's most open
descriptors (index provenance.open_files_max_per_rank, counted from /proc/self/fd at block
boundaries) stays below 2 x 125 and within the limit, (3) peak RSS per rank stays under 400 MiB,
(4) provenance.json lists the pipeline, the county layer and the two gridMET files once each,
(5) `verify` passes, `plan` prints a memory estimate per rank (block term recomputed here) at or
above the measured peak, (6) TMAX_AIR of six counties equals the independent exact-coverage
reference (tests/pylib/truth_weather.py, from the documented synth field) to 1e-4 degC, and
its x_qc the reference valid fraction.
"""
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import netCDF4

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from af_cli import run  # noqa: E402
from checks import Checker  # noqa: E402
import truth_weather as W  # noqa: E402
from shard_arrays import stacked  # noqa: E402

AGROFLUX = os.environ["AGROFLUX"]
check = Checker()
NX, NY = 60, 50            # 3,000 counties: a lattice of rectangles over the synth region
LON0, LON1, LAT0, LAT1 = -94.0, -88.0, 40.0, 43.0
LIMIT = 256
SHARDS = 125               # 6,000 samples at 48 per shard


def county_geojson(path):
    feats = []
    dx, dy = (LON1 - LON0) / NX, (LAT1 - LAT0) / NY
    for j in range(NY):
        for i in range(NX):
            x0, y0 = LON0 + i * dx, LAT0 + j * dy
            ring = [[x0, y0], [x0 + dx, y0], [x0 + dx, y0 + dy], [x0, y0 + dy], [x0, y0]]
            fips = "%05d" % (20000 + j * NX + i)
            feats.append({"type": "Feature", "properties": {"GEOID": fips, "NAME": "C" + fips},
                          "geometry": {"type": "Polygon", "coordinates": [ring]}})
    json.dump({"type": "FeatureCollection", "name": "counties",
               "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4269"}},
               "features": feats}, open(path, "w"))


PIPELINE = """[pipeline]
name = limits
data_root = .
start = 2003-01-01
end = 2004-12-31
calendar = noleap
output = out
shard_samples = 48
block_days = 183

[counties]
layer = {root}/counties.geojson
id_field = GEOID
scenarios = N000, N336

[input.TMAX_AIR]
source = gridded
path = {root}/gridmet/tmmx_{year}.nc
variable = air_temperature
source_units = K
units = degC
"""


def main():
    tmp = tempfile.mkdtemp(prefix="af-limits-")
    try:
        data = os.path.join(tmp, "d")
        r = run([AGROFLUX, "synth", data, "--counties", "1", "--scenarios", "1", "--sites", "0",
                 "--years", "2003-2004", "--no-pipeline"])
        check(r.returncode == 0, "synth: " + r.stderr)
        county_geojson(os.path.join(data, "counties.geojson"))
        pipeline = os.path.join(data, "limits.ini")
        open(pipeline, "w").write(PIPELINE)
        out = os.path.join(tmp, "out")
        cmd = "ulimit -n %d && exec mpirun -n 2 --oversubscribe %s -q run %s --output %s" % (
            LIMIT, AGROFLUX, pipeline, out)
        r = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True)
        check(r.returncode == 0, "run under ulimit -n %d: %s" % (LIMIT, r.stderr[-2000:]))
        if r.returncode != 0:
            return finish(tmp)
        idx = json.load(open(os.path.join(out, "index.json")))
        prov = idx["provenance"]
        check(len(idx["samples"]) == 6000 and len(idx["shards"]) == SHARDS, "6,000 samples in 125 shards")
        fds = prov["open_files_max_per_rank"]
        check(len(fds) == 2 and all(0 < n < 2 * SHARDS and n <= LIMIT for n in fds),
              "open descriptors per rank %s: below 2 per shard of the whole output" % fds)
        rss = prov["peak_rss_bytes_per_rank"]
        check(all(b < 400 * 2**20 for b in rss), "peak RSS per rank %s under 400 MiB" % rss)
        pj = json.load(open(os.path.join(out, "provenance.json")))
        paths = sorted(os.path.normpath(f["path"]) for f in pj["files"])
        check(paths == ["counties.geojson", "gridmet/tmmx_2003.nc", "gridmet/tmmx_2004.nc", "limits.ini"],
              "provenance files: %s" % paths)
        check_plan(pipeline, rss)
        r = run([AGROFLUX, "verify", out])
        check(r.returncode == 0, "verify: " + r.stdout + r.stderr)
        check_values(data, out, idx)
    finally:
        pass
    return finish(tmp)


def check_plan(pipeline, rss):
    """plan's memory line: the block term recomputed here (3,000 samples a rank x 183 days x (8 bytes
    per input + 9 per feature of the one gridded group)), 63 open shards a rank, and an estimate at
    or above the peak RSS the run measured."""
    import re
    r = run([AGROFLUX, "plan", pipeline, "--ranks", "2"])
    m = re.search(r"memory per rank: about (\d+) MiB \(base (\d+), block buffers (\d+), (\d+) open shards "
                  r"(\d+), sources (\d+)\); sbatch --mem-per-cpu=(\d+)M; rank 0 about (\d+) MiB more "
                  r"\(coverage\.json\)", r.stdout)
    check(r.returncode == 0 and m is not None, "plan prints the memory line: " + r.stdout[-400:])
    if m:
        total, base, block, shards, _, _, mem, rank0 = (int(v) for v in m.groups())
        # coverage.json on rank 0: 6,000 samples x 2 years x (8 + 10 x 1 feature) bytes, under 1 MiB
        check(rank0 == round(6000 * 2 * 18 / 2**20), "rank 0's coverage term %d MiB" % rank0)
        check(block == round(3000 * 183 * (8 + 9) / 2**20), "block buffers %d MiB" % block)
        check(shards == 63, "open shards per rank %d" % shards)
        check(total * 2**20 >= max(rss), "estimate %d MiB >= measured peak %s" % (total, rss))
        check(mem >= total * 1.25 - 1, "--mem-per-cpu keeps 25%% headroom")


def check_values(data, out, idx):
    """Six counties (both scenarios share the input) against the exact-coverage reference."""
    g, vals = W.load(os.path.join(data, "gridmet"), "gridmet", "tmmx", [2003, 2004])
    polys = W.county_polygons(data)
    pick = ["20000", "20059", "21234", "21500", "22940", "22999"]
    weights = W.county_weights(g, {f: polys[f] for f in pick})
    rows = {s["id"]: i for i, s in enumerate(idx["samples"])}
    S = idx["shard_samples"]
    for fips in pick:
        for scen in ("N000", "N336"):
            i = rows["%s:%s" % (fips, scen)]
            ds = netCDF4.Dataset(os.path.join(out, idx["shards"][i // S]["path"]))
            ds.set_auto_mask(False)
            days = [dt.date(1970, 1, 1) + dt.timedelta(days=int(t)) for t in ds["time"][:]]
            a = stacked(ds, i % S)
            x = a["x"][:, 0].astype(float)
            qc = a["x_qc"][:, 0].astype(float)
            ds.close()
            truth = W.county_truth({fips: weights[fips]}, vals, days)[fips]
            # min_valid_fraction 0.5 (the gridded default): a county-day below it is missing
            mean = np.where(truth[4] >= 0.5, truth[0] - 273.15, np.nan)
            ok = np.array_equal(np.isnan(x), np.isnan(mean)) and \
                np.nanmax(np.abs(np.nan_to_num(x) - np.nan_to_num(mean))) < 1e-4
            check(ok, "TMAX_AIR of %s:%s equals the reference" % (fips, scen))
            check(np.max(np.abs(qc - truth[4])) < 1e-6, "x_qc of %s:%s is the valid fraction" % (fips, scen))


def finish(tmp):
    if check.failed and os.environ.get("AF_KEEP"):
        print("kept " + tmp, file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print(check.summary())
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
