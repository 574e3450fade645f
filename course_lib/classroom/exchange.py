"""nbgrader's exchange folder: the checks it needs, and nbgrader's API on the course.

nbgrader wants the exchange root to exist and be writable by everyone (it releases into
<root>/<course_id>/outbound, students submit into <root>/<course_id>/inbound, which
only the instructor can list). It never creates it here: a missing or wrongly set folder
is an error that says the one command that fixes it. The sticky bit (1777) is advised:
without it any student could rename the course's folder and put their own in its place.
"""

import os
import stat

from course_lib.grading.config import api_config, put_python_on_path


def course_nbgrader_config(folder):
    """What the nbgrader_config.py in `folder` sets (a traitlets Config; empty when there is none).

    The one reader of a course's (or a student edition's) nbgrader configuration file.
    """
    from traitlets.config import Config
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    try:
        return PyFileConfigLoader("nbgrader_config.py", path=folder).load_config()
    except ConfigFileNotFound:
        return Config()


class ExchangeError(ValueError):
    """The exchange folder cannot be used; the message says why and what to do."""


def check_exchange(root):
    """Raise ExchangeError unless `root` is a folder everyone may write to (mode 0777 or 1777)."""
    if not os.path.exists(root):
        raise ExchangeError(
            f"the exchange folder {root} does not exist; create it once with "
            f"`sudo mkdir -p {root} && sudo chmod 1777 {root}`, or name another with --exchange DIR"
        )
    if not os.path.isdir(root):
        raise ExchangeError(f"the exchange folder {root} is not a folder")
    mode = stat.S_IMODE(os.stat(root).st_mode)
    if mode & 0o777 != 0o777:
        raise ExchangeError(
            f"the exchange folder {root} has permissions {mode:04o}; nbgrader's exchange needs it writable "
            f"by everyone (students submit into it): run `sudo chmod 1777 {root}`"
        )


def course_api(settings, **traits):
    """nbgrader's NbGraderAPI on the class folder of `settings` (course id, exchange, gradebook).

    traits: extra configuration, as {"Section.name": value}.
    """
    from nbgrader.apps import NbGraderAPI

    put_python_on_path()  # a new gradebook asks the `alembic` command for its version
    config = api_config(settings)
    for key, value in traits.items():
        section, name = key.split(".")
        setattr(config[section], name, value)
    os.makedirs(settings.class_root, exist_ok=True)
    return NbGraderAPI(config=config)


def outcome_error(outcome):
    """The useful line of a failed nbgrader API call's outcome."""
    text = (outcome.get("error") or "") + "\n" + (outcome.get("log") or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    chosen = [line for line in lines if "[" in line and ("CRITICAL" in line or "ERROR" in line)]
    return (chosen or lines or ["nbgrader gave no reason"])[-1]
