"""The initialization explorer in a real JupyterLab: drag the depth slider, see every layer drawn.

The initialization lesson is run once (Run All Cells). The test drags the depth slider's
handle with the mouse, reads the depth the slider shows afterwards and checks the frame
the browser drew last: one histogram per layer for exactly that many layers, and the
per-layer standard deviations course_lib computes headless for that depth.
"""

import re

import numpy as np
from lab import drag_slider, run_all, wait_until_settled

from course_lib.initialization import activation_statistics

NOTEBOOK = "03_activations_initialization.ipynb"
# The lesson's explorer once its cells have run: ReLU with He initialization, 250 units per layer.
NONLINEARITY, SCHEME, WIDTH, NUM_SAMPLES = "relu", "he", 250, 200
TIMEOUT_MS = 300_000  # the whole lesson runs before the explorer appears


def test_dragging_the_depth_slider_draws_every_layer(jupyter_lab, browser):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    try:
        run_all(page, jupyter_lab, NOTEBOOK, TIMEOUT_MS)
        explorer = page.locator(".initialization-explorer").first
        canvas = explorer.locator("canvas.course-plot-canvas").first
        canvas.wait_for(timeout=TIMEOUT_MS)
        explorer.scroll_into_view_if_needed()
        wait_until_settled(page, canvas, TIMEOUT_MS)
        slider = explorer.locator(".widget-slider", has=page.locator("label", has_text=re.compile(r"^depth$")))
        for fraction in (0.25, 0.6):
            drag_slider(page, slider, fraction)
            wait_until_settled(page, canvas, TIMEOUT_MS)
            depth = int(slider.locator(".widget-readout").inner_text())
            table = explorer.locator(".initialization-explorer-stds")
            expect(table.locator("tr").first.locator("th")).to_have_count(depth + 1, timeout=TIMEOUT_MS)
            state = wait_until_settled(page, canvas, TIMEOUT_MS)
            histograms = sorted(int(key.split(":")[1]) for key in state["series"] if key.startswith("activations:"))
            assert histograms == list(range(1, depth + 1))
            stats = activation_statistics(NONLINEARITY, SCHEME, depth, WIDTH, NUM_SAMPLES, 0)
            for kind, stds in (("activations", stats["stds"]), ("gradients", stats["grad_stds"])):
                series = state["series"][f"std:{kind}"]
                assert series["points"] == depth
                np.testing.assert_allclose(series["last"], [depth, stds[-1]], rtol=1e-9)
    finally:
        context.close()
