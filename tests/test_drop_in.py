"""What a user migrating real code from torch.optim relies on, beyond the optimizer database
(tests/test_optim_db.py): sparse gradients (nn.Embedding(sparse=True)), tensor learning rates and
betas, the flags that select an implementation (capturable, differentiable), and hooks."""

import copy

import pytest
import torch

import optlib.optim as oo

DROP_IN = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "NAdam", "RAdam"]


def _embedding_run(cls, kwargs, steps=6):
    """An nn.Embedding(sparse=True) trained on a few batches of indices, some repeated (so the
    sparse gradient has duplicate rows that must be coalesced)."""
    torch.manual_seed(0)
    emb = torch.nn.Embedding(10, 3, sparse=True).double()
    opt = cls(emb.parameters(), **copy.deepcopy(kwargs))
    batches = [torch.tensor([1, 2, 2, 7]), torch.tensor([0, 9, 1]), torch.tensor([5, 5, 5, 2])]
    for k in range(steps):
        opt.zero_grad()
        out = emb(batches[k % len(batches)])
        (out.sin().sum() + (out ** 2).sum() * 0.1).backward()
        assert emb.weight.grad.is_sparse
        opt.step()
    return emb.weight.detach(), opt.state_dict()["state"]


SPARSE = {
    "SGD": [dict(lr=0.1), dict(lr=0.05, momentum=0.9), dict(lr=0.05, momentum=0.9, dampening=0.3),
            dict(lr=0.05, momentum=0.9, nesterov=True, maximize=True), dict(lr=0.0048)],
    "Adagrad": [dict(lr=0.1), dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.2), dict(lr=0.1, maximize=True),
                dict(lr=0.1, eps=1e-3)],
}


@pytest.mark.parametrize("name,kwargs", [(n, kw) for n, kws in SPARSE.items() for kw in kws], ids=str)
def test_sparse_gradients_match_torch(name, kwargs):
    expected, expected_state = _embedding_run(getattr(torch.optim, name), kwargs)
    actual, actual_state = _embedding_run(getattr(oo, name), kwargs)
    # To rounding: torch's sparse Adagrad divides, then adds (add_(g / std, alpha=-lr)); optlib runs
    # the rule's own update (addcdiv_) on the touched rows, one rounding apart (measured: 1 ulp).
    tol = dict(rtol=1e-14, atol=1e-15)
    torch.testing.assert_close(actual, expected, **tol)
    assert actual_state.keys() == expected_state.keys()
    for i in expected_state:
        for key, value in expected_state[i].items():
            got = actual_state[i][key]
            assert got.is_sparse == value.is_sparse, key  # SGD's buffer stays sparse, as in torch
            torch.testing.assert_close(got.to_dense(), value.to_dense(), **tol)


def _error_of(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - compared below
        return e
    return None


@pytest.mark.parametrize("name,kwargs", [
    ("Adagrad", dict(weight_decay=0.1)), ("SGD", dict(fused=True)), ("Adagrad", dict(fused=True)),
    ("RMSprop", {}), ("Adam", {}), ("AdamW", {}), ("NAdam", {}), ("RAdam", {})], ids=str)
def test_sparse_gradients_fail_like_torch(name, kwargs):
    expected = _error_of(lambda: _embedding_run(getattr(torch.optim, name), kwargs, steps=1))
    actual = _error_of(lambda: _embedding_run(getattr(oo, name), kwargs, steps=1))
    assert isinstance(expected, RuntimeError), expected
    assert type(actual) is type(expected) and str(actual) == str(expected)


def _train(cls, kwargs, steps=20):
    gen = torch.Generator().manual_seed(3)
    params = [torch.randn(4, 3, generator=gen, dtype=torch.float64).requires_grad_(),
              torch.randn(5, generator=gen, dtype=torch.float64).requires_grad_()]
    opt = cls(params, **kwargs)
    for k in range(steps):
        for p in params:
            p.grad = torch.cos(p.detach()) - 0.1 * k
        opt.step()
    return params


@pytest.mark.parametrize("name", ["Adam", "AdamW", "NAdam", "RAdam"])
def test_float32_tensor_betas_and_lr_give_torchs_numbers_bitwise(name):
    """torch computes the bias corrections in the betas' own dtype (float32 here): so must optlib."""
    kwargs = dict(lr=torch.tensor(0.01), betas=(torch.tensor(0.9), torch.tensor(0.99)))
    expected = _train(getattr(torch.optim, name), kwargs)
    actual = _train(getattr(oo, name), kwargs)
    assert all(torch.equal(a, e) for a, e in zip(actual, expected, strict=True))


def test_one_element_tensor_betas_are_accepted_like_torch():
    kwargs = dict(betas=(torch.tensor([[0.9]]), torch.tensor([0.99])))
    expected = _train(torch.optim.Adam, kwargs, steps=3)
    actual = _train(oo.Adam, kwargs, steps=3)
    assert all(torch.equal(a, e) for a, e in zip(actual, expected, strict=True))


@pytest.mark.parametrize("name", DROP_IN)
def test_differentiable_is_refused_naming_the_flag_and_why(name):
    p = torch.zeros(2, requires_grad=True)
    with pytest.raises(NotImplementedError, match=r"differentiable=True is not supported .*in place") as e:
        getattr(oo, name)([p], differentiable=True)
    assert f"torch.optim.{name}" in str(e.value)  # and where to go instead
    getattr(oo, name)([p], differentiable=False)


@pytest.mark.parametrize("name", ["RMSprop", "Adam", "AdamW", "NAdam", "RAdam"])
def test_capturable_on_cpu_fails_at_step_like_torch(name):
    def attempt(cls):
        p = torch.zeros(2, requires_grad=True)
        opt = cls([p], capturable=True)  # accepted at construction, as in torch
        p.grad = torch.ones(2)
        opt.step()

    expected = _error_of(lambda: attempt(getattr(torch.optim, name)))
    actual = _error_of(lambda: attempt(getattr(oo, name)))
    assert isinstance(expected, AssertionError), expected
    assert type(actual) is type(expected) and str(actual) == str(expected)


@pytest.mark.parametrize("name", DROP_IN)
def test_hooks_run_as_in_torch(name):
    """Step pre/post hooks, state-dict and load-state-dict hooks: called in torch's order with the
    same arguments, and a post hook's returned state dict replaces the original."""
    def record(cls):
        calls = []
        p = torch.ones(3, requires_grad=True)
        opt = cls([p], lr=0.1)
        opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", type(o).__name__, args, kwargs)))
        opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", p.detach().clone())))
        opt.register_state_dict_pre_hook(lambda o: calls.append("sd-pre"))
        opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
        opt.register_load_state_dict_pre_hook(lambda o, sd: calls.append(("load-pre", sorted(sd))))
        opt.register_load_state_dict_post_hook(lambda o: calls.append("load-post"))
        p.grad = torch.full((3,), 0.5)
        opt.step()
        sd = opt.state_dict()
        calls.append(("sd", sorted(sd)))
        sd.pop("extra")
        opt.load_state_dict(sd)
        return calls

    expected, actual = record(getattr(torch.optim, name)), record(getattr(oo, name))
    assert len(actual) == len(expected) == 6
    for a, e in zip(actual, expected, strict=True):
        if isinstance(e, tuple) and e[0] == "pre":
            assert a[0] == "pre" and a[1] == name and repr(a[2:]) == repr(e[2:])  # args hold the optimizer
        elif isinstance(e, tuple) and e[0] == "post":
            assert a[0] == "post" and torch.equal(a[1], e[1])
        else:
            assert a == e
