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
* Results of :func:`compare` come from :mod:`optlib.store`: runs keyed by their content (code, settings,
  data), the store shipped with the book first, then the user cache, else trained (in parallel worker
  processes, one thread each: bit-identical to a serial run) and written to the user cache.
* Statistics: :meth:`Comparison.table` (mean ± std over seeds, paired differences against a baseline with a
  95 % interval, see :mod:`optlib.stats`), :meth:`Comparison.verdict`, :meth:`Comparison.plot`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import hashlib
import importlib
import math
import numbers
import os
import pickle
import sys
import time
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from . import data as _data
from . import stats, store
from .book import quick_mode

if TYPE_CHECKING:  # for the annotations only: matplotlib is imported where a plot is drawn
    import matplotlib.axes
    import matplotlib.figure

QUICK = dict(n_train=10_000, n_test=2_000, max_epochs=3)


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the loss became NaN or infinite."""


def case_study_settings(quick=None):
    """Sizes of the case study: ``dict(quick, n_train, n_test, max_epochs)``, None meaning "all".

    `quick` defaults to the environment variable ``OPTBOOK_QUICK`` (``1``/``true``/``yes`` turn it on)."""
    if quick is None:
        quick = quick_mode()
    if quick:
        return dict(quick=True, **QUICK)
    return dict(quick=False, n_train=None, n_test=None, max_epochs=None)


def mlp(seed=0):
    """The case-study model: 784 -> 128 -> 128 -> 10 with ReLUs, initialised from `seed`.

    It outputs logits; softmax is inside the cross-entropy loss."""
    with torch.random.fork_rng(devices=[]):  # a seeded init that leaves the caller's random state alone
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))


def cnn(seed=0):
    """A small CNN, the benchmark's second workload: two 3x3 convolutions (16 and 32 channels, ReLU,
    2x2 max-pooling) and a linear layer, 784 pixels -> 10 logits, initialised from `seed`.

    It takes the same flat 784-pixel rows as :func:`mlp` (reshaped to 1x28x28 inside), so the data and
    the trainer are shared; its weights are shared across the image, unlike the MLP's."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Unflatten(1, (1, 28, 28)),
                             nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(32 * 7 * 7, 10))


def mlp_bn(seed=0):
    """The case-study MLP with batch normalization (Ioffe & Szegedy, 2015) after each hidden linear layer,
    before the ReLU (chapter 14). In evaluation it uses the running statistics."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(784, 128), nn.BatchNorm1d(128), nn.ReLU(),
                             nn.Linear(128, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, 10))


DROPOUT = 0.2  # a common rate for small fully connected layers; the paper's 0.5 is for much wider ones


def mlp_dropout(seed=0):
    """The case-study MLP with dropout (Srivastava et al., 2014) of rate :data:`DROPOUT` after each hidden
    ReLU (chapter 14). Its masks draw from torch's global generator, which :func:`_train` seeds with the
    run's seed, so a run is reproducible."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Dropout(DROPOUT),
                             nn.Linear(128, 128), nn.ReLU(), nn.Dropout(DROPOUT), nn.Linear(128, 10))


# The models a run can train, by name (the `model` argument of train/compare); the description is what
# the result key records ("mlp" keeps the key it had before there was a choice).
MODELS = {"mlp": (mlp, "mlp-784-128-128-10"), "cnn": (cnn, "cnn-c16-c32-10"),
          "mlp-bn": (mlp_bn, "mlp-784-128bn-128bn-10"), "mlp-dropout": (mlp_dropout, f"mlp-784-128-128-10-dropout{DROPOUT}")}
# The order in which an epoch visits the training examples (the `order` argument): a new random
# permutation every epoch (SGD's assumption), one permutation drawn once, or sorted by class.
ORDERS = ("reshuffle", "once", "sorted")


def _check_model(model):
    if model not in MODELS:
        raise ValueError(f"model must be one of {list(MODELS)}, got {model!r}")


def _check_order(order):
    if order not in ORDERS:
        raise ValueError(f"order must be one of {list(ORDERS)}, got {order!r}")


def stratified_indices(y, n, seed=0):
    """Sorted indices of `n` examples of labels `y`, the same number from each class, chosen by `seed`."""
    g = torch.Generator().manual_seed(seed)
    classes = torch.unique(y)
    keep = []
    for i, c in enumerate(classes.tolist()):
        members = (y == c).nonzero().flatten()
        k = n // len(classes) + (i < n % len(classes))
        keep.append(members[torch.randperm(len(members), generator=g)[:k]])
    return torch.cat(keep).sort().values


def subset(x, y, n, seed=0):
    """`n` examples of (x, y), the same number from each class (stratified), chosen by `seed`."""
    if n is None or n >= len(y):
        return x, y
    keep = stratified_indices(y, n, seed)
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

    train_loss: list[float] = dataclasses.field(default_factory=list)
    train_acc: list[float] = dataclasses.field(default_factory=list)
    test_loss: list[float] = dataclasses.field(default_factory=list)
    test_acc: list[float] = dataclasses.field(default_factory=list)
    lr: list[float] = dataclasses.field(default_factory=list)  # learning rate of the first group at the epoch's end
    epoch_time: list[float] = dataclasses.field(default_factory=list)  # seconds of training (without evaluation)
    diverged_at: tuple[int, int] | None = None
    # test loss/accuracy per epoch of the optimizer's other evaluation views, e.g. Lookahead's slow weights:
    # {view: {"test_loss": [...], "test_acc": [...]}} (see :func:`_train`)
    views: dict[str, dict[str, list[float]]] = dataclasses.field(default_factory=dict)
    report: dict[str, Any] = dataclasses.field(default_factory=dict)  # the optimizer's training_report()
    confusion: list[list[int]] | None = None  # final test confusion counts [true class][predicted]; None if diverged

    @property
    def epochs(self) -> int:
        return len(self.test_acc)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> History:
        d = dict(d)
        if d.get("diverged_at") is not None:
            d["diverged_at"] = tuple(d["diverged_at"])
        return cls(**d)

    def __eq__(self, other: object) -> bool:  # as dataclass equality, except NaN equals NaN (diverged curves)
        if not isinstance(other, History):
            return NotImplemented
        same = lambda a, b: a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
        def equal(a, b):
            if isinstance(a, dict) and isinstance(b, dict):
                return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
            if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
                return len(a) == len(b) and all(map(equal, a, b))
            return same(a, b)
        return equal(self.to_dict(), other.to_dict())


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


_default: dict[str, Any] = {}  # the private copy of Fashion-MNIST that the case studies train on


def default_data():
    """Fashion-MNIST for the case studies: a private copy read from the verified files, never handed out
    by :func:`~optlib.data.load_fashion_mnist`, so that a caller's in-place change of those shared
    tensors (``x.zero_()``) cannot reach the training runs nor the stored results."""
    if "tensors" not in _default:
        _data.load_fashion_mnist()  # finds (or downloads) and verifies the files
        directory = _data.find()
        arrays = [_data.read_idx(directory / name) for name in _data.FILES]  # fresh, SHA-256 checked
        xtr, ytr, xte, yte = (torch.tensor(a) for a in arrays)
        _default["tensors"] = ((xtr.reshape(len(xtr), -1).float().div_(255), ytr.long()),
                               (xte.reshape(len(xte), -1).float().div_(255), yte.long()))
    return _default["tensors"]


def data_identity(data):
    """What identifies the data of a run in its key: the Fashion-MNIST files' SHA-256 for the default
    (verified on load), else a SHA-256 of the given tensors' content."""
    if data is None:
        return "fashion-mnist:" + _data.FILES["train-images-idx3-ubyte.gz"][2][:16]
    digest = hashlib.sha256()
    for t in (data[0][0], data[0][1], data[1][0], data[1][1]):
        t = t.detach().cpu().contiguous()
        digest.update(f"{t.dtype}{tuple(t.shape)}".encode())
        digest.update(t.numpy().tobytes())
    return digest.hexdigest()[:32]


def _prepare_data(data, n_train, n_test, device):
    """Fashion-MNIST (or `data`), reduced to the requested sizes and moved to `device` once."""
    (xtr, ytr), (xte, yte) = data if data is not None else default_data()
    xtr, ytr = subset(xtr, ytr, n_train)
    xte, yte = subset(xte, yte, n_test)
    return [t.to(device) for t in (xtr, ytr, xte, yte)]


def _positive_int(name, value, allow_none=False):
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer{' or None' if allow_none else ''}, got {value!r}")


def _check_common(epochs, batch_size, n_train, n_test, seeds, scheduler_step):
    """ValueError naming the argument for every bad size shared by :func:`train` and :func:`compare`."""
    _positive_int("epochs", epochs)
    _positive_int("batch_size", batch_size)
    _positive_int("n_train", n_train, allow_none=True)
    _positive_int("n_test", n_test, allow_none=True)
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if scheduler_step not in ("epoch", "batch"):
        raise ValueError(f'scheduler_step must be "epoch" or "batch", got {scheduler_step!r}')


def _interactive():
    """Whether progress bars will be seen live: False inside a kernel that no JupyterLab/Notebook server
    started (the non-interactive execution of the book build), where a widget bar would be saved frozen.
    ``OPTLIB_PROGRESS=bars`` / ``=summary`` overrides."""
    choice = os.environ.get("OPTLIB_PROGRESS", "").strip().lower()
    if choice in ("bars", "summary"):
        return choice == "bars"
    shell = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
    in_kernel = shell is not None and "IPKernelApp" in shell.config
    return not in_kernel or "JPY_SESSION_NAME" in os.environ  # jupyter_server sets it for its kernels


def _bar(total, desc, unit, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=not (enabled and _interactive()), leave=True)


def _close_complete(bar):
    """Close a bar as finished (green in JupyterLab) even when the work ended early on purpose."""
    if not bar.disable and bar.total is not None and bar.n < bar.total:
        bar.total = bar.n
        bar.refresh()
    bar.close()


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


@torch.no_grad()
def confusion(model, x, y, batch_size=5000):
    """Counts ``[true class][predicted class]`` of `model` on (x, y), as nested lists of ints."""
    model.eval()
    n = int(y.max()) + 1 if len(y) else 0
    counts = torch.zeros(n * n, dtype=torch.long)
    for i in range(0, len(y), batch_size):
        pred = model(x[i:i + batch_size]).argmax(1).clamp(max=n - 1)
        counts += torch.bincount((y[i:i + batch_size] * n + pred).cpu(), minlength=n * n)
    return counts.view(n, n).tolist()


def _resolve(quick: bool | None, epochs: int, n_train: int | None, n_test: int | None,
             device: str | torch.device | None) -> tuple[dict[str, Any], int, int | None, int | None, torch.device]:
    """The case-study settings (quick or full) and the sizes and device they imply where none was given."""
    settings = case_study_settings(quick)
    epochs = min(epochs, settings["max_epochs"] or epochs)
    n_train = n_train if n_train is not None else settings["n_train"]
    n_test = n_test if n_test is not None else settings["n_test"]
    device = torch.device(device) if device is not None else default_device()
    return settings, epochs, n_train, n_test, device


def train(make_optimizer: tuple | Callable[..., torch.optim.Optimizer], epochs: int = 10, batch_size: int = 128,
          seed: int = 0, data: tuple | None = None, scheduler: tuple | Callable[..., Any] | None = None,
          scheduler_step: str = "epoch", device: str | torch.device | None = None, progress: bool = True,
          n_train: int | None = None, n_test: int | None = None, quick: bool | None = None,
          desc: str | None = None, threads: int | None = 1, model: str = "mlp",
          order: str = "reshuffle") -> History:
    """Train :func:`mlp` (or ``model="cnn"``: :func:`cnn`), initialised from `seed`, on Fashion-MNIST with
    the given optimizer; return a :class:`History`.

    make_optimizer: a spec ``(cls, kwargs)`` (see the module docstring) or a callable
        ``params -> optimizer``, e.g. ``lambda p: torch.optim.SGD(p, lr=0.1)`` or ``optlib.optim.Adam``.
    scheduler: None, a spec ``(cls, kwargs)`` or a callable ``optimizer -> LR scheduler``; it is stepped after
        every epoch (``scheduler_step="epoch"``, e.g. StepLR) or after every mini-batch (``"batch"``,
        e.g. OneCycleLR with ``total_steps = epochs * ceil(n_train / batch_size)``).
    data: ``((x_train, y_train), (x_test, y_test))``, default :func:`default_data` (Fashion-MNIST).
    n_train, n_test: use a stratified subset of this size; None takes the quick-mode size (see
        :func:`case_study_settings`, `quick`), i.e. everything unless ``OPTBOOK_QUICK=1``. Quick mode also
        caps `epochs` at 3.
    device: None picks the GPU when there is one. progress: a tqdm bar (`desc` labels it) when someone can
        watch it (see ``_interactive``).
    threads: torch CPU threads while training (1: see ``_threads``; None keeps torch's setting).
    model: a name of :data:`MODELS`. order: how each epoch visits the training images (:data:`ORDERS`):
        ``"reshuffle"`` (a new permutation every epoch, drawn from `seed`), ``"once"`` (one permutation,
        the same every epoch) or ``"sorted"`` (by class, as the data is stored).

    The history also records the optimizer's evaluation views (test loss and accuracy per epoch of, e.g.,
    Lookahead's slow weights: ``evaluation_views()``), its ``training_report()`` at the end (e.g. when
    SWATS switched) and the final test confusion counts.

    Bad arguments raise ValueError naming them. If the loss becomes NaN or infinite, or the parameters do
    after the epoch's last step (NaN test loss), training stops, a :class:`DivergenceWarning` says where,
    and the history records it (``diverged_at``); no exception is raised."""
    _check_common(epochs, batch_size, n_train, n_test, [seed], scheduler_step)
    _check_model(model)
    _check_order(order)
    settings, epochs, n_train, n_test, device = _resolve(quick, epochs, n_train, n_test, device)
    xtr, ytr, xte, yte = _prepare_data(data, n_train, n_test, device)
    with _threads(threads, device):
        return _train(make_optimizer, epochs, batch_size, seed, scheduler, scheduler_step, device, progress,
                      desc, xtr, ytr, xte, yte, model, order)


def _train(make_optimizer, epochs, batch_size, seed, scheduler, scheduler_step, device, progress, desc,
           xtr, ytr, xte, yte, model_name="mlp", order_name="reshuffle"):
    """The loop of :func:`train`, on data already on `device`."""
    model = MODELS[model_name][0](seed).to(device)
    optimizer = build_optimizer(make_optimizer, model.parameters())
    sched = build_optimizer(scheduler, optimizer) if scheduler is not None else None
    shuffle = torch.Generator().manual_seed(seed)  # its own generator: the order depends on `seed` only
    fixed = (torch.randperm(len(ytr), generator=shuffle).to(device) if order_name == "once"
             else torch.argsort(ytr.cpu(), stable=True).to(device) if order_name == "sorted" else None)
    views = getattr(optimizer, "evaluation_views", dict)()  # e.g. Lookahead: {"slow weights": context}
    history = History(views={name: {"test_loss": [], "test_acc": []} for name in views})

    bar = _bar(epochs, desc, "epoch", progress)
    with torch.random.fork_rng(devices=[]):  # dropout draws from the global generator: seeded, then restored
        torch.manual_seed(seed)
        for epoch in range(1, epochs + 1):
            if not _epoch(history, epoch, epochs, model, optimizer, sched, scheduler_step, shuffle, fixed, views,
                          batch_size, bar, xtr, ytr, xte, yte, device):
                break
    if not history.diverged_at:
        report = getattr(optimizer, "training_report", None)
        history.report = report() if report is not None else {}
        history.confusion = confusion(model, xte, yte)
    _close_complete(bar)  # a diverged run is a finished experiment, not a broken bar
    return history


def _epoch(history, epoch, epochs, model, optimizer, sched, scheduler_step, shuffle, fixed, views, batch_size,
           bar, xtr, ytr, xte, yte, device):
    """One epoch of :func:`_train`, recorded in `history`; False when training diverged."""
    model.train()
    start = time.perf_counter()
    order = fixed if fixed is not None else torch.randperm(len(ytr), generator=shuffle).to(device)
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
    elapsed = time.perf_counter() - start
    if not history.diverged_at:
        train_lr = float(optimizer.param_groups[0]["lr"])
        if sched is not None and scheduler_step == "epoch":
            sched.step()
        test_loss, test_acc = evaluate(model, xte, yte)
        if not math.isfinite(test_loss):  # the last step blew the parameters up: no later loss shows it
            history.diverged_at, value = (epoch, step), test_loss
    if history.diverged_at:
        message = (f"diverged at epoch {epoch}, step {step}: loss = {value}; "
                   f"the learning rate is probably too large")
        warnings.warn(message, DivergenceWarning, stacklevel=4)
        nan = [math.nan] * (epochs - epoch + 1)
        for curve in (history.train_loss, history.train_acc, history.test_loss, history.test_acc,
                      history.lr, history.epoch_time):
            curve.extend(nan)
        for view in history.views.values():
            for curve in view.values():
                curve.extend(nan)
        bar.set_postfix_str("diverged")
        return False
    history.epoch_time.append(elapsed)
    history.train_loss.append(loss_sum / len(ytr))
    history.train_acc.append(correct.item() / len(ytr))
    history.lr.append(train_lr)
    history.test_loss.append(test_loss)
    history.test_acc.append(test_acc)
    for name, view in views.items():
        with view():
            view_loss, view_acc = evaluate(model, xte, yte)
        history.views[name]["test_loss"].append(view_loss)
        history.views[name]["test_acc"].append(view_acc)
    bar.update()
    bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}", test_acc=f"{test_acc:.4f}")
    return True


# ---------------------------------------------------------------------------------------------- compare

def describe(spec):
    """A stable, JSON-able description of an optimizer or scheduler spec, for the result key.

    Classes and functions become ``{"callable": "module.qualname"}``; kwargs are described recursively.
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
        return {"callable": f"{spec.__module__}.{name}"}
    raise TypeError(f"cannot describe {spec!r} for the result store: give runs as specs such as "
                    f"(torch.optim.SGD, dict(lr=0.1)), or pass cache=False")


def undescribe(description):
    """The spec that :func:`describe` described (classes and functions imported by name)."""
    if isinstance(description, list):
        return tuple(undescribe(d) for d in description)
    if isinstance(description, dict):
        if set(description) == {"callable"}:
            module, _, qualname = description["callable"].rpartition(".")
            obj = importlib.import_module(module)
            for part in qualname.split("."):  # nested qualnames cannot be split at the module boundary
                obj = getattr(obj, part)
            return obj
        if set(description) == {"tensor"}:
            return torch.tensor(description["tensor"])
        return {k: undescribe(v) for k, v in description.items()}
    return description


def trainer_hash(model="mlp"):
    """Hash of the source that every run of `model` executes: the loop, the model, the data preparation."""
    return store.source_hash(_train, _epoch, MODELS[model][0], evaluate, confusion, build_optimizer, subset,
                             _prepare_data, default_data)


def run_config(spec, seed, epochs, batch_size, scheduler, scheduler_step, data_id, n_train, n_test, device,
               quick=False, model="mlp", order="reshuffle"):
    """Everything that determines a run's numbers (not its display name): the key of :mod:`optlib.store`."""
    _check_model(model)
    _check_order(order)
    return dict(format=store.FORMAT, trainer=trainer_hash(model), model=MODELS[model][1], order=order, data=data_id,
                n_train=n_train, n_test=n_test, epochs=epochs, batch_size=batch_size, seed=seed,
                optimizer=describe(spec), optimizer_source=store.spec_hash(spec),
                scheduler=describe(scheduler), scheduler_source=store.spec_hash(scheduler),
                scheduler_step=scheduler_step, device=device.type, torch=torch.__version__, quick=bool(quick))


def retrain(config):
    """Train the run a stored `config` describes (default data only) and return its history dict."""
    if not str(config["data"]).startswith("fashion-mnist:"):
        raise ValueError(f"config data {config['data']!r}: only runs on the default data can be retrained")
    return train(undescribe(config["optimizer"]), epochs=config["epochs"], batch_size=config["batch_size"],
                 seed=config["seed"], scheduler=undescribe(config["scheduler"]),
                 scheduler_step=config["scheduler_step"], device=config["device"], progress=False,
                 n_train=config["n_train"], n_test=config["n_test"], quick=False,
                 model=next(k for k, (_, d) in MODELS.items() if d == config["model"]),
                 order=config["order"]).to_dict()


def cache_dir():
    """The user cache of runs (see :func:`optlib.store.cache_dir`)."""
    return store.cache_dir()


def default_workers():
    """Worker processes for training: ``$OPTLIB_WORKERS``, else one per core this process may use."""
    value = os.environ.get("OPTLIB_WORKERS")
    if value:
        try:
            _positive_int("OPTLIB_WORKERS", int(value))
        except ValueError:
            raise ValueError(f"OPTLIB_WORKERS must be a positive integer, got {value!r}") from None
        return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


_worker_data: dict[str, Any] = {}


def _worker_init(data):
    torch.set_num_threads(1)  # one core per worker: with more, OpenMP threads of the workers fight
    _worker_data["data"] = data


def _worker_train(job):
    with warnings.catch_warnings(record=True) as caught:  # re-issued by the parent, where people see them
        warnings.simplefilter("always", DivergenceWarning)
        history = train(data=_worker_data["data"], progress=False, quick=False, threads=1, **job)
    return history.to_dict(), [str(w.message) for w in caught if issubclass(w.category, DivergenceWarning)]


def _train_all(jobs, data, workers, progress, done=None):
    """Train `jobs` (kwargs of :func:`train`), in `workers` processes when there are several; return
    their histories in order. One thread per run either way, so the numbers do not depend on `workers`.
    ``done(i, history)`` is called as each run finishes, so that an interruption loses only the runs
    still training (a long refresh resumes run by run)."""
    if not jobs:
        return []  # everything came from the store: no bar at all
    histories = [None] * len(jobs)
    bar = _bar(sum(j["epochs"] for j in jobs), f"training {len(jobs)} run(s)", "epoch", progress)
    start = time.perf_counter()

    def finished(i, history):
        histories[i] = history
        if done is not None:
            done(i, history)
        bar.update(jobs[i]["epochs"])

    parallel = workers > 1 and len(jobs) > 1
    if parallel:
        try:
            pickle.dumps((jobs, data))
        except (pickle.PicklingError, AttributeError, TypeError):
            parallel = False  # a lambda or a local class: train here
    if parallel:
        _train_in_workers(jobs, data, min(workers, len(jobs)), finished)
    else:
        for i, job in enumerate(jobs):
            finished(i, train(data=data, progress=False, quick=False, threads=1, **job))
    _close_complete(bar)
    if progress and not _interactive():  # the static site gets one line instead of a frozen bar
        print(f"trained {len(jobs)} run(s), {sum(j['epochs'] for j in jobs)} epochs, in "
              f"{time.perf_counter() - start:.0f} s ({min(workers, len(jobs)) if parallel else 1} process(es))")
    return histories


def _train_in_workers(jobs, data, workers, finished):
    import multiprocessing

    # fork where there is one, as torch's DataLoader does (workers set 1 thread before any OpenMP work):
    # it starts in milliseconds and inherits the data; spawn would re-run a script without a main guard.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    if data is None and method == "fork":
        default_data()  # loaded once here and inherited, instead of once per worker
    pool = concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method),
                                                  initializer=_worker_init, initargs=(data,))
    try:
        futures = {pool.submit(_worker_train, job): i for i, job in enumerate(jobs)}
        for future in concurrent.futures.as_completed(futures):
            i = futures[future]
            h, messages = future.result()
            for message in messages:
                warnings.warn(f"{jobs[i]['desc']}: {message}", DivergenceWarning, stacklevel=5)
            finished(i, History.from_dict(h))
    except BaseException:
        # an interrupt (or a failed run): stop the workers now instead of waiting for their runs to end
        for process in list((pool._processes or {}).values()):
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def compare(runs: dict[str, tuple], seeds: int | Iterable[int] = (0,), epochs: int = 10, batch_size: int = 128,
            scheduler: tuple | None = None, scheduler_step: str = "epoch", data: tuple | None = None,
            n_train: int | None = None, n_test: int | None = None, quick: bool | None = None,
            device: str | torch.device | None = None, progress: bool = True, cache: bool = True,
            workers: int | None = None, model: str = "mlp", order: str = "reshuffle") -> Comparison:
    """Train the case-study MLP with each optimizer of `runs` and each seed; return a :class:`Comparison`.

    runs: ``{name: spec}``, a spec being ``(cls, kwargs)`` or ``(wrapper, kwargs, inner_spec)``, e.g.
        ``{"SGD": (torch.optim.SGD, dict(lr=0.1)), "Adam": (optlib.optim.Adam, dict(lr=1e-3))}``.
    scheduler: a spec ``(cls, kwargs)`` applied to every run (see :func:`train` for `scheduler_step`).
    workers: processes that train the missing runs (default :func:`default_workers`; 1 in quick mode,
        where starting a process costs more than a run). Every run uses one torch thread, in a worker
        or not, so that the numbers do not depend on `workers`.
    model: ``"mlp"`` (the course's), ``"cnn"``, ``"mlp-bn"``, ``"mlp-dropout"`` (:data:`MODELS`).
    order: how each epoch visits the training images (:data:`ORDERS`, see :func:`train`).
    Other arguments as in :func:`train`; quick mode (``OPTBOOK_QUICK=1``) applies to sizes not given.

    With `cache`, each (run, seed) is looked up in :mod:`optlib.store` by its content (code, settings, data;
    not its name), trained only when absent, and written to the user cache. Quick-mode runs always train.
    With ``OPTLIB_NO_TRAIN=1`` a missing run raises :class:`optlib.store.StoreMiss` listing all of them."""
    if not isinstance(runs, dict) or not runs:
        raise ValueError(f"runs must be a non-empty dict {{name: spec}}, got {runs!r}")
    seeds = tuple(seeds) if isinstance(seeds, Iterable) else (seeds,)  # a lone seed (checked below)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be a non-empty sequence of distinct seeds, got {seeds!r}")
    _check_common(epochs, batch_size, n_train, n_test, seeds, scheduler_step)
    _check_model(model)
    _check_order(order)
    settings, epochs, n_train, n_test, device = _resolve(quick, epochs, n_train, n_test, device)
    if workers is None:
        workers = 1 if settings["quick"] else default_workers()
    _positive_int("workers", workers)
    use_store = cache and not settings["quick"]
    data_id = data_identity(data) if cache else None

    results = {name: [None] * len(seeds) for name in runs}
    pending = []  # (name, seed index, job, config)
    for name, spec in runs.items():
        for j, seed in enumerate(seeds):
            config = (run_config(spec, seed, epochs, batch_size, scheduler, scheduler_step, data_id, n_train,
                                 n_test, device, settings["quick"], model, order) if use_store else None)
            found = store.lookup(config) if use_store else None
            if found is not None:
                results[name][j] = History.from_dict(found)
                continue
            job = dict(make_optimizer=spec, epochs=epochs, batch_size=batch_size, seed=seed, scheduler=scheduler,
                       scheduler_step=scheduler_step, device=device, n_train=n_train, n_test=n_test,
                       desc=f"{name} (seed {seed})", model=model, order=order)
            pending.append((name, j, job, config))
    if pending and use_store and store.training_forbidden():
        raise store.miss_error([(job["desc"], config) for _, _, job, config in pending])
    def done(i, history):
        name, j, _, config = pending[i]
        results[name][j] = history
        if use_store:
            store.save(config, history.to_dict())

    _train_all([p[2] for p in pending], data, workers, progress, done)
    return Comparison(results, seeds, dict(epochs=epochs, batch_size=batch_size, n_train=n_train, n_test=n_test,
                                           device=device.type, data=data_id, scheduler=scheduler,
                                           scheduler_step=scheduler_step, model=model, order=order))


_METRICS = dict(final_acc=("final test accuracy", lambda h: h.test_acc[-1]),
                best_acc=("best test accuracy", lambda h: max(_finite_or_nan(h.test_acc))),
                final_train_loss=("final training loss", lambda h: h.train_loss[-1]),
                final_test_loss=("final test loss", lambda h: h.test_loss[-1]))


_CURVES = ("test_acc", "test_loss", "train_acc", "train_loss")  # per-epoch metrics (with an epoch)


def _finite_or_nan(values):
    finite = [v for v in values if math.isfinite(v)]
    return finite or [math.nan]


@dataclasses.dataclass
class Comparison:
    """Results of :func:`compare`: ``runs[name]`` is the list of :class:`History`, one per seed (same order
    as `seeds`: same seed, same initialisation and batch order, so differences can be paired)."""

    runs: dict
    seeds: tuple
    config: dict = dataclasses.field(default_factory=dict)

    def values(self, name: str, metric: str = "final_acc", epoch: int | None = None) -> list[float]:
        """One number per seed for run `name`: ``final_acc``, ``best_acc``, ``final_train_loss``,
        ``final_test_loss``; or, with `epoch` (counted from 1), a curve of :class:`History` after that
        epoch: ``test_acc``, ``test_loss``, ``train_acc``, ``train_loss``."""
        if name not in self.runs:
            raise ValueError(f"name {name!r} is not a run of this comparison: {list(self.runs)}")
        if epoch is None:
            if metric not in _METRICS:
                raise ValueError(f"metric must be one of {list(_METRICS)}, got {metric!r}")
            return [_METRICS[metric][1](h) for h in self.runs[name]]
        if metric not in _CURVES:
            raise ValueError(f"with an epoch, metric must be one of {list(_CURVES)}, got {metric!r}")
        epochs = self.runs[name][0].epochs
        if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral) or not 1 <= epoch <= epochs:
            raise ValueError(f"epoch must be an integer in 1..{epochs}, got {epoch!r}")
        return [getattr(h, metric)[epoch - 1] for h in self.runs[name]]

    def difference(self, name: str, baseline: str, metric: str = "final_acc",
                   epoch: int | None = None) -> stats.Difference:
        """:class:`optlib.stats.Difference` of `name` minus `baseline`, paired over seeds (after `epoch`
        for a curve metric, see :meth:`values`)."""
        return stats.paired_difference(self.values(name, metric, epoch), self.values(baseline, metric, epoch))

    def verdict(self, name: str, baseline: str, metric: str = "final_acc", epoch: int | None = None) -> str:
        """``"higher by 0.8 ± 0.3 points (95 % interval, 3 seeds)"`` or ``"no difference detectable ..."``,
        for `metric` of `name` against `baseline`."""
        loss = metric.endswith("loss")
        return stats.verdict(self.difference(name, baseline, metric, epoch), scale=1.0 if loss else 100.0,
                             unit="" if loss else "points", digits=3 if loss else 1)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per run: final and best test accuracy (mean, std over seeds; std is NaN for one
        seed), epoch time, divergences."""
        rows = []
        for name, hs in self.runs.items():
            final = torch.tensor([h.test_acc[-1] for h in hs], dtype=torch.float64)
            mean_acc = torch.tensor([h.test_acc for h in hs], dtype=torch.float64).mean(0)
            best = int(mean_acc.nan_to_num(-1).argmax()) if len(mean_acc) else 0
            times = [t for h in hs for t in h.epoch_time if not math.isnan(t)]
            rows.append(dict(run=name, final_acc=final.mean().item(),
                             final_acc_std=final.std().item() if len(hs) > 1 else math.nan,
                             final_loss=sum(h.test_loss[-1] for h in hs) / len(hs),
                             final_train_loss=sum(h.train_loss[-1] for h in hs) / len(hs),
                             best_acc=mean_acc[best].item(), best_epoch=best + 1,
                             epoch_time=sum(times) / len(times) if times else math.nan,
                             diverged=sum(h.diverged_at is not None for h in hs)))
        return rows

    def table(self, baseline: str | None = None, metric: str = "final_acc") -> Table:
        """The comparison as a :class:`Table` (prints as text, shows as a scrollable HTML table): per run
        the final test accuracy and training loss (mean ± std over seeds), the best epoch, and, against
        `baseline`, the paired difference of `metric` with its 95 % interval and what it supports."""
        if baseline is not None and baseline not in self.runs:
            raise ValueError(f"baseline {baseline!r} is not a run of this comparison: {list(self.runs)}")
        # no seconds per epoch: recorded runs were timed on whatever machine and load recorded them
        head = ["run", "final test acc", "final train loss", "best test acc (epoch)", "diverged"]
        if baseline is not None:
            head.append(f"vs {baseline}")
        body = []
        for r in self.rows():
            name = r["run"]
            row = [name, stats.mean_std(self.values(name, "final_acc")),
                   stats.mean_std(self.values(name, "final_train_loss"), scale=1, unit="", digits=4),
                   "diverged" if math.isnan(r["best_acc"]) else f"{100 * r['best_acc']:.2f} % ({r['best_epoch']})",
                   f"{r['diverged']}/{len(self.seeds)}"]
            if baseline is not None:
                row.append("(baseline)" if name == baseline else self.verdict(name, baseline, metric))
            body.append(row)
        n = len(self.seeds)
        note = (f"mean ± std over {n} seeds {tuple(self.seeds)}" if n > 1 else f"1 seed ({self.seeds[0]}): no spread")
        if baseline is not None:
            note += f"; differences in {_METRICS[metric][0]}, paired by seed, 95 % t interval"
        return Table(head, body, note=note)

    def summary(self, baseline: str | None = None) -> Table:
        """Same as :meth:`table`."""
        return self.table(baseline)

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()

    def plot(self, band: str | None = "std") -> matplotlib.figure.Figure:
        """Training loss beside test accuracy per epoch: the mean over seeds, with a band over seeds
        (``"std"``: ± one standard deviation, ``"minmax"``, or None). The legend sits under the axes, off
        the data; readable at about 700 px. Returns the matplotlib figure."""
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        if band not in ("std", "minmax", None):
            raise ValueError(f'band must be "std", "minmax" or None, got {band!r}')
        fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.8), layout="constrained")
        for name, hs in self.runs.items():
            for ax, key in zip(axes, ("train_loss", "test_acc")):
                curves = torch.tensor([getattr(h, key) for h in hs], dtype=torch.float64)
                if key == "test_acc":
                    curves = 100 * curves
                epochs = range(1, curves.shape[1] + 1)
                mean = curves.mean(0)
                (line,) = ax.plot(epochs, mean, marker=".", label=name if key == "train_loss" else None)
                if band and len(hs) > 1:
                    lo, hi = ((curves.min(0).values, curves.max(0).values) if band == "minmax"
                              else (mean - curves.std(0), mean + curves.std(0)))
                    ax.fill_between(epochs, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
        n = len(self.seeds)
        spread = {"minmax": "band: min to max", "std": "band: ± 1 std"}.get(band) if n > 1 and band else None
        fig.suptitle(f"mean over {n} seeds{', ' + spread if spread else ''}" if n > 1 else "1 seed", fontsize=10)
        for ax, title, ylabel in zip(axes, ("Training loss", "Test accuracy"), ("cross-entropy loss", "accuracy (%)")):
            ax.set(title=title, xlabel="epoch", ylabel=ylabel)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
            ax.grid(alpha=0.3)
        fig.legend(loc="outside lower center", ncols=min(len(self.runs), 3), frameon=False)
        return fig


class Table(str):
    """A plain-text table that a notebook displays as HTML (scrolling sideways inside the page when wide)."""

    head: list[str]
    body: list[list[Any]]
    note: str

    def __new__(cls, head: list[str], body: list[list[Any]], note: str = "") -> Table:
        widths = [max(len(str(row[i])) for row in [head, *body]) for i in range(len(head))]
        lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in [head, *body]]
        lines.insert(1, "  ".join("-" * w for w in widths))
        self = super().__new__(cls, "\n".join(lines + ([note] if note else [])))
        self.head, self.body, self.note = head, body, note
        return self

    def _repr_html_(self) -> str:
        import html

        def cell(c):  # "+1.4 ± 1.7 *" is one value: a narrow column must not break it across lines
            text = html.escape(str(c)).replace(" ± ", "\u00a0±\u00a0")
            return text[:-2] + "\u00a0*" if text.endswith(" *") else text

        cells = lambda row, tag: "".join(f"<{tag}>{cell(c)}</{tag}>" for c in row)
        rows = "".join(f"<tr>{cells(r, 'td')}</tr>" for r in self.body)
        caption = f"<caption>{html.escape(self.note)}</caption>" if self.note else ""
        return (f'<div style="overflow-x: auto; max-width: 100%"><table>{caption}<thead><tr>'
                f"{cells(self.head, 'th')}</tr></thead><tbody>{rows}</tbody></table></div>")


# ---------------------------------------------------------------------------------------- LR range test

@dataclasses.dataclass
class LRRangeResult:
    """Learning rates tried, one per mini-batch, and the smoothed training loss after each."""

    lrs: list
    losses: list

    def plot(self, ax: matplotlib.axes.Axes | None = None) -> matplotlib.axes.Axes:
        """Smoothed loss against learning rate, log-x axis."""
        return plot_lr_range(self, ax)


def lr_range_test(make_optimizer: tuple | Callable[..., torch.optim.Optimizer], lr_min: float = 1e-5,
                  lr_max: float = 10.0, steps: int = 300, batch_size: int = 128, seed: int = 0,
                  data: tuple | None = None, smoothing: float = 0.98, device: str | torch.device | None = None,
                  progress: bool = True, n_train: int | None = None, quick: bool | None = None,
                  threads: int | None = 1) -> LRRangeResult:
    """Leslie Smith's learning-rate range test on the case-study MLP.

    The learning rate grows exponentially from `lr_min` to `lr_max` over `steps` mini-batches (set on every
    parameter group before each step, overriding the optimizer's own lr); the training loss, smoothed by an
    exponential moving average (`smoothing`, bias-corrected), is recorded after each. The test stops early
    when the smoothed loss exceeds 4 times the best seen, or is not finite. A good learning rate is usually
    about a tenth of where the loss is lowest. Returns an :class:`LRRangeResult` (``.plot()``).
    Bad arguments raise ValueError naming them; the early stop closes the progress bar as complete."""
    for name, value in (("lr_min", lr_min), ("lr_max", lr_max)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < math.inf:
            raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    if not lr_min < lr_max:
        raise ValueError(f"lr_min must be smaller than lr_max, got lr_min={lr_min!r}, lr_max={lr_max!r}")
    if isinstance(smoothing, bool) or not isinstance(smoothing, numbers.Real) or not 0 <= smoothing < 1:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing!r}")
    _positive_int("steps", steps)
    _check_common(1, batch_size, n_train, None, [seed], "epoch")
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
        bar = _bar(steps, "LR range test", "step", progress)
        for step in range(steps):
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
            bar.update()
        _close_complete(bar)  # stopping when the loss explodes is the test's normal end, not an error
    return LRRangeResult(lrs, losses)


def plot_lr_range(result: LRRangeResult, ax: matplotlib.axes.Axes | None = None) -> matplotlib.axes.Axes:
    """Plot an :class:`LRRangeResult`: smoothed loss against learning rate on a log-x axis; returns the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    ax.plot(result.lrs, result.losses)
    ax.set_xscale("log")
    ax.set(title="Learning-rate range test", xlabel="learning rate (log scale)", ylabel="smoothed training loss")
    ax.grid(alpha=0.3, which="both")
    return ax
