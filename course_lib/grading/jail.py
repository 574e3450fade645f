"""The kernel side of the sandbox: confine this process, then exec a student's kernel.

Run by the grader as::

    [setpriv --pdeathsig KILL unshare --net --mount --pid --fork ...] \
        python -m course_lib.grading.jail SPEC_JSON -- KERNEL_ARGV...

SPEC_JSON is written by `course_lib.grading.sandbox.Sandbox.jail_spec`. When the
grader runs as root the `unshare` prefix gives this process new network, mount and
pid namespaces; here, still root, it makes every existing mount read-only, mounts
empty private file systems over the paths the student must not see (solutions, other
students, gradebooks) and over /tmp, /var/tmp and /dev/shm, binds back only the
kernel's working folder and socket folder, then forks the kernel as an unprivileged
user with resource limits. This process stays as the namespace's init: it reaps
orphans and exits with the kernel's status, which takes the whole namespace down.
Without the namespaces it only applies the limits and the user switch, then execs.
"""

import ctypes
import json
import os
import resource
import signal
import sys

from course_lib import ONE_THREAD_ENV

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38

# Variables the kernel keeps from the grader's environment; everything else (tokens,
# grader paths, JPY_PARENT_PID which names a pid outside the namespace) is dropped.
KEPT_ENV = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TERM", "TZ", "PYTHONHASHSEED")

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _encode(text):
    return None if text is None else text.encode()


def _mount(source, target, fstype, flags, data=None):
    _check(_libc.mount(_encode(source), _encode(target), _encode(fstype), flags, _encode(data)), f"mount {target}")


def _mount_points():
    """Mount points of this namespace with their options, parents before children."""
    points = []
    with open("/proc/self/mountinfo") as table:
        for line in table:
            fields = line.split()
            # field 5 is the mount point (octal escapes for spaces), field 6 its options
            points.append((fields[4].encode().decode("unicode_escape"), fields[5].split(",")))
    return points


def _make_everything_read_only():
    kept = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC}
    for point, options in _mount_points():
        if "ro" in options or point == "/proc" or point.startswith("/proc/"):
            continue
        flags = sum(flag for name, flag in kept.items() if name in options)
        _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags)


def _bind(handle, path, flags):
    os.makedirs(path, exist_ok=True)
    _mount(f"/proc/self/fd/{handle}", path, None, MS_BIND)
    # a bind copies the (now read-only) flags of its source: set them explicitly
    _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | flags)
    os.close(handle)


def _cover(path):
    """An empty root-owned file system over `path`; root can still create mount points in it."""
    if os.path.isdir(path):
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=1m")


def _open_folders(paths):
    """(handle, path) for each folder: handles keep a folder reachable after a mount covers it."""
    return [(os.open(p, os.O_PATH | os.O_DIRECTORY), p) for p in paths]


def _confine_file_system(spec):
    """Read-only world, empty private scratch space, hidden paths, own folders bound back."""
    # Keep handles on the folders the kernel needs before anything covers them.
    writable, exposed = _open_folders(spec["writable"]), _open_folders(spec["exposed"])
    _make_everything_read_only()
    for path in spec["private_dirs"]:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={spec['private_dir_bytes']}")
    # Folders the student's user cannot enter (like /root) and the hidden ones are
    # covered, then what the interpreter needs from them is bound back read-only (the
    # grader checked that no hidden path lies inside it).
    for path in spec["covered"] + spec["hidden"]:
        _cover(path)
    for handle, path in exposed:
        _bind(handle, path, MS_RDONLY)
    for handle, path in writable:
        _bind(handle, path, 0)


def _kernel_environment(spec):
    env = {name: os.environ[name] for name in KEPT_ENV if name in os.environ}
    home = spec["workdir"]
    env.update(
        HOME=home,
        TMPDIR=home,
        IPYTHONDIR=os.path.join(home, ".ipython"),
        MPLCONFIGDIR=os.path.join(home, ".matplotlib"),
        # one BLAS thread per kernel: --jobs N kernels share the machine's cores
        **ONE_THREAD_ENV,
    )
    return env


def _become_student(spec):
    """Resource limits and the user switch; irreversible (no_new_privs)."""
    limits = spec["limits"]
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for name, value in limits.items():
        which = getattr(resource, name)
        resource.setrlimit(which, (value, value))
    if spec["user"] is not None:
        uid, gid = spec["user"]
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    os.chdir(spec["workdir"])


def _exec_kernel(spec, argv):
    _become_student(spec)
    os.execve(argv[0], argv, _kernel_environment(spec))


def _run_as_init(spec, argv):
    """PID 1 of the namespace: fork the kernel, reap everything, exit with its status."""
    # The grader interrupts a cell by signalling the whole process group: that is
    # meant for the kernel, not for this init (whose death would end the kernel).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    kernel = os.fork()
    if kernel == 0:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _exec_kernel(spec, argv)
    while True:
        pid, status = os.wait()
        if pid == kernel:
            sys.exit(os.waitstatus_to_exitcode(status) % 256)


def main(argv):
    spec = json.loads(argv[1])
    kernel_argv = argv[argv.index("--") + 1 :]
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PDEATHSIG)")
    for path in spec["readable"]:
        os.chown(path, *spec["user"])
    if spec["namespaces"]:
        _confine_file_system(spec)
        _run_as_init(spec, kernel_argv)
    else:
        _exec_kernel(spec, kernel_argv)


if __name__ == "__main__":
    main(sys.argv)
