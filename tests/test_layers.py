"""course_lib.layers: values, numerical gradient checks, dtypes, dropout, bad input."""

import numpy as np
import pytest

from course_lib import layers
from course_lib.gradcheck import numerical_gradient_array, rel_error

DROPOUT = {"keep_prob": 0.6, "mode": "train", "seed": 3}


def away_from_zero(rng, shape, margin=0.1):
    """Values with |x| >= margin: a step of h = 1e-5 never crosses the kink at 0."""
    return rng.uniform(margin, 1.0, shape) * rng.choice([-1.0, 1.0], shape)


def affine_inputs(rng):
    return rng.standard_normal((4, 2, 3)), rng.standard_normal((6, 5)), rng.standard_normal(5)


def affine_relu_inputs(rng):
    x, w, b = affine_inputs(rng)
    pre_activation = x.reshape(4, -1) @ w + b
    assert np.abs(pre_activation).min() > 1e-3, "inputs must stay away from the ReLU kink"
    return x, w, b


def maxout_inputs(rng):
    x, w1, b1 = rng.standard_normal((4, 6)), rng.standard_normal((6, 3)), rng.standard_normal(3)
    w2, b2 = rng.standard_normal((6, 3)), rng.standard_normal(3)
    assert np.abs((x @ w1 + b1) - (x @ w2 + b2)).min() > 1e-3, "inputs must stay away from maxout's kink"
    return x, w1, b1, w2, b2


# name -> (forward, backward, inputs from a generator). The piecewise layers get
# inputs at least 1e-3 from their kinks, so their gradient checks are exact too.
LAYERS = {
    "affine": (layers.affine_forward, layers.affine_backward, affine_inputs),
    "relu": (layers.relu_forward, layers.relu_backward, lambda rng: (away_from_zero(rng, (4, 5)),)),
    "leaky_relu": (
        lambda x: layers.leaky_relu_forward(x, alpha=0.1),
        layers.leaky_relu_backward,
        lambda rng: (away_from_zero(rng, (4, 5)),),
    ),
    "prelu, one slope per feature": (
        layers.prelu_forward,
        layers.prelu_backward,
        lambda rng: (away_from_zero(rng, (4, 5)), rng.uniform(0.05, 0.3, 5)),
    ),
    "prelu, one shared slope": (
        layers.prelu_forward,
        layers.prelu_backward,
        lambda rng: (away_from_zero(rng, (4, 5)), np.array(0.2)),
    ),
    "elu": (
        lambda x: layers.elu_forward(x, alpha=1.3),
        layers.elu_backward,
        lambda rng: (away_from_zero(rng, (4, 5)),),
    ),
    "sigmoid": (layers.sigmoid_forward, layers.sigmoid_backward, lambda rng: (3 * rng.standard_normal((4, 5)),)),
    "tanh": (layers.tanh_forward, layers.tanh_backward, lambda rng: (2 * rng.standard_normal((4, 5)),)),
    "maxout": (layers.maxout_forward, layers.maxout_backward, maxout_inputs),
    "dropout": (
        lambda x: layers.dropout_forward(x, DROPOUT),
        layers.dropout_backward,
        lambda rng: (rng.standard_normal((4, 5)),),
    ),
    "affine_relu": (layers.affine_relu_forward, layers.affine_relu_backward, affine_relu_inputs),
}


def analytic_and_numerical(name, dtype=np.float64, seed=0):
    """Run a layer forward and backward; return out, analytic grads, numerical grads (float64 only)."""
    forward, backward, make_inputs = LAYERS[name]
    rng = np.random.default_rng(seed)
    inputs = [np.asarray(value, dtype=dtype) for value in make_inputs(rng)]
    out, cache = forward(*inputs)
    dout = rng.standard_normal(out.shape).astype(dtype)
    grads = backward(dout, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    numerical = []
    if dtype == np.float64:
        numerical = [numerical_gradient_array(lambda _: forward(*inputs)[0], x, dout) for x in inputs]
    return inputs, out, grads, numerical


@pytest.mark.parametrize("name", list(LAYERS))
def test_backward_matches_numerical_gradient(name):
    inputs, _, grads, numerical = analytic_and_numerical(name)
    assert len(grads) == len(inputs)
    for x, grad, expected in zip(inputs, grads, numerical):
        assert grad.shape == x.shape
        assert rel_error(grad, expected) < 1e-7


@pytest.mark.parametrize("name", list(LAYERS))
def test_float32_keeps_dtype_and_agrees_with_float64(name):
    _inputs32, out32, grads32, _ = analytic_and_numerical(name, dtype=np.float32)
    _, out64, grads64, _ = analytic_and_numerical(name, dtype=np.float64)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, out64, rtol=1e-4, atol=1e-5)
    for grad32, grad64 in zip(grads32, grads64):
        assert grad32.dtype == np.float32
        np.testing.assert_allclose(grad32, grad64, rtol=1e-4, atol=1e-5)


def test_affine_flattens_each_example():
    rng = np.random.default_rng(1)
    x, w, b = affine_inputs(rng)
    out, _ = layers.affine_forward(x, w, b)
    expected = np.stack([example.ravel() @ w + b for example in x])
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_activation_values():
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(layers.relu_forward(x)[0], [0.0, 0.0, 3.0])
    np.testing.assert_array_equal(layers.relu_backward(np.ones(3), x), [0.0, 0.0, 1.0])  # 0 at the kink
    np.testing.assert_allclose(layers.leaky_relu_forward(x)[0], [-0.02, 0.0, 3.0])
    np.testing.assert_allclose(layers.prelu_forward(x[None], np.array([0.5, 0.5, 0.5]))[0], [[-1.0, 0.0, 3.0]])
    np.testing.assert_allclose(layers.elu_forward(x, alpha=2.0)[0], [2.0 * (np.exp(-2.0) - 1), 0.0, 3.0])
    np.testing.assert_allclose(layers.sigmoid_forward(x)[0], 1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_allclose(layers.tanh_forward(x)[0], np.tanh(x))


def test_prelu_backward_sums_the_slope_gradient_over_the_batch():
    x = np.array([[-1.0, 2.0], [-3.0, -4.0]])
    dout = np.array([[1.0, 1.0], [2.0, 0.5]])
    _, dalpha = layers.prelu_backward(dout, layers.prelu_forward(x, np.array([0.1, 0.2]))[1])
    np.testing.assert_allclose(dalpha, [-1.0 - 6.0, -2.0])
    _, dshared = layers.prelu_backward(dout, layers.prelu_forward(x, 0.1)[1])
    assert dshared.shape == () and dshared == pytest.approx(-9.0)


def test_maxout_takes_the_larger_piece():
    x, w1, b1, w2, b2 = maxout_inputs(np.random.default_rng(2))
    out, _ = layers.maxout_forward(x, w1, b1, w2, b2)
    np.testing.assert_allclose(out, np.maximum(x @ w1 + b1, x @ w2 + b2))


def test_extreme_inputs_stay_finite_without_warnings():
    x = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        sig, sig_cache = layers.sigmoid_forward(x)
        elu, elu_cache = layers.elu_forward(x)
        grads = [layers.sigmoid_backward(np.ones(5), sig_cache), layers.elu_backward(np.ones(5), elu_cache)]
    np.testing.assert_allclose(sig[[0, 2, 4]], [0.0, 0.5, 1.0])
    np.testing.assert_allclose(elu[[0, 4]], [-1.0, 1000.0])
    assert all(np.isfinite(values).all() for values in [sig, elu, *grads])


def test_dropout_train_mode_keeps_the_mean_and_a_fraction_keep_prob():
    x = np.ones((500, 500))
    for keep_prob in (0.25, 0.5, 0.9):
        out, _ = layers.dropout_forward(x, {"keep_prob": keep_prob, "mode": "train", "seed": 0})
        kept = out != 0
        assert kept.mean() == pytest.approx(keep_prob, abs=0.01)
        assert out.mean() == pytest.approx(1.0, abs=0.01)  # inverted scaling keeps the expectation
        np.testing.assert_allclose(out[kept], 1 / keep_prob)


def test_dropout_test_mode_and_keep_prob_one_are_the_identity():
    x = np.random.default_rng(3).standard_normal((20, 30))
    out, cache = layers.dropout_forward(x, {"keep_prob": 0.5, "mode": "test"})
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(layers.dropout_backward(x, cache), x)
    np.testing.assert_array_equal(layers.dropout_forward(x, {"keep_prob": 1.0, "mode": "train"})[0], x)


def test_dropout_seed_reproduces_the_mask_and_backward_reuses_it():
    x = np.random.default_rng(4).standard_normal((50, 40))
    first, cache = layers.dropout_forward(x, dict(DROPOUT))
    again, _ = layers.dropout_forward(x, dict(DROPOUT))
    other, _ = layers.dropout_forward(x, dict(DROPOUT, seed=4))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    dout = np.random.default_rng(5).standard_normal(x.shape)
    expected = np.where(first != 0, dout / DROPOUT["keep_prob"], 0.0)
    np.testing.assert_allclose(layers.dropout_backward(dout, cache), expected, rtol=1e-15)


def test_dropout_without_seed_draws_fresh_masks():
    x = np.ones((30, 30))
    param = {"keep_prob": 0.5, "mode": "train"}
    assert not np.array_equal(layers.dropout_forward(x, param)[0], layers.dropout_forward(x, param)[0])


X, W, B = np.ones((4, 6)), np.ones((6, 5)), np.ones(5)
_, AFFINE_CACHE = layers.affine_forward(X, W, B)

BAD_INPUTS = {
    "affine x size": (
        lambda: layers.affine_forward(np.ones((4, 7)), W, B),
        r"x must have shape \(N, d_1, \.\.\., d_k\) with d_1 \* \.\.\. \* d_k = D = 6",
    ),
    "affine x rank": (lambda: layers.affine_forward(np.ones(6), W, B), r"x must have shape \(N, d_1"),
    "affine w rank": (lambda: layers.affine_forward(X, np.ones(6), B), r"w must have shape \(D, M\)"),
    "affine b": (lambda: layers.affine_forward(X, W, np.ones(4)), r"b must have shape \(M,\) = \(5,\)"),
    "affine dout": (lambda: layers.affine_backward(np.ones((4, 4)), AFFINE_CACHE), r"dout must have shape \(4, 5\)"),
    "relu dout": (lambda: layers.relu_backward(np.ones(3), np.ones(4)), r"dout must have shape \(4,\)"),
    "leaky alpha": (lambda: layers.leaky_relu_forward(X, alpha=-0.1), "alpha must be a non-negative number"),
    "prelu alpha": (lambda: layers.prelu_forward(X, np.ones(4)), r"alpha must have shape \(\) or \(6,\)"),
    "elu alpha": (lambda: layers.elu_forward(X, alpha=0.0), "alpha must be a positive number"),
    "sigmoid dout": (
        lambda: layers.sigmoid_backward(np.ones((2, 2)), layers.sigmoid_forward(X)[1]),
        r"dout must have shape \(4, 6\)",
    ),
    "tanh dout": (
        lambda: layers.tanh_backward(np.ones(2), layers.tanh_forward(X)[1]),
        r"dout must have shape \(4, 6\)",
    ),
    "maxout w2": (lambda: layers.maxout_forward(X, W, B, np.ones((6, 4)), B), r"w2 must have shape \(6, 5\)"),
    "maxout b2": (lambda: layers.maxout_forward(X, W, B, W, np.ones(4)), r"b2 must have shape \(M,\) = \(5,\)"),
    "dropout keep_prob 0": (lambda: layers.dropout_forward(X, {"keep_prob": 0, "mode": "train"}), r"in \(0, 1\]"),
    "dropout keep_prob 1.5": (lambda: layers.dropout_forward(X, {"keep_prob": 1.5, "mode": "train"}), r"in \(0, 1\]"),
    "dropout keep_prob missing": (lambda: layers.dropout_forward(X, {"mode": "train"}), "must contain 'keep_prob'"),
    "dropout mode": (lambda: layers.dropout_forward(X, {"keep_prob": 0.5, "mode": "eval"}), "'train', 'test'"),
    "dropout dout": (
        lambda: layers.dropout_backward(np.ones(3), layers.dropout_forward(X, DROPOUT)[1]),
        r"dout must have shape \(4, 6\)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_raises_a_value_error_naming_the_argument(case):
    call, message = BAD_INPUTS[case]
    with pytest.raises(ValueError, match=message):
        call()
