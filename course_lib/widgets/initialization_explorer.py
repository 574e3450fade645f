"""The initialization explorer: what depth, width, nonlinearity and scheme do.

It runs course_lib.initialization.activation_statistics (the lecture's deep
net on unit-gaussian data, forward then backward) and draws one histogram per
layer for the activations and for the gradients, stacked from the first layer
at the bottom to the last at the top, next to the per-layer standard deviations.
Each histogram is drawn as sqrt(count) scaled to its own peak: a layer whose
values all collapse to zero shows as a single spike, a saturated tanh layer as
two spikes at +-1, and the spread of a ReLU layer stays visible next to the
half of its units that sit at exactly zero. The kernel computes; the browser
draws (course_lib.widgets.plot), so dragging the depth or width slider redraws
as the hand moves.
"""

import ipywidgets as widgets
import matplotlib
import numpy as np
from threadpoolctl import threadpool_limits

from course_lib.initialization import INIT_SCHEMES, NONLINEARITIES, activation_statistics, layer_histograms
from course_lib.widgets.explorer import Explorer
from course_lib.widgets.plot import Line, Panel, Plot

MAX_DEPTH = 20
BINS = 60
# Standard deviations are drawn on a log axis; exact zeros (zero init) at this floor.
STD_FLOOR = 1e-12
KINDS = ("activations", "gradients")


class InitializationExplorer(Explorer):
    """Controls, statistics and figure of the initialization explorer.

    Readable state (recomputed after every control change):
    - controls: dict name -> control: "num_layers", "width", "nonlinearity", "scheme".
    - stats: the dict returned by activation_statistics for those values.
    - histograms: dict "activations" / "gradients" -> (edges, counts) as in
      course_lib.initialization.layer_histograms.
    - plot: the course_lib.widgets.plot.Plot drawn in the browser: panels
      activations, gradients and standard deviations; lines "activations:L"
      and "gradients:L" (the histogram of layer L = 1..depth, drawn as a step
      line lifted to height L) and "std:activations", "std:gradients".
    - std_table: ipywidgets.HTML with the per-layer stds as numbers.
    - widget: the displayable box.
    """

    def __init__(self, nonlinearity, scheme, num_layers, width, num_samples, seed):
        # The defaults live in initialization_explorer(), the one way lessons build this.
        self.num_samples = num_samples
        self.seed = seed
        slider = {"continuous_update": True, "style": {"description_width": "90px"}}
        self.controls = {
            "num_layers": widgets.IntSlider(value=num_layers, min=1, max=MAX_DEPTH, description="depth", **slider),
            "width": widgets.IntSlider(value=width, min=10, max=500, step=10, description="width", **slider),
            "nonlinearity": widgets.Dropdown(
                options=list(NONLINEARITIES), value=nonlinearity, description="nonlinearity", style=slider["style"]
            ),
            "scheme": widgets.Dropdown(
                options=list(INIT_SCHEMES), value=scheme, description="init scheme", style=slider["style"]
            ),
        }
        self.std_table = widgets.HTML()
        self.plot = Plot(
            [
                Panel(xlabel="activation value", ylabel="layer (√count, scaled to its peak)"),
                Panel(xlabel="gradient value", ylabel="layer (√count, scaled to its peak)"),
                Panel(title="Std per layer", xlabel="layer", ylabel="standard deviation", yscale="log", legend=True),
            ],
            width=900,
            height=420,
        )
        self.widget = widgets.VBox([widgets.HBox(list(self.controls.values())), self.plot, self.std_table])
        self.widget.add_class("initialization-explorer")
        self._watch(self.controls.values())
        self.update()

    def update(self):
        """Rerun the experiment for the current controls and redraw."""
        v = self.values
        # Small matrices: one BLAS thread is faster, and does not fight other work for the cores.
        with threadpool_limits(limits=1, user_api="blas"):
            self.stats = activation_statistics(
                v["nonlinearity"], v["scheme"], v["num_layers"], v["width"], self.num_samples, self.seed
            )
        self.histograms = {kind: layer_histograms(self.stats[kind], BINS) for kind in KINDS}
        self._draw()

    def _draw(self):
        v = self.values
        depth = v["num_layers"]
        layers = np.arange(1, depth + 1)
        lines = {}
        for panel, kind in enumerate(KINDS):
            edges, counts = self.histograms[kind]
            heights = np.sqrt(counts)
            heights = heights / np.maximum(heights.max(axis=1, keepdims=True), 1)
            steps_x = np.repeat(edges, 2)[1:-1]
            for layer in layers:
                color = matplotlib.colors.to_hex(f"C{(layer - 1) % 10}")
                steps_y = layer + 0.9 * np.repeat(heights[layer - 1], 2)
                lines[f"{kind}:{layer}"] = Line(panel, steps_x, steps_y, color, 1.3)
            spec = self.plot.panels[panel]
            spec.xlim, spec.ylim = (edges[0], edges[-1]), (0.8, depth + 1.1)
            spec.yticks = [(layer, str(layer)) for layer in layers[:: max(1, depth // 10)]]
            spec.title = f"{kind.capitalize()}: {v['nonlinearity']}, {v['scheme']} init"
        stds = {"activations": self.stats["stds"], "gradients": self.stats["grad_stds"]}
        floored = {kind: np.maximum(values, STD_FLOOR) for kind, values in stds.items()}
        lines["std:activations"] = Line(
            2, layers, floored["activations"], "#1f77b4", 1.5, marker="o", label="activations"
        )
        lines["std:gradients"] = Line(
            2, layers, floored["gradients"], "#ff7f0e", 1.5, dash=(6, 4), marker="s", label="gradients"
        )
        std_panel = self.plot.panels[2]
        std_panel.xlim = (0.5, depth + 0.5)
        low = min(values.min() for values in floored.values())
        high = max(values.max() for values in floored.values())
        # At least two decades, so the log axis always has labelled ticks.
        std_panel.ylim = (min(low / 3, high / 100), high * 3)
        self.plot.lines = lines
        self.plot.title = f"{depth} layers of width {v['width']}"
        self.plot.redraw()
        self.std_table.value = self._table(stds)

    def _table(self, stds):
        header = "".join(f"<th>{layer}</th>" for layer in range(1, len(stds["activations"]) + 1))
        rows = "".join(
            f"<tr><td>{kind} std</td>" + "".join(f"<td>{value:.3g}</td>" for value in values) + "</tr>"
            for kind, values in stds.items()
        )
        return f"<table class='initialization-explorer-stds'><tr><th>layer</th>{header}</tr>{rows}</table>"


def initialization_explorer(nonlinearity="tanh", scheme="xavier", num_layers=10, width=250, num_samples=200, seed=0):
    """Return an InitializationExplorer: display it in a notebook, read its state in Python.

    Inputs:
    - nonlinearity: "tanh", "relu" or "sigmoid".
    - scheme: "zero", "small", "large", "xavier" or "he".
    - num_layers: depth (1 to MAX_DEPTH); width: units per layer (10 to 500).
    - num_samples: unit-gaussian input rows pushed through the net (int); the
      default 200 gives 50,000 values per layer at width 250, plenty for the
      histograms and the stds, and keeps a change near 40 ms of compute.
    - seed: seed of the data and weights.

    Returns an InitializationExplorer; see its docstring for the state it exposes.
    """
    return InitializationExplorer(nonlinearity, scheme, num_layers, width, num_samples, seed)
