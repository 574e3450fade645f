"""`course release`: assignments/ is exactly what nbgrader generates from solutions/."""

import json
import os
from pathlib import Path

import nbformat
import pytest
from fixtures import grading_course as course

from course_lib import cli
from course_lib.grading.release import assignments_in, release
from course_lib.grading.settings import Settings

REPO = Path(__file__).resolve().parents[1]


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file())


def test_committed_assignments_are_what_release_generates_from_solutions(tmp_path, isolated_jupyter):
    settings = Settings.load(REPO)
    released = release(settings, release_dir=tmp_path / "assignments")
    committed = REPO / "assignments"
    assert sorted(d.name for d in committed.iterdir() if d.is_dir()) == released == assignments_in(settings.source_dir)
    for assignment in released:
        fresh, kept = tmp_path / "assignments" / assignment, committed / assignment
        assert _files(kept) == _files(fresh), f"run `course release`: {assignment} is out of date"
        for name in _files(fresh):
            if name.endswith(".ipynb"):
                # nbgrader's output is deterministic: nothing needs normalising
                assert json.loads((kept / name).read_text()) == json.loads((fresh / name).read_text()), name
            else:
                assert (kept / name).read_bytes() == (fresh / name).read_bytes(), name


@pytest.fixture(scope="module")
def toy_course(tmp_path_factory, isolated_jupyter):
    """A toy course with a data file and a retired release folder, released once."""
    root = tmp_path_factory.mktemp("course")
    course.write_source(root / "solutions")
    (root / "solutions" / course.ASSIGNMENT / "data.csv").write_text("x,y\n1,2\n")
    (root / "assignments" / "retired").mkdir(parents=True)
    assert release(Settings(course_root=str(root))) == [course.ASSIGNMENT]
    return root


def test_release_strips_solutions_and_hidden_tests_and_locks_tests(toy_course):
    folder = toy_course / "assignments" / course.ASSIGNMENT
    assert _files(folder) == ["data.csv", f"{course.NOTEBOOK}.ipynb"]
    nb = nbformat.read(folder / f"{course.NOTEBOOK}.ipynb", as_version=4)
    text = nbformat.writes(nb)
    assert "return 2 * x" not in text and course.HIDDEN_MARKER not in text
    assert text.count("raise NotImplementedError()") == 2
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(tests) == 3 and all(c.metadata.nbgrader["locked"] for c in tests)


def test_release_is_deterministic_removes_retired_folders_and_leaves_no_gradebook(toy_course, capsys):
    notebook = toy_course / "assignments" / course.ASSIGNMENT / f"{course.NOTEBOOK}.ipynb"
    first = notebook.read_bytes()
    assert cli.main(["release", "--course", str(toy_course)]) == 0
    assert "regenerated 1 assignment(s)" in capsys.readouterr().out
    assert notebook.read_bytes() == first
    assert sorted(os.listdir(toy_course / "assignments")) == [course.ASSIGNMENT]
    assert not (toy_course / "gradebook.db").exists()
