"""Small display helpers for the book's notebooks."""

import inspect

from IPython.display import Code


def show_source(obj):
    """The source of a function or class of optlib, syntax-highlighted: the book shows the code that
    runs, never a retyped copy."""
    return Code(inspect.getsource(obj), language="python")


def table(rows, header, formats=None):
    """A plain-text table: fixed formatting so notebooks print identical text on every run
    (nbval compares it). `formats` is one format spec per column, e.g. ("d", ".4f")."""
    formats = formats or ("",) * len(header)
    cells = [[format(v, f) for v, f in zip(row, formats)] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    lines = ["  ".join(str(h).rjust(w) for h, w in zip(header, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)
