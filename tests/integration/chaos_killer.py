#!/usr/bin/env python3
"""Kills a daemon with SIGKILL many times while it works, restarting it at once.

usage: chaos_killer.py --seed N --kills K --log FILE --docker-socket SOCK [--docker-socket SOCK2 ...]
                       [--swarm] [--produce-every E --producer CMD] -- DAEMON_COMMAND...

Even kills come at random moments (0.2-2.2 s after the previous one); odd ones
are aimed 0-250 ms after an event of a run, alternately a model container's
`die` (from the event streams of every engine given: a swarm's nodes) and the
daemon logging the start of a publication (`run.state` `publishing` in FILE)
or, with --swarm, a swarm job's container's `die` (the daemon is about to read
its report and record it); an aimed kill that sees no such event within 5 s
falls back to a random moment. Every E kills, CMD is started
in the background with the producer's step number as its argument (new work
keeps arriving). The daemon's stdout and stderr are appended to FILE. All
timing comes from random.Random(seed), so a seed replays the same schedule.
Leaves the last daemon running and prints its pid on the last line.
"""
import argparse
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--seed", type=int, required=True)
ap.add_argument("--kills", type=int, default=50)
ap.add_argument("--log", required=True)
ap.add_argument("--docker-socket", required=True, action="append")
ap.add_argument("--swarm", action="store_true")
ap.add_argument("--produce-every", type=int, default=0)
ap.add_argument("--producer")
ap.add_argument("daemon", nargs=argparse.REMAINDER)
args = ap.parse_args()
daemon_cmd = args.daemon[1:] if args.daemon[:1] == ["--"] else args.daemon
rng = __import__("random").Random(args.seed)
events = {"die": queue.Queue(), "publishing": queue.Queue()}


watchers = []


def engine_events(socket, label, kind):
    env = dict(os.environ, DOCKER_HOST="unix://" + socket)
    p = subprocess.Popen(
        ["docker", "events", "--filter", "type=container", "--filter", "event=die",
         "--filter", "label=" + label, "--format", "{{json .}}"],
        stdout=subprocess.PIPE, env=env, text=True)
    watchers.append(p)
    for line in p.stdout:
        events[kind].put(time.monotonic())


def log_events():
    with open(args.log, "a+") as f:
        f.seek(0, os.SEEK_END)
        while True:
            line = f.readline()
            if not line:
                time.sleep(0.005)
                continue
            if '"event":"run.state","msg":"publishing' in line:
                events["publishing"].put(time.monotonic())


def start():
    log = open(args.log, "a")
    return subprocess.Popen(daemon_cmd, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)


def drain(q):
    while not q.empty():
        q.get_nowait()


for sock in args.docker_socket:
    threading.Thread(target=engine_events, args=(sock, "org.mlwm.managed=true", "die"),
                     daemon=True).start()
    if args.swarm:  # a job's end stands for its publication (done in the job)
        threading.Thread(target=engine_events, args=(sock, "org.mlwm.job=true", "publishing"),
                         daemon=True).start()
if not args.swarm:
    threading.Thread(target=log_events, daemon=True).start()
daemon = start()
produced = 0
counts = {"random": 0, "die": 0, "publishing": 0, "no event": 0}
for i in range(args.kills):
    if args.producer and args.produce_every and i % args.produce_every == 0:
        subprocess.Popen([args.producer, str(produced)], stdout=subprocess.DEVNULL)
        produced += 1
    random_wait = rng.uniform(0.2, 2.2)
    aimed_delay = rng.uniform(0.0, 0.25)
    if i % 2 == 0:
        time.sleep(random_wait)
        counts["random"] += 1
    else:
        kind = "die" if (i // 2) % 2 == 0 else "publishing"
        drain(events[kind])
        try:
            events[kind].get(timeout=5)
            counts[kind] += 1
        except queue.Empty:
            counts["no event"] += 1
        time.sleep(aimed_delay)
    daemon.send_signal(signal.SIGKILL)
    daemon.wait()
    daemon = start()
print(f"{args.kills} kills: {counts['random']} at random moments, {counts['die']} aimed after a "
      f"container's die, {counts['publishing']} after "
      f"{'the end of a swarm job' if args.swarm else 'the start of a publication'}, "
      f"{counts['no event']} aimed kills saw no event within 5 s")
print(f"producer steps started: {produced}")
print(daemon.pid)
sys.stdout.flush()
for p in watchers:
    p.terminate()
os._exit(0)  # the reader threads block on their streams
