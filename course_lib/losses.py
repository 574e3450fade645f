"""Classification losses (softmax cross-entropy, the multiclass SVM) and the L2 penalty.

The data losses take raw class scores (logits) of shape (N, C) and integer labels
of shape (N,), and return (loss, dscores): the loss averaged over the batch and
its gradient with respect to the scores. Both stay finite for logits as large
as +-1000: the softmax works with scores shifted by their row maximum, which
changes nothing mathematically (the shift cancels in the ratio) but keeps
exp() from overflowing.
"""

import numpy as np

from course_lib.checks import check_array, check_labels, check_positive


def _check_scores(scores):
    """scores must be a 2-D (N, C) array."""
    return check_array("scores", scores, ndim=2, dims="(N, C)")


def _log_softmax(scores):
    """Row-wise log-probabilities, computed from max-shifted scores (no overflow)."""
    shifted = scores - scores.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(scores):
    """Class probabilities exp(s_k) / sum_j exp(s_j), row by row.

    Inputs: scores of shape (N, C), or (C,) for a single example.
    Returns probabilities of the same shape; each row sums to 1.
    """
    scores = np.asarray(scores)
    scores = check_array("scores", scores, ndim=1 if scores.ndim == 1 else 2, dims="(N, C) or (C,)")
    return np.exp(_log_softmax(scores))


def softmax_loss(scores, y):
    """Softmax cross-entropy loss, mean over the batch.

    L = -(1/N) sum_i log softmax(scores_i)[y_i]

    Inputs:
    - scores: (N, C) class scores.
    - y: (N,) integer labels in [0, C).

    Returns loss (a scalar of scores' dtype) and dscores (N, C) = (p - onehot(y)) / N.
    """
    scores = _check_scores(scores)
    num_samples, num_classes = scores.shape
    y = check_labels("y", y, num_samples, num_classes)
    log_probs = _log_softmax(scores)
    rows = np.arange(num_samples)
    loss = -log_probs[rows, y].mean()
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1
    return loss, dscores / num_samples


def svm_loss(scores, y):
    """Multiclass SVM (hinge) loss with margin 1, mean over the batch.

    L = (1/N) sum_i sum_{j != y_i} max(0, s_ij - s_iy_i + 1)

    Inputs:
    - scores: (N, C) class scores.
    - y: (N,) integer labels in [0, C).

    Returns loss (a scalar of scores' dtype) and dscores (N, C). At a margin of
    exactly 0 (the hinge's kink) the gradient used is 0.
    """
    scores = _check_scores(scores)
    num_samples, num_classes = scores.shape
    y = check_labels("y", y, num_samples, num_classes)
    rows = np.arange(num_samples)
    margins = np.maximum(0, scores - scores[rows, y][:, None] + 1)
    margins[rows, y] = 0
    loss = margins.sum() / num_samples
    violated = (margins > 0).astype(scores.dtype)
    violated[rows, y] = -violated.sum(axis=1)
    return loss, violated / num_samples


def l2_penalty(weights, reg):
    """The regularization loss 0.5 * reg * sum(W ** 2) over some weights, and its gradient reg * W.

    Inputs:
    - weights: dict name -> array, the weights to penalize (a model passes its
      weight matrices, not its biases).
    - reg: regularization strength (>= 0).

    Returns (penalty, grads): the penalty a scalar, grads a dict with reg * W for
    every name of `weights` (same shapes and dtypes).
    """
    check_positive("reg", reg, allow_zero=True)
    penalty = sum(0.5 * reg * np.sum(W * W) for W in weights.values())
    return penalty, {name: reg * W for name, W in weights.items()}
