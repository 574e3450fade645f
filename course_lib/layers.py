"""Layers as forward/backward pairs, in CS231n's convention.

`*_forward(inputs...) -> (out, cache)` computes the output and keeps what the
backward pass needs; `*_backward(dout, cache)` returns the gradients with
respect to the forward inputs, in their order. Arrays keep their dtype: feed
float32 and everything comes back float32.

Activations: relu, leaky_relu, prelu, elu, sigmoid, tanh, maxout. Regularizer:
(inverted) dropout. Sandwich: affine_relu, the building block of a plain
fully connected net.
"""

import numpy as np

from course_lib.checks import check_array, check_choice, check_dout, check_positive, check_probability


def affine_forward(x, w, b):
    """Fully connected layer: out = x.reshape(N, D) @ w + b.

    Inputs:
    - x: (N, d_1, ..., d_k), flattened to (N, D) with D = d_1 * ... * d_k.
    - w: (D, M) weights.
    - b: (M,) biases.

    Returns out of shape (N, M) and the cache (x, w, b).
    """
    w = check_array("w", w, ndim=2, dims="(D, M)")
    x = np.asarray(x)
    D, M = w.shape
    if x.ndim < 2 or int(np.prod(x.shape[1:])) != D:
        raise ValueError(f"x must have shape (N, d_1, ..., d_k) with d_1 * ... * d_k = D = {D}, got shape {x.shape}")
    b = check_array("b", b, shape=(M,), dims=f"(M,) = ({M},)")
    out = x.reshape(x.shape[0], D) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    """Backward pass of affine_forward.

    Inputs:
    - dout: (N, M) upstream gradient.
    - cache: (x, w, b) from affine_forward.

    Returns dx (shape of x), dw (D, M), db (M,).
    """
    x, w, _b = cache
    dout = check_dout(dout, (x.shape[0], w.shape[1]))
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    """ReLU: out = max(0, x), elementwise.

    Inputs: x of any shape. Returns out (shape of x) and the cache x.
    """
    x = np.asarray(x)
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    """Backward pass of relu_forward: dout where x > 0, else 0 (the kink at 0 gets 0).

    Inputs: dout (shape of x), cache from relu_forward. Returns dx (shape of x).
    """
    x = cache
    dout = check_dout(dout, x.shape)
    return dout * (x > 0)


def leaky_relu_forward(x, alpha=0.01):
    """Leaky ReLU: out = x where x > 0, alpha * x elsewhere.

    Inputs: x of any shape; alpha, the fixed non-negative slope for x <= 0.
    Returns out (shape of x) and the cache (x, alpha).
    """
    x = np.asarray(x)
    alpha = float(check_positive("alpha", alpha, allow_zero=True))
    return np.where(x > 0, x, alpha * x), (x, alpha)


def leaky_relu_backward(dout, cache):
    """Backward pass of leaky_relu_forward.

    Inputs: dout (shape of x), cache from leaky_relu_forward. Returns dx (shape of x).
    """
    x, alpha = cache
    dout = check_dout(dout, x.shape)
    return np.where(x > 0, dout, alpha * dout)


def prelu_forward(x, alpha):
    """Parametric ReLU: like leaky ReLU, but the slope alpha is learned.

    Inputs:
    - x: (N, d_1, ..., d_k).
    - alpha: a scalar shared by all units, or an array of shape (d_1, ..., d_k)
      with one slope per feature (broadcast over the batch).

    Returns out (shape of x) and the cache (x, alpha).
    """
    x = np.asarray(x)
    if np.ndim(alpha):
        dims = f"() or {x.shape[1:]} (a scalar or one slope per feature)"
        alpha = check_array("alpha", alpha, shape=x.shape[1:], dims=dims)
    else:
        alpha = float(alpha)  # a Python float keeps x's dtype (float32 stays float32)
    return np.where(x > 0, x, alpha * x), (x, alpha)


def prelu_backward(dout, cache):
    """Backward pass of prelu_forward.

    Inputs: dout (shape of x), cache from prelu_forward.
    Returns dx (shape of x) and dalpha (shape of alpha: () for a scalar slope).
    """
    x, alpha = cache
    dout = check_dout(dout, x.shape)
    negative = x <= 0
    dx = np.where(negative, alpha * dout, dout)
    dalpha = (dout * x * negative).sum(axis=0 if np.ndim(alpha) else None)
    return dx, np.asarray(dalpha)


def elu_forward(x, alpha=1.0):
    """ELU: out = x where x > 0, alpha * (exp(x) - 1) elsewhere.

    Inputs: x of any shape; alpha > 0, the value approached as x -> -inf is -alpha.
    Returns out (shape of x) and the cache (x, alpha).
    """
    x = np.asarray(x)
    alpha = float(check_positive("alpha", alpha))
    # exp only ever sees non-positive numbers, so large x cannot overflow.
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))), (x, alpha)


def elu_backward(dout, cache):
    """Backward pass of elu_forward: the slope is 1 for x > 0, alpha * exp(x) elsewhere.

    Inputs: dout (shape of x), cache from elu_forward. Returns dx (shape of x).
    """
    x, alpha = cache
    dout = check_dout(dout, x.shape)
    return np.where(x > 0, dout, dout * alpha * np.exp(np.minimum(x, 0)))


def sigmoid_forward(x):
    """Logistic sigmoid 1 / (1 + exp(-x)), computed without overflow for any x.

    Inputs: x of any shape. Returns out (shape of x) and the cache out.
    """
    x = np.asarray(x)
    # exp(-|x|) lies in (0, 1]: both branches below are exact rewrites that never overflow.
    z = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1 / (1 + z), z / (1 + z))
    return out, out


def sigmoid_backward(dout, cache):
    """Backward pass of sigmoid_forward: dout * s * (1 - s).

    Inputs: dout (shape of x), cache from sigmoid_forward. Returns dx (shape of x).
    """
    out = cache
    dout = check_dout(dout, out.shape)
    return dout * out * (1 - out)


def tanh_forward(x):
    """Hyperbolic tangent, elementwise.

    Inputs: x of any shape. Returns out (shape of x) and the cache out.
    """
    out = np.tanh(np.asarray(x))
    return out, out


def tanh_backward(dout, cache):
    """Backward pass of tanh_forward: dout * (1 - tanh(x)^2).

    Inputs: dout (shape of x), cache from tanh_forward. Returns dx (shape of x).
    """
    out = cache
    dout = check_dout(dout, out.shape)
    return dout * (1 - out * out)


def maxout_forward(x, w1, b1, w2, b2):
    """Maxout unit with two pieces: out = max(x @ w1 + b1, x @ w2 + b2).

    Inputs:
    - x: (N, d_1, ..., d_k), flattened to (N, D) as in affine_forward.
    - w1, w2: (D, M) weights of the two pieces.
    - b1, b2: (M,) biases of the two pieces.

    Returns out of shape (N, M) and the cache.
    """
    w1 = check_array("w1", w1, ndim=2, dims="(D, M)")
    check_array("w2", w2, shape=w1.shape, dims=f"{w1.shape} (the shape of w1)")
    num_units = w1.shape[1]
    check_array("b1", b1, shape=(num_units,), dims=f"(M,) = ({num_units},)")
    check_array("b2", b2, shape=(num_units,), dims=f"(M,) = ({num_units},)")
    first, first_cache = affine_forward(x, w1, b1)
    second, second_cache = affine_forward(x, w2, b2)
    first_wins = first >= second
    return np.where(first_wins, first, second), (first_cache, second_cache, first_wins)


def maxout_backward(dout, cache):
    """Backward pass of maxout_forward: each output's gradient goes to the winning piece.

    Inputs: dout (N, M), cache from maxout_forward.
    Returns dx (shape of x), dw1 (D, M), db1 (M,), dw2 (D, M), db2 (M,).
    """
    first_cache, second_cache, first_wins = cache
    dout = check_dout(dout, first_wins.shape)
    dx1, dw1, db1 = affine_backward(dout * first_wins, first_cache)
    dx2, dw2, db2 = affine_backward(dout * ~first_wins, second_cache)
    return dx1 + dx2, dw1, db1, dw2, db2


def dropout_forward(x, dropout_param):
    """Inverted dropout: keep each unit with probability keep_prob, scale by 1 / keep_prob.

    Scaling at training time keeps the expected activation unchanged, so the
    test-time pass is the identity and needs no rescaling.

    Inputs:
    - x: array of any shape.
    - dropout_param: dict with
      - "keep_prob": probability in (0, 1] of KEEPING a unit (1 disables dropout);
      - "mode": "train" (drop) or "test" (identity);
      - "seed" (optional): seed of the mask. With a seed every call draws the
        same mask (for gradient checks and reproducible examples); leave it
        out in training so each batch gets a fresh mask.

    Returns out (shape of x) and the cache (mode, mask, shape of x); the mask
    holds 0 or 1 / keep_prob in x's dtype (None in test mode).
    """
    x = np.asarray(x)
    if "keep_prob" not in dropout_param:
        raise ValueError("dropout_param must contain 'keep_prob', the probability of keeping a unit")
    keep_prob = check_probability("dropout_param['keep_prob']", dropout_param["keep_prob"])
    mode = check_choice("dropout_param['mode']", dropout_param.get("mode"), ("train", "test"))
    if mode == "test":
        return x, (mode, None, x.shape)
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask_dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    mask = ((rng.random(x.shape) < keep_prob) / keep_prob).astype(mask_dtype)
    return x * mask, (mode, mask, x.shape)


def dropout_backward(dout, cache):
    """Backward pass of dropout_forward: the same mask in train mode, identity in test mode.

    Inputs: dout (shape of x), cache from dropout_forward. Returns dx (shape of x).
    """
    mode, mask, shape = cache
    dout = check_dout(dout, shape)
    return dout if mode == "test" else dout * mask


def affine_relu_forward(x, w, b):
    """Affine layer followed by ReLU: out = max(0, x @ w + b).

    Inputs: x (N, d_1, ..., d_k), w (D, M), b (M,) as in affine_forward.
    Returns out of shape (N, M) and the cache (affine cache, relu cache).
    """
    scores, affine_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(scores)
    return out, (affine_cache, relu_cache)


def affine_relu_backward(dout, cache):
    """Backward pass of affine_relu_forward.

    Inputs: dout (N, M), cache from affine_relu_forward.
    Returns dx (shape of x), dw (D, M), db (M,).
    """
    affine_cache, relu_cache = cache
    return affine_backward(relu_backward(dout, relu_cache), affine_cache)
