# SPDX-License-Identifier: MIT
"""Independent recomputation of the synth tower and chamber files (docs/formats.md, "synth
observations") and of their daily values under the ONEFlux daily rules and the KGML-ag chamber rule,
after the units table's conversion (float32 as the source stores it). Site s is the 1-based site
number (synth_region.Region.site_number). Written from the documentation, not from the C code."""
import numpy as np

F32 = np.float32


# --- the documented synth rules -------------------------------------------------
A = {1: 2, 2: 0, 3: 150, 4: -3, 5: -4, 6: 3, 7: 6, 8: 7}


def obs_value(v, s, d, r):
    doy = d.timetuple().tm_yday
    h = 100 * A[v] + 10 * s + 3 * (doy % 50) + d.year % 100 + 7 * r
    return h / 100.0


def base_records(v, s, d):
    """Values of the day's records in order (None = missing), and the expected count."""
    step = 30 if s % 2 else 60
    doy = d.timetuple().tm_yday
    out = []
    for r in range(1440 // step):
        if doy % 17 == 5 and 300 <= r * step < 360:
            out.append(None)  # absent row
        elif (s + doy + v) % 7 == 0:
            out.append(None if r % 4 != 0 else obs_value(v, s, d, r))
        elif (s + doy + v) % 3 == 0:
            out.append(None if (r + s + v) % 5 == 0 else obs_value(v, s, d, r))
        else:
            out.append(obs_value(v, s, d, r))
    return out


def fullset_hh(v, s, d):
    doy = d.timetuple().tm_yday
    return [None if ((s + doy + v) % 13 == 0 and r == 0) else obs_value(v, s, d, r) for r in range(48)]


def fullset_hh_qc(s, d):
    doy = d.timetuple().tm_yday
    return [r % 2 if r < 8 * (1 + (s + doy) % 5) else 2 + r % 2 for r in range(48)]


def fullset_dd(v, s, d):
    doy = d.timetuple().tm_yday
    return None if (s + doy + v) % 13 == 0 else obs_value(v, s, d, 0)


# --- ONEFlux daily rules and the units table -----------------------------------
def conv(x, scale, offset=0.0):
    """A float32 daily value converted in double, stored as float32 (as the source does)."""
    return None if x is None else float(F32(float(F32(x)) * scale + offset))


def daily(recs, rule, min_cov=0.0):
    """(value, coverage) of a day's records; rule strict-mean, strict-sum or coverage."""
    present = [x for x in recs if x is not None]
    cov = len(present) / len(recs)
    total = 0.0
    for x in present:
        total += x
    if rule == "coverage":
        return (total / len(present) if present and cov >= min_cov else None), cov
    if len(present) < len(recs):
        return None, cov
    return (total if rule == "sum" else total / len(present)), cov


def chamber_day(s, d):
    """(daily g N m-2 d-1 or None, valid hours) per the KGML-ag rule."""
    doy = d.timetuple().tm_yday
    hours = []
    for hh in range(24):
        if (s + doy) % 6 == 0 and hh >= 15:
            continue
        if (s + doy + hh) % 9 == 0:
            continue
        recs = [(10 * s + 3 * (doy % 50) + 7 * hh + m - 100) / 100.0 * 1e-9 * 28.013 * 3600.0
                for m in range(2 if hh % 6 == 0 else 1)]
        acc = 0.0
        for x in recs:
            acc += x
        hours.append(acc / len(recs))
    acc = 0.0
    for x in hours:
        acc += x
    return (acc / len(hours) * 24.0 if len(hours) >= 16 else None), len(hours)


# Each target: name -> function (site, date) -> (value in output units or None, qc, valid)
def expect_target(name, s, d):
    if name in ("TA", "P", "SW_IN", "FC", "FC_ANY"):
        v = {"TA": 1, "P": 2, "SW_IN": 3, "FC": 4, "FC_ANY": 4}[name]
        recs = base_records(v, s, d)
        if name == "TA":
            x, cov = daily(recs, "mean")
            return conv(x, 1.0, 273.15), cov, x is not None
        if name == "P":
            x, cov = daily(recs, "sum")
            return conv(x, 1.0), cov, x is not None
        if name == "SW_IN":
            x, cov = daily(recs, "mean")
            return conv(x, 0.0864), cov, x is not None
        if name == "FC":
            x, cov = daily(recs, "coverage", 0.5)
            return conv(x, 1.03772448), cov, x is not None
        x, cov = daily(recs, "coverage", 0.0)
        ok = x is not None and cov >= 0.9
        return (conv(x, 1.03772448) if ok else None), cov, ok
    if name in ("GPP_DD", "NEE_DD"):
        x = fullset_dd(7 if name == "GPP_DD" else 5, s, d)
        if name == "GPP_DD":
            return conv(x, 1.0), (1.0 if x is not None else 0.0), x is not None
        q = ((s + d.timetuple().tm_yday) % 5) / 4.0
        ok = x is not None and q >= 0.5
        return (conv(x, 1.0) if ok else None), q, ok
    if name == "GPP_HH":
        reco, nee = fullset_hh(6, s, d), fullset_hh(5, s, d)
        recs = [None if a is None or b is None else a - b for a, b in zip(reco, nee)]
        x, cov = daily(recs, "mean")
        return conv(x, 1.03772448), cov, x is not None
    if name == "NEE_HH":
        x, cov = daily(fullset_hh(5, s, d), "mean")
        q = sum(1 for c in fullset_hh_qc(s, d) if c < 2) / 48.0
        ok = x is not None and q >= 0.5
        return (conv(x, 1.03772448) if ok else None), q, ok
    if name == "N2O":
        x, nh = chamber_day(s, d)
        return conv(x, 10.0), nh / 24.0, x is not None
    raise KeyError(name)
