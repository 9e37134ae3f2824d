# SPDX-License-Identifier: MIT
"""Pipeline-file and value errors as users see them: exit 2 for a usage or pipeline-file error
(file:line and the key, the bad text), exit 1 for a missing pipeline file or bad data, and a
failed run publishes no index.json.

Needs $AGROFLUX (the CLI) and $AF_SOURCE_ROOT. Writes only to a temp directory.
Prints "N passed, N failed"; exits 1 on any failure.
"""
import os
import re

from cli_common import af, check, edit, line_of, main, synth


def test_synth_years(tmp):
    for bad in ("abc", "2003", "2003-", "2003-2004x", "-"):
        d = os.path.join(tmp, "sy")
        p = af("synth", d, "--years", bad)
        check(p.returncode == 2, "synth --years %r: exit 2" % bad, p)
        check(bad in p.stderr and "--years" in p.stderr, "synth --years %r: names the value" % bad, p)


def test_pipeline_errors(tmp):
    base = os.path.join(tmp, "s")
    synth(base, "--counties", "3", "--scenarios", "2", "--sites", "1", "--years", "2003-2003")
    ini = os.path.join(base, "pipeline-tables.ini")
    good = open(ini).read()

    # a bad key: exit 2, "pipeline.ini:LINE:" and the key
    def add_key(lines):
        i = lines.index("[pipeline]")
        return lines[:i + 1] + ["colour = red"] + lines[i + 1:]
    edit(ini, add_key)
    lines = open(ini).read().split("\n")
    ln = line_of(lines, "colour = red")
    p = af("run", ini, "--output", os.path.join(tmp, "out_badkey"))
    check(p.returncode == 2, "run with an unknown key: exit 2", p)
    check("%s:%d:" % (os.path.basename(ini), ln) in p.stderr and "colour" in p.stderr, "unknown key: file:line and key", p)
    check(not os.path.exists(os.path.join(tmp, "out_badkey", "index.json")), "unknown key: no index")
    p = af("plan", ini)
    check(p.returncode == 2 and "%s:%d:" % (os.path.basename(ini), ln) in p.stderr, "plan with an unknown key: exit 2 + line", p)

    # a bad date: exit 2 and the text
    open(ini, "w").write(good.replace("start = 2003-01-01", "start = 2003-02-30"))
    p = af("run", ini)
    check(p.returncode == 2 and "2003-02-30" in p.stderr and "start" in p.stderr, "bad date: exit 2 + text", p)
    open(ini, "w").write(good.replace("end = 2003-12-31", "end = 2002-12-31"))
    p = af("plan", ini)
    check(p.returncode == 2 and "2002-12-31" in p.stderr, "end before start: exit 2 + text", p)

    # a bad calendar choice
    open(ini, "w").write(good.replace("calendar = noleap", "calendar = julian"))
    p = af("plan", ini)
    check(p.returncode == 2 and "julian" in p.stderr, "bad calendar: exit 2 + text", p)

    # missing pipeline file: exit 1 and the path
    missing = os.path.join(tmp, "does", "not", "exist.ini")
    p = af("run", missing)
    check(p.returncode == 1 and missing in p.stderr, "missing pipeline file: exit 1 + path", p)
    p = af("plan", missing)
    check(p.returncode == 1 and missing in p.stderr, "plan missing pipeline file: exit 1 + path", p)

    # an empty selection list (header only): nonzero with a clear message
    sel = os.path.join(base, "site_lists", "empty.csv")
    with open(sel, "w") as f:
        f.write("fips,name\n")
    open(ini, "w").write(good.replace("select = {root}/site_lists/counties.csv", "select = {root}/site_lists/empty.csv"))
    p = af("run", ini, "--output", os.path.join(tmp, "out_empty"))
    check(p.returncode != 0, "empty selection: nonzero", p)
    check("empty.csv" in p.stderr and re.search(r"no (county|sample)", p.stderr), "empty selection: clear message", p)
    check(not os.path.exists(os.path.join(tmp, "out_empty", "index.json")), "empty selection: no index")
    p = af("plan", ini)
    check(p.returncode != 0 and "empty.csv" in p.stderr, "plan empty selection: nonzero + path", p)

    # pipeline-file problems found when the sources open are pipeline-file errors too (exit 2),
    # each naming the file and line: an unknown source_units, an unknown {placeholder}, a path
    # that cannot be read
    name = os.path.basename(ini)
    for old, new, text in (("source_units = K", "source_units = furlongs", "unknown units 'furlongs'"),
                           ("path = {root}/tables/weather_{year}.csv", "path = {root}/tables/weather_{yr}.csv",
                            "unknown placeholder {yr}"),
                           ("path = {root}/tables/targets.csv", "path = {root}/tables/no-such-file.csv",
                            "cannot read '%s'" % os.path.join(base, "tables", "no-such-file.csv"))):
        open(ini, "w").write(good.replace(old, new, 1))
        ln = line_of(open(ini).read().split("\n"), new)
        for cmd in ("plan", "run"):
            p = af(cmd, ini, *(["--output", os.path.join(tmp, "out_units")] if cmd == "run" else []))
            check(p.returncode == 2 and "%s:%d:" % (name, ln) in p.stderr and text in p.stderr,
                  "%s, %s: exit 2 naming %s:%d and the problem" % (cmd, new, name, ln), p)
    check(not os.path.exists(os.path.join(tmp, "out_units", "index.json")), "pipeline-file errors: no index")
    open(ini, "w").write(good)

    # --set problems name the --set argument and its position, never "FILE:0:"
    for sets, n, text in ((["pipeline.end=2003-12-31", "input.TMAX_AIR.source_units=furlongs"], 2, "unknown units 'furlongs'"),
                          (["input.TMAX_AIR.path={root}/tables/weather_{yr}.csv"], 1, "unknown placeholder {yr}"),
                          (["input.TMAX_AIR.path={root}/tables/nope_{year}.csv"], 1, "nope_2003.csv"),
                          (["pipeline.shard_samples=0"], 1, "'0' is not a positive integer"),
                          (["pipeline.calendar=julian", "pipeline.end=2003-12-31"], 1, "'julian' is not one of"),
                          (["pipeline.end=2003-12-31", "counties.colour=red"], 2, "unknown key 'colour'")):
        args = [a for s_ in sets for a in ("--set", s_)]
        p = af("plan", ini, *args)
        check(p.returncode == 2 and "--set '%s' (#%d on the command line)" % (sets[n - 1], n) in p.stderr
              and text in p.stderr and ":0:" not in p.stderr and ":-" not in p.stderr,
              "plan --set %s: exit 2 naming the --set and its position" % sets[n - 1], p)

    # a key one edit away from a known one: "did you mean"
    for old, new, want in (("shard_samples = ", "shard_sample = ", "shard_samples"),
                           ("source_units = K", "source_unit = K", "source_units"),
                           ("column = tmax", "colunm = tmax", "column")):
        if old not in good:
            check(False, "the synth pipeline has '%s'" % old)
            continue
        open(ini, "w").write(good.replace(old, new, 1))
        ln = line_of(open(ini).read().split("\n"), next(l for l in open(ini).read().split("\n") if l.startswith(new)))
        p = af("plan", ini)
        check(p.returncode == 2 and "%s:%d:" % (name, ln) in p.stderr and "did you mean '%s'?" % want in p.stderr,
              "%s: did you mean %s" % (new, want), p)
    open(ini, "w").write(good)
    p = af("plan", ini, "--set", "pipeline.colour=red")
    check(p.returncode == 2 and "did you mean" not in p.stderr, "a key far from every known one: no suggestion", p)
    open(ini, "w").write(good)


if __name__ == "__main__":
    raise SystemExit(main([test_synth_years, test_pipeline_errors]))
