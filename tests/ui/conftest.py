"""A real JupyterLab and a headless Chromium for the browser tests.

One JupyterLab server per test run (tests/ui/lab.py: 127.0.0.1, a random port and
token, throwaway settings and workspaces), serving a temporary copy of the lessons
under test. Chromium is Debian's (`apt-get install chromium`), driven by Playwright;
Playwright's own browser download is not used.

Without a browser these tests skip with the reason, except in CI (CI=true),
where .ci/run installs Chromium and a missing browser is a failure.
"""

import importlib.util
import os
import shutil
from pathlib import Path

import pytest
from lab import CHROMIUM, CHROMIUM_ARGS, jupyterlab

# The notebooks the browser tests open: the lessons students use, not stand-ins.
LESSONS = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = [LESSONS / "09_optimizers.ipynb", LESSONS / "03_activations_initialization.ipynb"]


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


@pytest.fixture(scope="session")
def jupyter_lab(browser_available, tmp_path_factory):
    """One JupyterLab for the whole run, serving copies of NOTEBOOKS (by file name).

    Copies, so that JupyterLab's autosave never writes outputs into the repository.
    """
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "notebooks"
    root.mkdir()
    for notebook in NOTEBOOKS:
        shutil.copy(notebook, root / notebook.name)
    (base / "lab").mkdir()
    try:
        with jupyterlab(root, base / "lab") as lab:
            yield lab
    except RuntimeError as error:
        pytest.fail(str(error))


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
