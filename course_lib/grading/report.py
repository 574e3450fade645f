"""Grading results: one record per student, the grade sheet, the run summary.

A student is `graded` (a score, possibly 0), `failed` (the grading itself could not
finish: no score, and `detail` says why) or `missing` (nothing gradable was
submitted). A failure is never written as a 0.
"""

import csv
import html
import os
from dataclasses import dataclass, field, replace

from course_lib.grading.files import atomic_path

CSV_COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "late", "submitted_at", "detail"]


def net_score(score, late_penalty):
    """The score that counts: nbgrader's score less its late penalty (None: no penalty), never below 0."""
    return max(0.0, score - (late_penalty or 0.0))


def hours_text(hours):
    """How grade sheets and summaries write a time late: hours with one decimal, e.g. "25.0 h"."""
    return f"{hours:.1f} h"


@dataclass
class StudentResult:
    """The outcome for one student; `autograded` and `feedback` list file paths.

    score is after the late penalty; submitted_at is the submission's time (ISO 8601 UTC,
    "" when unknown); hours_late is 0 for work on time or without a due date.
    """

    student_id: str
    assignment: str
    score: float | None = None
    max_score: float | None = None
    status: str = "failed"
    detail: str = ""
    submitted_at: str = ""
    hours_late: float = 0.0
    autograded: list = field(default_factory=list)
    feedback: list = field(default_factory=list)

    def graded(self, score, max_score, detail=""):
        return replace(self, score=float(score), max_score=float(max_score), status="graded", detail=detail)

    @property
    def late(self):
        return self.hours_late > 0

    def failed(self, detail):
        return replace(self, score=None, status="failed", detail=detail, autograded=[], feedback=[])

    def missing(self, detail):
        return replace(self, score=None, status="missing", detail=detail, autograded=[], feedback=[])


def write_csv(results, path, keep_others=False):
    """Write the grade sheet (CSV_COLUMNS, one row per student) atomically to `path`.

    keep_others: keep the rows an earlier sheet at `path` has for students not in `results`.
    """
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    rows = []
    for r in results:
        score = "" if r.score is None else f"{r.score:g}"
        max_score = "" if r.max_score is None else f"{r.max_score:g}"
        late = hours_text(r.hours_late) if r.late else ""
        rows.append([r.student_id, r.assignment, score, max_score, r.status, late, r.submitted_at, r.detail])
    if keep_others and os.path.isfile(path):
        graded = {r.student_id for r in results}
        with open(path, newline="") as sheet:
            rows += [[row[c] for c in CSV_COLUMNS] for row in csv.DictReader(sheet) if row["student_id"] not in graded]
    with atomic_path(path) as partial, open(partial, "w", newline="") as sheet:
        writer = csv.writer(sheet)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(sorted(rows, key=lambda row: row[0]))


def status_page(result):
    """A small HTML page telling a student why their work has no graded feedback."""
    title = f"{result.assignment}: not graded ({result.status})"
    return (
        f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>\n"
        f"<body><h1>{html.escape(title)}</h1>\n<p>{html.escape(result.detail)}</p>\n"
        "<p>Please contact the course staff.</p></body></html>\n"
    )


def summary(results, protections, seconds, sheet):
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
    late = [r for r in results if r.late]
    if late:
        lines.append("Late: " + ", ".join(f"{r.student_id} ({hours_text(r.hours_late)})" for r in late))
    lines.append(f"Grade sheet: {sheet}")
    return "\n".join(lines)
