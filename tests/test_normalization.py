"""course_lib.normalization: statistics, running averages, gradient checks, dtypes, bad input."""

import numpy as np
import pytest

from course_lib.gradcheck import numerical_gradient_array, rel_error
from course_lib.normalization import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)


def data(shape, seed=0, dtype=np.float64):
    """Shifted, scaled Gaussian data with per-feature gamma and beta."""
    rng = np.random.default_rng(seed)
    channels = shape[1]
    x = 5 + 3 * rng.standard_normal(shape)
    gamma, beta = rng.uniform(0.5, 2.0, channels), rng.standard_normal(channels)
    return x.astype(dtype), gamma.astype(dtype), beta.astype(dtype)


def numerical_grads(forward, x, gamma, beta, dout):
    """Numerical dx, dgamma, dbeta of forward(x, gamma, beta)[0] against dout."""

    def f(_):
        return forward(x, gamma, beta)[0]

    return [numerical_gradient_array(f, value, dout) for value in (x, gamma, beta)]


def test_batchnorm_train_output_is_standardized_then_scaled_and_shifted():
    x, gamma, beta = data((200, 3))
    out, _ = batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), 1, rtol=1e-5)  # eps = 1e-5 against a variance near 9
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), gamma, rtol=1e-5)


def test_batchnorm_running_stats_follow_the_stated_formula():
    x1, gamma, beta = data((50, 4), seed=1)
    x2, _, _ = data((50, 4), seed=2)
    bn_param = {"mode": "train"}
    batchnorm_forward(x1, gamma, beta, bn_param)
    batchnorm_forward(x2, gamma, beta, bn_param)
    momentum = 0.9
    mean1 = momentum * np.zeros(4) + (1 - momentum) * x1.mean(axis=0)
    var1 = momentum * np.ones(4) + (1 - momentum) * x1.var(axis=0)  # biased variance
    mean2 = momentum * mean1 + (1 - momentum) * x2.mean(axis=0)
    var2 = momentum * var1 + (1 - momentum) * x2.var(axis=0)
    np.testing.assert_allclose(bn_param["running_mean"], mean2, rtol=1e-13)
    np.testing.assert_allclose(bn_param["running_var"], var2, rtol=1e-13)


def test_batchnorm_test_mode_uses_running_stats_and_keeps_them():
    x, gamma, beta = data((30, 4), seed=3)
    running_mean, running_var = np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.5, 1.0, 2.0, 4.0])
    bn_param = {"mode": "test", "running_mean": running_mean, "running_var": running_var, "eps": 1e-3}
    out, _ = batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(out, gamma * (x - running_mean) / np.sqrt(running_var + 1e-3) + beta, rtol=1e-12)
    assert bn_param["running_mean"] is running_mean and bn_param["running_var"] is running_var


def test_batchnorm_backward_and_alt_agree_and_match_numerical_gradients():
    x, gamma, beta = data((8, 5), seed=4)
    out, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dout = np.random.default_rng(5).standard_normal(out.shape)
    graph = batchnorm_backward(dout, cache)
    closed_form = batchnorm_backward_alt(dout, cache)
    numerical = numerical_grads(lambda *a: batchnorm_forward(*a, {"mode": "train"}), x, gamma, beta, dout)
    for from_graph, from_formula, expected in zip(graph, closed_form, numerical):
        assert rel_error(from_graph, from_formula) < 1e-10
        assert rel_error(from_graph, expected) < 1e-7
        assert rel_error(from_formula, expected) < 1e-7


def test_layernorm_standardizes_each_sample_and_matches_numerical_gradients():
    x, gamma, beta = data((6, 7), seed=6)
    out, _ = layernorm_forward(x, np.ones(7), np.zeros(7))
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=1), 1, rtol=1e-5)
    out, cache = layernorm_forward(x, gamma, beta, {"eps": 1e-5})
    dout = np.random.default_rng(7).standard_normal(out.shape)
    numerical = numerical_grads(layernorm_forward, x, gamma, beta, dout)
    for grad, expected in zip(layernorm_backward(dout, cache), numerical):
        assert rel_error(grad, expected) < 1e-7


def test_spatial_batchnorm_standardizes_each_channel():
    x, _, _ = data((4, 3, 5, 6), seed=8)
    bn_param = {"mode": "train"}
    out, _ = spatial_batchnorm_forward(x, np.ones(3), np.zeros(3), bn_param)
    assert out.shape == x.shape
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1, rtol=1e-5)
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * x.mean(axis=(0, 2, 3)), rtol=1e-13)


def test_spatial_batchnorm_matches_numerical_gradients():
    x, gamma, beta = data((2, 3, 4, 5), seed=9)
    out, cache = spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dout = np.random.default_rng(10).standard_normal(out.shape)
    numerical = numerical_grads(lambda *a: spatial_batchnorm_forward(*a, {"mode": "train"}), x, gamma, beta, dout)
    for grad, expected in zip(spatial_batchnorm_backward(dout, cache), numerical):
        assert rel_error(grad, expected) < 1e-7


@pytest.mark.parametrize(
    ("forward", "backward", "shape"),
    [
        (batchnorm_forward, batchnorm_backward, (8, 5)),
        (batchnorm_forward, batchnorm_backward_alt, (8, 5)),
        (lambda x, g, b, _: layernorm_forward(x, g, b), layernorm_backward, (8, 5)),
        (spatial_batchnorm_forward, spatial_batchnorm_backward, (2, 3, 4, 5)),
    ],
    ids=["batchnorm", "batchnorm alt", "layernorm", "spatial batchnorm"],
)
def test_float32_keeps_dtype(forward, backward, shape):
    x, gamma, beta = data(shape, seed=11, dtype=np.float32)
    bn_param = {"mode": "train"}
    out, cache = forward(x, gamma, beta, bn_param)
    assert out.dtype == np.float32
    assert all(grad.dtype == np.float32 for grad in backward(np.ones_like(out), cache))
    assert all(bn_param[key].dtype == np.float32 for key in bn_param if key.startswith("running_"))


X, GAMMA, BETA = np.ones((4, 3)), np.ones(3), np.zeros(3)


def batchnorm(x=X, gamma=GAMMA, beta=BETA, **bn_param):
    """batchnorm_forward in train mode unless bn_param says otherwise."""
    return batchnorm_forward(x, gamma, beta, {"mode": "train", **bn_param})


BAD_INPUTS = {
    "batchnorm x rank": (lambda: batchnorm(np.ones(3)), r"x must have shape \(N, D\)"),
    "batchnorm gamma": (lambda: batchnorm(gamma=np.ones(2)), r"gamma must have shape \(D,\) = \(3,\)"),
    "batchnorm beta": (lambda: batchnorm(beta=np.ones((3, 1))), r"beta must have shape \(D,\)"),
    "batchnorm mode": (lambda: batchnorm(mode="eval"), "must be one of 'train', 'test'; got 'eval'"),
    "batchnorm no mode": (lambda: batchnorm_forward(X, GAMMA, BETA, {}), "must be one of 'train', 'test'"),
    "batchnorm running_mean": (
        lambda: batchnorm(mode="test", running_mean=np.zeros(4)),
        r"bn_param\['running_mean'\] must have shape \(D,\) = \(3,\)",
    ),
    "batchnorm momentum": (lambda: batchnorm(momentum=1.5), r"bn_param\['momentum'\] must be a probability"),
    "batchnorm eps": (lambda: batchnorm(eps=0), r"bn_param\['eps'\] must be a positive number"),
    "batchnorm dout": (
        lambda: batchnorm_backward(np.ones((4, 2)), batchnorm()[1]),
        r"dout must have shape \(4, 3\)",
    ),
    "batchnorm backward of test mode": (
        lambda: batchnorm_backward_alt(X, batchnorm(mode="test")[1]),
        "'train' mode",
    ),
    "layernorm x rank": (lambda: layernorm_forward(np.ones((2, 3, 4)), GAMMA, BETA), r"x must have shape \(N, D\)"),
    "layernorm gamma": (lambda: layernorm_forward(X, np.ones(4), BETA), r"gamma must have shape \(D,\) = \(3,\)"),
    "layernorm dout": (
        lambda: layernorm_backward(np.ones(3), layernorm_forward(X, GAMMA, BETA)[1]),
        r"dout must have shape \(4, 3\)",
    ),
    "spatial x rank": (
        lambda: spatial_batchnorm_forward(np.ones((2, 3, 4)), GAMMA, BETA, {"mode": "train"}),
        r"x must have shape \(N, C, H, W\)",
    ),
    "spatial gamma": (
        lambda: spatial_batchnorm_forward(np.ones((2, 3, 4, 4)), np.ones(2), BETA, {"mode": "train"}),
        r"gamma must have shape \(C,\) = \(3,\)",
    ),
    "spatial dout": (
        lambda: spatial_batchnorm_backward(
            np.ones((2, 3, 4)), spatial_batchnorm_forward(np.ones((2, 3, 4, 4)), GAMMA, BETA, {"mode": "train"})[1]
        ),
        r"dout must have shape \(2, 3, 4, 4\)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_raises_a_value_error_naming_the_argument(case):
    call, message = BAD_INPUTS[case]
    with pytest.raises(ValueError, match=message):
        call()
