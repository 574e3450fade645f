"""The optimizer explorer: update rules racing on 2-D loss surfaces.

Pick a surface (each comes with a preset learning rate, number of steps and
start), switch update rules on and off, and move any control: every path is
recomputed with course_lib.optim in the kernel and drawn by the browser
(course_lib.widgets.plot), so a slider can be dragged and the paths follow.
Click the contour plot or move the start sliders to choose where the paths
begin; press play to watch them unfold step by step (the browser replays the
computed paths itself). The right panel shows the distance to the minimum on a
log scale, so a straight line is a constant convergence rate; on the quadratic,
dashed lines show the rate theory predicts for the rules whose step is linear
(course_lib.optim.RULES) next to the measured one.
"""

import ipywidgets as widgets
import matplotlib
import numpy as np

from course_lib.checks import check_choice
from course_lib.optim import RULES
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
from course_lib.widgets.explorer import Explorer, on_slider_grid, really_changed
from course_lib.widgets.plot import Bands, Line, Panel, Plot, Text

# Distances are drawn on a log axis; exact zeros are drawn at this floor.
DISTANCE_FLOOR = 1e-16
_GRID_POINTS = 160
_CONTOUR_LEVELS = 22
# Replay speed of the play button: frames per second (the browser draws each one).
PLAY_FPS = 40


class OptimizerExplorer(Explorer):
    """Controls, computed paths and figure of the optimizer explorer.

    Readable state (recomputed after every control change):
    - controls: dict name -> ipywidgets control (see `values`).
    - rule_buttons: dict rule -> ToggleButton that switches that rule on
      (every rule of course_lib.optim.RULES, with its label and colour).
    - surface: the current surfaces.Surface.
    - trajectories: dict rule -> trajectories.Trajectory for the rules shown.
    - paths: dict rule -> float64 array (K + 1, 2) of the points visited.
    - status: dict rule -> "converged at step k", "diverged at step k: ...", ...
    - rates: dict rule -> {"measured": float or None, "predicted": float or None}
      (predicted only on the quadratic with a constant learning rate, for the
      rules whose step is linear in w).
    - plot: the course_lib.widgets.plot.Plot drawn in the browser; its
      lines are keyed "path:RULE" (points visited, drawn up to the shown step),
      "distance:RULE", "theory:RULE", "diverged:RULE", "start" and "minimum",
      its texts "diverged:RULE", its bands "contours".
    - widget: the displayable ipywidgets box.
    """

    def __init__(self, surface, rules, learning_rate, num_steps, condition_number, seed):
        # The defaults live in optimizer_explorer(), the one way lessons build this.
        for rule in rules:
            check_choice("rules", rule, list(RULES))
        self.seed = seed
        self.surface = get_surface(surface, condition_number)
        self.trajectories = {}
        self._contours_for = None
        self._build_controls(rules, learning_rate, num_steps or self.surface.num_steps, condition_number)
        self._build_plot()
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
                description=info.label,
                tooltip=f"show or hide {info.label}",
                layout=widgets.Layout(width="130px"),
            )
            for rule, info in RULES.items()
        }
        for rule, button in self.rule_buttons.items():
            button.add_class("rule-toggle")
            button.add_class(f"rule-toggle-{rule}")
        # The browser switches a toggle's look at once (JupyterLab's mod-active class), before the kernel answers.
        self.rule_style = widgets.HTML(_rule_toggle_css(), layout=widgets.Layout(display="none"))
        self.play = widgets.Play(
            value=num_steps, min=0, max=num_steps, interval=round(1000 / PLAY_FPS), description="play"
        )
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
        box = widgets.VBox([self.rule_style, rules, widgets.HBox([left, right]), self.plot, player, self.status_html])
        box.add_class("optimizer-explorer")
        return box

    def _connect(self):
        self.controls["step"].observe(self._on_step, names="value")
        self.controls["surface"].observe(self._on_surface, names="value")
        self._watch(control for name, control in self.controls.items() if name not in ("step", "surface"))
        self._watch(self.rule_buttons.values())
        # The replay runs in the browser: the step slider drives the figure without the kernel.
        widgets.jslink((self.controls["step"], "value"), (self.plot, "step"))
        self.step_button.on_click(self._on_step_button)
        self.optimal_button.on_click(self._on_optimal)
        self.plot.on_click(self._on_click)

    def set(self, rules=None, **values):
        """Set several controls at once, then recompute once.

        Inputs:
        - rules: optional iterable of rule names to show (the others are hidden).
        - values: control name -> new value, for names in `controls`; a new
          "surface" also brings that surface's preset (start, learning rate,
          number of steps) unless `values` names them too.
        """
        for rule in rules or ():
            check_choice("rules", rule, list(RULES))
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
        """The names of the update rules switched on, in course_lib.optim.RULES order."""
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
            self.plot.step = change["new"]

    def _on_step_button(self, button):
        step = self.controls["step"]
        step.value = step.value + 1 if step.value < step.max else 0

    def _on_optimal(self, button):
        if self.surface.hessian_eigenvalues is not None:
            alpha, mu, _ = optimal_heavy_ball(self.surface.hessian_eigenvalues)
            c = self.controls
            self.set(
                learning_rate=on_slider_grid(c["learning_rate"], alpha), momentum=on_slider_grid(c["momentum"], mu)
            )

    def _on_click(self, panel, x, y):
        c = self.controls
        self.set(start_x=on_slider_grid(c["start_x"], x), start_y=on_slider_grid(c["start_y"], y))

    def _reset_for_surface(self):
        """Move the start point, window, learning rate and steps to the new surface's preset."""
        c = self.controls
        self.surface = get_surface(c["surface"].value, c["condition_number"].value)
        surface = self.surface
        _set_range(c["start_x"], *surface.xlim, surface.start[0])
        _set_range(c["start_y"], *surface.ylim, surface.start[1])
        c["learning_rate"].value = on_slider_grid(c["learning_rate"], surface.learning_rate)
        c["num_steps"].value = surface.num_steps

    # ----------------------------------------------------------- compute
    def update(self):
        """Recompute every shown path from the controls and redraw."""
        c = self.controls
        self.surface = get_surface(c["surface"].value, c["condition_number"].value)
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
            # a replay of any length takes about the same few seconds
            self.play.step = max(1, num_steps // 200)
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
    def _build_plot(self):
        self.plot = Plot(
            [
                Panel(xlabel="x", ylabel="y", weight=1.0, clickable=True),
                Panel(xlabel="step", yscale="log", weight=1.0, legend=True),
            ],
            width=880,
            height=400,
        )

    def _contour_bands(self):
        """Filled contours of the surface: grey bands, log-spaced where the values span decades."""
        surface = self.surface
        xs = np.linspace(*surface.xlim, _GRID_POINTS)
        ys = np.linspace(*surface.ylim, _GRID_POINTS)
        z = surface.loss(*np.meshgrid(xs, ys))
        if surface.log_levels:
            z = z - z.min()
            levels = np.geomspace(max(z.max() * 1e-6, 1e-12), z.max(), _CONTOUR_LEVELS)
        else:
            levels = np.linspace(z.min(), z.max(), _CONTOUR_LEVELS)
        # The first and last bands reach below and above the grid's values.
        levels = np.concatenate([[-np.inf], levels[1:-1], [np.inf]])
        # Greys at 55% over white: light in the valleys, darker up the walls.
        greys = matplotlib.colormaps["Greys"](np.linspace(0, 1, len(levels) - 1))[:, :3]
        colors = [matplotlib.colors.to_hex(1 - 0.55 * (1 - grey)) for grey in greys]
        return Bands(0, z, (*surface.xlim, *surface.ylim), levels, colors)

    def _draw(self):
        """Put the computed paths into the plot and send them to the browser."""
        c, plot, surface = self.controls, self.plot, self.surface
        if self._contours_for != (surface.name, surface.hessian_eigenvalues):
            plot.bands = {"contours": self._contour_bands()}
            self._contours_for = (surface.name, surface.hessian_eigenvalues)
        w_star = "the minimum" if surface.reference_is_minimum else "the saddle point"
        quadratic = surface.hessian_eigenvalues is not None
        c["condition_number"].disabled = not quadratic
        self.optimal_button.disabled = not quadratic
        num_steps = c["num_steps"].value
        lines = {}
        texts = {}
        lowest, highest = np.inf, 0.0
        for rule, trajectory in self.trajectories.items():
            info = RULES[rule]
            path, distances = trajectory.path, np.maximum(trajectory.distances, DISTANCE_FLOOR)
            # A diverged path is drawn up to the point where it left the window for good.
            end = None if not trajectory.diverged else trajectory.diverged_at + 1
            lines[f"path:{rule}"] = Line(
                0,
                path[:, 0],
                path[:, 1],
                info.color,
                1.8,
                marker="o",
                marker_at="last",
                marker_size=8,
                marker_edge="#000000",
                progressive=True,
                end=end,
            )
            lines[f"distance:{rule}"] = Line(
                1, np.arange(len(distances)), distances, info.color, 1.8, label=info.label, progressive=True
            )
            lowest, highest = min(lowest, distances.min()), max(highest, distances.max())
            predicted = self.rates[rule]["predicted"]
            if predicted is not None:
                steps = np.arange(num_steps + 1)
                with np.errstate(over="ignore", under="ignore"):
                    theory = np.maximum(trajectory.distances[0] * predicted**steps, DISTANCE_FLOOR)
                lines[f"theory:{rule}"] = Line(1, steps, theory, info.color, 1.3, dash=(6, 4), alpha=0.8)
            if trajectory.diverged:
                self._draw_divergence(rule, trajectory, lines, texts)
        # Drawn last, so on top of the paths (the browser draws lines in this order).
        lines["start"] = Line(
            0,
            [c["start_x"].value],
            [c["start_y"].value],
            "#ffffff",
            0,
            marker="o",
            marker_size=10,
            marker_edge="#000000",
        )
        lines["minimum"] = Line(
            0,
            [surface.reference[0]],
            [surface.reference[1]],
            "#ffd700",
            0,
            marker="*",
            marker_size=18,
            marker_edge="#000000",
        )
        plot.lines, plot.texts = lines, texts
        surface_panel, distance_panel = plot.panels
        surface_panel.title = surface.title
        surface_panel.xlim, surface_panel.ylim = surface.xlim, surface.ylim
        distance_panel.title = f"Distance to {w_star}" + ("; dashed: theory" if quadratic else "")
        distance_panel.ylabel = f"distance to {w_star} (log scale)"
        distance_panel.xlim = (0, max(num_steps, 1))
        # At least two decades, so the log axis always has labelled ticks.
        distance_panel.ylim = (min(lowest / 3, highest / 100), highest * 3) if np.isfinite(lowest) else (1e-3, 10)
        plot.step = c["step"].value
        plot.redraw()
        self.status_html.value = self._status_table()

    def _draw_divergence(self, rule, trajectory, lines, texts):
        """Mark where a diverged path left the window for good (or its last point, for NaN)."""
        surface, k = self.surface, trajectory.diverged_at
        exit_point = trajectory.path[min(k, len(trajectory.path) - 1)]
        x, y = np.clip(exit_point, [surface.xlim[0], surface.ylim[0]], [surface.xlim[1], surface.ylim[1]])
        lines[f"diverged:{rule}"] = Line(
            0, [x], [y], "#ff0000", 0, marker="x", marker_size=16, marker_edge="#000000", appear_at=k, clip=False
        )
        # Keep the words inside the axes: write them toward the window's centre.
        texts[f"diverged:{rule}"] = Text(
            0,
            x,
            y,
            f" {RULES[rule].label} diverged at step {k} ",
            RULES[rule].color,
            align="left" if x < np.mean(surface.xlim) else "right",
            baseline="bottom" if y < np.mean(surface.ylim) else "top",
            appear_at=k,
        )

    def _status_table(self):
        c = self.controls
        rows = []
        for rule, trajectory in self.trajectories.items():
            rates = self.rates[rule]
            info = RULES[rule]
            rows.append(
                f"<tr><td style='color:{info.color}'><b>{info.label}</b></td>"
                f"<td>{trajectory.status}</td><td>{trajectory.distances[-1]:.2g}</td>"
                f"<td>{_format_rate(rates['measured'])}</td><td>{_format_rate(rates['predicted'])}</td></tr>"
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
            # JupyterLab's tables have no cell padding: space the columns so the headers stay apart.
            "<table style='border-collapse: separate; border-spacing: 18px 2px; margin-left: -18px'>"
            "<tr><th>rule</th><th>status</th><th>final distance</th><th>measured rate</th>"
            "<th>predicted rate</th></tr>" + "".join(rows) + f"</table>{theory}</div>"
        )


def _rule_toggle_css():
    """Each rule's toggle in its colour: a hollow swatch when off, the whole button filled when on."""
    rules = []
    for rule, info in RULES.items():
        button = f".optimizer-explorer .rule-toggle-{rule}"
        rules.append(
            f"{button} {{color: {info.color}; background: #f7f7f7; border: 2px solid {info.color};}}\n"
            f"{button}::before {{content: ''; display: inline-block; width: 11px; height: 11px; margin-right: 6px;"
            f" vertical-align: -1px; border: 2px solid {info.color}; background: white;}}\n"
            f"{button}.mod-active {{color: white; background: {info.color}; box-shadow: none;}}\n"
            f"{button}.mod-active::before {{border-color: white; background: white;"
            f" box-shadow: inset 0 0 0 2px {info.color};}}"
        )
    return (
        "<style>\n.optimizer-explorer .rule-toggle {font-weight: bold; opacity: 1;}\n" + "\n".join(rules) + "\n</style>"
    )


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
    num_steps=None,
    condition_number=10.0,
    seed=0,
):
    """Return an OptimizerExplorer: display it in a notebook, read its state in Python.

    Inputs:
    - surface: the starting surface, one of surfaces.SURFACE_NAMES.
    - rules: names in course_lib.optim.RULES, the update rules shown at first.
    - learning_rate: the starting learning rate (default: the surface's preset).
    - num_steps: the number of steps of every path (1 to 1000; default: the
      surface's preset).
    - condition_number: kappa of the quadratic surface (1 to 1000).
    - seed: seed of the gradient noise (the same noise for every rule).

    Returns an OptimizerExplorer; see its docstring for the state it exposes.
    """
    return OptimizerExplorer(surface, rules, learning_rate, num_steps, condition_number, seed)
