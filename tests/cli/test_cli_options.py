# SPDX-License-Identifier: MIT
"""The command-line option matrix: for every command, --help lists every option (and the
global ones, --version included) and equals `agroflux help CMD`; every value option is
accepted as `--opt=value` and as `--opt value` with the same result; an unknown option, a
value given to a flag, a value option without its value, a missing operand and an extra
operand are each a usage error (exit 2) in one message style naming the option or operand;
a bad option value is exit 2 naming option and value; an option one edit away from a real
one gets "did you mean". Commands that need no MPI (keys, plan, synth, help, verify and
inspect up to the shard reads) do not initialise it: with Open MPI told to load a component
that does not exist (OMPI_MCA_pml=bogus) MPI_Init fails loudly, and they still work.

The expected option lists below are the documented ones (README.md, docs), written here
independently of the CLI's tables. Runs no pipeline; fast.
"""
import os
import re
import sys

from cli_common import af, check, main, usage_line

# command -> (operands that make it fail after parsing with exit 1, {option: valid value or None})
NOWHERE = "/dev/null/agroflux-test"  # nothing can be created under it, even by root
COMMANDS = {
    "run": ([NOWHERE + "/p.ini"], {"set": "pipeline.end=2003-12-31", "output": NOWHERE + "/out", "resume": None,
                                    "progress-interval": "5", "checkpoint-interval": "0"}),
    "plan": ([NOWHERE + "/p.ini"], {"set": "pipeline.end=2003-12-31", "ranks": "3", "list-files": None}),
    "fetch": ([NOWHERE + "/p.ini"], {"set": "pipeline.data_url=http://127.0.0.1:9", "dry-run": None, "jobs": "2",
                                      "retries": "1"}),
    "verify": ([NOWHERE], {}),
    "inspect": ([NOWHERE], {"sample": "19001:base", "csv": None}),
    "synth": ([NOWHERE + "/synth"], {"counties": "2", "counties-from": NOWHERE + "/c.csv", "scenarios": "1",
                                     "sites": "1", "years": "2003-2003", "seed": "7", "no-pipeline": None}),
    "export": ([NOWHERE, NOWHERE + "/dest"], {"layout": "agroflux", "subset": "dc", "split": "spatial", "fold": "1",
                                              "site-fold": "1", "sign": "native"}),
    "keys": ([], {"units": None}),
}
OPERAND = {"run": "PIPELINE.ini", "plan": "PIPELINE.ini", "fetch": "PIPELINE.ini", "verify": "OUTDIR", "inspect": "OUTDIR", "synth": "DIR",
           "export": "OUTDIR"}
GLOBAL = ("help", "version", "verbose", "quiet", "debug")
# bad values: (command, option, value) -> exit 2 naming option and value
BAD_VALUES = [("plan", "ranks", "0"), ("plan", "ranks", "x"), ("run", "progress-interval", "-1"),
              ("run", "checkpoint-interval", "soon"), ("synth", "counties", "0"), ("synth", "scenarios", "abc"),
              ("synth", "years", "2003"), ("synth", "seed", "-4"), ("export", "fold", "-1"),
              ("export", "site-fold", "x"), ("export", "subset", "xx"), ("export", "split", "random"),
              ("export", "sign", "ecosys"), ("export", "layout", "other"), ("fetch", "jobs", "0"),
              ("fetch", "retries", "x")]


def test_help():
    for h in (["--help"], ["-h"], ["help"]):
        p = af(*h)
        check(p.returncode == 0 and usage_line(p.stdout), "agroflux %s: exit 0 + usage" % h[0], p)
        for cmd in COMMANDS:
            check(re.search(r"^  %s\b" % cmd, p.stdout, re.M), "agroflux %s lists %s" % (h[0], cmd), p)
    p = af()
    check(p.returncode == 2 and usage_line(p.stderr), "no arguments: exit 2, usage on stderr", p)
    p = af("frobnicate")
    check(p.returncode == 2 and "'frobnicate'" in p.stderr, "unknown command: exit 2 naming it", p)
    p = af("help", "frobnicate")
    check(p.returncode == 2 and "'frobnicate'" in p.stderr, "help of an unknown command: exit 2 naming it", p)
    for v in (["--version"], ["keys", "--version"], ["run", "--version"]):
        p = af(*v)
        check(p.returncode == 0 and re.match(r"^agroflux \d+\.\d+\.\d+\n$", p.stdout), " ".join(v), p)
    for cmd, (_, opts) in COMMANDS.items():
        p = af(cmd, "--help")
        check(p.returncode == 0 and usage_line(p.stdout) and ("agroflux " + cmd) in p.stdout, "%s --help" % cmd, p)
        for o in list(opts) + list(GLOBAL):
            check(re.search(r"^  (-\w, )?--%s\b" % o, p.stdout, re.M), "%s --help lists --%s" % (cmd, o), p)
        q = af("help", cmd)
        check(q.returncode == 0 and q.stdout == p.stdout, "agroflux help %s == %s --help" % (cmd, cmd), q)
        q = af(cmd, "-h")
        check(q.returncode == 0 and q.stdout == p.stdout, "%s -h == %s --help" % (cmd, cmd), q)


def usage_error(p, cmd, text):
    return p.returncode == 2 and p.stderr.startswith("agroflux %s: " % cmd) and text in p.stderr \
        and "--help" in p.stderr and len(p.stderr.strip().split("\n")) == 1


MPI_COMMANDS = ("run", "export")  # start MPI once parsed: the slow half of the matrix


def test_matrix_mpi():
    matrix([c for c in COMMANDS if c in MPI_COMMANDS])


def test_matrix():
    matrix([c for c in COMMANDS if c not in MPI_COMMANDS])


def matrix(commands):
    for cmd in commands:
        operands, opts = COMMANDS[cmd]
        for o, v in opts.items():
            if v is None:
                p = af(cmd, *operands, "--" + o)
                check(p.returncode != 2 or cmd == "inspect", "%s --%s: accepted" % (cmd, o), p)
                p = af(cmd, *operands, "--%s=x" % o)
                check(usage_error(p, cmd, "option '--%s' takes no value" % o), "%s --%s=x: exit 2 naming it" % (cmd, o), p)
                continue
            extra = ["--layout", "agroflux"] if cmd == "export" and o != "layout" else []
            eq = af(cmd, *operands, *extra, "--%s=%s" % (o, v))
            sp = af(cmd, *operands, *extra, "--" + o, v)
            check(eq.returncode == 1 and eq.stderr.startswith("agroflux %s: error:" % cmd),
                  "%s --%s=%s: parsed, the command runs (and fails on the missing input)" % (cmd, o, v), eq)
            check((eq.returncode, eq.stderr, eq.stdout) == (sp.returncode, sp.stderr, sp.stdout),
                  "%s: --%s=%s and --%s %s do the same" % (cmd, o, v, o, v), sp)
            p = af(cmd, *operands, "--" + o)
            check(usage_error(p, cmd, "option '--%s' needs a value" % o), "%s --%s without value: exit 2" % (cmd, o), p)
        p = af(cmd, *operands, "--bogus-option")
        check(usage_error(p, cmd, "unknown option '--bogus-option'"), "%s --bogus-option: exit 2 naming it" % cmd, p)
        p = af(cmd, *operands, "--bogus-option=1")
        check(usage_error(p, cmd, "unknown option '--bogus-option'"), "%s --bogus-option=1: exit 2 naming it" % cmd, p)
        p = af(cmd, *operands, "-Z")
        check(usage_error(p, cmd, "unknown option '-Z'"), "%s -Z: exit 2 naming it" % cmd, p)
        if cmd in OPERAND and cmd != "export":
            p = af(cmd)
            check(usage_error(p, cmd, "missing operand %s" % OPERAND[cmd]), "%s without operand: exit 2 naming it" % cmd, p)
        p = af(cmd, *operands, "extra-operand")
        check(usage_error(p, cmd, "unexpected argument 'extra-operand'"), "%s with an extra operand: exit 2" % cmd, p)
    if "export" not in commands:
        return
    p = af("export", NOWHERE)
    check(usage_error(p, "export", "missing operand DEST"), "export without DEST: exit 2 naming it", p)
    p = af("export", NOWHERE, NOWHERE)
    check(usage_error(p, "export", "missing option --layout"), "export without --layout: exit 2 naming it", p)
    p = af("export", NOWHERE, "--verify", NOWHERE)
    check(usage_error(p, "export", "--verify DEST takes no operand"), "export --verify with OUTDIR: exit 2", p)
    p = af("inspect", NOWHERE, "--csv")
    check(usage_error(p, "inspect", "--csv needs --sample"), "inspect --csv without --sample: exit 2", p)
    p = af("run", NOWHERE, "--outptu", "x")
    check(usage_error(p, "run", "did you mean --output?"), "run --outptu: did you mean --output", p)
    p = af("plan", NOWHERE, "--rank=2")
    check(p.returncode == 1, "plan --rank=2: a unique prefix of --ranks is --ranks (getopt_long)", p)
    p = af("-x", "keys")
    check(p.returncode == 2 and "'-x'" in p.stderr, "an unknown global option before the command: exit 2 naming it", p)


def test_bad_values():
    for cmd, o, v in BAD_VALUES:
        extra = ["--layout", "agroflux"] if cmd == "export" and o != "layout" else []
        p = af(cmd, *COMMANDS[cmd][0], *extra, "--%s=%s" % (o, v))
        check(usage_error(p, cmd, "--%s '%s': expected" % (o, v)), "%s --%s=%s: exit 2 naming option and value" % (cmd, o, v), p)


def test_keys_units():
    p = af("keys", "--units")
    q = af("keys")
    check(p.returncode == 0 and q.returncode == 0 and p.stdout != q.stdout and "[pipeline]" in q.stdout
          and "[pipeline]" not in p.stdout, "keys --units prints another table than keys", p)


def mpi_session(*args):
    """(process, 1 if the command called MPI_Init): with a component that does not exist, MPI_Init
    fails (Open MPI prints its complaint, the exit code may change), so the command's results differ
    from a normal run's."""
    p = af(*args, env=dict(os.environ, OMPI_MCA_pml="bogus"))
    q = af(*args)
    return p, (p.returncode, p.stdout, p.stderr) != (q.returncode, q.stdout, q.stderr)


def test_no_mpi(tmp):
    p, used = mpi_session("run", NOWHERE + "/p.ini")
    if not check(used, "probe: run initialises MPI, and behaves otherwise with OMPI_MCA_pml=bogus", p):
        return
    os.makedirs(os.path.join(tmp, "noindex"), exist_ok=True)
    for args in (["keys"], ["keys", "--units"], ["plan", NOWHERE + "/p.ini"], ["help", "run"], ["--version"],
                 ["synth", "--help"], ["verify", os.path.join(tmp, "noindex")], ["inspect", os.path.join(tmp, "noindex")],
                 ["synth", NOWHERE + "/s"]):
        p, used = mpi_session(*args)
        check(not used, "%s: does not initialise MPI (works the same with a broken MPI)" % " ".join(args), p)


PARTS = {"matrix": [test_help, test_matrix], "matrix-mpi": [test_matrix_mpi],
         "values": [test_bad_values, test_keys_units, test_no_mpi]}

if __name__ == "__main__":
    # one part per meson test (cli-options-matrix, -matrix-mpi, -values), so each stays short
    raise SystemExit(main(PARTS[sys.argv[1]] if len(sys.argv) > 1 else PARTS["matrix"] + PARTS["matrix-mpi"] + PARTS["values"]))
