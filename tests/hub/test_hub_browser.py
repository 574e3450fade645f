"""The class on a real JupyterHub, in headless Chromium: one instructor and two students.

Everyone logs in through the hub's login page (PAM, their unix account) and gets JupyterLab,
as their own user. The instructor's Nbgrader menu has the Formgrader, the students' does not.
The instructor releases a1_softmax with the `course` commands of the course environment (as
in a Lab terminal); each student fetches it in the Assignments tab, edits the notebook (the
answer cells, saved through the server's contents API as the student), validates and submits;
the tab shows this course only (another course released on the same exchange is not listed);
the instructor collects, grades and returns; each student fetches their feedback in the tab
and it shows their own score. A student's kernel cannot read the solutions, the gradebook,
the exchange's submissions or another student's home.

Screenshots of each step are left in the test's temporary folder (printed with -s).
"""

import json
import re
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from fixtures.students import solved

from course_lib.classroom.hub import memory

ASSIGNMENT = "a1_softmax"
OTHER_COURSE = "other202"
MAX_SCORE = 10
TIMEOUT_MS = 120_000
# student 2 gets the softmax wrong: every test of softmax fails, the rest pass (one helper per test)
WRONG_SOFTMAX = {"softmax": [("np.exp(", "np.exp(2 * ")]}


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hub-screenshots")
    print(f"\nscreenshots in {folder}")
    return folder


def _log_in(browser, class_hub, account):
    """A new browser context logged in as `account` through the hub's login page; (page, seconds to Lab)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{class_hub.url}/hub/login", timeout=TIMEOUT_MS)
    start = time.monotonic()
    page.fill("#username_input", account)
    page.fill("#password_input", class_hub.passwords[account])
    page.click("#login_submit")
    page.wait_for_url(re.compile(rf"/user/{account}/lab"), timeout=TIMEOUT_MS)
    page.locator(".lm-MenuBar-item", has_text="Nbgrader").wait_for(timeout=TIMEOUT_MS)
    return page, time.monotonic() - start


def _nbgrader_menu(page):
    page.locator(".lm-MenuBar-item", has_text="Nbgrader").click(timeout=TIMEOUT_MS)
    items = page.locator(".lm-Menu-item .lm-Menu-itemLabel").all_inner_texts()
    page.keyboard.press("Escape")
    return items


def _open_assignment_list(page, class_hub, account):
    # a fresh load (the lists are read when the tab opens); not ?reset, which clears the workspace
    # asynchronously and can close the tab just opened
    page.goto(f"{class_hub.url}/user/{account}/lab", timeout=TIMEOUT_MS)
    page.locator(".lm-MenuBar-item", has_text="Nbgrader").click(timeout=TIMEOUT_MS)
    page.locator(".lm-Menu-item", has_text="Assignment List").click()
    page.locator("#released_assignments_list").wait_for(timeout=TIMEOUT_MS)


def _must(result):
    output = f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert result.returncode == 0, f"{result.args}: exit {result.returncode}\n{output}"
    return result.stdout


def _release_another_course(exchange):
    """What another course on the same exchange released (the Assignments tab must not show it)."""
    folder = exchange / OTHER_COURSE / "outbound" / "x1"
    folder.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), folder / "x1.ipynb")
    for path in (exchange / OTHER_COURSE, folder.parent, folder):
        path.chmod(0o755)


def _grade_as_root(class_hub):
    """`sudo course grade` in the course folder, then the folder given back to the instructors."""
    course, layout = class_hub.course_dir, class_hub.layout
    env = {"PATH": f"{layout.bin}:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": "/root"}
    command = [f"{layout.bin}/course", "grade", ASSIGNMENT, "--jobs", "2"]
    graded = subprocess.run(command, cwd=course, env=env, capture_output=True, text=True, timeout=600)
    owner = f"{class_hub.instructor}:{layout.instructor_group}"
    subprocess.run(["chown", "-R", owner, str(course)], check=True)
    return graded


def _save_answers(user, notebook):
    """Save `notebook` (nbformat) over the fetched assignment through the student's own server."""
    path = f"api/contents/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    answer = user.request("PUT", path, json={"type": "notebook", "format": "json", "content": notebook})
    assert answer.status_code == 200, f"saving {path} as {user.account}: {answer.status_code} {answer.text[:300]}"


def test_a_class_releases_submits_grades_and_returns_through_the_hub(browser, class_hub, shots):
    from playwright.sync_api import expect

    instructor, students = class_hub.instructor, class_hub.students
    seconds_to_lab = {}

    page, seconds_to_lab[instructor] = _log_in(browser, class_hub, instructor)
    assert "Formgrader" in _nbgrader_menu(page)
    expect(page.locator(".jp-DirListing-item", has_text="solutions")).to_be_visible(timeout=TIMEOUT_MS)
    page.screenshot(path=str(shots / "0-instructor-lab.png"))
    _must(class_hub.run_as(instructor, "course", "release", ASSIGNMENT, "--to-exchange"))
    _release_another_course(class_hub.exchange)

    pages = {}
    for student in students:
        pages[student], seconds_to_lab[student] = _log_in(browser, class_hub, student)
        menu = _nbgrader_menu(pages[student])
        assert "Assignment List" in menu and "Formgrader" not in menu, menu
    print(f"seconds from login to JupyterLab: {json.dumps({k: round(v, 1) for k, v in seconds_to_lab.items()})}")

    answers = {students[0]: solved(ASSIGNMENT), students[1]: solved(ASSIGNMENT, WRONG_SOFTMAX)}
    for n, student in enumerate(students, 1):
        page = pages[student]
        _open_assignment_list(page, class_hub, student)
        released = page.locator("#released_assignments_list .list_item", has_text=ASSIGNMENT)
        expect(released).to_contain_text(class_hub.settings.course_id, timeout=TIMEOUT_MS)
        expect(page.locator("#course_list_default")).to_have_text(class_hub.settings.course_id)
        assert OTHER_COURSE not in page.locator("#assignments").inner_text()
        page.screenshot(path=str(shots / f"{n}-1-released.png"))
        released.get_by_role("button", name="Fetch").click()
        fetched = page.locator("#fetched_assignments_list .list_item", has_text=ASSIGNMENT).first
        expect(fetched).to_be_visible(timeout=TIMEOUT_MS)

        _save_answers(class_hub.user_session(student), answers[student])
        page.locator("#fetched_assignments_list .list_item a", has_text=ASSIGNMENT).first.click()
        validate = page.locator("#fetched_assignments_list button", has_text="Validate").first
        expect(validate).to_be_visible(timeout=TIMEOUT_MS)
        validate.click()
        dialog = page.locator(".jp-Dialog")
        expect(dialog).to_contain_text("Validation Results", timeout=TIMEOUT_MS)
        if n == 1:
            expect(validate).to_have_class(re.compile("btn-success"), timeout=TIMEOUT_MS)
        else:
            expect(dialog).to_contain_text("FAIL", timeout=TIMEOUT_MS)
        page.screenshot(path=str(shots / f"{n}-2-validated.png"))
        dialog.get_by_role("button", name="Ok").click()
        page.locator("#fetched_assignments_list button", has_text="Submit").first.click()
        submitted = page.locator("#submitted_assignments_list .list_item", has_text=ASSIGNMENT)
        expect(submitted).to_be_visible(timeout=TIMEOUT_MS)
        page.screenshot(path=str(shots / f"{n}-3-submitted.png"))

    collected = _must(class_hub.run_as(instructor, "course", "collect", ASSIGNMENT, "--exchange"))
    assert f"collected {len(students)} submission(s)" in collected, collected
    # graded as root (the README's recipe), so that every protection of the grading sandbox is on
    graded = _must(_grade_as_root(class_hub))
    print(graded)
    assert "[off]" not in graded, graded
    _must(class_hub.run_as(instructor, "course", "return", ASSIGNMENT))

    scores = {}
    for n, student in enumerate(students, 1):
        page = pages[student]
        _open_assignment_list(page, class_hub, student)
        submitted = page.locator("#submitted_assignments_list .list_item", has_text=ASSIGNMENT)
        expect(submitted).to_contain_text("feedback available to fetch", timeout=TIMEOUT_MS)
        submitted.get_by_role("button", name="Fetch Feedback").click()
        expect(submitted).to_contain_text("view feedback", timeout=TIMEOUT_MS)
        page.screenshot(path=str(shots / f"{n}-4-feedback-fetched.png"))
        submitted.get_by_text("view feedback").click()  # Lab's file browser goes to the feedback folder
        folder = Path(class_hub.layout.student_folder(f"/home/{student}"))
        [page_file] = sorted((folder / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
        assert page_file.stat().st_uid == Path(f"/home/{student}").stat().st_uid, "feedback not owned by the student"
        feedback = page.context.new_page()
        feedback.goto(f"{class_hub.url}/user/{student}/files/{page_file.relative_to(folder)}", timeout=TIMEOUT_MS)
        expect(feedback.locator("body")).to_contain_text("Score", timeout=TIMEOUT_MS)
        feedback.screenshot(path=str(shots / f"{n}-5-feedback-page.png"))
        text = feedback.locator("body").inner_text()
        scores[student] = float(re.search(r"Score: ([0-9.]+) of ([0-9.]+) points", text).group(1))
    assert scores[students[0]] == MAX_SCORE, scores
    assert 0 < scores[students[1]] < MAX_SCORE, scores


ISOLATION_PROBE = """
import getpass, json, os
def attempt(path):
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, "rb").read(1)
        return "read"
    except PermissionError:
        return "denied"
    except FileNotFoundError:
        return "missing"
paths = json.loads({paths!r})
cgroup = open("/proc/self/cgroup").read()
env = {{k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}
seen = {{p: attempt(p) for p in paths}}
print(json.dumps({{"user": getpass.getuser(), "paths": seen, "cgroup": cgroup, "env": env}}))
"""


def test_a_students_kernel_cannot_read_solutions_gradebook_or_other_students(class_hub):
    me, other = class_hub.students
    course = class_hub.course_dir
    secret = {
        "solutions": str(course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
        "the solutions folder": str(course / "solutions"),
        "the gradebook": str(course / "gradebook.db"),
        "the other student's home": f"/home/{other}",
        "the other student's notebook": class_hub.layout.student_folder(f"/home/{other}") + "/README.md",
        "the hub's state": class_hub.layout.state_dir,
        "the hub's admin token": class_hub.layout.state_file("admin-api-token"),
        "the exchange's submissions": str(class_hub.exchange / class_hub.settings.course_id / "inbound"),
    }
    user = class_hub.spawn(me)
    probe = ISOLATION_PROBE.format(paths=json.dumps(list(secret.values())))
    seen = json.loads(class_hub.execute(user, probe).strip().splitlines()[-1])
    assert seen["user"] == me
    readable = {what: seen["paths"][path] for what, path in secret.items() if seen["paths"][path] == "read"}
    assert not readable, f"{me}'s kernel could read: {readable}"
    assert seen["paths"][secret["the other student's home"]] == "denied"
    if memory.cgroup_kind():
        assert f"/{class_hub.layout.course_id}-hub/{me}" in seen["cgroup"], seen["cgroup"]
    assert seen["env"] == {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


MEMORY_PROBE = """
import json, subprocess, sys
def allocate(mib):
    code = f"b = bytearray({{mib}} * 2**20)\\nfor i in range(0, len(b), 4096): b[i] = 1\\nprint('allocated')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return done.returncode, (done.stdout + done.stderr).strip()[-200:]
print(json.dumps({{"within": allocate(200), "beyond": allocate({beyond_mib})}}))
"""


def test_a_users_memory_limit_stops_what_goes_beyond_it(class_hub):
    limit_mib = float(class_hub.hub.memory_limit.rstrip("G")) * 1024
    user = class_hub.spawn(class_hub.students[0])
    probe = MEMORY_PROBE.format(beyond_mib=int(limit_mib * 1.25))
    seen = json.loads(class_hub.execute(user, probe).strip().splitlines()[-1])
    assert seen["within"] == [0, "allocated"], seen
    if memory.cgroup_kind():
        assert seen["beyond"][0] == -9, f"the cgroup's OOM killer should have stopped it: {seen}"
    else:
        assert seen["beyond"][0] == 1 and "MemoryError" in seen["beyond"][1], seen
    assert user.request("GET", "api/status").status_code == 200, "the student's server died with the allocation"
