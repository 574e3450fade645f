"""The course's nbgrader configuration, in one place, built from the one Settings object.

`course_config(settings)` is what the repository's nbgrader_config.py loads, so that the
plain `nbgrader` commands, the Formgrader and the `course` commands follow the same rules:
the course id and exchange root, the course folder, the repairs of bad submissions, the
late policy, feedback without hidden tests, and every student kernel inside the sandbox
(plain `nbgrader autograde` included). `api_config` points it at another course folder
(the pipeline's per-student folders); `sandboxed` gives it a sandbox detected once.
"""

import copy
import os
import sys

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    ClearOutput,
    GetGrades,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)
from traitlets.config import Config

from course_lib.grading.feedback import TEMPLATE_NAME, TEMPLATES, FeedbackExporter
from course_lib.grading.late import PerDayLatePenalty
from course_lib.grading.preprocessors import (
    DropDuplicateIds,
    FlagReferenceImports,
    RestoreDeletedAnswers,
    SandboxedExecute,
    StderrIsNotFailure,
    TruncateOutputs,
)


def put_python_on_path():
    """Put this Python's bin/ first on PATH: nbgrader shells out to `alembic` when it creates a gradebook.

    Without it the Formgrader hangs ("FileNotFoundError: 'alembic'") and generate_assignment
    fails after it has emptied the release folder.
    """
    bin_dir = os.path.dirname(sys.executable)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if bin_dir not in parts:
        os.environ["PATH"] = os.pathsep.join([bin_dir, *parts])


def course_config(settings):
    """nbgrader settings of the course described by `settings` (a Settings); returns a traitlets Config."""
    c = Config()
    c.CourseDirectory.course_id = settings.course_id
    c.CourseDirectory.root = settings.class_root
    c.CourseDirectory.source_directory = settings.source_dir
    c.CourseDirectory.release_directory = settings.release_dir
    c.CourseDirectory.db_url = f"sqlite:///{settings.gradebook_path}"
    c.Exchange.root = settings.exchange
    # a deleted test cell is put back and graded instead of silently scoring nothing
    c.OverwriteCells.add_missing_cells = True
    c.Execute.timeout = settings.cell_timeout
    # tracebacks without source lines: a failing hidden test does not print its code
    c.Execute.extra_arguments = ["--InteractiveShell.xmode=Minimal"]
    c.TruncateOutputs.max_chars = settings.max_output_chars
    c.SandboxKernelManager.settings = settings
    c.AssignLatePenalties.plugin_class = PerDayLatePenalty
    c.PerDayLatePenalty.penalty_per_day = float(settings.late_penalty_per_day)
    c.Autograde.sanitize_preprocessors = [
        ClearOutput,
        DropDuplicateIds,
        RestoreDeletedAnswers,
        OverwriteKernelspec,
        OverwriteCells,
        CheckCellMetadata,
    ]
    c.Autograde.autograde_preprocessors = [
        SandboxedExecute,
        TruncateOutputs,
        StderrIsNotFailure,
        FlagReferenceImports,
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


def api_config(settings, root=None):
    """course_config for nbgrader's API, on the course folder `root` (default: the class folder).

    `root` holds its own gradebook.db.
    """
    c = course_config(settings)
    if root is not None:
        c.CourseDirectory.root = str(root)
        c.CourseDirectory.db_url = f"sqlite:///{root}/gradebook.db"
    c.NbGraderAPI.log_level = "WARN"
    return c


def sandboxed(config, sandbox, workspace):
    """`config` with every kernel started inside `sandbox`, using folder `workspace`."""
    c = copy.deepcopy(config)
    c.SandboxKernelManager.sandbox = sandbox
    c.SandboxKernelManager.workspace = str(workspace)
    return c
