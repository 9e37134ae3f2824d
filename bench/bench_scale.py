#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench_scale: strong scaling and memory of one synth pipeline (bench/README.md, "bench_scale").

Part 1, memory vs years: the synth AgroFlux pipeline (DIR/pipeline.ini without [splits]) on one rank
for 1, 4 and 16 years (--years), peak RSS per rank from the index; then the longest of them on 1
and 2 ranks (per-rank share). Goal (issue 16): the 16-year peak within 10 % of the 1-year peak.

Part 2, strong scaling: the same pipeline on --scale-counties x --scale-scenarios + 3 sites over
--scale-years, on 1 and 2 ranks (--ranks), paired runs alternating the rank counts, after one
warm-up run (builds the weights cache). Speedup = wall(1) / wall(n); CPU ratio = CPU(n) / CPU(1)
(user + system of every process of the run, from getrusage of the children). Each repeat also
measures the launch on the same rank count: `mpirun -n N agroflux run --help`, which starts the
processes, loads the shared libraries, runs MPI_Init and MPI_Finalize and nothing else. Net
speedup = (wall(1) - launch(1)) / (wall(n) - launch(n)): what the ranks do for the pipeline, the
part that a longer run (a real one takes hours) does not amortise away. Goal: net speedup >= 1.8x
and CPU ratio <= 1.1 on 2 cores; the speedup with the launch is printed beside it. Also printed:
the pipeline's own time (the sum of the stage maxima of the index's timing table) and its
speedup. Every ratio is measured within this run: on a shared machine compare ratios, not seconds.

Part 3, the ceiling (skip with --no-ceiling): the fixed part F of a run (the same synth region cut to
1 county x 1 scenario + 3 sites and one year, on 1 rank, net of the launch: setup, per-file and
per-process costs) and the contention c (two 1-rank runs of the scaling pipeline at once against one
alone: what the two cores share, memory bandwidth, page cache, disk). Printed: the net speedup the
pipeline could reach if everything but F divided evenly over n ranks, net(1) / (F + c (net(1) - F) / n),
and how small F would have to be for 1.8x.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def sh(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit("bench_scale: %s failed (%d):\n%s" % (" ".join(args), r.returncode, r.stderr[-3000:]))
    return r


def strip_splits(src, dst):
    """Copy a pipeline without its [splits] section (its years may lie outside a shorter run)."""
    out, skip = [], False
    for line in open(src):
        if line.startswith("["):
            skip = line.strip() == "[splits]"
        if not skip:
            out.append(line)
    open(dst, "w").write("".join(out))


def run_pipeline(a, n, pipeline, outdir, sets):
    """(wall s, CPU s of all processes, index) of one run on n ranks."""
    cmd = ["mpirun", "-n", str(n), "--oversubscribe"] + a.mpirun_args.split() + [a.agroflux, "-q", "run", pipeline,
                                                                              "--output", outdir]
    for s in sets:
        cmd += ["--set", s]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    sh(cmd)
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return wall, cpu, read_index(outdir)


def read_index(outdir):
    return json.load(open(os.path.join(outdir, "index.json")))


def stage_time(idx):
    """The pipeline's own time: the sum of the stage maxima (slowest rank each) of the index's timing
    table; the wall time also counts mpirun, process start, MPI_Init and MPI_Finalize."""
    return sum(s["max"] for s in idx["provenance"]["timings"])


def run_launch(a, n):
    """(wall s, CPU s) of launching agroflux on n ranks that start MPI and stop at once: mpirun,
    process start, loading the shared libraries, MPI_Init and MPI_Finalize (`run --help` under a
    launcher starts MPI before it parses, src/cli/main.c)."""
    cmd = ["mpirun", "-n", str(n), "--oversubscribe"] + a.mpirun_args.split() + [a.agroflux, "run", "--help"]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    sh(cmd)
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def mib(b):
    return b / 2**20


def synth(a, d, counties, scenarios, sites, y0, y1):
    sh([a.agroflux, "synth", d, "--counties", str(counties), "--scenarios", str(scenarios), "--sites", str(sites),
        "--years", "%d-%d" % (y0, y1)])
    p = os.path.join(d, "bench.ini")
    strip_splits(os.path.join(d, "pipeline.ini"), p)
    return p


def memory_part(a, root):
    years = [int(y) for y in a.years.split(",")]
    y0 = 2001
    d = os.path.join(root, "mem")
    t = time.monotonic()
    p = synth(a, d, a.counties, a.scenarios, 3, y0, y0 + max(years) - 1)
    print("memory: %d counties x %d scenarios + 3 sites, years %d-%d written in %.0f s" %
          (a.counties, a.scenarios, y0, y0 + max(years) - 1, time.monotonic() - t))
    run_pipeline(a, 1, p, os.path.join(d, "warm"), ["pipeline.end=%d-12-31" % y0])  # weights cache
    print("  %-6s %-5s %12s %12s %10s %s" % ("years", "ranks", "peak RSS/rank", "vs 1st", "wall s", "open fds/rank"))
    base = None
    for y in years:
        _, _, idx = run_pipeline(a, 1, p, os.path.join(d, "y%d" % y), ["pipeline.end=%d-12-31" % (y0 + y - 1)])
        pr = idx["provenance"]
        rss = max(pr["peak_rss_bytes_per_rank"])
        base = base or rss
        wall = stage_time(idx)
        print("  %-6d %-5d %9.1f MiB %12.3f %10.2f %s" % (y, 1, mib(rss), rss / base, wall,
                                                         pr.get("open_files_max_per_rank")))
    last = rss
    print("  goal (issue 16): %d years within 10 %% of %d: %.3f -> %s" % (
        max(years), years[0], last / base, "met" if last / base <= 1.10 else "NOT met"))
    y = max(years)
    for n in [int(r) for r in a.ranks.split(",")][1:]:
        _, _, idx = run_pipeline(a, n, p, os.path.join(d, "y%dn%d" % (y, n)), ["pipeline.end=%d-12-31" % (y0 + y - 1)])
        pr = idx["provenance"]
        per = pr["peak_rss_bytes_per_rank"]
        print("  %-6d %-5d %9.1f MiB %12.3f %10s %s (per rank: %s MiB)" % (
            y, n, mib(max(per)), max(per) / base, "",
            pr.get("open_files_max_per_rank"), ", ".join("%.1f" % mib(b) for b in per)))
        print("  goal: the per-rank share falls from 1 to %d ranks: mean %.3f, largest %.3f of 1 rank -> %s" % (
            n, statistics.mean(per) / last, max(per) / last, "met" if max(per) < last else "NOT met"))


def scaling_part(a, root):
    y0, y1 = (int(v) for v in a.scale_years.split("-"))
    d = os.path.join(root, "scale")
    t = time.monotonic()
    p = synth(a, d, a.scale_counties, a.scale_scenarios, 3, y0, y1)
    print("scaling: %d counties x %d scenarios + 3 sites, %d-%d (synth %.0f s), %d paired repeats, mpirun %s" %
          (a.scale_counties, a.scale_scenarios, y0, y1, time.monotonic() - t, a.repeat, a.mpirun_args or "(defaults)"))
    ranks = [int(r) for r in a.ranks.split(",")]
    run_pipeline(a, ranks[0], p, os.path.join(d, "warm"), [])
    res = {n: [] for n in ranks}
    stages = {}
    for k in range(a.repeat):
        for n in (ranks if k % 2 == 0 else ranks[::-1]):
            wall, cpu, idx = run_pipeline(a, n, p, os.path.join(d, "n%d" % n), [])
            launch, launch_cpu = run_launch(a, n)
            st = {s["stage"]: s["max"] for s in idx["provenance"]["timings"]}
            res[n].append((wall, cpu, stage_time(idx), launch, launch_cpu))
            stages[n] = st
    print("  %-5s %8s %8s %9s %9s %9s %10s %9s %10s %10s   %s" % (
        "ranks", "wall s", "CPU s", "speedup", "CPU ratio", "launch s", "net speedup", "net CPU", "stages s",
        "speedup", "stage max s (last run): " + " ".join(stages[ranks[0]])))
    for n in ranks:
        w = statistics.median(x[0] for x in res[n])
        c = statistics.median(x[1] for x in res[n])
        ps = statistics.median(x[2] for x in res[n])
        la = statistics.median(x[3] for x in res[n])
        # paired: each repeat's ratio against the same repeat's 1-rank run, then the median
        pair = lambda f: statistics.median(f(res[ranks[0]][i], res[n][i]) for i in range(a.repeat))
        sp = pair(lambda one, m: one[0] / m[0])
        cr = pair(lambda one, m: m[1] / one[1])
        ns = pair(lambda one, m: (one[0] - one[3]) / (m[0] - m[3]))
        nc = pair(lambda one, m: (m[1] - m[4]) / (one[1] - one[4]))
        pp = pair(lambda one, m: one[2] / m[2])
        print("  %-5d %8.2f %8.2f %8.2fx %9.2f %9.2f %10.2fx %9.2f %10.2f %9.2fx   %s" % (
            n, w, c, sp, cr, la, ns, nc, ps, pp, " ".join("%.2f" % v for v in stages[n].values())))
        if n == 2:
            print("  goal (issue 16, 2 cores): speedup >= 1.8x on the wall time net of the launch: %s (with the "
                  "launch: %.2fx, %s); CPU ratio <= 1.1: %s (net of the launch's CPU: %.2f, %s)" % (
                      "met" if ns >= 1.8 else "NOT met", sp, "met" if sp >= 1.8 else "not met",
                      "met" if cr <= 1.1 else "NOT met", nc, "met" if nc <= 1.1 else "not met"))
    w1 = statistics.median(x[0] - x[2] for x in res[ranks[0]])
    print("  launch = mpirun + process start + shared libraries + MPI_Init/Finalize, measured in each repeat by "
          "`mpirun -n N agroflux run --help`; outside the stages on 1 rank (median): %.2f s of wall" % w1)
    if not a.no_ceiling:
        ceiling_part(a, root, p, statistics.median(x[0] - x[3] for x in res[ranks[0]]), ranks)


def ceiling_part(a, root, p, net1, ranks):
    """What this machine and this pipeline allow: the fixed part of a run (a 1-county x 1-scenario,
    1-year run of the same synth region: setup, per-file and per-process costs, the sites) and the
    slowdown of two independent 1-rank runs sharing the machine (memory bandwidth, page cache, disk).
    Bound = net(1) / (F + c * (net(1) - F) / n): the net speedup if everything but F divided evenly."""
    y0 = int(a.scale_years.split("-")[0])
    d = os.path.join(root, "fixed")
    tiny = synth(a, d, 1, 1, 3, y0, y0)
    run_pipeline(a, 1, tiny, os.path.join(d, "warm"), [])
    fixed = []
    for k in range(a.repeat):
        wall, _, _ = run_pipeline(a, 1, tiny, os.path.join(d, "n1"), [])
        fixed.append(wall - run_launch(a, 1)[0])
    F = statistics.median(fixed)
    # two 1-rank runs of the scaling pipeline at once, against one alone, alternating; each run's
    # own time (stage_time): the two launchers' start is not the pipeline's
    solo, pair_ = [], []
    d2 = os.path.join(root, "scale")
    for k in range(a.repeat):
        solo.append(stage_time(run_pipeline(a, 1, p, os.path.join(d2, "solo"), [])[2]))
        procs = []
        for j in range(2):
            # two launchers would each bind their rank to the first core: unbound, the kernel spreads them
            cmd = ["mpirun", "-n", "1", "--bind-to", "none"] + a.mpirun_args.split() + [
                a.agroflux, "-q", "run", p, "--output", os.path.join(d2, "pair%d" % j)]
            procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        for q in procs:
            _, err = q.communicate()
            if q.returncode != 0:
                sys.exit("bench_scale: a concurrent run failed (%d):\n%s" % (q.returncode, err[-3000:]))
        pair_.append(statistics.mean(stage_time(read_index(os.path.join(d2, "pair%d" % j))) for j in range(2)))
    c = statistics.median(pair_[i] / solo[i] for i in range(a.repeat))
    print("ceiling: fixed part F (1 county x 1 scenario + 3 sites, %d, 1 rank, net of the launch) %.2f s of the "
          "%.2f s net 1-rank run; two 1-rank runs at once take %.2fx one alone (contention c, on the runs' "
          "own stage times)" % (y0, F, net1, c))
    for n in ranks[1:]:
        amdahl = net1 / (F + (net1 - F) / n)
        bound = net1 / (F + c * (net1 - F) / n)
        need = (net1 / 1.8 - c * net1 / n) / (1 - c / n) if c < n else -1.0
        print("  %d ranks: net speedup bound %.2fx if all but F divided evenly (%.2fx with contention c); 1.8x %s" % (
            n, amdahl, bound, "needs F <= %.2f s" % need if need > 0 else
            "is out of reach here even with F = 0 (n / c = %.2fx)" % (n / c)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agroflux", default=os.environ.get("AGROFLUX", "agroflux"))
    ap.add_argument("--dir", help="work directory (default: a new one under $TMPDIR, removed at the end)")
    ap.add_argument("--keep", action="store_true", help="leave the files")
    ap.add_argument("--counties", type=int, default=16)
    ap.add_argument("--scenarios", type=int, default=2)
    ap.add_argument("--years", default="1,4,16", help="memory part: year counts (from 2001)")
    ap.add_argument("--ranks", default="1,2")
    ap.add_argument("--scale-counties", type=int, default=64)
    ap.add_argument("--scale-scenarios", type=int, default=4)
    ap.add_argument("--scale-years", default="2002-2004")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", choices=["memory", "scaling"])
    ap.add_argument("--no-ceiling", action="store_true",
                    help="scaling part: skip the fixed-part and two-runs-at-once measurements")
    ap.add_argument("--mpirun-args", default="--mca pml ob1",
                    help="extra mpirun arguments (default: '--mca pml ob1', one node's choice without probing "
                         "UCX and libfabric at each start: docs/hpc.md, 'Start-up cost'; '' for Open MPI's default)")
    a = ap.parse_args()
    a.agroflux = shutil.which(a.agroflux) or a.agroflux
    root = a.dir or tempfile.mkdtemp(prefix="bench_scale.")
    os.makedirs(root, exist_ok=True)
    try:
        if a.only != "scaling":
            memory_part(a, root)
        if a.only != "memory":
            scaling_part(a, root)
    finally:
        if not a.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
