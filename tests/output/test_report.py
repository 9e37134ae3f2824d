# SPDX-License-Identifier: MIT
"""`agroflux inspect --stats` and `agroflux report` (issue 14).

--stats: every row (variable x kind x year) against an independent count from the shards read
with netCDF4, including values planted outside the documented bounds (TMAX_AIR 75 degC, PRECN
-2 mm d-1, GPP -1); its error paths; full names in `inspect --sample`. report: one
self-contained page (no script, no external reference, every image a data: URI) that headless
Chromium loads with no console message, every image decoding (checked by a copy of the page
with a probe script, whose detection is itself checked on a broken page), and a screenshot that
is not blank. Error paths: no interpreter, no helper, no index, exclusive options.
"""
import csv
import glob
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import netCDF4
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
from af_cli import AGROFLUX, run  # noqa: E402
from checks import Checker  # noqa: E402
from shard_arrays import names  # noqa: E402

check = Checker()
PLANTED = {("TMAX_AIR", 0, 3): 75.0, ("PRECN", 1, 5): -2.0, ("GPP", 2, 7): -1.0}  # (var, day, sample row of shard 0)


def make_output(work):
    syn = os.path.join(work, "syn")
    r = run([AGROFLUX, "synth", syn, "--counties", "4", "--scenarios", "2", "--sites", "3", "--years", "2003-2004"])
    if r.returncode != 0:
        sys.exit("synth failed: " + r.stderr)
    out = os.path.join(work, "out")
    r = run([AGROFLUX, "-q", "run", os.path.join(syn, "pipeline.ini"), "--output", out])
    if r.returncode != 0:
        sys.exit("run failed: " + r.stderr)
    p = sorted(glob.glob(os.path.join(out, "shard-*.nc")))[0]
    with netCDF4.Dataset(p, "r+") as ds:
        for (name, t, r_), v in PLANTED.items():
            ds[name][t, r_] = v
    return syn, out


def bounds_table():
    """{name or prefix*: (units, lo, hi)} from `agroflux keys --bounds`."""
    r = run([AGROFLUX, "keys", "--bounds"])
    out = {}
    for row in r.stdout.splitlines():
        if row.startswith("| `"):
            c = [x.strip() for x in row.split("|")]
            out[c[1].strip("`")] = (c[2], float(c[3]), float("inf") if c[4] == "none" else float(c[4]))
    return out


# spellings the units table treats as the same unit (identity conversion), for matching bounds
SAME_UNIT = {"m3 m-3": "1", "g N m-2": "g N m-2 d-1", "g C m-2": "g C m-2 d-1", "mm": "mm d-1"}


def expected_stats(out, bounds):
    idx = json.load(open(os.path.join(out, "index.json")))
    units = {v["name"]: v["units"] for v in idx["inputs"] + idx["targets"]}
    kinds = [s["kind"] for s in idx["samples"]]
    acc = {}
    for sh in idx["shards"]:
        with netCDF4.Dataset(os.path.join(out, sh["path"])) as ds:
            ds.set_auto_mask(False)
            years = np.array([(np.datetime64("1970-01-01") + np.timedelta64(int(d), "D")).astype(object).year
                              for d in ds["time"][:]])
            for name in names(ds, "input") + names(ds, "target"):
                v = ds[name][:].astype(np.float64)
                b = bounds.get(name) or next((bb for k, bb in bounds.items()
                                              if k.endswith("*") and name.startswith(k[:-1])), None)
                same = b and SAME_UNIT.get(units[name], units[name]) == SAME_UNIT.get(b[0], b[0])
                lo, hi = (b[1], b[2]) if same else (-np.inf, np.inf)
                for r_ in range(v.shape[1]):
                    kind = kinds[sh["sample_start"] + r_]
                    for y in sorted(set(years)):
                        col = v[years == y, r_]
                        a = acc.setdefault((name, kind, y), [0, 0, [], 0, 0])
                        fin = col[np.isfinite(col)]
                        a[0] += col.size
                        a[1] += fin.size
                        a[2].append(fin)
                        a[3] += int(np.sum(fin < lo))
                        a[4] += int(np.sum(fin > hi))
    return acc, units


def check_stats(out):
    bounds = bounds_table()
    check(("TMAX_AIR" in bounds and bounds["TMAX_AIR"][2] == 60 and bounds["PRECN"][1] == 0
           and bounds["GPP"][1] == 0), "bounds table documents TMAX_AIR <= 60, PRECN >= 0, GPP >= 0")
    r = run([AGROFLUX, "inspect", out, "--stats", "--csv"])
    check(r.returncode == 0, "inspect --stats --csv: " + r.stderr)
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    acc, units = expected_stats(out, bounds)
    check(len(rows) == len(acc), "one row per variable x kind x year (%d, expected %d)" % (len(rows), len(acc)))
    bad = 0
    for row in rows:
        key = (row["variable"], row["kind"], int(row["year"]))
        if key not in acc:
            bad += 1
            continue
        cells, valid, parts, below, above = acc[key]
        fin = np.concatenate(parts)
        ok = (int(row["cells"]) == cells and int(row["valid"]) == valid and int(row["missing"]) == cells - valid
              and int(row["below"]) == below and int(row["above"]) == above and row["units"] == units[key[0]]
              and abs(float(row["valid_pct"]) - 100.0 * valid / cells) < 0.006)
        if valid:
            ok = ok and np.isclose(float(row["min"]), fin.min(), rtol=1e-5) and \
                np.isclose(float(row["max"]), fin.max(), rtol=1e-5) and \
                np.isclose(float(row["mean"]), fin.mean(), rtol=1e-5, atol=1e-9)
        else:
            ok = ok and row["min"] == "" and row["mean"] == ""
        if not ok:
            bad += 1
            if bad < 5:
                print("stats row differs:", row, acc[key][:2], acc[key][3:], file=sys.stderr)
    check(bad == 0, "every --stats row equals the independent count (%d differ)" % bad)
    planted = {(r_["variable"], r_["kind"], r_["year"]): (int(r_["below"]), int(r_["above"])) for r_ in rows}
    check(planted.get(("TMAX_AIR", "county", "2003"), (0, 0))[1] >= 1, "TMAX_AIR 75 degC counted above its bound")
    check(planted.get(("PRECN", "county", "2003"), (0, 0))[0] >= 1, "negative PRECN counted below its bound")
    check(planted.get(("GPP", "county", "2003"), (0, 0))[0] >= 1, "negative GPP counted below its bound")
    t = run([AGROFLUX, "inspect", out, "--stats"])
    check(t.returncode == 0 and "TMAX_SOIL_1" in t.stdout and "TMIN_SOIL_3" in t.stdout and "[-60, 60] degC" in t.stdout,
          "inspect --stats table: full names and bounds")
    # error paths
    r = run([AGROFLUX, "inspect", out, "--stats", "--sample", "x"])
    check(r.returncode == 2 and "exclude each other" in r.stderr, "--stats with --sample is a usage error")
    r = run([AGROFLUX, "inspect", out, "--csv"])
    check(r.returncode == 2 and "--csv needs" in r.stderr, "--csv alone is a usage error")
    broken = out + "-broken"
    shutil.copytree(out, broken)
    os.remove(sorted(glob.glob(os.path.join(broken, "shard-*.nc")))[-1])
    r = run([AGROFLUX, "inspect", broken, "--stats"])
    check(r.returncode == 1 and "cannot open shard" in r.stderr, "--stats on a missing shard fails naming it: " + r.stderr)
    shutil.rmtree(broken)
    # inspect --sample: full names in the table header
    idx = json.load(open(os.path.join(out, "index.json")))
    r = run([AGROFLUX, "inspect", out, "--sample", idx["samples"][0]["id"]])
    head = r.stdout.splitlines()[0].split() if r.returncode == 0 else []
    check(head[1:] == [v["name"] for v in idx["inputs"] + idx["targets"]], "inspect --sample header has full names")


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-logging=stderr", "--v=0"]


def chromium(work, page, *extra):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    prof = tempfile.mkdtemp(prefix="prof.", dir=work)
    r = subprocess.run([exe, *CHROMIUM_FLAGS, "--user-data-dir=" + prof, *extra, "file://" + page],
                       capture_output=True, text=True, timeout=240)
    shutil.rmtree(prof, ignore_errors=True)
    return r


def console_messages(stderr):
    return [line for line in stderr.splitlines() if re.search(r":CONSOLE[:(]", line) or "Failed to load resource" in line]


PROBE = ("<script>var i = Array.from(document.images); document.title = 'IMAGES ' + i.length + ' ' + "
         "i.filter(function (m) { return m.complete && m.naturalWidth > 0; }).length;</script>")


def decoded_images(work, page):
    """(images, decoded) as Chromium sees them, through a probed copy of the page."""
    probed = os.path.join(work, "probed-" + os.path.basename(page))
    text = open(page, encoding="utf-8").read()
    open(probed, "w", encoding="utf-8").write(text.replace("</body>", PROBE + "</body>"))
    r = chromium(work, probed, "--dump-dom")
    m = re.search(r"<title>IMAGES (\d+) (\d+)</title>", r.stdout)
    return (int(m.group(1)), int(m.group(2))) if m else (-1, -1)


def check_report(work, syn, out):
    env = dict(os.environ, AGROFLUX_PYTHON3="/usr/bin/python3")
    page = os.path.join(work, "report.html")
    r = run([AGROFLUX, "report", out, "--output", page, "--pipeline", os.path.join(syn, "pipeline.ini")], env=env)
    check(r.returncode == 0 and os.path.isfile(page), "report ran: " + r.stderr[-500:])
    if r.returncode != 0:
        return
    text = open(page, encoding="utf-8").read()
    srcs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', text)
    check(all(s.startswith("data:image/png;base64,") for s in srcs) and "<script" not in text and "<link" not in text
          and "url(" not in text, "self-contained: no script, no link, only data: images")
    nimg = text.count("<img ")
    check(nimg == 6, "6 images: 2 heat maps, 2 series, county map, fold map (%d)" % nimg)
    for what in ("Provenance", "Statistics", "Missing data", "Daily series", "County map", "Splits and folds",
                 "TMAX_SOIL_1", "US-Sx1", "field GEOID"):
        check(what in text, "page shows %s" % what)
    check("could not read" not in text and "no county layer" not in text, "county polygons read")

    # Chromium: the detection works on a broken page, then the report passes it
    bad = os.path.join(work, "broken.html")
    open(bad, "w").write('<!DOCTYPE html><html><body><img src="data:image/png;base64,AAAA">'
                         '<script>console.error("planted")</script></body></html>')
    r = chromium(work, bad, "--dump-dom")
    check(len(console_messages(r.stderr)) >= 1, "a console error is detected (control)")
    check(decoded_images(work, bad) == (1, 0), "an undecodable image is detected (control)")
    r = chromium(work, page, "--dump-dom")
    msgs = console_messages(r.stderr)
    check(r.returncode == 0 and not msgs, "Chromium loads the report with no console message: %s" % msgs[:3])
    n, ok = decoded_images(work, page)
    check(n == nimg and ok == nimg, "every image decodes in Chromium (%d of %d)" % (ok, n))
    shot = os.path.join(work, "shot.png")
    r = chromium(work, page, "--window-size=1200,5000", "--screenshot=" + shot)
    check(os.path.isfile(shot), "screenshot written")
    if os.path.isfile(shot):
        import matplotlib.image as mpimg
        px = mpimg.imread(shot)[:, :, :3]
        nonwhite = np.mean(np.any(px < 0.95, axis=2))
        colours = len(np.unique((px[::4, ::4] * 255).astype(np.uint8).reshape(-1, 3), axis=0))
        check(nonwhite > 0.05 and colours > 200, "screenshot is not blank (%.1f %% ink, %d colours)"
              % (100 * nonwhite, colours))

    # --counties with a file that is not a vector layer: the page says why there is no map
    page2 = os.path.join(work, "report2.html")
    r = run([AGROFLUX, "report", out, "--output", page2, "--counties", os.path.join(out, "index.json")], env=env)
    check(r.returncode == 0 and "could not read the county layer" in open(page2).read(),
          "a bad county layer: the page says why it has no map")
    # error paths
    r = run([AGROFLUX, "report", out, "--pipeline", "a.ini", "--counties", "b.shp"], env=env)
    check(r.returncode == 2 and "exclude each other" in r.stderr, "--pipeline with --counties is a usage error")
    r = run([AGROFLUX, "report", out], env=dict(env, AGROFLUX_PYTHON3="/nonexistent/python3"))
    check(r.returncode == 1 and "no python3 with numpy, netCDF4, matplotlib" in r.stderr,
          "no usable interpreter: a clear error: " + r.stderr)
    empty = tempfile.mkdtemp(dir=work)
    r = run([AGROFLUX, "report", out], env=dict(env, AGROFLUX_PYTHONPATH=empty))
    check(r.returncode == 1 and "cannot find the report helper" in r.stderr, "no helper: a clear error")
    r = run([AGROFLUX, "report", empty], env=env)
    check(r.returncode == 2 and "no index.json" in r.stderr, "not an output directory: usage error")
    r = run([AGROFLUX, "report", out, "--pipeline", os.path.join(work, "missing.ini")], env=env)
    check(r.returncode == 1 and "missing.ini" in r.stderr, "a missing pipeline file is reported")


def main():
    work = tempfile.mkdtemp(prefix="af_report.")
    try:
        syn, out = make_output(work)
        check_stats(out)
        if shutil.which("chromium") is None:
            check(False, "chromium is not installed (scripts/install-deps.sh installs it)")
        else:
            check_report(work, syn, out)
    finally:
        if check.failed == 0 and not os.environ.get("AF_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept", work)
    print(check.summary())
    sys.exit(1 if check.failed else 0)


main()
