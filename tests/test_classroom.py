"""The class loop without unix accounts: settings, bad input, and the LMS path end to end.

The LMS path runs on the toy course (tests/fixtures/grading_course.py): real submission
zips in the CONTRACTS.md format (tests/fixtures/submission_zips.py), good and bad, in a
folder and in an LMS bulk download; `course collect --from-zips`, `course grade` with a due
date and a late penalty, `course grades`. Every bad input must be named in the run summary
with its reason while the rest of the class is still collected and graded; BAD_INPUTS
counts the kinds tried across the class-loop tests.
"""

import csv
import datetime
import json
import os
import pwd
import stat
import zipfile

import nbformat
import pytest
from fixtures import grading_course as course
from fixtures.submission_zips import bulk_bytes, submission_bytes

from course_lib import cli
from course_lib.classroom.exchange import ExchangeError, check_exchange
from course_lib.classroom.lms import MAX_INNER_ZIP_BYTES, MAX_SUBMISSION_BYTES
from course_lib.classroom.submit import submit
from course_lib.grading.release import generate
from course_lib.grading.settings import Settings, check_student_id

DUE = "2026-03-01T12:00:00Z"
# zeros that deflate to about 50 kB: 51 MiB inside a submission zip, 52 MiB as a "zip" in a bulk download
BOMB = b"\0" * (MAX_SUBMISSION_BYTES + 1024**2)
INNER_BOMB = b"\0" * (MAX_INNER_ZIP_BYTES + 1024**2)
ON_TIME, LATE = "2026-03-01T11:00:00Z", "2026-03-02T13:00:00Z"  # LATE: 25 h late, two started days


@pytest.fixture(scope="module")
def toy(tmp_path_factory, isolated_jupyter):
    """A toy course with a due date and a 25 % per day late penalty; its released notebook."""
    root = tmp_path_factory.mktemp("lms")
    course.write_source(root / "solutions")
    (root / "course.toml").write_text(f'[course]\nlate_penalty_per_day = 0.25\n\n[due]\ntoy = "{DUE}"\n')
    settings = Settings.load(root)
    release_root, _ = generate([course.ASSIGNMENT], settings, str(root / "scratch"))
    released = nbformat.read(os.path.join(release_root, course.ASSIGNMENT, f"{course.NOTEBOOK}.ipynb"), as_version=4)
    return root, settings, released


def _zip(student, kind, released, when=ON_TIME, **breakage):
    return submission_bytes(
        course.ASSIGNMENT, student, {course.NOTEBOOK: course.submission(kind, released)}, when, **(breakage)
    )


def _bad_zips(released):
    """{file name: (bytes, words its rejection must contain)}: one per kind of bad zip."""
    good = course.submission("correct", released)
    two = bulk_bytes({"manifest.json": b"{}", "bob/manifest.json": b"{}", "toy/toy.ipynb": nbformat.writes(good)})
    return {
        "notazip.zip": (b"this is a text file, renamed", "is not a zip file"),
        "empty.zip": (bulk_bytes({"notes.txt": b"no notebook"}), "holds no notebook"),
        "two-students.zip": (two, "holds the work of 2 students"),
        "tampered.zip": (_zip("tess", "correct", released, tamper="toy/toy.ipynb"), "does not match its sha256"),
        "escape.zip": (_zip("../eve", "correct", released), "student id '../eve' is not valid"),
        "spaces.zip": (_zip("john smith", "correct", released), "student id 'john smith' is not valid"),
        "other-assignment.zip": (_zip("olga", "correct", released, manifest={"assignment": "a9"}), "is for assignment"),
        "other-course.zip": (_zip("oscar", "correct", released, manifest={"course_id": "cs101"}), "is for course"),
        "no-manifest.zip": (_zip("nina", "correct", released, drop_manifest=True), "has no manifest.json"),
        "bad-json.zip": (_zip("jo", "correct", released, raw_manifest="{not json"), "is not UTF-8 JSON"),
        "unlisted.zip": (_zip("una", "correct", released, extra={"toy/x.py": b"1"}), "does not list: toy/x.py"),
        "slip.zip": (
            _zip("sly", "correct", released, extra={"../../evil.py": b"1"}),
            "has member names that leave its folder (zip slip): ../../evil.py",
        ),
        "absolute.zip": (
            _zip("abe", "correct", released, extra={"/tmp/evil.py": b"1"}),
            "has member names that leave its folder (zip slip): /tmp/evil.py",
        ),
        "bomb.zip": (
            _zip("bo", "correct", released, extra={"toy/data.bin": BOMB}),
            "unpacks to 51 MiB, more than the 50 MiB a submission may hold (a zip bomb?): not unpacked",
        ),
        # a zip named as ana's whose manifest says mallory
        "ana-toy-2.zip": (
            _zip("mallory", "correct", released),
            "manifest.json names student 'mallory', but the file name says 'ana'",
        ),
    }


@pytest.fixture(scope="module")
def lms_run(toy, tmp_path_factory):
    """Collect a folder of zips and an LMS bulk download, then grade: the CLI's output at each step."""
    root, _, released = toy
    folder = tmp_path_factory.mktemp("zips")
    bad = _bad_zips(released)
    for name, (data, _) in bad.items():
        (folder / name).write_bytes(data)
    (folder / "ana-toy.zip").write_bytes(_zip("ana", "correct", released))
    (folder / "ben-toy.zip").write_bytes(_zip("ben", "stub", released))
    # Lee submitted twice: a wrong answer on time, then a correct one a day late; the latest counts
    (folder / "lee-toy-1.zip").write_bytes(_zip("lee", "edited_tests", released, when=ON_TIME))
    bulk = folder.parent / "bulk.zip"
    bulk.write_bytes(
        bulk_bytes(
            {
                "lee_4412_88012_lee-toy.zip": _zip("lee", "correct", released, when=LATE),
                "index.html": b"<html>LMS listing</html>",
                "../../outside-toy.zip": _zip("outside", "correct", released),
                "huge_1_huge-toy.zip": INNER_BOMB,
            },
            compression=zipfile.ZIP_DEFLATED,
        )
    )
    outputs = {}
    for label, source in (("folder", folder), ("bulk", bulk)):
        outputs[label] = _cli(["collect", course.ASSIGNMENT, "--from-zips", str(source), "--course", str(root)])
    outputs["grade"] = _cli(["grade", course.ASSIGNMENT, "--course", str(root), "--jobs", "2"])
    outputs["grades"] = _cli(["grades", "--course", str(root), "--out", str(root / "grades.csv")])
    exchange = folder.parent / "exchange"
    exchange.mkdir()
    os.chmod(exchange, 0o1777)
    outputs["return"] = _cli(["return", course.ASSIGNMENT, "--exchange", str(exchange), "--course", str(root)])
    return {"root": root, "bad": bad, "exchange": exchange, **outputs}


def _cli(argv):
    """cli.main's exit code and printed text."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue() + err.getvalue()


def _collected_lines(argv):
    """`course collect`'s report lines, without the warning about a readable class folder; asserts it ran."""
    code, text = _cli(argv)
    assert code == 0, text
    return [line for line in text.splitlines() if not line.startswith("warning: ")]


def _rows(path):
    with open(path, newline="") as sheet:
        return {(r["student_id"], r["assignment"]): r for r in csv.DictReader(sheet)}


def test_every_bad_zip_is_named_with_its_reason_and_the_good_ones_are_collected(lms_run):
    code, text = lms_run["folder"]
    assert code == 0, text
    for name, (_, reason) in lms_run["bad"].items():
        line = next((line for line in text.splitlines() if line.strip().startswith(f"{name}:")), None)
        assert line is not None and reason in line, (name, text)
    assert f"could not use {len(lms_run['bad'])}:" in text
    submitted = lms_run["root"] / "submitted"
    assert sorted(os.listdir(submitted)) == ["ana", "ben", "lee"]
    assert sorted(os.listdir(submitted / "ana" / course.ASSIGNMENT)) == ["timestamp.txt", "toy.ipynb"]
    assert not (lms_run["root"].parent / "evil.py").exists() and not (submitted.parent / "evil.py").exists()


def test_a_bulk_download_is_unpacked_and_its_stray_files_reported(lms_run):
    code, text = lms_run["bulk"]
    assert code == 0, text
    lines = text.splitlines()
    assert "  lee: submitted 2026-03-02T13:00:00Z, late by 25.0 h" in lines
    assert lines[lines.index("could not use 3:") :] == [
        "could not use 3:",
        "  bulk.zip!index.html: is not a zip file",
        "  bulk.zip!../../outside-toy.zip: has a member name that leaves its folder (zip slip): not read",
        "  bulk.zip!huge_1_huge-toy.zip: huge_1_huge-toy.zip unpacks to 52 MiB, more than 51 MiB: "
        "not a submission zip (a zip bomb?), not read",
    ]
    assert not (lms_run["root"] / "submitted" / "outside").exists()


def _inbound(exchange, student, when, kind, released):
    """Plant a submission of `student` at `when` (nbgrader's time text) in the exchange's inbound box."""
    folder = exchange / "tnn101" / "inbound" / f"{student}+{course.ASSIGNMENT}+{when}+key"
    folder.mkdir(parents=True)
    nbformat.write(course.submission(kind, released), folder / f"{course.NOTEBOOK}.ipynb")
    (folder / "timestamp.txt").write_text(when)


def test_exchange_collect_honours_student_and_before_duedate_as_nbgrader_collect_does(toy, tmp_path):
    _, _, released = toy
    me = pwd.getpwuid(os.getuid()).pw_name  # the owner the planted folders have
    root = tmp_path / "course"
    course.write_source(root / "solutions")
    (root / "course.toml").write_text(f'[due]\ntoy = "{DUE}"\n')
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    exchange.chmod(0o1777)
    _inbound(exchange, me, "2026-03-01 11:00:00.000000 UTC", "correct", released)
    _inbound(exchange, me, "2026-03-02 13:00:00.000000 UTC", "stub", released)
    _inbound(exchange, "olga", "2026-03-01 10:00:00.000000 UTC", "correct", released)
    argv = ["collect", course.ASSIGNMENT, "--exchange", str(exchange), "--course", str(root)]
    lines = _collected_lines(argv)
    assert lines == [
        f"collected 1 submission(s) of toy into {root / 'submitted'}",
        "due 2026-03-01 12:00 UTC",
        f"  {me}: submitted 2026-03-02T13:00:00Z, late by 25.0 h",
        "could not use 1:",
        f"  olga+toy+2026-03-01 10:00:00.000000 UTC+key: names student 'olga' but was submitted by user {me!r}",
    ]
    lines = _collected_lines([*argv, "--student", me, "--before-duedate"])
    assert lines == [
        f"collected 1 submission(s) of toy into {root / 'submitted'}",
        "due 2026-03-01 12:00 UTC",
        f"  {me}: submitted 2026-03-01T11:00:00Z",
    ]
    stamp = (root / "submitted" / me / course.ASSIGNMENT / "timestamp.txt").read_text()
    assert stamp == "2026-03-01 11:00:00.000000 UTC"
    zips = ["collect", course.ASSIGNMENT, "--from-zips", str(tmp_path), "--student", me, "--course", str(root)]
    refusal = "course collect: --student and --before-duedate go with --exchange (nbgrader's collect)\n"
    assert _cli(zips) == (2, refusal)


def _download(folder, name, data, when):
    """Write a downloaded zip whose file time is `when` (an aware datetime); returns its path."""
    path = folder / name
    path.write_bytes(data)
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def test_a_manifest_time_that_is_invalid_or_after_the_download_gives_way_to_the_download_time(toy, tmp_path):
    _, _, released = toy
    root = tmp_path / "course"
    course.write_source(root / "solutions")
    downloaded = datetime.datetime(2026, 3, 1, 10, 30, tzinfo=datetime.timezone.utc)
    zips = tmp_path / "zips"
    zips.mkdir()
    _download(zips, "tim-toy.zip", _zip("tim", "correct", released, manifest={"submitted_at": "yesterday"}), downloaded)
    _download(zips, "fay-toy.zip", _zip("fay", "correct", released, when="2099-01-01T00:00:00Z"), downloaded)
    _download(zips, "upload.zip", _zip("gus", "correct", released, when="2026-03-01T10:29:00Z"), downloaded)
    lines = _collected_lines(["collect", course.ASSIGNMENT, "--from-zips", str(zips), "--course", str(root)])
    assert lines == [
        f"collected 3 submission(s) of toy into {root / 'submitted'}",
        "  fay: submitted 2026-03-01T10:30:00Z",
        "  gus: submitted 2026-03-01T10:29:00Z",
        "  tim: submitted 2026-03-01T10:30:00Z",
        "  note: fay-toy.zip: manifest.json submitted_at 2099-01-01T00:00:00Z is after the file was downloaded "
        "(2026-03-01T10:30:00Z): the download's time 2026-03-01T10:30:00Z counts instead",
        "  note: tim-toy.zip: manifest.json submitted_at 'yesterday' is not UTC ISO 8601 ending in Z: the download's "
        "time 2026-03-01T10:30:00Z counts instead",
        "  note: upload.zip: its name does not say whose it is: student gus from manifest.json",
    ]
    stamp = (root / "submitted" / "tim" / course.ASSIGNMENT / "timestamp.txt").read_text()
    assert stamp == "2026-03-01 10:30:00.000000 UTC"


def test_a_zip_written_by_course_submit_is_collected_and_graded_privately(toy, tmp_path, monkeypatch, capsys):
    _, _, released = toy
    student = tmp_path / "student"
    (student / "assignments" / course.ASSIGNMENT).mkdir(parents=True)
    nbformat.write(course.submission("correct", released), student / "assignments" / course.ASSIGNMENT / "toy.ipynb")
    said = []
    upload = submit(course.ASSIGNMENT, student_id="sam", out=str(tmp_path), course_root=str(student), say=said.append)
    estimate = "Estimated score: at most 4 of 4 points (the hidden tests, run at grading, can still take points off)"
    assert said[-2] == estimate
    with zipfile.ZipFile(upload) as archive:
        submitted_at = json.loads(archive.read("manifest.json"))["submitted_at"]
    root = tmp_path / "course"
    course.write_source(root / "solutions")
    root.chmod(0o755)
    code, text = _cli(["collect", course.ASSIGNMENT, "--from-zips", upload, "--course", str(root)])
    assert code == 0, text
    warning = (
        f"warning: {root} is readable by every user of this machine (mode 755); it holds the class's submissions "
        f"and grades: chmod o-rwx {root}"
    )
    assert text.splitlines() == [
        f"collected 1 submission(s) of toy into {root / 'submitted'}",
        f"  sam: submitted {submitted_at}",
        warning,
    ]
    code, text = _cli(["grade", course.ASSIGNMENT, "--course", str(root)])
    assert code == 0, text
    assert _rows(root / "grades" / f"{course.ASSIGNMENT}.csv")[("sam", course.ASSIGNMENT)]["score"] == "4"
    assert warning in text.splitlines()
    created = [p for p in root.rglob("*") if not p.is_relative_to(root / "solutions")]
    assert {str(p.relative_to(root)) for p in created if p.stat().st_mode & 0o077} == set()


def test_a_resubmission_counts_and_the_earlier_one_is_kept(lms_run):
    archive = lms_run["root"] / "archive" / course.ASSIGNMENT / "lee"
    assert len(os.listdir(archive)) == 2  # both of Lee's submissions
    stamp = (lms_run["root"] / "submitted" / "lee" / course.ASSIGNMENT / "timestamp.txt").read_text()
    assert stamp.startswith("2026-03-02 13:00:00")


def test_grading_flags_late_work_and_takes_the_penalty(lms_run):
    code, text = lms_run["grade"]
    assert code == 0, text
    lines = text.splitlines()
    assert next(line for line in lines if line.startswith("Graded ")).startswith("Graded 3 submission(s) in ")
    assert "Late: lee (25.0 h)" in lines
    rows = _rows(lms_run["root"] / "grades" / f"{course.ASSIGNMENT}.csv")
    ana, ben, lee = (rows[(s, course.ASSIGNMENT)] for s in ("ana", "ben", "lee"))
    assert (ana["score"], ana["late"], ana["submitted_at"]) == ("4", "", ON_TIME)
    assert (ben["score"], ben["status"]) == ("0", "graded")
    # two started days late at 25 % a day: half of 4 points
    assert (lee["score"], lee["late"]) == ("2", "25.0 h") and "2 point(s) off" in lee["detail"]


def test_course_grades_and_nbgrader_export_read_the_course_gradebook(lms_run):
    code, text = lms_run["grades"]
    assert (code, text) == (0, f"wrote 3 row(s) to {lms_run['root'] / 'grades.csv'}\n")
    rows = _rows(lms_run["root"] / "grades.csv")
    assert {k: (r["score"], r["max_score"], r["status"], r["late"]) for k, r in rows.items()} == {
        ("ana", "toy"): ("4", "4", "graded", ""),
        ("ben", "toy"): ("0", "4", "graded", ""),
        ("lee", "toy"): ("2", "4", "graded", "25.0 h"),
    }
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{lms_run['root'] / 'gradebook.db'}") as gb:
        lee = gb.find_submission(course.ASSIGNMENT, "lee")
        assert (lee.score, lee.late_submission_penalty) == (4.0, 2.0)
        assert gb.find_assignment(course.ASSIGNMENT).duedate.isoformat() == "2026-03-01T12:00:00"
    assert stat.S_IMODE(os.stat(lms_run["root"] / "gradebook.db").st_mode) == 0o600


def test_feedback_on_zip_submissions_stays_for_the_lms(lms_run):
    code, text = lms_run["return"]
    assert code == 0, text
    exchange = lms_run["exchange"]
    feedback = lms_run["root"] / "feedback"
    assert text.splitlines() == [
        f"returned feedback on toy to 0 student(s) through {exchange / 'tnn101' / 'feedback'}",
        "not returned (3):",
        *(
            f"  {student}: not submitted through the exchange; send {feedback / student / 'toy'} through your LMS"
            for student in ("ana", "ben", "lee")
        ),
    ]
    feedback = feedback / "lee" / course.ASSIGNMENT
    assert (feedback / f"{course.NOTEBOOK}.html").exists()


def test_grading_before_collecting_says_what_to_do(tmp_path):
    course.write_source(tmp_path / "solutions")
    code, text = _cli(["grade", course.ASSIGNMENT, "--course", str(tmp_path)])
    assert code == 2 and "nothing collected yet" in text and "course collect toy" in text


def test_unknown_assignment_and_missing_zips_stop_the_run_with_a_message(toy, tmp_path):
    root = toy[0]
    code, text = _cli(["collect", "a9_nope", "--from-zips", str(tmp_path), "--course", str(root)])
    assert (code, text) == (2, "course collect: assignment must be one of 'toy'; got 'a9_nope'\n")
    code, text = _cli(["collect", course.ASSIGNMENT, "--from-zips", str(tmp_path / "gone"), "--course", str(root)])
    assert (code, text) == (2, f"course collect: --from-zips {tmp_path / 'gone'}: no such file or folder\n")


def test_a_due_date_in_the_wrong_format_names_the_file_and_value(tmp_path):
    (tmp_path / "course.toml").write_text('[due]\na1_softmax = "next friday"\n')
    with pytest.raises(ValueError, match=r"course.toml, \[due\] a1_softmax: due date 'next friday' is not"):
        Settings.load(tmp_path)
    (tmp_path / "course.toml").write_text("[due]\na1_softmax = 2026-12-08T23:59:00\n")  # no time zone
    with pytest.raises(ValueError, match="is not a date and time with a time zone"):
        Settings.load(tmp_path)
    (tmp_path / "course.toml").write_text("[course]\ncell_timout = 3\n")
    with pytest.raises(ValueError) as error:
        Settings.load(tmp_path)
    known = "cell_timeout, class_dir, course_id, exchange_root, late_penalty_per_day, max_output_chars, memory_gib, "
    known += "notebook_timeout, release_directory, source_directory"
    assert str(error.value) == f"{tmp_path / 'course.toml'}: unknown option(s) cell_timout in [course] (known: {known})"
    (tmp_path / "course.toml").write_text("[grading]\ncell_timeout = 3\n")
    with pytest.raises(ValueError) as error:
        Settings.load(tmp_path)
    assert str(error.value) == f"{tmp_path / 'course.toml'}: unknown table(s) grading (known: [course], [due])"
    (tmp_path / "course.toml").write_text("[course]\ncell_timeout = -3\n")
    with pytest.raises(ValueError, match="cell_timeout must be a whole number >= 1, got -3"):
        Settings.load(tmp_path)


def test_settings_have_no_replace_method_left_unused():
    assert not hasattr(Settings, "replace"), "Settings.load takes the overrides; nothing else changes a Settings"


def test_settings_travel_whole_and_each_default_is_stated_once():
    settings = Settings.load(".", cell_timeout=7, due_dates=(("a1", "2026-12-08T23:59:00+01:00"),))
    assert Settings.from_json(settings.to_json()) == settings
    assert settings.due_date("a1").isoformat() == "2026-12-08T22:59:00+00:00" and settings.due_date("a2") is None
    assert Settings().course_id == "tnn101" and Settings().memory_bytes == int(Settings.memory_gib * 1024**3)


@pytest.mark.parametrize("bad", ["../eve", "john smith", "", "a/b", "x" * 65, "-dash", "a..b"])
def test_invalid_student_ids_are_refused(bad):
    with pytest.raises(ValueError, match="is not valid"):
        check_student_id(bad, "manifest")
    check_student_id("alice.b-2_x", "manifest")


def test_an_exchange_folder_that_is_missing_or_closed_gets_the_command_that_fixes_it(tmp_path, capsys):
    missing = tmp_path / "exchange"
    with pytest.raises(ExchangeError, match=f"does not exist; create it once with `sudo mkdir -p {missing}"):
        check_exchange(str(missing))
    missing.mkdir(mode=0o755)
    os.chmod(missing, 0o755)
    with pytest.raises(ExchangeError, match=f"has permissions 0755.*`sudo chmod 1777 {missing}`"):
        check_exchange(str(missing))
    argv = ["release", "a1_softmax", "--to-exchange", "--exchange", str(missing)]
    assert cli.main(argv) == 2
    assert f"course release: the exchange folder {missing} has permissions 0755" in capsys.readouterr().err
    assert not (missing / "tnn101").exists()
