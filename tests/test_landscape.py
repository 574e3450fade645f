"""course_lib.landscape: FlatParams, numerical Hessians, random symmetric matrices, TanhNet."""

import numpy as np
import pytest

from course_lib.gradcheck import numerical_gradient, rel_error
from course_lib.landscape import FlatParams, TanhNet, numerical_hessian, random_symmetric_matrices


def test_flat_params_round_trip_keeps_names_shapes_and_dtypes():
    params = {"W": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([7.0, 8.0])}
    flat = FlatParams(params)
    np.testing.assert_array_equal(flat.vector, [0, 1, 2, 3, 4, 5, 7, 8])
    back = flat.unflatten(flat.vector * 2)
    assert list(back) == ["W", "b"] and back["W"].dtype == np.float32 and back["W"].shape == (2, 3)
    np.testing.assert_array_equal(back["b"], [14.0, 16.0])
    with pytest.raises(ValueError, match=r"v must have shape \(8,\)"):
        flat.unflatten(np.zeros(7))


def test_flat_params_flattens_gradients_in_the_parameters_order():
    flat = FlatParams({"W": np.zeros((2, 2)), "b": np.zeros(2)})
    gradients = {"b": np.array([5.0, 6.0]), "W": np.array([[1.0, 2.0], [3.0, 4.0]])}  # a backward pass's order
    np.testing.assert_array_equal(flat.flatten(gradients), [1, 2, 3, 4, 5, 6])
    with pytest.raises(ValueError, match=r"missing \['b'\]"):
        flat.flatten({"W": np.zeros((2, 2))})
    with pytest.raises(ValueError, match=r"arrays\['b'\] must have shape"):
        flat.flatten({"W": np.zeros((2, 2)), "b": np.zeros(3)})


def test_numerical_hessian_of_a_quadratic_is_its_matrix():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 5))
    matrix = a @ a.T - 2 * np.eye(5)  # symmetric, eigenvalues of both signs
    b = rng.standard_normal(5)
    hessian = numerical_hessian(lambda w: matrix @ w + b, rng.standard_normal(5))
    np.testing.assert_allclose(hessian, matrix, atol=1e-8)
    with pytest.raises(ValueError, match=r"w must have shape \(P,\)"):
        numerical_hessian(lambda w: w, np.zeros((2, 2)))


def test_random_symmetric_matrices_are_symmetric_with_the_ensemble_variances():
    matrices = random_symmetric_matrices(4, 20000, seed=0)
    assert matrices.shape == (20000, 4, 4)
    np.testing.assert_array_equal(matrices, matrices.transpose(0, 2, 1))
    assert np.var(matrices[:, 0, 1]) == pytest.approx(1.0, rel=0.05)
    assert np.var(matrices[:, 2, 2]) == pytest.approx(2.0, rel=0.05)
    np.testing.assert_array_equal(random_symmetric_matrices(3, 2, seed=1), random_symmetric_matrices(3, 2, seed=1))
    with pytest.raises(ValueError, match="dim must be a whole number"):
        random_symmetric_matrices(2.5, 3)


def test_tanh_net_gradients_check_numerically():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((6, 1, 3, 3)), rng.integers(0, 4, 6)
    net = TanhNet(9, 5, 4, reg=0.1, weight_scale=0.5, seed=0)
    _, grads = net.loss(X, y)
    for name, param in net.params.items():
        numeric = numerical_gradient(lambda _: net.loss(X, y)[0], param)
        assert rel_error(grads[name], numeric) < 1e-7, name
    assert net.loss(X).shape == (6, 4)


def test_tanh_net_with_zero_weights_and_prior_biases_is_a_critical_point():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((40, 9)), np.repeat([0, 1, 2, 3], 10)
    net = TanhNet(9, 5, 4, weight_scale=0.0)
    net.params["b2"] = np.log(np.full(4, 0.25))
    loss, grads = net.loss(X, y)
    assert loss == pytest.approx(np.log(4))
    assert max(np.abs(g).max() for g in grads.values()) < 1e-15


def test_tanh_net_rejects_an_unknown_weight_scale():
    with pytest.raises(ValueError, match="weight_scale must be 'xavier' or a number"):
        TanhNet(4, 3, 2, weight_scale="he")
