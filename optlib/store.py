"""The results store of the case studies: runs keyed by their content, shipped with the book.

A run (one optimizer, one seed) is identified by everything that determines its numbers
(:func:`run_config`): the optimizer and scheduler specs, a hash of the source code they execute in
``optlib`` (:func:`source_hash`), the trainer's source, the data's identity and subset sizes, epochs, batch
size, seed, device type and torch version. Not its display name: two chapters asking for the same run get
the same entry. Its key is the SHA-256 of that configuration.

Lookup order (:func:`lookup`): the **shipped store** (``results/*.jsonl`` in the repository, read-only,
or ``$OPTLIB_STORE``), then the **user cache** (one JSON file per run in ``$OPTLIB_CACHE``, default
``~/.cache/optlib/runs``); a miss trains and writes the user cache. Every entry is validated on load
(keys, lengths, types, configuration); a wrong one counts as a miss.

Environment switches:

* ``OPTLIB_RETRAIN=1``: ignore the shipped store, train everything on this machine (into the user cache,
  so an interrupted refresh resumes where it stopped).
* ``OPTLIB_NO_TRAIN=1``: training is forbidden and only the shipped store counts; a miss raises
  :class:`StoreMiss` listing the missing or stale runs and the command that refreshes them. CI builds
  the book in full mode this way.
* ``OPTLIB_MANIFEST``: the file where every full-mode lookup records the key it served (default
  ``manifest.txt`` in the user cache), so that ``promote``/``prune`` know what the book uses.

Quick-mode runs (``OPTBOOK_QUICK=1``) are never looked up nor stored: they always train.

Command line (from the repository root)::

    python -m optlib.store status          # entries in each layer, manifest coverage
    python -m optlib.store reset-manifest  # before a full build: forget which keys were used
    # then build the book in full mode with every notebook executed (see REFRESH_COMMAND)
    python -m optlib.store promote         # user-cache runs the manifest lists -> shipped store
    python -m optlib.store prune           # drop shipped runs the manifest does not list
    python -m optlib.store check           # every manifest key shipped, every shipped entry valid
    python -m optlib.store verify -n 3     # retrain 3 random shipped runs, compare within tolerance
"""

from __future__ import annotations

import argparse
import dis
import hashlib
import inspect
import json
import math
import os
import sys
import tempfile
import types
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

FORMAT = 3  # the entry layout; part of every key (3: views, report, confusion)
CURVES = ("train_loss", "train_acc", "test_loss", "test_acc", "lr", "epoch_time")
EXTRAS = ("views", "report", "confusion")  # see optlib.train.History
# Every notebook must execute (Jupyter Book's execution cache would skip unchanged ones, and their runs
# would then be missing from the manifest and pruned); unchanged runs come from the shipped store.
REFRESH_COMMAND = ("python -m optlib.store reset-manifest && jupyter-book clean . --all && "
                   "OPTBOOK_QUICK=0 jupyter-book build . && python -m optlib.store promote && "
                   "python -m optlib.store prune")
# Largest |difference| allowed between a stored curve and one retrained on a CPU whose torch kernels use
# another instruction set (`verify`; with the same kernels it must be exact). Measured by
# benchmarks/reproduce.py (SGD momentum and Adam, 10 epochs, full data, retrained under AVX2 and plain
# kernels against AVX-512): largest train_loss 2.7e-3, test_loss 1.7e-2, train_acc 1.5e-3, test_acc 1.2e-2.
# Rounding differences grow chaotically over the epochs, to the size of the seed-to-seed spread, so
# these are about twice the measured values: they catch a wrong run, not a subtly changed one.
REPRODUCE_TOL = dict(train_loss=6e-3, test_loss=4e-2, train_acc=3e-3, test_acc=2.5e-2)


class StoreMiss(RuntimeError):
    """Training is forbidden (``OPTLIB_NO_TRAIN=1``) and some runs are not in the store."""


class StoreWarning(UserWarning):
    """The user cache could not be written: the results are returned but not kept."""


def _flag(name):
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def shipped_dir() -> Path:
    """The read-only store committed with the book: ``$OPTLIB_STORE`` or ``results/`` at the repository root
    (found from this file, not from the working directory: the notebooks run in ``book/``)."""
    return Path(os.environ.get("OPTLIB_STORE") or Path(__file__).resolve().parents[1] / "results")


def cache_dir() -> Path:
    """The user cache: ``$OPTLIB_CACHE`` or ``~/.cache/optlib/runs``."""
    return Path(os.environ.get("OPTLIB_CACHE") or Path.home() / ".cache" / "optlib" / "runs")


def manifest_path():
    return Path(os.environ.get("OPTLIB_MANIFEST") or cache_dir() / "manifest.txt")


# ------------------------------------------------------------------------------------------ source hashing

def _is_ours(obj):
    return (getattr(obj, "__module__", None) or "").split(".")[0] == "optlib"


def _code_names(code):
    """The global names and the attribute names that a code object (and the code nested in it) loads:
    ``rules.adam(...)`` gives ``{"rules"}`` and ``{"adam"}``. Attributes are kept apart so that a method
    call such as ``model.train()`` does not drag in a global function that happens to be called ``train``."""
    globals_, attrs = set(), set()
    for ins in dis.get_instructions(code):
        if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
            globals_.add(ins.argval)
        elif ins.opname in ("LOAD_ATTR", "LOAD_METHOD"):
            attrs.add(ins.argval)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            g, a = _code_names(const)
            globals_ |= g
            attrs |= a
    return globals_, attrs


def _functions_of(cls):
    for value in vars(cls).values():
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if callable(value) and not isinstance(value, type):
            # decorators (torch.no_grad) and torch's own step hooks, patched into the class on the first
            # optimizer built, wrap our functions: hash what they wrap, so the key is the same before and after
            value = inspect.unwrap(value)
        if isinstance(value, property):
            yield from (f for f in (value.fget, value.fset, value.fdel) if f)
        elif isinstance(value, types.FunctionType):
            yield value
        elif _is_ours(value) and callable(value):
            yield value  # a class attribute naming another optlib class or function (rule = rules.Adam)


def dependencies(*roots):
    """The optlib classes and functions that `roots` execute: their optlib base classes, the class
    attributes and methods, and the globals their code names, followed recursively."""
    seen, todo = {}, [r for r in roots if _is_ours(r)]
    while todo:
        obj = todo.pop()
        name = f"{obj.__module__}.{obj.__qualname__}"
        if name in seen:
            continue
        seen[name] = obj
        functions = []
        if isinstance(obj, type):
            todo += [b for b in obj.__mro__[1:] if _is_ours(b)]
            functions = list(_functions_of(obj))
            todo += [f for f in functions if not isinstance(f, types.FunctionType) and _is_ours(f)]
            functions = [f for f in functions if isinstance(f, types.FunctionType)]
        elif isinstance(obj, types.FunctionType):
            functions = [obj]
        for f in functions:
            found = []
            names, attrs = _code_names(f.__code__)
            for n in names:
                value = f.__globals__.get(n)
                if isinstance(value, types.ModuleType) and value.__name__.split(".")[0] == "optlib":
                    found += [getattr(value, a) for a in attrs if hasattr(value, a)]  # rules.adam
                elif value is not None:
                    found.append(value)
            found += [c.cell_contents for c in f.__closure__ or () if _cell_filled(c)]
            todo += [v for v in found if _is_ours(v) and (isinstance(v, (type, types.FunctionType)))
                     and f"{v.__module__}.{v.__qualname__}" not in seen]
    return seen


def _cell_filled(cell):
    try:
        cell.cell_contents  # noqa: B018 (an empty cell raises ValueError)
    except ValueError:
        return False
    return True


def _source(obj):
    """The source text of a class or function; for one without a file (defined interactively, generated),
    what stands for it: a function's bytecode and constants, a class's plain attributes (its methods are
    hashed on their own by :func:`dependencies`)."""
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        code = getattr(obj, "__code__", None)
        if code is not None:
            return repr(code.co_code) + repr([c for c in code.co_consts if not isinstance(c, types.CodeType)])
        plain = (str, int, float, bool, type(None), tuple, frozenset)
        return repr(sorted((k, repr(v)) for k, v in vars(obj).items() if isinstance(v, plain)))


# (roots, signature of optlib's files) -> hash: looking the sources up costs ~0.1 s per run
_hashes: dict[tuple, str | None] = {}


def _files_signature():
    """Modification times of every loaded optlib module: an edited file invalidates the cached hashes."""
    files = sorted(m.__file__ for name, m in list(sys.modules.items())
                   if name.split(".")[0] == "optlib" and getattr(m, "__file__", None))
    return tuple((f, os.stat(f).st_mtime_ns) for f in files if os.path.exists(f))


def forget_hashes():
    """Drop the cached source hashes (after changing code without changing a file, as tests do)."""
    _hashes.clear()


def source_hash(*roots):
    """SHA-256 (16 hex digits) of the source of everything :func:`dependencies` finds from `roots`;
    None when nothing of optlib is involved (torch's own classes are covered by the torch version)."""
    key = (roots, _files_signature())
    if key not in _hashes:
        _hashes[key] = _source_hash(roots)
    return _hashes[key]


def _source_hash(roots):
    deps = dependencies(*roots)
    if not deps:
        return None
    digest = hashlib.sha256()
    for name in sorted(deps):
        digest.update(f"{name}\n{_source(deps[name])}\n".encode())
    return digest.hexdigest()[:16]


def _callables(spec):
    """The classes and functions mentioned anywhere in a spec (including inside its kwargs)."""
    if isinstance(spec, (tuple, list)):
        return [c for s in spec for c in _callables(s)]
    if isinstance(spec, dict):
        return [c for s in spec.values() for c in _callables(s)]
    return [spec] if callable(spec) and not torch.is_tensor(spec) else []


def spec_hash(spec):
    return source_hash(*_callables(spec))


# --------------------------------------------------------------------------------------------- entries

def key_of(config):
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:32]


def loose_key_of(config):
    """The key without code hashes and torch version: what makes a missing entry "stale" rather than new."""
    loose = {k: v for k, v in config.items() if k not in ("trainer", "optimizer_source", "scheduler_source",
                                                          "torch", "format")}
    return key_of(loose)


def validate(entry, config=None):
    """The problem with a stored entry, or None when it is sound: a dict with `key`, `config` and a
    `history` whose curves are lists of numbers as long as the configured epochs."""
    if not isinstance(entry, dict) or not {"key", "config", "history"} <= entry.keys():
        return "not a dict with key, config and history"
    cfg, h = entry["config"], entry["history"]
    if not isinstance(cfg, dict) or entry["key"] != key_of(cfg):
        return "its key does not match its configuration"
    if config is not None and cfg != config:
        return "its configuration is not the one asked for"
    if not isinstance(h, dict) or set(h) != {*CURVES, *EXTRAS, "diverged_at"}:
        return (f"history keys {sorted(h) if isinstance(h, dict) else type(h).__name__} are not "
                f"{sorted({*CURVES, *EXTRAS, 'diverged_at'})}")
    epochs = cfg.get("epochs")
    views = h["views"]
    if not isinstance(views, dict) or not all(isinstance(v, dict) and set(v) == {"test_loss", "test_acc"}
                                              for v in views.values()):
        return "views is not {view: {test_loss, test_acc}}"
    curves = [(name, h[name]) for name in CURVES]
    curves += [(f"{view} {name}", c) for view, v in views.items() for name, c in v.items()]
    for name, curve in curves:
        if not isinstance(curve, list) or len(curve) != epochs:
            return f"{name} has {len(curve) if isinstance(curve, list) else curve!r} entries, expected {epochs}"
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in curve):
            return f"{name} holds something other than numbers"
    if not isinstance(h["report"], dict):
        return f"report is {h['report']!r}, expected a dict"
    c = h["confusion"]
    if c is not None and not (isinstance(c, list) and all(isinstance(r, list) and len(r) == len(c) for r in c)
                              and all(isinstance(v, int) and v >= 0 for r in c for v in r)):
        return "confusion is not a square table of counts"
    d = h["diverged_at"]
    if d is not None and not (isinstance(d, list) and len(d) == 2 and all(isinstance(v, int) for v in d)):
        return f"diverged_at is {d!r}, expected null or [epoch, step]"
    if d is None and any(math.isnan(v) for v in h["test_acc"]):
        return "NaN accuracy without a recorded divergence"
    return None


def _read_jsonl(path):
    entries = []
    for line in path.read_text().splitlines():
        if line.strip():
            try:
                entries.append(json.loads(line))
            except ValueError:
                entries.append(None)  # reported by `check`, a miss for lookups
    return entries


_shipped_cache: dict[str, tuple[tuple, dict[str, dict]]] = {}  # directory -> (signature of its files, {key: entry})


def shipped_entries(directory=None):
    """``{key: entry}`` of the shipped store (sound entries only), reread when a file changes."""
    directory = Path(directory or shipped_dir())
    files = sorted(directory.glob("*.jsonl")) if directory.is_dir() else []
    signature = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    cached = _shipped_cache.get(str(directory))
    if cached and cached[0] == signature:
        return cached[1]
    entries = {}
    for f in files:
        for e in _read_jsonl(f):
            if validate(e) is None:
                entries[e["key"]] = e
    _shipped_cache[str(directory)] = (signature, entries)
    return entries


def _cache_file(key):
    return cache_dir() / f"{key}.json"


def _read_cached(key, config):
    path = _cache_file(key)
    if not path.is_file():
        return None
    try:
        entry = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return entry if validate(entry, config) is None else None


def write_atomically(path, text):
    """Write to a temporary file next to `path`, then rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; the store is meant to be shared
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _record_use(key):
    try:
        path = manifest_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as f:  # one short line per append: concurrent kernels do not interleave
            f.write(key + "\n")
    except OSError as e:
        warnings.warn(f"could not record the run in the manifest {manifest_path()}: {e}", StoreWarning,
                      stacklevel=3)


def lookup(config: dict[str, Any], record: bool = True) -> dict[str, Any] | None:
    """The stored history (a dict) for `config`, or None: shipped store (unless ``OPTLIB_RETRAIN``),
    then user cache (unless ``OPTLIB_NO_TRAIN``: then the shipped store must hold every run, whatever
    this machine's cache holds). With `record`, the key goes into the manifest."""
    key = key_of(config)
    entry = None
    if not _flag("OPTLIB_RETRAIN"):
        entry = shipped_entries().get(key)
        if entry is not None and entry["config"] != config:
            entry = None
    if entry is None and not training_forbidden():  # the CI check is about the shipped store alone
        entry = _read_cached(key, config)
    if entry is not None and record:
        _record_use(key)
    return entry["history"] if entry is not None else None


def save(config, history, record=True):
    """Keep a freshly trained run in the user cache; warn (never raise) when that is impossible."""
    key = key_of(config)
    entry = dict(key=key, loose=loose_key_of(config), config=config, history=history, cpu=cpu_kernels())
    try:
        write_atomically(_cache_file(key), json.dumps(entry))
    except OSError as e:
        warnings.warn(f"could not write the result cache {cache_dir()} ({e}); the results are returned "
                      f"but will be trained again next time. Set OPTLIB_CACHE to a writable directory.",
                      StoreWarning, stacklevel=3)
        return
    if record:
        _record_use(key)


def cpu_kernels():
    """The vector instruction set torch's CPU kernels use here (``AVX512``, ``AVX2``, ...): runs trained with
    the same one reproduce bit for bit; across them, the order of sums changes and the curves drift."""
    return torch.backends.cpu.get_cpu_capability()


def training_forbidden():
    return _flag("OPTLIB_NO_TRAIN")


def miss_error(missing):
    """A :class:`StoreMiss` for `missing`, a list of ``(description, config)``: each run is said to be
    stale (the store holds it for other code or torch) or missing."""
    loose = {e.get("loose") for e in shipped_entries().values()}
    lines = []
    for description, config in missing:
        state = "stale (code or torch changed)" if loose_key_of(config) in loose else "missing"
        lines.append(f"  - {description}: {state}, key {key_of(config)}")
    return StoreMiss(f"{len(missing)} run(s) not in the shipped store {shipped_dir()} and training is "
                     f"forbidden (OPTLIB_NO_TRAIN=1):\n" + "\n".join(lines)
                     + f"\nRefresh them with:\n  {REFRESH_COMMAND}")


# ------------------------------------------------------------------------------------------ maintenance

def _group(entry):
    """The shipped file of an entry: named after the optimizer class (outermost for wrappers)."""
    opt = entry["config"].get("optimizer")
    cls = opt[0] if isinstance(opt, list) and opt else opt  # a spec: [class, kwargs, (inner spec)]
    name = cls.get("callable", "") if isinstance(cls, dict) else str(cls)  # classes: {"callable": "mod.Name"}
    return name.rsplit(".", 1)[-1].lower() or "other"


def _write_shipped(entries, directory):
    groups = {}
    for e in entries.values():
        groups.setdefault(_group(e), []).append(e)
    directory.mkdir(parents=True, exist_ok=True)
    for f in directory.glob("*.jsonl"):
        if f.stem not in groups:
            f.unlink()
    for name, es in groups.items():
        lines = [json.dumps({k: e[k] for k in ("key", "loose", "config", "history", "cpu") if k in e},
                            sort_keys=True, separators=(",", ":")) for e in sorted(es, key=lambda e: e["key"])]
        write_atomically(directory / f"{name}.jsonl", "\n".join(lines) + "\n")


def manifest_keys():
    path = manifest_path()
    return set(path.read_text().split()) if path.is_file() else set()


def user_entries():
    out = {}
    if cache_dir().is_dir():
        for f in cache_dir().glob("*.json"):
            try:
                e = json.loads(f.read_text())
            except (OSError, ValueError):
                continue
            if validate(e) is None:
                out[e["key"]] = e
    return out


def promote(all_runs: bool = False) -> int:
    """Copy full-mode user-cache runs into the shipped store: those the manifest lists (all with
    `all_runs`). Quick-mode runs are never promoted. Returns the number added."""
    wanted = manifest_keys()
    shipped = dict(shipped_entries())
    added = 0
    for key, e in user_entries().items():
        if e["config"].get("quick") or key in shipped or not (all_runs or key in wanted):
            continue
        shipped[key] = e
        added += 1
    _write_shipped(shipped, shipped_dir())
    return added


def prune() -> int:
    """Drop shipped runs that the manifest does not list; refuse with an empty manifest."""
    wanted = manifest_keys()
    if not wanted:
        raise SystemExit(f"the manifest {manifest_path()} is empty: build the book in full mode first "
                         f"(prune would otherwise remove everything)")
    shipped = shipped_entries()
    kept = {k: e for k, e in shipped.items() if k in wanted}
    _write_shipped(kept, shipped_dir())
    return len(shipped) - len(kept)


def check() -> list[str]:
    """Problems of the shipped store: unreadable or invalid lines, manifest keys it lacks."""
    problems = []
    directory = shipped_dir()
    for f in sorted(directory.glob("*.jsonl")) if directory.is_dir() else []:
        for i, e in enumerate(_read_jsonl(f), 1):
            why = "not JSON" if e is None else validate(e)
            if why:
                problems.append(f"{f.name}:{i}: {why}")
    missing = manifest_keys() - shipped_entries().keys()
    problems += [f"manifest key {k} is not shipped" for k in sorted(missing)]
    return problems


def compare_histories(stored, fresh, tol=None):
    """The largest |difference| per curve between two history dicts, and the curves over `tol`."""
    tol = REPRODUCE_TOL if tol is None else tol
    diffs = {}
    for name in tol:
        a, b = stored[name], fresh[name]
        both_nan = [math.isnan(x) and math.isnan(y) for x, y in zip(a, b)]
        diffs[name] = max((abs(x - y) if not n else 0.0 for x, y, n in zip(a, b, both_nan)), default=0.0)
        if len(a) != len(b):
            diffs[name] = math.inf
    return diffs, [n for n in tol if not diffs[n] <= tol[n]]


def verify(n: int = 3, seed: int | None = None) -> tuple[list[str], int]:
    """Retrain `n` random shipped runs (CPU, default data) and compare them with their stored histories:
    bit for bit when this CPU uses the kernels that trained them (:func:`cpu_kernels`), else within
    :data:`REPRODUCE_TOL`. Returns the report lines and the number of runs that failed."""
    import random

    from . import train as tr

    entries = [e for e in shipped_entries().values()  # CPU runs on the default data can be retrained here
               if e["config"].get("device") == "cpu" and str(e["config"].get("data")).startswith("fashion-mnist:")]
    picked = random.Random(seed).sample(sorted(entries, key=lambda e: e["key"]), min(n, len(entries)))
    report, failed = [], 0
    for e in picked:
        fresh = tr.retrain(e["config"])
        exact = e.get("cpu") == cpu_kernels()
        diffs, over = compare_histories(e["history"], fresh, dict.fromkeys(REPRODUCE_TOL, 0.0) if exact else None)
        failed += bool(over)
        report.append(f"{e['key']} ({'same CPU kernels: exact' if exact else 'other CPU kernels: tolerance'}): "
                      + ", ".join(f"{k} {v:.2e}" for k, v in diffs.items())
                      + (f"  OVER TOLERANCE: {over}" if over else ""))
    return report, failed


def status() -> str:
    shipped, user, wanted = shipped_entries(), user_entries(), manifest_keys()
    quick = sum(bool(e["config"].get("quick")) for e in user.values())
    promotable = (wanted - shipped.keys()) & user.keys()
    return "\n".join([
        f"shipped store {shipped_dir()}: {len(shipped)} runs",
        f"user cache {cache_dir()}: {len(user)} runs ({quick} quick-mode)",
        (f"manifest {manifest_path()}: {len(wanted)} keys, {len(wanted & shipped.keys())} shipped, "
         f"{len(promotable)} promotable from the user cache"),
    ])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m optlib.store", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("status", help="entries per layer and manifest coverage")
    sub.add_parser("reset-manifest", help="forget which keys the last build used")
    p = sub.add_parser("promote", help="copy the manifest's full-mode user-cache runs into the shipped store")
    p.add_argument("--all", action="store_true", help="every full-mode user-cache run, used or not")
    sub.add_parser("prune", help="drop shipped runs the manifest does not list")
    sub.add_parser("check", help="exit 1 if a shipped entry is invalid or a manifest key is not shipped")
    p = sub.add_parser("verify", help="retrain random shipped runs and compare within REPRODUCE_TOL")
    p.add_argument("-n", type=int, default=3)
    p.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    if args.command == "status":
        print(status())
    elif args.command == "reset-manifest":
        manifest_path().unlink(missing_ok=True)
        print(f"removed {manifest_path()}")
    elif args.command == "promote":
        print(f"promoted {promote(args.all)} run(s) into {shipped_dir()}")
    elif args.command == "prune":
        print(f"pruned {prune()} run(s) from {shipped_dir()}")
    elif args.command == "check":
        problems = check()
        print("\n".join(problems) or f"ok: {len(shipped_entries())} shipped runs, all valid")
        return 1 if problems else 0
    elif args.command == "verify":
        report, failed = verify(args.n, args.seed)
        print("\n".join(report) or "no shipped CPU runs to verify")
        return 1 if failed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
