"""Plain `nbgrader` commands run in the course folder follow the course's rules.

The course's nbgrader_config.py (copied beside the toy course) is what they load. Run
with a PATH that lacks the virtualenv (as from a desktop launcher): generate_assignment
still finds `alembic` and rewrites the release notebook to the same bytes instead of
deleting it, and autograde runs the student's kernel inside the grading sandbox.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from fixtures import grading_course as course

from course_lib.grading.release import release
from course_lib.grading.sandbox import Sandbox
from course_lib.grading.settings import Settings

REPO = Path(__file__).resolve().parents[1]
PROBE = """import json, os, resource
try:
    open({solution!r}).read()
    solutions = "readable"
except OSError as error:
    solutions = type(error).__name__
print("PROBE " + json.dumps({{"uid": os.getuid(), "solutions": solutions,
    "memory": resource.getrlimit(resource.RLIMIT_AS)[0]}}))
"""


def _nbgrader(course_dir, *argv):
    # no virtualenv on PATH: nbgrader_config.py must put it there for alembic
    env = dict(os.environ, PATH="/usr/bin:/bin")
    command = [os.path.join(os.path.dirname(sys.executable), "nbgrader"), *argv]
    return subprocess.run(command, cwd=course_dir, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def toy_course(tmp_path_factory, isolated_jupyter):
    root = tmp_path_factory.mktemp("plain")
    course.write_source(root / "solutions")
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    release(Settings(course_root=str(root)))
    return root


def test_generate_assignment_finds_alembic_and_keeps_the_release_notebook(toy_course):
    notebook = toy_course / "assignments" / course.ASSIGNMENT / f"{course.NOTEBOOK}.ipynb"
    before = notebook.read_bytes()
    done = _nbgrader(toy_course, "generate_assignment", course.ASSIGNMENT, "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    assert notebook.read_bytes() == before


def test_autograde_runs_the_student_kernel_in_the_sandbox(toy_course):
    released = nbformat.read(toy_course / "assignments" / course.ASSIGNMENT / f"{course.NOTEBOOK}.ipynb", as_version=4)
    solution = str(toy_course / "solutions" / course.ASSIGNMENT / f"{course.NOTEBOOK}.ipynb")
    submission = course.probe_submission(released, PROBE.format(solution=solution))
    folder = toy_course / "submitted" / "eve" / course.ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(submission, folder / f"{course.NOTEBOOK}.ipynb")
    done = _nbgrader(toy_course, "autograde", course.ASSIGNMENT)
    assert done.returncode == 0, done.stdout + done.stderr
    graded = nbformat.read(toy_course / "autograded" / "eve" / course.ASSIGNMENT / f"{course.NOTEBOOK}.ipynb", 4)
    lines = [line for c in graded.cells for o in c.get("outputs", []) for line in o.get("text", "").splitlines()]
    probe = json.loads(next(line for line in lines if line.startswith("PROBE "))[len("PROBE ") :])
    machine = Sandbox.detect(Settings())
    assert probe["memory"] == Settings().memory_bytes
    if machine.user is not None:
        assert probe["uid"] == machine.user[0] != 0
    if machine.namespaces:
        assert probe["solutions"] == "FileNotFoundError"
