"""`course hub` itself, as an instructor runs it: start, Ctrl-C, start again on the same state, --stop.

The command runs as a subprocess (the real entry point), on its own ports, state folder,
course folder and exchange, for one instructor and one student (`hubc<tag>*` accounts,
removed afterwards).
"""

import grp
import json
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from course_lib.classroom.hub import accounts
from course_lib.classroom.hub.layout import HubLayout
from course_lib.grading.settings import Settings

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 300  # the first start may reinstall course_lib into the course environment
GROUP = HubLayout(Settings.load(str(REPO)).course_id, "/").instructor_group


@pytest.fixture
def hub_command(hub_environment, free_port_block):
    """(the `course hub` argv, its folders); the accounts, folders and a group it created are removed after."""
    tag = secrets.token_hex(2)
    base = Path(tempfile.mkdtemp(prefix=f"hubc{tag}-", dir="/var/tmp"))
    os.chmod(base, 0o755)
    student, instructor = f"hubc{tag}s1", f"hubc{tag}i1"
    (base / "roster.csv").write_text(f"student_id,name,email\n{student},A Student,a@u.edu\n")
    folders = {"state": base / "state", "course": base / "srv" / "course", "exchange": base / "exchange"}
    port = free_port_block()
    argv = [sys.executable, "-m", "course_lib.cli", "hub", "--roster", str(base / "roster.csv")]
    argv += ["--instructors", instructor, "--port", str(port), "--course", str(REPO)]
    argv += ["--exchange", str(folders["exchange"]), "--state-dir", str(folders["state"])]
    argv += ["--course-dir", str(folders["course"]), "--config-dir", str(base / "config")]
    group_existed = GROUP in {g.gr_name for g in grp.getgrall()}
    try:
        yield argv, folders, port, (instructor, student)
    finally:
        subprocess.run([*argv[:4], "--stop", "--state-dir", str(folders["state"])], capture_output=True, cwd=REPO)
        accounts.remove_accounts((instructor, student), groups=() if group_existed else (GROUP,))
        shutil.rmtree(base, ignore_errors=True)


def _start(argv):
    """Run `course hub` until it says it is ready; returns (process, the lines it printed)."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO)
    lines, deadline = [], time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            pytest.fail(f"course hub exited ({process.wait()}) before it was ready:\n{''.join(lines)}")
        lines.append(line)
        if line.startswith("hub ready at"):
            return process, lines
    process.kill()
    pytest.fail(f"course hub was not ready in {READY_TIMEOUT_S} s:\n{''.join(lines)}")


def _hub_answers(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/hub/api/", timeout=2) as response:
            return "version" in json.load(response)
    except OSError:
        return False


def test_course_hub_starts_stops_on_ctrl_c_and_starts_again_on_the_same_state(hub_command):
    argv, folders, port, (instructor, student) = hub_command
    process, lines = _start(argv)
    printed = "".join(lines)
    assert _hub_answers(port)
    assert "accounts created: 2" in printed and "(copied from" in printed
    state = folders["state"]
    passwords = (state / "passwords.csv").read_text()
    assert {instructor, student} <= {row.split(",")[0] for row in passwords.splitlines()[1:]}
    secrets_seen = [row.split(",")[1] for row in passwords.splitlines()[1:]]
    secrets_seen.append((state / "admin-api-token").read_text().strip())
    secrets_seen.append((state / "jupyterhub_cookie_secret").read_text().strip())
    assert not [s for s in secrets_seen if s in printed], "course hub printed a secret"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    for name in ("passwords.csv", "admin-api-token", "jupyterhub_cookie_secret", "jupyterhub_config.py"):
        assert stat.S_IMODE((state / name).stat().st_mode) == 0o600, name
    course = folders["course"]
    assert stat.S_IMODE(course.stat().st_mode) == 0o2770 and course.stat().st_gid == grp.getgrnam(GROUP).gr_gid
    assert stat.S_IMODE(Path(f"/home/{student}").stat().st_mode) == 0o700
    assert stat.S_IMODE(folders["exchange"].stat().st_mode) == 0o1777
    (course / "gradebook-marker").write_text("the class's state\n")
    (folders["exchange"] / "exchange-marker").write_text("submissions\n")

    process.send_signal(signal.SIGINT)  # Ctrl-C
    assert process.wait(timeout=90) == 0
    assert "hub stopped" in process.stdout.read()
    assert not _hub_answers(port) and not (state / "jupyterhub.pid").exists()
    assert (course / "gradebook-marker").exists() and (folders["exchange"] / "exchange-marker").exists()

    process, lines = _start(argv)
    printed = "".join(lines)
    assert "accounts created: 0" in printed and "(kept)" in printed and "0 new student edition" in printed
    assert (course / "gradebook-marker").exists()
    stop = [*argv[:4], "--stop", "--state-dir", str(state)]
    stopped = subprocess.run(stop, capture_output=True, text=True, cwd=REPO)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert process.wait(timeout=90) == 0
    assert not _hub_answers(port)
