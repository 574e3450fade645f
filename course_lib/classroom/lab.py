"""JupyterLab for the course: only the nbgrader tabs that work for the person using it.

`write_jupyter_config(folder, instructor_tools, assignments)` writes a Jupyter configuration
folder (for JUPYTER_CONFIG_PATH, which beats the virtualenv's own configuration) that
turns nbgrader's Lab extensions and server extensions off or on:

* instructor tools: the Formgrader, the "Create Assignment" sidebar and the course list;
* the Assignments tab (fetch, validate, submit, fetch feedback): needs an exchange folder.

The student edition ships such a folder with the instructor tools off. `make lab` on the
repository runs `python -m course_lib.classroom.lab`: JupyterLab at the repository root
(lessons and assignments both reachable), this Python's bin/ on PATH (nbgrader's
`alembic`), the Formgrader only once the course has a gradebook (a class is being taught
from this folder: so browsing never leaves a gradebook.db behind), and the Assignments tab
only when the course's exchange folder exists and is usable.
"""

import json
import os
import sys

from course_lib import ONE_THREAD_ENV
from course_lib.classroom.exchange import ExchangeError, check_exchange
from course_lib.grading.config import put_python_on_path
from course_lib.grading.settings import Settings

LAB_EXTENSION = "@jupyter/nbgrader"
SERVER_EXTENSION = "nbgrader.server_extensions"
INSTRUCTOR_TOOLS = {"lab": ("formgrader", "create-assignment", "course-list"), "server": ("formgrader", "course_list")}
ASSIGNMENT_TOOLS = {"lab": ("assignment-list",), "server": ("assignment_list",)}


def write_jupyter_config(folder, instructor_tools, assignments=True):
    """Write labconfig/page_config.json and jupyter_server_config.json into `folder` (created)."""
    disabled_lab, server = {}, {}
    for tools, enabled in ((INSTRUCTOR_TOOLS, instructor_tools), (ASSIGNMENT_TOOLS, assignments)):
        for name in tools["lab"]:
            disabled_lab[f"{LAB_EXTENSION}:{name}"] = not enabled
        for name in tools["server"]:
            server[f"{SERVER_EXTENSION}.{name}"] = enabled
    # the Nbgrader menu lists only those tools: without any, it would be an empty menu
    disabled_lab[f"{LAB_EXTENSION}:menu"] = not (instructor_tools or assignments)
    # the Validate button answers one line per test (course_lib.grading.lab_validate), not nbgrader's dialog
    from course_lib.grading.lab_validate import SERVER_EXTENSIONS

    server.update(SERVER_EXTENSIONS)
    os.makedirs(os.path.join(folder, "labconfig"), exist_ok=True)
    with open(os.path.join(folder, "labconfig", "page_config.json"), "w") as handle:
        json.dump({"disabledExtensions": disabled_lab}, handle, indent=2, sort_keys=True)
    with open(os.path.join(folder, "jupyter_server_config.json"), "w") as handle:
        json.dump({"ServerApp": {"jpserver_extensions": server}}, handle, indent=2, sort_keys=True)
    return folder


def lab_environment(config_folder, environ=None):
    """`environ` (default os.environ) with `config_folder` first on JUPYTER_CONFIG_PATH, one BLAS thread per kernel."""
    env = dict(os.environ if environ is None else environ)
    env.update(ONE_THREAD_ENV)
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(p for p in (config_folder, env.get("JUPYTER_CONFIG_PATH")) if p)
    return env


def _exchange_line(root):
    """(whether the Assignments tab can work with exchange folder `root`, the line that says so)."""
    try:
        check_exchange(root)
    except ExchangeError as error:
        return False, f"Assignments tab: off ({error})"
    return True, f"Assignments tab: on (exchange {root})"


def self_study_plan(settings):
    """(instructor tools on?, Assignments tab on?, lines saying which edition this is and why)."""
    teaching = os.path.exists(settings.gradebook_path)
    exchange, exchange_line = _exchange_line(settings.exchange)
    lines = [
        "This is the instructor's course, opened for self-study: lessons in notebooks/, assignments in "
        "assignments/ (solutions in solutions/). Students get the student edition (`course student-edition`).",
        "Formgrader: " + ("on (the course has a gradebook)" if teaching else "off until you teach a class from here"),
        exchange_line,
    ]
    return teaching, exchange, lines


def student_plan(root):
    """The student edition at `root`: (False, Assignments tab on?, lines), its exchange read from nbgrader_config.py."""
    from course_lib.classroom.exchange import course_nbgrader_config

    exchange, exchange_line = _exchange_line(course_nbgrader_config(root).Exchange.get("root", ""))
    lines = [
        "This is the student edition of the course: lessons in notebooks/, assignments in assignments/.",
        exchange_line,
    ]
    return False, exchange, lines


def main(argv=None):
    """`make lab`: print the plan, then run JupyterLab at the course root with it.

    argv: `--student` for the student edition in the current folder (default: the
    instructor's course there, for self-study); other arguments go to JupyterLab.
    """
    from jupyter_core.paths import jupyter_runtime_dir

    argv = list(sys.argv[1:] if argv is None else argv)
    root = os.path.abspath(".")
    if "--student" in argv:
        argv.remove("--student")
        instructor_tools, exchange, lines = student_plan(root)
    else:
        settings = Settings.load(root)
        root = settings.course_root
        instructor_tools, exchange, lines = self_study_plan(settings)
    print("\n".join(lines), flush=True)
    folder = os.path.join(jupyter_runtime_dir(), "course-lab")
    write_jupyter_config(folder, instructor_tools, exchange)
    put_python_on_path()
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}", *argv]
    os.execve(sys.executable, command, lab_environment(folder))


if __name__ == "__main__":
    main()
