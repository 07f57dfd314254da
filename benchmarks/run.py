"""Benchmarks of optlib against torch, on the Fashion-MNIST case-study MLP. Not part of the test suite.

    python benchmarks/run.py              # both parts, results written into benchmarks/README.md
    python benchmarks/run.py --part optim --repeats 15 --no-write

* optim: time of one ``optimizer.step()`` with batch-128 gradients of the MLP, for every ``optlib.optim``
  optimizer against ``torch.optim`` single-tensor (``foreach=False``) and default paths. Variants are
  measured in interleaved rounds (each round times every variant once, in a shuffled order) so that machine
  drift hits all alike; the median over rounds is reported.
* epoch: one training epoch (60,000 images, batch 128, SGD momentum) with ``optlib.train.train`` against a
  minimal hand-written loop over preloaded tensors and against the usual ``DataLoader(TensorDataset)`` loop.
"""

import argparse
import os
import platform
import random
import re
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from optlib.data import load_fashion_mnist  # noqa: E402
from optlib.train import mlp, train  # noqa: E402

README = Path(__file__).with_name("README.md")


def machine():
    cpu = platform.processor() or "?"
    try:
        cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text()).group(1)
    except (OSError, AttributeError):
        pass
    return (f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads), "
            f"Python {platform.python_version()}, load average before the run {os.getloadavg()[0]:.1f}")


def interleaved(variants, repeats):
    """Median seconds of each variant's callable, measured in `repeats` rounds of shuffled order."""
    times = {name: [] for name in variants}
    order = list(variants)
    for _ in range(repeats):
        random.shuffle(order)
        for name in order:
            start = time.perf_counter()
            variants[name]()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


# ------------------------------------------------------------------------------------------- optimizers

def optimizer_cases():
    """(label, optlib factory, torch class or None, kwargs); factories take params."""
    import optlib.optim as oo
    T = torch.optim
    cases = [("SGD", oo.SGD, T.SGD, dict(lr=0.1)),
             ("SGD momentum", oo.SGD, T.SGD, dict(lr=0.05, momentum=0.9)),
             ("Adagrad", oo.Adagrad, T.Adagrad, dict(lr=0.01)),
             ("RMSprop", oo.RMSprop, T.RMSprop, dict(lr=1e-3)),
             ("Adam", oo.Adam, T.Adam, dict(lr=1e-3)),
             ("AdamW", oo.AdamW, T.AdamW, dict(lr=1e-3)),
             ("NAdam", oo.NAdam, T.NAdam, dict(lr=1e-3)),
             ("RAdam", oo.RAdam, T.RAdam, dict(lr=1e-3)),
             ("Lookahead(Adam)", lambda p: oo.Lookahead(oo.Adam(p, lr=1e-3)), None, {}),
             ("AdaBound", oo.AdaBound, None, dict(lr=1e-3)),
             ("SWATS", oo.SWATS, None, dict(lr=1e-3))]
    return [(label, (lambda p, f=f, kw=kw: f(p, **kw)), t, kw) for label, f, t, kw in cases]


def bench_optimizers(repeats, steps=50):
    (x, y), _ = load_fashion_mnist()

    def stepper(make):
        model = mlp(0)
        F.cross_entropy(model(x[:128]), y[:128]).backward()  # real batch-128 gradients, kept fixed
        opt = make(model.parameters())
        opt.step()  # creates the state outside the timing

        def run():
            for _ in range(steps):
                opt.step()
        return run

    rows = []
    for label, make, torch_cls, kw in optimizer_cases():
        variants = {"optlib": stepper(make)}
        if torch_cls is not None:
            variants["torch single"] = stepper(lambda p: torch_cls(p, foreach=False, **kw))
            variants["torch default"] = stepper(lambda p: torch_cls(p, **kw))
        t = {k: v / steps * 1e6 for k, v in interleaved(variants, repeats).items()}  # µs per step
        rows.append((label, t))
        print(label, {k: round(v, 1) for k, v in t.items()}, flush=True)
    lines = ["| optimizer | optlib µs/step | torch foreach=False µs/step | torch default µs/step "
             "| optlib / single | optlib / default |", "|---|---:|---:|---:|---:|---:|"]
    for label, t in rows:
        if "torch single" in t:
            lines.append(f"| {label} | {t['optlib']:.1f} | {t['torch single']:.1f} | {t['torch default']:.1f} "
                         f"| **{t['optlib'] / t['torch single']:.2f}x** | {t['optlib'] / t['torch default']:.2f}x |")
        else:
            lines.append(f"| {label} | {t['optlib']:.1f} | (none in torch) | | | |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- epochs

def bench_epochs(repeats):
    (x, y), test = load_fashion_mnist()
    sgd = (torch.optim.SGD, dict(lr=0.05, momentum=0.9))

    def optlib_epoch():  # the training part only (History.epoch_time), as for the loops below
        h = train(sgd, epochs=1, data=((x, y), test), progress=False, device="cpu", quick=False,
                  threads=torch.get_num_threads())
        return h.epoch_time[0]

    def hand_epoch():
        model = mlp(0)
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        start = time.perf_counter()
        order = torch.randperm(len(y))
        for i in range(0, len(y), 128):
            idx = order[i:i + 128]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        return time.perf_counter() - start

    def dataloader_epoch():
        model = mlp(0)
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=128, shuffle=True)
        start = time.perf_counter()
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return time.perf_counter() - start

    variants = {"optlib.train": optlib_epoch, "hand-written loop": hand_epoch, "DataLoader loop": dataloader_epoch}
    times = {name: [] for name in variants}
    order = list(variants)
    for _ in range(repeats):
        random.shuffle(order)
        for name in order:
            times[name].append(variants[name]())
    med = {name: statistics.median(t) for name, t in times.items()}
    print({k: round(v, 3) for k, v in med.items()}, flush=True)
    base = med["optlib.train"]
    lines = ["| training loop | s/epoch (median) | vs optlib.train |", "|---|---:|---:|"]
    lines += [f"| {name} | {t:.3f} | {t / base:.2f}x |" for name, t in med.items()]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("all", "optim", "epoch"), default="all")
    parser.add_argument("--repeats", type=int, default=21, help="rounds for the optimizer steps")
    parser.add_argument("--epoch-repeats", type=int, default=5, help="rounds for the epochs")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for every variant (1, as optlib.train uses on the CPU)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave README.md alone")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    random.seed(0)
    command = "python " + " ".join(["benchmarks/run.py", *sys.argv[1:]])
    report = [f"Machine: {machine()}.", f"Command: `{command}` ({time.strftime('%Y-%m-%d')}).", ""]
    if args.part in ("all", "optim"):
        report += ["### Optimizer step (case-study MLP, batch-128 gradients, median of "
                   f"{args.repeats} interleaved rounds of 50 steps)", "", bench_optimizers(args.repeats), ""]
    if args.part in ("all", "epoch"):
        report += [f"### One training epoch (60,000 images, batch 128, SGD momentum; median of "
                   f"{args.epoch_repeats} interleaved rounds)", "", bench_epochs(args.epoch_repeats), ""]
    text = "\n".join(report)
    print(text)
    if not args.no_write:
        readme = README.read_text()
        begin, end = "<!-- results: begin -->", "<!-- results: end -->"
        head, rest = readme.split(begin)
        README.write_text(head + begin + "\n" + text + "\n" + end + rest.split(end)[1])


if __name__ == "__main__":
    main()
