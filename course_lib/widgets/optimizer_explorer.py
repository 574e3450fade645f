"""The optimizer explorer: update rules racing on 2-D loss surfaces.

Pick a surface, switch update rules on and off, and move any control: every
path is recomputed with course_lib.optim and redrawn at once (the same artists
are updated, the figure is never rebuilt). Click the contour plot (ipympl) or
move the start sliders to choose where the paths begin; press play to watch
them unfold step by step. The right panel shows the distance to the minimum on
a log scale, so a straight line is a constant convergence rate; on the
quadratic, dashed lines show the rate theory predicts for gradient descent,
heavy-ball momentum and Nesterov next to the measured one.
"""

import math

import ipywidgets as widgets
import matplotlib
import numpy as np

from course_lib.checks import check_choice
from course_lib.optim import UPDATE_RULES
from course_lib.optlab.surfaces import SURFACE_NAMES, get_surface
from course_lib.optlab.trajectories import (
    SCHEDULES,
    learning_rates,
    measured_rate,
    optimal_gradient_descent,
    optimal_heavy_ball,
    predicted_rate,
    run_optimizer,
)
from course_lib.widgets.explorer import Explorer, really_changed
from course_lib.widgets.figure_view import FigureView, new_figure

RULE_LABELS = {
    "sgd": "SGD",
    "sgd_momentum": "Momentum",
    "nesterov_momentum": "Nesterov",
    "adagrad": "AdaGrad",
    "rmsprop": "RMSProp",
    "adam": "Adam",
}
RULE_COLORS = dict(zip(RULE_LABELS, matplotlib.colormaps["tab10"].colors))
# Distances are drawn on a log axis; exact zeros are drawn at this floor.
DISTANCE_FLOOR = 1e-16
_GRID_POINTS = 160


class OptimizerExplorer(Explorer):
    """Controls, computed paths and figure of the optimizer explorer.

    Readable state (recomputed after every control change):
    - controls: dict name -> ipywidgets control (see `values`).
    - rule_buttons: dict rule -> ToggleButton that switches that rule on.
    - surface: the current surfaces.Surface.
    - trajectories: dict rule -> trajectories.Trajectory for the rules shown.
    - paths: dict rule -> float64 array (K + 1, 2) of the points visited.
    - status: dict rule -> "converged at step k", "diverged at step k: ...", ...
    - rates: dict rule -> {"measured": float or None, "predicted": float or None}
      (predicted only on the quadratic with a constant learning rate, for the
      rules whose step is linear in w).
    - path_lines, distance_lines, theory_lines: dict rule -> Line2D drawn.
    - figure, widget: the matplotlib Figure and the displayable ipywidgets box.
    """

    def __init__(
        self,
        surface="quadratic",
        rules=("sgd", "sgd_momentum", "adam"),
        learning_rate=None,
        num_steps=100,
        condition_number=10.0,
        seed=0,
    ):
        for rule in rules:
            check_choice("rules", rule, list(UPDATE_RULES))
        self.seed = seed
        self.surface = get_surface(surface, condition_number)
        self.trajectories = {}
        self._contours = None
        self._contours_for = None
        self._build_controls(rules, learning_rate, num_steps, condition_number)
        self._build_figure()
        self.view = FigureView(self.figure)
        self.widget = self._layout()
        self._connect()
        self.update()

    # ----------------------------------------------------------- controls
    def _build_controls(self, rules, learning_rate, num_steps, condition_number):
        surface = self.surface
        style = {"description_width": "110px"}
        slider = {"continuous_update": True, "style": style}
        c = {}
        c["surface"] = widgets.Dropdown(options=SURFACE_NAMES, value=surface.name, description="surface", style=style)
        c["condition_number"] = widgets.FloatLogSlider(
            value=condition_number,
            base=10,
            min=0,
            max=3,
            step=0.01,
            readout_format=".3g",
            description="condition κ",
            **slider,
        )
        # Fine steps: at its best tuning heavy ball is on a knife edge (a 1% change of
        # the learning rate or momentum costs several % of its rate, or diverges at kappa 1000).
        c["learning_rate"] = widgets.FloatLogSlider(
            value=learning_rate or surface.learning_rate,
            base=10,
            min=-4,
            max=1,
            step=0.001,
            readout_format=".3g",
            description="learning rate",
            **slider,
        )
        c["momentum"] = widgets.FloatSlider(
            value=0.9, min=0, max=0.999, step=0.001, readout_format=".3f", description="momentum μ", **slider
        )
        c["decay_rate"] = widgets.FloatSlider(
            value=0.99, min=0.5, max=0.999, step=0.001, readout_format=".3f", description="RMSProp decay", **slider
        )
        c["beta1"] = widgets.FloatSlider(value=0.9, min=0, max=0.99, step=0.01, description="Adam β1", **slider)
        c["beta2"] = widgets.FloatSlider(
            value=0.999, min=0.9, max=0.9999, step=0.0001, readout_format=".4f", description="Adam β2", **slider
        )
        c["schedule"] = widgets.Dropdown(options=SCHEDULES, value="constant", description="lr schedule", style=style)
        c["lr_decay"] = widgets.FloatSlider(
            value=0.01, min=0, max=0.1, step=0.001, readout_format=".3f", description="lr decay / step", **slider
        )
        c["num_steps"] = widgets.IntSlider(value=num_steps, min=1, max=1000, description="steps", **slider)
        c["noise"] = widgets.FloatSlider(value=0, min=0, max=5, step=0.05, description="gradient noise", **slider)
        c["start_x"] = widgets.FloatSlider(
            value=surface.start[0], min=surface.xlim[0], max=surface.xlim[1], step=0.01, description="start x", **slider
        )
        c["start_y"] = widgets.FloatSlider(
            value=surface.start[1], min=surface.ylim[0], max=surface.ylim[1], step=0.01, description="start y", **slider
        )
        c["step"] = widgets.IntSlider(value=num_steps, min=0, max=num_steps, description="show step", **slider)
        self.controls = c
        self.rule_buttons = {
            rule: widgets.ToggleButton(
                value=rule in rules,
                description=label,
                style={"text_color": matplotlib.colors.to_hex(RULE_COLORS[rule]), "font_weight": "bold"},
                layout=widgets.Layout(width="110px"),
            )
            for rule, label in RULE_LABELS.items()
        }
        self.play = widgets.Play(value=num_steps, min=0, max=num_steps, interval=40, description="play")
        widgets.jslink((self.play, "value"), (c["step"], "value"))
        self.step_button = widgets.Button(description="step ▶", layout=widgets.Layout(width="70px"))
        self.optimal_button = widgets.Button(
            description="best heavy-ball α, μ",
            tooltip="theory's optimal tuning on the quadratic",
            layout=widgets.Layout(width="180px"),
        )
        self.status_html = widgets.HTML()

    def _layout(self):
        c = self.controls
        rules = widgets.HBox(list(self.rule_buttons.values()), layout=widgets.Layout(flex_flow="row wrap"))
        left = widgets.VBox(
            [
                c[name]
                for name in ("surface", "condition_number", "learning_rate", "momentum", "decay_rate", "beta1", "beta2")
            ]
        )
        right = widgets.VBox(
            [c[name] for name in ("schedule", "lr_decay", "num_steps", "noise", "start_x", "start_y")]
            + [self.optimal_button]
        )
        player = widgets.HBox([self.play, self.step_button, c["step"]])
        box = widgets.VBox([rules, widgets.HBox([left, right]), self.view.widget, player, self.status_html])
        box.add_class("optimizer-explorer")
        return box

    def _connect(self):
        self.controls["step"].observe(self._on_step, names="value")
        self.controls["surface"].observe(self._on_surface, names="value")
        self._watch(control for name, control in self.controls.items() if name not in ("step", "surface"))
        self._watch(self.rule_buttons.values())
        self.step_button.on_click(self._on_step_button)
        self.optimal_button.on_click(self._on_optimal)
        self.figure.canvas.mpl_connect("button_press_event", self._on_click)

    def set(self, rules=None, **values):
        """Set several controls at once, then recompute once.

        Inputs:
        - rules: optional iterable of rule names to show (the others are hidden).
        - values: control name -> new value, for names in `controls`.
        """
        for rule in rules or ():
            check_choice("rules", rule, list(UPDATE_RULES))
        with self._silenced():
            if "surface" in values:
                self._assign({"surface": values.pop("surface")})
                self._reset_for_surface()
            if rules is not None:
                for rule, button in self.rule_buttons.items():
                    button.value = rule in rules
            self._assign(values)
        self.update()

    @property
    def rules(self):
        """The names of the update rules switched on, in RULE_LABELS order."""
        return [rule for rule, button in self.rule_buttons.items() if button.value]

    @property
    def paths(self):
        """dict rule -> float64 array (K + 1, 2), the points each shown rule visited."""
        return {rule: t.path for rule, t in self.trajectories.items()}

    @property
    def status(self):
        """dict rule -> the Trajectory status of each shown rule."""
        return {rule: t.status for rule, t in self.trajectories.items()}

    def _on_surface(self, change):
        if not self._silence and really_changed(change):
            self.set(surface=change["new"])

    def _on_step(self, change):
        if not self._silence:
            self._draw()

    def _on_step_button(self, button):
        step = self.controls["step"]
        step.value = step.value + 1 if step.value < step.max else 0

    def _on_optimal(self, button):
        if self.surface.hessian_eigenvalues is not None:
            alpha, mu, _ = optimal_heavy_ball(self.surface.hessian_eigenvalues)
            c = self.controls
            self.set(learning_rate=_on_grid(c["learning_rate"], alpha), momentum=_on_grid(c["momentum"], mu))

    def _on_click(self, event):
        if event.inaxes is self.ax_surface and event.button == 1:
            c = self.controls
            self.set(start_x=_on_grid(c["start_x"], event.xdata), start_y=_on_grid(c["start_y"], event.ydata))

    def _reset_for_surface(self):
        """Move the start point, window and learning rate to the new surface's."""
        c = self.controls
        self.surface = get_surface(c["surface"].value, c["condition_number"].value)
        surface = self.surface
        _set_range(c["start_x"], *surface.xlim, surface.start[0])
        _set_range(c["start_y"], *surface.ylim, surface.start[1])
        c["learning_rate"].value = surface.learning_rate

    # ----------------------------------------------------------- compute
    def update(self):
        """Recompute every shown path from the controls and redraw."""
        c = self.controls
        self.surface = get_surface(c["surface"].value, c["condition_number"].value)
        if self._contours_for != (self.surface.name, self.surface.hessian_eigenvalues):
            self._draw_contours()
        num_steps = c["num_steps"].value
        rates = learning_rates(c["schedule"].value, c["learning_rate"].value, c["lr_decay"].value, num_steps)
        hyperparameters = {name: c[name].value for name in ("momentum", "decay_rate", "beta1", "beta2")}
        start = (c["start_x"].value, c["start_y"].value)
        self.trajectories = {
            rule: run_optimizer(self.surface, rule, start, rates, hyperparameters, c["noise"].value, self.seed)
            for rule in self.rules
        }
        self.rates = {rule: self._rates(rule, t) for rule, t in self.trajectories.items()}
        with self._silenced():
            c["step"].max = num_steps
            c["step"].value = num_steps
            self.play.max = num_steps
            self.play.value = num_steps
        self._draw()

    def _rates(self, rule, trajectory):
        c = self.controls
        theory_applies = self.surface.hessian_eigenvalues is not None and (
            c["schedule"].value == "constant" or c["lr_decay"].value == 0
        )
        predicted = None
        if theory_applies:
            predicted = predicted_rate(
                rule, c["learning_rate"].value, c["momentum"].value, self.surface.hessian_eigenvalues
            )
        return {"measured": measured_rate(trajectory.distances), "predicted": predicted}

    # ----------------------------------------------------------- drawing
    def _build_figure(self):
        self.figure = new_figure(figsize=(10, 4.2))
        self.ax_surface, self.ax_distance = self.figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1]})
        ax, dist = self.ax_surface, self.ax_distance
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        dist.set_yscale("log")
        dist.set_xlabel("step")
        # Text is most of the drawing time (about 1 ms per label), so keep the ticks few.
        for axis in (ax.xaxis, ax.yaxis, dist.xaxis):
            axis.set_major_locator(matplotlib.ticker.MaxNLocator(5))
        dist.yaxis.set_major_locator(matplotlib.ticker.LogLocator(numticks=5))
        dist.yaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        (self.start_marker,) = ax.plot(
            [], [], "o", color="white", markeredgecolor="black", markersize=8, zorder=5, label="start"
        )
        (self.minimum_marker,) = ax.plot([], [], "*", color="gold", markeredgecolor="black", markersize=13, zorder=5)
        self.path_lines, self.head_markers, self.diverged_markers, self.diverged_labels = {}, {}, {}, {}
        self.distance_lines, self.theory_lines = {}, {}
        for rule, label in RULE_LABELS.items():
            color = RULE_COLORS[rule]
            (self.path_lines[rule],) = ax.plot([], [], "-", color=color, lw=1.6, label=label, zorder=3)
            (self.head_markers[rule],) = ax.plot([], [], "o", color=color, markeredgecolor="black", zorder=4)
            (self.diverged_markers[rule],) = ax.plot(
                [], [], "X", color="red", markeredgecolor="black", markersize=12, zorder=6, clip_on=False
            )
            self.diverged_labels[rule] = ax.text(
                0,
                0,
                "",
                color=color,
                fontsize=8,
                fontweight="bold",
                zorder=6,
                bbox={"facecolor": "white", "alpha": 0.8, "pad": 1, "lw": 0},
            )
            (self.distance_lines[rule],) = dist.plot([], [], "-", color=color, lw=1.6, label=label)
            (self.theory_lines[rule],) = dist.plot([], [], "--", color=color, lw=1.2, alpha=0.8)
        self.figure.subplots_adjust(left=0.07, right=0.98, bottom=0.12, top=0.9, wspace=0.22)

    def _draw_contours(self):
        surface = self.surface
        ax = self.ax_surface
        if self._contours is not None:
            self._contours.remove()
        xs = np.linspace(*surface.xlim, _GRID_POINTS)
        ys = np.linspace(*surface.ylim, _GRID_POINTS)
        grid_x, grid_y = np.meshgrid(xs, ys)
        z = surface.loss(grid_x, grid_y)
        if surface.log_levels:
            height = z - z.min()
            levels = np.geomspace(max(height.max() * 1e-6, 1e-12), height.max(), 22)
            levels = np.concatenate([[0.0], levels])
        else:
            height = z
            levels = np.linspace(z.min(), z.max(), 22)
        self._contours = ax.contourf(
            grid_x,
            grid_y,
            height,
            levels=levels,
            cmap="Greys",
            norm=matplotlib.colors.BoundaryNorm(levels, 256),
            alpha=0.55,
            zorder=1,
        )
        self._contours_for = (surface.name, surface.hessian_eigenvalues)
        ax.set_xlim(surface.xlim)
        ax.set_ylim(surface.ylim)
        ax.set_title(surface.title, fontsize=10)
        quadratic = surface.hessian_eigenvalues is not None
        self.controls["condition_number"].disabled = not quadratic
        self.optimal_button.disabled = not quadratic
        self.minimum_marker.set_data([surface.reference[0]], [surface.reference[1]])
        w_star = "the minimum" if surface.reference_is_minimum else "the saddle point"
        self.ax_distance.set_ylabel(f"distance to {w_star} (log scale)")
        self.ax_distance.set_title(f"Distance to {w_star}; dashed: theory", fontsize=10)

    def _draw(self):
        """Put the computed paths, up to the shown step, into the artists."""
        shown = self.controls["step"].value
        c = self.controls
        self.start_marker.set_data([c["start_x"].value], [c["start_y"].value])
        lowest, highest = np.inf, 0.0
        for rule in RULE_LABELS:
            trajectory = self.trajectories.get(rule)
            artists = (
                self.path_lines[rule],
                self.head_markers[rule],
                self.diverged_markers[rule],
                self.diverged_labels[rule],
                self.distance_lines[rule],
                self.theory_lines[rule],
            )
            if trajectory is None:
                for artist in artists:
                    artist.set_visible(False)
                continue
            for artist in artists:
                artist.set_visible(True)
            # A diverged path is drawn up to the point where it left the window for good.
            end = shown + 1 if not trajectory.diverged else min(shown, trajectory.diverged_at) + 1
            path = trajectory.path[:end]
            self.path_lines[rule].set_data(path[:, 0], path[:, 1])
            self.head_markers[rule].set_data(path[-1:, 0], path[-1:, 1])
            self._draw_divergence(rule, trajectory, shown)
            distances = np.maximum(trajectory.distances[: shown + 1], DISTANCE_FLOOR)
            self.distance_lines[rule].set_data(np.arange(len(distances)), distances)
            lowest, highest = min(lowest, distances.min()), max(highest, distances.max())
            self._draw_theory(rule, trajectory)
        if np.isfinite(lowest):
            # At least two decades, so the log axis always has labelled ticks.
            self.ax_distance.set_ylim(min(lowest / 3, highest / 100), highest * 3)
        self.ax_distance.set_xlim(0, max(c["num_steps"].value, 1))
        visible = [line for line in self.distance_lines.values() if line.get_visible()]
        self.ax_distance.legend(handles=visible, loc="upper right", fontsize=8, framealpha=0.8)
        self.status_html.value = self._status_table()
        self.view.redraw()

    def _draw_divergence(self, rule, trajectory, shown):
        """Mark where a diverged path left the window for good (or its last point, for NaN)."""
        marker, label = self.diverged_markers[rule], self.diverged_labels[rule]
        diverged = trajectory.diverged and shown >= trajectory.diverged_at
        marker.set_visible(diverged)
        label.set_visible(diverged)
        if diverged:
            surface = self.surface
            exit_point = trajectory.path[min(trajectory.diverged_at, len(trajectory.path) - 1)]
            x, y = np.clip(exit_point, [surface.xlim[0], surface.ylim[0]], [surface.xlim[1], surface.ylim[1]])
            marker.set_data([x], [y])
            # Keep the words inside the axes: write them toward the window's centre.
            centre_x, centre_y = np.mean(surface.xlim), np.mean(surface.ylim)
            label.set_position((x, y))
            label.set_horizontalalignment("left" if x < centre_x else "right")
            label.set_verticalalignment("bottom" if y < centre_y else "top")
            label.set_text(f" {RULE_LABELS[rule]} diverged at step {trajectory.diverged_at} ")

    def _draw_theory(self, rule, trajectory):
        line = self.theory_lines[rule]
        predicted = self.rates[rule]["predicted"]
        if predicted is None:
            line.set_visible(False)
            return
        steps = np.arange(self.controls["num_steps"].value + 1)
        with np.errstate(over="ignore", under="ignore"):
            line.set_data(steps, np.maximum(trajectory.distances[0] * predicted**steps, DISTANCE_FLOOR))

    def _status_table(self):
        c = self.controls
        rows = []
        for rule, trajectory in self.trajectories.items():
            rates = self.rates[rule]
            color = matplotlib.colors.to_hex(RULE_COLORS[rule])
            rows.append(
                f"<tr><td style='color:{color}'><b>{RULE_LABELS[rule]}</b></td>"
                f"<td>{trajectory.status}</td><td>{_format_rate(rates['measured'])}</td>"
                f"<td>{_format_rate(rates['predicted'])}</td></tr>"
            )
        theory = ""
        if self.surface.hessian_eigenvalues is not None:
            curvatures = self.surface.hessian_eigenvalues
            gd_alpha, gd_rate = optimal_gradient_descent(curvatures)
            hb_alpha, hb_mu, hb_rate = optimal_heavy_ball(curvatures)
            theory = (
                f"<p>Theory for κ = {curvatures[1]:.3g}: best gradient descent α = {gd_alpha:.3g} "
                f"contracts by (κ−1)/(κ+1) = {gd_rate:.3f} per step; best heavy ball α = {hb_alpha:.3g}, "
                f"μ = {hb_mu:.3f} contracts by √μ = {hb_rate:.3f}. Predicted rates assume a constant "
                f"learning rate and no gradient noise.</p>"
            )
        settings = (
            f"learning rate {c['learning_rate'].value:.3g} · momentum {c['momentum'].value:.3f} · "
            f"{c['schedule'].value} schedule · {c['num_steps'].value} steps · "
            f"noise {c['noise'].value:.2f} · start ({c['start_x'].value:.2f}, {c['start_y'].value:.2f})"
        )
        return (
            f"<div class='optimizer-explorer-status'><p>{settings}</p>"
            "<table><tr><th>rule</th><th>status</th><th>measured rate</th><th>predicted rate</th></tr>"
            + "".join(rows)
            + f"</table>{theory}</div>"
        )


def _on_grid(slider, value):
    """Round `value` to a point the slider can show, as the browser would.

    Setting a value between the slider's steps makes the browser snap it and
    send it back: a second recomputation for nothing.
    """
    if isinstance(slider, widgets.FloatLogSlider):
        exponent = math.log(value, slider.base)
        exponent = slider.min + round((exponent - slider.min) / slider.step) * slider.step
        return slider.base**exponent
    return slider.min + round((float(value) - slider.min) / slider.step) * slider.step


def _set_range(slider, low, high, value):
    """Give `slider` the range [low, high] and `value`, whatever the old range."""
    slider.min, slider.max = min(slider.min, low), max(slider.max, high)
    slider.value = value
    slider.min, slider.max = low, high


def _format_rate(rate):
    return "—" if rate is None else f"{rate:.4f}"


def optimizer_explorer(
    surface="quadratic",
    rules=("sgd", "sgd_momentum", "adam"),
    learning_rate=None,
    num_steps=100,
    condition_number=10.0,
    seed=0,
):
    """Return an OptimizerExplorer: display it in a notebook, read its state in Python.

    Inputs:
    - surface: the starting surface, one of surfaces.SURFACE_NAMES.
    - rules: the update rules of course_lib.optim shown at first.
    - learning_rate: the starting learning rate (default: the surface's).
    - num_steps: the number of steps of every path (1 to 1000).
    - condition_number: kappa of the quadratic surface (1 to 1000).
    - seed: seed of the gradient noise (the same noise for every rule).

    Returns an OptimizerExplorer; see its docstring for the state it exposes.
    """
    return OptimizerExplorer(surface, rules, learning_rate, num_steps, condition_number, seed)
