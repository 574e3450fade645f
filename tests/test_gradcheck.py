"""course_lib.gradcheck: numerical gradients, relative error, and the check_gradients report."""

import numpy as np
import pytest

from course_lib.gradcheck import (
    check_gradients,
    grad_check_sparse,
    numerical_gradient,
    numerical_gradient_array,
    rel_error,
    verdict,
)
from course_lib.losses import softmax_loss

H = 1e-5


def cubic(x):
    return np.sum(x**3)


def test_numerical_gradient_matches_the_derivative_and_restores_x():
    x = np.random.default_rng(0).standard_normal((3, 4))
    before = x.copy()
    grad = numerical_gradient(cubic, x)
    assert grad.shape == x.shape and grad.dtype == x.dtype
    assert rel_error(grad, 3 * before**2) < 1e-7
    assert np.array_equal(x, before)


def test_numerical_gradient_keeps_float32_and_restores_it_exactly():
    x = np.random.default_rng(1).standard_normal(5).astype(np.float32)
    before = x.copy()
    grad = numerical_gradient(lambda v: np.sum(2 * v), x, h=1e-2)
    assert grad.dtype == np.float32
    assert np.array_equal(x, before)
    np.testing.assert_allclose(grad, 2, rtol=1e-3)


def test_numerical_gradient_array_is_the_vector_jacobian_product():
    rng = np.random.default_rng(2)
    x, a = rng.standard_normal((4, 3)), rng.standard_normal((3, 5))
    dout = rng.standard_normal((4, 5))
    grad = numerical_gradient_array(lambda v: np.tanh(v @ a), x, dout)
    expected = (dout * (1 - np.tanh(x @ a) ** 2)) @ a.T
    assert rel_error(grad, expected) < 1e-8


def test_numerical_gradient_array_rejects_dout_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"dout must have shape \(3,\) \(the shape of the forward output\)"):
        numerical_gradient_array(lambda v: 2 * v, np.ones(3), np.ones(4))


def test_rel_error_follows_the_formula():
    assert rel_error(1.0, 1.0) == 0.0
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error([1.0, 2.0], [1.0, 3.0]) == pytest.approx(0.2)
    assert rel_error(1e-9, 0.0) == pytest.approx(0.1)  # the 1e-8 floor keeps tiny values quiet


def test_rel_error_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="b must have shape"):
        rel_error(np.ones(3), np.ones(4))


@pytest.mark.parametrize("bad", [np.arange(3), [1.0, 2.0]], ids=["integer array", "list"])
def test_gradients_need_a_floating_array_to_perturb(bad):
    with pytest.raises(ValueError, match="x must be a floating-point numpy array"):
        numerical_gradient(np.sum, bad)


def test_grad_check_sparse_returns_one_small_error_per_checked_coordinate():
    x = np.random.default_rng(3).standard_normal((6, 7))
    before = x.copy()
    errors = grad_check_sparse(cubic, x, 3 * x**2, num_checks=10, seed=0)
    assert errors.shape == (10,)
    assert errors.max() < 1e-7
    assert np.array_equal(x, before)


def test_grad_check_sparse_is_seeded_and_catches_a_wrong_gradient():
    x = np.random.default_rng(4).standard_normal(50)
    wrong = 3 * x**2 + np.arange(50)  # an error that differs at every coordinate
    first = grad_check_sparse(cubic, x, wrong, num_checks=5, seed=7)
    assert np.array_equal(first, grad_check_sparse(cubic, x, wrong, num_checks=5, seed=7))
    assert first.max() > 1e-2
    assert grad_check_sparse(cubic, x, wrong, num_checks=100, seed=0).shape == (50,)


def test_grad_check_sparse_rejects_a_gradient_of_the_wrong_shape():
    with pytest.raises(ValueError, match="analytic_grad must have shape"):
        grad_check_sparse(cubic, np.ones((2, 3)), np.ones(6))


@pytest.mark.parametrize(
    ("error", "expected"),
    [(1e-9, "good"), (1e-5, "fine if kinks"), (1e-3, "uncomfortable"), (0.3, "wrong"), (np.nan, "wrong")],
)
def test_verdict_follows_the_lecture_scale(error, expected):
    assert verdict(error) == expected


def linear_classifier(seed=5, num_samples=8, dim=4, num_classes=3):
    """A tiny softmax classifier: params, the loss of params, and its exact gradients."""
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((num_samples, dim)), rng.integers(num_classes, size=num_samples)
    params = {"W": rng.standard_normal((dim, num_classes)), "b": rng.standard_normal(num_classes)}

    def loss(p):
        return softmax_loss(X @ p["W"] + p["b"], y)[0]

    _, dscores = softmax_loss(X @ params["W"] + params["b"], y)
    return params, loss, {"W": X.T @ dscores, "b": dscores.sum(axis=0)}


def test_check_gradients_passes_a_correct_model_gradient():
    params, loss, grads = linear_classifier()
    before = {name: value.copy() for name, value in params.items()}
    report = check_gradients(loss, params, grads)
    assert report.ok and report.worst < 1e-7
    assert [row.name for row in report.rows] == ["W", "b"]
    assert all(row.verdict == "good" and not row.kink_crossed for row in report.rows)
    assert report["W"].checked == 12 and report["b"].checked == 3
    assert all(np.array_equal(params[name], before[name]) for name in params)
    text = str(report)
    assert "W" in text and "good" in text and "rel. error" in text


@pytest.mark.parametrize("factor", [2.0, 1 / 8], ids=["times 2", "divided by N"])
def test_check_gradients_calls_a_scaled_gradient_wrong(factor):
    params, loss, grads = linear_classifier(num_samples=8)
    scaled = {name: factor * grad for name, grad in grads.items()}
    report = check_gradients(loss, params, scaled)
    assert not report.ok
    assert all(row.verdict == "wrong" for row in report.rows)


def test_check_gradients_sparse_checks_the_requested_number_of_coordinates():
    params, loss, grads = linear_classifier()
    report = check_gradients(loss, params, grads, num_checks=5, seed=1)
    assert report["W"].checked == 5 and report["b"].checked == 3
    assert report.worst < 1e-7


def test_check_gradients_accepts_one_array():
    x = np.random.default_rng(6).standard_normal((2, 3))
    report = check_gradients(cubic, x, 3 * x**2)
    assert report["x"].verdict == "good"


def relu_sum(x):
    return np.sum(np.maximum(x, 0))


def test_check_gradients_detects_a_crossed_relu_kink():
    x = np.array([H / 2, 1.0, -2.0])  # the first coordinate sits inside [-h, h] of the kink at 0
    analytic = (x > 0).astype(float)
    heuristic = check_gradients(relu_sum, x, analytic)
    exact = check_gradients(relu_sum, x, analytic, winners=lambda v: v > 0)
    for report in (heuristic, exact):
        assert report["x"].kinks == 1 and report["x"].kink_crossed
        assert report["x"].verdict == "wrong"  # the kink, not the gradient, is to blame


def test_check_gradients_reports_no_kink_away_from_it_or_for_a_smooth_function():
    x = np.array([0.5, 1.0, -2.0])
    assert not check_gradients(relu_sum, x, (x > 0).astype(float))["x"].kink_crossed
    z = np.random.default_rng(7).standard_normal(50)
    z[0] = 1e-4  # next to the smooth minimum of v * tanh(v), where both one-sided slopes are ~0
    smooth = check_gradients(lambda v: np.sum(np.tanh(v) * v), z, np.tanh(z) + z * (1 - np.tanh(z) ** 2))
    assert smooth["x"].kinks == 0 and smooth["x"].verdict == "good"


def test_check_gradients_rejects_missing_or_misshapen_gradients():
    params, loss, grads = linear_classifier()
    with pytest.raises(ValueError, match="lacks gradients for b"):
        check_gradients(loss, params, {"W": grads["W"]})
    with pytest.raises(ValueError, match=r"analytic_grads\['W'\] must have shape \(4, 3\)"):
        check_gradients(loss, params, {"W": grads["W"].T, "b": grads["b"]})
    with pytest.raises(ValueError, match="analytic_grads must be a dict"):
        check_gradients(loss, params, grads["W"])


def test_a_step_below_the_arrays_resolution_is_a_clear_error():
    x = np.array([3.2], dtype=np.float32)
    with pytest.raises(ValueError, match="h=1e-14 is below the resolution"):
        numerical_gradient(lambda v: float(np.sum(v**2)), x, h=1e-14)
    assert x[0] == np.float32(3.2)


def test_grad_check_sparse_verbose_prints_plain_coordinates_and_both_values(capsys):
    x = np.arange(6.0).reshape(2, 3)
    errors = grad_check_sparse(cubic, x, 3 * x**2, num_checks=6, seed=0, verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6 == errors.size
    assert all(line.startswith("(") and "np." not in line for line in lines), lines
    assert any(line.startswith("(1, 2): numerical 7.500000e+01 analytic 7.500000e+01") for line in lines), lines
