"""The optimizer benchmark of chapter 15: one protocol, the same tuning budget for every optimizer.

Protocol (what the page quotes), following Choi et al. (2019), Schmidt, Schneider & Hennig (2021),
DeepOBS and AlgoPerf (Dahl et al. 2023), and the warning of Wilson et al. (2017) that rankings follow
the tuning:

1. **Workloads.** ``mlp``: the course's MLP (784-128-128-10); ``cnn``: a 16/32-channel CNN
   (:func:`optlib.train.cnn`), a task of another character (shared convolution weights, and a smaller
   training set: a stratified 10,000 of the 50,000 images, :data:`FULL_CNN`, since a CNN epoch costs ~6.5
   times the MLP's). Fashion-MNIST, batch 128, :data:`FULL` epochs.
2. **Data.** The 60,000 training images are split once (:func:`optlib.tuning.validation_split`, fixed
   seed): 50,000 to train on, 10,000 for validation. Every tuning decision uses the validation split.
   The 10,000 test images are touched once: by the final runs of the chosen configurations.
3. **Entries.** SGD, SGD + momentum, Nesterov, Adagrad, RMSprop, Adam, AdamW, NAdam, RAdam, AMSGrad,
   AdaBound, SWATS, Lookahead(SGDM), Lookahead(Adam) (:data:`ENTRIES`), momentum 0.9 and Lookahead's
   k = 5, alpha = 0.5 as in their papers; plus an **A/A control**: Adam entered a second time under
   another name, with the configuration chosen for Adam and its own, disjoint seeds.
4. **Search space** (:func:`configuration`), the same for everyone and centred on nobody's defaults:
   learning rate log-uniform on [1e-5, 10] (six decades); weight decay 0 with probability 1/4, else
   log-uniform on [1e-6, 1e-2] (L2, coupled) or [1e-4, 1] for AdamW (decoupled: it is multiplied by
   the learning rate, so its useful values are larger); schedule constant or cosine to zero (half
   each). AdaBound's ``final_lr`` is searched too (log-uniform on [1e-3, 1]); SWATS's ``eps`` (the
   tolerance of its switching test) on [1e-3, 1e-1]: with the paper's 1e-9 it never switches here (0 of
   6 tensors in 2 epochs at lr 1e-3, 10,000 images; 1e-4 neither), with 1e-3 4 of 6 switched within 52
   steps (measured). The report
   gives each entry's chosen configuration and when SWATS switched.
5. **Tuning budget: random search** with :data:`FULL` ``.trials`` trials per entry, each at the final
   budget (all epochs) on one tuning seed of its own (seeds 100, 101, ...: disjoint from the final
   seeds, so the reported runs are not the lucky trial that won the search). The trials are a scrambled
   Sobol sequence (quasi-random: even coverage with few points), **the same points for every entry**
   mapped into its space, so no optimizer gets luckier draws. Why random search rather than successive
   halving: a low rung of successive halving ranks configurations by where they stand after a few
   epochs, not where they end (a cosine schedule squeezed into those epochs is not the final run's),
   and Wu et al. (2018) showed how far short-horizon judgements mislead: tuned on a short horizon, the
   learning rate came out too small by orders of magnitude. At the final budget every trial is judged
   on what will be reported (an earlier version of the chapter tuned at 3 epochs for 10-epoch runs).
   Choi et al. used the same (quasi-)random search. The chosen configuration is the trial with the best
   final validation accuracy (a diverged trial counts as chance, 0.1).
6. **Final runs.** The chosen configuration of each entry, trained on :data:`FULL` ``.seeds`` seeds
   (0-4; the A/A twin 5-9), evaluated on the test set. Statistics by :func:`optlib.ranking.rank`:
   mean, std, difference to the best with an interval that holds whichever entry is best, and which
   differences are resolved (Holm over all pairs).
7. **Beyond the ranking.** Learning-rate sensitivity: final validation accuracy against learning rate
   over the tuning trials (:func:`sensitivity`). Time to a validation target, AlgoPerf style: the
   fastest tuning trial of each entry to reach the target, in epochs and in seconds; the target is the
   median over the entries of their best validation accuracy, so about half reach it. Tuning effort:
   trials that diverged, trials until the search first came within 1 point of its best, the share of
   trials within 1 point of the best (a robustness measure), and the seconds spent.

Every run goes through :func:`optlib.train.compare` and so through the results store: an interrupted
benchmark resumes run by run, trains in parallel (one process per core) and on the GPU when there is
one. ``python -m optlib.benchmark`` runs it and writes the summary, with provenance, into
``results/benchmark/<workload>.json``. ``OPTBOOK_QUICK=1`` (or ``--quick``) runs the whole protocol on
a small subset (:data:`QUICK`), never stored, in seconds: CI runs it.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import json
import math
import os
import platform
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch

from . import optim, ranking, store, tuning
from . import train as tr


@dataclasses.dataclass(frozen=True)
class Protocol:
    """Sizes of a benchmark run. `n_train`/`n_eval`: subsets of the 50,000 training and of the
    validation (and test) images, None for all; `quick`: never stored (see :mod:`optlib.store`)."""

    epochs: int
    trials: int
    seeds: tuple
    aa_seeds: tuple
    n_train: int | None = None
    n_eval: int | None = None
    quick: bool = False
    tuning_seed: int = 100
    batch_size: int = 128


FULL = Protocol(epochs=10, trials=16, seeds=(0, 1, 2, 3, 4), aa_seeds=(5, 6, 7, 8, 9))
# The CNN trains on a stratified 10,000 of the 50,000 images: a full epoch costs it ~6.5 s on one core
# (the MLP's ~1 s), and the whole protocol must refresh in a sitting on 2 cores. Same tuning budget.
FULL_CNN = dataclasses.replace(FULL, n_train=10_000)
FULL_PROTOCOLS = {"mlp": FULL, "cnn": FULL_CNN}
QUICK = Protocol(epochs=2, trials=3, seeds=(0, 1, 2), aa_seeds=(3, 4, 5), n_train=600, n_eval=300, quick=True)
WORKLOADS = ("mlp", "cnn")
AA_NAME = "Adam (A/A twin)"
AA_OF = "Adam"

LR_RANGE = (1e-5, 10.0)
L2_RANGE = (1e-6, 1e-2)
DECOUPLED_RANGE = (1e-4, 1.0)
FINAL_LR_RANGE = (1e-3, 1.0)
SWATS_EPS_RANGE = (1e-3, 1e-1)
NO_DECAY = 0.25  # share of trials without weight decay

_lookahead = (optim.Lookahead, dict(k=5, alpha=0.5))
# name -> (spec without lr and weight decay, extra searched hyperparameter or None)
ENTRIES = {
    "SGD": ((optim.SGD, {}), None),
    "SGD + momentum": ((optim.SGD, dict(momentum=0.9)), None),
    "Nesterov": ((optim.SGD, dict(momentum=0.9, nesterov=True)), None),
    "Adagrad": ((optim.Adagrad, {}), None),
    "RMSprop": ((optim.RMSprop, {}), None),
    "Adam": ((optim.Adam, {}), None),
    "AdamW": ((optim.AdamW, {}), None),
    "NAdam": ((optim.NAdam, {}), None),
    "RAdam": ((optim.RAdam, {}), None),
    "AMSGrad": ((optim.Adam, dict(amsgrad=True)), None),
    "AdaBound": ((optim.AdaBound, {}), ("final_lr", FINAL_LR_RANGE)),
    "SWATS": ((optim.SWATS, {}), ("eps", SWATS_EPS_RANGE)),
    "Lookahead(SGDM)": ((*_lookahead, (optim.SGD, dict(momentum=0.9))), None),
    "Lookahead(Adam)": ((*_lookahead, (optim.Adam, {})), None),
}


def _log_uniform(u, low, high):
    return float(f"{low * (high / low) ** u:.3g}")


def sobol_points(n: int, dims: int = 4, seed: int = 0) -> list[list[float]]:
    """`n` points of a scrambled Sobol sequence in [0, 1)^dims (fixed `seed`: every entry gets the same)."""
    return torch.quasirandom.SobolEngine(dims, scramble=True, seed=seed).draw(n, dtype=torch.float64).tolist()


def configuration(entry: str, u: Sequence[float]) -> dict[str, Any]:
    """The hyperparameters of `entry` at the point `u` of the unit cube: ``dict(lr, weight_decay,
    schedule[, final_lr or eps])`` (the search space of the module docstring)."""
    if entry not in ENTRIES:
        raise ValueError(f"entry must be one of {list(ENTRIES)}, got {entry!r}")
    decay_range = DECOUPLED_RANGE if entry == "AdamW" else L2_RANGE
    config = dict(lr=_log_uniform(u[0], *LR_RANGE),
                  weight_decay=(0.0 if u[1] < NO_DECAY
                                else _log_uniform((u[1] - NO_DECAY) / (1 - NO_DECAY), *decay_range)),
                  schedule="constant" if u[2] < 0.5 else "cosine")
    extra = ENTRIES[entry][1]
    if extra:
        config[extra[0]] = _log_uniform(u[3], *extra[1])
    return config


def optimizer_spec(entry: str, config: dict[str, Any]) -> tuple:
    """The optimizer spec of `entry` with `config` (its learning rate and weight decay on the optimizer
    that takes the steps: Lookahead's inner one)."""
    spec, extra = ENTRIES[entry]
    settings = dict(lr=config["lr"], weight_decay=config["weight_decay"])
    if extra:
        settings[extra[0]] = config[extra[0]]

    def fill(s):
        cls, kwargs, *inner = s
        return (cls, kwargs, fill(inner[0])) if inner else (cls, {**kwargs, **settings})

    return fill(spec)


def scheduler_spec(schedule: str, epochs: int) -> tuple | None:
    """None (constant) or cosine annealing to zero over `epochs`, stepped after each epoch."""
    if schedule == "constant":
        return None
    if schedule == "cosine":
        return (torch.optim.lr_scheduler.CosineAnnealingLR, dict(T_max=epochs))
    raise ValueError(f'schedule must be "constant" or "cosine", got {schedule!r}')


def _score(value):
    return value if math.isfinite(value) else ranking.DIVERGED


def _datasets(protocol):
    """(tuning data, final data): train on the 50,000 either way; validate, or test once."""
    fit, val = tuning.validation_split()
    return (fit, val), (fit, tr.default_data()[1])


def _compare(runs, seeds, schedule, data, protocol, workload, progress, workers):
    return tr.compare(runs, seeds=seeds, epochs=protocol.epochs, batch_size=protocol.batch_size,
                      scheduler=scheduler_spec(schedule, protocol.epochs), data=data, n_train=protocol.n_train,
                      n_test=protocol.n_eval, quick=protocol.quick, progress=progress, workers=workers,
                      model=workload)


def run(workload: str = "mlp", protocol: Protocol | None = None, entries: Iterable[str] | None = None,
        progress: bool = True, workers: int | None = None) -> dict[str, Any]:
    """Run the protocol of the module docstring on `workload` (``"mlp"`` or ``"cnn"``) and return its
    summary (a JSON-able dict; see :func:`summarize`). `protocol`: :data:`FULL`, or :data:`QUICK` under
    ``OPTBOOK_QUICK=1``. `entries`: a subset of :data:`ENTRIES` (all by default; must include Adam for
    the A/A control). Runs come from the results store when they are there."""
    if workload not in WORKLOADS:
        raise ValueError(f"workload must be one of {list(WORKLOADS)}, got {workload!r}")
    protocol = protocol or (QUICK if tr.case_study_settings()["quick"] else FULL_PROTOCOLS[workload])
    entries = list(entries or ENTRIES)
    unknown = [e for e in entries if e not in ENTRIES]
    if unknown or AA_OF not in entries:
        raise ValueError(f"entries must be names of ENTRIES including {AA_OF!r}, got {entries!r}")
    if workers is None and tr.default_device().type == "cuda":
        workers = 1  # one process drives the GPU
    start = time.perf_counter()
    tune_data, final_data = _datasets(protocol)
    points = sobol_points(protocol.trials)
    from tqdm.auto import tqdm

    bar = tqdm(total=protocol.trials + 3, desc=f"benchmark {workload}", unit="stage",
               disable=not (progress and tr._interactive()))
    trials: dict[str, list[dict[str, Any]]] = {e: [] for e in entries}
    for t, u in enumerate(points):  # one compare per trial: the same point for every entry, one seed
        configs = {e: configuration(e, u) for e in entries}
        seed = protocol.tuning_seed + t
        specs = {e: optimizer_spec(e, c) for e, c in configs.items()}
        result = _compare(specs, (seed,), configs[entries[0]]["schedule"],
                          tune_data, protocol, workload, progress, workers)
        for e in entries:
            h = result.runs[e][0]
            trials[e].append(dict(config=configs[e], seed=seed, val_acc=h.test_acc, epoch_time=h.epoch_time,
                                  diverged=h.diverged_at is not None))
        bar.update()
    chosen = {e: max(trials[e], key=lambda tr_: _score(tr_["val_acc"][-1]))["config"] for e in entries}
    finals = {}
    for schedule in ("constant", "cosine"):  # the final runs, grouped by schedule (one compare each)
        group = {e: optimizer_spec(e, c) for e, c in chosen.items() if c["schedule"] == schedule}
        if group:
            finals.update(_compare(group, protocol.seeds, schedule, final_data, protocol, workload, progress,
                                   workers).runs)
    bar.update()
    twin = _compare({AA_NAME: optimizer_spec(AA_OF, chosen[AA_OF])}, protocol.aa_seeds, chosen[AA_OF]["schedule"],
                    final_data, protocol, workload, progress, workers)
    finals[AA_NAME] = twin.runs[AA_NAME]
    bar.update()
    switch = swats_switch(finals["SWATS"][0], protocol) if "SWATS" in entries else None
    bar.update()
    bar.close()
    return summarize(workload, protocol, trials, chosen, finals, switch, time.perf_counter() - start)


def swats_switch(history: tr.History, protocol: Protocol) -> dict[str, Any]:
    """When SWATS switched to SGD in its first final run: ``dict(steps, tensors, switched)`` with `switched`
    the optimizer step at which each parameter tensor switched (None: never), from the run's
    ``training_report`` (recorded with the run in the store), `steps` the run's number of steps."""
    report = history.report
    steps = protocol.epochs * math.ceil((protocol.n_train or 50_000) / protocol.batch_size)
    return dict(steps=steps, tensors=report.get("tensors", 0), switched=report.get("switch_steps", []))


def sensitivity(trials: dict[str, list[dict[str, Any]]]) -> dict[str, list[tuple]]:
    """Per entry, its tuning trials as ``(lr, schedule, weight_decay, final validation accuracy)`` sorted by
    learning rate: the data of the learning-rate sensitivity curves."""
    return {e: sorted((t["config"]["lr"], t["config"]["schedule"], t["config"]["weight_decay"], t["val_acc"][-1])
                      for t in ts) for e, ts in trials.items()}


def time_to_target(trials: dict[str, list[dict[str, Any]]], target: float) -> dict[str, dict[str, Any] | None]:
    """Per entry, the fastest tuning trial to reach validation accuracy `target`: ``dict(epochs, seconds,
    trial)`` (training seconds up to that epoch), or None when no trial reached it (AlgoPerf's rule)."""
    out = {}
    for e, ts in trials.items():
        best = None
        for i, t in enumerate(ts):
            reached = [k for k, a in enumerate(t["val_acc"]) if math.isfinite(a) and a >= target]
            if reached:
                k = reached[0]
                hit = dict(epochs=k + 1, seconds=sum(t["epoch_time"][:k + 1]), trial=i)
                if best is None or (hit["seconds"], hit["epochs"]) < (best["seconds"], best["epochs"]):
                    best = hit
        out[e] = best
    return out


def tuning_effort(trials: dict[str, list[dict[str, Any]]], within: float = 0.01) -> dict[str, dict[str, Any]]:
    """Per entry: trials, diverged trials, the trial count after which the search was first within
    `within` (1 point) of its best, the share of trials within it, and the seconds of training spent."""
    out = {}
    for e, ts in trials.items():
        scores = [_score(t["val_acc"][-1]) for t in ts]
        best = max(scores)
        out[e] = dict(trials=len(ts), diverged=sum(t["diverged"] for t in ts),
                      trials_to_within=next(i + 1 for i, s in enumerate(scores) if s >= best - within),
                      share_within=sum(s >= best - within for s in scores) / len(ts),
                      seconds=sum(x for t in ts for x in t["epoch_time"] if math.isfinite(x)))
    return out


def summarize(workload: str, protocol: Protocol, trials: dict[str, list[dict[str, Any]]],
              chosen: dict[str, dict[str, Any]], finals: dict[str, list[tr.History]],
              switch: dict[str, Any] | None, wall: float) -> dict[str, Any]:
    """The JSON-able summary of a benchmark: protocol, provenance, chosen configurations, final test
    accuracies per seed, the ranking (:func:`optlib.ranking.rank`), the A/A verdict, sensitivity,
    time to target, tuning effort and SWATS's switch."""
    seeds = {e: protocol.aa_seeds if e == AA_NAME else protocol.seeds for e in finals}
    final_acc = {e: [h.test_acc[-1] for h in hs] for e, hs in finals.items()}
    rows = ranking.rank(final_acc, seeds)
    best_val = sorted(max(_score(t["val_acc"][-1]) for t in ts) for ts in trials.values())
    target = best_val[len(best_val) // 2]  # the median entry's best: about half reach it
    aa = [r for r in rows if r.name in (AA_NAME, AA_OF)]
    tied = ranking.rank({r.name: final_acc[r.name] for r in aa}, {r.name: seeds[r.name] for r in aa})
    return dict(
        workload=workload, protocol=dataclasses.asdict(protocol), provenance=provenance(wall),
        fingerprint=fingerprint(workload, protocol, list(trials)),
        chosen=chosen, final_test_acc=final_acc, seeds={e: list(s) for e, s in seeds.items()},
        ranking=[dataclasses.asdict(r) for r in rows],
        aa=dict(entries=[AA_OF, AA_NAME], tied_with_best=not any(r.resolved for r in aa),
                tied_with_each_other=not any(r.resolved for r in tied)),
        target=target, time_to_target=time_to_target(trials, target), effort=tuning_effort(trials),
        sensitivity=sensitivity(trials), swats_switch=switch,
        diverged_final={e: sum(h.diverged_at is not None for h in hs) for e, hs in finals.items()},
        epoch_time={e: _mean([x for h in hs for x in h.epoch_time]) for e, hs in finals.items()},
    )


def _mean(xs):
    xs = [x for x in xs if math.isfinite(x)]
    return sum(xs) / len(xs) if xs else math.nan


def code_hash() -> str:
    """SHA-256 (16 hex digits) of every ``optlib`` source file: the code that produced a summary."""
    digest = hashlib.sha256()
    for f in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(f.name.encode() + b"\n" + f.read_bytes())
    return digest.hexdigest()[:16]


def provenance(wall: float) -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    device = tr.default_device()
    return dict(code=code_hash(), torch=torch.__version__, python=platform.python_version(), cpu=cpu,
                cpu_kernels=store.cpu_kernels(), cores=os.cpu_count(),
                device=torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
                date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                wall_seconds=round(wall, 1))


class StaleBenchmark(store.StoreMiss):
    """The recorded benchmark summary is missing or was made by other code, torch or protocol."""


def fingerprint(workload: str, protocol: Protocol, entries: Iterable[str]) -> dict[str, Any]:
    """What the benchmark's numbers depend on, beyond its settings: the source hashes of the trainer with
    the workload's model and of each entry's optimizer code (as in the run keys of :mod:`optlib.store`),
    the torch version, the data and the protocol. A summary whose fingerprint differs is stale."""
    config = dict(lr=0.1, weight_decay=0.0, schedule="constant", final_lr=0.1, eps=0.01)
    code = store.source_hash(run, summarize, configuration, optimizer_spec, scheduler_spec)
    if code is None:  # e.g. these functions live in __main__: a summary without it could never go stale
        raise RuntimeError("the benchmark's own code could not be hashed: import optlib.benchmark, do not "
                           "run a copy of it as __main__")
    return dict(trainer=tr.trainer_hash(workload), torch=torch.__version__, data=tr.data_identity(None),
                protocol=dataclasses.asdict(protocol), split=[tuning.N_VALIDATION, tuning.SPLIT_SEED],
                optimizers={e: store.spec_hash(optimizer_spec(e, config)) for e in entries},
                benchmark=code)


def load_summary(workload: str, directory: str | os.PathLike | None = None,
                 protocol: Protocol | None = None) -> dict[str, Any]:
    """The recorded summary of `workload` (``results/benchmark/<workload>.json``), checked against the
    current code: raises :class:`StaleBenchmark`, naming what changed and the command that refreshes it,
    when it is missing or stale. This is what the chapter reads; it never trains."""
    path = summary_path(workload, directory)
    command = f"python -m optlib.benchmark {workload} && python -m optlib.store promote --all"
    try:
        summary = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise StaleBenchmark(f"no readable benchmark summary at {path} ({e}); record it with:\n  {command}") from None
    recorded = summary.get("fingerprint") or {}
    full = FULL_PROTOCOLS.get(workload, FULL)
    protocol = protocol or full
    current = json.loads(json.dumps(fingerprint(workload, protocol, list(recorded.get("optimizers") or ENTRIES))))
    changed = [k for k in current if k != "optimizers" and recorded.get(k) != current[k]]
    before = recorded.get("optimizers", {})
    changed += [f"optimizer {e}" for e, h in current["optimizers"].items() if before.get(e) != h]
    if set(recorded.get("optimizers") or {}) != set(ENTRIES) and protocol == full:
        changed.append("entries")
    if changed:
        raise StaleBenchmark(f"the benchmark summary {path} is stale ({', '.join(changed)} changed); refresh it "
                             f"with:\n  {command}")
    return summary


def summary_path(workload: str, directory: str | os.PathLike | None = None) -> Path:
    """Where the summary of `workload` is recorded: ``results/benchmark/<workload>.json`` in the shipped
    store, or in `directory`."""
    return Path(directory or store.shipped_dir() / "benchmark") / f"{workload}.json"


def format_table(summary: dict[str, Any]) -> tr.Table:
    """The ranking of a summary as a :class:`optlib.train.Table`: mean ± std of the final test accuracy,
    the difference to the best with its simultaneous interval, and the verdict."""
    body = []
    for r in summary["ranking"]:
        c = summary["chosen"].get(r["name"] if r["name"] != AA_NAME else AA_OF, {})
        setting = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{v}" for k, v in c.items())
        if r["diff"] == 0 and r["low"] == r["high"]:
            versus = "best"
        else:
            versus = (f"{100 * r['diff']:+.2f} [{100 * r['low']:+.2f}, {100 * r['high']:+.2f}] "
                      + ("resolved" if r["resolved"] else "tied"))
        body.append([r["name"], f"{100 * r['mean']:.2f} ± {100 * r['std']:.2f}", versus, setting])
    n = len(summary["protocol"]["seeds"])
    return tr.Table(["entry", "test acc (%)", "vs best (points, simultaneous 95 % interval)", "chosen configuration"],
                    body, note=f"{summary['workload']}: {n} seeds each; Holm over all pairs decides 'resolved'")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line of ``python -m optlib.benchmark [mlp] [cnn] [--quick] [--workers N] [--out DIR]``;
    no workload means both."""
    parser = argparse.ArgumentParser(prog="python -m optlib.benchmark", description=__doc__.split("\n")[0])
    parser.add_argument("workloads", nargs="*", help=f"any of {', '.join(WORKLOADS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="the quick protocol (also OPTBOOK_QUICK=1)")
    parser.add_argument("--workers", type=int, default=None, help="training processes (default: one per core)")
    parser.add_argument("--out", default=None, help="directory of the summaries (default results/benchmark)")
    args = parser.parse_args(argv)
    bad = [w for w in args.workloads if w not in WORKLOADS]
    if bad:  # checked here: argparse's `choices` refuses an empty list for nargs="*" on Python 3.11
        parser.error(f"workload must be one of {list(WORKLOADS)}, got {bad[0]!r}")
    args.workloads = args.workloads or list(WORKLOADS)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    quick = args.quick or tr.case_study_settings()["quick"]
    for workload in args.workloads:
        protocol = QUICK if quick else FULL_PROTOCOLS[workload]
        summary = run(workload, protocol, workers=args.workers)
        # a quick run is a smoke test, not a result: it stays out of the shipped store
        out = args.out or (store.cache_dir().parent / "benchmark" if protocol.quick else None)
        path = summary_path(f"quick-{workload}" if protocol.quick else workload, out)
        store.write_atomically(path, json.dumps(summary, indent=1, sort_keys=True) + "\n")
        print(format_table(summary))
        print(f"A/A control tied: {summary['aa']['tied_with_each_other']}; SWATS switch: {summary['swats_switch']}")
        print(f"wrote {path} ({summary['provenance']['wall_seconds']} s)")
    return 0


if __name__ == "__main__":
    # run the imported module, not this __main__ copy: the fingerprint hashes the benchmark's functions by
    # module name, and functions of __main__ are not recognised as optlib's (their hash would be None)
    from optlib.benchmark import main as _main

    sys.exit(_main())
