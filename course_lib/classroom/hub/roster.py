"""The class list: a roster CSV (students) and the instructors' names, checked as unix account names.

The roster is what an LMS exports: a CSV with a header row holding at least `student_id`;
`name` and `email` (or anything else) may follow and are kept for the record only. Each id
becomes a unix account and nbgrader's student id, so it must be a valid name for both.
"""

import csv
import re
from dataclasses import dataclass

# useradd's default NAME_REGEX, at most 32 characters; also a valid nbgrader student id
ACCOUNT_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")


@dataclass(frozen=True)
class Student:
    """One roster row: student_id (the unix account), name and email ("" when the roster has none)."""

    student_id: str
    name: str = ""
    email: str = ""


def check_account_name(name, where):
    """Raise ValueError naming `where` unless `name` can be a unix account and an nbgrader student id."""
    if not isinstance(name, str) or not ACCOUNT_NAME.fullmatch(name):
        raise ValueError(
            f"{where}: {name!r} is not a valid account name (expected 1 to 32 lowercase letters, digits, '_' or "
            "'-', starting with a letter)"
        )


def read_roster(path):
    """The students of the roster CSV at `path`, in file order; a tuple of Student.

    Raises ValueError naming the file and line for a missing `student_id` column, an empty
    or invalid id, a repeated id, or a roster without students; FileNotFoundError when
    `path` does not exist.
    """
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = [c.strip() for c in reader.fieldnames or []]
        if "student_id" not in columns:
            raise ValueError(f"roster {path}: no 'student_id' column in the header (found: {', '.join(columns)})")
        reader.fieldnames = columns
        students, seen = [], {}
        for row in reader:
            line = reader.line_num
            student_id = (row.get("student_id") or "").strip()
            check_account_name(student_id, f"roster {path}, line {line}")
            if student_id in seen:
                first = seen[student_id]
                raise ValueError(f"roster {path}, line {line}: student_id {student_id!r} is already on line {first}")
            seen[student_id] = line
            students.append(Student(student_id, (row.get("name") or "").strip(), (row.get("email") or "").strip()))
    if not students:
        raise ValueError(f"roster {path}: no students (expected one row per student under the header)")
    return tuple(students)


def parse_instructors(text, students):
    """The instructors' account names from `text` ("a,b" or "a b"), checked against the `students` (Student tuple).

    Raises ValueError when there is none, a name is invalid or repeated, or one is also a student.
    """
    names = [n for n in re.split(r"[,\s]+", text or "") if n]
    if not names:
        raise ValueError("--instructors: name at least one instructor account (for example --instructors prof)")
    for name in names:
        check_account_name(name, "--instructors")
    if len(set(names)) != len(names):
        raise ValueError(f"--instructors: a name is given twice in {text!r}")
    both = sorted(set(names) & {s.student_id for s in students})
    if both:
        names_both = ", ".join(both)
        raise ValueError(f"--instructors: {names_both} also in the roster (an account is a student or an instructor)")
    return tuple(names)
