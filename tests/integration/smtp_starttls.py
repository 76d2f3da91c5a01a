# A minimal SMTP server for the integration tests: greeting, EHLO,
# STARTTLS, then a TLS handshake with the given certificate chain and key.
# It is a test double: no Debian mail server speaks STARTTLS on a loopback
# port without a full mail-system configuration, and the dialogue is all
# the tests exercise.
#
# Usage: python3 smtp_starttls.py PORT CHAIN_PEM KEY_PEM  (listens on 127.0.0.1)
import socket
import ssl
import sys
import threading

port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.create_server(("127.0.0.1", port))


def serve(c):
    try:
        f = c.makefile("rb")
        c.sendall(b"220 mail.test ESMTP test\r\n")
        f.readline()
        c.sendall(b"250-mail.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
        if not f.readline().upper().startswith(b"STARTTLS"):
            return
        c.sendall(b"220 2.0.0 Ready to start TLS\r\n")
        t = ctx.wrap_socket(c, server_side=True)
        t.recv(100)
    except Exception:
        pass
    finally:
        c.close()


while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
