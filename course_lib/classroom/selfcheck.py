"""The student edition's self-checks (`make check`): is this installation ready to work in?

Run as ``python -m course_lib.classroom.selfcheck`` in the edition's folder. Each check
prints one line, PASS or FAIL with the reason; the exit status is 1 when one failed.

1. course_lib computes the softmax loss and its gradient, checked against a numerical gradient;
2. every lesson and assignment notebook is a readable notebook;
3. nbgrader knows the course (course id) and where its exchange folder is (and whether it exists);
4. the instructor's tools are off in this edition's Jupyter configuration;
5. the first assignment runs in a Jupyter kernel: its set-up imports work and its visible
   tests fail only because the stubs are not written yet (NotImplementedError).
"""

import glob
import json
import os
import sys

ACCEPTED_ERRORS = {"NotImplementedError"}  # what an unsolved stub raises, and the tests that call it


def check_library():
    import numpy as np

    from course_lib.gradcheck import numerical_gradient, rel_error
    from course_lib.losses import softmax_loss

    rng = np.random.default_rng(0)
    scores, labels = rng.standard_normal((5, 4)), np.array([0, 1, 2, 3, 0])
    _, analytic = softmax_loss(scores, labels)
    numeric = numerical_gradient(lambda s: softmax_loss(s, labels)[0], scores)
    error = rel_error(analytic, numeric)
    if not error < 1e-7:
        raise AssertionError(f"softmax_loss's gradient is off by {error:.1e} (numpy or course_lib is broken)")
    return f"course_lib: softmax loss gradient matches the numerical one (relative error {error:.1e})"


def _notebooks(root):
    return sorted(glob.glob(os.path.join(root, "notebooks", "*.ipynb"))), sorted(
        glob.glob(os.path.join(root, "assignments", "*", "*.ipynb"))
    )


def check_notebooks(root):
    import nbformat

    lessons, assignments = _notebooks(root)
    if not lessons or not assignments:
        raise AssertionError(f"expected notebooks/*.ipynb and assignments/*/*.ipynb in {root}")
    for path in lessons + assignments:
        nbformat.read(path, as_version=4)
    return f"notebooks: {len(lessons)} lessons and {len(assignments)} assignment notebooks are readable"


def check_nbgrader(root):
    from course_lib.classroom.exchange import course_nbgrader_config

    config = course_nbgrader_config(root)
    course = config.CourseDirectory.get("course_id", "")
    exchange = config.Exchange.get("root", "")
    if not course or not exchange:
        raise AssertionError(f"nbgrader_config.py in {root} must set the course id and the exchange folder")
    there = "exists" if os.path.isdir(exchange) else "does not exist here (fine when you hand in through an LMS)"
    return f"nbgrader: course {course}, exchange folder {exchange} {there}"


def check_jupyter_config(root):
    from jupyter_core.paths import jupyter_config_path

    folder = os.path.join(root, "jupyter-config")
    if folder not in jupyter_config_path():
        raise AssertionError(f"{folder} is not on JUPYTER_CONFIG_PATH (run this through `make check`)")
    with open(os.path.join(folder, "labconfig", "page_config.json")) as handle:
        disabled = json.load(handle)["disabledExtensions"]
    if not disabled.get("@jupyter/nbgrader:formgrader") or disabled.get("@jupyter/nbgrader:assignment-list"):
        raise AssertionError(f"{folder}: the Formgrader must be off and the Assignments tab on")
    return "Jupyter: Formgrader, Create Assignment and course list off; Assignments tab on"


def check_kernel(root):
    import nbformat
    from nbclient import NotebookClient

    _, assignments = _notebooks(root)
    path = assignments[0]
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=120, allow_errors=True, resources={"metadata": {"path": root}})
    client.execute(cwd=os.path.dirname(path))
    errors = [o.ename for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    unexpected = sorted(set(errors) - ACCEPTED_ERRORS)
    if unexpected:
        raise AssertionError(f"{os.path.relpath(path, root)} raised {', '.join(unexpected)} in a kernel")
    name = os.path.relpath(path, root)
    return f"kernel: {name} runs; its {len(errors)} failing cell(s) wait for your code (NotImplementedError)"


def main(root="."):
    root = os.path.abspath(root)
    checks = [
        check_library,
        lambda: check_notebooks(root),
        lambda: check_nbgrader(root),
        lambda: check_jupyter_config(root),
        lambda: check_kernel(root),
    ]
    failed = 0
    for check in checks:
        try:
            print(f"PASS {check()}", flush=True)
        except Exception as error:  # every check reports; one failure does not hide the others
            failed += 1
            print(f"FAIL {error}", flush=True)
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
