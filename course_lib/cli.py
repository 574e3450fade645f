"""The `course` command: one entry point for students, instructors and maintainers.

Each subcommand imports its heavy modules (nbgrader, torch) only when it runs, so
`course --help` stays instant.
"""

import argparse
import sys

from course_lib import __version__, grading


def build_parser():
    parser = argparse.ArgumentParser(prog="course", description="Training Neural Networks course tools.")
    parser.add_argument("--version", action="version", version=f"course_lib {__version__}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")
    # Subcommands register here, each as `add_<name>_parser(subcommands)` below.
    add_grade_parser(subcommands)
    add_release_parser(subcommands)
    add_submit_parser(subcommands)
    add_train_convnet_parser(subcommands)
    return parser


def add_grade_parser(subcommands):
    grade = subcommands.add_parser(
        "grade",
        help="autograde every student's submission of an assignment",
        description="Autograde <submissions>/<student_id>/<assignment>/*.ipynb (or <student_id>/*.ipynb) "
        "with nbgrader, each student kernel sandboxed; writes <out>/grades.csv and one feedback page per "
        "student. Exits 0 when the run completed, even if some students failed.",
    )
    grade.add_argument("assignment", help="assignment id: a folder of the source directory")
    grade.add_argument("--submissions", required=True, help="folder with one subfolder per student")
    grade.add_argument("--out", help="output folder (default: grading_out/<assignment>)")
    grade.add_argument("--jobs", type=int, default=1, help="students graded in parallel (default 1)")
    grade.add_argument(
        "--source",
        default=grading.SOURCE_DIRECTORY,
        help=f"source notebooks folder (default {grading.SOURCE_DIRECTORY})",
    )
    grade.add_argument(
        "--cell-timeout",
        type=int,
        default=grading.CELL_TIMEOUT,
        help=f"seconds per cell (default {grading.CELL_TIMEOUT})",
    )
    grade.add_argument(
        "--timeout",
        type=int,
        default=grading.NOTEBOOK_TIMEOUT,
        help=f"seconds per notebook (default {grading.NOTEBOOK_TIMEOUT})",
    )
    grade.add_argument(
        "--memory-gib",
        type=float,
        default=grading.MEMORY_GIB,
        help=f"memory cap per student kernel in GiB (default {grading.MEMORY_GIB:g})",
    )
    grade.set_defaults(run=_run_grade)


def _run_grade(args):
    from course_lib.grading.pipeline import grade
    from course_lib.grading.sandbox import GIB

    try:
        _, summary = grade(
            args.assignment,
            args.submissions,
            out_dir=args.out,
            jobs=args.jobs,
            source_dir=args.source,
            cell_timeout=args.cell_timeout,
            notebook_timeout=args.timeout,
            memory_bytes=int(args.memory_gib * GIB),
        )
    except (ValueError, OSError, RuntimeError) as error:
        print(f"course grade: {error}", file=sys.stderr)
        return 2
    print(summary)
    return 0


def add_release_parser(subcommands):
    release = subcommands.add_parser(
        "release",
        help="regenerate assignments/ from solutions/",
        description="Regenerate the student notebooks in assignments/ from the nbgrader source notebooks "
        "in solutions/ (solutions and hidden tests removed).",
    )
    release.add_argument("--course", default=".", help="course folder holding solutions/ (default .)")
    release.set_defaults(run=_run_release)


def _run_release(args):
    from course_lib.grading.release import release

    try:
        released = release(args.course)
    except RuntimeError as error:
        print(f"course release: {error}", file=sys.stderr)
        return 2
    print(f"released {len(released)} assignment(s): {', '.join(released) or 'none'}")
    return 0


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

    try:
        submit(args.assignment, student_id=args.student, out=args.out)
    except (ValueError, OSError) as error:
        print(f"course submit: {error}", file=sys.stderr)
        return 2
    return 0


def add_train_convnet_parser(subcommands):
    train = subcommands.add_parser(
        "train-convnet",
        help="train the course ConvNet with PyTorch (on the GPU when there is one)",
        description="Train the course ConvNet on digits or CIFAR-10 with the whole dataset on the device, "
        "and print the validation accuracy, the training seconds and the images per second. Options left "
        "out take the dataset's preset (course_lib.torch_train.PRESETS).",
    )
    train.add_argument("--dataset", help="digits or cifar10 (default digits, or cifar10 with --synthetic)")
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
        dataset=args.dataset or ("cifar10" if args.synthetic else "digits"),
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
