# SPDX-License-Identifier: MIT
"""OPeNDAP paths in a run: gridded inputs whose path is an http:// URL served by a DAP2 server on
127.0.0.1 (tests/fetch/dap_server.py, in a thread of this process) give shards byte-identical to
the run on the local files (the config hash aside, as it covers the --set overrides); the server's
log shows netCDF-C's DAP2 requests (.dds, .das, hyperslab .dods reads of the variable, a few per
file, not a row per request); a URL the server does not have fails with exit 1 naming it."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dap_server import serve  # noqa: E402
from test_fetch import af, check, shards, show  # noqa: E402


def main():
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src")
        p = af("synth", src, "--counties", "2", "--scenarios", "1", "--sites", "1", "--years", "2003-2003")
        if p.returncode != 0:
            print("synth failed\n" + show(p), file=sys.stderr)
            return 1
        pipe = os.path.join(src, "pipeline.ini")
        p = af("run", pipe, "--output", os.path.join(tmp, "out-base"))
        check(p.returncode == 0, "baseline run\n" + show(p))
        base = shards(os.path.join(tmp, "out-base"), True)
        srv = serve(src)
        url = "http://127.0.0.1:%d" % srv.server_address[1]
        try:
            sets = ["--set", "input.TMAX_AIR.path=" + url + "/gridmet/tmmx_{year}.nc",
                    "--set", "input.TMIN_AIR.path=" + url + "/gridmet/tmmn_{year}.nc"]
            p = af("run", pipe, "--output", os.path.join(tmp, "out-dap"), *sets)
            check(p.returncode == 0, "run with OPeNDAP paths: exit 0\n" + show(p))
            check(base and shards(os.path.join(tmp, "out-dap"), True) == base,
                  "run with OPeNDAP paths: shards byte-identical to the local run (config hash aside)")
            with srv.state.lock:
                log = list(srv.state.log)
            for f, var in (("tmmx", "air_temperature"), ("tmmn", "air_temperature")):
                mine = [x for x in log if x[1] == "/gridmet/%s_2003.nc" % f]
                kinds = {x[0] for x in mine}
                reads = [x[2] for x in mine if x[0] == ".dods" and x[2].startswith(var + "[")]
                check({".dds", ".das", ".dods"} <= kinds, "%s: DAP2 requests .dds, .das, .dods (%s)" % (f, kinds))
                check(reads and all(r.count("[") == 3 and r.count(":") >= 3 for r in reads) and len(reads) <= 40,
                      "%s: the variable read in (day, lat, lon) hyperslabs, %d requests (%s)" % (f, len(reads), reads[:3]))
            p = af("run", pipe, "--output", os.path.join(tmp, "out-bad"),
                   "--set", "input.TMAX_AIR.path=" + url + "/gridmet/nothere_{year}.nc")
            check(p.returncode == 1 and url + "/gridmet/nothere_2003.nc" in p.stderr,
                  "an OPeNDAP URL the server does not have: exit 1 naming it\n" + show(p))
        finally:
            srv.shutdown()
            srv.server_close()
    print("test_opendap:", check.summary())
    return 0 if check.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
