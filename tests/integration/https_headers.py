#!/usr/bin/env python3
"""An HTTPS server on 127.0.0.1 that answers every request with 200 and the
headers given on the command line, for the API's header checks.

Usage: https_headers.py PORT CERT_CHAIN_PEM KEY_PEM ['Name: value' ...]
"""
import http.server
import ssl
import sys


def main():
    port, chain, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    extra = [h.split(":", 1) for h in sys.argv[4:]]

    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self, body):
            self.send_response(200)
            for name, value in extra:
                self.send_header(name.strip(), value.strip())
            self.send_header("Content-Length", "3")
            self.end_headers()
            if body:
                self.wfile.write(b"ok\n")

        def do_HEAD(self):
            self.answer(False)

        def do_GET(self):
            self.answer(True)

        def log_message(self, *args):
            pass

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain, key)
    server = http.server.HTTPServer(("127.0.0.1", port), Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
