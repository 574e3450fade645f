"""course_lib.conv: values, naive vs fast, numerical gradient checks, pooling ties, bad input."""

import numpy as np
import pytest
from scipy.signal import correlate2d

from course_lib import conv
from course_lib.gradcheck import numerical_gradient_array, rel_error

# (x shape, w shape, conv_param): strides 1 to 3, pads 0 to 2, 1x1 to 4x4
# filters, square and non-square inputs and filters.
CONV_CASES = [
    ((2, 3, 5, 5), (4, 3, 3, 3), {"stride": 1, "pad": 1}),
    ((2, 3, 7, 9), (2, 3, 3, 3), {"stride": 2, "pad": 1}),
    ((1, 2, 6, 5), (3, 2, 2, 3), {"stride": 1, "pad": 0}),
    ((2, 2, 6, 8), (3, 2, 4, 2), {"stride": 2, "pad": 0}),
    ((2, 1, 4, 4), (2, 1, 1, 1), {"stride": 1, "pad": 2}),
    ((1, 2, 7, 6), (2, 2, 3, 5), {"stride": 3, "pad": 1}),
]
# Smaller cases for the numerical gradients, which run the forward pass twice per input entry.
GRAD_CASES = [
    ((1, 2, 5, 5), (3, 2, 3, 3), {"stride": 1, "pad": 1}),
    ((2, 2, 5, 7), (2, 2, 3, 3), {"stride": 2, "pad": 1}),
    ((1, 2, 6, 5), (3, 2, 2, 3), {"stride": 1, "pad": 0}),
    ((2, 1, 6, 8), (2, 1, 4, 2), {"stride": 2, "pad": 0}),
]


def case_ids(cases):
    return [f"x{x}-w{w}-s{p['stride']}p{p['pad']}" for x, w, p in cases]


CONV_IDS = case_ids(CONV_CASES)

# (x shape, pool_param): non-overlapping and overlapping windows, non-square ones too.
POOL_CASES = [
    ((2, 3, 4, 6), {"pool_height": 2, "pool_width": 2, "stride": 2}),
    ((2, 2, 7, 9), {"pool_height": 3, "pool_width": 3, "stride": 2}),
    ((1, 2, 5, 6), {"pool_height": 3, "pool_width": 2, "stride": 1}),
    ((2, 1, 6, 6), {"pool_height": 2, "pool_width": 4, "stride": 2}),
]
POOL_IDS = [f"x{x}-{p['pool_height']}x{p['pool_width']}s{p['stride']}" for x, p in POOL_CASES]

CONV_IMPLEMENTATIONS = {
    "naive": (conv.conv_forward_naive, conv.conv_backward_naive),
    "fast": (conv.conv_forward_fast, conv.conv_backward_fast),
}
POOL_IMPLEMENTATIONS = {
    "naive": (conv.max_pool_forward_naive, conv.max_pool_backward_naive),
    "fast": (conv.max_pool_forward_fast, conv.max_pool_backward_fast),
}


def conv_inputs(rng, x_shape, w_shape, dtype=np.float64):
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    return x, w, b


def distinct_values(rng, shape):
    """Values at least 1/size apart: a step of h = 1e-5 never changes a pooling winner."""
    size = int(np.prod(shape))
    return rng.permutation(size).reshape(shape) / size - 0.5


def reference_conv(x, w, b, stride, pad):
    """The convolution through scipy's 2-D cross-correlation: an independent oracle."""
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = []
    for image in xpad:
        maps = [sum(correlate2d(image[c], f[c], mode="valid") for c in range(x.shape[1])) for f in w]
        out.append(np.stack(maps)[:, ::stride, ::stride] + b[:, None, None])
    return np.stack(out)


@pytest.mark.parametrize("x_shape, w_shape, conv_param", CONV_CASES, ids=CONV_IDS)
@pytest.mark.parametrize("impl", CONV_IMPLEMENTATIONS)
def test_conv_forward_matches_scipy(impl, x_shape, w_shape, conv_param):
    x, w, b = conv_inputs(np.random.default_rng(0), x_shape, w_shape)
    out, _ = CONV_IMPLEMENTATIONS[impl][0](x, w, b, conv_param)
    expected = reference_conv(x, w, b, conv_param["stride"], conv_param["pad"])
    assert out.shape == expected.shape
    assert rel_error(out, expected) < 1e-12


@pytest.mark.parametrize("x_shape, w_shape, conv_param", CONV_CASES, ids=CONV_IDS)
def test_conv_fast_matches_naive(x_shape, w_shape, conv_param):
    rng = np.random.default_rng(1)
    x, w, b = conv_inputs(rng, x_shape, w_shape)
    out_naive, cache_naive = conv.conv_forward_naive(x, w, b, conv_param)
    out_fast, cache_fast = conv.conv_forward_fast(x, w, b, conv_param)
    assert rel_error(out_fast, out_naive) < 1e-9
    dout = rng.standard_normal(out_naive.shape)
    for fast, naive in zip(conv.conv_backward_fast(dout, cache_fast), conv.conv_backward_naive(dout, cache_naive)):
        assert fast.shape == naive.shape
        assert rel_error(fast, naive) < 1e-9


@pytest.mark.parametrize("x_shape, w_shape, conv_param", GRAD_CASES, ids=case_ids(GRAD_CASES))
@pytest.mark.parametrize("impl", CONV_IMPLEMENTATIONS)
def test_conv_backward_numerical(impl, x_shape, w_shape, conv_param):
    forward, backward = CONV_IMPLEMENTATIONS[impl]
    rng = np.random.default_rng(2)
    x, w, b = conv_inputs(rng, x_shape, w_shape)
    out, cache = forward(x, w, b, conv_param)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = backward(dout, cache)
    # The convolution is linear in each of x, w and b, so the centered
    # difference has no truncation error and a larger step only shrinks the
    # rounding error, which at h = 1e-5 reaches 1e-7 on the smallest entries.
    h = 1e-3
    errors = {
        "dx": rel_error(dx, numerical_gradient_array(lambda x_: forward(x_, w, b, conv_param)[0], x, dout, h)),
        "dw": rel_error(dw, numerical_gradient_array(lambda w_: forward(x, w_, b, conv_param)[0], w, dout, h)),
        "db": rel_error(db, numerical_gradient_array(lambda b_: forward(x, w, b_, conv_param)[0], b, dout, h)),
    }
    print(f"conv {impl} {x_shape} {w_shape} {conv_param}: relative errors {errors}")
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("x_shape, pool_param", POOL_CASES, ids=POOL_IDS)
def test_pool_fast_matches_naive(x_shape, pool_param):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(x_shape)
    out_naive, cache_naive = conv.max_pool_forward_naive(x, pool_param)
    out_fast, cache_fast = conv.max_pool_forward_fast(x, pool_param)
    windows = np.lib.stride_tricks.sliding_window_view(x, (pool_param["pool_height"], pool_param["pool_width"]), (2, 3))
    stride = pool_param["stride"]
    expected = windows[:, :, ::stride, ::stride].max(axis=(4, 5))
    np.testing.assert_array_equal(out_naive, expected)
    np.testing.assert_array_equal(out_fast, expected)
    dout = rng.standard_normal(expected.shape)
    dx_naive = conv.max_pool_backward_naive(dout, cache_naive)
    dx_fast = conv.max_pool_backward_fast(dout, cache_fast)
    assert rel_error(dx_fast, dx_naive) < 1e-12


@pytest.mark.parametrize("x_shape, pool_param", POOL_CASES, ids=POOL_IDS)
@pytest.mark.parametrize("impl", POOL_IMPLEMENTATIONS)
def test_pool_backward_numerical(impl, x_shape, pool_param):
    forward, backward = POOL_IMPLEMENTATIONS[impl]
    rng = np.random.default_rng(4)
    x = distinct_values(rng, x_shape)
    out, cache = forward(x, pool_param)
    dout = rng.standard_normal(out.shape)
    dx = backward(dout, cache)
    error = rel_error(dx, numerical_gradient_array(lambda x_: forward(x_, pool_param)[0], x, dout))
    print(f"max pool {impl} {x_shape} {pool_param}: relative error {error:.2e}")
    assert error < 1e-7


@pytest.mark.parametrize("impl", POOL_IMPLEMENTATIONS)
def test_overlapping_windows_add_their_gradients(impl):
    forward, backward = POOL_IMPLEMENTATIONS[impl]
    # Windows [0, 5] and [5, 1] share the 5, so it collects both gradients.
    x = np.array([0.0, 5.0, 1.0]).reshape(1, 1, 1, 3)
    out, cache = forward(x, {"pool_height": 1, "pool_width": 2, "stride": 1})
    np.testing.assert_array_equal(out.ravel(), [5.0, 5.0])
    dx = backward(np.array([1.0, 2.0]).reshape(1, 1, 1, 2), cache)
    np.testing.assert_array_equal(dx.ravel(), [0.0, 3.0, 0.0])


@pytest.mark.parametrize("impl", POOL_IMPLEMENTATIONS)
def test_ties_route_to_first_maximum_in_row_major_order(impl):
    forward, backward = POOL_IMPLEMENTATIONS[impl]
    # The left window is all 7s: its gradient goes to its top-left corner. The
    # right window holds 9 at (0, 3) and at (1, 2): row-major order meets (0, 3) first.
    x = np.array([[7.0, 7.0, 1.0, 9.0], [7.0, 7.0, 9.0, 2.0]]).reshape(1, 1, 2, 4)
    out, cache = forward(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    np.testing.assert_array_equal(out.ravel(), [7.0, 9.0])
    dx = backward(np.array([10.0, 20.0]).reshape(1, 1, 1, 2), cache)
    expected = np.array([[10.0, 0.0, 0.0, 20.0], [0.0, 0.0, 0.0, 0.0]]).reshape(1, 1, 2, 4)
    np.testing.assert_array_equal(dx, expected)


def test_ties_agree_between_naive_and_fast_with_overlap():
    rng = np.random.default_rng(5)
    x = rng.integers(0, 3, size=(2, 2, 7, 7)).astype(np.float64)  # many ties
    pool_param = {"pool_height": 3, "pool_width": 3, "stride": 2}
    _, cache_naive = conv.max_pool_forward_naive(x, pool_param)
    out, cache_fast = conv.max_pool_forward_fast(x, pool_param)
    dout = rng.standard_normal(out.shape)
    dx_fast = conv.max_pool_backward_fast(dout, cache_fast)
    dx_naive = conv.max_pool_backward_naive(dout, cache_naive)
    # Equal up to the order of summation where windows share their maximum.
    assert rel_error(dx_fast, dx_naive) < 1e-12


@pytest.mark.parametrize("impl", CONV_IMPLEMENTATIONS)
def test_conv_float32_keeps_dtype(impl):
    forward, backward = CONV_IMPLEMENTATIONS[impl]
    x, w, b = conv_inputs(np.random.default_rng(6), (2, 3, 6, 5), (4, 3, 3, 3))
    conv_param = {"stride": 1, "pad": 1}
    out64, cache64 = forward(x, w, b, conv_param)
    out32, cache32 = forward(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), conv_param)
    dout = np.random.default_rng(7).standard_normal(out64.shape)
    assert out32.dtype == np.float32
    assert rel_error(out32, out64) < 1e-4
    for g32, g64 in zip(backward(dout.astype(np.float32), cache32), backward(dout, cache64)):
        assert g32.dtype == np.float32
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("impl", POOL_IMPLEMENTATIONS)
def test_pool_float32_keeps_dtype(impl):
    forward, backward = POOL_IMPLEMENTATIONS[impl]
    x = np.random.default_rng(8).standard_normal((2, 3, 4, 4)).astype(np.float32)
    out, cache = forward(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    dx = backward(np.ones_like(out), cache)
    assert out.dtype == np.float32 and dx.dtype == np.float32
    assert dx.sum() == out.size


S1P1 = {"stride": 1, "pad": 1}
CONV_BAD = [
    ("channels", (2, 3, 5, 5), (4, 2, 3, 3), S1P1, r"w must have shape \(F, 3, HH, WW\).*\(4, 2, 3, 3\)"),
    ("filter too large", (2, 3, 4, 4), (4, 3, 7, 7), S1P1, r"window of 7 does not fit.*size 6"),
    ("non-integer output", (2, 3, 6, 6), (4, 3, 3, 3), {"stride": 2, "pad": 0}, r"not a multiple of stride 2"),
    ("x rank", (3, 5, 5), (4, 3, 3, 3), S1P1, r"x must have shape \(N, C, H, W\), got shape \(3, 5, 5\)"),
    ("w rank", (2, 3, 5, 5), (4, 3, 3), S1P1, r"w must have shape .*got shape \(4, 3, 3\)"),
    (
        "stride",
        (2, 3, 5, 5),
        (4, 3, 3, 3),
        {"stride": 0, "pad": 1},
        r"conv_param\['stride'\] must be a whole number >= 1, got 0",
    ),
    (
        "fractional stride",
        (2, 3, 5, 5),
        (4, 3, 3, 3),
        {"stride": 1.5, "pad": 1},
        r"conv_param\['stride'\] must be a whole",
    ),
    (
        "pad",
        (2, 3, 5, 5),
        (4, 3, 3, 3),
        {"stride": 1, "pad": -1},
        r"conv_param\['pad'\] must be a whole number >= 0, got -1",
    ),
]


@pytest.mark.parametrize("case, x_shape, w_shape, conv_param, message", CONV_BAD, ids=[c[0] for c in CONV_BAD])
@pytest.mark.parametrize("impl", CONV_IMPLEMENTATIONS)
def test_conv_bad_input(impl, case, x_shape, w_shape, conv_param, message):
    x, w, b = np.zeros(x_shape), np.zeros(w_shape), np.zeros(w_shape[0])
    with pytest.raises(ValueError, match=message):
        CONV_IMPLEMENTATIONS[impl][0](x, w, b, conv_param)


@pytest.mark.parametrize("impl", CONV_IMPLEMENTATIONS)
def test_conv_bad_bias_and_dout(impl):
    forward, backward = CONV_IMPLEMENTATIONS[impl]
    x, w = np.zeros((2, 3, 5, 5)), np.zeros((4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"b must have shape \(4,\).*got shape \(3,\)"):
        forward(x, w, np.zeros(3), {"stride": 1, "pad": 1})
    _, cache = forward(x, w, np.zeros(4), {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match=r"dout must have shape .*got shape \(2, 4, 4, 5\)"):
        backward(np.zeros((2, 4, 4, 5)), cache)


POOL_2X2 = {"pool_height": 2, "pool_width": 2, "stride": 2}
POOL_BAD = [
    ("window too large", (2, 3, 4, 4), {**POOL_2X2, "pool_height": 5}, r"window of 5 does not fit.*size 4"),
    ("non-integer output", (2, 3, 5, 5), POOL_2X2, r"not a multiple of stride 2"),
    ("x rank", (3, 4, 4), POOL_2X2, r"x must have shape \(N, C, H, W\)"),
    ("stride", (2, 3, 4, 4), {**POOL_2X2, "stride": 0}, r"pool_param\['stride'\] must be a whole number >= 1"),
    (
        "fractional window",
        (2, 3, 4, 4),
        {**POOL_2X2, "pool_height": 2.5},
        r"pool_param\['pool_height'\] must be a whole",
    ),
]


@pytest.mark.parametrize("case, x_shape, pool_param, message", POOL_BAD, ids=[c[0] for c in POOL_BAD])
@pytest.mark.parametrize("impl", POOL_IMPLEMENTATIONS)
def test_pool_bad_input(impl, case, x_shape, pool_param, message):
    with pytest.raises(ValueError, match=message):
        POOL_IMPLEMENTATIONS[impl][0](np.zeros(x_shape), pool_param)


@pytest.mark.parametrize("x_shape, w_shape, conv_param", GRAD_CASES, ids=case_ids(GRAD_CASES))
def test_weights_only_backward_numerical(x_shape, w_shape, conv_param):
    rng = np.random.default_rng(4)
    x, w, b = conv_inputs(rng, x_shape, w_shape)
    out, cache = conv.conv_forward_fast(x, w, b, conv_param)
    dout = rng.standard_normal(out.shape)
    dw, db = conv.conv_backward_fast_weights(dout, cache)
    # Differentiate the naive forward pass: an oracle that shares no code with the fast one.
    h = 1e-3  # linear in w and b: no truncation error (see test_conv_backward_numerical)
    naive = conv.conv_forward_naive
    errors = {
        "dw": rel_error(dw, numerical_gradient_array(lambda w_: naive(x, w_, b, conv_param)[0], w, dout, h)),
        "db": rel_error(db, numerical_gradient_array(lambda b_: naive(x, w, b_, conv_param)[0], b, dout, h)),
    }
    print(f"conv_backward_fast_weights {x_shape} {w_shape} {conv_param}: relative errors {errors}")
    assert dw.shape == w.shape and db.shape == b.shape
    assert max(errors.values()) < 1e-7, errors
