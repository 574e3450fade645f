"""Where a class hub keeps everything, and the folders `course hub` prepares before it starts.

For course id C (course.toml; default tnn101), stated here once:

    /opt/C-hub/venv/              the shared course environment (root-owned, read-only to users)
    /opt/C-hub/jupyter/student/   Jupyter configuration of students' servers (no instructor tools)
    /opt/C-hub/jupyter/instructor/  ... of instructors' servers (Formgrader, Create Assignment)
    /opt/C-hub/student-edition/   the student edition each new student's home gets a copy of
                                  (these two: the config folder, --config-dir; one per running hub)
    /var/lib/C-hub/               the hub's state, root only (0700; files 0600): configuration,
                                  cookie secret, admin API token, user database, passwords of
                                  accounts it created, logs
    /srv/C-hub/course/            the instructor's course folder (solutions/, course.toml, the
                                  gradebook, submitted/, feedback/): group C-instructors only (2770)
    ~student/C/                   the student's own copy of the student edition (in a 0700 home)
    the exchange                  course.toml's exchange_root (or --exchange), 1777

The hub listens on 127.0.0.1:PORT (the proxy); the proxy's API takes PORT + 1 and the hub's
own API PORT + 2, both on 127.0.0.1.
"""

import os
import pwd
import shutil
import tempfile
from dataclasses import dataclass

from course_lib.classroom.edition import build_student_edition
from course_lib.grading.settings import COURSE_FILE

COURSE_COPIED = ("solutions", "assignments", "notebooks", COURSE_FILE, "nbgrader_config.py")
EXCHANGE_MODE = 0o1777
COURSE_DIR_MODE = 0o2770
STATE_MODE = 0o700


@dataclass(frozen=True)
class HubLayout:
    """The folders, ports and instructors' unix group of one course's hub.

    Empty fields take the defaults of the module docstring, from the course id. install_dir
    holds the course environment (shared by every hub of the course on this machine);
    config_dir (default: install_dir) the Jupyter configuration and the student edition,
    which name this hub's exchange: two hubs running at once need two config folders.
    """

    course_id: str
    exchange: str
    port: int = 8000
    install_dir: str = ""
    config_dir: str = ""
    state_dir: str = ""
    course_dir: str = ""
    instructor_group: str = ""

    def __post_init__(self):
        object.__setattr__(self, "instructor_group", self.instructor_group or f"{self.course_id}-instructors")
        defaults = {
            "install_dir": f"/opt/{self.course_id}-hub",
            "state_dir": f"/var/lib/{self.course_id}-hub",
            "course_dir": f"/srv/{self.course_id}-hub/course",
        }
        defaults["config_dir"] = self.config_dir or defaults["install_dir"]
        for name, default in defaults.items():
            object.__setattr__(self, name, os.path.abspath(getattr(self, name) or default))
        if not isinstance(self.port, int) or not 1 <= self.port <= 65533:
            raise ValueError(f"--port must be a port number from 1 to 65533 (it uses 3 ports), got {self.port!r}")

    @property
    def venv(self):
        return os.path.join(self.install_dir, "venv")

    @property
    def bin(self):
        return os.path.join(self.venv, "bin")

    def jupyter_config(self, role):
        """The Jupyter configuration folder of `role` ("student" or "instructor")."""
        return os.path.join(self.config_dir, "jupyter", role)

    @property
    def edition(self):
        return os.path.join(self.config_dir, "student-edition")

    @property
    def cgroup_group(self):
        """The parent of the users' memory cgroups (course_lib.classroom.hub.memory)."""
        return f"{self.course_id}-hub"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def student_folder(self, home):
        """A student's copy of the student edition, in their home `home`."""
        return os.path.join(home, self.course_id)

    def state_file(self, name):
        return os.path.join(self.state_dir, name)


def prepare_state_dir(layout):
    os.makedirs(layout.state_dir, exist_ok=True)
    os.chmod(layout.state_dir, STATE_MODE)


def prepare_exchange(layout):
    """The exchange folder, created when missing, writable by everyone with the sticky bit (nbgrader's need)."""
    os.makedirs(layout.exchange, exist_ok=True)
    os.chmod(layout.exchange, EXCHANGE_MODE)


def _chown_tree(path, uid, gid):
    os.chown(path, uid, gid)
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)


def _course_toml(text, exchange):
    """course.toml's `text` with [course] exchange_root set to `exchange` (other keys kept)."""
    lines = [line for line in text.splitlines() if not line.strip().startswith("exchange_root")]
    setting = f"exchange_root = {exchange!r}"
    if "[course]" in (line.strip() for line in lines):
        at = [line.strip() for line in lines].index("[course]") + 1
        lines.insert(at, setting)
    else:
        lines = ["[course]", setting, "", *lines]
    return "\n".join(lines) + "\n"


def prepare_course_dir(layout, course_root, owner, gid):
    """Copy the course at `course_root` into layout.course_dir once (an existing one is kept as it is:
    it holds the class's gradebook and submissions), owned by `owner` and the instructors' group `gid`.

    Returns whether it was created now.
    """
    parent = os.path.dirname(layout.course_dir)
    os.makedirs(parent, exist_ok=True)
    os.chmod(parent, 0o755)
    created = not os.path.exists(os.path.join(layout.course_dir, COURSE_FILE))
    if created:
        partial = tempfile.mkdtemp(prefix=".course-", dir=parent)
        for name in COURSE_COPIED:
            source, target = os.path.join(course_root, name), os.path.join(partial, name)
            if os.path.isdir(source):
                shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
            elif name == COURSE_FILE:
                with open(source) as handle, open(target, "w") as out:
                    out.write(_course_toml(handle.read(), layout.exchange))
            else:
                shutil.copy(source, target)
        shutil.rmtree(layout.course_dir, ignore_errors=True)
        os.replace(partial, layout.course_dir)
        _chown_tree(layout.course_dir, pwd.getpwnam(owner).pw_uid, gid)
    os.chown(layout.course_dir, pwd.getpwnam(owner).pw_uid, gid)
    os.chmod(layout.course_dir, COURSE_DIR_MODE)
    return created


def prepare_edition(layout, course_root, settings):
    """(Re)build the student edition under layout.edition from the course (root-owned, readable by all)."""
    os.makedirs(layout.config_dir, exist_ok=True)
    os.chmod(layout.config_dir, 0o755)
    partial = layout.edition + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    build_student_edition(course_root, partial, settings=settings)
    shutil.rmtree(layout.edition, ignore_errors=True)
    os.replace(partial, layout.edition)


def give_edition(layout, student):
    """Copy the student edition into the student's home once, owned by them; returns whether it was copied.

    An existing copy is the student's work and is never touched.
    """
    entry = pwd.getpwnam(student)
    target = layout.student_folder(entry.pw_dir)
    if os.path.exists(target):
        return False
    shutil.copytree(layout.edition, target, symlinks=False)
    _chown_tree(target, entry.pw_uid, entry.pw_gid)
    return True
