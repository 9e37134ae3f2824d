# SPDX-License-Identifier: MIT
"""Training-ready outputs (issue 6): splits, leak-free scalers, AgroFlux export, Python reader.

One tagged case (train_case.py: 6 counties x 2 scenarios, 2 towers, 2 chambers, 2001-2003,
every value a documented function) is run on 1 and 3 ranks. Checked against computations made
here from the documented function, never from agroflux output:
  - split assignments: every sample in exactly one part per fold, a county's scenarios together,
    blocks and seeded random (splitmix64 Fisher-Yates re-implemented here), all LOSO folds;
  - scalers: two-pass numpy mean / population std over the training part only, and different from
    the all-data statistics (the leak case: values trend upwards with the year);
  - index "extra" identical for 1 and 3 ranks;
  - export: .npy header bytes, shapes, dtype, axis order and every cell of every file, identical
    bytes for 1 and 3 ranks, `export --verify` OK and failing on a tampered file;
  - AgroFlux order and sign: the select list is deliberately in neither FIPS nor Hilbert order;
    county_rank in the index, export county order = list row x scenario, spatial blocks over the
    list order, Reco/CO2_FLUX/N2O_FLUX and their scaler means negated with --sign agroflux
    (default), not with --sign native, an unexpected sign text refused, verify of order and sign,
    an index without county_rank read but not exported;
  - reader: round trip against `agroflux inspect --csv`, scaled values, parts;
  - error paths: bad [splits], folds the output cannot hold, export lacking AgroFlux names,
    export without splits, non-noleap axis, DEST not writable.
"""
import datetime as dt
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
import train_case as T  # noqa: E402
from agroflux_reader import Output  # noqa: E402

AGROFLUX = os.environ["AGROFLUX"]
Y0, Y1 = 2001, 2003
SPLITS = [("temporal_train", "2001"), ("temporal_val", "2002"), ("temporal_test", "2003"), ("spatial_folds", "3")]
check = Checker()  # tests/pylib/checks.py
# NaN kept and site scalers: the cells are checked one by one here; test_official.py checks the defaults
OURS = ["--missing", "keep", "--observations", "site"]


def fails_with(res, code, text, what):
    ok = res.returncode == code and text in res.stderr
    if not ok:
        print("  got rc=%d stderr=%s" % (res.returncode, res.stderr.strip()[-400:]), file=sys.stderr)
    check(ok, what)


# ------------------------------------------------------------------ independent computations
def truth_cells(name, sample_ids, years, fips, sites):
    vals = []
    for sid in sample_ids:
        for d in T.days(Y0, Y1):
            if years[0] <= d.year <= years[1]:
                e = T.expected(name, sid, d, fips, sites, Y0)
                if e is not None:
                    vals.append(np.float64(np.float32(e)))
    return np.array(vals)


def two_pass(v):
    if len(v) == 0:
        return 0, None, None
    m = v.sum() / len(v)
    return len(v), m, np.sqrt(((v - m) ** 2).sum() / len(v))


def splitmix_perm(n, seed):
    mask = (1 << 64) - 1
    state = seed

    def nxt():
        nonlocal state
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        return z ^ (z >> 31)

    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        j = nxt() % (i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return perm


# ------------------------------------------------------------------ checks
def check_splits(idx, fips, random_seed=None):
    sp = idx["extra"]["splits"]
    samples = idx["samples"]
    appearance = []
    for m in samples:
        if m["kind"] == "county" and m["fips"] not in appearance:
            appearance.append(m["fips"])
    # the premise: the select list is in neither FIPS nor global (Hilbert) order
    check(fips != sorted(fips) and fips != appearance and sorted(fips) == sorted(appearance),
          "test premise: select list order differs from FIPS order and from the global order")
    counties = list(fips)
    s = sp["spatial"]
    check(s["counties"] == counties, "spatial: counties recorded in select-list order")
    k, n = s["folds"], len(counties)
    if random_seed is None:
        want = [c * k // n for c in range(n)]
        first = -(-n // k)
        check(all(f == 0 for f in s["county_fold"][:first]) and s["county_fold"][first] != 0,
              "spatial blocks: the first ceil(n/k) = %d listed counties form fold 0" % first)
    else:
        perm = splitmix_perm(n, random_seed)
        want = [0] * n
        for p, c in enumerate(perm):
            want[c] = p * k // n
    check(s["county_fold"] == want, "spatial %s assignment (independent)" % ("blocks" if random_seed is None else "random"))
    fold_of = dict(zip(s["counties"], s["county_fold"]))
    for f in range(k):
        parts = {"val": [], "test": [], "train": []}
        for i, m in enumerate(samples):
            if m["kind"] != "county":
                continue
            g = fold_of[m["fips"]]
            parts["val" if g == f else "test" if g == (f + 1) % k else "train"].append(i)
        every = sorted(parts["val"] + parts["test"] + parts["train"])
        check(every == [i for i, m in enumerate(samples) if m["kind"] == "county"], "spatial fold %d: each county sample in exactly one part" % f)
        for p, ids in parts.items():
            fipsset = {samples[i]["fips"] for i in ids}
            whole = all(sum(1 for m in samples if m["fips"] == fp) == sum(1 for i in ids if samples[i]["fips"] == fp) for fp in fipsset)
            check(whole, "spatial fold %d %s: all scenarios of a county together" % (f, p))
        check(len(parts["train"]) > 0 and len(parts["val"]) > 0 and len(parts["test"]) > 0, "spatial fold %d: three non-empty parts" % f)
    site_ids = [m["id"] for m in samples if m["kind"] == "site"]
    check(sp["loso"]["sites"] == site_ids and sp["loso"]["folds"] == len(site_ids), "loso: every site is a fold")
    check(sp["temporal"] == {"samples": "counties", "train": [2001, 2001], "val": [2002, 2002], "test": [2003, 2003]}, "temporal split recorded")


def scaler_close(block, names, samples_of, years, fips, sites, what):
    bad = 0
    for j, name in enumerate(names):
        n, m, s = two_pass(truth_cells(name, samples_of, years, fips, sites))
        got_n, got_m, got_s = block["count"][j], block["mean"][j], block["std"][j]
        if n == 0:
            ok = got_n == 0 and got_m is None and got_s is None
        else:
            ok = got_n == n and abs(got_m - m) <= 1e-9 * abs(m) and abs(got_s - s) <= 1e-8 * s
        if not ok:
            bad += 1
            if bad < 4:
                print("  %s %s: got (%s, %s, %s) want (%s, %s, %s)" % (what, name, got_n, got_m, got_s, n, m, s), file=sys.stderr)
    check(bad == 0, "scalers %s equal the two-pass computation over the training part" % what)


def check_scalers(idx, fips, sites):
    sc = idx["extra"]["scalers"]
    ids = [m["id"] for m in idx["samples"]]
    inames = [v["name"] for v in idx["inputs"]]
    tnames = [v["name"] for v in idx["targets"]]
    county_ids = [i for i in ids if ":" in i]
    scaler_close(sc["temporal"]["inputs"], inames, county_ids, (2001, 2001), fips, sites, "temporal inputs")
    scaler_close(sc["temporal"]["targets"], tnames, county_ids, (2001, 2001), fips, sites, "temporal targets")
    # the leak: all-data statistics differ from the training-years ones
    n, m, s = two_pass(truth_cells("TMAX_AIR", county_ids, (Y0, Y1), fips, sites))
    check(abs(sc["temporal"]["inputs"]["mean"][0] - m) > 10 and abs(sc["temporal"]["inputs"]["std"][0] - s) > 10,
          "temporal scalers differ from all-data scalers (no test-year leak)")
    sp = idx["extra"]["splits"]["spatial"]
    fold_of = dict(zip(sp["counties"], sp["county_fold"]))
    for f in range(sp["folds"]):
        train = [i for i in county_ids if fold_of[i.split(":")[0]] not in (f, (f + 1) % sp["folds"])]
        check(sc["spatial"][f]["fold"] == f, "spatial scaler %d labelled" % f)
        scaler_close(sc["spatial"][f]["inputs"], inames, train, (Y0, Y1), fips, sites, "spatial fold %d inputs" % f)
        scaler_close(sc["spatial"][f]["targets"], tnames, train, (Y0, Y1), fips, sites, "spatial fold %d targets" % f)
    lsites = idx["extra"]["splits"]["loso"]["sites"]
    for f in range(len(lsites)):
        train = [s for k, s in enumerate(lsites) if k not in (f, (f + 1) % len(lsites))]
        scaler_close(sc["loso"][f]["inputs"], inames, train, (Y0, Y1), fips, sites, "loso fold %d inputs" % f)
        scaler_close(sc["loso"][f]["targets"], tnames, train, (Y0, Y1), fips, sites, "loso fold %d targets" % f)


def scale(v, mean, std, neg=False):
    """The export's cell: AgroFlux sign (neg) negates the value and the mean before scaling."""
    if v is None or mean is None:
        return np.float32(np.nan)
    v = np.float64(np.float32(v))
    if neg:
        v, mean = -v, -mean
    d = v - mean
    return np.float32(d / std if std > 0 else d)


def same(a, b):
    return (np.isnan(a) and np.isnan(b)) or a == b


def check_npy_header(path):
    raw = open(path, "rb").read(256)
    hl = raw[8] | (raw[9] << 8)
    ok = raw[:8] == b"\x93NUMPY\x01\x00" and (10 + hl) % 64 == 0 and raw[10 + hl - 1:10 + hl] == b"\n"
    check(ok, "%s: .npy v1.0 header padded to 64 bytes ending in newline" % os.path.basename(path))


FLIPPED = ("Reco", "CO2_FLUX", "N2O_FLUX")   # AgroFlux stored the Ecosys sign for these


def check_export(dest, idx, fips, sites, sign="agroflux"):
    man = json.load(open(os.path.join(dest, "export.json")))
    ids = [m["id"] for m in idx["samples"]]
    # AgroFlux order: select-list row x declared scenario (county*nscen + rate), built here from the list
    county_ids = ["%s:%s" % (f, sc) for f in fips for sc in T.SCENARIOS]
    check(man["county_samples"] == county_ids and county_ids != [i for i in ids if ":" in i],
          "export: county samples in select-list order x scenario order (not the global order)")
    flip = set(FLIPPED) if sign == "agroflux" else set()
    check(man["sign"] == {"convention": sign, "negated": [n for n in T.TARGETS if n in flip]},
          "export.json records sign %s" % sign)
    towers = [s for s in ids if s in sites[:2]]
    chambers = [s for s in ids if s in sites[2:4]]
    check(man["co2_sites"] == towers and man["n2o_sites"] == chambers, "export: towers and chambers found from their data")
    sc = idx["extra"]["scalers"]["temporal"]
    inames = [v["name"] for v in idx["inputs"]]
    tnames = [v["name"] for v in idx["targets"]]
    xm = {n: sc["inputs"]["mean"][j] for j, n in enumerate(inames)}
    xs = {n: sc["inputs"]["std"][j] for j, n in enumerate(inames)}
    ym = {n: sc["targets"]["mean"][j] for j, n in enumerate(tnames)}
    ys = {n: sc["targets"]["std"][j] for j, n in enumerate(tnames)}
    dates = T.days(Y0, Y1)
    d = os.path.join(dest, "data_files")
    for f in man["files"]:
        check_npy_header(os.path.join(dest, f["path"]))
    X = np.load(os.path.join(d, "t0_mw", "X_mw_scaled.npy"))
    check(X.dtype == np.dtype("<f4") and X.shape == (1095, len(county_ids), 11), "X_mw_scaled: float32 (days, samples, 11)")
    bad = 0
    for t, date in enumerate(dates):
        for s, sid in enumerate(county_ids):
            for c, name in enumerate(T.INPUTS):
                want = scale(T.expected(name, sid, date, fips, sites, Y0), xm[name], xs[name])
                if not same(X[t, s, c], want):
                    bad += 1
    check(bad == 0, "X_mw_scaled: every cell = (value - training mean) / training std, NaN where missing (%d bad)" % bad)
    for mod, names in T.MODULES.items():
        Y = np.load(os.path.join(d, "t0_mw", "Y_mw_scaled_%s.npy" % mod))
        check(Y.dtype == np.dtype("<f4") and Y.shape == (1095, len(county_ids), len(names)), "Y_mw_scaled_%s shape" % mod)
        bad = 0
        for t, date in enumerate(dates):
            for s, sid in enumerate(county_ids):
                for c, name in enumerate(names):
                    if not same(Y[t, s, c], scale(T.expected(name, sid, date, fips, sites, Y0), ym[name], ys[name], name in flip)):
                        bad += 1
        check(bad == 0, "Y_mw_scaled_%s: every cell, sign %s (%d bad)" % (mod, sign, bad))
    comb_names = ["GPP", "N2O_FLUX", "ET", "CO2_FLUX", "Yield", "Delta_SOC"]   # the official Combined module
    Y = np.load(os.path.join(d, "t0_mw", "Y_mw_scaled_Combined.npy"))
    bad = sum(not same(Y[t, s, c], scale(T.expected(name, sid, date, fips, sites, Y0), ym[name], ys[name], name in flip))
              for t, date in enumerate(dates) for s, sid in enumerate(county_ids) for c, name in enumerate(comb_names))
    check(Y.shape == (1095, len(county_ids), 6) and bad == 0, "Y_mw_scaled_Combined: GPP, N2O_FLUX, ET, CO2_FLUX, Yield, Delta_SOC (%d bad)" % bad)
    xsc = np.load(os.path.join(d, "t0_scalers", "X_scaler.npy"))
    check(xsc.dtype == np.float64 and xsc.shape == (11, 2) and all(xsc[c, 0] == xm[n] and xsc[c, 1] == xs[n] for c, n in enumerate(T.INPUTS)),
          "X_scaler.npy: (11, 2) float64 mean, std of the training years")
    comb = np.load(os.path.join(d, "t0_scalers", "Y_scaler_Combined.npy"))
    check(comb.dtype == np.float64 and comb.shape == (6, 2) and
          all(comb[c, 0] == (-ym[n] if n in flip else ym[n]) and comb[c, 1] == ys[n] for c, n in enumerate(comb_names)),
          "Y_scaler_Combined: (6, 2) in the official order; means of %s negated, std kept" % sorted(flip))
    for mod, names in T.MODULES.items():
        ms = np.load(os.path.join(d, "t0_scalers", "Y_scaler_%s.npy" % mod))
        check(all(ms[c, 0] == (-ym[n] if n in flip else ym[n]) and ms[c, 1] == ys[n] for c, n in enumerate(names)),
              "Y_scaler_%s: means in sign %s" % (mod, sign))
    # sites: scaled with LOSO fold 0 scalers
    lo = idx["extra"]["scalers"]["loso"][0]
    lxm = {n: lo["inputs"]["mean"][j] for j, n in enumerate(inames)}
    lxs = {n: lo["inputs"]["std"][j] for j, n in enumerate(inames)}
    lym = {n: lo["targets"]["mean"][j] for j, n in enumerate(tnames)}
    lys = {n: lo["targets"]["std"][j] for j, n in enumerate(tnames)}
    for k, sid in enumerate(towers):
        Xt = np.load(os.path.join(d, "t1_co2", "X_real_scaled_ECfluxnet_%d.npy" % k))
        Yt = np.load(os.path.join(d, "t1_co2", "Y_real_scaled_ECfluxnet_Combined_%d.npy" % k))
        check(Xt.shape == (1095, 1, 11) and Yt.shape == (1095, 1, 2), "tower %d shapes" % k)
        bad = sum(not same(Xt[t, 0, c], scale(T.expected(n, sid, date, fips, sites, Y0), lxm[n], lxs[n]))
                  for t, date in enumerate(dates) for c, n in enumerate(T.INPUTS))
        for t, date in enumerate(dates):
            g, n = (T.expected(nm, sid, date, fips, sites, Y0) for nm in ("GPP", "NEE"))
            if g is None or n is None:   # one mask for GPP and NEE
                g = n = None
            bad += not same(Yt[t, 0, 0], scale(g, lym["GPP"], lys["GPP"])) + (not same(Yt[t, 0, 1], scale(n, lym["NEE"], lys["NEE"])))
        check(bad == 0, "tower %d: every cell, GPP then NEE, NaN on the days either is missing (%d bad)" % (k, bad))
    for k, sid in enumerate(chambers):
        Xc = np.load(os.path.join(d, "t1_n2o", "X_real_scaled_%d.npy" % k))
        Yc = np.load(os.path.join(d, "t1_n2o", "Y_real_scaled_Combined_%d.npy" % k))
        check(Xc.shape == (365, 3, 11) and Yc.shape == (365, 3, 1), "chamber %d shapes (365, years, .)" % k)
        bad = sum(not same(Xc[t % 365, t // 365, c], scale(T.expected(n, sid, date, fips, sites, Y0), lxm[n], lxs[n]))
                  for t, date in enumerate(dates) for c, n in enumerate(T.INPUTS))
        bad += sum(not same(Yc[t % 365, t // 365, 0], scale(T.expected("N2O_FLUX", sid, date, fips, sites, Y0), lym["N2O_FLUX"], lys["N2O_FLUX"]))
                   for t, date in enumerate(dates))
        check(bad == 0, "chamber %d: every cell, day of year x year (%d bad)" % (k, bad))


def tree_bytes(root):
    out = {}
    for dp, _, fs in os.walk(root):
        for f in fs:
            p = os.path.join(dp, f)
            out[os.path.relpath(p, root)] = open(p, "rb").read()
    return out


def check_reader(out, idx, fips, sites):
    r = Output(out)
    for sid in [idx["samples"][0]["id"], idx["samples"][7]["id"], idx["samples"][-1]["id"]]:
        res = run([AGROFLUX, "inspect", out, "--sample", sid, "--csv"])
        lines = res.stdout.strip().split("\n")
        head = lines[0].split(",")
        i = [m["id"] for m in idx["samples"]].index(sid)
        x, y, mask = r.read(i)
        bad = 0
        for t, line in enumerate(lines[1:]):
            cells = line.split(",")
            for c, name in enumerate(head[1:]):
                got = x[t, r.inputs.index(name)] if c < len(r.inputs) else y[t, r.targets.index(name)]
                want = np.float32(cells[c + 1]) if cells[c + 1] else np.float32(np.nan)
                if not same(got, want):
                    bad += 1
            for j in range(len(r.targets)):
                if mask[t, j] != (not np.isnan(y[t, j])):
                    bad += 1
        check(res.returncode == 0 and len(lines) == 1096 and bad == 0, "reader round-trips inspect --csv for %s (%d bad)" % (sid, bad))
    parts = [r.part_samples("spatial", p, 1) for p in ("train", "val", "test")]
    check(sorted(sum(parts, [])) == [i for i, m in enumerate(idx["samples"]) if m["kind"] == "county"], "reader: spatial parts cover counties once")
    got = list(r.iterate("temporal", "test", scaled=False))
    check(len(got) == 12 and all(x.shape == (365, 11) and y.shape == (365, 21) for _, x, y, _ in got), "reader: temporal test part = 365 days of 2003")
    sid, x, y, mask = got[0]
    want = T.expected("TMAX_AIR", sid, dt.date(2003, 1, 1), fips, sites, Y0)
    check(x[0, 0] == np.float32(want), "reader: first test day is 2003-01-01")
    scaled = list(r.iterate("temporal", "train", scaled=True))
    allx = np.concatenate([x for _, x, _, _ in scaled])
    check(abs(np.nanmean(allx[:, 0].astype(np.float64))) < 1e-5 and abs(np.nanstd(allx[:, 0].astype(np.float64)) - 1) < 1e-5,
          "reader: scaled training inputs have mean 0, std 1")
    lo = list(r.iterate("loso", "val", fold=2))
    check([s for s, _, _, _ in lo] == [idx["extra"]["splits"]["loso"]["sites"][2]], "reader: loso fold 2 validates on site 2")
    r.close()


def check_county_rank(idx, fips):
    ok = all((m.get("county_rank") == fips.index(m["fips"])) if m["kind"] == "county" else ("county_rank" not in m)
             for m in idx["samples"])
    check(ok, "index samples: county_rank = select-list row for counties, absent for sites")


def sign_and_order(work, idx, fips, sites):
    """--sign native, the sign-text error, verify of order and sign, an index without county_rank."""
    out = os.path.join(work, "out")
    dn = os.path.join(work, "d_native")
    r = run([AGROFLUX, "export", out, "--layout", "agroflux", dn, "--sign", "native"] + OURS)
    check(r.returncode == 0, "export --sign native: " + r.stderr[-300:])
    check_export(dn, idx, fips, sites, sign="native")
    v = run([AGROFLUX, "export", "--verify", dn])
    check(v.returncode == 0 and "OK (23 files)" in v.stdout, "export --verify passes for --sign native: " + v.stderr)
    a = os.path.join(work, "d1", "data_files", "t0_mw")
    for mod, names in T.MODULES.items():
        ya = np.load(os.path.join(a, "Y_mw_scaled_%s.npy" % mod))
        yn = np.load(os.path.join(dn, "data_files", "t0_mw", "Y_mw_scaled_%s.npy" % mod))
        for c, n in enumerate(names):
            want = -yn[:, :, c] if n in FLIPPED else yn[:, :, c]
            check(np.array_equal(ya[:, :, c], want, equal_nan=True) and np.isfinite(yn[:, :, c]).any(),
                  "%s: agroflux sign %s native" % (n, "= -" if n in FLIPPED else "="))
    check(open(os.path.join(a, "X_mw_scaled.npy"), "rb").read() == open(os.path.join(dn, "data_files", "t0_mw", "X_mw_scaled.npy"), "rb").read(),
          "inputs do not depend on --sign")
    # a manifest whose sign was edited no longer verifies
    man = os.path.join(dn, "export.json")
    m = json.load(open(man))
    m["sign"]["convention"] = "agroflux"
    json.dump(m, open(man, "w"))
    fails_with(run([AGROFLUX, "export", "--verify", dn]), 3, "sign agroflux negates Reco, the manifest lists '(nothing)'",
               "verify catches a sign record that does not match")
    m["sign"] = {"convention": "agroflux", "negated": list(FLIPPED)}
    m["sign"]["negated"] = ["Reco", "CO2_FLUX", "N2O_FLUX"]
    json.dump(m, open(man, "w"))
    fails_with(run([AGROFLUX, "export", "--verify", dn]), 3, "Y_scaler_Carbon.npy: row 0 mean: the index's temporal scalers (fold 0) negated",
               "verify catches scaler means in the other sign")
    m["sign"] = {"convention": "native", "negated": []}
    m["county_samples"][0], m["county_samples"][2] = m["county_samples"][2], m["county_samples"][0]
    json.dump(m, open(man, "w"))
    fails_with(run([AGROFLUX, "export", "--verify", dn]), 3, "county_samples[0] is '%s', AgroFlux order" % m["county_samples"][0],
               "verify catches county samples out of AgroFlux order")
    fails_with(run([AGROFLUX, "export", out, "--layout", "agroflux", dn, "--sign", "ecosys"]), 2,
               "--sign 'ecosys': expected agroflux or native", "export usage error: --sign ecosys")
    # a pipeline that records another sign for Reco: the export refuses to guess
    for k, (signs, text) in enumerate(((dict(T.SIGNS, Reco="negative = to the atmosphere"), "target Reco has sign 'negative = to the atmosphere'"),
                                       (dict(T.SIGNS, N2O_FLUX=""), "target N2O_FLUX has sign ''"))):
        p = T.write_pipeline(work, Y0, Y1, SPLITS, name="sign%d.ini" % k, signs=signs)
        o = os.path.join(work, "o_sign%d" % k)
        check(run([AGROFLUX, "run", p, "--output", o]).returncode == 0, "run with another sign text %d" % k)
        fails_with(run([AGROFLUX, "export", o, "--layout", "agroflux", os.path.join(work, "d_sign%d" % k)]), 2, text,
                   "export refuses an unexpected sign text: %s" % text)
        r = run([AGROFLUX, "export", o, "--layout", "agroflux", os.path.join(work, "d_sign%d" % k), "--sign", "native"])
        check(r.returncode == 0, "--sign native exports it: " + r.stderr[-200:])
    # an index written before county_rank: read fine, but the export cannot know AgroFlux's order
    old = os.path.join(work, "o_old")
    shutil.copytree(out, old)
    ix = json.load(open(os.path.join(old, "index.json")))
    for m in ix["samples"]:
        m.pop("county_rank", None)
    json.dump(ix, open(os.path.join(old, "index.json"), "w"))
    r = run([AGROFLUX, "inspect", old])
    check(r.returncode == 0, "an index without county_rank is read: " + r.stderr[-200:])
    fails_with(run([AGROFLUX, "export", old, "--layout", "agroflux", os.path.join(work, "d_old")]), 2,
               "county sample '%s' has no county list position" % ix["samples"][0]["id"], "export of an index without county_rank")
    # county_rank the reader refuses, and lists the AgroFlux order cannot be built from
    base = json.load(open(os.path.join(out, "index.json")))
    site = next(i for i, m in enumerate(base["samples"]) if m["kind"] == "site")
    a0, a1, b0 = base["samples"][0], base["samples"][1], base["samples"][2]

    def bad_index(edit, code, text, what):
        ix = json.loads(json.dumps(base))
        edit(ix["samples"])
        json.dump(ix, open(os.path.join(old, "index.json"), "w"))
        fails_with(run([AGROFLUX, "export", old, "--layout", "agroflux", os.path.join(work, "d_old")]), code, text, what)

    bad_index(lambda s: s[site].update(county_rank=0), 1, "field 'samples[%d].county_rank' is set on a site" % site,
              "index: county_rank on a site")
    bad_index(lambda s: s[0].update(county_rank=-1), 1, "field 'samples[0].county_rank' is -1, out of range (below 0)", "index: negative county_rank")
    bad_index(lambda s: s[0].update(county_rank="1"), 1, "field 'samples[0].county_rank' is not an integer", "index: county_rank not an integer")
    bad_index(lambda s: s[1].update(county_rank=a0["county_rank"] + 1 if b0["county_rank"] != a0["county_rank"] + 1 else a0["county_rank"] + 2),
              2, "county sample '%s' has county_rank" % a1["id"], "export: the scenarios of a county disagree on county_rank")
    bad_index(lambda s: [m.update(county_rank=a0["county_rank"]) for m in s[2:4]], 2, "share county list position %d" % a0["county_rank"],
              "export: two counties share a county list position")
    bad_index(lambda s: s[3].update(scenario="N9"), 2, "needs every county with the same scenarios in the same order",
              "export: a county with other scenarios")
    bad_index(lambda s: s[1].update(fips=b0["fips"], county_rank=b0["county_rank"]), 2, "scenarios, county",
              "export: a county with fewer scenarios")


def error_paths(work, fips, sites):
    bad_splits = [
        ([("temporal_train", "2001-2002"), ("temporal_val", "2002"), ("temporal_test", "2003")], "overlap or are out of order"),
        ([("temporal_train", "1999"), ("temporal_val", "2002"), ("temporal_test", "2003")], "lies outside the daily axis"),
        ([("temporal_train", "2001")], "missing key 'temporal_val'"),
        ([("temporal_train", "20x1"), ("temporal_val", "2002"), ("temporal_test", "2003")], "is not a year or a range"),
        ([("spatial_folds", "2")], "is too few"),
        ([("loso", "no")], "declares no split"),
        ([("spatial_assign", "striped")], "is not one of blocks|random"),
        ([("folds", "3")], "unknown key 'folds'"),
    ]
    for k, (sp, msg) in enumerate(bad_splits):
        p = T.write_pipeline(work, Y0, Y1, sp, name="bad%d.ini" % k)
        fails_with(run([AGROFLUX, "plan", p]), 2, msg, "bad [splits] %s -> '%s'" % (sp, msg))
    p = T.write_pipeline(work, Y0, Y1, [("spatial_folds", "7")], name="toomany.ini")
    fails_with(run([AGROFLUX, "run", p, "--output", os.path.join(work, "o_many")]), 2, "only 6 counties", "spatial_folds > counties")
    check(not os.path.exists(os.path.join(work, "o_many", "index.json")), "failed split run publishes no index")
    # export without AgroFlux names: PLANTT and TPH dropped from the inputs
    p = T.write_pipeline(work, Y0, Y1, SPLITS, inputs=[n for n in T.INPUTS if n not in ("PLANTT", "TPH")], name="noname.ini")
    check(run([AGROFLUX, "run", p, "--output", os.path.join(work, "o_noname")]).returncode == 0, "run without PLANTT/TPH")
    fails_with(run([AGROFLUX, "export", os.path.join(work, "o_noname"), "--layout", "agroflux", os.path.join(work, "d_noname")]),
               2, "lacks AgroFlux names needed by --layout agroflux: PLANTT, TPH", "export lacking names lists them")
    # no [splits]: no scalers to scale with
    p = T.write_pipeline(work, Y0, Y1, None, name="nosplit.ini")
    check(run([AGROFLUX, "run", p, "--output", os.path.join(work, "o_nosplit")]).returncode == 0, "run without [splits]")
    idx = json.load(open(os.path.join(work, "o_nosplit", "index.json")))
    check("extra" not in idx, "no [splits]: no extra in the index")
    fails_with(run([AGROFLUX, "export", os.path.join(work, "o_nosplit"), "--layout", "agroflux", os.path.join(work, "d_nosplit")]),
               1, "add a [splits] section", "export without splits")
    check(not os.path.exists(os.path.join(work, "d_nosplit", "export.json")), "failed export leaves no manifest")
    # standard calendar: not the 365-day AgroFlux layout
    p = T.write_pipeline(work, Y0, Y1, SPLITS, calendar="standard", name="std.ini")
    check(run([AGROFLUX, "run", p, "--output", os.path.join(work, "o_std")]).returncode == 0, "run with calendar standard")
    fails_with(run([AGROFLUX, "export", os.path.join(work, "o_std"), "--layout", "agroflux", os.path.join(work, "d_std")]),
               2, "needs whole years of 365 days", "export of a standard-calendar output")
    # DEST not writable: its parent is a regular file
    blocker = os.path.join(work, "blocker")
    open(blocker, "w").write("x")
    fails_with(run([AGROFLUX, "export", os.path.join(work, "out"), "--layout", "agroflux", os.path.join(blocker, "dest")]),
               1, "blocker", "export to an unwritable DEST")
    fails_with(run([AGROFLUX, "export", os.path.join(work, "out"), "--layout", "npz", os.path.join(work, "d")]), 2,
               "--layout 'npz': expected agroflux", "unknown layout")
    fails_with(run([AGROFLUX, "export", os.path.join(work, "out"), "--layout", "agroflux", os.path.join(work, "d_f9"), "--split", "spatial", "--fold", "9"]),
               1, "no spatial fold 9", "export with a fold the index lacks")
    for args, msg in ((["export", os.path.join(work, "out")], "missing operand DEST"),
                      (["export", "a", "--layout", "agroflux", "b", "--subset", "xx"], "--subset 'xx': expected mw or dc"),
                      (["export", "a", "--layout", "agroflux", "b", "--split", "loso"], "--split 'loso': expected temporal, spatial, official-temporal or official-spatial"),
                      (["export", "a", "--layout", "agroflux", "b", "--fold", "-1"], "--fold '-1': expected an integer")):
        fails_with(run([AGROFLUX, *args]), 2, msg, "export usage error: %s" % " ".join(args[1:]))
    # loso = yes with only 2 sites
    small = os.path.join(work, "small")
    T.make(AGROFLUX, small, Y0, Y0, counties=3, nsites=2, splits=[("loso", "yes")])
    fails_with(run([AGROFLUX, "run", os.path.join(small, "pipeline.ini")]), 2, "loso = yes needs at least 3 sites",
               "loso = yes with 2 sites")
    # an export whose output was rerun with another pipeline no longer verifies
    man = os.path.join(work, "d1", "export.json")
    m = json.load(open(man))
    m["config_sha256"] = "0" * 64
    json.dump(m, open(man, "w"))
    fails_with(run([AGROFLUX, "export", "--verify", os.path.join(work, "d1")]), 3, "config_sha256 differs",
               "verify catches an export of another run")


def main():
    work = tempfile.mkdtemp(prefix="af-train-")
    try:
        fips, sites = T.make(AGROFLUX, work, Y0, Y1, splits=SPLITS)
        pipe = os.path.join(work, "pipeline.ini")
        r1 = mpirun(1, "run", pipe, "--output", os.path.join(work, "out"))
        r3 = mpirun(3, "run", pipe, "--output", os.path.join(work, "out3"))
        check(r1.returncode == 0 and r3.returncode == 0, "runs on 1 and 3 ranks: %s %s" % (r1.stderr[-300:], r3.stderr[-300:]))
        idx = json.load(open(os.path.join(work, "out", "index.json")))
        idx3 = json.load(open(os.path.join(work, "out3", "index.json")))
        check(idx["extra"] == idx3["extra"], "index extra (splits and scalers) identical for 1 and 3 ranks")
        check_splits(idx, fips)
        check_scalers(idx, fips, sites)
        # random assignment, seed 7
        p = T.write_pipeline(work, Y0, Y1, SPLITS + [("spatial_assign", "random"), ("spatial_seed", "7")], name="random.ini")
        rr = run([AGROFLUX, "run", p, "--output", os.path.join(work, "out_rand")])
        check(rr.returncode == 0, "random-assignment run")
        check_splits(json.load(open(os.path.join(work, "out_rand", "index.json"))), fips, random_seed=7)
        # export on 1 and 3 ranks
        stale = os.path.join(work, "d1", "data_files", "t1_co2", "X_real_scaled_ECfluxnet_7.npy")
        os.makedirs(os.path.dirname(stale))
        open(stale, "w").write("from an earlier export")
        e1 = mpirun(1, "export", os.path.join(work, "out"), "--layout", "agroflux", os.path.join(work, "d1"), *OURS)
        e3 = mpirun(3, "export", os.path.join(work, "out"), "--layout", "agroflux", os.path.join(work, "d3"), *OURS)
        check(e1.returncode == 0 and e3.returncode == 0, "export on 1 and 3 ranks: %s %s" % (e1.stderr[-300:], e3.stderr[-300:]))
        b1, b3 = tree_bytes(os.path.join(work, "d1")), tree_bytes(os.path.join(work, "d3"))
        check(len(b1) == 24 and b1 == b3, "export bytes identical for 1 and 3 ranks (%d files), stale site file removed" % len(b1))
        check_export(os.path.join(work, "d1"), idx, fips, sites)
        check_county_rank(idx, fips)
        check_county_rank(idx3, fips)
        sign_and_order(work, idx, fips, sites)
        v = run([AGROFLUX, "export", "--verify", os.path.join(work, "d1")])
        check(v.returncode == 0 and "OK (23 files)" in v.stdout, "export --verify passes: " + v.stderr)
        sc = os.path.join(work, "d3", "data_files", "t0_scalers", "X_scaler.npy")
        a = np.load(sc)
        a[3, 1] += 1
        np.save(sc, a)
        fails_with(run([AGROFLUX, "export", "--verify", os.path.join(work, "d3")]), 3, "X_scaler.npy: row 3 std",
                   "verify catches a scaler file that differs from the index")
        yf = os.path.join(work, "d3", "data_files", "t0_mw", "Y_mw_scaled_Water.npy")
        with open(yf, "r+b") as fp:
            fp.truncate(os.path.getsize(yf) - 4)
        fails_with(run([AGROFLUX, "export", "--verify", os.path.join(work, "d3")]), 3, "Y_mw_scaled_Water.npy: size",
                   "verify catches a truncated array")
        check_reader(os.path.join(work, "out"), idx, fips, sites)
        error_paths(work, fips, sites)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(check.summary())
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
