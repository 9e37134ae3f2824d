# SPDX-License-Identifier: MIT
"""End to end: synth Ecosys and DayCent run trees (synth_models_tool), a pipeline with
the 20 AgroFlux Ecosys targets (counties) and DayCent targets (counties and sites),
`agroflux run` under mpirun -n 2, and every target cell of every shard checked against
models_truth (independent of the C code): value, y_valid, NaN where missing. Then the
source's error paths through the CLI: missing run file, unknown column, units the
format does not fix, a malformed number, layer with variable.
usage: test_models_e2e.py SYNTH_MODELS_TOOL"""
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import netCDF4

sys.path.insert(0, os.path.dirname(__file__))
import models_truth as T  # noqa: E402

AGROFLUX = os.environ["AGROFLUX"]
TOOL = sys.argv[1]
SCEN = ["N000", "N336"]
failures = []


def check(cond, what, proc=None):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)
        if proc is not None:
            print("  exit %d\n  stderr: %s" % (proc.returncode, proc.stderr[-3000:]), file=sys.stderr)


def run(args):
    return subprocess.run(args, capture_output=True, text=True)


ECO_TARGETS = [
    # name, variable, cumulative, annual, sign_flip, units, extra
    ("Reco", "|ECO_RA| + ECO_RH", "yes", "no", "no", "g C m-2 d-1", ""),
    ("GPP", "ECO_GPP", "yes", "no", "no", "g C m-2 d-1", ""),
    ("CO2_FLUX", "CO2_FLUX", "yes", "no", "yes", "g C m-2 d-1", ""),
    ("Yield", "ECO_HVST_C", "no", "last", "no", "g C m-2", ""),
    ("Delta_SOC", "SOC_1 + SOC_3 + SOC_5", "no", "delta", "no", "g C m-2", ""),
    ("TMAX_SOIL_1", "", "no", "no", "no", "degC", ""),
    ("TMIN_SOIL_1", "", "no", "no", "no", "degC", ""),
    ("TMAX_SOIL_3", "", "no", "no", "no", "degC", ""),
    ("TMIN_SOIL_3", "", "no", "no", "no", "degC", ""),
    ("TMAX_SOIL_5", "", "no", "no", "no", "degC", ""),
    ("TMIN_SOIL_5", "", "no", "no", "no", "degC", ""),
    ("WTR_1", "", "no", "no", "no", "m3 m-3", ""),
    ("WTR_3", "", "no", "no", "no", "m3 m-3", ""),
    ("WTR_5", "", "no", "no", "no", "m3 m-3", ""),
    ("ET", "", "yes", "no", "no", "mm d-1", ""),
    ("N2O_FLUX", "", "yes", "no", "yes", "g N m-2 d-1", ""),
    ("NH4_1", "", "no", "no", "no", "g N m-2", "source_units = g N m-2\n"),
    ("NO3_1", "", "no", "no", "no", "g N m-2", "source_units = g N m-2\n"),
    ("NO3_3", "", "no", "no", "no", "g N m-2", "source_units = g N m-2\n"),
    ("NO3_5", "", "no", "no", "no", "g N m-2", "source_units = g N m-2\n"),
]
GROUP = {"Reco": "dc", "GPP": "dc", "CO2_FLUX": "dc", "Yield": "dc", "Delta_SOC": "dc", "ET": "dw",
         "N2O_FLUX": "dn"}

DC_TARGETS = [
    ("DC_N2O", "nflux.out", "variable = nit_N2O-N + dnit_N2O-N\nunits = g N m-2 d-1\n"),
    ("DC_N2O_CUM", "nflux.out", "variable = CUM-N2O(gN/ha)\ncumulative = yes\nunits = g N m-2 d-1\n"),
    ("DC_NEE", "dc_sip.csv", "variable = NEP\nsign_flip = yes\nunits = g C m-2 d-1\n"),
    ("DC_ET", "dc_sip.csv", "variable = trandly + evapdly\nunits = mm d-1\n"),
    ("DC_YIELD", "harvest.csv", "variable = cgrain\nannual = events\nunits = g C m-2\n"),
    ("DC_TSOIL2", "soiltavg.out", "layer = 2\nunits = degC\n"),
    ("DC_VSWC3", "vswc.out", "layer = 3\nunits = 1\n"),
    ("DC_CO2RESP", "summary.out", "variable = CO2resp\nunits = g C m-2 d-1\n"),
    ("DC_CH4", "summary.out", "variable = CH4_oxid\nsource_units = g C ha-1 d-1\nunits = g C m-2 d-1\n"),
]


def eco_group(name):
    if name in GROUP:
        return GROUP[name]
    if name.startswith("T"):
        return "dh"
    if name.startswith("WTR"):
        return "dw"
    return "dn"


def pipeline_text(y0, y1):
    s = ("[pipeline]\nname = models\nstart = %d-01-01\nend = %d-12-31\ncalendar = noleap\noutput = output\n"
         "shard_samples = 3\nblock_days = 200\n\n"
         "[counties]\nlayer = counties.geojson\nid_field = GEOID\nselect = site_lists/counties.csv\n"
         "scenarios = %s\n\n[sites]\nlist = site_lists/sites.csv\n\n" % (y0, y1, ", ".join(SCEN)))
    for name, var, cum, annual, flip, units, extra in ECO_TARGETS:
        s += "[target.%s]\nsource = ecosys\npath = ecosys/{fips}/{scenario}/01010{year}%s\n" % (name, eco_group(name))
        if var:
            s += "variable = %s\n" % var
        s += "cumulative = %s\nannual = %s\nsign_flip = %s\nunits = %s\napplies_to = counties\n%s" % (
            cum, annual, flip, units, extra)
        s += "sign = positive = to the atmosphere\n\n" if flip == "yes" or name == "Reco" else "\n"
    for name, f, body in DC_TARGETS:
        s += "[target.%s]\nsource = daycent\npath = daycent/{id}/%s\n%s\n" % (name, f, body)
    return s


def unit_of(sid, fips):
    if ":" in sid:
        return fips.index(sid.split(":")[0]) + 1, SCEN.index(sid.split(":")[1])
    return 500 + int(sid.split("US-Sx")[1]), 0


def check_cells(outdir, fips):
    idx = json.load(open(os.path.join(outdir, "index.json")))
    bad = ncells = 0
    epoch = datetime.date(1970, 1, 1)
    for sh in idx["shards"]:
        ds = netCDF4.Dataset(os.path.join(outdir, sh["path"]))
        ds.set_auto_mask(False)
        ids = [bytes(r).rstrip(b"\0").decode() for r in ds["sample_id"][:]]
        tname = [bytes(r).rstrip(b"\0").decode() for r in ds["target_name"][:]]
        dates = [epoch + datetime.timedelta(days=int(t)) for t in ds["time"][:]]
        y, yv = ds["y"][:], ds["y_valid"][:]
        for r, sid in enumerate(ids):
            u, k = unit_of(sid, fips)
            county = ":" in sid
            for j, name in enumerate(tname):
                eco = not name.startswith("DC_")
                for t, d in enumerate(dates):
                    ncells += 1
                    if eco and not county:
                        e = None
                    else:
                        e = T.eco_target(name, u, k, d) if eco else T.dc_target(name, u, k, d)
                    got, valid = y[r, t, j], yv[r, t, j]
                    if e is None:
                        ok = valid == 0 and np.isnan(got)
                    else:
                        ok = valid == 1 and abs(float(got) - e) <= 1e-6 * abs(e) + 1e-12
                    if not ok:
                        bad += 1
                        if bad < 8:
                            print("cell", sid, d, name, got, valid, e, file=sys.stderr)
        ds.close()
    check(ncells > 0, "cells were checked")
    check(bad == 0, "%d of %d target cells differ from models_truth" % (bad, ncells))
    return idx


def expect_fail(data, pipeline, edit_fn, needle, what):
    ini = os.path.join(data, "bad.ini")
    open(ini, "w").write(edit_fn(pipeline))
    p = run([AGROFLUX, "-q", "run", ini, "--output", os.path.join(data, "out_bad")])
    check(p.returncode != 0 and needle in p.stderr, "%s: fails naming '%s'" % (what, needle), p)


def main():
    tmp = tempfile.mkdtemp(prefix="af-models-")
    try:
        data = os.path.join(tmp, "synth")
        y0, y1 = 2003, 2004
        p = run([TOOL, data, str(y0), str(y1), "3", "2"] + SCEN)
        check(p.returncode == 0, "synth_models_tool", p)
        fips = [line.split(",")[0] for line in open(os.path.join(data, "site_lists/counties.csv")).read().splitlines()[1:]]
        text = pipeline_text(y0, y1)
        ini = os.path.join(data, "pipeline.ini")
        open(ini, "w").write(text)
        out = os.path.join(tmp, "out")
        p = run(["mpirun", "-n", "2", "--oversubscribe", AGROFLUX, "-q", "run", ini, "--output", out])
        check(p.returncode == 0, "run on 2 ranks", p)
        if p.returncode == 0:
            idx = check_cells(out, fips)
            check(len(idx["samples"]) == 3 * 2 + 2, "8 samples")
            tg = {t["name"]: t for t in idx["targets"]}
            check(tg["CO2_FLUX"]["sign"] == "positive = to the atmosphere", "sign text in the index")
            check(tg["NH4_1"]["source_units"] == "g N m-2", "declared source units recorded")
            out1 = os.path.join(tmp, "out1")
            p = run([AGROFLUX, "-q", "run", ini, "--output", out1])
            idx1 = json.load(open(os.path.join(out1, "index.json"))) if p.returncode == 0 else {"shards": []}
            check([s["sha256"] for s in idx1["shards"]] == [s["sha256"] for s in idx["shards"]],
                  "shards on 1 rank identical to 2 ranks", p)
        # error paths, one process
        first = "ecosys/%s/N000/010102003dc" % fips[0]
        os.rename(os.path.join(data, first), os.path.join(data, first + ".moved"))
        expect_fail(data, text, lambda s: s, first, "missing run file")
        os.rename(os.path.join(data, first + ".moved"), os.path.join(data, first))
        expect_fail(data, text, lambda s: s.replace("variable = ECO_GPP", "variable = ECO_NOPE\nsource_units = g C m-2"),
                    "no column 'ECO_NOPE'", "unknown column")
        expect_fail(data, text, lambda s: s.replace("variable = ECO_GPP", "variable = ECO_NOPE"),
                    "does not fix the units of 'ECO_NOPE'", "unknown column without units")
        expect_fail(data, text, lambda s: s.replace("source_units = g N m-2\n", "", 1),
                    "does not fix the units of 'NH4_1'", "units not fixed by the format")
        expect_fail(data, text, lambda s: s.replace("layer = 2\n", "layer = 2\nvariable = layer1\n"),
                    "give either layer or variable", "layer with variable")
        bad = os.path.join(data, first)
        lines = open(bad).read().split("\n")
        lines[3] = lines[3].replace("E+", "Q+", 1)
        open(bad, "w").write("\n".join(lines))
        expect_fail(data, text, lambda s: s, "%s:4: column 3 (ECO_GPP)" % first, "malformed number")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d failures" % len(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
