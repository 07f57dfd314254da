"""optlib.averaging.WeightEWA: the averages it keeps, torch's convention, views, checks, state."""

import math

import numpy as np
import pytest
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from optlib import averages
from optlib.averaging import VIEWS, WeightEWA
from optlib.train import train


def _net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(), torch.nn.Linear(4, 3))


def _steps(model, opt, n, after_step=lambda: None):
    """`n` SGD steps on fixed random batches; returns the flattened parameters after each step."""
    g = torch.Generator().manual_seed(1)
    iterates = []
    for _ in range(n):
        x, y = torch.randn(8, 5, generator=g), torch.randint(0, 3, (8,), generator=g)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        after_step()
        iterates.append(torch.cat([p.detach().flatten() for p in model.parameters()]).double().numpy())
    return np.array(iterates)


def _flat(tensors):
    return torch.cat([t.detach().flatten() for t in tensors]).double().numpy()


@pytest.mark.parametrize("beta", [0.9, 0.99])
def test_torch_start_is_averaged_model_with_ema(beta):
    model = _net()
    opt = WeightEWA(torch.optim.SGD(model.parameters(), lr=0.1), betas=(0.9, 0.99))
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(beta))
    _steps(model, opt, 30, after_step=lambda: ema.update_parameters(model))
    ours = _flat(opt.averages(beta, "torch's start"))
    theirs = _flat(ema.module.parameters())
    assert np.abs(ours - theirs).max() < 1e-7


def test_zero_start_views_are_the_closed_form_weighted_sums():
    beta, t = 0.9, 25
    model = _net()
    opt = WeightEWA(torch.optim.SGD(model.parameters(), lr=0.1), betas=beta)
    iterates = _steps(model, opt, t)  # theta_1 .. theta_t, one row each
    weights = averages.ewa_weights(t, beta)  # (1 - beta) beta^(t-i), summing to 1 - beta^t
    v = weights @ iterates
    assert np.abs(_flat(opt.averages(beta, "no correction")) - v).max() < 1e-6
    corrected = _flat(opt.averages(beta, "bias-corrected"))
    assert np.abs(corrected - v / (1 - beta ** t)).max() < 1e-6
    # the start-up bias: the uncorrected average is the corrected one shrunk by 1 - beta^t towards 0
    assert np.allclose(_flat(opt.averages(beta, "no correction")), (1 - beta ** t) * corrected, atol=1e-6)
    # torch's start: v_t + beta^t theta_1 (theta_1 over-weighted, as chapter 3's SGD buffer)
    assert np.abs(_flat(opt.averages(beta, "torch's start")) - (v + beta ** t * iterates[0])).max() < 1e-6


def test_training_is_unchanged_and_views_restore_the_iterate():
    plain_model, model = _net(), _net()
    plain = _steps(plain_model, torch.optim.SGD(plain_model.parameters(), lr=0.1, momentum=0.9), 10)
    opt = WeightEWA(torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), betas=(0.5, 0.9))
    wrapped = _steps(model, opt, 10)
    assert np.array_equal(plain, wrapped)
    views = opt.evaluation_views()
    assert list(views) == [f"EWA {b}, {s}" for b in (0.5, 0.9) for s in VIEWS]
    before = [p.detach().clone() for p in model.parameters()]
    with views["EWA 0.9, bias-corrected"]():
        assert all(torch.equal(p, a) for p, a in zip(model.parameters(), opt.averages(0.9)))
        assert not all(torch.equal(p, b) for p, b in zip(model.parameters(), before))
    assert all(torch.equal(p, b) for p, b in zip(model.parameters(), before))


def test_trainer_records_every_view_and_the_same_last_iterate():
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(600, 784, generator=g), torch.randint(0, 10, (600,), generator=g)
    data = ((x[:400], y[:400]), (x[400:], y[400:]))
    sgd = (torch.optim.SGD, dict(lr=0.05))
    h = train((WeightEWA, dict(betas=(0.9,)), sgd), epochs=2, data=data, progress=False)
    plain = train(sgd, epochs=2, data=data, progress=False)
    assert plain.test_acc == h.test_acc and plain.train_loss == h.train_loss
    assert set(h.views) == {f"EWA 0.9, {s}" for s in VIEWS}
    assert all(len(v["test_acc"]) == 2 and all(map(math.isfinite, v["test_loss"])) for v in h.views.values())


def test_scheduler_reaches_the_inner_optimizer():
    model = _net()
    opt = WeightEWA(torch.optim.SGD(model.parameters(), lr=0.1))
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    _steps(model, opt, 1)
    sched.step()
    assert opt.optimizer.param_groups[0]["lr"] == pytest.approx(0.05)


def test_state_dict_round_trip():
    model = _net()
    opt = WeightEWA(torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), betas=(0.9, 0.99))
    _steps(model, opt, 5)
    other = WeightEWA(torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), betas=(0.9, 0.99))
    other.load_state_dict(opt.state_dict())
    assert other.ewa_step == 5
    for start in VIEWS:
        assert all(torch.equal(a, b) for a, b in zip(opt.averages(0.99, start), other.averages(0.99, start)))
    with pytest.raises(ValueError, match="betas"):
        WeightEWA(torch.optim.SGD(model.parameters(), lr=0.1), betas=0.9).load_state_dict(opt.state_dict())


@pytest.mark.parametrize("betas, error, match", [
    (1.0, ValueError, r"betas\[0\] must be < 1.0, got 1.0"),
    (-0.1, ValueError, r"betas\[0\] must be >= 0.0, got -0.1"),
    (float("nan"), ValueError, r"betas\[0\] must be finite"),
    ((0.9, "0.99"), TypeError, r"betas\[1\] must be a real number"),
    (True, TypeError, "betas must be a number or a sequence"),
    ("0.9", TypeError, "betas must be a number or a sequence"),
    ((), ValueError, "at least one beta"),
    ((0.9, 0.9), ValueError, "each once"),
])
def test_bad_betas_raise(betas, error, match):
    model = _net()
    with pytest.raises(error, match=match):
        WeightEWA(torch.optim.SGD(model.parameters(), lr=0.1), betas=betas)


def test_other_misuse_raises():
    model = _net()
    with pytest.raises(TypeError, match="wraps a torch.optim.Optimizer, got list"):
        WeightEWA(list(model.parameters()))
    opt = WeightEWA(torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(RuntimeError, match="no step taken yet"):
        opt.averages(0.99)
    _steps(model, opt, 1)
    with pytest.raises(ValueError, match=r"beta must be one of \(0.99,\), got 0.9"):
        opt.averages(0.9)
    with pytest.raises(ValueError, match="start must be one of"):
        opt.averages(0.99, "ones")


def test_views_comparison_pairs_views_with_the_last_iterate():
    from optlib.averaging import views_comparison
    from optlib.train import Comparison

    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(600, 784, generator=g), torch.randint(0, 10, (600,), generator=g)
    data = ((x[:400], y[:400]), (x[400:], y[400:]))
    sgd = (torch.optim.SGD, dict(lr=0.05))
    runs = [train((WeightEWA, dict(betas=0.9), sgd), epochs=2, seed=s, data=data, progress=False) for s in (0, 1)]
    views = views_comparison(Comparison({"SGD": runs}, (0, 1)), "SGD")
    assert list(views.runs) == ["last iterate", *(f"EWA 0.9, {s}" for s in VIEWS)]
    assert views.values("last iterate", "test_acc", epoch=2) == [h.test_acc[1] for h in runs]
    name = "EWA 0.9, no correction"
    assert views.values(name, "test_loss", epoch=1) == [h.views[name]["test_loss"][0] for h in runs]
    d = views.difference(name, "last iterate", "test_loss", epoch=1)
    assert d.n == 2 and d.mean == pytest.approx(
        sum(h.views[name]["test_loss"][0] - h.test_loss[0] for h in runs) / 2)
    with pytest.raises(ValueError, match="no evaluation views"):
        views_comparison(Comparison({"plain": [train(sgd, epochs=1, data=data, progress=False)]}, (0,)), "plain")
    with pytest.raises(ValueError, match="'Adam' is not a run"):
        views_comparison(views, "Adam")
