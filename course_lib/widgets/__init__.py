"""Interactive explorers for the course (ipywidgets + matplotlib).

Each explorer is a function returning an object that a notebook displays and
whose state (controls, computed paths or statistics, plotted artists) Python
can read, so every explorer is tested without a browser:

- optimizer_explorer(): update rules of course_lib.optim on 2-D loss surfaces.
- initialization_explorer(): per-layer activation and gradient statistics.
- learning_rate_explorer(): train a small net on digits and babysit it.

Run `%matplotlib widget` (ipympl) first for in-place redraws and clicks on the
figure; with the inline backend the figure is re-rendered after each change.
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
