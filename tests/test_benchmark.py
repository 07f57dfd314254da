"""optlib.benchmark and optlib.ranking: the decision rule's false-difference rate, the search space, the
CNN workload, and the whole protocol end to end in quick mode (both workloads), resumable from the store."""

import json
import math

import numpy as np
import pytest
import torch

from optlib import benchmark as bm
from optlib import data, optim, ranking, store
from optlib import train as tr

needs_data = pytest.mark.skipif(data.find() is None, reason="Fashion-MNIST is not installed")


@pytest.fixture(autouse=True)
def layers(monkeypatch, tmp_path):
    """Private store layers: nothing read from or written to the real ones."""
    for name in ("OPTLIB_RETRAIN", "OPTLIB_NO_TRAIN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPTLIB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("OPTLIB_STORE", str(tmp_path / "results"))
    monkeypatch.setenv("OPTLIB_MANIFEST", str(tmp_path / "manifest.txt"))
    monkeypatch.setenv("OPTLIB_PROGRESS", "summary")


# ------------------------------------------------------------------------------------ the decision rule

def test_false_difference_rate_on_identical_optimizers_is_at_most_5_percent():
    # 15 identical entries (the last with seeds of its own, as the A/A twin), 5 seeds, 400 benchmarks:
    # measured 1.8 % over 2,000 repetitions (conservative: Holm over all 105 pairs covers whichever is best)
    rate = ranking.false_difference_rate(m=15, n=5, twins=1, repetitions=400, rng=1)
    assert rate <= 0.05


def test_holm_against_the_chosen_best_only_fails_the_same_simulation():
    # Holm over the 14 comparisons with the best chosen after the fact ignores the choice: measured 13.6 %
    # false differences over 1,000 repetitions. The simulation tells this rule from the one ranking uses.
    gen = np.random.default_rng(2)
    wrong = 0
    for _ in range(300):
        values = gen.normal(0, 0.5, 5) + gen.normal(0, 0.3, (15, 5))
        best = values.mean(1).argmax()
        p = [ranking.pair_test(values[best], values[i], True)[3] for i in range(15) if i != best]
        wrong += any(ranking.holm(p))
    assert wrong / 300 > 0.08


def test_rule_resolves_a_real_difference():
    gen = np.random.default_rng(3)
    found = false = 0
    for _ in range(50):
        shared = gen.normal(0, 0.5, 5)
        values = {f"e{i}": list(shared + gen.normal(0, 0.3, 5)) for i in range(14)}
        values["worse"] = list(shared - 3.0 + gen.normal(0, 0.3, 5))
        rows = ranking.rank(values, dict.fromkeys(values, (0, 1, 2, 3, 4)))
        found += next(r for r in rows if r.name == "worse").resolved
        false += any(r.resolved for r in rows if r.name != "worse")
    assert found >= 45 and false <= 5  # 5 of 50: the 5 % bound, with room for the sampling noise of 50


def test_rank_pairs_shared_seeds_and_uses_welch_otherwise():
    a, b = [0.90, 0.91, 0.92], [0.88, 0.895, 0.90]
    mean, _, df, p = ranking.pair_test(a, b, paired=True)
    assert df == 2 and mean == pytest.approx(0.055 / 3) and 0 < p < 0.05
    mean, _, df, p = ranking.pair_test(a, b, paired=False)
    assert df != 2 and p > 0.05  # the same numbers, unpaired: the seed effect no longer cancels
    rows = ranking.rank({"a": a, "b": b, "twin": [0.9, 0.9, 0.91]}, {"a": (0, 1, 2), "b": (0, 1, 2), "twin": (3, 4, 5)})
    assert [r.name for r in rows] == ["a", "twin", "b"]
    assert rows[0].diff == 0 and not rows[1].paired and rows[2].paired
    assert all(r.low <= r.diff <= r.high for r in rows)


def test_pairwise_tests_every_pair_and_rank_reports_those_with_the_best():
    gen = np.random.default_rng(5)
    shared = gen.normal(0, 0.5, 5)
    values = {f"e{i}": list(shared + gen.normal(0, 0.3, 5) - i) for i in range(4)}
    seeds = dict.fromkeys(values, (0, 1, 2, 3, 4))
    tests, rejected = ranking.pairwise(values, seeds)
    assert list(tests) == list(rejected) == [("e0", "e1"), ("e0", "e2"), ("e0", "e3"), ("e1", "e2"), ("e1", "e3"),
                                             ("e2", "e3")]
    assert tests["e0", "e3"] == ranking.pair_test(values["e0"], values["e3"], True)
    assert rejected["e0", "e3"] and rejected["e1", "e3"]  # 3 and 2 units apart, against noise of 0.3
    rows = ranking.rank(values, seeds)
    assert rows[0].name == "e0" and all(r.resolved == rejected["e0", r.name] for r in rows[1:])


def test_rank_counts_a_diverged_seed_as_chance():
    rows = ranking.rank({"ok": [0.8, 0.81, 0.8], "unstable": [0.9, math.nan, 0.9]},
                        dict.fromkeys(["ok", "unstable"], (0, 1, 2)))
    assert rows[0].name == "ok" and rows[1].mean == pytest.approx((0.9 + 0.1 + 0.9) / 3)


def test_rank_rejects_bad_arguments():
    with pytest.raises(ValueError, match="at least 2 entries"):
        ranking.rank({"a": [1, 2]}, {"a": (0, 1)})
    with pytest.raises(ValueError, match="seeds must name the same entries"):
        ranking.rank({"a": [1, 2], "b": [1, 2]}, {"a": (0, 1)})
    with pytest.raises(ValueError, match="at least 2 seeds"):
        ranking.pair_test([1], [2], paired=True)


def test_holm_steps_down():
    assert ranking.holm([0.01, 0.02, 0.03], 0.05) == [True, True, True]
    assert ranking.holm([0.01, 0.04, 0.03], 0.05) == [True, False, False]  # 0.03 > 0.05 / 2 stops it


# ---------------------------------------------------------------------------------- the search space

def test_every_entry_gets_the_same_points_in_the_same_wide_space():
    points = bm.sobol_points(64)
    assert points == bm.sobol_points(64)  # fixed: a rerun asks for the same runs
    for entry in bm.ENTRIES:
        configs = [bm.configuration(entry, u) for u in points]
        lrs = [c["lr"] for c in configs]
        assert bm.LR_RANGE[0] <= min(lrs) < 1e-4 and 1 < max(lrs) <= bm.LR_RANGE[1]  # six decades covered
        assert {c["schedule"] for c in configs} == {"constant", "cosine"}
        decays = [c["weight_decay"] for c in configs]
        assert 0.0 in decays and max(decays) > (0.1 if entry == "AdamW" else 1e-3)
    same = [(bm.configuration("SGD", u)["lr"], bm.configuration("Adam", u)["lr"]) for u in points]
    assert all(a == b for a, b in same)
    assert all(0.001 <= bm.configuration("AdaBound", u)["final_lr"] <= 1 for u in points)
    assert all(1e-3 <= bm.configuration("SWATS", u)["eps"] <= 0.1 for u in points)


def test_optimizer_spec_sets_the_stepping_optimizer():
    config = dict(lr=0.03, weight_decay=1e-4, schedule="cosine")
    outer, kwargs, inner = bm.optimizer_spec("Lookahead(SGDM)", config)
    assert outer is optim.Lookahead and kwargs == dict(k=5, alpha=0.5)
    assert inner == (optim.SGD, dict(momentum=0.9, lr=0.03, weight_decay=1e-4))
    assert bm.optimizer_spec("AdaBound", {**config, "final_lr": 0.2})[1]["final_lr"] == 0.2
    assert bm.scheduler_spec("constant", 10) is None
    assert bm.scheduler_spec("cosine", 10)[1] == dict(T_max=10)
    with pytest.raises(ValueError, match="entry must be one of"):
        bm.configuration("Adamax", [0.5] * 4)
    with pytest.raises(ValueError, match="schedule must be"):
        bm.scheduler_spec("step", 10)


def test_time_to_target_and_effort_on_known_trials():
    trials = {"A": [dict(val_acc=[0.5, 0.8, 0.9], epoch_time=[1.0, 1.0, 1.0], diverged=False, config={}),
                    dict(val_acc=[0.85, 0.9, math.nan], epoch_time=[2.0, 2.0, math.nan], diverged=True, config={})],
              "B": [dict(val_acc=[0.5, 0.6, 0.7], epoch_time=[1.0, 1.0, 1.0], diverged=False, config={})]}
    assert bm.time_to_target(trials, 0.8) == {"A": dict(epochs=1, seconds=2.0, trial=1), "B": None}
    effort = bm.tuning_effort(trials)
    assert effort["A"] == dict(trials=2, diverged=1, trials_to_within=1, share_within=0.5, seconds=7.0)


# ----------------------------------------------------------------------------------------- workloads

def test_cnn_workload_is_seeded_and_selectable_by_name():
    x = torch.rand(4, 784)
    a, b = tr.cnn(1), tr.cnn(1)
    assert torch.equal(a(x), b(x)) and a(x).shape == (4, 10)
    assert not torch.equal(tr.cnn(2)(x), a(x))
    with pytest.raises(ValueError, match="model must be one of"):
        tr.train((optim.SGD, dict(lr=0.1)), model="resnet", n_train=100, n_test=10)
    spec = (optim.SGD, dict(lr=0.1))
    mlp_key = tr.run_config(spec, 0, 1, 128, None, "epoch", "d", 10, 10, torch.device("cpu"))
    cnn_key = tr.run_config(spec, 0, 1, 128, None, "epoch", "d", 10, 10, torch.device("cpu"), model="cnn")
    assert mlp_key["model"] == "mlp-784-128-128-10" and cnn_key["model"] != mlp_key["model"]
    assert cnn_key["trainer"] != mlp_key["trainer"]  # editing the CNN cannot serve stale MLP runs, nor back


@needs_data
def test_cnn_trains_and_learns():
    h = tr.train((optim.Adam, dict(lr=3e-3)), epochs=2, n_train=600, n_test=300, model="cnn", progress=False)
    assert h.test_acc[-1] > 0.5 and h.train_loss[1] < h.train_loss[0]


# ------------------------------------------------------------------------------- the whole protocol

def _check_summary(s, protocol):
    names = list(bm.ENTRIES) + [bm.AA_NAME]
    assert sorted(r["name"] for r in s["ranking"]) == sorted(names)
    means = [r["mean"] for r in s["ranking"]]
    assert means == sorted(means, reverse=True)
    for name in names:
        assert len(s["final_test_acc"][name]) == len(protocol.seeds)
        if name != bm.AA_NAME:
            assert len(s["sensitivity"][name]) == protocol.trials
            assert s["effort"][name]["trials"] == protocol.trials
            assert [p[0] for p in s["sensitivity"][name]] == sorted(p[0] for p in s["sensitivity"][name])
            hit = s["time_to_target"][name]
            assert hit is None or 1 <= hit["epochs"] <= protocol.epochs
    assert s["seeds"][bm.AA_NAME] == list(protocol.aa_seeds) and not set(protocol.aa_seeds) & set(protocol.seeds)
    assert s["aa"]["tied_with_each_other"]  # the A/A control must come out tied
    assert sum(1 for h in s["time_to_target"].values() if h) >= 1  # the median target is reachable
    switch = s["swats_switch"]
    assert switch["steps"] == protocol.epochs * math.ceil((protocol.n_train or 50_000) / protocol.batch_size)
    assert len(switch["switched"]) == switch["tensors"]
    prov = s["provenance"]
    assert {"code", "torch", "cpu", "date", "wall_seconds", "device"} <= prov.keys()
    assert prov["torch"] == torch.__version__
    assert s["protocol"]["trials"] == protocol.trials


def test_command_line_defaults_to_both_workloads():
    assert bm.parse_args([]).workloads == ["mlp", "cnn"]
    assert bm.parse_args(["cnn", "--quick"]).workloads == ["cnn"]
    with pytest.raises(SystemExit):
        bm.parse_args(["vit"])


@needs_data
def test_quick_protocol_end_to_end_both_workloads(tmp_path, capsys):
    assert bm.main(["mlp", "--quick", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "quick-mlp.json").read_text())
    _check_summary(summary, bm.QUICK)
    assert "A/A control tied: True" in capsys.readouterr().out
    _check_summary(json.loads(json.dumps(bm.run("cnn", bm.QUICK, progress=False))), bm.QUICK)


@needs_data
def test_full_protocol_resumes_from_the_store(monkeypatch):
    tiny = bm.Protocol(epochs=1, trials=2, seeds=(0, 1), aa_seeds=(2, 3), n_train=200, n_eval=100)
    entries = ["SGD", "Adam", "SWATS"]
    first = bm.run("mlp", tiny, entries=entries, progress=False)
    assert store.promote(all_runs=True) == 3 * 2 + 3 * 2 + 2  # tuning trials, final seeds, A/A twin
    monkeypatch.setenv("OPTLIB_NO_TRAIN", "1")  # every run must now come from the shipped store
    again = bm.run("mlp", tiny, entries=entries, progress=False)
    assert again["final_test_acc"] == first["final_test_acc"] and again["sensitivity"] == first["sensitivity"]
    assert again["fingerprint"] == first["fingerprint"]
    with pytest.raises(ValueError, match="entries must be names"):
        bm.run("mlp", tiny, entries=["SGD"])
    with pytest.raises(ValueError, match="workload must be one of"):
        bm.run("vit", tiny)


@needs_data
def test_recorded_summary_is_checked_for_staleness(tmp_path):
    tiny = bm.Protocol(epochs=1, trials=1, seeds=(0, 1), aa_seeds=(2, 3), n_train=100, n_eval=50)
    with pytest.raises(bm.StaleBenchmark, match="python -m optlib.benchmark mlp"):
        bm.load_summary("mlp", tmp_path, tiny)  # missing
    summary = dict(fingerprint=bm.fingerprint("mlp", tiny, ["Adam", "SGD"]), ranking=[])
    bm.summary_path("mlp", tmp_path).write_text(json.dumps(summary))
    assert bm.load_summary("mlp", tmp_path, tiny)["ranking"] == []
    summary["fingerprint"]["optimizers"]["Adam"] = "0" * 16  # as after an edit of Adam's rule
    bm.summary_path("mlp", tmp_path).write_text(json.dumps(summary))
    with pytest.raises(bm.StaleBenchmark, match="optimizer Adam changed"):
        bm.load_summary("mlp", tmp_path, tiny)
    with pytest.raises(bm.StaleBenchmark, match="protocol"):
        bm.load_summary("mlp", tmp_path, bm.Protocol(epochs=2, trials=1, seeds=(0, 1), aa_seeds=(2, 3)))


def test_each_workload_runs_its_own_full_protocol(monkeypatch, tmp_path):
    seen = {}

    def fake_run(workload, protocol, workers=None):
        seen[workload] = protocol
        raise SystemExit(0)  # stop before training

    monkeypatch.delenv("OPTBOOK_QUICK", raising=False)
    monkeypatch.setattr(bm, "run", fake_run)
    for workload in ("mlp", "cnn"):
        with pytest.raises(SystemExit):
            bm.main([workload, "--out", str(tmp_path)])
    assert seen["mlp"] == bm.FULL and seen["cnn"] == bm.FULL_CNN
    assert bm.FULL_CNN.n_train == 10_000 and bm.FULL_CNN.trials == bm.FULL.trials  # same tuning budget


def test_the_command_line_fingerprints_the_benchmark_code(tmp_path):
    """`python -m optlib.benchmark` runs the module as __main__; the summary's fingerprint must still hash
    the benchmark's code (a None hash would never go stale)."""
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ, OPTBOOK_QUICK="1", OPTLIB_CACHE=str(tmp_path / "runs"))
    subprocess.run([sys.executable, "-m", "optlib.benchmark", "mlp", "--quick", "--out", str(tmp_path)],
                   check=True, env=env, capture_output=True, timeout=600)
    summary = json.loads((tmp_path / "quick-mlp.json").read_text())
    assert summary["fingerprint"]["benchmark"] is not None
    assert summary["fingerprint"]["benchmark"] == bm.fingerprint("mlp", bm.QUICK, bm.ENTRIES)["benchmark"]
