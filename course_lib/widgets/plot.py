"""The explorers' figure: data kept in Python, drawn in the browser.

A Plot is an anywidget whose JavaScript (plot.js, shipped in this package: no
CDN, no build step) draws panels of lines, markers, filled level bands and
texts on a canvas. Python holds the content as plain data that tests read:

- panels: list of Panel (title, labels, limits, scales, legend, clickable);
- lines: dict key -> Line (points and style);
- texts: dict key -> Text; bands: dict key -> Bands (a background of levels).

An explorer changes these and calls redraw(), which sends them to the browser
in one message; the browser coalesces what arrives into one frame per screen
refresh. Replaying a path is the `step` trait: lines marked `progressive` show
their first step + 1 points, so a Play widget linked to `step` in the browser
animates without a round trip to the kernel.
"""

from dataclasses import asdict, dataclass, field
from pathlib import Path

import anywidget
import numpy as np
import traitlets

from course_lib.checks import check_choice

MARKERS = ("o", "s", "*", "x")
SCALES = ("linear", "log")


@dataclass
class Panel:
    """One axes of the figure.

    - title, xlabel, ylabel: text around the axes.
    - xlim, ylim: (low, high) data limits; xscale, yscale: "linear" or "log".
    - weight: share of the figure's width (relative to the other panels).
    - legend: draw a legend of the labelled lines to the right of the data.
    - clickable: clicks inside the data area reach Plot.on_click callbacks.
    - yticks: optional list of (value, label) replacing the automatic ticks.
    """

    title: str = ""
    xlabel: str = ""
    ylabel: str = ""
    xlim: tuple = (0.0, 1.0)
    ylim: tuple = (0.0, 1.0)
    xscale: str = "linear"
    yscale: str = "linear"
    weight: float = 1.0
    legend: bool = False
    clickable: bool = False
    yticks: list = None

    def state(self):
        check_choice("xscale", self.xscale, SCALES)
        check_choice("yscale", self.yscale, SCALES)
        state = asdict(self)
        state["xlim"] = [float(v) for v in self.xlim]
        state["ylim"] = [float(v) for v in self.ylim]
        if self.yticks is not None:
            state["yticks"] = [[float(value), str(label)] for value, label in self.yticks]
        return state


@dataclass
class Line:
    """Points joined by a line and/or marked, in one panel.

    - panel: index into Plot.panels; x, y: float arrays (N,).
    - color: CSS hex colour; line_width (0: markers only); dash: e.g. (6, 4); alpha.
    - marker: None or one of MARKERS ("o" circle, "s" square, "*" star, "x");
      marker_at: "all" points or only the "last" one drawn; marker_size in px;
      marker_color (default: color) and marker_edge (None: no edge).
    - label: legend entry (panels with legend=True).
    - progressive: show only the first Plot.step + 1 points while replaying.
    - end: never show more than this many points (None: all).
    - appear_at: hidden while replaying steps before this one.
    - clip: keep the drawing inside the data area.
    - visible: drawn at all.
    """

    panel: int
    x: np.ndarray
    y: np.ndarray
    color: str = "#000000"
    line_width: float = 1.5
    dash: tuple = ()
    alpha: float = 1.0
    marker: str = None
    marker_at: str = "all"
    marker_size: float = 7.0
    marker_color: str = None
    marker_edge: str = None
    label: str = None
    progressive: bool = False
    end: int = None
    appear_at: int = None
    clip: bool = True
    visible: bool = True

    def __post_init__(self):
        self.x = np.asarray(self.x, dtype=np.float64)
        self.y = np.asarray(self.y, dtype=np.float64)
        if self.x.shape != self.y.shape or self.x.ndim != 1:
            raise ValueError(f"x and y must be 1-D arrays of one shape, got {self.x.shape} and {self.y.shape}")

    def shown(self, step):
        """How many points plot.js draws at replay step `step` (step < 0: all)."""
        end = len(self.x) if self.end is None else min(self.end, len(self.x))
        if self.progressive and step >= 0:
            end = min(end, step + 1)
        if not self.visible or (self.appear_at is not None and 0 <= step < self.appear_at):
            return 0
        return end

    def drawn(self, step=-1):
        """The points drawn at replay step `step`: float64 array (n, 2)."""
        n = self.shown(step)
        return np.column_stack([self.x[:n], self.y[:n]])

    def state(self, key):
        if self.marker is not None:
            check_choice("marker", self.marker, MARKERS)
        state = {name: value for name, value in asdict(self).items() if name not in ("x", "y")}
        state.update(key=key, dash=list(self.dash), x=_buffer(self.x), y=_buffer(self.y))
        return state


@dataclass
class Text:
    """A label at a data point: align "left"/"right"/"center", baseline "bottom"/"top"."""

    panel: int
    x: float
    y: float
    text: str
    color: str = "#000000"
    align: str = "left"
    baseline: str = "bottom"
    bold: bool = True
    appear_at: int = None
    visible: bool = True

    def state(self, key):
        state = asdict(self)
        state.update(key=key, x=float(self.x), y=float(self.y))
        return state


@dataclass
class Bands:
    """Filled level bands of a grid, drawn under the lines (filled contours).

    - panel: index into Plot.panels.
    - z: float array (ny, nx) of values on a regular grid over `extent`
      (x_low, x_high, y_low, y_high), row 0 at y_low.
    - levels: increasing float array (B + 1,): band b holds levels[b] <= z < levels[b + 1].
    - colors: B CSS hex colours, one per band.
    """

    panel: int
    z: np.ndarray
    extent: tuple
    levels: np.ndarray
    colors: list = field(default_factory=list)

    def state(self, key, revision):
        ny, nx = np.shape(self.z)
        if len(self.colors) != len(self.levels) - 1:
            raise ValueError(f"colors must hold one colour per band ({len(self.levels) - 1}), got {len(self.colors)}")
        return {
            "key": key,
            "panel": self.panel,
            "z": _buffer(self.z),
            "nx": nx,
            "ny": ny,
            "extent": [float(v) for v in self.extent],
            "levels": _buffer(self.levels),
            "colors": list(self.colors),
            "revision": revision,
        }


def _buffer(values):
    """A float64 array as a memoryview: ipywidgets sends it as a binary buffer."""
    return memoryview(np.ascontiguousarray(values, dtype=np.float64).ravel())


class Plot(anywidget.AnyWidget):
    """A figure of panels drawn by plot.js; see the module docstring.

    Traits synchronised with the browser: width, height (CSS pixels), title,
    step (replay position; -1 shows everything). Attributes: panels, lines,
    texts, bands (the content, as above) and frames_sent (messages sent).
    """

    _esm = Path(__file__).with_name("plot.js")
    width = traitlets.Int(880).tag(sync=True)
    height = traitlets.Int(380).tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    step = traitlets.Int(-1).tag(sync=True)
    _panels = traitlets.List().tag(sync=True)
    _series = traitlets.List().tag(sync=True)
    _texts = traitlets.List().tag(sync=True)
    _bands = traitlets.List().tag(sync=True)

    def __init__(self, panels, width=880, height=380, title=""):
        super().__init__(width=width, height=height, title=title)
        self.panels = list(panels)
        self.lines = {}
        self.texts = {}
        self.bands = {}
        self.frames_sent = 0
        self._bands_sent = None
        self._band_revision = 0
        self._click_callbacks = []
        self.on_msg(self._on_message)

    def redraw(self):
        """Send the current panels, lines, texts and (when changed) bands in one message."""
        with self.hold_sync():
            self._panels = [panel.state() for panel in self.panels]
            self._series = [line.state(key) for key, line in self.lines.items()]
            self._texts = [text.state(key) for key, text in self.texts.items()]
            bands = dict(self.bands)
            if bands.keys() != (self._bands_sent or {}).keys() or any(
                bands[key] is not self._bands_sent[key] for key in bands
            ):
                self._band_revision += 1
                self._bands = [b.state(key, self._band_revision) for key, b in bands.items()]
                self._bands_sent = bands
        self.frames_sent += 1

    def on_click(self, callback):
        """Call callback(panel, x, y) with data coordinates when a clickable panel is clicked."""
        self._click_callbacks.append(callback)

    def click(self, panel, x, y):
        """Do what a click at data point (x, y) of panel `panel` does in the browser."""
        if self.panels[panel].clickable:
            for callback in self._click_callbacks:
                callback(panel, x, y)

    def _on_message(self, widget, content, buffers):
        if content.get("event") == "click":
            self.click(int(content["panel"]), float(content["x"]), float(content["y"]))
