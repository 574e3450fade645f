"""Convolution and max-pooling layers, twice: once to read, once to run.

The *naive* functions are the ones a lesson shows: explicit loops over images,
filters and output positions, each line a piece of the formula

    out[n, f, i, j] = b[f] + sum_{c, p, q} w[f, c, p, q] * xpad[n, c, i*stride + p, j*stride + q]

The *fast* functions compute exactly the same thing with whole-array numpy:

* conv forward is "im2col + matrix multiply": a strided view lists every
  receptive field without copying, one assignment copies them into a
  contiguous (N, C*HH*WW + 1, H_out*W_out) array of columns (the extra row of
  ones carries the bias, the linear classifier's "bias trick"), and
  np.matmul multiplies the (F, C*HH*WW + 1) filter matrix with each image's
  columns in BLAS, writing the output directly in (N, F, H_out, W_out) order.
* conv backward gets dw and db from one batched matrix multiply with those
  columns, and dx from another followed by "col2im": a loop over the HH*WW
  kernel offsets, each adding a strided slice of the column gradient into the
  padded input gradient. Looping over the few kernel offsets keeps every numpy
  call large; np.add.at would be far slower.
* max pooling loops over the pool_height*pool_width window offsets instead of
  over output positions, so windows may overlap (for example 3x3, stride 2).

Ties in max pooling: the gradient of a window goes to ONE input, the first
maximal element in row-major order inside the window (top-most row, then
left-most column), exactly the element np.argmax picks. Naive and fast use this
same rule. When windows overlap, one input can be the maximum of several
windows; it then receives the sum of their gradients.

Shapes: x is (N, C, H, W), w is (F, C, HH, WW), b is (F,);
conv_param = {"stride": s, "pad": p} (zero padding on every side);
pool_param = {"pool_height": PH, "pool_width": PW, "stride": s} (no padding).
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from course_lib.checks import check_array, check_count, check_dout


def _sliding_length(name, size, window, stride, what):
    """Number of window positions along one axis, or a ValueError if the windows do not tile it."""
    if window > size:
        raise ValueError(f"{name}: a {what} window of {window} does not fit in an input of size {size}")
    if (size - window) % stride:
        raise ValueError(
            f"{name}: (input size {size} - window {window}) is not a multiple of stride {stride}, "
            "so the output size would not be an integer"
        )
    return (size - window) // stride + 1


def _stride_and_pad(conv_param):
    stride = check_count("conv_param['stride']", conv_param.get("stride", 1))
    pad = check_count("conv_param['pad']", conv_param.get("pad", 0), allow_zero=True)
    return stride, pad


def _check_conv_inputs(x, w, b, conv_param):
    """Validate a convolution's inputs; return (x, w, b, stride, pad, H_out, W_out)."""
    x = check_array("x", x, ndim=4, dims="(N, C, H, W)")
    channels = x.shape[1]
    w_dims = f"(F, {channels}, HH, WW) to match x of shape {x.shape}"
    w = check_array("w", w, shape=(None, channels, None, None), dims=w_dims)
    b = check_array("b", b, shape=(w.shape[0],), dims=f"({w.shape[0]},), one bias per filter of w {w.shape}")
    stride, pad = _stride_and_pad(conv_param)
    _, _, H, W = x.shape
    _, _, HH, WW = w.shape
    where = f"conv of x {x.shape} (pad {pad}) with w {w.shape}"
    H_out = _sliding_length(f"{where}, height", H + 2 * pad, HH, stride, "filter")
    W_out = _sliding_length(f"{where}, width", W + 2 * pad, WW, stride, "filter")
    return x, w, b, stride, pad, H_out, W_out


def _check_pool_inputs(x, pool_param):
    """Validate a max pool's inputs; return (x, PH, PW, stride, H_out, W_out)."""
    x = check_array("x", x, ndim=4, dims="(N, C, H, W)")
    keys = ("pool_height", "pool_width", "stride")
    PH, PW, stride = (check_count(f"pool_param[{key!r}]", pool_param.get(key, 2)) for key in keys)
    where = f"max pool of x {x.shape}"
    H_out = _sliding_length(f"{where}, height", x.shape[2], PH, stride, "pooling")
    W_out = _sliding_length(f"{where}, width", x.shape[3], PW, stride, "pooling")
    return x, PH, PW, stride, H_out, W_out


def _check_conv_dout(dout, x_shape, w_shape, conv_param):
    """Check dout against the forward output (N, F, H_out, W_out); return (dout, stride, pad)."""
    stride, pad = _stride_and_pad(conv_param)
    N, _, H, W = x_shape
    F, _, HH, WW = w_shape
    shape = (N, F, (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1)
    return check_dout(dout, shape), stride, pad


def _pad(x, pad):
    """Zero-pad the two spatial axes of an (N, C, H, W) array by `pad` on every side."""
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


# ----------------------------------------------------------------------------
# Naive versions: loops you can follow with a pencil.
# ----------------------------------------------------------------------------


def conv_forward_naive(x, w, b, conv_param):
    """Convolution forward pass, written with explicit loops.

    Inputs:
    - x: input images, shape (N, C, H, W).
    - w: filters, shape (F, C, HH, WW).
    - b: biases, shape (F,).
    - conv_param: dict with "stride" (default 1) and "pad" (zeros added on each
      side of H and W, default 0).

    Returns (out, cache):
    - out: shape (N, F, H_out, W_out) with H_out = (H + 2*pad - HH) // stride + 1
      and W_out = (W + 2*pad - WW) // stride + 1.
    - cache: (x, w, b, conv_param) for conv_backward_naive.
    Raises ValueError on mismatched channels, filters larger than the padded
    input, strides that do not tile the padded input, or wrong ranks.
    """
    x, w, b, stride, pad, H_out, W_out = _check_conv_inputs(x, w, b, conv_param)
    N, F = x.shape[0], w.shape[0]
    HH, WW = w.shape[2:]
    xpad = _pad(x, pad)
    out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x, w, b))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    receptive_field = xpad[n, :, top : top + HH, left : left + WW]
                    out[n, f, i, j] = np.sum(receptive_field * w[f]) + b[f]
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    """Convolution backward pass, written with explicit loops.

    Inputs:
    - dout: upstream gradient, shape (N, F, H_out, W_out).
    - cache: the cache returned by conv_forward_naive.

    Returns (dx, dw, db) with the shapes of x (N, C, H, W), w (F, C, HH, WW) and b (F,).
    """
    x, w, b, conv_param = cache
    dout, stride, pad = _check_conv_dout(dout, x.shape, w.shape, conv_param)
    N, F, H_out, W_out = dout.shape
    HH, WW = w.shape[2:]
    xpad = _pad(x, pad)
    dxpad = np.zeros_like(xpad)
    dw = np.zeros_like(w)
    db = np.zeros_like(b)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    # out[n, f, i, j] = sum(field * w[f]) + b[f], so each term's
                    # gradient is the other factor times the upstream gradient.
                    g = dout[n, f, i, j]
                    dw[f] += g * xpad[n, :, top : top + HH, left : left + WW]
                    dxpad[n, :, top : top + HH, left : left + WW] += g * w[f]
                    db[f] += g
    H, W = x.shape[2:]
    dx = dxpad[:, :, pad : pad + H, pad : pad + W]
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    """Max-pooling forward pass, written with explicit loops.

    Inputs:
    - x: input, shape (N, C, H, W).
    - pool_param: dict with "pool_height", "pool_width" and "stride" (each
      default 2). Windows may overlap (stride smaller than the window).

    Returns (out, cache):
    - out: shape (N, C, H_out, W_out), H_out = (H - pool_height) // stride + 1,
      W_out = (W - pool_width) // stride + 1.
    - cache: (x, pool_param) for max_pool_backward_naive.
    """
    x, PH, PW, stride, H_out, W_out = _check_pool_inputs(x, pool_param)
    N, C = x.shape[:2]
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    out[n, c, i, j] = np.max(x[n, c, top : top + PH, left : left + PW])
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    """Max-pooling backward pass, written with explicit loops.

    Each window's gradient goes to its first maximal input in row-major order
    (what np.argmax returns); an input that is the maximum of several
    overlapping windows collects all their gradients.

    Inputs:
    - dout: upstream gradient, shape (N, C, H_out, W_out).
    - cache: the cache returned by max_pool_forward_naive.

    Returns dx, shape (N, C, H, W).
    """
    x, pool_param = cache
    x, PH, PW, stride, H_out, W_out = _check_pool_inputs(x, pool_param)
    N, C = x.shape[:2]
    dout = check_dout(dout, (N, C, H_out, W_out))
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    window = x[n, c, top : top + PH, left : left + PW]
                    p, q = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, top + p, left + q] += dout[n, c, i, j]
    return dx


# ----------------------------------------------------------------------------
# Fast versions: the same numbers from a few large numpy calls.
# ----------------------------------------------------------------------------


def _im2col(xpad, HH, WW, stride, H_out, W_out):
    """Every receptive field of xpad as a column, plus a row of ones for the bias.

    Returns columns of shape (N, C*HH*WW + 1, H_out*W_out): columns[n, :, k] is
    the k-th receptive field of image n, flattened in (c, p, q) order like a
    filter, followed by a 1 (the "bias trick": the bias becomes one more weight).
    The strided view of the fields costs nothing; assigning it makes the one copy,
    whose innermost axis runs along image rows so it reads memory in order.
    """
    N, C = xpad.shape[:2]
    K = C * HH * WW
    columns = np.empty((N, K + 1, H_out, W_out), dtype=xpad.dtype)
    fields = sliding_window_view(xpad, (HH, WW), axis=(2, 3))[:, :, ::stride, ::stride]
    # Splitting an axis is always a view, so this assignment fills `columns`.
    columns[:, :K].reshape(N, C, HH, WW, H_out, W_out)[...] = fields.transpose(0, 1, 4, 5, 2, 3)
    columns[:, K] = 1
    return columns.reshape(N, K + 1, H_out * W_out)


def conv_forward_fast(x, w, b, conv_param):
    """Convolution forward pass with im2col and one matrix multiply per image.

    Same inputs, outputs and errors as conv_forward_naive (x (N, C, H, W),
    w (F, C, HH, WW), b (F,), conv_param {"stride", "pad"}; out
    (N, F, H_out, W_out)); the cache is (x.shape, w, columns, conv_param) for
    conv_backward_fast.
    """
    x, w, b, stride, pad, H_out, W_out = _check_conv_inputs(x, w, b, conv_param)
    N, F = x.shape[0], w.shape[0]
    HH, WW = w.shape[2:]
    dtype = np.result_type(x, w, b)
    columns = _im2col(_pad(x.astype(dtype, copy=False), pad), HH, WW, stride, H_out, W_out)
    weights = np.concatenate([w.reshape(F, -1), b[:, None]], axis=1).astype(dtype, copy=False)
    # (F, K+1) @ (N, K+1, P) -> (N, F, P): the result is already in (N, F, H_out, W_out) order.
    out = np.matmul(weights, columns).reshape(N, F, H_out, W_out)
    return out, (x.shape, w, columns, conv_param)


def conv_backward_fast_weights(dout, cache):
    """The filter and bias gradients of conv_forward_fast, without dx.

    A network's first layer needs no gradient for its input images, and dx
    (col2im) is most of the backward pass's work.

    Inputs: dout (N, F, H_out, W_out) and the cache of conv_forward_fast.
    Returns (dw, db) with the shapes of w (F, C, HH, WW) and b (F,).
    """
    x_shape, w, columns, conv_param = cache
    dout, _, _ = _check_conv_dout(dout, x_shape, w.shape, conv_param)
    return _filter_gradients(dout, columns, w.shape)


def _filter_gradients(dout, columns, w_shape):
    """dw and db from a checked dout (N, F, H_out, W_out) and the im2col columns of the forward pass."""
    N, F = dout.shape[:2]
    # The ones row of `columns` makes the last column of this product the bias gradient.
    dweights = np.matmul(dout.reshape(N, F, -1), columns.transpose(0, 2, 1)).sum(axis=0)
    return dweights[:, :-1].reshape(w_shape), dweights[:, -1]


def conv_backward_fast(dout, cache):
    """Convolution backward pass with two matrix multiplies and col2im.

    Inputs:
    - dout: upstream gradient, shape (N, F, H_out, W_out).
    - cache: the cache returned by conv_forward_fast.

    Returns (dx, dw, db) with the shapes of x (N, C, H, W), w (F, C, HH, WW) and b (F,).
    """
    x_shape, w, columns, conv_param = cache
    dout, stride, pad = _check_conv_dout(dout, x_shape, w.shape, conv_param)
    dw, db = _filter_gradients(dout, columns, w.shape)
    N, C, H, W = x_shape
    F, _, HH, WW = w.shape
    H_out, W_out = dout.shape[2:]
    dcolumns = np.matmul(w.reshape(F, -1).T, dout.reshape(N, F, H_out * W_out)).reshape(N, C, HH, WW, H_out, W_out)
    # col2im: kernel offset (p, q) of every field touched a strided grid of the
    # padded input; add its gradient back there. Overlapping fields add up.
    dxpad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=dcolumns.dtype)
    for p in range(HH):
        for q in range(WW):
            rows = slice(p, p + stride * H_out, stride)
            cols = slice(q, q + stride * W_out, stride)
            dxpad[:, :, rows, cols] += dcolumns[:, :, p, q]
    dx = dxpad[:, :, pad : pad + H, pad : pad + W]
    return dx, dw, db


def max_pool_forward_fast(x, pool_param):
    """Max-pooling forward pass as a loop over the window offsets.

    Same inputs, outputs and errors as max_pool_forward_naive (x (N, C, H, W),
    pool_param {"pool_height", "pool_width", "stride"}; out (N, C, H_out, W_out));
    the cache is (x.shape, winner, (pool_height, pool_width, stride)) where
    winner (N, C, H_out, W_out) holds the row-major index, inside each window,
    of the element that gave the maximum (the first one, on ties).
    """
    x, PH, PW, stride, H_out, W_out = _check_pool_inputs(x, pool_param)
    index = np.min_scalar_type(PH * PW - 1).type
    winner = np.zeros((x.shape[0], x.shape[1], H_out, W_out), dtype=index)
    out = None
    for p in range(PH):
        for q in range(PW):
            # Offset (p, q) of every window at once: a strided view, no copy.
            candidate = x[:, :, p : p + stride * H_out : stride, q : q + stride * W_out : stride]
            if out is None:
                out = candidate.copy()
                continue
            # Strictly greater, so on a tie the earlier offset keeps the window.
            better = candidate > out
            np.maximum(out, candidate, out=out)
            # Select by arithmetic: np.where on a random mask is many times slower.
            winner = winner * ~better + better * index(p * PW + q)
    return out, (x.shape, winner, (PH, PW, stride))


def max_pool_backward_fast(dout, cache):
    """Max-pooling backward pass as a loop over the window offsets.

    Inputs:
    - dout: upstream gradient, shape (N, C, H_out, W_out).
    - cache: the cache returned by max_pool_forward_fast.

    Returns dx, shape (N, C, H, W); routes gradients like max_pool_backward_naive.
    """
    x_shape, winner, (PH, PW, stride) = cache
    dout = check_dout(dout, winner.shape)
    H_out, W_out = winner.shape[2:]
    dx = np.zeros(x_shape, dtype=dout.dtype)
    for p in range(PH):
        for q in range(PW):
            # Windows whose maximum sat at offset (p, q) pass their gradient there.
            won = winner == p * PW + q
            dx[:, :, p : p + stride * H_out : stride, q : q + stride * W_out : stride] += dout * won
    return dx
