"""Near-copies in a class's answers: between students, and of the course's reference code.

`course grade` writes this report beside grades.csv; it flags, it never changes a score.
Each answer cell of each student is compared with copydetect (the winnowing fingerprints
of MOSS): the code is tokenized and every name, string and comment is normalized away, so
renaming variables or reformatting does not hide a copy, and the released stub (signature,
docstring) is removed as boilerplate, so the code everyone was given does not count.

* Two students' answers to one cell are near-copies when each has at least THRESHOLD of
  its fingerprinted code in the other.
* A student's answer is a near-copy of a reference when at least THRESHOLD of it appears in
  the source notebook's solution or in course_lib's function of the same name.

Each student's answers are also compared whole (all answer cells together, the row
"(all answers)"), so a copied notebook of short answers is flagged too. Answers shorter
than MIN_TOKENS normalized characters (after the stub is removed) are not compared on
their own: a three-line softmax is the same in many correct notebooks.
"""

import ast
import csv
import importlib
import inspect
import io
import os
from dataclasses import dataclass

import nbformat
import numpy as np
from copydetect import CodeFingerprint, compare_files

from course_lib.grading.files import atomic_path

THRESHOLD = 0.8
MIN_TOKENS = 100
WHOLE = "(all answers)"  # the cell name of the comparison of whole notebooks
NOISE = 25  # copydetect's k: the shortest match, in normalized characters
WINDOW = 1  # copydetect's winnowing window (1: every k-gram is a fingerprint)
# the course_lib modules whose functions are the references of the assignments
REFERENCE_MODULES = ("losses", "layers", "normalization", "conv", "optim", "gradcheck")
CSV_COLUMNS = ["kind", "student", "other", "cell", "similarity"]
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


@dataclass(frozen=True)
class Match:
    """One flagged pair: kind is "students" (other is a student id) or "reference" (other names the reference)."""

    kind: str
    student: str
    other: str
    cell: str
    similarity: float


def _answer_cells(path):
    """{grade id: source} of the answer cells of the notebook at `path`."""
    notebook = nbformat.read(path, as_version=4)
    return {
        cell.metadata.nbgrader.grade_id: cell.source
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code"
    }


def _fingerprint(code, boilerplate=()):
    return CodeFingerprint(
        "answer.py", NOISE, WINDOW, boilerplate=np.array(list(boilerplate), dtype=np.int64), fp=io.StringIO(code)
    )


def _function_names(code):
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]


def _with_helpers(function, module):
    """The source of `function` followed by the module's own functions it calls, transitively."""
    sources, pending, seen = [], [function], set()
    while pending:
        current = pending.pop(0)
        if current.__name__ in seen:
            continue
        seen.add(current.__name__)
        sources.append(inspect.getsource(current))
        for name in current.__code__.co_names:
            helper = getattr(module, name, None)
            if inspect.isfunction(helper) and helper.__module__ == module.__name__:
                pending.append(helper)
    return "\n\n".join(sources)


def _course_lib_functions():
    """{name: (label, source with its helpers)} of the public functions of course_lib's reference modules."""
    found = {}
    for module_name in REFERENCE_MODULES:
        module = importlib.import_module(f"course_lib.{module_name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__ and not name.startswith("_"):
                found[name] = (f"course_lib.{module_name}.{name}", _with_helpers(function, module))
    return found


def references(source_notebook, library):
    """{answer grade id: [(label, code), ...]}: the solution of each cell and course_lib's functions of its names.

    library: `_course_lib_functions()`, read once per run.
    """
    result = {}
    for grade_id, source in _answer_cells(source_notebook).items():
        solution = "\n".join(line for line in source.split("\n") if line.strip() not in MARKERS)
        found = [("the solution in solutions/", solution)]
        found += [library[name] for name in _function_names(solution) if name in library]
        result[grade_id] = found
    return result


def compare(submissions, source_notebook, release_notebook, threshold=THRESHOLD, min_tokens=MIN_TOKENS, library=None):
    """The near-copies among `submissions` ({student id: notebook path}), most similar first.

    The reference texts (the source notebook, course_lib's functions: `library`, default read
    here) are read and fingerprinted once, then compared with every student's answers.
    """
    library = _course_lib_functions() if library is None else library
    stubs = {gid: _fingerprint(code).hashes for gid, code in _answer_cells(release_notebook).items()}
    texts = references(source_notebook, library)
    refs = {
        gid: [(label, _fingerprint(code, stubs.get(gid, ()))) for label, code in found] for gid, found in texts.items()
    }
    all_stubs = set().union(*stubs.values())
    solution = "\n\n".join(found[0][1] for found in texts.values())
    refs[WHOLE] = [("the solution in solutions/", _fingerprint(solution, all_stubs))]
    prints = {}  # {grade id: {student: fingerprint}} of the answers long enough to compare
    for student, path in sorted(submissions.items()):
        answers = {gid: code for gid, code in _answer_cells(path).items() if gid in stubs}
        candidates = [(gid, _fingerprint(code, stubs[gid])) for gid, code in answers.items()]
        candidates.append((WHOLE, _fingerprint("\n\n".join(answers.values()), all_stubs)))
        for gid, fingerprint in candidates:
            if fingerprint.token_coverage >= min_tokens:
                prints.setdefault(gid, {})[student] = fingerprint
    matches = []
    for gid, answers in prints.items():
        students = sorted(answers)
        for i, student in enumerate(students):
            for other in students[i + 1 :]:
                _, (mine, theirs), _ = compare_files(answers[student], answers[other])
                if min(mine, theirs) >= threshold:
                    matches.append(Match("students", student, other, gid, float(min(mine, theirs))))
            for label, reference in refs.get(gid, []):
                _, (mine, _theirs), _ = compare_files(answers[student], reference)
                if mine >= threshold:
                    matches.append(Match("reference", student, label, gid, float(mine)))
    return sorted(matches, key=lambda m: (-m.similarity, m.kind, m.student, m.other, m.cell))


def write_report(matches, path):
    """Write the matches (CSV_COLUMNS) atomically to `path`."""
    with atomic_path(path) as partial, open(partial, "w", newline="") as sheet:
        writer = csv.writer(sheet)
        writer.writerow(CSV_COLUMNS)
        for m in matches:
            writer.writerow([m.kind, m.student, m.other, m.cell, f"{m.similarity:.2f}"])


def summary_line(matches, path):
    """One line for the run summary."""
    pairs = {(m.student, m.other) for m in matches if m.kind == "students"}
    copied = {m.student for m in matches if m.kind == "reference"}
    return (
        f"Similarity report: {path} ({len(pairs)} pair(s) of students with near-copied answers, "
        f"{len(copied)} student(s) with answers near-copied from the reference code; it changes no score)"
    )


def report_for_run(submissions, assignment, notebook_names, source_dir, release_dir, out_dir):
    """Compare every student's notebooks of a grading run; write <out_dir>/similarity.csv; return the summary line.

    submissions: {student id: folder holding the student's notebooks}.
    A report that cannot be made is said in the line, and never stops the grading.
    """
    path = os.path.join(out_dir, "similarity.csv")
    try:
        library = _course_lib_functions()
        matches = []
        for name in notebook_names:
            notebooks = {
                student: os.path.join(folder, f"{name}.ipynb")
                for student, folder in submissions.items()
                if os.path.isfile(os.path.join(folder, f"{name}.ipynb"))
            }
            found = compare(
                notebooks,
                os.path.join(source_dir, assignment, f"{name}.ipynb"),
                os.path.join(release_dir, assignment, f"{name}.ipynb"),
                library=library,
            )
            if len(notebook_names) > 1:
                found = [Match(m.kind, m.student, m.other, f"{name}/{m.cell}", m.similarity) for m in found]
            matches.extend(found)
        write_report(sorted(matches, key=lambda m: -m.similarity), path)
    except Exception as error:  # a broken notebook or a copydetect failure must not stop the grading
        return f"Similarity report: not written ({type(error).__name__}: {error})"
    return summary_line(matches, path)
