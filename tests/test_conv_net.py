"""models.ThreeLayerConvNet: shapes, initial loss, numerical gradients, dtypes, bad input, training."""

import numpy as np
import pytest

from course_lib import conv, layers
from course_lib.data import DATASET_NAMES, DATASETS, load_dataset
from course_lib.gradcheck import check_gradients
from course_lib.models import ThreeLayerConvNet
from course_lib.solver import Solver

# The loss goes through ReLUs and a max pool. `winners` below reports exactly
# when a step of h crosses one of their kinks; the checks use inputs where none
# is crossed, so the float64 gradients must agree to this documented tolerance
# (the lecture's scale calls < 1e-7 "good").
MODEL_GRAD_TOL = 1e-7


def small_model(**kwargs):
    options = {"input_dim": (2, 6, 4), "num_filters": 3, "filter_size": 3, "hidden_dim": 7, "num_classes": 4}
    options.update(kwargs)
    return ThreeLayerConvNet(weight_scale="he", dtype=np.float64, seed=0, **options)


def winners(model, X):
    """Every discrete choice the loss makes: ReLU masks and max-pool winners."""
    p = model.params
    conv_out, _ = conv.conv_forward_fast(X, p["W1"], p["b1"], model.conv_param)
    pooled, (_, pool_winner, _) = conv.max_pool_forward_fast(np.maximum(conv_out, 0), model.pool_param)
    hidden, _ = layers.affine_forward(pooled, p["W2"], p["b2"])
    return conv_out > 0, pool_winner, hidden > 0


def test_param_shapes_and_defaults():
    model = ThreeLayerConvNet(seed=0)
    shapes = {name: value.shape for name, value in model.params.items()}
    assert shapes == {
        "W1": (32, 1, 3, 3),
        "b1": (32,),
        "W2": (32 * 4 * 4, 100),
        "b2": (100,),
        "W3": (100, 10),
        "b3": (10,),
    }
    assert all(value.dtype == np.float32 for value in model.params.values())
    assert model.conv_param == {"stride": 1, "pad": 1}
    scores = model.loss(np.zeros((5, 1, 8, 8)))
    assert scores.shape == (5, 10) and scores.dtype == np.float32


def test_filter_size_keeps_spatial_size():
    model = ThreeLayerConvNet(input_dim=(3, 10, 6), num_filters=4, filter_size=5, hidden_dim=8, seed=0)
    assert model.params["W1"].shape == (4, 3, 5, 5)
    assert model.params["W2"].shape == (4 * 5 * 3, 8)


def test_initial_loss_is_log_num_classes():
    data = load_dataset("digits", num_train=100)
    model = ThreeLayerConvNet(seed=0, dtype=np.float64)  # weight_scale 1e-3: scores near 0
    loss, _ = model.loss(data["X_train"], data["y_train"])
    assert loss == pytest.approx(np.log(10), rel=1e-3)


def test_weight_scale_scheme_uses_fan_in():
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=64, filter_size=5, weight_scale="he", seed=0)
    fan_in = 3 * 5 * 5
    assert model.params["W1"].std() == pytest.approx(np.sqrt(2 / fan_in), rel=0.05)
    assert model.params["W3"].std() == pytest.approx(np.sqrt(2 / 100), rel=0.05)


@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_gradients_match_numerical(reg):
    rng = np.random.default_rng(1)
    model = small_model(reg=reg)
    X = rng.standard_normal((3, 2, 6, 4))
    y = rng.integers(0, 4, size=3)
    _loss, grads = model.loss(X, y)
    report = check_gradients(lambda _: model.loss(X, y)[0], model.params, grads, winners=lambda _: winners(model, X))
    print(report)
    assert all(not row.kink_crossed for row in report.rows), "choose inputs that cross no kink"
    assert report.worst < MODEL_GRAD_TOL


def test_regularization_adds_half_reg_squared_norm():
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((3, 2, 6, 4)), rng.integers(0, 4, size=3)
    plain, _ = small_model(reg=0.0).loss(X, y)
    model = small_model(reg=0.3)
    penalty = 0.5 * 0.3 * sum(np.sum(model.params[k] ** 2) for k in ("W1", "W2", "W3"))
    assert model.loss(X, y)[0] == pytest.approx(plain + penalty, rel=1e-12)


def test_float32_keeps_dtype():
    rng = np.random.default_rng(3)
    model = ThreeLayerConvNet(input_dim=(2, 6, 4), num_filters=3, hidden_dim=7, num_classes=4, seed=0)
    X = rng.standard_normal((3, 2, 6, 4))  # float64 input is cast to the model's dtype
    loss, grads = model.loss(X, rng.integers(0, 4, size=3))
    assert np.isfinite(loss)
    assert all(grads[name].dtype == np.float32 and grads[name].shape == p.shape for name, p in model.params.items())
    assert model.loss(X).dtype == np.float32


def test_bad_input():
    model = ThreeLayerConvNet(seed=0)
    with pytest.raises(ValueError, match=r"X must have shape \(\*, 1, 8, 8\), got shape \(2, 3, 8, 8\)"):
        model.loss(np.zeros((2, 3, 8, 8)))
    with pytest.raises(ValueError, match=r"y must hold labels in \[0, 10\)"):
        model.loss(np.zeros((2, 1, 8, 8)), np.array([0, 10]))
    with pytest.raises(ValueError, match="filter_size must be odd"):
        ThreeLayerConvNet(filter_size=4)
    with pytest.raises(ValueError, match="even H and W"):
        ThreeLayerConvNet(input_dim=(1, 7, 8))
    with pytest.raises(ValueError, match="weight_scale must be one of"):
        ThreeLayerConvNet(weight_scale="glorot")


def test_solver_learns_digits_in_one_epoch():
    data = load_dataset("digits", dtype=np.float32)
    model = ThreeLayerConvNet(num_filters=16, hidden_dim=64, weight_scale="he", seed=0)
    solver = Solver(
        model,
        data,
        update_rule="adam",
        optim_config={"learning_rate": 2e-3},
        batch_size=50,
        num_epochs=1,
        verbose=False,
        seed=0,
    )
    solver.train()
    print(f"val accuracy after one epoch: {solver.val_acc_history[-1]:.3f}")
    assert solver.val_acc_history[-1] > 0.7  # chance is 0.1


@pytest.mark.parametrize("info", DATASETS.values(), ids=DATASET_NAMES)
def test_default_sizes_are_the_default_datasets(monkeypatch, info):
    monkeypatch.setenv("COURSE_DATASET", info.name)
    model = ThreeLayerConvNet(num_filters=2, hidden_dim=3, seed=0)
    assert (model.input_dim, model.num_classes) == (info.image_shape, info.num_classes)
    assert model.loss(np.zeros((2, *info.image_shape))).shape == (2, info.num_classes)
