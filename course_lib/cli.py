"""The `course` command: one entry point for students, instructors and maintainers.

Each subcommand imports its heavy modules (nbgrader, torch) only when it runs, so
`course --help` stays instant.
"""

import argparse
import os
import sys

from course_lib import __version__
from course_lib.grading.settings import Settings


def build_parser():
    parser = argparse.ArgumentParser(prog="course", description="Training Neural Networks course tools.")
    parser.add_argument("--version", action="version", version=f"course_lib {__version__}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")
    # Subcommands register here, each as `add_<name>_parser(subcommands)` below.
    add_student_edition_parser(subcommands)
    add_release_parser(subcommands)
    add_collect_parser(subcommands)
    add_grade_parser(subcommands)
    add_return_parser(subcommands)
    add_grades_parser(subcommands)
    add_submit_parser(subcommands)
    add_hub_parser(subcommands)
    add_train_convnet_parser(subcommands)
    return parser


DEFAULTS = Settings()
COURSE_HELP = "the instructor's course folder, holding course.toml and solutions/ (default .)"


def _default(field):
    """How a help text states a setting's default: course.toml's value, else the Settings default."""
    value = getattr(DEFAULTS, field)
    return (
        f"(default: course.toml's {field}, else {value:g})"
        if isinstance(value, float)
        else (f"(default: course.toml's {field}, else {value})")
    )


EXCHANGE_HELP = f"nbgrader's exchange folder {_default('exchange_root')}"


def _settings(args, **overrides):
    """The course's Settings (course.toml under --course), with the options given on the command line."""
    return Settings.load(args.course, exchange_root=getattr(args, "exchange", None), **overrides)


def _run(name, action):
    """Run `action()` (which returns summary lines); exit 0, or 2 with the reason when it could not run."""
    try:
        lines = action()
    except (ValueError, OSError, RuntimeError) as error:
        print(f"course {name}: {error}", file=sys.stderr)
        return 2
    if lines:
        print("\n".join(lines))
    return 0


def add_student_edition_parser(subcommands):
    edition = subcommands.add_parser(
        "student-edition",
        help="build what students receive: lessons, release notebooks, course_lib, a student README",
        description="Write the student edition of the course into OUT: the lessons, the release notebooks, "
        "course_lib, a student README and the student side of the nbgrader and Jupyter configuration "
        "(course id, exchange folder; Formgrader and Create Assignment off). No solutions, no hidden tests, "
        "no grading configuration, no gradebook.",
    )
    edition.add_argument("out", metavar="OUT", help="folder to create (must not exist, or be empty)")
    edition.add_argument("--zip", action="store_true", help="also write OUT.zip, ready to hand out")
    edition.add_argument("--course", default=".", help=COURSE_HELP)
    edition.add_argument("--exchange", metavar="DIR", help=EXCHANGE_HELP + ", written into its nbgrader_config.py")
    edition.set_defaults(run=_run_student_edition)


def _run_student_edition(args):
    from course_lib.classroom.edition import build_student_edition

    def action():
        path = build_student_edition(args.course, args.out, zip=args.zip, settings=_settings(args))
        return [f"student edition written to {os.path.abspath(args.out)}" + (f" and {path}" if args.zip else "")]

    return _run("student-edition", action)


def add_release_parser(subcommands):
    release = subcommands.add_parser(
        "release",
        help="regenerate assignments/ from solutions/; --to-exchange hands them to the class",
        description="Regenerate the student notebooks in assignments/ from the nbgrader source notebooks in "
        "solutions/ (solutions and hidden tests removed). With --to-exchange, also release them through "
        "nbgrader's exchange, where students fetch them (Assignments tab or `nbgrader fetch_assignment`).",
    )
    release.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="assignment ids (default: all)")
    release.add_argument("--to-exchange", action="store_true", help="release to the exchange too")
    release.add_argument("--exchange", metavar="DIR", help=EXCHANGE_HELP)
    release.add_argument("--course", default=".", help=COURSE_HELP)
    release.set_defaults(run=_run_release)


def _run_release(args):
    from course_lib.classroom.release import release_assignments

    return _run("release", lambda: release_assignments(_settings(args), args.assignments, args.to_exchange))


def add_collect_parser(subcommands):
    collect = subcommands.add_parser(
        "collect",
        help="collect submissions (exchange or LMS zips) into submitted/<student_id>/<assignment>/",
        description="Collect every student's latest submission of ASSIGNMENT into the course folder's "
        "submitted/<student_id>/<assignment>/ (nbgrader's layout, which `course grade` reads). Earlier "
        "submissions are kept under archive/. Lists every submission it could not use, and why.",
    )
    collect.add_argument("assignment", metavar="ASSIGNMENT", help="assignment id")
    source = collect.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--exchange",
        nargs="?",
        const="",
        metavar="DIR",
        help=f"from nbgrader's exchange folder {_default('exchange_root')}",
    )
    source.add_argument(
        "--from-zips",
        metavar="PATH",
        help="from `course submit` zips: a folder of them, one zip, or an LMS bulk download (zips in a zip)",
    )
    collect.add_argument("--student", metavar="ID", help="with --exchange: collect only this student")
    collect.add_argument(
        "--before-duedate",
        action="store_true",
        help="with --exchange: each student's latest submission before the due date, if any (else their latest)",
    )
    collect.add_argument("--course", default=".", help=COURSE_HELP)
    collect.set_defaults(run=_run_collect)


def _run_collect(args):
    from course_lib.classroom.collect import collect_from_exchange, collect_from_zips

    def action():
        settings = Settings.load(args.course, exchange_root=args.exchange or None)
        if args.from_zips:
            if args.student or args.before_duedate:
                raise ValueError("--student and --before-duedate go with --exchange (nbgrader's collect)")
            report = collect_from_zips(settings, args.assignment, args.from_zips)
        else:
            report = collect_from_exchange(settings, args.assignment, args.student, args.before_duedate)
        return report.lines(settings)

    return _run("collect", action)


def add_grade_parser(subcommands):
    grade = subcommands.add_parser(
        "grade",
        help="autograde every student's submission of an assignment",
        description="Autograde <submissions>/<student_id>/<assignment>/*.ipynb (or <student_id>/*.ipynb) with "
        "nbgrader, each student kernel sandboxed. Writes, in the course folder, feedback/ and autograded/ "
        "(nbgrader's layout), the scores into gradebook.db (the Formgrader's and `nbgrader export`'s) and "
        "this run's grade sheet grades/<assignment>.csv. Late work loses the course's late penalty. Exits 0 "
        "when the run completed, even if some students failed.",
    )
    grade.add_argument("assignment", metavar="ASSIGNMENT", help="assignment id: a folder of the source directory")
    grade.add_argument(
        "--submissions", help="folder with one subfolder per student (default: the course folder's submitted/)"
    )
    grade.add_argument("--out", help="course folder the results go to (default: the class folder, see course.toml)")
    grade.add_argument(
        "--student",
        action="append",
        metavar="ID",
        help="re-grade only this student (repeatable); everyone else's results stay as they are",
    )
    grade.add_argument("--jobs", type=int, default=1, help="students graded in parallel (default 1)")
    grade.add_argument("--course", default=".", help=COURSE_HELP)
    grade.add_argument("--source", help=f"source notebooks folder {_default('source_directory')}")
    grade.add_argument("--cell-timeout", type=int, help=f"seconds per cell {_default('cell_timeout')}")
    grade.add_argument("--timeout", type=int, help=f"seconds per notebook {_default('notebook_timeout')}")
    grade.add_argument(
        "--memory-gib", type=float, help=f"memory cap per student kernel in GiB {_default('memory_gib')}"
    )
    grade.set_defaults(run=_run_grade)


def _run_grade(args):
    from course_lib.grading.pipeline import grade

    def action():
        settings = Settings.load(
            args.course,
            source_directory=args.source and os.path.abspath(args.source),
            cell_timeout=args.cell_timeout,
            notebook_timeout=args.timeout,
            memory_gib=args.memory_gib,
        )
        _, summary = grade(
            args.assignment, settings, args.submissions, out_dir=args.out, jobs=args.jobs, students=args.student
        )
        return [summary]

    return _run("grade", action)


def add_return_parser(subcommands):
    handback = subcommands.add_parser(
        "return",
        help="return the feedback of an assignment to the students through the exchange",
        description="Release the feedback pages `course grade` wrote through nbgrader's exchange; each student "
        "fetches only their own (Assignments tab, or `nbgrader fetch_feedback ASSIGNMENT`).",
    )
    handback.add_argument("assignment", metavar="ASSIGNMENT", help="assignment id")
    handback.add_argument("--exchange", metavar="DIR", help=EXCHANGE_HELP)
    handback.add_argument("--course", default=".", help=COURSE_HELP)
    handback.set_defaults(run=_run_return)


def _run_return(args):
    from course_lib.classroom.handback import return_feedback

    return _run("return", lambda: return_feedback(_settings(args), args.assignment))


def add_grades_parser(subcommands):
    grades = subcommands.add_parser(
        "grades",
        help="export every assignment's grades (one row per student and assignment) for an LMS",
        description="Write a CSV with one row per student and assignment: student_id, assignment, score (after "
        "any late penalty), max_score, status (graded, needs manual grading, failed, missing), late (hours "
        "past the due date) and submitted_at, from the course gradebook.",
    )
    grades.add_argument("--out", default="grades.csv", metavar="CSV", help="file to write (default grades.csv)")
    grades.add_argument("--course", default=".", help=COURSE_HELP)
    grades.set_defaults(run=_run_grades)


def _run_grades(args):
    from course_lib.classroom.grades import export_grades

    def action():
        rows = export_grades(_settings(args), args.out)
        return [f"wrote {rows} row(s) to {args.out}"]

    return _run("grades", action)


def add_submit_parser(subcommands):
    submit = subcommands.add_parser(
        "submit",
        help="check an assignment's notebooks and write the zip to upload (student side)",
        description="Run the visible tests of assignments/<assignment>/ (one line per test), estimate the score "
        "and write <student>-<assignment>.zip with a manifest, for upload to the course's learning platform. "
        "Exits 0 when the zip was written, even if tests fail.",
    )
    submit.add_argument("assignment", help="assignment id, a folder of assignments/")
    submit.add_argument("--student", help="your student id (default: your user name)")
    submit.add_argument("--out", help="the zip to write (default: <student>-<assignment>.zip here)")
    submit.set_defaults(run=_run_submit)


def _run_submit(args):
    from course_lib.classroom.submit import submit

    def action():
        submit(args.assignment, student_id=args.student, out=args.out)  # it reports as it goes
        return []

    return _run("submit", action)


def add_hub_parser(subcommands):
    hub = subcommands.add_parser(
        "hub",
        help="run the class on a JupyterHub on this machine (as root): one account per student",
        description="Start a JupyterHub for the students of ROSTER and the INSTRUCTORS, on 127.0.0.1:PORT, until "
        "Ctrl-C or `course hub --stop`. Creates missing unix accounts (homes 0700; new accounts' passwords go to "
        "the state folder's passwords.csv, 0600), the shared course environment, the instructors' course folder, "
        "each student's copy of the student edition and the exchange. Log in with the unix account's password "
        "(PAM). Stopping keeps the exchange, submissions, gradebook and homes; starting again finds them. "
        "Where everything lives: course_lib/classroom/hub/layout.py and the README.",
    )
    hub.add_argument("--roster", metavar="CSV", help="the class list: a CSV with a student_id column")
    hub.add_argument("--instructors", metavar="NAMES", help="instructor account names, comma-separated")
    hub.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default 8000; also uses the next 2)")
    hub.add_argument("--course", default=".", help=COURSE_HELP)
    hub.add_argument("--exchange", metavar="DIR", help=EXCHANGE_HELP)
    hub.add_argument("--memory-limit", default="2G", help="memory of each user's server and kernels (default 2G)")
    hub.add_argument("--idle-timeout", type=int, default=3600, help="seconds idle before a server stops (default 3600)")
    hub.add_argument("--state-dir", help="the hub's root-only state folder (default /var/lib/<course_id>-hub)")
    hub.add_argument("--course-dir", help="the instructors' course folder (default /srv/<course_id>-hub/course)")
    hub.add_argument(
        "--config-dir",
        help="the servers' Jupyter configuration and the student edition, readable by all: one per running hub "
        "(default /opt/<course_id>-hub)",
    )
    action = hub.add_mutually_exclusive_group()
    action.add_argument("--setup", action="store_true", help="only build the shared course environment, then exit")
    action.add_argument("--stop", action="store_true", help="stop the running hub of this course")
    hub.set_defaults(run=_run_hub)


def _hub_layout(args, settings):
    from course_lib.classroom.hub.layout import HubLayout

    return HubLayout(
        settings.course_id,
        settings.exchange,
        args.port,
        state_dir=args.state_dir,
        course_dir=args.course_dir,
        config_dir=args.config_dir,
    )


def _run_hub(args):
    from course_lib.classroom.hub import process
    from course_lib.classroom.hub.config import Hub
    from course_lib.classroom.hub.environment import build_environment
    from course_lib.classroom.hub.roster import parse_instructors, read_roster

    def action():
        settings = _settings(args)
        layout = _hub_layout(args, settings)
        if args.stop:
            return [f"hub of {layout.course_id} " + ("stopped" if process.stop(layout) else "was not running")]
        if args.setup:
            if os.geteuid() != 0:
                raise RuntimeError("course hub --setup must run as root: the course environment is root-owned")
            return [f"course environment {layout.venv}: {build_environment(args.course, layout.venv)}"]
        if not args.roster:
            raise ValueError("--roster: name the class list (a CSV with a student_id column)")
        if process.running_pid(layout):
            raise RuntimeError(f"the hub of {layout.course_id} already runs; stop it first with `course hub --stop`")
        students = read_roster(args.roster)
        instructors = parse_instructors(args.instructors, students)
        hub = Hub(
            layout,
            tuple(s.student_id for s in students),
            instructors,
            memory_limit=args.memory_limit,
            idle_timeout=args.idle_timeout,
        )
        print("\n".join(process.prepare(hub, args.course, settings)), flush=True)
        process.run_until_stopped(hub, on_ready=lambda line: print(line, flush=True))
        return [f"hub stopped; exchange {layout.exchange}, course folder {layout.course_dir} and homes kept"]

    return _run("hub", action)


def add_train_convnet_parser(subcommands):
    train = subcommands.add_parser(
        "train-convnet",
        help="train the course ConvNet with PyTorch (on the GPU when there is one)",
        description="Train the course ConvNet on one of course_lib's datasets with the whole dataset on the "
        "device, and print the validation accuracy, the training seconds and the images per second. Options "
        "left out take the dataset's trainer_preset (course_lib.data.DATASETS).",
    )
    train.add_argument(
        "--dataset",
        help="a name of course_lib.data.DATASETS (default: $COURSE_DATASET, else course_lib.data.DEFAULT_DATASET)",
    )
    train.add_argument("--epochs", type=int, help="passes over the training set")
    train.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda (default auto)")
    train.add_argument(
        "--synthetic",
        action="store_true",
        help="random images shaped like the dataset's: measures throughput where nothing can be downloaded",
    )
    train.add_argument("--batch-size", type=int, help="training images per step")
    train.add_argument("--train-size", type=int, help="train on only this many images")
    train.add_argument("--val-size", type=int, help="validate on only this many images")
    train.add_argument("--widths", type=int, nargs="+", help="channels of each pooling stage, e.g. 64 256 256")
    train.add_argument("--optimizer", default="sgd", help="sgd (Nesterov) or adam (default sgd)")
    train.add_argument("--lr", type=float, help="peak learning rate of the one-cycle schedule")
    train.add_argument("--compile", action="store_true", help="torch.compile the model (worth it on a GPU)")
    train.add_argument("--seed", type=int, default=0, help="seeds initialization, data order and augmentation")
    train.add_argument("--no-progress", action="store_true", help="no progress bars, only the final line")
    train.set_defaults(run=_run_train_convnet)


def _run_train_convnet(args):
    from course_lib.torch_train import TrainConfig, train

    config = TrainConfig(
        dataset=args.dataset,
        synthetic=args.synthetic,
        epochs=args.epochs,
        batch_size=args.batch_size,
        train_size=args.train_size,
        val_size=args.val_size,
        widths=args.widths,
        optimizer=args.optimizer,
        learning_rate=args.lr,
        device=args.device,
        compile=args.compile,
        seed=args.seed,
        progress=not args.no_progress,
    )
    try:
        result = train(config)
    except (ValueError, RuntimeError) as error:
        print(f"course train-convnet: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"course train-convnet: {error}\nWithout a network, --synthetic measures throughput.", file=sys.stderr)
        return 2
    if args.no_progress:
        print(result.summary())
    return 0


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
