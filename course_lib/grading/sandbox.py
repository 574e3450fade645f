"""The grader side of the sandbox: which protections this machine allows, and a kernel
manager that starts every student kernel inside them.

`Sandbox.detect` finds out what the machine can do, for the limits of a Settings
object; `SandboxKernelManager` is the jupyter_client kernel manager nbgrader's Execute
preprocessor uses (see `course_lib.grading.preprocessors.SandboxedExecute`): given no
sandbox (plain `nbgrader autograde`), it detects one itself, hiding the course's secrets. Each kernel gets a fresh
working folder holding a copy of the assignment's data files (never the notebooks,
which hold the hidden tests, never symlinks), talks to the grader over unix sockets
(ZMQ ipc transport: a kernel in its own network namespace cannot use TCP to reach
the grader), and is launched through `course_lib.grading.jail`.
"""

import contextlib
import dataclasses
import functools
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field
from typing import ClassVar

from jupyter_client.manager import AsyncKernelManager
from traitlets import Instance, Unicode, default

from course_lib.grading.settings import GIB, Settings

MIB = 1024**2

# The namespaces every kernel gets when the grader is root; --kill-child and
# setpriv's --pdeathsig make the kernel die with the worker that started it.
NAMESPACE_PREFIX = [
    "setpriv",
    "--pdeathsig",
    "KILL",
    "unshare",
    "--net",
    "--mount",
    "--pid",
    "--fork",
    "--kill-child",
    "--mount-proc",
    "--propagation",
    "private",
]
PRIVATE_DIRS = ("/tmp", "/var/tmp", "/dev/shm")


@functools.cache
def _interpreter_paths():
    """Folders a kernel's Python needs: its prefixes, standard library, site-packages and course_lib.

    Only these, not the grader's whole sys.path (which may hold the course folder
    itself, e.g. a test runner's root).
    """
    library = sysconfig.get_paths()
    paths = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    paths.update(library[key] for key in ("stdlib", "platstdlib", "purelib", "platlib"))
    paths.update(p for p in sys.path if os.path.isabs(p) and _inside(p, (sys.prefix, sys.base_prefix)))
    # the test cells import course_lib, which an editable install serves from the course folder
    paths.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return sorted(os.path.realpath(p) for p in paths if os.path.isdir(p))


def _inside(path, folders):
    """Whether `path` is one of `folders` or lies below one of them."""
    return any(path == folder or path.startswith(folder.rstrip("/") + "/") for folder in folders)


def _closed_ancestor(path):
    """The first folder above `path` that other users cannot enter (like /root), or None."""
    parts = path.strip("/").split("/")
    for i in range(1, len(parts)):
        folder = "/" + "/".join(parts[:i])
        if not os.stat(folder).st_mode & 0o001:
            return folder
    return None


def _git_dir(path):
    """The .git folder of the repository holding `path`, or None."""
    folder = os.path.abspath(path)
    while folder != os.path.dirname(folder):
        if os.path.isdir(os.path.join(folder, ".git")):
            return os.path.join(folder, ".git")
        folder = os.path.dirname(folder)
    return None


def secret_paths(settings, *more):
    """What a student kernel must not see: the course (unless it is /), its class folder, solutions,
    the exchange (other students' work), the repository's .git, and `more`."""
    candidates = (
        settings.course_root if settings.course_root != "/" else None,
        settings.class_root if settings.class_root != "/" else None,
        settings.source_dir,
        settings.exchange,
        _git_dir(settings.source_dir),
        *more,
    )
    return tuple(dict.fromkeys(str(p) for p in candidates if p))


def _unprivileged_user():
    """(uid, gid) of the 'nobody' account, or None when there is none."""
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


@dataclass(frozen=True)
class Sandbox:
    """What confines a student kernel.

    user: (uid, gid) the kernel runs as, or None to keep the grader's user.
    namespaces: whether the kernel gets its own network, mount and pid namespaces
        (no network, a read-only file system with `hidden` covered, no other processes).
    memory_bytes: address-space cap (RLIMIT_AS): an allocation beyond it raises MemoryError.
    cpu_seconds: CPU-time cap of the whole kernel (RLIMIT_CPU), or None.
    file_bytes: largest file the kernel may write (RLIMIT_FSIZE).
    hidden: absolute paths the kernel must not see (with namespaces only).
    """

    user: tuple | None
    namespaces: bool
    memory_bytes: int = field(default_factory=lambda: Settings().memory_bytes)
    cpu_seconds: int | None = None
    file_bytes: int = 256 * MIB
    private_dir_bytes: int = 64 * MIB
    hidden: tuple = field(default_factory=tuple)

    @classmethod
    def detect(cls, settings, hidden=()):
        """The strongest sandbox that can start Python here, with the limits of `settings` (a Settings).

        hidden: absolute paths the kernel must not see.
        """
        user = _unprivileged_user() if os.geteuid() == 0 else None
        for namespaces in (True, False) if user else ():
            candidate = cls(user=user, namespaces=namespaces).limited(settings, hidden)
            if candidate.starts_python():
                return candidate
        return cls(user=None, namespaces=False).limited(settings, hidden)

    def limited(self, settings, hidden=()):
        """This sandbox with the memory and CPU limits of `settings` and these hidden paths."""
        return dataclasses.replace(
            self, memory_bytes=settings.memory_bytes, cpu_seconds=settings.notebook_timeout, hidden=tuple(hidden)
        )

    def starts_python(self):
        """Whether a Python process starts inside this sandbox on this machine."""
        with tempfile.TemporaryDirectory(prefix="course-sandbox-probe-") as scratch:
            os.chmod(scratch, 0o711)
            workdir, runtime = os.path.join(scratch, "work"), os.path.join(scratch, "rt")
            for folder in (workdir, runtime):
                os.mkdir(folder)
                if self.user:
                    os.chown(folder, *self.user)
            spec = self.jail_spec(workdir, runtime, connection_file=None)
            command = [*self.launcher(spec), sys.executable, "-I", "-c", "import os; os.listdir('.')"]
            try:
                probe = subprocess.run(command, cwd=workdir, capture_output=True, timeout=60)
            except FileNotFoundError:  # no setpriv or unshare on this machine
                return False
            return probe.returncode == 0

    def protections(self):
        """(name, active, explanation) for each protection, for the run summary."""
        ns = self.namespaces
        no_ns = "not available (needs root, util-linux setpriv/unshare and namespaces)"
        shown = ", ".join(self.hidden) or "nothing"
        user = (
            f"runs as uid {self.user[0]}"
            if self.user
            else "keeps the grader's user (needs root, a 'nobody' account and a Python that user can reach)"
        )
        return [
            ("unprivileged user", self.user is not None, user),
            ("memory cap", True, f"{self.memory_bytes / GIB:.1f} GiB address space (beyond it: MemoryError)"),
            ("cpu time cap", self.cpu_seconds is not None, f"{self.cpu_seconds} s of CPU per kernel"),
            ("no network", ns, "own network namespace, loopback down" if ns else no_ns),
            ("hidden files", ns, f"cannot see {shown}" if ns else no_ns),
            ("read-only file system", ns, "writes only in its own folder and a private /tmp" if ns else no_ns),
            ("private process table", ns, "own pid namespace" if ns else no_ns),
        ]

    def jail_spec(self, workdir, runtime_dir, connection_file):
        """The JSON `course_lib.grading.jail` reads, for one kernel.

        workdir: the kernel's working folder; runtime_dir: its socket folder (both
        writable by the kernel); connection_file: the file the kernel must read, or None.
        """
        # The interpreter may live under a folder the student's user cannot enter
        # (a pyenv under /root): cover that folder and bind the interpreter back.
        # Likewise what lies under a private /tmp or a hidden folder (the virtualenv
        # and course_lib inside the hidden course folder).
        closed = {p: _closed_ancestor(p) for p in _interpreter_paths()}
        exposed = [p for p, ancestor in closed.items() if ancestor or _inside(p, (*PRIVATE_DIRS, *self.hidden))]
        covered = sorted({a for a in closed.values() if a})
        revealed = [h for h in self.hidden if any(_inside(h, [p]) for p in exposed)]
        if revealed:
            raise ValueError(f"hidden paths {revealed} lie inside the Python the kernels need: move them elsewhere")
        limits = {"RLIMIT_AS": self.memory_bytes, "RLIMIT_FSIZE": self.file_bytes}
        if self.cpu_seconds is not None:
            limits["RLIMIT_CPU"] = self.cpu_seconds
        return json.dumps(
            {
                "namespaces": self.namespaces,
                "user": self.user,
                "limits": limits,
                "covered": covered,
                "exposed": exposed,
                "hidden": sorted(self.hidden),
                "private_dirs": list(PRIVATE_DIRS),
                "private_dir_bytes": self.private_dir_bytes,
                "writable": [workdir, runtime_dir],
                "readable": [connection_file] if self.user and connection_file else [],
                "workdir": workdir,
            }
        )

    def launcher(self, spec):
        """The argv prefix that starts a kernel command inside this sandbox."""
        # -I: the jail runs as root in the kernel's folder; never import from there
        jail = [sys.executable, "-I", "-m", "course_lib.grading.jail", spec, "--"]
        return [*NAMESPACE_PREFIX, *jail] if self.namespaces else jail


@functools.cache
def _detected(settings):
    """The sandbox of a plain nbgrader command: detected once per process, the course's secrets hidden."""
    return Sandbox.detect(settings, hidden=secret_paths(settings))


def _copy_data_files(source, target, user):
    """Copy the assignment's data files (no notebooks, no symlinks) into a fresh folder."""

    def skipped(folder, names):
        return [n for n in names if n.endswith(".ipynb") or os.path.islink(os.path.join(folder, n))]

    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, ignore=skipped)
    if user is not None:
        for folder, dirs, files in os.walk(target):
            for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
                os.chown(name, *user)


class SandboxKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernels run inside `sandbox`, in `workspace`."""

    # process groups of the kernels this process started, for `kill_all`
    _started: ClassVar[set] = set()
    _pgid = None  # this kernel's process group, once started

    @classmethod
    def kill_all(cls):
        """Kill every kernel this process started (the whole-notebook time limit)."""
        while cls._started:
            with contextlib.suppress(ProcessLookupError):  # that kernel had already ended
                os.killpg(cls._started.pop(), signal.SIGKILL)

    settings = Instance(Settings, args=(), help="The course's settings (limits, secret folders).").tag(config=True)
    sandbox = Instance(Sandbox, help="The protections for every kernel.").tag(config=True)
    workspace = Unicode(help="Folder for this kernel's working copy and sockets (keep the path short).").tag(
        config=True
    )
    _own_workspace = False  # created here (no workspace configured): removed with the kernel

    @default("sandbox")
    def _detect_sandbox(self):
        return _detected(self.settings)

    @default("workspace")
    def _fresh_workspace(self):
        folder = tempfile.mkdtemp(prefix="course-kernel-")
        os.chmod(folder, 0o711)  # an unprivileged kernel passes through to its folders
        self._own_workspace = True
        return folder

    async def start_kernel(self, **kw):
        """Start the kernel in a fresh working copy of `cwd`, over ipc sockets."""
        workdir = os.path.join(self.workspace, "work")
        runtime = os.path.join(self.workspace, "rt")
        _copy_data_files(kw.get("cwd") or os.getcwd(), workdir, self.sandbox.user)
        os.makedirs(runtime, exist_ok=True)
        if self.sandbox.user is not None:
            os.chown(runtime, *self.sandbox.user)
        self.transport = "ipc"
        self.ip = os.path.join(runtime, "k")
        self.connection_file = os.path.join(runtime, "kernel.json")
        self._jail_spec = self.sandbox.jail_spec(workdir, runtime, self.connection_file)
        kw["cwd"] = workdir
        await super().start_kernel(**kw)
        self._pgid = self.provisioner.pgid
        self._started.add(self._pgid)

    async def cleanup_resources(self, restart=False):
        """Forget the kernel's process group (it may be reused), then clean up as usual."""
        self._started.discard(self._pgid)
        await super().cleanup_resources(restart=restart)
        if self._own_workspace and not restart:
            shutil.rmtree(self.workspace, ignore_errors=True)

    def format_kernel_cmd(self, extra_arguments=None):
        """The kernel's own command, prefixed by the sandbox launcher."""
        return [*self.sandbox.launcher(self._jail_spec), *super().format_kernel_cmd(extra_arguments)]
