"""What a student's JupyterLab asks of their server, over HTTP only: the load and fault tests' student.

Each function takes a logged-in user (conftest's `UserSession`: a cookie session or a user
token) and calls the routes JupyterLab and nbgrader's Assignments tab call
(/work/shared/notes/jupyterhub.md): the Contents API to read and save a notebook, and
nbgrader's assignment-list API (`courses`, `assignments`, `assignments/fetch`,
`assignments/submit`). Each raises `ServerError` naming the user, the route, the status and
the start of the answer, so a failure in a class of 30 says which student and which step.

Also what both tests share: a notebook answered from given sources, a user's server
process, stopping a server, and `course` run as root in the hub's course folder.
"""

import json
import pwd
import subprocess
import time
from urllib.parse import quote

from course_lib import ONE_THREAD_ENV


class ServerError(AssertionError):
    """A user's server answered something else than the Lab expects."""


def _call(user, method, path, expected=(200,), **kwargs):
    response = user.request(method, path, **kwargs)
    if response.status_code not in expected:
        raise ServerError(
            f"{method} /user/{user.account}/{path} answered {response.status_code}: {response.text[:500]}"
        )
    return response


def _value(user, response):
    answer = response.json()
    if not answer.get("success"):
        raise ServerError(f"{response.request.method} {response.url} for {user.account}: {json.dumps(answer)[:800]}")
    return answer["value"]


def read_notebook(user, path):
    """The notebook at `path` (relative to the server's root folder) as a dict."""
    return _call(user, "GET", f"api/contents/{quote(path)}", params={"content": "1"}).json()["content"]


def write_notebook(user, path, notebook):
    """Save `notebook` (a dict) at `path`, as JupyterLab's Save does."""
    _call(
        user, "PUT", f"api/contents/{quote(path)}", expected=(200, 201), json={"type": "notebook", "content": notebook}
    )


def courses(user):
    """The course ids the Assignments tab lists."""
    return _value(user, _call(user, "GET", "courses"))


def assignments(user, course_id):
    """The Assignments tab's listing of `course_id`: one dict per (assignment, status)."""
    return _value(user, _call(user, "GET", "assignments", params={"course_id": course_id}))


def fetch(user, course_id, assignment):
    """The tab's Fetch button: `assignment` into the server's root folder; returns the new listing."""
    return _value(user, _action(user, "fetch", course_id, assignment))


def submit(user, course_id, assignment):
    """The tab's Submit button; returns the new listing."""
    return _value(user, _action(user, "submit", course_id, assignment))


def _action(user, action, course_id, assignment):
    return _call(user, "POST", f"assignments/{action}", data={"course_id": course_id, "assignment_id": assignment})


def statuses(listing, assignment):
    """The statuses ("released", "fetched", "submitted") a listing gives `assignment`."""
    return sorted(entry["status"] for entry in listing if entry["assignment_id"] == assignment)


def answered(notebook, answers):
    """`notebook` (a dict, as read) with each answer cell's source replaced from `answers` ({grade_id: source})."""
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    return notebook


def solution_sources(notebook):
    """{grade_id: source} of the answer cells of `notebook` (an nbformat notebook)."""
    return {
        cell.metadata.nbgrader.grade_id: cell.source
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


def server_process(account):
    """The psutil.Process of `account`'s jupyterhub-singleuser, or None when it has none."""
    import psutil

    uid = pwd.getpwnam(account).pw_uid
    for proc in psutil.process_iter(["uids", "cmdline"]):
        if (
            proc.info["uids"]
            and proc.info["uids"].real == uid
            and "jupyterhub-singleuser" in " ".join(proc.info["cmdline"] or [])
        ):
            return proc
    return None


def stop_server(class_hub, account, timeout=60):
    """Stop `account`'s server through the REST API and wait until the hub lists none."""
    class_hub.admin("DELETE", f"users/{account}/server")
    deadline = time.monotonic() + timeout
    while class_hub.admin("GET", f"users/{account}").json()["servers"]:
        if time.monotonic() > deadline:
            raise ServerError(f"{account}'s server did not stop in {timeout} s")
        time.sleep(0.5)


def course_as_root(class_hub, *arguments):
    """`course ARGUMENTS` as root in the hub's course folder (grading's sandbox needs root), with the
    course environment on PATH; returns the CompletedProcess."""
    env = {"HOME": "/root", "PATH": f"{class_hub.layout.bin}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    env.update(ONE_THREAD_ENV)
    return subprocess.run(
        ["course", *arguments], cwd=class_hub.course_dir, env=env, capture_output=True, text=True, timeout=600
    )
