"""Finding each student's work in a submissions folder, before nbgrader sees it.

Accepted layouts: ``<dir>/<student_id>/<assignment>/*.ipynb`` (nbgrader's submitted
layout) and ``<dir>/<student_id>/*.ipynb``. nbgrader answers a misnamed notebook or
an empty folder with a misleading "No notebooks found"; here those are reported as
`missing` with the names that were expected and found, and a notebook that is not
valid JSON as `failed`.
"""

import os
import shutil
import warnings
from dataclasses import dataclass

import nbformat


@dataclass
class Submission:
    """One student's folder; `problem` is (status, detail) when it cannot be graded."""

    student_id: str
    folder: str
    problem: tuple | None = None


def _visible(names):
    return sorted(n for n in names if not n.startswith("."))


def find_submissions(submissions_dir, assignment, notebook_names):
    """One Submission per student folder in `submissions_dir`, sorted by student id.

    notebook_names: the notebook names (without .ipynb) the assignment expects.
    """
    found = []
    for student in _visible(os.listdir(submissions_dir)):
        top = os.path.join(submissions_dir, student)
        if os.path.isdir(top) and not os.path.islink(top):
            nested = os.path.join(top, assignment)
            folder = nested if os.path.isdir(nested) and not os.path.islink(nested) else top
            found.append(_check(Submission(student, folder), notebook_names))
    return found


def _check(submission, notebook_names):
    files = _visible(os.listdir(submission.folder))
    present = [n for n in notebook_names if f"{n}.ipynb" in files]
    expected = ", ".join(f"{n}.ipynb" for n in notebook_names)
    if not files:
        submission.problem = ("missing", f"the submission folder is empty (expected {expected})")
    elif not present:
        other = [f for f in files if f.endswith(".ipynb")] or files
        submission.problem = ("missing", f"no notebook named {expected} (found: {', '.join(other)})")
    else:
        for name in present:
            try:
                with warnings.catch_warnings():
                    # nbformat warns about what nbgrader repairs later (duplicate cell ids)
                    warnings.simplefilter("ignore")
                    nbformat.read(os.path.join(submission.folder, f"{name}.ipynb"), as_version=4)
            except Exception as error:  # any unreadable file, whatever the parser says
                submission.problem = ("failed", f"{name}.ipynb is not a readable notebook: {error}")
                return submission
    return submission


def stage(submission, target):
    """Copy the submission's regular files (never symlinks) into nbgrader's `target` folder."""

    def links(folder, names):
        return [n for n in names if os.path.islink(os.path.join(folder, n))]

    shutil.copytree(submission.folder, target, ignore=links)
