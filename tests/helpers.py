"""Shared helpers for the optimizer tests: a small deterministic nonconvex problem in float64, a
training loop that works for any torch optimizer, and the comparison of parameter lists."""

import numpy as np
import torch

DTYPE = torch.float64
TOL = 1e-10


def _data():
    gen = torch.Generator().manual_seed(1234)
    X = torch.randn(8, 3, generator=gen, dtype=DTYPE)
    Y = torch.randn(8, 2, generator=gen, dtype=DTYPE)
    u = torch.rand(5, generator=gen, dtype=DTYPE)
    A = torch.tensor([1.0, -1.0, 1.0, 1.0, -1.0], dtype=DTYPE) * (0.5 + u)  # |A| >= 0.5
    return X, Y, A


X, Y, A = _data()


def initial_params(seed=0):
    """Tensors of different shapes: a 2-layer tanh net (4x3, 4, 2x4), a 0-dim scalar and a vector
    that only enters linearly (its gradient is constant, which makes SWATS switch early)."""
    gen = torch.Generator().manual_seed(seed)
    shapes = [(4, 3), (4,), (2, 4), (), (5,)]
    return [0.5 * torch.randn(s, generator=gen, dtype=DTYPE) for s in shapes]


def leaves(tensors):
    return [t.detach().clone().requires_grad_(True) for t in tensors]


def loss_fn(params):
    """A deterministic nonconvex loss (tanh network + a cosine bump + a linear term)."""
    W1, b1, W2, s, c = params
    out = torch.tanh(X @ W1.T + b1) @ W2.T
    return ((out - Y) ** 2).mean() + 0.3 * torch.cos(3 * s) + 0.1 * s ** 2 + (A * c).sum()


def grads_of(params):
    """The gradient of loss_fn, by hand (no autograd graph: about 10x cheaper on these tiny tensors)."""
    W1, b1, W2, s, c = (p.detach() for p in params)
    h = torch.tanh(X @ W1.T + b1)
    dout = (h @ W2.T - Y) * (2.0 / Y.numel())
    dpre = (dout @ W2) * (1 - h * h)
    return [dpre.T @ X, dpre.sum(0), dout.T @ h, -0.9 * torch.sin(3 * s) + 0.2 * s, A.clone()]


def backward(params):
    """loss.backward() for loss_fn, from grads_of: accumulates into .grad as autograd does."""
    for p, g in zip(params, grads_of(params)):
        if p.grad is None:
            p.grad = g
        else:
            p.grad += g


def two_groups(params, second=None):
    """Two param groups; the second one with its own overrides (a different lr, ...)."""
    return [{"params": params[:2]}, {"params": params[2:], **(second or {})}]


def train(opt, params, steps, closure=False):
    for _ in range(steps):
        if closure:
            def f():
                opt.zero_grad()
                loss = loss_fn(params)
                loss.backward()
                return loss
            opt.step(f)
        else:
            opt.zero_grad()
            backward(params)
            opt.step()
    return params


def max_abs_diff(a, b):
    """Largest absolute difference over two lists of tensors (or arrays) of equal shapes."""
    worst = 0.0
    for x, y in zip(a, b, strict=True):
        x = torch.as_tensor(np.asarray(x.detach() if torch.is_tensor(x) else x))
        y = torch.as_tensor(np.asarray(y.detach() if torch.is_tensor(y) else y))
        assert x.shape == y.shape, (x.shape, y.shape)
        if x.numel():
            worst = max(worst, (x.double() - y.double()).abs().max().item())
    return worst


def bitwise_equal(a, b):
    return all(torch.equal(x.detach(), y.detach()) for x, y in zip(a, b, strict=True))


def set_grads(params, grads):
    for p, g in zip(params, grads, strict=True):
        p.grad = torch.as_tensor(np.asarray(g, dtype=float)).to(DTYPE).reshape(p.shape).clone()


def torch_path_on_objective(opt_factory, objective, x0, steps):
    """Run a torch optimizer on a numpy objective (its analytic gradient fed to .grad) from x0:
    the reference trajectory for the numpy front. Returns an array of shape (steps + 1, dim)."""
    p = torch.tensor(np.atleast_1d(np.asarray(x0, dtype=float)), dtype=DTYPE, requires_grad=True)
    opt = opt_factory([p])
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        set_grads([p], [np.atleast_1d(objective.grad(p.detach().numpy().copy()))])
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


def numpy_path_on_objective(opt, objective, x0, steps):
    """The numpy front's own loop: x = opt.step(x, grad)."""
    x = np.atleast_1d(np.asarray(x0, dtype=float))
    path = [x.copy()]
    for _ in range(steps):
        x = opt.step(x, objective.grad(x))
        path.append(np.asarray(x).copy())
    return np.array(path)


def small_fashion(n_train, n_test):
    """A stratified subset of Fashion-MNIST (train, test) when the data is installed, else separable
    synthetic blobs of the same shape (784 pixels in [0, 1], 10 classes), for fast trainer tests."""
    from optlib import data
    from optlib.train import default_data, subset

    if data.find() is not None:
        (x, y), (xt, yt) = default_data()
    else:
        g = torch.Generator().manual_seed(0)
        centers = torch.rand(10, 784, generator=g)
        y, yt = torch.arange(3 * n_train) % 10, torch.arange(2 * n_test) % 10
        x = (centers[y] + 0.3 * torch.randn(len(y), 784, generator=g)).clamp(0, 1)
        xt = (centers[yt] + 0.3 * torch.randn(len(yt), 784, generator=g)).clamp(0, 1)
    return subset(x, y, n_train), subset(xt, yt, n_test)
