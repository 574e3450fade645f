"""Grading results: one record per student, the grade sheet, the run summary.

A student is `graded` (a score, possibly 0), `failed` (the grading itself could not
finish: no score, and `detail` says why) or `missing` (nothing gradable was
submitted). A failure is never written as a 0.
"""

import csv
import html
import os
from dataclasses import dataclass, field, replace

CSV_COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "detail"]


@dataclass
class StudentResult:
    """The outcome for one student; `autograded` and `feedback` list file paths."""

    student_id: str
    assignment: str
    score: float | None = None
    max_score: float | None = None
    status: str = "failed"
    detail: str = ""
    autograded: list = field(default_factory=list)
    feedback: list = field(default_factory=list)

    def graded(self, score, max_score, detail=""):
        return replace(self, score=float(score), max_score=float(max_score), status="graded", detail=detail)

    def failed(self, detail):
        return replace(self, score=None, status="failed", detail=detail, autograded=[], feedback=[])

    def missing(self, detail):
        return replace(self, score=None, status="missing", detail=detail, autograded=[], feedback=[])


def write_csv(results, path):
    """Write the grade sheet (CSV_COLUMNS, one row per student) atomically to `path`."""
    partial = f"{path}.partial"
    with open(partial, "w", newline="") as sheet:
        writer = csv.writer(sheet)
        writer.writerow(CSV_COLUMNS)
        for r in sorted(results, key=lambda r: r.student_id):
            score = "" if r.score is None else f"{r.score:g}"
            max_score = "" if r.max_score is None else f"{r.max_score:g}"
            writer.writerow([r.student_id, r.assignment, score, max_score, r.status, r.detail])
    os.replace(partial, path)


def status_page(result):
    """A small HTML page telling a student why their work has no graded feedback."""
    title = f"{result.assignment}: not graded ({result.status})"
    return (
        f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>\n"
        f"<body><h1>{html.escape(title)}</h1>\n<p>{html.escape(result.detail)}</p>\n"
        "<p>Please contact the course staff.</p></body></html>\n"
    )


def summary(results, protections, seconds, out_dir):
    """The text printed at the end of a run."""
    counts = {s: sum(r.status == s for r in results) for s in ("graded", "failed", "missing")}
    tally = ", ".join(f"{n} {s}" for s, n in counts.items())
    lines = [f"Graded {len(results)} submission(s) in {seconds:.1f} s: {tally}"]
    scores = [r.score / r.max_score for r in results if r.status == "graded" and r.max_score]
    if scores:
        lines.append(f"Mean score of graded work: {100 * sum(scores) / len(scores):.1f}%")
    for r in sorted(results, key=lambda r: r.student_id):
        if r.status != "graded":
            lines.append(f"  {r.student_id}: {r.status}: {r.detail}")
    lines.append("Protections for student code:")
    for name, active, explanation in protections:
        lines.append(f"  [{'on' if active else 'off'}] {name}: {explanation}")
    lines.append(f"Grade sheet: {os.path.join(out_dir, 'grades.csv')}")
    return "\n".join(lines)
