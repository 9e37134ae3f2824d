# SPDX-License-Identifier: MIT
"""Malformed-input corpus: every case is an `agroflux synth` tree (linked, so each case costs only
the files it changes) plus one mutation, run with `agroflux run` on 1 and on 2 ranks.

A case either fails, with its expected exit code and a message fragment that names where (file,
line, key, variable), and then nothing is published (no index.json, no shard under a final name);
or it is accepted (a spelling that means the same data: BOM, CRLF, [ name ], -9999.0 for -9999 ...)
and then every cell of every sample (`agroflux inspect --sample ID --csv`) equals the control
run of the unmutated tree. `test_corpus.py GROUP` runs one group (one meson test each);
`--list` prints the cases.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

AGROFLUX = os.environ.get("AGROFLUX", "agroflux")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


# ---- mutations: each takes the case directory -------------------------------------------------

def real(d, rel):
    """Replace the linked file by a private copy and return its path."""
    p = os.path.join(d, rel)
    data = open(p, "rb").read()
    os.unlink(p)
    open(p, "wb").write(data)
    return p


def edit_bytes(rel, fn):
    def m(d):
        p = real(d, rel)
        new = fn(open(p, "rb").read())
        with open(p, "wb") as f:
            f.write(new)
    return m


def edit_text(rel, fn):
    return edit_bytes(rel, lambda b: fn(b.decode("latin-1")).encode("latin-1"))


def ini_set(section, key, value):
    """Set (or add) key in [section] of the case's pipeline file."""
    def fn(t):
        lines = t.split("\n")
        start = lines.index("[%s]" % section)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
        for i in range(start + 1, end):
            if lines[i].split("=")[0].strip() == key:
                if value is None:
                    del lines[i]
                else:
                    lines[i] = "%s = %s" % (key, value)
                return "\n".join(lines)
        lines.insert(end, "%s = %s" % (key, value))
        return "\n".join(lines)
    return fn


def nth_data_line(t, n, skip_comments=True):
    lines = t.split("\n")
    idx = [i for i, l in enumerate(lines) if l and not (skip_comments and l.startswith("#"))]
    return lines, idx[n]


def replace_line(rel, n, fn):
    def f(t):
        lines, i = nth_data_line(t, n)
        lines[i] = fn(lines[i])
        return "\n".join(lines)
    return edit_text(rel, f)


def dup_line(rel, n, fn=lambda l: l):
    def f(t):
        lines, i = nth_data_line(t, n)
        lines.insert(i + 1, fn(lines[i]))
        return "\n".join(lines)
    return edit_text(rel, f)


def remove(rel):
    return lambda d: os.unlink(os.path.join(d, rel))


def truncate(rel, keep):
    return edit_bytes(rel, lambda b: b[:keep if keep >= 0 else len(b) + keep])


def ncatted(rel, *args):
    def m(d):
        p = real(d, rel)
        subprocess.run(["ncatted", "-h", "-O", *args, p], check=True, capture_output=True)
    return m


def ncap_time_shift(rel, days):
    """Shift the NetCDF time axis by rewriting the CDL (ncdump/ncgen)."""
    def m(d):
        p = real(d, rel)
        cdl = subprocess.run(["ncdump", p], check=True, capture_output=True, text=True).stdout
        cdl = cdl.replace('day:units = "days since 1900-01-01 00:00:00"',
                          'day:units = "days since %d-01-01 00:00:00"' % (1900 + days // 365))
        tmp = p + ".cdl"
        open(tmp, "w").write(cdl)
        os.unlink(p)
        subprocess.run(["ncgen", "-k", "nc4", "-o", p, tmp], check=True, capture_output=True)
        os.unlink(tmp)
    return m


def all_fill(rel, var):
    def m(d):
        p = real(d, rel)
        subprocess.run(["ncap2", "-O", "-s", "%s(:,:,:)=32767" % var, p, p], check=True, capture_output=True)
    return m


def county_geometry(fips, fn):
    """Rewrite one county's polygon in counties.geojson (fn maps each (x, y) vertex)."""
    import json

    def f(t):
        doc = json.loads(t)
        for feat in doc["features"]:
            if feat["properties"]["GEOID"] == fips:
                g = feat["geometry"]
                rings = g["coordinates"] if g["type"] == "Polygon" else [r for p in g["coordinates"] for r in p]
                for ring in rings:
                    ring[:] = [list(fn(x, y)) for x, y in ring]
        return json.dumps(doc)
    return edit_text("counties.geojson", f)


def chain(*ms):
    def m(d):
        for f in ms:
            f(d)
    return m


def pipe(fn):
    return lambda name: edit_text(name, fn)


# ---- the corpus ---------------------------------------------------------------------------------
# (group, id, pipeline, mutation(d, pipeline_name), expect): expect = (exit, fragment regex) or "same".
T, A, D = "pipeline-tables.ini", "pipeline.ini", "pipeline-daycent.ini"
W = "tables/weather_2003.csv"
G = "tables/targets.csv"
E = "ecosys/19001/N000/010102003dc"
DC = "daycent/19003_N000/nflux.out"
TX = "gridmet/tmmx_2003.nc"
CH = "chambers/chambers.csv"
TW = "towers/AMF_US-Sx1_BASE_HH_1-5.csv"
OBS = ("\n[target.N2O_CH]\nsource = chamber\npath = {root}/chambers/chambers.csv\nsource_units = nmol m-2 s-1\n"
       "units = g N m-2 d-1\napplies_to = sites\n\n[target.TA_TOWER]\nsource = tower\nformat = base\n"
       "path = {root}/towers/AMF_{site}_BASE_*.csv\ncolumn = TA\nsource_units = degC\nunits = degC\napplies_to = sites\n")
O = "pipeline-obs.ini"

CASES = [
    # pipeline files (exit 2, the line and the key)
    ("ini", "unknown-key", T, lambda p: pipe(ini_set("pipeline", "colour", "blue"))(p), (2, r"unknown key 'colour'|colour")),
    ("ini", "unknown-section", T, lambda p: pipe(lambda t: t + "\n[weather]\nx = 1\n")(p), (2, r"unknown section \[weather\]")),
    ("ini", "duplicate-key", T, lambda p: pipe(lambda t: t.replace("block_days = 200", "block_days = 200\nblock_days = 100"))(p), (2, r":\d+: \[pipeline\] key 'block_days' given twice")),
    ("ini", "bad-start-date", T, lambda p: pipe(ini_set("pipeline", "start", "2003-02-30"))(p), (2, r"start.*2003-02-30")),
    ("ini", "end-before-start", T, lambda p: pipe(ini_set("pipeline", "end", "2002-12-31"))(p), (2, r"end")),
    ("ini", "indented-line", T, lambda p: pipe(lambda t: t.replace("block_days = 200", "  block_days = 200"))(p), (2, r":\d+: indented line")),
    ("ini", "key-before-section", T, lambda p: pipe(lambda t: "name = x\n" + t)(p), (2, r":1: key outside any section")),
    ("ini", "syntax", T, lambda p: pipe(lambda t: t.replace("[counties]", "[counties\nthis is not a key\n"))(p), (2, r":\d+: syntax error")),
    ("ini", "line-too-long", T, lambda p: pipe(ini_set("pipeline", "output", "x" * 9000))(p), (2, r"line of \d+ bytes: a line may hold at most 8192 bytes")),
    ("ini", "latin1-name", T, lambda p: pipe(ini_set("pipeline", "name", "caf\xe9"))(p), (2, r"\[pipeline\] name: the value is not valid UTF-8")),
    ("ini", "bad-calendar", T, lambda p: pipe(ini_set("pipeline", "calendar", "julian"))(p), (2, r"calendar.*julian")),
    ("ini", "unknown-units", T, lambda p: pipe(lambda t: t.replace("source_units = K", "source_units = Kelvinn", 1))(p), (2, r":\d+: \[input.TMAX_AIR\] source_units: unknown units 'Kelvinn'")),
    ("ini", "missing-input", T, lambda p: pipe(lambda t: t.replace("weather_{year}.csv", "nothere_{year}.csv"))(p), (2, r":\d+: \[input.TMAX_AIR\] path: cannot read .*nothere_2003\.csv' \(year 2003\)")),
    ("ini", "bom", T, lambda p: pipe(lambda t: "\xef\xbb\xbf" + t)(p), "same"),
    ("ini", "spaced-section", T, lambda p: pipe(lambda t: t.replace("[counties]", "[ counties ]").replace("[pipeline]", "[pipeline ]"))(p), "same"),
    ("ini", "crlf", T, lambda p: pipe(lambda t: t.replace("\n", "\r\n"))(p), "same"),
    ("ini", "long-comment", T, lambda p: pipe(lambda t: t.replace("[counties]", "; " + "c" * 3000 + "\n[counties]"))(p), "same"),
    # generic daily tables
    ("tables", "short-row", T, lambda p: replace_line(W, 5, lambda l: l.rsplit(",", 1)[0]), (1, r"weather_2003\.csv:6: 4 fields, the header has 5")),
    ("tables", "cut-mid-row", T, lambda p: edit_bytes(W, lambda b: b[:b.rindex(b"\n", 0, len(b) - 1) + 9]), (1, r"weather_2003\.csv:\d+: \d fields, the header has 5 \(the file ends in the middle")),
    ("tables", "not-a-number", T, lambda p: replace_line(W, 3, lambda l: l.replace(",", ",x", 1) if False else ",".join(l.split(",")[:2] + ["28x"] + l.split(",")[3:])), (1, r"weather_2003\.csv:4: column 'tmax': '28x' is not a number")),
    ("tables", "bad-date", T, lambda p: replace_line(W, 2, lambda l: l.replace("2003-01-01", "2003-13-01")), (1, r"weather_2003\.csv:3: column 'date': bad date '2003-13-01'")),
    ("tables", "duplicate-row", T, lambda p: dup_line(G, 2), (1, r"targets\.csv:\d+: duplicate row for id")),
    ("tables", "missing-column", T, lambda p: replace_line(W, 0, lambda l: l.replace("tmax", "tmaxx")), (1, r"no column 'tmax'")),
    ("tables", "empty-file", T, lambda p: edit_bytes(W, lambda b: b""), (1, r"weather_2003\.csv.*empty file")),
    ("tables", "nul-byte", T, lambda p: edit_bytes(W, lambda b: b.replace(b"288.16", b"28\x008.16", 1)), (1, r"weather_2003\.csv:\d+.*NUL")),
    ("tables", "sentinel-spelling", T, lambda p: edit_text(W, lambda t: t.replace(",-9999", ",-9999.0")), "same"),
    ("tables", "crlf", T, lambda p: edit_text(W, lambda t: t.replace("\n", "\r\n")), "same"),
    ("tables", "bom", T, lambda p: edit_bytes(W, lambda b: b"\xef\xbb\xbf" + b), "same"),
    ("tables", "missing-file", T, lambda p: remove(W), (2, r"path: cannot read .*weather_2003\.csv")),
    # Ecosys outputs
    ("models", "ecosys-other-year", A, lambda p: edit_text(E, lambda t: re.sub(r"\b(\d{3,4})2003\b", r"\g<1>2002", t)), (1, r"010102003dc: no row of 2003 \(its rows are of 2002\)")),
    ("models", "ecosys-missing-column", A, lambda p: edit_text(E, lambda t: t.replace("ECO_GPP", "ECO_GPX", 1)), (1, r"010102003dc: no column 'ECO_GPP'")),
    ("models", "ecosys-repeated-day", A, lambda p: dup_line(E, 5), (1, r"010102003dc:7: column 1 \(DOY\).*does not follow")),
    ("models", "ecosys-overflow", A, lambda p: replace_line(E, 3, lambda l: l.replace("0.", "**", 1) if False else re.sub(r"-?0\.\d+E[+-]\d+", "***************", l, count=1)), (1, r"010102003dc:4: column \d+ \(.*\): '\*+' is not a number")),
    ("models", "ecosys-short-row", A, lambda p: replace_line(E, 4, lambda l: l.rsplit(" ", 1)[0]), (1, r"010102003dc:5: \d+ fields, expected \d+")),
    ("models", "ecosys-missing-file", A, lambda p: remove(E), (2, r"\[target.Reco@counties\] path: cannot read .*010102003dc. \(sample 19001:N000\)")),
    ("models", "ecosys-bom", A, lambda p: edit_bytes(E, lambda b: b"\xef\xbb\xbf" + b), "same"),
    ("models", "daycent-duplicate-day", D, lambda p: dup_line(DC, 3), (1, r"nflux\.out:5: duplicate day 3 of 2003: line 4")),
    ("models", "daycent-no-dayofyr", D, lambda p: replace_line(DC, 0, lambda l: l.replace("dayofyr", "doy")), (1, r"nflux\.out:1: header lacks column 'dayofyr'")),
    ("models", "daycent-bad-number", D, lambda p: replace_line(DC, 2, lambda l: l.replace(" 5.", " x5.", 1)), (1, r"nflux\.out:3: column 'dnit_N2O-N': 'x5\.\d+' is not a number")),
    ("models", "daycent-bom", D, lambda p: edit_bytes(DC, lambda b: b"\xef\xbb\xbf" + b), "same"),
    ("models", "daycent-crlf", D, lambda p: edit_text(DC, lambda t: t.replace("\n", "\r\n")), "same"),
    # towers and chambers
    ("obs", "chamber-duplicate", O, lambda p: dup_line(CH, 2, lambda l: l.rsplit(",", 1)[0] + ",57.6"), (1, r"chambers\.csv:\d+: duplicate record: chamber 'US-Sx1' at 2003-01-01 \d\d:\d\d, flux 57\.6, already at line \d+ with flux")),
    ("obs", "chamber-bad-time", O, lambda p: replace_line(CH, 3, lambda l: l.replace("2003-01-01", "2003-01-32")), (1, r"chambers\.csv:\d+: column 'timestamp': bad timestamp")),
    ("obs", "chamber-bad-number", O, lambda p: replace_line(CH, 3, lambda l: l.rsplit(",", 1)[0] + ",1.5x"), (1, r"chambers\.csv:\d+: column 'flux': bad number '1\.5x'")),
    ("obs", "chamber-bom", O, lambda p: edit_bytes(CH, lambda b: b"\xef\xbb\xbf" + b), "same"),
    ("obs", "tower-duplicate-time", O, lambda p: dup_line(TW, 4), (1, r"AMF_US-Sx1_BASE_HH_1-5\.csv:\d+: .*duplicates")),
    ("obs", "tower-bad-number", O, lambda p: replace_line(TW, 5, lambda l: ",".join(l.split(",")[:4] + ["2.x"] + l.split(",")[5:])), (1, r"AMF_US-Sx1_BASE_HH_1-5\.csv:\d+: column 'TA': bad number '2\.x'")),
    ("obs", "tower-missing-column", O, lambda p: replace_line(TW, 0, lambda l: l.replace(",TA,", ",TAX,")), (1, r"no column 'TA'")),
    ("obs", "tower-sentinel-spelling", O, lambda p: edit_text(TW, lambda t: t.replace(",-9999", ",-9999.000")), "same"),
    # NetCDF and rasters
    ("grids", "netcdf-units-disagree", A, lambda p: ncatted(TX, "-a", "units,air_temperature,o,c,degC"), (1, r"tmmx_2003\.nc: variable 'air_temperature' has units 'degC', but .*\[input\.TMAX_AIR\] source_units says 'K'")),
    ("grids", "netcdf-units-unknown-ok", A, lambda p: ncatted(TX, "-a", "units,air_temperature,o,c,kelvin_like"), "same"),
    ("grids", "netcdf-no-day-in-range", A, lambda p: ncap_time_shift(TX, 3650), (1, r"tmmx_2003\.nc: none of its 365 days \(\d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d\) is in the pipeline's range")),
    # ncap2 rewrites the variable as a deflated float64 netCDF-4 whose chunk is larger than the chunk cache
    # (it once read value by value, a whole chunk decoded per value: af__gridded_read_type)
    ("grids", "netcdf-all-fill", A, lambda p: all_fill(TX, "air_temperature"), ("warn", r"warning: coverage: input TMAX_AIR \(source gridded\): no valid value in any of its \d+ sample-days")),
    ("grids", "netcdf-truncated", A, lambda p: truncate(TX, 3000), (1, r"tmmx_2003\.nc")),
    ("grids", "netcdf-garbage", A, lambda p: edit_bytes(TX, lambda b: b"this is not a NetCDF file\n" * 10), (1, r"cannot open 'NETCDF:.*tmmx_2003\.nc.*': \S")),
    ("grids", "netcdf-missing", A, lambda p: remove(TX), (2, r":\d+: \[input.TMAX_AIR\] path: cannot read .*tmmx_2003\.nc")),
    ("geo", "raster-truncated", A, lambda p: truncate("soil/bd_0-5.tif", 600), (1, r"bd_0-5\.tif")),
    ("geo", "raster-garbage", A, lambda p: edit_bytes("soil/sand_5-15.tif", lambda b: b"garbage" * 50), (1, r"sand_5-15\.tif")),
    ("geo", "raster-missing", A, lambda p: remove("soil/ph_0-5.tif"), (2, r":\d+: \[input.TPH\] path: layer 0-5: cannot read .*ph_0-5\.tif")),
    ("geo", "vector-bad-json", T, lambda p: edit_bytes("counties.geojson", lambda b: b[: len(b) // 2]), (None, r"counties\.geojson")),
    ("geo", "vector-no-geoid", T, lambda p: edit_text("counties.geojson", lambda t: t.replace('"GEOID"', '"GEOIDX"')), (None, r"GEOID")),
    ("geo", "polygon-outside-raster", A, lambda p: county_geometry("19005", lambda x, y: (x + 30, y)), ("warn", r"county 19005 lies entirely outside the raster of .*tmmx_2003\.nc")),
    ("geo", "polygon-zero-area", A, lambda p: county_geometry("19003", lambda x, y: (x, 41.7)), (None, r"19003.*(zero or negative area|area)")),
    ("geo", "planting-table-missing", A, lambda p: remove("mgmt/planting_2003.csv"), (None, r"planting_2003\.csv")),
    ("geo", "site-list-missing", T, lambda p: remove("site_lists/sites.csv"), (None, r"sites\.csv")),
    ("geo", "county-select-unknown", T, lambda p: edit_text("site_lists/counties.csv", lambda t: t + "99999\n"), (None, r"99999")),
]


def prepare(tmp):
    data = os.path.join(tmp, "synth")
    r = subprocess.run([AGROFLUX, "synth", data, "--counties", "3", "--scenarios", "1", "--sites", "1",
                        "--years", "2003-2003", "--seed", "5"], capture_output=True, text=True)
    check(r.returncode == 0, "synth: " + r.stderr)
    text = open(os.path.join(data, T)).read()
    open(os.path.join(data, O), "w").write(text + OBS)
    return data


def case_dir(data, tmp, cid):
    d = os.path.join(tmp, "case-" + cid)
    subprocess.run(["cp", "-rs", data, d], check=True)
    for name in (T, A, D, O):
        real(d, name)
    return d


def run(n, pipeline, out, extra=(), quiet=True):
    return subprocess.run(["mpirun", "-n", str(n), "--oversubscribe", AGROFLUX, *(["-q"] if quiet else []), "run",
                           pipeline, "--output", out, *extra], capture_output=True, text=True, timeout=300)


def cells(out):
    """Every sample's daily series as CSV (inspect), by sample id."""
    import json
    idx = json.load(open(os.path.join(out, "index.json")))
    res = {}
    for s in idx["samples"]:
        p = subprocess.run([AGROFLUX, "inspect", out, "--sample", s["id"], "--csv"], capture_output=True, text=True)
        res[s["id"]] = p.stdout
    return res


def said(r):
    """agroflux's own lines of stderr (not mpirun's)."""
    return "\n".join(l for l in r.stderr.splitlines() if l.startswith("agroflux"))[-600:]


def published(out):
    if not os.path.isdir(out):
        return []
    return [n for n in os.listdir(out) if n == "index.json" or (n.startswith("shard-") and n.endswith(".nc"))]


def run_case(data, tmp, controls, case):
    group, cid, pname, mut, expect = case
    d = case_dir(data, tmp, cid)
    try:
        mut(pname)(d)
    except Exception as e:  # a broken mutation is a test bug: say which
        check(False, "%s/%s: mutation failed: %r" % (group, cid, e))
        return
    for n in (1, 2):
        out = os.path.join(d, "out%d" % n)
        r = run(n, os.path.join(d, pname), out, quiet=expect[0] != "warn")
        what = "%s/%s on %d rank%s" % (group, cid, n, "s" if n > 1 else "")
        if expect[0] == "warn":  # accepted, with a warning that names what is missing
            check(r.returncode == 0 and published(out), "%s: accepted, got exit %d: %s" % (what, r.returncode, said(r)))
            check(re.search(expect[1], r.stderr) is not None, "%s: no warning /%s/: %s" % (what, expect[1], said(r)))
        elif expect == "same":
            check(r.returncode == 0, "%s: accepted, got exit %d: %s" % (what, r.returncode, said(r)))
            if r.returncode == 0:
                got = cells(out)
                want = controls[pname]
                bad = [k for k in want if got.get(k) != want[k]]
                check(not bad and set(got) == set(want), "%s: cells differ from the control for %s" % (what, bad[:3]))
        else:
            code, frag = expect
            ok_code = r.returncode == code if code is not None else r.returncode in (1, 2)
            check(ok_code, "%s: exit %s expected, got %d: %s" % (what, code, r.returncode, said(r)))
            check(re.search(frag, r.stderr) is not None, "%s: message lacks /%s/: %s" % (what, frag, said(r)))
            check(not published(out), "%s: nothing published on failure: %s" % (what, published(out)))
    shutil.rmtree(d, ignore_errors=True)


def main():
    if "--list" in sys.argv:
        for c in CASES:
            print(c[0], c[1], c[4] if c[4] == "same" else "exit %s /%s/" % (0 if c[4][0] == "warn" else c[4][0], c[4][1]))
        print(len(CASES), "cases")
        return 0
    groups = [a for a in sys.argv[1:] if not a.startswith("-")] or sorted({c[0] for c in CASES})
    todo = [c for c in CASES if c[0] in groups]
    if shutil.which("ncatted") is None or shutil.which("ncap2") is None or shutil.which("ncgen") is None:
        print("SKIP NetCDF mutations: NCO/ncgen not installed", file=sys.stderr)
        todo = [c for c in todo if c[0] != "grids" or "netcdf" not in c[1]]
    tmp = tempfile.mkdtemp(prefix="af-corpus-")
    try:
        data = prepare(tmp)
        controls = {}
        for pname in sorted({c[2] for c in todo if c[4] == "same"}):
            out = os.path.join(tmp, "control-" + pname)
            r = run(1, os.path.join(data, pname), out)
            check(r.returncode == 0, "control %s: %s" % (pname, r.stderr[-400:]))
            controls[pname] = cells(out) if r.returncode == 0 else {}
        for c in todo:
            run_case(data, tmp, controls, c)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d failures in %d cases" % (len(failures), len(todo)), file=sys.stderr)
        return 1
    print("corpus %s: %d cases passed on 1 and 2 ranks" % (",".join(groups), len(todo)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
