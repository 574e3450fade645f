"""The shared course environment: one virtualenv every hub server and kernel runs in.

Built from /usr/bin/python3, not from the Python that runs `course` (a pyenv or conda
Python under /root cannot be executed by other users: their servers would fail with
"Permission denied ... jupyterhub-singleuser"). It holds requirements.txt,
requirements-hub.txt and course_lib installed as a package (not editable: users must not
depend on the instructor's checkout). It is root-owned and read-only to everyone else.

Building takes minutes (PyTorch); it is reused while the requirements are unchanged, and
only course_lib is reinstalled when just the course's code changed.
"""

import fcntl
import hashlib
import os
import subprocess

SYSTEM_PYTHON = "/usr/bin/python3"
REQUIREMENT_FILES = ("requirements.txt", "requirements-hub.txt", "pyproject.toml")
REQUIREMENTS_STAMP = ".course-requirements.sha256"
PACKAGE_STAMP = ".course-lib.sha256"


def _digest(base, paths):
    """SHA-256 over the names (relative to `base`) and contents of `paths`."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(os.path.relpath(path, base).encode() + b"\0")
        with open(path, "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()


def requirements_digest(course_root):
    return _digest(course_root, [os.path.join(course_root, name) for name in REQUIREMENT_FILES])


def package_digest(course_root):
    """Digest of every file of course_lib (what a non-editable install copies)."""
    paths = []
    for folder, dirs, files in os.walk(os.path.join(course_root, "course_lib")):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        paths.extend(os.path.join(folder, f) for f in sorted(files) if not f.endswith(".pyc"))
    return _digest(course_root, paths)


def _stamp(venv, name):
    path = os.path.join(venv, name)
    if not os.path.isfile(path):
        return None
    with open(path) as handle:
        return handle.read().strip()


def _write_stamp(venv, name, value):
    with open(os.path.join(venv, name), "w") as handle:
        handle.write(value + "\n")


def _run(command, what):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise RuntimeError(f"{what} failed ({' '.join(command[:3])} ...):\n{tail}")


def _check_python(python):
    if not os.path.isfile(python):
        raise RuntimeError(f"{python} does not exist: the course environment is built from the system Python 3")
    if not os.stat(os.path.realpath(python)).st_mode & 0o001:
        raise RuntimeError(f"{python} cannot be executed by other users: the hub's servers run as each user")


def build_environment(course_root, venv, python=SYSTEM_PYTHON, log=print):
    """Create or update the course environment at `venv` from the course at `course_root`.

    Returns "reused", "course_lib reinstalled" or "built". Raises RuntimeError (with pip's
    last lines) when an install fails, or when `python` is missing or not executable by others.
    """
    _check_python(python)
    os.makedirs(os.path.dirname(venv), exist_ok=True)
    os.chmod(os.path.dirname(venv), 0o755)
    # one builder at a time (two test workers, or two `course hub` starts); the second then reuses
    with open(os.path.join(os.path.dirname(venv), ".venv.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build(course_root, venv, python, log)


def _build(course_root, venv, python, log):
    course_root = os.path.abspath(course_root)
    requirements, package = requirements_digest(course_root), package_digest(course_root)
    pip = [os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--quiet"]
    if _stamp(venv, REQUIREMENTS_STAMP) == requirements:
        if _stamp(venv, PACKAGE_STAMP) == package:
            return "reused"
        log(f"course environment {venv}: reinstalling course_lib")
        _run([*pip, "--no-deps", "--force-reinstall", course_root], "installing course_lib")
        _write_stamp(venv, PACKAGE_STAMP, package)
        _make_read_only(venv)
        return "course_lib reinstalled"
    log(f"course environment {venv}: installing (a few minutes the first time)")
    _run([python, "-m", "venv", "--clear", venv], f"creating the virtualenv {venv}")
    requirement_args = ["-r", os.path.join(course_root, "requirements.txt")]
    requirement_args += ["-r", os.path.join(course_root, "requirements-hub.txt")]
    _run([*pip, *requirement_args, course_root], "installing the course's requirements")
    _write_stamp(venv, REQUIREMENTS_STAMP, requirements)
    _write_stamp(venv, PACKAGE_STAMP, package)
    _make_read_only(venv)
    return "built"


def _make_read_only(venv):
    """Root-owned, readable and executable by all, writable by root only."""
    for folder, _, files in os.walk(venv):
        for name in [folder, *(os.path.join(folder, f) for f in files)]:
            if os.path.islink(name):
                continue
            os.chown(name, 0, 0)
            mode = os.stat(name).st_mode & 0o7777
            os.chmod(name, (mode | 0o444 | (0o111 if mode & 0o100 else 0)) & ~0o022)
