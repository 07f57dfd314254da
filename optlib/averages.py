"""Exponentially weighted averages and bias correction (chapter 3).

The EWA is the memory inside momentum (an EWA of gradients), RMSProp (of squared gradients) and
Adam (both, bias-corrected). Here it is on its own, on a plain series.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ewa", "ewa_weights", "moving_average"]


def _check_beta(beta: Any) -> float:
    if isinstance(beta, (bool, np.bool_)) or not isinstance(beta, (int, float, np.integer, np.floating)):
        raise TypeError(f"Invalid beta: {beta!r} of type {type(beta).__name__} (expected a real number)")
    if not 0.0 <= beta < 1.0:  # `not` also rejects NaN
        raise ValueError(f"Invalid beta: {beta} (expected 0 <= beta < 1)")
    return float(beta)


def ewa(values: Any, beta: float, bias_correction: bool = False) -> np.ndarray:
    r"""The exponentially weighted average of a series, at every step.

    .. math:: v_0 = 0, \qquad v_t = \beta v_{t-1} + (1 - \beta)\,\theta_t \qquad (t = 1, \dots, n)

    Returns ``[v_1, ..., v_n]``. Starting from v_0 = 0 pulls the early values toward 0 (v_1 is only
    (1 - β) θ_1); ``bias_correction=True`` returns instead

    .. math:: \hat v_t = \frac{v_t}{1 - \beta^t},

    which divides by the total weight the average has collected so far (see :func:`ewa_weights`).
    """
    beta = _check_beta(beta)
    if not isinstance(bias_correction, (bool, np.bool_)):
        raise TypeError(f"bias_correction must be True or False, got {bias_correction!r}")
    theta = np.asarray(values, dtype=float)
    v, out = 0.0, np.empty_like(theta)
    for t in range(len(theta)):
        v = beta * v + (1 - beta) * theta[t]
        out[t] = v
    if bias_correction:
        total_weight = 1 - beta ** np.arange(1, len(theta) + 1)
        out /= total_weight.reshape((-1,) + (1,) * (theta.ndim - 1))  # time is axis 0 of a vector series too
    return out


def ewa_weights(t: int, beta: float) -> np.ndarray:
    r"""The weights of θ_1, ..., θ_t in v_t, from unrolling the recursion.

    .. math:: v_t = \sum_{i=1}^{t} (1 - \beta)\,\beta^{t-i}\,\theta_i,
              \qquad \sum_{i=1}^{t} (1 - \beta)\,\beta^{t-i} = 1 - \beta^t

    E.g. t = 3, β = 0.9: (0.081, 0.09, 0.1). The weights decay by β per step back, so the average
    remembers about 1 / (1 - β) points.
    """
    beta = _check_beta(beta)
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 0:
        raise ValueError(f"Invalid t: {t} (expected a non-negative integer)")
    return (1 - beta) * beta ** np.arange(t - 1, -1, -1, dtype=float)


def moving_average(values: Any, window: int) -> np.ndarray:
    r"""The plain trailing moving average over the last ``window`` values (fewer at the start).

    .. math:: m_t = \frac{1}{\min(t, w)} \sum_{i=\max(1, t-w+1)}^{t} \theta_i

    Every point in the window counts equally and older ones not at all, unlike the EWA.
    """
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"Invalid window: {window} (expected a positive integer)")
    theta = np.asarray(values, dtype=float)
    return np.array([theta[max(0, t - window + 1):t + 1].mean(axis=0) for t in range(len(theta))])
