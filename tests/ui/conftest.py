"""A real JupyterLab and a headless Chromium for the browser tests.

One JupyterLab server per test run, on 127.0.0.1 with a random port and token,
serving a temporary copy of the notebooks under test, with throwaway settings
(no news toast) and workspaces. Chromium is Debian's (`apt-get install
chromium`), driven by Playwright; Playwright's own browser download is not used.

Without a browser these tests skip with the reason, except in CI (CI=true),
where .ci/run installs Chromium and a missing browser is a failure.
"""

import importlib.util
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

import pytest
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
# The notebooks the browser tests open: the lesson students use, not a stand-in.
NOTEBOOKS = [Path(__file__).resolve().parents[2] / "notebooks" / "09_optimizers.ipynb"]


def _missing_browser():
    """Return why the browser tests cannot run here, or None when they can."""
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (install it with `apt-get install chromium`)"
    if importlib.util.find_spec("playwright") is None:
        return "the Python package playwright is not installed (pip install -r requirements-dev.txt)"
    return None


@pytest.fixture(scope="session")
def browser_available():
    """Skip (or fail, in CI) when Chromium or Playwright is missing."""
    reason = _missing_browser()
    if reason and os.environ.get("CI") == "true":
        pytest.fail(f"browser tests must run in CI, but {reason}")
    if reason:
        pytest.skip(reason)


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class JupyterLab:
    """A running `jupyter lab` serving `root`; .url(path) opens a notebook."""

    def __init__(self, port, token, process, log_path):
        self.port, self.token = port, token
        self.process, self.log_path = process, log_path

    def url(self, notebook):
        return f"http://127.0.0.1:{self.port}/lab/tree/{notebook}?token={self.token}"

    def log(self):
        return self.log_path.read_text(errors="replace")[-4000:]


@pytest.fixture(scope="session")
def jupyter_lab(browser_available, tmp_path_factory):
    """Start one JupyterLab for the whole run, serving copies of NOTEBOOKS (by file name).

    Copies, so that JupyterLab's autosave never writes outputs into the repository.
    """
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "notebooks"
    root.mkdir()
    for notebook in NOTEBOOKS:
        shutil.copy(notebook, root / notebook.name)
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
            pytest.fail(f"jupyter lab exited with code {lab.process.returncode}:\n{lab.log()}")
        try:
            with urllib.request.urlopen(status_url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"jupyter lab did not answer within {SERVER_START_TIMEOUT_S} s:\n{lab.log()}")


@pytest.fixture(scope="session")
def browser(browser_available):
    """A headless Debian Chromium driven by Playwright, shared by the run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser page with a window large enough for the explorers."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
