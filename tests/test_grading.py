"""The grading pipeline end to end: one batch of good and bad submissions, graded once.

Every bad submission is built from the released toy notebook
(tests/fixtures/grading_course.py); the batch runs with short time limits and three
workers. The isolation tests read what a probe cell, run inside a student's kernel,
printed into that student's graded notebook.
"""

import csv
import dataclasses
import json
import os
import re
import shutil
import socket
import uuid
from pathlib import Path

import nbformat
import pytest
from fixtures import grading_course as course
from nbformat.v4 import new_code_cell

from course_lib import cli
from course_lib.grading.pipeline import grade
from course_lib.grading.release import generate
from course_lib.grading.sandbox import Sandbox
from course_lib.grading.settings import GIB, Settings

CELL_TIMEOUT = 5
NOTEBOOK_TIMEOUT = 20
MEMORY = 2 * GIB
# the "duplicated" submission has duplicate cell ids on purpose
pytestmark = pytest.mark.filterwarnings("ignore::nbformat.warnings.DuplicateCellId")


@pytest.fixture(scope="module")
def machine():
    """The strongest sandbox this machine allows (detecting it starts processes: not at collection)."""
    return Sandbox.detect(Settings())


@pytest.fixture
def needs_root(machine):
    if machine.user is None:
        pytest.skip("the grader is not root: no user switch")


@pytest.fixture
def needs_namespaces(machine):
    if not machine.namespaces:
        pytest.skip("this machine cannot create namespaces")


def _settings(root, source):
    return Settings(
        course_root=str(root),
        source_directory=str(source),
        cell_timeout=CELL_TIMEOUT,
        notebook_timeout=NOTEBOOK_TIMEOUT,
        memory_gib=MEMORY / GIB,
    )


KINDS = [
    "correct",
    "stub",
    "deleted_test",
    "deleted_section",
    "duplicated",
    "edited_tests",
    "warns",
    *course.BEHAVIOURS,
]

PROBE = """
import json, os, resource, socket

def attempt(action):
    try:
        return "allowed: " + repr(action())[:80]
    except Exception as error:
        return "blocked: " + type(error).__name__

def write(path):
    with open(path, "w") as handle:
        handle.write("probe")
    return path

def connect():
    socket.create_connection(("127.0.0.1", {port}), timeout=3).close()
    return "connected"

here = os.getcwd()  # <run folder>/s<i>/k/work
run_folder = os.path.dirname(os.path.dirname(os.path.dirname(here)))
probes = {{
    "uid": os.getuid(),
    "memory_cap": resource.getrlimit(resource.RLIMIT_AS)[0],
    "allocate_beyond_cap": attempt(lambda: len(bytearray({too_much}))),
    "read_solutions": attempt(lambda: open({solution!r}).read()),
    "read_other_submission": attempt(lambda: open({other!r}).read()),
    "read_own_gradebook": attempt(lambda: open(os.path.join(here, "..", "..", "gradebook.db"), "rb").read()),
    "read_master_gradebook": attempt(lambda: open(os.path.join(run_folder, "master", "gradebook.db"), "rb").read()),
    "list_run_folder": attempt(lambda: sorted(os.listdir(run_folder))),
    "write_own_folder": attempt(lambda: write("probe.txt")),
    "write_repository": attempt(lambda: write({repo_file!r})),
    "write_tmp": attempt(lambda: write({tmp_file!r})),
    "network": attempt(connect),
    "see_grader_process": os.path.exists("/proc/{grader_pid}"),
}}
print("PROBE " + json.dumps(probes))
"""


@pytest.fixture(scope="module")
def listener():
    """A TCP server on the loopback that the grader can reach (and a student must not)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def _submit(folder, nb):
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{course.NOTEBOOK}.ipynb")


@pytest.fixture(scope="module")
def batch(tmp_path_factory, isolated_jupyter, listener):
    root = tmp_path_factory.mktemp("grading")
    source = course.write_source(root / "solutions")
    settings = _settings(root, source)
    release_root, _ = generate([course.ASSIGNMENT], settings, str(root / "release"))
    released = nbformat.read(os.path.join(release_root, course.ASSIGNMENT, f"{course.NOTEBOOK}.ipynb"), as_version=4)
    subs = root / "submissions"
    for kind in KINDS:
        _submit(subs / kind / course.ASSIGNMENT, course.submission(kind, released))
    _submit(subs / "flat", course.submission("correct", released))
    (subs / "misnamed" / course.ASSIGNMENT).mkdir(parents=True)
    nbformat.write(released, subs / "misnamed" / course.ASSIGNMENT / "toy_final.ipynb")
    (subs / "empty").mkdir()
    # cells that each stay under the cell limit, together over the notebook limit
    slow = course.submission("correct", released)
    slow.cells += [new_code_cell("import time\ntime.sleep(4)") for _ in range(6)]
    _submit(subs / "slow" / course.ASSIGNMENT, slow)
    outside = {
        "repo_file": str(Path(cli.__file__).parent / f"probe-{uuid.uuid4().hex}"),
        "tmp_file": f"/tmp/probe-{uuid.uuid4().hex}",
    }
    probe = PROBE.format(
        port=listener,
        too_much=MEMORY + GIB,
        solution=str(source / course.ASSIGNMENT / f"{course.NOTEBOOK}.ipynb"),
        other=str(subs / "correct" / course.ASSIGNMENT / f"{course.NOTEBOOK}.ipynb"),
        grader_pid=os.getpid(),
        **outside,
    )
    _submit(subs / "probe" / course.ASSIGNMENT, course.probe_submission(released, probe))
    results, summary = grade(
        course.ASSIGNMENT,
        settings,
        subs,
        out_dir=root / "out",
        jobs=3,  # the slow and stuck students mostly wait: a third worker overlaps them
        show_progress=False,
    )
    return {
        "settings": settings,
        "root": root,
        "out": root / "out",
        "source": source,
        "released": released,
        "results": {r.student_id: r for r in results},
        "summary": summary,
        "outside": outside,
    }


def _sheet(batch):
    return batch["out"] / "grades" / f"{course.ASSIGNMENT}.csv"


def _row(batch, student):
    with open(_sheet(batch)) as sheet:
        return next(r for r in csv.DictReader(sheet) if r["student_id"] == student)


def _graded_notebook(batch, student):
    path = batch["out"] / "autograded" / student / course.ASSIGNMENT / f"{course.NOTEBOOK}.ipynb"
    return nbformat.read(path, as_version=4)


def _feedback(batch, student):
    return (batch["out"] / "feedback" / student / course.ASSIGNMENT / f"{course.NOTEBOOK}.html").read_text()


def _probes(batch):
    for cell in _graded_notebook(batch, "probe").cells:
        for output in cell.get("outputs", []):
            for line in output.get("text", "").splitlines():
                if line.startswith("PROBE "):
                    return json.loads(line[len("PROBE ") :])
    raise AssertionError("the probe cell printed nothing")


def test_grade_sheet_has_one_row_per_student_and_the_issue_columns(batch):
    with open(_sheet(batch)) as sheet:
        reader = csv.DictReader(sheet)
        rows = list(reader)
    columns = ["student_id", "assignment", "score", "max_score", "status", "late", "submitted_at", "detail"]
    assert reader.fieldnames == columns
    assert sorted(r["student_id"] for r in rows) == sorted(batch["results"])
    assert {r["status"] for r in rows} == {"graded", "failed", "missing"}


def test_every_student_gets_one_feedback_page(batch):
    for student in batch["results"]:
        pages = os.listdir(batch["out"] / "feedback" / student / course.ASSIGNMENT)
        assert pages == [f"{course.NOTEBOOK}.html"], student


@pytest.mark.parametrize("student", ["correct", "flat"])
def test_correct_work_gets_full_marks(batch, student):
    row = _row(batch, student)
    assert (row["status"], float(row["score"])) == ("graded", course.MAX_SCORE)
    assert float(row["max_score"]) == course.MAX_SCORE


def test_untouched_stubs_score_zero_and_are_graded(batch):
    row = _row(batch, "stub")
    assert (row["status"], row["score"]) == ("graded", "0")
    assert "test_double_visible" in row["detail"] and "test_square" in row["detail"]


def test_a_deleted_test_cell_is_restored_and_graded(batch):
    row = _row(batch, "deleted_test")
    assert (row["status"], float(row["score"])) == ("graded", course.MAX_SCORE)
    assert "restored deleted cells: test_double_hidden" in row["detail"]
    assert course.HIDDEN_MARKER in "".join(c.source for c in _graded_notebook(batch, "deleted_test").cells)


def test_a_deleted_answer_and_its_tests_are_restored_and_graded(batch):
    row = _row(batch, "deleted_section")
    assert (row["status"], float(row["score"])) == ("graded", 1.0)
    assert "deleted answer cells (graded unanswered): double" in row["detail"]


def test_duplicated_cells_do_not_stop_grading(batch):
    row = _row(batch, "duplicated")
    assert (row["status"], float(row["score"])) == ("graded", course.MAX_SCORE)
    assert "duplicated cells (last copy graded): double, test_square" in row["detail"]


def test_edited_locked_tests_and_points_are_restored(batch):
    row = _row(batch, "edited_tests")
    # the wrong `double` fails the restored tests; `square` keeps its point; 4 points again
    assert (row["status"], float(row["score"]), float(row["max_score"])) == ("graded", 1.0, course.MAX_SCORE)


def test_an_infinite_loop_is_interrupted_and_the_rest_graded(batch):
    row = _row(batch, "infinite_loop")
    assert (row["status"], float(row["score"])) == ("graded", 1.0)
    assert "interrupted at the time limit" in row["detail"]


def test_a_loop_that_ignores_the_interrupt_fails_with_the_reason(batch):
    row = _row(batch, "ignores_sigint")
    assert (row["status"], row["score"]) == ("failed", "")
    assert f"after the {CELL_TIMEOUT} s cell time limit and ignored the interrupt" in row["detail"]


@pytest.mark.parametrize("student", ["os_exit", "sigkill"])
def test_a_dying_kernel_fails_with_the_reason(batch, student):
    row = _row(batch, student)
    assert (row["status"], row["score"]) == ("failed", "")
    assert "kernel died" in row["detail"]
    assert "kernel died" in _feedback(batch, student)


def test_a_huge_allocation_raises_memory_error_and_the_rest_is_graded(batch):
    row = _row(batch, "huge_alloc")
    assert (row["status"], float(row["score"])) == ("graded", 1.0)
    assert "ran out of memory" in row["detail"]


def test_the_whole_notebook_time_limit_stops_a_slow_notebook(batch):
    row = _row(batch, "slow")
    assert (row["status"], row["score"]) == ("failed", "")
    assert f"whole-notebook limit of {NOTEBOOK_TIMEOUT} s" in row["detail"]


@pytest.mark.parametrize("student", ["many_lines", "long_line"])
def test_huge_output_is_truncated_in_graded_notebook_and_feedback(batch, student):
    graded = batch["out"] / "autograded" / student / course.ASSIGNMENT / f"{course.NOTEBOOK}.ipynb"
    assert graded.stat().st_size < 100_000
    assert len(_feedback(batch, student)) < len(_feedback(batch, "correct")) + 100_000
    assert "output truncated" in graded.read_text().lower() and "output truncated" in _feedback(batch, student).lower()
    row = _row(batch, student)
    assert (row["status"], float(row["score"])) == ("graded", course.MAX_SCORE) and "truncated" in row["detail"]


def test_warnings_on_stderr_do_not_zero_a_correct_answer(batch):
    row = _row(batch, "warns")
    assert (row["status"], float(row["score"])) == ("graded", course.MAX_SCORE)
    assert "RuntimeWarning: double is slow" in nbformat.writes(_graded_notebook(batch, "warns"))


def test_misnamed_notebook_and_empty_folder_are_missing_with_a_clear_detail(batch):
    misnamed, empty = _row(batch, "misnamed"), _row(batch, "empty")
    assert (misnamed["status"], misnamed["score"]) == ("missing", "")
    assert misnamed["detail"] == "no notebook named toy.ipynb (found: toy_final.ipynb)"
    assert (empty["status"], empty["detail"]) == ("missing", "the submission folder is empty (expected toy.ipynb)")


@pytest.mark.parametrize("student", ["correct", "stub"])
def test_feedback_never_shows_hidden_tests(batch, student):
    # the hidden test ran (it is in the graded notebook) but the student never sees it
    assert course.HIDDEN_MARKER in nbformat.writes(_graded_notebook(batch, student))
    assert course.HIDDEN_MARKER not in _feedback(batch, student)


def test_summary_says_which_protections_were_active(batch, machine):
    summary = batch["summary"]
    run = dataclasses.replace(machine, memory_bytes=MEMORY, cpu_seconds=NOTEBOOK_TIMEOUT)
    lines = summary.splitlines()
    marks = [line.split(":")[0] for line in lines[lines.index("Protections for student code:") + 1 :]]
    expected = [f"  [{'on' if active else 'off'}] {name}" for name, active, _ in run.protections()]
    assert marks[: len(expected)] == expected
    graded = len(batch["results"]) - 6
    assert re.fullmatch(
        rf"Graded {len(batch['results'])} submission\(s\) in [\d.]+ s: {graded} graded, 4 failed, 2 missing", lines[0]
    )


def test_student_code_runs_under_a_memory_cap(batch):
    probes = _probes(batch)
    assert probes["memory_cap"] == MEMORY
    assert probes["allocate_beyond_cap"] == "blocked: MemoryError"


@pytest.mark.skipif(os.environ.get("CI") != "true" or os.geteuid() != 0, reason="only CI promises a root grader")
def test_ci_grades_with_every_protection(machine):
    # CI runs as root on a machine with namespaces: a sandbox that silently degrades there
    # (e.g. an interpreter it cannot reach) would turn the protection tests below into skips.
    assert machine.user is not None and machine.namespaces, machine.protections()


@pytest.mark.usefixtures("needs_root")
def test_student_code_runs_unprivileged(batch, machine):
    assert _probes(batch)["uid"] == machine.user[0] != 0


@pytest.mark.usefixtures("needs_namespaces")
def test_student_code_cannot_read_solutions_gradebooks_or_other_students(batch):
    probes = _probes(batch)
    for name in ("read_solutions", "read_other_submission", "read_own_gradebook", "read_master_gradebook"):
        assert probes[name] == "blocked: FileNotFoundError", name
    # of the grading run folder, only the path to its own working folder exists
    assert "master" not in probes["list_run_folder"] and probes["list_run_folder"].count("'s") == 1


@pytest.mark.usefixtures("needs_namespaces")
def test_student_code_cannot_write_outside_its_working_folder(batch):
    probes = _probes(batch)
    assert probes["write_own_folder"] == "allowed: 'probe.txt'"
    assert probes["write_repository"] in ("blocked: OSError", "blocked: PermissionError")
    # /tmp is private to the kernel: the write lands nowhere the grader can see
    assert probes["write_tmp"].startswith("allowed")
    assert not any(os.path.exists(path) for path in batch["outside"].values())


@pytest.mark.usefixtures("needs_namespaces")
def test_student_code_has_no_network(batch, listener):
    with socket.create_connection(("127.0.0.1", listener), timeout=3):
        pass  # the grader itself can reach the server
    assert _probes(batch)["network"] == "blocked: OSError"


@pytest.mark.usefixtures("needs_namespaces")
def test_student_code_cannot_see_the_graders_processes(batch):
    assert _probes(batch)["see_grader_process"] is False


def test_without_root_the_memory_cap_still_holds_and_grading_works(batch):
    subs = batch["root"] / "plain-submissions"
    for kind in ("correct", "huge_alloc"):
        _submit(subs / kind / course.ASSIGNMENT, course.submission(kind, batch["released"]))
    results, summary = grade(
        course.ASSIGNMENT,
        batch["settings"],
        subs,
        out_dir=batch["root"] / "plain-out",
        jobs=2,
        show_progress=False,
        sandbox=Sandbox(user=None, namespaces=False),
    )
    outcomes = [(r.student_id, r.status, r.score) for r in results]
    assert outcomes == [("correct", "graded", 4.0), ("huge_alloc", "graded", 1.0)]
    assert "[on] memory cap" in summary and "[off] no network" in summary and "[off] unprivileged user" in summary


def test_regrading_after_a_crashing_resubmission_drops_the_earlier_score(batch, capsys):
    out = batch["root"] / "regrade-out"
    shutil.copytree(batch["out"], out)
    assert _row({"out": out}, "correct")["status"] == "graded"
    subs = batch["root"] / "resubmissions"
    _submit(subs / "correct" / course.ASSIGNMENT, course.submission("os_exit", batch["released"]))
    argv = ["grade", course.ASSIGNMENT, "--submissions", str(subs), "--out", str(out), "--source", str(batch["source"])]
    argv += ["--course", str(batch["root"])]
    assert cli.main([*argv, "--cell-timeout", str(CELL_TIMEOUT), "--timeout", str(NOTEBOOK_TIMEOUT)]) == 0
    row = _row({"out": out}, "correct")
    assert (row["status"], row["score"]) == ("failed", "")
    assert not (out / "autograded" / "correct").joinpath(course.ASSIGNMENT).exists()
    assert "kernel died" in _feedback({"out": out}, "correct")
    assert not (out / "feedback" / "stub" / course.ASSIGNMENT).exists()  # not in this run
    first = capsys.readouterr().out.splitlines()[0]
    assert re.fullmatch(r"Graded \d+ submission\(s\) in [\d.]+ s: \d+ graded, 1 failed, 0 missing", first)


def _modes(folder):
    """{path relative to `folder`: permission bits} of `folder` and everything in it."""
    paths = [folder, *folder.rglob("*")]
    return {str(p.relative_to(folder)): p.stat().st_mode & 0o777 for p in paths}


def test_the_grading_workspace_is_readable_by_its_owner_only(batch):
    modes = _modes(batch["out"])
    names = {path.split("/")[0] for path in modes}
    assert names == {".", "autograded", "feedback", "grades", "gradebook.db", "logs", "similarity.csv"}
    assert {path: mode for path, mode in modes.items() if mode & 0o077} == {}


def test_a_partial_regrade_changes_only_that_student_and_warns_of_a_readable_course_folder(batch, capsys):
    out = batch["root"] / "partial-out"
    shutil.copytree(batch["out"], out)
    out.chmod(0o755)
    with open(_sheet({"out": out})) as sheet:
        before = {row["student_id"]: row for row in csv.DictReader(sheet)}
    pages = {p: p.read_bytes() for p in (out / "feedback").rglob("*") if p.is_file() and "stub" not in p.parts}
    graded = sorted(str(p.relative_to(out)) for p in (out / "autograded").rglob("*"))
    subs = batch["root"] / "partial-submissions"
    _submit(subs / "stub" / course.ASSIGNMENT, course.submission("correct", batch["released"]))
    _submit(subs / "correct" / course.ASSIGNMENT, course.submission("stub", batch["released"]))
    argv = ["grade", course.ASSIGNMENT, "--student", "stub", "--submissions", str(subs), "--out", str(out)]
    argv += ["--source", str(batch["source"]), "--course", str(batch["root"]), "--cell-timeout", str(CELL_TIMEOUT)]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("Graded 1 submission(s) in ")
    assert printed[-1] == (
        f"warning: {out} is readable by every user of this machine (mode 755); it holds the class's submissions "
        f"and grades: chmod o-rwx {out}"
    )
    with open(_sheet({"out": out})) as sheet:
        after = {row["student_id"]: row for row in csv.DictReader(sheet)}
    assert (after["stub"]["status"], after["stub"]["score"]) == ("graded", "4")
    assert {s: r for s, r in after.items() if s != "stub"} == {s: r for s, r in before.items() if s != "stub"}
    assert {p: p.read_bytes() for p in pages} == pages, "no other student's feedback changed"
    assert sorted(str(p.relative_to(out)) for p in (out / "autograded").rglob("*")) == graded
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        scores = {s.student.id: s.score for s in gb.find_assignment(course.ASSIGNMENT).submissions}
    assert scores["stub"] == 4.0 and scores["correct"] == 4.0, "the other students' gradebook scores stay"
    assert len(scores) == sum(r["status"] == "graded" for r in before.values())


def test_the_command_fails_only_when_it_cannot_run(batch, capsys):
    here = ["--course", str(batch["root"]), "--source", str(batch["source"])]
    assert cli.main(["grade", "nope", "--submissions", str(batch["root"] / "submissions"), *here]) == 2
    assert capsys.readouterr().err == "course grade: assignment must be one of 'toy'; got 'nope'\n"
    nowhere = str(batch["root"] / "nowhere")
    assert cli.main(["grade", course.ASSIGNMENT, "--submissions", nowhere, *here]) == 2
    assert capsys.readouterr().err == f"course grade: submissions folder {nowhere} does not exist\n"
