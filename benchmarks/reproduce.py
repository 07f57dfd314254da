"""How far a retrained run drifts from a stored one when the CPU computes differently.

    python benchmarks/reproduce.py                    # 2 runs x 10 epochs, full data
    python benchmarks/reproduce.py --epochs 3

Another machine's CPU changes the numbers of a run only through the kernels it selects: vector width
(AVX-512, AVX2, SSE) changes the order in which sums are accumulated, hence the last bits, and training
amplifies them over the epochs. This script emulates other CPUs on this one: it trains the runs here,
then retrains them (with :func:`optlib.train.retrain`, as ``python -m optlib.store verify`` does) in
subprocesses restricted to narrower instruction sets (``ATEN_CPU_CAPABILITY`` for torch's own kernels,
``MKL_ENABLE_INSTRUCTIONS`` for the matrix products), and prints the largest |difference| of each curve.
``optlib.store.REPRODUCE_TOL`` is set from these numbers.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from optlib import optim, store
from optlib import train as tr

RUNS = {"SGD momentum": (optim.SGD, dict(lr=0.05, momentum=0.9)), "Adam": (optim.Adam, dict(lr=1e-3))}
VARIANTS = {"same CPU path": {},
            "AVX2": dict(ATEN_CPU_CAPABILITY="avx2", MKL_ENABLE_INSTRUCTIONS="AVX2"),
            "no vectors (default/SSE4.2)": dict(ATEN_CPU_CAPABILITY="default", MKL_ENABLE_INSTRUCTIONS="SSE4_2")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--retrain", help=argparse.SUPPRESS)  # child mode: a JSON list of configs
    args = parser.parse_args()
    if args.retrain:
        configs = json.loads(Path(args.retrain).read_text())
        print(json.dumps([tr.retrain(c) for c in configs]))
        return 0
    cpu = torch.device("cpu")
    configs = [tr.run_config(spec, 0, args.epochs, 128, None, "epoch", tr.data_identity(None), None, None, cpu)
               for spec in RUNS.values()]
    stored = [tr.retrain(c) for c in configs]
    path = Path("/tmp/optlib-reproduce-configs.json")
    path.write_text(json.dumps(configs))
    print(f"{len(RUNS)} runs ({', '.join(RUNS)}), {args.epochs} epochs, full data, torch {torch.__version__}")
    worst = {}
    for variant, env in VARIANTS.items():
        out = subprocess.run([sys.executable, __file__, "--retrain", str(path)], env={**os.environ, **env},
                             capture_output=True, text=True, check=True).stdout
        fresh = json.loads(out.strip().splitlines()[-1])
        for name, a, b in zip(RUNS, stored, fresh):
            diffs, _ = store.compare_histories(a, b)
            for k, v in diffs.items():
                worst[k] = max(worst.get(k, 0.0), v)
            print(f"{variant:>28} {name:>13}: " + ", ".join(f"{k} {v:.2e}" for k, v in diffs.items()))
    print("largest: " + ", ".join(f"{k} {v:.2e}" for k, v in worst.items()))
    print(f"REPRODUCE_TOL now: {store.REPRODUCE_TOL}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
