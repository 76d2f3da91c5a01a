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
import json
import sys
import time

import pebble_front


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def b64url_json(text):
    try:
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except ValueError:
        return {}


class Handler(pebble_front.FrontHandler):
    server_version = "ari-front"
    log_time = False  # ari_test.sh matches whole lines.

    def control(self):
        try:
            with open(self.server.control_path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return {"mode": "window", "start": 86400, "end": 2 * 86400}

    def handle_any(self, body):
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    pebble_front.add_front_arguments(ap)
    ap.add_argument("--control", required=True)
    args = ap.parse_args()

    def setup(server):
        server.control_path = args.control

    pebble_front.run(Handler, args, setup)


if __name__ == "__main__":
    sys.exit(main())
