"""The Fashion-MNIST case study of every chapter, in a few lines.

::

    from optlib.train import compare
    result = compare({"SGD": (torch.optim.SGD, dict(lr=0.1)),
                      "Adam": (optlib.optim.Adam, dict(lr=1e-3))}, seeds=(0, 1, 2), epochs=10)
    result.summary()   # final / best test accuracy, mean ± std over seeds
    result.plot()      # loss and accuracy curves, mean line and min-max band over seeds

* :func:`mlp` is the model (784 -> 128 -> 128 -> 10, ReLU), :func:`train` trains it once and returns a
  :class:`History`; :func:`compare` trains several optimizers over several seeds, with results cached on
  disk; :func:`lr_range_test` is Leslie Smith's learning-rate range test.
* Optimizers are given as a *spec* ``(class, kwargs)``: ``(torch.optim.SGD, dict(lr=0.1, momentum=0.9))``.
  A wrapper such as Lookahead is ``(optlib.optim.Lookahead, dict(k=5, alpha=0.5), (optlib.optim.Adam, {}))``:
  ``Lookahead(Adam(params), k=5, alpha=0.5)``. :func:`train` also takes any callable ``params -> optimizer``
  (``lambda p: torch.optim.SGD(p, lr=0.1)``); :func:`compare` needs specs, because its disk cache must
  describe each run exactly and a lambda cannot be described.
* Speed: the data are preloaded tensors on the device; each epoch shuffles indices with ``torch.randperm``
  (a seeded ``torch.Generator``) and slices mini-batches: no DataLoader, no per-sample Python. The GPU is
  used when present (``device=None``). On the CPU, a seed gives bit-identical results.
* Quick mode: with the environment variable ``OPTBOOK_QUICK=1`` (set by CI when building the book), the
  case studies stay honest but small: a stratified seeded subset of 10,000 training and 2,000 test images
  and at most 3 epochs. :func:`case_study_settings` resolves it; :func:`train`, :func:`compare` and
  :func:`lr_range_test` consult it for every size the caller did not give, so chapters need no if-statement.
* Disk cache of :func:`compare`: one JSON file per (run, seed) in ``$OPTLIB_CACHE`` (default
  ``~/.cache/optlib/runs``), named by a hash of the full configuration; delete the directory to retrain.
"""

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import tempfile
import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .data import load_fashion_mnist

CACHE_VERSION = 1  # bump when the training loop or the file format changes: old results are then ignored
QUICK = dict(n_train=10_000, n_test=2_000, max_epochs=3)


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the loss became NaN or infinite."""


def case_study_settings(quick=None):
    """Sizes of the case study: ``dict(quick, n_train, n_test, max_epochs)``, None meaning "all".

    `quick` defaults to the environment variable ``OPTBOOK_QUICK`` (``1``/``true``/``yes`` turn it on)."""
    if quick is None:
        quick = os.environ.get("OPTBOOK_QUICK", "").strip().lower() in ("1", "true", "yes", "on")
    if quick:
        return dict(quick=True, **QUICK)
    return dict(quick=False, n_train=None, n_test=None, max_epochs=None)


def mlp(seed=0):
    """The case-study model: 784 -> 128 -> 128 -> 10 with ReLUs, initialised from `seed`.

    It outputs logits; softmax is inside the cross-entropy loss."""
    with torch.random.fork_rng(devices=[]):  # a seeded init that leaves the caller's random state alone
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))


def subset(x, y, n, seed=0):
    """`n` examples of (x, y), the same number from each class (stratified), chosen by `seed`."""
    if n is None or n >= len(y):
        return x, y
    g = torch.Generator().manual_seed(seed)
    classes = torch.unique(y)
    keep = []
    for i, c in enumerate(classes.tolist()):
        members = (y == c).nonzero().flatten()
        k = n // len(classes) + (i < n % len(classes))
        keep.append(members[torch.randperm(len(members), generator=g)[:k]])
    keep = torch.cat(keep).sort().values
    return x[keep], y[keep]


def build_optimizer(spec, params):
    """Make an optimizer from a spec ``(cls, kwargs)``, ``(wrapper, kwargs, inner_spec)`` or a callable."""
    if callable(spec):
        return spec(params)
    cls, kwargs, *inner = spec
    if inner:
        return cls(build_optimizer(inner[0], params), **kwargs)
    return cls(params, **kwargs)


@dataclasses.dataclass
class History:
    """Per-epoch curves of one training run (index 0 is epoch 1).

    Train loss/accuracy are averages over the epoch's mini-batches, as the model changed during the epoch;
    test loss/accuracy are measured at the end of the epoch. After a divergence the remaining entries are
    NaN, so that plots stop where training stopped; `diverged_at` is then ``(epoch, step)``, both counted
    from 1, step within the epoch."""

    train_loss: list = dataclasses.field(default_factory=list)
    train_acc: list = dataclasses.field(default_factory=list)
    test_loss: list = dataclasses.field(default_factory=list)
    test_acc: list = dataclasses.field(default_factory=list)
    lr: list = dataclasses.field(default_factory=list)  # learning rate of the first group at the epoch's end
    epoch_time: list = dataclasses.field(default_factory=list)  # seconds of training (without evaluation)
    diverged_at: tuple = None

    @property
    def epochs(self):
        return len(self.test_acc)

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d):
        d = dict(d)
        if d.get("diverged_at") is not None:
            d["diverged_at"] = tuple(d["diverged_at"])
        return cls(**d)

    def __eq__(self, other):  # as dataclass equality, except that NaN equals NaN (diverged curves)
        if not isinstance(other, History):
            return NotImplemented
        same = lambda a, b: a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
        a, b = self.to_dict(), other.to_dict()
        return a.keys() == b.keys() and all(
            same(a[k], b[k]) if not isinstance(a[k], list)
            else len(a[k]) == len(b[k]) and all(map(same, a[k], b[k])) for k in a)


def default_device():
    """``cuda`` when a GPU is available, else ``cpu``."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@contextlib.contextmanager
def _threads(n, device):
    """Run with `n` torch CPU threads (None: torch's setting), restoring the previous setting after.

    The case-study MLP's matrices are small: a second thread gains little, and when the cores are shared
    (a notebook build, another job) OpenMP threads wait on each other: measured 18x slower with 2 threads
    than with 1 on a busy 2-core machine. Hence one thread by default on the CPU."""
    before = torch.get_num_threads()
    if n and device.type == "cpu":
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _prepare_data(data, n_train, n_test, device):
    """Fashion-MNIST (or `data`), reduced to the requested sizes and moved to `device` once."""
    (xtr, ytr), (xte, yte) = data if data is not None else load_fashion_mnist()
    xtr, ytr = subset(xtr, ytr, n_train)
    xte, yte = subset(xte, yte, n_test)
    return [t.to(device) for t in (xtr, ytr, xte, yte)]


@torch.no_grad()
def evaluate(model, x, y, batch_size=5000):
    """Mean cross-entropy loss and accuracy of `model` on (x, y), in large batches."""
    model.eval()
    loss, correct = 0.0, 0
    for i in range(0, len(y), batch_size):
        out = model(x[i:i + batch_size])
        loss += F.cross_entropy(out, y[i:i + batch_size], reduction="sum").item()
        correct += (out.argmax(1) == y[i:i + batch_size]).sum().item()
    return loss / len(y), correct / len(y)


def train(make_optimizer, epochs=10, batch_size=128, seed=0, data=None, scheduler=None, scheduler_step="epoch",
          device=None, progress=True, n_train=None, n_test=None, quick=None, desc=None, threads=1):
    """Train :func:`mlp` (`seed`) on Fashion-MNIST with the given optimizer; return a :class:`History`.

    make_optimizer: a spec ``(cls, kwargs)`` (see the module docstring) or a callable
        ``params -> optimizer``, e.g. ``lambda p: torch.optim.SGD(p, lr=0.1)`` or ``optlib.optim.Adam``.
    scheduler: None, a spec ``(cls, kwargs)`` or a callable ``optimizer -> LR scheduler``; it is stepped after
        every epoch (``scheduler_step="epoch"``, e.g. StepLR) or after every mini-batch (``"batch"``,
        e.g. OneCycleLR with ``total_steps = epochs * ceil(n_train / batch_size)``).
    data: ``((x_train, y_train), (x_test, y_test))``, default :func:`~optlib.data.load_fashion_mnist`.
    n_train, n_test: use a stratified subset of this size; None takes the quick-mode size (see
        :func:`case_study_settings`, `quick`), i.e. everything unless ``OPTBOOK_QUICK=1``. Quick mode also
        caps `epochs` at 3.
    device: None picks the GPU when there is one. progress: one tqdm bar per run (`desc` labels it).
    threads: torch CPU threads while training (1: see ``_threads``; None keeps torch's setting).

    If the loss becomes NaN or infinite, training stops, a :class:`DivergenceWarning` says where, and the
    history records it (``diverged_at``); no exception is raised."""
    settings = case_study_settings(quick)
    epochs = min(epochs, settings["max_epochs"] or epochs)
    n_train = n_train if n_train is not None else settings["n_train"]
    n_test = n_test if n_test is not None else settings["n_test"]
    device = torch.device(device) if device is not None else default_device()
    xtr, ytr, xte, yte = _prepare_data(data, n_train, n_test, device)
    with _threads(threads, device):
        return _train(make_optimizer, epochs, batch_size, seed, scheduler, scheduler_step, device, progress,
                      desc, xtr, ytr, xte, yte)


def _train(make_optimizer, epochs, batch_size, seed, scheduler, scheduler_step, device, progress, desc,
           xtr, ytr, xte, yte):
    """The loop of :func:`train`, on data already on `device`."""
    from tqdm.auto import tqdm


    model = mlp(seed).to(device)
    optimizer = build_optimizer(make_optimizer, model.parameters())
    sched = build_optimizer(scheduler, optimizer) if scheduler is not None else None
    shuffle = torch.Generator().manual_seed(seed)  # its own generator: the order depends on `seed` only
    history = History()

    bar = tqdm(range(1, epochs + 1), desc=desc, unit="epoch", disable=not progress, leave=True)
    for epoch in bar:
        model.train()
        start = time.perf_counter()
        order = torch.randperm(len(ytr), generator=shuffle).to(device)
        loss_sum, correct = 0.0, torch.zeros((), dtype=torch.long, device=device)
        for step, i in enumerate(range(0, len(ytr), batch_size), 1):
            idx = order[i:i + batch_size]
            xb, yb = xtr[idx], ytr[idx]
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            value = loss.item()  # one sync per step: exact divergence detection (free on the CPU)
            if not math.isfinite(value):
                history.diverged_at = (epoch, step)
                break
            optimizer.step()
            if sched is not None and scheduler_step == "batch":
                sched.step()
            loss_sum += value * len(yb)
            correct += (out.argmax(1) == yb).sum()  # stays on the device: no extra sync
        if history.diverged_at:
            message = (f"diverged at epoch {epoch}, step {step}: loss = {value}; "
                       f"the learning rate is probably too large")
            warnings.warn(message, DivergenceWarning, stacklevel=3)
            nan = [math.nan] * (epochs - epoch + 1)
            for curve in (history.train_loss, history.train_acc, history.test_loss, history.test_acc,
                          history.lr, history.epoch_time):
                curve.extend(nan)
            bar.set_postfix_str("diverged")
            break
        history.epoch_time.append(time.perf_counter() - start)
        history.train_loss.append(loss_sum / len(ytr))
        history.train_acc.append(correct.item() / len(ytr))
        history.lr.append(float(optimizer.param_groups[0]["lr"]))
        if sched is not None and scheduler_step == "epoch":
            sched.step()
        test_loss, test_acc = evaluate(model, xte, yte)
        history.test_loss.append(test_loss)
        history.test_acc.append(test_acc)
        bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}", test_acc=f"{test_acc:.4f}")
    bar.close()
    return history


# ---------------------------------------------------------------------------------------------- compare

def describe(spec):
    """A stable, JSON-able description of an optimizer or scheduler spec, for the cache key.

    Classes and functions are named by module and qualified name; kwargs are described recursively.
    Lambdas and other callables without a stable name are refused: their behaviour cannot be described."""
    if spec is None or isinstance(spec, (bool, int, float, str)):
        return spec
    if isinstance(spec, (tuple, list)):
        return [describe(s) for s in spec]
    if isinstance(spec, dict):
        return {str(k): describe(v) for k, v in sorted(spec.items())}
    if torch.is_tensor(spec):
        return {"tensor": spec.tolist()}
    name = getattr(spec, "__qualname__", None)
    if isinstance(spec, type) or (callable(spec) and name and "<" not in name):
        return f"{spec.__module__}.{name}"
    raise TypeError(f"cannot describe {spec!r} for the result cache: give runs as specs such as "
                    f"(torch.optim.SGD, dict(lr=0.1)), or pass cache=False")


def cache_dir():
    """Where :func:`compare` keeps results: ``$OPTLIB_CACHE`` or ``~/.cache/optlib/runs``."""
    return Path(os.environ.get("OPTLIB_CACHE") or Path.home() / ".cache" / "optlib" / "runs")


def _write_json_atomically(path, obj):
    """Write to a temporary file next to `path`, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


@dataclasses.dataclass
class Comparison:
    """Results of :func:`compare`: ``runs[name]`` is the list of :class:`History`, one per seed."""

    runs: dict
    seeds: tuple
    config: dict = dataclasses.field(default_factory=dict)

    def rows(self):
        """One dict per run: final and best test accuracy (mean, std over seeds), epoch time, divergences."""
        rows = []
        for name, hs in self.runs.items():
            final = torch.tensor([h.test_acc[-1] for h in hs], dtype=torch.float64)
            mean_acc = torch.tensor([h.test_acc for h in hs], dtype=torch.float64).mean(0)
            best = int(mean_acc.nan_to_num(-1).argmax()) if len(mean_acc) else 0
            times = [t for h in hs for t in h.epoch_time if not math.isnan(t)]
            rows.append(dict(run=name, final_acc=final.mean().item(),
                             final_acc_std=final.std().item() if len(hs) > 1 else 0.0,
                             final_loss=sum(h.test_loss[-1] for h in hs) / len(hs),
                             best_acc=mean_acc[best].item(), best_epoch=best + 1,
                             epoch_time=sum(times) / len(times) if times else math.nan,
                             diverged=sum(h.diverged_at is not None for h in hs)))
        return rows

    def summary(self):
        """The table of :meth:`rows` as text (``print`` it) that shows as HTML in a notebook."""
        head = ["run", "final test acc", "final test loss", "best test acc (epoch)", "s/epoch", "diverged"]
        body = [[r["run"], f"{100 * r['final_acc']:.2f} ± {100 * r['final_acc_std']:.2f} %",
                 f"{r['final_loss']:.4f}", f"{100 * r['best_acc']:.2f} % ({r['best_epoch']})",
                 f"{r['epoch_time']:.2f}", f"{r['diverged']}/{len(self.seeds)}"] for r in self.rows()]
        return Table(head, body, note=f"mean ± std over seeds {tuple(self.seeds)}")

    def _repr_html_(self):
        return self.summary()._repr_html_()

    def plot(self, band="minmax"):
        """Test loss and test accuracy per epoch: mean over seeds, with a min-max band (or ``band="std"``:
        mean ± one standard deviation; ``band=None``: no band). Returns the matplotlib figure."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
        for name, hs in self.runs.items():
            for ax, key in zip(axes, ("test_loss", "test_acc")):
                curves = torch.tensor([getattr(h, key) for h in hs], dtype=torch.float64)
                epochs = range(1, curves.shape[1] + 1)
                mean = curves.mean(0)
                (line,) = ax.plot(epochs, mean, marker=".", label=name)
                if band and len(hs) > 1:
                    lo, hi = ((curves.min(0).values, curves.max(0).values) if band == "minmax"
                              else (mean - curves.std(0), mean + curves.std(0)))
                    ax.fill_between(epochs, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
        spread = {"minmax": "min-max band", "std": "±1 std band"}.get(band, "")
        for ax, title, ylabel in zip(axes, ("Test loss", "Test accuracy"), ("cross-entropy loss", "accuracy")):
            ax.set(title=f"{title} (mean over {len(self.seeds)} seed{'s' * (len(self.seeds) > 1)}"
                         f"{', ' + spread if spread and len(self.seeds) > 1 else ''})",
                   xlabel="epoch", ylabel=ylabel)
            ax.grid(alpha=0.3)
            ax.legend()
        return fig


class Table(str):
    """A plain-text table that a notebook displays as HTML."""

    def __new__(cls, head, body, note=""):
        widths = [max(len(str(row[i])) for row in [head, *body]) for i in range(len(head))]
        lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in [head, *body]]
        lines.insert(1, "  ".join("-" * w for w in widths))
        self = super().__new__(cls, "\n".join(lines + ([note] if note else [])))
        self.head, self.body, self.note = head, body, note
        return self

    def _repr_html_(self):
        import html
        cells = lambda row, tag: "".join(f"<{tag}>{html.escape(str(c))}</{tag}>" for c in row)
        rows = "".join(f"<tr>{cells(r, 'td')}</tr>" for r in self.body)
        caption = f"<caption>{html.escape(self.note)}</caption>" if self.note else ""
        return f"<table>{caption}<thead><tr>{cells(self.head, 'th')}</tr></thead><tbody>{rows}</tbody></table>"


def compare(runs, seeds=(0,), epochs=10, batch_size=128, scheduler=None, scheduler_step="epoch", data=None,
            n_train=None, n_test=None, quick=None, device=None, progress=True, cache=True, threads=1):
    """Train the case-study MLP with each optimizer of `runs` and each seed; return a :class:`Comparison`.

    runs: ``{name: spec}``, a spec being ``(cls, kwargs)`` or ``(wrapper, kwargs, inner_spec)``, e.g.
        ``{"SGD": (torch.optim.SGD, dict(lr=0.1)), "Adam": (optlib.optim.Adam, dict(lr=1e-3))}``.
    scheduler: a spec ``(cls, kwargs)`` applied to every run (see :func:`train` for `scheduler_step`).
    Other arguments as in :func:`train`; quick mode (``OPTBOOK_QUICK=1``) applies to sizes not given.

    With `cache`, each (run, seed) result is stored in :func:`cache_dir` under a hash of everything that
    determines it (name, optimizer class and kwargs, scheduler, epochs, batch size, seed, data sizes,
    device type, cache-format version); a rerun with the same configuration loads it instead of training.
    Custom `data` is hashed too."""
    settings = case_study_settings(quick)
    epochs = min(epochs, settings["max_epochs"] or epochs)
    n_train = n_train if n_train is not None else settings["n_train"]
    n_test = n_test if n_test is not None else settings["n_test"]
    device = torch.device(device) if device is not None else default_device()
    if data is None:
        data_id = "fashion-mnist"  # its content is fixed by the SHA-256 checks of optlib.data
    else:
        digest = hashlib.sha256()
        for t in (data[0][0], data[0][1], data[1][0], data[1][1]):
            digest.update(t.detach().cpu().contiguous().numpy().tobytes())
        data_id = digest.hexdigest()
    common = dict(version=CACHE_VERSION, model="mlp-784-128-128-10", data=data_id, epochs=epochs,
                  batch_size=batch_size, n_train=n_train, n_test=n_test, device=device.type,
                  scheduler=describe(scheduler) if cache else None, scheduler_step=scheduler_step)
    results = {}
    for name, spec in runs.items():
        results[name] = []
        for seed in seeds:
            path = None
            if cache:
                key = json.dumps(dict(common, name=name, optimizer=describe(spec), seed=seed), sort_keys=True)
                path = cache_dir() / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"
                if path.is_file():
                    try:
                        results[name].append(History.from_dict(json.loads(path.read_text())["history"]))
                        continue
                    except (ValueError, KeyError, TypeError):
                        pass  # unreadable cache file: retrain and overwrite it
            history = train(spec, epochs=epochs, batch_size=batch_size, seed=seed, data=data,
                            scheduler=scheduler, scheduler_step=scheduler_step, device=device,
                            progress=progress, n_train=n_train, n_test=n_test, quick=False,
                            desc=f"{name} (seed {seed})", threads=threads)
            if path is not None:
                _write_json_atomically(path, dict(config=json.loads(key), history=history.to_dict()))
            results[name].append(history)
    return Comparison(results, tuple(seeds), dict(common, runs={n: describe(s) for n, s in runs.items()}
                                                  if cache else list(runs)))


# ---------------------------------------------------------------------------------------- LR range test

@dataclasses.dataclass
class LRRangeResult:
    """Learning rates tried, one per mini-batch, and the smoothed training loss after each."""

    lrs: list
    losses: list

    def plot(self, ax=None):
        """Smoothed loss against learning rate, log-x axis."""
        return plot_lr_range(self, ax)


def lr_range_test(make_optimizer, lr_min=1e-5, lr_max=10.0, steps=300, batch_size=128, seed=0, data=None,
                  smoothing=0.98, device=None, progress=True, n_train=None, quick=None, threads=1):
    """Leslie Smith's learning-rate range test on the case-study MLP.

    The learning rate grows exponentially from `lr_min` to `lr_max` over `steps` mini-batches (set on every
    parameter group before each step, overriding the optimizer's own lr); the training loss, smoothed by an
    exponential moving average (`smoothing`, bias-corrected), is recorded after each. The test stops early
    when the smoothed loss exceeds 4 times the best seen, or is not finite. A good learning rate is usually
    about a tenth of where the loss is lowest. Returns an :class:`LRRangeResult` (``.plot()``)."""
    from tqdm.auto import tqdm

    settings = case_study_settings(quick)
    n_train = n_train if n_train is not None else settings["n_train"]
    device = torch.device(device) if device is not None else default_device()
    xtr, ytr, _, _ = _prepare_data(data, n_train, 0, device)
    model = mlp(seed).to(device)
    optimizer = build_optimizer(make_optimizer, model.parameters())
    shuffle = torch.Generator().manual_seed(seed)
    order = torch.empty(0, dtype=torch.long)
    lrs, losses = [], []
    avg, best = 0.0, math.inf
    with _threads(threads, device):
        for step in tqdm(range(steps), desc="LR range test", disable=not progress):
            if len(order) < batch_size:  # start another epoch when the current one runs out
                order = torch.randperm(len(ytr), generator=shuffle)
            idx, order = order[:batch_size].to(device), order[batch_size:]
            lr = lr_min * (lr_max / lr_min) ** (step / max(steps - 1, 1))
            for group in optimizer.param_groups:
                group["lr"] = lr
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            avg = smoothing * avg + (1 - smoothing) * loss.item()
            smoothed = avg / (1 - smoothing ** (step + 1))  # bias correction, as in Adam
            if not math.isfinite(smoothed) or smoothed > 4 * best:
                break  # the loss exploded: larger learning rates tell nothing more
            best = min(best, smoothed)
            lrs.append(lr)
            losses.append(smoothed)
    return LRRangeResult(lrs, losses)


def plot_lr_range(result, ax=None):
    """Plot an :class:`LRRangeResult`: smoothed loss against learning rate on a log-x axis; returns the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    ax.plot(result.lrs, result.losses)
    ax.set_xscale("log")
    ax.set(title="Learning-rate range test", xlabel="learning rate (log scale)", ylabel="smoothed training loss")
    ax.grid(alpha=0.3, which="both")
    return ax
