"""The rules' core updates: the lines of each equation, shown alone by ``show_source(core=True)``
and computing exactly that equation, with the options (maximize, weight decay, ...) outside them."""

import math

import numpy as np
import pytest

from optlib import rules
from optlib.display import core_source, show_source

RULES = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "RAdam", "NAdam", "AdaBound", "SWATS"]
OPTIONS = ("maximize", "weight_decay", "amsgrad", "centered", "nesterov", "check", "torch")


@pytest.mark.parametrize("name", RULES)
def test_core_is_the_update_alone(name):
    rule = getattr(rules, name)
    src = core_source(rule)
    assert src == core_source(rule.update)
    assert src.startswith("def update(")
    assert '"""' not in src and "@staticmethod" not in src
    assert not [o for o in OPTIONS if o in src], src
    assert len(src.splitlines()) <= 12  # a few lines of math, not torch plumbing
    assert show_source(rule, core=True).data == src


def test_core_source_refuses_what_has_no_update():
    with pytest.raises(TypeError, match="class int"):
        core_source(int)
    with pytest.raises(TypeError, match="3"):
        core_source(3)


def test_core_of_a_plain_function_drops_its_docstring():
    src = core_source(rules.nadam_mu)
    assert src.splitlines()[0] == "def nadam_mu(t: int, beta1: float, momentum_decay: float) -> float:"
    assert "Dozat" not in src and "0.96" in src


def test_sgd_update_is_x_minus_eta_g():
    x = np.array([1.0, -2.0])
    rules.SGD.update(x, np.array([2.0, 4.0]), 0.25)
    assert x.tolist() == [0.5, -3.0]


def test_adagrad_update_is_its_equation():
    x, g, s = np.array([1.0]), np.array([3.0]), np.array([16.0])
    rules.Adagrad.update(x, g, s, 0.5, 0.0)
    assert s.tolist() == [25.0]  # s + g^2
    assert x.tolist() == [1.0 - 0.5 * 3.0 / 5.0]


def test_rmsprop_update_is_its_equation():
    x, g, v = np.array([1.0]), np.array([2.0]), np.array([1.0])
    rules.RMSprop.update(x, g, v, 0.1, 0.75, 0.0)
    assert v.tolist() == [0.75 * 1.0 + 0.25 * 4.0]
    assert x[0] == pytest.approx(1.0 - 0.1 * 2.0 / math.sqrt(1.75), abs=1e-15)


def test_adam_update_is_its_equation():
    x, m, v, t = np.array([1.0]), np.array([0.3]), np.array([0.04]), 3
    b1, b2, lr, eps = 0.9, 0.999, 0.01, 1e-8
    m_hat, v_hat = 0.3 / (1 - b1 ** t), 0.04 / (1 - b2 ** t)
    rules.Adam.update(x, m, v, t, lr, b1, b2, eps)
    assert x[0] == pytest.approx(1.0 - lr * m_hat / (math.sqrt(v_hat) + eps), abs=1e-15)


def test_options_compose_around_the_core():
    """maximize and L2 weight decay change the gradient the core sees, and nothing else."""
    x1, x2 = np.array([2.0]), np.array([2.0])
    rules.SGD.step(x1, np.array([1.0]), {}, 1, lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.5,
                   nesterov=False, maximize=True)
    rules.SGD.update(x2, np.array([-1.0 + 0.5 * 2.0]), 0.1)
    assert x1.tolist() == x2.tolist()
