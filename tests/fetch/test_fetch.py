# SPDX-License-Identifier: MIT
"""`agroflux fetch`, `plan --list-files` and remote/virtual paths against a real HTTP server on
127.0.0.1 (a small Range-capable handler written here, in a thread of this process, stopped at the
end). A synth tree is served from its root; its pipeline's url keys use {data_url}:

- fetch into an empty data_root downloads exactly the files the pipeline reads (the server's GET
  log equals the files `plan --list-files` names), each identical to the original; a second fetch
  asks for nothing; `run` on the fetched tree gives shards byte-identical to a run on the original;
- a transfer killed (SIGKILL) half-way leaves only PATH.part; the next fetch asks for the rest with
  a Range header starting at the .part size (and If-Range with the file's ETag) and completes it;
  a .part the server cannot continue (Range ignored, 416, the file changed) starts over;
- a 404, a body shorter than announced and a corrupt NetCDF fail with exit 1, naming the URL, the
  HTTP status and the pipeline key, and leave nothing under the final name;
- a missing file without a URL, and {data_url} without [pipeline] data_url, are reported;
- `plan --list-files` lists present and missing files all at once;
- a run reads soil rasters through /vsicurl/http://127.0.0.1/..., /vsis3/ and /vsigs/ (GDAL config
  options pointing at the local server), a NetCDF through /vsicurl/, and the county layer through
  /vsizip/{root}/counties.zip/..., with shards byte-identical to the local run.
"""
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from checks import Checker  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fetch_server import serve  # noqa: E402

AGROFLUX = os.environ["AGROFLUX"]
check = Checker()
TIMEOUT = 60


def af(*args, env=None, quiet=True, mpi=0):
    e = dict(os.environ)
    e.update(env or {})
    launcher = ["mpirun", "-n", str(mpi), "--oversubscribe"] if mpi else []
    return subprocess.run(launcher + [AGROFLUX] + (["-q"] if quiet else []) + list(args), capture_output=True,
                          text=True, timeout=TIMEOUT, env=e)


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def shards(outdir, mask_config_hash=False):
    """SHA-256 of every shard; with mask_config_hash the config hash (which covers --set overrides,
    so differs when paths are overridden) is zeroed first: every other byte must match."""
    out = {}
    for p in sorted(glob.glob(os.path.join(outdir, "shard-*.nc"))):
        data = open(p, "rb").read()
        if mask_config_hash:  # the global attribute config_sha256: its 64 hex characters
            m = re.search(rb"config_sha256.{0,16}?@([0-9a-f]{64})", data, re.S)
            if m:
                data = data[:m.start(1)] + b"0" * 64 + data[m.end(1):]
        out[os.path.basename(p)] = hashlib.sha256(data).hexdigest()
    return out


def tree_files(root):
    out = set()
    for d, _, files in os.walk(root):
        for f in files:
            out.add(os.path.relpath(os.path.join(d, f), root))
    return out


def show(p):
    return "exit %d\nstdout: %s\nstderr: %s" % (p.returncode, p.stdout[-1500:], p.stderr[-1500:])


def list_files(pipe, *sets):
    """(status, key, path) of every line of `plan --list-files`."""
    p = af("plan", pipe, "--list-files", *sets)
    rows = []
    for line in p.stdout.splitlines()[1:]:
        parts = line.split()
        if parts and parts[0] in ("present", "missing", "remote"):
            rows.append((parts[0], parts[2], parts[3]))
    return p, rows


def new_tree(tmp, name, src, skip=()):
    """A data root holding pipeline.ini and (copies of) the source files not in skip."""
    d = os.path.join(tmp, name)
    os.makedirs(d)
    shutil.copy(os.path.join(src, "pipeline.ini"), d)
    for rel in tree_files(src):
        if rel in skip or rel == "pipeline.ini" or rel.startswith(".agroflux-cache"):
            continue
        if rel.startswith(("gridmet/", "soil/", "ecosys/", "mgmt/", "site_lists/", "fluxnet/", "chambers/")) \
                or rel == "counties.geojson":
            os.makedirs(os.path.dirname(os.path.join(d, rel)), exist_ok=True)
            shutil.copy(os.path.join(src, rel), os.path.join(d, rel))
    return d


def test_fetch_and_run(tmp, src, srv, url, base_shards):
    dst = os.path.join(tmp, "empty")
    os.makedirs(dst)
    shutil.copy(os.path.join(src, "pipeline.ini"), dst)
    pipe = os.path.join(dst, "pipeline.ini")
    setu = ("--set", "pipeline.data_url=" + url)

    p, rows = list_files(os.path.join(src, "pipeline.ini"))
    check(p.returncode == 0, "list-files on the full tree: exit 0\n" + show(p))
    check(rows and all(r[0] == "present" for r in rows), "list-files on the full tree: every file present")
    needed = {os.path.relpath(r[2], src) for r in rows}

    p = af("fetch", pipe, "--dry-run", *setu, quiet=False)
    check(p.returncode == 0, "dry run: exit 0\n" + show(p))
    check(tree_files(dst) == {"pipeline.ini"}, "dry run writes nothing")
    total = sum(os.path.getsize(os.path.join(src, f)) for f in needed)
    lines = [ln.split() for ln in p.stdout.splitlines() if ln.startswith("fetch ")]
    check(len(lines) == len(needed), "dry run lists every needed file (%d of %d)" % (len(lines), len(needed)))
    check(sum(int(ln[1]) for ln in lines) == total and ("(%d bytes;" % total) in p.stdout,
          "dry run: sizes from HEAD add up to the files' bytes (%d)\n%s" % (total, show(p)))
    with srv.state.lock:
        heads = [x for x in srv.state.log if x[0] == "HEAD"]
        srv.state.log.clear()
    check(len(heads) == len(needed), "dry run: one HEAD per file (%d of %d)" % (len(heads), len(needed)))

    p = af("fetch", pipe, "--jobs", "3", *setu, quiet=False)
    check(p.returncode == 0, "fetch into an empty root: exit 0\n" + show(p))
    check(("agroflux fetch: %d fetched" % len(needed)) in p.stdout and "ETA" in p.stderr,
          "fetch: progress with ETA on stderr, summary on stdout\n" + show(p))
    got = tree_files(dst) - {"pipeline.ini"}
    check(got == needed, "fetch: exactly the needed files (extra %s, missing %s)"
          % (sorted(got - needed)[:5], sorted(needed - got)[:5]))
    check(all(sha(os.path.join(dst, f)) == sha(os.path.join(src, f)) for f in needed & got),
          "fetch: every file identical to the original")
    with srv.state.lock:
        gets = sorted(x[1].lstrip("/") for x in srv.state.log if x[0] == "GET")
        srv.state.log.clear()
    check(gets == sorted(needed), "fetch: one GET per needed file, nothing else (%d GETs, %d files)"
          % (len(gets), len(needed)))
    check(not glob.glob(os.path.join(dst, "**", "*.part"), recursive=True), "fetch: no .part file left")

    # under MPI: two ranks split the files; the result is the same tree
    dst2 = os.path.join(tmp, "empty-mpi")
    os.makedirs(dst2)
    shutil.copy(os.path.join(src, "pipeline.ini"), dst2)
    p = af("fetch", os.path.join(dst2, "pipeline.ini"), *setu, mpi=2)
    check(p.returncode == 0, "fetch on 2 ranks: exit 0\n" + show(p))
    got2 = tree_files(dst2) - {"pipeline.ini"}
    check(got2 == needed and all(sha(os.path.join(dst2, f)) == sha(os.path.join(src, f)) for f in got2),
          "fetch on 2 ranks: the same files, identical")
    with srv.state.lock:
        gets = sorted(x[1].lstrip("/") for x in srv.state.log if x[0] == "GET")
        srv.state.log.clear()
    check(gets == sorted(needed), "fetch on 2 ranks: each file requested once (%d GETs)" % len(gets))

    p = af("fetch", pipe, *setu)
    with srv.state.lock:
        again = list(srv.state.log)
        srv.state.log.clear()
    check(p.returncode == 0 and not again, "second fetch: nothing requested\n" + show(p))

    p = af("run", pipe, "--output", os.path.join(tmp, "out-fetched"))
    check(p.returncode == 0, "run on the fetched tree\n" + show(p))
    check(shards(os.path.join(tmp, "out-fetched")) == base_shards and base_shards,
          "run on the fetched tree: shards byte-identical to the original tree's")


def test_daycent(tmp, src, srv, url):
    """The DayCent pipeline (Daymet with its dayl multiplier, joined DayCent files, the run's soils.in
    that no key names): fetched into an empty root, its run equals the run on the original tree."""
    p = af("run", os.path.join(src, "pipeline-daycent.ini"), "--output", os.path.join(tmp, "out-dc-base"))
    check(p.returncode == 0, "DayCent baseline run\n" + show(p))
    dst = os.path.join(tmp, "empty-dc")
    os.makedirs(dst)
    shutil.copy(os.path.join(src, "pipeline-daycent.ini"), dst)
    p = af("fetch", os.path.join(dst, "pipeline-daycent.ini"), "--set", "pipeline.data_url=" + url)
    check(p.returncode == 0, "fetch the DayCent pipeline: exit 0\n" + show(p))
    got = tree_files(dst)
    check(any(f.endswith("soils.in") for f in got) and any("dayl" in f for f in got),
          "fetch the DayCent pipeline: soils.in and the dayl multiplier arrive")
    p = af("run", os.path.join(dst, "pipeline-daycent.ini"), "--output", os.path.join(tmp, "out-dc"))
    check(p.returncode == 0, "DayCent run on the fetched tree\n" + show(p))
    base = shards(os.path.join(tmp, "out-dc-base"))
    check(base and shards(os.path.join(tmp, "out-dc")) == base,
          "DayCent run on the fetched tree: shards byte-identical to the original tree's")


def test_resume(tmp, src, srv, url):
    target = "gridmet/tmmx_2003.nc"
    dst = new_tree(tmp, "resume", src, skip={target})
    pipe = os.path.join(dst, "pipeline.ini")
    part = os.path.join(dst, target + ".part")
    size = os.path.getsize(os.path.join(src, target))
    srv.state.mode["/" + target] = "stall"
    srv.state.release.clear()
    proc = subprocess.Popen([AGROFLUX, "-q", "fetch", pipe, "--set", "pipeline.data_url=" + url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t_end = time.time() + 30
    while time.time() < t_end and not (os.path.exists(part) and os.path.getsize(part) >= size // 2):
        time.sleep(0.05)
    have = os.path.getsize(part) if os.path.exists(part) else -1
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=TIMEOUT)
    srv.state.release.set()
    del srv.state.mode["/" + target]
    check(have == size // 2, "killed transfer: .part holds the half sent (%d of %d)" % (have, size))
    check(not os.path.exists(os.path.join(dst, target)), "killed transfer: nothing under the final name")
    with srv.state.lock:
        srv.state.log.clear()
    p = af("fetch", pipe, "--set", "pipeline.data_url=" + url)
    check(p.returncode == 0, "resumed fetch: exit 0\n" + show(p))
    with srv.state.lock:
        log = [x for x in srv.state.log if x[1] == "/" + target]
    check(log == [("GET", "/" + target, "bytes=%d-" % have)],
          "resumed fetch: one GET with Range bytes=%d- (log %s)" % (have, log))
    with srv.state.lock:
        ifr = [x[1] for x in srv.state.if_range if x[0] == "/" + target]
    etag = '"%s"' % hashlib.sha256(open(os.path.join(src, target), "rb").read()).hexdigest()[:16]
    check(ifr and ifr[-1] == etag, "resumed fetch: If-Range carries the ETag of the interrupted transfer (%s)" % ifr)
    check(os.path.exists(os.path.join(dst, target)) and sha(os.path.join(dst, target)) == sha(os.path.join(src, target)),
          "resumed fetch: the file is complete and identical")
    check(not glob.glob(part + "*"), "resumed fetch: .part and .part.etag gone")


def test_restart(tmp, src, srv, url):
    """A .part the server cannot continue: Range ignored (200) starts the file over; a .part longer
    than the file (416) is dropped and fetched again; a .part of an older version of the file (its
    saved ETag no longer matches, If-Range) gets the whole file. All end identical to the original."""
    for mode, target, junk in (("norange", "gridmet/tmmn_2003.nc", 1000), (None, "gridmet/pr_2003.nc", None),
                               ("changed", "gridmet/srad_2003.nc", 1000)):
        dst = new_tree(tmp, "restart-%s" % (mode or "416"), src, skip={target})
        size = os.path.getsize(os.path.join(src, target))
        with open(os.path.join(dst, target + ".part"), "wb") as f:
            f.write(b"\x55" * (junk or size + 100))
        # the validator kept with the .part: the file's ETag (so the resume is tried), or, "changed",
        # that of an older version of the file
        etag = '"%s"' % hashlib.sha256(open(os.path.join(src, target), "rb").read()).hexdigest()[:16]
        with open(os.path.join(dst, target + ".part.etag"), "w") as f:
            f.write('"stale0123456789"' if mode == "changed" else etag)
        if mode == "changed":
            mode = None
        if mode:
            srv.state.mode["/" + target] = mode
        with srv.state.lock:
            srv.state.log.clear()
        p = af("fetch", os.path.join(dst, "pipeline.ini"), "--set", "pipeline.data_url=" + url,
               env={"AGROFLUX_FETCH_BACKOFF": "0.05"})
        srv.state.mode.pop("/" + target, None)
        what = "Range ignored" if mode else "HTTP 416" if junk is None else "If-Range with a stale ETag"
        check(p.returncode == 0, "%s: exit 0\n%s" % (what, show(p)))
        check(sha(os.path.join(dst, target)) == sha(os.path.join(src, target)) if os.path.exists(os.path.join(dst, target))
              else False, "%s: the file starts over and ends identical" % what)
        check(not glob.glob(os.path.join(dst, target + ".part*")), "%s: no .part (or .part.etag) left" % what)
        with srv.state.lock:
            ranges = [x[2] for x in srv.state.log if x[1] == "/" + target]
        check(ranges and ranges[0] == "bytes=%d-" % (junk or size + 100),
              "%s: the first request asked for the rest of the .part (%s)" % (what, ranges))


def test_optional(tmp, src, srv, url):
    """missing_file = missing on every section reading a file: a 404 is skipped, not an error."""
    target = "fluxnet/FLX_US-Sx1_FLUXNET2015_FULLSET_DD_2003-2003_1-4.csv"
    check(os.path.exists(os.path.join(src, target)), "synth wrote " + target)
    dst = new_tree(tmp, "optional", src, skip={target})
    pipe = os.path.join(dst, "pipeline.ini")
    srv.state.mode["/" + target] = "404"
    opt = ["--set", "target.GPP@sites.missing_file=missing", "--set", "target.NEE.missing_file=missing"]
    p = af("fetch", pipe, "--set", "pipeline.data_url=" + url, *opt, quiet=False)
    check(p.returncode == 1 and "HTTP 404" in p.stderr,
          "404 of a file one section needs (Reco@sites not optional): still an error\n" + show(p))
    opt += ["--set", "target.Reco@sites.missing_file=missing"]
    p = af("fetch", pipe, "--set", "pipeline.data_url=" + url, *opt, quiet=False)
    srv.state.mode.pop("/" + target, None)
    check(p.returncode == 0 and "1 not on the server (optional)" in p.stdout,
          "404 of a file every reader may miss: skipped, exit 0\n" + show(p))
    check(not glob.glob(os.path.join(dst, target + "*")), "optional 404: nothing written (no file, no .part)")


def test_errors(tmp, src, srv, url):
    cases = [("404", "gridmet/pr_2003.nc", ["HTTP 404", "input.PRECN.url"]),
             ("truncate", "gridmet/srad_2003.nc", ["ended early", "input.RADN.url"]),
             ("corrupt", "gridmet/tmmn_2003.nc", ["corrupt download", "does not open", "input.TMIN_AIR.url"])]
    for mode, target, words in cases:
        dst = new_tree(tmp, "err-" + mode, src, skip={target})
        srv.state.mode["/" + target] = mode
        p = af("fetch", os.path.join(dst, "pipeline.ini"), "--retries", "1", "--set", "pipeline.data_url=" + url,
               env={"AGROFLUX_FETCH_BACKOFF": "0.05"})
        del srv.state.mode["/" + target]
        full = url + "/" + target
        check(p.returncode == 1, "%s: exit 1\n%s" % (mode, show(p)))
        for w in words + [full]:
            check(w in p.stderr, "%s: the error names '%s'\n%s" % (mode, w, show(p)))
        check(not os.path.exists(os.path.join(dst, target)), "%s: nothing under the final name" % mode)
        if mode == "truncate":
            check(os.path.getsize(os.path.join(dst, target + ".part")) < os.path.getsize(os.path.join(src, target)),
                  "truncate: the partial data stays as .part for a resume")
        else:
            check(not os.path.exists(os.path.join(dst, target + ".part")), "%s: no .part left" % mode)

    # a destination that cannot be written (a file where the directory should be): that file fails,
    # named, and the others still arrive
    dst = new_tree(tmp, "err-dir", src, skip={"gridmet/pr_2003.nc", "soil/bd_0-5.tif"})
    os.rename(os.path.join(dst, "gridmet"), os.path.join(dst, "gridmet.away"))
    write_file = open(os.path.join(dst, "gridmet"), "w")
    write_file.close()
    p = af("fetch", os.path.join(dst, "pipeline.ini"), "--set", "pipeline.data_url=" + url)
    check(p.returncode == 1 and url + "/gridmet/pr_2003.nc" in p.stderr and "input.PRECN.url" in p.stderr
          and "directory" in p.stderr, "unwritable destination: exit 1 naming URL, key and the directory\n" + show(p))
    check(os.path.exists(os.path.join(dst, "soil", "bd_0-5.tif")), "unwritable destination: the other files arrive")

    # no URL for a missing file; {data_url} without data_url
    dst = new_tree(tmp, "nourl", src, skip={"soil/bd_0-5.tif"})
    pipe = os.path.join(dst, "pipeline.ini")
    p = af("fetch", pipe, "--set", "input.TBKDS.url=")
    check(p.returncode == 2 and "data_url" in p.stderr and "not set" in p.stderr,
          "{data_url} without [pipeline] data_url: exit 2 naming it\n" + show(p))
    p = af("fetch", pipe, "--set", "input.TBKDS.url=", "--set", "pipeline.data_url=" + url)
    check(p.returncode == 1 and "gives no URL" in p.stderr and "input.TBKDS.path" in p.stderr
          and "bd_0-5.tif" in p.stderr, "missing file without a URL: exit 1 naming path and key\n" + show(p))
    anchor = "manual: see docs/data-sources.md#soil-gssurgo--gnatsgo-usda-nrcs"
    check(anchor in p.stderr, "missing file without a URL: the error points at the guide's soil section\n" + show(p))
    p = af("fetch", pipe, "--dry-run", "--set", "input.TBKDS.url=", "--set", "pipeline.data_url=" + url)
    check(re.search(r"^manual  \S*bd_0-5\.tif  \(input\.TBKDS\.path\): no URL; see docs/data-sources\.md"
                    r"#soil-gssurgo--gnatsgo-usda-nrcs$", p.stdout, re.M),
          "dry run: a file without a URL is listed as manual with the guide's section\n" + show(p))
    p = af("plan", pipe, "--list-files", "--set", "input.TBKDS.url=")
    check(re.search(r"^missing .*bd_0-5\.tif <- " + re.escape(anchor) + "$", p.stdout, re.M),
          "list-files: a missing file without a URL says manual and where to read\n" + show(p))

    # many files of one key without a URL: one line for them all, with the count
    dcs = {f for f in tree_files(src) if f.startswith("ecosys/") and f.endswith("dc")}
    d = new_tree(tmp, "nourl-many", src, skip=dcs)
    nourl = []
    for sec in ("Reco@counties", "GPP@counties", "CO2_FLUX"):
        nourl += ["--set", "target.%s.url=" % sec]
    p = af("fetch", os.path.join(d, "pipeline.ini"), "--set", "pipeline.data_url=" + url, *nourl)
    lines = [ln for ln in p.stderr.splitlines() if "gives no URL" in ln and "first:" not in ln]
    check(p.returncode == 1 and len(dcs) == 4 and len(lines) == 1 and
          "(and %d more files of target.Reco@counties.path without a URL)" % (len(dcs) - 1) in lines[0]
          and "ecosys-and-daycent-outputs" in lines[0] and "add `url` beside `path`" in lines[0],
          "%d files of one key without a URL: one line with the count and the guide's section\n%s" % (len(dcs), show(p)))

    # plan --list-files: every file at once, present and missing
    os.remove(os.path.join(dst, "gridmet", "pr_2003.nc"))
    p, rows = list_files(pipe)
    missing = sorted(os.path.relpath(r[2], dst) for r in rows if r[0] == "missing")
    check(p.returncode == 1, "list-files with missing files: exit 1\n" + show(p))
    check(missing == ["gridmet/pr_2003.nc", "soil/bd_0-5.tif"], "list-files: both missing files listed (%s)" % missing)
    check(sum(1 for r in rows if r[0] == "present") == len(rows) - 2, "list-files: the rest present")
    p = af("plan", pipe)
    check(p.returncode != 0, "plain plan still stops at a missing file")


def test_virtual(tmp, src, srv, url, base_masked):
    """Soil rasters read in place through /vsicurl/; the county layer read inside a zip through
    /vsizip/, the zip itself fetched (fetch downloads the archive a /vsizip/ path names)."""
    with zipfile.ZipFile(os.path.join(src, "counties.zip"), "w") as z:  # served by the server
        z.write(os.path.join(src, "counties.geojson"), "counties.geojson")
    dst = new_tree(tmp, "virtual", src, skip={"counties.geojson"} | {"soil/bd_%s.tif" % l for l in ("0-5", "5-15", "15-30")})
    pipe = os.path.join(dst, "pipeline.ini")
    sets = ["--set", "counties.layer=/vsizip/{root}/counties.zip/counties.geojson",
            "--set", "counties.layer_url={data_url}/counties.zip",
            "--set", "input.TBKDS.path=/vsicurl/" + url + "/soil/bd_{layer}.tif"]
    p, rows = list_files(pipe, *sets)
    remote = sorted(r[1] for r in rows if r[0] == "remote")
    check(remote == ["input.TBKDS.path"] * 3, "list-files: /vsicurl/ paths are 'remote' (%s)" % remote)
    zrow = [r for r in rows if r[1] == "counties.layer"]
    check(zrow and zrow[0][0] == "missing" and zrow[0][2].endswith("counties.zip"),
          "list-files: a /vsizip/ layer names its archive, missing (%s)" % zrow)
    p = af("fetch", pipe, "--dry-run", "--set", "pipeline.data_url=" + url, *sets, quiet=False)
    lines = [ln.split() for ln in p.stdout.splitlines() if ln.startswith("fetch ")]
    check(p.returncode == 0 and [os.path.normpath(ln[-1]) for ln in lines] == [os.path.join(dst, "counties.zip")]
          and "not listed" not in p.stdout + p.stderr and not os.path.exists(os.path.join(dst, "counties.zip")),
          "dry run with the county layer in a missing zip: samples enumerated from a temporary copy, "
          "only the zip to fetch, nothing written\n" + show(p))
    p = af("fetch", pipe, "--set", "pipeline.data_url=" + url, *sets)
    check(p.returncode == 0 and os.path.exists(os.path.join(dst, "counties.zip")),
          "fetch downloads the archive of a /vsizip/ path\n" + show(p))
    p = af("run", pipe, "--output", os.path.join(tmp, "out-virtual"), *sets,
           env={"GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"})
    check(p.returncode == 0, "run with /vsizip/ counties and /vsicurl/ soil\n" + show(p))
    check(shards(os.path.join(tmp, "out-virtual"), True) == base_masked and base_masked,
          "run with /vsizip/ and /vsicurl/ paths: shards byte-identical to the local run (config hash aside)")
    prov = json.load(open(os.path.join(tmp, "out-virtual", "provenance.json")))
    files = {f["path"]: f for f in prov["files"]}
    remote = [f for p, f in files.items() if p.startswith("/vsicurl/")]
    local = os.path.join(src, "soil", "bd_0-5.tif")
    check(any(f["sha256"] == sha(local) and f["bytes"] == os.path.getsize(local) for f in remote),
          "provenance of a /vsicurl/ input: its size and SHA-256, read through GDAL (%s)" % remote[:1])
    # S3 and Google Cloud Storage paths, the local server standing in for the endpoints (path-style
    # requests /BUCKET/KEY: the served root's soil/ directory is the bucket)
    host = url.split("//")[1]
    for prefix, env in (("/vsis3/", {"AWS_S3_ENDPOINT": host, "AWS_HTTPS": "NO", "AWS_VIRTUAL_HOSTING": "FALSE",
                                     "AWS_NO_SIGN_REQUEST": "YES"}),
                        ("/vsigs/", {"CPL_GS_ENDPOINT": url + "/", "GS_NO_SIGN_REQUEST": "YES"})):
        env["GDAL_DISABLE_READDIR_ON_OPEN"] = "EMPTY_DIR"
        srv.state.log.clear()
        out = os.path.join(tmp, "out-" + prefix.strip("/"))
        p = af("run", pipe, "--output", out, *sets[:4], "--set", "input.TBKDS.path=%ssoil/bd_{layer}.tif" % prefix,
               env=env)
        gets = {x[1] for x in list(srv.state.log) if x[0] == "GET"}
        check(p.returncode == 0 and shards(out, True) == base_masked and "/soil/bd_0-5.tif" in gets,
              "run with %s rasters (GDAL config options in the environment): the server was asked for "
              "/soil/bd_0-5.tif, shards byte-identical to the local run\n%s" % (prefix, show(p)))
        p = af("run", pipe, "--output", out + "-bad", *sets[:4], "--set",
               "input.TBKDS.path=%ssoil/nothere_{layer}.tif" % prefix, env=env)
        check(p.returncode == 1 and prefix + "soil/nothere_0-5.tif" in p.stderr,
              "a missing %s object: exit 1 naming it\n%s" % (prefix, show(p)))
    # a plain http:// raster path (GDAL reads it through /vsicurl/ itself)
    p = af("run", pipe, "--output", os.path.join(tmp, "out-httptif"), *sets[:4],
           "--set", "input.TBKDS.path=" + url + "/soil/bd_{layer}.tif", env={"GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"})
    check(p.returncode == 0 and shards(os.path.join(tmp, "out-httptif"), True) == base_masked,
          "run with an http:// raster path: shards byte-identical to the local run\n" + show(p))
    # a NetCDF (netCDF-4, as synth writes it) read through /vsicurl/ by GDAL's netCDF driver
    p = af("run", pipe, "--output", os.path.join(tmp, "out-ncvsi"), *sets,
           "--set", "input.TMAX_AIR.path=/vsicurl/" + url + "/gridmet/tmmx_{year}.nc")
    check(p.returncode == 0 and shards(os.path.join(tmp, "out-ncvsi"), True) == base_masked,
          "run with a /vsicurl/ NetCDF path: shards byte-identical to the local run\n" + show(p))
    p = af("run", pipe, "--output", os.path.join(tmp, "out-http"), *sets,
           "--set", "input.TMAX_AIR.path=" + url + "/gridmet/tmmx_{year}.nc")
    check(p.returncode == 1 and url + "/gridmet/tmmx_2003.nc" in p.stderr and "OPeNDAP" in p.stderr,
          "NetCDF by http:// from a plain file server: exit 1 naming the URL and what would work\n" + show(p))
    bad = sets[:4] + ["--set", "input.TBKDS.path=/vsicurl/" + url + "/soil/nothere_{layer}.tif"]
    p = af("run", pipe, "--output", os.path.join(tmp, "out-bad"), *bad)
    check(p.returncode == 1 and "nothere_0-5.tif" in p.stderr and "cannot open raster" in p.stderr,
          "a missing /vsicurl/ raster: GDAL's open fails with the path and its reason\n" + show(p))
    p = af("run", pipe, "--output", os.path.join(tmp, "out-bad2"), *sets[2:],
           "--set", "counties.layer=/vsizip/{root}/counties.zip/nothere.geojson")
    check(p.returncode != 0 and "nothere.geojson" in p.stderr and "cannot open county layer" in p.stderr,
          "a missing member of a /vsizip/ archive: the open fails naming it\n" + show(p))


def main():
    part = sys.argv[1] if len(sys.argv) > 1 else "all"  # core | virtual (remote and /vsi paths) | all
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src")
        p = af("synth", src, "--counties", "2", "--scenarios", "2", "--sites", "1", "--years", "2003-2003")
        if p.returncode != 0:
            print("synth failed\n" + show(p), file=sys.stderr)
            return 1
        colon = [f for f in tree_files(src) if ":" in f]
        check(not colon, "synth tree: no ':' in any file or directory name (%s)" % colon[:3])
        p = af("run", os.path.join(src, "pipeline.ini"), "--output", os.path.join(tmp, "out-base"))
        check(p.returncode == 0, "baseline run\n" + show(p))
        base = shards(os.path.join(tmp, "out-base"))
        srv = serve(src)
        url = "http://127.0.0.1:%d" % srv.server_address[1]
        try:
            if part in ("all", "core"):
                test_fetch_and_run(tmp, src, srv, url, base)
                test_daycent(tmp, src, srv, url)
                test_resume(tmp, src, srv, url)
                test_restart(tmp, src, srv, url)
                test_optional(tmp, src, srv, url)
                test_errors(tmp, src, srv, url)
            if part in ("all", "virtual"):
                test_virtual(tmp, src, srv, url, shards(os.path.join(tmp, "out-base"), True))
        finally:
            srv.state.release.set()
            srv.shutdown()
            srv.server_close()
    print("test_fetch %s:" % part, check.summary())
    return 0 if check.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
