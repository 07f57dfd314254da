"""Axis decisions shared by both renderers: fitted ranges, linear or log scale, the ticks and their labels.

Made once in Python and handed to the JavaScript player as data, so the live and static pictures agree.
"""

import math

import numpy as np

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def rounded(v, digits=4):
    """JSON-ready number: `digits` significant digits (compact), None for NaN/inf."""
    v = float(v)
    return float(f"{v:.{digits}g}") if math.isfinite(v) else None


def fitted(values, pad=0.08, floor=None, limits=None):
    """[lo, hi] around the finite `values`, padded by `pad` of the span; at least `floor` wide; inside `limits`."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return list(limits) if limits is not None else [-1.0, 1.0]
    lo, hi = float(v.min()), float(v.max())
    span = hi - lo
    if floor is not None and span < floor:
        mid = (lo + hi) / 2
        lo, hi, span = mid - floor / 2, mid + floor / 2, floor
    if span == 0:
        span = abs(lo) or 1.0
        lo, hi = lo - span / 2, hi + span / 2
    lo, hi = lo - pad * span, hi + pad * span
    if limits is not None:
        lo, hi = max(lo, limits[0]), min(hi, limits[1])
    return [lo, hi]


def linear_ticks(lo, hi, n=5):
    """[[value, label], ...]: matplotlib's MaxNLocator ticks inside [lo, hi]."""
    from matplotlib.ticker import MaxNLocator
    values = MaxNLocator(nbins=n, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    span = hi - lo
    out = []
    for v in values:
        if lo - 1e-9 * span <= v <= hi + 1e-9 * span:
            v = 0.0 if abs(v) < 1e-12 * span else float(v)
            out.append([rounded(v, 6), _label(v)])
    return out


def _label(v):
    if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
        mantissa, exponent = f"{v:.0e}".split("e")
        return f"{mantissa}×10{str(int(exponent)).translate(_SUPERSCRIPT)}"
    return f"{v:g}"


def log_ticks(lo, hi):
    """Ticks for an axis whose coordinates are log10 of the values (lo, hi in decades).

    Whole decades when the range spans two or more (every k-th if there are many), else 1-2-5
    steps, each labelled with the value it stands for (10⁻³, 0.2, 5), never a rounded exponent."""
    decades = [k for k in range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1)]
    if len(decades) >= 2:
        stride = max(1, math.ceil(len(decades) / 6))
        return [[float(k), _decade(k)] for k in decades if k % stride == 0]
    out = []
    for k in range(math.floor(lo) - 1, math.ceil(hi) + 1):
        for m in (1, 2, 5):
            v = math.log10(m) + k
            if lo - 1e-9 <= v <= hi + 1e-9:
                out.append([rounded(v, 6), _label(m * 10.0 ** k)])
    return out


def _decade(k):
    return {0: "1", 1: "10", -1: "0.1"}.get(k, "10" + str(k).translate(_SUPERSCRIPT))


def use_log(values):
    """A loss axis is logarithmic when every finite value is >= 0 and they span two decades or more."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0 or v.min() < 0:
        return False
    positive = v[v > 0]
    return positive.size > 0 and positive.max() >= 100 * max(v.min(), positive.max() * 1e-15)


def to_log(values, floor):
    """log10 of values, with values below `floor` (zeros) drawn at the floor."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(np.maximum(np.asarray(values, dtype=float), floor))


# -- compact lines -------------------------------------------------------------------------------
STEPS_PER_SPAN = 2000  # quantum of a stored coordinate: 1/2000 of its scene's range (0.2 px at 400 px)


def encode(xy, xr, yr, implicit_x=False):
    """A polyline stored compactly: coordinates quantized to 1/STEPS_PER_SPAN of the scene's ranges,
    as differences from the previous point (iterates move little, so most are one or two digits).

    Returns ``{"q": [x origin, x quantum, y origin, y quantum], "d": [...]}``; with `implicit_x`
    (a curve over steps 0, 1, 2, ...) only the y differences are stored and ``"k": 1`` says so.
    Decode: running sums times the quantum plus the origin (see :func:`decode`)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    qx, qy = (xr[1] - xr[0]) / STEPS_PER_SPAN, (yr[1] - yr[0]) / STEPS_PER_SPAN
    big = 1e9  # far outside the plot: clamp, the clip path hides it anyway
    ix = np.clip(np.round((xy[:, 0] - xr[0]) / qx), -big, big).astype(np.int64)
    iy = np.clip(np.round((xy[:, 1] - yr[0]) / qy), -big, big).astype(np.int64)
    dx, dy = np.diff(ix, prepend=0), np.diff(iy, prepend=0)
    out = {"q": [rounded(xr[0], 10), rounded(qx, 10), rounded(yr[0], 10), rounded(qy, 10)]}
    if implicit_x:
        out.update(k=1, d=dy.tolist())
    else:
        out["d"] = np.column_stack([dx, dy]).reshape(-1).tolist()
    return out


def decode(line):
    """The (n, 2) points of a stored line (either form: plain ``"p"`` or compact ``"q"``/``"d"``)."""
    if "p" in line:
        return np.array([np.nan if v is None else v for v in line["p"]], dtype=float).reshape(-1, 2)
    ox, qx, oy, qy = line["q"]
    d = np.asarray(line["d"], dtype=float)
    if line.get("k"):
        y = np.cumsum(d)
        return np.column_stack([np.arange(len(y)), oy + qy * y])
    d = d.reshape(-1, 2)
    c = np.cumsum(d, axis=0)
    return np.column_stack([ox + qx * c[:, 0], oy + qy * c[:, 1]])
