"""Batch normalization, layer normalization and spatial batch normalization.

All three standardize activations, xhat = (x - mean) / sqrt(var + eps), then
scale and shift them with learned gamma and beta: out = gamma * xhat + beta.
They differ in what the mean and variance are taken over:

* batch norm: each feature over the batch (axis 0 of an (N, D) input); at test
  time it uses running averages gathered during training instead;
* layer norm: each sample over its features (axis 1), the same in train and test;
* spatial batch norm: each channel over the batch and all pixels of (N, C, H, W).

Variances are the biased ones (divide by the number of values, not one less),
for the normalization and for the running averages alike.
"""

import numpy as np

from course_lib.checks import check_array, check_choice, check_dout, check_positive, check_probability


def _standardize(x, eps, axis):
    """Return xhat, mean, var, inv_std of x along `axis` (biased variance)."""
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, keepdims=True)
    inv_std = 1 / np.sqrt(var + eps)
    return (x - mean) * inv_std, mean, var, inv_std


def _standardize_backward(dxhat, xhat, inv_std, axis):
    """Gradient through xhat = (x - mean(x)) * inv_std(x) along `axis`, in closed form.

    dx = inv_std / n * (n * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)),
    with the sums along `axis` and n the number of values summed over.
    """
    n = dxhat.shape[axis]
    total = dxhat.sum(axis=axis, keepdims=True)
    projection = (dxhat * xhat).sum(axis=axis, keepdims=True)
    return inv_std / n * (n * dxhat - total - xhat * projection)


def _check_affine_params(gamma, beta, num_features, what):
    """Return gamma and beta as arrays after checking they are (num_features,) vectors."""
    dims = f"({what},) = ({num_features},)"
    return (
        check_array("gamma", gamma, shape=(num_features,), dims=dims),
        check_array("beta", beta, shape=(num_features,), dims=dims),
    )


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization of an (N, D) input, feature by feature.

    Train mode normalizes with the batch's mean and biased variance and updates
    the running statistics IN bn_param:

        running_mean = momentum * running_mean + (1 - momentum) * batch_mean
        running_var  = momentum * running_var  + (1 - momentum) * batch_var  (biased)

    starting from zeros and ones in x's dtype when bn_param has none yet. Test
    mode normalizes with those running statistics and leaves them unchanged.

    Inputs:
    - x: (N, D) data.
    - gamma: (D,) scale.
    - beta: (D,) shift.
    - bn_param: dict with "mode" ("train" or "test"), and optionally "eps"
      (default 1e-5), "momentum" (default 0.9), "running_mean" (D,) and
      "running_var" (D,).

    Returns out (N, D) and the cache for batchnorm_backward(_alt).
    """
    x = check_array("x", x, ndim=2, dims="(N, D)")
    num_features = x.shape[1]
    gamma, beta = _check_affine_params(gamma, beta, num_features, "D")
    mode = check_choice("bn_param['mode']", bn_param.get("mode"), ("train", "test"))
    eps = check_positive("bn_param['eps']", bn_param.get("eps", 1e-5))
    momentum = check_probability("bn_param['momentum']", bn_param.get("momentum", 0.9), allow_zero=True)
    stats_dims = f"(D,) = ({num_features},)"
    running_mean = check_array(
        "bn_param['running_mean']",
        bn_param.get("running_mean", np.zeros(num_features, dtype=x.dtype)),
        shape=(num_features,),
        dims=stats_dims,
    )
    running_var = check_array(
        "bn_param['running_var']",
        bn_param.get("running_var", np.ones(num_features, dtype=x.dtype)),
        shape=(num_features,),
        dims=stats_dims,
    )
    if mode == "train":
        xhat, mean, var, inv_std = _standardize(x, eps, axis=0)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean[0]
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var[0]
    else:
        inv_std = 1 / np.sqrt(running_var + eps)
        xhat = (x - running_mean) * inv_std
        mean = var = None
    cache = {
        "mode": mode,
        "x": x,
        "xhat": xhat,
        "mean": mean,
        "var": var,
        "inv_std": inv_std,
        "gamma": gamma,
        "eps": eps,
    }
    return gamma * xhat + beta, cache


def _gamma_beta_grads(dout, cache):
    """dgamma and dbeta of out = gamma * xhat + beta, summed over the batch."""
    return (dout * cache["xhat"]).sum(axis=0), dout.sum(axis=0)


def _train_cache(dout, cache):
    """Check that the cache comes from a train-mode pass and dout has its shape."""
    if cache["mode"] != "train":
        raise ValueError("batchnorm backward needs the cache of a 'train' mode forward pass")
    return check_dout(dout, cache["x"].shape)


def batchnorm_backward(dout, cache):
    """Backward pass of batchnorm_forward, node by node through the computational graph.

    Inputs:
    - dout: (N, D) upstream gradient.
    - cache: from a train-mode batchnorm_forward.

    Returns dx (N, D), dgamma (D,), dbeta (D,).
    """
    dout = _train_cache(dout, cache)
    x, mean, var, eps = cache["x"], cache["mean"], cache["var"], cache["eps"]
    num_samples = x.shape[0]
    dgamma, dbeta = _gamma_beta_grads(dout, cache)
    # Forward graph: centered = x - mean; std = sqrt(var + eps); xhat = centered / std.
    centered = x - mean
    std = np.sqrt(var + eps)
    dxhat = dout * cache["gamma"]
    dcentered = dxhat / std
    dstd = -(dxhat * centered).sum(axis=0, keepdims=True) / std**2
    dvar = dstd / (2 * std)
    # var = mean(centered ** 2): every centered value feeds the variance too.
    dcentered += 2 * centered * dvar / num_samples
    # centered = x - mean(x): x feeds directly and through the mean.
    dmean = -dcentered.sum(axis=0, keepdims=True)
    dx = dcentered + dmean / num_samples
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """Backward pass of batchnorm_forward in the simplified closed form.

    dx = gamma * inv_std / N * (N * dout - sum(dout) - xhat * sum(dout * xhat)),
    sums over the batch; same result as batchnorm_backward, fewer operations.

    Inputs:
    - dout: (N, D) upstream gradient.
    - cache: from a train-mode batchnorm_forward.

    Returns dx (N, D), dgamma (D,), dbeta (D,).
    """
    dout = _train_cache(dout, cache)
    dgamma, dbeta = _gamma_beta_grads(dout, cache)
    dx = _standardize_backward(dout * cache["gamma"], cache["xhat"], cache["inv_std"], axis=0)
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param=None):
    """Layer normalization of an (N, D) input, sample by sample over its features.

    It behaves the same in train and test mode and keeps no running statistics.

    Inputs:
    - x: (N, D) data.
    - gamma: (D,) scale.
    - beta: (D,) shift.
    - ln_param: optional dict with "eps" (default 1e-5); other keys are ignored.

    Returns out (N, D) and the cache for layernorm_backward.
    """
    x = check_array("x", x, ndim=2, dims="(N, D)")
    gamma, beta = _check_affine_params(gamma, beta, x.shape[1], "D")
    eps = check_positive("ln_param['eps']", (ln_param or {}).get("eps", 1e-5))
    xhat, _, _, inv_std = _standardize(x, eps, axis=1)
    return gamma * xhat + beta, {"xhat": xhat, "inv_std": inv_std, "gamma": gamma}


def layernorm_backward(dout, cache):
    """Backward pass of layernorm_forward.

    Inputs:
    - dout: (N, D) upstream gradient.
    - cache: from layernorm_forward.

    Returns dx (N, D), dgamma (D,), dbeta (D,).
    """
    xhat = cache["xhat"]
    dout = check_dout(dout, xhat.shape)
    dgamma, dbeta = _gamma_beta_grads(dout, cache)
    dx = _standardize_backward(dout * cache["gamma"], xhat, cache["inv_std"], axis=1)
    return dx, dgamma, dbeta


def _channels_last(x):
    """(N, C, H, W) -> (N * H * W, C): one row per pixel, one column per channel."""
    return x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])


def _channels_first(rows, shape):
    """Inverse of _channels_last for an input of `shape` (N, C, H, W)."""
    n, c, h, w = shape
    return rows.reshape(n, h, w, c).transpose(0, 3, 1, 2)


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization of convolutional activations, channel by channel.

    Each channel is normalized over the batch and all its pixels, by running
    batchnorm_forward on the (N * H * W, C) matrix of pixels; bn_param behaves
    as there (running statistics of shape (C,)).

    Inputs:
    - x: (N, C, H, W) data.
    - gamma: (C,) scale.
    - beta: (C,) shift.
    - bn_param: as in batchnorm_forward.

    Returns out (N, C, H, W) and the cache for spatial_batchnorm_backward.
    """
    x = check_array("x", x, ndim=4, dims="(N, C, H, W)")
    _check_affine_params(gamma, beta, x.shape[1], "C")
    out, cache = batchnorm_forward(_channels_last(x), gamma, beta, bn_param)
    return _channels_first(out, x.shape), (cache, x.shape)


def spatial_batchnorm_backward(dout, cache):
    """Backward pass of spatial_batchnorm_forward.

    Inputs:
    - dout: (N, C, H, W) upstream gradient.
    - cache: from a train-mode spatial_batchnorm_forward.

    Returns dx (N, C, H, W), dgamma (C,), dbeta (C,).
    """
    bn_cache, shape = cache
    dout = check_dout(dout, shape)
    dx, dgamma, dbeta = batchnorm_backward_alt(_channels_last(dout), bn_cache)
    return _channels_first(dx, shape), dgamma, dbeta
