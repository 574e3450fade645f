"""The learning-rate explorer: babysit a small net on the course's dataset.

Every change of a control retrains a two-layer FullyConnectedNet on the
lessons' dataset (course_lib.data: the COURSE_DATASET switch, digits by
default; at most the dataset's lesson_train images) with
course_lib.solver.Solver, then
draws what the lecture says to watch: the loss curve, the train and validation
accuracy, and the update/weight ratio of each weight matrix next to the 1e-3
reference. A one-line diagnosis names what the curves show:

- "too high": the loss exploded (the Solver stopped early);
- "too low": after all epochs the loss has not fallen by 10%;
- "overfitting": training accuracy beats validation accuracy by more than 10 points;
- "about right": none of these.
"""

import warnings

import ipywidgets as widgets
import numpy as np

from course_lib import plots
from course_lib.checks import check_choice
from course_lib.data import DATASETS, default_dataset_name, load_dataset
from course_lib.models import FullyConnectedNet
from course_lib.optim import UPDATE_RULES
from course_lib.solver import Solver
from course_lib.widgets.explorer import Explorer
from course_lib.widgets.figure_view import FigureView, new_figure

REGULARIZATIONS = (0.0, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
# Subsets offered below the whole training set (few images overfit).
SUBSET_SIZES = (50, 100, 200, 500, 1000, 2000)
# The diagnosis' thresholds (see the module docstring).
SLOW_LOSS_RATIO = 0.9
OVERFITTING_GAP = 0.1


def diagnose(solver):
    """Name what a finished Solver's curves show.

    Inputs:
    - solver: a course_lib.solver.Solver after train().

    Returns (verdict, explanation): verdict is "too high", "too low",
    "overfitting" or "about right"; explanation a sentence with the numbers.
    """
    if solver.stopped_early:
        return "too high", solver.stop_reason
    losses = np.asarray(solver.loss_history)
    window = max(1, losses.size // 10)
    first, last = losses[:window].mean(), losses[-window:].mean()
    if last > SLOW_LOSS_RATIO * first:
        return "too low", f"the loss only went from {first:.3f} to {last:.3f}"
    gap = solver.train_acc_history[-1] - solver.val_acc_history[-1]
    accuracies = f"train accuracy {solver.train_acc_history[-1]:.2f}, validation {solver.val_acc_history[-1]:.2f}"
    if gap > OVERFITTING_GAP:
        return "overfitting", accuracies
    return "about right", f"the loss fell from {first:.3f} to {last:.3f}; {accuracies}"


class LearningRateExplorer(Explorer):
    """Controls, trained Solver and figure of the learning-rate explorer.

    Readable state (after every control change):
    - controls: dict name -> control: "learning_rate", "reg", "update_rule",
      "num_train", "num_epochs".
    - dataset: the course_lib.data.DatasetInfo trained on; training_sizes: the
      choices of "num_train" (SUBSET_SIZES below the training set, then all of it).
    - solver: the Solver of the latest training run (loss_history,
      train_acc_history, val_acc_history, update_ratio_history, ...).
    - diagnosis: (verdict, explanation) from diagnose(solver).
    - axes: dict "loss" / "accuracy" / "ratio" -> the Axes drawn by
      course_lib.plots.loss_curve, accuracy_curves and update_ratios.
    - figure, widget: the matplotlib Figure and the displayable box.
    """

    def __init__(self, learning_rate, reg, update_rule, num_train, num_epochs, hidden_dim, batch_size, seed, dataset):
        # The defaults live in learning_rate_explorer(), the one way lessons build this.
        check_choice("reg", reg, REGULARIZATIONS)
        self.dataset = DATASETS[check_choice("dataset", dataset or default_dataset_name(), list(DATASETS))]
        self.hidden_dim, self.batch_size, self.seed = hidden_dim, batch_size, seed
        # The whole (lesson-sized) training set first: its size is the largest choice.
        everything = load_dataset(self.dataset.name, num_train=self.dataset.lesson_train, seed=seed)
        total = len(everything["y_train"])
        self.training_sizes = (*(size for size in SUBSET_SIZES if size < total), total)
        self._datasets = {total: everything}
        num_train = total if num_train is None else check_choice("num_train", num_train, self.training_sizes)
        style = {"description_width": "100px"}
        self.controls = {
            "learning_rate": widgets.FloatLogSlider(
                value=learning_rate,
                base=10,
                min=-6,
                max=1,
                step=0.1,
                readout_format=".1e",
                description="learning rate",
                continuous_update=False,
                style=style,
            ),
            "reg": widgets.SelectionSlider(
                options=REGULARIZATIONS, value=reg, description="regularization", continuous_update=False, style=style
            ),
            "update_rule": widgets.Dropdown(
                options=list(UPDATE_RULES), value=update_rule, description="update rule", style=style
            ),
            "num_train": widgets.SelectionSlider(
                options=self.training_sizes,
                value=num_train,
                description="training images",
                continuous_update=False,
                style=style,
            ),
            "num_epochs": widgets.IntSlider(
                value=num_epochs, min=1, max=50, description="epochs", continuous_update=False, style=style
            ),
        }
        self.diagnosis_html = widgets.HTML()
        self.figure = new_figure(figsize=(9, 3.9))
        self.figure.set_layout_engine("constrained")
        ax_loss, ax_acc, ax_ratio = self.figure.subplots(1, 3)
        self.axes = {"loss": ax_loss, "accuracy": ax_acc, "ratio": ax_ratio}
        self.view = FigureView(self.figure)
        names = list(self.controls)
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.controls[name] for name in names[:3]]),
                widgets.HBox([self.controls[name] for name in names[3:]]),
                self.diagnosis_html,
                self.view.widget,
            ]
        )
        self.widget.add_class("learning-rate-explorer")
        self._watch(self.controls.values())
        self.update()

    def _data(self, num_train):
        if num_train not in self._datasets:
            self._datasets[num_train] = load_dataset(self.dataset.name, num_train=num_train, seed=self.seed)
        return self._datasets[num_train]

    def update(self):
        """Retrain from scratch with the current controls and redraw."""
        v = self.values
        model = FullyConnectedNet(
            [self.hidden_dim],
            input_dim=self.dataset.input_dim,
            num_classes=self.dataset.num_classes,
            reg=v["reg"],
            weight_scale=1e-2,
            dtype=np.float64,
            seed=self.seed,
        )
        self.solver = Solver(
            model,
            self._data(v["num_train"]),
            update_rule=v["update_rule"],
            optim_config={"learning_rate": v["learning_rate"]},
            batch_size=self.batch_size,
            num_epochs=v["num_epochs"],
            verbose=False,
            seed=self.seed,
        )
        # An exploding run is one of the outcomes to show, not a warning to raise.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            self.solver.train()
        self.diagnosis = diagnose(self.solver)
        self._draw()

    def _draw(self):
        for ax in self.axes.values():
            ax.clear()
        solver = self.solver
        plots.loss_curve(solver.loss_history, smoothing=0.9, ax=self.axes["loss"])
        plots.accuracy_curves(solver.train_acc_history, solver.val_acc_history, ax=self.axes["accuracy"])
        weights = {name: ratios for name, ratios in solver.update_ratio_history.items() if name.startswith("W")}
        plots.update_ratios(weights, ax=self.axes["ratio"])
        verdict, explanation = self.diagnosis
        v = self.values
        self.figure.suptitle(f"learning rate {v['learning_rate']:.1e}, reg {v['reg']:g}: {verdict}")
        self.diagnosis_html.value = (
            f"<div class='learning-rate-explorer-diagnosis'><b>{verdict}</b>: {explanation} "
            f"(learning rate {v['learning_rate']:.1e}, {len(solver.loss_history)} iterations)</div>"
        )
        self.view.redraw()


def learning_rate_explorer(
    learning_rate=0.1,
    reg=0.0,
    update_rule="sgd",
    num_train=None,
    num_epochs=20,
    hidden_dim=100,
    batch_size=50,
    seed=0,
    dataset=None,
):
    """Return a LearningRateExplorer: display it in a notebook, read its state in Python.

    Inputs:
    - learning_rate: the starting learning rate (1e-6 to 10, log slider).
    - reg: L2 strength, one of REGULARIZATIONS.
    - update_rule: a name in course_lib.optim.UPDATE_RULES.
    - num_train: training images, one of the explorer's training_sizes
      (SUBSET_SIZES below the training set, then all of it; few images
      overfit); None: all of them.
    - num_epochs: epochs per run (1 to 50).
    - hidden_dim: width of the single hidden ReLU layer.
    - batch_size: minibatch size.
    - seed: seeds the data split, the weights and the minibatches.
    - dataset: a name in course_lib.data.DATASETS; None follows the
      COURSE_DATASET switch (course_lib.data.default_dataset_name()).

    Returns a LearningRateExplorer; see its docstring for the state it exposes.
    """
    return LearningRateExplorer(
        learning_rate, reg, update_rule, num_train, num_epochs, hidden_dim, batch_size, seed, dataset
    )
