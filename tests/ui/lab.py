"""A throwaway JupyterLab and what a user does in it, shared by the browser tests and bench/.

- jupyterlab(root, base): a context manager running `jupyter lab` on 127.0.0.1 (random
  port and token) over the folder `root`, with settings, workspaces and user folders
  under `base` (no news toast, no user configuration).
- CHROMIUM, CHROMIUM_ARGS: Debian's headless Chromium, as Playwright launches it here.
- run_all(page, lab, notebook): open a notebook, wait for its kernel, Run All Cells and
  wait until every cell has run; returns the seconds that took (RuntimeError when a cell fails).
- drag_slider(page, slider, fraction): what a hand does to an ipywidgets slider: mouse
  down on its handle, moves along the track, mouse up.
- drawn(canvas), wait_until_settled(page, canvas, timeout_ms), pixel(canvas, x, y): what
  a course_lib Plot (course_lib/widgets/plot.js) reports drawing, and the pixels it shows.

Importing it needs tests/ on sys.path (pytest puts it there; bench/ adds it).
"""

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from fixtures.jupyter_env import USER_FOLDER_VARIABLES

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT_S = 60
IDLE_KERNEL = "Python 3 (ipykernel) | Idle"
# In the page: whether every code cell has run (no "[*]" or empty prompt left).
_SOME_CELL_STARTED = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
  .some((p) => /^\\[(\\*|\\d+)\\]:$/.test(p.textContent.trim()))"""
_ALL_CELLS_RAN = """() => {
  const error = document.querySelector('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]');
  if (error) return error.textContent.slice(-2000);  // Run All stops at an error
  const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map((p) => p.textContent.trim());
  return prompts.length > 0 && prompts.every((p) => /^\\[\\d+\\]:$/.test(p));
}"""


class JupyterLab:
    """A running `jupyter lab`; url(notebook) opens a notebook of its root folder."""

    def __init__(self, port, token, process, log_path):
        self.port, self.token = port, token
        self.process, self.log_path = process, log_path

    def url(self, notebook):
        """The notebook's address, in a fresh workspace (no tabs restored from another page)."""
        return f"http://127.0.0.1:{self.port}/lab/tree/{notebook}?reset&token={self.token}"

    def log(self):
        return self.log_path.read_text(errors="replace")[-4000:]


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def jupyterlab(root, base, extra_env=None):
    """Run JupyterLab over `root` until the block ends; yields a JupyterLab.

    Inputs:
    - root: the folder the server serves (notebooks are opened relative to it).
    - base: an empty folder for the server's settings, workspaces, user folders and log.
    - extra_env: variables added to the server's (and so its kernels') environment.

    Raises RuntimeError with the server's log when it exits or does not answer in time.
    """
    base = Path(base)
    settings = base / "settings"
    notification = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = dict(
        os.environ,
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        # no user configuration reaches the server or its kernels
        **{name: str(base / name.lower()) for name in USER_FOLDER_VARIABLES},
        **(extra_env or {}),
    )
    env.pop("MPLBACKEND", None)  # the notebook picks its own backend
    port, token = _free_port(), secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")  # CI runs as root
    log_path = base / "jupyterlab.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    lab = JupyterLab(port, token, process, log_path)
    try:
        _wait_until_serving(lab)
        yield lab
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_until_serving(lab):
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    status_url = f"http://127.0.0.1:{lab.port}/api/status?token={lab.token}"
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with code {lab.process.returncode}:\n{lab.log()}")
        try:
            with urllib.request.urlopen(status_url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"jupyter lab did not answer within {SERVER_START_TIMEOUT_S} s:\n{lab.log()}")


def wait_for_idle_kernel(page, timeout_ms):
    page.get_by_text(IDLE_KERNEL).wait_for(timeout=timeout_ms)


def run_all(page, lab, notebook, timeout_ms, start_timeout_ms=60_000):
    """Open `notebook`, Run All Cells as a student would, wait until all ran; return the seconds taken.

    The menu's Run All Cells acts on the notebook that has the focus: the notebook is clicked
    first, and the command given again if no cell has started within start_timeout_ms.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    page.goto(lab.url(notebook), timeout=timeout_ms)  # JupyterLab loads slowly on a busy machine
    wait_for_idle_kernel(page, timeout_ms)
    start = time.monotonic()
    for attempt in range(2):
        page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").first.click()
        page.locator(".lm-MenuBar-item", has_text="Run").click()
        page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()
        try:
            page.wait_for_function(_SOME_CELL_STARTED, timeout=start_timeout_ms, polling=250)
            break
        except PlaywrightTimeoutError:
            if attempt:
                page.screenshot(path=str(lab.log_path.with_name("run_all_failed.png")))
                raise
    ran = page.wait_for_function(_ALL_CELLS_RAN, timeout=timeout_ms, polling=250).json_value()
    if ran is not True:
        raise RuntimeError(f"{notebook}: a cell failed during Run All:\n{ran}")
    wait_for_idle_kernel(page, timeout_ms)
    return time.monotonic() - start


def drag_slider(page, slider, fraction, moves=20, pause_s=1 / 60):
    """Drag the handle of an ipywidgets slider to `fraction` (0..1) of its track with the mouse.

    Inputs:
    - page: the Playwright page; slider: a locator of the slider widget (.widget-slider).
    - fraction: where along the track to let go; moves: mouse moves on the way, each
      followed by pause_s seconds (a hand moves for about a third of a second).
    """
    slider.scroll_into_view_if_needed()
    handle = slider.locator(".noUi-handle").first.bounding_box()
    track = slider.locator(".noUi-target").first.bounding_box()
    x0, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    x1 = track["x"] + fraction * track["width"]
    page.mouse.move(x0, y)
    page.mouse.down()
    for i in range(1, moves + 1):
        page.mouse.move(x0 + (x1 - x0) * i / moves, y)
        time.sleep(pause_s)
    page.mouse.up()


def drawn(canvas):
    """What the canvas of a course_lib Plot drew in its latest frame.

    Returns {"step": int, "series": {key: {"points": n, "last": [x, y], "pixel": [px, py]}}}.
    """
    return json.loads(canvas.get_attribute("data-drawn"))


def wait_until_settled(page, canvas, timeout_ms, quiet_ms=1000):
    """Wait for an idle kernel and no new frame of a course_lib Plot for quiet_ms; return drawn(canvas)."""
    wait_for_idle_kernel(page, timeout_ms)
    frames = canvas.get_attribute("data-frames")
    while True:
        page.wait_for_timeout(quiet_ms)
        now = canvas.get_attribute("data-frames")
        if now == frames:
            wait_for_idle_kernel(page, timeout_ms)
            return drawn(canvas)
        frames = now


def pixel(canvas, x, y):
    """The RGB colour the canvas shows at CSS pixel (x, y)."""
    return canvas.evaluate(
        "(c, [x, y]) => { const r = window.devicePixelRatio || 1;"
        " return Array.from(c.getContext('2d').getImageData(Math.round(x * r), Math.round(y * r), 1, 1).data)"
        ".slice(0, 3); }",
        [x, y],
    )
