#!/usr/bin/env python3
"""notify_recorder.py SOCKET OUT [LOG] -- the systemd side of sd_notify.

Binds SOCKET (a unix datagram socket, what systemd passes as NOTIFY_SOCKET) and
appends every message it receives to OUT, one line each:
    <CLOCK_MONOTONIC seconds> <assignments joined by '|'>
When a message carries READY=1 and LOG is given, LOG's content at that moment
is copied to OUT.ready<N> (N = 1, 2, ...): what the daemon had logged before it
declared itself ready. Runs until killed.
"""
import os
import shutil
import socket
import sys
import time

sock_path, out_path = sys.argv[1], sys.argv[2]
log_path = sys.argv[3] if len(sys.argv) > 3 else None
if os.path.exists(sock_path):
    os.unlink(sock_path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sock_path)
ready = 0
with open(out_path, "a", buffering=1) as out:
    while True:
        data = s.recv(65536).decode("utf-8", "replace")
        fields = [f for f in data.split("\n") if f]
        if log_path and "READY=1" in fields:
            ready += 1
            shutil.copyfile(log_path, f"{out_path}.ready{ready}")
        out.write(f"{time.monotonic():.3f} {'|'.join(fields)}\n")
