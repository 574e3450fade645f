"""The feedback page a student reads: nbgrader's generate_feedback with the course's exporter.

`FeedbackExporter` is nbconvert's HTML exporter with the course's own template
(templates/course_feedback): a compact, self-contained page with the score, one line per
test (named by what it checks, with its message when it failed), then the student's
answers and each test's printed result, never a test's source. Math is rendered on the
server into MathML, which browsers display without any script or network; hidden tests
print nothing, and their source is cleared by nbgrader's ClearHiddenTests before the page
is made.

nbgrader builds a fresh exporter (and Jinja environment) for every student, and
compiling templates is then a large part of the CPU time of grading a small notebook;
the compiled templates are the same for every student, so they are kept for the life of
the worker process.
"""

import html
import os

from jinja2 import BytecodeCache
from latex2mathml.converter import convert as latex_to_mathml
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from pygments.formatters import HtmlFormatter

from course_lib.grading.validation import failure_message, is_test_cell, name_of_test

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
TEMPLATE_NAME = "course_feedback"
# nbgrader's comment on every answer nobody commented on
NO_COMMENT = "No response."


class _CompiledTemplates(BytecodeCache):
    """Jinja bytecode kept in memory, keyed by template and source checksum."""

    def __init__(self):
        self.codes = {}

    def load_bytecode(self, bucket):
        code = self.codes.get((bucket.key, bucket.checksum))
        if code is not None:
            bucket.code = code

    def dump_bytecode(self, bucket):
        self.codes[(bucket.key, bucket.checksum)] = bucket.code


_COMPILED = _CompiledTemplates()


def math_to_mathml(latex, display=False):
    """MathML for a LaTeX formula; the escaped source in <code> when it cannot be converted."""
    try:
        return latex_to_mathml(latex, display="block" if display else "inline")
    except Exception:  # latex2mathml raises many types; a formula must never break a feedback page
        return f"<code>{html.escape(latex)}</code>"


class _MathMLRenderer(IPythonRenderer):
    """nbconvert's Markdown renderer, with math turned into MathML instead of left for MathJax."""

    def heading(self, text, level, **attrs):
        # plain headings: the page is read, not linked into (no pilcrow anchors)
        return f"<h{level}>{text}</h{level}>\n"

    def block_math(self, body):
        return math_to_mathml(body, display=True)

    def multiline_math(self, text):
        return math_to_mathml(text.strip().strip("$"), display=True)

    def latex_environment(self, name, body):
        return math_to_mathml(body, display=True)

    def inline_math(self, body):
        return math_to_mathml(body)


def markdown_to_html(source):
    """HTML for a Markdown cell, its math as MathML."""
    return MarkdownWithMath(renderer=_MathMLRenderer(escape=False)).render(source)


def message_of_test(cell):
    """The one useful line of a test cell that lost points ('' when it got them all)."""
    meta = cell.metadata.nbgrader
    if meta.get("score") is not None and meta["score"] >= meta["points"]:
        return ""
    return failure_message(cell)


def grader_comment(cell):
    """A grader's comment on the cell, or '' (nbgrader's automatic 'No response.' is no comment)."""
    comment = (cell.metadata.get("nbgrader", {}).get("comment") or "").strip()
    return "" if comment == NO_COMMENT else comment


def printed_text(cell):
    """What a code cell printed (its stream outputs), as one string."""
    return "".join(output.get("text", "") for output in cell.get("outputs", []) if output.output_type == "stream")


class FeedbackExporter(HTMLExporter):
    """The course's feedback page; its Jinja environment shares one compiled-template cache.

    Its template (TEMPLATE_NAME in TEMPLATES) is set in one place, course_lib.grading.config:
    nbgrader configures HTMLExporter's template, which a default here would not override.
    """

    def default_filters(self):
        yield from super().default_filters()
        yield "markdown_mathml", markdown_to_html
        yield "test_name", name_of_test
        yield "test_message", message_of_test
        yield "is_test", is_test_cell
        yield "grader_comment", grader_comment
        yield "printed_text", printed_text

    def _init_resources(self, resources):
        resources = super()._init_resources(resources)
        resources["highlight_css"] = HtmlFormatter().get_style_defs(".highlight")
        return resources

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = _COMPILED
        return environment
