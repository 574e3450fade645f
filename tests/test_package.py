"""The package's metadata: the version is written once, in course_lib/__init__.py."""

import re
from pathlib import Path

import pytest
import tomllib

import course_lib
from course_lib.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_the_version_has_one_source():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"], "pyproject.toml must not restate the version"
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "course_lib.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", course_lib.__version__)


def test_the_command_reports_that_version(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"course_lib {course_lib.__version__}"


def test_every_kernel_the_course_starts_runs_one_blas_thread():
    from course_lib import ONE_THREAD_ENV
    from course_lib.classroom.lab import lab_environment
    from course_lib.grading.jail import _kernel_environment

    lab = lab_environment("/nowhere", environ={"OMP_NUM_THREADS": "8"})
    graded = _kernel_environment({"workdir": "/nowhere"})
    for env in (lab, graded):
        assert {name: env[name] for name in ONE_THREAD_ENV} == ONE_THREAD_ENV
