# SPDX-License-Identifier: MIT
"""Coverage accounting end to end (issue #12 item 3): coverage.json, the warnings and `run --strict`.

A synth tree (3 counties x 2 scenarios, 2 sites, 2002-2003) and a pipeline of its daily tables
(TMAX_AIR, TMIN_AIR, PRECN by county; GPP, NEE, N2O_FLUX by sample) plus a gridded (TMAX_GRID,
gridMET), a soil (TBKDS) and a CDL (PLANTT_CDL) feature. Then tagged edits:
  E1 weather_2003.csv: tmax blanked for county 19003 on its first 40 days,
  E2 targets.csv: gpp blanked on every 2003 row (year 2003 missing from the file),
  E3 gridmet/tmmx_2003.nc: all fill values (a file that contributes no valid day; its
     2002 file still has values for the other counties, so 19005 is named too),
  E4 county 19005 moved 30 degrees east (outside every raster: gridded, soil, CDL).
Checks, against references computed here from the CSV text and the edits (not from the C code):
  - the clean tree: no warning, --strict passes, the tables' per-sample/per-year counts and per-file
    counts equal the reference, index.json counts and references coverage.json, verify checks it
    (a changed coverage.json is exit 3);
  - the edited tree: exactly the expected warnings (kinds, counts, text naming feature, file, year,
    county), the same counts in index.json, the summary, `inspect` and `report`; exact per-sample/per-year and per-file
    numbers for the tables; 0 valid for 19005 in the raster features;
  - --strict on the edited tree: exit 1, the error names the counts and the first warning, nothing
    published (no index.json, no coverage.json); a previous complete output stays published and
    verifiable; --resume afterwards starts over (the journal is gone) and accounts for every day;
  - [pipeline] coverage_min_fraction = 0.99: the tables' file-years below it are exactly the
    reference's; a value outside 0..1 is a pipeline-file error (exit 2) naming the key;
  - a NetCDF units attribute that disagrees with source_units (convertible but different, or of
    another dimension) fails the run naming file, variable, units and the pipeline line;
  - 1 and 2 ranks write byte-identical coverage.json, and so does a run interrupted (test hook) after
    400 days or after sealing and resumed on 2 ranks (the written days are read back);
  - "files" lists the files read by several samples and the files with a warning, "nfiles" counts
    all: an Ecosys target (one file per county sample and year) lists none on the clean tree and
    exactly the one file made all-missing (E5) on a copy, whose warning names it.
Prints "N passed, N failed"."""
import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from af_cli import AGROFLUX, mpirun, run  # noqa: E402
from checks import Checker  # noqa: E402

check = Checker()
YEARS = [2002, 2003]
BLANK_DAYS = 40
EXTRA = """
[input.TMAX_GRID]
source = gridded
path = {root}/gridmet/tmmx_{year}.nc
variable = air_temperature
source_units = K
units = degC

[input.TBKDS]
source = soil
path = {root}/soil/bd_{layer}.tif
layers = 0-5,5-15,15-30
depth = 0-30
source_units = g cm-3
units = Mg m-3

[input.PLANTT_CDL]
source = cdl
path = {root}/cdl/{year}_30m_cdls.tif
statistic = dominant_in
classes = 1
crop_classes = 1,5
units = flag
applies_to = counties

[target.ET_ECO]
source = ecosys
path = {root}/ecosys/{fips}/{scenario}/01010{year}dw
variable = ET
applies_to = counties
cumulative = yes
units = mm d-1
"""
# table features: section -> (file template, column, match by county FIPS?)
TABLES = {
    "input.TMAX_AIR": ("tables/weather_{year}.csv", "tmax", True),
    "input.TMIN_AIR": ("tables/weather_{year}.csv", "tmin", True),
    "input.PRECN": ("tables/weather_{year}.csv", "prcp", True),
    "target.GPP": ("tables/targets.csv", "gpp", False),
    "target.NEE": ("tables/targets.csv", "nee", False),
    "target.N2O_FLUX": ("tables/targets.csv", "n2o", False),
}


def make_tree(tmp):
    d = os.path.join(tmp, "s")
    r = run([AGROFLUX, "-q", "synth", d, "--counties", "3", "--sites", "2", "--years", "2002-2003"])
    if r.returncode != 0:
        print(r.stderr)
        sys.exit(1)
    text = open(os.path.join(d, "pipeline-tables.ini")).read().replace("output = output-tables", "output = out")
    open(os.path.join(d, "cov.ini"), "w").write(text + EXTRA)
    return d


def edit_csv(path, fn):
    rows = list(csv.reader(open(path, newline="")))
    head = rows[0]
    for row in rows[1:]:
        fn(head, row)
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def apply_edits(d):
    seen = []

    def e1(head, row):
        if row[0] == "19003" and len(seen) < BLANK_DAYS and row[head.index("tmax")].strip() not in ("", "-9999"):
            seen.append(row[1])
            row[head.index("tmax")] = ""
    edit_csv(os.path.join(d, "tables", "weather_2003.csv"), e1)

    def e2(head, row):
        if row[1].startswith("2003-"):
            row[head.index("gpp")] = ""
    edit_csv(os.path.join(d, "tables", "targets.csv"), e2)
    tx = os.path.join(d, "gridmet", "tmmx_2003.nc")
    subprocess.run(["ncap2", "-O", "-s", "air_temperature(:,:,:)=32767", tx, tx], check=True, capture_output=True)
    gj = os.path.join(d, "counties.geojson")
    doc = json.load(open(gj))
    for feat in doc["features"]:
        if feat["properties"]["GEOID"] == "19005":
            g = feat["geometry"]
            rings = g["coordinates"] if g["type"] == "Polygon" else [r for p in g["coordinates"] for r in p]
            for ring in rings:
                ring[:] = [[x + 30, y] for x, y in ring]
    json.dump(doc, open(gj, "w"))
    shutil.rmtree(os.path.join(d, ".agroflux-cache"), ignore_errors=True)


def reference_tables(d, samples):
    """{section: {"cells": [[valid per year] per sample], "days": same, "files": {path: {year: [v, n]}}}}."""
    out = {}
    for sec, (tmpl, col, by_county) in TABLES.items():
        valid = {}
        for y in YEARS:
            rel = tmpl.format(year=y)
            for row in csv.DictReader(open(os.path.join(d, rel), newline="")):
                if not row["date"].startswith("%d-" % y):
                    continue
                v = row[col]
                if v.strip() not in ("", "-9999"):
                    valid[(row["id"], rel, y)] = valid.get((row["id"], rel, y), 0) + 1
        cells, days, files = [], [], {}
        for s in samples:
            key = s["fips"] if (by_county and s["kind"] == "county") else s["id"]
            cv, cd = [], []
            for y in YEARS:
                rel = tmpl.format(year=y)
                v = valid.get((key, rel, y), 0)
                cv.append(v)
                cd.append(365)
                f = files.setdefault(rel, {}).setdefault(y, [0, 0])
                f[0] += v
                f[1] += 365
            cells.append(cv)
            days.append(cd)
        out[sec] = {"cells": cells, "days": days, "files": files}
    return out


def agroflux(*args):
    return run([AGROFLUX, *args])


def load(out):
    idx = json.load(open(os.path.join(out, "index.json")))
    raw = open(os.path.join(out, "coverage.json"), "rb").read()
    return idx, json.loads(raw), raw


def feature(cov, sec):
    for f in cov["features"]:
        if f["section"] == sec:
            return f
    return None


def check_tables(cov, ref, d, what):
    for sec in TABLES:
        f = feature(cov, sec)
        if not check(f is not None, "%s: %s in coverage.json" % (what, sec)):
            continue
        r = ref[sec]
        check(f["per_sample"]["valid"] == r["cells"], "%s: %s per-sample valid %s, reference %s" %
              (what, sec, f["per_sample"]["valid"], r["cells"]))
        check(f["per_sample"]["sample_days"] == r["days"], "%s: %s per-sample days" % (what, sec))
        got = {}
        for fl in f["files"]:
            rel = os.path.relpath(fl["path"], d)
            got[rel] = {y["year"]: [y["valid"], y["sample_days"]] for y in fl["years"]}
            check(fl["valid"] == sum(v[0] for v in got[rel].values()) and
                  fl["sample_days"] == sum(v[1] for v in got[rel].values()), "%s: %s file totals" % (what, fl["path"]))
        check(got == r["files"], "%s: %s per-file %s, reference %s" % (what, sec, got, r["files"]))
        for i, y in enumerate(YEARS):
            yr = [e for e in f["years"] if e["year"] == y][0]
            check(yr["valid"] == sum(c[i] for c in r["cells"]), "%s: %s year %d valid" % (what, sec, y))


def warnings_of(stderr):
    return [m.group(1) for m in re.finditer(r"warning: coverage: (\[.*)", stderr)]


def main():
    tmp = tempfile.mkdtemp(prefix="af-cov-")
    try:
        d = make_tree(tmp)
        pipe = os.path.join(d, "cov.ini")
        clean = os.path.join(tmp, "clean")
        # ---- the clean tree
        r = agroflux("run", pipe, "--output", clean, "--strict")
        check(r.returncode == 0, "clean --strict: exit %d: %s" % (r.returncode, r.stderr[-2000:]))
        idx, cov, raw = load(clean)
        samples = idx["samples"]
        check(len(samples) == 8, "8 samples (3 counties x 2 scenarios + 2 sites), got %d" % len(samples))
        check(warnings_of(r.stderr) == [], "clean: no coverage warning, got %s" % warnings_of(r.stderr)[:3])
        zero = {"file_no_valid_day": 0, "year_missing": 0, "below_threshold": 0, "sample_no_coverage": 0}
        check(cov["warnings"] == zero and idx["provenance"]["coverage_warnings"] == zero, "clean: zero counts")
        check("coverage warnings: 0 files with no valid day, 0 missing years, 0 below coverage_min_fraction, "
              "0 counties or sites with no coverage" in r.stdout, "clean: summary line: %s" % r.stdout)
        ref_clean = reference_tables(d, samples)
        check_tables(cov, ref_clean, d, "clean")
        cf = idx["provenance"]["coverage_file"]
        check(cf["path"] == "coverage.json" and cf["bytes"] == len(raw) and
              cf["sha256"] == hashlib.sha256(raw).hexdigest() and cf["count"] == len(cov["features"]) == 10,
              "clean: index coverage_file %s" % cf)
        check(cov["years"] == YEARS and cov["coverage_min_fraction"] == 0.5, "clean: years and default threshold")
        eco = feature(cov, "target.ET_ECO")
        check(eco is not None and eco["nfiles"] == 3 * 2 * len(YEARS) and eco["files"] == [],
              "clean: an Ecosys target counts its 12 per-sample files and lists none: %s" %
              ({k: eco[k] for k in ("nfiles", "files")} if eco else None))
        check(eco is not None and all(v > 300 for row, smp in zip(eco["per_sample"]["valid"], samples)
                                      if smp["kind"] == "county" for v in row),
              "clean: the Ecosys target's per-sample rows hold its valid days")
        check(all(f["nfiles"] == len(f["files"]) for f in cov["features"] if f["section"] != "target.ET_ECO"),
              "clean: shared files (tables, rasters) are all listed")
        r = agroflux("verify", clean)
        check(r.returncode == 0, "clean: verify: %s" % r.stderr)
        two = os.path.join(tmp, "clean2")
        r = mpirun(2, "run", pipe, "--output", two)
        check(r.returncode == 0, "clean, 2 ranks: %s" % r.stderr[-2000:])
        if r.returncode == 0:
            check(open(os.path.join(two, "coverage.json"), "rb").read() == raw,
                  "clean: coverage.json byte-identical on 1 and 2 ranks")
        # verify notices a changed coverage.json
        bad = os.path.join(tmp, "badcov")
        shutil.copytree(clean, bad)
        open(os.path.join(bad, "coverage.json"), "ab").write(b" ")
        r = agroflux("verify", bad)
        check(r.returncode == 3 and "coverage.json: does not match the index" in r.stderr,
              "verify of a changed coverage.json: exit %d %s" % (r.returncode, r.stderr))

        # ---- E5, on a copy: one Ecosys file all missing is listed, and only it
        d5 = os.path.join(tmp, "s5")
        shutil.copytree(d, d5, symlinks=True)
        eco_file = os.path.join(d5, "ecosys", "19003", "N000", "010102002dw")
        lines = open(eco_file).read().splitlines()
        col = lines[0].split().index("ET")
        rows = [lines[0]] + [" ".join(("-0.9999000E+004" if i == col else t) for i, t in enumerate(ln.split()))
                             for ln in lines[1:]]
        open(eco_file, "w").write("\n".join(rows) + "\n")
        text5 = open(pipe).read().replace(d, d5)
        open(os.path.join(d5, "cov.ini"), "w").write(text5)
        r = agroflux("run", os.path.join(d5, "cov.ini"), "--output", os.path.join(tmp, "e5"))
        check(r.returncode == 0, "E5: %s" % r.stderr[-1500:])
        if r.returncode == 0:
            _, c5, _ = load(os.path.join(tmp, "e5"))
            e5 = feature(c5, "target.ET_ECO")
            check(e5["nfiles"] == 12 and [(fl["path"], fl["valid"], fl["sample_days"]) for fl in e5["files"]] ==
                  [(eco_file, 0, 365)], "E5: the all-missing Ecosys file alone is listed: %s" % e5["files"])
            ws5 = warnings_of(r.stderr)
            check(ws5 == ["[target.ET_ECO] %s: contributes no valid day (365 sample-days read from it, all missing)" %
                          eco_file],
                  "E5: one warning naming the file: %s" % warnings_of(r.stderr))

        # ---- the edited tree
        apply_edits(d)
        out = os.path.join(tmp, "edited")
        r = agroflux("run", pipe, "--output", out)
        check(r.returncode == 0, "edited: exit %d: %s" % (r.returncode, r.stderr[-2000:]))
        idx, cov, raw = load(out)
        ws = warnings_of(r.stderr)

        def has(pattern, what):
            n = sum(1 for w in ws if re.search(pattern, w))
            check(n == 1, "edited: one warning %s (%s), got %d of %s" % (what, pattern, n, ws))
        has(r"^\[input\.TMAX_GRID\] \S*gridmet/tmmx_2003\.nc: contributes no valid day \(2920 sample-days",
            "file with no valid day")
        has(r"^\[target\.GPP\] \S*tables/targets\.csv: year 2003 is missing \(no valid day in its 2920 ",
            "year missing from a file")
        for sec in ("input.TMAX_GRID", "input.TBKDS", "input.PLANTT_CDL"):
            for scen in ("N000", "N336"):
                has(r"^\[%s\] county 19005 \(sample 19005:%s\): no valid value on any of its 730 days" %
                    (re.escape(sec), scen), "county outside the raster")
        want = {"file_no_valid_day": 1, "year_missing": 1, "below_threshold": 0, "sample_no_coverage": 6}
        check(len(ws) == 8, "edited: 8 warnings, got %d: %s" % (len(ws), ws))
        check(cov["warnings"] == want and idx["provenance"]["coverage_warnings"] == want,
              "edited: counts %s / %s" % (cov["warnings"], idx["provenance"]["coverage_warnings"]))
        check(sorted(cov["messages"]) == sorted(ws), "edited: coverage.json lists the warnings")
        check("coverage warnings: 1 files with no valid day, 1 missing years, 0 below coverage_min_fraction, "
              "6 counties or sites with no coverage" in r.stdout, "edited: summary line")
        ref = reference_tables(d, samples)
        check(ref["input.TMAX_AIR"]["files"]["tables/weather_2003.csv"][2003][0] ==
              ref_clean["input.TMAX_AIR"]["files"]["tables/weather_2003.csv"][2003][0] - 2 * BLANK_DAYS,
              "reference: the blanked days count twice (two scenarios)")
        check_tables(cov, ref, d, "edited")
        i19005 = [i for i, s in enumerate(samples) if s.get("fips") == "19005"]
        for sec in ("input.TMAX_GRID", "input.TBKDS", "input.PLANTT_CDL"):
            f = feature(cov, sec)
            check(all(f["per_sample"]["valid"][i] == [0, 0] and f["per_sample"]["sample_days"][i] == [365, 365]
                      for i in i19005), "edited: %s: 19005 has 0 of 365 valid each year" % sec)
        g = feature(cov, "input.TMAX_GRID")
        f2003 = [fl for fl in g["files"] if fl["path"].endswith("tmmx_2003.nc")][0]
        check(f2003["valid"] == 0 and f2003["sample_days"] == 8 * 365, "edited: tmmx_2003.nc 0 of 2920")
        check(agroflux("verify", out).returncode == 0, "edited: verify")
        r = agroflux("inspect", out)
        check(r.returncode == 0 and "coverage warnings: 1 files with no valid day, 1 missing years, 0 below "
              "coverage_min_fraction, 6 counties or sites with no coverage (coverage.json)" in r.stdout,
              "edited: inspect shows the counts: %s" % r.stdout)
        page = os.path.join(tmp, "report.html")
        r = run([AGROFLUX, "report", out, "--output", page], env=dict(os.environ, AGROFLUX_PYTHON3="/usr/bin/python3"))
        check(r.returncode == 0 and "file no valid day: 1, year missing: 1, below threshold: 0, sample no coverage: 6 "
              "(listed in coverage.json)" in open(page, encoding="utf-8").read(),
              "edited: the report's provenance shows the counts: %s" % r.stderr[-500:])
        r2 = mpirun(2, "run", pipe, "--output", os.path.join(tmp, "edited2"))
        check(r2.returncode == 0 and open(os.path.join(tmp, "edited2", "coverage.json"), "rb").read() == raw,
              "edited: coverage.json byte-identical on 1 and 2 ranks")

        # ---- a resumed run accounts for the days written before the interruption too (read back)
        for hook in ("write:block:2", "sealed"):
            ro = os.path.join(tmp, "resumed-" + hook.replace(":", "-"))
            env = dict(os.environ, AGROFLUX_TEST_FAIL_AT=hook)
            r = run([AGROFLUX, "-q", "run", pipe, "--output", ro, "--checkpoint-interval", "0"], env=env)
            check(r.returncode == 1 and not os.path.exists(os.path.join(ro, "index.json")), "interrupted at " + hook)
            r = mpirun(2, "run", pipe, "--output", ro, "--resume")
            check(r.returncode == 0, "resume after %s on 2 ranks: %s" % (hook, r.stderr[-1500:]))
            if r.returncode == 0:
                ir = json.load(open(os.path.join(ro, "index.json")))
                check(ir["provenance"]["resumed_from_day"] > 0, "%s: the run resumed" % hook)
                check(open(os.path.join(ro, "coverage.json"), "rb").read() == raw,
                      "resume after %s: coverage.json equals the uninterrupted run's" % hook)

        # ---- --strict: an error, nothing published
        for n in (1, 2):
            so = os.path.join(tmp, "strict%d" % n)
            r = mpirun(n, "run", pipe, "--output", so, "--strict")
            check(r.returncode == 1, "strict on %d ranks: exit %d" % (n, r.returncode))
            check(re.search(r"--strict: 8 coverage warnings \(1 files with no valid day, 1 missing years, 0 below "
                            r"coverage_min_fraction, 6 counties or sites with no coverage\); the first: (.*); "
                            r"nothing is published", r.stderr) is not None and
                  ("the first: %s; nothing" % cov["messages"][0]) in r.stderr,
                  "strict on %d ranks: message %s" % (n, r.stderr[-1500:]))
            check(not os.path.exists(os.path.join(so, "index.json")) and
                  not os.path.exists(os.path.join(so, "coverage.json")) and
                  not any(f.endswith(".nc") for f in (os.listdir(so) if os.path.isdir(so) else [])), "strict on %d ranks: nothing published" % n)
            check(not os.path.exists(os.path.join(so, "journal.json")), "strict: the journal is removed")
        # --resume after a strict failure starts over and accounts for every day
        r = agroflux("run", pipe, "--output", os.path.join(tmp, "strict1"), "--resume")
        check(r.returncode == 0, "resume after strict: %s" % r.stderr[-1500:])
        if r.returncode == 0:
            i2, c2, raw2 = load(os.path.join(tmp, "strict1"))
            check(i2["provenance"]["resumed_from_day"] == 0 and raw2 == raw,
                  "resume after strict: from day 0, the same coverage.json")
        # a failed --strict rerun over a complete output leaves it published
        r = agroflux("run", pipe, "--output", out, "--strict")
        check(r.returncode == 1 and agroflux("verify", out).returncode == 0 and load(out)[2] == raw,
              "strict rerun over a complete output: exit 1, the previous output still verifies")

        # ---- the threshold key
        r = agroflux("run", pipe, "--output", os.path.join(tmp, "thr"), "--set", "pipeline.coverage_min_fraction=0.99")
        check(r.returncode == 0, "threshold 0.99: %s" % r.stderr[-1500:])
        _, ct, _ = load(os.path.join(tmp, "thr"))
        check(ct["coverage_min_fraction"] == 0.99, "threshold recorded")
        got = sorted(m for m in ct["messages"] if "below [pipeline] coverage_min_fraction" in m and
                     any(m.startswith("[%s]" % s) for s in TABLES))
        want_msgs = []
        for sec in TABLES:
            for rel, years in ref[sec]["files"].items():
                for y, (v, n) in years.items():
                    if v > 0 and v / n < 0.99:
                        want_msgs.append("[%s] %s: year %d: valid fraction %.4f (%d of %d sample-days) is below "
                                         "[pipeline] coverage_min_fraction 0.99" % (sec, rel, y, v / n, v, n))
        got_rel = sorted(re.sub(r"^(\[[^]]*\] )\S*?(tables/)", r"\1\2", m) for m in got)
        check(got_rel == sorted(want_msgs), "threshold 0.99: table warnings %s, reference %s" % (got_rel, want_msgs))
        check(any("tables/weather_2003.csv: year 2003" in m and m.startswith("[input.TMAX_AIR]") for m in got),
              "threshold 0.99: the blanked tmax days make weather_2003.csv/2003 a warning")
        check(ct["warnings"]["below_threshold"] == sum(1 for m in ct["messages"] if "below [pipeline]" in m) > 0,
              "threshold 0.99: count matches the messages")
        for bad_value, pat in (("1.5", r"\[pipeline\] coverage_min_fraction: 1\.5 is not a fraction between 0 and 1"),
                               ("-0.1", r"\[pipeline\] coverage_min_fraction: -0\.1 is not a fraction"),
                               ("half", r"coverage_min_fraction")):
            r = agroflux("run", pipe, "--output", os.path.join(tmp, "badthr"),
                         "--set", "pipeline.coverage_min_fraction=" + bad_value)
            check(r.returncode == 2 and re.search(pat, r.stderr) is not None,
                  "coverage_min_fraction=%s: exit %d %s" % (bad_value, r.returncode, r.stderr[-500:]))
            check(not os.path.exists(os.path.join(tmp, "badthr", "index.json")), "bad threshold: nothing published")
        # ---- a NetCDF units attribute that disagrees with source_units is an error (both ways it can)
        tx = os.path.join(d, "gridmet", "tmmx_2003.nc")
        for units, pat in (("degC", r"tmmx_2003\.nc: variable 'air_temperature' has units 'degC', but \S*cov\.ini:\d+: "
                                    r"\[input\.TMAX_GRID\] source_units says 'K'"),
                           ("mm d-1", r"tmmx_2003\.nc: variable 'air_temperature' has units 'mm d-1', which cannot be 'K' "
                                 r"\(\S*cov\.ini:\d+: \[input\.TMAX_GRID\] source_units\)")):
            subprocess.run(["ncatted", "-h", "-O", "-a", "units,air_temperature,o,c," + units, tx], check=True,
                           capture_output=True)
            uo = os.path.join(tmp, "units-" + units)
            r = agroflux("run", pipe, "--output", uo)
            check(r.returncode == 1 and re.search(pat, r.stderr) is not None,
                  "units %s: exit %d %s" % (units, r.returncode, r.stderr[-600:]))
            check(not os.path.exists(os.path.join(uo, "index.json")), "units %s: nothing published" % units)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(check.summary())
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
