"""Writing the class's files: private, and whole or not at all.

The grading workspace (submitted/, autograded/, feedback/, gradebook.db, grades/,
similarity.csv, logs/, archive/) holds students' work and scores: what the `course`
commands create there is created under `private_umask` (owner only), and
`exposure_warnings` names a class folder or gradebook that every user of the machine
can read (one created by hand, or by an older version).
"""

import contextlib
import os
import stat

PRIVATE_UMASK = 0o077


@contextlib.contextmanager
def private_umask():
    """While the block runs, files and folders this process creates are readable by their owner only.

    The umask is the whole process's: use it where no other thread creates files that
    others must read (the grading workers are separate processes, started outside it).
    """
    previous = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def make_private(folder):
    """Take the group's and others' permissions off `folder` and everything in it (files copied with their modes)."""
    if not os.path.isdir(folder):
        return
    for top, dirs, files in os.walk(folder):
        for path in [top, *(os.path.join(top, name) for name in dirs + files)]:
            if not os.path.islink(path):
                os.chmod(path, stat.S_IMODE(os.lstat(path).st_mode) & ~PRIVATE_UMASK)


@contextlib.contextmanager
def atomic_path(path):
    """A path to write the file `path` at; when the block ends without an error it becomes `path` at once.

    Readers never see half a file: the block writes <path>.partial, which then replaces
    `path`; after an error the partial file is removed and `path` is left as it was.
    """
    partial = f"{path}.partial"
    try:
        yield partial
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(partial)
        raise
    os.replace(partial, path)


def exposure_warnings(*paths):
    """A warning line for each existing path in `paths` that every user of the machine can read."""
    lines = []
    for path in paths:
        if os.path.exists(path) and os.stat(path).st_mode & stat.S_IROTH:
            mode = stat.S_IMODE(os.stat(path).st_mode)
            lines.append(
                f"warning: {path} is readable by every user of this machine (mode {mode:o}); it holds the class's "
                f"submissions and grades: chmod o-rwx {path}"
            )
    return lines
