"""optlib.train on small subsets: determinism, divergence, the result cache, quick mode, LR range test."""

import io
import math
import re

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

from helpers import small_fashion

from optlib import data
from optlib import train as tr
from optlib.train import (
    Comparison,
    DivergenceWarning,
    History,
    case_study_settings,
    compare,
    lr_range_test,
    mlp,
    subset,
    train,
)

SGD = (torch.optim.SGD, dict(lr=0.1, momentum=0.9))


@pytest.fixture(scope="module")
def small():
    """2,000 training and 500 test images: the real ones if present, else separable synthetic blobs."""
    return small_fashion(2000, 500)


@pytest.fixture(autouse=True)
def no_quick_mode(monkeypatch, tmp_path):
    monkeypatch.delenv("OPTBOOK_QUICK", raising=False)
    monkeypatch.setenv("OPTLIB_CACHE", str(tmp_path / "runs"))


def curves(h):
    return {k: v for k, v in h.to_dict().items() if k != "epoch_time"}  # wall time is the only non-determinism


def test_model_shape_and_seeded_init():
    a, b, c = mlp(0), mlp(0), mlp(1)
    assert [m.__class__.__name__ for m in a] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert a(torch.zeros(3, 784)).shape == (3, 10)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a[0].weight, c[0].weight)


def test_subset_is_stratified_and_seeded(small):
    (x, y), _ = small
    xs, ys = subset(x, y, 500)
    assert len(ys) == 500 and ys.bincount().tolist() == [50] * 10
    assert torch.equal(subset(x, y, 500)[0], xs)


def test_end_to_end_loss_decreases(small):
    h = train(SGD, epochs=3, data=small, progress=False, device="cpu")
    assert h.epochs == 3 and h.diverged_at is None
    assert h.train_loss[2] < h.train_loss[0] and h.test_loss[2] < h.test_loss[0]
    assert h.test_acc[-1] > 0.6  # chance is 0.1
    assert all(t > 0 for t in h.epoch_time) and h.lr == [0.1] * 3


def test_same_seed_same_history_on_cpu(small):
    make = lambda p: torch.optim.Adam(p, lr=1e-3)  # a callable works as well as a spec
    h1 = train(make, epochs=2, seed=3, data=small, progress=False, device="cpu")
    h2 = train(make, epochs=2, seed=3, data=small, progress=False, device="cpu")
    h3 = train(make, epochs=2, seed=4, data=small, progress=False, device="cpu")
    assert curves(h1) == curves(h2)
    assert curves(h1) != curves(h3)


def test_divergence_stops_cleanly(small):
    with pytest.warns(DivergenceWarning, match=r"diverged at epoch 1, step \d+: loss = (nan|inf).*learning rate"):
        h = train((torch.optim.SGD, dict(lr=1e6)), epochs=3, data=small, progress=False)
    epoch, step = h.diverged_at
    assert epoch == 1 and step >= 1
    assert h.epochs == 3 and all(math.isnan(v) for v in h.test_acc + h.train_loss)
    assert History.from_dict(h.to_dict()) == h  # NaN curves compare equal after a JSON round trip


def test_scheduler_per_epoch_and_per_batch(small):
    step_lr = (torch.optim.lr_scheduler.StepLR, dict(step_size=1, gamma=0.5))
    h = train(SGD, epochs=3, data=small, scheduler=step_lr, progress=False)
    assert h.lr == [0.1, 0.05, 0.025]
    h = train(SGD, epochs=2, data=small, scheduler=lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda s: 0.99 ** s),
              scheduler_step="batch", progress=False)
    assert h.lr[0] == pytest.approx(0.1 * 0.99 ** 16) and h.lr[1] == pytest.approx(0.1 * 0.99 ** 32)


def test_compare_caches_results(small, monkeypatch, tmp_path):
    runs = {"SGD": SGD, "Adam": (torch.optim.Adam, dict(lr=1e-3))}
    first = compare(runs, seeds=(0, 1), epochs=2, data=small, progress=False)
    assert isinstance(first, Comparison) and len(list((tmp_path / "runs").glob("*.json"))) == 4

    calls = []
    real_train = tr.train
    monkeypatch.setattr(tr, "train", lambda *a, **k: calls.append(k) or real_train(*a, **k))
    again = compare(runs, seeds=(0, 1), epochs=2, data=small, progress=False)
    assert calls == [] and again.runs == first.runs  # loaded from disk, not trained

    compare({"SGD": (torch.optim.SGD, dict(lr=0.1, momentum=0.8))}, seeds=(0,), epochs=2, data=small,
            progress=False)
    compare({"SGD": SGD}, seeds=(0,), epochs=2, batch_size=64, data=small, progress=False)
    compare({"SGD": SGD}, seeds=(0,), epochs=2, data=small, progress=False, cache=False)
    assert len(calls) == 3  # other kwargs, other batch size, cache=False: all trained

    rows = first.rows()
    assert [r["run"] for r in rows] == ["SGD", "Adam"] and 0.6 < rows[0]["final_acc"] <= 1
    text = first.summary()
    assert "SGD" in text and "±" in text and "<table>" in text._repr_html_()
    fig = first.plot()
    assert [ax.get_xlabel() for ax in fig.axes] == ["epoch", "epoch"]
    assert [ax.get_ylabel() for ax in fig.axes] == ["cross-entropy loss", "accuracy (%)"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["SGD", "Adam"]  # one legend, off the axes
    assert all(ax.get_legend() is None for ax in fig.axes)
    assert len(fig.axes[1].collections) == 2  # a band over the 2 seeds per run


def test_compare_refuses_lambdas_when_caching(small):
    with pytest.raises(TypeError, match="spec"):
        compare({"SGD": lambda p: torch.optim.SGD(p, lr=0.1)}, epochs=1, data=small, progress=False)


def test_wrapper_spec(small):
    class Wrapper(torch.optim.Optimizer):  # stands for Lookahead(inner, k, alpha)
        def __init__(self, inner, k):
            self.inner, self.k = inner, k
            self.param_groups = inner.param_groups

        def zero_grad(self, set_to_none=True):
            self.inner.zero_grad(set_to_none)

        def step(self):
            self.inner.step()

    h = train((Wrapper, dict(k=5), SGD), epochs=1, data=small, progress=False)
    assert h.diverged_at is None and h.test_acc[0] > 0.3  # chance is 0.1


def test_quick_mode(small, monkeypatch):
    monkeypatch.setenv("OPTBOOK_QUICK", "1")
    assert case_study_settings() == dict(quick=True, n_train=10_000, n_test=2_000, max_epochs=3)
    assert case_study_settings(quick=False)["n_train"] is None
    h = train(SGD, epochs=20, data=small, progress=False)
    assert h.epochs == 3
    monkeypatch.setenv("OPTBOOK_QUICK", "0")
    assert not case_study_settings()["quick"]


def test_lr_range_test(small):
    result = lr_range_test((torch.optim.SGD, dict(lr=1.0)), steps=100, data=small, progress=False)
    assert 10 < len(result.lrs) <= 100 and result.lrs == sorted(result.lrs)
    assert result.lrs[0] == pytest.approx(1e-5)
    assert len(result.losses) == len(result.lrs) and min(result.losses) < result.losses[0]
    assert len(result.lrs) < 100  # lr up to 10 makes plain SGD explode: the test stops early
    ax = result.plot()
    assert ax.get_xscale() == "log"


# ------------------------------------------------------------------------ arguments, divergence, parallel

@pytest.mark.parametrize("kwargs, name", [
    (dict(batch_size=-1), "batch_size"), (dict(batch_size=0), "batch_size"), (dict(epochs=-1), "epochs"),
    (dict(epochs=0), "epochs"), (dict(n_train=-5), "n_train"), (dict(n_train=0), "n_train"),
    (dict(n_test=0), "n_test"), (dict(seed=-1), "seed"), (dict(seed=1.5), "seed"),
    (dict(scheduler_step="batches"), "scheduler_step"), (dict(batch_size=True), "batch_size"),
])
def test_bad_arguments_name_themselves(small, kwargs, name):
    value = repr(next(iter(kwargs.values())))
    compare_kwargs = {"seeds" if k == "seed" else k: (v,) if k == "seed" else v for k, v in kwargs.items()}
    for call in (lambda: train(SGD, data=small, progress=False, **kwargs),
                 lambda: compare({"SGD": SGD}, data=small, progress=False, **compare_kwargs)):
        with pytest.raises(ValueError, match=rf"{name} .*{re.escape(value)}"):
            call()


@pytest.mark.parametrize("kwargs, name", [
    (dict(lr_min=0), "lr_min"), (dict(lr_max=-1.0), "lr_max"), (dict(lr_min=1.0, lr_max=0.5), "lr_min"),
    (dict(steps=0), "steps"), (dict(smoothing=1.0), "smoothing"), (dict(batch_size=0), "batch_size"),
])
def test_lr_range_test_bad_arguments(small, kwargs, name):
    with pytest.raises(ValueError, match=name):
        lr_range_test(SGD, data=small, progress=False, **kwargs)


def test_compare_bad_runs_seeds_workers(small):
    with pytest.raises(ValueError, match="runs"):
        compare({}, data=small, progress=False)
    with pytest.raises(ValueError, match="seeds"):
        compare({"SGD": SGD}, seeds=(0, 0), data=small, progress=False)
    with pytest.raises(ValueError, match="workers must be a positive integer, got 0"):
        compare({"SGD": SGD}, workers=0, data=small, progress=False)
    with pytest.raises(ValueError, match="seed must be a non-negative integer, got 1.5"):  # a lone non-integer seed
        compare({"SGD": SGD}, seeds=1.5, data=small, progress=False)


class BlowsUpLast(torch.optim.SGD):
    """SGD whose very last step writes infinities into the parameters: the training loss never sees it."""

    last_step = None

    def step(self, closure=None):
        super().step(closure)
        self.count = getattr(self, "count", 0) + 1
        if self.count == self.last_step:
            with torch.no_grad():
                for group in self.param_groups:
                    for p in group["params"]:
                        p.fill_(math.inf)


def test_divergence_in_the_last_step_is_flagged(small):
    steps_per_epoch = math.ceil(2000 / 128)
    BlowsUpLast.last_step = 2 * steps_per_epoch
    with pytest.warns(DivergenceWarning, match=rf"diverged at epoch 2, step {steps_per_epoch}"):
        h = train((BlowsUpLast, dict(lr=0.1)), epochs=2, data=small, progress=False)
    assert h.diverged_at == (2, steps_per_epoch)
    assert not math.isnan(h.test_acc[0]) and math.isnan(h.test_acc[1])


def test_parallel_training_is_bit_identical_to_serial(small):
    runs = {"SGD": SGD, "Adam": (torch.optim.Adam, dict(lr=1e-3))}
    serial = compare(runs, seeds=(0, 1), epochs=2, data=small, progress=False, cache=False, workers=1)
    parallel = compare(runs, seeds=(0, 1), epochs=2, data=small, progress=False, cache=False, workers=2)
    assert {n: [curves(h) for h in hs] for n, hs in serial.runs.items()} == \
           {n: [curves(h) for h in hs] for n, hs in parallel.runs.items()}


def test_parallel_workers_report_divergence(small):
    with pytest.warns(DivergenceWarning) as caught:
        result = compare({"big": (torch.optim.SGD, dict(lr=1e6))}, seeds=(0, 1), epochs=1, data=small,
                         progress=False, cache=False, workers=2)
    assert sorted(str(w.message)[:33] for w in caught) == ["big (seed 0): diverged at epoch 1",
                                                           "big (seed 1): diverged at epoch 1"]
    assert all(h.diverged_at for h in result.runs["big"])


def test_table_html_keeps_a_value_and_its_interval_on_one_line():
    table = tr.Table(["entry", "vs SGD (points)"], [["Adam", "+1.4 ± 1.7"], ["NAdam", "+0.84 ± 0.66 *"],
                                                    ["RMSprop", "+1.2 ± <0.1"]], note="a ± b in the note")
    html = table._repr_html_()
    assert "<td>+1.4\u00a0±\u00a01.7</td>" in html and "<td>+0.84\u00a0±\u00a00.66\u00a0*</td>" in html
    assert "<td>+1.2\u00a0±\u00a0&lt;0.1</td>" in html  # escaped as before
    assert "a ± b in the note" in html and str(table).count("+1.4 ± 1.7") == 1  # the plain text keeps its spaces


def test_table_statistics_and_html(small):
    runs = {"SGD": SGD, "slow SGD": (torch.optim.SGD, dict(lr=0.001))}
    result = compare(runs, seeds=(0, 1, 2), epochs=2, data=small, progress=False)
    text = result.table(baseline="SGD")
    assert "(baseline)" in text and "lower by" in text and "95 % t interval" in text
    assert text.body[1][-1] == result.verdict("slow SGD", "SGD")
    html = text._repr_html_()
    assert html.startswith('<div style="overflow-x: auto') and html.count("<tr>") == 3
    one = compare({"SGD": SGD}, seeds=(0,), epochs=2, data=small, progress=False)
    assert "(1 seed)" in one.table() and "± 0.00" not in one.table()
    with pytest.raises(ValueError, match="baseline 'nope'"):
        result.table(baseline="nope")
    with pytest.warns(DivergenceWarning):
        blown = compare({"huge": (torch.optim.SGD, dict(lr=1e6))}, seeds=(0, 1), epochs=2, data=small, progress=False)
    row = blown.table().body[0]
    assert row[3] == "diverged" and row[-1] == "2/2" and "nan" not in str(blown.table())


def test_progress_summary_when_nobody_watches_bars(small, monkeypatch, capsys):
    monkeypatch.setenv("OPTLIB_PROGRESS", "summary")
    compare({"SGD": SGD}, seeds=(0, 1), epochs=1, data=small, workers=1)
    out = capsys.readouterr()
    assert re.fullmatch(r"trained 2 run\(s\), 2 epochs, in \d+ s \(1 process\(es\)\)\n", out.out)
    assert "%|" not in out.err  # no bar either


def test_an_early_stop_closes_the_bar_complete():
    from tqdm import tqdm

    bar = tqdm(total=300, disable=False, file=io.StringIO())
    bar.update(40)
    tr._close_complete(bar)
    assert bar.total == bar.n == 40  # JupyterLab's widget shows a finished (green) bar, not a red one


def test_select_lr_on_a_validation_split(monkeypatch):
    from optlib import tuning

    if data.find() is None:
        pytest.skip("Fashion-MNIST not installed")
    (fit, val) = tuning.validation_split()
    assert len(fit[1]) == 50_000 and len(val[1]) == 10_000 and val[1].bincount().tolist() == [1000] * 10
    _, (xte, _) = tr.default_data()
    assert not any(torch.equal(xte[0], v) for v in val[0][:100])  # validation images come from training
    with pytest.warns(tuning.GridEdgeWarning, match="larger"):
        choice = tuning.select_lr(SGD, [1e-4, 1e-3, 1e-2], seeds=(0,), epochs=1, n_train=1000, n_test=500,
                                  workers=1, progress=False)
    assert choice.lr == 1e-2 and choice.at_edge and list(choice.scores) == [1e-4, 1e-3, 1e-2]
    assert "<- chosen" in choice.table()
    with pytest.raises(ValueError, match="lrs"):
        tuning.select_lr(SGD, [0.1, 0.1, 0.2])
    assert tuning.log_grid(1e-3, 1e-1) == [0.001, 0.00316, 0.01, 0.0316, 0.1]
    # extending the grid beyond its edge until the best is inside it
    grown = tuning.select_lr(SGD, [1e-4, 1e-3, 1e-2], seeds=(0,), epochs=1, n_train=1000, n_test=500,
                             workers=1, progress=False, extend=3)
    assert not grown.at_edge and grown.lr > 1e-2 and len(grown.scores) > 3
    assert grown.scores[1e-2] == choice.scores[1e-2]  # the runs already done are reused, not redrawn
    with pytest.raises(ValueError, match="extend"):
        tuning.select_lr(SGD, [0.1, 0.2, 0.3], extend=-1)
    # a tuned comparison: each run at its own chosen rate, final runs on the test set
    sgd, adam = (torch.optim.SGD, dict(lr=123.0)), (torch.optim.Adam, {})
    result = tuning.tuned({"SGD": sgd, "Adam": adam}, {"SGD": [1e-2, 1e-1, 1.0], "Adam": [1e-4, 1e-3, 1e-2]},
                          seeds=(0, 1), epochs=1, n_train=1000, n_test=500, workers=1, progress=False)
    for name in ("SGD", "Adam"):
        assert result.specs[name][1]["lr"] == result.lr(name) == result.selections[name].lr
        assert len(result.comparison.runs[name]) == 2
    assert "chosen" in result.table() and "validation" in result.table()
    # n_train reaches the search and the final runs alike: a small-data study is tuned on small data
    assert {result.selections[k].comparison.config["n_train"] for k in ("SGD", "Adam")} == {1000}
    assert result.comparison.config["n_train"] == 1000
    # a schedule sized to each run: the search trains on 50,000 images, the final runs on 60,000
    from optlib import schedules as S

    sized = []
    def cosine(total):
        sized.append(total)
        return (S.FunctionLR, dict(fn=S.cosine, T_max=total))
    cos = tuning.tuned({"SGD": sgd}, [1e-2, 1e-1, 1.0], seeds=(0,), epochs=2, n_train=1000, n_test=500, workers=1,
                       progress=False, schedule=cosine)
    assert sized == [2 * 8, 2 * 8]  # n_train=1000 on both: 8 mini-batches per epoch
    assert cos.comparison.config["scheduler"][1]["T_max"] == 16 and cos.comparison.config["scheduler_step"] == "batch"
    assert tuning.schedule_steps(10, 128, 50_000, quick=False) == 3910
    assert tuning.schedule_steps(10, 128, 60_000, quick=False) == 4690
    with pytest.raises(ValueError, match="schedule"):
        tuning.tuned({"SGD": sgd}, [1e-2, 1e-1, 1.0], schedule=(S.FunctionLR, {}))
    assert tuning.LR_GRID[0] == 1e-4 and tuning.LR_GRID[-1] == 1.0 and len(tuning.LR_GRID) == 9
    monkeypatch.setenv("OPTBOOK_QUICK", "1")
    quick = tuning.tuned({"SGD": sgd}, [1e-2, 1e-1, 1.0], seeds=(0, 1, 2), epochs=1, n_train=500, n_test=200,
                         workers=1, progress=False)
    assert quick.comparison.seeds == (0, 1)  # quick mode keeps two seeds


def test_bars_only_where_someone_watches(monkeypatch):
    import sys
    import types

    class Shell:
        config = {"IPKernelApp": {}}

    monkeypatch.delenv("OPTLIB_PROGRESS", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: None))
    assert tr._interactive()  # a terminal or a script: bars
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=Shell))
    assert not tr._interactive()  # a kernel without a Jupyter server: the book build executing a notebook
    monkeypatch.setenv("JPY_SESSION_NAME", "book/07-adam.ipynb")
    assert tr._interactive()  # a kernel started by JupyterLab
    monkeypatch.setenv("OPTLIB_PROGRESS", "summary")
    assert not tr._interactive()


def test_describe_and_undescribe_round_trip():
    from optlib import optim

    spec = (optim.Lookahead, dict(k=5, alpha=0.5), (optim.Adam, dict(lr=1e-3, betas=(0.9, 0.99))))
    sched = (torch.optim.lr_scheduler.StepLR, dict(step_size=2, gamma=0.5))
    assert tr.undescribe(tr.describe(spec)) == spec
    assert tr.undescribe(tr.describe(sched)) == sched
    with pytest.raises(TypeError, match="spec"):
        tr.describe(lambda p: None)


class Broken(torch.optim.SGD):
    def __init__(self, params, **kwargs):
        raise RuntimeError("broken optimizer")


def test_a_failing_worker_run_raises_without_hanging(small):
    with pytest.raises(RuntimeError, match="broken optimizer"):
        compare({"ok": SGD, "broken": (Broken, dict(lr=0.1))}, seeds=(0, 1), epochs=1, data=small,
                progress=False, cache=False, workers=2)


def test_orders_visit_the_data_as_named(small):
    (x, y), test = small
    once = [train(SGD, epochs=2, seed=0, data=((x, y), test), order=o, progress=False) for o in ("once", "sorted")]
    again = train(SGD, epochs=2, seed=0, data=((x, y), test), order="once", progress=False)
    reshuffled = train(SGD, epochs=2, seed=0, data=((x, y), test), progress=False)
    assert curves(once[0]) == curves(again)  # deterministic
    assert once[0].train_loss != reshuffled.train_loss  # epoch 2 repeats epoch 1's order instead of a new one
    assert once[0].train_loss[0] == reshuffled.train_loss[0]  # epoch 1: the same first permutation
    sorted_run = once[1]
    pred = torch.tensor(sorted_run.confusion).sum(0)  # predictions per class
    assert pred[-1] > 0.5 * len(test[1])  # after class 9 came last, the model predicts mostly class 9
    with pytest.raises(ValueError, match="order"):
        train(SGD, epochs=1, data=((x, y), test), order="random")
    with pytest.raises(ValueError, match="order"):
        compare({"SGD": SGD}, epochs=1, data=((x, y), test), order="shuffled")


def test_confusion_counts_the_test_set(small):
    (x, y), test = small
    h = train(SGD, epochs=1, data=((x, y), test), progress=False)
    table = torch.tensor(h.confusion)
    assert table.shape == (10, 10) and table.sum() == len(test[1])
    assert table.sum(1).tolist() == torch.bincount(test[1], minlength=10).tolist()
    assert table.diag().sum().item() / len(test[1]) == pytest.approx(h.test_acc[-1])


@pytest.mark.parametrize("model", ["mlp-bn", "mlp-dropout"])
def test_chapter_14_models_train_reproducibly(small, model):
    (x, y), test = small
    a, b = (train(SGD, epochs=2, seed=3, data=((x, y), test), model=model, progress=False) for _ in range(2))
    assert curves(a) == curves(b) and a.test_acc[-1] > 0.5
    torch.manual_seed(7)
    before = torch.rand(3)
    torch.manual_seed(7)
    train(SGD, epochs=1, seed=3, data=((x, y), test), model=model, progress=False)
    assert torch.equal(torch.rand(3), before)  # the caller's random state is left alone


def test_lookahead_slow_weights_are_evaluated_too(small):
    from optlib import optim

    (x, y), test = small
    spec = (optim.Lookahead, dict(k=5, alpha=0.5), (torch.optim.SGD, dict(lr=0.1, momentum=0.9)))
    h = compare({"LA": spec}, epochs=2, data=((x, y), test)).runs["LA"][0]
    slow = h.views["slow weights"]
    assert len(slow["test_acc"]) == 2 and slow["test_acc"] != h.test_acc  # 2000/128 = 16 steps: not synced
    # the fast weights are back after evaluating the slow ones: the same curves as without the view
    plain = train(lambda p: optim.Lookahead(torch.optim.SGD(p, lr=0.1, momentum=0.9), k=5, alpha=0.5),
                  epochs=2, data=((x, y), test), progress=False)
    assert plain.test_acc == h.test_acc and plain.train_loss == h.train_loss
    model = mlp(0)
    opt = optim.Lookahead(torch.optim.SGD(model.parameters(), lr=0.1), k=5)
    model(torch.ones(2, 784)).sum().backward()
    opt.step()
    fast = [p.detach().clone() for p in model.parameters()]
    with opt.evaluation_views()["slow weights"]():
        assert all(torch.equal(p, opt.state[p]["slow_param"]) for p in model.parameters())
    assert all(torch.equal(p, f) for p, f in zip(model.parameters(), fast))


def test_swats_reports_its_switch(small):
    from optlib import optim

    (x, y), test = small
    h = compare({"SWATS": (optim.SWATS, dict(lr=1e-3, eps=1e-3))}, epochs=2, data=((x, y), test)).runs["SWATS"][0]
    r = h.report
    assert r["tensors"] == 6 and len(r["switch_steps"]) == 6 and r["switched"] >= 1
    done = [s for s in r["switch_steps"] if s is not None]
    assert len(done) == r["switched"] and all(1 < s <= 2 * 16 for s in done)
    assert all((s is None) == (lr is None) for s, lr in zip(r["switch_steps"], r["sgd_lr"]))
    never = compare({"SWATS": (optim.SWATS, dict(lr=1e-3))}, epochs=1, data=((x, y), test)).runs["SWATS"][0]
    assert never.report["switched"] == 0 and never.report["switch_steps"] == [None] * 6


def test_differences_after_an_epoch_and_the_lr_neighbour_margin(small):
    from optlib import stats, tuning

    result = compare({"SGD": SGD, "slow SGD": (torch.optim.SGD, dict(lr=0.001))}, seeds=(0, 1, 2), epochs=2,
                     data=small, progress=False)
    per_seed = [h.train_loss[0] for h in result.runs["SGD"]]
    assert result.values("SGD", "train_loss", epoch=1) == per_seed
    first = stats.paired_difference([h.test_acc[0] for h in result.runs["SGD"]],
                                    [h.test_acc[0] for h in result.runs["slow SGD"]])
    assert result.difference("SGD", "slow SGD", "test_acc", epoch=1) == first
    assert result.difference("SGD", "slow SGD", "test_acc", epoch=2) == result.difference("SGD", "slow SGD")
    assert result.verdict("SGD", "slow SGD", "test_acc", epoch=1) == stats.verdict(first)
    for bad in (0, 3, True):
        with pytest.raises(ValueError, match="epoch"):
            result.values("SGD", "test_acc", epoch=bad)
    with pytest.raises(ValueError, match="with an epoch"):
        result.values("SGD", "final_acc", epoch=1)
    sel = tuning.LRSelection(0.1, {0.01: 0.80, 0.1: 0.85, 1.0: 0.83}, False, result)
    assert sel.neighbour_drop() == pytest.approx(0.02)
    edge = tuning.LRSelection(0.01, {0.01: 0.86, 0.1: 0.85, 1.0: 0.83}, True, result)
    assert edge.neighbour_drop() == pytest.approx(0.01)  # one neighbour at an edge of the grid
