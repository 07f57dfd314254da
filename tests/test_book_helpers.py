"""optlib.book: prose numbers and the claim checks of the chapters."""

import math

import numpy as np
import pytest

from optlib.book import ClaimError, Text, claim, fmt, quick_mode


def test_fmt_formats_and_shows_without_quotes():
    share = fmt(0.6513, ".0%")
    assert share == "65%" and repr(share) == "65%" and isinstance(share, Text)
    assert fmt(1234, ",d") == "1,234"
    assert fmt(3, "d", " steps") == "3 steps"
    assert fmt(np.float64(2.5), ".2f") == "2.50"  # numpy scalars are real numbers too
    assert fmt(0.1) == "0.1"


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_fmt_refuses_non_finite(bad):
    with pytest.raises(ValueError, match="finite"):
        fmt(bad, ".2f")


@pytest.mark.parametrize("bad", [True, "0.5", None, [1.0]])
def test_fmt_refuses_non_numbers(bad):
    with pytest.raises(TypeError, match="real number"):
        fmt(bad)


def test_fmt_names_a_bad_spec():
    with pytest.raises(ValueError, match="'d'"):
        fmt(0.5, "d")


def test_claim_passes_and_fails_with_the_sentence():
    assert claim(1 < 2, "one is less than two") is True
    assert claim(np.float64(1) < 2, "numpy booleans count") is True
    with pytest.raises(ClaimError, match=r"'Adagrad ends closer' is no longer true \(dist = 3\.5\)"):
        claim(False, "Adagrad ends closer", dist=3.5)
    assert issubclass(ClaimError, AssertionError)  # nbval and the build report it as a failed cell


def test_claim_rejects_conditions_that_are_not_booleans():
    with pytest.raises(TypeError, match="must be a bool"):
        claim(np.array([True, False]), "an array has no single truth value")
    with pytest.raises(ValueError, match="sentence"):
        claim(True, "  ")


def test_full_only_claims_are_skipped_visibly_in_quick_mode(monkeypatch, capsys):
    monkeypatch.setenv("OPTBOOK_QUICK", "1")
    assert quick_mode()
    calls = []
    assert claim(lambda: calls.append(1) or False, "holds on the full data set", full_only=True) is False
    assert calls == []  # not even evaluated: its inputs may exist only in full mode
    assert "skipped in quick mode" in capsys.readouterr().out

    monkeypatch.setenv("OPTBOOK_QUICK", "0")
    assert not quick_mode()
    with pytest.raises(ClaimError):
        claim(lambda: False, "holds on the full data set", full_only=True)
    assert claim(lambda: True, "holds on the full data set", full_only=True) is True


@pytest.mark.parametrize("value, quick", [("1", True), ("true", True), ("YES", True), ("on", True),
                                          ("0", False), ("false", False), ("no", False), ("", False)])
def test_the_claims_and_the_trainer_read_the_quick_switch_alike(monkeypatch, value, quick):
    from optlib.train import case_study_settings

    monkeypatch.setenv("OPTBOOK_QUICK", value)
    assert quick_mode() is quick
    assert case_study_settings()["quick"] is quick


def test_verdict_text_is_the_comparison_verdict_without_quotes():
    from optlib.book import verdict_text
    from optlib.train import Comparison, History

    def runs(accs):
        return [History(test_acc=[a], test_loss=[0.3], train_loss=[l], train_acc=[0.9], lr=[0.1],
                        epoch_time=[1.0]) for a, l in zip(accs, (0.20, 0.22, 0.21))]
    c = Comparison({"A": runs([0.90, 0.91, 0.92]), "B": runs([0.88, 0.885, 0.90])}, seeds=(0, 1, 2))
    text = verdict_text(c, "A", "B")
    assert isinstance(text, Text) and repr(text) == c.verdict("A", "B")
    assert text.startswith("higher by 2.2 ± ")  # paired: +2.0, +2.5, +2.0 points
    assert verdict_text(c, "A", "B", "final_train_loss") == c.verdict("A", "B", "final_train_loss")
    with pytest.raises(ValueError, match="'C'"):
        verdict_text(c, "C", "B")
