"""Update rules against two steps worked out by hand, and the schedules.

Every rule starts from w = [1, -2] and takes the gradients dw1 = [0.5, -1],
then dw2 = [0.25, 2]; the expected weights are the rule's arithmetic written out.
"""

import math

import numpy as np
import pytest

from course_lib import optim

W0 = np.array([1.0, -2.0])
DW1 = np.array([0.5, -1.0])
DW2 = np.array([0.25, 2.0])


def two_steps(rule, config):
    w1, config = rule(W0, DW1, config)
    w2, config = rule(w1, DW2, config)
    return w1, w2, config


def test_sgd_two_steps():
    w1, w2, _ = two_steps(optim.sgd, {"learning_rate": 0.1})
    np.testing.assert_allclose(w1, [1 - 0.05, -2 + 0.1])
    np.testing.assert_allclose(w2, [0.95 - 0.025, -1.9 - 0.2])


def test_sgd_momentum_two_steps():
    w1, w2, config = two_steps(optim.sgd_momentum, {"learning_rate": 0.1, "momentum": 0.9})
    # v1 = -0.1 * dw1 = [-0.05, 0.1]; v2 = 0.9 * v1 - 0.1 * dw2 = [-0.07, -0.11]
    np.testing.assert_allclose(w1, [0.95, -1.9])
    np.testing.assert_allclose(w2, [0.95 - 0.07, -1.9 - 0.11])
    np.testing.assert_allclose(config["velocity"], [-0.07, -0.11])


def test_nesterov_momentum_two_steps():
    w1, w2, config = two_steps(optim.nesterov_momentum, {"learning_rate": 0.1, "momentum": 0.9})
    # step 1: v_prev = 0, v1 = [-0.05, 0.1], w1 = w0 + 1.9 * v1
    np.testing.assert_allclose(w1, [1 - 0.095, -2 + 0.19])
    # step 2: v_prev = v1, v2 = [-0.07, -0.11], w2 = w1 - 0.9 * v1 + 1.9 * v2
    np.testing.assert_allclose(w2, [0.905 + 0.045 - 0.133, -1.81 - 0.09 - 0.209])
    np.testing.assert_allclose(config["velocity"], [-0.07, -0.11])


def test_adagrad_two_steps():
    w1, w2, config = two_steps(optim.adagrad, {"learning_rate": 0.1})
    # cache1 = [0.25, 1]: each weight moves by exactly the learning rate
    np.testing.assert_allclose(w1, [0.9, -1.9], atol=1e-7)
    # cache2 = [0.3125, 5]; 0.25 / sqrt(0.3125) = 1 / sqrt(5), 2 / sqrt(5)
    np.testing.assert_allclose(w2, [0.9 - 0.1 / math.sqrt(5), -1.9 - 0.2 / math.sqrt(5)], atol=1e-7)
    np.testing.assert_allclose(config["cache"], [0.3125, 5.0])


def test_rmsprop_two_steps():
    w1, w2, config = two_steps(optim.rmsprop, {"learning_rate": 0.1, "decay_rate": 0.9})
    # cache1 = 0.1 * dw1**2 = [0.025, 0.1]; 0.5 / sqrt(0.025) = sqrt(10)
    np.testing.assert_allclose(w1, [1 - 0.1 * math.sqrt(10), -2 + 0.1 * math.sqrt(10)], atol=1e-7)
    # cache2 = 0.9 * cache1 + 0.1 * dw2**2 = [0.02875, 0.49]
    expected = [w1[0] - 0.1 * 0.25 / math.sqrt(0.02875), w1[1] - 0.1 * 2 / 0.7]
    np.testing.assert_allclose(w2, expected, atol=1e-7)
    np.testing.assert_allclose(config["cache"], [0.02875, 0.49])


def test_adam_two_steps():
    config = {"learning_rate": 0.1, "beta1": 0.9, "beta2": 0.999}
    w1, w2, config = two_steps(optim.adam, config)
    # t = 1: m_hat = dw1 and v_hat = dw1**2, so each weight moves by the learning rate
    np.testing.assert_allclose(w1, [0.9, -1.9], atol=1e-7)
    # t = 2: m = [0.07, 0.11], v = [0.00031225, 0.004999]
    m_hat = np.array([0.07, 0.11]) / (1 - 0.81)
    v_hat = np.array([0.00031225, 0.004999]) / (1 - 0.998001)
    np.testing.assert_allclose(w2, w1 - 0.1 * m_hat / np.sqrt(v_hat), atol=1e-7)
    assert config["t"] == 2
    np.testing.assert_allclose(config["m"], [0.07, 0.11])
    np.testing.assert_allclose(config["v"], [0.00031225, 0.004999])


def test_adam_without_bias_correction_takes_a_larger_first_step():
    config = {"learning_rate": 0.1, "bias_correction": False}
    w1, w2, _ = two_steps(optim.adam, config)
    # m = [0.05, -0.1], v = [0.00025, 0.001]: the step is 0.1 * 0.1 / sqrt(0.001) = 0.1 * sqrt(10)
    # (epsilon = 1e-8 next to sqrt(v) ~ 0.016 shifts the result by ~2e-7)
    np.testing.assert_allclose(w1, [1 - 0.1 * math.sqrt(10), -2 + 0.1 * math.sqrt(10)], atol=1e-6)
    m = np.array([0.07, 0.11])
    v = np.array([0.00031225, 0.004999])
    np.testing.assert_allclose(w2, w1 - 0.1 * m / np.sqrt(v), atol=1e-6)


def test_defaults_are_filled_in():
    _, config = optim.adam(W0, DW1)
    assert config["learning_rate"] == 1e-3 and config["beta1"] == 0.9 and config["t"] == 1
    _, config = optim.sgd_momentum(W0, DW1)
    assert config["momentum"] == 0.9


@pytest.mark.parametrize("name", list(optim.UPDATE_RULES))
def test_float32_is_preserved_and_w_is_not_modified(name):
    rule = optim.get_update_rule(name)
    w = W0.astype(np.float32)
    w_before = w.copy()
    w1, config = rule(w, DW1.astype(np.float32), None)
    w2, config = rule(w1, DW2.astype(np.float32), config)
    assert w1.dtype == np.float32 and w2.dtype == np.float32
    for key in ("velocity", "cache", "m", "v"):
        if key in config:
            assert config[key].dtype == np.float32, key
    np.testing.assert_array_equal(w, w_before)


@pytest.mark.parametrize("name", list(optim.UPDATE_RULES))
def test_shape_mismatch_raises(name):
    rule = optim.get_update_rule(name)
    with pytest.raises(ValueError, match=r"dw must have shape \(2,\)"):
        rule(W0, np.zeros(3))


def test_unknown_rule_lists_the_valid_names():
    with pytest.raises(ValueError, match="update_rule must be one of") as excinfo:
        optim.get_update_rule("adamw")
    for name in optim.UPDATE_RULES:
        assert repr(name) in str(excinfo.value)


def test_schedules():
    assert optim.step_decay(1.0, 0) == 1.0
    assert optim.step_decay(1.0, 3) == 0.125
    assert optim.step_decay(1.0, 3, drop=0.1, every=2) == pytest.approx(0.1)
    assert optim.exponential_decay(0.1, 2, 0.5) == pytest.approx(0.1 * math.exp(-1))
    assert optim.inverse_time_decay(0.1, 4, 0.25) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="lr0"):
        optim.step_decay(-1.0, 1)


def test_warmup_cosine_rises_linearly_then_follows_half_a_cosine():
    rates = [optim.warmup_cosine(1.0, t, total=110, warmup=10) for t in range(111)]
    np.testing.assert_allclose(rates[:11], np.arange(1, 12) / 11)  # the first step already moves
    assert rates[10] == 1.0, "one straight line up to the peak at t = warmup"
    np.testing.assert_allclose(rates[60], 0.5, atol=1e-12)  # half-way through the decay: cos(pi / 2)
    np.testing.assert_allclose(rates[110], 0.0, atol=1e-12)
    assert optim.warmup_cosine(0.1, 100, total=100, lr_min=1e-3) == pytest.approx(1e-3)
    assert optim.warmup_cosine(0.1, 0, total=100) == 0.1, "no warm-up: starts at the peak"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"t": 5, "total": 10, "warmup": 10}, "warmup must be smaller"),
        ({"t": 11, "total": 10}, "t must lie in"),
        ({"t": 1, "total": 10, "lr_min": 2.0}, "lr_min must be at most"),
    ],
)
def test_warmup_cosine_rejects_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        optim.warmup_cosine(1.0, **arguments)


def test_scheduled_rule_sets_the_rate_of_every_step():
    rule = optim.scheduled("sgd", lambda step: 0.1 * (step + 1))
    w, config = rule(W0, DW1, None)
    np.testing.assert_allclose(w, W0 - 0.1 * DW1)
    w, config = rule(w, DW2, config)
    np.testing.assert_allclose(w, W0 - 0.1 * DW1 - 0.2 * DW2)
    assert config["step"] == 2 and config["learning_rate"] == pytest.approx(0.2)
    with_momentum = optim.scheduled(optim.sgd_momentum, lambda step: 0.1)
    np.testing.assert_allclose(with_momentum(W0, DW1, {"momentum": 0.9})[0], W0 - 0.1 * DW1)
    with pytest.raises(ValueError, match="schedule a function"):
        optim.scheduled("sgd", 0.1)
