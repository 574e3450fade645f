"""`course release`: regenerate assignments/ (student notebooks) from solutions/.

nbgrader's generate_assignment strips the solutions and hidden tests and locks the
test cells. It runs in a scratch folder, with a throwaway gradebook unless it is given
one, so releasing never leaves a gradebook.db in the repository, and it replaces each
assignments/<a>/ folder whole, so a file removed from solutions/<a>/ disappears from the
release too; a failure leaves the committed release as it was.

The release folder holds the committed student notebooks, so nothing is removed from it
before the source folder has been checked: a missing or empty solutions/, or an assignment
folder without a notebook, stops the run first. A release folder with no source is never
deleted (a wrong --source or a half-checked-out solutions/ would take it); it is reported.
"""

import os
import shutil
import tempfile

from course_lib.checks import check_choice
from course_lib.grading.config import api_config, put_python_on_path


def assignments_in(source_dir):
    """The assignment ids: the folders of `source_dir` (dot folders excluded), sorted."""
    if not os.path.isdir(source_dir):
        return []
    names = os.listdir(source_dir)
    return sorted(d for d in names if os.path.isdir(os.path.join(source_dir, d)) and not d.startswith("."))


def check_source(source_dir):
    """The assignment ids of `source_dir`; ValueError naming the folder when it holds no usable source."""
    if not os.path.isdir(source_dir):
        raise ValueError(
            f"the source folder {source_dir} does not exist: the nbgrader source notebooks (solutions/) live only "
            "in the instructor's course (set source_directory in course.toml, or --source)"
        )
    known = assignments_in(source_dir)
    if not known:
        raise ValueError(f"the source folder {source_dir} holds no assignment folder")
    empty = [a for a in known if not any(n.endswith(".ipynb") for n in os.listdir(os.path.join(source_dir, a)))]
    if empty:
        listed = ", ".join(empty)
        raise ValueError(f"the source folder {source_dir} has assignment folder(s) without a notebook: {listed}")
    return known


def check_assignments(settings, assignments):
    """`assignments` (default: all of the source folder), each checked to be one; ValueError otherwise."""
    known = check_source(settings.source_dir)
    for assignment in assignments or []:
        check_choice("assignment", assignment, known)
    return list(assignments or known)


def generate(assignments, settings, work_dir, gradebook=None):
    """Run nbgrader's generate_assignment for `assignments` in `work_dir` (created).

    assignments: assignment ids, folders of settings.source_dir holding the source notebooks.
    gradebook: the gradebook file to record their cells in (default: work_dir/gradebook.db);
        each assignment gets its due date from `settings`.
    Returns (folder holding one release folder per assignment, path of the gradebook).
    Raises RuntimeError with nbgrader's message when it fails.
    """
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI

    os.makedirs(work_dir, exist_ok=True)
    config = api_config(settings, root=work_dir)
    gradebook = os.path.abspath(gradebook or os.path.join(work_dir, "gradebook.db"))
    config.CourseDirectory.db_url = f"sqlite:///{gradebook}"
    config.CourseDirectory.release_directory = os.path.join(work_dir, "release")
    api = NbGraderAPI(config=config)
    put_python_on_path()  # a new gradebook asks the `alembic` command for its version
    for assignment in assignments:
        outcome = api.generate_assignment(assignment)
        if not outcome["success"]:
            message = outcome.get("error") or outcome.get("log")
            raise RuntimeError(f"nbgrader could not generate {assignment!r}:\n{message}")
    with Gradebook(f"sqlite:///{gradebook}", course_id=settings.course_id) as gb:
        for assignment in assignments:
            due = settings.due_date(assignment)
            # nbgrader keeps times as naive UTC
            gb.update_or_create_assignment(assignment, duedate=due and due.replace(tzinfo=None))
    return os.path.join(work_dir, "release"), gradebook


def orphans(settings, release_dir=None):
    """The release folders (of `release_dir`, default settings.release_dir) that have no source folder."""
    release_dir = os.path.abspath(release_dir or settings.release_dir)
    return sorted(set(assignments_in(release_dir)) - set(assignments_in(settings.source_dir)))


def release(settings, assignments=None, release_dir=None):
    """Regenerate `assignments` (default: every one of the source folder) into `release_dir`.

    release_dir: where the student versions go (default settings.release_dir). Only the folders
        of the regenerated assignments are replaced; any other folder there is left as it is
        (`orphans` lists the ones without a source).
    Returns the list of assignment ids released.
    Raises ValueError for a missing or empty source folder or an unknown assignment, and
    RuntimeError with nbgrader's message when one cannot be generated; in each case before
    anything in the release folder has changed.
    """
    release_dir = os.path.abspath(release_dir or settings.release_dir)
    chosen = check_assignments(settings, assignments)
    with tempfile.TemporaryDirectory(prefix="course-release-") as scratch:
        generated, _ = generate(chosen, settings, scratch)
        os.makedirs(release_dir, exist_ok=True)
        for assignment in chosen:
            shutil.rmtree(os.path.join(release_dir, assignment), ignore_errors=True)
            shutil.copytree(os.path.join(generated, assignment), os.path.join(release_dir, assignment))
    return chosen
