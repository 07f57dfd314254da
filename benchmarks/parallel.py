"""Parallel speedup of a 4-run comparison: compare(..., workers=1) against workers=<cores>.

    python benchmarks/parallel.py                 # 4 runs x 2 epochs on the full data, 2 rounds
    python benchmarks/parallel.py --epochs 1 --rounds 3

Nothing is read from or written to the result store (cache=False). Serial and parallel are measured in
alternating rounds (drift and other jobs hit both alike); the median wall time of each is reported with
the load average, since on a shared machine the speedup depends on what else runs. The curves of both
are checked to be bit-identical.
"""

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from optlib import optim
from optlib.train import compare, default_workers

RUNS = {"SGD": (optim.SGD, dict(lr=0.1)), "SGD momentum": (optim.SGD, dict(lr=0.05, momentum=0.9)),
        "Adam": (optim.Adam, dict(lr=1e-3)), "RMSprop": (optim.RMSprop, dict(lr=1e-3))}


def curves(result):
    return {n: [{k: v for k, v in h.to_dict().items() if k != "epoch_time"} for h in hs]
            for n, hs in result.runs.items()}


def cpu_seconds():
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=default_workers())
    args = parser.parse_args()
    os.environ["OPTBOOK_QUICK"] = "0"
    times = {1: [], args.workers: []}
    cpu = {1: [], args.workers: []}  # CPU seconds of this process and its workers: insensitive to other jobs
    results = {}
    load_before = os.getloadavg()
    for _ in range(args.rounds):
        for workers in times:
            start, cpu_start = time.perf_counter(), cpu_seconds()
            results[workers] = compare(RUNS, epochs=args.epochs, cache=False, progress=False, workers=workers,
                                       device="cpu")
            times[workers].append(time.perf_counter() - start)
            cpu[workers].append(cpu_seconds() - cpu_start)
    same = curves(results[1]) == curves(results[args.workers])
    serial, parallel = statistics.median(times[1]), statistics.median(times[args.workers])
    print(f"4 runs x {args.epochs} epochs, full data, torch {torch.__version__}, {os.cpu_count()} cores")
    print(f"serial (1 process): {serial:.1f} s  {[round(t, 1) for t in times[1]]}")
    print(f"parallel ({args.workers} processes): {parallel:.1f} s  {[round(t, 1) for t in times[args.workers]]}")
    ratios = [round(a / b, 2) for a, b in zip(times[1], times[args.workers])]
    print(f"speedup {serial / parallel:.2f}x (ratio of medians; per round {ratios}); bit-identical curves: {same}")
    serial_cpu, parallel_cpu = statistics.median(cpu[1]), statistics.median(cpu[args.workers])
    print(f"CPU seconds: serial {serial_cpu:.1f}, parallel {parallel_cpu:.1f} (all processes); on idle cores the "
          f"speedup would be about {args.workers * serial_cpu / parallel_cpu:.2f}x ({args.workers} x serial CPU / "
          f"parallel CPU, the {len(RUNS)} runs splitting evenly)")
    print(f"load average before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
