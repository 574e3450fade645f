"""What every explorer shares: named controls that trigger one recomputation each.

An explorer subclass builds `self.controls` (dict name -> ipywidgets control),
`self.widget` (the box a notebook displays) and `update()` (recompute and
redraw), then calls `_watch(self.controls.values())`.
"""

import math
from contextlib import contextmanager

import ipywidgets as widgets

from course_lib.checks import check_choice


class Explorer:
    """Base class of the explorers: control plumbing and display."""

    _silence = 0

    def _watch(self, controls):
        """Recompute whenever one of `controls` changes value."""
        for control in controls:
            control.observe(self._on_change, names="value")

    def _on_change(self, change):
        if not self._silence and really_changed(change):
            self.update()

    @contextmanager
    def _silenced(self):
        """Change controls without recomputing after each one."""
        self._silence += 1
        try:
            yield
        finally:
            self._silence -= 1

    def _assign(self, values):
        """Give the named controls new values, checked, without recomputing."""
        for name, value in values.items():
            check_choice("control", name, list(self.controls))
            options = getattr(self.controls[name], "options", None)
            if options is not None:
                check_choice(name, value, list(options))
        with self._silenced():
            for name, value in values.items():
                self.controls[name].value = value

    def set(self, **values):
        """Set several controls (names of `controls`), then recompute once."""
        self._assign(values)
        self.update()

    @property
    def values(self):
        """dict control name -> current value."""
        return {name: control.value for name, control in self.controls.items()}

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def really_changed(change):
    """False for the browser's echo of a float snapped to its slider (0.9 -> 0.9000000000000001)."""
    old, new = change["old"], change["new"]
    if isinstance(old, float) and isinstance(new, float):
        return not math.isclose(old, new, rel_tol=1e-12)
    return True


def on_slider_grid(slider, value):
    """Round `value` to the nearest point the slider can show, as the browser does.

    Setting a value between the slider's steps makes the browser snap it and
    send it back: a second recomputation for nothing. Log sliders snap the
    exponent (min + k * step), linear ones the value.
    """
    if isinstance(slider, widgets.FloatLogSlider):
        exponent = math.log(value, slider.base)
        exponent = slider.min + round((exponent - slider.min) / slider.step) * slider.step
        return slider.base**exponent
    return slider.min + round((float(value) - slider.min) / slider.step) * slider.step
