"""course_lib.plots: each figure holds the data it was given, with title, labels and legend."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_lib import plots
from course_lib.data import load_dataset
from course_lib.initialization import activation_statistics
from course_lib.models import FullyConnectedNet
from course_lib.solver import Solver


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def stats():
    return activation_statistics("tanh", "xavier", num_layers=4, width=30, num_samples=50, seed=0)


def assert_labelled(ax, title, xlabel, ylabel):
    """The axes carry exactly these title and axis labels (an empty or placeholder label fails)."""
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == (title, xlabel, ylabel)


def test_activation_histograms_one_panel_per_layer(stats):
    fig, axes = plots.activation_histograms(stats, bins=20)
    assert len(axes) == 4
    assert fig._suptitle.get_text() == "Activations per layer"
    for layer, (ax, values) in enumerate(zip(axes, stats["activations"]), start=1):
        heights = [patch.get_height() for patch in ax.patches]
        assert len(heights) == 20 and sum(heights) == values.size
        assert f"layer {layer}" in ax.get_title() and f"std {values.std():.2g}" in ax.get_title()
        assert ax.get_xlabel() == "activation"
    assert axes[0].get_ylabel() == "count"


def test_gradient_histograms_use_the_gradients(stats):
    _fig, axes = plots.gradient_histograms(stats, bins=10)
    edges = [patch.get_x() for patch in axes[0].patches]
    low = min(g.min() for g in stats["gradients"])
    assert edges[0] == pytest.approx(low)
    assert f"std {stats['gradients'][2].std():.2g}" in axes[2].get_title()


def test_smooth_is_a_bias_corrected_moving_average():
    values = np.array([4.0, 2.0, 3.0, 1.0])
    smoothed = plots.smooth(values, 0.5)
    assert smoothed[0] == values[0]  # bias correction: no pull toward 0
    average, expected = 0.0, []
    for t, v in enumerate(values, start=1):
        average = 0.5 * average + 0.5 * v
        expected.append(average / (1 - 0.5**t))
    np.testing.assert_allclose(smoothed, expected)
    np.testing.assert_array_equal(plots.smooth(values, 0.0), values)
    with pytest.raises(ValueError, match="smoothing"):
        plots.smooth(values, 1.0)


def test_loss_curve_raw_and_smoothed():
    losses = np.linspace(2.3, 0.5, 30) + 0.1 * np.sin(np.arange(30))
    _fig, ax = plots.loss_curve(losses, smoothing=0.8)
    assert_labelled(ax, "Training loss", "iteration", "loss")
    np.testing.assert_allclose(ax.lines[0].get_ydata(), losses)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), plots.smooth(losses, 0.8))
    assert len(ax.get_legend().get_texts()) == 2
    _, plain = plots.loss_curve(losses)
    assert len(plain.lines) == 1


def test_loss_curves_of_two_runs_share_axes_with_their_labels():
    losses = np.linspace(2.3, 0.5, 30)
    _, ax = plots.loss_curve(losses, label="with BN")
    plots.loss_curve(2 * losses, ax=ax, label="without BN")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["with BN", "without BN"]
    assert ax.lines[0].get_color() != ax.lines[1].get_color()
    with pytest.raises(ValueError, match="loss_history"):
        plots.loss_curve(np.ones((3, 2)))


def test_accuracy_curves():
    _fig, ax = plots.accuracy_curves([0.1, 0.5, 0.8], [0.1, 0.45, 0.6])
    assert_labelled(ax, "Accuracy", "epoch", "accuracy")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "validation"]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [0.1, 0.45, 0.6])
    with pytest.raises(ValueError, match="val_acc_history"):
        plots.accuracy_curves([0.1, 0.5], [0.1])


def test_accuracy_curves_tick_whole_epochs_even_for_a_single_epoch():
    for history in ([0.1], [0.1, 0.5, 0.8, 0.9, 0.9, 0.95, 0.97]):
        _fig, ax = plots.accuracy_curves(history, history)
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks
        assert ax.get_xlim()[0] < 0 and ax.get_xlim()[1] > len(history) - 1, "every point lies inside the axes"


def test_training_curves_from_a_solver():
    data = load_dataset("digits", num_train=100)
    model = FullyConnectedNet([20], weight_scale=1e-2, dtype=np.float64, seed=0)
    solver = Solver(
        model, data, optim_config={"learning_rate": 0.1}, batch_size=50, num_epochs=2, verbose=False, seed=0
    )
    solver.train()
    fig, (ax_loss, ax_acc) = plots.training_curves(solver, smoothing=0.5)
    assert_labelled(ax_loss, "Training loss", "epoch", "loss")
    assert_labelled(ax_acc, "Accuracy", "epoch", "accuracy")
    np.testing.assert_allclose(ax_loss.lines[0].get_ydata(), solver.loss_history)
    np.testing.assert_allclose(ax_acc.lines[0].get_ydata(), solver.train_acc_history)
    np.testing.assert_allclose(ax_acc.lines[1].get_ydata(), solver.val_acc_history)
    assert fig.get_size_inches()[0] <= plots.MAX_WIDTH, "the default figure fits a JupyterLab output"
    small, _ = plots.training_curves(solver, figsize=(6, 3))
    np.testing.assert_allclose(small.get_size_inches(), [6, 3])


def test_update_ratios_has_the_reference_line():
    history = {"W1": [1e-2, 3e-3, 1e-3], "W2": [1e-4, 2e-4, 5e-4]}
    _fig, ax = plots.update_ratios(history)
    assert_labelled(ax, "Update / weight ratio", "iteration", "‖update‖ / ‖weights‖")
    assert ax.get_yscale() == "log"
    np.testing.assert_allclose(ax.lines[1].get_ydata(), history["W2"])
    reference = ax.lines[2]
    np.testing.assert_allclose(reference.get_ydata(), [1e-3, 1e-3])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["W1", "W2", "1e-3 reference"]
    with pytest.raises(ValueError, match="update_ratio_history"):
        plots.update_ratios({})


def test_filter_images_from_conv_and_affine_weights():
    rng = np.random.default_rng(0)
    conv = rng.standard_normal((5, 3, 4, 4))
    images = plots.filter_images(conv)
    assert images.shape == (5, 4, 4, 3)
    np.testing.assert_allclose(images.min(axis=(1, 2, 3)), 0)
    np.testing.assert_allclose(images.max(axis=(1, 2, 3)), 1)
    # Each filter scaled on its own, pixels in the (H, W, C) layout.
    first = conv[0].transpose(1, 2, 0)
    np.testing.assert_allclose(images[0], (first - first.min()) / (first.max() - first.min()))

    affine = rng.standard_normal((64, 7))  # (D, M): 7 hidden units looking at 8x8 digits
    images = plots.filter_images(affine, image_shape=(1, 8, 8))
    column = affine[:, 2].reshape(8, 8)
    np.testing.assert_allclose(images[2, :, :, 0], (column - column.min()) / (column.max() - column.min()))
    with pytest.raises(ValueError, match="image_shape"):
        plots.filter_images(affine, image_shape=(1, 7, 7))


def test_filter_grid_tiles_every_filter():
    weights = np.arange(6 * 1 * 3 * 3, dtype=np.float64).reshape(6, 1, 3, 3)
    _fig, ax = plots.filter_grid(weights, padding=1)
    assert_labelled(ax, "First-layer filters (6)", "filter column (each 3 px wide)", "filter row (each 3 px high)")
    grid = ax.images[0].get_array()
    assert grid.shape == (2 * 4 + 1, 3 * 4 + 1)  # 2 rows x 3 columns of 3x3 filters, 1 px apart
    np.testing.assert_allclose(grid[1:4, 1:4], plots.filter_images(weights)[0, :, :, 0])
    with pytest.raises(ValueError, match="C = 2"):
        plots.filter_grid(np.ones((4, 2, 3, 3)))


def test_loss_curve_in_epochs_has_an_iteration_axis():
    losses = np.linspace(2.3, 0.5, 40)
    _, ax = plots.loss_curve(losses, iterations_per_epoch=10)
    np.testing.assert_allclose(ax.lines[0].get_xdata(), np.arange(40) / 10)
    assert ax.get_xlabel() == "epoch"
    plots.loss_curve(losses[:20], ax=ax, label="second run", iterations_per_epoch=10)
    assert len(ax.child_axes) == 1, "one iteration axis however many runs share the axes"
    assert ax.child_axes[0].get_xlabel() == "iteration"
    with pytest.raises(ValueError, match="iterations_per_epoch must be a whole number"):
        plots.loss_curve(losses, iterations_per_epoch=2.5)


def test_optimizer_paths_draws_each_path_and_keeps_the_legend_outside():
    from course_lib.optlab.surfaces import get_surface
    from course_lib.optlab.trajectories import run_optimizer

    bowl = get_surface("quadratic", condition_number=10)
    paths = {rule: run_optimizer(bowl, rule, bowl.start, np.full(20, 0.05)).path for rule in ("sgd", "adam")}
    fig, ax = plots.optimizer_paths(bowl, paths, title="two rules")
    fig.canvas.draw()
    drawn = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_allclose(drawn["sgd"].get_xydata(), paths["sgd"])
    assert set(drawn) == {"sgd", "adam", "minimum"} and ax.get_title() == "two rules"
    legend_box = ax.get_legend().get_window_extent()
    assert legend_box.x0 >= ax.get_window_extent().x1, "the legend sits right of the axes, over no path"
    saddle = get_surface("saddle")
    _, ax = plots.optimizer_paths(saddle, {"sgd": [[-1.8, 0.01], [-1.6, 0.01]]}, legend=False)
    assert ax.get_legend() is None and "saddle point" in [line.get_label() for line in ax.get_lines()]
    plt.close("all")


def test_optimizer_paths_rejects_paths_that_are_not_2d_points():
    from course_lib.optlab.surfaces import get_surface

    with pytest.raises(ValueError, match="must have shape"):
        plots.optimizer_paths(get_surface("saddle"), {"bad": np.zeros((5, 3))})
    with pytest.raises(ValueError, match="at least one"):
        plots.optimizer_paths(get_surface("saddle"), {})


def test_image_rows_draws_each_row_scaled_as_documented():
    rng = np.random.default_rng(0)
    grey = rng.uniform(-2.0, 3.0, size=(4, 1, 5, 5))
    colour = rng.uniform(0.0, 1.0, size=(2, 3, 4, 4))
    rows = {"grey, scaled per row": grey, "colour": colour}
    fig, axes = plots.image_rows(rows, captions={"colour": ["a", "b\nsecond line"]}, title="two rows")
    assert [len(row) for row in axes] == [4, 2]
    assert [sub.get_suptitle() for sub in fig.subfigs] == list(rows) and fig.get_suptitle() == "two rows"
    drawn = np.stack([ax.images[0].get_array() for ax in axes[0]])
    np.testing.assert_allclose(drawn, (grey[:, 0] - grey.min()) / (grey.max() - grey.min()))
    assert axes[0][0].images[0].get_cmap().name == "gray"
    expected = (colour[1].transpose(1, 2, 0) - colour.min()) / (colour.max() - colour.min())
    np.testing.assert_allclose(axes[1][1].images[0].get_array(), expected)
    assert [ax.get_xlabel() for ax in axes[1]] == ["a", "b\nsecond line"] and axes[0][0].get_xlabel() == ""

    _, axes = plots.image_rows({"per image": grey}, scale="image")
    first = grey[0, 0]
    np.testing.assert_allclose(axes[0][0].images[0].get_array(), (first - first.min()) / (first.max() - first.min()))
    _, axes = plots.image_rows({"clipped": grey}, scale="clip")
    np.testing.assert_allclose(axes[0][2].images[0].get_array(), np.clip(grey[2, 0], 0, 1))


def test_image_rows_rejects_what_it_cannot_draw():
    images = np.zeros((3, 1, 4, 4))
    with pytest.raises(ValueError, match="at least one row"):
        plots.image_rows({})
    with pytest.raises(ValueError, match=r"rows\['two channels'\].*C = 1 or 3"):
        plots.image_rows({"two channels": np.zeros((3, 2, 4, 4))})
    with pytest.raises(ValueError, match=r"rows\['flat'\]"):
        plots.image_rows({"flat": np.zeros((3, 16))})
    with pytest.raises(ValueError, match=r"one caption per image \(3\), got 2"):
        plots.image_rows({"row": images}, captions={"row": ["a", "b"]})
    with pytest.raises(ValueError, match="captions name rows"):
        plots.image_rows({"row": images}, captions={"other": ["a", "b", "c"]})
    with pytest.raises(ValueError, match="scale must be one of"):
        plots.image_rows({"row": images}, scale="global")
