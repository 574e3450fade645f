"""Solver: overfitting a tiny set, early stopping, the recorded histories."""

import numpy as np
import pytest

from course_lib import optim
from course_lib.data import load_dataset
from course_lib.models import FullyConnectedNet
from course_lib.solver import Solver


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def small_digits(digits):
    """20 training and 50 validation digits."""
    return {
        "X_train": digits["X_train"][:20],
        "y_train": digits["y_train"][:20],
        "X_val": digits["X_val"][:50],
        "y_val": digits["y_val"][:50],
    }


def test_overfits_twenty_digits(small_digits):
    model = FullyConnectedNet([100], weight_scale="he", seed=0)
    solver = Solver(
        model,
        small_digits,
        update_rule="adam",
        optim_config={"learning_rate": 1e-2},
        batch_size=20,
        num_epochs=30,
        verbose=False,
        seed=0,
    )
    solver.train()
    assert solver.train_acc_history[-1] == 1.0
    assert solver.loss_history[-1] < 0.1 * solver.loss_history[0]
    assert not solver.stopped_early and solver.stop_reason is None
    assert len(solver.loss_history) == 30 and len(solver.train_acc_history) == 31
    assert all(0 <= acc <= 1 for acc in solver.train_acc_history + solver.val_acc_history)


def test_absurd_learning_rate_stops_early(small_digits):
    model = FullyConnectedNet([100], weight_scale="he", seed=0)
    solver = Solver(
        model, small_digits, optim_config={"learning_rate": 1e3}, batch_size=10, num_epochs=20, verbose=False, seed=0
    )
    with pytest.warns(RuntimeWarning, match="Stopped early: the loss .* exceeds 3x its first value"):
        solver.train()
    assert solver.stopped_early
    assert "learning rate is probably too high" in solver.stop_reason
    assert len(solver.loss_history) < 40
    assert solver.loss_history[-1] > 3 * solver.loss_history[0]


class NaNAtThirdCall:
    """A linear softmax model whose loss turns NaN at its third training call."""

    def __init__(self):
        self.model = FullyConnectedNet([], seed=0)
        self.params = self.model.params
        self.calls = 0

    def loss(self, X, y=None):
        if y is None:
            return self.model.loss(X)
        self.calls += 1
        loss, grads = self.model.loss(X, y)
        return (float("nan") if self.calls == 3 else loss), grads


def test_nan_loss_stops_early(small_digits):
    solver = Solver(NaNAtThirdCall(), small_digits, batch_size=5, num_epochs=5, verbose=False, seed=0)
    with pytest.warns(RuntimeWarning, match="the loss became nan at iteration 3"):
        solver.train()
    assert solver.stopped_early and len(solver.loss_history) == 3


def test_update_ratio_is_the_norm_of_the_update_over_the_norm_of_the_weights(small_digits):
    model = FullyConnectedNet([30], weight_scale="he", dtype=np.float64, seed=0)
    weights = {name: p.copy() for name, p in model.params.items()}
    _, grads = model.loss(small_digits["X_train"], small_digits["y_train"])
    # one epoch of one full batch of plain SGD: the update is -learning_rate * grad
    solver = Solver(
        model, small_digits, optim_config={"learning_rate": 0.05}, batch_size=20, num_epochs=1, verbose=False
    )
    solver.train()
    assert solver.update_ratio_history.keys() == model.params.keys()
    for name in ("W1", "W2"):
        expected = 0.05 * np.linalg.norm(grads[name]) / np.linalg.norm(weights[name])
        assert solver.update_ratio_history[name] == [pytest.approx(expected, rel=1e-6)]
    # the biases start at zero, where the ratio is undefined
    assert np.isnan(solver.update_ratio_history["b1"][0])


def test_update_ratios_are_recorded_for_every_parameter_at_every_iteration(digits):
    model = FullyConnectedNet([50], normalization="batchnorm", weight_scale="he", seed=0)
    solver = Solver(
        model,
        digits,
        update_rule="sgd_momentum",
        optim_config={"learning_rate": 1e-2},
        batch_size=100,
        num_epochs=2,
        verbose=False,
        seed=0,
    )
    solver.train()
    assert set(solver.update_ratio_history) == {"W1", "b1", "gamma1", "beta1", "W2", "b2"}
    for name, ratios in solver.update_ratio_history.items():
        assert len(ratios) == len(solver.loss_history) == 24, name
        assert np.all(np.array(ratios[1:]) > 0), name
    # each parameter has its own config, holding a velocity of its own shape
    for name, config in solver.optim_configs.items():
        assert config["velocity"].shape == model.params[name].shape


def test_best_params_are_restored(digits):
    model = FullyConnectedNet([50], weight_scale="he", seed=0)
    solver = Solver(
        model, digits, update_rule="sgd", optim_config={"learning_rate": 0.5}, num_epochs=4, verbose=False, seed=0
    )
    solver.train()
    assert solver.best_val_acc == max(solver.val_acc_history)
    for name, p in solver.best_params.items():
        np.testing.assert_array_equal(model.params[name], p)
        assert model.params[name] is not p
    assert solver.check_accuracy(digits["X_val"], digits["y_val"]) == solver.best_val_acc
    assert solver.best_val_acc > 0.8


def test_lr_decay_is_applied_every_epoch(small_digits):
    optim_config = {"learning_rate": 0.1}
    model = FullyConnectedNet([20], seed=0)
    solver = Solver(
        model, small_digits, optim_config=optim_config, lr_decay=0.5, batch_size=10, num_epochs=3, verbose=False, seed=0
    )
    solver.train()
    for config in solver.optim_configs.values():
        assert config["learning_rate"] == pytest.approx(0.1 * 0.5**3)
    assert optim_config == {"learning_rate": 0.1}


def test_update_rule_may_be_a_function(small_digits):
    calls = []

    def recording_sgd(w, dw, config=None):
        calls.append(w.shape)
        return optim.sgd(w, dw, config)

    model = FullyConnectedNet([20], seed=0)
    Solver(model, small_digits, update_rule=recording_sgd, batch_size=20, num_epochs=2, verbose=False).train()
    assert len(calls) == 2 * len(model.params)


def test_verbose_prints_one_line_per_epoch_and_quiet_prints_nothing(small_digits, capsys):
    model = FullyConnectedNet([20], seed=0)
    Solver(model, small_digits, batch_size=10, num_epochs=3, verbose=True, seed=0).train()
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and lines[-1].startswith("epoch 3/3")
    Solver(model, small_digits, batch_size=10, num_epochs=3, verbose=False, seed=0).train()
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_bad_arguments_raise(small_digits):
    model = FullyConnectedNet([20], seed=0)
    with pytest.raises(ValueError, match="update_rule must be one of") as excinfo:
        Solver(model, small_digits, update_rule="sgd_nesterov")
    for name in optim.UPDATE_RULES:
        assert repr(name) in str(excinfo.value)
    with pytest.raises(ValueError, match="data must contain 'X_val'"):
        Solver(model, {"X_train": small_digits["X_train"], "y_train": small_digits["y_train"]})
    with pytest.raises(ValueError, match=r"data\['y_train'\] must have shape \(20,\)"):
        Solver(model, dict(small_digits, y_train=small_digits["y_train"][:5]))
    with pytest.raises(ValueError, match="batch_size"):
        Solver(model, small_digits, batch_size=0)


def test_best_params_come_back_with_their_batchnorm_running_statistics(digits):
    model = FullyConnectedNet([50], normalization="batchnorm", weight_scale="he", seed=0)
    solver = Solver(
        model,
        digits,
        update_rule="sgd",
        optim_config={"learning_rate": 0.5},
        batch_size=50,
        num_epochs=4,
        verbose=False,
        seed=0,
    )
    snapshots = []
    record = solver._record_accuracy

    def record_and_snapshot():
        record()
        snapshots.append({k: v.copy() for k, v in model.norm_params[0].items() if k.startswith("running")})

    solver._record_accuracy = record_and_snapshot
    solver.train()
    best = int(np.argmax(solver.val_acc_history))
    assert best < len(solver.val_acc_history) - 1, "the test needs a best epoch before the last one"
    for key in ("running_mean", "running_var"):
        np.testing.assert_array_equal(model.norm_params[0][key], snapshots[best][key])


def test_accuracy_sampling_never_changes_the_training_path(digits):
    def run(num_train_samples, num_val_samples):
        model = FullyConnectedNet([30], keep_prob=0.8, weight_scale="he", seed=0)
        solver = Solver(
            model,
            digits,
            optim_config={"learning_rate": 0.1},
            batch_size=100,
            num_epochs=2,
            num_train_samples=num_train_samples,
            num_val_samples=num_val_samples,
            verbose=False,
            seed=3,
        )
        solver.train()
        return solver

    reference = run(None, None)
    for train_samples, val_samples in ((50, None), (300, 100), (1000, 7)):
        assert train_samples < len(digits["y_train"]), "each run must draw an accuracy subset"
        solver = run(train_samples, val_samples)
        assert solver.loss_history == reference.loss_history
        np.testing.assert_array_equal(solver.model.params["W1"], reference.model.params["W1"])
    # the subsets do come from a seeded stream: the same counts give the same accuracies
    assert run(50, 7).train_acc_history == run(50, 7).train_acc_history
