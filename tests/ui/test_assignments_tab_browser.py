"""The Assignments tab in a real JupyterLab: fetch, validate, submit, then fetch the feedback.

The instructor side runs the real commands on the toy course (tests/fixtures/grading_course.py):
`course release --to-exchange` into a temporary exchange, later `course collect`,
`course grade` and `course return`. The student side is a JupyterLab serving a student's
folder with the student edition's nbgrader and Jupyter configuration (Formgrader off),
driven in headless Chromium through nbgrader's Assignments tab
(Nbgrader > Assignment List). The student's answer is written into the fetched notebook
on disk, as if typed. Screenshots of each step are left in the test's temporary folder.
"""

import json
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from fixtures import grading_course as course
from fixtures.jupyter_env import USER_FOLDER_VARIABLES
from fixtures.jupyter_server import serving

from course_lib import cli
from course_lib.classroom.edition import student_nbgrader_config
from course_lib.classroom.lab import lab_environment, write_jupyter_config
from course_lib.grading.settings import Settings

TIMEOUT_MS = 120_000


def _course(argv):
    assert cli.main(argv) == 0, argv


@pytest.fixture(scope="module")
def classroom(tmp_path_factory, browser_available):
    """A released toy assignment and a student's JupyterLab: (settings, lab (port, token), student folder)."""
    base = tmp_path_factory.mktemp("classroom")
    teacher, student, exchange = base / "course", base / "student", base / "exchange"
    course.write_source(teacher / "solutions")
    exchange.mkdir()
    os.chmod(exchange, 0o1777)
    student.mkdir()
    settings = Settings(course_root=str(teacher), exchange_root=str(exchange))
    _course(["release", "--to-exchange", "--exchange", str(exchange), "--course", str(teacher)])
    (student / "nbgrader_config.py").write_text(student_nbgrader_config(settings))
    notification = base / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    config = write_jupyter_config(str(base / "jupyter-config"), instructor_tools=False, assignments=True)
    env = lab_environment(config)
    env.update({name: str(base / name.lower()) for name in USER_FOLDER_VARIABLES})
    env.update(JUPYTERLAB_SETTINGS_DIR=str(base / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"))
    command = [sys.executable, "-m", "jupyterlab", "{ARGS}", f"--ServerApp.root_dir={student}"]
    with serving(command, student, env) as (lab, _):
        yield {"settings": settings, "lab": lab, "student": student, "teacher": teacher, "exchange": exchange}


def _open_assignment_list(page, lab):
    port, token = lab
    page.goto(f"http://127.0.0.1:{port}/lab?token={token}")
    page.locator(".lm-MenuBar-item", has_text="Nbgrader").click(timeout=TIMEOUT_MS)
    page.locator(".lm-Menu-item", has_text="Assignment List").click()
    page.locator("#released_assignments_list").wait_for(timeout=TIMEOUT_MS)


def _row(page, listing, text):
    return page.locator(f"#{listing} .list_item", has_text=text)


def test_fetch_validate_submit_and_fetch_feedback_in_the_assignments_tab(classroom, page, tmp_path):
    from playwright.sync_api import expect

    lab, student = classroom["lab"], classroom["student"]
    _open_assignment_list(page, lab)
    released = _row(page, "released_assignments_list", course.ASSIGNMENT)
    expect(released).to_contain_text("tnn101", timeout=TIMEOUT_MS)
    page.screenshot(path=str(tmp_path / "1-released.png"))
    released.get_by_role("button", name="Fetch").click()

    fetched = _row(page, "fetched_assignments_list", course.ASSIGNMENT).first
    expect(fetched).to_be_visible(timeout=TIMEOUT_MS)
    notebook = student / course.ASSIGNMENT / f"{course.NOTEBOOK}.ipynb"
    assert notebook.exists(), "Fetch did not put the notebook in the student's folder"
    nbformat.write(course.submission("correct", nbformat.read(notebook, as_version=4)), notebook)

    page.locator("#fetched_assignments_list .list_item a", has_text=course.ASSIGNMENT).first.click()
    validate = page.locator("#fetched_assignments_list button", has_text="Validate").first
    expect(validate).to_be_visible(timeout=TIMEOUT_MS)
    validate.click()
    expect(validate).to_have_class(re.compile("btn-success"), timeout=TIMEOUT_MS)
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Validation Results", timeout=TIMEOUT_MS)
    page.screenshot(path=str(tmp_path / "2-validated.png"))
    dialog.get_by_role("button", name="Ok").click()

    page.locator("#fetched_assignments_list button", has_text="Submit").first.click()
    submitted = page.locator("#submitted_assignments_list .list_item", has_text=course.ASSIGNMENT)
    expect(submitted).to_be_visible(timeout=TIMEOUT_MS)
    page.screenshot(path=str(tmp_path / "3-submitted.png"))

    teacher, exchange = str(classroom["teacher"]), str(classroom["exchange"])
    _course(["collect", course.ASSIGNMENT, "--exchange", exchange, "--course", teacher])
    _course(["grade", course.ASSIGNMENT, "--course", teacher])
    _course(["return", course.ASSIGNMENT, "--exchange", exchange, "--course", teacher])

    _open_assignment_list(page, lab)
    submitted = page.locator("#submitted_assignments_list .list_item", has_text=course.ASSIGNMENT)
    expect(submitted).to_contain_text("feedback available to fetch", timeout=TIMEOUT_MS)
    submitted.get_by_role("button", name="Fetch Feedback").click()
    expect(submitted).to_contain_text("view feedback", timeout=TIMEOUT_MS)
    page.screenshot(path=str(tmp_path / "4-feedback.png"))
    [feedback] = sorted(Path(student, course.ASSIGNMENT, "feedback").glob("*/*.html"))
    assert f"Score: <b>{course.MAX_SCORE:g}</b> of {course.MAX_SCORE:g} points" in feedback.read_text()
