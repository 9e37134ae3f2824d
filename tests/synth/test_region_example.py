# SPDX-License-Identifier: MIT
"""pipelines/examples/nebraska-wheat.ini, the example of docs/adding-a-region.md (a new region
and crop with only a pipeline file and a site list), runs unchanged but for --set
pipeline.data_root on a synth tree laid out as it expects: `agroflux synth --counties-from
site_lists/nebraska_wheat_example_counties.csv --scenarios 3 --sites 0 --years 2010-2012`, with
the DayCent run directories renamed to the example's scenario names (N000, N056, N112).
Checked independently of the C code: FERTZR_N is the scenario's rate (kg N ha-1 / 10) on day of
year 85 and 0 otherwise; PLANTT is 1 where winter wheat (CDL 24) has the largest area among
classes 24, 1, 5 in the county's CDL tiles; the DayCent targets and the soil inputs against the
truth modules of tests/pylib; then verify. Prints "N passed, N failed"."""
import os
import shutil
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
sys.path.insert(0, HERE)
import synth_shards  # noqa: E402
import truth_models  # noqa: E402
import truth_soil  # noqa: E402
import truth_weather as W  # noqa: E402
import test_synth_default as D  # noqa: E402
from synth_region import Region, noleap_days  # noqa: E402

AGROFLUX = os.environ["AGROFLUX"]
ROOT = os.environ.get("AF_SOURCE_ROOT", os.path.join(HERE, "..", ".."))
check = D.check
YEARS = [2010, 2011, 2012]
RATES = {"N000": 0.0, "N056": 56.0, "N112": 112.0}   # kg N ha-1, as the example declares
SYNTH_NAMES = {"N000": "N000", "N168": "N056", "N336": "N112"}


def main():
    tmp = tempfile.mkdtemp(prefix="af-region-example-")
    try:
        tree = os.path.join(tmp, "raw")
        lst = os.path.join(ROOT, "site_lists", "nebraska_wheat_example_counties.csv")
        r = D.run([AGROFLUX, "-q", "synth", tree, "--counties-from", lst, "--scenarios", "3", "--sites", "0",
                   "--years", "2010-2012"])
        if not check(r.returncode == 0, "synth the example's layout: " + r.stderr):
            return
        dc = os.path.join(tree, "daycent")
        for d in sorted(os.listdir(dc)):
            fips, sc = d.split("_", 1)  # FIPS_SCENARIO: {id} writes FIPS:SCENARIO with '_'
            os.rename(os.path.join(dc, d), os.path.join(dc, "%s_%s" % (fips, SYNTH_NAMES[sc])))
        out = os.path.join(tmp, "out")
        ini = os.path.join(ROOT, "pipelines", "examples", "nebraska-wheat.ini")
        r = D.mpirun(2, "run", ini, "--set", "pipeline.data_root=" + tree, "--output", out)
        if not check(r.returncode == 0, "example runs on the synth root: " + r.stderr[-3000:]):
            return
        r = D.run([AGROFLUX, "-q", "verify", out])
        check(r.returncode == 0, "verify: " + r.stderr)

        region = Region(tree)
        days = noleap_days(YEARS[0], YEARS[-1])
        dates, inames, tnames, samples = synth_shards.read(out)
        check(dates == days, "noleap axis 2010-2012")
        check(inames == D.AGROFLUX_INPUTS + ["RADN"] and tnames == D.DAYCENT, "names %s %s" % (inames, tnames))
        want_ids = {"%s:%s" % (f, k) for f in region.fips for k in RATES}
        check(set(samples) == want_ids and {f[:2] for f in region.fips} == {"31"},
              "6 Nebraska counties x 3 wheat N rates")
        soil = D.soil_truth(region, tree)
        polys = {f: p for f, p in W.county_polygons(tree).items() if f in region.county_tag}
        tiles = truth_soil.Tiles(os.path.join(tree, "cdl", "2010_30m_cdls.tif"), truth_soil.counties_5070(polys),
                                 D.TILE, check)
        cdl = {y: tiles.values(os.path.join(tree, "cdl", "%d_30m_cdls.tif" % y))[0] for y in YEARS}
        nwheat = 0
        order = ["N000", "N056", "N112"]
        for sid, s in sorted(samples.items()):
            fips, sc = sid.split(":")
            x = s["x"]
            want = np.array([RATES[sc] / 10.0 if d.timetuple().tm_yday == 85 else 0.0 for d in days])
            D.compare(x[:, inames.index("FERTZR_N")], want, 1e-6, "%s FERTZR_N" % sid)
            for name, (county, _site) in soil.items():
                D.compare(x[:, inames.index(name)], np.full(len(days), county[fips]), 1e-5 * abs(county[fips]),
                          "%s %s" % (sid, name))
            for y in YEARS:
                area = {}
                for (ti, tj, a) in tiles.parts[fips]:
                    c = cdl[y][tj, ti]
                    if not np.isnan(c):
                        area[int(c)] = area.get(int(c), 0.0) + a
                crop = {c: area.get(c, 0.0) for c in (24, 1, 5)}
                best = max(crop.values())
                exp = np.nan if best == 0 else (1.0 if crop[24] == best else 0.0)
                nwheat += exp == 1.0
                t0 = days.index(next(d for d in days if d.year == y))
                got = x[t0:t0 + 365, inames.index("PLANTT")]
                check(bool(np.all(np.isnan(got))) if np.isnan(exp) else bool(np.all(got == exp)),
                      "%s PLANTT %d = %s" % (sid, y, exp))
            u, k = region.tag(sid), order.index(sc)
            D.check_targets(s, tnames, D.DAYCENT, lambda t: [truth_models.dc_target(t, u, k, d) for d in days],
                            "daycent " + sid)
        print("winter wheat dominates %d county-years (synth CDL: corn usually wins, so PLANTT is mostly 0; "
              "a corn-based PLANTT would fail the checks above)" % nwheat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
    print(check.summary())
    sys.exit(1 if check.failed or check.passed == 0 else 0)
