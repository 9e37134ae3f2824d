# SPDX-License-Identifier: MIT
"""Malformed-input corpus: every case is an `agroflux synth` tree (linked, so each case costs only
the files it changes) plus one mutation, run with `agroflux run` on 1 and on 2 ranks.

A case either fails, with its expected exit code and a message fragment that names where (file,
line, key, variable), and then nothing is published (no index.json, no shard under a final name);
or it is accepted (a spelling that means the same data: BOM, CRLF, [ name ], -9999.0 for -9999 ...)
and then every cell of every sample (`agroflux inspect --sample ID --csv`) equals the control
run of the unmutated tree. `test_corpus.py GROUP` runs one group (one meson test each);
`--list` prints the cases.

Groups `journal`, `resume` and `verify` act on outputs instead of inputs. `journal` and the
`partial-*` cases of `resume`: an output interrupted after its first block (test hook
AGROFLUX_TEST_FAIL_AT=write:block:1) has its journal.json or .partial shard damaged, then
`run --resume` must say why it starts over and publish cells equal to the control. The other
`resume` cases: a full disk, as a file size limit (RLIMIT_FSIZE,
SIGXFSZ ignored: write() fails with EFBIG; no mount privileges needed) on the shards, and as
/dev/full behind journal.json.partial or index.json.partial: exit 1 naming the file and the reason,
no index, and a later `run --resume` without the fault publishes the control's cells. `verify`: a
complete output with a damaged index.json, provenance.json or shard, or without its index: `verify`
and `inspect` exit with their code and a message naming the file and field. Every failing case's
agroflux lines must not end in an empty reason (docs/architecture.md, "Error messages").
"""
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile

AGROFLUX = os.environ.get("AGROFLUX", "agroflux")
# Cases run this many at a time (AF_CORPUS_JOBS overrides).
JOBS = int(os.environ.get("AF_CORPUS_JOBS", "3"))
# mpirun whose rank exits non-zero sleeps odls_base_sigkill_timeout (1 s) twice before it kills the
# job's other processes, even when they have all exited: 2 s of idle wall time per failing case
# and rank count. Every rank here leaves on its own (errors are agreed over ranks, then
# MPI_Finalize), so mpirun has nobody left to kill.
os.environ.setdefault("OMPI_MCA_odls_base_sigkill_timeout", "0")
failures = []


def solo_env(base):
    """Environment of `inspect` alone, an MPI singleton (PnetCDF on MPI_COMM_SELF): isolated, it
    starts no orted helper daemon first (about 0.4 s less per call). Isolated singletons all take
    the same job id, so each gets a session directory of its own under `base` (created here): one
    ending would remove the files of another running beside it."""
    os.makedirs(base, exist_ok=True)
    return dict(os.environ, OMPI_MCA_ess_singleton_isolated="1", OMPI_MCA_orte_tmpdir_base=base)


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
    ("grids", "netcdf-units-unknown-warns", A, lambda p: ncatted(TX, "-a", "units,air_temperature,o,c,kelvin_like"), ("warn", r"tmmx_2003\.nc: variable 'air_temperature' has units 'kelvin_like', which neither the units table nor UDUNITS-2 understands: its values are taken as .*\[input\.TMAX_AIR\] source_units 'K'")),
    ("grids", "netcdf-units-udunits-same", A, lambda p: ncatted(TX, "-a", "units,air_temperature,o,c,kelvin"), "same"),
    ("grids", "netcdf-units-udunits-other", A, lambda p: ncatted(TX, "-a", "units,air_temperature,o,c,m"), (1, r"tmmx_2003\.nc: variable 'air_temperature' has units 'm', which cannot be 'K'")),
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
    # CSV quoting (RFC 4180): a quote inside an unquoted field is an error with line and column
    ("tables", "quote-mid-field", T, lambda p: replace_line(W, 4, lambda l: l.replace(",", ',2"8', 1)), (1, r"weather_2003\.csv:5: column '\w+': a double quote inside an unquoted field")),
    ("tables", "quoted-fields", T, lambda p: edit_text(W, lambda t: "\n".join(",".join('"%s"' % f for f in l.split(",")) if l else l for l in t.split("\n"))), "same"),
    ("ini", "nul-byte", T, lambda p: edit_bytes(p, lambda b: b.replace(b"block_days = 200", b"block_days = 2\x0000", 1)), (2, r"pipeline-tables\.ini:\d+: NUL byte \(byte 15 of the line\)")),
]

# ---- outputs: resume / journal, disk full, verify and inspect ------------------------------------
J, PART = "journal.json", "shard-00000.nc.partial"


def journal_edit(fn):
    """Rewrite the interrupted output's journal.json through fn(dict)."""
    import json

    def m(out):
        p = os.path.join(out, J)
        j = json.load(open(p))
        fn(j)
        open(p, "w").write(json.dumps(j))
    return m


def out_bytes(rel, fn):
    def m(out):
        p = os.path.join(out, rel)
        b = fn(open(p, "rb").read())
        open(p, "wb").write(b)
    return m


def setitem(k, v):
    return lambda j: j.__setitem__(k, v)


def zero_middle(b):
    """Zero 4 KiB in the middle of the data written so far (a lost page)."""
    i = len(b) // 2
    return b[:i] + b"\0" * 4096 + b[i + 4096:]


def dev_full(rel):
    """A full disk for one file: its temporary name is a link to /dev/full (write gives ENOSPC)."""
    return lambda out: os.symlink("/dev/full", os.path.join(out, rel))


RESUME_CASES = [
    # (group, id, mutation of the interrupted output, expect): "same" + warning regex, or (exit, regex)
    ("journal", "journal-truncated", out_bytes(J, lambda b: b[: len(b) // 2]), ("same", r"starting over.*unreadable journal: '.*journal\.json': line \d+")),
    ("journal", "journal-empty", out_bytes(J, lambda b: b""), ("same", r"starting over.*unreadable journal: '.*journal\.json'")),
    ("journal", "journal-nul", out_bytes(J, lambda b: b[:40] + b"\0" + b[40:]), ("same", r"starting over.*journal\.json': NUL byte at offset 40")),
    ("journal", "journal-not-object", out_bytes(J, lambda b: b"[1, 2, 3]\n"), ("same", r"starting over.*unreadable journal: '.*journal\.json'")),
    ("journal", "journal-huge-ndays", journal_edit(setitem("ndays", 2 ** 32 + 365)), ("same", r"starting over.*journal\.json': field 'ndays' is 4294967661, out of range 0\.\.2147483647")),
    ("journal", "journal-huge-days-done", journal_edit(setitem("days_done", 2 ** 63 - 1)), ("same", r"starting over.*field 'days_done' is 9223372036854775807, out of range")),
    ("journal", "journal-negative-days", journal_edit(setitem("days_done", -5)), ("same", r"starting over.*field 'days_done' is -5, out of range")),
    ("journal", "journal-days-done-string", journal_edit(setitem("days_done", "200")), ("same", r"starting over.*field 'days_done' is missing or not an integer")),
    ("journal", "journal-missing-field", journal_edit(lambda j: j.pop("config_sha256")), ("same", r"starting over.*journal\.json': field 'config_sha256'")),
    ("journal", "journal-days-done-lie", journal_edit(setitem("days_done", 365)), ("same", r"starting over.*no checksums of the 365 days")),
    ("journal", "journal-huge-check-day", journal_edit(lambda j: j["checks"].__setitem__("days", [10 ** 18])), ("same", r"starting over.*checks\.days\[0\] is not a day after 0 and up to 365")),
    ("journal", "journal-bad-digest", journal_edit(lambda j: j["checks"]["shards"][0].__setitem__("days_sha256", ["0" * 64])), ("same", r"starting over")),
    ("resume", "partial-truncated", out_bytes(PART, lambda b: b[: len(b) // 2]), ("same", r"'shard-00000\.nc\.partial' is \d+ bytes, the journal recorded \d+ at day 200: it was truncated")),
    ("resume", "partial-zeroed-page", out_bytes(PART, zero_middle), ("same", r"'shard-00000\.nc\.partial': days 1\.\.200 do not match their journaled SHA-256")),
    ("resume", "partial-missing", lambda out: os.unlink(os.path.join(out, PART)), ("same", r"'shard-00000\.nc\.partial' is missing")),
    # a full disk: exit 1 naming the file and why, no index; resumed without the fault: the control's cells
    ("resume", "shard-file-size-limit-early", {"fsize": 0.45}, (1, r"shard-00000\.nc\.partial' is \d+ bytes, but its header places variable '\w+' up to byte \d+: a write was lost")),
    ("resume", "shard-file-size-limit-late", {"fsize": 0.99}, (1, r"shard-00000\.nc\.partial' is \d+ bytes, but its header places variable '\w+' up to byte \d+: a write was lost")),
    ("resume", "journal-dev-full", {"fresh": dev_full("journal.json.partial")}, (1, r"journal\.json\.partial': No space left on device")),
    ("resume", "index-dev-full", {"resume": dev_full("index.json.partial")}, (1, r"index\.json\.partial': No space left on device")),
    ("resume", "provenance-dev-full", {"resume": dev_full("provenance.json.partial")}, (1, r"provenance\.json\.partial': No space left on device")),
]


def index_edit(rel, fn):
    import json

    def m(out):
        p = os.path.join(out, rel)
        j = json.load(open(p))
        fn(j)
        open(p, "w").write(json.dumps(j, indent=1))
    return m


def sub(key, k, v):
    return lambda j: j[key].__setitem__(k, v)


VERIFY_CASES = [
    # (group, id, mutation of a complete output, (verify exit, inspect exit or None, regex))
    ("verify", "index-truncated", out_bytes("index.json", lambda b: b[: len(b) // 3]), (1, 1, r"index\.json': line \d+ column \d+")),
    ("verify", "index-nul", out_bytes("index.json", lambda b: b[:25] + b"\0" + b[25:]), (1, 1, r"index\.json': NUL byte at offset 25")),
    ("verify", "index-huge-ndays", index_edit("index.json", sub("calendar", "ndays", 2 ** 32 + 365)), (1, 1, r"index\.json': field 'calendar\.ndays' is 4294967661, out of range \(above 2147483647\)")),
    ("verify", "index-huge-ranks", index_edit("index.json", sub("provenance", "ranks", 2 ** 32 + 1)), (1, 1, r"index\.json': field 'provenance\.ranks' is 4294967297, out of range \(above")),
    ("verify", "index-ranks-string", index_edit("index.json", sub("provenance", "ranks", "2")), (1, 1, r"index\.json': field 'provenance\.ranks' is not an integer")),
    ("verify", "index-missing-samples", index_edit("index.json", lambda j: j.pop("samples")), (1, 1, r"index\.json': field 'samples' is missing")),
    ("verify", "index-missing-interrupted", lambda out: (os.unlink(os.path.join(out, "index.json")), open(os.path.join(out, J), "w").write('{"days_done": 200, "ndays": 365, "state": "writing"}')), (1, 1, r"is incomplete: an interrupted run \(journal\.json: 200 of 365 days written\).*--resume")),
    ("verify", "provenance-truncated", out_bytes("provenance.json", lambda b: b[: len(b) // 2]), (3, None, r"provenance\.json")),
    ("verify", "shard-byte-flipped", out_bytes("shard-00000.nc", lambda b: b[:-100] + bytes([b[-100] ^ 0xFF]) + b[-99:]), (3, None, r"shard-00000\.nc")),
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


def run(n, pipeline, out, extra=(), quiet=True, env=None, fsize=None):
    e = dict(os.environ, **(env or {}))
    pre = []
    if fsize:
        # a file size limit stands for a full disk: MPI's own shared-memory files must stay small
        # (PMIx hash store, TCP between ranks), and agroflux ignores SIGXFSZ, so write() fails with EFBIG.
        # The limit is set by a python3 that then execs mpirun (no preexec_fn: cases run in threads).
        e.update(PMIX_MCA_gds="hash", OMPI_MCA_btl="self,tcp")
        pre = [sys.executable, "-c", "import os, resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
               "resource.setrlimit(resource.RLIMIT_FSIZE, (%d, %d)); os.execvp(sys.argv[1], sys.argv[1:])" % (fsize, fsize)]
    return subprocess.run([*pre, "mpirun", "-n", str(n), "--oversubscribe", AGROFLUX, *(["-q"] if quiet else []),
                           "run", pipeline, "--output", out, "--checkpoint-interval", "0", *extra], capture_output=True,
                          text=True, timeout=300,
                          env=e)


def cells(out):
    """Every sample's daily series as CSV (inspect), by sample id."""
    import json
    idx = json.load(open(os.path.join(out, "index.json")))
    res = {}
    env = solo_env(out.rstrip("/") + ".mpi")
    for s in idx["samples"]:
        p = subprocess.run([AGROFLUX, "inspect", out, "--sample", s["id"], "--csv"], capture_output=True, text=True,
                           env=env)
        check(p.returncode == 0, "inspect %s --sample %s: exit %d: %s" % (out, s["id"], p.returncode, p.stderr[-600:]))
        res[s["id"]] = p.stdout
    return res


def said(r):
    """agroflux's own lines of stderr (not mpirun's)."""
    return "\n".join(l for l in r.stderr.splitlines() if l.startswith("agroflux"))[-600:]


def empty_reason(r):
    """An agroflux line whose reason is empty: it ends in ':' or holds '(null)' or ': :'."""
    return [l for l in r.stderr.splitlines() if l.startswith("agroflux") and
            (l.rstrip().endswith(":") or "(null)" in l or ": :" in l)]


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
            check(not empty_reason(r), "%s: a message with an empty reason: %s" % (what, empty_reason(r)))
    shutil.rmtree(d, ignore_errors=True)


def make_interrupted(data, tmp):
    """An output of the tables pipeline stopped after its first block (days 1-200 journaled): made
    once, before the cases run, then copied by each (interrupted())."""
    tpl = os.path.join(tmp, "interrupted")
    r = run(1, os.path.join(data, T), tpl, env={"AGROFLUX_TEST_FAIL_AT": "write:block:1"})
    ok = r.returncode == 1 and os.path.exists(os.path.join(tpl, J)) and os.path.exists(os.path.join(tpl, PART))
    check(ok, "interrupted output not made: %s" % said(r))


def interrupted(data, tmp, out):
    tpl = os.path.join(tmp, "interrupted")
    if not os.path.exists(os.path.join(tpl, PART)):
        return False
    shutil.copytree(tpl, out)
    return True


def same_cells(out, controls, what):
    got = cells(out)
    want = controls[T]
    bad = [k for k in want if got.get(k) != want[k]]
    check(not bad and set(got) == set(want), "%s: cells differ from the control for %s" % (what, bad[:3]))


def run_resume_case(data, tmp, controls, case):
    group, cid, mut, expect = case
    d = os.path.join(tmp, "case-" + cid)
    os.makedirs(d)
    shard_size = os.path.getsize(os.path.join(tmp, "control-" + T, "shard-00000.nc"))
    for n in (1, 2):
        out = os.path.join(d, "out%d" % n)
        what = "%s/%s on %d rank%s" % (group, cid, n, "s" if n > 1 else "")
        pipeline = os.path.join(data, T)
        if isinstance(mut, dict):  # a full disk during a run
            if "fresh" in mut:
                os.makedirs(out)
                open(os.path.join(out, ".agroflux-output"), "w").close()
                mut["fresh"](out)
                r = run(n, pipeline, out, extra=["--force"], quiet=False)
            elif "resume" in mut:
                if not interrupted(data, tmp, out):
                    continue
                mut["resume"](out)
                r = run(n, pipeline, out, extra=["--resume"], quiet=False)
            else:
                r = run(n, pipeline, out, quiet=False, fsize=int(shard_size * mut["fsize"]))
        else:
            if not interrupted(data, tmp, out):
                continue
            try:
                mut(out)
            except Exception as e:
                check(False, "%s: mutation failed: %r" % (what, e))
                continue
            r = run(n, pipeline, out, extra=["--resume"], quiet=False)
        if expect[0] == "same":
            check(r.returncode == 0, "%s: accepted, got exit %d: %s" % (what, r.returncode, said(r)))
            check(re.search(expect[1], r.stderr) is not None, "%s: no message /%s/: %s" % (what, expect[1], said(r)))
            check("starting over from the first day" in r.stderr, "%s: does not say it starts over" % what)
            if r.returncode == 0:
                same_cells(out, controls, what)
            continue
        code, frag = expect
        check(r.returncode == code, "%s: exit %s expected, got %d: %s" % (what, code, r.returncode, said(r)))
        check(re.search(frag, r.stderr) is not None, "%s: message lacks /%s/: %s" % (what, frag, said(r)))
        check(not os.path.exists(os.path.join(out, "index.json")), "%s: an index was published" % what)
        check(not empty_reason(r), "%s: a message with an empty reason: %s" % (what, empty_reason(r)))
        # the disk has room again: the same output resumes to the control's cells
        r = run(n, pipeline, out, extra=["--resume"])
        check(r.returncode == 0, "%s: resumed after the fault, got exit %d: %s" % (what, r.returncode, said(r)))
        if r.returncode == 0:
            same_cells(out, controls, what + " then resumed")
    shutil.rmtree(d, ignore_errors=True)


def run_verify_case(tmp, case):
    group, cid, mut, expect = case
    vcode, icode, frag = expect
    src = os.path.join(tmp, "control-" + T)
    out = os.path.join(tmp, "case-" + cid)
    shutil.copytree(src, out)
    mut(out)
    for n in (1, 2):
        what = "%s/%s on %d rank%s" % (group, cid, n, "s" if n > 1 else "")
        r = subprocess.run(["mpirun", "-n", str(n), "--oversubscribe", AGROFLUX, "verify", out], capture_output=True,
                           text=True, timeout=120)
        check(r.returncode == vcode, "%s: verify exit %d expected, got %d: %s" % (what, vcode, r.returncode, said(r)))
        check(re.search(frag, r.stderr) is not None, "%s: verify message lacks /%s/: %s" % (what, frag, said(r)))
        check(not empty_reason(r), "%s: a message with an empty reason: %s" % (what, empty_reason(r)))
    if icode is not None:
        r = subprocess.run([AGROFLUX, "inspect", out], capture_output=True, text=True, timeout=120,
                           env=solo_env(out + ".mpi"))
        check(r.returncode == icode, "%s: inspect exit %d expected, got %d: %s" % (cid, icode, r.returncode, said(r)))
        check(re.search(frag, r.stderr) is not None, "%s: inspect message lacks /%s/: %s" % (cid, frag, said(r)))
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(out + ".mpi", ignore_errors=True)


def main():
    if "--list" in sys.argv:
        for c in CASES:
            print(c[0], c[1], c[4] if c[4] == "same" else "exit %s /%s/" % (0 if c[4][0] == "warn" else c[4][0], c[4][1]))
        for c in RESUME_CASES:
            print(c[0], c[1], "same, /%s/" % c[3][1] if c[3][0] == "same" else "exit %s /%s/, then resumed" % c[3])
        for c in VERIFY_CASES:
            print(c[0], c[1], "verify exit %s, inspect exit %s /%s/" % c[3])
        print(len(CASES) + len(RESUME_CASES) + len(VERIFY_CASES), "cases")
        return 0
    out_groups = {c[0] for c in RESUME_CASES + VERIFY_CASES}
    groups = [a for a in sys.argv[1:] if not a.startswith("-")] or sorted({c[0] for c in CASES} | out_groups)
    todo = [c for c in CASES if c[0] in groups]
    todo_out = [c for c in RESUME_CASES if c[0] in groups]
    todo_verify = [c for c in VERIFY_CASES if c[0] in groups]
    if shutil.which("ncatted") is None or shutil.which("ncap2") is None or shutil.which("ncgen") is None:
        print("SKIP NetCDF mutations: NCO/ncgen not installed", file=sys.stderr)
        todo = [c for c in todo if c[0] != "grids" or "netcdf" not in c[1]]
    tmp = tempfile.mkdtemp(prefix="af-corpus-")
    try:
        data = prepare(tmp)
        controls = {}
        need = {c[2] for c in todo if c[4] == "same"} | ({T} if todo_out or todo_verify else set())
        for pname in sorted(need):
            out = os.path.join(tmp, "control-" + pname)
            r = run(1, os.path.join(data, pname), out)
            check(r.returncode == 0, "control %s: %s" % (pname, r.stderr[-400:]))
            controls[pname] = cells(out) if r.returncode == 0 else {}
        if todo_out:
            make_interrupted(data, tmp)
        # Cases are independent (each in its own directory; the synth tree, the controls and the
        # interrupted template are only read), and a case mostly waits on mpirun: JOBS at a time.
        with concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
            jobs = [pool.submit(run_case, data, tmp, controls, c) for c in todo]
            jobs += [pool.submit(run_resume_case, data, tmp, controls, c) for c in todo_out]
            jobs += [pool.submit(run_verify_case, tmp, c) for c in todo_verify]
            for j in jobs:
                j.result()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d failures in %d cases" % (len(failures), len(todo) + len(todo_out) + len(todo_verify)), file=sys.stderr)
        return 1
    print("corpus %s: %d cases passed on 1 and 2 ranks" % (",".join(groups), len(todo) + len(todo_out) + len(todo_verify)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
