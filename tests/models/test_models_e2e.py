# SPDX-License-Identifier: MIT
"""End to end: synth Ecosys and DayCent run trees (synth_models_tool), the target
sections of pipelines/examples/ecosys-agroflux.ini (the 20 AgroFlux Ecosys targets,
counties) and daycent-agroflux.ini (counties and sites), each
`agroflux run` under mpirun -n 2, and every target cell of every shard checked against
tests/pylib/truth_models.py (independent of the C code): value, y_valid, NaN where missing. Then the
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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from shard_arrays import names as shard_names, stacked  # noqa: E402
import truth_models as T  # noqa: E402

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


EXAMPLES = os.path.join(os.environ["AF_SOURCE_ROOT"], "pipelines", "examples")


def example_targets(name):
    """The [target.*] sections of a pipelines/examples file (the tested part of the example)."""
    text = open(os.path.join(EXAMPLES, name)).read()
    return text[text.index("\n[target.") + 1:]


def pipeline_text(y0, y1, targets, sites):
    s = ("[pipeline]\nname = models\nstart = %d-01-01\nend = %d-12-31\ncalendar = noleap\noutput = output\n"
         "shard_samples = 3\nblock_days = 200\n\n"
         "[counties]\nlayer = counties.geojson\nid_field = GEOID\nselect = site_lists/counties.csv\n"
         "scenarios = %s\n\n" % (y0, y1, ", ".join(SCEN)))
    if sites:
        s += "[sites]\nlist = site_lists/sites.csv\n\n"
    return s + targets


def unit_of(sid, fips):
    if ":" in sid:
        return fips.index(sid.split(":")[0]) + 1, SCEN.index(sid.split(":")[1])
    return 500 + int(sid.split("US-Sx")[1]), 0


def check_cells(outdir, fips, truth):
    idx = json.load(open(os.path.join(outdir, "index.json")))
    bad = ncells = nmissing = 0
    epoch = datetime.date(1970, 1, 1)
    for sh in idx["shards"]:
        ds = netCDF4.Dataset(os.path.join(outdir, sh["path"]))
        ds.set_auto_mask(False)
        ids = shard_names(ds, "sample_id")
        tname = shard_names(ds, "target")
        dates = [epoch + datetime.timedelta(days=int(t)) for t in ds["time"][:]]
        a = stacked(ds)
        y, yv = a["y"], a["y_valid"]
        for r, sid in enumerate(ids):
            u, k = unit_of(sid, fips)
            county = ":" in sid
            for j, name in enumerate(tname):
                for t, d in enumerate(dates):
                    ncells += 1
                    e = truth(name, u, k, d, county)
                    got, valid = y[r, t, j], yv[r, t, j]
                    if e is None:
                        nmissing += 1
                        ok = valid == 0 and np.isnan(got)
                    else:
                        ok = valid == 1 and abs(float(got) - e) <= 1e-6 * abs(e) + 1e-12
                    if not ok:
                        bad += 1
                        if bad < 8:
                            print("cell", sid, d, name, got, valid, e, file=sys.stderr)
        ds.close()
    check(ncells > 0 and 0 < nmissing < ncells, "cells were checked (%d, %d missing)" % (ncells, nmissing))
    check(bad == 0, "%d of %d target cells differ from models_truth" % (bad, ncells))
    return idx


def expect_fail(data, pipeline, edit_fn, needle, what):
    ini = os.path.join(data, "bad.ini")
    open(ini, "w").write(edit_fn(pipeline))
    p = run([AGROFLUX, "-q", "run", ini, "--output", os.path.join(data, "out_bad")])
    check(p.returncode != 0 and needle in p.stderr, "%s: fails naming '%s'" % (what, needle), p)


def run_and_check(tmp, data, fips, ini, truth, nsamples, what):
    out = os.path.join(tmp, "out-" + what)
    p = run(["mpirun", "-n", "2", "--oversubscribe", AGROFLUX, "-q", "run", ini, "--output", out])
    check(p.returncode == 0, "%s: run on 2 ranks" % what, p)
    if p.returncode != 0:
        return None
    idx = check_cells(out, fips, truth)
    check(len(idx["samples"]) == nsamples, "%s: %d samples" % (what, nsamples))
    out1 = out + "-1"
    p = run([AGROFLUX, "-q", "run", ini, "--output", out1])
    idx1 = json.load(open(os.path.join(out1, "index.json"))) if p.returncode == 0 else {"shards": []}
    check([s["sha256"] for s in idx1["shards"]] == [s["sha256"] for s in idx["shards"]],
          "%s: shards on 1 rank identical to 2 ranks" % what, p)
    return idx


def main():
    tmp = tempfile.mkdtemp(prefix="af-models-")
    try:
        data = os.path.join(tmp, "synth")
        y0, y1 = 2003, 2004
        p = run([TOOL, data, str(y0), str(y1), "3", "2"] + SCEN)
        check(p.returncode == 0, "synth_models_tool", p)
        fips = [line.split(",")[0] for line in open(os.path.join(data, "site_lists/counties.csv")).read().splitlines()[1:]]
        # Ecosys: the 20 AgroFlux targets of pipelines/examples/ecosys-agroflux.ini, counties only
        text = pipeline_text(y0, y1, example_targets("ecosys-agroflux.ini"), False)
        ini = os.path.join(data, "ecosys.ini")
        open(ini, "w").write(text)
        idx = run_and_check(tmp, data, fips, ini, lambda n, u, k, d, c: T.eco_target(n, u, k, d), 6, "ecosys")
        if idx:
            tg = [t["name"] for t in idx["targets"]]
            check(len(tg) == 20 and tg[:5] == ["Reco", "GPP", "CO2_FLUX", "Yield", "Delta_SOC"], "20 targets in order")
            tg = {t["name"]: t for t in idx["targets"]}
            check(tg["CO2_FLUX"]["sign"] == "positive = to the atmosphere", "sign text in the index")
            check(tg["NH4_1"]["source_units"] == "g N m-2", "declared source units recorded")
        # DayCent: pipelines/examples/daycent-agroflux.ini, counties and sites
        dini = os.path.join(data, "daycent.ini")
        open(dini, "w").write(pipeline_text(y0, y1, example_targets("daycent-agroflux.ini"), True))
        run_and_check(tmp, data, fips, dini, lambda n, u, k, d, c: T.dc_target(n, u, k, d), 8, "daycent")
        # blocks shorter than a year: each file is still parsed once (a year of values per sample is kept,
        # multi-year DayCent files are read on year by year), and every cell still matches the truth
        for what, src, truth, n in (("ecosys-short-blocks", text, lambda n, u, k, d, c: T.eco_target(n, u, k, d), 6),
                                    ("daycent-short-blocks", open(dini).read(), lambda n, u, k, d, c: T.dc_target(n, u, k, d), 8)):
            sini = os.path.join(data, what + ".ini")
            open(sini, "w").write(src.replace("block_days = 200", "block_days = 45"))
            run_and_check(tmp, data, fips, sini, truth, n, what)
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
        dtext = open(dini).read()
        expect_fail(data, dtext, lambda s: s.replace("layer = 2\n", "layer = 2\nvariable = layer1\n"),
                    "give either layer or variable", "layer with variable")
        expect_fail(data, dtext, lambda s: s.replace("variable = cgrain", "variable = crpval\nsource_units = g C m-2"),
                    "harvest.csv:2: column 'crpval': 'C6' is not a number", "text column used")
        expect_fail(data, dtext, lambda s: s.replace("layer = 2\n", "layer = 101\n"),
                    "layer: '101' is not a layer number", "layer out of range")
        expect_fail(data, dtext, lambda s: s.replace("annual = events\n", "annual = events\ncumulative = yes\n"),
                    "annual: events and cumulative = yes exclude each other", "events with cumulative")
        expect_fail(data, dtext, lambda s: s.replace("variable = trandly + evapdly", "variable = trandly + NPP"),
                    "terms in different units ('cm' and 'g C m-2')", "terms in different units")
        expect_fail(data, dtext, lambda s: s.replace("units = g N m-2 d-1\nlong_name = soil N2O flux (nit",
                                                     "units = degC\nlong_name = soil N2O flux (nit"),
                    "[target.N2O_FLUX] source_units: cannot convert 'g N ha-1 d-1'", "unconvertible units")
        expect_fail(data, dtext, lambda s: s + "\n[target.TAVG_SOIL_1]\nsource = daycent\npath = daycent/{id}/soiltavg.out\n"
                    "layer = 1\nsoils = elsewhere/soils.in\nunits = degC\n",
                    "soils: differs from [target.TAVG_SOIL_2]", "soils differs within a group")
        # the join of two DayCent files (GPP, Reco): a join file that is absent, a join that differs in a group
        expect_fail(data, dtext, lambda s: s.replace("join = daycent/{id}/dc_sip.csv", "join = daycent/{id}/nope.csv"),
                    "[target.GPP] join: cannot read '%s' (sample %s:N000)" % (os.path.join(data, "daycent", fips[0] + "_N000", "nope.csv"), fips[0]), "join file missing")
        expect_fail(data, dtext, lambda s: s.replace("join = daycent/{id}/dc_sip.csv\nvariable = crpGrPsn - NEP",
                                                     "join = daycent/{id}/summary.out\nvariable = crpGrPsn - NEP"),
                    "[target.Reco] join: differs from [target.GPP]", "join differs within a group")
        os.remove(os.path.join(data, "daycent", fips[0] + "_N000", "soils.in"))
        expect_fail(data, dtext, lambda s: s, "cannot open DayCent soils file", "soils.in missing")
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
