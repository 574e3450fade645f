"""`course submit ASSIGNMENT`: a student's check and hand-in for a learning platform (LMS) upload.

Run in the student edition (or the repository): it finds assignments/<assignment>/, runs
each notebook's visible tests the way the Validate button does (one line per test), prints
an estimate of the score, and writes one zip for the student to upload:

    manifest.json
    <assignment>/<notebook>.ipynb   (and any data files beside it)

The manifest (CONTRACTS.md) holds the format, course id, assignment, student id, the
submission time (UTC, ISO 8601 with a Z), the SHA-256 of every file and the course_lib
version; `course collect --from-zips` checks it. Failing tests never stop a submission:
the zip is written whenever the files can be read.
"""

import datetime
import getpass
import hashlib
import json
import os
import time
import zipfile

from course_lib import __version__
from course_lib.classroom.exchange import course_nbgrader_config
from course_lib.classroom.lms import MANIFEST, MANIFEST_FORMAT, MAX_SUBMISSION_BYTES
from course_lib.grading.files import atomic_path
from course_lib.grading.settings import COURSE_ID, Settings, utc_text
from course_lib.grading.settings import check_student_id as _check_id

RELEASE_DIRECTORY = Settings.release_directory  # the field's default: assignments/
SKIPPED = {".ipynb_checkpoints", "__pycache__"}


class SubmitError(ValueError):
    """A submission that cannot be made, with the message to show the student."""


def check_student_id(student_id, where="--student"):
    """The id if it can name a student's folder (settings.STUDENT_ID), else SubmitError naming `where`."""
    try:
        _check_id(student_id, where)
    except ValueError as error:
        raise SubmitError(f"{error}; give your student id with --student ID") from error
    return student_id


def default_student_id():
    """The unix user name, when it is a valid student id."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError) as error:
        raise SubmitError(f"cannot tell who you are ({error}): give your student id with --student ID") from error
    try:
        return check_student_id(name, "your user name")
    except SubmitError as error:
        raise SubmitError(f"your user name {name!r} is not a valid student id: give one with --student ID") from error


def find_assignment(assignment, course_root="."):
    """The folder holding `assignment`'s notebooks: assignments/<assignment> in `course_root` or a folder above it."""
    start = os.path.abspath(course_root)
    course = next(
        (folder for folder in (start, *_parents(start)) if os.path.isdir(os.path.join(folder, RELEASE_DIRECTORY))),
        None,
    )
    if course is None:
        raise SubmitError(
            f"no {RELEASE_DIRECTORY}/ folder in {start} or above it: run course submit in the folder of the course "
            "(the student edition, or the repository)"
        )
    releases = os.path.join(course, RELEASE_DIRECTORY)
    known = sorted(
        name
        for name in os.listdir(releases)
        if os.path.isdir(os.path.join(releases, name)) and not name.startswith(".")
    )
    if assignment not in known:
        raise SubmitError(f"unknown assignment {assignment!r}: the assignments are {', '.join(known)}")
    return os.path.join(releases, assignment)


def newest_copy(release_folder, assignment, say=print):
    """The folder to submit: assignments/<a>/, or the fetched ./<a>/ beside assignments/ when its notebook is newer.

    The student edition holds the release notebook in assignments/<a>/ and nbgrader's Fetch
    puts another copy in <a>/ at the course's top; a student works in one of them. `say` is
    told which one is submitted when both exist.
    """
    fetched = os.path.join(os.path.dirname(os.path.dirname(release_folder)), assignment)
    released_notebook = os.path.join(release_folder, f"{assignment}.ipynb")
    fetched_notebook = os.path.join(fetched, f"{assignment}.ipynb")
    if not os.path.isfile(fetched_notebook):
        return release_folder
    fetched_is_newer = not os.path.isfile(released_notebook) or (
        os.path.getmtime(fetched_notebook) > os.path.getmtime(released_notebook)
    )
    chosen, other = (fetched_notebook, released_notebook) if fetched_is_newer else (released_notebook, fetched_notebook)
    if os.path.isfile(other):
        name, other_name = os.path.relpath(chosen), os.path.relpath(other)
        say(
            f"Two copies of {assignment}: {name} (saved {_age(chosen)}) and {other_name} (saved {_age(other)}); "
            f"submitting the newer, {name}"
        )
    return os.path.dirname(chosen)


def _parents(folder):
    while os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
        yield folder


def submission_files(folder, assignment):
    """The files of the submission: {path inside the zip: path on disk}, notebooks first.

    Every regular file of the assignment folder and its subfolders, except hidden ones,
    checkpoints and caches (symbolic links are never followed).
    """
    notebook = os.path.join(folder, f"{assignment}.ipynb")
    if not os.path.isfile(notebook):
        present = sorted(n for n in os.listdir(folder) if n.endswith(".ipynb"))
        found = f" (found: {', '.join(present)})" if present else ""
        raise SubmitError(
            f"{os.path.relpath(notebook)} is missing{found}: submit the notebook you worked in under its released name"
        )
    files = {}
    for top, folders, names in os.walk(folder):
        folders[:] = sorted(f for f in folders if not f.startswith(".") and f not in SKIPPED)
        for name in sorted(names):
            path = os.path.join(top, name)
            if name.startswith(".") or os.path.islink(path) or not os.path.isfile(path):
                continue
            files["/".join([assignment, *os.path.relpath(path, folder).split(os.sep)])] = path
    size = sum(os.path.getsize(p) for p in files.values())
    if size > MAX_SUBMISSION_BYTES:
        limit = MAX_SUBMISSION_BYTES / 1024**2
        raise SubmitError(f"the files in {folder} add up to {size / 1024**2:.0f} MiB, more than {limit:.0f} MiB")
    return dict(sorted(files.items(), key=lambda item: (not item[0].endswith(".ipynb"), item[0])))


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def course_id_of(course):
    """The course id that `course`'s nbgrader_config.py names (the edition's, or the repository's)."""
    return course_nbgrader_config(course).CourseDirectory.get("course_id", COURSE_ID)


def write_zip(path, assignment, student_id, files, now=None, course_id=COURSE_ID):
    """Write the submission zip (manifest first) atomically at `path`; returns the manifest."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    manifest = {
        "format": MANIFEST_FORMAT,
        "course_id": course_id,
        "assignment": assignment,
        "student_id": student_id,
        "submitted_at": utc_text(now),
        "files": {name: sha256(disk) for name, disk in files.items()},
        "course_lib_version": __version__,
    }
    with atomic_path(path) as partial, zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2) + "\n")
        for name, disk in files.items():
            archive.write(disk, name)
    return manifest


def _age(path):
    minutes = (time.time() - os.path.getmtime(path)) / 60
    return "just now" if minutes < 1 else f"{minutes:.0f} min ago" if minutes < 120 else f"{minutes / 60:.0f} h ago"


def submit(assignment, student_id=None, out=None, course_root=".", say=print):
    """Check `assignment`'s notebooks and write the submission zip; returns its path.

    student_id: the student's id (default: the unix user name).
    out: the zip's path (default <student_id>-<assignment>.zip in the current folder).
    say: where the report lines go.
    Raises SubmitError (a ValueError) with a message for the student when it cannot submit.
    """
    from course_lib.grading.validation import validate

    student_id = check_student_id(student_id) if student_id is not None else default_student_id()
    released = find_assignment(assignment, course_root)
    folder = newest_copy(released, assignment, say)
    files = submission_files(folder, assignment)
    out = os.path.abspath(out or f"{student_id}-{assignment}.zip")
    if os.path.isdir(out):
        out = os.path.join(out, f"{student_id}-{assignment}.zip")
    if not os.path.isdir(os.path.dirname(out)):
        raise SubmitError(f"cannot write {out}: the folder {os.path.dirname(out)} does not exist")
    score = max_score = 0.0
    checked = True
    for name, path in files.items():
        if not name.endswith(".ipynb"):
            continue
        say(f"Checking {name} (saved {_age(path)}; unsaved changes in JupyterLab are not submitted) ...")
        try:
            validation = validate(path)
        except Exception as error:  # the student's notebook may break the kernel in any way
            checked = False
            say(f"  the tests could not run: {error}")
            continue
        say("\n".join("  " + line for line in validation.text().split("\n")))
        score, max_score = score + validation.score, max_score + validation.max_score
    if checked and max_score:
        say(
            f"Estimated score: at most {score:g} of {max_score:g} points "
            "(the hidden tests, run at grading, can still take points off)"
        )
    elif not checked:
        say("The checks did not run to the end; the zip is written anyway.")
    course = os.path.dirname(os.path.dirname(released))
    manifest = write_zip(out, assignment, student_id, files, course_id=course_id_of(course))
    count = len(manifest["files"])
    say(
        f"Wrote {os.path.relpath(out)} ({count} file{'s' if count != 1 else ''}, student {student_id}, "
        f"{manifest['submitted_at']}): upload this file."
    )
    return out
