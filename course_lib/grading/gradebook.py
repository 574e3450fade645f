"""The course gradebook: where `course grade` records its scores for the Formgrader and `nbgrader export`.

Each student is graded in a gradebook of their own (so parallel workers never share a
sqlite file); afterwards their submission, grade by grade and comment by comment, is
copied into the course's gradebook.db. The assignment's cells are regenerated there
first (with its due date), and a student who failed or is missing loses any earlier
submission there: a re-grade never leaves a stale score behind.
"""

import contextlib
import os
import tempfile
import warnings

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

from course_lib.grading.release import generate

GRADE_FIELDS = ("auto_score", "manual_score", "extra_credit", "needs_manual_grade")
COMMENT_FIELDS = ("auto_comment", "manual_comment")


def _copy_submission(source, target, assignment, student):
    """Copy `student`'s submission of `assignment` from Gradebook `source` into Gradebook `target`."""
    submitted = source.find_submission(assignment, student)
    with warnings.catch_warnings():
        # nbgrader 0.9.6 reads relationships of the new submission before adding it to
        # the session; SQLAlchemy 2 warns that autoflush skips it (it is added right after)
        warnings.simplefilter("ignore", SAWarning)
        copy = target.add_submission(assignment, student, timestamp=submitted.timestamp)
    for notebook in submitted.notebooks:
        into = target.find_submission_notebook(notebook.name, assignment, student)
        into.flagged = notebook.flagged
        into.late_submission_penalty = notebook.late_submission_penalty
        for grade in notebook.grades:
            mine = target.find_grade(grade.name, notebook.name, assignment, student)
            for name in GRADE_FIELDS:
                setattr(mine, name, getattr(grade, name))
        for comment in notebook.comments:
            mine = target.find_comment(comment.name, notebook.name, assignment, student)
            for name in COMMENT_FIELDS:
                setattr(mine, name, getattr(comment, name))
    return copy


def record_results(settings, course_dir, assignment, results, run_gradebooks):
    """Record a grading run of `assignment` in <course_dir>/gradebook.db.

    results: StudentResult of every student of the run; run_gradebooks: {student id:
    path of the gradebook that student was graded in}.
    """
    path = os.path.join(course_dir, "gradebook.db")
    with tempfile.TemporaryDirectory(prefix="course-gradebook-") as scratch:
        generate([assignment], settings, scratch, gradebook=path)
    with Gradebook(f"sqlite:///{path}", course_id=settings.course_id) as course:
        for result in results:
            course.update_or_create_student(result.student_id)
            with contextlib.suppress(MissingEntry):  # never graded before
                course.remove_submission(assignment, result.student_id)
            if result.status == "graded":
                with Gradebook(f"sqlite:///{run_gradebooks[result.student_id]}") as run:
                    _copy_submission(run, course, assignment, result.student_id)
        course.db.commit()
    os.chmod(path, 0o600)
