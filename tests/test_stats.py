"""optlib.stats: formatting over seeds, paired differences with a t interval, verdicts, A/A calibration."""

import math

import numpy as np
import pytest

from optlib.stats import (
    Difference,
    mean_std,
    paired_difference,
    plus_minus,
    t_quantile_975,
    verdict,
)


def test_mean_std_says_one_seed_instead_of_zero_spread():
    assert mean_std([0.8714]) == "87.14 % (1 seed)"
    assert mean_std([0.87, 0.89]) == "88.00 ± 1.41 %"
    assert mean_std([0.87, math.nan, 0.89]) == "88.00 ± 1.41 %, 1 of 3 diverged"
    assert mean_std([0.1, 0.1, 0.1]) == "10.00 % (all 3 seeds equal)"  # e.g. stuck at chance
    assert mean_std([0.87141, 0.87142]) == "87.14 ± <0.01 %"  # never "± 0.00"
    assert mean_std([math.nan]) == "diverged (1/1 seeds)"
    assert "± 0.00" not in mean_std([0.5])


def test_t_quantiles_match_scipy():
    scipy_stats = pytest.importorskip("scipy.stats")
    for df in [1, 2, 4, 9, 30, 31, 50, 200]:
        assert t_quantile_975(df) == pytest.approx(scipy_stats.t.ppf(0.975, df), abs=1e-3)
    with pytest.raises(ValueError, match="df"):
        t_quantile_975(0)


def test_paired_difference_is_a_t_interval():
    a, b = [0.90, 0.91, 0.92], [0.88, 0.885, 0.90]
    d = paired_difference(a, b)
    diffs = np.subtract(a, b)
    assert d.n == 3 and d.mean == pytest.approx(diffs.mean())
    assert d.half_width == pytest.approx(4.303 * diffs.std(ddof=1) / math.sqrt(3))
    assert paired_difference([0.9], [0.8]).n == 1 and math.isnan(paired_difference([0.9], [0.8]).half_width)
    assert paired_difference([0.9, math.nan], [0.8, 0.8]).n == 1  # a diverged seed is left out
    with pytest.raises(ValueError, match="same seeds"):
        paired_difference([0.9, 0.8], [0.8])


def test_verdict_claims_only_what_the_interval_supports():
    assert verdict(Difference(0.008, 0.003, 3)) == "higher by 0.8 ± 0.3 points (95 % interval, 3 seeds)"
    assert verdict(Difference(-0.008, 0.003, 5)).startswith("lower by 0.8 ± 0.3 points")
    assert verdict(Difference(0.001, 0.006, 3)) == "no difference detectable with 3 seeds (+0.1 ± 0.6 points)"
    assert "no verdict" in verdict(Difference(0.02, math.nan, 1))
    assert "diverged" in verdict(Difference(math.nan, math.nan, 0))
    loss = verdict(Difference(-0.0123, 0.004, 5), scale=1, unit="", digits=3)  # a loss has no unit
    assert loss == "lower by 0.012 ± 0.004 (95 % interval, 5 seeds)"
    assert verdict(Difference(0.001, 0.01, 5), scale=1, unit="", digits=3).endswith("± 0.010)")


@pytest.mark.parametrize("n_seeds", [3, 5])
def test_aa_test_says_no_difference_in_95_percent_of_repetitions(n_seeds):
    """Two identical optimizers: per seed a shared effect (init, batch order) plus independent noise.
    The t interval covers the true difference 0 in 95 % of repetitions in theory; 20,000 repetitions
    measure the rate to about ±0.3 % (binomial standard error 0.15 %)."""
    rng = np.random.default_rng(0)
    reps = 20_000
    shared = rng.normal(0.88, 0.004, size=(reps, n_seeds))
    a = shared + rng.normal(0, 0.003, size=(reps, n_seeds))
    b = shared + rng.normal(0, 0.003, size=(reps, n_seeds))
    said_none = sum(verdict(paired_difference(x, y)).startswith("no difference") for x, y in zip(a, b))
    rate = said_none / reps
    print(f"A/A with {n_seeds} seeds: 'no difference' in {100 * rate:.2f} % of {reps} repetitions")
    assert rate >= 0.945  # 95 % expected; below 94.5 % would be 3 standard errors off: miscalibrated


def test_a_real_difference_is_detected():
    rng = np.random.default_rng(1)
    shared = rng.normal(0.88, 0.004, size=(200, 5))
    a = shared + 0.01 + rng.normal(0, 0.002, size=(200, 5))
    b = shared + rng.normal(0, 0.002, size=(200, 5))
    assert all(verdict(paired_difference(x, y)).startswith("higher by") for x, y in zip(a, b))


def test_plus_minus_is_the_signed_mean_and_half_width():
    assert plus_minus(Difference(0.0023, 0.0041, 5)) == "+0.2 ± 0.4"  # accuracy in points
    assert plus_minus(Difference(-0.0233, 0.0191, 5), scale=1, digits=3) == "-0.023 ± 0.019"  # a loss
    assert plus_minus(Difference(0.0, 0.01, 5), scale=1, digits=2) == "+0.00 ± 0.01"  # the sign always shows
    undetected = Difference(0.001, 0.006, 3)  # the same numbers as verdict's, without the words
    assert verdict(undetected).endswith(f"({plus_minus(undetected)} points)")
    assert plus_minus(Difference(0.012, 0.00004, 5)) == "+1.2 ± <0.1"  # never "± 0.0"
    assert plus_minus(Difference(0.02, math.nan, 1)) == "+2.0 (1 seed)"  # no interval with one seed
    assert plus_minus(Difference(math.nan, math.nan, 0)) == "diverged"
    with pytest.raises(ValueError, match="digits"):
        plus_minus(Difference(0.01, 0.01, 5), digits=-1)


def test_brief_marks_only_intervals_that_exclude_zero():
    from optlib.stats import brief
    assert brief(Difference(0.0084, 0.0066, 5)) == "+0.84 ± 0.66 *"
    assert brief(Difference(-0.0025, 0.0037, 5)) == "-0.25 ± 0.37"
    assert brief(Difference(-0.009, 0.003, 5), scale=1.0, digits=3) == "-0.009 ± 0.003 *"
    assert brief(Difference(0.01, math.nan, 1)) == "+1.00 (1 seed)"
    assert brief(Difference(math.nan, math.nan, 0)) == "diverged"
    assert brief(Difference(0.012, 0.00004, 5)) == "+1.20 ± <0.01 *"  # plus_minus, starred


def test_paired_table_pairs_runs_seed_by_seed():
    from optlib.stats import paired_table
    from optlib.train import Comparison, History

    def run(accs, losses):
        return [History(test_acc=[a], test_loss=[0.3], train_loss=[l], train_acc=[0.9], lr=[0.1],
                        epoch_time=[1.0]) for a, l in zip(accs, losses)]
    c = Comparison({"A": run([0.90, 0.91, 0.92], [0.20, 0.21, 0.22]),
                    "B": run([0.88, 0.885, 0.90], [0.21, 0.23, 0.22])}, seeds=(0, 1, 2))
    t = paired_table(c, [("A", "B"), ("B", "A")])
    d = paired_difference([0.90, 0.91, 0.92], [0.88, 0.885, 0.90])
    assert t.body[0] == ["A  minus  B", f"+{100 * d.mean:.2f} ± {100 * d.half_width:.2f} *", "-0.010 ± 0.025"]
    assert t.body[1][1].startswith(f"-{100 * d.mean:.2f}")
    assert "3 seeds" in t.note
    with pytest.raises(ValueError, match="pairs"):
        paired_table(c, [])
    with pytest.raises(ValueError, match="'C'"):
        paired_table(c, [("C", "A")])


def test_per_epoch_pairs_each_epoch_of_a_curve():
    from optlib.stats import per_epoch
    from optlib.train import Comparison, History

    def run(curves):
        return [History(test_acc=list(c), test_loss=[0.3] * len(c), train_loss=[0.2] * len(c),
                        train_acc=[0.9] * len(c), lr=[0.1] * len(c), epoch_time=[1.0] * len(c)) for c in curves]
    a, b = [[0.80, 0.85, 0.90], [0.81, 0.86, 0.92]], [[0.79, 0.85, 0.88], [0.80, 0.84, 0.91]]
    c = Comparison({"A": run(a), "B": run(b)}, seeds=(0, 1))
    every = per_epoch(c, "A", "B")
    assert len(every) == 3
    for e, d in enumerate(every):
        assert d == paired_difference([x[e] for x in a], [y[e] for y in b])
    assert per_epoch(c, "A", "B", epochs=[2]) == [every[1]]
