"""The settings of grading and of the class loop: one frozen object, each default stated once.

`Settings` is built once (by the `course` command, from the course's `course.toml`
and the command's options) and passed whole: to the grading pipeline, through JSON to
its worker processes (`to_json` / `from_json`), to the sandbox, to nbgrader's
configuration (`course_lib.grading.config`) and to the class-loop commands
(`course_lib.classroom`). It imports nothing heavy, so `course --help` can show the
defaults.

course.toml (at the course root; every key optional, a missing file means all defaults)::

    [course]
    exchange_root = "/srv/nbgrader/exchange"   # any field of Settings except due_dates
    late_penalty_per_day = 0.1

    [due]                                      # assignment = date and time with a time zone
    a1_softmax = 2026-12-08T23:59:00Z
"""

import dataclasses
import datetime
import json
import os
import re
import sys
from dataclasses import dataclass, field, fields

from course_lib.checks import check_count

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

COURSE_ID = "tnn101"  # the nbgrader course id of the class loop (exchange, hub groups, manifests)
COURSE_FILE = "course.toml"
TABLES = ("course", "due")  # the tables course.toml may have
GIB = 1024**3
# a student id (and so a folder name): no "/", no "..", no spaces; nbgrader splits on "+"
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def check_student_id(student_id, where):
    """Raise ValueError naming `where` unless `student_id` is a valid student id."""
    if not isinstance(student_id, str) or not STUDENT_ID.fullmatch(student_id) or ".." in student_id:
        raise ValueError(
            f"{where}: student id {student_id!r} is not valid (expected 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit, without '..')"
        )


def parse_due_date(value, where):
    """`value` (an aware datetime or ISO 8601 text with a time zone) as a UTC datetime; ValueError naming `where`."""
    when = value
    if isinstance(value, str):
        try:
            when = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            when = None
    if not isinstance(when, datetime.datetime) or when.tzinfo is None:
        raise ValueError(
            f"{where}: due date {value!r} is not a date and time with a time zone "
            "(expected ISO 8601, for example 2026-12-08T23:59:00Z)"
        )
    return when.astimezone(datetime.timezone.utc)


def utc_text(when):
    """How the class loop writes a time (submitted_at, manifests, grade sheets): ISO 8601 UTC, seconds, a Z.

    when: an aware datetime, or a naive one in UTC (as nbgrader keeps them).
    """
    if when.tzinfo is not None:
        when = when.astimezone(datetime.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Settings:
    """Everything grading and the class loop can be told; relative folders are relative to `course_root`.

    course_id: the nbgrader course id (exchange folder, hub groups, submission manifests).
    course_root: the instructor's course (this repository): holds course.toml and the source folder.
    class_dir: nbgrader's course folder, where the class's state lives (gradebook.db, submitted/,
        autograded/, feedback/, archive/, grades/); "" means course_root.
    exchange_root: nbgrader's exchange folder (Exchange.root), shared by instructor and students.
    source_directory, release_directory: the nbgrader source (solutions) and release folders.
    cell_timeout, notebook_timeout: seconds one cell, and one whole notebook, may run at grading.
    memory_gib: memory (address space) cap of each student kernel.
    max_output_chars: characters kept from the outputs of one cell.
    late_penalty_per_day: fraction of the score lost for each day or part of a day late (at most all of it).
    due_dates: ((assignment, due date as ISO 8601 UTC), ...), from course.toml's [due] table.
    """

    course_id: str = COURSE_ID
    course_root: str = "."
    class_dir: str = ""
    exchange_root: str = "/srv/nbgrader/exchange"
    source_directory: str = "solutions"
    release_directory: str = "assignments"
    cell_timeout: int = 30
    notebook_timeout: int = 600
    memory_gib: float = 2.0
    max_output_chars: int = 20_000
    late_penalty_per_day: float = 0.1
    due_dates: tuple = field(default_factory=tuple)

    def __post_init__(self):
        for name in ("cell_timeout", "notebook_timeout", "max_output_chars"):
            object.__setattr__(self, name, check_count(name, getattr(self, name)))
        if not isinstance(self.memory_gib, (int, float)) or self.memory_gib <= 0:
            raise ValueError(f"memory_gib must be a number above 0, got {self.memory_gib!r}")
        penalty = self.late_penalty_per_day
        if not isinstance(penalty, (int, float)) or isinstance(penalty, bool) or not 0 <= penalty <= 1:
            raise ValueError(f"late_penalty_per_day must be a fraction from 0 to 1, got {penalty!r}")
        if not isinstance(self.course_id, str) or not STUDENT_ID.fullmatch(self.course_id):
            raise ValueError(f"course_id must be letters, digits, '.', '_' or '-', got {self.course_id!r}")
        # absolute paths, so that the object means the same in every process and folder
        object.__setattr__(self, "course_root", os.path.abspath(self.course_root))
        due = tuple((a, parse_due_date(d, f"due date of {a}").isoformat()) for a, d in dict(self.due_dates).items())
        object.__setattr__(self, "due_dates", tuple(sorted(due)))

    # -- reading and passing --------------------------------------------------------------

    @classmethod
    def load(cls, course_root=".", **overrides):
        """The settings of the course at `course_root`: course.toml over the defaults, then `overrides`.

        Overrides whose value is None are ignored (options the user left out).
        Raises ValueError naming course.toml and the key for a bad file or value.
        """
        path = os.path.join(course_root, COURSE_FILE)
        values = {}
        if os.path.exists(path):
            try:
                with open(path, "rb") as handle:
                    document = tomllib.load(handle)
            except tomllib.TOMLDecodeError as error:
                raise ValueError(f"{path} is not valid TOML: {error}") from error
            known = sorted({f.name for f in fields(cls)} - {"due_dates", "course_root"})
            course = document.get("course", {})
            if not isinstance(course, dict):
                raise ValueError(f"{path}: [course] must be a table of options (known: {', '.join(known)})")
            if unknown := sorted(set(document) - set(TABLES)):
                raise ValueError(
                    f"{path}: unknown table(s) {', '.join(unknown)} (known: {', '.join(f'[{t}]' for t in TABLES)})"
                )
            if unknown := sorted(set(course) - set(known)):
                raise ValueError(
                    f"{path}: unknown option(s) {', '.join(unknown)} in [course] (known: {', '.join(known)})"
                )
            values.update(course)
            values["due_dates"] = tuple(
                (a, parse_due_date(d, f"{path}, [due] {a}")) for a, d in document.get("due", {}).items()
            )
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(course_root=course_root, **values)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path}: {error}") from error

    @classmethod
    def of_file(cls, path):
        """The settings of the course holding the file at `path`: course.toml in its folder or the nearest above.

        A file in no course folder (the student edition carries no course.toml) gets the defaults.
        Raises ValueError as `load` does for a bad course.toml.
        """
        folder = os.path.dirname(os.path.abspath(path))
        while not os.path.isfile(os.path.join(folder, COURSE_FILE)):
            if os.path.dirname(folder) == folder:
                return cls()
            folder = os.path.dirname(folder)
        return cls.load(folder)

    def to_json(self):
        """The whole object as JSON text (for a worker process)."""
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text):
        """The object `to_json` wrote."""
        values = json.loads(text)
        values["due_dates"] = tuple(tuple(pair) for pair in values["due_dates"])
        return cls(**values)

    # -- derived values -------------------------------------------------------------------

    def _absolute(self, path):
        return os.path.abspath(os.path.join(self.course_root, os.path.expanduser(path)))

    @property
    def source_dir(self):
        return self._absolute(self.source_directory)

    @property
    def release_dir(self):
        return self._absolute(self.release_directory)

    @property
    def class_root(self):
        """nbgrader's course folder (absolute)."""
        return self._absolute(self.class_dir or self.course_root)

    @property
    def exchange(self):
        return self._absolute(self.exchange_root)

    @property
    def gradebook_path(self):
        return os.path.join(self.class_root, "gradebook.db")

    @property
    def memory_bytes(self):
        return int(self.memory_gib * GIB)

    def due_date(self, assignment):
        """The assignment's due date (aware UTC datetime), or None."""
        due = dict(self.due_dates).get(assignment)
        return None if due is None else datetime.datetime.fromisoformat(due)
