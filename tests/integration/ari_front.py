#!/usr/bin/env python3
"""A test-only ACME front for Pebble that adds ARI (RFC 9773) and profiles.

Why it exists: Debian's Pebble (2.4) has no renewalInfo endpoint and no
profiles, so bulkhead's ARI and --profile support could not be tested
against it. This front forwards every ACME request to the real Pebble and:
  - rewrites the directory to add "renewalInfo" (its own /renewal-info/) and
    meta "profiles" ({"classic", "shortlived"});
  - answers GET /renewal-info/<certID> itself with a window the test
    controls, including malformed answers and errors;
  - logs the "replaces" and "profile" members of every newOrder payload, and
    can refuse an order naming "replaces" with alreadyReplaced.
Pebble's origin is rewritten to the front's own in bodies and in
Location/Link headers, because bulkhead follows only URLs of the
directory's origin.

Usage:
  ari_front.py --upstream https://127.0.0.1:PORT --upstream-ca CA.pem \
      --cert CERT.pem --key KEY.pem --control FILE --log FILE

The first line on stdout is the port (127.0.0.1). The control file is JSON,
re-read on every request:
  {"mode": "window", "start": SECONDS_FROM_NOW, "end": SECONDS_FROM_NOW,
   "retry_after": SECONDS, "reject_replaces": false}
("start_at"/"end_at" give Unix times instead, for a window that must stay
put between requests.)
mode "malformed" serves a body without a valid suggestedWindow, "error"
a 500, "absent" removes renewalInfo from the directory. The log gets
"RENEWALINFO <certID>" and "NEWORDER replaces=<x> profile=<y>" lines.
"""
import argparse
import base64
import datetime
import http.client
import http.server
import json
import signal
import ssl
import sys
import threading
import time
import urllib.parse

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length"}


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def b64url_json(text):
    try:
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except ValueError:
        return {}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ari-front"

    def log_message(self, fmt, *args):
        pass

    def log(self, line):
        with self.server.log_lock:
            self.server.log_file.write(line + "\n")
            self.server.log_file.flush()

    def control(self):
        try:
            with open(self.server.control_path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return {"mode": "window", "start": 86400, "end": 2 * 86400}

    def do_GET(self):
        self.handle_any()

    do_HEAD = do_POST = do_GET

    def handle_any(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ctl = self.control()
        if self.path.startswith("/renewal-info/"):
            return self.renewal_info(ctl)
        if self.command == "POST" and self.path.startswith("/order-plz"):
            payload = b64url_json(json.loads(body or b"{}").get("payload", ""))
            replaces = payload.get("replaces", "")
            self.log("NEWORDER replaces=%s profile=%s" % (replaces, payload.get("profile", "")))
            if replaces and ctl.get("reject_replaces"):
                return self.answer(409, {"Content-Type": "application/problem+json"}, json.dumps({
                    "type": "urn:ietf:params:acme:error:alreadyReplaced",
                    "detail": "that certificate was already replaced"}).encode())
        status, headers, rbody = self.forward(body)
        if self.path == "/dir" and status == 200:
            d = json.loads(rbody)
            if ctl.get("mode") != "absent":
                d["renewalInfo"] = self.server.origin + "/renewal-info/"
            d.setdefault("meta", {})["profiles"] = {
                "classic": "the usual 90-day certificate",
                "shortlived": "a 6-day certificate"}
            rbody = json.dumps(d).encode()
        self.answer(status, headers, rbody)

    def renewal_info(self, ctl):
        cert_id = self.path[len("/renewal-info/"):]
        self.log("RENEWALINFO %s" % cert_id)
        mode = ctl.get("mode", "window")
        if mode == "error":
            return self.answer(500, {"Content-Type": "application/problem+json"}, json.dumps({
                "type": "urn:ietf:params:acme:error:serverInternal", "detail": "injected"}).encode())
        if mode == "malformed":
            return self.answer(200, {"Content-Type": "application/json"},
                               b'{"suggestedWindow": {"start": "soon", "end": "later"}}')
        now = time.time()
        start = ctl["start_at"] if "start_at" in ctl else now + ctl.get("start", 86400)
        end = ctl["end_at"] if "end_at" in ctl else now + ctl.get("end", 2 * 86400)
        body = {"suggestedWindow": {"start": rfc3339(start), "end": rfc3339(end)}}
        headers = {"Content-Type": "application/json",
                   "Retry-After": str(ctl.get("retry_after", 21600))}
        self.answer(200, headers, json.dumps(body).encode())

    def forward(self, body):
        up = self.server.upstream
        conn = http.client.HTTPSConnection(up.hostname, up.port, timeout=30,
                                           context=self.server.upstream_ctx)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP_HEADERS and k.lower() != "expect"}
        # Pebble checks the JWS "url" against Host, so it sees ours.
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
        self.send_response(status)
        for k, v in (headers.items() if isinstance(headers, dict) else headers):
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def finish_request(self, request, client_address):
        request.settimeout(30)
        try:
            tls = self.tls_ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(tls, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--upstream-ca", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--control", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    server = Server(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    server.tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.tls_ctx.load_cert_chain(args.cert, args.key)
    server.upstream = urllib.parse.urlsplit(args.upstream)
    server.upstream_origin = "%s://%s" % (server.upstream.scheme, server.upstream.netloc)
    server.upstream_ctx = ssl.create_default_context(cafile=args.upstream_ca)
    server.origin = "https://127.0.0.1:%d" % port
    server.control_path = args.control
    server.log_file = open(args.log, "a", encoding="utf-8")
    server.log_lock = threading.Lock()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    print(port, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
