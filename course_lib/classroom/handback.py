"""`course return`: the feedback `course grade` wrote, released through the exchange.

nbgrader's release_feedback puts each page in <exchange>/<course>/feedback/ under a name
derived from the secret nbgrader's submit left in that student's submission: a student's
`fetch_feedback` (or the Assignments tab) finds only the pages of their own submissions,
and the folder cannot be listed. Work collected from LMS zips has no such secret: its
pages stay in the course folder (feedback/<student>/<assignment>/) for the LMS, and the
summary says so.
"""

import contextlib
import glob
import os
import stat
import warnings

from course_lib.classroom.exchange import check_exchange, course_api, outcome_error
from course_lib.grading.release import check_assignments


@contextlib.contextmanager
def _pages_readable(folder):
    """While the block runs, the feedback pages in `folder` are readable by all, as the exchange's copies must be.

    nbgrader's release_feedback copies each page with its mode, and `course grade` writes
    them owner-only; the folders above stay private, so nobody else reaches them here.
    """
    pages = glob.glob(os.path.join(folder, "*.html"))
    for page in pages:
        os.chmod(page, stat.S_IMODE(os.stat(page).st_mode) | 0o444)
    try:
        yield
    finally:
        for page in pages:
            os.chmod(page, stat.S_IMODE(os.stat(page).st_mode) & ~0o077)


def return_feedback(settings, assignment):
    """Release every student's feedback on `assignment`; returns the lines of the run summary.

    Raises ValueError (unknown assignment, unusable exchange, nothing graded yet).
    """
    check_assignments(settings, [assignment])
    check_exchange(settings.exchange)
    root = os.path.join(settings.class_root, "feedback")
    students = (
        sorted(s for s in os.listdir(root) if os.path.isdir(os.path.join(root, s, assignment)))
        if (os.path.isdir(root))
        else []
    )
    if not students:
        raise ValueError(f"no feedback for {assignment} in {root}: run `course grade {assignment}` first")
    api = course_api(settings)
    returned, kept = [], []
    for student in students:
        folder = os.path.join(root, student, assignment)
        if not os.path.isfile(os.path.join(folder, "submission_secret.txt")):
            kept.append(f"  {student}: not submitted through the exchange; send {folder} through your LMS")
            continue
        with warnings.catch_warnings():
            # nbgrader 0.9.6's release_feedback passes a misspelt keyword ("authentictor") on to traitlets
            warnings.filterwarnings("ignore", "Passing unrecognized arguments", DeprecationWarning)
            with _pages_readable(folder):
                outcome = api.release_feedback(assignment, student)
        if outcome["success"]:
            returned.append(student)
        else:
            kept.append(f"  {student}: {outcome_error(outcome)}")
    where = os.path.join(settings.exchange, settings.course_id, "feedback")
    lines = [f"returned feedback on {assignment} to {len(returned)} student(s) through {where}"]
    if returned:
        lines.append("  " + ", ".join(returned))
    if kept:
        lines.append(f"not returned ({len(kept)}):")
        lines.extend(kept)
    return lines
