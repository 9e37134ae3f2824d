# SPDX-License-Identifier: MIT
"""A run, then verify and inspect on its output (summary, --sample, --csv), on a directory
without index.json, and a failed run (a non-numeric table value: exit 1 naming file:line,
column and text) that leaves no index.json in a fresh directory and the published one in place.

Needs $AGROFLUX (the CLI) and $AF_SOURCE_ROOT. Writes only to a temp directory.
Prints "N passed, N failed"; exits 1 on any failure.
"""
import os

from cli_common import af, check, main, synth


def test_outputs(tmp):
    base = os.path.join(tmp, "s")
    synth(base, "--counties", "3", "--scenarios", "2", "--sites", "1", "--years", "2003-2003")
    ini = os.path.join(base, "pipeline-tables.ini")
    out = os.path.join(tmp, "out")

    # verify / inspect on a directory without index.json
    os.makedirs(os.path.join(tmp, "noindex"), exist_ok=True)
    p = af("verify", os.path.join(tmp, "noindex"))
    check(p.returncode != 0 and "index.json" in p.stderr, "verify without index.json: nonzero + message", p)
    p = af("inspect", os.path.join(tmp, "noindex"))
    check(p.returncode != 0 and "index.json" in p.stderr, "inspect without index.json: nonzero + message", p)

    # a good run, verify, inspect
    p = af("run", ini, "--output=" + out)
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


if __name__ == "__main__":
    raise SystemExit(main([test_outputs]))
