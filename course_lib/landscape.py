"""The loss landscape in more than two dimensions: Hessians, critical points, flat parameters.

Lesson 10 asks what the critical points of a network's loss look like. This
module has the pieces it (and a curious student) needs:

- FlatParams: a network's parameter dict as one vector, and back, for
  anything that wants a single vector (SciPy's optimizers, Hessians).
- numerical_hessian: the Hessian of a loss from centred differences of its
  analytic gradient, symmetrized.
- random_symmetric_matrices: random "Hessians" (the Gaussian orthogonal
  ensemble) to ask how often a critical point in D dimensions is a minimum.
- TanhNet: a two-layer softmax network with a tanh hidden layer, built from
  course_lib's layers. Unlike ReLU its loss is smooth everywhere, so its
  Hessian exists at every point and finite differences measure it.
"""

import numpy as np

from course_lib import layers, losses
from course_lib.checks import check_array, check_count, check_positive


class FlatParams:
    """A network's parameter dict seen as one vector, and back.

    SciPy's optimizers and Hessians want one vector; networks keep named arrays.
    FlatParams fixes the order once (the order of the dict it is built from), so
    that parameters and their gradients line up entry by entry.

    Inputs:
    - params: dict name -> array (any shapes), e.g. model.params.

    Attributes and methods:
    - vector: float64 array (P,), the parameters concatenated, P entries in all.
    - flatten(arrays): any dict with the same names and shapes (the gradients)
      as a float64 vector (P,), in the order of `params`, whatever its own order.
    - unflatten(v): a vector (P,) as a new dict of arrays with the names, shapes
      and dtypes of `params`.
    """

    def __init__(self, params):
        self.names = list(params)
        self.shapes = [np.shape(params[name]) for name in self.names]
        self.dtypes = [np.asarray(params[name]).dtype for name in self.names]
        self.vector = self.flatten(params)

    def flatten(self, arrays):
        missing = set(self.names) - set(arrays)
        if missing:
            raise ValueError(f"arrays must hold every parameter of the network, missing {sorted(missing)}")
        parts = []
        for name, shape in zip(self.names, self.shapes):
            part = check_array(f"arrays[{name!r}]", arrays[name], shape=shape)
            parts.append(part.astype(np.float64).ravel())
        return np.concatenate(parts)

    def unflatten(self, v):
        v = check_array("v", v, shape=(self.vector.size,), dims=f"({self.vector.size},)")
        parts = np.split(v, np.cumsum([int(np.prod(shape)) for shape in self.shapes])[:-1])
        return {
            name: part.reshape(shape).astype(dtype)
            for name, part, shape, dtype in zip(self.names, parts, self.shapes, self.dtypes)
        }


def numerical_hessian(grad, w, h=1e-5):
    """The Hessian of a function from centred differences of its gradient.

    Column i is (grad(w + h e_i) - grad(w - h e_i)) / (2 h); the result is
    symmetrized, (H + H^T) / 2, which halves the rounding noise and makes the
    eigenvalues real. It costs 2 P gradient evaluations.

    Inputs:
    - grad: a function vector (P,) -> gradient (P,) (analytic, e.g. a backward pass).
    - w: the point, array (P,).
    - h: the step (positive float).

    Returns a float64 array (P, P).
    """
    w = check_array("w", w, ndim=1, dims="(P,)").astype(np.float64)
    check_positive("h", h)
    hessian = np.empty((w.size, w.size))
    step = np.zeros_like(w)
    for i in range(w.size):
        step[i] = h
        hessian[:, i] = (np.asarray(grad(w + step)) - np.asarray(grad(w - step))) / (2 * h)
        step[i] = 0.0
    return (hessian + hessian.T) / 2


def random_symmetric_matrices(dim, count, seed=None):
    """Random symmetric matrices from the Gaussian orthogonal ensemble.

    Each is (A + A^T) / sqrt(2) with A standard normal, so its entries have
    variance 1 off the diagonal and 2 on it. Its eigenvalues are distributed
    symmetrically about 0, and they repel each other: a matrix with all of them
    positive gets rare fast as dim grows.

    Inputs:
    - dim: D, the size of each matrix (positive int).
    - count: how many matrices (positive int).
    - seed: seeds the draw.

    Returns a float64 array (count, D, D).
    """
    dim, count = check_count("dim", dim), check_count("count", count)
    a = np.random.default_rng(seed).standard_normal((count, dim, dim))
    return (a + a.transpose(0, 2, 1)) / np.sqrt(2)


class TanhNet:
    """affine - tanh - affine - softmax, with the L2 penalty (reg / 2) * sum(W^2) on W1 and W2.

    The interface of course_lib.models (a Solver trains it): `params` holds
    W1 (D, H), b1 (H,), W2 (H, C), b2 (C,); `loss(X)` returns the scores (N, C),
    `loss(X, y)` returns (loss, grads) with grads keyed like params.
    """

    def __init__(self, input_dim, hidden_dim, num_classes, reg=0.0, weight_scale="xavier", dtype=np.float64, seed=None):
        """Inputs:
        - input_dim: D, the size of a flattened input; hidden_dim: H; num_classes: C.
        - reg: L2 strength (>= 0).
        - weight_scale: "xavier" (N(0, 1) / sqrt(fan_in), the scale tanh wants), or a
          float s for s * N(0, 1); 0 gives all-zero weights. Biases start at 0.
        - dtype: the parameters' float type; seed: seeds the weights.
        """
        input_dim, hidden_dim = check_count("input_dim", input_dim), check_count("hidden_dim", hidden_dim)
        num_classes = check_count("num_classes", num_classes)
        self.reg = check_positive("reg", reg, allow_zero=True)
        rng = np.random.default_rng(seed)
        self.params = {}
        for index, (fan_in, fan_out) in enumerate(((input_dim, hidden_dim), (hidden_dim, num_classes)), start=1):
            if weight_scale == "xavier":
                scale = 1 / np.sqrt(fan_in)
            elif isinstance(weight_scale, str):
                raise ValueError(f"weight_scale must be 'xavier' or a number >= 0, got {weight_scale!r}")
            else:
                scale = check_positive("weight_scale", weight_scale, allow_zero=True)
            self.params[f"W{index}"] = (scale * rng.standard_normal((fan_in, fan_out))).astype(dtype)
            self.params[f"b{index}"] = np.zeros(fan_out, dtype=dtype)

    def loss(self, X, y=None):
        """Scores (N, C) of X (N, ...) without y; (loss, grads) with labels y (N,)."""
        p = self.params
        X = np.asarray(X, dtype=p["W1"].dtype).reshape(len(X), -1)
        hidden_in, affine1 = layers.affine_forward(X, p["W1"], p["b1"])
        hidden, tanh_cache = layers.tanh_forward(hidden_in)
        scores, affine2 = layers.affine_forward(hidden, p["W2"], p["b2"])
        if y is None:
            return scores
        loss, dscores = losses.softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))
        dhidden, dW2, db2 = layers.affine_backward(dscores, affine2)
        _, dW1, db1 = layers.affine_backward(layers.tanh_backward(dhidden, tanh_cache), affine1)
        grads = {"W1": dW1 + self.reg * p["W1"], "b1": db1, "W2": dW2 + self.reg * p["W2"], "b2": db2}
        return float(loss), grads
