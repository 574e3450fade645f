"""The class loop through nbgrader's exchange, end to end, with three real unix students.

As root the test creates three accounts (clsalice: a correct solution, clsbob: the
untouched stubs, clscarol: imports the answers from course_lib), a course folder only
root can enter and an exchange folder (1777) under a fresh temporary folder. Then:
`course release a1_softmax --to-exchange`; each student, as their own user, runs
`nbgrader fetch_assignment` and `nbgrader submit` with the student edition's
nbgrader_config.py; two bad inbound folders are planted (an invalid student id, and one
clsbob submits in clsalice's name); `course collect`, `course grade`, `course return`;
each student runs `nbgrader fetch_feedback` and gets exactly their own page. Finally
clsbob tries to read what is not his. The accounts are removed afterwards; elsewhere
(not root, no runuser) the test skips with the reason.

The run's time is printed (pytest -s shows it): it is a measurement, not a test.
"""

import csv
import os
import pwd
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from course_lib import cli
from course_lib.classroom.edition import student_nbgrader_config
from course_lib.grading.sandbox import _closed_ancestor
from course_lib.grading.settings import Settings

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "a1_softmax"
STUDENTS = {"clsalice": "correct", "clsbob": "stub", "clscarol": "importer"}
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
IMPORTER = {
    "softmax": "from course_lib.losses import softmax, softmax_loss\n",
    "softmax_loss": "# imported above\n",
    "linear_softmax_loss": (
        "from course_lib.losses import softmax_loss\n\n\ndef linear_softmax_loss(W, X, y, reg):\n"
        "    loss, dscores = softmax_loss(X @ W, y)\n"
        "    return loss + reg * (W * W).sum(), X.T @ dscores + 2 * reg * W\n"
    ),
}


def _why_not():
    if os.geteuid() != 0:
        return "creating the students' unix accounts needs root"
    if not shutil.which("runuser") or not shutil.which("useradd"):
        return "runuser and useradd (util-linux, passwd) are needed"
    return None


pytestmark = pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))


def _student_python(top):
    """A Python the students' accounts can run, with the course's packages; skip when there is none.

    The virtualenv's own Python is used when other users can reach it. When it lies under a
    folder they cannot enter (a pyenv under /root), a virtualenv of the system's Python of the
    same version reads the course virtualenv's site-packages instead.
    """
    packages = sorted({sysconfig.get_paths()[key] for key in ("purelib", "platlib")})
    closed = [p for p in packages if _closed_ancestor(os.path.realpath(p))]
    if closed:
        pytest.skip(f"the course's packages lie in {closed[0]}, which other users cannot enter")
    if not _closed_ancestor(os.path.realpath(sys.executable)):
        return sys.executable
    system = shutil.which(f"python{sys.version_info.major}.{sys.version_info.minor}", path="/usr/bin:/bin")
    if system is None:
        pytest.skip(f"{sys.executable} is closed to other users and there is no system Python of its version")
    shim = os.path.join(top, "student-python")
    subprocess.run([system, "-m", "venv", "--without-pip", shim], check=True)
    site = subprocess.run(
        [os.path.join(shim, "bin", "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "course-packages.pth").write_text("\n".join(packages) + "\n")
    return os.path.join(shim, "bin", "python")


def _start_as(user, *argv):
    """Start argv as `user` in their home, with a clean environment."""
    home = pwd.getpwnam(user).pw_dir
    env = ["env", "-i", f"HOME={home}", f"USER={user}", "PATH=/usr/bin:/bin", "LANG=C.UTF-8"]
    command = ["runuser", "-u", user, "--", *env, *argv]
    return subprocess.Popen(command, cwd=home, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _as(user, *argv, check=True):
    """Run argv as `user` (see _start_as); returns (returncode, stdout, stderr)."""
    process = _start_as(user, *argv)
    stdout, stderr = process.communicate(timeout=300)
    if check and process.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} as {user} failed ({process.returncode}):\n{stdout}\n{stderr}")
    return process.returncode, stdout, stderr


def _every_student(*argv):
    """Run argv as each student at once (they work at the same time); fail on the first error."""
    running = {user: _start_as(user, *argv) for user in STUDENTS}
    for user, process in running.items():
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, f"{' '.join(argv)} as {user} failed:\n{stdout}\n{stderr}"


def _answer(kind, released, source):
    """The student's notebook: correct (the reference solution), stub (untouched) or importer."""
    nb = nbformat.from_dict(released)
    solutions = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells if "nbgrader" in c.metadata}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if not cell.metadata.get("nbgrader", {}).get("solution") or kind == "stub":
            continue
        if kind == "correct":
            lines = solutions[grade_id].splitlines()
            cell.source = "\n".join(line for line in lines if line.strip() not in (BEGIN, END))
        else:
            cell.source = IMPORTER[grade_id]
    return nb


def _cli(argv):
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = cli.main(argv)
    assert code == 0, f"course {' '.join(argv)} exited {code}:\n{out.getvalue()}"
    return out.getvalue()


@pytest.fixture(scope="module")
def accounts():
    """The three students' accounts (homes 0700), removed afterwards."""
    for user in STUDENTS:
        subprocess.run(["userdel", "-r", user], capture_output=True)  # left over from an aborted run
        subprocess.run(["useradd", "-m", "-s", "/bin/bash", user], check=True)
        os.chmod(pwd.getpwnam(user).pw_dir, 0o700)  # useradd -m gives 0755: others could read
    try:
        yield list(STUDENTS)
    finally:
        for user in STUDENTS:
            subprocess.run(["userdel", "-r", user], capture_output=True)


@pytest.fixture(scope="module")
def loop(accounts, isolated_jupyter):
    """The whole loop, run once; what each step printed and where everything is."""
    start = time.monotonic()
    top = tempfile.mkdtemp(prefix="cls-loop-")
    os.chmod(top, 0o755)
    course, exchange = Path(top, "course"), Path(top, "exchange")
    shutil.copytree(REPO / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    os.chmod(course, 0o700)
    exchange.mkdir()
    os.chmod(exchange, 0o1777)
    settings = Settings(course_root=str(course), exchange_root=str(exchange))
    python = _student_python(top)
    out = {"top": top, "course": course, "exchange": exchange, "settings": settings}
    try:
        out["release"] = _cli(
            ["release", ASSIGNMENT, "--to-exchange", "--exchange", str(exchange), "--course", str(course)]
        )
        released = nbformat.read(course / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
        source = nbformat.read(course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
        for user in STUDENTS:
            Path(pwd.getpwnam(user).pw_dir, "nbgrader_config.py").write_text(student_nbgrader_config(settings))
        _every_student(python, "-m", "nbgrader", "fetch_assignment", ASSIGNMENT)
        for user, kind in STUDENTS.items():
            notebook = Path(pwd.getpwnam(user).pw_dir, ASSIGNMENT, f"{ASSIGNMENT}.ipynb")
            nbformat.write(_answer(kind, released, source), notebook)
            shutil.chown(notebook, user)
        _every_student(python, "-m", "nbgrader", "submit", ASSIGNMENT)
        inbound = exchange / settings.course_id / "inbound"
        stamp = "2026-01-01 00:00:00.000000 UTC"
        # bad inbound folders: an invalid id (planted by root), and clsbob submitting in clsalice's name
        Path(inbound, f"bad id+{ASSIGNMENT}+{stamp}+k1").mkdir()
        _as("clsbob", "mkdir", str(inbound / f"clsalice+{ASSIGNMENT}+2099-01-01 00:00:00.000000 UTC+k2"))
        out["collect"] = _cli(["collect", ASSIGNMENT, "--exchange", str(exchange), "--course", str(course)])
        out["grade"] = _cli(["grade", ASSIGNMENT, "--course", str(course), "--jobs", "2"])
        out["return"] = _cli(["return", ASSIGNMENT, "--exchange", str(exchange), "--course", str(course)])
        _every_student(python, "-m", "nbgrader", "fetch_feedback", ASSIGNMENT)
        out["seconds"] = time.monotonic() - start
        print(f"\nexchange loop, 3 students: {out['seconds']:.1f} s (load average {os.getloadavg()[0]:.2f})")
        yield out
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _feedback_pages(user):
    return sorted(Path(pwd.getpwnam(user).pw_dir, ASSIGNMENT, "feedback").glob("*/*.html"))


def _sheet(loop):
    with open(loop["course"] / "grades" / f"{ASSIGNMENT}.csv", newline="") as sheet:
        return {row["student_id"]: row for row in csv.DictReader(sheet)}


def test_release_puts_the_student_notebook_in_the_exchange(loop):
    outbound = loop["exchange"] / "tnn101" / "outbound" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert f"released {ASSIGNMENT} to" in loop["release"]
    assert outbound.read_bytes() == (loop["course"] / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_bytes()
    assert "BEGIN SOLUTION" not in outbound.read_text() and "HIDDEN" not in outbound.read_text()


def test_collect_takes_each_students_submission_and_refuses_the_planted_ones(loop):
    text = loop["collect"]
    assert "collected 3 submission(s)" in text, text
    assert re.search(r"bad id\+a1_softmax\+.*: exchange submission: student id 'bad id' is not valid", text), text
    assert "names student 'clsalice' but was submitted by user 'clsbob'" in text, text
    assert sorted(os.listdir(loop["course"] / "submitted")) == sorted(STUDENTS)
    # clsalice's own submission counts, not the later one clsbob planted in her name
    assert (loop["course"] / "submitted" / "clsalice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()


def test_grades_correct_full_stub_zero_and_importer_below_full(loop):
    rows = _sheet(loop)
    alice, bob, carol = rows["clsalice"], rows["clsbob"], rows["clscarol"]
    assert {r["status"] for r in rows.values()} == {"graded"}, loop["grade"]
    assert alice["score"] == alice["max_score"] == "10"
    assert bob["score"] == "0"
    assert float(carol["score"]) < float(carol["max_score"])


def test_scores_reach_the_course_gradebook(loop):
    from nbgrader.api import Gradebook

    rows = _sheet(loop)
    with Gradebook(f"sqlite:///{loop['course'] / 'gradebook.db'}") as gb:
        for student in STUDENTS:
            assert f"{gb.find_submission(ASSIGNMENT, student).score:g}" == rows[student]["score"]


def test_each_student_fetches_only_their_own_feedback(loop):
    assert "returned feedback on a1_softmax to 3 student(s)" in loop["return"], loop["return"]
    rows = _sheet(loop)
    pages = {user: _feedback_pages(user) for user in STUDENTS}
    assert all(len(found) == 1 for found in pages.values()), pages
    for user, [page] in pages.items():
        text = page.read_text()
        score = f"Score: <b>{float(rows[user]['score']):g}</b> of {float(rows[user]['max_score']):g} points"
        assert score in text, (user, score)
        assert "BEGIN HIDDEN TESTS" not in text
    assert len(os.listdir(loop["exchange"] / "tnn101" / "feedback")) == 3


def test_a_student_cannot_read_another_students_work_or_the_solutions(loop):
    alice_home = Path(pwd.getpwnam("clsalice").pw_dir)
    course, exchange = loop["course"], loop["exchange"] / "tnn101"
    targets = [
        alice_home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        course / "submitted" / "clsalice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        course / "gradebook.db",
    ]
    for target in targets:
        code, _, stderr = _as("clsbob", "cat", str(target), check=False)
        assert code != 0 and "Permission denied" in stderr, target
    for folder in (exchange / "inbound", exchange / "feedback"):
        code, _, stderr = _as("clsbob", "ls", str(folder), check=False)
        assert code != 0 and "Permission denied" in stderr, folder
