"""Headless tests of course_lib.widgets: set controls from Python, check state and artists."""

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import course_lib.widgets.plot
from course_lib import optim
from course_lib.gradcheck import numerical_gradient, rel_error
from course_lib.optlab.surfaces import SURFACE_NAMES, get_surface
from course_lib.optlab.trajectories import (
    ESCAPE_MARGIN,
    iteration_matrix,
    learning_rates,
    linear_rules,
    measured_rate,
    optimal_heavy_ball,
    predicted_rate,
    run_optimizer,
)
from course_lib.plots import layer_histograms
from course_lib.widgets import initialization_explorer, learning_rate_explorer, optimizer_explorer
from course_lib.widgets.learning_rate_explorer import LearningRateExplorer, diagnose
from course_lib.widgets.plot import Bands, Line, Panel, Plot


@pytest.fixture
def explorer():
    return optimizer_explorer(rules=("sgd", "sgd_momentum", "nesterov_momentum"), num_steps=200)


# ----------------------------------------------------------------- surfaces
@pytest.mark.parametrize("name", SURFACE_NAMES)
def test_surface_gradient_matches_numerical_gradient(name):
    surface = get_surface(name, condition_number=7.0)
    rng = np.random.default_rng(0)
    for _ in range(3):
        point = np.array([rng.uniform(*surface.xlim), rng.uniform(*surface.ylim)]) * 0.5
        numeric = numerical_gradient(lambda w: surface.loss(w[0], w[1]), point.copy())
        analytic = np.array(surface.grad(point[0], point[1]))
        error = rel_error(analytic, numeric)
        print(f"{name} at {point}: rel error {error:.2e}")
        assert error < 1e-6


@pytest.mark.parametrize("name", SURFACE_NAMES)
def test_surface_reference_point_is_stationary(name):
    surface = get_surface(name)
    gx, gy = surface.grad(*surface.reference)
    assert np.hypot(gx, gy) < 1e-9
    assert surface.contains(*surface.start)


def test_unknown_surface_lists_valid_names():
    with pytest.raises(ValueError, match="rosenbrock"):
        get_surface("banana")


# ----------------------------------------------------------------- trajectories
def test_paths_are_the_update_rules_of_course_lib_optim():
    surface = get_surface("rosenbrock")
    rates = learning_rates("constant", 0.01, 0, 50)
    trajectory = run_optimizer(surface, "adam", surface.start, rates, {"beta1": 0.8, "beta2": 0.99})
    w, config = np.array(surface.start), {"beta1": 0.8, "beta2": 0.99, "learning_rate": 0.01}
    expected = [w]
    for _ in range(50):
        w, config = optim.adam(w, np.array(surface.grad(*w)), config)
        expected.append(w)
    np.testing.assert_allclose(trajectory.path, np.array(expected))


@pytest.mark.parametrize(
    "schedule, function",
    [
        ("exponential", lambda t: optim.exponential_decay(0.1, t, 0.05)),
        ("inverse_time", lambda t: optim.inverse_time_decay(0.1, t, 0.05)),
        ("step", lambda t: optim.step_decay(0.1, t, drop=0.5, every=14)),  # round(ln 2 / 0.05) = 14
        ("constant", lambda t: 0.1),
    ],
)
def test_learning_rate_schedules_use_course_lib_optim(schedule, function):
    rates = learning_rates(schedule, 0.1, 0.05, 40)
    np.testing.assert_allclose(rates, [function(t) for t in range(40)])


def test_gradient_descent_rate_on_quadratic_matches_theory():
    kappa, alpha = 10.0, 0.05
    surface = get_surface("quadratic", kappa)
    trajectory = run_optimizer(surface, "sgd", surface.start, learning_rates("constant", alpha, 0, 300))
    predicted = predicted_rate("sgd", alpha, 0.0, (1.0, kappa))
    assert predicted == pytest.approx(max(abs(1 - alpha), abs(1 - alpha * kappa)))
    assert measured_rate(trajectory.distances) == pytest.approx(predicted, rel=1e-6)
    assert trajectory.status.startswith("converged at step")


@pytest.mark.parametrize("rule", ["sgd_momentum", "nesterov_momentum"])
def test_momentum_rate_on_quadratic_matches_iteration_matrix(rule):
    kappa, alpha, mu = 20.0, 0.05, 0.6
    surface = get_surface("quadratic", kappa)
    trajectory = run_optimizer(
        surface, rule, surface.start, learning_rates("constant", alpha, 0, 400), {"momentum": mu}
    )
    predicted = predicted_rate(rule, alpha, mu, (1.0, kappa))
    measured = measured_rate(trajectory.distances)
    print(f"{rule}: predicted {predicted:.4f}, measured {measured:.4f}")
    assert predicted < 1
    assert measured == pytest.approx(predicted, rel=0.03)


def test_heavy_ball_at_optimal_tuning_contracts_by_sqrt_momentum():
    kappa = 100.0
    alpha, mu, rate = optimal_heavy_ball((1.0, kappa))
    assert rate == pytest.approx((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1))
    assert predicted_rate("sgd_momentum", alpha, mu, (1.0, kappa)) == pytest.approx(np.sqrt(mu), rel=1e-6)
    surface = get_surface("quadratic", kappa)
    momentum = run_optimizer(
        surface, "sgd_momentum", surface.start, learning_rates("constant", alpha, 0, 300), {"momentum": mu}
    )
    plain = run_optimizer(surface, "sgd", surface.start, learning_rates("constant", alpha, 0, 300))
    assert momentum.distances[-1] < 1e-6 < plain.distances[-1]


def test_adaptive_rules_have_no_linear_theory():
    assert predicted_rate("adam", 0.1, 0.9, (1.0, 10.0)) is None


def test_divergence_stops_the_path_and_says_so():
    surface = get_surface("quadratic", 10.0)
    trajectory = run_optimizer(surface, "sgd", surface.start, learning_rates("constant", 0.25, 0, 200))
    assert trajectory.diverged
    k = trajectory.diverged_at
    assert trajectory.status == f"diverged at step {k}: left the plot"
    assert len(trajectory.path) < 201  # stopped early
    assert not surface.contains(*trajectory.path[-1], margin=ESCAPE_MARGIN)
    assert surface.contains(*trajectory.path[k - 1])
    assert not any(surface.contains(*point) for point in trajectory.path[k:])


def test_overshoot_that_comes_back_is_not_divergence():
    kappa = 1000.0
    alpha, mu, _ = optimal_heavy_ball((1.0, kappa))
    surface = get_surface("quadratic", kappa)
    trajectory = run_optimizer(
        surface, "sgd_momentum", (-2.5, 1.5), learning_rates("constant", alpha, 0, 400), {"momentum": mu}
    )
    assert not all(surface.contains(*point) for point in trajectory.path)  # it did leave the window
    assert not trajectory.diverged and trajectory.distances[-1] < 1e-3


def test_saddle_escapes_unless_started_on_the_ridge():
    surface = get_surface("saddle")
    rates = learning_rates("constant", 0.05, 0, 300)
    assert "left the plot" in run_optimizer(surface, "sgd", (-1.8, 0.01), rates).status
    stuck = run_optimizer(surface, "sgd", (-1.8, 0.0), rates)
    assert stuck.status.startswith("stuck at step")
    assert stuck.distances[-1] < 1e-9


def test_momentum_crosses_into_the_deeper_well():
    surface = get_surface("two_well")
    rates = learning_rates("constant", 0.02, 0, 400)
    plain = run_optimizer(surface, "sgd_momentum", surface.start, rates, {"momentum": 0.5})
    heavy = run_optimizer(surface, "sgd_momentum", surface.start, rates, {"momentum": 0.9})
    assert plain.status.startswith("stuck") and plain.path[-1][0] > 0
    assert heavy.status.startswith("converged") and heavy.path[-1][0] < 0


def test_gradient_noise_is_seeded():
    surface = get_surface("quadratic")
    rates = learning_rates("constant", 0.1, 0, 50)
    a = run_optimizer(surface, "sgd", surface.start, rates, noise=0.5, seed=1).path
    b = run_optimizer(surface, "sgd", surface.start, rates, noise=0.5, seed=1).path
    clean = run_optimizer(surface, "sgd", surface.start, rates).path
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - clean).max() > 1e-3


# ----------------------------------------------------------------- optimizer explorer
def drawn(explorer, key):
    """The points the browser draws for a line at the explorer's current step."""
    return explorer.plot.lines[key].drawn(explorer.plot.step)


def test_explorer_state_and_plot_follow_the_learning_rate(explorer):
    sent = explorer.plot.frames_sent
    explorer.controls["learning_rate"].value = 0.05
    slow = explorer.paths["sgd"].copy()
    np.testing.assert_allclose(drawn(explorer, "path:sgd"), slow)
    explorer.controls["learning_rate"].value = 0.15
    fast = explorer.paths["sgd"]
    assert explorer.plot.frames_sent == sent + 2  # one message to the browser per change
    np.testing.assert_allclose(drawn(explorer, "path:sgd"), fast)
    assert not np.allclose(slow[:10], fast[:10])
    assert explorer.rates["sgd"]["predicted"] == pytest.approx(max(abs(1 - 0.15), abs(1 - 0.15 * 10)))
    assert "learning rate 0.15" in explorer.status_html.value


def test_explorer_sends_the_paths_as_binary_buffers(explorer):
    series = {item["key"]: item for item in explorer.plot._series}
    path = series["path:sgd"]
    assert isinstance(path["x"], memoryview) and path["x"].format == "d"
    np.testing.assert_array_equal(np.asarray(path["x"]), explorer.paths["sgd"][:, 0])
    np.testing.assert_array_equal(np.asarray(path["y"]), explorer.paths["sgd"][:, 1])
    assert path["color"] == optim.RULES["sgd"].color and path["progressive"]
    assert series["distance:sgd"]["label"] == "SGD"
    panels = explorer.plot._panels
    assert panels[0]["clickable"] and panels[1]["yscale"] == "log" and panels[1]["legend"]
    (bands,) = explorer.plot._bands
    assert bands["nx"] * bands["ny"] * 8 == np.asarray(bands["z"]).nbytes
    assert len(bands["colors"]) == len(np.asarray(bands["levels"])) - 1


def test_explorer_shows_measured_next_to_predicted_rate(explorer):
    explorer.set(learning_rate=0.05, momentum=0.5)
    for rule in ("sgd", "sgd_momentum", "nesterov_momentum"):
        rates = explorer.rates[rule]
        assert rates["measured"] == pytest.approx(rates["predicted"], rel=0.03)
        theory = explorer.plot.lines[f"theory:{rule}"]
        np.testing.assert_allclose(
            theory.y[:5], explorer.trajectories[rule].distances[0] * rates["predicted"] ** np.arange(5)
        )
        assert theory.dash and theory.color == optim.RULES[rule].color
    assert f"{explorer.rates['sgd']['predicted']:.4f}" in explorer.status_html.value


def test_explorer_marks_divergence(explorer):
    explorer.set(learning_rate=0.25)
    assert explorer.status["sgd"].startswith("diverged at step")
    k = explorer.trajectories["sgd"].diverged_at
    assert len(explorer.trajectories["sgd"].path) > k + 1  # computed on until far out...
    np.testing.assert_allclose(drawn(explorer, "path:sgd"), explorer.paths["sgd"][: k + 1])  # ...drawn to the exit
    marker, label = explorer.plot.lines["diverged:sgd"], explorer.plot.texts["diverged:sgd"]
    assert marker.shown(explorer.plot.step) == 1
    assert label.text.strip() == f"SGD diverged at step {k}"
    assert "diverged at step" in explorer.status_html.value
    explorer.controls["step"].value = k - 1  # replaying: not diverged yet
    assert explorer.plot.step == k - 1 and marker.shown(explorer.plot.step) == 0
    explorer.set(learning_rate=0.05)
    assert "diverged:sgd" not in explorer.plot.lines and "diverged:sgd" not in explorer.plot.texts


def test_explorer_rule_toggles_hide_and_show(explorer):
    explorer.rule_buttons["adam"].value = True
    assert "adam" in explorer.paths and "path:adam" in explorer.plot.lines
    explorer.rule_buttons["sgd"].value = False
    assert "sgd" not in explorer.paths and "path:sgd" not in explorer.plot.lines
    explorer.set(rules=("rmsprop",))
    assert list(explorer.paths) == ["rmsprop"]
    assert [key for key in explorer.plot.lines if key.startswith("path:")] == ["path:rmsprop"]


def test_explorer_toggles_come_from_the_rule_registry(explorer):
    assert list(explorer.rule_buttons) == list(optim.RULES)
    for rule, button in explorer.rule_buttons.items():
        info = optim.RULES[rule]
        assert button.description == info.label
        assert f"rule-toggle-{rule}" in button._dom_classes
        # the toggle's colours, on and off, are the rule's colour from the registry
        assert f".rule-toggle-{rule}.mod-active {{color: white; background: {info.color};" in explorer.rule_style.value


def test_explorer_play_slider_shows_a_prefix_of_the_path(explorer):
    explorer.controls["step"].value = 7
    path = explorer.paths["sgd"]
    assert explorer.plot.step == 7
    np.testing.assert_allclose(drawn(explorer, "path:sgd"), path[:8])
    assert explorer.plot.lines["path:sgd"].marker_at == "last"  # the head marker sits on path[7]
    assert len(drawn(explorer, "distance:sgd")) == 8
    assert len(drawn(explorer, "theory:sgd")) == 201  # theory is drawn whole
    explorer.step_button.click()
    assert len(drawn(explorer, "path:sgd")) == 9
    explorer.controls["num_steps"].value = 50
    assert explorer.controls["step"].value == 50 and explorer.play.max == 50
    assert len(drawn(explorer, "path:sgd")) == 51


def test_explorer_click_on_contour_sets_the_start(explorer):
    explorer.plot.click(0, 1.0, -0.5)
    assert explorer.controls["start_x"].value == pytest.approx(1.0)
    assert explorer.controls["start_y"].value == pytest.approx(-0.5)
    np.testing.assert_allclose(explorer.paths["sgd"][0], [1.0, -0.5])
    np.testing.assert_allclose(drawn(explorer, "start"), [[1.0, -0.5]])
    explorer.plot.click(1, 50, 1e-3)  # the distance panel is not clickable
    assert explorer.controls["start_x"].value == pytest.approx(1.0)


def test_explorer_click_message_from_the_browser_sets_the_start(explorer):
    explorer.plot._on_message(explorer.plot, {"event": "click", "panel": 0, "x": -1.004, "y": 0.497}, [])
    assert (explorer.controls["start_x"].value, explorer.controls["start_y"].value) == pytest.approx((-1.0, 0.5))


def test_explorer_switches_surfaces_to_their_presets(explorer):
    explorer.set(rules=tuple(optim.RULES))
    for name in SURFACE_NAMES:
        explorer.controls["surface"].value = name
        surface = get_surface(name)
        assert explorer.surface.name == name
        assert explorer.controls["start_x"].value == pytest.approx(surface.start[0])
        # on the log slider's grid (0.001 in log10), as the browser would show it
        assert explorer.controls["learning_rate"].value == pytest.approx(surface.learning_rate, rel=0.0012)
        assert explorer.controls["num_steps"].value == surface.num_steps
        assert tuple(explorer.plot.panels[0].xlim) == surface.xlim
        assert explorer.plot.panels[0].title == surface.title
        assert set(explorer.paths) == set(optim.RULES)
        for path in explorer.paths.values():
            assert np.all(np.isfinite(path))


def test_every_surface_preset_shows_something_to_see():
    """With its own defaults each surface separates the lecture's rules: not all alike, not all stalled."""
    for name in SURFACE_NAMES:
        ex = optimizer_explorer(surface=name, rules=("sgd", "sgd_momentum", "nesterov_momentum", "adam"))
        final = {rule: t.distances[-1] for rule, t in ex.trajectories.items()}
        outcomes = {status.split(" at ")[0].split(" after ")[0] for status in ex.status.values()}
        print(name, ex.status, final)
        spread = max(final.values()) / max(min(final.values()), 1e-300)
        assert len(outcomes) > 1 or spread > 10, f"{name}: every rule ends alike: {ex.status}"
    rosenbrock = optimizer_explorer(surface="rosenbrock", rules=("sgd", "sgd_momentum", "nesterov_momentum"))
    distances = {rule: t.distances[-1] for rule, t in rosenbrock.trajectories.items()}
    assert distances["sgd_momentum"] < 0.05 and distances["nesterov_momentum"] < 0.05
    assert distances["sgd"] > 1  # still crawling along the valley
    beale = optimizer_explorer(surface="beale", rules=("sgd", "sgd_momentum", "nesterov_momentum", "adam"))
    converged = {rule for rule, status in beale.status.items() if status.startswith("converged")}
    assert converged == {"sgd_momentum", "nesterov_momentum"}


def test_explorer_condition_number_changes_theory(explorer):
    start = explorer.controls["start_x"].value
    explorer.set(learning_rate=0.015)
    explorer.controls["condition_number"].value = 100.0
    assert explorer.controls["learning_rate"].value == 0.015  # kept, unlike a change of surface
    assert explorer.controls["start_x"].value == start
    assert explorer.surface.hessian_eigenvalues == (1.0, 100.0)
    assert explorer.rates["sgd"]["predicted"] == pytest.approx(1 - 0.015)
    explorer.optimal_button.click()
    alpha, mu, rate = optimal_heavy_ball((1.0, 100.0))
    # Both on their sliders' steps: 0.001 in log10 of the learning rate, 0.001 in momentum.
    assert explorer.controls["learning_rate"].value == pytest.approx(alpha, rel=0.0012)
    assert explorer.controls["momentum"].value == pytest.approx(mu, abs=0.0005)
    assert explorer.rates["sgd_momentum"]["predicted"] == pytest.approx(rate, abs=0.02)


def test_explorer_contours_are_sent_once_per_surface(explorer):
    revision = explorer.plot._bands[0]["revision"]
    explorer.controls["momentum"].value = 0.5
    assert explorer.plot._bands[0]["revision"] == revision  # a path change does not resend the grid
    explorer.controls["condition_number"].value = 50.0
    assert explorer.plot._bands[0]["revision"] == revision + 1


def test_explorer_theory_is_off_with_a_schedule(explorer):
    explorer.set(schedule="exponential", lr_decay=0.02)
    assert explorer.rates["sgd"]["predicted"] is None
    assert "theory:sgd" not in explorer.plot.lines


def test_explorer_rejects_unknown_names():
    with pytest.raises(ValueError, match="sgd_momentum"):
        optimizer_explorer(rules=("sgd", "lbfgs"))
    with pytest.raises(ValueError, match="learning_rate"):
        optimizer_explorer().set(speed=3)


# ----------------------------------------------------------------- the update-rule registry
def test_registry_holds_every_rule_with_a_label_and_a_distinct_colour():
    assert list(optim.UPDATE_RULES) == list(optim.RULES)
    colors = [info.color for info in optim.RULES.values()]
    assert len(set(colors)) == len(colors)
    for name, info in optim.RULES.items():
        assert optim.get_update_rule(name) is info.update is optim.UPDATE_RULES[name]
        assert info.label and info.update.__name__ == name
        assert len(info.color) == 7 and int(info.color[1:], 16) >= 0


def test_registry_says_which_rules_the_linear_theory_covers():
    assert linear_rules() == ["sgd", "sgd_momentum", "nesterov_momentum"]
    for rule in ("adagrad", "rmsprop", "adam"):
        assert predicted_rate(rule, 0.1, 0.9, (1.0, 10.0)) is None


@pytest.mark.parametrize("rule", ["sgd", "sgd_momentum", "nesterov_momentum"])
def test_registry_iteration_matrix_is_one_step_of_the_rule(rule):
    """The matrix stated next to the rule maps (w, v) to what the rule itself computes on a 1-D quadratic."""
    alpha, mu, curvature = 0.07, 0.6, 3.0
    w, config = np.array([1.3]), {"learning_rate": alpha, "momentum": mu, "velocity": np.array([0.4])}
    state = np.array([1.3, 0.4])[: 1 if rule == "sgd" else 2]
    next_w, config = optim.RULES[rule].update(w, curvature * w, config)
    expected = np.array([next_w[0], config["velocity"][0]])[: state.size]
    np.testing.assert_allclose(iteration_matrix(rule, alpha, mu, curvature) @ state, expected)


def test_a_rule_added_to_the_registry_reaches_the_explorer(monkeypatch):
    """Adding a rule is one entry in optim.RULES: label, colour, toggle and theory follow."""

    def sign_sgd(w, dw, config=None):
        config = {} if config is None else config
        return w - config.get("learning_rate", 1e-2) * np.sign(dw), config

    monkeypatch.setitem(optim.RULES, "sign_sgd", optim.RuleInfo(sign_sgd, "signSGD", "#17becf"))
    ex = optimizer_explorer(rules=("sgd", "sign_sgd"), num_steps=20)
    assert ex.rule_buttons["sign_sgd"].description == "signSGD"
    path = ex.paths["sign_sgd"]
    np.testing.assert_allclose(np.abs(np.diff(path, axis=0)), ex.controls["learning_rate"].value)
    assert ex.plot.lines["path:sign_sgd"].color == "#17becf"
    assert ex.rates["sign_sgd"]["predicted"] is None
    assert "signSGD" in ex.status_html.value and "#17becf" in ex.rule_style.value


def test_importing_the_optimization_lab_loads_no_widgets_and_no_solver():
    code = (
        "import sys, course_lib.optlab, course_lib.optlab.surfaces, course_lib.optlab.trajectories\n"
        "heavy = ['ipywidgets', 'anywidget', 'matplotlib', 'course_lib.widgets', 'course_lib.solver']\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith(tuple(heavy))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# ----------------------------------------------------------------- the browser-drawn plot
def test_plot_lines_show_what_the_browser_draws_at_each_step():
    line = Line(0, np.arange(10.0), np.arange(10.0) ** 2, progressive=True, end=6)
    assert [line.shown(step) for step in (-1, 0, 3, 5, 9)] == [6, 1, 4, 6, 6]
    marker = Line(0, [1.0], [2.0], line_width=0, marker="x", appear_at=4)
    assert [marker.shown(step) for step in (-1, 3, 4)] == [1, 0, 1]
    np.testing.assert_array_equal(line.drawn(2), [[0, 0], [1, 1], [2, 4]])
    with pytest.raises(ValueError, match="x and y"):
        Line(0, [1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="marker"):
        Line(0, [1.0], [1.0], marker="triangle").state("bad")


def test_plot_sends_bands_only_when_they_change_and_checks_their_colours():
    plot = Plot([Panel(), Panel(clickable=True)])
    z = np.arange(12.0).reshape(3, 4)
    plot.bands = {"grid": Bands(0, z, (0, 1, 0, 1), np.array([-np.inf, 5, np.inf]), ["#ffffff", "#000000"])}
    plot.redraw()
    plot.redraw()
    assert plot._bands[0]["revision"] == 1 and (plot._bands[0]["nx"], plot._bands[0]["ny"]) == (4, 3)
    plot.bands = {"grid": Bands(0, z, (0, 1, 0, 1), np.array([0.0, 1.0, 2.0]), ["#ffffff"])}
    with pytest.raises(ValueError, match="one colour per band"):
        plot.redraw()
    clicks = []
    plot.on_click(lambda panel, x, y: clicks.append((panel, x, y)))
    plot.click(0, 0.5, 0.5)  # not clickable
    plot.click(1, 0.25, 0.75)
    assert clicks == [(1, 0.25, 0.75)]
    with pytest.raises(ValueError, match="yscale"):
        Plot([Panel(yscale="symlog")]).redraw()


def test_plot_ships_its_javascript_in_the_package():
    source = (Path(course_lib.widgets.plot.__file__).parent / "plot.js").read_text()
    assert Plot([Panel()])._esm == source
    assert "export default" in source and "http" not in source.split("\n", 1)[1]  # nothing from a CDN


# ----------------------------------------------------------------- initialization explorer
def test_initialization_explorer_shows_the_lecture_statistics():
    ex = initialization_explorer(num_layers=6, width=100, num_samples=200)
    ex.set(nonlinearity="tanh", scheme="small")
    small = ex.stats["stds"]
    assert small[-1] < 1e-3 * small[0]  # activations collapse toward zero
    ex.set(scheme="large")
    assert np.all(ex.stats["stds"] > 0.9)  # tanh saturates at +-1
    ex.set(nonlinearity="relu", scheme="he")
    he = ex.stats["stds"]
    assert 0.3 < he[-1] / he[0] < 3
    assert "initialization-explorer-stds" in ex.std_table.value
    assert f"{he[-1]:.3g}" in ex.std_table.value


def test_initialization_explorer_plot_follows_depth_and_statistics():
    ex = initialization_explorer(num_layers=4, width=50, num_samples=100)
    ex.controls["num_layers"].value = 7
    histograms = [key for key in ex.plot.lines if key.startswith("activations:")]
    assert len(histograms) == 7 and len(ex.stats["activations"]) == 7
    edges, counts = ex.histograms["gradients"]
    assert counts.shape == (7, len(edges) - 1)
    assert counts.sum(axis=1).tolist() == [100 * 50] * 7
    # layer 3's histogram: a step line over the shared edges, lifted to height 3, peak at 3.9
    layer3 = ex.plot.lines["gradients:3"]
    np.testing.assert_array_equal(layer3.x[::2], edges[:-1])
    heights = np.sqrt(counts[2]) / np.sqrt(counts[2]).max()
    np.testing.assert_allclose(layer3.y[::2], 3 + 0.9 * heights)
    np.testing.assert_allclose(ex.plot.lines["std:activations"].y, ex.stats["stds"])
    np.testing.assert_allclose(ex.plot.lines["std:gradients"].y, ex.stats["grad_stds"])
    assert ex.plot.panels[0].ylim == (0.8, 8.1) and ex.plot.title == "7 layers of width 50"
    ex.controls["scheme"].value = "zero"
    assert np.all(ex.stats["stds"] == 0)
    assert np.all(ex.plot.lines["std:activations"].y > 0)  # drawn at the log axis' floor


def test_layer_histograms_count_as_numpy_does():
    rng = np.random.default_rng(3)
    layers = [rng.normal(size=(40, 30)), rng.uniform(-2, 5, size=900), np.array([5.0, -2.0, 0.0])]
    edges, counts = layer_histograms(layers, bins=17)
    for values, layer_counts in zip(layers, counts):
        np.testing.assert_array_equal(layer_counts, np.histogram(values, bins=edges)[0])  # extremes included
    edges, counts = layer_histograms([np.zeros(5)], bins=4)  # one value: a unit range around it
    np.testing.assert_array_equal(edges, [-1, -0.5, 0, 0.5, 1]) and np.testing.assert_array_equal(
        counts, [[0, 0, 5, 0]]
    )


def test_explorer_ignores_the_browsers_rounding_echo(explorer):
    computed = explorer.trajectories
    explorer.controls["momentum"].value = 0.9000000000000001  # what the browser sends back for 0.9
    assert explorer.trajectories is computed  # not recomputed
    explorer.controls["momentum"].value = 0.8
    assert explorer.trajectories is not computed


# ----------------------------------------------------------------- learning-rate explorer
def fake_solver(losses, train_acc, val_acc, stop_reason=None):
    return SimpleNamespace(
        loss_history=list(losses),
        train_acc_history=[0.1, train_acc],
        val_acc_history=[0.1, val_acc],
        stopped_early=stop_reason is not None,
        stop_reason=stop_reason,
    )


def test_diagnose_names_each_outcome():
    falling = np.linspace(2.3, 0.3, 50)
    assert diagnose(fake_solver(falling, 0.9, 0.88))[0] == "about right"
    assert diagnose(fake_solver(falling, 0.99, 0.8))[0] == "overfitting"
    assert diagnose(fake_solver(np.linspace(2.3, 2.2, 50), 0.2, 0.2))[0] == "too low"
    verdict, why = diagnose(fake_solver([2.3, 9.0], 0.1, 0.1, stop_reason="Stopped early: the loss exploded"))
    assert verdict == "too high" and "exploded" in why


@pytest.fixture(scope="module")
def lr_explorer():
    return learning_rate_explorer(learning_rate=0.5, num_epochs=10)


@pytest.mark.parametrize(
    "values, verdict",
    [
        ({"learning_rate": 1e-5, "num_train": 1257, "num_epochs": 3}, "too low"),
        ({"learning_rate": 10.0, "num_train": 1257, "num_epochs": 3}, "too high"),
        ({"learning_rate": 0.5, "num_train": 1257, "num_epochs": 10}, "about right"),
        ({"learning_rate": 0.5, "num_train": 50, "num_epochs": 50}, "overfitting"),
    ],
)
def test_learning_rate_explorer_shows_each_regime(lr_explorer, values, verdict):
    lr_explorer.set(**values)
    solver = lr_explorer.solver
    print(values, lr_explorer.diagnosis)
    assert lr_explorer.diagnosis[0] == verdict
    assert solver.X_train.shape[0] == values["num_train"]
    assert solver.optim_configs["W1"]["learning_rate"] == pytest.approx(values["learning_rate"])
    assert f"<b>{verdict}</b>" in lr_explorer.diagnosis_html.value
    assert lr_explorer.figure._suptitle.get_text().endswith(verdict)
    loss_ax, acc_ax, ratio_ax = (lr_explorer.axes[k] for k in ("loss", "accuracy", "ratio"))
    np.testing.assert_allclose(loss_ax.lines[0].get_ydata(), solver.loss_history)
    np.testing.assert_allclose(acc_ax.lines[0].get_ydata(), solver.train_acc_history)
    np.testing.assert_allclose(acc_ax.lines[1].get_ydata(), solver.val_acc_history)
    labels = [t.get_text() for t in ratio_ax.get_legend().get_texts()]
    assert labels == ["W1", "W2", "1e-3 reference"]
    np.testing.assert_allclose(ratio_ax.lines[0].get_ydata(), solver.update_ratio_history["W1"])


def test_learning_rate_explorer_follows_the_dataset_switch(monkeypatch):
    """COURSE_DATASET picks the data, its shapes and its training-set sizes (loading faked: no network)."""
    module = sys.modules[LearningRateExplorer.__module__]  # the module, not the function of that name
    loaded = []

    def fake_load_dataset(name, num_train=None, seed=0):
        loaded.append((name, num_train))
        rng = np.random.default_rng(seed)
        count = 300 if num_train is None or num_train > 300 else num_train
        return {
            "X_train": rng.normal(size=(count, 3, 32, 32)),
            "y_train": rng.integers(0, 10, count),
            "X_val": rng.normal(size=(20, 3, 32, 32)),
            "y_val": rng.integers(0, 10, 20),
        }

    monkeypatch.setattr(module, "load_dataset", fake_load_dataset)
    monkeypatch.setenv("COURSE_DATASET", "cifar10")
    ex = learning_rate_explorer(num_epochs=1)
    assert ex.dataset.name == "cifar10" and loaded[0] == ("cifar10", 5000)  # at most lesson_train images
    assert ex.training_sizes == (50, 100, 200, 300)
    assert ex.solver.model.params["W1"].shape == (3 * 32 * 32, 100) and ex.solver.model.params["W2"].shape[1] == 10
    ex.set(num_train=50)
    assert loaded[-1] == ("cifar10", 50) and ex.solver.X_train.shape[0] == 50
    monkeypatch.setenv("COURSE_DATASET", "mnist")
    with pytest.raises(ValueError, match="COURSE_DATASET"):
        learning_rate_explorer()


def test_learning_rate_explorer_offers_the_whole_digits_training_set(lr_explorer):
    assert lr_explorer.dataset.name == "digits"
    assert lr_explorer.training_sizes == (50, 100, 200, 500, 1000, 1257)
    assert tuple(lr_explorer.controls["num_train"].options) == lr_explorer.training_sizes


def test_learning_rate_explorer_regularization_reaches_the_model(lr_explorer):
    lr_explorer.set(reg=0.1, num_train=100, num_epochs=2)
    assert lr_explorer.solver.model.reg == 0.1
    with pytest.raises(ValueError, match=r"0.001"):
        lr_explorer.set(reg=0.5)


def test_a_path_that_starts_outside_the_plot_and_escapes_is_diverged_from_step_0():
    saddle = get_surface("saddle")
    trajectory = run_optimizer(saddle, "sgd", (0.0, 3.0), learning_rates("constant", 0.5, 0.0, 200))
    assert trajectory.diverged_at == 0
    assert trajectory.status == "diverged at step 0: left the plot"
