# SPDX-License-Identifier: MIT
"""Independent recomputation of the synth Ecosys/DayCent runs (docs/formats.md,
"Synth values: Ecosys and DayCent runs") and of each target of the e2e pipeline
after differencing, unit conversion and sign. Written from the documentation, not
from the C code. Every function returns None for a missing cell."""
import datetime


def leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def ndays(y):
    return 366 if leap(y) else 365


def h(a, u, k, d):
    doy = d.timetuple().tm_yday
    return 100 * a + 10 * u + 7 * k + 3 * (doy % 50) + d.year % 100


def hole(v, u, d):
    return (u + d.timetuple().tm_yday + 7 * v + d.year) % 37 == 0


def day(y, doy):
    return datetime.date(y, 1, 1) + datetime.timedelta(days=doy - 1)


# Ecosys: name -> (v, A, sign in the file, cumulative in the file)
ECO = {
    "ECO_GPP": (1, 3, 1, True), "ECO_RA": (2, 1, -1, True), "ECO_RH": (3, 2, 1, True),
    "CO2_FLUX": (4, 5, -1, True), "ECO_HVST_C": (5, 4, 1, False), "SOC_1": (6, 50, 1, False),
    "SOC_3": (7, 40, 1, False), "SOC_5": (8, 30, 1, False), "ET": (9, 2, 1, True),
    "WTR_1": (10, 0, 1, False), "WTR_3": (11, 1, 1, False), "WTR_5": (12, 3, 1, False),
    "TMAX_SOIL_1": (13, 20, 1, False), "TMIN_SOIL_1": (14, 10, 1, False),
    "TMAX_SOIL_3": (15, 19, 1, False), "TMIN_SOIL_3": (16, 11, 1, False),
    "TMAX_SOIL_5": (17, 18, 1, False), "TMIN_SOIL_5": (18, 12, 1, False),
    "N2O_FLUX": (19, 0, -1, True), "NH4_1": (20, 3, 1, False), "NO3_1": (21, 5, 1, False),
    "NO3_3": (22, 4, 1, False), "NO3_5": (23, 6, 1, False),
}


def eco_daily(name, u, k, d):
    """Daily value (the day's flux for running totals, else the state) or None."""
    v, a, s, cum = ECO[name]
    if hole(v, u, d):
        return None
    doy = d.timetuple().tm_yday
    if cum and doy > 1 and hole(v, u, d - datetime.timedelta(days=1)):
        return None
    return s * h(a, u, k, d) / 100.0


def eco_annual_last(name, u, k, y):
    return eco_daily(name, u, k, day(y, ndays(y)))


def eco_target(target, u, k, d):
    """Targets in the target convention (positive = to the atmosphere for net fluxes and Reco)."""
    def g(n, dd=d):
        return eco_daily(n, u, k, dd)
    if target == "Reco":
        ra, rh = g("ECO_RA"), g("ECO_RH")
        return None if ra is None or rh is None else abs(ra) + rh
    if target == "GPP":
        return g("ECO_GPP")
    if target == "CO2_FLUX":
        x = g("CO2_FLUX")
        return None if x is None else -x
    if target == "N2O_FLUX":
        x = g("N2O_FLUX")
        return None if x is None else -x
    if target == "Yield":
        return eco_annual_last("ECO_HVST_C", u, k, d.year)
    if target == "Delta_SOC":
        first, last = day(d.year, 1), day(d.year, ndays(d.year))
        vals = [g(n, dd) for n in ("SOC_1", "SOC_3", "SOC_5") for dd in (first, last)]
        if any(v is None for v in vals):
            return None
        return (vals[1] + vals[3] + vals[5]) - (vals[0] + vals[2] + vals[4])
    return g(target)  # thermal, water, ET, NH4/NO3 as they are


# DayCent: row holes per file
F_NFLUX, F_SIP, F_SOILT, F_VSWC, F_SUMMARY, F_PSYN = 31, 35, 40, 50, 60, 75


def dc_target(target, u, k, d):
    prev = d - datetime.timedelta(days=1)
    doy = d.timetuple().tm_yday
    if target == "N2O_FLUX":  # (nit + dnit) g N ha-1 d-1 -> g N m-2 d-1
        return None if hole(F_NFLUX, u, d) else (h(2, u, k, d) + h(5, u, k, d)) / 100.0 * 1e-4
    if target == "N2O_FLUX_CUM":  # running total differenced: a missing row spoils the next day too
        if hole(F_NFLUX, u, d) or (doy > 1 and hole(F_NFLUX, u, prev)):
            return None
        return (h(2, u, k, d) + h(5, u, k, d)) / 100.0 * 1e-4
    if target == "CO2_FLUX":  # -NEP (NEE in odd-u runs), g C m-2
        return None if hole(F_SIP, u, d) else -h(5, u, k, d) / 100.0
    if target == "ET":  # trandly + evapdly, cm -> mm
        return None if hole(F_SIP, u, d) else (h(0, u, k, d) + h(1, u, k, d)) / 100.0 * 10
    if target == "Yield":  # harvest on day 280 unless (u + year) % 4 == 0
        if (u + d.year) % 4 == 0:
            return 0.0
        return h(300, u, k, day(d.year, 280)) / 100.0
    if target == "TAVG_SOIL_2":
        return None if hole(F_SOILT, u, d) else h(12, u, k, d) / 100.0
    if target == "WTR_3":
        return None if hole(F_VSWC, u, d) else h(3, u, k, d) / 100.0
    if target == "GPP":  # psyn.out crpGrPsn, g C m-2 d-1
        return None if hole(F_PSYN, u, d) else h(45, u, k, d) / 100.0
    if target == "Reco":  # crpGrPsn - NEP (NEE in odd-u runs): psyn.out joined with dc_sip.csv by date
        return None if hole(F_PSYN, u, d) or hole(F_SIP, u, d) else (h(45, u, k, d) - h(5, u, k, d)) / 100.0
    if target == "Rh":
        return None if hole(F_SUMMARY, u, d) else h(20, u, k, d) / 100.0 * 1e-4
    if target == "CH4":
        return None if hole(F_SUMMARY, u, d) else h(4, u, k, d) / 100.0 * 1e-4
    raise KeyError(target)
