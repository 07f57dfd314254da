"""optlib.optim, the torch front, against torch.optim in float64.

Every drop-in optimizer runs 50 steps on a small nonconvex problem (tensors of five shapes, two
param groups with different lrs and per-group overrides) next to its torch.optim namesake, with
foreach=False (the single-tensor reference) and, once per optimizer, the default path; parameters
and state must agree to 1e-10. Then: state_dict round trips (bitwise), loading across optlib and torch,
add_param_group, zero_grad, closures and the constructor signatures. The largest difference per
optimizer goes to artifacts/optimizer-diffs.json (see conftest.py); `pytest -s` prints it.
"""

import copy
import inspect
import io

import pytest
import torch

import optlib.optim as oo
from helpers import TOL, bitwise_equal, initial_params, leaves, loss_fn, max_abs_diff, train, two_groups

STEPS = 50
DROP_IN = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "NAdam", "RAdam"]

# name -> [(setting id, constructor kwargs, overrides of the second param group)]
SETTINGS = {
    "SGD": [
        ("plain", dict(lr=0.05), dict(lr=0.02)),
        ("momentum+dampening", dict(lr=0.05, momentum=0.9, dampening=0.3), dict(lr=0.1, momentum=0.5)),
        ("nesterov", dict(lr=0.05, momentum=0.9, nesterov=True), dict(lr=0.01)),
        ("weight_decay+maximize", dict(lr=0.02, momentum=0.8, weight_decay=0.1, maximize=True), dict(lr=0.01)),
        ("negative dampening", dict(lr=0.03, momentum=0.7, dampening=-0.2, weight_decay=0.05), dict(momentum=0.0)),
    ],
    "Adagrad": [
        ("lr_decay+initial_accumulator_value", dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.3),
         dict(lr=0.05)),
        ("weight_decay+eps, group accumulator ignored", dict(lr=0.1, weight_decay=0.1, eps=1e-6),
         dict(lr=0.2, lr_decay=0.1, initial_accumulator_value=5.0)),
        ("maximize", dict(lr=0.05, maximize=True, lr_decay=0.01), dict(lr=0.02)),
    ],
    "RMSprop": [
        ("plain", dict(lr=0.01), dict(lr=0.005)),
        ("centered+momentum", dict(lr=0.01, centered=True, momentum=0.9), dict(lr=0.003)),
        ("momentum+weight_decay+alpha", dict(lr=0.005, momentum=0.5, weight_decay=0.1, alpha=0.9), dict(lr=0.01)),
        ("centered+maximize", dict(lr=0.005, centered=True, maximize=True, eps=1e-6), dict(lr=0.01)),
        ("per-group centered+momentum", dict(lr=0.01), dict(momentum=0.9, centered=True)),
    ],
    "Adam": [
        ("betas+eps", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6), dict(lr=0.003)),
        ("amsgrad", dict(lr=0.02, amsgrad=True), dict(lr=0.05)),
        ("L2 weight_decay+maximize", dict(lr=0.01, weight_decay=0.1, maximize=True), dict(lr=0.02)),
        ("decoupled+amsgrad", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, amsgrad=True),
         dict(weight_decay=0.0)),
    ],
    "AdamW": [
        ("default weight_decay", dict(lr=0.01), dict(lr=0.02)),
        ("amsgrad+weight_decay", dict(lr=0.01, weight_decay=0.3, amsgrad=True), dict(weight_decay=0.0)),
        ("maximize+betas", dict(lr=0.005, maximize=True, betas=(0.5, 0.9)), dict(lr=0.01)),
    ],
    "NAdam": [
        ("default", dict(lr=0.01), dict(lr=0.004)),
        ("momentum_decay", dict(lr=0.01, momentum_decay=0.05), dict(momentum_decay=0.0)),
        ("L2 weight_decay", dict(lr=0.01, weight_decay=0.1), dict(lr=0.02)),
        ("decoupled+maximize", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True),
         dict(lr=0.005)),
    ],
    "RAdam": [
        ("default", dict(lr=0.01), dict(lr=0.03)),
        ("beta2=0.9", dict(lr=0.01, betas=(0.9, 0.9)), dict(lr=0.02)),
        ("L2 weight_decay+maximize", dict(lr=0.01, weight_decay=0.1, maximize=True), dict(lr=0.005)),
        ("decoupled", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True), dict(lr=0.02)),
    ],
}
CASES = [pytest.param(name, kw, second, id=f"{name}-{sid}")
         for name, rows in SETTINGS.items() for sid, kw, second in rows]
REFERENCE_PATHS = {"foreach=False": dict(foreach=False), "default": {}}


def run(cls, kw, second, steps=STEPS, params=None, closure=False):
    params = leaves(initial_params() if params is None else params)
    opt = cls(two_groups(params, second), **kw)
    train(opt, params, steps, closure=closure)
    return params, opt


def assert_same_state(opt_a, params_a, opt_b, params_b):
    """Same state keys, dtypes and shapes; values within TOL relative to their size (RMSprop's
    momentum buffer holds g / sqrt(v), of order 1, where rounding differences grow)."""
    for pa, pb in zip(params_a, params_b):
        sa, sb = opt_a.state[pa], opt_b.state[pb]
        assert set(sa) == set(sb), (set(sa), set(sb))
        for key in sa:
            a, b = torch.as_tensor(sa[key]), torch.as_tensor(sb[key])
            if torch.is_tensor(sb[key]):
                assert torch.is_tensor(sa[key]) and a.dtype == b.dtype and a.shape == b.shape, key
            scale = max(1.0, b.abs().max().item())
            assert max_abs_diff([a], [b]) <= TOL * scale, key


def compare_with_torch(name, kw, second, paths, diff_log, label=""):
    params, opt = run(getattr(oo, name), kw, second)
    assert max_abs_diff(params, initial_params()) > 1e-3  # it did move
    for path in paths:
        ref_params, ref_opt = run(getattr(torch.optim, name), {**kw, **REFERENCE_PATHS[path]}, second)
        diff = max_abs_diff(params, ref_params)
        diff_log.record(f"torch front vs torch.optim ({path}), {STEPS} steps", name,
                        f"{kw}, group 2 {second}{label}", diff)
        assert diff <= TOL, f"{path}: params differ by {diff}"
        assert_same_state(opt, params, ref_opt, ref_params)


FIRST_SETTING = {name: rows[0][0] for name, rows in SETTINGS.items()}


@pytest.mark.parametrize("name, kw, second", CASES)
def test_matches_torch_optim(name, kw, second, request, diff_log, float64_default):
    """The reference: torch.optim with foreach=False, 50 steps, params and state within 1e-10;
    for each optimizer's first setting also torch's default path (the single-tensor loop on CPU)."""
    first = request.node.callspec.id == f"{name}-{FIRST_SETTING[name]}"
    compare_with_torch(name, kw, second, ["foreach=False", "default"] if first else ["foreach=False"], diff_log)


@pytest.mark.parametrize("name", ["NAdam", "Adam"])
def test_matches_torch_with_float32_default_dtype(name, diff_log):
    """Explicit float64 tensors under the float32 default: torch keeps `step` and NAdam's
    `mu_product` as float32 0-dim tensors; optlib must keep the same (and so compute the same)."""
    _, kw, second = SETTINGS[name][0]
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        compare_with_torch(name, kw, second, ["foreach=False"], diff_log, label=", default float32")
    finally:
        torch.set_default_dtype(old)


@pytest.mark.parametrize("name", DROP_IN)
def test_closure_returns_the_loss_and_matches_torch(name):
    _, kw, second = SETTINGS[name][-1]
    params, _ = run(getattr(oo, name), kw, second, steps=10, closure=True)
    ref, _ = run(getattr(torch.optim, name), {**kw, "foreach": False}, second, steps=10, closure=True)
    assert max_abs_diff(params, ref) <= TOL

    p = leaves(initial_params())
    opt = getattr(oo, name)(p, **kw)
    calls = []

    def closure():
        calls.append(torch.is_grad_enabled())  # step() runs under no_grad; the closure must not
        opt.zero_grad()
        loss = loss_fn(p)
        loss.backward()
        return loss

    expected = loss_fn(p).item()
    loss = opt.step(closure)
    assert calls == [True]
    assert torch.is_tensor(loss) and loss.item() == expected
    assert opt.step() is None


@pytest.mark.parametrize("name", DROP_IN + ["AdaBound", "SWATS"])
@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(name, set_to_none):
    p = leaves(initial_params())
    opt = getattr(oo, name)(p, lr=0.01)
    loss_fn(p).backward()
    assert all(q.grad is not None and q.grad.abs().sum() > 0 for q in p[:3])
    opt.zero_grad(set_to_none=set_to_none)
    for q in p:
        if set_to_none:
            assert q.grad is None
        else:
            assert q.grad is not None and torch.count_nonzero(q.grad) == 0
    opt.zero_grad()  # torch's default: set_to_none=True
    assert all(q.grad is None for q in p)


@pytest.mark.parametrize("name", DROP_IN)
def test_add_param_group_matches_torch(name):
    """A group added after 5 steps, with its own lr and overrides; 20 more steps. (Adagrad's
    setting gives the new group initial_accumulator_value=5.0, which torch ignores: its lazily
    created `sum` starts from the constructor's value.)"""
    _, kw, second = SETTINGS[name][1]

    def go(cls, extra):
        p = leaves(initial_params())
        opt = cls(p[:2], **kw, **extra)
        train(opt, p, 5)
        opt.add_param_group({"params": p[2:], **second})
        train(opt, p, 20)
        return p, opt

    params, opt = go(getattr(oo, name), {})
    ref, ref_opt = go(getattr(torch.optim, name), dict(foreach=False))
    assert len(opt.param_groups) == 2
    assert opt.param_groups[1].keys() == ref_opt.param_groups[1].keys()
    for key, value in second.items():
        assert opt.param_groups[1][key] == value
    assert max_abs_diff(params, ref) <= TOL


@pytest.mark.parametrize("name", ["Adagrad"])
def test_adagrad_added_group_accumulator_starts_like_torch(name):
    p = leaves(initial_params())
    states = []
    for cls in (getattr(oo, name), getattr(torch.optim, name)):
        opt = cls([p[0]], lr=0.1, initial_accumulator_value=0.5)
        opt.add_param_group({"params": [p[1]], "initial_accumulator_value": 5.0})
        for q in p:
            q.grad = torch.ones_like(q)
        opt.step()
        states.append(opt.state[p[1]]["sum"])
        p = leaves(initial_params())
    assert torch.equal(states[0], states[1]), (states[0], states[1])  # torch: 0.5 + 1


def test_add_param_group_rejects_duplicates_like_torch():
    p = leaves(initial_params())
    for cls in (oo.Adam, torch.optim.Adam):
        opt = cls(p[:2])
        with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
            opt.add_param_group({"params": p[1:3]})


# ------------------------------------------------------------------------------ signatures

def _sig(cls):
    return [(q.name, q.kind, q.default) for q in inspect.signature(cls).parameters.values()]


@pytest.mark.parametrize("name", DROP_IN)
def test_signature_is_torchs(name):
    # names, order, kinds and defaults; torch's annotations (Union[float, Tensor], ...) are not copied
    assert _sig(getattr(oo, name)) == _sig(getattr(torch.optim, name))


@pytest.mark.parametrize("name", DROP_IN)
def test_positional_arguments_bind_like_torch(name):
    """Every argument torch takes positionally is accepted positionally (with its default value)."""
    torch_sig = inspect.signature(getattr(torch.optim, name))
    positional = [q.default for q in torch_sig.parameters.values()
                  if q.kind is q.POSITIONAL_OR_KEYWORD and q.name != "params"]
    p = leaves(initial_params())
    ref = getattr(torch.optim, name)(p, *positional)
    opt = getattr(oo, name)(p, *positional)
    assert opt.param_groups[0].keys() == ref.param_groups[0].keys()
    assert {k: v for k, v in opt.param_groups[0].items() if k != "params"} == \
        {k: v for k, v in ref.param_groups[0].items() if k != "params"}


# ------------------------------------------------------------------------------ state dicts

ROUND_TRIP = {
    **{name: (lambda p, name=name: getattr(oo, name)(two_groups(p, SETTINGS[name][1][2]), **SETTINGS[name][1][1]))
       for name in DROP_IN},
    "AdaBound": lambda p: oo.AdaBound(two_groups(p, dict(lr=0.02)), lr=0.01, final_lr=0.05, amsbound=True),
    "SWATS": lambda p: oo.SWATS(two_groups(p, dict(lr=0.002)), lr=0.01),
    "Lookahead(torch SGD)": lambda p: oo.Lookahead(torch.optim.SGD(two_groups(p, dict(lr=0.02)), lr=0.05,
                                                                   momentum=0.9), k=3, alpha=0.6),
    "Lookahead(optlib Adam)": lambda p: oo.Lookahead(oo.Adam(two_groups(p, dict(lr=0.02)), lr=0.01, amsgrad=True),
                                                     k=3, alpha=0.5),
}


def _through_bytes(sd):
    buf = io.BytesIO()
    torch.save(sd, buf)
    buf.seek(0)
    return torch.load(buf)


@pytest.mark.parametrize("name", list(ROUND_TRIP))
def test_state_dict_round_trip_is_bitwise(name, float64_default):
    """20 steps, state_dict() through torch.save/torch.load (and, separately, deepcopy), a fresh
    model and optimizer load it and take 20 more steps: bitwise the uninterrupted 40-step run."""
    make = ROUND_TRIP[name]
    params = leaves(initial_params())
    opt = make(params)
    train(opt, params, 20)
    saved = {"torch.save": _through_bytes(opt.state_dict()), "deepcopy": copy.deepcopy(opt.state_dict())}
    snapshot = [p.detach().clone() for p in params]
    if name == "SWATS":  # the linear tensor switches to SGD within 20 steps: the phase must survive
        assert opt.state[params[4]]["switched"] is True
    train(opt, params, 20)  # the uninterrupted run: 40 steps

    for how, sd in saved.items():
        fresh = leaves(snapshot)
        opt2 = make(fresh)
        opt2.load_state_dict(sd)
        train(opt2, fresh, 20)
        assert bitwise_equal(params, fresh), f"{how}: max diff {max_abs_diff(params, fresh)}"


@pytest.mark.parametrize("name", DROP_IN)
def test_state_dict_layout_is_torchs(name):
    _, kw, second = SETTINGS[name][1]
    params, opt = run(getattr(oo, name), kw, second, steps=3)
    ref_params, ref = run(getattr(torch.optim, name), kw, second, steps=3)
    sd, ref_sd = opt.state_dict(), ref.state_dict()
    assert sd["state"].keys() == ref_sd["state"].keys()
    for i in sd["state"]:
        assert sd["state"][i].keys() == ref_sd["state"][i].keys()
    assert [g.keys() for g in sd["param_groups"]] == [g.keys() for g in ref_sd["param_groups"]]
    assert sd["param_groups"] == ref_sd["param_groups"]


@pytest.mark.parametrize("direction", ["optlib->torch", "torch->optlib"])
@pytest.mark.parametrize("name", DROP_IN)
def test_state_dict_loads_across_optlib_and_torch(name, direction, float64_default):
    """The docstring promises torch's state-dict keys: a checkpoint moves between the two."""
    _, kw, second = SETTINGS[name][1]
    first, then = (oo, torch.optim) if direction == "optlib->torch" else (torch.optim, oo)
    params, opt = run(getattr(first, name), kw, second, steps=10)
    saved = _through_bytes(opt.state_dict())
    snapshot = [p.detach().clone() for p in params]
    train(opt, params, 10)  # 20 steps with one implementation

    fresh = leaves(snapshot)
    opt2 = getattr(then, name)(two_groups(fresh, second), **kw)
    opt2.load_state_dict(saved)
    train(opt2, fresh, 10)
    assert max_abs_diff(params, fresh) <= TOL
