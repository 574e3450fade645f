"""`course grade`: a folder of submissions in, a grade sheet and feedback out.

How a run works, and why:

1. nbgrader's generate_assignment builds a master gradebook from the source
   notebooks (with the assignment's due date) in a temporary run folder.
2. Each student's folder is checked (misnamed notebook, empty folder, unreadable
   file) and staged, symlinks dropped, into a course folder of its own with its own
   copy of the master gradebook: parallel workers never write to one sqlite file, and
   every run starts from fresh gradebooks, so no score survives from an earlier run.
3. `--jobs` worker processes (course_lib.grading.worker) grade the students through
   nbgrader's API, each kernel inside the sandbox (course_lib.grading.sandbox). A
   worker that a student hangs or kills is killed and replaced; that student is
   `failed` with the reason, the others are graded normally.
4. The parent writes, in nbgrader's layout of the course folder <out> (default: the
   class folder of the settings), feedback/<student>/<assignment>/ (the pages plus the
   submission's timestamp and secret, which `course return` needs) and
   autograded/<student>/<assignment>/, replacing earlier ones; records every score in
   <out>/gradebook.db (the course gradebook the Formgrader and `nbgrader export` read; a
   student who failed or is missing has no score there, never a stale one); and writes
   this run's grade sheet, <out>/grades/<assignment>.csv.
   It also writes <out>/similarity.csv (course_lib.grading.similarity: near-copies, flagged
   only, never a change of score).
   Everything it creates in <out> is readable by its owner only (course_lib.grading.files),
   and the summary warns when <out> or its gradebook is readable by every user.
"""

import dataclasses
import json
import os
import queue
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from tqdm import tqdm

from course_lib.checks import check_count
from course_lib.grading.files import exposure_warnings, private_umask
from course_lib.grading.release import check_assignments
from course_lib.grading.report import StudentResult, status_page, summary, write_csv
from course_lib.grading.sandbox import Sandbox, secret_paths
from course_lib.grading.settings import check_student_id
from course_lib.grading.similarity import report_for_run
from course_lib.grading.submissions import find_submissions, stage

# Files of a submission folder that nbgrader's release_feedback needs beside the pages.
SUBMISSION_RECORDS = ("timestamp.txt", "submission_secret.txt")

# Seconds a worker may take, beyond the notebook's own limit, to start a kernel and
# write feedback; and to import nbgrader when it starts.
JOB_MARGIN = 120
STARTUP_LIMIT = 300


class _Worker:
    """One grading process; replaced when a student's work kills it or runs over time."""

    def __init__(self, log_path, cwd):
        self.log_path, self.cwd, self.process, self.ready = log_path, cwd, None, False

    def start(self):
        """Start the process (it imports nbgrader while the parent prepares the jobs)."""
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-m", "course_lib.grading.worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd=self.cwd,
                text=True,
                start_new_session=True,
            )
        self.ready = False

    def grade(self, job, timeout):
        """The worker's result dict for `job`, or an explanation (str) when it gave none."""
        if self.process is None:
            self.start()
        if not self.ready:
            self.ready = isinstance(self._read(STARTUP_LIMIT), dict)
            if not self.ready:
                self.stop(force=True)
                return f"the grading process could not start (see {self.log_path})"
        try:
            self.process.stdin.write(json.dumps(job) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            answer = f"the grading process died (see {self.log_path})"
        else:
            answer = self._read(timeout)
        if isinstance(answer, str):
            self.stop(force=True)
        return answer

    def _read(self, timeout):
        """The worker's next JSON line as a dict, or why there was none (str)."""
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            return f"grading did not finish within {timeout} s; the grading process was killed"
        line = self.process.stdout.readline()
        return json.loads(line) if line else f"the grading process died (see {self.log_path})"

    def stop(self, force=False):
        """End the process (and, through its kernels' death signal, their kernels)."""
        if self.process is None:
            return
        if not force:
            self.process.stdin.close()  # an idle worker exits at the end of its input
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                force = True
        if force:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None


def _run_jobs(jobs, workers, timeout, progress):
    """Grade `jobs` on `workers` in parallel; returns {student: result dict or str}."""
    pending, answers = queue.Queue(), {}
    for job in jobs:
        pending.put(job)

    def drain(worker):
        while True:
            try:
                job = pending.get_nowait()
            except queue.Empty:
                worker.stop()
                return
            answers[job["student"]] = worker.grade(job, timeout)
            progress.update()

    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _master_gradebook(run_root, settings, assignment):
    """Generate the assignment into a master gradebook; returns (db path, notebook names)."""
    from nbgrader.api import Gradebook

    from course_lib.grading.release import generate

    _, db_path = generate([assignment], settings, os.path.join(run_root, "master"))
    with Gradebook(f"sqlite:///{db_path}") as gb:
        names = [nb.name for nb in gb.find_assignment(assignment).notebooks]
    return db_path, names


def _stage(submissions, run_root, master_db, assignment, settings):
    """Results for the students who cannot be graded, and a worker job for each other one.

    Each gradable student gets a course folder of their own in `run_root` holding a
    copy of the master gradebook and their staged submission; every job carries the
    whole `settings` (as JSON).
    """
    results, jobs = [], []
    for index, sub in enumerate(submissions):
        blank = StudentResult(sub.student_id, assignment)
        if sub.problem:
            status, detail = sub.problem
            results.append(blank.missing(detail) if status == "missing" else blank.failed(detail))
            continue
        # short folder names: kernel socket paths must stay under ~100 characters
        course_dir = os.path.join(run_root, f"s{index}")
        submitted = os.path.join(course_dir, "submitted", sub.student_id, assignment)
        stage(sub, submitted)
        gradebook = os.path.join(course_dir, "gradebook.db")
        shutil.copy(master_db, gradebook)
        os.chmod(gradebook, 0o600)
        jobs.append(
            {
                "assignment": assignment,
                "student": sub.student_id,
                "course_dir": course_dir,
                "submitted": submitted,
                "settings": settings.to_json(),
            }
        )
    return results, jobs


def _copy_into(path, folder):
    """Copy the file at `path` into `folder`, with the mode new files get (not the source's)."""
    shutil.copyfile(path, os.path.join(folder, os.path.basename(path)))


def _publish(results, out_dir, assignment, notebook_names, submissions, partial=False):
    """Replace this assignment's feedback and graded notebooks in `out_dir`; write its grade sheet.

    partial: the run graded only some students (`results`): the other students' feedback,
        graded notebooks and grade-sheet rows stay as they are. Otherwise every student's
        are replaced, so nothing of a student missing from this run remains.
    """
    for step in ("feedback", "autograded"):
        if os.path.isdir(os.path.join(out_dir, step)):
            replaced = [r.student_id for r in results] if partial else os.listdir(os.path.join(out_dir, step))
            for student in replaced:
                shutil.rmtree(os.path.join(out_dir, step, student, assignment), ignore_errors=True)
    for r in results:
        feedback_dir = os.path.join(out_dir, "feedback", r.student_id, assignment)
        os.makedirs(feedback_dir, exist_ok=True)
        for path in r.feedback:
            _copy_into(path, feedback_dir)
        folder = submissions.get(r.student_id)
        for name in SUBMISSION_RECORDS if folder else ():
            if os.path.isfile(os.path.join(folder, name)):
                _copy_into(os.path.join(folder, name), feedback_dir)
        if r.status != "graded":
            for name in notebook_names:
                with open(os.path.join(feedback_dir, f"{name}.html"), "w") as page:
                    page.write(status_page(r))
        if r.autograded:
            graded_dir = os.path.join(out_dir, "autograded", r.student_id, assignment)
            os.makedirs(graded_dir, exist_ok=True)
            for path in r.autograded:
                _copy_into(path, graded_dir)
    write_csv(results, sheet_path(out_dir, assignment), keep_others=partial)


def sheet_path(course_dir, assignment):
    """Where a grading run of `assignment` writes its grade sheet."""
    return os.path.join(course_dir, "grades", f"{assignment}.csv")


def grade(
    assignment, settings, submissions_dir=None, out_dir=None, jobs=1, show_progress=True, sandbox=None, students=None
):
    """Grade every student's `assignment` in `submissions_dir`.

    assignment: the assignment id, a folder of settings.source_dir.
    settings: the Settings (time limits, memory cap, output limit, course and due dates).
    submissions_dir: <dir>/<student_id>/<assignment>/*.ipynb or <dir>/<student_id>/*.ipynb
        (default: the class folder's submitted/, where `course collect` puts them).
    out_dir: the course folder the results go to (default: the class folder).
    jobs: students graded in parallel.
    show_progress: draw a progress bar on stderr.
    sandbox: the Sandbox to use instead of the strongest one the machine allows (its
        limits and hidden paths are replaced by this run's); for tests of weaker machines.
    students: grade only these student ids (a re-grade): every other student's feedback,
        graded notebooks, grade-sheet row and gradebook entry stay as they were.
    Returns (list of StudentResult sorted by student id, run summary text).
    Raises ValueError for an unknown assignment or a student without a submission folder,
    FileNotFoundError for a missing submissions folder, RuntimeError when nbgrader cannot
    generate the assignment.
    """
    from course_lib.grading.gradebook import record_results

    start = time.monotonic()
    jobs = check_count("jobs", jobs)  # the arguments first: a typo is not worth a look at the folders
    check_assignments(settings, [assignment])
    out_dir = os.path.abspath(out_dir or settings.class_root)
    if submissions_dir is None:
        submissions_dir = os.path.join(settings.class_root, "submitted")
        if not os.path.isdir(submissions_dir):
            raise FileNotFoundError(
                f"nothing collected yet: {submissions_dir} does not exist (run `course collect {assignment}` "
                "first, or name a folder of submissions with --submissions DIR)"
            )
    submissions_dir = os.path.abspath(submissions_dir)
    if not os.path.isdir(submissions_dir):
        raise FileNotFoundError(f"submissions folder {submissions_dir} does not exist")
    for student in students or ():
        check_student_id(student, "--student")
        if not os.path.isdir(os.path.join(submissions_dir, student)):
            raise ValueError(f"--student {student}: no submission folder {os.path.join(submissions_dir, student)}")
    log_dir = os.path.join(out_dir, "logs", assignment)
    log_paths = [os.path.join(log_dir, f"worker{i}.log") for i in range(jobs)]
    with private_umask():
        os.makedirs(out_dir, exist_ok=True)
        shutil.rmtree(log_dir, ignore_errors=True)
        os.makedirs(log_dir)
        for path in log_paths:
            open(path, "w").close()
    run_root = tempfile.mkdtemp(prefix="course-grade-")
    # kernels of an unprivileged user must pass through to their folders in here
    os.chmod(run_root, 0o711)
    # The whole course folder (other runs' output, assignments, the repository), the class
    # folder and the exchange, unless one is the root of the file system; the kernels'
    # Python is bound back.
    hidden = secret_paths(settings, submissions_dir, out_dir, run_root)
    sandbox = Sandbox.detect(settings, hidden) if sandbox is None else sandbox.limited(settings, hidden)
    workers = [_Worker(path, run_root) for path in log_paths]
    try:
        for worker in workers:
            worker.start()
        master_db, notebook_names = _master_gradebook(run_root, settings, assignment)
        everyone = find_submissions(submissions_dir, assignment, notebook_names)
        submissions = [s for s in everyone if s.student_id in set(students)] if students else everyone
        results, job_list = _stage(submissions, run_root, master_db, assignment, settings)
        for job in job_list:
            job["sandbox"] = dataclasses.asdict(sandbox)
        with tqdm(total=len(job_list), desc=f"grading {assignment}", unit="student", disable=not show_progress) as bar:
            answers = _run_jobs(job_list, workers, settings.notebook_timeout + JOB_MARGIN, bar)
        for job in job_list:
            answer = answers[job["student"]]
            blank = StudentResult(job["student"], assignment)
            results.append(blank.failed(answer) if isinstance(answer, str) else StudentResult(**answer))
        results.sort(key=lambda r: r.student_id)
        folders = {s.student_id: s.folder for s in submissions}
        run_dbs = {job["student"]: os.path.join(job["course_dir"], "gradebook.db") for job in job_list}
        # the similarity report always compares the whole class, also in a re-grade of some students
        graded = {s.student_id: s.folder for s in everyone if not s.problem}
        release_dir = os.path.join(os.path.dirname(master_db), "release")
        with private_umask():
            _publish(results, out_dir, assignment, notebook_names, folders, partial=bool(students))
            record_results(settings, out_dir, assignment, results, run_dbs)
            similar = report_for_run(graded, assignment, notebook_names, settings.source_dir, release_dir, out_dir)
    finally:
        for worker in workers:
            worker.stop()
        shutil.rmtree(run_root, ignore_errors=True)
    elapsed = time.monotonic() - start
    text = summary(results, sandbox.protections(), elapsed, sheet_path(out_dir, assignment))
    return results, "\n".join([text, similar, *exposure_warnings(out_dir, os.path.join(out_dir, "gradebook.db"))])
