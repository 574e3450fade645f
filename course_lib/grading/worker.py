"""A grading process: grades the students its parent sends, one at a time.

Started by `course_lib.grading.pipeline` as ``python -I -m course_lib.grading.worker``;
reads one job (JSON) per line on stdin and answers one result (JSON) per line on
stdout. Each job is one student in its own nbgrader course folder (a copy of the
assignment's gradebook plus that student's submission), so workers never share a
database. Importing nbgrader costs seconds, so a worker lives for many students; a
student who hangs or kills it costs only that worker, which the parent replaces.
"""

import glob
import json
import os
import re
import sys
import threading
import traceback
from dataclasses import asdict

import nbformat
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI

from course_lib.grading.config import api_config, sandboxed
from course_lib.grading.report import StudentResult, hours_text, net_score
from course_lib.grading.sandbox import Sandbox, SandboxKernelManager
from course_lib.grading.settings import Settings, utc_text

# (pattern in nbgrader's log, what the instructor is told)
FAILURES = [
    (
        r"DeadKernelError|Kernel died",
        "the kernel died while running the notebook (os._exit, a signal, or out of memory)",
    ),
    (
        r"Timeout waiting for IOPub output|UnresponsiveKernelError",
        "a cell kept running after the {cell_timeout} s cell time limit and ignored the interrupt",
    ),
]


def _explain_failure(outcome, settings):
    text = outcome.get("log", "") + outcome.get("error", "")
    for pattern, reason in FAILURES:
        if re.search(pattern, text):
            return reason.format(cell_timeout=settings.cell_timeout)
    errors = [line for line in text.splitlines() if re.match(r"\w+(Error|Exception)\b", line)]
    return "nbgrader could not grade the notebook: " + (errors[-1] if errors else "see the grading log")


def _cell_notes(autograded_paths):
    """What happened while the notebooks ran: interrupted cells, memory errors, truncations."""
    timeouts = memory = truncated = 0
    for path in autograded_paths:
        for cell in nbformat.read(path, as_version=4).cells:
            for output in cell.get("outputs", []):
                timeouts += output.get("ename") == "CellTimeoutError"
                memory += output.get("ename") == "MemoryError"
                # ours says "output truncated:", nbgrader's LimitOutput "Output truncated"
                truncated += "output truncated" in json.dumps(output).lower()
    notes = []
    if timeouts:
        notes.append(f"{timeouts} cell(s) interrupted at the time limit")
    if memory:
        notes.append(f"{memory} cell(s) ran out of memory")
    if truncated:
        notes.append(f"{truncated} output(s) truncated")
    return notes


def _gradebook_notes(gb, job):
    """Failed tests and repaired cells, from the gradebook and the submitted notebooks."""
    notes = []
    submission = gb.find_submission(job["assignment"], job["student"])
    grades = [g for nb in submission.notebooks for g in nb.grades]
    failed = [g.name for g in grades if g.auto_score is not None and g.auto_score < g.max_score]
    manual = [g.name for g in grades if g.auto_score is None]
    if failed:
        notes.append("failed: " + ", ".join(sorted(failed)))
    if manual:
        notes.append("needs manual grading: " + ", ".join(sorted(manual)))
    for nb in gb.find_assignment(job["assignment"]).notebooks:
        path = os.path.join(job["submitted"], f"{nb.name}.ipynb")
        if not os.path.exists(path):
            notes.append(f"{nb.name}.ipynb missing (0 points)")
            continue
        ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nbformat.read(path, as_version=4).cells]
        tests, answers = {c.name for c in nb.grade_cells}, {c.name for c in nb.solution_cells}
        if restored := sorted(tests - set(ids)):
            notes.append("restored deleted cells: " + ", ".join(restored))
        if unanswered := sorted(answers - tests - set(ids)):
            notes.append("deleted answer cells (graded unanswered): " + ", ".join(unanswered))
        if duplicated := sorted({i for i in ids if i and ids.count(i) > 1}):
            notes.append("duplicated cells (last copy graded): " + ", ".join(duplicated))
    return notes


def grade_student(job):
    """Autograde one student and write their feedback; returns a StudentResult as a dict.

    job: assignment, student, course_dir (an nbgrader course folder holding gradebook.db
    and submitted/<student>/<assignment>/), submitted (that submitted folder), settings
    (Settings.to_json) and sandbox (the Sandbox's fields).
    """
    root = job["course_dir"]
    settings = Settings.from_json(job["settings"])
    config = sandboxed(api_config(settings, root=root), Sandbox(**job["sandbox"]), os.path.join(root, "k"))
    api = NbGraderAPI(config=config)
    result = StudentResult(job["student"], job["assignment"])

    # the whole-notebook time limit: past it, the kernel is killed and the student failed
    expired = threading.Event()
    watchdog = threading.Timer(settings.notebook_timeout, lambda: (expired.set(), SandboxKernelManager.kill_all()))
    watchdog.start()
    try:
        outcome = api.autograde(job["assignment"], job["student"])
    finally:
        watchdog.cancel()
    if not outcome["success"]:
        limit = f"the notebook ran longer than the whole-notebook limit of {settings.notebook_timeout} s"
        return asdict(result.failed(limit if expired.is_set() else _explain_failure(outcome, settings)))
    autograded = sorted(glob.glob(os.path.join(root, "autograded", job["student"], job["assignment"], "*.ipynb")))
    with Gradebook(config.CourseDirectory.db_url) as gb:
        submission = gb.find_submission(job["assignment"], job["student"])
        notes = _gradebook_notes(gb, job) + _cell_notes(autograded)
        penalty = submission.late_submission_penalty or 0.0
        if submission.total_seconds_late > 0:
            notes.append(f"late by {hours_text(submission.total_seconds_late / 3600)}: {penalty:g} point(s) off")
        result = result.graded(net_score(submission.score, penalty), submission.max_score, "; ".join(notes))
        if submission.timestamp is not None:
            result.submitted_at = utc_text(submission.timestamp)
        result.hours_late = submission.total_seconds_late / 3600

    feedback = api.generate_feedback(job["assignment"], job["student"])
    if not feedback["success"]:
        reason = _explain_failure(feedback, settings)
        return asdict(result.failed(f"graded, but the feedback could not be written: {reason}"))
    result.autograded = autograded
    result.feedback = sorted(glob.glob(os.path.join(root, "feedback", job["student"], job["assignment"], "*.html")))
    return asdict(result)


def main():
    results = os.fdopen(os.dup(1), "w")
    # kernels inherit stdout: send everything but results to the log (stderr)
    os.dup2(2, 1)
    print(json.dumps({"ready": True}), file=results, flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        try:
            answer = grade_student(job)
        except Exception as error:  # a grader bug fails this student, not the whole batch
            traceback.print_exc()
            blank = StudentResult(job["student"], job["assignment"])
            answer = asdict(blank.failed(f"internal grading error: {error!r}"))
        print(json.dumps(answer), file=results, flush=True)


if __name__ == "__main__":
    main()
