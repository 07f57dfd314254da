"""optlib.averages: the lecture's EWA numbers, the unrolled weights and bias correction."""

import numpy as np
import pytest

from optlib.averages import ewa, ewa_weights, moving_average

SERIES = [3, 8, 6, 5, 1, 9, 0, 8, 4]  # the lecture's series


def test_lecture_v3_for_beta_09():
    x1, x2, x3 = 3.0, 8.0, 6.0
    v3 = 0.081 * x1 + 0.09 * x2 + 0.1 * x3              # = 0.243 + 0.72 + 0.6 = 1.563
    assert ewa(SERIES, 0.9)[2] == pytest.approx(1.563, rel=1e-14)
    assert ewa(SERIES, 0.9)[2] == pytest.approx(v3, rel=1e-14)
    np.testing.assert_allclose(ewa_weights(3, 0.9), [0.081, 0.09, 0.1], rtol=1e-14)


def test_first_values_by_hand():
    # beta = 0.5: v1 = 1.5, v2 = 0.75 + 4 = 4.75, v3 = 2.375 + 3 = 5.375
    np.testing.assert_allclose(ewa(SERIES, 0.5)[:3], [1.5, 4.75, 5.375], rtol=1e-15)
    # beta = 0.98: v1 = 0.02 * 3 = 0.06, far below the data: the bias that bias correction removes
    assert ewa(SERIES, 0.98)[0] == pytest.approx(0.06, rel=1e-14)


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.98])
def test_ewa_is_the_weighted_sum(beta):
    v = ewa(SERIES, beta)
    for t in range(1, len(SERIES) + 1):
        assert v[t - 1] == pytest.approx(ewa_weights(t, beta) @ np.array(SERIES[:t], float), rel=1e-13)


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.98, 0.999])
@pytest.mark.parametrize("t", [1, 2, 10, 100])
def test_weights_sum_to_one_minus_beta_to_the_t(t, beta):
    w = ewa_weights(t, beta)
    assert w.shape == (t,)
    assert w.sum() == pytest.approx(1 - beta ** t, rel=1e-12)
    assert np.all(np.diff(w) >= 0)  # the newest point weighs most


@pytest.mark.parametrize("beta", [0.5, 0.9, 0.98])
def test_bias_correction(beta):
    corrected = ewa(SERIES, beta, bias_correction=True)
    assert corrected[0] == pytest.approx(SERIES[0], rel=1e-14)  # v1 / (1 - beta) = theta_1
    np.testing.assert_allclose(corrected, ewa(SERIES, beta) / (1 - beta ** np.arange(1, 10)), rtol=1e-15)
    constant = ewa(np.full(200, 7.0), beta, bias_correction=True)
    np.testing.assert_allclose(constant, 7.0, rtol=1e-12)  # a constant series is recovered at every step
    assert ewa(np.full(5, 7.0), beta)[0] < 7.0             # while the plain EWA starts too low


def test_beta_zero_returns_the_series():
    np.testing.assert_array_equal(ewa(SERIES, 0.0), SERIES)
    np.testing.assert_array_equal(ewa(SERIES, 0.0, bias_correction=True), SERIES)


def test_vector_series_averages_along_time():
    series = np.array([[1.0, 10.0], [3.0, 30.0], [5.0, 50.0]])
    v = ewa(series, 0.5, bias_correction=True)
    np.testing.assert_allclose(v[:, 0], ewa(series[:, 0], 0.5, bias_correction=True), rtol=1e-15)
    np.testing.assert_allclose(v[:, 1], 10 * v[:, 0], rtol=1e-15)


def test_moving_average():
    np.testing.assert_allclose(moving_average(SERIES, 3), [3, 5.5, 17 / 3, 19 / 3, 4, 5, 10 / 3, 17 / 3, 4],
                               rtol=1e-15)
    np.testing.assert_array_equal(moving_average(SERIES, 1), SERIES)
    assert moving_average(SERIES, 100)[-1] == pytest.approx(np.mean(SERIES))


@pytest.mark.parametrize("call, message", [
    (lambda: ewa(SERIES, 1.0), "Invalid beta: 1.0"),
    (lambda: ewa(SERIES, -0.1), "Invalid beta: -0.1"),
    (lambda: ewa(SERIES, float("nan")), "Invalid beta: nan"),
    (lambda: ewa_weights(3, 1.5), "Invalid beta: 1.5"),
    (lambda: ewa_weights(-1, 0.9), "Invalid t: -1"),
    (lambda: moving_average(SERIES, 0), "Invalid window: 0"),
    (lambda: moving_average(SERIES, 2.5), "Invalid window: 2.5"),
])
def test_validation(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: ewa(SERIES, "0.9"), "Invalid beta: '0.9' of type str"),
    (lambda: ewa(SERIES, None), "Invalid beta: None of type NoneType"),
    (lambda: ewa(SERIES, True), "Invalid beta: True of type bool"),
    (lambda: ewa(SERIES, 0.9, bias_correction="yes"), "bias_correction must be True or False, got 'yes'"),
    (lambda: ewa_weights(3, [0.9]), r"Invalid beta: \[0.9\] of type list"),
])
def test_wrong_types_are_type_errors(call, message):
    with pytest.raises(TypeError, match=message):
        call()


def test_numpy_scalars_are_accepted():
    np.testing.assert_array_equal(ewa(SERIES, np.float64(0.9)), ewa(SERIES, 0.9))
    np.testing.assert_array_equal(ewa_weights(np.int64(3), np.float64(0.9)), ewa_weights(3, 0.9))
    np.testing.assert_array_equal(moving_average(SERIES, np.int64(3)), moving_average(SERIES, 3))
