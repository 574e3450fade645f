"""The six graded assignments: solutions/ (nbgrader source) and assignments/ (student release).

* Structure: every graded cell has points, grade ids are unique, hidden tests and
  solutions are in the source and gone from the release, test cells end with a
  statement (a final expression would be scored as partial credit).
* nbgrader's Validator: every source notebook passes its own tests; in every
  released notebook every graded cell fails (the stubs raise NotImplementedError).
* Hints: a typical mistake, planted in a solution and run in-process, fails its
  test cell with the promised hint.
"""

import ast
import linecache
import re
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ["a1_softmax", "a2_fc_net", "a3_batchnorm", "a4_dropout", "a5_optimizers", "a6_convnet"]
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"


def notebook_path(step, assignment):
    return REPO / step / assignment / f"{assignment}.ipynb"


def nbgrader_cells(path, kind):
    """The cells of the notebook at `path` whose nbgrader metadata marks them `kind` ("grade" or "solution")."""
    notebook = nbformat.read(path, as_version=4)
    return [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get(kind)]


def test_each_assignment_is_one_source_and_one_released_notebook():
    for step in ("solutions", "assignments"):
        folders = sorted(p.name for p in (REPO / step).iterdir() if p.is_dir())
        assert folders == ASSIGNMENTS, f"{step}/ should hold exactly {ASSIGNMENTS}, has {folders}"
        for assignment in ASSIGNMENTS:
            files = sorted(p.name for p in (REPO / step / assignment).iterdir())
            assert files == [f"{assignment}.ipynb"], f"{step}/{assignment} should hold only its notebook, has {files}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_graded_cells_have_points_unique_ids_and_end_with_a_statement(assignment):
    notebook = nbformat.read(notebook_path("solutions", assignment), as_version=4)
    metas = [cell.metadata["nbgrader"] for cell in notebook.cells if "nbgrader" in cell.metadata]
    ids = [meta["grade_id"] for meta in metas]
    assert len(ids) == len(set(ids)), f"duplicate grade ids in {assignment}: {ids}"
    graded = nbgrader_cells(notebook_path("solutions", assignment), "grade")
    assert 3 <= len(graded) <= 6, f"{assignment} has {len(graded)} graded cells, want 3 to 6"
    for cell in graded:
        meta = cell.metadata["nbgrader"]
        assert meta["points"] > 0 and meta["locked"], f"{meta['grade_id']} must be locked and worth points"
        last = ast.parse(cell.source).body[-1]
        ends_with_print = (
            isinstance(last, ast.Expr) and getattr(getattr(last.value, "func", None), "id", None) == "print"
        )
        assert ends_with_print, (
            f"{meta['grade_id']} must end with a print statement: a final expression is read as partial credit"
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_hides_solutions_and_hidden_tests(assignment):
    source_tests = nbgrader_cells(notebook_path("solutions", assignment), "grade")
    released_tests = nbgrader_cells(notebook_path("assignments", assignment), "grade")
    assert [c.metadata.nbgrader.grade_id for c in released_tests] == [
        c.metadata.nbgrader.grade_id for c in source_tests
    ]
    assert all(BEGIN_HIDDEN in cell.source and END_HIDDEN in cell.source for cell in source_tests)
    assert not any("HIDDEN TESTS" in cell.source for cell in released_tests)
    for cell in nbgrader_cells(notebook_path("solutions", assignment), "solution"):
        assert BEGIN_SOLUTION in cell.source, f"solution cell {cell.metadata.nbgrader.grade_id} has no solution block"
        student_code = re.findall(f"{BEGIN_SOLUTION}(.*?){END_SOLUTION}", cell.source, flags=re.S)
        assert not any("course_lib" in code for code in student_code), "the reference solutions must not use course_lib"
    for cell in nbgrader_cells(notebook_path("assignments", assignment), "solution"):
        assert "SOLUTION" not in cell.source and "raise NotImplementedError()" in cell.source


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_passes_its_own_tests(assignment, isolated_jupyter):
    from nbgrader.validator import Validator

    result = Validator().validate(str(notebook_path("solutions", assignment)))
    failures = [cell["raw_error"][-1500:] for cell in result.get("failed", [])]
    assert result == {}, f"{assignment} fails its own tests:\n" + "\n\n".join(failures)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_graded_cell_of_the_release_fails(assignment, isolated_jupyter):
    from nbgrader.validator import Validator

    result = Validator().validate(str(notebook_path("assignments", assignment)))
    graded = nbgrader_cells(notebook_path("assignments", assignment), "grade")
    assert set(result) == {"failed"}, f"unexpected validation result for the released {assignment}: {sorted(result)}"
    assert len(result["failed"]) == len(graded)
    assert all("NotImplementedError" in cell["raw_error"] for cell in result["failed"])


def run_source_until(assignment, grade_id, edits):
    """Execute the source notebook's code cells in-process, up to and including cell `grade_id`.

    edits: {solution grade_id: (old, new)}, text replaced in that cell first (it must be there).
    Each cell is registered in linecache, as IPython does, so the hidden tests can read the
    source of the functions it defines.
    """
    notebook = nbformat.read(notebook_path("solutions", assignment), as_version=4)
    namespace = {"__name__": "__main__"}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        cell_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        source = cell.source
        if cell_id in edits:
            old, new = edits[cell_id]
            assert old in source, f"{old!r} is not in cell {cell_id} any more: update this test"
            source = source.replace(old, new)
        filename = f"<{assignment} cell {index}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), namespace)
        if cell_id == grade_id:
            return
    raise AssertionError(f"no cell {grade_id} in {assignment}")


MISTAKES = {
    "gradient summed over the batch": (
        "a1_softmax",
        "test_softmax_loss_gradient",
        {"softmax_loss": ("return float(loss), dscores / num_examples", "return float(loss), dscores")},
        r"about 5 times the numerical gradient: did you average over the batch \(divide by N = 5\)\?",
    ),
    "loss summed over the batch": (
        "a1_softmax",
        "test_softmax_loss_value",
        {"softmax_loss": ("loss = -log_probs[rows, y].mean()", "loss = -log_probs[rows, y].sum()")},
        r"you summed over the N = 3 examples",
    ),
    "half the regularization gradient": (
        "a1_softmax",
        "test_linear_softmax_loss",
        {"linear_softmax_loss": ("dW = X.T @ dscores + 2 * reg * W", "dW = X.T @ dscores + reg * W")},
        r"the regularization gradient is half its size",
    ),
    "softmax taken from course_lib": (
        "a1_softmax",
        "test_softmax",
        {
            "softmax": (
                BEGIN_SOLUTION,
                BEGIN_SOLUTION + "\n    from course_lib.losses import softmax\n    return softmax(scores)",
            )
        },
        r"softmax must be your own code",
    ),
    "a loop over the examples": (
        "a1_softmax",
        "test_softmax",
        {
            "softmax": (
                BEGIN_SOLUTION,
                BEGIN_SOLUTION
                + "\n    return np.array([np.exp(s - s.max()) / np.exp(s - s.max()).sum() for s in scores])",
            )
        },
        r"softmax must be vectorized",
    ),
    "db averaged over the batch": (
        "a2_fc_net",
        "test_affine_backward",
        {"affine_backward": ("db = dout.sum(axis=0)", "db = dout.mean(axis=0)")},
        r"N = 4 times too small: sum over the batch",
    ),
    "momentum on the wrong term": (
        "a3_batchnorm",
        "test_running_averages",
        {
            "batchnorm_forward": (
                "running_mean = momentum * running_mean + (1 - momentum) * mean",
                "running_mean = (1 - momentum) * running_mean + momentum * mean",
            )
        },
        r"momentum is applied to the wrong term; check the momentum convention running = momentum \* running",
    ),
    "unbiased variance": (
        "a3_batchnorm",
        "test_batchnorm_forward_train",
        {"batchnorm_forward": ("var = x.var(axis=0)", "var = x.var(axis=0, ddof=1)")},
        r"use the biased batch variance",
    ),
    "keep_prob read as the drop probability": (
        "a4_dropout",
        "test_dropout_train",
        {"dropout": ("rng.random(x.shape) < keep_prob", "rng.random(x.shape) >= keep_prob")},
        r"keep_prob is the probability of KEEPING a unit",
    ),
    "Adam without bias correction": (
        "a5_optimizers",
        "test_adam",
        {
            "adam": (
                'm_hat = config["m"] / (1 - beta1 ** config["t"])\n'
                '    v_hat = config["v"] / (1 - beta2 ** config["t"])',
                'm_hat, v_hat = config["m"], config["v"]',
            )
        },
        r"you left out the bias correction",
    ),
    "Nesterov written as plain momentum": (
        "a5_optimizers",
        "test_nesterov_momentum",
        {
            "nesterov_momentum": (
                "return w - mu * previous + (1 + mu) * velocity, config",
                "return w + velocity, config",
            )
        },
        r"this is plain momentum",
    ),
    "a flipped filter": (
        "a6_convnet",
        "test_conv_forward",
        {"conv_forward": ("np.tensordot(window, w, axes", "np.tensordot(window, w[:, :, ::-1, ::-1], axes")},
        r"you flipped the filter",
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_typical_mistake_gets_its_hint(mistake):
    assignment, grade_id, edits, hint = MISTAKES[mistake]
    with pytest.raises(AssertionError, match=hint):
        run_source_until(assignment, grade_id, edits)
