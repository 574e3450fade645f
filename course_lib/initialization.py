"""Weight initialization schemes and the lecture's 10-layer activation experiment.

The lecture pushes unit-gaussian data through a deep stack of fully connected
layers and looks at the histogram of every layer's activations:

* "small" weights (0.01 N(0, 1)): tanh activations shrink toward 0 layer after
  layer, and so do the gradients flowing back.
* "large" weights (N(0, 1)): tanh saturates, almost every unit sits at -1 or +1
  and its local gradient is 0.
* "xavier" (N(0, 1) / sqrt(fan_in)): tanh keeps a stable spread; ReLU halves
  the variance at every layer (the spread shrinks by 1/sqrt(2)).
* "he" (N(0, 1) / sqrt(fan_in / 2)): compensates that factor 2 for ReLU.
* "zero": every unit computes the same thing and gets the same gradient, so
  nothing ever breaks the symmetry.

layer_histograms counts those activations (or gradients) layer by layer over one
shared range; course_lib.plots and the initialization explorer draw the counts.
"""

import numpy as np

from course_lib import layers
from course_lib.checks import check_choice, check_count, check_positive

INIT_SCHEMES = ("zero", "small", "large", "xavier", "he")

# (forward, backward) pairs from course_lib.layers, each following the layer contract.
NONLINEARITIES = {
    "tanh": (layers.tanh_forward, layers.tanh_backward),
    "relu": (layers.relu_forward, layers.relu_backward),
    "sigmoid": (layers.sigmoid_forward, layers.sigmoid_backward),
}


def init_weights(fan_in, fan_out, scheme, rng, name="scheme"):
    """Draw a weight matrix for a fully connected layer.

    Inputs:
    - fan_in: number of inputs of the layer (positive int).
    - fan_out: number of outputs of the layer (positive int).
    - scheme: one of "zero", "small" (0.01 N(0, 1)), "large" (N(0, 1)),
      "xavier" (N(0, 1) / sqrt(fan_in)), "he" (N(0, 1) / sqrt(fan_in / 2)),
      or a positive number s meaning s * N(0, 1) (the models' `weight_scale`).
    - rng: a np.random.Generator (an int seed or None is passed to
      np.random.default_rng).
    - name: the caller's name for `scheme` in error messages (the models say
      "weight_scale").

    Returns a float64 array of shape (fan_in, fan_out).
    Raises ValueError for an unknown scheme (listing the valid ones) or a
    non-positive size.
    """
    shape = (check_count("fan_in", fan_in), check_count("fan_out", fan_out))
    if isinstance(scheme, str):
        check_choice(name, scheme, INIT_SCHEMES)
        if scheme == "zero":
            return np.zeros(shape)
        scale = {
            "small": 0.01,
            "large": 1.0,
            "xavier": 1.0 / np.sqrt(fan_in),
            "he": 1.0 / np.sqrt(fan_in / 2),
        }[scheme]
    else:
        scale = check_positive(name, scheme)
    return scale * np.random.default_rng(rng).standard_normal(shape)


def activation_statistics(nonlinearity="tanh", scheme="xavier", num_layers=10, width=500, num_samples=1000, seed=0):
    """Run the lecture's deep-network experiment forward and backward.

    Unit-gaussian data X of shape (num_samples, width) goes through num_layers
    layers h_l = f(h_{l-1} W_l) (no biases), every W_l of shape (width, width)
    drawn with `scheme`. Then a seeded unit-gaussian upstream gradient of shape
    (num_samples, width) is sent back from the last layer's output.

    Inputs:
    - nonlinearity: "tanh", "relu" or "sigmoid".
    - scheme: an initialization scheme of init_weights.
    - num_layers, width, num_samples: positive ints.
    - seed: seed of the data, the weights and the upstream gradient.

    Returns a dict with, for layers l = 1 .. num_layers (index l - 1):
    - "activations": list of arrays (num_samples, width), the outputs h_l.
    - "means", "stds": float64 arrays (num_layers,), mean and std of each h_l.
    - "gradients": list of arrays (num_samples, width), the gradient with
      respect to the PRE-activation a_l = h_{l-1} W_l, i.e. after the backward
      pass through the nonlinearity: the signal that reaches W_l (dW_l =
      h_{l-1}^T da_l). A saturated tanh unit shows up here as a zero.
    - "grad_means", "grad_stds": float64 arrays (num_layers,) of those gradients.
    Raises ValueError for an unknown nonlinearity or scheme, listing the valid ones.
    """
    check_choice("nonlinearity", nonlinearity, list(NONLINEARITIES))
    check_choice("scheme", scheme, INIT_SCHEMES)
    num_layers = check_count("num_layers", num_layers)
    width = check_count("width", width)
    num_samples = check_count("num_samples", num_samples)
    forward, backward = NONLINEARITIES[nonlinearity]
    rng = np.random.default_rng(seed)
    no_bias = np.zeros(width)

    h = rng.standard_normal((num_samples, width))
    activations, caches = [], []
    for _ in range(num_layers):
        w = init_weights(width, width, scheme, rng)
        a, affine_cache = layers.affine_forward(h, w, no_bias)
        h, nonlinearity_cache = forward(a)
        activations.append(h)
        caches.append((affine_cache, nonlinearity_cache))

    dh = rng.standard_normal((num_samples, width))
    gradients = [None] * num_layers
    for layer in reversed(range(num_layers)):
        affine_cache, nonlinearity_cache = caches[layer]
        gradients[layer] = backward(dh, nonlinearity_cache)
        dh, _, _ = layers.affine_backward(gradients[layer], affine_cache)

    return {
        "activations": activations,
        "means": np.array([h.mean() for h in activations]),
        "stds": np.array([h.std() for h in activations]),
        "gradients": gradients,
        "grad_means": np.array([g.mean() for g in gradients]),
        "grad_stds": np.array([g.std() for g in gradients]),
    }


def layer_histograms(arrays, bins=50):
    """Histogram every layer's values over one shared range, so layers compare at a glance.

    Inputs:
    - arrays: list of L arrays (any shape), one per layer, such as the
      "activations" or "gradients" of activation_statistics.
    - bins: number of bins (int).

    Returns (edges, counts): edges a float64 array (bins + 1,) shared by all
    layers, counts an int array (L, bins).
    """
    bins = check_count("bins", bins)
    if len(arrays) == 0:
        raise ValueError("arrays must hold at least one layer, got none")
    low = min(float(np.min(a)) for a in arrays)
    high = max(float(np.max(a)) for a in arrays)
    if not high > low:
        low, high = low - 1.0, high + 1.0
    edges = np.linspace(low, high, bins + 1)
    # Equal-width bins: a value's bin is arithmetic, and one bincount per layer is several
    # times faster than np.histogram (the initialization explorer redraws 20 of these per change).
    counts = np.empty((len(arrays), bins), dtype=np.int64)
    for layer, values in enumerate(arrays):
        index = ((np.ravel(values) - low) * (bins / (high - low))).astype(np.intp)
        np.minimum(index, bins - 1, out=index)  # the top edge belongs to the last bin, as in np.histogram
        counts[layer] = np.bincount(index, minlength=bins)
    return edges, counts
