"""`course grades`: one row per student and assignment, from the course gradebook, for an LMS import.

Scores come from the gradebook (so a manual grade given in the Formgrader counts, and the
late penalty is taken off); the status of work that has no score there (`failed`: the
grading broke; `missing`: nothing gradable) comes from the last grading run's sheet,
grades/<assignment>.csv. A student with no submission at all is `missing`.
"""

import csv
import os

from course_lib.grading.files import atomic_path
from course_lib.grading.pipeline import sheet_path
from course_lib.grading.report import hours_text, net_score
from course_lib.grading.settings import utc_text

COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "late", "submitted_at"]


def _run_statuses(course_dir, assignment):
    """{student: (status, late)} of the last grading run of `assignment`."""
    path = sheet_path(course_dir, assignment)
    if not os.path.exists(path):
        return {}
    with open(path, newline="") as sheet:
        return {row["student_id"]: (row["status"], row["late"]) for row in csv.DictReader(sheet)}


def grade_rows(settings):
    """The rows (dicts of COLUMNS), sorted by student then assignment; [] without a gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    if not os.path.exists(settings.gradebook_path):
        return []
    rows = []
    with Gradebook(f"sqlite:///{settings.gradebook_path}", course_id=settings.course_id) as gb:
        for assignment in gb.assignments:
            statuses = _run_statuses(settings.class_root, assignment.name)
            for student in gb.students:
                row = dict.fromkeys(COLUMNS, "")
                row.update(student_id=student.id, assignment=assignment.name, max_score=f"{assignment.max_score:g}")
                try:
                    submission = gb.find_submission(assignment.name, student.id)
                except MissingEntry:
                    row["status"], row["late"] = statuses.get(student.id, ("missing", ""))
                else:
                    row["score"] = f"{net_score(submission.score, submission.late_submission_penalty):g}"
                    row["status"] = "needs manual grading" if submission.needs_manual_grade else "graded"
                    if submission.total_seconds_late > 0:
                        row["late"] = hours_text(submission.total_seconds_late / 3600)
                    if submission.timestamp is not None:
                        row["submitted_at"] = utc_text(submission.timestamp)
                rows.append(row)
    return sorted(rows, key=lambda r: (r["student_id"], r["assignment"]))


def export_grades(settings, out_path):
    """Write every row to `out_path` (CSV, COLUMNS); returns the number of rows."""
    rows = grade_rows(settings)
    with atomic_path(out_path) as partial, open(partial, "w", newline="") as sheet:
        writer = csv.DictWriter(sheet, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)
