#!/usr/bin/env python3
"""Runs a command with a pseudo-terminal as its stdin, stdout and stderr.

Usage: on_tty.py ANSWER CMD [ARGS...]

ANSWER (plus a newline) is typed once the command has printed a question
(anything ending in "] "); everything the command prints is copied to our
stdout. Exits with the command's exit status. Used to test what bulkhead
asks when someone is at a terminal.
"""
import os
import sys
import time


def main():
    answer = sys.argv[1].encode() + b"\n"
    pid, fd = os.forkpty()
    if pid == 0:
        os.execvp(sys.argv[2], sys.argv[2:])
    out = b""
    sent = False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal.
            break
        if not chunk:
            break
        out += chunk
        if not sent and out.rstrip().endswith(b"]"):
            os.write(fd, answer)
            sent = True
    sys.stdout.buffer.write(out)
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
