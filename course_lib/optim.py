"""First-order update rules and learning-rate schedules.

Every update rule has the signature

    next_w, config = rule(w, dw, config=None)

- w: the current weights, a numpy array of any shape.
- dw: the gradient of the loss with respect to w, the same shape as w.
- config: a dict of hyperparameters (learning rate, momentum, ...) and of the
  rule's state (velocity, cache, moments, step count). Missing keys are filled
  with the defaults below; pass the returned config back in on the next step.

The rule returns a new array (w itself is not modified) with the dtype of w,
and the same config dict, updated in place with the new state.

RULES (at the end) is the registry every other module reads: each rule's label,
colour and, for the rules that are linear in w, the matrix of one step that the
convergence theory of course_lib.optlab.trajectories analyses.

Keys used across the rules:
- learning_rate: step size (float).
- momentum: the friction coefficient mu of the momentum methods (float in [0, 1)).
- velocity: the running velocity of the momentum methods (same shape as w).
- decay_rate: how much of the squared-gradient cache RMSProp keeps each step.
- cache: the accumulated squared gradients of AdaGrad / RMSProp (same shape as w).
- beta1, beta2: Adam's decay rates for the first and second moments.
- epsilon: a small number that keeps the divisions finite.
- m, v: Adam's first and second moment estimates (same shape as w).
- t: Adam's step count; the first step is t = 1.
- bias_correction: whether Adam divides m and v by (1 - beta**t) (default True);
  turn it off to see why the first steps need it.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from course_lib.checks import check_array, check_choice, check_count, check_positive


def _prepare(w, dw, config, defaults):
    """Check that dw matches w and fill in the default hyperparameters.

    Returns (w, dw, config) with w and dw as arrays and config a dict that holds
    every key of `defaults`.
    """
    w = np.asarray(w)
    dw = check_array("dw", dw, shape=w.shape, dims=f"{w.shape} (the shape of w)")
    if config is None:
        config = {}
    for key, value in defaults.items():
        config.setdefault(key, value)
    return w, dw, config


def _state(config, key, w):
    """Return the state array config[key], starting at zeros shaped like w."""
    if key not in config:
        config[key] = np.zeros_like(w)
    state = config[key]
    return check_array(f"config[{key!r}]", state, shape=w.shape, dims=f"{w.shape} (the shape of w)")


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent: w -= learning_rate * dw.

    Inputs:
    - w: weights, array of any shape.
    - dw: gradient of the loss with respect to w, same shape as w.
    - config: dict with learning_rate (default 1e-2).

    Returns (next_w, config): next_w has the shape and dtype of w.
    """
    w, dw, config = _prepare(w, dw, config, {"learning_rate": 1e-2})
    next_w = w - config["learning_rate"] * dw
    return next_w.astype(w.dtype, copy=False), config


def sgd_momentum(w, dw, config=None):
    """SGD with momentum: v = mu * v - learning_rate * dw; w += v.

    The velocity integrates the gradients, so steps grow along directions where
    the gradient keeps its sign and cancel along directions where it oscillates.

    Inputs:
    - w: weights, array of any shape.
    - dw: gradient of the loss with respect to w, same shape as w.
    - config: dict with learning_rate (default 1e-2), momentum (mu, default 0.9)
      and velocity (same shape as w, default zeros).

    Returns (next_w, config): next_w has the shape and dtype of w; config holds
    the new velocity.
    """
    w, dw, config = _prepare(w, dw, config, {"learning_rate": 1e-2, "momentum": 0.9})
    v = _state(config, "velocity", w)
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v.astype(w.dtype, copy=False)
    return (w + v).astype(w.dtype, copy=False), config


def nesterov_momentum(w, dw, config=None):
    """Nesterov momentum in the lecture's rewrite, with dw taken at the current w.

        v_prev = v
        v = mu * v - learning_rate * dw
        w += -mu * v_prev + (1 + mu) * v

    Tracking the look-ahead point instead of w turns the gradient "after the
    momentum step" into an ordinary gradient at the stored weights.

    Inputs:
    - w: weights, array of any shape.
    - dw: gradient of the loss with respect to w, same shape as w.
    - config: dict with learning_rate (default 1e-2), momentum (mu, default 0.9)
      and velocity (same shape as w, default zeros).

    Returns (next_w, config): next_w has the shape and dtype of w; config holds
    the new velocity.
    """
    w, dw, config = _prepare(w, dw, config, {"learning_rate": 1e-2, "momentum": 0.9})
    mu = config["momentum"]
    v_prev = _state(config, "velocity", w)
    v = mu * v_prev - config["learning_rate"] * dw
    next_w = w - mu * v_prev + (1 + mu) * v
    config["velocity"] = v.astype(w.dtype, copy=False)
    return next_w.astype(w.dtype, copy=False), config


def adagrad(w, dw, config=None):
    """AdaGrad: cache += dw**2; w -= learning_rate * dw / (sqrt(cache) + epsilon).

    Each weight gets its own step size, which only ever shrinks.

    Inputs:
    - w: weights, array of any shape.
    - dw: gradient of the loss with respect to w, same shape as w.
    - config: dict with learning_rate (default 1e-2), epsilon (default 1e-8) and
      cache (same shape as w, default zeros).

    Returns (next_w, config): next_w has the shape and dtype of w; config holds
    the new cache.
    """
    w, dw, config = _prepare(w, dw, config, {"learning_rate": 1e-2, "epsilon": 1e-8})
    cache = _state(config, "cache", w) + dw * dw
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    config["cache"] = cache.astype(w.dtype, copy=False)
    return next_w.astype(w.dtype, copy=False), config


def rmsprop(w, dw, config=None):
    """RMSProp: a leaky AdaGrad whose cache forgets old gradients.

        cache = decay_rate * cache + (1 - decay_rate) * dw**2
        w -= learning_rate * dw / (sqrt(cache) + epsilon)

    Inputs:
    - w: weights, array of any shape.
    - dw: gradient of the loss with respect to w, same shape as w.
    - config: dict with learning_rate (default 1e-2), decay_rate (default 0.99),
      epsilon (default 1e-8) and cache (same shape as w, default zeros).

    Returns (next_w, config): next_w has the shape and dtype of w; config holds
    the new cache.
    """
    defaults = {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8}
    w, dw, config = _prepare(w, dw, config, defaults)
    rho = config["decay_rate"]
    cache = rho * _state(config, "cache", w) + (1 - rho) * dw * dw
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    config["cache"] = cache.astype(w.dtype, copy=False)
    return next_w.astype(w.dtype, copy=False), config


def adam(w, dw, config=None):
    """Adam: momentum on the gradient plus RMSProp's per-weight scaling.

        t += 1
        m = beta1 * m + (1 - beta1) * dw
        v = beta2 * v + (1 - beta2) * dw**2
        m_hat = m / (1 - beta1**t);  v_hat = v / (1 - beta2**t)   (bias correction)
        w -= learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    m and v start at zero, so without bias correction the first steps are
    scaled by (1 - beta1) / sqrt(1 - beta2), about 3x too large with the defaults.

    Inputs:
    - w: weights, array of any shape.
    - dw: gradient of the loss with respect to w, same shape as w.
    - config: dict with learning_rate (default 1e-3), beta1 (0.9), beta2 (0.999),
      epsilon (1e-8), bias_correction (True), m and v (same shape as w, default
      zeros) and t (steps taken so far, default 0).

    Returns (next_w, config): next_w has the shape and dtype of w; config holds
    the new m, v and t.
    """
    defaults = {
        "learning_rate": 1e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-8,
        "bias_correction": True,
        "t": 0,
    }
    w, dw, config = _prepare(w, dw, config, defaults)
    beta1, beta2 = config["beta1"], config["beta2"]
    t = config["t"] + 1
    m = beta1 * _state(config, "m", w) + (1 - beta1) * dw
    v = beta2 * _state(config, "v", w) + (1 - beta2) * dw * dw
    m_hat, v_hat = m, v
    if config["bias_correction"]:
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    config["m"] = m.astype(w.dtype, copy=False)
    config["v"] = v.astype(w.dtype, copy=False)
    config["t"] = t
    return next_w.astype(w.dtype, copy=False), config


def _gradient_descent_matrix(learning_rate, momentum, curvature):
    """One step of sgd along a direction of curvature lambda: w' = (1 - alpha lambda) w (acts on w)."""
    return np.array([[1 - learning_rate * curvature]])


def _heavy_ball_matrix(learning_rate, momentum, curvature):
    """One step of sgd_momentum on the state (w, v): v' = mu v - alpha lambda w; w' = w + v'."""
    step = learning_rate * curvature
    return np.array([[1 - step, momentum], [-step, momentum]])


def _nesterov_matrix(learning_rate, momentum, curvature):
    """One step of nesterov_momentum on the state (w, v), in the lecture's rewrite."""
    step = learning_rate * curvature
    return np.array([[1 - (1 + momentum) * step, momentum**2], [-step, momentum]])


@dataclass(frozen=True)
class RuleInfo:
    """Everything the course shows about one update rule, stated once.

    - update: the rule, rule(w, dw, config=None) -> (next_w, config).
    - label: its name in figures, tables and the explorers' toggles.
    - color: its colour wherever it is drawn (a CSS hex colour).
    - iteration_matrix: for a rule whose step is linear in w on a quadratic,
      (learning_rate, momentum, curvature) -> the float64 matrix of one step
      along a direction of that curvature (convergence theory reads its
      spectral radius); None for the adaptive rules, which are not linear.
    """

    update: Callable
    label: str
    color: str
    iteration_matrix: Callable = None


# The one registry of update rules: adding a rule is a function above and a line here.
RULES = {
    "sgd": RuleInfo(sgd, "SGD", "#1f77b4", _gradient_descent_matrix),
    "sgd_momentum": RuleInfo(sgd_momentum, "Momentum", "#ff7f0e", _heavy_ball_matrix),
    "nesterov_momentum": RuleInfo(nesterov_momentum, "Nesterov", "#2ca02c", _nesterov_matrix),
    "adagrad": RuleInfo(adagrad, "AdaGrad", "#d62728"),
    "rmsprop": RuleInfo(rmsprop, "RMSProp", "#9467bd"),
    "adam": RuleInfo(adam, "Adam", "#8c564b"),
}
UPDATE_RULES = {name: info.update for name, info in RULES.items()}


def get_update_rule(name):
    """Return the update rule called `name` (a key of RULES and UPDATE_RULES).

    Raises ValueError listing the valid names when `name` is unknown.
    """
    check_choice("update_rule", name, list(RULES))
    return RULES[name].update


def step_decay(lr0, epoch, drop=0.5, every=1):
    """Step decay: multiply the learning rate by `drop` every `every` epochs.

    Inputs:
    - lr0: the initial learning rate (positive float).
    - epoch: the number of completed epochs (int >= 0).
    - drop: the factor applied at each step, in (0, 1] (default 0.5).
    - every: epochs between two drops (positive int, default 1).

    Returns the learning rate lr0 * drop ** (epoch // every), a float.
    """
    check_positive("lr0", lr0)
    epoch = check_count("epoch", epoch, allow_zero=True)
    check_positive("drop", drop)
    if drop > 1:
        raise ValueError(f"drop must lie in (0, 1]: a step decay never raises the learning rate; got {drop!r}")
    every = check_count("every", every)
    return lr0 * drop ** (epoch // every)


def exponential_decay(lr0, t, k):
    """Exponential decay: lr0 * exp(-k * t).

    Inputs:
    - lr0: the initial learning rate (positive float).
    - t: the iteration or epoch (float >= 0).
    - k: the decay rate (float >= 0).

    Returns the learning rate at t, a float.
    """
    check_positive("lr0", lr0)
    check_positive("t", t, allow_zero=True)
    check_positive("k", k, allow_zero=True)
    return lr0 * float(np.exp(-k * t))


def inverse_time_decay(lr0, t, k):
    """1/t decay: lr0 / (1 + k * t).

    Inputs:
    - lr0: the initial learning rate (positive float).
    - t: the iteration or epoch (float >= 0).
    - k: the decay rate (float >= 0).

    Returns the learning rate at t, a float.
    """
    check_positive("lr0", lr0)
    check_positive("t", t, allow_zero=True)
    check_positive("k", k, allow_zero=True)
    return lr0 / (1 + k * t)


def warmup_cosine(lr0, t, total, warmup=0, lr_min=0.0):
    """Linear warm-up, then cosine decay: the schedule of many modern training runs.

    For t < warmup the rate rises linearly, lr0 * (t + 1) / (warmup + 1), so the
    first step already moves and the line reaches lr0 at t = warmup (Goyal et
    al. 2017 warm up over the first epochs).
    Afterwards it follows half a cosine from lr0 down to lr_min at t = total
    (Loshchilov & Hutter 2017):

        lr_min + (lr0 - lr_min) * (1 + cos(pi * (t - warmup) / (total - warmup))) / 2

    Taking t modulo a cycle length restarts it (SGDR's warm restarts, the
    schedule of snapshot ensembles).

    Inputs:
    - lr0: the peak learning rate (positive float).
    - t: the step (or epoch), 0 <= t <= total.
    - total: the number of steps the schedule spans (positive).
    - warmup: steps of linear warm-up, 0 <= warmup < total (default 0: none).
    - lr_min: the rate reached at t = total, 0 <= lr_min <= lr0 (default 0).

    Returns the learning rate at t, a float.
    """
    check_positive("lr0", lr0)
    check_positive("total", total)
    check_positive("warmup", warmup, allow_zero=True)
    check_positive("lr_min", lr_min, allow_zero=True)
    if warmup >= total:
        raise ValueError(f"warmup must be smaller than total = {total}, got {warmup}")
    if lr_min > lr0:
        raise ValueError(f"lr_min must be at most lr0 = {lr0}, got {lr_min}")
    if not 0 <= t <= total:
        raise ValueError(f"t must lie in [0, total] = [0, {total}], got {t}")
    if t < warmup:
        return lr0 * (t + 1) / (warmup + 1)
    progress = (t - warmup) / (total - warmup)
    return lr_min + (lr0 - lr_min) * (1 + float(np.cos(np.pi * progress))) / 2


def scheduled(rule, schedule):
    """Wrap an update rule so that its learning rate follows a schedule, step by step.

    Inputs:
    - rule: an update rule rule(w, dw, config) -> (next_w, config), or its
      name in UPDATE_RULES.
    - schedule: a function step -> learning rate; step counts the updates
      this config has made, starting at 0.

    Returns an update rule with the same signature (a Solver accepts it as
    update_rule). It keeps its step count in config["step"] and sets
    config["learning_rate"] = schedule(step) before each update.
    """
    update = get_update_rule(rule) if isinstance(rule, str) else rule
    if not callable(update) or not callable(schedule):
        raise ValueError("rule must be an update rule (or its name) and schedule a function of the step")

    def scheduled_update(w, dw, config=None):
        config = {} if config is None else config
        step = config.get("step", 0)
        config["learning_rate"] = schedule(step)
        config["step"] = step + 1
        return update(w, dw, config)

    return scheduled_update
