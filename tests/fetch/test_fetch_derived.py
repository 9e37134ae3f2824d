# SPDX-License-Identifier: MIT
"""`agroflux fetch` of files it makes from downloads, checksums and unvalidated resumes, against the
Range-capable server of fetch_server.py on 127.0.0.1 serving a synth tree:

- fetch = crop (CDL): the "national" raster is the synth CDL padded by 150 pixels of nodata on every
  side (gdal_translate), zipped inside a sub-folder next to a README; fetch downloads the zip, finds
  the GeoTIFF member, cuts the region's window of whole source pixels and deletes the zip; the crop
  is smaller than the national raster, on its grid (origin shifted by whole pixels), and a run on it
  gives shards byte-identical to a run on the national raster; with fetch_cache the zip is kept
  there and a second region fetches no zip; a zip without a GeoTIFF fails naming key and file,
  leaving nothing under the final name;
- fetch = tiles (POLARIS-like): 1x1 degree EPSG:4326 tiles cut by gdalwarp from the synth bulk
  density on a 1/64 degree grid; fetch downloads exactly the tiles covering the counties and sites
  (the region's lon/lat box, computed here from the GeoJSON) and writes a VRT per layer; a run on
  the VRTs equals a run on one raster of the same grid holding all tiles;
- sha256sums: a matching SHA256SUMS passes; a mismatch fails naming URL, checksum URL and key, with
  nothing under the final name and no .part; a file not listed fails before any download;
- a .part from a server that gives neither ETag nor Last-Modified is not resumed: the next fetch
  asks for the whole file (no Range), says so on stderr, and ends identical.
"""
import glob
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
sys.path.insert(0, HERE)
from checks import Checker  # noqa: E402
from fetch_server import serve  # noqa: E402

AGROFLUX = os.environ["AGROFLUX"]
check = Checker()
TIMEOUT = 90
RES = 1.0 / 64  # degrees: a binary fraction, so 1 degree tile edges fall on pixel edges exactly

CDL_FEATURE = """
[input.CORNF]
source = cdl
path = {root}/cdl/{year}_30m_cdls.tif
url = {data_url}/nass/{year}_30m_cdls.zip
fetch = crop
statistic = fraction
classes = 1
units = 1
long_name = corn share of the county
"""


def af(*args, env=None, quiet=True):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([AGROFLUX] + (["-q"] if quiet else []) + list(args), capture_output=True, text=True,
                          timeout=TIMEOUT, env=e)


def sh(*args):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=TIMEOUT)
    if p.returncode != 0:
        raise RuntimeError("%s: %s" % (args[0], p.stderr[-800:]))
    return p.stdout


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def shards(outdir, mask_config_hash=False):
    out = {}
    for p in sorted(glob.glob(os.path.join(outdir, "shard-*.nc"))):
        data = open(p, "rb").read()
        if mask_config_hash:
            m = re.search(rb"config_sha256.{0,16}?@([0-9a-f]{64})", data, re.S)
            if m:
                data = data[:m.start(1)] + b"0" * 64 + data[m.end(1):]
        out[os.path.basename(p)] = hashlib.sha256(data).hexdigest()
    return out


def show(p):
    return "exit %d\nstdout: %s\nstderr: %s" % (p.returncode, p.stdout[-1500:], p.stderr[-1500:])


def tree_files(root):
    return {os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs}


def new_tree(tmp, name, src, pipeline, skip_prefixes):
    """A data root with `pipeline` and copies of the source files not under skip_prefixes."""
    d = os.path.join(tmp, name)
    os.makedirs(d)
    shutil.copy(os.path.join(src, pipeline), d)
    for rel in tree_files(src):
        if rel.endswith(".ini") or rel.startswith(skip_prefixes + (".agroflux-cache",)):
            continue
        os.makedirs(os.path.dirname(os.path.join(d, rel)), exist_ok=True)
        shutil.copy(os.path.join(src, rel), os.path.join(d, rel))
    return d


def gt_of(path):
    info = json.loads(sh("gdalinfo", "-json", path))
    return info["geoTransform"], info["size"]


def get_log(srv):
    with srv.state.lock:
        log = list(srv.state.log)
        srv.state.log.clear()
    return log


def region_lonlat(src, sites=True):
    """lon/lat box of the synth counties (GeoJSON, EPSG:4269 ~ lon/lat) and sites."""
    xs, ys = [], []

    def walk(c):
        if isinstance(c[0], (int, float)):
            xs.append(c[0])
            ys.append(c[1])
        else:
            for x in c:
                walk(x)
    for f in json.load(open(os.path.join(src, "counties.geojson")))["features"]:
        walk(f["geometry"]["coordinates"])
    if sites:
        lines = open(os.path.join(src, "site_lists", "sites.csv")).read().splitlines()
        head = lines[0].split(",")
        for line in lines[1:]:
            cells = line.split(",")
            ys.append(float(cells[head.index("lat")]))
            xs.append(float(cells[head.index("lon")]))
    return min(xs), min(ys), max(xs), max(ys)


def test_crop(tmp, src, srv, url):
    year = 2003
    national = os.path.join(src, "national", "%d_30m_cdls.tif" % year)
    os.makedirs(os.path.dirname(national))
    (gt, size) = gt_of(os.path.join(src, "cdl", "%d_30m_cdls.tif" % year))
    pad = 150
    sh("gdal_translate", "-q", "-srcwin", str(-pad), str(-pad), str(size[0] + 2 * pad), str(size[1] + 2 * pad),
       os.path.join(src, "cdl", "%d_30m_cdls.tif" % year), national)
    os.makedirs(os.path.join(src, "nass"))
    with zipfile.ZipFile(os.path.join(src, "nass", "%d_30m_cdls.zip" % year), "w") as z:
        z.write(national, "%d_30m_cdls/%d_30m_cdls.tif" % (year, year))
        z.writestr("%d_30m_cdls/README.txt" % year, "Cropland Data Layer (test)\n")
    with zipfile.ZipFile(os.path.join(src, "nass", "empty.zip"), "w") as z:
        z.writestr("README.txt", "no raster here\n")
    with zipfile.ZipFile(os.path.join(src, "nass", "two.zip"), "w") as z:
        z.write(national, "a/a.tif")
        z.write(national, "b/b.tif")
    far = os.path.join(tmp, "far.tif")  # a raster of the same CRS far from the counties
    sh("gdal_translate", "-q", "-srcwin", "0", "0", "10", "10", "-a_ullr", "5000000", "5000000", "5000300", "4999700",
       national, far)
    with zipfile.ZipFile(os.path.join(src, "nass", "far.zip"), "w") as z:
        z.write(far, "far.tif")
    base_ini = open(os.path.join(src, "pipeline.ini")).read()
    with open(os.path.join(src, "pipeline-cdl.ini"), "w") as f:
        f.write(base_ini + CDL_FEATURE.replace("{root}/cdl/", "{root}/national/"))
    with open(os.path.join(src, "pipeline-crop.ini"), "w") as f:
        f.write(base_ini + CDL_FEATURE)
    p = af("run", os.path.join(src, "pipeline-cdl.ini"), "--output", os.path.join(tmp, "out-national"))
    check(p.returncode == 0, "run on the national CDL\n" + show(p))
    base = shards(os.path.join(tmp, "out-national"), True)

    dst = new_tree(tmp, "crop", src, "pipeline-crop.ini", ("cdl/", "national/", "nass/"))
    pipe = os.path.join(dst, "pipeline-crop.ini")
    setu = ["--set", "pipeline.data_url=" + url]
    p = af("plan", pipe, "--list-files", *setu)
    check(re.search(r"missing .*input\.CORNF\.path .*2003_30m_cdls\.tif <- crop of " + re.escape(url), p.stdout),
          "list-files: the CDL is missing, made by a crop of the zip\n" + show(p))
    p = af("fetch", pipe, *setu, "--dry-run")
    zsize = os.path.getsize(os.path.join(src, "nass", "%d_30m_cdls.zip" % year))
    check(p.returncode == 0 and re.search(r"^fetch +%d .*/nass/%d_30m_cdls\.zip -> .*cdl/%d_30m_cdls\.tif\.download-"
                                          % (zsize, year, year), p.stdout, re.M) and not os.path.exists(os.path.join(dst, "cdl")),
          "dry run: the zip is listed with its size, nothing written\n" + show(p))
    get_log(srv)
    p = af("fetch", pipe, *setu, quiet=False)
    final = os.path.join(dst, "cdl", "%d_30m_cdls.tif" % year)
    check(p.returncode == 0 and os.path.exists(final), "fetch with fetch = crop: exit 0, the crop exists\n" + show(p))
    log = [x[1] for x in get_log(srv) if x[0] == "GET" and "nass" in x[1]]
    check(log == ["/nass/%d_30m_cdls.zip" % year], "fetch = crop: one GET of the zip (%s)" % log)
    check(not glob.glob(os.path.join(dst, "cdl", "*.zip*")) and not glob.glob(final + ".part*"),
          "fetch = crop without fetch_cache: the zip is deleted, no .part left")
    (ngt, nsize) = gt_of(national)
    (cgt, csize) = gt_of(final)
    dx, dy = (cgt[0] - ngt[0]) / ngt[1], (cgt[3] - ngt[3]) / ngt[5]
    check(cgt[1] == ngt[1] and cgt[5] == ngt[5] and dx == int(dx) and dy == int(dy) and dx > 0 and dy > 0,
          "the crop lies on the national grid, shifted by whole pixels (%s vs %s)" % (cgt, ngt))
    check(csize[0] < nsize[0] and csize[1] < nsize[1],
          "the crop is smaller than the national raster (%s < %s)" % (csize, nsize))
    p = af("run", pipe, "--output", os.path.join(tmp, "out-crop"))
    check(p.returncode == 0, "run on the crop\n" + show(p))
    got = shards(os.path.join(tmp, "out-crop"), True)
    check(base and got == base, "run on the fetched crop: shards byte-identical to the national raster's "
          "(config hash aside: the two pipelines name different paths)")

    # under MPI (2 ranks): the same crop
    d = new_tree(tmp, "crop-mpi", src, "pipeline-crop.ini", ("cdl/", "national/", "nass/"))
    p = subprocess.run(["mpirun", "-n", "2", "--oversubscribe", AGROFLUX, "-q", "fetch",
                        os.path.join(d, "pipeline-crop.ini")] + setu, capture_output=True, text=True, timeout=TIMEOUT)
    c = os.path.join(d, "cdl", "%d_30m_cdls.tif" % year)
    log = [x[1] for x in get_log(srv) if x[0] == "GET" and "nass" in x[1]]
    check(p.returncode == 0 and os.path.exists(c) and sha(c) == sha(final) and len(log) == 1,
          "fetch = crop on 2 ranks: the zip fetched once (%s), the same crop\n%s" % (log, show(p)))

    # fetch_cache: the zip stays there, and a second tree with the same cache downloads no zip
    cache = os.path.join(tmp, "cdl-cache")
    for name in ("crop-cache1", "crop-cache2"):
        d = new_tree(tmp, name, src, "pipeline-crop.ini", ("cdl/", "national/", "nass/"))
        p = af("fetch", os.path.join(d, "pipeline-crop.ini"), *setu, "--set", "input.CORNF.fetch_cache=" + cache)
        log = [x[1] for x in get_log(srv) if x[0] == "GET" and "nass" in x[1]]
        want = ["/nass/%d_30m_cdls.zip" % year] if name == "crop-cache1" else []
        check(p.returncode == 0 and log == want and os.path.exists(os.path.join(cache, "%d_30m_cdls.zip" % year))
              and sha(os.path.join(d, "cdl", "%d_30m_cdls.tif" % year)) == sha(final),
              "%s: zip kept in fetch_cache, downloaded once (%s), same crop\n%s" % (name, log, show(p)))

    # a zip without a GeoTIFF
    d = new_tree(tmp, "crop-bad", src, "pipeline-crop.ini", ("cdl/", "national/", "nass/"))
    p = af("fetch", os.path.join(d, "pipeline-crop.ini"), *setu, "--set", "input.CORNF.url={data_url}/nass/empty.zip")
    check(p.returncode == 1 and "input.CORNF.path" in p.stderr and "no GeoTIFF" in p.stderr and "empty.zip" in p.stderr,
          "a zip without a GeoTIFF: exit 1 naming key and archive\n" + show(p))
    bad = os.path.join(d, "cdl", "2003_30m_cdls.tif")
    check(not os.path.exists(bad) and not glob.glob(bad + ".part*"),
          "a zip without a GeoTIFF: nothing under the final name, no .part")
    for name, words in (("two.zip", ["more than one GeoTIFF", "a/a.tif", "b/b.tif"]), ("far.zip", ["lies outside", "far.tif"])):
        p = af("fetch", os.path.join(d, "pipeline-crop.ini"), *setu, "--set", "input.CORNF.url={data_url}/nass/" + name)
        check(p.returncode == 1 and "input.CORNF.path" in p.stderr and all(w in p.stderr for w in words)
              and not os.path.exists(bad) and not glob.glob(bad + ".part*"),
              "%s: exit 1 naming key and %s, nothing under the final name\n%s" % (name, words, show(p)))
    p = af("fetch", os.path.join(d, "pipeline-crop.ini"), *setu, "--set", "input.CORNF.url=")
    check(p.returncode == 2 and "fetch = crop needs `url`" in p.stderr, "fetch = crop without url: exit 2\n" + show(p))


def test_tiles(tmp, src, srv, url):
    x0, y0, x1, y1 = region_lonlat(src)
    lon0, lat0, lon1, lat1 = math.floor(x0), math.floor(y0), math.ceil(x1), math.ceil(y1)
    want = {(la, lo) for la in range(lat0, lat1) for lo in range(lon0, lon1)}
    layers = ("0-5", "5-15", "15-30")
    # one raster over the tiles' box, and the 1x1 tiles of that grid (the server has no other tile:
    # asking for one more would be a 404 and show in its log)
    big = (lon0, lat0, lon1, lat1)
    for layer in layers:
        s = os.path.join(src, "soil", "bd_%s.tif" % layer)
        full = os.path.join(src, "polaris_full", "bd_%s.tif" % layer)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        warp = ["gdalwarp", "-q", "-t_srs", "EPSG:4326", "-tr", repr(RES), repr(RES), "-r", "near", "-et", "0"]
        sh(*warp, "-te", *map(str, big), s, full)
        for la in range(lat0, lat1):
            for lo in range(lon0, lon1):
                t = os.path.join(src, "polaris", "bd", layer, "lat%d%d_lon%d%d.tif" % (la, la + 1, lo, lo + 1))
                os.makedirs(os.path.dirname(t), exist_ok=True)
                sh(*warp, "-te", str(lo), str(la), str(lo + 1), str(la + 1), s, t)
    full_set = ["--set", "input.TBKDS.path={root}/polaris_full/bd_{layer}.tif"]
    p = af("run", os.path.join(src, "pipeline.ini"), "--output", os.path.join(tmp, "out-polfull"), *full_set)
    check(p.returncode == 0, "run on the one-raster POLARIS-like bulk density\n" + show(p))
    base = shards(os.path.join(tmp, "out-polfull"), True)

    dst = new_tree(tmp, "tiles", src, "pipeline.ini", ("polaris", "nass/", "national/"))
    notile = ["--set", "pipeline.data_url=" + url, "--set", "input.TBKDS.path={root}/polaris/bd_{layer}.vrt",
              "--set", "input.TBKDS.url=", "--set", "input.TBKDS.fetch=tiles"]
    sets = notile + ["--set", "input.TBKDS.tile_url={data_url}/polaris/bd/{layer}/lat{lat0}{lat1}_lon{lon0}{lon1}.tif"]
    get_log(srv)
    p = af("fetch", os.path.join(dst, "pipeline.ini"), *sets)
    check(p.returncode == 0, "fetch with fetch = tiles: exit 0\n" + show(p))
    got = sorted(x[1] for x in get_log(srv) if x[0] == "GET")
    exp = sorted("/polaris/bd/%s/lat%d%d_lon%d%d.tif" % (ly, la, la + 1, lo, lo + 1) for ly in layers for la, lo in want)
    check(got == exp, "fetch = tiles: exactly the %d tiles covering the region (%d GETs: %s)"
          % (len(exp), len(got), got[:4]))
    vrts = sorted(os.path.basename(v) for v in glob.glob(os.path.join(dst, "polaris", "*.vrt")))
    check(vrts == sorted("bd_%s.vrt" % ly for ly in layers), "one VRT per layer (%s)" % vrts)
    vrt = open(os.path.join(dst, "polaris", "bd_0-5.vrt")).read()
    check('relativeToVRT="1"' in vrt and "bd_0-5.tiles/" in vrt and not glob.glob(os.path.join(dst, "polaris", "*.part")),
          "the VRT names its tiles relative to itself, in PATH_STEM.tiles/; no .part left")
    p = af("run", os.path.join(dst, "pipeline.ini"), "--output", os.path.join(tmp, "out-tiles"), *sets)
    check(p.returncode == 0, "run on the tile VRTs\n" + show(p))
    check(base and shards(os.path.join(tmp, "out-tiles"), True) == base,
          "run on the tile VRTs: shards byte-identical to the one-raster run (config hash aside)")
    # a tile the server does not have: the error names it, and no VRT is written
    p = af("fetch", os.path.join(dst, "pipeline.ini"), *notile, "--set", "input.TBKDS.path={root}/polaris/m_{layer}.vrt",
           "--set", "input.TBKDS.tile_url={data_url}/polaris/none/{layer}/lat{lat0}{lat1}_lon{lon0}{lon1}.tif")
    check(p.returncode == 1 and "HTTP 404" in p.stderr and url + "/polaris/none/0-5/lat" in p.stderr
          and "input.TBKDS.tile_url" in p.stderr and not glob.glob(os.path.join(dst, "polaris", "m_*.vrt*")),
          "a missing tile: exit 1 naming its URL, no VRT\n" + show(p))
    p = af("fetch", os.path.join(dst, "pipeline.ini"), *notile, "--set", "input.TBKDS.path={root}/polaris/o_{layer}.vrt")
    check(p.returncode == 2 and "needs `tile_url`" in p.stderr, "fetch = tiles without tile_url: exit 2\n" + show(p))


def test_checksums(tmp, src, srv, url):
    target = "gridmet/pr_2003.nc"
    good = sha(os.path.join(src, target))
    sums = os.path.join(src, "SHA256SUMS")
    with open(sums, "w") as f:
        f.write("%s  ./gridmet/pr_2003.nc\n%s *tmmx_2003.nc\n" % (good, "0" * 64))
    ck = ["--set", "input.PRECN.sha256sums={data_url}/SHA256SUMS", "--set", "input.TMAX_AIR.sha256sums={data_url}/SHA256SUMS"]
    other = {"match": (), "mismatch": ("gridmet/tmmx_2003.nc",), "unlisted": ("gridmet/srad_2003.nc",),
             "unreadable": ()}
    for case in ("match", "mismatch", "unlisted", "unreadable"):
        dst = new_tree(tmp, "sums-" + case, src, "pipeline.ini", (target,) + other[case])
        sets = ["--set", "pipeline.data_url=" + url] + {
            "match": ck, "mismatch": ck,
            "unlisted": ck + ["--set", "input.RADN.sha256sums={data_url}/SHA256SUMS"],
            "unreadable": ["--set", "input.PRECN.sha256sums={data_url}/nothere/SHA256SUMS"]}[case]
        get_log(srv)
        p = af("fetch", os.path.join(dst, "pipeline.ini"), *sets)
        if case == "match":
            check(p.returncode == 0 and sha(os.path.join(dst, target)) == good,
                  "a download matching SHA256SUMS is kept\n" + show(p))
            get_log(srv)
            p = af("fetch", os.path.join(dst, "pipeline.ini"), *sets)
            check(p.returncode == 0 and not get_log(srv), "nothing missing: the checksum file is not even read")
            continue
        name = {"mismatch": "tmmx_2003.nc", "unlisted": "srad_2003.nc", "unreadable": "pr_2003.nc"}[case]
        final = os.path.join(dst, "gridmet", name)
        words = {"mismatch": ["SHA-256 mismatch", url + "/gridmet/tmmx_2003.nc", url + "/SHA256SUMS",
                              "input.TMAX_AIR.sha256sums"],
                 "unlisted": ["'srad_2003.nc' is not listed", url + "/SHA256SUMS", "input.RADN.sha256sums"],
                 "unreadable": ["cannot read the checksum file", "HTTP 404", "input.PRECN.sha256sums",
                                url + "/nothere/SHA256SUMS"]}[case]
        if case != "mismatch":
            gets = [x[1] for x in get_log(srv) if x[0] == "GET" and x[1] == "/gridmet/" + name]
            check(not gets, "%s: the file is not downloaded (%s)" % (case, gets))
        check(p.returncode == 1 and all(w in p.stderr for w in words),
              "%s: exit 1 naming %s\n%s" % (case, words, show(p)))
        check(not glob.glob(final + "*"), "%s: nothing under the final name, no .part" % case)
        if case == "mismatch":
            check(sha(os.path.join(dst, target)) == good, "mismatch: the listed, matching file still arrives")


def test_noetag(tmp, src, srv, url):
    target = "gridmet/srad_2003.nc"
    dst = new_tree(tmp, "noetag", src, "pipeline.ini", (target,))
    with open(os.path.join(dst, target + ".part"), "wb") as f:
        f.write(b"\x55" * 1000)  # bytes of unknown version: no .part.etag
    srv.state.mode["/" + target] = "noetag"
    get_log(srv)
    p = af("fetch", os.path.join(dst, "pipeline.ini"), "--set", "pipeline.data_url=" + url, quiet=False)
    srv.state.mode.pop("/" + target, None)
    log = [x for x in get_log(srv) if x[1] == "/" + target]
    check(p.returncode == 0 and log == [("GET", "/" + target, None)],
          "a .part without ETag/Last-Modified: one GET without Range (%s)\n%s" % (log, show(p)))
    check("no ETag or Last-Modified" in p.stderr and "starting over" in p.stderr,
          "the restart is said on stderr\n" + show(p))
    check(sha(os.path.join(dst, target)) == sha(os.path.join(src, target)) and not glob.glob(os.path.join(dst, target + ".part*")),
          "the file ends identical, no .part left")


def main():
    part = sys.argv[1] if len(sys.argv) > 1 else "all"  # crop | tiles (tiles, checksums, no-ETag) | all
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src")
        p = af("synth", src, "--counties", "2", "--scenarios", "1", "--sites", "1", "--years", "2003-2003")
        if p.returncode != 0:
            print("synth failed\n" + show(p), file=sys.stderr)
            return 1
        srv = serve(src)
        url = "http://127.0.0.1:%d" % srv.server_address[1]
        try:
            if part in ("all", "crop"):
                test_crop(tmp, src, srv, url)
            if part in ("all", "tiles"):
                test_tiles(tmp, src, srv, url)
                test_checksums(tmp, src, srv, url)
                test_noetag(tmp, src, srv, url)
        finally:
            srv.state.release.set()
            srv.shutdown()
            srv.server_close()
    print("test_fetch_derived %s:" % part, check.summary())
    return 0 if check.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
