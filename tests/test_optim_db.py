"""PyTorch's own optimizer test database (``optim_db``) run against ``optlib.optim``.

For every optimizer optlib mirrors, every configuration of ``optim_inputs_func`` (with the
fused / differentiable variants torch's own tests derive from it on CPU, plus foreach=True, which
torch's derivation leaves out on CPU) runs on CPU, in float64
and float32, on real and on complex parameters: torch and optlib from the same start, the same
gradients for several steps, then parameters and state compared. Where torch raises, optlib must
raise the same exception with the same message. Every ``optim_error_inputs_func`` case must fail in
optlib exactly as in torch (type and message). What cannot be compared is an exclusion, counted and
with its reason, never a silent skip. The counts (summed over float64 and float32; each
configuration runs twice, on real and on complex parameters) go to artifacts/optim-db-summary.json.
"""

import copy
import json
import pathlib
import re
import warnings

import pytest
import torch
from torch.testing._internal.common_optimizers import (
    OptimizerErrorEnum,
    _get_optim_inputs_including_global_cliquey_kwargs,
    optim_db,
)

import optlib.optim

ROOT = pathlib.Path(__file__).resolve().parents[1]
SUMMARY_FILE = ROOT / "artifacts" / "optim-db-summary.json"
MIRRORED = ("SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "NAdam", "RAdam")
INFO = {info.name: info for info in optim_db if info.name in MIRRORED}
DTYPES = {torch.float64: torch.complex128, torch.float32: torch.complex64}
STEPS = 5
# Single-tensor math against torch's own single-tensor, foreach and fused kernels: the same
# operations, so rounding is all that may differ (measured: below 1e-15 in float64, 1e-6 in float32).
TOL = {torch.float64: dict(rtol=1e-12, atol=1e-14), torch.float32: dict(rtol=2e-5, atol=2e-6)}
DIFFERENTIABLE_REASON = (
    "differentiable=True: torch's step on leaf parameters raises (an in-place operation on a leaf "
    "that requires grad), and optlib refuses the flag by design with a NotImplementedError "
    "(its one deliberate difference); the refusal is asserted")


def test_the_database_covers_every_mirrored_optimizer():
    assert sorted(INFO) == sorted(MIRRORED)


def _params(dtype, kind):
    gen = torch.Generator().manual_seed(0)
    if kind == "complex":  # torch's complex tests: a complex parameter next to a real one
        return [torch.randn(3, 2, generator=gen, dtype=DTYPES[dtype]), torch.randn(3, generator=gen, dtype=dtype)]
    return [torch.randn(s, generator=gen, dtype=dtype) for s in [(3, 2), (3,), ()]]


def _run(cls, params0, kwargs):
    """STEPS steps from params0 with gradients that depend on the parameters (so differences grow)."""
    params = [p.clone().requires_grad_(True) for p in params0]
    opt = cls(params, **copy.deepcopy(kwargs))
    for k in range(STEPS):
        for p in params:
            p.grad = torch.sin(p.detach()) + 0.3 * (k + 1)
        opt.step()
    return params, opt.state_dict()["state"]


def _outcome(cls, params0, kwargs):
    try:
        return _run(cls, params0, kwargs), None
    except Exception as e:  # noqa: BLE001 - the exception itself is what is compared
        return None, e


def _max_diff(expected, actual, tol, where):
    """Largest |difference| over two lists of tensors, asserting closeness to `tol`."""
    worst = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = torch.as_tensor(e), torch.as_tensor(a)
        assert e.dtype == a.dtype and e.shape == a.shape, (e.dtype, a.dtype, e.shape, a.shape)
        torch.testing.assert_close(a, e, **tol, msg=lambda m: f"{where}: {m}")
        if e.numel():
            worst = max(worst, (a.detach() - e.detach()).abs().max().item())
    return worst


@pytest.fixture(scope="module")
def summary():
    """optimizer -> counts; written to artifacts/optim-db-summary.json when the module is done."""
    counts = {}
    yield counts
    if counts:
        SUMMARY_FILE.parent.mkdir(parents=True, exist_ok=True)
        SUMMARY_FILE.write_text(json.dumps(dict(sorted(counts.items())), indent=2, sort_keys=True) + "\n")


def _entry(summary, name):
    return summary.setdefault(name, {
        "configurations": 0, "foreach_configurations_added": 0, "runs": 0, "runs_passed_same_numbers": 0, "runs_passed_same_error": 0,
        "excluded": {}, "not_run": {}, "largest_abs_diff": {}, "error_inputs": 0, "error_inputs_passed": 0})


@pytest.mark.parametrize("dtype", list(DTYPES), ids=str)
@pytest.mark.parametrize("name", MIRRORED)
def test_every_optim_db_configuration_matches_torch(name, dtype, summary):
    entry = _entry(summary, name)
    torch_cls, our_cls = getattr(torch.optim, name), getattr(optlib.optim, name)
    configs = _get_optim_inputs_including_global_cliquey_kwargs("cpu", dtype, INFO[name])
    assert configs, name
    entry["configurations"] += len(configs)
    # torch's derivation leaves out foreach=True on CPU (no foreach kernels there), but a user may
    # still ask for it and torch then runs its multi-tensor code: compare with that too.
    foreach = [c for c in INFO[name].optim_inputs_func("cpu") if "foreach" not in c.kwargs]
    for c in foreach:
        c.kwargs = {**c.kwargs, "foreach": True}
        c.desc += " & foreach (added)"
    entry["foreach_configurations_added"] += len(foreach)
    configs = configs + foreach
    # Configurations the database offers only for CUDA (capturable=True, tensor lr with capturable):
    # torch itself refuses capturable on CPU, so they cannot run here. Counted, with the reason.
    cuda_only = len(INFO[name].optim_inputs_func("cuda")) - len(INFO[name].optim_inputs_func("cpu"))
    if cuda_only:
        reason = "CUDA-only configurations of optim_inputs_func (capturable=True): torch cannot run them on CPU"
        entry["not_run"][reason] = entry["not_run"].get(reason, 0) + cuda_only
    diffs = entry["largest_abs_diff"]
    for config in configs:
        kwargs = config.kwargs
        for kind in ("real", "complex"):
            where = f"{name} {dtype} {kind} [{config.desc}] {kwargs}"
            entry["runs"] += 1
            params0 = _params(dtype, kind)
            if kwargs.get("differentiable"):
                with pytest.raises(NotImplementedError, match="differentiable=True is not supported"):
                    _run(our_cls, params0, kwargs)
                excluded = entry["excluded"]
                excluded[DIFFERENTIABLE_REASON] = excluded.get(DIFFERENTIABLE_REASON, 0) + 1
                continue
            expected, torch_error = _outcome(torch_cls, params0, kwargs)
            actual, our_error = _outcome(our_cls, params0, kwargs)
            if torch_error is not None:  # e.g. fused kernels on complex parameters
                assert type(our_error) is type(torch_error), (where, torch_error, our_error)
                assert str(our_error) == str(torch_error), where
                entry["runs_passed_same_error"] += 1
                continue
            assert our_error is None, (where, our_error)
            (tp, ts), (op, os_) = expected, actual
            tol = TOL[dtype]
            worst = _max_diff(tp, op, tol, where)
            assert ts.keys() == os_.keys(), where
            for i in ts:
                assert ts[i].keys() == os_[i].keys(), (where, ts[i].keys(), os_[i].keys())
                worst = max(worst, _max_diff([ts[i][k] for k in ts[i]], [os_[i][k] for k in ts[i]], tol, where))
            key = f"{dtype}".replace("torch.", "")
            diffs[key] = max(diffs.get(key, 0.0), worst)
            entry["runs_passed_same_numbers"] += 1


def _error_params(optim_input, dtype):
    if optim_input.params is None:  # the error must come from the hyperparameters
        return [torch.nn.Parameter(torch.randn(2, 3, dtype=dtype))]
    return optim_input.params


def _raised(cls, optim_input, error_on, dtype):
    """The exception (or warning, as an exception) that constructing / stepping raises, else None."""
    params = _error_params(optim_input, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the database's "errors" include a UserWarning
        try:
            opt = cls(params, **optim_input.kwargs)
            if error_on == OptimizerErrorEnum.STEP_ERROR:
                for group in opt.param_groups:
                    for p in group["params"]:
                        p.grad = torch.rand_like(p)
                opt.step()
        except Exception as e:  # noqa: BLE001 - the exception itself is what is compared
            return e
    return None


@pytest.mark.parametrize("dtype", list(DTYPES), ids=str)
@pytest.mark.parametrize("name", MIRRORED)
def test_every_optim_db_error_input_fails_like_torch(name, dtype, summary):
    entry = _entry(summary, name)
    cases = INFO[name].optim_error_inputs_func("cpu", dtype)
    assert cases, name
    for case in cases:
        oi = case.optimizer_error_input
        where = f"{name} {dtype} [{oi.desc}]"
        entry["error_inputs"] += 1
        expected = _raised(getattr(torch.optim, name), oi, case.error_on, dtype)
        actual = _raised(getattr(optlib.optim, name), oi, case.error_on, dtype)
        assert isinstance(expected, case.error_type), (where, expected)  # the database is right about torch
        assert type(actual) is type(expected), (where, expected, actual)
        assert str(actual) == str(expected), where
        assert re.search(case.error_regex, str(actual)), where
        entry["error_inputs_passed"] += 1

