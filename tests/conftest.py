"""Shared pytest set-up: plots render off-screen in plain tests (kernels keep inline)."""

import matplotlib

matplotlib.use("Agg")
