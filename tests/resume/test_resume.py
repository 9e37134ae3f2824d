# SPDX-License-Identifier: MIT
"""Resume after interruption: every way a run can stop, then `run --resume`, must give shards
byte-identical (SHA-256) to an uninterrupted run, and an interrupted run must leave no index and
no partial file under a final name. A .partial file damaged after the interruption (truncated,
changed header, changed day data) is detected against the journal's checksums and rewritten.

Cases: (1) test hook AGROFLUX_TEST_FAIL_AT=write:block:2 on 2 ranks, resumed on 3 ranks;
(2) AGROFLUX_TEST_FAIL_AT=sealed (shards hashed, not renamed): resume only publishes;
(3) a real SIGKILL of rank 1 of `mpirun -n 2` in the middle of the write stage (slowed down by
the test-only AGROFLUX_TEST_BLOCK_DELAY_MS); (4) SIGTERM to one rank: clean stop, exit 4,
progress.json says "interrupted", journal kept; a second SIGTERM kills at once; (5) a changed performance-only key (block_days) and a
comment let --resume continue to identical shards, a changed key makes it start over naming the key, and so do a garbage journal and a missing .partial file; (6) a full disk (a tmpfs of half the output size; we are root) fails cleanly, then the same
directory grown with `mount -o remount` resumes byte-identically; (7) a read-only output
directory (read-only tmpfs) fails cleanly; (8) --checkpoint-interval: nothing resumable before
the first checkpoint, but a stop always checkpoints. Cases 6-7 need mount(2); without it they are reported
as skipped and the rest still runs.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

AGROFLUX = os.environ["AGROFLUX"]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def per_block(args):
    """A run checkpoints after every block (the default is once a minute): these cases stop or kill
    runs at block boundaries. An explicit --checkpoint-interval is kept."""
    args = list(args)
    return args + ["--checkpoint-interval", "0"] if "run" in args and "--checkpoint-interval" not in args else args


def mpirun(n, *args, env=None, **kw):
    cmd = ["mpirun", "-n", str(n), "--oversubscribe", AGROFLUX, *per_block(args)]
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=120, **kw)


def shard_sums(out):
    idx = json.load(open(os.path.join(out, "index.json")))
    return [(s["path"], s["sha256"]) for s in idx["shards"]], idx


def file_sums(out):
    """SHA-256 of the shard files themselves, computed here (not taken from the index)."""
    import hashlib
    res = []
    for name in sorted(os.listdir(out)):
        if name.startswith("shard-") and name.endswith(".nc"):
            res.append((name, hashlib.sha256(open(os.path.join(out, name), "rb").read()).hexdigest()))
    return res


def interrupted_state(out, what):
    names = os.listdir(out)
    check("index.json" not in names, "%s: no index after an interrupted run (%s)" % (what, names))
    finals = [n for n in names if n.startswith("shard-") and n.endswith(".nc")]
    check(not finals, "%s: no shard under a final name (%s)" % (what, finals))
    check(os.path.exists(os.path.join(out, "journal.json")), "%s: journal kept" % what)


def resumed_equal(out, base, n, what, extra_env=None):
    r = mpirun(n, "run", PIPE, "--output", out, "--resume", env=extra_env)
    check(r.returncode == 0, "%s: resume exit %d: %s" % (what, r.returncode, r.stderr[-2000:]))
    if r.returncode != 0:
        return r
    check(file_sums(out) == base, "%s: shards differ from the uninterrupted run" % what)
    check(not os.path.exists(os.path.join(out, "journal.json")), "%s: journal removed after the index" % what)
    v = subprocess.run([AGROFLUX, "verify", out], capture_output=True, text=True)
    check(v.returncode == 0, "%s: verify: %s" % (what, v.stderr))
    return r


def journal(out):
    try:
        return json.load(open(os.path.join(out, "journal.json")))
    except (OSError, ValueError):
        return None


def rank_pid(mpirun_pid, rank):
    """pid of the agroflux process of `rank` started by our mpirun (found through /proc)."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = open("/proc/%s/stat" % d).read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid != mpirun_pid:
                continue
            env = open("/proc/%s/environ" % d, "rb").read().split(b"\0")
            if ("OMPI_COMM_WORLD_RANK=%d" % rank).encode() in env:
                return int(d)
        except (OSError, ValueError, IndexError):
            continue
    return None


# The suite sets OMPI_MCA_odls_base_sigkill_timeout=0 (tests/meson.build: mpirun's wait before it
# kills the ranks left after one exits non-zero, idle time when every rank leaves on its own). Runs
# whose ranks this test signals keep Open MPI's default (1 s before SIGTERM, 1 s more before
# SIGKILL), so the ranks not signalled are stopped as they would be outside the tests.
SIGNALLED = {"OMPI_MCA_odls_base_sigkill_timeout": "1"}


def start_slow(out, delay_ms=250):
    e = dict(os.environ, AGROFLUX_TEST_BLOCK_DELAY_MS=str(delay_ms), **SIGNALLED)
    return subprocess.Popen(["mpirun", "-n", "2", "--oversubscribe", AGROFLUX, "run", PIPE, "--output", out,
                             "--progress-interval", "0", "--checkpoint-interval", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)


def wait_days(p, out, days, timeout=60):
    t0 = time.time()
    while time.time() - t0 < timeout and p.poll() is None:
        j = journal(out)
        if j and j["days_done"] >= days:
            return j["days_done"]
        time.sleep(0.05)
    return None


def case_hook_block(tmp, base):
    out = os.path.join(tmp, "hook")
    r = mpirun(2, "-q", "run", PIPE, "--output", out, env={"AGROFLUX_TEST_FAIL_AT": "write:block:2"})
    check(r.returncode == 1, "hook: exit 1, got %d" % r.returncode)
    check("simulated failure at write block 2" in r.stderr and "rank 1" in r.stderr, "hook: message: " + r.stderr[:400])
    interrupted_state(out, "hook")
    j = journal(out)
    check(j is not None and j["days_done"] == 2 * BLOCK and j["state"] == "writing",
          "hook: journal after 2 blocks: %s" % j)
    r = resumed_equal(out, base, 3, "hook resumed on 3 ranks")
    check("continuing at day %d" % (2 * BLOCK + 1) in r.stderr, "hook: log says where it continues: " + r.stderr[:300])
    idx = json.load(open(os.path.join(out, "index.json")))
    check(idx["provenance"]["resumed_from_day"] == 2 * BLOCK, "hook: resumed_from_day in provenance")


def case_all_days_written(tmp, base):
    """Crash after the last block's checkpoint, before sealing: resume only closes, hashes, renames."""
    out = os.path.join(tmp, "alldays")
    r = mpirun(2, "-q", "run", PIPE, "--output", out, env={"AGROFLUX_TEST_FAIL_AT": "sealed"})
    check(r.returncode == 1, "alldays: first run fails")
    j = journal(out)
    if j is None:
        check(False, "alldays: journal")
        return
    j["state"] = "writing"
    del j["shards"]
    json.dump(j, open(os.path.join(out, "journal.json"), "w"))
    r = resumed_equal(out, base, 1, "alldays")
    check("all %d days are written" % NDAYS in r.stderr, "alldays: log: " + r.stderr[:300])


def case_sealed(tmp, base):
    out = os.path.join(tmp, "sealed")
    r = mpirun(2, "-q", "run", PIPE, "--output", out, env={"AGROFLUX_TEST_FAIL_AT": "sealed"})
    check(r.returncode == 1, "sealed: exit 1, got %d" % r.returncode)
    interrupted_state(out, "sealed")
    j = journal(out)
    check(j is not None and j["state"] == "sealed" and len(j["shards"]) == len(base), "sealed: journal %s" % j)
    r = resumed_equal(out, base, 2, "sealed")
    check("publishing" in r.stderr, "sealed: resume only publishes: " + r.stderr[:300])


def case_kill(tmp, base):
    out = os.path.join(tmp, "kill")
    p = start_slow(out)
    done = wait_days(p, out, 2 * BLOCK)
    pid = rank_pid(p.pid, 1)
    check(done is not None and pid is not None, "kill: run reached the write stage (days %s, pid %s)" % (done, pid))
    if pid:
        os.kill(pid, signal.SIGKILL)
    p.communicate(timeout=60)
    check(p.returncode != 0, "kill: mpirun reports the killed rank")
    interrupted_state(out, "kill")
    j = journal(out)
    check(j is not None and 0 < j["days_done"] < NDAYS, "kill: journal in the middle: %s" % j)
    resumed_equal(out, base, 2, "kill")


def case_sigterm(tmp, base):
    out = os.path.join(tmp, "term")
    p = start_slow(out)
    done = wait_days(p, out, BLOCK)
    pid = rank_pid(p.pid, 0)
    check(done is not None and pid is not None, "sigterm: run started writing")
    if pid:
        os.kill(pid, signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    check(p.returncode == 4, "sigterm: exit code 4 (interrupted), got %s: %s" % (p.returncode, err[-500:]))
    check("stopped by a signal" in err and "--resume" in err, "sigterm: message: " + err[-500:])
    interrupted_state(out, "sigterm")
    prog = json.load(open(os.path.join(out, "progress.json")))
    check(prog["state"] == "interrupted" and 0 < prog["days_done"] < NDAYS, "sigterm: progress.json %s" % prog)
    check(any(".partial" in n for n in os.listdir(out)), "sigterm: .partial files kept")
    resumed_equal(out, base, 2, "sigterm")


def case_second_sigterm(tmp, base):
    """A second SIGTERM ends a rank at once, even while it waits for a block boundary (here: rank 0 in
    the stop allreduce while rank 1 sleeps 20 s after its block); nothing is published, resume works."""
    out = os.path.join(tmp, "term2")
    p = start_slow(out, delay_ms=20000)
    done = wait_days(p, out, BLOCK)
    pid = rank_pid(p.pid, 0)
    check(done is not None and pid is not None, "term2: run started writing")
    t0 = time.time()
    if pid:
        os.kill(pid, signal.SIGTERM)
        time.sleep(0.5)
        os.kill(pid, signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    check(p.returncode not in (0, 4) and time.time() - t0 < 15,
          "term2: killed at once (exit %s after %.1f s): %s" % (p.returncode, time.time() - t0, err[-300:]))
    interrupted_state(out, "term2")
    resumed_equal(out, base, 2, "term2")


def case_changed_config(tmp, base):
    out = os.path.join(tmp, "changed")
    r = mpirun(2, "-q", "run", PIPE, "--output", out, env={"AGROFLUX_TEST_FAIL_AT": "write:block:1"})
    check(r.returncode == 1, "changed: first run fails")
    # a comment and a performance-only key (block_days): the run continues and writes the same bytes
    pipe2 = os.path.join(os.path.dirname(PIPE), "pipeline2.ini")
    text = open(PIPE).read().replace("block_days = %d" % BLOCK, "block_days = %d" % (2 * BLOCK + 3))
    open(pipe2, "w").write(text + "\n# edited\n")
    r = mpirun(1, "run", PIPE, "--output", out, env={"AGROFLUX_TEST_FAIL_AT": "write:block:1"})
    check("journal.json' of an interrupted run is discarded" in r.stderr, "changed: a run without --resume says "
          "it discards the journal: " + r.stderr[:300])
    r = mpirun(2, "run", pipe2, "--output", out, "--resume")
    check(r.returncode == 0, "changed block_days: resume runs: " + r.stderr[-500:])
    check("continuing at day %d" % (BLOCK + 1) in r.stderr and "starting over" not in r.stderr,
          "changed block_days: continues: " + r.stderr[:500])
    check(file_sums(out) == base, "changed block_days: shards identical to the uninterrupted run")
    # a key that changes the output: starts over and names it
    r = mpirun(2, "-q", "run", PIPE, "--output", out, env={"AGROFLUX_TEST_FAIL_AT": "write:block:1"})
    check(r.returncode == 1, "changed: second interrupted run fails")
    r = mpirun(2, "run", pipe2, "--output", out, "--resume", "--set", "target.GPP.long_name=GPP renamed")
    check(r.returncode == 0, "changed: resume runs: " + r.stderr[-500:])
    check("starting over" in r.stderr and "target.GPP.long_name changed" in r.stderr and "GPP renamed" in r.stderr,
          "changed: names the key that differs: " + r.stderr[:600])
    idx = json.load(open(os.path.join(out, "index.json")))
    check(idx["provenance"]["resumed_from_day"] == 0, "changed: ran from day 0")


def case_bad_state(tmp, base):
    """A journal that cannot be used, or a .partial file gone: --resume starts over and says why."""
    out = os.path.join(tmp, "bad")
    r = mpirun(2, "-q", "run", PIPE, "--output", out, env={"AGROFLUX_TEST_FAIL_AT": "write:block:1"})
    check(r.returncode == 1, "bad: first run fails")
    jpath = os.path.join(out, "journal.json")
    good = open(jpath).read()
    open(jpath, "w").write("{not json")
    r = mpirun(1, "run", PIPE, "--output", out, "--resume", env={"AGROFLUX_TEST_FAIL_AT": "write:block:1"})
    check(r.returncode == 1 and "unreadable journal" in r.stderr and "starting over" in r.stderr,
          "bad: garbage journal: " + r.stderr[:400])
    os.unlink(os.path.join(out, "shard-00001.nc.partial"))
    r = mpirun(2, "run", PIPE, "--output", out, "--resume")
    check(r.returncode == 0 and "shard-00001.nc.partial' is missing" in r.stderr and "starting over" in r.stderr,
          "bad: missing partial: " + r.stderr[:400])
    check(file_sums(out) == base, "bad: output after starting over")
    check(good.startswith("{"), "bad: journal was JSON")


def var_offset(path, var):
    """Start offset of a fixed-size variable in a classic NetCDF file, from PnetCDF's ncoffsets."""
    out = subprocess.run(["ncoffsets", path], capture_output=True, text=True).stdout.splitlines()
    for i, line in enumerate(out):
        tok = line.split()
        if len(tok) >= 2 and tok[1].startswith(var + "("):
            return int(out[i + 1].split("=")[1])
    return None


def first_input(path):
    """Name of the first input variable of a shard and its number of samples (ncdump -h)."""
    head = subprocess.run(["ncdump", "-h", path], capture_output=True, text=True).stdout
    rows = int(re.search(r"\bsample = (\d+) ;", head).group(1))
    data = subprocess.run(["ncdump", "-v", "input", path], capture_output=True, text=True).stdout
    first = re.search(r'input =\s*"([^"]*)"', data.split("data:")[-1]).group(1)
    return first, rows


def damaged_run(tmp, name, fail_block):
    out = os.path.join(tmp, name)
    r = mpirun(2, "-q", "run", PIPE, "--output", out, env={"AGROFLUX_TEST_FAIL_AT": "write:block:%d" % fail_block})
    check(r.returncode == 1, "%s: first run fails" % name)
    j = journal(out) or {}
    check(len(j.get("checks", {}).get("days", [])) == fail_block and
          j["checks"]["days"][-1] == fail_block * BLOCK == j["days_done"],
          "%s: one checked segment per checkpoint in the journal: %s" % (name, j.get("checks", {}).get("days")))
    return out


def case_damaged_partial(tmp, base):
    """A .partial file damaged after the interruption is never trusted: truncated or a changed header
    starts over, changed bytes of day data rewrite from the last segment that still verifies; the
    published shards equal the uninterrupted run's either way, and the log names the file."""
    out = damaged_run(tmp, "trunc", 4)
    part = os.path.join(out, "shard-00001.nc.partial")
    size = os.path.getsize(part)
    with open(part, "r+b") as f:
        f.truncate(size - 4096)
    r = resumed_equal(out, base, 2, "truncated .partial")
    check("shard-00001.nc.partial' is %d bytes" % (size - 4096) in r.stderr and "truncated" in r.stderr and
          "starting over" in r.stderr, "trunc: says so: " + r.stderr[:600])

    out = damaged_run(tmp, "header", 3)
    part = os.path.join(out, "shard-00000.nc.partial")
    data = bytearray(open(part, "rb").read())
    at = data.find(b"agroflux shard")
    check(at > 0, "header: title attribute found")
    data[at + 13:at + 14] = b"D"
    open(part, "wb").write(bytes(data))
    r = resumed_equal(out, base, 1, "changed header")
    check("header or static variables do not match" in r.stderr and "starting over" in r.stderr,
          "header: says so: " + r.stderr[:600])

    # the first input is one variable laid out (time, sample): a byte of sample 0 on day 3*BLOCK
    # (axis day 3*BLOCK+1) belongs to the 4th segment
    out = damaged_run(tmp, "bytes", 5)
    part = os.path.join(out, "shard-00000.nc.partial")
    first, rows = first_input(part)
    off = var_offset(part, first)
    check(off is not None, "bytes: ncoffsets finds %s" % first)
    if off is None:
        return
    with open(part, "r+b") as f:
        f.seek(off + (3 * BLOCK) * 4 * rows + 1)
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 0x40]))
    r = resumed_equal(out, base, 2, "changed day data")
    check("days %d..%d do not match" % (3 * BLOCK + 1, 4 * BLOCK) in r.stderr and
          "rewriting from day %d" % (3 * BLOCK + 1) in r.stderr, "bytes: rewrites from the damaged segment: " + r.stderr[:600])
    idx = json.load(open(os.path.join(out, "index.json")))
    check(idx["provenance"]["resumed_from_day"] == 3 * BLOCK, "bytes: resumed from the verified day")

    # a journal of an older agroflux (no checks) is not trusted either; before resuming, verify and
    # inspect say the output is incomplete and how to finish it
    out = damaged_run(tmp, "nochecks", 2)
    for cmd in ("verify", "inspect"):
        v = subprocess.run([AGROFLUX, cmd, out], capture_output=True, text=True)
        check(v.returncode != 0 and "is incomplete" in v.stderr and "%d of %d days written" % (2 * BLOCK, NDAYS) in v.stderr
              and "--output %s --resume" % out in v.stderr, "%s on an interrupted output: %s" % (cmd, v.stderr[-400:]))
    j = journal(out)
    del j["checks"]
    json.dump(j, open(os.path.join(out, "journal.json"), "w"))
    r = resumed_equal(out, base, 2, "journal without checks")
    check("records no checksums" in r.stderr, "nochecks: says so: " + r.stderr[:400])


def case_checkpoint_interval(tmp, base):
    """The default interval (a minute; this run is shorter): a failure before the first checkpoint
    leaves nothing resumable (no journal, no .partial); a SIGTERM still checkpoints before stopping."""
    out = os.path.join(tmp, "ckpt")
    r = subprocess.run(["mpirun", "-n", "2", "--oversubscribe", AGROFLUX, "-q", "run", PIPE, "--output", out],
                       capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, AGROFLUX_TEST_FAIL_AT="write:block:3"))
    check(r.returncode == 1, "ckpt: fails")
    names = os.listdir(out)
    check("journal.json" not in names and not [n for n in names if n.startswith("shard-")],
          "ckpt: nothing resumable before the first checkpoint: %s" % names)
    out = os.path.join(tmp, "ckpt2")
    e = dict(os.environ, AGROFLUX_TEST_BLOCK_DELAY_MS="250", **SIGNALLED)
    p = subprocess.Popen(["mpirun", "-n", "2", "--oversubscribe", AGROFLUX, "run", PIPE, "--output", out,
                          "--progress-interval", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)
    t0 = time.time()
    while time.time() - t0 < 60 and p.poll() is None:
        try:
            if json.load(open(os.path.join(out, "progress.json")))["days_done"] >= 2 * BLOCK:
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    check(journal(out) is None, "ckpt: no checkpoint yet in the middle of the run")
    pid = rank_pid(p.pid, 1)
    check(pid is not None, "ckpt: found rank 1")
    if pid:
        os.kill(pid, signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    check(p.returncode == 4, "ckpt: SIGTERM exit 4, got %s: %s" % (p.returncode, err[-300:]))
    j = journal(out)
    check(j is not None and j["days_done"] >= 2 * BLOCK, "ckpt: the stop checkpointed: %s" % j)
    resumed_equal(out, base, 2, "ckpt")


def case_usage():
    r = subprocess.run([AGROFLUX, "run", PIPE, "--progress-interval", "soon"], capture_output=True, text=True)
    check(r.returncode == 2 and "--progress-interval 'soon'" in r.stderr, "usage: bad interval: " + r.stderr[:200])
    r = subprocess.run([AGROFLUX, "run", PIPE, "--checkpoint-interval", "-1"], capture_output=True, text=True)
    check(r.returncode == 2 and "--checkpoint-interval '-1'" in r.stderr, "usage: bad checkpoint: " + r.stderr[:200])
    e = dict(os.environ, AGROFLUX_TEST_FAIL_AT="later")
    r = subprocess.run([AGROFLUX, "run", PIPE], capture_output=True, text=True, env=e)
    check(r.returncode == 2 and "AGROFLUX_TEST_FAIL_AT" in r.stderr, "usage: bad hook: " + r.stderr[:200])


def mount_tmpfs(path, opts):
    os.makedirs(path, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", path], capture_output=True).returncode == 0


def case_full_disk(tmp, base, total_bytes):
    mnt = os.path.join(tmp, "small")
    # room for about half the shards: the disk fills up in the middle of the write stage
    if not mount_tmpfs(mnt, "size=%dk" % (total_bytes // 2 // 1024)):
        print("SKIP full disk: cannot mount a tmpfs here", file=sys.stderr)
        return
    try:
        out = os.path.join(mnt, "out")
        r = mpirun(2, "-q", "run", PIPE, "--output", out)
        check(r.returncode == 1, "full: exit 1, got %d: %s" % (r.returncode, r.stderr[-500:]))
        check("No space left on device" in r.stderr, "full: message says why: " + r.stderr[:500])
        # A block of days touches every sample row, hence most pages of every shard: the disk
        # may fill at the first checkpoint (no journal: resume starts over) or later.
        j = journal(out)
        check(j is None or j["days_done"] < NDAYS, "full: journal, if any, is mid-run: %s" % j)
        names = os.listdir(out) if os.path.isdir(out) else []
        check("index.json" not in names and not [n for n in names if n.endswith(".nc")],
              "full: no index, nothing under a final name: %s" % names)
        subprocess.run(["mount", "-o", "remount,size=16m", mnt], check=True)
        resumed_equal(out, base, 2, "full disk then grown")
    finally:
        subprocess.run(["umount", mnt])


def case_read_only(tmp):
    mnt = os.path.join(tmp, "ro")
    if not mount_tmpfs(mnt, "ro,size=64k"):
        print("SKIP read-only: cannot mount a tmpfs here", file=sys.stderr)
        return
    try:
        r = mpirun(2, "-q", "run", PIPE, "--output", os.path.join(mnt, "out"))
        check(r.returncode == 1, "read-only: exit 1, got %d" % r.returncode)
        check("Read-only" in r.stderr and mnt in r.stderr, "read-only: message: " + r.stderr[:400])
    finally:
        subprocess.run(["umount", mnt])


def main():
    global PIPE
    tmp = tempfile.mkdtemp(prefix="af-resume-")
    try:
        data = os.path.join(tmp, "synth")
        r = subprocess.run([AGROFLUX, "synth", data, "--counties", "5", "--scenarios", "2", "--sites", "2",
                            "--years", "2003-2004", "--seed", "9"], capture_output=True, text=True)
        check(r.returncode == 0, "synth: " + r.stderr)
        PIPE = os.path.join(data, "pipeline-tables.ini")
        text = open(PIPE).read()
        lines = [("block_days = %d" % BLOCK) if l.startswith("block_days") else l for l in text.splitlines()]
        check(any(l.startswith("block_days") for l in text.splitlines()), "synth pipeline has block_days")
        open(PIPE, "w").write("\n".join(lines) + "\n")

        base_out = os.path.join(tmp, "base")
        r = mpirun(2, "run", PIPE, "--output", base_out, "--progress-interval", "0")
        check(r.returncode == 0, "baseline: " + r.stderr[-500:])
        base = file_sums(base_out)
        idx_sums, idx = shard_sums(base_out)
        global NINPUTS, FIRST_INPUT
        NINPUTS = len(idx["inputs"])
        FIRST_INPUT = idx["inputs"][0]["name"]
        check(base == idx_sums and len(base) >= 2, "baseline: index sums match the files")
        check(idx["provenance"]["resumed_from_day"] == 0, "baseline: not resumed")
        check(len(idx["provenance"]["peak_rss_bytes_per_rank"]) == 2 and
              max(idx["provenance"]["peak_rss_bytes_per_rank"]) == idx["provenance"]["peak_rss_bytes"],
              "baseline: per-rank peak RSS, max consistent")
        check([t["stage"] for t in idx["provenance"]["timings"]] == ["setup", "read", "write", "finish", "scalers", "publish"],
              "baseline: stage list")
        prog = json.load(open(os.path.join(base_out, "progress.json")))
        check(prog["state"] == "done" and prog["days_done"] == NDAYS == prog["days_total"] and
              prog["samples"] == len(idx["samples"]), "baseline: progress.json done: %s" % prog)
        check(r.stderr.count("agroflux: running write") == NDAYS // BLOCK + (NDAYS % BLOCK > 0),
              "baseline: one progress line per block with --progress-interval 0")
        check("peak RSS" in r.stdout and "finish" in r.stdout, "baseline: timing and memory table printed")

        if "damaged" in sys.argv[1:]:  # its own meson test (resume-damaged), to keep each short
            case_damaged_partial(tmp, base)
        else:
            case_hook_block(tmp, base)
            case_sealed(tmp, base)
            case_all_days_written(tmp, base)
            case_kill(tmp, base)
            case_sigterm(tmp, base)
            case_second_sigterm(tmp, base)
            case_changed_config(tmp, base)
            case_bad_state(tmp, base)
            case_checkpoint_interval(tmp, base)
            case_usage()
            case_full_disk(tmp, base, sum(os.path.getsize(os.path.join(base_out, n)) for n, _ in base))
            case_read_only(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d failures" % len(failures), file=sys.stderr)
        return 1
    print("resume: all cases passed")
    return 0


BLOCK = 50
NINPUTS = None
FIRST_INPUT = None
NDAYS = 730
PIPE = None

if __name__ == "__main__":
    sys.exit(main())
