"""First-layer weights read as images: what a network's first layer has learned to look for.

Both kinds of first layer are a stack of image-shaped templates: a convolution's
filters w (F, C, H, W), and the columns of a fully connected layer's weights
(D, M) on flattened images of D = C * H * W pixels. `as_filters` brings either
to (F, C, H, W); `neighbour_correlation` measures how smooth they are, a number
the lessons assert (random initial weights look like noise, trained ones are
smooth). course_lib.plots draws them (filter_images, filter_grid).
"""

import numpy as np

from course_lib.checks import check_array


def as_filters(weights, image_shape=None):
    """First-layer weights as float64 filters of shape (F, C, H, W).

    Inputs:
    - weights: (F, C, H, W) convolution filters, or (D, M) affine weights
      whose M columns are images of D = C * H * W pixels.
    - image_shape: (C, H, W) of the input images; required for (D, M) weights.

    Returns a float64 array (F, C, H, W) (M filters for affine weights).
    Raises ValueError for any other rank, or an image_shape that does not hold D pixels.
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim == 2:
        if image_shape is None or int(np.prod(image_shape)) != weights.shape[0]:
            raise ValueError(
                f"image_shape must be (C, H, W) with C * H * W = weights.shape[0] = {weights.shape[0]} "
                f"for weights of shape (D, M), got {image_shape!r}"
            )
        weights = weights.T.reshape((weights.shape[1], *tuple(image_shape)))
    return check_array("weights", weights, ndim=4, dims="(F, C, H, W) or (D, M)")


def neighbour_correlation(weights, image_shape=None):
    """How smooth first-layer filters are: the correlation of neighbouring pixels.

    Pairs every pixel with its right and its lower neighbour, over all filters
    (colour channels averaged), and returns the correlation of the pairs: about 0
    for random noise, approaching 1 for smooth templates.

    Inputs: weights and image_shape as in as_filters.
    Returns a float in [-1, 1].
    """
    images = as_filters(weights, image_shape).mean(axis=1)
    left, right = images[:, :, :-1].ravel(), images[:, :, 1:].ravel()
    top, bottom = images[:, :-1, :].ravel(), images[:, 1:, :].ravel()
    return float(np.corrcoef(np.concatenate([left, top]), np.concatenate([right, bottom]))[0, 1])
