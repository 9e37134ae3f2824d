# SPDX-License-Identifier: MIT
"""Test data for tests/train: a pipeline over one daily table with all 11 AgroFlux inputs and
20 targets (plus NEE for towers), counties and sites from `agroflux synth --no-pipeline`.

Every value is a documented function of (variable, unit, scenario, year, day of year), so the
tests compute expectations (scalers, exported cells) independently of agroflux:
    value(v, u, k, y, d) = 100*(v+1) + 7*u + 3*k + 40*(y - y0) + d/1000      (rounded to 3 decimals)
The 40*(y - y0) trend makes later years larger, so statistics over all years differ from
statistics over the training years: the case that shows a scaler leak.
Missing cells (empty fields): input v when (u + d + v) % 29 == 0; target t when (3*u + d + t) % 13 == 0.
Sites 0 and 1 are towers (GPP, NEE only), sites 2 and 3 chambers (N2O_FLUX only); every site has inputs.

The `[counties] select` list (site_lists/counties.csv) is rewritten in LIST_PERM order of the FIPS-sorted
counties, so the county list order is neither FIPS order nor the global (Hilbert) order; u is the row of
the county in that list. Reco, CO2_FLUX, N2O_FLUX and NEE record our sign convention (SIGNS).
"""
import csv
import datetime as dt
import os
import subprocess

INPUTS = ["TMAX_AIR", "TMIN_AIR", "PRECN", "FERTZR_N", "PDOY", "PLANTT", "TBKDS", "TCSAND", "TCSILT", "TPH", "TCEC"]
MODULES = {
    "Carbon": ["Reco", "GPP", "CO2_FLUX", "Yield", "Delta_SOC"],
    "Nitrogen": ["N2O_FLUX", "NH4_1", "NO3_1", "NO3_3", "NO3_5"],
    "Thermal": ["TMAX_SOIL_1", "TMIN_SOIL_1", "TMAX_SOIL_3", "TMIN_SOIL_3", "TMAX_SOIL_5", "TMIN_SOIL_5"],
    "Water": ["WTR_1", "WTR_3", "WTR_5", "ET"],
}
TARGETS = [t for m in ["Carbon", "Nitrogen", "Thermal", "Water"] for t in MODULES[m]] + ["NEE"]
SCENARIOS = ["N0", "N1"]
# row order of the select list: positions in the FIPS-sorted county list (first 6; longer lists keep the rest)
LIST_PERM = [4, 1, 5, 0, 3, 2]
SIGNS = {"Reco": "positive = to the atmosphere", "CO2_FLUX": "Positive = to the atmosphere ",
         "N2O_FLUX": "positive = emission to the atmosphere", "NEE": "positive = to the atmosphere"}


def days(y0, y1):
    """The noleap axis: every day but Dec 31 of leap years."""
    out = []
    d = dt.date(y0, 1, 1)
    while d <= dt.date(y1, 12, 31):
        leap = d.year % 4 == 0 and (d.year % 100 != 0 or d.year % 400 == 0)
        if not (leap and d.month == 12 and d.day == 31):
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def value(v, u, k, y, doy, y0):
    return round(100.0 * (v + 1) + 7.0 * u + 3.0 * k + 40.0 * (y - y0) + doy / 1000.0, 3)


def input_missing(v, u, doy):
    return (u + doy + v) % 29 == 0


def target_present(t, u, doy, site=None):
    name = TARGETS[t]
    if site is not None:
        if site in (0, 1) and name not in ("GPP", "NEE"):
            return False
        if site in (2, 3) and name != "N2O_FLUX":
            return False
        if site > 3:
            return False
    elif name == "NEE":
        return False
    return (3 * u + doy + t) % 13 != 0


def units(workdir):
    """Sample units in a fixed order: counties (u = county row), then sites (u = 100 + site)."""
    fips = [r["fips"] for r in csv.DictReader(open(os.path.join(workdir, "site_lists", "counties.csv")))]
    sites = [r["site_id"] for r in csv.DictReader(open(os.path.join(workdir, "site_lists", "sites.csv")))]
    return fips, sites


def sample_unit(sid, fips, sites):
    """(u, k, site index or None) of a sample id."""
    if ":" in sid:
        f, s = sid.split(":")
        return fips.index(f), SCENARIOS.index(s), None
    return 100 + sites.index(sid), 0, sites.index(sid)


def expected(name, sid, date, fips, sites, y0):
    """The value agroflux must hold for (variable name, sample, date), or None when missing."""
    u, k, site = sample_unit(sid, fips, sites)
    doy = date.timetuple().tm_yday
    if name in INPUTS:
        v = INPUTS.index(name)
        return None if input_missing(v, u, doy) else value(v, u, k, date.year, doy, y0)
    t = TARGETS.index(name)
    if not target_present(t, u, doy, site):
        return None
    return value(11 + t, u, k, date.year, doy, y0)


def permute_list(workdir):
    """Rewrite the select list in LIST_PERM order (rows beyond len(LIST_PERM) keep their FIPS order)."""
    path = os.path.join(workdir, "site_lists", "counties.csv")
    rows = list(csv.reader(open(path)))
    head, body = rows[0], sorted(rows[1:], key=lambda r: r[0])
    perm = [p for p in LIST_PERM if p < len(body)] + list(range(len(LIST_PERM), len(body)))
    with open(path, "w", newline="") as fp:
        w = csv.writer(fp)
        w.writerow(head)
        w.writerows(body[p] for p in perm)


def make(agroflux, workdir, y0=2001, y1=2003, counties=6, nsites=4, splits=None, inputs=INPUTS, calendar="noleap"):
    subprocess.run([agroflux, "synth", workdir, "--counties", str(counties), "--scenarios", "2", "--sites",
                    str(nsites), "--years", "%d-%d" % (y0, y1), "--no-pipeline"], check=True, capture_output=True)
    permute_list(workdir)
    fips, sites = units(workdir)
    ids = ["%s:%s" % (f, s) for f in fips for s in SCENARIOS] + sites
    os.makedirs(os.path.join(workdir, "tables"), exist_ok=True)
    with open(os.path.join(workdir, "tables", "data.csv"), "w", newline="") as fp:
        w = csv.writer(fp)
        w.writerow(["id", "date"] + INPUTS + TARGETS)
        for d in days(y0, y1):
            for sid in ids:
                row = [sid, d.isoformat()]
                for name in INPUTS + TARGETS:
                    e = expected(name, sid, d, fips, sites, y0)
                    row.append("" if e is None else repr(e))
                w.writerow(row)
    write_pipeline(workdir, y0, y1, splits, inputs, calendar)
    return fips, sites


def write_pipeline(workdir, y0, y1, splits, inputs=INPUTS, calendar="noleap", name="pipeline.ini", signs=None):
    lines = ["[pipeline]", "name = train-case", "start = %d-01-01" % y0, "end = %d-12-31" % y1,
             "calendar = %s" % calendar, "output = out", "shard_samples = 5", "block_days = 200", "",
             "[counties]", "layer = counties.geojson", "id_field = GEOID", "select = site_lists/counties.csv",
             "scenarios = " + ", ".join(SCENARIOS), "", "[sites]", "list = site_lists/sites.csv", ""]
    if splits is not None:
        lines += ["[splits]"] + ["%s = %s" % kv for kv in splits] + [""]
    for role, names in (("input", inputs), ("target", TARGETS)):
        for n in names:
            sign = (SIGNS if signs is None else signs).get(n) if role == "target" else None
            lines += ["[%s.%s]" % (role, n), "source = table", "path = tables/data.csv", "column = " + n,
                      "source_units = 1", "units = 1", "missing ="] + (["sign = " + sign] if sign else []) + [""]
    path = os.path.join(workdir, name)
    open(path, "w").write("\n".join(lines))
    return path
