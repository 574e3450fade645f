"""A three-layer convolutional network built from course_lib's layers.

    conv - relu - 2x2 max pool - affine - relu - affine - softmax

The convolution keeps the spatial size (stride 1, pad (filter_size - 1) // 2,
so an odd filter_size), and the pool halves it. Parameters, in `model.params`:

    W1 (F, C, filter_size, filter_size), b1 (F,)      the filters
    W2 (F * H/2 * W/2, hidden_dim),       b2 (hidden_dim,)
    W3 (hidden_dim, num_classes),          b3 (num_classes,)

The loss is the mean softmax cross-entropy plus 0.5 * reg * sum(W ** 2) over
W1, W2 and W3 (not the biases), as in FullyConnectedNet.
"""

import numpy as np

from course_lib import conv, layers, losses
from course_lib.checks import check_array, check_count, check_labels, check_positive
from course_lib.data import dataset_info
from course_lib.initialization import init_weights

POOL_PARAM = {"pool_height": 2, "pool_width": 2, "stride": 2}


class ThreeLayerConvNet:
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax.

    Attributes:
    - params: dict name -> array ("W1", "b1", "W2", "b2", "W3", "b3"), dtype `dtype`.
    - conv_param, pool_param: the settings passed to course_lib.conv.
    """

    def __init__(
        self,
        input_dim=None,
        num_filters=32,
        filter_size=3,
        hidden_dim=100,
        num_classes=None,
        weight_scale=1e-3,
        reg=0.0,
        dtype=np.float32,
        seed=None,
    ):
        """Build the network and initialize its parameters.

        Inputs:
        - input_dim: (C, H, W) of one input image, H and W even; None: the
          default dataset's (course_lib.data.default_dataset_name()) image_shape.
        - num_filters: F, the number of convolution filters.
        - filter_size: odd side length of the square filters (the padding
          (filter_size - 1) // 2 keeps H and W).
        - hidden_dim: width of the hidden affine layer.
        - num_classes: number of classes; None: the default dataset's.
        - weight_scale: a positive float (weights drawn as weight_scale * N(0, 1))
          or a scheme name of course_lib.initialization.init_weights ("xavier",
          "he", ...), applied with each layer's fan-in (C * filter_size**2 for
          the filters). Biases start at 0.
        - reg: L2 regularization strength (>= 0).
        - dtype: numpy float type of the parameters and computations; use
          np.float64 for gradient checks.
        - seed: seeds the initialization.
        """
        input_dim = dataset_info().image_shape if input_dim is None else input_dim
        if len(input_dim) != 3:
            raise ValueError(f"input_dim must be (C, H, W), got {input_dim!r}")
        C, H, W = (check_count("input_dim entries", d) for d in input_dim)
        if H % 2 or W % 2:
            raise ValueError(f"input_dim must have even H and W for the 2x2 pool, got {input_dim!r}")
        filter_size = check_count("filter_size", filter_size)
        if filter_size % 2 == 0:
            raise ValueError(f"filter_size must be odd so that padding keeps the size, got {filter_size}")
        num_filters = check_count("num_filters", num_filters)
        hidden_dim = check_count("hidden_dim", hidden_dim)
        self.num_classes = check_count(
            "num_classes", dataset_info().num_classes if num_classes is None else num_classes
        )
        self.input_dim = (C, H, W)
        self.reg = check_positive("reg", reg, allow_zero=True)
        self.dtype = np.dtype(dtype)
        self.conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}
        self.pool_param = dict(POOL_PARAM)
        self._rng = np.random.default_rng(seed)

        filters = init_weights(C * filter_size**2, num_filters, weight_scale, self._rng, "weight_scale").astype(
            self.dtype
        )
        pooled = num_filters * (H // 2) * (W // 2)
        self.params = {
            # init_weights draws (fan_in, fan_out); a filter is one column.
            "W1": filters.T.reshape(num_filters, C, filter_size, filter_size).copy(),
            "b1": np.zeros(num_filters, dtype=self.dtype),
            "W2": init_weights(pooled, hidden_dim, weight_scale, self._rng, "weight_scale").astype(self.dtype),
            "b2": np.zeros(hidden_dim, dtype=self.dtype),
            "W3": init_weights(hidden_dim, self.num_classes, weight_scale, self._rng, "weight_scale").astype(
                self.dtype
            ),
            "b3": np.zeros(self.num_classes, dtype=self.dtype),
        }

    def loss(self, X, y=None):
        """Scores in test mode (y is None), loss and gradients in train mode.

        Inputs:
        - X: (N, C, H, W) images with (C, H, W) = input_dim.
        - y: (N,) integer labels in [0, num_classes), or None.

        Returns:
        - y is None: scores, shape (N, num_classes).
        - otherwise (loss, grads): the data loss plus 0.5 * reg * sum(W ** 2)
          (a float) and a dict with the gradient of every entry of self.params
          (same names, shapes and dtype).
        """
        X = check_array("X", X, shape=(None, *self.input_dim)).astype(self.dtype, copy=False)
        p = self.params
        h, conv_cache = conv.conv_forward_fast(X, p["W1"], p["b1"], self.conv_param)
        h, relu1_cache = layers.relu_forward(h)
        h, pool_cache = conv.max_pool_forward_fast(h, self.pool_param)
        h, affine2_cache = layers.affine_relu_forward(h, p["W2"], p["b2"])
        scores, affine3_cache = layers.affine_forward(h, p["W3"], p["b3"])
        if y is None:
            return scores

        y = check_labels("y", y, X.shape[0], self.num_classes)
        loss, dscores = losses.softmax_loss(scores, y)
        grads = {}
        dh, grads["W3"], grads["b3"] = layers.affine_backward(dscores, affine3_cache)
        dh, grads["W2"], grads["b2"] = layers.affine_relu_backward(dh, affine2_cache)
        dh = conv.max_pool_backward_fast(dh, pool_cache)
        dh = layers.relu_backward(dh, relu1_cache)
        # the images need no gradient: skip the dx (col2im) part of the conv backward pass
        grads["W1"], grads["b1"] = conv.conv_backward_fast_weights(dh, conv_cache)

        penalty, dweights = losses.l2_penalty({name: p[name] for name in ("W1", "W2", "W3")}, self.reg)
        grads.update({name: grads[name] + dW for name, dW in dweights.items()})
        return float(loss + penalty), grads
