"""A real class hub for the hub tests, started through the code `course hub` runs.

Fixtures (names stable: the load and fault tests build on them):

* `make_class_hub(students=2, instructors=1)`: module-scoped factory; each call prepares
  and starts one more hub (its own accounts, ports, state, course folder and exchange, all
  removed when the module ends) and returns a ClassHub. Accounts are named
  `hubt<tag>i<n>` (instructors) and `hubt<tag>s<n>` (students), tag random per hub.
* `class_hub`: `make_class_hub()`: one instructor and two students, shared by a module.
* `hub_environment`: the skip/fail check and the course environment (its path), for tests
  that start `course hub` themselves; `free_port_block()`: a port P with P .. P + 2 free.

ClassHub (see its docstring) exposes: url, layout (HubLayout), hub (Hub), settings,
instructor, instructors, students, passwords {account: password}, course_dir, exchange,
log_path and log(), admin(method, path, **kw) (the hub's REST API with the admin token),
login(account) (a UserSession through /hub/login, the server spawned and Lab answering),
spawn(account) (REST spawn, returns a UserSession on a user token), restart() (stop and
start, state kept), stop(), run_as(account, *command) (a command as that user, with the
course environment and the role's Jupyter configuration, like a Lab terminal) and
execute(account, code) (code run in a new kernel of the user's server: its stdout).

Skips (with the reason) when not root, when /usr/bin/python3 is missing or the shared
course environment cannot be built; under CI=true these are failures. `.ci/run` builds
the environment first (`make hub-setup`), so here it is reused.
"""

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from course_lib import ONE_THREAD_ENV
from course_lib.classroom.hub import accounts, memory, process
from course_lib.classroom.hub.config import Hub, read_admin_token
from course_lib.classroom.hub.environment import SYSTEM_PYTHON, build_environment
from course_lib.classroom.hub.layout import HubLayout
from course_lib.grading.settings import Settings

REPO = Path(__file__).resolve().parents[2]
PREFIX = "hubt"
# the course the test hubs serve: this repository, with its course.toml
COURSE_ID = Settings.load(str(REPO)).course_id
SPAWN_TIMEOUT_S = 90
KERNEL_TIMEOUT_S = 60


def _unavailable(reason):
    if os.environ.get("CI") == "true":
        pytest.fail(f"the hub tests must run in CI, but {reason}")
    pytest.skip(reason)


def _free_port_block(size=3):
    """A port P with P .. P + size - 1 all free on 127.0.0.1."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + size > 65535:
            continue
        with contextlib.ExitStack() as stack:
            try:
                for port in range(base, base + size):
                    sock = stack.enter_context(socket.socket())
                    sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return base
    raise RuntimeError("no block of free ports on 127.0.0.1")


@dataclass
class UserSession:
    """A logged-in user: `session` (requests, cookies or token), `base` (the server's URL, ending in /)."""

    account: str
    session: requests.Session
    base: str
    headers: dict = field(default_factory=dict)

    def request(self, method, path, **kwargs):
        """`method` on the user's server at `path` (relative to `base`); adds the XSRF header cookies need."""
        headers = {**self.headers, **kwargs.pop("headers", {})}
        xsrf = self.session.cookies.get("_xsrf", path=f"/user/{self.account}/")
        if xsrf and "Authorization" not in headers:
            headers["X-XSRFToken"] = xsrf
        return self.session.request(method, self.base + path.lstrip("/"), headers=headers, timeout=60, **kwargs)


@dataclass
class ClassHub:
    """One running class hub of the tests.

    url: the hub's public address (no trailing /); layout: its HubLayout; hub: its Hub;
    settings: the course's Settings (exchange set); instructor: the first instructor;
    instructors, students: account names; passwords: {account: password};
    course_dir, exchange: Paths; log_path: the hub's log (all starts).
    """

    layout: HubLayout
    hub: Hub
    settings: Settings
    passwords: dict
    log_path: Path
    process: subprocess.Popen = None

    @property
    def url(self):
        return self.layout.url

    @property
    def instructors(self):
        return self.hub.instructors

    @property
    def instructor(self):
        return self.hub.instructors[0]

    @property
    def students(self):
        return self.hub.students

    @property
    def course_dir(self):
        return Path(self.layout.course_dir)

    @property
    def exchange(self):
        return Path(self.layout.exchange)

    def log(self, chars=6000):
        return self.log_path.read_text(errors="replace")[-chars:]

    # -- the hub process -------------------------------------------------------------------

    def start(self):
        with open(self.log_path, "a") as log:
            self.process = process.start(self.hub, log_file=log)

    def stop(self):
        """Stop the hub (SIGTERM, as `course hub --stop`); returns whether it was running."""
        stopped = process.stop(self.layout)
        if self.process is not None:
            self.process.wait(timeout=process.STOP_TIMEOUT_S)
        return stopped

    def restart(self):
        """Stop and start again: the same state folder, database, secrets, exchange and homes."""
        self.stop()
        self.start()

    # -- REST and logins -------------------------------------------------------------------

    def admin(self, method, path, **kwargs):
        """`method` on the hub's REST API at /hub/api/`path`, with the admin (course-admin service) token."""
        token = read_admin_token(self.layout)
        headers = {"Authorization": f"token {token}", **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.url}/hub/api/{path.lstrip('/')}", headers=headers, timeout=60, **kwargs)

    def login(self, account, password=None):
        """Log in through /hub/login as a browser does, spawn the server, wait until Lab answers."""
        session = requests.Session()
        form = session.get(f"{self.url}/hub/login", timeout=30)
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text)
        assert xsrf, f"no _xsrf field in the login form: {form.text[:500]}"
        answer = session.post(
            f"{self.url}/hub/login",
            data={"username": account, "password": password or self.passwords[account], "_xsrf": xsrf.group(1)},
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code == 302, f"login of {account}: HTTP {answer.status_code}"
        if "/hub/spawn" in answer.headers.get("Location", ""):
            session.get(f"{self.url}/hub/spawn", timeout=60)
        lab = f"{self.url}/user/{account}/lab"
        deadline = time.monotonic() + SPAWN_TIMEOUT_S
        while True:
            response = session.get(lab, timeout=60)
            if response.status_code == 200 and response.url.split("?")[0] == lab:
                return UserSession(account, session, f"{self.url}/user/{account}/")
            if time.monotonic() > deadline:
                raise AssertionError(f"{account}'s Lab did not answer in {SPAWN_TIMEOUT_S} s:\n{self.log()}")
            time.sleep(0.5)

    def spawn(self, account):
        """Start the user's server through the REST API; returns a UserSession on a fresh user token."""
        answer = self.admin("POST", f"users/{account}/server")
        assert answer.status_code in (201, 202, 400), f"spawn {account}: {answer.status_code} {answer.text}"
        deadline = time.monotonic() + SPAWN_TIMEOUT_S
        while not (self.admin("GET", f"users/{account}").json().get("servers", {}).get("", {}).get("ready")):
            if time.monotonic() > deadline:
                raise AssertionError(f"{account}'s server was not ready in {SPAWN_TIMEOUT_S} s:\n{self.log()}")
            time.sleep(0.5)
        return self.user_session(account)

    def user_session(self, account):
        """A UserSession with a new API token of `account` (its server must be running)."""
        token = self.admin("POST", f"users/{account}/tokens", json={"expires_in": 3600}).json()["token"]
        headers = {"Authorization": f"token {token}"}
        return UserSession(account, requests.Session(), f"{self.url}/user/{account}/", headers)

    # -- as a user -------------------------------------------------------------------------

    def run_as(self, account, *command, cwd=None, timeout=300):
        """Run `command` as `account`, with the environment its Lab terminal has; returns CompletedProcess."""
        role = "instructor" if account in self.instructors else "student"
        home = os.path.expanduser(f"~{account}")
        env = {
            "HOME": home,
            "USER": account,
            "PATH": f"{self.layout.bin}:/usr/local/bin:/usr/bin:/bin",
            "JUPYTER_CONFIG_PATH": self.layout.jupyter_config(role),
            "LANG": "C.UTF-8",
            **ONE_THREAD_ENV,
        }
        default_cwd = self.layout.course_dir if role == "instructor" else self.layout.student_folder(home)
        return subprocess.run(
            [shutil.which("runuser"), "-u", account, "--", *command],
            cwd=cwd or default_cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def execute(self, user, code):
        """Run `code` in a new kernel of `user`'s server (a UserSession); returns its stdout (str).

        Raises AssertionError with the traceback when the code raises.
        """
        import websocket

        kernel = user.request("POST", "api/kernels", json={"name": "python3"})
        assert kernel.status_code == 201, f"kernel for {user.account}: {kernel.status_code} {kernel.text}"
        kernel_id = kernel.json()["id"]
        url = (user.base + f"api/kernels/{kernel_id}/channels").replace("http://", "ws://")
        headers = [f"{k}: {v}" for k, v in user.headers.items()]
        if not user.headers:
            cookies = "; ".join(f"{c.name}={c.value}" for c in user.session.cookies)
            headers = [f"Cookie: {cookies}"]
        socket_ = websocket.create_connection(url, header=headers, timeout=KERNEL_TIMEOUT_S)
        try:
            msg_id = uuid.uuid4().hex
            socket_.send(json.dumps(_execute_request(msg_id, code)))
            return _collect_output(socket_, msg_id)
        finally:
            socket_.close()
            user.request("DELETE", f"api/kernels/{kernel_id}")


def _execute_request(msg_id, code):
    header = {"msg_id": msg_id, "msg_type": "execute_request", "username": "test", "session": msg_id, "version": "5.3"}
    content = {"code": code, "silent": False, "store_history": False, "user_expressions": {}, "allow_stdin": False}
    return {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": "shell"}


def _collect_output(socket_, msg_id):
    out, error = [], None
    deadline = time.monotonic() + KERNEL_TIMEOUT_S
    while time.monotonic() < deadline:
        message = json.loads(socket_.recv())
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "stream" and content.get("name") == "stdout":
            out.append(content["text"])
        elif kind == "error":
            error = "\n".join(content.get("traceback", [])) or content.get("evalue")
        elif kind == "status" and content.get("execution_state") == "idle":
            if error:
                raise AssertionError(f"the kernel raised:\n{error}")
            return "".join(out)
    raise AssertionError(f"no answer from the kernel within {KERNEL_TIMEOUT_S} s")


def _check_can_run():
    if os.geteuid() != 0:
        _unavailable("the hub tests need root (unix accounts, servers run as each user)")
    if not os.path.isfile(SYSTEM_PYTHON):
        _unavailable(f"no {SYSTEM_PYTHON} to build the course environment from")
    for command in ("useradd", "runuser", "chpasswd"):
        if shutil.which(command) is None:
            _unavailable(f"no `{command}` command on this machine")


@pytest.fixture(scope="module")
def hub_environment():
    """Skip (fail in CI) unless a hub can run here; builds (or reuses) the course environment; returns its path."""
    _check_can_run()
    venv = HubLayout(COURSE_ID, "/").venv
    try:
        build_environment(str(REPO), venv, log=lambda line: None)
    except RuntimeError as error:
        _unavailable(f"the course environment cannot be built: {error}")
    return venv


def throwaway_layout(base, **options):
    """(settings, layout) of a hub whose exchange, state, course and configuration all live under
    `base` (other hubs may run meanwhile), on three free ports; `options` go to HubLayout."""
    settings = Settings.load(str(REPO), exchange_root=str(base / "exchange"))
    return settings, HubLayout(
        settings.course_id,
        settings.exchange,
        _free_port_block(),
        state_dir=str(base / "state"),
        course_dir=str(base / "srv" / "course"),
        config_dir=str(base / "config"),
        **options,
    )


@pytest.fixture(scope="session")
def free_port_block():
    """A function returning a port P with P, P + 1 and P + 2 free on 127.0.0.1 (a hub's three ports)."""
    return _free_port_block


@pytest.fixture(scope="module")
def make_class_hub(hub_environment):
    """Factory of running class hubs (see the module docstring); everything is removed at module end."""
    made, cleanups = [], []

    def make(students=2, instructors=1):
        tag = secrets.token_hex(2)
        base = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{tag}-", dir="/var/tmp"))
        os.chmod(base, 0o755)
        instructor_names = tuple(f"{PREFIX}{tag}i{n}" for n in range(1, instructors + 1))
        student_names = tuple(f"{PREFIX}{tag}s{n}" for n in range(1, students + 1))
        group = f"{PREFIX}{tag}-instructors"
        cleanups.append((base, (*instructor_names, *student_names), group))
        settings, layout = throwaway_layout(base, instructor_group=group)
        hub = Hub(layout, student_names, instructor_names)
        log_path = base / "jupyterhub.log"
        process.prepare(hub, str(REPO), settings, log=lambda line: None)
        # known passwords for the tests' logins (the generated ones stay in the state folder)
        passwords = {name: secrets.token_urlsafe(10) for name in (*instructor_names, *student_names)}
        for name, password in passwords.items():
            accounts.set_password(name, password)
        class_hub = ClassHub(layout, hub, settings, passwords, log_path)
        class_hub.start()
        made.append(class_hub)
        return class_hub

    try:
        yield make
    finally:
        for class_hub in made:
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):  # teardown goes on
                class_hub.stop()
        for base, names, group in cleanups:
            accounts.remove_accounts(names, groups=(group,))
            for name in names:  # a server killed from outside (fault tests) leaves its cgroup behind
                folder = memory.cgroup_folder(HubLayout(COURSE_ID, "/").cgroup_group, name)
                if folder and os.path.isdir(folder):
                    memory.remove_user_cgroup(os.path.join(folder, "cgroup.procs"))
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def class_hub(make_class_hub):
    """One instructor and two students on a running hub (a ClassHub)."""
    return make_class_hub()
