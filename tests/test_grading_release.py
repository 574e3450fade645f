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


def test_release_is_deterministic_keeps_and_names_folders_without_source_and_leaves_no_gradebook(toy_course, capsys):
    notebook = toy_course / "assignments" / course.ASSIGNMENT / f"{course.NOTEBOOK}.ipynb"
    first = notebook.read_bytes()
    assert cli.main(["release", "--course", str(toy_course)]) == 0
    out = capsys.readouterr().out.splitlines()
    retired = toy_course / "assignments" / "retired"
    assert out == [
        f"regenerated 1 assignment(s) in {toy_course / 'assignments'}: {course.ASSIGNMENT}",
        f"left {retired} as it is: {toy_course / 'solutions'} has no retired/ (delete it by hand if it is retired)",
    ]
    assert notebook.read_bytes() == first
    assert sorted(os.listdir(toy_course / "assignments")) == ["retired", course.ASSIGNMENT]
    assert not (toy_course / "gradebook.db").exists()


def _committed_release(root):
    """A course folder whose assignments/ holds a committed student notebook; returns that notebook."""
    notebook = root / "assignments" / course.ASSIGNMENT / f"{course.NOTEBOOK}.ipynb"
    notebook.parent.mkdir(parents=True)
    nbformat.write(course.source_notebook(), notebook)
    return notebook


@pytest.mark.parametrize("source", ["missing", "empty", "no notebook"])
def test_release_without_usable_solutions_fails_first_and_deletes_no_student_notebook(tmp_path, capsys, source):
    notebook = _committed_release(tmp_path)
    before = notebook.read_bytes()
    if source == "empty":
        (tmp_path / "solutions").mkdir()
    elif source == "no notebook":
        (tmp_path / "solutions" / course.ASSIGNMENT).mkdir(parents=True)
    assert cli.main(["release", "--course", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    expected = {
        "missing": f"the source folder {tmp_path / 'solutions'} does not exist",
        "empty": f"the source folder {tmp_path / 'solutions'} holds no assignment folder",
        "no notebook": f"the source folder {tmp_path / 'solutions'} has assignment folder(s) without a notebook: toy",
    }[source]
    assert error.startswith(f"course release: {expected}")
    assert notebook.read_bytes() == before
    assert sorted(os.listdir(tmp_path / "assignments")) == [course.ASSIGNMENT]


def test_release_from_a_source_folder_of_other_assignments_keeps_the_committed_ones(tmp_path, isolated_jupyter):
    notebook = _committed_release(tmp_path)
    before = notebook.read_bytes()
    other = tmp_path / "elsewhere"
    course.write_source(other)
    (other / course.ASSIGNMENT).rename(other / "other")
    (other / "other" / f"{course.NOTEBOOK}.ipynb").rename(other / "other" / "other.ipynb")
    settings = Settings(course_root=str(tmp_path), source_directory=str(other))
    assert release(settings) == ["other"]
    assert notebook.read_bytes() == before
    assert sorted(os.listdir(tmp_path / "assignments")) == ["other", course.ASSIGNMENT]
