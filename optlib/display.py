"""Small display helpers for the book's notebooks."""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Sequence
from typing import Any

from IPython.display import Code


def core_source(obj: Any) -> str:
    """The lines of a rule's math: the source of its ``update`` (or of the function `obj`), without
    decorators and docstring, dedented. The validation and torch plumbing stay in the library."""
    if inspect.isclass(obj):
        update = getattr(obj, "update", None)
        if not callable(update):
            raise TypeError(f"show_source(core=True) needs a rule with an update(), got class {obj.__name__}")
        obj = update
    if not inspect.isfunction(obj):
        raise TypeError(f"show_source(core=True) needs a function or a rule class, got {obj!r}")
    lines = textwrap.dedent(inspect.getsource(obj)).splitlines()
    func = ast.parse("\n".join(lines)).body[0]
    body = func.body
    first = body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        # the docstring: keep what follows it
        body_lines = lines[first.end_lineno:]
    else:
        body_lines = lines[first.lineno - 1:]
    signature = lines[func.lineno - 1:body[0].lineno - 1] if body[0].lineno > func.lineno else [lines[func.lineno - 1]]
    return "\n".join(signature + body_lines) + "\n"


def show_source(obj: Any, core: bool = False) -> Code:
    """The source of a function or class of optlib, syntax-highlighted: the book shows the code that
    runs, never a retyped copy. ``core=True`` shows only a rule's math (see :func:`core_source`):
    ``show_source(optlib.rules.Adam, core=True)`` is the few lines of Adam's update."""
    source = core_source(obj) if core else inspect.getsource(obj)
    return Code(source, language="python")


def table(rows: Sequence[Sequence[Any]], header: Sequence[Any], formats: Sequence[str] | None = None) -> str:
    """A plain-text table: fixed formatting so notebooks print identical text on every run
    (nbval compares it). `formats` is one format spec per column, e.g. ("d", ".4f")."""
    formats = formats or ("",) * len(header)
    cells = [[format(v, f) for v, f in zip(row, formats)] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    lines = ["  ".join(str(h).rjust(w) for h, w in zip(header, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)
