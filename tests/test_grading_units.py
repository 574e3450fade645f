"""Fast tests of the grading pipeline's parts, without kernels."""

import csv
import json
import os
import tempfile

import nbformat
import pytest
from fixtures import grading_course as course
from nbformat.v4 import new_code_cell, new_notebook, new_output

from course_lib.grading import sandbox as sandbox_module
from course_lib.grading.preprocessors import DropDuplicateIds, StderrIsNotFailure, TruncateOutputs
from course_lib.grading.report import StudentResult, write_csv
from course_lib.grading.sandbox import Sandbox, _closed_ancestor
from course_lib.grading.settings import Settings
from course_lib.grading.submissions import find_submissions, stage


def _test_cell(outputs, grade_id="t"):
    cell = new_code_cell("assert True")
    cell.outputs = outputs  # assigned, not validated: thousands of outputs validate slowly
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": grade_id, "points": 1}
    return cell


def _run(preprocessor, cells):
    nb = new_notebook(cells=cells)
    return preprocessor.preprocess(nb, {})[0]


def test_truncate_outputs_cuts_one_huge_line_and_keeps_output_kinds():
    line = "x" * 20_000_000
    cell = _test_cell(
        [
            new_output("stream", name="stdout", text=line),
            new_output("error", ename="ValueError", evalue=line, traceback=[line, "short"]),
            new_output("execute_result", data={"text/plain": line, "image/png": line}, execution_count=1),
        ]
    )
    nb = _run(TruncateOutputs(max_chars=1000, min_chars=100), [cell])
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["stream", "error", "execute_result"]
    assert len(nbformat.writes(nb)) < 10_000
    assert "output truncated: 19999000 more characters" in outputs[0].text
    assert outputs[1].ename == "ValueError" and outputs[1].traceback[-1] == "short"
    assert "image/png" not in outputs[2].data and "text/plain" in outputs[2].data


def test_truncate_outputs_bounds_many_small_outputs_but_keeps_the_graded_ones():
    prints = [nbformat.from_dict({"output_type": "stream", "name": "stdout", "text": f"{i}\n"}) for i in range(3_000)]
    error = new_output("error", ename="AssertionError", evalue="", traceback=["AssertionError"])
    nb = _run(TruncateOutputs(max_chars=1000), [_test_cell([*prints, error])])
    outputs = nb.cells[0].outputs
    assert len(json.dumps(nb)) < 20_000
    removed = 3_000 - (len(outputs) - 2)
    assert outputs[-2] == error and outputs[-1].text == f"... [output truncated: {removed} more outputs removed] ...\n"


def test_truncate_outputs_leaves_small_outputs_alone():
    cell = _test_cell([new_output("stream", name="stdout", text="rel error 1e-9\n")])
    nb = _run(TruncateOutputs(), [cell])
    assert nb.cells[0].outputs[0].text == "rel error 1e-9\n"


def test_stderr_in_test_cells_becomes_ordinary_output():
    warning = "x.py:3: RuntimeWarning: overflow\n"
    test = _test_cell([new_output("stream", name="stderr", text=warning)])
    student = new_code_cell("print(1)", outputs=[new_output("stream", name="stderr", text=warning)])
    nb = _run(StderrIsNotFailure(), [test, student])
    assert nb.cells[0].outputs[0].name == "stdout" and nb.cells[0].outputs[0].text == warning
    assert nb.cells[1].outputs[0].name == "stderr"


def test_duplicate_grade_ids_keep_metadata_on_the_last_copy_only():
    first, second, other = _test_cell([], "a"), _test_cell([], "a"), _test_cell([], "b")
    nb = _run(DropDuplicateIds(), [first, second, other])
    assert ["nbgrader" in c.metadata for c in nb.cells] == [False, True, True]


def _write(path, nb=None, text=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    if nb is not None:
        nbformat.write(nb, path)
    else:
        path.write_text(text or "")


def test_find_submissions_accepts_both_layouts_and_explains_problems(tmp_path):
    nb = course.source_notebook()
    _write(tmp_path / "nested" / "toy" / "toy.ipynb", nb)
    _write(tmp_path / "flat" / "toy.ipynb", nb)
    _write(tmp_path / "misnamed" / "toy" / "toy_final.ipynb", nb)
    (tmp_path / "empty").mkdir()
    _write(tmp_path / "broken" / "toy.ipynb", text="{not json")
    _write(tmp_path / ".ipynb_checkpoints" / "toy.ipynb", nb)
    found = {s.student_id: s for s in find_submissions(tmp_path, "toy", ["toy"])}
    assert sorted(found) == ["broken", "empty", "flat", "misnamed", "nested"]
    assert found["nested"].problem is None and found["nested"].folder.endswith(os.path.join("nested", "toy"))
    assert found["flat"].problem is None and found["flat"].folder.endswith("flat")
    assert found["misnamed"].problem == ("missing", "no notebook named toy.ipynb (found: toy_final.ipynb)")
    assert found["empty"].problem == ("missing", "the submission folder is empty (expected toy.ipynb)")
    assert found["broken"].problem[0] == "failed" and "not a readable notebook" in found["broken"].problem[1]


def test_stage_drops_symlinks(tmp_path):
    _write(tmp_path / "subs" / "eve" / "toy.ipynb", course.source_notebook())
    (tmp_path / "subs" / "eve" / "secret").symlink_to("/etc/passwd")
    [submission] = find_submissions(tmp_path / "subs", "toy", ["toy"])
    stage(submission, tmp_path / "staged")
    assert sorted(os.listdir(tmp_path / "staged")) == ["toy.ipynb"]


def test_failed_grading_is_never_written_as_zero(tmp_path):
    blank = StudentResult("bo", "toy")
    results = [blank.failed("the kernel died"), StudentResult("al", "toy").graded(0, 4), blank.missing("empty")]
    write_csv(results, tmp_path / "grades.csv")
    with open(tmp_path / "grades.csv") as sheet:
        rows = list(csv.DictReader(sheet))
    outcomes = [(r["student_id"], r["score"], r["status"]) for r in rows]
    assert outcomes == [("al", "0", "graded"), ("bo", "", "failed"), ("bo", "", "missing")]
    assert list(rows[0]) == [
        "student_id",
        "assignment",
        "score",
        "max_score",
        "status",
        "late",
        "submitted_at",
        "detail",
    ]


def test_the_first_folder_other_users_cannot_enter_is_found():
    with tempfile.TemporaryDirectory() as top:  # under /tmp, which everyone may enter
        os.chmod(top, 0o755)
        closed = os.path.join(top, "home")
        os.makedirs(os.path.join(closed, "python"))
        os.chmod(closed, 0o700)
        assert _closed_ancestor(os.path.join(closed, "python")) == closed
        os.chmod(closed, 0o755)
        assert _closed_ancestor(os.path.join(closed, "python")) is None


def test_jail_spec_hides_given_paths_and_shares_the_connection_file_with_the_kernel_user():
    spec = json.loads(Sandbox(user=(65534, 65534), namespaces=True, hidden=("/srv/sol",)).jail_spec("/w", "/r", "/r/k"))
    assert "/srv/sol" in spec["hidden"] and spec["writable"] == ["/w", "/r"] and spec["readable"] == ["/r/k"]
    assert spec["limits"]["RLIMIT_AS"] == Sandbox(user=None, namespaces=False).memory_bytes == Settings().memory_bytes
    assert json.loads(Sandbox(user=None, namespaces=False).jail_spec("/w", "/r", "/r/k"))["readable"] == []


def test_jail_spec_binds_back_an_interpreter_under_tmp_and_hides_after_exposing(monkeypatch, tmp_path):
    # a CI clone under /tmp: its virtualenv and course_lib would vanish under the private /tmp
    assert str(tmp_path).startswith("/tmp/")
    venv, library, solutions = (tmp_path / name for name in (".venv", "course_lib", "solutions"))
    for folder in (venv, library, solutions):
        folder.mkdir()
    monkeypatch.setattr(sandbox_module, "_interpreter_paths", lambda: [str(venv), str(library)])
    spec = json.loads(
        Sandbox(user=(65534, 65534), namespaces=True, hidden=(str(solutions),)).jail_spec("/w", "/r", None)
    )
    assert spec["exposed"] == [str(venv), str(library)]
    assert spec["hidden"] == [str(solutions)]


def test_kernel_python_paths_are_the_interpreters_and_course_lib_only():
    import course_lib

    paths = sandbox_module._interpreter_paths()
    assert os.path.realpath(os.path.dirname(course_lib.__file__)) in paths
    repository = os.path.realpath(os.path.dirname(os.path.dirname(course_lib.__file__)))
    assert repository not in paths, "the course folder (with solutions/) must not be bound into the jail"


def test_protections_say_what_is_off_and_why():
    lines = {name: (active, why) for name, active, why in Sandbox(user=None, namespaces=False).protections()}
    assert lines["no network"] == (False, "not available (needs root, util-linux setpriv/unshare and namespaces)")
    assert lines["memory cap"][0] is True


def test_hidden_course_folder_gets_the_kernels_python_bound_back(monkeypatch, tmp_path):
    # the course folder is hidden whole (other runs' grading output lives there);
    # its virtualenv and course_lib are bound back, its solutions stay hidden
    course_root = tmp_path / "course"
    venv, library = course_root / ".venv", course_root / "course_lib"
    for folder in (venv, library, course_root / "solutions"):
        folder.mkdir(parents=True)
    monkeypatch.setattr(sandbox_module, "_interpreter_paths", lambda: [str(venv), str(library)])
    hidden = (str(course_root), str(course_root / "solutions"))
    spec = json.loads(Sandbox(user=(65534, 65534), namespaces=True, hidden=hidden).jail_spec("/w", "/r", None))
    assert spec["exposed"] == [str(venv), str(library)] and spec["hidden"] == sorted(hidden)
    with pytest.raises(ValueError, match="inside the Python"):
        Sandbox(user=None, namespaces=True, hidden=(str(venv / "lib"),)).jail_spec("/w", "/r", None)


def test_similarity_reads_the_reference_texts_once_per_run(tmp_path, monkeypatch):
    from fixtures.students import REPO, solved, write_submission

    from course_lib.grading import similarity

    reads = []

    def counted(function):
        def wrapper(*args):
            reads.append((function.__name__, *map(str, args)))
            return function(*args)

        return wrapper

    monkeypatch.setattr(similarity, "_course_lib_functions", counted(similarity._course_lib_functions))
    monkeypatch.setattr(similarity, "_answer_cells", counted(similarity._answer_cells))
    students = {name: tmp_path / name for name in ("ann", "bea", "cal", "dan")}
    for folder in students.values():
        write_submission(folder, "a1_softmax", solved("a1_softmax"))
    folders = {name: str(folder / "a1_softmax") for name, folder in students.items()}
    line = similarity.report_for_run(
        folders, "a1_softmax", ["a1_softmax"], str(REPO / "solutions"), str(REPO / "assignments"), str(tmp_path)
    )
    assert line.startswith(f"Similarity report: {tmp_path / 'similarity.csv'} (6 pair(s) of students")
    source = str(REPO / "solutions" / "a1_softmax" / "a1_softmax.ipynb")
    assert reads.count(("_course_lib_functions",)) == 1
    assert reads.count(("_answer_cells", source)) == 1
    assert len(reads) == 1 + 1 + 1 + len(students), "course_lib, the source, the release, each student once"


def test_each_fact_of_a_grade_sheet_row_has_one_home():
    import datetime

    from course_lib.grading.report import hours_text, net_score
    from course_lib.grading.settings import utc_text

    assert net_score(4.0, 2.0) == 2.0 and net_score(1.0, 3.0) == 0.0 and net_score(4.0, None) == 4.0
    assert hours_text(25) == "25.0 h" and hours_text(0.04) == "0.0 h"
    paris = datetime.timezone(datetime.timedelta(hours=1))
    assert utc_text(datetime.datetime(2026, 3, 1, 13, 0, 5, 999, tzinfo=paris)) == "2026-03-01T12:00:05Z"
    assert utc_text(datetime.datetime(2026, 3, 1, 12, 0)) == "2026-03-01T12:00:00Z", "nbgrader's naive UTC"


def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_partial_one(tmp_path):
    from course_lib.grading.files import atomic_path

    path = tmp_path / "grades.csv"
    path.write_text("old\n")
    with pytest.raises(RuntimeError, match="disk full"), atomic_path(str(path)) as partial:
        with open(partial, "w") as handle:
            handle.write("half")
        raise RuntimeError("disk full")
    assert path.read_text() == "old\n" and sorted(os.listdir(tmp_path)) == ["grades.csv"]
    with atomic_path(str(path)) as partial, open(partial, "w") as handle:
        handle.write("new\n")
    assert path.read_text() == "new\n" and sorted(os.listdir(tmp_path)) == ["grades.csv"]


def test_the_graders_own_code_check_flags_borrowings_and_not_ordinary_code():
    from course_lib.grading.integrity import borrowings

    asked = {"softmax", "softmax_loss"}
    own = 'import re\n\nPATTERN = re.compile("x")\n\n\ndef softmax(s):\n    return __import__("numpy").exp(s)\n'
    through_module = "from course_lib import losses as L\n\ndef softmax_loss(s, y):\n    return L.softmax_loss(s, y)\n"
    cells = [
        ("softmax", own),
        ("cell 9", "import importlib\nm = importlib.import_module('course_lib.losses')\n"),
        ("softmax_loss", through_module),
        ("cell 11", "def helper(name):\n    return eval(name)\n"),
    ]
    found = [(b.function, b.cell, b.line, b.code) for b in borrowings(cells, asked)]
    assert found == [
        ("softmax", "cell 9", 2, "m = importlib.import_module('course_lib.losses')"),
        ("softmax_loss", "cell 9", 2, "m = importlib.import_module('course_lib.losses')"),
        ("softmax_loss", "softmax_loss", 4, "return L.softmax_loss(s, y)"),
        ("softmax", "cell 11", 2, "return eval(name)"),
        ("softmax_loss", "cell 11", 2, "return eval(name)"),
    ]
