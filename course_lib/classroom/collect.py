"""`course collect`: students' submissions into the course folder, nbgrader's layout.

Two sources, one result: <class folder>/submitted/<student_id>/<assignment>/ with the
notebooks and nbgrader's timestamp.txt, which `course grade` reads.

* From the exchange: nbgrader's collect (the latest submission of each student), with two
  checks nbgrader only warns about or lacks: a student id that is not a valid folder name,
  and a submission folder owned by someone other than the student it names.
* From LMS zips (`course_lib.classroom.lms`): every zip checked; a student's latest zip counts.

Re-submission: the latest submission collected so far counts; every earlier one is kept,
under archive/<assignment>/<student_id>/<time>/ (and nbgrader keeps all of them in the exchange).
"""

import datetime
import glob
import os
import pwd
import shutil
from dataclasses import dataclass, field

from nbgrader.exchange.default.collect import ExchangeCollect

from course_lib.classroom.exchange import check_exchange, course_api, outcome_error
from course_lib.classroom.lms import read_submissions
from course_lib.grading.files import exposure_warnings, make_private, private_umask
from course_lib.grading.release import check_assignments
from course_lib.grading.report import hours_text
from course_lib.grading.settings import check_student_id, utc_text

# nbgrader's timestamp.txt format (Exchange.timestamp_format, in UTC)
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"


@dataclass
class CollectReport:
    """What a collect run did: collected [(student, submitted_at, hours late)], kept, rejected [(what, why)].

    notes: what the instructor should know about a submission that was used (where its time came from).
    warnings: a class folder or gradebook that every user can read.
    """

    assignment: str
    collected: list = field(default_factory=list)
    kept: list = field(default_factory=list)
    rejected: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    def lines(self, settings):
        due = settings.due_date(self.assignment)
        lines = [f"collected {len(self.collected)} submission(s) of {self.assignment} into {submitted_root(settings)}"]
        if due:
            lines.append(f"due {due:%Y-%m-%d %H:%M} UTC")
        for student, when, hours_late in self.collected:
            late = f", late by {hours_text(hours_late)}" if hours_late > 0 else ""
            lines.append(f"  {student}: submitted {when}{late}")
        for line in self.kept:
            lines.append(f"  kept: {line}")
        for line in self.notes:
            lines.append(f"  note: {line}")
        if self.rejected:
            lines.append(f"could not use {len(self.rejected)}:")
            lines.extend(f"  {what}: {why}" for what, why in self.rejected)
        return lines + self.warnings


def submitted_root(settings):
    return os.path.join(settings.class_root, "submitted")


def _read_timestamp(folder):
    """The UTC time in a submission folder's timestamp.txt, or None."""
    from nbgrader.utils import parse_utc

    path = os.path.join(folder, "timestamp.txt")
    if not os.path.isfile(path):
        return None
    with open(path) as handle:
        return parse_utc(handle.read().strip()).replace(tzinfo=datetime.timezone.utc)


def _hours_late(settings, assignment, when):
    due = settings.due_date(assignment)
    return max(0.0, (when - due).total_seconds() / 3600) if due and when else 0.0


def _archive_folder(settings, assignment, student, when):
    label = when.strftime("%Y-%m-%dT%H%M%S.%fZ") if when else "undated"
    return os.path.join(settings.class_root, "archive", assignment, student, label)


def archive(settings, assignment, student, folder):
    """Keep a copy of submission `folder` under archive/<assignment>/<student>/<its time>/ (once)."""
    target = _archive_folder(settings, assignment, student, _read_timestamp(folder))
    if not os.path.exists(target):
        shutil.copytree(folder, target, symlinks=False)
    return target


def _archive_all(settings, assignment):
    root = submitted_root(settings)
    for student in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        folder = os.path.join(root, student, assignment)
        if os.path.isdir(folder):
            archive(settings, assignment, student, folder)


class CheckedCollect(ExchangeCollect):
    """nbgrader's collect of each student's latest submission, refusing (and listing in `rejected`)
    the folders of the inbound box whose name is not a valid student id or an nbgrader time,
    whose owner is not the student they name, or that a submit cut short left incomplete
    (a server killed in the middle of it). A refused folder never hides a good one.

    Like nbgrader's collect it honours coursedir.student_id (only that student) and
    before_duedate (each student's latest submission before `due_date`, a naive UTC datetime
    or None, when there is one; else their latest).
    """

    due_date = None

    def init_src(self):
        from nbgrader.utils import check_mode

        if not self.coursedir.course_id:
            self.fail("No course id specified.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not os.path.isdir(self.inbound_path):
            self.fail(f"nothing was ever submitted: {self.inbound_path} does not exist (run `course release` first)")
        if not check_mode(self.inbound_path, read=True, execute=True):
            self.fail(f"you cannot read {self.inbound_path}: run `course collect` as the instructor who released")
        self.rejected, by_student = [], {}
        student = glob.escape(self.coursedir.student_id) if self.coursedir.student_id else "*"
        pattern = os.path.join(self.inbound_path, f"{student}+{glob.escape(self.coursedir.assignment_id)}+*")
        for path in sorted(glob.glob(pattern)):
            name = os.path.basename(path)
            try:
                record = self._checked_record(path)
            except ValueError as error:
                self.rejected.append((name, str(error)))
                continue
            by_student.setdefault(record["username"], []).append(record)
        self.src_records = [self._chosen(records) for records in by_student.values()]

    def _chosen(self, records):
        """The record that counts among one student's submissions."""
        records = sorted(records, key=lambda r: r["timestamp"])
        if self.before_duedate and self.due_date is not None:
            on_time = [r for r in records if r["timestamp"] <= self.due_date]
            if on_time:
                return on_time[-1]
        return records[-1]

    def _checked_record(self, path):
        from nbgrader.utils import parse_utc

        name = os.path.basename(path)
        parts = name.rsplit("+", 3)
        if len(parts) != 4:
            raise ValueError("is not named <student>+<assignment>+<time>+<key> as nbgrader's submit names folders")
        check_student_id(parts[0], "exchange submission")
        try:
            timestamp = parse_utc(parts[2])
        except (ValueError, OverflowError) as error:
            raise ValueError(f"has no valid submission time ({parts[2]!r})") from error
        owner = _owner(path)
        if self.check_owner and owner != parts[0]:
            raise ValueError(f"names student {parts[0]!r} but was submitted by user {owner!r}")
        if not os.path.isfile(os.path.join(path, "timestamp.txt")):
            # nbgrader's submit writes timestamp.txt after copying every file: without it the copy was cut short
            raise ValueError("is incomplete (no timestamp.txt): its submit was interrupted before it finished")
        return {"username": parts[0], "filename": name, "timestamp": timestamp}


def _owner(path):
    try:
        return pwd.getpwuid(os.stat(path).st_uid).pw_name
    except KeyError:
        return str(os.stat(path).st_uid)


def collect_from_exchange(settings, assignment, student=None, before_duedate=False):
    """nbgrader collect of `assignment` from the exchange of `settings`; returns a CollectReport.

    student: collect only this student's submission.
    before_duedate: take each student's latest submission before the due date, when there is one.

    Raises ValueError (unknown assignment, unusable exchange) or RuntimeError (nbgrader failed).
    """
    from nbgrader.apps.api import capture_log
    from nbgrader.utils import temp_attrs

    check_assignments(settings, [assignment])
    if student is not None:
        check_student_id(student, "--student")
    check_exchange(settings.exchange)
    due = settings.due_date(assignment)
    with private_umask():
        _archive_all(settings, assignment)
        api = course_api(settings)
        with temp_attrs(api.coursedir, assignment_id=assignment, student_id=student or ""):
            app = CheckedCollect(coursedir=api.coursedir, authenticator=api.authenticator, parent=api)
            app.update = True
            app.before_duedate = before_duedate
            app.due_date = due and due.replace(tzinfo=None)  # nbgrader's times are naive UTC
            outcome = capture_log(app)
    # nbgrader copies the modes of the students' files from the exchange
    make_private(submitted_root(settings))
    if not outcome["success"]:
        raise RuntimeError(f"nbgrader could not collect {assignment}: {outcome_error(outcome)}")
    report = CollectReport(assignment, rejected=list(getattr(app, "rejected", [])), warnings=_warnings(settings))
    for record in sorted(getattr(app, "src_records", []), key=lambda r: r["username"]):
        when = record["timestamp"].replace(tzinfo=datetime.timezone.utc)
        stamp = utc_text(when)
        report.collected.append((record["username"], stamp, _hours_late(settings, assignment, when)))
    return report


def _warnings(settings):
    return exposure_warnings(settings.class_root, settings.gradebook_path)


def _write_submission(folder, submission, when):
    partial = f"{folder}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    for relative, data in submission.files.items():
        path = os.path.join(partial, *relative.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
    with open(os.path.join(partial, "timestamp.txt"), "w") as handle:
        handle.write(when.strftime(TIMESTAMP_FORMAT))
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.dirname(folder), exist_ok=True)
    os.replace(partial, folder)


def collect_from_zips(settings, assignment, path):
    """Check every submission zip at `path` and put each student's latest in submitted/; returns a CollectReport.

    Raises ValueError for an unknown assignment, FileNotFoundError when `path` does not exist.
    """
    check_assignments(settings, [assignment])
    found, rejected = read_submissions(path, settings, assignment)
    report = CollectReport(assignment, rejected=[(r.name, r.reason) for r in rejected], warnings=_warnings(settings))
    report.notes = [f"{s.name}: {note}" for s in found for note in s.notes]
    with private_umask():
        _collect_latest(settings, assignment, found, report)
    return report


def _collect_latest(settings, assignment, found, report):
    """Archive every zip submission in `found` and put each student's latest in submitted/ (see collect_from_zips)."""
    by_student = {}
    for submission in found:
        by_student.setdefault(submission.student_id, []).append(submission)
    for student, versions in sorted(by_student.items()):
        versions.sort(key=lambda s: s.submitted_at)
        folder = os.path.join(submitted_root(settings), student, assignment)
        current = _read_timestamp(folder) if os.path.isdir(folder) else None
        if current:
            archive(settings, assignment, student, folder)
        for version in versions:
            when = datetime.datetime.fromisoformat(version.submitted_at.replace("Z", "+00:00"))
            # every version is kept; the latest one (if newer than what was collected before) counts
            archived = _archive_folder(settings, assignment, student, when)
            if not os.path.exists(archived):
                _write_submission(archived, version, when)
            if version is not versions[-1]:
                report.kept.append(f"{version.name}: {student}'s earlier submission ({version.submitted_at}), archived")
        latest = versions[-1]
        when = datetime.datetime.fromisoformat(latest.submitted_at.replace("Z", "+00:00"))
        if current and current >= when:
            report.kept.append(
                f"{latest.name}: not newer than {student}'s submission already collected; that one still counts"
            )
            continue
        _write_submission(folder, latest, when)
        report.collected.append((student, latest.submitted_at, _hours_late(settings, assignment, when)))
