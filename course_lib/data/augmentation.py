"""Data augmentation on numpy batches of images (N, C, H, W).

Each function draws its randomness from the `rng` it is given (a
np.random.Generator, or an int seed for a fresh one), so a seeded run is
reproducible. Every image of the batch gets its own random draw. The input is
never modified; flips and crops keep its dtype.
"""

import numpy as np

from course_lib.checks import check_array, check_count, check_labels, check_positive, check_probability


def random_horizontal_flip(X, rng, p=0.5):
    """Return a copy of X in which each image is mirrored left-right with probability p.

    Inputs:
    - X: images of shape (N, C, H, W).
    - rng: np.random.Generator (or int seed).
    - p: probability of flipping each image; 0 returns an unchanged copy.

    Returns images of shape (N, C, H, W).
    """
    X = check_array("X", X, ndim=4, dims="(N, C, H, W)")
    check_probability("p", p, allow_zero=True)
    flip = np.random.default_rng(rng).random(len(X)) < p
    out = X.copy()
    out[flip] = X[flip][..., ::-1]
    return out


def random_crop(X, rng, padding=4):
    """Return random H x W crops of X after zero-padding each side by `padding`.

    The content of each image moves by an offset drawn uniformly from
    [-padding, padding] in each direction; pixels that move in are zeros.

    Inputs:
    - X: images of shape (N, C, H, W).
    - rng: np.random.Generator (or int seed).
    - padding: zero pixels added on each side before cropping; 0 is the identity.

    Returns images of shape (N, C, H, W).
    """
    X = check_array("X", X, ndim=4, dims="(N, C, H, W)")
    padding = check_count("padding", padding, allow_zero=True)
    num_images, _, height, width = X.shape
    padded = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    tops, lefts = np.random.default_rng(rng).integers(0, 2 * padding + 1, size=(2, num_images))
    out = np.empty_like(X)
    for i, (top, left) in enumerate(zip(tops, lefts)):
        out[i] = padded[i, :, top : top + height, left : left + width]
    return out


def color_jitter(X, rng, brightness=0.0, contrast=0.0, saturation=0.0):
    """Return X with random brightness, contrast and saturation changes.

    For each image, factors are drawn uniformly from [1 - s, 1 + s] (s being
    the strength given) and applied in this order:
    - brightness: pixels scaled by the factor;
    - contrast: pixels pushed away from (factor > 1) or towards the image's
      mean grey level;
    - saturation: colours pushed away from or towards the image's grey version
      (luma 0.299 R + 0.587 G + 0.114 B). A 1-channel image IS its grey
      version, so saturation leaves grey-scale images (digits) unchanged.
    Pixels are not clipped, because the course's images are often
    mean-subtracted; jitter [0, 1] pixels before subtracting the mean, and clip
    them yourself to show them.

    Inputs:
    - X: floating-point images of shape (N, C, H, W), C = 1 or 3.
    - rng: np.random.Generator (or int seed).
    - brightness, contrast, saturation: strengths in [0, 1]; 0 leaves that
      property unchanged.

    Returns images of shape (N, C, H, W) and X's dtype.
    """
    X = check_array("X", X, ndim=4, dims="(N, C, H, W)")
    if X.shape[1] not in (1, 3):
        raise ValueError(f"X must have shape (N, C, H, W) with C = 1 or 3 channels, got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.floating):
        raise ValueError(f"X must hold floating-point pixels (scale uint8 images to [0, 1] first), got dtype {X.dtype}")
    strengths = {"brightness": brightness, "contrast": contrast, "saturation": saturation}
    for name, strength in strengths.items():
        check_probability(name, strength, allow_zero=True)
    rng = np.random.default_rng(rng)
    factors = {
        name: rng.uniform(1 - strength, 1 + strength, size=(len(X), 1, 1, 1)).astype(X.dtype)
        for name, strength in strengths.items()
    }
    out = X * factors["brightness"]
    mean_grey = _grey(out).mean(axis=(1, 2, 3), keepdims=True)
    out = mean_grey + factors["contrast"] * (out - mean_grey)
    grey = _grey(out)
    return grey + factors["saturation"] * (out - grey)


def mixup(X, y, num_classes, rng, alpha=0.2):
    """Return mixup's blended images and soft targets (Zhang et al., 2018).

    Each image i is blended with a partner j from a random permutation of the
    batch: x = lam * X[i] + (1 - lam) * X[j], and its target is
    lam * onehot(y[i]) + (1 - lam) * onehot(y[j]), with lam ~ Beta(alpha, alpha)
    drawn per image.

    Inputs:
    - X: floating-point images of shape (N, C, H, W).
    - y: integer labels of shape (N,), in [0, num_classes).
    - num_classes: number of classes.
    - rng: np.random.Generator (or int seed).
    - alpha: Beta parameter; small alpha keeps most lam near 0 or 1.

    Returns (X_mixed, targets): images of shape (N, C, H, W) and X's dtype,
    and soft targets of shape (N, num_classes) whose rows sum to 1.
    """
    X = check_array("X", X, ndim=4, dims="(N, C, H, W)")
    if not np.issubdtype(X.dtype, np.floating):
        raise ValueError(f"X must hold floating-point pixels (scale uint8 images to [0, 1] first), got dtype {X.dtype}")
    num_classes = check_count("num_classes", num_classes)
    y = check_labels("y", y, len(X), num_classes)
    check_positive("alpha", alpha)
    rng = np.random.default_rng(rng)
    lam = rng.beta(alpha, alpha, size=len(X)).astype(X.dtype)
    partner = rng.permutation(len(X))
    one_hot = np.eye(num_classes, dtype=X.dtype)[y]
    X_mixed = lam[:, None, None, None] * X + (1 - lam[:, None, None, None]) * X[partner]
    targets = lam[:, None] * one_hot + (1 - lam[:, None]) * one_hot[partner]
    return X_mixed, targets


def _grey(X):
    """Return the grey version of images (N, C, H, W) as (N, 1, H, W)."""
    if X.shape[1] == 1:
        return X
    luma = np.array([0.299, 0.587, 0.114], dtype=X.dtype)
    return np.einsum("nchw,c->nhw", X, luma)[:, None]
