# SPDX-License-Identifier: MIT
"""The agroflux command line: usage and exit codes (0 ok, 1 failure, 2 usage or
pipeline-file error), the error messages users see (file:line and the key, the
bad text, the missing path), that a failed run publishes no index.json, that
`agroflux keys` matches docs/pipelines.md (when the docs are present), and that
the demo pipeline plans 67 samples on its synthetic data and is the pipeline synth writes.

Needs $AGROFLUX (the CLI) and $AF_SOURCE_ROOT. Writes only to a temp directory.
Prints "N passed, N failed"; exits 1 on any failure.
"""
import configparser
import os
import re
import shutil
import subprocess
import sys
import tempfile

AGROFLUX = os.environ["AGROFLUX"]
SOURCE_ROOT = os.environ.get("AF_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
failures = []
passed = 0


def check(cond, what, proc=None):
    global passed
    if cond:
        passed += 1
        return True
    failures.append(what)
    print("FAIL:", what, file=sys.stderr)
    if proc is not None:
        print("  exit %d\n  stdout: %s\n  stderr: %s" % (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:]),
              file=sys.stderr)
    return False


def af(*args, **kw):
    return subprocess.run([AGROFLUX, *args], capture_output=True, text=True, timeout=300, **kw)


def usage_line(text):
    return any(line.startswith("usage:") for line in text.splitlines())


def synth(dest, *opts):
    p = af("-q", "synth", dest, *opts)
    check(p.returncode == 0, "synth %s %s" % (dest, " ".join(opts)), p)
    return p


def edit(path, fn):
    with open(path) as f:
        lines = f.read().split("\n")
    lines = fn(lines)
    with open(path, "w") as f:
        f.write("\n".join(lines))


def line_of(lines, text):
    """1-based line number of the first line equal to text."""
    return lines.index(text) + 1


def test_usage():
    p = af()
    check(p.returncode == 2, "no arguments: exit 2", p)
    check(usage_line(p.stderr), "no arguments: usage on stderr", p)
    p = af("frobnicate")
    check(p.returncode == 2, "unknown command: exit 2", p)
    check("frobnicate" in p.stderr and usage_line(p.stderr), "unknown command: named, with usage", p)
    for h in ("--help", "-h", "help"):
        p = af(h)
        check(p.returncode == 0 and usage_line(p.stdout), "agroflux %s: exit 0 + usage" % h, p)
    for cmd in ("run", "plan", "verify", "inspect", "synth", "keys"):
        p = af(cmd, "--help")
        check(p.returncode == 0, "%s --help: exit 0" % cmd, p)
        check(usage_line(p.stdout) and ("agroflux " + cmd) in p.stdout, "%s --help: a usage: line" % cmd, p)
    p = af("--version")
    check(p.returncode == 0 and re.match(r"^agroflux \d+\.\d+\.\d+", p.stdout), "--version", p)
    # commands without their required argument, and stray options
    for args in (["run"], ["plan"], ["verify"], ["inspect"], ["synth"],
                 ["run", "a.ini", "--frob"], ["plan", "a.ini", "--ranks", "0"], ["plan", "a.ini", "--ranks", "x"],
                 ["verify", "a", "b"], ["inspect", "d", "--bogus"], ["synth", "d", "--counties", "0"],
                 ["synth", "d", "--scenarios", "abc"]):
        p = af(*args)
        check(p.returncode == 2, "%s: exit 2" % " ".join(args), p)


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

    # an unknown source_units: AF_EUNITS is a failure (1) naming the pipeline line
    open(ini, "w").write(good.replace("source_units = K", "source_units = furlongs", 1))
    lines = open(ini).read().split("\n")
    ln = line_of(lines, "source_units = furlongs")
    p = af("run", ini, "--output", os.path.join(tmp, "out_units"))
    check(p.returncode == 1 and "%s:%d:" % (os.path.basename(ini), ln) in p.stderr and "furlongs" in p.stderr,
          "unknown source_units: exit 1, file:line + units", p)
    open(ini, "w").write(good)


def test_outputs(tmp):
    base = os.path.join(tmp, "s")  # written by test_pipeline_errors
    ini = os.path.join(base, "pipeline-tables.ini")
    out = os.path.join(tmp, "out")

    # verify / inspect on a directory without index.json
    os.makedirs(os.path.join(tmp, "noindex"), exist_ok=True)
    p = af("verify", os.path.join(tmp, "noindex"))
    check(p.returncode != 0 and "index.json" in p.stderr, "verify without index.json: nonzero + message", p)
    p = af("inspect", os.path.join(tmp, "noindex"))
    check(p.returncode != 0 and "index.json" in p.stderr, "inspect without index.json: nonzero + message", p)

    # a good run, verify, inspect
    p = af("run", ini, "--output", out)
    if not check(p.returncode == 0 and os.path.exists(os.path.join(out, "index.json")), "good run", p):
        return
    check("samples" in p.stdout, "run prints a summary", p)
    p = af("verify", out)
    check(p.returncode == 0 and "OK" in p.stdout, "verify: OK", p)
    p = af("inspect", out)
    check(p.returncode == 0 and "samples: 7" in p.stdout, "inspect summary: 3 x 2 + 1 samples", p)
    p = af("inspect", out, "--sample", "19001:N000", "--csv")
    check(p.returncode == 0 and p.stdout.startswith("date,") and len(p.stdout.strip().split("\n")) == 366,
          "inspect --csv: header + 365 days", p)
    p = af("inspect", out, "--sample", "99999:NOPE")
    check(p.returncode != 0 and "99999:NOPE" in p.stderr, "inspect unknown sample: nonzero + names it", p)

    # a failed run (a non-numeric value in a table) leaves no index.json in a fresh directory,
    # and leaves the output a good run had published in place (the rerun wrote beside it)
    targets = os.path.join(base, "tables", "targets.csv")
    good = open(targets).read()
    lines = good.split("\n")
    hdr = lines[0].split(",")
    row = lines[5].split(",")
    row[hdr.index("gpp")] = "abc"
    lines[5] = ",".join(row)
    open(targets, "w").write("\n".join(lines))
    for d in (os.path.join(tmp, "out_fail"), out):
        p = af("-q", "run", ini, "--output", d)
        check(p.returncode == 1, "run with a non-numeric value: exit 1 (%s)" % d, p)
        check("targets.csv:6:" in p.stderr and "abc" in p.stderr and "gpp" in p.stderr,
              "non-numeric value: file:line, column and text", p)
        if d != out:
            check(not os.path.exists(os.path.join(d, "index.json")), "failed run leaves no index.json (%s)" % d)
    p = af("verify", out)
    check(p.returncode == 0, "verify after a failed rerun: the previous output is still published", p)
    open(targets, "w").write(good)


def test_keys_docs():
    p = af("keys")
    check(p.returncode == 0 and "[pipeline]" in p.stdout and "`shard_samples`" in p.stdout, "keys prints tables", p)
    doc = os.path.join(SOURCE_ROOT, "docs", "pipelines.md")
    if not os.path.exists(doc):
        print("docs/pipelines.md absent: keys/docs comparison skipped", file=sys.stderr)
        return
    text = open(doc).read()
    b, e = "<!-- keys:begin -->", "<!-- keys:end -->"
    if b not in text or e not in text:
        print("docs/pipelines.md has no keys markers: comparison skipped", file=sys.stderr)
        return
    block = text.split(b, 1)[1].split(e, 1)[0]
    if not check(block.strip() == p.stdout.strip(), "agroflux keys == docs/pipelines.md keys block"):
        a, c = block.strip().split("\n"), p.stdout.strip().split("\n")
        for i, (x, y) in enumerate(zip(a, c)):
            if x != y:
                print("  first difference at block line %d:\n  docs: %s\n  keys: %s" % (i + 1, x, y), file=sys.stderr)
                break
        else:
            print("  lengths differ: docs %d lines, keys %d lines" % (len(a), len(c)), file=sys.stderr)


def test_demo(tmp):
    src = os.path.join(SOURCE_ROOT, "pipelines", "demo.ini")
    if not check(os.path.exists(src), "pipelines/demo.ini exists"):
        return
    shutil.copy(src, os.path.join(tmp, "demo.ini"))
    synth(os.path.join(tmp, "demo-data"), "--counties", "16", "--scenarios", "4", "--sites", "3",
          "--years", "2003-2005", "--no-pipeline")
    check(not os.path.exists(os.path.join(tmp, "demo-data", "pipeline.ini")), "synth --no-pipeline writes no pipeline")
    p = af("plan", os.path.join(tmp, "demo.ini"))
    check(p.returncode == 0, "plan demo.ini: exit 0", p)
    check(re.search(r"samples: 67\b", p.stdout), "plan demo.ini: 67 samples", p)
    check("16 counties -> 64 county x scenario samples, 3 sites" in p.stdout, "plan demo.ini: 16 x 4 + 3", p)
    # demo.ini is the pipeline synth writes for the same options, but for name, data_root and output
    synth(os.path.join(tmp, "full"), "--counties", "16", "--scenarios", "4", "--sites", "3", "--years", "2003-2005")
    def sections(path):
        c = configparser.ConfigParser(interpolation=None, comment_prefixes=(";",), strict=True)
        c.optionxform = str
        c.read(path)
        d = {name: dict(c[name]) for name in c.sections()}
        for k in ("name", "data_root", "output"):
            d["pipeline"].pop(k, None)
        return d
    check(sections(src) == sections(os.path.join(tmp, "full", "pipeline.ini")),
          "demo.ini = synth's pipeline.ini but for name, data_root and output")
    check("calendar noleap: 1095 days" in p.stdout, "plan demo.ini: noleap 2003-2005 = 1095 days", p)
    p = af("plan", os.path.join(tmp, "demo.ini"), "--ranks", "4")
    check(p.returncode == 0 and "rank 3:" in p.stdout, "plan demo.ini --ranks 4", p)


def main():
    tmp = tempfile.mkdtemp(prefix="af-cli-")
    try:
        test_usage()
        test_synth_years(tmp)
        test_pipeline_errors(tmp)
        test_outputs(tmp)
        test_keys_docs()
        test_demo(tmp)
    finally:
        if os.environ.get("AF_KEEP_TMP"):
            print("kept", tmp, file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
