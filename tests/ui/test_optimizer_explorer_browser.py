"""The optimizer explorer in a real JupyterLab: move a control or click, see the plot follow.

The optimizer lesson is run once for the module. The first test types new momenta into
the slider's readout and waits for each final state: the explorer's status
names the new value, the kernel is idle and the figure has stopped changing.
(The momentum slider is linear and the typed values lie on its step, so the
kernel sees exactly one change; a log slider snaps a typed 0.15 to 0.151 in a
second change.) It checks that the figure changed and reports the time from
the key press to the drawing of the final figure on the canvas, measured in
the page and printed, not asserted: timing is a measurement, not a test.
The second test clicks the contour plot and checks the start point moved there.
"""

import re

import numpy as np
import pytest

from course_lib.widgets import optimizer_explorer

NOTEBOOK = "09_optimizers.ipynb"
# The settings of the lesson's explorer when it is displayed.
LEARNING_RATE, CONDITION_NUMBER, MOMENTUM, START = 0.03, 25.0, "0.900", "(-2.50, 1.50)"
NEW_MOMENTA = ["0.5", "0.7", "0.3"]
TIMEOUT_MS = 300_000  # the whole lesson runs before the explorer appears

# Runs in the page: note the time of the Enter key that commits the new value, of
# the first status text that names it (the kernel has recomputed the paths), and of
# every image ipympl draws onto the figure's canvas (a hook on drawImage; cheap,
# unlike reading the pixels back on every frame).
RECORD = """
(canvas, [status, marker]) => {
  const record = {start: null, status: null, draws: []};
  window.__record = record;
  window.__recordedCanvas = canvas;
  new MutationObserver((mutations, observer) => {
    if (status.textContent.includes(marker)) { record.status = performance.now(); observer.disconnect(); }
  }).observe(status, {subtree: true, childList: true, characterData: true});
  if (!window.__drawImageHooked) {
    const drawImage = CanvasRenderingContext2D.prototype.drawImage;
    CanvasRenderingContext2D.prototype.drawImage = function (...args) {
      const result = drawImage.apply(this, args);
      if (this.canvas === window.__recordedCanvas) window.__record.draws.push(performance.now());
      return result;
    };
    document.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && window.__record.start === null) window.__record.start = performance.now();
    }, true);
    window.__drawImageHooked = true;
  }
}
"""


def heavy_ball_rate(alpha, mu, curvatures):
    """Largest root modulus of z^2 - (1 + mu - alpha lambda) z + mu over the curvatures:
    heavy ball's rate on a quadratic, computed here independently of course_lib."""
    return max(np.abs(np.roots([1.0, -(1 + mu - alpha * lam), mu])).max() for lam in curvatures)


def _wait_for_idle_kernel(page):
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=TIMEOUT_MS)


def _wait_until_stable(page, canvas, quiet_ms=1500):
    """Wait until the canvas image has not changed for quiet_ms; return it."""
    image = canvas.evaluate("(c) => c.toDataURL()")
    while True:
        page.wait_for_timeout(quiet_ms)
        now = canvas.evaluate("(c) => c.toDataURL()")
        if now == image:
            return image
        image = now


@pytest.fixture(scope="module")
def explorer_page(jupyter_lab, browser):
    """The notebook opened in JupyterLab and run, its explorer drawn: (page, explorer locator)."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.goto(jupyter_lab.url(NOTEBOOK))
    _wait_for_idle_kernel(page)
    page.locator(".lm-MenuBar-item", has_text="Run").click()
    page.locator(".lm-Menu-item", has_text=re.compile(r"^Run All Cells")).click()
    explorer = page.locator(".optimizer-explorer").first
    explorer.wait_for(timeout=TIMEOUT_MS)
    status = explorer.locator(".optimizer-explorer-status")
    expect(status).to_contain_text(f"momentum {MOMENTUM} ", timeout=TIMEOUT_MS)
    explorer.locator(".jupyter-matplotlib-canvas-div canvas").first.wait_for(timeout=TIMEOUT_MS)
    _wait_for_idle_kernel(page)
    yield page, explorer
    context.close()


def test_momentum_change_redraws_the_paths(explorer_page):
    from playwright.sync_api import expect

    page, explorer = explorer_page
    status = explorer.locator(".optimizer-explorer-status")
    canvas = explorer.locator(".jupyter-matplotlib-canvas-div canvas").first
    before = _wait_until_stable(page, canvas)
    assert "SGD" in status.inner_text()

    slider = explorer.locator(".widget-slider", has=page.locator("label", has_text=re.compile(r"^momentum μ$")))
    readout = slider.locator(".widget-readout")
    latencies = []
    for momentum in NEW_MOMENTA:
        readout.click()
        page.keyboard.press("Control+A")
        page.keyboard.type(momentum)
        marker = f"momentum {float(momentum):.3f} "
        # The HTML widget replaces its content on every change: watch the widget itself.
        status_widget = explorer.locator(".widget-html", has=page.locator(".optimizer-explorer-status"))
        canvas.evaluate(RECORD, [status_widget.element_handle(), marker])
        page.keyboard.press("Enter")

        expect(status).to_contain_text(marker, timeout=TIMEOUT_MS)
        _wait_for_idle_kernel(page)
        after = _wait_until_stable(page, canvas)
        record = page.evaluate("() => window.__record")

        assert after != before, f"the figure did not change when the momentum became {momentum}"
        expected_rate = heavy_ball_rate(LEARNING_RATE, float(momentum), (1.0, CONDITION_NUMBER))
        assert f"{expected_rate:.4f}" in status.inner_text()
        assert None not in (record["start"], record["status"]) and record["draws"], "a step was not seen"
        # The canvas has been stable since its last draw, so that draw showed the final figure.
        latencies.append((record["status"] - record["start"], record["draws"][-1] - record["start"]))
        before = after
    print(
        "\nbrowser latency after a momentum change (target <= 400 ms to the plot): "
        + "; ".join(f"status text {text:.0f} ms, final plot {plot:.0f} ms" for text, plot in latencies)
    )


def test_click_on_the_contour_plot_moves_the_start(explorer_page):
    from playwright.sync_api import expect

    page, explorer = explorer_page
    status = explorer.locator(".optimizer-explorer-status")
    canvas = explorer.locator(".jupyter-matplotlib-canvas-div canvas").first
    before = _wait_until_stable(page, canvas)
    # Where the surface axes sit in the figure: the same layout, built headless here.
    reference = optimizer_explorer()
    figure_width, figure_height = reference.figure.bbox.width, reference.figure.bbox.height
    pixel_x, pixel_y = reference.ax_surface.transData.transform((1.0, -1.0))
    box = canvas.bounding_box()
    assert (box["width"], box["height"]) == pytest.approx((figure_width, figure_height), abs=1)
    # ipympl listens on the canvas stacked on top of the image; click through the page.
    page.mouse.click(box["x"] + pixel_x, box["y"] + figure_height - pixel_y)

    expect(status).not_to_contain_text(f"start {START}", timeout=TIMEOUT_MS)
    _wait_for_idle_kernel(page)
    after = _wait_until_stable(page, canvas)
    start = re.search(r"start \((\S+), (\S+)\)", status.inner_text())
    # One pixel is 6 / 400 of a unit in x: the click lands within two of them.
    assert float(start[1]) == pytest.approx(1.0, abs=0.03) and float(start[2]) == pytest.approx(-1.0, abs=0.03)
    assert after != before, "the figure did not change after the click"
