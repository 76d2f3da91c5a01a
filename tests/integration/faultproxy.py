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
truncated_body, oversized_body (2 MiB of trailing whitespace: over the
client's 1 MiB cap, which stops the read there, so a 512 MiB answer would
fail the same way and is not worth sending), malformed_json, half_body
(200, the forwarded body cut in half with a matching Content-Length, so
the HTTP framing is complete; any body, a PEM chain too), html_body (a 502
error page), html_200 (a 200 with a text/html page instead of the
resource, as from a misrouted front end; the request still reaches Pebble,
so a step that changes state does change it, and the other headers stay),
no_replay_nonce,
foreign_location, order_not_ready (a 403 orderNotReady problem, as a CA
answers a finalize it is not ready for), order_pending (the order as Pebble
sends it, but with a "ready" status shown as "pending", as from a CA that
applies valid authorizations to its orders late). Every injected fault is
logged as a line starting "FAULT".
"""
import argparse
import json
import re
import sys
import threading
import time

import pebble_front

FOREIGN_ORIGIN = b"https://127.0.0.9:1"
# Faults answered by the proxy alone: the request never reaches Pebble.
LOCAL_KINDS = {"status500", "status503_retry_after", "status429", "close_before_response",
               "html_body", "order_not_ready"}
KINDS = LOCAL_KINDS | {"close_after_forward", "slow", "truncated_body", "oversized_body",
                       "malformed_json", "half_body", "html_200", "no_replay_nonce", "foreign_location", "order_pending"}


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


class Handler(pebble_front.FrontHandler):
    server_version = "faultproxy"

    def handle_any(self, body):
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
        elif kind in ("malformed_json", "half_body"):
            # answer() frames the half body with its own Content-Length.
            rbody = rbody[: len(rbody) // 2]
        elif kind == "html_200":
            status = 200
            headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
            headers.append(("Content-Type", "text/html"))
            rbody = (b"<html><head><title>Welcome</title></head><body>"
                     b"<h1>It works!</h1></body></html>\n")
        elif kind == "no_replay_nonce":
            headers = [(k, v) for k, v in headers if k.lower() != "replay-nonce"]
        elif kind == "order_pending":
            rbody = re.sub(rb'"status":\s*"ready"', b'"status": "pending"', rbody, count=1)
        elif kind == "foreign_location":
            own = self.server.origin
            headers = [(k, v.replace(own, FOREIGN_ORIGIN.decode())) for k, v in headers]
            rbody = rbody.replace(own.encode(), FOREIGN_ORIGIN)
        self.answer(status, headers, rbody)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    pebble_front.add_front_arguments(ap)
    ap.add_argument("--rules", default="")
    ap.add_argument("--rule", action="append", default=[], help="PATH:NTH:KIND")
    args = ap.parse_args()

    extra = []
    for spec in args.rule:
        path, nth, kind = spec.rsplit(":", 2)
        extra.append({"path": path, "nth": int(nth), "kind": kind})

    def setup(server):
        server.rules = Rules(args.rules, extra)

    pebble_front.run(Handler, args, setup)


if __name__ == "__main__":
    sys.exit(main())
