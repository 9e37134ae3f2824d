# SPDX-License-Identifier: MIT
"""The page `agroflux report OUTDIR` writes: one self-contained HTML file about an output.

    python3 -m agroflux.report OUTDIR -o report.html --agroflux /path/to/agroflux [--counties LAYER]

Sections: provenance, the `agroflux inspect --stats --csv` table (the C code computes it; this
page only lays it out), missing-data heat maps (variable x year, per sample kind), daily series
of a few samples of each kind, a county map of a few variables (polygons from the pipeline's
county layer, read with GDAL/OGR), and the split and fold layout. Images are PNG data: URIs,
the page has no script and loads nothing from the network. Needs numpy, netCDF4, matplotlib,
osgeo (GDAL's Python bindings).
"""
import argparse
import base64
import csv
import datetime as dt
import html
import io
import json
import os
import subprocess
import sys

MISSING_MODULES = []
try:
    import numpy as np
    import netCDF4  # noqa: F401  (the reader needs it)
except ImportError as e:  # pragma: no cover - reported to the user below
    MISSING_MODULES.append(str(e))
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker  # noqa: F401  (colorbar ticks)
    from matplotlib.collections import PolyCollection
except ImportError as e:  # pragma: no cover
    MISSING_MODULES.append(str(e))

SERIES_SAMPLES = 3        # samples per kind in the time-series section
MAP_VARIABLES = 3         # variables on the county map

CSS = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; font-size: .85em; margin: .5em 0; }
th, td { border: 1px solid #ddd; padding: .2em .5em; text-align: right; }
th { background: #f3f3f3; } td.l, th.l { text-align: left; }
tr.warn td { background: #fff4d6; } tr.bad td { background: #fde0e0; }
img { max-width: 100%; display: block; margin: .5em 0; }
.note { color: #555; font-size: .9em; }
.scroll { max-height: 32em; overflow-y: auto; border: 1px solid #eee; }
"""


def fail(msg, code=1):
    print("agroflux report: error: " + msg, file=sys.stderr)
    sys.exit(code)


def esc(x):
    return html.escape(str(x))


def png(fig):
    """A matplotlib figure as an <img> with a data: URI (closes the figure)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return '<img alt="" src="data:image/png;base64,%s">' % base64.b64encode(buf.getvalue()).decode()


def table(head, rows, left=1, classes=None):
    out = ["<table><tr>"]
    out += ['<th class="l">%s</th>' % esc(h) if i < left else "<th>%s</th>" % esc(h) for i, h in enumerate(head)]
    out.append("</tr>")
    for k, r in enumerate(rows):
        cls = ' class="%s"' % classes[k] if classes and classes[k] else ""
        out.append("<tr%s>" % cls + "".join('<td class="l">%s</td>' % esc(v) if i < left else "<td>%s</td>" % esc(v)
                                           for i, v in enumerate(r)) + "</tr>")
    out.append("</table>")
    return "".join(out)


# ------------------------------------------------------------------ data
def read_stats(agroflux, outdir):
    r = subprocess.run([agroflux, "inspect", outdir, "--stats", "--csv"], capture_output=True, text=True)
    if r.returncode != 0:
        fail("'%s inspect %s --stats --csv' failed: %s" % (agroflux, outdir, r.stderr.strip()))
    return list(csv.DictReader(io.StringIO(r.stdout)))


def variable_means(out, names):
    """{name: per-sample mean over all days (NaN where no valid day)} read shard by shard."""
    from .shards import names as shard_names
    res = {n: np.full(len(out.samples), np.nan) for n in names}
    for k, sh in enumerate(out.index["shards"]):
        ds = out._dataset(k)
        present = set(shard_names(ds, "input")) | set(shard_names(ds, "target"))
        s0, n = sh["sample_start"], sh["sample_count"]
        for name in names:
            if name in present:
                v = np.asarray(ds[name][:], dtype=np.float64)
                with np.errstate(invalid="ignore"):
                    cnt = np.sum(np.isfinite(v), axis=0)
                    tot = np.nansum(v, axis=0)
                    res[name][s0:s0 + n] = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)
    return res


def read_counties(path):
    """{fips: [rings in lon/lat]} from a vector layer (GDAL/OGR), and a note on what was read."""
    from osgeo import ogr, osr
    ogr.UseExceptions()
    osr.UseExceptions()
    ds = ogr.Open(path)
    if ds is None:
        raise RuntimeError("cannot open county layer '%s'" % path)
    lyr = ds.GetLayer(0)
    defn = lyr.GetLayerDefn()
    fields = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())]
    field = next((f for f in ("GEOID", "FIPS", "fips", "geoid", "GEOID10") if f in fields), None)
    if field is None:
        raise RuntimeError("county layer '%s' has no GEOID or FIPS field (fields: %s)" % (path, ", ".join(fields)))
    src = lyr.GetSpatialRef()
    ct = None
    if src is not None:
        dst = osr.SpatialReference()
        dst.ImportFromEPSG(4326)
        dst.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        src.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        if not src.IsSame(dst):
            ct = osr.CoordinateTransformation(src, dst)
    polys = {}
    for f in lyr:
        g = f.GetGeometryRef()
        if g is None:
            continue
        g = g.Clone()
        if ct is not None:
            g.Transform(ct)
        rings = []
        parts = [g.GetGeometryRef(i) for i in range(g.GetGeometryCount())] if g.GetGeometryName() == "MULTIPOLYGON" else [g]
        for p in parts:
            if p.GetGeometryCount() > 0:
                r = p.GetGeometryRef(0)
                rings.append([(r.GetX(i), r.GetY(i)) for i in range(r.GetPointCount())])
        polys[str(f.GetField(field)).strip()] = rings
    return polys, field


# ------------------------------------------------------------------ sections
def section_provenance(idx, outdir):
    p, cal = idx["provenance"], idx["calendar"]
    kinds = [s["kind"] for s in idx["samples"]]
    rows = [("output", os.path.abspath(outdir)), ("pipeline", idx["pipeline"]["name"]),
            ("config SHA-256", idx["pipeline"]["config_sha256"]),
            ("overrides (--set)", "; ".join(idx["pipeline"].get("sets", [])) or "none"),
            ("software", p.get("software", "")), ("created", p.get("created", "")), ("ranks", p.get("ranks", "")),
            ("calendar", "%s, %s to %s, %d days" % (cal["policy"], cal["start"], cal["end"], cal["ndays"])),
            ("samples", "%d (%d county x scenario, %d site) in %d shards (%s)" % (
                len(kinds), kinds.count("county"), kinds.count("site"), len(idx["shards"]), idx["format"])),
            ("peak memory", "%.1f MiB (largest rank)" % (p.get("peak_rss_bytes", 0) / 2 ** 20)),
            ("input files", "%d recorded with size and SHA-256 in index.json" % len(p.get("inputs", [])))]
    cw = p.get("coverage_warnings")
    if cw:
        rows.append(("coverage warnings", ", ".join("%s: %d" % (k.replace("_", " "), v) for k, v in cw.items()) +
                     " (listed in %s)" % p.get("coverage_file", {}).get("path", "coverage.json")))
    out = ["<h2>Provenance</h2>", table(["", ""], rows, left=2)]
    feats = [(v["name"], "input", v["units"], v.get("source", ""), v.get("source_units", ""), v.get("sign", ""))
             for v in idx["inputs"]] + \
            [(v["name"], "target", v["units"], v.get("source", ""), v.get("source_units", ""), v.get("sign", ""))
             for v in idx["targets"]]
    out.append(table(["variable", "role", "units", "source", "source units", "sign"], feats, left=6))
    if p.get("timings"):
        out.append(table(["stage", "min s", "mean s", "max s"],
                         [(t["stage"], "%.3g" % t["min"], "%.3g" % t["mean"], "%.3g" % t["max"]) for t in p["timings"]]))
    return "\n".join(out)


def section_stats(stats):
    rows, classes = [], []
    for r in stats:
        outside = int(r["below"]) + int(r["above"])
        bounds = "[%s, %s]" % (r["lower_bound"] or "-inf", r["upper_bound"] or "inf") \
            if (r["lower_bound"] or r["upper_bound"]) else "none"
        rows.append((r["variable"], r["kind"], r["year"], r["units"], r["valid_pct"], r["valid"], r["missing"],
                     r["min"], r["mean"], r["max"], outside, bounds))
        classes.append("bad" if outside > 0 else "warn" if float(r["valid_pct"]) < 50 else "")
    return ("<h2>Statistics</h2><p class=\"note\">Per variable x sample kind x calendar year, from "
            "<code>agroflux inspect --stats</code>. Yellow: under 50 % valid; red: values outside the documented "
            "physical bounds (docs/formats.md, \"Physical bounds\").</p><div class=\"scroll\">" +
            table(["variable", "kind", "year", "units", "valid %", "valid", "missing", "min", "mean", "max",
                   "outside bounds", "bounds"], rows, left=2, classes=classes) + "</div>")


def section_heatmaps(stats):
    out = ["<h2>Missing data</h2><p class=\"note\">Share of valid cells per variable and year; white: the "
           "variable has no cell of that kind.</p>"]
    for kind in ("county", "site"):
        rows = [r for r in stats if r["kind"] == kind]
        if not rows:
            continue
        names = list(dict.fromkeys(r["variable"] for r in rows))
        years = sorted({int(r["year"]) for r in rows})
        m = np.full((len(names), len(years)), np.nan)
        for r in rows:
            m[names.index(r["variable"]), years.index(int(r["year"]))] = float(r["valid_pct"])
        fig, ax = plt.subplots(figsize=(max(4.5, 1.2 + 0.55 * len(years)), 0.6 + 0.24 * len(names)))
        im = ax.imshow(m, aspect="auto", cmap="viridis", vmin=0, vmax=100, interpolation="nearest")
        ax.set_yticks(range(len(names)), names, fontsize=8)
        ax.set_xticks(range(len(years)), [str(y) for y in years], fontsize=8, rotation=90 if len(years) > 8 else 0)
        ax.set_title("%s samples: valid %%" % kind, fontsize=10)
        fig.colorbar(im, ax=ax, fraction=0.04)
        out.append(png(fig))
    return "\n".join(out)


def pick_series_vars(idx, stats, kind, n=4):
    """Variables with the most valid cells for a kind: targets first, then inputs."""
    valid = {}
    for r in stats:
        if r["kind"] == kind:
            valid[r["variable"]] = valid.get(r["variable"], 0) + int(r["valid"])
    pref = ["GPP", "NEE", "CO2_FLUX", "N2O_FLUX", "Reco", "ET"]
    tg = [v["name"] for v in idx["targets"] if valid.get(v["name"], 0) > 0]
    ins = [v["name"] for v in idx["inputs"] if valid.get(v["name"], 0) > 0]
    tg.sort(key=lambda v: (pref.index(v) if v in pref else len(pref), -valid[v]))
    return (tg[:2] + ins)[:n]


def section_series(out, stats):
    parts = ["<h2>Daily series</h2><p class=\"note\">A few samples of each kind (first, middle and last in the "
             "global order); gaps are missing days.</p>"]
    dates = np.array(out.dates, dtype="datetime64[D]")
    names = out.inputs + out.targets
    for kind in ("county", "site"):
        idxs = [i for i, m in enumerate(out.samples) if m["kind"] == kind]
        if not idxs:
            continue
        pick = sorted({idxs[0], idxs[len(idxs) // 2], idxs[-1]})[:SERIES_SAMPLES]
        vars_ = pick_series_vars(out.index, stats, kind)
        if not vars_:
            parts.append("<p>No %s variable has valid data.</p>" % kind)
            continue
        fig, axes = plt.subplots(len(vars_), 1, figsize=(10, 1.6 * len(vars_) + 0.5), sharex=True, squeeze=False)
        for i in pick:
            x, y, _ = out.read(i)
            allv = np.concatenate([x, y], axis=1)
            for a, v in zip(axes[:, 0], vars_):
                a.plot(dates, allv[:, names.index(v)], lw=0.8, label=out.samples[i]["id"])
        units = {v["name"]: v["units"] for v in out.index["inputs"] + out.index["targets"]}
        for a, v in zip(axes[:, 0], vars_):
            a.set_ylabel("%s\n(%s)" % (v, units[v]), fontsize=8)
            a.tick_params(labelsize=8)
        axes[0, 0].legend(fontsize=7, loc="upper right")
        axes[0, 0].set_title("%s samples" % kind, fontsize=10)
        parts.append(png(fig))
    return "\n".join(parts)


def draw_counties(ax, polys, values, title, cmap="viridis", categorical=False):
    verts, vals = [], []
    for fips, rings in polys.items():
        for ring in rings:
            verts.append(ring)
            vals.append(values.get(fips, np.nan))
    vals = np.array(vals, dtype=float)
    pc = PolyCollection(verts, edgecolors="#444", linewidths=0.4)
    pc.set_array(np.ma.masked_invalid(vals))
    if categorical and np.isfinite(vals).any():  # one colour per class
        k = int(np.nanmax(vals) - np.nanmin(vals)) + 1
        pc.set_cmap(matplotlib.colors.ListedColormap(plt.get_cmap("tab10").colors[:max(1, min(k, 10))]))
    else:
        pc.set_cmap(plt.get_cmap(cmap).copy())
    pc.get_cmap().set_bad("#eeeeee")
    if categorical and np.isfinite(vals).any():
        pc.set_clim(np.nanmin(vals) - 0.5, np.nanmax(vals) + 0.5)
    ax.add_collection(pc)
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    return pc


def county_values(out, per_sample):
    """{fips: mean over that county's samples (scenarios)} of a per-sample array."""
    acc = {}
    for i, m in enumerate(out.samples):
        if m["kind"] == "county" and np.isfinite(per_sample[i]):
            acc.setdefault(m["fips"], []).append(per_sample[i])
    return {f: float(np.mean(v)) for f, v in acc.items()}


def section_map(out, stats, polys, note):
    parts = ["<h2>County map</h2>"]
    if polys is None:
        return parts[0] + "<p>%s</p>" % esc(note)
    valid = {}
    for r in stats:
        if r["kind"] == "county":
            valid[r["variable"]] = valid.get(r["variable"], 0) + int(r["valid"])
    pref = ["TMAX_AIR", "PRECN", "GPP", "N2O_FLUX", "CO2_FLUX"]
    names = [n for n in pref if valid.get(n, 0) > 0]
    names += [n for n in out.inputs + out.targets if valid.get(n, 0) > 0 and n not in names]
    names = names[:MAP_VARIABLES]
    if not names:
        return parts[0] + "<p>No variable has valid county data.</p>"
    means = variable_means(out, names)
    units = {v["name"]: v["units"] for v in out.index["inputs"] + out.index["targets"]}
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 4), squeeze=False)
    for a, n in zip(axes[0], names):
        pc = draw_counties(a, polys, county_values(out, means[n]), "%s mean (%s)" % (n, units[n]))
        cb = fig.colorbar(pc, ax=a, fraction=0.04)
        cb.locator = matplotlib.ticker.MaxNLocator(5)
        cb.formatter = matplotlib.ticker.FormatStrFormatter("%.4g")
        cb.ax.tick_params(labelsize=7)
        cb.update_ticks()
    parts.append("<p class=\"note\">Mean over all days and scenarios of each county (%s); grey: no value. "
                 "Polygons: %s.</p>" % (", ".join(names), esc(note)))
    parts.append(png(fig))
    return "\n".join(parts)


def section_splits(out, polys):
    sp = out.extra.get("splits", {})
    parts = ["<h2>Splits and folds</h2>"]
    if not sp:
        return parts[0] + "<p>The pipeline has no [splits] section.</p>"
    if "temporal" in sp:
        t = sp["temporal"]
        years = sorted({d.year for d in out.dates})
        colors = {"train": "#4c72b0", "val": "#dd8452", "test": "#55a868"}
        fig, ax = plt.subplots(figsize=(8, 1.2))
        for part in ("train", "val", "test"):
            y0, y1 = t[part]
            ax.barh(0, y1 - y0 + 1, left=y0 - 0.5, color=colors[part], label="%s %d-%d" % (part, y0, y1))
        ax.set_xlim(years[0] - 0.5, years[-1] + 0.5)
        ax.set_yticks([])
        ax.legend(fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.35))
        ax.set_title("temporal split over %s samples" % t["samples"], fontsize=9)
        parts.append(png(fig))
    if "spatial" in sp:
        s = sp["spatial"]
        fold_of = dict(zip(s["counties"], s["county_fold"]))
        counts = [s["county_fold"].count(f) for f in range(s["folds"])]
        parts.append("<p>Spatial: %d folds (%s), %s; fold f validates on its counties and tests on fold "
                     "f+1.</p>" % (s["folds"], ", ".join("fold %d: %d counties" % (f, c) for f, c in enumerate(counts)),
                                   esc(s.get("assign", ""))))
        if polys is not None:
            fig, ax = plt.subplots(figsize=(5, 4))
            pc = draw_counties(ax, polys, {k: float(v) for k, v in fold_of.items()}, "spatial fold of each county",
                               cmap="tab10", categorical=True)
            fig.colorbar(pc, ax=ax, fraction=0.04, ticks=range(s["folds"]))
            parts.append(png(fig))
    if "loso" in sp:
        lo = sp["loso"]
        n = lo["folds"]
        rows = [(f, lo["sites"][f], lo["sites"][(f + 1) % n], n - 2) for f in range(n)]
        parts.append("<p>Leave one site out: %d folds.</p>" % n)
        parts.append(table(["fold", "validation site", "test site", "training sites"], rows, left=0))
    return "\n".join(parts)


# ------------------------------------------------------------------ main
def build(outdir, agroflux, counties):
    from .reader import Output
    out = Output(outdir)
    stats = read_stats(agroflux, outdir)
    polys, note = None, "no county layer given (agroflux report --pipeline INI or --counties LAYER)"
    if counties:
        try:
            polys, field = read_counties(counties)
            note = "%s (field %s, %d counties)" % (counties, field, len(polys))
        except Exception as e:  # the page says why the map is missing
            note = "could not read the county layer: %s" % e
    has_counties = any(m["kind"] == "county" for m in out.samples)
    if not has_counties:
        polys, note = None, "the output has no county samples"
    body = [
        "<h1>agroflux output: %s</h1>" % esc(out.index["pipeline"]["name"]),
        "<p class=\"note\">Written by agroflux report on %s. Everything on this page comes from %s "
        "(index.json and the shards).</p>" % (dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                                              esc(os.path.abspath(outdir))),
        section_provenance(out.index, outdir),
        section_stats(stats),
        section_heatmaps(stats),
        section_series(out, stats),
        section_map(out, stats, polys, note),
        section_splits(out, polys if has_counties else None),
    ]
    out.close()
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>agroflux report: %s</title><style>%s</style></head><body>\n%s\n</body></html>\n"
            % (esc(out.index["pipeline"]["name"]), CSS, "\n".join(body)))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="agroflux report", description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("-o", "--output", default=None)
    ap.add_argument("--agroflux", default=os.environ.get("AGROFLUX", "agroflux"), help="the agroflux CLI")
    ap.add_argument("--counties", default=None, help="vector file with the county polygons")
    a = ap.parse_args(argv)
    if MISSING_MODULES:
        fail("missing Python modules (%s): install python3-numpy python3-netcdf4 python3-matplotlib"
             % "; ".join(MISSING_MODULES))
    if not os.path.isfile(os.path.join(a.outdir, "index.json")):
        fail("%s: no index.json (not a finished agroflux output)" % a.outdir, 2)
    dest = a.output or os.path.join(a.outdir, "report.html")
    page = build(a.outdir, a.agroflux, a.counties)
    tmp = dest + ".partial"
    with open(tmp, "w", encoding="utf-8") as fp:
        fp.write(page)
        fp.flush()
        os.fsync(fp.fileno())
    os.replace(tmp, dest)
    print("agroflux report: wrote %s (%d kB)" % (dest, len(page.encode()) // 1024))


if __name__ == "__main__":
    main()
