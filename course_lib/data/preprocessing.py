"""Data preprocessing, as in the lecture: centre, scale, decorrelate, whiten.

Every method comes as a pair: `fit_*(X_train)` computes its statistics on the
TRAINING data only, and a second function applies them to any split, so the
validation and test images are transformed exactly like the training ones.

Images are (N, C, H, W); PCA, whitening and per-feature standardization also
take plain (N, D) data, such as the lecture's 2-D point clouds. Float32 input
gives float32 output; integer input (uint8 pixels) is computed in float64.
"""

import numpy as np

from course_lib.checks import check_array, check_choice, check_count, check_positive


def fit_mean_image(X_train):
    """Return the mean training image.

    Inputs:
    - X_train: training images, shape (N, C, H, W).

    Returns mean_image of shape (C, H, W).
    """
    X_train = _as_float(check_array("X_train", X_train, ndim=4, dims="(N, C, H, W)"))
    return X_train.mean(axis=0)


def subtract_mean_image(X, mean_image):
    """Return X - mean_image: every image minus the mean training image.

    Inputs:
    - X: images of shape (N, C, H, W), any split.
    - mean_image: from fit_mean_image, shape (C, H, W).

    Returns centred images of shape (N, C, H, W).
    """
    X = _as_float(check_array("X", X, ndim=4, dims="(N, C, H, W)"))
    mean_image = check_array("mean_image", mean_image, shape=(*X.shape[1:],), dims="(C, H, W)")
    return X - mean_image.astype(X.dtype)


def fit_channel_mean(X_train):
    """Return the mean of each colour channel over all training pixels.

    Inputs:
    - X_train: training images, shape (N, C, H, W).

    Returns channel_mean of shape (C,).
    """
    X_train = _as_float(check_array("X_train", X_train, ndim=4, dims="(N, C, H, W)"))
    return X_train.mean(axis=(0, 2, 3))


def subtract_channel_mean(X, channel_mean):
    """Return X with each channel's training mean subtracted.

    Inputs:
    - X: images of shape (N, C, H, W), any split.
    - channel_mean: from fit_channel_mean, shape (C,).

    Returns centred images of shape (N, C, H, W).
    """
    X = _as_float(check_array("X", X, ndim=4, dims="(N, C, H, W)"))
    channel_mean = check_array("channel_mean", channel_mean, shape=(X.shape[1],), dims="(C,)")
    return X - channel_mean.astype(X.dtype)[:, None, None]


def fit_standardization(X_train, per="channel"):
    """Return the training mean and standard deviation to standardize with.

    Inputs:
    - X_train: training data, shape (N, C, H, W) or (N, D).
    - per: "channel" (images only): one mean and std per colour channel, over
      all images and pixels; "feature": one per pixel of each channel (or per
      column of (N, D) data).

    Returns (mean, std), each of shape (C,) for per="channel", or X_train's
    per-sample shape, (C, H, W) or (D,), for per="feature".
    """
    check_choice("per", per, ("channel", "feature"))
    X_train = _as_float(_check_data("X_train", X_train))
    if per == "feature":
        return X_train.mean(axis=0), X_train.std(axis=0)
    check_array("X_train", X_train, ndim=4, dims="(N, C, H, W) when per='channel'")
    return X_train.mean(axis=(0, 2, 3)), X_train.std(axis=(0, 2, 3))


def standardize(X, mean, std, eps=1e-8):
    """Return (X - mean) / (std + eps), with statistics from fit_standardization.

    Inputs:
    - X: data of shape (N, C, H, W) or (N, D), any split.
    - mean, std: from fit_standardization: shape (C,) (per channel) or X's
      per-sample shape (per feature).
    - eps: keeps constant features (std 0, like digits' blank corners) finite.

    Returns standardized data of X's shape.
    """
    X = _as_float(_check_data("X", X))
    check_positive("eps", eps, allow_zero=True)
    per_channel = X.ndim == 4 and np.ndim(mean) == 1
    expected = (X.shape[1],) if per_channel else X.shape[1:]
    dims = "(C,) or (C, H, W)" if X.ndim == 4 else "(D,)"
    mean = check_array("mean", mean, shape=expected, dims=dims).astype(X.dtype)
    std = check_array("std", std, shape=expected, dims=dims).astype(X.dtype)
    if per_channel:
        mean, std = mean[:, None, None], std[:, None, None]
    return (X - mean) / (std + X.dtype.type(eps))


def fit_pca(X_train, num_components=None):
    """Return the top principal components of the training data.

    Inputs:
    - X_train: training data, shape (N, D), or images (N, C, H, W) which are
      flattened to D = C * H * W.
    - num_components: k, how many components to keep; None keeps min(N, D).

    Returns (mean, basis, variances):
    - mean: the training mean, shape (D,).
    - basis: orthonormal columns, the principal directions by decreasing
      variance, shape (D, k). Each column's sign is fixed (its largest entry is
      positive) so the result does not depend on the LAPACK build.
    - variances: the training variance along each direction (the covariance's
      eigenvalues, dividing by N), shape (k,).
    """
    X_train = _flatten(_as_float(_check_data("X_train", X_train)))
    num_samples, num_features = X_train.shape
    max_components = min(num_samples, num_features)
    k = max_components if num_components is None else check_count("num_components", num_components)
    if k > max_components:
        raise ValueError(f"num_components must be at most min(N, D) = {max_components}, got {k}")
    mean = X_train.mean(axis=0)
    # The SVD of the centred data gives the covariance's eigenvectors without
    # forming the D x D covariance, and more accurately.
    _, singular_values, rows = np.linalg.svd(X_train - mean, full_matrices=False)
    basis = rows[:k].T
    largest = np.argmax(np.abs(basis), axis=0)
    basis = basis * np.sign(basis[largest, np.arange(k)])
    variances = singular_values[:k] ** 2 / num_samples
    return mean, basis, variances


def pca_project(X, mean, basis):
    """Return the coordinates of X in the PCA basis (decorrelated data).

    Inputs:
    - X: data of shape (N, D) or images (N, C, H, W) with D = C * H * W.
    - mean, basis: from fit_pca, shapes (D,) and (D, k).

    Returns Z of shape (N, k).
    """
    X = _flatten(_as_float(_check_data("X", X)))
    mean, basis = _check_pca(X, mean, basis)
    return (X - mean) @ basis


def pca_reconstruct(Z, mean, basis):
    """Return the data rebuilt from its PCA coordinates: Z @ basis.T + mean.

    Inputs:
    - Z: coordinates from pca_project, shape (N, k).
    - mean, basis: from fit_pca, shapes (D,) and (D, k).

    Returns X_rebuilt of shape (N, D); reshape it to view images. With all
    components the training data comes back exactly (up to rounding).
    """
    Z = _as_float(check_array("Z", Z, ndim=2, dims="(N, k)"))
    basis = check_array("basis", basis, shape=(None, Z.shape[1]), dims=f"(D, {Z.shape[1]})")
    mean = check_array("mean", mean, shape=(basis.shape[0],), dims=f"({basis.shape[0]},)")
    return Z @ basis.T.astype(Z.dtype) + mean.astype(Z.dtype)


def whiten(X, mean, basis, variances, eps=1e-5):
    """Return PCA-whitened data: PCA coordinates divided by sqrt(variance + eps).

    On the training data the result has (nearly) identity covariance; eps
    stops directions of tiny variance (noise) from being blown up.

    Inputs:
    - X: data of shape (N, D) or images (N, C, H, W) with D = C * H * W.
    - mean, basis, variances: from fit_pca, shapes (D,), (D, k) and (k,).
    - eps: added to each variance before the square root.

    Returns whitened data of shape (N, k).
    """
    Z = pca_project(X, mean, basis)
    check_positive("eps", eps, allow_zero=True)
    variances = check_array("variances", variances, shape=(Z.shape[1],), dims=f"({Z.shape[1]},)")
    return Z / np.sqrt(variances.astype(Z.dtype) + Z.dtype.type(eps))


def _check_data(name, X):
    """Check that X is (N, D) data or (N, C, H, W) images."""
    if np.ndim(X) == 2:
        return np.asarray(X)
    return check_array(name, X, ndim=4, dims="(N, C, H, W) or (N, D)")


def _check_pca(X, mean, basis):
    """Check fit_pca's mean and basis against flattened data X of shape (N, D)."""
    num_features = X.shape[1]
    mean = check_array("mean", mean, shape=(num_features,), dims=f"({num_features},)")
    basis = check_array("basis", basis, shape=(num_features, None), dims=f"({num_features}, k)")
    return mean.astype(X.dtype), basis.astype(X.dtype)


def _as_float(X):
    """Return X unchanged when it is floating point, else as float64."""
    return X if np.issubdtype(X.dtype, np.floating) else X.astype(np.float64)


def _flatten(X):
    """Return (N, C, H, W) images as (N, C * H * W) rows; (N, D) data as is."""
    return X.reshape(len(X), -1)
