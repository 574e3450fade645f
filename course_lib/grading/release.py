"""`course release`: regenerate assignments/ (student notebooks) from solutions/.

nbgrader's generate_assignment strips the solutions and hidden tests and locks the
test cells. It runs in a scratch folder, with a throwaway gradebook unless it is given
one, so releasing never leaves a gradebook.db in the repository, and it replaces each
assignments/<a>/ folder whole, so a file removed from solutions/<a>/ disappears from the
release too; a failure leaves the committed release as it was.
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


def check_assignments(settings, assignments):
    """`assignments` (default: all of the source folder), each checked to be one; ValueError otherwise."""
    known = assignments_in(settings.source_dir)
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


def release(settings, assignments=None, release_dir=None):
    """Regenerate `assignments` (default: every one of the source folder) into `release_dir`.

    release_dir: where the student versions go (default settings.release_dir); when every
        assignment is regenerated, release folders whose assignment left the source folder are removed.
    Returns the list of assignment ids released.
    Raises ValueError for an unknown assignment, RuntimeError with nbgrader's message when one
    cannot be generated (the release folder is then left as it was).
    """
    release_dir = os.path.abspath(release_dir or settings.release_dir)
    chosen = check_assignments(settings, assignments)
    with tempfile.TemporaryDirectory(prefix="course-release-") as scratch:
        generated, _ = generate(chosen, settings, scratch)
        os.makedirs(release_dir, exist_ok=True)
        if not assignments:
            for name in os.listdir(release_dir):
                if os.path.isdir(os.path.join(release_dir, name)) and name not in chosen:
                    shutil.rmtree(os.path.join(release_dir, name))
        for assignment in chosen:
            shutil.rmtree(os.path.join(release_dir, assignment), ignore_errors=True)
            shutil.copytree(os.path.join(generated, assignment), os.path.join(release_dir, assignment))
    return chosen
