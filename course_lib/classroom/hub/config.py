"""The hub's configuration and secrets, written into the root-only state folder.

`write_hub_config(hub)` writes <state>/jupyterhub_config.py (0600). It names files, never
secrets: the cookie secret (jupyterhub_cookie_secret) and the admin API token
(admin-api-token, for the `course-admin` service: tests and scripts that drive the hub's
REST API as root) are generated once by `ensure_secret`, 0600, and read by the hub when it
loads the configuration.
"""

import os
import re
import secrets
from dataclasses import dataclass

from course_lib import ONE_THREAD_ENV
from course_lib.classroom.hub.layout import HubLayout

COOKIE_SECRET = "jupyterhub_cookie_secret"
ADMIN_TOKEN = "admin-api-token"
CONFIG_FILE = "jupyterhub_config.py"
LOCAL_CONFIG = "local_config.py"
ADMIN_SERVICE = "course-admin"
SECRET_MODE = 0o600
AUTHENTICATOR = "pam"
# JupyterHub's ByteSpecification: a number and a unit
MEMORY_LIMIT = re.compile(r"[0-9]+(\.[0-9]+)?[KMGT]")
SPAWNER = "course_lib.classroom.hub.spawner.CourseSpawner"


@dataclass(frozen=True)
class Hub:
    """What one class hub is: its layout, its people and its limits.

    students, instructors: account names (tuples of str).
    memory_limit: what each user's server and kernels may use together, as JupyterHub writes it ("2G").
    idle_timeout: seconds without activity after which the idle culler stops a server.
    cull_every: seconds between the culler's checks.
    """

    layout: HubLayout
    students: tuple
    instructors: tuple
    memory_limit: str = "2G"
    idle_timeout: int = 3600
    cull_every: int = 300

    def __post_init__(self):
        for name in ("idle_timeout", "cull_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a whole number of seconds above 0, got {value!r}")
        if not isinstance(self.memory_limit, str) or not MEMORY_LIMIT.fullmatch(self.memory_limit):
            raise ValueError(
                f"memory limit must be a number and a unit K, M, G or T (like 2G), got {self.memory_limit!r}"
            )


def ensure_secret(path, nbytes=32):
    """Create `path` (0600) holding a random hex secret unless it exists; fix its mode either way."""
    if not os.path.exists(path):
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_MODE)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(nbytes) + "\n")
    os.chmod(path, SECRET_MODE)
    return path


def hub_config_text(hub):
    """The text of jupyterhub_config.py for `hub` (a Hub). It holds no secret, only their files' paths."""
    layout = hub.layout
    venv_bin = layout.bin
    users = sorted({*hub.students, *hub.instructors})
    course = layout.course_id
    culler = [
        os.path.join(venv_bin, "python"),
        "-m",
        "jupyterhub_idle_culler",
        f"--timeout={hub.idle_timeout}",
        f"--cull-every={hub.cull_every}",
    ]
    environment = {"PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin", **ONE_THREAD_ENV}
    values = {
        "STATE": layout.state_dir,
        "ADMIN_TOKEN_FILE": layout.state_file(ADMIN_TOKEN),
    }
    lines = [
        f'"""JupyterHub configuration of the {course} class hub, written by `course hub` (rewritten at each start)."""',
        "",
        *(f"{name} = {value!r}" for name, value in values.items()),
        "",
        "import os",
        "",
        "c = get_config()",
        f"c.JupyterHub.bind_url = {layout.url!r}",
        f"c.JupyterHub.hub_bind_url = 'http://127.0.0.1:{layout.port + 2}'",
        f"c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{layout.port + 1}'",
        f"c.ConfigurableHTTPProxy.command = [{os.path.join(venv_bin, 'configurable-http-proxy')!r}]",
        "c.ConfigurableHTTPProxy.pid_file = f'{STATE}/jupyterhub-proxy.pid'",
        "c.JupyterHub.pid_file = f'{STATE}/jupyterhub.pid'",
        f"c.JupyterHub.cookie_secret_file = f'{{STATE}}/{COOKIE_SECRET}'",
        "c.JupyterHub.db_url = f'sqlite:///{STATE}/jupyterhub.sqlite'",
        "# the unix accounts' passwords (PAM); see the README for switching to OAuth or LTI",
        f"c.JupyterHub.authenticator_class = {AUTHENTICATOR!r}",
        "c.PAMAuthenticator.open_sessions = False",
        f"c.Authenticator.allowed_users = {set(users)!r}",
        f"c.Authenticator.admin_users = {set(hub.instructors)!r}",
        f"c.JupyterHub.spawner_class = {SPAWNER!r}",
        f"c.CourseSpawner.instructors = {list(hub.instructors)!r}",
        f"c.CourseSpawner.course_dir = {layout.course_dir!r}",
        f"c.CourseSpawner.student_folder = {course!r}",
        f"c.CourseSpawner.student_config = {layout.jupyter_config('student')!r}",
        f"c.CourseSpawner.instructor_config = {layout.jupyter_config('instructor')!r}",
        f"c.CourseSpawner.cgroup_group = {layout.cgroup_group!r}",
        f"c.Spawner.mem_limit = {hub.memory_limit!r}",
        f"c.Spawner.cmd = [{os.path.join(venv_bin, 'jupyterhub-singleuser')!r}]",
        "c.Spawner.default_url = '/lab'",
        "c.Spawner.ip = '127.0.0.1'",
        f"c.Spawner.environment = {environment!r}",
        "# groups nbgrader's JupyterHubAuthPlugin reads, should the hub serve more than one course",
        f"c.JupyterHub.load_groups = {{'nbgrader-{course}': {{'users': {list(hub.students)!r}}}, "
        f"'formgrade-{course}': {{'users': {list(hub.instructors)!r}}}}}",
        "with open(ADMIN_TOKEN_FILE) as handle:",
        "    admin_token = handle.read().strip()",
        "c.JupyterHub.services = [",
        f"    {{'name': {ADMIN_SERVICE!r}, 'api_token': admin_token}},",
        f"    {{'name': 'idle-culler', 'command': {culler!r}}},",
        "]",
        "c.JupyterHub.load_roles = [",
        f"    {{'name': {ADMIN_SERVICE!r}, 'services': [{ADMIN_SERVICE!r}],",
        "     'scopes': ['admin:users', 'admin:servers', 'tokens', 'list:users', 'read:users', 'admin:groups']},",
        "    {'name': 'idle-culler', 'services': ['idle-culler'],",
        "     'scopes': ['list:users', 'read:users:activity', 'read:servers', 'delete:servers']},",
        "]",
        "# the instructor's own settings (an OAuth or LTI authenticator, HTTPS, ...): kept across starts",
        f"if os.path.exists(f'{{STATE}}/{LOCAL_CONFIG}'):",
        f"    load_subconfig(f'{{STATE}}/{LOCAL_CONFIG}')",
        "",
    ]
    return "\n".join(lines)


def write_hub_config(hub):
    """Write the secrets (when missing) and jupyterhub_config.py into the state folder; returns the config's path."""
    layout = hub.layout
    ensure_secret(layout.state_file(COOKIE_SECRET))
    ensure_secret(layout.state_file(ADMIN_TOKEN))
    path = layout.state_file(CONFIG_FILE)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, SECRET_MODE)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(hub_config_text(hub))
    os.chmod(path, SECRET_MODE)
    return path


def read_admin_token(layout):
    """The admin API token (root only: the file is 0600 in a 0700 folder)."""
    with open(layout.state_file(ADMIN_TOKEN)) as handle:
        return handle.read().strip()
