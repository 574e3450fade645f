"""nbgrader preprocessors for what nbgrader 0.9.6 gets wrong on bad submissions.

* `DropDuplicateIds`: nbgrader's DeduplicateIds empties the metadata of a duplicated
  cell, which OverwriteCells (with add_missing_cells) then fails on with a KeyError:
  the student is not graded. This one removes the metadata instead.
* `RestoreDeletedAnswers`: nbgrader cannot restore a deleted test cell whose answer
  cell was deleted too, and fails that student; this puts the answer back unanswered.
* `TruncateOutputs`: nbgrader's LimitOutput counts lines, so one 20 MB line survives
  into the graded notebook and the feedback; this one limits characters.
* `StderrIsNotFailure`: nbgrader scores a test cell 0 when anything reaches stderr,
  so a correct answer that triggers a warning (or a progress bar) loses its points.
  Here a test fails only by raising; its stderr stays visible, as normal output.
* `FlagReferenceImports`: the test cells' own-code check runs in the student's kernel,
  where the student's code can hide a borrowed function from it; this reads the student's
  cells instead (course_lib.grading.integrity) and fails the tests of every asked function
  the student took from course_lib, naming the line that did.
* `SandboxedExecute`: nbgrader's Execute with kernels started by
  `course_lib.grading.sandbox.SandboxKernelManager`.
"""

from nbformat.v4 import new_code_cell, new_markdown_cell, new_output
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import DeduplicateIds, Execute, NbGraderPreprocessor
from traitlets import Integer

from course_lib.grading.integrity import borrowings, defined_functions, tested_functions
from course_lib.grading.sandbox import SandboxKernelManager
from course_lib.grading.settings import Settings

TRUNCATION_NOTICE = "\n... [output truncated: {} more characters] ...\n"
REMOVED_NOTICE = "... [output truncated: {} more outputs removed] ...\n"


class DropDuplicateIds(DeduplicateIds):
    """Keep the last cell of each grade id; the earlier copies become ordinary cells."""

    def preprocess_cell(self, cell, resources, cell_index):
        if not (utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell)):
            return cell, resources
        grade_id = cell.metadata.nbgrader["grade_id"]
        if grade_id in self.grade_ids:
            self.log.warning("Cell with id '%s' exists multiple times; grading the last one", grade_id)
            del cell.metadata["nbgrader"]
        else:
            self.grade_ids.add(grade_id)
        return cell, resources


class RestoreDeletedAnswers(NbGraderPreprocessor):
    """Put deleted answer cells back, unanswered, where the source notebook has them.

    nbgrader restores a deleted test cell after the cell that precedes it in the
    source; when that is a deleted answer cell it fails with a KeyError and the
    student is not graded. Restored as its released stub, the answer scores 0 and
    everything else is graded.
    """

    def preprocess(self, nb, resources):
        ids = resources["nbgrader"]
        with Gradebook(ids["db_url"]) as gb:
            source = gb.find_notebook(ids["notebook"], ids["assignment"])
            answers = {c.name for c in source.solution_cells} - {c.name for c in source.grade_cells}
            position = 0
            for cell in source.source_cells:  # in the source notebook's order
                present = [i for i, c in enumerate(nb.cells) if _grade_id(c) == cell.name]
                if present:
                    position = present[-1] + 1
                elif cell.name in answers:
                    self.log.warning("Answer cell '%s' was deleted; grading it unanswered", cell.name)
                    nb.cells.insert(position, _unanswered(cell))
                    position += 1
        return nb, resources


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _unanswered(source_cell):
    """A released answer cell (its stub) rebuilt from the gradebook's copy."""
    make = new_code_cell if source_cell.cell_type == "code" else new_markdown_cell
    cell = make(source_cell.source)
    cell.metadata["nbgrader"] = {
        "grade_id": source_cell.name,
        "solution": True,
        "grade": False,
        "locked": False,
        "checksum": source_cell.checksum,
        "cell_type": source_cell.cell_type,
        "schema_version": 3,
    }
    return cell


def _cut(text, limit):
    """`text` shortened to `limit` characters plus a notice, and the characters removed."""
    if len(text) <= limit:
        return text, 0
    return text[:limit] + TRUNCATION_NOTICE.format(len(text) - limit), len(text) - limit


class TruncateOutputs(NbGraderPreprocessor):
    """Limit the characters of each code cell's outputs without changing its grade.

    nbgrader grades a test cell from its first error, stderr stream or execute_result
    (a cell has at most one error and one execute_result): those are shortened, never
    dropped. Once the cell's budget is spent, further stream and display outputs
    (a print in a loop) are removed, and one notice says how many.
    """

    max_chars = Integer(Settings.max_output_chars, help="Characters kept from all outputs of one cell.").tag(
        config=True
    )
    min_chars = Integer(500, help="Characters always kept from an error or a result.").tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code":
            return cell, resources
        budget, kept, removed = self.max_chars, [], 0
        for output in cell.outputs:
            if budget <= 0 and output.output_type in ("stream", "display_data"):
                removed += 1
                continue
            budget -= self._truncate(output, max(budget, self.min_chars))
            kept.append(output)
        if removed:
            kept.append(new_output("stream", name="stdout", text=REMOVED_NOTICE.format(removed)))
        cell.outputs = kept
        return cell, resources

    def _truncate(self, output, limit):
        """Shorten one output to about `limit` characters; returns the characters kept."""
        kept = 0
        if output.output_type == "stream":
            output.text, _ = _cut(output.text, limit)
            kept = len(output.text)
        elif output.output_type == "error":
            output.evalue, _ = _cut(output.evalue, limit)
            lines = []
            for line in output.traceback:
                line, _ = _cut(line, max(limit - kept, self.min_chars))
                lines.append(line)
                kept += len(line)
            output.traceback = lines
        else:
            for mime, value in list(output.get("data", {}).items()):
                if not isinstance(value, str) or len(value) <= limit:
                    kept += len(str(value))
                elif mime.startswith("text/"):
                    output.data[mime], _ = _cut(value, limit)
                    kept += len(output.data[mime])
                else:
                    # an image or other binary payload cannot be cut in half
                    del output.data[mime]
                    output.data["text/plain"] = f"[{mime} output of {len(value)} characters removed]"
        return kept


class StderrIsNotFailure(NbGraderPreprocessor):
    """In test cells, show stderr text as ordinary output so that it does not zero the cell."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell):
            for output in cell.outputs:
                if output.output_type == "stream" and output.name == "stderr":
                    output.name = "stdout"
        return cell, resources


class FlagReferenceImports(NbGraderPreprocessor):
    """Fail each test of a function the student's cells take from course_lib, with a message naming the import.

    The asked functions are those the released answer stubs (in the gradebook) define; the
    student's cells are every code cell nbgrader does not restore (answers and added cells).
    """

    def preprocess(self, nb, resources):
        ids = resources["nbgrader"]
        with Gradebook(ids["db_url"]) as gb:
            source = gb.find_notebook(ids["notebook"], ids["assignment"])
            answers = {c.name for c in source.solution_cells}
            asked = {name for c in source.source_cells if c.name in answers for name in defined_functions(c.source)}
            given = [c.source for c in source.source_cells if c.locked and c.name not in answers]
        student = [
            (_grade_id(cell) or f"cell {index + 1}", cell.source)
            for index, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and _student_cell(cell)
        ]
        by_function = {}
        for found in borrowings(student, asked, given):
            by_function.setdefault(found.function, found)
        for cell in nb.cells:
            if cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell):
                flagged = sorted(tested_functions(cell.source, asked) & set(by_function))
                if flagged:
                    message = "; ".join(by_function[name].message() for name in flagged)
                    self.log.warning("Test cell '%s' failed by the own-code check: %s", _grade_id(cell), message)
                    error = new_output("error", ename="OwnCodeError", evalue=message, traceback=[message])
                    cell.outputs = [error, *cell.outputs]
        return nb, resources


def _student_cell(cell):
    """Whether the student wrote or could change `cell` (nbgrader restores only locked non-answer cells)."""
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("solution")) or not meta.get("locked")


class SandboxedExecute(Execute):
    """nbgrader's Execute, with every kernel inside the course sandbox."""

    def __init__(self, **kwargs):
        # Execute sets its kernel_manager_class as a keyword, which beats configuration
        kwargs.setdefault("kernel_manager_class", SandboxKernelManager)
        super().__init__(**kwargs)
