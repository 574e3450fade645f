"""Benchmark: graded notebooks per minute, all sandbox protections on.

Grades synthetic students (correct, stub, wrong and repaired submissions of the toy
assignment in tests/fixtures/grading_course.py) with `course grade`'s pipeline and
prints the rate. The issue's target: 60 notebooks per minute with --jobs 2 on 2 cores.

    .venv/bin/python bench/bench_grading.py --students 20 --jobs 2 --cores 2
"""

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fixtures import grading_course as course

from course_lib.grading.pipeline import grade
from course_lib.grading.release import generate
from course_lib.grading.settings import Settings

KINDS = ["correct", "stub", "edited_tests", "deleted_test", "warns"]


def _cpu_seconds():
    """CPU seconds of this process and of its finished children (workers, kernels)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cores", type=int, default=2, help="CPUs the run may use (0: all)")
    args = parser.parse_args(argv)
    if args.cores:
        os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[: args.cores]))

    with tempfile.TemporaryDirectory(prefix="bench-grading-") as root:
        root = Path(root)
        course.write_source(root / "solutions")
        settings = Settings(course_root=str(root))
        release_root, _ = generate([course.ASSIGNMENT], settings, str(root / "release"))
        released = nbformat.read(Path(release_root) / course.ASSIGNMENT / f"{course.NOTEBOOK}.ipynb", as_version=4)
        for i in range(args.students):
            folder = root / "submissions" / f"student{i:03d}" / course.ASSIGNMENT
            folder.mkdir(parents=True)
            nbformat.write(course.submission(KINDS[i % len(KINDS)], released), folder / f"{course.NOTEBOOK}.ipynb")

        start, cpu_start = time.perf_counter(), _cpu_seconds()
        results, summary = grade(
            course.ASSIGNMENT, settings, root / "submissions", out_dir=root / "out", jobs=args.jobs
        )
        seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu_start

    graded = sum(r.status == "graded" for r in results)
    if not graded:
        raise SystemExit(f"{summary}\n\nnothing was graded: no rate to report")
    cores = len(os.sched_getaffinity(0))
    print(summary)
    print(
        f"\n{graded}/{len(results)} notebooks graded in {seconds:.1f} s with --jobs {args.jobs} on {cores} core(s): "
        f"{60 * graded / seconds:.1f} graded notebooks per minute (target: 60 on 2 cores)\n"
        f"CPU time of the run (grader, workers, kernels): {cpu:.1f} s, {cpu / graded:.2f} s per notebook; "
        f"the cores were busy {100 * cpu / (cores * seconds):.0f}% of the time with this run "
        "(below 100%: other load or idle waits)"
    )


if __name__ == "__main__":
    main()
