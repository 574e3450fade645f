"""Checking a notebook's visible tests the way the grader runs them, one line per test.

`validate(path)` executes a notebook with nbgrader's own preprocessors and the course's
settings (the per-cell time limit, tracebacks without source lines, stderr that does not
fail a test) and returns a `Validation`: one `TestOutcome` per graded test cell, named by
what it checks (the cell's header comment, "# softmax: values and rows: 2 points"), with
the one line a student needs when it failed. The Lab's Validate button
(`course_lib.grading.lab_validate`), `course submit` and the feedback pages use it.

A notebook without graded test cells (a lesson) gives no tests, and says so: it is never
reported as a success.
"""

import os
import re
from dataclasses import dataclass, field

from course_lib.grading.settings import Settings

HEADER = re.compile(r"^#\s*(?P<name>.+?):\s*\d+(\.\d+)?\s+points?\s*$")
# error names of a cell stopped at the time limit (nbclient's, and the interrupt it sends)
TIMEOUTS = {"CellTimeoutError", "TimeoutError", "KeyboardInterrupt"}
MAX_MESSAGE_CHARS = 600


@dataclass(frozen=True)
class TestOutcome:
    """One graded test cell: its name, its points, whether it passed, and the useful line when it did not."""

    __test__ = False  # not a pytest test class

    name: str
    points: float
    passed: bool
    message: str = ""

    def line(self):
        score = f"{self.points if self.passed else 0:g}/{self.points:g}"
        if self.passed:
            return f"PASS {self.name} ({score})"
        return f"FAIL {self.name} ({score}): {self.message}"


@dataclass
class Validation:
    """The outcome of every graded test cell of one notebook, in notebook order.

    changed: names of the test cells the student edited (grading runs the originals).
    """

    tests: list
    changed: list = field(default_factory=list)

    @property
    def score(self):
        return sum(t.points for t in self.tests if t.passed)

    @property
    def max_score(self):
        return sum(t.points for t in self.tests)

    def text(self):
        """One line per test, then a total line."""
        if not self.tests:
            return "This notebook has no graded tests: there is nothing to validate."
        lines = [t.line() for t in self.tests]
        passed = sum(t.passed for t in self.tests)
        lines.append(
            f"Visible tests: {passed} of {len(self.tests)} passed, {self.score:g}/{self.max_score:g} points "
            "(hidden tests run only at grading)"
        )
        if self.changed:
            lines.append(
                "You edited the test cell(s) " + ", ".join(self.changed) + ": grading runs the original tests."
            )
        return "\n".join(lines)


def is_test_cell(cell):
    """Whether `cell` is an autograded test: a graded code cell that is not an answer."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def name_of_test(cell):
    """What a test cell checks: its header comment without the points, else its grade id."""
    first_line = cell.get("source", "").split("\n", 1)[0]
    match = HEADER.match(first_line.strip())
    return match["name"] if match else cell["metadata"]["nbgrader"]["grade_id"]


def failure_message(cell):
    """The one useful line of an executed test cell that did not pass."""
    for output in cell.get("outputs", []):
        if output.get("output_type") != "error":
            continue
        name, value = output.get("ename", "Error"), output.get("evalue", "").strip()
        if name in TIMEOUTS:
            return "the cell ran past the time limit and was stopped (an endless loop, or very slow code?)"
        if name == "NotImplementedError":
            return "not answered yet: " + (value or "a function this test calls still raises NotImplementedError")
        if name == "AssertionError":
            message = value or "a check failed (an assert without a message)"
        elif name == "NameError":
            message = f"{value}: run the cell that defines it first (if that cell fails, fix it first)"
        else:
            message = f"{name}: {value}" if value else name
        message = " ".join(message.split())
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[:MAX_MESSAGE_CHARS] + " ..."
        return message
    return "the test did not give full points (did its last line return a value instead of printing it?)"


def outcomes(notebook):
    """A TestOutcome for every test cell of an executed notebook, graded as nbgrader grades it."""
    from nbgrader import utils

    results = []
    for cell in notebook.cells:
        if not is_test_cell(cell):
            continue
        score, max_score = utils.determine_grade(cell)
        passed = score is not None and score >= max_score
        results.append(
            TestOutcome(name_of_test(cell), float(max_score), passed, "" if passed else failure_message(cell))
        )
    return results


def _changed_tests(notebook):
    """Names of the locked test cells whose source or points differ from their released checksum."""
    from nbgrader import utils

    return [
        name_of_test(cell)
        for cell in notebook.cells
        if is_test_cell(cell)
        and "checksum" in cell.metadata.nbgrader
        and utils.compute_checksum(cell) != cell.metadata.nbgrader["checksum"]
    ]


def validate(notebook_path, settings=None):
    """Run the notebook at `notebook_path` and return its Validation.

    The notebook runs in its own folder, in a fresh kernel, each cell limited to the
    cell_timeout of `settings` (default: the settings of the course holding the notebook,
    Settings.of_file, so that Validate stops a cell where grading would). Raises
    FileNotFoundError for a missing notebook and ValueError for a file that is not a
    notebook or a bad course.toml.
    """
    import nbformat
    from nbgrader import utils
    from nbgrader.preprocessors import ClearOutput, Execute
    from traitlets.config import Config

    from course_lib.grading.preprocessors import StderrIsNotFailure

    path = os.path.abspath(notebook_path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no notebook at {path}")
    try:
        notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        notebook = nbformat.convert(notebook, 4)
    except Exception as error:  # nbformat raises several types for a broken file
        raise ValueError(f"{path} is not a readable notebook: {error}") from error
    if not any(is_test_cell(cell) for cell in notebook.cells):
        return Validation([])
    settings = settings or Settings.of_file(path)
    changed = _changed_tests(notebook)
    config = Config()
    config.Execute.timeout = settings.cell_timeout
    # tracebacks without source lines: the failure is the message, not the test's code
    # (and no kernel log lines, such as ipykernel's note on unencrypted local TCP, among the results)
    config.Execute.extra_arguments = ["--InteractiveShell.xmode=Minimal", "--IPKernelApp.log_level=ERROR"]
    folder = os.path.dirname(path)
    resources = {"metadata": {"path": folder}}
    with utils.setenv(NBGRADER_VALIDATING="1", NBGRADER_EXECUTION="validate"):
        for preprocessor in (ClearOutput, Execute, StderrIsNotFailure):
            notebook, resources = preprocessor(config=config).preprocess(notebook, resources)
    return Validation(outcomes(notebook), changed)
