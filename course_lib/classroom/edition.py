"""`course student-edition`: what students receive, and nothing they must not see.

Layout of the edition (CONTRACTS.md), all copied from the instructor's course or written here::

    README.md             the student README: install, open, check, hand in
    Makefile              its two commands: `make lab` (open the course), `make check` (self-checks)
    notebooks/            the lessons
    assignments/<a>/      the release notebooks (solutions and hidden tests stripped by nbgrader)
    course_lib/           the reference library (students import it; the grader's tests use it)
    pyproject.toml, requirements.txt
    nbgrader_config.py    the student side: course id and exchange folder, nothing else
    jupyter-config/       Jupyter configuration: Formgrader, Create Assignment and course list off
                          (for a JupyterHub to put on JUPYTER_CONFIG_PATH; `make lab` writes its own,
                          which also hides the Assignments tab where there is no exchange folder)

Never copied: solutions/, course.toml, the instructor's nbgrader_config.py, tests/, the
gradebook and every other piece of the class's state (submitted/, autograded/, feedback/, ...).
"""

import os
import shutil
import zipfile

from course_lib.classroom.lab import write_jupyter_config
from course_lib.grading.settings import Settings

COPIED = ("notebooks", "course_lib", "pyproject.toml", "requirements.txt")
SKIPPED = ("__pycache__", ".ipynb_checkpoints", "*.pyc", "*.egg-info")

STUDENT_NBGRADER_CONFIG = '''"""nbgrader, student side: which course this is and where its exchange folder is."""

c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = {exchange!r}
'''

MAKEFILE = """# The student edition's two commands: `make lab` opens the course, `make check` runs its self-checks.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: lab check

$(BIN)/.installed: requirements.txt pyproject.toml
\t$(PYTHON) -m venv $(VENV)
\t$(BIN)/python -m pip install --upgrade pip
\t$(BIN)/python -m pip install -r requirements.txt -e .
\ttouch $@

# instructor tools off; the Assignments tab only where the course's exchange folder is
lab: $(BIN)/.installed
\t$(BIN)/python -m course_lib.classroom.lab --student $(LAB_ARGS)

check: $(BIN)/.installed
\tJUPYTER_CONFIG_PATH="$(CURDIR)/jupyter-config" PATH="$(abspath $(BIN)):$$PATH" \\
\t\t$(BIN)/python -m course_lib.classroom.selfcheck
"""

README = """# Training Neural Networks: student edition

You are in the **student edition** of the course: the lessons, the assignments to solve and the
`course_lib` library. (The instructor's course, with the solutions, is a different folder.)

You need Python 3.10+ (3.11 tested), `make`, and a few minutes for the first install (PyTorch included).

## Two commands

```bash
make lab     # install on first use, then open the course in JupyterLab
make check   # check that the installation works (library, Jupyter, nbgrader, one assignment runs)
```

## Lessons

Open `notebooks/` in JupyterLab and run a lesson top to bottom; move the widgets.

## Assignments: solve, check, hand in

Each assignment is a notebook in `assignments/<assignment>/`. Fill in the cells marked
`YOUR CODE HERE` with your own code (importing the answer from `course_lib` is flagged at
grading), then run the notebook: the visible tests tell you what is wrong. Hidden tests run
only at grading time.

How you hand in depends on how your course is taught; your instructor tells you which.

**Through JupyterLab (one machine or a JupyterHub).** Open the **Assignments** tab
(menu *Nbgrader > Assignment List*): *Fetch* an assignment (it appears in a folder named after
it), solve it, press *Validate* to run its tests, then *Submit*. You may submit again until
the deadline; the latest submission counts. When your instructor has returned the grades,
*Fetch Feedback* shows a page for each notebook, with your score and the tests' messages.
The same from a terminal, in this folder:

```bash
nbgrader fetch_assignment a1_softmax
nbgrader submit a1_softmax
nbgrader fetch_feedback a1_softmax
```

**Through your LMS (Canvas, Moodle, ...).** In this folder run

```bash
.venv/bin/course submit a1_softmax      # checks your notebook and writes <your id>-a1_softmax.zip
```

and upload the zip it writes. Do not rename, unpack or edit it: its manifest records what you
handed in and when. Submit a new zip to replace an earlier one.

Course id: `{course_id}`; exchange folder: `{exchange}` (both in `nbgrader_config.py`).
"""


def student_nbgrader_config(settings):
    """The text of a student's nbgrader_config.py: the course id and exchange folder of `settings`."""
    return STUDENT_NBGRADER_CONFIG.format(course_id=settings.course_id, exchange=settings.exchange)


def _skipped(folder, names):
    import fnmatch

    return [n for n in names if any(fnmatch.fnmatch(n, pattern) for pattern in SKIPPED)]


def build_student_edition(course_root, out_dir, zip=False, settings=None):
    """Write the student edition of the course at `course_root` into `out_dir`.

    zip: also write <out_dir>.zip holding the edition's folder.
    settings: the course's Settings (default: read from course_root); its course id and
        exchange folder go into the edition's nbgrader_config.py.
    Returns out_dir (or the zip's path). Raises ValueError when `out_dir` exists and is not
    empty, FileNotFoundError when the course lacks a part of the edition.
    """
    course_root = os.path.abspath(course_root)
    settings = settings or Settings.load(course_root)
    out_dir = os.path.abspath(out_dir)
    if os.path.exists(out_dir) and (not os.path.isdir(out_dir) or os.listdir(out_dir)):
        raise ValueError(f"{out_dir} exists and is not an empty folder: choose a new one")
    if out_dir == course_root or out_dir.startswith(course_root + os.sep):
        raise ValueError(f"{out_dir} lies inside the course {course_root}: choose a folder outside it")
    for name in COPIED:
        if not os.path.exists(os.path.join(course_root, name)):
            raise FileNotFoundError(f"the course {course_root} has no {name}")
    if not os.path.isdir(settings.release_dir):
        raise FileNotFoundError(f"no release notebooks in {settings.release_dir}: run `course release`")
    os.makedirs(out_dir, exist_ok=True)
    for name in COPIED:
        source, target = os.path.join(course_root, name), os.path.join(out_dir, name)
        if os.path.isdir(source):
            shutil.copytree(source, target, ignore=_skipped, symlinks=False)
        else:
            shutil.copy(source, target)
    shutil.copytree(settings.release_dir, os.path.join(out_dir, "assignments"), ignore=_skipped, symlinks=False)
    with open(os.path.join(out_dir, "nbgrader_config.py"), "w") as handle:
        handle.write(student_nbgrader_config(settings))
    with open(os.path.join(out_dir, "README.md"), "w") as handle:
        handle.write(README.format(course_id=settings.course_id, exchange=settings.exchange))
    with open(os.path.join(out_dir, "Makefile"), "w") as handle:
        handle.write(MAKEFILE)
    write_jupyter_config(os.path.join(out_dir, "jupyter-config"), instructor_tools=False, assignments=True)
    if not zip:
        return out_dir
    archive = f"{out_dir}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        top = os.path.basename(out_dir)
        for folder, dirs, files in os.walk(out_dir):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(folder, name)
                bundle.write(path, os.path.join(top, os.path.relpath(path, out_dir)))
    return archive
