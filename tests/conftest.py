"""Shared pytest set-up: plots render off-screen in plain tests (kernels keep inline); one browser."""

import importlib.util
import os
from pathlib import Path

import matplotlib
import pytest
from fixtures.jupyter_env import USER_FOLDER_VARIABLES
from ui.lab import CHROMIUM, CHROMIUM_ARGS

matplotlib.use("Agg")

# Notebooks under tests/ are fixtures that tests open themselves; only lessons run as nbmake items.
collect_ignore_glob = ["**/*.ipynb"]


@pytest.fixture(scope="module")
def isolated_jupyter(tmp_path_factory):
    """Kernels and nbgrader started by a test module read no user configuration."""
    root = tmp_path_factory.mktemp("jupyter")
    with pytest.MonkeyPatch.context() as patch:
        for name in USER_FOLDER_VARIABLES:
            patch.setenv(name, str(root / name.lower()))
        yield


def _missing_browser():
    """Return why the browser tests cannot run here, or None when they can."""
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (install it with `apt-get install chromium`)"
    if importlib.util.find_spec("playwright") is None:
        return "the Python package playwright is not installed (pip install -r requirements-dev.txt)"
    return None


@pytest.fixture(scope="session")
def browser_available():
    """Skip (or fail, in CI, where .ci/run installs Chromium) when Chromium or Playwright is missing."""
    reason = _missing_browser()
    if reason and os.environ.get("CI") == "true":
        pytest.fail(f"browser tests must run in CI, but {reason}")
    if reason:
        pytest.skip(reason)


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
