"""The submission zips of `course submit`, as an LMS hands them back: read, check, explain.

A submission zip (CONTRACTS.md) holds ``manifest.json`` and ``<assignment>/<notebook>.ipynb``
(and data files beside them). An instructor may have a folder of them, one of them, or an
LMS bulk download: a zip of such zips whose names the LMS prefixed (``alice_123_alice-a1.zip``).
`read_submissions` finds every submission zip in any of those, checks each one and returns
the good ones and, for every other file, why it cannot be used. Nothing is written here.

What the instructor is handed is untrusted: zips are opened from their files and read
member by member within size limits (a zip bomb or a huge member is reported, never
unpacked); a member name that would leave its folder (``..``, an absolute path: zip slip)
rejects that zip, naming it and the member, and the rest of the class is still read. The
student is the manifest's student id, checked against what the zip's file name (or its
LMS folder) says; the time is the manifest's submitted_at when it is a valid time no later
than the download, else the time the file was downloaded, and the report says so.
"""

import datetime
import hashlib
import io
import json
import os
import posixpath
import re
import zipfile
from dataclasses import dataclass, field

from course_lib.grading.settings import check_student_id, parse_due_date, utc_text

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
MAX_SUBMISSION_BYTES = 50 * 1024**2  # a submission is notebooks and small data files (unpacked)
MAX_MEMBERS = 1000  # files in one submission zip
# an LMS bulk download's inner zip is read into memory: a submission zip is never bigger than its content
MAX_INNER_ZIP_BYTES = MAX_SUBMISSION_BYTES + 1024**2
CLOCK_SKEW = datetime.timedelta(minutes=5)  # a student's clock may run this much ahead of the LMS's


@dataclass
class ZipSubmission:
    """One usable submission: who, when, and its files ({path below the assignment folder: bytes})."""

    name: str
    student_id: str
    submitted_at: str
    files: dict = field(repr=False)
    notes: list = field(default_factory=list)


@dataclass
class Rejected:
    """A file that could not be used, and why."""

    name: str
    reason: str


def _zip_candidates(path):
    """(display name, file path, download time) of every file to consider: the files of a folder, or the file."""

    def downloaded(full):
        return datetime.datetime.fromtimestamp(os.path.getmtime(full), datetime.timezone.utc)

    if os.path.isdir(path):
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if not name.startswith("."):
                    full = os.path.join(folder, name)
                    yield os.path.relpath(full, path), full, downloaded(full)
    elif os.path.isfile(path):
        yield os.path.basename(path), path, downloaded(path)
    else:
        raise FileNotFoundError(f"--from-zips {path}: no such file or folder")


def _read_member(archive, info, limit):
    """The bytes of member `info`, or ValueError when it unpacks to more than `limit` bytes."""
    if info.file_size > limit:
        raise ValueError(f"{info.filename} unpacks to {info.file_size / 1024**2:.0f} MiB, more than {_mib(limit)}")
    with archive.open(info) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{info.filename} unpacks to more than {_mib(limit)}")
    return data


def _mib(size):
    return f"{size / 1024**2:.0f} MiB"


def _safe_member(name):
    """Whether a zip member name stays inside the folder it is unpacked into."""
    normal = posixpath.normpath(name)
    return not (name.startswith("/") or normal.startswith("..") or "\\" in name or ":" in name)


def _check_members(archive):
    """The zip's file members, or ValueError naming an unsafe member name or a zip too big to unpack."""
    members = [m for m in archive.infolist() if not m.is_dir()]
    bad = [m.filename for m in archive.infolist() if not _safe_member(m.filename)]
    if bad:
        raise ValueError(f"has member names that leave its folder (zip slip): {', '.join(bad)}")
    if len(members) > MAX_MEMBERS:
        raise ValueError(f"has {len(members)} files, more than the {MAX_MEMBERS} a submission may hold")
    total = sum(m.file_size for m in members)
    if total > MAX_SUBMISSION_BYTES:
        raise ValueError(
            f"unpacks to {_mib(total)}, more than the {_mib(MAX_SUBMISSION_BYTES)} a submission may hold "
            "(a zip bomb?): not unpacked"
        )
    return members


def _name_check(name, student, assignment):
    """Whether the display name's parts (file name, LMS folders) name `student` as <student>-<assignment>.

    Returns (True, None) when one does, (False, [the students they name]) when they name
    others, (None, []) when no part names anyone (a renamed file). An LMS prefix joined with
    "_" ("lee_4412_lee-a1.zip") is allowed.
    """
    stems = [re.sub(r"\.zip$", "", part, flags=re.IGNORECASE) for part in re.split(r"[/!]", name)]
    tail = rf"-{re.escape(assignment)}(?:[^A-Za-z0-9]|$)"
    if any(re.search(rf"(?:^|[^A-Za-z0-9.-]){re.escape(student)}{tail}", stem) for stem in stems):
        return True, None
    named = sorted({match for stem in stems for match in re.findall(rf"([A-Za-z0-9][A-Za-z0-9.-]*){tail}", stem)})
    return (False, named) if named else (None, [])


def _submission_time(stamp, downloaded, notes):
    """The manifest's submitted_at when valid and not after the download, else the download time (noted)."""
    reason = None
    if not isinstance(stamp, str) or not stamp.endswith("Z"):
        reason = f"{MANIFEST} submitted_at {stamp!r} is not UTC ISO 8601 ending in Z"
    else:
        try:
            when = parse_due_date(stamp, f"{MANIFEST} submitted_at")
        except ValueError as error:
            reason = str(error)
        else:
            if when <= downloaded + CLOCK_SKEW:
                return when
            reason = f"{MANIFEST} submitted_at {stamp} is after the file was downloaded ({utc_text(downloaded)})"
    notes.append(f"{reason}: the download's time {utc_text(downloaded)} counts instead")
    return downloaded


def _check(name, archive, settings, assignment, downloaded):
    """A ZipSubmission from an open zip, or raise ValueError saying what is wrong."""
    members = _check_members(archive)
    by_name = {m.filename: m for m in members}
    names = [m.filename for m in members]
    manifests = [n for n in names if posixpath.basename(n) == MANIFEST]
    notebooks = [n for n in names if n.endswith(".ipynb")]
    if len(manifests) > 1:
        raise ValueError(f"holds the work of {len(manifests)} students ({', '.join(manifests)}); one zip per student")
    if not notebooks:
        raise ValueError("holds no notebook (.ipynb)")
    if manifests != [MANIFEST]:
        raise ValueError(f"has no {MANIFEST} at its top (a zip written by `course submit` has one)")
    try:
        manifest = json.loads(_read_member(archive, by_name[MANIFEST], MAX_SUBMISSION_BYTES).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{MANIFEST} is not UTF-8 JSON: {error}") from error
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"{MANIFEST} is not format {MANIFEST_FORMAT} (got {manifest.get('format')!r})")
    if manifest.get("course_id") != settings.course_id:
        raise ValueError(f"is for course {manifest.get('course_id')!r}, not {settings.course_id!r}")
    if manifest.get("assignment") != assignment:
        raise ValueError(f"is for assignment {manifest.get('assignment')!r}, not {assignment!r}")
    student = manifest.get("student_id")
    check_student_id(student, f"{MANIFEST} student_id")
    matches, named = _name_check(name, student, assignment)
    if matches is False:
        raise ValueError(f"{MANIFEST} names student {student!r}, but the file name says {', '.join(map(repr, named))}")
    notes = [] if matches else [f"its name does not say whose it is: student {student} from {MANIFEST}"]
    submitted_at = _submission_time(manifest.get("submitted_at"), downloaded, notes)
    listed = manifest.get("files")
    if not isinstance(listed, dict) or not listed:
        raise ValueError(f"{MANIFEST} lists no files")
    prefix = f"{assignment}/"
    outside = [p for p in listed if not p.startswith(prefix)]
    if outside:
        raise ValueError(f"{MANIFEST} lists files outside {prefix}: {', '.join(outside)}")
    unlisted = sorted(set(names) - set(listed) - {MANIFEST})
    if unlisted:
        raise ValueError(f"holds files its {MANIFEST} does not list: {', '.join(unlisted)}")
    files = {}
    for path, digest in sorted(listed.items()):
        if path not in names:
            raise ValueError(f"{MANIFEST} lists {path}, which the zip does not hold")
        data = _read_member(archive, by_name[path], MAX_SUBMISSION_BYTES)
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError(f"{path} does not match its sha256 in {MANIFEST} (changed after `course submit`?)")
        files[path[len(prefix) :]] = data
    return ZipSubmission(name, student, utc_text(submitted_at), files, notes)


def read_submissions(path, settings, assignment):
    """Every submission zip of `assignment` at `path` (folder, zip, or LMS bulk zip).

    Returns (list of ZipSubmission, list of Rejected), each in the order found.
    Raises FileNotFoundError when `path` does not exist.
    """
    found, rejected = [], []
    # (display name, a path or the bytes of a zip inside a bulk download, download time, inside a bulk download)
    pending = [(name, full, when, False) for name, full, when in _zip_candidates(path)]
    while pending:
        name, source, downloaded, inner = pending.pop(0)
        opened = io.BytesIO(source) if inner else source
        if not zipfile.is_zipfile(opened):
            rejected.append(Rejected(name, "is not a zip file"))
            continue
        try:
            with zipfile.ZipFile(opened) as archive:
                members = [m.filename for m in archive.infolist() if not m.is_dir()]
                zips = [m for m in archive.infolist() if not m.is_dir() and m.filename.lower().endswith(".zip")]
                if zips and MANIFEST not in members:
                    if inner:
                        raise ValueError("holds zips inside a zip inside a zip: not a submission")
                    pending[:0] = _bulk_members(name, archive, zips, downloaded, rejected)
                    continue
                found.append(_check(name, archive, settings, assignment, downloaded))
        except (ValueError, zipfile.BadZipFile, KeyError, RuntimeError, EOFError) as error:
            rejected.append(Rejected(name, str(error)))
    return found, rejected


def _bulk_members(name, archive, zips, downloaded, rejected):
    """The submission zips inside an LMS bulk download, each read within its size limit.

    Its other files, unsafe member names and oversize zips go to `rejected`.
    """
    inner = []
    for info in archive.infolist():
        label = f"{name}!{info.filename}"
        if info.is_dir():
            continue
        if not _safe_member(info.filename):
            rejected.append(Rejected(label, "has a member name that leaves its folder (zip slip): not read"))
        elif info not in zips:
            rejected.append(Rejected(label, "is not a zip file"))
        else:
            try:
                inner.append((label, _read_member(archive, info, MAX_INNER_ZIP_BYTES), downloaded, True))
            except ValueError as error:
                rejected.append(Rejected(label, f"{error}: not a submission zip (a zip bomb?), not read"))
    return inner
