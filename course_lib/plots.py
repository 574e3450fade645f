"""The course's figures: each function takes data and returns (figure, axes).

Nothing here calls plt.show(): a notebook shows the returned figure, a script
saves it. Functions that draw one panel accept `ax` to draw into an existing
axes (their figure is then ax.figure).

- activation_histograms, gradient_histograms: one histogram per layer, from
  course_lib.initialization.activation_statistics (counts from
  course_lib.initialization.layer_histograms).
- loss_curve (with exponential smoothing), accuracy_curves, training_curves
  (both from a course_lib.solver.Solver).
- update_ratios: update/weight ratio per parameter on a log axis, with the
  lecture's 1e-3 reference line.
- filter_grid: first-layer weights as a grid of images (course_lib.filters
  reads the weights as filters and measures their smoothness).
- image_rows: rows of images (originals, augmented, centered, ...), one titled
  row each, with optional captions under the images.
- optimizer_paths: update rules' paths on the contour lines of a 2-D surface.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from course_lib.checks import check_array, check_count
from course_lib.filters import as_filters
from course_lib.initialization import layer_histograms

# The lecture's rule of thumb: each update changes a weight by about 1e-3 of its size.
REFERENCE_UPDATE_RATIO = 1e-3
# Readable in a JupyterLab output (about 900 px): figures at most this wide (inches), text
# no smaller than 9 pt, histograms of many layers wrapped into rows of this many panels.
MAX_WIDTH = 9.0
HISTOGRAMS_PER_ROW = 5


def _axes(ax, figsize):
    """Return (figure, ax): the given axes' figure, or a new figure with one axes."""
    if ax is None:
        return plt.subplots(figsize=figsize, layout="constrained")
    return ax.figure, ax


def _legend_below(ax, columns=2):
    """A legend under the axes (below its x label), so that it never covers the data."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=columns, fontsize=9, frameon=False)


def _layer_histograms(arrays, title, xlabel, bins):
    """One histogram per layer, HISTOGRAMS_PER_ROW to a row; each panel names the layer's mean and std."""
    if len(arrays) == 0:
        raise ValueError(f"{xlabel} must hold at least one layer, got none")
    values = [np.asarray(a, dtype=np.float64).ravel() for a in arrays]
    edges, counts = layer_histograms(values, bins)
    columns = min(len(values), HISTOGRAMS_PER_ROW)
    rows = -(-len(values) // columns)
    fig, grid = plt.subplots(
        rows,
        columns,
        figsize=(min(MAX_WIDTH, 1.8 * columns + 0.6), 2.6 * rows + 0.5),
        sharex=True,
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    axes = grid.ravel()
    for layer, (ax, v, layer_counts) in enumerate(zip(axes, values, counts), start=1):
        ax.hist(edges[:-1], bins=edges, weights=layer_counts, color="tab:blue")
        ax.set_title(f"layer {layer}\nmean {v.mean():.2g}\nstd {v.std():.2g}", fontsize=9.5)
        ax.tick_params(labelsize=9)
        ax.xaxis.set_major_locator(plt.MaxNLocator(3))
    for ax in axes[len(values) :]:
        ax.set_visible(False)
    for ax in grid[-1]:
        ax.set_xlabel(xlabel, fontsize=10)
    for ax in grid[:, 0]:
        ax.set_ylabel("count", fontsize=10)
    fig.suptitle(title)
    return fig, axes[: len(values)]


def activation_histograms(stats, bins=50):
    """Histogram of every layer's activations, side by side (the lecture's figure).

    Inputs:
    - stats: the dict of course_lib.initialization.activation_statistics; uses
      stats["activations"], a list of L arrays (N, D).
    - bins: number of histogram bins (int), over one range shared by all layers.

    Returns (figure, axes) with axes an array of L Axes.
    """
    return _layer_histograms(stats["activations"], "Activations per layer", "activation", bins)


def gradient_histograms(stats, bins=50):
    """Histogram of every layer's pre-activation gradient, side by side.

    Inputs:
    - stats: the dict of course_lib.initialization.activation_statistics; uses
      stats["gradients"], a list of L arrays (N, D).
    - bins: number of histogram bins (int).

    Returns (figure, axes) with axes an array of L Axes.
    """
    return _layer_histograms(stats["gradients"], "Gradients per layer", "gradient", bins)


def smooth(values, smoothing):
    """Exponential moving average with bias correction (as in TensorBoard).

    Inputs:
    - values: array-like (T,) of numbers.
    - smoothing: weight of the past in [0, 1); 0 returns the values unchanged.

    Returns a float64 array (T,): s_t = a s_{t-1} + (1 - a) v_t, divided by
    (1 - a^t) so the first points are not pulled toward zero.
    """
    values = check_array("values", values, ndim=1, dims="(T,)").astype(np.float64)
    if not 0 <= smoothing < 1:
        raise ValueError(f"smoothing must lie in [0, 1), got {smoothing!r}")
    average = 0.0
    out = np.empty_like(values)
    for t, value in enumerate(values, start=1):
        average = smoothing * average + (1 - smoothing) * value
        out[t - 1] = average / (1 - smoothing**t)
    return out


def loss_curve(loss_history, smoothing=0.0, ax=None, label="loss", iterations_per_epoch=None):
    """The training loss against epochs (or iterations), with an optional smoothed line on top.

    Epochs are the axis to compare runs by: how many iterations an epoch takes
    depends on the batch size, so two runs with different batch sizes line up
    only when measured in passes over the data.

    Inputs:
    - loss_history: array-like (T,), one loss per iteration.
    - smoothing: weight of the exponential moving average in [0, 1); with 0
      only the raw loss is drawn.
    - ax: optional Axes to draw into; call again with the same ax and another
      label to compare runs (each run takes the next color of the cycle).
    - label: legend label of this run.
    - iterations_per_epoch: iterations in one pass over the training set (a
      Solver's `iterations_per_epoch`); the x axis is then in epochs, with
      iterations on a secondary axis on top. None: the x axis counts iterations.

    Returns (figure, ax).
    """
    losses = check_array("loss_history", loss_history, ndim=1, dims="(T,)").astype(np.float64)
    fig, ax = _axes(ax, (6, 4))
    steps = np.arange(losses.size, dtype=np.float64)
    if iterations_per_epoch is not None:
        per_epoch = check_count("iterations_per_epoch", iterations_per_epoch)
        steps /= per_epoch
        if not ax.child_axes:  # one iteration axis, however many runs share the axes
            top = ax.secondary_xaxis("top", functions=(lambda e: e * per_epoch, lambda i: i / per_epoch))
            top.set_xlabel("iteration")
    if smoothing > 0:
        (raw,) = ax.plot(steps, losses, alpha=0.3, lw=1, label=label)
        ax.plot(
            steps, smooth(losses, smoothing), color=raw.get_color(), lw=2, label=f"{label}, smoothed ({smoothing:g})"
        )
    else:
        ax.plot(steps, losses, lw=1, label=label)
    _legend_below(ax)
    ax.set_title("Training loss")
    ax.set_xlabel("iteration" if iterations_per_epoch is None else "epoch")
    ax.set_ylabel("loss")
    return fig, ax


def accuracy_curves(train_acc_history, val_acc_history, ax=None):
    """Training and validation accuracy per epoch; the gap between them is overfitting.

    Inputs:
    - train_acc_history, val_acc_history: array-likes (E,) of fractions in [0, 1].
    - ax: optional Axes to draw into.

    Returns (figure, ax).
    """
    train = check_array("train_acc_history", train_acc_history, ndim=1, dims="(E,)")
    val = check_array("val_acc_history", val_acc_history, shape=train.shape, dims=f"({train.size},)")
    fig, ax = _axes(ax, (6, 4))
    epochs = np.arange(train.size)
    ax.plot(epochs, train, "o-", label="train")
    ax.plot(epochs, val, "s-", label="validation")
    ax.set_ylim(0, 1.02)
    # Epochs are whole numbers; a run stopped in its first epoch (one point) would otherwise get ticks at +-0.05.
    ax.set_xlim(-0.3, max(train.size - 1, 1) + 0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("Accuracy")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    _legend_below(ax)
    return fig, ax


def training_curves(solver, smoothing=0.9, figsize=(MAX_WIDTH, 3.8)):
    """Loss curve and train/validation accuracy of a trained Solver, side by side.

    Inputs:
    - solver: a course_lib.solver.Solver after .train(); uses loss_history,
      train_acc_history and val_acc_history.
    - smoothing: as in loss_curve.
    - figsize: (width, height) of the figure in inches; the default is as wide as
      a JupyterLab output allows and low enough to read beside the text.

    Returns (figure, (loss_axes, accuracy_axes)).
    """
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=figsize, layout="constrained")
    loss_curve(solver.loss_history, smoothing, ax=ax_loss, iterations_per_epoch=solver.iterations_per_epoch)
    accuracy_curves(solver.train_acc_history, solver.val_acc_history, ax=ax_acc)
    return fig, (ax_loss, ax_acc)


def update_ratios(update_ratio_history, ax=None):
    """Update/weight ratio of each parameter over training, on a log axis.

    Inputs:
    - update_ratio_history: dict parameter name -> array-like (T,) of ratios
      ||learning step|| / ||weights|| (e.g. Solver.update_ratio_history).
    - ax: optional Axes to draw into.

    Returns (figure, ax). A dashed line marks the lecture's 1e-3 reference:
    much lower means the learning rate is too low, much higher too high.
    """
    if not update_ratio_history:
        raise ValueError("update_ratio_history must map at least one parameter name to its ratios")
    fig, ax = _axes(ax, (6, 4))
    for name, ratios in update_ratio_history.items():
        ratios = check_array(f"update_ratio_history[{name!r}]", ratios, ndim=1, dims="(T,)")
        ax.plot(np.arange(ratios.size), ratios, lw=1.2, label=name)
    ax.axhline(REFERENCE_UPDATE_RATIO, color="black", ls="--", lw=1, label="1e-3 reference")
    ax.set_yscale("log")
    ax.set_title("Update / weight ratio")
    ax.set_xlabel("iteration")
    ax.set_ylabel("‖update‖ / ‖weights‖")
    _legend_below(ax)
    return fig, ax


def filter_images(weights, image_shape=None):
    """Turn first-layer weights into images (F, H, W, C) scaled to [0, 1].

    Inputs: weights, (F, C, H, W) filters or (D, M) affine weights, and
    image_shape, as in course_lib.filters.as_filters.

    Returns a float64 array (F, H, W, C), each filter min-max scaled on its own.
    """
    images = as_filters(weights, image_shape).transpose(0, 2, 3, 1)
    low = images.min(axis=(1, 2, 3), keepdims=True)
    span = images.max(axis=(1, 2, 3), keepdims=True) - low
    return (images - low) / np.where(span > 0, span, 1.0)


def filter_grid(weights, image_shape=None, padding=1, ax=None):
    """First-layer filters as one image grid (each filter scaled on its own).

    Inputs:
    - weights, image_shape: as in filter_images.
    - padding: pixels between filters (int >= 0).
    - ax: optional Axes to draw into.

    Returns (figure, ax). One-channel filters are drawn in grey, three-channel
    ones in colour; other channel counts raise ValueError.
    """
    images = filter_images(weights, image_shape)
    count, height, width, channels = images.shape
    if channels not in (1, 3):
        raise ValueError(f"weights must have C = 1 or 3 channels to be drawn as images, got C = {channels}")
    columns = int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / columns))
    grid = np.ones((rows * (height + padding) + padding, columns * (width + padding) + padding, channels))
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        top = padding + row * (height + padding)
        left = padding + column * (width + padding)
        grid[top : top + height, left : left + width] = image
    fig, ax = _axes(ax, (5, 5))
    if channels == 1:
        ax.imshow(grid[:, :, 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(grid, interpolation="nearest")
    ax.set_title(f"First-layer filters ({count})")
    ax.set_xlabel(f"filter column (each {width} px wide)")
    ax.set_ylabel(f"filter row (each {height} px high)")
    ax.set_xticks([])
    ax.set_yticks([])
    return fig, ax


# How image_rows turns values into grey levels (or colours) in [0, 1].
IMAGE_SCALES = ("row", "image", "clip")


def _scaled(images, scale):
    """images (n, C, H, W) -> (n, H, W, C) in [0, 1], min-max scaled over the row, per image, or clipped."""
    pictures = images.transpose(0, 2, 3, 1).astype(np.float64)
    if scale == "clip":
        return np.clip(pictures, 0.0, 1.0)
    axes = (1, 2, 3) if scale == "image" else None
    low = pictures.min(axis=axes, keepdims=True)
    span = pictures.max(axis=axes, keepdims=True) - low
    return (pictures - low) / np.where(span > 0, span, 1.0)


def image_rows(rows, captions=None, scale="row", title=None, image_size=0.9):
    """Rows of images, each row under its own title, with optional captions under the images.

    Inputs:
    - rows: dict row title -> array (n, C, H, W) of n images with C = 1 (drawn in grey)
      or C = 3 (in colour); rows may hold different numbers of images, not shapes.
    - captions: optional dict row title -> list of n strings, one under each image of
      that row (rows left out get none).
    - scale: how values become grey levels in [0, 1]:
      "row" min-max scales each row as a whole (its smallest value black, its largest
      white), so the images of one row compare with each other;
      "image" min-max scales every image on its own (its pattern, not its level, shows);
      "clip" draws pixels already in [0, 1] as they are, clipping what lies outside,
      so every row compares with every other.
    - title: optional title of the whole figure.
    - image_size: width of one image in inches (shrunk to keep the figure readable
      in a notebook, at most MAX_WIDTH wide).

    Returns (figure, axes): axes a list with one array of n Axes per row, in the
    order of `rows`.
    """
    if not rows:
        raise ValueError("rows must map at least one row title to an array (n, C, H, W) of images")
    if scale not in IMAGE_SCALES:
        raise ValueError(f"scale must be one of {IMAGE_SCALES}, got {scale!r}")
    captions = {} if captions is None else captions
    unknown = set(captions) - set(rows)
    if unknown:
        raise ValueError(f"captions name rows that rows does not have: {sorted(unknown)}")
    arrays = {}
    for name, images in rows.items():
        images = check_array(f"rows[{name!r}]", images, ndim=4, dims="(n, C, H, W)")
        if images.shape[0] == 0 or images.shape[1] not in (1, 3):
            raise ValueError(f"rows[{name!r}] must hold at least one image with C = 1 or 3, got shape {images.shape}")
        if name in captions and len(captions[name]) != images.shape[0]:
            raise ValueError(
                f"captions[{name!r}] must hold one caption per image ({images.shape[0]}), got {len(captions[name])}"
            )
        arrays[name] = images
    columns = max(images.shape[0] for images in arrays.values())
    size = min(image_size, MAX_WIDTH / columns)
    caption_lines = {name: max(str(c).count("\n") + 1 for c in captions[name]) for name in captions}
    heights = [size + 0.3 + 0.17 * caption_lines.get(name, 0) for name in arrays]
    fig = plt.figure(figsize=(size * columns + 0.2, sum(heights) + (0.4 if title else 0.0)), layout="constrained")
    subfigures = np.atleast_1d(fig.subfigures(len(arrays), 1, height_ratios=heights))
    all_axes = []
    for subfigure, (name, images) in zip(subfigures, arrays.items()):
        row_axes = np.atleast_1d(subfigure.subplots(1, columns))
        for index, ax in enumerate(row_axes):
            ax.set_xticks([])
            ax.set_yticks([])
            if index >= images.shape[0]:
                ax.set_visible(False)
        pictures = _scaled(images, scale)
        for index, (ax, picture) in enumerate(zip(row_axes, pictures)):
            if picture.shape[2] == 1:
                ax.imshow(picture[:, :, 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            else:
                ax.imshow(picture, interpolation="nearest")
            if name in captions:
                ax.set_xlabel(str(captions[name][index]), fontsize=9)
        subfigure.suptitle(name, fontsize=10)
        all_axes.append(row_axes[: images.shape[0]])
    if title:
        fig.suptitle(title)
    return fig, all_axes


def optimizer_paths(surface, paths, ax=None, title=None, legend=True, grid_points=200, markers=True):
    """Optimizer paths drawn on the contour lines of a 2-D loss surface.

    Inputs:
    - surface: a course_lib.optlab.surfaces.Surface (its loss, window, reference
      point and contour spacing are used).
    - paths: dict label -> array-like (K + 1, 2) of the points visited (e.g.
      run_optimizer(...).path[:K + 1]); one line per entry, in the colour cycle's order.
    - ax: optional Axes to draw into (to put several surfaces side by side).
    - title: the axes title; None uses the surface's title.
    - legend: True puts the legend outside the axes, on the right, so it covers
      no path; False draws none (build one for a whole figure from
      ax.get_legend_handles_labels()).
    - grid_points: contour grid resolution per axis.
    - markers: mark every visited point (False: lines only, for long paths).

    Returns (figure, ax). The reference point w* is marked with a black star
    ("minimum", or "saddle point" where it is not a minimum).
    """
    if not paths:
        raise ValueError("paths must map at least one label to an array (K + 1, 2) of points")
    arrays = {label: check_array(f"paths[{label!r}]", path, ndim=2, dims="(K + 1, 2)") for label, path in paths.items()}
    for label, path in arrays.items():
        if path.shape[1] != 2:
            raise ValueError(f"paths[{label!r}] must have shape (K + 1, 2), got {path.shape}")
    fig, ax = _axes(ax, (6.5, 4))
    xs = np.linspace(*surface.xlim, grid_points)
    ys = np.linspace(*surface.ylim, grid_points)
    grid_x, grid_y = np.meshgrid(xs, ys)
    heights = surface.loss(grid_x, grid_y)
    levels = 15
    if surface.log_levels:
        levels = np.geomspace(max(heights.min(), 1e-3), heights.max(), 15)
    ax.contour(grid_x, grid_y, heights, levels=levels, colors="lightgray", linewidths=0.8)
    for label, path in arrays.items():
        ax.plot(path[:, 0], path[:, 1], ".-" if markers else "-", ms=3, lw=1.2, label=label)
    reference = "minimum" if surface.reference_is_minimum else "saddle point"
    ax.plot(*surface.reference, "k*", ms=12, label=reference)
    ax.set_xlim(*surface.xlim)
    ax.set_ylim(*surface.ylim)
    ax.set_title(surface.title if title is None else title)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    return fig, ax
