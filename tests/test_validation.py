"""Validation, one line per test: course_lib.grading.validation and the Lab's Validate button.

The notebooks are the course's own: the source notebook (every test passes), the release
(every test fails on its stubs), a student's with a planted mistake, and a lesson (no tests).
The server tests start a real Jupyter server with the course's Validate extension in place of
nbgrader's and posts to the route the Lab button posts to.
"""

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from fixtures.course_jupyter import course_jupyter_env
from fixtures.jupyter_server import serving
from fixtures.students import solved, write_submission

from course_lib.grading.lab_validate import lab_answer
from course_lib.grading.validation import TestOutcome as Outcome
from course_lib.grading.validation import Validation, validate

REPO = Path(__file__).resolve().parents[1]
A1 = "a1_softmax"
SUMMED = {"softmax_loss": [("loss = -log_probs[rows, y].mean()", "loss = -log_probs[rows, y].sum()")]}


@pytest.fixture(scope="module")
def student_notebooks(tmp_path_factory, isolated_jupyter):
    """A correct and a wrong student notebook of a1, each in its own folder."""
    root = tmp_path_factory.mktemp("students")
    return {
        "correct": write_submission(root / "correct", A1, solved(A1)),
        "summed": write_submission(root / "summed", A1, solved(A1, SUMMED)),
    }


def test_a_correct_notebook_passes_every_visible_test(student_notebooks):
    result = validate(student_notebooks["correct"])
    assert [t.passed for t in result.tests] == [True] * 4 and result.score == result.max_score == 10
    lines = result.text().split("\n")
    assert lines[0] == "PASS softmax: values, normalization and large scores (2/2)"
    assert lines[-1] == "Visible tests: 4 of 4 passed, 10/10 points (hidden tests run only at grading)"


def test_a_mistake_gives_one_line_with_its_message(student_notebooks):
    result = validate(student_notebooks["summed"])
    failed = [t for t in result.tests if not t.passed]
    assert [t.name for t in failed] == ["softmax_loss: the loss value"], "only the loss value's test fails"
    assert result.score == 8 and result.max_score == 10
    line = result.text().split("\n")[1]
    assert line.startswith("FAIL softmax_loss: the loss value (0/2): loss should be 2.758655, got 8.275964")
    assert line.endswith("you summed over the N = 3 examples; the loss is their mean")
    assert "\n" not in failed[0].message and "Traceback" not in result.text()


def test_validate_stops_a_cell_at_the_courses_time_limit_not_the_default(tmp_path, isolated_jupyter):
    (tmp_path / "course.toml").write_text("[course]\ncell_timeout = 2\n")
    slow = {"softmax": [('    """Row-wise softmax', '    __import__("time").sleep(4)\n    """Row-wise softmax')]}
    notebook = write_submission(tmp_path / "assignments", A1, solved(A1, slow))
    result = validate(notebook)
    assert result.tests[0] == Outcome(
        "softmax: values, normalization and large scores",
        2.0,
        False,
        "the cell ran past the time limit and was stopped (an endless loop, or very slow code?)",
    )


def test_the_release_fails_every_test_with_what_is_missing(isolated_jupyter):
    result = validate(REPO / "assignments" / A1 / f"{A1}.ipynb")
    assert len(result.tests) == 4 and result.score == 0
    assert all("still raises NotImplementedError" in t.message for t in result.tests)


def test_a_lesson_has_no_tests_and_is_no_success():
    result = validate(REPO / "notebooks" / "01_softmax_cross_entropy.ipynb")
    assert result.tests == [] and result.max_score == 0
    assert result.text() == "This notebook has no graded tests: there is nothing to validate."
    assert lab_answer(result) != {}, "the Lab's dialog says 'Success!' for an answer without failures"


def test_an_edited_test_cell_is_reported(tmp_path, isolated_jupyter):
    notebook = solved("a4_dropout")
    test = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_dropout_seed")
    test.source = test.source.replace("assert not np.array_equal(first, other)", "assert True or first is other")
    path = write_submission(tmp_path, "a4_dropout", notebook)
    result = validate(path)
    assert result.changed == ["dropout_forward: the same seed gives the same mask"]
    assert "grading runs the original tests" in result.text()


def test_bad_paths_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no notebook at"):
        validate(tmp_path / "missing.ipynb")
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match=r"broken\.ipynb is not a readable notebook"):
        validate(broken)


def test_the_lab_answer_is_nbgraders_failed_form_with_one_line_per_test():
    result = Validation([Outcome("a <b>", 2, True), Outcome("c", 3, False, "x < y & z")])
    answer = lab_answer(result)
    (entry,) = answer["failed"]
    assert entry["source"] == ""
    assert "PASS a &lt;b&gt; (2/2)" in entry["error"] and "FAIL c (0/3): x &lt; y &amp; z" in entry["error"]
    assert "display: none" in entry["error"], "the dialog's fixed 'The following cell failed:' line is hidden"
    assert lab_answer(Validation([Outcome("a", 2, True)])) == {}, "all passed: nbgrader's own Success dialog"


@pytest.fixture(scope="module")
def validate_server(tmp_path_factory, student_notebooks):
    """A Jupyter server with the course's Validate extension in place of nbgrader's, serving two notebooks."""
    base = tmp_path_factory.mktemp("validate_server")
    root = base / "root"
    (root / A1).mkdir(parents=True)
    (root / A1 / f"{A1}.ipynb").write_bytes(student_notebooks["summed"].read_bytes())
    (root / "lesson.ipynb").write_bytes((REPO / "notebooks" / "01_softmax_cross_entropy.ipynb").read_bytes())
    env = course_jupyter_env(base)
    command = [sys.executable, "-m", "jupyter", "server", "{ARGS}", f"--ServerApp.root_dir={root}"]
    with serving(command, root, env) as ((port, token), _):
        yield f"http://127.0.0.1:{port}", token


def _post_validate(server, path):
    url, token = server
    request = urllib.request.Request(f"{url}/assignments/validate?token={token}&path={path}", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def test_the_validate_route_answers_one_line_per_test(validate_server):
    answer = _post_validate(validate_server, f"{A1}/{A1}.ipynb")
    assert answer["success"] is True
    error = answer["value"]["failed"][0]["error"]
    assert "PASS softmax: values, normalization and large scores (2/2)" in error
    assert "FAIL softmax_loss: the loss value (0/2): loss should be 2.758655" in error
    assert "def softmax" not in error and "Traceback" not in error, "no test or solution source in the answer"


def test_the_validate_route_does_not_call_a_lesson_a_success(validate_server):
    answer = _post_validate(validate_server, "lesson.ipynb")
    assert "This notebook has no graded tests" in answer["value"]["failed"][0]["error"]


def test_the_validate_route_keeps_to_the_server_root(validate_server):
    with pytest.raises(urllib.error.HTTPError) as error:
        _post_validate(validate_server, "../../etc/passwd")
    assert error.value.code == 403


def test_the_version_route_of_nbgraders_button_still_answers(validate_server):
    url, token = validate_server
    with urllib.request.urlopen(f"{url}/nbgrader_version?token={token}&version=0.9.6", timeout=10) as response:
        assert json.loads(response.read()) == {"success": True}
