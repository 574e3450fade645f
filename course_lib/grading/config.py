"""The course's nbgrader configuration, in one place.

`course_config` is what the repository's nbgrader_config.py loads, so that the
plain `nbgrader` commands and `course grade` follow the same rules;
`sandboxed` adds what only the pipeline has: every kernel inside the sandbox.
"""

import copy
import os

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    ClearOutput,
    Execute,
    GetGrades,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)
from traitlets.config import Config

from course_lib.grading import CELL_TIMEOUT, MAX_OUTPUT_CHARS, RELEASE_DIRECTORY, SOURCE_DIRECTORY
from course_lib.grading.feedback import TEMPLATE_NAME, TEMPLATES, FeedbackExporter
from course_lib.grading.preprocessors import (
    DropDuplicateIds,
    RestoreDeletedAnswers,
    SandboxedExecute,
    StderrIsNotFailure,
    TruncateOutputs,
)


def course_config(cell_timeout=CELL_TIMEOUT, max_output_chars=MAX_OUTPUT_CHARS):
    """nbgrader settings of the course.

    cell_timeout: seconds one cell may run before it is interrupted (and scores 0).
    max_output_chars: characters kept from the outputs of one cell.
    Returns a traitlets Config.
    """
    c = Config()
    c.CourseDirectory.source_directory = SOURCE_DIRECTORY
    c.CourseDirectory.release_directory = RELEASE_DIRECTORY
    # a deleted test cell is put back and graded instead of silently scoring nothing
    c.OverwriteCells.add_missing_cells = True
    c.Execute.timeout = cell_timeout
    # tracebacks without source lines: a failing hidden test does not print its code
    c.Execute.extra_arguments = ["--InteractiveShell.xmode=Minimal"]
    c.TruncateOutputs.max_chars = max_output_chars
    c.Autograde.sanitize_preprocessors = [
        ClearOutput,
        DropDuplicateIds,
        RestoreDeletedAnswers,
        OverwriteKernelspec,
        OverwriteCells,
        CheckCellMetadata,
    ]
    c.Autograde.autograde_preprocessors = [
        Execute,
        TruncateOutputs,
        StderrIsNotFailure,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests]
    c.GenerateFeedback.exporter_class = FeedbackExporter
    # the course's page (one line per test, the student's code, math as MathML), not nbgrader's
    c.FeedbackExporter.template_name = TEMPLATE_NAME
    c.FeedbackExporter.extra_template_basedirs = [TEMPLATES]
    return c


def api_config(root, source_dir, **settings):
    """course_config (with `settings`) for nbgrader's API on the course folder `root`.

    root: the nbgrader course folder, holding gradebook.db; source_dir: the folder of
    source notebooks (absolute, or relative to the current folder).
    """
    c = course_config(**settings)
    c.CourseDirectory.root = root
    c.CourseDirectory.source_directory = os.path.abspath(source_dir)
    c.CourseDirectory.db_url = f"sqlite:///{root}/gradebook.db"
    c.NbGraderAPI.log_level = "WARN"
    return c


def sandboxed(config, sandbox, workspace):
    """`config` with every kernel started inside `sandbox`, using folder `workspace`."""
    c = copy.deepcopy(config)
    c.Autograde.autograde_preprocessors = [
        SandboxedExecute if p is Execute else p for p in config.Autograde.autograde_preprocessors
    ]
    c.SandboxKernelManager.sandbox = sandbox
    c.SandboxKernelManager.workspace = str(workspace)
    return c
