"""The graded assignments: solutions/ (nbgrader source) and assignments/ (student release).

* Structure: every graded cell has points, a header comment naming what it checks with
  the same points, grade ids are unique, hidden tests and solutions are in the source and
  gone from the release, test cells end with a statement (a final expression would be
  scored as partial credit), and every test cell checks the student's own code through
  course_lib.assignment_checks (never a pasted copy of the check).
* nbgrader's Validator: every source notebook passes its own tests; in every released
  notebook every graded cell fails (the stubs raise NotImplementedError).
* Planted mistakes, run in-process: a typical mistake in one function fails exactly the
  test cells of that function (every other cell passes: independence), with the hint that
  names the mistake, and no other mistake's hint fires on it.
"""

import ast
import contextlib
import io
import linecache
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from course_lib.grading.validation import name_of_test

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = [
    "a1_softmax",
    "a2_fc_net",
    "a3_batchnorm",
    "a4_dropout",
    "a5_optimizers",
    "a6_convnet",
    "a7_gradient_checking",
    "a8_babysitting",
]
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
HEADER = re.compile(r"#\s*(?P<name>.+):\s*(?P<points>\d+)\s+points?\s*$")


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


def test_the_readme_lists_every_assignment_with_its_points():
    readme = (REPO / "README.md").read_text()
    for assignment in ASSIGNMENTS:
        points = sum(
            c.metadata.nbgrader.points for c in nbgrader_cells(notebook_path("solutions", assignment), "grade")
        )
        row = re.search(rf"^\| `{assignment}` \|.*\| (\d+) \|$", readme, flags=re.M)
        assert row, f"README.md's assignments table has no row for {assignment}"
        assert int(row.group(1)) == points, f"README.md gives {assignment} {row.group(1)} points, its cells {points}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_graded_cells_have_points_names_unique_ids_and_end_with_a_statement(assignment):
    notebook = nbformat.read(notebook_path("solutions", assignment), as_version=4)
    metas = [cell.metadata["nbgrader"] for cell in notebook.cells if "nbgrader" in cell.metadata]
    ids = [meta["grade_id"] for meta in metas]
    assert len(ids) == len(set(ids)), f"duplicate grade ids in {assignment}: {ids}"
    graded = nbgrader_cells(notebook_path("solutions", assignment), "grade")
    assert 3 <= len(graded) <= 6, f"{assignment} has {len(graded)} graded cells, want 3 to 6"
    names = [name_of_test(cell) for cell in graded]
    assert len(names) == len(set(names)), f"two tests of {assignment} have the same name: {names}"
    for cell in graded:
        meta = cell.metadata["nbgrader"]
        assert meta["points"] > 0 and meta["locked"], f"{meta['grade_id']} must be locked and worth points"
        header = HEADER.match(cell.source.split("\n", 1)[0])
        assert header, f"{meta['grade_id']} must start with '# <what it checks>: <N> points'"
        assert int(header["points"]) == meta["points"], f"{meta['grade_id']}'s header says {header['points']} points"
        last = ast.parse(cell.source).body[-1]
        ends_with_print = (
            isinstance(last, ast.Expr) and getattr(getattr(last.value, "func", None), "id", None) == "print"
        )
        assert ends_with_print, (
            f"{meta['grade_id']} must end with a print statement: a final expression is read as partial credit"
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_test_checks_own_code_through_the_one_helper(assignment):
    for cell in nbgrader_cells(notebook_path("solutions", assignment), "grade"):
        grade_id = cell.metadata.nbgrader.grade_id
        assert re.search(r"^own_code\(", cell.source, flags=re.M), f"{grade_id} does not call own_code(...)"
        assert "co_names" not in cell.source and "inspect" not in cell.source, (
            f"{grade_id} pastes an own-code check instead of calling course_lib.assignment_checks"
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_hidden_tests_print_nothing(assignment):
    for cell in nbgrader_cells(notebook_path("solutions", assignment), "grade"):
        hidden = re.findall(f"{BEGIN_HIDDEN}(.*?){END_HIDDEN}", cell.source, flags=re.S)
        assert hidden, f"{cell.metadata.nbgrader.grade_id} has no hidden tests"
        assert not any("print(" in block for block in hidden), (
            f"{cell.metadata.nbgrader.grade_id}: a hidden test prints, which shows its inputs in the feedback"
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


def run_source(assignment, edits):
    """Execute every code cell of the source notebook in-process, as the grader would.

    edits: {solution grade_id: [(old, new), ...]}, text replaced in that cell first (it must be there).
    A failing test cell does not stop the run (nbgrader goes on too). Each cell is registered in
    linecache, as IPython does, so the checks can read the source of the functions it defines.
    Returns {test grade_id: None when it passed, else "ExceptionType: message"}.
    """
    notebook = nbformat.read(notebook_path("solutions", assignment), as_version=4)
    namespace = {"__name__": "__main__"}
    outcomes = {}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        source = cell.source
        for old, new in edits.get(meta.get("grade_id"), []):
            assert old in source, f"{old!r} is not in cell {meta['grade_id']} any more: update this test"
            source = source.replace(old, new)
        filename = f"<{assignment} cell {index}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        code = compile(source, filename, "exec")
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if not meta.get("grade"):
                exec(code, namespace)
                continue
            try:
                exec(code, namespace)
            except Exception as error:
                outcomes[meta["grade_id"]] = f"{type(error).__name__}: {error}"
            else:
                outcomes[meta["grade_id"]] = None
    return outcomes


@dataclass
class Mistake:
    """A typical mistake: where it is planted, and the hint each test cell it fails must give."""

    assignment: str
    edits: dict
    hints: dict = field(default_factory=dict)  # {test grade_id: regex its message must match}


def replace(cell, old, new):
    return {cell: [(old, new)]}


SOFTMAX_BODY = BEGIN_SOLUTION
# a7: a wrong diagnosis reads the same whatever led to it
WRONG_DIAGNOSIS = r"wrong_gradient names 'd[xb]', but that gradient is right"
MISTAKES = {
    # a1: softmax
    "softmax normalized over the examples": Mistake(
        "a1_softmax",
        replace("softmax", "exp_scores.sum(axis=1, keepdims=True)", "exp_scores.sum(axis=0, keepdims=True)"),
        {"test_softmax": r"you normalized each column"},
    ),
    "softmax without subtracting the maximum": Mistake(
        "a1_softmax",
        replace("softmax", "shifted = scores - scores.max(axis=1, keepdims=True)", "shifted = scores"),
        {"test_softmax": r"np\.exp overflowed because the row's maximum was not subtracted"},
    ),
    "softmax subtracting one maximum for the batch": Mistake(
        "a1_softmax",
        replace("softmax", "scores.max(axis=1, keepdims=True)", "scores.max()"),
        {"test_softmax": r"one maximum was subtracted for the whole batch"},
    ),
    "softmax taken from course_lib": Mistake(
        "a1_softmax",
        replace(
            "softmax",
            SOFTMAX_BODY,
            SOFTMAX_BODY + "\n    from course_lib.losses import softmax\n    return softmax(scores)",
        ),
        {"test_softmax": r"softmax must be your own code.*imports from course_lib"},
    ),
    "a loop over the examples in softmax": Mistake(
        "a1_softmax",
        replace(
            "softmax",
            SOFTMAX_BODY,
            SOFTMAX_BODY + "\n    return np.array([np.exp(s - s.max()) / np.exp(s - s.max()).sum() for s in scores])",
        ),
        {"test_softmax": r"softmax must be vectorized, but it has a list comprehension \(line \d+\)"},
    ),
    # a1: softmax_loss; the summed loss is the case: it used to cost the gradient and linear_softmax_loss
    "loss summed over the batch": Mistake(
        "a1_softmax",
        replace("softmax_loss", "loss = -log_probs[rows, y].mean()", "loss = -log_probs[rows, y].sum()"),
        {"test_softmax_loss_value": r"you summed over the N = 3 examples; the loss is their mean"},
    ),
    "loss in base 10": Mistake(
        "a1_softmax",
        replace(
            "softmax_loss", "loss = -log_probs[rows, y].mean()", "loss = -(log_probs[rows, y] / np.log(10)).mean()"
        ),
        {"test_softmax_loss_value": r"you took np\.log10"},
    ),
    "gradient not divided by N": Mistake(
        "a1_softmax",
        replace("softmax_loss", "return float(loss), dscores / num_examples", "return float(loss), dscores"),
        {"test_softmax_loss_gradient": r"dscores is N = 5 times too large: you did not divide by N"},
    ),
    "gradient with the wrong sign": Mistake(
        "a1_softmax",
        replace(
            "softmax_loss", "return float(loss), dscores / num_examples", "return float(loss), -dscores / num_examples"
        ),
        {"test_softmax_loss_gradient": r"dscores has the wrong sign"},
    ),
    # a1: linear_softmax_loss and the (reg / 2) convention
    "penalty reg * sum(W**2)": Mistake(
        "a1_softmax",
        replace("linear_softmax_loss", "loss += 0.5 * reg * np.sum(W * W)", "loss += reg * np.sum(W * W)"),
        {"test_linear_softmax_loss": r"you added reg \* sum\(W\*\*2\); the course's penalty is \(reg / 2\)"},
    ),
    "regularization gradient 2 * reg * W": Mistake(
        "a1_softmax",
        replace("linear_softmax_loss", "dW = X.T @ dscores + reg * W", "dW = X.T @ dscores + 2 * reg * W"),
        {"test_linear_softmax_loss": r"your regularization gradient is 2 \* reg \* W, twice too large"},
    ),
    "regularization gradient left out": Mistake(
        "a1_softmax",
        replace("linear_softmax_loss", "dW = X.T @ dscores + reg * W", "dW = X.T @ dscores"),
        {"test_linear_softmax_loss": r"you left out the gradient of the regularization term"},
    ),
    # a2
    "affine without the bias": Mistake(
        "a2_fc_net",
        replace("affine_forward", "out = x.reshape(x.shape[0], -1) @ w + b", "out = x.reshape(x.shape[0], -1) @ w"),
        {"test_affine_forward": r"you left out the bias b"},
    ),
    "db averaged over the batch": Mistake(
        "a2_fc_net",
        replace("affine_backward", "db = dout.sum(axis=0)", "db = dout.mean(axis=0)"),
        {"test_affine_backward": r"db is N = 4 times too small: you averaged over the batch"},
    ),
    "dw transposed": Mistake(
        "a2_fc_net",
        replace(
            "affine_backward", "dw = x.reshape(x.shape[0], -1).T @ dout", "dw = dout.T @ x.reshape(x.shape[0], -1)"
        ),
        {"test_affine_backward": r"yours is the transpose"},
    ),
    "relu_backward lets every gradient through": Mistake(
        "a2_fc_net",
        replace("relu", "return dout * (x > 0)", "return dout"),
        {"test_relu": r"dx equals dout everywhere: you did not zero the gradient where x < 0"},
    ),
    "relu_forward writes into x": Mistake(
        "a2_fc_net",
        replace("relu", "return np.maximum(x, 0), x", "return np.maximum(x, 0, out=x), x"),
        {"test_relu": r"relu_forward changed its input x in place"},
    ),
    "net penalty reg * sum(W**2)": Mistake(
        "a2_fc_net",
        replace("two_layer_net", "loss += 0.5 * reg * (", "loss += reg * ("),
        {"test_two_layer_net": r"you added reg \* \(sum\(W1\*\*2\) \+ sum\(W2\*\*2\)\)"},
    ),
    "net regularization gradient 2 * reg * W1": Mistake(
        "a2_fc_net",
        replace("two_layer_net", '"W1": dW1 + reg * params["W1"]', '"W1": dW1 + 2 * reg * params["W1"]'),
        {"test_two_layer_net": r"your regularization gradient is 2 \* reg \* W1, twice too large"},
    ),
    "net regularizes a bias": Mistake(
        "a2_fc_net",
        replace("two_layer_net", '"b1": db1', '"b1": db1 + reg * params["b1"]'),
        {"test_two_layer_net": r"you regularized the bias b1"},
    ),
    # a3
    "unbiased variance": Mistake(
        "a3_batchnorm",
        replace("batchnorm_forward", "var = x.var(axis=0)", "var = x.var(axis=0, ddof=1)"),
        {
            "test_batchnorm_forward_train": r"you used the unbiased variance \(ddof=1\)",
            "test_running_averages": r"running_var is wrong with momentum 0\.8: you used the unbiased variance",
        },
    ),
    "no eps in the square root": Mistake(
        "a3_batchnorm",
        replace("batchnorm_forward", "inv_std = 1.0 / np.sqrt(var + eps)", "inv_std = 1.0 / np.sqrt(var)"),
        {"test_batchnorm_forward_train": r"you divided by np\.sqrt\(var\) without eps"},
    ),
    "x_hat returned unscaled": Mistake(
        "a3_batchnorm",
        replace("batchnorm_forward", "out = gamma * x_hat + beta", "out = x_hat"),
        {"test_batchnorm_forward_train": r"you returned x_hat: scale and shift it"},
    ),
    "normalized over the features": Mistake(
        "a3_batchnorm",
        {
            "batchnorm_forward": [
                ("mean = x.mean(axis=0)", "mean = x.mean(axis=1, keepdims=True)"),
                ("var = x.var(axis=0)", "var = x.var(axis=1, keepdims=True)"),
                ("(1 - momentum) * mean", "(1 - momentum) * x.mean(axis=0)"),
                ("(1 - momentum) * var", "(1 - momentum) * x.var(axis=0)"),
            ]
        },
        {"test_batchnorm_forward_train": r"you normalized each example over its features \(axis=1"},
    ),
    "a cache without inv_std": Mistake(
        "a3_batchnorm",
        replace("batchnorm_forward", '"inv_std": inv_std, ', ""),
        {"test_batchnorm_forward_train": r"your cache lacks the key\(s\) \['inv_std'\]"},
    ),
    "momentum on the wrong term": Mistake(
        "a3_batchnorm",
        replace(
            "batchnorm_forward",
            "running_mean = momentum * running_mean + (1 - momentum) * mean",
            "running_mean = (1 - momentum) * running_mean + momentum * mean",
        ),
        {
            "test_running_averages": r"running_mean is wrong with momentum 0\.8: you weighted the batch statistic",
            "test_batchnorm_forward_test": r"bn_param\['running_mean'\] is \[.*\]: it is not the momentum average",
        },
    ),
    "running mean never updated": Mistake(
        "a3_batchnorm",
        replace(
            "batchnorm_forward",
            "running_mean = momentum * running_mean + (1 - momentum) * mean",
            "running_mean = running_mean",
        ),
        {
            "test_running_averages": r"running_mean is wrong with momentum 0\.8: you did not update it",
            "test_batchnorm_forward_test": r"\['running_mean'\] still holds its starting value 0: .* never updated it",
        },
    ),
    "test mode with the batch statistics": Mistake(
        "a3_batchnorm",
        replace(
            "batchnorm_forward",
            "out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta",
            "out = gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) + beta",
        ),
        {"test_batchnorm_forward_test": r"you normalized with the batch's own mean and variance"},
    ),
    "dx through x_hat only": Mistake(
        "a3_batchnorm",
        replace("batchnorm_backward", "dx = dcentred + dmean / num_examples", "dx = dx_hat * inv_std"),
        {"test_batchnorm_backward": r"you followed only the direct path from x to x_hat"},
    ),
    "dgamma averaged": Mistake(
        "a3_batchnorm",
        replace(
            "batchnorm_backward", "dgamma = np.sum(dout * x_hat, axis=0)", "dgamma = np.mean(dout * x_hat, axis=0)"
        ),
        {"test_batchnorm_backward": r"batchnorm_backward: dgamma is wrong for N=6, D=4 .*N times too small"},
    ),
    "the closed form twice": Mistake(
        "a3_batchnorm",
        replace(
            "batchnorm_backward",
            "    centred = x - mean\n",
            "    dx = inv_std * (dx_hat - dx_hat.mean(axis=0) - x_hat * np.mean(dx_hat * x_hat, axis=0))\n"
            "    return dx, dgamma, dbeta\n",
        ),
        {"test_batchnorm_backward": r"dx without the gradients of the batch variance and mean: .* closed form"},
    ),
    "alt calls the graph version": Mistake(
        "a3_batchnorm",
        replace(
            "batchnorm_backward_alt", BEGIN_SOLUTION, BEGIN_SOLUTION + "\n    return batchnorm_backward(dout, cache)"
        ),
        {"test_batchnorm_backward_alt": r"batchnorm_backward_alt calls batchnorm_backward"},
    ),
    # a4
    "keep_prob read as the drop probability": Mistake(
        "a4_dropout",
        replace("dropout", "rng.random(x.shape) < keep_prob", "rng.random(x.shape) >= keep_prob"),
        {"test_dropout_train": r"you dropped units with probability keep_prob"},
    ),
    "kept units not scaled": Mistake(
        "a4_dropout",
        replace(
            "dropout",
            "mask = (rng.random(x.shape) < keep_prob) / keep_prob",
            "mask = 1.0 * (rng.random(x.shape) < keep_prob)",
        ),
        {"test_dropout_train": r"they equal x: you did not divide the kept units by keep_prob"},
    ),
    "kept units multiplied by keep_prob": Mistake(
        "a4_dropout",
        replace(
            "dropout", "(rng.random(x.shape) < keep_prob) / keep_prob", "(rng.random(x.shape) < keep_prob) * keep_prob"
        ),
        {"test_dropout_train": r"you multiplied by keep_prob: inverted dropout divides by it"},
    ),
    "test mode scaled": Mistake(
        "a4_dropout",
        replace("dropout", "return x, (mode, None, x.shape)", "return x * keep_prob, (mode, None, x.shape)"),
        {"test_dropout_test_mode": r"you scaled x; inverted dropout scales at training time"},
    ),
    "the seed not used": Mistake(
        "a4_dropout",
        replace("dropout", 'np.random.default_rng(dropout_param.get("seed"))', "np.random.default_rng()"),
        {"test_dropout_seed": r"two calls with the same seed gave different masks"},
    ),
    "backward through the 0/1 pattern": Mistake(
        "a4_dropout",
        replace("dropout", "return dout * mask", "return dout * (mask > 0)"),
        {"test_dropout_backward": r"dx is keep_prob times too small: you used the 0/1 pattern of the mask"},
    ),
    # a5
    "momentum with the wrong sign": Mistake(
        "a5_optimizers",
        replace(
            "sgd_momentum",
            'velocity = config["momentum"] * velocity - config',
            'velocity = config["momentum"] * velocity + config',
        ),
        {"test_sgd_momentum": r"your velocity has the wrong sign"},
    ),
    "momentum that forgets its default": Mistake(
        "a5_optimizers",
        replace("sgd_momentum", 'config.setdefault("momentum", 0.9)', 'config.setdefault("momentum", 0.0)'),
        {"test_sgd_momentum": r"it filled in \{'momentum': 0\.0\}; the documented defaults are \{'momentum': 0\.9\}"},
    ),
    "Nesterov written as plain momentum": Mistake(
        "a5_optimizers",
        replace(
            "nesterov_momentum", "return w - mu * previous + (1 + mu) * velocity, config", "return w + velocity, config"
        ),
        {"test_nesterov_momentum": r"you wrote plain momentum"},
    ),
    "AdaGrad that does not accumulate": Mistake(
        "a5_optimizers",
        replace(
            "adagrad_rmsprop",
            'config["cache"] = config.get("cache", np.zeros_like(w)) + dw * dw',
            'config["cache"] = dw * dw',
        ),
        {"test_adagrad": r"AdaGrad's cache accumulates squared gradients"},
    ),
    "RMSProp decay on the wrong term": Mistake(
        "a5_optimizers",
        replace(
            "adagrad_rmsprop",
            'rho * config.get("cache", np.zeros_like(w)) + (1 - rho) * dw * dw',
            '(1 - rho) * config.get("cache", np.zeros_like(w)) + rho * dw * dw',
        ),
        {"test_rmsprop": r"you weighted the old cache by 1 - decay_rate"},
    ),
    "Adam without bias correction": Mistake(
        "a5_optimizers",
        replace(
            "adam",
            'm_hat = config["m"] / (1 - beta1 ** config["t"])\n    v_hat = config["v"] / (1 - beta2 ** config["t"])',
            'm_hat, v_hat = config["m"], config["v"]',
        ),
        {"test_adam": r"you left out the bias correction"},
    ),
    "step decay at every epoch": Mistake(
        "a5_optimizers",
        replace("schedules", "return lr0 * drop ** (epoch // every)", "return lr0 * drop ** (epoch / every)"),
        {"test_schedules": r"you decayed at every epoch \(epoch / every\)"},
    ),
    # a6
    "a flipped filter": Mistake(
        "a6_convnet",
        replace("conv_forward", "np.tensordot(window, w, axes", "np.tensordot(window, w[:, :, ::-1, ::-1], axes"),
        {"test_conv_forward": r"you flipped the filter"},
    ),
    "conv forward ignores the stride": Mistake(
        "a6_convnet",
        replace(
            "conv_forward",
            "x_pad[:, :, i * stride : i * stride + HH, j * stride : j * stride + WW]",
            "x_pad[:, :, i : i + HH, j : j + WW]",
        ),
        {"test_conv_forward": r"you moved the window by one pixel per output position"},
    ),
    "conv backward ignores the stride": Mistake(
        "a6_convnet",
        {
            "conv_backward": [
                ("rows = slice(i * stride, i * stride + HH)", "rows = slice(i, i + HH)"),
                ("cols = slice(j * stride, j * stride + WW)", "cols = slice(j, j + WW)"),
            ]
        },
        {"test_conv_backward": r"right with stride 1 but wrong with a larger stride"},
    ),
    "padding left on dx": Mistake(
        "a6_convnet",
        replace("conv_backward", "dx = dx_pad[:, :, pad : pad + x.shape[2], pad : pad + x.shape[3]]", "dx = dx_pad"),
        {"test_conv_backward": r"you returned the gradient of the padded input"},
    ),
    "pool forward as separate blocks": Mistake(
        "a6_convnet",
        replace(
            "max_pool",
            "    out = np.empty((N, C, H_out, W_out))\n",
            "    blocks = x[:, :, : H // PH * PH, : W // PW * PW].reshape(N, C, H // PH, PH, W // PW, PW)\n"
            "    return blocks.max(axis=(3, 5)), (x, pool_param)\n",
        ),
        {"test_max_pool_forward": r"3x3 windows with stride 2 on a 7x7 input give a 3x3 output"},
    ),
    "pool backward assigns instead of adding": Mistake(
        "a6_convnet",
        replace("max_pool", "dx[:, :, rows, cols] += (winner", "dx[:, :, rows, cols] = (winner"),
        {"test_max_pool_backward": r"right for separate windows, wrong for overlapping ones.*add \(\+=\)"},
    ),
    "ConvNet without the ReLU's backward pass": Mistake(
        "a6_convnet",
        replace("tiny_convnet", "dconv = relu_backward(dactivations, relu_cache)", "dconv = dactivations"),
        {"test_tiny_convnet_gradients": r"grads\['(W1|b1)'\] is wrong"},
    ),
    # a7
    "the forward difference": Mistake(
        "a7_gradient_checking",
        {
            "numerical_gradient": [
                ("        x[index] = original - h\n        f_minus = f(x)\n", ""),
                ("        x[index] = original + h\n", "        f_minus = f(x)\n        x[index] = original + h\n"),
                ("(f_plus - f_minus) / (2 * h)", "(f_plus - f_minus) / h"),
            ]
        },
        {"test_numerical_gradient": r"you took the forward difference"},
    ),
    "the step h ignored": Mistake(
        "a7_gradient_checking",
        {
            "numerical_gradient": [
                ("def numerical_gradient(f, x, h=1e-5):", "def numerical_gradient(f, x, step=1e-5):\n    h = 1e-5")
            ]
        },
        {"test_numerical_gradient": r"you ignored the argument h"},
    ),
    "x left perturbed": Mistake(
        "a7_gradient_checking",
        replace("numerical_gradient", "        x[index] = original\n", ""),
        {"test_numerical_gradient": r"x is not the same after numerical_gradient returned"},
    ),
    "rel_error averaged": Mistake(
        "a7_gradient_checking",
        replace("rel_error", "return float(np.max(", "return float(np.mean("),
        {"test_rel_error": r"you took the mean over the elements"},
    ),
    "rel_error without its floor": Mistake(
        "a7_gradient_checking",
        replace("rel_error", "np.maximum(np.abs(a) + np.abs(b), 1e-8)", "(np.abs(a) + np.abs(b))"),
        {"test_rel_error": r"you divided 0 by 0"},
    ),
    "check_layer without dout": Mistake(
        "a7_gradient_checking",
        replace(
            "check_layer", "np.sum(forward(*arguments.values())[0] * dout)", "np.sum(forward(*arguments.values())[0])"
        ),
        # the student's diagnosis, made with this checker, is then wrong too
        {"test_check_layer": r"but dx is right", "test_find_the_bug": WRONG_DIAGNOSIS},
    ),
    "the planted bug kept": Mistake(
        "a7_gradient_checking",
        replace("tanh_layer_backward", "return dpre @ w.T, x.T @ dpre,", "return dpre @ w.T, x.T @ dout,"),
        {"test_find_the_bug": r"you kept the planted bug"},
    ),
    "the wrong gradient named": Mistake(
        "a7_gradient_checking",
        replace("diagnosis", "wrong_gradient = max(errors, key=errors.get)", 'wrong_gradient = "db"'),
        {"test_find_the_bug": WRONG_DIAGNOSIS},
    ),
    # a8
    "the initial loss not measured": Mistake(
        "a8_babysitting",
        replace("sanity_checks", "initial_loss = make_model(0.0).loss(X, y)[0]", "initial_loss = np.log(10)"),
        {"test_sanity_checks": r"you reported log\(C\) instead of measuring the model's loss"},
    ),
    "values drawn uniformly": Mistake(
        "a8_babysitting",
        replace(
            "sample_hyperparameters", "float(10 ** rng.uniform(low, high))", "float(rng.uniform(10**low, 10**high))"
        ),
        {"test_sample_hyperparameters": r"you drew the value uniformly"},
    ),
    "the worst setting kept": Mistake(
        "a8_babysitting",
        replace("random_search", "best = max(results,", "best = min(results,"),
        # the search on the digits then keeps its worst setting, which misses the target
        {"test_random_search": r"you took the lowest", "test_tuned_setting": r"below the target 92%"},
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_mistake_costs_only_its_own_tests_with_its_hint(mistake):
    planted = MISTAKES[mistake]
    outcomes = run_source(planted.assignment, planted.edits)
    failed = {grade_id: message for grade_id, message in outcomes.items() if message}
    assert set(failed) == set(planted.hints), (
        f"{mistake}: expected exactly {sorted(planted.hints)} to fail, but these failed: "
        + "; ".join(f"{grade_id}: {message}" for grade_id, message in failed.items())
    )
    for grade_id, hint in planted.hints.items():
        assert re.search(hint, failed[grade_id]), f"{mistake}: {grade_id} failed without its hint:\n{failed[grade_id]}"
    for other_name, other in MISTAKES.items():
        if other_name == mistake or other.assignment != planted.assignment:
            continue
        for grade_id, hint in other.hints.items():
            if grade_id in failed and hint != planted.hints.get(grade_id):
                assert not re.search(hint, failed[grade_id]), (
                    f"the hint of '{other_name}' fires on '{mistake}' in {grade_id}:\n{failed[grade_id]}"
                )
