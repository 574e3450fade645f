"""The optimizer explorer in a real JupyterLab: drag a slider or click, see the figure follow.

The optimizer lesson is run once for the module (Run All Cells, as a student does).
The first test drags the momentum slider's handle with the mouse (down, moves, up),
reads the value the slider shows afterwards, and checks that the figure the browser
drew last is the one for that value: plot.js writes, with every frame, how many points
of each line it drew and where the last one is, and those must be the path that
course_lib computes headless for the final momentum. The time from the mouse-up to
that frame is printed, not asserted: timing is a measurement (bench/), not a test.
The second test clicks the contour plot and checks that the start point moved there
and is drawn there; the third plays the paths back and checks the browser replays them.
"""

import re

import numpy as np
import pytest
from lab import drag_slider, drawn, pixel, run_all, wait_until_settled

from course_lib.widgets import optimizer_explorer
from course_lib.widgets.explorer import on_slider_grid

NOTEBOOK = "09_optimizers.ipynb"
# The lesson's explorer (notebooks/09_optimizers.ipynb) and where its paths start.
LESSON_EXPLORER = {
    "surface": "quadratic",
    "rules": ("sgd", "sgd_momentum", "nesterov_momentum", "adam"),
    "learning_rate": 0.03,
    "num_steps": 200,
    "condition_number": 25,
}
NUM_STEPS, START = 200, (-2.5, 1.5)
TIMEOUT_MS = 300_000  # the whole lesson runs before the explorer appears

# In the page: the times of mouse-ups and of the explorer's frames (drawImage onto its canvas).
RECORD = """
(() => {
  window.__frames = [];
  window.__mouseups = [];
  document.addEventListener('mouseup', () => window.__mouseups.push(performance.now()), true);
  const drawImage = CanvasRenderingContext2D.prototype.drawImage;
  CanvasRenderingContext2D.prototype.drawImage = function (...args) {
    const result = drawImage.apply(this, args);
    if (this.canvas.closest && this.canvas.closest('.optimizer-explorer')) window.__frames.push(performance.now());
    return result;
  };
})();
"""


def expected_paths(momentum, start=START):
    """The paths the lesson's explorer computes headless for `momentum` and `start`.

    Displayed, its log sliders snap the lesson's learning rate and condition number to
    their grids (and the kernel recomputes): the same snapping happens here.
    """
    explorer = optimizer_explorer(**LESSON_EXPLORER)
    c = explorer.controls
    explorer.set(
        learning_rate=on_slider_grid(c["learning_rate"], LESSON_EXPLORER["learning_rate"]),
        condition_number=on_slider_grid(c["condition_number"], LESSON_EXPLORER["condition_number"]),
        momentum=momentum,
        start_x=start[0],
        start_y=start[1],
    )
    return explorer.paths


@pytest.fixture(scope="module")
def explorer_page(jupyter_lab, browser):
    """The lesson opened in JupyterLab and run, its explorer drawn: (page, explorer, canvas)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    context.add_init_script(RECORD)
    page = context.new_page()
    run_all(page, jupyter_lab, NOTEBOOK, TIMEOUT_MS)
    explorer = page.locator(".optimizer-explorer").first
    canvas = explorer.locator("canvas.course-plot-canvas").first
    canvas.wait_for(timeout=TIMEOUT_MS)
    explorer.scroll_into_view_if_needed()
    wait_until_settled(page, canvas, TIMEOUT_MS)
    yield page, explorer, canvas
    context.close()


def test_dragging_the_momentum_slider_draws_the_final_value(explorer_page):
    from playwright.sync_api import expect

    page, explorer, canvas = explorer_page
    status = explorer.locator(".optimizer-explorer-status")
    slider = explorer.locator(".widget-slider", has=page.locator("label", has_text=re.compile(r"^momentum μ$")))
    readout = slider.locator(".widget-readout")
    latencies = []
    for fraction in (0.5, 0.75):
        before = drawn(canvas)
        frames_before = int(canvas.get_attribute("data-frames"))
        drag_slider(page, slider, fraction)
        state = wait_until_settled(page, canvas, TIMEOUT_MS)
        momentum = float(readout.inner_text())
        expect(status).to_contain_text(f"momentum {momentum:.3f} ", timeout=TIMEOUT_MS)
        state = drawn(canvas)  # the kernel has seen the final value: nothing more to draw
        assert int(canvas.get_attribute("data-frames")) > frames_before + 1, "no frames while dragging"
        paths = expected_paths(momentum)
        for rule in ("sgd_momentum", "nesterov_momentum"):
            path = paths[rule]
            series = state["series"][f"path:{rule}"]
            assert series["points"] == len(path)
            np.testing.assert_allclose(series["last"], path[-1], rtol=1e-9, atol=1e-12)
        assert state["series"]["path:sgd_momentum"]["last"] != before["series"]["path:sgd_momentum"]["last"]
        assert state["step"] == NUM_STEPS
        record = page.evaluate("() => ({up: window.__mouseups.at(-1), frame: window.__frames.at(-1)})")
        latencies.append(record["frame"] - record["up"])
    print(
        "\nmomentum drags, mouse-up to the final frame (measured, not asserted; target 400 ms): "
        + ", ".join(f"{ms:.0f} ms" for ms in latencies)
    )


def test_click_on_the_contour_plot_moves_the_start(explorer_page):
    from playwright.sync_api import expect

    page, explorer, canvas = explorer_page
    status = explorer.locator(".optimizer-explorer-status")
    state = wait_until_settled(page, canvas, TIMEOUT_MS)
    # The surface panel's data-to-pixel map, from two points plot.js reports drawing.
    (x_start, y_start), (px_start, py_start) = state["series"]["start"]["last"], state["series"]["start"]["pixel"]
    px_min, py_min = state["series"]["minimum"]["pixel"]
    to_pixel = np.polyfit([x_start, 0.0], [px_start, px_min], 1), np.polyfit([y_start, 0.0], [py_start, py_min], 1)
    target = (1.0, -1.0)
    click_x, click_y = (np.polyval(fit, value) for fit, value in zip(to_pixel, target))
    box = canvas.bounding_box()
    page.mouse.click(box["x"] + click_x, box["y"] + click_y)

    expect(status).not_to_contain_text(f"start ({START[0]:.2f}, {START[1]:.2f})", timeout=TIMEOUT_MS)
    state = wait_until_settled(page, canvas, TIMEOUT_MS)
    start = [float(v) for v in re.search(r"start \((\S+), (\S+)\)", status.inner_text()).groups()]
    # One pixel is about 1/60 of a unit: the click lands within two of them, on the slider's 0.01 grid.
    assert start == pytest.approx(target, abs=0.03)
    assert state["series"]["start"]["last"] == pytest.approx(start)
    px, py = state["series"]["start"]["pixel"]
    assert (px, py) == pytest.approx((click_x, click_y), abs=2)
    assert pixel(canvas, px, py) == [255, 255, 255], "the start marker is drawn where the click was"
    momentum = float(re.search(r"momentum (\S+) ", status.inner_text())[1])
    path = expected_paths(momentum, start=tuple(start))["sgd"]
    np.testing.assert_allclose(state["series"]["path:sgd"]["last"], path[-1], rtol=1e-9, atol=1e-12)


def test_play_replays_the_paths_in_the_browser(explorer_page):
    page, explorer, canvas = explorer_page
    wait_until_settled(page, canvas, TIMEOUT_MS)
    steps_seen = set()
    explorer.locator(".widget-play button").first.click()
    for _ in range(40):
        state = drawn(canvas)
        steps_seen.add(state["step"])
        # a path is drawn up to the step shown, one point per step
        assert state["series"]["path:sgd"]["points"] == min(state["step"], NUM_STEPS) + 1
        page.wait_for_timeout(50)
    explorer.locator(".widget-play button").nth(1).click()  # pause
    assert len(steps_seen - {NUM_STEPS}) > 5, f"the replay showed too few steps: {sorted(steps_seen)}"
