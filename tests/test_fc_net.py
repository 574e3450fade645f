"""FullyConnectedNet: gradients checked numerically, initial loss, modes, bad input.

Gradient checks run in float64 on every coordinate of every parameter. The
analytic and numerical gradients must agree to a relative 1e-6, except for
entries below the numerical noise floor: a centered difference of a loss
f ~ 2.5 with h = 1e-5 carries a round-off of about eps * f / h ~ 5e-11, so an
entry whose true value is ~1e-7 cannot show a relative error below ~1e-4.
The floor is atol = 1e-9, 20x that round-off.
"""

import math

import numpy as np
import pytest

from course_lib.data import DATASET_NAMES, DATASETS
from course_lib.gradcheck import numerical_gradient, rel_error
from course_lib.models import FullyConnectedNet

INPUT_SHAPE = (1, 4, 5)  # images of 20 pixels, flattened by the model
INPUT_DIM = 20


def toy_batch(seed=0, num_samples=10):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((num_samples, *INPUT_SHAPE)), rng.integers(0, 10, num_samples)


def check_every_gradient(model, X, y):
    """Assert analytic == numerical gradient for every parameter; return the max relative errors."""
    _, grads = model.loss(X, y)
    assert grads.keys() == model.params.keys()
    errors = {}
    for name, param in model.params.items():
        numeric = numerical_gradient(lambda _: model.loss(X, y)[0], param)
        errors[name] = rel_error(grads[name], numeric)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-6, atol=1e-9, err_msg=name)
    print(", ".join(f"{name} {error:.1e}" for name, error in errors.items()))
    return errors


CONFIGS = {
    "plain": {},
    "reg": {"reg": 0.3},
    "batchnorm": {"normalization": "batchnorm"},
    "layernorm": {"normalization": "layernorm"},
    "dropout": {"keep_prob": 0.7, "dropout_seed": 3},
    "all": {"normalization": "batchnorm", "keep_prob": 0.8, "dropout_seed": 1, "reg": 0.1},
}


@pytest.mark.parametrize("config", list(CONFIGS))
def test_gradients_match_numerical_gradients(config):
    X, y = toy_batch()
    model = FullyConnectedNet(
        [12, 9], input_dim=INPUT_DIM, weight_scale="he", dtype=np.float64, seed=0, **CONFIGS[config]
    )
    check_every_gradient(model, X, y)


def test_biases_before_batchnorm_get_no_gradient():
    # batchnorm subtracts the batch mean, so a bias added before it cancels out
    X, y = toy_batch()
    model = FullyConnectedNet([12, 9], input_dim=INPUT_DIM, normalization="batchnorm", dtype=np.float64, seed=0)
    _, grads = model.loss(X, y)
    assert np.abs(grads["b1"]).max() < 1e-12 and np.abs(grads["b2"]).max() < 1e-12
    assert np.abs(grads["b3"]).max() > 1e-3


def test_parameter_names_and_shapes():
    model = FullyConnectedNet([30, 20], normalization="layernorm", seed=0)
    shapes = {name: p.shape for name, p in model.params.items()}
    assert shapes == {
        "W1": (64, 30),
        "b1": (30,),
        "gamma1": (30,),
        "beta1": (30,),
        "W2": (30, 20),
        "b2": (20,),
        "gamma2": (20,),
        "beta2": (20,),
        "W3": (20, 10),
        "b3": (10,),
    }
    assert all(p.dtype == np.float32 for p in model.params.values())
    np.testing.assert_array_equal(model.params["gamma1"], 1)


def test_weight_scale_float_or_scheme():
    model = FullyConnectedNet([400], weight_scale=0.05, seed=0)
    assert model.params["W1"].std() == pytest.approx(0.05, rel=0.05)
    model = FullyConnectedNet([400], weight_scale="he", seed=0)
    assert model.params["W1"].std() == pytest.approx(math.sqrt(2 / 64), rel=0.05)
    assert model.params["W2"].std() == pytest.approx(math.sqrt(2 / 400), rel=0.05)


def test_initial_loss_is_log_of_the_number_of_classes():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 1, 8, 8))
    y = rng.integers(0, 10, 200)
    model = FullyConnectedNet([50, 50], weight_scale=1e-3, seed=0)
    loss, _ = model.loss(X, y)
    assert loss == pytest.approx(math.log(10), abs=1e-3)


def test_regularization_adds_half_reg_times_squared_weights():
    X, y = toy_batch()
    plain = FullyConnectedNet([12, 9], input_dim=INPUT_DIM, weight_scale="he", dtype=np.float64, seed=0)
    regularized = FullyConnectedNet([12, 9], input_dim=INPUT_DIM, weight_scale="he", reg=2.0, dtype=np.float64, seed=0)
    loss, grads = plain.loss(X, y)
    reg_loss, reg_grads = regularized.loss(X, y)
    weights = [plain.params[f"W{i}"] for i in (1, 2, 3)]
    assert reg_loss > loss
    assert reg_loss - loss == pytest.approx(0.5 * 2.0 * sum(np.sum(W * W) for W in weights))
    np.testing.assert_allclose(reg_grads["W2"] - grads["W2"], 2.0 * plain.params["W2"])
    np.testing.assert_array_equal(reg_grads["b2"], grads["b2"])


def test_float32_model_computes_in_float32():
    X, y = toy_batch()
    model = FullyConnectedNet([12], input_dim=INPUT_DIM, normalization="batchnorm", keep_prob=0.5, seed=0)
    scores = model.loss(X)
    _, grads = model.loss(X, y)
    assert scores.dtype == np.float32 and scores.shape == (10, 10)
    assert all(g.dtype == np.float32 for g in grads.values())


def test_test_mode_uses_running_statistics_and_no_dropout():
    X, y = toy_batch()
    model = FullyConnectedNet([12], input_dim=INPUT_DIM, normalization="batchnorm", keep_prob=0.5, seed=0)
    model.loss(X, y)
    running_mean = model.norm_params[0]["running_mean"].copy()
    first = model.loss(X)
    np.testing.assert_array_equal(model.loss(X), first)
    np.testing.assert_array_equal(model.norm_params[0]["running_mean"], running_mean)
    assert np.abs(running_mean).max() > 0


def test_dropout_masks_are_fresh_each_call_but_reproducible_from_the_seed():
    X, y = toy_batch()

    def two_losses():
        model = FullyConnectedNet([50], input_dim=INPUT_DIM, keep_prob=0.5, seed=4)
        return model.loss(X, y)[0], model.loss(X, y)[0]

    first, second = two_losses()
    assert first != second
    assert two_losses() == (first, second)


def test_bad_input_raises():
    model = FullyConnectedNet([12], seed=0)
    with pytest.raises(ValueError, match=r"X must have shape \(N, 64\).*got shape \(5, 1, 7, 8\)"):
        model.loss(np.zeros((5, 1, 7, 8)))
    with pytest.raises(ValueError, match=r"y must have shape \(5,\)"):
        model.loss(np.zeros((5, 64)), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match="normalization must be one of None, 'batchnorm', 'layernorm'"):
        FullyConnectedNet([12], normalization="groupnorm")
    with pytest.raises(ValueError, match="weight_scale must be one of"):
        FullyConnectedNet([12], weight_scale="glorot")
    with pytest.raises(ValueError, match="keep_prob"):
        FullyConnectedNet([12], keep_prob=0.0)


def test_scores_do_not_consume_the_dropout_stream():
    X, y = np.random.default_rng(0).standard_normal((6, 64)), np.arange(6)
    evaluated, untouched = (FullyConnectedNet([12], keep_prob=0.5, seed=3) for _ in range(2))
    evaluated.loss(X)  # test mode: dropout is the identity and draws no mask
    assert evaluated.loss(X, y)[0] == untouched.loss(X, y)[0]


@pytest.mark.parametrize("info", DATASETS.values(), ids=DATASET_NAMES)
def test_default_sizes_are_the_default_datasets(monkeypatch, info):
    monkeypatch.setenv("COURSE_DATASET", info.name)
    model = FullyConnectedNet([5], seed=0)
    assert (model.input_dim, model.num_classes) == (info.input_dim, info.num_classes)
    assert model.loss(np.zeros((2, *info.image_shape))).shape == (2, info.num_classes)
    assert FullyConnectedNet([5], input_dim=7, num_classes=3).params["W2"].shape == (5, 3)
