"""What a student sees, in headless Chromium: the Validate button's dialog and a feedback page.

* A JupyterLab of its own (the course's Validate extension in place of nbgrader's, as the
  course configures it) serves a1 answered with one mistake, and a lesson. Clicking the
  notebook's Validate button shows one line per test, the failing one with its message and
  no test source; on the lesson it does not say "Success!".
* The feedback page a real `course grade` run wrote, opened from disk with every network
  request refused, renders its math: the MathML formulas take up room on the page, and
  nothing was fetched.

Screenshots of both go to the test's temporary folder.
"""

import json
import sys

import pytest
from fixtures.course_jupyter import course_jupyter_env
from fixtures.jupyter_server import serving
from fixtures.students import REPO, solved, write_submission

from course_lib.grading.pipeline import grade
from course_lib.grading.settings import Settings

A1 = "a1_softmax"
SUMMED = {"softmax_loss": [("loss = -log_probs[rows, y].mean()", "loss = -log_probs[rows, y].sum()")]}
TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def lab(browser_available, tmp_path_factory):
    """A JupyterLab with the course's Validate extension, serving a1 (one mistake) and lesson 1."""
    base = tmp_path_factory.mktemp("validate_lab")
    root = base / "root"
    write_submission(root, A1, solved(A1, SUMMED))
    (root / "lesson.ipynb").write_bytes((REPO / "notebooks" / "01_softmax_cross_entropy.ipynb").read_bytes())
    settings = base / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    env = course_jupyter_env(base)
    env.update(JUPYTERLAB_SETTINGS_DIR=str(base / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"))
    env.pop("MPLBACKEND", None)  # the notebook picks its own backend
    command = [sys.executable, "-m", "jupyter", "lab", "{ARGS}", f"--ServerApp.root_dir={root}"]
    with serving(command, root, env) as ((port, token), _):
        # ?reset: a fresh workspace each time, so no tab of an earlier test is restored over the notebook
        yield lambda path: f"http://127.0.0.1:{port}/lab/tree/{path}?reset&token={token}"


def _validate(page, url):
    """Open the notebook at `url`, click its Validate button, return the dialog."""
    page.goto(url)
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=TIMEOUT_MS)
    page.locator(".jp-NotebookPanel:visible .validate-button").click()
    dialog = page.locator(".jp-Dialog-content")
    dialog.wait_for(timeout=TIMEOUT_MS)
    return dialog


def test_validate_shows_one_line_per_test(lab, page, tmp_path):
    dialog = _validate(page, lab(f"{A1}/{A1}.ipynb"))
    page.screenshot(path=tmp_path / "validate.png")
    lines = [line for line in dialog.locator("#validation-message").inner_text().split("\n") if line.strip()]
    assert lines[0] == "PASS softmax: values, normalization and large scores (2/2)"
    assert lines[1].startswith("FAIL softmax_loss: the loss value (0/2): loss should be 2.758655")
    assert "you summed over the N = 3 examples" in lines[1]
    assert lines[-1] == "Visible tests: 3 of 4 passed, 8/10 points (hidden tests run only at grading)"
    assert len(lines) == 5, f"one line per test and a total, nothing else: {lines}"
    assert not dialog.get_by_text("The following cell failed").is_visible()


def test_validate_on_a_lesson_is_no_success(lab, page, tmp_path):
    dialog = _validate(page, lab("lesson.ipynb"))
    page.screenshot(path=tmp_path / "validate_lesson.png")
    text = dialog.inner_text()
    assert "This notebook has no graded tests" in text and "Success" not in text


def _feedback_page(folder):
    """The feedback page a real `course grade` run writes for a1 answered with one mistake (bob)."""
    write_submission(folder / "submitted" / "bob", A1, solved(A1, SUMMED))
    submitted, out = folder / "submitted", folder / "out"
    results, _ = grade(A1, Settings(course_root=REPO), submitted, out_dir=out, show_progress=False)
    assert [(r.student_id, r.status, r.score) for r in results] == [("bob", "graded", 8.0)]
    return out / "feedback" / "bob" / A1 / f"{A1}.html"


def test_feedback_math_renders_without_the_network(browser, tmp_path, isolated_jupyter):
    path = _feedback_page(tmp_path)
    formulas = path.read_text().count("<math")
    context = browser.new_context(viewport={"width": 1000, "height": 900}, offline=True)
    requested = []
    page = context.new_page()
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto(path.as_uri())
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        heights = page.evaluate("[...document.querySelectorAll('math')].map(m => m.getBoundingClientRect().height)")
        page.screenshot(path=tmp_path / "feedback.png", full_page=True)
        assert len(heights) == formulas and min(heights) > 5, f"MathML formulas laid out with heights {heights}"
        assert requested == [path.as_uri()], f"the page fetched {requested[1:]}"
        assert page.locator("tr.fail").count() == 1 and page.locator("tr.pass").count() == 3
    finally:
        context.close()
