"""A class of 30 on a real hub: every student submits a1 at about the same time, nothing is lost.

The test makes a hub with 30 students of its own (conftest's `make_class_hub`: unix accounts
with a random prefix, removed afterwards). The instructor releases a1_softmax (`course
release --to-exchange`, as that account). Then every student, at once (at most
SPAWN_AT_ONCE servers starting together), goes through the hub's REST API and their own
server as JupyterLab would, no browser: the server is spawned, a1 fetched through nbgrader's
assignment-list API, the notebook read, answered and saved through /api/contents, and
submitted through the same API. Students differ so that scores differ: most write the
reference answer, some sum the loss instead of averaging it, some subtract one maximum for
the whole batch in softmax, some hand in the stubs, and some hand in the stubs first and the
correct answer a minute later (the latest submission must count). Then the instructor
collects (`course collect a1_softmax --exchange`, as that account) and grades (`course
grade a1_softmax --jobs 2`, as root: the sandbox's protections need root), and the tests
check that each student's submission was collected and graded exactly once, with the score
their answer earns, and that every server stopped afterwards.

Times (spawn median/max, fetch-and-save, submit, the whole class, collect, grade, the
grading rate) and the servers' memory are printed (pytest -s): measurements, not tests.
"""

import csv
import os
import pwd
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import _rest
import psutil
import pytest
from fixtures.students import solved

ASSIGNMENT = "a1_softmax"
CLASS_SIZE = 30
SPAWN_AT_ONCE = 6  # servers starting together: each start costs about 2 CPU-seconds on a 2-core machine
SUMMED = {"softmax_loss": [("loss = -log_probs[rows, y].mean()", "loss = -log_probs[rows, y].sum()")]}
ONE_MAXIMUM = {"softmax": [("scores.max(axis=1, keepdims=True)", "scores.max()")]}
# what each kind of student hands in, and the score it earns (test_assessment_grading shows why)
KINDS = {
    "correct": (10, ["correct"]),
    "summed loss": (8, ["summed loss"]),
    "one maximum": (8, ["one maximum"]),
    "stubs": (0, ["stubs"]),
    "stubs, then correct": (10, ["stubs", "correct"]),
}
ROTATION = ["correct"] * 5 + ["summed loss", "one maximum", "stubs", "stubs, then correct", "correct"]


def _answers():
    """{what a student writes: {answer cell's grade_id: its source}}."""
    return {
        "correct": _rest.solution_sources(solved(ASSIGNMENT)),
        "summed loss": _rest.solution_sources(solved(ASSIGNMENT, SUMMED)),
        "one maximum": _rest.solution_sources(solved(ASSIGNMENT, ONE_MAXIMUM)),
    }


def _student_works(class_hub, account, kind, answers):
    """One student's session: spawn, fetch, answer and save, submit (once or twice). Returns their times."""
    path = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    course = class_hub.settings.course_id
    times = {}
    start = time.monotonic()
    user = class_hub.spawn(account)
    times["spawn"] = time.monotonic() - start
    assert _rest.courses(user) == [course], f"{account} sees other courses"
    assert _rest.statuses(_rest.assignments(user, course), ASSIGNMENT) == ["released"]
    start = time.monotonic()
    assert "fetched" in _rest.statuses(_rest.fetch(user, course, ASSIGNMENT), ASSIGNMENT)
    fetched = _rest.read_notebook(user, path)
    times["fetch and save"] = time.monotonic() - start
    times["submit"] = 0.0
    for handed_in in KINDS[kind][1]:
        start = time.monotonic()
        _rest.write_notebook(user, path, _rest.answered(fetched, answers.get(handed_in, {})))
        assert "submitted" in _rest.statuses(_rest.submit(user, course, ASSIGNMENT), ASSIGNMENT)
        times["submit"] += time.monotonic() - start
    return times


def _servers_memory(accounts):
    """{account: (RSS, PSS) in bytes of its jupyterhub-singleuser process}, for the servers running now."""
    memory = {}
    for account in accounts:
        server = _rest.server_process(account)
        if server is not None:
            info = server.memory_full_info()
            memory[account] = (info.rss, info.pss)
    return memory


def _median_max(values):
    return f"median {statistics.median(values):.1f} s, max {max(values):.1f} s"


@pytest.fixture(scope="module")
def taught(make_class_hub):
    """The class taught once: release, 30 students at once, collect, grade; what each step said and took."""
    class_hub = make_class_hub(students=CLASS_SIZE)
    kinds = {account: ROTATION[n % len(ROTATION)] for n, account in enumerate(class_hub.students)}
    release = class_hub.run_as(class_hub.instructor, "course", "release", ASSIGNMENT, "--to-exchange")
    assert release.returncode == 0, release.stdout + release.stderr
    answers = _answers()
    start = time.monotonic()
    with ThreadPoolExecutor(SPAWN_AT_ONCE) as pool:
        futures = {a: pool.submit(_student_works, class_hub, a, kinds[a], answers) for a in class_hub.students}
        times = {account: future.result() for account, future in futures.items()}
    class_seconds = time.monotonic() - start
    memory = _servers_memory(class_hub.students)
    with ThreadPoolExecutor(SPAWN_AT_ONCE) as pool:
        list(pool.map(lambda account: _rest.stop_server(class_hub, account), class_hub.students))
    start = time.monotonic()
    collect = class_hub.run_as(class_hub.instructor, "course", "collect", ASSIGNMENT, "--exchange")
    collect_seconds = time.monotonic() - start
    assert collect.returncode == 0, collect.stdout + collect.stderr
    start = time.monotonic()
    grade = _rest.course_as_root(class_hub, "grade", ASSIGNMENT, "--jobs", "2")
    grade_seconds = time.monotonic() - start
    assert grade.returncode == 0, grade.stdout + grade.stderr
    rss = [r for r, _ in memory.values()]
    pss = [p for _, p in memory.values()]
    print(
        f"\n{CLASS_SIZE} students, {SPAWN_AT_ONCE} spawning at once (load average {os.getloadavg()[0]:.1f}):"
        f"\n  spawn {_median_max([t['spawn'] for t in times.values()])}"
        f"\n  fetch and save {_median_max([t['fetch and save'] for t in times.values()])}"
        f"\n  submit {_median_max([t['submit'] for t in times.values()])}"
        f"\n  whole class, first spawn to last submit: {class_seconds:.1f} s"
        f"\n  idle servers: RSS median {statistics.median(rss) / 2**20:.0f} MiB,"
        f" PSS median {statistics.median(pss) / 2**20:.0f} MiB ({len(memory)} servers)"
        f"\n  collect {collect_seconds:.1f} s; grade {grade_seconds:.1f} s"
        f" = {60 * CLASS_SIZE / grade_seconds:.0f} notebooks/minute (--jobs 2)"
    )
    return {
        "hub": class_hub,
        "kinds": kinds,
        "times": times,
        "memory": memory,
        "collect": collect.stdout + collect.stderr,
        "grade": grade.stdout + grade.stderr,
    }


def _sheet(taught):
    with open(taught["hub"].course_dir / "grades" / f"{ASSIGNMENT}.csv", newline="") as sheet:
        return list(csv.DictReader(sheet))


def test_every_student_submitted_through_their_own_server(taught):
    class_hub = taught["hub"]
    assert sorted(taught["times"]) == sorted(class_hub.students)
    inbound = class_hub.exchange / class_hub.settings.course_id / "inbound"
    folders = sorted(os.listdir(inbound))
    for account, kind in taught["kinds"].items():
        mine = [f for f in folders if f.split("+")[0] == account]
        assert len(mine) == len(KINDS[kind][1]), (account, kind, mine)
        for folder in mine:
            assert os.stat(inbound / folder).st_uid == pwd.getpwnam(account).pw_uid, folder
            assert (inbound / folder / f"{ASSIGNMENT}.ipynb").is_file(), folder
    assert len(folders) == sum(len(KINDS[kind][1]) for kind in taught["kinds"].values())


def test_collect_takes_each_students_latest_submission_once(taught):
    class_hub = taught["hub"]
    assert f"collected {CLASS_SIZE} submission(s)" in taught["collect"], taught["collect"]
    submitted = class_hub.course_dir / "submitted"
    assert sorted(os.listdir(submitted)) == sorted(class_hub.students)
    for account, kind in taught["kinds"].items():
        notebooks = sorted(p.name for p in (submitted / account / ASSIGNMENT).glob("*.ipynb"))
        assert notebooks == [f"{ASSIGNMENT}.ipynb"], (account, notebooks)
        text = (submitted / account / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
        assert ("raise NotImplementedError" in text) == (KINDS[kind][1][-1] == "stubs"), (account, kind)


def test_each_student_is_graded_once_with_the_score_their_answer_earns(taught):
    rows = _sheet(taught)
    students = [row["student_id"] for row in rows]
    assert sorted(students) == sorted(taught["hub"].students), "a student lost or graded twice"
    scores = {row["student_id"]: (row["status"], row["score"] and float(row["score"])) for row in rows}
    expected = {account: ("graded", float(KINDS[kind][0])) for account, kind in taught["kinds"].items()}
    assert scores == expected, taught["grade"]


def test_the_gradebook_holds_one_submission_per_student(taught):
    from nbgrader.api import Gradebook

    rows = {row["student_id"]: row["score"] for row in _sheet(taught)}
    with Gradebook(f"sqlite:///{taught['hub'].course_dir / 'gradebook.db'}") as gradebook:
        submissions = gradebook.assignment_submissions(ASSIGNMENT)
        assert sorted(s.student.id for s in submissions) == sorted(rows)
        for submission in submissions:
            assert f"{submission.score:g}" == f"{float(rows[submission.student.id]):g}", submission.student.id


def test_grading_ran_with_every_protection_on(taught):
    lines = [line for line in taught["grade"].splitlines() if line.strip().startswith("[")]
    assert lines and all(line.strip().startswith("[on]") for line in lines), taught["grade"]


def test_every_server_ran_as_its_student_and_stopped(taught):
    class_hub = taught["hub"]
    assert sorted(taught["memory"]) == sorted(class_hub.students), "a server was not running as its student"
    for account in class_hub.students:
        assert class_hub.admin("GET", f"users/{account}").json()["servers"] == {}
    uids = {pwd.getpwnam(a).pw_uid for a in class_hub.students}
    left = [p.info["cmdline"] for p in psutil.process_iter(["uids", "cmdline"]) if p.info["uids"].real in uids]
    assert left == [], left
