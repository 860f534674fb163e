#!/usr/bin/env python3
"""A slow-header flood against the daemon's HTTP endpoints.

usage: http_flood.py PORT CONNECTIONS

Opens CONNECTIONS connections that each send half a request header and then
nothing. While they are open, /livez must answer on a fresh connection
(within 2 s, five times); then every flood connection must have been closed
by the server within 15 s (its header-read timeout, or room made for newer
connections). Prints what it saw; exits 1 if a promise is broken.
"""
import socket
import sys
import time

port, count = int(sys.argv[1]), int(sys.argv[2])
flood = []
for _ in range(count):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    flood.append(s)
opened = time.monotonic()
failures = []
for i in range(5):
    t0 = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as probe:
            probe.sendall(b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := probe.recv(4096):
                answer += chunk
        ok = answer.startswith(b"HTTP/1.1 200") and answer.partition(b"\r\n\r\n")[2].startswith(b"ok")
        if not ok:
            failures.append(f"probe {i}: {answer[:80]!r}")
        print(f"probe {i}: {'200 ok' if ok else 'bad answer'} in {time.monotonic() - t0:.3f} s")
    except OSError as e:
        failures.append(f"probe {i}: {e}")
        print(f"probe {i}: {e}")
# every flood connection is closed by the server (EOF or reset) within 15 s
open_ = list(flood)
deadline = opened + 15
for s in open_:
    s.settimeout(max(0.01, deadline - time.monotonic()))
still_open = 0
for s in open_:
    try:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        if s.recv(1) != b"":
            still_open += 1  # answered a half request?
    except socket.timeout:
        still_open += 1
    except OSError:
        pass  # reset: closed
    s.close()
print(f"{count} slow connections: {count - still_open} closed by the server within "
      f"{time.monotonic() - opened:.1f} s, {still_open} still open")
if still_open:
    failures.append(f"{still_open} of {count} slow connections still open after 15 s")
for f in failures:
    print("FAIL:", f, file=sys.stderr)
sys.exit(1 if failures else 0)
