# SPDX-License-Identifier: MIT
"""A minimal OPeNDAP (DAP2) server for the tests: Debian 12 packages the DAP client side (netCDF-C
is built with DAP2) but no DAP server. It serves the NetCDF files under a directory from 127.0.0.1,
in a thread of the test process, answering what netCDF-C's DAP2 client asks for:

- PATH.dds[?CE]  the Dataset Descriptor Structure: every variable as an array with named dimensions
                 (no Grids), restricted to the constraint's projections and hyperslab sizes;
- PATH.das       the attributes, one container per variable plus NC_GLOBAL;
- PATH.dods[?CE] the constrained DDS, "Data:\\n", then each projected variable in XDR (big-endian;
                 an array is prefixed by its element count twice; Byte elements are one byte each,
                 padded to 4; Int16/UInt16 travel as 4-byte integers; a scalar has no prefix).

A constraint expression (CE) is a comma-separated projection list; each projection is a variable
name, optionally followed by one hyperslab [start], [start:stop] or [start:stride:stop] (stop
inclusive) per dimension. Selections (`&...`) are not supported and answer a DAP2 Error. Values
are served exactly as stored (no unpacking: scale_factor and friends travel as attributes).
Requests are logged in state.log as (suffix, path, decoded CE). Reading uses python3-netCDF4.

Run alone for a manual check: python3 dap_server.py ROOT [PORT]; then ncdump -h http://127.0.0.1:PORT/F.nc
"""
import http.server
import os
import re
import sys
import threading
import urllib.parse

import netCDF4
import numpy as np

# numpy dtype -> (DAP2 type name, XDR element dtype); Int16/UInt16 are widened to 4 bytes in XDR
TYPES = {
    np.dtype("u1"): ("Byte", np.dtype("u1")),
    np.dtype("i2"): ("Int16", np.dtype(">i4")),
    np.dtype("u2"): ("UInt16", np.dtype(">u4")),
    np.dtype("i4"): ("Int32", np.dtype(">i4")),
    np.dtype("u4"): ("UInt32", np.dtype(">u4")),
    np.dtype("f4"): ("Float32", np.dtype(">f4")),
    np.dtype("f8"): ("Float64", np.dtype(">f8")),
}


class DapError(Exception):
    """Answered as a DAP2 Error object with this HTTP status."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def dap_type(dtype):
    t = TYPES.get(np.dtype(dtype).newbyteorder("="))
    if t is None:
        raise DapError(500, "type %s has no DAP2 equivalent in this server" % dtype)
    return t


def quote(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def das_attr(name, value):
    """One DAS attribute line: TYPE NAME v1, v2, ...;"""
    if isinstance(value, str):
        return "String %s %s;" % (name, quote(value))
    arr = np.atleast_1d(np.asarray(value))
    if arr.dtype.kind in "SU":
        return "String %s %s;" % (name, ", ".join(quote(str(v)) for v in arr))
    tname = dap_type(arr.dtype)[0]
    if arr.dtype.kind == "f":
        fmt = "%.9g" if arr.dtype.itemsize == 4 else "%.17g"
        vals = [fmt % v for v in arr]
    else:
        vals = ["%d" % v for v in arr]
    return "%s %s %s;" % (tname, name, ", ".join(vals))


def parse_ce(ce, ds):
    """[(name, [slice per dimension])] in the dataset's variable order, as DAP2 servers answer."""
    if "&" in ce:
        raise DapError(400, "selections are not supported by this test server")
    want = {}
    for item in [x for x in ce.split(",") if x]:
        m = re.fullmatch(r"([A-Za-z_][\w.]*)((?:\[[0-9:]+\])*)", item)
        if not m or m.group(1) not in ds.variables:
            raise DapError(400, "no such variable or malformed projection: %s" % item)
        var = ds.variables[m.group(1)]
        hyper = re.findall(r"\[([0-9:]+)\]", m.group(2))
        if hyper and len(hyper) != var.ndim:
            raise DapError(400, "%s: %d hyperslabs for %d dimensions" % (item, len(hyper), var.ndim))
        slices = []
        for k, size in enumerate(var.shape):
            parts = [int(p) for p in hyper[k].split(":")] if hyper else [0, size - 1]
            start, stride, stop = (parts[0], 1, parts[0]) if len(parts) == 1 else \
                (parts[0], 1, parts[1]) if len(parts) == 2 else parts
            if stride < 1 or start > stop or stop >= size:
                raise DapError(400, "%s: hyperslab [%d:%d:%d] outside [0, %d)" % (item, start, stride, stop, size))
            slices.append(slice(start, stop + 1, stride))
        want[m.group(1)] = slices
    names = list(ds.variables) if not want else [n for n in ds.variables if n in want]
    return [(n, want.get(n) or [slice(0, s, 1) for s in ds.variables[n].shape]) for n in names]


def dds(ds, name, proj):
    lines = ["Dataset {"]
    for vname, slices in proj:
        var = ds.variables[vname]
        dims = "".join("[%s = %d]" % (d, len(range(*s.indices(n))))
                       for d, s, n in zip(var.dimensions, slices, var.shape))
        lines.append("    %s %s%s;" % (dap_type(var.dtype)[0], vname, dims))
    lines.append("} %s;" % name)
    return "\n".join(lines) + "\n"


def das(ds):
    lines = ["Attributes {"]
    for vname, var in ds.variables.items():
        lines.append("    %s {" % vname)
        lines += ["        " + das_attr(a, v) for a, v in var.attrs.items()]
        lines.append("    }")
    lines.append("    NC_GLOBAL {")
    lines += ["        " + das_attr(a, v) for a, v in ds.attrs.items()]
    lines.append("    }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def xdr(ds, proj):
    out = []
    for vname, slices in proj:
        var = ds.variables[vname]
        data = var.data[tuple(slices)] if slices else var.data
        body = data.astype(dap_type(var.dtype)[1]).tobytes()
        if var.ndim == 0:
            out.append(body)
            continue
        n = data.size
        out.append(np.array([n, n], dtype=">u4").tobytes())
        out.append(body + b"\0" * (-len(body) % 4))
    return b"".join(out)


class Dataset:
    """A NetCDF file read once into memory (raw values, no unpacking): variables in file order,
    each with .dtype, .dimensions, .shape, .ndim, .attrs and .data."""

    class Var:
        pass

    def __init__(self, path):
        self.variables = {}
        with netCDF4.Dataset(path) as nc:
            self.attrs = {a: nc.getncattr(a) for a in nc.ncattrs()}
            for name, v in nc.variables.items():
                v.set_auto_maskandscale(False)
                var = Dataset.Var()
                var.dtype, var.dimensions, var.shape, var.ndim = v.dtype, v.dimensions, v.shape, v.ndim
                var.attrs = {a: v.getncattr(a) for a in v.ncattrs()}
                var.data = np.asarray(v[...])
                self.variables[name] = var


class State:
    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.log = []  # (suffix, path, CE)
        self.lock = threading.Lock()
        self.cache = {}  # local path -> (mtime, Dataset)
        self.verbose = False

    def dataset(self, local):
        """The file's Dataset, read again when the file changed."""
        mtime = os.stat(local).st_mtime_ns
        with self.lock:
            hit = self.cache.get(local)
            if not hit or hit[0] != mtime:
                hit = self.cache[local] = (mtime, Dataset(local))
            return hit[1]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, ctype, desc):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Description", desc)
        self.send_header("XDODS-Server", "agroflux-test-dap/2.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        st = self.server.state
        path, _, query = self.path.partition("?")
        path = urllib.parse.unquote(path)
        ce = urllib.parse.unquote(query)
        base, suffix = os.path.splitext(path)
        with st.lock:
            st.log.append((suffix, base, ce))
        if st.verbose:
            print("%s %s?%s" % (self.command, path, ce), file=sys.stderr, flush=True)
        local = os.path.normpath(os.path.join(st.root, base.lstrip("/")))
        try:
            if suffix not in (".dds", ".das", ".dods"):
                raise DapError(400, "unknown request %s (this server answers .dds, .das, .dods)" % path)
            if not local.startswith(st.root + os.sep) or not os.path.isfile(local):
                raise DapError(404, "no such dataset: %s" % base)
            ds = st.dataset(local)
            if suffix == ".das":
                self.answer(200, das(ds).encode(), "text/plain", "dods-das")
                return
            proj = parse_ce(ce, ds)
            head = dds(ds, os.path.basename(base), proj).encode()
            if suffix == ".dds":
                self.answer(200, head, "text/plain", "dods-dds")
            else:
                self.answer(200, head + b"Data:\n" + xdr(ds, proj), "application/octet-stream", "dods-data")
        except DapError as e:
            msg = "Error {\n    code = %d;\n    message = %s;\n};\n" % (e.status, quote(str(e)))
            self.answer(e.status, msg.encode(), "text/plain", "dods-error")


def serve(root, port=0):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    srv.state = State(root)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    return srv


if __name__ == "__main__":
    s = serve(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    s.state.verbose = True
    print("serving %s at http://127.0.0.1:%d/" % (s.state.root, s.server_address[1]), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        s.shutdown()
