# SPDX-License-Identifier: MIT
"""The official AgroFlux training code runs on every export (issue 13).

An 18-year synth region (6 counties x 2 N rates, 3 sites that are towers and chambers, 2001-2018) is
run with DIR/pipeline.ini (Ecosys targets) and DIR/pipeline-daycent.ini (DayCent targets), then
exported with the defaults (--missing fill, --observations official, --sign agroflux) as every
official experiment (--experiments official: temporal, spatial_0..4) on 1 and 2 ranks, and the
DayCent output as --subset dc. On each tree, official_replica.py (the official loaders' reshapes,
splits, module joins, scaler loads and masked joins, in numpy) runs for every module (Carbon,
Nitrogen, Thermal, Water, Combined, All), the t1 towers and chambers (temporal and every spatial
fold the sites allow) and the DayCent subset. Checked independently of agroflux, from the values
read back from the shards with python/agroflux_reader.py:
  - every t0 array and site input array finite, masks 1 exactly where the value was observed;
  - each filled cell equals the documented fill computed here (linear in time over gaps of at most
    10 days, else the training mean = scaled 0), each observed cell its scaled value;
  - scaler files float64 of the official shapes ((11,2), (5,2), (5,2), (6,2), (4,2), Combined (6,2));
    each experiment's scalers equal mean / population std computed here over its training part
    (official fold formula: blocks of ncounties // 5, the last ncounties % 5 always training;
    temporal: first int(0.8 n) years) and differ from those that include validation or test counties;
  - Combined = GPP, N2O_FLUX, ET, CO2_FLUX, Yield, Delta_SOC (columns and scaler rows);
  - towers: GPP and NEE share one mask, the official validation join works, and de-normalising with
    the t0 scalers as train_t1 does gives back the tower GPP and -NEE (AgroFlux sign); chambers: -N2O;
  - the trees are byte-identical for 1 and 2 ranks, masks are hard links shared by the trees;
  - --missing keep keeps NaN and writes no mask; --missing error refuses with the counts and writes
    nothing; DayCent targets that DayCent does not simulate are listed and written as 0 with mask 0;
  - error paths: official-spatial with fewer than 5 counties, official-temporal without a training
    year, an official fold out of range, an NEE sign text the export cannot interpret, bad options.
The torch variant of the temporal reshape runs only when python3-torch is installed.
With --reference: pipelines/agroflux-ecosys.ini itself (narrowed with --set, as tests/synth does) on
an 18-year synth root of 5 counties x its 20 N rates, exported as every official experiment and
checked the same way (t0 only: the reference Ecosys pipeline has no sites).
"""
import csv
import json
import os
import shutil
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
sys.path.insert(0, os.path.join(os.environ.get("AF_SOURCE_ROOT", os.path.join(HERE, "..", "..")), "python"))
from af_cli import mpirun, run  # noqa: E402
from checks import Checker  # noqa: E402
import official_replica as R  # noqa: E402
import train_case as T  # noqa: E402
from agroflux_reader import Output  # noqa: E402

AGROFLUX = os.environ["AGROFLUX"]
Y0, Y1, NYEARS = 2001, 2018, 18
NCOUNTY, NSCEN, NSITES = 6, 2, 3
MODULES = {"Carbon": ["Reco", "GPP", "CO2_FLUX", "Yield", "Delta_SOC"],
           "Nitrogen": ["N2O_FLUX", "NH4_1", "NO3_1", "NO3_3", "NO3_5"],
           "Thermal": ["TMAX_SOIL_1", "TMIN_SOIL_1", "TMAX_SOIL_3", "TMIN_SOIL_3", "TMAX_SOIL_5", "TMIN_SOIL_5"],
           "Water": ["WTR_1", "WTR_3", "WTR_5", "ET"],
           "Combined": ["GPP", "N2O_FLUX", "ET", "CO2_FLUX", "Yield", "Delta_SOC"]}
INPUTS = T.INPUTS
FLIPPED = ("Reco", "CO2_FLUX", "N2O_FLUX")
GAP = 10
check = Checker()


def fails_with(res, code, text, what):
    ok = res.returncode == code and text in res.stderr
    if not ok:
        print("  got rc=%d stderr=%s" % (res.returncode, res.stderr.strip()[-400:]), file=sys.stderr)
    check(ok, what)


# ------------------------------------------------------------------ raw data, read back from the shards
class Raw:
    """Unscaled values of every sample (agroflux_reader), in the export's sample order."""

    def __init__(self, out, man):
        r = Output(out)
        self.inputs, self.targets = list(r.inputs), list(r.targets)
        ids = [m["id"] for m in r.index["samples"]] if hasattr(r, "index") else None
        idx = json.load(open(os.path.join(out, "index.json")))
        ids = [m["id"] for m in idx["samples"]]
        self.fips = {m["id"]: m.get("fips") for m in idx["samples"]}
        self.x, self.y = {}, {}
        for sid in man["county_samples"] + man["co2_sites"] + man["n2o_sites"]:
            if sid in self.x:
                continue
            x, y, _ = r.read(ids.index(sid))
            self.x[sid], self.y[sid] = x.astype(np.float64), y.astype(np.float64)
        r.close()

        self.filled = {}

    def series(self, sid, name):
        if name in self.inputs:
            return self.x[sid][:, self.inputs.index(name)]
        return self.y[sid][:, self.targets.index(name)]

    def fill(self, sid, name):
        if (sid, name) not in self.filled:
            self.filled[(sid, name)] = fill(self.series(sid, name))
        return self.filled[(sid, name)]


def fill(v):
    """The documented fill: (filled values, state 0 observed / 1 interpolated / 2 training mean)."""
    out, state, n = v.copy(), np.zeros(len(v), dtype=int), len(v)
    bad = np.concatenate([[0], np.isnan(v).astype(int), [0]])
    starts, ends = np.nonzero(np.diff(bad) == 1)[0], np.nonzero(np.diff(bad) == -1)[0]
    for i, j in zip(starts, ends):   # missing runs [i, j)
        if i > 0 and j < n and j - i <= GAP:
            p, q = v[i - 1], v[j]
            for t in range(i, j):
                out[t] = np.float64(np.float32(p + (q - p) * (t - i + 1) / (j - i + 1)))
            state[i:j] = 1
        else:
            state[i:j] = 2
    return out, state


def scaled(v, state, mean, std, neg):
    """Expected float32 cells of one series: scaled filled values, 0 where the training mean was used; mean
    and std are the scaler file's (already in the export's sign, checked against the truth apart)."""
    w = -v if neg else v
    z = ((w - mean) / (std if std > 0 else 1.0)).astype(np.float32)
    z[state == 2] = 0.0
    return z


def stats(vals):
    v = np.concatenate(vals)
    v = v[~np.isnan(v)]
    m = v.sum() / len(v)
    return m, np.sqrt(((v - m) ** 2).sum() / len(v))


def close(a, b, rel=1e-9):
    return abs(a - b) <= rel * max(1.0, abs(b))


# ------------------------------------------------------------------ checks of one experiment tree
def train_part(man, exp, list_fips):
    """(training sample ids, training day range) of an experiment, by the official formulas."""
    nc = len(list_fips)
    if exp == "temporal":
        ntr, _, _ = R.year_counts(NYEARS)
        return man["county_samples"], (0, ntr * 365)
    train, _, _ = R.spatial_blocks(nc, int(exp.split("_")[1]))
    keep = {list_fips[c] for c in train}
    return [s for s in man["county_samples"] if s.split(":")[0] in keep], (0, NYEARS * 365)


def check_scalers(root, man, raw, exp, list_fips, sub="mw"):
    d = os.path.join(root, "data_files", "t0_scalers")
    shapes = {"X_scaler": (11, 2), "Y_scaler_Carbon": (5, 2), "Y_scaler_Nitrogen": (5, 2), "Y_scaler_Thermal": (6, 2),
              "Y_scaler_Water": (4, 2), "Y_scaler_Combined": (6, 2)}
    got = {k: np.load(os.path.join(d, k + ".npy")) for k in shapes}
    check(all(got[k].dtype == np.float64 and got[k].shape == s for k, s in shapes.items()),
          "%s: scaler files float64 of the official shapes" % exp)
    samples, (a, b) = train_part(man, exp, list_fips)
    rec = man["county_scalers"]
    check(rec["train_counties"] == sorted({s.split(":")[0] for s in samples}, key=list_fips.index),
          "%s: export.json lists the training counties of the official formula" % exp)
    out, bad, leak = {}, 0, 0
    others = [s for s in man["county_samples"] if s not in samples]
    for k, names in [("X_scaler", INPUTS)] + [("Y_scaler_" + m, n) for m, n in MODULES.items()]:
        for r, name in enumerate(names):
            if name not in raw.inputs + raw.targets:
                ok = got[k][r, 0] == 0.0 and got[k][r, 1] == 1.0
                bad += not ok
                continue
            m, s = stats([raw.series(sid, name)[a:b] for sid in samples])
            if name in FLIPPED:
                m = -m
            ok = close(got[k][r, 0], m) and close(got[k][r, 1], s)
            if not ok and bad < 3:
                print("  %s %s %s: got %r want %r" % (exp, k, name, got[k][r], (m, s)), file=sys.stderr)
            bad += not ok
            out[name] = (got[k][r, 0], got[k][r, 1])   # exact values for the cell checks
            if others and k == "X_scaler" and name == "TBKDS":
                # the leak check: with the validation and test counties the statistics differ
                m2, s2 = stats([raw.series(sid, name)[a:b] for sid in samples + others])
                leak += close(m2, m) and close(s2, s)
    check(bad == 0, "%s: every scaler row = mean / population std over the official training part only" % exp)
    if others:
        check(leak == 0, "%s: scalers differ from those over all counties (no validation/test county inside)" % exp)
    return out


def check_t0(root, man, raw, sc, exp, sub="mw", absent=()):
    d = os.path.join(root, "data_files", "t0_%s" % sub)
    ids = man["county_samples"]
    X = np.load(os.path.join(d, "X_%s_scaled.npy" % sub))
    MX = np.load(os.path.join(d, "X_%s_mask.npy" % sub))
    check(X.dtype == np.float32 and MX.dtype == np.uint8 and X.shape == (NYEARS * 365, len(ids), 11) and MX.shape == X.shape,
          "%s %s: X float32 and its uint8 mask (days, samples, 11)" % (exp, sub))
    check(bool(np.isfinite(X).all()), "%s %s: X finite" % (exp, sub))
    files = [("X", INPUTS, X, MX)]
    for mod, names in MODULES.items():
        Y = np.load(os.path.join(d, "Y_%s_scaled_%s.npy" % (sub, mod)))
        M = np.load(os.path.join(d, "Y_%s_mask_%s.npy" % (sub, mod)))
        check(Y.shape == (NYEARS * 365, len(ids), len(names)) and bool(np.isfinite(Y).all()),
              "%s %s: Y %s finite, (days, samples, %d)" % (exp, sub, mod, len(names)))
        files.append((mod, names, Y, M))
    bad = nfill = 0
    for what, names, A, M in files:
        for c, name in enumerate(names):
            if name in absent:
                bad += int(np.any(A[:, :, c] != 0) or np.any(M[:, :, c] != 0))
                continue
            m, s = sc[name]
            for j, sid in enumerate(ids):
                f, state = raw.fill(sid, name)
                nfill += int(np.sum(state > 0))
                want = scaled(f, state, m, s, name in FLIPPED)
                bad += int(np.sum(A[:, j, c] != want)) + int(np.sum(M[:, j, c] != (state == 0)))
    check(bad == 0 and nfill > 0, "%s %s: every cell = scaled value or documented fill, masks 1 where observed "
          "(%d bad, %d filled cells)" % (exp, sub, bad, nfill))
    return X, {m: np.load(os.path.join(d, "Y_%s_scaled_%s.npy" % (sub, m))) for m in MODULES}


def check_loaders(root, X, Ys, exp, sub="mw"):
    """The official t0 loaders and scaler loads for every module."""
    ok = True
    for module in list(MODULES) + ["All"]:
        Y = np.concatenate([Ys[m] for m in R.MODULES_ALL], axis=-1) if module == "All" else Ys[module]
        x2, y2 = R.load_t0(root, sub, module)
        ok &= np.array_equal(y2, Y)
        mean, std = R.t0_scalers(root, module)
        ok &= mean.shape == (Y.shape[-1],) and std.shape == (Y.shape[-1],)
        if exp == "temporal":
            (xs, ys) = R.t0_temporal(x2, y2, NYEARS)
            ntr, nva, nte = R.year_counts(NYEARS)
            ok &= xs[0].shape == (NCOUNTY * NSCEN * ntr, 365, 11) and ys[1].shape == (NCOUNTY * NSCEN * nva, 365, Y.shape[-1])
            ok &= ys[2].shape[0] == NCOUNTY * NSCEN * nte
            # year 15 of the second sample is validation sequence 1: the official day order
            ok &= np.array_equal(xs[1][1], X[ntr * 365:(ntr + 1) * 365, 1])
        else:
            f = int(exp.split("_")[1])
            (xs, ys) = R.t0_spatial(x2, y2, NCOUNTY, NSCEN, f)
            tr, va, te = R.spatial_blocks(NCOUNTY, f)
            ok &= [a.shape[0] for a in xs] == [len(p) * NSCEN * NYEARS for p in (tr, va, te)]
            ok &= np.array_equal(xs[1][0], X[:365, va[0] * NSCEN])
        pred = ys[1] * std + mean   # the de-normalisation of train_t0 / evaluate_t0
        ok &= bool(np.isfinite(pred).all())
    check(ok, "%s %s: official t0 loaders, every module and All, splits and scaler loads" % (exp, sub))


def check_sites(root, man, raw, sc, exp):
    ntow, ncha = len(man["co2_sites"]), len(man["n2o_sites"])
    check(ntow == NSITES and ncha == NSITES, "%s: %d towers and %d chambers exported" % (exp, ntow, ncha))
    d = os.path.join(root, "data_files")
    bad = joint = 0
    for k, sid in enumerate(man["co2_sites"]):
        Yt = np.load(os.path.join(d, "t1_co2", "Y_real_scaled_ECfluxnet_Combined_%d.npy" % k))
        Xt = np.load(os.path.join(d, "t1_co2", "X_real_scaled_ECfluxnet_%d.npy" % k))
        check(bool(np.isfinite(Xt).all()), "%s tower %d: inputs finite" % (exp, k))
        g, n = raw.series(sid, "GPP"), raw.series(sid, "NEE")
        both = ~np.isnan(g) & ~np.isnan(n)
        joint += int(np.sum(np.isnan(g) != np.isnan(n)))
        check(np.array_equal(~np.isnan(Yt[:, 0, 0]), both) and np.array_equal(~np.isnan(Yt[:, 0, 1]), both),
              "%s tower %d: GPP and NEE share one mask (both valid)" % (exp, k))
        # train_t1: de-normalised with Y_scaler_Carbon rows [2, 1] -> -NEE (AgroFlux sign) and GPP
        z = R.co2_validation_pairs(Yt.reshape(1, -1, 2).astype(np.float64))
        phys = R.co2_denormalise(z, root)
        for c, (name, want) in enumerate((("CO2_FLUX", -n[both]), ("GPP", g[both]))):
            m, s = sc[name]
            bad += int(np.sum(np.abs(phys[:, c] - want) > 1e-6 * (abs(m) + s * (1 + np.abs(z[:, c])))))
        for c, name in enumerate(INPUTS):
            f, state = raw.fill(sid, name)
            bad += int(np.sum(Xt[:, 0, c] != scaled(f, state, sc[name][0], sc[name][1], False)))
    check(joint > 0, "%s: test premise: tower GPP and NEE miss different days (%d)" % (exp, joint))
    check(bad == 0, "%s: towers de-normalise with the t0 scalers to GPP and -NEE; inputs on the t0 X scaler (%d bad)"
          % (exp, bad))
    bad = 0
    for k, sid in enumerate(man["n2o_sites"]):
        Yc = np.load(os.path.join(d, "t1_n2o", "Y_real_scaled_Combined_%d.npy" % k))
        v = raw.series(sid, "N2O_FLUX").reshape(NYEARS, 365).T
        ok = ~np.isnan(v)
        z = Yc[:, :, 0][ok].astype(np.float64)
        phys = R.n2o_denormalise(z, root)
        m, s = sc["N2O_FLUX"]
        bad += int(np.sum(np.abs(phys - (-v[ok])) > 1e-6 * (abs(m) + s * (1 + np.abs(z)))))   # float32 z
        bad += int(np.sum(np.isnan(Yc[:, :, 0]) != ~ok))
    check(bad == 0, "%s: chambers de-normalise with Y_scaler_Nitrogen row 0 to -N2O (%d bad)" % (exp, bad))
    ok = True
    for e2 in ["temporal"] + ["spatial_%d" % f for f in range(5)]:
        if e2 != "temporal" and int(e2[-1]) >= NSITES:
            continue   # the official t1 code hard-codes 11 towers / 6 chambers: folds >= the sites have no validation site
        ex = "temporal" if e2 == "temporal" else "spatial"
        f = 0 if e2 == "temporal" else int(e2[-1])
        (xs, ys) = R.t1_co2(root, ntow, ex, f)
        for part in (1, 2):
            for b in range(ys[part].shape[0]):
                R.co2_validation_pairs(ys[part][b:b + 1])   # raises when the two masks differ
        ok &= all(bool(np.isfinite(a).all()) for a in xs)
        (xn, yn) = R.t1_n2o(root, ncha, ex, f)
        ok &= all(bool(np.isfinite(a).all()) for a in xn) and all(a.shape[1] == 365 for a in yn)
    check(ok, "%s: official t1 loaders (towers, chambers) for temporal and spatial folds < %d" % (exp, NSITES))


def check_tree(root, raw, list_fips, exp):
    man = json.load(open(os.path.join(root, "export.json")))
    check(man["experiment"] == exp and man["missing"]["policy"] == "fill" and man["observations"]["convention"] == "official",
          "%s: export.json records experiment, missing policy and observation convention" % exp)
    sc = check_scalers(root, man, raw, exp, list_fips)
    X, Ys = check_t0(root, man, raw, sc, exp)
    check(all(np.array_equal(Ys["Combined"][:, :, c], Ys[m][:, :, MODULES[m].index(n)])
              for c, n in enumerate(MODULES["Combined"]) for m in ("Carbon", "Nitrogen", "Water") if n in MODULES[m]),
          "%s: Combined columns = GPP, N2O_FLUX, ET, CO2_FLUX, Yield, Delta_SOC of the modules" % exp)
    check_loaders(root, X, Ys, exp)
    check_sites(root, man, raw, sc, exp)
    return man


def tree_bytes(root):
    out = {}
    for dp, _, fs in os.walk(root):
        for f in fs:
            p = os.path.join(dp, f)
            out[os.path.relpath(p, root)] = open(p, "rb").read()
    return out


# ------------------------------------------------------------------ policies and errors
def policies(out, work):
    keep = os.path.join(work, "keep")
    r = run([AGROFLUX, "export", out, "--layout", "agroflux", keep, "--split", "official-temporal", "--missing", "keep"])
    check(r.returncode == 0 and "cells missing" in r.stdout, "--missing keep exports and prints the counts: " + r.stderr[-300:])
    d = os.path.join(keep, "data_files", "t0_mw")
    y = np.load(os.path.join(d, "Y_mw_scaled_Carbon.npy"))
    check(bool(np.isnan(y).any()) and not os.path.exists(os.path.join(d, "X_mw_mask.npy")),
          "--missing keep: NaN kept, no masks")
    v = run([AGROFLUX, "export", "--verify", keep])
    check(v.returncode == 0, "verify of a --missing keep export: " + v.stderr[-300:])
    err = os.path.join(work, "err")
    r = run([AGROFLUX, "export", out, "--layout", "agroflux", err, "--missing", "error"])
    fails_with(r, 2, "--missing error", "--missing error refuses")
    check("county target Reco:" in r.stderr and "cells missing" in r.stderr, "--missing error lists the counts per variable")
    written = [f for _, _, fs in os.walk(err) for f in fs]
    check(written == [], "--missing error writes nothing (%s)" % written[:3])


def error_paths(work):
    small = os.path.join(work, "small")
    T.make(AGROFLUX, small, 2001, 2001, counties=4, nsites=4)
    p = T.write_pipeline(small, 2001, 2001, [("spatial_folds", "3"), ("loso", "yes")], name="p.ini")
    check(run([AGROFLUX, "run", p, "--output", os.path.join(small, "o")]).returncode == 0, "small run (4 counties, 1 year)")
    o = os.path.join(small, "o")
    fails_with(run([AGROFLUX, "export", o, "--layout", "agroflux", os.path.join(small, "d1"), "--split", "official-spatial"]),
               2, "the output has 4 counties (at least 5 needed)", "official-spatial needs 5 counties")
    fails_with(run([AGROFLUX, "export", o, "--layout", "agroflux", os.path.join(small, "d2"), "--split", "official-temporal"]),
               2, "1 years give no training year", "official-temporal needs a training year")
    fails_with(run([AGROFLUX, "export", o, "--layout", "agroflux", os.path.join(small, "d3"), "--experiments", "official"]),
               2, "give no training year", "--experiments official on 1 year")
    fails_with(run([AGROFLUX, "export", o, "--layout", "agroflux", os.path.join(small, "d6"), "--split", "official-spatial",
                    "--fold", "5"]), 2, "fold 5 (AgroFlux has folds 0-4)", "official-spatial fold out of range")
    p = T.write_pipeline(small, 2001, 2001, [("spatial_folds", "3"), ("loso", "yes")], name="nee.ini",
                         signs=dict(T.SIGNS, NEE="positive = uptake"))
    check(run([AGROFLUX, "run", p, "--output", os.path.join(small, "o_nee")]).returncode == 0, "run with another NEE sign")
    fails_with(run([AGROFLUX, "export", os.path.join(small, "o_nee"), "--layout", "agroflux", os.path.join(small, "d4"),
                    "--missing", "keep", "--split", "spatial"]), 2, "target NEE has sign 'positive = uptake'", "official observations: NEE sign text")
    r = run([AGROFLUX, "export", os.path.join(small, "o_nee"), "--layout", "agroflux", os.path.join(small, "d5"),
             "--missing", "keep", "--sign", "native", "--split", "spatial"])
    check(r.returncode == 0, "--sign native exports it: " + r.stderr[-300:])
    for args, msg in ((["--missing", "zero"], "--missing 'zero': expected fill, keep or error"),
                      (["--observations", "tower"], "--observations 'tower': expected official or site"),
                      (["--experiments", "all"], "--experiments 'all': expected official"),
                      (["--split", "official"], "--split 'official': expected temporal")):
        fails_with(run([AGROFLUX, "export", "a", "--layout", "agroflux", "b"] + args), 2, msg, "usage: %s" % " ".join(args))


def run_dc(tree, work, raw_ecosys_fips):
    """pipeline-daycent.ini exported as the DayCent subset t0_dc, loaded the DayCent_Dataset1 way."""
    out = os.path.join(work, "out_dc")
    r = mpirun(2, "run", os.path.join(tree, "pipeline-daycent.ini"), "--output", out)
    if not check(r.returncode == 0, "DayCent pipeline runs: " + r.stderr[-500:]):
        return
    dest = os.path.join(work, "dc")
    r = run([AGROFLUX, "export", out, "--layout", "agroflux", dest, "--subset", "dc", "--split", "official-temporal"])
    if not check(r.returncode == 0, "export --subset dc: " + r.stderr[-500:]):
        return
    man = json.load(open(os.path.join(dest, "export.json")))
    raw = Raw(out, man)
    absent = [n for ns in MODULES.values() for n in ns if n not in raw.targets]
    check(sorted(set(man["missing"]["absent_targets"])) == sorted(set(absent)) and "not in the output" in r.stdout,
          "dc: the targets DayCent does not simulate are recorded and printed: %s" % sorted(set(absent)))
    list_fips = [s.split(":")[0] for s in man["county_samples"][::NSCEN]]
    sc = check_scalers(dest, man, raw, "temporal", list_fips, sub="dc")
    X, Ys = check_t0(dest, man, raw, sc, "temporal", sub="dc", absent=absent)
    check_loaders(dest, X, Ys, "temporal", sub="dc")


def reference(work):
    """The reference Ecosys pipeline (20 rates) on an 18-year synth root of 5 counties."""
    global NCOUNTY, NSCEN
    NCOUNTY, NSCEN = 5, 20
    root = os.environ.get("AF_SOURCE_ROOT", os.path.join(HERE, "..", ".."))
    tree = os.path.join(work, "raw")
    lst = os.path.join(root, "site_lists", "agroflux_ecosys_99_counties.csv")
    r = run([AGROFLUX, "-q", "synth", tree, "--counties-from", lst, "--counties", str(NCOUNTY), "--scenarios", "20",
             "--sites", "0", "--years", "%d-%d" % (Y0, Y1)])
    if not check(r.returncode == 0, "synth the reference layout, 18 years: " + r.stderr[-500:]):
        return
    out = os.path.join(work, "out")
    r = mpirun(2, "run", os.path.join(root, "pipelines", "agroflux-ecosys.ini"), "--set", "pipeline.data_root=" + tree,
               "--set", "counties.layer={root}/counties.geojson",
               "--set", "counties.select={root}/site_lists/counties.csv", "--output", out)
    if not check(r.returncode == 0, "reference Ecosys pipeline runs: " + r.stderr[-500:]):
        return
    dest = os.path.join(work, "ex")
    r = mpirun(2, "export", out, "--layout", "agroflux", dest, "--experiments", "official")
    if not check(r.returncode == 0, "reference export --experiments official: " + r.stderr[-500:]):
        return
    idx = json.load(open(os.path.join(out, "index.json")))
    list_fips = [m["fips"] for m in sorted((m for m in idx["samples"] if m["kind"] == "county"),
                                           key=lambda m: m["county_rank"])][::NSCEN]
    check(list_fips == [r["fips"] for r in csv.DictReader(open(lst))][:NCOUNTY],
          "reference: county list order = the official county file's rows")
    raw = Raw(out, json.load(open(os.path.join(dest, "temporal", "export.json"))))
    for exp in json.load(open(os.path.join(dest, "experiments.json")))["experiments"]:
        t = os.path.join(dest, exp)
        man = json.load(open(os.path.join(t, "export.json")))
        check(man["county_samples"][:NSCEN] == ["%s:%s" % (list_fips[0], m["scenario"]) for m in idx["samples"]
                                                if m["fips"] == list_fips[0]], "reference %s: rates of a county together" % exp)
        sc = check_scalers(t, man, raw, exp, list_fips)
        X, Ys = check_t0(t, man, raw, sc, exp)
        check_loaders(t, X, Ys, exp)
        v = run([AGROFLUX, "export", "--verify", t])
        check(v.returncode == 0, "verify reference %s: %s" % (exp, v.stderr[-300:]))


def main():
    work = tempfile.mkdtemp(prefix="af-official-")
    if "--reference" in sys.argv:
        try:
            reference(work)
        finally:
            if not os.environ.get("AF_KEEP"):
                shutil.rmtree(work, ignore_errors=True)
        print(check.summary())
        return 1 if check.failed or check.passed == 0 else 0
    try:
        tree = os.path.join(work, "tree")
        r = run([AGROFLUX, "-q", "synth", tree, "--counties", str(NCOUNTY), "--scenarios", str(NSCEN), "--sites",
                 str(NSITES), "--years", "%d-%d" % (Y0, Y1)])
        if not check(r.returncode == 0, "synth 18 years: " + r.stderr[-500:]):
            return 1
        out = os.path.join(work, "out")
        r = mpirun(2, "run", os.path.join(tree, "pipeline.ini"), "--output", out)
        if not check(r.returncode == 0, "synth pipeline runs: " + r.stderr[-500:]):
            return 1
        e1 = mpirun(1, "export", out, "--layout", "agroflux", os.path.join(work, "e1"), "--experiments", "official")
        e2 = run(["mpirun", "-n", "2", "--oversubscribe", AGROFLUX, "export", out, "--layout", "agroflux",
                  os.path.join(work, "e2"), "--experiments", "official"])
        check(e1.returncode == 0 and e2.returncode == 0, "--experiments official on 1 and 2 ranks: %s %s"
              % (e1.stderr[-300:], e2.stderr[-300:]))
        check("cells interpolated" in e2.stdout and "set to the training mean" in e2.stdout
              and "tower days dropped so that GPP and NEE share one mask" in e2.stdout,
              "the fill counts and the joint mask are printed: " + e2.stdout[-300:])
        check(tree_bytes(os.path.join(work, "e1")) == tree_bytes(os.path.join(work, "e2")),
              "every experiment tree byte-identical for 1 and 2 ranks")
        exps = json.load(open(os.path.join(work, "e2", "experiments.json")))["experiments"]
        check(exps == ["temporal"] + ["spatial_%d" % f for f in range(5)], "experiments.json lists the six trees")
        idx = json.load(open(os.path.join(out, "index.json")))
        list_fips = [m["fips"] for m in sorted((m for m in idx["samples"] if m["kind"] == "county"),
                                               key=lambda m: m["county_rank"])][::NSCEN]
        man0 = json.load(open(os.path.join(work, "e2", "temporal", "export.json")))
        raw = Raw(out, man0)
        for exp in exps:
            root = os.path.join(work, "e2", exp)
            check_tree(root, raw, list_fips, exp)
            v = run([AGROFLUX, "export", "--verify", root])
            check(v.returncode == 0, "verify %s: %s" % (exp, v.stderr[-300:]))
        a = os.stat(os.path.join(work, "e2", "temporal", "data_files", "t0_mw", "X_mw_mask.npy"))
        b = os.stat(os.path.join(work, "e2", "spatial_3", "data_files", "t0_mw", "X_mw_mask.npy"))
        check(a.st_ino == b.st_ino and a.st_nlink == 6, "masks are one file hard-linked into the six trees")
        try:
            import torch  # noqa: F401
            x, y = R.load_t0(os.path.join(work, "e2", "temporal"), "mw", "Carbon")
            tn, nn = R.torch_t0_temporal(x, y, NYEARS), R.t0_temporal(x, y, NYEARS)
            check(all(np.array_equal(p, q) for u, w in zip(tn, nn) for p, q in zip(u, w)),
                  "torch views give the numpy replica's temporal split")
        except ImportError:
            print("torch not installed: the torch variant of the temporal split is skipped")
        policies(out, work)
        run_dc(tree, work, list_fips)
        error_paths(work)
    finally:
        if not os.environ.get("AF_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
    print(check.summary())
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
