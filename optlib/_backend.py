"""The handful of array primitives the update rules need, for numpy arrays and torch tensors alike.

The rules in :mod:`optlib.rules` are written once and run on both. Plain operators (``+ - * /``
and the in-place ``+= -= *=``) already mean the same thing for both kinds of array; the functions
here cover the few operations whose spelling differs, and the fused in-place updates (``add_``,
``addcmul_``, ``addcdiv_``) that spare torch a temporary tensor per operation: the same kernels, in the
same order, as ``torch.optim``'s single-tensor code. Torch tensors are recognised by duck typing,
so importing this module (and running the numpy demos) never imports torch.
"""

import numpy as np


def is_tensor(a):
    return hasattr(a, "lerp_")


def sqrt(a):
    return a.sqrt() if is_tensor(a) else np.sqrt(a)


def zeros_like(a):
    return a.new_zeros(a.shape) if is_tensor(a) else np.zeros_like(a)


def full_like(a, value):
    return a.new_full(a.shape, value) if is_tensor(a) else np.full_like(a, value)


def clone(a):
    return a.clone() if is_tensor(a) else np.array(a, copy=True)


def copy_(dst, src):
    """dst <- src, in place."""
    if is_tensor(dst):
        dst.copy_(src)
    else:
        np.copyto(dst, src)


def mul_(a, factor):
    """a <- factor a, in place (``a *= factor`` goes through a slower Python path for tensors)."""
    if is_tensor(a):
        a.mul_(factor)
    else:
        a *= factor


def add(a, b, alpha=1.0):
    """a + alpha b, as a new array (torch's weight-decay kernel: ``grad.add(param, alpha=wd)``)."""
    return a.add(b, alpha=alpha) if is_tensor(a) else a + alpha * b


def add_(a, b, alpha=1.0):
    """a <- a + alpha b, in place (one fused kernel for tensors, as torch.optim writes it)."""
    if is_tensor(a):
        a.add_(b, alpha=alpha)
    else:
        a += alpha * b


def addcmul_(a, b, c, value=1.0):
    """a <- a + value b c, in place."""
    if is_tensor(a):
        a.addcmul_(b, c, value=value)
    else:
        a += value * (b * c)


def addcdiv_(a, b, c, value=1.0):
    """a <- a + value b / c, in place."""
    if is_tensor(a):
        a.addcdiv_(b, c, value=value)
    else:
        a += value * (b / c)


def lerp_(avg, new, weight):
    """avg <- avg + weight (new - avg), in place: the exponentially weighted average step."""
    if is_tensor(avg):
        avg.lerp_(new, weight)  # one fused kernel, exactly as torch.optim does it
    else:
        avg += weight * (new - avg)


def maximum_(a, b):
    """a <- max(a, b) elementwise, in place."""
    if is_tensor(a):
        a.copy_(a.maximum(b))
    else:
        np.maximum(a, b, out=a)


def clip(a, low, high):
    return a.clamp(low, high) if is_tensor(a) else np.clip(a, low, high)


def dot(a, b):
    """The inner product of two arrays of any shape, as a Python float."""
    return float((a * b).sum())
