"""The initialization explorer: what depth, width, nonlinearity and scheme do.

It runs course_lib.initialization.activation_statistics (the lecture's deep
net on unit-gaussian data, forward then backward) and draws one histogram per
layer for the activations and for the gradients, stacked from the first layer
at the bottom to the last at the top, next to the per-layer standard deviations.
Each histogram is drawn as sqrt(count) scaled to its own peak: a layer whose
values all collapse to zero shows as a single spike, a saturated tanh layer as
two spikes at +-1, and the spread of a ReLU layer stays visible next to the
half of its units that sit at exactly zero.
"""

import ipywidgets as widgets
import matplotlib
import numpy as np

from course_lib.initialization import INIT_SCHEMES, NONLINEARITIES, activation_statistics
from course_lib.plots import layer_histograms
from course_lib.widgets.explorer import Explorer
from course_lib.widgets.figure_view import FigureView, new_figure

MAX_DEPTH = 20
BINS = 60
# Standard deviations are drawn on a log axis; exact zeros (zero init) at this floor.
STD_FLOOR = 1e-12


class InitializationExplorer(Explorer):
    """Controls, statistics and figure of the initialization explorer.

    Readable state (recomputed after every control change):
    - controls: dict name -> control: "num_layers", "width", "nonlinearity", "scheme".
    - stats: the dict returned by activation_statistics for those values.
    - histograms: dict "activations" / "gradients" -> (edges, counts) as in
      course_lib.plots.layer_histograms.
    - histogram_lines: dict "activations" / "gradients" -> list of MAX_DEPTH
      Line2D, the first num_layers of them visible.
    - std_lines: dict "activations" / "gradients" -> Line2D of std per layer.
    - std_table: ipywidgets.HTML with the per-layer stds as numbers.
    - figure, widget: the matplotlib Figure and the displayable box.
    """

    def __init__(self, nonlinearity="tanh", scheme="xavier", num_layers=10, width=250, num_samples=500, seed=0):
        self.num_samples = num_samples
        self.seed = seed
        slider = {"continuous_update": False, "style": {"description_width": "90px"}}
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
        self._build_figure()
        self.view = FigureView(self.figure)
        self.widget = widgets.VBox([widgets.HBox(list(self.controls.values())), self.view.widget, self.std_table])
        self.widget.add_class("initialization-explorer")
        self._watch(self.controls.values())
        self.update()

    def update(self):
        """Rerun the experiment for the current controls and redraw."""
        v = self.values
        self.stats = activation_statistics(
            v["nonlinearity"], v["scheme"], v["num_layers"], v["width"], self.num_samples, self.seed
        )
        self.histograms = {kind: layer_histograms(self.stats[kind], BINS) for kind in ("activations", "gradients")}
        self._draw()

    def _build_figure(self):
        self.figure = new_figure(figsize=(11, 4.4))
        ax_act, ax_grad, ax_std = self.figure.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 0.9]})
        self.axes = {"activations": ax_act, "gradients": ax_grad, "stds": ax_std}
        self.histogram_lines = {}
        for kind, ax in (("activations", ax_act), ("gradients", ax_grad)):
            self.histogram_lines[kind] = [
                ax.plot([], [], drawstyle="steps-mid", lw=1.2, color=f"C{layer % 10}")[0] for layer in range(MAX_DEPTH)
            ]
            ax.set_xlabel("activation value" if kind == "activations" else "gradient value")
            ax.set_ylabel("layer (√count, scaled to its peak)")
        ax_std.set_yscale("log")
        ax_std.yaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax_std.set_xlabel("layer")
        ax_std.set_ylabel("standard deviation (log scale)")
        ax_std.set_title("Std per layer")
        self.std_lines = {
            "activations": ax_std.plot([], [], "o-", label="activations")[0],
            "gradients": ax_std.plot([], [], "s--", label="gradients")[0],
        }
        ax_std.legend(fontsize=8)
        self.figure.subplots_adjust(left=0.06, right=0.98, bottom=0.12, top=0.88, wspace=0.3)

    def _draw(self):
        v = self.values
        depth = v["num_layers"]
        layers = np.arange(1, depth + 1)
        for kind, (edges, counts) in self.histograms.items():
            centers = 0.5 * (edges[:-1] + edges[1:])
            heights = np.sqrt(counts)
            heights = heights / np.maximum(heights.max(axis=1, keepdims=True), 1)
            for layer, line in enumerate(self.histogram_lines[kind]):
                line.set_visible(layer < depth)
                if layer < depth:
                    line.set_data(centers, layer + 1 + 0.9 * heights[layer])
            ax = self.axes[kind]
            ax.set_xlim(edges[0], edges[-1])
            ax.set_ylim(0.8, depth + 1.1)
            ax.set_yticks(layers)
            ax.set_title(f"{kind.capitalize()}: {v['nonlinearity']}, {v['scheme']} init", fontsize=10)
        stds = {"activations": self.stats["stds"], "gradients": self.stats["grad_stds"]}
        for kind, values in stds.items():
            self.std_lines[kind].set_data(layers, np.maximum(values, STD_FLOOR))
        ax_std = self.axes["stds"]
        ax_std.set_xlim(0.5, depth + 0.5)
        low = min(np.maximum(values, STD_FLOOR).min() for values in stds.values())
        high = max(np.maximum(values, STD_FLOOR).max() for values in stds.values())
        # At least two decades, so the log axis always has labelled ticks.
        ax_std.set_ylim(min(low / 3, high / 100), high * 3)
        self.figure.suptitle(f"{depth} layers of width {v['width']}", fontsize=11)
        self.std_table.value = self._table(stds)
        self.view.redraw()

    def _table(self, stds):
        header = "".join(f"<th>{layer}</th>" for layer in range(1, len(stds["activations"]) + 1))
        rows = "".join(
            f"<tr><td>{kind} std</td>" + "".join(f"<td>{value:.3g}</td>" for value in values) + "</tr>"
            for kind, values in stds.items()
        )
        return f"<table class='initialization-explorer-stds'><tr><th>layer</th>{header}</tr>{rows}</table>"


def initialization_explorer(nonlinearity="tanh", scheme="xavier", num_layers=10, width=250, num_samples=500, seed=0):
    """Return an InitializationExplorer: display it in a notebook, read its state in Python.

    Inputs:
    - nonlinearity: "tanh", "relu" or "sigmoid".
    - scheme: "zero", "small", "large", "xavier" or "he".
    - num_layers: depth (1 to MAX_DEPTH); width: units per layer (10 to 500).
    - num_samples: unit-gaussian input rows pushed through the net (int).
    - seed: seed of the data and weights.

    Returns an InitializationExplorer; see its docstring for the state it exposes.
    """
    return InitializationExplorer(nonlinearity, scheme, num_layers, width, num_samples, seed)
