"""The submission zips of `course submit`, as an LMS hands them back: read, check, explain.

A submission zip (CONTRACTS.md) holds ``manifest.json`` and ``<assignment>/<notebook>.ipynb``
(and data files beside them). An instructor may have a folder of them, one of them, or an
LMS bulk download: a zip of such zips whose names the LMS prefixed (``alice_123_alice-a1.zip``).
`read_submissions` finds every submission zip in any of those, checks each one and returns
the good ones and, for every other file, why it cannot be used. Nothing is written here.
"""

import hashlib
import io
import json
import os
import posixpath
import zipfile
from dataclasses import dataclass, field

from course_lib.grading.settings import check_student_id, parse_due_date

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
MAX_MEMBER_BYTES = 256 * 1024**2  # a submission is notebooks: anything bigger is not one


@dataclass
class ZipSubmission:
    """One usable submission: who, when, and its files ({path below the assignment folder: bytes})."""

    name: str
    student_id: str
    submitted_at: str
    files: dict = field(repr=False)


@dataclass
class Rejected:
    """A file that could not be used, and why."""

    name: str
    reason: str


def _zip_candidates(path):
    """(display name, bytes) of every file to consider: the files of a folder, or the file itself."""
    if os.path.isdir(path):
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if not name.startswith("."):
                    full = os.path.join(folder, name)
                    with open(full, "rb") as handle:
                        yield os.path.relpath(full, path), handle.read()
    elif os.path.isfile(path):
        with open(path, "rb") as handle:
            yield os.path.basename(path), handle.read()
    else:
        raise FileNotFoundError(f"--from-zips {path}: no such file or folder")


def _safe_member(name):
    """Whether a zip member name stays inside the folder it is unpacked into."""
    normal = posixpath.normpath(name)
    return not (name.startswith("/") or normal.startswith("..") or "\\" in name or ":" in name)


def _check(name, archive, settings, assignment):
    """A ZipSubmission from an open zip, or raise ValueError saying what is wrong."""
    members = [m for m in archive.infolist() if not m.is_dir()]
    names = [m.filename for m in members]
    manifests = [n for n in names if posixpath.basename(n) == MANIFEST]
    notebooks = [n for n in names if n.endswith(".ipynb")]
    if len(manifests) > 1:
        raise ValueError(f"holds the work of {len(manifests)} students ({', '.join(manifests)}); one zip per student")
    if not notebooks:
        raise ValueError("holds no notebook (.ipynb)")
    if manifests != [MANIFEST]:
        raise ValueError(f"has no {MANIFEST} at its top (a zip written by `course submit` has one)")
    bad = [n for n in names if not _safe_member(n)]
    if bad:
        raise ValueError(f"has file names that leave its folder: {', '.join(bad)}")
    too_big = [m.filename for m in members if m.file_size > MAX_MEMBER_BYTES]
    if too_big:
        raise ValueError(f"has files over {MAX_MEMBER_BYTES // 1024**2} MiB: {', '.join(too_big)}")
    try:
        manifest = json.loads(archive.read(MANIFEST).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{MANIFEST} is not UTF-8 JSON: {error}") from error
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"{MANIFEST} is not format {MANIFEST_FORMAT} (got {manifest.get('format')!r})")
    if manifest.get("course_id") != settings.course_id:
        raise ValueError(f"is for course {manifest.get('course_id')!r}, not {settings.course_id!r}")
    if manifest.get("assignment") != assignment:
        raise ValueError(f"is for assignment {manifest.get('assignment')!r}, not {assignment!r}")
    check_student_id(manifest.get("student_id"), f"{MANIFEST} student_id")
    stamp = manifest.get("submitted_at")
    if not isinstance(stamp, str) or not stamp.endswith("Z"):
        raise ValueError(f"{MANIFEST} submitted_at {stamp!r} is not UTC ISO 8601 ending in Z")
    submitted_at = parse_due_date(stamp, f"{MANIFEST} submitted_at")
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
        data = archive.read(path)
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError(f"{path} does not match its sha256 in {MANIFEST} (changed after `course submit`?)")
        files[path[len(prefix) :]] = data
    return ZipSubmission(name, manifest["student_id"], submitted_at.strftime("%Y-%m-%dT%H:%M:%SZ"), files)


def read_submissions(path, settings, assignment):
    """Every submission zip of `assignment` at `path` (folder, zip, or LMS bulk zip).

    Returns (list of ZipSubmission, list of Rejected), each in the order found.
    Raises FileNotFoundError when `path` does not exist.
    """
    found, rejected = [], []
    pending = list(_zip_candidates(path))
    while pending:
        name, data = pending.pop(0)
        if not zipfile.is_zipfile(io.BytesIO(data)):
            rejected.append(Rejected(name, "is not a zip file"))
            continue
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = [m.filename for m in archive.infolist() if not m.is_dir()]
                inner = [m for m in members if m.lower().endswith(".zip")]
                if inner and MANIFEST not in members:
                    # an LMS bulk download: the submissions are the zips inside
                    others = [m for m in members if m not in inner]
                    rejected.extend(Rejected(f"{name}!{m}", "is not a zip file") for m in others)
                    pending[:0] = [(f"{name}!{m}", archive.read(m)) for m in inner]
                    continue
                found.append(_check(name, archive, settings, assignment))
        except (ValueError, zipfile.BadZipFile, KeyError, RuntimeError) as error:
            rejected.append(Rejected(name, str(error)))
    return found, rejected
