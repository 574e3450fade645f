"""Initialization schemes and the lecture's 10-layer activation experiment.

The experiment runs with the lecture's 10 layers of 500 units (the width sets
the per-layer factors) on 300 samples instead of 1000 to stay fast; each
(nonlinearity, scheme) pair is computed once per test session.
"""

import functools

import numpy as np
import pytest

from course_lib.initialization import INIT_SCHEMES, activation_statistics, init_weights, layer_histograms


@functools.cache
def stats(nonlinearity, scheme):
    return activation_statistics(nonlinearity=nonlinearity, scheme=scheme, num_samples=300)


def test_init_weights_scales():
    rng = np.random.default_rng(0)
    fan_in = 400
    expected_std = {"small": 0.01, "large": 1.0, "xavier": 1 / 20, "he": np.sqrt(2) / 20}
    for scheme, std in expected_std.items():
        w = init_weights(fan_in, 300, scheme, rng)
        assert w.shape == (400, 300)
        assert w.std() == pytest.approx(std, rel=0.02), scheme
    assert not init_weights(fan_in, 300, "zero", rng).any()


def test_init_weights_is_reproducible_from_a_seed():
    np.testing.assert_array_equal(init_weights(5, 3, "he", 7), init_weights(5, 3, "he", 7))


def test_unknown_names_are_listed():
    with pytest.raises(ValueError, match="scheme must be one of") as excinfo:
        init_weights(3, 3, "glorot", 0)
    for scheme in INIT_SCHEMES:
        assert repr(scheme) in str(excinfo.value)
    with pytest.raises(ValueError, match=r"nonlinearity must be one of.*'tanh'.*'relu'.*'sigmoid'"):
        activation_statistics(nonlinearity="softplus")
    with pytest.raises(ValueError, match="scheme must be one of"):
        activation_statistics(scheme="orthogonal")


def test_result_layout():
    result = activation_statistics(num_layers=3, width=20, num_samples=50, seed=1)
    for key in ("means", "stds", "grad_means", "grad_stds"):
        assert result[key].shape == (3,), key
    assert len(result["activations"]) == 3 and len(result["gradients"]) == 3
    assert all(a.shape == (50, 20) for a in result["activations"] + result["gradients"])
    np.testing.assert_allclose(result["stds"], [a.std() for a in result["activations"]])
    again = activation_statistics(num_layers=3, width=20, num_samples=50, seed=1)
    np.testing.assert_array_equal(result["gradients"][0], again["gradients"][0])


def test_small_weights_tanh_activations_and_gradients_collapse():
    result = stats("tanh", "small")
    stds = result["stds"]
    # each layer multiplies the spread by about 0.01 * sqrt(500) = 0.22
    assert np.all(np.diff(stds) < 0)
    assert stds[-1] / stds[0] < 1e-4
    assert result["grad_stds"][0] / result["grad_stds"][-1] < 1e-4


def test_large_weights_tanh_saturates():
    result = stats("tanh", "large")
    for activation in result["activations"]:
        assert np.mean(np.abs(activation) > 0.99) > 0.85
    # saturated units pass (almost) no gradient back to their weights
    for gradient in result["gradients"]:
        assert np.mean(np.abs(gradient) < 1e-3) > 0.6


def test_xavier_tanh_keeps_a_stable_spread():
    result = stats("tanh", "xavier")
    stds = result["stds"]
    assert np.all((stds > 0.15) & (stds < 0.8))
    assert stds[-1] / stds[0] > 0.3
    assert result["grad_stds"][0] / result["grad_stds"][-1] > 0.2
    assert np.mean(np.abs(result["activations"][-1]) > 0.99) < 0.01


def test_xavier_relu_shrinks_by_one_over_sqrt_two_per_layer():
    stds = stats("relu", "xavier")["stds"]
    per_layer = (stds[-1] / stds[0]) ** (1 / 9)
    assert per_layer == pytest.approx(1 / np.sqrt(2), abs=0.03)
    assert stds[-1] / stds[0] < 0.05


def test_he_relu_is_stable():
    result = stats("relu", "he")
    assert 0.7 < result["stds"][-1] / result["stds"][0] < 1.4
    assert 0.7 < result["grad_stds"][0] / result["grad_stds"][-1] < 1.4


@pytest.mark.parametrize("nonlinearity", ["tanh", "sigmoid"])
def test_zero_weights_make_every_unit_identical(nonlinearity):
    result = activation_statistics(nonlinearity=nonlinearity, scheme="zero", width=50, num_samples=100)
    for activation in result["activations"]:
        # every unit holds the same value: nothing distinguishes one from another
        np.testing.assert_array_equal(activation, activation[0, 0])
    # no gradient reaches any layer below the top one
    for gradient in result["gradients"][:-1]:
        assert not gradient.any()
    if nonlinearity == "tanh":
        assert not result["activations"][0].any()


def test_init_weights_takes_a_weight_scale_number():
    weights = init_weights(400, 300, 0.05, np.random.default_rng(0))
    assert weights.shape == (400, 300)
    assert abs(weights.std() - 0.05) < 0.002
    with pytest.raises(ValueError, match="scheme must be a positive number"):
        init_weights(4, 3, -1.0, np.random.default_rng(0))


def test_layer_histograms_share_one_range_across_layers():
    arrays = [np.array([0.0, 0.1, 0.2]), np.array([[-1.0, 3.0], [2.0, 2.5]])]
    edges, counts = layer_histograms(arrays, bins=8)
    assert edges.shape == (9,) and edges[0] == -1.0 and edges[-1] == 3.0
    assert counts.shape == (2, 8)
    np.testing.assert_array_equal(counts.sum(axis=1), [3, 4])
    np.testing.assert_array_equal(counts[0], np.histogram(arrays[0], bins=edges)[0])
    # all values equal (zero initialization): a range of width 2 around them, not a crash
    edges, counts = layer_histograms([np.zeros(5)], bins=4)
    np.testing.assert_allclose(edges[[0, -1]], [-1.0, 1.0])
    assert counts.sum() == 5
    with pytest.raises(ValueError, match="bins must be a whole number"):
        layer_histograms(arrays, bins=2.5)
    with pytest.raises(ValueError, match="arrays must hold at least one layer"):
        layer_histograms([])
