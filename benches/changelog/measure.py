#!/usr/bin/env python3
"""Runs commands side by side and prints median wall time and peak RSS.

    measure.py RUNS NAME=COMMAND [NAME=COMMAND ...]   (each COMMAND run by sh in the current folder)

Each run is its own process; its peak RSS is the child's ru_maxrss from
wait4. Runs are interleaved (one of each command, then again), so that a
noisy neighbour slows every command alike. Output: a Markdown table with
the ratio to the first command (the floor). A NAME starting with `slow:`
runs at most 3 times.
"""
import os
import statistics
import subprocess
import sys
import time

def run(command):
    start = time.perf_counter()
    proc = subprocess.Popen(["sh", "-c", "exec " + command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    if status != 0:
        sys.exit(f"`{command}` failed ({status}): {err[-400:]}")
    return wall, usage.ru_maxrss / 1024.0

def main():
    runs = int(sys.argv[1])
    specs = []
    for spec in sys.argv[2:]:
        name, command = spec.split("=", 1)
        n = runs if not name.startswith("slow:") else max(1, min(runs, 3))
        specs.append((name.removeprefix("slow:"), command, n, []))
    for i in range(runs):
        for name, command, n, samples in specs:
            if i < n:
                samples.append(run(command))
    rows = []
    for name, command, n, samples in specs:
        wall = statistics.median(s[0] for s in samples)
        rss = max(s[1] for s in samples)
        rows.append((name, wall, rss, n))
        print(f"  {name}: {wall * 1000:.0f} ms, {rss:.0f} MB ({n} runs)", file=sys.stderr, flush=True)
    floor = rows[0][1]
    print("| tool | median wall | vs floor | peak RSS | runs |")
    print("|---|---|---|---|---|")
    for name, wall, rss, n in rows:
        print(f"| {name} | {wall * 1000:.0f} ms | {wall / floor:.2f} x | {rss:.0f} MB | {n} |")

if __name__ == "__main__":
    main()
