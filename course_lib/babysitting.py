"""Instruments for babysitting a training run, beyond the loss and the accuracy.

- hidden_activations(model, X): the ReLU output of every hidden layer of a
  FullyConnectedNet in test mode, to look at what the units do.
- unit_statistics(activations): per unit, how often it fires; which units are
  dead (never fire); how strongly units are correlated with each other.
- loss_wiggle(loss_history): the noise of a loss curve, the part that comes
  from drawing a different minibatch at every iteration.
- epoch_mean_losses(loss_history, iterations_per_epoch): the mean training loss
  of every complete epoch, the number to compare runs by.
"""

from dataclasses import dataclass

import numpy as np

from course_lib import layers, normalization
from course_lib.checks import check_array, check_probability

#: |correlation| above which two units count as near copies of each other.
CORRELATED = 0.9


def hidden_activations(model, X):
    """Every hidden layer's output (after its ReLU) of a FullyConnectedNet, in test mode.

    Test mode, as in model.loss(X): dropout is off and batchnorm uses its running
    statistics (which are left unchanged).

    Inputs:
    - model: a course_lib.models.FullyConnectedNet.
    - X: (N, D) or (N, C, H, W) inputs with D = C * H * W = model.input_dim.

    Returns a list of L - 1 arrays, one per hidden layer; entry l has shape
    (N, model.hidden_dims[l]) and the model's dtype.
    """
    for attribute in ("params", "hidden_dims", "input_dim", "normalization", "norm_params", "dtype"):
        if not hasattr(model, attribute):
            raise ValueError(f"model must be a FullyConnectedNet (it has no {attribute!r})")
    X = np.asarray(X)
    if X.ndim < 2 or int(np.prod(X.shape[1:])) != model.input_dim:
        raise ValueError(
            f"X must have shape (N, {model.input_dim}) or (N, C, H, W) with C * H * W = {model.input_dim}, "
            f"got shape {X.shape}"
        )
    h = X.reshape(X.shape[0], model.input_dim).astype(model.dtype, copy=False)
    outputs = []
    for layer in range(len(model.hidden_dims)):
        i = layer + 1
        h, _ = layers.affine_forward(h, model.params[f"W{i}"], model.params[f"b{i}"])
        if model.normalization == "batchnorm":
            bn_param = dict(model.norm_params[layer], mode="test")  # a copy: test mode must not touch the model
            h, _ = normalization.batchnorm_forward(h, model.params[f"gamma{i}"], model.params[f"beta{i}"], bn_param)
        elif model.normalization == "layernorm":
            h, _ = normalization.layernorm_forward(
                h, model.params[f"gamma{i}"], model.params[f"beta{i}"], model.norm_params[layer]
            )
        h, _ = layers.relu_forward(h)
        outputs.append(h)
    return outputs


@dataclass(frozen=True)
class UnitStatistics:
    """What the units of one layer do on a set of examples (see unit_statistics).

    - firing_rate: (H,) fraction of the examples on which each unit is positive.
    - dead: (H,) bool, True for units that are positive on none of them.
    - correlation: (H, H) Pearson correlation between the units' activations
      over the examples; rows and columns of units with no variance (dead
      units, constant units) are NaN.
    - correlated_fraction: fraction of the pairs of units with a correlation
      (both defined) whose |correlation| exceeds the threshold.
    - threshold: that threshold.
    """

    firing_rate: np.ndarray
    dead: np.ndarray
    correlation: np.ndarray
    correlated_fraction: float
    threshold: float

    @property
    def dead_fraction(self):
        """The fraction of the layer's units that are dead."""
        return float(np.mean(self.dead))


def unit_statistics(activations, threshold=CORRELATED):
    """Sparsity and redundancy of one layer: firing rates, dead units, correlations.

    Inputs:
    - activations: (N, H) array, one row per example and one column per unit
      (an entry of hidden_activations), N >= 2.
    - threshold: |correlation| above which a pair counts as correlated, in (0, 1].

    Returns a UnitStatistics.
    """
    activations = check_array("activations", activations, ndim=2, dims="(N, H)").astype(np.float64)
    if activations.shape[0] < 2:
        raise ValueError(f"activations needs at least 2 examples (rows) to correlate units, got {activations.shape[0]}")
    threshold = check_probability("threshold", threshold)
    firing_rate = np.mean(activations > 0, axis=0)
    centered = activations - activations.mean(axis=0)
    norms = np.linalg.norm(centered, axis=0)
    varies = norms > 1e-12 * max(1.0, float(np.abs(activations).max()))
    unit = np.where(varies, centered / np.where(varies, norms, 1.0), np.nan)
    correlation = np.clip(unit.T @ unit, -1.0, 1.0)
    pairs = np.triu(np.outer(varies, varies), k=1)
    correlated = float(np.mean(np.abs(correlation[pairs]) > threshold)) if pairs.any() else 0.0
    return UnitStatistics(firing_rate, firing_rate == 0, correlation, correlated, float(threshold))


def loss_wiggle(loss_history, start_fraction=0.5):
    """The noise of a loss curve: std of successive differences / sqrt(2), over its later part.

    For a curve that is a slowly changing trend plus independent noise of
    standard deviation s at every iteration, successive differences remove the
    trend and have standard deviation s * sqrt(2), so the result estimates s.

    Inputs:
    - loss_history: array-like (T,) of losses, one per iteration.
    - start_fraction: skip this fraction of the curve (the fast initial drop),
      in [0, 1).

    Returns a float >= 0. Raises ValueError when fewer than 3 points remain.
    """
    values = check_array("loss_history", loss_history, ndim=1, dims="(T,)").astype(np.float64)
    if not 0 <= start_fraction < 1:
        raise ValueError(f"start_fraction must lie in [0, 1), got {start_fraction!r}")
    later = values[int(start_fraction * values.size) :]
    if later.size < 3:
        raise ValueError(
            f"loss_history has {later.size} points after skipping {start_fraction:g} of it; need at least 3"
        )
    return float(np.std(np.diff(later)) / np.sqrt(2))


def epoch_mean_losses(loss_history, iterations_per_epoch):
    """The mean training loss of every complete epoch.

    One minibatch's loss is noisy; the mean over an epoch is what to compare
    between runs. An unfinished last epoch (a run stopped early) is left out.

    Inputs:
    - loss_history: array-like (T,) of losses, one per iteration (Solver.loss_history).
    - iterations_per_epoch: int > 0 (Solver.iterations_per_epoch).

    Returns an array (T // iterations_per_epoch,), possibly empty.
    """
    values = check_array("loss_history", loss_history, ndim=1, dims="(T,)").astype(np.float64)
    if not isinstance(iterations_per_epoch, (int, np.integer)) or iterations_per_epoch <= 0:
        raise ValueError(f"iterations_per_epoch must be a positive integer, got {iterations_per_epoch!r}")
    complete = values.size // iterations_per_epoch * iterations_per_epoch
    return values[:complete].reshape(-1, iterations_per_epoch).mean(axis=1)
