"""optlib.store: content keys, the two layers, validation, unwritable caches, training forbidden, the CLI."""

import inspect
import json
import math
import warnings

import pytest
import torch

from optlib import data, optim, rules, store
from optlib import train as tr
from helpers import small_fashion

from optlib.train import compare

SGD = (optim.SGD, dict(lr=0.1))
ADAM = (optim.Adam, dict(lr=1e-3))


@pytest.fixture(scope="module")
def small():
    return small_fashion(1000, 300)


@pytest.fixture(autouse=True)
def layers(monkeypatch, tmp_path):
    """Empty user cache, shipped store and manifest in tmp_path; full mode; one process."""
    for name in ("OPTBOOK_QUICK", "OPTLIB_RETRAIN", "OPTLIB_NO_TRAIN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPTLIB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("OPTLIB_STORE", str(tmp_path / "results"))
    monkeypatch.setenv("OPTLIB_MANIFEST", str(tmp_path / "manifest.txt"))
    yield tmp_path
    store.forget_hashes()  # no hash of a monkeypatched source outlives its test


@pytest.fixture
def trained(monkeypatch):
    """The descriptions of the runs that really train (in this process)."""
    calls = []
    real = tr.train
    monkeypatch.setattr(tr, "train", lambda *a, **k: calls.append(k["desc"]) or real(*a, **k))
    return calls


def curves(result):
    """Every curve except wall time, the only thing a retrained run does not reproduce."""
    return {name: [{k: v for k, v in h.to_dict().items() if k != "epoch_time"} for h in hs]
            for name, hs in result.runs.items()}


def run(small, runs, **kw):
    return compare(runs, seeds=kw.pop("seeds", (0,)), epochs=kw.pop("epochs", 1), data=small, progress=False,
                   workers=1, **kw)


def test_same_run_under_two_names_trains_once(small, trained):
    a = run(small, {"SGD": SGD})
    b = run(small, {"SGD, lr = 0.1": SGD})
    assert trained == ["SGD (seed 0)"]
    assert a.runs["SGD"] == b.runs["SGD, lr = 0.1"]


def test_editing_a_rule_misses_only_that_optimizers_runs(small, trained, monkeypatch):
    run(small, {"SGD": SGD, "Adam": ADAM, "AdamW": (optim.AdamW, dict(lr=1e-3))})
    assert len(trained) == 3
    real = inspect.getsource
    monkeypatch.setattr(store.inspect, "getsource",
                        lambda obj: real(obj) + ("# edited\n" if obj is rules.Adam else ""))
    store.forget_hashes()  # the file did not change: drop what was hashed from it
    trained.clear()
    run(small, {"SGD": SGD, "Adam": ADAM, "AdamW": (optim.AdamW, dict(lr=1e-3))})
    assert trained == ["Adam (seed 0)", "AdamW (seed 0)"]  # AdamW's rule builds on Adam's; SGD's does not


def test_key_covers_settings_not_names():
    cpu = torch.device("cpu")
    base = tr.run_config(SGD, 0, 2, 128, None, "epoch", "d", None, None, cpu)
    variants = [tr.run_config((optim.SGD, dict(lr=0.2)), 0, 2, 128, None, "epoch", "d", None, None, cpu),
                tr.run_config(SGD, 1, 2, 128, None, "epoch", "d", None, None, cpu),
                tr.run_config(SGD, 0, 3, 128, None, "epoch", "d", None, None, cpu),
                tr.run_config(SGD, 0, 2, 64, None, "epoch", "d", None, None, cpu),
                tr.run_config(SGD, 0, 2, 128, (torch.optim.lr_scheduler.StepLR, dict(step_size=1)), "epoch", "d",
                              None, None, cpu),
                tr.run_config(SGD, 0, 2, 128, None, "epoch", "other data", None, None, cpu),
                tr.run_config(SGD, 0, 2, 128, None, "epoch", "d", 1000, None, cpu)]
    keys = {store.key_of(c) for c in variants}
    assert store.key_of(base) not in keys and len(keys) == len(variants)
    assert base["torch"] == torch.__version__ and base["optimizer_source"] and base["trainer"]
    assert tr.run_config((torch.optim.SGD, dict(lr=0.1)), 0, 2, 128, None, "epoch", "d", None, None,
                         cpu)["optimizer_source"] is None  # torch's own classes: the torch version covers them


def test_default_data_cannot_be_poisoned(monkeypatch):
    if data.find() is None:
        pytest.skip("Fashion-MNIST not installed")
    settings = dict(epochs=1, n_train=2000, n_test=500, progress=False, device="cpu")
    clean = tr.train(SGD, **settings)
    (x, _), _ = data.load_fashion_mnist()
    backup = x.clone()
    try:
        x.zero_()  # a careless caller modifies the shared tensors in place
        poisoned = tr.train(SGD, **settings)
    finally:
        x.copy_(backup)
    assert poisoned.test_acc == clean.test_acc and poisoned.train_loss == clean.train_loss
    assert clean.test_acc[0] > 0.3  # chance, what zeroed images give, is 0.1
    assert tr.data_identity(None).startswith("fashion-mnist:")


@pytest.mark.parametrize("damage", [
    lambda e: e["history"].update(test_acc=[]),                      # empty history
    lambda e: e["history"].update(train_loss=e["history"]["train_loss"][:1]),  # fewer epochs
    lambda e: e["history"].update(test_acc=["0.9", "0.9"]),          # strings where numbers belong
    lambda e: e["history"].pop("lr"),                                # a key missing
    lambda e: e["config"].update(epochs=3),                          # another configuration
    lambda e: e["history"].update(views={"slow": {"test_acc": [0.5]}}),  # a view without its loss curve
    lambda e: e["history"].update(report=[1, 2]),                    # a report that is not a dict
    lambda e: e["history"].update(confusion=[[1, 2], [3]]),          # a confusion table that is not square
    lambda e: e["history"].update(confusion=[[1, -2], [3, 4]]),      # negative counts
])
def test_wrong_cache_entries_are_retrained(small, trained, layers, damage):
    first = run(small, {"SGD": SGD}, epochs=2)
    (path,) = (layers / "cache").glob("*.json")
    entry = json.loads(path.read_text())
    damage(entry)
    path.write_text(json.dumps(entry))
    again = run(small, {"SGD": SGD}, epochs=2)
    assert len(trained) == 2 and curves(again) == curves(first)
    assert store.validate(json.loads(path.read_text())) is None  # overwritten with a sound entry


def test_unreadable_cache_file_is_retrained(small, trained, layers):
    run(small, {"SGD": SGD})
    (path,) = (layers / "cache").glob("*.json")
    path.write_text('{"key": ')  # a truncated file
    run(small, {"SGD": SGD})
    assert len(trained) == 2


def test_unwritable_cache_warns_and_returns_results(small, layers, monkeypatch):
    blocker = layers / "not-a-directory"
    blocker.write_text("a file where the cache directory should be")
    monkeypatch.setenv("OPTLIB_CACHE", str(blocker / "runs"))
    monkeypatch.setenv("OPTLIB_MANIFEST", str(blocker / "manifest.txt"))
    with pytest.warns(store.StoreWarning, match="could not write"):
        result = run(small, {"SGD": SGD}, seeds=(0, 1))
    assert len(result.runs["SGD"]) == 2 and all(h.epochs == 1 for h in result.runs["SGD"])


def test_interrupted_run_leaves_nothing_behind(small, layers, monkeypatch):
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(tr, "_train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(small, {"SGD": SGD})
    assert not (layers / "cache").exists() or list((layers / "cache").iterdir()) == []


def test_write_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "entry.json"
    target.write_text("old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(store.os, "replace", broken_replace)
    with pytest.raises(OSError):
        store.write_atomically(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["entry.json"]


def test_shipped_store_first_then_cache_and_retrain_switch(small, trained, layers, monkeypatch):
    first = run(small, {"SGD": SGD})
    assert store.promote() == 1 and len(list((layers / "results").glob("*.jsonl"))) == 1
    for f in (layers / "cache").glob("*.json"):
        f.unlink()
    trained.clear()
    again = run(small, {"SGD": SGD})
    assert trained == [] and again.runs == first.runs  # served by the shipped store
    monkeypatch.setenv("OPTLIB_RETRAIN", "1")
    run(small, {"SGD": SGD})
    assert trained == ["SGD (seed 0)"]  # the shipped store is ignored


def test_training_forbidden_fails_on_stale_and_missing_runs(small, layers, monkeypatch):
    run(small, {"SGD": SGD, "Adam": ADAM})
    store.promote()
    run(small, {"other": (optim.SGD, dict(lr=0.07))})  # in the user cache only
    monkeypatch.setenv("OPTLIB_NO_TRAIN", "1")
    run(small, {"SGD": SGD, "Adam": ADAM})  # all shipped: fine
    with pytest.raises(store.StoreMiss, match="other \\(seed 0\\): missing"):
        run(small, {"other": (optim.SGD, dict(lr=0.07))})  # this machine's cache does not count
    real = inspect.getsource
    monkeypatch.setattr(store.inspect, "getsource",
                        lambda obj: real(obj) + ("# edited\n" if obj is rules.Adam else ""))
    store.forget_hashes()  # the file did not change: drop what was hashed from it
    with pytest.raises(store.StoreMiss) as err:
        run(small, {"SGD": SGD, "Adam": ADAM, "new": (optim.SGD, dict(lr=0.05))})
    message = str(err.value)
    assert "2 run(s)" in message and "Adam (seed 0): stale" in message and "new (seed 0): missing" in message
    assert "SGD (seed 0)" not in message and store.REFRESH_COMMAND in message


def test_quick_mode_always_trains_and_is_never_stored(small, trained, layers, monkeypatch):
    monkeypatch.setenv("OPTBOOK_QUICK", "1")
    monkeypatch.setenv("OPTLIB_NO_TRAIN", "1")  # quick mode trains even so: CI runs every training path
    run(small, {"SGD": SGD})
    run(small, {"SGD": SGD})
    assert len(trained) == 2 and not (layers / "cache").exists()


def test_cli_promote_prune_check_status(small, layers, capsys):
    run(small, {"SGD": SGD, "Adam": ADAM})
    assert store.main(["promote"]) == 0 and "promoted 2" in capsys.readouterr().out
    # one file per optimizer class, named after it
    assert sorted(f.name for f in (layers / "results").glob("*.jsonl")) == ["adam.jsonl", "sgd.jsonl"]
    assert store.main(["check"]) == 0 and "ok: 2 shipped runs" in capsys.readouterr().out
    assert store.main(["status"]) == 0 and "2 runs" in capsys.readouterr().out
    assert store.main(["reset-manifest"]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit, match="empty"):
        store.main(["prune"])  # an empty manifest would prune everything: refused
    for f in (layers / "cache").glob("*.json"):
        f.unlink()
    run(small, {"SGD": SGD})  # a build that uses only SGD: recorded in the manifest
    assert store.main(["prune"]) == 0 and "pruned 1" in capsys.readouterr().out
    assert len(store.shipped_entries()) == 1
    shipped = next((layers / "results").glob("*.jsonl"))
    shipped.write_text(shipped.read_text() + '{"key": "broken"}\n')
    assert store.main(["check"]) == 1 and "not a dict with key, config and history" in capsys.readouterr().out


def test_reproduction_check_compares_histories():
    stored = dict(train_loss=[1.0, 0.5], test_loss=[1.0, 0.6], train_acc=[0.5, 0.7], test_acc=[0.5, 0.7])
    close = {k: [v + 1e-5 for v in vs] for k, vs in stored.items()}
    diffs, over = store.compare_histories(stored, close)
    assert over == [] and max(diffs.values()) == pytest.approx(1e-5)
    far = dict(close, test_acc=[0.5, 0.8])
    assert store.compare_histories(stored, far)[1] == ["test_acc"]
    nan = {k: [math.nan, math.nan] for k in stored}
    assert store.compare_histories(nan, nan)[1] == []  # diverged runs reproduce as diverged


def test_verify_retrains_a_shipped_run(layers, monkeypatch):
    if data.find() is None:
        pytest.skip("Fashion-MNIST not installed")
    compare({"SGD": SGD}, epochs=1, n_train=1000, n_test=300, progress=False, workers=1, device="cpu")
    store.promote()
    report, failed = store.verify(1, seed=0)
    assert failed == 0 and len(report) == 1 and "test_acc 0.00e+00" in report[0]  # same machine: bit-identical
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert store.main(["verify", "-n", "1"]) == 0
    shipped = next((layers / "results").glob("*.jsonl"))
    entry = json.loads(shipped.read_text())
    entry["history"]["test_acc"][0] += 0.01  # a stored result that the code no longer produces
    shipped.write_text(json.dumps(entry) + "\n")
    report, failed = store.verify(1, seed=0)
    assert failed == 1 and "OVER TOLERANCE: ['test_acc']" in report[0]


def test_an_interruption_keeps_the_runs_already_finished(small, layers, monkeypatch):
    real = tr.train

    def second_run_interrupted(*a, **k):
        if k["seed"] == 1:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(tr, "train", second_run_interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(small, {"SGD": SGD}, seeds=(0, 1))
    assert len(list((layers / "cache").glob("*.json"))) == 1  # seed 0 was kept: a rerun trains seed 1 only
