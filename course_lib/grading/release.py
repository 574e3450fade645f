"""`course release`: regenerate assignments/ (student notebooks) from solutions/.

nbgrader's generate_assignment strips the solutions and hidden tests and locks the
test cells. It runs with a throwaway gradebook, so releasing never leaves a
gradebook.db in the repository, and it replaces each assignments/<a>/ folder whole,
so a file removed from solutions/<a>/ disappears from the release too.
"""

import os
import shutil
import sys
import tempfile

from course_lib.grading import RELEASE_DIRECTORY, SOURCE_DIRECTORY
from course_lib.grading.config import api_config


def assignments_in(source_dir):
    """The assignment ids: the folders of `source_dir` (dot folders excluded), sorted."""
    if not os.path.isdir(source_dir):
        return []
    names = os.listdir(source_dir)
    return sorted(d for d in names if os.path.isdir(os.path.join(source_dir, d)) and not d.startswith("."))


def source_assignments(course_root="."):
    """The assignment ids: the folders of <course_root>/solutions, sorted."""
    return assignments_in(os.path.join(course_root, SOURCE_DIRECTORY))


def generate(assignments, source_dir, work_dir):
    """Run nbgrader's generate_assignment for `assignments` in `work_dir` (created).

    assignments: assignment ids, folders of `source_dir` holding the source notebooks.
    Returns (folder holding one release folder per assignment, path of the gradebook
    holding their cells). Raises RuntimeError with nbgrader's message when it fails.
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.utils import setenv

    os.makedirs(work_dir, exist_ok=True)
    config = api_config(work_dir, source_dir)
    config.CourseDirectory.release_directory = os.path.join(work_dir, "release")
    api = NbGraderAPI(config=config)
    # a new gradebook asks the `alembic` command (next to this Python) for its version
    with setenv(PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])):
        for assignment in assignments:
            outcome = api.generate_assignment(assignment)
            if not outcome["success"]:
                message = outcome.get("error") or outcome.get("log")
                raise RuntimeError(f"nbgrader could not generate {assignment!r}:\n{message}")
    return os.path.join(work_dir, "release"), os.path.join(work_dir, "gradebook.db")


def release(course_root=".", release_dir=None):
    """Regenerate every assignment of <course_root>/solutions into `release_dir`.

    course_root: the course folder (holding solutions/).
    release_dir: where the student versions go (default <course_root>/assignments);
        release folders whose assignment left solutions/ are removed.
    Returns the list of assignment ids released.
    Raises RuntimeError with nbgrader's message when an assignment cannot be generated.
    """
    course_root = os.path.abspath(course_root)
    release_dir = os.path.abspath(release_dir or os.path.join(course_root, RELEASE_DIRECTORY))
    assignments = source_assignments(course_root)
    with tempfile.TemporaryDirectory(prefix="course-release-") as scratch:
        generated, _ = generate(assignments, os.path.join(course_root, SOURCE_DIRECTORY), scratch)
        os.makedirs(release_dir, exist_ok=True)
        for name in os.listdir(release_dir):
            if os.path.isdir(os.path.join(release_dir, name)) and name not in assignments:
                shutil.rmtree(os.path.join(release_dir, name))
        for assignment in assignments:
            shutil.rmtree(os.path.join(release_dir, assignment), ignore_errors=True)
            shutil.copytree(os.path.join(generated, assignment), os.path.join(release_dir, assignment))
    return assignments
