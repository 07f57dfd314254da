"""State dicts as a migrating user meets them: checkpoints loaded across optimizers and across
torch versions (issue 14, item 3). Each case is checked against what torch.optim itself does."""

import copy
import io

import pytest
import torch

import optlib.optim as oo


def _params(seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(3, 2, generator=gen, dtype=torch.float64).requires_grad_(),
            torch.randn(4, generator=gen, dtype=torch.float64).requires_grad_()]


def _steps(opt, params, n):
    for _ in range(n):
        for p in params:
            p.grad = torch.sin(3 * p.detach()) + 0.2
        opt.step()


def _through_bytes(sd):
    """torch.save / torch.load with the default weights_only=True: a plain-data state dict."""
    buf = io.BytesIO()
    torch.save(sd, buf)
    buf.seek(0)
    return torch.load(buf)


def _checkpoint(cls, kwargs, steps=3):
    params = _params()
    opt = cls(params, **kwargs)
    _steps(opt, params, steps)
    return [p.detach().clone() for p in params], _through_bytes(opt.state_dict())


def _resume(cls, kwargs, start, sd, steps=5):
    params = [p.clone().requires_grad_() for p in start]
    opt = cls(params, **kwargs)
    opt.load_state_dict(copy.deepcopy(sd))  # loading shares the tensors, which the steps then change
    _steps(opt, params, steps)
    return params, opt


@pytest.mark.parametrize("saved_by", [torch.optim.Adam, oo.Adam], ids=["torch Adam", "optlib Adam"])
def test_an_adam_checkpoint_loaded_into_adamw_trains_decoupled(saved_by):
    start, sd = _checkpoint(saved_by, dict(lr=0.01, weight_decay=0.1))
    assert sd["param_groups"][0]["decoupled_weight_decay"] is False
    expected, ref = _resume(torch.optim.AdamW, {}, start, sd)
    actual, opt = _resume(oo.AdamW, {}, start, sd)
    assert ref.param_groups[0]["decoupled_weight_decay"] is True  # what torch does
    assert opt.param_groups[0]["decoupled_weight_decay"] is True
    assert all(torch.equal(a, e) for a, e in zip(actual, expected, strict=True))


def _with_plain_numbers(sd, keys):
    """A state dict as older torch versions wrote it: `step` (and NAdam's `mu_product`) plain numbers."""
    for s in sd["state"].values():
        for key in keys:
            s[key] = s[key].item()
    return sd


@pytest.mark.parametrize("name,keys", [("Adam", ["step"]), ("AdamW", ["step"]), ("Adagrad", ["step"]),
                                       ("RMSprop", ["step"]), ("RAdam", ["step"]),
                                       ("NAdam", ["step", "mu_product"])])
def test_an_old_checkpoint_with_a_plain_number_step_resumes_like_torch(name, keys):
    start, sd = _checkpoint(getattr(torch.optim, name), dict(lr=0.01))
    old = _with_plain_numbers(sd, keys)
    expected, _ = _resume(getattr(torch.optim, name), dict(lr=0.01), start, _with_plain_numbers(
        _checkpoint(getattr(torch.optim, name), dict(lr=0.01))[1], keys))
    actual, opt = _resume(getattr(oo, name), dict(lr=0.01), start, old)
    assert all(torch.equal(a, e) for a, e in zip(actual, expected, strict=True))
    for s in opt.state.values():
        assert all(torch.is_tensor(s[k]) for k in keys)
        assert s["step"].item() == 3 + 5


def test_a_group_missing_a_key_fails_at_step_like_torch():
    """An Adam checkpoint has no `momentum`: torch's SGD(momentum=0.9) fails at step() with a KeyError
    (it does not train with momentum 0 silently); so does optlib, naming the key and the group."""
    start, sd = _checkpoint(torch.optim.Adam, dict(lr=0.01))
    sd["state"] = {}  # only the groups are foreign here
    for cls in (torch.optim.SGD, oo.SGD):
        with pytest.raises(KeyError, match="momentum") as e:
            _resume(cls, dict(lr=0.1, momentum=0.9), start, sd)
    assert "param group 0" in str(e.value)


@pytest.mark.parametrize("saved_by,loaded_by,problem", [
    ("SGD", "Adam", "missing"), ("RMSprop", "Adam", "unknown"), ("Adam", "Adagrad", "missing"),
    ("Adagrad", "RMSprop", "missing"), ("Adam", "NAdam", "missing")])
def test_foreign_state_fails_at_load_time_saying_what_is_wrong(saved_by, loaded_by, problem):
    kwargs = dict(lr=0.01, momentum=0.9) if saved_by in ("SGD", "RMSprop") else dict(lr=0.01)
    start, sd = _checkpoint(getattr(torch.optim, saved_by), kwargs)
    params = [p.clone().requires_grad_() for p in start]
    opt = getattr(oo, loaded_by)(params, lr=0.01)
    with pytest.raises(ValueError, match=rf"{loaded_by}.load_state_dict: the state of parameter 0 of param "
                                         rf"group 0 has keys .*\({problem} .*another optimizer"):
        opt.load_state_dict(sd)


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "NAdam", "RAdam"])
@pytest.mark.parametrize("direction", ["torch->optlib", "optlib->torch"])
def test_complex_and_amsgrad_checkpoints_cross_load(name, direction):
    """Complex parameters (state kept complex, as torch keeps it) move between torch and optlib."""
    first, then = (torch.optim, oo) if direction == "torch->optlib" else (oo, torch.optim)
    kwargs = {"SGD": dict(lr=0.01, momentum=0.9), "RMSprop": dict(lr=0.01, centered=True, momentum=0.5),
              "Adam": dict(lr=0.01, amsgrad=True), "AdamW": dict(lr=0.01, amsgrad=True)}.get(name, dict(lr=0.01))
    gen = torch.Generator().manual_seed(1)
    start = [torch.randn(3, generator=gen, dtype=torch.complex128)]

    def run(module, sd=None, steps=3):
        params = [p.clone().requires_grad_() for p in start]
        opt = getattr(module, name)(params, **kwargs)
        if sd is not None:
            opt.load_state_dict(copy.deepcopy(sd))
        _steps(opt, params, steps)
        return params, opt

    def checkpoint(module):
        _, opt = run(module)
        return _through_bytes(opt.state_dict())

    sd = checkpoint(first)
    assert all(t.is_complex() for s in sd["state"].values() for k, t in s.items() if k not in ("step", "mu_product"))
    expected, _ = run(torch.optim, checkpoint(torch.optim))  # torch resuming its own checkpoint
    actual, _ = run(then, sd)
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-15)
