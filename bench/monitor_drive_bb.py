#!/usr/bin/env python3
"""Drives prometheus-blackbox-exporter for bench/monitor.sh.

monitor_drive_bb.py BB_PORT MODULE CONCURRENCY TARGETS_FILE

Asks the exporter to probe every target of TARGETS_FILE (one host:port a
line) through /probe, CONCURRENCY requests in flight (one keep-alive HTTP
connection per worker thread), as fast as it answers. Prints
"probes ok failed wall_seconds". The exporter's own CPU is measured by the
caller from /proc; this driver's is not counted.
"""
import http.client
import queue
import sys
import threading
import time


def main():
    port, module, conc, targets_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    with open(targets_file) as f:
        targets = [t.strip() for t in f if t.strip()]
    work = queue.Queue()
    for t in targets:
        work.put(t)
    counts = {"ok": 0, "failed": 0}
    lock = threading.Lock()

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
        while True:
            try:
                t = work.get_nowait()
            except queue.Empty:
                return
            try:
                conn.request("GET", "/probe?module=%s&target=%s" % (module, t))
                body = conn.getresponse().read().decode()
                good = "\nprobe_success 1" in "\n" + body
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
                good = False
            with lock:
                counts["ok" if good else "failed"] += 1

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(conc)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - start
    print("%d %d %d %.6f" % (len(targets), counts["ok"], counts["failed"], wall))


if __name__ == "__main__":
    main()
