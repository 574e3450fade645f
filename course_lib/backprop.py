"""Computational graphs of scalars: forward values, backpropagated gradients, and their picture.

A graph is built one gate at a time; every gate computes its value at once
(the forward pass) and remembers its *local* gradients, the derivative of its
output with respect to each of its inputs at those values:

    graph = Graph()
    x, y, z = graph.input("x", -2.0), graph.input("y", 5.0), graph.input("z", -4.0)
    q = graph.add(x, y, name="q")          # q = 3, local gradients (1, 1)
    f = graph.multiply(q, z, name="f")     # f = -12, local gradients (z, q) = (-4, 3)
    graph.backward(f)
    x.grad, y.grad, z.grad, q.grad         # -4.0, -4.0, 3.0, -4.0
    fig, ax = graph.draw()

`backward(output)` sets d output / d output = 1 and visits the gates from the
last to the first: each gate multiplies its own gradient (the *upstream*
gradient) by each local gradient and sends the product down the edge to that
input (the chain rule). A value that feeds several gates receives one product
per edge, and they add up. Every edge keeps the gradient it carried, so the
picture can show, on each edge, the forward value above and the gradient below.

Gates: add, multiply, maximum, exp, reciprocal, add_constant, scale, sigmoid,
square, and `gate(...)` for any other one-line function with known local
gradients. Values are Python floats: vectors are taught with numpy arrays, and
`numerical_jacobian` builds the Jacobian of a vector function that a vectorized
backward pass never forms (to show what it avoids, and to check it on small inputs).
"""

import math
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Circle

#: Colors of the two numbers on every edge, as on the lecture's graphs.
VALUE_COLOR = "tab:green"
GRADIENT_COLOR = "tab:red"


@dataclass(eq=False)
class Node:
    """One value of a graph: an input, or the output of a gate.

    - name: the label drawn for it (inputs are drawn as their name).
    - value: the forward value, a float.
    - op: the gate's label ("+", "×", "max", "exp", ...), None for an input.
    - inputs: the Nodes the gate reads, in order (empty for an input).
    - local_gradients: d value / d input for each input, at the forward values.
    - grad: d output / d value after Graph.backward(output) (0 before).
    - input_grads: after backward, the gradient this gate sent down each input
      edge, grad * local_gradients[i] (an input's grad is the sum over its edges).
    """

    name: str
    value: float
    op: str | None = None
    inputs: tuple = ()
    local_gradients: tuple = ()
    grad: float = 0.0
    input_grads: tuple = field(default=())


class Graph:
    """A computational graph of scalar gates, built in forward order (see the module doc).

    Attributes:
    - nodes: list of Node in the order they were created (a topological order:
      a gate is always created after its inputs).
    """

    def __init__(self):
        self.nodes = []

    def __getitem__(self, name):
        """Return the node called `name`; KeyError listing the names if there is none."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"no node named {name!r}; the graph has {[n.name for n in self.nodes]}")

    def input(self, name, value):
        """Add an input (a leaf) called `name` with a float `value`; returns its Node."""
        return self._add_node(Node(name=name, value=_as_float("value", value)))

    def gate(self, op, inputs, value, local_gradients, name=None):
        """Add a gate computed elsewhere: any function whose local gradients are known.

        Inputs:
        - op: the label drawn in the gate's circle.
        - inputs: sequence of Nodes of this graph that the gate reads.
        - value: the gate's output, a float.
        - local_gradients: d value / d input, one float per input.
        - name: the node's name (default: "n" followed by its index in `nodes`).

        Returns the new Node. Raises ValueError when an input belongs to another
        graph or the number of local gradients differs from the number of inputs.
        """
        inputs = tuple(inputs)
        if not inputs:
            raise ValueError(f"gate {op!r} needs at least one input node, got none")
        for node in inputs:
            if not isinstance(node, Node) or all(node is not known for known in self.nodes):
                raise ValueError(f"inputs of gate {op!r} must be Nodes of this graph, got {node!r}")
        local_gradients = tuple(_as_float("local_gradients", g) for g in local_gradients)
        if len(local_gradients) != len(inputs):
            raise ValueError(
                f"gate {op!r} has {len(inputs)} inputs, so it needs {len(inputs)} local gradients, "
                f"got {len(local_gradients)}"
            )
        name = f"n{len(self.nodes)}" if name is None else name
        node = Node(name=name, value=_as_float("value", value), op=op, inputs=inputs, local_gradients=local_gradients)
        return self._add_node(node)

    def add(self, a, b, name=None):
        """a + b: local gradients (1, 1), so the gradient is copied to both inputs."""
        return self.gate("+", (a, b), a.value + b.value, (1.0, 1.0), name)

    def multiply(self, a, b, name=None):
        """a * b: local gradients (b, a), so each input gets the upstream gradient times the OTHER input."""
        return self.gate("×", (a, b), a.value * b.value, (b.value, a.value), name)

    def maximum(self, a, b, name=None):
        """max(a, b): local gradient 1 for the larger input, 0 for the other (a tie goes to a)."""
        a_wins = a.value >= b.value
        return self.gate("max", (a, b), max(a.value, b.value), (float(a_wins), float(not a_wins)), name)

    def exp(self, a, name=None):
        """e^a: local gradient e^a."""
        value = math.exp(a.value)
        return self.gate("exp", (a,), value, (value,), name)

    def reciprocal(self, a, name=None):
        """1 / a: local gradient -1 / a^2. Raises ValueError at a = 0."""
        if a.value == 0:
            raise ValueError(f"reciprocal of node {a.name!r} is undefined: its value is 0")
        return self.gate("1/x", (a,), 1.0 / a.value, (-1.0 / a.value**2,), name)

    def add_constant(self, a, constant, name=None):
        """a + c for a fixed number c: local gradient 1."""
        constant = _as_float("constant", constant)
        return self.gate(f"{constant:+g}", (a,), a.value + constant, (1.0,), name)

    def scale(self, a, factor, name=None):
        """c * a for a fixed number c: local gradient c."""
        factor = _as_float("factor", factor)
        return self.gate(f"×{factor:g}", (a,), factor * a.value, (factor,), name)

    def square(self, a, name=None):
        """a^2: local gradient 2a."""
        return self.gate("x²", (a,), a.value**2, (2.0 * a.value,), name)

    def sigmoid(self, a, name=None):
        """sigma(a) = 1 / (1 + e^-a) as ONE gate: local gradient (1 - sigma) sigma."""
        value = 1.0 / (1.0 + math.exp(-a.value))
        return self.gate("σ", (a,), value, ((1.0 - value) * value,), name)

    def backward(self, output):
        """Backpropagate from `output`: afterwards node.grad = d output / d node for every node.

        Inputs:
        - output: a Node of this graph (usually the last one).

        Returns a dict name -> grad for every node. Nodes that do not feed into
        `output` get gradient 0.
        """
        if all(output is not known for known in self.nodes):
            raise ValueError(f"output must be a Node of this graph, got {output!r}")
        for node in self.nodes:
            node.grad = 0.0
            node.input_grads = tuple(0.0 for _ in node.inputs)
        output.grad = 1.0
        last = next(i for i, node in enumerate(self.nodes) if node is output)
        for node in reversed(self.nodes[: last + 1]):
            node.input_grads = tuple(node.grad * local for local in node.local_gradients)
            for source, sent in zip(node.inputs, node.input_grads):
                source.grad += sent
        return {node.name: node.grad for node in self.nodes}

    def draw(self, ax=None, title=None, positions=None, decimals=2):
        """Draw the graph left to right: forward values above the edges, gradients below.

        Inputs:
        - ax: optional Axes to draw into.
        - title: the axes title (default: the output's name and value).
        - positions: optional dict name -> (column, row) overriding the automatic
          layout (column: gates after their inputs; row: inputs in creation
          order, a gate at the mean row of its inputs; row 0 is at the top).
        - decimals: digits shown after the decimal point.

        Returns (figure, ax). The last node is the output; its gradient is drawn
        on an edge leaving the graph to the right.
        """
        if not self.nodes:
            raise ValueError("the graph has no nodes to draw: add inputs and gates first")
        where = self._layout()
        for name, position in (positions or {}).items():
            where[self[name]] = tuple(float(p) for p in position)
        columns = max(c for c, _ in where.values()) + 1
        rows = max(r for _, r in where.values()) - min(r for _, r in where.values()) + 1
        if ax is None:
            _, ax = plt.subplots(figsize=(min(9.0, 1.7 * columns + 1.5), 1.0 * rows + 1.6))
        fig = ax.figure
        fmt = f"{{:.{decimals}f}}"
        radius = 0.22

        def edge(start, end, value, grad):
            ax.annotate(
                "",
                xy=end,
                xytext=start,
                arrowprops={"arrowstyle": "->", "color": "0.35", "lw": 1.2, "shrinkA": 0, "shrinkB": 0},
            )
            # Labels sit 40% along the edge (edges converging on a gate are still apart there),
            # pushed off the line along its normal: the value to the upper side, the gradient below.
            dx, dy = end[0] - start[0], end[1] - start[1]
            length = math.hypot(dx, dy) or 1.0
            normal = (-dy / length, dx / length) if dx >= 0 else (dy / length, -dx / length)
            anchor = (start[0] + 0.4 * dx, start[1] + 0.4 * dy)
            for text, color, side in ((value, VALUE_COLOR, 1), (grad, GRADIENT_COLOR, -1)):
                ax.annotate(
                    fmt.format(text),
                    anchor,
                    xytext=(side * 10 * normal[0], side * 10 * normal[1]),
                    textcoords="offset points",
                    ha="center",
                    va="center",
                    color=color,
                    fontsize=10,
                    fontweight="bold",
                )

        for node in self.nodes:
            column, row = where[node]
            if node.op is None:
                ax.text(column, -row, node.name, ha="right", va="center", fontsize=11)
            else:
                ax.add_patch(Circle((column, -row), radius, facecolor="white", edgecolor="black", lw=1.2))
                ax.text(column, -row, node.op, ha="center", va="center", fontsize=11)
            for source, sent in zip(node.inputs, node.input_grads or (0.0,) * len(node.inputs)):
                source_column, source_row = where[source]
                start = (source_column + (0.05 if source.op is None else radius), -source_row)
                end = _toward((column, -row), start, radius)
                edge(start, end, source.value, sent)
            fan_out = sum(node in other.inputs for other in self.nodes)
            if fan_out > 1:
                ax.annotate(
                    f"sum {fmt.format(node.grad)}",
                    (column, -row),
                    xytext=(0, -16),
                    textcoords="offset points",
                    ha="right" if node.op is None else "center",
                    va="top",
                    color=GRADIENT_COLOR,
                    fontsize=9,
                )
        output = self.nodes[-1]
        column, row = where[output]
        edge((column + radius, -row), (column + 0.9, -row), output.value, output.grad)
        ax.text(column + 0.95, -row, output.name, ha="left", va="center", fontsize=11)

        ax.set_xlim(-0.6, columns + 0.6)
        low = max(r for _, r in where.values())
        high = min(r for _, r in where.values())
        ax.set_ylim(-low - 0.7, -high + 0.6)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(title or f"{output.name} = {fmt.format(output.value)}", fontsize=11)
        ax.legend(
            handles=[
                Line2D([], [], color=VALUE_COLOR, lw=3, label="forward value (above the edge)"),
                Line2D([], [], color=GRADIENT_COLOR, lw=3, label=f"gradient d{output.name}/d(edge) (below)"),
            ],
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            ncol=2,
            fontsize=9,
            frameon=False,
        )
        return fig, ax

    def _add_node(self, node):
        if any(node.name == known.name for known in self.nodes):
            raise ValueError(f"name {node.name!r} is already used in this graph; names must be unique")
        self.nodes.append(node)
        return node

    def _layout(self):
        """Node -> (column, row): gates one column right of their deepest input, inputs just left of their first use."""
        column, row = {}, {}
        next_input_row = 0
        for node in self.nodes:
            if node.op is None:
                column[node], row[node] = 0, float(next_input_row)
                next_input_row += 1
            else:
                column[node] = 1 + max(column[source] for source in node.inputs)
                row[node] = sum(row[source] for source in node.inputs) / len(node.inputs)
        for node in self.nodes:
            if node.op is None:
                uses = [column[other] for other in self.nodes if node in other.inputs]
                column[node] = min(uses) - 1 if uses else 0
        return {node: (float(column[node]), row[node]) for node in self.nodes}


def numerical_jacobian(f, x, h=1e-5):
    """Centered-difference Jacobian of a vector function: J[j, k] = d f(x)_j / d x_k.

    Inputs:
    - f: callable taking an array of x's shape (D,) and returning an array (M,).
    - x: floating numpy array of shape (D,); not modified (f gets perturbed copies).
    - h: step size.

    Returns a float64 array of shape (M, D). Raises ValueError unless x is a
    1-D floating array and f returns a 1-D array.
    """
    x = np.asarray(x)
    if x.ndim != 1 or not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"x must be a 1-D floating-point array of shape (D,), got shape {x.shape} of dtype {x.dtype}")
    out = np.asarray(f(x.copy()))
    if out.ndim != 1:
        raise ValueError(f"f must return a 1-D array of shape (M,), got shape {out.shape}")
    jacobian = np.empty((out.size, x.size))
    for k in range(x.size):
        up, down = x.copy(), x.copy()
        up[k] += h
        down[k] -= h
        jacobian[:, k] = (np.asarray(f(up), dtype=np.float64) - np.asarray(f(down), dtype=np.float64)) / (2 * h)
    return jacobian


def _toward(center, start, radius):
    """The point on the circle of `radius` around `center` facing `start`."""
    dx, dy = start[0] - center[0], start[1] - center[1]
    length = math.hypot(dx, dy) or 1.0
    return (center[0] + radius * dx / length, center[1] + radius * dy / length)


def _as_float(name, value):
    """Return `value` as a finite Python float, else raise ValueError naming `name`."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number
