# SPDX-License-Identifier: MIT
"""The default synth pipelines end to end (issues #4 and #5): `agroflux synth DIR` with default options,
`mpirun -n 2 agroflux run DIR/pipeline.ini`, `agroflux verify`, then every input and target cell of
every sample checked against the truth modules of tests/pylib (independent of the C code):
  inputs  TMAX_AIR TMIN_AIR PRECN RADN (gridMET, truth_weather), FERTZR_N PDOY PLANTT (truth_mgmt),
          TBKDS TCSAND TCSILT TPH TCEC TSOC (truth_soil), in the AgroFlux order;
  targets the 20 Ecosys targets for counties (truth_models); for sites GPP, Reco (FLUXNET FULLSET DD)
          and N2O_FLUX (chambers), the @sites halves of the same variables, plus NEE (truth_obs);
          missing = NaN with y_valid 0, never 0; counties have no NEE and sites no other Ecosys target.
The same for pipeline-daycent.ini (Daymet weather, DayCent targets); shards byte-identical on 1, 2 and
3 ranks; `agroflux export --layout agroflux` succeeds with the documented shapes. Then once more with
--counties-from (a slice of site_lists/agroflux_ecosys_99_counties.csv): FIPS and order from the list.
Prints "N passed, N failed"."""
import json
import os
import shutil
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import synth_shards  # noqa: E402
from af_cli import mpirun, run  # noqa: E402
from checks import Checker  # noqa: E402
import truth_mgmt  # noqa: E402
import truth_models  # noqa: E402
import truth_obs  # noqa: E402
import truth_soil  # noqa: E402
import truth_weather as W  # noqa: E402
from synth_region import Region, noleap_days, scenario_names, scenario_rates_kg_ha  # noqa: E402

AGROFLUX = os.environ["AGROFLUX"]
ROOT = os.environ.get("AF_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
TILE = 4            # default raster_tile of af_synth_opts
AGROFLUX_INPUTS = ["TMAX_AIR", "TMIN_AIR", "PRECN", "FERTZR_N", "PDOY", "PLANTT",
                   "TBKDS", "TCSAND", "TCSILT", "TPH", "TCEC", "TSOC"]
ECOSYS = ["Reco", "GPP", "CO2_FLUX", "Yield", "Delta_SOC", "TMAX_SOIL_1", "TMIN_SOIL_1", "TMAX_SOIL_3",
          "TMIN_SOIL_3", "TMAX_SOIL_5", "TMIN_SOIL_5", "WTR_1", "WTR_3", "WTR_5", "ET",
          "N2O_FLUX", "NH4_1", "NO3_1", "NO3_3", "NO3_5"]
SITE_TARGETS = ["GPP", "Reco", "N2O_FLUX", "NEE"]  # GPP, Reco, N2O_FLUX: @sites halves of Ecosys's
DAYCENT = ["CO2_FLUX", "Yield", "ET", "TAVG_SOIL_2", "WTR_3", "N2O_FLUX", "Rh"]
# the synth DayCent pipeline also derives GPP (psyn.out) and Reco (psyn.out joined with dc_sip.csv)
SYNTH_DAYCENT = DAYCENT + ["GPP", "Reco"]
check = Checker()


def compare(got, want, tol, what):
    """got/want arrays over days: NaN exactly where want is NaN, else within tol (array or scalar)."""
    want = np.asarray(want, dtype=float)
    tol = np.broadcast_to(np.asarray(tol, dtype=float), want.shape)
    nan_w = np.isnan(want)
    bad = (np.isnan(got) != nan_w) | (~nan_w & (np.abs(np.where(nan_w, 0, got) - np.where(nan_w, 0, want)) > tol))
    i = np.flatnonzero(bad)
    check(i.size == 0, "%s: %d days differ, first %s" % (what, i.size, [(int(k), got[k], want[k]) for k in i[:3]]))


def check_targets(s, tnames, names, truth, what):
    """Targets in names against truth(name, day index) -> value or None; the others must be missing."""
    y, yv = s["y"], s["y_valid"]
    for j, n in enumerate(tnames):
        if n in names:
            want = np.array([np.nan if v is None else v for v in truth(n)])
            compare(y[:, j], want, 1e-5 * np.abs(np.nan_to_num(want)) + 1e-9, "%s %s" % (what, n))
            check(np.array_equal(yv[:, j] == 1, ~np.isnan(want)), "%s %s: y_valid where present" % (what, n))
        else:
            check(bool(np.all(np.isnan(y[:, j])) and np.all(yv[:, j] == 0)), "%s %s: missing (other kind)" % (what, n))


# ---------------------------------------------------------------- inputs
def weather_truth(region, tree, kind, days, years):
    """{feature: ({fips: county values}, {site: site values})} in output units."""
    if kind == "gridmet":
        spec = {"TMAX_AIR": ("tmmx", 1.0, -273.15, 300.0), "TMIN_AIR": ("tmmn", 1.0, -273.15, 300.0),
                "PRECN": ("pr", 1.0, 0.0, 20.0), "RADN": ("srad", 0.0864, 0.0, 300.0)}
    else:
        spec = {"TMAX_AIR": ("tmax", 1.0, 0.0, 35.0), "TMIN_AIR": ("tmin", 1.0, 0.0, 25.0),
                "PRECN": ("prcp", 1.0, 0.0, 12.5), "RADN": ("srad*dayl", 1e-6, 0.0, 300.0 * 60000.0)}
    polys = {f: p for f, p in W.county_polygons(tree).items() if f in region.county_tag}
    folder = os.path.join(tree, kind)
    out, wts = {}, None
    for name, (var, a, b, mag) in spec.items():
        if var == "srad*dayl":  # Daymet daily total: the product per cell and day, then aggregated
            g, sr = W.load(folder, kind, "srad", years, check)
            _, dl = W.load(folder, kind, "dayl", years, check)
            vals = {d: sr[d] * dl[d] for d in sr}
        else:
            g, vals = W.load(folder, kind, var, years, check)
        wts = wts or W.county_weights(g, polys)
        ct = W.county_truth(wts, vals, days)
        county = {}
        for f in polys:
            mean, frac = ct[f][0], ct[f][4]
            county[f] = np.where(frac >= 0.5, mean, np.nan) * a + b   # default min_valid_fraction 0.5
        site = {s: v * a + b for s, v in W.site_truth(g, vals, days, region.site_loc, "bilinear").items()}
        out[name] = (county, site, 1e-6 * mag * a)
    return out


def soil_truth(region, tree):
    """{feature: ({fips: value}, {site: value})}: 0-30 cm depth-weighted, in output units."""
    polys = truth_soil.counties_5070({f: p for f, p in W.county_polygons(tree).items() if f in region.county_tag})
    tiles = truth_soil.Tiles(os.path.join(tree, "soil", "bd_0-5.tif"), polys, TILE, check)
    props = [("TBKDS", "bd", 1.0), ("TCSAND", "sand", 10.0), ("TCSILT", "silt", 10.0), ("TPH", "ph", 1.0),
             ("TCEC", "cec", 1.0), ("TSOC", "soc", 1.0)]
    ct = truth_soil.osr.CoordinateTransformation(truth_soil.srs(4326), truth_soil.srs(5070))
    out = {}
    for name, pre, scale in props:
        vals = [tiles.values(os.path.join(tree, "soil", "%s_%s.tif" % (pre, l))) for l in truth_soil.LAYERS]
        county = {f: truth_soil.profile([truth_soil.layer_mean(tiles, f, v[0]) for v in vals],
                                        truth_soil.DEPTH_W["0-30"]) * scale for f in polys}
        site = {}
        for sid, (lat, lon) in region.site_loc.items():
            px, py, _ = ct.TransformPoint(lon, lat)
            means = [truth_soil.site_value(v[1], v[2], tiles.gt, px, py, "bilinear") for v in vals]
            site[sid] = truth_soil.profile(means, truth_soil.DEPTH_W["0-30"]) * scale
        out[name] = (county, site)
    return out


def check_inputs(region, inames, samples, days, years, weather, soil, nscen, what):
    rates = scenario_rates_kg_ha(nscen)
    for sid, s in samples.items():
        site = region.is_site(sid)
        key = sid if site else sid.split(":")[0]
        u = region.tag(sid)
        x = s["x"]
        for name, (county, sitev, tol) in weather.items():
            want = sitev[key] if site else county[key]
            compare(x[:, inames.index(name)], want, tol + 1e-6 * np.abs(np.nan_to_num(want)), "%s %s %s" % (what, sid, name))
        for name, (county, sitev) in soil.items():
            want = sitev[key] if site else county[key]
            compare(x[:, inames.index(name)], np.full(len(days), want), 1e-5 * abs(want), "%s %s %s" % (what, sid, name))
        ev, crops = truth_mgmt.expected(u, years, region.site_number[sid] if site else None,
                                        None if site else rates[sid.split(":")[1]] * 0.1)
        for name, var in (("FERTZR_N", "FERTZR_N"), ("PDOY", "PDOY")):
            want = np.array([np.float32(ev[var].get(d, 0.0)) for d in days], dtype=float)
            compare(x[:, inames.index(name)], want, 1e-6 * np.maximum(1.0, np.abs(want)), "%s %s %s" % (what, sid, name))
        # PLANTT: AgroFlux's binary crop indicator, 1 in corn years (CDL 1), 0 in soybean years
        want = np.array([1.0 if crops[d.year] == 1 else 0.0 for d in days], dtype=float)
        check(set(want) == {0.0, 1.0}, "%s %s: test premise: corn and soybean years" % (what, sid))
        compare(x[:, inames.index("PLANTT")], want, 0.0, "%s %s PLANTT (1 corn, 0 soybean)" % (what, sid))


# ---------------------------------------------------------------- targets
def obs_truth(name, s, d):
    if name == "GPP":
        return truth_obs.expect_target("GPP_DD", s, d)[0]
    if name == "NEE":
        v, _, ok = truth_obs.expect_target("NEE_DD", s, d)
        return v if ok else None
    if name == "Reco":
        return truth_obs.conv(truth_obs.fullset_dd(6, s, d), 1.0)
    x, _ = truth_obs.chamber_day(s, d)
    return truth_obs.conv(x, 1.0)


def check_default(tree, region, out, nscen, years, what, weather=None, soil=None):
    days = noleap_days(years[0], years[-1])
    dates, inames, tnames, samples = synth_shards.read(out)
    check(dates == days, "%s: noleap axis %d-%d" % (what, years[0], years[-1]))
    check(inames[:12] == AGROFLUX_INPUTS and "RADN" in inames, "%s: inputs in AgroFlux order + RADN: %s" % (what, inames))
    check(tnames == ECOSYS + ["NEE"], "%s: Ecosys targets in module order (GPP, Reco, N2O_FLUX shared with the "
          "sites), then NEE: %s" % (what, tnames))
    scen = scenario_names(nscen)
    want_ids = {"%s:%s" % (f, k) for f in region.fips for k in scen} | set(region.sites)
    check(set(samples) == want_ids, "%s: samples = counties x scenarios + sites" % what)
    if set(samples) != want_ids or dates != days:
        return
    weather = weather or weather_truth(region, tree, "gridmet", days, years)
    soil = soil or soil_truth(region, tree)
    check_inputs(region, inames, samples, days, years, weather, soil, nscen, what)
    for sid, s in samples.items():
        if region.is_site(sid):
            n = region.site_number[sid]
            check_targets(s, tnames, SITE_TARGETS, lambda t: [obs_truth(t, n, d) for d in days], "%s %s" % (what, sid))
        else:
            u, k = region.tag(sid), scen.index(sid.split(":")[1])
            check_targets(s, tnames, ECOSYS, lambda t: [truth_models.eco_target(t, u, k, d) for d in days],
                          "%s %s" % (what, sid))
    nmiss = sum(int(np.sum(s["y_valid"] == 0)) for s in samples.values())
    check(nmiss > 0, "%s: some target cells are missing (holes exercised)" % what)


def check_daycent(tree, region, out, nscen, years):
    days = noleap_days(years[0], years[-1])
    dates, inames, tnames, samples = synth_shards.read(out)
    check(tnames == SYNTH_DAYCENT and inames[:12] == AGROFLUX_INPUTS, "daycent: names %s %s" % (inames, tnames))
    scen = scenario_names(nscen)
    weather = weather_truth(region, tree, "daymet", days, years)
    soil = soil_truth(region, tree)
    check_inputs(region, inames, samples, days, years, weather, soil, nscen, "daycent")
    for sid, s in samples.items():
        u, k = (region.tag(sid), 0) if region.is_site(sid) else (region.tag(sid), scen.index(sid.split(":")[1]))
        check_targets(s, tnames, SYNTH_DAYCENT, lambda t: [truth_models.dc_target(t, u, k, d) for d in days],
                      "daycent %s" % sid)


def shard_sums(out):
    return [s["sha256"] for s in json.load(open(os.path.join(out, "index.json")))["shards"]]


def check_export(out, dest, nc, nscen, ndays):
    r = mpirun(2, "export", out, "--layout", "agroflux", dest)
    if not check(r.returncode == 0, "export --layout agroflux: " + r.stderr[-2000:]):
        return
    base = os.path.join(dest, "data_files")
    x = np.load(os.path.join(base, "t0_mw", "X_mw_scaled.npy"), mmap_mode="r")
    check(x.shape == (ndays, nc * nscen, 11), "X_mw_scaled shape %s" % (x.shape,))
    for mod, n in (("Carbon", 5), ("Thermal", 6), ("Water", 4), ("Nitrogen", 5)):
        y = np.load(os.path.join(base, "t0_mw", "Y_mw_scaled_%s.npy" % mod), mmap_mode="r")
        check(y.shape == (ndays, nc * nscen, n), "Y_mw_scaled_%s shape %s" % (mod, y.shape))
    sx = np.load(os.path.join(base, "t0_scalers", "X_scaler.npy"))
    check(sx.shape == (11, 2), "X_scaler shape")
    # towers and chambers: GPP/NEE and N2O_FLUX of the sites (shared variable names) reach t1_*
    man = json.load(open(os.path.join(dest, "export.json")))
    check(len(man["co2_sites"]) >= 1 and len(man["n2o_sites"]) >= 1,
          "export: tower and chamber sites exported (%s, %s)" % (man["co2_sites"], man["n2o_sites"]))
    for i in range(len(man["co2_sites"])):
        yc = np.load(os.path.join(base, "t1_co2", "Y_real_scaled_ECfluxnet_Combined_%d.npy" % i), mmap_mode="r")
        check(yc.shape == (ndays, 1, 2) and bool(np.any(np.isfinite(yc))), "t1_co2 Y %d: shape, some values" % i)
    for c in range(len(man["n2o_sites"])):
        yn = np.load(os.path.join(base, "t1_n2o", "Y_real_scaled_Combined_%d.npy" % c), mmap_mode="r")
        check(yn.shape == (365, ndays // 365, 1) and bool(np.any(np.isfinite(yn))), "t1_n2o Y %d: shape, some values" % c)


def main():
    tmp = tempfile.mkdtemp(prefix="af-synth-default-")
    try:
        tree = os.path.join(tmp, "d")
        r = run([AGROFLUX, "-q", "synth", tree])
        if not check(r.returncode == 0, "synth (defaults): " + r.stderr):
            return
        for f in ("pipeline.ini", "pipeline-daycent.ini", "pipeline-tables.ini", "counties.geojson"):
            check(os.path.exists(os.path.join(tree, f)), "synth wrote " + f)
        region = Region(tree)
        years = [2002, 2003, 2004]
        nscen = 2
        outs = {}
        for n in (2, 1, 3):
            outs[n] = os.path.join(tmp, "out%d" % n)
            r = mpirun(n, "run", os.path.join(tree, "pipeline.ini"), "--output", outs[n])
            check(r.returncode == 0, "run pipeline.ini on %d ranks: %s" % (n, r.stderr[-2000:]))
        r = run([AGROFLUX, "verify", outs[2]])
        check(r.returncode == 0, "verify: " + r.stdout + r.stderr)
        check(shard_sums(outs[1]) == shard_sums(outs[2]) == shard_sums(outs[3]), "shards identical on 1, 2, 3 ranks")
        check_default(tree, region, outs[2], nscen, years, "default")
        check_export(outs[2], os.path.join(tmp, "export"), len(region.fips), nscen, 365 * len(years))

        dout = os.path.join(tmp, "out-daycent")
        r = mpirun(2, "run", os.path.join(tree, "pipeline-daycent.ini"), "--output", dout)
        if check(r.returncode == 0, "run pipeline-daycent.ini: " + r.stderr[-2000:]):
            check(run([AGROFLUX, "verify", dout]).returncode == 0, "verify daycent output")
            check_daycent(tree, region, dout, nscen, years)

        # --counties-from: the first rows of the AgroFlux county list, in its order
        lst = os.path.join(ROOT, "site_lists", "agroflux_ecosys_99_counties.csv")
        tree2 = os.path.join(tmp, "c")
        r = run([AGROFLUX, "-q", "synth", tree2, "--counties-from", lst, "--counties", "5", "--scenarios", "3",
                 "--sites", "3", "--years", "2003-2004"])
        if check(r.returncode == 0, "synth --counties-from: " + r.stderr):
            region2 = Region(tree2)
            rows = [l.split(",")[1] for l in open(lst).read().splitlines()[1:6]]
            check(region2.fips == rows, "counties.csv = the list's first 5 FIPS in row order: %s" % region2.fips)
            out2 = os.path.join(tmp, "out-c")
            r = mpirun(2, "run", os.path.join(tree2, "pipeline.ini"), "--output", out2)
            if check(r.returncode == 0, "run --counties-from pipeline: " + r.stderr[-2000:]):
                check_default(tree2, region2, out2, 3, [2003, 2004], "counties-from")
        r = run([AGROFLUX, "synth", os.path.join(tmp, "e"), "--counties-from", lst, "--counties", "100"])
        check(r.returncode != 0 and "lists only 99" in r.stderr, "--counties beyond the list: error names it")
        bad = os.path.join(tmp, "bad.csv")
        open(bad, "w").write("fips,name\n17013,A\n1701,B\n")
        r = run([AGROFLUX, "synth", os.path.join(tmp, "e"), "--counties-from", bad])
        check(r.returncode != 0 and "bad.csv" in r.stderr and "'1701'" in r.stderr, "a bad FIPS: file, line and value")
    finally:
        if check.failed == 0 and not os.environ.get("AF_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("kept", tmp)


if __name__ == "__main__":
    main()
    print(check.summary())
    sys.exit(1 if check.failed or check.passed == 0 else 0)
