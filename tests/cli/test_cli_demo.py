# SPDX-License-Identifier: MIT
"""`agroflux keys` matches docs/pipelines.md (when the docs are present), and the demo
pipeline plans 67 samples on its synthetic data and is the pipeline synth writes.

Needs $AGROFLUX (the CLI) and $AF_SOURCE_ROOT. Writes only to a temp directory.
Prints "N passed, N failed"; exits 1 on any failure.
"""
import configparser
import os
import re
import shutil
import sys

from cli_common import SOURCE_ROOT, af, check, main, synth


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


if __name__ == "__main__":
    raise SystemExit(main([test_keys_docs, test_demo]))
