"""`course submit`: the student's check and LMS zip, run through the command line in a course folder.

Each test works in a throwaway course folder holding assignments/a1_softmax/ (the released
notebook, answered by the fixture's students) as the student edition has it.
"""

import hashlib
import json
import os
import re
import zipfile
from pathlib import Path

import pytest
from fixtures.students import solved, write_submission

from course_lib import __version__, cli
from course_lib.grading import COURSE_ID

A1 = "a1_softmax"
SUMMED = {"softmax_loss": [("loss = -log_probs[rows, y].mean()", "loss = -log_probs[rows, y].sum()")]}


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A course folder with assignments/a1_softmax/a1_softmax.ipynb answered correctly; the current folder."""
    write_submission(tmp_path / "assignments", A1, solved(A1))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *argv):
    code = cli.main(["submit", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_correct_submission_prints_every_test_and_writes_the_zip(course, capsys, isolated_jupyter):
    code, out, err = run(capsys, A1, "--student", "alice")
    assert code == 0, err
    assert "PASS softmax: values, normalization and large scores (2/2)" in out
    assert "Estimated score: at most 10 of 10 points" in out
    lines = out.splitlines()
    assert re.fullmatch(
        r"Wrote alice-a1_softmax\.zip \(1 file, student alice, \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\): upload this file\.",
        lines[-1],
    )
    assert lines[-2] == (
        "Estimated score: at most 10 of 10 points (the hidden tests, run at grading, can still take points off)"
    )
    with zipfile.ZipFile(course / "alice-a1_softmax.zip") as archive:
        assert archive.namelist() == ["manifest.json", "a1_softmax/a1_softmax.ipynb"]
        manifest = json.loads(archive.read("manifest.json"))
        notebook = archive.read("a1_softmax/a1_softmax.ipynb")
    assert manifest["format"] == 1 and manifest["course_id"] == COURSE_ID
    assert manifest["assignment"] == A1 and manifest["student_id"] == "alice"
    assert manifest["course_lib_version"] == __version__
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", manifest["submitted_at"])
    assert manifest["files"] == {"a1_softmax/a1_softmax.ipynb": hashlib.sha256(notebook).hexdigest()}
    assert notebook == (course / "assignments" / A1 / f"{A1}.ipynb").read_bytes(), "the notebook goes in as saved"


def test_a_wrong_submission_is_still_submitted_with_its_message(course, capsys, isolated_jupyter):
    write_submission(course / "assignments", A1, solved(A1, SUMMED))
    (course / "assignments" / A1 / "data.csv").write_text("1,2\n")
    (course / "assignments" / A1 / ".ipynb_checkpoints").mkdir()
    (course / "assignments" / A1 / ".ipynb_checkpoints" / "a1_softmax-checkpoint.ipynb").write_text("{}")
    code, out, _ = run(capsys, A1, "--student", "bob", "--out", "upload.zip")
    assert code == 0, "failing tests never stop a submission"
    assert "FAIL softmax_loss: the loss value (0/2): loss should be 2.758655" in out
    assert "you summed over the N = 3 examples" in out
    assert "Estimated score: at most 8 of 10 points" in out
    with zipfile.ZipFile(course / "upload.zip") as archive:
        assert archive.namelist() == ["manifest.json", "a1_softmax/a1_softmax.ipynb", "a1_softmax/data.csv"]
        assert set(json.loads(archive.read("manifest.json"))["files"]) == set(archive.namelist()[1:])


def test_the_student_id_defaults_to_the_user_name(course, capsys, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "no spaces please")
    code, _, err = run(capsys, A1)
    assert (code, err) == (
        2,
        "course submit: your user name 'no spaces please' is not a valid student id: give one with --student ID\n",
    )


@pytest.mark.parametrize("student", ["../alice", "a b", "", "-x", "x" * 65, "a/b", "a..b"])
def test_a_bad_student_id_is_refused(course, capsys, student):
    code, _, err = run(capsys, A1, f"--student={student}")
    rule = "expected 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, without '..'"
    assert (code, err) == (
        2,
        f"course submit: --student: student id {student!r} is not valid ({rule}); "
        "give your student id with --student ID\n",
    )
    assert not list(course.glob("*.zip"))


def test_an_unknown_assignment_lists_the_known_ones(course, capsys):
    code, _, err = run(capsys, "a9_unknown", "--student", "alice")
    assert (code, err) == (2, "course submit: unknown assignment 'a9_unknown': the assignments are a1_softmax\n")


def test_a_renamed_notebook_is_named(course, capsys):
    folder = course / "assignments" / A1
    (folder / f"{A1}.ipynb").rename(folder / "my copy.ipynb")
    code, _, err = run(capsys, A1, "--student", "alice")
    assert (code, err) == (
        2,
        "course submit: assignments/a1_softmax/a1_softmax.ipynb is missing (found: my copy.ipynb): "
        "submit the notebook you worked in under its released name\n",
    )


def test_outside_a_course_folder_it_says_where_to_run(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, A1, "--student", "alice")
    assert (code, err) == (
        2,
        f"course submit: no assignments/ folder in {tmp_path} or above it: run course submit in the folder of the "
        "course (the student edition, or the repository)\n",
    )


def test_it_finds_the_course_from_a_folder_inside_it(course, capsys, monkeypatch, isolated_jupyter):
    monkeypatch.chdir(course / "assignments" / A1)
    code, out, _ = run(capsys, A1, "--student", "carol", "--out", str(course))
    assert code == 0 and (Path(course) / "carol-a1_softmax.zip").exists()
    assert "Visible tests: 4 of 4 passed" in out


@pytest.mark.parametrize("newer", ["fetched", "released"])
def test_with_a_fetched_copy_beside_the_release_the_newer_is_submitted(course, capsys, isolated_jupyter, newer):
    released = course / "assignments" / A1 / f"{A1}.ipynb"
    fetched = write_submission(course, A1, solved(A1, SUMMED))  # nbgrader's Fetch puts it in ./a1_softmax/
    older, newest = (released, fetched) if newer == "fetched" else (fetched, released)
    os.utime(older, (newest.stat().st_mtime - 3600,) * 2)
    code, out, _ = run(capsys, A1, "--student", "alice")
    assert code == 0
    chosen = f"{A1}/{A1}.ipynb" if newer == "fetched" else f"assignments/{A1}/{A1}.ipynb"
    other = f"assignments/{A1}/{A1}.ipynb" if newer == "fetched" else f"{A1}/{A1}.ipynb"
    lines = out.splitlines()
    assert lines[0] == (
        f"Two copies of {A1}: {chosen} (saved just now) and {other} (saved 60 min ago); submitting the newer, {chosen}"
    )
    assert lines[1].startswith(f"Checking {A1}/{A1}.ipynb (saved just now;")
    assert f"Estimated score: at most {8 if newer == 'fetched' else 10} of 10 points" in out
    with zipfile.ZipFile(course / f"alice-{A1}.zip") as archive:
        assert archive.read(f"{A1}/{A1}.ipynb") == newest.read_bytes()
