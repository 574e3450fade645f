"""Headless tests of course_lib.widgets: set controls from Python, check state and artists."""

from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.backend_bases import MouseEvent

from course_lib import optim
from course_lib.gradcheck import numerical_gradient, rel_error
from course_lib.optlab.surfaces import SURFACE_NAMES, get_surface
from course_lib.optlab.trajectories import (
    ESCAPE_MARGIN,
    learning_rates,
    measured_rate,
    optimal_heavy_ball,
    predicted_rate,
    run_optimizer,
)
from course_lib.widgets import initialization_explorer, learning_rate_explorer, optimizer_explorer
from course_lib.widgets.learning_rate_explorer import diagnose


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
def test_explorer_state_and_artists_follow_the_learning_rate(explorer):
    lines = dict(explorer.path_lines)
    explorer.controls["learning_rate"].value = 0.05
    slow = explorer.paths["sgd"].copy()
    np.testing.assert_allclose(explorer.path_lines["sgd"].get_xydata(), slow)
    explorer.controls["learning_rate"].value = 0.15
    fast = explorer.paths["sgd"]
    assert explorer.path_lines == lines  # the same artists, updated in place
    np.testing.assert_allclose(explorer.path_lines["sgd"].get_xydata(), fast)
    assert not np.allclose(slow[:10], fast[:10])
    assert explorer.rates["sgd"]["predicted"] == pytest.approx(max(abs(1 - 0.15), abs(1 - 0.15 * 10)))
    assert "learning rate 0.15" in explorer.status_html.value


def test_explorer_shows_measured_next_to_predicted_rate(explorer):
    explorer.set(learning_rate=0.05, momentum=0.5)
    for rule in ("sgd", "sgd_momentum", "nesterov_momentum"):
        rates = explorer.rates[rule]
        assert rates["measured"] == pytest.approx(rates["predicted"], rel=0.03)
        theory = explorer.theory_lines[rule]
        assert theory.get_visible()
        np.testing.assert_allclose(
            theory.get_ydata()[:5], explorer.trajectories[rule].distances[0] * rates["predicted"] ** np.arange(5)
        )
    assert f"{explorer.rates['sgd']['predicted']:.4f}" in explorer.status_html.value


def test_explorer_marks_divergence(explorer):
    explorer.set(learning_rate=0.25)
    assert explorer.status["sgd"].startswith("diverged at step")
    assert explorer.diverged_markers["sgd"].get_visible()
    k = explorer.trajectories["sgd"].diverged_at
    assert len(explorer.trajectories["sgd"].path) > k + 1  # computed on until far out...
    drawn = explorer.path_lines["sgd"].get_xydata()
    np.testing.assert_allclose(drawn, explorer.paths["sgd"][: k + 1])  # ...but drawn only to the exit
    assert explorer.diverged_labels["sgd"].get_text().strip() == f"SGD diverged at step {k}"
    assert "diverged at step" in explorer.status_html.value
    explorer.controls["step"].value = k - 1  # replaying: not diverged yet
    assert not explorer.diverged_markers["sgd"].get_visible()
    explorer.set(learning_rate=0.05)
    assert not explorer.diverged_markers["sgd"].get_visible()
    assert not explorer.diverged_labels["sgd"].get_visible()


def test_explorer_rule_toggles_hide_and_show(explorer):
    explorer.rule_buttons["adam"].value = True
    assert "adam" in explorer.paths and explorer.path_lines["adam"].get_visible()
    explorer.rule_buttons["sgd"].value = False
    assert "sgd" not in explorer.paths and not explorer.path_lines["sgd"].get_visible()
    explorer.set(rules=("rmsprop",))
    assert list(explorer.paths) == ["rmsprop"]


def test_explorer_play_slider_shows_a_prefix_of_the_path(explorer):
    explorer.controls["step"].value = 7
    path = explorer.paths["sgd"]
    np.testing.assert_allclose(explorer.path_lines["sgd"].get_xydata(), path[:8])
    np.testing.assert_allclose(explorer.head_markers["sgd"].get_xydata(), path[7:8])
    explorer.step_button.click()
    assert len(explorer.path_lines["sgd"].get_xydata()) == 9
    explorer.controls["num_steps"].value = 50
    assert explorer.controls["step"].value == 50 and explorer.play.max == 50
    assert len(explorer.path_lines["sgd"].get_xydata()) == 51


def test_explorer_click_on_contour_sets_the_start(explorer):
    x_pixels, y_pixels = explorer.ax_surface.transData.transform((1.0, -0.5))
    event = MouseEvent("button_press_event", explorer.figure.canvas, x_pixels, y_pixels, button=1)
    explorer.figure.canvas.callbacks.process("button_press_event", event)
    assert explorer.controls["start_x"].value == pytest.approx(1.0)
    assert explorer.controls["start_y"].value == pytest.approx(-0.5)
    np.testing.assert_allclose(explorer.paths["sgd"][0], [1.0, -0.5])
    np.testing.assert_allclose(explorer.start_marker.get_xydata(), [[1.0, -0.5]])


def test_explorer_switches_surfaces(explorer):
    explorer.set(rules=tuple(optim.UPDATE_RULES))
    for name in SURFACE_NAMES:
        explorer.controls["surface"].value = name
        surface = get_surface(name)
        assert explorer.surface.name == name
        assert explorer.controls["start_x"].value == pytest.approx(surface.start[0])
        assert explorer.controls["learning_rate"].value == pytest.approx(surface.learning_rate, rel=1e-6)
        assert tuple(explorer.ax_surface.get_xlim()) == surface.xlim
        assert set(explorer.paths) == set(optim.UPDATE_RULES)
        for path in explorer.paths.values():
            assert np.all(np.isfinite(path))


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


def test_explorer_theory_is_off_with_a_schedule(explorer):
    explorer.set(schedule="exponential", lr_decay=0.02)
    assert explorer.rates["sgd"]["predicted"] is None
    assert not explorer.theory_lines["sgd"].get_visible()


def test_explorer_rejects_unknown_names():
    with pytest.raises(ValueError, match="sgd_momentum"):
        optimizer_explorer(rules=("sgd", "lbfgs"))
    with pytest.raises(ValueError, match="learning_rate"):
        optimizer_explorer().set(speed=3)


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


def test_initialization_explorer_artists_follow_depth_and_statistics():
    ex = initialization_explorer(num_layers=4, width=50, num_samples=100)
    ex.controls["num_layers"].value = 7
    visible = [line for line in ex.histogram_lines["activations"] if line.get_visible()]
    assert len(visible) == 7 and len(ex.stats["activations"]) == 7
    edges, counts = ex.histograms["gradients"]
    assert counts.shape == (7, len(edges) - 1)
    assert counts.sum(axis=1).tolist() == [100 * 50] * 7
    np.testing.assert_allclose(ex.std_lines["activations"].get_ydata(), ex.stats["stds"])
    np.testing.assert_allclose(ex.std_lines["gradients"].get_ydata(), ex.stats["grad_stds"])
    ex.controls["scheme"].value = "zero"
    assert np.all(ex.stats["stds"] == 0)
    assert np.all(ex.std_lines["activations"].get_ydata() > 0)  # drawn at the log axis' floor


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
