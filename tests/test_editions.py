"""The student edition and self-study: what each holds, and that their commands work.

The student edition is built with `course student-edition OUT --zip` from this repository
and unpacked into a fresh folder. No file in it may hold a solution or a hidden test of
solutions/ (every such block, looked for in every file), nor any instructor file. Its two
README commands then run from the unpack: `make check`, and `make lab` (a real JupyterLab,
asked over HTTP what it serves). Their install step (`pip install -r requirements.txt -e .`
into .venv) is stood in for by a virtualenv that reads this one's packages and the unpacked
course_lib, so the test needs no network and no second PyTorch.

Self-study: `python -m course_lib.classroom.lab` (what `make lab` runs) on a copy of the
repository serves lessons and assignments from one root, with the Formgrader off while the
course has no gradebook (and on, and working, once it has one), and leaves no gradebook.db.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbformat
import pytest
from fixtures.jupyter_server import get, serving

from course_lib import cli

REPO = Path(__file__).resolve().parents[1]
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
INSTRUCTOR_FILES = {"solutions", "course.toml", "gradebook.db", "tests", ".git", "submitted", "autograded"}
INSTRUCTOR_FILES |= {"feedback", "grades", "archive", "bench", ".ci", "grades.csv", "logs"}


def _blocks(text, begin, end):
    return [b.strip() for b in re.findall(f"{re.escape(begin)}(.*?){re.escape(end)}", text, flags=re.S) if b.strip()]


def _secrets():
    """Every solution block and hidden-test block of solutions/, as text."""
    found = []
    for path in sorted((REPO / "solutions").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            found += _blocks(cell.source, BEGIN_SOLUTION, END_SOLUTION) + _blocks(cell.source, BEGIN_HIDDEN, END_HIDDEN)
    return found


def _readable_text(path):
    """A file's text as a reader sees it: a notebook's cell sources, any other file's content."""
    if path.suffix == ".ipynb":
        return "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
    return path.read_bytes().decode("utf-8", errors="replace")


@pytest.fixture(scope="module")
def edition(tmp_path_factory, isolated_jupyter):
    """The student edition as a student unpacks it, and the folder of its exchange."""
    base = tmp_path_factory.mktemp("edition")
    exchange = base / "exchange"
    exchange.mkdir()
    os.chmod(exchange, 0o1777)
    built = base / "built" / "tnn101-student"
    assert cli.main(["student-edition", str(built), "--zip", "--exchange", str(exchange)]) == 0
    unpacked = base / "unpacked"
    with zipfile.ZipFile(f"{built}.zip") as archive:
        archive.extractall(unpacked)
    return unpacked / "tnn101-student", exchange


@pytest.fixture(scope="module")
def edition_venv(edition, tmp_path_factory):
    """A .venv for the edition: this virtualenv's packages plus the unpacked course_lib (as `pip -e .` would)."""
    root, _ = edition
    venv = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    packages = sorted({sysconfig.get_paths()[key] for key in ("purelib", "platlib")})
    Path(site, "edition.pth").write_text("\n".join([str(root), *packages]) + "\n")
    (venv / "bin" / ".installed").touch()  # newer than the unpacked requirements: make skips the install
    return venv


def _env():
    """The environment for the edition's commands: the data and config of this virtualenv's Jupyter
    extensions (where `pip install` would put them in the edition's .venv)."""
    env = dict(os.environ)
    env["JUPYTER_PATH"] = os.path.join(sys.prefix, "share", "jupyter")
    env["JUPYTER_CONFIG_PATH"] = os.path.join(sys.prefix, "etc", "jupyter")
    env.pop("MPLBACKEND", None)
    return env


def test_the_edition_has_the_contract_layout(edition):
    root, exchange = edition
    top = sorted(p.name for p in root.iterdir())
    assert top == sorted(
        [
            "Makefile",
            "README.md",
            "assignments",
            "course_lib",
            "jupyter-config",
            "nbgrader_config.py",
            "notebooks",
            "pyproject.toml",
            "requirements.txt",
        ]
    )
    assert sorted(p.name for p in (root / "assignments").iterdir()) == sorted(
        p.name for p in (REPO / "assignments").iterdir()
    )
    config = (root / "nbgrader_config.py").read_text()
    assert "c.CourseDirectory.course_id = 'tnn101'" in config and f"c.Exchange.root = '{exchange}'" in config


def test_no_file_holds_a_solution_a_hidden_test_or_an_instructor_file(edition):
    root, _ = edition
    blocks = _secrets()
    assert len(blocks) > 20  # the scan looks for something real
    files = [p for p in root.rglob("*") if p.is_file()]
    assert len(files) > 50
    for path in files:
        relative = path.relative_to(root)
        assert not INSTRUCTOR_FILES & set(relative.parts), relative
        text = _readable_text(path)
        if path.suffix == ".ipynb":
            for marker in (BEGIN_SOLUTION, BEGIN_HIDDEN, END_HIDDEN, "END SOLUTION"):
                assert marker not in text, (relative, marker)
        # course_lib is the reference library students are given: a one-statement answer
        # (a schedule's formula, `return lr0 / (1 + k * t)`) is the lecture's and may be there too
        checked = [b for b in blocks if "\n" in b] if relative.parts[0] == "course_lib" else blocks
        leaked = [block.splitlines()[0] for block in checked if block in text]
        assert not leaked, (relative, leaked)
    config = (root / "nbgrader_config.py").read_text()
    assert "course_config" not in config and "Autograde" not in config and "db_url" not in config


def test_make_check_passes_from_a_fresh_unpack(edition, edition_venv):
    root, _ = edition
    done = subprocess.run(
        ["make", "-C", str(root), "check", f"VENV={edition_venv}"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 passed, 0 failed" in done.stdout and "FAIL" not in done.stdout
    assert "kernel: assignments/a1_softmax/a1_softmax.ipynb runs" in done.stdout


def _disabled(lab):
    _, page = get(lab, "/lab")
    return set(json.loads(re.search(r'"disabledExtensions": (\[[^\]]*\])', page).group(1)))


def test_make_lab_opens_the_edition_with_the_assignments_tab_and_no_instructor_tools(edition, edition_venv, tmp_path):
    root, _ = edition
    env = dict(_env(), JUPYTER_RUNTIME_DIR=str(tmp_path))
    command = ["make", "-C", str(root), "lab", f"VENV={edition_venv}", "LAB_ARGS={ARGS}"]
    with serving(command, root, env) as (lab, output):
        listing = json.loads(get(lab, "/api/contents")[1])
        assert {"notebooks", "assignments", "README.md"} <= {item["name"] for item in listing["content"]}
        assert get(lab, "/formgrader")[0] == 404
        assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"} <= _disabled(lab)
        assert not {"@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:menu"} & _disabled(lab)
        courses = json.loads(get(lab, "/courses")[1])
        assert courses["success"] is True, courses
    assert "This is the student edition" in output["printed"] and "Assignments tab: on" in output["printed"]


@pytest.fixture
def self_study_course(tmp_path):
    """A copy of the repository's course (what `make lab` opens), without the class state."""
    course = tmp_path / "course"
    for name in ("notebooks", "assignments", "solutions", "course_lib"):
        shutil.copytree(REPO / name, course / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("nbgrader_config.py", "course.toml", "README.md"):
        shutil.copy(REPO / name, course / name)
    return course


def test_self_study_lab_reaches_lessons_and_assignments_and_leaves_no_gradebook(self_study_course, tmp_path):
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), PATH="/usr/bin:/bin")
    with serving([sys.executable, "-m", "course_lib.classroom.lab", "{ARGS}"], self_study_course, env) as (
        lab,
        output,
    ):
        listing = {item["name"] for item in json.loads(get(lab, "/api/contents")[1])["content"]}
        assert {"notebooks", "assignments"} <= listing
        assert get(lab, "/api/contents/assignments/a1_softmax/a1_softmax.ipynb")[0] == 200
        assert get(lab, "/formgrader")[0] == 404 and get(lab, "/assignments?course_id=tnn101")[0] == 404
        assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:menu"} <= (
            _disabled(lab)
        )
    assert "opened for self-study" in output["printed"] and "Formgrader: off" in output["printed"]
    assert not (self_study_course / "gradebook.db").exists()


def test_once_a_class_is_taught_the_formgrader_is_on_and_answers(self_study_course, tmp_path, monkeypatch):
    from nbgrader.api import Gradebook

    monkeypatch.setenv("PATH", os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]]))  # alembic
    with Gradebook(f"sqlite:///{self_study_course / 'gradebook.db'}"):
        pass  # what `course collect` or `course grade` leaves
    # PATH without the virtualenv: the Formgrader still finds alembic (no "Loading, please wait..." forever)
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), PATH="/usr/bin:/bin")
    with serving([sys.executable, "-m", "course_lib.classroom.lab", "{ARGS}"], self_study_course, env) as (
        lab,
        output,
    ):
        assert "@jupyter/nbgrader:formgrader" not in _disabled(lab)
        status, body = get(lab, "/formgrader/api/assignments")
        assert status == 200, body
        names = {a["name"] for a in json.loads(body)}
        assert "a1_softmax" in names
    assert "Formgrader: on" in output["printed"]
