# SPDX-License-Identifier: MIT
"""The region of an `agroflux synth` tree as the tests see it: county tags from the row order of
site_lists/counties.csv (tag u = row number 1..N, docs/formats.md "Synth values"), site tags
500 + s from site_lists/sites.csv, scenario names and rates (N%03d of floor(336k/(K-1))). Never
FIPS arithmetic: with --counties-from the FIPS are arbitrary."""
import csv
import datetime as dt
import os


class Region:
    def __init__(self, tree):
        self.tree = tree
        with open(os.path.join(tree, "site_lists", "counties.csv")) as f:
            rows = list(csv.DictReader(f))
        self.fips = [r["fips"] for r in rows]
        self.county_name = {r["fips"]: r["name"] for r in rows}
        self.county_tag = {f: i + 1 for i, f in enumerate(self.fips)}
        with open(os.path.join(tree, "site_lists", "sites.csv")) as f:
            rows = list(csv.DictReader(f))
        self.sites = [r["site_id"] for r in rows]
        self.site_loc = {r["site_id"]: (float(r["lat"]), float(r["lon"])) for r in rows}
        self.site_number = {s: i + 1 for i, s in enumerate(self.sites)}
        self.site_tag = {s: 500 + i + 1 for i, s in enumerate(self.sites)}

    def tag(self, sample_id):
        """u of a sample id (FIPS:SCENARIO or a site id)."""
        if sample_id in self.site_tag:
            return self.site_tag[sample_id]
        return self.county_tag[sample_id.split(":")[0]]

    def is_site(self, sample_id):
        return sample_id in self.site_tag


def scenario_names(k_count):
    return ["N%03d" % ((336 * k) // (k_count - 1) if k_count > 1 else 0) for k in range(k_count)]


def scenario_rates_kg_ha(k_count):
    """name -> rate in kg N ha-1 as written to [scenario.NAME] (n_rate printed with %.4f)."""
    return {n: float("%.4f" % (336.0 * k / (k_count - 1) if k_count > 1 else 0.0))
            for k, n in enumerate(scenario_names(k_count))}


def noleap_days(y0, y1):
    """The noleap daily axis of whole years y0..y1 (Dec 31 of leap years dropped)."""
    out, d = [], dt.date(y0, 1, 1)
    while d <= dt.date(y1, 12, 31):
        if not (d.month == 12 and d.day == 31 and d.year % 4 == 0):
            out.append(d)
        d += dt.timedelta(days=1)
    return out
