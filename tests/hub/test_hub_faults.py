"""Faults in a class on a real hub: a server killed in the middle of a submit, the hub restarted.

On a hub of its own with three students (conftest's `make_class_hub`), after the instructor
released a1_softmax:

* `steady` fetches and submits the correct answer;
* `killed` submits the stubs (a complete submission), then answers correctly, adds many
  small data files to the assignment folder (so that copying it into the exchange takes a
  few seconds) and submits again; as soon as that second submission's folder appears in the exchange's
  inbound box, the test SIGKILLs their jupyterhub-singleuser (the submit was running in it);
* the hub is restarted (stop and start, as `course hub --stop` then `course hub`);
* `after` logs in only after the restart, fetches, submits the summed loss (8 of 10).

Then the instructor collects and grades. Nothing completed is lost: steady's and after's
submissions and killed's first one are collected and graded; killed's interrupted
submission is never collected (half a notebook or half a folder would be graded as if it
were the student's work) and the collect report names it and says why.
"""

import csv
import os
import re
import signal
import threading
import time

import _rest
import pytest
from fixtures.students import solved

ASSIGNMENT = "a1_softmax"
NOTEBOOK = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
SUMMED = {"softmax_loss": [("loss = -log_probs[rows, y].mean()", "loss = -log_probs[rows, y].sum()")]}
# copying these into the exchange takes seconds (a file at a time), time to kill the server in the middle
# of it; 40 MB in all, under nbgrader's 100 MB limit on a submission
DATA_FILES, DATA_FILE_BYTES = 5000, 8 * 2**10
INBOUND_TIMEOUT_S = 60


def _write_data_files(class_hub, account):
    """Many files in the student's fetched assignment folder, owned by them (as if they had saved them)."""
    folder = os.path.join(class_hub.layout.student_folder(os.path.expanduser(f"~{account}")), ASSIGNMENT)
    entry = os.stat(folder)
    data = os.urandom(DATA_FILE_BYTES)
    for n in range(DATA_FILES):
        path = os.path.join(folder, f"data{n:04d}.bin")
        with open(path, "wb") as handle:
            handle.write(data)
        os.chown(path, entry.st_uid, entry.st_gid)


def _submissions(class_hub, account):
    inbound = class_hub.exchange / class_hub.settings.course_id / "inbound"
    return sorted(name for name in os.listdir(inbound) if name.split("+")[0] == account)


def _kill_in_the_middle_of_submit(class_hub, user):
    """Start `user`'s submit, SIGKILL their server once its new inbound folder exists; returns (folder, answer)."""
    account = user.account
    before = set(_submissions(class_hub, account))
    server = _rest.server_process(account)
    assert server is not None, f"{account} has no running server"
    answer = {}

    def submit():
        try:
            answer["listing"] = _rest.submit(user, class_hub.settings.course_id, ASSIGNMENT)
        except Exception as error:  # the server dies under the request: whatever the proxy answers
            answer["error"] = repr(error)

    thread = threading.Thread(target=submit)
    thread.start()
    deadline = time.monotonic() + INBOUND_TIMEOUT_S
    while not set(_submissions(class_hub, account)) - before:
        assert time.monotonic() < deadline, f"{account}'s submit made no inbound folder: {answer}"
        time.sleep(0.002)
    os.kill(server.pid, signal.SIGKILL)
    thread.join(timeout=120)
    [folder] = set(_submissions(class_hub, account)) - before
    return folder, answer


@pytest.fixture(scope="module")
def faulted(make_class_hub):
    class_hub = make_class_hub(students=3)
    steady, killed, after = class_hub.students
    course = class_hub.settings.course_id
    release = class_hub.run_as(class_hub.instructor, "course", "release", ASSIGNMENT, "--to-exchange")
    assert release.returncode == 0, release.stdout + release.stderr
    correct = _rest.solution_sources(solved(ASSIGNMENT))

    def hand_in(user, answers):
        _rest.write_notebook(user, NOTEBOOK, _rest.answered(_rest.read_notebook(user, NOTEBOOK), answers))
        return _rest.submit(user, course, ASSIGNMENT)

    users = {account: class_hub.spawn(account) for account in (steady, killed)}
    for user in users.values():
        _rest.fetch(user, course, ASSIGNMENT)
    for user, answers in ((users[steady], correct), (users[killed], {})):  # killed: the stubs, complete
        assert "submitted" in _rest.statuses(hand_in(user, answers), ASSIGNMENT), user.account
    _rest.write_notebook(users[killed], NOTEBOOK, _rest.answered(_rest.read_notebook(users[killed], NOTEBOOK), correct))
    _write_data_files(class_hub, killed)
    interrupted, answer = _kill_in_the_middle_of_submit(class_hub, users[killed])
    inbound = class_hub.exchange / course / "inbound"
    interrupted_files = sorted(os.listdir(inbound / interrupted))

    class_hub.restart()
    after_user = class_hub.spawn(after)
    _rest.fetch(after_user, course, ASSIGNMENT)
    hand_in(after_user, _rest.solution_sources(solved(ASSIGNMENT, SUMMED)))
    for account in (steady, after):
        _rest.stop_server(class_hub, account)

    collect = class_hub.run_as(class_hub.instructor, "course", "collect", ASSIGNMENT, "--exchange")
    assert collect.returncode == 0, collect.stdout + collect.stderr
    grade = _rest.course_as_root(class_hub, "grade", ASSIGNMENT, "--jobs", "2")
    assert grade.returncode == 0, grade.stdout + grade.stderr
    with open(class_hub.course_dir / "grades" / f"{ASSIGNMENT}.csv", newline="") as sheet:
        rows = list(csv.DictReader(sheet))
    return {
        "hub": class_hub,
        "students": {"steady": steady, "killed": killed, "after": after},
        "interrupted": interrupted,
        "interrupted_files": interrupted_files,
        "answer": answer,
        "collect": collect.stdout + collect.stderr,
        "grade": grade.stdout + grade.stderr,
        "rows": rows,
    }


def test_the_server_died_in_the_middle_of_the_submit(faulted):
    killed = faulted["students"]["killed"]
    assert "listing" not in faulted["answer"], "the submit finished before the kill: the test proved nothing"
    assert "timestamp.txt" not in faulted["interrupted_files"], faulted["interrupted_files"]
    assert _rest.server_process(killed) is None


def test_the_restarted_hub_kept_its_users_and_served_a_new_login(faulted):
    class_hub = faulted["hub"]
    names = {user["name"] for user in class_hub.admin("GET", "users").json()}
    assert set(class_hub.students) <= names
    outbound = class_hub.exchange / class_hub.settings.course_id / "outbound" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert outbound.is_file()
    assert any(row["student_id"] == faulted["students"]["after"] for row in faulted["rows"])


def test_every_complete_submission_is_collected_and_the_interrupted_one_is_not(faulted):
    class_hub = faulted["hub"]
    submitted = class_hub.course_dir / "submitted"
    assert sorted(os.listdir(submitted)) == sorted(class_hub.students)
    killed = submitted / faulted["students"]["killed"] / ASSIGNMENT
    assert sorted(p.name for p in killed.iterdir() if p.name.startswith("data")) == [], "the interrupted copy"
    assert "raise NotImplementedError" in (killed / f"{ASSIGNMENT}.ipynb").read_text(), "not the complete stubs"


def test_the_collect_report_says_what_happened_to_the_interrupted_submission(faulted):
    line = re.escape(faulted["interrupted"]) + r": .*(incomplete|interrupted)"
    assert re.search(line, faulted["collect"]), faulted["collect"]


def test_grades_come_from_the_complete_submissions(faulted):
    scores = {row["student_id"]: (row["status"], row["score"] and float(row["score"])) for row in faulted["rows"]}
    names = faulted["students"]
    expected = {names["steady"]: ("graded", 10.0), names["killed"]: ("graded", 0.0), names["after"]: ("graded", 8.0)}
    assert scores == expected, faulted["grade"]
