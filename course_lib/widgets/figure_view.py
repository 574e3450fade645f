"""A matplotlib figure that lives inside an ipywidgets layout and redraws in place.

(The learning-rate explorer's figure; the other explorers draw in the browser,
course_lib.widgets.plot.)

With the ipympl backend (`%matplotlib widget`) the figure's canvas is itself a
widget: redrawing sends only the new image, and mouse clicks reach Python.
With the inline backend the figure is shown in an ipywidgets Output and shown
again after every change. Outside IPython (scripts, tests) it is rendered
off-screen, so the drawing code still runs.
"""

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython import get_ipython
from IPython.display import clear_output, display


def new_figure(figsize, dpi=90):
    """Return a Figure on the current backend that pyplot does not track.

    The explorers own their figures: keeping them out of pyplot's list stops a
    later `plt.plot` in the notebook from drawing into an explorer, and the
    inline backend from showing it a second time.

    Inputs:
    - figsize: (width, height) in inches.
    - dpi: dots per inch (default 90).

    Returns a matplotlib.figure.Figure whose canvas belongs to the backend.
    """
    with plt.ioff():
        manager = plt.new_figure_manager(1, figsize=figsize, dpi=dpi)
    return manager.canvas.figure


class FigureView:
    """Show `figure` as a widget and redraw it after its artists change.

    Attributes:
    - figure: the matplotlib Figure.
    - widget: the ipympl canvas when the backend is ipympl, else an Output.
    - interactive: True when the canvas is a widget (clicks reach Python).
    """

    def __init__(self, figure):
        self.figure = figure
        canvas = figure.canvas
        self.interactive = isinstance(canvas, widgets.DOMWidget)
        if self.interactive:
            canvas.header_visible = False
            canvas.footer_visible = False
            canvas.toolbar_visible = False
            canvas.resizable = False
            self.widget = canvas
        else:
            self.widget = widgets.Output()
        self.redraw()

    def redraw(self):
        """Render the figure's current artists where the student sees them."""
        if self.interactive:
            # ipympl renders when the browser asks back; calling draw() before the
            # browser has shown the canvas leaves it blank (ipympl 0.10).
            self.figure.canvas.draw_idle()
        elif get_ipython() is None:
            self.figure.canvas.draw()
        else:
            with self.widget:
                clear_output(wait=True)
                display(self.figure)
