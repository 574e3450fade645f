"""Optimizer paths on a 2-D surface, and what theory predicts for the quadratic.

The paths are computed with the update rules of course_lib.optim, one step per
gradient, so what a student sees in the explorer is exactly what those rules do.

Theory (for f = 0.5 * (x^2 + kappa * y^2), curvatures lambda in {1, kappa}):
each coordinate evolves independently and linearly, so the distance to the
minimum shrinks per step by the largest spectral radius over the curvatures of

- gradient descent:   w' = (1 - alpha lambda) w,  rate max |1 - alpha lambda|;
- heavy-ball momentum (course_lib.optim.sgd_momentum), on the state (w, v):
      [[1 - alpha lambda, mu], [-alpha lambda, mu]];
- Nesterov momentum (the lecture's rewrite), on the state (w, v):
      [[1 - (1 + mu) alpha lambda, mu^2], [-alpha lambda, mu]].
Each matrix is stated once, next to its rule, in course_lib.optim.RULES.

Heavy ball at its best tuning, alpha = 4 / (sqrt(1) + sqrt(kappa))^2 and
mu = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2, contracts by sqrt(mu) per step,
against (kappa - 1) / (kappa + 1) for the best gradient descent.
"""

import math
from dataclasses import dataclass

import numpy as np

from course_lib import optim
from course_lib.checks import check_choice, check_positive

SCHEDULES = ("constant", "step", "exponential", "inverse_time")
# A path this many window sizes beyond the plot has diverged. Momentum may overshoot
# the plot and come back (at its best tuning on kappa = 1000 by 12x the start's
# distance), so a path is only stopped once it is far out.
ESCAPE_MARGIN = 10.0
# A path counts as converged once the (noise-free) gradient norm stays below this.
GRADIENT_TOLERANCE = 1e-6
# Distances below this fraction of the first one are rounding noise, not progress.
_DISTANCE_FLOOR = 1e-12


@dataclass
class Trajectory:
    """One optimizer's path on a surface.

    - path: float64 array (K + 1, 2), the start point and the K points reached.
    - losses: float64 array (K + 1,), the surface's value along the path.
    - distances: float64 array (K + 1,), the distance of each point to the
      surface's reference point w*.
    - status: "converged at step k", "stuck at step k at (x, y)",
      "diverged at step k: left the plot" (k: the step after which the path
      never came back into the window), "diverged at step k: NaN/inf" or
      "not converged after K steps".
    - diverged_at: the step k of a diverged path, None otherwise.
    """

    path: np.ndarray
    losses: np.ndarray
    distances: np.ndarray
    status: str
    diverged_at: int = None

    @property
    def diverged(self):
        """Whether the path was stopped because it diverged."""
        return self.diverged_at is not None


def learning_rates(schedule, learning_rate, decay, num_steps):
    """Return the learning rate used at each step under a schedule.

    Inputs:
    - schedule: "constant", "step" (halve every round(ln 2 / decay) steps, so
      it halves as soon as "exponential" does), "exponential" (lr * exp(-decay t))
      or "inverse_time" (lr / (1 + decay t)).
    - learning_rate: the initial learning rate (positive float).
    - decay: the decay rate per step (float >= 0); 0 means constant.
    - num_steps: the number of steps (int >= 0).

    Returns a float64 array (num_steps,); entry t is the rate of step t + 1.
    """
    check_choice("schedule", schedule, SCHEDULES)
    check_positive("learning_rate", learning_rate)
    check_positive("decay", decay, allow_zero=True)
    steps = range(int(num_steps))
    if schedule == "constant" or decay == 0:
        rates = [learning_rate for _ in steps]
    elif schedule == "step":
        every = max(1, round(np.log(2) / decay))
        rates = [optim.step_decay(learning_rate, t, drop=0.5, every=every) for t in steps]
    elif schedule == "exponential":
        rates = [optim.exponential_decay(learning_rate, t, decay) for t in steps]
    else:
        rates = [optim.inverse_time_decay(learning_rate, t, decay) for t in steps]
    return np.array(rates, dtype=np.float64)


def run_optimizer(surface, rule, start, rates, hyperparameters=None, noise=0.0, seed=0):
    """Follow one update rule of course_lib.optim from `start` on `surface`.

    Inputs:
    - surface: a surfaces.Surface.
    - rule: a name in course_lib.optim.UPDATE_RULES.
    - start: the start point (x0, y0).
    - rates: float array (K,), the learning rate of each step (see learning_rates).
    - hyperparameters: dict of the rule's other config keys (momentum,
      decay_rate, beta1, beta2); keys the rule does not read are ignored.
    - noise: std of the Gaussian noise added to each gradient component, to
      mimic minibatch gradients (float >= 0).
    - seed: seed of that noise; every rule gets the same noise sequence.

    Returns a Trajectory. The path stops at the first point farther than
    ESCAPE_MARGIN window sizes from the surface's window (kept) or at the
    first non-finite point (dropped).
    """
    update = optim.get_update_rule(rule)
    check_positive("noise", noise, allow_zero=True)
    config = dict(hyperparameters or {})  # each rule reads its own keys and ignores the others
    rng = np.random.default_rng(seed)
    w = np.array(start, dtype=np.float64)
    points = [w]
    status = diverged_at = None
    # Far from the window a gradient may overflow; the checks below catch it.
    with np.errstate(over="ignore", invalid="ignore"):
        for step, rate in enumerate(rates, start=1):
            dw = np.array(surface.grad(w[0], w[1]), dtype=np.float64)
            if noise:
                dw += noise * rng.standard_normal(2)
            config["learning_rate"] = rate
            w, config = update(w, dw, config)
            if not (math.isfinite(w[0]) and math.isfinite(w[1])):
                diverged_at, status = step, f"diverged at step {step}: NaN/inf"
                break
            points.append(w)
            if not surface.contains(w[0], w[1], margin=ESCAPE_MARGIN):
                # the step after which the path never came back (0: it started outside)
                inside = [i for i, (x, y) in enumerate(points) if surface.contains(x, y)]
                diverged_at = inside[-1] + 1 if inside else 0
                status = f"diverged at step {diverged_at}: left the plot"
                break
        path = np.array(points)
        losses = surface.loss(path[:, 0], path[:, 1])
    distances = np.linalg.norm(path - np.asarray(surface.reference), axis=1)
    if status is None:
        status = _final_status(surface, path, distances)
    return Trajectory(path, losses, distances, status, diverged_at)


def _final_status(surface, path, distances):
    """Describe where a path that stayed on the plot ended up."""
    gx, gy = surface.grad(path[:, 0], path[:, 1])
    moving = np.flatnonzero(np.hypot(gx, gy) >= GRADIENT_TOLERANCE)
    num_steps = len(path) - 1
    if moving.size and moving[-1] == num_steps:
        return f"not converged after {num_steps} steps"
    settled = 0 if not moving.size else int(moving[-1]) + 1
    if surface.reference_is_minimum and distances[-1] < 1e-3:
        return f"converged at step {settled}"
    x, y = path[-1]
    return f"stuck at step {settled} at ({x:.3g}, {y:.3g})"


def measured_rate(distances):
    """Return the measured per-step contraction of the distances to w*.

    The rate is exp(slope) of a least-squares line through log d_k over the
    second half of the steps taken before the distance reached rounding noise
    (1e-12 of the first one): there the slowest mode dominates, and the fit
    averages out the oscillation of the momentum methods.

    Inputs:
    - distances: float array (K + 1,), as in Trajectory.distances.

    Returns a float, or None when fewer than eight usable points remain (a
    path that leaves the plot within a few steps has no steady rate).
    """
    distances = np.asarray(distances, dtype=np.float64)
    below = np.flatnonzero(distances <= _DISTANCE_FLOOR * distances[0])
    end = int(below[0]) if below.size else len(distances)
    if end < 8:
        return None
    steps = np.arange(end // 2, end)
    slope = np.polyfit(steps, np.log(distances[steps]), 1)[0]
    return float(np.exp(slope))


def linear_rules():
    """The names of the rules whose step is linear in w, where the theory applies (from optim.RULES)."""
    return [name for name, info in optim.RULES.items() if info.iteration_matrix is not None]


def iteration_matrix(rule, learning_rate, momentum, curvature):
    """Return the linear map of one step along a direction of given curvature.

    Inputs:
    - rule: one of linear_rules() ("sgd", "sgd_momentum", "nesterov_momentum").
    - learning_rate: alpha (float).
    - momentum: mu (float, ignored by "sgd").
    - curvature: lambda, the second derivative along that direction (float).

    Returns the rule's optim.RULES[rule].iteration_matrix: a float64 array
    (1, 1) for "sgd" acting on w, or (2, 2) for the momentum rules acting on
    the state (w, v).
    """
    check_choice("rule", rule, linear_rules())
    return optim.RULES[rule].iteration_matrix(learning_rate, momentum, curvature)


def predicted_rate(rule, learning_rate, momentum, curvatures):
    """Return the per-step contraction theory predicts on a quadratic.

    Inputs:
    - rule: a name in course_lib.optim.RULES.
    - learning_rate, momentum: the constant hyperparameters (floats).
    - curvatures: the Hessian's eigenvalues, e.g. (1, kappa).

    Returns the largest spectral radius of iteration_matrix over the
    curvatures (a rate above 1 means divergence), or None for the rules
    without an iteration matrix (AdaGrad, RMSProp, Adam: their steps are not
    linear in w).
    """
    check_choice("rule", rule, list(optim.RULES))
    if optim.RULES[rule].iteration_matrix is None:
        return None
    radii = [
        np.max(np.abs(np.linalg.eigvals(iteration_matrix(rule, learning_rate, momentum, lam)))) for lam in curvatures
    ]
    return float(max(radii))


def optimal_gradient_descent(curvatures):
    """Return (learning_rate, rate) of the best constant-step gradient descent.

    alpha = 2 / (lambda_min + lambda_max) balances the two extreme curvatures,
    giving the rate (kappa - 1) / (kappa + 1) with kappa = lambda_max / lambda_min.
    """
    low, high = min(curvatures), max(curvatures)
    return 2.0 / (low + high), (high - low) / (high + low)


def optimal_heavy_ball(curvatures):
    """Return (learning_rate, momentum, rate) of the best-tuned heavy ball.

    alpha = 4 / (sqrt(lambda_min) + sqrt(lambda_max))^2 and
    mu = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2, which contracts by
    sqrt(mu) = (sqrt(kappa) - 1) / (sqrt(kappa) + 1) per step.
    """
    low, high = np.sqrt(min(curvatures)), np.sqrt(max(curvatures))
    rate = (high - low) / (high + low)
    return float(4.0 / (low + high) ** 2), float(rate**2), float(rate)
