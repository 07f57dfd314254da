"""optlib: the companion library of optbook.

* ``optlib.SGD``, ``optlib.Adam``, ... : numpy optimizers for 1-D and 2-D demos (``x = opt.step(x, g)``),
  and ``optlib.run(opt, objective, x0, steps)`` for a whole trajectory;
* ``optlib.optim``: the same rules as drop-in ``torch.optim`` optimizers for real training;
* ``optlib.rules``: the update rules themselves, written once, in lecture order;
* ``optlib.objectives``, ``optlib.ewa``, ``optlib.schedules``: the functions, averages and learning-rate
  schedules of the demos; ``optlib.data`` and ``optlib.train``: the Fashion-MNIST case-study engine;
  ``optlib.widgets``, ``optlib.display`` and ``optlib.book``: the book's figures, source listings and
  prose numbers.

``pip install optlib`` needs numpy only and gives the numpy front, the rules and the objectives. The
other submodules are imported on first use, so ``import optlib`` never imports torch or matplotlib; a
submodule whose extra is missing raises an ImportError that names the extra (``optlib[torch]``, ...).
"""

import importlib
from types import ModuleType

from . import averages, book, objectives, rules, schedules
from .averages import ewa
from .numpy_optim import (SGD, SWATS, AdaBound, Adagrad, Adam, AdamW, Lookahead, NAdam, Optimizer, RAdam,
                          RMSprop, run)

# The single source of the version: pyproject.toml reads it ([tool.setuptools.dynamic]).
__version__: str = "0.2.0"

# Submodules imported on first access -> the extra that installs what they need.
_LAZY: dict[str, str] = {
    "optim": "torch",
    "data": "torch",
    "train": "torch",
    "averaging": "torch",
    "widgets": "widgets",
    "plots": "widgets",
    "display": "widgets",
}

__all__ = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "RAdam", "NAdam", "AdaBound", "SWATS", "Lookahead",
           "Optimizer", "run", "ewa", "rules", "objectives", "averages", "schedules", "book", "__version__", *_LAZY]


def __getattr__(name: str) -> ModuleType:
    if name not in _LAZY:
        raise AttributeError(f"module 'optlib' has no attribute {name!r}")
    try:
        module = importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as err:
        if err.name is None or err.name.split(".")[0] == __name__:
            raise  # a bug in optlib itself, not a missing extra
        extra = _LAZY[name]
        raise ImportError(f"optlib.{name} needs {err.name!r}, which is not installed; install optlib's "
                          f"{extra!r} extra: pip install 'optlib[{extra}]' (from a clone: "
                          f"pip install '.[{extra}]')") from err
    globals()[name] = module  # later accesses skip this function
    return module


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
