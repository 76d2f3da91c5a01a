"""Shared core of the test fronts that sit between bulkhead and Pebble.

Both fronts (faultproxy.py, ari_front.py) are test doubles for behaviour
Pebble does not have: they forward every request to the real Pebble over
TLS and change some answers. This module holds what they share: the TLS
listener (handshake in the request's thread), forwarding with Pebble's
origin rewritten to the front's own (bulkhead follows only URLs of the
directory's origin), answering, the log, start-up and SIGTERM.

A front subclasses FrontHandler, implements handle_any(body), and calls
run(handler_class, args, setup) from its main(), where `args` has
upstream, upstream_ca, cert, key and log, and setup(server) attaches the
front's own state.
"""
import http.client
import http.server
import signal
import ssl
import threading
import time
import urllib.parse

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length"}


def add_front_arguments(ap):
    """Adds the arguments every front takes to an argparse parser."""
    ap.add_argument("--upstream", required=True, help="Pebble's https://127.0.0.1:PORT")
    ap.add_argument("--upstream-ca", required=True, help="CA file for Pebble's listener")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port", type=int, default=0)


class FrontHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log_time = True  # Prefix log lines with the time.

    def log_message(self, fmt, *args):  # Requests go to the front's own log instead.
        pass

    def log(self, line):
        """Appends one line to the front's log."""
        if self.log_time:
            line = "%.3f %s" % (time.time(), line)
        with self.server.log_lock:
            self.server.log_file.write(line + "\n")
            self.server.log_file.flush()

    def do_GET(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.handle_any(body)

    do_HEAD = do_POST = do_GET

    def handle_any(self, body):
        raise NotImplementedError

    def forward(self, body):
        """Sends the request to Pebble; returns (status, headers, body) with our origin."""
        up = self.server.upstream
        conn = http.client.HTTPSConnection(up.hostname, up.port, timeout=30,
                                           context=self.server.upstream_ctx)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP_HEADERS and k.lower() != "expect"}
        # Pebble builds its URLs and checks the JWS "url" from Host, so it
        # must see the front's host; the rewrite below catches the rest.
        headers["Host"] = self.headers.get("Host", self.server.origin.split("//")[1])
        try:
            conn.request(self.command, self.path, body=body if body else None, headers=headers)
            resp = conn.getresponse()
            rbody = resp.read()
            status, rheaders = resp.status, resp.getheaders()
        finally:
            conn.close()
        pebble, own = self.server.upstream_origin, self.server.origin
        rheaders = [(k, v.replace(pebble, own)) for k, v in rheaders
                    if k.lower() not in HOP_HEADERS | {"date", "server"}]
        return status, rheaders, rbody.replace(pebble.encode(), own.encode())

    def answer(self, status, headers, body):
        """Sends one response; headers is a dict or a list of pairs."""
        self.send_response(status)
        for k, v in (headers.items() if isinstance(headers, dict) else headers):
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.log("-> %d (%d bytes)" % (status, len(body)))


class TlsServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def finish_request(self, request, client_address):
        # The TLS handshake runs in the request's thread, so a stalled client
        # cannot block the accept loop.
        request.settimeout(30)
        try:
            tls = self.tls_ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(tls, client_address)


def run(handler_class, args, setup):
    """Listens on 127.0.0.1 (args.port, 0 = any), prints the port, serves until SIGTERM."""
    server = TlsServer(("127.0.0.1", args.port), handler_class)
    port = server.server_address[1]
    server.tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.tls_ctx.load_cert_chain(args.cert, args.key)
    server.upstream = urllib.parse.urlsplit(args.upstream)
    server.upstream_origin = "%s://%s" % (server.upstream.scheme, server.upstream.netloc)
    server.upstream_ctx = ssl.create_default_context(cafile=args.upstream_ca)
    server.origin = "https://127.0.0.1:%d" % port
    server.log_file = open(args.log, "a", encoding="utf-8")
    server.log_lock = threading.Lock()
    setup(server)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print(port, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        server.log_file.close()
