"""Shared pytest set-up: plots render off-screen in plain tests (kernels keep inline)."""

import matplotlib

matplotlib.use("Agg")

# Notebooks under tests/ are fixtures that tests open themselves; only lessons run as nbmake items.
collect_ignore_glob = ["**/*.ipynb"]
