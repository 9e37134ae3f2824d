# SPDX-License-Identifier: MIT
"""Independent re-derivation of the `agroflux synth` table values (docs/formats.md, "Synth values").

Written from the documentation, not from src/synth/synth.c: a test that compares shards
against this catches a wrong unit, sign, day or sample anywhere in the pipeline.
"""
import datetime as dt

A = {"tmax": 288, "tmin": 276, "prcp": 1, "gpp": 5, "nee": -2, "n2o": 20}
VNUM = {"tmax": 1, "tmin": 2, "prcp": 3, "gpp": 4, "nee": 5, "n2o": 6}


def unit_number(region, sample_id):
    """u: the county's position in site_lists/counties.csv, or 500 + site number (synth_region.Region)."""
    return region.tag(sample_id)


def text_value(var, u, k, date):
    """The exact decimal text synth writes, or None where the value is missing."""
    doy = date.timetuple().tm_yday
    if (u + doy + 7 * VNUM[var] + date.year) % 37 == 0:
        return None
    h = 100 * A[var] + 10 * u + 7 * k + 3 * (doy % 50) + date.year % 100
    a = abs(h)
    return ("-" if h < 0 else "") + "%d.%02d" % (a // 100, a % 100)


def nee_qc_text(u, date):
    return "%.2f" % (((u + date.timetuple().tm_yday) % 5) / 4.0)


# Output units of the synth pipeline, converted by hand from the declared source units.
def expected(var, u, k, date):
    t = text_value(var, u, k, date)
    if t is None:
        return None
    v = float(t)
    if var in ("tmax", "tmin"):
        return v * 1.0 + (-273.15)      # K -> degC
    if var == "n2o":
        return v * 1e-4 + 0.0           # g N ha-1 d-1 -> g N m-2 d-1
    return v * 1.0 + 0.0                # kg m-2 = mm; g C m-2 d-1 unchanged


def epoch_date(days):
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(days))
