"""A real JupyterLab and a headless Chromium for the browser tests.

One JupyterLab server per test run (tests/ui/lab.py: 127.0.0.1, a random port and
token, throwaway settings and workspaces), serving a temporary copy of the lessons
under test. Chromium is Debian's (`apt-get install chromium`), driven by Playwright;
Playwright's own browser download is not used.

The browser itself (the `browser` fixture, skipped with the reason when Chromium is missing,
except in CI) is tests/conftest.py's, shared with the hub's browser test.
"""

import shutil
from pathlib import Path

import pytest
from lab import jupyterlab

# The notebooks the browser tests open: the lessons students use, not stand-ins.
LESSONS = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = [LESSONS / "09_optimizers.ipynb", LESSONS / "03_activations_initialization.ipynb"]


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


@pytest.fixture
def page(browser):
    """A fresh browser page with a window large enough for the explorers."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
