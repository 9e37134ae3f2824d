# SPDX-License-Identifier: MIT
"""The HTTP server of the fetch tests: serves a directory from 127.0.0.1 in a thread of the test
process, with Range (206/416), If-Range against a strong ETag, HEAD, and per-path faults set in
state.mode: "404", "truncate" (half the body, then close), "corrupt" (bytes scrambled), "stall"
(half the body, then wait for state.release), "norange" (Range ignored: 200 with the whole file),
"noetag" (no ETag, no Last-Modified: a resume cannot be validated). Requests are logged in
state.log as (method, path, Range header) and state.if_range as (path, If-Range header)."""
import hashlib
import http.server
import os
import threading


class State:
    def __init__(self, root):
        self.root = root
        self.mode = {}          # URL path -> "404" | "truncate" | "corrupt" | "stall"
        self.log = []           # (method, path, Range header or None)
        self.if_range = []      # (path, If-Range header or None)
        self.lock = threading.Lock()
        self.release = threading.Event()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.serve(body=False)

    def do_GET(self):
        self.serve(body=True)

    def serve(self, body):
        st = self.server.state
        path = self.path.split("?")[0]
        rng = self.headers.get("Range")
        with st.lock:
            st.log.append((self.command, path, rng))
            st.if_range.append((path, self.headers.get("If-Range")))
        mode = st.mode.get(path)
        local = os.path.normpath(os.path.join(st.root, path.lstrip("/")))
        if mode == "404" or not local.startswith(st.root) or not os.path.isfile(local):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = open(local, "rb").read()
        etag = None if mode == "noetag" else '"%s"' % hashlib.sha256(data).hexdigest()[:16]
        if mode == "norange":
            rng = None  # a server that ignores Range: answers 200 with the whole file
        if rng and self.headers.get("If-Range") is not None and self.headers.get("If-Range") != etag:
            rng = None  # the file changed since the .part began: the whole file (RFC 9110 If-Range)
        if mode == "corrupt":
            data = bytes((b * 7 + 3) & 255 for b in data[:len(data)])
        start, end = 0, len(data)
        if rng and rng.startswith("bytes=") and "," not in rng:
            a, b = rng[6:].split("-")
            start = int(a)
            end = min(int(b) + 1, len(data)) if b else len(data)
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(data))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end - 1, len(data)))
        else:
            self.send_response(200)
        part = data[start:end]
        self.send_header("Content-Length", str(len(part)))
        self.send_header("Accept-Ranges", "bytes")
        if etag:
            self.send_header("ETag", etag)
        if mode in ("truncate", "stall"):
            self.send_header("Connection", "close")
        self.end_headers()
        if not body:
            return
        try:
            if mode == "truncate":
                self.wfile.write(part[:len(part) // 2])
                self.wfile.flush()
                self.close_connection = True
            elif mode == "stall":
                self.wfile.write(part[:len(part) // 2])
                self.wfile.flush()
                st.release.wait(30)  # bounded: the test kills the client long before
                self.close_connection = True
            else:
                self.wfile.write(part)
        except (BrokenPipeError, ConnectionResetError):
            pass


def serve(root):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.state = State(root)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    return srv
