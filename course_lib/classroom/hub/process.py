"""Starting, waiting for and stopping a class hub (`course hub`, `course hub --stop`, and the tests).

`prepare(hub, course_root, settings)` does everything a start needs and is idempotent: the
course environment (reused when unchanged), the accounts, the folders, the Jupyter
configuration of both roles, the secrets and jupyterhub_config.py. `start(hub)` runs
JupyterHub as root from the state folder and waits until its API answers; `stop(layout)`
sends it SIGTERM (its servers, proxy and culler stop with it) and waits. Neither touches
the exchange, the course folder (gradebook, submissions) or the students' homes.
"""

import csv
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

from course_lib.classroom.edition import student_nbgrader_config
from course_lib.classroom.hub import accounts, memory
from course_lib.classroom.hub import layout as folders
from course_lib.classroom.hub.config import SECRET_MODE, write_hub_config
from course_lib.classroom.hub.environment import build_environment
from course_lib.classroom.lab import write_jupyter_config

START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 60
PASSWORDS_FILE = "passwords.csv"
PID_FILE = "jupyterhub.pid"
# the Formgrader is shown in a Lab tab (an iframe): instructors' servers allow frames from the hub's origin
INSTRUCTOR_FRAMES = {"headers": {"Content-Security-Policy": "frame-ancestors 'self'"}}
# JupyterLab's defaults for everyone on the hub: no "get notified about Jupyter news?" toast (no internet here)
LAB_OVERRIDES = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}


def _write_lab_overrides(layout):
    folder = os.path.join(layout.venv, "share", "jupyter", "lab", "settings")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "overrides.json"), "w") as handle:
        json.dump(LAB_OVERRIDES, handle, indent=2)


def _write_role_config(layout, settings, role):
    folder = layout.jupyter_config(role)
    instructor = role == "instructor"
    write_jupyter_config(folder, instructor_tools=instructor, assignments=True)
    if instructor:
        path = os.path.join(folder, "jupyter_server_config.json")
        with open(path) as handle:
            server = json.load(handle)
        server["ServerApp"]["tornado_settings"] = INSTRUCTOR_FRAMES
        with open(path, "w") as handle:
            json.dump(server, handle, indent=2, sort_keys=True)
    with open(os.path.join(folder, "nbgrader_config.py"), "w") as handle:
        handle.write(student_nbgrader_config(settings))


def _passwords(layout):
    return layout.state_file(PASSWORDS_FILE)


def _record_passwords(layout, created):
    """Append the generated passwords of new accounts to <state>/passwords.csv (0600), for handing out."""
    if not created:
        return
    path = _passwords(layout)
    new = not os.path.exists(path)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, SECRET_MODE)
    with os.fdopen(descriptor, "a", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(["account", "password"])
        writer.writerows(sorted(created.items()))
    os.chmod(path, SECRET_MODE)


def prepare(hub, course_root, settings, log=print):
    """Everything `start` needs, for `hub` (a Hub) serving the course at `course_root` with `settings`.

    Returns the lines of the run summary. Raises RuntimeError when not root or an install fails.
    """
    if os.geteuid() != 0:
        raise RuntimeError("course hub must run as root: it creates unix accounts and runs each user's server as them")
    layout = hub.layout
    folders.prepare_state_dir(layout)
    environment = build_environment(course_root, layout.venv, log=log)
    _write_lab_overrides(layout)
    gid = accounts.ensure_group(layout.instructor_group)
    created = accounts.ensure_accounts(hub.instructors, groups=(layout.instructor_group,))
    created.update(accounts.ensure_accounts(hub.students))
    _record_passwords(layout, created)
    folders.prepare_exchange(layout)
    course_created = folders.prepare_course_dir(layout, course_root, hub.instructors[0], gid)
    folders.prepare_edition(layout, course_root, settings)
    given = [s for s in hub.students if folders.give_edition(layout, s)]
    for role in ("student", "instructor"):
        _write_role_config(layout, settings, role)
    write_hub_config(hub)
    return [
        f"course environment {layout.venv}: {environment}",
        f"course folder {layout.course_dir} ({'copied from ' + course_root if course_created else 'kept'}), "
        f"group {layout.instructor_group}: {', '.join(hub.instructors)}",
        f"students: {len(hub.students)} ({len(given)} new student edition(s) in their homes)",
        f"accounts created: {len(created)}" + (f", passwords in {_passwords(layout)}" if created else ""),
        f"exchange {layout.exchange}",
        f"memory limit per user: {hub.memory_limit}, enforced by {memory.enforcement()}",
        f"idle servers stopped after {hub.idle_timeout} s (checked every {hub.cull_every} s)",
        f"state (configuration, secrets, user database): {layout.state_dir}",
    ]


def hub_version(layout, timeout=2):
    """The version the hub's API reports, or None when nothing answers at its address."""
    try:
        with urllib.request.urlopen(f"{layout.url}/hub/api/", timeout=timeout) as response:
            return json.load(response).get("version")
    except (urllib.error.URLError, OSError, ValueError):
        return None


def running_pid(layout):
    """The pid of this course's running hub (from its pid file), or None."""
    path = layout.state_file(PID_FILE)
    if not os.path.isfile(path):
        return None
    with open(path) as handle:
        text = handle.read().strip()
    if not text.isdigit() or not os.path.exists(f"/proc/{text}"):
        return None
    return int(text)


def start(hub, log_file=None):
    """Run JupyterHub for `hub` (prepared) and wait until it answers; returns the Popen.

    log_file: an open file for the hub's output (default: this process's stdout and stderr).
    The hub gets a session of its own: a terminal's Ctrl-C reaches only `run_until_stopped`,
    which stops it with the one SIGTERM that `stop` also sends.
    Raises RuntimeError when a hub of this course already runs, or it does not answer in time.
    """
    layout = hub.layout
    pid = running_pid(layout)
    if pid:
        raise RuntimeError(f"the hub of {layout.course_id} already runs (pid {pid}); stop it with `course hub --stop`")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    env["PATH"] = f"{layout.bin}:{env.get('PATH', '/usr/bin:/bin')}"
    process = subprocess.Popen(
        [os.path.join(layout.bin, "jupyterhub"), "-f", layout.state_file("jupyterhub_config.py")],
        cwd=layout.state_dir,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT if log_file else None,
        start_new_session=True,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while hub_version(layout) is None:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterHub exited with status {process.returncode} before answering (see its log)")
        if time.monotonic() > deadline:
            process.terminate()
            raise RuntimeError(f"JupyterHub did not answer at {layout.url} within {START_TIMEOUT_S} s")
        time.sleep(0.2)
    return process


def run_until_stopped(hub, on_ready=print):
    """Start the hub, call `on_ready(line)`, wait; Ctrl-C or SIGTERM to this process stops the hub.

    Returns the hub's exit status.
    """

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    running = start(hub)
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        on_ready(f"hub ready at {hub.layout.url}/ (Ctrl-C stops it): log in with the account's password")
        running.wait()
    except KeyboardInterrupt:
        running.terminate()  # JupyterHub stops its servers, proxy and culler on SIGTERM
        running.wait(timeout=STOP_TIMEOUT_S)
    finally:
        signal.signal(signal.SIGTERM, previous)
    return running.returncode


def stop(layout):
    """Stop this course's hub (SIGTERM; its servers, proxy and culler stop with it); returns whether one ran."""
    pid = running_pid(layout)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while os.path.exists(f"/proc/{pid}") and _is_running(pid):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the hub (pid {pid}) did not stop within {STOP_TIMEOUT_S} s")
        time.sleep(0.2)
    return True


def _is_running(pid):
    """Whether `pid` is alive and not a zombie waiting for its parent."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
