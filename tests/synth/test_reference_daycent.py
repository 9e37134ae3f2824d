# SPDX-License-Identifier: MIT
"""pipelines/agroflux-daycent.ini (the AgroFlux DayCent subset: the C_S_150N_Planting scenario
family) runs unchanged but for --set (data root, county layer, period, county list, splits) on a synth tree
(`agroflux synth --scenarios 4 --sites 0`), with the DayCent run directories renamed to the four
scenario names and a planting table this test writes with a corn and a soybean row per county and
year (the rotation picks the crop). Checked independently of the C code: PLANTT follows each
scenario's rotation (C, S from the start year, or S, C); FERTZR_N is 15 g N m-2 on the corn
planting day (or 30 days later for *_30afPlanting) in corn years and 0 otherwise; PDOY marks the
rotation crop's planting day; the DayCent targets (GPP and Reco derived from psyn.out joined with dc_sip.csv) against tests/pylib truth_models; verify.
Prints "N passed, N failed"."""
import datetime as dt
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
import test_synth_default as D  # noqa: E402
from synth_region import Region, noleap_days  # noqa: E402

AGROFLUX = os.environ["AGROFLUX"]
ROOT = os.environ.get("AF_SOURCE_ROOT", os.path.join(HERE, "..", ".."))
check = D.check
YEARS = [2002, 2003, 2004]
# synth scenario k (its DayCent files encode k) -> the reference's scenario, rotation, N offset
SCEN = [("N000", "C_S_150N_Planting", (1, 5), 0), ("N112", "C_S_150N_30afPlanting", (1, 5), 30),
        ("N224", "S_C_150N_Planting", (5, 1), 0), ("N336", "S_C_150N_30afPlanting", (5, 1), 30)]


def plant_doy(fips, year, crop):
    """The planting day this test writes: corn earlier than soybean, varying by county and year."""
    return 110 + int(fips) % 7 + (year % 3) + (15 if crop == 5 else 0)


def main():
    tmp = tempfile.mkdtemp(prefix="af-ref-daycent-")
    try:
        tree = os.path.join(tmp, "raw")
        r = D.run([AGROFLUX, "-q", "synth", tree, "--counties", "4", "--scenarios", "4", "--sites", "0",
                   "--years", "2002-2004"])
        if not check(r.returncode == 0, "synth: " + r.stderr):
            return
        dc = os.path.join(tree, "daycent")
        names = {s[0]: s[1] for s in SCEN}
        for d in sorted(os.listdir(dc)):
            fips, sc = d.split("_", 1)  # FIPS_SCENARIO: {id} writes FIPS:SCENARIO with '_'
            os.rename(os.path.join(dc, d), os.path.join(dc, "%s_%s" % (fips, names[sc])))
        region = Region(tree)
        for y in YEARS:
            with open(os.path.join(tree, "mgmt", "planting_%d.csv" % y), "w") as f:
                f.write("key,year,crop,plant_date\n")
                for fips in region.fips:
                    for crop in (1, 5):
                        d = dt.date(y, 1, 1) + dt.timedelta(days=plant_doy(fips, y, crop) - 1)
                        f.write("%s,%d,%d,%s\n" % (fips, y, crop, d.isoformat()))
        sets = ["pipeline.data_root=" + tree, "counties.layer={root}/counties.geojson", "pipeline.start=2002-01-01", "pipeline.end=2004-12-31",
                "counties.select={root}/site_lists/counties.csv", "splits.temporal_train=2002",
                "splits.temporal_val=2003", "splits.temporal_test=2004", "splits.spatial_folds=3"]
        out = os.path.join(tmp, "out")
        ini = os.path.join(ROOT, "pipelines", "agroflux-daycent.ini")
        r = D.mpirun(2, "run", ini, *[a for s in sets for a in ("--set", s)], "--output", out)
        if not check(r.returncode == 0, "reference DayCent pipeline runs: " + r.stderr[-3000:]):
            return
        r = D.run([AGROFLUX, "-q", "verify", out])
        check(r.returncode == 0, "verify: " + r.stderr)
        days = noleap_days(YEARS[0], YEARS[-1])
        dates, inames, tnames, samples = synth_shards.read(out)
        check(dates == days and inames[:12] == D.AGROFLUX_INPUTS and tnames == D.SYNTH_DAYCENT,
              "axis and names: %s %s" % (inames, tnames))
        check(set(samples) == {"%s:%s" % (f, s[1]) for f in region.fips for s in SCEN}, "4 counties x 4 scenarios")
        for sid, s in sorted(samples.items()):
            fips, name = sid.split(":")
            k = [s[1] for s in SCEN].index(name)
            _, _, rot, off = SCEN[k]
            x = s["x"]
            fert = np.zeros(len(days))
            pdoy = np.zeros(len(days))
            plantt = np.zeros(len(days))
            for i, d in enumerate(days):
                crop = rot[(d.year - YEARS[0]) % 2]
                plantt[i] = 1.0 if crop == 1 else 0.0  # AgroFlux's binary PLANTT: corn
                doy = d.timetuple().tm_yday
                pd = plant_doy(fips, d.year, crop)
                pdoy[i] = 1.0 if doy == pd else 0.0
                fert[i] = 15.0 if crop == 1 and doy == pd + off else 0.0
            D.compare(x[:, inames.index("PLANTT")], plantt, 0.0, "%s PLANTT (rotation)" % sid)
            D.compare(x[:, inames.index("PDOY")], pdoy, 0.0, "%s PDOY" % sid)
            D.compare(x[:, inames.index("FERTZR_N")], fert, 1e-5, "%s FERTZR_N" % sid)
            u = region.tag(sid)
            D.check_targets(s, tnames, D.SYNTH_DAYCENT, lambda t: [truth_models.dc_target(t, u, k, d) for d in days],
                            "daycent " + sid)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
    print(check.summary())
    sys.exit(1 if check.failed or check.passed == 0 else 0)
