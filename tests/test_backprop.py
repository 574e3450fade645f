"""course_lib.backprop: scalar computational graphs, checked against numerical derivatives."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_lib.backprop import Graph, numerical_jacobian

H = 1e-6


def sigmoid_neuron(w0, x0, w1, x1, w2, collapsed=False):
    """The neuron 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))) as a graph, gate by gate or with one sigmoid gate."""
    graph = Graph()
    inputs = [graph.input(name, value) for name, value in zip(("w0", "x0", "w1", "x1", "w2"), (w0, x0, w1, x1, w2))]
    dot = graph.add(graph.add(graph.multiply(inputs[0], inputs[1]), graph.multiply(inputs[2], inputs[3])), inputs[4])
    if collapsed:
        out = graph.sigmoid(dot, name="f")
    else:
        out = graph.reciprocal(graph.add_constant(graph.exp(graph.scale(dot, -1.0)), 1.0), name="f")
    return graph, out


def numerical_partials(build, values):
    """Centered differences of build(*values) (which returns (graph, output)) in every argument."""
    partials = []
    for i in range(len(values)):
        up, down = list(values), list(values)
        up[i] += H
        down[i] -= H
        partials.append((build(*up)[1].value - build(*down)[1].value) / (2 * H))
    return partials


def test_the_add_multiply_example():
    graph = Graph()
    x, y, z = graph.input("x", -2.0), graph.input("y", 5.0), graph.input("z", -4.0)
    q = graph.add(x, y, name="q")
    f = graph.multiply(q, z, name="f")
    grads = graph.backward(f)
    assert (q.value, f.value) == (3.0, -12.0)
    assert grads == {"x": -4.0, "y": -4.0, "z": 3.0, "q": -4.0, "f": 1.0}
    assert q.input_grads == (-4.0, -4.0) and f.input_grads == (-4.0, 3.0)
    assert graph["q"] is q


@pytest.mark.parametrize("collapsed", [False, True])
def test_sigmoid_neuron_matches_numerical_gradients(collapsed):
    values = (2.0, -1.0, -3.0, -2.0, -3.0)
    graph, out = sigmoid_neuron(*values, collapsed=collapsed)
    graph.backward(out)
    analytic = [graph[name].grad for name in ("w0", "x0", "w1", "x1", "w2")]
    numeric = numerical_partials(lambda *v: sigmoid_neuron(*v, collapsed=collapsed), values)
    assert out.value == pytest.approx(1 / (1 + math.exp(-1.0)))
    assert analytic == pytest.approx(numeric, rel=1e-6)


@pytest.mark.parametrize(
    ("make", "function", "at"),
    [
        (lambda g, a: g.exp(a), math.exp, 0.7),
        (lambda g, a: g.reciprocal(a), lambda v: 1 / v, -1.3),
        (lambda g, a: g.add_constant(a, 2.5), lambda v: v + 2.5, 0.4),
        (lambda g, a: g.scale(a, -3.0), lambda v: -3.0 * v, 0.4),
        (lambda g, a: g.square(a), lambda v: v * v, -0.8),
        (lambda g, a: g.sigmoid(a), lambda v: 1 / (1 + math.exp(-v)), 0.3),
    ],
)
def test_unary_gates_have_the_right_value_and_local_gradient(make, function, at):
    graph = Graph()
    out = make(graph, graph.input("a", at))
    graph.backward(out)
    assert out.value == pytest.approx(function(at))
    assert graph["a"].grad == pytest.approx((function(at + H) - function(at - H)) / (2 * H), rel=1e-6)


def test_gate_patterns():
    graph = Graph()
    x, y, z, w = (graph.input(name, value) for name, value in (("x", 3.0), ("y", -4.0), ("z", 2.0), ("w", -1.0)))
    f = graph.scale(graph.add(graph.multiply(x, y), graph.maximum(z, w)), 2.0, name="f")
    grads = graph.backward(f)
    assert f.value == -20.0
    assert (grads["x"], grads["y"]) == (-8.0, 6.0), "multiply swaps: each input gets 2 times the other"
    assert (grads["z"], grads["w"]) == (2.0, 0.0), "max routes the gradient to the larger input only"


def test_a_value_used_twice_adds_its_gradients_and_backward_can_be_repeated():
    graph = Graph()
    x, y = graph.input("x", 3.0), graph.input("y", -4.0)
    f = graph.add(graph.multiply(x, y), x, name="f")
    graph.backward(f)
    first = x.grad
    graph.backward(f)
    assert first == x.grad == -3.0, "d(xy + x)/dx = y + 1, the same after a second backward pass"


def test_nodes_that_do_not_feed_the_output_get_zero():
    graph = Graph()
    a, b = graph.input("a", 1.0), graph.input("b", 2.0)
    out = graph.exp(a, name="out")
    graph.multiply(a, b, name="unused")
    grads = graph.backward(out)
    assert grads["b"] == 0.0 and grads["unused"] == 0.0
    assert grads["a"] == pytest.approx(math.e)


def test_custom_gate():
    graph = Graph()
    a = graph.input("a", 0.5)
    out = graph.gate("tanh", [a], math.tanh(0.5), [1 - math.tanh(0.5) ** 2], name="t")
    assert graph.backward(out)["a"] == pytest.approx(1 - math.tanh(0.5) ** 2)


def test_bad_input_is_refused_with_a_clear_message():
    graph, other = Graph(), Graph()
    a = graph.input("a", 1.0)
    with pytest.raises(ValueError, match="already used"):
        graph.input("a", 2.0)
    with pytest.raises(ValueError, match="Nodes of this graph"):
        graph.add(a, other.input("b", 1.0))
    with pytest.raises(ValueError, match="needs 1 local gradients, got 2"):
        graph.gate("f", [a], 1.0, [1.0, 2.0])
    with pytest.raises(ValueError, match="at least one input"):
        graph.gate("f", [], 1.0, [])
    with pytest.raises(ValueError, match="its value is 0"):
        graph.reciprocal(graph.input("zero", 0.0))
    with pytest.raises(ValueError, match="value must be finite"):
        graph.input("c", float("nan"))
    with pytest.raises(ValueError, match="value must be a real number"):
        graph.input("d", "one")
    with pytest.raises(ValueError, match="output must be a Node of this graph"):
        graph.backward(other.nodes[0])
    with pytest.raises(KeyError, match="no node named 'missing'"):
        graph["missing"]
    with pytest.raises(ValueError, match="no nodes to draw"):
        Graph().draw()


def test_draw_shows_every_value_and_gradient_readably():
    graph, out = sigmoid_neuron(2.0, -1.0, -3.0, -2.0, -3.0)
    graph.backward(out)
    fig, ax = graph.draw()
    texts = [t.get_text() for t in ax.texts]
    for expected in ("0.73", "-0.20", "0.39", "-0.39", "-0.59", "-0.53", "1.37"):
        assert expected in texts, expected
    assert "w0" in texts and "f" in texts and "1/x" in texts
    assert fig.get_figwidth() <= 9
    assert min(t.get_fontsize() for t in ax.texts) >= 9
    plt.close(fig)


def test_draw_marks_a_fan_out_and_accepts_positions():
    graph = Graph()
    x, y = graph.input("x", 3.0), graph.input("y", -4.0)
    graph.add(graph.multiply(x, y, name="xy"), x, name="f")
    graph.backward(graph["f"])
    fig, ax = graph.draw(positions={"xy": (1, 1)}, decimals=1)
    texts = [t.get_text() for t in ax.texts]
    assert "sum -3.0" in texts, "a value feeding two gates shows the sum of its gradients"
    plt.close(fig)


def test_numerical_jacobian_of_a_linear_map_and_of_an_elementwise_function():
    rng = np.random.default_rng(0)
    matrix, x = rng.normal(size=(3, 4)), rng.normal(size=4)
    np.testing.assert_allclose(numerical_jacobian(lambda v: matrix @ v, x), matrix, atol=1e-9)
    before = x.copy()
    jacobian = numerical_jacobian(np.tanh, x)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(jacobian, np.diag(1 - np.tanh(x) ** 2), atol=1e-9)


def test_numerical_jacobian_refuses_what_it_cannot_differentiate():
    with pytest.raises(ValueError, match="x must be a 1-D floating-point array"):
        numerical_jacobian(np.tanh, np.arange(3))
    with pytest.raises(ValueError, match="f must return a 1-D array"):
        numerical_jacobian(lambda v: np.outer(v, v), np.ones(2))
