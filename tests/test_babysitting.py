"""course_lib.babysitting: hidden activations, unit statistics and the noise of a loss curve."""

import numpy as np
import pytest

from course_lib import babysitting
from course_lib.models import FullyConnectedNet


@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
def test_hidden_activations_feed_the_models_own_scores(normalization):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 2, 3, 3))
    model = FullyConnectedNet(
        [7, 5], input_dim=18, num_classes=4, normalization=normalization, keep_prob=0.5, dtype=np.float64, seed=0
    )
    model.loss(X, rng.integers(0, 4, 12))  # one training call gives batchnorm running statistics
    before = [dict(p) for p in model.norm_params]
    hidden = babysitting.hidden_activations(model, X)
    assert [h.shape for h in hidden] == [(12, 7), (12, 5)]
    assert all(h.dtype == np.float64 and h.min() >= 0 for h in hidden), "ReLU outputs, in the model's dtype"
    scores = hidden[-1] @ model.params["W3"] + model.params["b3"]
    np.testing.assert_allclose(scores, model.loss(X), rtol=1e-12, atol=1e-12)
    assert all(
        np.array_equal(b.get("running_mean"), a.get("running_mean")) for b, a in zip(before, model.norm_params)
    ), "test mode leaves the running statistics alone"


def test_hidden_activations_reject_inputs_of_the_wrong_size():
    model = FullyConnectedNet([3], input_dim=4, num_classes=2, seed=0)
    with pytest.raises(ValueError, match=r"X must have shape \(N, 4\)"):
        babysitting.hidden_activations(model, np.zeros((2, 5)))
    with pytest.raises(ValueError, match="model must be a FullyConnectedNet"):
        babysitting.hidden_activations(object(), np.zeros((2, 4)))


def test_unit_statistics_finds_dead_and_duplicated_units():
    rng = np.random.default_rng(1)
    independent = np.maximum(rng.standard_normal((500, 3)), 0)
    activations = np.column_stack([independent, 2 * independent[:, 0], np.zeros(500)])  # unit 3 copies 0, unit 4 dead
    stats = babysitting.unit_statistics(activations)
    np.testing.assert_allclose(stats.firing_rate[:3], np.mean(independent > 0, axis=0))
    assert stats.dead.tolist() == [False, False, False, False, True] and stats.dead_fraction == 0.2
    assert np.isclose(stats.correlation[0, 3], 1.0), "a scaled copy is perfectly correlated"
    assert np.all(np.isnan(stats.correlation[4])), "a dead unit has no correlation"
    assert abs(stats.correlation[0, 1]) < 0.15, "independent units are nearly uncorrelated"
    assert stats.correlated_fraction == pytest.approx(1 / 6), "one pair of the six among the four live units"
    assert babysitting.unit_statistics(activations, threshold=1.0).correlated_fraction == 0.0


def test_unit_statistics_rejects_bad_input():
    with pytest.raises(ValueError, match=r"activations must have shape \(N, H\)"):
        babysitting.unit_statistics(np.zeros(5))
    with pytest.raises(ValueError, match="at least 2 examples"):
        babysitting.unit_statistics(np.zeros((1, 5)))
    with pytest.raises(ValueError, match="threshold must be a probability"):
        babysitting.unit_statistics(np.ones((3, 2)), threshold=1.5)


def test_loss_wiggle_measures_the_noise_not_the_trend():
    rng = np.random.default_rng(2)
    trend = np.linspace(2.0, 0.5, 20_000)
    assert babysitting.loss_wiggle(trend + 0.1 * rng.standard_normal(trend.size)) == pytest.approx(0.1, rel=0.05)
    assert babysitting.loss_wiggle(trend) < 1e-6, "a smooth curve has no wiggle"
    half = babysitting.loss_wiggle(np.r_[10 * rng.standard_normal(100), np.ones(100)], start_fraction=0.5)
    assert half == 0.0, "the skipped start does not count"


def test_loss_wiggle_rejects_bad_input():
    with pytest.raises(ValueError, match="start_fraction must lie in"):
        babysitting.loss_wiggle(np.ones(10), start_fraction=1.0)
    with pytest.raises(ValueError, match="need at least 3"):
        babysitting.loss_wiggle(np.ones(4), start_fraction=0.5)
    with pytest.raises(ValueError, match=r"loss_history must have shape \(T,\)"):
        babysitting.loss_wiggle(np.ones((3, 3)))


def test_epoch_mean_losses_averages_each_complete_epoch_and_drops_the_unfinished_one():
    history = [4.0, 2.0, 3.0, 1.0, 9.0]  # two epochs of two iterations, then one iteration of a third
    np.testing.assert_allclose(babysitting.epoch_mean_losses(history, 2), [3.0, 2.0])
    assert babysitting.epoch_mean_losses(history[:1], 2).shape == (0,)
    with pytest.raises(ValueError, match="iterations_per_epoch"):
        babysitting.epoch_mean_losses(history, 0)
