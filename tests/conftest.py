"""Shared pytest set-up: plots render off-screen in plain tests (kernels keep inline)."""

import matplotlib
import pytest
from fixtures.jupyter_env import USER_FOLDER_VARIABLES

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
