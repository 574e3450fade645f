"""course_lib.checks, and that every count or size in course_lib refuses a fraction instead of truncating it."""

import re

import numpy as np
import pytest

from course_lib import checks, conv, data, gradcheck, initialization, optim
from course_lib.models import FullyConnectedNet, ThreeLayerConvNet
from course_lib.solver import Solver


def test_check_count_accepts_whole_numbers_only():
    assert checks.check_count("n", 3) == 3
    assert checks.check_count("n", np.int64(3)) == 3
    assert checks.check_count("n", 3.0) == 3 and isinstance(checks.check_count("n", 3.0), int)
    assert checks.check_count("n", 0, allow_zero=True) == 0
    assert checks.check_count("n", None, allow_none=True) is None
    for bad in (2.5, 0, -1, True, "3", float("nan"), float("inf"), None):
        with pytest.raises(ValueError, match=r"n must be a whole number >= 1, got "):
            checks.check_count("n", bad)
    with pytest.raises(ValueError, match=r"n must be a whole number >= 0, got -1"):
        checks.check_count("n", -1, allow_zero=True)


def test_check_dout_names_the_forward_output_shape():
    dout = np.zeros((2, 3))
    assert checks.check_dout(dout, (2, 3)) is dout
    with pytest.raises(
        ValueError, match=r"dout must have shape \(2, 4\) \(the shape of the forward output\), got shape"
    ):
        checks.check_dout(dout, [2, 4])


def _tiny_data():
    rng = np.random.default_rng(0)
    return {
        "X_train": rng.standard_normal((20, 4)),
        "y_train": rng.integers(0, 3, 20),
        "X_val": rng.standard_normal((10, 4)),
        "y_val": rng.integers(0, 3, 10),
    }


def _solver(**options):
    return Solver(FullyConnectedNet([5], input_dim=4, num_classes=3, seed=0), _tiny_data(), verbose=False, **options)


X4 = np.zeros((2, 1, 4, 4))
IMAGES = np.zeros((4, 1, 8, 8))

# (argument name, a call that passes 2.5 for it)
FRACTIONAL_COUNTS = [
    ("num_train", lambda: data.load_dataset("digits", num_train=2.5)),
    ("num_val", lambda: data.load_dataset("digits", num_val=2.5)),
    ("num_test", lambda: data.load_dataset("digits", num_test=2.5)),
    ("max_train", lambda: data.lesson_data("digits", max_train=2.5)),
    ("padding", lambda: data.random_crop(IMAGES, 0, padding=2.5)),
    ("num_classes", lambda: data.mixup(IMAGES, np.zeros(4, dtype=int), 2.5, 0)),
    ("num_components", lambda: data.fit_pca(IMAGES, num_components=2.5)),
    ("hidden_dims entries", lambda: FullyConnectedNet([2.5])),
    ("input_dim", lambda: FullyConnectedNet([3], input_dim=2.5)),
    ("num_classes", lambda: FullyConnectedNet([3], num_classes=2.5)),
    ("input_dim entries", lambda: ThreeLayerConvNet(input_dim=(1, 8, 8.5))),
    ("filter_size", lambda: ThreeLayerConvNet(filter_size=2.5)),
    ("num_filters", lambda: ThreeLayerConvNet(num_filters=2.5)),
    ("hidden_dim", lambda: ThreeLayerConvNet(hidden_dim=2.5)),
    ("num_classes", lambda: ThreeLayerConvNet(num_classes=2.5)),
    ("batch_size", lambda: _solver(batch_size=2.5)),
    ("num_epochs", lambda: _solver(num_epochs=2.5)),
    ("print_every", lambda: _solver(print_every=2.5)),
    ("num_train_samples", lambda: _solver(num_train_samples=2.5)),
    ("num_val_samples", lambda: _solver(num_val_samples=2.5)),
    ("num_samples", lambda: _solver().check_accuracy(np.zeros((20, 4)), np.zeros(20, dtype=int), num_samples=2.5)),
    ("fan_in", lambda: initialization.init_weights(2.5, 3, "he", 0)),
    ("fan_out", lambda: initialization.init_weights(3, 2.5, "he", 0)),
    ("num_layers", lambda: initialization.activation_statistics(num_layers=2.5, width=4, num_samples=4)),
    ("width", lambda: initialization.activation_statistics(num_layers=2, width=4.5, num_samples=4)),
    ("num_samples", lambda: initialization.activation_statistics(num_layers=2, width=4, num_samples=4.5)),
    ("num_checks", lambda: gradcheck.grad_check_sparse(np.sum, np.zeros(3), np.ones(3), num_checks=2.5)),
    ("epoch", lambda: optim.step_decay(0.1, 2.5)),
    ("every", lambda: optim.step_decay(0.1, 2, every=2.5)),
    ("conv_param['stride']", lambda: conv.conv_forward_fast(X4, np.zeros((2, 1, 3, 3)), np.zeros(2), {"stride": 1.5})),
    ("conv_param['pad']", lambda: conv.conv_forward_naive(X4, np.zeros((2, 1, 3, 3)), np.zeros(2), {"pad": 0.5})),
    ("pool_param['pool_width']", lambda: conv.max_pool_forward_fast(X4, {"pool_width": 2.5})),
]


@pytest.mark.parametrize("name, call", FRACTIONAL_COUNTS, ids=[f"{i}-{c[0]}" for i, c in enumerate(FRACTIONAL_COUNTS)])
def test_a_fractional_count_is_refused_by_name(name, call):
    with pytest.raises(ValueError, match=rf"^{re.escape(name)} must be a whole number >= [01], got \d\.5$"):
        call()


def test_grading_refuses_fractional_jobs_and_limits(tmp_path):
    from course_lib.grading.pipeline import grade
    from course_lib.grading.settings import Settings

    for name in ("cell_timeout", "notebook_timeout", "max_output_chars"):
        with pytest.raises(ValueError, match=rf"^{name} must be a whole number >= 1, got 2.5$"):
            Settings(**{name: 2.5})
    (tmp_path / "solutions" / "a1").mkdir(parents=True)
    (tmp_path / "submissions").mkdir()
    with pytest.raises(ValueError, match=r"^jobs must be a whole number >= 1, got 2.5$"):
        grade("a1", Settings(course_root=tmp_path), tmp_path / "submissions", jobs=2.5, show_progress=False)


def test_step_decay_refuses_a_drop_above_one():
    assert optim.step_decay(0.1, 3, drop=1.0) == 0.1
    with pytest.raises(ValueError, match=r"drop must lie in \(0, 1\].*got 1.5"):
        optim.step_decay(0.1, 3, drop=1.5)
