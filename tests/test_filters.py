"""course_lib.filters: first-layer weights read as filters, and how smooth they are."""

import numpy as np
import pytest

from course_lib.filters import as_filters, neighbour_correlation


def test_affine_columns_become_filters_of_the_image_shape():
    rng = np.random.default_rng(0)
    conv = rng.standard_normal((5, 3, 4, 4))
    np.testing.assert_array_equal(as_filters(conv), conv)
    affine = rng.standard_normal((64, 7))  # (D, M): 7 hidden units looking at 8x8 grey images
    filters = as_filters(affine, (1, 8, 8))
    assert filters.shape == (7, 1, 8, 8) and filters.dtype == np.float64
    np.testing.assert_array_equal(filters[2, 0], affine[:, 2].reshape(8, 8))
    with pytest.raises(ValueError, match=r"image_shape must be \(C, H, W\) with C \* H \* W = .* = 64"):
        as_filters(affine, (1, 7, 7))
    with pytest.raises(ValueError, match=r"weights must have shape \(F, C, H, W\) or \(D, M\)"):
        as_filters(np.zeros((2, 3, 4)))


def test_neighbour_correlation_tells_noise_from_smooth_filters():
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((16, 1, 8, 8))
    ramp = np.add.outer(np.arange(8.0), np.arange(8.0))
    smooth_filters = ramp * rng.standard_normal((16, 1, 1, 1))
    assert abs(neighbour_correlation(noise)) < 0.15
    assert neighbour_correlation(smooth_filters) > 0.9
    # (D, M) affine weights are read as images of image_shape, like filter_grid does
    columns = smooth_filters.reshape(16, 64).T
    assert neighbour_correlation(columns, (1, 8, 8)) == pytest.approx(neighbour_correlation(smooth_filters))


def test_neighbour_correlation_of_a_checkerboard_is_minus_one():
    checkerboard = (-1.0) ** np.add.outer(np.arange(6), np.arange(6))
    assert neighbour_correlation(checkerboard[None, None]) == pytest.approx(-1.0)
