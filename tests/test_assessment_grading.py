"""A class graded end to end on a1: independence, the feedback pages and the similarity report.

One grading run (real nbgrader, the sandbox the machine allows) of six students:
alice (the reference answers), bob (sums the loss instead of averaging it), carol (alice's
code with its variables renamed and reformatted), dave (course_lib's softmax_loss pasted in,
its argument checks removed), erin (answers written independently) and frank (a softmax that
passes the visible tests and fails a hidden one); and three who take course_lib's softmax_loss
in ways the own-code check inside the kernel cannot see: gina (imported under another name,
kept in a dict), hank (a star import, kept as a class attribute) and ivan (imported at call
time under a name built from two strings, and rebound over his own function).
"""

import csv
import html
import re

import pytest
from fixtures.students import REPO, solved, write_submission

from course_lib.grading.pipeline import grade
from course_lib.grading.settings import Settings

A1 = "a1_softmax"
CAROL_RENAMES = [
    ("shifted", "centred"),
    ("exp_scores", "e"),
    ("num_examples", "n"),
    ("log_probs", "lp"),
    ("rows", "idx"),
]
DAVE = '''def _log_softmax(scores):
    """Row-wise log-probabilities, computed from max-shifted scores (no overflow)."""
    shifted = scores - scores.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax_loss(scores, y):
    """Softmax cross-entropy loss, mean over the batch."""
    num_samples, num_classes = scores.shape
    log_probs = _log_softmax(scores)
    rows = np.arange(num_samples)
    loss = -log_probs[rows, y].mean()
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1
    return loss, dscores / num_samples
'''
ERIN = {
    "softmax": """def softmax(scores):
    z = np.exp(scores - np.max(scores, axis=1)[:, None])
    return z / np.sum(z, axis=1)[:, None]""",
    "softmax_loss": """def softmax_loss(scores, y):
    n = len(y)
    top = np.max(scores, axis=1, keepdims=True)
    logsumexp = top[:, 0] + np.log(np.sum(np.exp(scores - top), axis=1))
    loss = np.mean(logsumexp - scores[np.arange(n), y])
    onehot = np.zeros_like(scores)
    onehot[np.arange(n), y] = 1.0
    return float(loss), (np.exp(scores - logsumexp[:, None]) - onehot) / n""",
    "linear_softmax_loss": """def linear_softmax_loss(W, X, y, reg):
    data_loss, g = softmax_loss(X.dot(W), y)
    return data_loss + reg / 2 * (W**2).sum(), X.T.dot(g) + reg * W""",
}

GINA = '''from course_lib.losses import softmax_loss as _given

_tools = {"loss": _given}


def softmax_loss(scores, y):
    """Mean cross-entropy loss and its gradient."""
    return _tools["loss"](scores, y)
'''
HANK = '''from course_lib.losses import *


class _Keep:
    loss = staticmethod(softmax_loss)


def softmax_loss(scores, y):
    """Mean cross-entropy loss and its gradient."""
    return _Keep.loss(scores, y)
'''
IVAN = '''def softmax_loss(scores, y):
    """Mean cross-entropy loss and its gradient."""
    global softmax_loss
    module = __import__("course_" + "lib.losses", fromlist=["softmax_loss"])
    softmax_loss = module.softmax_loss
    return softmax_loss(scores, y)
'''


def _carol():
    notebook = solved(A1)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            for old, new in CAROL_RENAMES:
                cell.source = re.sub(rf"\b{old}\b", new, cell.source)
            cell.source = cell.source.replace(", keepdims=True", ",keepdims = True").replace(
                "    return ", "    # done\n    return "
            )
    return notebook


def _replaced(answers):
    notebook = solved(A1)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return notebook


@pytest.fixture(scope="module")
def graded(tmp_path_factory, isolated_jupyter):
    root = tmp_path_factory.mktemp("class")
    students = {
        "alice": solved(A1),
        "bob": solved(
            A1, {"softmax_loss": [("loss = -log_probs[rows, y].mean()", "loss = -log_probs[rows, y].sum()")]}
        ),
        "carol": _carol(),
        "dave": _replaced({"softmax_loss": DAVE}),
        "erin": _replaced(ERIN),
        "frank": solved(A1, {"softmax": [("scores.max(axis=1, keepdims=True)", "scores.max()")]}),
        "gina": _replaced({"softmax_loss": GINA}),
        "hank": _replaced({"softmax_loss": HANK}),
        "ivan": _replaced({"softmax_loss": IVAN}),
    }
    for student, notebook in students.items():
        write_submission(root / "submitted" / student, A1, notebook)
    settings = Settings(course_root=REPO)
    results, summary = grade(A1, settings, root / "submitted", out_dir=root / "out", jobs=2, show_progress=False)
    return {"results": {r.student_id: r for r in results}, "summary": summary, "out": root / "out"}


def feedback(graded, student):
    return (graded["out"] / "feedback" / student / A1 / f"{A1}.html").read_text()


def test_a_mistake_costs_only_its_own_test_at_grading(graded):
    scores = {student: (r.status, r.score) for student, r in graded["results"].items()}
    assert scores == {
        "alice": ("graded", 10),
        "bob": ("graded", 8),
        "carol": ("graded", 10),
        "dave": ("graded", 10),
        "erin": ("graded", 10),
        "frank": ("graded", 8),
        # the two softmax_loss tests (5 points); hank's star import also replaced his softmax (2 points);
        # ivan's rebinding made his linear_softmax_loss call course_lib's softmax_loss (3 points)
        "gina": ("graded", 5),
        "hank": ("graded", 3),
        "ivan": ("graded", 2),
    }


BORROWED = {
    "gina": ["softmax_loss", "line 1: `from course_lib.losses import softmax_loss as _given`"],
    "hank": ["softmax_loss", "line 1: `from course_lib.losses import *`"],
    "ivan": ["softmax_loss", 'line 4: `module = __import__("course_" + "lib.losses", fromlist=["softmax_loss"])`'],
}


@pytest.mark.parametrize("student", sorted(BORROWED))
def test_the_grader_fails_the_tests_of_a_function_taken_from_course_lib_naming_the_import(graded, student):
    function, where = BORROWED[student]
    message = (
        f"OwnCodeError: {function} must be your own code: the grader found course_lib's version used in "
        f"{function}, {where} (write {function} yourself)"
    )
    text = html.unescape(feedback(graded, student))
    # both tests of softmax_loss, each in the table of tests and under the test in the notebook
    assert text.count(message) == 4
    detail = graded["results"][student].detail
    expected = {
        "gina": "failed: test_softmax_loss_gradient, test_softmax_loss_value",
        "hank": "failed: test_softmax, test_softmax_loss_gradient, test_softmax_loss_value",
        "ivan": "failed: test_linear_softmax_loss, test_softmax_loss_gradient, test_softmax_loss_value",
    }[student]
    assert detail == expected


def test_feedback_names_each_test_and_its_message_and_shows_the_code(graded):
    page = feedback(graded, "bob")
    for name in ("softmax: values, normalization and large scores", "softmax_loss: the loss value"):
        assert name in page
    assert "you summed over the N = 3 examples; the loss is their mean" in page
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "loss = -log_probs[rows, y].sum()" in text, "the student's own code is on the page"
    assert "Score: <b>8</b> of 10 points" in page
    assert "Test cell" not in page and "No response." not in page


def test_feedback_is_compact_and_needs_no_network(graded):
    page = feedback(graded, "bob")
    assert len(page) < 60_000, f"the page is {len(page)} characters"
    assert "<math" in page, "the instructions' math is MathML, rendered by the browser itself"
    assert "<script" not in page and not re.search(r"(src|href)=\"https?://", page)


def test_feedback_shows_no_test_source_and_no_hidden_parameters(graded):
    page = feedback(graded, "frank")
    assert "one maximum was subtracted for the whole batch" in page, "the hidden test's message is shown"
    for source in ("BEGIN HIDDEN", "check_dscores(N=1", "1000 * rng", "np.log(3.0)", "reference_helpers(", "own_code("):
        assert source not in page, f"{source!r}: a test's source or a hidden test's input is in the feedback"


def test_the_similarity_report_flags_copies_and_spares_independent_work(graded):
    with open(graded["out"] / "similarity.csv") as sheet:
        rows = list(csv.DictReader(sheet))
    pairs = {(r["student"], r["other"]) for r in rows if r["kind"] == "students"}
    assert ("alice", "carol") in pairs, "renaming variables and reformatting does not hide a copy"
    copied = {(r["student"], r["other"]) for r in rows if r["kind"] == "reference"}
    assert ("dave", "course_lib.losses.softmax_loss") in copied
    assert not any("erin" in (r["student"], r["other"]) for r in rows), "independent answers are not flagged"
    assert all(float(r["similarity"]) >= 0.8 for r in rows)
    assert "Similarity report:" in graded["summary"] and "it changes no score" in graded["summary"]
