#!/usr/bin/env python3
"""A misbehaving HTTPS reverse proxy in front of the lab's Pebble.

This is a test double: Pebble has no mode in which it fails on purpose, so
this proxy forwards every request to the real Pebble and, when a fault rule
matches, answers the way a flaky or hostile CA (or a load balancer in front
of one) would. Pebble's origin is rewritten to the proxy's own in response
bodies and in Location/Link headers, so a client only ever sees the proxy.

Usage:
  faultproxy.py --upstream https://127.0.0.1:PORT --upstream-ca CA.pem \
      --cert CERT.pem --key KEY.pem --log FILE [--rules FILE] [--rule SPEC]...

The first line on stdout is the port the proxy listens on (127.0.0.1), once
it accepts connections. SIGTERM stops it.

A rule matches requests whose path starts with "path" (and whose method is
"method", if given); it fires on the "nth" matching request (1-based,
counted from when the rules were last loaded) and the "times" - 1 (default
0) matching requests after it. The rules file is JSON:
  {"tag": "newOrder-500", "rules": [{"path": "/order-plz", "nth": 1,
                                     "kind": "status500"}]}
and is re-read on every request; a change of content resets the counters.
--rule PATH:NTH:KIND adds a rule from the command line.

Kinds: status500, status503_retry_after, status429, close_before_response,
close_after_forward, slow (sleeps "seconds", default 5, before answering),
truncated_body, oversized_body, malformed_json, html_body, no_replay_nonce,
foreign_location, order_not_ready (a 403 orderNotReady problem, as a CA
answers a finalize it is not ready for), order_pending (the order as Pebble
sends it, but with a "ready" status shown as "pending", as from a CA that
applies valid authorizations to its orders late). Every injected fault is
logged as a line starting "FAULT".
"""
import argparse
import http.client
import http.server
import json
import re
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse

FOREIGN_ORIGIN = b"https://127.0.0.9:1"
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length"}
# Faults answered by the proxy alone: the request never reaches Pebble.
LOCAL_KINDS = {"status500", "status503_retry_after", "status429", "close_before_response",
               "html_body", "order_not_ready"}
KINDS = LOCAL_KINDS | {"close_after_forward", "slow", "truncated_body", "oversized_body",
                       "malformed_json", "no_replay_nonce", "foreign_location", "order_pending"}


class Rules:
    """The fault rules and their per-rule match counters."""

    def __init__(self, path, extra):
        self.path = path
        self.extra = extra
        self.raw = None
        self.tag = ""
        self.rules = []
        self.lock = threading.Lock()
        self.reload()

    def reload(self):
        raw = b""
        if self.path:
            try:
                with open(self.path, "rb") as f:
                    raw = f.read()
            except FileNotFoundError:
                pass
        if raw == self.raw:
            return
        self.raw = raw
        doc = json.loads(raw) if raw.strip() else {}
        self.tag = doc.get("tag", "")
        self.rules = [dict(r, seen=0) for r in doc.get("rules", []) + self.extra]
        for r in self.rules:
            if r["kind"] not in KINDS:
                raise ValueError("unknown fault kind %r" % r["kind"])

    def match(self, method, path):
        """Returns (rule, tag) for the rule that fires on this request, or (None, tag)."""
        with self.lock:
            try:
                self.reload()
            except (OSError, ValueError) as e:  # A half-written file: keep the old rules.
                print("faultproxy: rules not reloaded: %s" % e, file=sys.stderr)
            fired = None
            for r in self.rules:
                if path.startswith(r["path"]) and r.get("method", method) == method:
                    r["seen"] += 1
                    first = int(r.get("nth", 1))
                    if first <= r["seen"] < first + int(r.get("times", 1)) and fired is None:
                        fired = r
            return fired, self.tag


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "faultproxy"

    def log_message(self, fmt, *args):  # Requests go to our own log instead.
        pass

    def log(self, line):
        with self.server.log_lock:
            self.server.log_file.write("%.3f %s\n" % (time.time(), line))
            self.server.log_file.flush()

    def do_GET(self):
        self.handle_any()

    do_HEAD = do_POST = do_GET

    def handle_any(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        rule, tag = self.server.rules.match(self.command, self.path)
        kind = rule["kind"] if rule else None
        if kind:
            self.log("FAULT %s %s %s [%s]" % (kind, self.command, self.path, tag))
        self.log("%s %s" % (self.command, self.path))
        if kind == "close_before_response":
            self.close_connection = True
            return
        if kind == "status500":
            return self.answer(500, {"Content-Type": "application/problem+json"}, json.dumps({
                "type": "urn:ietf:params:acme:error:serverInternal",
                "detail": "injected internal error"}).encode())
        if kind == "status503_retry_after":
            return self.answer(503, {"Content-Type": "text/plain", "Retry-After": "1"},
                               b"service unavailable, try again shortly\n")
        if kind == "status429":
            return self.answer(429, {"Content-Type": "application/problem+json",
                                     "Retry-After": "1"}, json.dumps({
                "type": "urn:ietf:params:acme:error:rateLimited",
                "detail": "injected rate limit"}).encode())
        if kind == "order_not_ready":
            return self.answer(403, {"Content-Type": "application/problem+json"}, json.dumps({
                "type": "urn:ietf:params:acme:error:orderNotReady",
                "detail": "injected: the order is not ready"}).encode())
        if kind == "html_body":
            return self.answer(502, {"Content-Type": "text/html"},
                               b"<html><head><title>502 Bad Gateway</title></head><body>"
                               b"<h1>502 Bad Gateway</h1><hr>nginx</body></html>\n")
        status, headers, rbody = self.forward(body)
        if kind == "close_after_forward":
            self.close_connection = True
            return
        if kind == "slow":
            time.sleep(float(rule.get("seconds", 5)))
        elif kind == "truncated_body":
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(rbody) + 100))
            self.end_headers()
            self.wfile.write(rbody[: len(rbody) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        elif kind == "oversized_body":
            rbody += b" " * (2 << 20)  # Still valid JSON: trailing whitespace.
        elif kind == "malformed_json":
            rbody = rbody[: len(rbody) // 2]
        elif kind == "no_replay_nonce":
            headers = [(k, v) for k, v in headers if k.lower() != "replay-nonce"]
        elif kind == "order_pending":
            rbody = re.sub(rb'"status":\s*"ready"', b'"status": "pending"', rbody, count=1)
        elif kind == "foreign_location":
            own = self.server.origin
            headers = [(k, v.replace(own, FOREIGN_ORIGIN.decode())) for k, v in headers]
            rbody = rbody.replace(own.encode(), FOREIGN_ORIGIN)
        self.answer(status, headers, rbody)

    def forward(self, body):
        """Sends the request to Pebble; returns (status, headers, body) with our origin."""
        up = self.server.upstream
        conn = http.client.HTTPSConnection(up.hostname, up.port, timeout=30,
                                           context=self.server.upstream_ctx)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP_HEADERS and k.lower() != "expect"}
        # Pebble builds its URLs and checks the JWS "url" from Host, so it
        # must see the proxy's host; the rewrite below catches the rest.
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
        self.log("-> %d (%d bytes)" % (status, len(body)))


class Server(http.server.ThreadingHTTPServer):
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--upstream-ca", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--rules", default="")
    ap.add_argument("--rule", action="append", default=[], help="PATH:NTH:KIND")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()

    extra = []
    for spec in args.rule:
        path, nth, kind = spec.rsplit(":", 2)
        extra.append({"path": path, "nth": int(nth), "kind": kind})
    server = Server(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    server.rules = Rules(args.rules, extra)
    server.tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.tls_ctx.load_cert_chain(args.cert, args.key)
    server.upstream = urllib.parse.urlsplit(args.upstream)
    server.upstream_origin = "%s://%s" % (server.upstream.scheme, server.upstream.netloc)
    server.upstream_ctx = ssl.create_default_context(cafile=args.upstream_ca)
    server.origin = "https://127.0.0.1:%d" % port
    server.log_file = open(args.log, "a", encoding="utf-8")
    server.log_lock = threading.Lock()

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print(port, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        server.log_file.close()


if __name__ == "__main__":
    main()
