"""A fully connected network of any depth, built from course_lib's layers.

    {affine - [batchnorm or layernorm] - relu - [dropout]} x (L - 1) - affine - softmax

The parameters live in `model.params`, keyed "W1", "b1", "gamma1", "beta1", ...,
"WL", "bL" (the last layer has no normalization, so no gamma/beta). The loss is
the mean softmax cross-entropy plus the L2 penalty 0.5 * reg * sum(W ** 2) over
the weight matrices only (not biases, gammas or betas); its gradient is reg * W.
"""

import itertools

import numpy as np

from course_lib import layers, losses, normalization
from course_lib.checks import check_choice, check_count, check_labels, check_positive, check_probability
from course_lib.data import dataset_info
from course_lib.initialization import init_weights

NORMALIZATIONS = (None, "batchnorm", "layernorm")


class FullyConnectedNet:
    """A softmax classifier on top of L - 1 hidden ReLU layers.

    Attributes:
    - params: dict name -> array, the learnable parameters (dtype `dtype`).
    - num_layers: L, the number of affine layers.
    - norm_params: one dict per hidden layer, the batchnorm/layernorm state
      (running mean and variance for batchnorm); empty without normalization.
    """

    def __init__(
        self,
        hidden_dims,
        input_dim=None,
        num_classes=None,
        keep_prob=1.0,
        normalization=None,
        reg=0.0,
        weight_scale=1e-2,
        dtype=np.float32,
        seed=None,
        dropout_seed=None,
    ):
        """Build the network and initialize its parameters.

        Inputs:
        - hidden_dims: list of positive ints, the width of each hidden layer
          (an empty list gives a linear softmax classifier).
        - input_dim: D, the size of one flattened input; None: the default
          dataset's (course_lib.data.default_dataset_name()) input_dim.
        - num_classes: C, the number of classes; None: the default dataset's.
        - keep_prob: probability of KEEPING a hidden unit in (inverted) dropout;
          1.0 disables dropout.
        - normalization: None, "batchnorm" or "layernorm", after each hidden affine layer.
        - reg: L2 regularization strength (>= 0).
        - weight_scale: a positive float (weights drawn as weight_scale * N(0, 1))
          or a scheme name of course_lib.initialization.init_weights ("xavier", "he", ...).
          Biases and betas start at 0, gammas at 1.
        - dtype: numpy float type of the parameters and computations; use
          np.float64 for gradient checks.
        - seed: seeds the initialization and the stream of dropout masks, so a
          whole training run is reproducible.
        - dropout_seed: when given, every call of loss() draws the SAME dropout
          masks (layer i uses seed dropout_seed + i), which makes the loss a
          deterministic function of the parameters, as gradient checks need.
        """
        self.hidden_dims = [check_count("hidden_dims entries", h) for h in hidden_dims]
        self.input_dim = check_count("input_dim", dataset_info().input_dim if input_dim is None else input_dim)
        self.num_classes = check_count(
            "num_classes", dataset_info().num_classes if num_classes is None else num_classes
        )
        self.keep_prob = check_probability("keep_prob", keep_prob)
        self.normalization = check_choice("normalization", normalization, NORMALIZATIONS)
        self.reg = check_positive("reg", reg, allow_zero=True)
        self.dtype = np.dtype(dtype)
        self.dropout_seed = dropout_seed
        self.num_layers = len(self.hidden_dims) + 1
        self._rng = np.random.default_rng(seed)

        dims = [self.input_dim, *self.hidden_dims, self.num_classes]
        self.params = {}
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(dims), start=1):
            self.params[f"W{i}"] = init_weights(fan_in, fan_out, weight_scale, self._rng, "weight_scale").astype(
                self.dtype
            )
            self.params[f"b{i}"] = np.zeros(fan_out, dtype=self.dtype)
            if self.normalization is not None and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(fan_out, dtype=self.dtype)
                self.params[f"beta{i}"] = np.zeros(fan_out, dtype=self.dtype)
        self.norm_params = [{} for _ in self.hidden_dims] if self.normalization else []

    def _flatten(self, X):
        """X as a (N, input_dim) array of self.dtype; (N, C, H, W) images are flattened."""
        X = np.asarray(X)
        if X.ndim < 2 or int(np.prod(X.shape[1:])) != self.input_dim:
            raise ValueError(
                f"X must have shape (N, {self.input_dim}) or (N, C, H, W) with "
                f"C * H * W = {self.input_dim}, got shape {X.shape}"
            )
        return X.reshape(X.shape[0], self.input_dim).astype(self.dtype, copy=False)

    def _dropout_param(self, layer, mode):
        """The dropout_param of hidden layer `layer` (0-based) for this call."""
        seed = self.dropout_seed + layer if self.dropout_seed is not None else int(self._rng.integers(2**63))
        return {"keep_prob": self.keep_prob, "mode": mode, "seed": seed}

    def loss(self, X, y=None):
        """Scores in test mode (y is None), loss and gradients in train mode.

        Inputs:
        - X: (N, input_dim) or (N, C, H, W) inputs with C * H * W = input_dim.
        - y: (N,) integer labels in [0, num_classes), or None.

        Returns:
        - y is None: scores (N, num_classes); batchnorm uses its running
          statistics and dropout is off.
        - otherwise (loss, grads): the data loss plus 0.5 * reg * sum(W ** 2),
          a float, and a dict with the gradient of every entry of self.params
          (same names, shapes and dtype).
        """
        X = self._flatten(X)
        mode = "test" if y is None else "train"
        if y is not None:
            y = check_labels("y", y, X.shape[0], self.num_classes)
        use_dropout = self.keep_prob < 1 and mode == "train"  # test-mode dropout is the identity

        h, caches = X, []
        for layer in range(self.num_layers - 1):
            i = layer + 1
            h, affine_cache = layers.affine_forward(h, self.params[f"W{i}"], self.params[f"b{i}"])
            norm_cache = None
            if self.normalization == "batchnorm":
                bn_param = self.norm_params[layer]
                bn_param["mode"] = mode
                h, norm_cache = normalization.batchnorm_forward(
                    h, self.params[f"gamma{i}"], self.params[f"beta{i}"], bn_param
                )
            elif self.normalization == "layernorm":
                h, norm_cache = normalization.layernorm_forward(
                    h, self.params[f"gamma{i}"], self.params[f"beta{i}"], self.norm_params[layer]
                )
            h, relu_cache = layers.relu_forward(h)
            dropout_cache = None
            if use_dropout:
                h, dropout_cache = layers.dropout_forward(h, self._dropout_param(layer, mode))
            caches.append((affine_cache, norm_cache, relu_cache, dropout_cache))
        L = self.num_layers
        scores, last_cache = layers.affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])
        if y is None:
            return scores

        loss, dscores = losses.softmax_loss(scores, y)
        grads = {}
        dh, grads[f"W{L}"], grads[f"b{L}"] = layers.affine_backward(dscores, last_cache)
        for layer in reversed(range(self.num_layers - 1)):
            i = layer + 1
            affine_cache, norm_cache, relu_cache, dropout_cache = caches[layer]
            if use_dropout:
                dh = layers.dropout_backward(dh, dropout_cache)
            dh = layers.relu_backward(dh, relu_cache)
            if self.normalization == "batchnorm":
                dh, grads[f"gamma{i}"], grads[f"beta{i}"] = normalization.batchnorm_backward_alt(dh, norm_cache)
            elif self.normalization == "layernorm":
                dh, grads[f"gamma{i}"], grads[f"beta{i}"] = normalization.layernorm_backward(dh, norm_cache)
            dh, grads[f"W{i}"], grads[f"b{i}"] = layers.affine_backward(dh, affine_cache)

        penalty, dweights = losses.l2_penalty({f"W{i}": self.params[f"W{i}"] for i in range(1, L + 1)}, self.reg)
        grads.update({name: grads[name] + dW for name, dW in dweights.items()})
        return float(loss + penalty), grads
