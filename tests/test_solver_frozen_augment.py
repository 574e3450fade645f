"""Solver options for transfer learning (frozen parameters) and data augmentation (augment)."""

import numpy as np
import pytest

from course_lib.data import load_dataset
from course_lib.models import FullyConnectedNet
from course_lib.solver import Solver


@pytest.fixture(scope="module")
def small_digits():
    digits = load_dataset("digits")
    return {
        "X_train": digits["X_train"][:40],
        "y_train": digits["y_train"][:40],
        "X_val": digits["X_val"][:50],
        "y_val": digits["y_val"][:50],
    }


def train(data, **options):
    model = FullyConnectedNet([30, 20], weight_scale="he", dtype=np.float64, seed=0)
    solver = Solver(
        model,
        data,
        update_rule="adam",
        optim_config={"learning_rate": 1e-2},
        batch_size=20,
        num_epochs=5,
        verbose=False,
        seed=0,
        **options,
    )
    before = {name: p.copy() for name, p in model.params.items()}
    solver.train()
    return model, solver, before


def test_frozen_parameters_never_change_and_the_others_train(small_digits):
    model, solver, before = train(small_digits, frozen=["W1", "b1"])
    np.testing.assert_array_equal(model.params["W1"], before["W1"])
    np.testing.assert_array_equal(model.params["b1"], before["b1"])
    for name in ("W2", "W3", "b3"):
        assert not np.array_equal(model.params[name], before[name]), f"{name} is trained"
    assert solver.update_ratio_history["W1"] == [] and len(solver.update_ratio_history["W2"]) == 10
    assert solver.train_acc_history[-1] > solver.train_acc_history[0] + 0.25, "the unfrozen layers still learn"


def test_freezing_nothing_is_the_default(small_digits):
    default_model, default_solver, _ = train(small_digits)
    model, solver, _ = train(small_digits, frozen=())
    assert solver.loss_history == default_solver.loss_history
    for name, p in model.params.items():
        np.testing.assert_array_equal(p, default_model.params[name])


def test_frozen_rejects_unknown_names_and_a_bare_string(small_digits):
    model = FullyConnectedNet([30], seed=0)
    with pytest.raises(ValueError, match=r"frozen names \['W9'\] that are not in model.params"):
        Solver(model, small_digits, frozen=["W9"])
    with pytest.raises(ValueError, match="frozen must be a list of parameter names"):
        Solver(model, small_digits, frozen="W1")


def test_augment_sees_every_training_batch_and_its_output_is_trained_on(small_digits):
    seen = []

    def record(X_batch, rng):
        assert isinstance(rng, np.random.Generator)
        seen.append(X_batch.shape)
        return X_batch

    _, plain, _ = train(small_digits)
    _, recorded, _ = train(small_digits, augment=record)
    assert seen == [(20, 1, 8, 8)] * 10, "one call per minibatch, with the batch's images"
    assert recorded.loss_history == plain.loss_history, "an identity augmentation changes nothing"

    _, blanked, _ = train(small_digits, augment=lambda X, rng: np.zeros_like(X))
    assert blanked.train_acc_history[-1] < 0.3, "training on blank images learns nothing about the digits"
    assert blanked.loss_history != plain.loss_history


def test_augment_must_be_a_function_that_keeps_the_batch_shape(small_digits):
    model = FullyConnectedNet([30], seed=0)
    with pytest.raises(ValueError, match="augment must be None or a function"):
        Solver(model, small_digits, augment="crop")
    solver = Solver(model, small_digits, batch_size=20, num_epochs=1, verbose=False, augment=lambda X, rng: X[:5])
    with pytest.raises(ValueError, match=r"augment must return a batch of the shape it was given, \(20, 1, 8, 8\)"):
        solver.train()
