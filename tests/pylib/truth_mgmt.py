# SPDX-License-Identifier: MIT
"""Independent recomputation of the synth management inputs (formulas of src/synth/synth_mgmt.h,
docs/formats.md): planting and harvest day of year, crop, scenario N at planting, site fertilizer
events, and the noleap rule (events of Dec 31 in a leap year land on Dec 30). Tags come from
synth_region.Region, never from FIPS arithmetic."""
import datetime as dt


def leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def plant_doy(u, y):
    return 100 + (7 * u + 3 * (y % 10)) % 36


def harvest_doy(u, y):
    return 260 + (11 * u + y % 10) % 50


def crop(u, y):
    return 1 if (u + y) % 2 == 0 else 5


def state_plant_doy(y):
    return 120 + y % 10


def day(y, doy):
    """The noleap axis date of day-of-year doy (doy 366 moves to Dec 30)."""
    if doy == 366:
        doy = 365
    return dt.date(y, 1, 1) + dt.timedelta(days=doy - 1)


def expected(u, years, site_number=None, rate_g_m2=None):
    """({'FERTZR_N'|'PDOY'|'HARV'|'PDOY_STATE': {date: value}}, {year: crop}) of tag u: a site when
    site_number (1-based) is given, else a county sample whose scenario applies rate_g_m2 at planting."""
    ev = {"FERTZR_N": {}, "PDOY": {}, "HARV": {}, "PDOY_STATE": {}}
    crops = {}

    def add(var, d, v):
        ev[var][d] = ev[var].get(d, 0.0) + v

    for y in years:
        add("PDOY", day(y, plant_doy(u, y)), 1.0)
        add("HARV", day(y, harvest_doy(u, y)), 1.0)
        crops[y] = crop(u, y)
        if site_number is not None:
            s = site_number
            add("FERTZR_N", day(y, plant_doy(u, y)), (10 * s + y % 100) * 0.1)
            add("FERTZR_N", day(y, 170 + s), 2.5)
            if s == 1 and leap(y):
                add("FERTZR_N", day(y, 365), 0.2)
                add("FERTZR_N", day(y, 366), 0.3)
        else:
            add("PDOY_STATE", day(y, state_plant_doy(y)), 1.0)
            add("FERTZR_N", day(y, plant_doy(u, y)), rate_g_m2)
    return ev, crops
