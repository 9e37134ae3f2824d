# SPDX-License-Identifier: MIT
"""pipelines/agroflux-ecosys.ini (the AgroFlux Ecosys subset: 99 counties x 20 N rates,
2001-2018) runs end to end when its raw-data root points at a tree laid out the way it expects:
`agroflux synth --counties-from site_lists/agroflux_ecosys_99_counties.csv --scenarios 20
--sites 0` writes one (6 counties, 2001-2003 here, to stay small). The pipeline file is used
unchanged; only --set narrows it (data root, county layer: the synth GeoJSON instead of the Census zip, period, county list, splits), as a user would.
Checked against the truth modules of tests/pylib, independently of the C code: the 20 Ecosys
targets and FERTZR_N / PDOY cell by cell; the soil inputs; PLANTT (1 where corn has more area
than soybean in the county's CDL tiles); the cropland-weighted weather lies within each
county's cell range and differs from the area-only mean somewhere. Then `verify` and
`agroflux export --layout agroflux` (shape (days, 6 x 20, 11), AgroFlux county order).
Prints "N passed, N failed"."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
sys.path.insert(0, HERE)
import synth_shards  # noqa: E402
import truth_mgmt  # noqa: E402
import truth_models  # noqa: E402
import truth_soil  # noqa: E402
import truth_weather as W  # noqa: E402
import test_synth_default as D  # noqa: E402  (shared helpers: compare, check_targets, soil_truth)
from synth_region import Region, noleap_days, scenario_names, scenario_rates_kg_ha  # noqa: E402

AGROFLUX = os.environ["AGROFLUX"]
ROOT = os.environ.get("AF_SOURCE_ROOT", os.path.join(HERE, "..", ".."))
check = D.check
YEARS = [2001, 2002, 2003]
NC, NSCEN = 6, 20


def main():
    tmp = tempfile.mkdtemp(prefix="af-ref-ecosys-")
    try:
        tree = os.path.join(tmp, "raw")
        lst = os.path.join(ROOT, "site_lists", "agroflux_ecosys_99_counties.csv")
        r = D.run([AGROFLUX, "-q", "synth", tree, "--counties-from", lst, "--counties", str(NC),
                   "--scenarios", str(NSCEN), "--sites", "0", "--years", "2001-2003"])
        if not check(r.returncode == 0, "synth the reference layout: " + r.stderr):
            return
        ini = os.path.join(ROOT, "pipelines", "agroflux-ecosys.ini")
        out = os.path.join(tmp, "out")
        sets = ["pipeline.data_root=" + tree, "counties.layer={root}/counties.geojson", "pipeline.end=2003-12-31",
                "counties.select={root}/site_lists/counties.csv",
                "splits.temporal_train=2001", "splits.temporal_val=2002", "splits.temporal_test=2003",
                "splits.spatial_folds=3"]
        args = [a for s in sets for a in ("--set", s)]
        r = D.mpirun(2, "run", ini, *args, "--output", out)
        if not check(r.returncode == 0, "reference pipeline runs on the synth root: " + r.stderr[-3000:]):
            return
        r = D.run([AGROFLUX, "-q", "verify", out])
        check(r.returncode == 0, "verify: " + r.stderr)
        idx = json.load(open(os.path.join(out, "index.json")))
        check(idx["pipeline"]["sets"] == sets, "the overrides are recorded in the index")

        region = Region(tree)
        days = noleap_days(YEARS[0], YEARS[-1])
        dates, inames, tnames, samples = synth_shards.read(out)
        check(dates == days, "noleap axis 2001-2003")
        check(inames == D.AGROFLUX_INPUTS + ["RADN"], "inputs in AgroFlux order + RADN: %s" % inames)
        check(tnames == D.ECOSYS, "20 Ecosys targets in module order: %s" % tnames)
        scen = scenario_names(NSCEN)
        check(set(samples) == {"%s:%s" % (f, k) for f in region.fips for k in scen}, "6 counties x 20 rates")
        rates = scenario_rates_kg_ha(NSCEN)

        soil = D.soil_truth(region, tree)
        polys = {f: p for f, p in W.county_polygons(tree).items() if f in region.county_tag}
        tiles = truth_soil.Tiles(os.path.join(tree, "cdl", "%d_30m_cdls.tif" % YEARS[0]), truth_soil.counties_5070(polys),
                                 D.TILE, check)
        cdl = {y: tiles.values(os.path.join(tree, "cdl", "%d_30m_cdls.tif" % y))[0] for y in YEARS}
        weather = {}
        for name, var, a, b in (("TMAX_AIR", "tmmx", 1.0, -273.15), ("PRECN", "pr", 1.0, 0.0)):
            g, vals = W.load(os.path.join(tree, "gridmet"), "gridmet", var, YEARS, check)
            weather[name] = (W.county_truth(W.county_weights(g, polys), vals, days), a, b)
        differs = {n: 0 for n in weather}
        for sid, s in sorted(samples.items()):
            fips, sc = sid.split(":")
            u, k = region.tag(sid), scen.index(sc)
            x = s["x"]
            D.check_targets(s, tnames, D.ECOSYS, lambda t: [truth_models.eco_target(t, u, k, d) for d in days],
                            "ref " + sid)
            ev, _ = truth_mgmt.expected(u, YEARS, None, rates[sc] * 0.1)
            for name in ("FERTZR_N", "PDOY"):
                want = np.array([np.float32(ev[name].get(d, 0.0)) for d in days], dtype=float)
                D.compare(x[:, inames.index(name)], want, 1e-5 * np.maximum(1.0, np.abs(want)), "ref %s %s" % (sid, name))
            for name, (county, _site) in soil.items():
                D.compare(x[:, inames.index(name)], np.full(len(days), county[fips]), 1e-5 * abs(county[fips]),
                          "ref %s %s" % (sid, name))
            for t, d in enumerate(days):
                if d.month == 1 and d.day == 1:
                    area = {}
                    for (ti, tj, a) in tiles.parts[fips]:
                        c = cdl[d.year][tj, ti]
                        if not np.isnan(c):
                            area[int(c)] = area.get(int(c), 0.0) + a
                    corn, soy = area.get(1, 0.0), area.get(5, 0.0)
                    want = np.nan if corn + soy == 0 else (1.0 if corn >= soy else 0.0)
                    got = x[t:t + 365, inames.index("PLANTT")]
                    check(bool(np.all(np.isnan(got))) if np.isnan(want) else bool(np.all(got == want)),
                          "ref %s PLANTT %d = %s" % (sid, d.year, want))
            if k == 0:
                for name, (ct, a, b) in weather.items():
                    mean, mn, mx = (ct[fips][i] * a + b for i in range(3))
                    got = x[:, inames.index(name)]
                    ok = ~np.isnan(got)
                    check(ok.mean() > 0.9, "ref %s %s: present on most days" % (sid, name))
                    inside = (got[ok] >= mn[ok] - 1e-4) & (got[ok] <= mx[ok] + 1e-4)
                    check(bool(np.all(inside)), "ref %s %s: cropland-weighted mean within the county's cells" % (sid, name))
                    differs[name] += int(np.sum(np.abs(got[ok] - np.nan_to_num(mean[ok])) > 1e-4))
        for name, n in differs.items():
            check(n > 0, "%s: cropland weights change the county means (%d county-days)" % (name, n))

        dest = os.path.join(tmp, "export")
        r = D.mpirun(2, "export", out, "--layout", "agroflux", dest)
        if check(r.returncode == 0, "export --layout agroflux: " + r.stderr[-2000:]):
            xa = np.load(os.path.join(dest, "data_files", "t0_mw", "X_mw_scaled.npy"), mmap_mode="r")
            check(xa.shape == (365 * len(YEARS), NC * NSCEN, 11), "X_mw_scaled shape %s" % (xa.shape,))
            man = json.load(open(os.path.join(dest, "export.json")))
            want = ["%s:%s" % (f, k) for f in region.fips for k in scen]
            check(man["county_samples"] == want, "export: counties in list order x rates")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
    print(check.summary())
    sys.exit(1 if check.failed or check.passed == 0 else 0)
