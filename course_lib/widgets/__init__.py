"""Interactive explorers for the course (ipywidgets controls).

Each explorer is a function returning an object that a notebook displays and
whose state (controls, computed paths or statistics, what is drawn) Python can
read, so every explorer is tested without a browser:

- optimizer_explorer(): update rules of course_lib.optim on 2-D loss surfaces.
- initialization_explorer(): per-layer activation and gradient statistics.
- learning_rate_explorer(): train a small net on the course's dataset and babysit it.

The optimizer and initialization explorers compute in the kernel and draw in the
browser (course_lib.widgets.plot, an anywidget shipped with the package), so a
slider can be dragged and the figure follows; they need no matplotlib backend.
The learning-rate explorer retrains for every change and draws with matplotlib:
run `%matplotlib widget` (ipympl) first for in-place redraws; with the inline
backend its figure is re-rendered after each change.
"""

from course_lib.widgets.initialization_explorer import InitializationExplorer, initialization_explorer
from course_lib.widgets.learning_rate_explorer import LearningRateExplorer, learning_rate_explorer
from course_lib.widgets.optimizer_explorer import OptimizerExplorer, optimizer_explorer

__all__ = [
    "InitializationExplorer",
    "LearningRateExplorer",
    "OptimizerExplorer",
    "initialization_explorer",
    "learning_rate_explorer",
    "optimizer_explorer",
]
